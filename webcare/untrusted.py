"""Outside text (posts, names, subjects, feed titles) made safe to store and show.

Nothing here parses markup: the UI builds Text/Content objects from the result, so `[bold]`
or `[@click=app.quit]` stays literal. What this module removes is what could change the
terminal or mislead the reader: ANSI/OSC escape sequences, C0/C1 control characters, and
bidi override/isolate characters (the "Trojan source" trick that shows text reversed).
"""

from __future__ import annotations

import logging
import re
import unicodedata

MAX_TEXT = 10_000  # characters kept of a post or mail body; the rest is cut with a marker
MAX_FIELD = 300  # names, handles, titles, urls

# ESC-initiated sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and 2-char escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, terminated or not
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI).
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# C0 and C1 controls except tab and newline; DEL; and line/paragraph separators.
_CONTROLS = dict.fromkeys(
    [*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x80, 0xA0), 0x2028, 0x2029], None
)


def clean_text(text: object, limit: int = MAX_TEXT) -> str:
    """Multi-line outside text, safe to store and show; capped at `limit` characters."""
    if text is None:
        return ""
    s = str(text)
    if len(s) > limit * 4:  # don't run the regexes over megabytes we are about to drop
        s = s[: limit * 4]
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    s = _ESCAPES.sub("", s)
    s = s.translate(_BIDI).translate(_CONTROLS)
    s = unicodedata.normalize("NFC", s)
    s = re.sub(r"\n{3,}", "\n\n", s).strip()
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def clean_line(text: object, limit: int = MAX_FIELD) -> str:
    """A one-line field (a name, a handle, a title, a url), safe to store and show."""
    return " ".join(clean_text(text, limit * 2).split())[:limit]


def first_line(text: str, limit: int = 200) -> str:
    """The text's first non-empty line, for a stream row."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage
# return, may drop them and read what follows): OWASP's list, with the full-width forms that
# some spreadsheets fold to the ASCII ones.
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: object) -> object:
    """`value` safe as a CSV cell (OWASP, CSV injection): a text that a spreadsheet would read
    as a formula, even after leading spaces, gets a leading single quote, so it opens as text.
    Numbers and other non-text values are left as they are (ours, not outside text); the
    csv module still does the quoting."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in _FORMULA_START or value.lstrip()[:1] in _FORMULA_START:
        return "'" + value
    return value


class CleanFormatter(logging.Formatter):
    """Log lines cleaned like any outside text: a source's warning may quote a server, a
    mail's header or an exception about either, and log lines end up on a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return clean_text(super().format(record))
