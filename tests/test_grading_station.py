"""The grading station against a corpus of bad submissions (tests/station_corpus.py), graded in
the shared grading batch (tests/grading_batch.py: beside every assignment's submissions, with the
sandbox on and two workers): each scored as intended with its reason, the good ones in the same
batch graded correctly, the gradebook and the other submissions intact, nothing leaked to the
network, no process left behind. Then resuming, an interrupted run, feedback without hidden
tests, the report, and a Dask LocalCluster."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import station_corpus as corpus
from conftest import copy_course, run_autograde
from grading_batch import MEMORY, copy_of, install_corpus_assignment, sandbox
from nbgrader.api import Gradebook

from autograde import sanitise
from dlcourse import grading

SANDBOX_PROBLEM = sandbox.unavailable_reason()
pytestmark = pytest.mark.skipif(SANDBOX_PROBLEM is not None, reason=f"no sandbox here: {SANDBOX_PROBLEM}")
BATCH_NEEDS = ()  # of the shared grading batch, these tests read the station corpus only (conftest.py)


def make_course(root: Path) -> Path:
    course = copy_course(root)
    install_corpus_assignment(course)
    return course


@pytest.fixture
def batch(grading_batch):
    """The corpus's part of the shared grading batch (tests/grading_batch.py)."""
    return {"course": grading_batch.course, "result": grading_batch.result, "listener": grading_batch.listener,
            "assignments": grading_batch.assignments,
            "good_before": grading_batch.context["good_before"], "context": grading_batch.context,
            "left": grading_batch.left, "rows": grading_batch.rows[corpus.ASSIGNMENT]}


def stored(course: Path, student: str) -> dict:
    return json.loads((course / "autograde" / "results" / corpus.ASSIGNMENT / f"{student}.json").read_text())


def test_batch_completes(batch):
    result = batch["result"]
    # every course assignment graded beside the corpus has a student without a notebook (exit
    # status 1, tests/test_grading.py); the corpus alone grades every submission completely
    assert result.returncode == (1 if batch["assignments"] else 0), result.stdout[-3000:] + result.stderr[-3000:]
    assert "NOT GRADED" not in result.stdout and "not graded" not in result.stderr
    missing = [line for line in result.stderr.splitlines() if "missing a notebook" in line]
    assert not any(f"{corpus.ASSIGNMENT}/" in line for line in missing), f"no corpus submission lacks it: {missing}"
    assert set(batch["rows"]) == {case.student for case in corpus.CASES}


@pytest.mark.parametrize("case", corpus.CASES, ids=[c.student for c in corpus.CASES])
def test_each_submission_scored_as_intended(batch, case):
    record = stored(batch["course"], case.student)
    cells = {gid: cell for nb in record["notebooks"].values() for gid, cell in nb["cells"].items()}
    automatic = sum(cell["score"] for cell in cells.values())
    details = {gid: cell["message"][:200] for gid, cell in cells.items()}
    assert automatic == case.score, f"{case.student} ({case.what}): {automatic} instead of {case.score}: {details}"
    reasons = " ".join(record["reasons"])
    if case.reason is None:
        assert not record["reasons"], f"{case.student} should be graded without a reason, got {reasons}"
    else:
        assert case.reason in reasons, f"{case.student}: expected a reason with {case.reason!r}, got {reasons!r}"


