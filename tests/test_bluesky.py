"""The Bluesky source against a real HTTP server on loopback that answers like a PDS/AppView.

The fake below keeps accounts, tokens, posts and notifications, and answers the XRPC methods
the source uses with JSON shaped exactly like Bluesky's (postView, notification, session,
errors as {"error", "message"}, cursors, ratelimit-* headers).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.bluesky import BlueskySource, grapheme_count, link_facets, post_item
from sources.source import OptionError, SourceError
from webcare.config import Config, load
from webcare.intake import Intake
from webcare.mention import Mention

PASSWORD = "abcd-efgh-ijkl-mnop"
HANDLE = "vlaanderen.bsky.social"
DID = "did:plc:vlaanderen0000000000000"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def post_view(
    n: int, text: str = "", *, when: datetime | None = None, **record: Any
) -> dict[str, Any]:
    """A postView as app.bsky.feed.searchPosts returns it."""
    when = when or T0 + timedelta(minutes=n)
    return {
        "uri": f"at://did:plc:author{n}/app.bsky.feed.post/3lpost{n:05d}",
        "cid": f"bafyreicid{n}",
        "author": {
            "did": f"did:plc:author{n}",
            "handle": f"user{n}.bsky.social",
            "displayName": f"User {n}",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": iso(when),
            "langs": ["nl"],
            "text": text or f"Post {n} over de mestbank van VLM",
            **record,
        },
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": iso(when + timedelta(seconds=1)),
        "labels": [],
    }


def notification(n: int, reason: str, **record: Any) -> dict[str, Any]:
    """A notification as app.bsky.notification.listNotifications returns it."""
    view = post_view(n, f"@{HANDLE} notification {n}", **record)
    return {
        "uri": view["uri"],
        "cid": view["cid"],
        "author": view["author"],
        "reason": reason,
        "record": view["record"],
        "isRead": False,
        "indexedAt": view["indexedAt"],
        "labels": [],
    }


def xrpc_error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps({"error": error, "message": message}).encode()
    return Response(
        status=status, body=body, content_type="application/json", headers=headers or {}
    )


def ok(data: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(data).encode(), content_type="application/json", headers=headers or {}
    )


class FakeBluesky:
    """A PDS that proxies app.bsky.* like bsky.social does, on the loopback feed server."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.posts: list[dict[str, Any]] = []  # newest first, as sort=latest gives them
        self.notifications: list[dict[str, Any]] = []  # newest first
        self.followers: dict[str, int] = {}
        self.access: set[str] = set()  # valid access tokens
        self.refresh: set[str] = set()
        self.issued = 0
        self.refuse_refresh = False
        self.headers: dict[str, str] = {}  # sent with every app.bsky answer
        self.created: list[dict[str, Any]] = []
        for nsid, answer in {
            "com.atproto.server.createSession": self.create_session,
            "com.atproto.server.refreshSession": self.refresh_session,
            "app.bsky.feed.searchPosts": self.search,
            "app.bsky.notification.listNotifications": self.list_notifications,
            "app.bsky.actor.getProfiles": self.get_profiles,
            "com.atproto.repo.createRecord": self.create_record,
        }.items():
            server.route(f"/xrpc/{nsid}", answer)

    def calls(self, nsid: str) -> list[Request]:
        return self.server.requests_for(f"/xrpc/{nsid}")

    def expire_access(self) -> None:
        self.access.clear()

    def _session(self) -> Response:
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.access.add(access)
        self.refresh.add(refresh)
        return ok(
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": HANDLE,
                "did": DID,
                "email": "webcare@example.org",
                "emailConfirmed": True,
                "active": True,
            },
            {"ratelimit-limit": "30", "ratelimit-remaining": "29", "ratelimit-policy": "30;w=300"},
        )

    def create_session(self, req: Request) -> Response:
        body = req.json()
        if (
            req.method != "POST"
            or body.get("identifier") != HANDLE
            or body.get("password") != PASSWORD
        ):
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._session()

    def refresh_session(self, req: Request) -> Response:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if self.refuse_refresh or token not in self.refresh:
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        self.refresh.discard(token)
        return self._session()

    def _authorised(self, req: Request) -> Response | None:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        if token not in self.access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    def _page(self, req: Request, rows: list[dict[str, Any]], key: str) -> Response:
        params = req.params
        limit = int(params.get("limit", ["25"])[0])
        offset = int(params.get("cursor", ["0"])[0])
        page = rows[offset : offset + limit]
        data: dict[str, Any] = {key: page}
        if offset + limit < len(rows):
            data["cursor"] = str(offset + limit)
        return ok(data, self.headers)

    def search(self, req: Request) -> Response:
        refused = self._authorised(req)
        if refused:
            return refused
        q = req.params["q"][0].lower()
        assert req.params["sort"] == ["latest"]
        hits = [p for p in self.posts if q in p["record"]["text"].lower()]
        return self._page(req, hits, "posts")

    def list_notifications(self, req: Request) -> Response:
        refused = self._authorised(req)
        if refused:
            return refused
        reasons = req.params.get("reasons") or []
        rows = [n for n in self.notifications if not reasons or n["reason"] in reasons]
        return self._page(req, rows, "notifications")

    def get_profiles(self, req: Request) -> Response:
        actors = req.params.get("actors", [])
        assert len(actors) <= 25
        profiles = [
            {
                "did": did,
                "handle": "x.bsky.social",
                "followersCount": self.followers[did],
                "followsCount": 3,
            }
            for did in actors
            if did in self.followers
        ]
        return ok({"profiles": profiles})

    def create_record(self, req: Request) -> Response:
        refused = self._authorised(req)
        if refused:
            return refused
        body = req.json()
        self.created.append(body)
        rkey = f"3lreply{len(self.created)}"
        return ok(
            {
                "uri": f"at://{body['repo']}/app.bsky.feed.post/{rkey}",
                "cid": "bafyreireply",
                "commit": {"cid": "bafyreicommit", "rev": "3lrev"},
                "validationStatus": "valid",
            }
        )


