"""Bringing submissions in: a folder of notebooks or an LMS export zip -> autograde/submitted/.

Recognised names (anything else is reported, never guessed):
  Moodle    "Ada Lovelace_123456_assignsubmission_file_/01-perceptron.ipynb"  (folders)
            "Ada Lovelace_123456_assignsubmission_file_01-perceptron.ipynb"   (flat)
  Canvas    "lovelaceada_123456_7891011_01-perceptron.ipynb", "lovelaceada_LATE_123456_..."
  folder    "<student>/<file>", "<student>/<assignment>/<file>", or "<student>.ipynb" for a
            one-notebook assignment
A zip may hold them inside a folder ("subs/alice/...", "subs/bob.ipynb"), or folders in folders:
`zip_root` strips such wrapping folders when what they hold says so, and refuses the whole zip when
it cannot tell a wrapping folder from a student's (a folder SOURCE is read as given: its top
entries are the students). Nothing is collected under a name that may not be the student's.
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

from dlcourse.grading import notebook_for

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
    root: str = ""                                   # the wrapping folder(s) of a zip, stripped ("subs/")


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
        if single_notebook and stands_for_notebook(top, expected):
            return Entry(relative, top, problem=f"named after the assignment's notebook, not after a student: "
                                                f"expected <student>/{single_notebook} or <student>.ipynb")
        if single_notebook and top.endswith(".ipynb"):
            return Entry(relative, single_notebook, student=top.removesuffix(".ipynb"))
        return Entry(relative, top, problem="not in a student's folder and not an LMS file name")
    if top == assignment:
        return Entry(relative, parts[-1], problem=f"in a folder named after the assignment, not after a student: "
                                                  f"expected <student>/{parts[-1]}")
    if len(parts) == 3 and parts[1] == assignment:
        return Entry(relative, parts[2], student=top)
    if len(parts) == 2:
        return Entry(relative, parts[1], student=top)
    return Entry(relative, parts[-1], problem="nested too deep: expected <student>/<file>")


def stands_for_notebook(name: str, expected: list[str]) -> bool:
    """Whether a file is one of the assignment's notebooks, perhaps renamed ("01-perceptron (1).ipynb")."""
    return name.endswith(".ipynb") and notebook_for(name, expected) is not None


def expected_layout(assignment: str, expected: list[str]) -> str:
    notebook = expected[0] if expected else "<notebook>"
    one = ", <student>.ipynb" if len(expected) == 1 else ""
    return (f"<student>/{notebook}, <student>/{assignment}/{notebook}{one} or a Moodle / Canvas export, at the "
            "top of the zip or inside one folder around them")


# ---------------------------------------------------------------- a zip's wrapping folders

STUDENT, WRAPPER, UNCLEAR = "a student's folder", "a folder around submissions", "unclear"
NO_EVIDENCE = "nothing in it says otherwise"


def zip_root(paths: list[str], assignment: str, expected: list[str], students: set[str]) -> str:
    """The folder of a zip that holds the submissions: "" when they are at its top, else the
    wrapping folder(s) to strip ("subs/", "export/subs/"): while every file sits in one folder,
    that folder is stripped if `folder_kind` finds it a folder around submissions, kept if it
    finds it a student's. Raises ValueError, naming what it found, when it cannot tell, and when a
    folder around submissions sits beside other entries (its own files would go to a student
    named after it). ``students``: the roster's student ids (empty without a roster)."""
    root, inside = "", [PurePosixPath(p).parts for p in paths]
    while inside and all(len(parts) > 1 for parts in inside) and len({parts[0] for parts in inside}) == 1:
        top = inside[0][0]
        kind, what = folder_kind(root + top, [parts[1:] for parts in inside], assignment, expected, students)
        if kind == STUDENT:
            return root
        if kind == UNCLEAR:
            raise ValueError(f"every file sits in {root + top}/, which may be a student's folder or a folder "
                             f"around the submissions: {what}")
        root, inside = root + top + "/", [parts[1:] for parts in inside]
    tops = sorted({parts[0] for parts in inside})
    for top in tops:
        within = [parts[1:] for parts in inside if parts[0] == top and len(parts) > 1]
        kind, what = folder_kind(root + top, within, assignment, expected, students) if within else (STUDENT, "")
        if kind == WRAPPER:
            others = [t for t in tops if t != top]
            others = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise ValueError(f"{root + top}/ looks like a folder around submissions ({what}), but it sits beside "
                             f"{others} {'in ' + root if root else 'at the top of the zip'}")
    return root


