"""``python -m autograde similarity ASSIGNMENT``: answers that look copied, for the instructor only.

Per exercise (an answer cell, by the grade_id the release record lists), every pair of
submissions is compared, and every submission with the course's own code for it: the library
functions the release record names as its references (their source, by ``inspect.getsource``)
and the solution cell in solutions/: its ``### BEGIN SOLUTION`` .. ``### END SOLUTION`` region,
read in its place in the cell (the markers are comments, the rest of the cell is the starter,
which is removed), so that the tokens where the region meets the signature count as they do in
a student's cell. Nothing is written: the result goes to the terminal, never into the gradebook or
the students' feedback.

The method: token winnowing, as MOSS and copydetect do it, over a normalised token stream.

* Python's ``tokenize``, not the AST: a submission that does not parse (a half-finished cell)
  still has tokens up to its error, and a stream of tokens is what k-gram fingerprints need.
  An AST normalisation would see through more (``a += b`` against ``a = a + b``), but a copier
  who rewrites statements has done the exercise's thinking again; renaming is the cheap disguise.
* Comments, blank lines, line continuations and docstrings (a string that is a statement of its
  own) go: they are prose, and changing them changes nothing. ``;`` reads as a new line.
* Every name a student chooses (variables, parameters, functions) becomes one placeholder, so
  renaming changes nothing. Kept as they are: keywords, builtins (``range``, ``zip``) and
  attribute names after a dot (``np.einsum``, ``.T``, ``.reshape``): they are the library's API,
  a copier cannot rename them without breaking the code, and they are what tells a loop from a
  vectorised answer. The module in front of the dot (``np``, ``torch``) is a name like others.
* Strings become one placeholder: their words are prose like comments (an error message
  reworded is no new code). Numbers are kept, by value (``1.``, ``1.0``): the constants come from
  the exercise, and changing one changes what the code does.
* Indentation is kept (block structure, as INDENT / DEDENT tokens), as are all operators.

Fingerprints: a hash of every K consecutive tokens (a k-gram); winnowing keeps the smallest of
every WINDOW consecutive hashes, so that any run of K + WINDOW - 1 tokens two answers share is
found. What the starter already holds is no evidence: every k-gram of the released answer cell
(its signature, docstring and ``raise NotImplementedError()``) is removed from every set. An
answer with no fingerprint left is unanswered, and is never flagged.

Similarity, 0 to 1: the Jaccard index of two fingerprint sets, |A & B| / |A | B|, symmetric
(an answer copied into a longer one scores the share of the whole that is common). With the
course (``b`` is "reference"): the largest index with one version of its code (the NumPy
reference, its torch twin, the solution cell), since a student pastes one of them, not all.
A pair is flagged at ``threshold`` or above, and only when it shares at least MIN_SHARED
fingerprints: a short answer (``return (X @ W > 0).astype(int)``, about 5 fingerprints) is
written the same way by honest students, so the same one-liner twice is no evidence of copying.

The default threshold, 0.5, from benchmarks/bench_similarity.py's measurements on 01-perceptron
(the course's solution and two answers written independently of it per exercise, loops against
vectorised code): independent answers reach 0.37 with each other and with the course's code
(in ex3_train, whose structure the exercise dictates: two loops, the update, the trace);
copies under renamed names, new comments, blank lines and spacing score 1.0, and 0.64 or more
with also a dead line added and ``a += b`` spelled ``a = a + b``; the library's body pasted
under the starter's signature scores 0.71 to 0.82 with the reference. Rewriting statements
(reordering, other idioms) lowers the score as it should: that is doing the work again.

Speed: fingerprints are computed once per submission and exercise; a pair is one intersection
of two small sets (a few dozen hashes), so 200 students (about 20,000 pairs per exercise) take
well under a second per exercise; reading the notebooks dominates. No inverted index is needed.
"""

import ast
import builtins
import importlib
import inspect
import io
import keyword
import sys
import tokenize
import zlib
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from dlcourse.grading import ANSWER, grade_id, grading_plan, nbgrader_metadata

K = 5  # tokens per k-gram
WINDOW = 4  # winnowing window: every shared run of K + WINDOW - 1 = 8 tokens is found
DEFAULT_THRESHOLD = 0.5
MIN_SHARED = 8  # fingerprints two answers must share before they can be flagged
REFERENCE = "reference"  # the name of the course's side of a pair

