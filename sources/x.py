"""X (Twitter): posts that match a search, through the X API v2, and replies to them.

Reads `GET {api}/2/tweets/search/recent` (the last seven days) with an app's bearer token,
asking for the author's username, name and follower count in the same call
(`expansions=author_id`). Paged with `meta.next_token`; incremental with `since_id` = the
newest id of the previous poll (`meta.newest_id`). The first poll reads one page. Should a
flood outlast `max_pages` pages in one poll, the next poll goes on with the same page token
(and the same since_id) before it moves since_id on, so nothing in between is lost.

Restarts: `checkpoint` holds that cursor (since_id, and while a flood is being read the page
token and the newest id) with the API address and the query it is for; after a restart the
first poll goes on from it, every page of it (up to `max_pages`), not just the newest page.
X takes a since_id of the last seven days only: when it refuses one (a collector that was down
longer), the source starts over as on its first poll; when it refuses a page token, the poll
reads the flood again from since_id.

Search needs a paid access level (Basic or higher): the free level cannot read search at all.
Rate limits come as `x-rate-limit-remaining` / `x-rate-limit-reset` (an epoch) and as 429.

Replies are `POST {api}/2/tweets {"text", "reply": {"in_reply_to_tweet_id"}}`, which needs a
user-context OAuth 2.0 token of the organisation's account (`user_token_env`, scopes
tweet.read tweet.write users.read); with only the bearer token `can_reply` is false.

    [[sources]]
    type = "x"
    name = "X: VLM"
    query = "(VLM OR mestbank) -is:retweet lang:nl"   # required; X search syntax
    bearer_token_env = "X_BEARER_TOKEN"               # required
    user_token_env = "X_USER_TOKEN"                   # optional: replies from the desk
    max_results = 100                                 # per page, 10–100
    every = "5m"
    follow = true                                     # follow the [[watch.people]] of channel x

Following (sources.follows): every [[watch.people]] entry with channel = "x" is looked up once
(`GET /2/users/by/username/:username`) and its posts read with `GET /2/users/:id/tweets`,
incremental with its own since_id (BACKLOG posts on the first poll, up to FOLLOW_PAGES pages
a poll after that). With people to follow, `query` may be left out. A follow that fails is
named in the source's health; the rest go on. Each follow is a request a poll against the
app's user-timeline quota: a long watchlist wants a longer `every`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sources import follows, options
from sources.http import check, json_of, pause_after, request
from sources.source import Checkpoints, OptionError, Replies, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

    from webcare.watch import Person

__all__ = ["XSource"]

API = "https://api.x.com"
SITE = "https://x.com"
MAX_BYTES = 5 * 1024**2  # a page of 100 posts with their authors is a few hundred kB
MAX_PAGES = 10  # per poll; the rest of a flood comes in the next poll
TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,lang,note_tweet"  # note_tweet: the whole text of a post over 280 characters
)
USER_FIELDS = "username,name,public_metrics"
FOLLOW_PAGES = 3  # pages of a followed timeline per poll: 300 posts in one interval is plenty
_USERNAME = r"[A-Za-z0-9_]{1,15}"


@dataclass(frozen=True)
class XOptions:
    query: str = options.text("what to search for, in X's search syntax (required unless following people)")
    bearer_token_env: str = options.env("the environment variable with the app's bearer token", required=True)
    user_token_env: str = options.env("the environment variable with a user-context OAuth 2.0 token (replies)")
    max_results: int = options.number("posts per page (10-100)", 100, minimum=10)
    every: float = options.duration("poll interval", "5m")
    timeout: float = options.duration("for each request", "20s")
    keyword_filter: bool = options.flag("posts must name a [watch] keyword", True)
    api: str = options.address("X's API", API)
    replies: str = options.replies()
    follow: bool = options.flag("follow the [[watch.people]] of channel x", True)


class XSource(Source, Checkpoints, Replies):
    """X recent search, newest first; replies with a user token."""

    type: ClassVar[str] = "x"
    options_class = XOptions

    def __init__(
        self,
        name: str,
        query: str,
        *,
        bearer_token: str | None,
        bearer_token_env: str,
        user_token: str | None = None,
        user_token_env: str = "",
        max_results: int = 100,
        interval: float = 300.0,
        timeout: float = 20.0,
        keyword_filter: bool = True,
        api: str = API,
        replies: str = "send",
        follow: tuple[Person, ...] = (),
    ) -> None:
        self.name = name
        self.query = query
        self.bearer_token = bearer_token
        self.bearer_token_env = bearer_token_env
        self.user_token = user_token
        self.user_token_env = user_token_env
        self.max_results = max_results
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.replies = replies
        # The cursor: posts newer than since_id are still to come. While a flood is read over
        # several polls, next_token is where the previous poll stopped and newest the id
        # since_id becomes once the flood is read to its end.
        self._since_id: str | None = None
        self._next_token: str | None = None
        self._newest: str | None = None
        self._previous: tuple[str | None, str | None, str | None] = (None, None, None)
        # Following: each username's user id and the since_id of its timeline.
        self.follow = tuple(follow)
        self._users: dict[str, str] = {}
        self._follow_since: dict[str, str] = {}
        self._follow_previous: dict[str, str] = {}

    @property
    def can_reply(self) -> bool:
        return self.replies != "off" and bool(self.user_token)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> XSource:
        o = options.read(XOptions, sc)
        follow = follows.followed(config, "x", o.follow)
        for person in follow:
            if not re.fullmatch(_USERNAME, _username(person)):
                raise OptionError(
                    f"follow: the [[watch.people]] handle {person.handle!r} is not an X username"
                )
        query = o.query
        if not query and not follow and "query" not in sc.options:
            raise OptionError("query: missing")
        if not query and (not follow or sc.options.get("query")):  # "  " is a mistake; "" is none
            raise OptionError("query: must not be empty")
        if len(query) > 512:  # Basic's limit; Pro allows 4096, but the API says which
            raise OptionError("query: X allows at most 512 characters in a search (Basic)")
        max_results = o.max_results
        if max_results > 100:
            raise OptionError("max_results: X gives at most 100 posts per page")
        source = cls(
            sc.name,
            query,
            bearer_token=options.secret(o.bearer_token_env),
            bearer_token_env=o.bearer_token_env,
            user_token=options.secret(o.user_token_env),
            user_token_env=o.user_token_env,
            max_results=max_results,
            interval=o.every,
            timeout=o.timeout,
            keyword_filter=o.keyword_filter,
            api=o.api,
            replies=o.replies,
            follow=follow,
        )
        return source

    def __repr__(self) -> str:
        return f"XSource({self.name!r}, {self.query!r})"

    # --- polling ---------------------------------------------------------------------------

    def rewind(self) -> None:
        """Put the cursor back where it was before the last fetch."""
        self._since_id, self._next_token, self._newest = self._previous
        self._follow_since = dict(self._follow_previous)

    def checkpoint(self) -> dict[str, Any]:
        """The cursor after the last fetch, and the search it belongs to."""
        return {
            "api": self.api,
            "query": self.query,
            "since_id": self._since_id,
            "next_token": self._next_token,
            "newest": self._newest,
            **(
                {"users": dict(self._users), "follow_since": dict(self._follow_since)}
                if self.follow
                else {}
            ),
        }

    def resume(self, state: dict[str, Any]) -> None:
        """Go on from a checkpoint of the same search (API address and query); ignore any other."""
        if not isinstance(state, dict):
            return
        if state.get("api") != self.api:
            return  # ids of another API mean nothing here
        self._resume_follows(state)
        if state.get("query") != self.query:
            return  # the entry searches for something else now
        since_id, next_token, newest = (
            state.get("since_id"),
            state.get("next_token"),
            state.get("newest"),
        )
        if not (_is_id(since_id) and _is_id(newest)):
            return
        if not (next_token is None or (isinstance(next_token, str) and next_token)):
            return
        if since_id is None and (next_token is not None or newest is not None):
            return  # a flood is only ever read past the first poll
        self._since_id, self._next_token, self._newest = since_id, next_token, newest
        self._previous = (since_id, next_token, newest)

    def _resume_follows(self, state: dict[str, Any]) -> None:
        wanted = {_username(p).lower() for p in self.follow}
        users, since = state.get("users"), state.get("follow_since")
        if isinstance(users, dict):
            self._users = {u: i for u, i in users.items() if u in wanted and _is_id(i) and i}
        if isinstance(since, dict):
            self._follow_since = {u: i for u, i in since.items() if u in wanted and _is_id(i) and i}
            self._follow_previous = dict(self._follow_since)

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        if not self.bearer_token:
            raise SourceError(f"X: the environment variable {self.bearer_token_env} is not set")
        items = await self._search(client) if self.query else []
        # X counts each endpoint's quota apart: a spent search quota does not stop the follows.
        search_pause, self.pause_s = self.pause_s, None
        self._follow_previous = dict(self._follow_since)
        items += await self._follow(client, {i.key for i in items})
        if search_pause:
            self.pause_s = max(search_pause, self.pause_s or 0.0)
        return items

    async def _follow(self, client: httpx.AsyncClient, known: set[str]) -> list[Item]:
        """The followed people's new posts, each timeline from its own since_id. One that
        fails is noted in `warning` and keeps its since_id; the others go on."""
        failures: dict[str, str] = {}
        items: list[Item] = []
        for person in self.follow:
            if self.pause_s:  # the quota is spent: the rest wait for the next poll
                break
            username = _username(person).lower()
            try:
                found = await self._timeline(client, username)
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

    async def _timeline(self, client: httpx.AsyncClient, username: str) -> list[Item]:
        what = f"X follow @{username}"
        if username not in self._users:
            response = await self._call(client, "GET", f"/2/users/by/username/{username}", what)
            self.pause_s = pause_after(response)
            data = json_of(response, what)
            user_id = (data.get("data") or {}).get("id") if isinstance(data, dict) else None
            if not (_is_id(user_id) and user_id):
                raise SourceError(f"{what}: no such user")
            self._users[username] = str(user_id)
        since_id = self._follow_since.get(username)
        params: dict[str, Any] = {
            "max_results": 100 if since_id else max(5, follows.BACKLOG),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        items: list[Item] = []
        newest = None
        for _ in range(FOLLOW_PAGES if since_id else 1):
            try:
                response = await self._call(
                    client, "GET", f"/2/users/{self._users[username]}/tweets", what, params=params
                )
            except _StaleCursor:
                if not since_id or items:
                    raise
                # A since_id X no longer takes (older than it keeps): start over as on day one.
                since_id = None
                params.pop("since_id", None)
                params["max_results"] = max(5, follows.BACKLOG)
                continue
            page = json_of(response, what)
            if not isinstance(page, dict):
                raise SourceError(f"{what}: the answer is not a timeline")
            self.pause_s = pause_after(response)
            meta = page.get("meta") or {}
            newest = newest or meta.get("newest_id")
            users = {u.get("id"): u for u in (page.get("includes") or {}).get("users") or []}
            items += [self._item(t, users) for t in page.get("data") or [] if isinstance(t, dict)]
            token = meta.get("next_token") if since_id else None
            if not token or self.pause_s:
                break
            params["pagination_token"] = token
        if _is_id(newest) and newest:
            self._follow_since[username] = str(newest)
        return items

    async def _search(self, client: httpx.AsyncClient) -> list[Item]:
        since_id, next_token, newest = self._since_id, self._next_token, self._newest
        params: dict[str, Any] = {
            "query": self.query,
            "max_results": self.max_results,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        items: list[Item] = []
        pages = MAX_PAGES if since_id else 1  # the first poll: one page
        page_no = 0
        while page_no < pages:
            page_no += 1
            if next_token:
                params["next_token"] = next_token
            try:
                response = await self._call(
                    client, "GET", "/2/tweets/search/recent", "X search", params=params
                )
            except _StaleCursor as exc:
                if items:  # X refused a later page's token: the next poll goes on from here
                    raise
                if next_token and "since_id" not in exc.parameters:
                    # A page token X no longer takes: read the flood again from the top.
                    next_token = newest = None
                    params.pop("next_token", None)
                elif since_id:
                    # A since_id older than X's seven days (the collector was down that long):
                    # what came before cannot be read any more; start over as on day one.
                    since_id = next_token = newest = None
                    params.pop("since_id", None)
                    params.pop("next_token", None)
                    pages = 1
                else:
                    raise
                page_no = 0
                continue
            page = json_of(response, "X search")
            if not isinstance(page, dict):
                raise SourceError("X search: the answer is not a search result")
            self.pause_s = pause_after(response)
            meta = page.get("meta") or {}
            newest = newest or meta.get("newest_id")  # the first page of a read has the newest
            users = {u.get("id"): u for u in (page.get("includes") or {}).get("users") or []}
            items += [self._item(t, users) for t in page.get("data") or [] if isinstance(t, dict)]
            next_token = meta.get("next_token") if since_id else None
            if not next_token or self.pause_s:
                break
        self._previous = (self._since_id, self._next_token, self._newest)
        if next_token:  # more to read: go on from here next time, since_id unchanged
            self._next_token, self._newest = next_token, newest
        else:
            self._since_id = newest or since_id
            self._next_token = self._newest = None
        return items

    def _item(self, tweet: dict[str, Any], users: dict[Any, dict[str, Any]]) -> Item:
        tweet_id = str(tweet.get("id") or "")
        user = users.get(tweet.get("author_id")) or {}
        username = str(user.get("username") or "")
        followers = (user.get("public_metrics") or {}).get("followers_count")
        replied_to = next(
            (
                str(r.get("id"))
                for r in tweet.get("referenced_tweets") or []
                if r.get("type") == "replied_to"
            ),
            "",
        )
        note = tweet.get("note_tweet") or {}
        # X sends text with &amp; &lt; &gt; escaped; the desk wants the characters.
        text = html.unescape(str(note.get("text") or tweet.get("text") or ""))
        created = tweet.get("created_at")
        return Item(
            key=tweet_id,
            channel="x",
            author=f"@{username}" if username else str(tweet.get("author_id") or "?"),
            author_name=str(user.get("name") or ""),
            text=text,
            url=f"{SITE}/{username or 'i'}/status/{tweet_id}",
            published_at=_datetime(created),
            reach=followers if isinstance(followers, int) else None,
            ref=tweet_id,
            in_reply_to=replied_to,
            reply_meta={"conversation_id": str(tweet.get("conversation_id") or "")},
        )

    # --- replying --------------------------------------------------------------------------

    async def reply(
        self, client: httpx.AsyncClient, mention: Any, text: str, *, dry_run: bool | None = None
    ) -> str:
        """Post `text` as a reply to `mention`; returns the reply's link."""
        if self.replies == "off":
            raise SourceError('X: replies are off for this source (replies = "off")')
        if not mention.ref:
            raise SourceError("X: this mention has no post id to reply to")
        body = {"text": text, "reply": {"in_reply_to_tweet_id": mention.ref}}
        if self.replies == "dry-run" or dry_run:
            return (
                f"dry run: POST /2/tweets, a reply to post {mention.ref} ({len(text)} characters)"
            )
        if not self.user_token:
            raise SourceError(
                f"X: replying needs a user-context token in {self.user_token_env or 'user_token_env'}"
            )
        response = await self._call(
            client, "POST", "/2/tweets", "X reply", json=body, token=self.user_token
        )
        if response.status_code >= 400 and response.status_code not in (429, 503):
            raise SourceError(
                f"X refused the reply: HTTP {response.status_code}: {_said(response)}"
            )
        answer = json_of(response, "X reply")
        new_id = (answer.get("data") or {}).get("id") if isinstance(answer, dict) else None
        if not new_id:
            raise SourceError("X reply: the answer has no id of the new post")
        return f"{SITE}/i/status/{new_id}"

    # --- HTTP ------------------------------------------------------------------------------

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        what: str,
        *,
        token: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request with the time limit, the token and a cap on the body's size. X's own
        words in an error body (`errors[].message`, `detail`) make the SourceError's message."""

        headers = {"Authorization": f"Bearer {token or self.bearer_token}"}
        response = await request(
            client,
            method,
            self.api + path,
            what,
            timeout=self.timeout,
            max_bytes=MAX_BYTES,
            headers=headers,
            **kwargs,
        )
        status = response.status_code
        refused = _refused_cursor(response) if method == "GET" and status == 400 else set()
        if refused:
            raise _StaleCursor(f"{what}: HTTP 400 {_said(response)}", refused)
        if method == "GET" and status >= 400 and status not in (429, 503, 420):
            hint = ""
            if status == 403 or status == 402:  # not enrolled, or the access level lacks search
                hint = ": search needs X API access at the Basic level or higher"
            elif status == 401:
                hint = f": check the bearer token in {self.bearer_token_env}"
            raise SourceError(f"{what}: HTTP {status} {_said(response)}{hint}")
        if method == "GET":
            check(response, what)  # 429: rate-limited until x-rate-limit-reset
        return response


