"""The poller with real RSS sources against a loopback server and a real store on disk."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)

from sources.poller import BACKOFF_BASE, BACKOFF_MAX, Poller, backoff_delay
from sources.rss import RSSSource
from store import Store
from webcare.config import Config, load
from webcare.intake import Intake

FEEDS = Path(__file__).parent / "feeds"
RSS20 = (FEEDS / "rss20.xml").read_bytes()
ATOM = (FEEDS / "atom.xml").read_bytes()
MATCHING_RSS20 = 3  # of its 4 entries, the weather report mentions none of the keywords


def write_config(tmp_path: Path, sources: list[dict[str, object]]) -> Config:
    lines = [
        "[desk]",
        'name = "Vlaamse Landmaatschappij"',
        f"data_dir = {json.dumps(str(tmp_path / 'data'))}",
    ]
    lines += ["", "[watch]", 'keywords = ["VLM", "mestbank"]']
    for source in sources:
        lines += ["", "[[sources]]", 'type = "rss"']
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load(path)


def make_poller(
    tmp_path: Path, sources: list[dict[str, object]], **store_options: object
) -> tuple[Poller, Store]:
    config = write_config(tmp_path, sources)
    store = Store(config.data_dir, **store_options)  # type: ignore[arg-type]
    rss = [RSSSource.from_config(sc, config) for sc in config.sources]
    return Poller(rss, Intake(config), store), store  # type: ignore[arg-type]


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(poller: Poller):
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_poll_once_stores_new_mentions_once(tmp_path: Path, feed_server: FeedServer) -> None:
    poller, store = make_poller(
        tmp_path,
        [
            {"name": "nieuws", "url": feed_server.serve("/rss.xml", RSS20, etag='"r1"')},
            {
                "name": "alert",
                "url": feed_server.serve("/atom.xml", ATOM, etag='"a1"'),
                "channel": "web",
            },
        ],
    )
    assert await poller.poll_once() == MATCHING_RSS20 + 2
    assert (poller.health["nieuws"].fetched, poller.health["alert"].fetched) == (4, 2)
    assert (poller.health["nieuws"].new, poller.health["alert"].new) == (MATCHING_RSS20, 2)
    assert await poller.poll_once() == 0
    assert [r.status for r in feed_server.requests].count(304) == 2

    mentions = Store(store.data_dir).load()  # as another desk on the same data directory sees it
    assert len(mentions) == MATCHING_RSS20 + 2
    by_title = {m.title: m for m in mentions}
    loketten = by_title["VLM opent nieuwe loketten voor de mestbank"]
    assert (loketten.source, loketten.channel, loketten.author) == (
        "nieuws",
        "news",
        "Jan Janssens",
    )
    assert loketten.url == "https://news.example.org/2026/03/mestbank-loketten"
    assert {m.channel for m in mentions if m.source == "alert"} == {"web"}
    assert {h["state"] for h in store.read_health()["sources"].values()} == {"ok"}
    assert (poller.health["nieuws"].new, poller.health["alert"].new) == (0, 0)


async def test_many_feeds_at_once_and_one_entry_in_two_feeds(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feeds = [{"name": f"feed {i}", "url": feed_server.serve(f"/{i}.xml", RSS20)} for i in range(3)]
    feeds += [
        {"name": f"alert {i}", "url": feed_server.serve(f"/a{i}.xml", ATOM)} for i in range(20)
    ]
    poller, store = make_poller(tmp_path, feeds)
    # The same guid in the same channel is the same mention, however many feeds carry it.
    assert await poller.poll_once() == MATCHING_RSS20 + 2
    assert sum(h.new for h in poller.health.values()) == MATCHING_RSS20 + 2
    assert len(Store(store.data_dir).load()) == MATCHING_RSS20 + 2


async def test_a_failing_feed_does_not_stop_the_others(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    poller, store = make_poller(
        tmp_path,
        [
            {"name": "good", "url": feed_server.serve("/good.xml", RSS20)},
            {"name": "broken", "url": feed_server.serve("/broken.xml", b"oops", status=500)},
            {
                "name": "not a feed",
                "url": feed_server.serve("/page.html", (FEEDS / "page.html").read_bytes()),
            },
        ],
    )
    assert await poller.poll_once() == MATCHING_RSS20
    health = store.read_health()["sources"]
    assert health["good"]["state"] == "ok"
    assert health["broken"]["state"] == "failing"
    assert health["broken"]["last_error"] == "HTTP 500 Internal Server Error"
    assert health["broken"]["failures"] == 1
    assert health["not a feed"]["state"] == "failing"
    assert health["not a feed"]["last_error"].startswith("not a feed:")

    # It recovers when the server does.
    feed_server.serve("/broken.xml", ATOM)
    assert await poller.poll_once() == 2
    assert store.read_health()["sources"]["broken"]["state"] == "ok"


async def test_rate_limited_feed_waits_for_retry_after(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/busy.xml", status=429, headers={"Retry-After": "3600"})
    poller, store = make_poller(tmp_path, [{"name": "busy", "url": url, "every": "0.05s"}])
    async with running(poller):
        await wait_for(lambda: poller.health["busy"].next_attempt is not None)
        await asyncio.sleep(0.3)  # many intervals: it must not ask again
    health = poller.health["busy"]
    assert health.state == "rate-limited"
    assert health.last_error.startswith("HTTP 429")
    assert (health.next_attempt - health.last_attempt).total_seconds() >= 3600
    assert len(feed_server.requests_for("/busy.xml")) == 1
    assert store.read_health()["sources"]["busy"]["state"] == "rate-limited"


def test_backoff_delay() -> None:
    low, high = (lambda: 0.0), (lambda: 0.999)
    assert backoff_delay(1, None, low) == BACKOFF_BASE / 2
    assert backoff_delay(2, None, low) == BACKOFF_BASE
    assert backoff_delay(3, None, low) == BACKOFF_BASE * 2
    assert backoff_delay(1, None, high) < BACKOFF_BASE * 1.5
    assert backoff_delay(50, None, high) <= BACKOFF_MAX * 1.5  # capped
    assert backoff_delay(10_000, None, low) == BACKOFF_MAX / 2  # no overflow after weeks of failing
    assert backoff_delay(1, 3600.0, high) == 3600.0  # never sooner than Retry-After
    assert backoff_delay(1, 1.0, low) == BACKOFF_BASE / 2  # but no sooner than the backoff either


async def test_polls_of_one_feed_never_overlap(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/slow.xml", RSS20, delay=0.25)
    poller, _ = make_poller(tmp_path, [{"name": "slow", "url": url, "every": "0.01s"}])
    async with running(poller):
        await wait_for(lambda: len(feed_server.requests_for("/slow.xml")) >= 4)
    assert feed_server.max_in_flight["/slow.xml"] == 1
    assert poller.health["slow"].state == "ok"


@pytest.mark.parametrize(("keyword_filter", "stored"), [(True, MATCHING_RSS20), (False, 4)])
async def test_keyword_filter(
    tmp_path: Path, feed_server: FeedServer, keyword_filter: bool, stored: int
) -> None:
    url = feed_server.serve("/rss.xml", RSS20)
    poller, store = make_poller(
        tmp_path, [{"name": "nieuws", "url": url, "keyword_filter": keyword_filter}]
    )
    assert await poller.poll_once() == stored
    titles = {m.title for m in store.load()}
    assert ("Weerbericht: zon en wolken" in titles) is not keyword_filter
    assert "VLM opent nieuwe loketten voor de mestbank" in titles


async def test_what_could_not_be_stored_is_fetched_again(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/rss.xml", RSS20, etag='"r1"')
    poller, store = make_poller(tmp_path, [{"name": "nieuws", "url": url}], lock_timeout=0.1)
    with FileLock(str(store.data_dir / "write.lock")):  # another process holds the store
        assert await poller.poll_once() == 0
    assert poller.health["nieuws"].state == "failing"
    assert "write lock" in poller.health["nieuws"].last_error
    # Not a 304 now: what the failed poll fetched is fetched (and stored) again.
    assert await poller.poll_once() == MATCHING_RSS20
    assert len(Store(store.data_dir).load()) == MATCHING_RSS20
