"""How every source talks HTTP (sources/http.py), against real servers on loopback: redirects
only to public addresses unless allowed, secrets kept to their origin, a deadline for the whole
request, and the size cap counted on the decompressed body."""

from __future__ import annotations

import gzip
import ipaddress
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import FeedServer, Response, feed_server_fixture  # noqa: F401 (the feed_server fixture)

from sources.http import NetworkPolicy, make_client, non_public, request
from sources.rss import RSSSource
from sources.source import SourceError
from webcare.config import Config, ConfigError, load

FEEDS = Path(__file__).parent / "feeds"
RSS20 = (FEEDS / "rss20.xml").read_bytes()


@pytest.fixture
def other_server() -> Iterator[FeedServer]:
    """A second server: another port on loopback, so another origin."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


def write_config(tmp_path: Path, url: str, network: str = "", **options: object) -> Config:
    lines = [
        "[desk]",
        f"data_dir = {json.dumps(str(tmp_path / 'data'))}",
        "",
        "[[sources]]",
        'type = "rss"',
        'name = "feed"',
        f"url = {json.dumps(url)}",
        "keyword_filter = false",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n\n" + network, encoding="utf-8")
    return load(path)


async def fetch_feed(config: Config) -> list:
    source = RSSSource.from_config(config.sources[0], config)
    async with make_client(NetworkPolicy.from_config(config)) as client:
        return await source.fetch(client)


async def feed_error(config: Config) -> str:
    with pytest.raises(SourceError) as info:
        await fetch_feed(config)
    message = str(info.value)
    assert message and "\n" not in message  # one line, for the header
    return message


def redirect(to: str, status: int = 302) -> Response:
    return Response(status=status, headers={"Location": to}, content_type="text/plain")


# --- redirects -----------------------------------------------------------------------------


async def test_a_redirect_to_a_loopback_address_is_refused(
    tmp_path: Path, feed_server: FeedServer, other_server: FeedServer
) -> None:
    """The configured feed (on loopback: the operator chose it) sends the collector to another
    port on this machine, by name and by address: neither is followed, and the error says why
    and what to do."""
    inside = other_server.serve("/admin", RSS20)
    port = inside.rsplit(":", 1)[1].split("/")[0]
    for to in (inside, f"http://localhost:{port}/admin"):
        feed_server.responses["/feed.xml"] = redirect(to)
        message = await feed_error(write_config(tmp_path, feed_server.url("/feed.xml")))
        assert "loopback address: not followed" in message and "[network] allow_hosts" in message
    assert other_server.requests_for("/admin") == []  # never asked


async def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.serve("/feed.xml", status=301, headers={"Location": "http://10.0.0.1/metadata"})
    message = await feed_error(write_config(tmp_path, feed_server.url("/feed.xml")))
    assert "redirected to 10.0.0.1 (10.0.0.1), a private address: not followed" in message


async def test_a_redirect_to_an_allowed_host_is_followed(
    tmp_path: Path, feed_server: FeedServer, other_server: FeedServer
) -> None:
    target = other_server.serve("/moved.xml", RSS20)
    feed_server.serve("/feed.xml", status=308, headers={"Location": target})
    network = '[network]\nallow_hosts = ["127.0.0.1"]\n'
    items = await fetch_feed(write_config(tmp_path, feed_server.url("/feed.xml"), network))
    assert len(items) == 4
    assert len(other_server.requests_for("/moved.xml")) == 1


async def test_a_redirect_within_the_configured_server_is_followed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A trailing slash or a moved path on the server the operator configured is no hop
    elsewhere: followed without allow_hosts."""
    feed_server.serve("/feed", status=301, headers={"Location": "/feed/"})
    feed_server.serve("/feed/", RSS20)
    assert len(await fetch_feed(write_config(tmp_path, feed_server.url("/feed")))) == 4


