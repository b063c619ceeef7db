"""Replies that leave the desk through the channel itself: a reply post, a reply e-mail.

A source that can post (a `Replies` source whose `can_reply` is true, see sources/source.py) becomes a `Replier` for the desk:
the composer asks the operator to confirm, then calls it. Each send opens its own short-lived
HTTP client, so a reply never waits behind a feed poll; `dry_run` sources say what they would
have sent and send nothing (a team trying the desk on its real accounts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sources.source import Replies, Source, SourceError
from webcare.mention import Mention

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sources.http import NetworkPolicy


class Replier:
    def __init__(self, source: Replies, network: NetworkPolicy | None = None) -> None:
        self.source = source
        self.network = network
        self.dry_run = source.replies == "dry-run"

    @property
    def channel_name(self) -> str:
        assert isinstance(self.source, Source)
        return self.source.name

    async def __call__(self, mention: Mention, text: str) -> str:
        """Post `text` as the reply to `mention`; returns its link or id on the platform.
        A failure is a SourceError with a cleaned one-line message: it may quote the
        platform's own error text, and the desk shows it."""
        import httpx

        from sources.http import make_client
        from sources.poller import describe

        async with make_client(self.network, timeout=httpx.Timeout(30.0, connect=10.0)) as client:
            try:
                return await self.source.reply(client, mention, text)
            except Exception as exc:
                raise SourceError(describe(exc)) from None


def repliers(sources: Iterable[Source], network: NetworkPolicy | None = None) -> dict[str, Replier]:
    """Source name → Replier, for every source that can post replies."""
    return {s.name: Replier(s, network) for s in sources if isinstance(s, Replies) and s.can_reply}
