"""Following the people on the watchlist: what the sources that follow accounts share.

A source of a channel where an account can be followed (Mastodon account statuses, a Bluesky
author feed, an X user timeline, a YouTube channel's feed) follows every [[watch.people]] entry
of that channel, unless the source says `follow = false`. A blog's feed (`feed` on the entry)
is followed by a feed source of its own (`blog_sources`). Their posts come in as Items with
`followed` set to the person's kind: intake keeps them whatever the keyword filter and gives
them the badge; those that do not name or address us owe no reply.

Each follow has its own cursor in the source's checkpoint, and one that fails (an account
gone, a server refusing) is said in the source's health without stopping the source: the
others, and the source's own searches, are fetched as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sources.source import Source, SourceError
    from webcare.config import Config
    from webcare.watch import Person

BACKLOG = 10  # a followed account's posts on the very first poll: enough to see who they are
WARNING_SHOWN = 3  # failing follows named in the health line; the rest are counted


def followed(config: Config, channel: str, on: bool) -> tuple[Person, ...]:
    """The people a source of `channel` follows (none when its `follow` is false)."""
    return config.watch.followed(channel) if on else ()


def warning(failures: dict[str, str]) -> str:
    """One line for the source's health: which follows failed, and why (the first few)."""
    if not failures:
        return ""
    named = [f"{who}: {why}" for who, why in list(failures.items())[:WARNING_SHOWN]]
    more = len(failures) - len(named)
    tail = f"; {more} more" if more > 0 else ""
    return f"following failed for {len(failures)}: " + "; ".join(named) + tail


def missed(source: Source, failures: dict[str, str], person: Person, exc: SourceError) -> bool:
    """Note that following `person` failed (for `warning`). True when the others must wait:
    the platform's rate limit is reached, so the source pauses until it resets."""
    failures[person.handle] = str(exc)
    if exc.retry_after is None:
        return False
    source.pause_s = max(source.pause_s or 0.0, exc.retry_after)
    return True
