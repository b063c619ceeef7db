"""What every HTTP API source shares: reading a response's status and its rate-limit headers.

A platform says "slow down" in several dialects: `Retry-After` (seconds or an HTTP date) on a
429 or 503, and `x-ratelimit-remaining` / `x-ratelimit-reset` (Mastodon, Reddit, X, as an epoch,
an ISO date or seconds to wait) on any response. `check()` turns an error status into a
SourceError that names what went wrong and, when the server said, when to come back;
`pause_after()` tells a source whose quota is spent how long to wait before its next request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from sources.source import SourceError

if TYPE_CHECKING:
    import httpx

# Header names per dialect, lower case (httpx headers are case-insensitive anyway).
_REMAINING = ("x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining")
_RESET = ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")
# A reset value above this is an epoch time, below it a number of seconds (Reddit and the IETF
# draft send seconds, X and Mastodon send epochs or dates).
_EPOCH_FLOOR = 1_000_000_000
MAX_WAIT = 24 * 3600.0  # never believe a server that asks us to stay away longer than a day


def _seconds_until(value: str, now: float) -> float | None:
    """A reset or Retry-After value as seconds from `now`: seconds, an epoch, or a date."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        wait = number - now if number > _EPOCH_FLOOR else number
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        wait = moment.timestamp() - now
    return min(max(wait, 0.0), MAX_WAIT)


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from Retry-After or a rate-limit reset header."""
    now = time.time() if now is None else now
    headers = response.headers
    if "retry-after" in headers:
        wait = _seconds_until(headers["retry-after"], now)
        if wait is not None:
            return wait
    for name in _RESET:
        if name in headers:
            wait = _seconds_until(headers[name], now)
            if wait is not None:
                return wait
    return None


def pause_after(response: httpx.Response, now: float | None = None) -> float | None:
    """When the quota is spent (`x-ratelimit-remaining: 0`), the seconds until it resets."""
    for name in _REMAINING:
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            remaining = float(value)
        except ValueError:
            return None
        if remaining >= 1:
            return None
        return retry_after(response, now) or 60.0
    return None


def check(response: httpx.Response, what: str) -> None:
    """Raise a SourceError for an error status: rate limits with `retry_after`, refused
    credentials with a hint, anything else with the status and the server's own words."""
    status = response.status_code
    if status < 400:
        return
    if status in (429, 503) or (status == 420):  # 420: Twitter's old "enhance your calm"
        wait = retry_after(response)
        until = f" for {round(wait)} s" if wait is not None else ""
        raise SourceError(
            f"{what}: rate-limited (HTTP {status}){until}",
            retry_after=wait if wait is not None else 60.0,
        )
    if status in (401, 403):
        raise SourceError(
            f"{what}: HTTP {status}, access refused: check the token or password ({_said(response)})"
        )
    raise SourceError(f"{what}: HTTP {status} {_said(response)}".rstrip())


def _said(response: httpx.Response) -> str:
    """The first line of an error body, short: APIs explain themselves in JSON or text."""
    try:
        body = response.text[:300]
    except Exception:  # an undecodable body says nothing useful
        return ""
    try:
        import json

        data = json.loads(body)
        if isinstance(data, dict):
            for key in ("error_description", "error", "message", "detail", "title"):
                value = data.get(key)
                if isinstance(value, str) and value:
                    return value[:160]
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return value["message"][:160]
    except ValueError:
        pass
    return " ".join(body.split())[:160]


def json_of(response: httpx.Response, what: str) -> object:
    """The response's JSON, or a SourceError saying the server sent something else."""
    check(response, what)
    try:
        return response.json()
    except ValueError:
        raise SourceError(f"{what}: the server did not answer with JSON") from None


MAX_BYTES = 5 * 1024**2  # one API answer: a page of 100 posts is a few hundred kB
# Headers that describe the body as it came over the wire, not the decoded copy we keep.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    what: str,
    *,
    timeout: float,
    max_bytes: int = MAX_BYTES,
    **kwargs: object,
) -> httpx.Response:
    """One request with a time limit for the whole of it and a cap on the body's size, as a
    plain httpx.Response (for check/json_of). Network failures become a SourceError naming
    `what`; a body over `max_bytes` is refused, not read to the end."""
    import asyncio

    import httpx

    try:
        async with asyncio.timeout(timeout):
            async with client.stream(method, url, timeout=timeout, **kwargs) as r:  # type: ignore[arg-type]
                body = bytearray()
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise SourceError(f"{what}: the answer is larger than {max_bytes // 1024**2} MB")
                kept = [(k, v) for k, v in r.headers.items() if k.lower() not in _FRAMING]
                return httpx.Response(r.status_code, headers=kept, content=bytes(body), request=r.request)
    except (TimeoutError, httpx.TimeoutException):
        raise SourceError(f"{what}: timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{what}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
