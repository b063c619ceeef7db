"""The mentions on PostgreSQL: `PostgresStore`, the store port (webcare.store_port) on a
database several desks and collectors share. The TinyDB store (store/store.py) is the reference
for what every method does; tests/test_store_contract.py holds both to it.

How a handle learns what others did (`changes`): every write leaves rows in change_log (the
triggers of schema step 2 write them, so a write made by any code, retention's too, is seen),
each stamped with the id of the transaction that wrote it. Numbers handed out in order are not
committed in order: a writer that took number 7 may commit after one that took 8, and a reader
that moved its cursor to 8 would never see 7. So the cursor is a snapshot (pg_current_snapshot)
instead of a number: a look reads, in one repeatable-read transaction, the rows its snapshot sees
and the previous look's did not (`NOT pg_visible_in_snapshot(xid, previous)`). Every committed
row is in exactly one look, whenever it commits.

Live: the same triggers NOTIFY channel `webcare` (payload: what changed, "new", "state",
"health" or "rewritten"; nothing personal), and `wait_for_change` waits on a LISTEN connection
of the handle's own, reconnecting after a failover.

A lost connection (the server restarted, a failover) raises StoreError with the database named
("database unreachable: …"); the pool checks a connection before it lends it, so the next call
after the server is back works again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
import psycopg
from psycopg import IsolationLevel
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from store.jsonstorage import StoreError
from store.postgres.connection import Connection, Database, DatabaseUnreachable, _reason, connect
from webcare.config import StoreSettings
from webcare.history import Event, state_after, still_holds
from webcare.mention import Mention, StateChange, Status, owes_reply
from webcare.store_port import Rows, StoreChanges, VersionConflict

if TYPE_CHECKING:
    from webcare.store_port import (
        AlertMarkBook,
        CrisisJournal,
        DigestBook,
        DraftBook,
        HandoffBook,
        NoteJournal,
        PlanBook,
        PresenceBoard,
        SourceLeases,
    )

__all__ = ["PostgresStore"]

_Book = TypeVar("_Book")

CHANNEL = "webcare"  # what the triggers NOTIFY and wait_for_change LISTENs on
COLLECTOR_LOCK = 0x77656263617266  # pg_try_advisory_lock's key for the one collector lease
HOUSEKEEPING = "housekeeping"  # the health row of the daily chores' results (as store.store)
CHECKPOINT_SCRUBS = "checkpoint_scrubs"  # the health row erasures count checkpoint rewrites in
BLOCK = 2000  # mentions per batch read (every_mention, content_blocks) and per Rows block
ROWS_BLOCK = 50_000
NOTHING_SEEN = "1:1:"  # a snapshot in which no transaction is visible: a fresh handle's cursor

# A state field's value before anyone set it (as store.store).

# A mention's content, its state and its history as one jsonb array, oldest first.
_MENTION_SQL = """
SELECT m.content, s.state,
       (SELECT coalesce(jsonb_agg(h.entry ORDER BY h.version), '[]'::jsonb)
          FROM history h WHERE h.mention_id = m.id)
  FROM mentions m LEFT JOIN states s ON s.id = m.id
