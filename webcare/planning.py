"""The content plan: items on a two-week calendar, a backlog of ideas, and what the grid shows
around them (periods, public holidays, campaigns, the balance of a period).

The guidance asks for a biweekly content calendar, so the organisation tells its own stories and
does not only react. A period is 14 days from a Monday, counted from `[calendar] cycle_start`.
Everything here works on plain dates (a day in the desk's timezone), so periods are the same
across month and year ends and the daylight-saving changes; only a timed item becomes a moment,
in the desk's timezone, when it is exported.

No I/O: the store (store/plan.py) keeps the items, the CLI reads and writes files.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from webcare.channels import normalize_channel
from webcare.mention import from_iso, stable_id, to_iso
from webcare.untrusted import clean_line, clean_text

# --- statuses ----------------------------------------------------------------------------

IDEA, DRAFT, PLANNED, PUBLISHED, HELD = "idea", "draft", "planned", "published", "held"
STATUSES: tuple[str, ...] = (IDEA, DRAFT, PLANNED, PUBLISHED, HELD)
CYCLE: tuple[str, ...] = (IDEA, DRAFT, PLANNED, PUBLISHED)  # what space walks through
HOLDABLE = frozenset({DRAFT, PLANNED})  # could still go out today: a crisis hold stops them

STATUS_WORDS: dict[str, dict[str, str]] = {
    IDEA: {"nl": "idee", "en": "idea"},
    DRAFT: {"nl": "concept", "en": "draft"},
    PLANNED: {"nl": "gepland", "en": "planned"},
    PUBLISHED: {"nl": "gepubliceerd", "en": "published"},
    HELD: {"nl": "opgeschort", "en": "held"},
}

# What people write in a spreadsheet's status column (Dutch or English).
STATUS_ALIASES: dict[str, str] = {
    **{s: s for s in STATUSES},
    **{w["nl"]: s for s, w in STATUS_WORDS.items()},
    "ontwerp": DRAFT,
    "tegengehouden": HELD,  # the desk's word for it before "opgeschort"
    "klad": DRAFT,
    "gepost": PUBLISHED,
    "posted": PUBLISHED,
    "on hold": HELD,
    "vastgehouden": HELD,
}


def status_word(status: str, language: str) -> str:
    entry = STATUS_WORDS.get(status)
    return status if entry is None else entry.get(language, entry["en"])


def next_status(status: str) -> str:
    """The status after `status` when space is pressed: idea → draft → planned → published →
    idea. A held item stays held: it is released with the crisis hold, or edited."""
    if status == HELD:
        return HELD
    if status not in CYCLE:
        raise ValueError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
    return CYCLE[(CYCLE.index(status) + 1) % len(CYCLE)]


def parse_status(text: str) -> str:
    """A status as written by a person ('Gepland', 'planned'); ValueError if unknown."""
    key = " ".join(text.strip().lower().split())
    if key not in STATUS_ALIASES:
        raise ValueError(f"{text!r} is not a status (one of {', '.join(STATUSES)})")
    return STATUS_ALIASES[key]


# --- dates, times and channels as text -----------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_date(value: object) -> dt.date:
    """A date from a date or 'YYYY-MM-DD'; ValueError naming the value otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{str(value)!r} is not a date (YYYY-MM-DD)")


def parse_time(value: object) -> dt.time:
    """A time of day from a time or 'HH:MM' (also '9:30', '09.30'); ValueError otherwise."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    m = _TIME.match(str(value).strip())
    if m and int(m[1]) < 24 and int(m[2]) < 60:
        return dt.time(int(m[1]), int(m[2]))
    raise ValueError(f"{str(value)!r} is not a time (HH:MM)")


def parse_channels(value: str | Iterable[str]) -> tuple[str, ...]:
    """Channels from 'x, facebook' / 'x;fb' or a list: canonical names, each once, in order.
    ValueError names the unknown channel."""
    parts = re.split(r"[,;]", value) if isinstance(value, str) else list(value)
    out: list[str] = []
    for part in parts:
        if not str(part).strip():
            continue
        channel = normalize_channel(str(part))
        if channel not in out:
            out.append(channel)
    return tuple(out)


def new_id() -> str:
    """A plan item's id: random, so it never changes when the item is edited or moved."""
    return uuid.uuid4().hex[:16]


