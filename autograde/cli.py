"""``python -m autograde``: the instructor's commands, one per step.

    python -m autograde release [ASSIGNMENT ...] [--force]   solutions/ -> course/
    python -m autograde collect SOURCE ASSIGNMENT [--roster CSV] [--force]
                                                              a folder or an LMS zip -> autograde/submitted/
    python -m autograde grade ASSIGNMENT [...] [--workers N] [--scheduler ADDRESS] [--force] [--memory SIZE] [--profile]
                              [--no-sandbox]
                                                              autograde/submitted/ -> gradebook, in sandboxes
    python -m autograde report ASSIGNMENT                     pass rates, common failures, flagged submissions
    python -m autograde feedback ASSIGNMENT                   HTML feedback per student
    python -m autograde export [--to FILE] [--lms moodle|canvas]  grades as CSV, and an LMS import file
    python -m autograde execute [ASSIGNMENT ...]              refresh the outputs stored in solutions/
    python -m autograde publish DEST [--assignments A ...] [--reveal A ...] [--repository URL]
                                                              the student edition, references sealed
    python -m autograde similarity ASSIGNMENT [--threshold T] [--json]
                                                              answers that look copied (instructor only)

Exit status: 0 when everything asked for was done, 1 when some of it failed (each failure
is reported and the rest still done), 2 when there was nothing to do or the command was
wrong. For grade, 1 also when a submission lacks an expected notebook (its tests score zero;
every other notebook and submission is still graded and written); for collect, 2 when it
cannot tell whose files a zip holds, or cannot read its table of contents (nothing is written),
and 1 when some files could not be collected (a damaged entry, a refused name: each is named,
and the other students are collected).
"""

import argparse
import contextlib
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

from .text import printable

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "autograde" / "nbgrader_config.py"
SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"
SUBMITTED = ROOT / "autograde" / "submitted"
AUTOGRADED = ROOT / "autograde" / "autograded"
FEEDBACK = ROOT / "autograde" / "feedback"
RESULTS = ROOT / "autograde" / "results"
LOGS = ROOT / "autograde" / "logs"
DEFAULT_EXPORT = ROOT / "autograde" / "exports" / "grades.csv"
LMS_IDS = ROOT / "autograde" / "collected" / "lms_ids.json"


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
        text = printable((result.get(key) or "").strip())  # nbgrader's log may quote a submission
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
    if failed:
        print("lib/dlcourse/assignments.json left as it was: release again once every assignment releases",
              file=sys.stderr)
        return 1
    from .manifest import MANIFEST, write_manifest

    try:
        write_manifest(COURSE, MANIFEST)
    except ValueError as error:
        raise UsageError(f"released, but {MANIFEST.relative_to(ROOT)} was not written: {error}") from None
    print(f"recorded the released cells in {MANIFEST.relative_to(ROOT)} (for `python -m dlcourse doctor`): commit it")
    return 0


# ---------------------------------------------------------------- grade

def submitted_students(assignment: str) -> list[str]:
    if not SUBMITTED.is_dir():
        return []
    return sorted(p.name for p in SUBMITTED.iterdir() if (p / assignment).is_dir())


def result_path(assignment: str, student: str) -> Path:
    """One submission's scores, messages and reasons (station.Coordinator writes it)."""
    return RESULTS / assignment / f"{student}.json"


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


def sandbox_defaults():
    from . import sandbox

    return sandbox.Limits()


