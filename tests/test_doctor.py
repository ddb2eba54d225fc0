"""`python -m dlcourse doctor`, run as a student runs it, on copies of 01-perceptron: the
solution passes, the released notebook and hand-made broken ones are diagnosed cell by cell.

A notebook's execution is what costs (about 10 s here): each heavy notebook runs once, in a
module-scoped fixture, and several tests read its report. Problems that need no execution to
be found share one notebook, each placed in its own cell so that every assertion names it.
"""

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
from conftest import ROOT

from dlcourse import doctor, grading

ASSIGNMENT = "01-perceptron"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASED = ROOT / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
VISIBLE, HIDDEN = 9, 14  # autograded points of 01-perceptron's visible and hidden checks (written_xor's 3 by hand)


def run_doctor(path, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse", "doctor", str(path), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def number(notebook, wanted) -> int:
    """1-based position of the cell with grade_id ``wanted``, as the report counts cells."""
    return next(i for i, c in enumerate(notebook.cells, 1) if grading.grade_id(c) == wanted)


def run_all_counts(notebook):
    """Execution counts as a Restart and Run All leaves them (1, 2, ... from top to bottom)."""
    code = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
    for count, cell in enumerate(code, 1):
        cell.execution_count = count
    return notebook


def tiny_notebook(*sources: str):
    cells = [nbformat.v4.new_markdown_cell("# Not a course notebook")]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return run_all_counts(nbformat.v4.new_notebook(cells=cells))


# ---------------------------------------------------------------- the solution and the release

@pytest.fixture(scope="module")
def solution_run(tmp_path_factory):
    """The solution as `python -m autograde execute` saved it (run top to bottom), under the
    released notebook's name."""
    path = tmp_path_factory.mktemp("solution") / RELEASED.name
    path.write_bytes(SOLUTION.read_bytes())
    return run_doctor(path)


def test_solution_has_no_problems(solution_run):
    assert solution_run.returncode == 0, solution_run.stdout + solution_run.stderr
    out = solution_run.stdout
    assert "PROBLEM" not in out
    for check in ("cells run out of order", "edited test cells", "deleted test cells",
                  "answers not written yet", "restart and run all"):
        assert f"OK       {check}" in out
    assert f"Estimated score from the visible checks: {VISIBLE} / {VISIBLE} points (6 of 6 test cells pass)" in out
    assert f"Hidden checks decide {HIDDEN} more points at grading (6 of their 6 cells ran here" in out
    assert "Graded by hand: 3 points (written_xor" in out
    assert out.rstrip().splitlines()[-1].startswith("Verdict: no problems found")


def test_an_exercise_answered_alone_is_estimated_at_its_own_points(tmp_path):
    """No slip costs twice, as the doctor sees it: the release with only Exercise 3 answered
    (it trains with its own prediction and update, not with the student's Exercises 1 and 2)
    passes Exercise 3's visible checks and nothing else, and the estimate is their points, as
    grading gives it every point of Exercise 3 (test_known_mistakes.py::test_no_slip_costs_twice)."""
    notebook = nbformat.read(RELEASED, as_version=4)
    solution = {grading.grade_id(c): c.source for c in nbformat.read(SOLUTION, as_version=4).cells}
    for cell in notebook.cells:
        if grading.grade_id(cell) == "ex3_train":
            # as a student writes it: the solution without nbgrader's markers
            cell.source = "\n".join(line for line in solution["ex3_train"].splitlines() if "### " not in line)
    path = tmp_path / RELEASED.name
    nbformat.write(notebook, path)
    report = json.loads(run_doctor(path, "--json").stdout)
    statuses = {t["grade_id"]: t["status"] for t in report["tests"] if not t["hidden"]}
    assert statuses.pop("ex3_train-test-visible") == "passed", report["failed"]
    assert set(statuses.values()) == {"failed"}, statuses
    points = next(grading.nbgrader_metadata(c)["points"] for c in notebook.cells
                  if grading.grade_id(c) == "ex3_train-test-visible")
    assert report["estimated_points"] == points > 0
    assert [f["grade_id"] for f in report["unanswered"]] == ["ex1_predict", "ex2_update", "ex4_gradient",
                                                             "ex5_margin", "ex6_fit", "written_xor"]


@pytest.fixture(scope="module")
def released_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("released") / RELEASED.name
    path.write_bytes(RELEASED.read_bytes())
    before = path.read_bytes()
    result = run_doctor(path)
    assert path.read_bytes() == before, "the doctor wrote to the student's notebook"
    return result


def test_released_notebook_lists_the_unanswered_exercises(released_run):
    assert released_run.returncode == 1
    out = released_run.stdout
    released = nbformat.read(RELEASED, as_version=4)
    assert "PROBLEM  answers not written yet: 7 cells" in out
    for grade_id in ("ex1_predict", "ex2_update", "ex3_train", "ex4_gradient", "ex5_margin", "ex6_fit"):
        assert f"cell {number(released, grade_id)} ({grade_id}, answer): still raises NotImplementedError" in out
    assert f"cell {number(released, 'written_xor')} (written_xor, written answer): still says YOUR ANSWER HERE" in out


def test_released_notebook_fails_every_test_and_scores_zero(released_run):
    out = released_run.stdout
    released = nbformat.read(RELEASED, as_version=4)
    tests = [grading.grade_id(c) for c in released.cells if grading.cell_kind(c) == grading.TEST]
    assert len(tests) == 12
    # the later cells that use an answer stop with check.needs's one line while it is unwritten
    later = [i for i, c in enumerate(released.cells, 1) if c.cell_type == "code" and "check.needs(" in c.source]
    assert len(later) == 11
    # every test fails only because the answer it calls is the release's stub: counted once,
    # with the unwritten answers, and worded as grading words it
    assert ("OK       restart and run all (a fresh kernel, quick mode, the CPU, up to 300 s per cell, 600 s in all):"
            " no other cell failed") in out
    assert ("WAITING  checks of the answers not written yet: 12 test cells (counted once, with the answers above; "
            "they score no points until the answers are written)") in out
    for grade_id in tests[:10]:  # the text report lists ten, then says how many more
        assert (f"cell {number(released, grade_id)} ({grade_id}, test): NotImplementedError "
                f"({grading.UNWRITTEN_ANSWER})") in out
    assert f"... and {len(tests) - 10} more (--json lists them all)" in out
    assert grading.HIDDEN_CHECK_FAILED not in out
    # the later cells wait for the unwritten answers, counted once above: listed apart, not as problems
    assert "WAITING  cells that use an exercise not finished yet: 11 cells" in out
    for cell in later[:5]:
        assert f"cell {cell} (code): ExerciseUnfinished: finish Exercise" in out
    assert "Traceback" not in out  # the error's last line only
    assert f"Estimated score from the visible checks: 0 / {VISIBLE} points" in out
    assert f"Hidden checks decide {HIDDEN} more points at grading (0 of their 6 cells" in out
    # five answers and the written one: each unwritten answer is one problem, not one per check
    assert out.rstrip().splitlines()[-1].startswith("Verdict: 7 problems found")


# ---------------------------------------------------------------- a broken finished notebook

@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The released notebook with the solution's answers pasted in, run top to bottom, then
    broken in six independent places. Saved under a browser's name for a second download."""
    notebook = nbformat.read(RELEASED, as_version=4)
    answers = {grading.grade_id(c): c.source for c in nbformat.read(SOLUTION, as_version=4).cells
               if grading.cell_kind(c) in (grading.ANSWER, grading.WRITTEN)}
    for cell in notebook.cells:
        if grading.grade_id(cell) in answers:
            cell.source = answers[grading.grade_id(cell)]
    cells = {grading.grade_id(c): c for c in notebook.cells}
    # a wrong answer: the gradient's sign flipped, so its visible test fails
    cells["ex4_gradient"].source += "\n\n\ndef delta_rule_gradient(W, X, t):\n    return X.T @ (t - X @ W)\n"
    # an edited test cell (its metadata, checksum included, kept)
    cells["ex2_update-test-visible"].source = "print(perceptron_update(np.zeros(3), np.ones(3), 1))  # my own check"
    # a deleted test cell, and one whose nbgrader metadata was removed
    notebook.cells.remove(cells["ex3_train-test-hidden"])
    del cells["ex5_margin-test-visible"].metadata["nbgrader"]
    # an error outside the exercises, after the first plain code cell
    first_plain = next(i for i, c in enumerate(notebook.cells)
                       if c.cell_type == "code" and "nbgrader" not in c.metadata)
    notebook.cells.insert(first_plain + 1, nbformat.v4.new_code_cell("ratio = 1 / 0"))
    run_all_counts(notebook)
    # two plain cells after the exercises run in the wrong order
    plain = [c for c in notebook.cells[number(notebook, "ex3_train-test-visible"):]
             if c.cell_type == "code" and "nbgrader" not in c.metadata]
    plain[0].execution_count, plain[1].execution_count = plain[1].execution_count, plain[0].execution_count
    path = tmp_path_factory.mktemp("broken") / f"{ASSIGNMENT} (1).ipynb"
    nbformat.write(notebook, path)
    return {"notebook": notebook, "result": run_doctor(path), "zero": first_plain + 2,
            "late": notebook.cells.index(plain[1]) + 1, "early": notebook.cells.index(plain[0]) + 1,
            "stripped": notebook.cells.index(cells["ex5_margin-test-visible"]) + 1}


def test_broken_copy_is_checked_as_the_assignment(broken):
    assert broken["result"].returncode == 1
    assert f"(assignment {ASSIGNMENT})" in broken["result"].stdout
    assert "checked as 01-perceptron.ipynb (found by its name)" in broken["result"].stdout


def test_broken_answer_and_error_outside_exercises_are_failing_cells(broken):
    out, notebook = broken["result"].stdout, broken["notebook"]
    assert ("restart and run all (a fresh kernel, quick mode, the CPU, up to 300 s per cell, 600 s in all): 2 cells"
            in out)
    assert f"cell {number(notebook, 'ex4_gradient-test-visible')} (ex4_gradient-test-visible, test): AssertionError: " \
           "gradient at W = 0 on OR" in out
    assert f"cell {broken['zero']} (code): ZeroDivisionError: division by zero" in out


def test_cells_run_out_of_order_are_named(broken):
    out = broken["result"].stdout
    assert "PROBLEM  cells run out of order: 1 cell" in out
    assert f"cell {broken['late']} (code): execution count [" in out
    assert f"of cell {broken['early']} above it" in out
    assert "runs every cell once, from top to bottom" in out


def test_edited_deleted_and_unmarked_test_cells_are_named(broken):
    out, notebook = broken["result"].stdout, broken["notebook"]
    edited = number(notebook, "ex2_update-test-visible")
    assert "PROBLEM  edited test cells: 1 cell" in out
    assert f"cell {edited} (ex2_update-test-visible, test): its content differs from the released cell " \
           "(grading runs the released test instead, and so does this check)" in out
    assert "git show HEAD:course/01-perceptron/01-perceptron.ipynb > fresh.ipynb" in out
    assert "PROBLEM  deleted test cells: 2 cells" in out
    assert "  ex3_train-test-hidden (test): is missing from the notebook (grading puts the released test back" in out
    assert (f"cell {broken['stripped']} (ex5_margin-test-visible, test):"
            " is here, but without its nbgrader metadata") in out
    assert "Grading runs the released test cells whatever your copy holds" in out
    assert "OK       answers not written yet" in out


def test_broken_notebook_is_scored_as_the_grader_runs_it(broken):
    """Edited tests run as released and deleted ones are put back, as the grading station does
    (tests/station_corpus.py: a correct notebook without its test cells keeps every point):
    only the wrong answer's visible check loses its point."""
    out = broken["result"].stdout
    assert f"Estimated score from the visible checks: {VISIBLE - 1} / {VISIBLE} points (5 of 6 test cells pass)" in out
    assert "  failed, no points: ex4_gradient-test-visible (1)\n" in out
    assert f"Hidden checks decide {HIDDEN} more points at grading (6 of their 6 cells ran here" in out
    assert out.rstrip().splitlines()[-1].startswith("Verdict: 6 problems found")


# ---------------------------------------------------------------- small hand-made notebooks

def test_notebook_outside_the_course_is_run_and_its_test_checks_skipped(tmp_path):
    """Also: the kernel runs in the notebook's folder, in quick mode and headless, whatever the
    student's shell says (a failing assertion would be reported as a failing cell)."""
    path = tmp_path / "scratch.ipynb"
    nbformat.write(tiny_notebook(
        "import os\nassert os.path.isfile('scratch.ipynb'), os.getcwd()",
        "from dlcourse import runtime\nassert runtime.quick() and os.environ['DLCOURSE_HEADLESS'] == '1'",
        # this Python's kernel, whatever kernel named python3 Jupyter would find; no GPU, as in the sandbox
        f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable\n"
        "assert os.environ['CUDA_VISIBLE_DEVICES'] == ''"), path)
    text = run_doctor(path, env={**os.environ, "DLCOURSE_QUICK": "0"})
    assert text.returncode == 0, text.stdout + text.stderr
    assert "SKIPPED  edited and deleted test cells: not one of the course's notebooks" in text.stdout
    assert "scratch.ipynb is not one of the course's notebooks" in text.stdout
    assert "OK       restart and run all" in text.stdout
    as_json = run_doctor(path, "--json")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == text.returncode
    assert report["ok"] is True and report["problems"] == 0 and report["assignment"] is None
    assert report["verdict"] == text.stdout.rstrip().splitlines()[-1]


def test_cell_past_the_timeout_stops_the_run(tmp_path):
    path = tmp_path / "slow.ipynb"
    nbformat.write(tiny_notebook("print('start')", "import time\ntime.sleep(60)", "print('never')"), path)
    started = time.monotonic()
    result = run_doctor(path, "--timeout", "5")
    assert time.monotonic() - started < 40
    assert result.returncode == 1
    out = result.stdout
    assert "(a fresh kernel, quick mode, the CPU, up to 5 s per cell, 600 s in all): 1 cell" in out
    assert "cell 3 (code): stopped: it ran past its limit of 5 s" in out
    assert "1 code cell below cell 3 did not run." in out
    assert out.rstrip().splitlines()[-1].startswith("Verdict: 1 problem found")


def test_a_course_cell_stops_at_the_limit_grading_fits_to_it(tmp_path):
    """The release record holds each cell's limit, fitted to the solution's run (at least
    grading.LIMIT_FLOOR_S): an endless loop in an answer stops there, as at grading, not at 300 s.
    A cell that takes more than half its limit is named in the notes."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    answer = next(c for c in notebook.cells if grading.grade_id(c) == "ex2_update")
    answer.source += "\nwhile True:\n    pass"
    path = tmp_path / RELEASED.name
    nbformat.write(run_all_counts(notebook), path)
    limit = grading.TimeLimits.from_run(notebook.cells).for_cell(answer)
    assert limit == grading.LIMIT_FLOOR_S
    started = time.monotonic()
    report = doctor.diagnose(path)
    assert time.monotonic() - started < 120
    assert report.stopped is not None and report.stopped.grade_id == "ex2_update"
    assert f"it ran past its limit of {limit:g} s" in report.stopped.message
    slow = tmp_path / "slow.ipynb"
    nbformat.write(tiny_notebook("import time\ntime.sleep(6)"), slow)
    report = doctor.diagnose(slow, cell_timeout=10)
    assert report.ok, report
    assert any(note.startswith("cell 2 took 6.") and "more than half of the 10 s" in note for note in report.notes)


def test_json_report_agrees_with_the_problems(tmp_path):
    path = tmp_path / "wrong.ipynb"
    nbformat.write(tiny_notebook("value = 1", "value = undefined_name"), path)
    result = run_doctor(path, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["problems"] == 1
    assert report["failed"] == [{"cell": 3, "grade_id": None, "kind": "code", "error": "NameError",
                                 "message": "NameError: name 'undefined_name' is not defined"}]
    assert report["verdict"].startswith("Verdict: 1 problem found")


def test_whole_notebook_limit_stops_the_run(tmp_path):
    """Grading's 600 s for the whole notebook, shortened for the test (the real kernel runs)."""
    path = tmp_path / "long.ipynb"
    nbformat.write(tiny_notebook(*["import time\ntime.sleep(1.5)"] * 5), path)
    report = doctor.diagnose(path, notebook_timeout=4)
    assert report.stopped is not None and not report.ok
    assert "the whole notebook went past grading's limit of 4 s" in report.stopped.message
    assert report.not_run >= 1


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, content, expected", [
    ("missing.ipynb", None, "does not exist"),
    ("notes.txt", "my notes", "is not a notebook (its name does not end in .ipynb)"),
    ("damaged.ipynb", '{"cells": [', "is not valid JSON"),
    ("data.ipynb", '{"rows": []}', "is JSON but not a Jupyter notebook"),
    ("folder", "a folder", "is a folder"),
])
def test_bad_input_is_refused_with_exit_status_2(tmp_path, name, content, expected):
    path = tmp_path / name
    if content == "a folder":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    result = run_doctor(path)
    assert result.returncode == 2 and not result.stdout
    message = result.stderr.strip()
    assert str(path) in message and expected in message and len(message.splitlines()) == 1


