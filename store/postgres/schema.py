"""The database's schema, and the numbered steps that bring a database to it.

The one place the PostgreSQL store's tables are defined. A database starts empty; the desk or
collector that opens it applies the steps it has not had yet (`migrate`), each step's SQL and
the row that records it in one transaction, under a transaction-level advisory lock: two
processes starting at once do not both migrate, the second waits and then finds nothing left
to do. A database whose schema is newer than this code (a newer webcare migrated it) is
refused rather than written with an older idea of its tables.

A step, once released, never changes: a change to the schema is a new step at the end.

What each table holds (the TinyDB store's files, by the same names where it has them):

- mentions: one row per mention: the content record (`content`, as Mention.content_record
  writes it) and the queue's columns beside it, so the desk's rows come from one scan of
  narrow columns; `seq` is the order mentions arrived in. `rewritten` marks content that
  retention or an erasure rewrote in place (the desks replace what they show of it).
- states: the operators' state of a mention (`state`, as Mention.state_record writes it,
  without its history) with status and owes as columns, and `version`, the number of changes
  made to it: a change that expects version 3 updates only `WHERE version = 3`, so a conflict
  is found, never overwritten. `changed` orders changes for the desks that follow them.
- history: the state's history, one row per entry, numbered by the version it made: the
  primary key (mention, version) refuses a second entry for the same version even if the
  version check were skipped.
- plan_items, drafts, notes, crisis_log, handoffs: as the files plan.json, drafts.json,
  notes.jsonl, crisis.jsonl and handoffs.json hold them.
- presence: one row per open desk (the files in presence/).
- checkpoints: each source's checkpoint; health: health.json's records by key (each source's
  health, the collector's heartbeat, housekeeping).
- alerts_sent, alert_targets: alerts.json's once-only marks (an event id goes out once) and
  each target's rate-limit state; digests: digests.json's marks, one row per day.
- source_leases: which collector collects which source, until when (several collectors: a
  lease not renewed by its expiry is free for another).
- change_log (step 2): one row per new mention, changed state, rewritten content and health
  write, stamped with the writing transaction's id (xid8) and written by triggers, so whatever
  code writes, the desks learn of it (store.postgres.mentions: `changes`); the same triggers
  NOTIFY channel `webcare`. Rows older than a day are dropped by the collector's heartbeat.
- privacy_log: privacy.log's lines (an erasure or access request: when, the operator, the
  subject's keyed hash, the figures); privacy_secret: the key of those hashes (the data
  directory's `secret`), one row, made on first need (store/postgres/retention.py says why it
  is kept in the database).

Step 3 also creates the functions retention and erasure anonymise with (webcare_anonymous_*,
store/postgres/retention.py): the rules of store/retention.py in SQL, so the database rewrites
old mentions without sending them to a client and back. Which fields are kept is passed in by
the caller (store.retention's CONTENT_KEEP, STATE_KEEP; webcare.history's FREE_TEXT), so those
lists stay in one place; a change to how a value is blanked is a new step that replaces a
function (CREATE OR REPLACE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.jsonstorage import StoreError

if TYPE_CHECKING:
    import psycopg

# pg_advisory_xact_lock's key for migrating: any constant, the same in every webcare.
MIGRATION_LOCK = 0x77656263617265  # "webcare"


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    what: str  # said when it is applied, and kept in schema_version
    sql: str


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "the tables of the store port: mentions, states, history, plan, drafts, notes, crisis log, "
        "hand-offs, presence, checkpoints, health, alerts' and digests' marks, source leases",
        """
CREATE TABLE mentions (
    id          text PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    source      text NOT NULL,
    channel     text NOT NULL,
    author      text NOT NULL,
    first_seen  timestamptz NOT NULL,
    deadline    timestamptz,
    norm        integer,
    reach       bigint,
    priority    text NOT NULL DEFAULT 'normal',
    parent      text,
    content     jsonb NOT NULL,
    rewritten   bigint
);
CREATE INDEX mentions_first_seen ON mentions (first_seen);
CREATE INDEX mentions_author ON mentions (author);
CREATE INDEX mentions_rewritten ON mentions (rewritten) WHERE rewritten IS NOT NULL;

CREATE SEQUENCE changes;

