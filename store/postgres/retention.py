"""Retention and privacy on PostgreSQL: anonymise what is past retention, forget a person,
answer an access request, keep privacy.log: the same rules as the TinyDB store's
(store/retention.py, store/desk_files.py: read their docstrings for what is kept and what is
emptied), here as SQL on the tables of store/postgres/schema.py.

Retention runs in the database: the functions of schema step 3 (webcare_anonymous_content,
_state, _entry; webcare_evidence_open) rewrite the old mentions where they are, a batch of
mentions per transaction (a desk changing one of them waits for that batch, never for the
whole run), with which fields are kept passed in from store.retention. What it finds to do comes
from partial indexes of what is not anonymised yet, so a run with nothing to do reads nothing.

Forget finds in the database what may hold the person (their mentions by author column; in
other rows, a text search of every row for their identifiers) and rewrites those rows with the
very redactor the TinyDB store uses (store.retention's _Person, _Redactor, _Eraser and
store.desk_files.erase_in), so the two stores erase the same words the same way. Each step
is one transaction: the other tables, other people's mentions, then their own mentions last
(a run that stopped part-way can be run again and still learns every identifier). Finally
every table is searched for what is left (`remaining`: empty when the erasure is complete).

Backups are the database's own (docs/operations/postgresql.md): forget cannot rewrite them.
What a backup holds of an erased person ages out with the backups; a restore from one must be
followed by forget again for the requests made since.

The secret that keys privacy_log's hashes lives in the database (privacy_secret), not in a data
directory: desks and collectors on several servers share one database and one privacy_log, so
the same person must have the same hash wherever the request was run, and an auditor checking
a request must be able to do so from any of them. The price: a copy of the database holds the
key beside the log; `pg_dump --exclude-table-data=privacy_secret` makes a copy without it (see
the Backups section of the operations page).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from store import desk_files
from store.jsonstorage import StoreError
from store.postgres.connection import Connection, Database, connect
from store.retention import (
    CONTENT_KEEP,
    ERASED,
    STATE_KEEP,
    ForgetResult,
    _Eraser,
    _Person,
    _Redactor,
    is_by,
    legacy_subject_hash,
    normalise,
)
from webcare.config import StoreSettings
from webcare.history import FREE_TEXT
from webcare.mention import Mention
from webcare.untrusted import clean_line

BATCH = 1000  # mentions anonymised per transaction
HOUSEKEEPING = "housekeeping"  # the health table's key for the daily chores' results (as health.json's)
CHECKPOINT_SCRUBS = "checkpoint_scrubs"  # the health table's count of erasures that rewrote checkpoints

_CONTENT_KEEP = sorted(CONTENT_KEEP)
_STATE_KEEP = sorted(STATE_KEEP)
_FREE_TEXT = sorted(FREE_TEXT)


def _failed(db: Database, exc: psycopg.Error) -> StoreError:
    """A lost connection or a refused statement, said with the database named (never a crash)."""
    return StoreError(f"database {db.settings.where}: {clean_line(str(exc), 400) or type(exc).__name__}")


def _mark(now: datetime, reason: str) -> dict[str, str]:
    return {"at": now.astimezone(UTC).isoformat(timespec="seconds"), "reason": reason}


def _utc(conn: Connection) -> None:
    """Times without an offset in the records are read as UTC, as the TinyDB store's are."""
    conn.execute("SET LOCAL TimeZone = 'UTC'")


# --- retention -------------------------------------------------------------------------------

# The next batch of old mentions (first seen before the cutoff) not anonymised yet, in arrival
# order from `after` on (the partial index on seq: the oldest come first, the run stops early),
# locked for the rest of the transaction; each with whether a moderation case holds it.
_RETENTION_BATCH = """
SELECT m.seq, m.id, m.content ? 'anonymised', coalesce(webcare_evidence_open(s.state, %(now)s, %(days)s), false)
FROM mentions m LEFT JOIN states s ON s.id = m.id
WHERE m.seq > %(after)s AND NOT m.content ? 'anonymised' AND m.first_seen < %(cutoff)s
ORDER BY m.seq LIMIT %(batch)s
FOR UPDATE OF m
"""

