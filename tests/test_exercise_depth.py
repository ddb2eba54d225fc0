"""The exercises ask for real work (issue 26): no graded answer is a one-liner but a notebook's
first, warm-up exercise; every assignment has one exercise of fifteen lines or more; every
notebook has a widget. Measured on the solution notebooks: "lines of real work" are the lines
on which a statement of the solution begins, so comments, docstrings, `pass`, blank lines and
a long expression's continuation lines count for nothing. `python tests/test_exercise_depth.py`
prints the table."""

import ast
import re
import sys
import textwrap

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT

from dlcourse.grading import cell_kind, grade_id

# Not there yet, and known: 06's gates and cell update are still two-line exercises and it has no
# exercise of fifteen lines (clipping, sampling and the sampling loop are on the branch
# issue26-06-rnn-lstm-wip, not graded correctly yet). Strict: the test fails once 06 is done, so the
# mark is removed then.
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
AT_LEAST = 3        # lines of real work in every answer but the first
LONGEST_AT_LEAST = 15


def work_lines(solution: str) -> int:
    """How many lines of ``solution`` begin a statement (bare strings and `pass` left out)."""
    code = textwrap.dedent(solution)
    try:
        tree = ast.parse(code)
    except SyntaxError:   # a solution that is part of a larger block: its non-comment lines
        return sum(1 for line in code.splitlines() if line.strip() and not line.strip().startswith("#"))
    return len({node.lineno for node in ast.walk(tree)
                if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass)
                and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))})


def answers(assignment: str) -> dict[str, int]:
    """grade_id -> lines of real work, for the answer cells in notebook order."""
    notebook = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {grade_id(cell): work_lines("\n".join(SOLUTION.findall(cell.source)))
            for cell in notebook.cells if cell_kind(cell) == "answer"}


def widgets_called(assignment: str) -> list[str]:
    """The dlcourse.widgets functions the notebook's own cells call."""
    notebook = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    called = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell_kind(cell) == "test":
            continue
        try:
            tree = ast.parse(cell.source.replace("%matplotlib inline", ""))
        except SyntaxError:
            continue
        called += [node.func.attr for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and isinstance(node.func.value, ast.Name) and node.func.value.id == "widgets"]
    return called


def test_work_lines_counts_statements_not_lines():
    assert work_lines("x = (1 +\n     2)\n# a comment\n\n'''a docstring'''\npass\n") == 1
    assert work_lines("    for i in range(3):\n        total += i\n    return total\n") == 3
    assert work_lines("") == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_exercise_but_the_first_is_a_one_liner(assignment):
    thin = {gid: n for gid, n in list(answers(assignment).items())[1:] if n < AT_LEAST}
    assert not thin, (f"{assignment}: answers with fewer than {AT_LEAST} lines of real work (only the first, "
                      f"warm-up exercise may be that short): {thin}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_has_an_exercise_of_fifteen_lines(assignment):
    lines = answers(assignment)
    assert max(lines.values()) >= LONGEST_AT_LEAST, (
        f"{assignment}: no exercise has {LONGEST_AT_LEAST} lines of real work or more: {lines}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_has_a_widget(assignment):
    assert widgets_called(assignment), f"{assignment}: no cell calls a dlcourse.widgets function"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "lib"))
    for assignment in ASSIGNMENTS:
        lines = answers(assignment)
        print(f"{assignment}: widgets {widgets_called(assignment) or 'none'}")
        for gid, n in lines.items():
            print(f"    {gid:32s} {n:3d}")
