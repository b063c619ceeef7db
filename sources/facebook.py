"""Facebook: comments on a page's recent posts and its Messenger conversations; replies to both.

Uses the Graph API (v21.0 by default) with a page access token, sent in the Authorization
header (never in a URL):

- comments: `GET /{page_id}/posts?fields=id,message,permalink_url,created_time&limit=N` for
  the page's N newest posts, then for each `GET /{post_id}/comments?fields=id,message,from,
  created_time,permalink_url,parent&filter=stream&order=reverse_chronological&since=…`
  (filter=stream: replies to comments too, each with its `parent`);
- messages: `GET /{page_id}/conversations?platform=messenger&fields=messages{message,from,
  created_time,id},updated_time`, newest conversation first. Messages are private: no URL.

Paged with `paging.next` (only to the API's own host, without the token it may carry).
Incremental by time: comments since the newest `created_time` seen, conversations updated
since the newest message seen, each with a few minutes' overlap (a comment held for review
appears later than its time says); the ids already delivered drop the overlap's repeats. The
first poll reaches back `backlog` (default 1 day); after a restart, the checkpoint's watermarks
and newest ids take over from where the collector stopped (however long it was down).

Graph errors are {"error": {"message", "type", "code", "error_subcode"}}: codes 4, 17, 32 and
613 (and the page's 80001…) are rate limits, waited out for the `estimated_time_to_regain_access`
of the `x-business-use-case-usage` / `x-app-usage` headers when they give one; code 190 is an
expired or revoked token.

Replies: to a comment `POST /{comment_id}/comments {message}` (to the thread's first comment:
Facebook nests one level deep); to a message `POST /{page_id}/messages {recipient: {id},
message: {text}, messaging_type: "RESPONSE"}`, which Messenger allows within 24 hours of the
person's last message.

    [[sources]]
    type = "facebook"
    name = "Facebook-pagina VLM"
    page_id = "123456789012345"
    page_token_env = "FACEBOOK_PAGE_TOKEN"
    posts = 10              # the newest posts whose comments are read
    messages = true         # Messenger conversations (needs pages_messaging)
    every = "5m"
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sources import options
from sources.graph import API, GraphClient, _datetime, _epoch
from sources.source import Moderation, OptionError, Replies, Source, SourceError, Watermarks
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

__all__ = ["FacebookSource"]

MAX_PAGES = 10  # per post or conversation list per poll
OVERLAP = 600.0  # seconds read again on every poll: late-appearing comments
MESSENGER_MAX = 2000  # characters in one Messenger message
COMMENT_FIELDS = "id,message,from,created_time,permalink_url,parent"
MESSAGE_FIELDS = "messages{message,from,created_time,id},updated_time"


@dataclass(frozen=True)
class FacebookOptions:
    page_id: str = options.text("the page's id (digits; the page's About → Page transparency)", required=True)
    page_token_env: str = options.env("the environment variable with the page access token", required=True)
    posts: int = options.number("the newest posts whose comments are read (1-100)", 10, minimum=1)
    comments: bool = options.flag("read the comments on the page's posts", True)
    messages: bool = options.flag("read Messenger conversations (needs pages_messaging)", True)
    every: float = options.duration("poll interval", "5m")
    timeout: float = options.duration("for each request", "20s")
    backlog: float = options.duration("how far the very first poll reaches back", "1d")
    keyword_filter: bool = options.flag("comments and messages must name a [watch] keyword", False)
    api: str = options.address("the Graph API's address (with its version)", API)
    replies: str = options.replies()


class FacebookSource(GraphClient, Source, Watermarks, Replies, Moderation):
    """A Facebook page's comments and Messenger conversations."""

    type: ClassVar[str] = "facebook"
    options_class = FacebookOptions
    owner: ClassVar[str] = "page_id"
    watermarks: ClassVar[tuple[str, ...]] = ("comments_since", "messages_since")
    token_words: ClassVar[str] = "page access token"
    # Hiding a comment (`POST /{comment_id}?is_hidden=true`): the author and their friends still
    # see it, nobody else does; unhiding brings it back (sources/moderation.py, the desk's L3).
    moderation: ClassVar[tuple[str, ...]] = ("hide", "unhide")
    moderation_undo: ClassVar[dict[str, str]] = {"hide": "unhide"}

    def __init__(
        self,
        name: str,
        page_id: str,
        *,
        page_token: str | None,
        page_token_env: str,
        posts: int = 10,
        comments: bool = True,
        messages: bool = True,
        backlog: float = 86400.0,
        interval: float = 300.0,
        timeout: float = 20.0,
        keyword_filter: bool = False,
        api: str = API,
        replies: str = "send",
    ) -> None:
        self.name = name
        self.page_id = page_id
        self.page_token = page_token
        self.page_token_env = page_token_env
        self.posts = posts
        self.comments = comments
        self.messages = messages
        self.backlog = backlog
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.replies = replies
        # Watermarks (epoch seconds of the newest comment / message seen), the ids delivered
        # (oldest first) and what the last fetch changed, for rewind().
        self._start_watermarks()

    @property
    def can_reply(self) -> bool:
        return self.replies != "off" and bool(self.page_token)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> FacebookSource:
        o = options.read(FacebookOptions, sc)
        page_id = o.page_id
        if not page_id.isdigit():
            raise OptionError(
                f"page_id: {page_id!r} is not a page id (digits; the page's About → Page transparency)"
            )
        if o.posts > 100:
            raise OptionError("posts: Facebook gives at most 100 posts per page")
        if not (o.comments or o.messages):
            raise OptionError("comments: comments and messages are both off: nothing to read")
        return cls(
            sc.name,
            page_id,
            page_token=options.secret(o.page_token_env),
            page_token_env=o.page_token_env,
            posts=o.posts,
            comments=o.comments,
            messages=o.messages,
            backlog=o.backlog,
            interval=o.every,
            timeout=o.timeout,
            keyword_filter=o.keyword_filter,
            api=o.api,
            replies=o.replies,
        )

    def __repr__(self) -> str:
        return f"FacebookSource({self.name!r}, {self.page_id!r})"

    # --- polling ---------------------------------------------------------------------------

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        if not self.page_token:
            raise SourceError(
                f"Facebook: the environment variable {self.page_token_env} is not set"
            )
        first = time.time() - self.backlog
        fresh: dict[str, None] = {}
        items: list[Item] = []
        comments_since, messages_since = self._since["comments_since"], self._since["messages_since"]
        # All or nothing: a failure leaves both watermarks, so the next poll brings it all.
        if self.comments:
            found, comments_since = await self._read_comments(
                client, comments_since or first, fresh
            )
            items += found
        if self.messages and not self.pause_s:
            found, messages_since = await self._read_messages(
                client, messages_since or first, fresh
            )
            items += found
        self._advance({"comments_since": comments_since, "messages_since": messages_since}, fresh)
        return items

    async def _read_comments(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[Item], float]:
        """New comments on the newest posts, and the new watermark."""
        posts = await self._get(
            client,
            f"/{self.page_id}/posts",
            {"fields": "id,message,permalink_url,created_time", "limit": self.posts},
            "Facebook posts",
        )
        items: list[Item] = []
        newest = since
        for post in posts.get("data") or []:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            params = {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "reverse_chronological",
                "since": int(since - OVERLAP),
                "limit": 100,
            }
            pages = self._pages(client, f"/{post['id']}/comments", params, "Facebook comments")
            async with aclosing(pages) as comments:
                async for comment in comments:
                    created = _epoch(comment.get("created_time"))
                    if created is not None and created < since - OVERLAP:
                        break  # newest first: the rest is older still
                    newest = max(newest, created or newest)
                    item = self._comment(comment, post)
                    if item is not None and self._is_new(item.ref, fresh):
                        items.append(item)
            if self.pause_s:
                break
        return items, newest

    async def _read_messages(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[Item], float]:
        """New Messenger messages from people (not the page's own), and the new watermark."""
        params = {"platform": "messenger", "fields": MESSAGE_FIELDS, "limit": 25}
        items: list[Item] = []
        newest = since
        pages = self._pages(client, f"/{self.page_id}/conversations", params, "Facebook messages")
        async with aclosing(pages) as conversations:
            async for conversation in conversations:
                found, newest = self._from_conversation(conversation, since, newest, fresh)
                if found is None:
                    break  # conversations come newest first: the rest is older still
                items += found
        return items, newest

    def _from_conversation(
        self, conversation: dict[str, Any], since: float, newest: float, fresh: dict[str, None]
    ) -> tuple[list[Item] | None, float]:
        """The new messages of one conversation (None: it is older than `since`)."""
        items: list[Item] = []
        updated = _epoch(conversation.get("updated_time"))
        if updated is not None and updated < since - OVERLAP:
            return None, newest
        for message in (conversation.get("messages") or {}).get("data") or []:
            if not isinstance(message, dict):
                continue
            created = _epoch(message.get("created_time"))
            if created is not None and created < since - OVERLAP:
                break  # messages come newest first
            newest = max(newest, created or newest)
            sender = message.get("from") or {}
            if str(sender.get("id") or "") == self.page_id:
                continue  # the page's own answer
            key = str(message.get("id") or "")
            if key and self._is_new(key, fresh):
                items.append(self._message(message, str(conversation.get("id") or "")))
        return items, newest

    def _is_new(self, key: str, fresh: dict[str, None]) -> bool:
        if not key or key in self._seen or key in fresh:
            return False
        fresh[key] = None
        return True

    def _comment(self, comment: dict[str, Any], post: dict[str, Any]) -> Item | None:
        comment_id = str(comment.get("id") or "")
        if not comment_id:
            return None
        sender = comment.get("from") or {}
        parent = str((comment.get("parent") or {}).get("id") or "")
        post_text = str(post.get("message") or "").strip()
        return Item(
            key=comment_id,
            channel="facebook",
            author=str(sender.get("name") or "Facebook user"),  # `from` is withheld for some
            text=str(comment.get("message") or ""),
            url=str(comment.get("permalink_url") or post.get("permalink_url") or ""),
            title=post_text.split("\n", 1)[0][:100],  # which post it is about
            published_at=_datetime(comment.get("created_time")),
            ref=comment_id,
            in_reply_to=parent or str(post["id"]),
            reply_meta={
                "kind": "comment",
                "comment_id": comment_id,
                # Facebook nests one level: a reply to a reply goes to the thread's first comment.
                "target": parent or comment_id,
                "post_id": str(post["id"]),
                "from_id": str(sender.get("id") or ""),
            },
        )

    def _message(self, message: dict[str, Any], conversation_id: str) -> Item:
        sender = message.get("from") or {}
        return Item(
            key=str(message["id"]),
            channel="facebook",
            author=str(sender.get("name") or "Messenger user"),
            # A sticker, photo or file has no text; say so rather than show nothing.
            text=str(
                message.get("message") or "(a message without text: a photo, sticker or file)"
            ),
            url="",  # private: there is no link to a Messenger message
            title="Messenger",
            published_at=_datetime(message.get("created_time")),
            ref=str(message["id"]),
            reply_meta={
                "kind": "message",
                "recipient_id": str(sender.get("id") or ""),
                "conversation_id": conversation_id,
            },
        )

    # --- replying --------------------------------------------------------------------------

    async def reply(
        self, client: httpx.AsyncClient, mention: Any, text: str, *, dry_run: bool | None = None
    ) -> str:
        """Answer a comment (a reply comment) or a message (a Messenger message); returns the
        new comment's or message's id."""
        if self.replies == "off":
            raise SourceError('Facebook: replies are off for this source (replies = "off")')
        meta = mention.reply_meta or {}
        kind = meta.get("kind")
        if kind == "comment" and meta.get("target"):
            path, what = f"/{meta['target']}/comments", "comment"
            request: dict[str, Any] = {"data": {"message": text}}
        elif kind == "message" and meta.get("recipient_id"):
            if len(text) > MESSENGER_MAX:
                raise SourceError(
                    f"Facebook: a Messenger message holds at most {MESSENGER_MAX} characters, this one has {len(text)}"
                )
            path, what = f"/{self.page_id}/messages", "message"
            request = {
                "json": {
                    "recipient": {"id": meta["recipient_id"]},
                    "message": {"text": text},
                    "messaging_type": "RESPONSE",
                }
            }
        else:
            raise SourceError(
                "Facebook: this mention lacks what a reply needs (no comment or recipient id)"
            )
        if self.replies == "dry-run" or dry_run:
            target = meta.get("target") if kind == "comment" else f"person {meta['recipient_id']}"
            return f"dry run: POST {path}, a reply {what} to {target} ({len(text)} characters)"
        if not self.page_token:
            raise SourceError(
                f"Facebook: the environment variable {self.page_token_env} is not set"
            )
        response = await self._request(client, "POST", self.api + path, "Facebook reply", **request)
        answer = self._answer(response, f"Facebook refused the {what}")
        new_id = answer.get("id") or answer.get("message_id")
        if not new_id:
            raise SourceError(f"Facebook {what}: the answer has no id of what was sent")
        return str(new_id)

    # --- moderation ------------------------------------------------------------------------

    async def moderate(self, client: httpx.AsyncClient, mention: Any, action: str) -> str:
        """Hide or unhide a comment on the page (`POST /{comment_id}?is_hidden=…`, which needs
        the pages_manage_engagement permission); returns what Facebook answered."""
        if action not in self.moderation:
            raise SourceError(f"Facebook: cannot {action} a comment (only hide or unhide)")
        meta = mention.reply_meta or {}
        comment_id = str(meta.get("comment_id") or "") if meta.get("kind") == "comment" else ""
        if not comment_id:
            raise SourceError("Facebook: only comments can be hidden (this is not a comment on the page)")
        if not self.page_token:
            raise SourceError(f"Facebook: the environment variable {self.page_token_env} is not set")
        hidden = action == "hide"
        what = f"Facebook {action}"
        response = await self._request(
            client, "POST", f"{self.api}/{comment_id}", what, params={"is_hidden": "true" if hidden else "false"}
        )
        answer = self._answer(response, f"Facebook refused to {action} the comment")
        if answer.get("success") is not True:
            raise SourceError(f"{what}: Facebook did not confirm it (comment {comment_id})")
        return f"{'hidden' if hidden else 'unhidden'} on Facebook (comment {comment_id})"

    # --- HTTP ------------------------------------------------------------------------------

    async def _pages(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any], what: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every entry of a Graph list, page after page (paging.next), up to MAX_PAGES."""
        page = await self._get(client, path, params, what)
        for _ in range(MAX_PAGES):
            for entry in page.get("data") or []:
                if isinstance(entry, dict):
                    yield entry
            following = self._next(page)
            if following is None or self.pause_s:
                return
            page = await self._follow(client, following, what)

    def _token(self) -> tuple[str | None, str]:
        return self.page_token, self.page_token_env

    def _hint(self, code: Any, subcode: Any, message: str) -> str:
        if subcode == 2018278 or "outside of allowed window" in message:
            return ": Messenger allows a reply only within 24 hours of the person's last message"
        if code in (10, 200) or (isinstance(code, int) and 200 <= code <= 299):
            return ": the page token lacks a permission this needs"
        return ""
