"""What every source is: a name, an interval, and an async fetch that returns raw mentions.

A source only fetches and converts. Cleaning untrusted text, the keyword filter, the deadline
and dedup happen once, in the poller, for every source alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # the desk imports this module at start; httpx only when it polls
    import httpx

from webcare.intake import Item

__all__ = ["Item", "OptionError", "Source", "SourceError"]


class SourceError(Exception):
    """A fetch failed in a way worth showing to the person on duty.

    `retry_after` (seconds) is set when the server said when to come back (429/503 Retry-After).
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OptionError(ValueError):
    """A bad key in a [[sources]] entry; the message names the key."""


class Source(Protocol):
    """The interface the poller drives."""

    type: ClassVar[str]
    name: str
    interval: float  # seconds between the end of one fetch and the start of the next
    keyword_filter: bool  # whether [watch] keywords must match (false for e.g. our own mailbox)

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        """Fetch what is new. Raise SourceError (or any exception) on failure."""
        ...


# What a source may offer beyond `fetch`; the poller and the desk look for these by name.
#
#   pause_s: float | None
#       Set by `fetch` when the platform's quota is spent (sources.http.pause_after): the
#       poller waits that long before the next fetch and shows the source as rate-limited.
#
#   can_live: bool
#   def live(self, client) -> AsyncIterator[list[Item]]
#       A connection that brings posts as they happen (Mastodon's streaming API, IMAP IDLE).
#       Where `can_live` is true, the poller runs it beside the polling loop and stores each
#       batch it yields; it yields [] once when connected (the header shows "live"). When it
#       ends or fails, the poller reconnects with backoff, and polling goes on meanwhile (a
#       live source may poll less often: its `interval` is the catch-up interval).
#
#   def checkpoint(self) -> dict
#   def resume(self, state: dict) -> None
#       Where the source is (since_id, cursors, UIDVALIDITY and the last UID, ETags), as plain
#       JSON. The poller saves a checkpoint after what a fetch brought is stored, and gives it
#       back to `resume` when the collector starts again, so a restart does not lose what came
#       in while it was down (beyond the first poll's backlog). A checkpoint names what it is
#       for (the server, the query): `resume` ignores one that does not fit the entry as it is
#       configured now, or that it cannot read, and starts fresh.
#
#   replies: str  ("send" | "dry-run" | "off", the entry's `replies` key)
#   can_reply: bool  (replies is not "off" and the credentials allow posting)
#   async def reply(self, client, mention, text) -> str
#       Post `text` as a reply to `mention` on the platform (a reply post, a reply e-mail);
#       returns the reply's link or id for the audit trail. In "dry-run", builds the request
#       and returns "dry run: " and what it would have sent, sending nothing. Raises SourceError.
#
#   moderation: tuple[str, ...]  (from "hide", "unhide", "delete", "remove", "approve",
#                                 "reject", "hold", "publish")
#   moderation_undo: dict[str, str]  (action → the action that undoes it; absent: cannot)
#   async def moderate(self, client, mention, action) -> str
#       Carry `action` out on the platform for the comment or post the mention is; returns a
#       one-line text for the audit trail (what the platform answered). Raises SourceError
#       (expired token, missing permission, not ours). It never asks and never dry-runs: the
#       desk confirms first and handles `replies = "dry-run"` itself (sources/moderation.py).
