"""What alerts cost the collector per poll, at 200 sources.

    python benchmarks/bench_alerts.py           200 sources, 10,000 owed mentions with a deadline
    python benchmarks/bench_alerts.py --quick   200 sources, 2,000 owed mentions

Prints figures (milliseconds of CPU time, medians over the polls), asserts nothing. What runs
per poll in the collector (sources/alerts.py AlertWatch), with two targets configured and the
sending itself left out (Apprise's HTTP request is the service's time, not ours):

1. `stored`: told what a poll of 200 sources stored (2 new mentions each, 5 % urgent).
2. `take`: those turned into alerts (the urgent ones).
3. `check`: what changes with time: the owed mentions with a deadline looked at for the last
   quarter (those in it read from the store), the presence files of 4 desks, the health of
   200 sources (10 failing).
4. `send`: one alert claimed in data_dir/alerts.json under the write lock (holding 2,000 sent
   ids), per alert.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sources.alerts import Alerts, AlertWatch  # noqa: E402
from sources.health import SourceHealth  # noqa: E402
from store import Store  # noqa: E402
from store.presence import Presence  # noqa: E402
from webcare.alerts import Alert  # noqa: E402
from webcare.config import load  # noqa: E402
from webcare.mention import Mention  # noqa: E402

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
SOURCES = 200
POLLS = 30


def cpu_ms(fn) -> float:
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1000


def mention(i: int, now: datetime, left_min: float, urgent: bool = False) -> Mention:
    return Mention(
        id=f"{i:020x}", source=f"src{i % SOURCES}", channel="x", author=f"@a{i}", text=f"Tekst {i} over de VLM",
        first_seen_at=now - timedelta(minutes=5), deadline=now + timedelta(minutes=left_min), norm_s=7200,
        priority="urgent" if urgent else "normal",
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    owed = 2_000 if parser.parse_args().quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_text(
            f'[desk]\ndata_dir = "{tmp}/data"\n[[alerts]]\nname = "piket"\nurl = "ntfy://127.0.0.1:9/t"\nlimit = 1000\n'
            '[[alerts]]\nname = "team"\nurl = "ntfy://127.0.0.1:9/u"\non = ["spike", "collector"]\n'
        )
        config = load(path)
        clock = [NOW]
        store = Store(config.data_dir)
        # Owed mentions with deadlines over the next 10 hours: a few in their last quarter.
        store.add([mention(i, NOW, 10 + 600 * i / owed) for i in range(owed)])
        alerts = Alerts(config, clock=lambda: clock[0], notify=lambda url, title, body: "")
        watch = AlertWatch(config, store, alerts, clock=lambda: clock[0])
        for d in range(4):
            Presence(config.data_dir, f"op{d}").publish(NOW, f"{d:020x}", None, None)
        health = {f"src{i}": SourceHealth(f"src{i}", state="failing" if i < 10 else "ok", last_attempt=NOW) for i in range(SOURCES)}
        seed = cpu_ms(watch.seed)
        for i in range(2000):
            alerts.send(Alert(f"old:{i}", "urgent", "t", "b"))

        stored, take, check, send = [], [], [], []
        n = owed
        for poll in range(POLLS):
            clock[0] = NOW + timedelta(seconds=30 * poll)
            batch = [mention(n + j, clock[0], 120, urgent=j % 20 == 0) for j in range(2 * SOURCES)]
            n += len(batch)
            store.add(batch)
            stored.append(cpu_ms(lambda b=batch: watch.stored(b)))
            taken: list[Alert] = []
            take.append(cpu_ms(lambda t=taken: t.extend(watch.take())))
            check.append(cpu_ms(lambda: watch.check(health)))
            if taken:
                send.append(cpu_ms(lambda a=taken[0]: alerts.send(a)))
        med = statistics.median
        print(f"alerts per poll at {SOURCES} sources, {owed:,} owed mentions with a deadline (CPU ms, median of {POLLS} polls)")
        print(f"  seed at start (newest segments)      {seed:8.2f}")
        print(f"  stored: {2 * SOURCES} new mentions            {med(stored):8.2f}")
        print(f"  take: urgent ones into alerts        {med(take):8.2f}")
        print(f"  check: overdue, presence, health     {med(check):8.2f}")
        print(f"  send: claim one alert (2,000 sent)   {med(send):8.2f}")
        print(f"  a poll, without sending              {med(stored) + med(take) + med(check):8.2f}")


if __name__ == "__main__":
    main()
