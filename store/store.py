"""The desk's store: mentions and their state in segmented TinyDB files.

Layout of the data directory:

    mentions/000001.json   the content of up to SEGMENT_SIZE mentions (written by the collector)
    state/000001.json      the state of those same mentions (written by the desks' operators)
    health.json            the collector's heartbeat and each source's health
    rewrites.json          what retention and erasure rewrote in place (see `rewrite_segment`)
    write.lock             the cross-process write lock
    collector.lock         held by the one process that collects (see `try_collector_lease`)

Why segments: TinyDB rewrites a whole file on every write. Mentions only ever arrive at the end,
so new ones go into the newest segment and a write costs one segment, not the whole store. Why
content and state apart: a status change rewrites a small state file, never the large content.
A mention's state document has the same doc_id as its content document in the same-numbered
segment, so it is found without a scan. Every file is an ordinary TinyDB database (one
"_default" table), readable with stock TinyDB.

What a handle has reported is tracked apart from what it has cached: reading or writing a
segment (get, add, update_state) refreshes the cache, but only changes() and load() move the
"seen" marks, so a desk's own work never swallows what another process did in the same file.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

import orjson
from filelock import FileLock, Timeout

from store.jsonstorage import (
    AtomicJSONStorage,
    Signature,
    StoreError,
    file_signature,
    holding,
    read_json,
    write_atomically,
)
from store.modes import lock, make_dir
from store.quarantine import move_aside, reserved_segments
from webcare.history import Event, state_after, still_holds
from webcare.mention import Mention, StateChange, Status, owes_reply
from webcare.store_port import Rows, StoreChanges, VersionConflict
from webcare.untrusted import clean_line

if TYPE_CHECKING:
    from store.alert_marks import AlertMarks
    from store.crisis import CrisisLog
    from store.digests import DigestMarks
    from store.drafts import DraftBook
    from store.handoffs import HandoffBook
    from store.notes import NoteBook
    from store.plan import PlanStore
    from store.presence import Presence

__all__ = ["Store", "StoreChanges", "StoreError", "VersionConflict"]

SEGMENT_SIZE = 2000
REWRITES = "rewrites.json"  # {"segments": {seg: count}, "checkpoints": count}: no names, no ids
TABLE = "_default"  # TinyDB's default table: the files stay plain TinyDB databases
_SEGMENT_NAME = re.compile(r"^(\d{6})\.json$")

Key = tuple[int, str]  # (segment, doc_id as stored: a string)
HOUSEKEEPING = "housekeeping"  # health.json's key for the daily chores' results
QUARANTINE_WAIT = 5.0  # seconds a reader waits for the write lock to move a damaged file aside
_Book = TypeVar("_Book")  # a handle on another file of the data directory (see Store._book)


class _Rewrites(TypedDict):
    """rewrites.json as read: each segment's rewrite count by its number, and the checkpoints'."""

    segments: dict[str, int]
    checkpoints: int


def _check_segment(path: Path, data: Any, sig: Signature, content: bool) -> None:
    """A segment file as just read: ValueError when it cannot be one. The store never writes an
    empty file (write_atomically), and every content document carries its mention's id."""
    if data is None and sig[1] == 0:
        raise ValueError(f"{path}: empty file")
    if content:
        for doc_id, record in (data or {}).get(TABLE, {}).items():
            if not isinstance(record.get("id"), str):
                raise ValueError(f"{path}: document {doc_id} has no id")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading a store builds hundreds of thousands of dicts and no reference cycles; the cyclic
    collector would scan the growing heap over and over (load() of 100,000 took 3x as long)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A state field's value before anyone set it (a mention's state starts as "new", all else empty).


def _version(state: Any) -> int:
    return len(state.get("history") or ()) if isinstance(state, dict) else 0


def _ts(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text).timestamp()


def _index_of(table: dict[str, dict[str, Any]], content: bool) -> dict[str, Any]:
    """A segment's index: for content, columns that place each mention in the queue; for
    state, the statuses other than "new" and every state's version."""
    if content:
        records = table.values()
        return {
            "docs": list(table),
            "ids": [r["id"] for r in records],
            "deadline": [_ts(r.get("deadline")) for r in records],
            "first_seen": [_ts(r["first_seen_at"]) for r in records],
            "norm": [r.get("norm_s") for r in records],
            "reach": [r.get("reach") for r in records],
            "priority": {r["id"]: r["priority"] for r in records if r.get("priority") not in (None, "normal")},
            "parents": {r["id"]: r["parent"] for r in records if r.get("parent")},  # threads
        }
    return {
        "status": {
            d: [r.get("status", Status.NEW), owes_reply(r.get("status", Status.NEW), r.get("flags") or ())]
            for d, r in table.items()
            if r.get("status", Status.NEW) != Status.NEW or r.get("flags")
        },
        "version": {d: _version(r) for d, r in table.items()},
    }


