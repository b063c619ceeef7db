"""The X source against a real HTTP server on loopback, answering in the X API v2's JSON."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

import sources.x
from sources.source import OptionError, SourceError
from sources.x import XSource

SEARCH = "/2/tweets/search/recent"
JSON = "application/json; charset=utf-8"


@pytest.fixture(autouse=True)
def tokens(monkeypatch) -> None:
    monkeypatch.setenv("X_BEARER", "app-bearer")
    monkeypatch.delenv("X_USER", raising=False)


def make_source(make_config, **options: object) -> XSource:
    options = {"query": "VLM -is:retweet", "bearer_token_env": "X_BEARER", **options}
    lines = ["[[sources]]", 'type = "x"', 'name = "x"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    return XSource.from_config(config.sources[0], config)


def tweet(n: int, **fields: object) -> dict:
    data = {
        "id": str(1000 + n),
        "text": f"Vraag aan VLM nummer {n}",
        "author_id": f"u{n % 3}",
        "created_at": f"2026-03-02T09:{n % 60:02d}:00.000Z",
        "conversation_id": str(1000 + n),
        "edit_history_tweet_ids": [str(1000 + n)],
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0},
        "lang": "nl",
    }
    data.update(fields)
    return data


def user(i: int) -> dict:
    return {
        "id": f"u{i}",
        "username": f"burger{i}",
        "name": f"Burger {i}",
        "public_metrics": {
            "followers_count": 100 * (i + 1),
            "following_count": 5,
            "tweet_count": 9,
        },
    }


class Search:
    """X's recent search over `tweets`: since_id, max_results and next_token paging, newest
    first, authors in includes.users, meta as X sends it."""

    def __init__(self, tweets: list[dict], headers: dict[str, str] | None = None) -> None:
        self.tweets = tweets
        self.headers = headers or {}

    def __call__(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        since = int(p.get("since_id", 0))
        matching = sorted(
            (t for t in self.tweets if int(t["id"]) > since), key=lambda t: -int(t["id"])
        )
        # A token is a position in the results (below a post), as X's are: posts that arrive
        # meanwhile do not shift the pages.
        below = int(p.get("next_token", "below-99999999").removeprefix("below-"))
        older = [t for t in matching if int(t["id"]) < below]
        size = int(p["max_results"])
        chunk = older[:size]
        meta: dict = {"result_count": len(chunk)}
        if chunk:
            meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if len(older) > size:
            meta["next_token"] = f"below-{chunk[-1]['id']}"
        body: dict = {"meta": meta}
        if chunk:
            authors = sorted({t["author_id"] for t in chunk})
            body["data"] = chunk
            body["includes"] = {"users": [user(int(a[1:])) for a in authors]}
        return Response(body=json.dumps(body).encode(), content_type=JSON, headers=self.headers)


async def fetch(source: XSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def mention(ref: str = "1005") -> SimpleNamespace:
    return SimpleNamespace(
        ref=ref, reply_meta={}, author="@burger1", url=f"https://x.com/burger1/status/{ref}"
    )


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config)
    assert (source.type, source.query, source.api) == ("x", "VLM -is:retweet", "https://api.x.com")
    assert (source.max_results, source.interval, source.keyword_filter) == (100, 300, True)
    assert source.bearer_token == "app-bearer" and source.replies == "send"
    assert source.can_reply is False  # a bearer token cannot post


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"query": ""}, "query"),
        ({"query": "x" * 600}, "query"),
        ({"bearer_token_env": None}, "bearer_token_env"),
        ({"max_results": 5}, "max_results"),
        ({"max_results": 500}, "max_results"),
        ({"replies": "maybe"}, "replies"),
        ({"api": "api.x.com"}, "api"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    options = {k: v for k, v in options.items()}
    lines = ["[[sources]]", 'type = "x"', 'name = "x"']
    merged = {"query": "VLM", "bearer_token_env": "X_BEARER", **options}
    lines += [f"{k} = {json.dumps(v)}" for k, v in merged.items() if v is not None]
    config = make_config("\n".join(lines) + "\n")
    with pytest.raises(OptionError, match=f"^{key}:"):
        XSource.from_config(config.sources[0], config)


async def test_a_missing_token_says_which_variable(make_config, monkeypatch) -> None:
    monkeypatch.delenv("X_BEARER")
    with pytest.raises(SourceError, match="^X: the environment variable X_BEARER is not set$"):
        await fetch(make_source(make_config))


# --- fetching ------------------------------------------------------------------------------


async def test_posts_become_items(make_config, feed_server: FeedServer) -> None:
    posts = [
        tweet(1, text="Klopt dit &amp; waarom? &lt;b&gt;[bold]VLM[/bold]\x1b[2J"),
        tweet(
            2,
            referenced_tweets=[
                {"type": "quoted", "id": "77"},
                {"type": "replied_to", "id": "1001"},
            ],
        ),
        tweet(4, text="Lang bericht…", note_tweet={"text": "Lang bericht over de mestbank " * 20}),
    ]
    feed_server.route(SEARCH, Search(posts))
    source = make_source(make_config, api=feed_server.base)
    newest, reply, first = await fetch(source)
    assert first.key == first.ref == "1001"
    assert first.url == "https://x.com/burger1/status/1001"
    assert (first.channel, first.author, first.author_name) == ("x", "@burger1", "Burger 1")
    assert first.reach == 200 and first.in_reply_to == ""
    assert first.published_at == datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    # Entities decoded; markup and escapes left for intake.
    assert first.text == "Klopt dit & waarom? <b>[bold]VLM[/bold]\x1b[2J"
    assert reply.in_reply_to == "1001" and reply.reach == 300
    assert newest.text == "Lang bericht over de mestbank " * 20  # the whole long post
    request = feed_server.requests_for(SEARCH)[0]
    assert request.headers["authorization"] == "Bearer app-bearer"
    params = {k: v[0] for k, v in request.params.items()}
    assert params["query"] == "VLM -is:retweet" and params["expansions"] == "author_id"
    assert params["max_results"] == "100" and "since_id" not in params
    assert (
        "referenced_tweets" in params["tweet.fields"] and "public_metrics" in params["user.fields"]
    )


async def test_incremental_with_since_id_and_paging(make_config, feed_server: FeedServer) -> None:
    posts = [tweet(n) for n in range(1, 26)]
    feed_server.route(SEARCH, Search(posts))
    source = make_source(make_config, api=feed_server.base, max_results=10)
    # The first poll: one page, the newest ten.
    assert [i.ref for i in await fetch(source)] == [str(1000 + n) for n in range(25, 15, -1)]
    assert len(feed_server.requests_for(SEARCH)) == 1
    # Then only what is newer, every page of it.
    posts += [tweet(n) for n in range(26, 48)]
    got = [i.ref for i in await fetch(source)]
    assert got == [str(1000 + n) for n in range(47, 25, -1)]
    requests = feed_server.requests_for(SEARCH)[1:]
    assert [r.params.get("since_id") for r in requests] == [["1025"]] * 3
    assert [r.params.get("next_token") for r in requests] == [None, ["below-1038"], ["below-1028"]]
    assert await fetch(source) == []
    assert feed_server.requests_for(SEARCH)[-1].params["since_id"] == ["1047"]


async def test_a_flood_longer_than_max_pages_goes_on_next_poll(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setattr(sources.x, "MAX_PAGES", 2)
    posts = [tweet(1)]
    feed_server.route(SEARCH, Search(posts))
    source = make_source(make_config, api=feed_server.base, max_results=10)
    assert len(await fetch(source)) == 1
    posts += [tweet(n) for n in range(2, 32)]  # 30 new: three pages
    first = [i.ref for i in await fetch(source)]
    posts.append(tweet(40))  # arrives while the flood is being read
    second = [i.ref for i in await fetch(source)]
    third = [i.ref for i in await fetch(source)]
    assert first == [str(1000 + n) for n in range(31, 11, -1)]
    assert second == [str(1000 + n) for n in range(11, 1, -1)]  # the rest, same since_id
    assert third == ["1040"]
    assert sorted(first + second + third) == sorted(t["id"] for t in posts[1:])


async def test_rewind_and_empty_results(make_config, feed_server: FeedServer) -> None:
    posts = [tweet(1)]
    feed_server.route(SEARCH, Search(posts))
    source = make_source(make_config, api=feed_server.base)
    assert len(await fetch(source)) == 1
    posts.append(tweet(2))
    assert len(await fetch(source)) == 1
    source.rewind()
    assert [i.ref for i in await fetch(source)] == ["1002"]
    assert await fetch(source) == []  # {"meta": {"result_count": 0}}: since_id stays
    assert feed_server.requests_for(SEARCH)[-1].params["since_id"] == ["1002"]


async def test_rate_limit_headers_and_429(make_config, feed_server: FeedServer) -> None:
    reset = int(time.time()) + 90
    spent = {
        "x-rate-limit-limit": "60",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset),
    }
    feed_server.route(SEARCH, Search([tweet(1)], spent))
    source = make_source(make_config, api=feed_server.base)
    assert len(await fetch(source)) == 1
    assert 80 < source.pause_s <= 90
    feed_server.serve(
        SEARCH,
        b'{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}',
        status=429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        content_type=JSON,
    )
    with pytest.raises(SourceError, match="^X search: rate-limited \\(HTTP 429\\)") as info:
        await fetch(source)
    assert 80 < info.value.retry_after <= 90
    feed_server.route(SEARCH, Search([tweet(1), tweet(2)], {"x-rate-limit-remaining": "59"}))
    assert [i.ref for i in await fetch(source)] == ["1002"] and source.pause_s is None


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            "HTTP 401 Unauthorized: check the bearer token in X_BEARER",
        ),
        (
            403,
            {
                "client_id": "123",
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.",
                "title": "Client Forbidden",
                "required_enrollment": "Appropriate Level of API Access",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
            "attached to a Project.: search needs X API access at the Basic level or higher",
        ),
        (
            400,
            {
                "errors": [
                    {
                        "parameters": {"query": ["VLM ("]},
                        "message": "There were errors processing your request: missing closing parenthesis",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            "HTTP 400 There were errors processing your request: missing closing parenthesis",
        ),
    ],
)
async def test_error_bodies_are_clear(
    make_config, feed_server: FeedServer, status: int, body: dict, message: str
) -> None:
    feed_server.serve(SEARCH, json.dumps(body).encode(), status=status, content_type=JSON)
    with pytest.raises(SourceError, match="^X search: ") as info:
        await fetch(make_source(make_config, api=feed_server.base))
    assert message in str(info.value)
    assert "app-bearer" not in str(info.value)


# --- replying ------------------------------------------------------------------------------


async def test_reply_posts_with_the_user_token(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("X_USER", "user-token")
    feed_server.serve(
        "/2/tweets",
        b'{"data": {"id": "1999", "text": "Dag, zie onze site.", "edit_history_tweet_ids": ["1999"]}}',
        status=201,
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base, user_token_env="X_USER")
    assert source.can_reply
    async with httpx.AsyncClient() as client:
        link = await source.reply(client, mention("1005"), "Dag, zie onze site.")
    assert link == "https://x.com/i/status/1999"
    (request,) = feed_server.requests_for("/2/tweets")
    assert request.method == "POST" and request.headers["authorization"] == "Bearer user-token"
    assert request.json() == {
        "text": "Dag, zie onze site.",
        "reply": {"in_reply_to_tweet_id": "1005"},
    }


async def test_reply_refusal_is_clear(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("X_USER", "user-token")
    feed_server.serve(
        "/2/tweets",
        b'{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}',
        status=403,
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base, user_token_env="X_USER")
    async with httpx.AsyncClient() as client:
        with pytest.raises(
            SourceError,
            match="^X refused the reply: HTTP 403: You are not allowed to create a Tweet with duplicate content.$",
        ):
            await source.reply(client, mention(), "Dag")


async def test_dry_run_and_off_send_nothing(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("X_USER", "user-token")
    feed_server.serve("/2/tweets", b'{"data": {"id": "1"}}', status=201, content_type=JSON)
    dry = make_source(make_config, api=feed_server.base, user_token_env="X_USER", replies="dry-run")
    assert dry.can_reply
    async with httpx.AsyncClient() as client:
        said = await dry.reply(client, mention("1005"), "Dag")
        assert said.startswith("dry run: ") and "1005" in said
        sender = make_source(make_config, api=feed_server.base, user_token_env="X_USER")
        assert (await sender.reply(client, mention(), "Dag", dry_run=True)).startswith("dry run: ")
        off = make_source(make_config, api=feed_server.base, user_token_env="X_USER", replies="off")
        assert off.can_reply is False
        with pytest.raises(SourceError, match="replies are off"):
            await off.reply(client, mention(), "Dag")
    assert feed_server.requests_for("/2/tweets") == []


# --- restarts: checkpoint and resume ---------------------------------------------------------


def restarted(make_config, state: dict, **options: object) -> XSource:
    """A new source for the same entry (as after a restart), given the saved checkpoint."""
    source = make_source(make_config, **options)
    source.resume(json.loads(json.dumps(state)))  # as the poller saves and reads it
    return source


async def test_a_restart_goes_on_from_the_checkpoint(make_config, feed_server: FeedServer) -> None:
    posts = [tweet(n) for n in range(1, 4)]
    feed_server.route(SEARCH, Search(posts))
    before = make_source(make_config, api=feed_server.base, max_results=10)
    first = await fetch(before)
    state = before.checkpoint()
    assert state == {"api": feed_server.base, "query": "VLM -is:retweet", "since_id": "1003",
                     "next_token": None, "newest": None}  # fmt: skip

    posts += [tweet(n) for n in range(4, 29)]  # while the collector was down: three pages
    after = restarted(make_config, state, api=feed_server.base, max_results=10)
    assert after.checkpoint() == state
    got = await fetch(after)
    assert feed_server.requests_for(SEARCH)[1].params["since_id"] == ["1003"]
    assert sorted(i.ref for i in got) == [str(1000 + n) for n in range(4, 29)]
    assert await fetch(after) == []
    refs = [i.ref for i in first + got]
    assert len(set(refs)) == len(refs) == 28  # every one, none twice


async def test_a_restart_in_the_middle_of_a_flood_reads_the_rest(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setattr(sources.x, "MAX_PAGES", 2)
    posts = [tweet(1)]
    feed_server.route(SEARCH, Search(posts))
    before = make_source(make_config, api=feed_server.base, max_results=10)
    await fetch(before)
    posts += [tweet(n) for n in range(2, 32)]  # three pages: two now, one after the restart
    first = await fetch(before)
    state = before.checkpoint()
    assert (state["since_id"], state["next_token"], state["newest"]) == (
        "1001",
        "below-1012",
        "1031",
    )
    after = restarted(make_config, state, api=feed_server.base, max_results=10)
    rest = await fetch(after)
    assert sorted(i.ref for i in first + rest) == sorted(t["id"] for t in posts[1:])
    assert after.checkpoint()["since_id"] == "1031"


def test_a_checkpoint_of_another_search_is_ignored(make_config) -> None:
    source = make_source(make_config)
    state = {**source.checkpoint(), "since_id": "1005"}
    for other in ({"query": "mestbank"}, {"api": "https://api.elders.example"}):
        fresh = restarted(make_config, state | other)
        assert fresh.checkpoint()["since_id"] is None
    assert restarted(make_config, state).checkpoint()["since_id"] == "1005"


@pytest.mark.parametrize(
    "state",
    [
        {},
        None,
        "since_id",
        {"since_id": "1005"},
        {"api": "https://api.x.com", "query": "VLM -is:retweet", "since_id": 1005},
        {"api": "https://api.x.com", "query": "VLM -is:retweet", "since_id": "10x5"},
        {
            "api": "https://api.x.com",
            "query": "VLM -is:retweet",
            "since_id": "1005",
            "next_token": 7,
        },
        {
            "api": "https://api.x.com",
            "query": "VLM -is:retweet",
            "since_id": "1005",
            "newest": ["1"],
        },
        {
            "api": "https://api.x.com",
            "query": "VLM -is:retweet",
            "since_id": None,
            "next_token": "t",
        },
    ],
)
async def test_an_unreadable_checkpoint_is_ignored(
    make_config, feed_server: FeedServer, state: object
) -> None:
    source = make_source(make_config)
    source.resume(state)  # type: ignore[arg-type]
    assert source.checkpoint()["since_id"] is None
    source.api = feed_server.base
    feed_server.route(SEARCH, Search([tweet(n) for n in range(1, 30)]))
    assert len(await fetch(source)) == 29  # the first poll, as on day one
    assert "since_id" not in feed_server.requests_for(SEARCH)[0].params


async def test_a_since_id_older_than_a_week_starts_over(
    make_config, feed_server: FeedServer
) -> None:
    posts = [tweet(n) for n in range(1, 30)]
    search = Search(posts)

    def recent(request: Request) -> Response:
        since = request.params.get("since_id")
        if since and int(since[0]) < 1020:  # X: since_id must be of the last seven days
            body = {"errors": [{"parameters": {"since_id": since},
                                "message": f"Invalid 'since_id':'{since[0]}'. 'since_id' must be a tweet id created after 2026-02-23T09:00Z."}],  # fmt: skip
                    "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request"}  # fmt: skip
            return Response(body=json.dumps(body).encode(), status=400, content_type=JSON)
        return search(request)

    feed_server.route(SEARCH, recent)
    state = make_source(make_config, api=feed_server.base).checkpoint() | {"since_id": "1003"}
    source = restarted(make_config, state, api=feed_server.base, max_results=10)
    got = await fetch(source)
    assert [i.ref for i in got] == [str(1000 + n) for n in range(29, 19, -1)]  # the first page
    assert source.checkpoint()["since_id"] == "1029"
    posts.append(tweet(30))
    assert [i.ref for i in await fetch(source)] == ["1030"]