def memory_size(text: str) -> int:
    """--memory's value in MB: 3G, 1.5G, 1536M (a bare number is GB)."""
    units = {"g": 1024, "gb": 1024, "m": 1, "mb": 1}
    number = text.strip().lower()
    unit = next((u for u in sorted(units, key=len, reverse=True) if number.endswith(u)), "g")
    try:
        megabytes = int(float(number.removesuffix(unit)) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: write it as 3G or 1536M") from None
    if megabytes < 256:
        raise argparse.ArgumentTypeError(f"{text!r} is too little for a kernel with NumPy and PyTorch: at least 256M")
    return megabytes


def cmd_grade(args) -> int:
    from nbgrader.api import Gradebook

    from . import sandbox, station

    assignments = list(dict.fromkeys(check_assignment(a) for a in args.assignments))
    students = {assignment: submitted_students(assignment) for assignment in assignments}
    empty = [assignment for assignment, found in students.items() if not found]
    if empty:
        where = " and ".join(f"autograde/submitted/<student>/{assignment}/*.ipynb" for assignment in empty)
        raise UsageError(
            f"no submissions to grade: expected {where} "
            f"({'the folder autograde/submitted/ does not exist' if not SUBMITTED.is_dir() else 'none found'})"
        )
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    use_sandbox = not args.no_sandbox
    config = load_config()
    limits = sandbox.Limits(cell_seconds=int(config.Execute.timeout), memory_mb=args.memory)
    if use_sandbox:
        reason = sandbox.unavailable_reason(limits, delegate=True)
        if reason:
            raise UsageError(f"the sandbox cannot be made on this machine: {reason}. Students' code would run "
                             "with your rights; pass --no-sandbox only for submissions you trust")
        print("\n".join(sandbox.describe(limits)), flush=True)
        sandbox.remove_stale_groups()  # those a killed run left
    else:
        print("NO SANDBOX: students' code runs with your rights, without memory or process limits", flush=True)
    rows, submissions = {assignment: {} for assignment in assignments}, []
    missing = {assignment: {} for assignment in assignments}
    for assignment in assignments:
        ensure_in_gradebook(assignment, config)
        submissions += pending_submissions(assignment, students[assignment], rows[assignment], missing[assignment],
                                           force=args.force, use_sandbox=use_sandbox, limits=limits)
    LOGS.mkdir(parents=True, exist_ok=True)
    log_paths = {assignment: LOGS / f"grade-{assignment}.log" for assignment in assignments}
    progress = _progress(len(submissions), " ".join(assignments))

    with Gradebook(config.CourseDirectory.db_url) as gradebook, contextlib.ExitStack() as stack:
        logs = {a: stack.enter_context(open(path, "a", encoding="utf-8", errors="backslashreplace"))
                for a, path in log_paths.items()}
        coordinator = station.Coordinator(gradebook, autograded=AUTOGRADED, results=RESULTS, logs=logs)
        for assignment in assignments:
            waiting = sum(s.assignment == assignment for s in submissions)
            coordinator.write_log(
                assignment, f"grading {waiting} of {len(students[assignment])} submission(s) of {assignment}, "
                f"{args.workers} worker(s), {'sandbox' if use_sandbox else 'NO SANDBOX'}"
                f"{', scheduler ' + args.scheduler if args.scheduler else ''}")

        graded = []

        def on_result(result):
            progress.update(1)
            rows[result["assignment"]][result["student"]] = coordinator.record(result)
            graded.append(result)

        if submissions and args.scheduler:
            station.run_dask(submissions, args.scheduler, on_result)
        elif submissions:
            station.run_local(submissions, args.workers, on_result)
    progress.close()
    for assignment in assignments:
        # one row per submission, whatever its folder's name or its reasons hold (autograde.text)
        width = max(len(printable(s, one_line=True)) for s in rows[assignment])
        print(f"\n{assignment}: {len(students[assignment])} submission(s)  "
              f"(log: {log_paths[assignment].relative_to(ROOT)})")
        for student in students[assignment]:
            row = printable(rows[assignment][student], one_line=True)
            print(f"  {printable(student, one_line=True):<{width}}  {row}")
    if args.profile:
        print("\n" + station.profile_report(graded))
    # a submission without a notebook was graded (zero for that notebook's tests) but is not
    # complete: said here, and in the exit status, as long as the notebook is missing
    incomplete = [printable(f"{assignment}/{student} ({', '.join(names)})", one_line=True)
                  for assignment in assignments for student, names in missing[assignment].items() if names]
    if incomplete:
        print(f"{len(incomplete)} submission(s) missing a notebook (its tests score zero; once it is in the "
              f"submission, grade again): {', '.join(incomplete)}", file=sys.stderr)
    failed = coordinator.failed
    if failed:
        print(f"{len(failed)} submission(s) not graded: {printable(', '.join(sorted(failed)), one_line=True)}",
              file=sys.stderr)
    return 1 if failed or incomplete else 0


def pending_submissions(assignment: str, students: list[str], rows: dict, missing: dict, *, force: bool,
                        use_sandbox: bool, limits) -> list:
    """The submissions of ``assignment`` to grade: each not graded yet, or changed since (all
    with ``force``). The others get their row ("already graded") in ``rows``. ``missing`` gets
    every student's expected notebooks without a file, graded now or not."""
    from . import station

    expected = sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))
    # a notebook the gradebook records from the source must also be in the release
    for name in expected:
        if not (COURSE / assignment / name).is_file():
            raise UsageError(f"course/{assignment}/{name} is missing: run `python -m autograde release {assignment}`")
    submissions = []
    for student in students:
        folder = SUBMITTED / student / assignment
        done = result_path(assignment, student)
        current = station.fingerprint(folder)
        mapping, notes = station.match_notebooks(folder, expected)
        missing[student] = station.missing_notebooks(mapping)
        if not force and done.is_file():
            try:
                previous = json.loads(done.read_text())
            except ValueError:  # not a whole results file: graded again
                previous = {}
            if previous.get("fingerprint") == current:
                rows[student] = "already graded (--force to grade again)" + (
                    f", missing {', '.join(missing[student])}" if missing[student] else "")
                continue
        submissions.append(station.Submission(
            student=student, assignment=assignment, folder=folder, source=SOLUTIONS / assignment,
            released=COURSE / assignment, mapping=mapping, notes=notes, fingerprint=current,
            use_sandbox=use_sandbox, limits=limits))
    return submissions


