"""Retention, erasure and backups at the size a desk reaches.

    python benchmarks/bench_retention.py           100,000 mentions (a few minutes)
    python benchmarks/bench_retention.py --quick   10,000 mentions

Prints figures, asserts nothing: the time to anonymise half the store (and a second run with
nothing to do), to forget one person (store and backups), to answer an access request, and the
size and time of a daily backup and of a restore.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_store import T0, build, realistic_mention  # noqa: E402

from store.backup import archives, backup, restore  # noqa: E402
from store.retention import access_export, anonymise_older_than, forget  # noqa: E402
from store.store import Store  # noqa: E402

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def megabytes(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1024**2


def timed(what: str, func):
    start = time.perf_counter()
    out = func()
    print(f"  {what:<52} {time.perf_counter() - start:7.2f} s")
    return out


def run(count: int) -> None:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        start = time.perf_counter()
        made = build(data, count, rng)
        store = Store(data)
        person = [realistic_mention(rng, count + k, prefix="jan").replaced(author="@jan_boer", author_name="Jan Boerenzoon")
                  for k in range(20)]
        store.add(person)
        print(
            f"\n{count:,} mentions (+20 by the person): content {megabytes(data / 'mentions'):.1f} MB, "
            f"state {megabytes(data / 'state'):.1f} MB; built in {time.perf_counter() - start:.1f} s"
        )
        first = timed("backup (first of the day)", lambda: backup(data, None, NOW))
        print(f"  {'archive size':<52} {megabytes(first):7.1f} MB")
        timed("backup again the same day (skipped)", lambda: backup(data, None, NOW))
        restored = Path(tmp) / "restored"
        timed("restore (unpack + rebuild the .idx files)", lambda: restore(first, restored))
        timed("load() of the restored store", lambda: Store(restored).load())
        for day in (1, 2):
            backup(data, None, NOW - timedelta(days=day))
        cutoff = made[len(made) // 2].first_seen_at
        n = timed(
            f"anonymise_older_than (half: {len(made) // 2:,} mentions)",
            lambda: anonymise_older_than(Store(data), cutoff, NOW),
        )
        print(f"  {'anonymised':<52} {n:7,}")
        timed(
            "anonymise_older_than again (nothing to do)",
            lambda: anonymise_older_than(Store(data), cutoff, NOW),
        )
        later = cutoff + timedelta(days=1)
        timed(
            "anonymise_older_than, cutoff a day later",
            lambda: anonymise_older_than(Store(data), later, NOW),
        )
        got = timed("access_export (20 mentions)", lambda: access_export(Store(data), "jan_boer"))
        print(f"  {'records':<52} {len(got):7}")
        result = timed(
            f"forget (store + {len(archives(data / 'backups'))} backup archives)",
            lambda: forget(Store(data), "@jan_boer", NOW, "bench"),
        )
        print(
            f"  {'erased / redacted / archives rewritten / remaining':<52} "
            f"{result.mentions} / {result.redacted} / {result.backups} / {len(result.remaining)}"
        )
        timed("forget again (nothing left)", lambda: forget(Store(data), "@jan_boer", NOW, "bench"))
        _ = T0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(10_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
