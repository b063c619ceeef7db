"""Every source inside the desk, exactly as in `webcare collect`.

While a Textual app runs, sys.stderr is Textual's print capture (its fileno() is -1), and
multiprocessing handed that to its resource tracker: a desk that collected itself showed every
feed as failing ("bad value(s) in fds_to_keep"). Pilot tests under pytest never saw it (a
resource tracker started earlier in the test process hides it), so these run where the desk
really runs: a fresh process, and a real terminal (tmux, 80x24) with no collector and an RSS
feed, a Mastodon server and an IMAP mailbox on loopback."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)
from imapserver import imap_server_fixture  # noqa: F401 (the imap_server fixture)
from test_channels_desk import serve_mastodon
from test_imap import mail
from textual.app import App

from tests.conftest import write_config
from tests.test_terminal import Tmux, tmux  # noqa: F401 (the tmux fixture)

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(__file__).resolve().parent / "feeds"

# In a fresh interpreter, so no resource tracker is running yet, as when the desk starts.
PARSE_INSIDE_AN_APP = """
import asyncio, sys
from pathlib import Path
from textual.app import App
from sources.rss import parse_in_worker

async def main():
    async with App().run_test():
        capture = sys.stderr
        assert capture.fileno() < 0, "Textual's capture has a descriptor now: this test proves nothing"
        parsed = await parse_in_worker(Path(sys.argv[1]).read_bytes())
        assert sys.stderr is capture  # the print capture is back in place
        print(len(parsed["entries"]), file=sys.__stdout__)

asyncio.run(main())
"""


def test_feeds_parse_in_the_worker_pool_while_a_textual_app_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PARSE_INSIDE_AN_APP, str(FEEDS / "rss20.xml")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"


async def test_housekeeping_starts_its_process_while_a_textual_app_runs(tmp_path: Path, monkeypatch) -> None:
    """The desk that holds the collector lease runs the daily chores in a process of their own:
    that start does not depend on sys.stderr either."""
    import store.housekeeping as housekeeping
    from store import Store
    from webcare.config import load

    config = load(write_config(tmp_path))
    now = datetime.now(UTC)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setattr(housekeeping, "FIRST_CHECK", 0.0)
    async with App().run_test():
        assert sys.stderr.fileno() < 0  # Textual's print capture, as in the desk
        task = asyncio.create_task(housekeeping.daily(config, Store(config.data_dir), lambda: now))
        try:
            async with asyncio.timeout(60):
                while housekeeping.due(config, now):
                    await asyncio.sleep(0.1)
        finally:
            task.cancel()
    assert len(list((tmp_path / "data" / "backups").glob("webcare-*.tar.gz"))) == 1


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_desk_collects_feeds_mastodon_and_mail_itself_in_a_real_terminal(
    tmp_path: Path, tmux: Tmux, feed_server: FeedServer, imap_server  # noqa: F811
) -> None:
    feed = feed_server.serve("/alerts.xml", (FEEDS / "rss20.xml").read_bytes())
    serve_mastodon(feed_server)  # "Vraag 1 over de mestbank #vlm" by Een Burger
    imap = imap_server()
    imap.append(mail(subject="Aangifte bij de mestbank kwijt", msgid="<kwijt@example.net>",
                     date=format_datetime(datetime.now(UTC))))  # fmt: skip
    config = write_config(
        tmp_path,
        f"""
        [[sources]]
        type = "rss"
        name = "Google Alert"
        url = "{feed}"

        [[sources]]
        type = "mastodon"
        name = "Mastodon #vlm"
        instance = "{feed_server.base}"
        hashtags = ["vlm"]
        token_env = "MASTODON_TOKEN"
        stream = false
        every = "5s"

        [[sources]]
        type = "imap"
        name = "info"
        host = "{imap.host}"
        port = {imap.port}
        security = "none"
        username = "{imap.user}"
        password_env = "WEBCARE_IMAP_PASSWORD"
        """,
    )
    env = {
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "MASTODON_TOKEN": "token-123",
        "WEBCARE_IMAP_PASSWORD": imap.password,
    }
    command = " ".join(
        ["env", *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
         shlex.quote(sys.executable), "-m", "webcare.cli", "--config", shlex.quote(str(config))]
    )  # fmt: skip
    tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", "-c", str(tmp_path),
             f"{command}; echo EXITED-$?; sleep 30")  # fmt: skip
    # Generous waits (a loaded machine starts Python, Textual and the parser pool slowly), each
    # over as soon as the text is on screen. No `webcare collect` runs: the desk collects.
    tmux.wait_for("lokaal", timeout=120)
    tmux.wait_for("VLM opent nieuwe loketten", timeout=120)  # the feed (RSS, parsed in the pool)
    tmux.wait_for("Vraag 1 over de mestbank", timeout=120)  # the Mastodon post
    tmux.wait_for("Aangifte bij de mestbank kwijt", timeout=120)  # the e-mail
    screen = tmux.wait_for("bronnen ok", timeout=60)  # every source polled without an error
    assert "NEWS" in screen and "MAST" in screen and "MAIL" in screen
    assert "in storing" not in screen and "fds_to_keep" not in screen, screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    tmux.keys("q")
    tmux.wait_for("EXITED-0", timeout=60)
