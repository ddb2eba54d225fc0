"""``python -m dlcourse doctor NOTEBOOK``: what a student checks before handing a notebook in.

Grading restarts the kernel, runs every cell from top to bottom in quick mode on the CPU under
time limits, with the test cells as the instructor released them (an edited test cell is
replaced, a deleted one put back). The doctor does the same to a copy of the notebook (the
student's file is never written) and reports what would go wrong:

* cells saved out of order (the notebook may only work in the order it was run);
* setup and test cells edited, deleted or stripped of their nbgrader metadata, compared with
  what the release held (``assignments.json``, written by ``python -m autograde release``; it
  travels with the package, so the check works on Colab);
* answers not written yet (the release's ``raise NotImplementedError()`` stub, ``YOUR ANSWER HERE``);
* shortcuts: calls an exercise forbids, or dynamic code, in its answer (dlcourse.shortcuts, read
  from the notebook's source as the grading station reads it);
* every cell that fails in a fresh kernel, and a cell or notebook past grading's time limit; the
  kernel imports the library with this assignment's graded references sealed, as grading's does
  (dlcourse.sealing), so an answer that hands its work to the library fails here as there;

then estimates the score from the visible checks that pass; the points of hidden checks are
decided only at grading. Exit status: 0 nothing wrong, 1
problems found, 2 the notebook could not be read (or the command was wrong).

This module imports only the standard library and ``dlcourse.runtime`` at the top, so that a
wrong path is answered at once; nbformat, nbclient and nbgrader are imported when needed.
"""

import argparse
import copy
import json
import logging
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlcourse import sealing
from dlcourse.grading import (
    CELL_TIMEOUT_S,
    GRADING_ENV,
    NOTEBOOK_TIMEOUT_S,
    TEST,
    TimeLimits,
    cell_kind,
    failure_message,
    grading_plan,
    nbgrader_metadata,
    notebook_for,
    release_metadata,
    released_source,
    source_sha256,
)
from dlcourse.shortcuts import failed_tests, find_shortcuts, released_cells

# What `python -m dlcourse doctor --help` says.
DESCRIPTION = """\
Check a notebook before you hand it in. Grading restarts the kernel, runs every cell once from
top to bottom in quick mode on the CPU under time limits, with the test cells as the instructor
released them. The doctor runs a copy of your notebook the same way (your file is not changed)
and reports cells that fail, cells saved out of order, edited or deleted test cells, answers not
written yet, calls an exercise does not allow, and a score estimated from the visible checks.

It runs the notebook's code on this machine without a sandbox: instructors grade other people's
notebooks with `python -m autograde grade`, not with the doctor.

Exit status: 0 nothing wrong, 1 problems found, 2 the notebook could not be read or checked."""
MANIFEST = "assignments.json"
# How a cell reads in the report (the grading model's kinds).
KIND_LABEL = {"answer": "answer", "test": "test", "setup": "setup", "written": "written answer",
              "code": "code", "text": "text"}
# the release's stub (autograde/nbgrader_config.py ClearSolutions.code_stub), not a student's own raise
UNANSWERED_CODE = re.compile(r"#\s*YOUR CODE HERE\s*\n\s*raise\s+NotImplementedError\(\)")
UNANSWERED_TEXT = "YOUR ANSWER HERE"


class NotebookError(Exception):
    """The notebook cannot be checked (missing, not a notebook, damaged): exit status 2."""


# ---------------------------------------------------------------- cells

def _nbgrader_checksum():
    """nbgrader's compute_checksum, or None where nbgrader is not installed (Colab installs
    only this package): the checks then compare sources with the manifest."""
    try:
        from nbgrader.utils import compute_checksum
    except Exception:  # not installed, or broken: the source comparison still works
        return None
    return compute_checksum


