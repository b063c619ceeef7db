"""The crisis log: data_dir/crisis.jsonl, a journal (store/journal.py) every desk shares.

Crisis mode is on for every desk on the data directory from a "start" entry until the next
"end". In between, the team's decisions are logged with who and when, for the review after
the crisis. The desk only appends to it; retention empties the text of entries past the
retention period and an erasure removes a person from it (store/desk_files.py), each
rewriting it atomically under the write lock, the start/decision/end structure kept.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from store.journal import Journal
from webcare.store_port import CrisisEntry


class CrisisLog:
    def __init__(self, data_dir: Path) -> None:
        self.journal = Journal(data_dir, "crisis.jsonl")

    def entries(self) -> list[CrisisEntry]:
        out = []
        for d in self.journal.entries():
            try:
                out.append(CrisisEntry(datetime.fromisoformat(d["at"]), str(d["who"]), str(d["kind"]), str(d.get("text", ""))))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def add(self, at: datetime, who: str, kind: str, text: str = "") -> None:
        if kind not in ("start", "decision", "end"):
            raise ValueError(f"crisis log: unknown kind {kind!r}")
        self.journal.append({"at": at, "who": who, "kind": kind, "text": text})

    def current(self, entries: list[CrisisEntry] | None = None) -> list[CrisisEntry]:
        """The entries of the crisis under way (from its start), or [] when there is none."""
        entries = self.entries() if entries is None else entries
        for i in range(len(entries) - 1, -1, -1):
            if entries[i].kind == "end":
                return []
            if entries[i].kind == "start":
                return entries[i:]
        return []

    def signature(self) -> tuple[int, int] | None:
        return self.journal.signature()
