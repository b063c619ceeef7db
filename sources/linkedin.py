"""LinkedIn: comments on the organisation page's posts and posts that mention the page; replies
to both, and deleting a comment on one of our own posts.

Uses LinkedIn's versioned REST API (the Community Management API) with a member's OAuth 2.0
access token; that member must be an administrator of the page. Every call carries the
headers LinkedIn requires: `LinkedIn-Version: YYYYMM` (the `version` key; LinkedIn serves a
version for about a year) and `X-Restli-Protocol-Version: 2.0.0`, under which every URN in a
path or a query is percent-encoded (`urn%3Ali%3Aorganization%3A123`):

- comments: `GET /rest/posts?author={org urn}&q=author&sortBy=CREATED` for the page's newest
  posts (start/count paging), then `GET /rest/socialActions/{post urn}/comments` for each, and
  for a comment whose `commentsSummary` counts replies we have not read,
  `GET /rest/socialActions/{comment urn}/comments` (LinkedIn nests one level);
- mentions: `GET /rest/organizationalEntityNotifications?q=criteria&actions=List(SHARE_MENTION)
  &organizationalEntity={org urn}&timeRange=(start:…,end:…)`: posts by members that @mention
  the page (kept for 60 days; needs rw_organization_admin). The API gives no search: a post
  that names the organisation without tagging the page never reaches us.

Authors are member URNs. Their names come from `GET /rest/people/(id:…)` (and an
organisation's from `GET /rest/organizations/{id}`) where the token may read them; most tokens
may not, and then the author is the URN shortened (`urn:li:person:AbC12x…`), asked again after
a day.

Incremental by time like the Facebook source: comments and mentions since the newest seen,
with a few minutes' overlap, the ids already delivered dropping its repeats; the checkpoint
holds both watermarks and the newest ids. Comments come in pages of 100; a poll stops reading
a post's comments at the first page that reaches back past the watermark (newest first).

Rate limits are daily (reset at midnight UTC) and show as HTTP 429, mostly without Retry-After:
the source waits for Retry-After when there is one, else 15 minutes (then the poller's backoff).
An expired or revoked token is HTTP 401 (serviceErrorCode 65600-65602). LinkedIn tokens last
60 days: `token_expires` (a date) lets the desk's header say so a week ahead.

Replies: `POST /rest/socialActions/{urn}/comments {actor, object, message, parentComment}`, to
a comment as a nested reply under the thread's first comment, to a mentioning post as a
comment on it. Moderation: `DELETE /rest/socialActions/{urn}/comments/{id}?actor={org urn}`,
only for a comment on the page's own post, and it cannot be undone.

    [[sources]]
    type = "linkedin"
    name = "linkedin"
    organization_id = "123456"
    token_env = "WEBCARE_LINKEDIN_TOKEN"
    token_expires = 2027-02-01     # when the token's 60 days are up
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from sources import options
from sources.http import pause_after, request, retry_after
from sources.source import Moderation, OptionError, Replies, Source, SourceError, Watermarks
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

__all__ = ["LinkedInSource"]

API = "https://api.linkedin.com"
SITE = "https://www.linkedin.com"
VERSION = "202610"  # LinkedIn-Version: serves about a year; `version` names a newer one
MAX_BYTES = 5 * 1024**2
MAX_PAGES = 10  # per list per poll
POST_PAGE = 50  # posts per page
COMMENT_PAGE = 100  # comments (and notifications) per page: LinkedIn's largest count
REPLIES_KEPT = 5000  # comments whose reply count we remember
OVERLAP = 600.0
DEFAULT_WAIT = 900.0  # a 429 without Retry-After: LinkedIn's limits are daily
NAME_RETRY = 86400.0  # a token refused names: ask again after a day
NAMES_KEPT = 5000
NAMES_PER_POLL = 100  # names asked for in one poll: a first poll of thousands shows the rest as URNs
COMMENT_MAX = 1250  # characters in a LinkedIn comment
WARN_DAYS = 7  # the header says the token expires this many days ahead
EXPIRED_CODES = frozenset({65600, 65601, 65602})  # invalid, revoked, expired token


def _urn(value: str) -> str:
    """A URN as Rest.li 2.0 wants it in a path or a query: every reserved character encoded."""
    return quote(value, safe="")


@dataclass(frozen=True)
class LinkedInOptions:
    organization_id: str = options.text("the organisation's id (digits: linkedin.com/company/<id>/admin)", required=True)
    token_env: str = options.env("the environment variable with the access token", required=True)
    token_expires: date | None = options.day("when the token's 60 days are up: the header says so a week ahead")
    posts: int = options.number("the newest posts whose comments are read (1-100)", 10, minimum=1)
    comments: bool = options.flag("read the comments on the page's posts", True)
    mentions: bool = options.flag("read posts that mention the organisation", True)
    backlog: float = options.duration("how far the very first poll reaches back", "1d")
    every: float = options.duration("poll interval", "5m")
    timeout: float = options.duration("for each request", "20s")
    keyword_filter: bool = options.flag("comments and mentions must name a [watch] keyword", False)
    api: str = options.address("LinkedIn's API", API)
    version: str = options.text("the LinkedIn-Version to ask for (YYYYMM)", VERSION)
    replies: str = options.replies()


class LinkedInSource(Source, Watermarks, Replies, Moderation):
    """An organisation page's comments and the posts that mention it."""

    type: ClassVar[str] = "linkedin"
    moderation: ClassVar[tuple[str, ...]] = ("delete",)
    moderation_undo: ClassVar[dict[str, str]] = {}  # a deleted comment is gone
    token_label: ClassVar[str] = "LinkedIn"
    options_class = LinkedInOptions
    owner: ClassVar[str] = "organization_id"
    watermarks: ClassVar[tuple[str, ...]] = ("comments_since", "mentions_since")

    def __init__(
        self,
        name: str,
        organization_id: str,
        *,
        token: str | None,
        token_env: str,
        token_expires: date | None = None,
        posts: int = 10,
        comments: bool = True,
        mentions: bool = True,
        backlog: float = 86400.0,
        interval: float = 300.0,
        timeout: float = 20.0,
        keyword_filter: bool = False,
        api: str = API,
        version: str = VERSION,
        replies: str = "send",
    ) -> None:
        self.name = name
        self.organization_id = organization_id
        self.token = token
        self.token_env = token_env
        self.token_expires = token_expires
        self.posts = posts
        self.comments = comments
        self.mentions = mentions
        self.backlog = backlog
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.version = version
        self.replies = replies
        self._start_watermarks()
        self._reply_counts: dict[str, int] = {}  # comment urn → replies read under it
        self._names: dict[str, str] = {}  # member or organisation urn → its name
        self._names_refused: dict[str, float] = {}  # "person"/"organization" → until when

    @property
    def org_urn(self) -> str:
        return f"urn:li:organization:{self.organization_id}"

    @property
    def can_reply(self) -> bool:
        return self.replies != "off" and bool(self.token)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> LinkedInSource:
        o = options.read(LinkedInOptions, sc)
        org = o.organization_id
        if not org.isdigit():
            raise OptionError(
                f"organization_id: {org!r} is not an organization id (digits: the number in the "
                "page's admin address, linkedin.com/company/<id>/admin)"
            )
        if o.posts > 100:
            raise OptionError("posts: read the comments of at most 100 posts")
        if not (o.comments or o.mentions):
            raise OptionError("comments: comments and mentions are both off: nothing to read")
        if not _is_version(o.version):
            raise OptionError(
                f"version: {o.version!r} is not a LinkedIn API version (YYYYMM, like {VERSION!r})"
            )
        return cls(
            sc.name,
            org,
            token=options.secret(o.token_env),
            token_env=o.token_env,
            token_expires=o.token_expires,
            posts=o.posts,
            comments=o.comments,
            mentions=o.mentions,
            backlog=o.backlog,
            interval=o.every,
            timeout=o.timeout,
            keyword_filter=o.keyword_filter,
            api=o.api,
            version=o.version,
            replies=o.replies,
        )

    def __repr__(self) -> str:
        return f"LinkedInSource({self.name!r}, {self.organization_id!r})"

    # --- checkpoints -------------------------------------------------------------------------

    # --- polling -----------------------------------------------------------------------------

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        if not self.token:
            raise SourceError(f"LinkedIn: the environment variable {self.token_env} is not set")
        first = time.time() - self.backlog
        fresh: dict[str, None] = {}
        found: list[tuple[str, dict[str, Any]]] = []  # (kind, what the item is made of)
        comments_since, mentions_since = self._since["comments_since"], self._since["mentions_since"]
        # All or nothing: a failure leaves both watermarks, so the next poll brings it all.
        if self.comments:
            got, comments_since = await self._read_comments(client, comments_since or first, fresh)
            found += got
        if self.mentions and not self.pause_s:
            got, mentions_since = await self._read_mentions(client, mentions_since or first, fresh)
            found += got
        await self._resolve(client, {raw["actor"] for _, raw in found if raw.get("actor")})
        items = [self._item(kind, raw) for kind, raw in found]
        self._advance({"comments_since": comments_since, "mentions_since": mentions_since}, fresh)
        return items

    async def _read_comments(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[tuple[str, dict[str, Any]]], float]:
        """New comments (and replies to comments) on the newest posts, and the new watermark."""
        found: list[tuple[str, dict[str, Any]]] = []
        newest = since
        cutoff = since - OVERLAP
        for post in await self._newest_posts(client):
            post_urn = str(post.get("id") or "")
            if not post_urn:
                continue
            title = _first_line(post.get("commentary"))
            pages = self._pages(client, f"/rest/socialActions/{_urn(post_urn)}/comments", "", "LinkedIn comments")
            threads: list[tuple[str, int]] = []  # (comment urn, its replies) not read yet
            async with aclosing(pages) as listing:
                async for page in listing:
                    for comment in page:
                        newest = self._take(comment, post_urn, post_urn, title, cutoff, newest, fresh, found)
                        urn = _comment_urn(comment, post_urn)
                        replies = _reply_count(comment)
                        if replies and self._reply_counts.get(urn) != replies:
                            threads.append((urn, replies))
                    if _reaches_back(page, cutoff):
                        break  # newest first: the next pages are older still
            for urn, replies in threads:
                if self.pause_s:
                    break
                pages = self._pages(client, f"/rest/socialActions/{_urn(urn)}/comments", "", "LinkedIn replies")
                async with aclosing(pages) as listing:
                    async for page in listing:
                        for comment in page:
                            newest = self._take(comment, post_urn, urn, title, cutoff, newest, fresh, found)
                self._reply_counts.pop(urn, None)
                self._reply_counts[urn] = replies
                while len(self._reply_counts) > REPLIES_KEPT:
                    del self._reply_counts[next(iter(self._reply_counts))]
            if self.pause_s:
                break
        return found, newest

    def _take(
        self,
        comment: dict[str, Any],
        post_urn: str,
        on: str,
        title: str,
        cutoff: float,
        newest: float,
        fresh: dict[str, None],
        found: list[tuple[str, dict[str, Any]]],
    ) -> float:
        """Add one comment to `found` when it is new and not the page's own; returns the
        watermark moved on to it."""
        created = _epoch_ms((comment.get("created") or {}).get("time"))
        if created is not None and created < cutoff:
            return newest
        newest = max(newest, created or newest)
        actor = str(comment.get("actor") or (comment.get("created") or {}).get("actor") or "")
        if actor == self.org_urn or comment.get("agent") == self.org_urn:
            return newest  # the page's own comment: our answer, not a mention
        urn = _comment_urn(comment, post_urn)
        if not urn or urn in self._seen or urn in fresh:
            return newest
        fresh[urn] = None
        found.append(
            (
                "comment",
                {
                    "urn": urn,
                    "id": str(comment.get("id") or ""),
                    "actor": actor,
                    "text": str((comment.get("message") or {}).get("text") or ""),
                    "created": created,
                    "post": post_urn,
                    "object": str(comment.get("object") or post_urn),
                    "on": on,
                    "parent": str(comment.get("parentComment") or ""),
                    "title": title,
                },
            )
        )
        return newest

    async def _newest_posts(self, client: httpx.AsyncClient) -> list[dict[str, Any]]:
        """The page's `posts` newest posts, newest first."""
        query = f"author={_urn(self.org_urn)}&q=author&sortBy=CREATED"
        posts: list[dict[str, Any]] = []
        pages = self._pages(client, "/rest/posts", query, "LinkedIn posts", size=min(self.posts, POST_PAGE), finder=True)
        async with aclosing(pages) as listing:
            async for page in listing:
                posts += page
                if len(posts) >= self.posts:
                    break
        return posts[: self.posts]

    async def _read_mentions(
        self, client: httpx.AsyncClient, since: float, fresh: dict[str, None]
    ) -> tuple[list[tuple[str, dict[str, Any]]], float]:
        """Posts by members that @mention the page, from the page's notifications."""
        start = int((since - OVERLAP) * 1000)
        end = int(time.time() * 1000)
        query = (
            f"q=criteria&actions=List(SHARE_MENTION)&organizationalEntity={_urn(self.org_urn)}"
            f"&timeRange=(start:{start},end:{end})"
        )
        found: list[tuple[str, dict[str, Any]]] = []
        newest = since
        pages = self._pages(
            client, "/rest/organizationalEntityNotifications", query, "LinkedIn mentions", finder=True
        )
        async with aclosing(pages) as listing:
            async for page in listing:
                for note in page:
                    if note.get("action") not in (None, "SHARE_MENTION"):
                        continue
                    at = _epoch_ms(note.get("lastModifiedAt"))
                    if at is not None and at < since - OVERLAP:
                        continue
                    newest = max(newest, at or newest)
                    mention = (note.get("decoratedGeneratedActivity") or {}).get("mention") or {}
                    source_post = note.get("decoratedSourcePost") or {}
                    post = str(
                        note.get("generatedActivity")
                        or mention.get("entity")
                        or note.get("sourcePost")
                        or ""
                    )
                    key = f"mention:{post}"
                    if not post or key in self._seen or key in fresh:
                        continue
                    fresh[key] = None
                    found.append(
                        (
                            "mention",
                            {
                                "urn": post,
                                "key": key,
                                "actor": str(mention.get("owner") or source_post.get("owner") or ""),
                                "text": str(mention.get("text") or source_post.get("text") or ""),
                                "created": at,
                            },
                        )
                    )
        return found, newest

    def _item(self, kind: str, raw: dict[str, Any]) -> Item:
        actor = raw.get("actor") or ""
        author = self._names.get(actor) or _short(actor) or "LinkedIn member"
        created = raw.get("created")
        published = datetime.fromtimestamp(created, UTC) if created is not None else None
        if kind == "mention":
            post = raw["urn"]
            return Item(
                key=raw["key"],
                channel="linkedin",
                author=author,
                # The notification does not always carry the post's text.
                text=raw["text"] or "(a LinkedIn post that mentions the page: open it to read it)",
                url=f"{SITE}/feed/update/{post}",
                title="mention of the page",
                published_at=published,
                ref=post,
                addressed=True,
                reply_meta={"kind": "mention", "post_urn": post, "target": post, "object": post, "actor": actor},
            )
        urn, parent = raw["urn"], raw["parent"]
        return Item(
            key=urn,
            channel="linkedin",
            author=author,
            text=raw["text"],
            url=f"{SITE}/feed/update/{raw['post']}?commentUrn={_urn(urn)}",
            title=raw["title"],
            published_at=published,
            ref=urn,
            in_reply_to=parent or raw["post"],
            addressed=True,
            reply_meta={
                "kind": "comment",
                "comment_urn": urn,
                "comment_id": raw["id"],
                "post_urn": raw["post"],
                "object": raw["object"],
                # LinkedIn nests one level: a reply to a reply goes under the thread's first comment.
                "target": parent or urn,
                "on": raw["on"],  # whose comment list holds it: where a delete goes
                "actor": actor,
            },
        )

    async def _resolve(self, client: httpx.AsyncClient, urns: set[str]) -> None:
        """Names for the authors' URNs, where the token may read them; never fails a poll."""
        now = time.time()
        for urn in sorted(urns - self._names.keys())[:NAMES_PER_POLL]:
            kind, _, ident = urn.removeprefix("urn:li:").partition(":")
            if kind not in ("person", "organization") or not ident:
                continue
            if self._names_refused.get(kind, 0.0) > now or self.pause_s:
                continue
            if kind == "person":
                path = f"/rest/people/(id:{_urn(ident)})"
            else:
                path = f"/rest/organizations/{_urn(ident)}"
            try:
                response = await self._send(client, "GET", path, "LinkedIn names")
            except SourceError:
                return  # the network failed: names next time
            if response.status_code in (401, 403, 404, 429) or response.status_code >= 500:
                if response.status_code in (401, 403):
                    self._names_refused[kind] = now + NAME_RETRY
                if response.status_code == 429:
                    return
                continue
            try:
                data = response.json()
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if kind == "person":
                name = f"{data.get('localizedFirstName') or ''} {data.get('localizedLastName') or ''}"
            else:
                name = str(data.get("localizedName") or "")
            if name.strip():
                self._names[urn] = " ".join(name.split())
                while len(self._names) > NAMES_KEPT:
                    del self._names[next(iter(self._names))]

    # --- replying and moderating ---------------------------------------------------------------

    async def reply(
        self, client: httpx.AsyncClient, mention: Any, text: str, *, dry_run: bool | None = None
    ) -> str:
        """A comment from the page: nested under the comment answered (its thread's first
        comment), or on the member's post that mentions the page. Returns the new comment's link."""
        if self.replies == "off":
            raise SourceError('LinkedIn: replies are off for this source (replies = "off")')
        meta = mention.reply_meta or {}
        target, obj = str(meta.get("target") or ""), str(meta.get("object") or "")
        if meta.get("kind") not in ("comment", "mention") or not target or not obj:
            raise SourceError("LinkedIn: this mention lacks what a reply needs (no comment or post URN)")
        if len(text) > COMMENT_MAX:
            raise SourceError(
                f"LinkedIn: a comment holds at most {COMMENT_MAX} characters, this one has {len(text)}"
            )
        body: dict[str, Any] = {"actor": self.org_urn, "object": obj, "message": {"text": text}}
        if meta["kind"] == "comment":
            body["parentComment"] = target
        path = f"/rest/socialActions/{_urn(target)}/comments"
        if self.replies == "dry-run" or dry_run:
            what = "comment" if meta["kind"] == "comment" else "post"
            return f"dry run: POST {path}, a reply to {what} {target} ({len(text)} characters)"
        if not self.token:
            raise SourceError(f"LinkedIn: the environment variable {self.token_env} is not set")
        response = await self._send(client, "POST", path, "LinkedIn reply", json=body)
        answer = self._answer(response, "LinkedIn reply", empty_ok=True)
        new = str(
            answer.get("commentUrn")
            or answer.get("$URN")
            or response.headers.get("x-restli-id")
            or answer.get("id")
            or ""
        )
        if not new:
            raise SourceError("LinkedIn reply: the answer has no id of the new comment")
        post = str(meta.get("post_urn") or obj)
        return f"{SITE}/feed/update/{post}?commentUrn={_urn(new)}" if new.startswith("urn:") else new

    async def moderate(self, client: httpx.AsyncClient, mention: Any, action: str) -> str:
        """Delete the comment the mention is, on one of the page's own posts (no undo)."""
        if action not in self.moderation:
            raise SourceError(f"LinkedIn: cannot {action!r} here: LinkedIn only deletes a comment")
        meta = mention.reply_meta or {}
        if meta.get("kind") == "mention":
            raise SourceError(
                "LinkedIn: this is a member's own post that mentions the page, not a comment on "
                "ours: only LinkedIn can remove it (report it on LinkedIn)"
            )
        on, comment_id = str(meta.get("on") or ""), str(meta.get("comment_id") or "")
        if meta.get("kind") != "comment" or not on or not comment_id:
            raise SourceError("LinkedIn: this mention lacks what a delete needs (no comment id)")
        if not self.token:
            raise SourceError(f"LinkedIn: the environment variable {self.token_env} is not set")
        path = f"/rest/socialActions/{_urn(on)}/comments/{_urn(comment_id)}?actor={_urn(self.org_urn)}"
        response = await self._send(client, "DELETE", path, "LinkedIn delete")
        if response.status_code == 404:
            raise SourceError(
                f"LinkedIn delete: comment {comment_id} was not found (deleted already?)"
            )
        if response.status_code == 403:
            raise SourceError(
                f"LinkedIn delete: refused (HTTP 403: {_message(response)}): the page may delete "
                "comments only on its own posts, with a token that has w_organization_social"
            )
        self._answer(response, "LinkedIn delete", empty_ok=True)
        return f"deleted on LinkedIn (comment {comment_id}, HTTP {response.status_code})"

    # --- HTTP --------------------------------------------------------------------------------

    async def _pages(
        self,
        client: httpx.AsyncClient,
        path: str,
        query: str,
        what: str,
        *,
        size: int | None = None,
        finder: bool = False,
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The `elements` of a Rest.li collection, page after page (start/count), up to MAX_PAGES."""
        size = size or COMMENT_PAGE
        start = 0
        for _ in range(MAX_PAGES):
            paged = f"{query}&" if query else ""
            response = await self._send(
                client, "GET", f"{path}?{paged}start={start}&count={size}", what, finder=finder
            )
            page = self._answer(response, what)
            elements = [e for e in page.get("elements") or [] if isinstance(e, dict)]
            yield elements
            paging = page.get("paging") or {}
            total = paging.get("total")
            start += len(elements)
            if len(elements) < size or self.pause_s:
                return
            if isinstance(total, int) and start >= total:
                return

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        what: str,
        *,
        finder: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call with the token and the headers LinkedIn requires on every call."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if finder:
            headers["X-RestLi-Method"] = "FINDER"
        return await request(
            client,
            method,
            self.api + path,
            what,
            timeout=self.timeout,
            max_bytes=MAX_BYTES,
            headers=headers,
            **kwargs,
        )

    def _answer(self, response: httpx.Response, what: str, *, empty_ok: bool = False) -> dict[str, Any]:
        """The JSON of a response, or a SourceError in LinkedIn's own words."""
        status = response.status_code
        if status >= 400:
            raise self._error(response, what)
        self.pause_s = pause_after(response)
        if empty_ok and not response.content.strip():
            return {}
        try:
            data = response.json()
        except ValueError:
            raise SourceError(f"{what}: the server did not answer with JSON") from None
        if not isinstance(data, dict):
            raise SourceError(f"{what}: the answer is not a Rest.li object")
        return data

    def _error(self, response: httpx.Response, what: str) -> SourceError:
        status = response.status_code
        said = _message(response)
        code = _service_code(response)
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            wait = retry_after(response) or DEFAULT_WAIT
            return SourceError(
                f"{what}: rate-limited by LinkedIn (HTTP {status}) for {round(wait)} s",
                retry_after=wait,
            )
        if status == 401 or code in EXPIRED_CODES:
            return SourceError(
                f"{what}: the access token has expired or was revoked (HTTP {status}"
                f"{f', serviceErrorCode {code}' if code else ''}: {said}): LinkedIn tokens last "
                f"60 days; make a new one, put it in {self.token_env} and update token_expires"
            )
        if status == 426 or (status == 400 and "version" in said.lower()):
            return SourceError(
                f"{what}: LinkedIn does not serve API version {self.version} (HTTP {status}: "
                f"{said}): set version to a newer YYYYMM"
            )
        if status == 403:
            return SourceError(
                f"{what}: access refused (HTTP 403: {said}): the token lacks a permission "
                "(r_organization_social, w_organization_social, rw_organization_admin) or its "
                "member is not an administrator of the page"
            )
        return SourceError(f"{what}: HTTP {status} {said}".rstrip())


def _message(response: httpx.Response) -> str:
    """LinkedIn's explanation: `message` of its error body, else the body's first words."""
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:160]
    if isinstance(data, dict) and data.get("message"):
        return " ".join(str(data["message"]).split())[:200]
    return ""


