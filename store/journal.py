"""Append-only journals in the data directory: one JSON object per line.

The shift notes (notes.jsonl) and the crisis log (crisis.jsonl) are journals: the desk only
appends lines (retention and an erasure rewrite them whole, atomically: store/desk_files.py),
under the data directory's write lock (the one the mentions and the plan
share), so two operators' entries stay whole and in order. A line a crash cut short is
skipped on reading; it never hides the entries before it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from store.jsonstorage import holding
from store.modes import create, lock, make_dir


class Journal:
    def __init__(self, data_dir: Path, name: str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / name
        self._lock = lock(self.data_dir / "write.lock", timeout=30, poll_interval=0.005)

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=_iso)
        make_dir(self.data_dir)
        with holding(self._lock, self.data_dir):
            with open(create(self.path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())

    def entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def signature(self) -> tuple[int, int] | None:
        """Changes when an entry is appended: a desk re-reads the journal only then."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
