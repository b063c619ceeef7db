"""The fast parse path (sources.feedparse) gives exactly the Items feedparser gives.

Every feed here is parsed twice, `parse_feed(..., fast=False)` (feedparser alone) and
`parse_feed(...)` (the fast path where it is sure, feedparser where it declines), and the
resulting Items are compared field by field: the key, title, author, text, url and
published_at must be the same, or switching paths would store an entry twice. The cases the
fast path is meant to take are also checked to have taken it, so the equality is not merely
feedparser against itself. Nothing here skips: with a feedparser other than the pinned one the
first test says so and the fast-path cases fail.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.feedparse import VERIFIED, available, fast_parse, parse_date
from sources.rss import RSSSource, parse_feed
from sources.source import SourceError
from webcare.intake import Item

FEEDS = Path(__file__).parent / "feeds"
SOURCE = RSSSource("feed", "https://news.example.org/feed.xml", channel="news")
HEADERS = [
    ("", ""),
    ("application/rss+xml; charset=utf-8", "https://news.example.org/feeds/main.xml"),
    ("text/xml", "http://news.example.org/"),
    ("application/atom+xml", ""),
    ("", "https://news.example.org/feed.xml"),  # feedparser then assumes ISO-8859-1
]


def both_ways(body: bytes, content_type: str = "", base_url: str = "") -> str:
    """Parse `body` both ways, assert the same outcome; which parser the fast way used."""
    try:
        slow = parse_feed(body, content_type, base_url, fast=False)
    except SourceError as exc:
        with pytest.raises(SourceError) as info:
            parse_feed(body, content_type, base_url)
        assert str(info.value) == str(exc)
        return "error"
    fast = parse_feed(body, content_type, base_url)
    assert_same_items(SOURCE._items(fast), SOURCE._items(slow))
    assert fast["entries"] == slow["entries"]
    assert (fast["title"], fast["version"]) == (slow["title"], slow["version"])
    assert slow["parser"] == "feedparser"
    return fast["parser"]


def assert_same_items(fast: list[Item], slow: list[Item]) -> None:
    assert len(fast) == len(slow)
    for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
        for field in dataclasses.fields(Item):
            assert getattr(a, field.name) == getattr(b, field.name), f"item {i}: {field.name}"


# --- the pin -------------------------------------------------------------------------------


def test_the_fast_path_is_on_with_the_pinned_feedparser() -> None:
    # Never a skip: with another feedparser the fast path is off, every comparison below would
    # be feedparser against itself, and the desk would ingest large feeds behind newsboat.
    import feedparser

    assert feedparser.__version__ == VERIFIED, (
        f"feedparser {feedparser.__version__} is installed; the fast path mirrors {VERIFIED} "
        "(pyproject.toml pins it): install that one, or check the fast path against this one "
        "and set sources.feedparse.VERIFIED"
    )
    assert available()


def test_pyproject_pins_the_feedparser_the_fast_path_mirrors() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("feedparser")]
    assert pins == [f"feedparser=={VERIFIED}"]


# --- feed builders -------------------------------------------------------------------------

NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
)


def rss(*items: str, channel: str = "", root: str = "", encoding: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<rss version="2.0" {NAMESPACES} {root}><channel {channel}>\n'
        "<title>Nieuws uit Vlaanderen</title><link>https://news.example.org/</link>\n"
        "<description>Test</description>\n"
        '<atom:link rel="self" href="https://news.example.org/feed.xml" '
        'type="application/rss+xml"/>\n' + "\n".join(f"<item>{i}</item>" for i in items) + "\n"
        "</channel></rss>\n"
    ).encode(encoding, "xmlcharrefreplace")


def atom(*entries: str, feed: str = "", title: str = "<title>Google Alert - VLM</title>") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/" '
        f'xmlns:yt="http://www.youtube.com/xml/schemas/2015" {feed}>\n'
        f"{title}<id>tag:example.org,2026:feed</id>"
        "<updated>2026-03-02T12:00:00Z</updated>\n"
        '<link rel="self" href="https://www.example.org/alerts/feed"/>\n'
        + "\n".join(f"<entry>{e}</entry>" for e in entries)
        + "\n</feed>\n"
    ).encode()


DESCRIPTION = (
    "<description>&lt;p&gt;De &lt;b&gt;VLM&lt;/b&gt; opent &lt;a href=&quot;/loket&quot;&gt;"
    "loketten&lt;/a&gt; &amp;amp; zitdagen.&lt;/p&gt;</description>"
)


# --- the fixture feeds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", HEADERS, ids=["none", "rss-utf8", "text-xml", "atom", "base-only"]
)
@pytest.mark.parametrize("path", sorted(FEEDS.iterdir()), ids=lambda p: p.name)
def test_fixture_feeds_give_the_same_items(path: Path, headers: tuple[str, str]) -> None:
    parser = both_ways(path.read_bytes(), *headers)
    expected = {
        "rss20.xml": "fast",
        "atom.xml": "fast",
        "latin1.xml": "feedparser",  # not well-formed: &nbsp;
        "hostile.xml": "feedparser",  # &#27; is no XML character
    }
    assert parser == expected.get(path.name, "error")


# --- generated RSS 2.0 -----------------------------------------------------------------------

RSS_CASES = {
    "content-encoded-and-dc-creator": rss(
        "<title>VLM</title><link>https://news.example.org/1</link><guid>urn:1</guid>"
        "<dc:creator>Jan Janssens</dc:creator>" + DESCRIPTION + "<content:encoded><![CDATA["
        '<p>Het <b>volledige</b> artikel, <a href="https://www.vlm.be/x">hier</a>.</p>'
        "]]></content:encoded><pubDate>Mon, 02 Mar 2026 10:15:00 +0100</pubDate>"
    ),
    "content-encoded-before-description": rss(
        "<title>VLM</title><content:encoded>&lt;p&gt;eerst&lt;/p&gt;</content:encoded>"
        + DESCRIPTION
    ),
    "author-email-and-name": rss(
        "<title>a</title><author>jan.janssens@vlm.be (Jan Janssens)</author><guid>g1</guid>",
        "<title>b</title><author>redactie@example.org</author><guid>g2</guid>",
        "<title>c</title><author>Jan Janssens</author><guid>g3</guid>",
        "<title>d</title><author>Jan &lt;jan@vlm.be&gt;</author><guid>g4</guid>",
        "<title>e</title><author>x@evil.example ([@click=app.quit]boss[/])</author>",
        "<title>f</title><author></author><guid>g6</guid>",
        "<title>g</title><dc:creator>jan@vlm.be</dc:creator><guid>g7</guid>",
    ),
    "guids": rss(
        '<title>not a permalink</title><guid isPermaLink="false">urn:news:1</guid>',
        "<title>permalink, no link</title><guid>https://news.example.org/2</guid>",
        "<title>relative permalink</title><guid>/artikel/3</guid>",
        '<title>permalink true</title><guid isPermaLink="true">/artikel/4</guid>'
        "<link>https://news.example.org/4b</link>",
        "<title>link first</title><link>https://news.example.org/5</link><guid>/five</guid>",
        "<title>empty guid</title><guid></guid><link>https://news.example.org/6</link>",
        '<title>odd case</title><guid isPermaLink="True">/seven</guid>',
        "<title>no guid</title><link>https://news.example.org/8</link>",
        "<title>neither</title><description>Geen link, geen guid.</description>",
        "<description>Geen titel, geen link, geen guid.</description>",
    ),
    "relative-links-and-xml-base": rss(
        "<title>a</title><link>artikel/1.html</link>" + DESCRIPTION,
        '<title>b</title><link xml:base="https://elders.example.net/x/">y.html</link>',
        "<title>c</title><link>//cdn.example.org/c</link>",
        "<title>d</title><link>  https://news.example.org/d?a=1&amp;b=2  </link>",
        "<title>e</title><link>https://news.example.org/e?a=1&amp;amp;b=2&amp;c;d</link>",
        "<title>f</title><link>javascript:alert(1)</link>",
        "<title>g</title><link>HTTP://News.Example.org/G</link>",
        channel='xml:base="https://news.example.org/nieuws/"',
    ),
    "item-xml-base": rss(
        "<title>a</title><link>a.html</link><guid>g.html</guid>"
        '<description xml:base="https://base.example.org/d/">&lt;a href="r"&gt;x&lt;/a&gt;'
        "</description>",
        "<title>b</title><link>b.html</link>",
        root='xml:base="https://root.example.org/"',
    ),
    "atom-link-in-item": rss(
        "<title>a</title><link>https://news.example.org/a</link>"
        '<atom:link rel="alternate" href="https://alt.example.org/a"/>',
        '<title>b</title><atom:link href="/b" type="text/html"/>',
        '<title>c</title><atom:link rel="enclosure" href="/c.mp3"/>',
        '<title>d</title><atom:link href="" />',
    ),
    "cdata-and-entities": rss(
        "<title><![CDATA[Boeren & de <b>VLM</b>]]></title><guid>c1</guid>"
        "<description><![CDATA[<p>Caf&eacute; &amp; co &#233; &#x263A;</p>]]></description>",
        "<title>&lt;b&gt;VLM&lt;/b&gt; nieuws &amp; meer</title><guid>c2</guid>",
        "<title>Caf&#233; &#x1F600; &amp;amp;</title><guid>c3</guid>",
        "<title>a &amp;lt; b &amp;copy; c &amp;bogus; d</title><guid>c4</guid>",
        "<title>   </title><guid>c5</guid><description>   </description>",
        "<title>x<!-- a comment -->y<?pi z?></title><guid>c6</guid>",
    ),
    "dates": rss(
        *[
            f"<title>{i}</title><guid>d{i}</guid>{date}"
            for i, date in enumerate(
                [
                    "<pubDate>Mon, 02 Mar 2026 10:15:00 +0100</pubDate>",
                    "<pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate>",
                    "<pubDate>Sun, 1 Mar 2026 08:00:00 EST</pubDate>",
                    "<pubDate>01 Mar 2026 08:00 -0530</pubDate>",
                    "<pubDate>Sun, 01 Mar 26 08:00:00 +0000</pubDate>",
                    "<pubDate>2026-03-01T08:00:00+02:00</pubDate>",
                    "<pubDate>2026-03-01</pubDate>",
                    "<pubDate>gisteren</pubDate>",
                    "<pubDate></pubDate>",
                    "<pubDate>Mon, 30 Feb 2026 10:00:00 GMT</pubDate>",
                    "<pubDate>Mon, 02 Mar 2026 25:00:00 GMT</pubDate>",
                    "<pubDate>Thu, 01 Jan 1970 00:00:00 +1400</pubDate>",
                    "<pubDate>Fri, 31 Dec 9999 23:59:59 -1200</pubDate>",
                    "<dc:date>2026-03-02T10:15:00Z</dc:date>",
                    "<pubDate>kapot</pubDate><dc:date>2026-03-02T10:15:00Z</dc:date>",
                    "<dc:date>2026-03-02T10:15:00.123+01:00</dc:date>"
                    "<pubDate>Mon, 02 Mar 2026 10:15:00 +0100</pubDate>",
                    "",
                ]
            )
        ]
    ),
    "markup-looking-text": rss(
        "<title>[@click=app.quit]x[/] [bold red]VLM[/]</title><guid>m1</guid>"
        "<description>[@click=app.quit]x[/] \u202eevil reversed\u202c \u200f"
        " \U0001f600 &lt;b&gt; &amp;lt;b&amp;gt;</description>",
        "<title>\u05e9\u05dc\u05d5\u05dd VLM \U0001f44d</title><guid>m2</guid>",
    ),
    "google-news-style": rss(
        "<title>VLM in het nieuws</title><link>https://news.google.com/rss/articles/abc?oc=5</link>"
        '<guid isPermaLink="false">CBMiK2h0dHBz</guid>'
        "<pubDate>Mon, 02 Mar 2026 09:15:00 GMT</pubDate>" + DESCRIPTION + '<source url="https'
        '://www.standaard.be">De Standaard</source><category>Landbouw</category>'
        '<category domain="x">Natuur</category>'
        '<enclosure url="https://cdn.example.org/a.jpg" type="image/jpeg" length="1"/>'
        "<comments>https://news.example.org/1#comments</comments>"
        "<slash:comments>3</slash:comments><wfw:commentRss>/1/feed</wfw:commentRss>"
        "<feedburner:origLink>https://news.example.org/1</feedburner:origLink>"
        '<media:content url="https://cdn.example.org/a.jpg" medium="image">'
        '<media:credit role="photographer">VLM</media:credit></media:content>'
        '<media:thumbnail url="https://cdn.example.org/t.jpg"/>',
        channel="",
    ).replace(
        b"<description>Test</description>",
        b"<description>Test</description><language>nl-be</language>"
        b"<sy:updatePeriod>hourly</sy:updatePeriod><ttl>60</ttl>"
        b"<image><url>https://news.example.org/logo.png</url><title>Logo titel</title>"
        b"<link>https://news.example.org/</link></image>"
        b"<textInput><title>Zoek</title><name>q</name><link>https://x/</link></textInput>"
        b"<managingEditor>red@example.org (Redactie)</managingEditor>"
        b"<lastBuildDate>Mon, 02 Mar 2026 09:15:00 GMT</lastBuildDate>",
    ),
    "latin-1-declared-and-written": rss(
        "<title>Caf\u00e9 \u00e0 la VLM</title><guid>l1</guid>"
        "<description>\u00e9\u00e8\u00ea \u20ac</description>",
        encoding="iso-8859-1",
    ),
    "utf-8-read-as-latin-1-repaired": rss(
        "<title>Caf\u00c3\u00a9</title><guid>r1</guid><description>\u00c3\u00a9 \u0080 \u0093x\u0094"
        "</description>",
    ),
    "title-after-image-and-items-first": rss(
        "<title>eerste</title><guid>i1</guid>",
    )
    .replace(
        b"<title>Nieuws uit Vlaanderen</title>",
        b"<image><title>beeld</title><url>/b.png</url></image>",
    )
    .replace(b"</channel>", b"<title>Nieuws achteraan</title></channel>"),
    "no-feed-title": rss("<title>x</title><guid>n1</guid>").replace(
        b"<title>Nieuws uit Vlaanderen</title>", b""
    ),
    "html-feed-title": rss("<title>x</title><guid>n1</guid>").replace(
        b"<title>Nieuws uit Vlaanderen</title>",
        b"<title>Nieuws &amp;amp; &lt;i&gt;meer&lt;/i&gt;</title>",
    ),
    "no-items": rss(),
    "unknown-namespaces": rss(
        '<title>a</title><guid>u1</guid><foo:bar xmlns:foo="urn:foo">x<foo:baz/></foo:bar>'
        '<x:title xmlns:x="urn:x">geen titel</x:title><x:link xmlns:x="urn:x">no</x:link>'
    ),
    "typed-description": rss(
        '<title type="html">&lt;i&gt;a&lt;/i&gt;</title><description type="text">'
        "&lt;p&gt;tekst&lt;/p&gt;</description><guid>t1</guid>",
        '<title type="text/plain">b &amp;amp; c</title><description type="plain">'
        "geen &lt;b&gt;html&lt;/b&gt;</description><guid>t2</guid>",
    ),
}


@pytest.mark.parametrize("name", list(RSS_CASES))
def test_generated_rss_gives_the_same_items_on_the_fast_path(name: str) -> None:
    for headers in HEADERS:
        assert both_ways(RSS_CASES[name], *headers) == "fast", headers


ENCODED = rss(
    "<title>\u201cCaf\u00e9\u201d \u2013 VLM</title><guid>e1</guid>"
    "<description>\u00e9\u00e8 \u20ac \u0153</description>"
).decode()
ENCODING_CASES = {
    "cp1252-declared-utf-8": ENCODED.encode("cp1252"),
    "utf-16-with-bom": ENCODED.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
    "utf-8-bom": b"\xef\xbb\xbf" + ENCODED.encode(),
    "no-declaration": ENCODED.replace('<?xml version="1.0" encoding="utf-8"?>', "").encode(),
    "utf-8-declared-latin-1": ENCODED.replace('"utf-8"', '"iso-8859-1"').encode(),
}


@pytest.mark.parametrize("name", list(ENCODING_CASES))
@pytest.mark.parametrize(
    "content_type",
    ["", "application/rss+xml", "text/xml; charset=iso-8859-1", "application/xml; charset=utf-8"],
)
def test_encodings_are_chosen_as_feedparser_chooses_them(name: str, content_type: str) -> None:
    # UTF-16 read as the ISO-8859-1 the server claims is unreadable, to feedparser as well.
    unreadable = name == "utf-16-with-bom" and "iso-8859-1" in content_type
    expected = "error" if unreadable else "fast"
    assert both_ways(ENCODING_CASES[name], content_type, "https://e.org/") == expected


# --- generated Atom 1.0 ----------------------------------------------------------------------

ATOM_CASES = {
    "google-alerts": atom(
        "<id>tag:google.com,2013:googlealerts/feed:1</id>"
        '<title type="html">&lt;b&gt;VLM&lt;/b&gt; en de mestbank &amp;amp; meer</title>'
        '<link href="https://www.google.com/url?rct=j&amp;url=https://x.be/1" />'
        "<published>2026-03-02T11:30:00+01:00</published>"
        "<updated>2026-03-02T11:30:00+01:00</updated>"
        '<content type="html">De &lt;b&gt;VLM&lt;/b&gt; &lt;a href="/n"&gt;n&lt;/a&gt;</content>'
        "<author><name></name></author>"
    ),
    "authors": atom(
        "<id>a1</id><title>a</title><author><name>Jan</name><email>jan@vlm.be</email></author>",
        "<id>a2</id><title>b</title><author><email>jan@vlm.be</email><name>Jan</name></author>",
        "<id>a3</id><title>c</title><author><email>jan@vlm.be</email></author>",
        "<id>a4</id><title>d</title><author><name> Jan </name><uri>/jan</uri></author>",
        "<id>a5</id><title>e</title><author><uri>https://vlm.be/jan</uri></author>",
        "<id>a6</id><title>f</title><author>Jan los</author>",
        "<id>a7</id><title>g</title><author><name>Ann</name></author>"
        "<contributor><name>Piet</name></contributor>",
    ),
    "links": atom(
        '<id>l1</id><title>a</title><link rel="alternate" type="text/html" href="/a"/>'
        '<link rel="self" href="/a.atom"/><link rel="enclosure" href="/a.mp3"/>',
        '<id>https://www.example.org/l2</id><title>only self</title><link rel="self" href="/x"/>',
        "<id>tag:example.org,2026:l3</id><title>no link</title>",
        '<id>l4</id><title>pdf</title><link rel="alternate" type="application/pdf" href="/p"/>',
        '<id>l5</id><title>two</title><link href="/first"/><link href="/second"/>',
        '<link href="/l6"/><id>/l6-id</id><title>link before id</title>',
        "<id>/l7</id><title>relative id</title>",
        '<id>l8</id><title>xhtml</title><link type="application/xhtml+xml" href="/x8"/>',
        '<id>l9</id><title>uri attr</title><link uri="/u9"/>',
        feed='xml:base="https://www.example.org/base/"',
    ),
    "content-and-summary": atom(
        '<id>c1</id><title>a</title><summary>Kort</summary><content type="html">'
        "&lt;p&gt;Lang &lt;a href='rel/x'&gt;x&lt;/a&gt;&lt;/p&gt;</content>",
        '<id>c2</id><title>b</title><content type="text">&lt;b&gt; blijft</content>'
        "<summary type='html'>&lt;i&gt;s&lt;/i&gt;</summary>",
        "<id>c3</id><title>c</title><summary>alleen samenvatting &lt;b&gt;</summary>",
        '<id>c4</id><title>d</title><content src="https://x.example/c4" type="text/html"/>',
        "<id>c5</id><title type='text'>&lt;b&gt;geen html&lt;/b&gt;</title>",
        '<id>c6</id><content type="html" xml:base="https://elders.example.net/"'
        ">&lt;a href='z'&gt;z&lt;/a&gt;</content>",
    ),
    "dates": atom(
        *[
            f"<id>d{i}</id><title>{i}</title>{d}"
            for i, d in enumerate(
                [
                    "<published>2026-03-02T11:30:00+01:00</published>",
                    "<updated>2026-03-01T09:00:00Z</updated>",
                    "<published>2026-03-02T11:30:00.5-05:30</published>"
                    "<updated>2026-03-03T00:00:00Z</updated>",
                    "<published>2026-03-02T11:30:00</published>",
                    "<published>2026-03-02</published>",
                    "<published>kapot</published><updated>2026-03-01T09:00:00Z</updated>",
                    "<published>2026-02-30T10:00:00Z</published>",
                    "<published>Mon, 02 Mar 2026 10:15:00 +0100</published>",
                    "",
                ]
            )
        ]
    ),
    "reddit-and-youtube-extensions": atom(
        "<id>t3_abc</id><title>VLM op reddit</title>"
        '<link href="https://www.reddit.com/r/belgium/comments/abc/"/>'
        '<category term="belgium" label="r/belgium"/>'
        '<media:thumbnail url="https://i.redd.it/x.jpg"/>'
        "<author><name>/u/boer</name><uri>https://www.reddit.com/user/boer</uri></author>"
        '<content type="html">&lt;div&gt;tekst&lt;/div&gt;</content>'
        "<updated>2026-03-02T10:00:00+00:00</updated>"
        "<published>2026-03-02T09:00:00+00:00</published>"
        "<yt:videoId>abc</yt:videoId><yt:channelId>UC1</yt:channelId>"
        "<rights>CC</rights>",
    ),
    "no-title-no-id": atom("<summary>alleen tekst</summary>", title=""),
    "html-feed-title": atom(
        "<id>x</id><title>x</title>",
        title='<title type="html">&lt;b&gt;Alert&lt;/b&gt; &amp;amp; VLM</title>',
    ),
}


@pytest.mark.parametrize("name", list(ATOM_CASES))
def test_generated_atom_gives_the_same_items_on_the_fast_path(name: str) -> None:
    for headers in HEADERS:
        assert both_ways(ATOM_CASES[name], *headers) == "fast", headers


# --- what the fast path leaves to feedparser ---------------------------------------------------

DECLINED = {
    "rss-1.0-rdf": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf'
    b'-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>t</title>'
    b'</channel><item rdf:about="https://e.org/1"><title>VLM</title><link>https://e.org/1'
    b"</link></item></rdf:RDF>",
    "rss-0.91": rss("<title>VLM</title><guid>g</guid>").replace(
        b'version="2.0"', b'version="0.91"'
    ),
    "doctype": rss("<title>VLM</title>").replace(
        b"<rss",
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss',
        1,
    ),
    "doctype-after-a-comment": b'<?xml version="1.0"?><!-- <b>x</b> --><!DOCTYPE rss SYSTEM '
    b'"x.dtd"><rss version="2.0"><channel><item><title>a</title></item></channel></rss>',
    "atom-0.3": b'<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">'
    b"<title>t</title><entry><id>1</id><title>VLM</title></entry></feed>",
    "two-titles": rss("<title>a</title><title>b</title><guid>g</guid>"),
    "two-descriptions": rss(
        "<title>a</title><description>x</description><description>y</description>"
    ),
    "two-authors": rss("<title>a</title><author>a@b.be</author><dc:creator>c</dc:creator>"),
    "markup-in-description": rss("<title>a</title><description>a <b>vet</b></description>"),
    "xhtml-content": atom(
        '<id>x</id><title>a</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/'
        'xhtml"><p>VLM</p></div></content>'
    ),
    "base64-content": atom(
        '<id>x</id><title>a</title><content type="application/octet-stream">VkxN</content>'
    ),
    "itunes-summary": rss("<title>a</title><itunes:summary>s</itunes:summary>"),
    "youtube-media-group": atom(
        "<id>yt:video:1</id><title>VLM</title><media:group><media:title>VLM</media:title>"
        "<media:description>beschrijving</media:description></media:group>"
    ),
    "image-in-item": rss("<title>a</title><image><title>b</title><url>/c</url></image>"),
    "item-outside-channel": rss("<title>a</title>").replace(
        b"</channel></rss>", b"</channel><item><title>b</title></item></rss>"
    ),
    "html-entity": rss("<title>a&nbsp;b</title>"),
    "control-character": rss("<title>a&#27;[2J</title>"),
    "cut-short": rss("<title>a</title>" * 3)[:-30],
    "prefix-bound-twice": rss('<title>a</title><x:a xmlns:x="urn:one"/><x:b xmlns:x="urn:two"/>'),
    "unknown-namespace-named-like-a-known-one": rss(
        '<title>a</title><content:encoded xmlns:content="urn:not-content">x</content:encoded>'
    ),
    "unknown-element-named-like-a-field": rss("<title>a</title><date>2026-01-01</date>"),
    "item-rdf-about": rss("<title>a</title>").replace(
        b"<item>",
        b'<item xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'rdf:about="https://e.org/about">',
    ),
    "atom-source": atom("<id>s</id><title>a</title><source><title>b</title></source>"),
}


@pytest.mark.parametrize("name", list(DECLINED))
def test_what_the_fast_path_is_not_sure_of_goes_to_feedparser(name: str) -> None:
    body = DECLINED[name]
    assert fast_parse(body) is None
    assert both_ways(body) in ("feedparser", "error")


def test_entity_declarations_are_refused_before_any_parse() -> None:
    bomb = (FEEDS / "bomb.xml").read_bytes()
    with pytest.raises(SourceError, match="declares XML entities"):
        parse_feed(bomb)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>'
    )
    with pytest.raises(SourceError, match="declares XML entities"):
        parse_feed(external)


def test_a_bomb_the_byte_check_cannot_read_is_declined_and_harmless() -> None:
    # UTF-16: the refusal before any parse looks for ASCII bytes and does not see it; the fast
    # path declines its DOCTYPE, and feedparser drops the nested declarations itself.
    bomb = (
        (FEEDS / "bomb.xml")
        .read_text()
        .replace('version="1.0"?>', 'version="1.0" encoding="utf-16"?>')
    )
    body = bomb.encode("utf-16")
    assert fast_parse(body) is None
    parsed = parse_feed(body, "application/rss+xml")
    assert parsed["parser"] == "feedparser"
    assert len(parsed["entries"][0]["title"]) < 100


def test_a_large_feed_takes_the_fast_path_with_the_same_items() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from bench_feeds import make_feed

    body = make_feed(7, 500)
    assert both_ways(body, "application/rss+xml; charset=utf-8", "http://127.0.0.1/x") == "fast"


# --- random feeds --------------------------------------------------------------------------------


def _xml_char(c: str) -> bool:
    return c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"


SPECIALS = [
    "[@click=app.quit]x[/]",
    "[bold red]",
    "\U0001f600",
    "\u202e",
    "\u200f",
    "<b>",
    "</b>",
    "<p>",
    "&amp;",
    "&#233;",
    "&copy;",
    "&bogus;",
    "é",
    "Ã©",
    "\x85",
    "\x93",
    "\xa0",
    "]]>",
    "https://vlm.be/a?b=1&c=2",
    "/relatief",
    "jan@vlm.be",
    "(",
    ")",
    " ",
    "\n",
    "\x0b",  # no XML character: such a feed goes to feedparser's loose parser both ways
]
TEXT = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)).filter(_xml_char), st.sampled_from(SPECIALS)
    ),
    max_size=10,
).map("".join)
DATES = st.one_of(
    st.sampled_from(
        [
            "Mon, 02 Mar 2026 10:15:00 +0100",
            "Sun, 01 Mar 2026 08:00:00 GMT",
            "2026-03-02T11:30:00Z",
            "2026-03-02T11:30:00.25+05:45",
            "2026-03-02",
            "gisteren",
            "",
            "Mon, 30 Feb 2026 10:00:00 GMT",
        ]
    ),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")),
    st.datetimes().map(lambda d: d.isoformat()),
    TEXT,
)


def text_node(text: str, cdata: bool) -> str:
    if cdata and "]]>" not in text:
        return f"<![CDATA[{text}]]>"
    return escape(text)


@st.composite
def rss_items(draw: st.DrawFn) -> str:
    parts = []
    for tag in draw(
        st.lists(
            st.sampled_from(
                [
                    "title",
                    "link",
                    "guid",
                    "description",
                    "content:encoded",
                    "author",
                    "dc:creator",
                    "pubDate",
                    "dc:date",
                    "category",
                    "comments",
                    "source",
                ]
            ),
            unique=True,
            max_size=8,
        )
    ):
        attrs = ""
        if tag == "guid":
            attrs = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']))
        if tag in ("link", "guid") and draw(st.booleans()):
            value = draw(st.sampled_from(["https://news.example.org/a", "/b", "c.html", ""]))
        elif tag in ("pubDate", "dc:date"):
            value = draw(DATES)
        else:
            value = draw(TEXT)
        if draw(st.booleans()) and tag in ("title", "description", "link"):
            attrs += (
                f" xml:base={quoteattr(draw(st.sampled_from(['https://b.example/x/', 'rel/'])))}"
            )
        parts.append(f"<{tag}{attrs}>{text_node(value, draw(st.booleans()))}</{tag}>")
    return "".join(parts)


@st.composite
def atom_entries(draw: st.DrawFn) -> str:
    parts = []
    for tag in draw(
        st.lists(
            st.sampled_from(
                [
                    "title",
                    "link",
                    "id",
                    "summary",
                    "content",
                    "author",
                    "published",
                    "updated",
                    "category",
                ]
            ),
            unique=True,
            max_size=8,
        )
    ):
        if tag == "link":
            rel = draw(st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="related"']))
            href = draw(st.sampled_from(["https://x.example/a", "/b", "", "c"]))
            parts.append(f"<link{rel} href={quoteattr(href)}/>")
        elif tag == "author":
            name = text_node(draw(TEXT), False)
            email = draw(st.sampled_from(["", "<email>jan@vlm.be</email>"]))
            parts.append(f"<author><name>{name}</name>{email}</author>")
        elif tag == "category":
            parts.append(f"<category term={quoteattr(draw(TEXT))}/>")
        else:
            kind = ""
            if tag in ("title", "summary", "content"):
                kind = draw(st.sampled_from(["", ' type="text"', ' type="html"']))
            value = draw(DATES) if tag in ("published", "updated") else draw(TEXT)
            parts.append(f"<{tag}{kind}>{text_node(value, draw(st.booleans()))}</{tag}>")
    return "".join(parts)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(items=st.lists(rss_items(), max_size=4), headers=st.sampled_from(HEADERS))
def test_random_rss_items_give_the_same_items(items: list[str], headers: tuple[str, str]) -> None:
    both_ways(rss(*items), *headers)


@SETTINGS
@given(entries=st.lists(atom_entries(), max_size=4), headers=st.sampled_from(HEADERS))
def test_random_atom_entries_give_the_same_items(
    entries: list[str], headers: tuple[str, str]
) -> None:
    both_ways(atom(*entries), *headers)


# Elements and attributes in any order, known or not, repeated or not: whatever the fast path
# accepts, it must read as feedparser does.
FUZZ_CHILDREN = [
    "<title>t</title>",
    "<title></title>",
    "<dc:title>d</dc:title>",
    "<link>https://x.example/l</link>",
    "<link>rel</link>",
    '<atom:link href="/h"/>',
    '<atom:link rel="self" href="/s"/>',
    "<guid>g</guid>",
    '<guid isPermaLink="false">p</guid>',
    "<description>&lt;b&gt;d&lt;/b&gt;</description>",
    "<summary>s</summary>",
    "<content:encoded>c</content:encoded>",
    "<author>jan@vlm.be (Jan)</author>",
    "<dc:creator>Ann</dc:creator>",
    "<pubDate>Mon, 02 Mar 2026 10:15:00 +0100</pubDate>",
    "<dc:date>2026-03-01</dc:date>",
    "<category>c</category>",
    "<source>s</source>",
    "<media:title>m</media:title>",
    '<media:content url="/m"><media:title>mt</media:title></media:content>',
    '<media:group><media:thumbnail url="/t"/></media:group>',
    "<itunes:duration>1</itunes:duration>",
    "<itunes:author>i</itunes:author>",
    "<slash:comments>2</slash:comments>",
    '<x:y xmlns:x="urn:x">z</x:y>',
    '<x:title xmlns:x="urn:x">z</x:title>',
    "<foo><title>nested</title></foo>",
    "<foo>bar</foo>",
    "<image><title>i</title></image>",
    '<description xml:base="https://b.example/">&lt;a href="x"&gt;x&lt;/a&gt;</description>',
    "<comments>/c</comments>",
    "<date>d</date>",
]


@SETTINGS
@given(
    items=st.lists(st.lists(st.sampled_from(FUZZ_CHILDREN), max_size=7), max_size=3),
    channel=st.lists(st.sampled_from(FUZZ_CHILDREN), max_size=3),
    headers=st.sampled_from(HEADERS),
)
def test_random_structures_give_the_same_items(
    items: list[list[str]], channel: list[str], headers: tuple[str, str]
) -> None:
    body = rss(*("".join(children) for children in items)).replace(
        b"<description>Test</description>",
        b"<description>Test</description>" + "".join(channel).encode(),
    )
    both_ways(body, *headers)


# --- dates ---------------------------------------------------------------------------------------


def two_digits(low: int = 0, high: int = 99) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


RFC822_DATES = st.builds(
    lambda wd, d, mo, y, h, mi, s, tz: f"{wd}, {d} {mo} {y} {h}:{mi}:{s} {tz}",
    st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    two_digits(0, 32),
    st.sampled_from("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    two_digits(0, 25),
    two_digits(0, 61),
    two_digits(0, 61),
    st.one_of(
        st.sampled_from(["GMT", "UT", "Z"]),
        st.builds(
            lambda sign, h, m: f"{sign}{h}{m}", st.sampled_from("+-"), two_digits(), two_digits()
        ),
    ),
)
RFC3339_DATES = st.builds(
    lambda y, mo, d, h, mi, s, frac, tz: f"{y}-{mo}-{d}T{h}:{mi}:{s}{frac}{tz}",
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    two_digits(0, 13),
    two_digits(0, 32),
    two_digits(0, 25),
    two_digits(0, 61),
    two_digits(0, 61),
    st.one_of(st.just(""), st.integers(0, 10**9 - 1).map(lambda n: f".{n}"), st.just(".999999999")),
    st.one_of(
        st.just("Z"),
        st.builds(
            lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"), two_digits(), two_digits()
        ),
    ),
)


@settings(max_examples=600, deadline=None)
@given(value=st.one_of(RFC822_DATES, RFC3339_DATES, DATES))
def test_dates_are_read_as_feedparser_reads_them(value: str) -> None:
    from feedparser.datetimes import _parse_date

    assert parse_date(value) == _parse_date(value)