# Old mentions whose content is anonymised but whose state is not (an operator changed it
# since: the desk writes the state without the mark).
_STATES_TODO = """
SELECT m.seq FROM states s JOIN mentions m ON m.id = s.id
WHERE NOT s.state ? 'anonymised' AND m.content ? 'anonymised' AND m.first_seen < %(cutoff)s
ORDER BY m.seq
"""

_LOCK = """
SELECT m.seq, m.id, m.content ? 'anonymised', coalesce(webcare_evidence_open(s.state, %(now)s, %(days)s), false)
FROM mentions m LEFT JOIN states s ON s.id = m.id
WHERE m.seq = ANY (%(seqs)s) AND m.first_seen < %(cutoff)s
ORDER BY m.seq
FOR UPDATE OF m
"""


def anonymise_older_than(
    db: Database, cutoff: datetime, now: datetime, evidence_days: int = 365, batch: int = BATCH
) -> int:
    """Anonymise every mention first seen before `cutoff` (store.retention.anonymise_older_than's
    rules: content, state and every history entry); how many were anonymised by this run (0 when
    run again). A moderation case's evidence, kept less than `evidence_days` ago and the case
    open, stays whole until a later run. A rewritten mention gets a new `rewritten` (content)
    and `changed` (state) number, so the desks that follow changes re-read it.

    First the mentions not anonymised yet, a batch per transaction in arrival order; then the
    anonymised ones whose state was changed since, likewise."""
    mark = Jsonb(_mark(now, "retention"))
    args: dict[str, Any] = {"cutoff": cutoff, "now": now, "days": evidence_days, "batch": batch}
    total, after = 0, 0
    try:
        while True:
            with db.pool.connection() as conn, conn.transaction():
                _utc(conn)
                rows = conn.execute(_RETENTION_BATCH, {**args, "after": after}).fetchall()
                if not rows:
                    break
                after = rows[-1][0]
                total += _batch(conn, rows, mark)
        with db.pool.connection() as conn:
            seqs = [r[0] for r in conn.execute(_STATES_TODO, args).fetchall()]
        for start in range(0, len(seqs), batch):
            with db.pool.connection() as conn, conn.transaction():
                _utc(conn)
                rows = conn.execute(_LOCK, {**args, "seqs": seqs[start : start + batch]}).fetchall()
                total += _batch(conn, rows, mark)
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return total


def _batch(conn: Connection, rows: list[tuple[Any, ...]], mark: Jsonb) -> int:
    """Anonymise the locked rows (seq, id, content marked, held as evidence) but the held ones;
    how many had not been anonymised before."""
    ids = [mention_id for _seq, mention_id, _had, held in rows if not held]
    if ids:
        _anonymise(conn, ids, mark)
    return sum(1 for _seq, _id, had, held in rows if not held and not had)