@pytest.fixture
def bsky(feed_server: FeedServer) -> FakeBluesky:
    return FakeBluesky(feed_server)


@pytest.fixture(autouse=True)
def app_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", PASSWORD)


def write_config(tmp_path: Path, options: dict[str, object]) -> Config:
    lines = [
        "[desk]",
        'name = "Vlaamse Landmaatschappij"',
        f"data_dir = {json.dumps(str(tmp_path / 'data'))}",
        "",
        "[watch]",
        'keywords = ["VLM", "mestbank"]',
        "",
        "[[sources]]",
        'type = "bluesky"',
        'name = "Bluesky"',
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load(path)


def source(tmp_path: Path, server: FeedServer, **options: object) -> BlueskySource:
    base: dict[str, object] = {
        "service": server.base,
        "handle": HANDLE,
        "password_env": "BLUESKY_APP_PASSWORD",
    }
    config = write_config(tmp_path, {**base, **options})
    built = BlueskySource.from_config(config.sources[0], config)
    assert isinstance(built, BlueskySource)
    return built


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=False) as client:  # loopback only: no certificates to load
        yield client


async def fetch(src: BlueskySource, client: httpx.AsyncClient) -> list:
    return await src.fetch(client)


async def fetch_error(src: BlueskySource, client: httpx.AsyncClient) -> SourceError:
    with pytest.raises(SourceError) as info:
        await fetch(src, client)
    assert "\n" not in str(info.value)
    return info.value


def keys(items: list) -> list[str]:
    return [i.key for i in items]


def mention_for(item: Any) -> Mention:
    return Mention(
        id="m1",
        source="Bluesky",
        channel="bluesky",
        author=item.author,
        text=item.text,
        first_seen_at=T0,
        url=item.url,
        ref=item.ref,
        reply_meta=item.reply_meta,
    )


# --- configuration -------------------------------------------------------------------------


def test_from_config_defaults(tmp_path: Path, feed_server: FeedServer) -> None:
    src = source(tmp_path, feed_server, search=["VLM"])
    assert (src.type, src.interval, src.max_backlog, src.replies) == ("bluesky", 120.0, 25, "send")
    assert src.appview == src.service == feed_server.base  # logged in: the PDS proxies app.bsky.*
    assert src.notifications and src.keyword_filter and src.can_reply
    assert src.langs == ["nl"]


