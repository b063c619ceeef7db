"""RSS and Atom feeds: Google Alerts, news sites, YouTube channels, subreddits, blogs.

A fetch is a conditional GET (If-None-Match / If-Modified-Since from the last good response, so
an unchanged feed costs one small 304), with a time limit and a hard cap on the body's size.
The body is parsed in a separate process (a shared pool with one worker per core): a large feed
never blocks the event loop that draws the desk, several feeds parse on all cores at once, and a
pathological feed that would make the parser spin is stopped after a time limit by ending its
worker. A well-formed RSS 2.0 or Atom 1.0 feed is read with ElementTree (`sources.feedparse`,
which gives exactly the entries feedparser would); everything else by feedparser. No parser
ever sees a feed that declares XML entities. The worker hands back plain data only (dicts of
strings); the entries' HTML is turned into plain text there, so the desk only ever sees text.

Text is not cleaned of control characters here: `webcare.intake` does that for every source.

    [[sources]]
    type = "rss"
    name = "Google Alert: VLM"
    url = "https://www.google.com/alerts/feeds/…"   # required; http or https
    channel = "news"          # the channel its mentions are on (and so their norm)
    every = "5m"              # between the end of one fetch and the start of the next
    timeout = "20s"           # for the whole download
    max_bytes = "10MB"        # a larger feed is refused without reading the rest
    keyword_filter = true     # false: keep every entry, not only those naming a [watch] keyword
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, NotRequired, TypedDict, final
from urllib.parse import urljoin, urlsplit

from sources import options
from sources.source import Checkpoints, OptionError, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item, ToneReading, read_ahead

if TYPE_CHECKING:
    import httpx

    from webcare.watch import Person

# feedparser is imported only where feeds are parsed: in the worker processes. The desk's own
# process never loads it, and httpx is loaded by the poller's client before any fetch.

__all__ = [
    "PARSE_TIME_LIMIT",
    "RSSSource",
    "html_to_text",
    "parse_feed",
    "parse_in_worker",
    "shutdown_parsers",
]

PARSE_TIME_LIMIT = 30.0  # seconds one feed may take to parse before its worker is ended
# A worker reads the entries' tone after the parse (read_tones) until this share of the parse
# time limit has passed since the job started: a big feed never comes near the limit for it.
READ_AHEAD_SHARE = 1 / 3
# The workers read well-formed RSS 2.0 and Atom with the fast path; False: feedparser alone
# (benchmarks/bench_feeds.py measures both; it is passed to each job, as workers are spawned).
FAST_PATH = True
MAX_RETRY_AFTER = 24 * 3600.0  # a server's Retry-After is honoured up to a day

UtcTime = tuple[int, int, int, int, int, int]  # (y, m, d, H, M, S), in UTC


class FeedEntry(TypedDict):
    """One entry of a parsed feed, as plain data (it crosses back from a worker process)."""

    key: str
    author: str
    title: str
    text: str
    url: str
    published: UtcTime | None


@final
class ParsedFeed(TypedDict):
    """What parse_feed gives; parse_in_worker adds the CPU seconds the parse took."""

    title: str
    version: str
    parser: str  # which parser read it: "fast" or "feedparser"
    entries: list[FeedEntry]
    cpu_s: NotRequired[float]
    tones: NotRequired[list[ToneReading]]  # the first entries' tones, read ahead in the worker


@final
class _Failed(TypedDict):
    """A worker's parse that failed: the error as data, for parse_in_worker to raise."""

    error: str
    cpu_s: NotRequired[float]
MAX_DOWNLOADS = (
    16  # feeds downloading at once (the poller's client keeps up to 16 connections alive)
)
MAX_HTML = 200_000  # characters of one entry's HTML turned into text (intake keeps 10,000)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


# --- the source ------------------------------------------------------------------------


@dataclass(frozen=True)
class RSSOptions:
    url: str = options.text("the feed's address (http or https)", required=True)
    channel: str = options.channel("the channel its mentions are on (and so their norm)", "news")
    every: float = options.duration("between the end of one fetch and the start of the next", "5m")
    timeout: float = options.duration("for the whole download", "20s")
    max_bytes: int = options.size("a larger feed is refused without reading the rest", "10MB")
    keyword_filter: bool = options.flag("false: keep every entry, not only those naming a [watch] keyword", True)


