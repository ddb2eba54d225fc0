"""The course in a real JupyterLab, driven in Debian's chromium by Playwright.

JupyterLab is started on loopback with a token and private Jupyter folders, over a throw-away
copy of the course (saving a notebook or opening formgrader writes there, never into the
checkout). A student opens a released notebook and runs it through, then the solution
version: widgets render and follow a slider, nbgrader's Validate button passes it, figures stay
readable in the dark theme and a progress bar is a widget. An instructor opens formgrader and
sees the assignments. A failing test leaves a screenshot in tests/artifacts/browser/.

Skipped, with the reason, only where chromium or Playwright is missing and cannot be had
(`make test` installs chromium with apt-get when it runs as root).
"""

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
import station_corpus as corpus
from conftest import ROOT, WORKING, copy_course, run_autograde
from lab_server import TOKEN, free_port, get, lab_command, private_env, running

from dlcourse import runtime
from dlcourse.grading import ANSWER, cell_kind, grade_id, nbgrader_metadata

ASSIGNMENT = "01-perceptron"
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
# Debian's package puts the browser here and a shell wrapper at /usr/bin/chromium.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
# Generous: a cold kernel imports torch before the first cell answers.
CELL_WAIT_MS = 180_000


def chromium_path() -> str | None:
    explicit = os.environ.get("DLCOURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    found = next((path for path in CHROMIUM_CANDIDATES if Path(path).is_file()), None)
    return found or shutil.which("chromium")


def skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed: run `make setup` (requirements.txt pins it)"
    if chromium_path() is None:
        return ("chromium is not installed (looked for " + ", ".join(CHROMIUM_CANDIDATES)
                + " and chromium on PATH; DLCOURSE_CHROMIUM names another): `make test` installs it"
                " with apt-get when run as root, or run `sudo apt-get install chromium`")
    return None


pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
BATCH_NEEDS = ()  # of the shared grading batch, the hostile submission's tests read the station corpus only

# JupyterLab settings for a quiet, deterministic page: every cell in the DOM (no windowing,
# so the n-th cell element is the notebook's n-th cell), no news or update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def write_lab_settings(home: Path) -> None:
    """LAB_SETTINGS into the settings folder of a private Jupyter home (lab_server.private_env)."""
    for name, settings in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))


@pytest.fixture(scope="module")
def lab_copy(tmp_path_factory):
    """JupyterLab serving a copy of the course (course/ and solutions/) as a student's machine
    would: quick mode on, but not headless, so widgets and progress bars are live."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    home = tmp_path_factory.mktemp("jupyter")
    write_lab_settings(home)
    port = free_port()
    env = private_env(home, DLCOURSE_QUICK="1", HOME=str(home))
    for name in runtime.HEADLESS_ENV + ("PYTEST_CURRENT_TEST",):
        env.pop(name, None)  # a person at a browser: widgets and progress bars live
    with running(lab_command(course, port), port=port, cwd=course, env=env, log_path=home / "lab.log") as base:
        yield {"base": base, "token": TOKEN, "root": course, "log": home / "lab.log"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: chromium's own sandbox needs user namespaces that containers and CI
        # machines running as root often do not give it; the page is our own server.
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield instance
        instance.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def save_evidence_if_failed(request, page, lab) -> None:
    """After a failed set-up or test (conftest keeps its report on the item): a screenshot and
    JupyterLab's log in tests/artifacts/browser/."""
    if getattr(request.node, "outcome_of_call", None) is not None:
        save_evidence(request.node.name, page, lab)


def save_evidence(name: str, page, lab) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot, log = ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}-lab.log"
    page.screenshot(path=str(shot))
    shutil.copy(lab["log"], log)
    print(f"screenshot of the failure: {shot}; JupyterLab's log: {log}")


@pytest.fixture
def page(browser, lab_copy, request):
    page = new_page(browser)
    yield page
    save_evidence_if_failed(request, page, lab_copy)
    page.context.close()


# ------------------------------------------------------------------ driving JupyterLab

def open_notebook(page, lab, path: str) -> None:
    page.goto(f"{lab['base']}/lab/tree/{path}?token={lab['token']}&reset")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for()
    # the status bar reads "Python 3 (ipykernel) | Idle" once the kernel is up and connected
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first.wait_for(timeout=CELL_WAIT_MS)
    wait_for_kernel_idle(page)


