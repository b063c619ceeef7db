"""The YouTube source against a real HTTP server on loopback: channel feeds in YouTube's Atom,
comments in the Data API v3's JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.source import OptionError, Replies, SourceError
from sources.youtube import YouTubeSource, until_quota_reset

CHANNEL = "UCabcdefghijklmnopqrstuv"
VIDEO = "abc123def45"
JSON = "application/json; charset=UTF-8"
THREADS = "/youtube/v3/commentThreads"

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"/>
 <id>yt:channel:{CHANNEL}</id>
 <yt:channelId>{CHANNEL}</yt:channelId>
 <title>Vlaamse Landmaatschappij</title>
 <link rel="alternate" href="https://www.youtube.com/channel/{CHANNEL}"/>
 <author><name>Vlaamse Landmaatschappij</name><uri>https://www.youtube.com/channel/{CHANNEL}</uri></author>
 <published>2015-01-01T00:00:00+00:00</published>
 <entry>
  <id>yt:video:{VIDEO}</id>
  <yt:videoId>{VIDEO}</yt:videoId>
  <yt:channelId>{CHANNEL}</yt:channelId>
  <title>De mestbank uitgelegd</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v={VIDEO}"/>
  <author><name>Vlaamse Landmaatschappij</name><uri>https://www.youtube.com/channel/{CHANNEL}</uri></author>
  <published>2026-03-01T10:00:00+00:00</published>
  <updated>2026-03-02T10:00:00+00:00</updated>
  <media:group>
   <media:title>De mestbank uitgelegd</media:title>
   <media:content url="https://www.youtube.com/v/{VIDEO}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i1.ytimg.com/vi/{VIDEO}/hqdefault.jpg" width="480" height="360"/>
   <media:description>Hoe werkt de mestbank? [bold]Kijk[/bold]</media:description>
   <media:community><media:starRating count="5" average="5.00" min="1" max="5"/><media:statistics views="123"/></media:community>
  </media:group>
 </entry>
</feed>
""".encode()


@pytest.fixture(autouse=True)
def api_key(monkeypatch) -> None:
    monkeypatch.setenv("YT_KEY", "AIza-test-key")


