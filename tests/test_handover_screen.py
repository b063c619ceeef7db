"""The shift handover screen (`o`) under Pilot: the real app on a real store holding the report
set (tests/data/report_set.jsonl), the clock on Sunday 22 November 2026, 23:45 in Brussels.

With the default shifts that is the weekend shift, since Friday 20 November 17:00."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from store import Store
from tests.conftest import FakeClock
from tests.test_dashboard import HOSTILE, NOW, fill
from tests.tui_helpers import make_app, screen_text
from tui.screens.handover import HandoverScreen
from webcare.mention import Mention


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """A data directory holding the report set, written once and copied for each test."""
    data_dir = tmp_path_factory.mktemp("report_set") / "data"
    fill(data_dir)
    return data_dir


@pytest.fixture
def report_set(filled):
    """report_set(data_dir, extra=[]): the report set (and `extra` mentions) in data_dir."""

    def make(data_dir: Path, extra: list[Mention] = ()) -> None:
        shutil.copytree(filled, data_dir, dirs_exist_ok=True)
        if extra:
            Store(data_dir).add(list(extra))

    return make


async def open_handover(app, pilot) -> HandoverScreen:
    await pilot.press("o")
    screen = app.screen
    assert isinstance(screen, HandoverScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def test_shows_the_sections_since_the_shift_began(make_config, report_set):
    config = make_config()
    at = NOW - timedelta(minutes=30)
    hostile = Mention(
        id="h1",
        source="test",
        channel="x",
        author=HOSTILE,
        text="[b]niet vet[/b] [/",
        published_at=at,
        first_seen_at=at,
        deadline=at + timedelta(hours=2),
        norm_s=7200,
        keywords=("VLM",),
    )
    report_set(config.data_dir, [hostile])
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(100, 60)) as pilot:
        await open_handover(app, pilot)
        text = screen_text(app)
        assert "Overdracht — dienst weekend" in text and "sinds vr 20-11 17:00" in text
        assert "Binnengekomen: 9" in text
        assert "Beantwoord: 2" in text
        assert "Nog open, op deadline: 7 (3 over de deadline)" in text
        assert "6 d 22 u te laat" in text and "nog 1 u 30 min" in text  # countdowns
        assert "Wacht op experts: 2 (1 te laat)" in text
        assert "Notities voor de volgende dienst" in text
        assert f"{HOSTILE} — [b]niet vet[/b] [/" in text  # outside text shown as written


async def test_a_note_is_kept_shown_and_in_the_markdown_file(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    copied: list[str] = []
    async with app.run_test(size=(100, 50)) as pilot:
        app.copy_to_clipboard = copied.append  # what the terminal would get (OSC 52)
        await open_handover(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one(Input).value = "Bel [b]An[/b] terug over x6"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "tester: Bel [b]An[/b] terug over x6" in screen_text(app)
        stored = [
            json.loads(line) for line in (config.data_dir / "notes.jsonl").read_text().splitlines()
        ]
        assert [(n["who"], n["text"]) for n in stored] == [
            ("tester", "Bel [b]An[/b] terug over x6")
        ]

        await pilot.press("y")
        await pilot.pause()
        assert copied and copied[-1].startswith("# Overdracht — dienst weekend")
        assert "**tester**: Bel \\[b\\]An\\[/b\\] terug over x6" in copied[-1]

        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        path = config.data_dir / "handover-2026-11-22-2345.md"
        assert path.read_text(encoding="utf-8") == copied[-1]
        assert str(path) in " ".join(str(n.message) for n in app._notifications)


async def test_since_can_be_picked_and_reset(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_handover(app, pilot)
        await pilot.press("S")
        await pilot.pause()
        answer = app.screen.query_one(Input)
        answer.value = "nonsens"
        await pilot.press("enter")  # not a time: the prompt stays
        await pilot.pause()
        assert app.screen is not screen
        answer.value = "23:00"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "sinds zo 22-11 23:00" in text and "Binnengekomen: 1" in text  # x9 only
        await pilot.press("S")
        await pilot.pause()
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")  # empty: the start of the shift again
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.since is None and "Binnengekomen: 8" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HandoverScreen)