def test_timeout_can_only_lower_the_grading_limit(tmp_path):
    result = run_doctor(tmp_path / "any.ipynb", "--timeout", "301")
    assert result.returncode == 2 and "from 1 to grading's limit of 300" in result.stderr


# ---------------------------------------------------------------- without nbgrader, and finding the notebook

def test_test_cells_are_checked_without_nbgrader(broken, monkeypatch):
    """Colab installs only dlcourse: the sources are compared with the manifest's sha256."""
    monkeypatch.setattr(doctor, "_nbgrader_checksum", lambda: None)
    report = doctor.Report(notebook="x.ipynb")
    doctor.check_locked_cells(broken["notebook"], doctor.load_manifest()[ASSIGNMENT], report)
    assert [f.grade_id for f in report.edited] == ["ex2_update-test-visible"]
    assert [(f.grade_id, f.cell) for f in report.deleted] == [("ex3_train-test-hidden", None),
                                                                ("ex5_margin-test-visible", broken["stripped"])]
    assert any("nbgrader is not installed" in note for note in report.notes)


def test_notebook_is_found_by_name_or_by_its_cells(broken):
    manifest, notebook = doctor.load_manifest(), broken["notebook"]
    for name in ("01-perceptron.ipynb", "01-perceptron (2).ipynb", "01-perceptron-1.ipynb",
                 "01-Perceptron-final.ipynb"):
        assert doctor.identify(doctor.Path(name), notebook, manifest) == (ASSIGNMENT, "file name"), name
    assert doctor.identify(doctor.Path("homework.ipynb"), notebook, manifest) == (ASSIGNMENT, "cells")
    assert doctor.identify(doctor.Path("02-gradient-descent.ipynb"), notebook, manifest) == (ASSIGNMENT, "cells")
    assert doctor.identify(doctor.Path("scratch.ipynb"), tiny_notebook("x = 1"), manifest) == (None, None)