def _progress(total: int, assignment: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"grading {assignment}", unit="submission", file=sys.stderr,
                disable=total == 0, dynamic_ncols=True)


# ---------------------------------------------------------------- collect

def cmd_collect(args) -> int:
    from . import collect

    assignment = check_assignment(args.assignment)
    source = Path(args.source)
    if not source.exists():
        raise UsageError(f"{source} does not exist: give a folder of notebooks or an LMS export zip")
    try:
        roster = collect.read_roster(Path(args.roster) if args.roster else None)
        expected = sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))
        out = collect.collect(source, assignment, SUBMITTED, expected=expected, roster=roster, force=args.force,
                              ids_file=LMS_IDS)
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    print(f"collected {assignment} from {source}" + (f" (inside its folder {out.root}):" if out.root else ":"))
    for student, files in out.copied.items():
        print(f"  {student}: {', '.join(files)}")
        for _, path, name in (renamed for renamed in out.renamed if renamed[0] == student):
            print(f"    {name}: named '{collect.shown(path)}' in the source")
    for student in out.unchanged:
        print(f"  {student}: unchanged (already collected)")
    for student, backup in out.replaced:
        print(f"  {student}: replaced; the previous submission is kept in {backup.relative_to(ROOT)}")
    problems = ([f"{student}: {why}" for student, why in out.conflicts]
                + [f"{collect.shown(path)}: {why}" for path, why in out.unmapped]
                + [f"{student}: {why}" for student, why in out.held_back])
    if problems:
        print(f"{len(problems)} item(s) not collected:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
    print(f"{len(out.copied)} collected, {len(out.unchanged)} unchanged, {len(problems)} not collected")
    return 1 if problems else 0


# ---------------------------------------------------------------- report

def cmd_report(args) -> int:
    from collections import Counter, defaultdict

    assignment = check_assignment(args.assignment)
    results = [json.loads(p.read_text()) for p in sorted((RESULTS / assignment).glob("*.json"))]
    if not results:
        raise UsageError(f"nothing graded yet for {assignment}: run `python -m autograde grade {assignment}` first")
    passed, total, messages = Counter(), Counter(), defaultdict(Counter)
    for result in results:
        for notebook in result["notebooks"].values():
            for grade_id, cell in notebook["cells"].items():
                total[grade_id] += 1
                if cell["score"] >= cell["max"] > 0 or (cell["max"] == 0 and cell["message"] == "passed"):
                    passed[grade_id] += 1
                else:
                    messages[grade_id][printable(_first_line(cell["message"])[:160], one_line=True)] += 1
    scores = [r["score"] for r in results]
    print(f"{assignment}: {len(results)} graded submission(s); mean score {sum(scores) / len(scores):.2f} "
          f"of {results[0]['max_score']:g}")
    print("\nper test (pass rate, then the commonest failures):")
    width = max(len(g) for g in total)
    for grade_id in total:
        print(f"  {grade_id:<{width}}  {passed[grade_id]:>3} / {total[grade_id]:<3} "
              f"({100 * passed[grade_id] / total[grade_id]:.0f} %)")
        for message, count in messages[grade_id].most_common(args.top):
            print(f"  {'':<{width}}    {count} x {message}")
    flagged = [(r["student"], r["reasons"]) for r in results if r["reasons"]]
    print(f"\nsubmissions with reasons ({len(flagged)}):")
    for student, reasons in flagged:  # results written before reasons were made printable are shown safe too
        print(printable(f"  {student}: {'; '.join(reasons)}", one_line=True))
    if not flagged:
        print("  none")
    return 0


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


# ---------------------------------------------------------------- feedback

def cmd_feedback(args) -> int:
    from nbgrader.api import Gradebook
    from nbgrader.converters import GenerateFeedback

    from . import feedback
    from .sanitise import SanitiseGraded

    assignment = check_assignment(args.assignment)
    students = sorted(p.parent.name for p in AUTOGRADED.glob(f"*/{assignment}") if p.is_dir())
    if not students:
        raise UsageError(f"nothing graded yet for {assignment}: run `python -m autograde grade {assignment}` first")
    config = load_config()
    feedback.configure(config)  # nbgrader's page, answers not graded by hand yet saying so
    # nbgrader's steps, after the graded notebook is made safe to render; then what waits for a grade by hand
    nbgrader_steps = GenerateFeedback.class_traits()["preprocessors"].default()
    config.GenerateFeedback.preprocessors = [SanitiseGraded, *nbgrader_steps, feedback.MarkUngraded]
    failed = 0
    for student in students:
        result = run_nbgrader(GenerateFeedback, config, assignment_id=assignment, student_id=student)
        shown = printable(student, one_line=True)
        if result["success"]:
            print(f"feedback for {shown}: autograde/feedback/{shown}/{assignment}/")
        else:
            failed += 1
            report_failure(f"feedback for {shown}", result)
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        waiting = feedback.ungraded_answers(gradebook, assignment)
    if waiting:
        print(feedback.ungraded_warning(waiting, "their feedback says \"not graded yet\"; make the feedback again "
                                        "once they are graded"), file=sys.stderr)
    return 1 if failed else 0


# ---------------------------------------------------------------- export

def cmd_export(args) -> int:
    from nbgrader.api import Gradebook, MissingEntry

    from .feedback import ungraded_warning

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
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "assignment", "score", "max_score", "needs_manual_grade", "status"])
        writer.writerows(csv_cells(row) for row in rows)
    print(f"wrote {len(rows)} row(s) to {target}")
    waiting = sum(row[4] for row in rows)
    if waiting:
        print(ungraded_warning(waiting, "their points count as 0 in these scores (the needs_manual_grade "
                               "column says where); export again once they are graded"), file=sys.stderr)
    identities = json.loads(LMS_IDS.read_text()) if LMS_IDS.is_file() else {}
    written, unknown = write_lms_csv(args.lms, target, rows, identities)
    for path in written:
        print(f"wrote {path} ({args.lms} grade import)")
    if unknown:
        print(f"{len(unknown)} student(s) have no {args.lms} id (they were not collected from a {args.lms} export): "
              f"{printable(', '.join(sorted(unknown)), one_line=True)}; their rows carry the course's student id",
              file=sys.stderr)
    return 0


