"""Norms, office hours, deadlines and urgency: the 2-4-8 rules."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webcare.hours import WeeklyHours
from webcare.norms import Norm, Urgency, clock_start, parse_duration, urgency

BRU = ZoneInfo("Europe/Brussels")


@pytest.mark.parametrize(
    "text,expected",
    [("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)), ("1d", timedelta(days=1)),
     ("4 h", timedelta(hours=4)), ("none", None), ("NONE", None)],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2 hours", "0h", "-2h", "h", "2x", "1.5h"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_deadline_runs_from_publication_24_7():
    published = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    assert Norm(timedelta(hours=2)).deadline(published, BRU) == published + timedelta(hours=2)
    assert Norm(None).deadline(published, BRU) is None


def test_clock_starts_at_first_sight_when_published_is_missing_or_in_the_future():
    seen = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert clock_start(None, seen) == seen
    assert clock_start(seen + timedelta(hours=1), seen) == seen
    assert clock_start(seen - timedelta(hours=5), seen) == seen - timedelta(hours=5)


def test_first_seen_after_its_deadline_is_overdue_not_reset():
    seen = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    published = seen - timedelta(hours=3)
    deadline = Norm(timedelta(hours=2)).deadline(clock_start(published, seen), BRU)
    assert urgency(deadline, timedelta(hours=2), seen) is Urgency.OVERDUE


def test_urgency_levels():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    two = timedelta(hours=2)
    assert urgency(now + timedelta(hours=1), two, now) is Urgency.ON_TIME
    assert urgency(now + timedelta(minutes=30), two, now) is Urgency.DUE_SOON  # the last quarter
    assert urgency(now + timedelta(minutes=31), two, now) is Urgency.ON_TIME
    assert urgency(now - timedelta(seconds=1), two, now) is Urgency.OVERDUE
    assert urgency(None, None, now) is Urgency.NO_NORM


def test_office_hours_clock_skips_nights_and_weekends():
    office = WeeklyHours.parse("mon-fri 08:00-17:00")
    norm = Norm(timedelta(hours=8), office)
    # Friday 15:00 Brussels: 2 h left on Friday, 6 h more from Monday 08:00 → Monday 14:00.
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=BRU)
    assert norm.deadline(friday, BRU) == datetime(2026, 11, 30, 14, 0, tzinfo=BRU)
    # Saturday night: the clock starts Monday 08:00.
    saturday = datetime(2026, 11, 28, 23, 0, tzinfo=BRU)
    assert norm.deadline(saturday, BRU) == datetime(2026, 11, 30, 16, 0, tzinfo=BRU)


def test_office_hours_keep_wall_clock_across_dst_change():
    office = WeeklyHours.parse("mon-sun 08:00-17:00")
    # Saturday 28 March 2026 16:00; clocks go forward on Sunday 29 March.
    start = datetime(2026, 3, 28, 16, 0, tzinfo=BRU)
    deadline = Norm(timedelta(hours=2), office).deadline(start, BRU)
    assert deadline.astimezone(BRU).replace(tzinfo=None) == datetime(2026, 3, 29, 9, 0)


@pytest.mark.parametrize("spec", ["mon-fri", "mon-fri 8-17", "xyz 08:00-17:00", "mon 17:00-08:00", "mon 25:00-26:00", ""])
def test_hours_reject_bad_specs(spec):
    with pytest.raises(ValueError):
        WeeklyHours.parse(spec)


@given(
    minutes=st.integers(min_value=1, max_value=60 * 24 * 10),
    offset=st.integers(min_value=0, max_value=60 * 24 * 14),
)
def test_office_deadline_is_never_before_plain_deadline(minutes, offset):
    office = WeeklyHours.parse("mon-fri 08:00-17:00")
    start = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(minutes=offset)
    allowed = timedelta(minutes=minutes)
    deadline = Norm(allowed, office).deadline(start, BRU)
    assert deadline >= start + allowed
    assert office.is_open(deadline - timedelta(seconds=1), BRU)
