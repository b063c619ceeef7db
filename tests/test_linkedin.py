"""The LinkedIn source against a real HTTP server on loopback, answering in the shape of
LinkedIn's versioned REST API (Rest.li 2.0: `elements`, `paging` with start/count/total, URNs
percent-encoded in paths and queries, errors with `serviceErrorCode`)."""

from __future__ import annotations

import json
import time
from datetime import date
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.linkedin import LinkedInSource
from sources.source import OptionError, SourceError

ORG = "2414183"
ORG_URN = f"urn:li:organization:{ORG}"
POST = "urn:li:share:6970969133916393473"
JSON = "application/json"


def enc(urn: str) -> str:
    return quote(urn, safe="")


@pytest.fixture(autouse=True)
def token(monkeypatch) -> None:
    monkeypatch.setenv("LI_TOKEN", "li-token")


def make_source(make_config, **options: object) -> LinkedInSource:
    options = {"organization_id": ORG, "token_env": "LI_TOKEN", **options}
    lines = ["[[sources]]", 'type = "linkedin"', 'name = "linkedin"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items() if value is not None]
    config = make_config("\n".join(lines) + "\n")
    return LinkedInSource.from_config(config.sources[0], config)


def ms_ago(seconds: float) -> int:
    return int((time.time() - seconds) * 1000)


def li_comment(n: int, seconds_ago: float, on: str = POST, parent: str = "", replies: int = 0, **fields) -> dict:
    activity = "urn:li:activity:6970969134000000000"
    urn = f"urn:li:comment:({activity},{7000 + n})"
    data = {
        "actor": f"urn:li:person:Member{n}xYz",
        "commentUrn": urn,
        "$URN": urn,
        "created": {"actor": f"urn:li:person:Member{n}xYz", "time": ms_ago(seconds_ago)},
        "lastModified": {"actor": f"urn:li:person:Member{n}xYz", "time": ms_ago(seconds_ago)},
        "id": str(7000 + n),
        "message": {"attributes": [], "text": f"Vraag {n} over de mestbank"},
        "object": activity,
        "likesSummary": {"selectedLikes": [], "aggregatedTotalLikes": 0, "likedByCurrentUser": False, "totalLikes": 0},
        "commentsSummary": {"aggregatedTotalComments": replies, "totalFirstLevelComments": replies},
    }
    if parent:
        data["parentComment"] = parent
    data.update(fields)
    return data


def post(urn: str, seconds_ago: float, text: str = "Nieuwe regels voor de mestbank\nLees meer") -> dict:
    return {
        "id": urn,
        "author": ORG_URN,
        "commentary": text,
        "createdAt": ms_ago(seconds_ago),
        "publishedAt": ms_ago(seconds_ago),
        "lastModifiedAt": ms_ago(seconds_ago),
        "lifecycleState": "PUBLISHED",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
    }


class Collection:
    """A Rest.li collection over `elements` (newest first), paged with start/count; its
    `paging.total` as LinkedIn gives it."""

    def __init__(self, elements: list[dict]) -> None:
        self.elements = elements

    def __call__(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        start, count = int(p.get("start", 0)), int(p.get("count", 10))
        chunk = self.elements[start : start + count]
        body = {
            "paging": {"start": start, "count": count, "total": len(self.elements), "links": []},
            "elements": chunk,
        }
        return Response(body=json.dumps(body).encode(), content_type=JSON)


def li_error(status: int, message: str, code: int | None = None, what: str = "") -> Response:
    body: dict = {"status": status, "message": message}
    if code is not None:
        body["serviceErrorCode"] = code
    if what:
        body["code"] = what
    return Response(status=status, body=json.dumps(body).encode(), content_type=JSON)


def serve(feed_server: FeedServer, posts: list[dict], comments: dict[str, list[dict]], mentions: list[dict] | None = None) -> None:
    feed_server.route("/rest/posts", Collection(posts))
    for urn, listed in comments.items():
        feed_server.route(f"/rest/socialActions/{enc(urn)}/comments", Collection(listed))
    feed_server.route("/rest/organizationalEntityNotifications", Collection(mentions or []))


async def fetch(source: LinkedInSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def assert_headers_on_every_call(feed_server: FeedServer, version: str = "202610") -> None:
    assert feed_server.requests
    for request in feed_server.requests:
        assert request.headers["linkedin-version"] == version, request.path
        assert request.headers["x-restli-protocol-version"] == "2.0.0", request.path
        assert request.headers["authorization"] == "Bearer li-token", request.path


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config)
    assert (source.type, source.organization_id, source.api, source.version) == (
        "linkedin", ORG, "https://api.linkedin.com", "202610"
    )
    assert (source.posts, source.comments, source.mentions, source.backlog) == (10, True, True, 86400)
    assert (source.interval, source.keyword_filter, source.replies, source.token_expires) == (300, False, "send", None)
    assert source.can_reply and source.moderation == ("delete",) and source.moderation_undo == {}


def test_token_expires_is_a_date(make_config, tmp_path) -> None:
    assert make_source(make_config, token_expires="2027-02-01").token_expires == date(2027, 2, 1)
    config = make_config(
        f'[[sources]]\ntype = "linkedin"\nname = "li"\norganization_id = "{ORG}"\n'
        'token_env = "LI_TOKEN"\ntoken_expires = 2027-02-01\nversion = "202611.01"\n'
    )
    source = LinkedInSource.from_config(config.sources[0], config)
    assert source.token_expires == date(2027, 2, 1) and source.version == "202611.01"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"organization_id": None}, "organization_id"),
        ({"organization_id": "urn:li:organization:1"}, "organization_id"),
        ({"token_env": None}, "token_env"),
        ({"posts": 0}, "posts"),
        ({"posts": 101}, "posts"),
        ({"comments": False, "mentions": False}, "comments"),
        ({"version": "2026-10"}, "version"),
        ({"version": "202613"}, "version"),
        ({"token_expires": "next month"}, "token_expires"),
        ({"api": "ftp://example.org"}, "api"),
        ({"every": "often"}, "every"),
        ({"replies": "sometimes"}, "replies"),
        ({"token": "abc"}, "token"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


async def test_a_missing_token_says_which_variable(make_config, monkeypatch) -> None:
    monkeypatch.delenv("LI_TOKEN")
    source = make_source(make_config)
    assert source.can_reply is False
    with pytest.raises(SourceError, match="^LinkedIn: the environment variable LI_TOKEN is not set$"):
        await fetch(source)


# --- comments ----------------------------------------------------------------------------


async def test_comments_become_items_with_the_headers_and_encoded_urns(
    make_config, feed_server: FeedServer
) -> None:
    top = li_comment(1, 180, replies=1)
    nested = li_comment(2, 60, on=top["commentUrn"], parent=top["commentUrn"])
    ours = li_comment(3, 30, actor=ORG_URN)  # the page's own answer: not a mention
    hostile = li_comment(4, 120, message={"text": "<b>[bold]Schandalig[/bold]</b>\x1b[31m"})
    old = li_comment(0, 3 * 86400)  # older than the first poll's backlog
    serve(
        feed_server,
        [post(POST, 4 * 86400)],
        {POST: [ours, hostile, top, old], top["commentUrn"]: [nested]},
    )
    feed_server.route(
        "/rest/people/(id:Member1xYz)",
        lambda r: Response(body=b'{"localizedFirstName": "An", "localizedLastName": "Peeters"}', content_type=JSON),
    )
    source = make_source(make_config, api=feed_server.base, mentions=False)
    items = await fetch(source)
    assert [i.text for i in items] == [
        "<b>[bold]Schandalig[/bold]</b>\x1b[31m",  # left for intake to clean
        "Vraag 1 over de mestbank",
        "Vraag 2 over de mestbank",
    ]
    hostile_item, first, reply = items
    assert (first.key, first.ref, first.in_reply_to) == (top["commentUrn"], top["commentUrn"], POST)
    assert (first.channel, first.author, first.addressed) == ("linkedin", "An Peeters", True)
    assert first.url == f"https://www.linkedin.com/feed/update/{POST}?commentUrn={enc(top['commentUrn'])}"
    assert first.title == "Nieuwe regels voor de mestbank"
    assert first.published_at is not None and abs(first.published_at.timestamp() - (time.time() - 180)) < 30
    assert first.reply_meta == {
        "kind": "comment",
        "comment_urn": top["commentUrn"],
        "comment_id": "7001",
        "post_urn": POST,
        "object": "urn:li:activity:6970969134000000000",
        "target": top["commentUrn"],
        "on": POST,
        "actor": "urn:li:person:Member1xYz",
    }
    # A reply to a comment: under the same thread, read from the comment's own list.
    assert reply.in_reply_to == top["commentUrn"] and reply.reply_meta["target"] == top["commentUrn"]
    assert reply.reply_meta["on"] == top["commentUrn"]
    # A member whose name the token may not read: the URN shortened (404 here: not served).
    assert hostile_item.author == "urn:li:person:Member…"
    # The posts finder: the organisation's URN encoded, newest first, start/count.
    (posts_request,) = feed_server.requests_for("/rest/posts")
    assert posts_request.query == f"author={enc(ORG_URN)}&q=author&sortBy=CREATED&start=0&count=10"
    assert posts_request.headers["x-restli-method"] == "FINDER"
    assert feed_server.requests_for(f"/rest/socialActions/{enc(POST)}/comments")[0].query == "start=0&count=100"
    assert feed_server.requests_for(f"/rest/socialActions/{enc(top['commentUrn'])}/comments")
    assert_headers_on_every_call(feed_server)


async def test_paging_and_a_second_poll_without_duplicates(make_config, feed_server: FeedServer, monkeypatch) -> None:
    import sources.linkedin as linkedin

    monkeypatch.setattr(linkedin, "COMMENT_PAGE", 4)
    monkeypatch.setattr(linkedin, "POST_PAGE", 2)
    other = "urn:li:ugcPost:7000000000000000001"
    comments = [li_comment(n, 4000 - 400 * n) for n in range(9, 0, -1)]  # newest first
    posts = [post(POST, 3600), post(other, 7200), post("urn:li:share:3", 9000)]
    serve(feed_server, posts, {POST: comments, other: []})
    source = make_source(make_config, api=feed_server.base, mentions=False, posts=2)
    assert [i.reply_meta["comment_id"] for i in await fetch(source)] == [str(7000 + n) for n in range(9, 0, -1)]
    (posts_request,) = feed_server.requests_for("/rest/posts")
    assert posts_request.params["count"] == ["2"]  # two posts asked for: one page of two
    pages = feed_server.requests_for(f"/rest/socialActions/{enc(POST)}/comments")
    assert [r.params["start"][0] for r in pages] == ["0", "4", "8"]
    assert feed_server.requests_for(f"/rest/socialActions/{enc(other)}/comments")
    assert not feed_server.requests_for(f"/rest/socialActions/{enc('urn:li:share:3')}/comments")
    # The next poll brings only the new comment; the first page reaches back past the
    # watermark, so the older pages are not read again.
    comments[:0] = [li_comment(10, 5)]
    before = len(feed_server.requests_for(f"/rest/socialActions/{enc(POST)}/comments"))
    assert [i.reply_meta["comment_id"] for i in await fetch(source)] == ["7010"]
    assert len(feed_server.requests_for(f"/rest/socialActions/{enc(POST)}/comments")) == before + 1
    assert await fetch(source) == []
    comments[:0] = [li_comment(11, 1)]
    assert len(await fetch(source)) == 1
    source.rewind()
    assert [i.reply_meta["comment_id"] for i in await fetch(source)] == ["7011"]
    assert_headers_on_every_call(feed_server)


async def test_a_restart_resumes_from_the_checkpoint(make_config, feed_server: FeedServer, monkeypatch) -> None:
    import sources.linkedin as linkedin

    comments = [li_comment(n, 3000 - 60 * n) for n in range(3, 0, -1)]
    serve(feed_server, [post(POST, 86400)], {POST: comments})
    options = {"api": feed_server.base, "backlog": "1h", "mentions": False}
    source = make_source(make_config, **options)
    assert len(await fetch(source)) == 3
    state = json.loads(json.dumps(source.checkpoint()))
    assert state["organization_id"] == ORG and len(state["seen"]) == 3
    comments[:0] = [li_comment(n, 2500 - 60 * n) for n in range(6, 3, -1)]
    later = time.time() + 7200  # the collector was down two hours
    monkeypatch.setattr(linkedin, "time", SimpleNamespace(time=lambda: later))
    restarted = make_source(make_config, **options)
    restarted.resume(state)
    assert [i.reply_meta["comment_id"] for i in await fetch(restarted)] == ["7006", "7005", "7004"]
    assert await fetch(restarted) == []
    for bad in ({}, {**state, "organization_id": "1"}, {**state, "seen": "x"}, {**state, "comments_since": "gisteren"}):
        fresh = make_source(make_config, **options)
        fresh.resume(bad)
        assert fresh.checkpoint()["comments_since"] is None


# --- mentions ------------------------------------------------------------------------------


async def test_mentions_of_the_page_from_its_notifications(make_config, feed_server: FeedServer) -> None:
    share = "urn:li:share:6672143034421583872"
    note = {
        "lastModifiedAt": ms_ago(300),
        "action": "SHARE_MENTION",
        "organizationalEntity": ORG_URN,
        "sourcePost": share,
        "generatedActivity": share,
        "decoratedGeneratedActivity": {
            "mention": {"owner": "urn:li:person:AbCdEfGhIjK", "text": "Goed nieuws van @VLM over de mestbank", "entity": share}
        },
    }
    serve(feed_server, [], {}, mentions=[note])
    feed_server.serve("/rest/people/(id:AbCdEfGhIjK)", li_error(403, "Not enough permissions to access: people").body, status=403, content_type=JSON)
    source = make_source(make_config, api=feed_server.base, comments=False)
    (item,) = await fetch(source)
    assert (item.key, item.ref, item.url) == (f"mention:{share}", share, f"https://www.linkedin.com/feed/update/{share}")
    assert item.text == "Goed nieuws van @VLM over de mestbank" and item.addressed
    assert item.author == "urn:li:person:AbCdEf…"  # the token may not read members' names
    assert item.reply_meta["kind"] == "mention" and item.reply_meta["target"] == share
    (request,) = feed_server.requests_for("/rest/organizationalEntityNotifications")
    assert request.query.startswith(
        f"q=criteria&actions=List(SHARE_MENTION)&organizationalEntity={enc(ORG_URN)}&timeRange=(start:"
    )
    assert request.headers["x-restli-method"] == "FINDER"
    assert await fetch(source) == []  # nothing twice
    # A refused name is not asked again on every poll.
    assert len(feed_server.requests_for("/rest/people/(id:AbCdEfGhIjK)")) == 1
    assert_headers_on_every_call(feed_server)


# --- errors and rate limits ------------------------------------------------------------------


async def test_an_expired_token_says_so(make_config, feed_server: FeedServer) -> None:
    feed_server.route(
        "/rest/posts",
        lambda r: li_error(401, "The token used in the request has expired", 65602, "EXPIRED_ACCESS_TOKEN"),
    )
    with pytest.raises(SourceError) as info:
        await fetch(make_source(make_config, api=feed_server.base))
    said = str(info.value)
    assert said.startswith("LinkedIn posts: the access token has expired or was revoked (HTTP 401, serviceErrorCode 65602")
    assert "LinkedIn tokens last 60 days" in said and "LI_TOKEN" in said and "li-token" not in said
    assert info.value.retry_after is None


async def test_429_is_honoured(make_config, feed_server: FeedServer) -> None:
    serve(feed_server, [post(POST, 60)], {})
    feed_server.serve(
        f"/rest/socialActions/{enc(POST)}/comments",
        li_error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.").body,
        status=429,
        headers={"Retry-After": "120"},
        content_type=JSON,
    )
    source = make_source(make_config, api=feed_server.base)
    with pytest.raises(SourceError, match=r"rate-limited by LinkedIn \(HTTP 429\) for 120 s") as info:
        await fetch(source)
    assert info.value.retry_after == 120
    # Without Retry-After (LinkedIn's usual 429): a quarter of an hour, then the poller's backoff.
    feed_server.serve(f"/rest/socialActions/{enc(POST)}/comments", b'{"status":429}', status=429, content_type=JSON)
    with pytest.raises(SourceError) as info:
        await fetch(source)
    assert info.value.retry_after == 900
    assert not feed_server.requests_for("/rest/organizationalEntityNotifications")  # stopped there


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (li_error(403, "Not enough permissions to access: posts.FINDER-author.20261001", 100, "ACCESS_DENIED"),
         "access refused (HTTP 403: Not enough permissions to access: posts.FINDER-author.20261001): the token lacks a permission"),
        (li_error(426, "Requested version 20240101 is not active", what="NONEXISTENT_VERSION"),
         "LinkedIn does not serve API version 202610 (HTTP 426: Requested version 20240101 is not active): set version"),
        (Response(status=500, body=b"<html>Internal error</html>", content_type="text/html"), "HTTP 500 <html>Internal error</html>"),
    ],
)
async def test_errors_are_clear(make_config, feed_server: FeedServer, response: Response, message: str) -> None:
    feed_server.route("/rest/posts", lambda r: response)
    with pytest.raises(SourceError, match="^LinkedIn posts: ") as info:
        await fetch(make_source(make_config, api=feed_server.base))
    assert message in str(info.value)


