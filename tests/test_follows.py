"""Following the people on the watchlist (sources.follows): each source against a real HTTP
server on loopback answering in its API's shape (Mastodon account statuses, a Bluesky author
feed, an X user timeline, a YouTube channel feed, a blog's RSS), then intake and the store:
a followed post that does not name us owes no reply; one that does is an ordinary mention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.bluesky import BlueskySource
from sources.mastodon import MastodonSource
from sources.poller import Poller
from sources.registry import build_sources
from sources.source import OptionError
from sources.x import XSource
from sources.youtube import YouTubeSource
from store import Store
from webcare.config import ConfigError
from webcare.intake import Intake

JSON = "application/json; charset=utf-8"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANNEL = "UCabcdefghijklmnopqrstuv"

PEOPLE = """
[[watch.people]]
handle = "@jan@journa.host"
channel = "mastodon"
kind = "journalist"
name = "Jan Janssens"

[[watch.people]]
handle = "@weg@journa.host"
channel = "mastodon"
kind = "journalist"

[[watch.people]]
handle = "peer.bsky.social"
channel = "bluesky"
kind = "peer"

[[watch.people]]
handle = "weg.bsky.social"
channel = "bluesky"
kind = "peer"

[[watch.people]]
handle = "@opiniemaker"
channel = "x"
kind = "opinion-maker"

[[watch.people]]
handle = "@weg"
channel = "x"
kind = "opinion-maker"

[[watch.people]]
handle = "UCabcdefghijklmnopqrstuv"
channel = "youtube"
kind = "politician"
name = "Minister"

[[watch.people]]
handle = "@iemand"
kind = "journalist"

