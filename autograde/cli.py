"""``python -m autograde``: the instructor's commands, one per step.

    python -m autograde release [ASSIGNMENT ...] [--force]   solutions/ -> course/
    python -m autograde grade ASSIGNMENT [--force]            autograde/submitted/ -> gradebook
    python -m autograde feedback ASSIGNMENT                   HTML feedback per student
    python -m autograde export [--to FILE]                    grades as CSV
    python -m autograde execute [ASSIGNMENT ...]              refresh the outputs stored in solutions/

Exit status: 0 when everything asked for was done, 1 when some of it failed (each failure
is reported and the rest still done), 2 when there was nothing to do or the command was
wrong.
"""

import argparse
import csv
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "autograde" / "nbgrader_config.py"
SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"
SUBMITTED = ROOT / "autograde" / "submitted"
AUTOGRADED = ROOT / "autograde" / "autograded"
FEEDBACK = ROOT / "autograde" / "feedback"
DEFAULT_EXPORT = ROOT / "autograde" / "exports" / "grades.csv"


class UsageError(Exception):
    """Nothing to do, or asked the wrong way: exit status 2 with the message."""


def load_config():
    from traitlets.config.loader import PyFileConfigLoader

    if not CONFIG_FILE.is_file():
        raise UsageError(f"{CONFIG_FILE} is missing: run from a complete checkout of the course")
    return PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()


def run_nbgrader(app_class, config, **coursedir_attributes) -> dict:
    """Run one nbgrader converter app; returns nbgrader's {success, log, error} dict."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    coursedir = CourseDirectory(config=config)
    for name, value in coursedir_attributes.items():
        setattr(coursedir, name, value)
    app = app_class(coursedir=coursedir, config=config)
    app.force = True
    return capture_log(app)


def source_assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def check_assignment(name: str) -> str:
    if not (SOLUTIONS / name).is_dir():
        known = ", ".join(source_assignments()) or "none"
        raise UsageError(f"unknown assignment {name!r}: solutions/{name}/ does not exist (known: {known})")
    return name


def report_failure(what: str, result: dict) -> None:
    print(f"FAILED {what}", file=sys.stderr)
    for key in ("log", "error"):
        text = (result.get(key) or "").strip()
        if text:
            print("    " + text.replace("\n", "\n    "), file=sys.stderr)


# ---------------------------------------------------------------- release

def cmd_release(args) -> int:
    from nbgrader.converters import GenerateAssignment

    names = [check_assignment(a) for a in args.assignments] or source_assignments()
    if not names:
        raise UsageError("no assignments in solutions/: nothing to release")
    existing = [n for n in names if (COURSE / n).exists()]
    if existing and not args.force:
        raise UsageError(
            "course/" + ", course/".join(existing) + " already exists; pass --force to regenerate "
            "(the folder is deleted and written anew from solutions/, so anything edited there by hand is lost)"
        )
    config = load_config()
    failed = 0
    for name in names:
        result = run_nbgrader(GenerateAssignment, config, assignment_id=name)
        if result["success"]:
            print(f"released {name} -> course/{name}/")
        else:
            failed += 1
            report_failure(f"release of {name}", result)
    return 1 if failed else 0


# ---------------------------------------------------------------- grade

def submitted_students(assignment: str) -> list[str]:
    if not SUBMITTED.is_dir():
        return []
    return sorted(p.name for p in SUBMITTED.iterdir() if (p / assignment).is_dir())


def submission_problems(folder: Path, assignment: str) -> list[str]:
    """What stops one submission folder from being graded, as sentences (empty: nothing)."""
    import nbformat

    problems = []
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        problems.append(f"no .ipynb file in {folder.relative_to(ROOT)}")
    expected = sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))
    found = [p.name for p in notebooks]
    strangers = [name for name in found if name not in expected]
    for name in expected:
        if notebooks and name not in found:
            hint = f" (found {', '.join(strangers)}: rename it to {name} if it is that notebook)" if strangers else ""
            problems.append(f"{name} is missing{hint}")
    for path in notebooks:
        try:
            nbformat.validate(nbformat.read(path, as_version=4))
        except Exception as error:  # JSON errors, schema errors, bad encodings
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            problems.append(f"{path.name} is not a readable notebook ({first_line[:200]})")
    return problems


def fingerprint(folder: Path) -> str:
    """Changes whenever a notebook of the submission does (a resubmission is graded again)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.ipynb")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def graded_marker(assignment: str, student: str) -> Path:
    """Written once grading has finished and its scores are in the gradebook, so that a run
    killed half-way is not mistaken for a finished one. nbgrader ignores dot-files."""
    return AUTOGRADED / student / f".{assignment}.graded"


