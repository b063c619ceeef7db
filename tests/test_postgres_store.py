"""The store on PostgreSQL, what only it does (the port's contract is in test_store_contract.py):
desks told of each other's changes through NOTIFY, changes committed out of order not skipped,
concurrent writers, the collector lease of a process that died, and a server restarted under a
handle. Against a real server (tests/pgserver.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.pgserver import PgDatabase, PgServer, pg_database_fixture, pg_server_fixture  # noqa: F401
from webcare.config import StoreSettings
from webcare.mention import Mention
from webcare.store_port import VersionConflict

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

from psycopg.types.json import Jsonb  # noqa: E402

from store.jsonstorage import StoreError  # noqa: E402
from store.postgres.mentions import PostgresStore, open_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def mention(mention_id: str, n: int = 0) -> Mention:
    seen = T0 + timedelta(minutes=n)
    return Mention(id=mention_id, source="demo", channel="x", author=f"boer_{n}", text=f"Vraag {mention_id}",
                   first_seen_at=seen, published_at=seen, deadline=seen + timedelta(hours=2), norm_s=7200)  # fmt: skip


@pytest.fixture
def stores(pg_database: PgDatabase) -> Iterator[Any]:
    """open(): a new handle (a desk or a collector) on the test's database; all closed after."""
    opened: list[PostgresStore] = []

    def open_one(connect_timeout: int = 5) -> PostgresStore:
        settings = StoreSettings(pg_database.url, password_env=pg_database.password_env, pool=3,
                                 connect_timeout=connect_timeout)  # fmt: skip
        store = open_postgres(settings, "desk")
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_a_desk_hears_of_another_desks_change_and_sees_it(stores) -> None:
    an, jan = stores(), stores()
    an.add([mention("m1")])
    jan.rows()
    assert not jan.wait_for_change(0.05)  # listening from now on: the add came before
    heard: list[bool] = []
    waiting = threading.Thread(target=lambda: heard.append(jan.wait_for_change(5.0)))
    waiting.start()
    time.sleep(0.2)  # jan is listening
    an.update_state("m1", {"status": "responding"}, "reply", "an", version=0)
    waiting.join(timeout=10)
    assert heard == [True]
    assert jan.changes().states["m1"]["status"] == "responding"
    assert not jan.wait_for_change(0.1)  # nothing more
    assert not an.changes().states  # an's own change is no news to an


def test_changes_committed_out_of_order_are_not_skipped(stores, pg_database: PgDatabase) -> None:
    """Two writers at once: the first to write commits last. A reader that looked between the
    two commits still gets the late one at its next look, and each change exactly once."""
    desk = stores()
    desk.rows()
    slow = psycopg.connect(pg_database.url, password=os.environ[pg_database.password_env])
    record = mention("slow", 1).content_record()
    slow.execute(
        "INSERT INTO mentions (id, source, channel, author, first_seen, content) VALUES (%s, 'demo', 'x', %s, %s, %s)",
        ("slow", record["author"], T0, Jsonb(record)),
    )  # the transaction is open: written first (lower numbers), committed below
    stores().add([mention("quick", 2)])
    assert [m.id for m in desk.changes().new] == ["quick"]
    slow.commit()
    slow.close()
    assert [m.id for m in desk.changes().new] == ["slow"]
    assert not desk.changes()


def test_two_desks_on_one_version_one_wins_the_other_is_told(stores) -> None:
    stores().add([mention("m1")])
    desks = [stores(), stores()]
    outcome: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def change(i: int) -> None:
        barrier.wait()
        try:
            desks[i].update_state("m1", {"status": "responding"}, "reply", f"desk{i}", version=0)
            outcome[f"desk{i}"] = "saved"
        except VersionConflict as exc:
            outcome[f"desk{i}"] = f"conflict {exc.expected}->{exc.actual}"

    threads = [threading.Thread(target=change, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcome.values()) == ["conflict 0->1", "saved"]
    m = stores().get("m1")
    assert m is not None and len(m.history) == 1 and m.history[0]["who"] in outcome


def test_two_collectors_adding_the_same_mentions_store_each_once(stores) -> None:
    collectors = [stores(), stores()]
    batch = [mention(f"m{i}", i) for i in range(40)]
    added: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def add(i: int) -> None:
        barrier.wait()
        for start in range(0, 40, 5):
            added[i] += [m.id for m in collectors[i].add(batch[start : start + 5])]

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(added[0] + added[1]) == sorted(m.id for m in batch)  # each once, by one of them
    assert len(stores()) == 40


def test_the_lease_of_a_collector_that_died_is_free(stores, pg_database: PgDatabase) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom store.postgres.mentions import open_postgres\nfrom webcare.config import StoreSettings\n"
         "store = open_postgres(StoreSettings(sys.argv[1], pool=1), 'collector')\n"
         "print(store.try_collector_lease(), flush=True)\ntime.sleep(60)\n",
         pg_database.socket_url],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "True"
        store = stores()
        assert not store.try_collector_lease()
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10  # the server notices the closed socket at once, or nearly
    while not store.try_collector_lease():
        assert time.monotonic() < deadline, "the dead collector's lease was never freed"
        time.sleep(0.05)
    store.release_collector_lease()