# --- the plan item -----------------------------------------------------------------------

EDITABLE = ("date", "time", "channels", "theme", "title", "text", "status", "owner", "held_from")


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One item of the content plan: a post on a day, or (date None) an idea in the backlog.

    `time` is a time of day in the desk's timezone (None: some time that day). `held_from` is the
    status a held item returns to when the hold is released."""

    id: str
    title: str
    date: dt.date | None = None
    time: dt.time | None = None
    channels: tuple[str, ...] = ()
    theme: str = ""
    text: str = ""
    status: str = IDEA
    owner: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    updated_at: dt.datetime | None = None
    held_from: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "title", clean_line(self.title))
        if not self.title:
            raise ValueError("title: empty (every item needs a title)")
        set_(self, "theme", clean_line(self.theme).lower())
        set_(self, "text", clean_text(self.text))
        set_(self, "owner", clean_line(self.owner))
        set_(self, "channels", parse_channels(self.channels))
        if self.date is not None:
            set_(self, "date", parse_date(self.date))
        if self.time is not None:
            set_(self, "time", parse_time(self.time))
        if self.status not in STATUSES:
            raise ValueError(f"status: {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.held_from is not None and self.held_from not in CYCLE:
            raise ValueError(f"held_from: {self.held_from!r} is not one of {', '.join(CYCLE)}")
        if self.status != HELD and self.held_from is not None:
            set_(self, "held_from", None)
        if self.updated_at is None:
            set_(self, "updated_at", self.created_at)

    @classmethod
    def new(
        cls,
        title: str,
        *,
        date: dt.date | None = None,
        time: dt.time | None = None,
        channels: str | Iterable[str] = (),
        theme: str = "",
        text: str = "",
        status: str | None = None,
        owner: str = "",
        now: dt.datetime | None = None,
        id: str | None = None,
    ) -> PlanItem:
        """A new item with a fresh id (unless given); status defaults to idea (backlog) or
        draft (on a day)."""
        now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        return cls(
            id=id or new_id(),
            title=title,
            date=date,
            time=time,
            channels=parse_channels(channels),
            theme=theme,
            text=text,
            status=status or (IDEA if date is None else DRAFT),
            owner=owner,
            created_at=now,
            updated_at=now,
        )

    @property
    def backlog(self) -> bool:
        return self.date is None

    def with_changes(self, changes: Mapping[str, Any], at: dt.datetime | None = None) -> PlanItem:
        """This item with `changes` ({field: value}; dates and times as objects or text) and
        updated_at set; ValueError for an unknown field or a bad value."""
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a field that can change (fields: {', '.join(EDITABLE)})")
        values = dict(changes)
        for key in ("date", "time"):
            if values.get(key) == "":
                values[key] = None
        at = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        return dataclasses.replace(self, **values, updated_at=at)

    def moved_to(self, day: dt.date | None, at: dt.datetime | None = None) -> PlanItem:
        """On another day (None: back to the backlog)."""
        return self.with_changes({"date": day}, at)

    # --- records: what the store writes and the export shows -----------------------------

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": None if self.date is None else self.date.isoformat(),
            "time": None if self.time is None else self.time.strftime("%H:%M"),
            "channels": list(self.channels),
            "theme": self.theme,
            "title": self.title,
            "text": self.text,
            "status": self.status,
            "owner": self.owner,
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "held_from": self.held_from,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PlanItem:
        return cls(
            id=record["id"],
            title=record["title"],
            date=None if not record.get("date") else parse_date(record["date"]),
            time=None if not record.get("time") else parse_time(record["time"]),
            channels=tuple(record.get("channels") or ()),
            theme=record.get("theme") or "",
            text=record.get("text") or "",
            status=record.get("status") or IDEA,
            owner=record.get("owner") or "",
            created_at=from_iso(record["created_at"]),  # type: ignore[arg-type]
            updated_at=from_iso(record.get("updated_at")),
            held_from=record.get("held_from"),
        )


def sort_key(item: PlanItem) -> tuple[bool, dt.date, bool, dt.time, dt.datetime, str, str]:
    """Dated items by day, all-day ones first, then by time; the backlog after, oldest first."""
    return (
        item.date is None,
        item.date or dt.date.max,
        item.time is not None,
        item.time or dt.time.min,
        item.created_at if item.date is None else dt.datetime.min.replace(tzinfo=dt.UTC),
        item.title.casefold(),
        item.id,
    )


def on_day(items: Iterable[PlanItem], day: dt.date) -> list[PlanItem]:
    """The items of one day, in the order the grid lists them."""
    return sorted((i for i in items if i.date == day), key=sort_key)


def backlog(items: Iterable[PlanItem]) -> list[PlanItem]:
    """The ideas without a day, oldest first."""
    return sorted((i for i in items if i.date is None), key=sort_key)


# --- periods -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """Fourteen days from a Monday: the content calendar's unit."""

    LENGTH: ClassVar[int] = 14
    start: dt.date

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise ValueError(f"a period starts on a Monday, not on {self.start:%A} {self.start}")

    @property
    def end(self) -> dt.date:
        """The last day (a Sunday), inclusive."""
        return self.start + dt.timedelta(days=self.LENGTH - 1)

    @property
    def days(self) -> tuple[dt.date, ...]:
        return tuple(self.start + dt.timedelta(days=n) for n in range(self.LENGTH))

    @property
    def weeks(self) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
        days = self.days
        return days[:7], days[7:]

    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=self.LENGTH))

    def next(self) -> Period:
        return Period(self.start + dt.timedelta(days=self.LENGTH))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def period_of(day: dt.date, cycle_start: dt.date) -> Period:
    """The period holding `day`, periods being 14 days from `cycle_start` (a Monday), both ways:
    a day before the cycle start lies in an earlier period of the same rhythm."""
    if cycle_start.weekday() != 0:
        raise ValueError(f"cycle_start {cycle_start} is a {cycle_start:%A}, not a Monday")
    if isinstance(day, dt.datetime):
        day = day.date()
    offset = (day - cycle_start).days // Period.LENGTH  # floor: negative before the start
    return Period(cycle_start + dt.timedelta(days=offset * Period.LENGTH))


