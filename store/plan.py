"""The content plan on disk: data_dir/plan.json, one TinyDB database beside the mentions.

Written like the rest of the store: atomically (store.jsonstorage) and under the data
directory's one cross-process write lock (data_dir/write.lock, the lock Store takes), so a
desk's plan edit, another operator's and the collector's writes never lose each other's work.
Every change re-reads the file under the lock and changes only its own item. A plan is small
(hundreds of items), so it is one file, not segments.

The file is a plain TinyDB database: {"_default": {doc_id: item record}}; an item is found by
its own `id` field, which never changes (PlanItem.new gives a random one).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import Timeout

from store.jsonstorage import AtomicJSONStorage, Signature, StoreError, file_signature, holding
from store.modes import lock, make_dir
from store.quarantine import move_aside
from store.store import QUARANTINE_WAIT, TABLE
from webcare.planning import Changes, PlanItem, sort_key

PLAN_FILE = "plan.json"
WRITE_LOCK = "write.lock"  # the same lock file as store.Store's: one writer at a time


class PlanStore:
    """One process's handle on a data directory's plan. Thread-safe within the process."""

    def __init__(self, data_dir: Path, lock_timeout: float = 30) -> None:
        self.data_dir = Path(data_dir)
        try:
            make_dir(self.data_dir)
        except OSError as exc:
            raise StoreError(f"{self.data_dir}: cannot use this data directory ({exc})") from None
        self.path = self.data_dir / PLAN_FILE
        self._storage = AtomicJSONStorage(self.path)
        # As Store's: waiters poll every 5 ms so an edit stays snappy while the collector writes.
        self._write_lock = lock(self.data_dir / WRITE_LOCK, timeout=lock_timeout, poll_interval=0.005)
        self._mutex = threading.RLock()
        self._seen: Signature | None = None  # plan.json as this handle last reported it
        self._sweep_leftovers()

    def _sweep_leftovers(self) -> None:
        """Delete temporary plan files of writers that died mid-write (see Store's)."""
        try:
            self._write_lock.acquire(timeout=0)
        except (Timeout, OSError):
            return
        try:
            for name in os.listdir(self.data_dir):
                if name.startswith(f".{PLAN_FILE}.") and name.endswith(".tmp"):
                    try:
                        os.unlink(self.data_dir / name)
                    except OSError:
                        pass
        finally:
            self._write_lock.release()


    # --- reading -----------------------------------------------------------------------

    def _table(self) -> dict[str, dict[str, Any]]:
        """{doc_id: record} as on disk now (cached while the file is unchanged). Never mutate.
        A plan.json that cannot be read is moved to the quarantine (store/quarantine.py) and
        the plan reads as empty: the header and the calendar go on, a restore brings it back."""
        sig = file_signature(self.path)
        try:
            data = self._storage.read()
            if sig is not None and sig[1] == 0:
                raise ValueError(f"{self.path}: empty file")
        except ValueError as exc:
            self._damaged(sig, str(exc))
            return {}
        except OSError as exc:
            raise StoreError.of(self.path, "read", exc) from None
        table: dict[str, dict[str, Any]] = (data or {}).get(TABLE, {})  # as parsed from JSON
        return table

    def _damaged(self, sig: Signature | None, reason: str) -> None:
        """Move the damaged plan.json aside, under the write lock, if it is still that file."""
        self._storage.forget()
        try:
            self._write_lock.acquire(timeout=QUARANTINE_WAIT)
        except (Timeout, OSError):
            return
        try:
            if sig is not None and file_signature(self.path) == sig:
                move_aside(self.data_dir, self.path, reason)
        except OSError:
            pass
        finally:
            self._write_lock.release()

    def _item(self, doc_id: str, record: Mapping[str, Any]) -> PlanItem:
        try:
            return PlanItem.from_record(record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"{self.path}: document {doc_id} is not a plan item ({exc})") from None

    def all(self) -> list[PlanItem]:
        """Every item, dated ones by day and time, then the backlog. Afterwards changed() is
        False until someone else writes."""
        with self._mutex:
            table = self._table()
            self._seen = self._storage.signature
            return sorted((self._item(d, r) for d, r in table.items()), key=sort_key)

    def get(self, item_id: str) -> PlanItem | None:
        with self._mutex:
            found = self._find(self._table(), item_id)
            return None if found is None else self._item(*found)

    def changed(self) -> bool:
        """Whether another process (or handle) wrote the plan since this handle last read it
        with all(): one stat, cheap enough to ask every second."""
        return file_signature(self.path) != self._seen

    @staticmethod
    def _find(table: dict[str, dict[str, Any]], item_id: str) -> tuple[str, dict[str, Any]] | None:
        for doc_id, record in table.items():
            if record.get("id") == item_id:
                return doc_id, record
        return None

    # --- writing -----------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Under the lock: the current table to change (a copy), written back on exit if changed."""
        with self._mutex, holding(self._write_lock, self.data_dir):
            before = file_signature(self.path)
            original = self._table()
            table = dict(original)
            yield table
            if table == original:
                return  # nothing to write (an expectation not met, nothing to release)
            try:
                self._storage.write({TABLE: table})
            except OSError as exc:
                raise StoreError.of(self.path, "write", exc) from None
            # Our own write is not news; someone else's before it still is.
            if before == self._seen:
                self._seen = self._storage.signature

    @staticmethod
    def _next_doc_id(table: dict[str, Any]) -> int:
        return max(map(int, table), default=0) + 1

    def add(self, item: PlanItem) -> PlanItem:
        """Store a new item; ValueError if an item with its id is already there."""
        with self._writing() as table:
            if self._find(table, item.id) is not None:
                raise ValueError(f"plan item {item.id} is already stored")
            table[str(self._next_doc_id(table))] = item.to_record()
        return item

    def add_many(self, items: Iterable[PlanItem]) -> list[PlanItem]:
        """Store the items whose ids are not stored yet, in one write (all or nothing);
        returns those that were new."""
        items = list(items)
        with self._writing() as table:
            known = {r.get("id") for r in table.values()}
            fresh = []
            next_id = self._next_doc_id(table)
            for item in items:
                if item.id in known:
                    continue
                known.add(item.id)
                table[str(next_id)] = item.to_record()
                next_id += 1
                fresh.append(item)
        return fresh

    def update(
        self,
        item_id: str,
        changes: Mapping[str, Any],
        at: datetime | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> PlanItem | None:
        """Change one item ({field: value}, see PlanItem.with_changes) as it is on disk now;
        returns the changed item. KeyError if it is gone (deleted elsewhere). With `expect`,
        only if those fields still hold those values (else None, nothing written): an undo
        never overwrites what someone else did meanwhile."""
        at = at or datetime.now(UTC)
        with self._writing() as table:
            found = self._find(table, item_id)
            if found is None:
                raise KeyError(item_id)
            doc_id, record = found
            current = self._item(doc_id, record)
            if expect is not None:
                wanted = current.with_changes(expect, current.updated_at).to_record()
                if any(record.get(k) != wanted[k] for k in expect):
                    return None
            changed = current.with_changes(changes, at)
            table[doc_id] = changed.to_record()
        return changed

    def update_many(self, changes: Iterable[Changes], at: datetime | None = None) -> list[PlanItem]:
        """Apply (id, changes) pairs (hold_today_and_tomorrow, release_held) in one write;
        ids no longer stored are skipped. Returns the changed items."""
        at = at or datetime.now(UTC)
        out = []
        with self._writing() as table:
            for item_id, change in changes:
                found = self._find(table, item_id)
                if found is None:
                    continue
                doc_id, record = found
                changed = self._item(doc_id, record).with_changes(change, at)
                table[doc_id] = changed.to_record()
                out.append(changed)
        return out

    def delete(self, item_id: str) -> PlanItem:
        """Remove an item and return it (restore() puts it back). KeyError if it is gone."""
        with self._writing() as table:
            found = self._find(table, item_id)
            if found is None:
                raise KeyError(item_id)
            doc_id, record = found
            item = self._item(doc_id, record)
            del table[doc_id]
        return item

    def restore(self, item: PlanItem) -> PlanItem:
        """Put `item` back exactly as it was (undo of a delete, or of an edit: it replaces the
        stored item with the same id)."""
        with self._writing() as table:
            found = self._find(table, item.id)
            doc_id = found[0] if found else str(self._next_doc_id(table))
            table[doc_id] = item.to_record()
        return item