def _anonymise(conn: Connection, ids: list[str], mark: Jsonb, entry: dict[str, Any] | None = None) -> None:
    """Anonymise these mentions (locked by the caller): content, state, history. A mark they
    already carry is kept (retention after an erasure still says "erasure"). With `entry`, an
    erasure: that entry is appended to each one's history (a new version)."""
    args: dict[str, Any] = {"ids": ids, "mark": mark, "ckeep": _CONTENT_KEEP, "skeep": _STATE_KEEP, "free": _FREE_TEXT}
    conn.execute(
        """
        UPDATE mentions m SET content = n.content, author = '', rewritten = nextval('changes')
        FROM (SELECT id, webcare_anonymous_content(content, %(ckeep)s, coalesce(content -> 'anonymised', %(mark)s))
              FROM mentions WHERE id = ANY (%(ids)s)) AS n (id, content)
        WHERE m.id = n.id AND n.content IS DISTINCT FROM m.content
        """,
        args,
    )
    # History first: the state's `changed` below then tells the desks about both.
    touched = conn.execute(
        """
        UPDATE history h SET entry = n.entry
        FROM (SELECT mention_id, version, webcare_anonymous_entry(entry, %(skeep)s, %(free)s)
              FROM history WHERE mention_id = ANY (%(ids)s)) AS n (mention_id, version, entry)
        WHERE h.mention_id = n.mention_id AND h.version = n.version AND n.entry IS DISTINCT FROM h.entry
        RETURNING h.mention_id
        """,
        args,
    ).fetchall()
    args["touched"] = sorted({r[0] for r in touched})
    if entry is None:
        conn.execute(
            """
            UPDATE states s SET state = n.state, changed = nextval('changes')
            FROM (SELECT s2.id, webcare_anonymous_state(s2.state, %(skeep)s,
                                    coalesce(s2.state -> 'anonymised', m.content -> 'anonymised', %(mark)s))
                  FROM states s2 JOIN mentions m ON m.id = s2.id WHERE s2.id = ANY (%(ids)s)) AS n (id, state)
            WHERE s.id = n.id AND (n.state IS DISTINCT FROM s.state OR s.id = ANY (%(touched)s))
            """,
            args,
        )
        return
    # An erasure: a state for each (a mention nobody touched has none yet), one version on.
    conn.execute(
        """
        INSERT INTO states (id, status, owes, version, state)
        SELECT id, 'new', true, 0, jsonb_build_object('id', id, 'status', 'new')
        FROM unnest(%(ids)s::text[]) AS t(id)
        ON CONFLICT (id) DO NOTHING
        """,
        args,
    )
    conn.execute(
        """
        UPDATE states s SET
            state = webcare_anonymous_state(s.state, %(skeep)s, %(mark)s),
            version = s.version + 1, changed = nextval('changes')
        WHERE s.id = ANY (%(ids)s)
        """,
        args,
    )
    conn.execute(
        """
        INSERT INTO history (mention_id, version, at, who, kind, entry)
        SELECT s.id, s.version, %(at)s, %(who)s, %(kind)s, %(entry)s FROM states s WHERE s.id = ANY (%(ids)s)
        """,
        {**args, "at": entry["at"], "who": entry["who"], "kind": entry["kind"], "entry": Jsonb(entry)},
    )


def expire_desk_rows(db: Database, cutoff: datetime, now: datetime, stale: timedelta | None = None) -> dict[str, int]:
    """Retention for the desk's other tables (store.desk_files.expire's rules): notes before the
    cutoff dropped, the crisis log's older entries emptied of their text (its structure stays),
    drafts of mentions first seen before the cutoff (or, of a mention not in the store, saved
    before it) dropped, presence of desks that are gone dropped and a desk's old mention no
    longer announced. One transaction. Returns what changed."""
    if stale is None:
        from store.presence import STALE

        stale = STALE
    done: dict[str, int] = {}
    try:
        with db.pool.connection() as conn, conn.transaction():
            done["notes"] = conn.execute("DELETE FROM notes WHERE at < %s", (cutoff,)).rowcount
            done["crisis"] = conn.execute(
                "UPDATE crisis_log SET text = '' WHERE at < %s AND text <> ''", (cutoff,)
            ).rowcount
            done["drafts"] = conn.execute(
                """
                DELETE FROM drafts d WHERE coalesce(
                    (SELECT m.first_seen FROM mentions m WHERE m.id = d.mention_id), d.saved_at) < %s
                """,
                (cutoff,),
            ).rowcount
            gone = conn.execute("DELETE FROM presence WHERE seen_at < %s", (now - stale,)).rowcount
            old = conn.execute(
                """
                UPDATE presence p SET
                    viewing = CASE WHEN EXISTS (SELECT 1 FROM mentions m WHERE m.id = p.viewing AND m.first_seen < %(cutoff)s)
                                   THEN NULL ELSE p.viewing END,
                    claim = CASE WHEN EXISTS (SELECT 1 FROM mentions m WHERE m.id = p.claim AND m.first_seen < %(cutoff)s)
                                 THEN NULL ELSE p.claim END
                WHERE EXISTS (SELECT 1 FROM mentions m WHERE m.id IN (p.viewing, p.claim) AND m.first_seen < %(cutoff)s)
                """,
                {"cutoff": cutoff},
            ).rowcount
            done["presence"] = gone + old
            _tell(conn, [k for k, n in done.items() if n])
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return done


