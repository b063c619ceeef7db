"""Triage on the desk under Pilot: the walk, direct keys, statuses, reply, undo, audit trail."""

from __future__ import annotations

import json

from store import Store
from tests.tui_helpers import make_app, mention, screen_text
from tui.app import WebcareApp
from tui.screens.composer import ComposerScreen
from tui.widgets.mention_list import MentionList
from tui.widgets.triage_pane import TriagePane


def _selected(app):
    return app.screen.query_one(MentionList).selected


def _stored(app, mention_id):
    """The mention as stored, once the desk's writer thread has written every action so far."""
    assert app.session.writer.wait(timeout=10)
    return Store(app.config.data_dir).get(mention_id)


async def test_walk_to_a_leaf_applies_it(make_config, clock):
    config = make_config()
    now = clock()
    app = make_app(
        config, clock, [mention(1, now, 30, text="Waar vind ik het formulier van de mestbank?")]
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        pane = app.screen.query_one(TriagePane)
        assert pane.display and "R1" in screen_text(app)
        await pilot.press("n", "n", "n", "n", "j")  # a Dutch desk: j is yes
        assert "R5a" in screen_text(app) and " a  andere overheid" in screen_text(app)
        assert " e  expert nodig" in screen_text(app)  # keys from the Dutch words
        await pilot.press("y")  # not an option in a Dutch desk: asked again
        assert "R5a" in screen_text(app) and "L6" not in screen_text(app)
        await pilot.press("backspace", "j", "j")
        assert "R1:n R2:n R3:n R4:n R5:j R5a:j" in screen_text(app) and "L6" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert not pane.display
        m = _stored(app, "m1")
        assert m.status == "responding" and m.category == "question"
        assert m.scheme_path == ["R1:n", "R2:n", "R3:n", "R4:n", "R5:y", "R5a:y", "L6"]
        assert m.history[-1]["who"] == "tester" and m.history[-1]["what"].startswith("triage L6")
        assert m.owed  # a reply is still owed: the countdown runs
        assert "‼✎" in screen_text(app) or "!✎" in screen_text(app) or " ✎" in screen_text(app)


async def test_escape_cancels_the_walk(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", "n", "escape")
        await pilot.pause()
        assert not app.screen.query_one(TriagePane).display
        assert _stored(app, "m1").status == "new"


async def test_direct_keys_take_one_press(make_config, clock):
    config = make_config()
    now = clock()
    app = make_app(config, clock, [mention(i, now, 10 + i) for i in range(1, 5)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("P")  # press → spokesperson, no reply of ours
        m1 = _stored(app, "m1")
        assert m1.status == "routed" and m1.routed_to == "spokesperson" and not m1.owed
        assert m1.scheme_path == ["R1:n", "R2:y", "L2"]
        await pilot.press("g")  # the top is now m2 (m1 owes nothing and moved down)
        assert _selected(app).id == "m2"
        await pilot.press("exclamation_mark")
        m2 = _stored(app, "m2")
        assert m2.status == "escalated" and "crisis" in m2.flags and m2.owed


async def test_monitor_done_snooze_and_undo(make_config, clock):
    config = make_config()
    now = clock()
    app = make_app(config, clock, [mention(1, now, 30), mention(2, now, 60), mention(3, now, 90)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        assert _stored(app, "m1").status == "monitoring"
        await pilot.press("g", "d")
        m2 = _stored(app, "m2")
        assert m2.status == "responded" and m2.responded_at == now and m2.response_s == 5 * 60
        await pilot.press("u")  # undo the reply
        await pilot.pause()
        assert _stored(app, "m2").status == "new"
        assert _stored(app, "m2").history[-1]["what"] == "undo: reply recorded"
        await pilot.press("u")  # and the monitor before it
        await pilot.pause()
        assert _stored(app, "m1").status == "new"
        # snooze m1 for 30 minutes: it leaves the top, and comes back when the time is up
        await pilot.press("g")
        top = _selected(app).id
        await pilot.press("z")
        await pilot.pause()
        await pilot.press("ctrl+u", *"30m", "enter")
        await pilot.pause()
        assert _stored(app, top).status == "snoozed"
        assert _selected(app).id != top or app.queue[0].id != top
        clock.advance(minutes=31)
        app.tick_now()
        await pilot.pause()
        assert _stored(app, top).status == "new"


async def test_undo_refuses_to_overwrite_someone_elses_change(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        Store(config.data_dir).update_state("m1", {"status": "responded"}, "reply recorded", "an")
        await pilot.press("u")
        await pilot.pause()
        assert _stored(app, "m1").status == "responded"


TEMPLATE = """
[[templates]]
category = "L6"
language = "nl"
register = "formal"
text = "Beste {first_name}, u vindt het formulier op {link}. Met vriendelijke groeten, ^{initials}"
"""


async def test_reply_with_template_then_mark_sent(make_config, clock):
    config = make_config(TEMPLATE)
    app = make_app(
        config,
        clock,
        [
            mention(
                1,
                clock(),
                30,
                author_name="Piet Janssens",
                text="Beste, waar kan ik het formulier voor de mestbank vinden? Met vriendelijke groeten",
            )
        ],
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("A")  # answer now (L6)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        draft = app.screen.text
        assert draft.startswith("Beste Piet, u vindt") and draft.endswith(
            "^T"
        )  # filled: author, initials
        assert "EPO" in screen_text(app)
        await pilot.press("ctrl+y")  # copy (OSC 52)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ComposerScreen)
        m = _stored(app, "m1")
        assert m.status == "responded" and m.reply == draft.strip()


async def test_an_unsent_draft_is_kept_and_quitting_asks(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Hallo", "escape")
        await pilot.pause()
        assert "m1" in app.drafts.texts
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running  # asked first
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running
        await pilot.press("r")
        await pilot.pause()
        assert app.screen.text.endswith("Hallo")  # the draft came back


async def test_audit_trail_survives_a_restart_and_is_exported(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("C")  # complaint, L9
        await pilot.press("d")
    again = WebcareApp(config, Store(config.data_dir), clock=clock)
    async with again.run_test(size=(120, 30)) as pilot:
        await pilot.press("G")
        await pilot.pause()
        text = screen_text(again)
        # shown in the desk's language; the export keeps the English words
        assert "triage L9: Herstellen" in text and "antwoord geregistreerd" in text and "tester" in text
    record = _stored(app, "m1").export_record()
    json.dumps(record)
    assert record["scheme_path"][-1] == "L9" and record["category"] == "complaint"
    assert record["status"] == "responded" and record["responded_at"]
    assert [h["what"].split(":")[0] for h in record["history"]] == ["triage L9", "reply recorded"]


async def test_two_operators_triaging_at_once_lose_nothing(make_config, clock, monkeypatch):
    config = make_config()
    now = clock()
    Store(config.data_dir).add([mention(i, now, 10 + i) for i in range(6)])
    monkeypatch.setenv("WEBCARE_OPERATOR", "an")
    first = WebcareApp(config, Store(config.data_dir), clock=clock)
    second = WebcareApp(config, Store(config.data_dir), clock=clock)
    async with first.run_test(size=(80, 24)) as p1, second.run_test(size=(80, 24)) as p2:
        await p1.press("m")  # m0
        await p2.press("j", "j", "d")  # m2
        await p1.press("j", "j", "j", "A")  # m4 after m0 moved down: check by id below
        await p2.press("j", "X")
    stored = Store(config.data_dir).load()
    history = [h for m in stored for h in m.history]
    # every action of both operators is kept (L3 also keeps the evidence: docs/audit.md,
    # Moderation on the platform)
    assert [h["what"].split(":")[0] for h in history].count("evidence kept") == 1
    assert len(history) == 5
    assert all(h["who"] == "tester" and h["at"] for h in history)


class Sender:
    """Stands in for sources.replies.Replier (its real use, with a Mastodon source on a loopback
    server, is tested in test_channels_desk.py): records what it was asked to post."""

    def __init__(self, dry_run: bool = False, fail: str = "") -> None:
        self.dry_run, self.fail, self.posted = dry_run, fail, []

    async def __call__(self, m, text):
        if self.fail:
            raise RuntimeError(self.fail)
        self.posted.append((m.id, text))
        return "https://example.org/reply/1"


async def test_a_source_that_can_send_posts_the_reply_after_a_confirmation(make_config, clock):
    config = make_config(TEMPLATE)
    send = Sender()
    Store(config.data_dir).add([mention(1, clock(), 30)])
    app = WebcareApp(config, Store(config.data_dir), clock=clock, senders={"test": send})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("A", "r")
        await pilot.pause()
        assert "ctrl+s verstuurt het antwoord via test" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "versturen via test?" in screen_text(app) and not send.posted
        await pilot.press("n")  # not yet: back in the composer, nothing sent
        await pilot.pause()
        assert not send.posted and _stored(app, "m1").status != "responded"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.drafts.texts
    m = _stored(app, "m1")
    assert send.posted and send.posted[0][0] == "m1" and m.status == "responded"
    assert m.reply_ref == "https://example.org/reply/1"
    assert m.history[-1]["what"] == "reply sent via test: https://example.org/reply/1"


async def test_a_dry_run_or_a_refused_send_leaves_the_mention_owed(make_config, clock):
    config = make_config(TEMPLATE)
    Store(config.data_dir).add([mention(1, clock(), 30)])
    dry = Sender(dry_run=True)
    app = WebcareApp(config, Store(config.data_dir), clock=clock, senders={"test": dry})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("A", "r")
        await pilot.pause()
        assert "proefmodus" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("j")
        await app.workers.wait_for_complete()
        await pilot.pause()
    m = _stored(app, "m1")
    assert (
        m.status != "responded"
        and m.reply_ref == ""
        and m.history[-1]["what"].startswith("dry run via test:")
    )
    refused = Sender(fail="HTTP 422: Validation failed: Text character limit of 500 exceeded")
    app = WebcareApp(config, Store(config.data_dir), clock=clock, senders={"test": refused})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("character limit" in n.message for n in app._notifications)
        assert app.drafts.texts  # the draft is kept to try again
    assert _stored(app, "m1").status != "responded"
