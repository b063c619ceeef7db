"""Moving a desk between stores: `webcare migrate --to postgresql://… | DIR`.

Copies everything a desk keeps from the configured store (a TinyDB data directory or a
PostgreSQL database) into an empty one of the other kind, then reads the copy back and compares
it with what was read, kind by kind: the count, and a checksum over each record's canonical JSON
(keys sorted, times as UTC ISO text). What is copied, as each store keeps it:

- the mentions: content, state and every history entry as stored (the stores' import_mentions:
  nothing is appended to a history, so versions, times and the arrival order stay as they were);
- the plan (items with their ids and times), the shift notes and the crisis log (in order), the
  drafts, the experts' hand-offs with their keys (answered and replaced ones too: the desk shows
  them, and an answer to a replaced question is still recognised as one), the sources'
  checkpoints, the collector's health and housekeeping record, the alerts' once-only marks and
  the ambassadors' digest marks.

Not copied: the desks' presence (it is rebuilt within seconds by the desks that open on the new
store), the source leases (a collector takes them on its start), backups and the quarantine of
a data directory (a database has its own backups), privacy.log (the erasure log stays where it
was written, with the secret its hashes are keyed with).

The checksum of a kind whose records have no order of their own (everything but the notes and
the crisis log) is the sum of the records' SHA-256 values modulo 2**256: it does not depend on
the order either store reads them in, needs no sort of 100,000 records in memory, and still
counts a record copied twice. The journals' checksum is one SHA-256 over their records in order.

Reading the source is strict: a file of a data directory that cannot be read (which the desk
would move to the quarantine and go on without) stops the migration with the file named, so
nothing is left behind unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from store.jsonstorage import StoreError, read_json, write_atomically
from store.modes import make_dir
from webcare.untrusted import clean_line

if TYPE_CHECKING:
    from store.postgres.mentions import PostgresStore
    from store.store import Store

Record = dict[str, Any]
MentionBlock = list[tuple[Record, Record | None]]

# The kinds, in the order they are copied and reported. MENTIONS first: the biggest.
MENTIONS = "mentions"
KINDS = (MENTIONS, "plan", "notes", "crisis log", "drafts", "hand-offs", "checkpoints", "health", "alert marks", "digest marks")
FILES = {  # where a data directory keeps each kind
    "plan": "plan.json", "notes": "notes.jsonl", "crisis log": "crisis.jsonl", "drafts": "drafts.json",
    "hand-offs": "handoffs.json", "checkpoints": "checkpoints", "health": "health.json", "alert marks": "alerts.json",
    "digest marks": "digests.json",
}  # fmt: skip
ORDERED = frozenset({"notes", "crisis log"})  # journals: their order is part of what is copied
_SUM = 2**256

# The database's tables a migration writes (and must find empty), for the refusal's words.
TABLES = (
    "mentions", "plan_items", "notes", "crisis_log", "drafts", "handoffs", "checkpoints", "health",
    "alerts_sent", "alert_targets", "digests",
)  # fmt: skip
CHECKPOINT_SCRUBS = "checkpoint_scrubs"  # a database's erasure counter: not health (mentions.py)


# --- the canonical records -------------------------------------------------------------------


def _when(value: Any) -> str | None:
    """A time as UTC ISO text, from a datetime (the database) or ISO text (the files); a naive
    one is taken as UTC. None stays None."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _mention(content: Record, state: Record | None) -> Record:
    # A state without a history key reads back from the database with an empty one.
    if state is not None and "history" not in state:
        state = {**state, "history": []}
    return {"content": content, "state": state}


@dataclass
class Tally:
    """A kind's count and checksum (see the module docstring)."""

    ordered: bool = False
    count: int = 0
    _sum: int = 0
    _hash: Any = field(default_factory=hashlib.sha256)

    def add(self, record: Any) -> None:
        data = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        self.count += 1
        if self.ordered:
            self._hash.update(hashlib.sha256(data).digest())
        else:
            self._sum = (self._sum + int.from_bytes(hashlib.sha256(data).digest(), "big")) % _SUM

    @property
    def checksum(self) -> str:
        return self._hash.hexdigest() if self.ordered else f"{self._sum:064x}"


def tally(kind: str, records: Iterable[Any]) -> Tally:
    t = Tally(ordered=kind in ORDERED)
    for r in records:
        t.add(r)
    return t


# --- the two kinds of store ------------------------------------------------------------------


