"""The Instagram source against a real HTTP server on loopback, answering in the Instagram Graph
API's JSON (graph.facebook.com/v21.0: media, comments with their replies, tags, replies, hide)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.instagram import InstagramSource
from sources.source import OptionError, SourceError

ACCOUNT = "17841400000000001"
V = "/v21.0"
JSON = "application/json; charset=UTF-8"
OWN = "vlaamselandmaatschappij"


@pytest.fixture(autouse=True)
def token(monkeypatch) -> None:
    monkeypatch.setenv("IG_TOKEN", "ig-token")


def make_source(make_config, **options: object) -> InstagramSource:
    options = {"account_id": ACCOUNT, "token_env": "IG_TOKEN", **options}
    lines = ["[[sources]]", 'type = "instagram"', 'name = "ig"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items() if value is not None]
    config = make_config("\n".join(lines) + "\n")
    return InstagramSource.from_config(config.sources[0], config)


def ig_time(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def ig_comment(n: int, seconds_ago: float, username: str = "", **fields: object) -> dict:
    data = {
        "id": f"1790{n:04d}",
        "text": f"Vraag {n} over de mestbank",
        "username": username or f"burger{n}",
        "timestamp": ig_time(seconds_ago),
        "from": {"id": f"9{n:04d}", "username": username or f"burger{n}"},
    }
    data.update(fields)
    return data


class Graph:
    """The account's media, their comments (newest first, each with a `replies` list, as the
    comments edge gives them with field expansion) and the tags, answering as the Graph API
    does: cursor paging whose paging.next carries the token, comments_count counting replies,
    `POST /{comment}/replies` and `POST /{comment}?hide=…` answered and recorded."""

    def __init__(self, server: FeedServer, size: int = 100, reply_size: int = 25) -> None:
        self.server, self.size, self.reply_size = server, size, reply_size
        self.media: dict[str, dict] = {}
        self.comments: dict[str, list[dict]] = {}  # media id → top-level comments, newest first
        self.replies: dict[str, list[dict]] = {}  # comment id → replies, oldest first
        self.tags: list[dict] = []
        self.hidden: dict[str, bool] = {}
        self.usage: dict[str, str] = {}
        self.media_usage: dict[str, dict[str, str]] = {}  # media id → headers of its comments
        server.route(f"{V}/{ACCOUNT}/media", self.answer_media)
        server.route(f"{V}/{ACCOUNT}/tags", self.answer_tags)

    def add_media(self, media_id: str, caption: str, seconds_ago: float) -> None:
        self.media[media_id] = {
            "id": media_id,
            "caption": caption,
            "permalink": f"https://www.instagram.com/p/{media_id}/",
            "timestamp": ig_time(seconds_ago),
            "username": OWN,
        }
        self.comments.setdefault(media_id, [])
        self.server.route(f"{V}/{media_id}/comments", self.answer_comments)

    def add_comment(self, media_id: str, comment: dict, *, first: bool = True) -> None:
        listed = self.comments[media_id]
        listed.insert(0, comment) if first else listed.append(comment)
        self.replies.setdefault(comment["id"], [])
        self.server.route(f"{V}/{comment['id']}/replies", self.answer_replies)
        self.server.route(f"{V}/{comment['id']}", self.answer_hide)

    def add_reply(self, comment_id: str, reply: dict) -> None:
        self.replies[comment_id].append(reply)
        self.server.route(f"{V}/{reply['id']}", self.answer_hide)

    def reply_paths(self) -> list[Request]:
        return [r for r in self.server.requests if r.path.endswith("/replies")]

    def _json(self, body: object) -> Response:
        return Response(body=json.dumps(body).encode(), content_type=JSON, headers=dict(self.usage))

    def _page(self, request: Request, entries: list[dict], size: int, key: str = "id") -> dict:
        p = {k: v[0] for k, v in request.params.items()}
        ids = [e[key] for e in entries]
        start = ids.index(p["after"]) + 1 if "after" in p else 0
        chunk = entries[start : start + size]
        body: dict = {
            "data": chunk,
            "paging": {"cursors": {"before": "b", "after": chunk[-1]["id"] if chunk else ""}},
        }
        if start + size < len(entries):
            query = {**p, "after": chunk[-1]["id"], "access_token": "ig-token"}
            body["paging"]["next"] = (
                self.server.url(request.path) + "?" + "&".join(f"{k}={v}" for k, v in query.items())
            )
        return body

    def answer_media(self, request: Request) -> Response:
        listed = []
        for media in reversed(self.media.values()):  # newest first
            count = sum(1 + len(self.replies[c["id"]]) for c in self.comments[media["id"]])
            listed.append({**media, "comments_count": count})
        limit = int(request.params["limit"][0])
        return self._json({"data": listed[:limit], "paging": {"cursors": {"before": "b"}}})

    def answer_comments(self, request: Request) -> Response:
        media_id = request.path.split("/")[-2]
        entries = []
        for comment in self.comments[media_id]:
            replies = self.replies[comment["id"]]
            nested: dict = {"data": replies[: self.reply_size]}
            if len(replies) > self.reply_size:
                nested["paging"] = {
                    "cursors": {"after": replies[self.reply_size - 1]["id"]},
                    "next": self.server.url(f"{V}/{comment['id']}/replies")
                    + f"?access_token=ig-token&limit={self.reply_size}"
                    + f"&after={replies[self.reply_size - 1]['id']}",
                }
            entries.append({**comment, "replies": nested} if replies else comment)
        answer = self._json(self._page(request, entries, self.size))
        answer.headers.update(self.media_usage.get(media_id, {}))
        return answer

    def answer_replies(self, request: Request) -> Response:
        comment_id = request.path.split("/")[-2]
        if request.method == "POST":
            message = parse_qs(request.body.decode())["message"][0]
            new = ig_comment(
                9999, 0, username=OWN, text=message, id=f"1799{len(self.reply_paths())}"
            )
            self.replies[comment_id].append(new)
            return self._json({"id": new["id"]})
        return self._json(self._page(request, self.replies[comment_id], self.reply_size))

    def answer_hide(self, request: Request) -> Response:
        self.hidden[request.path.split("/")[-1]] = request.params["hide"] == ["true"]
        return self._json({"success": True})

    def answer_tags(self, request: Request) -> Response:
        return self._json(self._page(request, self.tags, 2))


def tagged(n: int, seconds_ago: float, **fields: object) -> dict:
    return {
        "id": f"1801{n:04d}",
        "caption": f"Wandeling in het Vinne-gebied met @{OWN} #{n}",
        "permalink": f"https://www.instagram.com/p/tag{n}/",
        "timestamp": ig_time(seconds_ago),
        "username": f"wandelaar{n}",
        **fields,
    }


def graph_error(message: str, code: int, subcode: int | None = None) -> bytes:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    if subcode:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


async def fetch(source: InstagramSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def mention(**meta: str) -> SimpleNamespace:
    return SimpleNamespace(
        ref=meta.get("comment_id", ""), reply_meta=meta, author="@burger", url=""
    )


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config)
    assert (source.type, source.account_id, source.api) == (
        "instagram",
        ACCOUNT,
        "https://graph.facebook.com/v21.0",
    )
    assert (source.media, source.comments, source.tags, source.backlog) == (10, True, True, 86400)
    assert (source.interval, source.keyword_filter, source.replies) == (300, False, "send")
    assert source.can_reply
    assert source.moderation == ("hide", "unhide") and source.moderation_undo["hide"] == "unhide"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"account_id": None}, "account_id"),
        ({"account_id": "@vlm"}, "account_id"),
        ({"token_env": None}, "token_env"),
        ({"media": 0}, "media"),
        ({"media": 101}, "media"),
        ({"comments": False, "tags": False}, "comments"),
        ({"tags": "yes"}, "tags"),
        ({"backlog": "forever"}, "backlog"),
        ({"every": "0s"}, "every"),
        ({"api": "graph.facebook.com"}, "api"),
        ({"replies": "sometimes"}, "replies"),
        ({"page_id": "123"}, "page_id"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


async def test_a_missing_token_says_which_variable(make_config, monkeypatch) -> None:
    monkeypatch.delenv("IG_TOKEN")
    source = make_source(make_config)
    assert source.can_reply is False
    with pytest.raises(
        SourceError, match="^Instagram: the environment variable IG_TOKEN is not set$"
    ):
        await fetch(source)


# --- comments ----------------------------------------------------------------------------


async def test_comments_and_replies_become_items(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Nieuwe regels voor de mestbank\nLees meer op vlm.be", 3 * 86400)
    graph.add_comment("1780001", ig_comment(0, 3 * 86400))  # older than the first backlog
    graph.add_comment("1780001", ig_comment(1, 180))
    withheld = ig_comment(2, 120, text="<b>[bold]Schandalig[/bold]</b>\x1b[31m", **{"from": None})
    del withheld["username"]
    graph.add_comment("1780001", withheld)
    graph.add_reply("17900001", ig_comment(3, 60))
    graph.add_reply("17900001", ig_comment(4, 30, username=OWN))  # our own answer
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    hostile, first, reply = await fetch(source)
    assert (first.key, first.ref, first.in_reply_to) == ("17900001", "17900001", "1780001")
    assert (first.channel, first.author, first.text) == (
        "instagram",
        "@burger1",
        "Vraag 1 over de mestbank",
    )
    # The link Instagram's app shares for a comment: the post's, and the comment's id.
    assert first.url == "https://www.instagram.com/p/1780001/c/17900001/"
    assert reply.url == "https://www.instagram.com/p/1780001/c/17900001/r/17900003/"
    assert first.title == "Nieuwe regels voor de mestbank"  # the post it is about
    assert first.published_at is not None and first.published_at.tzinfo is not None
    assert first.addressed
    assert first.reply_meta == {
        "kind": "comment",
        "comment_id": "17900001",
        "target": "17900001",
        "media_id": "1780001",
        "from_id": "90001",
    }
    assert (reply.key, reply.in_reply_to, reply.reply_meta["target"]) == (
        "17900003",
        "17900001",
        "17900001",
    )
    assert hostile.author == "Instagram user"  # username withheld (no instagram_manage_comments)
    assert hostile.text == "<b>[bold]Schandalig[/bold]</b>\x1b[31m"  # left for intake to clean
    media_request = feed_server.requests_for(f"{V}/{ACCOUNT}/media")[0]
    assert media_request.params["limit"] == ["10"]
    assert media_request.params["fields"] == [
        "id,caption,permalink,timestamp,comments_count,username"
    ]
    request = feed_server.requests_for(f"{V}/1780001/comments")[0]
    assert request.params["fields"] == [
        "id,text,username,timestamp,from,replies{id,text,username,timestamp,from}"
    ]
    assert request.headers["authorization"] == "Bearer ig-token"
    assert "access_token" not in request.params


async def test_comments_page_and_poll_incrementally(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server, size=4)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_media("1780002", "Natuur", 3600)
    for n in range(1, 10):
        graph.add_comment("1780001", ig_comment(n, 1000 - n))
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    assert [i.ref for i in await fetch(source)] == [f"1790{n:04d}" for n in range(9, 0, -1)]
    requests = feed_server.requests_for(f"{V}/1780001/comments")
    assert len(requests) == 3  # 4 + 4 + 1, following paging.next
    assert requests[1].params["after"] == ["17900006"] and "access_token" not in requests[1].params
    assert requests[1].headers["authorization"] == "Bearer ig-token"
    # Nothing changed: the counts say so, and no media's comments are read again.
    assert await fetch(source) == []
    assert len(feed_server.requests_for(f"{V}/1780001/comments")) == 3
    assert len(feed_server.requests_for(f"{V}/1780002/comments")) == 1
    # A new comment: one page read (the count grew by one, and there it is), nothing twice.
    graph.add_comment("1780001", ig_comment(10, 5))
    assert [i.ref for i in await fetch(source)] == ["17900010"]
    assert len(feed_server.requests_for(f"{V}/1780001/comments")) == 4
    # A new reply to the oldest comment, on the last page: read through to it.
    graph.add_reply("17900001", ig_comment(11, 2))
    got = await fetch(source)
    assert [(i.ref, i.in_reply_to) for i in got] == [("17900011", "17900001")]
    assert await fetch(source) == []
    # rewind() brings the last fetch's comments again (the desk could not store them).
    graph.add_comment("1780002", ig_comment(12, 1))
    assert [i.ref for i in await fetch(source)] == ["17900012"]
    source.rewind()
    assert [i.ref for i in await fetch(source)] == ["17900012"]
    assert await fetch(source) == []


async def test_each_comment_is_a_mention_of_its_own(make_config, feed_server: FeedServer) -> None:
    """Comments on one post, one per poll, stay apart on the desk (a link is a mention's
    identity, so none may carry just the post's link)."""
    from webcare.intake import Intake

    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_media("1780002", "Natuur", 3600)
    graph.media["1780002"]["permalink"] = "https://www.instagram.com/stories/vlm/1780002/"
    config = make_config()
    intake = Intake(config)
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    ids = []
    for n, media_id in ((1, "1780001"), (2, "1780001"), (3, "1780002"), (4, "1780002")):
        graph.add_comment(media_id, ig_comment(n, 60 - n))
        items = await fetch(source)
        ids += [m.id for m in intake.admit_all(items, "ig", False, datetime.now(UTC))]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert [i.url for i in items] == [""]  # a link that is not a post's: none rather than a guess


async def test_long_threads_page_through_their_replies(
    make_config, feed_server: FeedServer
) -> None:
    graph = Graph(feed_server, reply_size=25)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 900))
    for n in range(100, 160):
        graph.add_reply("17900001", ig_comment(n, 800 - n))
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    got = await fetch(source)
    assert len(got) == 61 and len({i.key for i in got}) == 61
    assert all(i.in_reply_to == "17900001" for i in got[1:])
    pages = feed_server.requests_for(f"{V}/17900001/replies")
    assert len(pages) == 2 and all("access_token" not in r.params for r in pages)