def test_defaults_without_login_and_notifications_only(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"search": ["VLM"]})
    anonymous = BlueskySource.from_config(config.sources[0], config)
    assert anonymous.service == "https://bsky.social"
    assert anonymous.appview == "https://public.api.bsky.app"
    assert not anonymous.notifications and not anonymous.can_reply
    config = write_config(
        tmp_path, {"handle": "@" + HANDLE, "password_env": "BLUESKY_APP_PASSWORD"}
    )
    mentions_only = BlueskySource.from_config(config.sources[0], config)
    assert mentions_only.handle == HANDLE
    assert mentions_only.notifications and not mentions_only.keyword_filter  # addressed to us


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"search": ["VLM"], "service": "ftp://bsky.social"}, "service"),
        ({"search": ["VLM"], "appview": "bsky"}, "appview"),
        ({"search": ["VLM"], "handle": HANDLE}, "password_env"),
        ({"search": ["VLM"], "password_env": "X"}, "handle"),
        ({"search": ["VLM"], "notifications": True}, "notifications"),
        ({}, "search"),
        ({"search": [""]}, "search"),
        ({"search": ["VLM"], "every": "soon"}, "every"),
        ({"search": ["VLM"], "max_backlog": 0}, "max_backlog"),
        ({"search": ["VLM"], "max_backlog": 101}, "max_backlog"),
        ({"search": ["VLM"], "replies": "maybe"}, "replies"),
        ({"search": ["VLM"], "keyword_filter": "yes"}, "keyword_filter"),
        ({"search": ["VLM"], "pasword_env": "X"}, "pasword_env"),
    ],
)
def test_from_config_errors_name_the_key(
    tmp_path: Path, options: dict[str, object], key: str
) -> None:
    config = write_config(tmp_path, options)
    with pytest.raises(OptionError, match=f"^{key}:"):
        BlueskySource.from_config(config.sources[0], config)


# --- the session -----------------------------------------------------------------------------


async def test_session_is_created_once_and_kept_across_polls(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(2), post_view(1)]
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    assert len(await fetch(src, client)) == 2
    bsky.posts.insert(0, post_view(3))
    assert keys(await fetch(src, client)) == [bsky.posts[0]["uri"]]
    assert len(bsky.calls("com.atproto.server.createSession")) == 1
    login = bsky.calls("com.atproto.server.createSession")[0]
    assert login.method == "POST" and login.json() == {"identifier": HANDLE, "password": PASSWORD}
    searches = bsky.calls("app.bsky.feed.searchPosts")
    assert {r.headers["authorization"] for r in searches} == {"Bearer access-1"}


async def test_expired_token_is_refreshed_and_the_call_retried(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(1)]
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    await fetch(src, client)
    bsky.expire_access()
    bsky.posts.insert(0, post_view(2))
    assert keys(await fetch(src, client)) == [bsky.posts[0]["uri"]]
    refresh = bsky.calls("com.atproto.server.refreshSession")
    assert [r.headers["authorization"] for r in refresh] == ["Bearer refresh-1"]
    assert [r.headers["authorization"] for r in bsky.calls("app.bsky.feed.searchPosts")][-2:] == [
        "Bearer access-1",
        "Bearer access-2",
    ]
    assert len(bsky.calls("com.atproto.server.createSession")) == 1  # the refresh sufficed


async def test_failed_refresh_logs_in_again(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(1)]
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    await fetch(src, client)
    bsky.expire_access()
    bsky.refuse_refresh = True
    bsky.posts.insert(0, post_view(2))
    assert len(await fetch(src, client)) == 1
    assert len(bsky.calls("com.atproto.server.refreshSession")) == 1
    assert len(bsky.calls("com.atproto.server.createSession")) == 2


async def test_a_token_refused_after_renewal_is_an_error_not_a_loop(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts",
        lambda req: xrpc_error(401, "AuthenticationRequired", "Bad token"),
    )
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    error = await fetch_error(src, client)
    assert "401" in str(error) and "Bad token" in str(error)
    assert len(bsky.calls("app.bsky.feed.searchPosts")) == 2  # the call, and one retry
    assert len(bsky.calls("com.atproto.server.refreshSession")) == 1


