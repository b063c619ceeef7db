"""What every HTTP source shares: the client, the one way to make a request, and reading a
response's status and its rate-limit headers.

A platform says "slow down" in several dialects: `Retry-After` (seconds or an HTTP date) on a
429 or 503, and `x-ratelimit-remaining` / `x-ratelimit-reset` (Mastodon, Reddit, X, as an epoch,
an ISO date or seconds to wait) on any response. `check()` turns an error status into a
SourceError that names what went wrong and, when the server said, when to come back;
`pause_after()` tells a source whose quota is spent how long to wait before its next request.
"""

from __future__ import annotations

import ipaddress
import re
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sources.source import SourceError

if TYPE_CHECKING:
    import httpx

    from webcare.config import Config

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
            # Here, not at the top: the desk imports this module before its first frame, and
            # the e-mail package is needed only for an HTTP date in a Retry-After header.
            from email.utils import parsedate_to_datetime

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
    **kwargs: Any,
) -> httpx.Response:
    """One request with a time limit for the whole of it and a cap on the body's size, as a
    plain httpx.Response (for check/json_of). Network failures become a SourceError naming
    `what`; a body over `max_bytes` is refused, not read to the end."""
    import httpx

    try:
        async with exchange(client, method, url, what, deadline=timeout, timeout=timeout, **kwargs) as r:
            too_big = f"{what}: the answer is larger than {max_bytes // 1024**2 or 1} MB"
            return buffered(r, await read_body(r, max_bytes, too_big))
    except httpx.TimeoutException:
        raise SourceError(f"{what}: timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{what}: {type(exc).__name__}: {exc}".rstrip(": ")) from None


# --- how every source talks HTTP ---------------------------------------------------------
#
# One client (make_client) and one way to make a request (`exchange`, and `request` above it):
# redirects are followed here, not by httpx, so that each hop is checked; the body is decoded
# here, in bounded steps, so that the size cap counts decompressed bytes as they come.

