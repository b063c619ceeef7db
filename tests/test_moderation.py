"""Moderation carried out on the platforms (issue 15): Facebook hide/unhide, YouTube
comments.setModerationStatus and Reddit remove/approve against real HTTP servers on loopback in
each API's shape; the desk's L3 under Pilot (confirm, audit trail, undo, dry run, the report
hint); the evidence kept past retention while the case is open, and erased by forget."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401

from sources.facebook import FacebookSource
from sources.moderation import Moderator, moderators
from sources.reddit import RedditSource
from sources.source import Moderation, OptionError, Source, SourceError
from sources.youtube import YouTubeSource
from store import Store
from store.retention import access_export, anonymise_older_than, forget
from tests.tui_helpers import mention
from tui.app import WebcareApp
from webcare.config import ConfigError
from webcare.mention import Mention

JSON = "application/json; charset=UTF-8"
V = "/v21.0"


def source_of(cls, make_config, kind: str, **options: object):
    lines = ["[[sources]]", f'type = "{kind}"', f'name = "{kind}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    return cls.from_config(config.sources[0], config)


def facebook(make_config, feed_server: FeedServer, **options: object) -> FacebookSource:
    return source_of(
        FacebookSource, make_config, "facebook", page_id="1234", page_token_env="FB_TOKEN",
        api=feed_server.base + V, **options,
    )


def fb_mention(now: datetime, **kw) -> Mention:
    meta = {"kind": "comment", "comment_id": "555_1", "target": "555_1", "post_id": "555", "from_id": "901"}
    fields = dict(source="facebook", channel="facebook", author="Burger 1", ref="555_1", in_reply_to="555",
                  url="https://www.facebook.com/1234/posts/555?comment_id=1", reply_meta=meta,
                  text="Jullie zijn allemaal zakkenvullers", deadline=None, norm_s=None)
    fields.update(kw)
    return mention(1, now, **fields)


class Seen:
    """The requests the Graph server saw for the comment, as they come in."""

    def __init__(self, feed_server: FeedServer) -> None:
        self.server = feed_server

    def __len__(self) -> int:
        return len(self.server.requests_for(f"{V}/555_1"))

    def __getitem__(self, i: int) -> Request:
        return self.server.requests_for(f"{V}/555_1")[i]

    def __eq__(self, other: object) -> bool:
        return self.server.requests_for(f"{V}/555_1") == other


def graph(feed_server: FeedServer, answer: dict | None = None, status: int = 200) -> Seen:
    body = json.dumps(answer if answer is not None else {"success": True}).encode()
    feed_server.route(f"{V}/555_1", lambda req: Response(status=status, body=body, content_type=JSON))
    return Seen(feed_server)


@pytest.fixture(autouse=True)
def tokens(monkeypatch) -> None:
    monkeypatch.setenv("FB_TOKEN", "page-token")
    monkeypatch.setenv("YT_OAUTH", "ya29.owner-token")
    monkeypatch.setenv("RID", "my-client")
    monkeypatch.setenv("RSECRET", "s3cret")
    monkeypatch.setenv("RREFRESH", "refresh-of-the-moderator")


# --- Facebook --------------------------------------------------------------------------------


async def test_facebook_hides_and_unhides_a_comment(make_config, feed_server: FeedServer) -> None:
    source = facebook(make_config, feed_server)
    moderator = moderators([source])["facebook"]
    assert moderator.offered == ["hide"] and moderator.undo_of("hide") == "unhide"
    graph(feed_server)
    m = fb_mention(datetime.now(UTC))
    assert await moderator(m, "hide") == "hidden on Facebook (comment 555_1)"
    assert await moderator(m, "unhide") == "unhidden on Facebook (comment 555_1)"
    seen = feed_server.requests_for(f"{V}/555_1")
    assert [(r.method, r.params["is_hidden"]) for r in seen] == [("POST", ["true"]), ("POST", ["false"])]
    assert seen[0].headers["authorization"] == "Bearer page-token"
    assert "page-token" not in seen[0].query  # the token never goes in a URL


async def test_facebook_refusals_are_explained_and_cleaned(make_config, feed_server: FeedServer) -> None:
    moderator = Moderator(facebook(make_config, feed_server))
    m = fb_mention(datetime.now(UTC))
    graph(feed_server, {"error": {"message": "Error validating access token", "code": 190}}, status=400)
    with pytest.raises(SourceError, match="expired or was revoked .*FB_TOKEN"):
        await moderator(m, "hide")
    graph(feed_server, {"error": {"message": "(#200) Permission \x1b[31mdenied", "code": 200}}, status=403)
    with pytest.raises(SourceError, match="lacks a permission") as info:
        await moderator(m, "hide")
    assert "\x1b" not in str(info.value)
    # A Messenger message is not a comment: nothing is sent.
    before = len(feed_server.requests)
    message = fb_mention(datetime.now(UTC), reply_meta={"kind": "message", "recipient_id": "901"})
    with pytest.raises(SourceError, match="only comments"):
        await moderator(message, "hide")
    assert len(feed_server.requests) == before


# --- YouTube ---------------------------------------------------------------------------------


def youtube(make_config, feed_server: FeedServer, **options: object) -> YouTubeSource:
    return source_of(
        YouTubeSource, make_config, "youtube", comment_video_ids=["dQw4w9WgXcQ"], api_key_env="YT_KEY",
        api=feed_server.base, **options,
    )


def yt_mention() -> Mention:
    return mention(2, datetime.now(UTC), source="youtube", channel="youtube", ref="UgzComment1",
                   in_reply_to="dQw4w9WgXcQ")


async def test_youtube_rejects_holds_and_publishes(make_config, feed_server: FeedServer) -> None:
    feed_server.serve("/comments/setModerationStatus", status=204)
    moderator = moderators([youtube(make_config, feed_server, oauth_token_env="YT_OAUTH")])["youtube"]
    assert moderator.offered == ["reject", "hold"] and moderator.undo_of("hold") == "publish"
    m = yt_mention()
    assert await moderator(m, "reject") == "rejected on YouTube (comment UgzComment1)"
    assert await moderator(m, "hold") == "heldForReview on YouTube (comment UgzComment1)"
    assert await moderator(m, "publish") == "published on YouTube (comment UgzComment1)"
    seen = feed_server.requests_for("/comments/setModerationStatus")
    assert [r.params["moderationStatus"][0] for r in seen] == ["rejected", "heldForReview", "published"]
    assert all(r.method == "POST" and r.params["id"] == ["UgzComment1"] for r in seen)
    assert seen[0].headers["authorization"] == "Bearer ya29.owner-token"
    assert "x-goog-api-key" not in seen[0].headers  # the user's token, not the project's key


async def test_youtube_errors(make_config, feed_server: FeedServer, monkeypatch) -> None:
    m = yt_mention()
    without = Moderator(youtube(make_config, feed_server))
    with pytest.raises(SourceError, match="youtube.force-ssl .*oauth_token_env"):
        await without(m, "reject")
    moderator = Moderator(youtube(make_config, feed_server, oauth_token_env="YT_OAUTH"))
    error = {"error": {"code": 401, "message": "Invalid Credentials", "errors": [{"reason": "authError"}]}}
    feed_server.serve("/comments/setModerationStatus", json.dumps(error).encode(), status=401, content_type=JSON)
    with pytest.raises(SourceError, match="HTTP 401 authError Invalid Credentials: the OAuth token has expired"):
        await moderator(m, "reject")
    error = {"error": {"code": 403, "message": "Forbidden", "errors": [{"reason": "forbidden"}]}}
    feed_server.serve("/comments/setModerationStatus", json.dumps(error).encode(), status=403, content_type=JSON)
    with pytest.raises(SourceError, match="lacks the youtube.force-ssl scope"):
        await moderator(m, "hold")
    monkeypatch.delenv("YT_OAUTH")
    with pytest.raises(SourceError, match="YT_OAUTH is not set"):
        await moderator(m, "reject")


# --- Reddit ----------------------------------------------------------------------------------


def reddit(make_config, feed_server: FeedServer, **options: object) -> RedditSource:
    return source_of(
        RedditSource, make_config, "reddit", query="VLM", api=feed_server.base, oauth_api=feed_server.base,
        client_id_env="RID", client_secret_env="RSECRET", **options,
    )


def rd_mention() -> Mention:
    return mention(3, datetime.now(UTC), source="reddit", channel="reddit", ref="t3_abc",
                   url="https://www.reddit.com/r/belgium/comments/abc/vlm/")


async def test_reddit_removes_and_approves_as_the_moderating_account(make_config, feed_server: FeedServer) -> None:
    tokens = iter(["user-1", "user-2"])
    feed_server.route("/api/v1/access_token", lambda req: Response(
        body=json.dumps({"access_token": next(tokens), "expires_in": 3600}).encode(), content_type=JSON))
    calls = {"n": 0}

    def answer(req: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 2:  # the token expired early: renewed once
            return Response(status=401, body=b'{"message": "Unauthorized", "error": 401}', content_type=JSON)
        return Response(body=b"{}", content_type=JSON)

    feed_server.route("/api/remove", answer)
    feed_server.route("/api/approve", answer)
    moderator = moderators([reddit(make_config, feed_server, refresh_token_env="RREFRESH")])["reddit"]
    assert moderator.offered == ["remove"] and moderator.undo_of("remove") == "approve"
    m = rd_mention()
    assert await moderator(m, "remove") == "removed on Reddit (t3_abc)"
    assert await moderator(m, "approve") == "approved on Reddit (t3_abc)"
    grants = feed_server.requests_for("/api/v1/access_token")
    assert [g.body for g in grants] == [b"grant_type=refresh_token&refresh_token=refresh-of-the-moderator"] * 2
    removed = feed_server.requests_for("/api/remove")[0]
    assert removed.method == "POST" and removed.body == b"id=t3_abc&spam=false"
    assert removed.headers["authorization"] == "bearer user-1"
    approved = feed_server.requests_for("/api/approve")
    assert [r.headers["authorization"] for r in approved] == ["bearer user-1", "bearer user-2"]
    assert approved[-1].body == b"id=t3_abc"


async def test_reddit_needs_a_moderator(make_config, feed_server: FeedServer) -> None:
    m = rd_mention()
    with pytest.raises(SourceError, match="refresh_token_env"):
        await Moderator(reddit(make_config, feed_server))(m, "remove")
    feed_server.serve("/api/v1/access_token", b'{"access_token": "user-1"}', content_type=JSON)
    feed_server.serve("/api/remove", b'{"message": "Forbidden", "error": 403}', status=403, content_type=JSON)
    with pytest.raises(SourceError, match="not a moderator of r/belgium"):
        await Moderator(reddit(make_config, feed_server, refresh_token_env="RREFRESH"))(m, "remove")
    with pytest.raises(OptionError, match="^refresh_token_env: moderation needs client_id_env"):
        source_of(RedditSource, make_config, "reddit", query="VLM", refresh_token_env="RREFRESH")


def test_sources_without_platform_moderation_are_left_out(make_config, feed_server: FeedServer) -> None:
    from sources.registry import build_sources

    config = make_config('[[sources]]\ntype = "mastodon"\nname = "m"\ninstance = "https://mastodon.social"\nhashtags = ["vlm"]\n')
    assert moderators(build_sources(config)) == {}


# --- config ----------------------------------------------------------------------------------


def test_evidence_days(make_config) -> None:
    assert make_config().retention.evidence_days == 365
    assert make_config("[retention]\nevidence_days = 730\n").retention.evidence_days == 730
    with pytest.raises(ConfigError, match=r"\[retention\] evidence_days: must be at least days \(90\)"):
        make_config("[retention]\nevidence_days = 30\n")
    with pytest.raises(ConfigError, match=r"\[retention\] evidence_days: must be a whole number"):
        make_config('[retention]\nevidence_days = "1y"\n')


# --- evidence and retention ------------------------------------------------------------------


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def evidence_store(data: Path, flags: list[str], kept_days_ago: float) -> Store:
    store = Store(data)
    old = NOW - timedelta(days=200)
    store.add([
        mention(1, old, author="@troll_jan", text="Jullie zijn allemaal zakkenvullers en dieven",
                first_seen_at=old, published_at=old, url="https://x.com/troll_jan/status/1"),
        mention(2, old, author="@gewone_burger", text="Wanneer opent het loket?", first_seen_at=old,
                published_at=old),
    ])
    kept = {"text": "Jullie zijn allemaal zakkenvullers en dieven", "author": "@troll_jan",
            "url": "https://x.com/troll_jan/status/1", "kept_at": (NOW - timedelta(days=kept_days_ago)).isoformat(),
            "kept_by": "els"}
    store.update_state("m1", {"status": "moderated", "flags": flags}, "triage L3", "els", at=old)
    store.update_state("m1", {"evidence": kept}, "evidence kept", "els", at=old)
    return store


def test_evidence_outlives_retention_while_the_case_is_open(tmp_path: Path) -> None:
    store = evidence_store(tmp_path, ["evidence"], kept_days_ago=199)
    cutoff = NOW - timedelta(days=90)
    assert anonymise_older_than(store, cutoff, NOW, evidence_days=365) == 1  # only m2
    fresh = {m.id: m for m in Store(tmp_path).load()}
    assert fresh["m2"].text == ""
    assert fresh["m1"].author == "@troll_jan" and fresh["m1"].evidence["text"].startswith("Jullie zijn")
    # An access request finds it by its author, evidence included.
    (record,) = access_export(Store(tmp_path), "troll_jan")
    assert record["evidence"]["kept_by"] == "els"
    # Runs on later days look at it again; past evidence_days it goes too.
    assert anonymise_older_than(Store(tmp_path), cutoff, NOW + timedelta(days=100), evidence_days=365) == 0
    assert anonymise_older_than(Store(tmp_path), cutoff, NOW + timedelta(days=200), evidence_days=365) == 1
    gone = {m.id: m for m in Store(tmp_path).load()}["m1"]
    assert (gone.author, gone.text, gone.evidence) == ("", "", {})
    assert "zakkenvullers" not in (tmp_path / "state" / "000001.json").read_text()


def test_a_closed_case_follows_the_normal_retention(tmp_path: Path) -> None:
    store = evidence_store(tmp_path, [], kept_days_ago=10)  # the evidence flag is gone: closed
    assert anonymise_older_than(store, NOW - timedelta(days=90), NOW, evidence_days=365) == 2
    m1 = {m.id: m for m in Store(tmp_path).load()}["m1"]
    assert (m1.text, m1.evidence) == ("", {})


def test_forget_erases_the_evidence(tmp_path: Path) -> None:
    store = evidence_store(tmp_path, ["evidence"], kept_days_ago=1)
    done = forget(store, "@troll_jan", NOW, "els")
    assert done.mentions == 1 and done.remaining == []
    m1 = {m.id: m for m in Store(tmp_path).load()}["m1"]
    assert (m1.author, m1.evidence) == ("", {})
    assert "zakkenvullers" not in (tmp_path / "state" / "000001.json").read_text()


# --- the desk --------------------------------------------------------------------------------


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def until(pilot, condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


def desk(make_config, feed_server: FeedServer, clock, mentions: list[Mention], **options: object) -> WebcareApp:
    lines = ["[[sources]]", 'type = "facebook"', 'name = "facebook"', 'page_id = "1234"',
             'page_token_env = "FB_TOKEN"', f'api = "{feed_server.base + V}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    config = make_config("\n".join(lines) + "\n")
    source = FacebookSource.from_config(config.sources[0], config)
    store = Store(config.data_dir)
    store.add(mentions)
    return WebcareApp(config, store, clock=clock, moderators=moderators([source]))


def whats(config, mention_id: str) -> list[str]:
    return [h["what"] for h in Store(config.data_dir).get(mention_id).history]


async def test_l3_hides_on_facebook_records_it_and_u_unhides(make_config, feed_server: FeedServer, clock) -> None:
    seen = graph(feed_server)
    app = desk(make_config, feed_server, clock, [fb_mention(clock())])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")  # the direct key of L3
        await until(pilot, lambda: "Het bewijs" in str(app.screen.query_one("Static").render()))
        assert seen == []  # nothing happens before the operator confirms
        await pilot.press("j")  # the Dutch desk's yes
        await until(pilot, lambda: len(seen) == 1)
        await until(pilot, lambda: any("hide on facebook" in w for w in whats(app.config, "m1")))
        assert seen[0].params["is_hidden"] == ["true"]
        m = Store(app.config.data_dir).get("m1")
        assert m.status == "moderated" and "evidence" in m.flags
        assert whats(app.config, "m1")[-2:] == [
            "evidence kept", "hide on facebook: hidden on Facebook (comment 555_1)"]
        assert m.evidence["text"] == "Jullie zijn allemaal zakkenvullers" and m.evidence["author"] == "Burger 1"
        assert m.evidence["url"].endswith("comment_id=1") and m.evidence["kept_by"] == app.config.operator
        assert m.evidence["kept_at"] == clock().isoformat()
        assert any("Gemodereerd: hidden on Facebook" in n for n in notices(app))

        await pilot.press("u")  # undo: unhide on the platform, then in the history
        await until(pilot, lambda: len(seen) == 2)
        await until(pilot, lambda: whats(app.config, "m1")[-1].startswith("undo: hide"))
        assert seen[1].params["is_hidden"] == ["false"]
        assert whats(app.config, "m1")[-1] == "undo: hide on facebook: unhidden on Facebook (comment 555_1)"
        await pilot.press("u")  # the next undo is the triage itself
        await until(pilot, lambda: Store(app.config.data_dir).get("m1").status == "new")
        assert len(seen) == 2


async def test_a_refused_hide_is_shown_and_not_recorded(make_config, feed_server: FeedServer, clock) -> None:
    seen = graph(feed_server, {"error": {"message": "Error validating access token", "code": 190}}, status=400)
    app = desk(make_config, feed_server, clock, [fb_mention(clock())])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: any("Niet gemodereerd" in n for n in notices(app)))
        assert len(seen) == 1
        said = next(n for n in notices(app) if "Niet gemodereerd" in n)
        assert "expired or was revoked" in said
        assert not any(w.startswith("hide on") for w in whats(app.config, "m1"))


async def test_dry_run_says_what_it_would_do_and_does_nothing(make_config, feed_server: FeedServer, clock) -> None:
    seen = graph(feed_server)
    app = desk(make_config, feed_server, clock, [fb_mention(clock())], replies="dry-run")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: any("dry run" in n for n in notices(app)))
        await pilot.pause(0.2)
        assert seen == []
        assert "dry run: would hide 555_1 on facebook; nothing sent" in notices(app)
        assert whats(app.config, "m1") == ["triage L3: Moderate: hide or remove with a reason, keep evidence; criminal → legal service."]


async def test_n_does_nothing_on_the_platform(make_config, feed_server: FeedServer, clock) -> None:
    seen = graph(feed_server)
    app = desk(make_config, feed_server, clock, [fb_mention(clock())])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("enter", "n")  # enter is not a yes here
        await pilot.pause(0.2)
        assert seen == [] and Store(app.config.data_dir).get("m1").evidence == {}


async def test_a_mastodon_mention_gets_the_report_hint(make_config, feed_server: FeedServer, clock) -> None:
    toot = mention(1, clock(), source="mastodon", channel="mastodon", author="@troll@mastodon.social",
                   url="https://mastodon.social/@troll/1", deadline=None, norm_s=None)
    app = desk(make_config, feed_server, clock, [toot])
    copied: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard = copied.append
        await pilot.press("X")
        await until(pilot, lambda: copied)
        assert copied == ["https://mastodon.social/@troll/1"]
        (hint,) = [n for n in notices(app) if "niet zelf modereren" in n]
        assert "op mastodon" in hint and "⋯ → Melden" in hint and "mastodon.social/@troll/1" in hint
        assert Store(app.config.data_dir).get("m1").evidence["author"] == "@troll@mastodon.social"


async def test_youtube_on_the_desk_offers_reject_and_hold(make_config, feed_server: FeedServer, clock) -> None:
    feed_server.serve("/comments/setModerationStatus", status=204)
    config = make_config(
        '[[sources]]\ntype = "youtube"\nname = "youtube"\ncomment_video_ids = ["dQw4w9WgXcQ"]\n'
        f'api_key_env = "YT_KEY"\noauth_token_env = "YT_OAUTH"\napi = "{feed_server.base}"\n'
    )
    source = YouTubeSource.from_config(config.sources[0], config)
    Store(config.data_dir).add([mention(1, clock(), source="youtube", channel="youtube", ref="UgzC1",
                                        in_reply_to="dQw4w9WgXcQ", deadline=None, norm_s=None)])
    app = WebcareApp(config, Store(config.data_dir), clock=clock, moderators=moderators([source]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")
        await until(pilot, lambda: "2: hold" in str(app.screen.query_one("Static").render()))
        await pilot.press("2")  # the second action: hold for review
        await until(pilot, lambda: whats(config, "m1")[-1].startswith("hold on youtube"))
        await pilot.press("u")
        await until(pilot, lambda: whats(config, "m1")[-1].startswith("undo: hold"))
    seen = [r.params["moderationStatus"][0] for r in feed_server.requests_for("/comments/setModerationStatus")]
    assert seen == ["heldForReview", "published"]
    assert whats(config, "m1")[-1] == "undo: hold on youtube: published on YouTube (comment UgzC1)"


class OwnPostComments(Source, Moderation):
    """A source whose platform can delete a comment and not bring it back (as LinkedIn can),
    on the loopback server: what the desk does when `u` cannot be carried out there."""

    type = "ownposts"
    name = "ownposts"
    moderation = ("delete",)
    moderation_undo: dict[str, str] = {}

    def __init__(self, api: str) -> None:
        self.api = api

    async def fetch(self, client) -> list:
        return []

    async def moderate(self, client, mention: Mention, action: str) -> str:
        from sources.http import check, request

        response = await request(client, "DELETE", f"{self.api}/comments/{mention.ref}", "delete", timeout=5)
        check(response, "delete")
        return f"deleted (comment {mention.ref})"


async def test_u_says_when_the_platform_cannot_undo(make_config, feed_server: FeedServer, clock) -> None:
    feed_server.serve("/comments/c1", status=204)
    config = make_config()
    Store(config.data_dir).add([mention(1, clock(), source="ownposts", channel="linkedin", ref="c1")])
    app = WebcareApp(config, Store(config.data_dir), clock=clock,
                     moderators=moderators([OwnPostComments(feed_server.base)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: whats(config, "m1")[-1] == "delete on ownposts: deleted (comment c1)")
        await pilot.press("u")
        await until(pilot, lambda: any("kan 'delete' niet terugdraaien" in n for n in notices(app)))
        assert [r.method for r in feed_server.requests_for("/comments/c1")] == ["DELETE"]
        assert whats(config, "m1")[-1] == "delete on ownposts: deleted (comment c1)"