def ensure_in_gradebook(assignment: str, config) -> None:
    """nbgrader grades against the cells it recorded at release. A fresh clone has course/
    but no gradebook (it is not committed): record the assignment from solutions/ into it,
    releasing into a scratch folder so that course/ is left as it is."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters import GenerateAssignment

    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        try:
            if gradebook.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as scratch:
        result = run_nbgrader(GenerateAssignment, config, assignment_id=assignment, release_directory=scratch)
    if not result["success"]:
        report_failure(f"recording {assignment} in the gradebook", result)
        raise UsageError(f"{assignment} is not in the gradebook and could not be recorded from solutions/")
    print(f"{assignment} was not in the gradebook: recorded it from solutions/ (course/ untouched)")


def submission_scores(assignment: str, student: str) -> tuple[float, float, int]:
    """(score, max_score, cells needing a manual grade) from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(load_config().CourseDirectory.db_url) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        manual = sum(
            1
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.needs_manual_grade
        )
        return submission.score, submission.max_score, manual


def cmd_grade(args) -> int:
    from nbgrader.converters import Autograde

    assignment = check_assignment(args.assignment)
    students = submitted_students(assignment)
    if not students:
        raise UsageError(
            f"no submissions to grade: expected autograde/submitted/<student>/{assignment}/*.ipynb "
            f"({'the folder autograde/submitted/ does not exist' if not SUBMITTED.is_dir() else 'none found'})"
        )
    config = load_config()
    ensure_in_gradebook(assignment, config)
    failed, rows = [], []
    for student in students:
        folder = SUBMITTED / student / assignment
        marker = graded_marker(assignment, student)
        if not args.force and marker.is_file() and marker.read_text() == fingerprint(folder):
            rows.append((student, "already graded (--force to grade again)"))
            continue
        problems = submission_problems(folder, assignment)
        if problems:
            failed.append(student)
            rows.append((student, "NOT GRADED: " + "; ".join(problems)))
            continue
        started = time.perf_counter()
        result = run_nbgrader(Autograde, config, assignment_id=assignment, student_id=student)
        seconds = time.perf_counter() - started
        if not result["success"]:
            failed.append(student)
            report_failure(f"grading of {student}", result)
            rows.append((student, "NOT GRADED: nbgrader failed (log above)"))
            continue
        score, max_score, manual = submission_scores(assignment, student)
        marker.write_text(fingerprint(folder))
        note = f", {manual} answer(s) to grade by hand" if manual else ""
        rows.append((student, f"{score:g} / {max_score:g}{note}  [{seconds:.1f} s]"))
    width = max(len(s) for s, _ in rows)
    print(f"\n{assignment}: {len(students)} submission(s)")
    for student, outcome in rows:
        print(f"  {student:<{width}}  {outcome}")
    if failed:
        print(f"{len(failed)} submission(s) not graded: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


# ---------------------------------------------------------------- feedback

def cmd_feedback(args) -> int:
    from nbgrader.converters import GenerateFeedback

    assignment = check_assignment(args.assignment)
    students = sorted(p.parent.name for p in AUTOGRADED.glob(f"*/{assignment}") if p.is_dir())
    if not students:
        raise UsageError(f"nothing graded yet for {assignment}: run `python -m autograde grade {assignment}` first")
    config = load_config()
    config.HTMLExporter.template_name = "feedback"
    failed = 0
    for student in students:
        result = run_nbgrader(GenerateFeedback, config, assignment_id=assignment, student_id=student)
        if result["success"]:
            print(f"feedback for {student}: autograde/feedback/{student}/{assignment}/")
        else:
            failed += 1
            report_failure(f"feedback for {student}", result)
    return 1 if failed else 0


# ---------------------------------------------------------------- export

def cmd_export(args) -> int:
    from nbgrader.api import Gradebook, MissingEntry

    target = Path(args.to) if args.to else DEFAULT_EXPORT
    rows = []
    with Gradebook(load_config().CourseDirectory.db_url) as gradebook:
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            for student in sorted(gradebook.students, key=lambda s: s.id):
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:  # the student did not submit
                    rows.append([student.id, assignment.name, 0.0, assignment.max_score, 0, "missing"])
                    continue
                manual = sum(1 for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade)
                status = f"{manual} to grade by hand" if manual else "complete"
                rows.append([student.id, assignment.name, submission.score, submission.max_score,
                             manual, status])
    if not rows:
        raise UsageError("the gradebook holds no grades yet: run `python -m autograde grade ASSIGNMENT` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "assignment", "score", "max_score", "needs_manual_grade", "status"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} row(s) to {target}")
    return 0


# ---------------------------------------------------------------- execute (contributors)

def cmd_execute(args) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    names = [check_assignment(a) for a in args.assignments] or source_assignments()
    os.environ["DLCOURSE_QUICK"] = "1"  # stored outputs are the quick-mode ones nbval compares
    os.environ["DLCOURSE_HEADLESS"] = "1"  # no live widgets without a browser (dlcourse.widgets._interact)
    failed = 0
    for name in names:
        for path in sorted((SOLUTIONS / name).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            try:
                client.execute()
            except CellExecutionError as error:
                failed += 1
                print(f"FAILED {path.relative_to(ROOT)}: not saved\n{error}", file=sys.stderr)
                continue
            notebook.metadata.pop("widgets", None)  # widget state: large, random ids, no use offline
            nbformat.write(notebook, path)
            print(f"executed {path.relative_to(ROOT)} and stored its outputs")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)

    release = verbs.add_parser("release", help="generate course/ from solutions/ with nbgrader")
    release.add_argument("assignments", nargs="*", help="default: every assignment in solutions/")
    release.add_argument("--force", action="store_true", help="overwrite existing course/<assignment>/")
    release.set_defaults(run=cmd_release)

    grade = verbs.add_parser("grade", help="autograde autograde/submitted/*/ASSIGNMENT")
    grade.add_argument("assignment")
    grade.add_argument("--force", action="store_true", help="grade again submissions already graded")
    grade.set_defaults(run=cmd_grade)

    feedback = verbs.add_parser("feedback", help="HTML feedback for every graded submission")
    feedback.add_argument("assignment")
    feedback.set_defaults(run=cmd_feedback)

    export = verbs.add_parser("export", help="write every grade to a CSV file")
    export.add_argument("--to", help=f"CSV path (default {DEFAULT_EXPORT.relative_to(ROOT)})")
    export.set_defaults(run=cmd_export)

    execute = verbs.add_parser("execute", help="re-run solution notebooks in quick mode and store their outputs")
    execute.add_argument("assignments", nargs="*", help="default: every assignment in solutions/")
    execute.set_defaults(run=cmd_execute)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # nbgrader runs helper programs (alembic, jupyter) by name: find the ones of this Python's
    # environment even when it was not activated (`.venv/bin/python -m autograde ...`).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    try:
        return args.run(args)
    except UsageError as error:
        print(f"python -m autograde {args.verb}: {error}", file=sys.stderr)
        return 2