class RSSSource(Source, Checkpoints):
    """One RSS or Atom feed."""

    type: ClassVar[str] = "rss"
    options_class = RSSOptions
    parse_time_limit: float = PARSE_TIME_LIMIT

    def __init__(
        self,
        name: str,
        url: str,
        *,
        channel: str = "news",
        interval: float = 300.0,
        timeout: float = 20.0,
        max_bytes: int = 10 * 1024**2,
        keyword_filter: bool = True,
        followed: Person | None = None,
    ) -> None:
        self.name = name
        self.url = url
        # A blog on the watchlist (sources.follows): its posts carry the person's badge and
        # handle, whatever the feed calls its author.
        self.followed = followed
        self.channel = channel
        self.interval = interval
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.keyword_filter = keyword_filter
        # What the last good response said, for the next conditional GET.
        self._etag: str | None = None
        self._last_modified: str | None = None
        # A digest of the last parsed body: a server without conditional GET that sends the
        # same bytes again costs no parse.
        self._digest: bytes | None = None

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> RSSSource:
        o = options.read(RSSOptions, sc)
        parts = urlsplit(o.url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OptionError(f"url: {o.url!r} is not an http:// or https:// address")
        return cls(
            sc.name,
            o.url,
            channel=o.channel,
            interval=o.every,
            timeout=o.timeout,
            max_bytes=o.max_bytes,
            keyword_filter=o.keyword_filter,
        )

    def __repr__(self) -> str:
        return f"RSSSource({self.name!r}, {self.url!r})"

    def rewind(self) -> None:
        """Forget the last response, so the next fetch returns every entry again (the poller
        calls this when it could not store what the last fetch returned)."""
        self._etag = self._last_modified = self._digest = None

    def checkpoint(self) -> dict[str, Any]:
        """The validators of the last feed stored: after a restart the first poll of an
        unchanged feed is a 304, not the whole feed again."""
        digest = None if self._digest is None else self._digest.hex()
        return {"url": self.url, "etag": self._etag, "last_modified": self._last_modified, "digest": digest}

    def resume(self, state: dict[str, Any]) -> None:
        if state.get("url") != self.url:
            return  # the entry points at another feed now
        try:
            etag, modified, digest = state["etag"], state["last_modified"], state["digest"]
            digest = None if digest is None else bytes.fromhex(digest)
        except (KeyError, TypeError, ValueError):
            return
        if isinstance(etag, str | None) and isinstance(modified, str | None):
            self._etag, self._last_modified, self._digest = etag, modified, digest

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        headers = {"Accept": ACCEPT}
        if self._etag:
            headers["If-None-Match"] = self._etag
        if self._last_modified:
            headers["If-Modified-Since"] = self._last_modified
        async with _download_slot():
            response = await self._download(client, headers)
        if response is None:  # 304 Not Modified
            return []
        body, content_type, base_url, etag, last_modified = response
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if digest != self._digest:
            parsed = await parse_in_worker(body, content_type, base_url, self.parse_time_limit)
            items = self._items(parsed)
        else:  # the server does not do conditional GET, but nothing changed
            items = []
        # Only now, after a good parse: a feed that failed must be fetched in full next time.
        self._etag, self._last_modified, self._digest = etag, last_modified, digest
        return items

    async def _download(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> tuple[bytes, str, str, str | None, str | None] | None:
        """The body and what to remember of a 200, or None for a 304; raises SourceError."""
        import httpx

        from sources.http import exchange

        try:
            async with exchange(
                client, "GET", self.url, headers=headers, deadline=self.timeout, timeout=self.timeout
            ) as r:
                if r.status_code == 304:
                    return None
                if r.status_code in (429, 503):
                    retry_after = parse_retry_after(r.headers.get("Retry-After"))
                    when = "" if retry_after is None else f" (retry after {retry_after:.0f} s)"
                    raise SourceError(
                        f"HTTP {r.status_code} {r.reason_phrase}{when}".strip(), retry_after
                    )
                if not 200 <= r.status_code < 300:
                    raise SourceError(f"HTTP {r.status_code} {r.reason_phrase}".strip())
                body = await self._read_capped(r)
                return (
                    body,
                    r.headers.get("Content-Type", ""),
                    str(r.url),
                    r.headers.get("ETag"),
                    r.headers.get("Last-Modified"),
                )
        except httpx.TimeoutException:
            raise SourceError(f"timed out after {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise SourceError(
                f"cannot connect to {urlsplit(self.url).hostname}: {exc}".rstrip(": ")
            ) from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None

    async def _read_capped(self, r: httpx.Response) -> bytes:
        """The (decoded) body, refusing past `max_bytes` (counted after decompression, piece
        by piece) without reading the rest."""
        from sources.http import read_body

        body = await read_body(r, self.max_bytes, f"feed larger than {describe_size(self.max_bytes)}")
        if not body or body.isspace():
            raise SourceError("not a feed: the response is empty")
        return body

    def _items(self, parsed: ParsedFeed) -> list[Item]:
        feed_title = parsed["title"]
        items = []
        person = self.followed
        tones = parsed.get("tones") or []  # read ahead in the worker, for the first entries
        for i, e in enumerate(parsed["entries"]):
            published = e["published"]
            author = e["author"] or feed_title
            items.append(
                Item(
                    key=e["key"],
                    channel=self.channel,
                    author=person.handle if person else author,
                    author_name=(person.name or author) if person else "",
                    text=e["text"],
                    url=e["url"],
                    title=e["title"],
                    published_at=None if published is None else datetime(*published, tzinfo=UTC),
                    extra={"feed": feed_title} if feed_title else {},
                    followed=person.kind if person else "",
                    tone=tones[i] if i < len(tones) else None,
                )
            )
        return items


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds from now: '120' or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def describe_size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


# --- parsing (runs in a worker process) ------------------------------------------------

# A DOCTYPE with an internal subset, where entities are declared: no feed needs them, and they
# are what XML bombs ("billion laughs") are built from.
_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
# Where expat stops on a document cut short.
_TRUNCATED = ("no element found", "unclosed token", "partial character", "unclosed cdata section")


def parse_feed(
    body: bytes, content_type: str = "", base_url: str = "", *, fast: bool = True
) -> ParsedFeed:
    """Parse a feed into plain data: {"title", "version", "parser", "entries": [{"key",
    "author", "title", "text", "url", "published"}]}, where "published" is a UTC
    (y, m, d, H, M, S) tuple or None and "parser" says which parser read it ("fast" or
    "feedparser").

    A well-formed RSS 2.0 or Atom 1.0 feed is read by `sources.feedparse` (ElementTree, about
    seven times faster), which gives the same entries feedparser would; everything else, and
    whatever that fast path is not sure of, by feedparser (`fast=False`: always feedparser).
    Either way the entries become plain data here, with the same code.

    Raises SourceError("not a feed: …") for something that is no RSS or Atom at all, and
    SourceError("malformed feed: …") for a feed that is cut short, declares entities (an XML
    bomb) or cannot be read. A feed with a minor flaw that feedparser reads anyway (a wrong
    encoding declaration, an HTML entity XML does not know) gives its entries.
    """
    # Before any parser sees it: no DTD, no entity expansion, ever.
    if _declares_entities(body):
        raise SourceError("malformed feed: it declares XML entities (an XML bomb?)")
    parsed = None
    if fast:
        from sources.feedparse import fast_parse

        parsed = fast_parse(body, content_type, base_url)
    how = "fast"
    if parsed is None:
        parsed = _parse_with_feedparser(body, content_type, base_url)
        how = "feedparser"
    version, feed, entries = parsed
    return {
        "title": _plain(feed.get("title_detail")) or feed.get("title", ""),
        "version": version,
        "parser": how,
        "entries": [_entry(e, base_url) for e in entries],
    }


def _parse_with_feedparser(
    body: bytes, content_type: str, base_url: str
) -> tuple[str, Any, list[Any]]:
    """feedparser's (version, feed, entries), or SourceError."""
    import feedparser

    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    # The desk shows text, never HTML: feedparser's sanitizer and its rewriting of relative
    # links (each a second HTML parse of every entry) are work for nothing; links are made
    # absolute in _entry, where they are kept.
    d = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    error = d.get("bozo_exception") if d.get("bozo") else None
    entries = d.get("entries") or []
    if not entries and not d.get("version"):
        raise SourceError(f"not a feed: {_not_a_feed_reason(body, error)}")
    if error is not None and _is_truncation(error):
        raise SourceError(f"malformed feed: cut short ({_where(error)})")
    if error is not None and not entries and hasattr(error, "getMessage"):
        raise SourceError(f"malformed feed: {error.getMessage()} ({_where(error)})")
    return d.get("version") or "", d.get("feed") or {}, entries


def _declares_entities(body: bytes) -> bool:
    m = _DTD_SUBSET.search(body, 0, 4096)
    if m is None:
        return False
    end = body.find(b"]>", m.end(), m.end() + 1024**2)
    return (
        _ENTITY_DECLARATION.search(body, m.end(), end if end != -1 else m.end() + 1024**2)
        is not None
    )


def _not_a_feed_reason(body: bytes, error: BaseException | None) -> str:
    start = body.lstrip()[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start:
        return "the address gives a web page (HTML), not RSS or Atom"
    if start.startswith((b"{", b"[")):
        return "the address gives JSON, not RSS or Atom"
    if error is not None and hasattr(error, "getMessage"):
        return f"not XML ({error.getMessage()})"
    return "no RSS or Atom elements found"


def _is_truncation(error: BaseException) -> bool:
    message = error.getMessage() if hasattr(error, "getMessage") else ""
    return message.lower() in _TRUNCATED


def _where(error: BaseException) -> str:
    try:
        return f"line {error.getLineNumber()}, column {error.getColumnNumber()}"  # type: ignore[attr-defined]
    except AttributeError:
        return "somewhere"


def _entry(e: dict[str, Any], base_url: str) -> FeedEntry:
    url = e.get("link") or ""
    title = _plain(e.get("title_detail")) or e.get("title", "")
    content = e.get("content") or []
    detail = content[0] if content else e.get("summary_detail")
    if detail is not None:
        text = _plain(detail, detail.get("base") or url or base_url)
    else:
        text = e.get("summary", "")
    # "updated…" only when there is one: feedparser would hand back the (empty) "published…"
    # in its place, with a DeprecationWarning.
    published = e.get("published_parsed") or _own(e, "updated_parsed")
    when: UtcTime | None = None
    if published is not None:
        try:
            # feedparser normalises to UTC; check it is a real moment
            t = datetime(*published[:6])
            when = (t.year, t.month, t.day, t.hour, t.minute, t.second)
        except (TypeError, ValueError, OverflowError):
            when = None
    key = e.get("id") or url
    if not key:
        basis = "\x1f".join((title, e.get("published") or _own(e, "updated") or "", text))
        key = "sha:" + hashlib.blake2b(basis.encode("utf-8", "replace"), digest_size=16).hexdigest()
    author = ""
    detail_author = e.get("author_detail")
    if detail_author:
        author = detail_author.get("name") or detail_author.get("email") or ""
    return {
        "key": str(key),
        "author": author or e.get("author", ""),
        "title": title,
        "text": text,
        "url": url,
        "published": when,
    }


def _own(e: dict[str, Any], key: str) -> Any:
    return e.get(key) if dict.__contains__(e, key) else None


def _plain(detail: dict[str, Any] | None, base: str = "") -> str:
    """A feedparser text construct as plain text."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    if detail.get("type") in ("text/html", "application/xhtml+xml", "html", "xhtml"):
        return html_to_text(value, base)
    return value


# --- HTML to text ----------------------------------------------------------------------

_PARAGRAPH = frozenset(
    "address article aside blockquote div dl figure footer form h1 h2 h3 h4 h5 h6 header hr "
    "main nav ol p pre section table ul".split()
)
_LINE = frozenset({"br", "tr", "dt", "dd", "figcaption", "caption"})
_SKIP = frozenset({"script", "style", "template", "head"})
_SKIP_END = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in _SKIP}
_SPACES = re.compile(r"[ \t\f\v\r\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
# One token of HTML: a comment, a declaration or processing instruction, a tag (its attributes
# may quote a ">"), a run of text, or a "<" that starts none of these (plain text, as in "a < b").
_TOKEN = re.compile(
    r"""<!--.*?(?:-->|\Z)|<[!?][^>]*>?|<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:"[^"]*"|'[^']*'|[^'">])*)>|[^<]+|<""",
    re.DOTALL,
)
_ATTRIBUTE = {
    name: re.compile(
        rf"""(?:^|\s){name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
    )
    for name in ("href", "alt")
}
_FOLLOWABLE = ("http://", "https://", "mailto:")


