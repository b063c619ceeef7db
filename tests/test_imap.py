"""The IMAP source against a real IMAP server on loopback (pymap, see tests/imapserver.py),
with mail delivered by IMAP APPEND, and replies received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import threading
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from imapserver import ImapTestServer, imap_server_fixture  # noqa: F401 (the imap_server fixture)

from sources import mailparse
from sources.imap import ImapSource, _wake
from sources.registry import build_source
from sources.source import SourceError
from webcare.config import ConfigError
from webcare.intake import Intake, Item
from webcare.routing import subject_tag

PASSWORD_ENV = "WEBCARE_TEST_IMAP_PASSWORD"
ARRIVED = datetime(2025, 11, 24, 8, 30, tzinfo=UTC)  # in the past: a future Date is not believed


@pytest.fixture(autouse=True)
def imap_password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "correct horse")


def toml_table(name: str, values: dict[str, object]) -> str:
    return f"\n[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())


@pytest.fixture
def make_source(make_config):
    """make_source(server, smtp=None, **options) -> ImapSource, built from a config.toml."""
    made: list[ImapSource] = []

    def make(
        server: ImapTestServer | None = None, smtp: dict | None = None, **options
    ) -> ImapSource:
        values: dict[str, object] = {"type": "imap", "name": "info"}
        if server is not None:
            values |= {"host": server.host, "port": server.port, "security": server.security,
                       "username": server.user, "password_env": PASSWORD_ENV}  # fmt: skip
            if server.ca_file:
                values["ca_file"] = server.ca_file
        values |= options
        extra = toml_table("[sources]", values) + (toml_table("smtp", smtp) if smtp else "")
        config = make_config(extra)
        source = build_source(config.sources[0], config)
        assert isinstance(source, ImapSource)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


async def poll(source: ImapSource) -> list[Item]:
    return await source.fetch(None)  # type: ignore[arg-type]  (no HTTP client needed)


def mail(subject: str = "Vraag over mijn dossier", body: str = "Goedemiddag,\n\nIk heb een vraag.\n",
         sender: str = "Jan Boer <jan.boer@example.net>", msgid: str | None = None,
         date: str | None = "Mon, 24 Nov 2025 09:15:00 +0100", headers: str = "") -> str:  # fmt: skip
    msgid = msgid or f"<{abs(hash((subject, body, sender)))}@mail.example.net>"
    head = f"From: {sender}\nTo: info@example.org\nSubject: {subject}\nMessage-ID: {msgid}\n"
    if date:
        head += f"Date: {date}\n"
    return head + headers + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body


# --- configuration ----------------------------------------------------------------------


def test_options_and_defaults(make_source):
    source = make_source(
        host="imap.example.org", username="info@example.org", password_env=PASSWORD_ENV
    )
    assert (source.port, source.security, source.mailbox, source.interval) == (
        993,
        "ssl",
        "INBOX",
        60.0,
    )
    assert source.idle and source.can_live and not source.mark_seen and not source.keyword_filter
    assert (source.max_backlog, source.max_bytes, source.channel) == (50, 5 * 1024**2, "email")
    assert not source.can_reply  # no [smtp]
    starttls = make_source(
        host="imap.example.org", security="starttls", username="u", password_env="P"
    )
    assert starttls.port == 143


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"security": "none"}, "security: 'none' sends the password unencrypted"),
        ({"security": "tls"}, "security: 'tls' is not one of"),
        (
            {"password_env": "my password"},
            "password_env: 'my password' is not an environment variable name",
        ),
        ({"mailbox": "INBOX", "colour": "red"}, "colour: unknown key"),
        ({"ca_file": "nowhere/ca.pem"}, "ca_file:"),
        ({"own_addresses": ["nobody"]}, "own_addresses: 'nobody' is not an e-mail address"),
        ({"replies": "maybe"}, "replies: 'maybe' is not one of"),
    ],
)
def test_bad_options_are_named(make_source, options, complaint):
    with pytest.raises(ConfigError, match=complaint):
        make_source(**{"host": "imap.example.org", "username": "u", "password_env": "P", **options})


def test_plain_imap_is_allowed_on_loopback_or_when_asked(make_source):
    assert (
        make_source(host="localhost", security="none", username="u", password_env="P").port == 143
    )
    insecure = make_source(
        host="imap.intern", security="none", allow_insecure=True, username="u", password_env="P"
    )
    assert insecure.security == "none"


# --- reading mail -----------------------------------------------------------------------

CHARSET_MAILS = {
    "utf8": mail(
        subject="=?utf-8?q?Overstroming_in_de_straat_=E2=80=93_wat_nu=3F?=",
        body="Het water staat tot aan de deur. Wie komt er kijken? Dank je — Zoë\n",
    ),
    "latin1": (
        "From: =?iso-8859-1?q?Andr=E9_Peeters?= <andre@example.net>\nSubject: =?ISO-8859-1?B?"
        + base64.b64encode("Re : déjà vu".encode("latin-1")).decode()
        + "?=\n"
        "Message-ID: <latin1@example.net>\nDate: Mon, 24 Nov 2025 08:00:00 +0100\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
        "Ik heb de br=E8ve van de VLM gekregen, maar de datum klopt niet.=\n Kunt u dat nakijken?\n"
    ),
    "cp1252": (
        "From: Els <els@example.net>\nSubject: Mestbank\nMessage-ID: <cp1252@example.net>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=windows-1252\n"
        "Content-Transfer-Encoding: quoted-printable\n\n=93Mestbank=94 rekent =8050 aan =96 waarom?\n"
    ),
    "base64": (
        "From: Piet <piet@example.net>\nSubject: =?utf-8?b?VmVyZ3VubmluZyBhYW52cmFnZW4=?=\n"
        "Message-ID: <base64@example.net>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n"
        + "".join(
            f"{line}\n"
            for line in base64.encodebytes("Waar vind ik het formulier? Één vraag maar.\n".encode())
            .decode()
            .split()
        )
    ),
    "html": (
        "From: Info Gemeente <gemeente@example.net>\nSubject: Subsidie\nMessage-ID: <html@example.net>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain; charset=utf-8\n\n\n"
        "--b1\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "<html><head><style>p {color: red}</style></head><body><p>Beste,</p><p>Wat is de <b>deadline</b> "
        'voor de <a href=3D"https://example.org/subsidie">subsidie</a>?</p></body></html>\n'
        "--b1--\n"
    ),
    "raw8bit": (  # RFC 6532, or a mailer that never heard of RFC 2047
        "From: Zoë Dupré <zoe@example.net>\nSubject: Één vraag – over =?utf-8?q?caf=C3=A9?= De Zon\n"
        "Message-ID: <raw8bit@example.net>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hoi\n"
    ).encode(),
    "broken": (
        b"From: x@example.net\nSubject: =?x-unknown?q?caf=E9?=\nMessage-ID: <broken@example.net>\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    )
    + b"caf\xe9 \xff\xfe ok\n",
}


async def test_messages_in_every_charset_become_text(imap_server, make_source):
    server = imap_server()
    for raw in CHARSET_MAILS.values():
        server.append(raw, when=ARRIVED)
    source = make_source(server)
    items = {i.key: i for i in await poll(source)}
    assert len(items) == 7

    utf8 = next(i for i in items.values() if i.author == "jan.boer@example.net")
    assert utf8.title == "Overstroming in de straat – wat nu?"
    assert "Dank je — Zoë" in utf8.text
    assert (utf8.channel, utf8.url, utf8.author_name) == ("email", "", "Jan Boer")

    latin1 = items["<latin1@example.net>"]
    assert (latin1.author_name, latin1.title) == ("André Peeters", "Re : déjà vu")
    assert "brève van de VLM gekregen, maar de datum klopt niet. Kunt u" in latin1.text
    assert "“Mestbank” rekent €50 aan – waarom?" in items["<cp1252@example.net>"].text
    b64 = items["<base64@example.net>"]
    assert (b64.title, b64.text) == (
        "Vergunning aanvragen",
        "Waar vind ik het formulier? Één vraag maar.",
    )

    html = items["<html@example.net>"].text
    assert "Wat is de deadline voor de subsidie (https://example.org/subsidie)?" in html
    assert "<" not in html and "color" not in html

    raw8bit = items["<raw8bit@example.net>"]
    assert (raw8bit.author_name, raw8bit.title) == ("Zoë Dupré", "Één vraag – over café De Zon")

    broken = items["<broken@example.net>"]
    assert broken.title == "caf\ufffd"  # a charset nobody knows: read as UTF-8, bad bytes replaced
    assert broken.text.startswith("caf\ufffd") and broken.text.endswith("ok")


async def test_headers_threads_and_reply_details(imap_server, make_source):
    server = imap_server()
    server.append(mail(msgid="<first@example.net>", subject="Mestlek"))
    server.append(mail(
        msgid="<second@example.net>", subject="Re: Mestlek", sender='"Boer, Jan" <jan.boer@example.net>',
        headers="In-Reply-To: <first@example.net>\nReferences: <root@x> <first@example.net>\n"
                "Reply-To: =?utf-8?q?Jan_B=C3=B6er?= <antwoord@example.net>\n",
        body="Nog steeds niets gehoord.\n\nOp ma 23 nov. 2026 om 09:15 schreef Info <info@example.org>:\n> Dag Jan,\n>\n> We kijken het na.\n",
    ))  # fmt: skip
    items = await poll(make_source(server))
    first, second = items
    assert (first.key, first.ref, first.in_reply_to) == (
        "<first@example.net>",
        "<first@example.net>",
        "",
    )
    assert (second.ref, second.in_reply_to, second.author_name) == (
        "<second@example.net>",
        "<first@example.net>",
        "Boer, Jan",
    )
    assert second.text == "Nog steeds niets gehoord."  # the quoted earlier mail is cut
    assert second.reply_meta == {
        "message_id": "<second@example.net>",
        "references": ["<root@x>", "<first@example.net>"],
        "reply_to": "antwoord@example.net",
        "subject": "Re: Mestlek",
    }
    assert first.reply_meta["reply_to"] == "jan.boer@example.net"
    assert second.published_at == datetime(2025, 11, 24, 8, 15, tzinfo=UTC)


async def test_attachments_are_named_and_large_mail_is_not_downloaded(imap_server, make_source):
    server = imap_server()
    server.append(
        "From: a@example.net\nSubject: Foto's\nMessage-ID: <att@example.net>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain; charset=utf-8\n\n'
        "Zie bijlage.\n--m\nContent-Type: image/jpeg\nContent-Disposition: attachment; "
        'filename="=?utf-8?q?gracht_bru=C3=AEn.jpg?="\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n--m--\n'
    )
    server.append(mail(msgid="<big@example.net>", body="x" * 300_000))
    items = {i.key: i for i in await poll(make_source(server, max_bytes="100kB"))}
    assert items["<att@example.net>"].text == "Zie bijlage.\n\n[attachments: gracht bruîn.jpg]"
    big = items["<big@example.net>"]
    assert big.title == "Vraag over mijn dossier"
    assert big.text.startswith(
        "[an e-mail of 293 kB, larger than max_bytes (100 kB): only its headers"
    )
    assert "xxx" not in big.text


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (
            "Nee.\n\nOn Mon, 24 Nov 2025 at 09:15, Info <info@example.org> wrote:\n> Klopt dat?\n",
            "Nee.",
        ),
        (
            "Nee.\n\n-----Oorspronkelijk bericht-----\nVan: Info\nOnderwerp: Vraag\n\nKlopt dat?",
            "Nee.",
        ),
        ("> Klopt dat?\nNee.\n> En dit?\nOok niet.\n", "> Klopt dat?\nNee.\n> En dit?\nOok niet."),
        ("> alleen een citaat\n", "> alleen een citaat"),
    ],
)
def test_only_a_quoted_tail_is_cut(body, kept):
    assert mailparse.body_text(mailparse.parse(mail(body=body).encode())) == kept


async def test_missing_or_future_date_means_arrival(imap_server, make_source):
    server = imap_server()
    server.append(mail(msgid="<nodate@x>", date=None), when=ARRIVED)
    server.append(mail(msgid="<future@x>", date="Fri, 01 Jan 2100 10:00:00 +0000"), when=ARRIVED)
    server.append(mail(msgid="<garbage@x>", date="gisteren rond de middag"), when=ARRIVED)
    server.append(mail(msgid="<fine@x>", date="Sun, 23 Nov 2025 23:00:00 -0000"), when=ARRIVED)
    items = {i.key: i.published_at for i in await poll(make_source(server))}
    assert items["<nodate@x>"] == items["<future@x>"] == items["<garbage@x>"] == ARRIVED
    assert items["<fine@x>"] == datetime(2025, 11, 23, 23, 0, tzinfo=UTC)


async def test_auto_replies_bounces_and_the_desks_own_mail_are_left_out(imap_server, make_source):
    server = imap_server()
    left_out = [
        mail(subject="Afwezig", headers="Auto-Submitted: auto-replied\n"),
        mail(subject="Out of office", headers="X-Autoreply: yes\n"),
        mail(subject="Vakantie", headers="X-Autorespond: on\n"),
        mail(subject="Nieuwsbrief", headers="Precedence: bulk\n"),
        mail(subject="Undelivered Mail Returned to Sender", sender="MAILER-DAEMON@mx.example.net"),
        mail(subject="Delivery Status Notification", sender="postmaster@example.net"),
        mail(subject="Niet afgeleverd", headers="Return-Path: <>\n"),
        "From: mx@example.net\nSubject: failure\nMessage-ID: <dsn@x>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--r--\n",
        mail(subject="Ons antwoord", sender="Webcare VLM <webcare@example.org>"),  # [smtp] from
        mail(subject="Nieuws", sender="nieuwsbrief@example.org"),  # own_addresses
    ]
    for raw in left_out:
        server.append(raw)
    server.append(mail(subject="Echte vraag", headers="Auto-Submitted: no\nPrecedence: list\n"))
    # An expert's answer to a hand-off (it keeps the subject tag) is no new mention: it comes
    # as the answer to the routed mention (test_an_experts_reply_by_mail_…).
    server.append(mail(subject=f"Re: {subject_tag('f00dfeed01')} Vraag voor Water: mestlek", sender="chris@example.org"))
    source = make_source(server, own_addresses=["Nieuwsbrief@example.org"], smtp=SMTP_CONFIG)
    items = await poll(source)
    assert [(i.title, i.answers) for i in items if i.answers] == [("Re: [webcare m:f00dfeed01] Vraag voor Water: mestlek", "f00dfeed01")]
    assert [i.title for i in items if not i.answers] == ["Echte vraag"]


async def test_incremental_polls_and_the_first_backlog(imap_server, make_source):
    server = imap_server()
    for n in range(5):
        server.append(mail(subject=f"oud {n}"))
    source = make_source(server, max_backlog=3)
    assert [i.title for i in await poll(source)] == ["oud 2", "oud 3", "oud 4"]
    assert await poll(source) == []
    server.append(mail(subject="nieuw 1"))
    server.append(mail(subject="nieuw 2"))
    assert [i.title for i in await poll(source)] == ["nieuw 1", "nieuw 2"]
    assert await poll(source) == []

    server.append(mail(subject="nieuw 3"))
    assert [i.title for i in await poll(source)] == ["nieuw 3"]
    source.rewind()  # the poller could not store them: the next poll brings them again
    assert [i.title for i in await poll(source)] == ["nieuw 3"]


async def test_a_new_uidvalidity_starts_over_with_the_backlog(imap_server, make_source):
    server = imap_server()
    server.create("Webcare")
    server.append(mail(subject="voor"), mailbox="Webcare")
    source = make_source(server, mailbox="Webcare", max_backlog=2)
    assert [i.title for i in await poll(source)] == ["voor"]
    server.recreate("Webcare")  # restored from a backup: new UIDVALIDITY, UIDs from the start
    for n in range(3):
        server.append(mail(subject=f"na {n}"), mailbox="Webcare")
    assert [i.title for i in await poll(source)] == ["na 1", "na 2"]
    assert "UIDVALIDITY" in source.notice
    server.append(mail(subject="daarna"), mailbox="Webcare")
    assert [i.title for i in await poll(source)] == ["daarna"]


async def test_examine_leaves_flags_alone_and_mark_seen_sets_seen(imap_server, make_source):
    server = imap_server()
    server.append(mail(subject="een"))
    server.append(mail(subject="afwezig", headers="Auto-Submitted: auto-replied\n"))
    assert len(await poll(make_source(server))) == 1
    assert all(b"\\Seen" not in flags for flags in server.flags().values())

    server.append(mail(subject="twee"))
    assert len(await poll(make_source(server, mark_seen=True))) == 2
    seen = {uid: b"\\Seen" in flags for uid, flags in server.flags().items()}
    assert list(seen.values()) == [True, False, True]  # what the desk left out stays unread


async def test_a_dropped_connection_is_replaced_within_the_poll(imap_server, make_source):
    server = imap_server()
    source = make_source(server)
    assert await poll(source) == []
    _wake(source._conn)  # the server hung up on the kept connection (an autologout)
    server.append(mail(subject="na de breuk"))
    assert [i.title for i in await poll(source)] == ["na de breuk"]


async def test_intake_links_a_reply_to_its_mail(imap_server, make_source, make_config):
    server = imap_server()
    server.append(mail(msgid="<q@example.net>", subject="Vraag"))
    source = make_source(server)
    intake = Intake(make_config())
    [question] = intake.admit_all(await poll(source), "info", False, ARRIVED)
    server.append(
        mail(msgid="<r@example.net>", subject="Re: Vraag", headers="In-Reply-To: <q@example.net>\n")
    )
    [answer] = intake.admit_all(await poll(source), "info", False, ARRIVED)
    assert answer.parent == question.id
    assert (question.channel, question.norm_s) == ("email", 8 * 3600)


# --- connections, TLS and errors --------------------------------------------------------


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_tls_with_the_servers_own_ca(imap_server, make_source, security):
    server = imap_server(security)
    server.append(mail(subject="versleuteld"))
    assert [i.title for i in await poll(make_source(server))] == ["versleuteld"]


async def test_an_untrusted_certificate_is_refused_not_ignored(imap_server, make_source):
    server = imap_server("ssl")
    source = make_source(server, ca_file="")
    with pytest.raises(SourceError, match="certificate is not trusted.*set ca_file"):
        await poll(source)


async def test_a_wrong_password_says_so(imap_server, make_source, monkeypatch):
    server = imap_server()
    monkeypatch.setenv(PASSWORD_ENV, "wrong horse")
    with pytest.raises(SourceError) as info:
        await poll(make_source(server))
    message = str(info.value)
    assert "refused the login of desk@example.org" in message and PASSWORD_ENV in message
    assert "horse" not in message and "\n" not in message


async def test_missing_password_mailbox_or_server(imap_server, make_source, monkeypatch):
    server = imap_server()
    with pytest.raises(SourceError, match="cannot open mailbox 'Nergens'"):
        await poll(make_source(server, mailbox="Nergens"))
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(SourceError, match=f"environment variable {PASSWORD_ENV} is not set"):
        await poll(make_source(server))
    monkeypatch.setenv(PASSWORD_ENV, "x")
    closed = make_source(server, port=1)
    with pytest.raises(SourceError, match="connection refused"):
        await poll(closed)


# --- live: IDLE -------------------------------------------------------------------------


def idle_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("imap-idle")]


async def idle_threads_end(within: float) -> float:
    """Seconds until no IDLE thread is left (fails after `within`)."""
    started = time.monotonic()
    while idle_threads() and time.monotonic() - started < within:
        await asyncio.sleep(0.02)
    assert not idle_threads()
    return time.monotonic() - started


@pytest.mark.parametrize("security", ["none", "ssl"])
async def test_idle_brings_new_mail_within_seconds_and_stops_promptly(
    imap_server, make_source, security
):
    server = imap_server(security)
    source = make_source(server)
    assert await poll(source) == []
    batches: asyncio.Queue[list[Item]] = asyncio.Queue()

    async def run() -> None:
        async for items in source.live(None):  # type: ignore[arg-type]
            await batches.put(items)

    task = asyncio.create_task(run())
    assert await asyncio.wait_for(batches.get(), 5) == []  # IDLE established
    await asyncio.to_thread(server.append, mail(subject="Live vraag"))
    items = await asyncio.wait_for(batches.get(), 5)
    assert [i.title for i in items] == ["Live vraag"]
    assert await poll(source) == []  # the poll's catch-up does not bring it twice

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (
        await idle_threads_end(within=1.5) < 1.5
    )  # not a full IDLE_CHECK_S wait, let alone 25 min


async def test_live_ends_with_a_clear_error_when_the_server_goes_away(imap_server, make_source):
    server = imap_server()
    source = make_source(server)
    live = source.live(None)  # type: ignore[arg-type]
    assert await asyncio.wait_for(anext(live), 5) == []
    await asyncio.to_thread(server.stop)
    with pytest.raises(SourceError, match="IMAP 127.0.0.1:.* (closed|ended|lost)"):
        await asyncio.wait_for(anext(live), 5)
    await idle_threads_end(within=1.5)


async def test_a_server_without_idle_is_polled(imap_server, make_source):
    server = imap_server(idle=False)
    source = make_source(server)
    assert source.can_live  # not known before connecting
    for _ in range(2):  # the second time without connecting at all
        with pytest.raises(SourceError, match="does not offer IDLE: new mail comes with the poll"):
            await asyncio.wait_for(anext(source.live(None)), 5)  # type: ignore[arg-type]
    await idle_threads_end(within=1.5)
    assert not make_source(server, idle=False).can_live


# --- replies by e-mail ------------------------------------------------------------------

SMTP_CONFIG = {"host": "127.0.0.1", "port": 2525, "security": "none", "from": "webcare@example.org",
               "from_name": "Webcare VLM"}  # fmt: skip


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK: queued"


@pytest.fixture
async def smtp_inbox():
    """(Inbox, port): an SMTP server on 127.0.0.1 that keeps what it receives."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTPServer(inbox, hostname="localhost"), "127.0.0.1", 0
    )
    yield inbox, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def mention_for(source: ImapSource, server: ImapTestServer, make_config, raw: str):
    server.append(raw)
    items = await poll(source)
    return Intake(make_config()).admit_all(items, source.name, False, ARRIVED)[0]


