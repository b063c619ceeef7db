"""The shift handover: what the next person on duty needs to know when they take over.

`handover(mentions, since, now, tz, notes)` collects, since the shift began:

- came in: mentions first seen in [since, now] (first_seen_at: what reached the desk during
  the shift, also a post published before it), per channel; the notable ones among them:
  urgent or high priority, on the watchlist (journalist, politician, …), or negative;
- answered: replies recorded in [since, now] (responded_at), whenever the mention came in,
  and by whom (the operator of the history entry that recorded the reply);
- open: every mention that still owes a reply (Mention.owed), whenever it came in, soonest
  deadline first (those without a norm last), with the time left or overdue at `now`;
- with the experts: routed (routed_at) and no answer back (answered_at) yet, not closed or
  moderated, soonest due first; late when routed_due has passed;
- drafts: replies written and not sent yet (webcare.drafts.Draft), whenever they were
  written, of mentions not answered or closed, oldest first: the next shift finishes them;
- the notes the operator leaves for the next shift (`Note`: at, who, text), oldest first.

The shift's start comes from [shifts] in config.toml (webcare/shifts.py).

Pure domain: standard library only, no I/O, no wall clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from webcare import i18n
from webcare.drafts import Draft, finished
from webcare.history import REPLY_EVENTS, Event
from webcare.i18n import countdown, status_word, when
from webcare.mention import Mention, Status
from webcare.report import md_escape
from webcare.shifts import (  # noqa: F401 (the handover's shifts, as callers know them from here)
    Shift,
    ShiftSpec,
    current_shift,
    parse_shift,
    parse_shifts,
    shift_start,
)
from webcare.untrusted import first_line

# --- notes and shifts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """A note for the next shift. `text` is the operator's own words, shown as plain text."""

    at: datetime
    who: str
    text: str


# --- the handover ----------------------------------------------------------------------------

PRIORITY_RANK = {"urgent": 0, "high": 1}
CLOSED = frozenset({Status.CLOSED, Status.MODERATED, Status.NO_REACTION})


@dataclass(frozen=True, slots=True)
class Item:
    """A mention as the handover shows it. Text fields come from outside: plain text."""

    id: str
    channel: str
    author: str
    text: str  # the first line, at most 140 characters
    status: str
    priority: str
    watchlist: str
    sentiment: str
    first_seen_at: datetime
    deadline: datetime | None
    routed_to: str | None
    routed_due: datetime | None
    reasons: tuple[str, ...] = ()  # why it is notable: urgent, high, watchlist, negative


@dataclass(frozen=True, slots=True)
class Answered:
    item: Item
    who: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OpenDraft:
    """A reply not sent yet: the mention, who wrote it (plain text), when it was last kept."""

    item: Item
    operator: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Handover:
    since: datetime
    now: datetime
    timezone: str
    shift: str  # the shift's name, when known
    came_in: int
    per_channel: dict[str, int]  # most first
    notable: tuple[Item, ...]  # urgent, high, watchlist, negative (in that order), then time
    answered: tuple[Answered, ...]  # in order of the reply
    answered_by: dict[str, int]  # operator → replies, most first
    open: tuple[Item, ...]  # owed, soonest deadline first, no deadline last
    overdue: int  # of open: past the deadline at now
    experts: tuple[Item, ...]  # waiting on an expert, soonest due first
    experts_late: int
    notes: tuple[Note, ...]
    drafts: tuple[OpenDraft, ...] = ()  # unsent replies of open mentions, oldest first


def _reasons(m: Mention) -> tuple[str, ...]:
    if m.followed_only:  # a followed voice on other things than us: no news for the next shift
        return ()
    out = []
    if m.priority in PRIORITY_RANK:
        out.append(m.priority)
    if m.watchlist:
        out.append("watchlist")
    if m.sentiment == "negative":
        out.append("negative")
    return tuple(out)


def _item(m: Mention, reasons: tuple[str, ...] = ()) -> Item:
    return Item(
        id=m.id,
        channel=m.channel,
        author=m.author,
        text=first_line(m.title or m.text, 140),
        status=m.status,
        priority=m.priority,
        watchlist=m.watchlist,
        sentiment=m.sentiment,
        first_seen_at=m.first_seen_at,
        deadline=m.deadline,
        routed_to=m.routed_to,
        routed_due=m.routed_due,
        reasons=reasons,
    )


