"""The student edition (`python -m autograde publish`): what students get, and only that.

Built into a temporary folder from this checkout. It is checked by parsing, not only by grepping
markers: no statement of a solution region, a hidden test or a graded reference's body appears in
any of its code (the library's modules and the notebooks' code cells); a filled-in notebook passes
the doctor run with the edition's own library, a blank one fails; publishing again updates the
folder in place, keeps its git history and reveals references assignment by assignment."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT, run_autograde
from test_sealing import EVERY_REFERENCE, body_statements, definition

from autograde.publish import PublishError, publish
from dlcourse.grading import HIDDEN_BEGIN, HIDDEN_END, cell_kind, grade_id, source_sha256

URL = "https://github.com/example-school/deep-learning-2027"
REVEALED = "03-backprop"
HELD = {ref: owner for ref, owner in EVERY_REFERENCE.items() if owner[0] != REVEALED}
STUDENT_FILES = {".edition.json", ".gitignore", "Makefile", "README.md", "course", "environment.yml", "lib",
                 "postBuild", "pyproject.toml", "requirements.txt"}


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("edition") / "student-edition"
    # 04's residual block builds on 03's affine_backward: 03 is revealed for the edition to hold 04
    result = run_autograde(ROOT, "publish", str(dest), "--repository", URL, "--reveal", REVEALED, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"wrote the student edition to {dest}" in result.stdout
    return dest


def code_statements(source: str) -> set[str]:
    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    return {ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.stmt)}


def edition_statements(edition: Path) -> set[str]:
    found = set()
    for path in edition.rglob("*.py"):
        found |= code_statements(path.read_text(encoding="utf-8"))
    for path in edition.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                found |= code_statements(cell.source)
    return found


def region(source: str, begin: str, end: str) -> str:
    """The lines between nbgrader's begin and end markers (all such regions of the cell)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            kept.append(line)
    return "\n".join(kept)


def test_the_edition_holds_only_what_students_get(edition):
    assert {p.name for p in edition.iterdir()} == STUDENT_FILES
    names = {str(p.relative_to(edition)) for p in edition.rglob("*")}
    for forbidden in ("solutions", "tests", "autograde", "nbgrader_config.py", "gradebook.db", "known_mistakes"):
        assert not any(forbidden in name.split("/") for name in names), forbidden
    assert sorted(p.parent.name for p in (edition / "course").glob("*/*.ipynb")) == ASSIGNMENTS


@cache
def public_statements() -> frozenset:
    """Statements students may see: the released notebooks' and the library's outside its graded
    references (argument checks, imports, a starter's first line)."""
    public = set()
    for assignment in ASSIGNMENTS:
        for cell in nbformat.read(ROOT / "course" / assignment / f"{assignment}.ipynb", as_version=4).cells:
            public |= code_statements(cell.source) if cell.cell_type == "code" else set()
    sealed = {r.rpartition(".")[::2] for r in EVERY_REFERENCE}
    for path in (ROOT / "lib" / "dlcourse").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT / "lib").with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (module, getattr(node, "name", None)) not in sealed:
                public |= body_statements(node) | {ast.unparse(node)}
    return frozenset(public)


