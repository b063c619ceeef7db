"""Ambassadors: the daily digest of what the calendar plans to publish, e-mailed once a day by
the collector (two `webcare collect --once` processes at the same time send it once), and a
positive mention passed on from the desk (L4). E-mail goes to a real SMTP server (aiosmtpd)
on loopback; the collector runs as real processes; the desk is the real app under Pilot."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store import Store
from store.plan import PlanStore
from tests.smtpserver import Inbox, smtp_on_loopback, smtp_table, wait_for
from tests.tui_helpers import make_app, mention
from tui.screens.prompt import PromptScreen
from webcare.ambassadors import (
    AmbassadorSettings,
    ambassadors,
    digest_due,
    digest_items,
    digest_message,
)
from webcare.config import ConfigError
from webcare.planning import PlanItem
from webcare.watch import parse_watch

ROOT = Path(__file__).resolve().parent.parent
BRUSSELS = ZoneInfo("Europe/Brussels")

PEOPLE = """
[[watch.people]]
handle = "@els"
kind = "ambassador-internal"
name = "Els Vos"
email = "els.vos@example.org"

[[watch.people]]
handle = "@fan"
channel = "mastodon"
kind = "ambassador-external"
name = "Fien Fan"
email = "fien@example.net"

[[watch.people]]
handle = "@stil"
kind = "ambassador-external"
name = "Stille Ambassadeur"   # no e-mail: did not opt in, gets nothing

