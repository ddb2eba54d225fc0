"""The grading station's coordinator: finds what needs grading, hands submissions to workers
(local processes, or a Dask cluster), and alone writes the gradebook, the graded notebooks,
the per-submission results and the log. A worker returns plain data and touches nothing.

Resumable: a submission's result file records the fingerprint of the notebooks it graded;
a run grades only submissions without a result or whose notebooks changed since. Results are
written one by one as they arrive, so a run killed half-way loses nothing already graded.
"""

import hashlib
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from . import sandbox


def fingerprint(folder: Path) -> str:
    """Changes whenever a notebook of the submission does (a resubmission is graded again)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.ipynb")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def match_notebooks(folder: Path, expected: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """{expected notebook: file in the submission to grade as it, or None} and notes. A file
    named like the expected one with something added (what a browser calls a second download,
    "01-perceptron (1).ipynb", or "01-perceptron-final.ipynb") stands in for a missing one."""
    found = sorted(p.name for p in folder.glob("*.ipynb"))
    mapping, notes = {}, []
    strangers = [name for name in found if name not in expected]
    for name in expected:
        if name in found:
            mapping[name] = name
            continue
        stem = name.removesuffix(".ipynb").lower()
        candidates = [s for s in strangers if s.lower().startswith(stem)]
        if len(candidates) == 1:
            mapping[name] = candidates[0]
            strangers.remove(candidates[0])
            notes.append(f"graded {candidates[0]} as {name}")
        else:
            mapping[name] = None
            hint = f" (found {', '.join(strangers)}: rename it to {name} if it is that notebook)" if strangers else ""
            notes.append(f"{name} is missing{hint}" if found else f"no .ipynb file in the submission")
    return mapping, notes


_one_at_a_time = __import__("threading").Lock()


def grade_submission(task: dict) -> dict:
    """Worker: grade every notebook of one submission. Plain data in, plain data out. One
    submission at a time per process (a Dask worker may run tasks on several threads; the
    judge's shell and the kernel factory are per process)."""
    with _one_at_a_time:
        return _grade_submission(task)


def _grade_submission(task: dict) -> dict:
    from . import judge

    started = time.perf_counter()
    limits = sandbox.Limits(**task["limits"])
    slot = os.getpid() % 4096
    submission = Path(task["submission"])
    notebooks, reasons = {}, list(task["notes"])
    for name, file_name in task["mapping"].items():
        source, released = Path(task["source"]) / name, Path(task["released"]) / name
        if file_name is None:
            result = judge.grade_notebook(source, released, submission, name + ".missing", limits=limits,
                                          use_sandbox=task["sandbox"], slot=slot)
            message = next((n for n in task["notes"] if n.startswith(name) or n.startswith("no .ipynb")), "missing")
            for cell in result["cells"].values():
                cell["message"] = message
            result["reasons"] = [message]
        else:
            if file_name != name:  # graded under the expected name, from a private copy
                import shutil
                import tempfile

                staging = Path(tempfile.mkdtemp(prefix="dlcourse-stage-"))
                os.chmod(staging, 0o755)
                for path in submission.iterdir():
                    if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
                        shutil.copy(path, staging / path.name)
                if not (submission / file_name).is_symlink():  # a link is graded as unreadable
                    shutil.copy(submission / file_name, staging / name)
                try:
                    result = judge.grade_notebook(source, released, staging, name, limits=limits,
                                                  use_sandbox=task["sandbox"], slot=slot)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
            else:
                result = judge.grade_notebook(source, released, submission, name, limits=limits,
                                              use_sandbox=task["sandbox"], slot=slot)
            reasons += result["reasons"]
        notebooks[name] = result
    return {"student": task["student"], "assignment": task["assignment"], "fingerprint": task["fingerprint"],
            "notebooks": notebooks, "reasons": reasons, "seconds": time.perf_counter() - started,
            "sandbox": task["sandbox"], "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def failed_result(task: dict, reason: str) -> dict:
    return {"student": task["student"], "assignment": task["assignment"], "fingerprint": None,
            "notebooks": {}, "reasons": [reason], "seconds": 0.0, "failed": True}


# ------------------------------------------------------------------ runners

def run_local(tasks: list[dict], workers: int, on_result) -> None:
    """Grade on `workers` local processes; a worker that dies is replaced and its submission
    reported as not graded, and the batch goes on."""
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    pending = list(tasks)
    context = multiprocessing.get_context("spawn")  # no forked torch or sqlite state in workers
    while pending:
        with ProcessPoolExecutor(max_workers=max(1, min(workers, len(pending))), mp_context=context,
                                 initializer=_worker_start) as pool:
            futures = {pool.submit(grade_submission, task): task for task in pending}
            pending = []
            broken = False
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    task = futures.pop(future)
                    try:
                        on_result(future.result())
                    except BrokenProcessPool:
                        broken = True
                        pending.append(task)
                    except Exception as error:  # noqa: BLE001 (a bug or a crash in the worker: report, go on)
                        on_result(failed_result(task, f"the grader failed: {type(error).__name__}: {error}"))
                if broken:
                    break
            if broken:  # the pool cannot be used any more: the unfinished tasks go to a new one
                for future, task in futures.items():
                    if not future.done() or future.exception() is not None:
                        pending.append(task)
                    else:
                        on_result(future.result())
                if pending and all(t.get("retried") for t in pending):
                    for task in pending:
                        on_result(failed_result(task, "a grading worker died twice on this submission"))
                    return
                for task in pending:
                    task["retried"] = True


def _worker_start():
    from .judge import die_with_parent

    die_with_parent()  # a killed coordinator takes its workers (and their kernels) with it


def run_dask(tasks: list[dict], address: str, on_result) -> None:
    """Grade on a Dask distributed cluster (its workers must run from the course's root)."""
    from distributed import Client, as_completed

    with Client(address, timeout="30s") as client:
        futures = {client.submit(grade_submission, task, pure=False, key=f"grade-{task['student']}-{i}"): task
                   for i, task in enumerate(tasks)}
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                on_result(future.result())
            except Exception as error:  # noqa: BLE001
                on_result(failed_result(task, f"the grader failed on the cluster: {type(error).__name__}: {error}"))


# ------------------------------------------------------------------ the coordinator's records

def record_in_gradebook(gradebook, result: dict) -> tuple[float, float, int]:
    """Write one submission's scores; returns (score, max_score, answers to grade by hand)."""
    from nbgrader.api import MissingEntry

    import warnings

    assignment, student = result["assignment"], result["student"]
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's add_submission, harmless
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
    submission = gradebook.find_submission(assignment, student)
    manual = sum(1 for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade)
    return submission.score, submission.max_score, manual


def limits_dict(limits: sandbox.Limits) -> dict:
    return asdict(limits)