async def test_a_reply_is_an_e_mail_in_the_thread(
    imap_server, make_source, make_config, smtp_inbox
):
    inbox, port = smtp_inbox
    server = imap_server()
    source = make_source(server, smtp=SMTP_CONFIG | {"port": port})
    assert source.can_reply
    mention = await mention_for(source, server, make_config, mail(
        msgid="<vraag@example.net>", subject="Re: Mestlek aan de beek",
        headers="References: <begin@example.net>\nReply-To: Jan <antwoord@example.net>\n",
    ))  # fmt: skip
    message_id = await source.reply(
        None, mention, "Beste Jan,\n\nWe sturen morgen iemand langs.\n\nDe webcare"
    )

    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["antwoord@example.net"]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert sent["Subject"] == "Re: Mestlek aan de beek"  # no "Re: Re:"
    assert sent["In-Reply-To"] == "<vraag@example.net>"
    assert sent["References"].split() == ["<begin@example.net>", "<vraag@example.net>"]
    assert sent["From"] == "Webcare VLM <webcare@example.org>"
    assert sent["Message-ID"] == message_id and message_id.endswith("@example.org>")
    assert sent["Date"] and sent.get_content_charset() == "utf-8"
    assert (
        sent.get_content().replace("\r\n", "\n")
        == "Beste Jan,\n\nWe sturen morgen iemand langs.\n\nDe webcare\n"
    )

    # The reply comes back into the mailbox (a Cc, a copy): it is the desk's own, left out.
    server.append(envelope.content.decode())
    assert await poll(source) == []


