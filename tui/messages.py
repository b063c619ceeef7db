"""What the desk tells its screens: one typed Textual message per kind of change.

The services (tui/session.py, tui/presence.py, tui/collection.py) change the desk's state; the
app then posts one of these to the screens that show it (WebcareApp.tell). A screen that shows
the change handles it (`on_mentions_changed`, …); one that does not simply has no handler.
None of them bubbles: the app sent it, so it need not hear it back."""

from __future__ import annotations

from textual.message import Message


class DeskMessage(Message, bubble=False):
    """A change the desk's services made, told to a screen."""


class HeaderChanged(DeskMessage):
    """The header's figures changed: counts, health, spikes, damage, today's plan."""


class MentionsChanged(DeskMessage):
    """The queue changed: mentions came in, or their state changed (here or on another desk)."""


class MentionsRewritten(DeskMessage):
    """Mentions were rewritten in place (retention, an erasure): their text may be gone."""


class PresenceChanged(DeskMessage):
    """Another desk moved, claimed a mention or left."""


class DraftsChanged(DeskMessage):
    """A desk kept or dropped a draft."""


class CrisisChanged(DeskMessage):
    """Crisis mode started or ended (here or on another desk)."""


class ClockTicked(DeskMessage):
    """A new minute: countdowns move on."""
