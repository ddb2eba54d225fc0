"""`python -m autograde similarity`: copied answers are found under renamed names, comments and
spacing, between students and against the course's own code; answers written independently,
and answers left blank, are not flagged. Notebooks are written with nbformat into a scratch
course's autograde/submitted/: nothing is graded, no kernel starts."""

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, copy_course, run_autograde

from dlcourse.grading import ANSWER, cell_kind, grade_id
from dlcourse.np import perceptron as np_perceptron

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograde import similarity  # noqa: E402

ASSIGNMENT = "01-perceptron"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# Two answers to ex3_train written apart: a for loop over zip, and a while loop over indices.
TRAIN_FOR = """
    X = np.asarray(X, dtype=float)
    w = np.asarray(W0, dtype=float).copy()
    log = []
    for epoch in range(max_epochs):
        mistakes = []
        for n in range(len(t)):
            w_old = w
            w, y = perceptron_update(w_old, X[n], t[n], eta=eta)
            log.append(np_perceptron.PerceptronStep(epoch=epoch + 1, x=X[n], w_before=w_old, y=y, t=int(t[n]),
                                                    w_after=w))
            mistakes.append(y != t[n])
        if not any(mistakes):
            break
    return w, log
"""
TRAIN_WHILE = """
    X = np.asarray(X, dtype=float)
    weights, history, epoch, done = np.array(W0, dtype=float), [], 0, False
    while not done and epoch < max_epochs:
        epoch += 1
        done = True
        i = 0
        while i < len(X):
            after, predicted = perceptron_update(weights, X[i], t[i], eta=eta)
            history.append(np_perceptron.PerceptronStep(epoch, X[i], weights, predicted, int(t[i]), after))
            done = done and predicted == t[i]
            weights = after
            i += 1
    return weights, history
"""
# The first, copied: names renamed, comments added, spacing and blank lines changed.
TRAIN_FOR_DISGUISED = """
    # the data as floats
    data=np.asarray(X,dtype=float)
    weights = np.asarray(W0, dtype=float).copy()
    steps_log = [ ]

    for e in range(max_epochs):
        errs=[]   # one flag per sample
        for k in range(len(t)):
            before = weights
            weights, out = perceptron_update(before, data[k], t[k], eta=eta)

            steps_log.append(np_perceptron.PerceptronStep(epoch=e+1, x=data[k], w_before=before, y=out,
                t=int(t[k]), w_after=weights))
            errs.append(out != t[k])
        if not any(errs):
            break
    return weights, steps_log
"""
# Two answers to ex4_gradient: a loop over the samples, and a vectorised einsum.
GRADIENT_LOOP = """
    total = np.zeros(len(W))
    for row, target in zip(X, t):
        residual = target - float(np.dot(row, W))
        for d in range(len(W)):
            total[d] -= residual * row[d]
    return total
"""
GRADIENT_EINSUM = """
    X = np.asarray(X, dtype=float)
    return np.einsum("nd,n->d", X, X @ np.asarray(W, dtype=float) - np.asarray(t, dtype=float))
"""


def library_body(function) -> str:
    """A function's body as a student pastes it under the starter's signature (after the docstring)."""
    return inspect.getsource(function).split('"""', 2)[2]


