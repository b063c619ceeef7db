"""The store contract: what every store behind webcare.store_port.MentionStore must do.

Written against the port only, and run for every implementation in IMPLEMENTATIONS (the
TinyDB store of store/ now; the next store adds itself there). An implementation gives:
`open(place)`, a new handle on the store at `place` (two handles on one place are two desks),
and `child`, Python source that opens a handle as `store` on `sys.argv[1]` in another process.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: F401
from webcare.drafts import Draft
from webcare.handover import Note
from webcare.mention import Mention
from webcare.planning import PlanItem
from webcare.queue import MentionQueue
from webcare.store_port import MentionStore, StoreChanges, VersionConflict

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Implementation:
    name: str
    open: Callable[[Any], MentionStore]  # a handle on the store at `place`
    child: str  # opens `store` on sys.argv[1] in a child process
    child_arg: Callable[[Any], str] = str  # what a child gets as sys.argv[1] for `place`


def _tinydb(place: Path) -> MentionStore:
    from store.store import Store

    return Store(place, segment_size=5)  # small segments: every test crosses several


@dataclasses.dataclass
class PgPlace:
    """The PostgreSQL store's `place`: a test's database, and the handles opened on it (closed
    when the test ends, so no test leaves connections behind)."""

    database: PgDatabase
    opened: list[Any] = dataclasses.field(default_factory=list)


def _postgresql(place: PgPlace) -> MentionStore:
    from store.postgres.mentions import open_postgres
    from webcare.config import StoreSettings

    settings = StoreSettings(place.database.url, password_env=place.database.password_env, pool=3, connect_timeout=5)
    store = open_postgres(settings, "desk")
    place.opened.append(store)
    return store


IMPLEMENTATIONS = [
    Implementation(
        "tinydb",
        _tinydb,
        "from pathlib import Path\nfrom store.store import Store\nstore = Store(Path(sys.argv[1]), segment_size=5)\n",
    ),
    Implementation(
        "postgresql",
        _postgresql,
        "from store.postgres.mentions import open_postgres\nfrom webcare.config import StoreSettings\n"
        "store = open_postgres(StoreSettings(sys.argv[1], pool=2), 'collector')\n",
        child_arg=lambda place: place.database.socket_url,
    ),
]


@pytest.fixture(params=IMPLEMENTATIONS, ids=lambda i: i.name)
def impl(request) -> Implementation:
    return request.param


@pytest.fixture
def place(request, impl: Implementation, tmp_path: Path) -> Iterator[Any]:
    if impl.name != "postgresql":
        yield tmp_path / "data"
        return
    pg = PgPlace(request.getfixturevalue("pg_database"))
    yield pg
    for store in pg.opened:
        store.close()


def mention(mention_id: str, n: int = 0, **fields: Any) -> Mention:
    seen = T0 + timedelta(minutes=n)
    base = Mention(
        id=mention_id, source="demo", channel="x", author=f"boer_{n}", author_name=f"Boer {n}",
        text=f"Waarom duurt mijn aangifte zo lang? ({mention_id})", title="",
        url=f"https://x.example/status/{mention_id}", published_at=seen - timedelta(minutes=3),
        first_seen_at=seen, deadline=seen + timedelta(hours=2), norm_s=7200, reach=100 + n,
    )
    return base.replaced(**fields)


def run_children(impl: Implementation, place: Path, body: str, count: int) -> list[Any]:
    """Run `count` child processes at once, each with `store` open and `me` its number; each
    prints one JSON line, returned in order."""
    source = "import json, sys\n" + impl.child + "me = int(sys.argv[2])\n" + textwrap.dedent(body)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen([sys.executable, "-c", source, impl.child_arg(place), str(i)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(count)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


# --- mentions ------------------------------------------------------------------------------


def test_a_store_is_a_mention_store(impl, place):
    assert isinstance(impl.open(place), MentionStore)


def test_add_keeps_each_id_once(impl, place):
    store = impl.open(place)
    assert [m.id for m in store.add([mention(f"m{i}", i) for i in range(7)])] == [f"m{i}" for i in range(7)]
    again = store.add([mention("m3", 3), mention("m7", 7), mention("m7", 7)])
    assert [m.id for m in again] == ["m7"]
    assert len(store) == 8 and "m7" in store and "m8" not in store
    assert len(impl.open(place)) == 8  # another handle sees the same
    assert impl.open(place).add([mention("m1", 1)]) == []  # and knows them as stored


def test_get_and_mentions_by_id(impl, place):
    impl.open(place).add([mention(f"m{i}", i) for i in range(12)])
    store = impl.open(place)
    m = store.get("m4")
    assert m is not None and m.text == mention("m4", 4).text and m.deadline == mention("m4", 4).deadline
    assert store.get("nope") is None
    got = store.mentions(["m11", "nope", "m0", "m6"])
    assert sorted(m.id for m in got) == ["m0", "m11", "m6"]
    assert {m.id: m.author for m in got} == {"m0": "boer_0", "m6": "boer_6", "m11": "boer_11"}


def test_rows_hold_the_queue_columns_of_every_mention(impl, place):
    writer = impl.open(place)
    writer.add([
        mention("a", 0),
        mention("b", 1, deadline=None, norm_s=None),  # news: no norm
        mention("c", 2, priority="urgent", reach=25_000),
        mention("d", 3, parent="a"),
    ])
    writer.update_state("b", {"status": "closed"}, "close", "an")
    rows = impl.open(place).rows()
    assert sorted(i for block in rows for i in block.ids) == ["a", "b", "c", "d"]
    columns = {}
    for block in rows:
        for i, d, f, norm, r in zip(block.ids, block.deadlines, block.first_seen, block.norms, block.reach, strict=True):
            columns[i] = (d, f, norm, r)
    assert columns["a"] == (mention("a", 0).deadline.timestamp(), T0.timestamp(), 7200, 100)
    assert columns["b"][0] is None and columns["b"][2] is None
    statuses = {k: v for block in rows for k, v in block.statuses.items()}
    assert statuses == {"b": ("closed", False)}
    assert {k: v for block in rows for k, v in block.priorities.items()} == {"c": "urgent"}
    assert {k: v for block in rows for k, v in block.parents.items()} == {"d": "a"}


def test_a_queue_from_rows_orders_as_one_from_mentions(impl, place):
    made = [
        mention(f"m{i}", i, reach=[None, 50, 2_000, 30_000][i % 4],
                priority="urgent" if i % 9 == 0 else "normal",
                **({"deadline": None, "norm_s": None} if i % 5 == 0 else {}))
        for i in range(23)
    ]
    store = impl.open(place)
    store.add(made)
    store.update_state("m3", {"status": "responded"}, "reply", "an")
    fresh = impl.open(place)
    from_rows = MentionQueue(rows=fresh.rows(), fetch=fresh.mentions)
    from_mentions = MentionQueue(fresh.mentions([m.id for m in made]))
    assert [m.id for m in from_rows] == [m.id for m in from_mentions]
    assert from_rows.new_count == from_mentions.new_count == 22


def test_mentions_since_and_every_mention(impl, place):
    impl.open(place).add([mention(f"m{i}", i) for i in range(12)])
    store = impl.open(place)
    assert sorted(m.id for m in store.mentions_since(T0 + timedelta(minutes=9))) == ["m10", "m11", "m9"]
    assert sorted(m.id for m in store.every_mention()) == sorted(f"m{i}" for i in range(12))


# --- state changes -------------------------------------------------------------------------


def test_a_state_change_with_the_expected_version(impl, place):
    store = impl.open(place)
    store.add([mention("m", 0)])
    state = store.update_state("m", {"status": "responding"}, "reply", "an", version=0)
    assert state is not None and state["status"] == "responding" and len(state["history"]) == 1
    other = impl.open(place)
    other.update_state("m", {"category": "vraag"}, "category", "jan", version=1)
    with pytest.raises(VersionConflict) as caught:  # `store` last saw version 1: someone was quicker
        store.update_state("m", {"status": "closed"}, "close", "an", version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    m = impl.open(place).get("m")
    assert m.status == "responding" and m.category == "vraag" and len(m.history) == 2  # nothing overwritten
    assert store.update_state("m", {"status": "closed"}, "close", "an", expect={"status": "new"}) is None
    assert store.update_state("m", {"status": "closed"}, "close", "an", version=len(m.history))["status"] == "closed"
    assert impl.open(place).get("m").history[-1]["before"] == {"status": "responding"}
    with pytest.raises(KeyError):
        store.update_state("nope", {"status": "closed"}, "close", "an")


def test_changes_since_the_cursor_seen_by_a_second_handle(impl, place):
    collector = impl.open(place)
    collector.add([mention("a", 0)])
    desk = impl.open(place)
    desk.rows()
    assert not desk.changes()  # the cursor starts at rows()
    collector.add([mention("b", 1), mention("c", 2)])
    collector.update_state("a", {"status": "closed"}, "close", "jan")
    assert sorted(m.id for m in collector.changes().new) == ["a", "b", "c"]  # its own adds, once
    seen = desk.changes()
    assert isinstance(seen, StoreChanges)
    assert sorted(m.id for m in seen.new) == ["b", "c"]
    assert seen.states["a"]["status"] == "closed"
    assert not desk.changes()  # the cursor moved on
    desk.update_state("b", {"status": "responding"}, "reply", "an")
    assert "b" not in desk.changes().states  # a handle's own change is not news to it
    assert collector.changes().states["b"]["status"] == "responding"


def test_changes_from_another_process(impl, place):
    impl.open(place).add([mention("a", 0)])
    desk = impl.open(place)
    desk.rows()
    run_children(impl, place, """
        from datetime import UTC, datetime
        from webcare.mention import Mention
        seen = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
        store.add([Mention(id="from-child", source="demo", channel="x", author="kind", text="hallo",
                           first_seen_at=seen, published_at=seen)])
        store.update_state("a", {"status": "closed"}, "close", "child")
        print(json.dumps(len(store)))
    """, 1)
    seen = desk.changes()
    assert [m.id for m in seen.new] == ["from-child"] and seen.states["a"]["status"] == "closed"


def test_two_writers_at_once_lose_nothing(impl, place):
    impl.open(place).add([mention("shared", 0)])
    run_children(impl, place, """
        from datetime import UTC, datetime, timedelta
        from webcare.mention import Mention
        from webcare.store_port import VersionConflict
        seen = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
        conflicts = 0
        for batch in range(6):
            store.add([Mention(id=f"w{me}-{batch}-{i}", source="demo", channel="x", author="a",
                               text="t", first_seen_at=seen + timedelta(seconds=i),
                               published_at=seen) for i in range(7)])
            for _ in range(4):  # a counter on one mention, read and written back with its version
                while True:
                    m = store.get("shared")
                    n = int(m.category or 0)
                    try:
                        store.update_state("shared", {"category": str(n + 1)}, "count", f"w{me}",
                                           version=len(m.history))
                        break
                    except VersionConflict:
                        conflicts += 1
        print(json.dumps(conflicts))
    """, 2)
    store = impl.open(place)
    assert len(store) == 1 + 2 * 6 * 7
    shared = store.get("shared")
    assert shared.category == "48" and len(shared.history) == 48  # every increment kept, once
    assert [h["changes"]["category"] for h in shared.history] == [str(n) for n in range(1, 49)]


# --- what else a store holds -----------------------------------------------------------------


def test_plan(impl, place):
    store, other = impl.open(place), impl.open(place)
    item = store.plan.add(PlanItem.new("Persbericht mestbank", date=T0.date(), now=T0))
    assert other.plan.get(item.id).title == "Persbericht mestbank"
    other.plan.all()
    assert not other.plan.changed()
    store.plan.update(item.id, {"title": "Persbericht mestbank (def.)"}, at=T0)
    assert other.plan.changed() and other.plan.get(item.id).title == "Persbericht mestbank (def.)"
    assert store.plan.update(item.id, {"title": "x"}, expect={"title": "oud"}) is None
    gone = store.plan.delete(item.id)
    assert other.plan.all() == []
    store.plan.restore(gone)
    assert [i.id for i in other.plan.all()] == [item.id]


def test_journals(impl, place):
    store, other = impl.open(place), impl.open(place)
    store.notes.add(Note(T0, "an", "Bel de boer van m4 terug"))
    store.notes.add(Note(T0 + timedelta(hours=2), "jan", "Persvraag loopt"))
    assert [n.text for n in other.notes.since(T0 + timedelta(hours=1))] == ["Persvraag loopt"]
    before = other.crisis.signature()
    store.crisis.add(T0, "an", "start", "Storing e-loket")
    store.crisis.add(T0 + timedelta(minutes=5), "jan", "decision", "Bericht op de website")
    assert other.crisis.signature() != before
    assert [e.kind for e in other.crisis.current()] == ["start", "decision"]
    store.crisis.add(T0 + timedelta(hours=1), "an", "end")
    assert other.crisis.current() == [] and len(other.crisis.entries()) == 3


def test_presence(impl, place):
    an = impl.open(place).presence("an")
    jan = impl.open(place).presence("jan")
    an.publish(T0, viewing="m1", claim="m1", claim_since=T0)
    jan.publish(T0, viewing="m2", claim=None, claim_since=None)
    others = jan.others(T0 + timedelta(seconds=5))
    assert [(d.operator, d.viewing, d.claim) for d in others] == [("an", "m1", "m1")]
    assert jan.others(T0 + timedelta(hours=1)) == []  # a stale heartbeat: that desk is gone
    an.leave()
    assert jan.others(T0 + timedelta(seconds=6)) == []


def test_drafts(impl, place):
    store, other = impl.open(place), impl.open(place)
    store.drafts.save(Draft("m1", "an", "Beste boer, ", T0))
    other.drafts.save(Draft("m2", "jan", "Dag, ", T0))
    assert sorted(store.drafts.all()) == ["m1", "m2"]  # neither lost the other's
    assert other.drafts.get("m1").text == "Beste boer, "
    store.drafts.apply({"m1": None, "m3": Draft("m3", "an", "Hallo", T0)})
    assert sorted(other.drafts.all()) == ["m2", "m3"]
    other.drafts.remove("m2", "m3")
    assert store.drafts.all() == {}


def test_checkpoints(impl, place):
    store = impl.open(place)
    assert store.read_checkpoint("rss vlm") is None
    scrubs = store.checkpoint_scrubs()
    assert store.write_checkpoint("rss vlm", {"etag": "abc"}, scrubs=scrubs)
    assert impl.open(place).read_checkpoint("rss vlm") == {"etag": "abc"}
    assert not store.write_checkpoint("rss vlm", {"etag": "def"}, scrubs=scrubs + 1)  # an erasure came between
    assert impl.open(place).read_checkpoint("rss vlm") == {"etag": "abc"}


def test_health_and_the_collector_lease(impl, place):
    store, other = impl.open(place), impl.open(place)
    store.write_health({"heartbeat": T0.isoformat(), "sources": {"rss": "ok"}})
    other.record_housekeeping({"backup": "ok"})
    store.write_health({"heartbeat": (T0 + timedelta(minutes=1)).isoformat()})
    health = other.read_health()
    assert health["heartbeat"] == (T0 + timedelta(minutes=1)).isoformat()
    assert health["housekeeping"] == {"backup": "ok"}  # the collector's heartbeat keeps the chores' record
    assert store.try_collector_lease() and not other.try_collector_lease()
    store.release_collector_lease()
    assert other.try_collector_lease()
    other.close()
    store.close()


def test_source_leases_give_each_source_one_collector(impl, place):
    """What every store's source leases do (a store may split the sources among collectors or,
    like the files, give all of them to one): a source is held by one collector at a time, a
    collector keeps what it holds, and a clean stop lets another take them at once."""
    store, other = impl.open(place), impl.open(place)
    names = ["nieuws", "alert"]
    first, second = store.source_leases("one:1"), other.source_leases("two:2")
    assert first.collector == "one:1"
    assert first.hold(names, T0) == set(names)
    assert second.hold(names, T0) == set()
    assert first.hold(names, T0 + timedelta(seconds=5)) == set(names)  # renewed, still its own
    first.release()
    assert second.hold(names, T0 + timedelta(seconds=6)) == set(names)
    assert first.hold(names, T0 + timedelta(seconds=7)) == set()
    second.release()
    other.close()
    store.close()


def test_content_blocks_newest_first(impl, place):
    impl.open(place).add([mention(f"m{i}", i) for i in range(12)])
    blocks = list(impl.open(place).content_blocks())
    ids = [r["id"] for block in blocks for r in block]
    assert sorted(ids) == sorted(f"m{i}" for i in range(12))
    assert "m11" in [r["id"] for r in blocks[0]] and "m0" in [r["id"] for r in blocks[-1]]
    assert {r["id"]: r["author"] for block in blocks for r in block}["m4"] == "boer_4"


def test_handoffs(impl, place):
    store, other = impl.open(place), impl.open(place)
    key = store.handoffs.record("m1", kind="question", to="expert@vlm.example", name="Expert", at=T0)
    [sent] = other.handoffs.of("m1")
    assert sent.key == key and sent.to == "expert@vlm.example" and sent.answered_at is None
    other.handoffs.answered("m1", key, T0 + timedelta(hours=1), ref="<a@vlm.example>")
    assert store.handoffs.of("m1")[0].answered_at == T0 + timedelta(hours=1)
    assert store.handoffs.of("m2") == []


def test_alert_marks(impl, place):
    store, other = impl.open(place), impl.open(place)
    limits = [("team", 1), ("chef", 5)]
    assert store.alert_marks.claim("urgent:m1", "urgent", limits, T0) == ["team", "chef"]
    assert other.alert_marks.claim("urgent:m1", "urgent", limits, T0) == []  # once, whoever sends
    assert other.alert_marks.claim("urgent:m2", "urgent", limits, T0) == ["chef"]  # team is full
    assert store.alert_marks.take_summaries(limits, T0 + timedelta(minutes=11)) == [("team", {"urgent": 1})]
    assert other.alert_marks.take_summaries(limits, T0 + timedelta(minutes=11)) == []


def test_digest_marks(impl, place):
    store, other = impl.open(place), impl.open(place)
    day = T0.date()
    with store.digests.sending() as mine, other.digests.sending() as theirs:
        assert mine and not theirs  # one sender at a time
        store.digests.mark(day, T0, sent="Els@example.org")
        store.digests.mark(day, T0, error="refused")
    assert other.digests.sent(day) == {"els@example.org"} and other.digests.failed_at(day) == T0
    assert other.digests.read()[day.isoformat()]["error"] == "refused"