def record_housekeeping(db: Database, record: dict[str, Any]) -> dict[str, Any]:
    """Merge `record` into the health table's "housekeeping" (as Store.record_housekeeping does
    into health.json's) for the header and `webcare check`; the merged record."""
    try:
        with db.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                """
                INSERT INTO health (key, record) VALUES (%s, %s)
                ON CONFLICT (key) DO UPDATE SET record = health.record || EXCLUDED.record, changed = nextval('changes')
                RETURNING record
                """,
                (HOUSEKEEPING, Jsonb(record)),
            ).fetchone()
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return dict(row[0]) if row else dict(record)


def read_housekeeping(settings: StoreSettings) -> dict[str, Any] | None:
    """The health table's "housekeeping" for `webcare check`: one connection, reads only
    (creates nothing, migrates nothing); None when there is none or it cannot be read (the
    check says what is wrong with the database itself)."""
    try:
        with connect(settings, "check") as conn:
            if conn.execute("SELECT to_regclass('health') IS NULL").fetchone() != (False,):
                return None
            row = conn.execute("SELECT record FROM health WHERE key = %s", (HOUSEKEEPING,)).fetchone()
    except (StoreError, psycopg.Error):
        return None
    return dict(row[0]) if row and isinstance(row[0], dict) else None


@dataclass(frozen=True, slots=True)
class ChoresDone:
    anonymised: int
    expired: dict[str, int]
    errors: tuple[str, ...] = ()


def run_chores(db: Database, retention_days: int, evidence_days: int, now: datetime) -> ChoresDone:
    """The daily chores on PostgreSQL (store.housekeeping.run_chores' counterpart): retention of
    the mentions and of the desk's other tables, recorded in the health table. No backup: the
    database's own backups (pg_dump, a managed service's point-in-time recovery) replace them."""
    anonymised, expired, errors = 0, {}, []
    record: dict[str, Any] = {"last_run_at": _iso(now), "backup": "the database's own (see docs/operations/postgresql.md)"}
    if retention_days:
        try:
            cutoff = now - timedelta(days=retention_days)
            anonymised = anonymise_older_than(db, cutoff, now, evidence_days)
            expired = expire_desk_rows(db, cutoff, now)
            record.update(last_retention_at=_iso(now), anonymised=anonymised)
        except StoreError as exc:
            errors.append(f"retention: {clean_line(str(exc), 300)}")
    record.update(error="; ".join(errors), error_at=_iso(now) if errors else None)
    try:
        record_housekeeping(db, record)
    except StoreError:
        pass  # the exit code and the message still say it
    return ChoresDone(anonymised, expired, tuple(errors))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- privacy_log -------------------------------------------------------------------------------


def data_secret(db: Database) -> bytes:
    """The database's key for privacy_log's hashes (32 random bytes), made on first need; two
    processes making one at once end up with the same (the first one's)."""
    try:
        with db.pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO privacy_secret (key) VALUES (%s) ON CONFLICT (only_one) DO NOTHING",
                (secrets.token_bytes(32),),
            )
            row = conn.execute("SELECT key FROM privacy_secret").fetchone()
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    assert row is not None
    return bytes(row[0])


def subject_hash(author: str, key: bytes) -> str:
    """store.retention.subject_hash: HMAC-SHA256 of the normalised name."""
    return "hmac-sha256:" + hmac.new(key, normalise(author).encode(), hashlib.sha256).hexdigest()


