"""Drafts are kept: typed into the composer, saved to data_dir/drafts.json while typing, there
again after a dropped connection or a restart, shown to a colleague, listed in the handover,
and gone once the mention is answered. Real desks (Pilot apps) on one real data directory, as
two SSH sessions are; the handover also as `webcare handover` prints it."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from datetime import UTC, datetime

import pytest

from store import Store
from store.drafts import DraftBook
from tests.conftest import write_config
from tests.test_cli import webcare
from tests.test_operators import desk
from tests.test_terminal import ROOT, Tmux
from tests.tui_helpers import make_app, mention, screen_text
from tui.screens.composer import ComposerScreen
from tui.screens.handover import HandoverScreen
from webcare.drafts import Draft


def stored(data_dir) -> dict:
    """drafts.json as another program (forget, a backup) reads it."""
    try:
        return json.loads((data_dir / "drafts.json").read_text())["drafts"]
    except FileNotFoundError:
        return {}


async def until(condition, *pilots, timeout: float = 4.0) -> None:
    """Wait (as the desks run) until `condition()` holds; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            for p in pilots:
                await p.pause(0.05)


# --- the file ---------------------------------------------------------------------------------


def test_the_file_keeps_one_draft_per_mention_in_the_agreed_shape(tmp_path):
    data = tmp_path / "data"
    an, bert = DraftBook(data), DraftBook(data)  # two desks' handles
    assert an.all() == {} and not (data / "drafts.json").exists()
    an.remove("m9")  # nothing to remove: no file made for nothing
    assert not (data / "drafts.json").exists()
    at = datetime(2026, 11, 23, 13, 2, tzinfo=UTC)
    an.save(Draft("m1", "An", "Dag Piet,\nhet formulier staat op", at))
    bert.save(Draft("m2", "Bert", "Beste", at))
    assert json.loads((data / "drafts.json").read_text()) == {
        "drafts": {
            "m1": {"operator": "An", "text": "Dag Piet,\nhet formulier staat op", "saved_at": "2026-11-23T13:02:00+00:00"},
            "m2": {"operator": "Bert", "text": "Beste", "saved_at": "2026-11-23T13:02:00+00:00"},
        }
    }
    bert.save(Draft("m1", "Bert", "Dag Piet, ik neem over", at))  # the last writer's draft
    assert an.get("m1") == Draft("m1", "Bert", "Dag Piet, ik neem over", at)
    an.remove("m1")
    assert set(bert.all()) == {"m2"}
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_file_reads_as_no_drafts_and_the_next_save_replaces_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "drafts.json").write_text('{"drafts": {"m1": {"operator": "An", "te')
    book = DraftBook(data)
    assert book.all() == {}
    (data / "drafts.json").write_text('{"drafts": {"m1": {"operator": "An"}, "m2": 5}}')
    assert book.all() == {}  # damaged entries are skipped, the file is read again when it changes
    book.save(Draft("m3", "An", "Hallo", datetime(2026, 11, 23, 9, tzinfo=UTC)))
    assert set(stored(data)) == {"m1", "m2", "m3"} and set(book.all()) == {"m3"}


# --- a dropped connection, a restart ------------------------------------------------------------


async def test_a_draft_survives_a_dropped_connection(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30, text="Waar vind ik het formulier?")])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        await pilot.press(*"Zie de website.")
        # Kept while typing: a second after the last key, with the composer still open.
        await until(lambda: "Zie de website." in stored(config.data_dir).get("m1", {}).get("text", ""), pilot)
        assert stored(config.data_dir)["m1"]["operator"] == "tester"
        assert stored(config.data_dir)["m1"]["saved_at"] == "2026-11-23T09:00:00+00:00"
        app.exit()  # the connection drops: the composer is never closed
    # The next session on the same data directory: `r` brings the draft back, saying so.
    again = make_app(config, clock)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(again.screen, ComposerScreen)
        assert again.screen.text.endswith("Zie de website.")
        shown = screen_text(again)
        assert "concept van tester, 10:00" in shown and "hersteld" in shown
        # Emptied and closed: a discarded draft is gone from the store too.
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Zie de website." not in again.screen.text
        await pilot.press("escape")
        await until(lambda: "m1" not in stored(config.data_dir), pilot)


