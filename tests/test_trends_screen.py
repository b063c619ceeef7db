"""The trends view (`w`) under Pilot: counts, sparklines and rising words for a burst; hostile
text in themes, rules and words shows literally; the view follows new mentions."""

from __future__ import annotations

from datetime import timedelta

from store import Store
from tests.test_crisis import built, until
from tests.tui_helpers import make_app, mention, screen_lines, screen_text
from tui.screens.stream import StreamScreen
from tui.screens.trends import TrendsScreen
from webcare.trends import BLOCKS


def hostile_burst(now, n=12):
    return [
        mention(
            f"h{i}",
            now,
            60,
            themes=("[bold red]mest[/]",),
            rules=("[@click=app.quit]regel[/]",),
            sentiment="negative" if i % 2 else "",
            text=f"Drijfmest [/foo] in de beek {i} bij de VLM",
            first_seen_at=now - timedelta(minutes=2 * i),
            published_at=now - timedelta(minutes=2 * i),
        )
        for i in range(n)
    ]


async def test_trends_show_counts_sparklines_and_rising_words(make_config, clock):
    now = clock()
    app = make_app(make_config(), clock, [mention(i, now, 60) for i in range(3)])
    async with app.run_test(size=(80, 24)) as pilot:
        await built(app, pilot)
        await pilot.press("w")
        await until(pilot, lambda: "alle vermeldingen" in screen_text(app))  # figured in a thread
        assert isinstance(app.screen, TrendsScreen)
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        all_row = next(line for line in lines if line.lstrip().startswith("alle vermeldingen"))
        assert " 3 " in all_row and any(b in all_row for b in BLOCKS)

        # a burst arrives from the collector: the view follows within a poll
        Store(app.config.data_dir).add(hostile_burst(now))
        await until(pilot, lambda: "mest" in screen_text(app))  # within a store poll (1 s)
        text = screen_text(app)
        assert "thema [bold red]mest[/]" in text  # literally: never markup
        rows = [line for line in screen_lines(app) if "[bold red]mest[/]" in line]
        assert any(" 12 " in row and "50%" in row and any(b in row for b in BLOCKS) for row in rows)
        await pilot.press(*"jjjjjjjjjjjj")  # scroll down to the rules and the words
        await pilot.pause()
        text = screen_text(app)
        assert "regel [@click=app.quit]" in text and app.is_running
        assert "Stijgende woorden" in text and "drijfmest" in text and "beek" in text
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, StreamScreen)


async def test_trends_say_when_the_book_is_not_built_yet(make_config, clock):
    app = make_app(make_config(language="en"), clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await built(app, pilot)
        book, app.monitor.book = app.monitor.book, None
        await pilot.press("w")
        await until(pilot, lambda: "trends are being computed…" in screen_text(app))
        app.monitor.book = book
        app.check_spikes()  # what the app does once the book is built
        await until(pilot, lambda: "Last hour" in screen_text(app))