def folder_kind(folder: str, inside: list[tuple], assignment: str, expected: list[str],
                students: set[str]) -> tuple[str, str]:
    """Whether ``folder`` (its path in the zip) is a STUDENT's own, a WRAPPER around submissions or
    UNCLEAR, and what it holds that says so. ``inside``: the parts of each of its files' paths
    within it.

    A student's: it holds one of the assignment's notebooks (perhaps renamed) or an
    <assignment>/ folder, or it is a Moodle submission folder. Around submissions: it holds LMS
    file names, or two submissions or more of which one at least is a folder holding a notebook of
    the assignment (the others may be <student>.ipynb files), or only one folder that is itself
    around submissions. A roster decides what these cannot, by naming the folder (a student's) or
    what it holds (around submissions). UNCLEAR: evidence both ways; one submission folder only
    (``subs/alice/``: around alice's submission, or ``alice/old/``: alice's own notebook in a
    subfolder?); only notebooks named otherwise (``subs/bob.ipynb``: bob's, or subs's misnamed one?)."""
    name = PurePosixPath(folder).name
    if MOODLE.match(f"{name}/x"):
        return STUDENT, f"{folder}/ is a Moodle submission folder"
    children = {parts[0] for parts in inside}
    only = next(iter(children)) if len(children) == 1 and all(len(parts) > 1 for parts in inside) else None
    if only is not None and only != assignment:  # nothing but one folder in it: that folder tells
        kind, what = folder_kind(f"{folder}/{only}", [parts[1:] for parts in inside], assignment, expected, students)
        if kind == STUDENT and what != NO_EVIDENCE:
            kind, what = UNCLEAR, (f"it holds one submission only, {folder}/{only}/ ({what}): a folder around "
                                   f"{only}'s submission, or {name}'s own with the notebook in a subfolder?")
    else:
        kind, what = _structure(folder, inside, assignment, expected)
    if name == assignment and kind == STUDENT:
        kind, what = UNCLEAR, f"{folder}/ is named after the assignment, not after a student ({what})"
    named = sorted({c.removesuffix(".ipynb") for c in children} & students)
    if name in students and named:
        return UNCLEAR, f"the roster names both {name} and {', '.join(named)}, in {folder}/"
    if name in students:
        if kind == WRAPPER:
            return UNCLEAR, f"the roster names {name}, but {what}"
        return STUDENT, f"the roster names {name}"
    if named:
        if kind == STUDENT and what != NO_EVIDENCE:
            return UNCLEAR, f"the roster names {', '.join(named)}, but {what}"
        return WRAPPER, f"the roster names {', '.join(named)}"
    return kind, what


def _structure(folder: str, inside: list[tuple], assignment: str, expected: list[str]) -> tuple[str, str]:
    """folder_kind from what the folder holds (no roster, not one folder only)."""
    own, lms, submissions, loose = [], set(), set(), set()
    for parts in inside:
        path = "/".join(parts)
        if (len(parts) == 1 and stands_for_notebook(parts[0], expected)) or (len(parts) > 1 and parts[0] == assignment):
            own.append(path)
        elif MOODLE.match(path) or (len(parts) == 1 and CANVAS.match(parts[0])):
            lms.add(path)
        elif len(parts) == 1 and len(expected) == 1 and parts[0].endswith(".ipynb"):
            loose.add(parts[0])
        elif len(parts) in (2, 3) and stands_for_notebook(parts[-1], expected) and (
                len(parts) == 2 or parts[1] == assignment):
            submissions.add(parts[0] + "/")
    found = ", ".join(f"{folder}/{p}" for p in sorted(submissions | loose | lms)[:3])
    if own and (submissions or lms):
        return UNCLEAR, f"it holds a notebook of its own ({folder}/{own[0]}) and other submissions ({found})"
    if own:
        return STUDENT, f"it holds {folder}/{own[0]}"
    if lms:
        return WRAPPER, f"it holds LMS submissions ({found})"
    if submissions and len(submissions | loose) >= 2:
        return WRAPPER, f"it holds submissions ({found})"
    if submissions:
        (student,) = submissions
        return UNCLEAR, (f"it holds one submission only, {found}: a folder around {student.rstrip('/')}'s "
                         f"submission, or {PurePosixPath(folder).name}'s own with the notebook in a subfolder?")
    if loose:
        return UNCLEAR, (f"it holds notebooks not named after the assignment ({found}): "
                         f"{PurePosixPath(folder).name}'s own, or <student>.ipynb files?")
    return STUDENT, NO_EVIDENCE


def unsafe_path(relative: str) -> bool:
    return relative.startswith("/") or ".." in PurePosixPath(relative).parts


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
        # macOS's resource forks (__MACOSX/), .DS_Store, .ipynb_checkpoints/: skipped, as in a folder
        # (".." is not: it is reported as unsafe)
        hidden = any(p.startswith(".") and p != ".." or p == "__MACOSX" for p in PurePosixPath(name).parts)
        if info.is_dir() or hidden:
            continue
        yield name, info.file_size, (lambda info=info: archive.read(info))


def collect(source: Path, assignment: str, submitted: Path, *, expected: list[str], roster: dict,
            force: bool = False, ids_file: Path | None = None) -> Collected:
    by_student: dict[str, dict[str, bytes]] = {}
    identities = {}
    out = Collected()
    files = list(source_files(source))
    if not source.is_dir():  # a folder is read as given; a zip may wrap its submissions in folders
        students = {row["student_id"].strip() for row in roster.values()}
        try:
            out.root = zip_root([relative for relative, _, _ in files if not unsafe_path(relative)], assignment,
                                expected, students)
        except ValueError as unclear:
            raise ValueError(f"nothing collected from {source}: {unclear}. Expected "
                             f"{expected_layout(assignment, expected)}; else unzip it and collect the folder that "
                             "holds the students' folders (a folder is read as given)") from None
    for relative, size, read in files:
        unsafe = unsafe_path(relative)
        inner = relative.removeprefix(out.root) if not unsafe else relative
        entry = classify(inner, assignment, expected) if not unsafe else Entry(relative, "", problem="unsafe path")
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
