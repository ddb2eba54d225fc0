"""Score parts of a solution notebook with the real grader.

Known-mistake checks do not grade a whole notebook: they run the set-up cells, every answer
cell (the one under test replaced by a wrong version) and the test cells of one exercise. They
run through the grading station's judge (``autograde.judge.grade_cases``): the student's cells
in a kernel (sandboxed where the machine allows it, as grading is), the test cells in the judge,
scored by the grading model's rule (``dlcourse.grading.points_earned``: a test earns its points
when it raises nothing; a warning on stderr costs nothing). So a mistake shown to lose points
here loses them at grading too.

All cases of an assignment share one kernel and one grading worker process (spawned, so that
the judge's environment and thread settings stay out of pytest's process).
"""

import atexit
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.grading import ANSWER, cell_kind, grade_id

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))

from autograde import sandbox  # noqa: E402

_worker = None


def exercises(notebook) -> list[str]:
    """The grade_ids of the notebook's answer cells, one per exercise."""
    return [grade_id(c) for c in notebook.cells if cell_kind(c) == ANSWER]


@dataclass
class CaseResult:
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id: (points, max)
    errors: list[str] = field(default_factory=list)  # what the case's cells and tests raised

    def describe(self, only=None) -> str:
        shown = {k: v for k, v in self.scores.items() if only is None or k in only}
        lines = [", ".join(f"{name}: {p:g}/{m:g}" for name, (p, m) in shown.items())]
        return "\n".join(lines + self.errors)


def run_cases(source_path: Path, cases: list[tuple[str | None, str | dict | None]]) -> list[CaseResult]:
    """Score (exercise, replacement) cases of the solution notebook at ``source_path`` in one
    kernel: the set-up cells once, then for each case every answer cell (with its replacement)
    and the exercise's test cells (every exercise's for None; then the replacement may be a
    dict {answer grade_id: source} of several answers)."""
    global _worker
    if _worker is None:
        _worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        atexit.register(_worker.shutdown, cancel_futures=True)
    use_sandbox = sandbox.unavailable_reason() is None
    limits = sandbox.Limits(wall_seconds=3600)  # every case of an assignment, one after the other
    # absolute: the sandboxed kernel starts in "/", where a relative path means nothing
    graded = _worker.submit(_grade_cases, str(Path(source_path).resolve()), cases, limits, use_sandbox).result()
    return [CaseResult(scores=dict(r.scores), errors=list(r.errors)) for r in graded]


def _grade_cases(source_path: str, cases, limits, use_sandbox: bool):
    from autograde import judge

    path = Path(source_path)
    return judge.grade_cases(path, cases, limits=limits, use_sandbox=use_sandbox, workdir=path.parent)