def log_request(db: Database, kind: str, author: str, operator: str, now: datetime, **figures: Any) -> dict[str, Any]:
    """One privacy_log row: when, who ran it, the kind of request, the subject's keyed hash
    (never the name) and figures such as how many mentions. The line, as privacy.log's."""
    line = {"at": _iso(now), "operator": operator, "request": kind, "subject": subject_hash(author, data_secret(db)), **figures}
    try:
        with db.pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO privacy_log (at, operator, request, subject, figures) VALUES (%s, %s, %s, %s, %s)",
                (now, operator, kind, line["subject"], Jsonb(figures)),
            )
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return line


def logged_for(db: Database, author: str) -> list[dict[str, Any]]:
    """The privacy_log lines about `author`, oldest first, as privacy.log's lines read."""
    subject = subject_hash(author, data_secret(db))
    try:
        with db.pool.connection() as conn:
            rows = conn.execute(
                "SELECT at, operator, request, subject, figures FROM privacy_log WHERE subject = %s ORDER BY seq", (subject,)
            ).fetchall()
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return [{"at": _iso(at), "operator": op, "request": kind, "subject": sub, **fig} for at, op, kind, sub, fig in rows]


# --- who a request is about ----------------------------------------------------------------------

_THEIRS = """
SELECT m.id, m.content, s.state FROM mentions m LEFT JOIN states s ON s.id = m.id
WHERE strpos(lower(m.author), %(who)s) > 0
   OR strpos(lower(m.content -> 'reply_meta' ->> 'reply_to'), %(who)s) > 0
ORDER BY m.seq
"""


def _theirs(conn: Connection, who: str, lock: bool = False) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(id, content, state) of every mention by `who` (normalised), oldest first. The author
    column narrows the search (a normalised name is always part of the lower-case author or
    Reply-To); store.retention.is_by decides."""
    rows = conn.execute(_THEIRS + (" FOR UPDATE OF m" if lock else ""), {"who": who}).fetchall()
    return [(i, c, s) for i, c, s in rows if is_by(c, who)]


def _history(conn: Connection, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for mention_id, entry in conn.execute(
        "SELECT mention_id, entry FROM history WHERE mention_id = ANY (%s) ORDER BY mention_id, version", (ids,)
    ):
        out[mention_id].append(entry)
    return out


def access_export(db: Database, author: str) -> list[dict[str, Any]]:
    """store.retention.access_export on PostgreSQL: every stored mention by `author` as export
    records, oldest first."""
    who = normalise(author)
    if not who:
        raise ValueError("author: empty")
    try:
        with db.pool.connection() as conn:
            theirs = _theirs(conn, who)
            history = _history(conn, [i for i, _, _ in theirs])
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return [
        Mention.from_records(content, {**(state or {}), "history": history[i]}).export_record()
        for i, content, state in theirs
    ]


# --- forget ------------------------------------------------------------------------------------


def _needles(red: _Redactor) -> list[str]:
    """What a text search of a row (its JSON as text, lower case) looks for: each needle as it
    is and as JSON writes it (a quote in a post's first words is escaped there)."""
    out = set()
    for needle in red.needles:
        out.add(needle)
        out.add(orjson.dumps(needle).decode()[1:-1])
    return sorted(n for n in out if n)


_HOLDS = "EXISTS (SELECT 1 FROM unnest(%(needles)s::text[]) AS n(n) WHERE strpos(lower({}::text), n.n) > 0)"


def _holding(conn: Connection, sql: str, column: str, needles: list[str], **args: Any) -> list[tuple[Any, ...]]:
    """The rows of `sql` (… WHERE {holds}) whose `column` holds a needle. lower() in the
    database lower-cases as its locale does: any UTF-8 locale does so as Python does."""
    return conn.execute(sql.format(holds=_HOLDS.format(column)), {"needles": needles, **args}).fetchall()


# LISTEN webcare (store/postgres/books.py's channel): what a payload names, the open desks re-read.
NOTIFY_CHANNEL = "webcare"
_BOOK_OF = {"notes": "notes", "crisis_log": "crisis", "crisis": "crisis", "drafts": "drafts", "presence": "presence",
            "plan_items": "plan", "handoffs": "handoffs"}  # fmt: skip


def _tell(conn: Connection, tables: Iterable[str]) -> None:
    """NOTIFY the desks of the books rewritten here (sent when the transaction commits)."""
    for book in sorted({_BOOK_OF[t] for t in tables if t in _BOOK_OF}):
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, book))