# ---------------------------------------------------------------- checks without a kernel

def test_out_of_order_names_the_break_once():
    """Run all, then re-run the first exercise's answer and check: one break (the cell after
    them ran before them), not every cell below, and one problem for the exit status."""
    notebook = run_all_counts(nbformat.read(SOLUTION, as_version=4))
    last = max(c.execution_count for c in notebook.cells if c.cell_type == "code" and c.execution_count)
    for offset, grade_id in enumerate(("ex1_predict", "ex1_predict-test-visible"), 1):
        notebook.cells[number(notebook, grade_id) - 1].execution_count = last + offset
    report = doctor.Report(notebook="x.ipynb")
    doctor.check_order(notebook, report)
    after = number(notebook, "ex1_predict-test-visible") + 1
    assert [f.cell for f in report.out_of_order] == [after]
    assert report.problems == 1


def test_own_raise_in_an_answer_is_not_an_unanswered_stub():
    notebook = nbformat.read(SOLUTION, as_version=4)
    answer = notebook.cells[number(notebook, "ex2_update") - 1]
    answer.source += "\n\nif False:\n    raise NotImplementedError('negative learning rates')\n"
    report = doctor.Report(notebook="x.ipynb")
    doctor.check_unanswered(notebook, report)
    assert report.unanswered == []
    released = nbformat.read(RELEASED, as_version=4)
    doctor.check_unanswered(released, report)
    assert len([f for f in report.unanswered if f.kind == "answer"]) == 6


