"""One post, one mention: canonical URLs, dedup across sources, replies linked to their post,
and the poller's live connections and rate-limit pauses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)

from sources.poller import Poller
from sources.rss import RSSSource
from sources.source import LiveConnection, Source, SourceError
from store import Store
from webcare.intake import Intake, Item
from webcare.links import canonical_url, unwrap

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "https://www.vrt.be/nws/artikel/?utm_source=x&utm_medium=y#comments",
            "https://vrt.be/nws/artikel",
        ),
        ("http://VRT.be:80/nws/artikel", "https://vrt.be/nws/artikel"),
        ("https://vrt.be/nws?id=2&a=1&fbclid=abc", "https://vrt.be/nws?a=1&id=2"),
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://www.hln.be/binnenland/mest%3Fx%3D1&ct=ga&cd=CAEYAA&usg=AOv",
            "https://hln.be/binnenland/mest?x=1",
        ),
        (
            "https://www.google.com/url?url=https%3A%2F%2Fwww.standaard.be%2Fcnt%2Fdmf123%3Futm_campaign%3Dga&sa=U",
            "https://standaard.be/cnt/dmf123",
        ),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fvlm.be%2Fmest&h=AT0", "https://vlm.be/mest"),
        ("https://vrt.be:8443/a", "https://vrt.be:8443/a"),
        ("mailto:info@vlm.be", ""),
        ("javascript:alert(1)", ""),
        ("not a url", ""),
        ("http://[::1", ""),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_unwrap_leaves_other_links_alone() -> None:
    assert unwrap("https://www.google.com/search?q=vlm") == "https://www.google.com/search?q=vlm"
    assert unwrap("https://www.google.com/url?q=ftp://x") == "https://www.google.com/url?q=ftp://x"


def test_the_same_article_through_an_alert_and_a_feed_is_one_mention(make_config) -> None:
    intake = Intake(make_config())
    direct = Item(
        key="guid-1",
        channel="news",
        author="HLN",
        text="VLM en de mestbank",
        url="https://www.hln.be/a?utm_source=rss",
    )
    alert = Item(
        key="tag:google.com,2013:googlealerts/feed:123",
        channel="web",
        author="Google Alerts",
        text="VLM en de mestbank",
        url="https://www.google.com/url?rct=j&sa=t&url=https://www.hln.be/a&ct=ga",
    )
    [a] = intake.admit_all([direct], "nieuws", True, NOW)
    [b] = intake.admit_all([alert], "alert", True, NOW)
    assert a.id == b.id


def test_items_sharing_one_url_in_a_fetch_keep_their_own_ids(make_config) -> None:
    """A feed that links every item to its home page: the URL says nothing about the item."""
    intake = Intake(make_config())
    items = [
        Item(
            key=f"g{i}",
            channel="news",
            author="x",
            text=f"VLM nummer {i}",
            url="https://example.org/",
        )
        for i in range(3)
    ]
    assert len({m.id for m in intake.admit_all(items, "feed", True, NOW)}) == 3


def test_a_reply_links_to_the_post_it_answers(make_config) -> None:
    intake = Intake(make_config())
    post = Item(
        key="1",
        channel="mastodon",
        author="@an",
        text="VLM mestbank?",
        url="https://m.example/@an/1",
        ref="m.example:1",
    )
    reply = Item(
        key="2",
        channel="mastodon",
        author="@jan",
        text="VLM: ik ook",
        url="https://m.example/@jan/2",
        ref="m.example:2",
        in_reply_to="m.example:1",
    )
    [p] = intake.admit_all([post], "mast", True, NOW)
    [r] = intake.admit_all([reply], "mast", True, NOW)
    assert (r.parent, r.in_reply_to, p.parent) == (p.id, "m.example:1", "")
    # Both in one fetch, the reply first: still linked.
    intake = Intake(make_config())
    r2, p2 = intake.admit_all([reply, post], "mast", True, NOW)
    assert r2.parent == p2.id
    # The same ref on another channel is another post.
    other = Item(key="9", channel="bluesky", author="@x", text="VLM", in_reply_to="m.example:1")
    [o] = intake.admit_all([other], "bsky", True, NOW)
    assert o.parent == ""


def test_reply_details_are_stored_as_plain_values(make_config, tmp_path: Path) -> None:
    intake = Intake(make_config())
    item = Item(
        key="k",
        channel="email",
        author="burger@example.org",
        text="VLM vraag",
        ref="<abc@example.org>",
        reply_meta={
            "message_id": "<abc@example.org>",
            "references": ["<a@x>", "<b@x>"],
            "junk": object(),
            "n": 3,
        },
    )
    [m] = intake.admit_all([item], "mail", True, NOW)
    assert m.reply_meta == {
        "message_id": "<abc@example.org>",
        "references": ["<a@x>", "<b@x>"],
        "n": 3,
    }
    store = Store(tmp_path / "d")
    store.add([m])
    again = Store(tmp_path / "d").get(m.id)
    assert again is not None and (again.ref, again.reply_meta) == (m.ref, m.reply_meta)


class LiveSource(Source, LiveConnection):
    """A source whose live connection brings what the test puts on a queue."""

    type = "test"
    keyword_filter = False
    can_live = True  # type: ignore[assignment]

    def __init__(self) -> None:
        self.name = "live"
        self.interval = 3600.0
        self.queue: asyncio.Queue[list[Item] | Exception] = asyncio.Queue()
        self.connects = 0
        self.pause_s: float | None = None

    async def fetch(self, client: object) -> list[Item]:
        return []

    async def live(self, client: object) -> AsyncIterator[list[Item]]:
        self.connects += 1
        yield []
        while True:
            batch = await self.queue.get()
            if isinstance(batch, Exception):
                raise batch
            yield batch


async def wait_until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_live_batches_are_stored_and_a_dropped_connection_comes_back(
    make_config, tmp_path: Path
) -> None:
    config = make_config()
    store = Store(tmp_path / "data")
    source = LiveSource()
    poller = Poller([source], Intake(config), store, rng=lambda: 0.0)  # type: ignore[list-item]
    import sources.poller as poller_module

    task = asyncio.create_task(poller.run())
    old_base = poller_module.BACKOFF_BASE
    poller_module.BACKOFF_BASE = 0.05
    try:
        await wait_until(lambda: poller.health["live"].live)
        source.queue.put_nowait([Item(key="a", channel="mastodon", author="@an", text="hallo")])
        await wait_until(lambda: len(Store(store.data_dir).load()) == 1)
        source.queue.put_nowait(SourceError("stream stopped sending heartbeats"))
        await wait_until(lambda: source.connects == 2 and poller.health["live"].live)
        assert poller.health["live"].live_error == ""  # cleared once it is back
        source.queue.put_nowait([Item(key="b", channel="mastodon", author="@jo", text="nog eens")])
        await wait_until(lambda: len(Store(store.data_dir).load()) == 2)
    finally:
        poller_module.BACKOFF_BASE = old_base
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_spent_quota_pauses_the_source_until_its_reset(make_config, tmp_path: Path) -> None:
    source = LiveSource()
    source.pause_s, source.interval = 900.0, 60.0
    poller = Poller([source], Intake(make_config()), Store(tmp_path / "data"))  # type: ignore[list-item]
    async with httpx.AsyncClient() as client:
        _, delay = await poller._poll(source, client)  # type: ignore[arg-type]
    health = poller.health["live"]
    assert delay == 900.0 and health.state == "rate-limited"
    assert health.rate_limited_until is not None and health.last_error == ""


async def test_an_rss_item_and_its_google_alert_are_one_mention(
    make_config, tmp_path: Path, feed_server: FeedServer
) -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>HLN</title>
    <item><title>VLM breidt mestbank uit</title><link>https://www.hln.be/a?utm_source=rss</link><guid>hln-1</guid></item>
    </channel></rss>"""
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert - VLM</title>
    <entry><id>tag:google.com,2013:googlealerts/feed:1</id><title>VLM breidt mestbank uit</title>
    <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.hln.be/a&amp;ct=ga"/>
    <updated>2026-11-20T10:00:00Z</updated></entry></feed>"""
    config = make_config(
        f"""
        [[sources]]
        type = "rss"
        name = "hln"
        url = "{feed_server.serve("/hln.xml", rss)}"
        [[sources]]
        type = "rss"
        name = "alert"
        url = "{feed_server.serve("/alert.xml", atom)}"
        channel = "web"
        """
    )
    store = Store(config.data_dir)
    sources = [RSSSource.from_config(sc, config) for sc in config.sources]
    poller = Poller(sources, Intake(config), store)  # type: ignore[arg-type]
    assert await poller.poll_once() == 1
    assert len(Store(config.data_dir).load()) == 1


async def test_a_restarted_collector_resumes_where_it_was(make_config, feed_server: FeedServer) -> None:
    """The poller saves each source's checkpoint once what it fetched is stored, and gives it
    back after a restart: an unchanged feed is then a 304, not the whole feed again."""
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>HLN</title>
    <item><title>VLM breidt mestbank uit</title><link>https://www.hln.be/a</link><guid>hln-1</guid></item>
    </channel></rss>"""
    config = make_config(
        f"""
        [[sources]]
        type = "rss"
        name = "hln"
        url = "{feed_server.serve('/hln.xml', rss, etag='"v1"')}"
        """
    )

    def poller() -> Poller:
        sources = [RSSSource.from_config(sc, config) for sc in config.sources]
        return Poller(sources, Intake(config), Store(config.data_dir))  # type: ignore[arg-type]

    assert await poller().poll_once() == 1
    assert Store(config.data_dir).read_checkpoint("hln")["etag"] == '"v1"'
    assert await poller().poll_once() == 0  # a new process, as after a restart
    assert [r.status for r in feed_server.requests_for("/hln.xml")] == [200, 304]
    # A checkpoint for another feed (the entry was changed) is not used.
    Store(config.data_dir).write_checkpoint("hln", {"url": "https://elsewhere.example/x", "etag": '"v1"', "last_modified": None, "digest": None})
    await poller().poll_once()
    assert feed_server.requests_for("/hln.xml")[-1].status == 200