DEFAULT_DEADLINE = 60.0  # seconds for one request, connect to last byte ([network] deadline)
MAX_REDIRECTS = 5
CHUNK = 64 * 1024  # the most one decompression step may produce
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The only headers kept when a redirect leaves the origin: none of them can carry a secret.
# Everything else (Authorization, API-key headers, cookies a source set itself) stays behind.
_SAFE_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "user-agent",
        "if-none-match",
        "if-modified-since",
        "cache-control",
    }
)
# Encodings we can decode in bounded steps; asked for explicitly, so a server never sends one
# we would have to expand whole (httpx asks for br and zstd when their packages are present).
ACCEPT_ENCODING = "gzip, deflate"
_HOST = re.compile(r"^(\*\.)?(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """[network]: the hosts a redirect may lead to although they are not public, and the
    deadline for one request.

        [network]
        allow_hosts = ["intranet.example", "*.corp.example", "10.1.2.3"]
        deadline = "60s"
    """

    allow_hosts: frozenset[str] = frozenset()
    deadline: float = DEFAULT_DEADLINE
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def from_config(cls, config: Config) -> NetworkPolicy:
        """The [network] table, checked; raises ConfigError naming the key."""
        from webcare.config import ConfigError
        from webcare.known import refuse_unknown

        table = config.raw.get("network", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{config.path}: [network] must be a table")
        try:
            refuse_unknown(table, "[network] ", {"allow_hosts", "deadline"})
        except ValueError as exc:
            raise ConfigError(f"{config.path}: {exc}") from None
        hosts = table.get("allow_hosts", [])
        if not isinstance(hosts, list):
            raise ConfigError(f"{config.path}: [network] allow_hosts: must be a list of host names")
        allowed = set()
        for host in hosts:
            name = _host_name(host)
            if name is None:
                raise ConfigError(
                    f"{config.path}: [network] allow_hosts: {host!r} is not a host name or an IP "
                    "address (no scheme, port or path: 'intranet.example', '*.corp.example')"
                )
            allowed.add(name)
        deadline = DEFAULT_DEADLINE
        if "deadline" in table:
            value = table["deadline"]
            if isinstance(value, int | float) and not isinstance(value, bool):
                seconds: float | None = float(value)
            else:
                seconds = _seconds(value) if isinstance(value, str) else None
            if seconds is None or not 1 <= seconds <= 3600:
                raise ConfigError(
                    f"{config.path}: [network] deadline: {value!r} is not a duration between "
                    "1 s and 1 h, like '60s' or '2m'"
                )
            deadline = seconds
        return cls(frozenset(allowed), deadline)

    def allows(self, host: str) -> bool:
        """Whether `host` is in allow_hosts (itself, or under a '*.' entry)."""
        host = host.lower().rstrip(".")
        if host in self.allow_hosts:
            return True
        return any(host.endswith(entry[1:]) for entry in self.allow_hosts if entry.startswith("*."))


def _seconds(text: str) -> float | None:
    """'30s', '2m', '1h' in seconds; None when it is not a duration."""
    from webcare.norms import parse_duration

    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*s(?:ec)?\s*$", text)
    if m:
        return float(m[1])
    try:
        duration = parse_duration(text)
    except ValueError:
        return None
    return duration.total_seconds() if duration is not None else None


def _host_name(value: object) -> str | None:
    """`value` as an allow_hosts entry (lower case), or None when it is not a host."""
    if not isinstance(value, str):
        return None
    host = value.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    return host if _HOST.match(host) else None


def non_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address `ip` is ("loopback", "private"…), or None when public.
    An IPv4 address inside IPv6 (mapped, 6to4, NAT64) is judged as the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return non_public(inner)
    for kind, yes in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if yes:
            return kind
    return None if ip.is_global else "non-public"


async def _check_target(url: httpx.URL, policy: NetworkPolicy, what: str) -> None:
    """Refuse a redirect to an address that is not public, unless its host is allowed."""
    import asyncio
    import socket

    host = url.host
    if policy.allows(host):
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise SourceError(f"{what}redirected to {host}, which cannot be resolved ({reason})") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        kind = non_public(address)
        if kind is not None:
            raise SourceError(
                f"{what}redirected to {host} ({address}), a {kind} address: not followed "
                "(to allow it, add the host to [network] allow_hosts)"
            )


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def _same_server(current: httpx.URL, target: httpx.URL) -> bool:
    """The same origin, or the same host moving from http to https on the default ports."""
    if _origin(current) == _origin(target):
        return True
    return (
        current.host == target.host
        and _origin(current)[::2] == ("http", 80)
        and _origin(target)[::2] == ("https", 443)
    )


def make_client(policy: NetworkPolicy | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """The HTTP client every source uses: it never follows a redirect itself (`exchange` does,
    checking each hop), and carries `policy` for `exchange` to apply."""
    import httpx

    from sources.poller import USER_AGENT

    kwargs.setdefault("timeout", httpx.Timeout(20.0, connect=10.0))
    client = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False, **kwargs)
    client.webcare_network = policy or NetworkPolicy()  # type: ignore[attr-defined]
    return client


def policy_of(client: httpx.AsyncClient) -> NetworkPolicy:
    """The client's policy; a client made elsewhere gets the defaults (public redirects only)."""
    return getattr(client, "webcare_network", None) or NetworkPolicy()


_POLICY_DEADLINE = -1.0  # `exchange`'s default: the policy's deadline


@asynccontextmanager
async def exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    what: str = "",
    *,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
    deadline: float | None = _POLICY_DEADLINE,
    auth: Any = None,
    timeout: Any = None,
    **kwargs: Any,
) -> AsyncIterator[httpx.Response]:
    """One request, its response open for reading (with `read_body` or `iter_decoded`).

    `deadline` bounds the whole exchange, connect to the last byte read inside the `async
    with` (a server sending a byte every few seconds cannot hold it open): by default the
    [network] deadline, a number of seconds is capped by it, None (for event streams that
    are meant to stay open) leaves only httpx's per-read timeout. Redirects (GET and HEAD
    only) are followed at most MAX_REDIRECTS times, each only to a public address or an
    allowed host, and a hop to another origin carries none of the request's secrets.
    `what` (like "mastodon.social: home") starts each error message."""
    import asyncio

    policy = policy_of(client)
    limit = policy.deadline if deadline == _POLICY_DEADLINE else deadline
    if limit is not None:
        limit = min(limit, policy.deadline)
    prefix = f"{what}: " if what else ""
    timer = asyncio.timeout(limit)
    try:
        async with timer:
            response = await _follow(
                client, method, url, prefix, policy, follow_redirects,
                headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})},
                auth=auth, timeout=timeout, kwargs=kwargs,
            )  # fmt: skip
            try:
                yield response
            finally:
                await response.aclose()
    except TimeoutError:
        if not timer.expired():
            raise
        raise SourceError(f"{prefix}timed out after {limit:g} s") from None