def wait_for_kernel_idle(page, timeout_ms: int = CELL_WAIT_MS) -> None:
    """The kernel has started and nothing runs: no cell shows [*] and the status reads Idle."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const prompts = [...panel.querySelectorAll('.jp-InputArea-prompt')];
            if (prompts.some(p => p.textContent.includes('*'))) return false;
            const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return !status || status.getAttribute('data-status') === 'idle';
        }""", timeout=timeout_ms, polling=250)


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


def run_and_wait(page, top: str, item: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    menu(page, top, item)
    try:  # see the run start (a cell queued or the kernel busy) before waiting for its end
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt')]
                       .some(p => p.textContent.includes('*'))
                     || document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'busy'""",  # noqa: E501 (JavaScript)
            timeout=5_000, polling=50)
    except PlaywrightTimeout:
        pass  # a run of quick cells can be over before the first poll
    wait_for_kernel_idle(page)


def select_cell(page, index: int) -> None:
    """Click cell ``index`` (0-based) and check that JupyterLab agrees ("Cell 8/49")."""
    total = cells(page).count()
    cells(page).nth(index).locator(".jp-InputPrompt, .jp-Cell-inputCollapser").first.click()
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(rf"^Cell {index + 1}/{total}$")).wait_for(timeout=10_000)


def cells(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def error_cells(page) -> dict[int, str]:
    """{cell index: the error's last line} for every cell showing a traceback, or check.needs's
    one line (ExerciseUnfinished: an exercise the cell uses is unfinished)."""
    return page.evaluate(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const found = {};
            [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].forEach((cell, index) => {
                for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
                    const text = out.innerText || '';
                    if (out.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr'
                            && /Traceback|Error\\b.*:|\\w+Error\\s*$|^ExerciseUnfinished: /m.test(text)) {
                        const lines = text.trim().split('\\n');
                        found[index] = lines[lines.length - 1];
                    }
                }
            });
            return found;
        }""")


def executed_count(page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
                  .filter(p => /\\[\\d+\\]/.test(p.textContent)).length""")  # noqa: E501 (JavaScript)


def nbgrader_cell(notebook, index: int) -> dict:
    return nbgrader_metadata(notebook.cells[index])


# ------------------------------------------------------------------ the student

def test_released_notebook_fails_only_in_the_exercises(page, lab_copy):
    """Run All stops at an error, as it does for a student; the test then runs on from the
    next cell until the end, as a student skipping an exercise would. Every cell that shows
    an error must belong to an exercise (its answer or its checks), with the NotImplementedError
    of an unanswered cell, or be a later cell that uses an answer and says in one line which
    exercise to finish first (check.needs)."""
    path = f"course/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    released = nbformat.read(lab_copy["root"] / path, as_version=4)
    open_notebook(page, lab_copy, path)
    run_and_wait(page, "Run", "Run All Cells")
    # ipykernel aborts only the cells already queued when one fails, so a run can go on past an
    # error to later cells, which then fail for want of an aborted cell's names (more of them on
    # a busy machine): only the FIRST error of a run is the notebook's. Record it, resume right
    # after it, and look again: every cell below runs anew.
    seen: dict[int, str] = {}
    steps = []  # what was run from where and what it showed, for the failure message
    frontier = -1
    for _ in range(len(released.cells)):
        errors = {int(i): line for i, line in error_cells(page).items() if int(i) > frontier}
        steps.append(f"errors {sorted(errors)}")
        if not errors:
            break
        frontier = min(errors)
        seen[frontier] = errors[frontier]
        if frontier + 1 >= len(released.cells):
            break
        select_cell(page, frontier + 1)
        steps.append(f"run from {frontier + 1}")
        run_and_wait(page, "Run", "Run Selected Cell and All Below")
    assert seen, "the released notebook ran without a single error: are the answers still blank?"
    steps = "; ".join(steps)
    for index, line in sorted(seen.items()):
        metadata = nbgrader_cell(released, index)
        if "check.needs(" in released.cells[index].source and not metadata:
            assert line.startswith("ExerciseUnfinished: finish Exercise"), f"cell {index} shows {line}"
            continue
        assert metadata.get("grade") or metadata.get("solution"), (
            f"cell {index} ({released.cells[index].source[:60]!r}) is not an exercise cell but shows: {line}")
        assert "NotImplementedError" in line, f"cell {index} ({metadata.get('grade_id')}) shows {line}"
    exercises = {nbgrader_cell(released, i)["grade_id"].split("-")[0] for i in seen if nbgrader_cell(released, i)}
    answers = {grade_id(c) for c in released.cells if cell_kind(c) == ANSWER}
    assert exercises == answers, f"every exercise should stop a run: errors in {exercises}, answers {answers} ({steps})"
    # the cells after the last exercise ran (those that use an answer, to their one line)
    last_code = max(i for i, c in enumerate(released.cells) if c.cell_type == "code")
    assert re.search(r"\[\d+\]", cells(page).nth(last_code).locator(".jp-InputArea-prompt").inner_text())


@pytest.fixture(scope="module")
def solution_run(browser, lab_copy):
    """The solution notebook, outputs cleared, then run from the top in the browser; the tests
    below share this one run (a kernel and a notebook's worth of cells)."""
    page = new_page(browser)
    try:
        open_notebook(page, lab_copy, f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
        menu(page, "Edit", "Clear Outputs of All Cells")
        assert executed_count(page) == 0
        run_and_wait(page, "Run", "Run All Cells")
    except Exception:  # the tests that share this run never start: keep the evidence here
        save_evidence("solution_run", page, lab_copy)
        raise
    yield page
    page.context.close()


@pytest.fixture
def solution_page(solution_run, lab_copy, request):
    yield solution_run
    save_evidence_if_failed(request, solution_run, lab_copy)


def test_solution_runs_clean_and_its_widget_follows_the_slider(solution_page, lab_copy):
    page = solution_page
    source = nbformat.read(lab_copy["root"] / f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", as_version=4)
    code_cells = sum(c.cell_type == "code" for c in source.cells)
    assert error_cells(page) == {}
    stderr = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
                          "[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, f"the solution writes to stderr: {stderr.all_inner_texts()[:3]}"
    assert executed_count(page) == code_cells, "Run All did not reach every code cell"
    # the perceptron stepper: a slider and the figure it draws
    slider = page.locator(".widget-slider").first
    slider.wait_for()
    widget = slider.locator("xpath=ancestor::div[contains(@class, 'widget-interact')]")
    readout = slider.locator(".widget-readout")
    figure = widget.locator("img").first
    figure.wait_for()
    before = (readout.inner_text(), figure.get_attribute("src"))
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    # interact clears its output and draws a new figure: look the image up afresh each time
    page.wait_for_function(
        "([box, src]) => { const img = box.querySelector('img'); return img && img.getAttribute('src') !== src; }",
        arg=[widget.element_handle(), before[1]], timeout=30_000)
    assert readout.inner_text() != before[0]
    assert error_cells(page) == {}


def test_validate_button_passes_the_solution(solution_page):
    page = solution_page
    page.locator(".jp-NotebookPanel-toolbar .jp-ToolbarButtonComponent", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=CELL_WAIT_MS)
    text = dialog.inner_text()
    assert "Success" in text and "passes all the tests" in text, text
    dialog.locator("button").last.click()
    dialog.wait_for(state="hidden")


def test_figures_read_in_the_dark_theme_and_progress_is_a_widget(solution_page):
    page = solution_page
    menu(page, "Settings", "Theme")
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    page.wait_for_function("() => document.body.getAttribute('data-jp-theme-light') === 'false'")
    # every figure keeps its own opaque white ground, so dark ink stays legible on a dark page
    report = page.evaluate(
        """async () => {
            const luminance = rgb => { const [r, g, b] = rgb.match(/\\d+/g).map(Number); return (r + g + b) / 765; };
            const page = getComputedStyle(document.querySelector('.jp-Notebook')).backgroundColor;
            const figures = [];
            for (const img of document.querySelectorAll('.jp-OutputArea-output img')) {
                await img.decode();
                const canvas = document.createElement('canvas');
                canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
                const ctx = canvas.getContext('2d');
                ctx.drawImage(img, 0, 0);
                const corners = [[0, 0], [canvas.width - 1, 0], [0, canvas.height - 1], [canvas.width - 1, canvas.height - 1]]
                    .map(([x, y]) => [...ctx.getImageData(x, y, 1, 1).data]);
                figures.push(corners);
            }
            return {page: luminance(page), figures};
        }""")  # noqa: E501 (JavaScript)
    assert report["page"] < 0.3, f"the dark theme did not apply: notebook background luminance {report['page']}"
    assert report["figures"], "no figure in the solution's outputs"
    for corners in report["figures"]:
        assert all(pixel == [255, 255, 255, 255] for pixel in corners), f"a figure is not on opaque white: {corners}"
    # a progress bar drawn by the library is a live widget here (text under tests)
    count = cells(page).count()
    select_cell(page, count - 1)
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new code cell below, as a student adds one
    new_cell = cells(page).nth(count)
    new_cell.locator(".cm-content").click()
    page.keyboard.insert_text("from dlcourse import runtime\n"
                              "for _ in runtime.progress(range(3), desc='demo'):\n    pass")
    page.keyboard.press("Control+Enter")
    wait_for_kernel_idle(page)
    new_cell.locator(".widget-hprogress, .jupyter-widgets.widget-progress").first.wait_for(timeout=30_000)
    assert "demo" in new_cell.locator(".jp-OutputArea").inner_text()
    # the theme is a saved setting: give the next test the default back
    menu(page, "Settings", "Theme")
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Light$")).click()
    page.wait_for_function("() => document.body.getAttribute('data-jp-theme-light') === 'true'")


# ------------------------------------------------------------------ the instructor

def test_formgrader_lists_the_assignments(page, lab_copy):
    page.goto(f"{lab_copy['base']}/lab?token={lab_copy['token']}&reset")
    page.locator(".lm-MenuBar-itemLabel").first.wait_for()
    menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("iframe").first
    table = frame.locator("table")
    table.first.wait_for(timeout=60_000)
    expected = sorted(p.name for p in (lab_copy["root"] / "solutions").iterdir() if p.is_dir())
    for name in expected:
        frame.locator("a, td", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first.wait_for(timeout=30_000)


# ------------------------------------------------------------------ the instructor, reading a hostile submission

HOSTILE, CLEAN = "script-in-html", "good"  # station_corpus cases, graded in the shared batch


def graded_copy(batch, target: Path, students) -> Path:
    """What formgrader and feedback read of the shared grading batch (the station corpus's
    assignment, the gradebook, the graded notebooks of ``students``), copied: formgrader and
    feedback write, and the batch must not change."""
    for part in ("solutions", "course"):
        shutil.copytree(batch.course / part / corpus.ASSIGNMENT, target / part / corpus.ASSIGNMENT)
    shutil.copytree(ROOT / "autograde", target / "autograde", ignore=shutil.ignore_patterns("__pycache__", *WORKING))
    shutil.copy(batch.course / "autograde" / "gradebook.db", target / "autograde" / "gradebook.db")
    for student in students:
        shutil.copytree(batch.course / "autograde" / "autograded" / student / corpus.ASSIGNMENT,
                        target / "autograde" / "autograded" / student / corpus.ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", target / "nbgrader_config.py")
    return target


@pytest.fixture(scope="module")
def graded_lab(grading_batch, tmp_path_factory):
    """JupyterLab serving a copy of the graded station corpus, as an instructor serves the
    repository root for formgrader, with the feedback of a clean and a hostile submission."""
    course = graded_copy(grading_batch, tmp_path_factory.mktemp("graded"), (CLEAN, HOSTILE))
    feedback = run_autograde(course, "feedback", corpus.ASSIGNMENT)
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    home = tmp_path_factory.mktemp("jupyter-instructor")
    write_lab_settings(home)
    port = free_port()
    with running(lab_command(course, port), port=port, cwd=course, env=private_env(home, HOME=str(home)),
                 log_path=home / "lab.log") as base:
        yield {"base": base, "token": TOKEN, "root": course, "log": home / "lab.log"}


@pytest.fixture
def instructor_page(browser, graded_lab, request):
    page = new_page(browser)
    yield page
    save_evidence_if_failed(request, page, graded_lab)
    page.context.close()


class Watched:
    """What a page did while it was watched: dialogs (dismissed), console messages, and the
    requests made by the frame it was opened in and the frames below that."""

    def __init__(self, page):
        self.page, self.frame = page, page.main_frame
        self.dialogs, self.console, self.requests = [], [], []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: self.console.append(message.text))
        page.on("request", self._request)

    def _request(self, request):
        try:
            frame = request.frame
        except Exception:  # noqa: BLE001 (a service worker's request belongs to no frame)
            return
        while frame is not None and frame != self.frame:
            frame = frame.parent_frame
        if frame is not None and not request.url.startswith("data:"):
            self.requests.append((request.method, request.url))

    def open(self, frame, url: str, referer: str | None = None, settle_ms: int = 5_000):
        """Load ``url`` in ``frame`` and give its scripts time to act (an image's onerror, a fetch)."""
        self.frame = frame
        self.dialogs.clear(), self.console.clear(), self.requests.clear()
        frame.goto(url, referer=referer)
        frame.wait_for_load_state("load")
        self.page.wait_for_timeout(settle_ms)


def addresses(requests, *names: str) -> set[str]:
    """The requests as 'METHOD address', each of ``names`` (a submission's id, a student) made a
    placeholder, so that two submissions' pages can be compared."""
    found = set()
    for method, url in requests:
        for index, name in enumerate(names):
            url = url.replace(name, f"{{{index}}}")
        found.add(f"{method} {url}")
    return found


def active_content(frame) -> list[str]:
    """What in the rendered notebook could run or load something: script, frames, objects,
    inline SVG, event handler attributes, javascript: addresses."""
    return frame.evaluate(
        """() => {
            const found = [];
            const root = document.querySelector('#notebook-container') || document.body;
            for (const element of root.querySelectorAll('*')) {
                const tag = element.tagName.toLowerCase();
                if (element.closest('[class^="MathJax"], [id^="MathJax"]')) continue;  // typeset formulas
                if (['script', 'iframe', 'object', 'embed', 'svg', 'frame', 'base', 'form', 'style'].includes(tag)
                        && !(tag === 'script' && element.type.startsWith('math/tex'))) {
                    found.push(`<${tag}> ${element.outerHTML.slice(0, 80)}`);
                }
                for (const attribute of element.attributes) {
                    const value = attribute.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
                    if (attribute.name.startsWith('on') || value.startsWith('javascript:')
                            || (['src', 'href'].includes(attribute.name) && value.startsWith('data:text'))) {
                        found.push(`${tag} ${attribute.name}="${attribute.value.slice(0, 60)}"`);
                    }
                }
            }
            return found;
        }""")


def shows_ordinary_content(frame) -> dict:
    """Whether the student's ordinary markdown (heading, LaTeX, table) and matplotlib figure show."""
    return frame.evaluate(
        """async () => {
            const root = document.querySelector('#notebook-container') || document.body;
            const figures = [...root.querySelectorAll('img[src^="data:image/png"]')];
            await Promise.all(figures.map(img => img.decode().catch(() => null)));
            return {
                heading: [...root.querySelectorAll('h2')].some(h => h.textContent.includes('Notes on the softmax')),
                latex: root.innerHTML.includes('x^2') && root.innerHTML.includes('\\\\sigma(z)_i'),
                table: [...root.querySelectorAll('table td')].some(td => td.textContent.trim() === '0.5'),
                figures: figures.filter(img => img.naturalWidth > 100).length,
            };
        }""")


def kernels_running(lab) -> list:
    status, body = get(f"{lab['base']}/api/kernels?token={lab['token']}")
    assert status == 200, body
    return json.loads(body)


def assert_nothing_ran(watched, clean_requests: set[str], page_requests: set[str], what: str) -> None:
    """No dialog, no console marker, no call of the kernels API, and no request that the clean
    submission's page does not make (a template's own files from a web server the clean page also
    loads from, MathJax's fonts say, may differ with the formulas shown)."""
    marker = corpus.SCRIPT_MARKER
    assert watched.dialogs == [], f"{what}: the student's script opened dialogs: {watched.dialogs}"
    assert not [text for text in watched.console if marker in text], \
        f"{what}: the student's script wrote to the console: {watched.console}"
    kernel_calls = [request for request in watched.requests if "/api/kernels" in request[1]]
    assert kernel_calls == [], f"{what}: the page called the kernels API: {kernel_calls}"
    clean_servers = {server_of(request) for request in clean_requests} - {server_of(f"GET {watched.page.url}")}
    unexpected = {request for request in page_requests - clean_requests
                  if not (request.startswith("GET ") and server_of(request) in clean_servers - {"file://"})}
    assert not unexpected, f"{what}: requests that a clean submission's page does not make: {sorted(unexpected)}"


def server_of(request: str) -> str:
    """'https://cdn.example.org' of 'GET https://cdn.example.org/a/b.js'."""
    url = urlparse(request.split(" ", 1)[1])
    return f"{url.scheme}://{url.netloc}"


def submission_id(lab, student: str) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{lab['root'] / 'autograde' / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission_notebook(corpus.ASSIGNMENT, corpus.ASSIGNMENT, student).id


def test_formgrader_runs_no_script_of_a_hostile_submission(instructor_page, graded_lab):
    """The graded notebook of a submission full of scripts (station_corpus's script-in-html),
    opened in formgrader as an instructor grading by hand, inside JupyterLab (a sandboxed frame
    that still shares the server's origin: no dialogs, but requests) and in a tab of its own:
    nothing of it runs, loads or calls the server, and its ordinary text, LaTeX, table and
    figures still show. Before the station sanitised, this page started a kernel per script."""
    page, lab = instructor_page, graded_lab
    watched = Watched(page)
    page.goto(f"{lab['base']}/lab?token={lab['token']}&reset")
    page.locator(".lm-MenuBar-itemLabel").first.wait_for()
    menu(page, "Nbgrader", "Formgrader")
    page.frame_locator("iframe").first.locator("table").first.wait_for(timeout=60_000)
    in_lab = next(f for f in page.frames if "/formgrader" in f.url)
    for where, frame in (("formgrader in JupyterLab", in_lab), ("formgrader in a tab", page.main_frame)):
        seen = {}
        for student in (CLEAN, HOSTILE):
            identifier = submission_id(lab, student)
            watched.open(frame, f"{lab['base']}/formgrader/submissions/{identifier}/?index=0")
            frame.locator("#notebook-container .cell").first.wait_for()
            seen[student] = {"requests": addresses(watched.requests, identifier, student),
                             "active": active_content(frame), "ordinary": shows_ordinary_content(frame)}
            if student == HOSTILE:
                assert_nothing_ran(watched, seen[CLEAN]["requests"], seen[HOSTILE]["requests"], where)
        hostile = seen[HOSTILE]
        assert hostile["active"] == [], f"{where} shows active content of the student's: {hostile['active']}"
        assert hostile["ordinary"] == {"heading": True, "latex": True, "table": True, "figures": 2}, \
            f"{where}: {hostile['ordinary']}"
        # what the student tried is shown to the instructor as text
        assert "<script>" in frame.locator("#notebook-container").first.inner_text()
    assert kernels_running(lab) == [], "a kernel was started while formgrader showed the submission"


def test_feedback_page_runs_no_script_of_a_hostile_submission(instructor_page, graded_lab):
    """The same submission's feedback page, as JupyterLab serves it (Open in New Browser Tab) and
    as a file opened in the browser: nothing of it runs; its ordinary content still shows."""
    page, lab = instructor_page, graded_lab
    watched = Watched(page)
    page.goto(f"{lab['base']}/lab?token={lab['token']}&reset")  # signed in: the token is a cookie now
    page.locator(".lm-MenuBar-itemLabel").first.wait_for()
    html = corpus.NOTEBOOK.replace(".ipynb", ".html")
    for how in ("served", "file"):
        seen = {}
        for student in (CLEAN, HOSTILE):
            path = lab["root"] / "autograde" / "feedback" / student / corpus.ASSIGNMENT / html
            assert path.is_file(), f"no feedback page for {student}"
            if how == "served":  # JupyterLab opens it from its own page (the server wants that referer)
                url, referer = f"{lab['base']}/files/{path.relative_to(lab['root']).as_posix()}", f"{lab['base']}/lab"
            else:
                url, referer = path.as_uri(), None
            watched.open(page.main_frame, url, referer=referer)
            page.locator("#notebook-container .cell").first.wait_for()
            seen[student] = {"requests": addresses(watched.requests, student),
                             "active": active_content(page.main_frame),
                             "ordinary": shows_ordinary_content(page.main_frame)}
            if student == HOSTILE:
                assert_nothing_ran(watched, seen[CLEAN]["requests"], seen[HOSTILE]["requests"], f"feedback ({how})")
        hostile = seen[HOSTILE]
        assert hostile["active"] == [], f"the feedback ({how}) shows active content: {hostile['active']}"
        assert hostile["ordinary"] == {"heading": True, "latex": True, "table": True, "figures": 2}, \
            f"feedback ({how}): {hostile['ordinary']}"
    assert kernels_running(lab) == []