"""


def _state_record(state: Any, history: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {**state, "history": list(history or [])}


def _mention(row: tuple[Any, ...]) -> Mention:
    content, state, history = row
    try:
        return Mention.from_records(content, _state_record(state, history))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreError(f"mention {content.get('id')!r} in the database is not a mention ({exc!r})") from None


def _time(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


class PostgresStore:
    """One process's handle on the database: thread-safe (the pool lends each call its own
    connection). `origin` tells this handle's own state changes apart in change_log."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.where = db.settings.where
        self.origin = uuid.uuid4().hex
        self._mutex = threading.Lock()
        self._cursor = NOTHING_SEEN  # the snapshot of the last look (see the module docstring)
        self._lease: Connection | None = None
        self._listener: Connection | None = None
        self._books: dict[str, Any] = {}
        self.reconnected_at: datetime | None = None  # when wait_for_change last reconnected

    # --- connections ------------------------------------------------------------------------

    def _unreachable(self, exc: BaseException) -> StoreError:
        return DatabaseUnreachable(f"database unreachable: {self.where}: {_reason(exc, {})}")

    @contextmanager
    def _conn(self, snapshot: bool = False) -> Iterator[Connection]:
        """A pooled connection in one transaction (committed at the end, rolled back on an
        error); `snapshot`: repeatable read, every statement sees the same moment. A lost
        connection or a database away is StoreError, never psycopg's own."""
        try:
            with self.db.pool.connection() as conn:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ if snapshot else IsolationLevel.READ_COMMITTED
                with conn.transaction():
                    yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise self._unreachable(exc) from None
        except psycopg.Error as exc:
            raise StoreError(f"database {self.where}: {_reason(exc, {})}") from None

    def _mark_origin(self, conn: Connection) -> None:
        # The triggers note who made a state change, so this handle's changes() leaves it out.
        conn.execute("SELECT set_config('webcare.origin', %s, true)", (self.origin,))

    # --- the books: store/postgres/books.py, one handle each ------------------------------------------------------

    def _kept(self, name: str, make: Callable[[Database], _Book]) -> _Book:
        # Made (and store/postgres/books.py imported) when first asked for: a desk's start
        # imports no more than it paints.
        with self._mutex:
            book = self._books.get(name)
            if book is None:
                book = self._books[name] = make(self.db)
            return book

    @property
    def plan(self) -> PlanBook:
        from store.postgres.books import PgPlanBook

        return self._kept("plan", PgPlanBook)

    @property
    def drafts(self) -> DraftBook:
        from store.postgres.books import PgDraftBook

        return self._kept("drafts", PgDraftBook)

    @property
    def notes(self) -> NoteJournal:
        from store.postgres.books import PgNoteJournal

        return self._kept("notes", PgNoteJournal)

    @property
    def crisis(self) -> CrisisJournal:
        from store.postgres.books import PgCrisisJournal

        return self._kept("crisis", PgCrisisJournal)

    @property
    def handoffs(self) -> HandoffBook:
        from store.postgres.books import PgHandoffBook

        return self._kept("handoffs", PgHandoffBook)

    @property
    def alert_marks(self) -> AlertMarkBook:
        from store.postgres.books import PgAlertMarks

        return self._kept("alert_marks", PgAlertMarks)

    @property
    def digests(self) -> DigestBook:
        from store.postgres.books import PgDigestMarks

        return self._kept("digests", PgDigestMarks)

    def presence(self, operator: str) -> PresenceBoard:
        """This desk's presence (a handle of its own)."""
        from store.postgres.books import PgPresenceBoard

        return PgPresenceBoard(self.db, operator)

    # --- reading ------------------------------------------------------------------------------

    def rows(self) -> list[Rows]:
        """Every stored mention as the queue's columns, straight from the columns beside the
        content (no content read, no Mention built). Afterwards changes() reports only what
        happens from now on: the cursor is the snapshot these rows were read in."""
        out: list[Rows] = []
        with self._conn(snapshot=True) as conn:
            snapshot = self._snapshot(conn)
            with conn.cursor(name="webcare_rows") as cur:
                cur.itersize = ROWS_BLOCK
                cur.execute(
                    """
SELECT m.id, extract(epoch FROM m.deadline)::float8, extract(epoch FROM m.first_seen)::float8,
       m.norm, m.reach, m.priority, m.parent, s.status, s.owes
  FROM mentions m LEFT JOIN states s ON s.id = m.id
 ORDER BY m.seq"""
                )
                while batch := cur.fetchmany(ROWS_BLOCK):
                    block = Rows(
                        [r[0] for r in batch], [r[1] for r in batch], [r[2] for r in batch],
                        [r[3] for r in batch], [r[4] for r in batch],
                    )  # fmt: skip
                    for mention_id, _, _, _, _, priority, parent, status, owes in batch:
                        if priority not in (None, "normal"):
                            block.priorities[mention_id] = priority
                        if parent:
                            block.parents[mention_id] = parent
                        if status is not None and (status != Status.NEW or not owes):
                            block.statuses[mention_id] = (status, owes)
                    out.append(block)
        with self._mutex:
            self._cursor = snapshot
        return out

    def load(self) -> list[Mention]:
        """Every stored mention with its state, in arrival order; afterwards changes() reports
        only what happens from now on (as store.store's load)."""
        with self._conn(snapshot=True) as conn:
            snapshot = self._snapshot(conn)
            with conn.cursor(name="webcare_load") as cur:
                cur.itersize = BLOCK
                cur.execute(_MENTION_SQL + " ORDER BY m.seq")
                out = [_mention(row) for row in cur]
        with self._mutex:
            self._cursor = snapshot
        return out

    def mentions(self, ids: Iterable[str]) -> list[Mention]:
        """The stored mentions with these ids; ids not stored are left out."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        with self._conn() as conn:
            rows = conn.execute(_MENTION_SQL + " WHERE m.id = ANY(%s) ORDER BY m.seq", (wanted,)).fetchall()
        return [_mention(row) for row in rows]

    def get(self, mention_id: str) -> Mention | None:
        found = self.mentions([mention_id])
        return found[0] if found else None

    def mentions_since(self, moment: datetime) -> list[Mention]:
        """The mentions first seen at or after `moment`, in arrival order."""
        with self._conn() as conn:
            rows = conn.execute(_MENTION_SQL + " WHERE m.first_seen >= %s ORDER BY m.seq", (moment,)).fetchall()
        return [_mention(row) for row in rows]

    def every_mention(self) -> Iterator[Mention]:
        """Every stored mention, BLOCK at a time in arrival order; each block is one short
        query, so a reader that stops early holds no connection."""
        last = 0
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    _MENTION_SQL.replace("SELECT m.content", "SELECT m.seq, m.content") + " WHERE m.seq > %s ORDER BY m.seq LIMIT %s",
                    (last, BLOCK),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for row in rows:
                yield _mention(row[1:])

    def content_blocks(self) -> Iterator[list[dict[str, Any]]]:
        """The stored content records, BLOCK at a time, the newest first."""
        last: int | None = None
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    "SELECT seq, content FROM mentions WHERE %s::bigint IS NULL OR seq < %s ORDER BY seq DESC LIMIT %s",
                    (last, last, BLOCK),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [r[1] for r in rows]

    # store.store's segments, for the callers that still read "the last few segments" of
    # content (the poller's and the alerts' seeds): a segment here is BLOCK arrival numbers.
    def segments(self) -> list[int]:
        with self._conn() as conn:
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM mentions").fetchone()
        top = int(row[0]) if row else 0
        return list(range(1, (top + BLOCK - 1) // BLOCK + 1))

    def content_records(self, seg: int) -> list[dict[str, Any]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT content FROM mentions WHERE seq > %s AND seq <= %s ORDER BY seq",
                ((seg - 1) * BLOCK, seg * BLOCK),
            ).fetchall()
        return [r[0] for r in rows]

    def __contains__(self, mention_id: object) -> bool:
        with self._conn() as conn:
            return conn.execute("SELECT 1 FROM mentions WHERE id = %s", (mention_id,)).fetchone() is not None

    def __len__(self) -> int:
        with self._conn() as conn:
            row = conn.execute("SELECT count(*) FROM mentions").fetchone()
        return int(row[0]) if row else 0

    # --- writing --------------------------------------------------------------------------

    def add(self, mentions: Iterable[Mention]) -> list[Mention]:
        """Store the mentions not stored yet (by id, in one transaction); returns those that
        were new. Ids are unique in the database: two collectors adding one mention store it
        once, and each is told only of what it added."""
        batch: dict[str, Mention] = {}
        for m in mentions:
            batch.setdefault(m.id, m)
        if not batch:
            return []
        records = [m.content_record() for m in batch.values()]
        columns: list[list[Any]] = [[] for _ in range(11)]
        for r in records:
            for column, value in zip(columns, (
                r["id"], r["source"], r["channel"], r["author"], _time(r["first_seen_at"]),
                _time(r.get("deadline")), r.get("norm_s"), r.get("reach"), r.get("priority") or "normal",
                r.get("parent") or None, Jsonb(r),
            ), strict=True):  # fmt: skip
                column.append(value)
        with self._conn() as conn:
            self._mark_origin(conn)
            added = {
                row[0]
                for row in conn.execute(
                    """
