"""Several collectors: the poller collects only the sources it holds a lease on. Real RSS feeds
on a loopback server, the leases in a real PostgreSQL (tests/pgserver.py), the mentions in the
files' store (one data directory, a handle per collector); short leases, moved on in the
database where a test waits for one to end, and a look every 50 ms: a hand-over takes moments,
not 15 s."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

from sources.poller import Poller  # noqa: E402
from sources.rss import RSSSource  # noqa: E402
from store import Store  # noqa: E402
from store.postgres.connection import Database, open_database  # noqa: E402
from store.postgres.leases import PostgresLeases  # noqa: E402
from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from tests.test_poller import running, wait_for, write_config  # noqa: E402
from webcare.config import StoreSettings  # noqa: E402
from webcare.intake import Intake  # noqa: E402
from webcare.store_port import SourceLeases  # noqa: E402

FEEDS = ["nieuws", "alert", "forum"]
PER_FEED = 3
LEASE = 3.0  # seconds: long enough that a busy test machine does not lose one by a slow renewal
LOOK = 0.05  # seconds between looks at the leases
SHORT_LEASE = 0.5  # for a test that waits for one to run out
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def rss(feed: str) -> bytes:
    items = "".join(
        f"<item><title>VLM {feed} {i}</title><guid isPermaLink=\"false\">urn:{feed}:{i}</guid>"
        f"<description>Een vraag aan de VLM ({feed} {i}).</description></item>"
        for i in range(PER_FEED)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{feed}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def database(pg_database: PgDatabase) -> Iterator[Database]:
    db = open_database(StoreSettings(pg_database.url, pg_database.password_env, 8, 1), "collector")
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def feeds(tmp_path: Path, feed_server: FeedServer) -> list[dict[str, object]]:
    return [
        {"name": feed, "url": feed_server.serve(f"/{feed}.xml", rss(feed), etag=f'"{feed}-1"'), "every": "0.05s"}
        for feed in FEEDS
    ]


def collector(tmp_path: Path, feeds: list[dict[str, object]], leases: SourceLeases, **options: object) -> Poller:
    """A collector: its own handle on the data directory, its own leases."""
    config = write_config(tmp_path, feeds)
    rss_sources = [RSSSource.from_config(sc, config) for sc in config.sources]
    return Poller(rss_sources, Intake(config), Store(config.data_dir), leases=leases, renew_every=LOOK, **options)  # type: ignore[arg-type]


def stored_ids(tmp_path: Path) -> list[str]:
    return [m.id for m in Store(tmp_path / "data").load()]


def fetched_by(poller: Poller) -> set[str]:
    return {name for name, h in poller.health.items() if h.last_attempt is not None}


async def test_two_collectors_share_the_sources_and_store_each_mention_once(
    tmp_path: Path, feeds: list[dict[str, object]], database: Database, pg_database: PgDatabase,
    feed_server: FeedServer,
) -> None:
    first_leases = PostgresLeases(database, "first:1", lease=LEASE)
    second_leases = PostgresLeases(database, "second:2", lease=LEASE)
    # The second was there first for one (long enough for both to start: its poller renews it).
    assert PostgresLeases(database, "second:2", lease=60).hold(["forum"], NOW) == {"forum"}
    told: list[tuple[list[str], list[str]]] = []
    first = collector(tmp_path, feeds, first_leases, on_held=lambda gained, lost: told.append((gained, lost)))
    second = collector(tmp_path, feeds, second_leases)
    async with running(first):
        # The first to look takes every source that is free: all but the one the second holds.
        await wait_for(lambda: first.held == {"nieuws", "alert"})
        async with running(second):
            await wait_for(lambda: second.held == {"forum"})
            await wait_for(lambda: len(stored_ids(tmp_path)) == len(FEEDS) * PER_FEED)
            await wait_for(lambda: all(len(feed_server.requests_for(f"/{f}.xml")) >= 3 for f in FEEDS))
            assert (first.held, second.held) == ({"nieuws", "alert"}, {"forum"})
            # Each collector's health is of its own sources, and names it.
            health = first.health_record()
            assert health["collector"]["name"] == "first:1"
            assert set(health["sources"]) == {"nieuws", "alert"}
            assert {r["collector"] for r in health["sources"].values()} == {"first:1"}
            assert {r["state"] for r in health["sources"].values()} == {"ok"}
            assert set(second.health_record()["sources"]) == {"forum"}
    assert told[0] == (["nieuws", "alert"], [])
    # Each source was fetched by its holder alone.
    assert fetched_by(first) == {"nieuws", "alert"} and fetched_by(second) == {"forum"}
    ids = stored_ids(tmp_path)
    assert len(ids) == len(set(ids)) == len(FEEDS) * PER_FEED
    # A clean stop lets go: nothing is held now, nothing is said to be collected.
    assert first.held == set() and first.health_record()["sources"] == {}
    assert pg_database.psql("SELECT count(*) FROM source_leases") == "0"


async def test_the_sources_of_a_collector_that_died_are_taken_when_its_leases_end(
    tmp_path: Path, feeds: list[dict[str, object]], database: Database, pg_database: PgDatabase,
    feed_server: FeedServer,
) -> None:
    # A collector collected every feed, saved where each was and died: it renews no more.
    dead = collector(tmp_path, feeds, PostgresLeases(database, "dead:1", lease=LEASE))
    assert await dead.poll_once() == len(FEEDS) * PER_FEED
    assert PostgresLeases(database, "dead:1", lease=60).hold(FEEDS, NOW) == set(FEEDS)
    before = len(feed_server.requests)

    leases = PostgresLeases(database, "alive:2", lease=LEASE)
    alive = collector(tmp_path, feeds, leases)
    async with running(alive):
        await wait_for(lambda: leases.free_in is not None)  # it looked, and found them held
        # Not while the dead one's leases last: no source is collected by two at once.
        assert alive.held == set() and len(feed_server.requests) == before
        # Its last renewal was a while ago: its leases end in a moment.
        pg_database.psql("UPDATE source_leases SET expires = now() + interval '0.2 seconds'")
        await wait_for(lambda: alive.held == set(FEEDS))
        await wait_for(lambda: all(len(feed_server.requests_for(f"/{f}.xml")) >= 2 for f in FEEDS))
        assert pg_database.psql("SELECT DISTINCT holder FROM source_leases WHERE expires > now()") == "alive:2"
    # It went on from the dead one's checkpoints: the feeds it had read answer "not modified",
    # and nothing is stored twice.
    after = feed_server.requests[before:]
    assert after and {r.status for r in after} == {304}
    assert sorted(stored_ids(tmp_path)) == sorted(set(stored_ids(tmp_path)))
    assert len(stored_ids(tmp_path)) == len(FEEDS) * PER_FEED


async def test_a_source_taken_by_another_collector_stops_here(
    tmp_path: Path, feeds: list[dict[str, object]], database: Database, pg_database: PgDatabase,
    feed_server: FeedServer,
) -> None:
    told: list[tuple[list[str], list[str]]] = []
    poller = collector(tmp_path, feeds, PostgresLeases(database, "here:1", lease=LEASE),
                       on_held=lambda gained, lost: told.append((gained, lost)))  # fmt: skip
    async with running(poller):
        await wait_for(lambda: poller.held == set(FEEDS))
        # Its lease on the forum ran out (the collector was stalled) and another took it:
        pg_database.psql("UPDATE source_leases SET holder = 'there:2', expires = now() + interval '1 hour' "
                         "WHERE source = 'forum'")  # fmt: skip
        await wait_for(lambda: poller.held == {"nieuws", "alert"})
        asked = len(feed_server.requests_for("/forum.xml"))
        await wait_for(lambda: len(feed_server.requests_for("/nieuws.xml")) >= asked + 5)
        assert len(feed_server.requests_for("/forum.xml")) == asked  # stopped, not asked again
        assert set(poller.health_record()["sources"]) == {"nieuws", "alert"}  # the forum is the other's
    assert told[-1] == ([], ["forum"])
    # Its clean stop let go of its own leases only.
    assert pg_database.psql("SELECT source || '=' || holder FROM source_leases") == "forum=there:2"


async def test_while_the_database_is_away_it_collects_until_its_leases_would_have_ended(
    tmp_path: Path, feeds: list[dict[str, object]], database: Database, pg_database: PgDatabase,
    feed_server: FeedServer,
) -> None:
    poller = collector(tmp_path, feeds, PostgresLeases(database, "here:1", lease=SHORT_LEASE))
    server, name = pg_database.server, pg_database.name
    async with running(poller) as task:
        await wait_for(lambda: poller.held == set(FEEDS))
        server.psql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        await wait_for(lambda: poller.lease_error != "")
        assert "source leases of collector here:1 not renewed" in poller.health_record()["collector"]["lease_error"]
        # Another collector may take them once they would have run out: it stops collecting.
        await wait_for(lambda: poller.held == set())
        asked = len(feed_server.requests)
        await asyncio.sleep(0.3)
        assert len(feed_server.requests) == asked and not task.done()  # stopped, not crashed
        server.psql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await wait_for(lambda: poller.held == set(FEEDS))  # back, it takes them again
        await wait_for(lambda: len(feed_server.requests) > asked)
        assert poller.lease_error == "" and "lease_error" not in poller.health_record()["collector"]


async def test_on_the_files_one_collector_holds_every_source(
    tmp_path: Path, feeds: list[dict[str, object]], feed_server: FeedServer
) -> None:
    """The data directory's collector lease: the process that holds it collects everything;
    another collects nothing until the first stops, then everything."""
    config = write_config(tmp_path, feeds)
    holder = Store(config.data_dir)
    assert holder.try_collector_lease()
    other = Store(config.data_dir)
    poller = collector(tmp_path, feeds, other.source_leases("other:2"))
    poller.store = other
    async with running(poller):
        await asyncio.sleep(LOOK * 3)
        assert poller.held == set() and feed_server.requests == []
        holder.release_collector_lease()  # the collector stopped
        await wait_for(lambda: poller.held == set(FEEDS))
        await wait_for(lambda: len(stored_ids(tmp_path)) == len(FEEDS) * PER_FEED)
        assert not Store(config.data_dir).try_collector_lease()  # it is the collector now
    assert Store(config.data_dir).try_collector_lease()  # and let go when it stopped


COLLECTOR = """
import asyncio, json, sys
from pathlib import Path
from sources.poller import Poller
from sources.rss import RSSSource
from store import Store
from store.postgres.connection import open_database
from store.postgres.leases import PostgresLeases
from webcare.config import StoreSettings, load
from webcare.intake import Intake

