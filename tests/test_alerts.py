"""Alerts away from the terminal: Apprise sending to a real HTTP server on loopback that speaks
ntfy's API (a JSON POST of topic, title and message), from a running collector, once however
many processes send, within each target's limit, hours and on-call roster."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)
from imapserver import imap_server_fixture  # noqa: F401 (the imap_server fixture)

from sources.alerts import Alerts, AlertWatch
from sources.health import SourceHealth
from store import Store
from store.presence import Presence
from tests.conftest import write_config
from webcare.alerts import Alert, mention_alert, short_id
from webcare.config import ConfigError, load
from webcare.i18n import word
from webcare.mention import Mention

ROOT = Path(__file__).resolve().parent.parent
NTFY_OK = b'{"id":"x1","event":"message"}'


def ntfy(server: FeedServer, status: int = 200) -> str:
    """The server answers ntfy's publish (POST /) and returns the Apprise URL of a topic."""
    server.serve("/", body=NTFY_OK if status == 200 else b'{"error":"no"}', status=status, content_type="application/json")
    return f"ntfy://127.0.0.1:{server.base.rsplit(':', 1)[1]}/vlm-webcare"


def published(server: FeedServer) -> list[dict]:
    return [r.json() for r in server.requests_for("/") if r.method == "POST"]


def alerts_toml(url: str, name: str = "piket", extra: str = "") -> str:
    return f'\n[[alerts]]\nname = "{name}"\nurl = "{url}"\n{extra}\n'


def wait_for(predicate, timeout: float) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out")
        time.sleep(0.05)


def mention(mention_id: str = "a1b2c3d4e5f6a7b8c9d0", **kwargs) -> Mention:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    base = dict(
        id=mention_id, source="x", channel="x", author="@boer_jan", author_name="Jan",
        text="Overstroming in de Mestbank-straat!\nTweede regel", first_seen_at=now,
        deadline=now + timedelta(hours=2), norm_s=7200, priority="urgent",
    )  # fmt: skip
    base.update(kwargs)
    return Mention(**base)