def test_gradebook_holds_exactly_the_graded_scores(batch):
    course = batch["course"]
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(corpus.ASSIGNMENT)
        assert assignment.max_score == corpus.FULL_SCORE + 1  # the written answer is worth 1
        for case in corpus.CASES:
            submission = gradebook.find_submission(corpus.ASSIGNMENT, case.student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    assert (grade.auto_score or 0) <= grade.max_score, (case.student, grade.name, grade.auto_score)
            assert submission.score == stored(course, case.student)["score"] == case.score, case.student


def test_other_submissions_untouched_and_nothing_leaked(batch):
    assert batch["context"]["good_notebook"].read_bytes() == batch["good_before"]
    assert batch["listener"].received == [], f"a sandboxed kernel reached the loopback: {batch['listener'].received}"
    folder = batch["course"] / "autograde" / "submitted" / "huge-file" / corpus.ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == [corpus.NOTEBOOK], "the sandbox wrote into the submission"


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids are per worker only when grading as root")
def test_no_process_outlives_its_sandbox(batch):
    assert batch["left"] == [], f"processes left after grading: {batch['left']}"


def test_no_control_group_outlives_its_sandbox(batch):
    results = (batch["course"] / "autograde" / "results" / corpus.ASSIGNMENT).glob("*.json")
    workers = {json.loads(path.read_text())["worker"] for path in results}
    assert len(workers) == 2, "the batch's two workers each graded part of the corpus"
    assert sandbox.sandbox_groups(workers) == []


def test_nothing_a_sandbox_wrote_stays_on_the_host(batch):
    """The kernels' scratch folders (with the runtime folder a submission flooded and filled with
    3,000 nested folders: floods-runtime) are gone, and so are their tmpfs mounts."""
    results = (batch["course"] / "autograde" / "results" / corpus.ASSIGNMENT).glob("*.json")
    workers = {json.loads(path.read_text())["worker"] for path in results}
    left = [str(p) for worker in workers for p in Path(tempfile.gettempdir()).glob(f"dlcourse-grade-{worker}-*")]
    assert left == []
    mounts = Path("/proc/self/mountinfo").read_text()
    assert not [w for w in workers if f"dlcourse-grade-{w}-" in mounts], "a runtime folder's tmpfs is still mounted"


def test_graded_notebook_holds_nothing_that_runs(batch):
    """The graded notebook of the submission full of scripts (script-in-html) as written to
    autograde/autograded/: no script, handler, frame, JavaScript or widget output, link out of
    the page or widget state is left (tests/test_browser.py opens it in formgrader); the
    student's ordinary markdown is kept as written and the figures are kept."""
    graded = batch["course"] / "autograde" / "autograded"
    notebook = nbformat.read(graded / "script-in-html" / corpus.ASSIGNMENT / corpus.NOTEBOOK, as_version=4)
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}
    sources = [cell.source for cell in notebook.cells]
    assert corpus.ORDINARY_MARKDOWN in sources, "the student's ordinary markdown was not kept as written"
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    html = [value for output in outputs for kind, value in output.get("data", {}).items() if kind == "text/html"]
    raw = [cell.source for cell in notebook.cells if cell.cell_type == "raw"]
    # what nbconvert renders of it holds nothing outside the allow-list (escaped text aside)
    for piece in [sanitise.render_markdown(source) for source in markdown] + html + raw:
        assert sanitise.is_clean(piece), f"left in the graded notebook: {piece[:300]}"
    assert not [source for source in markdown if "\\href" in source], "a TeX link was left as it was"
    kinds = {kind for output in outputs for kind in output.get("data", {})}
    assert not kinds & {"application/javascript", "application/vnd.jupyter.widget-view+json"}, kinds
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) == 2 and all("filenames" not in output.metadata for output in figures)
    assert any("the grader removed from this output what could run in a browser: application/javascript" in
               output.get("text", "") for output in outputs)
    # a submission without markup keeps every markdown cell as written
    good = nbformat.read(graded / "good" / corpus.ASSIGNMENT / corpus.NOTEBOOK, as_version=4)
    submitted = nbformat.read(batch["context"]["good_notebook"], as_version=4)
    assert [c.source for c in good.cells if c.cell_type == "markdown"] == \
        [c.source for c in submitted.cells if c.cell_type == "markdown"]


def test_feedback_shows_no_hidden_test(batch):
    course = batch["course"]
    result = run_autograde(course, "feedback", corpus.ASSIGNMENT)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = list((course / "autograde" / "feedback").glob(f"*/{corpus.ASSIGNMENT}/*.html"))
    assert len(pages) >= len(corpus.CASES) - 2  # the unreadable one and the link have no graded notebook
    hidden = [line.strip() for _, source in corpus.TESTS.values()
              for line in source.split("### BEGIN HIDDEN TESTS")[-1].splitlines()
              if len(line.strip()) > 25 and "HIDDEN" not in line]
    assert hidden
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page}: hidden test lines in the feedback: {leaked}"
    good = (course / "autograde" / "feedback" / "good" / corpus.ASSIGNMENT / corpus.NOTEBOOK.replace(".ipynb", ".html"))
    assert "Score: 6.0 / 7.0" in good.read_text()


