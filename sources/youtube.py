"""YouTube: new videos on channels (no key needed) and comments on them (with an API key).

Videos come from each channel's Atom feed, `{site}/feeds/videos.xml?channel_id=UC…`, read by
an `RSSSource` per channel: the same conditional GET, size cap and parser as every other feed.
A video's `ref` is its video id, so the comments on it thread under it on the desk.

Comments come from the YouTube Data API v3, `GET {api}/commentThreads?part=snippet,replies`
with `allThreadsRelatedToChannelId` (every video of a channel) or `videoId`, `order=time`,
paged with `pageToken`; the key goes in the `X-goog-api-key` header, never in a URL. A poll
reads the newest page and pages on only until it meets a thread it has seen (the first poll
reads one page; after a restart, the checkpoint's newest comment ids take over from where the
collector stopped). A thread brings up to five replies with it; when a thread has more replies
than that and its count changed, `GET {api}/comments?parentId=…` reads them. Each call costs
one unit of the project's daily quota (10,000 by default); a spent quota is a 403 with reason
"quotaExceeded" and lasts until midnight Pacific time, when Google resets it: the source waits
until then.

Reading only: posting a comment (`comments.insert`) needs OAuth consent of the channel's owner
(a Google account), not an API key, and is not supported: it is no `Replies` source.

Moderation (the desk's L3): `POST {api}/comments/setModerationStatus?id=…&moderationStatus=
rejected|heldForReview|published` ("reject", "hold", "publish") needs an OAuth 2.0 access token
of the channel's owner (or a manager) with the youtube.force-ssl scope, not the API key: it is
read from `oauth_token_env` when the desk moderates, and sent as a Bearer token. Google answers
204 without a body; 401 is an expired token, 403 a token without the scope or of another channel.

    [[sources]]
    type = "youtube"
    name = "YouTube VLM"
    channel_ids = ["UCxxxxxxxxxxxxxxxxxxxxxx"]          # new videos (no key needed)
    comment_channel_ids = ["UCxxxxxxxxxxxxxxxxxxxxxx"]  # comments on every video of these
    comment_video_ids = ["dQw4w9WgXcQ"]                 # comments on these videos
    api_key_env = "YOUTUBE_API_KEY"                     # needed for comments
    oauth_token_env = "YOUTUBE_OAUTH_TOKEN"             # optional: moderation (force-ssl)
    every = "15m"
    follow = true                                       # follow the [[watch.people]] of channel youtube

Following (sources.follows): every [[watch.people]] entry with channel = "youtube" (its handle
the channel id, UC…) has its channel's feed read like those of `channel_ids`, its videos shown
with the person's badge. A followed feed that fails is named in the source's health and the
others go on; it keeps its own place in the checkpoint (by URL), as the other feeds do.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sources import follows, options
from sources.http import check, json_of, pause_after, request
from sources.rss import RSSSource, html_to_text
from sources.source import Checkpoints, Moderation, OptionError, RecentIds, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

    from webcare.mention import Mention
    from webcare.watch import Person

__all__ = ["YouTubeSource", "until_quota_reset"]

API = "https://www.googleapis.com/youtube/v3"
SITE = "https://www.youtube.com"
MAX_BYTES = 5 * 1024**2  # a page of 100 threads with replies is a few hundred kB
MAX_PAGES = 10  # per channel or video per poll
SEEN_KEPT = 20_000  # comment ids remembered to stop paging and to drop repeats
RESUME_KEPT = 500  # per channel or video: the newest comment ids a checkpoint keeps
PACIFIC = ZoneInfo("America/Los_Angeles")  # where Google's quota day ends
_CHANNEL_ID = re.compile(r"^UC[\w-]{22}$")
_VIDEO_ID = re.compile(r"^[\w-]{11}$")
# Google's reasons for a refused key: a wrong key, or the API not enabled for its project.
# The desk's moderation actions → comments.setModerationStatus's moderationStatus.
_MODERATION_STATUS = {"reject": "rejected", "hold": "heldForReview", "publish": "published"}
_KEY_REASONS = frozenset({"keyInvalid", "forbidden", "accessNotConfigured", "keyExpired"})


def until_quota_reset(now: datetime | None = None) -> float:
    """Seconds until the next midnight in California, when the Data API's quota resets."""
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), clock_time(0), PACIFIC)
    return max(midnight.timestamp() - now.timestamp(), 60.0)


