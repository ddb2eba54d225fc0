"""The grading station against stock `nbgrader autograde`, assignment by assignment.

For each assignment a scratch copy of the course gets N submissions (solutions and untouched
releases, alternating), and the same batch is graded twice, each in a fresh copy:
  stock       `nbgrader autograde ASSIGNMENT`: one submission after another, tests in the kernel
  station     `python -m autograde grade ASSIGNMENT --workers 2 --profile` (sandboxed)
Every score is checked against stock nbgrader's before any time is printed; the table gives
both times and the station's throughput against stock's, measured within this one run on this
machine. Where the station is under 3x, the rows below the table say where its time went: the
profile of its solutions and of its blank submissions (`grade --profile`), averaged.

`--variants` adds, for the same batch, the station with one worker and the station without the
sandbox: the sandbox's overhead per submission is (w2 - no sandbox) x workers / N.

    python benchmarks/bench_grading.py                              # all assignments, 20 each
    python benchmarks/bench_grading.py 01-perceptron 03-backprop    # some
    python benchmarks/bench_grading.py 03-backprop --submissions 4 --variants
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


def profile_summary(course: Path, assignment: str, students: list[str]) -> dict[str, tuple[float, int]]:
    """The station's profile of these submissions, averaged: {step group: (seconds, calls into
    the kernel)}, the groups of station.profile_report, plus the worker's time they leave out."""
    import json

    totals: dict[str, list[float]] = {}
    for student in students:
        result = json.loads((course / "autograde" / "results" / assignment / f"{student}.json").read_text())
        accounted = 0.0
        for notebook in result["notebooks"].values():
            for step in notebook.get("profile", []):
                kind = "student cells" if step["step"].startswith("cell ") else \
                    "tests" if step["step"].startswith("test ") else step["step"]
                seconds_calls = totals.setdefault(kind, [0.0, 0])
                seconds_calls[0] += step["seconds"]
                seconds_calls[1] += step["calls"]
                accounted += step["seconds"]
        totals.setdefault("elsewhere in the worker", [0.0, 0])[0] += result["seconds"] - accounted
        totals.setdefault("the whole submission", [0.0, 0])[0] += result["seconds"]
    return {kind: (seconds / len(students), round(calls / len(students))) for kind, (seconds, calls) in totals.items()}


def measure(assignment: str, submissions: int, scratch: Path, variants: bool) -> tuple[dict, dict, dict]:
    """Times and scores of the runs on one batch, and the station's profile by kind of submission."""
    python = sys.executable
    nbgrader = str(Path(python).parent / "nbgrader")
    station = [python, "-m", "autograde", "grade", assignment]
    runs = {"stock": [nbgrader, "autograde", assignment, "--force"],
            "station w2": [*station, "--workers", "2", "--profile"]}
    if variants:
        runs |= {"station w1": [*station, "--workers", "1"],
                 "station w2 no sandbox": [*station, "--workers", "2", "--no-sandbox"]}
    timings, graded, profiles = {}, {}, {}
    for label, command in runs.items():
        course = scratch_course(scratch / assignment / label.replace(" ", "_"), assignment, submissions)
        # the gradebook must know the assignment first: a release records it (not timed)
        run([python, "-m", "autograde", "release", assignment, "--force"], course)
        timings[label] = run(command, course)
        graded[label] = scores(course, assignment)
        if label == "station w2":
            students = sorted(graded[label])
            profiles = {kind: profile_summary(course, assignment, students[start::2])
                        for kind, start in (("solution", 0), ("blank", 1))}
        shutil.rmtree(course)  # twenty submissions of ten assignments would fill a small disk
    reference = graded["stock"]
    for label, found in graded.items():
        differ = {s: (reference.get(s), found.get(s)) for s in reference if reference.get(s) != found.get(s)}
        if differ:
            sys.exit(f"{assignment}: {label} disagrees with stock nbgrader on {len(differ)} submission(s): {differ}")
    return timings, reference, profiles


def main():
    known = sorted(p.name for p in (ROOT / "solutions").iterdir() if any(p.glob("*.ipynb")))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment")
    parser.add_argument("--submissions", type=int, default=20, help="per assignment, half solutions, half blank")
    parser.add_argument("--variants", action="store_true",
                        help="also the station with one worker and without the sandbox")
    args = parser.parse_args()
    if args.submissions < 2:
        parser.error("--submissions must be at least 2")
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        parser.error(f"unknown assignment(s) {', '.join(unknown)} (known: {', '.join(known)})")
    env_note = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}, {env_note}")
    print(f"batch: {args.submissions} submissions per assignment (half solutions, half blank releases), "
          f"quick mode; station: 2 workers, sandboxed\n")
    print(f"{'assignment':<28} {'stock':>9} {'station':>9} {'station / stock':>16}   scores")
    rows, slow = [], []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        for assignment in args.assignments or known:
            started = time.perf_counter()
            timings, reference, profiles = measure(assignment, args.submissions, Path(scratch), args.variants)
            ratio = timings["stock"] / timings["station w2"]
            rows.append((assignment, timings, ratio))
            if ratio < 3:
                slow.append((assignment, profiles))
            print(f"{assignment:<28} {timings['stock']:7.1f} s {timings['station w2']:7.1f} s {ratio:15.2f}x   "
                  f"agree ({len(reference)} submissions, {min(reference.values()):g} to {max(reference.values()):g}"
                  f" points)", flush=True)
            if args.variants:
                overhead = (timings["station w2"] - timings["station w2 no sandbox"]) * 2 / args.submissions
                print(f"{'':<28} station w1 {timings['station w1']:.1f} s "
                      f"({timings['stock'] / timings['station w1']:.2f}x), w2 without the sandbox "
                      f"{timings['station w2 no sandbox']:.1f} s; sandbox overhead per submission = {overhead:+.2f} s",
                      flush=True)
            print(f"{'':<28} (measured in {time.perf_counter() - started:.0f} s)", flush=True)
    print("\nscores: stock nbgrader and the station agree on every submission of every assignment")
    total_stock, total_station = sum(t["stock"] for _, t, _ in rows), sum(t["station w2"] for _, t, _ in rows)
    print(f"throughput over all of them: station / stock = {total_stock / total_station:.2f}x")
    print(f"at least 3x: {', '.join(a for a, _, r in rows if r >= 3) or 'none'}")
    print(f"under 3x: {', '.join(a for a, _, r in rows if r < 3) or 'none'}")
    for assignment, profiles in slow:
        print(f"\nwhere the station's time went on {assignment} (per submission, in one worker):")
        for kind, summary in profiles.items():
            parts = [f"{step} {seconds:.2f} s" + (f" ({calls} calls)" if calls else "")
                     for step, (seconds, calls) in sorted(summary.items(), key=lambda item: -item[1][0])]
            print(f"  {kind:<9} " + "; ".join(parts))


if __name__ == "__main__":
    main()