def make_source(make_config, **options: object) -> YouTubeSource:
    lines = ["[[sources]]", 'type = "youtube"', 'name = "yt"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    return YouTubeSource.from_config(config.sources[0], config)


def comment(comment_id: str, video: str = VIDEO, parent: str = "", **fields: object) -> dict:
    snippet = {
        "channelId": CHANNEL,
        "videoId": video,
        "textDisplay": f"Vraag over de mestbank ({comment_id})",
        "textOriginal": f"Vraag over de mestbank ({comment_id})",
        "authorDisplayName": f"@kijker-{comment_id}",
        "authorProfileImageUrl": "https://yt3.ggpht.com/x",
        "authorChannelUrl": "http://www.youtube.com/@kijker",
        "authorChannelId": {"value": "UCzzzzzzzzzzzzzzzzzzzzzz"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": "2026-03-02T09:15:00Z",
        "updatedAt": "2026-03-02T09:15:00Z",
    }
    if parent:
        snippet["parentId"] = parent
    snippet.update(fields)
    return {"kind": "youtube#comment", "etag": "e", "id": comment_id, "snippet": snippet}


def thread(thread_id: str, replies: list[dict] | None = None, total: int | None = None) -> dict:
    replies = replies or []
    body = {
        "kind": "youtube#commentThread",
        "etag": "e",
        "id": thread_id,
        "snippet": {
            "channelId": CHANNEL,
            "videoId": VIDEO,
            "topLevelComment": comment(thread_id),
            "canReply": True,
            "totalReplyCount": len(replies) if total is None else total,
            "isPublic": True,
        },
    }
    if replies:
        body["replies"] = {"comments": replies}
    return body


class Threads:
    """commentThreads.list over `threads` (newest first), `maxResults` per page, page tokens
    that stay put when new threads arrive (as YouTube's do)."""

    def __init__(self, threads: list[dict]) -> None:
        self.threads = threads

    def __call__(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        ids = [t["id"] for t in self.threads]
        start = ids.index(p["pageToken"]) if "pageToken" in p else 0
        size = int(p["maxResults"])
        chunk = self.threads[start : start + size]
        body: dict = {
            "kind": "youtube#commentThreadListResponse",
            "etag": "e",
            "pageInfo": {"totalResults": len(chunk), "resultsPerPage": size},
            "items": chunk,
        }
        if start + size < len(ids):
            body["nextPageToken"] = ids[start + size]
        return Response(body=json.dumps(body).encode(), content_type=JSON)


def google_error(
    code: int, reason: str, message: str, domain: str = "youtube.commentThread"
) -> bytes:
    errors = [{"message": message, "domain": domain, "reason": reason}]
    return json.dumps({"error": {"code": code, "message": message, "errors": errors}}).encode()


async def fetch(source: YouTubeSource) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def api(feed_server: FeedServer) -> str:
    return feed_server.base + "/youtube/v3"


# --- configuration -----------------------------------------------------------------------


def test_from_config_defaults(make_config) -> None:
    source = make_source(make_config, channel_ids=[CHANNEL])
    assert (source.type, source.interval, source.keyword_filter) == ("youtube", 900, True)
    assert source.api == "https://www.googleapis.com/youtube/v3" and not isinstance(source, Replies)  # no replies
    assert [f.url for f in source.feeds] == [
        f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    ]
    assert source.targets == []


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "channel_ids"),
        ({"channel_ids": ["VLM"]}, "channel_ids"),
        ({"comment_channel_ids": ["@vlm"], "api_key_env": "YT_KEY"}, "comment_channel_ids"),
        (
            {"comment_video_ids": ["https://youtu.be/x"], "api_key_env": "YT_KEY"},
            "comment_video_ids",
        ),
        ({"comment_video_ids": [VIDEO]}, "api_key_env"),
        ({"channel_ids": [CHANNEL], "max_results": 500}, "max_results"),
        ({"channel_ids": [CHANNEL], "site": "youtube"}, "site"),
        ({"channel_ids": [CHANNEL], "replies": "send"}, "replies"),
    ],
)
def test_from_config_errors_name_the_key(make_config, options: dict, key: str) -> None:
    with pytest.raises(OptionError, match=f"^{key}:"):
        make_source(make_config, **options)


async def test_a_missing_key_says_which_variable(make_config, monkeypatch) -> None:
    monkeypatch.delenv("YT_KEY")
    source = make_source(make_config, comment_video_ids=[VIDEO], api_key_env="YT_KEY")
    with pytest.raises(
        SourceError, match="^YouTube comments: the environment variable YT_KEY is not set$"
    ):
        await fetch(source)


def test_the_quota_resets_at_midnight_pacific() -> None:
    # 23:00 in Brussels on 1 July is 14:00 in California (PDT): ten hours to go.
    assert until_quota_reset(datetime(2026, 7, 1, 21, 0, tzinfo=UTC)) == 10 * 3600
    # 7 March, 23:00 PST → 8 March 00:00 PST, one hour (the clocks go forward at 02:00).
    assert until_quota_reset(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) == 3600


# --- videos ------------------------------------------------------------------------------


async def test_channel_feed_videos(make_config, feed_server: FeedServer) -> None:
    feed_server.serve(
        "/feeds/videos.xml", FEED, content_type="application/atom+xml; charset=UTF-8", etag='"v1"'
    )
    source = make_source(make_config, channel_ids=[CHANNEL], site=feed_server.base)
    (video,) = await fetch(source)
    assert (video.channel, video.ref, video.title) == ("youtube", VIDEO, "De mestbank uitgelegd")
    assert video.url == f"https://www.youtube.com/watch?v={VIDEO}"
    assert video.text == "Hoe werkt de mestbank? [bold]Kijk[/bold]"  # markup left for intake
    assert video.published_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert feed_server.requests_for("/feeds/videos.xml")[0].params["channel_id"] == [CHANNEL]
    assert await fetch(source) == []  # 304: nothing new


# --- comments ----------------------------------------------------------------------------