def load_manifest() -> dict | None:
    """The released notebooks' nbgrader cells, shipped as package data; None if missing."""
    from importlib import resources

    try:
        return json.loads(resources.files("dlcourse").joinpath(MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# ---------------------------------------------------------------- the report

@dataclass
class Finding:
    """One thing found, tied to a cell where there is one."""

    cell: int | None  # 1-based position in the notebook, as a person counts the cells
    grade_id: str | None
    kind: str  # the grading model's cell kind (dlcourse.grading)
    message: str
    error: str | None = None  # the exception's name, for a failing cell

    def where(self) -> str:
        label = KIND_LABEL.get(self.kind, self.kind)
        if self.cell is None:
            return f"{self.grade_id} ({label})"
        return f"cell {self.cell} ({self.grade_id + ', ' if self.grade_id else ''}{label})"


@dataclass
class TestResult:
    grade_id: str
    cell: int | None
    points: float
    status: str  # passed, failed, not run
    hidden: bool = False  # its points are decided by hidden checks at grading


@dataclass
class Report:
    notebook: str
    assignment: str | None = None  # the released notebook it was compared with (file stem)
    identified_by: str | None = None  # "file name" or "cells"
    cell_limit_s: int = CELL_TIMEOUT_S
    notebook_limit_s: int = NOTEBOOK_TIMEOUT_S
    out_of_order: list[Finding] = field(default_factory=list)
    edited: list[Finding] = field(default_factory=list)
    deleted: list[Finding] = field(default_factory=list)
    unanswered: list[Finding] = field(default_factory=list)
    shortcuts: list[Finding] = field(default_factory=list)  # they cost their exercise's points
    failed: list[Finding] = field(default_factory=list)
    # cells that stopped with check.needs's line (ExerciseUnfinished): they wait for an answer
    # still unwritten, which `unanswered` already counts, and no points depend on them
    waiting: list[Finding] = field(default_factory=list)
    # test cells that fail only because an answer is still the release's stub (the answer they
    # call raises a bare NotImplementedError): counted once, with the answer in `unanswered`;
    # they earn no points until it is written
    waiting_tests: list[Finding] = field(default_factory=list)
    stopped: Finding | None = None  # a time limit passed, or the kernel died: later cells did not run
    not_run: int = 0  # code cells left after the stop
    run_seconds: float = 0.0
    tests: list[TestResult] = field(default_factory=list)
    estimated_points: float = 0.0  # visible checks that pass
    autograded_points: float = 0.0  # of the visible checks
    hidden_points: float = 0.0  # decided by hidden checks at grading
    manifest_missing: bool = False
    by_hand: list[Finding] = field(default_factory=list)  # manually graded cells; message holds the points
    by_hand_points: float = 0.0
    notes: list[str] = field(default_factory=list)
    fresh_copy: str = ""  # how to get the released notebook, to copy a cell back from

    @property
    def problems(self) -> int:
        # the order counts once, however many places break it: it is advice, grading ignores it
        return (bool(self.out_of_order) + len(self.edited) + len(self.deleted) + len(self.unanswered)
                + len(self.shortcuts) + len(self.failed) + (self.stopped is not None))

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def verdict(self) -> str:
        score = (f" (visible checks: {_points(self.estimated_points)}/{_points(self.autograded_points)} "
                 "points)" if self.tests else "")
        if self.ok:
            hidden = " Hidden checks run only at grading." if self.tests else ""
            return f"Verdict: no problems found{score}.{hidden}"
        found = "1 problem found" if self.problems == 1 else f"{self.problems} problems found"
        them = "it" if self.problems == 1 else "them"
        return f"Verdict: {found}{score}: fix {them}, save, and run the doctor again before you hand in."

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(problems=self.problems, ok=self.ok, verdict=self.verdict())
        return data


def _points(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------- reading

def read_notebook(path: Path):
    """The notebook at ``path``, or NotebookError saying what is wrong and what to do."""
    if not path.exists():
        raise NotebookError(f"{path} does not exist: give the path of the .ipynb file you will hand in")
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.ipynb"))
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise NotebookError(f"{path} is a folder: give the notebook file inside it{hint}")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path} is not a notebook (its name does not end in .ipynb): give the "
                            ".ipynb file you will hand in")
    fresh_copy = ("restore it from a checkpoint (JupyterLab: File > Revert Notebook to Checkpoint) "
                  "or start from a fresh copy of the assignment and paste your answers in")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise NotebookError(f"{path} is not a notebook (not UTF-8 text): {fresh_copy}") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path} is not valid JSON ({error}), so it is damaged: {fresh_copy}") from None
    except OSError as error:
        raise NotebookError(f"{path} cannot be read ({error.strerror}): check its permissions") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (it has no list of cells): {fresh_copy}")
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat's errors vary by version; all mean the same here
        raise NotebookError(f"{path} is not a notebook nbformat can read ({error}): {fresh_copy}") from None


