"""The graded notebook made safe to render (autograde/sanitise.py), piece by piece: what a student
could write that runs in a browser is neutralised, and what the course itself writes (markdown
with LaTeX and tables, matplotlib figures) is kept as it is. The whole submission, graded and
opened in formgrader and the feedback page: tests/test_grading_station.py, tests/test_browser.py."""

import base64
import io
import re
import sys
from html.parser import HTMLParser

import nbformat
import pytest
import station_corpus as corpus
from conftest import ROOT

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import sanitise  # noqa: E402

SCRIPT = corpus.SCRIPT
HOSTILE_MARKDOWN = {
    "image handler": f'So that exp never overflows. <img src=x onerror="{SCRIPT}">',
    "script": f"<script>{SCRIPT}</script>",
    "markdown link": "[a link](javascript:alert(1))",
    "encoded link": "<a href='JaVa&#x09;script&colon;alert(1)'>x</a>",
    "svg": f'<svg onload="{SCRIPT}"><circle r="4"/></svg>',
    "frame": f'<iframe srcdoc="&lt;script&gt;{SCRIPT}&lt;/script&gt;"></iframe>',
    "object": '<object data="/api/kernels"></object><embed src="/api/kernels">',
    "style": "<style>body { display: none }</style><div style='position:fixed;inset:0'>x</div>",
    "form": '<form action="/api/kernels" method="post"><button formaction="javascript:alert(1)">go</button></form>',
    "server image": "![figure](/logout) <img src='/api/kernels'>",
    "unknown tag": "<div>\n<y$ tabindex=1 autofocus onfocus=alert(1)>\n</div>",
    "tex link": "$\\href{javascript:alert(1)}{click}$",
    "missing attachment": "![a](attachment:missing.png)",
}


class ActiveParts(HTMLParser):
    """What in a piece of HTML could run, load or restyle something, read by the standard library's
    parser (the sanitiser's own check uses html5lib, through bleach)."""

    def __init__(self, html: str):
        super().__init__()
        self.found = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in sanitise.TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            loads = name == "src" and not value.startswith("data:image/")
            if name.startswith("on") or name in ("formaction", "action", "srcdoc") or loads \
                    or value.startswith(("javascript:", "/")) or (name == "style" and "text-align" not in value):
                self.found.append(f"{tag} {name}={value[:40]}")

    def handle_data(self, data):
        if "\\href" in data:
            self.found.append("\\href")


def markdown_cells():
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "course").glob("*/*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "markdown":
                yield f"{path.parent.name}/{path.name}:{index}", cell


def test_the_course_markdown_is_kept_as_written():
    changed = [where for where, cell in markdown_cells()
               if sanitise.safe_markdown(cell.source, cell.get("attachments"))[0] != cell.source]
    assert changed == [], f"markdown cells the sanitiser would rewrite: {changed}"
    assert not sanitise.safe_markdown(corpus.ORDINARY_MARKDOWN)[2]


@pytest.mark.parametrize("what", list(HOSTILE_MARKDOWN))
def test_hostile_markdown_renders_to_nothing_active(what):
    source, attachments, changed = sanitise.safe_markdown(HOSTILE_MARKDOWN[what])
    html = sanitise.render_markdown(source, attachments)
    assert changed or what == "tex link"
    assert sanitise.is_clean(html), html
    assert ActiveParts(html).found == [], f"{what}: {html}"


def test_ordinary_html_keeps_its_meaning():
    source, _, changed = sanitise.safe_markdown("# Answer\n\nIt is $x<y$, see <b>this</b>.\n\n```\na\n\nb\n```")
    assert not changed
    source, _, changed = sanitise.safe_markdown("# Answer\n\nIt is $x<y$ <img src=x onerror=alert(1)>\n\n"
                                                "```\na\n\nb\n```")
    html = sanitise.render_markdown(source)
    assert changed and '<h1 id="Answer">' in html and "$x&lt;y$" in html and "<code>a&#10;&#10;b" in html


def test_a_matplotlib_svg_is_kept_and_an_active_one_cleaned():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 2))
    axes.imshow([[0, 1], [1, 0]])
    axes.set_title("$x^2$")
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    assert sanitise.safe_svg(buffer.getvalue()) == buffer.getvalue()
    hostile = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
               '<script>alert(2)</script><style>@import url(https://example.org/a.css);</style>'
               '<a xlink:href="javascript:alert(3)"><circle r="5" onclick="alert(4)"/></a>'
               '<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="/api/kernels"/></foreignObject>'
               '<image href="/api/kernels"/><use href="#local"/><rect style="fill: url(https://example.org/x)"/></svg>')
    cleaned = sanitise.safe_svg(hostile)
    for active in ("onload", "script", "@import", "javascript", "onclick", "foreignObject", "iframe",
                   "/api/kernels", "example.org"):
        assert active not in cleaned, (active, cleaned)
    assert '<use href="#local" />' in cleaned
    assert sanitise.safe_svg("<!DOCTYPE x [<!ENTITY a 'b'>]><svg>&a;</svg>") is None