async def test_sending_or_marking_done_drops_the_draft(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30), mention(2, clock(), 60)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r", *"Dag, dank u", "escape")  # closing keeps it at once
        await until(lambda: "m1" in stored(config.data_dir), pilot)
        await pilot.press("d")  # done from the stream
        await until(lambda: "m1" not in stored(config.data_dir), pilot)
        await pilot.press("g")
        selected = app.screen.query_one("#stream").selected.id
        await pilot.press("r", *"Tot straks")
        await until(lambda: selected in stored(config.data_dir), pilot)
        await pilot.press("ctrl+s")  # marked sent from the composer
        await until(lambda: selected not in stored(config.data_dir), pilot)
        assert not app.drafts.texts
    assert Store(config.data_dir).get(selected).status == "responded"


async def test_a_write_that_fails_is_said_and_the_composer_goes_on(make_config, clock):
    config = make_config()
    app = make_app(config, clock, [mention(1, clock(), 30)])
    (config.data_dir / "drafts.json").mkdir()  # cannot be replaced: as a full disk, for root too
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r", *"Dag Piet")
        await until(lambda: any("Concept niet bewaard" in n.message for n in app._notifications), pilot)
        assert isinstance(app.screen, ComposerScreen) and app.screen.text.endswith("Dag Piet")
        (config.data_dir / "drafts.json").rmdir()  # space again: the next save keeps it all
        await pilot.press(*", tot ziens")
        await until(lambda: stored(config.data_dir).get("m1", {}).get("text", "").endswith("Dag Piet, tot ziens"), pilot)


# --- colleagues ---------------------------------------------------------------------------------


async def test_a_colleague_sees_the_draft_and_takes_it_over(tmp_path, clock):
    Store(tmp_path / "data").add([mention(1, clock(), 30, text="Waar blijft mijn premie?")])
    an, bert = desk(tmp_path, "An", clock), desk(tmp_path, "Bert", clock)
    async with an.run_test(size=(140, 32)) as pa, bert.run_test(size=(140, 32)) as pb:
        await pa.press("r", *"Dag Piet")
        await until(lambda: "m1" in stored(tmp_path / "data"), pa, pb)
        # Bert's desk shows it in the detail, with who and when (the desk's timezone).
        await until(lambda: "concept van An, 10:00" in screen_text(bert), pa, pb)
        assert "Dag Piet" in screen_text(bert)  # its first line, below
        await pa.press("escape")  # An leaves it (and the claim)
        await until(lambda: not any(d.claim for d in bert.presence.others), pa, pb)
        # Bert opens the composer on it: An's draft, not the template, and whose it is.
        clock.advance(minutes=2)
        await pb.press("r")
        await pb.pause()
        assert isinstance(bert.screen, ComposerScreen)
        assert bert.screen.text.endswith("Dag Piet")
        assert "concept van An, 10:00" in screen_text(bert)
        await pb.press(*" tot dan", "escape")
        await until(lambda: "concept van Bert, 10:02" in screen_text(an), pa, pb)
        # Answered on Bert's desk: gone on An's.
        await pb.press("d")
        await until(lambda: "concept van" not in screen_text(an), pa, pb)
        assert stored(tmp_path / "data") == {}


