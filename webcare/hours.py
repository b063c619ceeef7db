"""Weekly opening hours: "mon-fri 08:00-17:00; sat 10:00-12:00" or "24/7".

Used for the office-hours clock of a norm and (later) for when an expert can be reached.
All arithmetic is done on wall-clock times in the desk's timezone, so a window stays
08:00-17:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening windows per weekday (0 = Monday); `always` means 24/7."""

    windows: tuple[tuple[tuple[time, time], ...], ...]
    always: bool = False

    @classmethod
    def parse(cls, spec: str) -> WeeklyHours:
        """Parse a spec; raises ValueError with what is wrong."""
        text = spec.strip().lower()
        if text in ("24/7", "always"):
            return cls(windows=((),) * 7, always=True)
        days: list[list[tuple[time, time]]] = [[] for _ in range(7)]
        for part in filter(None, (p.strip() for p in re.split(r"[;,]", text))):
            m = _PART.match(part)
            if not m:
                raise ValueError(f"{part!r} is not like 'mon-fri 08:00-17:00'")
            d1, d2 = m["d1"], m["d2"] or m["d1"]
            if d1 not in DAYS or d2 not in DAYS:
                raise ValueError(f"{part!r}: days are {', '.join(DAYS)}")
            start = _time(m["h1"], m["m1"], part)
            end = _time(m["h2"], m["m2"], part, allow_24=True)
            if end <= start and end != time(0):
                raise ValueError(f"{part!r}: the window ends before it starts")
            i, j = DAYS.index(d1), DAYS.index(d2)
            for k in range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]:
                days[k].append((start, end))
        if not any(days):
            raise ValueError(f"{spec!r} names no opening window")
        return cls(windows=tuple(tuple(sorted(d)) for d in days))

    def is_open(self, moment: datetime, tz: tzinfo) -> bool:
        """Whether `moment` falls inside a window."""
        if self.always:
            return True
        local = moment.astimezone(tz)
        for start, end in self._day(local.date(), tz):
            if start <= local < end:
                return True
        return False

    def next_window(self, moment: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
        """The window containing `moment`, else the next one (within two weeks), as aware times."""
        if self.always:
            return moment, moment + timedelta(days=3650)
        local = moment.astimezone(tz)
        for offset in range(15):
            for start, end in self._day(local.date() + timedelta(days=offset), tz):
                if end > local:
                    return max(start, local), end
        return None

    def add(self, start: datetime, duration: timedelta, tz: tzinfo) -> datetime:
        """`start` plus `duration` counted inside the windows only."""
        if self.always:
            return start + duration
        remaining = duration
        cursor = start
        while True:
            window = self.next_window(cursor, tz)
            if window is None:  # parse() forbids this; keep the clock running rather than hang
                return cursor + remaining
            w_start, w_end = window
            available = w_end - w_start
            if remaining <= available:
                return (w_start + remaining).astimezone(start.tzinfo)
            remaining -= available
            cursor = w_end

    def _day(self, day: date, tz: tzinfo) -> list[tuple[datetime, datetime]]:
        out = []
        for start, end in self.windows[day.weekday()]:
            s = datetime.combine(day, start, tzinfo=tz)
            e = datetime.combine(day + timedelta(days=1) if end == time(0) else day, end, tzinfo=tz)
            out.append((s, e))
        return out


def _time(hour: str, minute: str, part: str, allow_24: bool = False) -> time:
    h, m = int(hour), int(minute)
    if allow_24 and h == 24 and m == 0:
        return time(0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"{part!r}: {hour}:{minute} is not a time of day")
    return time(h, m)
