"""The demo source: reproducible, every urgency in its backlog, the configured rate, unique keys,
three languages, realistic and safe texts, and options checked by key."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sources.demo import TEMPLATES, DemoSource, render
from sources.source import OptionError
from webcare.config import Config, load
from webcare.intake import Intake
from webcare.norms import Urgency
from webcare.watch import KeywordMatcher

START = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday morning


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def write_config(tmp_path: Path, source_lines: str = 'rate = "6/min"') -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[desk]
name = "Vlaamse Landmaatschappij"
data_dir = "data"

[[sources]]
type = "demo"
name = "demo"
{source_lines}

[watch]
keywords = ["VLM", "Vlaamse Landmaatschappij", "mestbank"]
""",
        encoding="utf-8",
    )
    return load(path)


def from_config(tmp_path: Path, source_lines: str) -> DemoSource:
    config = write_config(tmp_path, source_lines)
    return DemoSource.from_config(config.sources[0], config)


async def collect(source: DemoSource, clock: Clock, total: int, step: float = 10.0) -> list:
    """The backlog, then live fetches every `step` seconds until `total` items came in."""
    items = await source.fetch(None)
    while len(items) < total:
        clock.advance(step)
        items += await source.fetch(None)
    return items


async def test_same_seed_and_clock_give_the_same_items() -> None:
    runs = []
    for _ in range(2):
        clock = Clock()
        runs.append(await collect(DemoSource(seed=3, clock=clock), clock, 200, step=37))
    assert runs[0] == runs[1]
    clock = Clock()
    other = await collect(DemoSource(seed=4, clock=clock), clock, 200, step=37)
    assert [i.text for i in other] != [i.text for i in runs[0]]


