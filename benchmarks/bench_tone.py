"""How well and how fast webcare reads the tone of a mention (webcare/tone.py).

    python benchmarks/bench_tone.py

Prints figures, asserts nothing. On tests/data/tone_labelled.tsv, per language: accuracy of
language, sentiment, register and anger; the sentiment confusion matrix for nl and en; the same
for the held-out rows alone (written after the rules were tuned, never tuned on: the honest
figure); and the time per message (goal: well under 200 µs), beside detect_register alone.

The whole-set figures are optimistic: the author of the rules wrote the messages.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webcare.register import detect_register  # noqa: E402
from webcare.tone import SENTIMENTS, read_tone  # noqa: E402

DATA = ROOT / "tests" / "data" / "tone_labelled.tsv"
FIELDS = {
    "language": lambda t: t.language,
    "sentiment": lambda t: t.sentiment,
    "register": lambda t: t.register,
    "angry": lambda t: str(int(t.angry)),
}


def rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def accuracy(selection: list[dict[str, str]], title: str) -> None:
    hits: dict[tuple[str, str], int] = Counter()
    count: dict[str, int] = Counter()
    confusion: dict[str, Counter] = defaultdict(Counter)
    for row in selection:
        tone = read_tone(row["text"])
        lang = row["language"]
        count[lang] += 1
        for field, get in FIELDS.items():
            hits[lang, field] += get(tone) == row[field]
        confusion[lang][row["sentiment"], tone.sentiment] += 1
    print(f"\n{title} ({len(selection)} messages)")
    print(f"  {'':6} {'n':>4}" + "".join(f" {f:>10}" for f in FIELDS))
    for lang in sorted(count, key=lambda x: -count[x]):
        n = count[lang]
        print(f"  {lang:6} {n:4}" + "".join(f" {hits[lang, f] / n:10.1%}" for f in FIELDS))
    for lang in ("nl", "en"):
        if not count[lang]:
            continue
        print(f"  sentiment confusion, {lang} (rows: labelled, columns: read)")
        print(f"    {'':9}" + "".join(f" {s[:3]:>5}" for s in SENTIMENTS))
        for want in SENTIMENTS:
            print(
                f"    {want:9}" + "".join(f" {confusion[lang][want, got]:5}" for got in SENTIMENTS)
            )


def speed(texts: list[str]) -> None:
    def per_message(fn) -> float:
        for t in texts:  # warm: a running collector has its caches filled
            fn(t)
        best = float("inf")
        for _ in range(7):  # CPU time, best of 7: the figure least disturbed by other processes
            start = time.process_time()
            for t in texts:
                fn(t)
            best = min(best, (time.process_time() - start) / len(texts))
        return best * 1e6

    mean = sum(map(len, texts)) / len(texts)
    print(
        f"\nspeed on {len(texts)} messages of {mean:.0f} characters on average (CPU time, best of 7)"
    )
    print(f"  read_tone        {per_message(read_tone):7.1f} µs a message   (goal: well under 200)")
    print(
        f"  detect_register  {per_message(detect_register):7.1f} µs a message   (part of read_tone)"
    )
    for remembered in read_tone.__globals__["_READINGS"].values():  # the word cache
        remembered.clear()
    start = time.process_time()
    for t in texts:
        read_tone(t)
    print(
        f"  read_tone, cold  {(time.process_time() - start) / len(texts) * 1e6:7.1f} µs a message   (empty word cache)"
    )
    huge = "Geachte, ik wacht al drie maanden op een antwoord!!! " * 40_000
    start = time.perf_counter()
    read_tone(huge, title="KLACHT " * 100_000)
    print(
        f"  a {len(huge) / 1e6:.1f} MB message: {(time.perf_counter() - start) * 1e3:.2f} ms (reads the first 5,000 characters)"
    )


def main() -> None:
    everything = rows()
    held_out = [r for r in everything if "held out" in r["origin"]]
    accuracy(everything, "whole labelled set (optimistic: the rules were tuned on most of it)")
    accuracy(held_out, "held-out rows only (never tuned on)")
    speed([r["text"] for r in everything])


if __name__ == "__main__":
    main()