async def test_a_subject_gets_re_once(imap_server, make_source, make_config, smtp_inbox):
    inbox, port = smtp_inbox
    server = imap_server()
    source = make_source(server, smtp=SMTP_CONFIG | {"port": port})
    mention = await mention_for(source, server, make_config, mail(msgid="<a@x>", subject="Mestlek"))
    await source.reply(None, mention, "Dank u.")
    sent = email.message_from_bytes(inbox.envelopes[0].content, policy=email.policy.default)
    assert sent["Subject"] == "Re: Mestlek" and sent["References"] == "<a@x>"
    assert inbox.envelopes[0].rcpt_tos == ["jan.boer@example.net"]


async def test_dry_run_sends_nothing_and_off_cannot_reply(
    imap_server, make_source, make_config, smtp_inbox
):
    inbox, port = smtp_inbox
    server = imap_server()
    source = make_source(server, smtp=SMTP_CONFIG | {"port": port}, replies="dry-run")
    mention = await mention_for(source, server, make_config, mail(subject="Mestlek"))
    said = await source.reply(None, mention, "Dank u.")
    assert said == "dry run: to jan.boer@example.net subject 'Re: Mestlek'"
    assert inbox.envelopes == []
    assert not make_source(server, smtp=SMTP_CONFIG, replies="off").can_reply


