"""Soak: the grading station killed and resumed, against one uninterrupted run.

A scratch course gets N submissions of the station corpus's assignment (00-station,
tests/station_corpus.py): its cases in turn, correct, blank, mistaken and hostile, each handed
in under its own student name. The batch is graded twice, each in its own copy of the course:
  reference   `python -m autograde grade 00-station --workers 2`, once, to the end
  soak        the same, its coordinator killed with SIGKILL at K random moments (seeded) and the
              command run again after each kill, until a run ends by itself
Then the two are compared: every gradebook score, every results file (less what differs from
run to run: when, how long, which uid and worker, and the kernel's scratch folder where a
student's output prints it) and every feedback page must be equal; the logs must show
no submission recorded twice; and no control group or process of a sandbox may be left.

    python benchmarks/soak_grading.py                                # 200 submissions, 3 kills
    python benchmarks/soak_grading.py --submissions 12 --kills 1 --no-slow   # what CI runs
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import station_corpus as corpus  # noqa: E402

from autograde import sandbox  # noqa: E402

WORKERS = 2
WORKING = ("submitted", "autograded", "feedback", "exports", "gradebook.db", "results", "logs", "collected")
# what differs between two gradings of the same submission, by design
VOLATILE = {"seconds", "graded_at", "sandbox_uid", "memory_mb", "worker"}
SLOW = {"slow-cell", "slow-function", "ignores-sigint"}  # each waits for a time limit


def scratch_course(target: Path) -> Path:
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "autograde", target / "autograde", ignore=shutil.ignore_patterns("__pycache__", *WORKING))
    corpus.install_assignment(target)
    released = grade_command(target, "release", corpus.ASSIGNMENT, "--force")
    if released.returncode != 0:
        sys.exit(f"release failed:\n{released.stdout}\n{released.stderr}")
    return target


def grade_command(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograde", *args], cwd=course, capture_output=True, text=True)


def write_batch(course: Path, submissions: int, slow: bool) -> dict[str, str]:
    """{student: corpus case}: the cases in turn, each under a new name."""
    cases = [case for case in corpus.CASES if slow or case.student not in SLOW]
    context = context_for(course)
    students = {}
    for index in range(submissions):
        case = cases[index % len(cases)]
        student = f"s{index:03d}-{case.student}"
        corpus.write_case(course, context, case, student)
        students[student] = case.student
    return students


def context_for(course: Path) -> dict:
    """What the corpus's cases need to know of their course (the first student hands in the solution)."""
    assert corpus.CASES[0].student == "good"
    return {"port": 9, "gradebook": course / "autograde" / "gradebook.db",
            "good_notebook": course / "autograde" / "submitted" / "s000-good" / corpus.ASSIGNMENT / corpus.NOTEBOOK,
            "solution": course / "solutions" / corpus.ASSIGNMENT / corpus.NOTEBOOK}