# --- replying and deleting -------------------------------------------------------------------


def mention(**meta: str) -> SimpleNamespace:
    return SimpleNamespace(ref=meta.get("comment_urn", ""), reply_meta=meta, author="An", url="")


async def comment_meta(make_config, feed_server: FeedServer, *, nested: bool = False) -> dict:
    top = li_comment(1, 60, replies=1 if nested else 0)
    reply = li_comment(2, 30, on=top["commentUrn"], parent=top["commentUrn"])
    serve(feed_server, [post(POST, 600)], {POST: [top], top["commentUrn"]: [reply]})
    items = await fetch(make_source(make_config, api=feed_server.base, mentions=False))
    feed_server.requests.clear()
    return items[-1].reply_meta


async def test_a_reply_is_posted_with_its_parent_comment(make_config, feed_server: FeedServer) -> None:
    meta = await comment_meta(make_config, feed_server, nested=True)
    parent = meta["target"]
    new = "urn:li:comment:(urn:li:activity:6970969134000000000,7099)"

    def created(request: Request) -> Response:
        if request.method != "POST":
            return Collection([])(request)
        body = {"id": "7099", "commentUrn": new, "object": request.json()["object"], "message": request.json()["message"]}
        return Response(status=201, body=json.dumps(body).encode(), headers={"x-restli-id": new}, content_type=JSON)

    feed_server.route(f"/rest/socialActions/{enc(parent)}/comments", created)
    source = make_source(make_config, api=feed_server.base)
    async with httpx.AsyncClient() as client:
        link = await source.reply(client, mention(**meta), "Dag An, we bekijken het. ^VLM")
    assert link == f"https://www.linkedin.com/feed/update/{POST}?commentUrn={enc(new)}"
    (request,) = [r for r in feed_server.requests if r.method == "POST"]
    # A reply to a reply goes under the thread's first comment, with it as parentComment.
    assert request.path == f"/rest/socialActions/{enc(parent)}/comments"
    assert request.json() == {
        "actor": ORG_URN,
        "object": "urn:li:activity:6970969134000000000",
        "message": {"text": "Dag An, we bekijken het. ^VLM"},
        "parentComment": parent,
    }
    assert_headers_on_every_call(feed_server)