[[watch.people]]
handle = "@collega@journa.host"
channel = "mastodon"
kind = "ambassador-internal"
"""


def config_with(make_config, source: str, people: str = PEOPLE):
    return make_config(people + "\n" + source)


async def fetch(source: Any) -> list:
    async with httpx.AsyncClient() as client:
        return await source.fetch(client)


def ok(data: object, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(data).encode(), content_type=JSON, headers=headers or {})


# --- Mastodon: GET /api/v1/accounts/lookup, GET /api/v1/accounts/:id/statuses -------------


def mastodon_status(n: int, acct: str, text: str) -> dict[str, Any]:
    sid = str(113_500_000_000_000_000 + n)
    return {
        "id": sid,
        "created_at": (T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
        "in_reply_to_id": None,
        "visibility": "public",
        "url": f"https://journa.host/@{acct.split('@')[0]}/{sid}",
        "uri": f"https://journa.host/users/{acct.split('@')[0]}/statuses/{sid}",
        "content": f"<p>{text}</p>",
        "spoiler_text": "",
        "media_attachments": [],
        "account": {"id": "7", "acct": acct, "username": acct.split("@")[0],
                    "display_name": "Jan", "followers_count": 5000},
    }  # fmt: skip


class FakeMastodon:
    """Account lookup and account statuses (newest first, min_id/limit) as Mastodon has them."""

    def __init__(self, server: FeedServer) -> None:
        self.statuses: list[dict[str, Any]] = []
        self.headers: dict[str, str] = {}
        server.route("/api/v1/accounts/lookup", self.lookup)
        server.route("/api/v1/accounts/7/statuses", self.account_statuses)

    def lookup(self, request: Request) -> Response:
        if request.params["acct"] == ["jan@journa.host"]:
            return ok({"id": "7", "acct": "jan@journa.host", "username": "jan"})
        return Response(status=404, body=b'{"error":"Record not found"}', content_type=JSON)

    def account_statuses(self, request: Request) -> Response:
        p = {k: v[0] for k, v in request.params.items()}
        newer = [s for s in self.statuses if "min_id" not in p or int(s["id"]) > int(p["min_id"])]
        newer.sort(key=lambda s: int(s["id"]))
        page = newer[: int(p.get("limit", 20))] if "min_id" in p else newer[-int(p.get("limit", 20)):]
        return ok(list(reversed(page)), self.headers)


async def test_mastodon_follows_account_statuses(make_config, feed_server: FeedServer) -> None:
    masto = FakeMastodon(feed_server)
    masto.statuses = [mastodon_status(n, "jan@journa.host", f"Weerbericht {n}") for n in range(1, 13)]
    config = config_with(make_config, f'[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "{feed_server.base}"\n')
    source = MastodonSource.from_config(config.sources[0], config)
    # Everyone of the channel, but never staff (the internal ambassador).
    assert [p.handle for p in source.follow] == ["@jan@journa.host", "@weg@journa.host"]

    items = await fetch(source)
    # The first poll: the newest few only (the backlog), each with the journalist's badge.
    assert len(items) == 10 and {i.followed for i in items} == {"journalist"}
    assert items[-1].text == "Weerbericht 12"
    # The account that cannot be found is named in the source's health; the source did not fail.
    assert "@weg@journa.host" in source.warning and "no such account" in source.warning

    masto.statuses.append(mastodon_status(13, "jan@journa.host", "Nieuws over de mestbank"))
    items = await fetch(source)
    assert [i.text for i in items] == ["Nieuws over de mestbank"]
    last = feed_server.requests_for("/api/v1/accounts/7/statuses")[-1]
    assert last.params["min_id"] == [str(113_500_000_000_000_012)]
    assert len(feed_server.requests_for("/api/v1/accounts/lookup")) == 3  # jan once, weg at each poll

    # A restart goes on from the checkpoint: no second lookup, no fresh backlog.
    again = MastodonSource.from_config(config.sources[0], config)
    again.resume(json.loads(json.dumps(source.checkpoint())))
    masto.statuses.append(mastodon_status(14, "jan@journa.host", "Nog iets"))
    assert [i.text for i in await fetch(again)] == ["Nog iets"]
    assert feed_server.requests_for("/api/v1/accounts/lookup")[-1].params["acct"] == ["weg@journa.host"]


async def test_mastodon_resolves_an_account_it_does_not_know_with_the_token(make_config, feed_server, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "tok")
    masto = FakeMastodon(feed_server)
    masto.statuses = [mastodon_status(1, "weg@journa.host", "Eerste post")]
    feed_server.route("/api/v2/search", lambda r: ok({"accounts": [
        {"id": "9", "acct": "weg"}, {"id": "7", "acct": "weg@journa.host"}], "statuses": [], "hashtags": []}))  # fmt: skip
    config = config_with(make_config, f'[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "{feed_server.base}"\ntoken_env = "MASTODON_TOKEN"\nmentions = false\n')
    source = MastodonSource.from_config(config.sources[0], config)
    items = await fetch(source)
    # Both accounts are 7 on this fake server: the one post comes once.
    assert source.warning == "" and [i.text for i in items] == ["Eerste post"]
    [search] = feed_server.requests_for("/api/v2/search")
    assert search.params["q"] == ["@weg@journa.host"] and search.params["resolve"] == ["true"]
    assert search.headers["authorization"] == "Bearer tok"
    assert source.checkpoint()["accounts"] == {"jan@journa.host": "7", "weg@journa.host": "7"}


async def test_mastodon_rate_limit_stops_the_follows_until_the_reset(make_config, feed_server) -> None:
    masto = FakeMastodon(feed_server)
    masto.statuses = [mastodon_status(1, "jan@journa.host", "Hallo")]
    masto.headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00Z"}
    config = config_with(make_config, f'[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "{feed_server.base}"\n')
    source = MastodonSource.from_config(config.sources[0], config)
    assert len(await fetch(source)) == 1
    assert source.pause_s and source.pause_s > 60  # the poller waits for the reset
    # The next person's lookup waited for the next poll.
    assert [r.params["acct"] for r in feed_server.requests_for("/api/v1/accounts/lookup")] == [["jan@journa.host"]]


def test_follow_false_turns_it_off_and_is_checked(make_config) -> None:
    config = config_with(make_config, '[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "https://m.example"\nhashtags = ["vlm"]\nfollow = false\n')
    assert MastodonSource.from_config(config.sources[0], config).follow == ()
    config = config_with(make_config, '[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "https://m.example"\nfollow = "ja"\n')
    with pytest.raises(OptionError, match="follow: must be true or false"):
        MastodonSource.from_config(config.sources[0], config)


# --- Bluesky: app.bsky.feed.getAuthorFeed -----------------------------------------------


def bsky_post(n: int, handle: str, text: str) -> dict[str, Any]:
    when = (T0 + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "uri": f"at://did:plc:{handle[:4]}/app.bsky.feed.post/3l{n:05d}",
        "cid": f"cid{n}",
        "author": {"did": f"did:plc:{handle[:4]}", "handle": handle, "displayName": "Peer"},
        "record": {"$type": "app.bsky.feed.post", "createdAt": when, "text": text},
        "indexedAt": when,
    }


async def test_bluesky_follows_author_feeds(make_config, feed_server: FeedServer) -> None:
    posts = [bsky_post(n, "peer.bsky.social", f"Persbericht {n}") for n in range(1, 4)]
    other = bsky_post(9, "ander.bsky.social", "Iemand anders")

    def author_feed(request: Request) -> Response:
        actor = request.params["actor"][0]
        if actor == "weg.bsky.social":
            return Response(status=400, body=b'{"error":"InvalidRequest","message":"Profile not found"}', content_type=JSON)
        newest_first = sorted(posts, key=lambda p: p["record"]["createdAt"], reverse=True)
        feed = [{"post": p} for p in newest_first]
        feed.insert(0, {"post": other, "reason": {"$type": "app.bsky.feed.defs#reasonRepost"}})
        return ok({"feed": feed[: int(request.params["limit"][0])]})

    feed_server.route("/xrpc/app.bsky.feed.getAuthorFeed", author_feed)
    config = config_with(make_config, f'[[sources]]\ntype = "bluesky"\nname = "b"\nappview = "{feed_server.base}"\nfollower_counts = false\n')
    source = BlueskySource.from_config(config.sources[0], config)
    items = await fetch(source)
    # Their own posts with the peer badge; the repost (someone else's words) is left out.
    assert sorted(i.text for i in items) == ["Persbericht 1", "Persbericht 2", "Persbericht 3"]
    assert {i.followed for i in items} == {"peer"} and not any(i.addressed for i in items)
    assert "weg.bsky.social" in source.warning and "Profile not found" in source.warning

    posts.append(bsky_post(4, "peer.bsky.social", "Over de VLM"))
    again = BlueskySource.from_config(config.sources[0], config)
    again.resume(json.loads(json.dumps(source.checkpoint())))
    assert [i.text for i in await fetch(again)] == ["Over de VLM"]


# --- X: GET /2/users/by/username/:username, GET /2/users/:id/tweets ------------------------


async def test_x_follows_user_timelines(make_config, feed_server: FeedServer, monkeypatch) -> None:
    monkeypatch.setenv("X_BEARER", "bearer-secret")
    tweets = [{"id": str(2000 + n), "text": f"Column {n}", "author_id": "42",
               "created_at": f"2026-11-23T09:0{n}:00.000Z"} for n in range(1, 4)]  # fmt: skip

    def by_username(request: Request) -> Response:
        if request.path.endswith("/opiniemaker"):
            return ok({"data": {"id": "42", "username": "opiniemaker", "name": "O. Maker"}})
        return ok({"errors": [{"title": "Not Found Error", "detail": "Could not find user"}]})

    def timeline(request: Request) -> Response:
        since = int(request.params.get("since_id", ["0"])[0])
        newer = sorted((t for t in tweets if int(t["id"]) > since), key=lambda t: -int(t["id"]))
        newer = newer[: int(request.params["max_results"][0])]
        meta: dict[str, Any] = {"result_count": len(newer)}
        if newer:
            meta.update(newest_id=newer[0]["id"], oldest_id=newer[-1]["id"])
        user = {"id": "42", "username": "opiniemaker", "name": "O. Maker", "public_metrics": {"followers_count": 9000}}
        return ok({"data": newer, "includes": {"users": [user]}, "meta": meta} if newer else {"meta": meta})

    feed_server.route("/2/users/by/username/opiniemaker", by_username)
    feed_server.route("/2/users/by/username/weg", by_username)
    feed_server.route("/2/users/42/tweets", timeline)
    config = config_with(make_config, f'[[sources]]\ntype = "x"\nname = "x"\nbearer_token_env = "X_BEARER"\napi = "{feed_server.base}"\n')
    source = XSource.from_config(config.sources[0], config)  # no query: following alone will do
    items = await fetch(source)
    assert sorted(i.text for i in items) == ["Column 1", "Column 2", "Column 3"]
    assert {i.followed for i in items} == {"opinion-maker"} and items[0].author == "@opiniemaker"
    assert "@weg" in source.warning and "no such user" in source.warning

    tweets.append({"id": "2004", "text": "VLM doet het goed", "author_id": "42", "created_at": "2026-11-23T09:04:00.000Z"})
    again = XSource.from_config(config.sources[0], config)
    again.resume(json.loads(json.dumps(source.checkpoint())))
    assert [i.text for i in await fetch(again)] == ["VLM doet het goed"]
    assert feed_server.requests_for("/2/users/42/tweets")[-1].params["since_id"] == ["2003"]
    assert len(feed_server.requests_for("/2/users/by/username/opiniemaker")) == 1
    assert feed_server.requests_for("/2/users/42/tweets")[0].headers["authorization"] == "Bearer bearer-secret"


async def test_x_rate_limit_stops_the_follows_not_the_source(make_config, feed_server, monkeypatch) -> None:
    monkeypatch.setenv("X_BEARER", "bearer-secret")
    feed_server.route("/2/users/by/username/opiniemaker", lambda r: ok({"data": {"id": "42"}}))
    feed_server.serve("/2/users/42/tweets", b'{"title":"Too Many Requests"}', status=429,
                      content_type=JSON, headers={"x-rate-limit-remaining": "0", "Retry-After": "600"})  # fmt: skip
    config = config_with(make_config, f'[[sources]]\ntype = "x"\nname = "x"\nbearer_token_env = "X_BEARER"\napi = "{feed_server.base}"\n')
    source = XSource.from_config(config.sources[0], config)
    assert await fetch(source) == []  # no exception: the source is fine, only rate-limited
    assert source.pause_s is not None and source.pause_s >= 600
    assert "@opiniemaker" in source.warning and "rate-limited" in source.warning
    assert feed_server.requests_for("/2/users/by/username/weg") == []  # waits for the reset


# --- YouTube: the channel's feed -------------------------------------------------------

YT_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">
 <id>yt:channel:{CHANNEL}</id><title>Minister</title>
 <entry>
  <id>yt:video:abc123def45</id><yt:videoId>abc123def45</yt:videoId>
  <title>Toespraak over landbouw</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=abc123def45"/>
  <author><name>Minister</name></author>
  <published>2026-11-23T08:00:00+00:00</published>
 </entry>
</feed>""".encode()


