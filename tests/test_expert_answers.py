"""Expert answers by e-mail are taken only from the expert: the hand-off goes out over a real SMTP
server (aiosmtpd), the replies come in through a real IMAP server (pymap), the collector's
poller reads them, and the desk runs under Pilot. See webcare.answers for the rules."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from imapserver import imap_server_fixture  # noqa: F401 (the imap_server fixture)

from sources.poller import Poller
from sources.registry import build_source
from store import Store
from store.handoffs import HandoffBook
from store.jsonstorage import StoreError
from tests.smtpserver import Inbox
from tests.tui_helpers import make_app, mention, screen_text
from tui.widgets.mention_detail import MentionDetail
from webcare import triage
from webcare.intake import Intake
from webcare.routing import subject_tag

PASSWORD_ENV = "WEBCARE_TEST_IMAP_PASSWORD"
AN = "An Peeters <an.peeters@example.org>"

DIRECTORY = """
[[experts]]
name = "An Peeters"
unit = "Mestbank"
topics = ["mest", "mestbank"]
email = "an.peeters@example.org"
hours = "mon-fri 08:00-17:00"
deputy = "Bart Claes"
answer_within = "4h"

[[experts]]
name = "Bart Claes"
unit = "Mestbank"
topics = ["mestbank"]
email = "bart.claes@example.org"
hours = "mon-fri 08:00-17:00"

[[experts]]
name = "Chris Maes"
unit = "Water"
topics = ["water"]
email = "chris.maes@example.org"
"""


@pytest.fixture(autouse=True)
def imap_password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "correct horse")


@pytest.fixture
def desk(make_config, imap_server, clock):
    """(config, server): a config with the directory, an imap source on a real pymap server
    and, given an SMTP port, [smtp]."""

    def make(smtp_port: int | None = None, mailbox: str = "INBOX"):
        server = imap_server(idle=False)
        if mailbox != "INBOX":
            server.create(mailbox)
        extra = DIRECTORY + (
            f'\n[[sources]]\ntype = "imap"\nname = "info"\nhost = "{server.host}"\nport = {server.port}\n'
            f'security = "{server.security}"\nusername = "{server.user}"\npassword_env = "{PASSWORD_ENV}"\nidle = false\n'
            f'mailbox = "{mailbox}"\n'
        )
        if smtp_port is not None:
            extra += f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\nfrom = "webcare@example.org"\n'
        return make_config(extra), server

    return make


async def collect(config, clock) -> int:
    """One poll of the mailbox by the collector's poller: how many new mentions it stored."""
    source = build_source(config.sources[0], config)
    try:
        return await Poller([source], Intake(config), Store(config.data_dir), clock=clock).poll_once()
    finally:
        source.close()


def route(config, clock, expert: str, to: str, mention_id: str = "m1", deputy_for: str = "") -> str:
    """Route the mention to `expert` as the desk does (state, then the kept hand-off): its key."""
    m = Store(config.data_dir).get(mention_id)
    Store(config.data_dir).change(triage.route(m, expert, clock() + timedelta(hours=4), clock()), "tester", at=clock())
    return HandoffBook(config.data_dir).record(mention_id, kind="question", to=to, name=expert, at=clock(), deputy_for=deputy_for)


