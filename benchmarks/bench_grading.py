"""The grading station against stock `nbgrader autograde`, on one batch of submissions.

A scratch copy of the course gets N submissions of one assignment (solutions and untouched
releases, alternating). The same batch is graded four times, each in a fresh copy:
  stock       `nbgrader autograde ASSIGNMENT`: one submission after another, tests in the kernel
  station w1  `python -m autograde grade ASSIGNMENT --workers 1` (sandboxed)
  station w2  `python -m autograde grade ASSIGNMENT --workers 2` (sandboxed)
  no sandbox  `python -m autograde grade ASSIGNMENT --workers 2 --no-sandbox`
and every score is checked against stock nbgrader's before any time is printed.
Throughput ratios are taken within this one run, on this machine; the sandbox's overhead per
submission is (w2 - no sandbox) x workers / N.

    python benchmarks/bench_grading.py                      # 40 submissions of 03-backprop
    python benchmarks/bench_grading.py --submissions 4      # a quick look
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKING = ("submitted", "autograded", "feedback", "exports", "gradebook.db", "results", "logs", "collected")


def scratch_course(target: Path, assignment: str, submissions: int) -> Path:
    for name in ("solutions", "course"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", target / "nbgrader_config.py")  # for stock nbgrader
    shutil.copytree(ROOT / "autograde", target / "autograde", ignore=shutil.ignore_patterns("__pycache__", *WORKING))
    for index in range(submissions):
        folder = target / "autograde" / "submitted" / f"student{index:03d}" / assignment
        folder.mkdir(parents=True)
        kind = "solutions" if index % 2 == 0 else "course"
        for notebook in (ROOT / kind / assignment).glob("*.ipynb"):
            shutil.copy(notebook, folder / notebook.name)
    return target


def run(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def scores(course: Path, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(assignment)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="03-backprop")
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args()
    if args.submissions < 2:
        parser.error("--submissions must be at least 2")
    if not (ROOT / "solutions" / args.assignment).is_dir():
        parser.error(f"unknown assignment {args.assignment}")
    python = sys.executable
    nbgrader = str(Path(python).parent / "nbgrader")
    env_note = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}, {env_note}")
    print(f"batch: {args.submissions} submissions of {args.assignment} (half solutions, half blank releases)\n")

    timings, graded = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        runs = {
            "stock nbgrader autograde": lambda c: [nbgrader, "autograde", args.assignment, "--force"],
            "station --workers 1": lambda c: [python, "-m", "autograde", "grade", args.assignment, "--workers", "1"],
            "station --workers 2": lambda c: [python, "-m", "autograde", "grade", args.assignment, "--workers", "2"],
            "station --workers 2 --no-sandbox": lambda c: [python, "-m", "autograde", "grade", args.assignment,
                                                           "--workers", "2", "--no-sandbox"],
        }
        for label, command in runs.items():
            course = scratch_course(Path(scratch) / label.replace(" ", "_"), args.assignment, args.submissions)
            # the gradebook must know the assignment first: a release records it (not timed)
            run([python, "-m", "autograde", "release", args.assignment, "--force"], course)
            timings[label] = run(command(course), course)
            graded[label] = scores(course, args.assignment)
            rate = args.submissions / timings[label] * 60
            print(f"  {label:<34} {timings[label]:7.1f} s   {rate:6.1f} submissions/min", flush=True)

    reference = graded["stock nbgrader autograde"]
    for label, found in graded.items():
        differ = {s: (reference.get(s), found.get(s)) for s in reference if reference.get(s) != found.get(s)}
        if differ:
            sys.exit(f"{label} disagrees with stock nbgrader on {len(differ)} submission(s): {differ}")
    print(f"\nscores: all four agree on every submission ({sorted(set(reference.values()))})")
    stock = timings["stock nbgrader autograde"]
    print(f"throughput: station w2 / stock      = {stock / timings['station --workers 2']:.2f}x")
    print(f"throughput: station w1 / stock      = {stock / timings['station --workers 1']:.2f}x")
    overhead = (timings["station --workers 2"] - timings["station --workers 2 --no-sandbox"]) * 2 / args.submissions
    print(f"sandbox overhead per submission     = {overhead:+.2f} s "
          f"({timings['station --workers 2'] / timings['station --workers 2 --no-sandbox']:.2f}x the unsandboxed time)")


if __name__ == "__main__":
    main()
