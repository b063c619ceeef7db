"""The dashboard (`R`) under Pilot: the real app on a real store holding the fixed report set
(tests/data/report_set.jsonl, whose figures test_report.py checks by hand).

The clock stands on Sunday 22 November 2026, 23:45 in Brussels (22:45 UTC): "this week" is
then Monday 16 – Sunday 22 November, the very period test_report.py reports on; "today" is the
Sunday; "the last 14 days" also holds o1 and o2 (Sunday 15 November)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import Store
from tests.conftest import FakeClock
from tests.tui_helpers import make_app, screen_lines, screen_text
from tui.screens.dashboard import DashboardScreen
from webcare.mention import Mention

DATA = Path(__file__).parent / "data" / "report_set.jsonl"
NOW = datetime(2026, 11, 22, 22, 45, tzinfo=UTC)
HOSTILE = "[bold red]boos[/] [/link] <script>"


def fill(data_dir: Path) -> None:
    """The report set in the store, with each mention's state (add() stores a fresh one)."""
    records = [
        json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    mentions = [Mention.from_records(r, r) for r in records]
    store = Store(data_dir)
    store.add(mentions)
    for m in mentions:
        if m.status != "new":
            state = m.state_record()
            state.pop("id")
            store.update_state(m.id, state, "imported", "test")


@pytest.fixture(scope="session")
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


async def open_dashboard(app, pilot) -> DashboardScreen:
    await pilot.press("R")
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def _line(app, start: str) -> str:
    return next(line for line in screen_lines(app) if line.lstrip().startswith(start))


async def test_week_shows_the_reports_volume_and_share_within_the_norm(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(app, pilot)
        assert screen.period == "week" and set(screen.views) == {"today", "week", "fortnight"}
        text = screen_text(app)
        assert "33 vermeldingen" in text  # test_report: total 33
        assert "61,1 % (11/18)" in text  # all channels: 11 / 18 within the norm
        assert "2 deze week" in text and "ma 16-11 – zo 22-11" in text
        # the sections below the key figures: volume bars per channel (x 11, facebook 9)
        assert "11 █" in _line(app, "x ")
        assert "9 █" in _line(app, "facebook")
        await pilot.press("space")
        await pilot.pause()
        x = _line(app, "x ")
        assert "62,5 % (5/8)" in x and "2 u" in x  # x: norm 2 h, 5 of 8 within it
        assert "80 % (8/10)" in _line(app, "facebook") or "80 %" in screen_text(app)


async def test_switching_periods_changes_the_figures(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(app, pilot)
        await pilot.press("1")
        await pilot.pause()
        assert screen.period == "today"
        assert "5 vermeldingen" in screen_text(app)  # Sunday: x7, x9, fb7, nw5, nw6
        assert "per uur" in screen_text(app)
        await pilot.press("3")
        await pilot.pause()
        assert "35 vermeldingen" in screen_text(app)  # plus o1 and o2 of Sunday 15
        await pilot.press("tab")
        await pilot.pause()
        assert screen.period == "today"
        await pilot.press("shift+tab", "shift+tab")
        await pilot.pause()
        assert screen.period == "week" and "33 vermeldingen" in screen_text(app)


async def test_y_copies_the_periods_markdown_report(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    copied: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard = copied.append  # what the terminal would get (OSC 52)
        await open_dashboard(app, pilot)
        await pilot.press("y")
        await pilot.pause()
        assert len(copied) == 1
        md = copied[0]
        assert md.startswith("# Webcarerapport: ma 16-11-2026 – zo 22-11-2026")
        assert "| x | 2 u | 11 | 7 | 5 | 62,5 % |" in md
        await pilot.press("1", "y")
        assert copied[-1].startswith("# Webcarerapport: zo 22-11-2026 – zo 22-11-2026")


async def test_hostile_author_names_show_literally(make_config, report_set):
    config = make_config()
    at = NOW - timedelta(hours=2)
    hostile = Mention(
        id="h1",
        source="test",
        channel="x",
        author=HOSTILE,
        text="[b]niet vet[/b]",
        published_at=at,
        first_seen_at=at,
        deadline=at + timedelta(hours=2),
        norm_s=7200,
        keywords=("VLM",),
        reach=99999,
        themes=("[/]",),
    )
    report_set(config.data_dir, [hostile])
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(120, 70)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("1")
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]boos[/] [/link]" in text  # shown as written, not as markup
        assert "[/]" in text


async def test_renders_at_80x24_and_wide_without_errors(make_config, report_set):
    config = make_config()
    report_set(config.data_dir)
    app = make_app(config, FakeClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(app, pilot)
        for key in ("1", "2", "3"):
            await pilot.press(key)
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert not screen.has_class("-wide")
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert screen.has_class("-wide")
        text = screen_text(app)
        assert "Volume per kanaal" in text and "Doorgestuurde vragen" in text  # two columns
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "35 vermeldingen" in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, DashboardScreen)


async def test_an_empty_store_says_so(make_config, clock):
    app = make_app(make_config(), clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        text = screen_text(app)
        assert "0 vermeldingen" in text and "geen" in text
