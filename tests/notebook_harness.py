"""Run parts of a solution notebook and score them with nbgrader's own rule.

Known-mistake checks do not execute a whole notebook: they run the setup cells, every
answer cell (the one under test replaced by a wrong version) and the test cells of one
exercise, then give each test cell nbgrader's grade (``nbgrader.utils.determine_grade``:
no points on an error or on output to stderr). ``run_cases`` puts many such runs in one
kernel, one after the other, each starting by re-running every answer cell, so that an
assignment's known mistakes cost one kernel start, not one each.
"""

import os
from dataclasses import dataclass, field
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


@dataclass
class CaseResult:
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id: (points, max)
    errors: list[str] = field(default_factory=list)  # what the case's cells raised or printed to stderr

    def describe(self, only=None) -> str:
        shown = {k: v for k, v in self.scores.items() if only is None or k in only}
        lines = [", ".join(f"{name}: {p:g}/{m:g}" for name, (p, m) in shown.items())]
        return "\n".join(lines + self.errors)


def run_cases(notebook, cases: list[tuple[str | None, str | None]], cwd: Path,
              timeout: int = 300) -> list[CaseResult]:
    """Score several (exercise, replacement) cases in one kernel: the setup cells once, then
    for each case every answer cell (with its replacement) and the exercise's test cells
    (every exercise's for None)."""
    setup = [c for c in notebook.cells if is_setup(c)]
    cells, owners = [], []
    for cell in setup:
        cells.append(nbformat.from_dict(dict(cell)))
        owners.append(None)
    for index, (exercise, replacement) in enumerate(cases):
        part = reduced_notebook(notebook, exercise, replacement).cells
        for cell in part:
            if not is_setup(cell):
                cells.append(cell)
                owners.append(index)
    for number, cell in enumerate(cells):
        cell["id"] = f"case-cell-{number}"  # answer cells repeat once per case; ids must stay unique
    combined = nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)
    for cell in combined.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    run_and_score(combined, cwd, timeout=timeout)
    results = [CaseResult() for _ in cases]
    for cell, owner in zip(combined.cells, owners):
        if owner is None:
            continue
        if is_test(cell):
            results[owner].scores[grade_id(cell)] = determine_grade(cell)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                results[owner].errors.append(f"[{grade_id(cell)}] {output['ename']}: {output['evalue'][:300]}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                results[owner].errors.append(f"[{grade_id(cell)}] stderr: {output['text'][:300]}")
    return results