def identify(path: Path, notebook, manifest: dict) -> tuple[str | None, str | None]:
    """(released notebook's stem, how it was found): by the file name, a browser's copy suffix
    ("01-perceptron (1).ipynb", "01-perceptron-final.ipynb": the grading model's notebook_for,
    as the station matches names); failing that, or when another released notebook
    shares more of its grade_ids (a file renamed by mistake), by the cells it shares most."""
    names = {entry["notebook"]: key for key, entry in manifest.items()}
    by_name = names.get(notebook_for(path.name if path.suffix == ".ipynb" else path.name + ".ipynb", list(names)))
    ids = {nbgrader_metadata(c).get("grade_id") for c in notebook.cells} - {None}
    overlap = {key: len(ids & {c["grade_id"] for c in entry["cells"]}) for key, entry in manifest.items()}
    best = max(overlap.values(), default=0)
    if by_name is not None and overlap[by_name] == best:
        return by_name, "file name"
    leaders = [key for key, count in overlap.items() if count == best]
    if best > 0 and len(leaders) == 1:
        return leaders[0], "cells"
    return (by_name, "file name") if by_name else (None, None)


# ---------------------------------------------------------------- static checks

def check_order(notebook, report: Report) -> None:
    """Saved execution counts must rise from top to bottom, with no code cell left unrun above
    one that ran: otherwise the notebook worked in some other order than the grader's. Only the
    places where the order breaks are named (a cell run after the ones below it would otherwise
    make every later cell look out of order)."""
    code = [(number, cell) for number, cell in enumerate(notebook.cells, 1)
            if cell.get("cell_type") == "code" and cell.get("source", "").strip()]
    last_run = max((n for n, c in code if c.get("execution_count") is not None), default=0)
    highest, highest_at = 0, None  # the previous executed cell's count
    for number, cell in code:
        count = cell.get("execution_count")
        meta = nbgrader_metadata(cell)
        if count is None:
            if number < last_run:
                report.out_of_order.append(Finding(
                    number, meta.get("grade_id"), cell_kind(cell),
                    "never run, though cells below it were: the grader runs it, and what it does may "
                    "change their results"))
            continue
        if count < highest:
            report.out_of_order.append(Finding(
                number, meta.get("grade_id"), cell_kind(cell),
                f"execution count [{count}], lower than [{highest}] of cell {highest_at} above it: "
                "it ran before that cell"))
        highest, highest_at = count, number


def check_unanswered(notebook, report: Report) -> None:
    for number, cell in enumerate(notebook.cells, 1):
        kind, source = cell_kind(cell), cell.get("source", "")
        grade_id = nbgrader_metadata(cell).get("grade_id")
        if kind == "answer" and UNANSWERED_CODE.search(source):
            report.unanswered.append(Finding(number, grade_id, kind, "still raises NotImplementedError: write "
                                             "your answer and delete the `raise NotImplementedError()` line"))
        elif kind == "written" and UNANSWERED_TEXT in source:
            report.unanswered.append(Finding(number, grade_id, kind, f"still says {UNANSWERED_TEXT}: "
                                             "replace it with your answer"))


