"""Grading one notebook of a submission: the student's cells run in a sandboxed kernel, the tests
run here, in the judge.

Stock nbgrader runs the test cells inside the student's kernel and believes what that kernel
says. Here the kernel only ever runs the student's own cells. The instructor's test cells, taken
from solutions/ (so edited, deleted or renamed test cells change nothing), run in the judge's own
shell (autograde/judge_shell.py), where no student code has run: each call of a student's
function is forwarded to the kernel and comes back as plain values (autograde/kernel_calls.py),
which the test compares here with the reference. Input transformers, a patched np.testing, an
always-equal object or a planted numpy.py act only inside the kernel, on the kernel.

The steps, in the order they run (the rules they apply are the grading model's,
dlcourse.grading):

  read      the submitted notebook; an unreadable one scores zero with the reason
  plan      the cells as graded: test cells as in solutions/, metadata from solutions/
  start     the judge's shell runs the instructor's set-up cells; the kernel starts
  run       each code cell of the student's runs in the kernel, under the time and output limits
  judge     each test cell runs in the judge, calling into the kernel
  score     a test earns its points when it raised nothing (a warning on stderr costs nothing)
  write     the graded notebook, for feedback and formgrader, made safe to render first
            (autograde/sanitise.py: no student HTML or script runs in the instructor's browser)

When the kernel dies, runs out of time or floods its output at cell k, the points of the tests
before k are kept and the reason is recorded. Each step's time (and, for a test, its calls into
the kernel and the bytes they moved) goes into the result's "profile" (`grade --profile` prints it).
"""

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from dlcourse.grading import (
    ANSWER,
    SETUP,
    TEST,
    WRITTEN,
    TimeLimits,
    answer_names,
    cell_kind,
    exercise_tests,
    grade_id,
    grading_plan,
    nbgrader_metadata,
    points,
    points_earned,
)

from . import sandbox
from .judge_shell import bind_answers, judge_shell, run_in_judge
from .kernel import Kernel, KernelLost
from .kernel_calls import KernelCalls
from .sanitise import sanitise_notebook
from .text import printable, storable

RUN_IN_KERNEL = (ANSWER, SETUP, "code")


class Profile:
    """Where a notebook's grading time went: one entry per step, {"step", "seconds", "calls",
    "bytes"}, the last two the calls into the kernel the step made and the bytes they moved
    (requests and replies)."""

    def __init__(self):
        self.steps: list[dict] = []
        self.calls: KernelCalls | None = None

    @contextlib.contextmanager
    def step(self, name: str):
        def counters():
            return (self.calls.number, self.calls.bytes_moved) if self.calls is not None else (0, 0)

        before, started = counters(), time.perf_counter()
        try:
            yield
        finally:
            after = counters()
            self.steps.append({"step": name, "seconds": round(time.perf_counter() - started, 4),
                               "calls": after[0] - before[0], "bytes": after[1] - before[1]})


