"""Text a submission wrote, made safe to show and to store.

A student's code decides what its exceptions say, what its kernel writes to its log and what
its cells print; the station quotes that text in reasons, test messages, the grade table, the
log, `report` and the graded notebook. Shown raw, an escape sequence steers the instructor's
terminal (clears it, retitles it, paints a fake "all tests passed"), a carriage return or a
newline forges a line of the table or the log, a bidirectional override reorders what is read;
a lone surrogate ('\\ud800', which JSON can carry but UTF-8 cannot) makes writing a file fail.
"""

import re

# control characters (C0 but newline and tab, DEL, C1), lone surrogates, line and paragraph
# separators, and the bidirectional controls that reorder what a terminal shows
_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_IN_TEXT = re.compile(f"[{_UNSAFE}]")
_UNSAFE_IN_A_LINE = re.compile(f"[\\n{_UNSAFE}]")  # a log line, a row of the table
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escaped(match: re.Match) -> str:
    return repr(match.group())[1:-1]  # as Python writes it: \x1b, \r, \x9b, \u202e, \ud800


def printable(text, *, one_line: bool = False) -> str:
    """``text`` with every character that could steer a terminal or break a file written as a
    visible escape (ESC becomes the four characters ``\\x1b``), newlines too with ``one_line``;
    ordinary text, accents, CJK and emoji unchanged. Applying it twice changes nothing more."""
    return (_UNSAFE_IN_A_LINE if one_line else _UNSAFE_IN_TEXT).sub(_escaped, str(text))


def storable(value):
    """A JSON-like value (a notebook's outputs) as it was, but for lone surrogates, written as
    visible escapes: what UTF-8 cannot encode. Colour codes in a traceback stay for the
    feedback page to render."""
    if isinstance(value, str):
        return _SURROGATE.sub(_escaped, value)
    if isinstance(value, dict):
        return type(value)((storable(k), storable(v)) for k, v in value.items())
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
