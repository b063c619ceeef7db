"""What the operator sees, as pictures: the main screens of the real desk at 80x24, in Dutch and
in English, compared with the accepted SVGs in tests/__snapshots__/test_snapshots/.

The desk runs on the demo source's backlog (seed 7) with the shipped config.toml, a clock that
stands still on Monday 23 November 2026 at 10:00 in Brussels and a fixed operator, so every run
paints the same screen: no temporary paths, no wall-clock times, no random ids.

A deliberate change of a screen changes its picture: look at the new one, then accept it with

    pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from sources.demo import DemoSource
from store import Store
from store.plan import PlanStore
from tui.app import WebcareApp
from webcare.config import load
from webcare.intake import Intake
from webcare.planning import PlanItem

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday 10:00 in Brussels

# The screens and the keys that open them from the stream.
SCREENS = {
    "stream": (),
    "detail": ("enter",),
    "triage": ("t",),
    "routing": ("e",),
    "calendar": ("c",),
    "dashboard": ("R",),
    "handover": ("o",),
    "help": ("question_mark",),
}


def demo_desk(tmp_path: Path, language: str) -> WebcareApp:
    """The desk as a new team sees it: the shipped config, the demo's backlog, a few posts planned."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for old, new in (
        ('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"'),
        ('operator = ""', 'operator = "An Peeters"'),
        ('language = "nl"', f'language = "{language}"'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    config = load(tmp_path / "config.toml")

    items = asyncio.run(DemoSource(seed=7, backlog=30, clock=lambda: START).fetch(None))
    intake = Intake(config)
    mentions = [m for item in items if (m := intake.admit(item, "demo", False, START)) is not None]
    Store(config.data_dir).add(mentions)
    PlanStore(config.data_dir).add_many(
        PlanItem(id=f"p{i}", title=title, date=day, time=at, channels=channels, theme=theme,
                 status=status, owner="An Peeters", created_at=START)
        for i, (title, day, at, channels, theme, status) in enumerate([
            ("Mestbank: aangifte tot 31 maart", dt.date(2026, 11, 23), dt.time(9, 0), ("x", "facebook"), "mest", "published"),
            ("Week van het water: de Herk", dt.date(2026, 11, 24), dt.time(11, 30), ("instagram",), "water", "planned"),
            ("Subsidie natuurbeheer", dt.date(2026, 11, 26), None, ("linkedin",), "", "draft"),
        ])
    )  # fmt: skip
    return WebcareApp(config, Store(config.data_dir), clock=lambda: START)


def opened(keys: tuple[str, ...]):
    """run_before for snap_compare: let the first paint's work finish, press the keys, and wait
    for what they started (the trends are built in a worker; the screens load in workers)."""

    async def run(pilot) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, tmp_path, screen, language):
    app = demo_desk(tmp_path, language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=opened(SCREENS[screen]))
