"""Several collectors on one database: each source leased to one collector at a time
(store/postgres/leases.py), against a real PostgreSQL (tests/pgserver.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

from store.jsonstorage import StoreError  # noqa: E402
from store.postgres.connection import Database, connect, open_database  # noqa: E402
from store.postgres.leases import PostgresLeases, leases  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from webcare.config import StoreSettings  # noqa: E402
from webcare.store_port import SOURCE_LEASE, SourceLeases  # noqa: E402

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # the callers' clock: the database's decides
SOURCES = ["nieuws", "alert", "mastodon"]
ROOT = Path(__file__).resolve().parent.parent


def settings(db: PgDatabase, pool: int = 2, connect_timeout: int = 5) -> StoreSettings:
    return StoreSettings(db.url, db.password_env, pool, connect_timeout)


@pytest.fixture
def database(pg_database: PgDatabase) -> Iterator[Database]:
    db = open_database(settings(pg_database, pool=8), "collector")
    try:
        yield db
    finally:
        db.close()


def table(db: PgDatabase) -> dict[str, str]:
    """source → holder, as the database holds it now (unexpired leases only)."""
    rows = db.psql("SELECT source, holder FROM source_leases WHERE expires > now() ORDER BY source")
    return dict(line.split("|") for line in rows.splitlines())


def test_each_source_has_one_holder(database: Database, pg_database: PgDatabase) -> None:
    first: SourceLeases = PostgresLeases(database, "a:1")  # the port's protocol (mypy checks)
    second = PostgresLeases(database, "b:2")
    assert first.hold(["nieuws", "alert"], NOW) == {"nieuws", "alert"}
    assert first.free_in is None  # nobody else holds any of them
    # The second collector gets what is free, never what the first holds.
    assert second.hold(SOURCES, NOW) == {"mastodon"}
    assert second.free_in is not None and 0 < second.free_in <= SOURCE_LEASE
    assert first.hold(SOURCES, NOW) == {"nieuws", "alert"}  # renewed; mastodon is the second's
    assert table(pg_database) == {"alert": "a:1", "mastodon": "b:2", "nieuws": "a:1"}
    with database.pool.connection() as conn:
        held = {lease.source: lease for lease in leases(conn)}
    assert {s: lease.holder for s, lease in held.items()} == {"alert": "a:1", "mastodon": "b:2", "nieuws": "a:1"}
    # A lease lasts 15 s from its renewal, by the database's clock.
    assert all(SOURCE_LEASE - 5 < lease.left <= SOURCE_LEASE for lease in held.values())


def test_a_collector_that_stops_renewing_hands_its_sources_on_within_the_lease(
    database: Database, pg_database: PgDatabase
) -> None:
    dead, alive = PostgresLeases(database, "dead:1"), PostgresLeases(database, "alive:2")
    assert dead.hold(SOURCES, NOW) == set(SOURCES)
    assert alive.hold(SOURCES, NOW) == set()
    assert alive.free_in is not None and SOURCE_LEASE - 5 < alive.free_in <= SOURCE_LEASE  # look again then
    # 15 s pass without a renewal (the database's clock, moved by moving the leases back):
    pg_database.psql("UPDATE source_leases SET expires = expires - interval '14.5 seconds'")
    assert alive.hold(SOURCES, NOW) == set()  # not yet
    assert alive.free_in is not None and alive.free_in <= 0.5
    pg_database.psql("UPDATE source_leases SET expires = expires - interval '0.5 seconds'")
    assert alive.hold(SOURCES, NOW) == set(SOURCES)
    assert table(pg_database) == dict.fromkeys(SOURCES, "alive:2")
    # The one that stopped comes back: what it held is another's now, and it is told so.
    assert dead.hold(SOURCES, NOW) == set()


def test_a_short_lease_runs_out_by_itself(database: Database) -> None:
    """The same with real time passing: a lease of 0.3 s, not renewed, is free after it."""
    dead, alive = PostgresLeases(database, "dead:1", lease=0.3), PostgresLeases(database, "alive:2", lease=0.3)
    assert dead.hold(["nieuws"], NOW) == {"nieuws"}
    assert alive.hold(["nieuws"], NOW) == set()
    assert alive.free_in is not None
    time.sleep(alive.free_in + 0.05)
    assert alive.hold(["nieuws"], NOW) == {"nieuws"}


def test_collectors_racing_for_the_same_sources_get_one_each(database: Database, pg_database: PgDatabase) -> None:
    names = [f"feed {i}" for i in range(20)]
    racers = [PostgresLeases(database, f"racer:{i}") for i in range(8)]
    start = threading.Barrier(len(racers))
    won: dict[str, set[str]] = {}

    def race(leases: PostgresLeases) -> None:
        start.wait()
        # Each from a different end: they meet in the middle rather than one taking all.
        order = names if int(leases.collector.split(":")[1]) % 2 else names[::-1]
        won[leases.collector] = leases.hold(order, NOW)

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    taken = [name for held in won.values() for name in held]
    assert sorted(taken) == sorted(names)  # every source taken, none by two
    assert table(pg_database) == {name: holder for holder, held in won.items() for name in held}

    # The same race over expired leases: again one winner each.
    pg_database.psql("UPDATE source_leases SET expires = now() - interval '1 second'")
    again = [PostgresLeases(database, f"late:{i}") for i in range(4)]
    won_again: dict[str, set[str]] = {}
    start_again = threading.Barrier(len(again))

    def race_again(leases: PostgresLeases) -> None:
        start_again.wait()
        won_again[leases.collector] = leases.hold(names, NOW)

    threads = [threading.Thread(target=race_again, args=(r,)) for r in again]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    taken = [name for held in won_again.values() for name in held]
    assert sorted(taken) == sorted(names)


def test_release_frees_only_its_own_at_once(database: Database, pg_database: PgDatabase) -> None:
    first, second = PostgresLeases(database, "a:1"), PostgresLeases(database, "b:2")
    assert first.hold(["nieuws", "alert"], NOW) == {"nieuws", "alert"}
    assert second.hold(["mastodon"], NOW) == {"mastodon"}
    first.release()  # a clean stop
    assert table(pg_database) == {"mastodon": "b:2"}
    assert second.hold(SOURCES, NOW) == set(SOURCES)  # no waiting for the lease to run out
    assert first.hold([], NOW) == set()


def test_a_database_that_went_away_is_a_store_error_saying_so(pg_database: PgDatabase) -> None:
    db = open_database(settings(pg_database, pool=1, connect_timeout=1), "collector")
    try:
        lease = PostgresLeases(db, "a:1")
        assert lease.hold(SOURCES, NOW) == set(SOURCES)
        # The database refuses new connections and drops the ones it has (a failover, a restart).
        pg_database.server.psql(f"ALTER DATABASE {pg_database.name} ALLOW_CONNECTIONS false")
        pg_database.server.psql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{pg_database.name}'"
        )
        with pytest.raises(StoreError) as caught:
            lease.hold(SOURCES, NOW)
        said = str(caught.value)
        assert said.startswith(f"database webcare@127.0.0.1:{pg_database.server.port}/{pg_database.name}: "
                               "source leases of collector a:1 not renewed: ")
        assert pg_database.password_env not in said
        # Back: the next renewal works again, on a new connection.
        pg_database.server.psql(f"ALTER DATABASE {pg_database.name} ALLOW_CONNECTIONS true")
        deadline = time.monotonic() + 10
        while True:
            try:
                assert lease.hold(SOURCES, NOW) == set(SOURCES)
                break
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        db.close()


def test_an_idle_check_reads_the_leases_without_the_pool(database: Database, pg_database: PgDatabase) -> None:
    PostgresLeases(database, "a:1").hold(["nieuws"], NOW)
    with connect(settings(pg_database), "check") as conn:
        [lease] = leases(conn)
    assert (lease.source, lease.holder) == ("nieuws", "a:1") and lease.expires.tzinfo is not None


def test_webcare_check_says_which_collector_collects_which_source(
    database: Database, pg_database: PgDatabase, tmp_path: Path
) -> None:
    sources = "".join(
        f'\n[[sources]]\ntype = "rss"\nname = "{name}"\nurl = "https://{name}.example.org/feed.xml"\n'
        for name in SOURCES
    )
    config = write_config(tmp_path, pg_database.store_table() + sources)
    PostgresLeases(database, "web1:4711:ab12").hold(["nieuws", "mastodon"], NOW)
    PostgresLeases(database, "gone:1:cd34", lease=0.001).hold(["alert"], NOW)  # ran out
    run = subprocess.run(
        [sys.executable, "-m", "webcare.cli", "check", "--config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "database: collector web1:4711:ab12 collects mastodon, nieuws\n" in run.stdout
    assert "database: no collector collects alert (none runs, or its lease ran out)\n" in run.stdout
