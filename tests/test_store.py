"""The store on real files, shared by real OS processes.

Each concurrency test starts child interpreters with `python -c` that import this module and run
one of the `child_*` functions below, so the children exercise exactly the code a collector and
several desks run. Children wait for a "go" line on stdin so that they really write at the same
time, and report results as one JSON line on stdout. Every path lives in pytest's tmp_path, so
the file runs under `pytest -n 2` too.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from store.store import Store, StoreChanges
from webcare.mention import Mention

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TEXT = (
    "Waarom duurt de behandeling van mijn mestbankaangifte al drie weken? Ik heb alles op tijd "
    "ingediend via het e-loket, kreeg een ontvangstbevestiging en daarna niets meer. De VLM "
    "antwoordt niet op mails en de telefoonlijn is elke keer bezet. Wie kan mij helpen? #VLM"
)


def mention(mention_id: str, n: int = 0) -> Mention:
    """A mention with every field filled, as a collector would store it."""
    seen = T0 + timedelta(seconds=n)
    return Mention(
        id=mention_id,
        source="demo",
        channel="x",
        author=f"boer_{n}",
        author_name=f"Boer {n}",
        text=f"{TEXT} ({mention_id})",
        title="",
        url=f"https://x.example/status/{mention_id}",
        published_at=seen - timedelta(minutes=3),
        first_seen_at=seen,
        deadline=seen + timedelta(hours=2),
        norm_s=7200,
        keywords=("VLM", "mestbank"),
        reach=100 + n,
    )


def mentions(prefix: str, count: int, start: int = 0) -> list[Mention]:
    return [mention(f"{prefix}-{i}", i) for i in range(start, start + count)]


def ids(ms: list[Mention]) -> list[str]:
    return [m.id for m in ms]


# --- child processes ---------------------------------------------------------------------


def _wait_for_go() -> None:
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"


def child_add(data_dir: str, name: str, batches: str, size: str, segment_size: str) -> None:
    """Add `batches` batches of `size` own mentions plus 5 ids every writer shares per batch."""
    store = Store(Path(data_dir), segment_size=int(segment_size))
    _wait_for_go()
    fresh: list[str] = []
    for b in range(int(batches)):
        batch = mentions(f"{name}-{b}", int(size)) + mentions(f"shared-{b}", 5)
        random.shuffle(batch)
        fresh += ids(store.add(batch))
        time.sleep(random.uniform(0, 0.004))  # a collector's polls come apart; let the other in
    print(json.dumps(fresh), flush=True)


def child_update(data_dir: str, name: str, own: str, shared: str, rounds: str) -> None:
    """Change own mentions and mentions another writer changes too, one update_state each."""
    store = Store(Path(data_dir))
    store.load()
    own_ids, shared_ids = own.split(","), shared.split(",")
    _wait_for_go()
    done = []
    for r in range(int(rounds)):
        for target in (own_ids[r % len(own_ids)], shared_ids[r % len(shared_ids)]):
            what = f"{name}:{r}:{target}"
            store.update_state(target, {"status": "responding", "routed_to": name}, what, name)
            done.append(what)
            time.sleep(random.uniform(0, 0.002))
    print(json.dumps(done), flush=True)


def child_write_forever(data_dir: str, segment_size: str) -> None:
    """Write as fast as possible (adds to a big segment and state changes) until killed.

    Mentions are numbered on from what is stored, so what survives must always be 0..n-1."""
    store = Store(Path(data_dir), segment_size=int(segment_size))
    n = len(store.load())
    print("ready", flush=True)
    while True:
        store.add([mention(f"k-{n}", n)])
        store.update_state(f"k-{n}", {"status": "monitoring"}, "monitor", "killer")
        n += 1


def child_write_once(data_dir: str) -> None:
    """One new mention and one state change, as another desk or the collector would."""
    store = Store(Path(data_dir))
    store.load()
    _wait_for_go()
    store.add([mention("late-1", 99)])
    store.update_state("a-0", {"status": "responded"}, "done", "other-desk")
    print("written", flush=True)
    sys.stdin.readline()  # stay alive until the parent has looked


def child_lease(data_dir: str) -> None:
    store = Store(Path(data_dir))
    print(json.dumps(store.try_collector_lease()), flush=True)
    sys.stdin.readline()


def spawn(func: str, *args: object) -> subprocess.Popen[str]:
    """A fresh interpreter running `func(*args)` from this module."""
    code = f"import sys, test_store; test_store.{func}(*sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def start_together(children: list[subprocess.Popen[str]]) -> None:
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()


def result(child: subprocess.Popen[str]) -> object:
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def all_records(data_dir: Path, kind: str) -> dict[str, list[dict]]:
    """{segment file name: records} read with stock TinyDB, as any other tool would."""
    out = {}
    for path in sorted((data_dir / kind).glob("*.json")):
        with TinyDB(path, storage=JSONStorage, access_mode="r") as db:
            out[path.name] = db.all()
    return out


# --- adding and dedup --------------------------------------------------------------------


def test_add_dedups_by_id_within_a_batch_across_calls_and_across_handles(tmp_path: Path) -> None:
    a = Store(tmp_path)
    first = a.add([mention("m-1"), mention("m-2"), mention("m-1"), mention("m-3")])
    assert ids(first) == ["m-1", "m-2", "m-3"]
    assert ids(a.add([mention("m-2"), mention("m-4")])) == ["m-4"]
    assert a.add([mention("m-1")]) == []

    b = Store(tmp_path)  # another desk's handle, before it has loaded anything
    assert ids(b.add([mention("m-3"), mention("m-5")])) == ["m-5"]
    assert ids(a.add([mention("m-5"), mention("m-6")])) == ["m-6"]

    stored = ids(Store(tmp_path).load())
    assert sorted(stored) == ["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]
    assert "m-6" in a and len(a) == 6


def test_segments_roll_over_at_segment_size(tmp_path: Path) -> None:
    store = Store(tmp_path, segment_size=10)
    store.add(mentions("m", 25))
    store.add(mentions("m", 7, start=25))
    records = all_records(tmp_path, "mentions")
    assert list(records) == ["000001.json", "000002.json", "000003.json", "000004.json"]
    assert [len(r) for r in records.values()] == [10, 10, 10, 2]
    # Arrival order is kept across segments.
    desk = Store(tmp_path, segment_size=10)
    assert ids(desk.load()) == [f"m-{i}" for i in range(32)]
    # Full segments are not kept in memory after load(); get() reads them back.
    assert desk.get("m-0") == mention("m-0", 0) and desk.get("m-31") == mention("m-31", 31)
    assert desk.get("m-5").text == mention("m-5", 5).text


def test_load_returns_content_and_state(tmp_path: Path) -> None:
    store = Store(tmp_path, segment_size=3)
    originals = mentions("m", 5)
    store.add(originals)
    store.update_state(
        "m-4",
        {"status": "routed", "routed_to": "An Peeters", "category": "question"},
        "route",
        "jan",
    )

    loaded = {m.id: m for m in Store(tmp_path, segment_size=3).load()}
    assert loaded["m-0"] == originals[0]  # every content field round-trips, state is "new"
    routed = loaded["m-4"]
    assert (routed.text, routed.deadline, routed.keywords) == (
        originals[4].text,
        originals[4].deadline,
        ("VLM", "mestbank"),
    )
    assert (routed.status, routed.routed_to, routed.category) == (
        "routed",
        "An Peeters",
        "question",
    )
    assert [h["what"] for h in routed.history] == ["route"]
    # load() on a handle that wrote them itself returns them all too, every time.
    assert len(store.load()) == 5 and len(store.load()) == 5


def test_update_state_appends_history_and_survives_a_fresh_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.add([mention("m-1")])
    when = datetime(2026, 11, 17, 20, 15, tzinfo=UTC)
    store.update_state("m-1", {"status": "responding"}, "reply started", "jan", at=when)
    state = store.update_state(
        "m-1", {"status": "responded", "responded_at": when.isoformat()}, "done", "els"
    )
    assert state["status"] == "responded"

    again = Store(tmp_path).get("m-1")  # a handle that has not loaded yet reads it from disk
    assert again is not None
    fresh = {m.id: m for m in Store(tmp_path).load()}["m-1"]
    for m in (again, fresh):
        assert m.status == "responded" and m.responded_at == when
        assert [(h["who"], h["what"]) for h in m.history] == [
            ("jan", "reply started"),
            ("els", "done"),
        ]
        assert m.history[0]["at"] == "2026-11-17T20:15:00+00:00"
        assert datetime.fromisoformat(m.history[1]["at"]).tzinfo is not None
        assert m.history[1]["changes"]["status"] == "responded"
    with pytest.raises(KeyError):
        store.update_state("nope", {"status": "closed"}, "close", "jan")


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """Personal data: a permissive umask (002, 000) gives other accounts nothing, and the
    group nothing unless [desk] group shares it (store.modes; tests/test_modes.py)."""
    old = os.umask(0o002)
    try:
        store = Store(tmp_path)
        store.add([mention("m-1")])
        store.update_state("m-1", {"status": "closed"}, "close", "jan")
    finally:
        os.umask(old)
    for path in (tmp_path / "mentions" / "000001.json", tmp_path / "state" / "000001.json"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "mentions").stat().st_mode & 0o777 == 0o700


def test_threads_of_one_process_share_a_handle(tmp_path: Path) -> None:
    """The poller adds from worker threads while the desk polls changes() on another."""
    store = Store(tmp_path, segment_size=50)
    reported: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            reported.extend(ids(store.changes().new))

    def collect(name: str) -> None:
        for b in range(10):
            store.add(mentions(f"{name}-{b}", 10) + mentions("shared", 3))

    poller = threading.Thread(target=poll)
    poller.start()
    workers = [threading.Thread(target=collect, args=(n,)) for n in "abcd"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    poller.join()
    reported += ids(store.changes().new)
    assert len(reported) == len(set(reported)) == 4 * 10 * 10 + 3


# --- seeing what others did ----------------------------------------------------------------


def test_changes_sees_another_handles_mentions_and_state_changes(tmp_path: Path) -> None:
    collector, desk = Store(tmp_path, segment_size=4), Store(tmp_path, segment_size=4)
    collector.add(mentions("a", 3))
    assert len(desk.load()) == 3
    assert not desk.changes()  # nothing changed: nothing reported
    assert desk.changes() == StoreChanges()

    collector.add(mentions("a", 3, start=3))  # fills segment 1, opens segment 2
    collector.update_state("a-1", {"status": "monitoring"}, "monitor", "jan")
    seen = desk.changes()
    assert ids(seen.new) == ["a-3", "a-4", "a-5"]
    assert set(seen.states) == {"a-1"} and seen.states["a-1"]["status"] == "monitoring"
    assert not desk.changes()

    # The handle's own additions are reported once (the in-process collector feeds the UI).
    desk.add([mention("own-1")])
    assert ids(desk.changes().new) == ["own-1"]
    assert ids(collector.changes().new) == ["a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "own-1"]

    collector.write_health({"collector": {"pid": 1}})
    assert desk.changes().health == {"collector": {"pid": 1}}
    assert not desk.changes()


def test_changes_still_reports_others_work_after_this_handle_read_or_wrote(tmp_path: Path) -> None:
    """A desk's own reads and writes to a segment must not swallow what others did there."""
    other, desk = Store(tmp_path), Store(tmp_path)
    other.add(mentions("a", 4))
    desk.load()

    other.update_state("a-0", {"status": "monitoring"}, "monitor", "els")
    other.add([mention("b-1")])
    desk.update_state("a-1", {"status": "responding"}, "reply", "jan")  # same state segment
    assert desk.get("a-2") is not None  # reads the content segment
    desk.add([mention("own")])  # scans the content segment under the lock
    seen = desk.changes()
    assert set(seen.states) == {"a-0"}
    assert sorted(ids(seen.new)) == ["b-1", "own"]
    assert not desk.changes()
    # A mention another process added can be fetched and changed before changes() ran.
    other.add([mention("c-1")])
    assert desk.get("c-1") is not None
    desk.update_state("c-1", {"status": "closed"}, "close", "jan")
    assert ids(desk.changes().new) == ["c-1"]


