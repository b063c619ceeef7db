"""Moderation carried out on the platform (hide a comment, remove a post), for the desk.

A source that can moderate is a `Moderation` source (sources/source.py): `moderation` (its
actions), `moderation_undo` (action → the action that undoes it) and
`async moderate(client, mention, action) -> str`. It becomes a `Moderator`, as a source that can post becomes a Replier
(sources/replies.py): the desk asks the operator to confirm, then calls it; each call opens its
own short-lived HTTP client, so it never waits behind a feed poll. A `replies = "dry-run"`
source is moderated in dry run too: the desk says what it would do and calls nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sources.source import Moderation, Source, SourceError
from webcare.mention import Mention
from webcare.moderation import first_actions

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sources.http import NetworkPolicy


class Moderator:
    def __init__(self, source: Moderation, network: NetworkPolicy | None = None) -> None:
        self.source = source
        self.network = network
        self.dry_run = source.replies == "dry-run"
        self.actions: tuple[str, ...] = tuple(source.moderation)
        self.undo: dict[str, str] = dict(source.moderation_undo)

    @property
    def name(self) -> str:
        assert isinstance(self.source, Source)
        return self.source.name

    @property
    def offered(self) -> list[str]:
        """What L3 offers (hide, not unhide)."""
        return first_actions(self.actions, self.undo)

    def undo_of(self, action: str) -> str | None:
        return self.undo.get(action)

    def dry_run_text(self, mention: Mention, action: str) -> str:
        what = mention.ref or mention.url or mention.id
        return f"dry run: would {action} {what} on {self.name}; nothing sent"

    async def __call__(self, mention: Mention, action: str) -> str:
        """Carry `action` out on the platform; returns the platform's answer as one line. A
        failure is a SourceError with a cleaned one-line message (it may quote the platform's
        own error text, and the desk shows it)."""
        import httpx

        from sources.http import make_client
        from sources.poller import describe
        from webcare.untrusted import clean_line

        if action not in self.actions:
            raise SourceError(f"{self.name}: cannot {action} here")
        async with make_client(self.network, timeout=httpx.Timeout(30.0, connect=10.0)) as client:
            try:
                said = await self.source.moderate(client, mention, action)
            except Exception as exc:
                raise SourceError(describe(exc)) from None
        return clean_line(str(said), 200)


def moderators(sources: Iterable[Source], network: NetworkPolicy | None = None) -> dict[str, Moderator]:
    """Source name → Moderator, for every source that declares platform moderation."""
    return {s.name: Moderator(s, network) for s in sources if isinstance(s, Moderation) and s.moderation}