# --- campaigns and calendar settings -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign or theme week, shown as a band over its days ([[calendar.campaigns]])."""

    name: str
    start: dt.date  # `from` in config.toml
    until: dt.date  # inclusive
    theme: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.until

    def overlaps(self, period: Period) -> bool:
        return self.start <= period.end and self.until >= period.start

    def days_in(self, period: Period) -> tuple[dt.date, ...]:
        """The days of `period` this campaign covers."""
        return tuple(d for d in period.days if self.covers(d))


def campaigns_in(period: Period, campaigns: Iterable[Campaign]) -> list[Campaign]:
    """The campaigns with at least one day in `period`, by start date then name."""
    return sorted((c for c in campaigns if c.overlaps(period)), key=lambda c: (c.start, c.until, c.name))


DEFAULT_CYCLE_START = dt.date(2026, 1, 5)  # a Monday; any Monday gives a valid rhythm
# The channels a government organisation typically publishes on, when [calendar] is silent.
DEFAULT_PLAN_CHANNELS: tuple[str, ...] = ("x", "facebook", "instagram", "linkedin")


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """[calendar] in config.toml: where the two-week rhythm starts, whose public holidays the
    grid shows ("" for none), the campaigns, and the channels the team publishes on (the
    balance names those not used in a period)."""

    cycle_start: dt.date = DEFAULT_CYCLE_START
    holidays: str = ""
    campaigns: tuple[Campaign, ...] = ()
    channels: tuple[str, ...] = DEFAULT_PLAN_CHANNELS

    def period_of(self, day: dt.date) -> Period:
        return period_of(day, self.cycle_start)


