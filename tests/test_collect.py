"""`python -m autograde collect` (Moodle and Canvas export zips, plain folders, a roster, zips
that wrap their submissions in a folder, never overwriting silently, damaged zips, names that
only look right) and the LMS grade-import files `export` writes."""

import csv
import json
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, copy_course, run_autograde
from nbgrader.api import Gradebook

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import collect  # noqa: E402

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


def test_a_wrapping_folder_is_stripped(course, tmp_path):
    """A zipped folder of submissions: its folder is not a student (it used to collect bob's
    notebook for a student called "subs" and leave alice's out), and macOS's extras are skipped."""
    source = make_zip(tmp_path / "subs.zip", {
        f"subs/alice/{NOTEBOOK}": notebook_bytes("solutions"),
        "subs/alice/notes.txt": b"my notes\n",
        f"subs/alice/.ipynb_checkpoints/{ASSIGNMENT}-checkpoint.ipynb": b"{}",
        "subs/bob.ipynb": notebook_bytes(),
        f"subs/carol/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes(),
        "subs/.DS_Store": b"\0",
        "__MACOSX/subs/._bob.ipynb": b"junk",
    })
    result = run_autograde(course, "collect", str(source), ASSIGNMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"collected {ASSIGNMENT} from {source} (inside its folder subs/):" in result.stdout
    assert submitted(course) == {"alice": [NOTEBOOK, "notes.txt"], "bob": [NOTEBOOK], "carol": [NOTEBOOK]}
    target = course / "autograde" / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK
    assert target.read_bytes() == notebook_bytes("solutions")


def collect_zip(tmp_path: Path, entries: dict[str, bytes], roster: dict | None = None) -> dict[str, list[str]]:
    """Collect a zip of ``entries`` (every notebook the release) in-process: {student: files} written."""
    source = make_zip(tmp_path / "source.zip", {name: notebook_bytes() for name in entries} | {
        name: data for name, data in entries.items() if data is not None})
    target = tmp_path / "submitted"
    out = collect.collect(source, ASSIGNMENT, target, expected=[NOTEBOOK], roster=roster or {})
    assert not out.unmapped and not out.conflicts, (out.unmapped, out.conflicts)
    return {p.name: sorted(f.name for f in (p / ASSIGNMENT).iterdir()) for p in sorted(target.iterdir())}


def roster_of(*students: str) -> dict:
    return {f"{1000 + i}": {"student_id": s, "lms_id": f"{1000 + i}"} for i, s in enumerate(students)}


@pytest.mark.parametrize("entries, roster, collected", [
    pytest.param([f"alice/{NOTEBOOK}"], None, {"alice": [NOTEBOOK]}, id="one student's folder"),
    pytest.param([f"alice/{ASSIGNMENT}/{NOTEBOOK}", "alice/notes.txt"], None, {"alice": [NOTEBOOK, "notes.txt"]},
                 id="one student's folder, assignment folder inside"),
    pytest.param([f"alice/{ASSIGNMENT} (1).ipynb"], None, {"alice": [f"{ASSIGNMENT} (1).ipynb"]},
                 id="one student's folder, a second download"),
    pytest.param([f"export/subs/alice/{NOTEBOOK}", "export/subs/bob.ipynb"], None,
                 {"alice": [NOTEBOOK], "bob": [NOTEBOOK]}, id="nested wrapping folders"),
    pytest.param([f"{ASSIGNMENT}/alice/{NOTEBOOK}", f"{ASSIGNMENT}/bob/{NOTEBOOK}"], None,
                 {"alice": [NOTEBOOK], "bob": [NOTEBOOK]}, id="wrapping folder named after the assignment"),
    pytest.param([f"subs/alice/{NOTEBOOK}"], roster_of("alice"), {"alice": [NOTEBOOK]},
                 id="one submission in a folder, the roster names the student"),
    pytest.param(["subs/bob.ipynb", "subs/carol.ipynb"], roster_of("bob", "carol"),
                 {"bob": [NOTEBOOK], "carol": [NOTEBOOK]}, id="student.ipynb files in a folder, on the roster"),
    pytest.param(["alice/perceptron.ipynb"], roster_of("alice"), {"alice": ["perceptron.ipynb"]},
                 id="a misnamed notebook in a folder the roster names"),
])
def test_zip_layouts_collected(tmp_path, entries, roster, collected):
    assert collect_zip(tmp_path, dict.fromkeys(entries), roster) == collected


def test_a_wrapped_lms_export_is_read_as_the_export(tmp_path):
    roster = {"1001": {"student_id": "ada", "lms_id": "1001"}, "2002": {"student_id": "grace", "lms_id": "2002"}}
    assert collect_zip(tmp_path, {f"Export/Ada Lovelace_1001_assignsubmission_file_/{NOTEBOOK}": None,
                                  f"Export/Grace Hopper_2002_assignsubmission_file_{NOTEBOOK}": None},
                       roster) == {"ada": [NOTEBOOK], "grace": [NOTEBOOK]}
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    assert collect_zip(canvas, {f"submissions/lovelaceada_1001_9001_{NOTEBOOK}": None}) == {"1001": [NOTEBOOK]}


@pytest.mark.parametrize("entries, roster, why", [
    pytest.param([f"subs/alice/{NOTEBOOK}"], None, "it holds one submission only, subs/alice/",
                 id="one submission in a folder"),
    pytest.param([f"alice/old/{NOTEBOOK}"], None, "it holds one submission only, alice/old/",
                 id="a student's notebook in a subfolder"),
    pytest.param(["subs/bob.ipynb", "subs/carol.ipynb"], None, "notebooks not named after the assignment",
                 id="student.ipynb files in a folder"),
    pytest.param(["alice/perceptron.ipynb"], None, "notebooks not named after the assignment",
                 id="a misnamed notebook in a folder"),
    pytest.param([f"subs/{NOTEBOOK}", f"subs/alice/{NOTEBOOK}"], None, "a notebook of its own (subs/",
                 id="a notebook of its own and another submission"),
    pytest.param([f"subs/alice/{NOTEBOOK}", "subs/bob.ipynb", "README.txt"], None,
                 "subs/ looks like a folder around submissions", id="a wrapping folder beside a file"),
    pytest.param([f"{ASSIGNMENT}/{NOTEBOOK}"], None, "named after the assignment",
                 id="a folder named as the assignment"),
    pytest.param([f"alice/bob/{NOTEBOOK}", f"alice/carol/{NOTEBOOK}"], roster_of("alice", "bob"),
                 "the roster names both alice and bob", id="wrapping folder named as a student on the roster"),
    pytest.param([f"alice/bob/{NOTEBOOK}", f"alice/carol/{NOTEBOOK}"], roster_of("alice"),
                 "the roster names alice, but it holds submissions", id="a roster's student holding submissions"),
])
def test_an_unclear_zip_is_refused_whole(tmp_path, entries, roster, why):
    with pytest.raises(ValueError, match="nothing collected from") as refused:
        collect_zip(tmp_path, dict.fromkeys(entries), roster)
    assert why in str(refused.value)
    assert f"Expected <student>/{NOTEBOOK}, <student>/{ASSIGNMENT}/{NOTEBOOK}, <student>.ipynb" in str(refused.value)
    assert not (tmp_path / "submitted").exists(), "nothing may be written"


def test_collect_refuses_an_unclear_zip_and_writes_nothing(course, tmp_path):
    source = make_zip(tmp_path / "one.zip", {f"subs/alice/{NOTEBOOK}": notebook_bytes()})
    result = run_autograde(course, "collect", str(source), ASSIGNMENT)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"nothing collected from {source}: every file sits in subs/" in result.stderr
    assert "unzip it and collect the folder that holds the students' folders" in result.stderr
    assert not (course / "autograde" / "submitted").exists()
    assert not (course / "autograde" / "collected").exists()
    # unzipped, the folder that holds the students is read as given
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / NOTEBOOK).write_bytes(notebook_bytes())
    result = run_autograde(course, "collect", str(tmp_path / "subs"), ASSIGNMENT)
    assert result.returncode == 0, result.stderr
    assert submitted(course) == {"alice": [NOTEBOOK]}