INSERT INTO mentions (id, source, channel, author, first_seen, deadline, norm, reach, priority, parent, content)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[],
                     %s::integer[], %s::bigint[], %s::text[], %s::text[], %s::jsonb[])
ON CONFLICT (id) DO NOTHING
RETURNING id""",
                    columns,
                ).fetchall()
            }
            fresh = [m for m in batch.values() if m.id in added]
            # A mention that comes in with a state of its own (intake's "monitoring") has it
            # written in the same transaction: no desk ever reads it as new and owed.
            for m in fresh:
                if m.history:
                    self._write_state(conn, m.id, m.state_record(), insert=True)
        return fresh

    def _write_state(self, conn: Connection, mention_id: str, state: dict[str, Any], insert: bool,
                     version: int | None = None) -> None:
        """Write a whole state record: the state row (without its history) and the history
        entries past `version` (the version the row had; None: a new row)."""
        history = list(state.get("history") or [])
        row = {k: v for k, v in state.items() if k != "history"}
        status = row.get("status", Status.NEW)
        owes = owes_reply(status, row.get("flags") or ())
        if insert:
            conn.execute(
                "INSERT INTO states (id, status, owes, version, state) VALUES (%s, %s, %s, %s, %s)",
                (mention_id, status, owes, len(history), Jsonb(row)),
            )
            start = 0
        else:
            cur = conn.execute(
                "UPDATE states SET status = %s, owes = %s, version = %s, state = %s WHERE id = %s AND version = %s",
                (status, owes, len(history), Jsonb(row), mention_id, version),
            )
            if cur.rowcount != 1:  # not reached under the row lock; refused rather than overwritten
                raise VersionConflict(mention_id, version or 0, -1)
            start = version or 0
        entries = history[start:]
        if entries:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO history (mention_id, version, at, who, kind, entry) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (mention_id, start + i + 1, _time(e.get("at")) or datetime.now(UTC), str(e.get("who") or ""),
                         str(e.get("kind") or ""), Jsonb(e))
                        for i, e in enumerate(entries)
                    ],
                )  # fmt: skip

    def change(self, change: StateChange, operator: str, at: datetime | None = None) -> dict[str, Any] | None:
        """Make a state change (webcare.mention.StateChange); see update_state."""
        return self.update_state(
            change.mention_id, change.fields, change.event, operator, at, change.expect, change.version
        )

    def update_state(
        self,
        mention_id: str,
        changes: dict[str, Any],
        action: Event | str,
        operator: str,
        at: datetime | None = None,
        expect: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> dict[str, Any] | None:
        """Change a mention's state and append the action to its history; returns the new state
        (as store.store's update_state: `expect`, `version`, the `before` undo restores). The
        mention's row is locked for the transaction, so two desks changing one mention take
        turns, and the state row is written only `WHERE version = ` the version read."""
        at = at or datetime.now(UTC)
        changes = orjson.loads(orjson.dumps(changes))  # as it reads back (datetimes as ISO text)
        expect = None if expect is None else orjson.loads(orjson.dumps(expect))
        with self._conn() as conn:
            # Locked first, read after: a desk that waited for the lock reads the state as the
            # desk before it left it (a new statement sees what committed meanwhile).
            if conn.execute("SELECT 1 FROM mentions WHERE id = %s FOR NO KEY UPDATE", (mention_id,)).fetchone() is None:
                raise KeyError(mention_id)
            found = conn.execute("SELECT state, version FROM states WHERE id = %s", (mention_id,)).fetchone()
            state, stored = found if found is not None else (None, 0)
            current: dict[str, Any] = dict(state) if state is not None else {"id": mention_id, "status": Status.NEW}
            have = stored or 0
            if version is not None and have != version:
                raise VersionConflict(mention_id, version, have)
            if not still_holds(current, expect):
                return None
            if state is not None:
                history = [r[0] for r in conn.execute(
                    "SELECT entry FROM history WHERE mention_id = %s ORDER BY version", (mention_id,)
                ).fetchall()]  # fmt: skip
            else:
                history = []
            args = orjson.loads(orjson.dumps(action.fields)) if isinstance(action, Event) else {}
            current = state_after({**current, "history": history}, changes, action, args, operator, at.astimezone(UTC))
            self._mark_origin(conn)
            self._write_state(conn, mention_id, current, insert=state is None, version=have)
        return current

    # --- moving a desk to another store (store/migrate.py) ----------------------------------

    def export_mentions(self) -> Iterator[list[tuple[dict[str, Any], dict[str, Any] | None]]]:
        """Every stored mention as its records (content, state with its history or None),
        BLOCK at a time in arrival order: what `webcare migrate` copies (as Store's)."""
        last = 0
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    _MENTION_SQL.replace("SELECT m.content", "SELECT m.seq, m.content") + " WHERE m.seq > %s ORDER BY m.seq LIMIT %s",
                    (last, BLOCK),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(content, _state_record(state, history)) for _, content, state, history in rows]

    def import_mentions(self, blocks: Iterable[list[tuple[dict[str, Any], dict[str, Any] | None]]]) -> int:
        """Write mentions with their states and histories exactly as given, in one transaction,
        into a database that holds no mention yet (see copy_mentions); returns how many."""
        with self._conn() as conn:
            return copy_mentions(conn, blocks)

    # --- what changed since this handle last looked ------------------------------------------

    @staticmethod
    def _snapshot(conn: Connection) -> str:
        row = conn.execute("SELECT pg_current_snapshot()::text").fetchone()
        assert row is not None
        return str(row[0])

    def changes(self, holds: Callable[[int], bool] | None = None) -> StoreChanges:
        """What was written since this handle last looked (rows(), load() or changes()), apart
        from this handle's own state changes. `holds` (store.store's segments) is not needed
        here: a rewritten mention is reported by id."""
        with self._mutex:
            previous = self._cursor
            with self._conn(snapshot=True) as conn:
                snapshot = self._snapshot(conn)
                logged = conn.execute(
                    """
SELECT kind, mention_id, origin FROM change_log
 WHERE xid >= pg_snapshot_xmin(%s::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, %s::pg_snapshot)
 ORDER BY seq""",
                    (previous, previous),
                ).fetchall()
                new: dict[str, None] = {}
                changed: dict[str, None] = {}
                rewritten: dict[str, None] = {}
                health = False
                for kind, mention_id, origin in logged:
                    if kind == "new":
                        new[mention_id] = None
                    elif kind == "state" and origin != self.origin:
                        changed[mention_id] = None
                    elif kind == "rewritten":
                        rewritten[mention_id] = None
                    elif kind == "health":
                        health = True
                out = StoreChanges()
                if new:
                    rows = conn.execute(_MENTION_SQL + " WHERE m.id = ANY(%s) ORDER BY m.seq", (list(new),)).fetchall()
                    out.new = [_mention(r) for r in rows]
                rewritten_ids = [i for i in rewritten if i not in new]
                if rewritten_ids:
                    rows = conn.execute(_MENTION_SQL + " WHERE m.id = ANY(%s) ORDER BY m.seq", (rewritten_ids,)).fetchall()
                    out.rewritten = [_mention(r) for r in rows]
                done = set(new) | {m.id for m in out.rewritten}
                state_ids = [i for i in changed if i not in done]
                if state_ids:
                    for mention_id, state, history in conn.execute(
                        "SELECT s.id, s.state, (SELECT coalesce(jsonb_agg(h.entry ORDER BY h.version), '[]'::jsonb) "
                        "FROM history h WHERE h.mention_id = s.id) FROM states s WHERE s.id = ANY(%s)",
                        (state_ids,),
                    ):
                        record = _state_record(state, history)
                        if record is not None:
                            out.states[mention_id] = record
                if health:
                    out.health = self._health(conn)
            self._cursor = snapshot
            return out

    def wait_for_change(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for another write to the store (a NOTIFY); whether one
        came. Listens on a connection of its own, made on the first call. When that connection
        was lost (a failover), it is made again and True is returned (something may have changed
        meanwhile: look with changes()); `reconnected_at` says when. StoreError while the
        database cannot be reached."""
        listener = self._listener
        if listener is None or listener.closed:
            reconnecting = listener is not None
            listener = self._listen()
            if reconnecting:
                self.reconnected_at = datetime.now(UTC)
                return True
        try:
            heard = any(True for _ in listener.notifies(timeout=timeout, stop_after=1))
            if heard:  # a burst is one change for the caller: take what else is there already
                for _ in listener.notifies(timeout=0.0):
                    pass
            return heard
        except psycopg.Error as exc:
            try:
                listener.close()
            except psycopg.Error:
                pass
            raise self._unreachable(exc) from None

    def _listen(self) -> Connection:
        conn = connect(self.db.settings, "desk listener")
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            conn.close()
            raise self._unreachable(exc) from None
        self._listener = conn
        return conn

    # --- the collector's side ---------------------------------------------------------------

    def read_checkpoint(self, source: str) -> dict[str, Any] | None:
        with self._conn() as conn:
            row = conn.execute("SELECT state FROM checkpoints WHERE source = %s", (source,)).fetchone()
        return row[0] if row and isinstance(row[0], dict) else None

    def checkpoint_scrubs(self) -> int:
        """How often an erasure has rewritten the checkpoints (the health row the erasure
        counts them in, store/postgres/retention.py)."""
        with self._conn() as conn:
            return self._scrubs(conn)

    @staticmethod
    def _scrubs(conn: Connection, lock: bool = False) -> int:
        row = conn.execute(
            "SELECT record ->> 'count' FROM health WHERE key = %s" + (" FOR SHARE" if lock else ""), (CHECKPOINT_SCRUBS,)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def write_checkpoint(self, source: str, state: dict[str, Any], scrubs: int | None = None) -> bool:
        """Save a source's checkpoint; with `scrubs`, only if no erasure rewrote the
        checkpoints since (the count's row is share-locked, so an erasure waits or wins)."""
        with self._conn() as conn:
            if scrubs is not None and self._scrubs(conn, lock=True) != scrubs:
                return False
            conn.execute(
                "INSERT INTO checkpoints (source, state, updated_at) VALUES (%s, %s, now()) "
                "ON CONFLICT (source) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                (source, Jsonb(state)),
            )
        return True

    @staticmethod
    def _health(conn: Connection) -> dict[str, Any]:
        # The erasures' count of checkpoint rewrites lives in the table too, but is not health.
        return {
            key: record
            for key, record in conn.execute("SELECT key, record FROM health WHERE key <> %s ORDER BY key", (CHECKPOINT_SCRUBS,))
        }

    def read_health(self) -> dict[str, Any]:
        with self._conn() as conn:
            return self._health(conn)

    def write_health(self, health: dict[str, Any]) -> None:
        """The collector's heartbeat and its sources' health (replacing what was there), the
        housekeeping's record kept. Also drops change_log rows older than a day: every desk
        has looked many times since."""
        with self._conn() as conn:
            conn.execute(
                "DELETE FROM health WHERE key <> ALL(%s) AND key <> ALL(%s)", (list(health), [HOUSEKEEPING, CHECKPOINT_SCRUBS])
            )
            conn.execute(  # one statement: one change for the desks, not one per source
                "INSERT INTO health (key, record) SELECT key, value FROM jsonb_each(%s) "
                "ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record",
                (Jsonb(health),),
            )
            conn.execute("DELETE FROM change_log WHERE at < now() - interval '1 day'")

    def record_housekeeping(self, record: dict[str, Any]) -> dict[str, Any]:
        """Merge `record` into the health row "housekeeping"; returns the merged record."""
        with self._conn() as conn:
            row = conn.execute(
                "INSERT INTO health (key, record) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET record = "
                "CASE WHEN jsonb_typeof(health.record) = 'object' THEN health.record ELSE '{}'::jsonb END "
                "|| EXCLUDED.record RETURNING record",
                (HOUSEKEEPING, Jsonb(record)),
            ).fetchone()
        return row[0] if row else dict(record)

    def source_leases(self, collector: str) -> SourceLeases:
        """This collector's leases on the sources (store/postgres/leases.py): several collectors
        on one database share the sources, each source collected by one at a time."""
        from store.postgres.leases import PostgresLeases

        return PostgresLeases(self.db, collector)

    def try_collector_lease(self) -> bool:
        """Become the database's one collector if no other process is: a session-level
        advisory lock on a connection of its own, held until release or until the connection
        ends (the process died: the server frees it)."""
        if self._lease is not None and not self._lease.closed:
            return True
        conn = connect(self.db.settings, "collector lease")
        try:
            conn.autocommit = True
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (COLLECTOR_LOCK,)).fetchone()
        except psycopg.Error as exc:
            conn.close()
            raise self._unreachable(exc) from None
        if row and row[0]:
            self._lease = conn
            return True
        conn.close()
        return False

    def release_collector_lease(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.close()  # ending the session releases its advisory locks

    def close(self) -> None:
        self.release_collector_lease()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.db.close()


def copy_mentions(conn: Connection, blocks: Iterable[list[tuple[dict[str, Any], dict[str, Any] | None]]]) -> int:
    """Write mentions with their states and histories exactly as given (content record, state
    record with its history or None), in the order given, in the caller's transaction: COPY,
    not one INSERT a mention, so 100,000 take seconds. Unlike add() and update_state(), nothing
    is added to a history: versions, times and the arrival order stay as they were. StoreError
    when the database holds a mention already (nothing is merged)."""
    if conn.execute("SELECT 1 FROM mentions LIMIT 1").fetchone() is not None:
        raise StoreError("the database holds mentions already; nothing imported")
    done = 0
    for block in blocks:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY mentions (id, source, channel, author, first_seen, deadline, norm, reach, priority, parent, content) FROM STDIN"
            ) as copy:
                for r, _ in block:
                    copy.write_row((
                        r["id"], r["source"], r["channel"], r["author"], _time(r["first_seen_at"]), _time(r.get("deadline")),
                        r.get("norm_s"), r.get("reach"), r.get("priority") or "normal", r.get("parent") or None,
                        orjson.dumps(r).decode(),
                    ))  # fmt: skip
            with cur.copy("COPY states (id, status, owes, version, state) FROM STDIN") as copy:
                for r, state in block:
                    if state is None:
                        continue
                    row = {k: v for k, v in state.items() if k != "history"}
                    status = row.get("status", Status.NEW)
                    history = state.get("history") or []
                    copy.write_row((r["id"], status, owes_reply(status, row.get("flags") or ()), len(history), orjson.dumps(row).decode()))
            with cur.copy("COPY history (mention_id, version, at, who, kind, entry) FROM STDIN") as copy:
                for r, state in block:
                    for i, e in enumerate((state or {}).get("history") or []):
                        copy.write_row((
                            r["id"], i + 1, _time(e.get("at")) or datetime.now(UTC), str(e.get("who") or ""),
                            str(e.get("kind") or ""), orjson.dumps(e).decode(),
                        ))  # fmt: skip
        done += len(block)
    return done


def open_postgres(settings: StoreSettings, application: str) -> PostgresStore:
    """A handle on the database [store] names, its schema brought up to date first."""
    from store.postgres.connection import open_database

    return PostgresStore(open_database(settings, application))