async def test_comments_become_items(make_config, feed_server: FeedServer) -> None:
    html = comment(
        "Ugy2.r1",
        parent="Ugy2",
        textDisplay='Zie <a href="https://www.vlm.be/mest">hier</a> &amp; <b>daar</b>',
    )
    del html["snippet"]["textOriginal"]  # only the author gets textOriginal
    threads = [thread("Ugy2", [html]), thread("Ugy1")]
    threads[1]["snippet"]["topLevelComment"]["snippet"]["textOriginal"] = "[red]VLM[/red] \x1b[5m"
    feed_server.route(THREADS, Threads(threads))
    source = make_source(
        make_config, comment_channel_ids=[CHANNEL], api_key_env="YT_KEY", api=api(feed_server)
    )
    top, reply, older = await fetch(source)
    assert (top.key, top.ref, top.in_reply_to) == ("Ugy2", "Ugy2", VIDEO)  # threads under the video
    assert top.url == f"https://www.youtube.com/watch?v={VIDEO}&lc=Ugy2"
    assert (top.channel, top.author, top.reach) == ("youtube", "@kijker-Ugy2", None)
    assert top.published_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert (reply.ref, reply.in_reply_to) == ("Ugy2.r1", "Ugy2")
    assert reply.url == f"https://www.youtube.com/watch?v={VIDEO}&lc=Ugy2.r1"
    assert reply.text == "Zie hier (https://www.vlm.be/mest) & daar"  # textDisplay is HTML
    assert older.text == "[red]VLM[/red] \x1b[5m"  # left for intake
    request = feed_server.requests_for(THREADS)[0]
    assert request.headers["x-goog-api-key"] == "AIza-test-key" and "key" not in request.params
    params = {k: v[0] for k, v in request.params.items()}
    assert params == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "order": "time",
        "maxResults": "50",
    }


async def test_comments_incremental_without_loss_or_repeats(
    make_config, feed_server: FeedServer
) -> None:
    threads = [thread(f"T{n}") for n in range(8, 0, -1)]
    feed_server.route(THREADS, Threads(threads))
    source = make_source(
        make_config,
        comment_video_ids=[VIDEO],
        api_key_env="YT_KEY",
        api=api(feed_server),
        max_results=3,
    )
    assert [i.ref for i in await fetch(source)] == ["T8", "T7", "T6"]  # the first poll: one page
    assert feed_server.requests_for(THREADS)[0].params["videoId"] == [VIDEO]
    assert await fetch(source) == []
    threads[:0] = [thread(f"T{n}") for n in range(13, 8, -1)]
    threads[5] = thread("T8", [comment("T8.r1", parent="T8")])  # a new reply on a known thread
    before = len(feed_server.requests_for(THREADS))
    got = [i.ref for i in await fetch(source)]
    assert got == ["T13", "T12", "T11", "T10", "T9", "T8.r1"]
    assert len(feed_server.requests_for(THREADS)) - before == 2  # stopped at the known T8
    assert await fetch(source) == []
    source.rewind()  # a fetch that delivered nothing: nothing to deliver again
    assert await fetch(source) == []


async def test_threads_with_many_replies_are_read_in_full_once(
    make_config, feed_server: FeedServer
) -> None:
    five = [comment(f"T1.r{n}", parent="T1") for n in range(5)]
    feed_server.route(THREADS, Threads([thread("T1", five, total=7)]))
    all_replies = [comment(f"T1.r{n}", parent="T1") for n in range(7)]
    feed_server.serve(
        "/youtube/v3/comments",
        json.dumps({"kind": "youtube#commentListResponse", "items": all_replies}).encode(),
        content_type=JSON,
    )
    source = make_source(
        make_config, comment_video_ids=[VIDEO], api_key_env="YT_KEY", api=api(feed_server)
    )
    assert len(await fetch(source)) == 8  # the first comment and seven replies, once each
    assert feed_server.requests_for("/youtube/v3/comments")[0].params["parentId"] == ["T1"]
    assert await fetch(source) == []
    assert len(feed_server.requests_for("/youtube/v3/comments")) == 1  # the count did not change


