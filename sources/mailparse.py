"""One e-mail (RFC 5322 bytes, MIME) as what the desk needs: a subject, a sender, plain text.

Pure functions, no I/O, so `sources.imap` stays about IMAP. Everything here takes whatever
arrives (broken MIME, unknown or lying charsets, undecodable bytes, missing headers) and gives
text; it never raises on a message's content.

- Headers: RFC 2047 encoded words decoded (`decode_words`), folded lines joined.
- Body: the first text/plain part; else the first text/html one as text (`sources.rss.
  html_to_text`). Charsets as declared, with iso-8859-1 and us-ascii read as windows-1252
  (its superset: mail labelled latin-1 is very often cp1252, as browsers assume too), no
  charset tried as utf-8 then windows-1252, and undecodable bytes replaced.
- Attachments are listed by file name only, after the text; their content is never read.
- A quoted previous conversation at the end of a reply ("> …" lines under "On … wrote:", or
  everything from an Outlook "-----Original Message-----" line) is cut: the desk links the
  reply to the earlier message, and the person on duty reads what is new. Quotes between new
  lines (an answer point by point) stay.
- `automatic_reason`: why a message is an auto-reply or a bounce (RFC 3834 Auto-Submitted, the
  X-Autoreply family, Precedence, delivery and read reports, MAILER-DAEMON, an empty
  Return-Path), or "" for a message a person wrote.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

__all__ = [
    "MAX_TEXT",
    "addresses",
    "automatic_reason",
    "body_text",
    "decode_bytes",
    "decode_words",
    "header",
    "is_reply_subject",
    "message_date",
    "message_ids",
    "parse",
    "sender",
]

MAX_TEXT = 100_000  # characters of body kept (intake keeps 10,000; the rest is for the cut)
# Charsets whose label is usually wrong in mail: windows-1252 is a superset that decodes them
# the same where they are right, and gets the curly quotes and euro signs right where not.
_AS_CP1252 = {"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1"}
# charset (an RFC 2231 "*language" suffix dropped), encoding, text
_ENCODED_WORD = re.compile(r"=\?([^?*\s]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_MSGID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|antw|sv|vs|réf|tr)\s*:", re.IGNORECASE)
# "On Mon, … Jan <jan@…> wrote:", "Op ma 23 nov. 2026 om 09:15 schreef Jan <jan@…>:"
_ATTRIBUTION = re.compile(
    r"^.{0,300}\b(wrote|schreef|a écrit|schrieb|escribió)\b.{0,300}:$", re.IGNORECASE
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|oorspronkelijk bericht|origineel bericht|message d'origine|"
    r"ursprüngliche nachricht|forwarded message|doorgestuurd bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}
_DAEMONS = {"mailer-daemon", "postmaster"}


class _Policy(Compat32):
    """The classic parser (it takes any mess), but a header sent as raw 8-bit bytes (RFC 6532,
    or a mailer that never heard of RFC 2047) is read as UTF-8, else windows-1252, instead of
    turning into replacement characters."""

    def _sanitize_header(self, name: str, value: str) -> str:
        if isinstance(value, str):
            try:
                value.encode("ascii")
            except UnicodeEncodeError:
                return decode_bytes(value.encode("ascii", "surrogateescape"), None)
        # The stdlib's own hook (email._policybase), private, so typeshed leaves it out.
        return super()._sanitize_header(name, value)  # type: ignore[misc]


_PARSER = BytesParser(policy=_Policy())


def parse(raw: bytes) -> Message:
    """The message in `raw`; never raises on its content."""
    return _PARSER.parsebytes(raw)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset as text; never raises (bad bytes become U+FFFD)."""
    name = (charset or "").strip().strip('"').lower()
    if name in _AS_CP1252:
        name = "windows-1252"
    if not name:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            name = "windows-1252"
    try:
        return data.decode(name, errors="replace")
    except LookupError:  # a charset Python does not know: utf-8 is the best guess today
        return data.decode("utf-8", errors="replace")


def decode_words(value: str) -> str:
    """A header value with RFC 2047 encoded words ("=?utf-8?q?…?=") as one line of text.

    Done here rather than by email.header: that one mangles text around the words when the
    header also holds raw 8-bit text, and fails on one bad word. Adjacent words in the same
    charset are decoded together, so a character split over two words (it happens) survives."""
    value = str(value)
    if "=?" not in value:
        return " ".join(value.split())
    parts: list[str] = []
    pending: list[bytes] = []  # bytes of adjacent encoded words in `pending_charset`
    pending_charset = ""
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        between = value[pos : m.start()]
        adjacent = pos > 0 and not between.strip() and m[1].lower() == pending_charset
        if not adjacent:
            if pending:
                parts.append(decode_bytes(b"".join(pending), pending_charset))
                pending = []
            if pos > 0 and not between.strip():
                between = ""  # whitespace between two encoded words is not part of the text
            parts.append(between)
        pending.append(_word_bytes(m[2], m[3]))
        pending_charset = m[1].lower()
        pos = m.end()
    if pending:
        parts.append(decode_bytes(b"".join(pending), pending_charset))
    parts.append(value[pos:])
    return " ".join("".join(parts).split())


