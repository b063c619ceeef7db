"""Putting files back from a backup into a data directory in use (`webcare restore`).

One file (a damaged segment, plan.json, a journal) or the whole directory comes back from a
daily archive (store/backup.py). What the archive holds is unpacked first, beside the data in a
hidden folder, so a failed or interrupted unpack changes nothing; then, under the data
directory's write lock, each file is put in place with one rename (readers see the old file or
the restored one, never half of one). A file that is replaced is not lost: it is linked into
quarantine/replaced/<when>/ first. The quarantined copies of what was restored are filed under
quarantine/restored/, and the restored segments' indexes are written again.

A whole-directory restore also moves aside the segments that are newer than the backup (they
would not match the restored state files); every other file the archive does not hold (the
presence files, secrets, drafts) is left as it is.

The restored files and folders get the data directory's modes (store/modes.py: private, or
shared with the operators' group), whatever the archive says: an archive an older version made
with 0644 files comes back private too.
Refused while a collector runs for the directory (it would write into what is being restored)
unless forced; desks that are open should be restarted afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from filelock import Timeout

from store import modes
from store.backup import archives
from store.jsonstorage import StoreError, holding
from store.quarantine import REPLACED, quarantine_dir, resolve

_SEGMENT_DIRS = ("mentions", "state")


@dataclass
class Restored:
    archive: Path
    data_dir: Path
    files: list[str] = field(default_factory=list)
    replaced: Path | None = None  # where the files it replaced are kept
    moved_aside: list[str] = field(default_factory=list)  # newer segments, whole restore only


def archive_names(archive: Path) -> set[str]:
    with tarfile.open(archive, mode="r:gz") as tar:
        return {info.name for info in tar if info.isfile()}


def newest_holding(backups_dir: Path, name: str | None = None) -> Path | None:
    """The newest archive in `backups_dir` (that holds `name`, when given)."""
    for archive in reversed(archives(Path(backups_dir))):
        try:
            if name is None or name in archive_names(archive):
                return archive
        except (OSError, tarfile.TarError):
            continue  # a damaged archive: look at the one before
    return None


def _safe(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise StoreError(f"{name}: not a file of the data directory")
    return str(path)


def restore_files(
    archive: Path,
    data_dir: Path,
    names: list[str] | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Restored:
    """Restore `names` (paths in the data directory, e.g. "mentions/000003.json"), or every
    file the archive holds when None, from `archive` into `data_dir`. StoreError when a
    collector runs (unless `force`), a name is not in the archive, or the archive is unreadable."""
    archive, data_dir = Path(archive), Path(data_dir)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    wanted = None if names is None else {_safe(n) for n in names}
    modes.make_dir(data_dir)  # a new directory is fine: everything is restored into it
    collector = modes.lock(data_dir / "collector.lock", timeout=0, thread_local=False)
    try:
        collector.acquire()
    except Timeout:
        if not force:
            raise StoreError(
                f"{data_dir}: a collector runs for this directory; stop it first (or pass --force)"
            ) from None
    except OSError as exc:
        raise StoreError.of(data_dir / "collector.lock", "lock", exc) from None
    staging = data_dir / f".restore-{secrets.token_hex(6)}"
    try:
        staged = _unpack(archive, staging, wanted)
        missing = sorted((wanted or set()) - set(staged))
        if missing:
            raise StoreError(f"{archive}: does not hold {', '.join(missing)}")
        result = Restored(archive, data_dir, sorted(staged))
        write_lock = modes.lock(data_dir / "write.lock", timeout=60, poll_interval=0.005)
        with holding(write_lock, data_dir):
            aside = quarantine_dir(data_dir) / REPLACED / f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
            for name in result.files:
                target = data_dir / name
                if target.exists():
                    _keep(target, aside / name)
                    result.replaced = aside
                modes.make_dir(target.parent)
                os.replace(staging / name, target)
            if wanted is None:  # segments newer than the backup would not match its state
                for folder in _SEGMENT_DIRS:
                    for entry in sorted(os.listdir(data_dir / folder)) if (data_dir / folder).is_dir() else ():
                        name = f"{folder}/{entry}"
                        if entry.endswith(".json") and name not in staged:
                            modes.make_dir(aside / folder)
                            os.rename(data_dir / name, aside / name)
                            result.moved_aside.append(name)
                            result.replaced = aside
        for name in result.files:
            resolve(data_dir, name)
        _reindex(data_dir, result.files)
        return result
    except (OSError, tarfile.TarError) as exc:
        raise StoreError(f"{archive}: cannot restore ({getattr(exc, 'strerror', None) or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if collector.is_locked:
            collector.release()


def _unpack(archive: Path, staging: Path, wanted: set[str] | None) -> list[str]:
    """Unpack the wanted regular files into `staging`, each with the data files' mode."""
    out = []
    modes.make_dir(staging)
    with tarfile.open(archive, mode="r:gz") as tar:
        for info in tar:
            if not info.isfile():
                continue
            name = _safe(info.name)
            if wanted is not None and name not in wanted:
                continue
            source = tar.extractfile(info)
            dest = staging / name
            modes.make_dir(dest.parent)
            fd = modes.create(dest, os.O_WRONLY | os.O_EXCL)
            with os.fdopen(fd, "wb") as f:
                if source is not None:
                    shutil.copyfileobj(source, f)
                f.flush()
                os.fsync(f.fileno())
            out.append(name)
    return out


def _keep(target: Path, kept: Path) -> None:
    """Keep the file about to be replaced: a hard link (no copy, the file as it is now)."""
    modes.make_dir(kept.parent)
    try:
        os.link(target, kept)
    except OSError:
        shutil.copy2(target, kept)


def _reindex(data_dir: Path, files: list[str]) -> None:
    """Fresh indexes for the restored segments (an index names its segment file's inode)."""
    from store.store import Store  # the indexes are the store's business

    segments = sorted({int(Path(n).stem) for n in files if Path(n).parent.name in _SEGMENT_DIRS and Path(n).stem.isdigit()})
    if not segments:
        return
    store = Store(data_dir)
    try:
        for seg in segments:
            store.rewrite_segment(seg, lambda content, state: (None, None))
    finally:
        store.close()
