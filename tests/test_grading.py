"""The instructor's path end to end, read from the shared grading batch (tests/grading_batch.py:
every assignment's submissions graded in one run of the station, on a scratch copy of the
course as a fresh clone holds it): the solution gets full marks, the blank release zero, an
unreadable notebook or none zero with the reason, a renamed copy is graded as the notebook it
stands for, the known mistakes lose points; then resume, feedback and export.
tests/test_grading_station.py covers the sandbox and the bad-submission corpus, from the same
batch; tests/test_release.py runs `nbgrader validate --invert` on every released notebook."""

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import station_corpus as corpus
from conftest import ASSIGNMENTS, ROOT, copy_course, run_autograde
from grading_batch import RENAMED_IN, WORKERS, copy_of, first_mistakes
from grading_batch import grade_rows as batch_rows
from nbgrader.api import Gradebook

from dlcourse.grading import failure_message, notebook_for


@pytest.fixture(params=ASSIGNMENTS)
def graded(request, grading_batch):
    """One assignment's part of the shared grading batch (tests/grading_batch.py)."""
    return request.param, grading_batch.course, grading_batch.rows.get(request.param, {})


def missing_line(stderr: str) -> str:
    """The line grade writes about submissions without a notebook ("" when none)."""
    return next((line for line in stderr.splitlines() if "submission(s) missing a notebook" in line), "")


def test_the_batch_grades_every_assignment_in_one_run(grading_batch):
    result = grading_batch.result
    # every assignment's no-notebook student lacks its notebook: graded, but exit status 1
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "not graded" not in result.stderr and "NOT GRADED" not in result.stdout, result.stderr[-3000:]
    named = missing_line(result.stderr)
    assert named.startswith(f"{len(ASSIGNMENTS)} submission(s) missing a notebook"), result.stderr[-3000:]
    for assignment in ASSIGNMENTS:
        assert f"{assignment}/no-notebook ({assignment}.ipynb)" in named, named
    assert grading_batch.assignments == ASSIGNMENTS, "a full run grades every assignment"
    assert set(grading_batch.rows) == {*ASSIGNMENTS, corpus.ASSIGNMENT}, sorted(grading_batch.rows)
    # a fresh clone has no gradebook: grade records each assignment from solutions/ itself
    for assignment in ASSIGNMENTS:
        assert f"{assignment} was not in the gradebook: recorded it from solutions/" in result.stdout, assignment
    assert grading_batch.context["course_changed"] == [], "grading must not touch course/"
    for assignment in ASSIGNMENTS:
        log = (grading_batch.course / "autograde" / "logs" / f"grade-{assignment}.log").read_text()
        assert f"of {assignment}, {WORKERS} worker(s), sandbox" in log and "solution " in log, log


def test_the_profile_says_where_each_submissions_time_went(graded, grading_batch):
    """`grade --profile` prints each submission's steps, and its results file keeps them: one
    entry per student cell and per test (with its calls into the kernel), the kernel's start,
    and no more time than the worker spent."""
    assignment, course, _ = graded
    result = json.loads((course / "autograde" / "results" / assignment / "solution.json").read_text())
    profile = result["notebooks"][f"{assignment}.ipynb"]["profile"]
    steps = [step["step"] for step in profile]
    tests = list(result["notebooks"][f"{assignment}.ipynb"]["cells"])
    assert {"kernel start", "graded notebook"} <= set(steps) and {f"test {t}" for t in tests} <= set(steps), steps
    assert any(step.startswith("cell ") for step in steps)
    assert sum(step["seconds"] for step in profile) <= result["seconds"] + 0.01
    assert sum(step["calls"] for step in profile) > 0 and all(step["bytes"] >= 0 for step in profile)
    stdout = grading_batch.result.stdout
    assert f"{assignment}/solution: " in stdout and "in the worker" in stdout, stdout[-2000:]


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
    assignment, course, rows = graded
    assert rows["unreadable"].startswith("0 / ") and "not a readable notebook" in rows["unreadable"]
    assert rows["no-notebook"].startswith("0 / ") and "no .ipynb file" in rows["no-notebook"]
    # what is missing is named; a missing or unreadable notebook leaves nothing to grade by hand
    assert f", missing {assignment}.ipynb  [" in rows["no-notebook"], rows["no-notebook"]
    for student in ("no-notebook", "unreadable"):
        assert "by hand" not in rows[student], rows[student]
        assert not any(s[3] for s in gradebook_scores(course, assignment, student).values()), student
    assert not (course / "autograde" / "autograded" / "unreadable").exists()
    expected = sorted(p.name for p in (ROOT / "solutions" / assignment).glob("*.ipynb"))
    for name in expected:  # a second download's name stands for the notebook, in every assignment
        renamed = f"{name.removesuffix('.ipynb')} (1).ipynb"
        assert notebook_for(renamed, expected) == name
    if assignment == RENAMED_IN:
        expected_name = expected[0]
        assert f"graded {expected_name.removesuffix('.ipynb')} (1).ipynb as {expected_name}" in rows["renamed"]
        assert rows["renamed"].split("  ")[0] == rows["solution"].split("  ")[0], (
            "the renamed copy scores as the solution")


