"""A fast parse path for well-formed RSS 2.0 and Atom 1.0 feeds.

feedparser spends nearly all of a large feed's time in its SAX handlers, not in expat: about
5 s for 10,000 entries, where ElementTree builds the same document's tree in 0.1 s. This module
reads that tree and gives, for the elements it knows, exactly the raw entries feedparser gives
(the same keys and values: "title", "title_detail", "link", "id", "summary", "summary_detail",
"content", "author", "author_detail", "published", "published_parsed", "updated",
"updated_parsed"), so `sources.rss` turns them into Items with the same code either way, and a
feed parsed once one way and once the other never stores an entry twice.

How it stays the same as feedparser:

- Everything that is not event handling is feedparser's own code, called here: the choice of
  the character encoding (`convert_to_utf8`, the document ElementTree parses is the one expat
  parses under feedparser), URL joining (`_urljoin`, `make_safe_absolute_uri`, xml:base tracked
  per element exactly as feedparser's stack does), dates (`_parse_date`), its guess whether
  plain text is really HTML (`looks_like_html`), the cp1252 and double-UTF-8 repairs.
- The handling of a small set of elements (title, link, guid/id, description/summary, content,
  author and its parts, the dates) is feedparser 6.0's, step by step, in document order; the
  order-dependent rules (a guid that is a permalink gives the link unless a link came first, an
  alternate <link href> overwrites, a later description after content:encoded, …) included.
- Element names are mapped as feedparser maps them (namespace URI to its prefix, lower case,
  the Atom and RSS namespaces to none), so an element counts as what feedparser takes it for.
- Anything else it declines, and the caller parses the feed with feedparser: an element
  feedparser has a handler for that is not known here to leave those fields alone (itunes,
  media:title, images or textinputs inside entries, …), a field given twice in one entry,
  markup inside a field (XHTML content), base64 or non-text content types, a DOCTYPE, RSS
  0.9x/1.0/RDF, Atom 0.3, namespace prefixes bound two ways, a document expat rejects, and any
  error here at all. Declining costs only the time spent so far.

`tests/test_feedparse.py` parses the fixture feeds, generated ones and random ones both ways and
compares the Items field by field.

This mirrors the handlers of exactly one feedparser release, `VERIFIED`, the one pyproject.toml
pins (`feedparser==…`) and the tests compare against; the tests fail (never skip) when another
release is installed. Were one installed anyway (a distribution's package that ignores the pin),
the fast path is off and feedparser parses everything: slower, never different. The pin was
chosen by measurement (benchmarks/bench_feeds.py, 90,000 items on two cores): feedparser alone in
the worker pool needs about 29 s to parse them, longer than newsboat's whole reload (about 27 s);
this path about 4 s.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

__all__ = ["VERIFIED", "available", "fast_parse", "parse_date"]

# The feedparser release whose handlers this mirrors; pyproject.toml pins this one.
VERIFIED = "6.0.14"

try:
    import feedparser
    from feedparser.api import StrictFeedParser
    from feedparser.datetimes import _parse_date
    from feedparser.encodings import convert_to_utf8
    from feedparser.html import _cp1252
    from feedparser.mixin import _FeedParserMixin
    from feedparser.sanitizer import replace_doctype
    from feedparser.urls import _urljoin, make_safe_absolute_uri
except ImportError:  # pragma: no cover - feedparser moved its internals: no fast path
    feedparser = None

_AVAILABLE = feedparser is not None and feedparser.__version__ == VERIFIED

if _AVAILABLE:
    _MATCH: dict[str, str] = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}
    _HANDLED = frozenset(
        name[len(kind) :]
        for name in dir(StrictFeedParser)
        for kind in ("_start_", "_end_")
        if name.startswith(kind)
    )
    _looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html
else:  # pragma: no cover
    _MATCH, _HANDLED = {}, frozenset()


def available() -> bool:
    """Whether the fast path is on (the feedparser release it mirrors, `VERIFIED`, is installed)."""
    return _AVAILABLE


_ATOM = "http://www.w3.org/2005/Atom"
_RDF_URIS = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
_USERLAND = "http://backend.userland.com/rss"
_CANONICAL_LOWER = frozenset(v.lower() for v in _MATCH.values() if v)
_HTML_TYPES = ("text/plain", "text/html")
# XML's prolog before a DOCTYPE: white space, comments, processing instructions.
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
# An absolute http(s) URL that urllib's urljoin returns as it is, whatever the base: a lower-case
# scheme, a plain host, no ";" in the path, a "?" or "#" only when something follows.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~!$&'()*+,=:@%/-]*)?"
    r"(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]+)?(?:#[A-Za-z0-9._~!$&'()*+,;=:@%/?-]+)?\Z"
)

# Entry children, by feedparser's name for them.
_TITLE = frozenset({"title", "dc_title"})
_DESCRIPTION = frozenset({"description", "dc_description"})  # text/html unless typed
_SUMMARY = frozenset({"summary"})  # text/plain unless typed
_ID = frozenset({"guid", "id"})
_AUTHOR = frozenset({"author", "dc_creator", "dc_author", "managingeditor"})
_PUBLISHED = frozenset({"published", "pubdate", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_PERSON_PARTS = frozenset({"name", "email", "uri"})
# Elements with a feedparser handler that touches none of the fields above nor the state they
# depend on: allowed inside media groups and unknown extension elements, and in entries.
_NESTED_OK = frozenset(
    {
        "media_content",
        "media_group",
        "media_thumbnail",
        "media_credit",
        "media_rating",
        "media_category",
        "media_player",
        "media_restriction",
        "media_license",
        "category",
        "enclosure",
    }
)
_WITH_CHILDREN = frozenset({"media_group", "media_content"})
_ENTRY_OK = _NESTED_OK | {
    "dc_subject",
    "keywords",
    "rights",
    "copyright",
    "dc_rights",
    "created",
    "dcterms_created",
    "expirationdate",
    "source",
    "language",
    "dc_language",
    "subtitle",
    "tagline",
    "dc_contributor",
}
# What each entry child is, by feedparser's name for it ("harmless": no children allowed).
_ENTRY_KIND: dict[str, str] = {
    **{name: "title" for name in _TITLE},
    "link": "link",
    **{name: "id" for name in _ID},
    **{name: "summary" for name in _DESCRIPTION | _SUMMARY},
    "content_encoded": "content",
    "content": "content",
    **{name: "author" for name in _AUTHOR},
    **{name: "published" for name in _PUBLISHED},
    **{name: "updated" for name in _UPDATED},
    **{name: "harmless" for name in _ENTRY_OK - _WITH_CHILDREN},
    **{name: "group" for name in _WITH_CHILDREN},
    "contributor": "contributor",
}
_ONCE = frozenset({"title", "id", "summary", "content", "author", "published", "updated"})
# Handlers that collect the markup of child elements as text (and lose count of where they
# are when there is any): none of these may have child elements anywhere in the document.
_TEXT_CONSTRUCTS = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "subtitle",
        "tagline",
        "itunes_subtitle",
        "rights",
        "copyright",
        "dc_rights",
        "description",
        "dc_description",
        "media_description",
        "abstract",
        "info",
        "feedburner_browserfriendly",
        "summary",
        "itunes_summary",
        "content",
        "body",
        "xhtml_body",
        "content_encoded",
        "fullitem",
    }
)
# Outside entries: what could change the feed's title or where entries are.
_FEED_DANGER = frozenset(
    {"item", "entry", "channel", "feed", "rss", "source", "image", "textinput", "media_title"}
    | _TITLE
)
_IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
_TEXTINPUT_CHILDREN = frozenset({"title", "link", "description", "name"})
# Keys feedparser's handlers (or the fields kept) read from an entry or the feed: an unknown
# element stored under one of these names would change them.
_COLLISIONS = frozenset(
    {
        "title",
        "link",
        "links",
        "id",
        "guid",
        "content",
        "summary",
        "description",
        "published",
        "issued",
        "updated",
        "date",
        "modified",
        "author",
        "authors",
        "contributors",
        "tags",
        "enclosures",
        "category",
        "image",
        "textinput",
    }
)


class _Decline(Exception):
    """The fast path is not sure of this feed: feedparser parses it."""


def fast_parse(
    body: bytes, content_type: str = "", base_url: str = ""
) -> tuple[str, dict[str, Any], list[dict[str, Any]]] | None:
    """(version, feed, entries) as feedparser would give them, or None to let feedparser parse.

    `feed` has "title" and "title_detail" (when the feed has a title); each entry the keys
    listed in the module's docstring that feedparser would set. Call only on a body that
    declares no XML entities (`sources.rss` refuses those first)."""
    if not _AVAILABLE:
        return None
    try:
        return _Reader(body, content_type, base_url).read()
    except _Decline:
        return None
    except Exception:  # a surprise here must never fail a feed that feedparser can read
        return None


class _Reader:
    def __init__(self, body: bytes, content_type: str, base_url: str) -> None:
        self.body = body
        self.headers: dict[str, str] = {}
        if content_type:
            self.headers["content-type"] = content_type
        if base_url:
            self.headers["content-location"] = base_url
        # feedparser.parse: baseuri = make_safe_absolute_uri(href, contentloc) or …, href ''.
        self.base = make_safe_absolute_uri("", base_url) or make_safe_absolute_uri(base_url) or ""
        self.stack: list[str] = []
        self.joins: dict[tuple[str, str], str] = {}
        self.names: dict[str, tuple[str, bool]] = {}
        self.in_use: dict[str, str] = {}  # feedparser's namespaces_in_use
        self.nsmap: dict[str | None, str] = {}  # feedparser's namespacemap
        self.atom = False
        self.fixed = False  # True: no xml:base anywhere, self.base is every element's base

    # --- the document ------------------------------------------------------------------

    def read(self) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        result: dict[str, Any] = {}
        data = convert_to_utf8(dict(self.headers), self.body, result)
        if not result.get("encoding"):
            raise _Decline  # feedparser's loose parser
        prolog = _PROLOG.match(data)  # `*`: it always matches
        start = prolog.end() if prolog else 0
        if data[start : start + 9].upper() == b"<!DOCTYPE":
            raise _Decline  # ElementTree never sees a DTD
        version, replaced, entities = replace_doctype(data)
        if version or entities or replaced != data:
            raise _Decline
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start-ns", "start"))
        try:
            parser.feed(data)
            parser.close()
        except ET.ParseError:
            raise _Decline from None  # feedparser's loose parser, or its error
        root: ET.Element | None = None
        declarations: list[tuple[str, str]] = []
        rebased = False  # an xml:base (or base) attribute anywhere
        # Each of these two events is (kind, value): a (prefix, uri) pair for "start-ns", the
        # element for "start". typeshed's union also has the shapes of the kinds not asked for.
        events = cast("Iterator[tuple[str, Any]]", parser.read_events())
        for event, value in events:
            if event == "start-ns":
                declarations.append(value)
                continue
            if root is None:
                root = value
            if value.attrib and not rebased:
                rebased = any(k.rsplit("}", 1)[-1].lower() == "base" for k in value.attrib)
        if root is None:
            raise _Decline
        self._namespaces(declarations)
        if not rebased:
            # Every element's base is then the same: feedparser's join of the base with itself
            # (once at the root, then a fixed point), unless that join keeps changing it.
            first = self._join(self.base, self.base)
            if self._join(first, first) == first:
                self.base = first
                self.fixed = True

        name, _ = self.name(root.tag)
        attrs = self.enter(root)
        feed: dict[str, Any] = {}
        entries: list[dict[str, Any]] = []
        if name == "rss" and root.tag == "rss":
            if not attrs.get("version", "").startswith("2."):
                raise _Decline  # RSS 0.9x or unversioned
            version = "rss20"
            channels = [child for child in root if self.name(child.tag)[0] == "channel"]
            if len(channels) != 1:
                raise _Decline
            for child in root:
                if child is channels[0]:
                    self.enter(child)
                    self._feed(child, feed, entries)
                    self.leave()
                else:
                    self._other(child)
        elif name == "feed" and root.tag == f"{{{_ATOM}}}feed":
            version = "atom10"
            self.atom = True
            self._feed(root, feed, entries)
        else:
            raise _Decline
        self.leave()
        return version, feed, entries

    def _namespaces(self, declarations: list[tuple[str, str]]) -> None:
        """feedparser's namespace maps, declining where they would depend on the order."""
        bound: dict[str, str] = {}
        unknown: dict[str, set[str]] = {}
        known_prefixes: dict[str, str] = {}
        for prefix, uri in declarations:
            if not uri:
                continue  # xmlns="" (feedparser ignores it)
            if bound.setdefault(prefix, uri) != uri:
                raise _Decline  # one prefix for two namespaces
            lower = uri.lower()
            if lower in _RDF_URIS:
                raise _Decline  # RSS 0.90 or 1.0
            if _USERLAND[7:] in lower:
                uri = lower = _USERLAND
            canonical = _MATCH.get(lower)
            if canonical is not None:
                self.nsmap[prefix or None] = canonical
                self.in_use[canonical] = uri
                if prefix:
                    known_prefixes[prefix] = canonical
            else:
                self.in_use[prefix] = uri
                unknown.setdefault(uri, set()).add(prefix)
        unknown_prefixes = set()
        for prefixes in unknown.values():
            if len(prefixes) != 1:
                raise _Decline  # one namespace under two prefixes
            unknown_prefixes |= {p.lower() for p in prefixes if p}
        if unknown_prefixes & _CANONICAL_LOWER:
            raise _Decline
        for prefix, canonical in known_prefixes.items():
            if prefix != canonical and prefix.lower() in (_CANONICAL_LOWER | unknown_prefixes):
                raise _Decline
        if unknown_prefixes & {p.lower() for p in known_prefixes}:
            raise _Decline

    def name(self, tag: str) -> tuple[str, bool]:
        """feedparser's name for an element ("dc_creator", "link") and whether it has a prefix
        (startElementNS, then unknown_starttag's namespacemap)."""
        found = self.names.get(tag)
        if found is not None:
            return found
        if tag[:1] == "{":
            uri, local = tag[1:].split("}", 1)
        else:
            uri, local = "", tag
        lower = uri.lower()
        if _USERLAND[7:] in lower:
            uri = lower = _USERLAND
        prefix = _MATCH.get(lower)
        name = local.lower()
        if prefix:
            name = prefix.lower() + ":" + name
        elif uri:
            for key, value in self.in_use.items():
                if key and value == uri:
                    name = key + ":" + name
                    break
        name = name.lower()
        p, colon, suffix = name.partition(":")
        if not colon:
            p, suffix = "", name
        p = self.nsmap.get(p, p)
        found = (f"{p}_{suffix}" if p else suffix, bool(p))
        self.names[tag] = found
        return found

    # --- xml:base, as feedparser's unknown_starttag and unknown_endtag track it -------------

    def enter(self, elem: ET.Element) -> dict[str, str]:
        """An element starts: its attributes, as feedparser sees them, and its base."""
        attrib = elem.attrib
        attrs = _attributes(attrib) if attrib else {}
        if self.fixed:
            return attrs
        base = self.base
        given = (attrs.get("xml:base", attrs.get("base")) if attrs else None) or base
        self.base = self._join(base, given)
        self.stack.append(self.base)
        return attrs

    def leave(self) -> None:
        """An element ends: back to the base before it (unless that was empty: feedparser
        keeps the last one then)."""
        if self.fixed:
            return
        stack = self.stack
        stack.pop()
        if stack and stack[-1]:
            self.base = stack[-1]

    def _join(self, base: str, given: str) -> str:
        key = (base, given)
        new = self.joins.get(key)
        if new is None:
            if base:
                new = make_safe_absolute_uri(base, given) or base
            else:
                new = _urljoin(base, given)
            self.joins[key] = new
        return new

    def resolve(self, uri: str) -> str:
        """feedparser's resolve_uri: `uri` joined to the base."""
        if _PLAIN_URL.match(uri):
            return uri  # urljoin gives such an absolute URL back unchanged, whatever the base
        return _urljoin(self.base or "", uri)

    # --- outside entries ---------------------------------------------------------------

    def _feed(self, elem: ET.Element, feed: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """The children of <channel> or Atom's <feed>."""
        titles = 0
        for child in elem:
            name, _ = self.name(child.tag)
            attrs = self.enter(child)
            if name in ("item", "entry"):
                entries.append(self._entry(child, attrs))
            elif name in _TITLE:
                titles += 1
                if titles > 1:
                    raise _Decline
                value, detail = self._text_construct(attrs, "text/plain", _leaf_text(child))
                feed["title"] = value
                feed["title_detail"] = detail
            elif name in ("image", "textinput"):
                allowed = _IMAGE_CHILDREN if name == "image" else _TEXTINPUT_CHILDREN
                for grandchild in child:
                    gname, prefixed = self.name(grandchild.tag)
                    if prefixed or gname not in allowed or len(grandchild):
                        raise _Decline
                    self.enter(grandchild)
                    self.leave()
            else:
                self._other(child, name)
            self.leave()

    def _other(self, elem: ET.Element, name: str | None = None, enter: bool = False) -> None:
        """Any element outside entries other than the feed's title: nothing in it may be a title,
        an entry or a source, nor text constructs with markup inside, nor unknown elements
        named like the fields kept."""
        if name is None:
            name, _ = self.name(elem.tag)
            enter = True
        if enter:
            self.enter(elem)
        if name in _FEED_DANGER:
            raise _Decline
        if name in _TEXT_CONSTRUCTS and len(elem):
            raise _Decline
        if name not in _HANDLED:
            _check_unknown(name)
        for child in elem:
            self._other(child)
        if enter:
            self.leave()

    # --- entries -----------------------------------------------------------------------

    def _entry(self, elem: ET.Element, attrs: dict[str, str]) -> dict[str, Any]:
        """One <item> or <entry>: feedparser's _start_item, its children's handlers, _end_item."""
        for key in attrs:
            if key in ("href", "lastmod", "about") or key.endswith(":about"):
                raise _Decline  # _cdf_common and rdf:about set fields
        e: dict[str, Any] = {}
        seen: set[str] = set()  # fields given once: a second one follows rules not copied here
        has_content = False
        for child in elem:
            name, _ = self.name(child.tag)
            attrs = self.enter(child)
            kind = _ENTRY_KIND.get(name)
            if kind in _ONCE:
                if kind in seen:
                    raise _Decline
                seen.add(kind)
            if kind == "title":
                value, detail = self._text_construct(attrs, "text/plain", _leaf_text(child))
                e["title"] = value
                e["title_detail"] = detail
            elif kind == "link":
                self._link(e, attrs, child)
            elif kind == "id":  # _start_guid, pop, _end_guid
                guid_is_link = attrs.get("ispermalink", "true") == "true"
                value = _leaf_text(child).strip()
                if value and guid_is_link:
                    value = self.resolve(value)
                value = _repair(value)
                e["id"] = value
                e.setdefault("guidislink", guid_is_link and "link" not in e)
                if guid_is_link:
                    e.setdefault("link", value)
            elif kind == "summary":  # _start_description or _start_summary, pop
                if "summary" in e and not has_content:
                    raise _Decline  # feedparser would take it for content
                default = "text/plain" if name == "summary" else "text/html"
                value, detail = self._text_construct(attrs, default, _leaf_text(child))
                e["summary"] = value
                e["summary_detail"] = detail
            elif kind == "content":  # _start_content_encoded or _start_content, _end_content
                has_content = True
                default = "text/html" if name == "content_encoded" else "text/plain"
                value, detail = self._text_construct(attrs, default, _leaf_text(child))
                if name == "content" and attrs.get("src"):
                    detail["src"] = attrs["src"]
                e.setdefault("content", []).append(detail)
                e.setdefault("summary", value)  # copied when text or HTML (always, here)
            elif kind == "author":
                self._author(e, child)
            elif kind == "published" or kind == "updated":  # pop, then _parse_date
                value = _repair(_leaf_text(child).strip())
                e[kind] = value
                e[kind + "_parsed"] = parse_date(value)
            elif kind == "harmless":
                if len(child):
                    raise _Decline
            elif kind == "group":
                for grandchild in child:
                    self._nested(grandchild)
            elif kind == "contributor":
                for grandchild in child:
                    gname, _ = self.name(grandchild.tag)
                    if gname not in _PERSON_PARTS or len(grandchild):
                        raise _Decline
                    self.enter(grandchild)
                    self.leave()
            elif name in _HANDLED:
                raise _Decline  # a handler not known here to leave the fields alone
            else:
                _check_unknown(name)
                for grandchild in child:
                    self._nested(grandchild)
            self.leave()
        return e

    def _nested(self, elem: ET.Element) -> None:
        """An element inside a media group or an unknown extension element of an entry."""
        name, _ = self.name(elem.tag)
        self.enter(elem)
        if name in _HANDLED:
            if name not in _NESTED_OK:
                raise _Decline
            if name not in _WITH_CHILDREN and len(elem):
                raise _Decline
        else:
            _check_unknown(name)
        for child in elem:
            self._nested(child)
        self.leave()

    def _text_construct(
        self, attrs: dict[str, str], default_type: str, text: str
    ) -> tuple[str, dict[str, Any]]:
        """push_content and pop for a title, description, summary or content element."""
        if "mode" in attrs:
            raise _Decline  # Atom 0.3 modes, base64
        kind = _map_content_type(attrs.get("type", default_type))
        if kind not in _HTML_TYPES:
            raise _Decline  # XHTML, base64-encoded or other media types
        base = self.base
        value = text.strip()
        if not self.atom and kind == "text/plain" and _looks_like_html(value):
            kind = "text/html"
        value = _repair(value)
        return value, {"type": kind, "base": base, "value": value}

    def _link(self, e: dict[str, Any], attrs: dict[str, str], elem: ET.Element) -> None:
        """_start_link, and pop for a link given as text."""
        attrs = dict(attrs)
        rel = attrs.setdefault("rel", "alternate")
        kind = attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs.pop("url", None)
            attrs.pop("uri", None)
            attrs["href"] = href
        if "href" in attrs:
            if len(elem):
                raise _Decline
            href = self.resolve(attrs["href"])
            if rel == "alternate" and _map_content_type(kind) in (
                "application/xhtml+xml",
                "text/html",
            ):
                e["link"] = href
            return
        value = _leaf_text(elem).strip()
        if value:
            value = self.resolve(value)
        value = _repair(value)
        if "&" in value:
            value = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
        e["link"] = value

    def _author(self, e: dict[str, Any], elem: ET.Element) -> None:
        """_start_author, the handlers of <name>, <email> and <uri> in it, _end_author."""
        e.setdefault("authors", []).append({})
        pieces = [elem.text or ""]
        for child in elem:
            name, _ = self.name(child.tag)
            self.enter(child)
            if name not in _PERSON_PARTS or len(child):
                raise _Decline
            value = (child.text or "").strip()
            if name == "uri":  # pushed as "href": a URI, repaired
                if value:
                    value = self.resolve(value)
                _save_author(e, "href", _repair(value))
            else:  # pushed without expecting text: as it is
                _save_author(e, name, value)
            self.leave()
            pieces.append(child.tail or "")
        e["author"] = _repair("".join(pieces).strip())
        _sync_author_detail(e)


# --- dates ---------------------------------------------------------------------------------

# The two shapes nearly every feed uses, read directly (feedparser's _parse_date tries up to nine
# formats in turn, a quarter of this path's time); anything else, and any value out of range,
# goes to _parse_date itself. tests/test_feedparse.py checks the two agree.
_RFC822 = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" (\d{4}) (\d\d):(\d\d):(\d\d) (?:([+-])(\d\d)(\d\d)|GMT|UT|Z)\Z"
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?(?:Z|([+-])(\d\d):(\d\d))\Z"
)
_MONTHS = {
    name: number
    for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}