def test_files_named_after_the_assignment_are_no_student(tmp_path):
    source = make_zip(tmp_path / "source.zip", {NOTEBOOK: notebook_bytes(), "bob.ipynb": notebook_bytes(),
                                                f"{ASSIGNMENT}/notes.txt": b"", f"ada/{NOTEBOOK}": notebook_bytes()})
    out = collect.collect(source, ASSIGNMENT, tmp_path / "submitted", expected=[NOTEBOOK], roster={})
    assert sorted(out.copied) == ["ada", "bob"]
    problems = dict(out.unmapped)
    assert "named after the assignment's notebook, not after a student" in problems[NOTEBOOK]
    assert "in a folder named after the assignment" in problems[f"{ASSIGNMENT}/notes.txt"]


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


# ---------------------------------------------------------------- damaged zips and names that only look right

def damaged_zip(path: Path, entries: dict[str, bytes], member: str, how: str) -> Path:
    """A zip of ``entries`` whose ``member`` is damaged as ``how`` says, byte by byte as a bad disk,
    a cut download or an unusual zipper leaves it: "deflate" (its compressed data begins with an
    invalid deflate block: zlib.error), "checksum" (stored, one byte of it changed: a CRC error),
    "header" (its local header's signature overwritten), "encrypted" (flagged as encrypted),
    "method" (a compression method zipfile lacks)."""
    compression = zipfile.ZIP_STORED if how == "checksum" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        local = archive.getinfo(member).header_offset
    raw = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", raw[local + 26:local + 30])
    data = local + 30 + name_length + extra_length
    central = raw.index(b"PK\x01\x02")  # the member's entry in the table of contents
    while raw[central + 46:central + 46 + struct.unpack("<H", raw[central + 28:central + 30])[0]] != member.encode():
        central = raw.index(b"PK\x01\x02", central + 4)
    if how == "deflate":
        raw[data] = 0xFF  # a deflate block of type 3, which does not exist
    elif how == "checksum":
        raw[data + 10] ^= 0xFF
    elif how == "header":
        raw[local:local + 4] = b"XXXX"
    elif how == "encrypted":
        raw[central + 8] |= 0x01
    elif how == "method":
        raw[central + 10:central + 12] = struct.pack("<H", 99)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how, why", [
    ("deflate", "could not be read, it is damaged (zlib.error: Error -3 while decompressing data: invalid block type)"),
    ("checksum", f"could not be read, it is damaged (zipfile.BadZipFile: Bad CRC-32 for file 'bob/{NOTEBOOK}')"),
    ("header", "could not be read, it is damaged (zipfile.BadZipFile: Bad magic number for file header)"),
    ("encrypted", "could not be read: encrypted with a password (collect takes none)"),
    ("method", "could not be read: compressed in a way Python's zipfile cannot read"),
])
def test_a_damaged_entry_holds_back_its_student_only(tmp_path, how, why):
    """One entry that cannot be read is reported, its student's submission is not written (not even
    the files that could be read: grading would score the notebook as missing), and everyone else
    is collected. It used to end collect with a traceback, nobody collected."""
    source = damaged_zip(tmp_path / "class.zip", {f"alice/{NOTEBOOK}": notebook_bytes(), "bob/notes.txt": b"notes",
                                                  f"bob/{NOTEBOOK}": notebook_bytes(), f"carol/{NOTEBOOK}": b"{}"},
                         f"bob/{NOTEBOOK}", how)
    out = collect.collect(source, ASSIGNMENT, tmp_path / "submitted", expected=[NOTEBOOK], roster={})
    assert out.copied == {"alice": [NOTEBOOK], "carol": [NOTEBOOK]}
    assert why in dict(out.unmapped)[f"bob/{NOTEBOOK}"]
    assert dict(out.held_back)["bob"].startswith("not collected (nothing of bob's written), since bob/")
    assert sorted(p.name for p in (tmp_path / "submitted").iterdir()) == ["alice", "carol"]