def test_grade_gives_the_solution_every_automatic_point(graded):
    assignment, course, rows = graded
    scores = gradebook_scores(course, assignment, "solution")
    automatic = {name: s for name, s in scores.items() if not s[3]}
    manual = {name: s for name, s in scores.items() if s[3]}
    assert len(automatic) >= 10, f"expected the test cells of five exercises, got {sorted(automatic)}"
    lost = {name: s for name, s in automatic.items() if s[0] != s[2]}
    assert not lost, f"the solution loses points on {lost}"
    assert manual, "the written question should wait for a manual grade"
    total = sum(s[2] for s in automatic.values())
    # the graded notebook a killed run left (no results file) did not count as graded
    assert not rows["solution"].startswith("already graded")
    assert f"{total:g} / {sum(s[2] for s in scores.values()):g}" in rows["solution"]


def test_grade_gives_the_blank_release_zero(graded):
    assignment, course, _ = graded
    scores = gradebook_scores(course, assignment, "blank")
    earned = {name: s for name, s in scores.items() if (s[0] or 0) + (s[1] or 0) > 0}
    assert not earned, f"the blank notebook earns points on {earned}"


def test_an_unwritten_answer_is_not_called_a_hidden_check(graded):
    """The blank release's checks fail on the answers' stubs (a NotImplementedError without a
    message): the results, and so the report and the feedback, say that the answer is not
    written yet, not that a hidden check failed (the grading model's failure_message)."""
    assignment, course, _ = graded
    result = json.loads((course / "autograde" / "results" / assignment / "blank.json").read_text())
    messages = {gid: cell["message"] for notebook in result["notebooks"].values()
                for gid, cell in notebook["cells"].items()}
    stub = failure_message("NotImplementedError")
    visible = {gid: m for gid, m in messages.items() if gid.endswith("-test-visible")}
    assert visible and all(m == stub or not m.startswith("NotImplementedError") for m in visible.values()), visible
    assert stub in visible.values(), visible
    assert not any("hidden check failed" in m for m in visible.values()), visible


def grade_rows(stdout: str) -> dict[str, str]:
    """The per-student table the grade command prints for one assignment: {student: outcome}."""
    tables = batch_rows(stdout)
    assert len(tables) == 1, f"expected one assignment's table: {sorted(tables)}"
    return next(iter(tables.values()))


@pytest.fixture(scope="module")
def resumed(grading_batch, tmp_path_factory):
    """A copy of the graded batch, graded again as it is (every assignment), then again after
    one resubmission (the first graded assignment's blank notebook changed): the two runs' tables."""
    course = copy_of(grading_batch, tmp_path_factory.mktemp("resumed") / "course")
    again = run_autograde(course, "grade", *grading_batch.rows, timeout=600)
    # graded before, still without a notebook: said again, and the exit status is still 1
    assert again.returncode == 1, again.stdout[-3000:] + again.stderr[-3000:]
    assert "not graded" not in again.stderr, again.stderr[-3000:]
    for assignment in grading_batch.assignments:
        assert f"{assignment}/no-notebook ({assignment}.ipynb)" in missing_line(again.stderr), again.stderr[-3000:]
    first = grading_batch.assignments[0]
    for notebook in (course / "autograde" / "submitted" / "blank" / first).glob("*.ipynb"):
        notebook.write_text(notebook.read_text().replace("\n", "\n ", 1))
    resubmitted = run_autograde(course, "grade", first)
    return batch_rows(again.stdout), grade_rows(resubmitted.stdout)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_resumes_without_grading_twice(resumed, assignment):
    rows = resumed[0][assignment]
    assert rows and all(outcome.startswith("already graded") for outcome in rows.values()), rows
    assert rows["no-notebook"].endswith(f", missing {assignment}.ipynb"), rows["no-notebook"]


