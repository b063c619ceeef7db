"""Several operators on one data directory: each desk shows who else is on a mention within two
seconds, a soft claim warns before a second reply and can be taken over, and every action of
the others shows up live. Two real desks (Pilot apps) on one store, as two SSH sessions are."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from store import Store
from store.presence import Presence
from tests.conftest import write_config
from tests.tui_helpers import mention, screen_text
from tui.app import WebcareApp
from tui.screens.composer import ComposerScreen
from webcare.config import load


def desk(tmp_path, operator: str, clock) -> WebcareApp:
    folder = tmp_path / operator
    folder.mkdir(exist_ok=True)
    path = write_config(folder)
    path.write_text(
        path.read_text()
        .replace('operator = "tester"', f'operator = "{operator}"')
        .replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"')
    )
    config = load(path)
    return WebcareApp(config, Store(config.data_dir), clock=clock)


async def until(condition, pilots, timeout: float = 2.0) -> None:
    """Wait (as the desks run) until `condition()` holds; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            for p in pilots:
                await p.pause(0.05)


async def test_two_desks_see_each_other_claim_and_act_live(tmp_path, clock) -> None:
    Store(tmp_path / "data").add(
        [mention(1, clock(), 30, text="Waar blijft mijn premie?"), mention(2, clock(), 60)]
    )
    an, bert = desk(tmp_path, "An", clock), desk(tmp_path, "Bert", clock)
    async with an.run_test(size=(140, 32)) as pa, bert.run_test(size=(140, 32)) as pb:
        pilots = (pa, pb)
        # An looks at m1 (the top of the stream): Bert's desk shows it on the row and in the detail.
        await until(lambda: "An" in bert.presence.marks.get("m1", ""), pilots)
        await pb.press("enter")
        await until(lambda: "Ook hier: An (kijkt mee)" in screen_text(bert), pilots)
        assert "ook op de desk: An" in screen_text(bert)
        # An starts replying: a soft claim.
        await pa.press("r")
        await until(lambda: bert.presence.marks.get("m1") == "An ✎", pilots)
        assert "An (antwoordt sinds 10:00)" in screen_text(bert)
        # Bert opens the composer on it too: asked first; no, nothing opens.
        await pb.press("r")
        await pb.pause()
        assert "An antwoordt hier al op (sinds 10:00). Overnemen?" in screen_text(bert)
        await pb.press("n")
        await pb.pause()
        assert not isinstance(bert.screen, ComposerScreen)
        # Bert takes it over explicitly: An's desk says so.
        clock.advance(minutes=1)
        await pb.press("r")
        await pb.pause()
        await pb.press("j")
        await until(lambda: isinstance(bert.screen, ComposerScreen), pilots)
        await until(lambda: an.presence.claim is None, pilots)
        assert any("Bert heeft dit antwoord overgenomen" in n.message for n in an._notifications)
        # Bert's reply is recorded: An's desk shows it live, with who did it.
        await pb.press("escape")
        await pb.pause()
        await pb.press("d")
        await until(lambda: an.queue.get("m1").status == "responded", pilots)
        assert an.queue.get("m1").history[-1]["who"] == "Bert"
    # Desks that quit leave no presence behind.
    assert not list((tmp_path / "data" / "presence").glob("*.json"))


def test_a_desk_that_stopped_beating_is_not_shown(tmp_path, clock) -> None:
    mine, theirs = Presence(tmp_path, "An"), Presence(tmp_path, "Bert")
    theirs.name = "Bert-elsewhere-1.json"  # another process
    theirs.publish(clock(), "m1", None, None)
    assert [d.operator for d in mine.others(clock())] == ["Bert"]
    assert (
        mine.others(clock() + timedelta(minutes=1)) == []
    )  # killed: its file stays, it is ignored
    (tmp_path / "presence" / theirs.name).write_text("{half")
    assert mine.others(clock()) == []  # a torn file is skipped, not an error
