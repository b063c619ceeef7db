"""Issue 6, end to end: a desk whose config points a Mastodon source at an HTTP server on
loopback and an IMAP source at an IMAP server on loopback (pymap), wired as `webcare` wires it
(webcare.cli._open, sources.replies.repliers). Their mentions show live with their norms
(2 h, 8 h); a new e-mail appears within seconds of arriving (IDLE); a reply from the composer
reaches the Mastodon server, and an e-mail reply reaches a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
from datetime import UTC, datetime
from email.utils import format_datetime

from httpserver import FeedServer, Request, Response, feed_server_fixture  # noqa: F401
from imapserver import imap_server_fixture  # noqa: F401 (the imap_server fixture)
from test_imap import SMTP_CONFIG, mail, smtp_inbox  # noqa: F401 (the smtp_inbox fixture)
from test_mastodon import status

from sources.replies import repliers
from tests.tui_helpers import screen_text
from tui.app import WebcareApp
from tui.widgets.mention_list import MentionList
from webcare.cli import _open
from webcare.config import load

JSON = "application/json; charset=utf-8"


def serve_mastodon(server: FeedServer) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    first = status(1, created_at=now)

    def tag(request: Request) -> Response:  # one post, then nothing newer
        body = [] if "min_id" in request.params or "since_id" in request.params else [first]
        return Response(body=json.dumps(body).encode(), content_type=JSON)

    server.route("/api/v1/timelines/tag/vlm", tag)
    server.serve("/api/v1/notifications", b"[]", content_type=JSON)

    def posted(request: Request) -> Response:
        body = status(999, url=server.url("/@vlm/999"), in_reply_to_id=request.json()["in_reply_to_id"])
        return Response(body=json.dumps(body).encode(), content_type=JSON)

    server.route("/api/v1/statuses", posted)


async def until(pilot, condition, timeout: float) -> float:
    start = time.monotonic()
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.1)
    return time.monotonic() - start


async def reply_to(app: WebcareApp, pilot, mention_id: str, text: str) -> None:
    stream = app.screen.query_one(MentionList)
    stream.select_index(app.queue.index_of(mention_id))
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()
    area = app.screen.query_one("#draft")
    area.text = text
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.press("j")


async def test_mastodon_and_email_live_on_the_desk_with_replies(
    tmp_path, monkeypatch, feed_server: FeedServer, imap_server, smtp_inbox  # noqa: F811
) -> None:
    inbox, smtp_port = smtp_inbox
    monkeypatch.setenv("MASTODON_TOKEN", "token-123")
    monkeypatch.setenv("WEBCARE_IMAP_PASSWORD", "correct horse")
    serve_mastodon(feed_server)
    imap = imap_server()
    now = format_datetime(datetime.now(UTC))
    imap.append(mail(subject="Vraag over de mestbank", msgid="<eerste@example.net>", date=now))
    config_path = tmp_path / "config.toml"
    smtp = SMTP_CONFIG | {"port": smtp_port}
    config_path.write_text(
        f"""
[desk]
name = "Testdesk"
timezone = "Europe/Brussels"
data_dir = "data"
operator = "tester"

[norms]
mastodon = "2h"
email = "8h"

[watch]
keywords = ["VLM", "mestbank"]

[[sources]]
type = "mastodon"
name = "Mastodon #vlm"
instance = "{feed_server.base}"
hashtags = ["vlm"]
token_env = "MASTODON_TOKEN"
stream = false
every = "1s"

[[sources]]
type = "imap"
name = "info"
host = "{imap.host}"
port = {imap.port}
security = "none"
username = "{imap.user}"
password_env = "WEBCARE_IMAP_PASSWORD"
every = "30s"

[smtp]
{chr(10).join(f"{k} = {json.dumps(v)}" for k, v in smtp.items())}
"""
    )
    config = load(config_path)
    store, sources, make_poller = _open(config)
    app = WebcareApp(config, store, make_poller=make_poller, senders=repliers(sources))
    async with app.run_test(size=(140, 30)) as pilot:
        # Both channels on the desk, each with its own norm.
        await until(pilot, lambda: {m.channel for m in app.queue} >= {"mastodon", "email"}, 20)
        by_channel = {m.channel: m for m in app.queue}
        assert by_channel["mastodon"].norm_s == 2 * 3600 and by_channel["email"].norm_s == 8 * 3600
        text = screen_text(app)
        assert "MAST" in text and "MAIL" in text
        assert "nog 1 u 59 min" in text or "nog 2 u" in text
        assert "nog 7 u 59 min" in text or "nog 8 u" in text
        # IDLE: a new e-mail is on the desk within seconds of arriving.
        await until(pilot, lambda: app.collection.health.get("sources", {}).get("info", {}).get("live"), 10)
        imap.append(mail(subject="Nog een vraag over de VLM", msgid="<tweede@example.net>", date=now))
        waited = await until(pilot, lambda: any(m.title == "Nog een vraag over de VLM" for m in app.queue), 10)
        assert waited < 8
        print(f"a new e-mail was on the desk {waited:.2f} s after it arrived")
        # A reply from the composer reaches the Mastodon server, after the confirmation.
        toot = by_channel["mastodon"]
        await reply_to(app, pilot, toot.id, "Dag, we bekijken uw vraag over de mestbank. ^T")
        await until(pilot, lambda: feed_server.requests_for("/api/v1/statuses"), 10)
        await until(pilot, lambda: app.queue.get(toot.id).status == "responded", 5)
        [post] = feed_server.requests_for("/api/v1/statuses")
        assert post.method == "POST" and post.json()["in_reply_to_id"] == toot.reply_meta["status_id"]
        assert "we bekijken uw vraag" in post.json()["status"]
        assert app.queue.get(toot.id).reply_ref == feed_server.url("/@vlm/999")
        # And a reply e-mail reaches the SMTP server, in the thread.
        first = next(m for m in app.queue if m.title == "Vraag over de mestbank")
        await reply_to(app, pilot, first.id, "Beste Jan,\n\nHier is het antwoord.\n\nDe webcare")
        await until(pilot, lambda: inbox.envelopes, 10)
        sent = email.message_from_bytes(inbox.envelopes[0].content, policy=email.policy.default)
        assert sent["In-Reply-To"] == "<eerste@example.net>" and sent["Subject"] == "Re: Vraag over de mestbank"
        await until(pilot, lambda: app.queue.get(first.id).status == "responded", 5)
