"""Which source type is which module: builds the configured sources, checking their keys."""

from __future__ import annotations

from sources.source import OptionError, Source
from webcare.config import Config, ConfigError, SourceConfig


def _types() -> dict[str, type]:
    # Imported here so a desk without RSS sources never pays for importing feedparser.
    from sources.demo import DemoSource
    from sources.rss import RSSSource

    return {cls.type: cls for cls in (DemoSource, RSSSource)}


def build_source(sc: SourceConfig, config: Config) -> Source:
    types = _types()
    cls = types.get(sc.type)
    if cls is None:
        raise ConfigError(f"{sc.where}: type: {sc.type!r} is not a source type (known: {', '.join(sorted(types))})")
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
