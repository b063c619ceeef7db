"""Notes for the next shift: the journal data_dir/notes.jsonl (see store/journal.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from store.journal import Journal
from webcare.handover import Note


class NoteBook:
    def __init__(self, data_dir: Path) -> None:
        self.journal = Journal(data_dir, "notes.jsonl")

    def add(self, note: Note) -> None:
        self.journal.append({"at": note.at, "who": note.who, "text": note.text})

    def all(self) -> list[Note]:
        notes = []
        for d in self.journal.entries():
            try:
                notes.append(Note(datetime.fromisoformat(d["at"]), str(d["who"]), str(d["text"])))
            except (ValueError, KeyError, TypeError):
                continue
        return notes

    def since(self, moment: datetime) -> list[Note]:
        """The notes left at or after `moment`, oldest first."""
        return [n for n in self.all() if n.at >= moment]