# --- from a running collector ---------------------------------------------------------------

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Nieuws</title>
<item><guid>n1</guid><title>Overstroming bij de mestbank \x1b[31m[b]rood[/b]</title>
<link>https://news.example.org/n1</link><author>redactie@news.example.org (Redactie)</author>
<description>De mestbank zegt niets.</description></item></channel></rss>"""


def test_a_running_collector_sends_an_urgent_mention_to_ntfy(tmp_path, feed_server):
    url = ntfy(feed_server)
    feed = feed_server.serve("/feed.xml", body=FEED.encode())
    config = write_config(
        tmp_path,
        f"""
        [[watch.rules]]
        name = "overstroming"
        any = ["overstroming"]
        priority = "urgent"

        [[sources]]
        type = "rss"
        name = "nieuws"
        url = "{feed}"
        """
        + alerts_toml(url, extra='on = ["urgent"]'),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    collector = subprocess.Popen(
        [sys.executable, "-m", "webcare.cli", "collect", "--config", str(config)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: published(feed_server), 30)
    finally:
        collector.terminate()
        _, err = collector.communicate(timeout=20)
    [sent] = published(feed_server)
    assert sent["topic"] == "vlm-webcare"
    assert sent["title"].startswith("Dringend · news · ")  # the desk speaks Dutch
    [stored] = Store(tmp_path / "data").load()
    sid = short_id(stored.id)
    # the channel, the author, the first line, the time left and the short id to open
    assert "Redactie" in sent["title"] or "redactie" in sent["title"]
    assert "Overstroming bij de mestbank" in sent["message"]
    assert f"webcare --open {sid}" in sent["message"] and f"id {sid}" in sent["message"]
    # outside text is cleaned: no escape codes reach a phone; markup stays plain text
    assert "\x1b" not in sent["message"] and "[b]rood[/b]" in sent["message"]
    assert url not in err and "vlm-webcare" not in err  # never the URL in a log
    record = json.loads((tmp_path / "data" / "alerts.json").read_text())
    assert f"urgent:{stored.id}" in record["sent"]
    assert oct((tmp_path / "data" / "alerts.json").stat().st_mode & 0o777) == oct(0o600)


SEND_FIVE = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from sources.alerts import Alerts
from webcare.alerts import Alert
from webcare.config import load
alerts = Alerts(load(Path(sys.argv[1])))
for i in range(5):
    alerts.send(Alert(f"urgent:m{i}", "urgent", f"alert {i}", "body"))
"""


def test_each_event_is_sent_once_however_many_processes_send_it(tmp_path, feed_server):
    url = ntfy(feed_server)
    config = write_config(tmp_path, alerts_toml(url, extra="limit = 100"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", SEND_FIVE, str(config)], cwd=tmp_path, env=env)
        for _ in range(3)
    ]
    for p in procs:
        assert p.wait(timeout=60) == 0
    titles = sorted(m["title"] for m in published(feed_server))
    assert titles == [f"alert {i}" for i in range(5)]


# --- the limit, the hours, failing targets, the on-call roster -------------------------------


def test_over_the_limit_one_summary_follows(make_config, feed_server, clock):
    config = make_config(alerts_toml(ntfy(feed_server), extra="limit = 2"))
    alerts = Alerts(config, clock=clock)
    for i in range(5):
        alerts.send(mention_alert("urgent", mention(f"{i:020d}"), clock(), "en"))
    alerts.send(mention_alert("overdue", mention("f" * 20), clock(), "en"))
    assert len(published(feed_server)) == 2
    alerts.tick()
    assert len(published(feed_server)) == 2  # the window is full: nothing yet
    clock.advance(minutes=10, seconds=1)
    alerts.tick()
    alerts.tick()  # one summary, not one per tick
    sent = published(feed_server)
    assert len(sent) == 3
    assert sent[2]["message"] == "nog 4, 1 bijna te laat, 3 dringend"  # "4 more, 1 nearly overdue, 3 urgent"


def test_a_target_sends_only_in_its_hours(make_config, feed_server, clock):
    url = ntfy(feed_server)
    config = make_config(
        alerts_toml(url, "avond", 'hours = "mon-sun 17:00-08:00"') + alerts_toml(url, "dag", 'hours = "dag"')
        + '\n[shifts]\ndag = "mon-fri 08:00-17:00"\n'
    )  # fmt: skip
    alerts = Alerts(config, clock=clock)  # Monday 10:00 in Brussels
    alerts.send(Alert("urgent:one", "urgent", "at ten", "b"))
    assert [m["title"] for m in published(feed_server)] == ["at ten"]  # only "dag"
    clock.advance(hours=9)  # 19:00
    alerts.send(Alert("urgent:two", "urgent", "at seven", "b"))
    assert [m["title"] for m in published(feed_server)] == ["at ten", "at seven"]  # only "avond"


async def test_a_failing_target_is_retried_and_named_in_the_header_never_its_url(make_config, feed_server, clock):
    from tui.app import WebcareApp

    url = ntfy(feed_server, status=500) + "-s3cr3t"
    config = make_config(alerts_toml(url))
    alerts = Alerts(config, clock=clock)
    alerts.send(Alert("urgent:x", "urgent", "first try", "b"))
    assert alerts.health()["piket"]["state"] == "failing"
    assert "s3cr3t" not in json.dumps(alerts.health())
    store = Store(config.data_dir)
    store.write_health({"collector": {"heartbeat_at": clock().isoformat()}, "sources": {}, "alerts": alerts.health()})
    app = WebcareApp(config, Store(config.data_dir), make_poller=None, clock=clock)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        header = str(app.screen.query_one("#header").render())
        assert f"melding piket: {word('failing', 'nl')} (not delivered)" in header  # errors are English, as a source's are
        assert "s3cr3t" not in header
    ntfy(feed_server)  # the server is back
    alerts.tick()
    assert len(published(feed_server)) == 1  # not before its backoff
    clock.advance(seconds=16)
    alerts.tick()
    assert len(published(feed_server)) == 2 and alerts.health()["piket"]["state"] == "ok"


def test_to_oncall_reaches_the_expert_on_call_at_send_time(make_config, feed_server, clock):
    base = ntfy(feed_server).rsplit("/", 1)[0]
    config = make_config(
        f"""
        [[experts]]
        name = "Bart Claes"
        email = "bart@example.org"
        alert = "{base}/bart"

        [[experts]]
        name = "An Peeters"
        email = "an@example.org"
        alert = "{base}/an"

        [[oncall]]
        expert = "Bart Claes"
        hours = "mon 00:00-12:00"

        [[oncall]]
        expert = "An Peeters"
        hours = "mon 12:00-24:00"

        [[alerts]]
        name = "van wacht"
        to = "oncall"
        """
    )
    alerts = Alerts(config, clock=clock)  # Monday 10:00: Bart
    alerts.send(Alert("urgent:1", "urgent", "morning", "b"))
    clock.advance(hours=4)  # 14:00: An
    alerts.send(Alert("urgent:2", "urgent", "afternoon", "b"))
    assert [(m["topic"], m["title"]) for m in published(feed_server)] == [("bart", "morning"), ("an", "afternoon")]


def test_url_env_takes_the_url_from_the_environment(make_config, feed_server, clock):
    config = make_config('\n[[alerts]]\nname = "piket"\nurl_env = "WEBCARE_TEST_ALERT_URL"\n')
    alerts = Alerts(config, clock=clock, environ={})
    alerts.send(Alert("urgent:1", "urgent", "t", "b"))
    assert alerts.health()["piket"]["last_error"] == "WEBCARE_TEST_ALERT_URL is not set"
    alerts = Alerts(config, clock=clock, environ={"WEBCARE_TEST_ALERT_URL": ntfy(feed_server)})
    alerts.send(Alert("urgent:2", "urgent", "t", "b"))
    assert len(published(feed_server)) == 1


# --- what the collector looks for ------------------------------------------------------------


def test_overdue_goes_out_only_when_no_desk_has_it_open(make_config, feed_server, clock):
    config = make_config(alerts_toml(ntfy(feed_server), extra='on = ["overdue"]'))
    store = Store(config.data_dir)
    m = mention(priority="normal", first_seen_at=clock(), deadline=clock() + timedelta(hours=2))
    store.add([m])
    watch = AlertWatch(config, store, Alerts(config, clock=clock), clock=clock)
    watch.run_once()
    assert published(feed_server) == []  # two hours left of two
    clock.advance(minutes=95)  # 25 minutes left: the last quarter
    desk = Presence(config.data_dir, "An")
    desk.publish(clock(), viewing=m.id, claim=None, claim_since=None)
    watch.run_once()
    assert published(feed_server) == []  # An has it open
    desk.leave()
    watch.run_once()
    watch.run_once()
    [sent] = published(feed_server)
    assert sent["title"].startswith("Bijna te laat")
    assert "nog 25 min" in sent["message"] and f"webcare --open {short_id(m.id)}" in sent["message"]


def test_a_source_failing_for_fifteen_minutes_and_crisis_mode(make_config, feed_server, clock):
    from store.crisis import CrisisLog
    from tui.monitoring import Monitor

    config = make_config(alerts_toml(ntfy(feed_server)))
    store = Store(config.data_dir)
    watch = AlertWatch(config, store, Alerts(config, clock=clock), clock=clock, monitor=Monitor(config, store, clock))
    watch.monitor.build()
    health = {"x": SourceHealth("x", state="failing", last_error="cannot connect", last_attempt=clock())}
    watch.run_once(health)
    clock.advance(minutes=16)
    watch.run_once(health)
    watch.run_once(health)
    CrisisLog(config.data_dir).add(clock(), "An", "start", "brand in Gent")
    watch.run_once(health)
    watch.run_once(health)
    sent = published(feed_server)
    assert [m["title"] for m in sent] == ["Collector", "Crisismodus gestart"]
    assert "x: bron werkt niet sinds 10:00 (cannot connect)" in sent[0]["message"]
    assert "An: brand in Gent" in sent[1]["message"]


# --- the config ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[alerts]]\nurl = "ntfy://h/t"\n', "[[alerts]] #1: name: missing"),
        ('[[alerts]]\nname = "p"\n', "[[alerts]] #1 ('p'): url: missing"),
        ('[[alerts]]\nname = "p"\nurl = "geen url"\n', "[[alerts]] #1 ('p'): url: not an Apprise URL"),
        ('[[alerts]]\nname = "p"\nurl = "ntfy://h/t"\non = ["urgent", "vaak"]\n', "[[alerts]] #1 ('p'): on: 'vaak' is not one of"),
        ('[[alerts]]\nname = "p"\nurl = "ntfy://h/t"\nhours = "soms"\n', "[[alerts]] #1 ('p'): hours:"),
        ('[[alerts]]\nname = "p"\nurl = "ntfy://h/t"\nlimit = 0\n', "[[alerts]] #1 ('p'): limit: must be a whole number"),
        ('[[alerts]]\nname = "p"\nto = "baas"\n', "[[alerts]] #1 ('p'): to: 'baas' is not \"oncall\""),
        ('[[alerts]]\nname = "p"\nto = "oncall"\n', "[[alerts]] #1 ('p'): to: no expert in [[oncall]] has an alert address"),
        ('[[alerts]]\nname = "p"\nurl_env = "1X"\n', "[[alerts]] #1 ('p'): url_env:"),
        ('[[alerts]]\nname = "p"\nurl = "ntfy://h/t"\nkanaal = 1\n', "[[alerts]] #1 ('p'): kanaal: unknown key"),
    ],
)
def test_config_errors_name_the_key(tmp_path, toml, message):
    with pytest.raises(ConfigError) as err:
        load(write_config(tmp_path, toml))
    assert message in str(err.value)


