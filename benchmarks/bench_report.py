"""How long a report takes: figures() and each renderer over 100,000 mentions (a year of a
busy desk), and a shift handover over the same. Prints figures, asserts nothing.

    python benchmarks/bench_report.py [--mentions 100000] [--days 365]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webcare import report as R  # noqa: E402
from webcare.handover import Note, handover  # noqa: E402
from webcare.handover import to_markdown as handover_markdown  # noqa: E402
from webcare.mention import Mention  # noqa: E402

TZ = ZoneInfo("Europe/Brussels")
NORMS = {
    "x": 7200,
    "facebook": 14400,
    "email": 28800,
    "mastodon": 7200,
    "instagram": 14400,
    "news": None,
}
STATUSES = ["responded"] * 6 + [
    "monitoring",
    "no reaction",
    "new",
    "responding",
    "closed",
    "moderated",
]
LEAVES = ["L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "L12", "L13", "L14", "L3"]


def make(n: int, days: int, end: datetime, seed: int = 1) -> list[Mention]:
    rnd = random.Random(seed)
    channels = list(NORMS)
    out = []
    for i in range(n):
        start = end - timedelta(seconds=rnd.randrange(days * 86400))
        channel = rnd.choice(channels)
        norm = NORMS[channel]
        m = Mention(
            id=f"m{i}",
            source="bench",
            channel=channel,
            author=f"@user{rnd.randrange(5000)}",
            text="tekst",
            first_seen_at=start + timedelta(seconds=30),
            published_at=start,
            norm_s=norm,
            deadline=None if norm is None else start + timedelta(seconds=norm),
            reach=rnd.choice([None, rnd.randrange(100_000)]),
            themes=(rnd.choice(["mest", "water", "natuur", "landbouw", "ruimte"]),),
            rules=(rnd.choice(["mestbank", "waterbeleid", "natuur"]),),
            sentiment=rnd.choice(["negative", "neutral", "positive", ""]),
            priority=rnd.choice(["normal"] * 20 + ["high", "urgent"]),
        )
        m.status = rnd.choice(STATUSES)
        m.scheme_path = [rnd.choice(LEAVES)] if m.status != "new" else []
        m.category = "question" if m.scheme_path else None
        if m.status in ("responded", "closed") and norm is not None:
            m.response_s = int(rnd.expovariate(1 / norm))
            m.responded_at = start + timedelta(seconds=m.response_s)
        if rnd.random() < 0.05:
            m.routed_to = rnd.choice(["An Peeters", "Jan Claes", "Lies Maes"])
            m.routed_at = start + timedelta(minutes=10)
            m.routed_due = m.routed_at + timedelta(days=1)
            if rnd.random() < 0.8:
                m.answered_at = m.routed_at + timedelta(seconds=rnd.randrange(2 * 86400))
        out.append(m)
    return out


def timed(label: str, fn, runs: int = 3):
    best = float("inf")
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<44} {best * 1000:9.1f} ms")
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mentions", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    end = datetime(2026, 11, 23, tzinfo=TZ).astimezone(UTC)
    now = end + timedelta(hours=1)
    t0 = time.perf_counter()
    ms = make(args.mentions, args.days, end)
    print(
        f"{args.mentions:,} mentions over {args.days} days (made in {time.perf_counter() - t0:.1f} s)"
    )
    start = end - timedelta(days=args.days)
    rep = timed(f"figures, {args.days} days", lambda: R.figures(ms, start, end, TZ, now))
    timed(
        "figures, last 14 days (same 100k scanned)",
        lambda: R.figures(ms, end - timedelta(days=14), end, TZ, now),
    )
    html = timed("to_html", lambda: R.to_html(rep, "nl"))
    md = timed("to_markdown", lambda: R.to_markdown(rep, "nl"))
    csv_text = timed("to_csv", lambda: R.to_csv(rep))
    js = timed("to_json", lambda: R.to_json(rep))
    print(
        f"sizes: html {len(html) / 1024:.0f} KiB, markdown {len(md) / 1024:.0f} KiB, "
        f"csv {len(csv_text) / 1024:.0f} KiB, json {len(js) / 1024:.0f} KiB"
    )
    print(
        f"report: {rep.total:,} mentions, within norm {R.percent(rep.response_all.share_within, 'en')}, "
        f"median {R.duration(rep.response_all.median_s, 'en')}, {len(rep.overdue):,} overdue"
    )
    h = timed(
        "handover (8 h shift)",
        lambda: handover(ms, end - timedelta(hours=8), end, TZ, [Note(end, "bench", "note")]),
    )
    timed("handover to_markdown", lambda: handover_markdown(h, "nl"))


if __name__ == "__main__":
    main()
