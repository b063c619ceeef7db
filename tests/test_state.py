"""Typed state: a mention is its content (what the source gave, frozen) and its state (what the
desk's operators change), statuses are a str enum, a change is a StateChange, and history
entries are events (kind and fields) said in the desk's language. Stores written before keep
loading: the records on disk keep their shape and strings."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import orjson
import pytest

from store import Store
from tests.tui_helpers import make_app, mention, screen_text
from webcare import triage
from webcare.history import Event, describe, is_expert_answer_by_mail
from webcare.mention import Content, Mention, State, StateChange, Status, owes_reply
from webcare.store_port import VersionConflict

# --- Status -----------------------------------------------------------------------------------

# The strings every store, export and configured scheme leaf has always held.
STORED = ("new", "responding", "routed", "monitoring", "escalated", "responded", "closed",
          "no reaction", "moderated", "snoozed")  # fmt: skip


def test_a_status_is_stored_as_the_string_it_always_was_and_reads_back_as_a_status(clock):
    assert tuple(Status) == tuple(map(Status, STORED))
    for text in STORED:
        m = mention(1, clock(), status=Status(text))
        record = orjson.loads(orjson.dumps(m.state_record()))
        assert record["status"] == text and json.loads(json.dumps(m.export_record()))["status"] == text
        back = Mention.from_records(m.content_record(), record)
        assert back.status is Status(text) and back.status == text
    assert owes_reply(Status.ROUTED) and not owes_reply(Status.ROUTED, ["no-reply"])
    assert not owes_reply(Status.NO_REACTION) and owes_reply("new")  # a plain string still counts
    # A status this desk does not know (written by a newer one) loads as it is, not as "new".
    odd = Mention.from_records(mention(2, clock()).content_record(), {"id": "m2", "status": "parked"})
    assert odd.status == "parked" and not odd.owed


# --- old stores ---------------------------------------------------------------------------------

# A segment as the desk wrote it before content and state were apart in the code: the literal
# records (TinyDB's {"_default": {doc id: record}}), so this test keeps holding whatever the
# code that writes them becomes.
CONTENT = {"_default": {
    "1": {"id": "m1", "source": "demo", "channel": "x", "author": "@boer_jan", "author_name": "Jan",
          "text": "Waar is het formulier?", "title": "", "url": "https://x.example/1",
          "published_at": "2026-11-23T08:50:00+00:00", "first_seen_at": "2026-11-23T08:55:00+00:00",
          "deadline": "2026-11-23T10:55:00+00:00", "norm_s": 7200, "keywords": ["formulier"],
          "reach": 120, "ref": "1", "in_reply_to": "", "parent": "", "reply_meta": {"cid": "c1"},
          "rules": ["mest"], "themes": ["mest"], "priority": "high", "watchlist": "", "language": "nl",
          "sentiment": "negative", "register": "informal", "anger": ["capitals"]},
    "2": {"id": "m2", "source": "mail", "channel": "email", "author": "an@example.org", "author_name": "",
          "text": "Antwoord", "title": "Re: vraag", "url": "", "published_at": None,
          "first_seen_at": "2026-11-23T08:56:00+00:00", "deadline": None, "norm_s": None, "keywords": [],
          "reach": None, "ref": "", "in_reply_to": "", "parent": "", "reply_meta": {}, "rules": [],
          "themes": [], "priority": "normal", "watchlist": "", "language": "", "sentiment": "",
          "register": "", "anger": [], "suspicious": "sent from someone else", "followed": True},
}}  # fmt: skip
STATE = {"_default": {
    "1": {"id": "m1", "status": "routed", "category": "question", "scheme_path": ["R1:n", "L8"],
          "routed_to": "An Peeters", "responded_at": None, "flags": [], "routed_at": "2026-11-23T09:00:00+00:00",
          "routed_due": "2026-11-23T13:00:00+00:00", "routed_note": "bel haar", "expert_answer": "",
          "answered_at": None, "feedback": [], "snoozed_until": None, "snoozed_from": None, "reply": "",
          "reply_ref": "", "response_s": None,
          "history": [
              # an entry from before kinds: English words only
              {"at": "2026-11-23T08:58:00+00:00", "who": "bert", "what": "monitor only",
               "changes": {"status": "monitoring"}, "before": {"status": "new"}},
              # an entry with its kind and fields
              {"at": "2026-11-23T09:00:00+00:00", "who": "els", "what": "routed to An Peeters: bel haar",
               "kind": "routed", "args": {"to": "An Peeters", "note": "bel haar"},
               "changes": {"status": "routed"}, "before": {"status": "monitoring"}}]},
    "2": {"id": "m2", "status": "no reaction", "category": None, "scheme_path": [], "routed_to": None,
          "responded_at": None, "flags": ["evidence"], "routed_at": None, "routed_due": None, "routed_note": "",
          "expert_answer": "", "answered_at": None, "feedback": [], "snoozed_until": None, "snoozed_from": None,
          "reply": "", "reply_ref": "", "response_s": None, "history": [{"at": "2026-11-23T09:01:00+00:00",
          "who": "els", "what": "evidence kept", "kind": "evidence_kept", "args": {}}],
          "evidence": {"text": "Antwoord"}},
}}  # fmt: skip


def test_a_store_written_before_loads_and_keeps_its_records_shape(tmp_path):
    for folder, table in (("mentions", CONTENT), ("state", STATE)):
        (tmp_path / folder).mkdir(mode=0o700)
        (tmp_path / folder / "000001.json").write_bytes(orjson.dumps(table))  # no index: it is read
    m1, m2 = sorted(Store(tmp_path).load(), key=lambda m: m.id)
    assert m1.author == "@boer_jan" and m1.reach == 120 and m1.keywords == ("formulier",)
    assert m1.deadline - m1.first_seen_at == timedelta(hours=2) and m1.reply_meta == {"cid": "c1"}
    assert m1.status is Status.ROUTED and m1.owed and m1.version == 2
    assert m2.status is Status.NO_REACTION and m2.followed and m2.suspicious and m2.evidence
    # Written back, every record is the very record read: nothing renamed, added or dropped.
    for m, doc in ((m1, "1"), (m2, "2")):
        assert m.content_record() == CONTENT["_default"][doc]
        assert m.state_record() == STATE["_default"][doc]
    said = [describe(e, "nl") for e in m1.history]
    assert said == ["enkel opvolgen", "doorgestuurd naar An Peeters: bel haar"]
    # A change on the old store appends a structured entry next to the old ones.
    assert Store(tmp_path).change(triage.monitor(m1), "tester") is not None
    last = Store(tmp_path).get("m1").history[-1]
    assert (last["kind"], last["what"], last["who"]) == ("monitor", "monitor only", "tester")


# --- content apart from state -------------------------------------------------------------------


def test_content_is_frozen_and_state_is_changed_through_the_mention(clock):
    m = mention(1, clock(), status="routed", routed_to="An Peeters")
    assert isinstance(m.content, Content) and isinstance(m.state, State)
    with pytest.raises(AttributeError):
        m.author = "@iemand_anders"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.content.text = "iets anders"  # type: ignore[misc]
    m.status = Status.CLOSED
    assert m.state.status is Status.CLOSED and not m.owed
    copy = m.replaced(text="Nieuw", status=Status.NEW)
    assert (copy.text, copy.status, m.text, m.status) == ("Nieuw", "new", "Tekst 1 over de VLM", "closed")
    # One list of fields: the export's columns are the content's, then the state's.
    names = [f.name for f in dataclasses.fields(Content)] + [f.name for f in dataclasses.fields(State)]
    assert Mention.export_fields() == tuple(names)


# --- a typed state change -----------------------------------------------------------------------


def test_a_state_change_names_its_mention_fields_event_and_what_must_hold(tmp_path, clock):
    store = Store(tmp_path)
    store.add([mention(1, clock())])
    m = store.get("m1")
    change = triage.route(m, "An Peeters", clock() + timedelta(hours=4), clock(), note="bel haar")
    assert isinstance(change, StateChange) and change.mention_id == "m1"
    assert change.fields["status"] is Status.ROUTED and change.event == Event("routed", to="An Peeters", note="bel haar")
    stale = dataclasses.replace(triage.monitor(m), version=m.version)  # made at version 0
    assert store.change(change, "els", at=clock()) is not None
    with pytest.raises(VersionConflict):  # someone changed it since: reported, not written
        store.change(stale, "bert", at=clock())
    current = store.get("m1")
    assert current.status is Status.ROUTED and current.version == 1
    assert store.change(dataclasses.replace(triage.monitor(current), version=1), "bert") is not None
    # An undo restores what the change replaced, only while nobody changed it since.
    undo = triage.undo(current, 0)
    assert undo.expect == current.history[0]["changes"] and store.change(undo, "els") is None


# --- history events in the desk's language ------------------------------------------------------

EVENTS = [
    (Event("routed", to="An Peeters", note="bel haar"), "doorgestuurd naar An Peeters: bel haar", "routed to An Peeters: bel haar"),
    (Event("expert_answered", by_email=True), "antwoord van de expert (per e-mail)", "expert answered (by e-mail)"),
    (Event("responded", late=True), "antwoord geregistreerd (na de norm)", "reply recorded (after the norm)"),
    (Event("feedback", unit="Mestbank", note=""), "feedback doorgegeven aan Mestbank", "feedback to Mestbank"),
    (Event("moderated", action="hide", source="fb", answer="", undo=True), "ongedaan gemaakt: verborgen op fb", "undo: hide on fb"),
    (Event("snooze_ended"), "uitstel voorbij", "snooze ended"),
]  # fmt: skip


def test_events_are_said_in_dutch_and_english_and_stored_with_their_english_words():
    for event, dutch, english in EVENTS:
        entry = {"at": "2026-11-23T09:00:00+00:00", "who": "els", **event.entry()}
        assert describe(entry, "nl") == dutch and describe(entry, "en") == english
        assert entry["what"] == str(event) == english and entry["kind"] == event.kind
        assert Event.of(entry) == event
    undo = Event("undo", undone=Event("monitor").entry())
    assert str(undo) == "undo: monitor only"  # the stored words older desks read
    assert describe(undo.entry(), "nl") == "ongedaan gemaakt: enkel opvolgen"
    assert describe(undo.entry(), "en") == "undone: monitor only"
    assert describe({"what": "bel de boer morgen"}, "nl") == "bel de boer morgen"  # no event: as written


def test_an_answer_by_e_mail_is_told_by_its_kind_never_by_its_words():
    entry = {"who": "An Peeters", **Event("expert_answered", by_email=True).entry()}
    assert is_expert_answer_by_mail(entry)
    assert is_expert_answer_by_mail({**entry, "what": "antwoord van de expert (per e-mail)"})
    assert not is_expert_answer_by_mail({"who": "An Peeters", "what": "expert answered (by e-mail)"})
    assert not is_expert_answer_by_mail(Event("expert_answered", by_email=False).entry())


# --- the desk under Pilot -----------------------------------------------------------------------


async def history_on_the_desk(make_config, clock, language: str) -> tuple[list[str], str]:
    """A routed mention whose expert answered by e-mail (as the collector records it), and one
    words-only entry that merely reads like it; then m, u on another mention. Returns the
    notifications and the detail pane's text."""
    config = make_config(language=language)
    store = Store(config.data_dir)
    store.add([mention(1, clock(), 60), mention(2, clock(), 90)])
    store.change(triage.route(store.get("m1"), "An Peeters", clock() + timedelta(hours=4), clock(), "bel"), "els", at=clock())
    app = make_app(config, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        store.update_state("m2", {}, "expert answered (by e-mail)", "bert")  # words only: no answer
        answered = triage.expert_answered(store.get("m1"), "De aangifte kan tot 31 maart.", clock(), by_email=True)
        assert store.change(answered, "An Peeters", at=clock()) is not None
        await pilot.pause(1.5)
        await pilot.press("down", "m", "u")  # m2: monitor, then undo it
        await pilot.pause()
        await pilot.press("up", "enter")
        await pilot.pause()
        return [f"{n.title}|{n.message}" for n in app._notifications], screen_text(app)


async def test_a_dutch_desk_says_history_and_undo_in_dutch(make_config, clock):
    notes, text = await history_on_the_desk(make_config, clock, "nl")
    assert "Antwoord van de expert (e-mail)|An Peeters → @author1: De aangifte kan tot 31 maart." in notes
    assert "|Ongedaan gemaakt: enkel opvolgen" in notes
    assert not any("@author2" in n for n in notes)  # the words alone told nothing
    for line in ("els: doorgestuurd naar An Peeters: bel", "An Peeters: antwoord van de expert (per"):
        assert line in text, text


async def test_an_english_desk_says_the_same_history_in_english(make_config, clock):
    notes, text = await history_on_the_desk(make_config, clock, "en")
    assert "The expert answered (e-mail)|An Peeters → @author1: De aangifte kan tot 31 maart." in notes
    assert "|Undone: monitor only" in notes
    for line in ("els: routed to An Peeters: bel", "An Peeters: expert answered (by e-mail)"):
        assert line in text, text