def test_a_url_with_a_secret_is_never_in_an_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(write_config(tmp_path, '[[alerts]]\nname = "p"\nurl = "ntfys://tok_s3cr3t@h/t"\nurl_env = "X"\n'))
    assert "s3cr3t" not in str(err.value)
    config = load(write_config(tmp_path, '[[alerts]]\nname = "p"\nurl = "ntfys://tok_s3cr3t@h/t"\n'))
    assert "s3cr3t" not in repr(config.alerts)


# --- going to the mention an alert names -----------------------------------------------------


async def test_open_and_the_goto_prompt_select_and_open_the_mention(make_config, clock):
    from tui.app import WebcareApp
    from tui.widgets.mention_detail import MentionDetail
    from tui.widgets.mention_list import MentionList

    config = make_config()
    store = Store(config.data_dir, segment_size=50)
    # 200 mentions in four segments; the one an alert names is far below the first screen
    # (its segment not read yet), the other one on it.
    others = [mention(f"{i:04d}ffffabcdef012345", priority="normal", deadline=clock() + timedelta(minutes=30 + i)) for i in range(195)]
    ms = [mention(f"{i}{i}{i}{i}5678abcdef012345", priority="normal", deadline=clock() + timedelta(minutes=10 * (i + 1))) for i in range(1, 4)]
    ms += [mention(f"{i}{i}{i}{i}5678abcdef012345", priority="normal", deadline=clock() + timedelta(hours=10 + i)) for i in range(4, 6)]
    store.add(ms[:3] + others + ms[3:])
    app = WebcareApp(config, Store(config.data_dir), make_poller=None, clock=clock, open_id=short_id(ms[3].id))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one(MentionList).selected.id == ms[3].id
        assert app.screen.query_one(MentionDetail).mention.id == ms[3].id
        await pilot.press("colon")
        for ch in short_id(ms[1].id)[:6]:
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(MentionList).selected.id == ms[1].id
        await pilot.press("colon", "9", "9", "9", "9", "enter")
        await pilot.pause()
        assert app.screen.query_one(MentionList).selected.id == ms[1].id  # unknown: stays
        await pilot.press("slash", "a", "colon", "b")  # typing a colon in a box types it
        await pilot.pause()
        assert app.screen.query_one("#filter").value == "a:b"


