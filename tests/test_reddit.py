"""The Reddit source against a real HTTP server on loopback, answering in Reddit's listing JSON."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.reddit import RedditSource
from sources.source import OptionError, Replies, SourceError


def make_source(make_config, **options: object) -> RedditSource:
    lines = ["[[sources]]", 'type = "reddit"', 'name = "reddit"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    return RedditSource.from_config(config.sources[0], config)


def post(n: int, **fields: object) -> dict:
    """One t3 child as Reddit's listing JSON has it."""
    data = {
        "name": f"t3_p{n}",
        "id": f"p{n}",
        "title": f"VLM post {n}",
        "selftext": f"Over de mestbank, deel {n}",
        "permalink": f"/r/belgium/comments/p{n}/vlm_post_{n}/",
        "author": f"user{n}",
        "subreddit": "belgium",
        "subreddit_subscribers": 250000,
        "created_utc": 1767225600.0 + n,
        "url": f"https://www.reddit.com/r/belgium/comments/p{n}/vlm_post_{n}/",
        "is_self": True,
    }
    data.update(fields)
    return {"kind": "t3", "data": data}


def listing(posts: list[dict], after: str | None = None) -> bytes:
    return json.dumps(
        {
            "kind": "Listing",
            "data": {"after": after, "before": None, "dist": len(posts), "children": posts},
        }
    ).encode()


def pages(newest_first: list[dict], size: int, headers: dict[str, str] | None = None):
    """A route answering a search like Reddit: `limit` and `after` paging over `newest_first`."""

    def answer(request: Request) -> Response:
        after = request.params.get("after", [""])[0]
        names = [p["data"]["name"] for p in newest_first]
        start = names.index(after) + 1 if after else 0
        chunk = newest_first[start : start + size]
        more = start + size < len(newest_first)
        return Response(
            body=listing(chunk, chunk[-1]["data"]["name"] if more and chunk else None),
            content_type="application/json; charset=UTF-8",
            headers=headers or {},
        )

    return answer