def _word_bytes(encoding: str, data: str) -> bytes:
    raw = data.encode("latin-1", "replace")
    if encoding in "bB":
        try:
            return base64.b64decode(raw + b"=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            return raw
    return quopri.decodestring(raw, header=True)


def header(msg: Message, name: str) -> str:
    """A header's decoded text, or "" when absent."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return "" if value is None else decode_words(value)


def sender(msg: Message) -> tuple[str, str]:
    """(address, display name) of From. The address is parsed from the raw header before
    decoding, so an encoded name with a comma or "<" cannot change the address."""
    raw = str(msg.get("From") or "")
    name, address = parseaddr(raw)
    return address.strip(), decode_words(name)


def addresses(msg: Message, name: str) -> list[str]:
    """The addresses in an address header (To, Reply-To), in order."""
    raw = msg.get_all(name) or []
    return [addr.strip() for _, addr in getaddresses([str(v) for v in raw]) if addr.strip()]


def message_ids(value: str) -> list[str]:
    """The "<id@host>" tokens of a Message-ID, In-Reply-To or References header, in order."""
    return _MSGID.findall(value or "")


def message_date(msg: Message, arrival: datetime | None, now: datetime) -> datetime:
    """When the message was written: its Date, unless that is missing, unreadable or in the
    future (a wrong clock or spam pushing itself up the list); then when it arrived."""
    fallback = arrival if arrival is not None else now
    if fallback.tzinfo is None:
        fallback = fallback.replace(tzinfo=UTC)
    raw = msg.get("Date")
    if not raw:
        return fallback
    try:
        written = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback
    if written is None:
        return fallback
    if written.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
        written = written.replace(tzinfo=UTC)
    return fallback if written > now else written


def automatic_reason(msg: Message) -> str:
    """Why `msg` was sent by a machine (an out-of-office, a bounce, a read receipt, a bulk
    mailing), or "" when a person wrote it."""
    auto = str(msg.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(name) is not None:
            return name
    precedence = str(msg.get("Precedence") or "").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        kind = str(msg.get_param("report-type") or "").lower()
        if kind in ("delivery-status", "disposition-notification"):
            return f"report: {kind}"
    address, _ = sender(msg)
    if address.partition("@")[0].lower() in _DAEMONS:
        return f"from {address}"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() == "<>":
        return "empty Return-Path (a bounce)"
    return ""


def is_reply_subject(subject: str) -> bool:
    """Whether a subject already says it is a reply ("Re:", "RE:", "Antw:", "AW:")."""
    return bool(_REPLY_PREFIX.match(subject))


def body_text(msg: Message) -> str:
    """The message's text for the desk: the plain-text body (or the HTML one as text), the
    quoted earlier conversation cut, then the names of its attachments."""
    plain: str | None = None
    markup: str | None = None
    attachments: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = _filename(part)
        if part.get_content_disposition() == "attachment" or (
            filename and ctype not in ("text/plain", "text/html")
        ):
            attachments.append(filename or ctype)
            continue
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)
        elif ctype == "text/html" and markup is None:
            markup = _part_text(part)
    if plain is not None and plain.strip():
        text = plain
    elif markup is not None:
        from sources.rss import html_to_text  # the feed source's converter, one for all HTML

        text = html_to_text(markup)
    else:
        text = plain or ""
    text = cut_quoted(text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_TEXT]).strip()
    if attachments:
        names = ", ".join(dict.fromkeys(a for a in attachments if a))
        text = f"{text}\n\n[attachments: {names}]" if text else f"[attachments: {names}]"
    return text


def cut_quoted(text: str) -> str:
    """`text` without the earlier conversation quoted at its end (see the module's notes);
    unchanged when cutting would leave nothing."""
    lines = text.split("\n")
    for i, line in enumerate(lines):  # Outlook: everything below the separator is the old mail
        if _ORIGINAL.match(line):
            kept = "\n".join(lines[:i]).rstrip()
            return kept if kept.strip() else text
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start == end:  # no quoted tail
        return text
    if start and _ATTRIBUTION.match(lines[start - 1].strip()):
        start -= 1
    kept = "\n".join(lines[:start]).rstrip()
    return kept if kept.strip() else text


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        return ""
    return decode_words(name) if name else ""


def _part_text(part: Message) -> str:
    """One text part decoded: transfer encoding (base64, quoted-printable) then charset."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    if not isinstance(data, bytes):
        return str(data)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(data, charset)
