"""Mastodon: hashtags, searches and mentions of the organisation's account, polled and live.

Endpoints (Mastodon's REST API v1/v2, as in Mastodon 4.x; they also work on the servers that
copy it closely):

    GET  /api/v1/timelines/tag/:hashtag              hashtags; no token needed
    GET  /api/v2/search?type=statuses&q=…&resolve=false
                                                     searches; token needed
    GET  /api/v1/notifications?types[]=mention       statuses that mention our account; token
    GET  /api/v1/accounts/lookup?acct=…              a followed person's account id (once)
    GET  /api/v2/search?type=accounts&resolve=true   … when this server does not know it; token
    GET  /api/v1/accounts/:id/statuses               a followed person's posts (sources.follows)
    GET  /api/v2/instance                            where the streaming server lives
    GET  /api/v1/streaming/user/notification         live mentions (server-sent events)
    GET  /api/v1/streaming/hashtag?tag=…             live hashtags (server-sent events)
    POST /api/v1/statuses                            a reply (with an Idempotency-Key)

Incremental polling. Each endpoint keeps its own cursor. The first poll takes one page of
recent posts (`max_backlog`). After that, timelines and notifications are walked forward with
`min_id` (the page right after the cursor, then the page its `Link: rel="prev"` names, up to
MAX_PAGES a poll), so a burst of several pages between two polls is fetched in full, oldest
first, and a burst larger than that continues at the next poll. Search answers newest first
with no Link header: it is walked down with `max_id` within (cursor, newest], and a range it
could not finish is remembered and finished first at the next poll. Either way no post is lost
and none is fetched twice; `rewind()` goes back to the cursors before the last fetch.
`checkpoint()` and `resume()` carry the cursors over a restart of the collector: its first poll
walks on from them (the backlog rule is for the very first poll only), so what came in while
it was down is fetched, within the same page limits.

Live: with a token and `stream = true`, `live()` holds a server-sent event stream per hashtag
and one for notifications; the poller keeps polling beside it as catch-up. Mastodon sends a
heartbeat comment every 10-15 s, so a stream silent for `stream_timeout` (60 s) is dropped.

    [[sources]]
    type = "mastodon"
    name = "Mastodon #vlm"
    instance = "https://mastodon.social"   # required; the server the token belongs to
    hashtags = ["vlm", "mestbank"]          # tag timelines, no token needed
    search = ["Vlaamse Landmaatschappij"]   # full-text search; needs a token
    mentions = true                         # default: true when the token is set
    token_env = "MASTODON_TOKEN"            # the variable that holds the access token
    every = "2m"                            # poll interval (the catch-up interval when live)
    stream = true                           # live streams when the token allows
    keyword_filter = true                   # hashtag/search posts must name a [watch] keyword
                                            # (mentions of our account are always kept)
    max_backlog = 40                        # posts per endpoint on the very first poll (1-40)
    replies = "send"                        # send | dry-run | off
    follow = true                           # follow the [[watch.people]] of channel mastodon

Following: every [[watch.people]] entry with channel = "mastodon" (handle "@jan@journa.host")
is looked up once and its statuses walked forward like a timeline (its own cursor, BACKLOG
posts on the very first poll). An account this server does not know yet is resolved on its own
server with a search (resolve=true), which needs the token; one that fails is named in the
source's health, the rest go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from sources import follows, options
from sources.http import buffered, check, exchange, iter_decoded, json_of, pause_after, read_body
from sources.rss import html_to_text
from sources.source import Checkpoints, LiveConnection, OptionError, Replies, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

    from webcare.watch import Person

__all__ = ["MastodonSource", "SSEParser", "status_item"]

PAGE = 40  # Mastodon's largest page of statuses
MAX_PAGES = 5  # pages per endpoint per poll: a burst beyond that continues at the next poll
MAX_BYTES = 8 * 1024**2  # one API answer (40 statuses are ~100-300 kB)
MAX_EVENT = 1024**2  # one server-sent event
STREAM_SILENCE = 60.0  # seconds without a byte (not even a heartbeat) before a stream is dead
TIMEOUT = 20.0
VISIBILITIES = ("public", "unlisted", "private", "direct")  # most public first
_MENTION_LINK = re.compile(r"""<a\s[^>]*class\s*=\s*["'][^"']*\bmention\b[^>]*>""", re.IGNORECASE)
_HASHTAG = re.compile(r"[^\s#/?&]+")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where one endpoint stands. `low`: every post up to this id is fetched. For search,
    `high`/`top`: the range (low, high) is still to fetch, and [high, top] was fetched."""

    low: str | None = None
    high: str | None = None
    top: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    what: str  # for messages: "#vlm", "search 'VLM'", "mentions"
    path: str
    params: tuple[tuple[str, str], ...]
    kind: str  # "timeline" | "notifications" | "search"


def _newer(a: str, b: str) -> bool:
    """Whether id `a` is newer than `b`. Mastodon ids are numeric strings of growing length;
    other servers' (ULIDs, flake ids) sort as strings of one length: both by (length, text)."""
    return (len(a), a) > (len(b), b)


def _cursor_of(value: Any) -> Cursor | None:
    """A checkpoint's cursor ({"low", "high", "top"}), or None when it is not one."""
    if not isinstance(value, dict):
        return None
    parts = [value.get(k) for k in ("low", "high", "top")]
    if not all(p is None or (isinstance(p, str) and 0 < len(p) <= 64) for p in parts):
        return None
    low, high, top = parts
    if low is None and (high is not None or top is not None):
        return None
    return Cursor(low, high, top)


def _newest(ids: list[str]) -> str:
    return max(ids, key=lambda i: (len(i), i))


def _oldest(ids: list[str]) -> str:
    return min(ids, key=lambda i: (len(i), i))


@dataclass(frozen=True)
class MastodonOptions:
    instance: str = options.text("the server the token belongs to, like https://mastodon.social", required=True)
    hashtags: tuple[str, ...] = options.texts("tag timelines to read (no token needed)")
    search: tuple[str, ...] = options.texts("full-text searches (need a token)")
    mentions: bool | None = options.flag("read posts that mention our account (default: true when the token is set)", None)
    token_env: str = options.env("the environment variable that holds the access token")
    every: float = options.duration("poll interval (the catch-up interval when live)", "2m")
    stream: bool = options.flag("live streams when the token allows", True)
    keyword_filter: bool | None = options.flag(
        "hashtag/search posts must name a [watch] keyword (default: true with hashtags or search)", None)
    max_backlog: int = options.number(f"posts per endpoint on the very first poll (1-{PAGE})", PAGE, minimum=1)
    replies: str = options.replies()
    follow: bool = options.flag("follow the [[watch.people]] of channel mastodon", True)


class MastodonSource(Source, Checkpoints, LiveConnection, Replies):
    """Hashtags, searches and mentions on one Mastodon server."""

    type: ClassVar[str] = "mastodon"
    options_class = MastodonOptions
    channel: ClassVar[str] = "mastodon"

    def __init__(
        self,
        name: str,
        instance: str,
        *,
        hashtags: Sequence[str] = (),
        search: Sequence[str] = (),
        mentions: bool = False,
        token: str | None = None,
        token_env: str = "",
        interval: float = 120.0,
        stream: bool = True,
        keyword_filter: bool = True,
        replies: str = "send",
        max_backlog: int = PAGE,
        follow: tuple[Person, ...] = (),
    ) -> None:
        self.name = name
        self.instance = instance.rstrip("/")
        self.host = urlsplit(self.instance).netloc.lower()
        self.hashtags = list(hashtags)
        self.search = list(search)
        self.mentions = mentions
        self._token = token or None  # never shown: not in repr, messages or Items
        self.token_env = token_env
        self.interval = interval
        self.stream = stream
        self.keyword_filter = keyword_filter
        self.replies = replies
        self.max_backlog = max_backlog
        self.timeout = TIMEOUT
        self.stream_timeout = STREAM_SILENCE
        self._cursors: dict[str, Cursor] = {}
        self._previous: dict[str, Cursor] = {}
        self._stream_base: str | None = None
        self.follow = tuple(follow)
        self._accounts: dict[str, str] = {}  # followed acct → account id on this server

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> MastodonSource:
        o = options.read(MastodonOptions, sc)
        instance = o.instance
        parts = urlsplit(instance)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OptionError(
                f"instance: {instance!r} is not an address like https://mastodon.social"
            )
        if parts.path.strip("/") or parts.query:
            raise OptionError(
                f"instance: {instance!r}: give the server only, like https://{parts.netloc}"
            )
        hashtags = [t.lstrip("#") for t in o.hashtags]
        for tag in hashtags:
            if not _HASHTAG.fullmatch(tag):
                raise OptionError(f"hashtags: {tag!r} is not a hashtag")
        search = list(o.search)
        token_env = o.token_env
        token = options.secret(token_env)
        mentions_said = o.mentions
        mentions = bool(token) if o.mentions is None else o.mentions
        interval = o.every
        stream = o.stream
        max_backlog = o.max_backlog
        if max_backlog > PAGE:
            raise OptionError(
                f"max_backlog: at most {PAGE} (Mastodon's largest page), not {max_backlog}"
            )
        replies = o.replies
        if search and not token_env:
            raise OptionError("search: needs an access token: name its variable in token_env")
        if mentions_said is True and not token_env:
            raise OptionError("mentions: needs an access token: name its variable in token_env")
        # Whether mentions will be watched when the token is there (at run time it may be).
        watches_mentions = mentions_said is True or (mentions_said is None and bool(token_env))
        follow = follows.followed(config, "mastodon", o.follow)
        if not hashtags and not search and not watches_mentions and not follow:
            raise OptionError(
                "hashtags: nothing to watch: give hashtags, search, or a token_env for mentions"
            )
        # Posts that mention our own account are for us whatever words they use; hashtags and
        # searches bring strangers' posts, which must name a [watch] keyword.
        keyword_filter = bool(hashtags or search) if o.keyword_filter is None else o.keyword_filter
        return cls(
            sc.name,
            instance,
            hashtags=hashtags,
            search=search,
            mentions=mentions,
            token=token,
            token_env=token_env,
            interval=interval,
            stream=stream,
            keyword_filter=keyword_filter,
            replies=replies,
            max_backlog=max_backlog,
            follow=follow,
        )

    def __repr__(self) -> str:
        return f"MastodonSource({self.name!r}, {self.instance!r})"

    @property
    def can_live(self) -> bool:
        return bool(self._token and self.stream and (self.hashtags or self.mentions))

    @property
    def can_reply(self) -> bool:
        return bool(self._token) and self.replies != "off"

    # --- polling ---------------------------------------------------------------------

    def _endpoints(self) -> list[Endpoint]:
        out = [
            Endpoint(f"#{tag}", f"/api/v1/timelines/tag/{quote(tag, safe='')}", (), "timeline")
            for tag in self.hashtags
        ]
        out += [
            Endpoint(
                f"search {q!r}",
                "/api/v2/search",
                (("type", "statuses"), ("q", q), ("resolve", "false")),
                "search",
            )
            for q in self.search
        ]
        if self.mentions:
            out.append(
                Endpoint(
                    "mentions", "/api/v1/notifications", (("types[]", "mention"),), "notifications"
                )
            )
        return out

    def rewind(self) -> None:
        """Go back to the cursors before the last fetch (the poller could not store it)."""
        self._cursors = dict(self._previous)

    def checkpoint(self) -> dict[str, Any]:
        """Every endpoint's cursor (and search's unfinished range), for the server they are on:
        after a restart the first poll walks on from them instead of taking a fresh backlog.
        The followed accounts' ids too, so a restart does not look them up again."""
        return {
            "instance": self.instance,
            "cursors": {
                what: {"low": c.low, "high": c.high, "top": c.top}
                for what, c in self._cursors.items()
            },
            **({"accounts": dict(self._accounts)} if self.follow else {}),
        }

    def resume(self, state: dict[str, Any]) -> None:
        """Take back the cursors of a checkpoint of this server, for the endpoints configured
        now; anything else (another server, a malformed state) is ignored: a fresh start."""
        if not isinstance(state, dict) or not isinstance(state.get("instance"), str):
            return
        if state["instance"].rstrip("/").lower() != self.instance.lower():
            return  # ids of another server mean nothing here
        saved = state.get("cursors")
        if not isinstance(saved, dict):
            return
        cursors: dict[str, Cursor] = {}
        kinds = [(e.what, e.kind) for e in self._endpoints()]
        kinds += [(_follow_what(p), "timeline") for p in self.follow]
        for what, kind in kinds:
            cursor = _cursor_of(saved.get(what))
            if cursor is not None and (kind == "search" or cursor.high is None):
                cursors[what] = cursor
        self._cursors, self._previous = cursors, dict(cursors)
        accounts = state.get("accounts")
        if isinstance(accounts, dict):
            wanted = {_acct(p) for p in self.follow}
            self._accounts = {
                a: i
                for a, i in accounts.items()
                if a in wanted and isinstance(i, str) and re.fullmatch(r"[\w-]{1,64}", i)
            }

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        cursors = dict(self._cursors)
        items: list[Item] = []
        for endpoint in self._endpoints():
            if self.pause_s:  # the quota is spent: the other endpoints wait for the next poll
                break
            if endpoint.kind != "timeline" and not self._token:
                raise SourceError(
                    f"{self._what(endpoint)}: needs an access token: {self._token_hint()}"
                )
            walk = self._walk_down if endpoint.kind == "search" else self._walk_forward
            found, cursors[endpoint.what] = await walk(
                client, endpoint, cursors.get(endpoint.what, Cursor())
            )
            items += found
        items += await self._follow(client, cursors, {i.key for i in items})
        # Only now, with every endpoint fetched: a failed fetch leaves every cursor where it was.
        self._previous, self._cursors = self._cursors, cursors
        return items

    async def _follow(
        self, client: httpx.AsyncClient, cursors: dict[str, Cursor], known: set[str]
    ) -> list[Item]:
        """The followed people's new statuses, each account walked forward on its own cursor.
        One that fails is noted in `warning` and keeps its cursor; the others go on. A status
        the endpoints above brought already (a mention of us, a hashtag) comes as that."""
        failures: dict[str, str] = {}
        items: list[Item] = []
        for person in self.follow:
            if self.pause_s:  # the quota is spent: the rest wait for the next poll
                break
            what = _follow_what(person)
            try:
                account = await self._account_id(client, _acct(person))
                endpoint = Endpoint(
                    what, f"/api/v1/accounts/{quote(account, safe='')}/statuses", (), "timeline"
                )
                found, cursors[what] = await self._walk_forward(
                    client, endpoint, cursors.get(what, Cursor()), backlog=follows.BACKLOG
                )
            except SourceError as exc:
                if follows.missed(self, failures, person, exc):  # rate-limited: the rest wait
                    break
                continue
            for item in found:
                if item.key not in known:
                    known.add(item.key)
                    item.followed = person.kind
                    items.append(item)
        self.warning = follows.warning(failures)
        return items

    async def _account_id(self, client: httpx.AsyncClient, acct: str) -> str:
        """A followed account's id on this server (looked up once, then remembered)."""
        if acct not in self._accounts:
            what = self._what(f"lookup @{acct}")
            response = await self._send(
                client, "GET", self.instance + "/api/v1/accounts/lookup", what,
                params={"acct": acct},
            )  # fmt: skip
            if response.status_code == 404 and self._token:
                # Not known to this server yet: with a token, a search with resolve=true asks
                # the person's own server (WebFinger) and makes it known.
                what = self._what(f"resolve @{acct}")
                response = await self._send(
                    client, "GET", self.instance + "/api/v2/search", what,
                    params={"q": "@" + acct, "type": "accounts", "resolve": "true", "limit": "5"},
                )  # fmt: skip
                found = self._json(response, what)
                accounts = found.get("accounts") if isinstance(found, dict) else None
                user, _, domain = acct.lower().partition("@")
                # This server writes its own accounts without the domain.
                names = {acct.lower()} | ({user} if domain in ("", self.host) else set())
                data = next(
                    (a for a in accounts or []
                     if isinstance(a, dict) and str(a.get("acct", "")).lower() in names),
                    None,
                )  # fmt: skip
                if data is None:
                    raise SourceError(f"{what}: no such account")
            elif response.status_code == 404:
                raise SourceError(
                    f"{what}: no such account on {self.host} (or not known there yet: "
                    "with a token_env it is looked up on its own server)"
                )
            else:
                data = self._json(response, what)
            self.pause_s = pause_after(response)
            account = data.get("id") if isinstance(data, dict) else None
            if not isinstance(account, str) or not re.fullmatch(r"[\w-]{1,64}", account):
                raise SourceError(f"{what}: the answer has no account id")
            self._accounts[acct] = account
        return self._accounts[acct]

    async def _walk_forward(
        self, client: httpx.AsyncClient, endpoint: Endpoint, cursor: Cursor, backlog: int = 0
    ) -> tuple[list[Item], Cursor]:
        """Timelines and notifications: with `min_id` Mastodon answers the page right after the
        cursor, so walking forward page by page leaves no gap, however long the burst."""
        if cursor.low is None:  # the very first poll: only the recent backlog
            limit = min(backlog, self.max_backlog) if backlog else self.max_backlog
            entries, _ = await self._page(client, endpoint, {"limit": limit})
            ids = [e["id"] for e in entries]
            return self._items(endpoint, entries), Cursor(_newest(ids) if ids else None)
        found: list[dict[str, Any]] = []
        low = cursor.low
        for _ in range(MAX_PAGES):
            entries, response = await self._page(client, endpoint, {"limit": PAGE, "min_id": low})
            if not entries:
                break
            found += entries
            low = _newest([low] + [e["id"] for e in entries])
            # The next page is the one Link rel="prev" names (its min_id); our own min_id when
            # the server sends no Link header.
            prev = response.links.get("prev", {}).get("url", "")
            nxt = parse_qs(urlsplit(prev).query).get("min_id", [""])[0]
            if nxt and _newer(nxt, low):
                low = nxt
            if len(entries) < PAGE or self.pause_s:
                break
        return self._items(endpoint, found), Cursor(low)

    async def _walk_down(
        self, client: httpx.AsyncClient, endpoint: Endpoint, cursor: Cursor
    ) -> tuple[list[Item], Cursor]:
        """Search: the newest results first and no Link header, so walk down with `max_id`
        from the newest to the cursor; a range not finished in MAX_PAGES is finished next time."""
        if cursor.low is None:
            entries, _ = await self._page(client, endpoint, {"limit": self.max_backlog})
            ids = [e["id"] for e in entries]
            return self._items(endpoint, entries), Cursor(_newest(ids) if ids else None)
        found: list[dict[str, Any]] = []
        max_id, done = cursor.high, False
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE, "min_id": cursor.low}
            if max_id is not None:
                params["max_id"] = max_id
            entries, _ = await self._page(client, endpoint, params)
            found += entries
            if len(entries) < PAGE:
                done = True
                break
            max_id = _oldest([e["id"] for e in entries])
            if self.pause_s:
                break
        ids = [e["id"] for e in found]
        top = cursor.top if cursor.high is not None else (_newest(ids) if ids else None)
        if done:  # all of (low, high or the newest) is fetched, and [high, top] was before
            new = Cursor(top or cursor.low)
        else:
            new = Cursor(cursor.low, max_id, top)
        return self._items(endpoint, found), new

    async def _page(
        self, client: httpx.AsyncClient, endpoint: Endpoint, params: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], httpx.Response]:
        """One page of an endpoint: its entries (statuses or notifications) and the response."""
        what = self._what(endpoint)
        response = await self._send(
            client,
            "GET",
            self.instance + endpoint.path,
            what,
            params=[*endpoint.params, *params.items()],
        )
        data = self._json(response, what)
        if endpoint.kind == "search":
            data = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(data, list):
            raise SourceError(f"{what}: the answer is not a list of posts")
        self.pause_s = pause_after(response)
        entries = [
            e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]
        ]
        return entries, response

    def _items(self, endpoint: Endpoint, entries: list[dict[str, Any]]) -> list[Item]:
        entries = sorted(entries, key=lambda e: (len(e["id"]), e["id"]))  # oldest first
        items = []
        for entry in entries:
            status = entry.get("status") if endpoint.kind == "notifications" else entry
            if isinstance(status, dict):  # a notification's status is null once it is deleted
                item = status_item(status, self.host, self.channel, via=endpoint.what)
                if item is not None:
                    items.append(item)
        return items

    # --- HTTP ------------------------------------------------------------------------

    def _what(self, endpoint: Endpoint | str) -> str:
        return f"{self.host} {endpoint.what if isinstance(endpoint, Endpoint) else endpoint}"

    def _token_hint(self) -> str:
        if self.token_env:
            return f"the environment variable {self.token_env} is not set"
        return "name its environment variable in token_env"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        what: str,
        *,
        params: Any = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One API request with its answer read (at most MAX_BYTES); failures as SourceError."""
        import httpx

        try:
            async with exchange(
                client,
                method,
                url,
                what,
                params=params,
                json=body,
                headers={**self._headers(), **(headers or {})},
                timeout=self.timeout,
                deadline=self.timeout,
                follow_redirects=False,  # the token goes to our server and nowhere else
            ) as r:
                content = await _read_capped(r, MAX_BYTES, what)
        except httpx.TimeoutException:
            raise SourceError(f"{what}: timed out after {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise SourceError(
                f"{what}: cannot connect ({exc})" if str(exc) else f"{what}: cannot connect"
            ) from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{what}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
        return _buffered(r, content)

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return json_of(response, what)
        except SourceError as exc:
            raise self._explained(exc, response) from None

    def _explained(self, exc: SourceError, response: httpx.Response) -> SourceError:
        """A refused token's error, saying which variable it came from."""
        if response.status_code in (401, 403) and self._token and self.token_env:
            return SourceError(f"{exc}; the token comes from {self.token_env}", exc.retry_after)
        if response.status_code == 401 and not self._token:
            return SourceError(f"{exc}; this server wants a token: set token_env", exc.retry_after)
        return exc

    # --- live ------------------------------------------------------------------------

    async def live(self, client: httpx.AsyncClient) -> AsyncGenerator[list[Item]]:
        """Hold one event stream per hashtag and one for mentions: yields [] once all are
        connected, then the Items of each event. Raises SourceError when any stream drops."""
        if not self.can_live:
            return
        base = await self._streaming_base(client)
        paths = [(f"#{tag}", "/api/v1/streaming/hashtag", {"tag": tag}) for tag in self.hashtags]
        if self.mentions:
            paths.append(("mentions", "/api/v1/streaming/user/notification", {}))
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        tasks = [
            asyncio.create_task(
                self._stream(client, base + path, params, what, queue), name=f"stream:{what}"
            )
            for what, path, params in paths
        ]
        try:
            connected = 0
            while True:
                kind, value = await queue.get()
                if kind == "error":
                    raise value
                if kind == "connected":
                    connected += 1
                    if connected == len(tasks):
                        yield []
                elif value:
                    yield value
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _streaming_base(self, client: httpx.AsyncClient) -> str:
        """Where the streaming server is: a server may run it on a host of its own
        (configuration.urls.streaming in /api/v2/instance); else the instance itself."""
        if self._stream_base is None:
            base = self.instance
            try:
                response = await self._send(
                    client, "GET", self.instance + "/api/v2/instance", self._what("instance")
                )
                data = json_of(response, "instance") if response.status_code == 200 else {}
                url = (
                    ((data.get("configuration") or {}).get("urls") or {}).get("streaming")
                    if isinstance(data, dict)
                    else None
                )
                if isinstance(url, str) and url:
                    scheme, _, rest = url.partition("://")
                    scheme = {"wss": "https", "ws": "http"}.get(scheme.lower(), scheme.lower())
                    # The token goes along: only to https, or to the instance's own scheme.
                    if rest and scheme in ("https", urlsplit(self.instance).scheme):
                        base = f"{scheme}://{rest}".rstrip("/")
            except SourceError:
                pass  # an older server: its streaming API is under the instance's own address
            self._stream_base = base
        return self._stream_base

    async def _stream(
        self,
        client: httpx.AsyncClient,
        url: str,
        params: dict[str, str],
        what: str,
        queue: asyncio.Queue[tuple[str, Any]],
    ) -> None:
        """One event stream: its batches (and its end) onto `queue`."""
        import httpx

        what = self._what(f"stream {what}")
        timeout = httpx.Timeout(self.stream_timeout, connect=TIMEOUT)
        try:
            async with exchange(
                client,
                "GET",
                url,
                what,
                params=params,
                headers={**self._headers(), "Accept": "text/event-stream"},
                timeout=timeout,
                deadline=None,  # meant to stay open: the heartbeat's read timeout watches it
                follow_redirects=False,
            ) as r:
                if r.status_code != 200:
                    content = await _read_capped(r, 64 * 1024, what)
                    response = _buffered(r, content)
                    try:
                        check(response, what)
                    except SourceError as exc:
                        raise self._explained(exc, response) from None
                    raise SourceError(f"{what}: HTTP {r.status_code}, not an event stream")
                await queue.put(("connected", None))
                parser = SSEParser()
                async for chunk in iter_decoded(r, what):
                    batch = []
                    for event, data in parser.feed(chunk):
                        batch += self._event_items(event, data)
                    await queue.put(("items", batch))
            raise SourceError(f"{what}: the server closed the stream")
        except asyncio.CancelledError:
            raise
        except httpx.ReadTimeout:
            error = SourceError(
                f"{what}: silent for {self.stream_timeout:g} s (no heartbeat): reconnecting"
            )
        except httpx.TimeoutException:
            error = SourceError(f"{what}: timed out connecting")
        except httpx.HTTPError as exc:
            said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            error = SourceError(f"{what}: dropped ({said})")
        except SourceError as exc:
            error = exc
        await queue.put(("error", error))

    def _event_items(self, event: str, data: str) -> list[Item]:
        """`update`: a status (hashtag streams); `notification`: a mention's status. Others
        (delete, status.update, filters_changed…) say nothing new to the desk."""
        if event not in ("update", "notification"):
            return []
        try:
            payload = json.loads(data)
        except ValueError:
            return []  # one garbled event must not end the stream
        if not isinstance(payload, dict):
            return []
        if event == "notification":
            if payload.get("type") != "mention" or not isinstance(payload.get("status"), dict):
                return []
            payload, via = payload["status"], "mentions"
        else:
            via = "stream"
        item = status_item(payload, self.host, self.channel, via=via)
        return [item] if item is not None else []

    # --- replies ---------------------------------------------------------------------

    async def reply(
        self, client: httpx.AsyncClient, mention: Any, text: str, *, dry_run: bool | None = None
    ) -> str:
        """Post `text` as a reply to `mention`; returns the new post's link. Dry run (the
        `dry_run` argument or replies = "dry-run"): returns what it would send, sends nothing."""
        if self.replies == "off":
            raise SourceError(f'{self.name}: replies are off for this source (replies = "off")')
        if not self._token:
            raise SourceError(f"{self.host}: replying needs an access token: {self._token_hint()}")
        host, _, status_id = (mention.ref or "").rpartition(":")
        meta = mention.reply_meta or {}
        status_id = str(meta.get("status_id") or status_id)
        if not status_id:
            raise SourceError(f"{self.host}: this mention has no Mastodon status id to reply to")
        if host.lower() != self.host:
            raise SourceError(
                f"this post was read through {host or 'another source'}, not {self.host}: its status id "
                f"is not one {self.host} knows, so it cannot be replied to from here; "
                f"open it on {self.host} ({mention.url}) and reply there"
            )
        acct = str(meta.get("acct") or mention.author or "").lstrip("@")
        if acct and not re.search(
            rf"(?<![\w@])@{re.escape(acct)}(?![\w@]|[.-]\w)", text, re.IGNORECASE
        ):
            text = f"@{acct} {text}"
        visibility = str(meta.get("visibility") or "")
        if (
            visibility not in VISIBILITIES
        ):  # "limited", "local"…: the least public that reaches them
            visibility = "direct"
        body = {"status": text, "in_reply_to_id": status_id, "visibility": visibility}
        # The same reply to the same post gets the same key: a retried send never posts twice
        # (Mastodon remembers keys for an hour and answers a repeat with the first post).
        key = hashlib.blake2b(
            f"{self.host}\x1f{status_id}\x1f{text}".encode(), digest_size=16
        ).hexdigest()
        if dry_run or self.replies == "dry-run":
            short = text if len(text) <= 80 else text[:79] + "…"
            return f"dry run: would post a {visibility} reply to status {status_id} on {self.host}: {short}"
        what = self._what("reply")
        response = await self._send(
            client,
            "POST",
            self.instance + "/api/v1/statuses",
            what,
            body=body,
            headers={"Idempotency-Key": key},
        )
        data = self._json(response, what)
        if not isinstance(data, dict):
            raise SourceError(f"{what}: the server did not answer with the new post")
        return str(data.get("url") or data.get("uri") or data.get("id") or "")