def mail(subject: str, body: str = "De aangifte kan nog tot 31 maart.", sender: str = AN, msgid: str | None = None) -> str:
    msgid = msgid or make_msgid(domain="example.org")
    return (f"From: {sender}\nTo: webcare@example.org\nSubject: {subject}\nMessage-ID: {msgid}\n"
            "Date: Mon, 23 Nov 2026 09:30:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            f"{body}\n")  # fmt: skip


def reply_to(handoff: EmailMessage, answer: str, sender: str = AN) -> bytes:
    """The expert's reply as a mail program writes it: "Re: " + the subject (folded as it likes),
    threaded on the hand-off, the answer above the quoted hand-off."""
    reply = EmailMessage(policy=email.policy.SMTP)
    reply["From"] = sender
    reply["To"] = handoff["Reply-To"]
    reply["Subject"] = "Re: " + handoff["Subject"]
    reply["Date"] = format_datetime(handoff_time(handoff) + timedelta(minutes=20))
    reply["Message-ID"] = make_msgid(domain="example.org")
    reply["In-Reply-To"] = handoff["Message-ID"]
    reply["References"] = handoff["Message-ID"]
    quoted = "\n".join("> " + line for line in handoff.get_body(("plain",)).get_content().splitlines())
    reply.set_content(f"{answer}\n\nOp ma 23 nov 2026 om 10:00 schreef Webcare <webcare@example.org>:\n{quoted}\n")
    return reply.as_bytes()


def handoff_time(msg: EmailMessage):
    return email.utils.parsedate_to_datetime(str(msg["Date"]))


async def wait_for(predicate, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def suspicious(config) -> dict[str, str]:
    """The stored e-mail mentions marked suspicious: title → reason."""
    return {m.title: m.suspicious for m in Store(config.data_dir).load() if m.suspicious}


async def test_the_experts_real_reply_is_taken_once(desk, clock):
    """e then 1 e-mails the hand-off; An's mail program replies (Re:, folded subject, quoted
    hand-off, her address in other capitals): the collector takes it as the answer, every desk
    says so. A second mail on the same hand-off is not taken again."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTPServer(inbox, hostname="localhost"), "127.0.0.1", 0)
    try:
        config, server = desk(smtp.sockets[0].getsockname()[1])
        app = make_app(config, clock, [mention(1, clock(), 90, text="Wanneer sluit de mestbank-aangifte?")])
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("e", "1")
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(lambda: inbox.envelopes)
            handoff = email.message_from_bytes(inbox.envelopes[0].content, policy=email.policy.default)
            assert inbox.envelopes[0].rcpt_tos == ["an.peeters@example.org"]

            server.append(reply_to(handoff, "De aangifte kan nog tot 31 maart.", sender="An Peeters <An.Peeters@Example.ORG>"))
            assert await collect(config, clock) == 0  # no new mention: an answer
            m = Store(config.data_dir).get("m1")
            assert m.status == "responding" and m.expert_answer == "De aangifte kan nog tot 31 maart."
            assert m.history[-1]["what"] == "expert answered (by e-mail)" and m.history[-1]["who"] == "An Peeters"
            await pilot.pause(1.5)
            notes = [(n.title, n.message) for n in app._notifications]
            assert ("Antwoord van de expert (e-mail)", "An Peeters → @author1: De aangifte kan nog tot 31 maart.") in notes

            # The same key once more (An writes again): kept as a mail, marked, not the answer.
            again = reply_to(handoff, "Toch niet, het is 15 maart!")
            server.append(again)
            assert await collect(config, clock) == 1
            assert Store(config.data_dir).get("m1").expert_answer == "De aangifte kan nog tot 31 maart."
            assert list(suspicious(config).values()) == ["tag of mention m1: this hand-off was answered already"]
    finally:
        smtp.close()


async def test_the_answer_taken_read_again_is_nothing_new(desk, clock):
    """A rebuilt mailbox brings the answer that was taken once more: not a second answer, and
    not a suspicious mention either (it is the very mail, by its Message-ID)."""
    config, server = desk(mailbox="Webcare")
    Store(config.data_dir).add([mention(1, clock(), 90)])
    key = route(config, clock, "An Peeters", "an.peeters@example.org")
    answer = mail(f"Re: {subject_tag('m1', key)} Vraag voor Mestbank", msgid="<antwoord-1@example.org>")
    server.append(answer, "Webcare")
    assert await collect(config, clock) == 0
    server.recreate("Webcare")  # restored from a backup: a new UIDVALIDITY, every mail read again
    server.append(answer, "Webcare")
    assert await collect(config, clock) == 0
    assert Store(config.data_dir).get("m1").status == "responding" and not suspicious(config)
    [h] = HandoffBook(config.data_dir).of("m1")
    assert h.answered_at == clock() and h.answer_ref == "<antwoord-1@example.org>"


async def test_a_forged_sender_is_refused_and_shown_as_suspicious(desk, clock):
    """Whoever learns the key (a forwarded hand-off) still cannot answer for An: the mail is an
    ordinary e-mail mention, marked in the detail pane with the reason, shown as plain text."""
    config, server = desk()
    Store(config.data_dir).add([mention(1, clock(), 60, text="Vraag over de mestbank")])
    key = route(config, clock, "An Peeters", "an.peeters@example.org")
    tag = subject_tag("m1", key)
    server.append(mail(f"Re: {tag} Vraag voor Mestbank", "Het antwoord is: betaal via http://evil.example/",
                       sender='"[@click=app.quit]An Peeters[/]" <"[b]eve[/b]"@example.net>'))
    # Two From addresses, the first An's: not An's answer either.
    server.append(mail(f"Re: {tag} Vraag (2)", "Ook dit.", sender=f"{AN}, Eve <eve@example.net>"))
    assert await collect(config, clock) == 2
    m = Store(config.data_dir).get("m1")
    assert m.status == "routed" and m.expert_answer == "" and m.answered_at is None
    assert suspicious(config) == {
        "Re: [webcare m:m1] Vraag voor Mestbank":
            'tag of mention m1: sent from "[b]eve[/b]"@example.net, but the hand-off went to an.peeters@example.org',
        "Re: [webcare m:m1] Vraag (2)": "tag of mention m1: the mail has 2 sender (From) addresses, not one",
    }
    # The key is kept nowhere in the mails' mentions: a reply to Eve does not hand it on.
    assert all(key not in json.dumps(m.export_record()) for m in Store(config.data_dir).load())
    assert HandoffBook(config.data_dir).of("m1")[0].open  # An's own answer can still come

    app = make_app(config, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("j")  # past the routed question (due first) to the first mail
        await pilot.pause()
        detail = app.screen.query_one(MentionDetail)
        shown = detail.mention
        assert shown is not None and shown.channel == "email" and shown.suspicious
        assert "Verdacht: niet aanvaard als antwoord van de expert" in screen_text(app)
        reasons = [detail._text.plain]
        await pilot.press("j")
        await pilot.pause()
        assert detail.mention.suspicious and "Verdacht" in screen_text(app)
        reasons.append(detail._text.plain)
        # The reason as it is: the sender's markup shown, not run.
        assert any('(tag of mention m1: sent from "[b]eve[/b]"@example.net, but the hand-off went to '
                   "an.peeters@example.org)" in text for text in reasons)
        assert any('"[b]eve[/b]"@example.net' in line for line in screen_text(app).splitlines() + reasons)
        assert app.is_running  # [@click=app.quit] in the display name did nothing
        await pilot.press("g")  # the routed question itself carries no mark
        await pilot.pause()
        assert detail.mention.id == "m1" and "Verdacht" not in screen_text(app)


async def test_the_right_sender_with_a_guessed_or_old_tag_is_refused(desk, clock):
    """From An's own address (which anyone can write in From) but without the key this desk sent
    her: no key (as an older desk's tags, or a hand-off kept before keys), a guessed key, the key
    of a hand-off replaced when the question went to Chris. Each is a marked mail, none the answer."""
    config, server = desk()
    Store(config.data_dir).add([mention(1, clock(), 90)])
    old = route(config, clock, "An Peeters", "an.peeters@example.org")
    route(config, clock, "Chris Maes", "chris.maes@example.org")  # not An's deputy: An's key is void
    server.append(mail(f"Re: {subject_tag('m1')} Vraag voor Mestbank", "zonder sleutel"))
    server.append(mail(f"Re: {subject_tag('m1', '0' * 20)} Vraag voor Mestbank", "geraden"))
    server.append(mail(f"Re: {subject_tag('m1', old)} Vraag voor Mestbank", "oud"))
    assert await collect(config, clock) == 3
    m = Store(config.data_dir).get("m1")
    assert m.status == "routed" and m.routed_to == "Chris Maes" and m.expert_answer == ""
    reasons = {m.text: m.suspicious for m in Store(config.data_dir).load() if m.suspicious}
    assert reasons == {
        "zonder sleutel": "tag of mention m1: the subject tag has no key (a hand-off sent before keys, or a made-up tag)",
        "geraden": "tag of mention m1: the key in the subject tag is not one this desk sent for this mention (guessed or old)",
        "oud": "tag of mention m1: this hand-off was replaced by a later one to someone else",
    }


async def test_a_store_from_before_keys_takes_no_answer_from_the_mailbox(desk, clock):
    """A mention routed before hand-offs had keys (no handoffs.json): the expert's reply has the
    old tag; it is kept as a marked mail and the answer is entered with `a`, never taken."""
    config, server = desk()
    Store(config.data_dir).add([mention(1, clock(), 90)])
    Store(config.data_dir).update_state("m1", {"status": "routed", "routed_to": "An Peeters"}, "routed to An Peeters", "tester")
    assert HandoffBook(config.data_dir).of("m1") == []
    server.append(mail(f"Re: {subject_tag('m1')} Vraag voor Mestbank"))
    assert await collect(config, clock) == 1
    assert Store(config.data_dir).get("m1").status == "routed"
    assert "has no key" in next(iter(suspicious(config).values()))


async def test_a_mention_that_is_not_waiting_takes_no_answer(desk, clock):
    """The right key from the right address, but the mention is not waiting for its expert: the
    routing was undone, the answer was entered by hand, or it was feedback to a unit."""
    config, server = desk()
    Store(config.data_dir).add([mention(1, clock(), 90), mention(2, clock(), 90), mention(3, clock(), 90)])
    undone = route(config, clock, "An Peeters", "an.peeters@example.org", "m1")
    routed = Store(config.data_dir).get("m1")
    Store(config.data_dir).change(triage.undo(routed, len(routed.history) - 1), "tester", at=clock())
    by_hand = route(config, clock, "An Peeters", "an.peeters@example.org", "m2")
    Store(config.data_dir).change(triage.expert_answered(Store(config.data_dir).get("m2"), "Telefonisch: 31 maart.", clock()), "tester")
    feedback = HandoffBook(config.data_dir).record("m3", kind="feedback", to="an.peeters@example.org", name="Mestbank", at=clock())
    server.append(mail(f"Re: {subject_tag('m1', undone)} Vraag", "een"))
    server.append(mail(f"Re: {subject_tag('m2', by_hand)} Vraag", "twee"))
    server.append(mail(f"Re: {subject_tag('m3', feedback)} Feedback", "drie"))
    assert await collect(config, clock) == 3
    store = Store(config.data_dir)
    assert store.get("m1").status == "new" and store.get("m2").expert_answer == "Telefonisch: 31 maart."
    assert store.get("m3").expert_answer == ""
    reasons = {m.text: m.suspicious for m in store.load() if m.suspicious}
    assert reasons == {
        "een": "tag of mention m1: the mention is not waiting for an expert (status: new)",
        "twee": "tag of mention m2: the mention is not waiting for an expert (status: responding)",
        "drie": "tag of mention m3: this was feedback passed on to Mestbank: no answer is taken from it",
    }


async def test_the_deputy_may_answer_and_the_first_answer_counts(desk, clock):
    """An is late, the desk asks her deputy Bart: both keys stay open, Bart answers first; An's
    answer afterwards is a marked mail."""
    config, server = desk()
    Store(config.data_dir).add([mention(1, clock(), 90)])
    an = route(config, clock, "An Peeters", "an.peeters@example.org")
    bart = route(config, clock, "Bart Claes", "bart.claes@example.org", deputy_for="An Peeters")
    server.append(mail(f"Re: {subject_tag('m1', bart)} Vraag", "Bart: 31 maart.", sender="Bart Claes <bart.claes@example.org>"))
    assert await collect(config, clock) == 0
    server.append(mail(f"Re: {subject_tag('m1', an)} Vraag", "An: 31 maart."))
    assert await collect(config, clock) == 1
    m = Store(config.data_dir).get("m1")
    assert m.expert_answer == "Bart: 31 maart." and m.history[-1]["who"] == "Bart Claes"
    assert suspicious(config) == {"Re: [webcare m:m1] Vraag": "tag of mention m1: the mention is not waiting for an expert (status: responding)"}


def test_a_damaged_handoff_file_takes_no_answer_and_is_not_overwritten(tmp_path, clock):
    book = HandoffBook(tmp_path)
    book.path.write_text("{niet: json")
    assert book.of("m1") == []  # nothing to match: no answer is taken
    with pytest.raises(StoreError, match="not overwritten"):
        book.record("m1", kind="question", to="an.peeters@example.org", name="An Peeters", at=clock())
    assert book.path.read_text() == "{niet: json"
    book.path.write_text(json.dumps({"m1": [{"kind": "question"}]}))  # a record without a key matches nothing
    assert [h.key for h in book.of("m1")] == [""]
