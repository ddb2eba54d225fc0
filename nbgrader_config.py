# nbgrader looks for nbgrader_config.py in the folder it is started from: this one lets plain
# `nbgrader ...` commands and JupyterLab's formgrader, started at the repository's root, use
# the course's configuration, which lives in autograde/nbgrader_config.py.
import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent / "autograde" / "nbgrader_config.py"),
               init_globals={"get_config": get_config})  # noqa: F821 (provided by traitlets)
