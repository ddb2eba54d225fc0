"""One grading batch serves every grading test (the ``grading_batch`` fixture, conftest.py).

A scratch copy of the course, as a fresh clone holds it (course/ released, no gradebook), gets
every submission the grading tests need, and ``python -m autograde grade`` grades them all in
one run of the station with two workers, in sandboxes, with its profile printed (--profile):

* for each assignment: its solution, the untouched release (``blank``), every exercise
  answered with its first known mistake and the demonstrations left out (``mistaken``), half
  a notebook (``unreadable``) and a folder without a notebook (``no-notebook``: it makes
  grade's exit status 1); the solution's folder also holds the graded notebook a killed run
  left behind, without its results file;
* for the first assignment, the solution under the name a browser gives a second download
  (``renamed``): the renaming is the same for every assignment, and match_notebooks is checked
  on each assignment's names without grading (tests/test_grading.py);
* the station corpus (tests/station_corpus.py): the small assignment 00-station, with a
  recorded run that sets its cells' time limits to the floor, and its bad submissions.

Tests read their own results from the batch and must not change it: a test that grades
again or resubmits works on a copy (``copy_of``). The conftest fixture grades only the
assignments the selected tests name (all of them in a full run).
"""

import json
import runpy
import shutil
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import station_corpus as corpus
from conftest import ASSIGNMENTS, ROOT, copy_course, run_autograde

from dlcourse.grading import CODE, cell_kind, grade_id

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import sandbox  # noqa: E402

STUDENTS = ("solution", "blank", "mistaken", "unreadable", "no-notebook")
RENAMED_IN = ASSIGNMENTS[0]
WORKERS = 2
# each sandbox's memory budget in the batch: four times what the heaviest solution holds (05 and 08,
# about 460 MB), and small enough that two sandboxes past it never put the test machine at risk
MEMORY = "2G"


class Listener:
    """A TCP server on the grader's loopback that records whatever reaches it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.received = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                self.received.append(connection.recv(1000))
            except OSError:
                self.received.append(b"<connected>")


def sandbox_processes(uids, settle_seconds: float = 0.0) -> list[str]:
    """Processes still running as one of the sandbox ``uids`` (a run's results record those its
    workers held) that no grading process holds now: once a run is over its uids are free, and
    another grader beside it (another test) may take one; the processes then running as it are
    that grader's, and whatever the run left there the new holder kills first
    (sandbox.sandbox_uid). Zombies are not counted: they run nothing and wait only for the
    host's init to reap them. With ``settle_seconds``, look again until none is left or the time
    is up (a process killed under load can take a moment to go)."""
    deadline = time.monotonic() + settle_seconds
    while True:
        running = sandbox.uid_process_table(set(uids))  # then who holds the uids: one taken meanwhile is not ours
        held = set(sandbox.uid_holders())
        left = [f"{pid}: {name} (uid {uid})" for pid, uid, name in running if uid not in held]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.5)


def sandbox_uids(course: Path) -> set[int]:
    """The sandbox uids a course's grading runs used, as their results record them."""
    uids = set()
    for path in (course / "autograde" / "results").glob("*/*.json"):
        uid = json.loads(path.read_text()).get("sandbox_uid")
        if uid is not None and sandbox.HOST_UID_BASE <= uid < sandbox.HOST_UID_BASE + 4096:
            uids.add(uid)
    return uids


@dataclass
class Batch:
    course: Path
    assignments: list  # the course's assignments graded (the station corpus's is graded too)
    result: object  # the grade command's CompletedProcess
    listener: Listener
    rows: dict = field(default_factory=dict)  # {assignment: {student: the line grade printed}}
    context: dict = field(default_factory=dict)  # what the station corpus's cases need and left
    left: list = field(default_factory=list)  # sandboxed processes still running after the batch


def first_mistakes(assignment: str) -> dict[str, str]:
    """{answer cell id: the first known mistake's source} from tests/known_mistakes/."""
    path = ROOT / "tests" / "known_mistakes" / f"{assignment}.py"
    mistakes = runpy.run_path(str(path))["MISTAKES"] if path.exists() else {}
    return {exercise: next(iter(wrong.values())) for exercise, wrong in mistakes.items() if wrong}