def _attribute(attrs: str, name: str) -> str:
    m = _ATTRIBUTE[name].search(attrs)
    if m is None:
        return ""
    value = m[1] if m[1] is not None else m[2] if m[2] is not None else m[3]
    return html.unescape(value).strip()


def html_to_text(markup: str, base: str = "") -> str:
    """HTML as plain text: tags gone, entities unescaped, paragraphs and line breaks kept, and
    each link's address shown after its text ("the report (https://…)"), made absolute
    against `base`. Nothing here treats the text as markup of any other kind.

    A small tokenizer rather than html.parser: this runs for every entry of every feed, and
    html.parser made it a quarter of the whole parse."""
    if "<" not in markup and "&" not in markup:
        return "\n".join(" ".join(line.split()) for line in markup.strip().split("\n"))
    markup = markup[:MAX_HTML]
    parts: list[str] = []
    links: list[tuple[str, int]] = []  # open <a>: its href and where its text starts in parts
    pos, end = 0, len(markup)
    while pos < end:
        m = _TOKEN.match(markup, pos)
        assert m is not None  # the last alternative matches any "<"
        pos = m.end()
        name = m[2]
        if name is None:
            token = m[0]
            if token[:2] in ("<!", "<?") and len(token) > 1:
                continue  # a comment or a declaration
            parts.append(html.unescape(token) if "&" in token else token)
            continue
        tag = name.lower()
        if m[1]:  # an end tag
            if tag in _PARAGRAPH:
                parts.append("\n\n")
            elif tag == "a" and links:
                _close_link(parts, links, base)
        elif tag in _SKIP:
            close = _SKIP_END[tag].search(markup, pos)
            pos = close.end() if close else end
        elif tag in _PARAGRAPH:
            parts.append("\n\n")
        elif tag in _LINE:
            parts.append("\n")
        elif tag == "li":
            parts.append("\n- ")
        elif tag in ("td", "th"):
            parts.append(" ")
        elif tag == "a":
            links.append((_attribute(m[3], "href"), len(parts)))
        elif tag == "img":
            alt = _attribute(m[3], "alt")
            if alt:
                parts.append(f" {alt} ")
    while links:
        _close_link(parts, links, base)
    text = _SPACES.sub(" ", "".join(parts))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _close_link(parts: list[str], links: list[tuple[str, int]], base: str) -> None:
    """After a link's text, its address, unless the text already shows it."""
    href, start = links.pop()
    if not href:
        return
    url = href
    if not href.lower().startswith(_FOLLOWABLE):
        url = urljoin(base, href) if base else href
        if not url.lower().startswith(_FOLLOWABLE):
            return  # javascript:, data:, and relative links with nothing to resolve them against
    shown_url = url[7:] if url.lower().startswith("mailto:") else url
    shown = "".join(parts[start:])
    if shown_url not in shown:
        parts.append(f" ({shown_url})" if shown.strip() else shown_url)