def test_a_desk_sees_another_process_write_within_two_seconds(tmp_path: Path) -> None:
    desk = Store(tmp_path)
    desk.add(mentions("a", 3))
    desk.changes()
    child = spawn("child_write_once", tmp_path)
    try:
        start_together([child])
        assert child.stdout.readline().strip() == "written"
        written = time.monotonic()
        new, states = [], {}
        while time.monotonic() - written < 2 and not (new and states):
            got = desk.changes()
            new += ids(got.new)
            states.update(got.states)
            time.sleep(0.05)
        assert new == ["late-1"]
        assert states["a-0"]["status"] == "responded"
        assert states["a-0"]["history"][-1]["who"] == "other-desk"
    finally:
        child.communicate("\n", timeout=10)


# --- several processes at once -------------------------------------------------------------


def test_two_processes_adding_at_once_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    batches, size = 20, 25
    children = [spawn("child_add", tmp_path, name, batches, size, 300) for name in ("p", "q")]
    start_together(children)
    fresh = [result(c) for c in children]

    expected = {f"{n}-{b}-{i}" for n in ("p", "q") for b in range(batches) for i in range(size)}
    shared = {f"shared-{b}-{i}" for b in range(batches) for i in range(5)}
    # Each shared id was new to exactly one of the writers.
    assert sorted(fresh[0] + fresh[1]) == sorted(expected | shared)

    stored = ids(Store(tmp_path, segment_size=300).load())
    assert len(stored) == len(set(stored)) == len(expected | shared)
    writers = [k for k, _ in itertools.groupby(i[0] for i in stored if not i.startswith("shared"))]
    assert len(writers) > 2, "the two writers never took turns: this test proved nothing"
    assert set(stored) == expected | shared
    records = all_records(tmp_path, "mentions")
    assert all(len(r) <= 300 for r in records.values())
    assert sum(len(r) for r in records.values()) == len(stored)


