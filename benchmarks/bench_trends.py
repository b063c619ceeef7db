"""How fast themes and trends are at the size of a busy desk: 100,000 mentions over 8 days.

    python benchmarks/bench_trends.py           100,000 observations (about 30 s)
    python benchmarks/bench_trends.py --quick   20,000 observations (seconds)

Prints figures (milliseconds of CPU time, so a busy machine does not inflate them), asserts
nothing. The goal: everything the trends view and the crisis banner
need (spikes, counts for the hour and the day, sparklines for both, rising words for both),
recomputed on every poll in at most 50 ms with 100,000 mentions over the last 8 days.

1. Building the book from the stored mentions at start-up (counting only; texts are split into
   words on the first word query, timed apart), and the book's memory (tracemalloc).
2. Each query on the full book, and a whole poll's recompute (all of them together).
3. A poll as the desk does it: add what came in since the last poll (a few mentions, or a
   burst of 200), then the whole recompute.

The texts are ~300 characters from a vocabulary of 20,000 words drawn Zipf-like (a few words
very common, most rare), with links, handles and stop words, as posts are.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webcare.trends import DAY, HOUR, Observation, TrendBook, TrendParams  # noqa: E402

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
THEMES = ("mest", "water", "natuur", "landbouw", "erfgoed", "bodem", "platteland", "subsidie")
RULES = tuple(f"regel-{i}" for i in range(10))
DOMAIN = (
    "mestbank aangifte bemesting subsidie landbouw perceel water natuur beheer premie dossier "
    "formulier termijn loket antwoord vraag klacht waarom wanneer niemand telefoon mail website "
    "boer gemeente provincie Vlaanderen VLM ruilverkaveling erosie grond stikstof vergunning "
    "controle boete betaling uitbetaling wachten weken maanden dringend hulp graag bedankt"
).split()
STOP = "de het een en van in op is dat niet voor met zijn the and to of a in is".split()
SYLLABLES = "ka ro mi te lu sa ve no bri sto gre pla wa de ni ko fa zu me ter".split()


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    words = list(DOMAIN)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank  # Zipf
        cumulative.append(total)
    return words, cumulative


def observations(n: int, seed: int = 1) -> list[Observation]:
    """n observations spread over the 8 days before NOW, busier by day than by night."""
    rng = random.Random(seed)
    words, cumulative = vocabulary(rng)
    span = 8 * 86400
    out = []
    for i in range(n):
        while True:  # day/night rhythm: accept by the hour's weight
            offset = rng.uniform(0, span)
            hour = (NOW - timedelta(seconds=offset)).hour
            if rng.random() < (1.0 if 7 <= hour < 22 else 0.3):
                break
        picked = rng.choices(words, cum_weights=cumulative, k=34)
        picked += rng.choices(STOP, k=10)
        rng.shuffle(picked)
        text = " ".join(picked) + f" https://x.example/p/{i} @user_{rng.randrange(50_000)} #VLM"
        themes = tuple(rng.sample(THEMES, rng.choice((0, 1, 1, 1, 2))))
        rules = tuple(rng.sample(RULES, rng.choice((0, 1, 1, 2))))
        out.append(
            Observation(
                NOW - timedelta(seconds=offset), themes, rules, rng.random() < 0.25, text, f"m{i}"
            )
        )
    out.sort(key=lambda o: o.at)
    return out


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and worst of `runs` calls, in milliseconds of this process's CPU time (the
    benchmark often shares its machine; CPU time is what the work costs, wall time is not)."""
    times = []
    for _ in range(runs):
        began = time.process_time()
        fn()
        times.append((time.process_time() - began) * 1000)
    return statistics.median(times), max(times)


def recompute(book: TrendBook, now: datetime) -> None:
    """Everything the trends view and the crisis banner show after a poll."""
    book.spikes(now)
    book.counts(now, HOUR)
    book.counts(now, DAY)
    book.series(now, HOUR)
    book.series(now, DAY)
    book.top_terms(now, HOUR)
    book.top_terms(now, DAY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 observations")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    runs = 10 if args.quick else 20

    print(f"generating {n:,} observations over 8 days …", flush=True)
    history = observations(n)
    poll_gap = timedelta(seconds=30)
    # the last 10 minutes arrive poll by poll, after the desk started
    cut = next(i for i, o in enumerate(history) if o.at > NOW - timedelta(minutes=10))
    stored, arriving = history[:cut], history[cut:]
    start = NOW - 8 * DAY
    now = NOW - timedelta(minutes=10)

    print("\n1. building the book at start-up")
    gc.collect()
    began = time.process_time()
    book = TrendBook(TrendParams(), since=start)
    book.extend(stored)
    build = (time.process_time() - began) * 1000
    began = time.process_time()
    book.top_terms(now, HOUR)
    split = (time.process_time() - began) * 1000
    print(f"   counting {len(stored):,} observations      {build:8.0f} ms")
    print(f"   splitting their texts into words  {split:8.0f} ms  (on the first word query)")

    gc.collect()
    tracemalloc.start()
    probe = TrendBook(TrendParams(), since=start)
    probe.extend(stored)
    probe.top_terms(now, HOUR)
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del probe
    print(
        f"   the book's memory                 {size / 2**20:8.1f} MB  (peak {peak / 2**20:.1f} MB)"
    )

    print(f"\n2. queries on {len(stored):,} observations (median / worst of {runs})")
    queries: list[tuple[str, Callable[[], object]]] = [
        ("spikes (30 min vs 7 days)", lambda: book.spikes(now)),
        ("counts, last hour", lambda: book.counts(now, HOUR)),
        ("counts, last day", lambda: book.counts(now, DAY)),
        ("sparklines, hour (12 × 5 min)", lambda: book.series(now, HOUR)),
        ("sparklines, day (24 × 1 h)", lambda: book.series(now, DAY)),
        ("rising words, last hour", lambda: book.top_terms(now, HOUR)),
        ("rising words, last day", lambda: book.top_terms(now, DAY)),
        ("a whole poll's recompute", lambda: recompute(book, now)),
    ]
    for label, fn in queries:
        median, worst = timed(fn, runs)
        goal = "   goal ≤ 50 ms" if label.startswith("a whole") else ""
        print(f"   {label:34} {median:7.1f} ms  (worst {worst:.1f}){goal}")

    print("\n3. polls: add what arrived, then recompute (median / worst)")
    per_poll, i = [], 0
    while i < len(arriving):
        now += poll_gap
        batch = []
        while i < len(arriving) and arriving[i].at <= now:
            batch.append(arriving[i])
            i += 1
        began = time.process_time()
        book.extend(batch)
        book.prune(now)
        recompute(book, now)
        per_poll.append((len(batch), (time.process_time() - began) * 1000))
    times = [t for _, t in per_poll]
    mean_batch = statistics.mean(b for b, _ in per_poll)
    print(
        f"   {len(per_poll)} polls of ~{mean_batch:.0f} new mentions       "
        f"{statistics.median(times):7.1f} ms  (worst {max(times):.1f})"
    )
    burst = [
        Observation(now - timedelta(seconds=j), ("water",), (), True, f"overstroming {j}", f"b{j}")
        for j in range(200)
    ]
    began = time.process_time()
    book.extend(burst)
    spikes = book.spikes(now)
    recompute(book, now)
    took = (time.process_time() - began) * 1000
    print(f"   a burst of 200 negative mentions  {took:7.1f} ms")
    for spike in spikes[:3]:
        print(f"     → {spike.text('en')}")
    print(f"     rising: {', '.join(t.term for t in book.top_terms(now, HOUR, k=3))}")


if __name__ == "__main__":
    main()