def test_collect_reports_a_damaged_entry_and_a_cut_zip(course, tmp_path):
    source = damaged_zip(tmp_path / "class.zip", {f"alice/{NOTEBOOK}": notebook_bytes(),
                                                  f"bob/{NOTEBOOK}": notebook_bytes()}, f"bob/{NOTEBOOK}", "deflate")
    result = run_autograde(course, "collect", str(source), ASSIGNMENT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"bob/{NOTEBOOK}: could not be read, it is damaged (zlib.error:" in result.stderr
    assert "bob: not collected (nothing of bob's written)" in result.stderr
    assert "1 collected, 0 unchanged, 2 not collected" in result.stdout
    assert submitted(course) == {"alice": [NOTEBOOK]}

    # a download cut short has no table of contents: who is missing cannot be known, nothing is collected
    cut = tmp_path / "cut.zip"
    cut.write_bytes(make_zip(tmp_path / "whole.zip", {f"carol/{NOTEBOOK}": notebook_bytes(),
                                                     f"dave/{NOTEBOOK}": notebook_bytes()}).read_bytes()[:3000])
    result = run_autograde(course, "collect", str(cut), ASSIGNMENT)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"nothing collected from {cut}: it is a zip cut short" in result.stderr
    raw = bytearray((tmp_path / "whole.zip").read_bytes())
    table = raw.index(b"PK\x01\x02")
    raw[table:table + 4] = b"XXXX"
    (tmp_path / "table.zip").write_bytes(bytes(raw))
    result = run_autograde(course, "collect", str(tmp_path / "table.zip"), ASSIGNMENT)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "its table of contents is damaged (Bad magic number for central directory)" in result.stderr
    assert submitted(course) == {"alice": [NOTEBOOK]}


def collect_names(tmp_path: Path, names: list[str], roster: dict | None = None) -> collect.Collected:
    source = make_zip(tmp_path / "names.zip", {name: notebook_bytes() for name in names})
    return collect.collect(source, ASSIGNMENT, tmp_path / "submitted", expected=[NOTEBOOK], roster=roster or {})


@pytest.mark.parametrize("name", [
    pytest.param(f"alice/{NOTEBOOK}\n", id="a newline at the end"),
    pytest.param(f"alice/{NOTEBOOK} ", id="a space at the end"),
    pytest.param(f"alice/\t{NOTEBOOK}", id="a tab in front"),
    pytest.param(f"alice/{NOTEBOOK}\u3000", id="an ideographic space"),
    pytest.param("alice/０１-perceptron.ipynb", id="full-width digits"),
    pytest.param(f"alice/{ASSIGNMENT}/{NOTEBOOK}\r\n", id="in the assignment folder"),
    pytest.param(f"subs/alice/{NOTEBOOK}\n", id="in a wrapping folder"),
    pytest.param("Alice Liddell_1001_assignsubmission_file_０１-perceptron.ipynb\n", id="Moodle, flat"),
    pytest.param("alice.ipynb\n", id="<student>.ipynb"),
])
def test_a_file_name_is_read_as_meant(tmp_path, name):
    """White space around a file's name and Unicode's compatibility forms (NFKC) are dropped: the
    notebook is collected under the name grading looks for (it used to be written as named, then
    graded as missing), and the report says what it was named."""
    roster = {"1001": {"student_id": "alice", "lms_id": "1001"}}
    entries = [name, f"subs/bob/{NOTEBOOK}"] if name.startswith("subs/") else [name]
    out = collect_names(tmp_path, entries, roster)
    assert not out.unmapped and not out.held_back, out.unmapped
    assert out.copied["alice"] == [NOTEBOOK]
    assert out.renamed == [("alice", name, NOTEBOOK)]
    assert (tmp_path / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK).read_bytes() == notebook_bytes()


@pytest.mark.parametrize("name, why", [
    pytest.param("alice/01-\u0440\u0435rceptron.ipynb", "reads as 01-perceptron.ipynb but is written with "
                 "р (U+0440 CYRILLIC SMALL LETTER ER), е (U+0435 CYRILLIC SMALL LETTER IE), letters of another "
                 f"alphabet that only look like Latin ones (it would be graded as a missing notebook): rename it to "
                 f"{NOTEBOOK}", id="Cyrillic letters"),
    pytest.param("alice/01-perceptr\u03bfn (1).ipynb", "written with ο (U+03BF GREEK SMALL LETTER OMICRON)",
                 id="a Greek letter in a second download"),
    pytest.param("alice/01-perceptron.\u0456pynb", f"rename it to {NOTEBOOK}", id="a Cyrillic letter in .ipynb"),
    pytest.param("alice/01-percep\ntron.ipynb", f"cannot be seen: \\n (U+000A); rename it to {NOTEBOOK}",
                 id="a newline inside"),
    pytest.param("alice/01-perceptron\u200b.ipynb", "cannot be seen: \\u200b (U+200B ZERO WIDTH SPACE)",
                 id="zero width"),
    pytest.param("alice/notes\u202etxt.ipynb", "cannot be seen: \\u202e (U+202E RIGHT-TO-LEFT OVERRIDE); rename it "
                 "to notestxt.ipynb", id="a right-to-left override"),
    pytest.param("alice/\x1b[2Jnotes.txt", "cannot be seen: \\x1b (U+001B)", id="a terminal escape"),
])
def test_a_file_name_that_only_looks_right_is_refused(tmp_path, name, why):
    """Letters of another alphabet are not the notebook's name, and characters that cannot be seen
    hide what a name is: refused, with the name to rename it to; the student's other files wait
    for it (nothing of alice's written), bob is collected."""
    out = collect_names(tmp_path, [name, "alice/notes.md", f"bob/{NOTEBOOK}"])
    assert why in dict(out.unmapped)[name], out.unmapped
    assert "alice" in dict(out.held_back)
    assert out.copied == {"bob": [NOTEBOOK]}


@pytest.mark.parametrize("name, why", [
    pytest.param(f"\u0430lice/{NOTEBOOK}", "'аlice' cannot be a student id (ASCII letters, digits, _ . @ - only): "
                 "it reads as alice (alice is on the roster), but is written with а (U+0430 CYRILLIC SMALL LETTER "
                 "A); a student is known only by the id as written: rename 'аlice/' to alice/ if it is alice's",
                 id="a Cyrillic letter"),
    pytest.param(f"ａｌｉｃｅ/{NOTEBOOK}", "rename 'ａｌｉｃｅ/' to alice/ if it is alice's", id="full-width"),
    pytest.param(f"alice\n/{NOTEBOOK}", "'alice\\n' cannot be a student id", id="a newline at the end"),
    pytest.param(f"alice /{NOTEBOOK}", "written with U+0020 SPACE; a student is known only by the id as written: "
                 "rename 'alice /' to alice/", id="a space at the end"),
    pytest.param("\u0430lice.ipynb", "rename 'аlice.ipynb' to alice.ipynb if it is alice's", id="<student>.ipynb"),
    pytest.param("ａｌｉｃｅ.ipynb", "whose it is reads as alice (alice is on the roster), but is written with "
                 "ａ (U+FF41 FULLWIDTH LATIN SMALL LETTER A)", id="<student>.ipynb, full-width"),
    pytest.param(f"Mallory_１００２_assignsubmission_file_{NOTEBOOK}", "whose it is reads as alice (alice is on the "
                 "roster), but is written with １ (U+FF11 FULLWIDTH DIGIT ONE)", id="Moodle id in full-width digits"),
])
def test_a_student_id_is_read_only_as_written(tmp_path, name, why):
    """A folder or file name that only looks like a student's, or is theirs only once normalised,
    never becomes that student: refused, saying whose it looks like and what to rename it to;
    the real alice is collected, with her own notebook."""
    roster = {"1002": {"student_id": "alice", "lms_id": "1002"}}
    source = make_zip(tmp_path / "ids.zip", {name: b"not alice's", f"Alice_1002_assignsubmission_file_/{NOTEBOOK}":
                                             notebook_bytes()})
    out = collect.collect(source, ASSIGNMENT, tmp_path / "submitted", expected=[NOTEBOOK], roster=roster)
    assert why in dict(out.unmapped)[name], out.unmapped
    assert out.copied == {"alice": [NOTEBOOK]} and not out.held_back
    assert (tmp_path / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK).read_bytes() == notebook_bytes()
    assert [p.name for p in (tmp_path / "submitted").iterdir()] == ["alice"]


def test_two_files_named_alike_once_read_as_meant_are_refused(tmp_path):
    out = collect_names(tmp_path, [f"alice/{NOTEBOOK}", f"alice/{NOTEBOOK} ", f"bob/{NOTEBOOK}"])
    assert f"named {NOTEBOOK} once read as meant, as is 'alice/{NOTEBOOK}'" in dict(out.unmapped)[f"alice/{NOTEBOOK} "]
    assert out.copied == {"bob": [NOTEBOOK]} and "alice" in dict(out.held_back)


def test_a_file_of_a_folder_that_cannot_be_read(tmp_path, monkeypatch):
    folder = tmp_path / "hand-ins"
    for student in ("alice", "bob"):
        (folder / student).mkdir(parents=True)
        (folder / student / NOTEBOOK).write_bytes(notebook_bytes())
    read_bytes = Path.read_bytes
    def failing(path):  # a disk error, a file taken away while collect runs (root reads any mode)
        if path.parent.name == "bob":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)
    monkeypatch.setattr(Path, "read_bytes", failing)
    out = collect.collect(folder, ASSIGNMENT, tmp_path / "submitted", expected=[NOTEBOOK], roster={})
    assert out.copied == {"alice": [NOTEBOOK]}
    assert "could not be read ([Errno 13] Permission denied" in dict(out.unmapped)[f"bob/{NOTEBOOK}"]


def test_collect_shows_names_as_they_are(course, tmp_path):
    """What collect prints names what is there: a renamed file with its name in the source (escaped),
    a look-alike folder refused, no terminal escape reaching the terminal."""
    source = make_zip(tmp_path / "odd.zip", {f"carol/{NOTEBOOK}\n": notebook_bytes(), f"\u0430lice/{NOTEBOOK}": b"{}",
                                             "dave/\x1b]0;pwned\x07.txt": b""})
    result = run_autograde(course, "collect", str(source), ASSIGNMENT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"  carol: {NOTEBOOK}\n    {NOTEBOOK}: named 'carol/{NOTEBOOK}\\n' in the source" in result.stdout
    assert "rename 'аlice/' to alice/ if it is alice's" in result.stderr
    assert "dave/\\x1b]0;pwned\\x07.txt: its name holds characters that cannot be seen" in result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert submitted(course) == {"carol": [NOTEBOOK]}
