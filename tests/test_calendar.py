"""The calendar screen under Pilot: the two-week grid, add / status / move / delete / undo,
holidays, hold for a crisis, and the plan in the stream's header and the ics export."""

from __future__ import annotations

from datetime import date, datetime

from store.plan import PlanStore
from tests.tui_helpers import make_app, mention, screen_text
from tui.screens.calendar import CalendarScreen

CAL = '[calendar]\ncycle_start = "2026-11-16"\nholidays = "BE"\n[[calendar.campaigns]]\nname = "Week van het water"\nfrom = "2026-11-23"\nuntil = "2026-11-27"\n'


def _plan(app):
    """The plan as stored, once the desk's writer thread has written every change so far."""
    assert app.session.writer.wait(timeout=10)
    return PlanStore(app.config.data_dir).all()


async def test_grid_add_cycle_move_delete_undo(make_config, clock):
    config = make_config(CAL)
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CalendarScreen)
        text = screen_text(app)
        assert "16/11 – 29/11/2026" in text  # the current period: Monday 23 Nov is in it
        assert "ma 23/11 ◆" in text  # today marked
        assert "Week van het water" in text
        # add an item on today
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Dag van de mestbank", "enter", *"10:00", "enter", *"x, fb", "enter", *"mest", "enter", *"Verhaal van een boer", "enter")
        await pilot.pause()
        items = _plan(app)
        assert len(items) == 1 and items[0].date == date(2026, 11, 23) and items[0].channels == ("x", "facebook")
        assert "10:00 Dag van" in screen_text(app)  # the cell cuts long titles with …
        await pilot.press("space")  # draft → planned
        await pilot.pause()
        assert _plan(app)[0].status == "planned"
        await pilot.press("m", "right", "right", "enter")  # move to Wednesday
        await pilot.pause()
        assert _plan(app)[0].date == date(2026, 11, 25)
        await pilot.press("x")
        await pilot.pause()
        assert _plan(app) == []
        await pilot.press("u")
        await pilot.pause()
        assert _plan(app)[0].title == "Dag van de mestbank"
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "30/11 – 13/12/2026" in screen_text(app)
        await pilot.press("t", "s")
        await pilot.pause()
        assert not isinstance(app.screen, CalendarScreen)
        assert "vandaag gepland" not in screen_text(app).splitlines()[0]  # it was moved to Wednesday


async def test_holidays_shown(make_config, clock):
    config = make_config(CAL)
    clock.now = datetime(2026, 11, 10, 9, 0, tzinfo=clock.now.tzinfo)  # period 2–15 Nov
    app = make_app(config, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert "Wapenstilstand" in screen_text(app)


async def test_hold_today_and_tomorrow_and_header(make_config, clock):
    from webcare.planning import PlanItem

    config = make_config(CAL)
    plan = PlanStore(config.data_dir)
    plan.add(PlanItem.new("Post vandaag", date=date(2026, 11, 23), time="14:00", channels="x", status="planned"))
    plan.add(PlanItem.new("Post morgen", date=date(2026, 11, 24), channels="fb", status="planned"))
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 30)) as pilot:
        header = screen_text(app).splitlines()[0]
        assert "1 vandaag gepland (volgende 14:00)" in header
        await pilot.press("c", "H")
        await pilot.pause()
        assert {i.status for i in _plan(app)} == {"held"}
        await pilot.press("H")
        await pilot.pause()
        assert {i.status for i in _plan(app)} == {"planned"}


async def test_grid_at_80x24(make_config, clock):
    config = make_config(CAL)
    app = make_app(config, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert any("ma 23/11" in line for line in lines) and any("zo 29/11" in line for line in lines)


async def test_an_item_added_with_n_is_in_the_ics_export(make_config, clock):
    from icalendar import Calendar

    from tests.test_cli import webcare

    config = make_config(CAL)
    app = make_app(config, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "n")
        await pilot.pause()
        await pilot.press(*"Verhaal van de boswachter", "ctrl+s")
        await pilot.pause()
    result = webcare("export", "plan", "--format", "ics", "--config", str(config.path))
    assert result.returncode == 0, result.stderr
    events = [e for e in Calendar.from_ical(result.stdout).walk("VEVENT")]
    assert [str(e["SUMMARY"]) for e in events] == ["Verhaal van de boswachter"]
    assert events[0].decoded("DTSTART") == date(2026, 11, 23)
