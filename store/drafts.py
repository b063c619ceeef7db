"""Unsent replies on disk: data_dir/drafts.json, one small file every desk shares.

    {"drafts": {"<mention id>": {"operator": "An", "text": "…", "saved_at": "2026-11-23T13:02:00+00:00"}}}

One draft per mention (why: webcare/drafts.py). Written like the plan: under the data
directory's one cross-process write lock (data_dir/write.lock, the lock Store takes), re-read
under it and changed only where asked, then replaced atomically (store.jsonstorage), so two
desks saving drafts of different mentions never lose each other's. Read by every desk once a
second: the file is parsed again only when its signature (inode, size, mtime) changed, so an
unchanged file costs one stat.

A file that is not JSON (a damaged disk) reads as no drafts, and the next save replaces it:
what cannot be read cannot be restored anyway, and the desk goes on keeping new drafts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from filelock import Timeout

from store.jsonstorage import Signature, file_signature, holding, read_json, write_atomically
from store.modes import lock, make_dir
from webcare.drafts import Draft

DRAFTS_FILE = "drafts.json"
WRITE_LOCK = "write.lock"  # the same lock file as store.Store's: one writer at a time
_UNREAD = (-1, -1, -1)  # a signature no file has: nothing read yet


class DraftBook:
    """One process's handle on a data directory's drafts. Thread-safe within the process: the
    desk reads in its store worker and writes in its drafts worker."""

    def __init__(self, data_dir: Path, lock_timeout: float = 30) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DRAFTS_FILE
        self._lock = lock(self.data_dir / WRITE_LOCK, timeout=lock_timeout, poll_interval=0.005)
        self._mutex = threading.RLock()
        self._signature: Signature | None = _UNREAD
        self._drafts: dict[str, Draft] = {}
        self._sweep_leftovers()

    def _sweep_leftovers(self) -> None:
        """Delete temporary files of writers that died mid-write (see Store's)."""
        try:
            self._lock.acquire(timeout=0)
        except (Timeout, OSError):
            return  # someone is writing (or the directory is not there yet): a later handle sweeps
        try:
            for name in os.listdir(self.data_dir):
                if name.startswith(f".{DRAFTS_FILE}.") and name.endswith(".tmp"):
                    try:
                        os.unlink(self.data_dir / name)
                    except OSError:
                        pass
        except OSError:
            pass
        finally:
            self._lock.release()

    # --- reading -------------------------------------------------------------------------

    def all(self) -> dict[str, Draft]:
        """Every stored draft by mention id (a fresh dict; the drafts are frozen)."""
        with self._mutex:
            signature = file_signature(self.path)
            if signature != self._signature:
                self._drafts = _parse(_read(self.path))
                self._signature = signature
            return dict(self._drafts)

    def get(self, mention_id: str) -> Draft | None:
        return self.all().get(mention_id)

    # --- writing -------------------------------------------------------------------------

    def save(self, draft: Draft) -> None:
        self.apply({draft.mention_id: draft})

    def remove(self, *mention_ids: str) -> None:
        self.apply(dict.fromkeys(mention_ids))

    def apply(self, changes: Mapping[str, Draft | None]) -> None:
        """Save (a Draft) or remove (None) drafts by mention id, in one write under the lock.
        Raises StoreError (lock timeout) or OSError (a full disk, no permission); what was
        saved before stays as it was."""
        if not changes:
            return
        with self._mutex, holding(self._lock, self.data_dir):
            raw = _read(self.path)
            drafts = raw["drafts"]
            before = dict(drafts)
            for mention_id, draft in changes.items():
                if draft is None:
                    drafts.pop(mention_id, None)
                else:
                    drafts[mention_id] = {
                        "operator": draft.operator,
                        "text": draft.text,
                        "saved_at": draft.saved_at.astimezone(UTC).isoformat(timespec="seconds"),
                    }
            if drafts == before:
                return  # nothing to remove: no write (and no file made for nothing)
            make_dir(self.data_dir)
            write_atomically(self.path, orjson.dumps(raw))
            self._signature = _UNREAD  # read back on the next look, as every desk does


def _read(path: Path) -> dict[str, Any]:
    """The file's top level with a "drafts" object; other top-level keys are kept as they are."""
    try:
        raw = read_json(path)
    except (ValueError, OSError):
        raw = None
    if not isinstance(raw, dict):
        raw = {}
    if not isinstance(raw.get("drafts"), dict):
        raw["drafts"] = {}
    return raw


def _parse(raw: dict[str, Any]) -> dict[str, Draft]:
    out = {}
    for mention_id, d in raw["drafts"].items():
        try:
            at = datetime.fromisoformat(d["saved_at"])
            out[mention_id] = Draft(
                mention_id=mention_id,
                operator=str(d["operator"]),
                text=str(d["text"]),
                saved_at=at if at.tzinfo else at.replace(tzinfo=UTC),
            )
        except (KeyError, TypeError, ValueError):
            continue  # one damaged entry hides no other
    return out
