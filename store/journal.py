"""Append-only journals in the data directory: one JSON object per line.

The shift notes (notes.jsonl) and the crisis log (crisis.jsonl) are journals: the desk only
appends lines (retention and an erasure rewrite them whole, atomically: store/desk_files.py),
under the data directory's write lock (the one the mentions and the plan
share), so two operators' entries stay whole and in order. A line a crash cut short is
skipped on reading; it never hides the entries before it, and the next entry starts on a line
of its own. Any other line that cannot be read means the file was damaged: it is kept in
data_dir/quarantine and the journal goes on with the lines that can be read.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import Timeout

from store.jsonstorage import StoreError, holding, write_atomically
from store.modes import create, lock, make_dir
from store.quarantine import move_aside

QUARANTINE_WAIT = 5.0  # seconds a reader waits for the write lock to move a damaged file aside


class Journal:
    def __init__(self, data_dir: Path, name: str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / name
        self._lock = lock(self.data_dir / "write.lock", timeout=30, poll_interval=0.005)

    def append(self, entry: dict[str, Any]) -> None:
        """Append one line, or nothing: a write that fails (a full disk) is cut back off, so
        the journal never keeps half a line that would swallow the next one. StoreError when
        it cannot be written."""
        line = (json.dumps(entry, ensure_ascii=False, default=_iso) + "\n").encode()
        try:
            make_dir(self.data_dir)
        except OSError as exc:
            raise StoreError.of(self.data_dir, "write", exc) from None
        with holding(self._lock, self.data_dir):
            try:
                fd = create(self.path, os.O_RDWR | os.O_APPEND)
            except OSError as exc:
                raise StoreError.of(self.path, "write", exc) from None
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a line a crash cut short stays a line of its own
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                try:
                    os.ftruncate(fd, size)  # as it was: no half line left behind
                except OSError:
                    pass
                raise StoreError.of(self.path, "write", exc) from None
            finally:
                os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry. A last line without its newline was cut short by a crash and is
        skipped; any other line that is not an entry means the file was damaged: it is moved
        to the quarantine (store/quarantine.py) and the journal written again with the entries
        that could be read, so the desk goes on with them."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError.of(self.path, "read", exc) from None
        lines = raw.decode("utf-8", errors="replace").splitlines()
        out, good, bad = [], [], 0
        for i, line in enumerate(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                out.append(entry)
                good.append(line)
            elif i == len(lines) - 1 and not raw.endswith(b"\n"):
                continue  # a line cut short by a crash
            elif line.strip():
                bad += 1
        if bad:
            self._damaged(raw, good, bad)
        return out

    def _damaged(self, raw: bytes, good: list[str], bad: int) -> None:
        """Keep the damaged journal in the quarantine and go on with its readable lines."""
        try:
            self._lock.acquire(timeout=QUARANTINE_WAIT)
        except (Timeout, OSError):
            return  # skipped this time; the next read tries again
        try:
            if self.path.read_bytes() != raw:
                return  # appended to meanwhile: the next read looks again
            moved = move_aside(self.data_dir, self.path, f"{self.path}: {bad} damaged lines")
            if moved is not None:
                write_atomically(self.path, "".join(line + "\n" for line in good).encode())
        except OSError:
            pass
        finally:
            self._lock.release()

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