# --- public holidays -----------------------------------------------------------------------


def holiday_country(code: str) -> str:
    """`code` upper-cased if the holidays library knows the country ('be' → 'BE'), "" for none;
    ValueError otherwise."""
    code = code.strip().upper()
    if not code:
        return ""
    try:  # imported only when a country is configured
        from holidays.registry import EntityLoader

        codes = set(EntityLoader.get_country_codes(include_aliases=True))  # no class is loaded
    except (ImportError, AttributeError):  # an older holidays
        import holidays

        codes = set(holidays.list_supported_countries())
    if code not in codes:
        raise ValueError(f"{code!r} is not a country the holidays library knows (like 'BE', 'NL', 'DE')")
    return code


@lru_cache(maxsize=32)
def _holidays(country: str, language: str, years: tuple[int, ...]) -> dict[dt.date, str]:
    import holidays

    entity = holidays.country_holidays(country)
    supported = entity.supported_languages or ()
    # "en" is "en_US" there. Without a language the library follows the locale ($LANG), so a
    # language the country lacks is replaced by the country's own, the same on every machine.
    match = [s for s in supported if s == language or s.startswith(f"{language}_")]
    chosen = match[0] if match else entity.default_language
    return dict(holidays.country_holidays(country, years=years, language=chosen))


def holidays_in(period: Period, country: str, language: str = "nl") -> dict[dt.date, str]:
    """The public holidays of `country` in `period` ({day: name}, by day); {} for country "".
    Names are in `language` where the library offers it (Dutch for BE and NL), else in the
    country's default language in the library (German for DE), whatever the locale."""
    if not country:
        return {}
    years = tuple(sorted({period.start.year, period.end.year}))
    table = _holidays(country.upper(), language, years)
    return {d: table[d] for d in period.days if d in table}


# --- balance -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    """How a period's plan is spread: items per channel and per theme (most first), the days
    with nothing on them and the configured channels not used. Every item dated in the period
    counts, whatever its status."""

    total: int
    per_channel: dict[str, int]
    per_theme: dict[str, int]
    empty_days: tuple[dt.date, ...]
    unused_channels: tuple[str, ...]
    without_channel: int = 0
    without_theme: int = 0


def balance(items: Iterable[PlanItem], period: Period, channels_configured: Iterable[str]) -> Balance:
    inside = [i for i in items if i.date is not None and i.date in period]
    channels = Counter(c for i in inside for c in i.channels)
    themes = Counter(i.theme for i in inside if i.theme)
    used_days = {i.date for i in inside}
    configured = list(dict.fromkeys(channels_configured))
    return Balance(
        total=len(inside),
        per_channel=dict(sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))),
        per_theme=dict(sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))),
        empty_days=tuple(d for d in period.days if d not in used_days),
        unused_channels=tuple(c for c in configured if c not in channels),
        without_channel=sum(1 for i in inside if not i.channels),
        without_theme=sum(1 for i in inside if not i.theme),
    )


# --- today, and the crisis hold --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Today:
    """What the stream's header shows: items on today's plan (all but ideas), the time of the
    next planned one still to come, and how many are held."""

    count: int
    next_time: dt.time | None
    held: int


def today_plan(items: Iterable[PlanItem], now_local: dt.datetime) -> Today:
    """`now_local`: now in the desk's timezone."""
    day, now = now_local.date(), now_local.time().replace(second=0, microsecond=0, tzinfo=None)
    todays = [i for i in items if i.date == day and i.status != IDEA]
    upcoming = sorted(i.time for i in todays if i.status == PLANNED and i.time is not None and i.time >= now)
    return Today(len(todays), upcoming[0] if upcoming else None, sum(1 for i in todays if i.status == HELD))


Changes = tuple[str, dict[str, Any]]  # (item id, {field: new value}) for PlanStore.update_many


