"""What the Facebook and Instagram sources share: Meta's Graph API.

One version and base address, the token sent in the Authorization header (never in a URL),
`paging.next` links followed only on the API's own host and without the token they may carry,
Graph's error objects turned into messages that say what to do (an expired token, a missing
permission, a rate limit), and the usage headers (`x-app-usage`, `x-page-usage`,
`x-business-use-case-usage`) read so a source pauses before the limit bites. Each source says
its platform's name, its token and its own hints (`GraphClient`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sources.http import check, pause_after, request
from sources.source import SourceError

if TYPE_CHECKING:
    import httpx

API = "https://graph.facebook.com/v21.0"
MAX_BYTES = 5 * 1024**2
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})  # app, user, page and custom rate limits
DEFAULT_WAIT = 900.0  # Meta's windows are rolling hours: retrying every minute prolongs them
_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")


class GraphClient:
    """Requests and answers of a Graph API source. The source sets `api`, `timeout` and
    `pause_s`, and says its platform, its token (and the variable it comes from) and hints."""

    platform: ClassVar[str] = "Facebook"  # in messages: "rate-limited by Facebook"
    token_words: ClassVar[str] = "access token"  # "the page access token has expired"
    api: str
    timeout: float
    pause_s: float | None

    def _token(self) -> tuple[str | None, str]:
        """(the token, the environment variable that holds it)."""
        raise NotImplementedError

    def _hint(self, code: Any, subcode: Any, message: str) -> str:
        """What to do about an error the Graph API gave (": …"), or ""."""
        return ""

    async def _get(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any], what: str
    ) -> dict[str, Any]:
        response = await self._request(client, "GET", self.api + path, what, params=params)
        return self._answer(response, what)

    async def _follow(self, client: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
        """The page a `_next` link points at."""
        response = await self._request(client, "GET", url, what)
        return self._answer(response, what)

    def _next(self, page: dict[str, Any]) -> str | None:
        """paging.next, if it points at the API's own host; without the token it repeats."""
        link = (page.get("paging") or {}).get("next")
        if not isinstance(link, str):
            return None
        parts, api = urlsplit(link), urlsplit(self.api)
        if (parts.scheme, parts.netloc) != (api.scheme, api.netloc):
            return None  # never send the token to another host
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "access_token"])
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    def _answer(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The JSON of a Graph response, or a SourceError in the platform's own words."""
        try:
            data = response.json()
        except ValueError:
            check(response, what)
            raise SourceError(f"{what}: the server did not answer with JSON") from None
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            raise self._error(response, error, what)
        check(response, what)
        if not isinstance(data, dict):
            raise SourceError(f"{what}: the answer is not a Graph object")
        self.pause_s = _usage_pause(response) or pause_after(response)
        return data

    def _error(self, response: httpx.Response, error: dict[str, Any], what: str) -> SourceError:
        code = error.get("code")
        message = " ".join(str(error.get("message") or "").split())[:200]
        if code in RATE_LIMIT_CODES or (isinstance(code, int) and 80000 <= code <= 80099):
            wait = _regain(response) or DEFAULT_WAIT
            return SourceError(
                f"{what}: rate-limited by {self.platform} (code {code}) for {round(wait)} s",
                retry_after=wait,
            )
        if code == 190:
            return SourceError(
                f"{what}: the {self.token_words} has expired or was revoked (code 190): "
                f"make a new one and put it in {self._token()[1]}"
            )
        hint = self._hint(code, error.get("error_subcode"), message)
        return SourceError(f"{what}: {message} (code {code}, HTTP {response.status_code}){hint}")

    async def _request(
        self, client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token()[0]}"}
        return await request(
            client, method, url, what, timeout=self.timeout, max_bytes=MAX_BYTES, headers=headers, **kwargs
        )


def _usages(response: httpx.Response) -> list[dict[str, Any]]:
    """The usage reports in Meta's usage headers (JSON: one object, or lists per id)."""
    found: list[dict[str, Any]] = []
    for name in _USAGE_HEADERS:
        try:
            value = json.loads(response.headers.get(name) or "null")
        except ValueError:
            continue
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if any(k in node for k in ("call_count", "estimated_time_to_regain_access")):
                    found.append(node)
                else:
                    stack += node.values()
            elif isinstance(node, list):
                stack += node
    return found


def _regain(response: httpx.Response) -> float | None:
    """Seconds until Meta lets us in again, from `estimated_time_to_regain_access` (minutes)."""
    minutes = [u.get("estimated_time_to_regain_access") for u in _usages(response)]
    waits = [m * 60.0 for m in minutes if isinstance(m, int | float) and m > 0]
    return max(waits) if waits else None


def _usage_pause(response: httpx.Response) -> float | None:
    """A pause before the limit bites: when a usage report says to wait, or is at 100 %."""
    wait = _regain(response)
    if wait:
        return wait
    for usage in _usages(response):
        shares = [usage.get(k) for k in ("call_count", "total_cputime", "total_time")]
        if any(isinstance(s, int | float) and s >= 100 for s in shares):
            return DEFAULT_WAIT
    return None


def _datetime(value: Any) -> datetime | None:
    """Graph's times: '2026-03-02T09:15:00+0000'."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None


def _epoch(value: Any) -> float | None:
    moment = _datetime(value)
    return None if moment is None else moment.timestamp()