CREATE TABLE states (
    id          text PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'new',
    owes        boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 0 CHECK (version >= 0),
    state       jsonb NOT NULL,
    changed     bigint NOT NULL DEFAULT nextval('changes')
);
CREATE INDEX states_changed ON states (changed);
CREATE INDEX states_status ON states (status) WHERE status <> 'new';

CREATE TABLE history (
    mention_id  text NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    at          timestamptz NOT NULL,
    who         text NOT NULL,
    kind        text NOT NULL DEFAULT '',
    entry       jsonb NOT NULL,
    PRIMARY KEY (mention_id, version)
);
CREATE INDEX history_at ON history (at);

CREATE TABLE plan_items (
    id          text PRIMARY KEY,
    day         date,
    status      text NOT NULL,
    item        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    changed     bigint NOT NULL DEFAULT nextval('changes')
);
CREATE INDEX plan_items_day ON plan_items (day);

CREATE TABLE drafts (
    mention_id  text PRIMARY KEY,
    operator    text NOT NULL,
    text        text NOT NULL,
    saved_at    timestamptz NOT NULL,
    changed     bigint NOT NULL DEFAULT nextval('changes')
);

CREATE TABLE notes (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    who         text NOT NULL,
    text        text NOT NULL
);
CREATE INDEX notes_at ON notes (at);

CREATE TABLE crisis_log (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    who         text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('start', 'decision', 'end')),
    text        text NOT NULL DEFAULT ''
);

CREATE TABLE handoffs (
    key         text PRIMARY KEY,
    mention_id  text NOT NULL,
    kind        text NOT NULL,
    to_address  text NOT NULL,
    name        text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    deputy_for  text NOT NULL DEFAULT '',
    answered_at timestamptz,
    replaced_at timestamptz,
    answer_ref  text NOT NULL DEFAULT ''
);
CREATE INDEX handoffs_mention ON handoffs (mention_id);

CREATE TABLE presence (
    desk        text PRIMARY KEY,
    operator    text NOT NULL,
    viewing     text,
    claim       text,
    claim_since timestamptz,
    seen_at     timestamptz NOT NULL
);

CREATE TABLE checkpoints (
    source      text PRIMARY KEY,
    state       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE health (
    key         text PRIMARY KEY,
    record      jsonb NOT NULL,
    changed     bigint NOT NULL DEFAULT nextval('changes')
);

CREATE TABLE alerts_sent (
    event       text PRIMARY KEY,
    at          timestamptz NOT NULL
);
CREATE INDEX alerts_sent_at ON alerts_sent (at);

CREATE TABLE alert_targets (
    name        text PRIMARY KEY,
    state       jsonb NOT NULL
);

CREATE TABLE digests (
    day         date PRIMARY KEY,
    record      jsonb NOT NULL
);

CREATE TABLE source_leases (
    source      text PRIMARY KEY,
    holder      text NOT NULL,
    expires     timestamptz NOT NULL
);
""",
    ),
    Step(
        2,
        "what changed, for the desks that follow it (change_log, written by triggers that also NOTIFY "
        "channel webcare)",
        """
CREATE TABLE change_log (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('new', 'state', 'health', 'rewritten')),
    mention_id  text,
    origin      text
);
CREATE INDEX change_log_xid ON change_log (xid);
CREATE INDEX change_log_at ON change_log (at);

CREATE FUNCTION webcare_mentions_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (kind, mention_id, origin)
        SELECT 'new', id, current_setting('webcare.origin', true) FROM added;
    IF FOUND THEN PERFORM pg_notify('webcare', 'new'); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mentions_added AFTER INSERT ON mentions
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION webcare_mentions_added();

CREATE FUNCTION webcare_mentions_rewritten() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (kind, mention_id, origin)
        SELECT 'rewritten', n.id, current_setting('webcare.origin', true)
          FROM after_rows n JOIN before_rows o ON o.id = n.id
         WHERE n.content IS DISTINCT FROM o.content;
    IF FOUND THEN PERFORM pg_notify('webcare', 'rewritten'); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mentions_rewritten AFTER UPDATE ON mentions
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webcare_mentions_rewritten();

