"""The graded notebook made safe to render in a browser, before the station writes it.

What the station writes to autograde/autograded/ is rendered as HTML by nbgrader's formgrader,
on the instructor's Jupyter origin, and by `python -m autograde feedback` into the pages the
students get. Neither sanitises: formgrader's template passes a markdown cell's HTML through as
written, and nbconvert's templates put a JavaScript output in a <script> element. A script there
runs as the instructor (it can start a kernel through /api/kernels and run code on the host).
So every part of the graded notebook that a student wrote or that the kernel produced is
reduced here to what cannot run anything or reach the server:

  markdown  rendered as nbconvert renders it, and kept as written when that HTML holds nothing
            outside the allow-list below (ordinary text, LaTeX, tables, code, links); otherwise
            replaced by the rendering passed through bleach (tags not allowed shown as text)
  outputs   text, LaTeX, PNG/JPEG/GIF and JSON kept; HTML and markdown kept when clean, else
            left out for their text form (or shown as text where they have none); SVG without
            scripts, handlers or links; JavaScript, widgets and any other type removed, with a note
  raw       kept when clean HTML, else escaped

bleach parses at most NOTEBOOK_TAGS tags of a notebook (PIECE_TAGS of one piece): past that,
markdown is shown as its text and HTML left out, so that no submission holds the worker long.
  metadata  the course's kernel and language (never the submission's widget state); cells keep
            their nbgrader metadata (the release's: dlcourse.grading.grading_plan), tags and a
            raw cell's format

Links may point at http(s) and mailto addresses and at anchors; images only at data: URLs (an
image at a relative address would be a request to the instructor's server). TeX commands that
make links or set styles (\\href, \\style...) are renamed so that MathJax shows them as
errors instead of following them.
"""

import base64
import binascii
import re
from functools import lru_cache
from html import escape
from urllib.parse import urlparse

import bleach
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "samp",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# an image is inert data (an SVG shown by <img> runs no script and loads nothing)
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*", re.ASCII)
# pygments' token classes (n, o, mi, kn...), nbconvert's code block and heading anchor
CLASS_NAME = re.compile(r"[a-z][a-z0-9]{0,3}|highlight|anchor-link|language-[A-Za-z0-9_+-]{1,40}", re.ASCII)
IMAGE_MIMETYPES = ("image/png", "image/jpeg", "image/gif")
KEPT_AS_IS = frozenset({"text/plain", "application/json", *IMAGE_MIMETYPES})
TABLE_ALIGNMENT = re.compile(r"text-align:\s*(left|right|center|justify)\s*;?", re.ASCII)
PREFORMATTED = re.compile(r"(<pre\b.*?</pre>)", re.S)
# MathJax commands that make a link, load an extension or set styles and classes on the page
TEX_COMMANDS = re.compile(r"\\(href|url|require|style|class|cssId|unicode|data|mathtip|texttip|toggle)(?![A-Za-z])")
# bleach's parser (html5lib, in Python) takes a quarter of a second for 2,000 nested tags, and
# slows down the deeper they nest: a piece of HTML with more tags, or past a notebook's worth, is
# shown as text instead (the course's notebooks render to at most 500 tags each)
PIECE_TAGS, NOTEBOOK_TAGS = 2_000, 8_000
MARKDOWN_CHARS = 100_000  # a longer markdown cell is shown as text (the course's longest: 2,000)
SVG_CHARS = 8 * 2**20  # a larger SVG is left out (matplotlib's, for a dense scatter plot: about 1 MB)
SHOWN_CHARS = 10_000  # of a piece shown as text


class Budget:
    """How many more tags of the notebook's pieces bleach may take (counted as '<', which bounds
    them). A piece taken is parsed a few times (checked, cleaned, its cleaned rendering checked):
    the work stays a small multiple of the budget (tests/test_sanitise.py)."""

    def __init__(self, tags: int = NOTEBOOK_TAGS):
        self.tags = tags

    def spend(self, html: str) -> bool:
        """Whether ``html`` may be parsed; if so, its tags are spent."""
        tags = html.count("<")
        if tags > min(PIECE_TAGS, self.tags):
            return False
        self.tags -= tags
        return True


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's test of each attribute (``value`` with its character references decoded)."""
    if tag == "a" and name == "href":
        return value.startswith("#") or urlparse(value).scheme.lower() in LINK_SCHEMES
    if tag == "img" and name == "src":
        return IMAGE_DATA.fullmatch(value) is not None
    if name == "class":
        return all(CLASS_NAME.fullmatch(word) for word in value.split())
    if name == "id":  # nbconvert's heading anchors
        return tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
    if name == "style":  # table alignment (TableAlignment keeps nothing else)
        return tag in {"th", "td"}
    return name in {"title", "alt"} or (tag == "img" and name in {"width", "height"}) or \
        (tag in {"th", "td"} and name in {"colspan", "rowspan", "align"})


