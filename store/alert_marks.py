"""Alerts' once-only marks and each target's rate limit: data_dir/alerts.json.

    {"sent": {"<event id>": ISO, …},
     "targets": {"<target name>": {"times": [timestamp, …], "held": {"<kind>": count}}}}

Each event goes out once for the data directory however many processes run: `claim` marks the
event and takes a place in each target's limit (the last 10 minutes' sending times), or counts
it as held back for that target's summary, all under the store's write lock (store/store.py),
so two processes never both send one event. `take_summaries` hands out, once, what a target
held back as soon as its window has room again. What the alerts say and where they go is
sources/alerts.py's; the PostgreSQL store keeps the same marks in its tables
(store/postgres/books.py) with the same rules (`take_place`, `take_held` below).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from store.jsonstorage import holding, read_json, write_atomically
from store.modes import lock
from webcare.alerts import WINDOW, room

RECORD = "alerts.json"
KEEP_SENT = timedelta(days=8)  # event ids remembered this long (a spike's id holds its day)
Limits = Sequence[tuple[str, int]]  # (target name, its limit per window)


def target_state(raw: Any) -> dict[str, Any]:
    """A target's state as stored, made whole: {"times": [...], "held": {...}}."""
    rec = dict(raw) if isinstance(raw, dict) else {}
    if not isinstance(rec.get("times"), list):
        rec["times"] = []
    if not isinstance(rec.get("held"), dict):
        rec["held"] = {}
    return rec


def take_place(rec: dict[str, Any], kind: str, limit: int, now: datetime) -> bool:
    """In a target's state: a place for one alert now (True), or it is held back for the summary."""
    rec["times"] = [s for s in rec["times"] if isinstance(s, int | float) and s > (now - WINDOW).timestamp()]
    if room(rec["times"], now, limit):
        rec["times"].append(now.timestamp())
        return True
    rec["held"][kind] = int(rec["held"].get(kind, 0)) + 1
    return False


def take_held(rec: dict[str, Any], limit: int, now: datetime) -> dict[str, int] | None:
    """In a target's state: what it held back, when its window has room for the summary now."""
    if not rec["held"] or not room(rec["times"], now, limit):
        return None
    held = {str(k): int(v) for k, v in rec["held"].items()}
    rec["held"] = {}
    rec["times"].append(now.timestamp())
    return held


class AlertMarks:
    """The marks in data_dir/alerts.json, read and written under the store's write lock."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / RECORD
        # The store's write lock (store/store.py): one file, one lock, every process.
        self._lock = lock(self.data_dir / "write.lock", timeout=30, poll_interval=0.005)

    def _read(self) -> dict[str, Any]:
        try:
            data = read_json(self.path)
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            data = {}
        if not isinstance(data.get("sent"), dict):
            data["sent"] = {}
        if not isinstance(data.get("targets"), dict):
            data["targets"] = {}
        return data

    def claim(self, event: str, kind: str, limits: Limits, now: datetime) -> list[str]:
        """Mark `event` sent and take a place in each target's limit; the names of the targets
        to deliver it to now ([] when any process claimed it before). StoreError, OSError."""
        with holding(self._lock, self.data_dir):
            data = self._read()
            if event in data["sent"]:
                return []
            horizon = (now - KEEP_SENT).isoformat()
            data["sent"] = {k: v for k, v in data["sent"].items() if isinstance(v, str) and v > horizon}
            data["sent"][event] = now.isoformat()
            deliver = []
            for name, limit in limits:
                rec = data["targets"][name] = target_state(data["targets"].get(name))
                if take_place(rec, kind, limit, now):
                    deliver.append(name)
            write_atomically(self.path, orjson.dumps(data))
        return deliver

    def take_summaries(self, limits: Limits, now: datetime) -> list[tuple[str, dict[str, int]]]:
        """The targets holding alerts back whose window has room again, each with what it held
        ({kind: count}), taken once."""
        out: list[tuple[str, dict[str, int]]] = []
        with holding(self._lock, self.data_dir):
            data = self._read()
            for name, limit in limits:
                if not isinstance(data["targets"].get(name), dict):
                    continue
                rec = data["targets"][name] = target_state(data["targets"][name])
                held = take_held(rec, limit, now)
                if held is not None:
                    out.append((name, held))
            if out:
                write_atomically(self.path, orjson.dumps(data))
        return out
