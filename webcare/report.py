"""Reports for management ("meten is weten"): what came in, how fast the desk answered against
the 2-4-8 norm, what the reaction scheme decided, the tone, themes, voices, the experts, and
what is late. `figures()` computes a `Report` of plain numbers; `to_markdown`, `to_json`,
`to_csv` and `to_html` (webcare.report_html) render it. The desk's dashboard reuses `Report`
(per-day tuples are ready for sparklines, per-channel dicts for bars).

Definitions (what a number in the report means):

- Period: [start, end), aware datetimes; days are local days in the desk's timezone.
  `period(first_day, last_day, tz)` turns the CLI's inclusive --from/--to dates into it.
- A mention belongs to the period (and to a day) by the start of its norm clock,
  `norms.clock_start(published_at, first_seen_at)`: publication, unless it is unknown or after
  first sight (a bad clock), then first sight. Why: the response time and the deadline are
  measured from that moment, so the volume per day, the tone per day and the response times
  describe the same mentions on the same days; and it is when the sender said it. The caveat:
  a source added later that backfills old posts adds them to the (old) days they were posted.
- A followed person's post that does not name us (`Mention.followed_only`: it came in as
  "monitoring" because a source follows its author, and nobody took it up) is not a mention
  of us: it is in none of the figures.
- Everything below is computed over the mentions of the period, in their state as known at
  `now` (the report is computed from the store's current state).
- Response time: `response_s` (seconds from the clock's start to the recorded reply); when it
  is missing but `responded_at` is set, `responded_at - clock_start`.
- Norm figures count only mentions with a norm (`norm_s` not None); mentions without one
  (news, "none") are counted in the volume, never in the norm figures.
  answered: a reply is recorded; within: answered and responded_at <= deadline (a reply at the
  deadline itself is in time; without a stored deadline, response_s <= norm_s); late: answered
  after the deadline; missed: no reply, a reply still owed (`Mention.owed`) and the deadline
  passed at `now`; pending: no reply, owed, deadline still ahead. Mentions that needed no reply
  (monitoring, no reaction, moderated, handed to the spokesperson) are in none of these.
  share_within = within / (answered + missed): of the mentions whose norm has run out or that
  were answered, the share answered in time. None when there are none.
- Percentiles are linear (the "inclusive" method: numpy's default, Excel's PERCENTILE.INC):
  sort the n values x[0..n-1], h = (n - 1) * p, value = x[floor h] + (h - floor h) *
  (x[floor h + 1] - x[floor h]). So the median (p = 0.5) is the usual median (the mean of the
  two middle values for even n) and p90 of 10, 20, 30, 40 is 30 + 0.7 * 10 = 37.
- Scheme leaves: the last step of `scheme_path` (a leaf id such as "L6"); mentions without
  one are counted as untriaged. Categories: `category`; without one, uncategorised.
- Tone: `sentiment` per day: negative, neutral, positive, and "" (not assessed) as unknown.
- Voices: a voice is (channel, author): the same handle on two channels may be two people.
  By count: most mentions first, then the larger reach, then the name. By reach: the largest
  reach seen on any of its mentions (voices without a known reach are left out).
- Routed questions: mentions of the period with `routed_at`. Answer time = answered_at -
  routed_at. on_time: answered at or before routed_due; late: answered after routed_due, or
  not answered and routed_due passed at `now`; waiting: not answered.
- Overdue at the report's end (as_of = min(end, now)): a reply owed at as_of and the
  deadline before it: no reply recorded and still owed now, or a reply recorded after as_of.
  late_s = as_of - deadline. Answered after the norm: responded_at > deadline; late_s =
  responded_at - deadline (worst first).

Pure domain: standard library only, no I/O, no wall clock (`now` is passed in). Author names,
themes, rules and urls come from outside: every renderer escapes them for its format.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from webcare import i18n
from webcare.i18n import DAY_NAMES, when
from webcare.mention import Mention
from webcare.norms import clock_start
from webcare.untrusted import csv_cell

SENTIMENTS = ("negative", "neutral", "positive", "unknown")
TOP = 10  # entries in the top lists (themes, rules, voices)
LIST_LIMIT = 100  # rows of a late list in Markdown and HTML (JSON and CSV have them all)


# --- the figures -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    """Response times against the norm, for one channel (or all): see the module docstring."""

    norm_s: int | None  # the channel's norm (the one most of its mentions carried); None for all
    mentions: int  # mentions with a norm
    answered: int
    within: int
    late: int
    missed: int
    pending: int
    share_within: float | None  # within / (answered + missed)
    median_s: float | None  # of the answered ones' response times
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class Voice:
    channel: str
    author: str
    name: str  # the display name, when the source gave one
    mentions: int
    reach: int | None  # the largest reach seen


@dataclass(frozen=True, slots=True)
class RoutingFigures:
    """Questions handed to experts: all of them (name "") or one expert's."""

    name: str
    routed: int
    answered: int
    waiting: int
    on_time: int
    late: int  # answered after routed_due, or waiting past it
    median_s: float | None  # answer time (routed_at → answered_at)
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class Late:
    """A mention in one of the late lists."""

    id: str
    channel: str
    author: str
    status: str
    deadline: datetime
    responded_at: datetime | None
    late_s: int
    url: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    timezone: str
    now: datetime
    as_of: datetime  # min(end, now): when "overdue at the report's end" is judged
    days: tuple[date, ...]  # the local days of the period
    total: int
    channels: tuple[str, ...]  # channels seen, most mentions first
    per_channel: dict[str, int]
    per_day: tuple[int, ...]  # aligned with days
    volume: dict[str, tuple[int, ...]]  # channel → per day
    response: dict[str, ResponseFigures]  # channels with a norm
    response_all: ResponseFigures
    leaves: dict[str, int]  # leaf id → mentions, most first
    untriaged: int
    categories: dict[str, int]
    uncategorised: int
    statuses: dict[str, int]
    sentiment: dict[str, tuple[int, ...]]  # SENTIMENTS → per day
    themes: tuple[tuple[str, int], ...]
    rules: tuple[tuple[str, int], ...]
    voices_by_count: tuple[Voice, ...]
    voices_by_reach: tuple[Voice, ...]
    routing: RoutingFigures
    experts: tuple[RoutingFigures, ...]
    overdue: tuple[Late, ...]  # owed and past the deadline at as_of, oldest deadline first
    answered_late: tuple[Late, ...]  # answered after the norm, latest first

    def sentiment_share(self, sentiment: str) -> tuple[float | None, ...]:
        """Per day, the share of `sentiment` among the mentions of that day (None: no mentions)."""
        return tuple(
            None if n == 0 else c / n for c, n in zip(self.sentiment[sentiment], self.per_day)
        )