async def fetch(source: RedditSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config, query="VLM")
    assert (source.type, source.name, source.query) == ("reddit", "reddit", "VLM")
    assert source.subreddits == [] and source.limit == 25
    assert (source.interval, source.timeout, source.keyword_filter) == (300, 20, True)
    assert source.api == "https://www.reddit.com" and not isinstance(source, Replies)  # reads only
    assert source.user_agent.startswith("python:webcare:")


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "query"),
        ({"query": " "}, "query"),
        ({"query": "VLM", "limit": 101}, "limit"),
        ({"query": "VLM", "subreddits": ["bel gium"]}, "subreddits"),
        ({"query": "VLM", "client_id_env": "RID"}, "client_secret_env"),
        ({"query": "VLM", "api": "reddit.com"}, "api"),
        ({"query": "VLM", "every": "often"}, "every"),
        ({"query": "VLM", "replies": "send"}, "replies"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


# --- fetching ------------------------------------------------------------------------------


async def test_posts_become_items(make_config, feed_server: FeedServer) -> None:
    link = post(2, selftext="", url="https://news.example.org/vlm", is_self=False)
    hostile = post(1, title="[bold red]VLM[/]", selftext="<script>x</script> \x1b[31mrood")
    feed_server.serve("/search.json", listing([link, hostile]), content_type="application/json")
    source = make_source(make_config, query="VLM", api=feed_server.base, user_agent="test-agent")
    first, second = await fetch(source)
    assert first.key == first.ref == "t3_p2"
    assert first.url == "https://www.reddit.com/r/belgium/comments/p2/vlm_post_2/"
    assert first.text == "https://news.example.org/vlm"  # a link post: what it links to
    assert (first.channel, first.author, first.title) == ("reddit", "u/user2", "VLM post 2")
    assert first.published_at == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert first.reach == 250000 and first.in_reply_to == ""
    # Markup and escapes are left for intake to clean.
    assert second.title == "[bold red]VLM[/]"
    assert second.text == "<script>x</script> \x1b[31mrood"
    request = feed_server.requests_for("/search.json")[0]
    assert request.params["q"] == ["VLM"] and request.params["sort"] == ["new"]
    assert request.params["limit"] == ["25"] and "restrict_sr" not in request.params
    assert request.headers["user-agent"] == "test-agent"


async def test_subreddits_are_searched_each_on_their_own(
    make_config, feed_server: FeedServer
) -> None:
    feed_server.serve("/r/belgium/search.json", listing([post(1)]), content_type="application/json")
    feed_server.serve(
        "/r/Vlaanderen/search.json", listing([post(2)]), content_type="application/json"
    )
    source = make_source(
        make_config, query="mestbank", subreddits=["r/belgium", "Vlaanderen"], api=feed_server.base
    )
    assert [i.ref for i in await fetch(source)] == ["t3_p1", "t3_p2"]
    for path in ("/r/belgium/search.json", "/r/Vlaanderen/search.json"):
        assert feed_server.requests_for(path)[0].params["restrict_sr"] == ["1"]


async def test_incremental_pages_until_known_without_loss_or_repeats(
    make_config, feed_server: FeedServer
) -> None:
    posts = [post(n) for n in range(10, 0, -1)]  # newest first
    feed_server.route("/search.json", pages(posts, 3))
    source = make_source(make_config, query="VLM", api=feed_server.base, limit=3)
    # The first poll reads one page only: a bounded backlog.
    assert [i.ref for i in await fetch(source)] == ["t3_p10", "t3_p9", "t3_p8"]
    assert len(feed_server.requests_for("/search.json")) == 1
    # Nothing new: one page, all known, no repeats.
    assert await fetch(source) == []
    # Five new posts: two pages until a known one, each delivered once.
    posts[:0] = [post(n) for n in range(15, 10, -1)]
    before = len(feed_server.requests_for("/search.json"))
    assert [i.ref for i in await fetch(source)] == [f"t3_p{n}" for n in range(15, 10, -1)]
    assert len(feed_server.requests_for("/search.json")) - before == 2
    assert feed_server.requests_for("/search.json")[-1].params["after"] == ["t3_p13"]
    # A post indexed late, below a known one on the newest page, still turns up.
    posts.insert(1, post(7, created_utc=1767225600.0 + 7.5, name="t3_late"))
    assert [i.ref for i in await fetch(source)] == ["t3_late"]


async def test_rewind_delivers_the_last_fetch_again(make_config, feed_server: FeedServer) -> None:
    feed_server.route("/search.json", pages([post(2), post(1)], 25))
    source = make_source(make_config, query="VLM", api=feed_server.base)
    assert len(await fetch(source)) == 2
    source.rewind()
    assert len(await fetch(source)) == 2
    assert await fetch(source) == []


async def test_spent_quota_pauses_and_stops_paging(make_config, feed_server: FeedServer) -> None:
    posts = [post(n) for n in range(6, 0, -1)]
    limits = {"x-ratelimit-remaining": "0.0", "x-ratelimit-used": "100", "x-ratelimit-reset": "42"}
    feed_server.route("/search.json", pages(posts, 2, limits))
    source = make_source(make_config, query="VLM", api=feed_server.base, limit=2)
    assert len(await fetch(source)) == 2
    assert source.pause_s == pytest.approx(42)
    feed_server.route("/search.json", pages(posts, 2, {"x-ratelimit-remaining": "99.0"}))
    assert await fetch(source) == [] and source.pause_s is None


async def test_429_keeps_the_cursor(make_config, feed_server: FeedServer) -> None:
    feed_server.serve("/r/a/search.json", listing([post(1)]), content_type="application/json")
    feed_server.serve(
        "/r/b/search.json",
        b'{"message": "Too Many Requests", "error": 429}',
        status=429,
        headers={"Retry-After": "30"},
        content_type="application/json",
    )
    source = make_source(make_config, query="VLM", subreddits=["a", "b"], api=feed_server.base)
    with pytest.raises(SourceError, match="Reddit search in r/b: rate-limited") as info:
        await fetch(source)
    assert info.value.retry_after == pytest.approx(30)
    feed_server.serve("/r/b/search.json", listing([post(2)]), content_type="application/json")
    assert [i.ref for i in await fetch(source)] == ["t3_p1", "t3_p2"]  # r/a's post not lost


@pytest.mark.parametrize(
    ("status", "body", "content_type", "message"),
    [
        (
            403,
            b'{"reason": "private", "message": "Forbidden", "error": 403}',
            "application/json",
            "HTTP 403, access refused: check the token or password (Forbidden)",
        ),
        (
            404,
            b'{"reason": "banned", "message": "Not Found", "error": 404}',
            "application/json",
            "HTTP 404 Not Found",
        ),
        (
            200,
            b"<html><body>whoa there, pardner!</body></html>",
            "text/html",
            "did not answer with JSON",
        ),
        (200, b'{"kind": "t1"}', "application/json", "not a Reddit listing"),
    ],
)
async def test_errors_are_clear(
    make_config, feed_server: FeedServer, status: int, body: bytes, content_type: str, message: str
) -> None:
    feed_server.serve("/r/gone/search.json", body, status=status, content_type=content_type)
    source = make_source(make_config, query="VLM", subreddits=["gone"], api=feed_server.base)
    with pytest.raises(SourceError, match="^Reddit search in r/gone: ") as info:
        await fetch(source)
    assert message in str(info.value)


async def test_app_only_oauth(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("RID", "my-client")
    monkeypatch.setenv("RSECRET", "s3cret")
    tokens = iter(["tok-1", "tok-2"])
    feed_server.route(
        "/api/v1/access_token",
        lambda req: Response(
            body=json.dumps(
                {
                    "access_token": next(tokens),
                    "token_type": "bearer",
                    "expires_in": 86400,
                    "scope": "*",
                }
            ).encode(),
            content_type="application/json",
        ),
    )

    def search(request: Request) -> Response:
        if (
            request.headers.get("authorization") != "bearer tok-2"
            and len(feed_server.requests_for("/search.json")) == 2
        ):
            return Response(
                status=401,
                body=b'{"message": "Unauthorized", "error": 401}',
                content_type="application/json",
            )
        return Response(
            body=listing([post(len(feed_server.requests_for("/search.json")))]),
            content_type="application/json",
        )

    feed_server.route("/search.json", search)
    source = make_source(
        make_config,
        query="VLM",
        api=feed_server.base,
        oauth_api=feed_server.base,
        client_id_env="RID",
        client_secret_env="RSECRET",
    )
    assert len(await fetch(source)) == 1
    token_request = feed_server.requests_for("/api/v1/access_token")[0]
    assert token_request.method == "POST" and token_request.body == b"grant_type=client_credentials"
    assert (
        token_request.headers["authorization"]
        == "Basic " + base64.b64encode(b"my-client:s3cret").decode()
    )
    assert feed_server.requests_for("/search.json")[0].headers["authorization"] == "bearer tok-1"
    # The token expired early (401): one new token, the request again.
    assert len(await fetch(source)) == 1
    assert len(feed_server.requests_for("/api/v1/access_token")) == 2
    assert feed_server.requests_for("/search.json")[-1].headers["authorization"] == "bearer tok-2"


async def test_oauth_refusals_are_clear(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("RID", "my-client")
    monkeypatch.delenv("RSECRET", raising=False)
    options = {
        "query": "VLM",
        "api": feed_server.base,
        "client_id_env": "RID",
        "client_secret_env": "RSECRET",
    }
    with pytest.raises(
        SourceError, match="^Reddit OAuth: the environment variable RSECRET is not set$"
    ):
        await fetch(make_source(make_config, **options))
    monkeypatch.setenv("RSECRET", "wrong")
    feed_server.serve(
        "/api/v1/access_token", b'{"error": "invalid_grant"}', content_type="application/json"
    )
    with pytest.raises(
        SourceError, match="refused \\(invalid_grant\\): check the client id"
    ) as info:
        await fetch(make_source(make_config, **options))
    assert "wrong" not in str(info.value)


def test_replies_are_not_sent(make_config) -> None:
    from sources.replies import repliers

    source = make_source(make_config, query="VLM")
    assert not isinstance(source, Replies) and repliers([source]) == {}  # the desk offers none


# --- checkpoints -----------------------------------------------------------------------------


async def test_a_restart_resumes_from_the_checkpoint(make_config, feed_server: FeedServer) -> None:
    posts = [post(n) for n in range(5, 0, -1)]
    feed_server.route("/r/belgium/search.json", pages(posts, 3))
    feed_server.route("/r/Vlaanderen/search.json", pages([post(100)], 3))
    options = {"query": "VLM", "subreddits": ["belgium", "Vlaanderen"], "limit": 3}
    source = make_source(make_config, api=feed_server.base, **options)
    assert [i.ref for i in await fetch(source)] == ["t3_p5", "t3_p4", "t3_p3", "t3_p100"]
    state = json.loads(json.dumps(source.checkpoint()))  # plain JSON, as the poller saves it
    assert state == {
        "query": "VLM",
        "targets": {"Vlaanderen": ["t3_p100"], "belgium": ["t3_p5", "t3_p4", "t3_p3"]},
    }
    # While the collector was down: eight new posts, more than the first poll's one page.
    posts[:0] = [post(n) for n in range(13, 5, -1)]
    restarted = make_source(make_config, api=feed_server.base, **options)
    restarted.resume(state)
    got = [i.ref for i in await fetch(restarted)]
    assert got == [f"t3_p{n}" for n in range(13, 5, -1)]  # all of them, none twice
    assert await fetch(restarted) == []
    assert restarted.checkpoint()["targets"]["belgium"][:2] == ["t3_p13", "t3_p12"]


async def test_a_checkpoint_of_another_query_or_garbage_is_ignored(
    make_config, feed_server: FeedServer
) -> None:
    posts = [post(n) for n in range(6, 0, -1)]
    feed_server.route("/search.json", pages(posts, 2))
    source = make_source(make_config, query="VLM", api=feed_server.base, limit=2)
    await fetch(source)
    state = source.checkpoint()
    garbage = [
        {},
        {"query": "VLM"},
        {"query": "VLM", "targets": ["t3_p6"]},
        {"query": "VLM", "targets": {"": "t3_p6"}},
        {"query": "VLM", "targets": {"": [6, None]}},
        {"query": ["VLM"], "targets": {}},
        {**state, "query": "mestbank"},  # the entry searches something else now
    ]
    for bad in garbage:
        fresh = make_source(make_config, query="VLM", api=feed_server.base, limit=2)
        fresh.resume(bad)
        assert fresh.checkpoint() == {"query": "VLM", "targets": {}}
        # As on day one: one page only.
        assert [i.ref for i in await fetch(fresh)] == ["t3_p6", "t3_p5"]
    # A checkpoint of site-wide search does not apply to a subreddit.
    other = make_source(
        make_config, query="VLM", subreddits=["belgium"], api=feed_server.base, limit=2
    )
    other.resume(state)
    assert other.checkpoint() == {"query": "VLM", "targets": {}}


async def test_rewind_puts_the_checkpoint_back(make_config, feed_server: FeedServer) -> None:
    posts = [post(2), post(1)]
    feed_server.route("/search.json", pages(posts, 25))
    source = make_source(make_config, query="VLM", api=feed_server.base)
    await fetch(source)
    saved = source.checkpoint()
    posts.insert(0, post(3))
    assert len(await fetch(source)) == 1
    source.rewind()
    assert source.checkpoint() == saved
