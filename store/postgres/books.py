"""Everything beside the mentions, on PostgreSQL: the plan, the drafts, the shift notes, the
crisis log, the desks' presence, the experts' hand-off keys, the alerts' and the digests'
once-only marks. Each class has the methods of its TinyDB twin (store/plan.py, drafts.py,
notes.py, crisis.py, presence.py, handoffs.py, alert_marks.py, digests.py) and keeps its
rules; the tables are schema step 1's (store/postgres/schema.py).

Every write is one transaction on a connection of the process's pool, and NOTIFYs channel
`webcare` with what changed ('plan', 'drafts', 'notes', 'crisis', 'presence', 'handoffs') when
it commits, so the other desks learn of it within a second. Writes that read before they
change (the plan, a hand-off's replacements, an alert's claim, a digest mark) take a
transaction-level advisory lock first, as the TinyDB store takes its write lock: two desks
never lose each other's change, and a lock ends with its transaction even when a desk dies.
A lost connection or a database that is away raises StoreError with the database named (the
desk says "niet bewaard" and tries again), never a psycopg error.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from store.alert_marks import KEEP_SENT, take_held, take_place, target_state
from store.digests import KEEP_DAYS
from store.handoffs import new_key
from store.jsonstorage import StoreError
from store.postgres.connection import Database
from store.presence import STALE
from webcare.answers import SentHandoff
from webcare.drafts import Draft
from webcare.handover import Note
from webcare.planning import Changes, PlanItem, sort_key
from webcare.store_port import CrisisEntry, Desk
from webcare.untrusted import clean_line

CHANNEL = "webcare"  # LISTEN webcare: the payload says which book changed
# pg_advisory_xact_lock(class, key) classes: any constants, the same in every webcare, apart
# from the migration lock (store/postgres/schema.py, a single bigint key).
PLAN_LOCK = 0x77630001
HANDOFF_LOCK = 0x77630002  # with hashtext(mention id): one mention's hand-offs at a time
ALERT_LOCK = 0x77630003
DIGEST_LOCK = 0x77630004  # session-level: held by the process sending the day's digest
FORGOTTEN_DESKS = timedelta(days=1)  # presence rows of desks killed long ago are deleted


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


class _Book:
    """A book's way to the database: one transaction per call, errors said as StoreError."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def _cursor(self, what: str, notify: str = "") -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        """A cursor in one transaction, committed on leaving (with NOTIFY `notify`), rolled
        back on an exception. A connection lost, or none to be had, is a StoreError."""
        try:
            with self.db.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
                if notify:
                    cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, notify))
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"database {self.db.settings.where}: cannot {what}: connection lost ({_line(exc)})") from None
        except psycopg.Error as exc:
            raise StoreError(f"database {self.db.settings.where}: cannot {what} ({_line(exc)})") from None

    @staticmethod
    def _lock(cur: psycopg.Cursor[tuple[Any, ...]], kind: int, key: str = "") -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (kind, key))


def _line(exc: BaseException) -> str:
    return clean_line(str(exc), 300) or type(exc).__name__


# --- the plan --------------------------------------------------------------------------------


class PgPlanBook(_Book):
    """The content plan (store/plan.py's PlanStore): one row per item, the item's record as jsonb."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._mutex = threading.RLock()
        self._seen: tuple[int, int] | None = None  # the plan's signature when all() last read it

    @staticmethod
    def _signature(cur: psycopg.Cursor[tuple[Any, ...]]) -> tuple[int, int]:
        # Every write gives its rows a new `changed` (the one sequence), and a delete lowers the
        # count: together they change with every write, and cost one index-only look.
        cur.execute("SELECT count(*), coalesce(max(changed), 0) FROM plan_items")
        row = cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    @staticmethod
    def _item(record: Any) -> PlanItem:
        try:
            return PlanItem.from_record(record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"plan_items: {record.get('id') if isinstance(record, dict) else '?'} is not a plan item ({exc})") from None

    def all(self) -> list[PlanItem]:
        """Every item, dated ones by day and time, then the backlog. Afterwards changed() is
        False until someone else writes."""
        with self._mutex, self._cursor("read the plan") as cur:
            seen = self._signature(cur)
            cur.execute("SELECT item FROM plan_items")
            items = sorted((self._item(r[0]) for r in cur.fetchall()), key=sort_key)
            self._seen = seen
            return items

    def get(self, item_id: str) -> PlanItem | None:
        with self._cursor("read the plan") as cur:
            cur.execute("SELECT item FROM plan_items WHERE id = %s", (item_id,))
            row = cur.fetchone()
            return None if row is None else self._item(row[0])

    def changed(self) -> bool:
        """Whether anyone else wrote the plan since this handle last read it with all()."""
        with self._cursor("read the plan") as cur:
            return self._signature(cur) != self._seen

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        """One write under the plan's lock; this handle's own write is not news to it (someone
        else's before it still is)."""
        with self._mutex, self._cursor("save the plan", notify="plan") as cur:
            self._lock(cur, PLAN_LOCK)
            before = self._signature(cur)
            yield cur
            after = self._signature(cur)
            if before == self._seen and after != before:
                self._seen = after

    @staticmethod
    def _put(cur: psycopg.Cursor[tuple[Any, ...]], item: PlanItem) -> None:
        cur.execute(
            "INSERT INTO plan_items (id, day, status, item, updated_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET day = excluded.day, status = excluded.status, item = excluded.item, "
            "updated_at = excluded.updated_at, changed = nextval('changes')",
            (item.id, item.date, item.status, Jsonb(item.to_record()), item.updated_at),
        )

    def _current(self, cur: psycopg.Cursor[tuple[Any, ...]], item_id: str) -> tuple[PlanItem, dict[str, Any]] | None:
        cur.execute("SELECT item FROM plan_items WHERE id = %s", (item_id,))
        row = cur.fetchone()
        return None if row is None else (self._item(row[0]), row[0])

    def add(self, item: PlanItem) -> PlanItem:
        """Store a new item; ValueError if an item with its id is already there."""
        with self._writing() as cur:
            cur.execute("SELECT 1 FROM plan_items WHERE id = %s", (item.id,))
            if cur.fetchone() is not None:
                raise ValueError(f"plan item {item.id} is already stored")
            self._put(cur, item)
        return item

    def add_many(self, items: Iterable[PlanItem]) -> list[PlanItem]:
        """Store the items whose ids are not stored yet, in one transaction; those that were new."""
        items = list(items)
        fresh: list[PlanItem] = []
        with self._writing() as cur:
            cur.execute("SELECT id FROM plan_items WHERE id = ANY(%s)", ([i.id for i in items],))
            known = {r[0] for r in cur.fetchall()}
            for item in items:
                if item.id in known:
                    continue
                known.add(item.id)
                self._put(cur, item)
                fresh.append(item)
        return fresh

    def update(
        self, item_id: str, changes: Mapping[str, Any], at: datetime | None = None, expect: Mapping[str, Any] | None = None
    ) -> PlanItem | None:
        """As PlanStore.update: KeyError if the item is gone; with `expect`, only if those
        fields still hold those values (else None, nothing written)."""
        at = at or datetime.now(UTC)
        with self._writing() as cur:
            found = self._current(cur, item_id)
            if found is None:
                raise KeyError(item_id)
            current, record = found
            if expect is not None:
                wanted = current.with_changes(expect, current.updated_at).to_record()
                if any(record.get(k) != wanted[k] for k in expect):
                    return None
            changed = current.with_changes(changes, at)
            self._put(cur, changed)
        return changed

    def update_many(self, changes: Iterable[Changes], at: datetime | None = None) -> list[PlanItem]:
        """Apply (id, changes) pairs in one transaction; ids no longer stored are skipped."""
        at = at or datetime.now(UTC)
        out = []
        with self._writing() as cur:
            for item_id, change in changes:
                found = self._current(cur, item_id)
                if found is None:
                    continue
                changed = found[0].with_changes(change, at)
                self._put(cur, changed)
                out.append(changed)
        return out

    def delete(self, item_id: str) -> PlanItem:
        """Remove an item and return it (restore() puts it back). KeyError if it is gone."""
        with self._writing() as cur:
            cur.execute("DELETE FROM plan_items WHERE id = %s RETURNING item", (item_id,))
            row = cur.fetchone()
            if row is None:
                raise KeyError(item_id)
        return self._item(row[0])

    def restore(self, item: PlanItem) -> PlanItem:
        """Put `item` back exactly as it was (replacing the stored item with its id)."""
        with self._writing() as cur:
            self._put(cur, item)
        return item


# --- drafts, notes, the crisis log -------------------------------------------------------------


class PgDraftBook(_Book):
    """Unsent replies, one per mention (store/drafts.py's DraftBook)."""

    def all(self) -> dict[str, Draft]:
        with self._cursor("read the drafts") as cur:
            cur.execute("SELECT mention_id, operator, text, saved_at FROM drafts")
            return {m: Draft(m, o, t, _utc(at) or at) for m, o, t, at in cur.fetchall()}

    def get(self, mention_id: str) -> Draft | None:
        with self._cursor("read the drafts") as cur:
            cur.execute("SELECT operator, text, saved_at FROM drafts WHERE mention_id = %s", (mention_id,))
            row = cur.fetchone()
            return None if row is None else Draft(mention_id, row[0], row[1], _utc(row[2]) or row[2])

    def save(self, draft: Draft) -> None:
        self.apply({draft.mention_id: draft})

    def remove(self, *mention_ids: str) -> None:
        self.apply(dict.fromkeys(mention_ids))

    def apply(self, changes: Mapping[str, Draft | None]) -> None:
        """Save (a Draft) or remove (None) drafts by mention id, in one transaction."""
        if not changes:
            return
        with self._cursor("save the drafts", notify="drafts") as cur:
            gone = [m for m, d in changes.items() if d is None]
            if gone:
                cur.execute("DELETE FROM drafts WHERE mention_id = ANY(%s)", (gone,))
            for mention_id, draft in changes.items():
                if draft is not None:
                    cur.execute(
                        "INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (mention_id) DO UPDATE SET operator = excluded.operator, text = excluded.text, "
                        "saved_at = excluded.saved_at, changed = nextval('changes')",
                        (mention_id, draft.operator, draft.text, draft.saved_at.replace(microsecond=0)),
                    )


class PgNoteJournal(_Book):
    """The notes for the next shift (store/notes.py's NoteBook): appended, in order."""

    def add(self, note: Note) -> None:
        with self._cursor("save the note", notify="notes") as cur:
            cur.execute("INSERT INTO notes (at, who, text) VALUES (%s, %s, %s)", (note.at, note.who, note.text))

    def _notes(self, moment: datetime | None) -> list[Note]:
        with self._cursor("read the notes") as cur:
            if moment is None:
                cur.execute("SELECT at, who, text FROM notes ORDER BY seq")
            else:
                cur.execute("SELECT at, who, text FROM notes WHERE at >= %s ORDER BY seq", (moment,))
            return [Note(_utc(at) or at, who, text) for at, who, text in cur.fetchall()]

    def all(self) -> list[Note]:
        return self._notes(None)

    def since(self, moment: datetime) -> list[Note]:
        """The notes left at or after `moment`, oldest first."""
        return self._notes(moment)


class PgCrisisJournal(_Book):
    """The crisis log (store/crisis.py's CrisisLog): start, decisions, end, appended in order."""

    def entries(self) -> list[CrisisEntry]:
        with self._cursor("read the crisis log") as cur:
            cur.execute("SELECT at, who, kind, text FROM crisis_log ORDER BY seq")
            return [CrisisEntry(_utc(at) or at, who, kind, text) for at, who, kind, text in cur.fetchall()]

    def add(self, at: datetime, who: str, kind: str, text: str = "") -> None:
        if kind not in ("start", "decision", "end"):
            raise ValueError(f"crisis log: unknown kind {kind!r}")
        with self._cursor("save the crisis log", notify="crisis") as cur:
            cur.execute("INSERT INTO crisis_log (at, who, kind, text) VALUES (%s, %s, %s, %s)", (at, who, kind, text))

    def current(self, entries: list[CrisisEntry] | None = None) -> list[CrisisEntry]:
        """The entries of the crisis under way (from its start), or [] when there is none."""
        entries = self.entries() if entries is None else entries
        for i in range(len(entries) - 1, -1, -1):
            if entries[i].kind == "end":
                return []
            if entries[i].kind == "start":
                return entries[i:]
        return []

    def signature(self) -> tuple[int, int, str]:
        """Changes whenever the log does: an entry added, or retention or an erasure rewriting
        one in place (the digest of every entry's text: the log is short)."""
        with self._cursor("read the crisis log") as cur:
            cur.execute(
                "SELECT count(*), coalesce(max(seq), 0), md5(coalesce(string_agg(who || chr(31) || text, chr(30) ORDER BY seq), '')) "
                "FROM crisis_log"
            )
            row = cur.fetchone()
            return (int(row[0]), int(row[1]), str(row[2])) if row else (0, 0, "")


# --- presence --------------------------------------------------------------------------------


def desk_name(operator: str) -> str:
    """This desk's row: the operator, the machine and the process, as store/presence.py names its file."""
    from store.presence import _safe

    return f"{_safe(operator)}-{_safe(socket.gethostname())}-{os.getpid()}"


class PgPresenceBoard(_Book):
    """One desk's presence (store/presence.py's Presence): a row per open desk."""

    def __init__(self, db: Database, operator: str) -> None:
        super().__init__(db)
        self.operator = operator
        self.name = desk_name(operator)

    def publish(self, now: datetime, viewing: str | None, claim: str | None, claim_since: datetime | None) -> None:
        with self._cursor("say this desk's presence", notify="presence") as cur:
            cur.execute(
                "INSERT INTO presence (desk, operator, viewing, claim, claim_since, seen_at) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (desk) DO UPDATE SET operator = excluded.operator, viewing = excluded.viewing, "
                "claim = excluded.claim, claim_since = excluded.claim_since, seen_at = excluded.seen_at",
                (self.name, self.operator, viewing, claim, claim_since, now),
            )
            # A desk that was killed leaves its row behind; others() ignores it once stale, and
            # the next publish of any desk a day later removes it.
            cur.execute("DELETE FROM presence WHERE seen_at < %s", (now - FORGOTTEN_DESKS,))

    def leave(self) -> None:
        try:
            with self._cursor("say this desk is closed", notify="presence") as cur:
                cur.execute("DELETE FROM presence WHERE desk = %s", (self.name,))
        except StoreError:
            pass  # as a file that cannot be removed: the row goes stale and is ignored

    def others(self, now: datetime) -> list[Desk]:
        """The other desks with a fresh heartbeat, by operator and desk."""
        with self._cursor("read the other desks' presence") as cur:
            cur.execute(
                "SELECT operator, viewing, claim, claim_since, seen_at, desk FROM presence "
                "WHERE desk <> %s AND seen_at >= %s ORDER BY operator, desk",
                (self.name, now - STALE),
            )
            return [Desk(o, v, c, _utc(cs), _utc(at) or at, d) for o, v, c, cs, at, d in cur.fetchall()]


# --- hand-offs -------------------------------------------------------------------------------


class PgHandoffBook(_Book):
    """The hand-offs and their keys (store/handoffs.py's HandoffBook): a key is random, taken
    once (answered_at), and compared by the caller (webcare.answers), in constant time."""

    def record(self, mention_id: str, *, kind: str, to: str, name: str, at: datetime, deputy_for: str = "") -> str:
        """Keep a new hand-off of `mention_id` and return its key; a question replaces the
        mention's open questions to other addresses, unless it goes to the deputy."""
        key = new_key()
        with self._cursor("save the hand-off", notify="handoffs") as cur:
            self._lock(cur, HANDOFF_LOCK, mention_id)
            if kind == "question" and not deputy_for:
                cur.execute("SELECT key, to_address FROM handoffs WHERE mention_id = %s AND kind = 'question' "
                            "AND answered_at IS NULL AND replaced_at IS NULL", (mention_id,))  # fmt: skip
                others = [k for k, address in cur.fetchall() if address.casefold() != to.casefold()]
                if others:
                    cur.execute("UPDATE handoffs SET replaced_at = %s WHERE key = ANY(%s)", (at, others))
            cur.execute(
                "INSERT INTO handoffs (key, mention_id, kind, to_address, name, at, deputy_for) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (key, mention_id, kind, to, name, at, deputy_for),
            )
        return key

    def of(self, mention_id: str) -> list[SentHandoff]:
        """The mention's hand-offs, oldest first ([] when it had none)."""
        with self._cursor("read the hand-offs") as cur:
            cur.execute(
                "SELECT key, kind, to_address, name, at, deputy_for, answered_at, replaced_at, answer_ref "
                "FROM handoffs WHERE mention_id = %s ORDER BY at, key",
                (mention_id,),
            )
            return [
                SentHandoff(mention_id=mention_id, key=k, kind=kind, to=to, name=name, at=_utc(at) or at, deputy_for=deputy,
                            answered_at=_utc(answered), replaced_at=_utc(replaced), answer_ref=ref)
                for k, kind, to, name, at, deputy, answered, replaced, ref in cur.fetchall()
            ]  # fmt: skip

    def answered(self, mention_id: str, key: str, at: datetime, ref: str = "") -> None:
        """The hand-off with `key` is answered: its key is never taken again."""
        with self._cursor("save the answer", notify="handoffs") as cur:
            cur.execute(
                "UPDATE handoffs SET answered_at = %s, answer_ref = %s WHERE mention_id = %s AND key = %s AND answered_at IS NULL",
                (at, ref, mention_id, key),
            )


# --- the alerts' and the digests' marks ------------------------------------------------------


class PgAlertMarks(_Book):
    """Alerts' once-only marks (store/alert_marks.py's AlertMarks): alerts_sent holds each
    event id sent (its primary key refuses a second), alert_targets each target's limit state."""

    def claim(self, event: str, kind: str, limits: Sequence[tuple[str, int]], now: datetime) -> list[str]:
        with self._cursor("mark the alert sent") as cur:
            self._lock(cur, ALERT_LOCK)  # one claim at a time: the targets' limits are read, then written
            cur.execute("INSERT INTO alerts_sent (event, at) VALUES (%s, %s) ON CONFLICT (event) DO NOTHING RETURNING event",
                        (event, now))  # fmt: skip
            if cur.fetchone() is None:
                return []  # another process claimed it
            cur.execute("DELETE FROM alerts_sent WHERE at < %s", (now - KEEP_SENT,))
            deliver = []
            for name, limit in limits:
                rec = self._state(cur, name)
                if take_place(rec, kind, limit, now):
                    deliver.append(name)
                self._put(cur, name, rec)
            return deliver

    def take_summaries(self, limits: Sequence[tuple[str, int]], now: datetime) -> list[tuple[str, dict[str, int]]]:
        out: list[tuple[str, dict[str, int]]] = []
        with self._cursor("take the alerts held back") as cur:
            self._lock(cur, ALERT_LOCK)
            for name, limit in limits:
                cur.execute("SELECT state FROM alert_targets WHERE name = %s", (name,))
                row = cur.fetchone()
                if row is None:
                    continue
                rec = target_state(row[0])
                held = take_held(rec, limit, now)
                if held is not None:
                    self._put(cur, name, rec)
                    out.append((name, held))
        return out

    @staticmethod
    def _state(cur: psycopg.Cursor[tuple[Any, ...]], name: str) -> dict[str, Any]:
        cur.execute("SELECT state FROM alert_targets WHERE name = %s", (name,))
        row = cur.fetchone()
        return target_state(None if row is None else row[0])

    @staticmethod
    def _put(cur: psycopg.Cursor[tuple[Any, ...]], name: str, rec: dict[str, Any]) -> None:
        cur.execute("INSERT INTO alert_targets (name, state) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET state = excluded.state",
                    (name, Jsonb(rec)))  # fmt: skip


class PgDigestMarks(_Book):
    """Which ambassadors got which day's digest (store/digests.py's DigestMarks): one row a day,
    the same record as digests.json's. The process sending holds a session-level advisory lock
    (`sending`), which the server lets go should that process die."""

    @contextmanager
    def sending(self) -> Iterator[bool]:
        """Hold the digest lock, or yield False at once when another process holds it."""
        where = self.db.settings.where
        try:
            with self.db.pool.connection() as conn:
                conn.autocommit = True  # the lock is the session's, not a transaction's
                row = conn.execute("SELECT pg_try_advisory_lock(%s, 0)", (DIGEST_LOCK,)).fetchone()
                mine = bool(row and row[0])
                try:
                    yield mine
                finally:
                    # Let go before the connection goes back to the pool (a lost connection
                    # lets go by itself: the pool then drops it).
                    if mine and not conn.closed:
                        conn.execute("SELECT pg_advisory_unlock(%s, 0)", (DIGEST_LOCK,))
                    if not conn.closed:
                        conn.autocommit = False
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"database {where}: cannot hold the digest lock ({_line(exc)})") from None

    def read(self) -> dict[str, Any]:
        with self._cursor("read the digest marks") as cur:
            cur.execute("SELECT day, record FROM digests ORDER BY day")
            return {day.isoformat(): record for day, record in cur.fetchall()}

    def sent(self, day: date) -> set[str]:
        """The addresses (case-folded) that got `day`'s digest."""
        entry = self.read().get(day.isoformat()) or {}
        return {str(k).casefold() for k in (entry.get("sent") or {})}

    def failed_at(self, day: date) -> datetime | None:
        at = (self.read().get(day.isoformat()) or {}).get("error_at")
        try:
            return datetime.fromisoformat(at) if at else None
        except (TypeError, ValueError):
            return None

    def mark(self, day: date, at: datetime, *, sent: str = "", error: str = "") -> None:
        """Record that `sent` got `day`'s digest, or the error of a try."""
        with self._cursor("mark the digest sent") as cur:
            cur.execute("INSERT INTO digests (day, record) VALUES (%s, %s) ON CONFLICT (day) DO NOTHING", (day, Jsonb({"sent": {}})))
            cur.execute("SELECT record FROM digests WHERE day = %s FOR UPDATE", (day,))
            row = cur.fetchone()
            entry = dict(row[0]) if row and isinstance(row[0], dict) else {"sent": {}}
            if sent:
                entry.setdefault("sent", {})[sent.casefold()] = at.isoformat(timespec="seconds")
            entry["error"] = error
            entry["error_at"] = at.isoformat(timespec="seconds") if error else None
            cur.execute("UPDATE digests SET record = %s WHERE day = %s", (Jsonb(entry), day))
            cur.execute("DELETE FROM digests WHERE day < %s", (day - timedelta(days=KEEP_DAYS),))
