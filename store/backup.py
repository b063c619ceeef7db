"""A rotating daily backup of a data directory: one tar.gz a day, the newest `keep` kept.

    backups/webcare-2026-11-23.tar.gz    mentions/NNNNNN.json, state/NNNNNN.json, plan.json,
                                         health.json, privacy.log, retention.json

The snapshot is consistent without holding up the desks: under the data directory's write lock
every file is hard-linked into a hidden snapshot folder (milliseconds: no data is copied).
Writers never change a file in place (they write a new file and rename it over the old one), so
a link keeps the file exactly as it was when the lock was held; the archive is then compressed
from the links with the lock released. Where hard links are not possible (another file system,
no link support) the files are copied under the lock instead.

The archive is written to a temporary file beside its final name, fsynced and renamed, so a
crash leaves no half archive under a backup's name. The .idx sidecars are not archived: they
describe the files by inode, which a restore changes; a restore rebuilds them.

Restoring is `webcare restore` (store/restore.py: one file or everything, into the directory in
use or an empty one, the files replaced kept in quarantine/replaced/); then run retention (store.retention.anonymise_older_than): a backup may be up to `keep` days
older than the retention. Erasures (store.retention.forget) rewrite every archive here without
the person (rather than deleting it: it holds everyone else's data too), so a restore never
brings an erased person back; copies taken elsewhere are outside its reach. data_dir/secret
is never archived (see SKIP_NAMES).

`backup.lock` in the data directory is held by a backup while it runs and by an erasure while it
runs, so an archive is never made from a snapshot taken halfway through an erasure.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tarfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from filelock import FileLock

from store import modes
from store.jsonstorage import holding
from store.quarantine import QUARANTINE

BACKUP_LOCK = "backup.lock"
DEFAULT_BACKUPS = "backups"  # beside the segments, inside the data directory (never archived)
ARCHIVE = re.compile(r"^webcare-(\d{4}-\d{2}-\d{2})\.tar\.gz$")
SNAPSHOT_PREFIX = ".backup-"  # hidden snapshot folders in the data directory
# The secret keys privacy.log's hashes (store/retention.py): with it in an archive, whoever
# holds the archive could test guessed names against the log. Keep a copy apart if the log
# must stay checkable after a restore into a new directory.
SKIP_NAMES = {"write.lock", "collector.lock", BACKUP_LOCK, "collector.pid", "secret"}
COMPRESSLEVEL = 6  # see benchmarks/bench_retention.py: level 6 vs 1 costs little more time


def archive_name(day: datetime) -> str:
    return f"webcare-{day.date().isoformat()}.tar.gz"


def archives(backups_dir: Path) -> list[Path]:
    """The backups in `backups_dir`, oldest first."""
    try:
        names = os.listdir(backups_dir)
    except FileNotFoundError:
        return []
    return [backups_dir / n for n in sorted(names) if ARCHIVE.match(n)]


def backup_lock(data_dir: Path, timeout: float = 600) -> FileLock:
    return modes.lock(Path(data_dir) / BACKUP_LOCK, timeout=timeout, poll_interval=0.05)


def _files(data_dir: Path, backups_dir: Path) -> list[str]:
    """The data directory's files worth keeping, as paths relative to it, sorted."""
    out = []
    skip = backups_dir.resolve()
    for root, dirs, names in os.walk(data_dir):
        here = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and (here / d).resolve() != skip
            and not (here == Path(data_dir) and d == QUARANTINE)  # damaged files: not a backup's
        )
        for name in names:
            if name.startswith(".") or name in SKIP_NAMES or name.endswith((".idx", ".lock")):
                continue
            if (here / name).is_file():
                out.append(str((here / name).relative_to(data_dir)))
    return sorted(out)