async def test_paging_never_leaves_the_api_host(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    page = {
        "data": [ig_comment(1, 10)],
        "paging": {
            "next": "https://evil.example/v21.0/1780001/comments?access_token=ig-token&after=x"
        },
    }
    feed_server.serve(f"{V}/1780001/comments", json.dumps(page).encode(), content_type=JSON)
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    assert len(await fetch(source)) == 1


# --- tags --------------------------------------------------------------------------------


async def test_media_we_are_tagged_in(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.tags = [tagged(3, 60), tagged(2, 120, caption=None), tagged(1, 240), tagged(0, 5 * 86400)]
    source = make_source(make_config, api=feed_server.base + V, comments=False)
    third, second, first = await fetch(source)
    assert (first.key, first.author, first.url) == (
        "18010001",
        "@wandelaar1",
        "https://www.instagram.com/p/tag1/",
    )
    assert first.text == f"Wandeling in het Vinne-gebied met @{OWN} #1"
    assert first.reply_meta == {"kind": "tag", "media_id": "18010001"} and first.addressed
    assert first.title == "Tag"
    assert second.text == "(a post that tags us, without a caption)"
    # Paged two by two, up to the first tag older than the backlog.
    pages = feed_server.requests_for(f"{V}/{ACCOUNT}/tags")
    assert len(pages) == 2 and pages[0].params["fields"] == [
        "id,caption,permalink,timestamp,username"
    ]
    assert await fetch(source) == []
    graph.tags.insert(0, tagged(4, 5))
    assert [i.key for i in await fetch(source)] == ["18010004"]
    # Not ours: Instagram allows neither a comment nor hiding on it.
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match="tagged in is someone else's"):
            await source.reply(client, first, "Dag")
        with pytest.raises(SourceError, match="is not ours: only comments on our own media"):
            await source.moderate(client, first, "hide")


# --- errors and rate limits ----------------------------------------------------------------


async def test_rate_limit_waits_for_the_estimated_time(
    make_config, feed_server: FeedServer
) -> None:
    usage = {
        ACCOUNT: [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    feed_server.serve(
        f"{V}/{ACCOUNT}/media",
        graph_error("(#80002) There have been too many calls to this Instagram account.", 80002),
        status=400,
        headers={
            "x-business-use-case-usage": json.dumps(usage),
            "x-app-usage": '{"call_count":12,"total_cputime":3,"total_time":4}',
        },
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base + V)
    with pytest.raises(
        SourceError, match="rate-limited by Instagram \\(code 80002\\) for 420 s"
    ) as info:
        await fetch(source)
    assert info.value.retry_after == 420
    feed_server.serve(
        f"{V}/{ACCOUNT}/media",
        graph_error("(#4) Application request limit reached", 4),
        status=403,
        content_type=JSON,
    )
    with pytest.raises(SourceError, match="code 4") as info:
        await fetch(source)
    assert info.value.retry_after == 900  # no estimate: a quarter of an hour


async def test_usage_at_its_limit_pauses_and_loses_nothing(
    make_config, feed_server: FeedServer
) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 60))
    graph.tags = [tagged(1, 60)]
    graph.usage = {"x-app-usage": '{"call_count":100,"total_cputime":40,"total_time":45}'}
    source = make_source(make_config, api=feed_server.base + V)
    assert await fetch(source) == []  # the media list said: the app's quota is spent
    assert source.pause_s == 900
    assert feed_server.requests_for(f"{V}/1780001/comments") == []
    assert feed_server.requests_for(f"{V}/{ACCOUNT}/tags") == []
    graph.usage = {"x-app-usage": '{"call_count":40}'}
    assert sorted(i.key for i in await fetch(source)) == ["17900001", "18010001"]
    assert source.pause_s is None


async def test_a_poll_cut_short_by_the_quota_loses_nothing(
    make_config, feed_server: FeedServer
) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Oud", 7200)
    graph.add_media("1780002", "Nieuw", 3600)  # listed first: the newest
    graph.add_comment("1780001", ig_comment(1, 3000))  # older than the overlap
    graph.add_comment("1780002", ig_comment(2, 60))
    graph.tags = [tagged(1, 60)]
    graph.media_usage["1780002"] = {
        "x-business-use-case-usage": json.dumps(
            {
                ACCOUNT: [
                    {"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 5}
                ]
            }
        )
    }
    source = make_source(make_config, api=feed_server.base + V)
    assert [i.key for i in await fetch(source)] == ["17900002"]
    assert source.pause_s == 300  # the estimate, in seconds
    assert feed_server.requests_for(f"{V}/1780001/comments") == []
    assert feed_server.requests_for(f"{V}/{ACCOUNT}/tags") == []
    del graph.media_usage["1780002"]
    # The next poll reads what waited, although it is older than what the last one brought.
    assert sorted(i.key for i in await fetch(source)) == ["17900001", "18010001"]
    assert await fetch(source) == []


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
            "the access token has expired or was revoked (code 190): make a new one and put it in IG_TOKEN",
        ),
        (
            403,
            graph_error("(#10) Application does not have permission for this action", 10),
            "(code 10, HTTP 403): the token lacks a permission this needs (instagram_basic, instagram_manage_comments",
        ),
        (
            400,
            graph_error("(#200) Requires instagram_manage_comments permission", 200),
            "(code 200, HTTP 400): the token lacks a permission",
        ),
        (
            400,
            graph_error(
                "Unsupported get request. Object with ID '17841400000000001' does not exist",
                100,
                33,
            ),
            "is account_id the Instagram account's id?",
        ),
        (500, b"<html><body>Sorry, something went wrong.</body></html>", "HTTP 500"),
    ],
)
async def test_errors_are_clear(
    make_config, feed_server: FeedServer, status: int, body: bytes, message: str
) -> None:
    feed_server.serve(f"{V}/{ACCOUNT}/media", body, status=status, content_type=JSON)
    with pytest.raises(SourceError, match="^Instagram media: ") as info:
        await fetch(make_source(make_config, api=feed_server.base + V))
    assert message in str(info.value) and "ig-token" not in str(info.value)


