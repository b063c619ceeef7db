"""Intake: how a fetched item becomes a mention on the desk.

Every source's items pass through here, once: untrusted text is cleaned, the channel is
normalised, the [watch] keywords are matched (items that match none are dropped where the
source asks for the filter), and the deadline is set from the channel's norm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from webcare.channels import normalize_channel
from webcare.config import Config
from webcare.history import Event
from webcare.links import canonical_url
from webcare.mention import Mention, Status, stable_id
from webcare.norms import clock_start
from webcare.untrusted import MAX_FIELD, clean_line, clean_text

# What intake keeps of webcare.tone.Tone: language, sentiment, register, anger markers.
ToneReading = tuple[str, str, str, tuple[str, ...]]


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
    extra: dict[str, Any] = field(default_factory=dict)  # the source's own notes, not stored
    # Threads and replies: `ref` is the post's own id on its platform (a Mastodon status id,
    # a Bluesky at-uri, an e-mail's Message-ID); `in_reply_to` the ref of the post it answers.
    ref: str = ""
    in_reply_to: str = ""
    # What a reply needs that the mention does not otherwise hold (a Bluesky cid and thread
    # root, an e-mail's References and Reply-To). Stored with the mention; small, plain JSON.
    reply_meta: dict[str, Any] = field(default_factory=dict)
    # Addressed to us (a mention of our account, a direct message): kept whatever the keyword
    # filter, as the organisation's own mailbox is. A search hit or a hashtag post is not.
    addressed: bool = False
    # A post of someone on the watchlist, fetched because a source follows them (their account,
    # their channel, their blog): their [[watch.people]] kind. Kept whatever the keyword filter
    # and shown with that badge; when it neither names us nor is addressed to us it owes no reply.
    followed: str = ""
    # An e-mail with a hand-off's subject tag "[webcare m:<id>.<key>]": `answers` is the mention
    # id, `answer_key` the key. The poller takes it as that mention's expert answer only when
    # webcare.answers says so; otherwise it becomes a mention, `suspicious` saying why.
    answers: str = ""
    answer_key: str = ""
    suspicious: str = ""
    # (language, sentiment, register, anger) as intake reads them from this text and title,
    # when a source has read them already: `read_ahead(text, title)`, which the RSS parse
    # workers run beside the parse, in parallel. None: intake reads them itself.
    tone: ToneReading | None = None


def read_ahead(text: str, title: str = "") -> ToneReading:
    """The tone intake reads for an item of this (raw, untrusted) text and title, as plain data
    for Item.tone: a source that reads it elsewhere (in a worker process) gets the same result
    as intake would, because this is what intake itself runs."""
    from webcare.tone import read_tone  # imported on first use: see Intake.__init__

    tone = read_tone(clean_text(text), clean_line(title))
    return tone.language, tone.sentiment, tone.register, tone.anger


# How many (channel, ref) → mention id pairs intake remembers to link replies to their post.
# Replies come within days; a few segments' worth covers that without holding the whole store.
REFS_KEPT = 20_000


class Intake:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.watch = config.watch
        # Imported here: sources import this module for Item at the desk's start, and the tone
        # word lists are only needed once something is collected.
        from webcare.tone import read_tone

        self._read_tone = read_tone
        self.refs: dict[tuple[str, str], str] = {}  # (channel, ref) → mention id, oldest first

    def remember(self, posts: Iterable[tuple[str, str, str]]) -> None:
        """Learn (channel, ref, mention id) of posts the desk has, so replies to them link up."""
        for channel, ref, mention_id in posts:
            if ref:
                self.refs[(channel, ref)] = mention_id
        if len(self.refs) > REFS_KEPT:
            for key in list(self.refs)[: len(self.refs) - REFS_KEPT]:
                del self.refs[key]

    def admit_all(
        self, items: list[Item], source_name: str, keyword_filter: bool, now: datetime
    ) -> list[Mention]:
        """The mentions for one fetch's `items`, replies linked to the posts they answer.

        A mention's id comes from its canonical URL, so the same post seen through two sources
        (a feed and an API, or a Google Alert's redirect link) is one mention. Where one fetch
        holds several items with the same URL (a feed that links every item to its home page),
        the URL says nothing and those items keep ids of their own."""
        urls = [canonical_url(item.url) if item.url else "" for item in items]
        seen: dict[str, int] = {}
        for url in urls:
            if url:
                seen[url] = seen.get(url, 0) + 1
        out: list[Mention] = []
        for item, url in zip(items, urls):
            m = self.admit(
                item, source_name, keyword_filter, now, url=url if seen.get(url) == 1 else ""
            )
            if m is not None:
                out.append(m)
        self.remember((m.channel, m.ref, m.id) for m in out)
        for m in out:  # a reply that came in the same fetch as its post
            if m.in_reply_to and not m.parent:
                m.content = replace(m.content, parent=self.refs.get((m.channel, m.in_reply_to), ""))
        return out

    def admit(
        self, item: Item, source_name: str, keyword_filter: bool, now: datetime, *, url: str = ""
    ) -> Mention | None:
        """The mention for a fetched `item` , or None when filtered out. `url`: its canonical
        URL when that identifies it (see admit_all)."""
        text = clean_text(item.text)
        title = clean_line(item.title)
        author = clean_line(item.author) or "?"
        try:
            channel = normalize_channel(item.channel)
        except ValueError:
            channel = "other"
        seen = self.watch.read(title, text, author, channel)
        # A rule describes what we watch as much as a keyword does: either lets a mention in.
        filtered = (
            keyword_filter
            and not item.addressed
            and not item.followed
            and (self.watch.keywords or self.watch.rules)
        )
        about_us = bool(item.addressed or seen.keywords or seen.rules)
        if filtered and not about_us:
            return None
        # Followed, but neither naming nor addressing us: on the desk to read (the "pers &
        # peers" view), not to answer. "monitoring" owes no reply, so no countdown runs; the
        # history says why, and the operator can still take it up like any other mention.
        only_followed = bool(item.followed) and not about_us
        published = item.published_at
        if published is not None and published.tzinfo is None:  # naive: take it as UTC
            published = published.replace(tzinfo=now.tzinfo)
        norm = self.config.norm(channel)
        start = clock_start(published, now)
        if item.tone is not None:  # read ahead by the source, from this very text and title
            language, sentiment, register, anger = item.tone
        else:
            tone = self._read_tone(text, title)
            language, sentiment, register, anger = (
                tone.language,
                tone.sentiment,
                tone.register,
                tone.anger,
            )
        ref = _line(item.ref, 1000)
        in_reply_to = _line(item.in_reply_to, 1000)
        return Mention(
            id=stable_id("url", url) if url else stable_id(channel, str(item.key)),
            source=source_name,
            channel=channel,
            author=author,
            author_name=_line(item.author_name),
            text=text,
            title=title,
            url=clean_line(item.url, 2000),
            published_at=published,
            first_seen_at=now,
            deadline=norm.deadline(start, self.config.timezone),
            norm_s=None if norm.allowed is None else int(norm.allowed.total_seconds()),
            keywords=seen.keywords,
            rules=seen.rules,
            themes=seen.themes,
            priority=seen.priority,
            watchlist=seen.watchlist or item.followed,
            language=language,
            sentiment=sentiment,
            register=register,
            anger=anger,
            reach=item.reach if isinstance(item.reach, int) else None,
            ref=ref,
            in_reply_to=in_reply_to,
            parent=self.refs.get((channel, in_reply_to), "") if in_reply_to else "",
            reply_meta=_plain(item.reply_meta),
            suspicious=_line(item.suspicious, 1000),
            followed=only_followed,
            status=Status.MONITORING if only_followed else Status.NEW,
            history=[_followed_entry(now)] if only_followed else [],
        )


def _followed_entry(now: datetime) -> dict[str, Any]:
    """The history entry of a followed post that came in as "monitoring": the audit trail says
    why no countdown ran, and undo has nothing of an operator's to take back."""
    return {
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "who": "webcare",
        **Event("followed").entry(),  # webcare.history: shown in the desk's language
        "changes": {"status": Status.MONITORING.value},
        "before": {"status": Status.NEW.value},
    }


def _line(value: str, limit: int = MAX_FIELD) -> str:
    """clean_line(value, limit), without its work for the fields most items leave empty."""
    return "" if value == "" else clean_line(value, limit)


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    """Reply details as short plain strings (they come from the network like everything else)."""
    out: dict[str, Any] = {}
    for key, value in list(meta.items())[:20]:
        if isinstance(value, str):
            out[str(key)] = clean_line(value, 4000)
        elif isinstance(value, (int, float, bool)) or value is None:
            out[str(key)] = value
        elif isinstance(value, (list, tuple)):
            out[str(key)] = [clean_line(str(v), 1000) for v in value[:50]]
    return out