async def test_wrong_password_names_the_handle_not_the_password(
    tmp_path: Path,
    feed_server: FeedServer,
    bsky: FakeBluesky,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong-pass-word-1234")
    src = source(tmp_path, feed_server, search=["mestbank"])
    error = await fetch_error(src, client)
    assert HANDLE in str(error) and "wrong handle or app password" in str(error)
    assert "Invalid identifier or password" in str(error)
    assert "wrong-pass-word-1234" not in str(error)
    assert bsky.calls("app.bsky.feed.searchPosts") == []
    again = await fetch_error(src, client)  # not asked again: it would spend the login quota
    assert str(again) == str(error)
    assert len(bsky.calls("com.atproto.server.createSession")) == 1


async def test_missing_password_variable_is_named(
    tmp_path: Path,
    feed_server: FeedServer,
    bsky: FakeBluesky,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    error = await fetch_error(source(tmp_path, feed_server, search=["mestbank"]), client)
    assert "BLUESKY_APP_PASSWORD" in str(error) and HANDLE in str(error)
    assert feed_server.requests == []


async def test_login_rate_limit_says_when_to_come_back(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    reset = int(time.time()) + 240
    feed_server.route(
        "/xrpc/com.atproto.server.createSession",
        lambda req: xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            {"ratelimit-limit": "30", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
        ),
    )
    error = await fetch_error(source(tmp_path, feed_server, search=["mestbank"]), client)
    assert "rate-limited" in str(error)
    assert error.retry_after is not None and 200 < error.retry_after <= 240


# --- searching and notifications ---------------------------------------------------------------


async def test_search_pages_back_to_known_posts_without_loss_or_duplicates(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(n) for n in range(60, 0, -1)]  # 60 posts of history
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False, max_backlog=10)
    first = await fetch(src, client)
    assert keys(first) == [post_view(n)["uri"] for n in range(60, 50, -1)]  # one page of backlog
    assert len(bsky.calls("app.bsky.feed.searchPosts")) == 1

    assert await fetch(src, client) == []  # nothing new: no history comes in later
    bsky.posts = [post_view(n) for n in range(310, 60, -1)] + bsky.posts  # 250 new posts
    before = len(bsky.calls("app.bsky.feed.searchPosts"))
    second = await fetch(src, client)
    assert sorted(keys(second)) == sorted(post_view(n)["uri"] for n in range(61, 311))
    pages = bsky.calls("app.bsky.feed.searchPosts")[before:]
    assert [r.params.get("cursor") for r in pages] == [None, ["100"], ["200"]]
    assert {r.params["limit"][0] for r in pages} == {"100"}
    assert await fetch(src, client) == []


async def test_search_stops_after_a_bounded_number_of_pages(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(1)]
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    await fetch(src, client)
    bsky.posts = [post_view(n) for n in range(2000, 1, -1)] + bsky.posts
    before = len(bsky.calls("app.bsky.feed.searchPosts"))
    assert len(await fetch(src, client)) == 500
    assert len(bsky.calls("app.bsky.feed.searchPosts")) - before == 5


async def test_late_indexed_post_is_still_delivered(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(5), post_view(4)]
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    await fetch(src, client)
    late = post_view(99, when=T0 + timedelta(minutes=4, seconds=30))  # older than the newest
    bsky.posts = [post_view(6), bsky.posts[0], late, bsky.posts[1]]
    assert sorted(keys(await fetch(src, client))) == sorted([post_view(6)["uri"], late["uri"]])


async def test_a_failed_poll_loses_nothing_and_rewind_repeats(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(2, "VLM en mestbank"), post_view(1, "VLM")]
    src = source(tmp_path, feed_server, search=["VLM", "mestbank"], notifications=False)
    await fetch(src, client)
    bsky.posts.insert(0, post_view(3, "VLM nieuw"))
    search = bsky.search
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts",
        lambda req: (
            search(req)
            if req.params["q"] == ["VLM"]
            else xrpc_error(500, "InternalServerError", "boom")
        ),
    )
    error = await fetch_error(src, client)
    assert "HTTP 500" in str(error)
    feed_server.route("/xrpc/app.bsky.feed.searchPosts", search)
    got = await fetch(src, client)
    assert keys(got) == [post_view(3)["uri"]]  # the query that succeeded before was not advanced
    src.rewind()
    assert keys(await fetch(src, client)) == [post_view(3)["uri"]]
    assert await fetch(src, client) == []


async def test_a_post_found_by_two_queries_comes_once(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(1, "VLM en mestbank")]
    bsky.notifications = [notification(1, "mention")]
    src = source(tmp_path, feed_server, search=["VLM", "mestbank"])
    items = await fetch(src, client)
    assert keys(items) == [post_view(1)["uri"]]
    assert items[0].extra["reason"] == "mention"


async def test_notifications_mentions_replies_and_quotes(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    ours = f"at://{DID}/app.bsky.feed.post/3lourpost"
    root = {"uri": ours, "cid": "bafyreiours"}
    bsky.notifications = [
        notification(
            4,
            "reply",
            reply={
                "root": root,
                "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/3lmid", "cid": "bafymid"},
            },
        ),
        notification(3, "quote"),
        notification(2, "mention"),
    ]
    like = notification(1, "like")
    like["uri"] = "at://did:plc:author1/app.bsky.feed.like/3llike"
    bsky.notifications.append(like)
    src = source(tmp_path, feed_server)
    items = await fetch(src, client)
    assert [i.extra["reason"] for i in items] == ["reply", "quote", "mention"]
    call = bsky.calls("app.bsky.notification.listNotifications")[0]
    assert call.params["reasons"] == ["mention", "reply", "quote"]
    assert call.params["limit"] == ["25"]
    assert bsky.calls("app.bsky.feed.searchPosts") == []
    reply = items[0]
    assert reply.in_reply_to == "at://did:plc:x/app.bsky.feed.post/3lmid"
    assert reply.reply_meta == {
        "uri": reply.ref,
        "cid": "bafyreicid4",
        "root_uri": ours,
        "root_cid": "bafyreiours",
    }
    assert items[2].in_reply_to == "" and items[2].reply_meta["root_uri"] == items[2].ref

    bsky.notifications.insert(0, notification(5, "mention"))
    assert keys(await fetch(src, client)) == [notification(5, "mention")["uri"]]
    assert await fetch(src, client) == []


async def test_replies_link_to_their_post_in_intake(
    tmp_path: Path,
    feed_server: FeedServer,
    bsky: FakeBluesky,
    client: httpx.AsyncClient,
    make_config: Any,
) -> None:
    post = notification(1, "mention")
    parent = {"uri": post["uri"], "cid": post["cid"]}
    bsky.notifications = [notification(2, "reply", reply={"root": parent, "parent": parent}), post]
    items = await fetch(source(tmp_path, feed_server), client)
    intake = Intake(make_config())
    mentions = intake.admit_all(items, "Bluesky", False, T0)
    by_ref = {m.ref: m for m in mentions}
    assert by_ref[items[0].ref].parent == by_ref[post["uri"]].id


async def test_post_becomes_item_with_links_and_times(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    text = "Nieuwe regels mestbank 🌱 zie vlaanderen.be/mestbank/nieu..."
    start = len("Nieuwe regels mestbank 🌱 zie ".encode())
    view = post_view(
        7,
        text,
        facets=[
            {
                "index": {"byteStart": start, "byteEnd": len(text.encode())},
                "features": [
                    {
                        "$type": "app.bsky.richtext.facet#link",
                        "uri": "https://www.vlaanderen.be/mestbank/nieuwe-regels",
                    }
                ],
            },
            {
                "index": {"byteStart": 0, "byteEnd": 6},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "mest"}],
            },
        ],
        embed={
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://www.vlaanderen.be/mestbank/nieuwe-regels",
                "title": "x",
                "description": "",
            },
        },
    )
    view["author"]["followersCount"] = 1234
    bsky.posts = [view]
    [item] = await fetch(
        source(tmp_path, feed_server, search=["mestbank"], notifications=False), client
    )
    assert item.text == text + "\nhttps://www.vlaanderen.be/mestbank/nieuwe-regels"
    assert item.url == "https://bsky.app/profile/user7.bsky.social/post/3lpost00007"
    assert item.key == item.ref == "at://did:plc:author7/app.bsky.feed.post/3lpost00007"
    assert (item.author, item.author_name, item.channel) == (
        "@user7.bsky.social",
        "User 7",
        "bluesky",
    )
    assert item.published_at == T0 + timedelta(minutes=7)
    assert item.reach == 1234
    assert bsky.calls("app.bsky.actor.getProfiles") == []  # the payload had it


