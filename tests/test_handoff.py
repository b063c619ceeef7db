"""Hand-offs by e-mail, received by a real SMTP server (aiosmtpd) on loopback, on a port the
system picks, in the test's own event loop."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult

from sources.handoff import (
    HandoffError,
    build_message,
    handoff_text,
    retry_delay,
    retry_delays,
    send_handoff,
)
from webcare.config import ConfigError, SmtpSettings
from webcare.mention import Mention
from webcare.routing import handoff_message, load_directory, mention_id_in

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)  # Saturday 20:00 in Brussels
HOSTILE = "[@click=app.quit]x[/] Is dit normaal? De gracht ziet bruin van de drijfmest.\n\n[b]Dringend[/b]"

DIRECTORY = load_directory(tomllib.loads("""
[[experts]]
name = "Chris Maes"
unit = "Water"
topics = ["water", "mestlek"]
email = "chris.maes@example.org"
hours = "mon-fri 08:00-16:00"
deputy = "Dorien Janssens"
answer_within = "4h"

[[experts]]
name = "Dorien Janssens"
unit = "Natuur"
email = "dorien.janssens@example.org"
"""))


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK: queued"

    def message(self, i: int = 0) -> email.message.EmailMessage:
        return email.message_from_bytes(self.envelopes[i].content, policy=email.policy.default)


class RefusesRecipients(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user here"


class RefusesData(Inbox):
    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 Message rejected as spam"


@pytest.fixture
async def smtp_server():
    """start(handler, **smtp_kwargs) -> port: an SMTP server on 127.0.0.1, closed after the test."""
    servers = []

    async def start(handler, **kwargs) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTPServer(handler, hostname="localhost", **kwargs), "127.0.0.1", 0
        )
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def smtp(port: int, **extra) -> SmtpSettings:
    return SmtpSettings.from_config({"host": "127.0.0.1", "port": port, "security": "none", "from": "webcare@example.org",
                                     "from_name": "Webcare VLM", **extra})


def a_mention() -> Mention:
    return Mention(
        id="f00dfeed01", source="demo", channel="facebook", author="boer.jan", author_name="Jan Boer",
        text=HOSTILE, url="https://example.org/posts/42", first_seen_at=NOW - timedelta(minutes=5),
        published_at=NOW - timedelta(minutes=20), deadline=NOW + timedelta(hours=3, minutes=40), norm_s=4 * 3600,
    )


def a_handoff(note: str = "Bel de gemeente als het erger wordt"):
    chris = DIRECTORY.expert("Chris Maes")
    return handoff_message(a_mention(), chris, now=NOW, tz=BRUSSELS, desk="Vlaamse Landmaatschappij",
                           note=note, deputy=DIRECTORY.deputy_of(chris), operator="Pieter")


async def test_the_expert_receives_the_handoff(smtp_server):
    inbox = Inbox()
    port = await smtp_server(inbox)
    handoff = a_handoff()
    message_id = await send_handoff(smtp(port), handoff, timeout=10)

    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.rcpt_tos == ["chris.maes@example.org"]
    assert envelope.mail_from == "webcare@example.org"
    msg = inbox.message()
    assert msg["Message-ID"] == message_id and message_id.endswith("@example.org>")
    assert msg["To"] == "Chris Maes <chris.maes@example.org>"
    assert msg["From"] == "Webcare VLM <webcare@example.org>"
    assert msg["Reply-To"] == "webcare@example.org"
    assert msg["X-Webcare-Mention"] == "f00dfeed01"
    assert mention_id_in(msg["Subject"]) == "f00dfeed01"
    assert msg["Subject"].startswith("[webcare m:f00dfeed01] Vraag voor Water: [@click=app.quit]x[/]")
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content().replace("\r\n", "\n")
    for part in (HOSTILE, "Jan Boer (boer.jan)", "facebook", "https://example.org/posts/42",
                 "nog 3 u 40 min", "Bel de gemeente als het erger wordt", "beantwoord deze e-mail",
                 "Dorien Janssens", "Graag je antwoord voor zo 29-11 00:00"):
        assert part in body, part
    assert body == handoff.body


async def test_a_plain_triple_can_be_sent_too(smtp_server):
    inbox = Inbox()
    port = await smtp_server(inbox)
    await send_handoff(smtp(port), ("unit@example.org", "[webcare m:abc] Feedback", "Tekst"), timeout=10)
    msg = inbox.message()
    assert msg["To"] == "unit@example.org" and msg.get_content().strip() == "Tekst"


async def test_login_uses_the_password_from_the_environment(smtp_server, monkeypatch):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        ok = auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

    inbox = Inbox()
    port = await smtp_server(inbox, authenticator=authenticator, auth_require_tls=False)
    settings = smtp(port, username="webcare@example.org", password_env="WEBCARE_TEST_SMTP_PASSWORD")

    monkeypatch.delenv("WEBCARE_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(HandoffError, match="WEBCARE_TEST_SMTP_PASSWORD is not set"):
        await send_handoff(settings, a_handoff(), timeout=10)

    monkeypatch.setenv("WEBCARE_TEST_SMTP_PASSWORD", "wrong")
    with pytest.raises(HandoffError, match="refused the login of webcare@example.org: 535"):
        await send_handoff(settings, a_handoff(), timeout=10)

    monkeypatch.setenv("WEBCARE_TEST_SMTP_PASSWORD", "s3cret")
    await send_handoff(settings, a_handoff(), timeout=10)
    assert seen[-1] == (b"webcare@example.org", b"s3cret")
    assert len(inbox.envelopes) == 1


async def test_a_refused_recipient_is_a_clear_error(smtp_server):
    handler = RefusesRecipients()
    port = await smtp_server(handler)
    with pytest.raises(HandoffError) as caught:
        await send_handoff(smtp(port), a_handoff(), timeout=10)
    text = str(caught.value)
    assert f"SMTP 127.0.0.1:{port} refused the recipient" in text
    assert "chris.maes@example.org: 550" in text and "No such user here" in text
    assert handler.envelopes == []


async def test_a_refused_message_is_a_clear_error(smtp_server):
    port = await smtp_server(RefusesData())
    with pytest.raises(HandoffError, match=r"refused the message: 554 5.7.1 Message rejected as spam"):
        await send_handoff(smtp(port), a_handoff(), timeout=10)


async def test_no_server_listening_is_a_quick_connection_error():
    with socket.socket() as s:  # a port nobody listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HandoffError, match=rf"cannot connect to SMTP 127.0.0.1:{port}: connection refused"):
        await send_handoff(smtp(port), a_handoff(), timeout=5)


async def test_a_server_that_never_answers_times_out():
    done = asyncio.Event()

    async def silent(reader, writer):  # accepts, then says nothing until the test is over
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(HandoffError, match="did not answer in time"):
            await send_handoff(smtp(port), a_handoff(), timeout=0.3)
    finally:
        done.set()
        server.close()
        await server.wait_closed()


def test_outside_text_cannot_add_headers():
    settings = smtp(2525)
    m = a_mention()
    m = m.replaced(title="Vraag\r\nBcc: evil@example.org")
    handoff = handoff_message(m, DIRECTORY.expert("Chris Maes"), now=NOW, tz=BRUSSELS, desk="VLM")
    msg = build_message(settings, handoff)
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    raw = msg.as_bytes()
    assert b"\nBcc:" not in raw


def test_the_clipboard_text_is_the_same_message():
    handoff = a_handoff()
    text = handoff_text(handoff)
    assert text.startswith("Aan / To: Chris Maes <chris.maes@example.org>\nOnderwerp / Subject: [webcare m:f00dfeed01]")
    assert text.endswith(handoff.body) and HOSTILE in text


def test_retry_delays_are_data():
    assert retry_delays == (30, 120, 600)
    assert [retry_delay(i) for i in range(5)] == [None, 30, 120, 600, None]


def test_settings_defaults():
    s = SmtpSettings.from_config({"host": "smtp.example.org", "from": "webcare@example.org", "security": "ssl"})
    assert (s.port, s.security, s.timeout, s.username) == (465, "ssl", 20.0, "")
    assert SmtpSettings.from_config({"host": "h.example.org", "from": "w@example.org"}).port == 587
    assert SmtpSettings.from_config({"host": "h", "from": "w@example.org", "security": "none", "timeout": "1m"}).timeout == 60


@pytest.mark.parametrize(
    "raw,expected",
    [
        ({"from": "w@example.org"}, "[smtp] host: missing"),
        ({"host": "smtp example", "from": "w@example.org"}, "[smtp] host: 'smtp example' is not a host name"),
        ({"host": "h", "from": "w@example.org", "security": "tls"}, "[smtp] security: 'tls' is not one of ssl, starttls, none"),
        ({"host": "h", "from": "w@example.org", "port": "587"}, "[smtp] port: must be a port number"),
        ({"host": "h", "from": "w@example.org", "port": 70000}, "[smtp] port: must be a port number"),
        ({"host": "h"}, "[smtp] from: missing"),
        ({"host": "h", "from": "webcare"}, "[smtp] from: 'webcare' is not an e-mail address"),
        ({"host": "h", "from": "w@example.org", "password": "x"}, "[smtp] password: never in config.toml"),
        ({"host": "h", "from": "w@example.org", "username": "w"}, "[smtp] password_env: missing"),
        ({"host": "h", "from": "w@example.org", "username": "w", "password_env": "MY-PASS"}, "[smtp] password_env: 'MY-PASS' is not"),
        ({"host": "h", "from": "w@example.org", "hots": "x"}, "[smtp] hots: unknown key (did you mean 'host'?)"),
        ({"host": "h", "from": "w@example.org", "timeout": "soon"}, "[smtp] timeout: 'soon' is not a duration"),
        ([], "[smtp] must be a table"),
    ],
)
def test_bad_smtp_settings_name_the_key(raw, expected):
    with pytest.raises(ConfigError) as caught:
        SmtpSettings.from_config(raw)
    assert expected in str(caught.value)