async def test_a_reply_to_a_mention_comments_on_the_post(make_config, feed_server: FeedServer) -> None:
    share = "urn:li:share:66"
    feed_server.serve(f"/rest/socialActions/{enc(share)}/comments", b"", status=201, headers={"x-restli-id": "urn:li:comment:(urn:li:activity:66,1)"})
    source = make_source(make_config, api=feed_server.base)
    meta = {"kind": "mention", "post_urn": share, "target": share, "object": share, "actor": "urn:li:person:x"}
    async with httpx.AsyncClient() as client:
        link = await source.reply(client, mention(**meta), "Dank u!")
    assert link.startswith(f"https://www.linkedin.com/feed/update/{share}?commentUrn=")
    (request,) = feed_server.requests
    assert request.json() == {"actor": ORG_URN, "object": share, "message": {"text": "Dank u!"}}


async def test_dry_run_off_and_limits_send_nothing(make_config, feed_server: FeedServer) -> None:
    meta = {"kind": "comment", "comment_id": "1", "target": "urn:li:comment:(urn:li:activity:1,1)",
            "object": "urn:li:activity:1", "on": POST, "post_urn": POST}
    async with httpx.AsyncClient() as client:
        dry = make_source(make_config, api=feed_server.base, replies="dry-run")
        said = await dry.reply(client, mention(**meta), "Dag")
        assert said == (
            "dry run: POST /rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A1%2C1%29/comments, "
            "a reply to comment urn:li:comment:(urn:li:activity:1,1) (3 characters)"
        )
        off = make_source(make_config, api=feed_server.base, replies="off")
        assert off.can_reply is False
        with pytest.raises(SourceError, match="replies are off"):
            await off.reply(client, mention(**meta), "Dag")
        sender = make_source(make_config, api=feed_server.base)
        with pytest.raises(SourceError, match="at most 1250 characters"):
            await sender.reply(client, mention(**meta), "x" * 1251)
        with pytest.raises(SourceError, match="lacks what a reply needs"):
            await sender.reply(client, mention(kind="comment"), "Dag")
    assert feed_server.requests == []


