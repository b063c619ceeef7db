"""Everything beside the mentions on PostgreSQL (store/postgres/books.py), against a real
server (tests/pgserver.py): each book behaves as its TinyDB twin, two handles (two desks, each
with its own pool) see each other's writes, concurrent writers lose nothing, every write
NOTIFYs the desks, and a database that is away is a StoreError, never a crash."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

import psycopg  # noqa: E402
from httpserver import feed_server_fixture  # noqa: E402, F401 (the feed_server fixture)

from store.jsonstorage import StoreError  # noqa: E402
from store.postgres.books import (  # noqa: E402
    PgAlertMarks,
    PgCrisisJournal,
    PgDigestMarks,
    PgDraftBook,
    PgHandoffBook,
    PgNoteJournal,
    PgPlanBook,
    PgPresenceBoard,
)
from store.postgres.connection import Database, open_database  # noqa: E402
from tests.pgserver import PASSWORD, PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from webcare.config import StoreSettings  # noqa: E402
from webcare.drafts import Draft  # noqa: E402
from webcare.handover import Note  # noqa: E402
from webcare.planning import PlanItem, hold_today_and_tomorrow, release_held  # noqa: E402

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def _settings(db: PgDatabase, timeout: int = 5) -> StoreSettings:
    return StoreSettings(url=db.url, password_env=db.password_env, pool=3, connect_timeout=timeout)


@pytest.fixture
def desks(pg_database: PgDatabase) -> Iterator[tuple[Database, Database]]:
    """Two desks' ways to one database: two processes' pools."""
    one = open_database(_settings(pg_database), "desk")
    two = open_database(_settings(pg_database), "desk")
    yield one, two
    one.close()
    two.close()


def item(title: str, day: date | None = None, **kw) -> PlanItem:
    return PlanItem.new(title, date=day, now=T0, **kw)


# --- the plan --------------------------------------------------------------------------------


def test_plan_add_update_delete_restore(desks):
    plan, other = PgPlanBook(desks[0]), PgPlanBook(desks[1])
    assert plan.all() == []
    a = plan.add(item("Poelen", date(2026, 11, 18), time=time(9, 30), channels="x", status="planned"))
    b = plan.add(item("Idee: waterbeheer"))
    assert plan.all() == [a, b]  # dated first, then the backlog
    assert plan.get(a.id) == a and plan.get("nope") is None
    later = T0 + timedelta(hours=2)
    moved = plan.update(a.id, {"date": date(2026, 11, 20), "status": "published"}, at=later)
    assert moved.date == date(2026, 11, 20) and moved.updated_at == later
    assert other.get(a.id) == moved  # another desk reads it
    gone = plan.delete(b.id)
    assert gone == b and other.get(b.id) is None
    plan.restore(gone)
    assert other.get(b.id) == b
    plan.restore(a)  # undo of the edit
    assert other.get(a.id) == a and len(other.all()) == 2
    with pytest.raises(KeyError):
        plan.update("nope", {"status": "draft"})
    with pytest.raises(KeyError):
        plan.delete("nope")
    with pytest.raises(ValueError, match="already stored"):
        plan.add(a)
    with pytest.raises(ValueError, match="colour"):
        plan.update(a.id, {"colour": "red"})
    assert plan.get(a.id) == a  # a refused change writes nothing
    assert plan.add_many([a, item("nieuw")])[0].title == "nieuw"  # a stored id is not doubled
    assert len(other.all()) == 3


def test_plan_update_with_an_expectation_never_overwrites_someone_else(desks):
    plan, other = PgPlanBook(desks[0]), PgPlanBook(desks[1])
    a = plan.add(item("Poelen", date(2026, 11, 18), status="draft"))
    other.update(a.id, {"status": "planned"})  # another operator
    assert plan.update(a.id, {"status": "idea"}, expect={"status": "draft"}) is None
    assert plan.get(a.id).status == "planned"
    assert plan.update(a.id, {"status": "published"}, expect={"status": "planned"}).status == "published"


def test_plan_hold_and_release(desks):
    plan = PgPlanBook(desks[0])
    today = date(2026, 11, 20)
    a = plan.add(item("vandaag", today, status="planned"))
    b = plan.add(item("morgen", today + timedelta(days=1), status="draft"))
    c = plan.add(item("overmorgen", today + timedelta(days=2), status="planned"))
    held = plan.update_many(hold_today_and_tomorrow(plan.all(), today))
    assert [i.id for i in held] == [a.id, b.id]
    assert {i.id: i.status for i in plan.all()} == {a.id: "held", b.id: "held", c.id: "planned"}
    plan.delete(b.id)  # deleted meanwhile: the release skips it
    released = plan.update_many([*release_held(plan.all(), today), (b.id, {"status": "planned"})])
    assert [i.id for i in released] == [a.id]
    assert plan.get(a.id).status == "planned" and plan.get(a.id).held_from is None


def test_plan_changed_reports_other_writers_not_our_own(desks):
    mine, theirs = PgPlanBook(desks[0]), PgPlanBook(desks[1])
    mine.all()
    assert not mine.changed()
    a = mine.add(item("mine"))
    assert not mine.changed()  # our own write is no news
    theirs.add(item("theirs"))
    assert mine.changed()
    mine.update(a.id, {"title": "mine, edited"})  # writing does not swallow their change
    assert mine.changed()
    assert {i.title for i in mine.all()} == {"mine, edited", "theirs"}
    assert not mine.changed()
    theirs.delete(a.id)  # a delete is news too
    assert mine.changed()


def test_two_desks_adding_and_editing_the_plan_at_once_lose_nothing(desks):
    count, errors = 30, []

    def desk(db: Database, name: str) -> None:
        try:
            plan, mine = PgPlanBook(db), []
            for n in range(count):
                mine.append(plan.add(item(f"{name} {n}")))
                if n % 5 == 0:  # and change earlier ones meanwhile
                    plan.update(mine[n // 2].id, {"status": "draft", "theme": name})
        except Exception as exc:  # said in the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(db, name)) for db, name in zip(desks, ("anna", "bert"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    items = PgPlanBook(desks[0]).all()
    assert {i.title for i in items} == {f"{name} {n}" for name in ("anna", "bert") for n in range(count)}
    for name in ("anna", "bert"):
        assert {i.title for i in items if i.theme == name} == {f"{name} {n // 2}" for n in range(0, count, 5)}


# --- drafts, notes, the crisis log -----------------------------------------------------------


def test_drafts_one_per_mention_shared_by_every_desk(desks):
    store, other = PgDraftBook(desks[0]), PgDraftBook(desks[1])
    store.save(Draft("m1", "an", "Beste boer, ", T0 + timedelta(microseconds=5)))
    other.save(Draft("m2", "jan", "Dag, ", T0))
    assert sorted(store.all()) == ["m1", "m2"]
    assert other.get("m1") == Draft("m1", "an", "Beste boer, ", T0)  # to the second, as drafts.json
    assert other.get("m1").saved_at.tzinfo == UTC
    other.save(Draft("m1", "jan", "Beste boer, we", T0 + timedelta(minutes=1)))  # the later save wins
    assert store.get("m1").operator == "jan"
    store.apply({"m1": None, "m3": Draft("m3", "an", "Hallo", T0)})
    assert sorted(other.all()) == ["m2", "m3"]
    other.remove("m2", "m3", "never")
    assert store.all() == {} and store.get("m1") is None


def test_notes_in_order_and_since(desks):
    notes, other = PgNoteJournal(desks[0]), PgNoteJournal(desks[1])
    notes.add(Note(T0, "an", "Bel de boer van m4 terug"))
    other.add(Note(T0 + timedelta(hours=2), "jan", "Persvraag loopt"))
    notes.add(Note(T0 + timedelta(hours=1), "an", "later geschreven"))
    assert [n.text for n in other.all()] == ["Bel de boer van m4 terug", "Persvraag loopt", "later geschreven"]
    assert [n.who for n in notes.since(T0 + timedelta(hours=1))] == ["jan", "an"]
    assert notes.all()[0] == Note(T0, "an", "Bel de boer van m4 terug")


def test_crisis_log(desks, pg_database):
    log, other = PgCrisisJournal(desks[0]), PgCrisisJournal(desks[1])
    assert other.current() == [] and other.entries() == []
    before = other.signature()
    log.add(T0, "an", "start", "Storing e-loket")
    log.add(T0 + timedelta(minutes=5), "jan", "decision", "Bericht op de website")
    assert other.signature() != before
    assert [e.kind for e in other.current()] == ["start", "decision"]
    assert other.entries()[0].at == T0 and other.entries()[0].text == "Storing e-loket"
    with pytest.raises(ValueError, match="unknown kind"):
        log.add(T0, "an", "panic")
    before = other.signature()
    pg_database.psql("UPDATE crisis_log SET text = '' WHERE kind = 'decision'")  # retention, in place
    assert other.signature() != before
    log.add(T0 + timedelta(hours=1), "an", "end")
    assert other.current() == [] and len(other.entries()) == 3


# --- presence --------------------------------------------------------------------------------


def test_presence_of_the_other_desks(desks, pg_database):
    an, jan = PgPresenceBoard(desks[0], "An"), PgPresenceBoard(desks[1], "Jan")
    jan.name = "Jan-elsewhere-1"  # another process
    an.publish(T0, "m1", None, None)
    jan.publish(T0, "m2", "m2", T0 - timedelta(seconds=30))
    [other] = an.others(T0 + timedelta(seconds=1))
    assert (other.operator, other.viewing, other.claim) == ("Jan", "m2", "m2")
    assert other.claim_since == T0 - timedelta(seconds=30) and other.seen_at == T0
    assert [d.operator for d in jan.others(T0)] == ["An"]  # not itself
    assert an.others(T0 + timedelta(minutes=1)) == []  # stopped beating: not shown
    jan.publish(T0 + timedelta(minutes=1), None, None, None)
    assert an.others(T0 + timedelta(minutes=1))[0].claim is None
    jan.leave()
    assert an.others(T0 + timedelta(minutes=1)) == []
    jan.publish(T0, None, None, None)  # and is killed: its row stays behind
    an.publish(T0 + timedelta(days=2), None, None, None)  # desks killed long ago are forgotten
    assert pg_database.psql("SELECT desk FROM presence") == an.name


# --- hand-offs -------------------------------------------------------------------------------


def test_handoff_keys_replacements_and_answers(desks):
    book, other = PgHandoffBook(desks[0]), PgHandoffBook(desks[1])
    first = book.record("m1", kind="question", to="An@vlm.example", name="An", at=T0)
    again = book.record("m1", kind="question", to="an@vlm.example", name="An", at=T0 + timedelta(minutes=1))
    deputy = book.record("m1", kind="question", to="bert@vlm.example", name="Bert", at=T0 + timedelta(minutes=2),
                         deputy_for="an@vlm.example")  # fmt: skip
    assert len({first, again, deputy}) == 3 and all(len(k) == 20 for k in (first, again, deputy))
    sent = other.of("m1")
    assert [s.key for s in sent] == [first, again, deputy]
    assert all(s.replaced_at is None for s in sent)  # the same address and a deputy replace nothing
    assert sent[2].deputy_for == "an@vlm.example" and sent[0].at == T0
    later = T0 + timedelta(hours=1)
    other.record("m1", kind="question", to="carla@vlm.example", name="Carla", at=later)
    assert [s.replaced_at for s in book.of("m1")][:3] == [later, later, later]
    fb = book.record("m1", kind="feedback", to="dirk@vlm.example", name="Dirk", at=later)
    assert book.of("m1")[3].replaced_at is None  # feedback replaces no question
    other.answered("m1", fb, later, ref="<a@vlm.example>")
    other.answered("m1", fb, later + timedelta(hours=1), ref="<b@vlm.example>")  # taken once
    [answered] = [s for s in book.of("m1") if s.key == fb]
    assert (answered.answered_at, answered.answer_ref) == (later, "<a@vlm.example>")
    other.answered("m2", first, later)  # a key answers only its own mention
    assert book.of("m2") == [] and book.of("m1")[0].answered_at is None


# --- alerts' and digests' marks --------------------------------------------------------------


def test_an_alert_is_claimed_once_and_limits_hold(desks):
    marks, other = PgAlertMarks(desks[0]), PgAlertMarks(desks[1])
    limits = [("team", 2), ("chef", 10)]
    assert marks.claim("urgent:m1", "urgent", limits, T0) == ["team", "chef"]
    assert other.claim("urgent:m1", "urgent", limits, T0) == []  # sent already, by another desk
    assert other.claim("urgent:m2", "urgent", limits, T0) == ["team", "chef"]
    assert marks.claim("answer:m3", "answer", limits, T0) == ["chef"]  # team's limit is full
    assert marks.claim("urgent:m4", "urgent", limits, T0) == ["chef"]
    assert other.take_summaries(limits, T0) == []  # no room yet
    later = T0 + timedelta(minutes=11)
    assert other.take_summaries(limits, later) == [("team", {"answer": 1, "urgent": 1})]
    assert marks.take_summaries(limits, later) == []  # once


def test_alerts_claimed_by_many_at_once_go_out_once(desks):
    results: list[list[str]] = []
    barrier = threading.Barrier(6)

    def claim(db: Database) -> None:
        barrier.wait()
        results.append(PgAlertMarks(db).claim("spike:2026-11-16", "spike", [("team", 5)], T0))

    threads = [threading.Thread(target=claim, args=(desks[n % 2],)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [[]] * 5 + [["team"]]


def test_digest_marks_and_the_sending_lock(desks):
    marks, other = PgDigestMarks(desks[0]), PgDigestMarks(desks[1])
    day = date(2026, 12, 5)
    with marks.sending() as mine:
        assert mine
        with other.sending() as theirs:
            assert not theirs  # another process is sending: it leaves the digest to it
        marks.mark(day, T0, sent="Els@example.org")
        marks.mark(day, T0, error="smtp: refused")
    with other.sending() as theirs:
        assert theirs  # let go
    assert other.sent(day) == {"els@example.org"}
    assert other.failed_at(day) == T0
    other.mark(day, T0 + timedelta(hours=1), sent="jan@example.org")
    assert marks.failed_at(day) is None and marks.sent(day) == {"els@example.org", "jan@example.org"}
    marks.mark(day + timedelta(days=20), T0, sent="els@example.org")  # old days are not kept
    assert list(other.read()) == [(day + timedelta(days=20)).isoformat()]


def test_alerts_on_two_desks_sharing_the_database_go_out_once(desks, make_config, feed_server, clock):
    from sources.alerts import Alerts
    from tests.test_alerts import alerts_toml, mention, ntfy, published
    from webcare.alerts import mention_alert

    config = make_config(alerts_toml(ntfy(feed_server), extra="limit = 2"))
    one = Alerts(config, clock=clock, marks=PgAlertMarks(desks[0]))
    two = Alerts(config, clock=clock, marks=PgAlertMarks(desks[1]))
    for i in range(3):
        alert = mention_alert("urgent", mention(f"{i:020d}"), clock(), "en")
        assert [one.send(alert), two.send(alert)].count(True) == (1 if i < 2 else 0)
    assert len(published(feed_server)) == 2  # the third is held back by the limit
    clock.advance(minutes=10, seconds=1)
    two.tick()
    one.tick()  # one summary for both desks
    assert len(published(feed_server)) == 3
    assert not (config.data_dir / "alerts.json").exists()  # the marks are the database's


# --- every write tells the desks; a database away is said ------------------------------------


def test_writes_notify_the_desks(desks, pg_database):
    with psycopg.connect(pg_database.url, password=PASSWORD, autocommit=True) as listener:
        listener.execute("LISTEN webcare")
        PgPlanBook(desks[0]).add(item("Poelen"))
        PgDraftBook(desks[1]).save(Draft("m1", "an", "Dag", T0))
        PgPresenceBoard(desks[0], "An").publish(T0, None, None, None)
        PgCrisisJournal(desks[1]).add(T0, "an", "start")
        PgNoteJournal(desks[0]).add(Note(T0, "an", "x"))
        payloads = []
        for n in listener.notifies(timeout=5, stop_after=5):
            payloads.append(n.payload)
    assert payloads == ["plan", "drafts", "presence", "crisis", "notes"]


def test_a_database_that_is_away_is_a_store_error(pg_database):
    db = open_database(_settings(pg_database, timeout=1), "desk")
    try:
        drafts, plan = PgDraftBook(db), PgPlanBook(db)
        drafts.save(Draft("m1", "an", "Dag", T0))
        # The server ends every connection (a fail-over): the pool hands out a fresh one.
        pg_database.server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{pg_database.name}'")
        assert drafts.get("m1").text == "Dag"
        # Now it takes no connections at all: said, with the database named, never a crash.
        pg_database.server.psql(f"ALTER DATABASE {pg_database.name} ALLOW_CONNECTIONS false")
        pg_database.server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{pg_database.name}'")
        with pytest.raises(StoreError, match=f"database {db.settings.where}: cannot save the drafts"):
            drafts.save(Draft("m2", "an", "Dag", T0))
        with pytest.raises(StoreError, match="cannot read the plan"):
            plan.all()
        pg_database.server.psql(f"ALTER DATABASE {pg_database.name} ALLOW_CONNECTIONS true")
        # Back: a later try is saved (as the desk tries again; the pool reconnects with backoff).
        for _ in range(30):
            try:
                drafts.save(Draft("m2", "an", "Dag", T0))
                break
            except StoreError:
                threading.Event().wait(0.5)
        assert sorted(drafts.all()) == ["m1", "m2"]
    finally:
        db.close()
