"""Bluesky: keyword search and the organisation's own notifications, and replies to them.

Bluesky speaks XRPC (HTTP + JSON, `/xrpc/<method>`), with these methods (lexicons as of 2025):

    com.atproto.server.createSession    log in with the handle and an *app password*
    com.atproto.server.refreshSession   a new access token from the refresh token
    app.bsky.feed.searchPosts           q, sort=latest, limit, cursor: posts naming a keyword
    app.bsky.notification.listNotifications
                                        reasons=mention,reply,quote, limit, cursor
    app.bsky.actor.getProfiles          up to 25 actors: follower counts (the mention's reach)
    app.bsky.feed.getAuthorFeed         actor, limit, cursor: a followed person's own posts
    com.atproto.repo.createRecord       an app.bsky.feed.post record: a reply

Where calls go. The session lives on `service` (the account's PDS or the bsky.social entryway).
Logged in, the app.bsky.* reads go to `appview`, which defaults to that same `service`: the PDS
passes them on to the Bluesky AppView with our token (that is how the official app works, and
Bluesky refuses anonymous post search much of the time since January 2025). Without a login,
`appview` defaults to https://public.api.bsky.app and only search works, one page per poll
(the public AppView refuses `cursor` on anonymous search).

The session is kept across polls: createSession is rate-limited hard (30 per 5 minutes, 300 per
day per account). An expired access token (400 ExpiredToken, or any 401) is refreshed once with
the refresh token; when that fails too, one new session is created; a call is retried at most
once. A wrong password is reported naming the handle, never the password.

Incremental fetching. Each search query and the notifications remember which posts (at-uris)
they delivered and the time of the newest. A poll pages back (cursor) until it meets a post it
has delivered or one older than the newest, at most MAX_PAGES pages; the first poll reads one
page of `max_backlog`, and nothing older than that first page is ever delivered. What a poll
found is only remembered once the whole fetch succeeded, so a failing poll loses nothing, and
`rewind()` forgets the last fetch's advance. `checkpoint()` and `resume()` carry what each stream
delivered over a restart of the collector, so its first poll pages back to known ground (within
MAX_PAGES) instead of reading a fresh backlog. Notifications are never marked as read
(app.bsky.notification.updateSeen is not called): the team's own Bluesky app keeps its badges.

Reach: search results and notifications carry no follower counts, so the authors of new posts
are looked up with app.bsky.actor.getProfiles (25 per call, at most PROFILE_CALLS calls per
poll, cached for PROFILE_TTL). A failed lookup only leaves reach empty.

    [[sources]]
    type = "bluesky"
    name = "Bluesky"
    handle = "vlaanderen.bsky.social"     # the organisation's account
    password_env = "BLUESKY_APP_PASSWORD" # an app password (Settings → Privacy and security)
    search = ["VLM", "mestbank"]          # app.bsky.feed.searchPosts queries
    notifications = true                  # mentions, replies, quotes (default: true when logged in)
    every = "2m"
    max_backlog = 25                      # posts per query on the very first poll (1–100)
    follower_counts = true                # getProfiles for reach
    keyword_filter = true                 # default: true with search, false for notifications only
    replies = "send"                      # send | dry-run | off
    langs = ["nl"]                        # the language tag of replies (default: [desk] language)
    service = "https://bsky.social"
    appview = "https://bsky.social"       # default: service when logged in, else public.api.bsky.app
    follow = true                         # follow the [[watch.people]] of channel bluesky

Following (sources.follows): every [[watch.people]] entry with channel = "bluesky" is read
with app.bsky.feed.getAuthorFeed (public: no login needed), as a stream of its own like a
search ("author:<handle>", BACKLOG posts on the first poll). Reposts are left out: they are
someone else's words. A follow that fails is named in the source's health; the rest go on.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from sources import follows, options
from sources.http import buffered, check, exchange, json_of, pause_after, read_body
from sources.source import Checkpoints, OptionError, Replies, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx

    from webcare.mention import Mention
    from webcare.watch import Person

    # one page of a stream: (client, limit, cursor) → ([(item, time it sorts by)], next cursor)
    Page = Callable[
        [httpx.AsyncClient, int, str | None],
        Awaitable[tuple[list[tuple[Item, datetime | None]], str | None]],
    ]

__all__ = ["BlueskySource", "grapheme_count", "link_facets", "post_item"]

DEFAULT_SERVICE = "https://bsky.social"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
CHANNEL = "bluesky"
REASONS = ("mention", "reply", "quote")  # notifications that are someone talking to us
PAGE = 100  # posts per page when catching up (the maximum both methods allow)
FOLLOW_PAGE = 25  # a followed author's page after the first poll (it pages on when needed)
MAX_PAGES = 5  # pages per stream per poll: 500 posts in one interval is a crisis, not a backlog
SEEN_KEPT = 2000  # at-uris remembered per stream (far more than a poll's pages reach back)
CHECKPOINT_SEEN = 500  # of those, the newest kept in a checkpoint (a poll's pages at most)
MAX_BYTES = 5 * 1024**2  # one XRPC answer; a page of 100 posts is ~300 kB
PROFILE_BATCH = 25  # app.bsky.actor.getProfiles takes at most 25 actors
PROFILE_CALLS = 4  # per poll: 100 new authors' follower counts
PROFILE_TTL = 6 * 3600.0
PROFILES_KEPT = 5000
MAX_GRAPHEMES = 300  # app.bsky.feed.post: text maxGraphemes
MAX_POST_BYTES = 3000  # app.bsky.feed.post: text maxLength (UTF-8 bytes)
LINK = "app.bsky.richtext.facet#link"


# --- the source ------------------------------------------------------------------------


@dataclass
class _Stream:
    """What one search query (or the notifications) has delivered."""

    seen: dict[str, None] = field(default_factory=dict)  # at-uris, oldest first, bounded
    newest: datetime | None = None  # the newest post delivered
    floor: datetime | None = None  # the oldest post of the first poll: nothing older is new


@dataclass
class _Advance:
    """What a fetch found for one stream, remembered only when the whole fetch succeeded."""

    stream: _Stream
    uris: list[str]
    newest: datetime | None
    floor: datetime | None
    before: tuple[datetime | None, datetime | None] = (None, None)  # for rewind()


@dataclass(frozen=True)
class BlueskyOptions:
    handle: str = options.text("the organisation's account, like vlaanderen.bsky.social")
    password_env: str = options.env("the environment variable with an app password")
    search: tuple[str, ...] = options.texts("app.bsky.feed.searchPosts queries")
    notifications: bool | None = options.flag(
        "mentions, replies, quotes of the account (default: true when logged in)", None)
    every: float = options.duration("poll interval", "2m")
    max_backlog: int = options.number(f"posts per query on the very first poll (1-{PAGE})", 25, minimum=1)
    follower_counts: bool = options.flag("look up authors' follower counts for reach", True)
    keyword_filter: bool | None = options.flag(
        "posts must name a [watch] keyword (default: true with search, false for notifications only)", None)
    replies: str = options.replies()
    langs: tuple[str, ...] = options.texts("the language tags of replies (default: the [desk] language)")
    service: str = options.address("the account's server (PDS) to log in at", DEFAULT_SERVICE)
    appview: str = options.address("where posts are read (default: service when logged in, else the public AppView)")
    follow: bool = options.flag("follow the [[watch.people]] of channel bluesky", True)


class BlueskySource(Source, Checkpoints, Replies):
    """One Bluesky account's mentions and/or keyword searches."""

    type: ClassVar[str] = "bluesky"
    options_class = BlueskyOptions

    def __init__(
        self,
        name: str,
        *,
        service: str = DEFAULT_SERVICE,
        appview: str = "",
        handle: str = "",
        password: str | None = None,
        password_env: str = "",
        search: list[str] | None = None,
        notifications: bool | None = None,
        interval: float = 120.0,
        keyword_filter: bool | None = None,
        replies: str = "send",
        max_backlog: int = 25,
        follower_counts: bool = True,
        langs: list[str] | None = None,
        follow: tuple[Person, ...] = (),
    ) -> None:
        self.name = name
        self.service = service.rstrip("/")
        self.handle = handle.lstrip("@")
        self._account = self.handle.lower()  # as configured (a login may correct the handle)
        self.logged_in = bool(self.handle and password_env)
        self.appview = (appview or (self.service if self.logged_in else PUBLIC_APPVIEW)).rstrip("/")
        self._password = password
        self.password_env = password_env
        self.search = list(search or [])
        self.notifications = self.logged_in if notifications is None else notifications
        self.interval = interval
        # Notifications are addressed to us: a reply saying "waarom?" names no keyword.
        self.keyword_filter = bool(self.search) if keyword_filter is None else keyword_filter
        self.replies = replies
        self.max_backlog = max_backlog
        self.follower_counts = follower_counts
        self.langs = list(langs or [])
        # the session: kept across polls (createSession is rate-limited per day)
        self._access: str | None = None
        self._refresh: str | None = None
        self._did: str = ""
        # A refused password stays refused until the config changes: asking again would only
        # spend the account's daily login quota (and look like guessing).
        self._login_refused: str | None = None
        self._streams: dict[str, _Stream] = {}
        self._last: list[_Advance] = []  # the last fetch's advance, for rewind()
        self._profiles: dict[str, tuple[int, float]] = {}  # did → (followers, when looked up)
        self.follow = tuple(follow)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> BlueskySource:
        o = options.read(BlueskyOptions, sc)
        service, appview = o.service, o.appview
        handle = o.handle.lstrip("@")
        password_env = o.password_env
        if handle and not password_env:
            raise OptionError(
                "password_env: missing (the environment variable with the app password)"
            )
        if password_env and not handle:
            raise OptionError(
                "handle: missing (the account to log in as, e.g. 'vlaanderen.bsky.social')"
            )
        logged_in = bool(handle)
        search = list(dict.fromkeys(o.search))
        notifications = logged_in if o.notifications is None else o.notifications
        if notifications and not logged_in:
            raise OptionError("notifications: need a login (handle and password_env)")
        follow = follows.followed(config, CHANNEL, o.follow)
        if not search and not notifications and not follow:
            raise OptionError("search: give at least one query, or log in to read notifications")
        interval = o.every
        max_backlog = o.max_backlog
        if max_backlog > PAGE:
            raise OptionError(f"max_backlog: at most {PAGE} (one page), not {max_backlog}")
        keyword_filter = bool(search) if o.keyword_filter is None else o.keyword_filter
        replies = o.replies
        follower_counts = o.follower_counts
        langs = list(o.langs) or [config.language]
        password = options.secret(password_env)
        return cls(
            sc.name,
            service=service,
            appview=appview,
            handle=handle,
            password=password,
            password_env=password_env,
            search=search,
            notifications=notifications,
            interval=interval,
            keyword_filter=keyword_filter,
            replies=replies,
            max_backlog=max_backlog,
            follower_counts=follower_counts,
            langs=langs,
            follow=follow,
        )

    def __repr__(self) -> str:
        return f"BlueskySource({self.name!r}, @{self.handle or 'anonymous'})"

    @property
    def can_reply(self) -> bool:
        return self.replies != "off" and self.logged_in

    # --- fetching ----------------------------------------------------------------------

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        found: dict[str, Item] = {}  # by at-uri: a post found by two queries comes once
        advances: list[_Advance] = []
        for query in self.search:
            items, advance = await self._catch_up(
                client, f"search:{query}", self._search_page(query)
            )
            advances.append(advance)
            for item in items:
                found.setdefault(item.key, item)
        if self.notifications:
            items, advance = await self._catch_up(client, "notifications", self._notification_page)
            advances.append(advance)
            for item in items:  # a notification says more (reason) than a search hit
                found[item.key] = item
        advances += await self._follow(client, found)
        # a post another stream delivered in an earlier poll (a search hit that is also a mention)
        streams = list(self._streams.values())
        items = [
            item
            for item in found.values()
            if not any(item.key in stream.seen for stream in streams)
        ]
        if self.follower_counts and items:
            await self._add_reach(client, items)
        self._commit(advances)
        return items

    def rewind(self) -> None:
        """Forget what the last fetch delivered: the next fetch brings it again."""
        for advance in reversed(self._last):
            for uri in advance.uris:
                advance.stream.seen.pop(uri, None)
            advance.stream.newest, advance.stream.floor = advance.before
        self._last = []

    def checkpoint(self) -> dict[str, Any]:
        """What each stream delivered (its newest at-uris, the newest and first poll's oldest
        post times), for the AppView and account they were read from: after a restart the first
        poll pages back to known ground instead of taking a fresh backlog."""
        streams = {}
        for key, stream in self._streams.items():
            seen = list(stream.seen)[-CHECKPOINT_SEEN:]
            streams[key] = {
                "seen": seen,
                "newest": _iso(stream.newest),
                "floor": _iso(stream.floor),
            }
        return {"appview": self.appview, "account": self._account, "streams": streams}

    def resume(self, state: dict[str, Any]) -> None:
        """Take back the streams of a checkpoint of this AppView (notifications: of this
        account) that are configured now; anything else, or a malformed state, is ignored."""
        if not isinstance(state, dict) or not isinstance(state.get("appview"), str):
            return
        if state["appview"].rstrip("/").lower() != self.appview.lower():
            return
        saved = state.get("streams")
        if not isinstance(saved, dict):
            return
        keys = [f"search:{query}" for query in self.search]
        keys += [_author_key(p) for p in self.follow]
        if self.notifications and state.get("account") == self._account:
            keys.append("notifications")  # another account's notifications are not ours
        streams = {}
        for key in keys:
            stream = _stream_of(saved.get(key))
            if stream is not None:
                streams[key] = stream
        self._streams, self._last = streams, []

    def _commit(self, advances: list[_Advance]) -> None:
        for advance in advances:
            stream = advance.stream
            advance.before = (stream.newest, stream.floor)
            for uri in advance.uris:
                stream.seen[uri] = None
            while len(stream.seen) > SEEN_KEPT:
                del stream.seen[next(iter(stream.seen))]
            if advance.newest and (stream.newest is None or advance.newest > stream.newest):
                stream.newest = advance.newest
            if stream.floor is None:
                stream.floor = advance.floor
        self._last = advances

    async def _catch_up(
        self, client: httpx.AsyncClient, key: str, page: Page
    ) -> tuple[list[Item], _Advance]:
        """New items of one stream: page back until known ground, bounded."""
        stream = self._streams.setdefault(key, _Stream())
        first = not stream.seen
        pages = 1 if first else MAX_PAGES
        if key.startswith("search:") and not self.logged_in:
            pages = 1  # the public AppView refuses cursor on anonymous search
        limit = self.max_backlog if first else PAGE
        if key.startswith("author:"):  # one person's posts: a short page covers a poll's worth
            limit = min(follows.BACKLOG, self.max_backlog) if first else FOLLOW_PAGE
        items: list[Item] = []
        uris: dict[str, None] = {}  # found this poll, in order
        newest = oldest = None
        cursor: str | None = None
        for _ in range(pages):
            entries, cursor = await page(client, limit, cursor)
            reached = not entries
            for item, when in entries:
                if item.key in stream.seen or item.key in uris:
                    reached = True
                    continue
                if stream.newest and when and when < stream.newest:
                    reached = True  # older than the newest delivered: known ground
                if stream.floor and when and when < stream.floor:
                    continue  # from before the desk started watching
                if when:
                    newest = when if newest is None or when > newest else newest
                    oldest = when if oldest is None or when < oldest else oldest
                uris[item.key] = None
                if item.extra.get("wanted", True):
                    items.append(item)
            if reached or not cursor:
                break
        return items, _Advance(stream, list(uris), newest, oldest if first else None)

    async def _follow(self, client: httpx.AsyncClient, found: dict[str, Item]) -> list[_Advance]:
        """The followed people's new posts into `found` (a post found as a notification or a
        search hit stays that); their advances. One that fails is noted in `warning`, keeps
        its place, and the others go on."""
        failures: dict[str, str] = {}
        advances: list[_Advance] = []
        for person in self.follow:
            if self.pause_s:  # the rate limit is reached: the rest wait for the next poll
                break
            try:
                items, advance = await self._catch_up(
                    client, _author_key(person), self._author_page(_actor(person))
                )
            except SourceError as exc:
                if follows.missed(self, failures, person, exc):  # rate-limited: the rest wait
                    break
                continue
            advances.append(advance)
            for item in items:
                if item.key not in found:
                    item.followed = person.kind
                    found[item.key] = item
        self.warning = follows.warning(failures)
        return advances

    def _author_page(self, actor: str) -> Page:
        async def page(
            client: httpx.AsyncClient, limit: int, cursor: str | None
        ) -> tuple[list, str | None]:
            params: dict[str, Any] = {"actor": actor, "limit": limit}
            if cursor:
                params["cursor"] = cursor
            data = await self._call(
                client, "GET", "app.bsky.feed.getAuthorFeed", params=params, what=f"follow @{actor}"
            )
            feed = data.get("feed")
            if not isinstance(feed, list):
                raise SourceError(f"Bluesky follow @{actor}: the answer holds no feed")
            # A repost is someone else's post: left out. Their own posts and replies stay.
            posts = [
                e["post"]
                for e in feed
                if isinstance(e, dict) and isinstance(e.get("post"), dict) and not e.get("reason")
            ]
            return _entries(posts), _cursor(data)

        return page

    def _search_page(self, query: str) -> Page:
        async def page(
            client: httpx.AsyncClient, limit: int, cursor: str | None
        ) -> tuple[list, str | None]:
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": limit}
            if cursor:
                params["cursor"] = cursor
            data = await self._call(
                client, "GET", "app.bsky.feed.searchPosts", params=params, what=f"search {query!r}"
            )
            posts = data.get("posts")
            if not isinstance(posts, list):
                raise SourceError(f"Bluesky search {query!r}: the answer holds no posts")
            return _entries(posts), _cursor(data)

        return page

    async def _notification_page(
        self, client: httpx.AsyncClient, limit: int, cursor: str | None
    ) -> tuple[list, str | None]:
        params: dict[str, Any] = {"limit": limit, "reasons": list(REASONS)}
        if cursor:
            params["cursor"] = cursor
        data = await self._call(
            client,
            "GET",
            "app.bsky.notification.listNotifications",
            params=params,
            what="notifications",
        )
        notes = data.get("notifications")
        if not isinstance(notes, list):
            raise SourceError("Bluesky notifications: the answer holds no notifications")
        return _entries(notes), _cursor(data)

    async def _add_reach(self, client: httpx.AsyncClient, items: list[Item]) -> None:
        """Follower counts for the items' authors, from the cache or getProfiles (bounded)."""
        now = time.monotonic()
        wanted: list[str] = []
        for item in items:
            did = item.extra.get("did", "")
            if item.reach is not None or not did:
                continue
            cached = self._profiles.get(did)
            if cached and now - cached[1] < PROFILE_TTL:
                item.reach = cached[0]
            elif did not in wanted:
                wanted.append(did)
        for start in range(0, min(len(wanted), PROFILE_BATCH * PROFILE_CALLS), PROFILE_BATCH):
            batch = wanted[start : start + PROFILE_BATCH]
            try:
                data = await self._call(
                    client,
                    "GET",
                    "app.bsky.actor.getProfiles",
                    params={"actors": batch},
                    what="profiles",
                )
            except SourceError:
                return  # reach is a nicety: the posts themselves are in
            for profile in data.get("profiles") or []:
                if isinstance(profile, dict) and isinstance(profile.get("followersCount"), int):
                    self._profiles[str(profile.get("did"))] = (profile["followersCount"], now)
        while len(self._profiles) > PROFILES_KEPT:
            del self._profiles[next(iter(self._profiles))]
        for item in items:
            if item.reach is None and item.extra.get("did") in self._profiles:
                item.reach = self._profiles[item.extra["did"]][0]

    # --- the session and the calls -----------------------------------------------------

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        nsid: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One XRPC call, logged in when we can; an expired token is renewed and the call
        retried once."""
        base = self.appview if nsid.startswith("app.") else self.service
        what = f"Bluesky {what}"
        if self.logged_in and self._access is None:
            await self._create_session(client)
        token = self._access if self.logged_in else None
        r = await self._send(
            client, method, f"{base}/xrpc/{nsid}", what, params=params, body=body, token=token
        )
        if self.logged_in and _expired(r):
            if not await self._refresh_session(client):
                await self._create_session(client)
            r = await self._send(
                client,
                method,
                f"{base}/xrpc/{nsid}",
                what,
                params=params,
                body=body,
                token=self._access,
            )
        if r.status_code == 403 and not self.logged_in:
            raise SourceError(
                f"{what}: HTTP 403: Bluesky often refuses anonymous search; log in (handle, password_env)"
            )
        _raise_for(r, what)
        data = json_of(r, what)
        self._note_pause(r)
        if not isinstance(data, dict):
            raise SourceError(f"{what}: the answer is not a JSON object")
        return data

    async def _create_session(self, client: httpx.AsyncClient) -> None:
        who = f"@{self.handle}"
        if not self._password:
            raise SourceError(
                f"Bluesky login as {who}: the environment variable {self.password_env} is not set"
            )
        what = f"Bluesky login as {who}"
        if self._login_refused:
            raise SourceError(self._login_refused)
        self._access = self._refresh = None
        r = await self._send(
            client,
            "POST",
            f"{self.service}/xrpc/com.atproto.server.createSession",
            what,
            body={"identifier": self.handle, "password": self._password},
        )
        if r.status_code in (400, 401):
            reason = _error(r)
            if reason == "AuthFactorTokenRequired":
                why = "this is the main password (it asks for an e-mail code); use an app password"
            elif reason == "AccountTakedown":
                why = f"the account is suspended ({_message(r)})"
            else:
                why = f"wrong handle or app password (HTTP {r.status_code}: {_message(r)})"
            self._login_refused = f"{what} refused: {why}; fix {self.password_env} and restart"
            raise SourceError(self._login_refused)
        # (createSession's own ratelimit-* headers count logins, not reads: no pause from them)
        self._take_session(json_of(r, what), what)

    async def _refresh_session(self, client: httpx.AsyncClient) -> bool:
        """A new access token from the refresh token; False when the refresh token is spent."""
        if not self._refresh:
            return False
        what = f"Bluesky session refresh for @{self.handle}"
        r = await self._send(
            client,
            "POST",
            f"{self.service}/xrpc/com.atproto.server.refreshSession",
            what,
            token=self._refresh,
        )
        if r.status_code in (400, 401):  # expired or revoked: log in again
            self._access = self._refresh = None
            return False
        self._take_session(json_of(r, what), what)  # a rate limit or outage: try again later
        return True

    def _take_session(self, data: object, what: str) -> None:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt", "did")
        ):
            raise SourceError(f"{what}: the server sent no session")
        self._access, self._refresh, self._did = data["accessJwt"], data["refreshJwt"], data["did"]
        if isinstance(data.get("handle"), str) and data["handle"]:
            self.handle = data["handle"]

    def _note_pause(self, r: httpx.Response) -> None:
        wait = pause_after(r)
        if wait is not None:
            self.pause_s = max(self.pause_s or 0.0, wait)

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        """The response with its body read, refusing more than MAX_BYTES."""
        import httpx

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with exchange(
                client, method, url, what, params=params, json=body, headers=headers
            ) as r:
                too_big = f"{what}: the answer is larger than {MAX_BYTES // 1024**2} MB"
                return buffered(r, await read_body(r, MAX_BYTES, too_big))
        except httpx.TimeoutException:
            raise SourceError(f"{what}: timed out") from None
        except httpx.ConnectError:
            raise SourceError(f"{what}: cannot connect to {urlsplit(url).hostname}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{what}: {type(exc).__name__}: {exc}".rstrip(": ")) from None

    # --- replying ----------------------------------------------------------------------

    def reply_record(
        self, mention: Mention, text: str, now: datetime | None = None
    ) -> dict[str, Any]:
        """The app.bsky.feed.post record answering `mention`; SourceError when it cannot be sent."""
        meta = mention.reply_meta or {}
        uri = str(meta.get("uri") or mention.ref or "")
        cid = str(meta.get("cid") or "")
        if not uri.startswith("at://") or not cid:
            raise SourceError(
                "Bluesky reply: this mention has no Bluesky post id (at-uri and cid) to answer"
            )
        text = text.strip()
        if not text:
            raise SourceError("Bluesky reply: the text is empty")
        count = grapheme_count(text)
        if count > MAX_GRAPHEMES:
            raise SourceError(
                f"Bluesky reply: {count} characters, Bluesky allows {MAX_GRAPHEMES}: shorten it"
            )
        if len(text.encode("utf-8")) > MAX_POST_BYTES:
            raise SourceError(f"Bluesky reply: longer than {MAX_POST_BYTES} bytes: shorten it")
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}Z",
            "reply": {
                "root": {
                    "uri": str(meta.get("root_uri") or uri),
                    "cid": str(meta.get("root_cid") or cid),
                },
                "parent": {"uri": uri, "cid": cid},
            },
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        if self.langs:
            record["langs"] = self.langs[:3]  # the lexicon allows three
        return record

    async def reply(
        self, client: httpx.AsyncClient, mention: Mention, text: str, *, dry_run: bool | None = None
    ) -> str:
        """Post `text` as a reply to `mention`; returns the new post's bsky.app link.

        Dry run (`replies = "dry-run"` or dry_run=True): builds and checks the record, sends
        nothing (not even a login)."""
        if self.replies == "off":
            raise SourceError("Bluesky reply: replies are off for this source")
        if not self.logged_in:
            raise SourceError("Bluesky reply: needs a login (handle and password_env)")
        record = self.reply_record(mention, text)
        if dry_run or self.replies == "dry-run":
            links = len(record.get("facets", []))
            return (
                f"dry run: reply as @{self.handle} to {mention.url or record['reply']['parent']['uri']}"
                f" ({grapheme_count(record['text'])} characters, {links} link(s)): {record['text'][:80]}"
            )
        if self._access is None:
            await self._create_session(client)
        data = await self._call(
            client,
            "POST",
            "com.atproto.repo.createRecord",
            what=f"reply as @{self.handle}",
            body={"repo": self._did, "collection": "app.bsky.feed.post", "record": record},
        )
        uri = data.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise SourceError("Bluesky reply: sent, but the server gave no link to it")
        return f"https://bsky.app/profile/{self.handle}/post/{uri.rsplit('/', 1)[-1]}"


# --- posts to items ----------------------------------------------------------------------


def post_item(view: dict[str, Any]) -> tuple[Item, datetime | None] | None:
    """A post view (searchPosts) or a notification as an Item, with the time it sorts by."""
    uri = view.get("uri")
    record = view.get("record")
    author = view.get("author")
    if not isinstance(uri, str) or not uri.startswith("at://") or not isinstance(record, dict):
        return None
    author = author if isinstance(author, dict) else {}
    cid = _s(view.get("cid"))
    did = _s(author.get("did")) or uri[5:].split("/", 1)[0]
    handle = _s(author.get("handle"))
    profile = handle if handle and handle != "handle.invalid" else did
    text = _s(record.get("text"))
    extra_links = [u for u in _links(record) if u not in text]
    if extra_links:
        text = "\n".join([text, *dict.fromkeys(extra_links)]).strip()
    created, indexed = _time(record.get("createdAt")), _time(view.get("indexedAt"))
    # createdAt is what the author's app claims; a clock ahead of the AppView's is not believed
    published = min(created, indexed) if created and indexed else created or indexed
    reply = _obj(record.get("reply"))
    parent, root = _obj(reply.get("parent")), _obj(reply.get("root"))
    followers = author.get("followersCount")
    reason = _s(view.get("reason"))
    item = Item(
        key=uri,
        channel=CHANNEL,
        author=f"@{handle or did}",
        author_name=_s(author.get("displayName")),
        text=text,
        url=f"https://bsky.app/profile/{profile}/post/{uri.rsplit('/', 1)[-1]}",
        published_at=published,
        reach=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        ref=uri,
        in_reply_to=_s(parent.get("uri")),
        reply_meta={
            "uri": uri,
            "cid": cid,
            "root_uri": _s(root.get("uri")) or uri,
            "root_cid": _s(root.get("cid")) or cid,
        },
        extra={"did": did, "reason": reason, "wanted": not reason or reason in REASONS},
        addressed=bool(reason),  # a notification: it mentions, answers or quotes our account
    )
    return item, published


def _actor(person: Person) -> str:
    return person.handle.strip().lstrip("@")


def _author_key(person: Person) -> str:
    return f"author:{_actor(person).lower()}"


def _entries(views: list[Any]) -> list[tuple[Item, datetime | None]]:
    return [entry for view in views if isinstance(view, dict) and (entry := post_item(view))]


def _links(record: dict[str, Any]) -> list[str]:
    """Full URLs of the record's link facets and link card (the text shows them shortened)."""
    out: list[str] = []
    for facet in record.get("facets") or []:
        for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
            if (
                isinstance(feature, dict)
                and feature.get("$type") == LINK
                and isinstance(feature.get("uri"), str)
            ):
                out.append(feature["uri"])
    embed = record.get("embed")
    if isinstance(embed, dict) and isinstance(embed.get("external"), dict):
        uri = embed["external"].get("uri")
        if isinstance(uri, str) and uri:
            out.append(uri)
    return out


