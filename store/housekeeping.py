"""The collector's daily chores: anonymise what is past the retention period (the mentions,
and the notes, crisis log, saved handovers, drafts and presence: store/desk_files.py), then
back up.

Whoever collects for a data directory (`webcare collect`, or the desk that holds the collector
lease) has them run once a day, in a process of their own, retention first so the backup never
keeps what retention removed.
`webcare housekeeping` runs them at once (for cron, or before a restore is handed over).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from store.backup import archive_name, backup
from store.retention import anonymise_older_than, expire_desk_files
from store.store import Store
from webcare.config import Config
from webcare.untrusted import clean_line

CHECK_EVERY = 3600.0  # seconds: a day's chores are noticed within the hour after midnight
FIRST_CHECK = 300.0  # seconds after the collector starts: a desk opened for a minute does none


@dataclass(frozen=True, slots=True)
class ChoresDone:
    anonymised: int
    archive: Path | None
    errors: tuple[str, ...] = ()  # "backup: No space left on device", as recorded


def backups_dir(config: Config) -> Path:
    return config.retention.backup_dir or config.data_dir / "backups"


def due(config: Config, now: datetime) -> bool:
    """Whether today's chores are still to do (today's backup is missing). On PostgreSQL
    ([store]), which makes no archive: whether they have not run yet today (the health table's
    "housekeeping", whichever collector ran them)."""
    local = now.astimezone(config.timezone)
    if config.store is not None:
        from store.postgres.retention import read_housekeeping

        ran = (read_housekeeping(config.store) or {}).get("last_run_at")
        try:
            return datetime.fromisoformat(str(ran)).astimezone(config.timezone).date() != local.date()
        except ValueError:
            return True
    return not (backups_dir(config) / archive_name(local)).exists()


def _why(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return clean_line(text, 200)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def run_chores(config: Config, store: Store, now: datetime) -> ChoresDone:
    """Retention, then the backup; each one's outcome (or error) is recorded in health.json's
    "housekeeping" for the header and `webcare check`. A failed retention run does not stop
    the backup: a day without a backup is the worse loss, and retention runs again tomorrow."""
    anonymised, archive, errors = 0, None, []
    record: dict[str, Any] = {"last_run_at": _iso(now)}
    if config.retention.days:
        try:
            cutoff = now - timedelta(days=config.retention.days)
            anonymised = anonymise_older_than(store, cutoff, now, config.retention.evidence_days)
            expire_desk_files(store, cutoff, now)  # notes, crisis log, handovers, drafts, presence
            record.update(last_retention_at=_iso(now), anonymised=anonymised)
        except Exception as exc:  # recorded and shown; the backup still runs
            errors.append(f"retention: {_why(exc)}")
    try:
        archive = backup(config.data_dir, backups_dir(config), now.astimezone(config.timezone), keep=config.retention.backups)
        st = archive.stat()
        record.update(
            last_backup_at=_iso(datetime.fromtimestamp(st.st_mtime, UTC)), last_backup=str(archive), last_backup_size=st.st_size
        )
    except Exception as exc:
        errors.append(f"backup: {_why(exc)}")
    record.update(error="; ".join(errors), error_at=_iso(now) if errors else None)
    try:
        store.record_housekeeping(record)
    except OSError:  # a full disk: the exit code and the message still say it
        pass
    return ChoresDone(anonymised, archive, tuple(errors))


async def daily(config: Config, store: Store, clock: Callable[[], datetime]) -> None:
    """Run the chores when they are due, for as long as the collector runs. In a process of
    their own (`webcare housekeeping`): compressing a large store takes seconds of CPU, which
    in the desk's process would hold up its key presses."""
    await asyncio.sleep(FIRST_CHECK)
    while True:
        if due(config, clock()):
            try:
                started = clock()
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "webcare.cli", "housekeeping", "--config", str(config.path),
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
                code = await process.wait()
            except OSError as exc:  # cannot start a process now; the next hour tries again
                code, started = None, clock()
                _record_failure(store, started, f"cannot start webcare housekeeping: {_why(exc)}")
            if code:
                _record_failure(store, started, f"webcare housekeeping stopped with exit code {code}")
        await asyncio.sleep(CHECK_EVERY)


def _record_failure(store: Store, started: datetime, error: str) -> None:
    """A run that died before it could record its own outcome: record that, never silently."""
    ran = (store.read_health().get("housekeeping") or {}).get("last_run_at")
    if ran and ran >= _iso(started):
        return  # it recorded what went wrong itself
    try:
        store.record_housekeeping({"error": error, "error_at": _iso(started)})
    except OSError:
        pass