def _service_code(response: httpx.Response) -> int | None:
    try:
        data = response.json()
    except ValueError:
        return None
    code = data.get("serviceErrorCode") if isinstance(data, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _comment_urn(comment: dict[str, Any], post_urn: str) -> str:
    urn = comment.get("commentUrn") or comment.get("$URN")
    if isinstance(urn, str) and urn:
        return urn
    ident = comment.get("id")
    obj = comment.get("object") or post_urn
    return f"urn:li:comment:({obj},{ident})" if ident else ""


def _reply_count(comment: dict[str, Any]) -> int:
    summary = comment.get("commentsSummary") or {}
    for key in ("totalFirstLevelComments", "aggregatedTotalComments"):
        value = summary.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def _reaches_back(page: list[dict[str, Any]], cutoff: float) -> bool:
    """Whether a page is newest first and its last comment is older than `cutoff`: the pages
    after it hold nothing newer. (A page oldest first never stops the reading.)"""
    times = [_epoch_ms((c.get("created") or {}).get("time")) for c in page]
    known = [t for t in times if t is not None]
    return len(known) >= 2 and known[0] >= known[-1] and known[-1] < cutoff


def _first_line(value: Any) -> str:
    return str(value or "").strip().split("\n", 1)[0][:100]


def _short(urn: str) -> str:
    """A member's URN shortened for the author column: urn:li:person:AbC12x…"""
    if not urn:
        return ""
    head, _, ident = urn.rpartition(":")
    return f"{head}:{ident[:6]}…" if len(ident) > 8 else urn


def _epoch_ms(value: Any) -> float | None:
    """LinkedIn's times: milliseconds since the epoch."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value / 1000.0
    return None


def _is_version(text: str) -> bool:
    """YYYYMM, or YYYYMM.RR (a patch release)."""
    main, _, patch = text.partition(".")
    if not (len(main) == 6 and main.isdigit() and 1 <= int(main[4:]) <= 12):
        return False
    return not patch or (len(patch) == 2 and patch.isdigit())