# --- reply text: graphemes and link facets -----------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?'\"»”’"


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every http(s) URL in `text`, indexed in UTF-8 bytes as the lexicon wants."""
    facets = []
    for m in _URL.finditer(text):
        url = m.group()
        while url and (
            url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url = url[:-1]  # "zie https://x.be/a." — the full stop ends the sentence, not the link
        if len(url) <= len("https://"):
            continue
        start = len(text[: m.start()].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(url.encode("utf-8"))},
                "features": [{"$type": LINK, "uri": url}],
            }
        )
    return facets


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def grapheme_count(text: str) -> int:
    """How many characters a person sees (Unicode extended grapheme clusters, UAX #29), as
    Bluesky counts its 300. The stdlib has no segmenter; this covers what replies hold:
    combining accents, variation selectors, skin tones, emoji joined by ZWJ, keycaps, flags
    (pairs of regional indicators), subdivision flags (tag characters) and CR LF."""
    count = 0
    joined = False  # the previous character was a zero-width joiner
    flag_open = False  # an odd regional indicator waits for its pair
    previous = ""
    for ch in text:
        if joined:
            joined = False
            previous = ch
            continue
        if ch == "\u200d":
            joined = count > 0
            continue
        if count and (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin tones
            or "\U000e0020" <= ch <= "\U000e007f"  # tags (subdivision flags)
            or (ch == "\n" and previous == "\r")
        ):
            previous = ch
            continue
        if _is_regional(ch) and flag_open:
            flag_open = False
            previous = ch
            continue
        flag_open = _is_regional(ch)
        count += 1
        previous = ch
    return count


# --- small helpers -----------------------------------------------------------------------


def _stream_of(value: object) -> _Stream | None:
    """A checkpoint's stream, or None when it is not one (or holds nothing: a fresh start)."""
    if not isinstance(value, dict):
        return None
    seen, newest, floor = value.get("seen"), value.get("newest"), value.get("floor")
    if not isinstance(seen, list) or not seen:
        return None
    if not all(isinstance(u, str) and u.startswith("at://") and len(u) <= 1000 for u in seen):
        return None
    times = []
    for moment in (newest, floor):
        if moment is not None and (not isinstance(moment, str) or _time(moment) is None):
            return None
        times.append(_time(moment))
    return _Stream(dict.fromkeys(seen[-SEEN_KEPT:]), times[0], times[1])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: object) -> dict[str, Any]:
    """A JSON object of the answer, or an empty one where the server sent something else."""
    return value if isinstance(value, dict) else {}


