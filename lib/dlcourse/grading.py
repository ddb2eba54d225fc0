"""The grading model: how a notebook is graded, written once.

The grading station's judge (``autograde/judge.py``), ``python -m dlcourse doctor``, the release
record (``autograde/manifest.py``), the station's coordinator and the tests all read these rules
here, so that the doctor says what grading will say. It lives in the library because the doctor
ships to students' machines (Colab) without ``autograde/``; it imports only the standard library (and
``dlcourse.runtime`` for the name of the quick-mode variable).

* **Cell kinds** (nbgrader's metadata, one vocabulary): ``answer`` (solution code the student
  writes), ``test`` (graded code: the instructor's checks), ``written`` (a graded markdown answer,
  graded by hand), ``setup`` (locked code that is not graded: the install and set-up cells),
  ``code`` and ``text`` (every other cell).
* **The released source** of a cell: its source without the hidden-test regions, as nbgrader's
  ClearHiddenTests releases it.
* **Tests as released**: a submission is graded with the test cells of the release, whatever
  the student did to them (edited ones replaced, deleted ones put back, duplicates dropped), and
  the nbgrader metadata of every cell comes from the release (:func:`grading_plan`).
* **Notebook names**: a file stands for an expected notebook when it has its name, or a name
  that starts like it ("01-perceptron (1).ipynb", a browser's second download).
* **The environment** a graded notebook runs in (:data:`GRADING_ENV`) and the **time limits**:
  each cell's fitted to the reference solution's own run (:class:`TimeLimits`), under a cap.
* **The score**: a test cell earns its points when it runs without an exception; output on
  stderr (a warning) costs nothing.
* **Failure messages**: how a failed test reads, one wording wherever it is read
  (:func:`failure_message`): an exception without a message says whether the answer is not
  written yet, a hidden check failed, or a visible check failed without a message.
"""

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime

from dlcourse.runtime import QUICK_ENV

# One cell, and the whole notebook from start to end: nbgrader's Execute.timeout, the station's
# sandbox.Limits and the doctor read them here.
CELL_TIMEOUT_S = 300
NOTEBOOK_TIMEOUT_S = 600

# Time limits that fit the work: a cell may take LIMIT_FACTOR times what the reference solution's
# cell took in its stored quick-mode run (`python -m autograde execute` records it), never less
# than LIMIT_FLOOR_S and never more than the cap above. Slow but correct code (loops where the
# reference is vectorised, one thread where it had two) keeps its points; an endless loop in a
# quick cell costs LIMIT_FLOOR_S, not CELL_TIMEOUT_S.
LIMIT_FACTOR = 50
LIMIT_FLOOR_S = 20

# What a graded notebook's kernel sees: quick mode, no live widgets, no GPU (the grader's
# sandbox has none), one thread per kernel (N workers on N cores; more threads only spin).
GRADING_ENV = {
    "NBGRADER_EXECUTION": "autograde", QUICK_ENV: "1", "DLCOURSE_HEADLESS": "1", "CUDA_VISIBLE_DEVICES": "",
    "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
}
# What the judge's own process needs of it to run the instructor's set-up and test code.
JUDGE_ENV = {QUICK_ENV: "1", "DLCOURSE_HEADLESS": "1"}

ANSWER, TEST, WRITTEN, SETUP, CODE, TEXT = "answer", "test", "written", "setup", "code", "text"
# Markers nbgrader uses in sources.
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


# ---------------------------------------------------------------- cells

