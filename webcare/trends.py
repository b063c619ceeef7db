"""Themes and trends: how much is said about each theme and rule, which words are rising, and
when something spikes far above what is usual for the hour ("meten is weten").

Everything is measured against a baseline: the same clock hours on the previous days (seven by
default), in the desk's timezone, so a daily 9 o'clock peak or a quiet Sunday night is normal
and only what is unusual *for that hour* stands out. A spike (the volume of a theme, rule or of
all mentions, or their share of negative mentions, far above that baseline) is what the desk
shows as a crisis banner.

Design: a `TrendBook` keeps 5-minute buckets of what it was fed (`add()` one `Observation` per
mention, as they come in), so a query sums a few thousand small buckets instead of walking
every mention again. Per bucket it keeps, for "all" and every theme and rule, the number of
mentions and of negative ones; and the words of the texts, folded (webcare.watch.fold) and
without stop words, as a compact array of word ids (each word once per mention). Texts are
only split into words when words are first asked for (`top_terms`), so a desk that never opens
the trends view pays nothing for them; the word counts of the spans last asked are kept and
moved along with `now` (a poll later, a bucket or two enter and leave). `prune(now)` drops
what is older than the baseline needs.

Pure domain: no I/O, no wall clock (every query takes `now`), standard library only. Words in
the results come from outside (posts): show them as plain text, never as markup.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from webcare.known import unknown_key
from webcare.norms import parse_duration
from webcare.watch import fold

BUCKET = timedelta(minutes=5)
_BUCKET_S = 300
_PER_DAY = 86400 // _BUCKET_S  # buckets in a day
_PER_HOUR = 12
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# What is counted: ("all", ""), ("theme", name) or ("rule", name).
ALL, THEME, RULE = "all", "theme", "rule"
Subject = tuple[str, str]
EVERYTHING: Subject = (ALL, "")

# What spiked.
VOLUME = "volume"
NEGATIVE = "negative share"

# How a spike's expectation was found: the same hours on previous days, the hours just before
# (a desk with less than a day of history), or nothing at all (a fresh desk: a fixed floor).
BASIS_DAYS, BASIS_TRAILING, BASIS_NONE = "days", "trailing", "none"


@dataclass(frozen=True, slots=True)
class Observation:
    """What trends need of one mention. The desk builds it from a Mention: `at` is when it was
    said (published_at, but never later than first_seen_at, so a clock running ahead or a
    source catching up does not make a false burst), `text` its title and text, `id` its
    mention id (an id seen before is ignored, so feeding a mention twice is harmless)."""

    at: datetime
    themes: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    negative: bool = False
    text: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class TrendParams:
    """When a spike is raised; `from_config` reads them from a [trends] table.

    Volume: the last `window` has at least `min_count` mentions, at least `min_ratio` times the
    expected number, and is `k` standard deviations above it (the window against the baseline's
    days as two Poisson counts, so a baseline of one noisy day does not cry wolf). Negative share: at least `min_negative` negative mentions, a share
    at least `min_share_rise` above the baseline share, `k` standard deviations above it
    (binomial). The baseline share is smoothed with `prior_weight` mentions at `negative_prior`,
    so a theme that had three mentions last week does not make a baseline of 0 %.

    With less than a day of history the expectation comes from the `trailing` hours before the
    window (at least one window's worth), and a volume spike also needs `fresh_min_count`
    mentions (the hours before say little about a daily rhythm). With no history at all (a
    fresh desk), a theme or rule spikes on volume from `fresh_min_count` mentions in the
    window, "all" never does (a busy desk and a burst look the same with nothing to compare
    with), and the negative share is compared with `negative_prior`."""

    window: timedelta = timedelta(minutes=30)
    baseline_days: int = 7
    k: float = 5.0
    min_ratio: float = 2.0
    min_count: int = 10
    min_negative: int = 8
    min_share_rise: float = 0.25
    negative_prior: float = 0.3
    prior_weight: float = 10.0
    trailing: timedelta = timedelta(hours=6)
    fresh_min_count: int = 20

    def __post_init__(self) -> None:
        for name in ("window", "trailing"):
            value: timedelta = getattr(self, name)
            if value <= timedelta(0) or value % BUCKET:
                raise ValueError(
                    f"trends {name} must be a positive multiple of 5 minutes, not {value}"
                )
        if not 1 <= self.baseline_days <= 28:
            raise ValueError(f"trends baseline_days must be 1 to 28, not {self.baseline_days}")
        if not 0 < self.negative_prior < 1:
            raise ValueError("trends negative_prior must be between 0 and 1")

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> TrendParams:
        """From a config table: durations as '30m' / '1h', the rest as numbers. ValueError names
        an unknown key or a bad value."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in table.items():
            value: timedelta | int | float | None
            if key not in known:
                # config.py puts "[trends] " before it
                raise ValueError(unknown_key("", key, known))
            if key in ("window", "trailing"):
                value = parse_duration(str(raw))
                if value is None:
                    raise ValueError(f"trends {key} cannot be {raw!r}")
            elif key in ("baseline_days", "min_count", "min_negative", "fresh_min_count"):
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise ValueError(f"trends {key} must be a whole number, not {raw!r}")
                value = raw
            else:
                if isinstance(raw, bool) or not isinstance(raw, int | float):
                    raise ValueError(f"trends {key} must be a number, not {raw!r}")
                value = float(raw)
            values[key] = value
        return cls(**values)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Count:
    """One subject over a span (the last hour or day) against the same hours on previous days.
    `expected` is the mean per baseline day; None when there is no earlier day to compare with."""

    subject: Subject
    observed: int
    negative: int
    expected: float | None
    expected_negative: float | None
    days: int  # baseline days it is the mean of

    @property
    def ratio(self) -> float | None:
        """Observed over expected, smoothed by one so 3 against 0 is 4, not infinite."""
        return None if self.expected is None else (self.observed + 1) / (self.expected + 1)

    @property
    def score(self) -> float | None:
        """Standard deviations above the expectation (see _volume_z)."""
        if self.expected is None:
            return None
        return _volume_z(self.observed, self.expected * self.days, 1 / (1 + self.days))

    @property
    def share(self) -> float | None:
        return self.negative / self.observed if self.observed else None

    @property
    def expected_share(self) -> float | None:
        if not self.expected or self.expected_negative is None:
            return None
        return self.expected_negative / self.expected


@dataclass(frozen=True, slots=True)
class Series:
    """Counts per slot for a sparkline, oldest first; slots follow the clock and the last one
    holds now (so it is partly filled, and so is its expectation). `expected` is the mean of the same slots on previous
    days (empty without history)."""

    subject: Subject
    start: datetime
    step: timedelta
    observed: tuple[int, ...]
    negative: tuple[int, ...]
    expected: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Term:
    """A rising word: in `count` mentions of the span, where the baseline's share predicts
    `expected`; `score` is how far above, in standard deviations (Poisson)."""

    term: str
    count: int
    expected: float
    score: float


@dataclass(frozen=True, slots=True)
class Spike:
    """Something far above its baseline in the last window: the volume of mentions, or the share
    of negative ones. For VOLUME, `observed`/`expected` are counts; for NEGATIVE, shares (0–1)."""

    subject: Subject
    what: str  # VOLUME or NEGATIVE
    observed: float
    expected: float | None  # None: no history to compare with (a fresh desk's floor applied)
    count: int  # mentions in the window
    negative: int  # negative mentions in the window
    window: timedelta
    score: float
    basis: str  # BASIS_DAYS, BASIS_TRAILING or BASIS_NONE
    days: int = 0

    def text(self, language: str) -> str:
        """One sentence for the banner, in Dutch or English."""
        nl = language == "nl"
        who = subject_name(self.subject, language)
        span = _minutes(self.window, language)
        if self.what == VOLUME:
            head = f"Piek bij {who}" if nl else f"Spike in {who}"
            body = (
                f"{self.count} vermeldingen in {span}" if nl else f"{self.count} mentions in {span}"
            )
            if self.expected is None:
                usual_text = "nog zonder geschiedenis" if nl else "no history yet"
            else:
                usual = _about(self.expected)
                usual_text = f"normaal ongeveer {usual}" if nl else f"usually about {usual}"
        else:
            head = f"Negatieve piek bij {who}" if nl else f"Negative spike in {who}"
            pct = _percent(self.observed, language)
            body = (
                f"{self.negative} van {self.count} vermeldingen negatief ({pct}) in {span}"
                if nl
                else f"{self.negative} of {self.count} mentions negative ({pct}) in {span}"
            )
            base = self.expected if self.expected is not None else 0.0
            usual_text = ("normaal " if nl else "usually ") + _percent(base, language)
        return f"{head}: {body}, {usual_text}"


def subject_name(subject: Subject, language: str) -> str:
    """'thema mest' / 'theme mest', 'regel mestbank' / 'rule mestbank', 'alle vermeldingen' /
    'all mentions'."""
    kind, name = subject
    nl = language == "nl"
    if kind == ALL:
        return "alle vermeldingen" if nl else "all mentions"
    label = {THEME: ("thema", "theme"), RULE: ("regel", "rule")}.get(kind, (kind, kind))
    return f"{label[0] if nl else label[1]} {name}"


def banner(spikes: Sequence[Spike], language: str) -> str:
    """The crisis banner: the first (most telling) spike in a sentence, and how many more.
    Empty when nothing spiked."""
    if not spikes:
        return ""
    head = "Mogelijke crisis" if language == "nl" else "Possible crisis"
    more = len(spikes) - 1
    tail = ""
    if more:
        tail = f" (+{more} meer)" if language == "nl" else f" (+{more} more)"
    return f"{head} — {spikes[0].text(language)}{tail}"


def _minutes(span: timedelta, language: str) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} {'u' if language == 'nl' else 'h'}"
    return f"{minutes} min"