def test_no_solution_or_hidden_test_statement_is_in_the_edition(edition):
    """Every statement of a solution region or hidden test that students may not see otherwise."""
    shipped = edition_statements(edition)
    released = public_statements()
    checked = 0
    for assignment in ASSIGNMENTS:
        solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in solution.cells:
            secret = (region(cell.source, "BEGIN SOLUTION", "END SOLUTION") if cell_kind(cell) == "answer" else
                      region(cell.source, HIDDEN_BEGIN, HIDDEN_END) if cell_kind(cell) == "test" else "")
            # a region is indented inside its function: parse it as the body of one
            wrapped = "def _region():\n" + "\n".join("    " + line for line in secret.split("\n")) + "\n    pass"
            statements = {s for s in code_statements(wrapped) if len(s) > 25 and not s.startswith("def _region")}
            leaked = (statements - released) & shipped
            assert not leaked, f"{assignment} {grade_id(cell)}: the edition holds {sorted(leaked)[0]!r}"
            checked += len(statements)
    assert checked > 500, "the check found too few statements to mean anything"
    for path in (edition / "course").glob("*/*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            assert "BEGIN SOLUTION" not in cell.source and HIDDEN_BEGIN not in cell.source


def test_no_graded_reference_code_is_in_the_edition(edition):
    shipped = edition_statements(edition)
    elsewhere = public_statements()
    assert len(HELD) > 60
    for reference in HELD:
        module, _, name = reference.rpartition(".")
        source = (ROOT / "lib" / Path(*module.split("."))).with_suffix(".py").read_text(encoding="utf-8")
        leaked = (body_statements(definition(ast.parse(source), name)) & shipped) - elsewhere
        assert not leaked, f"{reference}: the edition holds {sorted(leaked)[0]!r}"


def test_library_functions_that_do_an_exercises_work_are_held_back_unless_a_notebook_uses_them(edition):
    record = json.loads((edition / ".edition.json").read_text())
    assert record["revealed"] == [REVEALED] and record["published"] == ASSIGNMENTS
    gru = (edition / "lib" / "dlcourse" / "np" / "rnn.py").read_text()
    stub = definition(ast.parse(gru), "gru_step_forward")
    assert "SealedReference" in ast.unparse(stub) and "Exercise 7 of 06-rnn-lstm" in ast.unparse(stub)
    # the forward 06's checks differentiate through stays whole
    assert "SealedReference" not in ast.unparse(definition(ast.parse(gru), "lstm_step_forward"))


def test_the_edition_points_at_its_repository_and_its_record_matches_its_notebooks(edition):
    owner_repo = URL.removeprefix("https://github.com/")
    readme = (edition / "README.md").read_text()
    assert f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/course" in readme
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/course/01-perceptron" in readme
    assert "make doctor" in readme and "make lab" in readme
    assert f'Repository = "{URL}"' in (edition / "pyproject.toml").read_text()
    record = json.loads((edition / "lib" / "dlcourse" / "assignments.json").read_text())
    for entry in record.values():
        assert all("known_mistakes" not in exercise for exercise in entry["exercises"])
        notebook = nbformat.read(edition / "course" / entry["assignment"] / entry["notebook"], as_version=4)
        install = next(c for c in notebook.cells if grade_id(c) == "install")
        assert f"git+{URL}" in install.source
        recorded = next(c for c in entry["cells"] if c["grade_id"] == "install")
        assert recorded["sha256"] == source_sha256(install.source)
        assert recorded["checksum"] == install.metadata["nbgrader"]["checksum"]


def filled_in(edition: Path, assignment: str, answers: dict | None = None):
    """The edition's notebook with the solution's answer cells (or ``answers``) written in."""
    notebook = nbformat.read(edition / "course" / assignment / f"{assignment}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    written = {grade_id(c): c.source for c in solution.cells if cell_kind(c) in ("answer", "written")}
    written.update(answers or {})
    for cell in notebook.cells:
        if grade_id(cell) in written:
            cell.source = written[grade_id(cell)]
    return notebook


def doctor(edition: Path, path: Path) -> subprocess.CompletedProcess:
    """The doctor of the edition's own library (ahead of the installed one), as a student runs it."""
    env = {**os.environ, "PYTHONPATH": str(edition / "lib")}
    return subprocess.run([sys.executable, "-m", "dlcourse", "doctor", "--json", str(path)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=edition)


def test_the_doctor_in_the_edition_passes_a_finished_notebook_and_fails_a_blank_or_delegating_one(edition, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    finished = work / "01-perceptron.ipynb"
    nbformat.write(filled_in(edition, "01-perceptron"), finished)
    result = doctor(edition, finished)
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["failed"] + report["edited"] + report["shortcuts"]
    assert report["estimated_points"] == report["autograded_points"] > 0

    blank = work / "blank" / "01-perceptron.ipynb"
    blank.parent.mkdir()
    shutil.copy(edition / "course" / "01-perceptron" / "01-perceptron.ipynb", blank)
    result = doctor(edition, blank)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["unanswered"] and report["estimated_points"] == 0

    delegating = work / "delegating" / "01-perceptron.ipynb"
    delegating.parent.mkdir()
    nbformat.write(filled_in(edition, "01-perceptron", {"ex3_train": (
        "from dlcourse.np import perceptron\nperceptron_train = getattr(perceptron, 'perceptron_' + 'train')")}),
        delegating)
    report = json.loads(doctor(edition, delegating).stdout)
    messages = " ".join(f["message"] for f in report["failed"] + report["shortcuts"])
    assert "computed name" in messages and "SealedReference" in messages and "Exercise 3" in messages


def test_publishing_again_updates_in_place_keeps_history_and_reveals_one_assignment_at_a_time(edition, tmp_path):
    dest = tmp_path / "edition"
    shutil.copytree(edition, dest)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(dest)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "first edition"], check=True)
    stale = dest / "course" / "00-gone" / "00-gone.ipynb"
    stale.parent.mkdir()
    stale.write_text("{}")
    record = json.loads((dest / ".edition.json").read_text())
    record["files"].append("course/00-gone/00-gone.ipynb")
    (dest / ".edition.json").write_text(json.dumps(record))
    (dest / "notes.txt").write_text("the instructor's own file stays")

    summary = publish(ROOT, dest, reveal=["01-perceptron"])
    assert summary["revealed"] == ["01-perceptron", REVEALED] and summary["repository"] == URL
    assert summary["removed"] == ["course/00-gone/00-gone.ipynb"] and not stale.parent.exists()
    assert (dest / "notes.txt").is_file()
    log = subprocess.run([*git, "log", "--oneline"], capture_output=True, text=True, check=True).stdout
    assert "first edition" in log
    changed = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    paths = [line[3:] for line in changed.splitlines()]
    assert "lib/dlcourse/np/perceptron.py" in paths and not any(p.startswith("course/") for p in paths)
    real = (ROOT / "lib" / "dlcourse" / "np" / "perceptron.py").read_text()
    assert (dest / "lib" / "dlcourse" / "np" / "perceptron.py").read_text() == real
    assert "SealedReference" in (dest / "lib" / "dlcourse" / "np" / "optim.py").read_text()
    # revealing is cumulative: a later edition keeps 01 revealed and adds 02
    summary = publish(ROOT, dest, reveal=["02-gradient-descent"])
    assert summary["revealed"] == ["01-perceptron", "02-gradient-descent", REVEALED]
    assert "SealedReference" not in (dest / "lib" / "dlcourse" / "np" / "optim.py").read_text()
    assert all(not r.startswith(("dlcourse.np.perceptron.", "dlcourse.np.optim.")) for r in summary["sealed"])


def scratch_course(tmp_path: Path) -> Path:
    """What publish reads of a course: course/, lib/dlcourse and the set-up files."""
    root = tmp_path / "course-copy"
    shutil.copytree(ROOT / "course", root / "course")
    shutil.copytree(ROOT / "lib" / "dlcourse", root / "lib" / "dlcourse", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "requirements.txt", "environment.yml", "postBuild"):
        shutil.copy(ROOT / name, root / name)
    return root


def add_cell(root: Path, assignment: str, source: str) -> None:
    path = root / "course" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, path)


def test_a_notebook_that_calls_an_unrevealed_assignments_reference_is_refused(tmp_path):
    root = scratch_course(tmp_path)
    add_cell(root, "02-gradient-descent",
             "from dlcourse.np import perceptron as np_perceptron\nW, trace = np_perceptron.perceptron_train(X, t, W0)")
    with pytest.raises(PublishError, match=re.escape(
            "02-gradient-descent calls dlcourse.np.perceptron.perceptron_train, the answer to Exercise 3 of "
            "01-perceptron, which is not revealed")):
        publish(root, tmp_path / "edition")
    assert not (tmp_path / "edition").exists(), "a refused edition writes nothing"
    assert publish(root, tmp_path / "edition", reveal=["01-perceptron", REVEALED])["revealed"] == [
        "01-perceptron", REVEALED]


def test_assignments_are_published_one_after_another_and_a_solution_on_an_unrevealed_one_is_refused(tmp_path):
    dest = tmp_path / "edition"
    summary = publish(ROOT, dest, assignments=["01-perceptron"])
    assert summary["published"] == ["01-perceptron"]
    assert sorted(p.name for p in (dest / "course").iterdir()) == ["01-perceptron"]
    record = json.loads((dest / "lib" / "dlcourse" / "assignments.json").read_text())
    assert [entry["assignment"] for entry in record.values()] == ["01-perceptron"]
    assert "05-convolution" not in (dest / "README.md").read_text()
    # what students of 04 are to write builds on 03's affine_backward: not while 03 is held back
    with pytest.raises(PublishError, match=re.escape(
            "04-training-deep-networks's solution calls dlcourse.np.layers.affine_backward, the answer to "
            "Exercise 4 of 03-backprop, which is not revealed")):
        publish(ROOT, dest, assignments=["04-training-deep-networks"])
    summary = publish(ROOT, dest, assignments=["04-training-deep-networks"], reveal=["03-backprop"])
    assert summary["published"] == ["01-perceptron", "04-training-deep-networks"]
    assert sorted(p.name for p in (dest / "course").iterdir()) == ["01-perceptron", "04-training-deep-networks"]


def test_a_notebook_that_reaches_an_unrevealed_reference_through_the_library_is_refused(tmp_path):
    """A library helper (added to the scratch copy) that calls 01-perceptron's Exercise 3 itself."""
    root = scratch_course(tmp_path)
    with (root / "lib" / "dlcourse" / "plot.py").open("a") as plot:
        plot.write("\n\ndef trained_boundary(X, t, W0):\n    from dlcourse.np import perceptron\n"
                   "    return perceptron.perceptron_train(X, t, W0)[0]\n")
    add_cell(root, "03-backprop", "from dlcourse import plot\nW = plot.trained_boundary(X, t, W0)")
    with pytest.raises(PublishError, match=re.escape(
            "03-backprop calls dlcourse.plot.trained_boundary, which calls dlcourse.np.perceptron.perceptron_train, "
            "the answer to Exercise 3 of 01-perceptron, which is not revealed")):
        publish(root, tmp_path / "edition")


def test_bad_requests_are_refused_with_a_reason(tmp_path):
    result = run_autograde(ROOT, "publish", str(tmp_path / "e"), "--reveal", "99-nothing")
    assert result.returncode == 2 and "cannot reveal 99-nothing" in result.stderr
    result = run_autograde(ROOT, "publish", str(ROOT / "build" / "edition"))
    assert result.returncode == 2 and "inside the course repository" in result.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    result = run_autograde(ROOT, "publish", str(tmp_path / "busy"))
    assert result.returncode == 2 and "not an edition this command wrote" in result.stderr
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "mine"


def test_library_reading_leaves_out_what_a_helper_falls_back_on(tmp_path):
    """A helper that takes an exercise's function reaches the reference only through its
    default (the caller passes its own), however the default is written; a call it makes
    itself is reached."""
    from autograde.publish import library_reads

    package = tmp_path / "dlcourse"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(
        "from dlcourse.np import conv\n\n\n"
        "def signature(x, *, im2col=conv.im2col):\n    return im2col(x)\n\n\n"
        "def statement(x, *, im2col=None):\n    if im2col is None:\n        im2col = conv.im2col\n"
        "    return im2col(x)\n\n\n"
        "def expression(x, *, im2col=None):\n    return (conv.im2col if im2col is None else im2col)(x)\n\n\n"
        "def either(x, *, im2col=None):\n    return (im2col or conv.im2col)(x)\n\n\n"
        "def itself(x):\n    return conv.im2col(x)\n")
    reads = library_reads(package)
    for name in ("signature", "statement", "expression", "either"):
        assert "dlcourse.np.conv.im2col" not in reads[f"dlcourse.helpers.{name}"], name
    assert "dlcourse.np.conv.im2col" in reads["dlcourse.helpers.itself"]


def test_an_edited_record_cannot_make_publish_delete_outside_the_edition(edition, tmp_path):
    dest = tmp_path / "edition"
    shutil.copytree(edition, dest)
    victim = tmp_path / "victim" / "own.txt"
    victim.parent.mkdir()
    victim.write_text("mine")
    record = json.loads((dest / ".edition.json").read_text())
    record["files"].append("../victim/own.txt")
    (dest / ".edition.json").write_text(json.dumps(record))
    with pytest.raises(PublishError, match=re.escape("lists '../victim/own.txt', which is not a file of the edition")):
        publish(ROOT, dest)
    assert victim.read_text() == "mine"