def csv_cells(row) -> list:
    """A row's text cells on one line each, escapes shown (the ids and names come from folder
    names and LMS exports); numbers as they are."""
    return [printable(cell, one_line=True) if isinstance(cell, str) else cell for cell in row]


def write_lms_csv(lms: str, target: Path, rows: list, identities: dict) -> tuple[list[Path], set[str]]:
    """Grade-import files beside the plain CSV. Moodle: one offline grading worksheet per
    assignment (matched on "Participant <id>", the id in the submission files' names).
    Canvas: one gradebook file (matched on the user id in the submission files' names), a
    column per assignment and the "Points Possible" row Canvas expects."""
    unknown = {r[0] for r in rows if identities.get(r[0], {}).get("lms") != lms}
    lms_id = {r[0]: identities.get(r[0], {}).get("lms_id", r[0]) for r in rows}
    names = {r[0]: identities.get(r[0], {}).get("name") or r[0] for r in rows}
    written = []
    if lms == "moodle":
        for assignment in sorted({r[1] for r in rows}):
            path = target.with_name(f"{target.stem}-moodle-{assignment}.csv")
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"])
                for student, name, score, max_score, _, status in rows:
                    if name == assignment:
                        writer.writerow(csv_cells([f"Participant {lms_id[student]}", names[student], f"{score:g}",
                                                   f"{max_score:g}", "" if status == "complete" else status]))
            written.append(path)
    else:
        assignments = sorted({r[1] for r in rows})
        maxima = {r[1]: r[3] for r in rows}
        path = target.with_name(f"{target.stem}-canvas.csv")
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
            writer.writerow(["Points Possible", "", "", "", "", *[f"{maxima[a]:g}" for a in assignments]])
            by_student = {}
            for student, name, score, *_ in rows:
                by_student.setdefault(student, {})[name] = score
            for student in sorted(by_student):
                writer.writerow(csv_cells([names[student], lms_id[student], "", "", "",
                                           *[f"{by_student[student].get(a, 0.0):g}" for a in assignments]]))
        written.append(path)
    return written, unknown


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