def _restart(server: PgServer, down: Any) -> None:
    """Stop the test server (fast shutdown: every session ends), run `down()`, start it again
    on the same folder and port, as a failover or a restart does to a desk."""
    server.process.send_signal(signal.SIGINT)
    server.process.wait(timeout=30)
    try:
        down()
    finally:
        user = {"user": server.run_as[0], "group": server.run_as[1], "extra_groups": []} if server.run_as else {}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        env.pop("PGDATA", None)
        with open(server.folder / "server.log", "ab") as log:
            server.process = subprocess.Popen(
                [str(server.bin / "postgres"), "-D", str(server.folder / "data"), "-p", str(server.port),
                 "-h", "127.0.0.1", "-k", str(server.folder), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "shared_buffers=32MB",
                 "-c", "logging_collector=off"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=server.folder, **user,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while subprocess.run([str(server.bin / "pg_isready"), "-q", "-h", str(server.folder), "-p", str(server.port)],
                             capture_output=True).returncode:  # fmt: skip
            assert time.monotonic() < deadline, "the test server did not come back"
            time.sleep(0.1)


def test_a_restarted_server_is_a_clear_error_then_the_store_recovers(stores, pg_database: PgDatabase) -> None:
    desk = stores(connect_timeout=1)
    desk.add([mention("m1")])
    desk.rows()
    assert not desk.wait_for_change(0.01)  # listening

    def while_down() -> None:
        with pytest.raises(StoreError) as caught:
            desk.update_state("m1", {"status": "closed"}, "close", "an")
        assert str(caught.value).startswith(f"database unreachable: {pg_database.url.split('://')[1]}: ")
        with pytest.raises(StoreError):
            desk.wait_for_change(0.5)  # the listening connection is gone, and none can be made
        with pytest.raises(StoreError):
            desk.changes()

    _restart(pg_database.server, while_down)
    assert desk.wait_for_change(1.0)  # listening again: look, something may have changed
    assert desk.reconnected_at is not None
    # The pool makes its connections again with a backoff: the desk tries again, as after any
    # "not saved", until the change is saved.
    deadline = time.monotonic() + 30
    while True:
        try:
            state = desk.update_state("m1", {"status": "closed"}, "close", "an", version=0)
            break
        except StoreError as exc:
            assert str(exc).startswith("database unreachable: ") and time.monotonic() < deadline
            time.sleep(0.2)
    assert state is not None and state["status"] == "closed"
    assert desk.get("m1").status == "closed"
    assert not desk.changes()  # its own change


def test_a_desk_following_the_store_looks_when_another_desk_writes(stores) -> None:
    """store/follow.py, the desk's loop: a look soon after another desk's write, long before the
    fallback interval, and the look finds the change."""
    from store.follow import follow

    an, jan = stores(), stores()
    an.add([mention("m1")])
    jan.rows()
    seen: list[dict[str, Any]] = []
    looked = threading.Event()

    def look() -> None:
        changes = jan.changes()
        if changes.states:
            seen.append(changes.states)
            looked.set()

    stop = threading.Event()
    follower = threading.Thread(target=follow, args=(jan, look, stop), kwargs={"fallback": 60.0})
    follower.start()
    try:
        time.sleep(0.3)  # listening
        an.update_state("m1", {"status": "closed"}, "close", "an")
        assert looked.wait(10.0)  # far below the 60 s fallback: the NOTIFY woke it
        assert seen[0]["m1"]["status"] == "closed"
    finally:
        stop.set()
        follower.join(timeout=10)
    assert not follower.is_alive()


async def test_a_desk_on_the_database_shows_what_a_collector_stores(stores, make_config, pg_database: PgDatabase) -> None:
    """The real desk (Pilot) on a PostgresStore: what another process stores comes into its queue
    when the database says so (the desk does not poll the database every second)."""
    from tui.app import WebcareApp

    config = make_config(pg_database.store_table())
    collector = stores()
    collector.add([mention("m1", 1)])
    app = WebcareApp(config, stores(), make_poller=None)
    async with app.run_test(size=(80, 24)) as pilot:
        assert {m.id for m in app.queue} == {"m1"}
        collector.add([mention("m2", 2)])
        deadline = time.monotonic() + 5  # below the desk's 10 s fallback: the NOTIFY brought it
        while {m.id for m in app.queue} != {"m1", "m2"}:
            assert time.monotonic() < deadline, "the new mention never reached the desk"
            await pilot.pause(0.1)