def write_course_submissions(course: Path, assignment: str) -> None:
    submitted = course / "autograde" / "submitted"
    students = STUDENTS + (("renamed",) if assignment == RENAMED_IN else ())
    for student in students:
        (submitted / student / assignment).mkdir(parents=True)
    for notebook in (course / "solutions" / assignment).glob("*.ipynb"):
        shutil.copy(notebook, submitted / "solution" / assignment / notebook.name)
        if assignment == RENAMED_IN:  # what a browser names a second download of the same file
            shutil.copy(notebook, submitted / "renamed" / assignment / f"{notebook.stem} (1).ipynb")
        shutil.copy(course / "course" / assignment / notebook.name, submitted / "blank" / assignment)
        text = notebook.read_text()
        (submitted / "unreadable" / assignment / notebook.name).write_text(text[: len(text) // 2])
        # a graded notebook left by a killed run (no results file): not taken for graded
        left = course / "autograde" / "autograded" / "solution" / assignment / notebook.name
        left.parent.mkdir(parents=True, exist_ok=True)
        left.write_text(text)
    (submitted / "no-notebook" / assignment / "answers.txt").write_text("I could not get Jupyter to start\n")
    # every exercise answered with its first known mistake: judged outside the kernel, each
    # must still lose points (in-place changes, gradients and objects cross the boundary). The
    # notebook's demonstrations (its unlocked code cells: the training runs, the figures) are
    # left out, as a student may delete them: the tests see only the set-up cells and the
    # answers, so they judge the same, and the submission costs a kernel and its tests, not a
    # second run of the notebook (the solution's is graded whole)
    mistaken = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    mistaken.cells = [cell for cell in mistaken.cells if cell_kind(cell) != CODE]
    wrong_answers = first_mistakes(assignment)
    for cell in mistaken.cells:
        wrong = wrong_answers.get(grade_id(cell))
        if wrong is not None:
            cell.source = wrong
    nbformat.write(mistaken, submitted / "mistaken" / assignment / f"{assignment}.ipynb")


def install_corpus_assignment(course: Path) -> None:
    """The corpus's assignment in a scratch course (with its recorded run: the time limits are
    the floor, so an endless loop costs seconds), released."""
    corpus.install_assignment(course)
    done = run_autograde(course, "release", corpus.ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr


def install_station_corpus(course: Path, context: dict) -> None:
    """The corpus's assignment and its submissions."""
    install_corpus_assignment(course)
    submitted = course / "autograde" / "submitted"
    context.update(gradebook=course / "autograde" / "gradebook.db",
                   good_notebook=submitted / "good" / corpus.ASSIGNMENT / corpus.NOTEBOOK,
                   solution=course / "solutions" / corpus.ASSIGNMENT / corpus.NOTEBOOK)
    corpus.write_submissions(course, context)
    context["good_before"] = context["good_notebook"].read_bytes()


def grade_rows(stdout: str) -> dict[str, dict[str, str]]:
    """The tables the grade command prints: {assignment: {student: outcome}}."""
    tables, current = {}, None
    for line in stdout.splitlines():
        if not line.strip():   # a table ends at a blank line (the profile, when asked for, follows)
            current = None
        elif not line.startswith(" ") and ": " in line and "submission(s)" in line:
            current = tables.setdefault(line.split(":", 1)[0], {})
        elif line.startswith("  ") and current is not None:
            student, outcome = line.split(maxsplit=1)
            current[student] = outcome
    return tables


def grade_batch(scratch: Path, assignments: list[str] = ASSIGNMENTS) -> Batch:
    """Grade ``assignments``' submissions and the station corpus in one run (see above)."""
    course = copy_course(scratch)
    listener = Listener()
    context = {"port": listener.port}
    install_station_corpus(course, context)
    for assignment in assignments:
        write_course_submissions(course, assignment)
    course_before = {p: p.read_bytes() for p in (course / "course").rglob("*") if p.is_file()}
    started = time.perf_counter()
    result = run_autograde(course, "grade", *assignments, corpus.ASSIGNMENT, "--workers", str(WORKERS),
                           "--memory", MEMORY, "--profile", timeout=3600)
    seconds = time.perf_counter() - started
    context["course_changed"] = sorted(str(p.relative_to(course)) for p in (course / "course").rglob("*")
                                       if p.is_file() and course_before.get(p) != p.read_bytes())
    submissions = sum(1 for _ in (course / "autograde" / "submitted").glob("*/*"))
    print(f"graded {submissions} submissions of {len(assignments) + 1} assignments with {WORKERS} workers "
          f"in {seconds:.1f} s")
    return Batch(course=course, assignments=list(assignments), result=result, listener=listener,
                 rows=grade_rows(result.stdout), context=context,
                 left=sandbox_processes(sandbox_uids(course), settle_seconds=10))


def copy_of(batch: Batch, target: Path) -> Path:
    """A copy of the graded course, for a test that grades again or resubmits."""
    shutil.copytree(batch.course, target, symlinks=True)
    return target