async def test_youtube_follows_the_channel_feed(make_config, feed_server: FeedServer) -> None:
    feed_server.serve("/feeds/videos.xml", YT_FEED, content_type="application/atom+xml", etag='"v1"')
    config = config_with(make_config, f'[[sources]]\ntype = "youtube"\nname = "yt"\nsite = "{feed_server.base}"\n')
    source = YouTubeSource.from_config(config.sources[0], config)
    [video] = await fetch(source)
    assert video.followed == "politician" and video.ref == "abc123def45"
    assert feed_server.requests_for("/feeds/videos.xml")[0].params["channel_id"] == [CHANNEL]
    assert await fetch(source) == []  # a conditional GET: unchanged
    state = json.loads(json.dumps(source.checkpoint()))
    again = YouTubeSource.from_config(config.sources[0], config)
    again.resume(state)
    assert await fetch(again) == []
    assert feed_server.requests_for("/feeds/videos.xml")[-1].headers["if-none-match"] == '"v1"'

    feed_server.serve("/feeds/videos.xml", status=500)
    assert await fetch(again) == [] and "500" in again.warning  # said, and the source goes on


def test_a_youtube_handle_that_is_no_channel_id_is_refused(make_config) -> None:
    people = '[[watch.people]]\nhandle = "@minister"\nchannel = "youtube"\nkind = "politician"\n'
    config = config_with(make_config, '[[sources]]\ntype = "youtube"\nname = "yt"\nchannel_ids = ["UCzzzzzzzzzzzzzzzzzzzzzz"]\n', people)
    with pytest.raises(OptionError, match="follow: .*'@minister' is not a YouTube channel id"):
        YouTubeSource.from_config(config.sources[0], config)