def _as_bytes(value: Any) -> bytes:
    return orjson.dumps(value)


def _scrub_desk(conn: Connection, er: _Eraser, result: ForgetResult) -> bool:
    """The desk's other tables without the person (store.desk_files.erase_in's rules, by the
    file each table replaces); whether a checkpoint was rewritten. Every row of these is read:
    they are small, and a text quoting their words is found only with its spaces evened out."""
    changed = 0
    touched: set[str] = set()
    # Journals: every entry kept, their names, ids and quoted words out of its text.
    for table, columns in (("notes", ("who", "text")), ("crisis_log", ("who", "text"))):
        for seq, *values in conn.execute(f"SELECT seq, {', '.join(columns)} FROM {table} FOR UPDATE").fetchall():
            new = [er.text(v) for v in values]
            if new != values:
                sets = ", ".join(f"{c} = %s" for c in columns)
                conn.execute(f"UPDATE {table} SET {sets} WHERE seq = %s", (*new, seq))
                changed += 1
                touched.add(table)
    # Drafts of their mentions, and drafts that name them: dropped.
    drafts = {
        mention_id: {"operator": operator, "text": text, "saved_at": _iso(saved)}
        for mention_id, operator, text, saved in conn.execute(
            "SELECT mention_id, operator, text, saved_at FROM drafts FOR UPDATE"
        ).fetchall()
    }
    erased = desk_files.erase_in(desk_files.DRAFTS, _as_bytes({"drafts": drafts}), er)
    if erased is not None:
        kept = orjson.loads(erased).get("drafts", {})
        gone = [k for k in drafts if k not in kept]
        conn.execute("DELETE FROM drafts WHERE mention_id = ANY (%s)", (gone,))
        changed += bool(gone)
        touched.add("drafts")
    # Presence: a desk showing one of their mentions shows nothing instead.
    for desk, operator, viewing, claim, since in conn.execute(
        "SELECT desk, operator, viewing, claim, claim_since FROM presence FOR UPDATE"
    ).fetchall():
        record = {"operator": operator, "viewing": viewing, "claim": claim, "claim_since": since and _iso(since)}
        out = desk_files.erase_in(f"{desk_files.PRESENCE}/desk.json", _as_bytes(record), er)
        if out is not None:
            value = orjson.loads(out)
            conn.execute(
                "UPDATE presence SET operator = %s, viewing = %s, claim = %s, claim_since = %s WHERE desk = %s",
                (value["operator"], value["viewing"], value["claim"], since if value["claim"] else None, desk),
            )
            changed += 1
            touched.add("presence")
    # Checkpoints: their refs dropped, a cursor on one of their posts moved one back.
    scrubbed = False
    for source, state in conn.execute("SELECT source, state FROM checkpoints FOR UPDATE").fetchall():
        out = desk_files.erase_in(f"{desk_files.CHECKPOINTS}/source.json", _as_bytes(state), er)
        if out is not None:
            conn.execute(
                "UPDATE checkpoints SET state = %s, updated_at = now() WHERE source = %s", (Jsonb(orjson.loads(out)), source)
            )
            changed += 1
            scrubbed = True
    # The rest, as the JSON files they replace are: every text in them redacted.
    for table, key, column in (
        ("plan_items", "id", "item"),
        ("health", "key", "record"),
        ("alert_targets", "name", "state"),
        ("digests", "day", "record"),
    ):
        for row_key, value in conn.execute(f"SELECT {key}, {column} FROM {table} FOR UPDATE").fetchall():
            new_value = er.redact(value)
            if new_value != value:
                bump = ", changed = nextval('changes')" if table in ("plan_items", "health") else ""
                conn.execute(f"UPDATE {table} SET {column} = %s{bump} WHERE {key} = %s", (Jsonb(new_value), row_key))
                changed += 1
                touched.add(table)
    text_columns = ("mention_id", "kind", "to_address", "name", "deputy_for", "answer_ref")
    for key, *values in conn.execute(f"SELECT key, {', '.join(text_columns)} FROM handoffs FOR UPDATE").fetchall():
        new = [er.text(v) for v in values]
        if new != values:
            sets = ", ".join(f"{c} = %s" for c in text_columns)
            conn.execute(f"UPDATE handoffs SET {sets} WHERE key = %s", (*new, key))
            changed += 1
            touched.add("handoffs")
    # An alert's once-only mark that names them (an event of one of their mentions): dropped,
    # as a mark rewritten to "[…]" would no longer mark anything.
    marks = [e for (e,) in conn.execute("SELECT event FROM alerts_sent FOR UPDATE").fetchall() if er.found(e)]
    changed += conn.execute("DELETE FROM alerts_sent WHERE event = ANY (%s)", (marks,)).rowcount
    result.files += changed
    _tell(conn, touched)
    return scrubbed


