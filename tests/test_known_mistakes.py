"""Every exercise's tests reject the known mistakes kept in tests/known_mistakes/<assignment>.py,
and give the solution full marks in the same reduced run (so a lost point is the mistake's).

The cases are scored by the real grader (notebook_harness.run_cases: the judge, tests outside
the kernel, the grading model's scoring rule). All cases of an assignment run in one kernel:
the set-up cells once, then per case every answer cell and one exercise's test cells."""

import runpy
from functools import cache

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT
from notebook_harness import exercises, run_cases


@cache
def mistakes_of(assignment: str) -> dict:
    path = ROOT / "tests" / "known_mistakes" / f"{assignment}.py"
    return runpy.run_path(str(path))["MISTAKES"] if path.exists() else {}


@cache
def solution_notebook(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


@cache
def scored_cases(assignment: str) -> dict:
    """{(exercise, mistake name): scores}; the key (None, None) is the solution's control run."""
    keys = [(None, None)] + [(ex, name) for ex, wrong in mistakes_of(assignment).items() for name in wrong]
    cases = [(ex, mistakes_of(assignment)[ex][name] if ex else None) for ex, name in keys]
    return dict(zip(keys, run_cases(ROOT / "solutions" / assignment / f"{assignment}.ipynb", cases)))


CASES = [
    pytest.param(a, exercise, name, id=f"{a}-{exercise}-{name.replace(' ', '_')}")
    for a in ASSIGNMENTS
    for exercise, wrong in mistakes_of(a).items()
    for name in wrong
]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_known_mistakes(assignment):
    listed = mistakes_of(assignment)
    for exercise in exercises(solution_notebook(assignment)):
        assert len(listed.get(exercise, {})) >= 2, (
            f"{assignment}: exercise {exercise} needs at least two known mistakes in "
            f"tests/known_mistakes/{assignment}.py")
    unknown = set(listed) - set(exercises(solution_notebook(assignment)))
    assert not unknown, f"known mistakes name exercises the notebook lacks: {sorted(unknown)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks_in_the_reduced_run(assignment):
    """The control: setup, answers and tests alone give the solution every point, so a point
    lost below is the mistake's doing, not the harness's."""
    result = scored_cases(assignment)[(None, None)]
    scores = result.scores
    lost = {cell for cell, s in scores.items() if s[0] != s[1]}
    assert not lost, f"the solution loses points: {result.describe(lost)}"
    assert {cell.split("-test-")[0] for cell in scores} == set(exercises(solution_notebook(assignment)))


@pytest.mark.parametrize(("assignment", "exercise", "name"), CASES)
def test_known_mistake_loses_points(assignment, exercise, name):
    result = scored_cases(assignment)[(exercise, name)]
    scores = result.scores
    assert scores and all(cell.startswith(exercise + "-test-") for cell in scores)
    earned = sum(points for points, _ in scores.values())
    possible = sum(most for _, most in scores.values())
    assert earned < possible, (
        f"{assignment} {exercise}: the mistake '{name}' still earns {earned:g}/{possible:g}: "
        "the exercise's tests do not catch it")
    # A student who learns the visible checks by heart must still lose points: every known
    # mistake is caught by a hidden test too.
    hidden = {cell: s for cell, s in scores.items() if "hidden" in cell}
    assert any(points < most for points, most in hidden.values()), (
        f"{assignment} {exercise}: '{name}' passes every hidden test: {result.describe(hidden)}")
