"""The experts pane on the desk: e then 1 routes to the best available expert, the expert
receives the hand-off by e-mail (a real SMTP server on loopback), the routed countdown shows."""

from __future__ import annotations

import email
import email.policy

from store import Store
from tests.smtpserver import Inbox, smtp_on_loopback, wait_for
from tests.tui_helpers import make_app, mention, screen_text
from tui.widgets.experts_pane import ExpertsPane

DIRECTORY = """
[[experts]]
name = "An Peeters"
unit = "Mestbank"
topics = ["mest", "mestbank", "bemesting"]
email = "an.peeters@example.org"
hours = "mon-fri 08:00-17:00"
languages = ["nl", "en"]
deputy = "Bart Claes"
answer_within = "4h"

[[experts]]
name = "Bart Claes"
unit = "Mestbank"
topics = ["mestbank"]
email = "bart.claes@example.org"
hours = "mon-fri 08:00-17:00"

[[experts]]
name = "Chris Maes"
unit = "Water"
topics = ["water", "overstroming"]
email = "chris.maes@example.org"
hours = "mon-fri 08:00-16:00"

[[units]]
name = "Klantendienst"
email = "klantendienst@example.org"
topics = ["factuur", "klacht"]
"""


async def test_e_then_1_routes_to_the_best_expert_who_gets_the_email(make_config, clock):
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        config = make_config(DIRECTORY + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nfrom = "webcare@example.org"\n')
        hostile = "Wanneer sluit de mestbank-aangifte? [@click=app.quit]x[/]"
        app = make_app(config, clock, [mention(1, clock(), 90, text=hostile, url="https://example.org/p/1")])
        async with app.run_test(size=(120, 30)) as pilot:
            pane = app.screen.query_one(ExpertsPane)
            text = screen_text(app)
            assert "1  An Peeters" in text and "bereikbaar tot 17:00" in text  # Monday 10:00
            await pilot.press("e", "1")
            await pilot.pause()
            await pilot.press(*"Graag voor 15u", "enter")
            await pilot.pause()
            m = Store(config.data_dir).get("m1")
            assert m.status == "routed" and m.routed_to == "An Peeters"
            assert m.routed_due == clock() + __import__("datetime").timedelta(hours=4)
            await wait_for(lambda: inbox.envelopes)
            await wait_for(lambda: "hand-off e-mailed" in Store(config.data_dir).get("m1").history[-1]["what"])
            message = email.message_from_bytes(inbox.envelopes[0].content, policy=email.policy.default)
            assert inbox.envelopes[0].rcpt_tos == ["an.peeters@example.org"]
            # The subject tag carries the hand-off's secret key, kept in the store beside the
            # mention, never in its state (exports and history would show it).
            from store.handoffs import HandoffBook

            [kept] = HandoffBook(config.data_dir).of("m1")
            assert f"[webcare m:m1.{kept.key}]" in message["Subject"] and len(kept.key) == 20
            assert (kept.to, kept.name, kept.kind, kept.at) == ("an.peeters@example.org", "An Peeters", "question", clock())
            assert kept.key not in str(Store(config.data_dir).get("m1").export_record())
            body = message.get_body(("plain",)).get_content()
            assert hostile in body and "Graag voor 15u" in body and "@author1" in body
            assert "https://example.org/p/1" in body
            # the routed row shows the expert's own countdown beside the public one
            await pilot.pause()
            assert "→An nog 4 u" in screen_text(app)
            # four hours later the expert is late: red, and the pane suggests the deputy
            clock.advance(hours=4, minutes=5)
            app.tick_now()
            pane.show(app.queue.get("m1"))
            await pilot.pause()
            text = screen_text(app)
            assert "5 min te laat" in text and "vraag Bart Claes" in text
    finally:
        server.close()


async def test_without_smtp_the_handoff_goes_to_the_clipboard(make_config, clock):
    config = make_config(DIRECTORY)
    app = make_app(config, clock, [mention(1, clock(), 90, text="Vraag over bemesting bij de VLM")])
    copied = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard = copied.append  # see what the terminal would get (OSC 52)
        await pilot.press("e")
        await pilot.pause()
        assert "An Peeters" in screen_text(app)  # the pane opens below the stream at 80 columns
        await pilot.press("1", "enter")
        await pilot.pause()
        await wait_for(lambda: copied)
    assert "Vraag over bemesting bij de VLM" in copied[0]
    assert Store(config.data_dir).get("m1").routed_to == "An Peeters"


async def test_expert_answer_opens_the_composer_with_it(make_config, clock):
    config = make_config(DIRECTORY)
    app = make_app(config, clock, [mention(1, clock(), 90, text="Vraag over de mestbank")])
    async with app.run_test(size=(120, 30)) as pilot:
        app.copy_to_clipboard = lambda text: None
        await pilot.press("e", "1", "enter")
        await pilot.pause()
        await pilot.press("escape", "a")
        await pilot.pause()
        await pilot.press(*"De aangifte sluit op 15 maart.", "enter")
        await pilot.pause()
        from tui.screens.composer import ComposerScreen

        assert isinstance(app.screen, ComposerScreen)
        assert "De aangifte sluit op 15 maart." in app.screen.text
    m = Store(config.data_dir).get("m1")
    assert m.status == "responding" and m.expert_answer == "De aangifte sluit op 15 maart."


async def test_feedback_to_a_unit_is_recorded_and_exported(make_config, clock):
    config = make_config(DIRECTORY)
    app = make_app(config, clock, [mention(1, clock(), 90, text="Foute factuur van de VLM, klacht")])
    async with app.run_test(size=(120, 30)) as pilot:
        app.copy_to_clipboard = lambda text: None
        await pilot.press("e", "f")
        await pilot.pause()
        assert "Klantendienst" in screen_text(app)
        await pilot.press("1", *"dubbel aangerekend", "enter")
        await pilot.pause()
    m = Store(config.data_dir).get("m1")
    assert m.feedback[0]["unit"] == "Klantendienst" and m.feedback[0]["note"] == "dubbel aangerekend"
    assert m.status == "new"  # feedback waits for nobody: the reply is still owed
    assert m.export_record()["feedback"][0]["unit"] == "Klantendienst"


async def test_the_scheme_l2_leaf_routes_to_the_spokesperson(make_config, clock):
    config = make_config(DIRECTORY + '\n[[experts]]\nname = "Sara Woord"\nemail = "sara@example.org"\nroles = ["spokesperson"]\nhours = "mon-sun 00:00-24:00"\n')
    app = make_app(config, clock, [mention(1, clock(), 90)])
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard = lambda text: None
        await pilot.press("P")
        await pilot.pause()
    m = Store(config.data_dir).get("m1")
    assert m.routed_to == "Sara Woord" and not m.owed


async def test_reply_to_a_routed_question_starts_from_the_acknowledgement(make_config, clock):
    config = make_config(DIRECTORY + '''
[[templates]]
category = "L8"
language = "nl"
register = "formal"
text = "Beste {first_name}, we zoeken het voor u uit en komen erop terug. ^{initials}"
''')
    app = make_app(config, clock, [mention(1, clock(), 90, text="Geachte, wanneer sluit de mestbank-aangifte? Met vriendelijke groeten")])
    async with app.run_test(size=(120, 30)) as pilot:
        app.copy_to_clipboard = lambda text: None
        await pilot.press("e", "1", "enter")
        await pilot.pause()
        await pilot.press("escape", "r")
        await pilot.pause()
        assert app.screen.text.startswith("Beste author1, we zoeken het voor u uit")


async def test_an_answer_by_e_mail_shows_on_every_desk(make_config, clock):
    """The collector put an expert's e-mailed answer on a routed mention: the desk says so."""
    from store import Store
    from tests.tui_helpers import make_app, mention
    from webcare.triage import expert_answered

    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 60, status="routed", routed_to="An Peeters")])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        # As the collector records it (its event says by e-mail), without its check that the
        # stored state is routed: this desk's mention is routed only in the queue given it.
        change = expert_answered(app.queue.get("m1"), "De aangifte kan nog tot 31 maart.", clock(), by_email=True)
        Store(config.data_dir).update_state("m1", change.fields, change.event, "An Peeters", at=clock())
        await pilot.pause(1.5)
        notes = [(n.title, n.message) for n in app._notifications]
        assert ("Antwoord van de expert (e-mail)", "An Peeters → @author1: De aangifte kan nog tot 31 maart.") in notes
        assert app.queue.get("m1").status == "responding"
