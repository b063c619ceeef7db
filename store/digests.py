"""Which ambassadors got which day's digest: data_dir/digests.json.

    {"2026-12-05": {"sent": {"els@example.org": ISO, …}, "error": "…", "error_at": ISO|null}, …}

The digest goes out once a day however many processes collect (a collector, a desk that took
over collecting, `webcare collect --once` from cron): whoever sends holds data_dir/digest.lock
(modes.lock) from reading the marks until the last mark is written, and a process that finds
the lock taken leaves the digest to its holder. The lock is not the store's write lock, so a
slow mail server never holds up the desks' writes. Each address is marked as soon as its
e-mail went, so a crash half-way sends no one a second copy. Only the last days are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from filelock import Timeout

from store.jsonstorage import StoreError, read_json, write_atomically
from store.modes import lock, make_dir

FILE = "digests.json"
LOCK = "digest.lock"
KEEP_DAYS = 14


class DigestMarks:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / FILE
        self._lock = lock(self.data_dir / LOCK)

    @contextmanager
    def sending(self) -> Iterator[bool]:
        """Hold the digest lock, or yield False at once when another process holds it."""
        make_dir(self.data_dir)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            yield False
            return
        except OSError as exc:
            raise StoreError(f"{self.data_dir / LOCK}: cannot take the digest lock ({exc})") from None
        try:
            yield True
        finally:
            self._lock.release()

    def read(self) -> dict[str, Any]:
        try:
            data = read_json(self.path)
        except (ValueError, OSError):
            return {}  # unreadable: rewritten whole by the next mark
        return data if isinstance(data, dict) else {}

    def sent(self, day: dt.date) -> set[str]:
        """The addresses (case-folded) that got `day`'s digest."""
        entry = self.read().get(day.isoformat()) or {}
        return {str(k).casefold() for k in (entry.get("sent") or {})}

    def failed_at(self, day: dt.date) -> dt.datetime | None:
        """When the last try for `day` failed (None: it did not)."""
        at = (self.read().get(day.isoformat()) or {}).get("error_at")
        try:
            return dt.datetime.fromisoformat(at) if at else None
        except (TypeError, ValueError):
            return None

    def mark(self, day: dt.date, at: dt.datetime, *, sent: str = "", error: str = "") -> None:
        """Record that `sent` got `day`'s digest, or the error of a try (call holding `sending`)."""
        data = self.read()
        key = day.isoformat()
        entry = data.setdefault(key, {"sent": {}})
        if sent:
            entry.setdefault("sent", {})[sent.casefold()] = at.isoformat(timespec="seconds")
        entry["error"] = error
        entry["error_at"] = at.isoformat(timespec="seconds") if error else None
        oldest = (day - dt.timedelta(days=KEEP_DAYS)).isoformat()
        data = {k: v for k, v in data.items() if k >= oldest}
        write_atomically(self.path, orjson.dumps(data))