class TableAlignment:
    """bleach's style sanitiser for table cells: the alignment a markdown table writes, kept as
    written (so that a clean table stays unchanged), and nothing else."""

    @staticmethod
    def sanitize_css(style: str) -> str:
        return style if TABLE_ALIGNMENT.fullmatch(style.strip()) else ""


@lru_cache(maxsize=1)
def _cleaner() -> bleach.Cleaner:
    # an address passes _allowed_attribute first, then bleach's own test of its scheme
    return bleach.Cleaner(tags=TAGS, attributes=_allowed_attribute, protocols=frozenset({"data", *LINK_SCHEMES}),
                          strip=False, strip_comments=True,
                          css_sanitizer=TableAlignment())


def clean_html(html: str) -> str:
    """``html`` with every tag outside the allow-list shown as text and every attribute outside
    it removed."""
    return _cleaner().clean(html)


def is_clean(html: str) -> bool:
    """Whether ``html`` is exactly what the sanitiser would make of it: it holds nothing to remove."""
    return clean_html(html) == html


def defuse_tex(text: str) -> str:
    r"""``\href`` becomes ``\unsafehref`` (MathJax shows an unknown command and follows nothing)."""
    return TEX_COMMANDS.sub(r"\\unsafe\1", text)


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """The HTML nbconvert makes of a markdown cell (formgrader's and the feedback's renderer)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, anchor_link_text="¶")
    return MarkdownWithMath(renderer=renderer).render(source)


def as_html_block(html: str) -> str:
    """Markdown whose rendering is ``html`` as it is: one HTML block on one line (a markdown
    renderer passes an HTML block through untouched until the first blank line). Line breaks
    are spaces to HTML, except in <pre>, where they are written as references."""
    parts = PREFORMATTED.split(html.replace("\r", ""))
    return "<div>" + "".join(part.replace("\n", "&#10;" if index % 2 else " ")
                             for index, part in enumerate(parts)) + "</div>"


def safe_markdown(source: str, attachments: dict | None = None,
                  budget: Budget | None = None) -> tuple[str, dict | None, bool]:
    """(markdown, attachments, whether it was rewritten): ``source`` as written when its rendering
    is clean; else the sanitised rendering as an HTML block (images of attachments inlined); else,
    past the budget or where rendering fails, the source as text."""
    budget = budget or Budget()
    source = defuse_tex(source)
    attachments = safe_attachments(attachments)
    html = rendering(source, attachments)
    rewritten = [as_text_block(source)]
    if html is not None and budget.spend(html):
        if is_clean(html):
            return source, attachments, False
        rewritten.insert(0, as_html_block(clean_html(html)))
    for candidate in rewritten:  # checked as formgrader will render it (one pass more of bleach)
        if is_clean(render_markdown(candidate)):
            return candidate, None, True
    raise AssertionError("an escaped markdown cell still renders to HTML outside the allow-list")


def rendering(source: str, attachments: dict | None = None) -> str | None:
    """nbconvert's HTML of a markdown cell; None when the cell is too long to render here or the
    renderer fails on it (a missing attachment, nesting too deep)."""
    if len(source) > MARKDOWN_CHARS:
        return None
    try:
        return render_markdown(source, attachments)
    except Exception:  # noqa: BLE001 (whatever the renderer chokes on is shown as text)
        return None


def as_text_block(text: str) -> str:
    """Markdown that shows ``text`` as it is, escaped, in a <pre> (its first SHOWN_CHARS)."""
    return as_html_block(f"<pre>{escape(shown_as_text(text), quote=False)}</pre>")


def shown_as_text(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}\n[{len(text) - SHOWN_CHARS} more characters]"


def safe_attachments(attachments: dict | None) -> dict | None:
    """The images among a markdown cell's attachments (PNG, JPEG, GIF in base64; SVG cleaned)."""
    if not attachments:
        return attachments
    kept = {}
    for name, bundle in attachments.items():
        images = {}
        for mimetype, data in (bundle or {}).items():
            if mimetype in IMAGE_MIMETYPES and isinstance(data, str) and _is_base64(data):
                images[mimetype] = data
            elif mimetype == "image/svg+xml" and isinstance(data, str) and _is_base64(data):
                svg = safe_svg(_decode(data))
                if svg is not None:
                    images[mimetype] = base64.b64encode(svg.encode()).decode()
        if images:
            kept[name] = images
    return kept