async def test_a_draft_of_a_mention_someone_else_answered_is_not_brought_back(tmp_path, clock):
    Store(tmp_path / "data").add([mention(1, clock(), 30), mention(2, clock(), 60)])
    an, bert = desk(tmp_path, "An", clock), desk(tmp_path, "Bert", clock)
    async with an.run_test(size=(140, 32)) as pa, bert.run_test(size=(140, 32)) as pb:
        await pa.press("r", *"Dag")
        await until(lambda: "m1" in stored(tmp_path / "data"), pa, pb)
        # Bert answers it while An's composer is still open.
        await pb.press("d")
        await until(lambda: an.queue.get("m1").status == "responded", pa, pb)
        # The desk that saw it answered drops the draft from the store (in its writer thread).
        await until(lambda: "m1" not in stored(tmp_path / "data"), pa, pb)
        await pa.press(*" Piet")  # An types on: said, and not kept
        await until(lambda: any("Al afgehandeld" in n.message for n in an._notifications), pa, pb)
        await pa.press("escape")
        await pa.pause(0.3)
        await an.workers.wait_for_complete()
        assert "m1" not in stored(tmp_path / "data")
    # A stale draft left behind (an old desk, a crash) is not shown or restored either.
    DraftBook(tmp_path / "data").save(Draft("m1", "An", "oud concept", clock()))
    again = desk(tmp_path, "An", clock)
    async with again.run_test(size=(140, 32)) as pilot:
        await pilot.pause()
        assert "concept van" not in screen_text(again)
        again.open_composer(again.queue.get("m1"))
        await pilot.pause()
        assert "oud concept" not in again.screen.text


# --- the handover ---------------------------------------------------------------------------------


async def test_the_handover_lists_open_drafts(tmp_path, clock):
    Store(tmp_path / "data").add([mention(1, clock(), 30, author="@piet", text="Waar blijft mijn premie?")])
    an = desk(tmp_path, "An", clock)
    async with an.run_test(size=(120, 40)) as pilot:
        await pilot.press("r", *"Dag Piet", "escape")
        await until(lambda: "m1" in stored(tmp_path / "data"), pilot)
        await pilot.press("o")
        assert isinstance(an.screen, HandoverScreen)
        await an.workers.wait_for_complete()
        await pilot.pause()
        shown = screen_text(an)
        assert "Concepten, nog niet verstuurd: 1" in shown
        assert "10:00 concept van An · x · @piet — Waar blijft mijn premie?" in shown
    out = webcare("handover", "--config", str(tmp_path / "An" / "config.toml"))
    assert out.returncode == 0, out.stderr
    assert "## Concepten, nog niet verstuurd: 1" in out.stdout
    line = next(line for line in out.stdout.splitlines() if "concept van" in line)
    assert "**An**" in line and "@piet" in line and "`m1`" in line and "10:00" in line


# --- a real terminal: the SSH session drops ----------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_dropped_terminal_keeps_the_draft(tmp_path):
    """The desk in tmux; the session is killed (the terminal hangs up, as when SSH drops) while
    the composer is open; a new session on the same data directory gets the draft back."""
    config = write_config(tmp_path)
    Store(tmp_path / "data").add([mention(1, datetime.now(UTC), 30, author="@piet")])
    command = f"PYTHONPATH={ROOT} TERM=xterm-256color {sys.executable} -m webcare.cli --config {config}"
    tmux = Tmux(tmp_path)
    try:
        # A second session keeps the tmux server up while the desk's session is killed.
        tmux.run("new-session", "-d", "-s", "keep", "sleep 120")
        tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", command)
        tmux.wait_for("@piet")
        tmux.keys("r")
        tmux.wait_for("EPO")
        tmux.keys("-l", "Zie de website")
        deadline = time.monotonic() + 10
        while "Zie de website" not in stored(tmp_path / "data").get("m1", {}).get("text", ""):
            assert time.monotonic() < deadline, tmux.screen()
            time.sleep(0.1)
        tmux.run("kill-session", "-t", "desk")  # the terminal hangs up: no key closes anything
        tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", command)
        tmux.wait_for("@piet")
        tmux.keys("r")
        deadline = time.monotonic() + 10
        while "EPO" not in (screen := tmux.screen()):
            if "Overnemen?" in screen:  # the dropped desk's claim, until its heartbeat is stale
                tmux.keys("y")
            assert time.monotonic() < deadline, screen
            time.sleep(0.1)
        screen = tmux.wait_for("Zie de website")
        assert "concept van tester" in screen and "hersteld" in screen
    finally:
        tmux.run("kill-server")
