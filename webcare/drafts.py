"""Unsent replies: a draft is the reply an operator is writing to a mention, kept so that a
dropped connection or a restart loses nothing, and so that a colleague sees it.

One draft per mention, not one per operator: a mention gets one reply from the desk, and the
soft claim (store/presence.py) already makes one operator its writer at a time. A colleague
who takes a reply over continues from the draft that is there, and their saves replace it
(the last writer's draft stands, with their name on it). Two drafts of one reply side by side
would leave the next shift to guess which one was meant.

Pure domain: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from webcare.i18n import when, word
from webcare.mention import Status
from webcare.untrusted import clean_line

# A mention in one of these is dealt with: its draft is dropped and never brought back.
# Not "monitoring" or "snoozed": a snooze comes back to the queue, and so must its draft.
FINISHED = frozenset({Status.RESPONDED, Status.CLOSED, Status.NO_REACTION, Status.MODERATED})


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply not sent yet. `operator` and `text` are shown as plain text, never markup."""

    mention_id: str
    operator: str
    text: str
    saved_at: datetime  # aware, UTC on disk


def finished(status: str) -> bool:
    """Whether a mention in `status` can have no draft any more."""
    return status in FINISHED


def label(draft: Draft, tz: tzinfo, now: datetime, language: str) -> str:
    """"concept van An, 14:02" / "draft by An, 14:02": the time in the desk's timezone, with
    the day when it was not today. The name as written (cleaned of control characters)."""
    local = draft.saved_at.astimezone(tz)
    at = f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else when(local, tz, language)
    return word("draft_by", language).format(who=clean_line(draft.operator, 40), at=at)
