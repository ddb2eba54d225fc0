# nbgrader configuration of the course: maps nbgrader's steps onto the repository's folders.
#   solutions/<assignment>/               source notebooks (with solutions and hidden tests)
#   course/<assignment>/                  released student notebooks (nbgrader's release folder)
#   autograde/submitted/<student>/<assignment>/    collected submissions
#   autograde/autograded/<student>/<assignment>/   graded copies (the grading kernel runs here)
#   autograde/feedback/<student>/<assignment>/     HTML feedback
#   autograde/gradebook.db                the gradebook; any SQLAlchemy URL through DLCOURSE_GRADEBOOK_URL
# Paths hang off this file's location, so a copy of the repository grades into its own folders.
import os
from pathlib import Path

from dlcourse.grading import CELL_TIMEOUT_S

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

root = Path(__file__).resolve().parent.parent
c.CourseDirectory.root = str(root)
c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "autograde/submitted"
c.CourseDirectory.autograded_directory = "autograde/autograded"
c.CourseDirectory.feedback_directory = "autograde/feedback"
c.CourseDirectory.db_url = os.environ.get(
    "DLCOURSE_GRADEBOOK_URL", f"sqlite:///{root / 'autograde' / 'gradebook.db'}"
)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

# Answer cells in the released notebooks.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading runs notebooks in quick mode (dlcourse.runtime.quick() reads NBGRADER_EXECUTION);
# a cell that runs longer than this is stopped and the notebook graded up to there. The limit
# lives in dlcourse.runtime, which `python -m dlcourse doctor` also reads.
c.Execute.timeout = CELL_TIMEOUT_S
c.Execute.interrupt_on_timeout = True