# --- replying ------------------------------------------------------------------------------


async def test_a_reply_is_posted_to_the_thread(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 120))
    graph.add_reply("17900001", ig_comment(2, 60))
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    _, reply = await fetch(source)
    async with httpx.AsyncClient() as client:
        new_id = await source.reply(client, reply, "Dag & welkom, @burger2")
    assert new_id == "17991"
    # Instagram nests one level: the answer to a reply goes to the thread's first comment.
    (request,) = graph.reply_paths()
    assert (request.method, request.path, request.params) == ("POST", f"{V}/17900001/replies", {})
    assert request.body == b"message=Dag+%26+welkom%2C+%40burger2"
    assert request.headers["authorization"] == "Bearer ig-token"
    # The desk's own answer comes back with the next poll, and is not a mention.
    assert await fetch(source) == []
    # Instagram's refusal, in its own words.
    feed_server.serve(
        f"{V}/17900001/replies",
        graph_error("(#100) You cannot reply to a hidden comment", 100),
        status=400,
        content_type=JSON,
    )
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match="^Instagram refused the reply: .*hidden comment"):
            await source.reply(client, reply, "Dag")


async def test_dry_run_and_off_send_nothing(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 120))
    meta = {
        "kind": "comment",
        "comment_id": "17900001",
        "target": "17900001",
        "media_id": "1780001",
    }
    dry = make_source(make_config, api=feed_server.base + V, replies="dry-run")
    async with httpx.AsyncClient() as client:
        said = await dry.reply(client, mention(**meta), "Dag")
        assert said == "dry run: POST /17900001/replies, a reply comment to 17900001 (3 characters)"
        sender = make_source(make_config, api=feed_server.base + V)
        assert (await sender.reply(client, mention(**meta), "Dag", dry_run=True)).startswith(
            "dry run"
        )
        off = make_source(make_config, api=feed_server.base + V, replies="off")
        assert off.can_reply is False
        with pytest.raises(SourceError, match="replies are off"):
            await off.reply(client, mention(**meta), "Dag")
        with pytest.raises(SourceError, match="lacks what a reply needs"):
            await sender.reply(client, mention(kind="comment"), "Dag")
    assert graph.reply_paths() == []