def replied_by(m: Mention) -> str:
    """Who recorded the reply: the operator of the last history entry that set responded_at
    (else the last reply event: recorded or sent); '?' when the history does not tell."""
    fallback = "?"
    for entry in reversed(m.history):
        changes = entry.get("changes") or {}
        if changes.get("responded_at"):
            return str(entry.get("who") or "?")
        event = Event.of(entry)
        if fallback == "?" and event is not None and event.kind in REPLY_EVENTS:
            fallback = str(entry.get("who") or "?")
    return fallback


def _notable_key(item: Item) -> tuple[int, datetime, str]:
    order = ("urgent", "high", "watchlist", "negative")
    return (min(order.index(r) for r in item.reasons), item.first_seen_at, item.id)


def handover(
    mentions: Iterable[Mention],
    since: datetime,
    now: datetime,
    tz: tzinfo,
    notes: Iterable[Note] = (),
    shift: str = "",
    drafts: Iterable[Draft] = (),
) -> Handover:
    """What the next shift needs to know (see the module docstring)."""
    wanted = {d.mention_id: d for d in drafts}
    open_drafts: list[OpenDraft] = []
    came_in = 0
    per_channel: Counter[str] = Counter()
    notable: list[Item] = []
    answered: list[Answered] = []
    open_: list[Item] = []
    experts: list[Item] = []
    overdue = experts_late = 0
    for m in mentions:
        if m.id in wanted and not finished(m.status):
            d = wanted[m.id]
            open_drafts.append(OpenDraft(_item(m), d.operator, d.saved_at))
        if since <= m.first_seen_at <= now:
            came_in += 1
            per_channel[m.channel] += 1
            reasons = _reasons(m)
            if reasons:
                notable.append(_item(m, reasons))
        if m.responded_at is not None and since <= m.responded_at <= now:
            answered.append(Answered(_item(m), replied_by(m), m.responded_at))
        if m.owed:
            open_.append(_item(m))
            if m.deadline is not None and m.deadline < now:
                overdue += 1
        if m.routed_at is not None and m.answered_at is None and m.status not in CLOSED:
            experts.append(_item(m))
            if m.routed_due is not None and m.routed_due < now:
                experts_late += 1
    far = datetime.max.replace(tzinfo=UTC)
    by_whom = Counter(a.who for a in answered)
    return Handover(
        since=since.astimezone(UTC),
        now=now.astimezone(UTC),
        timezone=str(getattr(tz, "key", tz)),
        shift=shift,
        came_in=came_in,
        per_channel=dict(sorted(per_channel.items(), key=lambda kv: (-kv[1], kv[0]))),
        notable=tuple(sorted(notable, key=_notable_key)),
        answered=tuple(sorted(answered, key=lambda a: (a.at, a.item.id))),
        answered_by=dict(sorted(by_whom.items(), key=lambda kv: (-kv[1], kv[0].casefold()))),
        open=tuple(sorted(open_, key=lambda i: (i.deadline or far, i.first_seen_at, i.id))),
        overdue=overdue,
        experts=tuple(sorted(experts, key=lambda i: (i.routed_due or far, i.id))),
        experts_late=experts_late,
        notes=tuple(sorted(notes, key=lambda n: n.at)),
        drafts=tuple(sorted(open_drafts, key=lambda d: (d.at, d.item.id))),
    )


# --- Markdown --------------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "title": {"nl": "Overdracht", "en": "Shift handover"},
    "shift": {"nl": "dienst", "en": "shift"},
    "since": {"nl": "sinds", "en": "since"},
    "until": {"nl": "tot", "en": "until"},
    "came_in": {"nl": "Binnengekomen", "en": "Came in"},
    "notable": {"nl": "Opvallend", "en": "Notable"},
    "answered": {"nl": "Beantwoord", "en": "Answered"},
    "by": {"nl": "door", "en": "by"},
    "open": {"nl": "Nog open, op deadline", "en": "Still open, by deadline"},
    "overdue": {"nl": "over de deadline", "en": "past the deadline"},
    "no_norm": {"nl": "geen norm", "en": "no norm"},
    "experts": {"nl": "Wacht op experts", "en": "Waiting on experts"},
    "due": {"nl": "verwacht", "en": "due"},
    "late": {"nl": "te laat", "en": "late"},
    "notes": {"nl": "Notities voor de volgende dienst", "en": "Notes for the next shift"},
    "drafts": {"nl": "Concepten, nog niet verstuurd", "en": "Drafts, not sent yet"},
    "draft_by": {"nl": "concept van", "en": "draft by"},
    "nothing": {"nl": "Niets.", "en": "Nothing."},
    "urgent": {"nl": "dringend", "en": "urgent"},
    "high": {"nl": "hoog", "en": "high"},
    "watchlist": {"nl": "volglijst", "en": "watchlist"},
    "negative": {"nl": "negatief", "en": "negative"},
}