# --- statuses ------------------------------------------------------------------------


def _acct(person: Person) -> str:
    """A [[watch.people]] handle as Mastodon's lookup takes it: user@server, or user."""
    return person.handle.strip().lstrip("@")


def _follow_what(person: Person) -> str:
    return f"follow @{_acct(person)}"


def status_item(
    status: dict[str, Any], host: str, channel: str = "mastodon", *, via: str = ""
) -> Item | None:
    """A Mastodon status as an Item; None when it is not a usable status.

    A boost is the boosted post itself (its author, link, id and reach: that is who spoke,
    what a reply goes to, and the same mention as the post seen directly), with who boosted
    it noted at the end of the text; the booster is in `extra` as well."""
    booster = None
    if isinstance(status.get("reblog"), dict):
        booster = status.get("account") if isinstance(status.get("account"), dict) else {}
        status = status["reblog"]
    sid = status.get("id")
    account = status.get("account")
    if not isinstance(sid, str) or not sid or not isinstance(account, dict):
        return None
    acct = str(account.get("acct") or account.get("username") or "?")
    url = str(status.get("url") or status.get("uri") or "")
    text = status_text(status, url)
    extra: dict[str, Any] = {"via": via} if via else {}
    if booster is not None:
        by = str(booster.get("acct") or "?")
        text += f"\n\n(boosted by @{by})"
        extra["boosted_by"] = "@" + by
    followers = account.get("followers_count")
    reply_to = status.get("in_reply_to_id")
    return Item(
        key=f"{host}:{sid}",
        channel=channel,
        author="@" + acct,
        author_name=str(account.get("display_name") or ""),
        text=text,
        url=url,
        published_at=_when(status.get("created_at")),
        reach=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        ref=f"{host}:{sid}",
        in_reply_to=f"{host}:{reply_to}" if isinstance(reply_to, str) and reply_to else "",
        reply_meta={
            "status_id": sid,
            "acct": acct,
            "visibility": str(status.get("visibility") or ""),
        },
        extra=extra,
        addressed=via == "mentions",  # it names our account: no keyword needed
    )