def test_report_lists_pass_rates_failures_and_reasons(batch):
    result = run_autograde(batch["course"], "report", corpus.ASSIGNMENT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{len(corpus.CASES)} graded submission(s)" in out
    assert "ex1_softmax-test-hidden" in out and "%)" in out
    assert "exits: " in out and "exited with status 3" in out
    assert "ignores-sigint: " in out and "unreadable: " in out


# what a terminal obeys or a file cannot hold: control characters but newline and tab, the
# right-to-left override the corpus writes, lone surrogates
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\ud800-\udfff]")
WRITES_ESCAPES = ("terminal-escapes", "surrogate-answer", "surrogate-cell")


def test_student_text_is_shown_escaped_and_the_records_agree(batch):
    """Escapes a kernel wrote to its log's descriptor, and exception messages holding a lone
    surrogate: the grade table, the log, `report`, the results and the graded notebooks show
    them escaped (``\\x1b``), and the gradebook, the results and the graded notebook agree."""
    course = batch["course"]
    assert not RAW_CONTROL.findall(batch["result"].stdout)
    assert not RAW_CONTROL.findall(batch["result"].stderr.replace("\r", "")), "only the progress bar's returns"
    assert r"(\x1b]0;graded 6/6\x07\x1b[2J\x1b[H\x1b[32mall tests passed\x1b[0m \x9b31m\u202e6/6)" in \
        batch["rows"]["terminal-escapes"]
    log = (course / "autograde" / "logs" / f"grade-{corpus.ASSIGNMENT}.log").read_bytes().decode("utf-8")
    assert not RAW_CONTROL.findall(log)
    assert [line for line in log.splitlines() if r"terminal-escapes 3/7 " in line and r"\x1b[2J" in line]
    report = run_autograde(course, "report", corpus.ASSIGNMENT, "--top", "100")  # every failure message
    assert report.returncode == 0, report.stderr
    assert not RAW_CONTROL.findall(report.stdout)
    assert r"terminal-escapes: " in report.stdout and r"\x1b]0;graded 6/6\x07" in report.stdout
    assert r"ValueError: no softmax here \ud800 \x1b[2J" in report.stdout
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gradebook:
        for student in WRITES_ESCAPES:
            record = stored(course, student)
            assert not RAW_CONTROL.findall(json.dumps(record, ensure_ascii=False)), student
            path = course / "autograde" / "autograded" / student / corpus.ASSIGNMENT / corpus.NOTEBOOK
            text = path.read_bytes().decode("utf-8")  # strict: written whole, as UTF-8
            assert not RAW_CONTROL.findall(text), student
            cells = record["notebooks"][corpus.NOTEBOOK]["cells"]
            shown = {grading.grade_id(c): c for c in nbformat.reads(text, as_version=4).cells
                     if grading.cell_kind(c) == grading.TEST}
            assert set(shown) == set(cells), student
            for gid, cell in cells.items():  # the notebook shows the record's verdict
                output = shown[gid].outputs[0]
                if cell["message"] == "passed":
                    assert output.text.startswith(f"Passed: {cell['max']:g} / "), (student, gid, output)
                elif cell["message"].startswith("not run: "):
                    assert output.text.strip() == f"Not graded: {cell['message'].removeprefix('not run: ')}"
                else:
                    assert output.evalue == cell["message"][:3000], (student, gid, output.evalue, cell["message"])
            automatic = sum(cell["score"] for cell in cells.values())
            assert gradebook.find_submission(corpus.ASSIGNMENT, student).score == record["score"] == automatic
    messages = [cell["message"] for cell in stored(course, "surrogate-answer")["notebooks"][corpus.NOTEBOOK]
                ["cells"].values() if cell["message"] != "passed"]
    assert messages and all(r"no softmax here \ud800 \x1b[2J" in m for m in messages), messages
    # the cell's own error reaches its graded notebook (the kernel could not send it before)
    path = course / "autograde" / "autograded" / "surrogate-cell" / corpus.ASSIGNMENT / corpus.NOTEBOOK
    raised = [output for cell in nbformat.read(path, as_version=4).cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert [output.evalue for output in raised] == ["no softmax here \\ud800 \x1b[2J"], raised


def test_second_run_grades_only_what_changed(grading_batch, tmp_path):
    course = copy_of(grading_batch, tmp_path / "course")
    rows = grade_rows(run_autograde(course, "grade", corpus.ASSIGNMENT).stdout)
    assert all(outcome.startswith("already graded") for outcome in rows.values()), rows
    notebook = course / "autograde" / "submitted" / "wrong" / corpus.ASSIGNMENT / corpus.NOTEBOOK
    shutil.copy(course / "solutions" / corpus.ASSIGNMENT / corpus.NOTEBOOK, notebook)  # resubmitted, now correct
    rows = grade_rows(run_autograde(course, "grade", corpus.ASSIGNMENT).stdout)
    assert rows["wrong"].startswith("6 / 7"), rows["wrong"]
    assert sum(not o.startswith("already graded") for o in rows.values()) == 1, rows


def grade_rows(stdout: str) -> dict[str, str]:
    rows = [line.split(maxsplit=1) for line in stdout.splitlines() if line.startswith("  ")]
    return {student: outcome for student, outcome in rows}


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("station-small"))
    submitted = course / "autograde" / "submitted"
    for index in range(6):
        folder = submitted / f"s{index}" / corpus.ASSIGNMENT
        folder.mkdir(parents=True)
        notebook = corpus.solved(course) if index % 2 == 0 else corpus.wrong(course)
        nbformat.write(notebook, folder / corpus.NOTEBOOK)
    return course


