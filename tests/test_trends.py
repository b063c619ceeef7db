"""Themes and trends: counts against the same hours on previous days, rising words, sparklines
and the spike rule behind the crisis banner, on synthetic traffic with a fixed seed."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webcare.trends import (
    BASIS_DAYS,
    BASIS_NONE,
    BASIS_TRAILING,
    DAY,
    EVERYTHING,
    HOUR,
    NEGATIVE,
    RULE,
    THEME,
    VOLUME,
    Observation,
    TrendBook,
    TrendParams,
    banner,
    sparkline,
    terms,
)

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday afternoon
THEMES = (("mest", 0.4), ("water", 0.3), ("natuur", 0.2))  # the rest has no theme
WORDS = (
    "aangifte subsidie perceel boer bemesting formulier loket termijn vergunning beek natuur "
    "wandeling bos gracht pad vraag dossier regels nitraat meetpunt kaart website inloggen "
    "brief antwoord weide grond kavel ruilverkaveling landbouw"
).split()


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth): small rates only, which is all a 5-minute bucket has."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def traffic(
    rng: random.Random,
    start: datetime,
    end: datetime,
    per_5min: float = 2.0,
    profile: Callable[[datetime], float] = lambda t: 1.0,
    negative: float = 0.2,
) -> Iterator[Observation]:
    """Steady traffic: Poisson arrivals per 5 minutes (times `profile` of the hour), spread over
    the themes, a fifth of them negative, each a few everyday words."""
    t = start
    while t < end:
        for _ in range(poisson(rng, per_5min * profile(t))):
            at = t + timedelta(seconds=rng.uniform(0, 299.9))
            pick, themes = rng.random(), ()
            for name, share in THEMES:
                if pick < share:
                    themes = (name,)
                    break
                pick -= share
            text = " ".join(rng.choice(WORDS) for _ in range(8)) + " #VLM"
            rules = tuple(f"{t}-regel" for t in themes)
            yield Observation(at, themes, rules, rng.random() < negative, text)
        t += timedelta(minutes=5)


def burst(end: datetime, n: int, theme: str, over: timedelta, word: str = "overstroming"):
    """n negative mentions on one theme, spread over the `over` before `end`."""
    for i in range(n):
        at = end - over + over * (i + 0.5) / n
        yield Observation(at, (theme,), (f"{theme}-regel",), True, f"Weer {word} aan de beek! #VLM")


def polled(book: TrendBook, observations, start: datetime, end: datetime, every: timedelta):
    """Feed the book as a desk would (what arrived since the last poll), yielding each poll's
    time after feeding it."""
    pending = sorted(observations, key=lambda o: o.at)
    i, now = 0, start
    while now <= end:
        while i < len(pending) and pending[i].at <= now:
            book.add(pending[i])
            i += 1
        yield now
        now += every


# --- spikes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed,rate", [(1, 2.0), (2, 6.0), (3, 0.5)])
def test_a_week_of_steady_traffic_raises_no_spike(seed, rate):
    rng = random.Random(seed)
    start = NOW - 8 * DAY
    book = TrendBook(since=start)
    observations = list(traffic(rng, start, NOW, per_5min=rate))
    checked = 0
    for now in polled(book, observations, start + DAY, NOW, timedelta(minutes=5)):
        assert book.spikes(now) == [], f"false alarm at {now}: {book.spikes(now)}"
        checked += 1
    assert checked >= 7 * 288  # every 5 minutes for a week


def test_a_burst_of_negative_mentions_on_one_theme_raises_the_banner_within_one_poll():
    rng = random.Random(7)
    start = NOW - 8 * DAY
    book = TrendBook(since=start)
    book.extend(traffic(rng, start, NOW - timedelta(minutes=2)))
    assert book.spikes(NOW - timedelta(minutes=2)) == []
    # one poll later: 15 angry mentions about water came in over those two minutes
    book.extend(burst(NOW, 15, "water", timedelta(minutes=2)))
    spikes = book.spikes(NOW)
    assert spikes, "the burst raised no spike"
    first = spikes[0]
    assert first.subject == (THEME, "water")
    assert {s.what for s in spikes if s.subject == (THEME, "water")} == {VOLUME, NEGATIVE}
    assert {s.subject for s in spikes} <= {(THEME, "water"), (RULE, "water-regel"), EVERYTHING}
    assert first.basis == BASIS_DAYS and first.days == 7
    negative = next(s for s in spikes if s.subject == (THEME, "water") and s.what == NEGATIVE)
    assert negative.observed > 0.7 and negative.expected is not None and negative.expected < 0.35
    volume = next(s for s in spikes if s.subject == (THEME, "water") and s.what == VOLUME)
    assert volume.count >= 15 and volume.expected is not None and volume.expected < 6
    assert "thema water" in banner(spikes, "nl") and "theme water" in banner(spikes, "en")


def test_a_burst_on_a_fresh_desk_still_fires_and_its_normal_traffic_does_not():
    book = TrendBook()
    book.extend(traffic(random.Random(3), NOW - timedelta(minutes=40), NOW, per_5min=6.0))
    assert book.spikes(NOW) == []  # 40 minutes of a busy desk: nothing to compare, no alarm
    book.extend(burst(NOW, 25, "water", timedelta(minutes=10)))
    spikes = book.spikes(NOW)
    kinds = {(s.subject, s.what) for s in spikes}
    assert ((THEME, "water"), VOLUME) in kinds and ((THEME, "water"), NEGATIVE) in kinds
    assert all(s.subject != EVERYTHING or s.what != VOLUME for s in spikes)
    assert spikes[0].basis == BASIS_NONE and spikes[0].expected is None
    assert "geschiedenis" in spikes[0].text("nl") or "%" in spikes[0].text("nl")


def test_a_burst_after_a_few_hours_of_history_is_measured_against_those_hours():
    start = NOW - 5 * HOUR
    book = TrendBook()
    book.extend(traffic(random.Random(4), start, NOW, per_5min=2.0))
    assert book.spikes(NOW) == []
    book.extend(burst(NOW, 25, "natuur", timedelta(minutes=15)))
    spikes = book.spikes(NOW)
    assert spikes and spikes[0].subject == (THEME, "natuur")
    assert spikes[0].basis == BASIS_TRAILING


def morning_peak(tz) -> Callable[[datetime], float]:
    """Five times the traffic from 8:30 to 10:00 on the desk's clock."""

    def profile(t: datetime) -> float:
        local = t.astimezone(tz)
        minutes = local.hour * 60 + local.minute
        return 5.0 if 8 * 60 + 30 <= minutes < 10 * 60 else 1.0

    return profile