def _redact_others(conn: Connection, red: _Redactor, ids: set[str]) -> int:
    """Their identifiers out of other people's mentions, our state of them and its history; how
    many mentions changed. Their own mentions are left to the last step."""
    needles = _needles(red)
    changed: set[str] = set()
    for mention_id, content in _holding(
        conn, "SELECT id, content FROM mentions WHERE {holds} AND NOT id = ANY (%(ids)s) FOR UPDATE", "content", needles,
        ids=list(ids),
    ):
        new = red.redact(content)
        if new is not content and new != content:
            conn.execute(
                "UPDATE mentions SET content = %s, author = %s, rewritten = nextval('changes') WHERE id = %s",
                (Jsonb(new), str(new.get("author", "")), mention_id),
            )
            changed.add(mention_id)
    for mention_id, state in _holding(
        conn, "SELECT id, state FROM states WHERE {holds} AND NOT id = ANY (%(ids)s) FOR UPDATE", "state", needles,
        ids=list(ids),
    ):
        new = red.redact(state)
        if new is not state and new != state:
            conn.execute("UPDATE states SET state = %s WHERE id = %s", (Jsonb(new), mention_id))
            changed.add(mention_id)
    for mention_id, version, entry in _holding(
        conn, "SELECT mention_id, version, entry FROM history WHERE {holds} AND NOT mention_id = ANY (%(ids)s) FOR UPDATE",
        "entry", needles, ids=list(ids),
    ):
        new = red.redact(entry)
        if new is not entry and new != entry:
            conn.execute(
                "UPDATE history SET entry = %s, who = %s WHERE mention_id = %s AND version = %s",
                (Jsonb(new), str(new.get("who", "")), mention_id, version),
            )
            changed.add(mention_id)
    # The desks that follow changes re-read them (a state's `changed` covers its history).
    conn.execute("UPDATE states SET changed = nextval('changes') WHERE id = ANY (%s)", (sorted(changed),))
    return len(changed)


