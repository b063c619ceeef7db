"""Reddit: posts that match a search, site-wide or in chosen subreddits.

Uses Reddit's listing JSON: `GET {api}/search.json?q=…&sort=new&limit=…` (site-wide) or
`GET {api}/r/{sub}/search.json?…&restrict_sr=1` per subreddit, paged with `after`. Without
credentials it reads anonymously from https://www.reddit.com (a low, unannounced quota); with
an app's client id and secret it takes an app-only OAuth token (`POST {api}/api/v1/access_token`,
grant_type=client_credentials) and reads from https://oauth.reddit.com (100 queries a minute
on the free tier). Either way with a descriptive User-Agent, as Reddit asks.

Incremental by the posts already seen: each poll reads the newest page and pages on only until
it meets a post it delivered before (Reddit's `before` cursor gives nothing at all once that
post is deleted or drops out of the search index, so it is not used). The first poll reads one
page. Search lags behind: a post indexed late still turns up while it is in the newest page.
The checkpoint keeps, per subreddit, the newest posts delivered: after a restart the first poll
pages on from those, as any later poll does, instead of reading one page.

Reading only: replies are not sent from the desk (that would need a Reddit user account's
OAuth token and Reddit's approval for a bot), so it is no `Replies` source.

    [[sources]]
    type = "reddit"
    name = "Reddit: VLM"
    query = "VLM OR \\"Vlaamse Landmaatschappij\\""   # required; Reddit search syntax
    subreddits = ["belgium", "Vlaanderen"]           # optional; default: all of Reddit
    limit = 25                                       # posts per page (1–100)
    every = "5m"
    client_id_env = "REDDIT_CLIENT_ID"               # optional: app-only OAuth
    client_secret_env = "REDDIT_CLIENT_SECRET"
    refresh_token_env = "REDDIT_REFRESH_TOKEN"       # optional: moderation (see below)

Moderation (the desk's L3): `POST {oauth_api}/api/remove` (id=fullname, spam=false) and
`POST {oauth_api}/api/approve` take a user's token, not the app-only one: the account must be a
moderator of the subreddit, with the `modposts` scope. The desk keeps a refresh token of that
account (`refresh_token_env`, got once through Reddit's authorization-code flow with
duration=permanent, with the same client id and secret) and trades it for an access token
(grant_type=refresh_token) when it moderates; searching stays app-only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from sources import options
from sources.http import json_of, pause_after, request
from sources.source import Checkpoints, Moderation, OptionError, RecentIds, Source, SourceError
from webcare import __version__
from webcare.config import Config, SourceConfig
from webcare.intake import Item

if TYPE_CHECKING:
    import httpx

    from webcare.mention import Mention

__all__ = ["RedditSource"]

API = "https://www.reddit.com"
OAUTH_API = "https://oauth.reddit.com"
SITE = "https://www.reddit.com"  # permalinks always point here, whichever API was read
MAX_BYTES = 5 * 1024**2  # a page of 100 posts is well under 1 MB
MAX_PAGES = 10  # per subreddit per poll: 1,000 posts since the last poll is a flood, not a gap
SEEN_KEPT = 5000  # fullnames remembered to stop paging and to drop repeats
RESUME_KEPT = 500  # per subreddit (or site-wide): the newest fullnames a checkpoint keeps


@dataclass(frozen=True)
class RedditOptions:
    query: str = options.text("what to search for, in Reddit's search syntax", required=True)
    subreddits: tuple[str, ...] = options.texts("the subreddits to search (default: all of Reddit)")
    limit: int = options.number("posts per page (1-100)", 25, minimum=1)
    every: float = options.duration("poll interval", "5m")
    timeout: float = options.duration("for each request", "20s")
    keyword_filter: bool = options.flag("posts must name a [watch] keyword", True)
    api: str = options.address("Reddit's public API", API)
    oauth_api: str = options.address("Reddit's OAuth API", OAUTH_API)
    client_id_env: str = options.env("the environment variable with the app's client id (app-only OAuth)")
    client_secret_env: str = options.env("the environment variable with the app's client secret")
    user_agent: str = options.text("the User-Agent Reddit asks for (default: webcare's)")
    refresh_token_env: str = options.env("the environment variable with a moderator's refresh token (moderation)")


class RedditSource(Source, Checkpoints, Moderation):
    """Reddit search results, newest first (reading only: it posts no replies)."""

    type: ClassVar[str] = "reddit"
    options_class = RedditOptions
    moderation: ClassVar[tuple[str, ...]] = ("remove", "approve")
    moderation_undo: ClassVar[dict[str, str]] = {"remove": "approve"}

    def __init__(
        self,
        name: str,
        query: str,
        *,
        subreddits: list[str] | None = None,
        limit: int = 25,
        interval: float = 300.0,
        timeout: float = 20.0,
        keyword_filter: bool = True,
        api: str = API,
        oauth_api: str = OAUTH_API,
        client_id: str | None = None,
        client_secret: str | None = None,
        credentials_env: tuple[str, str] = ("", ""),
        user_agent: str = "",
        refresh_token: str | None = None,
        refresh_token_env: str = "",
    ) -> None:
        self.name = name
        self.query = query
        self.subreddits = subreddits or []
        self.limit = limit
        self.interval = interval
        self.timeout = timeout
        self.keyword_filter = keyword_filter
        self.api = api
        self.oauth_api = oauth_api
        self.client_id = client_id
        self.client_secret = client_secret
        self.credentials_env = credentials_env  # the variables' names, for error messages
        self.user_agent = user_agent or (
            f"python:webcare:{__version__} (government webcare desk; read-only search)"
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self.refresh_token = refresh_token
        self.refresh_token_env = refresh_token_env
        self._user_token: str | None = None  # the moderating account's, from its refresh token
        self._user_token_expires = 0.0
        # Fullnames delivered so far and, per target ("" is site-wide), the newest it delivered.
        self._ids: RecentIds[str] = RecentIds(SEEN_KEPT, RESUME_KEPT)

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> RedditSource:
        o = options.read(RedditOptions, sc)
        query = o.query
        if not query:
            raise OptionError("query: must not be empty")
        subreddits = [s.removeprefix("/").removeprefix("r/") for s in o.subreddits]
        for sub in subreddits:
            if not sub.replace("_", "").isalnum():
                raise OptionError(f"subreddits: {sub!r} is not a subreddit name")
        limit = o.limit
        if limit > 100:
            raise OptionError("limit: Reddit gives at most 100 posts per page")
        interval, timeout, keyword_filter = o.every, o.timeout, o.keyword_filter
        api, oauth_api = o.api, o.oauth_api
        id_env, secret_env = o.client_id_env, o.client_secret_env
        if bool(id_env) != bool(secret_env):
            missing = "client_secret_env" if id_env else "client_id_env"
            raise OptionError(f"{missing}: OAuth needs both client_id_env and client_secret_env")
        client_id = options.secret(id_env)
        client_secret = options.secret(secret_env)
        user_agent = o.user_agent
        refresh_env = o.refresh_token_env
        if refresh_env and not id_env:
            raise OptionError("refresh_token_env: moderation needs client_id_env and client_secret_env too")
        refresh_token = options.secret(refresh_env)
        return cls(
            sc.name,
            query,
            subreddits=subreddits,
            limit=limit,
            interval=interval,
            timeout=timeout,
            keyword_filter=keyword_filter,
            api=api,
            oauth_api=oauth_api,
            client_id=client_id,
            client_secret=client_secret,
            credentials_env=(id_env, secret_env),
            user_agent=user_agent,
            refresh_token=refresh_token,
            refresh_token_env=refresh_env,
        )

    def __repr__(self) -> str:
        return f"RedditSource({self.name!r}, {self.query!r})"

    # --- polling ---------------------------------------------------------------------------

    def rewind(self) -> None:
        """Forget what the last fetch delivered, so the next one delivers it again."""
        self._ids.rewind()

    def checkpoint(self) -> dict[str, Any]:
        """The query and, per subreddit ("" for site-wide), the newest posts delivered (at most
        RESUME_KEPT): after a restart the first poll pages on until it meets one of them."""
        return {
            "query": self.query,
            "targets": {t: self._ids.newest(t) for t in sorted(self._ids.started)},
        }

    def resume(self, state: dict[str, Any]) -> None:
        """Take up a checkpoint of the same query, for the subreddits still configured; any
        other state is ignored (the first poll then reads one page, as on day one)."""
        if not isinstance(state, dict) or state.get("query") != self.query:
            return
        targets = state.get("targets")
        if not isinstance(targets, dict) or not all(RecentIds.readable(n) for n in targets.values()):
            return
        for target in self.subreddits or [""]:
            names = targets.get(target)
            if names is not None:
                self._ids.take(target, names)

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        self.pause_s = None
        headers = {"User-Agent": self.user_agent}
        base = self.api
        if self._oauth:
            headers["Authorization"] = f"bearer {await self._access_token(client)}"
            base = self.oauth_api
        items: list[Item] = []
        fresh: dict[str, None] = {}
        delivered: dict[str, list[str]] = {}
        # All or nothing: a failure in one subreddit leaves every cursor where it was, so the
        # next poll delivers what this one fetched (nothing lost, nothing twice).
        for target in self.subreddits or [""]:
            found = await self._search(client, base, headers, target, fresh)
            items += found
            delivered[target] = [i.key for i in found]
            if self.pause_s:  # quota spent: the other subreddits wait for the next poll
                break
        self._ids.deliver(fresh, delivered)
        return items

    async def _search(
        self,
        client: httpx.AsyncClient,
        base: str,
        headers: dict[str, str],
        target: str,
        fresh: dict[str, None],
    ) -> list[Item]:
        path = f"/r/{quote(target)}/search.json" if target else "/search.json"
        params: dict[str, Any] = {
            "q": self.query,
            "sort": "new",
            "limit": self.limit,
            "raw_json": 1,
        }
        if target:
            params["restrict_sr"] = 1
        where = f"Reddit search in r/{target}" if target else "Reddit search"
        items: list[Item] = []
        pages = MAX_PAGES if target in self._ids.started else 1  # the first poll: one page
        for _ in range(pages):
            response = await self._get(client, base + path, params, headers, where)
            data = json_of(response, where)
            self.pause_s = pause_after(response)
            listing = data.get("data") if isinstance(data, dict) else None
            if not isinstance(listing, dict):
                raise SourceError(f"{where}: the answer is not a Reddit listing")
            known = False
            for child in listing.get("children") or []:
                post = child.get("data") if isinstance(child, dict) else None
                if not isinstance(post, dict) or child.get("kind") != "t3":
                    continue
                fullname = str(post.get("name") or "")
                if not fullname or fullname in fresh:
                    continue
                if fullname in self._ids.seen:
                    known = True  # caught up; later posts on this page were indexed late
                    continue
                fresh[fullname] = None
                items.append(self._item(post))
            after = listing.get("after")
            if known or not after or self.pause_s:
                break
            params["after"] = after
        return items

    def _item(self, post: dict[str, Any]) -> Item:
        author = str(post.get("author") or "")
        created = post.get("created_utc")
        subreddit = str(post.get("subreddit") or "")
        subscribers = post.get("subreddit_subscribers")
        return Item(
            key=str(post["name"]),
            channel="reddit",
            author=f"u/{author}" if author and author != "[deleted]" else author or "?",
            # A link post has no text of its own: what it links to is what it says.
            text=str(post.get("selftext") or post.get("url") or ""),
            url=SITE + str(post.get("permalink") or ""),
            title=str(post.get("title") or ""),
            published_at=(
                datetime.fromtimestamp(created, UTC) if isinstance(created, int | float) else None
            ),
            # Reddit shows no follower counts on posts: the audience is the subreddit's.
            reach=subscribers if isinstance(subscribers, int) else None,
            ref=str(post["name"]),
            extra={"subreddit": f"r/{subreddit}"} if subreddit else {},
        )

    # --- OAuth -----------------------------------------------------------------------------

    @property
    def _oauth(self) -> bool:
        return any(self.credentials_env)

    async def _access_token(self, client: httpx.AsyncClient) -> str:
        """An app-only token, asked for again a minute before it expires."""
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        self._token, self._token_expires = await self._grant(client, {"grant_type": "client_credentials"})
        return self._token

    async def _moderator_token(self, client: httpx.AsyncClient) -> str:
        """The moderating account's token, from its refresh token; renewed before it expires."""
        if self._user_token and time.monotonic() < self._user_token_expires:
            return self._user_token
        if not self.refresh_token_env:
            raise SourceError(
                "Reddit: moderating needs a moderator account's refresh token (refresh_token_env)"
            )
        if not self.refresh_token:
            raise SourceError(f"Reddit: the environment variable {self.refresh_token_env} is not set")
        grant = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        self._user_token, self._user_token_expires = await self._grant(client, grant, "the refresh token")
        return self._user_token

    async def _grant(
        self, client: httpx.AsyncClient, data: dict[str, str], credential: str = "the client id and secret"
    ) -> tuple[str, float]:
        """A token from Reddit's token endpoint: (token, monotonic time to ask again)."""
        if not (self.client_id and self.client_secret):
            unset = [
                n
                for n, v in zip(self.credentials_env, (self.client_id, self.client_secret))
                if not v
            ]
            raise SourceError(f"Reddit OAuth: the environment variable {unset[0]} is not set")
        import httpx

        what = "Reddit OAuth token"
        response = await self._get(
            client,
            self.api + "/api/v1/access_token",
            None,
            {"User-Agent": self.user_agent},
            what,
            method="POST",
            data=data,
            auth=httpx.BasicAuth(self.client_id, self.client_secret),
        )
        found = json_of(response, what)
        answer: dict[str, Any] = found if isinstance(found, dict) else {}
        # Reddit answers a bad client id or secret with 200 and {"error": "invalid_grant"}.
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            said = answer.get("error")
            raise SourceError(
                f"{what}: refused ({said or 'no access_token in the answer'}): check {credential}"
            )
        expires = answer.get("expires_in")
        lifetime = float(expires) if isinstance(expires, int | float) else 3600.0
        return token, time.monotonic() + max(lifetime - 60, 0)

    async def _get(
        self,
        client: httpx.AsyncClient,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        what: str,
        method: str = "GET",
        **kwargs: Any,
    ) -> httpx.Response:
        """One request with the time limit and a cap on the body's size; an expired token is
        renewed once."""
        response = await request(
            client,
            method,
            url,
            what,
            timeout=self.timeout,
            max_bytes=MAX_BYTES,
            params=params,
            headers=headers,
            **kwargs,
        )
        if response.status_code == 401 and self._token and "Authorization" in headers:
            self._token = None  # revoked or expired early: one new token, one more try
            headers = {**headers, "Authorization": f"bearer {await self._access_token(client)}"}
            response = await request(
                client,
                method,
                url,
                what,
                timeout=self.timeout,
                max_bytes=MAX_BYTES,
                params=params,
                headers=headers,
                **kwargs,
            )
        return response

    # --- moderation ------------------------------------------------------------------------

    async def moderate(self, client: httpx.AsyncClient, mention: Mention, action: str) -> str:
        """Remove or approve the post as a moderator of its subreddit; returns what Reddit said."""
        if action not in self.moderation:
            raise SourceError(f"Reddit: cannot {action} a post (only remove or approve)")
        fullname = mention.ref
        if not fullname.startswith(("t3_", "t1_")):
            raise SourceError("Reddit: this mention has no Reddit post id to moderate")
        what = f"Reddit {action}"
        data = {"id": fullname, **({"spam": "false"} if action == "remove" else {})}
        response = None
        for attempt in range(2):
            headers = {"User-Agent": self.user_agent, "Authorization": f"bearer {await self._moderator_token(client)}"}
            response = await request(
                client, "POST", f"{self.oauth_api}/api/{action}", what,
                timeout=self.timeout, max_bytes=MAX_BYTES, headers=headers, data=data,
            )
            if response.status_code != 401 or attempt:
                break
            self._user_token = None  # expired early or revoked: one new token, one more try
        assert response is not None
        if response.status_code == 401:
            raise SourceError(f"{what}: Reddit refused the moderator's token (HTTP 401): renew {self.refresh_token_env}")
        if response.status_code == 403:
            raise SourceError(
                f"{what}: HTTP 403: the account is not a moderator of {_subreddit(mention)} "
                "or the token lacks the modposts scope"
            )
        answer = json_of(response, what)
        self.pause_s = pause_after(response)
        errors = (answer.get("json") or {}).get("errors") if isinstance(answer, dict) else None
        if errors:
            raise SourceError(f"{what}: {' '.join(str(e) for e in errors)[:200]}")
        done = "removed" if action == "remove" else "approved"
        return f"{done} on Reddit ({fullname})"


def _subreddit(mention: Mention) -> str:
    """The subreddit a mention was posted in, as its link says ("the subreddit" if unknown)."""
    parts = mention.url.split("/")
    return f"r/{parts[parts.index('r') + 1]}" if "r" in parts[:-1] else "the subreddit"