def test_missing_record_of_the_release_is_named_as_the_reason():
    report = doctor.Report(notebook="x.ipynb", manifest_missing=True)
    text = doctor.format_report(report)
    assert "SKIPPED  edited and deleted test cells: the course library's record of the release is missing" in text


def test_a_failure_of_the_check_itself_exits_2(monkeypatch, capsys, tmp_path):
    def broken_check(*args, **kwargs):
        raise RuntimeError("kernel protocol surprise")

    monkeypatch.setattr(doctor, "diagnose", broken_check)
    assert doctor.main([str(tmp_path / "any.ipynb")]) == 2
    err = capsys.readouterr().err
    assert "could not finish checking" in err and "kernel protocol surprise" in err and "not changed" in err


def error_output(name: str, value: str = ""):
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}"])


def graded_cell(grade_id: str, kind: str, points: float | None = None):
    cell = nbformat.v4.new_code_cell("...")
    cell.metadata["nbgrader"] = grading.release_metadata(grade_id, kind, points)
    return cell


def test_a_failing_test_is_worded_as_grading_words_it():
    test = graded_cell("ex1-test", grading.TEST, 1.0)
    stub = doctor._failure(3, test, error_output("NotImplementedError"))
    assert stub.message == grading.failure_message("NotImplementedError") == \
        f"NotImplementedError ({grading.UNWRITTEN_ANSWER})"
    bare = doctor._failure(3, test, error_output("AssertionError"))
    assert bare.message == f"AssertionError ({grading.SILENT_CHECK_FAILED})"  # the released test has no hidden part
    worded = doctor._failure(3, test, error_output("AssertionError", "W is wrong"))
    assert worded.message == "AssertionError: W is wrong"
    # a cell that is not a test says what it raised, nothing about checks
    assert doctor._failure(4, nbformat.v4.new_code_cell("x"), error_output("NotImplementedError")).message == \
        "NotImplementedError"


