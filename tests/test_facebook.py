"""The Facebook source against a real HTTP server on loopback, answering in the Graph API's JSON."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.facebook import FacebookSource
from sources.source import OptionError, SourceError

PAGE = "1234567890"
V = "/v21.0"
JSON = "application/json; charset=UTF-8"


@pytest.fixture(autouse=True)
def token(monkeypatch) -> None:
    monkeypatch.setenv("FB_TOKEN", "page-token")


def make_source(make_config, **options: object) -> FacebookSource:
    options = {"page_id": PAGE, "page_token_env": "FB_TOKEN", **options}
    lines = ["[[sources]]", 'type = "facebook"', 'name = "fb"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items() if value is not None]
    config = make_config("\n".join(lines) + "\n")
    return FacebookSource.from_config(config.sources[0], config)


def graph_time(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def fb_comment(n: int, seconds_ago: float, parent: str = "", **fields: object) -> dict:
    data = {
        "id": f"555_{n}",
        "message": f"Vraag {n} over de mestbank",
        "from": {"name": f"Burger {n}", "id": f"90{n}"},
        "created_time": graph_time(seconds_ago),
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/555?comment_id={n}",
    }
    if parent:
        data["parent"] = {
            "created_time": graph_time(seconds_ago + 60),
            "message": "…",
            "id": parent,
        }
    data.update(fields)
    return data


def serve_posts(feed_server: FeedServer) -> None:
    posts = {
        "data": [
            {
                "id": "555",
                "message": "Nieuwe regels voor de mestbank\nLees meer op vlm.be",
                "permalink_url": f"https://www.facebook.com/{PAGE}/posts/555",
                "created_time": graph_time(3 * 86400),
            }
        ],
        "paging": {"cursors": {"before": "b", "after": "a"}},
    }
    feed_server.serve(f"{V}/{PAGE}/posts", json.dumps(posts).encode(), content_type=JSON)


class Comments:
    """/{post}/comments over `comments` (newest first): `since`, `limit`, cursor paging with
    a paging.next that carries the token, as Facebook's does."""

    def __init__(self, feed_server: FeedServer, comments: list[dict], size: int = 100) -> None:
        self.server, self.comments, self.size = feed_server, comments, size

    def __call__(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        since = int(p.get("since", 0))
        matching = [
            c
            for c in self.comments
            if datetime.strptime(c["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp() >= since
        ]
        ids = [c["id"] for c in matching]
        start = ids.index(p["after"]) + 1 if "after" in p else 0
        chunk = matching[start : start + self.size]
        body: dict = {
            "data": chunk,
            "paging": {"cursors": {"before": "x", "after": chunk[-1]["id"] if chunk else ""}},
        }
        if start + self.size < len(matching):
            query = {**p, "after": chunk[-1]["id"], "access_token": "page-token"}
            body["paging"]["next"] = (
                self.server.url(request.path) + "?" + "&".join(f"{k}={v}" for k, v in query.items())
            )
        return Response(body=json.dumps(body).encode(), content_type=JSON)


def conversations(*convs: tuple[str, float, list[tuple[str, str, float, str]]]) -> bytes:
    """conversations?fields=messages{…},updated_time: (id, updated seconds ago, [(message id,
    sender id, seconds ago, text)]), newest first."""
    data = []
    for conv_id, updated, messages in convs:
        data.append(
            {
                "messages": {
                    "data": [
                        {
                            "message": text,
                            "from": {
                                "name": "VLM" if sender == PAGE else f"Persoon {sender}",
                                "email": f"{sender}@facebook.com",
                                "id": sender,
                            },
                            "created_time": graph_time(ago),
                            "id": mid,
                        }
                        for mid, sender, ago, text in messages
                    ],
                    "paging": {"cursors": {"before": "x", "after": "y"}},
                },
                "updated_time": graph_time(updated),
                "id": conv_id,
            }
        )
    return json.dumps({"data": data, "paging": {"cursors": {"before": "x", "after": "y"}}}).encode()


def graph_error(
    message: str, code: int, subcode: int | None = None, kind: str = "OAuthException"
) -> bytes:
    error: dict = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbC"}
    if subcode:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


async def fetch(source: FacebookSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config)
    assert (source.type, source.page_id, source.api) == (
        "facebook",
        PAGE,
        "https://graph.facebook.com/v21.0",
    )
    assert (source.posts, source.comments, source.messages, source.backlog) == (
        10,
        True,
        True,
        86400,
    )
    assert (source.interval, source.keyword_filter, source.replies) == (300, False, "send")
    assert source.can_reply


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"page_id": None}, "page_id"),
        ({"page_id": "vlm.be"}, "page_id"),
        ({"page_token_env": None}, "page_token_env"),
        ({"posts": 0}, "posts"),
        ({"comments": False, "messages": False}, "comments"),
        ({"backlog": "forever"}, "backlog"),
        ({"replies": "sometimes"}, "replies"),
        ({"token": "abc"}, "token"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


async def test_a_missing_token_says_which_variable(make_config, monkeypatch) -> None:
    monkeypatch.delenv("FB_TOKEN")
    source = make_source(make_config)
    assert source.can_reply is False
    with pytest.raises(
        SourceError, match="^Facebook: the environment variable FB_TOKEN is not set$"
    ):
        await fetch(source)


# --- comments ----------------------------------------------------------------------------


async def test_comments_become_items(make_config, feed_server: FeedServer) -> None:
    serve_posts(feed_server)
    comments = [
        fb_comment(3, 60, parent="555_1"),
        fb_comment(2, 120, message="<b>[bold]Schandalig[/bold]</b>\x1b[31m", **{"from": None}),
        fb_comment(1, 180),
        fb_comment(0, 3 * 86400),  # older than the first poll's backlog
    ]
    feed_server.route(f"{V}/555/comments", Comments(feed_server, comments))
    source = make_source(make_config, api=feed_server.base + V, messages=False)
    reply, hostile, first = await fetch(source)
    assert (first.key, first.ref, first.in_reply_to) == ("555_1", "555_1", "555")
    assert first.url == f"https://www.facebook.com/{PAGE}/posts/555?comment_id=1"
    assert (first.channel, first.author, first.text) == (
        "facebook",
        "Burger 1",
        "Vraag 1 over de mestbank",
    )
    assert first.title == "Nieuwe regels voor de mestbank"  # the post it is about
    assert first.published_at is not None and first.published_at.tzinfo is not None
    assert first.reply_meta == {
        "kind": "comment",
        "comment_id": "555_1",
        "target": "555_1",
        "post_id": "555",
        "from_id": "901",
    }
    assert reply.in_reply_to == "555_1" and reply.reply_meta["target"] == "555_1"
    assert hostile.author == "Facebook user"  # `from` withheld
    assert hostile.text == "<b>[bold]Schandalig[/bold]</b>\x1b[31m"  # left for intake
    request = feed_server.requests_for(f"{V}/555/comments")[0]
    params = {k: v[0] for k, v in request.params.items()}
    assert params["filter"] == "stream" and params["order"] == "reverse_chronological"
    assert params["fields"] == "id,message,from,created_time,permalink_url,parent"
    assert abs(int(params["since"]) - (time.time() - 86400 - 600)) < 30
    assert request.headers["authorization"] == "Bearer page-token" and "access_token" not in params
    posts_request = feed_server.requests_for(f"{V}/{PAGE}/posts")[0]
    assert posts_request.params["limit"] == ["10"]


async def test_comments_page_and_poll_incrementally(make_config, feed_server: FeedServer) -> None:
    serve_posts(feed_server)
    comments = [fb_comment(n, 1000 - n) for n in range(9, 0, -1)]
    feed_server.route(f"{V}/555/comments", Comments(feed_server, comments, size=4))
    source = make_source(make_config, api=feed_server.base + V, messages=False)
    assert [i.ref for i in await fetch(source)] == [f"555_{n}" for n in range(9, 0, -1)]
    requests = feed_server.requests_for(f"{V}/555/comments")
    assert len(requests) == 3
    assert requests[1].params["after"] == ["555_6"] and "access_token" not in requests[1].params
    # The next poll asks since the newest seen (less the overlap) and repeats nothing.
    comments[:0] = [fb_comment(10, 5)]
    assert [i.ref for i in await fetch(source)] == ["555_10"]
    since = int(feed_server.requests_for(f"{V}/555/comments")[-1].params["since"][0])
    assert abs(since - (time.time() - 991 - 600)) < 30
    assert await fetch(source) == []
    source.rewind()
    assert await fetch(source) == []  # the last fetch brought nothing; nothing to bring again
    comments[:0] = [fb_comment(11, 1)]
    assert len(await fetch(source)) == 1
    source.rewind()
    assert [i.ref for i in await fetch(source)] == ["555_11"]


async def test_paging_never_leaves_the_api_host(make_config, feed_server: FeedServer) -> None:
    serve_posts(feed_server)
    page = {
        "data": [fb_comment(1, 10)],
        "paging": {
            "next": "https://evil.example/v21.0/555/comments?access_token=page-token&after=x"
        },
    }
    feed_server.serve(f"{V}/555/comments", json.dumps(page).encode(), content_type=JSON)
    source = make_source(make_config, api=feed_server.base + V, messages=False)
    assert len(await fetch(source)) == 1


# --- messages ----------------------------------------------------------------------------


async def test_messages_become_items(make_config, feed_server: FeedServer) -> None:
    body = conversations(
        (
            "t_1",
            30,
            [
                ("m_3", PAGE, 30, "Dag, we bekijken het."),
                ("m_2", "7001", 60, "[bold]Hallo?[/bold]"),
                ("m_1", "7001", 90, ""),
            ],
        ),
        ("t_0", 5 * 86400, [("m_0", "7002", 5 * 86400, "Oud bericht")]),
    )
    feed_server.serve(f"{V}/{PAGE}/conversations", body, content_type=JSON)
    source = make_source(make_config, api=feed_server.base + V, comments=False)
    second, first = await fetch(source)
    assert (second.key, second.ref, second.url, second.author) == ("m_2", "m_2", "", "Persoon 7001")
    assert second.text == "[bold]Hallo?[/bold]"
    assert second.reply_meta == {
        "kind": "message",
        "recipient_id": "7001",
        "conversation_id": "t_1",
    }
    assert first.text.startswith("(a message without text")
    params = {
        k: v[0] for k, v in feed_server.requests_for(f"{V}/{PAGE}/conversations")[0].params.items()
    }
    assert params["platform"] == "messenger"
    assert params["fields"] == "messages{message,from,created_time,id},updated_time"
    assert await fetch(source) == []  # nothing new: nothing twice
    feed_server.serve(
        f"{V}/{PAGE}/conversations",
        conversations(
            (
                "t_1",
                2,
                [
                    ("m_4", "7001", 2, "Nog iets"),
                    ("m_3", PAGE, 30, "Dag"),
                    ("m_2", "7001", 60, "Hallo?"),
                ],
            )
        ),
        content_type=JSON,
    )
    assert [i.ref for i in await fetch(source)] == ["m_4"]


# --- errors and rate limits ----------------------------------------------------------------


async def test_rate_limit_waits_for_the_estimated_time(
    make_config, feed_server: FeedServer
) -> None:
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    feed_server.serve(
        f"{V}/{PAGE}/posts",
        graph_error("(#32) Page request limit reached", 32, kind="OAuthException"),
        status=400,
        headers={
            "x-business-use-case-usage": json.dumps(usage),
            "x-app-usage": '{"call_count":12,"total_cputime":3,"total_time":4}',
        },
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base + V)
    with pytest.raises(
        SourceError, match="rate-limited by Facebook \\(code 32\\) for 420 s"
    ) as info:
        await fetch(source)
    assert info.value.retry_after == 420
    # Without an estimate: a quarter of an hour.
    feed_server.serve(
        f"{V}/{PAGE}/posts",
        graph_error("(#4) Application request limit reached", 4),
        status=403,
        content_type=JSON,
    )
    with pytest.raises(SourceError, match="code 4") as info:
        await fetch(source)
    assert info.value.retry_after == 900


async def test_usage_at_its_limit_pauses_before_the_error(
    make_config, feed_server: FeedServer
) -> None:
    feed_server.serve(
        f"{V}/{PAGE}/conversations",
        conversations(),
        headers={"x-app-usage": '{"call_count":100,"total_cputime":40,"total_time":45}'},
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base + V, comments=False)
    assert await fetch(source) == []
    assert source.pause_s == 900
    feed_server.serve(
        f"{V}/{PAGE}/conversations",
        conversations(),
        headers={"x-app-usage": '{"call_count":40}'},
        content_type=JSON,
    )
    await fetch(source)
    assert source.pause_s is None


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            graph_error(
                "Error validating access token: Session has expired on Monday, 02-Mar-26 09:00:00 PST.",
                190,
                463,
            ),
            "the page access token has expired or was revoked (code 190): make a new one and put it in FB_TOKEN",
        ),
        (
            403,
            graph_error("(#10) This endpoint requires the 'pages_read_engagement' permission", 10),
            "(#10) This endpoint requires the 'pages_read_engagement' permission (code 10, HTTP 403): the page token lacks a permission",
        ),
        (500, b"<html><body>Sorry, something went wrong.</body></html>", "HTTP 500"),
    ],
)
async def test_errors_are_clear(
    make_config, feed_server: FeedServer, status: int, body: bytes, message: str
) -> None:
    feed_server.serve(f"{V}/{PAGE}/posts", body, status=status, content_type=JSON)
    with pytest.raises(SourceError, match="^Facebook posts: ") as info:
        await fetch(make_source(make_config, api=feed_server.base + V))
    assert message in str(info.value) and "page-token" not in str(info.value)