def _about(value: float) -> str:
    """6.0 → '6', 2.4 → '2.4', 31.7 → '32'."""
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _percent(share: float, language: str) -> str:
    return f"{share * 100:.0f} %" if language == "nl" else f"{share * 100:.0f}%"


# --- words -----------------------------------------------------------------------------------

# Folded (no accents) Dutch and English function words, and the noise of social media posts.
STOPWORDS = frozenset(
    """
    aan aangezien achter af al alle alleen als alsof altijd ander andere anders ben bent bij
    binnen daar daarom dan dat de der deze die dit doch doen door dus een eens eigen en er ge
    geen geweest haar had hadden heb hebben hebt heeft hem hen het hier hij hoe hun iemand iets
    ik in is ja je jij jou jouw jullie kan kon kunnen kunt maar me meer men met mij mijn moet
    moeten na naar niet niets nog nu of om omdat onder ons onze ook op over reeds te tegen toch
    toen tot u uit uw van veel voor vooral waar waarom wanneer want waren was wat we wel werd
    wie wij wil wilt word worden wordt zal ze zelf zich zij zijn zo zonder zou zouden zullen
    zeer heel even gewoon echt weer wordt hoor dag bedankt dank alvast graag goed nee
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also get got like one just
    don didn doesn isn wasn aren can't won't i'm it's
    http https www com amp via rt
    """.split()
)