# --- moderation ----------------------------------------------------------------------------


async def test_hide_and_unhide_a_comment(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 120, text="Koop volgers op spam.example"))
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    (spam,) = await fetch(source)
    async with httpx.AsyncClient() as client:
        said = await source.moderate(client, spam, "hide")
        assert said == "hidden on Instagram (comment 17900001)"
        assert graph.hidden == {"17900001": True}
        (request,) = feed_server.requests_for(f"{V}/17900001")
        assert (request.method, request.params, request.body) == ("POST", {"hide": ["true"]}, b"")
        assert request.headers["authorization"] == "Bearer ig-token"
        undo = source.moderation_undo["hide"]
        assert (
            await source.moderate(client, spam, undo)
            == "shown again on Instagram (comment 17900001)"
        )
        assert graph.hidden == {"17900001": False}
        with pytest.raises(SourceError, match="'delete' is not something Instagram can do"):
            await source.moderate(client, spam, "delete")
        with pytest.raises(SourceError, match="not a comment on our media"):
            await source.moderate(client, mention(kind="comment"), "hide")
        # Refused: a missing permission, an expired token, each said as for reading.
        feed_server.serve(
            f"{V}/17900001",
            graph_error("(#10) Application does not have permission for this action", 10),
            status=403,
            content_type=JSON,
        )
        with pytest.raises(
            SourceError, match="^Instagram refused to hide the comment: .*lacks a permission"
        ):
            await source.moderate(client, spam, "hide")
        feed_server.serve(
            f"{V}/17900001",
            graph_error(
                "Error validating access token: The session has been invalidated", 190, 460
            ),
            status=400,
            content_type=JSON,
        )
        with pytest.raises(SourceError, match="has expired or was revoked .* IG_TOKEN$"):
            await source.moderate(client, spam, "unhide")
        feed_server.serve(f"{V}/17900001", b'{"success": false}', content_type=JSON)
        with pytest.raises(SourceError, match="does not say it was done"):
            await source.moderate(client, spam, "hide")


