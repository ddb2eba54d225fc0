"""Text a submission wrote, as the grading station shows and stores it (autograde/text.py), and
the coordinator's record, whole or not at all (autograde/station.py). No sandbox, no kernel:
the corpus's escapes and surrogates graded for real are in tests/test_grading_station.py."""

import io
import json
import sys

import nbformat
import pytest
from conftest import ROOT

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import station  # noqa: E402
from autograde.text import printable, storable  # noqa: E402


def test_printable_shows_what_would_steer_a_terminal_and_keeps_ordinary_text():
    assert printable("\x1b]0;pwned\x07\x1b[2J") == r"\x1b]0;pwned\x07\x1b[2J"
    assert printable("a\rb\x9b31m\x7f\u202eevil\u2066") == r"a\rb\x9b31m\x7f\u202eevil\u2066"
    assert printable("lone \ud800 and \udcff") == r"lone \ud800 and \udcff"
    ordinary = "café, 中文, naïve Δx, 👩‍💻 (a joiner), tab\there,\nnext line"
    assert printable(ordinary) == ordinary
    assert printable(ordinary, one_line=True) == ordinary.replace("\n", r"\n")
    assert printable("a\u2028b", one_line=True) == r"a\u2028b"
    hostile = "x\x1b[31m\ud800\n\r"
    assert printable(printable(hostile)) == printable(hostile)  # applied twice: nothing more escaped
    assert printable(printable(hostile, one_line=True), one_line=True) == printable(hostile, one_line=True)
    printable(hostile).encode("utf-8")


def test_storable_escapes_only_what_utf8_cannot_hold():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('\\ud800')")])
    notebook.cells[0].outputs = [nbformat.v4.new_output(
        "error", ename="ValueError", evalue="\ud800", traceback=["\x1b[0;31mValueError\x1b[0m: \ud800"])]
    with pytest.raises(UnicodeEncodeError):
        nbformat.writes(notebook).encode("utf-8")
    kept = nbformat.reads(nbformat.writes(storable(notebook)).encode("utf-8").decode("utf-8"), as_version=4)
    assert kept.cells[0].outputs[0].evalue == r"\ud800"
    assert kept.cells[0].outputs[0].traceback == ["\x1b[0;31mValueError\x1b[0m: \\ud800"]  # colours kept
    assert kept.cells[0].source == notebook.cells[0].source


def worker_result(notebook_text: str, message: str, reason: str) -> dict:
    return {"student": "mallory", "assignment": "00-station", "fingerprint": "f", "seconds": 1.0,
            "reasons": [reason], "missing": [],
            "notebooks": {"00-station.ipynb": {"cells": {"t1": {"score": 0.0, "max": 1.0, "message": message}},
                                               "manual": {}, "reasons": [reason], "notebook": notebook_text}}}


@pytest.fixture
def coordinator(tmp_path):
    log = io.StringIO()
    made = station.Coordinator(None, autograded=tmp_path / "autograded", results=tmp_path / "results",
                               logs={"00-station": log})
    return made, log, tmp_path


def test_record_writes_student_text_escaped_and_every_record_agrees(coordinator, monkeypatch):
    made, log, folder = coordinator
    monkeypatch.setattr(station, "record_in_gradebook", lambda gradebook, result: (0.0, 7.0, 0))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="\ud800\n")]
    # as a worker of another version could send it: a lone surrogate, raw escapes, a forged line
    result = worker_result(nbformat.writes(notebook), "ValueError: \x1b[2J\ud800",
                           "the kernel exited (\x1b]0;6/6\x07\n2026-01-01 mallory 7/7)")
    row = made.record(result)
    assert "\x1b" not in row and "\n" not in row and r"(\x1b]0;6/6\x07\n2026-01-01 mallory 7/7)" in row
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and r"\x1b]0;6/6\x07\n2026" in lines[0]
    stored = json.loads((folder / "results" / "00-station" / "mallory.json").read_text())
    assert stored["notebooks"]["00-station.ipynb"]["cells"]["t1"]["message"] == r"ValueError: \x1b[2J\ud800"
    assert stored["reasons"] == [r"the kernel exited (\x1b]0;6/6\x07\n2026-01-01 mallory 7/7)"]
    graded = folder / "autograded" / "mallory" / "00-station" / "00-station.ipynb"
    assert nbformat.reads(graded.read_bytes().decode("utf-8"), as_version=4).cells[0].outputs[0].text == "\\ud800\n"
    assert not list(folder.rglob("*.partial"))


def test_a_record_that_fails_leaves_every_record_as_it_was(coordinator, monkeypatch):
    made, log, folder = coordinator

    def gradebook_fails(gradebook, result):
        raise RuntimeError("the database is locked")

    monkeypatch.setattr(station, "record_in_gradebook", gradebook_fails)
    with pytest.raises(RuntimeError):
        made.record(worker_result(nbformat.writes(nbformat.v4.new_notebook()), "passed", "a reason"))
    assert not list(folder.rglob("*.ipynb")) and not list(folder.rglob("*.json"))
    assert not list(folder.rglob("*.partial")), "the graded notebook waited under a temporary name: removed"


def test_gradebook_scores_are_written_all_or_none():
    class Session:
        rolled_back = committed = False

        def rollback(self):
            self.rolled_back = True

        def commit(self):
            self.committed = True

    class Gradebook:
        db = Session()

        def update_or_create_student(self, student):
            pass

        def find_submission(self, assignment, student):
            return object()

        def find_grade(self, *names):
            raise RuntimeError("no such grade")

    gradebook = Gradebook()
    with pytest.raises(RuntimeError):
        station.record_in_gradebook(gradebook, worker_result("{}", "passed", "r"))
    assert gradebook.db.rolled_back and not gradebook.db.committed