NAME, STRING = "$name", "$string"
BUILTINS = frozenset(dir(builtins))
_STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, None}


# ---------------------------------------------------------------- fingerprints

def normalised_tokens(source: str) -> list[str]:
    """The source as the comparison sees it (see the module's docstring). A source that stops
    tokenizing (unbalanced brackets, a bad dedent) keeps the tokens read up to there."""
    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]  # IPython magics
    raw = []
    try:
        raw.extend(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    significant = [t for t in _fstrings_whole(raw) if t.type not in (tokenize.COMMENT, tokenize.NL,
                                                                       tokenize.ENCODING, tokenize.ENDMARKER)]
    out, previous, index = [], None, 0
    while index < len(significant):
        token = significant[index]
        if token.type == tokenize.STRING and previous in _STATEMENT_START:
            end = index
            while end < len(significant) and significant[end].type == tokenize.STRING:
                end += 1
            if end == len(significant) or significant[end].type == tokenize.NEWLINE:  # a docstring: prose
                index = end + 1
                continue
        index += 1
        previous = token.type
        if token.type == tokenize.NAME:
            dotted = out and out[-1] == "."
            out.append(token.string if dotted or keyword.iskeyword(token.string) or token.string in BUILTINS
                       else NAME)
        elif token.type == tokenize.STRING:
            out.append(STRING)
        elif token.type == tokenize.NUMBER:
            out.append(_number(token.string))
        elif token.type == tokenize.NEWLINE or token.string == ";":
            out.append("\n")
            previous = tokenize.NEWLINE
        elif token.type == tokenize.INDENT:
            out.append(">")
        elif token.type == tokenize.DEDENT:
            out.append("<")
        elif token.string.strip():
            out.append(token.string)
    return out


def _fstrings_whole(tokens):
    """Python 3.12 tokenizes an f-string into pieces (FSTRING_START, its parts, FSTRING_END):
    one STRING token for each, as 3.11 reads it, so that the Python version changes nothing."""
    start, end = getattr(tokenize, "FSTRING_START", None), getattr(tokenize, "FSTRING_END", None)
    depth = 0
    for token in tokens:
        if start is not None and token.type == start:
            depth += 1
        elif depth and token.type == end:
            depth -= 1
            if not depth:
                yield token._replace(type=tokenize.STRING)
        elif not depth:
            yield token


def _number(text: str) -> str:
    try:
        return repr(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


def kgram_hashes(tokens: list[str]) -> list[int]:
    """One hash per K consecutive tokens; the same in every run (no salted str hashes)."""
    ids = [zlib.crc32(t.encode()) for t in tokens]
    return [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]


def winnow(hashes: list[int]) -> set[int]:
    """The smallest hash of every WINDOW consecutive ones (all of them for a shorter list)."""
    if len(hashes) <= WINDOW:
        return set(hashes)
    return {min(hashes[i:i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)}


def fingerprints(sources: list[str], starter: frozenset = frozenset()) -> frozenset:
    """The winnowed fingerprints of the sources together, less every k-gram of the starter."""
    found = set()
    for source in sources:
        found |= winnow(kgram_hashes(normalised_tokens(source)))
    return frozenset(found - starter)


def starter_kgrams(source: str) -> frozenset:
    """Every k-gram of the released answer cell: what no answer may be credited with."""
    return frozenset(kgram_hashes(normalised_tokens(source)))


# ---------------------------------------------------------------- the course's side

@dataclass
class Exercise:
    notebook: str  # file name, as in solutions/<assignment>/
    answer: str  # grade_id of the answer cell
    starter: frozenset  # k-grams of the released answer cell
    reference: list  # fingerprints of each version of the course's code for it (see course_exercises)
    submissions: dict = field(default_factory=dict)  # student: fingerprints (answered ones only)
    unanswered: list = field(default_factory=list)  # students whose cell holds no code of their own


def reference_source(qualified: str) -> str:
    """The source of a library function named as the release record names it."""
    module_name, _, name = qualified.rpartition(".")
    return inspect.getsource(getattr(importlib.import_module(module_name), name))


def answer_cells(cells, released: dict | None) -> dict[str, str]:
    """{grade_id: source} of the answer cells, kinds and grade_ids as grading reads them (the
    release's metadata, first copy of a grade_id only)."""
    found = {}
    for planned in grading_plan(cells, {}, released):
        gid = grade_id(planned.cell)
        if planned.kind == ANSWER and gid not in found:
            found[gid] = planned.cell.get("source", "")
    return found


def course_exercises(assignment: str, record: dict, solutions: Path, course: Path,
                     notes: list[str]) -> tuple[list[Exercise], dict[str, dict]]:
    """Every exercise of the assignment, with its starter and reference fingerprints, and the
    released nbgrader metadata of each notebook ({notebook: {grade_id: metadata}}). The course's
    code comes in versions, each compared whole: the solution cell (less the starter: its
    solution regions, in place), and the reference functions of each library module
    (``dlcourse.np.layers``'s dropout_forward and dropout_backward together, their torch twins
    in ``dlcourse.pt.layers`` together)."""
    import nbformat

    exercises, released = [], {}
    entries = [entry for entry in record.values() if entry.get("assignment") == assignment]
    if not entries:
        raise ValueError(f"the release record (lib/dlcourse/assignments.json) has no notebook of {assignment}: "
                         f"run `python -m autograde release {assignment} --force`")
    for entry in sorted(entries, key=lambda e: e["notebook"]):
        name = entry["notebook"]
        for folder in (course, solutions):
            if not (folder / assignment / name).is_file():
                raise ValueError(f"{folder.name}/{assignment}/{name} is missing: the comparison needs the "
                                 f"release and the solution of every notebook the release record lists")
        release = nbformat.read(course / assignment / name, as_version=4)
        solution = nbformat.read(solutions / assignment / name, as_version=4)
        released[name] = {grade_id(c): nbgrader_metadata(c) for c in release.cells if grade_id(c)}
        starters = answer_cells(release.cells, released[name])
        solved = answer_cells(solution.cells, released[name])
        for item in entry["exercises"]:
            gid = item["answer"]
            starter = starter_kgrams(starters.get(gid, ""))
            versions = {"solution": [solved.get(gid, "")]}
            for qualified in item.get("references", []):
                try:
                    source = reference_source(qualified)
                except (ImportError, AttributeError, OSError, TypeError) as error:
                    notes.append(f"{gid}: the reference {qualified} is left out ({type(error).__name__}: {error})")
                    continue
                versions.setdefault(qualified.rsplit(".", 2)[0], []).append(source)  # dlcourse.np.perceptron
            references = [fingerprints(sources, starter) for sources in versions.values()]
            exercises.append(Exercise(name, gid, starter, [r for r in references if r]))
    return exercises, released


# ---------------------------------------------------------------- the comparison

@dataclass(frozen=True)
class Pair:
    exercise: str
    a: str
    b: str  # a student, or REFERENCE
    similarity: float
    flagged: bool

    def as_json(self) -> dict:
        return {"exercise": self.exercise, "a": self.a, "b": self.b, "similarity": self.similarity,
                "flagged": self.flagged}


@dataclass
class Report:
    assignment: str
    threshold: float
    students: list[str]  # every submission found
    exercises: list[Exercise]
    pairs: list[Pair]  # flagged ones, and each answer's closest match (see compare)
    left_out: list[str]  # "student: why" for each notebook that could not be compared
    notes: list[str]  # references that could not be read

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]


def jaccard(a: frozenset, b: frozenset) -> tuple[float, int]:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared), shared


def compare(assignment: str, *, solutions: Path, course: Path, submitted: Path, record: dict,
            threshold: float = DEFAULT_THRESHOLD) -> Report:
    """Compare every submission of ``assignment`` in ``submitted``/<student>/<assignment>/.

    The report's pairs: every flagged one, and for each answered submission and exercise its
    closest match among the other students and its match with the course's code, flagged or
    not, so that the threshold can be judged against the whole class. Highest first."""
    import nbformat

    from .station import match_notebooks

    left_out, notes = [], []
    exercises, released = course_exercises(assignment, record, solutions, course, notes)
    students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
    expected = sorted(released)
    for student in students:
        mapping, _ = match_notebooks(submitted / student / assignment, expected)
        answers = {}
        for name in expected:
            if mapping[name] is None:
                left_out.append(f"{student}: {name} is missing")
                continue
            path = submitted / student / assignment / mapping[name]
            try:
                notebook = nbformat.read(path, as_version=4)
                answers[name] = answer_cells(notebook.cells, released[name])
            except Exception as error:  # any damage a student's file can have: report it, go on
                left_out.append(f"{student}: {mapping[name]} is unreadable ({type(error).__name__}: {error})")
        for exercise in exercises:
            if exercise.notebook not in answers:
                continue
            found = fingerprints([answers[exercise.notebook].get(exercise.answer, "")], exercise.starter)
            if found:
                exercise.submissions[student] = found
            else:
                exercise.unanswered.append(student)

    pairs = set()
    for exercise in exercises:
        best = {}
        for (a, fa), (b, fb) in combinations(exercise.submissions.items(), 2):
            similarity, shared = jaccard(fa, fb)
            pair = Pair(exercise.answer, a, b, round(similarity, 4),
                        similarity >= threshold and shared >= MIN_SHARED)
            if pair.flagged:
                pairs.add(pair)
            for student in (a, b):
                if student not in best or pair.similarity > best[student].similarity:
                    best[student] = pair
        pairs.update(best.values())
        for student, found in exercise.submissions.items():
            if exercise.reference:
                similarity, shared = max(jaccard(found, source) for source in exercise.reference)
                pairs.add(Pair(exercise.answer, student, REFERENCE, round(similarity, 4),
                               similarity >= threshold and shared >= MIN_SHARED))
    order = {e.answer: i for i, e in enumerate(exercises)}
    ranked = sorted(pairs, key=lambda p: (-p.similarity, order[p.exercise], p.a, p.b))
    return Report(assignment, threshold, students, exercises, ranked, left_out, notes)


def table(report: Report) -> str:
    """The flagged pairs, highest first, and a line per exercise on what was compared."""
    lines = []
    flagged = report.flagged
    if flagged:
        width_e = max(len("exercise"), *(len(p.exercise) for p in flagged))
        width_a = max(len("student"), *(len(p.a) for p in flagged))
        lines.append(f"{'similarity':>10}  {'exercise':<{width_e}}  {'student':<{width_a}}  matches")
        for pair in flagged:
            lines.append(f"{pair.similarity:>10.2f}  {pair.exercise:<{width_e}}  {pair.a:<{width_a}}  {pair.b}")
        lines.append("")
    lines.append(f"{report.assignment}: {len(report.students)} submission(s); {len(flagged)} pair(s) flagged at "
                 f"similarity >= {report.threshold:g} (with at least {MIN_SHARED} fingerprints in common)")
    for exercise in report.exercises:
        course_side = "the course's code" if exercise.reference else "no reference code"
        short = sum(len(found) < MIN_SHARED for found in exercise.submissions.values())
        lines.append(f"  {exercise.answer}: {len(exercise.submissions)} answered ({short} too short to flag), "
                     f"{len(exercise.unanswered)} unanswered (never flagged); compared with each other and "
                     f"{course_side}")
    return "\n".join(lines)


def main(assignment: str, *, solutions: Path, course: Path, submitted: Path, threshold: float,
         as_json: bool) -> int:
    """What the CLI's verb runs: the report on stdout, problems on stderr; 1 when a submission
    could not be read (the rest was still compared), else 0."""
    import json

    from dlcourse.doctor import load_manifest

    from .text import printable

    record = load_manifest() or {}
    report = compare(assignment, solutions=solutions, course=course, submitted=submitted, record=record,
                     threshold=threshold)
    if as_json:
        print(json.dumps([p.as_json() for p in report.pairs], indent=1))
    else:
        print(printable(table(report)))  # students' folder names and file names, escapes shown
    if report.left_out:
        print(f"{len(report.left_out)} notebook(s) left out of the comparison:", file=sys.stderr)
        for line in report.left_out:
            print(f"  {printable(line, one_line=True)}", file=sys.stderr)
    for line in report.notes:
        print(f"note: {printable(line, one_line=True)}", file=sys.stderr)
    return 1 if report.left_out else 0