async def test_the_backlog_shows_every_urgency(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    clock = Clock()
    source = DemoSource.from_config(config.sources[0], config)
    source._clock = clock
    items = await source.fetch(None)
    assert len(items) == 30
    intake = Intake(config)
    mentions = [intake.admit(i, source.name, source.keyword_filter, clock.now) for i in items]
    assert all(m is not None for m in mentions)
    urgencies = Counter(m.urgency(clock.now) for m in mentions)
    assert set(urgencies) == set(Urgency), urgencies
    published = [i.published_at for i in items]
    assert published == sorted(published)
    assert START - timedelta(hours=10, minutes=1) <= published[0]
    assert published[-1] <= START


async def test_the_backlog_comes_once_and_again_after_a_restart_on_the_same_day() -> None:
    clock = Clock()
    source = DemoSource(clock=clock)
    first = await source.fetch(None)
    assert await source.fetch(None) == []  # no time has passed
    clock.advance(3 * 3600)
    restarted = await DemoSource(clock=clock).fetch(None)
    assert [i.key for i in restarted] == [i.key for i in first]
    clock.advance(24 * 3600)
    next_day = await DemoSource(clock=clock).fetch(None)
    assert not {i.key for i in next_day} & {i.key for i in first}


@pytest.mark.parametrize(("rate", "per_hour"), [("6/min", 360), ("1/min", 60), ("40/hour", 40)])
async def test_the_rate_is_kept_over_a_simulated_hour(
    rate: str, per_hour: int, tmp_path: Path
) -> None:
    source = from_config(tmp_path, f'rate = "{rate}"\nbacklog = 0')
    clock = Clock()
    source._clock = clock
    assert await source.fetch(None) == []
    steps = random.Random(1)
    live = []
    elapsed = 0.0
    while elapsed < 3600:
        step = source.interval * steps.uniform(0.5, 2.5)  # a poller that is late or early
        clock.advance(step)
        elapsed += step
        batch = await source.fetch(None)
        assert len(batch) <= 50
        if step >= source.interval:
            assert batch, "at least one mention once an interval has passed"
        for item in batch:
            assert clock.now - timedelta(seconds=60) <= item.published_at <= clock.now
        live += batch
    expected = per_hour * elapsed / 3600
    assert abs(len(live) - expected) <= max(2, 0.02 * expected)


async def test_a_long_pause_is_capped() -> None:
    clock = Clock()
    source = DemoSource(clock=clock, backlog=0)
    await source.fetch(None)
    clock.advance(5 * 3600)
    assert len(await source.fetch(None)) == 50
    clock.advance(source.interval)
    assert len(await source.fetch(None)) == 1  # the pause is not paid off afterwards


async def test_keys_are_unique_over_a_thousand_items() -> None:
    clock = Clock()
    items = await collect(DemoSource(clock=clock, rate=0.5), clock, 1000, step=3)
    keys = [i.key for i in items]
    assert len(keys) >= 1000
    assert len(set(keys)) == len(keys)
    assert all("2026-11-18" in k for k in keys[:30])  # the backlog keys carry the day


async def test_the_stream_is_varied_and_realistic() -> None:
    clock = Clock()
    items = await collect(DemoSource(clock=clock), clock, 1000, step=10)
    languages = Counter(i.extra["language"] for i in items)
    assert set(languages) == {"nl", "en", "fr"}
    assert languages["nl"] > languages["en"] > languages["fr"]
    channels = {i.channel for i in items}
    assert channels >= {"x", "facebook", "instagram", "mastodon", "bluesky", "email", "news",
                        "reddit", "youtube", "linkedin"}
    kinds = Counter(i.extra["kind"] for i in items)
    assert len(kinds) >= 11
    assert kinds["crisis"] < 0.05 * len(items)
    assert len({i.text for i in items}) > 0.8 * len(items)  # slots keep it from repeating
    matcher = KeywordMatcher(("VLM", "Vlaamse Landmaatschappij", "mestbank"))
    for item in items:
        assert matcher.matches(item.title, item.text), item.text
        if item.channel in ("email", "news"):
            assert item.title and item.reach is None
        if item.channel in ("x", "mastodon", "bluesky"):
            assert item.author.startswith("@") and item.reach is not None
        if item.channel == "reddit":
            assert item.author.startswith("u/")
        if item.channel == "email":
            assert item.author.endswith("@example.org")


def test_every_template_renders_on_each_of_its_channels() -> None:
    assert len(TEMPLATES) >= 60
    assert any("[/" in t.text for t in TEMPLATES)  # the hostile ones are in the rotation
    matcher = KeywordMatcher(("VLM", "Vlaamse Landmaatschappij", "mestbank"))
    rng = random.Random(0)
    for n, template in enumerate(TEMPLATES):
        for channel in template.channels:
            for _ in range(5):
                item = render(rng, template, channel, START, f"t{n}")
                assert "{" not in item.text and "{" not in item.title
                assert matcher.matches(item.title, item.text), item.text
                if channel == "x":
                    assert len(item.text) <= 280, item.text
                for url in re.findall(r"https?://[^\s)]+", item.text + " " + item.url):
                    assert url.startswith("https://example.org/"), url


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        ('rate = "fast"', "rate"),
        ("rate = 6", "rate"),
        ('seed = "x"', "seed"),
        ("backlog = -1", "backlog"),
        ("backlog = 100000", "backlog"),
        ("speed = 3", "speed"),
    ],
)
def test_bad_options_name_the_key(lines: str, key: str, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=rf"^{key}\b"):
        from_config(tmp_path, lines)


async def test_options_are_read(tmp_path: Path) -> None:
    source = from_config(tmp_path, 'rate = "30/hour"\nseed = 11\nbacklog = 5')
    assert (source.type, source.name, source.seed, source.backlog) == ("demo", "demo", 11, 5)
    assert source.interval == pytest.approx(120)
    assert source.keyword_filter is False
    fast = from_config(tmp_path, 'rate = "2/s"')
    assert fast.interval == 1  # a floor: a fast rate brings several per poll instead
    clock = Clock()
    fast._clock = clock
    await fast.fetch(None)
    for _ in range(5):
        clock.advance(1)
        assert len(await fast.fetch(None)) == 2
    defaults = from_config(tmp_path, "")
    assert (defaults.interval, defaults.seed, defaults.backlog) == (10, 7, 30)
