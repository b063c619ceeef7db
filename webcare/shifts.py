"""Shifts: when the person on duty started, for the handover's "since".

    [shifts]                              # name = "DAYS HH:MM-HH:MM" (one or more, ";")
    day = "mon-fri 08:00-17:00"
    evening = "mon-fri 17:00-23:00"
    night = "mon-fri 23:00-08:00"         # ends before it starts: runs past midnight
    weekend = "fri 23:00-mon 08:00"       # DAY HH:MM-DAY HH:MM: one shift over several days

DAYS is a day (mon … sun, or ma … zo), a range (mon-fri, fri-mon wraps), a list (sat,sun) or
daily. A shift's days are the days it *starts* on. `shift_start(shifts, now, tz)` is the start
of the shift on duty at `now` (the latest start when two overlap, e.g. a handover half hour);
between shifts, the start of the latest shift that began. Wall-clock times in the desk's
timezone, so an 08:00 shift starts at 08:00 across the daylight-saving changes.

Apart from webcare/handover.py so that reading the config does not import the handover and
the report it renders with (the desk's start-up pays for every import).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS_NL = ("ma", "di", "wo", "do", "vr", "za", "zo")
_PART = re.compile(
    r"^(?P<days>[a-z][a-z,\- ]*?)\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*"
    r"(?:(?P<d2>[a-z]{2,3})\s+)?(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


@dataclass(frozen=True, slots=True)
class Window:
    """One start of a shift: weekday (0 = Monday) and time; it ends `days` later at `end`."""

    weekday: int
    start: time
    days: int  # 0: the same day, 1: the next day, …
    end: time


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    name: str
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class Shift:
    """One occurrence of a shift: its name and its (aware, UTC) start and end."""

    name: str
    start: datetime
    end: datetime


def _day(text: str, where: str) -> int:
    key = text.strip()
    if key in DAYS:
        return DAYS.index(key)
    if key in DAYS_NL:
        return DAYS_NL.index(key)
    raise ValueError(f"{where}: {text!r} is not a day (mon … sun, or ma … zo)")


def _days(text: str, where: str) -> list[int]:
    text = text.strip()
    if text in ("daily", "dagelijks", "mon-sun", "ma-zo"):
        return list(range(7))
    out: list[int] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        if "-" in item:
            a, b = (_day(p, where) for p in item.split("-", 1))
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            out += [d for d in span if d not in out]
        elif (d := _day(item, where)) not in out:
            out.append(d)
    if not out:
        raise ValueError(f"{where}: no days")
    return out


def _clock(hour: str, minute: str, where: str, allow_24: bool = False) -> time | None:
    """A time of day; None for 24:00 (midnight at the end of the day) when allowed."""
    h, m = int(hour), int(minute)
    if allow_24 and h == 24 and m == 0:
        return None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"{where}: {hour}:{minute} is not a time of day")
    return time(h, m)


def parse_shift(name: str, spec: str) -> ShiftSpec:
    """One [shifts] entry: 'mon-fri 08:00-17:00', 'mon-fri 23:00-07:00' (past midnight),
    'fri 17:00-mon 08:00' (over days), several joined with ';'. ValueError names the entry."""
    where = f"[shifts] {name}"
    if not isinstance(name, str) or not name.strip():
        raise ValueError("[shifts]: a shift needs a name")
    if not isinstance(spec, str):
        raise ValueError(f"{where}: must be a text like 'mon-fri 08:00-17:00'")
    windows: list[Window] = []
    for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
        at = f"{where}: {part!r}"
        m = _PART.match(part)
        if not m:
            raise ValueError(f"{at} is not like 'mon-fri 08:00-17:00' or 'fri 17:00-mon 08:00'")
        start = _clock(m["h1"], m["m1"], at)
        end = _clock(m["h2"], m["m2"], at, allow_24=True)
        assert start is not None
        if m["d2"]:
            first = _days(m["days"], at)
            if len(first) != 1:
                raise ValueError(
                    f"{at}: a shift over several days starts on one day ('fri 17:00-mon 08:00')"
                )
            days = (_day(m["d2"], at) - first[0]) % 7
            if end is None:
                days, end = days + 1, time(0)
            if days == 0 and end <= start:
                raise ValueError(f"{at}: ends before it starts")
            windows.append(Window(first[0], start, days, end))
            continue
        if end is None:
            days, end = 1, time(0)
        elif end <= start:
            days = 1  # past midnight
        else:
            days = 0
        if days == 1 and end == start:
            raise ValueError(f"{at}: a shift of 24 hours is written 'mon 08:00-tue 08:00'")
        windows += [Window(d, start, days, end) for d in _days(m["days"], at)]
    if not windows:
        raise ValueError(f"{where}: names no time ('mon-fri 08:00-17:00')")
    return ShiftSpec(name, tuple(windows))


def parse_shifts(table: Mapping[str, Any]) -> tuple[ShiftSpec, ...]:
    """The [shifts] table of config.toml; ValueError naming the bad entry."""
    if not isinstance(table, Mapping):
        raise ValueError('[shifts] must be a table of name = "mon-fri 08:00-17:00"')
    return tuple(parse_shift(name, spec) for name, spec in table.items())


def _local(day: date, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def current_shift(
    shifts: Mapping[str, Any] | Sequence[ShiftSpec], now: datetime, tz: tzinfo
) -> Shift:
    """The shift on duty at `now`: of the shifts that have begun and not ended, the one that
    began last; when none is on, the one that began last. ValueError without any shift."""
    specs = parse_shifts(shifts) if isinstance(shifts, Mapping) else tuple(shifts)
    if not specs:
        raise ValueError("[shifts]: no shifts configured")
    today = now.astimezone(tz).date()
    on: Shift | None = None
    last: Shift | None = None
    for spec in specs:
        for w in spec.windows:
            for back in range(15):
                day = today - timedelta(days=back)
                if day.weekday() != w.weekday:
                    continue
                start = _local(day, w.start, tz)
                if start > now:
                    continue
                end = _local(day + timedelta(days=w.days), w.end, tz)
                shift = Shift(spec.name, start, end)
                if now < end and (on is None or start > on.start):
                    on = shift
                if last is None or start > last.start:
                    last = shift
                break  # the latest start of this window at or before now
    if on is not None:
        return on
    assert last is not None  # every window recurs weekly: one began in the last 7 days
    return last


def shift_start(
    shifts: Mapping[str, Any] | Sequence[ShiftSpec], now: datetime, tz: tzinfo
) -> datetime:
    """When the shift on duty at `now` began (see current_shift), in UTC."""
    return current_shift(shifts, now, tz).start


def moment_since(text: str, now: datetime, tz: tzinfo) -> datetime:
    """A handover's "since" as the operator types it: HH:MM (the last such time, in the desk's
    timezone) or a date and time (2026-11-20 17:00). ValueError for anything else, or a moment
    after `now`."""
    text = text.strip()
    local = now.astimezone(tz)
    if len(text) <= 5 and ":" in text:
        hour, minute = (int(p) for p in text.split(":"))
        moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment - timedelta(days=1) if moment > local else moment
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if moment > now:
        raise ValueError(f"{text!r} is in the future")
    return moment
