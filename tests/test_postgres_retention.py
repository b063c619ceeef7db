"""Retention, forget, privacy_log and reports on PostgreSQL, against a real server
(tests/pgserver.py), each compared with the TinyDB store's on the same mentions.

The rows are written as the store writes them: a TinyDB store is filled the way desks fill it
(store.update_state with real events), and its records are copied into the database (content
as Mention.content_record gives it, the state without its history, one history row per entry).
"No trace" is checked the way an auditor would: every row of every table, as text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

import psycopg  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from store import retention as tiny_retention  # noqa: E402
from store.postgres import reports  # noqa: E402
from store.postgres import retention as pg_retention  # noqa: E402
from store.postgres.connection import Database, open_database  # noqa: E402
from store.store import Store  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.pgserver import PASSWORD, PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from tests.test_retention import NOW, T0, handle, mention  # noqa: E402
from webcare import report  # noqa: E402
from webcare.config import StoreSettings  # noqa: E402
from webcare.history import Event  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CUTOFF = NOW - timedelta(days=90)
TZ = ZoneInfo("Europe/Brussels")
PERSON = "@persoon0001x"


@pytest.fixture
def db(pg_database: PgDatabase) -> Iterator[Database]:
    database = open_database(StoreSettings(pg_database.url, pg_database.password_env, 2, 10), "test")
    yield database
    database.close()


# --- the same mentions in both stores --------------------------------------------------------


def scene(store: Store) -> None:
    """Old mentions handled by the desk (routed with a note, answered, feedback, a reply), one
    held as a moderation case's evidence and one whose evidence is past evidence_days, one
    never touched, one with an undone routing, a new one, a followed voice's post; the person
    of PERSON wrote 1 and 7 and is named in 2."""
    old = [mention(i) for i in range(1, 7)]
    old[1] = mention(2, text=f"Wat zegt {PERSON} nu weer, Naam0001 Achternaam?", channel="facebook")
    late = mention(7, author=PERSON, name="Naam0001 Achternaam", days=1, channel="facebook",
                   text="Tweede bericht van mij over de mestbank, nog steeds geen antwoord")  # fmt: skip
    new = [mention(8, days=150), mention(9, days=150, channel="facebook", followed=True, status="monitoring")]
    pending = mention(10, days=(NOW - T0).total_seconds() / 86400 - 1 / 24 - 10 / 1440)
    store.add([*old, late, *new, pending])
    for m in old[:3]:
        handle(store, m, m.first_seen_at + timedelta(minutes=30), f"Dag {PERSON}, we bekijken het.", "bel Naam0001 Achternaam terug")
    handle(store, late, late.first_seen_at + timedelta(hours=3), "Sorry voor het wachten", "te laat")
    handle(store, new[0], new[0].first_seen_at + timedelta(minutes=5), "Dank u", "snel")
    store.update_state(
        old[3].id, {"flags": ["evidence"], "status": "moderated",
                    "evidence": {"kept_at": (NOW - timedelta(days=10)).isoformat(), "text": "scheldwoorden van persoon0004x"}},
        Event("moderated", note="verborgen: beledigend"), "els",
    )  # fmt: skip
    store.update_state(
        old[4].id, {"flags": ["evidence"], "status": "moderated",
                    "evidence": {"kept_at": (NOW - timedelta(days=400)).isoformat(), "text": "oud bewijs van persoon0005x"}},
        Event("moderated", note="verborgen lang geleden"), "els",
    )  # fmt: skip
    store.update_state(old[5].id, {"status": "routed", "routed_to": "An Peeters", "routed_note": "geheim"},
                       Event("routed", to="An Peeters", note="geheim: bel 0470 12 34 56"), "jan")  # fmt: skip
    store.update_state(old[5].id, {"status": "new", "routed_to": None, "routed_note": ""},
                       Event("undo", undone={"kind": "routed", "args": {"to": "An Peeters", "note": "geheim"}}), "jan")  # fmt: skip
    store.update_state(new[1].id, {"status": "monitoring"}, Event("status", to="monitoring"), "collector")
    store.add([mention(11)])  # never touched: no state record at all


def raw(store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every content and state record of the TinyDB store, by mention id, as on disk."""
    content: dict[str, Any] = {}
    state: dict[str, Any] = {}
    for seg in store._segments():
        content.update({r["id"]: r for r in store._table(seg, True).values()})
        state.update({r["id"]: r for r in store._table(seg, False).values()})
    return content, state


