"""The instructor's path end to end, in a scratch copy of the course: release (nbgrader),
grade with the grading station (solution: full marks; blank release: zero; an unreadable
notebook or none: zero with the reason; a renamed copy: graded as the notebook it stands
for), resume, feedback, export; and `nbgrader validate --invert` on every released notebook.
tests/test_grading_station.py covers the sandbox and the bad-submission corpus."""

import csv
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT, copy_course, run_autograde
from nbgrader.api import Gradebook

from dlcourse.grading import grade_id

NBGRADER = str(Path(sys.executable).parent / "nbgrader")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_invert_released_notebook_fails_every_test(assignment, tmp_path):
    for notebook in (ROOT / "course" / assignment).glob("*.ipynb"):
        shutil.copy(notebook, tmp_path / notebook.name)
        result = subprocess.run([NBGRADER, "validate", "--invert", notebook.name], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        assert "Success! The notebook does not pass any tests." in result.stdout, (
            f"{notebook.name}: some test cells pass on the blank notebook:\n{result.stdout[-3000:]}")


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """A scratch course with one release and four submissions, graded once."""
    assignment = request.param
    course = copy_course(tmp_path_factory.mktemp(f"grading-{assignment}"))
    released = run_autograde(course, "release", assignment, "--force")  # this one only: 8 s for all ten
    assert released.returncode == 0, released.stdout + released.stderr
    submitted = course / "autograde" / "submitted"
    for student in ("solution", "blank", "unreadable", "no-notebook", "renamed", "mistaken"):
        (submitted / student / assignment).mkdir(parents=True)
    for notebook in (course / "solutions" / assignment).glob("*.ipynb"):
        shutil.copy(notebook, submitted / "solution" / assignment / notebook.name)
        # what a browser names a second download of the same file
        shutil.copy(notebook, submitted / "renamed" / assignment / f"{notebook.stem} (1).ipynb")
        shutil.copy(course / "course" / assignment / notebook.name, submitted / "blank" / assignment)
        text = notebook.read_text()
        (submitted / "unreadable" / assignment / notebook.name).write_text(text[: len(text) // 2])
    (submitted / "no-notebook" / assignment / "answers.txt").write_text("I could not get Jupyter to start\n")
    # every exercise answered with its first known mistake: judged outside the kernel, each
    # must still lose points (in-place changes, gradients and objects cross the boundary)
    mistaken = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in mistaken.cells:
        wrong = first_mistakes(assignment).get(grade_id(cell))
        if wrong is not None:
            cell.source = wrong
    nbformat.write(mistaken, submitted / "mistaken" / assignment / f"{assignment}.ipynb")
    result = run_autograde(course, "grade", assignment)
    return assignment, course, result


def first_mistakes(assignment: str) -> dict[str, str]:
    """{answer cell id: the first known mistake's source} from tests/known_mistakes/."""
    path = ROOT / "tests" / "known_mistakes" / f"{assignment}.py"
    mistakes = runpy.run_path(str(path))["MISTAKES"] if path.exists() else {}
    return {exercise: next(iter(wrong.values())) for exercise, wrong in mistakes.items() if wrong}


def test_known_mistakes_lose_points_when_judged_outside_the_kernel(graded):
    assignment, course, _ = graded
    scores = gradebook_scores(course, assignment, "mistaken")
    kept = {}
    for exercise in first_mistakes(assignment):
        cells = {name: s for name, s in scores.items() if name.startswith(f"{exercise}-")}
        assert cells, f"no test cells found for {exercise}"
        if sum(s[0] or 0 for s in cells.values()) >= sum(s[2] for s in cells.values()):
            kept[exercise] = cells
    assert not kept, f"a known mistake kept every point of its exercise: {kept}"


def gradebook_scores(course: Path, assignment: str, student: str) -> dict[str, tuple]:
    """{cell name: (auto_score, manual_score, max_score, needs_manual_grade)} of one submission."""
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {
            grade.name: (grade.auto_score, grade.manual_score, grade.max_score, grade.needs_manual_grade)
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def test_grade_scores_bad_submissions_zero_with_reasons_and_grades_the_rest(graded):
    assignment, course, result = graded
    assert result.returncode == 0, result.stdout + result.stderr
    lines = grade_rows(result.stdout)
    assert lines["unreadable"].startswith("0 / ") and "not a readable notebook" in lines["unreadable"]
    assert lines["no-notebook"].startswith("0 / ") and "no .ipynb file" in lines["no-notebook"]
    expected = next((ROOT / "solutions" / assignment).glob("*.ipynb")).name
    assert f"graded {expected.removesuffix('.ipynb')} (1).ipynb as {expected}" in lines["renamed"]
    assert lines["renamed"].split("  ")[0] == lines["solution"].split("  ")[0], (
        "the renamed copy scores as the solution")
    assert not (course / "autograde" / "autograded" / "unreadable").exists()


def test_grade_gives_the_solution_every_automatic_point(graded):
    assignment, course, result = graded
    scores = gradebook_scores(course, assignment, "solution")
    automatic = {name: s for name, s in scores.items() if not s[3]}
    manual = {name: s for name, s in scores.items() if s[3]}
    assert len(automatic) >= 10, f"expected the test cells of five exercises, got {sorted(automatic)}"
    lost = {name: s for name, s in automatic.items() if s[0] != s[2]}
    assert not lost, f"the solution loses points on {lost}"
    assert manual, "the written question should wait for a manual grade"
    total = sum(s[2] for s in automatic.values())
    line = grade_rows(result.stdout)["solution"]
    assert f"{total:g} / {sum(s[2] for s in scores.values()):g}" in line


# Each assignment's issue sets its quick-mode budget on a 2-core machine: 30 s for the first
# six, 60 s for the later, heavier ones (embeddings, representations, GANs, adversarial).
QUICK_BUDGET_SECONDS = {"07-embeddings": 60, "08-representations": 60, "09-gans": 60, "10-adversarial": 60}


def test_quick_mode_grading_stays_within_budget(graded):
    """A notebook is graded in quick mode within its issue's budget (this includes
    nbgrader's own work and the kernel's start)."""
    assignment, _, result = graded
    budget = QUICK_BUDGET_SECONDS.get(assignment, 30)
    line = grade_rows(result.stdout)["solution"]
    seconds = float(re.search(r"\[([0-9.]+) s\]", line).group(1))
    print(f"quick-mode grading of the {assignment} solution: {seconds:.1f} s (budget {budget} s)")
    assert seconds < budget, f"grading the solution took {seconds:.1f} s in quick mode (budget {budget} s)"


def test_grade_gives_the_blank_release_zero(graded):
    assignment, course, _ = graded
    scores = gradebook_scores(course, assignment, "blank")
    earned = {name: s for name, s in scores.items() if (s[0] or 0) + (s[1] or 0) > 0}
    assert not earned, f"the blank notebook earns points on {earned}"


def grade_rows(stdout: str) -> dict[str, str]:
    """The per-student table the grade command prints: {student: outcome}."""
    rows = [line.split(maxsplit=1) for line in stdout.splitlines() if line.startswith("  ")]
    return {student: outcome for student, outcome in rows}


def test_grade_resumes_without_grading_twice(graded):
    assignment, course, _ = graded
    rows = grade_rows(run_autograde(course, "grade", assignment).stdout)
    assert all(outcome.startswith("already graded") for outcome in rows.values()), rows


def test_feedback_and_export(graded):
    assignment, course, _ = graded
    feedback = run_autograde(course, "feedback", assignment)
    assert feedback.returncode == 0, feedback.stderr
    for student in ("solution", "blank"):
        pages = list((course / "autograde" / "feedback" / student / assignment).glob("*.html"))
        assert pages, f"no HTML feedback for {student}"
        page = pages[0].read_text()
        score = re.search(r"Score: ([0-9.]+) / ([0-9.]+)", page)
        assert score, f"{student}'s feedback states no score"
        if student == "blank":
            assert float(score.group(1)) == 0.0
        else:
            assert float(score.group(1)) > 0
    target = course / "grades.csv"
    export = run_autograde(course, "export", "--to", str(target))
    assert export.returncode == 0, export.stderr
    rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(target.open())}
    blank, solution = rows[("blank", assignment)], rows[("solution", assignment)]
    assert float(blank["score"]) == 0.0 and blank["status"] == "complete"
    assert float(solution["score"]) > 0 and "by hand" in solution["status"]
    assert solution["max_score"] == blank["max_score"]
    others = [row for (student, name), row in rows.items() if name != assignment]
    assert all(row["status"] == "missing" and float(row["score"]) == 0.0 for row in others)


def test_grade_without_submissions_says_so(tmp_path):
    course = copy_course(tmp_path)
    result = run_autograde(course, "grade", ASSIGNMENTS[0])
    assert result.returncode == 2
    assert "no submissions to grade" in result.stderr and "does not exist" in result.stderr
    (course / "autograde" / "submitted").mkdir()
    result = run_autograde(course, "grade", ASSIGNMENTS[0])
    assert result.returncode == 2 and "none found" in result.stderr


def test_grade_on_a_fresh_clone_records_the_assignment_and_retries_a_killed_run(tmp_path):
    """A fresh clone has course/ but no gradebook (it is not committed): grade records the
    assignment from solutions/ itself. An autograded folder left by a killed run (no marker)
    does not count as graded."""
    assignment = ASSIGNMENTS[0]
    course = copy_course(tmp_path)
    for notebook in (course / "solutions" / assignment).glob("*.ipynb"):
        (course / "autograde" / "submitted" / "ada" / assignment).mkdir(parents=True)
        shutil.copy(notebook, course / "autograde" / "submitted" / "ada" / assignment / notebook.name)
    (course / "autograde" / "autograded" / "ada" / assignment).mkdir(parents=True)
    released_before = {p: p.read_bytes() for p in (course / "course").rglob("*") if p.is_file()}
    result = run_autograde(course, "grade", assignment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recorded it from solutions/" in result.stdout
    assert not grade_rows(result.stdout)["ada"].startswith("already graded")
    scores = gradebook_scores(course, assignment, "ada")
    assert all(s[0] == s[2] for s in scores.values() if not s[3]), scores
    after = {p: p.read_bytes() for p in (course / "course").rglob("*") if p.is_file()}
    assert after == released_before, "grading must not touch course/"
    # a resubmission (the notebook changed) is graded again without --force
    rows = grade_rows(run_autograde(course, "grade", assignment).stdout)
    assert rows["ada"].startswith("already graded")
    for notebook in (course / "autograde" / "submitted" / "ada" / assignment).glob("*.ipynb"):
        notebook.write_text(notebook.read_text().replace("\n", "\n ", 1))
    rows = grade_rows(run_autograde(course, "grade", assignment).stdout)
    assert not rows["ada"].startswith("already graded")