def test_outputs_keep_text_and_figures_and_lose_what_runs():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    outputs = [
        nbformat.v4.new_output("display_data", data={"text/plain": "<JS>", "application/javascript": SCRIPT}),
        nbformat.v4.new_output("display_data", data={"text/plain": "<HTML>",
                                                     "text/html": f"<script>{SCRIPT}</script>"}),
        nbformat.v4.new_output("display_data", data={"text/html": f"<b>bold</b><img src=x onerror=\"{SCRIPT}\">"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "t", "text/html": "<table><tbody><tr><td>1</td>"
                                                       "</tr></tbody></table>", "text/latex": "$\\href{x}{y}$"},
                               execution_count=1),
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "a figure"},
                               metadata={"filenames": {"image/png": "/api/kernels"}, "image/png": {"width": 30}}),
        nbformat.v4.new_output("display_data", data={"image/png": 'x" onerror="alert(1)', "text/plain": "no"}),
        nbformat.v4.new_output("stream", name="stdout", text="<script>is text here</script>"),
    ]
    kept = sanitise.safe_outputs(outputs)
    bundles = [output.get("data") for output in kept if output.output_type != "stream"]
    assert bundles[0] == {"text/plain": "<JS>"}
    assert bundles[1] == {"text/plain": "<HTML>"}
    assert bundles[2] == {"text/plain": f"<b>bold</b><img src=x onerror=\"{SCRIPT}\">"}
    assert bundles[3] == {"text/plain": "t", "text/html": "<table><tbody><tr><td>1</td></tr></tbody></table>",
                          "text/latex": "$\\unsafehref{x}{y}$"}
    assert bundles[4] == {"image/png": png, "text/plain": "a figure"}
    assert kept[kept.index(outputs[4])].metadata == {"image/png": {"width": 30}}
    assert bundles[5] == {"text/plain": "no"}
    notes = [output.text for output in kept if output.output_type == "stream"]
    assert notes[0].endswith("application/javascript]\n") and "<script>is text here</script>" in notes


def test_the_notebook_keeps_only_the_course_metadata():
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}, "title": "<script>",
                                                  "kernelspec": {"name": "evil", "display_name": "evil"}})
    notebook.cells = [nbformat.v4.new_markdown_cell("text", metadata={"nbgrader": {"grade_id": "a"}, "tags": ["t"],
                                                                      "transient": {"remove_source": True}}),
                      nbformat.v4.new_raw_cell("<img src=x onerror=alert(1)>", metadata={"raw_mimetype": "text/html"})]
    kernel = {"name": "python3", "display_name": "Python 3"}
    course = {"kernelspec": kernel, "language_info": {"name": "python"}, "widgets": {}}
    sanitise.sanitise_notebook(notebook, course)
    assert notebook.metadata == {"kernelspec": kernel, "language_info": {"name": "python"}}
    assert notebook.cells[0].metadata == {"nbgrader": {"grade_id": "a"}, "tags": ["t"]}
    assert notebook.cells[1].source == "&lt;img src=x onerror=alert(1)&gt;"
    assert notebook.cells[1].metadata == {"raw_mimetype": "text/html"}
    nbformat.validate(notebook)


def test_a_notebook_built_to_be_slow_to_sanitise_stays_within_the_budget(monkeypatch):
    """HTML nested thousands deep (bleach's parser slows down faster than the depth grows: 50,000
    nested <div> took it 225 s), huge cells and outputs, an SVG nested past Python's recursion
    limit: bleach parses no more than the notebook's budget of tags, the rest is shown as text.
    (What the budget costs in time: about 2 s on the test machine; the bound checked is the
    work, not a clock, so a loaded machine cannot fail it.)"""
    nested = "<div>" * 50_000 + "x"
    cells = [nbformat.v4.new_markdown_cell(nested), nbformat.v4.new_markdown_cell("- a\n" * 50_000),
             nbformat.v4.new_markdown_cell("x" * 3_000_000), nbformat.v4.new_raw_cell(nested)]
    cells += [nbformat.v4.new_markdown_cell("<div>" * (sanitise.PIECE_TAGS - 10) + "x") for _ in range(10)]
    code = nbformat.v4.new_code_cell("")
    deep_svg = '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * 100_000 + "</g>" * 100_000 + "</svg>"
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": nested, "text/plain": "deep"}),
                    nbformat.v4.new_output("display_data", data={"text/markdown": nested}),
                    nbformat.v4.new_output("display_data", data={"image/svg+xml": deep_svg, "text/plain": "svg"})]
    code.outputs += [nbformat.v4.new_output("display_data", data={"text/html": "<b>" * (sanitise.PIECE_TAGS - 10)})
                     for _ in range(10)]
    notebook = nbformat.v4.new_notebook(cells=[*cells, code])
    parsed = []
    clean = sanitise.clean_html
    monkeypatch.setattr(sanitise, "clean_html", lambda html: parsed.append(html.count("<")) or clean(html))
    sanitise.sanitise_notebook(notebook, {})
    # a piece the budget lets through is parsed a few times (checked, cleaned, its cleaned
    # rendering checked), and cleaning closes what it opens: at most twice its tags, four passes
    assert parsed and max(parsed) <= 2 * sanitise.PIECE_TAGS, f"bleach parsed a piece of {max(parsed)} tags"
    assert sum(parsed) <= 4 * 2 * sanitise.NOTEBOOK_TAGS, f"bleach parsed {sum(parsed)} tags in all"
    for cell in notebook.cells[:-1]:
        html = sanitise.render_markdown(cell.source) if cell.cell_type == "markdown" else cell.source
        assert len(html) < 100_000 and ActiveParts(html).found == [], html[:200]
    shown = [output.data for output in notebook.cells[-1].outputs if output.output_type == "display_data"]
    assert shown[:3] == [{"text/plain": "deep"}, {"text/plain": sanitise.shown_as_text(nested)}, {"text/plain": "svg"}]
