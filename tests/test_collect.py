"""`python -m autograde collect` (Moodle and Canvas export zips, plain folders, a roster, and
never overwriting silently) and the LMS grade-import files `export` writes."""

import csv
import json
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, copy_course, run_autograde
from nbgrader.api import Gradebook

ASSIGNMENT = "01-perceptron"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


@pytest.fixture
def course(tmp_path):
    return copy_course(tmp_path / "course")


def notebook_bytes(kind: str = "course") -> bytes:
    return (ROOT / kind / ASSIGNMENT / NOTEBOOK).read_bytes()


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def submitted(course: Path) -> dict[str, list[str]]:
    root = course / "autograde" / "submitted"
    return {p.name: sorted(f.name for f in (p / ASSIGNMENT).iterdir())
            for p in sorted(root.iterdir()) if (p / ASSIGNMENT).is_dir()}


def test_moodle_zip_with_a_roster(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,lms_id,name\nada,1001,Ada Lovelace\ngrace,1002,Grace Hopper\n")
    source = make_zip(tmp_path / "moodle.zip", {
        f"Ada Lovelace_1001_assignsubmission_file_/{NOTEBOOK}": notebook_bytes("solutions"),
        "Ada Lovelace_1001_assignsubmission_file_/notes.txt": b"my notes\n",
        f"Grace Hopper_1002_assignsubmission_file_{NOTEBOOK}": notebook_bytes(),       # flat layout
        f"Alan Turing_1003_assignsubmission_file_/{NOTEBOOK}": notebook_bytes(),       # not on the roster
        f"__MACOSX/Ada Lovelace_1001_assignsubmission_file_/._{NOTEBOOK}": b"junk",
        "../../escape.ipynb": b"{}",
        "README.txt": b"what the LMS adds",
    })
    result = run_autograde(course, "collect", str(source), ASSIGNMENT, "--roster", str(roster))
    assert result.returncode == 1, "unmapped entries make the exit status 1"
    assert submitted(course) == {"ada": [NOTEBOOK, "notes.txt"], "grace": [NOTEBOOK]}
    target = course / "autograde" / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK
    assert target.read_bytes() == notebook_bytes("solutions")
    assert "LMS id 1003 (Alan Turing) is not in the roster" in result.stderr
    assert "../../escape.ipynb: unsafe path" in result.stderr
    assert "README.txt: not in a student's folder" in result.stderr
    assert not (course.parent / "escape.ipynb").exists()
    ids = json.loads((course / "autograde" / "collected" / "lms_ids.json").read_text())
    assert ids["ada"] == {"lms": "moodle", "lms_id": "1001", "name": "Ada Lovelace"}


def test_canvas_zip_without_a_roster_uses_lms_ids(course, tmp_path):
    source = make_zip(tmp_path / "canvas.zip", {
        f"lovelaceada_2001_9001_{NOTEBOOK}": notebook_bytes(),
        "hoppergrace_LATE_2002_9002_01-perceptron-1.ipynb": notebook_bytes(),  # late, resubmitted once
    })
    result = run_autograde(course, "collect", str(source), ASSIGNMENT)
    assert result.returncode == 0, result.stderr
    assert submitted(course) == {"2001": [NOTEBOOK], "2002": [NOTEBOOK]}
    assert "2 collected, 0 unchanged, 0 not collected" in result.stdout


def test_folder_source_and_never_overwriting_silently(course, tmp_path):
    folder = tmp_path / "hand-ins"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / NOTEBOOK).write_bytes(notebook_bytes())
    (folder / "grace.ipynb").write_bytes(notebook_bytes())   # one-notebook assignment: <student>.ipynb
    first = run_autograde(course, "collect", str(folder), ASSIGNMENT)
    assert first.returncode == 0, first.stderr
    assert submitted(course) == {"ada": [NOTEBOOK], "grace": [NOTEBOOK]}

    again = run_autograde(course, "collect", str(folder), ASSIGNMENT)
    assert again.returncode == 0 and "ada: unchanged" in again.stdout

    (folder / "ada" / NOTEBOOK).write_bytes(notebook_bytes("solutions"))  # a newer version
    refused = run_autograde(course, "collect", str(folder), ASSIGNMENT)
    assert refused.returncode == 1
    assert "already holds a different submission; pass --force" in refused.stderr
    target = course / "autograde" / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK
    assert target.read_bytes() == notebook_bytes(), "the existing submission must be kept"

    forced = run_autograde(course, "collect", str(folder), ASSIGNMENT, "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes() == notebook_bytes("solutions")
    backups = list((course / "autograde" / "submitted" / ".replaced").glob(f"ada-{ASSIGNMENT}-*/{NOTEBOOK}"))
    assert len(backups) == 1 and backups[0].read_bytes() == notebook_bytes(), "the replaced one is kept"


def test_collect_explains_bad_input(course, tmp_path):
    missing = run_autograde(course, "collect", str(tmp_path / "nowhere.zip"), ASSIGNMENT)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_zip = tmp_path / "grades.zip"
    not_zip.write_text("not a zip")
    result = run_autograde(course, "collect", str(not_zip), ASSIGNMENT)
    assert result.returncode == 2 and "neither a folder nor a zip" in result.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n1,Ada\n")
    folder = tmp_path / "empty"
    folder.mkdir()
    result = run_autograde(course, "collect", str(folder), ASSIGNMENT, "--roster", str(roster))
    assert result.returncode == 2 and "needs the columns student_id and lms_id" in result.stderr


@pytest.mark.filterwarnings("ignore:.*not in session")  # nbgrader's add_submission, harmless
def test_export_writes_lms_import_files(course, tmp_path):
    released = run_autograde(course, "release", ASSIGNMENT, "--force")
    assert released.returncode == 0, released.stderr
    ids = course / "autograde" / "collected" / "lms_ids.json"
    ids.parent.mkdir(parents=True)
    ids.write_text(json.dumps({"ada": {"lms": "moodle", "lms_id": "1001", "name": "Ada Lovelace"}}))
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        for student, points in (("ada", 2.0), ("bob", 0.0)):
            gradebook.update_or_create_student(student)
            gradebook.add_submission(ASSIGNMENT, student)
            grade = gradebook.find_grade("ex1_predict-test-hidden", ASSIGNMENT, ASSIGNMENT, student)
            grade.auto_score = points
        gradebook.db.commit()
    target = tmp_path / "out" / "grades.csv"
    result = run_autograde(course, "export", "--to", str(target))
    assert result.returncode == 0, result.stderr
    worksheet = list(csv.DictReader((tmp_path / "out" / f"grades-moodle-{ASSIGNMENT}.csv").open()))
    ada = next(row for row in worksheet if row["Identifier"] == "Participant 1001")
    assert ada["Full name"] == "Ada Lovelace" and ada["Grade"] == "2"
    assert "bob" in result.stderr and "no moodle id" in result.stderr
    result = run_autograde(course, "export", "--to", str(target), "--lms", "canvas")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader((tmp_path / "out" / "grades-canvas.csv").open()))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and ASSIGNMENT in rows[0]
    assert rows[1][0] == "Points Possible"
    column = rows[0].index(ASSIGNMENT)
    assert {r[1]: r[column] for r in rows[2:]}["bob"] == "0"