def _cursor(data: dict[str, Any]) -> str | None:
    cursor = data.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _time(value: object) -> datetime | None:
    """An atproto datetime (RFC 3339, often with Z and sometimes nanoseconds) as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _error(r: httpx.Response) -> str:
    """The XRPC error name ("ExpiredToken", "AuthenticationRequired"), if the body has one."""
    try:
        data = r.json()
    except ValueError:
        return ""
    return _s(data.get("error")) if isinstance(data, dict) else ""


def _message(r: httpx.Response) -> str:
    try:
        data = r.json()
    except ValueError:
        return " ".join(r.text[:160].split())
    message = _s(data.get("message")) if isinstance(data, dict) else ""
    return " ".join(message.split())[:160]


def _raise_for(r: httpx.Response, what: str) -> None:
    """A SourceError in XRPC's own words ({"error": name, "message": text}); rate limits and
    outages through sources.http.check, which reads when to come back."""
    if r.status_code < 400 or r.status_code in (420, 429, 503):
        check(r, what)
        return
    said = ": ".join(part for part in (_error(r), _message(r)) if part)
    hint = ", access refused" if r.status_code in (401, 403) else ""
    raise SourceError(f"{what}: HTTP {r.status_code}{hint} ({said})")


def _expired(r: httpx.Response) -> bool:
    """Whether the access token was refused: renew it and try once more."""
    return r.status_code == 401 or (
        r.status_code == 400 and _error(r) in ("ExpiredToken", "InvalidToken")
    )