config_path, name, url = sys.argv[1:4]
config = load(Path(config_path))
database = open_database(StoreSettings(url, "", 2, 5), "collector")
poller = Poller(
    [RSSSource.from_config(sc, config) for sc in config.sources], Intake(config), Store(config.data_dir),
    leases=PostgresLeases(database, name, lease=float(sys.argv[4])), renew_every=0.05,
    on_held=lambda gained, lost: print(json.dumps([gained, lost]), flush=True),
)
try:
    asyncio.run(poller.run())
except KeyboardInterrupt:
    pass
"""


def holders(db: PgDatabase) -> str:
    return db.psql("SELECT string_agg(DISTINCT holder, ',') FROM source_leases WHERE expires > now()")


async def test_a_collector_process_killed_hands_its_sources_to_another(
    tmp_path: Path, feeds: list[dict[str, object]], pg_database: PgDatabase, feed_server: FeedServer
) -> None:
    """Two collector processes on one database and one data directory; the one collecting is
    killed (no clean stop); the other takes its sources when its leases end, and goes on
    from its checkpoints: nothing is stored twice."""
    import signal
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    write_config(tmp_path, feeds)
    root = Path(__file__).resolve().parent.parent
    env = {"PYTHONPATH": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def start(name: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", COLLECTOR, str(config), name, pg_database.socket_url, str(LEASE)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = start("first")
    second = None
    try:
        await wait_for(lambda: len(stored_ids(tmp_path)) == len(FEEDS) * PER_FEED, timeout=30)
        assert holders(pg_database) == "first"
        second = start("second")
        await asyncio.sleep(1.0)  # it runs, and finds every source held
        assert holders(pg_database) == "first" and second.poll() is None
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = len(feed_server.requests)
        await wait_for(lambda: holders(pg_database) == "second", timeout=LEASE + 10)
        every_feed = {f"/{f}.xml" for f in FEEDS}
        await wait_for(lambda: {r.path for r in feed_server.requests[killed:]} == every_feed)
        # From the first's checkpoints: each feed asked for "only if changed since" (a request
        # the first had sent as it was killed may be among them: it asked the same).
        after = feed_server.requests[killed:]
        assert {(r.path, r.headers.get("if-none-match")) for r in after} == {(f"/{f}.xml", f'"{f}-1"') for f in FEEDS}
        ids = stored_ids(tmp_path)
        assert len(ids) == len(set(ids)) == len(FEEDS) * PER_FEED
        second.send_signal(signal.SIGINT)  # a clean stop lets go at once
        out, err = second.communicate(timeout=20)
        assert second.returncode == 0, err
        assert json.loads(out.splitlines()[0]) == [FEEDS, []]
        assert pg_database.psql("SELECT count(*) FROM source_leases") == "0"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