def check_locked_cells(notebook, released: dict, report: Report) -> None:
    """Edited, deleted or unmarked setup and test cells, compared with the checksum nbgrader
    stored in the cell at release and with the release's manifest."""
    checksum = _nbgrader_checksum()
    if checksum is None:
        report.notes.append("nbgrader is not installed here: test cells were compared by their source "
                            "only (edits to their nbgrader metadata go unnoticed)")
    by_id = {c["grade_id"]: c for c in released["cells"]}
    for number, cell in enumerate(notebook.cells, 1):
        meta = nbgrader_metadata(cell)
        grade_id = meta.get("grade_id")
        entry = by_id.get(grade_id)
        if grade_id is None or not (meta.get("locked") or (entry and entry["kind"] in ("setup", "test"))):
            continue
        kind = entry["kind"] if entry else cell_kind(cell)  # or a locked cell the release does not know
        verdict = _compare_locked(cell, entry, checksum)
        if verdict and kind == "test":
            verdict += " (grading runs the released test instead, and so does this check)"
        elif verdict:
            verdict += " (grading runs your version of this cell: results may differ from the release's)"
        if verdict:
            report.edited.append(Finding(number, grade_id, kind, verdict))
    present = {nbgrader_metadata(c).get("grade_id") for c in notebook.cells}
    unmarked = {}
    for number, cell in enumerate(notebook.cells, 1):
        if not nbgrader_metadata(cell).get("grade_id"):
            unmarked.setdefault(source_sha256(cell.get("source", "")), number)
    for entry in released["cells"]:
        if entry["grade_id"] in present:
            continue
        number = unmarked.get(entry["sha256"])
        if number is not None:
            message = "is here, but without its nbgrader metadata the grader does not recognise it"
        else:
            message = "is missing from the notebook"
        if entry["kind"] == "test":
            message += " (grading puts the released test back, and so does this check)"
        elif entry["kind"] == "written":
            message += ": a written answer is graded in its own cell only"
        elif entry["kind"] == "setup":
            message += ": grading runs your notebook's cells, so the set-up it does is missing there too"
        report.deleted.append(Finding(number, entry["grade_id"], entry["kind"], message))


def _compare_locked(cell, entry: dict | None, checksum) -> str | None:
    """Why a locked cell differs from its release, or None when it does not."""
    stored = nbgrader_metadata(cell).get("checksum")
    if checksum is None:
        if entry and source_sha256(cell.get("source", "")) != entry["sha256"]:
            return "its content differs from the released cell"
        return None
    released = copy.deepcopy(cell)
    released["source"] = released_source(cell.get("source", ""))
    try:
        actual = checksum(released)
    except Exception:  # grade without points, and the like: its metadata was changed by hand
        return "its nbgrader metadata was changed"
    if stored and actual != stored:
        return "its content differs from the released cell"
    if entry and actual != entry["checksum"]:
        if stored == actual:  # untouched, but not what the course releases now
            return "your copy of the notebook is from an older release"
        return "its content differs from the released cell"
    return None


# ---------------------------------------------------------------- running

def check_shortcuts(notebook, released: dict | None, report: Report) -> dict[str, str]:
    """Shortcuts in the answers, as the grading station finds them: a finding per exercise, and
    {test grade_id: message} for the tests they cost (dlcourse.shortcuts)."""
    if not released:
        return {}
    found = find_shortcuts(notebook.cells, released["exercises"], released_cells(released),
                           set(released.get("code_sha256", ())))
    numbers = {nbgrader_metadata(c).get("grade_id"): n for n, c in enumerate(notebook.cells, 1)}
    for shortcut in found:
        report.shortcuts.append(Finding(numbers.get(shortcut.exercise), shortcut.exercise, "answer",
                                        shortcut.message()))
    return failed_tests(notebook.cells, released)


def as_graded(notebook, released: dict | None):
    """A copy of the notebook as the grader runs it (the grading model's grading_plan: test
    cells as released, deleted ones put back), and for each of its cells the student's cell
    number (None for a test cell put back)."""
    import nbformat

    if not released:
        return copy.deepcopy(notebook), list(range(1, len(notebook.cells) + 1))
    tests = {c["grade_id"]: c["source"] for c in released["cells"] if c["kind"] == TEST}
    metadata = {c["grade_id"]: release_metadata(c["grade_id"], c["kind"], c["points"]) for c in released["cells"]}
    plan = grading_plan(notebook.cells, tests, metadata)
    graded = nbformat.from_dict({**notebook, "cells": [planned.cell for planned in plan]})
    return graded, [planned.origin for planned in plan]