def test_two_processes_changing_states_at_once_lose_no_history(tmp_path: Path) -> None:
    store = Store(tmp_path, segment_size=10)  # 3 segments: the two writers meet in every one
    store.add(mentions("m", 30))
    shared = ",".join(f"m-{i}" for i in range(0, 30, 3))
    own = {
        "p": ",".join(f"m-{i}" for i in range(1, 30, 3)),
        "q": ",".join(f"m-{i}" for i in range(2, 30, 3)),
    }
    children = [spawn("child_update", tmp_path, name, own[name], shared, 25) for name in ("p", "q")]
    start_together(children)
    done = [result(c) for c in children]

    history = [h for m in Store(tmp_path, segment_size=10).load() for h in m.history]
    assert sorted(h["what"] for h in history) == sorted(done[0] + done[1])
    assert len(history) == 2 * 2 * 25
    assert all(h["who"] == h["what"].split(":")[0] and h["at"] for h in history)


def test_a_writer_killed_mid_write_leaves_the_previous_state(tmp_path: Path) -> None:
    big = Store(tmp_path, segment_size=100_000)
    big.add(mentions("k", 3000))  # a ~2 MB segment: most of a writer's time is spent writing it
    rng = random.Random(4)
    count, kills, torn = 3000, 0, 0
    # Until at least one kill landed mid-write and one writer got a write in (a loaded machine
    # may need more tries: the timing is chance).
    while kills < 5 or ((torn == 0 or count == 3000) and kills < 30):
        child = spawn("child_write_forever", tmp_path, 100_000)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        kills += 1
        torn += bool(list(tmp_path.rglob("*.tmp")))  # a temporary file the writer never renamed

        for path in tmp_path.rglob("*.json"):
            orjson.loads(path.read_bytes())  # never half a file
        leftover = tmp_path / "state" / ".000001.json.crashed.tmp"
        leftover.write_bytes(b'{"_default": {"1": ')
        loaded = Store(tmp_path, segment_size=100_000).load()
        # What survived is exactly the first n mentions in order: nothing torn, nothing lost.
        assert ids(loaded) == [f"k-{i}" for i in range(len(loaded))]
        assert len(loaded) >= count
        # Each writer marks what it added; only a kill between the two writes leaves one unmarked.
        assert sum(m.status != "monitoring" for m in loaded[3000:]) <= kills
        assert not leftover.exists()  # opening a store sweeps what dead writers left
        count = len(loaded)
    assert torn and count > 3000
    # The lock the killed writers held is free again.
    after = Store(tmp_path, segment_size=100_000, lock_timeout=5)
    after.load()
    assert ids(after.add([mention("after")])) == ["after"]


