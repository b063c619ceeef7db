"""Dutch first: yes and no are j and n in a Dutch desk (y and n in an English one), the scheme's
other answers take their key from the Dutch word, what is stored stays the same in every
language, and the history is said in the desk's language — new structured entries and the
English sentences older desks stored alike."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from store import Store
from store.retention import anonymise_state
from tests.conftest import write_config
from tests.test_terminal import ROOT, tmux  # noqa: F401  (the fixture)
from tests.tui_helpers import make_app, mention, screen_text
from tui.screens.confirm import ConfirmScreen
from tui.widgets.triage_pane import TriagePane
from webcare.config import load
from webcare.history import Event, describe, recognise
from webcare.scheme import DEFAULT, Option, Question, Walk, parse, shown_path, typed_keys

SCHEME = parse(DEFAULT)


# --- the scheme's keys ----------------------------------------------------------------------


def test_yes_no_and_the_other_answers_take_keys_from_the_desks_language():
    r1, r5a, r8 = (SCHEME.questions[q] for q in ("R1", "R5a", "R8"))
    assert typed_keys(r1, "nl") == {"y": "j", "n": "n"} and typed_keys(r1, "en") == {"y": "y", "n": "n"}
    # "andere overheid" → a, "expert nodig" → e; English keeps the keys it always had
    assert typed_keys(r5a, "nl") == {"y": "j", "o": "a", "e": "e"}
    assert typed_keys(r5a, "en") == {"y": "y", "o": "o", "e": "e"}
    # "trol of tirade" → t, "algemene kritiek" → a, "iets anders" → i
    assert typed_keys(r8, "nl") == {"t": "t", "c": "a", "o": "i"}


def test_a_dutch_walk_stores_the_same_path_as_an_english_one():
    dutch, english = Walk(SCHEME, "nl"), Walk(SCHEME, "en")
    for key in "nnnnja":
        assert dutch.answer(key)
    for key in "nnnnyo":
        assert english.answer(key)
    assert dutch.path() == english.path() == ["R1:n", "R2:n", "R3:n", "R4:n", "R5:y", "R5a:o", "L7"]
    assert shown_path(SCHEME, dutch.path(), "nl") == "R1:n R2:n R3:n R4:n R5:j R5a:a L7"
    assert not Walk(SCHEME, "nl").answer("y")  # y is no answer in a Dutch desk


def test_a_label_whose_letters_are_taken_gets_the_next_free_one():
    # "nee…" and "ja…" may not take n or j (they mean no and yes); two labels on the same letter
    q = Question("Q", {"nl": "?"}, (
        Option("y", "A", {"nl": "ja"}),
        Option("n", "B", {"nl": "nee"}),
        Option("x", "C", {"nl": "nooit"}),
        Option("z", "D", {"nl": "jammer genoeg"}),
        Option("w", "E", {"nl": "Één keer"}),
        Option("v", "F", {"nl": "elke week"}),
    ))  # fmt: skip
    keys = typed_keys(q, "nl")
    assert keys == {"y": "j", "n": "n", "x": "o", "z": "g", "w": "e", "v": "w"}


@given(st.lists(st.text(min_size=0, max_size=12), min_size=2, max_size=12))
def test_keys_are_distinct_and_yes_no_letters_stay_reserved(labels):
    options = [Option("y", "A", {"nl": "ja"}), Option("n", "B", {"nl": "nee"})]
    options += [Option(f"{i}", "C", {"nl": label}) for i, label in enumerate(labels[:8])]
    keys = typed_keys(Question("Q", {"nl": "?"}, tuple(options)), "nl")
    assert len(set(keys.values())) == len(options)
    assert all(len(k) == 1 and k.isalnum() for k in keys.values())
    assert [k for aid, k in keys.items() if k in "jn"] == ["j", "n"]


# --- history entries --------------------------------------------------------------------------


def test_old_english_entries_are_recognised_and_said_in_dutch(clock):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Brussels")
    old = {
        "snoozed until 2026-11-23T10:00:00+00:00": "uitgesteld tot ma 23-11 11:00",
        "routed to An Peeters: bel haar": "doorgestuurd naar An Peeters: bel haar",
        "expert answered (by e-mail)": "antwoord van de expert (per e-mail)",
        "reply recorded (after the norm)": "antwoord geregistreerd (na de norm)",
        "undo: monitor only": "ongedaan gemaakt: enkel opvolgen",
        "hand-off e-mailed to an@example.org (<1@x>)": "per e-mail doorgestuurd naar an@example.org (<1@x>)",
        "een eigen notitie": "een eigen notitie",  # no known sentence: shown as it is
    }
    for what, dutch in old.items():
        assert describe({"what": what}, "nl", tz=tz) == dutch
    assert recognise("routed to An Peeters") == ("routed", {"to": "An Peeters", "note": ""})  # anonymised
    event = Event("responded", late=True)
    assert str(event) == "reply recorded (after the norm)"  # the words exports and older desks read
    assert describe(event.entry(), "en") == str(event)


def test_anonymising_keeps_the_kind_and_drops_the_notes():
    entry = {"at": "2026-11-23T09:00:00+00:00", "who": "an", "what": "routed to Jan: bel @boer_jan",
             "kind": "routed", "args": {"to": "Jan", "note": "bel @boer_jan"}, "changes": {}, "before": {}}  # fmt: skip
    out = anonymise_state({"id": "m1", "history": [entry]}, {"reason": "test"})
    kept = out["history"][0]
    assert kept["kind"] == "routed" and kept["args"] == {"to": "Jan", "note": ""}
    assert "boer_jan" not in str(out) and describe(kept, "nl") == "doorgestuurd naar Jan"


# --- the desk under Pilot ---------------------------------------------------------------------


async def test_triage_in_an_english_desk_answers_with_y_and_n(make_config, clock):
    config = make_config(language="en")
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", "n", "n", "n", "n", "j")  # j is no answer in English
        assert "R5 " in screen_text(app) and "R5a" not in screen_text(app)
        await pilot.press("y")
        assert " o  another authority" in screen_text(app) and " y  yes" in screen_text(app)
        await pilot.press("o", "enter")
        await pilot.pause()
        assert not app.screen.query_one(TriagePane).display
    assert Store(config.data_dir).get("m1").scheme_path == ["R1:n", "R2:n", "R3:n", "R4:n", "R5:y", "R5a:o", "L7"]


async def test_triage_in_a_dutch_desk_answers_with_j_n_and_dutch_letters(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"nnnnnnn")  # no to R1…R7: R8, what is it?
        text = screen_text(app)
        assert " t  trol of tirade" in text and " a  algemene kritiek" in text and " i  iets anders" in text
        await pilot.press("a", "enter")
        await pilot.pause()
    m = Store(config.data_dir).get("m1")
    assert m.scheme_path[-2:] == ["R8:c", "L13"] and m.category == "complaint"


async def test_a_confirmation_takes_j_in_dutch_and_y_in_english(make_config, clock):
    for language, wrong, yes in (("nl", "y", "j"), ("en", "j", "y")):
        config = make_config(language=language)
        app = make_app(config, clock, [mention(1, clock(), 30)])
        async with app.run_test(size=(80, 24)) as pilot:
            app.drafts.keep(app.queue[0], "Dag, we kijken het na.")  # an unsent reply: quit asks
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            hint = "j of enter: ja · n of esc: nee" if language == "nl" else "y or enter: yes · n or esc: no"
            assert hint in screen_text(app)
            await pilot.press(wrong)  # the other language's yes: still asking
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and app.is_running
            await pilot.press(yes)
            await pilot.pause()
            assert not app.is_running


async def test_history_and_undo_are_said_in_the_desks_language(make_config, clock):
    config = make_config()
    store = Store(config.data_dir)
    store.add([mention(1, clock(), 30)])
    # what an older desk stored: English sentences only
    store.update_state("m1", {"status": "snoozed"}, "snoozed until 2026-11-23T10:00:00+00:00", "bert")
    store.update_state("m1", {"status": "new"}, "snooze ended", "bert")
    store.update_state("m1", {}, "bel de boer morgen", "bert")
    app = make_app(config, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("m")  # a new, structured entry
        await pilot.press("u")
        await pilot.pause()
        assert any(n.message == "Ongedaan gemaakt: enkel opvolgen" for n in app._notifications)
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        for line in ("bert: uitgesteld tot ma 23-11 11:00", "bert: uitstel voorbij", "bert: bel de boer morgen",
                     "tester: enkel opvolgen", "tester: ongedaan gemaakt: enkel"):  # fmt: skip
            assert line in text, text
    history = Store(config.data_dir).get("m1").history
    assert history[-2]["kind"] == "monitor" and history[-2]["what"] == "monitor only"
    assert history[-1]["kind"] == "undo" and history[-1]["what"] == "undo: monitor only"


# --- the Dutch desk in a real terminal --------------------------------------------------------


def test_the_dutch_desk_in_tmux_triages_with_j_and_n(tmp_path, tmux):  # noqa: F811
    path = write_config(tmp_path)
    config = load(path)
    now = datetime.now(UTC)
    Store(config.data_dir).add([mention(1, now, 90, text="Waar vind ik het formulier van de mestbank?")])
    tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24",
             f"PYTHONPATH={ROOT} TERM=xterm-256color {sys.executable} -m webcare.cli --config {path}; echo EXITED-$?; sleep 30")  # fmt: skip
    tmux.wait_for("@author1")
    time.sleep(0.3)
    lines = tmux.screen().splitlines()
    assert "0 bijna te laat" in lines[0] or "1 bijna te laat" in lines[0], lines[0]
    assert all(len(line) <= 80 for line in lines)
    tmux.keys("t")
    tmux.wait_for("R1")
    tmux.keys("n", "n", "n", "n", "j")
    screen = tmux.wait_for("R5a")
    assert "a  andere overheid" in screen and "e  expert nodig" in screen
    tmux.keys("j")
    tmux.wait_for("L6")
    tmux.keys("Enter")
    tmux.wait_for("✎")  # responding
    tmux.keys("Enter")  # the detail pane, below the stream at 80 columns
    assert "R5:j R5a:j L6" in tmux.wait_for("Schema")  # the path with the keys typed
    for _ in range(4):  # the mouse wheel scrolls the pane down to the history, in Dutch
        tmux.run("send-keys", "-t", "desk", "-l", "\x1b[<65;40;20M")
        time.sleep(0.1)
    tmux.wait_for("Geschiedenis")
    tmux.wait_for("tester: triage L6: Snel antwoorden")
    tmux.keys("u")
    tmux.wait_for("Ongedaan gemaakt: triage L6")
    tmux.keys("q")
    tmux.wait_for("EXITED-0")
