"""Instagram: comments on the professional account's newest media and the media it is tagged
in; replies to comments, and hiding them.

Uses the Instagram Graph API through Facebook Login: graph.facebook.com, the same Meta app and
Graph version (v21.0) as the Facebook source, with the token in the Authorization header (never
in a URL):

- comments: `GET /{account_id}/media?fields=id,caption,permalink,timestamp,comments_count,
  username&limit=N` for the account's N newest media; then, for each media whose
  `comments_count` changed since the last poll (or that was not read yet),
  `GET /{media_id}/comments?fields=id,text,username,timestamp,from,replies{…}&limit=50`:
  the top-level comments, newest first, each with its replies (a thread with more replies
  than fit pages on through the replies' own `paging.next`);
- tags: `GET /{account_id}/tags?fields=id,caption,permalink,timestamp,username&limit=25`, the
  media other accounts tagged us in, newest first.

What the API does not give: captions and comments on other people's media that @mention the
account. No endpoint lists them; Instagram announces each one only as a webhook (the `mentions`
field) to a public HTTPS endpoint, after which `GET /{account_id}?fields=mentioned_media.
media_id(…)` or `mentioned_comment.comment_id(…)` reads that one by its id. The desk runs no
public endpoint, so these are not collected; mentions in Stories the API does not give at all.

Incremental: a media's comments are read only when its `comments_count` (which counts
replies) moved, and then only until as many new comments turned up as the count grew by.
Comments older than the newest one seen (less a few minutes' overlap: a comment held for review
appears later than its time says) are not delivered again, and the ids already delivered drop
the overlap's repeats. The first poll reaches back `backlog` (default 1 day); after a restart
the checkpoint (watermarks, counts, newest ids) takes over where the collector stopped.

Errors, rate limits and usage headers (`x-business-use-case-usage`, `x-app-usage`) are the
Graph API's, handled as in the Facebook source: code 190 is an expired or revoked token, codes
10 and 200–299 a missing permission, 4/17/32/613 and 800xx rate limits.

Replies: `POST /{comment_id}/replies {message}` (to the thread's first comment: Instagram nests
one level). Moderation: `POST /{comment_id}?hide=true|false`. Neither works on media we are
tagged in (someone else's post: Instagram allows no comment on it through the API).

    [[sources]]
    type = "instagram"
    name = "Instagram VLM"
    account_id = "17841400000000000"
    token_env = "WEBCARE_INSTAGRAM_TOKEN"
    media = 10              # the newest media whose comments are read
    tags = true             # media the account is tagged in
    every = "5m"
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

# The same Graph API as the Facebook source: requests, answers, errors, paging and times.
from sources import options
from sources.graph import API, GraphClient, _datetime, _epoch
from sources.source import Moderation, OptionError, Replies, Source, SourceError, Watermarks
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

__all__ = ["InstagramSource"]

MAX_PAGES = 10  # per media's comments, per thread's replies, for the tags, per poll
OVERLAP = 600.0  # seconds read again on every poll: comments that appear late
PAGE_SIZE = 50  # comments per page
TAGS_PAGE = 25
REPLY_FIELDS = "id,text,username,timestamp,from"
COMMENT_FIELDS = f"id,text,username,timestamp,from,replies{{{REPLY_FIELDS}}}"
MEDIA_FIELDS = "id,caption,permalink,timestamp,comments_count,username"
TAG_FIELDS = "id,caption,permalink,timestamp,username"
POST_PATHS = ("p", "reel", "tv")  # a post's link: https://www.instagram.com/p/{shortcode}/
PERMISSIONS = "instagram_basic, instagram_manage_comments, pages_show_list, pages_read_engagement"


@dataclass(frozen=True)
class InstagramOptions:
    account_id: str = options.text("the Instagram account id (digits: the page's instagram_business_account)", required=True)
    token_env: str = options.env("the environment variable with the access token", required=True)
    media: int = options.number("the newest media whose comments are read (1-100)", 10, minimum=1)
    comments: bool = options.flag("read the comments on the account's media", True)
    tags: bool = options.flag("read the media the account is tagged in", True)
    every: float = options.duration("poll interval", "5m")
    timeout: float = options.duration("for each request", "20s")
    backlog: float = options.duration("how far the very first poll reaches back", "1d")
    keyword_filter: bool = options.flag("comments and tags must name a [watch] keyword", False)
    api: str = options.address("the Graph API's address (with its version)", API)
    replies: str = options.replies()


class InstagramSource(GraphClient, Source, Watermarks, Replies, Moderation):
    """An Instagram professional account's comments and the media it is tagged in."""

    type: ClassVar[str] = "instagram"
    options_class = InstagramOptions
    owner: ClassVar[str] = "account_id"
    watermarks: ClassVar[tuple[str, ...]] = ("comments_since", "tags_since")
    platform: ClassVar[str] = "Instagram"
    # What the desk may do on the platform through moderate(): hide a comment on our media,
    # and show it again (each undoes the other).
    moderation: ClassVar[tuple[str, ...]] = ("hide", "unhide")
    moderation_undo: ClassVar[dict[str, str]] = {"hide": "unhide", "unhide": "hide"}

    def __init__(
        self,
        name: str,
        account_id: str,
        *,
        token: str | None,
        token_env: str,
        media: int = 10,
        comments: bool = True,
        tags: bool = True,
        backlog: float = 86400.0,
        interval: float = 300.0,
        timeout: float = 20.0,
        keyword_filter: bool = False,
        api: str = API,
        replies: str = "send",
    ) -> None:
        self.name = name
        self.account_id = account_id
        self.token = token
        self.token_env = token_env
        self.media = media
        self.comments = comments
        self.tags = tags
        self.backlog = backlog
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.replies = replies
        # Watermarks (epoch seconds of the newest comment / tagged media seen), each media's
        # comments_count when it was last read in full, the ids delivered (oldest first), and
        # what the last fetch changed, for rewind().
        self._counts: dict[str, int] = {}
        self._start_watermarks()

    @property
    def can_reply(self) -> bool:
        return self.replies != "off" and bool(self.token)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> InstagramSource:
        o = options.read(InstagramOptions, sc)
        account_id = o.account_id
        if not account_id.isdigit():
            raise OptionError(
                f"account_id: {account_id!r} is not an Instagram account id (digits, like "
                "17841400000000000: the page's instagram_business_account)"
            )
        if o.media > 100:
            raise OptionError("media: Instagram gives at most 100 media per page")
        if not (o.comments or o.tags):
            raise OptionError("comments: comments and tags are both off: nothing to read")
        return cls(
            sc.name,
            account_id,
            token=options.secret(o.token_env),
            token_env=o.token_env,
            media=o.media,
            comments=o.comments,
            tags=o.tags,
            backlog=o.backlog,
            interval=o.every,
            timeout=o.timeout,
            keyword_filter=o.keyword_filter,
            api=o.api,
            replies=o.replies,
        )

    def __repr__(self) -> str:
        return f"InstagramSource({self.name!r}, {self.account_id!r})"

    # --- polling ---------------------------------------------------------------------------

    # Besides the watermarks: each media's comments_count when it was last read in full.
    def _more_state(self) -> dict[str, Any]:
        return {"counts": dict(self._counts)}

    def _take_more_state(self, state: dict[str, Any], *, check_only: bool) -> bool:
        counts = state.get("counts")
        if not (
            isinstance(counts, dict)
            and all(isinstance(k, str) and _count(v) is not None for k, v in counts.items())
        ):
            return False
        if not check_only:
            self._counts = {k: int(v) for k, v in counts.items()}
        return True

    def _more_snapshot(self) -> Any:
        return dict(self._counts)

    def _take_more_snapshot(self, snapshot: Any) -> None:
        self._counts = dict(snapshot)

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        if not self.token:
            raise SourceError(f"Instagram: the environment variable {self.token_env} is not set")
        first = time.time() - self.backlog
        fresh: dict[str, None] = {}
        items: list[Item] = []
        comments_since, tags_since = self._since["comments_since"], self._since["tags_since"]
        counts = dict(self._counts)
        # All or nothing: a failure leaves the watermarks and counts, so the next poll brings
        # it all again.
        if self.comments:
            found, comments_since, counts = await self._read_comments(
                client, comments_since or first, fresh
            )
            items += found
        if self.tags and not self.pause_s:
            found, tags_since = await self._read_tags(client, tags_since or first, fresh)
            items += found
        self._advance({"comments_since": comments_since, "tags_since": tags_since}, fresh)
        self._counts = counts
        return items

    async def _read_comments(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[Item], float, dict[str, int]]:
        """New comments on the newest media, the new watermark and the media's counts."""
        listing = await self._get(
            client,
            f"/{self.account_id}/media",
            {"fields": MEDIA_FIELDS, "limit": self.media},
            "Instagram media",
        )
        items: list[Item] = []
        newest = since
        counts: dict[str, int] = {}
        complete = True
        for media in _entries(listing):
            media_id = str(media.get("id") or "")
            if not media_id:
                continue
            count, known = _count(media.get("comments_count")), self._counts.get(media_id)
            if count is not None and count == known:
                counts[media_id] = count  # nothing was added or removed: nothing to read
                continue
            if self.pause_s:
                complete = False  # the quota is spent: this media waits for the next poll
                if known is not None:
                    counts[media_id] = known
                continue
            # How many comments the count grew by: once that many new ones turned up, the
            # rest of the media's comments are ones already seen.
            wanted = count - known if count is not None and known is not None else None
            found, newest, whole = await self._media_comments(
                client, media, since, newest, wanted, fresh
            )
            items += found
            if whole and count is not None:
                counts[media_id] = count
            elif known is not None:
                counts[media_id] = known
            complete = complete and whole
        # A poll cut short by the quota leaves the watermark: what it did not read may be
        # older than what it did (the ids delivered drop the repeats).
        return items, newest if complete else since, counts

    async def _media_comments(
        self,
        client: httpx.AsyncClient,
        media: dict[str, Any],
        since: float,
        newest: float,
        wanted: int | None,
        fresh: dict[str, None],
    ) -> tuple[list[Item], float, bool]:
        """One media's new comments and replies, the new watermark, and whether it was read
        through (not cut short by the quota)."""
        what = "Instagram comments"
        media_id = str(media["id"])
        own = str(media.get("username") or "").casefold()
        cutoff = since - OVERLAP
        items: list[Item] = []
        new = 0
        params = {"fields": COMMENT_FIELDS, "limit": PAGE_SIZE}
        page = await self._get(client, f"/{media_id}/comments", params, what)
        for _ in range(MAX_PAGES):
            anything_recent = False
            for comment in _entries(page):
                thread = self._thread(client, comment)
                async with aclosing(thread) as entries:
                    async for entry, parent in entries:
                        created = _epoch(entry.get("timestamp"))
                        if created is not None and created < cutoff:
                            continue  # older than the last poll: replies to it may not be
                        anything_recent = True
                        newest = max(newest, created or newest)
                        key = str(entry.get("id") or "")
                        if not key or key in self._seen or key in fresh:
                            continue
                        new += 1
                        if self._is_own(entry, own):
                            fresh[key] = None  # our own answer: counted, not a mention
                            continue
                        fresh[key] = None
                        items.append(self._comment(entry, parent, media))
            if self.pause_s:
                return items, newest, False
            if wanted is not None and new >= wanted:
                break  # the count's growth is accounted for
            if wanted is None and not anything_recent:
                break  # newest first: the rest of a media read afresh is older still
            following = self._next(page)
            if following is None:
                break
            page = await self._follow(client, following, what)
        return items, newest, True

    async def _thread(
        self, client: httpx.AsyncClient, comment: dict[str, Any]
    ) -> AsyncGenerator[tuple[dict[str, Any], str], None]:
        """A top-level comment and its replies, each with the id of the comment it answers
        ("" for the top-level one); replies beyond the first page are fetched page by page."""
        comment_id = str(comment.get("id") or "")
        yield comment, ""
        replies = comment.get("replies")
        if not isinstance(replies, dict) or not comment_id:
            return
        for _ in range(MAX_PAGES):
            for reply in _entries(replies):
                yield reply, comment_id
            following = self._next(replies)
            if following is None or self.pause_s:
                return
            replies = await self._follow(client, following, "Instagram replies")

    async def _read_tags(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[Item], float]:
        """Media we are newly tagged in, and the new watermark."""
        what = "Instagram tags"
        params = {"fields": TAG_FIELDS, "limit": TAGS_PAGE}
        page = await self._get(client, f"/{self.account_id}/tags", params, what)
        items: list[Item] = []
        newest = since
        for _ in range(MAX_PAGES):
            older = False
            for media in _entries(page):
                created = _epoch(media.get("timestamp"))
                if created is not None and created < since - OVERLAP:
                    older = True
                    break  # newest first: the rest is older still
                newest = max(newest, created or newest)
                key = str(media.get("id") or "")
                if key and key not in self._seen and key not in fresh:
                    fresh[key] = None
                    items.append(self._tagged(media))
            following = None if older else self._next(page)
            if following is None:
                break
            if self.pause_s:
                return items, since  # cut short: the pages not read may hold newer tags
            page = await self._follow(client, following, what)
        return items, newest

    def _is_own(self, comment: dict[str, Any], own_username: str) -> bool:
        """A comment the account itself wrote (our replies from the desk or the app)."""
        sender = comment.get("from") or {}
        if isinstance(sender, dict) and str(sender.get("id") or "") == self.account_id:
            return True
        username = str(comment.get("username") or "").casefold()
        return bool(own_username) and username == own_username

    def _comment(self, comment: dict[str, Any], parent: str, media: dict[str, Any]) -> Item:
        comment_id = str(comment["id"])
        sender = found if isinstance(found := comment.get("from"), dict) else {}
        username = str(comment.get("username") or sender.get("username") or "")
        caption = str(media.get("caption") or "").strip()
        return Item(
            key=comment_id,
            channel="instagram",
            # The username needs instagram_manage_comments; without it Instagram leaves it out.
            author=f"@{username}" if username else "Instagram user",
            text=str(comment.get("text") or ""),
            url=_comment_link(media.get("permalink"), comment_id, parent),
            title=caption.split("\n", 1)[0][:100],  # which post it is about
            published_at=_datetime(comment.get("timestamp")),
            ref=comment_id,
            in_reply_to=parent or str(media["id"]),
            reply_meta={
                "kind": "comment",
                "comment_id": comment_id,
                # Instagram nests one level: a reply to a reply goes to the thread's first comment.
                "target": parent or comment_id,
                "media_id": str(media["id"]),
                "from_id": str(sender.get("id") or ""),
            },
            addressed=True,  # on our own post: for us whatever the keywords
        )

    def _tagged(self, media: dict[str, Any]) -> Item:
        username = str(media.get("username") or "")
        caption = str(media.get("caption") or "")
        return Item(
            key=str(media["id"]),
            channel="instagram",
            author=f"@{username}" if username else "Instagram user",
            text=caption or "(a post that tags us, without a caption)",
            url=str(media.get("permalink") or ""),
            title="Tag",  # the same word in Dutch and English: the desk shows it as is
            published_at=_datetime(media.get("timestamp")),
            ref=str(media["id"]),
            reply_meta={"kind": "tag", "media_id": str(media["id"])},
            addressed=True,
        )

    # --- replying and moderating -------------------------------------------------------------

    async def reply(
        self, client: httpx.AsyncClient, mention: Any, text: str, *, dry_run: bool | None = None
    ) -> str:
        """Answer a comment with a reply comment; returns the new comment's id."""
        if self.replies == "off":
            raise SourceError('Instagram: replies are off for this source (replies = "off")')
        meta = mention.reply_meta or {}
        if meta.get("kind") == "tag":
            raise SourceError(
                "Instagram: a post we are tagged in is someone else's, and Instagram allows no "
                "comment on it through the API: answer in the Instagram app"
            )
        target = meta.get("target") if meta.get("kind") == "comment" else None
        if not target:
            raise SourceError("Instagram: this mention lacks what a reply needs (no comment id)")
        path = f"/{target}/replies"
        if self.replies == "dry-run" or dry_run:
            return f"dry run: POST {path}, a reply comment to {target} ({len(text)} characters)"
        if not self.token:
            raise SourceError(f"Instagram: the environment variable {self.token_env} is not set")
        response = await self._request(
            client, "POST", self.api + path, "Instagram reply", data={"message": text}
        )
        answer = self._answer(response, "Instagram refused the reply")
        if not answer.get("id"):
            raise SourceError("Instagram reply: the answer has no id of what was sent")
        return str(answer["id"])

    async def moderate(self, client: httpx.AsyncClient, mention: Any, action: str) -> str:
        """Hide a comment on our media, or show it again; returns what Instagram answered, in
        one line for the audit trail. The desk asks the operator first (and handles dry-run)."""
        if action not in self.moderation:
            raise SourceError(
                f"Instagram: {action!r} is not something Instagram can do to a comment "
                f"(it can: {', '.join(self.moderation)})"
            )
        meta = mention.reply_meta or {}
        if meta.get("kind") == "tag":
            raise SourceError(
                "Instagram: a post we are tagged in is not ours: only comments on our own "
                "media can be hidden (report the post in the Instagram app)"
            )
        comment_id = meta.get("comment_id") if meta.get("kind") == "comment" else None
        if not comment_id:
            raise SourceError(
                "Instagram: this mention is not a comment on our media (no comment id)"
            )
        if not self.token:
            raise SourceError(f"Instagram: the environment variable {self.token_env} is not set")
        hide = action == "hide"
        response = await self._request(
            client,
            "POST",
            f"{self.api}/{comment_id}",
            f"Instagram {action}",
            params={"hide": "true" if hide else "false"},
        )
        answer = self._answer(response, f"Instagram refused to {action} the comment")
        if answer.get("success") is not True:
            raise SourceError(f"Instagram {action}: the answer does not say it was done")
        done = "hidden on Instagram" if hide else "shown again on Instagram"
        return f"{done} (comment {comment_id})"

    # --- HTTP ------------------------------------------------------------------------------

    def _token(self) -> tuple[str | None, str]:
        return self.token, self.token_env

    def _hint(self, code: Any, subcode: Any, message: str) -> str:
        if code in (10, 200) or (isinstance(code, int) and 200 <= code <= 299):
            return f": the token lacks a permission this needs ({PERMISSIONS})"
        if code == 100 and subcode == 33:
            return ": the id is wrong, or the token cannot see it (is account_id the Instagram account's id?)"
        return ""


def _entries(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects of a Graph list's `data` (anything else in it is skipped)."""
    data = page.get("data")
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _comment_link(permalink: Any, comment_id: str, parent: str) -> str:
    """The comment's own link, in the form Instagram's app shares it: the post's link and
    `c/{comment}/` (a reply: `c/{comment}/r/{reply}/`). The API gives no comment permalink, and
    the post's link will not do: the desk takes a link for the mention's identity, so every
    comment on a post would be one mention. No post link: no link (the id is the identity)."""
    parts = urlsplit(permalink) if isinstance(permalink, str) else None
    segments = [s for s in parts.path.split("/") if s] if parts else []
    if not parts or parts.scheme != "https" or len(segments) != 2 or segments[0] not in POST_PATHS:
        return ""
    tail = f"c/{parent}/r/{comment_id}/" if parent else f"c/{comment_id}/"
    return f"https://{parts.netloc}/p/{segments[1]}/{tail}"


def _count(value: Any) -> int | None:
    """A comments_count (a whole number ≥ 0), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if value >= 0 and value == int(value) else None