async def test_quota_exceeded_waits_until_midnight_pacific(
    make_config, feed_server: FeedServer
) -> None:
    message = 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.'
    feed_server.serve(
        THREADS,
        google_error(403, "quotaExceeded", message, "youtube.quota"),
        status=403,
        content_type=JSON,
    )
    source = make_source(
        make_config, comment_video_ids=[VIDEO], api_key_env="YT_KEY", api=api(feed_server)
    )
    with pytest.raises(
        SourceError, match="daily YouTube API quota is spent; it resets at midnight Pacific"
    ) as info:
        await fetch(source)
    assert info.value.retry_after == pytest.approx(until_quota_reset(), abs=5)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            google_error(
                400, "keyInvalid", "API key not valid. Please pass a valid API key.", "usageLimits"
            ),
            "HTTP 400 keyInvalid API key not valid. Please pass a valid API key.: check the API key",
        ),
        (
            404,
            google_error(
                404,
                "videoNotFound",
                "The video identified by the videoId parameter could not be found.",
            ),
            "HTTP 404 videoNotFound The video identified",
        ),
        (500, b"<html>Internal error</html>", "HTTP 500 Internal error"),
        (429, b"", "rate-limited (HTTP 429)"),
    ],
)
async def test_errors_are_clear(
    make_config, feed_server: FeedServer, status: int, body: bytes, message: str
) -> None:
    feed_server.serve(THREADS, body, status=status, content_type=JSON)
    source = make_source(
        make_config, comment_video_ids=[VIDEO], api_key_env="YT_KEY", api=api(feed_server)
    )
    with pytest.raises(SourceError, match=f"^YouTube comments on video {VIDEO}: ") as info:
        await fetch(source)
    assert message in str(info.value) and "AIza" not in str(info.value)


async def test_comments_turned_off_is_no_failure(make_config, feed_server: FeedServer) -> None:
    def answer(request: Request) -> Response:
        if request.params.get("videoId") == [VIDEO]:
            message = "The video identified by the videoId parameter has disabled comments."
            return Response(
                status=403, body=google_error(403, "commentsDisabled", message), content_type=JSON
            )
        return Threads([thread("T1")])(request)

    feed_server.route(THREADS, answer)
    source = make_source(
        make_config,
        comment_channel_ids=[CHANNEL],
        comment_video_ids=[VIDEO],
        api_key_env="YT_KEY",
        api=api(feed_server),
    )
    assert [i.ref for i in await fetch(source)] == ["T1"]


async def test_a_failing_part_loses_nothing(make_config, feed_server: FeedServer) -> None:
    feed_server.serve("/feeds/videos.xml", FEED, content_type="application/atom+xml", etag='"v1"')
    feed_server.serve(THREADS, b"<html>Backend Error</html>", status=500, content_type="text/html")
    source = make_source(
        make_config,
        channel_ids=[CHANNEL],
        comment_video_ids=[VIDEO],
        api_key_env="YT_KEY",
        api=api(feed_server),
        site=feed_server.base,
    )
    with pytest.raises(SourceError, match="HTTP 500"):
        await fetch(source)
    feed_server.route(THREADS, Threads([thread("T1")]))
    assert [i.ref for i in await fetch(source)] == [VIDEO, "T1"]  # the video was not lost


def test_replies_are_not_sent(make_config) -> None:
    from sources.replies import repliers

    source = make_source(make_config, channel_ids=[CHANNEL])
    assert not isinstance(source, Replies) and repliers([source]) == {}  # the desk offers none


# --- checkpoints -----------------------------------------------------------------------------


