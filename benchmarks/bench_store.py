"""How fast the store is at the sizes a desk reaches, beside a plain TinyDB file.

    python benchmarks/bench_store.py           10,000 and 100,000 mentions (about 2 minutes)
    python benchmarks/bench_store.py --quick   1,000 and 10,000 mentions (seconds)

Prints figures, asserts nothing. The goals are what an operator notices: a collector's batch of
100 new mentions stored within 100 ms, a status change within 20 ms, at 100,000 mentions. The
reference is the same work on one stock TinyDB file (JSONStorage) holding the same documents:
TinyDB rewrites its whole file on every write, which is why the store keeps segments and keeps
content apart from state.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydb import TinyDB  # noqa: E402
from tinydb.storages import JSONStorage  # noqa: E402

from store.jsonstorage import write_atomically  # noqa: E402
from store.store import SEGMENT_SIZE, Store  # noqa: E402
from webcare.mention import Mention, stable_id  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 and 10,000 mentions instead of 10,000 and 100,000",
    )
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    print(
        f"webcare store benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, temp dir {tempfile.gettempdir()}"
    )
    for count in sizes:
        bench(count, args.quick)


if __name__ == "__main__":
    main()