# --- replying ------------------------------------------------------------------------------


def mention(**meta: str) -> SimpleNamespace:
    return SimpleNamespace(
        ref=meta.get("comment_id", "m_2"), reply_meta=meta, author="Burger", url=""
    )


async def test_reply_to_a_comment(make_config, feed_server: FeedServer) -> None:
    feed_server.serve(f"{V}/555_1/comments", b'{"id": "555_77"}', content_type=JSON)
    source = make_source(make_config, api=feed_server.base + V)
    async with httpx.AsyncClient() as client:
        new_id = await source.reply(
            client,
            mention(kind="comment", comment_id="555_3", target="555_1", post_id="555"),
            "Dag & welkom",
        )
    assert new_id == "555_77"
    (request,) = feed_server.requests_for(f"{V}/555_1/comments")
    assert request.method == "POST" and request.params == {}
    assert request.body == b"message=Dag+%26+welkom"
    assert request.headers["authorization"] == "Bearer page-token"


async def test_reply_to_a_message(make_config, feed_server: FeedServer) -> None:
    feed_server.serve(
        f"{V}/{PAGE}/messages", b'{"recipient_id": "7001", "message_id": "m_99"}', content_type=JSON
    )
    source = make_source(make_config, api=feed_server.base + V)
    meta = {"kind": "message", "recipient_id": "7001", "conversation_id": "t_1"}
    async with httpx.AsyncClient() as client:
        assert await source.reply(client, mention(**meta), "Dag, hier is het antwoord.") == "m_99"
        (request,) = feed_server.requests_for(f"{V}/{PAGE}/messages")
        assert request.json() == {
            "recipient": {"id": "7001"},
            "message": {"text": "Dag, hier is het antwoord."},
            "messaging_type": "RESPONSE",
        }
        # Outside Messenger's 24-hour window Facebook refuses; the desk says why.
        feed_server.serve(
            f"{V}/{PAGE}/messages",
            graph_error("(#10) This message is sent outside of allowed window.", 10, 2018278),
            status=400,
            content_type=JSON,
        )
        with pytest.raises(
            SourceError,
            match="^Facebook refused the message: .*within 24 hours of the person's last message$",
        ):
            await source.reply(client, mention(**meta), "Dag")
        with pytest.raises(SourceError, match="at most 2000 characters"):
            await source.reply(client, mention(**meta), "x" * 2001)


