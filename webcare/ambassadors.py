"""Ambassadors: the colleagues and fans on the watchlist who share what we publish.

Only those who opted in get anything: a [[watch.people]] entry of kind ambassador-internal or
ambassador-external with an `email`. They get

- a daily digest of what the content calendar plans to publish (today and the coming days,
  `[ambassadors] days`), sent once a day from `[ambassadors] digest_at` by the collector, so
  they can share it when it goes out;
- a positive mention the desk passes on to them (L4, "thank personally / amplify"): the post
  and its link, to like or share.

    [ambassadors]
    digest_at = "08:00"     # the time of day (desk's timezone) the digest goes out; "" = never
    days = 2                # today and tomorrow

Nothing here does I/O: the messages are plain text (sources/handoff.py sends them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from webcare.i18n import when
from webcare.known import refuse_unknown
from webcare.mention import Mention
from webcare.planning import PLANNED, PUBLISHED, PlanItem, sort_key
from webcare.routing import Handoff, _snippet, subject_tag
from webcare.untrusted import clean_line, clean_text
from webcare.watch import KIND_GROUPS, Watch

KINDS = KIND_GROUPS["ambassadors"]
SHARED = (PLANNED, PUBLISHED)  # what is (about to be) out there; drafts, ideas and held posts are not
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_KEYS = {"digest_at", "days"}


@dataclass(frozen=True, slots=True)
class Ambassador:
    name: str
    email: str
    handle: str


@dataclass(frozen=True, slots=True)
class AmbassadorSettings:
    """[ambassadors]: when the daily digest goes out (None: never) and how many days it covers."""

    digest_at: dt.time | None = dt.time(8, 0)
    days: int = 2


def parse_settings(table: Any) -> AmbassadorSettings:
    """[ambassadors] from config.toml; ValueError naming the key."""
    if table is None:
        return AmbassadorSettings()
    if not isinstance(table, dict):
        raise ValueError("[ambassadors] must be a table")
    refuse_unknown(table, "[ambassadors] ", _KEYS)
    at = table.get("digest_at", "08:00")
    if not isinstance(at, str):
        raise ValueError(f"[ambassadors] digest_at: must be a time like \"08:00\" (or \"\" for no digest), not {at!r}")
    digest_at = None
    if at.strip():
        m = _TIME.match(at.strip())
        if not m:
            raise ValueError(f"[ambassadors] digest_at: {at!r} is not a time like \"08:00\" (or \"\" for no digest)")
        digest_at = dt.time(int(m[1]), int(m[2]))
    days = table.get("days", 2)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 14:
        raise ValueError(f"[ambassadors] days: must be a whole number from 1 to 14, not {days!r}")
    return AmbassadorSettings(digest_at, days)


def ambassadors(watch: Watch) -> list[Ambassador]:
    """The ambassadors who opted in (they have an e-mail address), one per address."""
    out: dict[str, Ambassador] = {}
    for p in watch.people:
        email = getattr(p, "email", "")
        if p.kind in KINDS and email and email.casefold() not in out:
            out[email.casefold()] = Ambassador(p.name or p.handle, email, p.handle)
    return list(out.values())


def digest_due(settings: AmbassadorSettings, now: dt.datetime, tz: dt.tzinfo) -> dt.date | None:
    """The day whose digest is due at `now` (from digest_at on, that day), else None."""
    if settings.digest_at is None:
        return None
    local = now.astimezone(tz)
    return local.date() if local.time() >= settings.digest_at else None


def digest_items(items: Iterable[PlanItem], day: dt.date, days: int) -> list[PlanItem]:
    """What the plan will publish on `day` and the `days - 1` days after: planned (or already
    published) items, in the calendar's order. A held post (a crisis hold) is left out."""
    last = day + dt.timedelta(days=days - 1)
    return sorted((i for i in items if i.date is not None and day <= i.date <= last and i.status in SHARED),
                  key=sort_key)


_WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _day(day: dt.date, today: dt.date, language: str) -> str:
    nl = language == "nl"
    if day == today:
        word = "vandaag" if nl else "today"
    elif day == today + dt.timedelta(days=1):
        word = "morgen" if nl else "tomorrow"
    else:
        word = _WEEKDAYS[language if language in _WEEKDAYS else "en"][day.weekday()]
    return f"{word} {day.day}/{day.month}"


def digest_message(items: list[PlanItem], ambassador: Ambassador, *, day: dt.date, desk: str,
                   language: str = "nl") -> Handoff:
    """The digest e-mail for one ambassador: per day, each item's time, channels, title and text."""
    nl = language == "nl"
    subject = (f"Om te delen: wat {desk} publiceert vanaf {_day(day, day, language)}" if nl
               else f"To share: what {desk} publishes from {_day(day, day, language)}")
    lines = [
        f"{'Dag' if nl else 'Hello'} {clean_line(ambassador.name).split(' ')[0]},",
        "",
        ("Dit plant de webcare de komende dagen te publiceren. Deel gerust wat je aanspreekt "
         "zodra het online staat." if nl else
         "This is what the webcare desk plans to publish in the coming days. Feel free to share "
         "what speaks to you once it is online."),
    ]
    shown_day = None
    for item in items:
        if item.date != shown_day:
            shown_day = item.date
            lines += ["", f"== {_day(item.date, day, language)} =="]  # type: ignore[arg-type]
        at = item.time.strftime("%H:%M") if item.time else ("de hele dag" if nl else "all day")
        channels = ", ".join(item.channels)
        lines += ["", f"{at}  {item.title}" + (f"  ({channels})" if channels else "")]
        if item.text:
            lines += ["    " + line for line in clean_text(item.text, 1000).splitlines()]
    lines += ["", ("Je krijgt deze e-mail omdat je ambassadeur bent van " if nl
                   else "You get this e-mail because you are an ambassador of ") + f"{desk}.",
              ("Wil je hem niet meer? Laat het de webcare weten." if nl
               else "Rather not? Let the webcare desk know."),
              "", "-- ", f"webcare {desk}"]
    return Handoff(ambassador.email, ambassador.name, subject, "\n".join(lines) + "\n", "", "feedback")


def pass_on_message(mention: Mention, ambassador: Ambassador, *, now: dt.datetime, tz: dt.tzinfo, desk: str,
                    note: str = "", language: str = "nl", key: str = "") -> Handoff:
    """A positive mention passed on to an ambassador, to like or share: the post and its link."""
    nl = language == "nl"
    subject = f"{subject_tag(mention.id, key)} {'Om te delen' if nl else 'To share'}: {_snippet(mention)}"
    author = clean_line(mention.author_name) or clean_line(mention.author)
    lines = [
        f"{'Dag' if nl else 'Hello'} {clean_line(ambassador.name).split(' ')[0]},",
        "",
        (f"Een positieve reactie over {desk}: wil je ze liken of delen?" if nl
         else f"A positive post about {desk}: would you like or share it?"),
    ]
    note = clean_text(note, 2000)
    if note:
        lines += ["", note]
    lines += [
        "",
        f"{'Van' if nl else 'From'}: {author} ({mention.channel})",
        f"{'Geplaatst' if nl else 'Posted'}: {when(mention.published_at or mention.first_seen_at, tz, language)}",
        f"Link: {clean_line(mention.url, 2000) or ('geen' if nl else 'none')}",
        "",
        clean_text(mention.text),
        "",
        "-- ",
        f"webcare {desk}",
    ]
    return Handoff(ambassador.email, ambassador.name, subject, "\n".join(lines) + "\n", mention.id, "feedback")
