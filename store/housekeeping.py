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
from datetime import datetime, timedelta
from pathlib import Path

from store.backup import archive_name, backup
from store.retention import anonymise_older_than, expire_desk_files
from store.store import Store
from webcare.config import Config

CHECK_EVERY = 3600.0  # seconds: a day's chores are noticed within the hour after midnight
FIRST_CHECK = 300.0  # seconds after the collector starts: a desk opened for a minute does none


@dataclass(frozen=True, slots=True)
class ChoresDone:
    anonymised: int
    archive: Path | None


def backups_dir(config: Config) -> Path:
    return config.retention.backup_dir or config.data_dir / "backups"


def due(config: Config, now: datetime) -> bool:
    """Whether today's chores are still to do (today's backup is missing)."""
    local = now.astimezone(config.timezone)
    return not (backups_dir(config) / archive_name(local)).exists()


def run_chores(config: Config, store: Store, now: datetime) -> ChoresDone:
    anonymised = 0
    if config.retention.days:
        cutoff = now - timedelta(days=config.retention.days)
        anonymised = anonymise_older_than(store, cutoff, now)
        expire_desk_files(store, cutoff, now)  # notes, crisis log, handovers, drafts, presence
    archive = backup(config.data_dir, backups_dir(config), now.astimezone(config.timezone), keep=config.retention.backups)
    return ChoresDone(anonymised, archive)


async def daily(config: Config, store: Store, clock: Callable[[], datetime]) -> None:
    """Run the chores when they are due, for as long as the collector runs. In a process of
    their own (`webcare housekeeping`): compressing a large store takes seconds of CPU, which
    in the desk's process would hold up its key presses."""
    await asyncio.sleep(FIRST_CHECK)
    while True:
        if due(config, clock()):
            try:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "webcare.cli", "housekeeping", "--config", str(config.path),
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
                await process.wait()
            except OSError:  # cannot start a process now; the next hour tries again
                pass
        await asyncio.sleep(CHECK_EVERY)