class FilesSide:
    """A TinyDB data directory: read strictly, written as the desk's own files."""

    def __init__(self, store: Store, source_names: Iterable[str] = ()) -> None:
        self.store = store
        self.data_dir = store.data_dir
        self.where = str(store.data_dir)
        self.source_names = list(source_names)
        self.notes: list[str] = []  # what the caller should hear besides the counts

    # reading

    def _json(self, name: str) -> Any:
        path = self.data_dir / name
        try:
            return read_json(path)
        except ValueError as exc:
            raise StoreError(f"{path}: damaged, not copied ({exc}); restore it first (webcare restore {name})") from None
        except OSError as exc:
            raise StoreError.of(path, "read", exc) from None

    def _shaped(self, name: str, data: Any, ok: Callable[[Any], bool]) -> None:
        if data is not None and not ok(data):
            raise StoreError(f"{self.data_dir / name}: damaged (not what the desk writes there), not copied; restore it first")

    def _journal(self, name: str, fields: tuple[str, ...]) -> list[Record]:
        path = self.data_dir / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError.of(path, "read", exc) from None
        lines = raw.decode("utf-8", errors="replace").splitlines()
        out = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                out.append({k: (_when(entry[k]) if k == "at" else str(entry.get(k, ""))) for k in fields})
            except (ValueError, KeyError, TypeError, AttributeError):
                if number == len(lines) and not raw.endswith(b"\n"):
                    continue  # a last line a crash cut short: the desk skips it too
                raise StoreError(f"{path}: line {number} is damaged, not copied; restore the file first") from None
        return out

    def mentions(self) -> Iterator[MentionBlock]:
        return self.store.export_mentions()

    def read(self, kind: str) -> list[Record]:
        """A kind's canonical records; StoreError naming the file when one is not what the desk
        writes there (a record the other store could not hold, or would hold otherwise)."""
        try:
            records = self._read(kind)
            if kind == "plan":
                from webcare.planning import PlanItem

                for r in records:
                    PlanItem.from_record(r)
            elif kind == "digest marks":
                for r in records:
                    date.fromisoformat(r["day"])
            return records
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"{self.data_dir / FILES[kind]}: damaged ({clean_line(repr(exc), 200)}), not copied; restore it first") from None

    def _read(self, kind: str) -> list[Record]:
        if kind == "plan":
            data = self._json("plan.json")
            self._shaped("plan.json", data, lambda d: isinstance(d, dict) and isinstance(d.get("_default", {}), dict))
            return list(((data or {}).get("_default") or {}).values())
        if kind == "notes":
            return self._journal("notes.jsonl", ("at", "who", "text"))
        if kind == "crisis log":
            return self._journal("crisis.jsonl", ("at", "who", "kind", "text"))
        if kind == "drafts":
            data = self._json("drafts.json")
            self._shaped("drafts.json", data, lambda d: isinstance(d, dict) and isinstance(d.get("drafts", {}), dict))
            return [
                {"mention_id": m, "operator": str(d["operator"]), "text": str(d["text"]), "saved_at": _when(d["saved_at"])}
                for m, d in ((data or {}).get("drafts") or {}).items()
            ]
        if kind == "hand-offs":
            data = self._json("handoffs.json")
            self._shaped("handoffs.json", data, lambda d: isinstance(d, dict) and all(isinstance(v, list) for v in d.values()))
            return [_handoff(m, h) for m, sent in (data or {}).items() for h in sent]
        if kind == "checkpoints":
            return self._checkpoints()
        if kind == "health":
            data = self._json("health.json")
            self._shaped("health.json", data, lambda d: isinstance(d, dict))
            return [{"key": k, "record": v} for k, v in (data or {}).items()]
        if kind == "alert marks":
            data = self._json("alerts.json")
            self._shaped("alerts.json", data, lambda d: isinstance(d, dict))
            data = data or {}
            return [{"event": e, "at": _when(at)} for e, at in (data.get("sent") or {}).items()] + [
                {"target": n, "state": s} for n, s in (data.get("targets") or {}).items()
            ]
        if kind == "digest marks":
            data = self._json("digests.json")
            self._shaped("digests.json", data, lambda d: isinstance(d, dict))
            return [{"day": day, "record": r} for day, r in (data or {}).items()]
        raise ValueError(kind)

    def _checkpoints(self) -> list[Record]:
        # A checkpoint's file is named by a hash of its source's name: the names come from
        # config.toml's [[sources]], and files of sources no longer there are said, not copied.
        out, found = [], set()
        for name in self.source_names:
            path = self.store._checkpoint_path(name)
            if not path.exists():
                continue
            rel = str(path.relative_to(self.data_dir))
            data = self._json(rel)
            self._shaped(rel, data, lambda d: isinstance(d, dict))
            out.append({"source": name, "state": data})
            found.add(path.name)
        folder = self.data_dir / "checkpoints"
        left = sorted(n for n in (os.listdir(folder) if folder.is_dir() else ()) if n.endswith(".json") and n not in found)
        if left:
            self.notes.append(
                f"{len(left)} checkpoint(s) of sources no longer in config.toml not copied ({', '.join(left[:3])}"
                f"{', …' if len(left) > 3 else ''}): those sources start afresh should they come back"
            )
        return out

    # the target

    def occupied(self) -> list[str]:
        return []  # checked on the folder before the store is opened (files_target)

    def write(self, small: dict[str, list[Record]], mentions: Iterator[MentionBlock]) -> None:
        self.store.import_mentions(mentions)
        put = self._put
        put("plan.json", {"_default": {str(i): r for i, r in enumerate(small["plan"], 1)}}, not small["plan"])
        self._lines("notes.jsonl", small["notes"])
        self._lines("crisis.jsonl", small["crisis log"])
        drafts = {d["mention_id"]: {k: d[k] for k in ("operator", "text", "saved_at")} for d in small["drafts"]}
        put("drafts.json", {"drafts": drafts}, not drafts)
        handoffs: dict[str, list[Record]] = {}
        for h in small["hand-offs"]:
            handoffs.setdefault(h["mention_id"], []).append({k: v for k, v in h.items() if k != "mention_id"})
        put("handoffs.json", handoffs, not handoffs)
        for c in small["checkpoints"]:
            self.store.write_checkpoint(c["source"], c["state"])
        self.source_names = [c["source"] for c in small["checkpoints"]]  # to read them back by
        put("health.json", {h["key"]: h["record"] for h in small["health"]}, not small["health"])
        marks = small["alert marks"]
        put("alerts.json", {"sent": {m["event"]: m["at"] for m in marks if "event" in m},
                            "targets": {m["target"]: m["state"] for m in marks if "target" in m}}, not marks)  # fmt: skip
        put("digests.json", {d["day"]: d["record"] for d in small["digest marks"]}, not small["digest marks"])

    def _put(self, name: str, data: dict[str, Any], empty: bool = False) -> None:
        if not empty:  # no file for nothing, as the desk writes none
            write_atomically(self.data_dir / name, orjson.dumps(data))

    def _lines(self, name: str, entries: list[Record]) -> None:
        if entries:
            text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
            write_atomically(self.data_dir / name, text.encode())


