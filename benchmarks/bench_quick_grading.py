"""How long grading one solution takes in quick mode, per assignment, against its budget.

Each assignment's issue set a quick-mode budget for grading its solution on a 2-core machine
(nbgrader's or the station's own work and the kernel's start included): 30 s for the first six,
60 s for the heavier later ones. A test cannot assert a wall-clock budget (a shared machine
fails it for nothing), so the figures are printed here. Each solution is graded alone
(`python -m autograde grade A --workers 1`, sandboxed) in a scratch copy of the course; the
time is the one the station records for the submission.

    python benchmarks/bench_quick_grading.py                     # every assignment
    python benchmarks/bench_quick_grading.py 01-perceptron       # some
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench_grading import ROOT, run, scratch_course

BUDGET_SECONDS = {"07-embeddings": 60, "08-representations": 60, "09-gans": 60, "10-adversarial": 60,
                  "11-attention": 60}
DEFAULT_BUDGET_SECONDS = 30


def main():
    known = sorted(p.name for p in (ROOT / "solutions").iterdir() if any(p.glob("*.ipynb")))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment")
    args = parser.parse_args()
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        parser.error(f"unknown assignment(s) {', '.join(unknown)} (known: {', '.join(known)})")
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}")
    print(f"{'assignment':<22} {'graded in':>10} {'budget':>8}   grading time / budget")
    over = []
    for assignment in args.assignments or known:
        with tempfile.TemporaryDirectory(prefix="bench-quick-") as scratch:
            course = scratch_course(Path(scratch), assignment, 1)  # student000: the solution
            run([sys.executable, "-m", "autograde", "grade", assignment, "--workers", "1"], course)
            result = course / "autograde" / "results" / assignment / "student000.json"
            seconds = json.loads(result.read_text())["seconds"]
        budget = BUDGET_SECONDS.get(assignment, DEFAULT_BUDGET_SECONDS)
        if seconds > budget:
            over.append(assignment)
        print(f"{assignment:<22} {seconds:>8.1f} s {budget:>6} s   {seconds / budget:.2f}x", flush=True)
    print(f"\nover budget: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    main()
