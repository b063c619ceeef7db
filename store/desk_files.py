"""The desk's files besides the mentions, as erasure and retention see them.

    notes.jsonl               notes for the next shift (store/notes.py): {at, who, text}
    crisis.jsonl              the crisis log (store/crisis.py): {at, who, kind, text}
    handover-*.md             handovers saved from the desk (`p` on the handover screen)
    drafts.json               unsent replies: {"drafts": {mention id: {operator, text, saved_at}}}
    presence/*.json           which mention each open desk shows and replies to (store/presence.py)
    checkpoints/*.json        where each source is (sources/source.py): cursors, newest refs seen

An erasure (store.retention.forget) passes each of them, and each member of a backup archive,
through `erase_in` with an eraser that knows the person (their handles, names, the ids and
refs of their mentions, the first words of their posts). What it does per file:

- journals (notes, crisis log) keep every entry; in a text their names and their mentions'
  ids become "[…]", and a text that quotes one of their posts becomes "[…]" as a whole. The crisis log's start/decision/end structure stays, so crisis mode does
  not change.
- a saved handover is a document: a line about one of their mentions (its id, their words)
  becomes "- […]", other lines lose the name.
- drafts of their mentions, and drafts whose text names them, are dropped.
- presence: a desk showing or replying to one of their mentions shows nothing instead (a
  desk still open announces the mention again: an id of an anonymised mention names nobody).
- checkpoints: a ref of one of their posts is dropped from a list of refs seen, and a cursor
  that is one of their posts' ids moves one back (a text cursor becomes null). A source that
  fetches their post again after that does not collect it again: its mention id (a hash of
  the source and the post's link) is kept, anonymised, in the store, and the store never
  stores an id twice.

Retention (`expire`) drops notes and saved handovers older than the cutoff, empties the text
of older crisis-log entries (the structure stays), drops drafts of mentions first seen before
the cutoff, presence files of desks that are gone, and the quarantine's copies a restore has
dealt with once they are older than the cutoff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import orjson

from store.jsonstorage import read_json, write_atomically
from store.quarantine import QUARANTINE, REPLACED, RESTORED

NOTES = "notes.jsonl"
CRISIS = "crisis.jsonl"
DRAFTS = "drafts.json"
PRESENCE = "presence"
CHECKPOINTS = "checkpoints"
HANDOVER = re.compile(r"^handover-\d{4}-\d{2}-\d{2}-\d{4}\.md$")
REMOVED = "[…]"
TEXT_SUFFIXES = (".json", ".jsonl", ".md", ".txt", ".log", ".csv")  # what may be rewritten as text


class Eraser(Protocol):
    ids: set[str]
    refs: set[str]

    def found(self, text: str) -> bool: ...
    def text(self, value: str) -> str: ...
    def redact(self, value: Any) -> Any: ...


def kind_of(name: str) -> str:
    """What a file is, by its path relative to the data directory (a backup member's name)."""
    parts = name.split("/")
    base = parts[-1]
    if len(parts) == 2 and parts[0] in ("mentions", "state") and base.endswith(".json"):
        return "segment"
    if len(parts) == 2 and parts[0] == PRESENCE and base.endswith(".json"):
        return "presence"
    if len(parts) == 2 and parts[0] == CHECKPOINTS and base.endswith(".json"):
        return "checkpoint"
    if len(parts) == 1:
        if base in (NOTES, CRISIS):
            return "journal"
        if base == DRAFTS:
            return "drafts"
        if HANDOVER.match(base):
            return "handover"
    if base.endswith(".json"):
        return "json"
    if base.endswith(TEXT_SUFFIXES):
        return "text"
    return "other"


# --- erasure ---------------------------------------------------------------------------------


def erase_in(name: str, data: bytes, er: Eraser) -> bytes | None:
    """`data` (the file `name`) without the person, or None when nothing changes (also for a
    segment, which store.retention rewrites itself, and a file that is not text)."""
    kind = kind_of(name)
    if kind in ("segment", "other"):
        return None
    text = data.decode("utf-8", "replace")
    if not er.found(text) and not _names_id(text, er):
        return None
    if kind == "journal":
        new = _journal(text, er)
    elif kind == "handover":
        new = _handover(text, er).encode()
    else:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
            if kind != "text":
                return None  # a damaged JSON file: left as it is, and named by the check
        if value is not None and kind != "text":
            if kind == "drafts":
                value = _drafts(value, er)
            elif kind == "presence":
                value = _presence(value, er)
            elif kind == "checkpoint":
                value = _checkpoint(value, er)
            else:
                value = er.redact(value)
            new = orjson.dumps(value)
        else:
            new = "".join(_line(line, er) for line in text.splitlines(keepends=True)).encode()
    return None if new == data else new


def _line(line: str, er: Eraser) -> str:
    """One line of a text file without the person, its line break kept."""
    body = line.rstrip("\r\n")
    return er.text(body) + line[len(body) :]


def _names_id(text: str, er: Eraser) -> bool:
    return any(i in text for i in er.ids)


def _journal(text: str, er: Eraser) -> bytes:
    out = []
    for line in text.splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            if not er.found(line) and not _names_id(line, er):
                out.append(line)  # a line cut short: kept unless it is theirs
            continue
        if isinstance(entry, dict):
            entry = {k: er.text(v) if isinstance(v, str) and k not in ("at", "kind") else er.redact(v) for k, v in entry.items()}
        out.append(orjson.dumps(entry).decode())
    return "".join(f"{line}\n" for line in out).encode()


def _handover(text: str, er: Eraser) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        if _names_id(body, er) or er.text(body) == REMOVED and body.strip():
            lead = re.match(r"^\s*(?:[-*]\s+)?", body)[0]  # type: ignore[index]  # always matches
            out.append(f"{lead}{REMOVED}" + line[len(body) :])
        else:
            out.append(_line(line, er))
    return "".join(out)


def _drafts(value: Any, er: Eraser) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("drafts"), dict):
        return er.redact(value)
    kept = {
        k: d
        for k, d in value["drafts"].items()
        if k not in er.ids and not er.found(orjson.dumps(d).decode()) and not er.found(k)
    }
    return {**value, "drafts": kept}