def test_the_baseline_is_the_same_hours_on_previous_days_so_a_daily_peak_is_no_spike():
    tz = ZoneInfo("Europe/Brussels")
    now = datetime(2026, 11, 23, 9, 15, tzinfo=tz)
    start = now - 8 * DAY
    usual = list(traffic(random.Random(5), start, now, per_5min=1.5, profile=morning_peak(tz)))
    book = TrendBook.of(usual, tz=tz, since=start)
    assert book.spikes(now) == []
    assert book.counts(now, HOUR)[0].score < 3  # the peak is what 9 o'clock always looks like
    # the same morning on a desk whose previous mornings were quiet is a spike
    quiet = [o for o in usual if o.at < now - 2 * HOUR]
    quiet = [o for o in quiet if not 8 <= o.at.astimezone(tz).hour < 10]
    today = [o for o in usual if o.at >= now - 2 * HOUR]
    flat = TrendBook.of(quiet + today, tz=tz, since=start)
    assert any(s.subject == EVERYTHING and s.what == VOLUME for s in flat.spikes(now))


def test_the_same_hours_follow_the_desks_clock_across_daylight_saving():
    tz = ZoneInfo("Europe/Brussels")
    now = datetime(2026, 10, 28, 9, 15, tzinfo=tz)  # summer time ended on Sunday 25 October
    start = now - 8 * DAY
    usual = list(traffic(random.Random(6), start, now, per_5min=1.5, profile=morning_peak(tz)))
    local = TrendBook.of(usual, tz=tz, since=start)
    assert local.spikes(now) == []
    counted = local.counts(now, HOUR)[0]
    assert counted.days == 7 and counted.score < 3


def test_spikes_take_now_and_not_the_wall_clock():
    book = TrendBook()
    book.extend(burst(NOW, 25, "water", timedelta(minutes=10)))
    assert book.spikes(NOW) and book.spikes(NOW + DAY) == []
    assert book.spikes(NOW) == book.spikes(NOW)


# --- counts, series, words -------------------------------------------------------------------


