"""How fast the store is, and whether several desks and collectors on one store lose anything.

    python benchmarks/bench_store.py           every part below, TinyDB and PostgreSQL (about 6 minutes)
    python benchmarks/bench_store.py --quick   fewer mentions, a 15 s writers' run (about 2 minutes)
    python benchmarks/bench_store.py --only writers --store postgresql --seconds 60

Prints figures, asserts nothing. Three parts (--only sizes,ingest,writers):

1. sizes (TinyDB): 10,000 and 100,000 mentions (--quick: 1,000 and 10,000). The goals are what
   an operator notices: a collector's batch of 100 new mentions stored within 100 ms, a status
   change within 20 ms, at 100,000 mentions. The reference is the same work on one stock TinyDB
   file (JSONStorage) holding the same documents: TinyDB rewrites its whole file on every write,
   which is why the store keeps segments and keeps content apart from state.
2. ingest: mentions/s stored through the port's `add` in a collector's batches of 100, TinyDB
   beside PostgreSQL.
3. writers: 10 desk processes and 2 collector processes on one store for 60 s (--quick: 15 s).
   The desks triage, route, monitor and undo with the version they read (on a conflict they
   read the mention again and decide again, as an operator would), each recording the actions
   the store said it stored; the collectors add batches whose ids overlap half of the other's.
   Afterwards the store is read through the port and counted: actions lost (recorded by a desk,
   missing from the history), actions doubled (in a history twice), mentions stored twice,
   mentions a collector was told it added that are missing or that both were told they added.
   All must be 0.

PostgreSQL: a throwaway server (tests/pgserver.py's, with PostgreSQL's durable settings: fsync
on, as the TinyDB store fsyncs every write) in a temporary folder, unless --database-url names
an empty database to use.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydb import TinyDB  # noqa: E402
from tinydb.storages import JSONStorage  # noqa: E402

from store.jsonstorage import StoreError, write_atomically  # noqa: E402
from store.store import SEGMENT_SIZE, Store  # noqa: E402
from webcare import triage  # noqa: E402
from webcare.history import Event  # noqa: E402
from webcare.mention import Mention, StateChange, stable_id  # noqa: E402
from webcare.scheme import DEFAULT as DEFAULT_SCHEME  # noqa: E402
from webcare.scheme import parse as parse_scheme  # noqa: E402
from webcare.store_port import MentionStore, VersionConflict  # noqa: E402

WORDS = (
    "mestbank aangifte bemesting subsidie landbouw perceel water natuur beheer premie dossier "
    "formulier termijn loket antwoord vraag klacht waarom wanneer niemand telefoon mail website "
    "boer gemeente provincie Vlaanderen VLM ruilverkaveling erosie grond stikstof vergunning "
    "controle boete betaling uitbetaling wachten weken maanden dringend hulp graag bedankt"
).split()
CHANNELS = ("x", "facebook", "email", "mastodon", "bluesky", "instagram", "news", "reddit")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def realistic_mention(rng: random.Random, n: int, prefix: str = "m") -> Mention:
    """A mention with every field filled and a ~300-character text."""
    words = []
    while sum(len(w) + 1 for w in words) < 300:
        words.append(rng.choice(WORDS))
    seen = T0 + timedelta(minutes=5 * n)
    mention_id = stable_id(prefix, str(n))
    channel = rng.choice(CHANNELS)
    return Mention(
        id=mention_id,
        source=f"demo-{channel}",
        channel=channel,
        author=f"user_{rng.randrange(50_000)}",
        author_name=f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
        text=" ".join(words).capitalize() + "? #VLM",
        title=" ".join(rng.choice(WORDS) for _ in range(6)).capitalize(),
        url=f"https://{channel}.example/p/{mention_id}",
        published_at=seen - timedelta(minutes=rng.randrange(60)),
        first_seen_at=seen,
        deadline=seen + timedelta(hours=2),
        norm_s=7200,
        keywords=("VLM", rng.choice(WORDS)),
        reach=rng.randrange(10, 100_000),
    )


def handled_state(rng: random.Random, mention_id: str, n: int) -> dict:
    """The state of a mention the desk dealt with: a few history entries, as update_state writes."""
    at = (T0 + timedelta(minutes=5 * n + 30)).isoformat(timespec="seconds")
    history = [
        {
            "at": at,
            "who": "jan",
            "what": "triage",
            "changes": {
                "status": "responding",
                "category": "question",
                "scheme_path": ["yes", "no", "yes"],
            },
        },
        {
            "at": at,
            "who": "els",
            "what": "done",
            "changes": {"status": "responded", "responded_at": at},
        },
    ]
    return {
        "id": mention_id,
        "status": "responded",
        "category": "question",
        "scheme_path": ["yes", "no", "yes"],
        "routed_to": rng.choice((None, "An Peeters")),
        "responded_at": at,
        "history": history[: rng.randint(1, 2)],
    }


def build(data_dir: Path, count: int, rng: random.Random) -> list[Mention]:
    """A store of `count` mentions, 80% of them handled. Content goes in through Store.add in
    batches of 10,000; states are written straight into the state segments (the store's own
    layout) because 80,000 update_state calls would take longer than the whole benchmark."""
    store = Store(data_dir)
    made: list[Mention] = []
    for start in range(0, count, 10_000):
        batch = [realistic_mention(rng, n) for n in range(start, min(count, start + 10_000))]
        store.add(batch)
        made += batch
    for seg_index, start in enumerate(range(0, count, SEGMENT_SIZE), start=1):
        table = {
            str(i + 1): handled_state(rng, m.id, start + i)
            for i, m in enumerate(made[start : start + SEGMENT_SIZE])
            if rng.random() < 0.8
        }
        write_atomically(
            data_dir / "state" / f"{seg_index:06d}.json", json.dumps({"_default": table}).encode()
        )
    return made


def new_batches(rng: random.Random, count: int, prefix: str, runs: int) -> list[list[Mention]]:
    """`runs` batches of 100 mentions not stored yet, as a collector's poll brings them."""
    return [
        [realistic_mention(rng, count + 100 * b + i, prefix) for i in range(100)]
        for b in range(runs)
    ]