def test_an_unwritten_answer_counts_once_and_its_tests_score_nothing():
    cells = [graded_cell("ex1", grading.ANSWER), graded_cell("ex1-test", grading.TEST, 2.0),
             graded_cell("ex2", grading.ANSWER), graded_cell("ex2-test", grading.TEST, 1.0),
             graded_cell("ex3-test", grading.TEST, 1.0)]
    graded = nbformat.v4.new_notebook(cells=cells)

    def report_of(unwritten: bool):
        report = doctor.Report(notebook="x.ipynb")
        if unwritten:
            report.unanswered.append(doctor.Finding(1, "ex1", "answer", "still raises NotImplementedError"))
        report.failed = [doctor._failure(2, cells[1], error_output("NotImplementedError")),
                         doctor._failure(4, cells[3], error_output("AssertionError", "db is wrong")),
                         doctor._failure(5, cells[4], error_output("NotImplementedError"))]
        doctor.set_aside_unwritten(report)
        doctor.estimate_score(graded, [1, 2, 3, 4, 5], None, report, None)
        return report

    report = report_of(unwritten=True)
    # the stub is one problem; its failing checks wait for it; a real failure stays a problem
    assert [f.grade_id for f in report.waiting_tests] == ["ex1-test", "ex3-test"]
    assert [f.grade_id for f in report.failed] == ["ex2-test"]
    assert report.problems == 2
    assert {t.grade_id: t.status for t in report.tests} == {"ex1-test": "failed", "ex2-test": "failed",
                                                           "ex3-test": "failed"}
    assert report.estimated_points == 0 and report.autograded_points == 4
    text = doctor.format_report(report)
    assert "WAITING  checks of the answers not written yet: 2 test cells" in text
    assert "Verdict: 2 problems found" in text
    # with every answer written, a bare NotImplementedError is the student's own: a failure
    report = report_of(unwritten=False)
    assert report.waiting_tests == [] and len(report.failed) == 3 and report.problems == 3