def test_odd_payloads() -> None:
    view = post_view(1)
    view["author"]["handle"] = "handle.invalid"
    view["record"]["createdAt"] = "2030-01-01T00:00:00.123456789Z"  # a clock in the future
    view["indexedAt"] = "2026-11-23T09:01:01.123456789Z"
    item, when = post_item(view)
    assert item.url == "https://bsky.app/profile/did:plc:author1/post/3lpost00001"
    assert item.published_at == when == datetime(2026, 11, 23, 9, 1, 1, 123456, tzinfo=UTC)
    assert post_item({"uri": "https://example.org", "record": {}}) is None
    assert post_item({"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": "x"}) is None


async def test_follower_counts_come_from_get_profiles_in_batches(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(n) for n in range(30, 0, -1)]
    bsky.followers = {f"did:plc:author{n}": n * 10 for n in range(1, 31)}
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False, max_backlog=30)
    items = await fetch(src, client)
    assert [i.reach for i in items] == [n * 10 for n in range(30, 0, -1)]
    calls = bsky.calls("app.bsky.actor.getProfiles")
    assert [len(c.params["actors"]) for c in calls] == [25, 5]
    assert calls[0].headers["authorization"].startswith("Bearer ")
    bsky.posts.insert(0, post_view(1, "mestbank again", when=T0 + timedelta(hours=1)))
    bsky.posts[0]["uri"] += "b"
    await fetch(src, client)
    assert len(bsky.calls("app.bsky.actor.getProfiles")) == 2  # author1 was cached


