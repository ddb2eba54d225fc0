"""Run parts of a solution notebook and score them with nbgrader's own rule.

Known-mistake checks do not execute a whole notebook: they run the setup cells, every
answer cell (the one under test replaced by a wrong version) and the test cells of one
exercise, then give each test cell nbgrader's grade (``nbgrader.utils.determine_grade``:
no points on an error or on output to stderr).
"""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade

TEST_SUFFIX = "-test-"


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_id(cell) -> str:
    return nbgrader_meta(cell).get("grade_id", "")


def is_answer(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def is_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_setup(cell) -> bool:
    return cell.cell_type == "code" and grade_id(cell).startswith("setup")


def exercise_of(cell) -> str:
    """The exercise a test cell belongs to: its grade_id up to '-test-'."""
    return grade_id(cell).split(TEST_SUFFIX)[0]


def exercises(notebook) -> list[str]:
    return [grade_id(c) for c in notebook.cells if is_answer(c)]


def reduced_notebook(notebook, exercise: str | None, replacement: str | None = None):
    """Setup cells, all answer cells (``exercise``'s replaced by ``replacement`` when given)
    and the test cells of ``exercise`` (of every exercise for None), in notebook order,
    without outputs."""
    cells = []
    for cell in notebook.cells:
        if is_setup(cell) or is_answer(cell) or (is_test(cell) and exercise in (None, exercise_of(cell))):
            cell = nbformat.from_dict(dict(cell))
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            if is_answer(cell) and grade_id(cell) == exercise and replacement is not None:
                cell.source = replacement
            cells.append(cell)
    reduced = nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)
    if not any(is_test(c) for c in cells):
        raise ValueError(f"exercise {exercise!r} has no test cells")
    return reduced


def run_and_score(notebook, cwd: Path, timeout: int = 300) -> dict[str, tuple[float, float]]:
    """Execute as nbgrader's autograder would (errors allowed, NBGRADER_EXECUTION set) and
    return {grade_id: (points, max_points)} for every test cell."""
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    return {grade_id(c): determine_grade(c) for c in notebook.cells if is_test(c)}


def error_text(notebook) -> str:
    """The errors a notebook's outputs hold, for assertion messages."""
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines.append(f"[{grade_id(cell) or 'cell'}] {output['ename']}: {output['evalue'][:300]}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines.append(f"[{grade_id(cell) or 'cell'}] stderr: {output['text'][:300]}")
    return "\n".join(lines)
