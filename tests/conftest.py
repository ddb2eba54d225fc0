"""Shared fixtures: where the course is, which assignments it has, and a throw-away copy of
the course for tests that release and grade (so that the checkout is never written to)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))
# The grading station's working folders: never copied into a scratch course.
WORKING = {"submitted", "autograded", "feedback", "exports", "gradebook.db", "results", "logs", "collected"}


def copy_course(target: Path) -> Path:
    """A copy of what a fresh clone holds of the course (no venv, no grading state)."""
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "autograde", target / "autograde",
                    ignore=shutil.ignore_patterns("__pycache__", *WORKING))
    return target


def run_autograde(course: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """`python -m autograde ARGS` run from the root of ``course``, as an instructor would."""
    return subprocess.run([sys.executable, "-m", "autograde", *args], cwd=course,
                          capture_output=True, text=True, timeout=timeout)


def run_with_library(code: str, library: Path) -> subprocess.CompletedProcess:
    """``python -c code`` importing dlcourse from ``library`` (a sealed copy, dlcourse.sealing)
    ahead of the installed one."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(library)})


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def grading_batch(request, tmp_path_factory):
    """Every submission the grading tests need, graded in one run of the station
    (tests/grading_batch.py). Read it; grade again only in a copy (grading_batch.copy_of).
    Only the assignments the selected tests need are graded (`-k 01-perceptron`: that one and
    the station corpus; tests/test_grading_station.py: the corpus alone); all in a full run."""
    import grading_batch

    problem = grading_batch.sandbox.unavailable_reason()
    if problem is not None:
        pytest.skip(f"no sandbox here: {problem}")
    readers = [item for item in request.session.items if "grading_batch" in getattr(item, "fixturenames", ())]
    needed = [batch_needs(item) for item in readers]
    assignments = ASSIGNMENTS if any(n is None for n in needed) else sorted(set().union(set(), *needed))
    return grading_batch.grade_batch(tmp_path_factory.mktemp("grading-batch"), assignments)


def batch_needs(item) -> set[str] | None:
    """The course's assignments a reader of the grading batch needs: those its module declares
    (``BATCH_NEEDS = ()``: the station corpus only), else those its name holds; None for all."""
    declared = getattr(getattr(item, "module", None), "BATCH_NEEDS", None)
    if declared is not None:
        return set(declared)
    return {a for a in ASSIGNMENTS if a in item.nodeid} or None


# The suite runs on every core (pyproject.toml: pytest-xdist). Each worker takes whole files: a
# test module (its module-scoped fixtures are made once) or a notebook (nbval runs its cells in
# order, in one kernel). The modules that read the shared grading batch (SHARED_SCOPES) go to one
# worker together (it is graded once per worker that needs it). The files of SPLIT_BY_ASSIGNMENT
# share nothing between assignments (each assignment's cases run in a kernel of their own), so
# each assignment's tests there are a unit of their own that either worker may take. Files start
# longest first (LONGEST, as measured by benchmarks/suite_times.py), the rest in collection order.
# Tests that grade in sandboxes may run side by side: each looks only at its own runs' sandboxes
# (tests/grading_batch.py).
SHARED_SCOPES = {"tests/test_grading_station.py": "tests/test_grading.py",
                 "tests/test_browser.py": "tests/test_grading.py"}  # file: the file it runs with
SPLIT_BY_ASSIGNMENT = ("tests/test_known_mistakes.py", "tests/test_any_executor.py")
LONGEST = ("tests/test_grading.py", "tests/test_known_mistakes.py", "tests/test_release.py",
           "tests/test_any_executor.py", "tests/test_benchmarks.py", "tests/test_browser.py",
           "solutions/09-gans/09-gans.ipynb", "tests/test_doctor.py")


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, its partner's (SHARED_SCOPES), or its file
    and assignment (SPLIT_BY_ASSIGNMENT)."""
    path = nodeid.split("::", 1)[0]
    if path in SPLIT_BY_ASSIGNMENT:
        named = [a for a in ASSIGNMENTS if f"[{a}" in nodeid]
        return f"{path}::{named[0]}" if named else path
    return SHARED_SCOPES.get(path, path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's file scheduling (--dist loadfile, as pyproject.toml sets it), with the files of
    SHARED_SCOPES joined to their partners. Another --dist on the command line is xdist's."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return SharedFileScheduling(config, log)


def pytest_collection_modifyitems(items):
    """Library test modules name their assignment (``ASSIGNMENT = "01-perceptron"``) so that
    ``pytest -k 01-perceptron`` selects them along with the notebook and grading checks. The
    longest files run first."""
    for item in items:
        assignment = getattr(getattr(item, "module", None), "ASSIGNMENT", None)
        if assignment:
            item.extra_keyword_matches.add(assignment)
    rank = {scope: index for index, scope in enumerate(LONGEST)}
    # stable: a file keeps its order
    items.sort(key=lambda item: rank.get(scope_of(item.nodeid).split("::", 1)[0], len(rank)))


def assert_torch_twin(np_module, pt_module, name: str) -> None:
    """dlcourse.pt.<m>.<name> exists, takes np.<m>.<name>'s parameters in the same order (an
    ``rng`` becomes ``generator``; ``device`` and ``dtype`` may follow), and says it is a twin."""
    import inspect

    label = np_module.__name__.rsplit(".", 1)[-1]
    np_fn, pt_fn = getattr(np_module, name), getattr(pt_module, name, None)
    assert pt_fn is not None, f"{pt_module.__name__} has no {name}"
    expected = ["generator" if p == "rng" else p for p in inspect.signature(np_fn).parameters]
    names = list(inspect.signature(pt_fn).parameters)
    assert names[:len(expected)] == expected, f"{name}: {names} drifted from {expected}"
    assert set(names[len(expected):]) <= {"device", "dtype"}
    assert np_fn.__doc__
    assert pt_fn is np_fn or pt_fn.__doc__.startswith(f"Torch twin of np.{label}.{name}")


# Torch tests run on the CPU and, where there is one, on a CUDA device: @pytest.mark.parametrize("device", DEVICES)
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small models trained for many tiny steps: on a busy 2-core machine a second thread only
    waits (OpenMP spin-waits). Use with pytestmark = pytest.mark.usefixtures("one_torch_thread")."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the report of a failed set-up or test on the item, so that a fixture's teardown
    can save evidence (the browser tests' screenshots)."""
    report = yield
    if report.when in ("setup", "call") and report.failed:
        item.outcome_of_call = report
    return report