def test_webcare_open_is_a_desk_option(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "webcare.cli", "--help"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert "--open ID" in result.stdout


def _commented_alert_blocks() -> list[str]:
    blocks, current = [], None
    for line in (ROOT / "config.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("# [[alerts]]"):
            if current:
                blocks.append("\n".join(current))
            current = [line[2:]]
        elif current is not None and line.startswith("# ") and not line.startswith("#   "):
            current.append(line[2:])
        elif current is not None:
            blocks.append("\n".join(current))
            current = None
    return blocks


def test_the_commented_alert_examples_are_valid(tmp_path):
    blocks = _commented_alert_blocks()
    assert len(blocks) == 2
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(shipped.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"') + "\n" + "\n".join(blocks) + "\n")
    config = load(path)
    assert [t.name for t in config.alerts] == ["piket", "teams"]


async def test_an_experts_answer_by_e_mail_is_an_alert(make_config, imap_server, feed_server, clock, monkeypatch):
    """The expert's reply comes in through a real IMAP server; the collector's poller takes it
    as the answer and sends the `answer` alert with the answer's first line."""
    from sources.poller import Poller
    from sources.registry import build_source
    from tests.test_expert_answers import DIRECTORY, PASSWORD_ENV, mail, route
    from tests.tui_helpers import mention as desk_mention
    from webcare.intake import Intake
    from webcare.routing import subject_tag

    monkeypatch.setenv(PASSWORD_ENV, "correct horse")
    server = imap_server(idle=False)
    config = make_config(
        DIRECTORY
        + f'\n[[sources]]\ntype = "imap"\nname = "info"\nhost = "{server.host}"\nport = {server.port}\n'
        f'security = "{server.security}"\nusername = "{server.user}"\npassword_env = "{PASSWORD_ENV}"\nidle = false\n'
        + alerts_toml(ntfy(feed_server), extra='on = ["answer"]')
    )
    Store(config.data_dir).add([desk_mention(1, clock(), 90, text="Wanneer sluit de mestbank-aangifte?")])
    key = route(config, clock, "An Peeters", "an.peeters@example.org")
    server.append(mail(f"Re: Vraag {subject_tag('m1', key)}", body="Tot 31 maart.\n\n> de vraag").encode())
    store = Store(config.data_dir)
    source = build_source(config.sources[0], config)
    watch = AlertWatch(config, store, Alerts(config, clock=clock), clock=clock)
    try:
        await Poller([source], Intake(config), store, clock=clock, alerts=watch).poll_once()
    finally:
        source.close()
    [sent] = published(feed_server)
    assert sent["title"] == "Antwoord van een expert · x · @author1"
    assert sent["message"].startswith("Tot 31 maart.") and "webcare --open m1" in sent["message"]


def test_check_names_an_alert_url_apprise_does_not_know(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("WEBCARE_TEST_ALERT_URL", None)
    config = write_config(tmp_path, alerts_toml("nergens://tok_s3cr3t@h/t") + '\n[[alerts]]\nname = "b"\nurl_env = "WEBCARE_TEST_ALERT_URL"\n')
    result = subprocess.run([sys.executable, "-m", "webcare.cli", "check", "--config", str(config)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "[[alerts]] 'piket': url: not a URL Apprise knows" in result.stderr and "s3cr3t" not in result.stderr
    config = write_config(tmp_path, alerts_toml("ntfys://tok_s3cr3t@h/t") + '\n[[alerts]]\nname = "b"\nurl_env = "WEBCARE_TEST_ALERT_URL"\n')
    result = subprocess.run([sys.executable, "-m", "webcare.cli", "check", "--config", str(config)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "[[alerts]] 'b': url_env: WEBCARE_TEST_ALERT_URL is not set here" in result.stderr


async def test_a_desk_that_sees_the_collector_stop_sends_the_collector_alert_once(make_config, feed_server, clock):
    from tui.app import WebcareApp

    config = make_config(alerts_toml(ntfy(feed_server), extra='on = ["collector"]'))
    beat = clock() - timedelta(minutes=3)
    Store(config.data_dir).write_health({"collector": {"heartbeat_at": beat.isoformat()}, "sources": {}})
    desks = [WebcareApp(config, Store(config.data_dir), make_poller=None, clock=clock) for _ in range(2)]
    async with desks[0].run_test(size=(80, 24)), desks[1].run_test(size=(80, 24)):
        for app in desks:
            app.tick_now()
        await asyncio.to_thread(wait_for, lambda: published(feed_server), 10)
        for app in desks:
            app.tick_now()
        await asyncio.sleep(0.5)
    [sent] = published(feed_server)  # two desks noticed; one alert
    assert sent["title"] == "Collector" and sent["message"] == "de collector is gestopt sinds 09:57"


def test_a_spike_in_the_trend_book_is_one_alert(make_config, feed_server, clock):
    import gc

    from tui.monitoring import Monitor

    config = make_config(alerts_toml(ntfy(feed_server), extra='on = ["spike"]'))
    store = Store(config.data_dir)
    watch = AlertWatch(config, store, Alerts(config, clock=clock), clock=clock, monitor=Monitor(config, store, clock))
    try:
        watch.monitor.build()
        burst = [mention(f"{i:020d}", priority="normal", themes=("water",), first_seen_at=clock() - timedelta(minutes=i % 20)) for i in range(30)]
        store.add(burst)
        watch.stored(burst)
        watch.run_once()
        watch.run_once()
        clock.advance(minutes=1)
        watch.run_once()
    finally:
        gc.unfreeze()
    [sent] = published(feed_server)
    assert sent["title"] == "Piek" and sent["message"].startswith("Piek bij thema water: 30 vermeldingen")


async def test_a_desk_that_collects_sends_alerts_and_shares_its_trend_book(tmp_path, feed_server):
    from tui.app import WebcareApp
    from webcare.cli import _open

    url = ntfy(feed_server)
    feed = feed_server.serve("/feed.xml", body=FEED.encode())
    config = load(write_config(
        tmp_path,
        f'[[watch.rules]]\nname = "o"\nany = ["overstroming"]\npriority = "urgent"\n'
        f'[[sources]]\ntype = "rss"\nname = "nieuws"\nurl = "{feed}"\n' + alerts_toml(url),
    ))  # fmt: skip
    store, _, make_poller = _open(config)
    made = []
    app = WebcareApp(config, store, make_poller=lambda on_new: made.append(make_poller(on_new)) or made[-1])
    async with app.run_test(size=(80, 24)):
        await asyncio.to_thread(wait_for, lambda: published(feed_server), 20)
        assert app.collection.collecting
        [sent] = published(feed_server)
        assert sent["title"].startswith("Dringend · news")
        assert made[0].alerts.monitor is app.monitor  # one trend book in the desk, not two
