"""The station's local workers: a worker that dies, or spends longer than a submission's budget,
costs only the submission it held (tests/station_faults.py stands in for the grader)."""

import sys
from pathlib import Path

from conftest import ROOT

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
import station_faults  # noqa: E402

from autograde import station  # noqa: E402


def submission(student: str) -> station.Submission:
    return station.Submission(student=student, assignment="00-station", folder=Path("."), source=Path("."),
                              released=Path("."), mapping={"00-station.ipynb": "00-station.ipynb"}, notes=[],
                              fingerprint="f")


def test_a_dying_worker_costs_only_its_own_submission():
    students = ["s0", "crash", "s1", "s2", "hang", "s3", "s4", "s5"]
    results = []
    station.run_local([submission(s) for s in students], 2, results.append, grade=station_faults.grade_or_die,
                      budget=lambda task: 3.0)
    by_student = {r["student"]: r for r in results}
    assert sorted(by_student) == sorted(students) and len(results) == len(students), "each recorded once"
    assert by_student["crash"].get("failed") and "died on this submission, twice" in by_student["crash"]["reasons"][0]
    assert by_student["hang"].get("failed") and "took more than 3 s" in by_student["hang"]["reasons"][0]
    innocent = [s for s in students if s not in ("crash", "hang")]
    assert all(not by_student[s].get("failed") for s in innocent), [by_student[s] for s in innocent]
    assert len({by_student[s]["worker"] for s in innocent}) >= 2, "the workers were replaced, the batch went on"