def _handoff(mention_id: str, h: Record) -> Record:
    return {
        "mention_id": mention_id, "key": str(h["key"]), "kind": str(h["kind"]), "to": str(h["to"]),
        "name": str(h.get("name") or ""), "at": _when(h["at"]), "deputy_for": str(h.get("deputy_for") or ""),
        "answered_at": _when(h.get("answered_at")), "replaced_at": _when(h.get("replaced_at")),
        "answer_ref": str(h.get("answer_ref") or ""),
    }  # fmt: skip


class DatabaseSide:
    """A PostgreSQL database: read with SQL, written in one transaction (all or nothing)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.where = store.where
        self.notes: list[str] = []

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.store._conn() as conn:
            return conn.execute(sql, params).fetchall()

    def mentions(self) -> Iterator[MentionBlock]:
        return self.store.export_mentions()

    def read(self, kind: str) -> list[Record]:
        if kind == "plan":
            return [r[0] for r in self._rows("SELECT item FROM plan_items ORDER BY id")]
        if kind == "notes":
            return [{"at": _when(a), "who": w, "text": t} for a, w, t in self._rows("SELECT at, who, text FROM notes ORDER BY seq")]
        if kind == "crisis log":
            return [{"at": _when(a), "who": w, "kind": k, "text": t}
                    for a, w, k, t in self._rows("SELECT at, who, kind, text FROM crisis_log ORDER BY seq")]  # fmt: skip
        if kind == "drafts":
            return [{"mention_id": m, "operator": o, "text": t, "saved_at": _when(s)}
                    for m, o, t, s in self._rows("SELECT mention_id, operator, text, saved_at FROM drafts")]  # fmt: skip
        if kind == "hand-offs":
            return [
                {"mention_id": m, "key": k, "kind": kind_, "to": to, "name": n, "at": _when(at), "deputy_for": d,
                 "answered_at": _when(a), "replaced_at": _when(r), "answer_ref": ref}
                for k, m, kind_, to, n, at, d, a, r, ref in self._rows(
                    "SELECT key, mention_id, kind, to_address, name, at, deputy_for, answered_at, replaced_at, answer_ref FROM handoffs")
            ]  # fmt: skip
        if kind == "checkpoints":
            return [{"source": s, "state": st} for s, st in self._rows("SELECT source, state FROM checkpoints")]
        if kind == "health":
            return [{"key": k, "record": r} for k, r in self._rows("SELECT key, record FROM health WHERE key <> %s", (CHECKPOINT_SCRUBS,))]
        if kind == "alert marks":
            return [{"event": e, "at": _when(a)} for e, a in self._rows("SELECT event, at FROM alerts_sent")] + [
                {"target": n, "state": s} for n, s in self._rows("SELECT name, state FROM alert_targets")
            ]
        if kind == "digest marks":
            return [{"day": d.isoformat(), "record": r} for d, r in self._rows("SELECT day, record FROM digests")]
        raise ValueError(kind)

    def occupied(self) -> list[str]:
        with self.store._conn() as conn:
            counts = [(t, conn.execute(f"SELECT count(*) FROM {t}").fetchone()) for t in TABLES]  # names: the constant above
        return [f"{t} ({int(row[0]):,} rows)" for t, row in counts if row and row[0]]

    def write(self, small: dict[str, list[Record]], mentions: Iterator[MentionBlock]) -> None:
        from psycopg.types.json import Jsonb

        from store.postgres.mentions import copy_mentions
        from webcare.planning import PlanItem

        with self.store._conn() as conn:
            copy_mentions(conn, mentions)
            with conn.cursor() as cur:
                plan = [(r, PlanItem.from_record(r)) for r in small["plan"]]
                cur.executemany(
                    "INSERT INTO plan_items (id, day, status, item, updated_at) VALUES (%s, %s, %s, %s, %s)",
                    [(item.id, item.date, item.status, Jsonb(r), item.updated_at) for r, item in plan],
                )
                cur.executemany("INSERT INTO notes (at, who, text) VALUES (%s, %s, %s)",
                                [(_moment(n["at"]), n["who"], n["text"]) for n in small["notes"]])  # fmt: skip
                cur.executemany("INSERT INTO crisis_log (at, who, kind, text) VALUES (%s, %s, %s, %s)",
                                [(_moment(n["at"]), n["who"], n["kind"], n["text"]) for n in small["crisis log"]])  # fmt: skip
                cur.executemany(
                    "INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES (%s, %s, %s, %s)",
                    [(d["mention_id"], d["operator"], d["text"], _moment(d["saved_at"])) for d in small["drafts"]],
                )
                cur.executemany(
                    "INSERT INTO handoffs (key, mention_id, kind, to_address, name, at, deputy_for, answered_at, replaced_at, "
                    "answer_ref) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(h["key"], h["mention_id"], h["kind"], h["to"], h["name"], _moment(h["at"]), h["deputy_for"],
                      _moment(h["answered_at"]), _moment(h["replaced_at"]), h["answer_ref"]) for h in small["hand-offs"]],
                )  # fmt: skip
                cur.executemany("INSERT INTO checkpoints (source, state) VALUES (%s, %s)",
                                [(c["source"], Jsonb(c["state"])) for c in small["checkpoints"]])  # fmt: skip
                cur.executemany("INSERT INTO health (key, record) VALUES (%s, %s)",
                                [(h["key"], Jsonb(h["record"])) for h in small["health"]])  # fmt: skip
                marks = small["alert marks"]
                cur.executemany("INSERT INTO alerts_sent (event, at) VALUES (%s, %s)",
                                [(m["event"], _moment(m["at"])) for m in marks if "event" in m])  # fmt: skip
                cur.executemany("INSERT INTO alert_targets (name, state) VALUES (%s, %s)",
                                [(m["target"], Jsonb(m["state"])) for m in marks if "target" in m])  # fmt: skip
                cur.executemany("INSERT INTO digests (day, record) VALUES (%s, %s)",
                                [(date.fromisoformat(d["day"]), Jsonb(d["record"])) for d in small["digest marks"]])  # fmt: skip


Side = FilesSide | DatabaseSide


def files_target(folder: Path) -> FilesSide:
    """A new data directory to copy into: refused unless missing or empty (named what is there)."""
    from store.store import Store

    folder = Path(folder).expanduser().absolute()  # config.toml's data_dir is said in full
    if folder.exists():
        if not folder.is_dir():
            raise StoreError(f"{folder}: not a folder; nothing copied")
        there = sorted(os.listdir(folder))
        if there:
            raise StoreError(
                f"{folder}: not empty ({', '.join(there[:5])}{', …' if len(there) > 5 else ''}); "
                "migrate copies into an empty folder only, nothing copied"
            )
    try:
        make_dir(folder)
    except OSError as exc:
        raise StoreError.of(folder, "make the folder", exc) from None
    return FilesSide(Store(folder))


# --- the migration ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What was copied and whether the copy reads back the same, kind by kind."""

    source: str
    target: str
    kinds: list[tuple[str, Tally, Tally]]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return all(a.count == b.count and a.checksum == b.checksum for _, a, b in self.kinds)

    def lines(self) -> list[str]:
        out = [f"copied {self.source} to {self.target}:"]
        for kind, a, b in self.kinds:
            same = a.count == b.count and a.checksum == b.checksum
            mark = "✓" if same else ("✗ checksum differs" if a.count == b.count else "✗")
            sign = "=" if a.count == b.count else "≠"
            out.append(f"  {kind:<13}{a.count:>10,} {sign} {b.count:,} {mark}")
        return out + [f"  {note}" for note in self.notes]