def test_the_collector_lease_is_held_by_one_process_and_freed_when_it_dies(tmp_path: Path) -> None:
    first = spawn("child_lease", tmp_path)
    assert first.stdout.readline().strip() == "true"
    second = spawn("child_lease", tmp_path)
    assert second.stdout.readline().strip() == "false"
    second.communicate("\n", timeout=10)
    first.kill()
    first.wait(timeout=10)
    here = Store(tmp_path)
    taken = []
    worker = threading.Thread(target=lambda: taken.append(here.try_collector_lease()))
    worker.start()
    worker.join()
    assert taken == [True] and not Store(tmp_path).try_collector_lease()
    here.release_collector_lease()  # from another thread than the one that took it
    assert Store(tmp_path).try_collector_lease()


# --- damage --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mentions", "state"])
@pytest.mark.parametrize(
    "junk", [b"{not json", b"[1, 2, 3]", b'{"_default": {"1": 5}}', b"", b'{"_default": {"1": {"x": 1}}}']
)
def test_a_corrupt_segment_is_quarantined_and_the_rest_goes_on(
    tmp_path: Path, kind: str, junk: bytes
) -> None:
    from store.quarantine import damaged, quarantined

    if kind == "state" and b'"x"' in junk:
        pytest.skip("a state document needs no id")
    store = Store(tmp_path, segment_size=5)
    store.add(mentions("m", 7))
    store.update_state("m-6", {"status": "closed"}, "close", "jan")
    desk = Store(tmp_path, segment_size=5)
    desk.load()
    (tmp_path / kind / "000002.json").write_bytes(junk)

    loaded = {m.id: m for m in Store(tmp_path, segment_size=5).load()}
    (q,) = quarantined(tmp_path)
    assert q.name == f"{kind}/000002.json" and q.path.read_bytes() == junk  # kept, never deleted
    assert q.path.parent == tmp_path / "quarantine" / kind and str(tmp_path / kind) in q.reason
    assert damaged(tmp_path) == [f"{kind}/000002.json"]
    assert not (tmp_path / kind / "000002.json").exists()
    if kind == "mentions":
        assert sorted(loaded) == [f"m-{i}" for i in range(5)]  # segment 1 still there
    else:
        assert len(loaded) == 7 and loaded["m-6"].status == "new"  # its state is what is lost
    desk.changes()  # a desk already open goes on too
    assert Store(tmp_path, segment_size=5).add([mention("m-99")])
    if kind == "mentions":
        # Segment 2's number stays taken: the new mention goes into 3, and a restore of 2
        # overwrites nothing collected since.
        assert not (tmp_path / "mentions" / "000002.json").exists()
        assert (tmp_path / "mentions" / "000003.json").exists()
    assert Store(tmp_path, segment_size=5).get("m-99") is not None


