"""The grading model (dlcourse.grading) is the one place where the rules of grading are written:
the judge, the doctor, the release record, the station and the known-mistakes harness import
them, and no second definition is left anywhere (checked by parsing the sources). Then the
rules themselves, on small notebooks."""

import ast
import json
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT

from dlcourse import grading

# Functions that hold a rule of grading: the model defines them, nobody else does.
RULE_FUNCTIONS = {
    "cell_kind", "nbgrader_metadata", "nbgrader_meta", "grade_id", "_gid", "released_source", "source_sha256",
    "execution_plan", "grading_plan", "notebook_for", "points_earned",
    "answer_names", "answer_names_of", "exercise_tests", "exercise_of", "is_answer", "is_test", "is_setup",
    "reference_seconds", "cell_limit", "time_limit", "failure_message", "hidden_lines",
}
# Settings of grading: assigned in the model only.
RULE_SETTINGS = {"CELL_TIMEOUT_S", "NOTEBOOK_TIMEOUT_S", "GRADING_ENV", "JUDGE_ENV", "COPY_SUFFIX", "LIMIT_FACTOR",
                 "LIMIT_FLOOR_S"}
MODEL = ROOT / "lib" / "dlcourse" / "grading.py"
READERS = ["autograde/judge.py", "autograde/station.py", "autograde/manifest.py", "lib/dlcourse/doctor.py",
           "tests/notebook_harness.py", "autograde/sandbox.py", "autograde/nbgrader_config.py"]


def sources() -> list[Path]:
    found = [*(ROOT / "autograde").rglob("*.py"), *(ROOT / "lib" / "dlcourse").rglob("*.py"),
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), ROOT / "nbgrader_config.py"]
    return sorted(p for p in found if p != MODEL and "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_second_definition_of_a_grading_rule(path):
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.name not in RULE_FUNCTIONS, (
                f"{where}:{node.lineno} defines {node.name}: it is a rule of grading, import it from dlcourse.grading")
        if isinstance(node, ast.Assign) and node in tree.body:
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            assert not names & RULE_SETTINGS, (
                f"{where}:{node.lineno} sets {names & RULE_SETTINGS}: dlcourse.grading holds it")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported = {alias.name for alias in node.names}
            assert "determine_grade" not in imported, (
                f"{where}:{node.lineno}: nbgrader's determine_grade is not the rule the grader uses "
                "(dlcourse.grading.points_earned is)")
    if path.is_relative_to(ROOT / "autograde") or path.is_relative_to(ROOT / "lib"):
        # reading nbgrader's metadata by hand is how the cell kinds drifted apart
        assert '.get("nbgrader"' not in text, f"{where} reads nbgrader metadata itself: use dlcourse.grading"


def test_one_wording_of_a_failure_without_a_message():
    """The judge's results (and so the report and the feedback) and the doctor word a failed test
    through the model's failure_message; no other file spells its wording out."""
    for name in ("autograde/judge_shell.py", "lib/dlcourse/doctor.py"):
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module == "dlcourse.grading" for alias in node.names}
        assert "failure_message" in imported, f"{name} should word failures with dlcourse.grading.failure_message"
    for path in sources():
        if path.is_relative_to(ROOT / "tests"):
            continue
        text = path.read_text(encoding="utf-8")
        for wording in (grading.UNWRITTEN_ANSWER, grading.HIDDEN_CHECK_FAILED, grading.SILENT_CHECK_FAILED):
            assert wording not in text, f"{path.relative_to(ROOT)} spells out {wording!r}: use grading.failure_message"


@pytest.mark.parametrize("name", READERS)
def test_the_graders_read_the_model(name):
    tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "dlcourse.grading" in modules, f"{name} should take the rules of grading from dlcourse.grading"


# ---------------------------------------------------------------- the rules

def cell(kind: str, gid: str | None, source: str = "", points: float = 1.0):
    if kind in ("text", "written"):
        made = nbformat.v4.new_markdown_cell(source)
    else:
        made = nbformat.v4.new_code_cell(source)
    if gid is not None and kind not in ("code", "text"):
        made.metadata["nbgrader"] = grading.release_metadata(gid, kind, points)
    return made


def test_cell_kinds():
    assert [grading.cell_kind(cell(k, "x")) for k in ("answer", "test", "written", "setup")] == [
        "answer", "test", "written", "setup"]
    assert grading.cell_kind(nbformat.v4.new_code_cell("x = 1")) == "code"
    assert grading.cell_kind(nbformat.v4.new_markdown_cell("# title")) == "text"
    broken = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": "not a dict"})
    assert grading.cell_kind(broken) == "code" and grading.grade_id(broken) is None


def test_released_source_drops_hidden_tests_only():
    source = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint('ok')"
    assert grading.released_source(source) == "assert f(1) == 1\nprint('ok')"
    assert grading.released_source("### BEGIN HIDDEN TESTS\nopen") == "### BEGIN HIDDEN TESTS\nopen"
    assert grading.source_sha256(source) == grading.source_sha256("assert f(1) == 1\nprint('ok')")


