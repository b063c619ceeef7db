"""Which source type is which module: builds the configured sources, checking their keys."""

from __future__ import annotations

import importlib

from sources.source import OptionError, Source
from webcare.config import Config, ConfigError, SourceConfig

# type → (module, class). A module is imported only when a source of its type is configured:
# the desk's start-up does not pay for httpx and feedparser when it only runs the demo.
TYPES: dict[str, tuple[str, str]] = {
    "demo": ("sources.demo", "DemoSource"),
    "rss": ("sources.rss", "RSSSource"),
    "mastodon": ("sources.mastodon", "MastodonSource"),
    "bluesky": ("sources.bluesky", "BlueskySource"),
    "imap": ("sources.imap", "ImapSource"),
    "reddit": ("sources.reddit", "RedditSource"),
    "youtube": ("sources.youtube", "YouTubeSource"),
    "x": ("sources.x", "XSource"),
    "facebook": ("sources.facebook", "FacebookSource"),
    "instagram": ("sources.instagram", "InstagramSource"),
    "linkedin": ("sources.linkedin", "LinkedInSource"),
}


def build_source(sc: SourceConfig, config: Config) -> Source:
    where = TYPES.get(sc.type)
    if where is None:
        raise ConfigError(f"{sc.where}: type: {sc.type!r} is not a source type (known: {', '.join(sorted(TYPES))})")
    cls = getattr(importlib.import_module(where[0]), where[1])
    try:
        return cls.from_config(sc, config)
    except OptionError as exc:
        raise ConfigError(f"{sc.where}: {exc}") from None


def build_sources(config: Config) -> list[Source]:
    """Every [[sources]] entry as a Source, and a feed source for each blog on the watchlist
    (blog_sources); raises ConfigError naming the bad entry and key."""
    try:
        sources = [build_source(sc, config) for sc in config.sources]
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None
    return sources + blog_sources(config, {s.name for s in sources})


# A followed blog's feed is read this often: blogs post a few times a week at most.
BLOG_EVERY = 15 * 60.0


def blog_sources(config: Config, taken: set[str] = frozenset()) -> list[Source]:
    """A feed source for each [[watch.people]] entry with a `feed` (sources.follows): named
    "follow <handle>", its posts on the channel web with the person's badge. Giving the feed
    is what turns it on; leaving it out turns it off."""
    people = [p for p in config.watch.people if p.feed]
    if not people:
        return []
    from sources.rss import RSSSource

    out: list[Source] = []
    names = set(taken)
    for person in people:
        name = base = f"follow {person.handle}"
        n = 1
        while name in names:
            n += 1
            name = f"{base} ({n})"
        names.add(name)
        out.append(
            RSSSource(name, person.feed, channel="web", interval=BLOG_EVERY, followed=person)
        )
    return out