def _presence(value: Any, er: Eraser) -> Any:
    if not isinstance(value, dict):
        return er.redact(value)
    out = {k: None if k in ("viewing", "claim") and v in er.ids else v for k, v in value.items()}
    if out.get("claim") is None:
        out["claim_since"] = None
    return er.redact(out)


def _is_ref(value: Any, er: Eraser) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value) in er.refs


def _back(value: Any) -> Any:
    """A cursor that is one of their posts' ids, moved to just before it (see the module)."""
    if isinstance(value, int):
        return value - 1
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return str(int(value) - 1)
    return None


def _checkpoint(value: Any, er: Eraser) -> Any:
    if isinstance(value, dict):
        return {
            er.text(k): _back(v) if _is_ref(v, er) else _checkpoint(v, er)
            for k, v in value.items()
            if not _is_ref(k, er)
        }
    if isinstance(value, list):
        return [_checkpoint(v, er) for v in value if not _is_ref(v, er)]
    if isinstance(value, str):
        return er.text(value)
    return value


def desk_files(data_dir: Path) -> Iterator[Path]:
    """The files `erase_in` knows, as they are in the data directory now."""
    for name in (NOTES, CRISIS, DRAFTS):
        if (data_dir / name).exists():
            yield data_dir / name
    for folder in (PRESENCE, CHECKPOINTS):
        try:
            names = sorted(os.listdir(data_dir / folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        yield from (data_dir / folder / n for n in names if n.endswith(".json") and not n.startswith("."))
    for name in sorted(os.listdir(data_dir)):
        if HANDOVER.match(name):
            yield data_dir / name


def rewrite(path: Path, change: Callable[[bytes], bytes | None]) -> bool:
    """Replace `path` atomically with what `change` makes of its bytes (None: leave it).
    Call holding the data directory's write lock."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return False
    new = change(data)
    if new is None or new == data:
        return False
    write_atomically(path, new)
    return True


# --- retention -------------------------------------------------------------------------------


def _before(at: Any, cutoff: datetime) -> bool | None:
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment < cutoff


def _expire_journal(data: bytes, cutoff: datetime, drop: bool) -> bytes:
    """Entries before `cutoff` dropped (`drop`), or with their text emptied; unreadable
    lines (cut short by a crash) dropped."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(entry, dict):
            continue
        if _before(entry.get("at"), cutoff) is not False:
            if drop:
                continue
            entry = {**entry, "text": ""}
        out.append(orjson.dumps(entry))
    return b"".join(line + b"\n" for line in out)


def expire(
    data_dir: Path,
    cutoff: datetime,
    now: datetime,
    first_seen: Callable[[str], datetime | None],
    stale: float,
) -> dict[str, int]:
    """Retention for the desk's other files (see the module); call holding the write lock.
    `first_seen(mention id)` says when a draft's mention came in (None: unknown); presence
    files not written for `stale` seconds are of desks that are gone. Returns what changed."""
    done = {"notes": 0, "crisis": 0, "handovers": 0, "drafts": 0, "presence": 0, "quarantine": 0}
    for name, key, drop in ((NOTES, "notes", True), (CRISIS, "crisis", False)):
        path = data_dir / name
        if rewrite(path, partial(_expire_journal, cutoff=cutoff, drop=drop)):
            done[key] += 1
    for name in os.listdir(data_dir):
        path = data_dir / name
        if HANDOVER.match(name):
            try:
                if path.stat().st_mtime < cutoff.timestamp():
                    path.unlink()
                    done["handovers"] += 1
            except FileNotFoundError:
                pass

    def drafts(data: bytes) -> bytes | None:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        table = value.get("drafts") if isinstance(value, dict) else None
        if not isinstance(table, dict):
            return None
        kept = {}
        for mention_id, draft in table.items():
            seen = first_seen(mention_id)
            saved = draft.get("saved_at") if isinstance(draft, dict) else None
            old = seen < cutoff if seen is not None else _before(saved, cutoff) is not False
            if not old:
                kept[mention_id] = draft
        done["drafts"] += len(table) - len(kept)
        return orjson.dumps({**value, "drafts": kept}) if len(kept) != len(table) else None

    rewrite(data_dir / DRAFTS, drafts)
    try:
        names = os.listdir(data_dir / PRESENCE)
    except FileNotFoundError:
        names = []
    for name in names:
        path = data_dir / PRESENCE / name
        try:
            record = read_json(path)
            gone = now.timestamp() - path.stat().st_mtime > stale
        except (OSError, ValueError):
            continue
        if gone:
            path.unlink(missing_ok=True)
            done["presence"] += 1
            continue
        if isinstance(record, dict):
            old = {k for k in ("viewing", "claim") if isinstance(record.get(k), str) and (s := first_seen(record[k])) is not None and s < cutoff}
            if old:
                write_atomically(path, orjson.dumps({**record, **dict.fromkeys(old)}))
                done["presence"] += 1
    done["quarantine"] = _expire_dealt_with(data_dir, cutoff)
    return done


def _expire_dealt_with(data_dir: Path, cutoff: datetime) -> int:
    """Copies in quarantine that a restore has dealt with (quarantine/restored: the damaged
    file, quarantine/replaced: what a restore put aside) hold personal data like any file:
    once last written before the cutoff they go. A damaged file nobody has restored yet stays
    (`webcare check` keeps naming it): it may hold what no backup has."""
    removed = 0
    for folder in (RESTORED, REPLACED):
        root = data_dir / QUARANTINE / folder
        for parent, _dirs, files in os.walk(root, topdown=False):
            for name in files:
                path = Path(parent) / name
                try:
                    if path.stat().st_mtime < cutoff.timestamp():
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
            if Path(parent) != root:
                try:
                    os.rmdir(parent)  # an emptied folder of one restore
                except OSError:
                    pass
    return removed