async def _follow(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    prefix: str,
    policy: NetworkPolicy,
    follow: bool,
    *,
    headers: dict[str, str],
    auth: Any,
    timeout: Any,
    kwargs: dict[str, Any],
) -> httpx.Response:
    import httpx

    extra = {} if timeout is None else {"timeout": timeout}
    request = client.build_request(method, url, headers=headers, **extra, **kwargs)
    for hop in range(policy.max_redirects + 1):
        response = await client.send(
            request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True, follow_redirects=False
        )
        location = response.headers.get("Location")
        if not follow or response.status_code not in _REDIRECTS or not location:
            return response
        await response.aclose()
        if hop == policy.max_redirects:
            break
        try:
            target = request.url.join(location.strip())
        except (httpx.InvalidURL, ValueError):
            raise SourceError(f"{prefix}redirected to an address that is not one") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise SourceError(f"{prefix}redirected to {target.scheme or 'a'}: address: not followed")
        if request.method not in ("GET", "HEAD"):
            raise SourceError(
                f"{prefix}the server redirected a {request.method} (HTTP {response.status_code}) "
                f"to {target.host}: not sent on"
            )
        if not _same_server(request.url, target):
            # Within one server (a trailing slash, http to https) is where the operator pointed
            # us already; anywhere else must be public, or allowed.
            await _check_target(target, policy, prefix)
        # Host comes from the new URL; cookies from the client's jar, which knows their domains.
        kept = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "cookie")}
        if _origin(target) != _origin(request.url):
            # Another host (or port, or scheme): the secrets stay with the host they were for.
            kept = {k: v for k, v in kept.items() if k.lower() in _SAFE_HEADERS}
            auth = None
        request = client.build_request(request.method, target, headers=kept, **extra)
    raise SourceError(f"{prefix}more than {policy.max_redirects} redirects: not followed")


class _Inflater:
    """One content encoding undone in steps of at most CHUNK bytes: a small compressed
    piece that expands to gigabytes (a gzip bomb) comes out a little at a time, each piece
    counted against the cap before the next is made."""

    def __init__(self, encoding: str) -> None:
        self.deflate = encoding == "deflate"
        # gzip: a gzip header; deflate: a zlib header (RFC 9110), or, from some servers, none.
        self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16 if not self.deflate else zlib.MAX_WBITS)
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.deflate and not self.started and data:
            self.started = True
            try:
                probe = zlib.decompressobj(zlib.MAX_WBITS)
                probe.decompress(data[:64], 1)
            except zlib.error:
                self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream
        while data and not self.decoder.eof:
            out = self.decoder.decompress(data, CHUNK)
            data = self.decoder.unconsumed_tail
            if out:
                yield out
            while len(out) == CHUNK and not data and not self.decoder.eof:
                out = self.decoder.decompress(b"", CHUNK)  # output still held inside
                if out:
                    yield out

    def flush(self) -> Iterator[bytes]:
        if not self.decoder.eof:
            rest = self.decoder.flush(CHUNK)
            if rest:
                yield rest


async def iter_decoded(response: httpx.Response, what: str = "") -> AsyncIterator[bytes]:
    """The response's body as it arrives, with its Content-Encoding undone in bounded steps
    (never more than CHUNK bytes at a time, however well the body compresses)."""
    prefix = f"{what}: " if what else ""
    names = [
        e.strip().lower()
        for e in response.headers.get("Content-Encoding", "").split(",")
        if e.strip() and e.strip().lower() != "identity"
    ]
    inflaters = []
    for name in reversed(names):  # the last encoding applied is the first undone
        if name not in ("gzip", "x-gzip", "deflate"):
            raise SourceError(f"{prefix}the body is encoded as {name!r}, which was not asked for")
        inflaters.append(_Inflater(name))

    def decode(raw: bytes, final: bool) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((raw,))
        for inflater in inflaters:
            pieces = _through(inflater, pieces, final)
        return pieces

    try:
        async for raw in response.aiter_raw():
            for piece in decode(raw, False):
                yield piece
        for piece in decode(b"", True):
            yield piece
    except zlib.error:
        raise SourceError(f"{prefix}the compressed body is damaged") from None


def _through(inflater: _Inflater, pieces: Iterator[bytes], final: bool) -> Iterator[bytes]:
    for piece in pieces:
        yield from inflater.feed(piece)
    if final:
        yield from inflater.flush()


async def read_body(response: httpx.Response, max_bytes: int, too_big: str) -> bytes:
    """The whole (decoded) body, refused with SourceError(too_big) as soon as it passes
    `max_bytes`: counted on each decompressed piece, so a gzip bomb stops at the cap."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and "Content-Encoding" not in response.headers and int(declared) > max_bytes:
        raise SourceError(too_big)
    body = bytearray()
    async for piece in iter_decoded(response):
        if len(body) + len(piece) > max_bytes:
            raise SourceError(too_big)
        body += piece
    return bytes(body)


def buffered(response: httpx.Response, content: bytes) -> httpx.Response:
    """A read response as an ordinary one (for check/json_of): the decoded body, with its
    headers minus those that described the body on the wire."""
    import httpx

    kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _FRAMING]
    return httpx.Response(response.status_code, headers=kept, content=content, request=response.request)