def test_a_resubmission_is_graded_again_and_only_it(resumed):
    rows = resumed[1]
    assert rows["blank"].startswith("0 / "), rows
    assert sum(not o.startswith("already graded") for o in rows.values()) == 1, rows


def waiting_for_hand(course: Path, assignment: str | None = None) -> int:
    """How many answers in the batch's gradebook (of ``assignment``, or all) wait for a grade by hand."""
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        return sum(1 for a in gradebook.assignments if assignment in (None, a.name) for s in a.submissions
                   for notebook in s.notebooks for grade in notebook.grades if grade.needs_manual_grade)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback(grading_batch, assignment):
    course = grading_batch.course
    feedback = run_autograde(course, "feedback", assignment)
    assert feedback.returncode == 0, feedback.stderr
    # the written answers nobody graded yet: counted on stderr, and "not graded yet" on the page, never a 0
    waiting = waiting_for_hand(course, assignment)
    assert waiting > 0, "the solution's written answers wait for a grade by hand"
    assert (f"{waiting} answers still need grading by hand" if waiting > 1 else
            "1 answer still needs grading by hand") in feedback.stderr, feedback.stderr[-3000:]
    written = [grade for grade, s in gradebook_scores(course, assignment, "solution").items() if s[3]]
    solution_page = next((course / "autograde" / "feedback" / "solution" / assignment).glob("*.html")).read_text()
    for grade_id in written:
        assert re.search(rf'href="#{grade_id}">[^<]*</a> <code>{grade_id}</code> \(not graded yet, worth [0-9.]+ '
                         "points\\)", solution_page), grade_id
        assert not re.search(rf'<code>{grade_id}</code> \(Score:', solution_page), grade_id
    assert "Written response (Score:" not in solution_page
    assert solution_page.count("Your written answer") == len(written)
    assert f"{len(written)} answer{'s' if len(written) > 1 else ''} worth" in solution_page
    # results, report and feedback word an unwritten answer's failing check as the grading model does
    blank_page = next((course / "autograde" / "feedback" / "blank" / assignment).glob("*.html")).read_text()
    assert "not written yet" in blank_page and "a hidden check failed" not in blank_page
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


@pytest.fixture(scope="module")
def exported(grading_batch, tmp_path_factory):
    """Every grade of the batch, exported: {(student, assignment): row}."""
    target = tmp_path_factory.mktemp("export") / "grades.csv"
    export = run_autograde(grading_batch.course, "export", "--to", str(target))
    assert export.returncode == 0, export.stderr
    waiting = waiting_for_hand(grading_batch.course)
    assert waiting > 0 and f"{waiting} answers still need grading by hand" in export.stderr, export.stderr
    rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(target.open())}
    assert sum(int(row["needs_manual_grade"]) for row in rows.values()) == waiting
    return rows


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_export(exported, assignment):
    blank, solution = exported[("blank", assignment)], exported[("solution", assignment)]
    assert float(blank["score"]) == 0.0 and blank["status"] == "complete"
    assert float(solution["score"]) > 0 and "by hand" in solution["status"]
    assert solution["max_score"] == blank["max_score"]
    # a student of the station corpus submitted 00-station only: this assignment is missing
    missing = exported[("good", assignment)]
    assert missing["status"] == "missing" and float(missing["score"]) == 0.0


def test_grade_without_submissions_says_so(tmp_path):
    course = copy_course(tmp_path)
    result = run_autograde(course, "grade", ASSIGNMENTS[0])
    assert result.returncode == 2
    assert "no submissions to grade" in result.stderr and "does not exist" in result.stderr
    (course / "autograde" / "submitted").mkdir()
    result = run_autograde(course, "grade", ASSIGNMENTS[0])
    assert result.returncode == 2 and "none found" in result.stderr
    # several assignments: every one without submissions is named, and nothing is graded
    (course / "autograde" / "submitted" / "ada" / ASSIGNMENTS[1]).mkdir(parents=True)
    shutil.copy(ROOT / "course" / ASSIGNMENTS[1] / f"{ASSIGNMENTS[1]}.ipynb",
                course / "autograde" / "submitted" / "ada" / ASSIGNMENTS[1])
    result = run_autograde(course, "grade", *ASSIGNMENTS[:3])
    assert result.returncode == 2, result.stdout + result.stderr
    for assignment in (ASSIGNMENTS[0], ASSIGNMENTS[2]):
        assert f"<student>/{assignment}/*.ipynb" in result.stderr, result.stderr
    assert f"<student>/{ASSIGNMENTS[1]}/" not in result.stderr
    assert not (course / "autograde" / "results").exists()
