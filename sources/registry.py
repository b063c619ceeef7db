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
    """Every [[sources]] entry as a Source; raises ConfigError naming the bad entry and key."""
    try:
        return [build_source(sc, config) for sc in config.sources]
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None