def collector_running(store: Any) -> str | None:
    """Who collects on the source right now, or None. Takes the collector lease when it is
    free (held until the store is closed), so no collector starts during the copy."""
    if not store.try_collector_lease():
        return "a collector holds the collector lease"
    if hasattr(store, "db"):  # a database: several collectors each lease sources
        with store._conn() as conn:
            held = conn.execute("SELECT DISTINCT holder FROM source_leases WHERE expires > now() ORDER BY holder").fetchall()
        if held:
            return "collector(s) " + ", ".join(clean_line(str(h[0]), 100) for h in held) + " hold source leases"
    return None


def desks_open(store: Any, now: datetime) -> list[str]:
    """The operators whose desks on the source are open (a fresh presence), by name."""
    try:
        return sorted({clean_line(d.operator, 80) for d in store.presence("webcare migrate").others(now)})
    except (StoreError, OSError):
        return []  # only said, never a reason to stop


def migrate(source: Side, target: Side) -> Outcome:
    """Copy everything from `source` into the empty `target`, read it back, and compare."""
    there = target.occupied()
    if there:
        raise StoreError(f"{target.where} is not empty: {', '.join(there)}; migrate copies into an empty database only, nothing copied")
    small = {kind: source.read(kind) for kind in KINDS if kind != MENTIONS}
    read = {kind: tally(kind, records) for kind, records in small.items()}
    mentions_read = Tally()
    seen: set[str] = set()
    doubled = 0

    def passing() -> Iterator[MentionBlock]:
        nonlocal doubled
        for block in source.mentions():
            kept: MentionBlock = []
            for content, state in block:
                mention_id = str(content.get("id"))
                if mention_id in seen:  # stored twice in the files (never by add()): the first stands, as on the desk
                    doubled += 1
                    continue
                seen.add(mention_id)
                mentions_read.add(_mention(content, state))
                kept.append((content, state))
            yield kept

    target.write(small, passing())
    written = Tally()
    for block in target.mentions():
        for content, state in block:
            written.add(_mention(content, state))
    kinds = [(MENTIONS, mentions_read, written)]
    kinds += [(kind, read[kind], tally(kind, target.read(kind))) for kind in KINDS if kind != MENTIONS]
    notes = list(source.notes)
    open_desks = desks_open(source.store, datetime.now(UTC))
    if open_desks:
        notes.append(f"desks open on the source meanwhile ({', '.join(open_desks)}): what they write from now on is not in the copy")
    if doubled:
        notes.append(f"{doubled} mention(s) stored twice in the source: copied once")
    notes.append("not copied: the desks' presence (rebuilt as desks open), source leases, backups, privacy.log")
    return Outcome(source.where, target.where, kinds, notes)
