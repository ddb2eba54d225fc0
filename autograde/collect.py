"""Bringing submissions in: a folder of notebooks or an LMS export zip -> autograde/submitted/.

Recognised names (anything else is reported, never guessed):
  Moodle    "Ada Lovelace_123456_assignsubmission_file_/01-perceptron.ipynb"  (folders)
            "Ada Lovelace_123456_assignsubmission_file_01-perceptron.ipynb"   (flat)
  Canvas    "lovelaceada_123456_7891011_01-perceptron.ipynb", "lovelaceada_LATE_123456_..."
  folder    "<student>/<file>", "<student>/<assignment>/<file>", or "<student>.ipynb" for a
            one-notebook assignment
A roster (CSV with `student_id` and `lms_id`, optionally `name`, `email`) maps LMS ids to the
course's student ids; without one the LMS id is the student id.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MOODLE = re.compile(r"^(?P<name>[^/]+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.+)$")
CANVAS = re.compile(r"^(?P<name>[a-z0-9]+?)(?P<late>_LATE)?_(?P<id>\d+)_(?P<submission>\d+)_(?P<file>.+)$")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MAX_FILE_BYTES = 50 * 2**20


@dataclass
class Entry:
    """One file of the source, and who it belongs to."""

    path: str                      # where it is in the source (for the report)
    file: str                      # its name in the submission folder
    student: str | None = None
    lms: str = "folder"
    lms_id: str | None = None
    name: str | None = None
    problem: str | None = None


@dataclass
class Collected:
    copied: dict = field(default_factory=dict)       # student -> files
    unchanged: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)    # (student, why)
    unmapped: list = field(default_factory=list)     # (path, why)


def read_roster(path: Path | None) -> dict[str, dict]:
    """{lms_id: row} from a roster CSV (student_id, lms_id, name, email)."""
    if path is None:
        return {}
    if not path.is_file():
        raise ValueError(f"roster {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "student_id" not in rows[0] or "lms_id" not in rows[0]:
        raise ValueError(f"roster {path} needs the columns student_id and lms_id"
                         f" (found {list(rows[0]) if rows else 'no rows'})")
    return {row["lms_id"].strip(): row for row in rows if row.get("lms_id", "").strip()}


def classify(relative: str, assignment: str, expected: list[str]) -> Entry:
    """Who a file of the source belongs to, from its path alone."""
    single_notebook = expected[0] if len(expected) == 1 else None
    parts = PurePosixPath(relative).parts
    top = parts[0]
    moodle = MOODLE.match(relative)
    if moodle:
        file = PurePosixPath(moodle.group("file")).name
        return Entry(relative, file, lms="moodle", lms_id=moodle.group("id"), name=moodle.group("name"))
    canvas = CANVAS.match(top) if len(parts) == 1 else None
    if canvas:
        file = canvas.group("file")
        unnumbered = re.sub(r"-\d+(\.ipynb)$", r"\1", file)  # Canvas numbers resubmissions: "-1", "-2"
        file = unnumbered if unnumbered in expected and file not in expected else file
        return Entry(relative, file, lms="canvas", lms_id=canvas.group("id"), name=canvas.group("name"))
    if len(parts) == 1:
        if single_notebook and top.endswith(".ipynb"):
            return Entry(relative, single_notebook, student=top.removesuffix(".ipynb"))
        return Entry(relative, top, problem="not in a student's folder and not an LMS file name")
    if len(parts) == 3 and parts[1] == assignment:
        return Entry(relative, parts[2], student=top)
    if len(parts) == 2:
        return Entry(relative, parts[1], student=top)
    return Entry(relative, parts[-1], problem="nested too deep: expected <student>/<file>")


def source_files(source: Path):
    """(relative path, reader) for every file of a folder or a zip, refusing unsafe entries."""
    if source.is_dir():
        for folder, _subfolders, files in os.walk(source):  # links are not followed
            for name in sorted(files):
                path = Path(folder) / name
                relative = path.relative_to(source)
                if any(p.startswith(".") for p in relative.parts):
                    continue
                if path.is_symlink() or not path.is_file():
                    yield relative.as_posix(), -1, None  # reported: a link could point anywhere
                    continue
                yield relative.as_posix(), path.stat().st_size, path.read_bytes
        return
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a folder nor a zip file")
    archive = zipfile.ZipFile(source)
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or PurePosixPath(name).name.startswith(".") or name.startswith("__MACOSX/"):
            continue
        yield name, info.file_size, (lambda info=info: archive.read(info))


def collect(source: Path, assignment: str, submitted: Path, *, expected: list[str], roster: dict,
            force: bool = False, ids_file: Path | None = None) -> Collected:
    by_student: dict[str, dict[str, bytes]] = {}
    identities = {}
    out = Collected()
    for relative, size, read in source_files(source):
        unsafe = relative.startswith("/") or ".." in PurePosixPath(relative).parts
        entry = classify(relative, assignment, expected) if not unsafe else Entry(relative, "", problem="unsafe path")
        if entry.problem is None and entry.lms_id is not None:
            if roster:
                row = roster.get(entry.lms_id)
                if row is None:
                    entry.problem = f"LMS id {entry.lms_id} ({entry.name}) is not in the roster"
                else:
                    entry.student = row["student_id"].strip()
            else:
                entry.student = entry.lms_id
        if entry.problem is None and not STUDENT_ID.match(entry.student or ""):
            entry.problem = f"{entry.student!r} cannot be a student id (letters, digits, _ . @ - only)"
        if entry.problem is None and read is None:
            entry.problem = "a symbolic link or special file, not a file"
        if entry.problem is None and size > MAX_FILE_BYTES:
            entry.problem = f"larger than {MAX_FILE_BYTES // 2**20} MB"
        if entry.problem is None and (entry.file in (".", "..") or not re.match(r"^[^/\\\0]{1,200}$", entry.file)):
            entry.problem = "unusable file name"
        if entry.problem:
            out.unmapped.append((relative, entry.problem))
            continue
        files = by_student.setdefault(entry.student, {})
        if entry.file in files:
            out.unmapped.append((relative, f"a second {entry.file} for {entry.student}: kept the first"))
            continue
        files[entry.file] = read()
        if entry.lms_id:
            identities[entry.student] = {"lms": entry.lms, "lms_id": entry.lms_id, "name": entry.name}

    for student, files in sorted(by_student.items()):
        target = submitted / student / assignment
        if target.exists():
            old = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}
            if _digest(old) == _digest(files):
                out.unchanged.append(student)
                continue
            if not force:
                out.conflicts.append((student, f"autograde/submitted/{student}/{assignment}/ already holds a "
                                               "different submission; pass --force to replace it "
                                               "(the old one is kept)"))
                continue
            stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9}"
            backup = submitted / ".replaced" / f"{student}-{assignment}-{stamp}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), str(backup))
            out.replaced.append((student, backup))
        target.mkdir(parents=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
        out.copied[student] = sorted(files)
    if ids_file is not None and identities:
        known = json.loads(ids_file.read_text()) if ids_file.is_file() else {}
        known.update(identities)
        ids_file.parent.mkdir(parents=True, exist_ok=True)
        ids_file.write_text(json.dumps(known, indent=1, sort_keys=True))
    return out


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()