class JudgeSession:
    """One kernel over a submission's folder and the judge's shell beside it: `run_cell` runs a
    student's cell in the kernel, `judge_test` an instructor's test cell here."""

    def __init__(self, source, submission_dir: Path, *, limits: sandbox.Limits, use_sandbox: bool,
                 notebook: str | None = None, profile: Profile | None = None):
        self.source, self.limits = source, limits
        self.profile = profile or Profile()
        self.time_limits = TimeLimits.from_run(source.cells, cap=limits.cell_seconds)
        # the kernel imports the library with this notebook's graded references sealed; the
        # judge's shell keeps the whole library for the hidden tests
        self.kernel = Kernel(submission_dir, limits=limits, use_sandbox=use_sandbox, library=sealed_library(notebook))
        self.deadline = time.monotonic() + limits.wall_seconds
        self.answer_names = [name for c in source.cells if cell_kind(c) == ANSWER
                             for name in answer_names(c.source)]
        self.calls, self.shell, self.stale, self.cells_run = None, None, True, 0

    def start(self):
        """The judge's shell, reset, runs the instructor's set-up cells (magics left out: the
        judge displays nothing); then the kernel starts and loads the grader's module."""
        with self.profile.step("the judge's set-up cells"):
            self.shell = judge_shell()
            self.shell.reset(new_session=False)
            for code in judge_setup(self.source):
                error = run_in_judge(self.shell, code)
                if error:
                    raise RuntimeError(f"the instructor's set-up cell failed in the judge: {error}")
        with self.profile.step("kernel start"):
            self.kernel.start()
        self.calls = self.profile.calls = KernelCalls(self.kernel, self.deadline)
        with self.profile.step("the grader's module"):
            # the kernel's own cap on a cell's output: twice the judge's, which acts first when it keeps pace
            cap = 2 * self.kernel.limits.output_kb * 1024
            _, error = self.kernel.execute("import dlcourse_grader_kernel, sys\n"
                                           "dlcourse_grader_kernel.send_lone_surrogates()\n"
                                           f"dlcourse_grader_kernel.cap_cell_output({cap})\n"
                                           "sys.path.insert(0, '')", seconds=60, silent=True,
                                           what="the grader's set-up")
        if error:  # before any student code: the grader's own installation is at fault
            raise RuntimeError(f"the grader's module could not be loaded in the sandboxed kernel: {error}")

    @property
    def reasons(self) -> list[str]:
        return self.calls.reasons if self.calls is not None else []

    def run_cell(self, source: str, what: str, limit: float | None = None):
        """(outputs, error or None) of a student's cell, stopped after ``limit`` seconds (the
        cap when None); KernelLost when nothing more can run."""
        self.stale = True  # the names the tests see may have changed
        seconds = min(self.limits.cell_seconds if limit is None else limit, self.deadline - time.monotonic())
        if seconds <= 0:
            self.kernel.kill()
            raise KernelLost(f"the notebook went past its time limit ({self.limits.wall_seconds} s)")
        self.cells_run += 1
        return self.kernel.execute(source, seconds=seconds, what=what)

    def judge_test(self, source: str, what: str, limit: float | None = None) -> str | None:
        """Run an instructor's test cell here, each call into the kernel stopped after ``limit``
        seconds (the cap when None): None when it passes, else 'Name: message'. KernelLost when
        the kernel was lost on the way."""
        self.calls.what, self.calls.seconds = what, self.limits.cell_seconds if limit is None else limit
        if self.stale:
            bind_answers(self.shell, self.calls, self.answer_names)
            self.stale = False
        # the judge's own work counts in the notebook's time, like the kernel's
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.kernel.kill()
            raise KernelLost(f"the notebook went past its time limit ({self.limits.wall_seconds} s)")
        error = run_in_judge(self.shell, source, seconds=min(2 * self.calls.seconds + 30, remaining))
        if error and error.startswith("JudgeTimeout") and time.monotonic() >= self.deadline:
            self.kernel.kill()
            raise KernelLost(f"the notebook went past its time limit ({self.limits.wall_seconds} s) while the "
                             f"grader checked {what}")
        return error

    def close(self):
        self.kernel.close()


# ------------------------------------------------------------------ one notebook, step by step

def grade_notebook(source_path: Path, released_path: Path, submission_dir: Path, notebook_name: str, *,
                   limits: sandbox.Limits, use_sandbox: bool) -> dict:
    """Grade one notebook of a submission. Returns plain data: scores per test cell, the
    answers waiting for a manual grade, the graded notebook (for feedback) and reasons."""
    source = nbformat.read(source_path, as_version=4)
    released = nbformat.read(released_path, as_version=4)
    tests = {grade_id(c): c for c in source.cells if cell_kind(c) == TEST}
    # a notebook that is missing or cannot be read has no written answer to grade by hand: zero points
    unwritten = {grade_id(c): False for c in released.cells if cell_kind(c) == WRITTEN}
    profile = Profile()
    result = {"cells": {gid: {"score": 0.0, "max": points(c),
                              "message": "not run"} for gid, c in tests.items()},
              "manual": unwritten, "reasons": [], "notebook": None, "profile": profile.steps}
    with profile.step("read, plan, shortcut checks"):
        submitted = read_submission(submission_dir / notebook_name, result)
        if submitted is None:
            return result
        result["manual"] = written_answers(released, submitted)
        plan = grading_plan(submitted.cells, {gid: c.source for gid, c in tests.items()},
                            {grade_id(c): nbgrader_metadata(c) for c in source.cells if grade_id(c) is not None})
        shown_tests = {grade_id(c): c.source for c in released.cells if cell_kind(c) == TEST}
        # shortcuts, read from the submitted source here (never from the kernel): those tests fail unrun
        shortcuts = shortcut_failures(submitted.cells, notebook_name)
        graded = nbformat.v4.new_notebook(metadata=submitted.metadata)
        session = JudgeSession(source, submission_dir, limits=limits, use_sandbox=use_sandbox, notebook=notebook_name,
                               profile=profile)
    lost, ids = None, set()
    try:
        session.start()
        for position, planned in enumerate(plan, 1):
            cell = nbformat.from_dict(planned.cell)
            if planned.kind == TEST:
                with profile.step(f"test {grade_id(cell)}"):
                    shown, lost = judge_step(session, cell, shown_tests, result, lost, shortcuts.get(grade_id(cell)))
            elif planned.kind in RUN_IN_KERNEL and cell.cell_type == "code":
                with profile.step(f"cell {position}"):
                    shown, lost = run_step(session, cell, position, result, lost)
            else:
                shown = cell
            # the submitted cell's id (a new one would differ on each grading: feedback must not)
            shown["id"] = cell.get("id") if cell.get("id") and cell.get("id") not in ids else f"graded-{position}"
            ids.add(shown["id"])
            graded.cells.append(shown)
    except KernelLost as error_lost:
        lost = str(error_lost)
        result["reasons"].append(lost)
        for cell in result["cells"].values():
            if cell["message"] == "not run":
                cell["message"] = f"not run: {lost}"
    finally:
        with profile.step("kernel shut down"):
            session.close()
        result["reasons"] += session.reasons
        result["memory_mb"] = session.kernel.peak_mb  # the most the sandbox held, where a control group measured it
    with profile.step("graded notebook"):
        graded = storable(graded)  # the kernel's outputs too
        sanitise_notebook(graded, source.metadata)
        result["notebook"] = nbformat.writes(graded)
    return result


