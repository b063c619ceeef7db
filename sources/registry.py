"""Which source type is which module: builds the configured sources, checking their keys."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import fields

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


def source_class(type_: str) -> type[Source]:
    """The class of a source type (its module imported now); KeyError for an unknown type."""
    module, name = TYPES[type_]
    cls: type[Source] = vars(importlib.import_module(module))[name]
    return cls


def options_class(type_: str) -> type:
    """The frozen dataclass of a source type's [[sources]] keys (sources/options.py): its
    fields are the keys, with their types, defaults and one-line help."""
    cls = source_class(type_).options_class
    assert cls is not None, f"{type_}: a registered source type declares its options"
    return cls


def option_keys(type_: str) -> set[str]:
    """The keys a [[sources]] entry of this type may have, besides type and name."""
    return {f.name for f in fields(options_class(type_))}


def build_source(sc: SourceConfig, config: Config) -> Source:
    if sc.type not in TYPES:
        raise ConfigError(f"{sc.where}: type: {sc.type!r} is not a source type (known: {', '.join(sorted(TYPES))})")
    cls = source_class(sc.type)
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


def blog_sources(config: Config, taken: Iterable[str] = ()) -> list[Source]:
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
