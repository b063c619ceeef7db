"""Moderation on the platform, as the desk sees it: which action a scheme leaf's "moderate"
offers, the evidence kept before acting, and where a platform without such an action takes a
report instead (docs/audit.md: Moderation on the platform).

The actions themselves are the sources' (`moderation`, `moderation_undo` and `moderate()`: see
sources/source.py); sources/moderation.py makes them callable for the desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from webcare.mention import Mention, Status, to_iso

# Where a channel whose platform the desk cannot moderate takes a report: the form's address
# ("" when reports are made on the post itself) and how, in the desk's languages. The
# mention's own link is shown beside it.
REPORT_FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "mastodon": (
        "",
        {
            "nl": "meld het bericht op zijn server: ⋯ → Melden (de moderatoren van die server beslissen)",
            "en": "report the post on its server: ⋯ → Report (that server's moderators decide)",
        },
    ),
    "bluesky": (
        "",
        {
            "nl": "meld het bericht in Bluesky: ⋯ → Bericht melden",
            "en": "report the post in Bluesky: ⋯ → Report post",
        },
    ),
    "x": (
        "https://help.x.com/forms/safety-and-sensitive-content",
        {
            "nl": "meld het bij X (het gratis API-niveau kan niets verbergen): ⋯ → Post melden, of het formulier",
            "en": "report it to X (the free API tier cannot hide anything): ⋯ → Report post, or the form",
        },
    ),
    "rss": (
        "",
        {
            "nl": "een website of blog: vraag de beheerder van de site om het weg te halen",
            "en": "a website or blog: ask the site's editor to take it down",
        },
    ),
    "email": (
        "",
        {
            "nl": "e-mail: bewaar het bericht; laat de afzender blokkeren door de mailbeheerder",
            "en": "e-mail: keep the message; have the mail administrator block the sender",
        },
    ),
}
OTHER = {
    "nl": "meld het op het platform zelf (de link van het bericht)",
    "en": "report it on the platform itself (the post's link)",
}


def offers_moderation(leaf: Any) -> bool:
    """Whether a scheme leaf means moderating (the default scheme's L3): it sets the status
    "moderated" or asks to keep evidence."""
    return getattr(leaf, "status", "") == Status.MODERATED or "evidence" in (getattr(leaf, "flags", ()) or ())


def first_actions(actions: Iterable[str], undo: Mapping[str, str]) -> list[str]:
    """The actions L3 offers: those that are not only the undoing of another (hide, not
    unhide; remove, not approve; reject and hold, not publish)."""
    undoing = set(undo.values())
    return [a for a in actions if a not in undoing]


def evidence(m: Mention, operator: str, now: datetime) -> dict[str, Any]:
    """What the desk shows of a mention, kept before it is moderated: the text, the author, the
    link, the times, and who kept it when."""
    return {
        "text": m.text,
        "title": m.title,
        "author": m.author,
        "author_name": m.author_name,
        "url": m.url,
        "channel": m.channel,
        "published_at": to_iso(m.published_at),
        "first_seen_at": to_iso(m.first_seen_at),
        "kept_at": to_iso(now),
        "kept_by": operator,
    }


def evidence_open(state: Mapping[str, Any], now: datetime, evidence_days: int) -> bool:
    """Whether a mention's state holds evidence that retention must leave alone: kept, the case
    still open (the mention still carries the `evidence` flag that L3 set) and kept less than
    `evidence_days` ago."""
    kept = state.get("evidence")
    if not isinstance(kept, dict) or not kept or "evidence" not in (state.get("flags") or ()):
        return False
    try:
        at = datetime.fromisoformat(str(kept.get("kept_at")))
    except ValueError:
        return False
    return now - at < timedelta(days=evidence_days)


def report_hint(channel: str, language: str) -> tuple[str, str]:
    """(form address or "", what to do) for a channel the desk cannot moderate."""
    form, how = REPORT_FORMS.get(channel, ("", OTHER))
    return form, how.get(language, how["en"])