# --- a blog's RSS: `feed` on the [[watch.people]] entry -----------------------------------

BLOG = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Blog van Jan</title><link>https://blog.example/</link>
<item><title>Over de zomer</title><link>https://blog.example/zomer</link><guid>z1</guid>
<description>Niets over ons.</description></item>
<item><title>De mestbank, opnieuw</title><link>https://blog.example/mest</link><guid>m1</guid>
<description>Waarom doet de VLM dit?</description></item>
</channel></rss>"""


async def test_a_followed_blog_is_its_own_source(make_config, feed_server: FeedServer, clock) -> None:
    feed_server.serve("/feed.xml", BLOG, etag='"b1"')
    people = f'[[watch.people]]\nhandle = "jan-blog"\nkind = "journalist"\nname = "Jan"\nfeed = "{feed_server.base}/feed.xml"\n'
    config = make_config(people)
    [blog] = build_sources(config)
    assert blog.name == "follow jan-blog" and blog.channel == "web"
    store = Store(config.data_dir)
    poller = Poller([blog], Intake(config), store, clock=clock)
    assert await poller.poll_once() == 2
    by_title = {m.title: m for m in store.load()}
    quiet, about_us = by_title["Over de zomer"], by_title["De mestbank, opnieuw"]
    # Both carry the badge and the watchlist's handle and name.
    assert quiet.watchlist == about_us.watchlist == "journalist"
    assert (quiet.author, quiet.author_name) == ("jan-blog", "Jan")
    # The one that does not name us owes nothing, and the history says why; the other is owed.
    assert not quiet.owed and quiet.status == "monitoring" and quiet.followed_only
    assert quiet.history[0]["who"] == "webcare"
    assert about_us.owed and about_us.status == "new" and about_us.keywords
    # What the store holds is what a desk reads after a restart (the state came with the content).
    reread = Store(config.data_dir).get(quiet.id)
    assert reread is not None and not reread.owed
    assert store.read_checkpoint("follow jan-blog")["etag"] == '"b1"'


def test_a_feed_on_the_watchlist_is_checked(make_config) -> None:
    with pytest.raises(ConfigError, match=r"\[\[watch.people\]\] #1 feed: 'blog.example' is not an address"):
        make_config('[[watch.people]]\nhandle = "jan"\nkind = "journalist"\nfeed = "blog.example"\n')
    with pytest.raises(ConfigError, match=r"#1 feed: staff \(ambassador-internal\) are not followed"):
        make_config('[[watch.people]]\nhandle = "an"\nkind = "ambassador-internal"\nfeed = "https://an.example/feed"\n')


# --- intake: about us or not ---------------------------------------------------------------


async def test_followed_posts_in_the_store(make_config, feed_server: FeedServer, clock) -> None:
    """Through the poller and the store: the followed post that does not name us is monitored,
    the one that does is an ordinary mention with its badge; a failing follow is in health."""
    masto = FakeMastodon(feed_server)
    masto.statuses = [mastodon_status(1, "jan@journa.host", "Mooi weer vandaag"),
                      mastodon_status(2, "jan@journa.host", "Wat doet de VLM met de mestbank?")]  # fmt: skip
    config = config_with(make_config, f'[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "{feed_server.base}"\nhashtags = ["vlm"]\n')
    feed_server.route("/api/v1/timelines/tag/vlm", lambda r: ok([]))
    store = Store(config.data_dir)
    [source] = build_sources(config)
    poller = Poller([source], Intake(config), store, clock=clock)
    assert await poller.poll_once() == 2
    by_text = {m.text: m for m in store.load()}
    weather, question = by_text["Mooi weer vandaag"], by_text["Wat doet de VLM met de mestbank?"]
    assert weather.watchlist == question.watchlist == "journalist"
    assert not weather.owed and weather.status == "monitoring"
    assert question.owed and question.status == "new" and question.deadline is not None
    health = poller.health["m"]
    assert health.state == "ok" and "@weg@journa.host" in health.last_error

    # The desk's header names the follow that failed, beside "sources ok".
    from tests.tui_helpers import make_app, screen_text

    app = make_app(config, clock)
    async with app.run_test(size=(200, 24)) as pilot:
        await pilot.pause()
        assert "m: following failed for 1: @weg@journa.host" in screen_text(app)


# --- the desk: the "pers & peers" view -------------------------------------------------------


async def test_the_pers_and_peers_view_on_the_desk(make_config, clock) -> None:
    """`v` shows what the watched voices posted: the post about us as an ordinary mention with
    its badge and countdown, the followed post that does not name us without one; everything
    else is out of view. `v` again is the whole stream; `?` lists the key."""
    from tests.tui_helpers import make_app, mention, screen_lines, screen_text
    from webcare.intake import Item

    config = config_with(make_config, "")
    now = clock()
    followed = [
        Item(key="1", channel="mastodon", author="@jan@journa.host", text="Mooi weer in Gent vandaag",
             published_at=now - timedelta(minutes=3), followed="journalist"),
        Item(key="2", channel="mastodon", author="@jan@journa.host", text="Vraag aan de VLM over de mestbank",
             published_at=now - timedelta(minutes=2), followed="journalist"),
    ]  # fmt: skip
    stored = Intake(config).admit_all(followed, "m", True, now)
    citizen = mention("burger", now, 30, text="Iemand van de VLM die kan helpen?")
    app = make_app(config, clock, [*stored, citizen])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Mooi weer" in screen_text(app)  # in the stream too, among the handled ones
        await pilot.press("v")
        await pilot.pause()
        rows = [line for line in screen_lines(app) if "@jan" in line or "@authorburger" in line]
        assert len(rows) == 2, rows
        question, weather = rows
        assert "Vraag aan" in question and "PERS" in question and "nog " in question  # countdown
        assert "Mooi weer" in weather and "PERS" in weather and "gevolgd" in weather
        assert "nog " not in weather and "te laat" not in weather
        assert app.queue.filter_query == "watch:all"
        await pilot.press("v")
        await pilot.pause()
        assert app.queue.filter_query == "" and "Iemand van de VLM" in screen_text(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "pers & peers" in screen_text(app)


def test_a_followed_post_not_about_us_is_no_news_for_the_handover(make_config, clock) -> None:
    """The shift handover lists a watched voice's mention of us as notable, not what they
    said of other things."""
    from zoneinfo import ZoneInfo

    from webcare.handover import handover
    from webcare.intake import Item

    config = config_with(make_config, "")
    now = clock()
    items = [
        Item(key="1", channel="mastodon", author="@jan@journa.host", text="Mooi weer", followed="journalist"),
        Item(key="2", channel="mastodon", author="@jan@journa.host", text="En de VLM?", followed="journalist"),
    ]
    mentions = Intake(config).admit_all(items, "m", True, now)
    notes = handover(mentions, now - timedelta(hours=1), now + timedelta(minutes=1), ZoneInfo("Europe/Brussels"))
    assert [n.text for n in notes.notable] == ["En de VLM?"]
    assert [o.text for o in notes.open] == ["En de VLM?"]


def test_a_followed_post_not_about_us_is_in_no_trend_or_report(make_config, clock) -> None:
    """Trends (and so spikes), reports and the dashboard count mentions of us: what a followed
    voice said of other things is left out, from the store as from a live poll."""
    from zoneinfo import ZoneInfo

    from tui.monitoring import Monitor
    from webcare import report
    from webcare.intake import Item

    config = config_with(make_config, "")
    now = clock()
    items = [
        Item(key=str(n), channel="mastodon", author="@jan@journa.host", text=f"Weer {n}", followed="journalist")
        for n in range(5)
    ] + [Item(key="9", channel="mastodon", author="@jan@journa.host", text="En de VLM?", followed="journalist")]
    mentions = Intake(config).admit_all(items, "m", True, now)
    store = Store(config.data_dir)
    store.add(mentions[:3])
    monitor = Monitor(config, store, clock)
    monitor.build()  # from the stored records
    monitor.add(mentions[3:])  # as a poll brings them
    assert monitor.book is not None
    [everything] = [c for c in monitor.book.counts(now + timedelta(minutes=1)) if c.subject[0] == "all"]
    assert everything.observed == 1

    start, end = now - timedelta(days=1), now + timedelta(days=1)
    figures = report.figures(Store(config.data_dir).load() + mentions[3:], start, end, ZoneInfo("Europe/Brussels"), now)
    assert figures.total == 1
    # Once an operator takes one up, it counts like any other mention.
    mentions[0].status = "responding"
    assert report.figures(mentions, start, end, ZoneInfo("Europe/Brussels"), now).total == 2
