"""Spikes and crisis mode under Pilot: the real app, a real store on disk, an injected clock.

A burst written to the store as another process would raises the banner within a store poll;
`K` starts crisis mode (after the reason is confirmed), holds today's plan, and shows only what
matters under the crisis norm; `h`, `l` and `E` do what the desk needs in a crisis; a second
desk on the same data directory follows."""

from __future__ import annotations

import json
from datetime import date, timedelta

from store import Store
from store.crisis import CrisisLog
from store.plan import PlanStore
from tests.tui_helpers import make_app, mention, screen_lines, screen_text
from tui.app import WebcareApp
from tui.screens.crisis import CrisisList, CrisisScreen, crisis_due
from tui.screens.prompt import PromptScreen
from tui.screens.stream import StreamScreen
from webcare.planning import PlanItem

CRISIS = """
[crisis]
norm = "30m"
holding_statement = "We volgen de situatie op de voet. Meer info volgt."
"""


def burst(now, n=25, theme="overstroming"):
    return [
        mention(
            f"b{i}",
            now,
            90,
            themes=(theme,),
            sentiment="negative",
            text=f"Overstroming in straat {i}, niemand van de VLM te zien",
            first_seen_at=now - timedelta(minutes=i % 20),
            published_at=now - timedelta(minutes=i % 20),
        )
        for i in range(n)
    ]


async def built(app, pilot) -> None:
    for _ in range(100):
        if app.monitor.book is not None:
            return
        await pilot.pause(0.02)
    raise AssertionError("the trend book was not built")


