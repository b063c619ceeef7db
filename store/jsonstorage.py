"""A TinyDB storage that writes atomically and reads only what changed.

TinyDB rewrites its whole file on every write, and its stock JSONStorage writes in place: a
process killed mid-write leaves a truncated file. This storage writes a temporary file beside
the target, fsyncs it and renames it over the old one, so readers see either the old or the new
state. Reads are cached by the file's identity (inode, size, mtime): another process's write
always replaces the inode, so a changed file is never mistaken for the cached one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout
from tinydb.storages import Storage

from store.modes import create

Signature = tuple[int, int, int]


def file_signature(path: Path) -> Signature | None:
    """(inode, size, mtime_ns) of `path`, or None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash at any point leaves old or new, never half."""
    # Not tempfile.mkstemp: its files are always 0600, and the data directory may be shared by
    # the operators' accounts through a group ([desk] group). modes.create gives the data
    # file mode (0600, or 0660 shared) exactly, whatever the process umask: never readable by
    # other accounts, and the rename keeps the mode.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = create(tmp, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: Path) -> Any:
    """Parse a JSON file; None when missing. A file that is not JSON raises ValueError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data:
        return None
    return orjson.loads(data)


def _is_tinydb(data: Any) -> bool:
    """Whether `data` has TinyDB's shape, so a damaged file fails here, naming itself, and not
    later with an AttributeError deep in the caller."""
    if data is None:
        return True
    return isinstance(data, dict) and all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
        for table in data.values()
    )


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic replace, cached reads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.signature: Signature | None = None
        self._cache: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        sig = file_signature(self.path)
        if sig is None:
            self.signature, self._cache = None, None
            return None
        if sig != self.signature:
            try:
                data = read_json(self.path)
            except ValueError as exc:
                raise ValueError(f"{self.path}: not valid JSON ({exc})") from None
            if not _is_tinydb(data):
                raise ValueError(
                    f"{self.path}: not a TinyDB database ({{table: {{doc_id: document}}}})"
                )
            self._cache, self.signature = data, sig
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        try:
            write_atomically(self.path, orjson.dumps(data))
        except BaseException:
            self.signature, self._cache = None, None
            raise
        self._cache = data
        self.signature = file_signature(self.path)

    @property
    def cached(self) -> dict[str, Any] | None:
        """What was last read or written, without touching the file."""
        return self._cache

    def forget(self) -> None:
        """Drop the cached data (memory); the next read() reads the file again."""
        self.signature, self._cache = None, None

    def changed(self) -> bool:
        """Whether the file on disk differs from what was last read or written."""
        return file_signature(self.path) != self.signature

    def close(self) -> None:
        pass


class StoreError(Exception):
    """The data directory cannot be used (unreadable file, no permission, lock timeout).

    `errno` is the operating system's error number when a file operation failed (ENOSPC: the
    disk is full), `timeout` whether the write lock was not free in time: the desk says which,
    in words, when a write fails."""

    def __init__(self, message: str, *, errno: int | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.errno = errno
        self.timeout = timeout

    @classmethod
    def of(cls, path: Path | str, doing: str, exc: OSError) -> StoreError:
        """`path`: cannot `doing` (the OS error), keeping its errno."""
        return cls(f"{path}: cannot {doing} ({exc.strerror or exc})", errno=exc.errno)


@contextmanager
def holding(lock: FileLock, data_dir: Path) -> Iterator[None]:
    """Hold a data directory's cross-process write lock (shared by the mentions and the plan);
    failing to get it is a StoreError with a sentence the desk can show."""
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(f"{data_dir}: timed out waiting for the write lock", timeout=True) from None
    except OSError as exc:
        raise StoreError.of(lock.lock_file, "lock", exc) from None
    try:
        yield
    finally:
        lock.release()