[[watch.people]]
handle = "@journalist"
kind = "journalist"
"""


# --- the config ---------------------------------------------------------------------------------


def test_only_ambassadors_with_an_email_opted_in(make_config):
    config = make_config(PEOPLE)
    assert [(a.name, a.email) for a in ambassadors(config.watch)] == [
        ("Els Vos", "els.vos@example.org"), ("Fien Fan", "fien@example.net")]
    assert config.ambassadors == AmbassadorSettings(dt.time(8, 0), 2)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[[watch.people]]\nhandle = "@j"\nkind = "journalist"\nemail = "j@example.org"',
         "[[watch.people]] #1 email: only an ambassador"),
        ('[[watch.people]]\nhandle = "@a"\nkind = "ambassador-internal"\nemail = "not an address"',
         "[[watch.people]] #1 email: 'not an address' is not an e-mail address"),
        ('[ambassadors]\ndigest_at = "8 uur"', "[ambassadors] digest_at: '8 uur' is not a time"),
        ('[ambassadors]\ndigest_at = 8', "[ambassadors] digest_at: must be a time"),
        ('[ambassadors]\ndays = 0', "[ambassadors] days: must be a whole number from 1 to 14"),
        ('[ambassadors]\nsend_at = "08:00"', "[ambassadors] send_at: unknown key"),
    ],
)
def test_bad_ambassador_settings_name_the_key(make_config, extra, expected):
    # [[watch.people]] extends the [watch] table of the base config, so it is written after it
    with pytest.raises(ConfigError) as caught:
        make_config(extra + "\n")
    assert expected in str(caught.value)


def test_the_digest_holds_what_is_planned_today_and_tomorrow_not_drafts_or_held_posts():
    today = dt.date(2026, 11, 23)
    now = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
    items = [
        PlanItem.new("Week van het bos", date=today, time=dt.time(10, 0), channels=["facebook"],
                     text="Trek de wandelschoenen aan", status="planned", now=now),
        PlanItem.new("Nog een concept", date=today, status="draft", now=now),
        PlanItem.new("Tegengehouden post", date=today, status="held", now=now),
        PlanItem.new("Mestbank: aangifte open", date=today + dt.timedelta(days=1), status="planned", now=now),
        PlanItem.new("Volgende week", date=today + dt.timedelta(days=3), status="planned", now=now),
        PlanItem.new("Een idee", now=now),
    ]
    chosen = digest_items(items, today, 2)
    assert [i.title for i in chosen] == ["Week van het bos", "Mestbank: aangifte open"]
    assert digest_due(AmbassadorSettings(dt.time(8, 0)), now, BRUSSELS) == today  # 08:00 in Brussels
    assert digest_due(AmbassadorSettings(dt.time(8, 30)), now, BRUSSELS) is None
    assert digest_due(AmbassadorSettings(None), now, BRUSSELS) is None
    [els, _] = ambassadors(parse_watch(tomllib.loads(PEOPLE)["watch"]))
    body = digest_message(chosen, els, day=today, desk="VLM").body
    assert "== vandaag 23/11 ==" in body and "10:00  Week van het bos  (facebook)" in body
    assert "== morgen 24/11 ==" in body and "Trek de wandelschoenen aan" in body


# --- the digest, from the collector ------------------------------------------------------------


async def _collect_once(config_path: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "webcare.cli", "collect", "--once", "--config", str(config_path),
        cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, (out + err).decode()


async def test_two_collectors_at_once_send_the_digest_once(make_config):
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        # digest_at 00:00: due whenever the test runs; the plan dated by the desk's day now
        config = make_config(PEOPLE + '\n[ambassadors]\ndigest_at = "00:00"\n' + smtp_table(port))
        today = dt.datetime.now(dt.UTC).astimezone(config.timezone).date()
        plan = PlanStore(config.data_dir)
        plan.add(PlanItem.new("Week van het bos <b>feest</b>", date=today, time=dt.time(23, 0),
                              channels=["facebook"], status="planned"))
        plan.add(PlanItem.new("Een concept", date=today, status="draft"))
        results = await asyncio.gather(_collect_once(config.path), _collect_once(config.path))
        assert [code for code, _ in results] == [0, 0], results
        assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["els.vos@example.org", "fien@example.net"]
        message = inbox.message()
        body = message.get_body(("plain",)).get_content()
        assert "23:00  Week van het bos <b>feest</b>  (facebook)" in body and "Een concept" not in body
        assert "Om te delen" in message["Subject"]
        # the same day again: nothing more
        code, _ = await _collect_once(config.path)
        assert code == 0 and len(inbox.envelopes) == 2
        marks = (config.data_dir / "digests.json")
        assert marks.exists() and oct(marks.stat().st_mode & 0o777) == "0o600"
    finally:
        server.close()


async def test_a_failed_digest_is_kept_and_tried_again(make_config):
    from sources.digest import RETRY_AFTER, send_digest

    config = make_config(PEOPLE + '\n[ambassadors]\ndigest_at = "00:00"\n' + smtp_table(1))  # nobody listens
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(config.timezone).date()
    PlanStore(config.data_dir).add(PlanItem.new("Post", date=today, status="planned"))
    run = await send_digest(config, now)
    assert not run.sent and len(run.errors) == 2
    # `webcare check` says why
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "webcare.cli", "check", "--config", str(config.path), cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    said = (await check.communicate())[0].decode()
    assert "ambassadors: 2 opted in; digest daily from 00:00" in said
    assert "ambassadors' digest: last try failed" in said and "cannot connect to SMTP 127.0.0.1:1" in said
    # not asked again at once
    assert (await send_digest(config, now + dt.timedelta(minutes=1))).errors == ()
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        config = make_config(PEOPLE + '\n[ambassadors]\ndigest_at = "00:00"\n' + smtp_table(port))
        run = await send_digest(config, now + RETRY_AFTER)
        assert len(run.sent) == 2 and len(inbox.envelopes) == 2
    finally:
        server.close()


# --- L4: a positive mention passed on from the desk --------------------------------------------


async def test_b_passes_a_positive_mention_on_to_the_ambassadors(make_config, clock):
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        config = make_config(PEOPLE + smtp_table(port), language="en")  # y/n in the walk in any version
        app = make_app(config, clock, [
            mention(1, clock(), 30, text="Wat een mooie wandeling in het nieuwe bos! [@click=app.quit]x[/]",
                    url="https://example.org/p/1", sentiment="positive"),
            mention(2, clock(), 50, text="Slechte dienst", sentiment="negative"),
        ])
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("t", "n", "n", "n", "y", "y", "enter")  # positive, addressed to us: L4
            await pilot.pause()
            assert Store(config.data_dir).get("m1").scheme_path[-1] == "L4"
            assert any("b: pass it on to the ambassadors" in str(n.message) for n in app._notifications)
            await pilot.press("b")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            await pilot.press(*"Delen mag!", "enter")
            await pilot.pause()
            await wait_for(lambda: len(inbox.envelopes) == 2)
            assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["els.vos@example.org", "fien@example.net"]
            body = inbox.message().get_body(("plain",)).get_content()
            assert "mooie wandeling in het nieuwe bos! [@click=app.quit]x[/]" in body
            assert "https://example.org/p/1" in body and "Delen mag!" in body
            whats = [h["what"] for h in Store(config.data_dir).get("m1").history]
            assert "passed on to the ambassadors: Els Vos, Fien Fan" in whats
            await wait_for(lambda: sum("hand-off e-mailed" in h["what"]
                                       for h in Store(config.data_dir).get("m1").history) == 2)
            # a negative mention is not passed on
            await pilot.press("j", "b")
            await pilot.pause()
            assert not isinstance(app.screen, PromptScreen)
            assert len(inbox.envelopes) == 2 and not Store(config.data_dir).get("m2").history
    finally:
        server.close()


async def test_without_smtp_nothing_is_passed_on(make_config, clock):
    config = make_config(PEOPLE)
    app = make_app(config, clock, [mention(1, clock(), 30, text="Top!", sentiment="positive")])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert any("Geen [smtp]" in str(n.message) for n in app._notifications)
        assert not Store(config.data_dir).get("m1").history