def shortcut_failures(cells, notebook: str) -> dict[str, str]:
    """{test grade_id: message} for the tests that lose their points to a shortcut in ``cells``
    (dlcourse.shortcuts, by the judge's own release record); {} for a notebook it does not know."""
    from dlcourse.doctor import load_manifest
    from dlcourse.shortcuts import failed_tests

    record = (load_manifest() or {}).get(notebook.removesuffix(".ipynb"))
    return failed_tests(cells, record) if record else {}


def sealed_library(notebook: str | None) -> Path | None:
    """The library with the graded references of ``notebook`` (a file name) sealed, as the release
    record lists them; None for a notebook the record does not know."""
    from dlcourse import sealing
    from dlcourse.doctor import load_manifest

    if not notebook or not notebook.endswith(".ipynb"):
        return None
    return sealing.grading_library(load_manifest() or {}, notebook.removesuffix(".ipynb"))


def read_submission(path: Path, result: dict):
    """The submitted notebook, or None with every test's message and the reason saying why it
    cannot be read (JSON, schema, encoding, a symbolic link that could point at solutions/)."""
    try:
        if path.is_symlink():
            raise ValueError("it is a symbolic link, not a file")
        submitted = nbformat.read(path, as_version=4)
        nbformat.validate(submitted)
        # JSON can carry a lone surrogate ("\ud800") that UTF-8 cannot: neither the kernel's
        # messages nor the graded notebook could be written with one
        return storable(submitted)
    except Exception as error:  # noqa: BLE001 (every way of failing means unreadable)
        first = printable((str(error).strip().splitlines() or [type(error).__name__])[0][:200], one_line=True)
        reason = f"{path.name} is not a readable notebook ({first})"
        for cell in result["cells"].values():
            cell["message"] = reason
        result["reasons"].append(reason)
        return None


def written_answers(released, submitted) -> dict[str, bool]:
    """{written answer's grade_id: whether the student wrote something}: a grade by hand is
    needed only where the cell differs from the release's."""
    stubs = {grade_id(c): c.source for c in released.cells if cell_kind(c) == WRITTEN}
    written = {}
    for cell in submitted.cells:
        gid = grade_id(cell)
        if gid in stubs and gid not in written:
            written[gid] = cell.source.strip() != stubs[gid].strip()
    return {gid: written.get(gid, False) for gid in stubs}


def run_step(session: JudgeSession, cell, position: int, result: dict, lost: str | None):
    """A student's code cell, run in the kernel (not once the kernel is lost)."""
    executed = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
    if lost is not None:
        return executed, lost
    try:
        executed.outputs, error = session.run_cell(cell.source, what=f"cell {position}",
                                                   limit=session.time_limits.for_cell(cell))
        if error and error.startswith(("TimeoutError:", "OutputLimit:")):
            result["reasons"].append(error.split(": ", 1)[1])
        executed.execution_count = session.cells_run
    except KernelLost as error_lost:
        lost = f"{error_lost}"
        result["reasons"].append(f"{lost} (cell {position})")
        executed.outputs = [_note(f"Stopped here: {lost}")]
    return executed, lost