# --- the worker pool -------------------------------------------------------------------


def _parse_job(
    body: bytes, content_type: str, base_url: str, fast: bool, time_limit: float = PARSE_TIME_LIMIT
) -> ParsedFeed | _Failed:
    """What a worker runs: the parse, with errors as data (nothing but dicts cross back), the
    entries' tones read ahead ("tones"), and the CPU seconds it took ("cpu_s", for the benchmark)."""
    started = time.process_time()
    until = time.monotonic() + time_limit * READ_AHEAD_SHARE
    result: ParsedFeed | _Failed
    try:
        result = parse_feed(body, content_type, base_url, fast=fast)
    except SourceError as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # a feedparser bug must read as this feed's problem, nothing more
        result = {"error": f"malformed feed: the parser failed ({type(exc).__name__}: {exc})"}
    if "entries" in result:
        result["tones"] = read_tones(result["entries"], until)
    result["cpu_s"] = time.process_time() - started
    return result


def read_tones(entries: list[FeedEntry], until: float) -> list[ToneReading]:
    """The entries' tones (webcare.intake.read_ahead), read here in the worker after the parse:
    they cost more than the parse, and the workers run in parallel while intake does not. The
    first ones only, as many as there is time for until `until` (time.monotonic()), so they
    never bring a feed near its parse time limit; intake reads the tone of the others."""
    tones: list[ToneReading] = []
    try:
        for e in entries:
            if time.monotonic() > until:
                break
            tones.append(read_ahead(e["text"], e["title"]))
    except Exception:  # intake reads the rest, and says so if it fails there too
        pass
    return tones


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_start_lock = threading.Lock()  # one pool start at a time while sys.stderr stands in (below)
_download_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _quiet_worker() -> None:
    """A worker writes nothing to the terminal the desk draws on, and leaves Ctrl+C to the
    process that started it (which ends the workers when it stops)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _workers() -> int:
    return max(1, os.cpu_count() or 1)


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: a forked child of a process with threads (the desk, httpx) can
            # deadlock, and spawn starts the same way on every platform.
            _pool = ProcessPoolExecutor(
                max_workers=_workers(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_quiet_worker,
            )
        return _pool


@contextmanager
def _stderr_with_a_descriptor() -> Iterator[None]:
    """Around whatever may start the pool's processes: a sys.stderr with a real descriptor.

    multiprocessing starts its resource tracker (the pool's queues and every spawned worker
    need it) with `sys.stderr.fileno()` among the descriptors the new process keeps. While a
    Textual app runs, sys.stderr is Textual's print capture, whose fileno() is -1: the start
    failed with "bad value(s) in fds_to_keep", and a desk that collected itself showed every
    feed as failing while `webcare collect` (a real stderr) parsed them. So the pool starts
    the same way whatever sys.stderr is at that moment: when it has no descriptor, /dev/null
    stands in for it (a helper process has nothing to write on the desk's screen; it
    inherits the terminal's own descriptors either way). Only for that moment, and under a
    lock: sys.stderr is the whole process's, and two threads swapping it at once could leave
    /dev/null in place of Textual's capture."""
    with _start_lock:
        try:
            usable = sys.stderr.fileno() >= 0
        except Exception:  # no stderr, or one without a descriptor: multiprocessing leaves it out
            usable = True
        if usable:
            yield
            return
        captured = sys.stderr
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            sys.stderr = devnull
            try:
                yield
            finally:
                sys.stderr = captured


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """End `pool`'s workers (one may be stuck in a parse) and let the next parse start a new one."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, AttributeError, ValueError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown_parsers() -> None:
    """End the parser workers now (they are started again when needed)."""
    pool = _pool
    if pool is not None:
        _discard_pool(pool)


def _slot() -> asyncio.Semaphore:
    """As many parses in flight as there are workers, so a parse's time limit counts its own
    parsing, not its wait behind others."""
    loop = asyncio.get_running_loop()
    sem = _slots.get(loop)
    if sem is None:
        sem = _slots[loop] = asyncio.Semaphore(_workers())
    return sem


def _download_slot() -> asyncio.Semaphore:
    """At most MAX_DOWNLOADS feeds downloading at once (per event loop). The rest wait here, not
    in httpx's connection pool, which rescans every waiting request whenever a connection frees
    up: with 200 feeds that made a poll where nothing changed cost a second of CPU. A feed's
    timeout starts when its download does."""
    loop = asyncio.get_running_loop()
    sem = _download_slots.get(loop)
    if sem is None:
        sem = _download_slots[loop] = asyncio.Semaphore(MAX_DOWNLOADS)
    return sem


async def parse_in_worker(
    body: bytes, content_type: str = "", base_url: str = "", time_limit: float = PARSE_TIME_LIMIT
) -> ParsedFeed:
    """`parse_feed` in the worker pool, stopped after `time_limit` seconds; raises SourceError."""
    async with _slot():
        for attempt in (1, 2):
            # The pool's queues start multiprocessing's resource tracker, a submit starts the
            # workers (again, after one was ended): both as in `webcare collect`, also in the desk.
            with _stderr_with_a_descriptor():
                pool = _get_pool()
                try:
                    future = pool.submit(
                        _parse_job, body, content_type, base_url, FAST_PATH, time_limit
                    )
                except (BrokenProcessPool, RuntimeError):  # ended by another feed's time limit
                    _discard_pool(pool)
                    continue
            try:
                result = await asyncio.wait_for(asyncio.wrap_future(future), time_limit)
            except TimeoutError:
                _discard_pool(pool)
                raise SourceError(
                    f"malformed feed: parsing took longer than {time_limit:g} s"
                ) from None
            except BrokenProcessPool:
                ended_by_another = _pool is not pool
                _discard_pool(pool)
                if ended_by_another and attempt == 1:
                    continue  # a worker was ended for another feed; this one deserves its parse
                raise SourceError("malformed feed: the parser process crashed on it") from None
            except asyncio.CancelledError:
                if not future.cancel() and not future.done():
                    _discard_pool(
                        pool
                    )  # don't leave a worker parsing for nobody (or blocking exit)
                raise
            if "error" in result:
                raise SourceError(result["error"])
            return result
    raise SourceError("malformed feed: the parser process could not be started")