def _this_python_kernel(folder: Path):
    """A kernel manager that starts this Python's ipykernel, not whichever kernel named python3
    Jupyter finds first (a user's or the system's may lack the course library)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager  # nbclient's loop needs the async client

    spec = folder / "dlcourse-doctor"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dlcourse doctor", "language": "python"}))
    return AsyncKernelManager(kernel_name="dlcourse-doctor",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder)]))


def run_notebook(notebook, origin: list, folder: Path, limits: TimeLimits, notebook_timeout: int,
                 report: Report, library: Path | None = None) -> int | None:
    """Run a copy in a fresh kernel of this Python from the notebook's folder, as grading does:
    quick mode, headless widgets, the CPU only, every cell even after an error, under both time
    limits. Failures, a stop and timings go into ``report`` (cells numbered as the student's,
    ``origin``); returns the index of the cell the run stopped at, if it stopped. NotebookError
    when no kernel starts."""
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    executed = copy.deepcopy(notebook)
    stopped_index = None
    started = time.monotonic()
    deadline = started + notebook_timeout
    applied = {}

    def timeout_for(cell):
        remaining = deadline - time.monotonic()
        applied["by_notebook"] = remaining < limits.for_cell(cell)
        return max(1, math.ceil(min(limits.for_cell(cell), remaining)))

    quiet = logging.getLogger("dlcourse.doctor.nbclient")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    specs = tempfile.TemporaryDirectory(prefix="dlcourse-doctor-")
    client = NotebookClient(executed, km=_this_python_kernel(Path(specs.name)), allow_errors=True,
                            timeout_func=timeout_for, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(folder)}}, log=quiet)
    env = {**os.environ, **GRADING_ENV}
    if library is not None:  # the library with the graded references sealed, ahead of the real one
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(library), env.get("PYTHONPATH")) if p)
    code = [n for n, c in enumerate(executed.cells)
            if c.get("cell_type") == "code" and c.get("source", "").strip()]
    slowest = (0.0, None, None)
    started_kernel = False
    try:
        # cleanup_kc: nbclient leaves a kernel it did not create running unless asked
        with client.setup_kernel(env=env, cleanup_kc=True):
            started_kernel = True
            for position, index in enumerate(code):
                cell = executed.cells[index]
                if time.monotonic() >= deadline:
                    stopped_index = index
                    report.stopped = _stopped(origin[index], cell, f"not started: the whole notebook went past "
                                              f"grading's limit of {notebook_timeout} s")
                    report.not_run = len(code) - position
                    break
                began = time.monotonic()
                try:
                    client.execute_cell(cell, index, execution_count=position + 1)
                except CellTimeoutError:
                    stopped_index = index
                    limit = (f"the whole notebook went past grading's limit of {notebook_timeout} s"
                             if applied.get("by_notebook") else
                             f"it ran past its limit of {limits.for_cell(cell):g} s")
                    report.stopped = _stopped(origin[index], cell, f"stopped: {limit}. Grading stops there too, so no "
                                              "cell below it runs and their tests earn nothing: make it faster "
                                              "(fewer epochs, a smaller sample) or find the loop that does not end")
                    report.not_run = len(code) - position - 1
                    break
                except DeadKernelError:
                    stopped_index = index
                    report.stopped = _stopped(origin[index], cell, "the kernel died running it (out of memory, or the "
                                              "process was ended): grading stops there too")
                    report.not_run = len(code) - position - 1
                    break
                took = time.monotonic() - began
                if took > slowest[0]:
                    slowest = (took, origin[index], limits.for_cell(cell))
                if took > limits.for_cell(cell) / 2:
                    report.notes.append(f"cell {origin[index]} took {took:.1f} s, more than half of the "
                                        f"{limits.for_cell(cell):g} s grading allows it: on a busier machine it "
                                        "may be stopped, so make it faster")
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        waits = output.get("ename") == "ExerciseUnfinished" and cell_kind(cell) != TEST
                        (report.waiting if waits else report.failed).append(_failure(origin[index], cell, output))
                        break
    except Exception as error:
        if started_kernel:
            raise
        raise NotebookError(f"could not start a kernel to run the notebook ({type(error).__name__}: "
                            f"{error}): run the doctor from the environment you use for the course "
                            "(`.venv/bin/python -m dlcourse doctor ...`)") from None
    finally:
        specs.cleanup()
    report.run_seconds = round(time.monotonic() - started, 1)
    if slowest[1] is not None:
        report.notes.append(f"ran in {report.run_seconds:g} s (grading allows {notebook_timeout} s); slowest: "
                            f"cell {slowest[1]}, {slowest[0]:.1f} s (allowed {slowest[2]:g} s)")
    return stopped_index


def _stopped(number: int | None, cell, message: str) -> Finding:
    return Finding(number, nbgrader_metadata(cell).get("grade_id"), cell_kind(cell), message)


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _failure(number: int | None, cell, output) -> Finding:
    """The error's name and message (the traceback's last line), never the whole traceback."""
    name = output.get("ename") or "Error"
    value = (output.get("evalue") or "").strip()
    if not value and output.get("traceback"):
        value = ANSI.sub("", output["traceback"][-1]).strip().removeprefix(f"{name}:").strip()
    kind = cell_kind(cell)
    # a test reads as grading words it (the released test has no hidden part to fail in)
    message = failure_message(name, value) if kind == TEST else f"{name}: {value}" if value else name
    return Finding(number, nbgrader_metadata(cell).get("grade_id"), kind, message, error=name)


def set_aside_unwritten(report: Report) -> None:
    """Test cells that fail only because an answer is not written yet (the release's stub's bare
    NotImplementedError, while an answer cell still holds that stub) move from ``failed`` to
    ``waiting_tests``: the unwritten answer is one problem, counted in ``unanswered``, not one
    more for each check that calls it. They still earn no points (estimate_score)."""
    if not any(f.kind == "answer" for f in report.unanswered):
        return
    stub = failure_message("NotImplementedError")
    waits = [f.kind == TEST and f.message == stub for f in report.failed]
    report.waiting_tests += [f for f, wait in zip(report.failed, waits) if wait]
    report.failed = [f for f, wait in zip(report.failed, waits) if not wait]


# ---------------------------------------------------------------- the score

def estimate_score(graded, origin: list, released: dict | None, report: Report,
                   stopped_index: int | None, shortcuts: dict | None = None) -> None:
    """Points of the visible checks that ran without error, in the notebook as graded (test
    cells as released). The points come from the release where it is known (a student cannot
    raise them); a test cell whose source held hidden tests is counted apart: only grading
    decides those points."""
    entries = {c["grade_id"]: c for c in released["cells"]} if released else {}
    failed = {f.grade_id for f in report.failed + report.waiting_tests if f.grade_id}
    by_hand = {}
    for index, cell in enumerate(graded.cells):
        meta = nbgrader_metadata(cell)
        grade_id = meta.get("grade_id")
        if grade_id is None or (released and grade_id not in entries):
            continue
        entry = entries.get(grade_id, {})
        kind = entry.get("kind") or cell_kind(cell)
        points = float((entry["points"] if entry else meta.get("points")) or 0)
        if kind == "written":
            by_hand.setdefault(grade_id, (origin[index], points))
        if kind != "test":
            continue
        if stopped_index is not None and index >= stopped_index:
            status = "not run"
        elif grade_id in failed or grade_id in (shortcuts or {}):
            status = "failed"
        else:
            status = "passed"
        report.tests.append(TestResult(grade_id, origin[index], points, status, hidden=bool(entry.get("hidden"))))
    for entry in released["cells"] if released else []:
        if entry["kind"] == "written":
            by_hand.setdefault(entry["grade_id"], (None, float(entry["points"])))
    visible = [t for t in report.tests if not t.hidden]
    report.autograded_points = sum(t.points for t in visible)
    report.estimated_points = sum(t.points for t in visible if t.status == "passed")
    report.hidden_points = sum(t.points for t in report.tests if t.hidden)
    report.by_hand = [Finding(number, grade_id, "written", f"{_points(points)} points")
                      for grade_id, (number, points) in by_hand.items()]
    report.by_hand_points = sum(points for _, points in by_hand.values())


# ---------------------------------------------------------------- diagnose

def diagnose(path, *, cell_timeout: int | None = None, notebook_timeout: int | None = None) -> Report:
    """Check the notebook at ``path`` as grading would see it; raises NotebookError when it
    cannot be read. ``cell_timeout`` may lower grading's per-cell limit (a quicker check);
    ``notebook_timeout`` the whole notebook's. The file itself is never written."""
    path = Path(path)
    cell_timeout = CELL_TIMEOUT_S if cell_timeout is None else cell_timeout
    notebook_timeout = NOTEBOOK_TIMEOUT_S if notebook_timeout is None else notebook_timeout
    for name, value, limit in (("cell_timeout", cell_timeout, CELL_TIMEOUT_S),
                               ("notebook_timeout", notebook_timeout, NOTEBOOK_TIMEOUT_S)):
        if not 0 < value <= limit:
            raise ValueError(f"{name} must be between 1 and grading's {limit} s, got {value}")
    notebook = read_notebook(path)
    report = Report(notebook=str(path), cell_limit_s=cell_timeout, notebook_limit_s=notebook_timeout)
    manifest = load_manifest()
    released = None
    if manifest is None:
        report.manifest_missing = True
        report.notes.append(f"dlcourse's record of the released notebooks ({MANIFEST}) is missing or "
                            "damaged: reinstall the course library; test cells were not compared with the release")
    else:
        report.assignment, report.identified_by = identify(path, notebook, manifest)
        released = manifest.get(report.assignment)
        if released is None:
            report.notes.append(f"{path.name} is not one of the course's notebooks (known: "
                                f"{', '.join(e['notebook'] for e in manifest.values())}), so the checks of "
                                "edited and deleted test cells were skipped")
        elif report.identified_by == "cells":
            report.notes.append(f"checked as {released['notebook']}, whose cells it holds: grading looks for a "
                                f"file named {released['notebook']}, so hand it in under that name")
        elif path.name != released["notebook"]:
            report.notes.append(f"checked as {released['notebook']} (found by its name)")
    check_order(notebook, report)
    if released:
        report.fresh_copy = (f"download the assignment again, or in a clone of the course: "
                             f"`git show HEAD:{released['path']} > fresh.ipynb` (your notebook stays as it is)")
        check_locked_cells(notebook, released, report)
    check_unanswered(notebook, report)
    graded, origin = as_graded(notebook, released)
    # each cell's limit as grading fits it (the release record), under the cap asked for
    limits = TimeLimits.from_record(released.get("time_limits") if released else None, cap=cell_timeout)
    shortcuts = check_shortcuts(notebook, released, report)
    library = sealing.grading_library(manifest, report.assignment) if released else None
    stopped_index = run_notebook(graded, origin, path.resolve().parent, limits, notebook_timeout, report, library)
    set_aside_unwritten(report)
    estimate_score(graded, origin, released, report, stopped_index, shortcuts)
    return report