def judge_step(session: JudgeSession, cell, shown_tests: dict, result: dict, lost: str | None,
               shortcut: str | None = None):
    """A test cell, judged here and scored; the graded notebook shows the released test (never
    the source's, which holds the hidden tests) and the verdict. ``shortcut``: why the answer
    it tests loses its points without the test being run (dlcourse.shortcuts)."""
    gid = grade_id(cell)
    shown = nbformat.v4.new_code_cell(shown_tests.get(gid, "# a test cell of the instructor's (not in your release)"),
                                      metadata=cell.metadata)
    if lost is not None:
        result["cells"][gid]["message"] = f"not run: {lost}"
        shown.outputs = [_note(f"Not graded: {lost}")]
        return shown, lost
    try:
        error = shortcut or session.judge_test(cell.source, what=f"test {gid}",
                                               limit=session.time_limits.for_cell(cell))
    except KernelLost as error_lost:
        lost = f"{error_lost} (in test {gid})"
        error = f"KernelLost: {error_lost}"
        result["reasons"].append(lost)
    except Exception as error_call:  # noqa: BLE001 (the call into the kernel failed on this test: it fails)
        error = f"{type(error_call).__name__}: {error_call}"
    # the message quotes what the student's code raised or returned: its escapes are shown, and
    # the record and the graded notebook say the same
    error = printable(error) if error else error
    worth = result["cells"][gid]["max"]
    score = points_earned(error, worth)
    result["cells"][gid].update(score=score, message=error or "passed")
    shown.outputs = [_note(f"Passed: {worth:g} / {worth:g} point(s)") if not error else
                     nbformat.v4.new_output("error", ename="Failed", evalue=error[:3000], traceback=[
                         f"Failed ({score:g} / {worth:g} point(s)): {error[:3000]}"])]
    return shown, lost


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def judge_setup(source) -> list[str]:
    """The source's code cells above the first answer (imports, data), magics left out."""
    setup = []
    for cell in source.cells:
        if cell_kind(cell) == ANSWER:
            break
        if cell.cell_type == "code":
            setup.append("\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%")))
    return setup


# ------------------------------------------------------------------ parts of a notebook (known mistakes)

@dataclass
class CaseResult:
    scores: dict = field(default_factory=dict)  # test grade_id: (points earned, points)
    errors: list = field(default_factory=list)  # what the case's cells and tests raised


def grade_cases(source_path: Path, cases: list[tuple[str | None, str | dict | None]], *, limits: sandbox.Limits,
                use_sandbox: bool, workdir: Path) -> list[CaseResult]:
    """Score parts of the solution notebook, one kernel for all: its set-up cells once, then for
    each case (exercise, replacement) every answer cell, the exercise's one replaced by
    ``replacement``, and the exercise's test cells (every exercise's for None), judged and
    scored as grade_notebook does. With exercise None, ``replacement`` may be a dict of answer
    cells {answer grade_id: source} replaced together. A kernel lost in one case is restarted
    for the next."""
    source = nbformat.read(source_path, as_version=4)
    answers = [c for c in source.cells if cell_kind(c) == ANSWER]
    tests = {grade_id(c): c for c in source.cells if cell_kind(c) == TEST}
    tests_of = exercise_tests(source.cells)
    results, session = [], None
    try:
        for exercise, replacement in cases:
            replaced = replacement if isinstance(replacement, dict) else \
                {exercise: replacement} if exercise and replacement is not None else {}
            outcome = CaseResult()
            results.append(outcome)
            if session is None:
                session = JudgeSession(source, workdir, limits=limits, use_sandbox=use_sandbox,
                                       notebook=Path(source_path).name)
                session.start()
                for cell in source.cells:
                    if cell_kind(cell) == SETUP:
                        session.run_cell(cell.source, what=grade_id(cell), limit=session.time_limits.for_cell(cell))
            case_cells = [nbformat.from_dict({**c, "source": replaced[grade_id(c)]}) if grade_id(c) in replaced
                          else c for c in source.cells]
            shortcuts = shortcut_failures(case_cells, Path(source_path).name)
            try:
                if session.calls is not None and session.calls.number:
                    session.calls.forget_values()  # cases are independent: what they shared need not travel
                for cell in answers:
                    gid = grade_id(cell)
                    code = replaced.get(gid, cell.source)
                    _, error = session.run_cell(code, what=gid, limit=session.time_limits.for_cell(cell))
                    if error:
                        outcome.errors.append(f"[{gid}] {error[:300]}")
                for gid in (tests_of[exercise] if exercise else list(tests)):
                    worth = points(tests[gid])
                    try:
                        error = shortcuts.get(gid) or session.judge_test(
                            tests[gid].source, what=f"test {gid}", limit=session.time_limits.for_cell(tests[gid]))
                    except KernelLost:
                        raise
                    except Exception as error_call:  # noqa: BLE001
                        error = f"{type(error_call).__name__}: {error_call}"
                    outcome.scores[gid] = (points_earned(error, worth), worth)
                    if error:  # whole enough to hold the hint at the end of a long message
                        outcome.errors.append(f"[{gid}] {error[:2000]}")
            except KernelLost as error_lost:
                outcome.errors.append(f"the kernel was lost: {error_lost}")
                for gid in (tests_of[exercise] if exercise else list(tests)):
                    outcome.scores.setdefault(gid, (0.0, points(tests[gid])))
                session.close()
                session = None
    finally:
        if session is not None:
            session.close()
    return results