async def test_dry_run_and_off_send_nothing(make_config, feed_server: FeedServer) -> None:
    feed_server.serve(f"{V}/555_1/comments", b'{"id": "555_77"}', content_type=JSON)
    feed_server.serve(f"{V}/{PAGE}/messages", b'{"message_id": "m_99"}', content_type=JSON)
    dry = make_source(make_config, api=feed_server.base + V, replies="dry-run")
    comment_meta = {"kind": "comment", "comment_id": "555_1", "target": "555_1", "post_id": "555"}
    async with httpx.AsyncClient() as client:
        said = await dry.reply(client, mention(**comment_meta), "Dag")
        assert said == "dry run: POST /555_1/comments, a reply comment to 555_1 (3 characters)"
        said = await dry.reply(client, mention(kind="message", recipient_id="7001"), "Dag")
        assert said.startswith("dry run: POST /1234567890/messages") and "7001" in said
        sender = make_source(make_config, api=feed_server.base + V)
        assert (
            await sender.reply(client, mention(**comment_meta), "Dag", dry_run=True)
        ).startswith("dry run")
        off = make_source(make_config, api=feed_server.base + V, replies="off")
        assert off.can_reply is False
        with pytest.raises(SourceError, match="replies are off"):
            await off.reply(client, mention(**comment_meta), "Dag")
        with pytest.raises(SourceError, match="lacks what a reply needs"):
            await sender.reply(client, mention(kind="comment"), "Dag")
    assert feed_server.requests_for(f"{V}/555_1/comments") == []
    assert feed_server.requests_for(f"{V}/{PAGE}/messages") == []


