"""The stream screen under Pilot: the real app, a real store on disk, an injected clock."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from store import Store
from tests.tui_helpers import make_app, mention, screen_lines, screen_text
from tui.widgets.mention_detail import MentionDetail
from tui.widgets.mention_list import MentionList


def _selected(app) -> str:
    return app.screen.query_one(MentionList).selected.id


async def test_navigation_and_detail(make_config, clock):
    now = clock()
    app = make_app(make_config(), clock, [mention(i, now, 10 + i * 10) for i in range(30)])
    async with app.run_test(size=(80, 24)) as pilot:
        assert _selected(app) == "m0"
        await pilot.press("j", "j", "down")
        assert _selected(app) == "m3"
        await pilot.press("k", "up")
        assert _selected(app) == "m1"
        await pilot.press("G")
        assert _selected(app) == "m29"
        assert "@author29" in screen_text(app)  # scrolled into view
        await pilot.press("g")
        assert _selected(app) == "m0"
        detail = app.screen.query_one(MentionDetail)
        assert not detail.display
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display and detail.mention.id == "m0"
        assert "Tekst 0 over de VLM" in screen_text(app)
        await pilot.press("j")
        await pilot.pause()
        assert detail.mention.id == "m1"  # the open pane follows the cursor
        await pilot.press("escape")
        await pilot.pause()
        assert not detail.display


async def test_rows_show_countdown_channel_author_and_text(make_config, clock):
    now = clock()
    app = make_app(
        make_config(),
        clock,
        [
            mention(1, now, 72),
            mention(2, now, -3),
            mention(3, now, None, channel="news"),
        ],
    )
    async with app.run_test(size=(80, 24)):
        lines = screen_lines(app)
        rows = [line for line in lines if "@author" in line]
        assert "3 min te laat" in rows[0] and "@author2" in rows[0]
        assert "nog 1 u 12 min" in rows[1] and "X" in rows[1] and "Tekst 1" in rows[1]
        assert "geen norm" in rows[2] and "NEWS" in rows[2]
        header = lines[0]
        assert "Testdesk" in header and "3 nieuw" in header and "1 te laat" in header


async def test_countdown_follows_the_clock(make_config, clock):
    now = clock()
    app = make_app(make_config(language="en"), clock, [mention(1, now, 90)])
    async with app.run_test(size=(80, 24)) as pilot:
        assert "1 h 30 min left" in screen_text(app)
        clock.advance(minutes=20)
        app.tick_now()
        await pilot.pause()
        assert "1 h 10 min left" in screen_text(app)
        clock.advance(minutes=70)  # now 20 min... past: 90 - 90 = 0 → then overdue
        clock.advance(minutes=5)
        app.tick_now()
        await pilot.pause()
        text = screen_text(app)
        assert "5 min overdue" in text and "1 overdue" in text.splitlines()[0]


async def test_live_arrival_keeps_the_selection(make_config, clock):
    now = clock()
    config = make_config()
    app = make_app(config, clock, [mention(i, now, 30 + i * 10) for i in range(40)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "j", "j")
        assert _selected(app) == "m3"
        row_before = [i for i, line in enumerate(screen_lines(app)) if "@author3 " in line]
        # Another process (a collector) stores more urgent mentions.
        Store(config.data_dir).add([mention(f"new{i}", now, -5 - i) for i in range(3)])
        app.poll_store()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _selected(app) == "m3"
        assert app.queue.total == 43
        row_after = [i for i, line in enumerate(screen_lines(app)) if "@author3 " in line]
        assert row_after == row_before  # the row being read did not move on screen
        assert "3 te laat" in screen_lines(app)[0]


async def test_mentions_stored_in_a_burst_all_show(make_config, clock, monkeypatch):
    """Sources that store at once each ask the desk to read the store. A read that is already
    under way when the next is asked for goes on, and its mentions show: they are no longer
    in the store's list of changes for a later read to find."""
    now = clock()
    config = make_config()
    app = make_app(config, clock)
    collector = Store(config.data_dir)  # the poller's own handle, as in the desk
    read, paused, go_on = app.store.changes, threading.Event(), threading.Event()

    def changes(**kwargs):
        found = read(**kwargs)
        if found.new and not paused.is_set():  # the first read, holding the first mention
            paused.set()
            go_on.wait(10)
        return found

    monkeypatch.setattr(app.store, "changes", changes)
    async with app.run_test(size=(80, 24)) as pilot:
        collector.add([mention("first", now, 30, author="@eerste")])
        app.poll_store()
        await asyncio.to_thread(paused.wait, 10)
        collector.add([mention("second", now, 40, author="@tweede")])
        app.poll_store()  # asked for while the first read is under way
        go_on.set()
        async with asyncio.timeout(10):
            while app.queue.total < 2:
                await pilot.pause(0.05)
        await pilot.pause()
        assert {m.id for m in app.queue} == {"mfirst", "msecond"}
        assert "@eerste" in screen_text(app) and "@tweede" in screen_text(app)


