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
Names are read as meant where Unicode says what is meant: a file's name in its NFKC form, white space
around it dropped ("01-perceptron.ipynb\n", full-width "０１-perceptron.ipynb"). Who a file belongs to
(a folder, the id in a file's name) is read only as written: an id that reads as another only once
normalised, or written with letters of another alphabet that look like Latin ones, is refused with
the name to rename it to, as is a notebook named with such letters. One file that cannot be read (a
damaged zip entry) or is refused holds back its student's whole submission, and the others are
collected.
A roster (CSV with `student_id` and `lms_id`, optionally `name`, `email`) maps LMS ids to the
course's student ids; without one the LMS id is the student id.
"""

import csv
import hashlib
import json
import lzma
import os
import re
import shutil
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dlcourse.grading import notebook_for

# [0-9], not \d (which takes any script's digits); fullmatch, not $ (which takes a newline at the end)
MOODLE = re.compile(r"(?P<name>[^/]+?)_(?P<id>[0-9]+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.+)",
                    re.DOTALL)
CANVAS = re.compile(r"(?P<name>[a-z0-9]+?)(?P<late>_LATE)?_(?P<id>[0-9]+)_(?P<submission>[0-9]+)_(?P<file>.+)",
                    re.DOTALL)
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")
MAX_FILE_BYTES = 50 * 2**20
# what reading one entry of a zip (or a file of a folder) raises when it is damaged, encrypted or
# compressed in a way zipfile cannot read (NotImplementedError is a RuntimeError)
READ_ERRORS = (OSError, EOFError, ValueError, RuntimeError, zipfile.BadZipFile, zlib.error, lzma.LZMAError)


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
    owner: str = ""                # the text of its path that says whose it is: read only as written


@dataclass
class Collected:
    copied: dict = field(default_factory=dict)       # student -> files
    unchanged: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)    # (student, why)
    unmapped: list = field(default_factory=list)     # (path, why)
    root: str = ""                                   # the wrapping folder(s) of a zip, stripped ("subs/")
    renamed: list = field(default_factory=list)      # (student, path in the source, name collected as)
    held_back: list = field(default_factory=list)    # (student, why): nothing of theirs written


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
    moodle = MOODLE.fullmatch(relative)
    if moodle:
        file = PurePosixPath(moodle.group("file")).name
        return Entry(relative, file, lms="moodle", lms_id=moodle.group("id"), name=moodle.group("name"),
                     owner=f"_{moodle.group('id')}_assignsubmission_")
    canvas = CANVAS.fullmatch(top) if len(parts) == 1 else None
    if canvas:
        file = canvas.group("file")
        unnumbered = re.sub(r"-\d+(\.ipynb)$", r"\1", file)  # Canvas numbers resubmissions: "-1", "-2"
        file = unnumbered if unnumbered in expected and file not in expected else file
        return Entry(relative, file, lms="canvas", lms_id=canvas.group("id"), name=canvas.group("name"),
                     owner=top[:canvas.start("file")])
    if len(parts) == 1:
        if single_notebook and stands_for_notebook(top, expected):
            return Entry(relative, top, problem=f"named after the assignment's notebook, not after a student: "
                                                f"expected <student>/{single_notebook} or <student>.ipynb")
        if single_notebook and top.endswith(".ipynb"):
            return Entry(relative, single_notebook, student=top.removesuffix(".ipynb"), owner=top)
        return Entry(relative, top, problem="not in a student's folder and not an LMS file name")
    if top == assignment:
        return Entry(relative, parts[-1], problem=f"in a folder named after the assignment, not after a student: "
                                                  f"expected <student>/{parts[-1]}")
    if len(parts) == 3 and parts[1] == assignment:
        return Entry(relative, parts[2], student=top, owner=f"{top}/")
    if len(parts) == 2:
        return Entry(relative, parts[1], student=top, owner=f"{top}/")
    return Entry(relative, parts[-1], problem="nested too deep: expected <student>/<file>")


def stands_for_notebook(name: str, expected: list[str]) -> bool:
    """Whether a file is one of the assignment's notebooks, perhaps renamed ("01-perceptron (1).ipynb")."""
    return name.endswith(".ipynb") and notebook_for(name, expected) is not None


def expected_layout(assignment: str, expected: list[str]) -> str:
    notebook = expected[0] if expected else "<notebook>"
    one = ", <student>.ipynb" if len(expected) == 1 else ""
    return (f"<student>/{notebook}, <student>/{assignment}/{notebook}{one} or a Moodle / Canvas export, at the "
            "top of the zip or inside one folder around them")


# ---------------------------------------------------------------- names as meant, names as written

# Letters of Cyrillic and Greek that look like Latin ones (after Unicode's confusables.txt, abridged):
# to see that a name only looks like a notebook's or a student's, and to say what to rename it to.
LOOK_ALIKES = {ord(other): latin for other, latin in zip(
    "АВЕКМНОРСТХУІЈЅаеорсухіјѕԁһӏԛԝ" "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοριυνκ",
    "ABEKMHOPCTXYIJSaeopcyxijsdhlqw" "ABEZHIKMNOPTYXaopiuvk", strict=True)}


def as_meant(name: str) -> str:
    """A file's name as it is meant: Unicode's compatibility forms read as the plain ones (NFKC:
    full-width "０１" is "01", "ﬁ" is "fi") and white space around it dropped ("...ipynb\n")."""
    return unicodedata.normalize("NFKC", name).strip()


def path_as_meant(relative: str) -> str:
    """A source path with its file's name as_meant; its folders as written (they may be students)."""
    folder, _, name = relative.rpartition("/")
    meant = as_meant(name)
    if meant in ("", ".", "..") or "/" in meant:  # "．．", "a／b": kept as written, refused as unusable
        return relative
    return f"{folder}/{meant}" if folder else meant


def shown(text: str) -> str:
    """``text`` with what cannot be seen (control characters, line breaks, invisible ones) escaped,
    so that a report shows a name as it is and cannot steer the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def named_characters(text: str, which=lambda c: not c.isascii() or not c.isprintable()) -> str:
    """The characters of ``text`` that ``which`` picks, named: "р (U+0440 CYRILLIC SMALL LETTER ER)",
    "\\n (U+000A)", "U+0020 SPACE"."""
    picked = list(dict.fromkeys(c for c in text if which(c)))
    named = []
    for c in picked[:3]:
        code = f"U+{ord(c):04X} {unicodedata.name(c, '')}".rstrip()
        glyph = shown(c) if not c.isspace() or not c.isprintable() else ""
        named.append(f"{glyph} ({code})" if glyph else code)
    return ", ".join(named) + (f" and {len(picked) - 3} more" if len(picked) > 3 else "")


def file_name_problem(file: str, expected: list[str]) -> str | None:
    """Why a file's name (as_meant) cannot be collected, saying what to rename it to; None if it can."""
    if file in (".", "..") or not re.fullmatch(r"[^/\\\0]{1,200}", file):
        return "unusable file name (empty, . or .., a / or \\, or over 200 characters)"
    if not file.isprintable():
        visible = as_meant("".join(c for c in file if c.isprintable()))
        unseen = named_characters(file, lambda c: not c.isprintable())
        return (f"its name holds characters that cannot be seen: {unseen}"
                + (f"; rename it to {shown(visible)}" if visible else ""))
    latin = file.translate(LOOK_ALIKES)
    if latin != file and stands_for_notebook(latin, expected) and not stands_for_notebook(file, expected):
        return (f"its name reads as {latin} but is written with {named_characters(file)}, letters of another "
                f"alphabet that only look like Latin ones (it would be graded as a missing notebook): "
                f"rename it to {latin}")
    return None


def student_id_problem(student: str, owner: str, on_roster: set[str]) -> str:
    """Why ``student`` (written in the source as ``owner``) cannot be a student id, and, where it
    only looks like one, the name to rename ``owner`` to if it is that student's."""
    why = f"'{shown(student)}' cannot be a student id (ASCII letters, digits, _ . @ - only)"
    odd = named_characters(student, lambda c: not c.isascii() or not c.isprintable() or c.isspace())
    meant = as_meant(student).translate(LOOK_ALIKES)
    if not STUDENT_ID.fullmatch(meant) or meant == student:
        return why + (f": it holds {odd}" if odd else "")
    return f"{why}: it {looks_like(meant, odd, owner, owner.replace(student, meant, 1), on_roster)}"


def looks_like(meant: str, odd: str, written: str, rename: str, on_roster: set[str]) -> str:
    """The end of a message: whose a name looks like, and what to rename it to if it is theirs."""
    roster = f" ({meant} is on the roster)" if meant in on_roster else ""
    return (f"reads as {meant}{roster}, but is written with {odd}; a student is known only by the id as "
            f"written: rename '{shown(written)}' to {rename} if it is {meant}'s")


def unreadable(error: Exception) -> str:
    """Why reading an entry raised ``error``, for the report."""
    if isinstance(error, NotImplementedError):
        return f"could not be read: compressed in a way Python's zipfile cannot read ({error})"
    if isinstance(error, RuntimeError) and "encrypted" in str(error):
        return "could not be read: encrypted with a password (collect takes none)"
    if isinstance(error, OSError):
        return f"could not be read ({error})"
    kind = type(error).__name__ if type(error).__module__ == "builtins" else \
        f"{type(error).__module__}.{type(error).__name__}"
    return f"could not be read, it is damaged ({kind}: {error})"


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
    if MOODLE.fullmatch(f"{name}/x"):
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
        elif MOODLE.fullmatch(path) or (len(parts) == 1 and CANVAS.fullmatch(parts[0])):
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
        with open(source, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":  # a zip's first entry, but no table of contents at its end
                raise ValueError(f"nothing collected from {source}: it is a zip cut short (its table of contents, "
                                 "at its end, is missing), so which submissions it held cannot be known: download "
                                 "or copy it again")
        raise ValueError(f"{source} is neither a folder nor a zip file")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError) as damaged:  # ValueError: a name that is not UTF-8
        raise ValueError(f"nothing collected from {source}: its table of contents is damaged ({damaged}), so which "
                         "submissions it holds cannot be known: download or copy it again") from None
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
    origins: dict[tuple[str, str], str] = {}   # (student, file) -> its path in the source
    held_back: dict[str, str] = {}             # student -> the first of their entries not collected
    identities = {}
    out = Collected()
    files = list(source_files(source))
    on_roster = {row["student_id"].strip() for row in roster.values()}
    if not source.is_dir():  # a folder is read as given; a zip may wrap its submissions in folders
        try:
            out.root = zip_root([path_as_meant(relative) for relative, _, _ in files if not unsafe_path(relative)],
                                assignment, expected, on_roster)
        except ValueError as unclear:
            raise ValueError(f"nothing collected from {source}: {unclear}. Expected "
                             f"{expected_layout(assignment, expected)}; else unzip it and collect the folder that "
                             "holds the students' folders (a folder is read as given)") from None
    for relative, size, read in files:
        unsafe = unsafe_path(relative)
        meant = path_as_meant(relative) if not unsafe else relative
        written = relative.removeprefix(out.root)  # the wrapping folders are the same in both
        inner = meant.removeprefix(out.root)
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
        if entry.problem is None and not STUDENT_ID.fullmatch(entry.student or ""):
            entry.problem = student_id_problem(entry.student or "", entry.owner, on_roster)
        if entry.problem is None and entry.owner not in written:  # whose it is changed once read as meant
            name = PurePosixPath(written).name
            entry.problem = "whose it is " + looks_like(entry.student, named_characters(name), name,
                                                        PurePosixPath(inner).name, on_roster)
        if entry.problem:
            out.unmapped.append((relative, entry.problem))
            continue
        # the entry is the student's: from here on, one that cannot be collected holds back their submission
        if read is None:
            entry.problem = "a symbolic link or special file, not a file"
        elif size > MAX_FILE_BYTES:
            entry.problem = f"larger than {MAX_FILE_BYTES // 2**20} MB"
        else:
            entry.problem = file_name_problem(entry.file, expected)
        owned = by_student.setdefault(entry.student, {})
        first = origins.get((entry.student, entry.file))
        if entry.problem is None and first is not None:
            if first == path_as_meant(first) and meant == relative:
                out.unmapped.append((relative, f"a second {entry.file} for {entry.student}: kept the first"))
                continue
            entry.problem = (f"named {entry.file} once read as meant, as is '{shown(first)}': which of them is "
                             "the submission cannot be told; remove or rename one")
        if entry.problem is None:
            try:
                owned[entry.file] = read()
            except READ_ERRORS as error:
                entry.problem = unreadable(error)
        if entry.problem:
            out.unmapped.append((relative, entry.problem))
            held_back.setdefault(entry.student, relative)
            continue
        origins[entry.student, entry.file] = relative
        if meant != relative:
            out.renamed.append((entry.student, relative, entry.file))
        if entry.lms_id:
            identities[entry.student] = {"lms": entry.lms, "lms_id": entry.lms_id, "name": entry.name}
    for student, path in sorted(held_back.items()):  # collected whole or not at all
        by_student.pop(student, None)
        identities.pop(student, None)
        out.held_back.append((student, f"not collected (nothing of {student}'s written), since {shown(path)} "
                                       "could not be: fix that file (get it again, or rename it) and collect again"))
    out.renamed = [renamed for renamed in out.renamed if renamed[0] not in held_back]

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
