"""Intake: how a fetched item becomes a mention on the desk.

Every source's items pass through here, once: untrusted text is cleaned, the channel is
normalised, the [watch] keywords are matched (items that match none are dropped where the
source asks for the filter), and the deadline is set from the channel's norm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webcare.channels import normalize_channel
from webcare.config import Config
from webcare.mention import Mention, stable_id
from webcare.norms import clock_start
from webcare.untrusted import clean_line, clean_text
from webcare.watch import KeywordMatcher


@dataclass(slots=True)
class Item:
    """One thing a source fetched, before intake turns it into a Mention.

    Text fields are raw (untrusted); intake cleans them. `key` must be stable across polls
    (a guid, a permalink, a status id) so the same post gets the same mention id.
    """

    key: str
    channel: str
    author: str
    text: str
    url: str = ""
    title: str = ""
    author_name: str = ""
    published_at: datetime | None = None
    reach: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Intake:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.matcher = KeywordMatcher(config.keywords)

    def admit(self, item: Item, source_name: str, keyword_filter: bool, now: datetime) -> Mention | None:
        """The mention for a fetched `item` , or None when filtered out."""
        text = clean_text(item.text)
        title = clean_line(item.title)
        keywords = self.matcher.matches(title, text, clean_line(item.author))
        if keyword_filter and self.config.keywords and not keywords:
            return None
        try:
            channel = normalize_channel(item.channel)
        except ValueError:
            channel = "other"
        published = item.published_at
        if published is not None and published.tzinfo is None:  # naive: take it as UTC
            published = published.replace(tzinfo=now.tzinfo)
        norm = self.config.norm(channel)
        start = clock_start(published, now)
        return Mention(
            id=stable_id(channel, str(item.key)),
            source=source_name,
            channel=channel,
            author=clean_line(item.author) or "?",
            author_name=clean_line(item.author_name),
            text=text,
            title=title,
            url=clean_line(item.url, 2000),
            published_at=published,
            first_seen_at=now,
            deadline=norm.deadline(start, self.config.timezone),
            norm_s=None if norm.allowed is None else int(norm.allowed.total_seconds()),
            keywords=keywords,
            reach=item.reach if isinstance(item.reach, int) else None,
        )