# --- checkpoints -----------------------------------------------------------------------------


async def test_a_restart_resumes_from_the_checkpoint(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    import sources.facebook as facebook

    serve_posts(feed_server)
    comments = [fb_comment(n, 3000 - 60 * n) for n in range(3, 0, -1)]
    feed_server.route(f"{V}/555/comments", Comments(feed_server, comments))
    feed_server.serve(
        f"{V}/{PAGE}/conversations",
        conversations(("t_1", 2000, [("m_1", "7001", 2000, "Hallo?")])),
        content_type=JSON,
    )
    options = {"api": feed_server.base + V, "backlog": "1h"}
    source = make_source(make_config, **options)
    assert [i.ref for i in await fetch(source)] == ["555_3", "555_2", "555_1", "m_1"]
    state = json.loads(json.dumps(source.checkpoint()))  # plain JSON, as the poller saves it
    assert state["page_id"] == PAGE and state["seen"] == ["m_1", "555_1", "555_2", "555_3"]
    assert abs(state["comments_since"] - (time.time() - 2820)) < 30
    assert abs(state["messages_since"] - (time.time() - 2000)) < 30
    # While the collector was down: new comments and a message. It starts again two hours on
    # (the clock moved), so with a backlog of one hour a fresh start would not reach them.
    comments[:0] = [fb_comment(n, 2500 - 60 * n) for n in range(9, 3, -1)]
    feed_server.serve(
        f"{V}/{PAGE}/conversations",
        conversations(
            ("t_1", 1500, [("m_2", "7001", 1500, "Nog iets"), ("m_1", "7001", 2000, "Hallo?")])
        ),
        content_type=JSON,
    )
    later = time.time() + 7200
    monkeypatch.setattr(facebook, "time", SimpleNamespace(time=lambda: later))
    restarted = make_source(make_config, **options)
    restarted.resume(state)
    got = [i.ref for i in await fetch(restarted)]
    assert got == [f"555_{n}" for n in range(9, 3, -1)] + ["m_2"]  # all of them, none twice
    assert await fetch(restarted) == []
    # Without the checkpoint, the backlog rule would have cut them.
    fresh = make_source(make_config, **options)
    assert await fetch(fresh) == []


async def test_a_checkpoint_of_another_page_or_garbage_is_ignored(
    make_config, feed_server: FeedServer
) -> None:
    serve_posts(feed_server)
    feed_server.route(f"{V}/555/comments", Comments(feed_server, [fb_comment(1, 60)]))
    source = make_source(make_config, api=feed_server.base + V, messages=False)
    await fetch(source)
    state = source.checkpoint()
    day_one = {"page_id": PAGE, "comments_since": None, "messages_since": None, "seen": []}
    garbage = [
        {},
        {"page_id": PAGE},
        {**state, "comments_since": "yesterday"},
        {**state, "comments_since": True},
        {**state, "messages_since": float("nan")},
        {**state, "seen": "555_1"},
        {**state, "seen": [1, 2]},
        {**state, "page_id": 1234567890},
        {**state, "page_id": "999"},  # the entry reads another page now
    ]
    for bad in garbage:
        fresh = make_source(make_config, api=feed_server.base + V, messages=False)
        fresh.resume(bad)
        assert fresh.checkpoint() == day_one
        assert [i.ref for i in await fetch(fresh)] == ["555_1"]  # as on day one


async def test_rewind_puts_the_checkpoint_back(make_config, feed_server: FeedServer) -> None:
    serve_posts(feed_server)
    comments = [fb_comment(1, 60)]
    feed_server.route(f"{V}/555/comments", Comments(feed_server, comments))
    source = make_source(make_config, api=feed_server.base + V, messages=False)
    await fetch(source)
    saved = source.checkpoint()
    comments.insert(0, fb_comment(2, 5))
    assert len(await fetch(source)) == 1
    assert source.checkpoint() != saved
    source.rewind()
    assert source.checkpoint() == saved