async def test_a_refused_send_is_a_source_error(imap_server, make_source, make_config):
    server = imap_server()
    source = make_source(server, smtp=SMTP_CONFIG | {"port": 1})
    mention = await mention_for(source, server, make_config, mail(subject="Mestlek"))
    with pytest.raises(SourceError, match="cannot connect to SMTP 127.0.0.1:1"):
        await source.reply(None, mention, "Dank u.")


# --- restarts: checkpoint and resume ----------------------------------------------------


async def restarted(make_source, server: ImapTestServer, state: dict, **options) -> ImapSource:
    """A new source for the same entry (as after a restart), given the saved checkpoint."""
    source = make_source(server, **options)
    source.resume(json.loads(json.dumps(state)))  # as the poller saves and reads it
    return source


async def test_a_restart_goes_on_from_the_checkpoint(imap_server, make_source, monkeypatch):
    monkeypatch.setattr("sources.imap.MAX_PER_POLL", 4)
    server = imap_server()
    for n in range(3):
        server.append(mail(subject=f"oud {n}"))
    before = make_source(server, max_backlog=2)
    first = await poll(before)
    assert [i.title for i in first] == ["oud 1", "oud 2"]
    state = before.checkpoint()
    assert state["uidvalidity"] and state["last_uid"] == max(server.flags())
    assert (state["host"], state["username"], state["mailbox"]) == (
        "127.0.0.1",
        server.user,
        "INBOX",
    )
    before.close()

    for n in range(6):  # while the collector was down: more than max_backlog and a poll's share
        server.append(mail(subject=f"tijdens {n}"))
    after = await restarted(make_source, server, state, max_backlog=2)
    assert after.checkpoint() == state
    got = await poll(after) + await poll(after)
    assert [i.title for i in got] == [f"tijdens {n}" for n in range(6)]
    assert await poll(after) == []
    keys = [i.key for i in first + got]
    assert len(set(keys)) == len(keys) == 8  # every one, none twice
    assert after.checkpoint()["last_uid"] == max(server.flags()) == state["last_uid"] + 6