def forget(db: Database, author: str, now: datetime, operator: str) -> ForgetResult:
    """Erase a person from the database on request, and log that it was done: store.retention.
    forget's rules (their mentions anonymised in place, our state of them included; their
    identifiers out of everything else: other mentions and our state and history of them, the
    plan, health, notes, crisis log, drafts, presence, checkpoints, hand-offs, alerts' marks),
    then a search of every table for what is left (`remaining`: "table: n rows"; empty when the
    erasure is complete). One transaction per step; run again after a failure. The database's
    backups are not rewritten (see the module)."""
    who = normalise(author)
    if len(who) < 3:
        raise ValueError(f"author: {author!r} is too short to identify anyone")
    mark = _mark(now, "erasure")
    entry = {"at": _iso(now), "who": operator, "what": ERASED, "kind": "erased", "changes": {}, "before": {}}
    result = ForgetResult(subject_hash(author, data_secret(db)))
    person = _Person(who)
    try:
        # 1. Learn who they are from their mentions.
        with db.pool.connection() as conn:
            for _id, content, _state in _theirs(conn, who):
                person.learn(content)
        red, er = person.redactor(), person.eraser()
        # 2. The desk's other tables.
        with db.pool.connection() as conn, conn.transaction():
            if _scrub_desk(conn, er, result):
                conn.execute(
                    """
                    INSERT INTO health (key, record) VALUES (%s, '{"count": 1}')
                    ON CONFLICT (key) DO UPDATE SET changed = nextval('changes'), record = jsonb_build_object(
                        'count', coalesce((health.record ->> 'count')::bigint, 0) + 1)
                    """,
                    (CHECKPOINT_SCRUBS,),
                )
        # 3. Other people's mentions that name them.
        with db.pool.connection() as conn, conn.transaction():
            result.redacted += _redact_others(conn, red, person.ids)
        # 4. Their own mentions, last (with any that came in meanwhile).
        with db.pool.connection() as conn, conn.transaction():
            _utc(conn)
            theirs = _theirs(conn, who, lock=True)
            for _id, content, _state in theirs:
                person.learn(content)
            ids = [i for i, _, _ in theirs]
            if ids:
                _anonymise(conn, ids, Jsonb(mark), entry)
            result.mentions = len(ids)
        with db.pool.connection() as conn:
            result.remaining = remaining(conn, person)
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    log_request(db, "erasure", author, operator, now, mentions=result.mentions, redacted=result.redacted, files=result.files)
    return result


def _tables(conn: Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]


def remaining(conn: Connection, person: _Person) -> list[str]:
    """Every table with a row that still holds a trace of `person`: "table: n rows".

    A text search of every row of every table (its whole row as text), decided as the TinyDB
    store's final check decides for a file: in the mentions, states and history their
    identifiers and refs (their mentions' ids stay there, anonymised: that is how the collector
    knows not to collect them again); everywhere else also their mentions' ids and the first
    words of their posts, except the ids in presence (a desk still open announces the
    anonymised mention it shows). privacy_log holds only keyed hashes; the secret is skipped."""
    red, er = person.redactor(), person.eraser()
    legacy = legacy_subject_hash(person.who)
    out = []
    for table in _tables(conn):
        if table in ("privacy_secret", "schema_version"):
            continue
        # change_log (store/postgres/mentions.py) holds mention ids only, as the desks learn
        # of the rewrite by them: the same ids the mentions keep, anonymised.
        mentions_side = table in ("mentions", "states", "history", "change_log")
        check: Callable[[str], bool]
        if mentions_side:
            check, needles = red.found, _needles(red)
        elif table == "presence":
            check = er.found
        else:
            ids = sorted(er.ids)

            def check(text: str, ids: list[str] = ids) -> bool:
                return er.found(text) or legacy in text or any(i in text for i in ids)

        if mentions_side:  # large: the database narrows them down (their texts are not searched here)
            rows = _holding(conn, f'SELECT t::text FROM "{table}" AS t WHERE {{holds}}', "t", needles)
        else:  # small, and a quote is found only with its spaces evened out: every row
            rows = conn.execute(f'SELECT t::text FROM "{table}" AS t').fetchall()
        found = sum(1 for (text,) in rows if check(text))
        if found:
            out.append(f"{table}: {found} rows")
    return out