def parse_date(value: str) -> Any:
    """feedparser's _parse_date(value): a UTC time.struct_time, or None."""
    m = _RFC822.match(value)
    if m is not None:
        day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = m.groups()
        month_number = _MONTHS[month]
    else:
        m = _RFC3339.match(value)
        if m is None:
            return _parse_date(value)
        year, month, day, hour, minute, second, sign, tz_hours, tz_minutes = m.groups()
        month_number = int(month)
    try:
        stamp = datetime(int(year), month_number, int(day), int(hour), int(minute), int(second))
        if sign is None:
            return stamp.utctimetuple()
        offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes))
        return (stamp - offset if sign == "+" else stamp + offset).utctimetuple()
    except (ValueError, OverflowError):
        return _parse_date(value)


# --- feedparser's small rules ------------------------------------------------------------


def _attributes(attrib: dict[str, str]) -> dict[str, str]:
    """startElementNS's attribute dict, normalised as _normalize_attributes does."""
    attrs: dict[str, str] = {}
    locals_: list[str] = []
    for key, value in attrib.items():
        if key[:1] == "{":
            uri, local = key[1:].split("}", 1)
            prefix = _MATCH.get(uri.lower(), "")
        else:
            local, prefix = key, ""
        attrs[(f"{prefix}:{local}" if prefix else local).lower()] = value
        locals_.append(local.lower())
    if len(set(locals_)) != len(locals_):
        raise _Decline  # two attributes with the same local name: which one wins is subtle
    for key, value in attrib.items():
        attrs[key.rsplit("}", 1)[-1].lower()] = value
    for key in ("rel", "type"):
        if key in attrs:
            attrs[key] = attrs[key].lower()
    return attrs