def build_reference(path: Path, made: list[Mention]) -> None:
    """One stock TinyDB file holding the same documents (content and state in one)."""
    rows = {str(i + 1): m.export_record() for i, m in enumerate(made)}
    path.write_text(json.dumps({"_default": rows}))


def timed(func: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(label: str, ms: list[float], goal: float | None = None) -> None:
    verdict = ""
    if goal is not None:
        verdict = f"  goal ≤ {goal:g} ms: {'met' if max(ms) <= goal else 'median met, max missed' if statistics.median(ms) <= goal else 'MISSED'}"
    print(
        f"  {label:<46} median {statistics.median(ms):8.1f} ms   max {max(ms):8.1f} ms   ({len(ms)} runs){verdict}"
    )


def megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*.json")) / 1e6


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
LOAD_PROBE = """
import re, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from store.store import Store
def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1]) / 1024
base = hwm()
start = time.perf_counter()
loaded = Store(Path(sys.argv[1])).load()
took = time.perf_counter() - start
print(len(loaded), took * 1000, base, hwm())
"""


def measure_load(data_dir: Path) -> None:
    """Store.load() in a fresh interpreter, so its peak RSS is the load's and nothing else's."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", LOAD_PROBE, str(data_dir), str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
        )
        count, ms, base, peak = out.stdout.split()
        runs.append((float(ms), float(base), float(peak)))
    times = [r[0] for r in runs]
    print(
        f"  {'Store.load() (fresh process)':<46} median {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms   ({len(runs)} runs)"
    )
    print(
        f"  {'peak RSS after load()':<46} {runs[0][2]:8.0f} MB   (interpreter and imports: {runs[0][1]:.0f} MB; {int(count):,} mentions)"
    )


def bench(count: int, quick: bool) -> None:
    rng = random.Random(count)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        data_dir = Path(tmp) / "data"
        start = time.perf_counter()
        made = build(data_dir, count, rng)
        built = time.perf_counter() - start
        segments = len(list((data_dir / "mentions").glob("*.json")))
        print(
            f"\n{count:,} mentions: {segments} segments of ≤{SEGMENT_SIZE:,}; content {megabytes(data_dir / 'mentions'):.1f} MB, "
            f"state {megabytes(data_dir / 'state'):.1f} MB; built in {built:.1f} s"
        )

        # A collector's handle: it has loaded (or indexed) the store once, then adds batches.
        collector = Store(data_dir)
        start = time.perf_counter()
        first = collector.add([realistic_mention(rng, count, "first")])
        print(
            f"  {'first add() on a fresh handle (indexes store)':<46} {(time.perf_counter() - start) * 1000:8.1f} ms   ({len(first)} mention)"
        )
        # Batches are made before the clock starts: only the store's work is timed.
        batches = iter(new_batches(rng, count, "new", 20))
        row(
            "add() a batch of 100 new mentions",
            timed(lambda: collector.add(next(batches)), 20),
            100 if count >= 100_000 else None,
        )
        row(
            "add() a batch of 100 already stored",
            timed(lambda: collector.add(rng.sample(made, 100)), 20),
        )

        desk = Store(data_dir)
        desk.load()
        # As the desk (tui.app) and the collector do after loading: the long-lived index is
        # frozen out of the cyclic collector's sight, else a full collection now and then walks
        # it all (that was the 0.9 s outlier of update_state at 100,000).
        gc.freeze()
        targets = iter(rng.sample(made, 50))

        def change_status() -> None:
            desk.update_state(next(targets).id, {"status": "monitoring"}, "monitor", "jan")

        row(
            "update_state() on one mention",
            timed(change_status, 50),
            20 if count >= 100_000 else None,
        )
        desk.changes()
        row("changes() when nothing changed", timed(desk.changes, 200))
        collector.update_state(made[-1].id, {"status": "closed"}, "close", "els")
        collector.add([realistic_mention(rng, 10**7, "late")])
        row("changes() after 1 new mention + 1 state change", timed(desk.changes, 1))
        measure_load(data_dir)

        # The reference: the same documents in one stock TinyDB file.
        ref_path = Path(tmp) / "reference.json"
        build_reference(ref_path, made)
        print(
            f"  reference: one stock TinyDB file (JSONStorage), {ref_path.stat().st_size / 1e6:.1f} MB"
        )
        runs = 5 if count <= 10_000 or quick else 3
        with TinyDB(ref_path, storage=JSONStorage) as db:
            ref_batches = iter(
                [[m.export_record() for m in b] for b in new_batches(rng, count, "ref", runs)]
            )
            row(
                "  stock TinyDB: insert 100 new mentions",
                timed(lambda: db.insert_multiple(next(ref_batches)), runs),
            )
            doc_ids = iter(rng.sample(range(1, count + 1), runs))
            row(
                "  stock TinyDB: change one mention's status",
                timed(lambda: db.update({"status": "monitoring"}, doc_ids=[next(doc_ids)]), runs),
            )
            start = time.perf_counter()
            db.all()
            print(
                f"  {'  stock TinyDB: read all':<46} {(time.perf_counter() - start) * 1000:8.1f} ms"
            )


# --- the stores side by side: TinyDB and PostgreSQL ------------------------------------------

STORES = ("tinydb", "postgresql")
LABELS = {"tinydb": "TinyDB", "postgresql": "PostgreSQL"}
BATCH = 100  # a collector's batch: what one poll of a busy source brings


class Places:
    """Where each store of a run lives: a new folder for TinyDB, a new database for PostgreSQL
    (on a throwaway server started once, or the one --database-url names)."""

    def __init__(self, tmp: Path, database_url: str | None) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.server: Any = None
        self._count = 0

    def new(self, kind: str) -> str:
        self._count += 1
        if kind == "tinydb":
            folder = self.tmp / f"tinydb-{self._count}"
            return str(folder)
        if self.database_url is not None:  # one part, one store (main checks): used once
            return self.database_url
        if self.server is None:
            self.server = start_postgres()
        return str(self.server.new_database().socket_url)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def start_postgres() -> Any:
    """A throwaway PostgreSQL server (tests/pgserver.py's) with its durable settings."""
    from tests.pgserver import start_server

    started = time.perf_counter()
    try:
        server = start_server(durable=True)
    except BaseException as exc:  # pytest's outcomes (fail, skip) say why it could not start
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SystemExit(f"PostgreSQL: {exc}") from None
    print(f"   (a throwaway PostgreSQL server, {server.bin.parent.name}, durable settings, started in {time.perf_counter() - started:.1f} s)")
    return server


def open_store(kind: str, place: str, role: str = "desk", pool: int = 2) -> MentionStore:
    """A handle on a benchmark's store, as a desk or collector process opens one."""
    if kind == "tinydb":
        return Store(Path(place))
    from store.postgres.mentions import open_postgres
    from webcare.config import StoreSettings

    return open_postgres(StoreSettings(place, pool=pool), role)


def live_mention(n: int, prefix: str = "live") -> Mention:
    """Mention number `n`, the same whoever makes it: two collectors offering n offer one mention."""
    return realistic_mention(random.Random(n), n, prefix)


# --- 2. ingest ---------------------------------------------------------------------------------


def bench_ingest(places: Places, stores: tuple[str, ...], count: int) -> None:
    print(f"\nIngest: {count:,} new mentions through add() in batches of {BATCH}, into an empty store")
    made = [live_mention(n, "ingest") for n in range(count)]  # made before the clock starts
    batches = [made[i : i + BATCH] for i in range(0, count, BATCH)]
    for kind in stores:
        store = open_store(kind, places.new(kind), "collector")
        try:
            times = []
            start = time.perf_counter()
            for batch in batches:
                t = time.perf_counter()
                added = store.add(batch)
                times.append((time.perf_counter() - t) * 1000)
                assert len(added) == len(batch)
            took = time.perf_counter() - start
            again = timed(lambda s=store: s.add(batches[len(batches) // 2]), 5)
            stored = len(store)
        finally:
            store.close()
        print(
            f"  {LABELS[kind]:<11} {count / took:8,.0f} mentions/s   a batch of {BATCH}: median {statistics.median(times):6.1f} ms, "
            f"p95 {p95(times):6.1f} ms, max {max(times):6.1f} ms;   a batch already stored: median {statistics.median(again):6.1f} ms"
            f"   ({stored:,} stored)"
        )


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- 3. desks and collectors writing at once -------------------------------------------------

SEED = 2000  # mentions stored before the run
POOL = 200  # of them, the ones the desks work on: ten desks on 200 mentions meet often
COLLECT_EVERY = 0.5  # s between a collector's batches (it goes on at once when it runs behind)
OPERATIONS = ("triage", "route", "monitor", "undo")
WEIGHTS = (4, 3, 2, 1)
LEAVES = [leaf for leaf in parse_scheme(DEFAULT_SCHEME).leaves.values() if not leaf.route]


def tagged(change: StateChange, token: str, version: int) -> StateChange:
    """The change with the desk's mark on its event (so its history entry can be found again)
    and the version the desk read: a desk that read version 3 never overwrites version 4."""
    event = Event(change.event.kind, **change.event.fields, bench=token)
    return dataclasses.replace(change, event=event, version=version)


def desk_change(op: str, m: Mention, rng: random.Random, undo_token: str | None) -> StateChange | None:
    """What a desk's operator does to `m`, through the domain's own functions (webcare.triage)."""
    now = datetime.now(UTC)
    if op == "triage":
        leaf = rng.choice(LEAVES)
        return triage.apply_leaf(m, leaf, ["Q1:no", leaf.id])
    if op == "route":
        return triage.route(m, rng.choice(("An Peeters", "Bart Claes", "Els Maes")), now + timedelta(days=2), now)
    if op == "monitor":
        return triage.monitor(m)
    for index, entry in enumerate(m.history):  # undo: this desk's action, wherever it is now
        if (entry.get("args") or {}).get("bench") == undo_token:
            return triage.undo(m, index)
    return None


def desk_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One desk: acts on the pool's mentions until told to stop; returns what it recorded."""
    store = open_store(spec["kind"], spec["place"], "desk")
    store.rows()  # as a desk starts: its queue, and changes() counts from here
    pool: list[str] = spec["pool"]
    rng = random.Random(1000 + spec["index"])
    operator = f"desk{spec['index']:02d}"
    done: list[tuple[str, str, str]] = []  # (mention, token, operation) the store said it stored
    undoable: list[tuple[str, str]] = []  # this desk's actions it may take back
    counts = Counter[str]()
    until = ready_and_wait()
    next_look = time.time() + 1.0
    n = 0
    while time.time() < until:
        if time.time() >= next_look:  # a desk follows the others' work (the desk's loop looks every second or on a NOTIFY)
            store.changes()
            next_look += 1.0
        op = rng.choices(OPERATIONS, WEIGHTS)[0]
        undo_token = None
        if op == "undo" and undoable:
            mention_id, undo_token = undoable.pop()
        else:
            op = "monitor" if op == "undo" else op
            mention_id = rng.choice(pool)
        n += 1
        token = f"{operator}-{n}"
        for _attempt in range(50):
            m = store.get(mention_id)
            if m is None:
                counts["gone"] += 1
                break
            change = desk_change(op, m, rng, undo_token)
            if change is None:  # the action to undo is not in the history (would be a loss)
                counts["undo target missing"] += 1
                break
            try:
                change = tagged(change, token, m.version)
                state = store.update_state(
                    change.mention_id, change.fields, change.event, operator, expect=change.expect, version=change.version
                )
            except VersionConflict:  # another desk was first: read it again and decide again
                counts["conflicts"] += 1
                continue
            except StoreError:  # the desk says "niet bewaard"; the operator tries again
                counts["errors"] += 1
                continue
            if state is None:  # an undo whose change someone else changed since: "not undone"
                counts["undo refused"] += 1
                break
            done.append((mention_id, token, op))
            if op != "undo":
                undoable.append((mention_id, token))
            break
        else:
            counts["gave up"] += 1
    store.close()
    return {"done": done, "counts": dict(counts)}


def collector_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One collector: adds a batch every COLLECT_EVERY seconds; batch b holds mentions
    SEED + 100 b + 50 i … + 100 (i: this collector's index), so each id is offered by two."""
    store = open_store(spec["kind"], spec["place"], "collector")
    store.rows()
    added: list[str] = []
    offered = 0
    until = ready_and_wait()
    start = time.time()
    b = 0
    while time.time() < until:
        base = SEED + BATCH * b + (BATCH // 2) * spec["index"]
        batch = [live_mention(n) for n in range(base, base + BATCH)]
        offered += len(batch)
        added += [m.id for m in store.add(batch)]
        b += 1
        time.sleep(max(0.0, start + b * COLLECT_EVERY - time.time()))
    store.close()
    return {"added": added, "offered": offered}


def ready_and_wait() -> float:
    """Say "ready" to the benchmark and wait for its "go": every process starts at once, after
    the slowest has opened its store. Returns when to stop (a wall-clock time)."""
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    return float(line[1])


def worker_main(spec_text: str) -> None:
    spec = json.loads(spec_text)
    result = desk_worker(spec) if spec["role"] == "desk" else collector_worker(spec)
    Path(spec["out"]).write_text(json.dumps(result))


@contextmanager
def workers(specs: list[dict[str, Any]], seconds: float) -> Iterator[list[subprocess.Popen[str]]]:
    """The worker processes (this file with --worker), started together, stopped at the end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )  # fmt: skip
        for spec in specs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"a worker did not start (exit {proc.wait()})")
        until = time.time() + seconds
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"go {until}\n")
            proc.stdin.flush()
        yield procs
    finally:
        for proc in procs:
            try:
                proc.wait(timeout=seconds + 120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bench_writers(kind: str, place: str, desks: int, collectors: int, seconds: float, tmp: Path) -> dict[str, Any]:
    """Run the desks and collectors on one store; count from the store what was lost or doubled."""
    store = open_store(kind, place, "collector")
    seeded = store.add(realistic_mention(random.Random(n), n, "seed") for n in range(SEED))
    pool = [m.id for m in random.Random(7).sample(seeded, POOL)]
    store.close()
    specs = [
        {"role": "desk", "index": i, "kind": kind, "place": place, "pool": pool, "out": str(tmp / f"{kind}-desk-{i}.json")}
        for i in range(desks)
    ] + [
        {"role": "collector", "index": i, "kind": kind, "place": place, "out": str(tmp / f"{kind}-collector-{i}.json")}
        for i in range(collectors)
    ]
    with workers(specs, seconds) as procs:
        started = time.perf_counter()
        failed = [proc.wait() for proc in procs]
        took = time.perf_counter() - started
    if any(failed):
        raise SystemExit(f"{LABELS[kind]}: a worker failed (exit codes {failed})")
    results = [json.loads(Path(spec["out"]).read_text()) for spec in specs]
    desk_results = results[:desks]
    collector_results = results[desks:]

    # What the store holds, read through the port by a fresh handle.
    store = open_store(kind, place, "desk")
    try:
        stored_ids = Counter[str]()
        in_history = Counter[str]()
        broken_versions = 0
        for m in store.every_mention():
            stored_ids[m.id] += 1
            if m.version != len(m.history):
                broken_versions += 1
            for entry in m.history:
                token = (entry.get("args") or {}).get("bench")
                if token:
                    in_history[token] += 1
    finally:
        store.close()
    recorded = [token for r in desk_results for _, token, _ in r["done"]]
    told_added = Counter(i for r in collector_results for i in r["added"])
    counts = Counter[str]()
    for r in desk_results:
        counts.update(r["counts"])
    return {
        "store": kind,
        "seconds": took,
        "desks": desks,
        "collectors": collectors,
        "actions": len(recorded),
        "by_operation": dict(Counter(op for r in desk_results for _, _, op in r["done"])),
        "counts": dict(counts),
        "offered": sum(r["offered"] for r in collector_results),
        "added": len(told_added),
        "stored": sum(stored_ids.values()),
        "lost_actions": sum(1 for token in recorded if token not in in_history),
        "doubled_actions": sum(c - 1 for c in in_history.values() if c > 1) + len(recorded) - len(set(recorded)),
        "unrecorded_actions": len(set(in_history) - set(recorded)),
        "mentions_stored_twice": sum(c - 1 for c in stored_ids.values() if c > 1),
        "mentions_added_twice": sum(c - 1 for c in told_added.values() if c > 1),
        "mentions_lost": sum(1 for i in told_added if i not in stored_ids),
        "versions_broken": broken_versions,
    }


def print_writers(results: list[dict[str, Any]]) -> None:
    first = results[0]
    print(
        f"\nWriters: {first['desks']} desk processes and {first['collectors']} collector processes on one store, "
        f"{first['seconds']:.0f} s; the desks work on {POOL} of {SEED:,} stored mentions"
    )
    header = "".join(f"{LABELS[r['store']]:>14}" for r in results)
    print(f"  {'':<52}{header}")

    def line(label: str, values: list[str]) -> None:
        print(f"  {label:<52}{''.join(f'{v:>14}' for v in values)}")

    line("actions stored (the desks were told)", [f"{r['actions']:,}" for r in results])
    line("  actions/s", [f"{r['actions'] / r['seconds']:,.1f}" for r in results])
    for op in OPERATIONS:
        line(f"  {op}", [f"{r['by_operation'].get(op, 0):,}" for r in results])
    line("version conflicts (read again, retried)", [f"{r['counts'].get('conflicts', 0):,}" for r in results])
    line("undo refused (changed by another desk since)", [f"{r['counts'].get('undo refused', 0):,}" for r in results])
    line("errors (not saved, retried) / gave up", [f"{r['counts'].get('errors', 0)} / {r['counts'].get('gave up', 0)}" for r in results])
    line("mentions offered by the collectors", [f"{r['offered']:,}" for r in results])
    line("  stored new (each told to one collector)", [f"{r['added']:,}" for r in results])
    line("  mentions/s stored", [f"{r['added'] / r['seconds']:,.1f}" for r in results])
    line("mentions in the store afterwards", [f"{r['stored']:,}" for r in results])
    for key, label in (
        ("lost_actions", "LOST actions (recorded, not in the history)"),
        ("doubled_actions", "DOUBLED actions (in a history twice)"),
        ("unrecorded_actions", "actions in a history no desk recorded"),
        ("mentions_stored_twice", "mentions stored twice"),
        ("mentions_added_twice", "mentions two collectors were told they added"),
        ("mentions_lost", "mentions told added, not in the store"),
        ("versions_broken", "states whose version is not their history's length"),
    ):
        line(label, [f"{r[key]}" for r in results])
    faults = {r["store"]: sum(r[k] for k in FAULTS) for r in results}
    print("  " + ";  ".join(f"{LABELS[k]}: {'nothing lost or doubled' if v == 0 else f'{v} FAULTS'}" for k, v in faults.items()))


FAULTS = (
    "lost_actions", "doubled_actions", "unrecorded_actions", "mentions_stored_twice",
    "mentions_added_twice", "mentions_lost", "versions_broken",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer mentions and a 15 s writers' run")
    parser.add_argument("--only", default="sizes,ingest,writers", help="which parts, comma-separated: sizes, ingest, writers")
    parser.add_argument("--store", choices=(*STORES, "both"), default="both", help="ingest and writers: which store(s)")
    parser.add_argument("--ingest", type=int, help="mentions to ingest (default 50,000; --quick 5,000)")
    parser.add_argument("--seconds", type=float, help="the writers' run (default 60; --quick 15)")
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--collectors", type=int, default=2)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a throwaway server (one part only)")
    parser.add_argument("--json", type=Path, help="also write the writers' results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # a desk or collector process of the writers' run
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - {"sizes", "ingest", "writers"}:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(parts - {'sizes', 'ingest', 'writers'}))}")
    if args.database_url and (len(parts & {"ingest", "writers"}) != 1 or args.store != "postgresql"):
        parser.error("--database-url: with --store postgresql and one of --only ingest, --only writers")
    stores = STORES if args.store == "both" else (args.store,)
    print(
        f"webcare store benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, temp dir {tempfile.gettempdir()}"
    )
    if "sizes" in parts:
        for count in (1_000, 10_000) if args.quick else (10_000, 100_000):
            bench(count, args.quick)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        places = Places(Path(tmp), args.database_url)
        try:
            if "ingest" in parts:
                bench_ingest(places, stores, args.ingest or (5_000 if args.quick else 50_000))
            if "writers" in parts:
                seconds = args.seconds or (15.0 if args.quick else 60.0)
                results = [
                    bench_writers(kind, places.new(kind), args.desks, args.collectors, seconds, Path(tmp)) for kind in stores
                ]
                print_writers(results)
                if args.json:
                    args.json.write_text(json.dumps(results, indent=1))
        finally:
            places.close()


if __name__ == "__main__":
    main()