@dataclasses.dataclass(frozen=True)
class YouTubeOptions:
    channel_ids: tuple[str, ...] = options.texts("channels whose new videos to read (their feeds; no key needed)")
    comment_channel_ids: tuple[str, ...] = options.texts("channels on every video of which to read comments")
    comment_video_ids: tuple[str, ...] = options.texts("videos whose comments to read")
    api_key_env: str = options.env("the environment variable with a YouTube Data API key (needed for comments)")
    oauth_token_env: str = options.env("the environment variable with an OAuth token (moderation, force-ssl)")
    max_results: int = options.number("comment threads per page (1-100)", 50, minimum=1)
    every: float = options.duration("poll interval", "15m")
    timeout: float = options.duration("for each request", "20s")
    keyword_filter: bool = options.flag("videos and comments must name a [watch] keyword", True)
    api: str = options.address("the Data API's address", API)
    site: str = options.address("YouTube's site (the channels' feeds)", SITE)
    follow: bool = options.flag("follow the [[watch.people]] of channel youtube", True)


class YouTubeSource(Source, Checkpoints, Moderation):
    """Videos of channels (feeds) and comments (Data API v3). It posts no replies:
    comments.insert needs a user's OAuth consent."""

    type: ClassVar[str] = "youtube"
    options_class = YouTubeOptions
    moderation: ClassVar[tuple[str, ...]] = ("reject", "hold", "publish")
    moderation_undo: ClassVar[dict[str, str]] = {"reject": "publish", "hold": "publish"}

    def __init__(
        self,
        name: str,
        *,
        channel_ids: list[str] | None = None,
        comment_channel_ids: list[str] | None = None,
        comment_video_ids: list[str] | None = None,
        api_key: str | None = None,
        api_key_env: str = "",
        max_results: int = 50,
        interval: float = 900.0,
        timeout: float = 20.0,
        keyword_filter: bool = True,
        api: str = API,
        site: str = SITE,
        oauth_token_env: str = "",
        follow: tuple[Person, ...] = (),
    ) -> None:
        self.name = name
        self.oauth_token_env = oauth_token_env  # read when moderating: such tokens live an hour
        self.channel_ids = channel_ids or []
        self.api_key = api_key
        self.api_key_env = api_key_env
        self.max_results = max_results
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.site = site
        self.feeds = [
            RSSSource(
                f"{name} ({cid})",
                f"{site}/feeds/videos.xml?channel_id={cid}",
                channel="youtube",
                interval=interval,
                timeout=timeout,
                max_bytes=MAX_BYTES,
                keyword_filter=keyword_filter,
            )
            for cid in self.channel_ids
        ]
        # Followed people's channels: a feed each (a channel also in channel_ids is read once,
        # by that feed, and its videos get the badge there).
        self.followed_kinds = {p.handle.strip(): p.kind for p in follow}
        self.follow_feeds = [
            RSSSource(
                f"{name} (follow {cid})",
                f"{site}/feeds/videos.xml?channel_id={cid}",
                channel="youtube",
                interval=interval,
                timeout=timeout,
                max_bytes=MAX_BYTES,
                keyword_filter=keyword_filter,
            )
            for cid in self.followed_kinds
            if cid not in self.channel_ids
        ]
        # Where comments are read: ("allThreadsRelatedToChannelId" | "videoId", id).
        self.targets = [("allThreadsRelatedToChannelId", c) for c in comment_channel_ids or []]
        self.targets += [("videoId", v) for v in comment_video_ids or []]
        # Comment ids delivered and, per target, the newest it delivered; the reply count
        # last seen per thread, and those counts before the last fetch (-1: none), for rewind().
        self._ids: RecentIds[tuple[str, str]] = RecentIds(SEEN_KEPT, RESUME_KEPT)
        self._reply_counts: dict[str, int] = {}
        self._last_counts: dict[str, int] = {}

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> YouTubeSource:
        o = options.read(YouTubeOptions, sc)
        channel_ids = list(o.channel_ids)
        comment_channel_ids = list(o.comment_channel_ids)
        comment_video_ids = list(o.comment_video_ids)
        for key, ids in (
            ("channel_ids", channel_ids),
            ("comment_channel_ids", comment_channel_ids),
        ):
            for cid in ids:
                if not _CHANNEL_ID.match(cid):
                    raise OptionError(
                        f"{key}: {cid!r} is not a channel id (24 characters starting with UC; "
                        "on the channel's page: About → Share channel → Copy channel ID)"
                    )
        for vid in comment_video_ids:
            if not _VIDEO_ID.match(vid):
                raise OptionError(
                    f"comment_video_ids: {vid!r} is not a video id (the 11 characters after watch?v=)"
                )
        follow = follows.followed(config, "youtube", o.follow)
        for person in follow:
            if not _CHANNEL_ID.match(person.handle.strip()):
                raise OptionError(
                    f"follow: the [[watch.people]] handle {person.handle!r} is not a YouTube "
                    "channel id (UC…, 24 characters): give the channel id, or set follow = false"
                )
        if not (channel_ids or comment_channel_ids or comment_video_ids or follow):
            raise OptionError(
                "channel_ids: give channel_ids, comment_channel_ids or comment_video_ids"
            )
        api_key_env = o.api_key_env
        if (comment_channel_ids or comment_video_ids) and not api_key_env:
            raise OptionError("api_key_env: reading comments needs a YouTube Data API key")
        max_results = o.max_results
        if max_results > 100:
            raise OptionError("max_results: YouTube gives at most 100 comment threads per page")
        interval, timeout = o.every, o.timeout
        api, site = o.api, o.site
        oauth_token_env = o.oauth_token_env
        source = cls(
            sc.name,
            channel_ids=channel_ids,
            comment_channel_ids=comment_channel_ids,
            comment_video_ids=comment_video_ids,
            api_key=options.secret(api_key_env),
            api_key_env=api_key_env,
            max_results=max_results,
            interval=interval,
            timeout=timeout,
            keyword_filter=o.keyword_filter,
            api=api,
            site=site,
            oauth_token_env=oauth_token_env,
            follow=follow,
        )
        return source

    def __repr__(self) -> str:
        return f"YouTubeSource({self.name!r})"

    # --- polling ---------------------------------------------------------------------------

    def rewind(self) -> None:
        """Forget what the last fetch delivered, so the next one delivers it again."""
        self._ids.rewind()
        for thread_id, count in self._last_counts.items():
            if count < 0:
                self._reply_counts.pop(thread_id, None)
            else:
                self._reply_counts[thread_id] = count
        self._last_counts = {}
        for feed in [*self.feeds, *self.follow_feeds]:
            feed.rewind()

    def checkpoint(self) -> dict[str, Any]:
        """Each channel feed's own checkpoint (by its URL) and, per comment target ("videoId=…"
        or "allThreadsRelatedToChannelId=…"), the newest comment ids delivered and the reply
        counts of their threads: after a restart the first poll pages on until it meets one of
        them, instead of reading one page."""
        targets = {}
        for target in self.targets:
            ids = self._ids.newest(target)
            if ids is None:
                continue
            counts = {i: self._reply_counts[i] for i in ids if i in self._reply_counts}
            targets[_target_key(target)] = {"seen": ids, "reply_counts": counts}
        feeds = [*self.feeds, *self.follow_feeds]
        return {"feeds": {f.url: f.checkpoint() for f in feeds}, "targets": targets}

    def resume(self, state: dict[str, Any]) -> None:
        """Take up what of a checkpoint still fits the entry: the feeds of the channels and the
        comment targets still configured. Anything unreadable is ignored (a fresh start)."""
        if not isinstance(state, dict):
            return
        feeds, targets = state.get("feeds"), state.get("targets")
        if isinstance(feeds, dict):
            for feed in [*self.feeds, *self.follow_feeds]:
                feed_state = feeds.get(feed.url)
                if isinstance(feed_state, dict):
                    try:
                        feed.resume(feed_state)
                    except Exception:  # a feed that cannot use it starts fresh
                        feed.rewind()
        if not isinstance(targets, dict):
            return
        for target in self.targets:
            saved = targets.get(_target_key(target))
            if not isinstance(saved, dict):
                continue
            ids, counts = saved.get("seen"), saved.get("reply_counts")
            if not (
                RecentIds.readable(ids)
                and isinstance(counts, dict)
                and all(type(n) is int and n >= 0 for n in counts.values())
            ):
                continue
            ids = self._ids.take(target, ids)
            self._reply_counts.update({i: counts[i] for i in ids if i in counts})

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        if self.targets and not self.api_key:
            raise SourceError(
                f"YouTube comments: the environment variable {self.api_key_env} is not set"
            )
        items: list[Item] = []
        fetched: list[RSSSource] = []
        fresh: dict[str, None] = {}
        counts: dict[str, int] = {}
        delivered: dict[tuple[str, str], list[str]] = {}
        # All or nothing: when one part fails, the feeds read so far are rewound and no
        # comment cursor moves, so the next poll brings all of it (nothing lost).
        try:
            for feed in self.feeds:
                items += [self._video(i, feed) for i in await feed.fetch(client)]
                fetched.append(feed)
            for target in self.targets:
                found = await self._comments(client, target, fresh, counts)
                items += found
                delivered[target] = [i.key for i in found]
                if self.pause_s:  # the quota is spent: the other targets wait
                    break
        except BaseException:
            for feed in fetched:
                feed.rewind()
            raise
        self._last_counts = {t: self._reply_counts.get(t, -1) for t in counts}
        self._reply_counts.update(counts)
        self._ids.deliver(fresh, delivered)
        while len(self._reply_counts) > SEEN_KEPT:
            del self._reply_counts[next(iter(self._reply_counts))]
        return items + await self._follow(client)

    async def _follow(self, client: httpx.AsyncClient) -> list[Item]:
        """The followed channels' new videos. Read after the rest succeeded (which is all or
        nothing); each on its own: one that fails is noted in `warning`, the others go on."""
        failures: dict[str, str] = {}
        items: list[Item] = []
        for feed in self.follow_feeds:
            try:
                items += [self._video(i, feed) for i in await feed.fetch(client)]
            except Exception as exc:  # noqa: BLE001 (one feed's failure of any kind is its own)
                failures[_channel_of(feed)] = str(exc) or type(exc).__name__
                retry_after = exc.retry_after if isinstance(exc, SourceError) else None
                if retry_after is not None:  # rate-limited: the rest wait for the reset
                    self.pause_s = max(self.pause_s or 0.0, retry_after)
                    break
        self.warning = follows.warning(failures)
        return items

    def _video(self, item: Item, feed: RSSSource) -> Item:
        """A feed entry with the video id as its ref (YouTube's entry ids are yt:video:ID), and
        the badge of the person whose channel it is when they are followed."""
        video_id = item.key.removeprefix("yt:video:") if item.key.startswith("yt:video:") else ""
        followed = self.followed_kinds.get(_channel_of(feed), "")
        return dataclasses.replace(item, ref=video_id, followed=followed)

    async def _comments(
        self,
        client: httpx.AsyncClient,
        target: tuple[str, str],
        fresh: dict[str, None],
        counts: dict[str, int],
    ) -> list[Item]:
        kind, target_id = target
        what = f"YouTube comments on {'channel' if kind != 'videoId' else 'video'} {target_id}"
        params: dict[str, Any] = {
            "part": "snippet,replies",
            kind: target_id,
            "order": "time",
            "maxResults": self.max_results,
        }
        items: list[Item] = []
        pages = MAX_PAGES if target in self._ids.started else 1  # the first poll: one page
        for _ in range(pages):
            page = await self._get(client, "/commentThreads", params, what)
            if page is None:  # comments are turned off on this video
                break
            known = False
            for thread in page.get("items") or []:
                snippet = thread.get("snippet") if isinstance(thread, dict) else None
                if not snippet:
                    continue
                top = snippet.get("topLevelComment")
                if not isinstance(top, dict):
                    continue
                thread_id = str(thread.get("id") or top.get("id") or "")
                if thread_id in self._ids.seen:
                    known = True
                else:
                    items += self._new(top, fresh)
                replies = (thread.get("replies") or {}).get("comments") or []
                items += [c for r in replies for c in self._new(r, fresh)]
                total = snippet.get("totalReplyCount")
                if isinstance(total, int) and total > len(replies):
                    if total != self._reply_counts.get(thread_id) and thread_id not in counts:
                        items += await self._all_replies(client, thread_id, fresh)
                        counts[thread_id] = total
            token = page.get("nextPageToken")
            if known or not token or self.pause_s:
                break
            params["pageToken"] = token
        return items

    async def _all_replies(
        self, client: httpx.AsyncClient, thread_id: str, fresh: dict[str, None]
    ) -> list[Item]:
        """The replies of a thread with more than the five that come with it (one page: 100)."""
        params = {"part": "snippet", "parentId": thread_id, "maxResults": 100, "textFormat": "html"}
        page = await self._get(client, "/comments", params, f"YouTube replies to {thread_id}")
        if page is None:
            return []
        return [c for r in page.get("items") or [] for c in self._new(r, fresh)]

    def _new(self, comment: dict[str, Any], fresh: dict[str, None]) -> list[Item]:
        """The comment as an Item, or nothing when it was delivered before."""
        comment_id = str(comment.get("id") or "")
        snippet = comment.get("snippet")
        if (
            not comment_id
            or comment_id in self._ids.seen
            or comment_id in fresh
            or not isinstance(snippet, dict)
        ):
            return []
        fresh[comment_id] = None
        video_id = str(snippet.get("videoId") or "")
        parent = str(snippet.get("parentId") or "")
        # textOriginal only reaches the comment's author; others get textDisplay, in HTML.
        text = snippet.get("textOriginal")
        if not isinstance(text, str):
            text = html_to_text(str(snippet.get("textDisplay") or ""), self.site)
        return [
            Item(
                key=comment_id,
                channel="youtube",
                author=str(snippet.get("authorDisplayName") or "?"),
                text=text,
                url=f"{SITE}/watch?v={quote(video_id)}&lc={quote(comment_id)}" if video_id else "",
                published_at=_datetime(snippet.get("publishedAt")),
                ref=comment_id,
                # A reply answers its thread's first comment; a first comment, the video.
                in_reply_to=parent or video_id,
                extra={"video": video_id} if video_id else {},
            )
        ]

    # --- moderation ------------------------------------------------------------------------

    async def moderate(self, client: httpx.AsyncClient, mention: Mention, action: str) -> str:
        """Reject, hold for review or publish a comment (comments.setModerationStatus)."""
        import os

        status = _MODERATION_STATUS.get(action)
        if status is None:
            raise SourceError(f"YouTube: cannot {action} a comment (only reject, hold or publish)")
        comment_id = mention.ref
        if not comment_id or not mention.in_reply_to:
            raise SourceError("YouTube: only comments can be moderated (this is a video)")
        if not self.oauth_token_env:
            raise SourceError(
                "YouTube: moderating needs an OAuth token with the youtube.force-ssl scope (oauth_token_env)"
            )
        token = os.environ.get(self.oauth_token_env, "").strip()
        if not token:
            raise SourceError(f"YouTube: the environment variable {self.oauth_token_env} is not set")
        what = f"YouTube {action}"
        response = await request(
            client, "POST", f"{self.api}/comments/setModerationStatus", what,
            timeout=self.timeout, max_bytes=MAX_BYTES,
            params={"id": comment_id, "moderationStatus": status},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code >= 400 and response.status_code not in (429, 503):
            reason, message = _google_error(response)
            detail = " ".join(part for part in (reason, message) if part)
            hint = ""
            if response.status_code == 401:
                hint = f": the OAuth token has expired or was revoked; put a new one in {self.oauth_token_env}"
            elif response.status_code == 403:
                hint = ": the token lacks the youtube.force-ssl scope or is not of the channel's owner"
            elif reason == "commentNotFound" or response.status_code == 404:
                hint = ": the comment is gone"
            raise SourceError(f"{what}: HTTP {response.status_code} {detail}".rstrip() + hint)
        check(response, what)
        self.pause_s = pause_after(response)
        return f"{status} on YouTube (comment {comment_id})"

    # --- HTTP ------------------------------------------------------------------------------

    async def _get(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any], what: str
    ) -> dict[str, Any] | None:
        """One Data API call; None when comments are turned off there. Errors as SourceError
        in Google's own words, a spent quota with a wait until it resets."""
        response = await self._request(client, path, params, what)
        if response.status_code >= 400 and response.status_code not in (429, 503):
            reason, message = _google_error(response)
            if reason == "commentsDisabled":
                return None
            if reason in ("quotaExceeded", "dailyLimitExceeded"):
                wait = until_quota_reset()
                raise SourceError(
                    f"{what}: the project's daily YouTube API quota is spent; it resets at "
                    f"midnight Pacific time (in {wait / 3600:.1f} h)",
                    retry_after=wait,
                )
            if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
                raise SourceError(f"{what}: rate-limited ({message})", retry_after=60.0)
            hint = ": check the API key" if reason in _KEY_REASONS else ""
            detail = " ".join(part for part in (reason, message) if part)
            raise SourceError(f"{what}: HTTP {response.status_code} {detail}".rstrip() + hint)
        data = json_of(response, what)
        self.pause_s = pause_after(response)
        if not isinstance(data, dict):
            raise SourceError(f"{what}: the answer is not a YouTube list")
        return data

    async def _request(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any], what: str
    ) -> httpx.Response:

        headers = {"X-goog-api-key": self.api_key or ""}
        response = await request(
            client,
            "GET",
            self.api + path,
            what,
            timeout=self.timeout,
            max_bytes=MAX_BYTES,
            params=params,
            headers=headers,
        )
        if response.status_code in (429, 503):
            check(response, what)
        return response


def _google_error(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) of a Google API error body: {"error": {"code", "message", "errors":
    [{"reason", "message", "domain"}]}}. Messages may hold HTML links: made plain."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "", " ".join(html_to_text(response.text[:2000]).split())[:160]
    if not isinstance(error, dict):
        return "", ""
    errors = error.get("errors")
    reason = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    message = html_to_text(str(error.get("message") or ""))
    return reason, message[:200]


def _channel_of(feed: RSSSource) -> str:
    return feed.url.rpartition("channel_id=")[2]


def _target_key(target: tuple[str, str]) -> str:
    """A comment target as a checkpoint names it: "videoId=…" or "allThreadsRelatedToChannelId=…"."""
    return f"{target[0]}={target[1]}"


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