CREATE FUNCTION webcare_states_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (kind, mention_id, origin)
        SELECT 'state', id, current_setting('webcare.origin', true) FROM changed;
    IF FOUND THEN PERFORM pg_notify('webcare', 'state'); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER states_inserted AFTER INSERT ON states
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION webcare_states_changed();
CREATE TRIGGER states_updated AFTER UPDATE ON states
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION webcare_states_changed();

CREATE FUNCTION webcare_health_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (kind) VALUES ('health');
    PERFORM pg_notify('webcare', 'health');
    RETURN NULL;
END $$;
CREATE TRIGGER health_changed AFTER INSERT OR UPDATE OR DELETE ON health
    FOR EACH STATEMENT EXECUTE FUNCTION webcare_health_changed();
""",
    ),
    Step(
        3,
        "privacy.log and its secret in the database; the functions retention and erasure anonymise with",
        """
CREATE TABLE privacy_log (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    operator    text NOT NULL,
    request     text NOT NULL,
    subject     text NOT NULL,
    figures     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX privacy_log_subject ON privacy_log (subject);

CREATE TABLE privacy_secret (
    only_one    boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    key         bytea NOT NULL CHECK (length(key) >= 32)
);

-- What retention still has to do, found without reading the anonymised ones.
CREATE INDEX mentions_not_anonymised ON mentions (seq) WHERE NOT content ? 'anonymised';
CREATE INDEX states_not_anonymised ON states (id) WHERE NOT state ? 'anonymised';

-- store.retention._blank: text, list and table emptied (same type), anything else kept.
CREATE FUNCTION webcare_blank(value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(value)
        WHEN 'string' THEN '""'::jsonb WHEN 'array' THEN '[]'::jsonb WHEN 'object' THEN '{}'::jsonb
        ELSE value END
$$;

-- The functions below are PL/pgSQL, not SQL: a SQL function with a subquery is planned again at
-- every call, which made retention a hundred times slower.

-- store.retention._feedback: each entry keeps its unit and time, never its note.
CREATE FUNCTION webcare_feedback(value jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb := '[]';
    kept jsonb;
    e jsonb;
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(value) IS DISTINCT FROM 'array' THEN
        RETURN webcare_blank(value);
    END IF;
    FOR e IN SELECT * FROM jsonb_array_elements(value) LOOP
        IF jsonb_typeof(e) = 'object' THEN
            kept := '{}';
            FOR k, v IN SELECT * FROM jsonb_each(e) AS f(k, v) WHERE f.k IN ('unit', 'at') LOOP
                kept := kept || jsonb_build_object(k, v);
            END LOOP;
            out := out || jsonb_build_array(kept);
        ELSE
            out := out || jsonb_build_array(null::jsonb);
        END IF;
    END LOOP;
    RETURN out;
END
$$;

-- store.retention._state_fields: a state's (or a history entry's changes/before) kept fields.
CREATE FUNCTION webcare_state_fields(value jsonb, keep text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb := '{}';
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(value) IS DISTINCT FROM 'object' THEN
        RETURN webcare_blank(value);
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(value) LOOP
        out := out || jsonb_build_object(k, CASE WHEN k = ANY (keep) THEN v
                                                 WHEN k = 'feedback' THEN webcare_feedback(v)
                                                 ELSE webcare_blank(v) END);
    END LOOP;
    RETURN out;
END
$$;

-- webcare.history.anonymised: an entry's args without free text (an undone entry's too).
CREATE FUNCTION webcare_anonymous_args(args jsonb, free_text text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb := '{}';
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(args) IS DISTINCT FROM 'object' THEN
        RETURN '{}'::jsonb;
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(args) LOOP
        out := out || jsonb_build_object(k, CASE
            WHEN k = 'undone' AND jsonb_typeof(v) = 'object' THEN jsonb_build_object(
                'kind', coalesce(v -> 'kind', '""'::jsonb),
                'args', webcare_anonymous_args(v -> 'args', free_text))
            WHEN k = ANY (free_text) THEN '""'::jsonb
            ELSE v END);
    END LOOP;
    RETURN out;
END
$$;

-- store.retention._what: an action's label without the free text after its first ": ".
CREATE FUNCTION webcare_what(what jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    rest text;
    prefix text := '';
BEGIN
    IF jsonb_typeof(what) IS DISTINCT FROM 'string' THEN
        RETURN webcare_blank(what);
    END IF;
    rest := what #>> '{}';
    WHILE starts_with(rest, 'undo: ') LOOP
        prefix := prefix || 'undo: ';
        rest := substr(rest, 7);
    END LOOP;
    RETURN to_jsonb(prefix || split_part(rest, ': ', 1));
END
$$;

-- store.retention._entry: a history entry keeps when, who and what kind, nothing said.
CREATE FUNCTION webcare_anonymous_entry(entry jsonb, keep text[], free_text text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb := '{}';
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(entry) IS DISTINCT FROM 'object' THEN
        RETURN '{}'::jsonb;
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(entry) LOOP
        out := out || jsonb_build_object(k, CASE
            WHEN k IN ('at', 'who', 'kind') THEN v
            WHEN k = 'args' THEN webcare_anonymous_args(v, free_text)
            WHEN k = 'what' THEN webcare_what(v)
            WHEN k IN ('changes', 'before') THEN webcare_state_fields(v, keep)
            ELSE webcare_blank(v) END);
    END LOOP;
    RETURN out;
END
$$;

-- store.retention.anonymise_content: the figures kept, everything said by or about anyone gone.
CREATE FUNCTION webcare_anonymous_content(record jsonb, keep text[], mark jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb := '{}';
    k text;
    v jsonb;
BEGIN
    FOR k, v IN SELECT * FROM jsonb_each(record) LOOP
        out := out || jsonb_build_object(k, CASE WHEN k = ANY (keep) THEN v ELSE webcare_blank(v) END);
    END LOOP;
    RETURN out || jsonb_build_object('author', '', 'text', '', 'anonymised', mark);
END
$$;

-- store.retention.anonymise_state, for the state without its history (that is in history).
CREATE FUNCTION webcare_anonymous_state(record jsonb, keep text[], mark jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT webcare_state_fields(record, keep) || jsonb_build_object('anonymised', mark)
$$;

-- webcare.moderation.evidence_open: a moderation case's evidence, kept less than `days` ago and
-- the case still open (the evidence flag): retention leaves such a mention whole.
CREATE FUNCTION webcare_evidence_open(state jsonb, now timestamptz, days integer) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    kept timestamptz;
BEGIN
    IF jsonb_typeof(state -> 'evidence') IS DISTINCT FROM 'object' OR state -> 'evidence' = '{}'::jsonb
       OR jsonb_typeof(state -> 'flags') IS DISTINCT FROM 'array' OR NOT (state -> 'flags') ? 'evidence' THEN
        RETURN false;
    END IF;
    BEGIN
        kept := (state -> 'evidence' ->> 'kept_at')::timestamptz;
    EXCEPTION WHEN others THEN
        RETURN false;  -- unreadable: not held, as evidence_open says
    END;
    RETURN kept IS NOT NULL AND now - kept < make_interval(days => days);
END
$$;
""",
    ),
)

CURRENT = STEPS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     integer PRIMARY KEY,
    what        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT current_user
)"""


class SchemaTooNew(StoreError):
    """The database was migrated by a newer webcare: this one does not know its tables."""

    def __init__(self, where: str, found: int) -> None:
        super().__init__(
            f"database {where}: schema {found} is newer than this webcare knows ({CURRENT}): "
            "upgrade webcare on this machine before it uses the database"
        )
        self.found = found


def version_of(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The schema version of the database `conn` is on: 0 for an empty one. Reads only."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return 0
        cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
        row = cur.fetchone()
        return int(row[0]) if row and isinstance(row[0], int) else 0


def migrate(conn: psycopg.Connection[tuple[object, ...]], where: str) -> list[Step]:
    """Apply the steps the database has not had, in one transaction under the migration lock;
    the steps applied (none when it was current). SchemaTooNew for a newer database."""
    with conn.transaction():
        with conn.cursor() as cur:
            # Held to the end of the transaction: a second process starting now waits here and
            # then reads the version this one wrote.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute(_VERSION_TABLE)
            found = version_of(conn)
            if found > CURRENT:
                raise SchemaTooNew(where, found)
            applied = [step for step in STEPS if step.version > found]
            for step in applied:
                cur.execute(step.sql)
                cur.execute("INSERT INTO schema_version (version, what) VALUES (%s, %s)", (step.version, step.what))
    return applied