async def until(pilot, condition, timeout: float = 2.0) -> None:
    """Wait for what a store poll (1 s) brings, no longer than needed."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_burst_raises_the_banner_within_one_poll(make_config, clock):
    now = clock()
    app = make_app(make_config(), clock, [mention(i, now, 60) for i in range(3)])
    async with app.run_test(size=(80, 24)) as pilot:
        await built(app, pilot)
        assert "Mogelijke crisis" not in screen_text(app)
        Store(app.config.data_dir).add(burst(now))  # as the collector would
        await until(pilot, lambda: "Mogelijke crisis" in screen_text(app), 1.5)  # one poll
        text = screen_text(app)
        assert "Mogelijke crisis" in text and "overstroming" in text
        assert any("overstroming" in n for n in notices(app))
        # K offers crisis mode with what spiked as the reason; escape starts nothing.
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert "overstroming" in app.screen.query_one("#answer").value
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StreamScreen) and not app.monitor.in_crisis


def crisis_desk(make_config, clock):
    """A desk with a planned post today and mentions of every kind."""
    config = make_config(CRISIS)
    now = clock()
    PlanStore(config.data_dir).add(
        PlanItem.new(
            "Post vandaag", date=date(2026, 11, 23), time="14:00", channels="x", status="planned"
        )
    )
    mentions = [
        mention("esc", now, 100, text="Geëscaleerd bericht"),
        mention("urg", now, 100, priority="urgent", text="Dringend: dijk breekt"),
        mention("neg", now, 60, sentiment="negative", text="Schandalig traag", reach=50),
        mention("big", now, 60, sentiment="negative", text="Veel volgers boos", reach=50_000),
        mention("calm", now, 20, text="Een gewone vraag"),
        mention("done", now, 20, sentiment="negative", text="Al beantwoord"),
    ]
    store = Store(config.data_dir)
    store.add(mentions)
    store.update_state("mesc", {"status": "escalated"}, "escalated", "tester", at=now)
    store.update_state("mdone", {"status": "responded"}, "responded", "tester", at=now)
    return WebcareApp(config, Store(config.data_dir), clock=clock)


async def test_crisis_mode_start_list_holding_log_and_end(make_config, clock):
    app = crisis_desk(make_config, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await built(app, pilot)
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"Dijkbreuk", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CrisisScreen) and app.monitor.in_crisis
        assert app.session.writer.wait(timeout=10)  # the plan is written by the writer thread
        assert {i.status for i in app.plan.all()} == {"held"}  # today's post held
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        text = "\n".join(lines)
        assert "CRISISMODUS sinds 10:00 door tester: Dijkbreuk" in text
        assert "crisisnorm 30 min" in text and "‖ 1 posts opgeschort" in text
        assert "volume/5 min" in text and "▁" in text
        rows = app.screen.query_one(CrisisList).rows
        assert [m.id for m, _ in rows] == ["mbig", "mneg", "mesc", "murg"]  # due, then reach
        assert "Een gewone vraag" not in text and "Al beantwoord" not in text
        row = next(line for line in lines if "Schandalig traag" in line)
        assert "nog 25 min" in row  # published 5 min ago: the 30-minute crisis norm, not 60
        assert "Geëscaleerd bericht" in text and "DRINGEND" in text

        # h: the composer starts from the holding statement
        await pilot.press("h")
        await pilot.pause()
        assert app.screen.query_one("TextArea").text.startswith("We volgen de situatie")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CrisisScreen)

        # l: a decision, in the log on screen and in crisis.jsonl with who and when
        clock.advance(minutes=3)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"Pers [b]ok[/b]", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "10:03 tester Pers [b]ok[/b]" in text  # literally, no markup
        logged = [
            json.loads(line)
            for line in (app.config.data_dir / "crisis.jsonl").read_text().splitlines()
        ]
        assert [e["kind"] for e in logged] == ["start", "decision"]
        assert logged[1]["who"] == "tester" and logged[1]["at"].startswith("2026-11-23T09:03")

        # E: end for everyone, and release the held post
        await pilot.press("E")
        await pilot.pause()
        await pilot.press("j")  # yes, in a Dutch desk
        await pilot.pause()
        await pilot.press("j")
        await pilot.pause()
        assert not app.monitor.in_crisis and isinstance(app.screen, StreamScreen)
        assert app.session.writer.wait(timeout=10)
        assert {i.status for i in app.plan.all()} == {"planned"}
        assert "CRISISMODUS" not in screen_text(app)


async def test_another_desk_sees_crisis_mode_within_a_poll(make_config, clock):
    app = crisis_desk(make_config, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await built(app, pilot)
        log = CrisisLog(app.config.data_dir)  # the other desk writes the shared log
        log.add(clock(), "collega", "start", "Brand in depot")
        await until(pilot, lambda: "CRISISMODUS" in screen_text(app), 1.5)
        assert "CRISISMODUS sinds 10:00 (collega): Brand in depot" in screen_text(app)
        await pilot.press("K")  # no question now: the crisis is on
        await pilot.pause()
        assert isinstance(app.screen, CrisisScreen)
        assert "door collega" in screen_text(app)
        log.add(clock(), "collega", "decision", "Persbericht om 11 u")
        await until(pilot, lambda: "Persbericht" in screen_text(app), 1.5)
        assert "Persbericht om 11 u" in screen_text(app)
        log.add(clock(), "collega", "end", "")
        await until(pilot, lambda: "Geen crisis" in screen_text(app), 1.5)
        assert "Geen crisis aan de gang" in screen_text(app)
    # a desk started later sees what the others did
    log.add(clock(), "collega", "start", "Opnieuw")
    later = WebcareApp(app.config, Store(app.config.data_dir), clock=clock)
    async with later.run_test(size=(80, 24)):
        assert "CRISISMODUS" in screen_text(later) and "Opnieuw" in screen_text(later)


def test_crisis_due_is_the_earlier_of_deadline_and_norm(clock):
    now = clock()
    norm = timedelta(minutes=30)
    m = mention(1, now, 60)  # published 5 min ago, own deadline in 60 min
    assert crisis_due(m, norm) == now + timedelta(minutes=25)
    m = mention(2, now, 10)
    assert crisis_due(m, norm) == now + timedelta(minutes=10)
    m = mention(3, now, None, channel="news")  # no norm (monitor only): no countdown in a crisis either
    assert crisis_due(m, norm) is None
