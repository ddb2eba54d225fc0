"""Every solution notebook runs under a plain executor: nbclient (what nbconvert --execute,
papermill and jupyter-book use) with quick mode on and none of the project's other variables,
so that nothing detects a tool and the widgets are made live, with nbclient as their front end.

Every cell must finish well inside the per-cell timeout: a widget whose messages keep the
executor waiting (05's kernel editor waited out any timeout it was given, 600 s at 600 s) ends
exactly at the timeout without an error, so the time is what shows it."""

import inspect
import os
import time

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT
from nbclient import NotebookClient

from dlcourse import widgets

# The slowest quick-mode cell (09's GAN training) takes about 35 s alone here, and up to twice that
# beside the rest of the suite (-n 2): a cell stopped by the timeout is still far from any real one.
EXECUTOR_TIMEOUT_S = 300
WELL_INSIDE_S = 240
# What makes the course detect a tool (runtime.headless) or pick a budget: only quick mode stays.
PROJECT_VARIABLES = ("PYTEST_VERSION", "PYTEST_CURRENT_TEST", "CI", "NBGRADER_EXECUTION", "DLCOURSE_HEADLESS",
                     "DLCOURSE_QUICK")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_under_plain_nbclient(assignment):
    path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES} | {"DLCOURSE_QUICK": "1"}
    client = NotebookClient(notebook, timeout=EXECUTOR_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    seconds = {}
    with client.setup_kernel(env=env):
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            started = time.monotonic()
            client.execute_cell(cell, index)  # raises on an error in the cell
            seconds[index] = time.monotonic() - started
    slow = {index: round(s, 1) for index, s in seconds.items() if s > WELL_INSIDE_S}
    assert not slow, (f"{assignment}: cells {slow} (index: seconds) ran close to the {EXECUTOR_TIMEOUT_S} s timeout: "
                      "a widget or a loop keeps a plain executor waiting")
    widgets_shown = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
                     if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    static = [c for c in notebook.cells if c.cell_type == "code"
              and any("a static figure here" in o.get("text", "") for o in c.get("outputs", []))]
    assert not static, f"{assignment}: a widget cell drew its static figure: the run was taken for a tool's"
    code = "".join(c.source for c in notebook.cells if c.cell_type == "code")
    if any(f"widgets.{name}(" in code for name in DEMOS):
        assert widgets_shown, f"{assignment}: its widget cells showed no live widget"


# The demos that put a figure behind controls (they call widgets._interact).
DEMOS = [name for name, obj in vars(widgets).items()
         if inspect.isfunction(obj) and obj.__module__ == widgets.__name__ and "_interact(" in inspect.getsource(obj)
         and name != "_interact"]