def _is_base64(data: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9+/=\s]*", data, re.ASCII) is not None


def _decode(data: str) -> str:
    try:
        return base64.b64decode(data).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


# ------------------------------------------------------------------ SVG

SVG_NS, XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
# what matplotlib and ordinary drawings use; no script, foreignObject, a, animate or set
SVG_ELEMENTS = frozenset({
    "svg", "g", "defs", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "title", "desc", "clipPath", "mask", "pattern", "linearGradient", "radialGradient",
    "stop", "use", "image", "style", "symbol", "marker", "metadata",
})
# what matplotlib writes in <metadata>: inert elements of the RDF, Dublin Core and Creative Commons
METADATA_NAMESPACES = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/dc/elements/1.1/",
                       "http://creativecommons.org/ns#")
CSS_URL = re.compile(r"url\(\s*(?!['\"]?#)", re.I)  # url(...) that is not a reference in the drawing


def safe_svg(svg: str) -> str | None:
    """``svg`` as it is when it holds only drawing (elements of SVG_ELEMENTS, no event handlers,
    links only within the drawing or to embedded images, styles without imports or external
    urls), that drawing when something else was removed, None when it is not an SVG document."""
    import xml.etree.ElementTree as ElementTree

    from defusedxml import ElementTree as SafeElementTree

    if len(svg) > SVG_CHARS:
        return None
    try:
        root = SafeElementTree.fromstring(svg)
        if _local(root.tag) != "svg":
            return None
        if not _clean_svg_element(root):
            return svg
        ElementTree.register_namespace("", SVG_NS)
        ElementTree.register_namespace("xlink", XLINK_NS)
        return ElementTree.tostring(root, encoding="unicode")
    except Exception:  # noqa: BLE001 (not XML, entity declarations, nesting too deep: not a drawing to keep)
        return None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _clean_svg_element(element, in_metadata: bool = False) -> bool:
    """Remove from ``element`` what SVG_ELEMENTS (and, inside <metadata>, METADATA_NAMESPACES)
    and the attribute rules do not allow; whether anything was removed."""
    changed = False
    for name, value in list(element.attrib.items()):
        local = _local(name)
        if local.lower().startswith("on") or CSS_URL.search(value) or "javascript:" in value.lower() \
                or (local == "href" and not (value.startswith("#") or IMAGE_DATA.fullmatch(value))):
            del element.attrib[name]
            changed = True
    if _local(element.tag) == "style" and element.text and (
            "@" in element.text or "\\" in element.text or CSS_URL.search(element.text)):
        element.text = ""
        changed = True
    in_metadata = in_metadata or _local(element.tag) == "metadata"
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""  # comments and instructions have none
        drawing = tag.startswith("{" + SVG_NS + "}") and _local(tag) in SVG_ELEMENTS
        described = in_metadata and tag.startswith(tuple("{" + space for space in METADATA_NAMESPACES))
        if not (drawing or described):
            element.remove(child)
            changed = True
        elif _clean_svg_element(child, in_metadata):
            changed = True
    return changed


# ------------------------------------------------------------------ outputs and cells

