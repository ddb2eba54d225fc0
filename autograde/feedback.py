"""Feedback pages that say what is not graded yet.

nbgrader's feedback page shows every graded cell with "Score: x / y", and a written answer that
nobody has graded by hand yet reads as "Score: 0.0 / 3.0", as if it had been marked wrong. Here
a preprocessor (:class:`MarkUngraded`, after nbgrader's GetGrades) marks each cell that still
needs a grade by hand, from the gradebook, and our template (``templates/dlcourse_feedback/feedback.html.j2``,
which extends nbgrader's ``feedback`` and overrides only the page's table of contents and the
written answers) says "not graded yet" for them. ``python -m autograde feedback`` and ``export``
warn how many answers still wait (:func:`ungraded_answers`).
"""

from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from dlcourse.grading import nbgrader_metadata

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "dlcourse_feedback"  # its conf.json names nbgrader's "feedback" as its base
# not index.html.j2: that name, in nbgrader's folder behind ours, is the page this one extends
TEMPLATE_FILE = "feedback.html.j2"


def nbgrader_templates() -> Path:
    """The folder of nbgrader's own templates (its ``feedback`` template, which ours extends)."""
    import nbgrader

    return Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"


def configure(config) -> None:
    """Point nbgrader's GenerateFeedback at our template (and, behind it, at nbgrader's)."""
    config.HTMLExporter.template_name = TEMPLATE
    config.HTMLExporter.template_file = TEMPLATE_FILE
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates())]


class MarkUngraded(NbGraderPreprocessor):
    """Marks every graded cell that still needs a grade by hand (``ungraded`` in its nbgrader
    metadata, from the gradebook's needs_manual_grade) and counts them in the resources
    (``ungraded``, ``ungraded_points``), for the template. Runs after GetGrades."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        waiting = []
        with Gradebook(info["db_url"]) as gradebook:
            for cell in nb.cells:
                meta = nbgrader_metadata(cell)
                if not meta.get("grade"):
                    continue
                grade = gradebook.find_grade(meta["grade_id"], info["notebook"], info["assignment"], info["student"])
                meta["ungraded"] = bool(grade.needs_manual_grade)
                if meta["ungraded"]:
                    waiting.append(float(grade.max_score or 0))
        info["ungraded"] = len(waiting)
        info["ungraded_points"] = sum(waiting)
        return nb, resources


def ungraded_answers(gradebook, assignment: str | None = None) -> int:
    """How many answers in the gradebook (of ``assignment``, or of every assignment) still need
    a grade by hand."""
    return sum(1 for a in gradebook.assignments if assignment in (None, a.name)
               for submission in a.submissions for notebook in submission.notebooks
               for grade in notebook.grades if grade.needs_manual_grade)


def ungraded_warning(count: int, what: str) -> str:
    """The line feedback and export print on stderr while answers wait for a grade by hand."""
    answers = "1 answer still needs" if count == 1 else f"{count} answers still need"
    return (f"{answers} grading by hand (formgrader: `make lab LAB_ROOT=.`, Nbgrader menu): {what}")
