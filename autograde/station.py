"""The grading station: submissions handed to workers (local processes, or a Dask cluster), and
the coordinator, which alone writes the gradebook, the graded notebooks, the per-submission
results and the log. A worker returns plain data and touches nothing.

Resumable: a submission's result file records the fingerprint of the notebooks it graded;
a run grades only submissions without a result or whose notebooks changed since. Results are
written one by one as they arrive, so a run killed half-way loses nothing already graded.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dlcourse.grading import notebook_for

from . import sandbox
from .text import printable, storable


@dataclass
class Submission:
    """One student's submission of one assignment, as the coordinator hands it to a worker."""

    student: str
    assignment: str
    folder: Path  # autograde/submitted/<student>/<assignment>/
    source: Path  # solutions/<assignment>/
    released: Path  # course/<assignment>/
    mapping: dict[str, str | None]  # expected notebook: the submitted file graded as it, or None
    notes: list[str]  # what the matching of names found, reported with the result
    fingerprint: str
    use_sandbox: bool = True
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    retried: bool = False  # a worker already died on it once


def fingerprint(folder: Path) -> str:
    """Changes whenever a notebook of the submission does (a resubmission is graded again)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.ipynb")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def match_notebooks(folder: Path, expected: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """{expected notebook: file in the submission to grade as it, or None} and notes. A file
    that stands for an expected one (the grading model's notebook_for: "01-perceptron (1).ipynb",
    "01-perceptron-final.ipynb") is graded as it when that one is missing and it is the only such file."""
    found = sorted(p.name for p in folder.glob("*.ipynb"))
    mapping, notes = {}, []
    strangers = [name for name in found if name not in expected]
    for name in expected:
        if name in found:
            mapping[name] = name
            continue
        candidates = [s for s in strangers if notebook_for(s, expected) == name]
        if len(candidates) == 1:
            mapping[name] = candidates[0]
            strangers.remove(candidates[0])
            notes.append(f"graded {printable(candidates[0], one_line=True)} as {name}")
        else:
            mapping[name] = None
            found_names = ", ".join(printable(s, one_line=True) for s in strangers)  # the student named them
            hint = f" (found {found_names}: rename it to {name} if it is that notebook)" if strangers else ""
            notes.append(f"{name} is missing{hint}" if found else "no .ipynb file in the submission")
    return mapping, notes


def missing_notebooks(mapping: dict[str, str | None]) -> list[str]:
    """The expected notebooks a submission has no file for (match_notebooks' mapping)."""
    return [name for name, file_name in mapping.items() if file_name is None]


_one_at_a_time = __import__("threading").Lock()


def grade_submission(submission: Submission) -> dict:
    """Worker: grade every notebook of one submission. Plain data out, nothing written. One
    submission at a time per process (a Dask worker may run tasks on several threads; the
    judge's shell and the kernel factory are per process)."""
    with _one_at_a_time:
        return _grade_submission(submission)


def _grade_submission(submission: Submission) -> dict:
    from . import judge

    started = time.perf_counter()
    folder = Path(submission.folder)
    notebooks, reasons = {}, list(submission.notes)

    def grade(folder: Path, name: str) -> dict:
        return judge.grade_notebook(Path(submission.source) / name, Path(submission.released) / name, folder, name,
                                    limits=submission.limits, use_sandbox=submission.use_sandbox)

    for name, file_name in submission.mapping.items():
        if file_name is None:
            result = judge.grade_notebook(Path(submission.source) / name, Path(submission.released) / name, folder,
                                          name + ".missing", limits=submission.limits,
                                          use_sandbox=submission.use_sandbox)
            message = next((n for n in submission.notes if n.startswith(name) or n.startswith("no .ipynb")),
                           "missing")
            for cell in result["cells"].values():
                cell["message"] = message
            result["reasons"] = [message]
        elif file_name != name:  # graded under the expected name, from a private copy
            staging = Path(tempfile.mkdtemp(prefix="dlcourse-stage-"))
            os.chmod(staging, 0o755)
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
                    shutil.copy(path, staging / path.name)
            if not (folder / file_name).is_symlink():  # a link is graded as unreadable
                shutil.copy(folder / file_name, staging / name)
            try:
                result = grade(staging, name)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            reasons += result["reasons"]
        else:
            result = grade(folder, name)
            reasons += result["reasons"]
        notebooks[name] = result
    return {"student": submission.student, "assignment": submission.assignment,
            "fingerprint": submission.fingerprint, "notebooks": notebooks, "reasons": reasons,
            "missing": missing_notebooks(submission.mapping),
            "seconds": time.perf_counter() - started, "sandbox": submission.use_sandbox,
            "sandbox_uid": sandbox.run_uid() if submission.use_sandbox else None,
            "worker": os.getpid(),  # its sandboxes' control groups carry this pid (sandbox.sandbox_groups)
            "graded_at": datetime.now(UTC).isoformat(timespec="seconds")}


def failed_result(submission: Submission, reason: str) -> dict:
    return {"student": submission.student, "assignment": submission.assignment, "fingerprint": None,
            "notebooks": {}, "reasons": [printable(reason, one_line=True)], "seconds": 0.0, "failed": True}


# ------------------------------------------------------------------ runners

def submission_budget(submission: Submission) -> float:
    """The longest a worker may spend on one submission before it is stopped: each notebook's
    time limit and a kernel start, with room for the judge's own work."""
    from .kernel import KERNEL_START_SECONDS

    notebooks = max(1, len(submission.mapping))
    return notebooks * (submission.limits.wall_seconds + KERNEL_START_SECONDS) + 60


def run_local(submissions: list[Submission], workers: int, on_result, *, grade=None, budget=None) -> None:
    """Grade on `workers` local processes, each holding one submission at a time, so that when a
    worker dies (or spends more than the submission's budget and is stopped) the one submission
    it held is known: that one is tried once more on a fresh worker and reported NOT GRADED if
    that worker dies too; no other submission is touched, and the batch goes on. ``grade`` (a
    module-level function, for tests) and ``budget`` replace grade_submission and submission_budget."""
    import multiprocessing
    from collections import deque
    from multiprocessing.connection import wait as wait_for

    grade, budget = grade or grade_submission, budget or submission_budget
    context = multiprocessing.get_context("spawn")  # no forked torch or sqlite state in workers
    waiting, free, running = deque(submissions), [], {}  # running: connection -> (process, task, deadline)

    def start_worker():
        mine, theirs = context.Pipe()
        process = context.Process(target=_worker_loop, args=(theirs, grade), daemon=True)
        process.start()
        theirs.close()
        return process, mine

    free = [start_worker() for _ in range(max(1, min(workers, len(waiting))))]
    try:
        while waiting or running:
            while free and waiting:
                process, connection = free.pop()
                task = waiting.popleft()
                connection.send(task)
                running[connection] = (process, task, float("inf"))  # the clock starts when the worker does
            wait_for([*running, *(process.sentinel for process, _, _ in running.values())], timeout=5)
            for connection, (process, task, deadline) in list(running.items()):
                try:
                    kind, result = connection.recv() if connection.poll() else (None, None)
                except (EOFError, OSError):
                    kind, result = None, None
                if kind == "started":  # (a fresh worker first imports what grading needs)
                    running[connection] = (process, task, time.monotonic() + budget(task))
                elif kind == "done":
                    del running[connection]
                    free.append((process, connection))
                    on_result(result)
                elif not process.is_alive() or time.monotonic() > deadline:
                    late = process.is_alive()
                    process.kill()
                    process.join()
                    connection.close()
                    del running[connection]
                    what = f"took more than {budget(task):.0f} s" if late else "died"
                    if task.retried:
                        on_result(failed_result(task, f"a grading worker {what} on this submission, twice"))
                    else:
                        task.retried = True
                        waiting.appendleft(task)
                    if waiting:
                        free.append(start_worker())
    finally:
        workers_left = free + [(process, connection) for connection, (process, _, _) in running.items()]
        for _, connection in workers_left:
            try:
                connection.send(None)  # done: the worker ends, its kernel factory with it
            except OSError:
                pass
        for process, _ in workers_left:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def _worker_loop(connection, grade) -> None:
    """A grading worker: submissions in, plain results out, one at a time, until told to stop."""
    _worker_start()
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        connection.send(("started", None))
        try:
            result = grade(task)
        except Exception as error:  # noqa: BLE001 (a bug or a crash in the grader: report it, go on)
            result = failed_result(task, f"the grader failed: {type(error).__name__}: {error}")
        connection.send(("done", result))


def _worker_start():
    from .kernel import die_with_parent

    die_with_parent()  # a killed coordinator takes its workers (and their kernels) with it


def run_dask(submissions: list[Submission], address: str, on_result) -> None:
    """Grade on a Dask distributed cluster (its workers must run from the course's root)."""
    from distributed import Client, as_completed

    with Client(address, timeout="30s") as client:
        futures = {client.submit(grade_submission, task, pure=False, key=f"grade-{task.student}-{i}"): task
                   for i, task in enumerate(submissions)}
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                on_result(future.result())
            except Exception as error:  # noqa: BLE001
                on_result(failed_result(task, f"the grader failed on the cluster: {type(error).__name__}: {error}"))


# ------------------------------------------------------------------ the coordinator's records

class Coordinator:
    """Alone writes what grading produces: the gradebook, the graded notebooks (for feedback),
    one results file per submission (written last, so that a run killed half-way is not taken
    for a finished one) and each assignment's log (``logs``: {assignment: open file}). `record`
    takes a worker's result and returns the line the grade command prints for it."""

    def __init__(self, gradebook, *, autograded: Path, results: Path, logs: dict):
        self.gradebook, self.autograded, self.results, self.logs = gradebook, autograded, results, logs
        self.failed: list[str] = []  # assignment/student

    def result_path(self, assignment: str, student: str) -> Path:
        return self.results / assignment / f"{student}.json"

    def record(self, result: dict) -> str:
        """Write one result whole or not at all. Whatever in it the student's code wrote is made
        printable first (shown_result), and every file is encoded before anything is written; the
        graded notebooks wait under temporary names until the gradebook holds the scores, the
        results file (which marks the submission graded) comes last. A record that fails leaves
        the gradebook, the graded notebooks and the results as they were, and the submission is
        graded again next run."""
        result = shown_result(result)
        student, assignment = result["student"], result["assignment"]
        if result.get("failed"):
            self.failed.append(f"{assignment}/{student}")
            self.write_log(assignment, f"{student} NOT GRADED {'; '.join(result['reasons'])}")
            return "NOT GRADED: " + "; ".join(result["reasons"])
        notebooks = {self.autograded / student / assignment / name: notebook_bytes(notebook["notebook"])
                     for name, notebook in result["notebooks"].items() if notebook.get("notebook")}
        staged = {}
        try:
            for target, data in notebooks.items():
                target.parent.mkdir(parents=True, exist_ok=True)
                staged[target] = stage(target, data)
            score, max_score, manual = record_in_gradebook(self.gradebook, result)
        except BaseException:
            for partial in staged.values():
                partial.unlink(missing_ok=True)
            raise
        for target, partial in staged.items():
            os.replace(partial, target)
        stored = dict(result, score=score, max_score=max_score, manual=manual)
        stored["notebooks"] = {n: {k: v for k, v in nb.items() if k != "notebook"}
                               for n, nb in result["notebooks"].items()}
        path = self.result_path(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        # whole or not at all: a coordinator killed while writing leaves the previous file (or none)
        os.replace(stage(path, json.dumps(stored, indent=1).encode()), path)
        reasons = "; ".join(result["reasons"])
        self.write_log(assignment, f"{student} {score:g}/{max_score:g} {result['seconds']:.1f}s"
                                   f"{' ' + reasons if reasons else ''}")
        note = f", {manual} answer(s) to grade by hand" if manual else ""
        if result.get("missing"):  # its tests scored zero; nothing of it waits for a grade by hand
            note += f", missing {', '.join(result['missing'])}"
        return f"{score:g} / {max_score:g}{note}  [{result['seconds']:.1f} s]" + (f"  ({reasons})" if reasons else "")

    def write_log(self, assignment: str, line: str) -> None:
        """One line: a newline or an escape in it (a student's folder name) is shown, not obeyed."""
        log = self.logs[assignment]
        log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {printable(line, one_line=True)}\n")
        log.flush()


def shown_result(result: dict) -> dict:
    """A worker's result with every text in it that a student's code could have written made
    printable (autograde.text): reasons on one line (each is a line of the table and the log),
    test messages as they are otherwise. The worker already does so where the text arises; this
    makes the records safe whatever a worker sent."""
    shown = dict(result, reasons=[printable(reason, one_line=True) for reason in result["reasons"]])
    shown["notebooks"] = {}
    for name, notebook in result["notebooks"].items():
        cells = {gid: dict(cell, message=printable(cell["message"])) for gid, cell in notebook["cells"].items()}
        shown["notebooks"][name] = dict(notebook, cells=cells,
                                        reasons=[printable(r, one_line=True) for r in notebook.get("reasons", [])])
    return shown


def profile_report(results: list[dict], slowest: int = 3) -> str:
    """Where each graded submission's time went (the judge's profile, autograde/judge.py), by
    notebook: its steps grouped (the judge's set-up, kernel start and shut-down, the student's
    cells, the tests with their calls into the kernel and the bytes moved, the graded notebook),
    the slowest cells and tests, and the worker's time the steps do not account for."""
    lines = []
    for result in sorted(results, key=lambda r: (r["assignment"], r["student"])):
        header = f"{printable(result['assignment'], one_line=True)}/{printable(result['student'], one_line=True)}"
        if result.get("failed"):
            lines.append(f"{header}: not graded ({'; '.join(printable(r, one_line=True) for r in result['reasons'])})")
            continue
        lines.append(f"{header}: {result['seconds']:.2f} s in the worker")
        accounted = 0.0
        for name, notebook in result["notebooks"].items():
            steps = notebook.get("profile", [])
            accounted += sum(step["seconds"] for step in steps)
            groups: dict[str, list[dict]] = {}
            for step in steps:
                kind = "student cells" if step["step"].startswith("cell ") else \
                    "tests" if step["step"].startswith("test ") else step["step"]
                groups.setdefault(kind, []).append(step)
            lines.append(f"  {name}")
            for kind, members in groups.items():
                seconds = sum(m["seconds"] for m in members)
                calls, moved = sum(m["calls"] for m in members), sum(m["bytes"] for m in members)
                row = f"    {kind + (f' ({len(members)})' if len(members) > 1 else ''):<34s} {seconds:8.2f} s"
                if calls:
                    row += f"  {calls} call(s) into the kernel, {moved / 1e6:.2f} MB moved"
                if len(members) > 1:
                    top = sorted(members, key=lambda m: -m["seconds"])[:slowest]
                    row += "; slowest: " + ", ".join(
                        f"{m['step'].split(' ', 1)[1]} {m['seconds']:.2f} s"
                        + (f" ({m['calls']} calls)" if m["calls"] else "") for m in top)
                lines.append(row)
        lines.append(f"    {'elsewhere in the worker':<34s} {result['seconds'] - accounted:8.2f} s")
    return "\n".join(lines) if lines else "no submission was graded in this run"


def notebook_bytes(text: str) -> bytes:
    """A graded notebook as UTF-8. The judge leaves no lone surrogate in it (judge.grade_notebook);
    one that a worker of another version left is written as a visible escape."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        import nbformat

        return nbformat.writes(storable(nbformat.reads(text, as_version=4))).encode("utf-8")


def stage(path: Path, data: bytes) -> Path:
    """``data`` written beside ``path`` under a temporary name, to be moved over it with
    os.replace (a reader sees the old file or the new one, never a part)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    return partial


def record_in_gradebook(gradebook, result: dict) -> tuple[float, float, int]:
    """Write one submission's scores; returns (score, max_score, answers to grade by hand)."""
    import warnings

    from nbgrader.api import MissingEntry

    assignment, student = result["assignment"], result["student"]
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's add_submission, harmless
    try:
        gradebook.update_or_create_student(student)
        try:
            gradebook.find_submission(assignment, student)
        except MissingEntry:
            gradebook.add_submission(assignment, student)
        for name, notebook in result["notebooks"].items():
            notebook_id = name.removesuffix(".ipynb")
            for grade_id, cell in notebook["cells"].items():
                grade = gradebook.find_grade(grade_id, notebook_id, assignment, student)
                grade.auto_score, grade.needs_manual_grade = float(cell["score"]), False
            for grade_id, written in notebook["manual"].items():
                grade = gradebook.find_grade(grade_id, notebook_id, assignment, student)
                if written:
                    grade.auto_score, grade.needs_manual_grade = None, grade.manual_score is None
                else:  # left as released: nothing to grade, zero points
                    grade.auto_score, grade.needs_manual_grade = 0.0, False
        gradebook.db.commit()
    except BaseException:  # none of this submission's scores, not even half of them
        gradebook.db.rollback()
        raise
    submission = gradebook.find_submission(assignment, student)
    manual = sum(1 for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade)
    return submission.score, submission.max_score, manual
