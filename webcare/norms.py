"""The response norms (2-4-8) and the deadline and urgency of a mention.

A norm is a duration per channel ("2h" on X, "4h" on Facebook, "8h" for e-mail) or none
(monitor only). Its clock runs 24/7 or in office hours only, per channel.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from webcare.hours import WeeklyHours

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|u|d)\s*$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "u": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta | None:
    """'2h', '90m', '1d' → timedelta; 'none' → None. Raises ValueError otherwise."""
    if text.strip().lower() in ("none", "off", "-", ""):
        return None
    m = _DURATION.match(text)
    if not m or int(m[1]) == 0:
        raise ValueError(f"{text!r} is not a duration like '2h', '90m', '1d' or 'none'")
    return timedelta(seconds=int(m[1]) * _UNITS[m[2].lower()])


class Urgency(enum.IntEnum):
    """How urgent a mention is now; lower sorts first."""

    OVERDUE = 0
    DUE_SOON = 1
    ON_TIME = 2
    NO_NORM = 3


@dataclass(frozen=True, slots=True)
class Norm:
    """The time allowed to answer on one channel, and the clock it runs on."""

    allowed: timedelta | None
    office_hours: WeeklyHours | None = None  # None: the clock runs 24/7

    def deadline(self, start: datetime, tz: ZoneInfo) -> datetime | None:
        if self.allowed is None:
            return None
        if self.office_hours is None:
            return start + self.allowed
        return self.office_hours.add(start, self.allowed, tz)


def clock_start(published_at: datetime | None, first_seen_at: datetime) -> datetime:
    """When the clock starts: publication, unless unknown or in the future (bad clocks)."""
    if published_at is None or published_at > first_seen_at:
        return first_seen_at
    return published_at


def urgency(deadline: datetime | None, allowed: timedelta | None, now: datetime) -> Urgency:
    """On time, due soon (the last quarter of the norm), overdue, or no norm."""
    if deadline is None or allowed is None:
        return Urgency.NO_NORM
    left = deadline - now
    if left < timedelta(0):
        return Urgency.OVERDUE
    if left <= allowed / 4:
        return Urgency.DUE_SOON
    return Urgency.ON_TIME