async def test_a_new_uidvalidity_after_a_restart_starts_over(imap_server, make_source):
    server = imap_server()
    server.create("Webcare")
    server.append(mail(subject="voor"), mailbox="Webcare")
    before = make_source(server, mailbox="Webcare", max_backlog=2)
    assert len(await poll(before)) == 1
    state = before.checkpoint()
    server.recreate("Webcare")
    for n in range(3):
        server.append(mail(subject=f"na {n}"), mailbox="Webcare")
    after = await restarted(make_source, server, state, mailbox="Webcare", max_backlog=2)
    assert [i.title for i in await poll(after)] == ["na 1", "na 2"]
    assert "UIDVALIDITY" in after.notice
    assert after.checkpoint()["uidvalidity"] != state["uidvalidity"]


async def test_a_checkpoint_of_another_mailbox_is_ignored(imap_server, make_source):
    server = imap_server()
    server.create("Webcare")
    for n in range(3):
        server.append(mail(subject=f"oud {n}"))
    state = make_source(server).checkpoint()
    assert state["last_uid"] is None  # nothing read yet
    await poll(source := make_source(server))
    state = source.checkpoint()
    for other in ({"mailbox": "Webcare"}, {"username": "ander@example.org"}, {"host": "imap.elders.org"}):  # fmt: skip
        fresh = await restarted(make_source, server, state | other, max_backlog=1)
        assert fresh.checkpoint()["last_uid"] is None
        assert [i.title for i in await poll(fresh)] == ["oud 2"]  # the backlog, as on day one


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"host": "127.0.0.1"},
        {"uidvalidity": 1, "last_uid": 1},
        "INBOX",
        None,
        [1, 2],
        {"host": 1, "username": None, "mailbox": ["INBOX"], "uidvalidity": 1, "last_uid": 1},
    ],
)
async def test_an_unreadable_checkpoint_is_ignored(imap_server, make_source, state):
    server = imap_server()
    for n in range(3):
        server.append(mail(subject=f"oud {n}"))
    source = make_source(server, max_backlog=1)
    source.resume(state)  # type: ignore[arg-type]
    assert [i.title for i in await poll(source)] == ["oud 2"]