# --- checkpoints -----------------------------------------------------------------------------


async def test_a_restart_resumes_from_the_checkpoint(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    import sources.instagram as instagram

    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    for n in range(1, 4):
        graph.add_comment("1780001", ig_comment(n, 3000 - 60 * n))
    graph.tags = [tagged(1, 2000)]
    options = {"api": feed_server.base + V, "backlog": "1h"}
    source = make_source(make_config, **options)
    assert [i.key for i in await fetch(source)] == ["17900003", "17900002", "17900001", "18010001"]
    state = json.loads(json.dumps(source.checkpoint()))  # plain JSON, as the poller saves it
    assert state["account_id"] == ACCOUNT and state["counts"] == {"1780001": 3}
    assert state["seen"] == ["18010001", "17900001", "17900002", "17900003"]
    assert abs(state["comments_since"] - (time.time() - 2820)) < 30
    assert abs(state["tags_since"] - (time.time() - 2000)) < 30
    # While the collector was down: new comments and a tag. It starts again two hours on, so
    # with a backlog of one hour a fresh start would not reach them.
    for n in range(4, 7):
        graph.add_comment("1780001", ig_comment(n, 2500 - 60 * n))
    graph.tags.insert(0, tagged(2, 1500))
    later = time.time() + 7200
    monkeypatch.setattr(instagram, "time", SimpleNamespace(time=lambda: later))
    restarted = make_source(make_config, **options)
    restarted.resume(state)
    got = [i.key for i in await fetch(restarted)]
    assert got == ["17900006", "17900005", "17900004", "18010002"]  # all of them, none twice
    assert await fetch(restarted) == []
    fresh = make_source(make_config, **options)
    assert await fetch(fresh) == []  # without the checkpoint, the backlog would have cut them


async def test_a_checkpoint_of_another_account_or_garbage_is_ignored(
    make_config, feed_server: FeedServer
) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 60))
    source = make_source(make_config, api=feed_server.base + V, tags=False)
    await fetch(source)
    state = source.checkpoint()
    day_one = {
        "account_id": ACCOUNT,
        "comments_since": None,
        "tags_since": None,
        "counts": {},
        "seen": [],
    }
    garbage = [
        {},
        {"account_id": ACCOUNT},
        {**state, "comments_since": "yesterday"},
        {**state, "tags_since": True},
        {**state, "comments_since": float("inf")},
        {**state, "counts": {"1780001": -1}},
        {**state, "counts": {"1780001": "3"}},
        {**state, "counts": [1]},
        {**state, "seen": "17900001"},
        {**state, "seen": [1, 2]},
        {**state, "account_id": int(ACCOUNT)},
        {**state, "account_id": "17841499999999999"},  # the entry reads another account now
    ]
    for bad in garbage:
        fresh = make_source(make_config, api=feed_server.base + V, tags=False)
        fresh.resume(bad)
        assert fresh.checkpoint() == day_one
        assert [i.ref for i in await fetch(fresh)] == ["17900001"]  # as on day one