def nbgrader_metadata(cell) -> dict:
    """The cell's nbgrader metadata ({} when it has none, or something that is not a dict)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


def points(cell) -> float:
    """The points a graded cell is worth (0 for a cell that is not graded)."""
    return float(nbgrader_metadata(cell).get("points") or 0)


def cell_kind(cell) -> str:
    """answer, test, written, setup, code or text (see the module's docstring)."""
    meta = nbgrader_metadata(cell)
    if cell.get("cell_type") == "code":
        if meta.get("solution"):
            return ANSWER
        if meta.get("grade"):
            return TEST
        return SETUP if meta.get("locked") else CODE
    if meta.get("grade") and meta.get("solution"):
        return WRITTEN
    return TEXT


def released_source(source: str) -> str:
    """The source without its hidden-test regions, as nbgrader's ClearHiddenTests releases it:
    the instructor's solution notebook then compares equal to the released one. A region left
    open keeps the source as it is (nbgrader refuses to release it)."""
    if HIDDEN_BEGIN not in source:
        return source
    lines = source.split("\n")
    hidden = hidden_lines(source)
    if HIDDEN_END not in lines[max(hidden) - 1]:  # the last region is left open
        return source
    return "\n".join(line for number, line in enumerate(lines, 1) if number not in hidden)


def has_hidden_tests(source: str) -> bool:
    return HIDDEN_BEGIN in source


def source_sha256(source: str) -> str:
    """What the release record keeps of a cell's released source, for checks without nbgrader."""
    return hashlib.sha256(released_source(source).encode("utf-8")).hexdigest()


def release_metadata(grade_id: str, kind: str, points: float | None) -> dict:
    """The nbgrader metadata a released cell of this kind carries (schema 3)."""
    return {"grade": kind in (TEST, WRITTEN), "grade_id": grade_id, "locked": kind in (SETUP, TEST),
            "points": points if kind in (TEST, WRITTEN) else None, "schema_version": 3,
            "solution": kind in (ANSWER, WRITTEN)}


# ---------------------------------------------------------------- tests as released

@dataclass
class PlannedCell:
    """One cell of a notebook as it is graded."""

    kind: str  # cell_kind, from the release's metadata
    cell: dict  # a copy: a test cell holds the release's test, every cell the release's metadata
    origin: int | None  # 1-based position in the submitted notebook; None for a test put back


def grading_plan(cells, tests: dict, released: dict | None) -> list[PlannedCell]:
    """The submitted ``cells`` as grading runs them.

    ``tests``: {grade_id: test source} to run, in the release's order (the judge passes the
    source's tests with their hidden parts, the doctor the released ones). ``released``:
    {grade_id: nbgrader metadata} of every graded or locked cell, in the release's order; None
    when the release is not known (the cells then run as they are, keeping their metadata).

    A test cell runs the release's source (its first copy only: a duplicate is dropped). Every
    other cell keeps its source; its nbgrader metadata is the release's for a grade_id the release
    has (first copy only), and is removed otherwise, so a renamed grade_id or a cell turned into
    a graded one changes nothing. A test cell missing from the submission is put back after the
    nearest cell above it in the release that is present, or at the end when none is.
    """
    plan, seen = [], set()
    for origin, cell in enumerate(cells, 1):
        cell = copy.deepcopy(cell)
        gid = grade_id(cell)
        if released is not None:
            if gid in tests:
                if gid in seen:
                    continue
                cell = _test_cell(gid, tests[gid], released.get(gid))
            elif gid in released and gid not in seen:
                cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(released[gid])
            else:
                cell.get("metadata", {}).pop("nbgrader", None)
                gid = None
            if gid is not None:
                seen.add(gid)
        plan.append(PlannedCell(cell_kind(cell), cell, origin))
    if released is None:
        return plan
    order = list(released)
    for gid in tests:
        if gid in seen:
            continue
        at = len(plan)
        for earlier in reversed(order[:order.index(gid)] if gid in order else []):
            places = [i for i, planned in enumerate(plan) if grade_id(planned.cell) == earlier]
            if places:
                at = places[-1] + 1
                break
        cell = _test_cell(gid, tests[gid], released.get(gid))
        plan.insert(at, PlannedCell(TEST, cell, None))
        seen.add(gid)
    return plan


def _test_cell(gid: str, source: str, metadata: dict | None) -> dict:
    meta = copy.deepcopy(metadata) if metadata else release_metadata(gid, TEST, 0.0)
    return {"cell_type": "code", "execution_count": None, "id": _cell_id(gid),
            "metadata": {"nbgrader": meta}, "outputs": [], "source": source}


def _cell_id(gid: str) -> str:
    """A valid nbformat cell id (letters, digits, - and _; at most 64) for a test put back."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in gid)
    return ("graded-" + safe)[:64]


# ---------------------------------------------------------------- time limits

def reference_seconds(cell) -> float | None:
    """How long a cell took in the notebook's stored run (the execution timestamps nbclient
    records: busy to idle), or None when the run recorded none."""
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.status.busy"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["iopub.status.idle"].replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None


class TimeLimits:
    """Each cell's time limit, fitted to the reference solution's run: ``for_cell(cell)`` of a
    cell as graded. A cell is matched to the reference by its grade_id, else by its source (the
    cells a student leaves as released); a cell of the student's own, or one the reference run
    did not time, gets the largest limit of the notebook. Without any recorded time, every cell
    gets the cap. The judge fits them to solutions/ (``from_run``); the release record keeps
    them (``record``), so that the doctor applies the same limits (``from_record``)."""

    def __init__(self, by_id: dict, by_source: dict, default: float | None, cap: float = CELL_TIMEOUT_S):
        self.cap = cap
        self.by_id = {gid: min(cap, limit) for gid, limit in by_id.items()}
        self.by_source = {key: min(cap, limit) for key, limit in by_source.items()}  # source_sha256: limit
        self.default = cap if default is None else min(cap, default)

    @classmethod
    def from_run(cls, reference_cells, cap: float = CELL_TIMEOUT_S) -> "TimeLimits":
        by_id, by_source = {}, {}
        for cell in reference_cells:
            seconds = reference_seconds(cell) if cell.get("cell_type") == "code" else None
            if seconds is None:
                continue
            limit = min(cap, max(LIMIT_FLOOR_S, LIMIT_FACTOR * seconds))
            gid = grade_id(cell)
            if gid is not None:
                by_id[gid] = limit
            key = _source_key(cell["source"])
            by_source[key] = max(limit, by_source.get(key, 0))  # the same code twice: the longer run
        recorded = list(by_id.values()) + list(by_source.values())
        return cls(by_id, by_source, max(recorded) if recorded else None, cap)

    @classmethod
    def from_record(cls, record: dict | None, cap: float = CELL_TIMEOUT_S) -> "TimeLimits":
        record = record or {}
        return cls(record.get("by_id", {}), record.get("by_source", {}), record.get("default"), cap)

    def record(self) -> dict:
        return {"by_id": self.by_id, "by_source": self.by_source, "default": self.default}

    def for_cell(self, cell) -> float:
        gid = grade_id(cell)
        if gid in self.by_id:
            return self.by_id[gid]
        return self.by_source.get(_source_key(cell.get("source", "")), self.default)


def _source_key(source: str) -> str:
    return source_sha256(source.strip())


# ---------------------------------------------------------------- notebook names

def notebook_for(file_name: str, expected: list[str]) -> str | None:
    """The expected notebook a submitted file stands for: the one of the same name, else the
    longest one whose name (without .ipynb) the file's starts with, ignoring case: what a browser
    names a second download ("01-perceptron (1).ipynb") or a student's "01-perceptron-final.ipynb"."""
    if file_name in expected:
        return file_name
    stem = file_name.removesuffix(".ipynb").lower()
    starts = [name for name in expected if stem.startswith(name.removesuffix(".ipynb").lower())]
    return max(starts, key=len) if starts else None


