"""Routing questions to the organisation's own people: the expert directory, who can be reached
now, and the hand-off message.

The directory is read from config.toml:

    [[experts]]
    name = "An Peeters"
    unit = "Mestbank"
    topics = ["mest", "bemesting", "mestbank"]   # matched case- and accent-insensitively
    email = "an.peeters@example.org"
    phone = "+32 2 000 00 00"                     # optional
    hours = "mon-fri 08:00-17:00"                 # when the expert can be reached (default mon-fri 09:00-17:00)
    languages = ["nl", "en"]                      # default ["nl"]
    deputy = "Bart Claes"                         # another expert, suggested when An is late
    answer_within = "1d"                          # the expert's answer norm (default 1d)
    roles = ["spokesperson"]                      # spokesperson | crisis
    alert = "ntfy://ntfy.example.org/an-peeters"  # optional: an Apprise URL, for [[alerts]] to = "oncall"

    [[units]]                                     # feedback mailboxes: no answer expected
    name = "Klantendienst Mestbank"
    email = "mestbank@example.org"
    topics = ["mestbank", "factuur"]

    [[oncall]]                                    # who is on call in the evening and weekend
    expert = "Bart Claes"
    hours = "sat-sun 00:00-24:00"                 # weekly …
    # from = "2026-12-24 17:00"                   # … or once, in the desk's timezone
    # until = "2026-12-27 08:00"

Nothing here does I/O; times come in as aware datetimes and are shown in the desk's timezone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from webcare.hours import WeeklyHours
from webcare.i18n import countdown, when
from webcare.known import refuse_unknown
from webcare.mention import Mention
from webcare.norms import parse_duration
from webcare.untrusted import clean_line, clean_text, first_line
from webcare.watch import fold

ROLES = ("spokesperson", "crisis")
DEFAULT_HOURS = "mon-fri 09:00-17:00"
DEFAULT_ANSWER_WITHIN = "1d"
DEFAULT_LANGUAGES = ("nl",)

_EXPERT_KEYS = {"name", "unit", "topics", "email", "phone", "hours", "languages", "deputy", "answer_within", "roles", "alert"}
_UNIT_KEYS = {"name", "email", "topics", "answer_within"}
_ONCALL_KEYS = {"expert", "hours", "from", "until"}
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ./()-]{4,30}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MOMENT = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\s*$")
# "[webcare m:<mention id>.<key>]": the id is public (a hash of the post's link), the key is not
# (see webcare.answers); a tag of an older desk has no key.
_SUBJECT_TAG = re.compile(r"\[webcare m:([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\]")


# --- the directory --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expert:
    """Someone in the organisation who answers questions on their topics."""

    name: str
    email: str
    unit: str = ""
    topics: tuple[str, ...] = ()
    phone: str = ""
    hours: WeeklyHours = field(default_factory=lambda: WeeklyHours.parse(DEFAULT_HOURS))
    hours_text: str = DEFAULT_HOURS  # as written in config.toml, for display
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    deputy: str | None = None
    answer_within: timedelta = timedelta(days=1)
    roles: tuple[str, ...] = ()
    # Where an alert reaches them when they are on call ([[alerts]] to = "oncall"): an Apprise
    # URL (ntfy topic, Teams webhook, mailto:). May hold a secret: never shown or logged.
    alert: str = field(default="", repr=False)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True, slots=True)
class Unit:
    """A team mailbox that takes feedback (complaints, suggestions) without owing us an answer."""

    name: str
    email: str
    topics: tuple[str, ...] = ()
    answer_within: timedelta | None = None  # None: feedback only, nobody waits for an answer


@dataclass(frozen=True, slots=True)
class OnCall:
    """One entry of the on-call roster: weekly hours, or once from/until (wall times in the desk's timezone)."""

    expert: str
    hours: WeeklyHours | None = None
    start: datetime | None = None  # naive: a wall time in the desk's timezone
    end: datetime | None = None

    def window(self, now: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
        """The shift containing `now`, else the next one, as UTC times; None when there is none."""
        if self.hours is not None:
            return _span(self.hours, now, tz)
        assert self.start is not None and self.end is not None
        start = self.start.replace(tzinfo=tz).astimezone(UTC)
        end = self.end.replace(tzinfo=tz).astimezone(UTC)
        if end <= now:
            return None
        return max(start, now), end


Kind = Literal["now", "oncall", "later", "never"]
_KIND_ORDER = {"now": 0, "oncall": 1, "later": 2, "never": 3}


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether an expert can be reached at a moment, and until or from when (UTC)."""

    kind: Kind
    until: datetime | None = None  # now/oncall: when it ends (None: always)
    since: datetime | None = None  # later: when it starts
    via_oncall: bool = False  # later: the next chance is an on-call shift

    @property
    def order(self) -> int:
        return _KIND_ORDER[self.kind]

    def text(self, now: datetime, tz: tzinfo, language: str) -> str:
        """'bereikbaar tot 17:00', 'van wacht tot zondag 24:00', 'morgen vanaf 08:00', …"""
        nl = language == "nl"
        if self.kind == "now":
            if self.until is None:
                return "altijd bereikbaar" if nl else "always reachable"
            return ("bereikbaar tot " if nl else "reachable until ") + _until(self.until, now, tz, language)
        if self.kind == "oncall":
            word = "van wacht" if nl else "on call"
            return word if self.until is None else f"{word} {'tot' if nl else 'until'} {_until(self.until, now, tz, language)}"
        if self.kind == "later" and self.since is not None:
            day, clock = _day_and_clock(self.since, now, tz, language)
            text = f"{day} {'vanaf' if nl else 'from'} {clock}"
            if self.via_oncall:
                text = ("van wacht " if nl else "on call ") + text
            return text
        return "niet bereikbaar" if nl else "not reachable"


@dataclass(frozen=True, slots=True)
class Ranked:
    """One expert in the ranking for a mention."""

    expert: Expert
    score: int  # how many of the expert's topics the mention matches
    matched: tuple[str, ...]  # those topics, as written in config.toml
    reach: Reach  # at the moment of ranking
    language_match: bool
    directory: Directory = field(repr=False, compare=False)

    @property
    def available_now(self) -> bool:
        return self.reach.kind == "now"

    @property
    def on_call(self) -> bool:
        return self.reach.kind == "oncall"

    def availability(self, now: datetime, tz: tzinfo, language: str) -> str:
        """'bereikbaar tot 17:00' / 'reachable until 17:00', 'morgen vanaf 08:00', 'van wacht', …
        worked out afresh for `now` (the pane repaints every minute)."""
        return self.directory.reach(self.expert, now, tz).text(now, tz, language)


@dataclass(frozen=True, slots=True)
class RankedUnit:
    unit: Unit
    score: int
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Directory:
    experts: tuple[Expert, ...] = ()
    units: tuple[Unit, ...] = ()
    oncall: tuple[OnCall, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.experts or self.units)

    def expert(self, name: str) -> Expert | None:
        key = fold(name.strip())
        return next((e for e in self.experts if fold(e.name) == key), None)

    def unit(self, name: str) -> Unit | None:
        key = fold(name.strip())
        return next((u for u in self.units if fold(u.name) == key), None)

    def deputy_of(self, expert: Expert | str) -> Expert | None:
        """The expert's deputy, suggested when the expert has not answered in time."""
        e = self.expert(expert) if isinstance(expert, str) else expert
        return None if e is None or e.deputy is None else self.expert(e.deputy)

    # --- who can be reached -------------------------------------------------------------

    def on_call_span(self, expert: Expert, now: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
        """The expert's current or next on-call shift (overlapping and adjacent shifts merged)."""
        windows = sorted(
            w for entry in self.oncall if fold(entry.expert) == fold(expert.name) if (w := entry.window(now, tz))
        )
        if not windows:
            return None
        start, end = windows[0]
        for s, e in windows[1:]:
            if s > end:
                break
            end = max(end, e)
        return start, end

    def reach(self, expert: Expert, now: datetime, tz: tzinfo) -> Reach:
        """Reachable now (in their hours) > on call now > reachable later > not at all."""
        now = _utc(now)
        if expert.hours.always:
            return Reach("now")
        hours = _span(expert.hours, now, tz)
        if hours is not None and hours[0] <= now:
            return Reach("now", until=hours[1])
        shift = self.on_call_span(expert, now, tz)
        if shift is not None and shift[0] <= now:
            return Reach("oncall", until=shift[1])
        later = [(w[0], via) for w, via in ((hours, False), (shift, True)) if w is not None]
        if not later:
            return Reach("never")
        since, via = min(later)
        return Reach("later", since=since, via_oncall=via)

    def availability(self, expert: Expert, now: datetime, tz: tzinfo, language: str) -> str:
        return self.reach(expert, now, tz).text(now, tz, language)

    def on_call(self, now: datetime, tz: tzinfo) -> list[Expert]:
        """The experts on call right now."""
        return [e for e in self.experts if self.reach(e, now, tz).kind == "oncall"]

    # --- ranking ------------------------------------------------------------------------

    def rank(
        self,
        text: str,
        keywords: Iterable[str] = (),
        language: str | None = None,
        *,
        now: datetime,
        tz: tzinfo,
        only_matching: bool = False,
    ) -> list[Ranked]:
        """Every expert, best first: those with a matching topic (in the text and the mention's
        keywords/themes) before the rest; then reachable now > on call > reachable later
        (sooner first); then most matching topics; then one who speaks the mention's language. `only_matching` drops experts with no topic match."""
        haystack = fold("\n".join([text, *keywords]))
        lang = (language or "").strip().lower()[:2]
        now = _utc(now)
        out = []
        for expert in self.experts:
            matched = _matching(expert.topics, haystack)
            if only_matching and not matched:
                continue
            out.append(Ranked(expert, len(matched), matched, self.reach(expert, now, tz), bool(lang) and lang in expert.languages, self))
        out.sort(key=_rank_key)
        return out

    def rank_mention(self, mention: Mention, *, now: datetime, tz: tzinfo, themes: Iterable[str] = (),
                     language: str | None = None, only_matching: bool = False) -> list[Ranked]:
        """`rank` for a mention: its title and text, its keywords and `themes`; the language is
        detected from the text when not given."""
        if language is None:  # as intake read it; read again for a mention stored before it did
            from webcare.register import detect_language

            language = mention.language or detect_language(mention.text)
        text = "\n".join(t for t in (mention.title, mention.text) if t)
        return self.rank(text, (*mention.keywords, *themes), language, now=now, tz=tz, only_matching=only_matching)

    def rank_units(self, text: str, keywords: Iterable[str] = ()) -> list[RankedUnit]:
        """The feedback mailboxes, most matching topics first (then as configured)."""
        haystack = fold("\n".join([text, *keywords]))
        ranked = [RankedUnit(u, len(m), m) for u in self.units for m in [_matching(u.topics, haystack)]]
        return sorted(ranked, key=lambda r: -r.score)

    def contacts(self, role: str, now: datetime, tz: tzinfo) -> list[Ranked]:
        """Who holds `role` (spokesperson, crisis), best first: reachable now > on call > later.
        Out of hours, when no crisis contact can be reached, whoever is on call comes first:
        a crisis does not wait for Monday."""
        if role not in ROLES:
            raise ValueError(f"{role!r} is not a role ({', '.join(ROLES)})")
        now = _utc(now)
        holders = [Ranked(e, 0, (), self.reach(e, now, tz), False, self) for e in self.experts if role in e.roles]
        holders.sort(key=_rank_key)
        if role == "crisis" and not any(r.reach.order <= 1 for r in holders):
            stand_ins = [Ranked(e, 0, (), self.reach(e, now, tz), False, self)
                         for e in self.on_call(now, tz) if role not in e.roles]
            holders = sorted(stand_ins, key=_rank_key) + holders
        return holders

    def for_role(self, role: str, now: datetime, tz: tzinfo) -> Ranked | None:
        """The spokesperson or crisis contact to call now (see `contacts`); None if nobody has the role."""
        found = self.contacts(role, now, tz)
        return found[0] if found else None


def routed_due(target: Expert | Unit, now: datetime) -> datetime | None:
    """When the routed question's answer is due: now plus the expert's (or unit's) answer norm.
    The clock runs in wall time, like the public norm; None for a unit that owes no answer."""
    return None if target.answer_within is None else now + target.answer_within


def _rank_key(r: Ranked) -> tuple[bool, int, datetime | int, int, bool, str]:
    since = r.reach.since or r.reach.until or datetime.max.replace(tzinfo=UTC)
    # Those whose topics match first; among them, whoever can be reached now (then on call,
    # then soonest), then most matching topics, then the mention's language: "e then 1" picks
    # the best *available* expert for the question.
    return (r.score == 0, r.reach.order, since if r.reach.kind == "later" else 0, -r.score,
            not r.language_match, fold(r.expert.name))


def _matching(topics: tuple[str, ...], haystack: str) -> tuple[str, ...]:
    return tuple(t for t in topics if _topic_pattern(t).search(haystack))


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _topic_pattern(topic: str) -> re.Pattern[str]:
    """A topic matches a whole word, or (four letters and more) the start or end of a Dutch
    compound: 'mest' in 'mestbank' and 'drijfmest', 'water' in 'oppervlaktewater'."""
    pattern = _PATTERNS.get(topic)
    if pattern is None:
        folded = fold(topic.strip())
        body = re.escape(folded).replace(r"\ ", r"\s+")
        start, end = r"(?<![^\W_])", r"(?![^\W_])"
        source = f"{start}{body}|{body}{end}" if len(folded) >= 4 else f"{start}{body}{end}"
        pattern = _PATTERNS[topic] = re.compile(source)
    return pattern


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)


def _span(hours: WeeklyHours, now: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
    """The window containing `now`, else the next, with back-to-back windows joined
    ('sat-sun 00:00-24:00' is one weekend), as UTC times."""
    window = hours.next_window(now, tz)
    if window is None:
        return None
    start, end = window
    for _ in range(14):
        following = hours.next_window(end, tz)
        if following is None or following[0] > end or following[1] <= end:
            break
        end = following[1]
    return start.astimezone(UTC), end.astimezone(UTC)


DAY_NAMES = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _day_word(day: date, today: date, language: str) -> str:
    nl = language == "nl"
    diff = (day - today).days
    if diff == 0:
        return "vandaag" if nl else "today"
    if diff == 1:
        return "morgen" if nl else "tomorrow"
    if 1 < diff < 7:
        return DAY_NAMES["nl" if nl else "en"][day.weekday()]
    return f"{DAY_NAMES['nl' if nl else 'en'][day.weekday()][:2 if nl else 3]} {day:%d-%m}"


def _day_and_clock(moment: datetime, now: datetime, tz: tzinfo, language: str) -> tuple[str, str]:
    local = moment.astimezone(tz)
    return _day_word(local.date(), now.astimezone(tz).date(), language), f"{local:%H:%M}"


def _until(moment: datetime, now: datetime, tz: tzinfo, language: str) -> str:
    """'17:00' today, '24:00' for midnight tonight, else 'morgen 02:00', 'zondag 24:00'."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    day, clock = local.date(), f"{local:%H:%M}"
    if clock == "00:00":
        day, clock = day - timedelta(days=1), "24:00"
    return clock if day == today else f"{_day_word(day, today, language)} {clock}"


# --- reading the directory from config.toml -------------------------------------------------


def load_directory(raw_config: dict[str, Any]) -> Directory:
    """The directory from the whole config table ([[experts]], [[units]], [[oncall]]).
    Raises ValueError naming the entry and key:
    "[[experts]] #2 ('An Peeters'): hours: 'weekdays' is not like 'mon-fri 08:00-17:00'"."""
    experts = [_expert(entry, i) for i, entry in enumerate(_entries(raw_config, "experts"))]
    seen: dict[str, int] = {}
    for i, e in enumerate(experts):
        key = fold(e.name)
        if key in seen:
            raise ValueError(f"{_where('experts', i, e.name)}: name: {e.name!r} is already expert #{seen[key] + 1}; names must be unique")
        seen[key] = i
    for i, e in enumerate(experts):
        if e.deputy is None:
            continue
        if fold(e.deputy) == fold(e.name):
            raise ValueError(f"{_where('experts', i, e.name)}: deputy: an expert cannot be their own deputy")
        if fold(e.deputy) not in seen:
            raise ValueError(f"{_where('experts', i, e.name)}: deputy: {e.deputy!r} is not an expert in [[experts]]")

    units = [_unit(entry, i) for i, entry in enumerate(_entries(raw_config, "units"))]
    unit_names: set[str] = set()
    for i, u in enumerate(units):
        if fold(u.name) in unit_names:
            raise ValueError(f"{_where('units', i, u.name)}: name: {u.name!r} is used twice; names must be unique")
        unit_names.add(fold(u.name))

    oncall = [_oncall(entry, i) for i, entry in enumerate(_entries(raw_config, "oncall"))]
    for i, o in enumerate(oncall):
        if fold(o.expert) not in seen:
            raise ValueError(f"{_where('oncall', i, o.expert)}: expert: {o.expert!r} is not an expert in [[experts]]")
    return Directory(tuple(experts), tuple(units), tuple(oncall))


def _entries(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{key}: write each entry as a [[{key}]] table")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ValueError(f"[[{key}]] #{i + 1}: must be a table")
    return value


def _where(section: str, index: int, name: str | None) -> str:
    return f"[[{section}]] #{index + 1}" + (f" ({name!r})" if name else "")


def _name(entry: dict[str, Any], section: str, index: int, key: str = "name") -> str:
    name = entry.get(key)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{_where(section, index, None)}: {key}: missing (a non-empty string)")
    return " ".join(name.split())


def _unknown(entry: dict[str, Any], known: set[str], where: str) -> None:
    refuse_unknown(entry, f"{where}: ", known)


def _string(entry: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key}: must be a string, not {value!r}")
    return value.strip()


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: {key}: must be a list of non-empty strings, like [\"mest\", \"bemesting\"]")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _email(entry: dict[str, Any], where: str) -> str:
    if "email" not in entry:
        raise ValueError(f"{where}: email: missing")
    email = _string(entry, "email", where)
    if not _EMAIL.match(email):
        raise ValueError(f"{where}: email: {email!r} is not an e-mail address like 'an.peeters@example.org'")
    return email


def _answer_within(entry: dict[str, Any], where: str, default: str | None) -> timedelta | None:
    text = _string(entry, "answer_within", where, default or "none")
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{where}: answer_within: {exc}") from None
    if value is None and default is not None:
        raise ValueError(f"{where}: answer_within: an expert needs an answer norm like '4h' or '1d'")
    return value


def _hours(entry: dict[str, Any], key: str, where: str, default: str | None) -> tuple[WeeklyHours, str]:
    text = _string(entry, key, where, default or "")
    try:
        return WeeklyHours.parse(text), text
    except ValueError as exc:
        raise ValueError(f"{where}: {key}: {exc}") from None


def _expert(entry: dict[str, Any], index: int) -> Expert:
    name = _name(entry, "experts", index)
    where = _where("experts", index, name)
    _unknown(entry, _EXPERT_KEYS, where)
    email = _email(entry, where)
    phone = _string(entry, "phone", where)
    if phone and not _PHONE.match(phone):
        raise ValueError(f"{where}: phone: {phone!r} is not a phone number like '+32 2 553 00 00'")
    hours, hours_text = _hours(entry, "hours", where, DEFAULT_HOURS)
    languages = tuple(v.lower() for v in _strings(entry, "languages", where)) or DEFAULT_LANGUAGES
    for lang in languages:
        if not _LANGUAGE.match(lang):
            raise ValueError(f"{where}: languages: {lang!r} is not a two-letter language code like 'nl' or 'en'")
    roles = tuple(v.lower() for v in _strings(entry, "roles", where))
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"{where}: roles: {role!r} is not one of {', '.join(ROLES)}")
    deputy = _string(entry, "deputy", where) or None
    answer_within = _answer_within(entry, where, DEFAULT_ANSWER_WITHIN)
    assert answer_within is not None
    alert = _string(entry, "alert", where).strip()
    if alert and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$", alert):
        raise ValueError(f"{where}: alert: not an Apprise URL like \"ntfy://ntfy.example.org/topic\"")
    return Expert(
        name=name,
        email=email,
        unit=_string(entry, "unit", where),
        topics=_strings(entry, "topics", where),
        phone=phone,
        hours=hours,
        hours_text=hours_text,
        languages=languages,
        deputy=None if deputy is None else " ".join(deputy.split()),
        answer_within=answer_within,
        roles=roles,
        alert=alert,
    )


def _unit(entry: dict[str, Any], index: int) -> Unit:
    name = _name(entry, "units", index)
    where = _where("units", index, name)
    _unknown(entry, _UNIT_KEYS, where)
    return Unit(name, _email(entry, where), _strings(entry, "topics", where), _answer_within(entry, where, None))


def _moment(entry: dict[str, Any], key: str, where: str) -> datetime:
    text = _string(entry, key, where)
    m = _MOMENT.match(text)
    try:
        if not m:
            raise ValueError
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]))
    except ValueError:
        raise ValueError(f"{where}: {key}: {text!r} is not a time like '2026-12-24 17:00'") from None


def _oncall(entry: dict[str, Any], index: int) -> OnCall:
    expert = _name(entry, "oncall", index, "expert")
    where = _where("oncall", index, expert)
    _unknown(entry, _ONCALL_KEYS, where)
    if "hours" in entry:
        if "from" in entry or "until" in entry:
            raise ValueError(f"{where}: hours: give either weekly hours or from/until, not both")
        hours, _ = _hours(entry, "hours", where, None)
        return OnCall(expert, hours=hours)
    if "from" not in entry or "until" not in entry:
        raise ValueError(f"{where}: hours: missing (weekly, like 'sat-sun 00:00-24:00', or from/until once)")
    start, end = _moment(entry, "from", where), _moment(entry, "until", where)
    if end <= start:
        raise ValueError(f"{where}: until: the shift ends before it starts")
    return OnCall(expert, start=start, end=end)


# --- the hand-off message ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handoff:
    """An e-mail to an expert or unit, as plain text: what sources.handoff sends or copies."""

    to: str  # the address
    to_name: str
    subject: str
    body: str
    mention_id: str
    kind: Literal["question", "feedback"] = "question"


def subject_tag(mention_id: str, key: str = "") -> str:
    """'[webcare m:<id>.<key>]': in the subject, so the expert's answer can be matched to the
    mention (by the id) and known to come from the hand-off's mailbox (by the key, which only
    that hand-off carried; see webcare.answers)."""
    return f"[webcare m:{mention_id}.{key}]" if key else f"[webcare m:{mention_id}]"


def read_tag(subject: str) -> tuple[str, str] | None:
    """(mention id, key) of the first `subject_tag` in a subject (a reply keeps it), the key
    "" when the tag has none; None without a tag."""
    m = _SUBJECT_TAG.search(subject or "")
    return (m[1], m[2] or "") if m else None


def without_keys(subject: str) -> str:
    """`subject` with each tag's key left out ("[webcare m:<id>]"): for a mail kept as a mention,
    whose subject the store, exports and a reply to its sender would otherwise repeat."""
    return _SUBJECT_TAG.sub(lambda m: subject_tag(m[1]), subject or "")


def mention_id_in(subject: str) -> str | None:
    """The mention id in a subject with a `subject_tag` (a reply keeps it), else None."""
    tag = read_tag(subject)
    return tag[0] if tag else None


def handoff_message(
    mention: Mention,
    expert: Expert,
    *,
    now: datetime,
    tz: tzinfo,
    desk: str,
    note: str = "",
    language: str | None = None,
    deputy: Expert | None = None,
    operator: str = "",
    key: str = "",
) -> Handoff:
    """The hand-off e-mail asking `expert` to answer `mention`: the mention (text, author,
    channel, link, time left), the note, when the answer is due and how to answer (reply to
    this e-mail). `language` defaults to the expert's first of nl/en. `key`: the hand-off's
secret for the subject tag (store.handoffs makes and keeps it). All plain text."""
    lang = language or next((x for x in expert.languages if x in ("nl", "en")), "nl")
    nl = lang == "nl"
    due = routed_due(expert, now)
    assert due is not None
    about = expert.unit or expert.name
    subject = f"{subject_tag(mention.id, key)} {'Vraag voor' if nl else 'Question for'} {about}: {_snippet(mention)}"
    lines = [
        f"{'Dag' if nl else 'Hello'} {expert.first_name},",
        "",
        (f"De webcare van {desk} kreeg deze vraag en heeft jouw expertise nodig om te antwoorden."
         if nl else f"The webcare desk of {desk} received this question and needs your expertise to answer it."),
    ]
    lines += _note(note, operator, nl)
    lines += _mention_block(mention, now, tz, lang)
    lines += [
        "",
        (f"Graag je antwoord voor {when(due, tz, lang)} ({countdown(due - now, lang)})."
         if nl else f"Please answer by {when(due, tz, lang)} ({countdown(due - now, lang)})."),
        ("Antwoorden: beantwoord deze e-mail (Reply). Laat het onderwerp staan zoals het is; wij "
         "zetten je antwoord om in een publieke reactie." if nl else
         "How to answer: reply to this e-mail. Keep the subject as it is; we turn your answer "
         "into a public reply."),
    ]
    if deputy is not None:
        lines.append(f"Niet voor jou of geen tijd? Laat het ons weten, dan vragen we het aan {deputy.name}."
                     if nl else f"Not for you, or no time? Let us know and we will ask {deputy.name}.")
    lines += ["", "-- ", f"webcare {desk}"]
    return Handoff(expert.email, expert.name, subject, "\n".join(lines) + "\n", mention.id, "question")


def feedback_message(
    mention: Mention,
    unit: Unit,
    *,
    now: datetime,
    tz: tzinfo,
    desk: str,
    note: str = "",
    language: str = "nl",
    operator: str = "",
    key: str = "",
) -> Handoff:
    """Feedback (a complaint or suggestion) passed on to a unit's mailbox: no answer expected."""
    nl = language == "nl"
    subject = f"{subject_tag(mention.id, key)} {'Feedback voor' if nl else 'Feedback for'} {unit.name}: {_snippet(mention)}"
    lines = [
        f"{'Beste collega’s van' if nl else 'Dear colleagues of'} {unit.name},",
        "",
        (f"De webcare van {desk} geeft deze feedback door. Je hoeft ons niet te antwoorden; we "
         "houden bij wat we doorgaven." if nl else
         f"The webcare desk of {desk} passes this feedback on. There is no need to answer us; "
         "we keep a record of what we passed on."),
    ]
    lines += _note(note, operator, nl)
    lines += _mention_block(mention, now, tz, language)
    lines += ["", "-- ", f"webcare {desk}"]
    return Handoff(unit.email, unit.name, subject, "\n".join(lines) + "\n", mention.id, "feedback")


def _snippet(mention: Mention, limit: int = 60) -> str:
    text = clean_line(first_line(mention.title or mention.text) or mention.text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _note(note: str, operator: str, nl: bool) -> list[str]:
    note = clean_text(note, 2000)
    if not note:
        return []
    who = f" ({clean_line(operator)})" if operator.strip() else ""
    return ["", f"{'Notitie van de webcare' if nl else 'Note from the webcare desk'}{who}:", note]


def _mention_block(mention: Mention, now: datetime, tz: tzinfo, language: str) -> list[str]:
    nl = language == "nl"
    author = clean_line(mention.author)
    name = clean_line(mention.author_name)
    who = f"{name} ({author})" if name and name != author else author
    published = mention.published_at or mention.first_seen_at
    if mention.deadline is None:
        left = "geen norm" if nl else "no norm"
    else:
        left = f"{countdown(mention.deadline - now, language)} ({'voor' if nl else 'by'} {when(mention.deadline, tz, language)})"
    rows = [
        ("Van" if nl else "From", who),
        ("Kanaal" if nl else "Channel", mention.channel),
        ("Link", clean_line(mention.url, 2000) or ("geen" if nl else "none")),
        ("Geplaatst" if nl else "Posted", when(published, tz, language)),
        ("Publiek antwoord" if nl else "Public reply", left),
    ]
    width = max(len(k) for k, _ in rows) + 2
    out = ["", "----- " + ("bericht" if nl else "message") + " " + "-" * 40]
    out += [f"{k + ':':<{width}}{v}" for k, v in rows]
    if mention.title:
        out += [f"{('Onderwerp' if nl else 'Subject') + ':':<{width}}{clean_line(mention.title)}"]
    out += ["", clean_text(mention.text), "-" * 54]
    return out