def _today_and_tomorrow(today: dt.date) -> tuple[dt.date, dt.date]:
    return today, today + dt.timedelta(days=1)


def hold_today_and_tomorrow(items: Iterable[PlanItem], today: dt.date) -> list[Changes]:
    """In a crisis: hold every item of today and tomorrow that could still go out (planned or
    draft), remembering its status so the release puts it back."""
    days = _today_and_tomorrow(today)
    return [
        (i.id, {"status": HELD, "held_from": i.status})
        for i in sorted(items, key=sort_key)
        if i.date in days and i.status in HOLDABLE
    ]


def release_held(items: Iterable[PlanItem], today: dt.date) -> list[Changes]:
    """The counterpart: every item a hold stopped (it has `held_from`) dated today or later goes
    back to its status. One whose day passed while held stays held, to be moved by hand."""
    return [
        (i.id, {"status": i.held_from, "held_from": None})
        for i in sorted(items, key=sort_key)
        if i.status == HELD and i.held_from and i.date is not None and i.date >= today
    ]


def is_holding(items: Iterable[PlanItem], today: dt.date) -> bool:
    """Whether a hold is on for today or tomorrow (the hold key then releases)."""
    days = _today_and_tomorrow(today)
    return any(i.status == HELD and i.held_from and i.date in days for i in items)


# --- import and export -----------------------------------------------------------------------

CSV_COLUMNS = ("date", "time", "channels", "theme", "title", "text", "status", "owner")


class PlanImportError(ValueError):
    """A plan file that cannot be imported; `errors` names every bad row and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_plan_csv(text: str, *, owner: str = "", now: dt.datetime | None = None) -> list[PlanItem]:
    """The items of a CSV plan (a header row naming columns of CSV_COLUMNS; title required).
    Comma- or semicolon-separated (as a Belgian Excel saves it); channels within a cell
    separated by commas or semicolons. An empty date puts the item in the backlog; an empty
    status is idea (no date) or draft; an empty owner is `owner`. An item's id is derived from
    its row, so a file imported twice gives the same ids (PlanStore.add_many skips them).

    All or nothing: any bad row raises PlanImportError listing every bad row by its row number
    (the header is row 1, as a spreadsheet counts) and field."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise PlanImportError(["row 1: the header row is missing (columns: " + ", ".join(CSV_COLUMNS) + ")"])
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
        header_errors = []
        for h in header:
            if h and h not in CSV_COLUMNS:
                header_errors.append(f"row 1: {h!r}: unknown column (columns: {', '.join(CSV_COLUMNS)})")
        for h in {h for h in header if header.count(h) > 1 and h}:
            header_errors.append(f"row 1: {h!r}: the column appears twice")
        if "title" not in header:
            header_errors.append("row 1: title: the column is missing (every item needs a title)")
        if header_errors:
            raise PlanImportError(header_errors)

        items: list[PlanItem] = []
        errors: list[str] = []
        seen: Counter[tuple[str, ...]] = Counter()
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
                errors.append(f"row {number}: {len(row)} cells, but the header names {len(header)} columns")
                continue
            cells = {h: (row[n].strip() if n < len(row) else "") for n, h in enumerate(header) if h}
            # The id comes from the row, so importing the same file again adds nothing twice.
            content = tuple(cells.get(k, "") for k in CSV_COLUMNS)
            seen[content] += 1
            item_id = stable_id("plan-csv", *content, str(seen[content]))
            item, row_errors = _item_from_row(cells, owner, now, item_id)
            errors += [f"row {number}: {e}" for e in row_errors]
            if item is not None:
                items.append(item)
    except csv.Error as exc:
        raise PlanImportError([f"row {reader.line_num}: not valid CSV ({exc})"]) from None
    if errors:
        raise PlanImportError(errors)
    return items