def _check_unknown(name: str) -> None:
    """An element feedparser has no handler for is stored under its name: not one kept."""
    if name in _COLLISIONS or name.endswith(("_detail", "_parsed")):
        raise _Decline


def _leaf_text(elem: ET.Element) -> str:
    if len(elem):
        raise _Decline  # markup inside a field: feedparser keeps it as (X)HTML
    return elem.text or ""


def _map_content_type(kind: str) -> str:
    kind = kind.lower()
    if kind in ("text", "plain"):
        return "text/plain"
    if kind == "html":
        return "text/html"
    if kind == "xhtml":
        return "application/xhtml+xml"
    return kind


def _repair(text: str) -> str:
    """pop's last steps: UTF-8 read as Latin-1 put right, then cp1252's extra characters."""
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return text.translate(_cp1252)


def _save_author(context: dict[str, Any], key: str, value: str) -> None:
    context.setdefault("author_detail", {})
    context["author_detail"][key] = value
    _sync_author_detail(context)
    context.setdefault("authors", [{}])
    context["authors"][-1][key] = value


_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)


def _sync_author_detail(context: dict[str, Any], key: str = "author") -> None:
    """feedparser's _sync_author_detail, on a plain dict."""
    detail = context.get(f"{key}s", [{}])[-1]
    if detail:
        name = detail.get("name")
        email = detail.get("email")
        if name and email:
            context[key] = f"{name} ({email})"
        elif name:
            context[key] = name
        elif email:
            context[key] = email
    else:
        author, email = context.get(key), None
        if not author:
            return
        match = _EMAIL.search(author)
        if match:
            email = match.group(0)
            author = author.replace(email, "")
            author = author.replace("()", "")
            author = author.replace("<>", "")
            author = author.replace("&lt;&gt;", "")
            author = author.strip()
            if author and (author[0] == "("):
                author = author[1:]
            if author and (author[-1] == ")"):
                author = author[:-1]
            author = author.strip()
        if author or email:
            context.setdefault(f"{key}_detail", detail)
        if author:
            detail["name"] = author
        if email:
            detail["email"] = email