async def test_delete_a_comment_on_our_post(make_config, feed_server: FeedServer) -> None:
    meta = await comment_meta(make_config, feed_server)
    path = f"/rest/socialActions/{enc(POST)}/comments/7001"
    feed_server.serve(path, b"", status=204)
    source = make_source(make_config, api=feed_server.base)
    async with httpx.AsyncClient() as client:
        said = await source.moderate(client, mention(**meta), "delete")
        assert said == "deleted on LinkedIn (comment 7001, HTTP 204)"
        (request,) = feed_server.requests_for(path)
        assert request.method == "DELETE" and request.query == f"actor={enc(ORG_URN)}"
        assert_headers_on_every_call(feed_server)
        # Gone already; not ours; expired; no such action; a member's own post.
        feed_server.serve(path, li_error(404, "Not Found").body, status=404, content_type=JSON)
        with pytest.raises(SourceError, match="was not found"):
            await source.moderate(client, mention(**meta), "delete")
        feed_server.serve(path, li_error(403, "Not enough permissions", 100).body, status=403, content_type=JSON)
        with pytest.raises(SourceError, match="only on its own posts"):
            await source.moderate(client, mention(**meta), "delete")
        feed_server.serve(path, li_error(401, "The token used in the request has been revoked by the user", 65601).body,
                          status=401, content_type=JSON)
        with pytest.raises(SourceError, match="expired or was revoked"):
            await source.moderate(client, mention(**meta), "delete")
        with pytest.raises(SourceError, match="only deletes"):
            await source.moderate(client, mention(**meta), "hide")
        with pytest.raises(SourceError, match="member's own post"):
            await source.moderate(client, mention(kind="mention", post_urn="urn:li:share:1"), "delete")