def word(key: str, language: str) -> str:
    return i18n.word(key, language, WORDS)


def _line(item: Item, language: str) -> str:
    text = f" — {md_escape(item.text)}" if item.text else ""
    return f"{md_escape(item.channel)} · {md_escape(item.author)}{text} (`{md_escape(item.id)}`)"


def to_markdown(h: Handover, language: str = "nl") -> str:
    """The handover as Markdown, to print, paste in the team chat or mail."""
    from zoneinfo import ZoneInfo

    try:
        tz: tzinfo = ZoneInfo(h.timezone)
    except Exception:
        tz = UTC
    def w(key: str) -> str:
        return word(key, language)

    def at(moment: datetime) -> str:
        return when(moment, tz, language)

    shift = f" — {w('shift')} {md_escape(h.shift)}" if h.shift else ""
    out = [
        f"# {w('title')}{shift}",
        "",
        f"{w('since').capitalize()} {at(h.since)} {w('until')} {at(h.now)}.",
        "",
        f"## {w('came_in')}: {h.came_in}",
        "",
    ]
    if h.per_channel:
        out.append(", ".join(f"{md_escape(c)} {n}" for c, n in h.per_channel.items()))
        out.append("")
    if h.notable:
        out += [f"### {w('notable')}: {len(h.notable)}", ""]
        for item in h.notable:
            why = ", ".join(
                f"{w(r)} ({md_escape(item.watchlist)})"
                if r == "watchlist" and item.watchlist
                else w(r)
                for r in item.reasons
            )
            out.append(f"- **{why}** · {at(item.first_seen_at)} · {_line(item, language)}")
        out.append("")
    out += [f"## {w('answered')}: {len(h.answered)}", ""]
    if h.answered_by:
        out.append(
            f"{w('by').capitalize()}: "
            + ", ".join(f"{md_escape(who)} {n}" for who, n in h.answered_by.items())
        )
        out.append("")
    for a in h.answered:
        out.append(f"- {at(a.at)} · {md_escape(a.who)} · {_line(a.item, language)}")
    if h.answered:
        out.append("")
    overdue = f" ({h.overdue} {w('overdue')})" if h.overdue else ""
    out += [f"## {w('open')}: {len(h.open)}{overdue}", ""]
    for item in h.open:
        left = (
            w("no_norm")
            if item.deadline is None
            else f"**{countdown(item.deadline - h.now, language)}** ({at(item.deadline)})"
        )
        out.append(
            f"- {left} · {md_escape(status_word(item.status, language))} · {_line(item, language)}"
        )
    if not h.open:
        out.append(w("nothing"))
    out.append("")
    late = f" ({h.experts_late} {w('late')})" if h.experts_late else ""
    out += [f"## {w('experts')}: {len(h.experts)}{late}", ""]
    for item in h.experts:
        due = ""
        if item.routed_due is not None:
            due = f" · {w('due')} {at(item.routed_due)} (**{countdown(item.routed_due - h.now, language)}**)"
        out.append(f"- {md_escape(item.routed_to or '?')}{due} · {_line(item, language)}")
    if not h.experts:
        out.append(w("nothing"))
    out += ["", f"## {w('drafts')}: {len(h.drafts)}", ""]
    for d in h.drafts:
        out.append(f"- {at(d.at)} · {w('draft_by')} **{md_escape(d.operator)}** · {_line(d.item, language)}")
    if not h.drafts:
        out.append(w("nothing"))
    out += ["", f"## {w('notes')}", ""]
    for note in h.notes:
        out.append(f"- {at(note.at)} · **{md_escape(note.who)}**: {md_escape(note.text)}")
    if not h.notes:
        out.append(w("nothing"))
    return "\n".join(out) + "\n"