# ---------------------------------------------------------------- the text report

def format_report(report: Report) -> str:
    """The report a student reads: a line per check that passes, a section per kind of
    problem, the estimated score, and a verdict as the last line."""
    title = f"dlcourse doctor: {report.notebook}"
    lines = [title + (f" (assignment {report.assignment})" if report.assignment else ""), ""]

    def gap() -> None:
        if lines[-1]:
            lines.append("")

    def section(title: str, findings: list[Finding], ok: str, why: str = "", most: int | None = None) -> None:
        if not findings:
            lines.append(f"OK       {title}: {ok}")
            return
        gap()
        lines.append(f"PROBLEM  {title}: {len(findings)} cell{'s' if len(findings) > 1 else ''}")
        for finding in findings[:most]:  # a hint on the error's next lines stays under its cell
            lines.append(f"  {finding.where()}: " + finding.message.replace("\n", "\n      "))
        if most is not None and len(findings) > most:
            lines.append(f"  ... and {len(findings) - most} more below (--json lists them all)")
        if why:
            lines.append(f"  {why}")
        lines.append("")

    section("cells run out of order", report.out_of_order, "none, the saved cells ran from top to bottom",
            "Grading restarts the kernel and runs every cell once, from top to bottom: in JupyterLab, "
            "Kernel > Restart Kernel and Run All Cells, check the results, then save.", most=5)
    if report.assignment is None:
        why = ("the course library's record of the release is missing (see the notes)" if report.manifest_missing
               else "not one of the course's notebooks (see the notes)")
        lines.append(f"SKIPPED  edited and deleted test cells: {why}")
    else:
        restore = ("Grading runs the released test cells whatever your copy holds (edits to a test are "
                   "ignored, a deleted one is put back), but it runs your setup cells as they are. To undo "
                   f"a change, copy the cell back from a fresh copy of the notebook: {report.fresh_copy}.")
        section("edited test cells", report.edited, "none, every setup and test cell is as released", restore)
        section("deleted test cells", report.deleted, "none, every released cell is here", restore)
    section("answers not written yet", report.unanswered, "none, every answer cell is filled in")
    if report.waiting_tests:
        count = len(report.waiting_tests)
        lines.append(f"WAITING  checks of the answers not written yet: {count} test cell{'s' if count > 1 else ''} "
                     "(counted once, with the answers above; they score no points until the answers are written)")
        for finding in report.waiting_tests[:10]:
            lines.append(f"  {finding.where()}: {finding.message}")
        if count > 10:
            lines.append(f"  ... and {count - 10} more (--json lists them all)")
        lines.append("")
    section("shortcuts (calls an exercise does not allow)", report.shortcuts,
            "none, no answer calls what its exercise forbids",
            "Grading reads your answers' source the same way: each of these exercises would score no points. "
            "The exercise's text says what to write yourself.")
    failures = report.failed + ([report.stopped] if report.stopped else [])
    ran = ("no other cell failed (those waiting for an answer are listed apart)"
           if report.waiting or report.waiting_tests else "every cell ran without an error")
    section(f"restart and run all (a fresh kernel, quick mode, the CPU, up to {report.cell_limit_s} s per cell, "
            f"{report.notebook_limit_s} s in all)", failures, ran,
            f"{report.not_run} code cell{'s' if report.not_run > 1 else ''} below cell {report.stopped.cell} "
            "did not run."
            if report.stopped and report.not_run else "")
    if report.waiting:
        gap()
        lines.append(f"WAITING  cells that use an exercise not finished yet: {len(report.waiting)} "
                     f"cell{'s' if len(report.waiting) > 1 else ''} (they run once it is; no points depend on them)")
        for finding in report.waiting[:5]:
            lines.append(f"  {finding.where()}: {finding.message}")
        if len(report.waiting) > 5:
            lines.append(f"  ... and {len(report.waiting) - 5} more (--json lists them all)")
        lines.append("")

    gap()
    if report.tests:
        visible = [t for t in report.tests if not t.hidden]
        passed = sum(t.status == "passed" for t in visible)
        lines.append(f"Estimated score from the visible checks: {_points(report.estimated_points)} / "
                     f"{_points(report.autograded_points)} points ({passed} of {len(visible)} test cells pass).")
        for status in ("failed", "not run"):
            lost = [t for t in visible if t.status == status]
            if lost:
                lines.append(f"  {status}, no points: " + ", ".join(
                    f"{t.grade_id} ({_points(t.points)})" for t in lost))
        hidden = [t for t in report.tests if t.hidden]
        if hidden:
            ran = sum(t.status == "passed" for t in hidden)
            lines.append(f"Hidden checks decide {_points(report.hidden_points)} more points at grading "
                         f"({ran} of their {len(hidden)} cells ran here without an error; what they check "
                         "is not in your copy).")
    else:
        lines.append("Estimated score: this notebook has no autograded test cells.")
    if report.by_hand:
        lines.append(f"Graded by hand: {_points(report.by_hand_points)} points (" + ", ".join(
            f.grade_id + (f" in cell {f.cell}" if f.cell else "") for f in report.by_hand) + ").")
    lines.extend(f"Note: {note}" for note in report.notes)
    lines.extend(["", report.verdict()])
    return "\n".join(lines)


# ---------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", help="the .ipynb file you will hand in")
    parser.add_argument("--timeout", type=int, metavar="SECONDS",
                        help=f"stop a cell after SECONDS (at most grading's {CELL_TIMEOUT_S}, the default)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON instead of a report")


def run(args: argparse.Namespace) -> int:
    """The doctor sub-command: 0 nothing wrong, 1 problems found, 2 bad input."""
    if args.timeout is not None and not 0 < args.timeout <= CELL_TIMEOUT_S:
        print(f"dlcourse doctor: --timeout {args.timeout}: give a number of seconds from 1 to grading's "
              f"limit of {CELL_TIMEOUT_S} (it can only make the check stricter)", file=sys.stderr)
        return 2
    try:
        report = diagnose(args.notebook, cell_timeout=args.timeout)
    except NotebookError as error:
        print(f"dlcourse doctor: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the check itself failed: say so, never "problems found"
        print(f"dlcourse doctor: could not finish checking {args.notebook} ({type(error).__name__}: {error}); "
              "your notebook was not changed", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m dlcourse doctor``'s arguments only (without the word ``doctor``)."""
    parser = argparse.ArgumentParser(prog="python -m dlcourse doctor", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