async def test_rewind_puts_the_checkpoint_back(make_config, feed_server: FeedServer) -> None:
    graph = Graph(feed_server)
    graph.add_media("1780001", "Mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 60))
    graph.tags = [tagged(1, 60)]
    source = make_source(make_config, api=feed_server.base + V)
    await fetch(source)
    saved = source.checkpoint()
    graph.add_comment("1780001", ig_comment(2, 5))
    graph.tags.insert(0, tagged(2, 5))
    assert len(await fetch(source)) == 2
    assert source.checkpoint() != saved
    source.rewind()
    assert source.checkpoint() == saved


# --- on the desk -----------------------------------------------------------------------------


async def test_an_instagram_comment_on_the_desk_with_its_four_hours(
    tmp_path, monkeypatch, feed_server: FeedServer
) -> None:
    """Wired as `webcare` wires it, with no [norms] for instagram: the default 4-hour norm counts
    down on the comment, and a reply from the composer reaches the Graph API."""
    from test_channels_desk import reply_to, until

    from sources.replies import repliers
    from tests.tui_helpers import screen_text
    from tui.app import WebcareApp
    from webcare.cli import _open
    from webcare.config import load

    monkeypatch.setenv("WEBCARE_INSTAGRAM_TOKEN", "ig-token")
    graph = Graph(feed_server)
    graph.add_media("1780001", "Nieuwe regels voor de mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 0, text="Wanneer moet de mestaangifte binnen?"))
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f"""
[desk]
name = "Testdesk"
timezone = "Europe/Brussels"
data_dir = "data"
operator = "tester"

[watch]
keywords = ["VLM"]

[[sources]]
type = "instagram"
name = "instagram"
account_id = "{ACCOUNT}"
token_env = "WEBCARE_INSTAGRAM_TOKEN"
api = "{feed_server.base + V}"
every = "30s"
"""
    )
    config = load(config_path)
    store, sources, make_poller = _open(config)
    app = WebcareApp(config, store, make_poller=make_poller, senders=repliers(sources))
    async with app.run_test(size=(140, 30)) as pilot:
        await until(pilot, lambda: any(m.channel == "instagram" for m in app.queue), 20)
        (comment,) = [m for m in app.queue if m.channel == "instagram"]
        assert comment.norm_s == 4 * 3600  # the default norm: no [norms] in this config
        assert comment.author == "@burger1"
        text = screen_text(app)
        assert "IG" in text and "mestaangifte" in text
        assert "nog 3 u 59 min" in text or "nog 4 u" in text
        await reply_to(app, pilot, comment.id, "Dag, tegen 15 maart. ^T")
        await until(pilot, lambda: graph.reply_paths(), 10)
        await until(pilot, lambda: app.queue.get(comment.id).status == "responded", 5)
        (post,) = graph.reply_paths()
        assert post.path == f"{V}/17900001/replies"
        assert parse_qs(post.body.decode())["message"][0].startswith("Dag, tegen 15 maart.")