def period(first_day: date, last_day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) for the inclusive local days first_day..last_day (the CLI's --from/--to).
    Raises ValueError when last_day is before first_day."""
    if last_day < first_day:
        raise ValueError(f"--to {last_day} is before --from {first_day}")
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-quantile (0 <= p <= 1) of `values` by linear interpolation (the inclusive method);
    None for no values."""
    if not values:
        return None
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return round(xs[lo] + (h - lo) * (xs[hi] - xs[lo]), 6)


def leaf_of(m: Mention) -> str | None:
    """The scheme leaf the mention's walk reached, or None (untriaged)."""
    if m.scheme_path:
        last = m.scheme_path[-1]
        if ":" not in last:
            return last
    return None


def response_seconds(m: Mention) -> int | None:
    if m.response_s is not None:
        return m.response_s
    if m.responded_at is None:
        return None
    start = clock_start(m.published_at, m.first_seen_at)
    return max(0, int((m.responded_at - start).total_seconds()))


def _in_time(m: Mention, seconds: int) -> bool:
    if m.deadline is not None and m.responded_at is not None:
        return m.responded_at <= m.deadline
    return m.norm_s is not None and seconds <= m.norm_s


class _ResponseTally:
    __slots__ = ("norms", "mentions", "times", "within", "late", "missed", "pending")

    def __init__(self) -> None:
        self.norms: Counter[int | None] = Counter()  # None: mentions without a norm
        self.mentions = 0
        self.times: list[int] = []
        self.within = self.late = self.missed = self.pending = 0

    def add(self, m: Mention, now: datetime) -> None:
        self.mentions += 1
        self.norms[m.norm_s] += 1
        seconds = response_seconds(m)
        if seconds is not None:
            self.times.append(seconds)
            if _in_time(m, seconds):
                self.within += 1
            else:
                self.late += 1
        elif m.owed:
            if m.deadline is not None and m.deadline < now:
                self.missed += 1
            else:
                self.pending += 1

    def merge(self, other: _ResponseTally) -> None:
        self.mentions += other.mentions
        self.times.extend(other.times)
        self.within += other.within
        self.late += other.late
        self.missed += other.missed
        self.pending += other.pending

    def figures(self, with_norm: bool = True) -> ResponseFigures:
        due = len(self.times) + self.missed
        return ResponseFigures(
            norm_s=self.norms.most_common(1)[0][0] if with_norm and self.norms else None,
            mentions=self.mentions,
            answered=len(self.times),
            within=self.within,
            late=self.late,
            missed=self.missed,
            pending=self.pending,
            share_within=None if due == 0 else self.within / due,
            median_s=percentile(self.times, 0.5),
            p90_s=percentile(self.times, 0.9),
        )


class _RoutingTally:
    __slots__ = ("routed", "times", "waiting", "on_time", "late")

    def __init__(self) -> None:
        self.routed = self.waiting = self.on_time = self.late = 0
        self.times: list[int] = []

    def add(self, m: Mention, now: datetime) -> None:
        assert m.routed_at is not None
        self.routed += 1
        if m.answered_at is not None:
            self.times.append(max(0, int((m.answered_at - m.routed_at).total_seconds())))
            if m.routed_due is None or m.answered_at <= m.routed_due:
                self.on_time += 1
            else:
                self.late += 1
        else:
            self.waiting += 1
            if m.routed_due is not None and m.routed_due < now:
                self.late += 1

    def figures(self, name: str) -> RoutingFigures:
        return RoutingFigures(
            name=name,
            routed=self.routed,
            answered=len(self.times),
            waiting=self.waiting,
            on_time=self.on_time,
            late=self.late,
            median_s=percentile(self.times, 0.5),
            p90_s=percentile(self.times, 0.9),
        )


def _natural(text: str) -> tuple[int | str, ...]:
    """'L9' before 'L14'; case-insensitive otherwise."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.casefold()))


def _ranked(counter: Counter[str], top: int) -> tuple[tuple[str, int], ...]:
    """Most first; ties by name (natural order: L9 before L14)."""
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], _natural(kv[0]), kv[0]))[:top])


def figures(
    mentions: Iterable[Mention],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    now: datetime,
    top: int = TOP,
) -> Report:
    """The figures of the mentions whose clock started in [start, end), as known at `now`
    (see the module docstring for every definition). One pass over `mentions`."""
    if end <= start:
        raise ValueError(
            f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    n_days = len(days)
    as_of = min(end, now)

    per_day = [0] * n_days
    volume: dict[str, list[int]] = {}
    sentiment = {s: [0] * n_days for s in SENTIMENTS}
    response: dict[str, _ResponseTally] = {}
    leaves: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    themes: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    voice_count: Counter[tuple[str, str]] = Counter()
    voice_reach: dict[tuple[str, str], int] = {}
    voice_name: dict[tuple[str, str], str] = {}
    routing = _RoutingTally()
    experts: dict[str, _RoutingTally] = defaultdict(_RoutingTally)
    overdue: list[Late] = []
    answered_late: list[Late] = []
    untriaged = uncategorised = total = 0
    day_cache: dict[tuple[int, int, int, int], int] = {}

    for m in mentions:
        if m.followed_only:  # a followed voice on other things: not a mention of us
            continue
        cs = clock_start(m.published_at, m.first_seen_at)
        if cs < start or cs >= end:
            continue
        total += 1
        # the local day, cached per UTC quarter hour: every zone's offset is a whole number
        # of quarter hours, so a local midnight never falls inside one
        u = cs.astimezone(UTC)
        key = (u.year, u.month, u.day, u.hour * 4 + u.minute // 15)
        day = day_cache.get(key)
        if day is None:
            day = (cs.astimezone(tz).date() - first).days
            day_cache[key] = day
        per_day[day] += 1
        channel = m.channel
        row = volume.get(channel)
        if row is None:
            row = volume[channel] = [0] * n_days
        row[day] += 1
        tone = m.sentiment if m.sentiment in ("negative", "neutral", "positive") else "unknown"
        sentiment[tone][day] += 1
        statuses[m.status] += 1
        leaf = leaf_of(m)
        if leaf is None:
            untriaged += 1
        else:
            leaves[leaf] += 1
        if m.category:
            categories[m.category] += 1
        else:
            uncategorised += 1
        for theme in m.themes if len(m.themes) < 2 else set(m.themes):
            themes[theme] += 1
        for rule in m.rules if len(m.rules) < 2 else set(m.rules):
            rules[rule] += 1
        who = (channel, m.author)
        voice_count[who] += 1
        if m.reach is not None and m.reach > voice_reach.get(who, -1):
            voice_reach[who] = m.reach
        if m.author_name and who not in voice_name:
            voice_name[who] = m.author_name

        if m.norm_s is not None:
            tally = response.get(channel)
            if tally is None:
                tally = response[channel] = _ResponseTally()
            tally.add(m, now)
            if m.deadline is not None:
                if m.responded_at is not None and m.responded_at > m.deadline:
                    answered_late.append(_late(m, m.responded_at))
                if m.deadline < as_of and (
                    (m.responded_at is None and m.owed)
                    or (m.responded_at is not None and m.responded_at > as_of)
                ):
                    overdue.append(_late(m, as_of))
        if m.routed_at is not None:
            routing.add(m, now)
            experts[m.routed_to or ""].add(m, now)

    channels = tuple(sorted(volume, key=lambda c: (-sum(volume[c]), c)))
    everything = _ResponseTally()
    for tally in response.values():
        everything.merge(tally)

    def by_count(v: tuple[str, str]) -> tuple[int, int, str, str]:
        return (-voice_count[v], -voice_reach.get(v, -1), v[1].casefold(), v[0])

    def by_reach(v: tuple[str, str]) -> tuple[int, int, str, str]:
        return (-voice_reach[v], -voice_count[v], v[1].casefold(), v[0])

    def voice(v: tuple[str, str]) -> Voice:
        return Voice(v[0], v[1], voice_name.get(v, ""), voice_count[v], voice_reach.get(v))
    return Report(
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        timezone=str(getattr(tz, "key", tz)),
        now=now.astimezone(UTC),
        as_of=as_of.astimezone(UTC),
        days=days,
        total=total,
        channels=channels,
        per_channel={c: sum(volume[c]) for c in channels},
        per_day=tuple(per_day),
        volume={c: tuple(volume[c]) for c in channels},
        response={c: response[c].figures() for c in channels if c in response},
        response_all=everything.figures(with_norm=False),
        leaves=dict(_ranked(leaves, len(leaves))),
        untriaged=untriaged,
        categories=dict(_ranked(categories, len(categories))),
        uncategorised=uncategorised,
        statuses=dict(_ranked(statuses, len(statuses))),
        sentiment={s: tuple(v) for s, v in sentiment.items()},
        themes=_ranked(themes, top),
        rules=_ranked(rules, top),
        voices_by_count=tuple(voice(v) for v in sorted(voice_count, key=by_count)[:top]),
        voices_by_reach=tuple(voice(v) for v in sorted(voice_reach, key=by_reach)[:top]),
        routing=routing.figures(""),
        experts=tuple(
            experts[name].figures(name)
            for name in sorted(experts, key=lambda n: (-experts[n].routed, n.casefold()))
        ),
        overdue=tuple(sorted(overdue, key=lambda x: (x.deadline, x.id))),
        answered_late=tuple(sorted(answered_late, key=lambda x: (-x.late_s, x.id))),
    )


@dataclass(frozen=True, slots=True)
class Overview:
    """The figures of a report that are counts and percentiles over every mention of the
    period (volume, tone, statuses, response times): what a store can compute where the
    mentions are (a SQL aggregate on PostgreSQL, store/postgres/reports.py) instead of handing
    each mention over. `overview(figures(…))` is the same thing computed here."""

    total: int
    per_channel: dict[str, int]  # most first
    per_day: tuple[int, ...]
    volume: dict[str, tuple[int, ...]]
    sentiment: dict[str, tuple[int, ...]]
    statuses: dict[str, int]  # most first
    response: dict[str, ResponseFigures]
    response_all: ResponseFigures


def overview(report: Report) -> Overview:
    """A report's Overview (see there)."""
    return Overview(
        total=report.total,
        per_channel=report.per_channel,
        per_day=report.per_day,
        volume=report.volume,
        sentiment=report.sentiment,
        statuses=report.statuses,
        response=report.response,
        response_all=report.response_all,
    )


def ranked(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts most first, ties by name (natural order), as the report ranks them."""
    return dict(_ranked(Counter(counts), len(counts)))


def _late(m: Mention, moment: datetime) -> Late:
    assert m.deadline is not None
    return Late(
        id=m.id,
        channel=m.channel,
        author=m.author,
        status=m.status,
        deadline=m.deadline.astimezone(UTC),
        responded_at=None if m.responded_at is None else m.responded_at.astimezone(UTC),
        late_s=int((moment - m.deadline).total_seconds()),
        url=m.url,
    )


# --- words -------------------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "title": {"nl": "Webcarerapport", "en": "Webcare report"},
    "period": {"nl": "Periode", "en": "Period"},
    "generated": {"nl": "Opgemaakt", "en": "Generated"},
    "timezone": {"nl": "tijdzone", "en": "time zone"},
    "summary": {"nl": "Samenvatting", "en": "Summary"},
    "mentions": {"nl": "Vermeldingen", "en": "Mentions"},
    "total": {"nl": "Totaal", "en": "Total"},
    "volume": {"nl": "Volume per kanaal en dag", "en": "Volume per channel and day"},
    "day": {"nl": "Dag", "en": "Day"},
    "channel": {"nl": "Kanaal", "en": "Channel"},
    "response": {"nl": "Reactietijd ten opzichte van de norm", "en": "Response time against the norm"},
    "norm": {"nl": "Norm", "en": "Norm"},
    "with_norm": {"nl": "Met norm", "en": "With a norm"},
    "answered": {"nl": "Beantwoord", "en": "Answered"},
    "within": {"nl": "Binnen de norm", "en": "Within the norm"},
    "share_within": {"nl": "% binnen de norm", "en": "% within the norm"},
    "late": {"nl": "Te laat", "en": "Late"},
    "missed": {"nl": "Onbeantwoord, norm verstreken", "en": "Unanswered, norm passed"},
    "pending": {"nl": "Nog binnen de termijn", "en": "Still within the norm"},
    "median": {"nl": "Mediaan", "en": "Median"},
    "p90": {"nl": "P90", "en": "P90"},
    "all": {"nl": "alle", "en": "all"},
    "no_norm_note": {
        "nl": "Vermeldingen zonder norm (bv. nieuws) tellen mee in het volume, niet in de normcijfers. "
        "% binnen de norm = binnen de norm / (beantwoord + onbeantwoord na de norm). "
        "Percentielen: lineaire interpolatie.",
        "en": "Mentions without a norm (e.g. news) count in the volume, not in the norm figures. "
        "% within the norm = within / (answered + unanswered past the norm). "
        "Percentiles: linear interpolation.",
    },
    "scheme": {"nl": "Reactieschema en categorieën", "en": "Reaction scheme and categories"},
    "leaf": {"nl": "Uitkomst", "en": "Outcome"},
    "untriaged": {"nl": "niet getrieerd", "en": "not triaged"},
    "category": {"nl": "Categorie", "en": "Category"},
    "uncategorised": {"nl": "zonder categorie", "en": "no category"},
    "tone": {"nl": "Toon per dag", "en": "Tone per day"},
    "negative": {"nl": "negatief", "en": "negative"},
    "neutral": {"nl": "neutraal", "en": "neutral"},
    "positive": {"nl": "positief", "en": "positive"},
    "unknown": {"nl": "onbekend", "en": "unknown"},
    "themes_rules": {"nl": "Thema's en regels", "en": "Themes and rules"},
    "theme": {"nl": "Thema", "en": "Theme"},
    "rule": {"nl": "Regel", "en": "Rule"},
    "voices": {"nl": "Afzenders", "en": "Voices"},
    "voices_count": {"nl": "Meeste vermeldingen", "en": "Most mentions"},
    "voices_reach": {"nl": "Grootste bereik", "en": "Largest reach"},
    "author": {"nl": "Auteur", "en": "Author"},
    "reach": {"nl": "Bereik", "en": "Reach"},
    "routing": {"nl": "Doorgestuurde vragen", "en": "Routed questions"},
    "expert": {"nl": "Expert", "en": "Expert"},
    "routed": {"nl": "Doorgestuurd", "en": "Routed"},
    "expert_answered": {"nl": "Beantwoord", "en": "Answered"},
    "waiting": {"nl": "Wacht nog", "en": "Waiting"},
    "on_time": {"nl": "Op tijd", "en": "On time"},
    "answer_time_note": {
        "nl": "Antwoordtijd = van doorsturen tot het antwoord van de expert; te laat = na de afgesproken termijn (of nog open en die termijn verstreken).",
        "en": "Answer time = from routing to the expert's answer; late = after the agreed due time (or still open past it).",
    },
    "late_lists": {"nl": "Te laat", "en": "Late"},
    "overdue": {
        "nl": "Open en over de deadline op het einde van de periode",
        "en": "Open and past the deadline at the end of the period",
    },
    "answered_late": {"nl": "Beantwoord na de norm", "en": "Answered after the norm"},
    "deadline": {"nl": "Deadline", "en": "Deadline"},
    "responded_at": {"nl": "Beantwoord", "en": "Answered"},
    "late_by": {"nl": "Te laat met", "en": "Late by"},
    "status": {"nl": "Status", "en": "Status"},
    "none": {"nl": "geen", "en": "none"},
    "nothing": {"nl": "Niets.", "en": "Nothing."},
    "charts_volume": {
        "nl": "Vermeldingen per dag, per kanaal",
        "en": "Mentions per day, per channel",
    },
    "charts_response": {
        "nl": "Mediaan en P90 ten opzichte van de norm (streep)",
        "en": "Median and P90 against the norm (line)",
    },
    "charts_tone": {"nl": "Toon per dag", "en": "Tone per day"},
    "per_channel": {"nl": "Vermeldingen per kanaal", "en": "Mentions per channel"},
}

# Short names of the default scheme's leaves (webcare.scheme.DEFAULT); other ids show as is.
LEAF_WORDS: dict[str, dict[str, str]] = {
    "L1": {"nl": "crisis: escaleren", "en": "crisis: escalate"},
    "L2": {"nl": "naar woordvoerder", "en": "to the spokesperson"},
    "L3": {"nl": "gemodereerd", "en": "moderated"},
    "L4": {"nl": "bedanken", "en": "thank"},
    "L5": {"nl": "laten staan (positief)", "en": "let stand (positive)"},
    "L6": {"nl": "zelf beantwoorden", "en": "answer ourselves"},
    "L7": {"nl": "doorverwijzen", "en": "refer on"},
    "L8": {"nl": "naar expert", "en": "to an expert"},
    "L9": {"nl": "klacht herstellen", "en": "restore (complaint)"},
    "L10": {"nl": "feiten rechtzetten", "en": "fix the facts"},
    "L11": {"nl": "laten staan, opvolgen", "en": "let stand, monitor"},
    "L12": {"nl": "trol: niet ingaan", "en": "troll: do not engage"},
    "L13": {"nl": "beleid uitleggen", "en": "explain the policy"},
    "L14": {"nl": "laten staan, loggen", "en": "let stand, log"},
}


def word(key: str, language: str) -> str:
    return i18n.word(key, language, WORDS)


def leaf_word(leaf: str, language: str) -> str:
    entry = LEAF_WORDS.get(leaf)
    return leaf if entry is None else f"{leaf} {entry.get(language, entry['en'])}"


def duration(seconds: float | None, language: str) -> str:
    """'2 u 50 min' / '2 h 50 min', '45 min', '1 d 6 u', '< 1 min'; '–' for None."""
    if seconds is None:
        return "–"
    minutes = int(round(abs(seconds) / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    h = "u" if language == "nl" else "h"
    if days:
        return f"{days} d {hours} {h}" if hours else f"{days} d"
    if hours:
        return f"{hours} {h} {mins} min" if mins else f"{hours} {h}"
    return f"{mins} min" if mins else "< 1 min"


def percent(share: float | None, language: str) -> str:
    """'62,5 %' / '62.5%'; '–' for None."""
    if share is None:
        return "–"
    text = f"{share * 100:.1f}".removesuffix(".0")
    return f"{text.replace('.', ',')} %" if language == "nl" else f"{text}%"


def number(value: int | None, language: str) -> str:
    if value is None:
        return "–"
    text = f"{value:,}"
    return text.replace(",", ".") if language == "nl" else text


def day_label(day: date, language: str) -> str:
    """'ma 16-11' / 'Mon 16-11'."""
    return f"{DAY_NAMES.get(language, DAY_NAMES['en'])[day.weekday()]} {day:%d-%m}"


def period_label(report: Report, tz: tzinfo, language: str) -> str:
    first, last = report.days[0], report.days[-1]
    return f"{day_label(first, language)}-{first:%Y} – {day_label(last, language)}-{last:%Y}"


def voice_label(v: Voice) -> str:
    return f"{v.author} ({v.name})" if v.name and v.name != v.author else v.author


def _tz(report: Report) -> tzinfo:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(report.timezone)
    except Exception:
        return UTC


# --- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans(
    {c: "\\" + c for c in "\\`*_[]<>|~"} | {"\n": " ", "\r": " ", "\t": " "}
)


def md_escape(text: object) -> str:
    """Outside text made literal in Markdown (CommonMark and GitHub): markup characters are
    backslash-escaped (so `<script>` and `[bold]` show as written), line breaks become spaces
    (a table row stays one row)."""
    return str(text).translate(_MD_SPECIAL)


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]], right: int = 1) -> list[str]:
    """A GitHub table; columns from `right` on are right-aligned (numbers)."""
    align = ["---" if i < right else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def to_markdown(report: Report, language: str = "nl") -> str:
    """The report as Markdown (GitHub tables), fit for an e-mail to management."""
    def w(key: str) -> str:
        return word(key, language)

    def n(value: int | None) -> str:
        return number(value, language)

    def d(seconds: float | None) -> str:
        return duration(seconds, language)

    tz = _tz(report)
    out: list[str] = [
        f"# {w('title')}: {period_label(report, tz, language)}",
        "",
        f"{w('period')}: {when(report.start, tz, language)} – {when(report.end, tz, language)} "
        f"({w('timezone')} {md_escape(report.timezone)}). "
        f"{w('generated')}: {when(report.now, tz, language)}.",
        "",
        f"## {w('summary')}",
        "",
    ]
    r = report.response_all
    out += [
        f"- {w('mentions')}: **{n(report.total)}**",
        f"- {w('share_within')}: **{percent(r.share_within, language)}** "
        f"({n(r.within)} / {n(r.answered + r.missed)})",
        f"- {w('median')}: {d(r.median_s)} · {w('p90')}: {d(r.p90_s)}",
        f"- {w('overdue')}: {n(len(report.overdue))}",
        f"- {w('answered_late')}: {n(len(report.answered_late))}",
        f"- {w('routing')}: {n(report.routing.routed)} · {w('waiting')}: "
        f"{n(report.routing.waiting)} · {w('late')}: {n(report.routing.late)}",
        "",
        f"## {w('volume')}",
        "",
    ]
    channels = report.channels
    out += _md_table(
        [w("day"), *map(md_escape, channels), w("total")],
        (
            [
                day_label(day, language),
                *(n(report.volume[c][i]) for c in channels),
                n(report.per_day[i]),
            ]
            for i, day in enumerate(report.days)
        ),
    )
    out.append(
        "| **"
        + w("total")
        + "** | "
        + " | ".join(f"**{n(report.per_channel[c])}**" for c in channels)
        + (" | " if channels else "")
        + f"**{n(report.total)}** |"
    )
    out += ["", f"## {w('response')}", ""]
    rows = [[md_escape(c), *_response_cells(f, language)] for c, f in report.response.items()]
    rows.append([f"**{w('all')}**", *_response_cells(report.response_all, language)])
    out += _md_table(
        [
            w("channel"),
            w("norm"),
            w("with_norm"),
            w("answered"),
            w("within"),
            w("share_within"),
            w("median"),
            w("p90"),
            w("late"),
            w("missed"),
            w("pending"),
        ],
        rows,
    )
    out += ["", f"_{w('no_norm_note')}_", "", f"## {w('scheme')}", ""]
    leaves = [[md_escape(leaf_word(k, language)), n(v)] for k, v in report.leaves.items()]
    if report.untriaged:
        leaves.append([w("untriaged"), n(report.untriaged)])
    out += _md_table([w("leaf"), w("mentions")], leaves)
    out.append("")
    cats = [[md_escape(k), n(v)] for k, v in report.categories.items()]
    if report.uncategorised:
        cats.append([w("uncategorised"), n(report.uncategorised)])
    out += _md_table([w("category"), w("mentions")], cats)
    out += ["", f"## {w('tone')}", ""]
    out += _md_table(
        [w("day"), *(w(s) for s in SENTIMENTS), w("total")],
        (
            [
                day_label(day, language),
                *(n(report.sentiment[s][i]) for s in SENTIMENTS),
                n(report.per_day[i]),
            ]
            for i, day in enumerate(report.days)
        ),
    )
    out += ["", f"## {w('themes_rules')}", ""]
    out += _md_table([w("theme"), w("mentions")], ([md_escape(k), n(v)] for k, v in report.themes))
    out.append("")
    out += _md_table([w("rule"), w("mentions")], ([md_escape(k), n(v)] for k, v in report.rules))
    out += ["", f"## {w('voices')}", "", f"### {w('voices_count')}", ""]
    out += _voices_md(report.voices_by_count, language)
    out += ["", f"### {w('voices_reach')}", ""]
    out += _voices_md(report.voices_by_reach, language)
    out += ["", f"## {w('routing')}", ""]
    out += _md_table(
        [
            w("expert"),
            w("routed"),
            w("expert_answered"),
            w("waiting"),
            w("on_time"),
            w("late"),
            w("median"),
            w("p90"),
        ],
        [
            *([md_escape(e.name or "?"), *_routing_cells(e, language)] for e in report.experts),
            [f"**{w('all')}**", *_routing_cells(report.routing, language)],
        ],
    )
    out += ["", f"_{w('answer_time_note')}_", "", f"## {w('late_lists')}", ""]
    out += [f"### {w('overdue')} ({when(report.as_of, tz, language)})", ""]
    out += _late_md(report.overdue, tz, language, answered=False)
    out += ["", f"### {w('answered_late')}", ""]
    out += _late_md(report.answered_late, tz, language, answered=True)
    return "\n".join(out) + "\n"


def _response_cells(f: ResponseFigures, language: str) -> list[str]:
    def n(value: int | None) -> str:
        return number(value, language)

    return [
        "–" if f.norm_s is None else duration(f.norm_s, language),
        n(f.mentions),
        n(f.answered),
        n(f.within),
        percent(f.share_within, language),
        duration(f.median_s, language),
        duration(f.p90_s, language),
        n(f.late),
        n(f.missed),
        n(f.pending),
    ]


def _routing_cells(f: RoutingFigures, language: str) -> list[str]:
    def n(value: int | None) -> str:
        return number(value, language)

    return [
        n(f.routed),
        n(f.answered),
        n(f.waiting),
        n(f.on_time),
        n(f.late),
        duration(f.median_s, language),
        duration(f.p90_s, language),
    ]


def _voices_md(voices: Sequence[Voice], language: str) -> list[str]:
    if not voices:
        return [word("nothing", language)]
    return _md_table(
        [
            "#",
            word("author", language),
            word("channel", language),
            word("mentions", language),
            word("reach", language),
        ],
        (
            [
                str(i),
                md_escape(voice_label(v)),
                md_escape(v.channel),
                number(v.mentions, language),
                number(v.reach, language),
            ]
            for i, v in enumerate(voices, 1)
        ),
        right=3,
    )


def more_words(count: int, language: str) -> str:
    return f"… en nog {count}." if language == "nl" else f"… and {count} more."


def _late_md(items: Sequence[Late], tz: tzinfo, language: str, answered: bool) -> list[str]:
    if not items:
        return [word("nothing", language)]
    if len(items) > LIST_LIMIT:
        rest = len(items) - LIST_LIMIT
        return [
            *_late_md(items[:LIST_LIMIT], tz, language, answered),
            "",
            more_words(rest, language),
        ]
    header = [word("deadline", language), word("channel", language), word("author", language)]
    if answered:
        header.append(word("responded_at", language))
    header += [word("late_by", language), word("status", language), "id"]
    rows = []
    for x in items:
        row = [when(x.deadline, tz, language), md_escape(x.channel), md_escape(x.author)]
        if answered:
            row.append(when(x.responded_at, tz, language) if x.responded_at else "–")
        row += [
            duration(x.late_s, language),
            md_escape(_status(x.status, language)),
            f"`{md_escape(x.id)}`",
        ]
        rows.append(row)
    return _md_table(header, rows, right=len(header))


def _status(status: str, language: str) -> str:
    from webcare.i18n import status_word

    return status_word(status, language)


# --- JSON --------------------------------------------------------------------------------------


def _plain_fields(record: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, as plain JSON types."""
    return {f.name: _plain(getattr(record, f.name)) for f in fields(record)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON types: the Report's fields by name; times ISO 8601 in UTC,
    days YYYY-MM-DD; per-day lists aligned with "days"; durations in seconds (…_s)."""
    return _plain_fields(report)


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "key", "metric", "value")


def csv_rows(report: Report) -> Iterable[tuple[str, str, str, Any]]:
    """The long ("tidy") form: one figure per row, (section, key, metric, value).

    section        key                     metric                      value
    period         (empty)                 start, end, as_of, now      ISO 8601 (UTC)
    period         (empty)                 timezone                    e.g. Europe/Brussels
    volume         YYYY-MM-DD | total      <channel> | total           mentions
    response       <channel> | all         norm_s, mentions, answered, within, late, missed,
                                           pending, share_within (0..1), median_s, p90_s
    leaves         <leaf id> | untriaged   mentions
    categories     <category> | none       mentions
    statuses       <status>                mentions
    sentiment      YYYY-MM-DD              negative, neutral, positive, unknown
    themes/rules   <name>                  mentions
    voices_by_count, voices_by_reach
                   <rank> (1 = first)      channel, author, name, mentions, reach
    routing        <expert> | all          routed, answered, waiting, on_time, late,
                                           median_s, p90_s
    overdue, answered_late
                   <mention id>            channel, author, status, deadline, responded_at,
                                           late_s
    Empty value: not applicable (no norm, no answers to take a median of).
    """
    yield ("period", "", "start", report.start.isoformat())
    yield ("period", "", "end", report.end.isoformat())
    yield ("period", "", "as_of", report.as_of.isoformat())
    yield ("period", "", "now", report.now.isoformat())
    yield ("period", "", "timezone", report.timezone)
    for i, day in enumerate(report.days):
        for c in report.channels:
            yield ("volume", day.isoformat(), c, report.volume[c][i])
        yield ("volume", day.isoformat(), "total", report.per_day[i])
    for c in report.channels:
        yield ("volume", "total", c, report.per_channel[c])
    yield ("volume", "total", "total", report.total)
    for key, f in [*report.response.items(), ("all", report.response_all)]:
        for field in fields(ResponseFigures):
            yield ("response", key, field.name, getattr(f, field.name))
    for leaf, count in report.leaves.items():
        yield ("leaves", leaf, "mentions", count)
    yield ("leaves", "untriaged", "mentions", report.untriaged)
    for category, count in report.categories.items():
        yield ("categories", category, "mentions", count)
    yield ("categories", "none", "mentions", report.uncategorised)
    for status, count in report.statuses.items():
        yield ("statuses", status, "mentions", count)
    for i, day in enumerate(report.days):
        for s in SENTIMENTS:
            yield ("sentiment", day.isoformat(), s, report.sentiment[s][i])
    for name, count in report.themes:
        yield ("themes", name, "mentions", count)
    for name, count in report.rules:
        yield ("rules", name, "mentions", count)
    for section, voices in (
        ("voices_by_count", report.voices_by_count),
        ("voices_by_reach", report.voices_by_reach),
    ):
        for rank, v in enumerate(voices, 1):
            for field in fields(Voice):
                yield (section, str(rank), field.name, getattr(v, field.name))
    for r in [*report.experts, report.routing]:
        for field in fields(RoutingFigures):
            if field.name != "name":
                key = "all" if r is report.routing else (r.name or "?")
                yield ("routing", key, field.name, getattr(r, field.name))
    for section, items in (("overdue", report.overdue), ("answered_late", report.answered_late)):
        for x in items:
            for field in fields(Late):
                value = getattr(x, field.name)
                if field.name != "id":
                    yield (
                        section,
                        x.id,
                        field.name,
                        value.isoformat() if isinstance(value, datetime) else value,
                    )


def _cell(value: Any) -> Any:
    """A CSV cell. Text that a spreadsheet would run as a formula is prefixed with a quote
    (csv_cell): names and themes come from outside (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return csv_cell(value)


def to_csv(report: Report) -> str:
    """The report in the long form of `csv_rows` (a header row: section,key,metric,value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(report):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


# --- HTML --------------------------------------------------------------------------------------


def to_html(report: Report, language: str = "nl") -> str:
    """One self-contained HTML file (inline CSS and SVG charts; no scripts, no external
    resources) that opens offline. See webcare.report_html."""
    from webcare.report_html import render

    return render(report, language)