async def test_anonymous_search_uses_the_appview_without_cursor_or_token(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts",
        lambda req: ok({"cursor": "25", "posts": [post_view(2), post_view(1)]}),
    )
    config = write_config(tmp_path, {"search": ["mestbank"], "appview": feed_server.base})
    src = BlueskySource.from_config(config.sources[0], config)
    assert len(await fetch(src, client)) == 2
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts",
        lambda req: ok({"cursor": "100", "posts": [post_view(n) for n in range(99, 2, -1)]}),
    )
    assert len(await fetch(src, client)) == 97
    calls = bsky.calls("app.bsky.feed.searchPosts")
    assert all("authorization" not in c.headers and "cursor" not in c.params for c in calls)
    assert bsky.calls("com.atproto.server.createSession") == []
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts", lambda req: xrpc_error(403, "Forbidden", "Forbidden")
    )
    error = await fetch_error(src, client)
    assert "403" in str(error) and "log in" in str(error)


async def test_ratelimit_headers_pause_and_retry_after(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(1)]
    reset = int(time.time()) + 120
    bsky.headers = {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "2000",
        "ratelimit-reset": str(reset),
    }
    src = source(tmp_path, feed_server, search=["mestbank"], notifications=False)
    await fetch(src, client)
    assert src.pause_s is None
    bsky.headers = {**bsky.headers, "ratelimit-remaining": "0"}
    await fetch(src, client)
    assert src.pause_s is not None and 100 < src.pause_s <= 120
    feed_server.route(
        "/xrpc/app.bsky.feed.searchPosts",
        lambda req: xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", bsky.headers),
    )
    error = await fetch_error(src, client)
    assert error.retry_after is not None and 100 < error.retry_after <= 120


# --- checkpoints -------------------------------------------------------------------------------


def restarted(
    tmp_path: Path, server: FeedServer, state: dict[str, Any], **options: object
) -> BlueskySource:
    """A new source, as after a restart of the collector, given the saved checkpoint."""
    src = source(tmp_path, server, **options)
    src.resume(json.loads(json.dumps(state)))  # as the poller saves and reads it
    return src