def write_submission(course: Path, student: str, answers: dict[str, str]) -> Path:
    """The released notebook with the stub of each answer cell named in ``answers`` replaced by
    the body given (a cell not named is left as released)."""
    notebook = nbformat.read(course / "course" / ASSIGNMENT / NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell_kind(cell) == ANSWER and grade_id(cell) in answers:
            assert STUB in cell.source, "the released answer cells end with the stub"
            cell.source = cell.source.replace(STUB, answers[grade_id(cell)].strip("\n"))
    folder = course / "autograde" / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NOTEBOOK
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course with one class: copies, independent answers, blanks, a missing notebook
    and an unreadable one."""
    course = copy_course(tmp_path_factory.mktemp("similarity"))
    write_submission(course, "alice", {"ex3_train": TRAIN_FOR, "ex4_gradient": GRADIENT_LOOP})
    write_submission(course, "bob", {"ex3_train": TRAIN_FOR_DISGUISED})  # alice's, disguised
    write_submission(course, "carol", {"ex3_train": library_body(np_perceptron.perceptron_train),
                                       "ex4_gradient": GRADIENT_EINSUM})
    write_submission(course, "dave", {"ex3_train": TRAIN_WHILE})
    # erin changed the stub's comment and spacing only: still no answer
    write_submission(course, "erin", {"ex3_train": "    # TODO later\n\n    raise NotImplementedError( )"})
    write_submission(course, "fay", {})  # the release as it is
    (course / "autograde" / "submitted" / "gus" / ASSIGNMENT).mkdir(parents=True)
    (course / "autograde" / "submitted" / "gus" / ASSIGNMENT / "notes.txt").write_text("wrong file")
    broken = course / "autograde" / "submitted" / "hal" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text("{ not a notebook")
    return course


@pytest.fixture(scope="module")
def report(course):
    from dlcourse.doctor import load_manifest

    return similarity.compare(ASSIGNMENT, solutions=course / "solutions", course=course / "course",
                              submitted=course / "autograde" / "submitted", record=load_manifest())


@pytest.fixture(scope="module")
def json_run(course):
    return run_autograde(course, "similarity", ASSIGNMENT, "--json", timeout=300)


def flagged(report) -> set[tuple[str, str, str]]:
    return {(p.exercise, p.a, p.b) for p in report.flagged}


def test_a_renamed_copy_is_flagged(report):
    pair = next(p for p in report.pairs if (p.exercise, p.a, p.b) == ("ex3_train", "alice", "bob"))
    assert pair.flagged and pair.similarity > 0.9, pair


def test_the_library_function_pasted_is_flagged_against_the_course(report):
    assert ("ex3_train", "carol", "reference") in flagged(report), report.pairs


def test_answers_written_apart_are_not_flagged(report):
    """A for loop against a while loop (ex3_train), a loop against an einsum (ex4_gradient):
    neither with each other nor with the course's code."""
    honest = {"ex3_train": {"alice", "dave"}, "ex4_gradient": {"alice", "carol"}}
    for exercise, a, b in flagged(report):
        assert not ({a, b} <= honest.get(exercise, set()) | {"reference"}), (exercise, a, b)
    dave = [p for p in report.pairs if p.exercise == "ex3_train" and "dave" in (p.a, p.b)]
    assert dave and max(p.similarity for p in dave) < similarity.DEFAULT_THRESHOLD


def test_blank_answers_are_never_flagged(report):
    for exercise in report.exercises:
        blank = set(exercise.unanswered)
        assert {"erin", "fay"} <= blank, (exercise.answer, blank)
        assert not any({p.a, p.b} & blank for p in report.pairs if p.exercise == exercise.answer)
    train = next(e for e in report.exercises if e.answer == "ex3_train")
    assert set(train.submissions) == {"alice", "bob", "carol", "dave"}


def test_the_flagged_pairs_are_exactly_the_copies(report):
    assert flagged(report) == {("ex3_train", "alice", "bob"), ("ex3_train", "carol", "reference")}


def test_notebooks_missing_or_unreadable_are_reported_not_fatal(course, json_run):
    assert json_run.returncode == 1, json_run.stderr  # some of it could not be done; the rest was
    assert re.search(r"gus: 01-perceptron\.ipynb is missing", json_run.stderr), json_run.stderr
    assert re.search(r"hal: 01-perceptron\.ipynb is unreadable", json_run.stderr), json_run.stderr
    assert json.loads(json_run.stdout), "the readable submissions were still compared"


def test_json_has_exactly_the_documented_keys(json_run):
    pairs = json.loads(json_run.stdout)
    assert pairs
    for pair in pairs:
        assert set(pair) == {"exercise", "a", "b", "similarity", "flagged"}, pair
        assert isinstance(pair["similarity"], float) and 0 <= pair["similarity"] <= 1, pair
        assert isinstance(pair["flagged"], bool)
    assert [p["similarity"] for p in pairs] == sorted((p["similarity"] for p in pairs), reverse=True)
    assert {(p["exercise"], p["a"], p["b"]) for p in pairs if p["flagged"]} == {
        ("ex3_train", "alice", "bob"), ("ex3_train", "carol", "reference")}


def test_the_table_lists_the_flagged_pairs_highest_first(course, capsys):
    status = similarity.main(ASSIGNMENT, solutions=course / "solutions", course=course / "course",
                             submitted=course / "autograde" / "submitted", threshold=0.5, as_json=False)
    out, err = capsys.readouterr()
    assert status == 1 and "2 notebook(s) left out of the comparison" in err
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+[01]\.\d\d\s", line)]
    assert [row[1:] for row in rows] == [["ex3_train", "alice", "bob"], ["ex3_train", "carol", "reference"]], out
    assert rows[0][0] == "1.00" and float(rows[1][0]) >= 0.5
    assert "2 pair(s) flagged at similarity >= 0.5" in out
    assert re.search(r"ex3_train: 4 answered \(0 too short to flag\), 2 unanswered", out), out


def test_nothing_is_written_for_the_students(course, json_run):
    assert json_run.stdout
    for name in ("feedback", "autograded", "results", "gradebook.db"):
        assert not (course / "autograde" / name).exists(), name


@pytest.mark.parametrize("args, message", [
    (["02-nonsense"], r"unknown assignment '02-nonsense'.*known: 01-perceptron"),
    ([ASSIGNMENT, "--threshold", "1.5"], r"--threshold must be above 0 and at most 1.*got 1\.5"),
    (["02-gradient-descent"], r"no submissions to compare: expected autograde/submitted/<student>/02-gradient"),
])
def test_a_wrong_command_says_what_and_exits_2(course, args, message):
    result = run_autograde(course, "similarity", *args, timeout=120)
    assert result.returncode == 2, result
    assert re.search(message, result.stderr), result.stderr
    assert result.stderr.startswith("python -m autograde similarity: ")


def test_the_normalised_stream_ignores_names_comments_and_spacing_only():
    one = similarity.normalised_tokens("total = np.einsum('i,i', a, b)  # dot\n")
    two = similarity.normalised_tokens("s=np.einsum( \"i,i\",x,y )\n\n")
    assert one == two
    assert one != similarity.normalised_tokens("total = np.dot(a, b)\n"), "library calls are kept"
    assert similarity.normalised_tokens("for i in range(3): pass") != similarity.normalised_tokens(
        "for i in list(3): pass"), "builtins are kept"
    docstring = similarity.normalised_tokens('def f(x):\n    """Why."""\n    return x\n')
    assert similarity.STRING not in docstring
    assert similarity.normalised_tokens("x = (1,\n") == ["$name", "=", "(", "1", ","], "tokens up to an error"
    assert similarity.normalised_tokens('raise ValueError(f"got {x.shape}")') == similarity.normalised_tokens(
        'raise ValueError("no")'), "an f-string is one string, whatever the Python version"


def test_benchmark_smoke():
    """benchmarks/bench_similarity.py on a dozen generated submissions (the full run: 200)."""
    result = subprocess.run([sys.executable, "benchmarks/bench_similarity.py", "--submissions", "12"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"whole command \(reading every notebook\) = [0-9.]+ s", out), out
    found, copies = map(int, re.search(r"copies of one origin flagged\s+= (\d+) / (\d+)", out).groups())
    assert found == copies, out
    assert re.search(r"independent pairs flagged\s+= 0$", out, re.M), out
    assert re.search(r"blank answers flagged\s+= 0$", out, re.M), out
    rows = re.findall(r"^\s+(?:highest|lowest) (.+?)\s+= ([0-9.]+)", out, re.M)
    spread = {kind: float(value) for kind, value in rows}
    threshold = similarity.DEFAULT_THRESHOLD
    assert spread["independent answers"] < threshold < spread["heavy copy ~ its origin"], spread
    assert spread["independent answer ~ reference"] < threshold < spread["pasted library body ~ reference"], spread