# ---------------------------------------------------------------- the score

def points_earned(error: str | None, points: float) -> float:
    """A test cell earns its points when it raised nothing; output on stderr costs nothing."""
    return 0.0 if error else float(points)


# ---------------------------------------------------------------- failure messages

# How a failed test reads when its exception carries no message (the release's stub raises
# `NotImplementedError()`, a bare `assert` says nothing): one wording for the judge's results,
# the station's report, the feedback and the doctor.
UNWRITTEN_ANSWER = "the answer this test calls is not written yet"
HIDDEN_CHECK_FAILED = "a hidden check failed"
SILENT_CHECK_FAILED = "a check failed without a message"


def hidden_lines(source: str) -> set[int]:
    """The 1-based numbers of the lines of ``source`` in its hidden-test regions, the marker
    lines included (what nbgrader's ClearHiddenTests removes at release)."""
    lines, hidden = set(), False
    for number, line in enumerate(source.split("\n"), 1):
        if HIDDEN_BEGIN in line:
            hidden = True
        if hidden:
            lines.add(number)
        if HIDDEN_END in line:
            hidden = False
    return lines


def failure_message(name: str, message: str = "", *, hidden: bool = False) -> str:
    """How a test that raised the exception ``name`` with ``message`` reads: "Name: message";
    without a message, what is known of the failure instead, in parentheses: a
    NotImplementedError is the answer's stub (the answer this test calls is not written yet);
    otherwise a hidden check failed when the failing line lies in a hidden-test region
    (``hidden``), else a check failed without a message."""
    message = (message or "").strip()
    if message:
        return f"{name}: {message}"
    if name == "NotImplementedError":
        why = UNWRITTEN_ANSWER
    else:
        why = HIDDEN_CHECK_FAILED if hidden else SILENT_CHECK_FAILED
    return f"{name} ({why})"


# ---------------------------------------------------------------- exercises

def exercise_tests(cells) -> dict[str, list[str]]:
    """{answer cell's grade_id: grade_ids of the test cells below it, up to the next answer}, in
    the notebook's order: an exercise is an answer cell and the checks that follow it."""
    exercises, current = {}, None
    for cell in cells:
        kind = cell_kind(cell)
        if kind == ANSWER:
            current = grade_id(cell)
            exercises.setdefault(current, [])
        elif kind == TEST and current is not None:
            exercises[current].append(grade_id(cell))
    return exercises


def answer_names(source: str) -> list[str]:
    """The names an answer cell defines at its top level (functions, classes, assignments):
    what the tests may ask of the student's kernel. IPython magics and shell lines are skipped."""
    import ast

    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))
