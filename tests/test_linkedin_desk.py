"""The LinkedIn source on the desk (issue 15): a config pointing a linkedin source at an HTTP
server on loopback, wired as `webcare` wires it. Its comment shows with LinkedIn's 4-hour norm
(the default: [norms] is silent on linkedin), and the header says a week ahead that the token
expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from httpserver import FeedServer, feed_server_fixture  # noqa: F401
from test_linkedin import ORG, POST, enc, li_comment, post, serve

from sources.replies import repliers
from tests.tui_helpers import screen_text
from tui.app import WebcareApp
from tui.widgets.desk_header import DeskHeader
from webcare.cli import _open
from webcare.config import load


async def until(pilot, condition, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.1)


def write(tmp_path, feed_server: FeedServer, expires: date, language: str = "nl") -> None:
    (tmp_path / "config.toml").write_text(
        f"""
[desk]
name = "Testdesk"
language = "{language}"
timezone = "Europe/Brussels"
data_dir = "data"
operator = "tester"

[watch]
keywords = ["VLM", "mestbank"]

[[sources]]
type = "linkedin"
name = "linkedin"
organization_id = "{ORG}"
token_env = "LI_TOKEN"
token_expires = {expires.isoformat()}
mentions = false
api = "{feed_server.base}"
every = "30s"
"""
    )


def header_text(app: WebcareApp) -> str:
    return app.screen.query_one(DeskHeader).render().plain


async def test_a_linkedin_comment_with_its_4_hour_norm_and_the_token_warning(
    tmp_path, monkeypatch, feed_server: FeedServer  # noqa: F811
) -> None:
    monkeypatch.setenv("LI_TOKEN", "li-token")
    serve(feed_server, [post(POST, 3600)], {POST: [li_comment(1, 30)]})
    expires = datetime.now(UTC).date() + timedelta(days=5)
    write(tmp_path, feed_server, expires)
    config = load(tmp_path / "config.toml")
    store, sources, make_poller = _open(config)
    app = WebcareApp(config, store, make_poller=make_poller, senders=repliers(sources))
    async with app.run_test(size=(140, 30)) as pilot:
        await until(pilot, lambda: any(m.channel == "linkedin" for m in app.queue), 15)
        (comment,) = [m for m in app.queue if m.channel == "linkedin"]
        assert comment.norm_s == 4 * 3600 and comment.text == "Vraag 1 over de mestbank"
        assert comment.author == "urn:li:person:Member…"  # no name for this token
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "LI" in text and ("nog 3 u 59 min" in text or "nog 4 u" in text)
        await until(pilot, lambda: "verloopt" in header_text(app), 5)
        assert f"LinkedIn-token verloopt op {expires:%d/%m/%Y}" in header_text(app)
        assert "LinkedIn-token verloopt" in screen_text(app)
    assert feed_server.requests_for(f"/rest/socialActions/{enc(POST)}/comments")


async def test_the_header_says_nothing_early_and_says_when_the_token_has_expired(
    tmp_path, monkeypatch, feed_server: FeedServer  # noqa: F811
) -> None:
    monkeypatch.setenv("LI_TOKEN", "li-token")
    serve(feed_server, [], {})
    today = datetime.now(UTC).date()
    for expires, language, expected in (
        (today + timedelta(days=30), "nl", None),  # more than a week ahead: not yet
        (today - timedelta(days=2), "en", f"LinkedIn token expired on {today - timedelta(days=2):%d/%m/%Y}"),
    ):
        where = tmp_path / language  # a data directory of its own: no health.json of before
        where.mkdir()
        write(where, feed_server, expires, language)
        config = load(where / "config.toml")
        store, _, make_poller = _open(config)
        app = WebcareApp(config, store, make_poller=make_poller)
        async with app.run_test(size=(140, 30)) as pilot:
            await until(pilot, lambda app=app: app.collection.health.get("sources", {}).get("linkedin", {}).get("token_expires"), 10)
            await pilot.pause(0.2)
            header = header_text(app)
            assert app.collection.health["sources"]["linkedin"]["token_expires"] == expires.isoformat()
            if expected is None:
                assert "token" not in header
            else:
                assert expected in header