@pytest.mark.parametrize(
    "values",
    [
        {"uidvalidity": "1", "last_uid": 1},
        {"uidvalidity": 1, "last_uid": "2"},
        {"uidvalidity": 1, "last_uid": -1},
        {"uidvalidity": 1, "last_uid": True},
        {"uidvalidity": 1.5, "last_uid": 1},
        {"uidvalidity": 1, "last_uid": 2**40},
        {"uidvalidity": None, "last_uid": 1},
    ],
)
async def test_a_checkpoint_with_wrong_types_is_ignored(imap_server, make_source, values):
    server = imap_server()
    server.append(mail(subject="oud"))
    source = make_source(server)
    state = source.checkpoint() | values
    source.resume(state)
    assert source.checkpoint()["last_uid"] is None
    json.dumps(source.checkpoint())


async def test_idle_batches_move_the_checkpoint_once_stored(imap_server, make_source):
    server = imap_server()
    server.append(mail(subject="oud"))
    source = make_source(server)
    assert len(await poll(source)) == 1
    [old] = server.flags()
    assert source.checkpoint()["last_uid"] == old
    batches: asyncio.Queue[list[Item]] = asyncio.Queue()
    stored = asyncio.Event()

    async def run() -> None:  # the poller's live loop: a batch is stored, then the next asked
        async for items in source.live(None):  # type: ignore[arg-type]
            await batches.put(items)
            if items:
                await stored.wait()
                stored.clear()

    task = asyncio.create_task(run())
    try:
        assert await asyncio.wait_for(batches.get(), 5) == []
        await asyncio.to_thread(server.append, mail(subject="live"))
        assert [i.title for i in await asyncio.wait_for(batches.get(), 5)] == ["live"]
        # Still being stored by the live task: a checkpoint the poll asks for stays below it.
        assert await poll(source) == []
        state = source.checkpoint()
        assert state["last_uid"] == old
        stored.set()  # stored: the live task asks for the next batch
        new = max(server.flags())
        for _ in range(100):
            if source.checkpoint()["last_uid"] == new:
                break
            await asyncio.sleep(0.01)
        assert source.checkpoint()["last_uid"] == new
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await idle_threads_end(within=1.5)

    # A restart from the checkpoint taken while the batch was being stored brings it again
    # (the store keeps it once); one taken after it does not.
    early = await restarted(make_source, server, state)
    assert [i.title for i in await poll(early)] == ["live"]
    late = await restarted(make_source, server, source.checkpoint())
    assert await poll(late) == []


