"""Replies that leave the desk through the channel itself: a reply post, a reply e-mail.

A source that can post (`can_reply`, see sources/source.py) becomes a `Replier` for the desk:
the composer asks the operator to confirm, then calls it. Each send opens its own short-lived
HTTP client, so a reply never waits behind a feed poll; `dry_run` sources say what they would
have sent and send nothing (a team trying the desk on its real accounts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sources.source import Source
from webcare.mention import Mention

if TYPE_CHECKING:
    from collections.abc import Iterable


class Replier:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.dry_run = getattr(source, "replies", "send") == "dry-run"

    @property
    def channel_name(self) -> str:
        return self.source.name

    async def __call__(self, mention: Mention, text: str) -> str:
        """Post `text` as the reply to `mention`; returns its link or id on the platform."""
        import httpx

        from sources.poller import USER_AGENT

        async with httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT}, timeout=httpx.Timeout(30.0, connect=10.0)
        ) as client:
            return await self.source.reply(client, mention, text)  # type: ignore[attr-defined]


def repliers(sources: Iterable[Source]) -> dict[str, Replier]:
    """Source name → Replier, for every source that can post replies."""
    return {s.name: Replier(s) for s in sources if getattr(s, "can_reply", False)}