def status_text(status: dict[str, Any], base: str = "") -> str:
    """A status as plain text: its content warning first, links as addresses, mentions and
    hashtags as written ("@vlm", "#mestbank", without their profile and tag links), and the
    descriptions of its pictures and videos at the end."""
    content = str(status.get("content") or "")
    text = html_to_text(_MENTION_LINK.sub("<a>", content), base)
    spoiler = str(status.get("spoiler_text") or "").strip()
    if spoiler:
        text = f"CW: {spoiler}\n\n{text}"
    media = []
    for attachment in (status.get("media_attachments") or [])[:10]:
        if not isinstance(attachment, dict):
            continue
        kind = str(attachment.get("type") or "media")
        description = " ".join(str(attachment.get("description") or "").split())
        if len(description) > 300:
            description = description[:299] + "…"
        media.append(f"[{kind}: {description}]" if description else f"[{kind}]")
    if media:
        text = (text + "\n\n" + " ".join(media)).strip()
    return text


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- server-sent events --------------------------------------------------------------


class SSEParser:
    """Server-sent events from a byte stream: `feed(chunk)` returns the (event, data) pairs it
    completes. Lines are `field: value`; `data` lines add up; a blank line ends an event; a
    line starting with ":" is a comment (Mastodon's heartbeat)."""

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self.max_event = max_event
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        data = self._buffer + chunk
        hold = b""
        if data.endswith(b"\r"):  # perhaps half of a "\r\n": wait for the next byte
            data, hold = data[:-1], b"\r"
        lines = re.split(rb"\r\n|\r|\n", data)
        self._buffer = lines.pop() + hold  # a line not ended yet
        out = []
        for raw in lines:
            event = self._line(raw.decode("utf-8", "replace"))
            if event is not None:
                out.append(event)
        if len(self._buffer) + self._size > self.max_event:
            raise SourceError(
                f"an event of more than {self.max_event // 1024} kB: not Mastodon's stream"
            )
        return out

    def _line(self, line: str) -> tuple[str, str] | None:
        if not line:  # the end of an event
            event, data = self._event or "message", "\n".join(self._data)
            had = bool(self._data)
            self._event, self._data, self._size = "", [], 0
            return (event, data) if had else None
        if line.startswith(":"):
            return None  # a heartbeat
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._size += len(value)
        return None


async def _read_capped(r: httpx.Response, limit: int, what: str) -> bytes:
    return await read_body(r, limit, f"{what}: an answer larger than {limit // 1024**2 or 1} MB")


_buffered = buffered
