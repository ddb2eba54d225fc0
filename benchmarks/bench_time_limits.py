"""Time limits that fit the work, against one flat limit, on the station corpus.

The corpus's submissions (tests/station_corpus.py: correct, blank, mistaken and hostile, four
of them stopped only by a time limit) are graded twice with 2 workers, each in its own copy of
a scratch course:
  fitted   each cell's limit fitted to the reference run recorded in solutions/ (50 times the
           reference cell's time, at least 20 s: dlcourse.grading.TimeLimits)
  flat     the same course with the reference run's timings removed: every cell gets the cap
           (300 s), what every cell had before the limits were fitted
Every score must agree before any time is printed (the slow cases lose the same points both
ways); then the two wall times and their ratio.

    python benchmarks/bench_time_limits.py          # about 10 minutes on 2 cores
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

import station_corpus as corpus  # noqa: E402
from soak_grading import WORKERS, context_for, grade_command, scratch_course  # noqa: E402


def forget_reference_run(course: Path) -> None:
    """solutions/ without the recorded cell timings: every cell's limit is then the cap."""
    path = course / "solutions" / corpus.ASSIGNMENT / corpus.NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)


def graded(course: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    result = grade_command(course, "grade", corpus.ASSIGNMENT, "--workers", str(WORKERS))
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "NOT GRADED" in result.stdout:
        sys.exit(f"grading failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    import json

    folder = course / "autograde" / "results" / corpus.ASSIGNMENT
    return seconds, {p.stem: json.loads(p.read_text())["score"] for p in folder.glob("*.json")}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as scratch:
        scratch = Path(scratch)
        times, scores = {}, {}
        for kind in ("fitted", "flat"):
            course = scratch_course(scratch / kind)
            if kind == "flat":
                forget_reference_run(course)
            context = context_for(course) | {
                "good_notebook": course / "autograde" / "submitted" / "good" / corpus.ASSIGNMENT / corpus.NOTEBOOK}
            corpus.write_submissions(course, context)
            times[kind], scores[kind] = graded(course)
        if scores["fitted"] != scores["flat"]:
            differ = {s: (scores["fitted"].get(s), scores["flat"].get(s)) for s in scores["fitted"]
                      if scores["fitted"].get(s) != scores["flat"].get(s)}
            sys.exit(f"scores differ (fitted, flat): {differ}")
        print(f"{len(scores['fitted'])} submissions of the station corpus, {WORKERS} workers; "
              "scores: both agree on every submission")
        print(f"fitted limits   {times['fitted']:7.1f} s")
        print(f"flat 300 s      {times['flat']:7.1f} s")
        print(f"flat / fitted   = {times['flat'] / times['fitted']:.1f}x")
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