class Store:
    """One process's handle on a data directory. Thread-safe within the process."""

    def __init__(
        self, data_dir: Path, segment_size: int = SEGMENT_SIZE, lock_timeout: float = 30
    ) -> None:
        self.data_dir = Path(data_dir)
        self.segment_size = segment_size
        self._content_dir = self.data_dir / "mentions"
        self._state_dir = self.data_dir / "state"
        try:
            for d in (self.data_dir, self._content_dir, self._state_dir):
                make_dir(d)
        except OSError as exc:
            raise StoreError(f"{self.data_dir}: cannot use this data directory ({exc})") from None
        # Waiters poll for the lock; 5 ms (not filelock's 50) keeps a desk's write snappy while
        # the collector writes, and lets writers take turns instead of one running ahead.
        self._write_lock = lock(self.data_dir / "write.lock", timeout=lock_timeout, poll_interval=0.005)
        # Not thread-local: the lease may be taken in one thread and released in another.
        self._collector_lock = lock(self.data_dir / "collector.lock", timeout=0, thread_local=False)
        self._mutex = threading.RLock()  # in-process: the collector thread and the UI's workers
        self._content: dict[int, AtomicJSONStorage] = {}
        self._state: dict[int, AtomicJSONStorage] = {}
        self._where: dict[str, Key] = {}  # mention id → where its documents are
        # What this handle has indexed / reported, apart from the storages' read caches:
        self._content_seen: dict[int, Signature | None] = {}  # content file when last indexed
        # A state's version is the length of its history: every change appends to it, so a
        # changed version is a changed state, and versions are cheap to keep for 100,000.
        self._state_seen: dict[int, dict[str, int]] = {}  # state versions as last reported
        self._state_seen_sig: dict[int, Signature | None] = {}  # state file when last compared
        self._unreported: list[Key] = []  # indexed (or added here), not yet returned by changes()
        self._health_sig: Signature | None = None
        self._rewrites_sig: Signature | None = None  # rewrites.json when last looked at
        self._rewrites_seen: dict[str, int] = {}  # each segment's rewrite count then
        self._look_at_rewrites()
        self._rebuild: set[tuple[int, bool]] = set()  # indexes found damaged, to write again
        self._books: dict[str, object] = {}  # plan, drafts, notes, crisis log (see _book)
        self._sweep_leftovers()

    def _sweep_leftovers(self) -> None:
        """Delete temporary files of writers that died mid-write. Segment files are only written
        under the write lock, so while we hold it every temporary file there is an orphan."""
        try:
            self._write_lock.acquire(timeout=0)
        except (Timeout, OSError):
            return  # someone is writing (or the directory is read-only); a later handle sweeps
        try:
            for folder in (self._content_dir, self._state_dir):
                for name in os.listdir(folder):
                    if name.startswith(".") and name.endswith(".tmp"):
                        try:
                            os.unlink(folder / name)
                        except OSError:
                            pass
        finally:
            self._write_lock.release()

    # --- segments ---------------------------------------------------------------------

    def _segments(self) -> list[int]:
        try:
            names = os.listdir(self._content_dir)
        except OSError as exc:
            raise StoreError(f"{self._content_dir}: cannot list ({exc})") from None
        return sorted(int(m[1]) for n in names if (m := _SEGMENT_NAME.match(n)))

    def _storage(self, seg: int, content: bool) -> AtomicJSONStorage:
        kind, folder = (
            (self._content, self._content_dir) if content else (self._state, self._state_dir)
        )
        storage = kind.get(seg)
        if storage is None:
            storage = kind[seg] = AtomicJSONStorage(folder / f"{seg:06d}.json")
        return storage

    def _table(self, seg: int, content: bool) -> dict[str, dict[str, Any]]:
        """A segment's table ({doc_id: record}) as on disk now; re-read only if it changed.
        A file that cannot be read as a segment is moved to the quarantine and reads as empty
        (`_damaged`): one bad file never stops the desk or the collector.

        The returned dicts are shared with the cache: never mutate them, build new ones."""
        storage = self._storage(seg, content)
        before = storage.signature
        sig = file_signature(storage.path)
        try:
            data = storage.read()
            if sig is not None and sig != before:  # read from disk just now: check it
                _check_segment(storage.path, data, sig, content)
        except ValueError as exc:
            self._damaged(storage, sig, str(exc))
            return {}
        except OSError as exc:
            raise StoreError.of(storage.path, "read", exc) from None
        table: dict[str, dict[str, Any]] = (data or {}).get(TABLE, {})
        return table

    def _damaged(self, storage: AtomicJSONStorage, sig: Signature | None, reason: str) -> None:
        """Move a damaged segment (or index) file into data_dir/quarantine, under the write lock
        and only if it is still the file that was read: a writer may have replaced it."""
        storage.forget()
        path = storage.path
        try:
            self._write_lock.acquire(timeout=QUARANTINE_WAIT)
        except (Timeout, OSError):
            return  # the next read tries again; meanwhile it reads as empty
        try:
            if sig is not None and file_signature(path) == sig:
                move_aside(self.data_dir, path, reason)
        except OSError:
            pass  # cannot move it (read-only directory): it reads as empty all the same
        finally:
            self._write_lock.release()

    def _write_table(self, seg: int, content: bool, table: dict[str, dict[str, Any]]) -> None:
        storage = self._storage(seg, content)
        try:
            storage.write({TABLE: table})
        except OSError as exc:
            raise StoreError.of(storage.path, "write", exc) from None

    def _mention(self, seg: int, doc_id: str, record: Any, state: dict[str, Any] | None) -> Mention:
        try:
            return Mention.from_records(record, state)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            path = self._storage(seg, True).path
            raise StoreError(f"{path}: document {doc_id} is not a mention ({exc!r})") from None

    # --- indexing: which mention lives where ------------------------------------------

    def _index(self, seg: int) -> None:
        """Learn the ids in `seg` if its content file changed since this handle last looked;
        mentions new to this handle are queued for changes()."""
        storage = self._storage(seg, True)
        if seg in self._content_seen and file_signature(storage.path) == self._content_seen[seg]:
            return
        # The index says which ids the segment holds without reading its content (a fresh
        # collector learns 100,000 ids in a fraction of the time); else read the segment.
        signature = file_signature(storage.path)
        index = self._read_index(seg, True)
        if index is not None and isinstance(index.get("ids"), list):
            pairs = list(zip(index["ids"], index["docs"]))
        else:
            content = self._table(seg, True)
            pairs = [
                (self._id_of(seg, doc_id, record), doc_id) for doc_id, record in content.items()
            ]
            signature = storage.signature
            self._forget_if_full(seg, content)
        versions: dict[str, int] | None = None
        known: dict[str, int] = {}
        for mention_id, doc_id in pairs:
            if mention_id in self._where:
                continue
            self._where[mention_id] = (seg, doc_id)
            self._unreported.append((seg, doc_id))
            if versions is None:
                state_index = self._read_index(seg, False)
                versions = (state_index or {}).get("version")
                if not isinstance(versions, dict):
                    versions = {d: _version(r) for d, r in self._table(seg, False).items()}
            if doc_id in versions:
                known[doc_id] = versions[doc_id]
        if known:  # their states go out with the mentions, not again as state changes
            self._state_seen[seg] = {**self._state_seen.get(seg, {}), **known}
        self._content_seen[seg] = signature

    def _located(self, record: dict[str, Any], seg: int, doc_id: str) -> bool:
        """Whether `record` (read from segment `seg`) is the document this handle indexed for
        its mention: a stale copy the id has since moved away from is not."""
        mention_id = record.get("id")
        return isinstance(mention_id, str) and self._where.get(mention_id) == (seg, doc_id)

    def _id_of(self, seg: int, doc_id: str, record: dict[str, Any]) -> str:
        mention_id = record.get("id")
        if not isinstance(mention_id, str):
            raise StoreError(f"{self._storage(seg, True).path}: document {doc_id} has no id")
        return mention_id

    def _forget_if_full(self, seg: int, content: dict[str, Any] | None = None) -> None:
        """Drop the cached copy of a full content segment once indexed: it never changes again,
        is only re-read by get(), and caching all of them doubled load()'s memory."""
        storage = self._storage(seg, True)
        if content is None:
            content = (storage.cached or {}).get(TABLE, {})
        if len(content) >= self.segment_size:
            storage.forget()

    def _catch_up(self) -> None:
        with _gc_paused():  # a fresh handle indexes the whole store here
            for seg in self._segments():
                self._index(seg)

    def _locate(self, mention_id: str) -> Key | None:
        where = self._where.get(mention_id)
        if where is None:  # perhaps another process added it since this handle last looked
            self._catch_up()
            where = self._where.get(mention_id)
        return where

    # --- reading ----------------------------------------------------------------------

    def _forget_seen(self) -> None:
        """Start over: what this handle has indexed and reported is learnt again."""
        self._where.clear()
        self._content_seen.clear()
        self._state_seen.clear()
        self._state_seen_sig.clear()
        self._unreported.clear()
        self._health_sig = None
        self._look_at_rewrites()  # what was rewritten before is read as it is now

    def load(self) -> list[Mention]:
        """Every stored mention with its state, in arrival order (what a desk shows at start).
        Afterwards changes() reports only what happens from now on."""
        with self._mutex, _gc_paused():
            self._forget_seen()
            out: list[Mention] = []
            for seg in self._segments():
                content = self._table(seg, True)
                self._content_seen[seg] = self._storage(seg, True).signature
                states = self._table(seg, False)
                self._state_seen[seg] = {d: _version(r) for d, r in states.items()}
                self._state_seen_sig[seg] = self._storage(seg, False).signature
                for doc_id, record in content.items():
                    mention_id = self._id_of(seg, doc_id, record)
                    if mention_id not in self._where:
                        self._where[mention_id] = (seg, doc_id)
                        out.append(self._mention(seg, doc_id, record, states.get(doc_id)))
                self._forget_if_full(seg, content)
            return out

    # --- the index: a desk's fast start ------------------------------------------------
    #
    # Beside each segment file lies NNNNNN.idx: per document only what places a mention in the
    # queue (id, deadline, first seen, norm; status and state version), plus the signature of
    # the segment file it describes. A desk starts from the indexes (a few MB for 100,000
    # mentions instead of 100+ MB of content and history) and reads a segment's mentions when
    # one of them is first shown. An index is written under the write lock right after its
    # segment; one that is missing or does not match its segment (a crash between the two
    # writes, an older store) is ignored and the segment itself is read instead.

    def _index_path(self, seg: int, content: bool) -> Path:
        return (self._content_dir if content else self._state_dir) / f"{seg:06d}.idx"

    def _write_index(self, seg: int, content: bool, table: dict[str, dict[str, Any]]) -> None:
        index = _index_of(table, content)
        index["of"] = list(self._storage(seg, content).signature or ())
        try:
            write_atomically(self._index_path(seg, content), orjson.dumps(index))
        except OSError:
            pass  # the index only speeds up a start; without it the segment is read

    def _read_index(self, seg: int, content: bool) -> dict[str, Any] | None:
        """The index if it describes the segment file as it is now, else None. An index that is
        not JSON at all is moved to the quarantine, and written again from its segment."""
        sig = file_signature(self._storage(seg, content).path)
        path = self._index_path(seg, content)
        try:
            data = read_json(path)
        except ValueError as exc:
            self._damaged(AtomicJSONStorage(path), file_signature(path), f"{path}: not valid JSON ({exc})")
            self._rebuild.add((seg, content))
            return None
        except OSError:
            return None
        if not isinstance(data, dict) or sig is None or data.get("of") != list(sig):
            return None
        return data

    def rows(self) -> list[Rows]:
        """Every stored mention as the queue's columns, one block per segment, read from the
        indexes (what a desk needs at start). Like load(), afterwards changes() reports only
        what happens from now on."""
        with self._mutex, _gc_paused():
            self._forget_seen()
            read: list[tuple[int, list[str], dict[str, Any], dict[str, Any]]] = []
            for seg in self._segments():
                content = self._read_index(seg, True)
                if content is not None and not isinstance(content.get("reach"), list):
                    self._rebuild.add((seg, True))  # an index from before the reach column
                    content = None
                if content is None or not isinstance(content.get("ids"), list):
                    content = self._index_from_segment(seg, True)
                self._content_seen[seg] = file_signature(self._storage(seg, True).path)
                if self._content_seen[seg] is None:
                    continue  # damaged and moved to the quarantine just now
                state = self._read_index(seg, False)
                if state is None or not isinstance(state.get("version"), dict):
                    state = self._index_from_segment(seg, False)
                self._state_seen[seg] = state["version"]
                self._state_seen_sig[seg] = file_signature(self._storage(seg, False).path)
                read.append((seg, content["docs"], content, state))
            # Whole-column work: this runs over every stored mention at a desk's start. Newest
            # segment first and each one backwards, so where an id is stored twice (add() never
            # does this) the first one stands; that is rare, and seen by the count alone.
            where, stored = self._where, 0
            for seg, docs, content, _ in reversed(read):
                where.update(zip(reversed(content["ids"]), zip(repeat(seg), reversed(docs))))
                stored += len(docs)
            out: list[Rows] = []
            for seg, docs, content, state in read:
                columns = [content["ids"], content["deadline"], content["first_seen"], content["norm"], content["reach"]]
                if len(where) != stored:
                    keep = [i for i, m, d in zip(range(len(docs)), columns[0], docs) if where[m] == (seg, d)]
                    docs = [docs[i] for i in keep]
                    columns = [[column[i] for i in keep] for column in columns]
                doc_ids = dict(zip(docs, columns[0])) if state["status"] else {}
                statuses = {
                    doc_ids[d]: tuple(s) for d, s in state["status"].items() if d in doc_ids
                }
                ids, deadlines, first_seen, norms, reach = columns
                out.append(Rows(ids, deadlines, first_seen, norms, reach, content.get("priority") or {},
                                statuses, content.get("parents") or {}))
            return out

    def _index_from_segment(self, seg: int, content: bool) -> dict[str, Any]:
        """The index of a segment whose .idx is missing or stale, built from the segment. One
        that was damaged is written again when the write lock is free right now."""
        table = self._table(seg, content)
        try:
            index = _index_of(table, content)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A document without a first-seen time or with a date that is not one: the file
            # was damaged (the store writes whole, valid records). Quarantined like bad JSON.
            storage = self._storage(seg, content)
            self._damaged(storage, file_signature(storage.path), f"{storage.path}: a document is damaged ({exc!r})")
            return _index_of({}, content)
        if (seg, content) in self._rebuild and table:
            try:
                self._write_lock.acquire(timeout=0)
            except (Timeout, OSError):
                pass
            else:
                try:
                    self._write_index(seg, content, table)
                    self._rebuild.discard((seg, content))
                finally:
                    self._write_lock.release()
        if content:
            self._forget_if_full(seg, table)
        return index

    # --- the sources' checkpoints (sources/source.py) ---------------------------------------

    def _checkpoint_path(self, source: str) -> Path:
        slug = "".join(c if c.isalnum() else "-" for c in source)[:40]
        digest = hashlib.blake2b(source.encode(), digest_size=4).hexdigest()
        return self.data_dir / "checkpoints" / f"{slug}-{digest}.json"

    def read_checkpoint(self, source: str) -> dict[str, Any] | None:
        """What source `source` saved last time, or None (none yet, or unreadable)."""
        try:
            data = orjson.loads(self._checkpoint_path(source).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_checkpoint(self, source: str, state: dict[str, Any], scrubs: int | None = None) -> bool:
        """Save a source's checkpoint (only the collector does: it holds the lease), atomically,
        under the write lock. With `scrubs` (checkpoint_scrubs() as the caller last read it),
        nothing is written if an erasure has rewritten the checkpoints since (returns False):
        the source's memory may still hold what was erased, so it takes up the rewritten
        checkpoint first (sources/poller.py)."""
        path = self._checkpoint_path(source)
        make_dir(path.parent)
        with holding(self._write_lock, self.data_dir):
            if scrubs is not None and self.checkpoint_scrubs() != scrubs:
                return False
            write_atomically(path, orjson.dumps(state))
        return True

    def content_records(self, seg: int) -> list[dict[str, Any]]:
        """Segment `seg`'s content records as stored (shared: read, never change them), for a
        reader that needs neither state nor Mention objects (the trend book reads days of them)."""
        with self._mutex:
            content = self._table(seg, True)
            out = list(content.values())
            self._forget_if_full(seg, content)
            return out

    def segments(self) -> list[int]:
        """The segment numbers, oldest first."""
        return self._segments()

    def load_segment(self, seg: int) -> list[Mention]:
        """The mentions stored in segment `seg`, with their current state."""
        with self._mutex, _gc_paused():
            content = self._table(seg, True)
            states = self._table(seg, False)
            out = [
                self._mention(seg, d, r, states.get(d))
                for d, r in content.items()
                if self._located(r, seg, d)
            ]
            self._forget_if_full(seg, content)
            return out

    def mentions(self, ids: Iterable[str]) -> list[Mention]:
        """The stored mentions with these ids (content and current state), each segment read
        once; ids not stored are left out. The queue asks for the rows it is about to show."""
        with self._mutex, _gc_paused():
            wanted: dict[int, list[str]] = {}
            for mention_id in ids:
                where = self._where.get(mention_id) or self._locate(mention_id)
                if where:
                    wanted.setdefault(where[0], []).append(where[1])
            out = []
            for seg, doc_ids in wanted.items():
                content, states = self._table(seg, True), self._table(seg, False)
                out += [
                    self._mention(seg, d, content[d], states.get(d)) for d in doc_ids if d in content
                ]
            for seg in self._content:
                if seg not in wanted:
                    self._forget_if_full(seg)
            return out

    def mentions_since(self, moment: datetime) -> list[Mention]:
        """The mentions first seen at or after `moment`, oldest segment first. Reads only the
        segments that can hold one (those with such a first sighting in their index)."""
        since = moment.timestamp()
        with self._mutex:
            self._catch_up()
        out = []
        for seg in self._segments():
            index = self._read_index(seg, True)
            if index is not None and isinstance(index.get("first_seen"), list):
                if not any(f is not None and f >= since for f in index["first_seen"]):
                    continue
            out += [m for m in self.load_segment(seg) if m.first_seen_at >= moment]
        return out

    def content_blocks(self) -> Iterator[list[dict[str, Any]]]:
        """The stored content records, a segment at a time, the newest segment first (shared
        with the read cache: read them, never change them). For readers that need neither
        state nor Mention objects: intake's refs, the alerts' deadlines, the trend book."""
        for seg in reversed(self._segments()):
            yield self.content_records(seg)

    def every_mention(self) -> Iterator[Mention]:
        """Every stored mention with its state, a segment at a time; unlike load(), this
        handle's changes() go on from where they were."""
        with self._mutex:
            self._catch_up()
        for seg in self._segments():
            yield from self.load_segment(seg)

    # --- what else the data directory holds: one handle on each, made when first asked -------

    @property
    def plan(self) -> PlanStore:
        from store.plan import PlanStore

        return self._book("plan", PlanStore)

    @property
    def drafts(self) -> DraftBook:
        from store.drafts import DraftBook

        return self._book("drafts", DraftBook)

    @property
    def notes(self) -> NoteBook:
        from store.notes import NoteBook

        return self._book("notes", NoteBook)

    @property
    def crisis(self) -> CrisisLog:
        from store.crisis import CrisisLog

        return self._book("crisis", CrisisLog)

    @property
    def handoffs(self) -> HandoffBook:
        from store.handoffs import HandoffBook

        return self._book("handoffs", HandoffBook)

    @property
    def alert_marks(self) -> AlertMarks:
        from store.alert_marks import AlertMarks

        return self._book("alert_marks", AlertMarks)

    @property
    def digests(self) -> DigestMarks:
        """A handle of its own each time: its lock (digest.lock) is re-entrant within one
        handle, and two senders in one process must exclude each other as two processes do."""
        from store.digests import DigestMarks

        return DigestMarks(self.data_dir)

    def presence(self, operator: str) -> Presence:
        """This desk's presence (a handle of its own: each desk writes its own file)."""
        from store.presence import Presence

        return Presence(self.data_dir, operator)

    def _book(self, name: str, make: Callable[[Path], _Book]) -> _Book:
        # Made on first use, not at start: a desk imports and opens only what it paints first.
        with self._mutex:
            book = self._books.get(name)
            if book is None:
                book = self._books[name] = make(self.data_dir)
            # Each name is only ever made by its one property, with the same `make`.
            return cast(_Book, book)

    def changes(self, holds: Callable[[int], bool] | None = None) -> StoreChanges:
        """What other processes (and this handle's own add()) wrote since the last look, apart
        from this handle's own state changes. Cheap when nothing changed: two stats per segment.
        `holds(seg)`: whether the caller holds that segment's mentions (default: all); only
        those of a rewritten segment it holds are read again and reported."""
        with self._mutex:
            out = StoreChanges()
            segments = self._segments()
            self._catch_up()
            for seg in segments:
                out.states.update(self._state_changes(seg))
            for seg, doc_id in self._unreported:
                record = self._table(seg, True)[doc_id]
                state = self._table(seg, False).get(doc_id)
                out.new.append(self._mention(seg, doc_id, record, state))
                out.states.pop(record["id"], None)  # already current in the mention
            for seg in {seg for seg, _ in self._unreported}:
                self._forget_if_full(seg)
            self._unreported = []
            sig = file_signature(self.data_dir / "health.json")
            if sig != self._health_sig:
                self._health_sig = sig
                out.health = self.read_health()
            for seg in self._look_at_rewrites():
                if seg in self._content_seen and (holds is None or holds(seg)):
                    out.rewritten += self.load_segment(seg)
            for m in out.rewritten:
                out.states.pop(m.id, None)  # already current in the mention
            return out

    # --- rewrites in place: how other processes learn of them ------------------------------

    def _read_rewrites(self) -> _Rewrites:
        try:
            data = read_json(self.data_dir / REWRITES)
        except (ValueError, OSError):
            data = None
        data = data if isinstance(data, dict) else {}
        segments, checkpoints = data.get("segments"), data.get("checkpoints")
        return {
            # Counts as _count_rewrite wrote them (ints); compared, never computed with, on read.
            "segments": segments if isinstance(segments, dict) else {},
            "checkpoints": checkpoints if isinstance(checkpoints, int) else 0,
        }

    def _look_at_rewrites(self) -> list[int]:
        """The segments rewritten since this handle last looked (one stat when none was)."""
        sig = file_signature(self.data_dir / REWRITES)
        if sig == self._rewrites_sig:
            return []
        self._rewrites_sig = sig
        now = self._read_rewrites()["segments"]
        changed = [int(k) for k, n in now.items() if self._rewrites_seen.get(k) != n and k.isdigit()]
        self._rewrites_seen = dict(now)
        return sorted(changed)

    def _count_rewrite(self, seg: int | None = None, checkpoints: bool = False) -> None:
        """Count a rewrite in rewrites.json (call holding the write lock): desks re-read the
        segment's mentions, a collector takes its checkpoints up again."""
        data = self._read_rewrites()
        if seg is not None:
            data["segments"][str(seg)] = data["segments"].get(str(seg), 0) + 1
        if checkpoints:
            data["checkpoints"] += 1
        write_atomically(self.data_dir / REWRITES, orjson.dumps(data))

    def checkpoint_scrubs(self) -> int:
        """How often an erasure has rewritten the checkpoints (Store.write_checkpoint)."""
        return self._read_rewrites()["checkpoints"]

    def checkpoints_scrubbed(self) -> None:
        """An erasure rewrote the checkpoints: call holding the write lock, right after."""
        self._count_rewrite(checkpoints=True)

    def _state_changes(self, seg: int) -> dict[str, dict[str, Any]]:
        storage = self._storage(seg, False)
        if (
            seg in self._state_seen_sig
            and file_signature(storage.path) == self._state_seen_sig[seg]
        ):
            return {}
        after = self._table(seg, False)
        before = self._state_seen.get(seg, {})
        out: dict[str, dict[str, Any]] = {}
        for doc_id, record in after.items():
            if before.get(doc_id) != _version(record) and self._located(record, seg, doc_id):
                out[record["id"]] = copy.deepcopy(record)  # the caller may keep or change it
        self._state_seen[seg] = {d: _version(r) for d, r in after.items()}
        self._state_seen_sig[seg] = storage.signature
        return out

    def get(self, mention_id: str) -> Mention | None:
        """One mention, read from disk (content and current state)."""
        with self._mutex:
            where = self._locate(mention_id)
            if where is None:
                return None
            seg, doc_id = where
            record = self._table(seg, True).get(doc_id)
            # Keep the segment just read (its neighbours are likely next), forget other full ones.
            for other in self._content:
                if other != seg:
                    self._forget_if_full(other)
            if record is None:
                return None
            return self._mention(seg, doc_id, record, self._table(seg, False).get(doc_id))

    def __contains__(self, mention_id: str) -> bool:
        """Whether a mention with this id is stored (by anyone: another process's are looked
        for when this handle does not know it)."""
        with self._mutex:
            return self._locate(mention_id) is not None

    def __len__(self) -> int:
        """How many mentions are stored (by anyone)."""
        with self._mutex:
            self._catch_up()
            return len(self._where)

    # --- writing ----------------------------------------------------------------------

    def add(self, mentions: Iterable[Mention]) -> list[Mention]:
        """Store the mentions not stored yet (by id); returns those that were new."""
        with self._mutex:
            with holding(self._write_lock, self.data_dir):
                # Pick up what other processes added, so their ids count as known.
                self._catch_up()
                fresh: list[Mention] = []
                batch_ids: set[str] = set()
                for m in mentions:
                    if m.id in self._where or m.id in batch_ids:
                        continue
                    batch_ids.add(m.id)
                    fresh.append(m)
                if fresh:
                    self._append(fresh)
            return fresh

    def _append(self, fresh: list[Mention]) -> None:
        """Write `fresh` at the end of the newest segment(s). Called under the write lock, right
        after _catch_up(), so every segment is indexed and stays so after the write."""
        segments = self._segments()
        # A segment whose file lies in the quarantine keeps its number: a restore puts it back.
        reserved = reserved_segments(self.data_dir) - set(segments)
        seg = max([*segments[-1:], *reserved], default=1)
        pending = fresh
        while pending:
            if seg in reserved:
                seg += 1
                continue
            table = self._table(seg, True)
            if not table and file_signature(self._storage(seg, True).path) is None and seg in segments:
                reserved.add(seg)  # damaged: moved to the quarantine by that read
                continue
            room = self.segment_size - len(table)
            if room <= 0:
                self._forget_if_full(seg, table)
                seg += 1
                continue
            chunk, pending = pending[:room], pending[room:]
            next_id = max(map(int, table), default=0) + 1
            new = {str(next_id + i): m.content_record() for i, m in enumerate(chunk)}
            # A mention that comes in with a state of its own (a followed post that owes no
            # reply: intake's "monitoring") has it written first, so no desk ever reads it as
            # new and owed. The others have none: no state record is "new".
            states = {d: m.state_record() for d, m in zip(new, chunk) if m.history}
            if states:
                state_table = {**self._table(seg, False), **states}
                self._write_table(seg, False, state_table)
                self._write_index(seg, False, state_table)
            new_table = {**table, **new}
            self._write_table(seg, True, new_table)
            self._write_index(seg, True, new_table)
            for doc_id, m in zip(new, chunk, strict=True):
                self._where[m.id] = (seg, doc_id)
                self._unreported.append((seg, doc_id))
            self._content_seen[seg] = self._storage(seg, True).signature

    def change(
        self, change: StateChange, operator: str, at: datetime | None = None
    ) -> dict[str, Any] | None:
        """Make a state change (webcare.mention.StateChange); see update_state."""
        return self.update_state(
            change.mention_id, change.fields, change.event, operator, at, change.expect, change.version
        )

    def update_state(
        self,
        mention_id: str,
        changes: dict[str, Any],
        action: Event | str,
        operator: str,
        at: datetime | None = None,
        expect: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> dict[str, Any] | None:
        """Change a mention's state and append the action to its history; returns the new state.

        The current state is re-read under the lock, so two operators changing different (or
        the same) mentions at once both keep their changes and history entries. The history
        entry keeps the values the change replaced (`before`), which is what undo restores.
        With `expect`, the change is made only if those fields still hold those values (else
        None is returned and nothing is written): an undo or a snooze's wake-up never
        overwrites what someone else did meanwhile. With `version` (the number of changes the
        caller's copy has seen: len(m.history)), VersionConflict is raised and nothing written
        when the stored state has another."""
        at = at or datetime.now(UTC)
        # As it will read back from disk (datetimes become ISO strings), so the cache matches.
        changes = orjson.loads(orjson.dumps(changes))
        expect = None if expect is None else orjson.loads(orjson.dumps(expect))
        with self._mutex:
            where = self._locate(mention_id)
            if where is None:
                raise KeyError(mention_id)
            seg, doc_id = where
            with holding(self._write_lock, self.data_dir):
                table = self._table(seg, False)
                current = copy.deepcopy(table.get(doc_id)) or {
                    "id": mention_id,
                    "status": Status.NEW,
                    "history": [],
                }
                if version is not None and _version(current) != version:
                    raise VersionConflict(mention_id, version, _version(current))
                if not still_holds(current, expect):
                    return None
                args = orjson.loads(orjson.dumps(action.fields)) if isinstance(action, Event) else {}
                current = state_after(current, changes, action, args, operator, at.astimezone(UTC))
                new_table = {**table, doc_id: current}
                self._write_table(seg, False, new_table)
                self._write_index(seg, False, new_table)
            # This handle knows its own change; others' changes in the segment stay unreported.
            self._state_seen[seg] = {**self._state_seen.get(seg, {}), doc_id: _version(current)}
            return copy.deepcopy(current)

    # --- health and the collector lease -------------------------------------------------

    def _health_lock(self) -> FileLock:
        # Its own small lock, not the write lock: the heartbeat never waits for a big write.
        return lock(self.data_dir / "health.lock", timeout=5, poll_interval=0.005)

    def write_health(self, health: dict[str, Any]) -> None:
        """The collector's heartbeat and its sources' health, for every desk to show. The
        housekeeping's record in the file (`record_housekeeping`, another process) is kept."""
        with self._health_lock():
            kept = self.read_health().get(HOUSEKEEPING)
            if kept is not None and HOUSEKEEPING not in health:
                health = {**health, HOUSEKEEPING: kept}
            write_atomically(self.data_dir / "health.json", orjson.dumps(health))

    def record_housekeeping(self, record: dict[str, Any]) -> dict[str, Any]:
        """Merge `record` (last backup, last retention run, the last error) into health.json's
        "housekeeping", for the header and `webcare check`; returns the merged record."""
        with self._health_lock():
            health = self.read_health()
            merged = {**(health.get(HOUSEKEEPING) or {}), **record}
            write_atomically(self.data_dir / "health.json", orjson.dumps({**health, HOUSEKEEPING: merged}))
            return merged

    def read_health(self) -> dict[str, Any]:
        try:
            health = read_json(self.data_dir / "health.json")
        except (ValueError, OSError):
            return {}
        return health if isinstance(health, dict) else {}

    def try_collector_lease(self) -> bool:
        """Become this data directory's collector if no other process is; held until release
        or exit (the OS drops the lock when a process dies, so a crashed collector frees it)."""
        try:
            self._collector_lock.acquire()
        except Timeout:
            return False
        write_atomically(self.data_dir / "collector.pid", f"{os.getpid()}@{socket.gethostname()}\n".encode())
        return True

    def release_collector_lease(self) -> None:
        if self._collector_lock.is_locked:
            self._collector_lock.release()

    def source_leases(self, collector: str) -> WholeLease:
        """The sources' leases on a data directory: the collector lease above holds them all,
        so the one collector holds every source (see WholeLease)."""
        return WholeLease(self, collector)

    def close(self) -> None:
        self.release_collector_lease()
        with self._mutex:
            self._content.clear()
            self._state.clear()

    # --- moving a desk to another store (store/migrate.py) ----------------------------------

    def export_mentions(self) -> Iterator[list[tuple[dict[str, Any], dict[str, Any] | None]]]:
        """Every stored mention as its records as stored (content, state with its history or
        None), a segment at a time in arrival order: what `webcare migrate` copies. Unlike the
        desk's reads, a segment that cannot be read is not moved aside and read as empty: it
        raises StoreError naming the file, so nothing is left behind unnoticed."""
        for seg in self._segments():
            tables = []
            for content in (True, False):
                path = self._storage(seg, content).path
                try:
                    data = read_json(path)
                    sig = file_signature(path)
                    if sig is not None:  # a state file may be missing (no state changed yet)
                        if data is not None and (not isinstance(data, dict) or not isinstance(data.get(TABLE, {}), dict)):
                            raise ValueError(f"{path}: not a segment")
                        _check_segment(path, data, sig, content)
                except ValueError as exc:
                    raise StoreError(f"{path}: damaged, not copied ({clean_line(str(exc), 300)}); restore it first (webcare restore)") from None
                except OSError as exc:
                    raise StoreError.of(path, "read", exc) from None
                tables.append((data or {}).get(TABLE, {}))
            content_table, state_table = tables
            yield [(record, state_table.get(doc_id)) for doc_id, record in content_table.items()]

    def import_mentions(self, blocks: Iterable[list[tuple[dict[str, Any], dict[str, Any] | None]]]) -> int:
        """Write mentions with their states and histories exactly as given (content record,
        state record with its history or None), in the order given, into this store, which must
        hold no mention yet: unlike add() and update_state(), nothing is added to a history, so
        versions and times stay as they were. For `webcare migrate`; returns how many."""
        with self._mutex, holding(self._write_lock, self.data_dir):
            if self._segments():
                raise StoreError(f"{self._content_dir}: holds mentions already; nothing imported")
            seg, done = 0, 0
            content: dict[str, dict[str, Any]] = {}
            state: dict[str, dict[str, Any]] = {}

            def flush() -> None:
                if state:
                    self._write_table(seg, False, state)
                    self._write_index(seg, False, state)
                self._write_table(seg, True, content)
                self._write_index(seg, True, content)
                self._storage(seg, True).forget()
                self._storage(seg, False).forget()

            for block in blocks:
                for record, state_record in block:
                    if not content:
                        seg += 1
                    doc_id = str(len(content) + 1)
                    content[doc_id] = record
                    if state_record is not None:
                        state[doc_id] = state_record
                    done += 1
                    if len(content) >= self.segment_size:
                        flush()
                        content, state = {}, {}
            if content:
                flush()
            self._forget_seen()
            return done

    # --- rewriting in place: retention and erasure (store.retention) ------------------------

    def rewrite_segment(self, seg: int, rewrite: Any) -> bool:
        """Under the write lock, call `rewrite(content, state)` with segment `seg`'s tables
        ({doc_id: record}) as on disk now, and write back each table it returns (None: leave as
        is), state first, atomically, each with a fresh .idx. `rewrite` must not mutate what it
        is given (the dicts are the read cache) and must keep every id and doc_id. An .idx that
        is stale (a crash between a segment and its index) is written again even when nothing
        else changes. Returns whether a segment file was written."""
        with self._mutex, holding(self._write_lock, self.data_dir):
            content = self._table(seg, True)
            state = self._table(seg, False)
            new_content, new_state = rewrite(content, state)
            if new_state is not None:
                self._write_table(seg, False, new_state)
            if new_state is not None or (state and self._read_index(seg, False) is None):
                self._write_index(seg, False, self._table(seg, False))
            if new_content is not None:
                self._write_table(seg, True, new_content)
            if new_content is not None or self._read_index(seg, True) is None:
                self._write_index(seg, True, self._table(seg, True))
            if new_content is not None or new_state is not None:
                self._count_rewrite(seg)  # after the files: a desk that sees it reads them new
            self._forget_if_full(seg)
            return new_content is not None or new_state is not None


class WholeLease:
    """A data directory's sources' leases: one collector collects them all. Whoever holds the
    collector lease (collector.lock, `Store.try_collector_lease`) holds every source; anyone
    else holds none. A lease lasts as long as its process (`lease`): the OS drops the lock when
    the process dies, so nothing runs out here for another collector to wait for (`free_in`)."""

    free_in: float | None = None
    lease = float("inf")

    def __init__(self, store: Store, collector: str) -> None:
        self._store = store
        self.collector = collector

    def hold(self, names: Iterable[str], now: datetime) -> set[str]:
        # Held already: filelock counts acquisitions, so taking it again would need as many
        # releases; only a handle that does not hold it tries to take it.
        held = self._store._collector_lock.is_locked or self._store.try_collector_lease()
        return set(names) if held else set()

    def release(self) -> None:
        self._store.release_collector_lease()
