"""Notes for the next shift: data_dir/notes.jsonl, one JSON object per line, appended.

Appending a line under the data directory's write lock (the lock the mentions and the plan
share) keeps two operators' notes whole and in order; a line a crash cut short is skipped on
reading, so a broken last line never hides the notes before it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from filelock import FileLock

from store.jsonstorage import holding
from webcare.handover import Note


class NoteBook:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "notes.jsonl"
        self._lock = FileLock(str(self.data_dir / "write.lock"), timeout=30, poll_interval=0.005)

    def add(self, note: Note) -> None:
        line = json.dumps(
            {"at": note.at.isoformat(), "who": note.who, "text": note.text}, ensure_ascii=False
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with holding(self._lock, self.data_dir):
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())

    def since(self, moment: datetime) -> list[Note]:
        """The notes left at or after `moment`, oldest first."""
        return [n for n in self.all() if n.at >= moment]

    def all(self) -> list[Note]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        notes = []
        for line in lines:
            try:
                d = json.loads(line)
                notes.append(Note(datetime.fromisoformat(d["at"]), str(d["who"]), str(d["text"])))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash
        return notes
