"""Who else is on the desk: each open desk says which mention it looks at and which it is
replying to, so two operators never answer the same person twice.

Every desk writes its own small file, data_dir/presence/<operator>-<host>-<pid>.json, when its
selection or claim changes and every HEARTBEAT seconds; no lock is needed, as no two desks
write one file. A desk reads the others' files (only those that changed) once a second, and
ignores one whose heartbeat is older than STALE (a desk that was killed leaves a file behind).

A claim is soft: "An is replying" warns the next operator who opens the composer on that
mention, who may take it over explicitly. The later claim wins; the earlier desk is told.
"""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path

from store.jsonstorage import file_signature, write_atomically
from store.modes import make_dir
from webcare.store_port import Desk

HEARTBEAT = 10.0  # seconds between a desk's presence writes when nothing changes
STALE = timedelta(seconds=35)  # three missed heartbeats and a bit: that desk is gone


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:60] or "desk"


class Presence:
    def __init__(self, data_dir: Path, operator: str) -> None:
        self.folder = Path(data_dir) / "presence"
        self.operator = operator
        self.name = f"{_safe(operator)}-{_safe(socket.gethostname())}-{os.getpid()}.json"
        self._cache: dict[str, tuple[object, Desk | None]] = {}  # file → (signature, desk)

    @property
    def path(self) -> Path:
        return self.folder / self.name

    def publish(
        self, now: datetime, viewing: str | None, claim: str | None, claim_since: datetime | None
    ) -> None:
        record = {
            "operator": self.operator,
            "viewing": viewing,
            "claim": claim,
            "claim_since": None if claim_since is None else claim_since.isoformat(),
            "at": now.isoformat(),
        }
        make_dir(self.folder)
        write_atomically(self.path, json.dumps(record).encode())

    def leave(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass

    def others(self, now: datetime) -> list[Desk]:
        """The other desks with a fresh heartbeat. Files that did not change are not re-read."""
        try:
            names = [n for n in os.listdir(self.folder) if n.endswith(".json") and n != self.name]
        except FileNotFoundError:
            return []
        out: list[Desk] = []
        for name in names:
            path = self.folder / name
            sig = file_signature(path)
            cached = self._cache.get(name)
            if cached is None or cached[0] != sig:
                cached = (sig, _read(path, name))
                self._cache[name] = cached
            desk = cached[1]
            if desk is not None and now - desk.seen_at <= STALE:
                out.append(desk)
        for gone in set(self._cache) - set(names):
            del self._cache[gone]
        return sorted(out, key=lambda d: (d.operator, d.desk))


def _read(path: Path, name: str) -> Desk | None:
    try:
        d = json.loads(path.read_bytes())
        since = d.get("claim_since")
        return Desk(
            operator=str(d["operator"]),
            viewing=d.get("viewing"),
            claim=d.get("claim"),
            claim_since=None if not since else datetime.fromisoformat(since),
            seen_at=datetime.fromisoformat(d["at"]),
            desk=name,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half a file from another system, or gone meanwhile: next second