def regular(start: datetime, end: datetime) -> Iterator[Observation]:
    """Exactly two mentions of theme mest every 5 minutes (one negative) and one of water."""
    t = start
    while t < end:
        yield Observation(t + timedelta(minutes=1), ("mest",), ("mestbank",), True, "mest")
        yield Observation(t + timedelta(minutes=2), ("mest",), (), False, "mest")
        yield Observation(t + timedelta(minutes=3), ("water",), (), False, "water")
        t += timedelta(minutes=5)


def test_counts_per_theme_and_rule_against_the_mean_of_previous_days():
    now = NOW - timedelta(seconds=1)  # the last bucket all but full
    start = NOW - 3 * DAY - HOUR  # three whole previous days for the hour, two for the day
    book = TrendBook.of(regular(start, NOW), since=start)
    rows = {c.subject: c for c in book.counts(now, HOUR)}
    assert list(rows)[0] == EVERYTHING
    mest = rows[(THEME, "mest")]
    assert (mest.observed, mest.negative, mest.days) == (24, 12, 3)
    assert mest.expected == pytest.approx(24, abs=0.02)
    assert mest.expected_negative == pytest.approx(12, abs=0.02)
    assert mest.share == 0.5 and mest.expected_share == pytest.approx(0.5)
    assert mest.ratio == pytest.approx(1.0, abs=0.01) and abs(mest.score) < 0.1
    assert rows[(RULE, "mestbank")].observed == 12
    assert rows[EVERYTHING].observed == 36
    day = {c.subject: c for c in book.counts(now, DAY)}
    assert day[(THEME, "water")].observed == 288 and day[(THEME, "water")].days == 2


def test_counts_without_history_have_no_expectation():
    book = TrendBook.of(regular(NOW - HOUR, NOW))
    row = book.counts(NOW, HOUR)[0]
    assert row.expected is None and row.ratio is None and row.score is None


def test_series_give_hourly_and_five_minute_slots():
    now = NOW - timedelta(seconds=1)
    book = TrendBook.of(regular(NOW - 2 * DAY, NOW), since=NOW - 2 * DAY)
    hour = book.series(now, HOUR)
    assert set(hour) == {EVERYTHING, (THEME, "mest"), (THEME, "water"), (RULE, "mestbank")}
    mest = hour[(THEME, "mest")]
    assert mest.observed == (2,) * 12 and mest.negative == (1,) * 12
    assert mest.step == timedelta(minutes=5) and len(mest.expected) == 12
    assert mest.expected[0] == pytest.approx(2) and mest.expected[-1] == pytest.approx(2, abs=0.01)
    assert mest.start == NOW - HOUR
    day = book.series(now, DAY, subjects=[(THEME, "water"), (THEME, "none")])
    assert day[(THEME, "water")].observed == (12,) * 24
    assert day[(THEME, "none")].observed == (0,) * 24
    with pytest.raises(ValueError):
        book.series(now, HOUR, slots=7)


def test_top_terms_surface_the_bursts_word():
    rng = random.Random(8)
    start = NOW - 8 * DAY
    book = TrendBook.of(traffic(rng, start, NOW), since=start)
    book.extend(burst(NOW, 20, "water", timedelta(minutes=20)))
    hour = book.top_terms(NOW, HOUR, k=5)
    assert hour[0].term == "overstroming" and hour[0].count == 20 and hour[0].expected == 0
    assert "vlm" not in [t.term for t in hour]  # in every mention: not rising
    day = book.top_terms(NOW, DAY, k=5)
    assert day[0].term == "overstroming"
    assert book.top_terms(NOW - 3 * DAY, HOUR, k=5)[:1] != hour[:1]


def test_top_terms_on_a_fresh_desk_are_the_most_frequent_words():
    book = TrendBook()
    book.extend(burst(NOW, 5, "water", timedelta(minutes=5)))
    book.add(Observation(NOW, text="een overstroming en modder modder"))
    top = book.top_terms(NOW, HOUR, k=3)
    assert [t.term for t in top] == ["overstroming", "beek", "vlm"]  # ties: alphabetical
    assert top[0].count == 6  # each word once per mention


def test_words_are_folded_without_links_handles_numbers_and_stop_words():
    text = "Bekijk https://x.be/a?b=1 @VLM_be de Mestbank-regels op www.vlm.be! #Overstroming 2024 één ok"
    assert terms(text) == ["bekijk", "mestbank", "regels", "overstroming"]
    assert terms("The flooding in Brugge, the flooding again") == ["flooding", "brugge"]
    assert terms("") == []


# --- sparklines ------------------------------------------------------------------------------