def grade_to_the_end(course: Path) -> float:
    started = time.perf_counter()
    result = grade_command(course, "grade", corpus.ASSIGNMENT, "--workers", str(WORKERS))
    if result.returncode != 0 or "NOT GRADED" in result.stdout:
        sys.exit(f"the reference run failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def soak(course: Path, kills: int, submissions: int, seed: int) -> tuple[float, list[str]]:
    """Grade, killing the coordinator at ``kills`` moments, then once more to the end; returns the
    wall time and what each run did. The moments are points in the work, not in time (the load
    of the machine changes how long it takes): when a seeded random share of the submissions has
    a results file, then a random moment within the mean time between results so far (at most
    3 s), so that the kill lands mid-submission with more still to grade (a fixed 0-3 s let a
    small batch finish before its kill)."""
    rng = random.Random(seed)
    targets = sorted(rng.randint(max(1, submissions // 10), max(1, submissions * 9 // 10)) for _ in range(kills))
    folder = course / "autograde" / "results" / corpus.ASSIGNMENT
    output = course / "autograde" / "soak-output.txt"  # a file, not a pipe: no run ever waits on its reader
    started, runs = time.perf_counter(), []
    for target in [*targets, None]:
        run_started = time.perf_counter()
        with open(output, "w") as handle:
            process = subprocess.Popen([sys.executable, "-m", "autograde", "grade", corpus.ASSIGNMENT,
                                        "--workers", str(WORKERS)], cwd=course, stdout=handle,
                                       stderr=subprocess.STDOUT, text=True)
            while target is not None and process.poll() is None and len(list(folder.glob("*.json"))) < target:
                time.sleep(0.2)
            if target is not None and process.poll() is None:
                done = len(list(folder.glob("*.json")))
                time.sleep(rng.uniform(0, min(3.0, (time.perf_counter() - run_started) / max(1, done))))
                process.send_signal(signal.SIGKILL)  # the coordinator alone: its workers must follow it
                process.wait()
                runs.append(f"run {len(runs) + 1}: coordinator killed (SIGKILL) after "
                            f"{time.perf_counter() - run_started:.1f} s, {len(list(folder.glob('*.json')))} "
                            f"of {submissions} graded")
                continue
            process.wait()
        text = output.read_text()
        if process.returncode != 0:
            sys.exit(f"a run failed:\n{text[-3000:]}")
        runs.append(f"run {len(runs) + 1}: ran to the end ({len(already_graded(text))} already graded)")
        if target is None:
            break
    return time.perf_counter() - started, runs


def already_graded(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines() if "already graded" in line]


def gradebook_scores(course: Path) -> dict:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(corpus.ASSIGNMENT):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[(submission.student.id, notebook.name, grade.name)] = (
                        grade.auto_score, grade.manual_score, grade.needs_manual_grade)
    return scores


def results(course: Path) -> dict:
    def steady(value):
        if isinstance(value, str):
            return steady_text(value)
        if isinstance(value, dict):
            return {k: steady(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [steady(v) for v in value]
        return value

    folder = course / "autograde" / "results" / corpus.ASSIGNMENT
    return {path.stem: steady(json.loads(path.read_text())) for path in sorted(folder.glob("*.json"))}


def steady_text(text: str) -> str:
    """A page less what differs by design: a submission's time, and the kernel's scratch folder
    (random per grading) where a student's own output prints it."""
    text = re.sub(r"\d+\.\d+ s\b", "N s", text)
    return re.sub(r"/tmp/dlcourse-grade-\d+-[\w]+", "/tmp/dlcourse-grade-SCRATCH", text)


def feedback(course: Path) -> dict:
    made = grade_command(course, "feedback", corpus.ASSIGNMENT)
    if made.returncode != 0:
        sys.exit(f"feedback failed:\n{made.stdout}\n{made.stderr}")
    folder = course / "autograde" / "feedback"
    return {str(path.relative_to(folder)): steady_text(path.read_text()) for path in sorted(folder.rglob("*.html"))}


def recorded_lines(course: Path, students: dict) -> Counter:
    """How often the log records each student as graded (a score or NOT GRADED)."""
    log = (course / "autograde" / "logs" / f"grade-{corpus.ASSIGNMENT}.log").read_text()
    counts = Counter()
    for line in log.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[2] in students and (re.fullmatch(r"[\d.]+/[\d.]+", parts[3])
                                                       or parts[3] == "NOT"):
            counts[parts[2]] += 1
    return counts


def differences(reference: Path, soaked: Path) -> list[str]:
    found = []
    for what, read in (("gradebook", gradebook_scores), ("results", results), ("feedback", feedback)):
        mine, theirs = read(soaked), read(reference)
        for key in sorted(set(mine) | set(theirs), key=str):
            if mine.get(key) != theirs.get(key):
                found.append(f"{what} {key}: {first_difference(theirs.get(key), mine.get(key))}")
    return found


def first_difference(uninterrupted, resumed, where: str = "") -> str:
    if isinstance(uninterrupted, dict) and isinstance(resumed, dict):  # the first differing entry
        key = next(k for k in sorted(set(uninterrupted) | set(resumed)) if uninterrupted.get(k) != resumed.get(k))
        return first_difference(uninterrupted.get(key), resumed.get(key), f"{where}[{key!r}]")
    if where:
        where += ": "
    if isinstance(uninterrupted, str) and isinstance(resumed, str):  # a page: its first differing line
        pairs = zip(uninterrupted.splitlines(), resumed.splitlines())
        uninterrupted, resumed = next(((a, b) for a, b in pairs if a != b), (uninterrupted[-100:], resumed[-100:]))
    return f"{where}{str(uninterrupted)[:200]!r} (uninterrupted) != {str(resumed)[:200]!r} (killed and resumed)"


def leftovers(settle_seconds: float = 15) -> list[str]:
    deadline = time.monotonic() + settle_seconds
    while True:
        left = sandbox.orphans()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--no-slow", action="store_true", help=f"leave out the cases that wait for a time limit "
                                                               f"({', '.join(sorted(SLOW))})")
    args = parser.parse_args()
    problem = sandbox.unavailable_reason()
    if problem:
        sys.exit(f"no sandbox on this machine: {problem}")
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        scratch = Path(scratch)
        # both gradings at the same path (some cases name paths of their course: a link to its
        # solution, its gradebook, another student's notebook): the reference is moved aside after
        course = scratch_course(scratch / "course")
        students = write_batch(course, args.submissions, slow=not args.no_slow)
        shutil.copytree(course, scratch / "ungraded", symlinks=True)

        print(f"{len(students)} submissions of {corpus.ASSIGNMENT} ({len(set(students.values()))} corpus cases), "
              f"{WORKERS} workers, {args.kills} kill(s), seed {args.seed}, on {os.cpu_count()} cores")
        uninterrupted = grade_to_the_end(course)
        print(f"uninterrupted run          {uninterrupted:7.1f} s")
        reference, soaked = course.rename(scratch / "reference"), (scratch / "ungraded").rename(course)
        wall, runs = soak(soaked, args.kills, len(students), args.seed)
        print(f"killed and resumed runs    {wall:7.1f} s in all")
        for line in runs:
            print(f"  {line}")
        made = sum("killed" in line for line in runs)
        print(f"kills: {made} of {args.kills}" + (" (a run ended before its moment came)" if made < args.kills else ""))
        found = differences(reference, soaked)
        recorded = recorded_lines(soaked, students)
        twice = sorted(s for s, n in recorded.items() if n > 1)
        missing = sorted(set(students) - set(recorded))
        left = leftovers()
        print(f"graded: {len(results(soaked))} of {len(students)} submissions have a results file")
        print(f"differences from the uninterrupted run: {len(found) or 'none'}")
        for line in found[:20]:
            print(f"  {line}")
        print(f"recorded twice in the log: {', '.join(twice) or 'none'}; "
              f"never recorded: {', '.join(missing) or 'none'}")
        print(f"left behind by sandboxes: {'; '.join(left) or 'nothing'}")
        ok = (not found and not twice and not missing and not left and len(results(soaked)) == len(students)
              and made > 0)
        print("soak: passed" if ok else "soak: FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