def sweep(data_dir: Path, backups_dir: Path) -> None:
    """Remove snapshot folders and temporary archives of backups that died. Call holding the
    backup lock (every one there is then an orphan)."""
    for name in os.listdir(data_dir):
        if name.startswith(SNAPSHOT_PREFIX):
            shutil.rmtree(data_dir / name, ignore_errors=True)
    if backups_dir.is_dir():
        for name in os.listdir(backups_dir):
            if name.startswith(".") and name.endswith(".tmp"):
                try:
                    os.unlink(backups_dir / name)
                except OSError:
                    pass


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tarinfo(name: str, size: int, mtime: float, mode: int) -> tarfile.TarInfo:
    """A member as the file was: its mode kept (0600, or 0660 shared), never widened."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), mode & 0o770
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_tmp(target: Path, members: Iterator[tuple[tarfile.TarInfo, bytes | Path]]) -> Path:
    """Write a tar.gz of `members` ((info, bytes or a file to read)) to a temporary file beside
    `target`, fsynced; returns it. Nothing is left behind on failure."""
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = modes.create(tmp, os.O_WRONLY | os.O_EXCL)  # an archive holds what the files hold
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESSLEVEL) as tar:
                for info, data in members:
                    if isinstance(data, Path):
                        with open(data, "rb") as f:
                            tar.addfile(info, f)
                    else:
                        info.size = len(data)
                        tar.addfile(info, _Bytes(data))
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _commit(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)
    _fsync_dir(target.parent)


class _Bytes:
    """A file object over bytes for tarfile.addfile (io.BytesIO would copy them)."""

    def __init__(self, data: bytes) -> None:
        self._view, self._pos = memoryview(data), 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n < 0 else self._pos + n
        chunk = self._view[self._pos : end].tobytes()
        self._pos += len(chunk)
        return chunk


def backup(data_dir: Path, backups_dir: Path | None, now: datetime, keep: int = 7) -> Path:
    """Today's backup of `data_dir` in `backups_dir` (default data_dir/backups): made unless it
    exists; then only the newest `keep` archives are kept. Returns today's archive.

    `now` names the day (its own timezone: pass the desk's local time)."""
    data_dir = Path(data_dir)
    backups_dir = Path(backups_dir) if backups_dir is not None else data_dir / DEFAULT_BACKUPS
    if keep < 1:
        raise ValueError("keep: at least 1")
    modes.make_dir(backups_dir)
    target = backups_dir / archive_name(now)
    with holding(backup_lock(data_dir), data_dir):
        sweep(data_dir, backups_dir)
        if not target.exists():
            snapshot = data_dir / f"{SNAPSHOT_PREFIX}{secrets.token_hex(6)}"
            try:
                names = _snapshot(data_dir, backups_dir, snapshot)
                stats = {n: (snapshot / n).stat() for n in names}
                tmp = _write_tmp(
                    target,
                    (
                        (_tarinfo(n, st.st_size, st.st_mtime, st.st_mode), snapshot / n)
                        for n, st in stats.items()
                    ),
                )
                _commit(tmp, target)
            finally:
                shutil.rmtree(snapshot, ignore_errors=True)
        for old in archives(backups_dir)[:-keep]:
            old.unlink(missing_ok=True)
    return target


def _snapshot(data_dir: Path, backups_dir: Path, snapshot: Path) -> list[str]:
    """Link (or copy) every file into `snapshot` under the write lock: a consistent moment."""
    write_lock = modes.lock(data_dir / "write.lock", timeout=60, poll_interval=0.005)
    modes.make_dir(snapshot)
    with holding(write_lock, data_dir):
        names = _files(data_dir, backups_dir)
        for name in names:
            dest = snapshot / name
            modes.make_dir(dest.parent)
            try:
                os.link(data_dir / name, dest)
            except FileNotFoundError:
                continue
            except OSError:
                shutil.copy2(data_dir / name, dest)
    return [n for n in names if (snapshot / n).exists()]


def members(archive: Path) -> Iterator[tuple[tarfile.TarInfo, bytes]]:
    """Every regular file of an archive with its content, one at a time."""
    with tarfile.open(archive, mode="r:gz") as tar:
        for info in tar:
            if info.isfile():
                f = tar.extractfile(info)
                yield info, f.read() if f is not None else b""


def rewrite_archive(archive: Path, change: Callable[[str, bytes], bytes | None]) -> bool:
    """Rewrite `archive` (atomically) with each member's content passed through `change`
    (None: unchanged). The archive is read once to find what changes (only changed members are
    kept in memory) and written only if something did. Returns whether it was."""
    changed: dict[str, bytes] = {}
    for info, data in members(archive):
        new = change(info.name, data)
        if new is not None and new != data:
            changed[info.name] = new
    if not changed:
        return False
    tmp = _write_tmp(
        archive,
        (
            (_tarinfo(info.name, 0, info.mtime, info.mode), changed.get(info.name, data))
            for info, data in members(archive)
        ),
    )
    _commit(tmp, archive)
    return True