def safe_outputs(outputs: list, budget: Budget | None = None) -> list:
    """The outputs of a code cell, each reduced to what renders safely (see the module's text);
    a note follows an output that lost something."""
    import nbformat

    budget = budget or Budget()
    kept = []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result"):
            kept.append(output)  # stream and error: text, escaped by every renderer
            continue
        data, removed = safe_bundle(output.get("data", {}), budget)
        output["data"] = data
        output["metadata"] = {mimetype: {key: value for key, value in meta.items() if key in ("width", "height")
                                         and isinstance(value, (int, float)) and not isinstance(value, bool)}
                              for mimetype, meta in output.get("metadata", {}).items()
                              if mimetype in IMAGE_MIMETYPES and isinstance(meta, dict)}
        kept.append(output)
        if removed:
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=(
                f"[the grader removed from this output what could run in a browser: {', '.join(removed)}]\n")))
    return kept


def safe_bundle(data: dict, budget: Budget | None = None) -> tuple[dict, list[str]]:
    """(the mimebundle reduced to safe forms, the types removed). HTML or markdown that is not
    clean (or past the budget) is left out, and shown as text where the bundle has no text form."""
    budget = budget or Budget()
    kept, removed, unclean = {}, [], []
    for mimetype, value in data.items():
        text = "".join(value) if isinstance(value, list) else value
        if mimetype in KEPT_AS_IS:
            if mimetype not in IMAGE_MIMETYPES or (isinstance(text, str) and _is_base64(text)):
                kept[mimetype] = value
            else:
                removed.append(mimetype)
        elif mimetype in ("text/latex", "text/html", "text/markdown") and isinstance(text, str):
            text = defuse_tex(text)
            if mimetype == "text/html":
                clean = budget.spend(text) and is_clean(text)
            elif mimetype == "text/markdown":
                clean = not safe_markdown(text, budget=budget)[2]
            else:  # LaTeX: text to MathJax, its link and style commands disabled
                clean = True
            if clean:
                kept[mimetype] = text
            else:
                removed.append(mimetype)
                unclean.append(text)
        elif mimetype == "image/svg+xml" and isinstance(text, str) and safe_svg(text) is not None:
            kept[mimetype] = safe_svg(text)
            if kept[mimetype] != text:
                removed.append(f"{mimetype} (scripts, handlers or links)")
        else:
            removed.append(mimetype)
    if unclean and "text/plain" not in kept:
        kept["text/plain"] = shown_as_text(unclean[0])
    return kept or {"text/plain": ""}, removed


def sanitise_notebook(notebook, course_metadata: dict) -> None:
    """Make the graded ``notebook`` safe to render (in place): its cells as the module's text
    says, its metadata the course's kernel and language only (``course_metadata``: the source
    notebook's)."""
    notebook.metadata = {key: course_metadata[key] for key in ("kernelspec", "language_info")
                         if key in course_metadata}
    budget = Budget()
    for cell in notebook.cells:
        try:
            sanitise_cell(cell, budget)
        except Exception as error:  # noqa: BLE001 (whatever failed, nothing unchecked is written)
            cell.cell_type, cell.metadata = "markdown", {}
            note = f"the grader could not show this cell safely: {error!r}"
            cell.source = as_html_block(f"<pre>{escape(note)}</pre>")
            for key in ("outputs", "execution_count", "attachments"):
                cell.pop(key, None)


def sanitise_cell(cell, budget: Budget) -> None:
    cell.metadata = {key: value for key, value in cell.get("metadata", {}).items()
                     if key == "nbgrader" or (key == "raw_mimetype" and isinstance(value, str))
                     or (key == "tags" and isinstance(value, list) and all(isinstance(tag, str) for tag in value))}
    if cell.cell_type == "markdown":
        cell.source, attachments, _ = safe_markdown(cell.source, cell.get("attachments"), budget)
        if attachments:
            cell.attachments = attachments
        else:
            cell.pop("attachments", None)
    elif cell.cell_type == "raw":
        if not (budget.spend(cell.source) and is_clean(cell.source)):
            cell.source = escape(shown_as_text(cell.source), quote=False)
        cell.pop("attachments", None)
    elif cell.cell_type == "code":
        cell.outputs = safe_outputs(cell.get("outputs", []), budget)


class SanitiseGraded(Preprocessor):
    """`python -m autograde feedback`'s first step: a graded notebook written before the station
    sanitised what it writes is made safe too (one written since passes unchanged)."""

    enabled = Bool(True)

    def preprocess(self, nb, resources):
        sanitise_notebook(nb, nb.metadata)
        return nb, resources
