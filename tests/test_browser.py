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

import nbformat
import pytest
from conftest import ROOT, copy_course
from lab_server import TOKEN, free_port, lab_command, private_env, running

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

# JupyterLab settings for a quiet, deterministic page: every cell in the DOM (no windowing,
# so the n-th cell element is the notebook's n-th cell), no news or update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def lab_copy(tmp_path_factory):
    """JupyterLab serving a copy of the course (course/ and solutions/) as a student's machine
    would: quick mode on, but not headless, so widgets and progress bars are live."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    home = tmp_path_factory.mktemp("jupyter")
    for name, settings in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
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
