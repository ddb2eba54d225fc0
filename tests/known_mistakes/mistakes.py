"""Known mistakes written as edits of the solution: the helper the files beside it share.

Each tests/known_mistakes/NN-topic.py defines ``MISTAKES = {answer grade_id: {name: source}}``
(autograde/manifest.py reads the names from that dict literal without running the file). A
source is nearly always ``edit(...)``: the solution notebook's answer cell with the slip made
in it, so that the mistake shows exactly what is wrong and follows the solution when it
changes. The few answers that are wrong altogether (delegation to the library, a hard-coded
result) are written out with ``whole(...)``.

    from known_mistakes.mistakes import edits_of, whole

    edit = edits_of("01-perceptron")
    MISTAKES = {
        "ex1_predict": {
            "non-strict threshold": visible(edit("ex1_predict", ("float) > 0)", "float) >= 0)")),
                                            hint="use a strict > 0"),
            ...

Every mistake is tagged with how a student hears of it before grading (``Mistake``):
``visible(source, hint=...)`` where a visible check of its exercise fails on it and the
message says ``hint``, ``hidden_only(source, why=...)`` where no visible check can see it
and ``why`` says so (a hard-coded answer, delegation, a slip that shows only on inputs a
visible check cannot hold). tests/test_known_mistakes.py holds the tags to what grading does
(it reads the first 2,000 characters of a failure: put the hint's words early in a long message).

The files are run with runpy.run_path, which does not put their folder on sys.path; the
import works because tests/ is on it (pytest adds the folder of tests/conftest.py), which
makes this folder the namespace package ``known_mistakes``.
"""

from functools import cache
from pathlib import Path

import nbformat

from dlcourse.grading import ANSWER, cell_kind, grade_id

ROOT = Path(__file__).resolve().parents[2]


@cache
def _answer_cells(assignment: str) -> dict[str, str]:
    path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    return {grade_id(cell): cell.source for cell in notebook.cells if cell_kind(cell) == ANSWER}


class Mistake(str):
    """A known mistake's answer cell (the str itself) with its tag: ``hint`` (the words a
    failing visible check of the exercise must say about it) or ``why`` (the reason no visible
    check can see it); exactly one of the two is set."""

    hint: str | None = None
    why: str | None = None

    @property
    def visible(self) -> bool:
        return self.hint is not None


def visible(source: str, *, hint: str) -> Mistake:
    """A mistake that fails a visible check of its exercise, whose message contains ``hint``
    (compared without case, runs of white space as one space): the student is warned before
    grading, and told where to look."""
    if not hint.strip():
        raise ValueError("visible(...): hint must name the words the failing visible check prints")
    mistake = Mistake(source)
    mistake.hint = " ".join(hint.split())
    return mistake


def hidden_only(source: str, *, why: str) -> Mistake:
    """A mistake only hidden tests catch; ``why`` says why no visible check can (delegation
    and hard-coded answers are hidden-only by nature; a conceptual slip rarely is)."""
    if not why.strip():
        raise ValueError("hidden_only(...): say why no visible check can see this mistake")
    mistake = Mistake(source)
    mistake.why = why
    return mistake


def solution_answer(assignment: str, exercise: str) -> str:
    """The source of the answer cell ``exercise`` (its grade_id) in the solution notebook."""
    cells = _answer_cells(assignment)
    if exercise not in cells:
        raise KeyError(f"{assignment}: the solution notebook has no answer cell {exercise!r} "
                       f"(it has {', '.join(cells)})")
    return cells[exercise]


def edit(assignment: str, exercise: str, *replacements: tuple[str, str]) -> str:
    """The solution's answer cell with each (old, new) replacement made, in order.

    Each ``old`` must occur exactly once in the text as edited so far, and the result must
    differ from the solution: a solution that changed under a mistake fails here, loudly,
    instead of turning the mistake into a right answer."""
    if not replacements:
        raise ValueError(f"{assignment} {exercise}: an edit needs at least one (old, new) replacement")
    solution = source = solution_answer(assignment, exercise)
    for old, new in replacements:
        count = source.count(old)
        if count != 1:
            found = "does not occur" if count == 0 else f"occurs {count} times"
            raise ValueError(f"{assignment} {exercise}: the text to replace {found} in the solution's "
                             f"answer cell (did the solution change?):\n{old}")
        source = source.replace(old, new)
    if source == solution:
        raise ValueError(f"{assignment} {exercise}: the edit {replacements!r} leaves the solution unchanged")
    return _compiled(source, f"{assignment} {exercise}")


def edits_of(assignment: str):
    """``edit`` with the assignment filled in: ``edits_of(a)(exercise, *replacements)``."""
    def edit_answer(exercise: str, *replacements: tuple[str, str]) -> str:
        return edit(assignment, exercise, *replacements)

    edit_answer.__name__ = f"edit_{assignment}"
    return edit_answer


def whole(source: str) -> str:
    """A wrong answer written out in full: one that is not a slip in the solution (delegation
    to the library, a hard-coded result)."""
    return _compiled(source, "a whole-cell mistake")


def _compiled(source: str, where: str) -> str:
    """``source``, once it is known to be Python: a mistake must lose points for its slip, not
    for a syntax error made in writing it down."""
    try:
        compile(source, where, "exec")
    except SyntaxError as error:
        raise ValueError(f"{where}: the mistake is not valid Python ({error.msg}, line {error.lineno}):\n"
                         f"{source}") from None
    return source