def test_grading_on_a_dask_cluster(small_course):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_autograde(small_course, "grade", corpus.ASSIGNMENT, "--force",
                               "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = grade_rows(result.stdout)
    for index in range(6):
        assert rows[f"s{index}"].startswith("6 / 7" if index % 2 == 0 else "0 / 7"), rows
    log = (small_course / "autograde" / "logs" / f"grade-{corpus.ASSIGNMENT}.log").read_text()
    assert "scheduler tcp://" in log


def test_grade_refuses_to_run_unsandboxed_without_being_told(small_course):
    """Where the sandbox cannot be made, grading stops with a clear message."""
    env = dict(os.environ, PATH="/nonexistent")  # no unshare, no prlimit on this PATH
    result = subprocess.run([sys.executable, "-m", "autograde", "grade", corpus.ASSIGNMENT, "--force"],
                            cwd=small_course, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2
    assert "the sandbox cannot be made" in result.stderr and "--no-sandbox" in result.stderr


def test_symbolic_answers_are_parsed_without_eval_or_tricks():
    """SymPy answers come back as srepr text; the judge rebuilds them from an allow-list."""
    import sympy

    from autograde.kernel_side.dlcourse_grader_kernel import parse_srepr

    x = sympy.Symbol("x")
    assert parse_srepr(sympy.srepr(2 * sympy.cos(x) + x**2)) == 2 * sympy.cos(x) + x**2
    assert parse_srepr("Symbol('x', real=True)") == sympy.Symbol("x", real=True)
    # a right answer with a float in it (cos(x) + 1.0 * x): srepr gives Float its precision
    assert parse_srepr(sympy.srepr(sympy.cos(x) + 1.0 * x)) == sympy.cos(x) + 1.0 * x
    for text in ("Function('f', __eq__=Tuple)(Symbol('x'))",         # an always-equal class
                 "Float('1.0', precision=100000000)",
                 "Float('1.0', precision=True)",
                 "Symbol('x', precision=53)",
                 "Function('f', equals=Tuple)(Symbol('x'))",
                 "Pow(Integer(10), Integer(1000000000000000000000000000000000000000000))",
                 "__import__('os').system('true')",
                 "Symbol('x').__class__"):
        with pytest.raises(ValueError):
            parse_srepr(text)


UNPRIVILEGED = "dlcourse-grader"  # made by the test below, where the suite runs as root (CI)
# run as root in a private mount namespace: /root covered by an open folder that shows each of its
# entries at its own permissions (the real /root stays reachable through a bind in /tmp)
OPEN_ROOT = r"""set -e
held=$(mktemp -d /tmp/dlcourse-root-view-$PPID-XXXXXX)
mount --bind /root "$held"
mount -t tmpfs -o mode=755,size=1m open-root /root
for entry in "$held"/* "$held"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/}
    if [ -L "$entry" ]; then cp -P "$entry" "/root/$name"; continue; fi
    if [ -d "$entry" ]; then mkdir "/root/$name"; else touch "/root/$name"; fi
    mount --bind "$entry" "/root/$name"
done
"""
AS_USER = ("good", "wrong", "slow-cell", "memory-together")


@pytest.mark.skipif(os.geteuid() != 0, reason="makes an unprivileged user to grade as: needs root")
def test_an_unprivileged_grader_gets_the_same_scores(batch):
    """The path an instructor without root takes: user namespaces, cold kernels, and a control
    group delegated to the grader (what systemd's Delegate=yes gives; here root makes it, as the
    README says). Same scores and reasons as the root batch."""
    groups = sandbox.control_groups()
    if subprocess.run(["id", UNPRIVILEGED], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", UNPRIVILEGED],
                       check=True)
    user = [f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all"]
    view = ""
    if subprocess.run(["setpriv", *user, "/bin/sh", "-c", f"{sys.executable} -c 'import dlcourse, nbgrader'"],
                      capture_output=True).returncode != 0:
        # this machine's Python (and maybe the checkout) lies under /root, which no other user may
        # enter: the user's grade runs in a mount namespace of its own that shows /root's folders
        # with their own permissions (an installation for several users would put Python elsewhere)
        view = OPEN_ROOT
    reachable = subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                f'{view}exec setpriv {" ".join(user)} "$@"', "probe", sys.executable, "-c",
                                "import dlcourse, nbgrader"], capture_output=True, text=True)
    if reachable.returncode != 0:
        pytest.skip(f"the checkout or its Python is not readable by other users: {reachable.stderr[-300:]}")
    scratch = Path(tempfile.mkdtemp(prefix="dlcourse-unprivileged-"))
    delegated = [folder / f"dlcourse-delegated-{os.getpid()}" for folder in groups.parents] if groups else []
    try:
        course = make_course(scratch / "course")
        for student in AS_USER:
            shutil.copytree(batch["course"] / "autograde" / "submitted" / student,
                            course / "autograde" / "submitted" / student)
        os.chmod(scratch, 0o755)
        subprocess.run(["chown", "-R", UNPRIVILEGED, str(course)], check=True)
        joins = ""
        for folder in delegated:  # root hands the user a group of its own and moves the grader into it
            folder.mkdir()
            subprocess.run(["chown", "-R", UNPRIVILEGED, str(folder)], check=True)
            joins += f"echo $$ > {folder / 'cgroup.procs'} && "
        script = f'{view}{joins}exec setpriv {" ".join(user)} "$@"'
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script,
                                 "grade-as-user", sys.executable, "-m", "autograde", "grade",
                                 corpus.ASSIGNMENT, "--workers", "2", "--memory", MEMORY], cwd=course,
                                capture_output=True, text=True,
                                timeout=900, env={**os.environ, "HOME": str(course), "DLCOURSE_GRADER_FACTORY": "1"})
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "runs as you, mapped to root in a user namespace" in result.stdout
        if groups:
            assert "of memory, 64 tasks and 1 core(s) per submission" in result.stdout
        uid = int(subprocess.run(["id", "-u", UNPRIVILEGED], capture_output=True, text=True).stdout)
        for student in AS_USER:
            as_user, as_root = stored(course, student), stored(batch["course"], student)
            assert as_user["sandbox_uid"] == uid
            assert as_user["score"] == as_root["score"], (student, as_user["reasons"], as_root["reasons"])
            assert [r.split(":")[0] for r in as_user["reasons"]] == [r.split(":")[0] for r in as_root["reasons"]]
        for folder in delegated:
            assert not list(folder.glob(sandbox.GROUP_PREFIX + "*")), "a sandbox's control group was left"
    finally:
        for folder in delegated:
            sandbox.remove_group([*folder.glob(sandbox.GROUP_PREFIX + "*"), folder])
        shutil.rmtree(scratch, ignore_errors=True)
        for held in Path("/tmp").glob(f"dlcourse-root-view-{os.getpid()}-*"):  # empty once its namespace is gone
            shutil.rmtree(held, ignore_errors=True)