async def test_a_restart_resumes_where_each_stream_was(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    """What came in while the collector was down comes after the restart, all of it, once,
    far beyond max_backlog."""
    bsky.posts = [post_view(n) for n in range(20, 0, -1)]
    bsky.notifications = [notification(n, "mention") for n in range(5020, 5000, -1)]
    first = source(tmp_path, feed_server, search=["mestbank"], max_backlog=10)
    got = keys(await fetch(first, client))
    assert len(got) == 20  # one backlog page of each
    state = first.checkpoint()
    assert json.loads(json.dumps(state)) == state
    assert (state["appview"], state["account"]) == (feed_server.base, HANDLE)
    assert sorted(state["streams"]) == ["notifications", "search:mestbank"]
    # Down: 150 posts and 150 notifications, more than a page of each.
    bsky.posts = [post_view(n) for n in range(170, 20, -1)] + bsky.posts
    bsky.notifications = [
        notification(n, "mention") for n in range(5170, 5020, -1)
    ] + bsky.notifications
    second = restarted(tmp_path, feed_server, state, search=["mestbank"], max_backlog=10)
    assert second.checkpoint() == state
    got += keys(await fetch(second, client))
    expected = [post_view(n)["uri"] for n in range(11, 171)]
    expected += [notification(n, "mention")["uri"] for n in range(5011, 5171)]
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    assert await fetch(second, client) == []
    # Restarted again with nothing new: nothing comes twice.
    third = restarted(tmp_path, feed_server, second.checkpoint(), search=["mestbank"])
    assert await fetch(third, client) == []
    # What a checkpoint remembers per stream is bounded: the newest 500 at-uris delivered.
    third._streams["search:mestbank"].seen.update(
        dict.fromkeys(f"at://x/p/{i}" for i in range(999))
    )
    seen = third.checkpoint()["streams"]["search:mestbank"]["seen"]
    assert len(seen) == 500 and seen[-1] == "at://x/p/998"


async def test_a_checkpoint_for_another_appview_account_or_query_is_ignored(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.posts = [post_view(n) for n in range(5, 0, -1)]
    bsky.notifications = [notification(n, "mention") for n in range(5005, 5000, -1)]
    src = source(tmp_path, feed_server, search=["mestbank"])
    await fetch(src, client)
    state = src.checkpoint()
    # Another AppView: nothing of it is taken.
    elsewhere = restarted(tmp_path, feed_server, {**state, "appview": "https://other.example"})
    assert elsewhere.checkpoint()["streams"] == {}
    # Another account: its notifications are not ours, its searches still are.
    other = restarted(
        tmp_path, feed_server, {**state, "account": "iemand.bsky.social"}, search=["mestbank"]
    )
    assert list(other.checkpoint()["streams"]) == ["search:mestbank"]
    # Another query: its own first poll, a backlog.
    bsky.posts.insert(0, post_view(6))
    vlm = restarted(tmp_path, feed_server, state, search=["VLM"], notifications=False)
    assert vlm.checkpoint()["streams"] == {}
    assert len(await fetch(vlm, client)) == 6


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"appview": 1, "streams": {}},
        {"appview": "BASE", "streams": []},
        {"appview": "BASE", "account": HANDLE, "streams": {"search:mestbank": "x"}},
        {"appview": "BASE", "account": HANDLE, "streams": {"search:mestbank": {"seen": "at://"}}},
        {"appview": "BASE", "account": HANDLE, "streams": {"notifications": {"seen": [1, 2]}}},
        {"appview": "BASE", "account": HANDLE, "streams": {"notifications": {"seen": ["x"]}}},
        {
            "appview": "BASE",
            "account": HANDLE,
            "streams": {"notifications": {"seen": ["at://x/y/z"], "newest": "gisteren"}},
        },
        {
            "appview": "BASE",
            "account": HANDLE,
            "streams": {"search:mestbank": {"seen": ["at://x/y/z"], "floor": 1764000000}},
        },
    ],
)
async def test_a_garbled_checkpoint_is_a_fresh_start(
    tmp_path: Path,
    feed_server: FeedServer,
    bsky: FakeBluesky,
    client: httpx.AsyncClient,
    state: dict[str, Any],
) -> None:
    bsky.posts = [post_view(n) for n in range(40, 0, -1)]
    if state.get("appview") == "BASE":
        state = {**state, "appview": feed_server.base}
    src = restarted(tmp_path, feed_server, state, search=["mestbank"], notifications=True)
    assert src.checkpoint()["streams"] == {}
    src.resume(None)  # type: ignore[arg-type]  # not even a dict
    assert len(await fetch(src, client)) == 25  # a fresh start: one page of max_backlog


# --- replying ----------------------------------------------------------------------------------


def test_grapheme_count() -> None:
    assert grapheme_count("één") == 3
    assert grapheme_count("e\u0301e\u0301n") == 3  # decomposed accents
    assert grapheme_count("👨‍👩‍👧‍👦") == 1  # a family joined by ZWJ
    assert grapheme_count("👍🏽") == 1  # skin tone
    assert grapheme_count("🇧🇪🇳🇱") == 2  # two flags
    assert grapheme_count("1️⃣") == 1  # keycap
    assert grapheme_count("🏴󠁧󠁢󠁳󠁣󠁴󠁿") == 1  # Scotland: tag characters
    assert grapheme_count("a\r\nb") == 3
    assert grapheme_count("❤️ VLM") == 5


