"""Damaged files are moved aside, never deleted: data_dir/quarantine/.

A segment, an index, the plan or a journal that cannot be read (a truncated or overwritten
file, garbage in it) would otherwise stop every desk and the collector at start. Instead the
reader moves it here, keeping its path and adding when:

    quarantine/mentions/000003.json.20261205T044512Z
    quarantine/plan.json.20261205T050102Z
    quarantine/log.jsonl                       one line per move: when, what, why

and goes on with everything else. The file stays here for `webcare restore` (which puts the
backup's copy back and files the quarantined one under quarantine/restored/) or for a person to
look at; `webcare check` lists what lies here and the exact command to restore it. Files a
restore replaced are kept under quarantine/replaced/<when>/, so a restore loses nothing either.

A content segment's number stays taken while its file lies here (`reserved_segments`): new
mentions go into a segment of their own, so the damaged one can be restored without overwriting
what was collected since.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store.modes import make_dir

QUARANTINE = "quarantine"
RESTORED = "restored"  # quarantined files a restore (or a person) has dealt with
REPLACED = "replaced"  # the files a restore replaced, by the restore's time
LOG = "log.jsonl"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<name>.+)\.(?P<at>\d{8}T\d{6}Z)(?:-\d+)?$")
_SEGMENT = re.compile(r"^(\d{6})\.json$")
# What is rebuilt from other files by itself: quarantined for a look, never to be restored.
DERIVED_SUFFIX = ".idx"


@dataclass(frozen=True, slots=True)
class Quarantined:
    name: str  # its path in the data directory, e.g. "mentions/000003.json"
    path: Path  # where it lies now
    at: datetime
    reason: str = ""

    @property
    def derived(self) -> bool:
        """An index: rebuilt from its segment, nothing to restore."""
        return self.name.endswith(DERIVED_SUFFIX)


def quarantine_dir(data_dir: Path) -> Path:
    return Path(data_dir) / QUARANTINE


def move_aside(data_dir: Path, path: Path, reason: str, now: datetime | None = None) -> Path | None:
    """Move `path` (inside `data_dir`) into the quarantine, with the time in its name, and log
    why. Returns where it went, or None when it was gone already (another process moved it).
    Call holding the data directory's write lock, after checking the file is still the damaged
    one: a writer replaces files whole, so it could have put a good one there meanwhile."""
    data_dir = Path(data_dir)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    name = Path(path).relative_to(data_dir)
    target = quarantine_dir(data_dir) / name.parent / f"{name.name}.{now:{_STAMP}}"
    make_dir(target.parent)
    n = 1
    while target.exists():  # twice in one second: keep both
        n += 1
        target = target.with_name(f"{name.name}.{now:{_STAMP}}-{n}")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    line = {"at": now.isoformat(timespec="seconds"), "file": str(name), "moved_to": str(target.relative_to(data_dir)), "reason": reason[:500]}
    try:
        with open(quarantine_dir(data_dir) / LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError:
        pass  # the move is what counts; the reason is a courtesy
    return target


def _reasons(data_dir: Path) -> dict[str, str]:
    try:
        lines = (quarantine_dir(data_dir) / LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        try:
            entry = json.loads(line)
            out[str(entry["moved_to"])] = str(entry.get("reason", ""))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _walk(root: Path, skip: set[str]) -> list[Path]:
    out = []
    for here, dirs, names in os.walk(root):
        if Path(here) == root:
            dirs[:] = [d for d in dirs if d not in skip]
        out += [Path(here) / n for n in names]
    return out


def quarantined(data_dir: Path, reasons: bool = True) -> list[Quarantined]:
    """What lies in the quarantine and is not dealt with yet, oldest first (with why, from the
    log, unless `reasons` is False: the desk asks every second and needs only the names)."""
    data_dir = Path(data_dir)
    root = quarantine_dir(data_dir)
    if not root.is_dir():
        return []
    why: dict[str, str] | None = None if reasons else {}
    out = []
    for path in _walk(root, {RESTORED, REPLACED}):
        m = _NAME.match(path.name)
        if m is None:
            continue  # the log, or something a person put here
        if why is None:
            why = _reasons(data_dir)
        rel = path.relative_to(root)
        at = datetime.strptime(m["at"], _STAMP).replace(tzinfo=UTC)
        out.append(Quarantined(str(rel.parent / m["name"]), path, at, why.get(str(path.relative_to(data_dir)), "")))
    return sorted(out, key=lambda q: (q.at, q.name))


def damaged(data_dir: Path) -> list[str]:
    """The data files that lie in the quarantine waiting for a restore (indexes are rebuilt by
    themselves and not named): what the desk's header names."""
    return list(dict.fromkeys(q.name for q in quarantined(data_dir, reasons=False) if not q.derived))


def reserved_segments(data_dir: Path) -> set[int]:
    """Content segment numbers whose file lies in the quarantine (dealt with or not): new
    mentions never go there, so a restore of that segment never overwrites newer ones."""
    root = quarantine_dir(data_dir) / "mentions"
    out = set()
    for folder in (root, quarantine_dir(data_dir) / RESTORED / "mentions"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for n in names:
            m = _NAME.match(n)
            if m and (s := _SEGMENT.match(m["name"])):
                out.add(int(s[1]))
    return out


def resolve(data_dir: Path, name: str) -> int:
    """Mark the quarantined copies of `name` as dealt with (moved to quarantine/restored/);
    returns how many. Nothing is deleted."""
    moved = 0
    for q in quarantined(data_dir):
        if q.name == name:
            target = quarantine_dir(data_dir) / RESTORED / q.path.relative_to(quarantine_dir(data_dir))
            make_dir(target.parent)
            os.rename(q.path, target)
            moved += 1
    return moved