# ---------------------------------------------------------------- similarity

def cmd_similarity(args) -> int:
    from . import similarity

    assignment = check_assignment(args.assignment)
    threshold = similarity.DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold must be above 0 and at most 1 (a similarity), got {threshold:g}")
    if not submitted_students(assignment):
        raise UsageError(f"no submissions to compare: expected autograde/submitted/<student>/{assignment}/*.ipynb")
    try:
        return similarity.main(assignment, solutions=SOLUTIONS, course=COURSE, submitted=SUBMITTED,
                               threshold=threshold, as_json=args.json)
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None


def cmd_publish(args) -> int:
    from .publish import PublishError, publish

    try:
        summary = publish(ROOT, Path(args.dest), reveal=args.reveal, repository=args.repository,
                          assignments=args.assignments)
    except PublishError as error:
        raise UsageError(str(error)) from None
    size = sum((Path(args.dest) / name).stat().st_size for name in summary["files"])
    print(f"wrote the student edition to {args.dest}: {len(summary['files'])} files, {size / 1e6:.1f} MB; "
          f"install cells and links point at {summary['repository']}")
    print(f"published: {', '.join(summary['published'])}")
    print(f"revealed: {', '.join(summary['revealed']) or 'none'}; held back: {len(summary['sealed'])} library "
          "functions (the graded references of the rest, and what their exercises forbid that no notebook uses)")
    if summary["removed"]:
        print(f"removed {len(summary['removed'])} files of the previous edition: {', '.join(summary['removed'][:5])}"
              + (" ..." if len(summary["removed"]) > 5 else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)

    release = verbs.add_parser("release", help="generate course/ from solutions/ with nbgrader")
    release.add_argument("assignments", nargs="*", help="default: every assignment in solutions/")
    release.add_argument("--force", action="store_true", help="overwrite existing course/<assignment>/")
    release.set_defaults(run=cmd_release)

    grade = verbs.add_parser(
        "grade", help="autograde autograde/submitted/*/ASSIGNMENT, each in a sandbox",
        description="Grade every new or changed submission of the assignments named, each in a sandbox. Exit "
        "status: 0 when every submission is graded and complete; 1 when a submission lacks an expected notebook "
        "(graded: that notebook's tests score zero) or could not be graded (NOT GRADED: tried again next run), "
        "each named on stderr, every other submission still graded and its results written; 2 when there is "
        "nothing to grade or the command was wrong.")
    grade.add_argument("assignments", nargs="+", metavar="ASSIGNMENT",
                       help="one or more: every submission of all of them is graded in one run of the workers")
    grade.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1),
                       help="submissions graded at once on this machine (default: one per core)")
    grade.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask cluster (tcp://host:8786)")
    grade.add_argument("--force", action="store_true", help="grade again submissions already graded")
    grade.add_argument("--memory", type=memory_size, default=sandbox_defaults().memory_mb, metavar="SIZE",
                       help="memory of everything one submission starts, together (default "
                            f"{sandbox_defaults().memory_mb // 1024} GB): 3G, 1536M")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run students' code without the sandbox (only for submissions you trust)")
    grade.add_argument("--profile", action="store_true",
                       help="print where each submission's time went: set-up, kernel start, each student cell, "
                            "each test with its calls into the kernel and the bytes they moved (every results "
                            "file keeps the same breakdown under notebooks/<name>/profile)")
    grade.set_defaults(run=cmd_grade)

    collect = verbs.add_parser("collect",
                               help="copy a folder of notebooks or an LMS export zip into autograde/submitted/")
    collect.add_argument("source", help="a folder (<student>/<notebook>, read as given) or a zip of one, or a "
                         "Moodle / Canvas export zip (folders around a zip's submissions are stripped; a zip whose "
                         "layout is unclear is refused, nothing written)")
    collect.add_argument("assignment")
    collect.add_argument("--roster", help="CSV with student_id and lms_id columns: maps LMS ids to student ids")
    collect.add_argument("--force", action="store_true", help="replace submissions that differ (the old ones are kept)")
    collect.set_defaults(run=cmd_collect)

    report = verbs.add_parser("report", help="pass rates, common failures and flagged submissions of an assignment")
    report.add_argument("assignment")
    report.add_argument("--top", type=int, default=3, help="failure messages shown per test (default 3)")
    report.set_defaults(run=cmd_report)

    feedback = verbs.add_parser("feedback", help="HTML feedback for every graded submission")
    feedback.add_argument("assignment")
    feedback.set_defaults(run=cmd_feedback)

    export = verbs.add_parser("export", help="write every grade to a CSV file")
    export.add_argument("--to", help=f"CSV path (default {DEFAULT_EXPORT.relative_to(ROOT)})")
    export.add_argument("--lms", choices=("moodle", "canvas"), default="moodle",
                        help="format of the grade-import file written beside it (default moodle)")
    export.set_defaults(run=cmd_export)

    publish = verbs.add_parser("publish", help="write the student edition: released notebooks, the library with "
                               "the graded references of unrevealed assignments sealed, set-up files, no solutions")
    publish.add_argument("dest", help="the edition's folder (created, or updated in place: its .git stays)")
    publish.add_argument("--reveal", nargs="+", default=[], metavar="ASSIGNMENT",
                         help="ship these assignments' references (after their deadlines); remembered by later runs")
    publish.add_argument("--assignments", nargs="+", default=[], metavar="ASSIGNMENT",
                         help="publish these (added to the last edition's; default the first time: every released one)")
    publish.add_argument("--repository", metavar="URL",
                         help="the edition's repository: install cells, pyproject.toml, Binder and Colab links "
                         "(default: the last edition's, else pyproject.toml's)")
    publish.set_defaults(run=cmd_publish)

    execute = verbs.add_parser("execute", help="re-run solution notebooks in quick mode and store their outputs")
    execute.add_argument("assignments", nargs="*", help="default: every assignment in solutions/")
    execute.set_defaults(run=cmd_execute)

    similar = verbs.add_parser("similarity", help="answers alike between students or with the course's code")
    similar.add_argument("assignment")
    similar.add_argument("--threshold", type=float,
                         help="similarity (0 to 1) from which a pair is flagged (default 0.5)")
    similar.add_argument("--json", action="store_true", help="a JSON list of pairs instead of the table")
    similar.set_defaults(run=cmd_similarity)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # nbgrader runs helper programs (alembic, jupyter) by name: find the ones of this Python's
    # environment even when it was not activated (`.venv/bin/python -m autograde ...`).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    # text that this terminal cannot encode (a name in another script) is shown escaped, not a crash
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return args.run(args)
    except UsageError as error:
        print(f"python -m autograde {args.verb}: {error}", file=sys.stderr)
        return 2
