"""The RSS/Atom source against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)

from sources.rss import RSSSource, html_to_text, parse_feed, parse_in_worker
from sources.source import OptionError, SourceError
from webcare.config import Config, load
from webcare.intake import Intake

FEEDS = Path(__file__).parent / "feeds"
RSS20 = (FEEDS / "rss20.xml").read_bytes()
ATOM = (FEEDS / "atom.xml").read_bytes()


def write_config(
    tmp_path: Path,
    sources: list[dict[str, object]],
    keywords: tuple[str, ...] = ("VLM", "mestbank"),
) -> Config:
    lines = [
        "[desk]",
        'name = "Vlaamse Landmaatschappij"',
        f"data_dir = {json.dumps(str(tmp_path / 'data'))}",
    ]
    lines += ["", "[watch]", f"keywords = {json.dumps(list(keywords))}"]
    for source in sources:
        lines += ["", "[[sources]]", 'type = "rss"']
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load(path)


def rss_source(tmp_path: Path, url: str, **options: object) -> RSSSource:
    config = write_config(tmp_path, [{"name": "feed", "url": url, **options}])
    return RSSSource.from_config(config.sources[0], config)


async def fetch(source: RSSSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


async def fetch_error(source: RSSSource) -> SourceError:
    with pytest.raises(SourceError) as info:
        await fetch(source)
    message = str(info.value)
    assert message and "\n" not in message  # one line, for the header
    return info.value


def big_feed(size: int, version: str = "2.0") -> bytes:
    """An RSS feed of about `size` bytes. RSS 0.92 (`version="0.92"`) is left to feedparser by
    the fast path: seconds per few MB, for the time-limit tests."""
    item = (
        b"<item><guid>g%d</guid><title>VLM item %d</title><link>https://e.org/%d</link>"
        b"<description>%s</description></item>\n"
    )
    head = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="%s"><channel><title>Big</title>\n'
        % version.encode()
    )
    parts, n, total = [head], 0, len(head)
    while total < size:
        part = item % (n, n, n, b"Vlaamse Landmaatschappij " * 40)
        parts.append(part)
        total += len(part)
        n += 1
    parts.append(b"</channel></rss>\n")
    return b"".join(parts)


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(tmp_path: Path) -> None:
    source = rss_source(tmp_path, "https://example.org/alerts.xml")
    assert source.type == "rss"
    assert source.name == "feed"
    assert source.channel == "news"
    assert source.interval == 300
    assert source.timeout == 20
    assert source.max_bytes == 10 * 1024**2
    assert source.keyword_filter is True


def test_from_config_own_values(tmp_path: Path) -> None:
    source = rss_source(
        tmp_path,
        "http://example.org/r.xml",
        channel="Reddit",
        every="1m",
        timeout="5s",
        max_bytes="512kB",
        keyword_filter=False,
    )
    assert (source.channel, source.interval, source.timeout) == ("reddit", 60, 5)
    assert source.max_bytes == 512 * 1024
    assert source.keyword_filter is False


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "url"),
        ({"url": "ftp://example.org/feed.xml"}, "url"),
        ({"url": "example.org/feed.xml"}, "url"),
        ({"url": "https://example.org/a.xml", "ulr": "x"}, "ulr"),
        ({"url": "https://example.org/a.xml", "every": "often"}, "every"),
        ({"url": "https://example.org/a.xml", "keyword_filter": "yes"}, "keyword_filter"),
        ({"url": "https://example.org/a.xml", "max_bytes": "lots"}, "max_bytes"),
        ({"url": "https://example.org/a.xml", "channel": "carrier pigeon"}, "channel"),
    ],
)
def test_from_config_errors_name_the_key(
    tmp_path: Path, options: dict[str, object], key: str
) -> None:
    config = write_config(tmp_path, [{"name": "feed", **options}])
    with pytest.raises(OptionError, match=f"^{key}:"):
        RSSSource.from_config(config.sources[0], config)


# --- fetching and converting ---------------------------------------------------------------


async def test_rss20_entries_become_items(tmp_path: Path, feed_server: FeedServer) -> None:
    source = rss_source(tmp_path, feed_server.serve("/rss.xml", RSS20), channel="news")
    items = await fetch(source)
    assert [i.title for i in items] == [
        "VLM opent nieuwe loketten voor de mestbank",
        "Boeren vragen uitleg over bemesting, VLM antwoordt",
        "Lezersbrief over de mestbank",
        "Weerbericht: zon en wolken",
    ]
    first, second, third, _ = items
    assert first.key == "urn:news:1001"  # the guid
    assert second.key == "https://news.example.org/2026/03/bemesting"  # no guid: the link
    assert third.key and third.url == ""  # neither: a hash of what it says
    assert {i.channel for i in items} == {"news"}
    assert first.author == "Jan Janssens"
    assert second.author == "Nieuws uit Vlaanderen"  # no author: the feed's title
    assert first.url == "https://news.example.org/2026/03/mestbank-loketten"
    assert first.published_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert first.published_at.utcoffset() == timedelta(0)
    assert third.published_at is None


async def test_atom_entries_become_items(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/atom.xml", ATOM, content_type="application/atom+xml")
    items = await fetch(rss_source(tmp_path, url))
    assert len(items) == 2
    first, second = items
    assert first.key == "tag:google.com,2013:googlealerts/feed:111"
    assert first.title == "VLM investeert in natuur & landbouw"  # type="html" title as text
    assert first.author == "Krant van West-Vlaanderen"
    assert first.url == "https://www.example.be/artikel/111"
    assert first.published_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert (
        first.text == f"De VLM investeert in natuur ({feed_server.url('/natuur')})."
    )  # made absolute
    assert second.author == "Google Alert - VLM"
    assert second.published_at == datetime(
        2026, 3, 1, 9, 0, tzinfo=UTC
    )  # <updated> when no <published>


async def test_html_summary_becomes_plain_text(tmp_path: Path, feed_server: FeedServer) -> None:
    items = await fetch(rss_source(tmp_path, feed_server.serve("/rss.xml", RSS20)))
    text = items[0].text
    assert text == (
        "De Vlaamse Landmaatschappij (VLM) opent loketten & zitdagen.\n\n"
        "Meer info op de site van de mestbank (https://www.vlm.be/mestbank)."
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("a &amp; b &lt;c&gt; &#233; &eacute;", "a & b <c> é é"),
        ("<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree"),
        ("<ul><li>x</li><li>y</li></ul>", "- x\n- y"),
        ('<a href="https://e.org/x">https://e.org/x</a>', "https://e.org/x"),  # not twice
        ('<a href="javascript:alert(1)">klik</a>', "klik"),
        ('<a href="mailto:info@vlm.be">mail ons</a>', "mail ons (info@vlm.be)"),
        ("<style>p{}</style><script>x()</script>kept", "kept"),
        ("[@click=app.quit]x[/] [b]bold[/b]", "[@click=app.quit]x[/] [b]bold[/b]"),  # not markup
        ("<p>unclosed <a href='https://e.org/u'>link", "unclosed link (https://e.org/u)"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


async def test_conditional_get_200_then_304(tmp_path: Path, feed_server: FeedServer) -> None:
    last_modified = "Mon, 02 Mar 2026 09:00:00 GMT"
    url = feed_server.serve("/rss.xml", RSS20, etag='"v1"', last_modified=last_modified)
    source = rss_source(tmp_path, url)
    assert len(await fetch(source)) == 4
    assert await fetch(source) == []  # no error, no items
    first, second = feed_server.requests_for("/rss.xml")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == last_modified
    assert (first.status, second.status) == (200, 304)

    # The feed changes: the next fetch gets it in full, with the same keys for the same entries.
    changed = RSS20.replace(
        b"<item>", b"<item><title>Nieuw: VLM</title><guid>urn:news:1002</guid></item><item>", 1
    )
    feed_server.serve("/rss.xml", changed, etag='"v2"')
    items = await fetch(source)
    assert [i.key for i in items][:2] == ["urn:news:1002", "urn:news:1001"]
    assert feed_server.requests_for("/rss.xml")[-1].status == 200


async def test_a_failed_parse_is_not_remembered(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/f.xml", b"<html><body>oops</body></html>", etag='"bad"', content_type="text/html"
    )
    source = rss_source(tmp_path, url)
    await fetch_error(source)
    feed_server.serve("/f.xml", RSS20, etag='"bad"')  # fixed, same ETag
    assert len(await fetch(source)) == 4  # asked in full, not with If-None-Match "bad"
    assert "if-none-match" not in feed_server.requests_for("/f.xml")[-1].headers


async def test_ids_are_stable_across_fetches(tmp_path: Path, feed_server: FeedServer) -> None:
    config = write_config(tmp_path, [{"name": "feed", "url": feed_server.serve("/rss.xml", RSS20)}])
    intake = Intake(config)
    now = datetime.now(UTC)

    async def mention_ids() -> list[str]:
        source = RSSSource.from_config(config.sources[0], config)  # as after a restart
        return [
            m.id for i in await fetch(source) if (m := intake.admit(i, source.name, False, now))
        ]

    first = await mention_ids()
    assert len(set(first)) == 4
    assert await mention_ids() == first


async def test_hostile_text_stays_literal_data_through_intake(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = write_config(
        tmp_path,
        [
            {
                "name": "feed",
                "url": feed_server.serve("/evil.xml", (FEEDS / "hostile.xml").read_bytes()),
            }
        ],
    )
    source = RSSSource.from_config(config.sources[0], config)
    items = await fetch(source)
    assert len(items) == 1
    mention = Intake(config).admit(items[0], source.name, source.keyword_filter, datetime.now(UTC))
    assert mention is not None
    assert "[@click=app.quit]x[/]" in mention.text
    assert mention.title.startswith("[bold red]VLM[/]")
    assert "red" in mention.text and "evil reversed" in mention.text
    for field in (mention.text, mention.title, mention.author):
        assert "\x1b" not in field and "\x07" not in field and "\u202e" not in field


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (429, "http-date", 3600.0),
        (503, "30", 30.0),
    ],
)
async def test_rate_limited_gives_retry_after(
    tmp_path: Path, feed_server: FeedServer, status: int, retry_after: str, expected: float
) -> None:
    if retry_after == "http-date":
        retry_after = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    url = feed_server.serve("/busy.xml", status=status, headers={"Retry-After": retry_after})
    error = await fetch_error(rss_source(tmp_path, url))
    assert f"HTTP {status}" in str(error)
    assert error.retry_after == pytest.approx(expected, abs=5)


async def test_server_error(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/broken.xml", b"oops", status=500)
    error = await fetch_error(rss_source(tmp_path, url))
    assert str(error) == "HTTP 500 Internal Server Error"
    assert error.retry_after is None


async def test_slow_server_times_out(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/slow.xml", RSS20, delay=3.0)
    error = await fetch_error(rss_source(tmp_path, url, timeout="0.3s"))
    assert str(error) == "timed out after 0.3 s"


async def test_nobody_listening(tmp_path: Path) -> None:
    server = FeedServer()  # bound, then closed: nothing listens on its port
    url = server.url("/feed.xml")
    server.stop()
    error = await fetch_error(rss_source(tmp_path, url))
    assert str(error).startswith("cannot connect to 127.0.0.1")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            (FEEDS / "page.html").read_bytes(),
            "text/html",
            "not a feed: the address gives a web page",
        ),
        ((FEEDS / "plain.txt").read_bytes(), "text/plain", "not a feed: not XML"),
        (b'{"items": []}', "application/json", "not a feed: the address gives JSON"),
        (b"   \n", "application/rss+xml", "not a feed: the response is empty"),
        (RSS20[: len(RSS20) * 2 // 3], "application/rss+xml", "malformed feed: cut short"),
        (RSS20[:-10], "application/rss+xml", "malformed feed: cut short"),
        (
            (FEEDS / "bomb.xml").read_bytes(),
            "application/rss+xml",
            "malformed feed: it declares XML entities",
        ),
    ],
    ids=[
        "html-page",
        "plain-text",
        "json",
        "empty",
        "truncated",
        "truncated-end",
        "billion-laughs",
    ],
)
async def test_malformed_feeds_give_a_clear_error(
    tmp_path: Path, feed_server: FeedServer, body: bytes, content_type: str, message: str
) -> None:
    source = rss_source(tmp_path, feed_server.serve("/bad.xml", body, content_type=content_type))
    error = await fetch_error(source)
    assert str(error).startswith(message)
    # The process (and its parser pool) carries on.
    assert len(await fetch(rss_source(tmp_path, feed_server.serve("/good.xml", RSS20)))) == 4


async def test_bozo_but_readable_feed_gives_its_entries(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Declared UTF-8 but written in Latin-1, with an &nbsp; that XML does not know.
    url = feed_server.serve("/latin1.xml", (FEEDS / "latin1.xml").read_bytes())
    items = await fetch(rss_source(tmp_path, url))
    assert len(items) == 4
    assert "Zonder link en met é" in items[2].text


@pytest.fixture(scope="module")
def forty_megabytes() -> bytes:
    return big_feed(40 * 1024**2)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_feed_over_the_size_cap(
    tmp_path: Path, feed_server: FeedServer, forty_megabytes: bytes, chunked: bool
) -> None:
    url = feed_server.serve("/huge.xml", forty_megabytes, chunked=chunked)
    error = await fetch_error(rss_source(tmp_path, url))
    assert str(error) == "feed larger than 10 MB"
    # It stopped reading: the server could not send the whole 40 MB.
    assert feed_server.bytes_sent.get("/huge.xml", 0) < 30 * 1024**2
    assert len(await fetch(rss_source(tmp_path, feed_server.serve("/good.xml", RSS20)))) == 4


async def test_a_parse_over_its_time_limit_is_stopped(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with pytest.raises(SourceError, match="^malformed feed: parsing took longer than 0.01 s$"):
        await parse_in_worker(big_feed(3 * 1024**2, version="0.92"), time_limit=0.01)
    # The stuck worker was ended and a new pool parses the next feed.
    parsed = await parse_in_worker(RSS20)
    assert len(parsed["entries"]) == 4


async def test_a_stopped_parse_does_not_fail_the_others() -> None:
    async def stuck() -> None:
        with pytest.raises(SourceError, match="took longer"):
            await parse_in_worker(big_feed(3 * 1024**2, version="0.92"), time_limit=0.3)

    # The other feed parses beside the stuck one, in the pool whose workers get ended.
    results = await asyncio.gather(stuck(), parse_in_worker(big_feed(1024**2)))
    assert results[1]["entries"][0]["title"] == "VLM item 0"


@pytest.mark.parametrize(
    ("body", "parser"),
    [(RSS20, "fast"), (ATOM, "fast"), ((FEEDS / "latin1.xml").read_bytes(), "feedparser")],
    ids=["rss20", "atom", "not-well-formed"],
)
async def test_the_worker_parses_well_formed_feeds_on_the_fast_path(
    body: bytes, parser: str
) -> None:
    headers = ("application/rss+xml", "https://news.example.org/")
    parsed = await parse_in_worker(body, *headers)
    assert parsed["parser"] == parser
    assert parsed["entries"] == parse_feed(body, *headers, fast=False)["entries"]