def test_failure_message_says_what_failed_without_a_message():
    assert grading.failure_message("AssertionError", " W is wrong \n") == "AssertionError: W is wrong"
    assert grading.failure_message("NotImplementedError") == \
        "NotImplementedError (the answer this test calls is not written yet)"
    # the stub's wording wins wherever it fails: the answer is what is missing
    assert grading.failure_message("NotImplementedError", hidden=True) == grading.failure_message("NotImplementedError")
    assert grading.failure_message("AssertionError", hidden=True) == "AssertionError (a hidden check failed)"
    assert grading.failure_message("AssertionError", "") == "AssertionError (a check failed without a message)"


def test_hidden_lines_are_the_regions_nbgrader_removes():
    source = "a\nb\n### BEGIN HIDDEN TESTS\nc\n### END HIDDEN TESTS\nd\n### BEGIN HIDDEN TESTS\ne"
    assert grading.hidden_lines(source) == {3, 4, 5, 7, 8}
    assert grading.hidden_lines("assert True") == set()
    kept = [line for n, line in enumerate(source.split("\n"), 1) if n not in grading.hidden_lines(source)]
    assert kept == ["a", "b", "d"]


JUDGE_CASES = {  # a test cell the judge runs: how its failure reads
    "visible bare assert": ("\n_x = 1\nassert _x == 2\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
                            "AssertionError (a check failed without a message)"),
    "hidden bare assert": ("_x = 1\nassert _x == 1\n### BEGIN HIDDEN TESTS\nassert _x == 2\n### END HIDDEN TESTS",
                           "AssertionError (a hidden check failed)"),
    "helper called from the hidden part": ("def _h(v):\n    assert v\n_h(1)\n### BEGIN HIDDEN TESTS\n_h(0)\n"
                                           "### END HIDDEN TESTS", "AssertionError (a hidden check failed)"),
    "unwritten answer in a visible check": ("answer(1)\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
                                            "NotImplementedError (the answer this test calls is not written yet)"),
    "unwritten answer in a hidden check": ("### BEGIN HIDDEN TESTS\nanswer(2)\n### END HIDDEN TESTS",
                                           "NotImplementedError (the answer this test calls is not written yet)"),
    "a message": ("assert False, 'W is wrong'\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
                  "AssertionError: W is wrong"),
    "passes": ("assert True\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS", None),
}


def test_the_judge_says_a_hidden_check_failed_only_for_a_line_of_the_hidden_part():
    """The judge's shell (autograde/judge_shell.py) runs test cells with their hidden parts: an
    exception without a message is worded by where the failing line lies. Run in a process of its
    own (the judge's shell is a process-wide IPython singleton)."""
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from autograde.judge_shell import judge_shell, run_in_judge\n"
        "shell = judge_shell()\n"
        "def answer(x):\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "shell.user_ns['answer'] = answer\n"
        "cases = json.load(sys.stdin)\n"
        "print(json.dumps({name: run_in_judge(shell, source, seconds=30) for name, (source, _) in cases.items()}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], input=json.dumps(JUDGE_CASES), capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    said = json.loads(result.stdout.strip().splitlines()[-1])
    assert said == {name: expected for name, (_, expected) in JUDGE_CASES.items()}


def release():
    cells = [cell("setup", "setup", "import numpy as np"), cell("answer", "ex1", "def f(x):\n    return x"),
             cell("test", "ex1-test-visible", "assert f(1) == 1"), cell("test", "ex1-test-hidden", "assert f(2) == 2"),
             cell("answer", "ex2", "def g(x):\n    return x"), cell("test", "ex2-test-visible", "assert g(1) == 1")]
    tests = {grading.grade_id(c): c.source for c in cells if grading.cell_kind(c) == "test"}
    return cells, tests, {grading.grade_id(c): grading.nbgrader_metadata(c) for c in cells}


def test_plan_runs_the_released_tests_whatever_the_student_did():
    cells, tests, metadata = release()
    submitted = [nbformat.from_dict(dict(c)) for c in cells]
    submitted[2].source = "pass  # the student's edit"
    del submitted[3]  # a deleted test
    submitted.insert(3, nbformat.from_dict(dict(cells[2])))  # a duplicated test
    submitted.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "mine", "grade": True}}))
    plan = grading.grading_plan(submitted, tests, metadata)
    ids = [grading.grade_id(p.cell) for p in plan]
    assert ids == ["setup", "ex1", "ex1-test-visible", "ex1-test-hidden", "ex2", "ex2-test-visible", None]
    by_id = {grading.grade_id(p.cell): p for p in plan}
    assert by_id["ex1-test-visible"].cell["source"] == "assert f(1) == 1"
    assert by_id["ex1-test-hidden"].origin is None and by_id["ex1"].origin == 2
    assert plan[-1].kind == "code", "a cell the student marked as graded is the student's code"