def copy(store: Store, db: Database) -> None:
    """The TinyDB store's records as rows, in the order they came in."""
    content, state = raw(store)
    with db.pool.connection() as conn, conn.transaction():
        for m in store.load():
            c = content[m.id]
            conn.execute(
                "INSERT INTO mentions (id, source, channel, author, first_seen, deadline, norm, reach, priority, parent, content) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (m.id, m.source, m.channel, m.author, m.first_seen_at, m.deadline, m.norm_s, m.reach, m.priority,
                 m.parent or None, Jsonb(c)),
            )  # fmt: skip
            s = state.get(m.id)
            if s is None:
                continue
            history = s.get("history", [])
            conn.execute(
                "INSERT INTO states (id, status, owes, version, state) VALUES (%s, %s, %s, %s, %s)",
                (m.id, m.status, m.owed, len(history), Jsonb({k: v for k, v in s.items() if k != "history"})),
            )
            for version, entry in enumerate(history, 1):
                conn.execute(
                    "INSERT INTO history (mention_id, version, at, who, kind, entry) VALUES (%s, %s, %s, %s, %s, %s)",
                    (m.id, version, entry["at"], entry["who"], entry.get("kind", ""), Jsonb(entry)),
                )


def rows(db: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every content and state record of the database (the state with its history)."""
    with db.pool.connection() as conn:
        content = {i: c for i, c in conn.execute("SELECT id, content FROM mentions")}
        state = {i: dict(s) for i, s in conn.execute("SELECT id, state FROM states")}
        for i in state:
            state[i]["history"] = []
        for i, entry in conn.execute("SELECT mention_id, entry FROM history ORDER BY mention_id, version"):
            state[i]["history"].append(entry)
    return content, state


def table_texts(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    with db.pool.connection() as conn:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )]  # fmt: skip
        return {n: [r[0] for r in conn.execute(f'SELECT t::text FROM "{n}" AS t')] for n in names}


@pytest.fixture
def both(tmp_path: Path, db: Database) -> tuple[Store, Database]:
    store = Store(tmp_path / "data")
    scene(store)
    copy(store, db)
    assert rows(db) == raw(store)  # the same records in both, to start with
    return store, db


# --- retention -------------------------------------------------------------------------------


def test_retention_anonymises_exactly_what_the_tinydb_store_does(both: tuple[Store, Database]) -> None:
    store, db = both
    tiny = tiny_retention.anonymise_older_than(store, CUTOFF, NOW, evidence_days=365)
    pg = pg_retention.anonymise_older_than(db, CUTOFF, NOW, evidence_days=365, batch=3)  # several batches
    assert pg == tiny == 7  # 1-7 and 11 but 4, whose evidence is held
    content, state = rows(db)
    tiny_content, tiny_state = raw(store)
    assert content == tiny_content
    assert state == tiny_state
    # What that means, to be sure both did something: the old ones are anonymised, the held
    # evidence and the new ones are whole.
    assert content["m-0001"]["author"] == "" and content["m-0001"]["text"] == "" and content["m-0001"]["reach"] == 101
    assert state["m-0001"]["reply"] == "" and state["m-0001"]["routed_to"] == "An Peeters"
    assert state["m-0001"]["history"][0]["what"] == "routed to An Peeters"
    assert state["m-0006"]["history"][1]["args"]["undone"]["args"]["note"] == ""
    assert state["m-0005"]["evidence"] == {} and content["m-0004"]["author"] == "@persoon0004x"
    assert content["m-0008"]["text"].startswith("tekstfragment-0008") and "anonymised" not in content["m-0008"]
    with db.pool.connection() as conn:
        assert conn.execute("SELECT author FROM mentions WHERE id = 'm-0001'").fetchone() == ("",)
    # Run again: nothing left to do, on either side.
    assert pg_retention.anonymise_older_than(db, CUTOFF, NOW) == 0
    assert tiny_retention.anonymise_older_than(store, CUTOFF, NOW) == 0
    assert rows(db) == raw(store)


def test_a_state_changed_after_retention_is_anonymised_again(both: tuple[Store, Database]) -> None:
    _store, db = both
    pg_retention.anonymise_older_than(db, CUTOFF, NOW)
    with db.pool.connection() as conn, conn.transaction():  # a desk writes the state as Mention.state_record has it
        conn.execute("UPDATE states SET state = state - 'anonymised' || '{\"reply\": \"nieuw antwoord aan Jan\"}' WHERE id = 'm-0002'")
        changed = conn.execute("SELECT changed FROM states WHERE id = 'm-0002'").fetchone()
    assert pg_retention.anonymise_older_than(db, CUTOFF, NOW) == 0  # no mention newly anonymised…
    _content, state = rows(db)
    assert state["m-0002"]["reply"] == "" and state["m-0002"]["anonymised"]["reason"] == "retention"  # …but the text is gone
    with db.pool.connection() as conn:
        assert conn.execute("SELECT changed FROM states WHERE id = 'm-0002'").fetchone() > changed  # desks re-read it


def test_retention_expires_the_desks_other_rows(db: Database) -> None:
    old, recent = CUTOFF - timedelta(days=1), CUTOFF + timedelta(days=1)
    with db.pool.connection() as conn, conn.transaction():
        for i, seen in ((1, old), (2, recent)):
            conn.execute(
                "INSERT INTO mentions (id, source, channel, author, first_seen, content) VALUES (%s, 'demo', 'x', 'a', %s, '{}')",
                (f"m{i}", seen),
            )
        conn.execute("INSERT INTO notes (at, who, text) VALUES (%s, 'els', 'oud'), (%s, 'els', 'nieuw')", (old, recent))
        conn.execute("INSERT INTO crisis_log (at, who, kind, text) VALUES (%s, 'els', 'start', 'storm'), (%s, 'els', 'decision', 'pers')", (old, recent))
        conn.execute(
            "INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES ('m1', 'els', 'a', %s), ('m2', 'els', 'b', %s), "
            "('gone', 'els', 'c', %s)",
            (NOW, NOW, old),
        )
        conn.execute(
            "INSERT INTO presence (desk, operator, viewing, claim, seen_at) VALUES ('d1', 'els', 'm1', 'm2', %s), "
            "('d2', 'jan', 'm2', NULL, %s)",
            (NOW, NOW - timedelta(minutes=5)),
        )
    done = pg_retention.expire_desk_rows(db, CUTOFF, NOW)
    assert done == {"notes": 1, "crisis": 1, "drafts": 2, "presence": 2}
    texts = table_texts(db)
    assert [t for t in texts["notes"] if "oud" in t] == [] and len(texts["notes"]) == 1
    with db.pool.connection() as conn:
        assert conn.execute("SELECT kind, text FROM crisis_log ORDER BY seq").fetchall() == [("start", ""), ("decision", "pers")]
        assert conn.execute("SELECT mention_id FROM drafts").fetchall() == [("m2",)]
        assert conn.execute("SELECT desk, viewing, claim FROM presence").fetchall() == [("d1", None, "m2")]


# --- forget ------------------------------------------------------------------------------------


def desk_rows(db: Database) -> None:
    """The person in every other table the desk writes."""
    with db.pool.connection() as conn, conn.transaction():
        conn.execute("INSERT INTO notes (at, who, text) VALUES (%s, 'els', %s)", (NOW, f"{PERSON} belt morgen terug (m-0001)"))
        conn.execute("INSERT INTO notes (at, who, text) VALUES (%s, 'els', 'niets over iemand')", (NOW,))
        conn.execute(
            "INSERT INTO crisis_log (at, who, kind, text) VALUES (%s, 'els', 'decision', %s)",
            (NOW, "Citaat: tekstfragment-0001-q over de mestbank #VLM, dus we reageren"),
        )
        conn.execute("INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES ('m-0001', 'els', 'Dag!', %s)", (NOW,))
        conn.execute("INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES ('m-0003', 'els', %s, %s)", (f"Zoals {PERSON} zei", NOW))
        conn.execute("INSERT INTO drafts (mention_id, operator, text, saved_at) VALUES ('m-0005', 'els', 'Dank u', %s)", (NOW,))
        conn.execute(
            "INSERT INTO presence (desk, operator, viewing, claim, claim_since, seen_at) VALUES ('d1', 'els', 'm-0001', 'm-0001', %s, %s)",
            (NOW, NOW),
        )
        conn.execute(
            "INSERT INTO checkpoints (source, state) VALUES ('demo', %s)",
            (Jsonb({"seen": ["ref-0001-post", "ref-0002-post"], "cursor": "ref-0001-post"}),),
        )
        conn.execute(
            "INSERT INTO plan_items (id, status, item, updated_at) VALUES ('p1', 'idea', %s, %s)",
            (Jsonb({"title": "Antwoord aan Naam0001 Achternaam publiceren", "notes": ""}), NOW),
        )
        conn.execute(
            "INSERT INTO handoffs (key, mention_id, kind, to_address, name, at) VALUES ('k1', 'm-0001', 'expert', 'an@vlm.example', 'An Peeters', %s)",
            (NOW,),
        )
        conn.execute("INSERT INTO alerts_sent (event, at) VALUES ('urgent:m-0001', %s), ('urgent:m-0002', %s)", (NOW, NOW))
        conn.execute("INSERT INTO health (key, record) VALUES ('demo', %s)", (Jsonb({"last_error": f"kon {PERSON} niet ophalen"}),))


NEEDLES = ["persoon0001x", "Naam0001 Achternaam", "tekstfragment-0001", "ref-0001-post", "x.example/persoon0001x",
           "Tweede bericht van mij", "Sorry voor het wachten"]  # fmt: skip


def test_forget_leaves_no_trace_in_any_table_and_erases_as_the_tinydb_store_does(
    both: tuple[Store, Database], tmp_path: Path, pg_database: PgDatabase
) -> None:
    store, db = both
    desk_rows(db)
    listener = psycopg.connect(pg_database.url, password=PASSWORD, autocommit=True)
    listener.execute("LISTEN webcare")
    assert any(n.lower() in t.lower() for ts in table_texts(db).values() for t in ts for n in NEEDLES)
    tiny = tiny_retention.forget(store, PERSON, NOW, "els", tmp_path / "backups")
    pg = pg_retention.forget(db, PERSON, NOW, "els")
    assert pg.remaining == [] and tiny.remaining == []
    assert (pg.mentions, pg.redacted) == (tiny.mentions, tiny.redacted) == (2, 2)  # their 2; 2 and 3 name them
    assert pg.files == 9  # 1 note, 1 crisis entry, drafts, presence, checkpoint, plan item, hand-off, alert mark, health
    assert rows(db) == raw(store)  # the mentions erased and redacted alike
    # The open desks are told which books to re-read, as when a desk writes them.
    told = {n.payload for n in listener.notifies(timeout=2, stop_after=9)}
    listener.close()
    # and the mentions' side by store/postgres/mentions.py's triggers: content, states, health
    assert told == {"notes", "crisis", "drafts", "presence", "plan", "handoffs", "rewritten", "state", "health"}
    # An auditor's search of every row of every table finds nothing of them.
    found = {
        table: [t for t in texts if any(n.lower() in t.lower() for n in NEEDLES)]
        for table, texts in table_texts(db).items()
    }
    assert {t: f for t, f in found.items() if f} == {}
    # Their mentions are still there, anonymised (the collector does not collect them again),
    # with the erasure in their history, one version on.
    content, state = rows(db)
    assert content["m-0001"]["anonymised"]["reason"] == "erasure" and state["m-0001"]["history"][-1]["what"] == "erased on request"
    with db.pool.connection() as conn:
        assert conn.execute("SELECT version FROM states WHERE id = 'm-0007'").fetchone() == (len(state["m-0007"]["history"]),)
        assert conn.execute("SELECT mention_id FROM drafts ORDER BY 1").fetchall() == [("m-0005",)]
        assert conn.execute("SELECT viewing, claim, claim_since FROM presence").fetchone() == (None, None, None)
        assert conn.execute("SELECT state FROM checkpoints").fetchone() == ({"seen": ["ref-0002-post"], "cursor": None},)
        assert conn.execute("SELECT event FROM alerts_sent").fetchall() == [("urgent:m-0002",)]
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (2,)  # the entry stays, without them
    # privacy_log: the request by keyed hash, never the name; found again by the name.
    [line] = pg_retention.logged_for(db, "@Persoon0001X")
    assert line["request"] == "erasure" and line["mentions"] == 2 and line["subject"] == pg.subject
    assert pg.subject.startswith("hmac-sha256:") and pg.subject != tiny.subject  # another secret: another hash
    assert pg_retention.logged_for(db, "@someone_else") == []
    # Again: nothing of theirs left to erase, and still no trace.
    again = pg_retention.forget(db, PERSON, NOW, "els")
    assert (again.mentions, again.redacted, again.remaining) == (0, 0, [])


def test_forget_names_a_table_that_still_holds_a_trace(both: tuple[Store, Database]) -> None:
    _store, db = both
    with db.pool.connection() as conn, conn.transaction():  # a table forget has no rule for
        conn.execute("INSERT INTO source_leases (source, holder, expires) VALUES ('demo', %s, %s)", (f"collector of {PERSON}", NOW))
    result = pg_retention.forget(db, PERSON, NOW, "els")
    assert result.remaining == ["source_leases: 1 rows"]


def test_access_export_gives_their_mentions_as_the_tinydb_store_does(both: tuple[Store, Database]) -> None:
    store, db = both
    pg = pg_retention.access_export(db, "persoon0001X")
    assert [r["id"] for r in pg] == ["m-0001", "m-0007"]
    assert pg == tiny_retention.access_export(store, PERSON)


# --- reports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "days"), [(T0 - timedelta(days=1), 200), (T0, 3), (NOW - timedelta(days=2), 3)])
def test_report_figures_are_those_of_the_tinydb_store(both: tuple[Store, Database], first: datetime, days: int) -> None:
    store, db = both
    start, end = report.period(first.astimezone(TZ).date(), (first + timedelta(days=days - 1)).astimezone(TZ).date(), TZ)
    now = NOW
    expected = report.figures(store.load(), start, end, TZ, now)
    assert reports.figures(db, start, end, TZ, now) == expected
    assert reports.overview(db, start, end, TZ, now) == report.overview(expected)


def test_report_overview_counts_and_percentiles(both: tuple[Store, Database]) -> None:
    _store, db = both
    start, end = report.period((T0 - timedelta(days=1)).date(), NOW.date(), TZ)
    o = reports.overview(db, start, end, TZ, NOW)
    assert o.total == 10  # 11 mentions, but the followed voice's post
    assert o.per_channel == {"x": 8, "facebook": 2}
    assert o.statuses["responded"] == 5
    assert o.response_all.answered == 5 and o.response_all.late == 1 and o.response_all.median_s == 600.0
    assert o.response_all.missed == 2 and o.response_all.pending == 1  # 6 (undone) and 11; moderated ones owe none


# --- the commands ------------------------------------------------------------------------------


def webcare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "webcare.cli", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env)


def test_the_commands_run_on_the_database(both: tuple[Store, Database], pg_database: PgDatabase, tmp_path: Path) -> None:
    _store, db = both
    config = str(write_config(tmp_path, pg_database.store_table() + "[retention]\ndays = 90\n"))
    access = webcare("export", "mentions", "--author", PERSON, "--config", config, cwd=tmp_path)
    assert access.returncode == 0, access.stderr
    assert [json.loads(line)["id"] for line in access.stdout.splitlines()] == ["m-0001", "m-0007"]
    assert [line["request"] for line in pg_retention.logged_for(db, PERSON)] == ["access"]
    forget = webcare("forget", PERSON, "--yes", "--config", config, cwd=tmp_path)
    assert forget.returncode == 0, forget.stderr
    assert "erased: 2 mentions by them" in forget.stdout and "privacy_log" in forget.stdout
    assert [line["request"] for line in pg_retention.logged_for(db, PERSON)] == ["access", "erasure"]
    chores = webcare("housekeeping", "--config", config, cwd=tmp_path)
    assert chores.returncode == 0, chores.stderr
    assert "anonymised 5 mentions older than 90 days" in chores.stdout  # 1 and 7 were erased already; 4 is held
    assert "pg_dump" in chores.stdout or "the database's own" in chores.stdout
    check = webcare("check", "--config", config, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "housekeeping: backups: the database's own; last retention run 20" in check.stdout
    made = webcare("report", "--format", "json", "--from", "2026-05-31", "--to", "2026-11-23", "--config", config, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["total"] == 10
    restore = webcare("restore", "--config", config, cwd=tmp_path)
    assert restore.returncode == 1
    assert "docs/operations/postgresql.md" in restore.stderr and "pg_restore" in restore.stderr
    assert not (tmp_path / "data" / "backups").exists()  # no file backup of a database store


def test_a_database_that_fails_is_said_as_a_store_error_never_a_crash(db: Database, pg_database: PgDatabase) -> None:
    from store.jsonstorage import StoreError

    pg_database.psql("ALTER TABLE mentions RENAME TO mentions_elsewhere")  # as a broken restore might leave it
    with pytest.raises(StoreError) as caught:
        pg_retention.anonymise_older_than(db, CUTOFF, NOW)
    assert str(caught.value).startswith(f"database {db.settings.where}: ") and "mentions" in str(caught.value)
    with pytest.raises(StoreError):
        pg_retention.forget(db, PERSON, NOW, "els")
    start, end = report.period(T0.date(), NOW.date(), TZ)
    with pytest.raises(StoreError):
        reports.overview(db, start, end, TZ, NOW)


def test_the_daily_chores_are_due_once_a_day_on_the_database(db: Database, pg_database: PgDatabase, make_config) -> None:
    from store.housekeeping import due

    config = make_config(pg_database.store_table() + "[retention]\ndays = 90\n")
    assert due(config, NOW)  # never ran
    pg_retention.run_chores(db, 90, 365, NOW)
    assert not due(config, NOW + timedelta(hours=1))  # ran today (by any collector): no archive to look for
    assert due(config, NOW + timedelta(days=1))