async def test_a_restart_resumes_from_the_checkpoint(make_config, feed_server: FeedServer) -> None:
    feed_server.serve("/feeds/videos.xml", FEED, content_type="application/atom+xml", etag='"v1"')
    many = [comment(f"T3.r{n}", parent="T3") for n in range(7)]
    threads = [thread("T3", many[:5], total=7), thread("T2"), thread("T1")]
    feed_server.route(THREADS, Threads(threads))
    feed_server.serve(
        "/youtube/v3/comments",
        json.dumps({"kind": "youtube#commentListResponse", "items": many}).encode(),
        content_type=JSON,
    )
    options = {
        "channel_ids": [CHANNEL],
        "comment_video_ids": [VIDEO],
        "api_key_env": "YT_KEY",
        "api": api(feed_server),
        "site": feed_server.base,
        "max_results": 3,
    }
    source = make_source(make_config, **options)
    assert len(await fetch(source)) == 11  # the video, three threads, seven replies
    state = json.loads(json.dumps(source.checkpoint()))  # plain JSON, as the poller saves it
    feed_url = source.feeds[0].url
    assert state["feeds"] == {feed_url: source.feeds[0].checkpoint()}
    assert state["feeds"][feed_url]["etag"] == '"v1"'
    saved = state["targets"][f"videoId={VIDEO}"]
    assert saved["seen"][:2] == ["T3", "T3.r0"] and len(saved["seen"]) == 10
    assert saved["reply_counts"] == {"T3": 7}
    # While the collector was down: eight new threads, more than the first poll's one page.
    threads[:0] = [thread(f"T{n}") for n in range(11, 3, -1)]
    restarted = make_source(make_config, **options)
    restarted.resume(state)
    got = [i.ref for i in await fetch(restarted)]
    assert got == [f"T{n}" for n in range(11, 3, -1)]  # all of them, none twice
    # The feed was unchanged (a 304, no video again); T3's replies were not read again.
    assert feed_server.requests_for("/feeds/videos.xml")[-1].headers["if-none-match"] == '"v1"'
    assert len(feed_server.requests_for("/youtube/v3/comments")) == 1
    assert await fetch(restarted) == []


async def test_a_checkpoint_of_other_channels_or_garbage_is_ignored(
    make_config, feed_server: FeedServer
) -> None:
    feed_server.serve("/feeds/videos.xml", FEED, content_type="application/atom+xml", etag='"v1"')
    feed_server.route(THREADS, Threads([thread(f"T{n}") for n in range(4, 0, -1)]))
    options = {
        "channel_ids": [CHANNEL],
        "comment_video_ids": [VIDEO],
        "api_key_env": "YT_KEY",
        "api": api(feed_server),
        "site": feed_server.base,
        "max_results": 2,
    }
    source = make_source(make_config, **options)
    await fetch(source)
    state = source.checkpoint()
    ((feed_url, feed_state),) = state["feeds"].items()
    (target_state,) = state["targets"].values()
    other_feed = feed_server.base + "/feeds/videos.xml?channel_id=UCzzzzzzzzzzzzzzzzzzzzzz"
    garbage = [
        {},
        [],
        {"feeds": [], "targets": []},
        {"feeds": {feed_server.base: "x"}, "targets": {f"videoId={VIDEO}": ["T4"]}},
        {"targets": {f"videoId={VIDEO}": {"seen": "T4", "reply_counts": {}}}},
        {"targets": {f"videoId={VIDEO}": {"seen": [4], "reply_counts": {}}}},
        {"targets": {f"videoId={VIDEO}": {"seen": ["T4"], "reply_counts": {"T4": "7"}}}},
        {"feeds": {feed_url: {**feed_state, "digest": "not hex"}}},
        # Another channel's feed and another video's comments: the entry was changed.
        {"feeds": {other_feed: feed_state}, "targets": {"videoId=zzzzzzzzzzz": target_state}},
        {"targets": {f"allThreadsRelatedToChannelId={VIDEO}": target_state}},
    ]
    for bad in garbage:
        fresh = make_source(make_config, **options)
        fresh.resume(bad)  # type: ignore[arg-type]
        assert fresh.checkpoint()["targets"] == {}
        before = len(feed_server.requests_for("/feeds/videos.xml"))
        # As on day one: the whole feed, and one page of comments.
        assert [i.ref for i in await fetch(fresh)] == [VIDEO, "T4", "T3"]
        assert "if-none-match" not in feed_server.requests_for("/feeds/videos.xml")[before].headers


async def test_rewind_puts_the_checkpoint_back(make_config, feed_server: FeedServer) -> None:
    threads = [thread("T1")]
    feed_server.route(THREADS, Threads(threads))
    options = {"comment_video_ids": [VIDEO], "api_key_env": "YT_KEY", "api": api(feed_server)}
    source = make_source(make_config, **options)
    await fetch(source)
    saved = source.checkpoint()
    threads.insert(0, thread("T2"))
    assert len(await fetch(source)) == 1
    assert source.checkpoint() != saved
    source.rewind()
    assert source.checkpoint() == saved