def test_link_facets_use_utf8_byte_offsets() -> None:
    text = "Één vraag 🌍: zie https://www.vlaanderen.be/mest. Of (https://nl.wikipedia.org/wiki/Mest_(stof))!"
    facets = link_facets(text)
    data = text.encode()
    assert [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == [
        "https://www.vlaanderen.be/mest",
        "https://nl.wikipedia.org/wiki/Mest_(stof)",
    ]
    assert [f["features"][0]["uri"] for f in facets] == [
        "https://www.vlaanderen.be/mest",
        "https://nl.wikipedia.org/wiki/Mest_(stof)",
    ]
    assert (
        facets[0]["index"]["byteStart"]
        == len("Één vraag 🌍: zie ".encode())
        != len("Één vraag 🌍: zie ")
    )


async def test_reply_record_shape_and_link(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    ours = {"uri": f"at://{DID}/app.bsky.feed.post/3lroot", "cid": "bafyroot"}
    bsky.notifications = [notification(1, "reply", reply={"root": ours, "parent": ours})]
    src = source(tmp_path, feed_server)
    [item] = await fetch(src, client)
    text = "Dag 👋 René, meer uitleg op https://www.vlaanderen.be/mestbank. Groeten, VLM"
    link = await src.reply(client, mention_for(item), text)
    assert link == "https://bsky.app/profile/vlaanderen.bsky.social/post/3lreply1"
    [sent] = bsky.created
    assert sent["repo"] == DID and sent["collection"] == "app.bsky.feed.post"
    record = sent["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == text
    assert record["reply"] == {"root": ours, "parent": {"uri": item.ref, "cid": "bafyreicid1"}}
    assert record["langs"] == ["nl"]
    assert datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00")).tzinfo is not None
    [facet] = record["facets"]
    span = text.encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]]
    assert span.decode() == facet["features"][0]["uri"] == "https://www.vlaanderen.be/mestbank"
    assert (
        bsky.calls("com.atproto.repo.createRecord")[0].headers["authorization"] == "Bearer access-1"
    )


async def test_reply_to_a_top_level_post_uses_it_as_root(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    bsky.notifications = [notification(1, "mention")]
    src = source(tmp_path, feed_server)
    [item] = await fetch(src, client)
    bsky.expire_access()  # the reply renews the session like any call
    await src.reply(client, mention_for(item), "Bedankt!")
    parent = {"uri": item.ref, "cid": "bafyreicid1"}
    assert bsky.created[0]["record"]["reply"] == {"root": parent, "parent": parent}
    assert "facets" not in bsky.created[0]["record"]
    assert len(bsky.calls("com.atproto.repo.createRecord")) == 2


async def test_reply_over_300_graphemes_is_refused_before_sending(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    src = source(tmp_path, feed_server)
    mention = mention_for(post_item(post_view(1))[0])
    assert (await src.reply(client, mention, "👍🏽" * 300)).startswith("https://")  # 300 is fine
    with pytest.raises(SourceError, match="301 characters.*300.*shorten"):
        await src.reply(client, mention, "é" * 301)
    with pytest.raises(SourceError, match="bytes"):
        await src.reply(client, mention, "👨‍👩‍👧‍👦" * 150 + "x" * 100)  # few graphemes, many bytes
    assert len(bsky.created) == 1


async def test_dry_run_builds_the_reply_and_sends_nothing(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    src = source(tmp_path, feed_server, replies="dry-run")
    assert src.can_reply
    mention = mention_for(post_item(post_view(1))[0])
    said = await src.reply(client, mention, "Zie https://www.vlaanderen.be/mestbank")
    assert said.startswith("dry run: ") and mention.url in said and "1 link" in said
    live = source(tmp_path, feed_server)
    assert (await live.reply(client, mention, "Dag", dry_run=True)).startswith("dry run: ")
    with pytest.raises(SourceError, match="shorten"):
        await src.reply(client, mention, "x" * 301)
    assert feed_server.requests == []


async def test_reply_refusals(
    tmp_path: Path, feed_server: FeedServer, bsky: FakeBluesky, client: httpx.AsyncClient
) -> None:
    mention = mention_for(post_item(post_view(1))[0])
    off = source(tmp_path, feed_server, replies="off")
    assert not off.can_reply
    with pytest.raises(SourceError, match="off"):
        await off.reply(client, mention, "Dag")
    mention = mention.replaced(reply_meta={})
    with pytest.raises(SourceError, match="cid"):
        await source(tmp_path, feed_server).reply(client, mention, "Dag")
    assert feed_server.requests == []
