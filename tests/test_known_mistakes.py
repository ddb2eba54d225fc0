"""Every exercise's tests reject the known mistakes kept in tests/known_mistakes/<assignment>.py,
and give the solution full marks in the same reduced run (so a lost point is the mistake's).
In the same run: delegation to the library in six disguises and each exercise's first declared
shortcut (solutions/exercises.toml) lose every point of their exercise, and the honest answers
written another way (tests/known_mistakes/honest.py) keep every point.

The cases are scored by the real grader (notebook_harness.run_cases: the judge, tests outside
the kernel with the shortcut checks, the kernel with the assignment's references sealed, the
grading model's scoring rule). All cases of an assignment run in one kernel: the set-up cells
once, then per case every answer cell and one exercise's test cells."""

import importlib
import inspect
import json
import runpy
from functools import cache

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT
from known_mistakes.arguments import changing_arguments
from known_mistakes.mistakes import Mistake
from notebook_harness import exercises, run_cases

from dlcourse.grading import cell_kind, grade_id


@cache
def mistakes_of(assignment: str) -> dict:
    path = ROOT / "tests" / "known_mistakes" / f"{assignment}.py"
    return runpy.run_path(str(path))["MISTAKES"] if path.exists() else {}


@cache
def solution_notebook(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


RECORD = json.loads((ROOT / "lib" / "dlcourse" / "assignments.json").read_text(encoding="utf-8"))


def delegated_exercise(assignment: str) -> tuple[str, str, str] | None:
    """(answer grade_id, its function's name, the reference's module) of the assignment's first
    exercise whose answer is one function with a function reference of the same name."""
    for exercise in RECORD[assignment]["exercises"]:
        for reference in exercise["references"]:
            module, _, name = reference.rpartition(".")
            if exercise["functions"] == [name] and inspect.isfunction(getattr(importlib.import_module(module), name)):
                return exercise["answer"], name, module
    return None


def disguises(name: str, module: str) -> dict[str, str]:
    """An answer cell that hands the exercise to the library's ``module``.``name``, six ways."""
    bind = f"import {module} as _library\n"
    return {
        "an alias": f"{bind}{name} = _library.{name}",
        "a wrapper": f"{bind}def {name}(*args, **kwargs):\n    return _library.{name}(*args, **kwargs)",
        "a copied __code__": (f"{bind}def {name}(*args, **kwargs):\n    pass\n"
                              f"{name}.__code__ = _library.{name}.__code__"),
        # into a namespace of its own: the cases share a kernel, whose names later cases use
        "exec of the source": (f"{bind}import inspect\n_namespace = {{}}\n"
                               f"exec(inspect.getsource(_library), _namespace)\n{name} = _namespace[{name!r}]"),
        # nothing in the source names the function or looks it up: only sealing stops this one
        "gc.get_objects": (f"{bind}import gc\n{name} = next(o for o in gc.get_objects() if callable(o) and "
                           f"getattr(o, '__name__', '') == {name[:3]!r} + {name[3:]!r} and "
                           "getattr(o, '__module__', '').startswith('dlcourse'))"),
        "importlib.reload": f"{bind}import importlib\n{name} = importlib.reload(_library).{name}",
    }


@cache
def honest_answers() -> dict:
    path = ROOT / "tests" / "known_mistakes" / "honest.py"
    return runpy.run_path(str(path))["HONEST"] if path.exists() else {}


@cache
def extra_cases(assignment: str) -> dict[tuple[str, str, str], str]:
    """{(kind, exercise, name): answer cell}: kind "delegation" and "shortcut" must lose every
    point of their exercise, "honest" must keep every point. The cases share a kernel, so the
    delegations run last (a reload of a library module leaves later cases with two classes of
    the same name)."""
    cases = {}
    for exercise, written in honest_answers().get(assignment, {}).items():
        cases.update({("honest", exercise, how): source for how, source in written.items()})
    answers = {grade_id(c): c.source for c in solution_notebook(assignment).cells if cell_kind(c) == "answer"}
    for exercise in RECORD[assignment]["exercises"]:
        if exercise["forbidden"]:
            entry = exercise["forbidden"][0]
            use = (f"_used = lambda value: value{entry}()" if entry.startswith(".")
                   else f"import {entry.rpartition('.')[0] or entry}\n_used = {entry}")
            cases[("shortcut", exercise["answer"], entry)] = answers[exercise["answer"]] + "\n" + use
    delegated = delegated_exercise(assignment)
    if delegated:
        answer, name, module = delegated
        cases.update({("delegation", answer, how): source for how, source in disguises(name, module).items()})
    return cases


@cache
def scored_cases(assignment: str) -> dict:
    """{(exercise, mistake name): scores} and {(kind, exercise, name): scores} for the extra cases;
    the key (None, None) is the solution's control run."""
    keys = [(None, None)] + [(ex, name) for ex, wrong in mistakes_of(assignment).items() for name in wrong]
    cases = [(ex, str(mistakes_of(assignment)[ex][name]) if ex else None) for ex, name in keys]
    # every exercise at once, all tests: one run's time per assignment; before the delegations
    # (a reload of a library module leaves later cases two classes of one name)
    keys.append(CHANGING_ARGUMENTS)
    cases.append((None, changing_arguments(solution_notebook(assignment), RECORD[assignment]["exercises"])))
    # each exercise answered alone, the others as released: its own tests
    answers = [exercise["answer"] for exercise in RECORD[assignment]["exercises"]]
    stubs = released_answers(assignment)
    for answer in answers:
        keys.append(("alone", answer, "the only exercise answered"))
        cases.append((answer, {other: stubs[other] for other in answers if other != answer}))
    extra = extra_cases(assignment)
    keys += list(extra)
    cases += [(exercise, source) for (_, exercise, _), source in extra.items()]
    return dict(zip(keys, run_cases(ROOT / "solutions" / assignment / f"{assignment}.ipynb", cases)))


CHANGING_ARGUMENTS = ("arguments", None, "changed after each call")


@cache
def released_answers(assignment: str) -> dict[str, str]:
    """The answer cells as students get them (the release's stubs), by grade_id."""
    released = nbformat.read(ROOT / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    return {grade_id(c): c.source for c in released.cells if cell_kind(c) == "answer"}


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
    untagged = [f"{exercise}: {name}" for exercise, wrong in listed.items() for name, mistake in wrong.items()
                if not isinstance(mistake, Mistake)]
    assert not untagged, (f"{assignment}: known mistakes without a tag (visible(..., hint=...) or "
                          f"hidden_only(..., why=...)): {untagged}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_three_quarters_of_the_known_mistakes_are_seen_by_a_visible_check(assignment):
    """Hidden tests are for what a student could learn by heart, not for the ordinary slip:
    at least three quarters of an assignment's known mistakes are tagged visible (and
    test_known_mistake_loses_points holds each tag to what grading does)."""
    tags = [mistake.visible for wrong in mistakes_of(assignment).values() for mistake in wrong.values()]
    hidden = [f"{exercise}: {name} ({mistake.why})" for exercise, wrong in mistakes_of(assignment).items()
              for name, mistake in wrong.items() if not mistake.visible]
    assert 4 * sum(tags) >= 3 * len(tags), (
        f"{assignment}: {sum(tags)} of {len(tags)} known mistakes fail a visible check; hidden-only:\n"
        + "\n".join(hidden))


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
    # and a mistake tagged visible is one a student hears of before grading, with a hint
    # that points at it
    mistake = mistakes_of(assignment)[exercise][name]
    visible = {cell for cell, (points, most) in scores.items() if "hidden" not in cell and points < most}
    if not mistake.visible:
        assert not visible, (f"{assignment} {exercise}: '{name}' is tagged hidden-only ({mistake.why}) but fails "
                             f"a visible check: tag it visible, with the hint it prints: {result.describe()}")
        return
    assert visible, (f"{assignment} {exercise}: '{name}' is tagged visible but passes every visible check: "
                     f"{result.describe()}")
    said = [" ".join(error.split()).lower() for error in result.errors
            if error.split("]")[0].lstrip("[") in visible]
    assert any(mistake.hint.lower() in message for message in said), (
        f"{assignment} {exercise}: the visible check that '{name}' fails does not say "
        f"{mistake.hint!r}:\n" + "\n".join(said))


EXTRA = [pytest.param(a, kind, exercise, name, id=f"{a}-{kind}-{exercise}-{name.replace(' ', '_')}")
         for a in ASSIGNMENTS for kind, exercise, name in extra_cases(a)]


@pytest.mark.parametrize(("assignment", "kind", "exercise", "name"), EXTRA)
def test_delegation_and_shortcuts_lose_every_point_and_honest_answers_keep_them(assignment, kind, exercise, name):
    result = scored_cases(assignment)[(kind, exercise, name)]
    scores = result.scores
    assert scores and all(cell.startswith(exercise + "-test-") for cell in scores)
    earned = sum(points for points, _ in scores.values())
    possible = sum(most for _, most in scores.values())
    if kind == "honest":
        assert earned == possible, f"{assignment} {exercise}: the honest answer '{name}' loses points: " + \
            result.describe()
        return
    assert earned == 0, f"{assignment} {exercise}: {kind} by {name} still earns {earned:g}/{possible:g}"
    # and the student is told why: the shortcut and its line, or the sealed reference
    why = "Shortcut: " if kind == "shortcut" or name != "gc.get_objects" else "SealedReference: "
    assert all(why in error for error in result.errors if "-test-" in error), result.describe()
    if kind == "shortcut":
        assert name.lstrip(".") in result.errors[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_with_a_reference_is_tried_with_every_disguise(assignment):
    has_reference = any(e["references"] for e in RECORD[assignment]["exercises"])
    tried = {name for kind, _, name in extra_cases(assignment) if kind == "delegation"}
    assert not has_reference or len(tried) >= 5, f"{assignment}: disguises tried: {sorted(tried)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_test_can_be_steered_through_the_arguments(assignment):
    """Grading copies back what a student's function did to its arguments, as a notebook shows
    it; so no test may compute what it compares from an argument after the call (a function
    that zeroes its input would make a wrong result look right). With every exercise's
    functions scrambling their arrays and tensors after computing the right result
    (tests/known_mistakes/arguments.py), every test keeps its points, but the checks of the
    exercises whose functions must not change an argument in place: those fail, saying so,
    and a visible test of the exercise warns before the hidden one takes points."""
    result = scored_cases(assignment)[CHANGING_ARGUMENTS]
    assert set(result.scores) == {grade_id(c) for c in solution_notebook(assignment).cells if cell_kind(c) == "test"}
    messages = {error.split("]")[0].lstrip("["): error for error in result.errors}
    lost = sorted(gid for gid, (points, most) in result.scores.items() if points < most)
    steered = [messages.get(gid, gid) for gid in lost if "in place" not in messages.get(gid, "")]
    assert not steered, f"{assignment}: tests that read an argument after the call:\n" + "\n".join(steered)
    for exercise in RECORD[assignment]["exercises"]:
        if set(exercise["hidden_tests"]) & set(lost):
            assert set(exercise["visible_tests"]) & set(lost), (
                f"{assignment} {exercise['answer']}: only a hidden test says the function must not change its "
                "argument in place")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_slip_costs_twice(assignment):
    """A submission with only one exercise answered (every other answer as released) earns
    every point of that exercise's tests: no exercise's tests, nor its answer, lean on another
    exercise's answer, so a slip in one costs points once. (The other exercises' tests score
    nothing on the release: tests/test_grading.py grades the untouched release.)"""
    leaning = []
    for exercise in RECORD[assignment]["exercises"]:
        result = scored_cases(assignment)[("alone", exercise["answer"], "the only exercise answered")]
        earned = sum(points for points, _ in result.scores.values())
        possible = sum(most for _, most in result.scores.values())
        assert set(result.scores) == set(exercise["visible_tests"] + exercise["hidden_tests"])
        if earned < possible:
            leaning.append(f"{exercise['answer']}: {earned:g}/{possible:g} alone; " + "; ".join(result.errors)[:400])
    assert not leaning, f"{assignment}: exercises that lean on another's answer:\n" + "\n".join(leaning)