def test_a_damaged_index_is_quarantined_and_written_again(tmp_path: Path) -> None:
    from store.quarantine import damaged, quarantined

    store = Store(tmp_path, segment_size=5)
    store.add(mentions("m", 7))
    (tmp_path / "mentions" / "000001.idx").write_bytes(b"\x00garbage")
    assert len(Store(tmp_path, segment_size=5).rows()[0].ids) == 5
    (q,) = quarantined(tmp_path)
    assert q.name == "mentions/000001.idx" and q.derived
    assert damaged(tmp_path) == []  # nothing to restore: the header does not cry wolf
    index = json.loads((tmp_path / "mentions" / "000001.idx").read_bytes())
    assert len(index["ids"]) == 5  # written again from its segment


def test_a_segment_with_a_broken_document_is_quarantined_at_a_desks_start(tmp_path: Path) -> None:
    from store.quarantine import damaged

    store = Store(tmp_path, segment_size=5)
    store.add(mentions("m", 7))
    (tmp_path / "mentions" / "000002.json").write_bytes(b'{"_default": {"1": {"id": "m-5", "first_seen_at": "gisteren"}}}')
    index = Store(tmp_path, segment_size=5).rows()
    assert [len(i.ids) for i in index] == [5]
    assert damaged(tmp_path) == ["mentions/000002.json"]