def test_sparkline_empty_flat_varied_and_width():
    assert sparkline([]) == ""
    assert sparkline([], width=4) == "    "
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([5, 5, 5, 5]) == "████"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 1, 100]) == "▁▂█"  # a quiet slot is not an empty one
    assert sparkline([1, 2], top=8) == "▂▃"
    assert sparkline([3, 1], width=5) == "   █▃"  # newest at the right edge
    folded = sparkline(list(range(16)) + [40] + [0] * 7, width=8)
    assert len(folded) == 8 and "█" in folded  # the peak survives the folding
    assert sparkline([1, 2, 3], width=0) == ""
    assert sparkline([float("nan"), -3, 2]) == "▁▁█"


# --- the book itself -------------------------------------------------------------------------


def test_the_same_mention_is_counted_once():
    book = TrendBook()
    obs = Observation(NOW, ("mest",), (), False, "mest", id="abc")
    assert book.add(obs) and not book.add(obs)
    assert len(book) == 1
    with pytest.raises(ValueError):
        book.add(Observation(datetime(2026, 1, 1), id="naive"))


def test_prune_forgets_what_the_baseline_no_longer_needs():
    book = TrendBook.of(regular(NOW - 12 * DAY, NOW), since=NOW - 12 * DAY)
    before = {c.subject: c for c in book.counts(NOW, DAY)}
    top_before = book.top_terms(NOW, DAY)
    assert book.prune(NOW) > 0 and book.prune(NOW) == 0
    assert len(book) < 9 * 288 * 3 + 100
    after = {c.subject: c for c in book.counts(NOW, DAY)}
    assert after == before
    assert book.top_terms(NOW, DAY) == top_before


def test_params_from_config():
    params = TrendParams.from_config({"window": "1h", "k": 5, "min_count": 6, "baseline_days": 14})
    assert params.window == HOUR and params.k == 5.0 and params.min_count == 6
    assert params.baseline_days == 14
    for bad in ({"windw": "1h"}, {"window": "7m"}, {"min_count": "many"}, {"baseline_days": 0}):
        with pytest.raises(ValueError):
            TrendParams.from_config(bad)


def test_a_spike_reads_as_a_sentence_in_both_languages():
    book = TrendBook(since=NOW - 8 * DAY)
    book.extend(regular(NOW - 8 * DAY, NOW - timedelta(minutes=30)))
    book.extend(burst(NOW, 30, "water", timedelta(minutes=10)))
    spikes = book.spikes(NOW)
    volume = next(s for s in spikes if s.subject == (THEME, "water") and s.what == VOLUME)
    assert volume.text("nl").startswith("Piek bij thema water: ")
    assert "normaal ongeveer 5" in volume.text("nl")  # 25 minutes: the last 5 have not begun
    assert volume.text("en").startswith("Spike in theme water: ")
    negative = next(s for s in spikes if s.what == NEGATIVE and s.subject == (THEME, "water"))
    assert "van" in negative.text("nl") and "%" in negative.text("en")
    assert banner([], "nl") == ""
    assert banner(spikes, "en").startswith("Possible crisis — ")


def test_fast_enough_to_recompute_on_every_poll():
    rng = random.Random(9)
    start = NOW - 8 * DAY
    observations = list(traffic(rng, start, NOW, per_5min=5.0))  # about 11,500
    began = time.perf_counter()
    book = TrendBook.of(observations, since=start)
    book.spikes(NOW)
    book.counts(NOW, HOUR)
    book.counts(NOW, DAY)
    book.series(NOW, DAY)
    book.top_terms(NOW, DAY)
    assert time.perf_counter() - began < 5.0  # a sanity bound: the benchmark has the figures


def test_sums_kept_up_to_date_poll_by_poll_match_a_fresh_count():
    rng = random.Random(10)
    start = NOW - 2 * DAY
    observations = list(traffic(rng, start, NOW, per_5min=2.0))
    observations += list(burst(NOW - 3 * HOUR, 12, "mest", timedelta(minutes=20), "modder"))
    live = TrendBook(since=start)
    for now in polled(live, observations, NOW - 5 * HOUR, NOW, timedelta(minutes=35)):
        live.prune(now)
        fresh = TrendBook.of([o for o in observations if o.at <= now], since=start)
        for span in (HOUR, DAY):
            assert live.top_terms(now, span, k=5) == fresh.top_terms(now, span, k=5)
            assert live.counts(now, span) == fresh.counts(now, span)  # hour sums kept right
            assert live.series(now, span) == fresh.series(now, span)
        assert live.spikes(now) == fresh.spikes(now)