async def test_hostile_text_is_shown_literally_and_runs_nothing(make_config, clock):
    now = clock()
    hostile = "[@click=app.quit]x[/] [bold]vet[/bold] [link=https://evil.example]klik[/link] VLM"
    app = make_app(
        make_config(), clock, [mention(1, now, 30, text=hostile, author="[@click=app.quit]q[/]")]
    )
    async with app.run_test(size=(100, 30)) as pilot:
        assert "[@click=app.quit]x[/]" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]vet[/bold]" in text and "[link=https://evil.example]klik[/link]" in text
        # click on the row and on the detail text: nothing happens
        await pilot.click(MentionList, offset=(30, 0))
        await pilot.click(MentionDetail, offset=(5, 1))
        await pilot.click(MentionDetail, offset=(2, 3))
        await pilot.pause()
        assert app.is_running
        assert "[@click=app.quit]" in screen_text(app)


async def test_filter(make_config, clock):
    now = clock()
    app = make_app(
        make_config(),
        clock,
        [
            mention(1, now, 30, text="Vraag over de mestbank"),
            mention(2, now, 40),
            mention(3, now, 50, channel="facebook"),
        ],
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await pilot.press(*"mestbank", "enter")
        await pilot.pause()
        assert len(app.queue) == 1 and _selected(app) == "m1"
        assert "1/3" in screen_lines(app)[0]
        await pilot.press("slash", "ctrl+u")  # clear the box
        await pilot.press(*"channel:fb", "enter")
        await pilot.pause()
        assert [m.id for m in app.queue] == ["m3"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.queue) == 3


async def test_help_lists_the_keys_and_closes(make_config, clock):
    app = make_app(make_config(language="en"), clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        for expected in (
            "next",
            "previous",
            "first",
            "last",
            "open",
            "filter",
            "quit",
            "help",
            "triage",
            "reply",
            "monitor",
            "done",
            "snooze",
            "undo",
            "copy link",
            "→ L6",
        ):
            assert expected in text
        await pilot.press("escape")
        await pilot.pause()
        assert "previous" not in screen_text(app)


async def test_wide_terminal_shows_detail_beside_the_stream(make_config, clock):
    app = make_app(
        make_config(), clock, [mention(1, clock(), 30, text="Een lange tekst over de VLM")]
    )
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        detail = app.screen.query_one(MentionDetail)
        assert detail.display and detail.mention.id == "m1"


async def test_empty_desk_says_so_and_quits_with_q(make_config, clock):
    app = make_app(make_config(language="en"), clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "No mentions yet" in screen_text(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


async def test_no_color_still_marks_urgency(make_config, clock, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    now = clock()
    app = make_app(make_config(), clock, [mention(1, now, -10), mention(2, now, 20)])
    async with app.run_test(size=(80, 24)):
        lines = screen_lines(app)
        assert any(line.startswith("‼ 10 min te laat") for line in lines)
        assert any(line.startswith("! nog 20 min") for line in lines)


async def test_header_shows_each_source_health(make_config, clock):
    """A collector's health as the header shows it: live connections, a source rate-limited
    until its reset, a failing one with its last error."""
    config = make_config()
    now = clock()
    at = lambda minutes: (now + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    Store(config.data_dir).write_health(
        {
            "collector": {"pid": 1, "heartbeat_at": now.isoformat()},
            "sources": {
                "mastodon": {"name": "mastodon", "state": "ok", "live": True},
                "x": {
                    "name": "x",
                    "state": "rate-limited",
                    "rate_limited_until": at(15),
                    "last_error": "",
                },
                "fb": {
                    "name": "fb",
                    "state": "failing",
                    "last_error": "HTTP 500 Internal Server Error",
                },
            },
        }
    )
    app = make_app(config, clock)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        top = " ".join(screen_lines(app)[:3])
    local = (now + timedelta(minutes=15)).astimezone(config.timezone)
    assert "bronnen 1/3 ok · 1 live" in top
    assert f"x: beperkt tot {local:%H:%M}" in top
    assert "fb: in storing (HTTP 500 Internal" in top  # the line wraps after it


async def test_a_reply_is_shown_with_the_post_it_answers(make_config, clock):
    now = clock()
    post = mention(1, now, 60, text="Waarom is de mestbank dicht?", ref="m.example:1")
    reply = mention(
        2,
        now,
        90,
        author="@jan",
        text="Ik vraag het me ook af",
        in_reply_to="m.example:1",
        parent="m1",
    )
    app = make_app(make_config(), clock, [post, reply])
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        detail = app.screen.query_one(MentionDetail)
        assert "Antwoorden (1)" in detail.describe(app.queue.get("m1")).plain
        assert (
            "↳ @jan · nieuw: Ik vraag het me ook af" in detail.describe(app.queue.get("m1")).plain
        )
        assert (
            "↳ antwoord op @author1: Waarom is de mestbank dicht?"
            in detail.describe(app.queue.get("m2")).plain
        )
        # A reply arriving later (another desk's collector) joins the thread too.
        late = mention(
            3, now, 100, author="@an", text="Sinds gisteren", in_reply_to="m.example:1", parent="m1"
        )
        Store(app.config.data_dir).add([late])
        await pilot.pause(1.5)
        assert "Antwoorden (2)" in detail.describe(app.queue.get("m1")).plain


async def test_help_at_80x24_pages_down_to_the_desk_wide_keys(make_config, clock):
    app = make_app(make_config(), clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "crisis" not in screen_text(app)  # below the fold
        for _ in range(4):
            await pilot.press("space")
        await pilot.pause()
        text = screen_text(app)
        assert "crisis" in text and "dashboard" in text and "overdracht" in text