def test_plan_puts_a_test_back_after_the_nearest_cell_above_it_or_at_the_end():
    cells, tests, metadata = release()
    submitted = [nbformat.from_dict(dict(c)) for c in cells if grading.grade_id(c) != "ex2-test-visible"]
    submitted.insert(0, nbformat.v4.new_markdown_cell("notes"))
    plan = grading.grading_plan(submitted, tests, metadata)
    assert [grading.grade_id(p.cell) for p in plan][-2:] == ["ex2", "ex2-test-visible"]
    only_tests = grading.grading_plan([nbformat.v4.new_code_cell("x = 1")], tests, metadata)
    assert [p.kind for p in only_tests] == ["code", "test", "test", "test"], "no anchor: at the end, in order"


def test_plan_without_a_release_keeps_the_notebook():
    cells, _, _ = release()
    plan = grading.grading_plan(cells, {}, None)
    assert [p.cell for p in plan] == cells and [p.origin for p in plan] == list(range(1, 7))


@pytest.mark.parametrize(("name", "expected"), [
    ("01-perceptron.ipynb", "01-perceptron.ipynb"), ("01-perceptron (1).ipynb", "01-perceptron.ipynb"),
    ("01-Perceptron-final.ipynb", "01-perceptron.ipynb"), ("05a-conv-extra.ipynb", "05a-conv-extra.ipynb"),
    ("05a-conv (2).ipynb", "05a-conv.ipynb"), ("homework.ipynb", None)])
def test_notebook_names(name, expected):
    assert grading.notebook_for(name, ["01-perceptron.ipynb", "05a-conv.ipynb", "05a-conv-extra.ipynb"]) == expected


def test_score_rule_and_answer_names():
    assert grading.points_earned(None, 2) == 2.0 and grading.points_earned("AssertionError: no", 2) == 0.0
    assert grading.answer_names("%matplotlib inline\ndef f():\n    pass\nW: int = 3\nclass C:\n    pass") == [
        "f", "W", "C"]


def timed(made, seconds: float):
    """The cell as nbclient records a run of it that took ``seconds``."""
    made.metadata["execution"] = {"iopub.status.busy": "2026-12-07T10:00:00.000000Z",
                                  "iopub.status.idle": f"2026-12-07T10:00:{seconds:09.6f}Z"}
    return made


def test_time_limits_fit_the_reference_run():
    reference = [timed(cell("setup", "setup", "import numpy as np"), 0.5),
                 timed(cell("answer", "ex1", "def f(x):\n    return x"), 0.01),
                 timed(cell("test", "ex1-test", "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n"
                                               "### END HIDDEN TESTS"), 2.0),
                 timed(cell("code", None, "train(epochs=3)"), 6.0),
                 cell("code", None, "never_run()")]
    limits = grading.TimeLimits.from_run(reference, cap=100)
    assert grading.reference_seconds(reference[3]) == pytest.approx(6.0)
    assert grading.reference_seconds(reference[4]) is None
    floor, factor = grading.LIMIT_FLOOR_S, grading.LIMIT_FACTOR
    # by grade_id, whatever the student wrote: a slow answer cell gets the floor, not the cap
    assert limits.for_cell(cell("answer", "ex1", "while True: pass")) == max(floor, 0.01 * factor)
    assert limits.for_cell(cell("test", "ex1-test", "assert f(1) == 1")) == max(floor, 2.0 * factor)
    # an ungraded cell by its source (as released); capped
    assert limits.for_cell(cell("code", None, "train(epochs=3)")) == min(100, max(floor, 6.0 * factor))
    # a cell of the student's own, or one never timed: the notebook's largest limit
    assert limits.for_cell(cell("code", None, "print('mine')")) == min(100, max(floor, 6.0 * factor))
    assert limits.for_cell(cell("code", None, "never_run()")) == limits.default
    # no recorded run at all: the cap, as before
    untimed = cell("code", None, "x = 1")
    assert grading.TimeLimits.from_run([untimed], cap=100).for_cell(untimed) == 100
    # the release record keeps them: the doctor applies the same limits, under its own cap
    recorded = grading.TimeLimits.from_record(json.loads(json.dumps(limits.record())), cap=100)
    for made in (cell("answer", "ex1", "x"), cell("code", None, "train(epochs=3)"), cell("code", None, "mine()")):
        assert recorded.for_cell(made) == limits.for_cell(made)
    assert grading.TimeLimits.from_record(limits.record(), cap=10).for_cell(cell("code", None, "train(epochs=3)")) == 10
    assert grading.TimeLimits.from_record(None, cap=100).for_cell(cell("code", None, "x")) == 100


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_records_the_time_of_each_cell(assignment):
    """The time limits fit the reference run only where it was recorded: `python -m autograde
    execute` stores every code cell's timing (a cell without one gets the notebook's largest limit)."""
    for path in (ROOT / "solutions" / assignment).glob("*.ipynb"):
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        untimed = [index for index, c in enumerate(code, 1) if grading.reference_seconds(c) is None]
        assert not untimed, (f"{path.name}: code cells {untimed} have no recorded run: "
                             f"python -m autograde execute {assignment}")
