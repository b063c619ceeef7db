"""The Mastodon source against a real HTTP server on loopback, answering in Mastodon's API JSON
(statuses, notifications, search results, Link paging, rate-limit headers, event streams)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

import sources.mastodon as mastodon
from sources.mastodon import MastodonSource, SSEParser, status_text
from sources.source import OptionError, SourceError
from webcare.intake import Intake

TOKEN = "s3cret-token-value"
BASE_ID = 113_500_000_000_000_000  # Mastodon ids: snowflakes, numeric strings of one length
TAG_PATH = "/api/v1/timelines/tag/vlm"
JSON = "application/json; charset=utf-8"


def make_source(make_config, **options: object) -> MastodonSource:
    lines = ["[[sources]]", 'type = "mastodon"', 'name = "Mastodon #vlm"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    return MastodonSource.from_config(config.sources[0], config)


def account(acct: str = "burger@example.social", followers: int = 321) -> dict[str, Any]:
    username = acct.split("@")[0]
    return {
        "id": "109348347723117712",
        "username": username,
        "acct": acct,
        "display_name": "Een Burger",
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-11-14T00:00:00.000Z",
        "note": "<p>Boer in de Kempen</p>",
        "url": f"https://example.social/@{username}",
        "avatar": "https://files.example.social/avatar.png",
        "avatar_static": "https://files.example.social/avatar.png",
        "header": "",
        "header_static": "",
        "followers_count": followers,
        "following_count": 80,
        "statuses_count": 1200,
        "last_status_at": "2026-11-23",
        "emojis": [],
        "fields": [],
    }


def status(n: int, **fields: Any) -> dict[str, Any]:
    """Status number `n` as GET /api/v1/statuses/:id has it (ids grow with `n`)."""
    sid = str(BASE_ID + n)
    data = {
        "id": sid,
        "created_at": (datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(minutes=n))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "nl",
        "uri": f"https://example.social/users/burger/statuses/{sid}",
        "url": f"https://example.social/@burger/{sid}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "content": (
            f"<p>Vraag {n} over de mestbank "
            '<a href="https://mastodon.test/tags/vlm" class="mention hashtag" rel="tag">'
            "#<span>vlm</span></a></p>"
        ),
        "reblog": None,
        "application": None,
        "account": account(),
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": "vlm", "url": "https://mastodon.test/tags/vlm"}],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    data.update(fields)
    return data


def notification(n: int, kind: str = "mention", **status_fields: Any) -> dict[str, Any]:
    """Notification number `n` as GET /api/v1/notifications has it."""
    return {
        "id": str(4_000_000 + n),
        "type": kind,
        "created_at": "2026-11-23T09:00:00.000Z",
        "account": account(),
        "status": status(n, **status_fields),
    }


class Paged:
    """An endpoint that pages like Mastodon's timelines: newest first; `min_id` gives the page
    right after it, `since_id` and `max_id` bound the newest page; a Link header with
    rel="next" (max_id) and rel="prev" (min_id)."""

    def __init__(
        self, server: FeedServer, path: str, entries: list[dict[str, Any]] | None = None
    ) -> None:
        self.server, self.path = server, path
        self.entries = list(entries or [])  # oldest first
        self.headers: dict[str, str] = {}
        server.route(path, self.answer)

    def answer(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        limit = min(int(p.get("limit", "20")), 40)
        ids = [int(e["id"]) for e in self.entries]
        if "min_id" in p:
            page = [e for e, i in zip(self.entries, ids) if i > int(p["min_id"])][:limit]
        else:
            low, high = int(p.get("since_id", 0)), int(p.get("max_id", 10**30))
            page = [e for e, i in zip(self.entries, ids) if low < i < high][-limit:]
        page = page[::-1]
        headers = dict(self.headers)
        if page:
            url = self.server.url(self.path)
            headers["Link"] = (
                f'<{url}?max_id={page[-1]["id"]}>; rel="next", <{url}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return Response(body=json.dumps(page).encode(), headers=headers, content_type=JSON)


class Search(Paged):
    """GET /api/v2/search: newest first; min_id and max_id filter a range; no Link header."""

    def answer(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        limit = min(int(p.get("limit", "20")), 40)
        low, high = int(p.get("min_id", 0)), int(p.get("max_id", 10**30))
        page = [e for e in self.entries if low < int(e["id"]) < high][-limit:][::-1]
        body = {"accounts": [], "statuses": page, "hashtags": []}
        return Response(body=json.dumps(body).encode(), content_type=JSON)


async def fetch(source: MastodonSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def numbers(items: list) -> list[int]:
    return [int(i.ref.rpartition(":")[2]) - BASE_ID for i in items]


# --- configuration ---------------------------------------------------------------------


def test_from_config_hashtags_without_token(make_config, monkeypatch) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    source = make_source(
        make_config, instance="https://mastodon.social/", hashtags=["#vlm", "mestbank"]
    )
    assert (source.type, source.channel, source.name) == ("mastodon", "mastodon", "Mastodon #vlm")
    assert source.instance == "https://mastodon.social" and source.host == "mastodon.social"
    assert source.hashtags == ["vlm", "mestbank"]
    assert source.interval == 120 and source.max_backlog == 40
    assert source.mentions is False and source.keyword_filter is True
    assert source.can_live is False and source.can_reply is False


def test_from_config_with_token(make_config, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    source = make_source(
        make_config, instance="https://mastodon.social", token_env="MASTODON_TOKEN"
    )
    assert source.mentions is True  # the default once a token is there
    assert source.keyword_filter is False  # only our own mentions: no keyword needed
    assert source.can_live and source.can_reply
    assert TOKEN not in repr(source)
    both = make_source(
        make_config,
        instance="https://mastodon.social",
        hashtags=["vlm"],
        token_env="MASTODON_TOKEN",
        stream=False,
        replies="off",
        every="5m",
        max_backlog=10,
    )
    assert both.keyword_filter is True and both.mentions is True
    assert not both.can_live and not both.can_reply
    assert (both.interval, both.max_backlog) == (300, 10)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"hashtags": ["vlm"]}, "instance"),
        ({"instance": "ftp://mastodon.social", "hashtags": ["vlm"]}, "instance"),
        ({"instance": "mastodon.social", "hashtags": ["vlm"]}, "instance"),
        ({"instance": "https://mastodon.social/@vlm", "hashtags": ["vlm"]}, "instance"),
        ({"instance": "https://mastodon.social", "hashtags": 5}, "hashtags"),
        ({"instance": "https://mastodon.social", "hashtags": ["vlm", 3]}, "hashtags"),
        ({"instance": "https://mastodon.social", "hashtags": ["two words"]}, "hashtags"),
        ({"instance": "https://mastodon.social"}, "hashtags"),  # nothing to watch
        ({"instance": "https://mastodon.social", "hashtags": ["vlm"], "hashtag": ["x"]}, "hashtag"),
        ({"instance": "https://mastodon.social", "search": ["VLM"]}, "search"),  # no token_env
        ({"instance": "https://mastodon.social", "mentions": True}, "mentions"),
        (
            {"instance": "https://mastodon.social", "hashtags": ["vlm"], "max_backlog": 100},
            "max_backlog",
        ),
        ({"instance": "https://mastodon.social", "hashtags": ["vlm"], "every": "often"}, "every"),
        ({"instance": "https://mastodon.social", "hashtags": ["vlm"], "stream": "yes"}, "stream"),
        (
            {"instance": "https://mastodon.social", "hashtags": ["vlm"], "replies": "always"},
            "replies",
        ),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict[str, object], key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


# --- polling ---------------------------------------------------------------------------


async def test_hashtag_timeline_without_token(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    Paged(feed_server, TAG_PATH, [status(1), status(2, in_reply_to_id=str(BASE_ID + 1))])
    source = make_source(
        make_config, instance=feed_server.base, hashtags=["vlm"], token_env="MASTODON_TOKEN"
    )
    items = await fetch(source)
    host = feed_server.base.removeprefix("http://")
    first, second = items
    assert first.key == first.ref == f"{host}:{BASE_ID + 1}"
    assert first.url == f"https://example.social/@burger/{BASE_ID + 1}"
    assert first.channel == "mastodon"
    assert (first.author, first.author_name, first.reach) == (
        "@burger@example.social",
        "Een Burger",
        321,
    )
    assert first.published_at == datetime(2026, 11, 23, 9, 1, tzinfo=UTC)
    assert first.text == "Vraag 1 over de mestbank #vlm"  # the tag's link is no news
    assert first.in_reply_to == "" and second.in_reply_to == first.ref
    assert first.reply_meta == {
        "status_id": str(BASE_ID + 1),
        "acct": "burger@example.social",
        "visibility": "public",
    }
    (request,) = feed_server.requests_for(TAG_PATH)
    assert request.params["limit"] == ["40"] and "min_id" not in request.params
    assert "authorization" not in request.headers
    assert source.pause_s is None


async def test_paging_across_polls_loses_no_burst(make_config, feed_server: FeedServer) -> None:
    timeline = Paged(feed_server, TAG_PATH, [status(n) for n in range(1, 9)])
    source = make_source(make_config, instance=feed_server.base, hashtags=["vlm"], max_backlog=5)
    async with httpx.AsyncClient() as client:
        # The first poll: only the recent backlog.
        assert numbers(await source.fetch(client)) == [4, 5, 6, 7, 8]
        # A burst of two pages and a bit between polls: all of it, oldest first, once.
        timeline.entries += [status(n) for n in range(9, 99)]
        assert numbers(await source.fetch(client)) == list(range(9, 99))
        requests = feed_server.requests_for(TAG_PATH)[1:]
        assert [r.params["min_id"][0] for r in requests] == [str(BASE_ID + n) for n in (8, 48, 88)]
        assert await source.fetch(client) == []
        # A burst beyond five pages a poll: the rest comes with the next poll.
        timeline.entries += [status(n) for n in range(99, 349)]
        assert numbers(await source.fetch(client)) == list(range(99, 299))
        assert numbers(await source.fetch(client)) == list(range(299, 349))
        # The poller could not store the last fetch: it comes again.
        source.rewind()
        assert numbers(await source.fetch(client)) == list(range(299, 349))
        assert await source.fetch(client) == []


async def test_search_and_mentions_with_token(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    search = Search(feed_server, "/api/v2/search", [status(1), status(2)])
    notes = Paged(feed_server, "/api/v1/notifications", [notification(3, visibility="direct")])
    source = make_source(
        make_config, instance=feed_server.base, search=["VLM"], token_env="MASTODON_TOKEN"
    )
    assert source.mentions is True
    assert numbers(await fetch(source)) == [1, 2, 3]
    (s,) = feed_server.requests_for("/api/v2/search")
    assert s.params == {"type": ["statuses"], "q": ["VLM"], "resolve": ["false"], "limit": ["40"]}
    (n,) = feed_server.requests_for("/api/v1/notifications")
    assert n.params == {"types[]": ["mention"], "limit": ["40"]}
    assert s.headers["authorization"] == n.headers["authorization"] == f"Bearer {TOKEN}"
    # The next poll asks only for what is newer, each endpoint from its own cursor.
    search.entries.append(status(4))
    notes.entries.append(notification(5))
    items = await fetch(source)
    assert numbers(items) == [4, 5]
    assert feed_server.requests_for("/api/v2/search")[-1].params["min_id"] == [str(BASE_ID + 2)]
    assert feed_server.requests_for("/api/v1/notifications")[-1].params["min_id"] == ["4000003"]


async def test_search_burst_beyond_the_page_limit(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    """Search answers newest first: a range it cannot finish in one poll is finished next."""
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    monkeypatch.setattr(mastodon, "MAX_PAGES", 2)
    search = Search(feed_server, "/api/v2/search", [status(1)])
    source = make_source(
        make_config,
        instance=feed_server.base,
        search=["VLM"],
        token_env="MASTODON_TOKEN",
        mentions=False,
    )
    async with httpx.AsyncClient() as client:
        assert numbers(await source.fetch(client)) == [1]
        search.entries += [status(n) for n in range(2, 202)]  # 200: five pages, two a poll
        first = numbers(await source.fetch(client))
        search.entries += [status(n) for n in range(202, 212)]  # more while the gap is open
        second = numbers(await source.fetch(client))
        third = numbers(await source.fetch(client))
        fourth = numbers(await source.fetch(client))
    seen = first + second + third + fourth
    assert sorted(seen) == list(range(2, 212)) and len(seen) == len(set(seen))
    assert first == list(range(122, 202))  # the newest first
    assert await fetch(source) == []


async def test_mentions_need_the_token(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    source = make_source(
        make_config,
        instance=feed_server.base,
        hashtags=["vlm"],
        mentions=True,
        token_env="MASTODON_TOKEN",
    )
    Paged(feed_server, TAG_PATH, [status(1)])
    with pytest.raises(SourceError, match="MASTODON_TOKEN is not set"):
        await fetch(source)


async def test_boosts_and_replies(make_config, feed_server: FeedServer) -> None:
    original = status(1, account=account("raadslid@politiek.social", followers=5000))
    boost = status(
        2,
        reblog=original,
        content="",
        account=account("fan", followers=3),
        url=None,
        uri=f"https://mastodon.test/users/fan/statuses/{BASE_ID + 2}/activity",
    )
    reply = status(3, in_reply_to_id=original["id"], visibility="unlisted")
    Paged(feed_server, TAG_PATH, [boost, reply])
    source = make_source(make_config, instance=feed_server.base, hashtags=["vlm"])
    boosted, answer = await fetch(source)
    host = source.host
    # A boost is the boosted post: its author, link, id and reach; the booster is noted.
    assert boosted.ref == boosted.key == f"{host}:{original['id']}"
    assert boosted.url == original["url"]
    assert (boosted.author, boosted.reach) == ("@raadslid@politiek.social", 5000)
    assert boosted.text.endswith("(boosted by @fan)")
    assert boosted.extra["boosted_by"] == "@fan"
    assert answer.in_reply_to == boosted.ref
    assert answer.reply_meta["visibility"] == "unlisted"


def test_html_becomes_text_with_links() -> None:
    content = (
        '<p><span class="h-card" translate="no"><a href="https://mastodon.test/@vlm" '
        'class="u-url mention">@<span>vlm</span></a></span> Waarom is het '
        '<a href="https://www.vlm.be/nl/themas/mestbank/aangifte" target="_blank" rel="nofollow noopener">'
        "loket</a> dicht? Zie ook "
        '<a href="https://nieuws.example.org/artikel/123" target="_blank" rel="nofollow noopener noreferrer" '
        'translate="no"><span class="invisible">https://</span><span class="ellipsis">nieuws.example.org/arti'
        '</span><span class="invisible">kel/123</span></a></p><p>Tweede&nbsp;alinea &amp; meer<br>'
        "nieuwe regel</p>"
    )
    text = status_text(
        {
            "content": content,
            "spoiler_text": "mest",
            "media_attachments": [
                {"type": "image", "description": "Foto van een   gesloten loket"},
                {"type": "video", "description": None},
            ],
        }
    )
    assert text == (
        "CW: mest\n\n"
        "@vlm Waarom is het loket (https://www.vlm.be/nl/themas/mestbank/aangifte) dicht? "
        "Zie ook https://nieuws.example.org/artikel/123\n\n"
        "Tweede alinea & meer\nnieuwe regel\n\n"
        "[image: Foto van een gesloten loket] [video]"
    )


# --- errors and rate limits --------------------------------------------------------------


async def test_429_with_retry_after(make_config, feed_server: FeedServer) -> None:
    feed_server.serve(
        TAG_PATH,
        b'{"error":"Too many requests"}',
        status=429,
        headers={"Retry-After": "120"},
        content_type=JSON,
    )
    source = make_source(make_config, instance=feed_server.base, hashtags=["vlm"])
    with pytest.raises(SourceError, match="rate-limited") as info:
        await fetch(source)
    assert info.value.retry_after == pytest.approx(120, abs=2)


async def test_spent_quota_pauses(make_config, feed_server: FeedServer) -> None:
    reset = (
        (datetime.now(UTC) + timedelta(seconds=90))
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )
    timeline = Paged(feed_server, TAG_PATH, [status(1)])
    timeline.headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
    }
    Paged(feed_server, "/api/v1/timelines/tag/mestbank", [status(2)])
    source = make_source(make_config, instance=feed_server.base, hashtags=["vlm", "mestbank"])
    assert numbers(await fetch(source)) == [1]  # the second hashtag waits for the reset
    assert source.pause_s == pytest.approx(90, abs=5)
    assert feed_server.requests_for("/api/v1/timelines/tag/mestbank") == []
    timeline.headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "299",
        "X-RateLimit-Reset": reset,
    }
    assert numbers(await fetch(source)) == [2]
    assert source.pause_s is None


async def test_refused_token_is_a_clear_error(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    feed_server.serve(
        "/api/v1/notifications",
        b'{"error":"The access token is invalid"}',
        status=401,
        content_type=JSON,
    )
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    with pytest.raises(SourceError) as info:
        await fetch(source)
    message = str(info.value)
    assert (
        "401" in message
        and "The access token is invalid" in message
        and "MASTODON_TOKEN" in message
    )
    assert TOKEN not in message and "\n" not in message
    assert info.value.retry_after is None


async def test_a_failed_fetch_moves_no_cursor(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    timeline = Paged(feed_server, TAG_PATH, [status(1)])
    Paged(feed_server, "/api/v1/notifications", [notification(2)])
    source = make_source(
        make_config, instance=feed_server.base, hashtags=["vlm"], token_env="MASTODON_TOKEN"
    )
    assert numbers(await fetch(source)) == [1, 2]
    timeline.entries.append(status(3))
    feed_server.serve(
        "/api/v1/notifications", b"<html>Bad gateway</html>", status=502, content_type="text/html"
    )
    with pytest.raises(SourceError, match="HTTP 502"):
        await fetch(source)
    Paged(feed_server, "/api/v1/notifications", [notification(2)])
    assert numbers(await fetch(source)) == [3]


# --- checkpoints -------------------------------------------------------------------------


def restarted(make_config, state: dict[str, Any], **options: object) -> MastodonSource:
    """A new source, as after a restart of the collector, given the saved checkpoint."""
    source = make_source(make_config, **options)
    source.resume(json.loads(json.dumps(state)))  # as the poller saves and reads it
    return source


async def test_a_restart_resumes_every_cursor(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    """What came in while the collector was down comes after the restart, all of it, once:
    beyond max_backlog, and a burst beyond the page limit carries on (across a restart too)."""
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    monkeypatch.setattr(mastodon, "MAX_PAGES", 2)
    tag = Paged(feed_server, TAG_PATH, [status(n) for n in range(1, 6)])
    search = Search(feed_server, "/api/v2/search", [status(n) for n in range(1001, 1006)])
    notes = Paged(
        feed_server, "/api/v1/notifications", [notification(n) for n in range(2001, 2006)]
    )
    options: dict[str, object] = {
        "instance": feed_server.base,
        "hashtags": ["vlm"],
        "search": ["VLM"],
        "token_env": "MASTODON_TOKEN",
        "max_backlog": 3,
    }
    first = make_source(make_config, **options)
    got = numbers(await fetch(first))
    assert got == [3, 4, 5, 1003, 1004, 1005, 2003, 2004, 2005]
    state = first.checkpoint()
    assert json.loads(json.dumps(state)) == state
    assert state["instance"] == feed_server.base
    # Down: 100 posts on each endpoint, more than two pages of 40 a poll.
    tag.entries += [status(n) for n in range(6, 106)]
    search.entries += [status(n) for n in range(1006, 1106)]
    notes.entries += [notification(n) for n in range(2006, 2106)]
    second = restarted(make_config, state, **options)
    assert second.checkpoint() == state
    burst = numbers(await fetch(second))
    assert len(burst) == 240  # two pages of each endpoint
    assert feed_server.requests_for(TAG_PATH)[1].params["min_id"] == [str(BASE_ID + 5)]
    # Down again, in the middle of the burst (search has a range left to finish).
    assert second.checkpoint()["cursors"]["search 'VLM'"]["high"] is not None
    third = restarted(make_config, second.checkpoint(), **options)
    rest = numbers(await fetch(third))
    got += burst + rest
    expected = [*range(3, 106), *range(1003, 1106), *range(2003, 2106)]
    assert sorted(got) == expected and len(got) == len(set(got))
    assert await fetch(third) == []


async def test_a_checkpoint_of_another_server_or_endpoint_is_ignored(
    make_config, feed_server: FeedServer
) -> None:
    tag = Paged(feed_server, TAG_PATH, [status(n) for n in range(1, 6)])
    Paged(feed_server, "/api/v1/timelines/tag/mestbank", [status(n) for n in range(11, 16)])
    options: dict[str, object] = {"instance": feed_server.base, "hashtags": ["vlm"]}
    source = make_source(make_config, max_backlog=3, **options)
    await fetch(source)
    state = source.checkpoint()
    tag.entries += [status(n) for n in range(6, 10)]
    # The entry points at another server now: its ids mean nothing here.
    elsewhere = restarted(make_config, state, instance="https://mastodon.social", hashtags=["vlm"])
    assert elsewhere.checkpoint()["cursors"] == {}
    moved = {**state, "instance": "https://mastodon.social"}
    fresh = restarted(make_config, moved, max_backlog=3, **options)
    assert numbers(await fetch(fresh)) == [7, 8, 9]  # a fresh start: only the backlog
    # Another hashtag: its own first poll; the one configured still resumes.
    both = restarted(
        make_config, state, instance=feed_server.base, hashtags=["mestbank", "vlm"], max_backlog=3
    )
    assert list(both.checkpoint()["cursors"]) == ["#vlm"]
    assert numbers(await fetch(both)) == [13, 14, 15, 6, 7, 8, 9]


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"instance": 5, "cursors": {}},
        {"instance": "BASE", "cursors": []},
        {"instance": "BASE", "cursors": {"#vlm": "113500000000000005"}},
        {"instance": "BASE", "cursors": {"#vlm": {"low": 113500000000000005}}},
        {"instance": "BASE", "cursors": {"#vlm": {"low": ""}}},
        {"instance": "BASE", "cursors": {"#vlm": {"low": None, "high": "1", "top": "2"}}},
        {"instance": "BASE", "cursors": {"#vlm": {"low": "1", "high": "2", "top": "3"}}},
        {"instance": "BASE", "cursors": {"#vlm": {"low": ["1"]}}},
    ],
)
async def test_a_garbled_checkpoint_is_a_fresh_start(
    make_config, feed_server: FeedServer, state: dict[str, Any]
) -> None:
    Paged(feed_server, TAG_PATH, [status(n) for n in range(1, 6)])
    if state.get("instance") == "BASE":
        state = {**state, "instance": feed_server.base}
    source = restarted(make_config, state, instance=feed_server.base, hashtags=["vlm"])
    assert source.checkpoint() == {"instance": feed_server.base, "cursors": {}}
    source.resume(None)  # type: ignore[arg-type]  # not even a dict
    assert numbers(await fetch(source)) == [1, 2, 3, 4, 5]


# --- streaming --------------------------------------------------------------------------


def sse(event: str, payload: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode()


async def collect_live(source: MastodonSource) -> tuple[list[list], SourceError]:
    batches: list[list] = []
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError) as info:
            async with asyncio.timeout(10):
                async for batch in source.live(client):
                    batches.append(batch)
    return batches, info.value


async def test_streams_bring_updates_and_mentions(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    # The streaming server's address as /api/v2/instance gives it (here: the same server).
    streaming = feed_server.base.replace("http://", "ws://")
    feed_server.serve(
        "/api/v2/instance",
        json.dumps(
            {"domain": "mastodon.test", "configuration": {"urls": {"streaming": streaming}}}
        ).encode(),
        content_type=JSON,
    )
    feed_server.serve(
        "/api/v1/streaming/hashtag",
        content_type="text/event-stream",
        stream=[
            (0.0, b":)\n"),
            (0.05, b":thump\n"),
            (0.0, sse("update", status(1))[:50]),  # an event split over two chunks
            (0.05, sse("update", status(1))[50:]),
            (0.0, sse("delete", str(BASE_ID + 9))),
            (0.0, b"event: update\ndata: {not json\n\n"),
            (0.3, b":thump\n"),
        ],
    )
    feed_server.serve(
        "/api/v1/streaming/user/notification",
        content_type="text/event-stream",
        stream=[
            (0.0, b":)\n"),
            (0.1, sse("notification", notification(2, kind="favourite"))),
            (0.0, sse("notification", notification(3)).replace(b"\n", b"\r\n")),
            (0.3, b":thump\n"),
        ],
    )
    source = make_source(
        make_config, instance=feed_server.base, hashtags=["vlm"], token_env="MASTODON_TOKEN"
    )
    assert source.can_live
    batches, error = await collect_live(source)
    assert batches[0] == []  # connected
    assert sorted(numbers([i for b in batches for i in b])) == [1, 3]
    assert "closed the stream" in str(error)
    (tag,) = feed_server.requests_for("/api/v1/streaming/hashtag")
    assert tag.params == {"tag": ["vlm"]}
    (user,) = feed_server.requests_for("/api/v1/streaming/user/notification")
    assert tag.headers["authorization"] == user.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_silent_stream_counts_as_dropped(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    feed_server.serve(
        "/api/v1/streaming/user/notification",
        content_type="text/event-stream",
        stream=[(0.0, b":)\n"), (3.0, b":thump\n")],
    )
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    source.stream_timeout = 0.3
    batches, error = await collect_live(source)  # no /api/v2/instance: the instance itself
    assert batches == [[]]
    assert "silent" in str(error)


async def test_a_refused_stream_says_why(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    feed_server.serve(
        "/api/v1/streaming/user/notification",
        b'{"error":"Error while verifying token"}',
        status=401,
        content_type=JSON,
    )
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    batches, error = await collect_live(source)
    assert batches == []
    assert "401" in str(error) and "MASTODON_TOKEN" in str(error)


def test_sse_parser() -> None:
    parser = SSEParser()
    assert parser.feed(b":thump\nevent: upd") == []
    assert parser.feed(b"ate\ndata: a\r") == []
    assert parser.feed(b"\ndata:b\r\n\r\n: x\n\ndata: c\n") == [("update", "a\nb")]
    assert parser.feed(b"\n") == [("message", "c")]
    with pytest.raises(SourceError):
        SSEParser(max_event=100).feed(b"data: " + b"x" * 200)


# --- replies ----------------------------------------------------------------------------


def mention_for(make_config, item):
    intake = Intake(make_config())
    return intake.admit(item, "Mastodon #vlm", False, datetime.now(UTC))


def posted(server: FeedServer, url: str = "https://mastodon.test/@vlm/999") -> None:
    def answer(request: Request) -> Response:
        body = status(999, url=url, in_reply_to_id=request.json()["in_reply_to_id"])
        return Response(body=json.dumps(body).encode(), content_type=JSON)

    server.route("/api/v1/statuses", answer)


async def test_reply_posts_once_with_an_idempotency_key(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    Paged(feed_server, "/api/v1/notifications", [notification(1, visibility="private")])
    posted(feed_server)
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    (item,) = await fetch(source)
    mention = mention_for(make_config, item)
    async with httpx.AsyncClient() as client:
        link = await source.reply(client, mention, "Dank voor uw vraag, we kijken het na.")
        again = await source.reply(client, mention, "Dank voor uw vraag, we kijken het na.")
    assert link == again == "https://mastodon.test/@vlm/999"
    first, second = feed_server.requests_for("/api/v1/statuses")
    assert first.method == "POST"
    assert first.json() == {
        "status": "@burger@example.social Dank voor uw vraag, we kijken het na.",
        "in_reply_to_id": str(BASE_ID + 1),
        "visibility": "private",  # never more public than the post it answers
    }
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert (
        first.headers["idempotency-key"]
        and first.headers["idempotency-key"] == second.headers["idempotency-key"]
    )


async def test_reply_keeps_direct_and_an_existing_mention(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    Paged(feed_server, "/api/v1/notifications", [notification(1, visibility="direct")])
    posted(feed_server)
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    (item,) = await fetch(source)
    async with httpx.AsyncClient() as client:
        await source.reply(
            client, mention_for(make_config, item), "Dag @Burger@example.social, het loket is open."
        )
    (request,) = feed_server.requests_for("/api/v1/statuses")
    assert request.json()["visibility"] == "direct"
    assert request.json()["status"] == "Dag @Burger@example.social, het loket is open."


async def test_reply_refusals(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    Paged(feed_server, "/api/v1/notifications", [notification(1)])
    feed_server.serve(
        "/api/v1/statuses",
        b'{"error":"Validation failed: Text character limit of 500 exceeded"}',
        status=422,
        content_type=JSON,
    )
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    (item,) = await fetch(source)
    mention = mention_for(make_config, item)
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match="HTTP 422 Validation failed: Text character limit"):
            await source.reply(client, mention, "x" * 600)
        # A post read through another server: its id means nothing to ours.
        item.ref = item.key = f"mastodon.social:{BASE_ID + 1}"
        other = mention_for(make_config, item)
        with pytest.raises(SourceError, match="cannot be replied to from here"):
            await source.reply(client, other, "Dank u")
    assert len(feed_server.requests_for("/api/v1/statuses")) == 1


async def test_dry_run_posts_nothing(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    Paged(feed_server, "/api/v1/notifications", [notification(1)])
    posted(feed_server)
    source = make_source(
        make_config, instance=feed_server.base, token_env="MASTODON_TOKEN", replies="dry-run"
    )
    assert source.can_reply
    (item,) = await fetch(source)
    mention = mention_for(make_config, item)
    async with httpx.AsyncClient() as client:
        said = await source.reply(client, mention, "Dank u")
        also = await make_source(
            make_config, instance=feed_server.base, token_env="MASTODON_TOKEN"
        ).reply(client, mention, "Dank u", dry_run=True)
    assert (
        said.startswith("dry run: ")
        and f"status {BASE_ID + 1}" in said
        and "@burger@example.social Dank u" in said
    )
    assert also.startswith("dry run: ")
    assert feed_server.requests_for("/api/v1/statuses") == []


async def test_the_poller_stores_polled_and_streamed_posts(
    make_config, feed_server: FeedServer, monkeypatch
) -> None:
    """The whole path: the poller polls the tag, holds the stream beside it, stores both."""
    from sources.poller import Poller
    from store import Store

    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    Paged(feed_server, TAG_PATH, [status(1)])
    feed_server.serve(
        "/api/v1/streaming/hashtag",
        content_type="text/event-stream",
        stream=[(0.0, b":)\n"), (0.1, sse("update", status(2))), (5.0, b":thump\n")],
    )
    lines = ["[[sources]]", 'type = "mastodon"', 'name = "Mastodon #vlm"']
    lines += [f"instance = {json.dumps(feed_server.base)}", 'hashtags = ["vlm"]']
    lines += ['token_env = "MASTODON_TOKEN"', "mentions = false"]
    config = make_config("\n".join(lines) + "\n")
    source = MastodonSource.from_config(config.sources[0], config)
    store = Store(config.data_dir)
    poller = Poller([source], Intake(config), store)
    task = asyncio.create_task(poller.run())
    try:
        async with asyncio.timeout(10):
            while len(store.load()) < 2 or not poller.health[source.name].live:
                if task.done():
                    task.result()  # the poller stopped: say why
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    stored = sorted(store.load(), key=lambda m: m.ref)
    assert [m.url for m in stored] == [status(1)["url"], status(2)["url"]]
    assert {m.channel for m in stored} == {"mastodon"}
    assert stored[0].deadline is not None  # the 2-hour norm runs