async def next_batch(live) -> list[Item]:
    async with asyncio.timeout(5):  # in this task, as the poller's live loop reads it
        return await anext(live)


async def test_an_idle_batch_that_is_not_stored_is_not_checkpointed(imap_server, make_source):
    server = imap_server()
    source = make_source(server)
    assert await poll(source) == []
    live = source.live(None)  # type: ignore[arg-type]
    assert await next_batch(live) == []
    await asyncio.to_thread(server.append, mail(subject="live"))
    assert len(await next_batch(live)) == 1
    [first] = server.flags()
    assert source.checkpoint()["last_uid"] == first  # asked by the task that got it: stored
    await asyncio.to_thread(server.append, mail(subject="live 2"))
    assert len(await next_batch(live)) == 1
    await live.aclose()  # the poller could not store it
    await idle_threads_end(within=1.5)
    assert source.checkpoint()["last_uid"] == first
    assert [i.title for i in await poll(source)] == ["live 2"]


async def test_the_poller_saves_the_checkpoint_and_a_restart_resumes_it(
    imap_server, make_source, make_config
):
    from sources.poller import Poller
    from store import Store

    server = imap_server()
    for n in range(3):
        server.append(mail(subject=f"oud {n}"))
    config = make_config()

    def collector() -> Poller:  # a collector starting on the data directory
        source = make_source(server, max_backlog=1, idle=False)
        return Poller([source], Intake(config), Store(config.data_dir))

    assert await collector().poll_once() == 1
    for n in range(4):
        server.append(mail(subject=f"tijdens {n}"))
    assert await collector().poll_once() == 4
    titles = sorted(m.title for m in Store(config.data_dir).load())
    assert titles == ["oud 2"] + [f"tijdens {n}" for n in range(4)]