async def test_redirects_are_bounded(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/loop", status=302, headers={"Location": "/loop"})
    message = await feed_error(write_config(tmp_path, feed_server.url("/loop")))
    assert "more than 5 redirects" in message
    assert len(feed_server.requests_for("/loop")) == 6


async def test_secrets_stay_with_their_origin(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    """An API answers with a redirect to another server (another port: another origin): the
    request arrives there without the token, the API key or the cookie; within the origin,
    they go along."""
    secrets = {"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "Cookie": "session=abc"}
    target = other_server.serve("/elsewhere", b"{}", content_type="application/json")
    feed_server.serve("/api", status=307, headers={"Location": target})
    feed_server.serve("/same", status=302, headers={"Location": "/api/v2"})
    feed_server.serve("/api/v2", b"{}", content_type="application/json")
    policy = NetworkPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    async with make_client(policy) as client:
        await request(client, "GET", feed_server.url("/api"), "api", timeout=5, headers=secrets)
        await request(client, "GET", feed_server.url("/same"), "api", timeout=5, headers=secrets)
    [arrived] = other_server.requests_for("/elsewhere")
    assert not {"authorization", "x-api-key", "cookie"} & set(arrived.headers)
    assert arrived.headers["user-agent"].startswith("webcare/")
    [kept] = feed_server.requests_for("/api/v2")
    assert kept.headers["authorization"] == "Bearer s3cret" and kept.headers["x-api-key"] == "k3y"


async def test_basic_auth_stays_with_its_origin(
    feed_server: FeedServer, other_server: FeedServer
) -> None:
    import httpx

    target = other_server.serve("/token", b"{}", content_type="application/json")
    feed_server.serve("/token", status=302, headers={"Location": target})
    policy = NetworkPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    async with make_client(policy) as client:
        await request(
            client, "GET", feed_server.url("/token"), "t", timeout=5, auth=httpx.BasicAuth("id", "pw")
        )
    assert "authorization" in feed_server.requests_for("/token")[0].headers
    assert "authorization" not in other_server.requests_for("/token")[0].headers


async def test_a_post_is_not_sent_on_by_a_redirect(feed_server: FeedServer) -> None:
    feed_server.serve("/statuses", status=307, headers={"Location": "/elsewhere"})
    async with make_client() as client:
        with pytest.raises(SourceError, match="redirected a POST .* not sent on"):
            await request(client, "POST", feed_server.url("/statuses"), "reply", timeout=5, json={"a": 1})
    assert feed_server.requests_for("/elsewhere") == []


@pytest.mark.parametrize(
    "address,kind",
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("::127.0.0.1", "reserved"),  # IPv4-compatible
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("::ffff:93.184.215.14", None),
    ],
)
def test_which_addresses_are_public(address: str, kind: str | None) -> None:
    assert non_public(ipaddress.ip_address(address)) == kind


# --- the deadline --------------------------------------------------------------------------


async def test_a_server_dripping_a_byte_a_second_meets_the_deadline(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Each byte comes well within the read timeout, so only a deadline for the whole request
    ends it: [network] deadline, shorter than the feed's own timeout."""
    drip = [(0.0, b"<")] + [(1.0, b"r")] * 4
    feed_server.serve("/drip.xml", stream=drip)
    config = write_config(tmp_path, feed_server.url("/drip.xml"), "[network]\ndeadline = 1.5\n")
    assert await feed_error(config) == "timed out after 1.5 s"


# --- the size cap on the decompressed body -------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    """`size` bytes of a feed's worth of spaces, gzipped to about a thousandth of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * 1024**2
    out = [packer.compress(b"<rss>")]
    out += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join(out) + packer.flush()


async def test_a_gzip_bomb_stops_at_the_cap_with_little_memory(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """200 MB of spaces in 200 kB of gzip: refused at the 1 MB cap, never expanded further
    (decompressed 64 kB at a time, each piece counted before the next is made)."""
    bomb = gzip_bomb(200 * 1024**2)
    assert len(bomb) < 400_000
    feed_server.serve("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    config = write_config(tmp_path, feed_server.url("/bomb.xml"), max_bytes="1MB")
    tracemalloc.start()
    try:
        message = await feed_error(config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == "feed larger than 1 MB"
    assert peak < 8 * 1024**2


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
async def test_a_compressed_feed_is_read_whole(
    tmp_path: Path, feed_server: FeedServer, encoding: str
) -> None:
    body = {
        "gzip": gzip.compress(RSS20),
        "deflate": zlib.compress(RSS20),
        "raw deflate": zlib.compress(RSS20)[2:-4],  # what some servers send as "deflate"
    }[encoding]
    feed_server.serve("/z.xml", body, headers={"Content-Encoding": encoding.split()[-1]})
    assert len(await fetch_feed(write_config(tmp_path, feed_server.url("/z.xml")))) == 4
    assert feed_server.requests_for("/z.xml")[0].headers["accept-encoding"] == "gzip, deflate"


async def test_an_encoding_not_asked_for_is_refused(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/br.xml", b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    message = await feed_error(write_config(tmp_path, feed_server.url("/br.xml")))
    assert "encoded as 'br', which was not asked for" in message


# --- the [network] table -------------------------------------------------------------------


def test_network_settings_are_read_and_checked(tmp_path: Path) -> None:
    url = "https://example.org/feed.xml"
    network = '[network]\nallow_hosts = ["Intranet.Example.", "*.corp.example", "10.1.2.3"]\ndeadline = "2m"\n'
    policy = NetworkPolicy.from_config(write_config(tmp_path, url, network))
    assert policy.deadline == 120
    assert policy.allows("intranet.example") and policy.allows("feeds.corp.example")
    assert policy.allows("10.1.2.3") and not policy.allows("corp.example.evil")
    assert NetworkPolicy.from_config(write_config(tmp_path, url)).deadline == 60
    for bad, says in [
        ('allow_hosts = ["http://intranet.example/"]', "is not a host name"),
        ('allow_hosts = "intranet.example"', "must be a list"),
        ('deadline = "forever"', "[network] deadline"),
        ("deadline = 0", "[network] deadline"),
        ("allow_host = []", "[network] allow_host: unknown key"),
    ]:
        with pytest.raises(ConfigError, match=None) as info:
            NetworkPolicy.from_config(write_config(tmp_path, url, f"[network]\n{bad}\n"))
        assert says in str(info.value), bad


def test_the_bundled_network_example_is_valid(tmp_path: Path) -> None:
    shipped = (Path(__file__).resolve().parent.parent / "config.toml").read_text(encoding="utf-8")
    start = shipped.index("# [network]")
    block = [line.split("#", 2)[1].strip() for line in shipped[start:].splitlines()[:3]]
    assert block[0] == "[network]"
    policy = NetworkPolicy.from_config(write_config(tmp_path, "https://example.org/", "\n".join(block) + "\n"))
    assert policy.allows("intranet.example") and policy.deadline == 60