_LETTERS = re.compile(r"[^\W\d_]+")  # runs of letters: "#Mestbank-regels!" → mestbank, regels


def terms(text: str) -> list[str]:
    """The words of a text that can trend: folded, without links, handles, e-mail addresses,
    numbers, stop words and words shorter than three letters; each once, in order."""
    out: dict[str, None] = {}
    for token in fold(text).split():
        if token.isalpha():  # most tokens: a plain word, no regular expression needed
            words: Sequence[str] = (token,)
        elif "@" in token or "://" in token or token.startswith("www."):
            continue  # handles, e-mail addresses, links
        else:
            words = _LETTERS.findall(token)
        for word in words:
            if 2 < len(word) <= 40 and word not in STOPWORDS:
                out[word] = None
    return list(out)


# --- sparklines ------------------------------------------------------------------------------

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int | None = None, top: float | None = None) -> str:
    """Values as block characters, scaled from 0 to `top` (default: the largest value); a zero
    is the lowest block and anything above zero at least the second, so a quiet slot and an
    empty one differ. With `width`, exactly that many characters: longer series are folded
    (each character the largest of its values, so a peak is never lost), shorter ones are
    right-aligned (the newest value at the right edge)."""
    vals = [max(0.0, float(v)) if v == v else 0.0 for v in values]  # v == v: not NaN
    if width is not None:
        if width <= 0:
            return ""
        if len(vals) > width:
            n = len(vals)
            vals = [max(vals[i * n // width : (i + 1) * n // width]) for i in range(width)]
    peak = max(vals, default=0.0) if top is None else float(top)
    out = []
    for v in vals:
        if v <= 0 or peak <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[min(7, max(1, round(v / peak * 7)))])
    line = "".join(out)
    return line if width is None else line.rjust(width)


# --- the book --------------------------------------------------------------------------------


class _Bucket:
    """Five minutes of observations."""

    __slots__ = ("counts", "pending", "words", "ids")

    def __init__(self) -> None:
        self.counts: dict[Subject, list[int]] = {}  # subject -> [mentions, negative ones]
        self.pending: list[str] = []  # texts not yet split into words
        self.words: array[int] = array("I")  # word ids, each word once per mention
        self.ids: list[str] = []  # mention ids, forgotten with the bucket


def _volume_z(observed: float, baseline: float, share: float) -> float:
    """How far `observed` is above what it should be if the window and the baseline have the
    same rate, in standard deviations: of the `observed + baseline` mentions, the window should
    hold its `share` of the time (the conditional binomial test for two Poisson counts). It
    holds up on a baseline of one noisy day, where comparing with the baseline's mean alone
    would cry wolf."""
    total = observed + baseline
    mean = total * share
    # +0.25: with almost nothing counted, a handful is not a 6-sigma event
    return (observed - mean) / math.sqrt(total * share * (1 - share) + 0.25)


class TrendBook:
    """What was said when, in 5-minute buckets; answers the trend questions for any `now`.

    `tz` is the desk's timezone (the "same hours" on previous days are its clock hours, also
    across a daylight-saving change). `since` is when the desk began collecting: days before it
    are no baseline (they are unknown, not quiet). Without it, the earliest observation counts;
    pass it when old posts (a feed's backlog) can be among the first observations."""

    def __init__(
        self, params: TrendParams | None = None, tz: tzinfo = UTC, since: datetime | None = None
    ) -> None:
        self.params = params or TrendParams()
        self.tz = tz
        self._since = None if since is None else since.timestamp()
        self._first: float | None = None
        self._buckets: dict[int, _Bucket] = {}
        self._subjects: dict[Subject, Subject] = {EVERYTHING: EVERYTHING}  # one tuple per subject
        self._seen: set[str] = set()
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        self._pending = 0  # buckets with unsplit texts
        self._sums: dict[tuple[str, int], _WordSum] = {}  # word counts of the spans last asked
        self._hours: dict[int, dict[Subject, list[int]]] = {}  # counts per clock hour, kept

    @classmethod
    def of(cls, observations: Iterable[Observation], **kwargs: Any) -> TrendBook:
        book = cls(**kwargs)
        book.extend(observations)
        return book

    # --- feeding -----------------------------------------------------------------------------

    def add(self, obs: Observation) -> bool:
        """Count one observation; False if its id was counted before."""
        if obs.at.tzinfo is None:
            raise ValueError("an observation's time must be timezone-aware")
        if obs.id:
            if obs.id in self._seen:
                return False
            self._seen.add(obs.id)
        ts = obs.at.timestamp()
        idx = int(ts // _BUCKET_S)
        bucket = self._buckets.get(idx)
        if bucket is None:
            bucket = self._buckets[idx] = _Bucket()
        if self._hours:
            self._hours.pop(idx // _PER_HOUR, None)
        neg = 1 if obs.negative else 0
        counts = bucket.counts
        entry = counts.get(EVERYTHING)
        if entry is None:
            counts[EVERYTHING] = [1, neg]
        else:
            entry[0] += 1
            entry[1] += neg
        if obs.themes or obs.rules:
            subjects = self._subjects
            for kind, names in ((THEME, obs.themes), (RULE, obs.rules)):
                for name in dict.fromkeys(names) if len(names) > 1 else names:
                    key = (kind, name)
                    subject = subjects.get(key)
                    if subject is None:
                        subject = subjects[key] = key
                    entry = counts.get(subject)
                    if entry is None:
                        counts[subject] = [1, neg]
                    else:
                        entry[0] += 1
                        entry[1] += neg
        if obs.text:
            if not bucket.pending:
                self._pending += 1
            bucket.pending.append(obs.text)
        if obs.id:
            bucket.ids.append(obs.id)
        if self._first is None or ts < self._first:
            self._first = ts
        return True

    def extend(self, observations: Iterable[Observation]) -> int:
        """Count many; how many were new."""
        add = self.add
        return sum(1 for obs in observations if add(obs))

    def prune(self, now: datetime) -> int:
        """Forget the buckets the baseline no longer needs (older than baseline_days + 1 days,
        plus a window, before `now`); how many were dropped."""
        p = self.params
        keep = now - DAY * (p.baseline_days + 1) - max(p.window, p.trailing) - HOUR
        horizon = int(keep.timestamp() // _BUCKET_S)
        old = [i for i in self._buckets if i < horizon]
        for i in old:
            bucket = self._buckets.pop(i)
            self._hours.pop(i // _PER_HOUR, None)
            for cached in self._sums.values():
                if i in cached.members:
                    cached.members.discard(i)
                    cached.counts.subtract(bucket.words)
            if bucket.pending:
                self._pending -= 1
            self._seen.difference_update(bucket.ids)
        return len(old)

    def __len__(self) -> int:
        return sum(b.counts[EVERYTHING][0] for b in self._buckets.values())

    @property
    def since(self) -> datetime | None:
        start = self._since if self._since is not None else self._first
        return None if start is None else datetime.fromtimestamp(start, UTC)

    # --- time --------------------------------------------------------------------------------

    def _back(self, moment: datetime, days: int) -> datetime:
        """The same clock time `days` earlier in the desk's timezone (wall-clock arithmetic, so
        a daylight-saving change in between keeps 9 o'clock at 9 o'clock)."""
        if self.tz is UTC:
            return moment - timedelta(days=days)
        local = moment.astimezone(self.tz) - timedelta(days=days)
        return local.astimezone(UTC)

    @staticmethod
    def _position(moment: datetime) -> tuple[int, float]:
        """The bucket holding `moment`, and how much of it has passed (0–1)."""
        ts = moment.timestamp()
        idx = int(ts // _BUCKET_S)
        return idx, (ts - idx * _BUCKET_S) / _BUCKET_S

    def _start_idx(self) -> int | None:
        start = self._since if self._since is not None else self._first
        return None if start is None else int(start // _BUCKET_S)

    def _baseline_ends(self, now: datetime, nbuckets: int) -> list[tuple[int, float]]:
        """For each previous day with history for the whole window: the bucket the window ends
        in on that day, and how much of it to count."""
        first = self._start_idx()
        ends: list[tuple[int, float]] = []
        if first is None:
            return ends
        for d in range(1, self.params.baseline_days + 1):
            end, frac = self._position(self._back(now, d))
            if end - nbuckets + 1 >= first:
                ends.append((end, frac))
        return ends

    # --- sums --------------------------------------------------------------------------------

    def _hour(self, j: int) -> dict[Subject, list[int]]:
        """The counts of clock hour j (buckets 12j … 12j+11): summed once, kept until a mention
        is added to it, so a day's query sums 24 hours instead of 288 buckets."""
        got = self._hours.get(j)
        if got is None:
            got = {}
            for i in range(j * _PER_HOUR, (j + 1) * _PER_HOUR):
                bucket = self._buckets.get(i)
                if bucket is not None:
                    for subject, (n, neg) in bucket.counts.items():
                        entry = got.get(subject)
                        if entry is None:
                            got[subject] = [n, neg]
                        else:
                            entry[0] += n
                            entry[1] += neg
            self._hours[j] = got
        return got

    @staticmethod
    def _add(into: dict[Subject, list[float]], counts: dict[Subject, list[int]], w: float) -> None:
        for subject, (n, neg) in counts.items():
            entry = into.get(subject)
            if entry is None:
                into[subject] = [n * w, neg * w]
            else:
                entry[0] += n * w
                entry[1] += neg * w

    def _tally(
        self, end: int, nbuckets: int, last: float, into: dict[Subject, list[float]]
    ) -> None:
        """Add the counts of buckets end-nbuckets+1 … end to `into`, the last one × `last`."""
        buckets = self._buckets
        i = end - nbuckets + 1
        while i <= end:
            if i % _PER_HOUR == 0 and i + _PER_HOUR - 1 < end:  # a whole hour before the end
                self._add(into, self._hour(i // _PER_HOUR), 1.0)
                i += _PER_HOUR
                continue
            bucket = buckets.get(i)
            if bucket is not None:
                self._add(into, bucket.counts, last if i == end else 1.0)
            i += 1

    @staticmethod
    def _buckets_in(span: timedelta) -> int:
        if span <= timedelta(0) or span % BUCKET:
            raise ValueError(f"a span must be a positive multiple of 5 minutes, not {span}")
        return int(span / BUCKET)

    # --- queries -----------------------------------------------------------------------------

    def counts(self, now: datetime, span: timedelta = HOUR) -> list[Count]:
        """Every subject seen in the last `span` or its baseline: mentions and negative ones,
        against the mean of the same hours on previous days. "all" first, then themes, then
        rules, each busiest first."""
        n = self._buckets_in(span)
        end, _ = self._position(now)
        observed: dict[Subject, list[float]] = {}
        self._tally(end, n, 1.0, observed)
        ends = self._baseline_ends(now, n)
        base: dict[Subject, list[float]] = {}
        for day_end, frac in ends:
            self._tally(day_end, n, frac, base)
        days = len(ends)
        rows = []
        for subject in observed.keys() | base.keys():
            got = observed.get(subject, (0, 0))
            exp = base.get(subject, (0.0, 0.0))
            rows.append(
                Count(
                    subject=subject,
                    observed=int(got[0]),
                    negative=int(got[1]),
                    expected=exp[0] / days if days else None,
                    expected_negative=exp[1] / days if days else None,
                    days=days,
                )
            )
        order = {ALL: 0, THEME: 1, RULE: 2}
        rows.sort(key=lambda c: (order.get(c.subject[0], 3), -c.observed, c.subject[1]))
        return rows

    def series(
        self,
        now: datetime,
        span: timedelta = HOUR,
        slots: int | None = None,
        subjects: Iterable[Subject] | None = None,
    ) -> dict[Subject, Series]:
        """Counts per slot for sparklines, for every subject seen in the span (or the ones
        asked for): by default 12 slots of 5 minutes for an hour, 24 of an hour for a day.
        Slots follow the clock: the last is the current 5 minutes or hour, partly filled."""
        n = self._buckets_in(span)
        if slots is None:
            slots = (
                12 if span <= 2 * HOUR else int(span / HOUR) if span % HOUR == timedelta(0) else n
            )
        if slots <= 0 or n % slots:
            raise ValueError(f"{span} does not divide into {slots} slots of whole 5-minute buckets")
        per = n // slots
        end, _ = self._position(now)
        first = (end // per - slots + 1) * per

        def slotted(day_end: int, frac: float, into: dict[Subject, list[list[float]]]) -> None:
            lo = (day_end // per - slots + 1) * per
            for slot in range(slots):
                s0 = lo + slot * per
                if per == _PER_HOUR and s0 + per - 1 < day_end:
                    parts = [(self._hour(s0 // per), 1.0)]
                else:
                    parts = [
                        (b.counts, frac if i == day_end else 1.0)
                        for i in range(s0, min(s0 + per - 1, day_end) + 1)
                        if (b := self._buckets.get(i)) is not None
                    ]
                for counts, w in parts:
                    for subject, (c, neg) in counts.items():
                        rows = into.get(subject)
                        if rows is None:
                            rows = into[subject] = [[0.0] * slots, [0.0] * slots]
                        rows[0][slot] += c * w
                        rows[1][slot] += neg * w

        observed: dict[Subject, list[list[float]]] = {}
        slotted(end, 1.0, observed)
        ends = self._baseline_ends(now, n)
        base: dict[Subject, list[list[float]]] = {}
        for day_end, frac in ends:
            slotted(day_end, frac, base)
        wanted = list(observed) if subjects is None else list(subjects)
        zeros = [[0.0] * slots, [0.0] * slots]
        out = {}
        for subject in wanted:
            got = observed.get(subject, zeros)
            exp = base.get(subject, zeros)[0]
            out[subject] = Series(
                subject=subject,
                start=datetime.fromtimestamp(first * _BUCKET_S, UTC),
                step=BUCKET * per,
                observed=tuple(int(v) for v in got[0]),
                negative=tuple(int(v) for v in got[1]),
                expected=tuple(v / len(ends) for v in exp) if ends else (),
            )
        return out

    def spikes(self, now: datetime) -> list[Spike]:
        """What is far above its baseline in the last window (TrendParams): themes and rules
        first, then "all"; within each, the strongest first."""
        p = self.params
        n = self._buckets_in(p.window)
        end, frac = self._position(now)
        observed: dict[Subject, list[float]] = {}
        self._tally(end, n, 1.0, observed)
        if not observed:
            return []
        length = n - 1 + frac  # the window in buckets: the last one is still filling
        ends = self._baseline_ends(now, n)
        base: dict[Subject, list[float]] = {}
        basis, days, scale = BASIS_NONE, 0, 0.0
        if ends:
            basis, days, scale = BASIS_DAYS, len(ends), 1.0 / len(ends)
            for day_end, f in ends:
                self._tally(day_end, n, f, base)
        else:
            # Less than a day of history: the hours just before the window, if long enough.
            lo = max(self._start_idx() or 0, end - n + 1 - int(p.trailing / BUCKET))
            have = end - n + 1 - lo
            if have >= n:
                basis, scale = BASIS_TRAILING, length / have
                self._tally(end - n, have, 1.0, base)
        found = []
        for subject, (count_f, neg_f) in observed.items():
            count, neg = int(count_f), int(neg_f)
            b_count, b_neg = base.get(subject, (0.0, 0.0))

            spike = partial(
                Spike, subject, count=count, negative=neg, window=p.window, basis=basis, days=days
            )

            # volume
            if basis == BASIS_NONE:
                if subject[0] != ALL and count >= p.fresh_min_count:
                    found.append(spike(VOLUME, count, None, score=float(count)))
            else:
                expected = b_count * scale
                z = _volume_z(count, b_count, scale / (1 + scale))
                # the hours before are no baseline for a daily rhythm (the morning rush after
                # a quiet night): without a previous day, volume also needs the fresh floor
                least = p.min_count if basis == BASIS_DAYS else max(p.min_count, p.fresh_min_count)
                if count >= least and count >= p.min_ratio * expected and z >= p.k:
                    found.append(spike(VOLUME, count, expected, score=z))
            # negative share
            if neg >= p.min_negative:
                share0 = (b_neg + p.prior_weight * p.negative_prior) / (b_count + p.prior_weight)
                share0 = min(max(share0, 0.02), 0.95)
                share = neg / count
                z = (neg - count * share0) / math.sqrt(count * share0 * (1 - share0))
                if share >= share0 + p.min_share_rise and z >= p.k:
                    expected_share = None if basis == BASIS_NONE else share0
                    found.append(spike(NEGATIVE, share, expected_share, score=z))
        found.sort(key=lambda s: (s.subject[0] == ALL, -s.score, s.subject[1], s.what))
        return found

    # --- words -------------------------------------------------------------------------------

    def _split_pending(self) -> None:
        """Split the texts not yet split into word ids (each word once per mention)."""
        if not self._pending:
            return
        vocab, words = self._vocab, self._words
        for i, bucket in self._buckets.items():
            if not bucket.pending:
                continue
            ids = bucket.words
            start = len(ids)
            for text in bucket.pending:
                for word in terms(text):
                    wid = vocab.get(word)
                    if wid is None:
                        wid = vocab[word] = len(words)
                        words.append(word)
                    ids.append(wid)
            bucket.pending = []
            for cached in self._sums.values():
                if i in cached.members:
                    cached.counts.update(ids[start:])
        self._pending = 0

    def _word_sum(self, key: tuple[str, int], wanted: set[int]) -> Counter[int]:
        """The word counts of the buckets `wanted`, from the last ones asked under `key`: a poll
        later the window has moved a bucket or two, so only those are added and taken off."""
        buckets = self._buckets
        cached = self._sums.get(key)
        if cached is None or len(wanted ^ cached.members) > len(wanted):
            counts: Counter[int] = Counter()
            for i in wanted:
                bucket = buckets.get(i)
                if bucket is not None and bucket.words:
                    counts.update(bucket.words)
            self._sums[key] = _WordSum(wanted, counts)
            return counts
        counts = cached.counts
        for i in cached.members - wanted:
            bucket = buckets.get(i)
            if bucket is not None and bucket.words:
                counts.subtract(bucket.words)
        for i in wanted - cached.members:
            bucket = buckets.get(i)
            if bucket is not None and bucket.words:
                counts.update(bucket.words)
        cached.members = wanted
        return counts

    def _docs(self, members: Iterable[int]) -> int:
        buckets = self._buckets
        return sum(b.counts[EVERYTHING][0] for i in members if (b := buckets.get(i)))

    def top_terms(
        self, now: datetime, span: timedelta = HOUR, k: int = 10, min_count: int = 3
    ) -> list[Term]:
        """The k words rising most in the last `span` (at most a day) against the same hours
        on previous days: a word in `count` mentions where the baseline's share of mentions
        with it predicts `expected`; ranked by (count - expected) / sqrt(expected + 1). On a
        fresh desk (no baseline) that is simply the most frequent words."""
        n = self._buckets_in(span)
        if n > _PER_DAY:
            raise ValueError("top terms are for a span of at most a day")
        self._split_pending()
        end, _ = self._position(now)
        members = set(range(end - n + 1, end + 1))
        window = self._word_sum(("window", n), members)
        docs = self._docs(members)
        if not docs:
            return []
        base_members: set[int] = set()
        for day_end, _frac in self._baseline_ends(now, n):
            base_members.update(range(day_end - n + 1, day_end + 1))
        base = self._word_sum(("baseline", n), base_members)
        base_docs = self._docs(base_members)
        scale = docs / base_docs if base_docs else 0.0
        words, get, sqrt = self._words, base.get, math.sqrt
        candidates = []
        for wid, c in window.items():
            if c >= min_count:
                expected = get(wid, 0) * scale
                if c > expected:
                    candidates.append(((c - expected) / sqrt(expected + 1), c, wid, expected))
        best = heapq.nlargest(k, candidates)  # tuples compare in C; ties settled by name below
        if len(best) == k:
            cut = best[-1][:2]
            best = [t for t in candidates if t[:2] >= cut]
        best.sort(key=lambda t: (-t[0], -t[1], words[t[2]]))
        return [Term(words[wid], c, expected, score) for score, c, wid, expected in best[:k]]


@dataclass(slots=True)
class _WordSum:
    """The word counts of a set of buckets."""

    members: set[int]
    counts: Counter[int]