async def test_an_experts_reply_by_mail_becomes_the_routed_mentions_answer(
    imap_server, make_source, make_config
):
    """The hand-off went out with "[webcare m:<id>.<key>]" in its subject; the expert's reply
    keeps it. It is not a new mention: its text is the expert's answer on the routed mention, as
    `a` on the desk would put it, once (tests/test_expert_answers.py: what is refused)."""
    from datetime import timedelta

    from sources.poller import Poller
    from store import Store
    from store.handoffs import HandoffBook
    from tests.tui_helpers import mention as make_mention
    from webcare.routing import subject_tag

    config = make_config()
    store = Store(config.data_dir)
    routed = make_mention(1, ARRIVED, 60)
    store.add([routed])
    store.update_state("m1", {"status": "routed", "routed_to": "An Peeters", "routed_at": ARRIVED.isoformat()}, "routed to An Peeters", "tester")
    key = HandoffBook(config.data_dir).record("m1", kind="question", to="an.peeters@example.org", name="An Peeters", at=ARRIVED)
    server = imap_server()
    tag = subject_tag("m1", key)
    server.append(mail(subject=f"Re: {tag} Vraag over de mestbank", sender="An Peeters <an.peeters@example.org>",
                       body="De aangifte kan nog tot 31 maart.\n\nOp ma 24 nov schreef webcare:\n> Kan je helpen?\n"))  # fmt: skip
    server.append(mail(subject=f"Re: {tag} nog iets", sender="An Peeters <an.peeters@example.org>", body="En nog dit."))
    poller = Poller([make_source(server, idle=False)], Intake(config), Store(config.data_dir), clock=lambda: ARRIVED + timedelta(hours=1))
    assert await poller.poll_once() == 1  # the answer is no mention; the second mail is one
    m = Store(config.data_dir).get("m1")
    assert m.status == "responding" and m.expert_answer.startswith("De aangifte kan nog tot 31 maart.")
    assert "> Kan je helpen?" not in m.expert_answer  # the quoted hand-off is cut
    assert m.history[-1]["what"] == "expert answered (by e-mail)" and m.history[-1]["who"] == "An Peeters"
    assert "En nog dit." not in m.expert_answer  # the first answer stands; the second is a mail
    [second] = [x for x in Store(config.data_dir).load() if x.id != "m1"]
    assert second.text == "En nog dit." and second.suspicious.endswith("this hand-off was answered already")