class _StaleCursor(SourceError):
    """X refused the since_id or the page token (too old): the cursor cannot be used."""

    def __init__(self, message: str, parameters: set[str]) -> None:
        super().__init__(message)
        self.parameters = parameters


def _refused_cursor(response: httpx.Response) -> set[str]:
    """Which of since_id and next_token a 400 names among the parameters it refuses."""
    try:
        data = response.json()
    except ValueError:
        return set()
    errors = data.get("errors") if isinstance(data, dict) else None
    refused: set[str] = set()
    for error in errors if isinstance(errors, list) else []:
        parameters = error.get("parameters") if isinstance(error, dict) else None
        if isinstance(parameters, dict):
            refused |= {"since_id", "next_token"} & parameters.keys()
    return refused


def _username(person: Person) -> str:
    return person.handle.strip().lstrip("@")


def _is_id(value: Any) -> bool:
    """None or a post id as X writes it (a string of digits)."""
    return value is None or (isinstance(value, str) and value.isascii() and value.isdigit())


def _said(response: httpx.Response) -> str:
    """X's explanation: the first of `errors[].message`, `detail`, `title`."""
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:160]
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message") or errors[0].get("detail")
            if message:
                return str(message)[:200]
        for key in ("detail", "title"):
            if data.get(key):
                return str(data[key])[:200]
    return ""


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