def _item_from_row(cells: dict[str, str], owner: str, now: dt.datetime, item_id: str) -> tuple[PlanItem | None, list[str]]:
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, parse in (("date", parse_date), ("time", parse_time), ("channels", parse_channels), ("status", parse_status)):
        raw = cells.get(key, "")
        if raw:
            try:
                values[key] = parse(raw)
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
    title = clean_line(cells.get("title", ""))
    if not title:
        errors.append("title: empty (every item needs a title)")
    if errors:
        return None, errors
    status = values.get("status") or (IDEA if values.get("date") is None else DRAFT)
    try:
        item = PlanItem.new(
            title,
            date=values.get("date"),
            time=values.get("time"),
            channels=values.get("channels", ()),
            theme=cells.get("theme", ""),
            text=cells.get("text", ""),
            status=status,
            owner=cells.get("owner") or owner,
            now=now,
            id=item_id,
        )
    except ValueError as exc:
        return None, [str(exc)]
    return item, []


def csv_row(item: PlanItem) -> dict[str, str]:
    """One item as a row of CSV_COLUMNS: what parse_plan_csv reads back."""
    record = item.to_record()
    return {
        **{k: record[k] or "" for k in CSV_COLUMNS if k != "channels"},
        "channels": ", ".join(item.channels),
    }


_ICS_LABELS = {
    "channels": {"nl": "Kanalen", "en": "Channels"},
    "status": {"nl": "Status", "en": "Status"},
    "owner": {"nl": "Eigenaar", "en": "Owner"},
    "plan": {"nl": "contentplan", "en": "content plan"},
}
TIMED_MINUTES = 30  # how long a timed item lasts in a calendar


def plan_to_ics(items: Iterable[PlanItem], timezone: dt.tzinfo, *, name: str = "webcare", language: str = "nl") -> bytes:
    """The dated items as an iCalendar file (RFC 5545) that Outlook and other calendars open:
    one VEVENT per item, all-day when it has no time, else TIMED_MINUTES long at its time in
    `timezone` (a zoneinfo zone, written as TZID with its VTIMEZONE). The UID is the item's id,
    so importing again updates the events instead of doubling them."""
    import icalendar  # only the export needs it

    def label(key: str) -> str:
        return _ICS_LABELS[key].get(language, _ICS_LABELS[key]["en"])

    cal = icalendar.Calendar()
    cal.add("prodid", "-//webcare//content plan//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{name} — {label('plan')}")
    tz_name = getattr(timezone, "key", None)
    if tz_name:
        cal.add("x-wr-timezone", tz_name)
    dated = sorted((i for i in items if i.date is not None), key=sort_key)
    timed_days = []
    for item in dated:
        assert item.date is not None
        event = icalendar.Event()
        event.add("uid", f"{item.id}@webcare")
        event.add("dtstamp", item.updated_at)  # last revised (no METHOD): stable across exports
        event.add("created", item.created_at)
        event.add("last-modified", item.updated_at)
        event.add("summary", item.title)
        if item.time is None:
            event.add("dtstart", item.date)
            event.add("dtend", item.date + dt.timedelta(days=1))
        else:
            start = dt.datetime.combine(item.date, item.time, tzinfo=timezone)
            event.add("dtstart", start)
            event.add("dtend", start + dt.timedelta(minutes=TIMED_MINUTES))
            timed_days.append(item.date)
        lines = [item.text] if item.text else []
        details = [
            f"{label('channels')}: {', '.join(item.channels) or '—'}",
            f"{label('status')}: {status_word(item.status, language)}",
        ]
        if item.owner:
            details.append(f"{label('owner')}: {item.owner}")
        event.add("description", "\n\n".join([*lines, "\n".join(details)]))
        if item.theme:
            event.add("categories", [item.theme])
        event.add("status", "CONFIRMED" if item.status in (PLANNED, PUBLISHED) else "TENTATIVE")
        event.add("transp", "TRANSPARENT")  # a post does not make anyone busy
        cal.add_component(event)
    if timed_days:
        cal.add_missing_timezones(
            first_date=min(timed_days) - dt.timedelta(days=366), last_date=max(timed_days) + dt.timedelta(days=366)
        )
    ics: bytes = cal.to_ical()  # icalendar leaves to_ical's return unannotated
    return ics
