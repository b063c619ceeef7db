"""Every source inside the desk, exactly as in `webcare collect`.

While a Textual app runs, sys.stderr is Textual's print capture (its fileno() is -1), and
multiprocessing handed that to its resource tracker: a desk that collected itself showed every
feed as failing ("bad value(s) in fds_to_keep"). Pilot tests under pytest never saw it (a
resource tracker started earlier in the test process hides it), so these run where the desk
really runs: a fresh process, and a real terminal (tmux, 80x24) with no collector and a source
of every type on loopback, each answered by the fake server of its own tests. That desk also
showed that ten sources storing at once lost a mention or two from the stream (tui/app.py,
poll_store)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from httpserver import FeedServer, feed_server_fixture  # noqa: F401 (the feed_server fixture)
from imapserver import imap_server_fixture  # noqa: F401 (the imap_server fixture)
from test_bluesky import HANDLE as BSKY_HANDLE
from test_bluesky import PASSWORD as BSKY_PASSWORD
from test_bluesky import FakeBluesky, post_view
from test_channels_desk import serve_mastodon
from test_facebook import JSON as FB_JSON
from test_facebook import PAGE as FB_PAGE
from test_facebook import Comments as FbComments
from test_facebook import V as FB_V
from test_facebook import conversations, fb_comment
from test_facebook import serve_posts as fb_posts
from test_imap import mail
from test_instagram import ACCOUNT as IG_ACCOUNT
from test_instagram import Graph as InstagramGraph
from test_instagram import V as IG_V
from test_instagram import ig_comment
from test_linkedin import ORG as LI_ORG
from test_linkedin import POST as LI_POST
from test_linkedin import li_comment
from test_linkedin import post as li_post
from test_linkedin import serve as li_serve
from test_reddit import pages as reddit_pages
from test_reddit import post as reddit_post
from test_x import SEARCH as X_SEARCH
from test_x import Search as XSearch
from test_x import tweet
from test_youtube import CHANNEL as YT_CHANNEL
from test_youtube import FEED as YT_FEED
from test_youtube import THREADS as YT_THREADS
from test_youtube import Threads as YtThreads
from test_youtube import thread as yt_thread
from textual.app import App

from sources.registry import TYPES
from tests.conftest import write_config
from tests.test_terminal import Tmux, tmux  # noqa: F401 (the tmux fixture)
from tui.widgets.mention_list import COUNTDOWN_CELLS
from webcare.channels import SHORT
from webcare.config import load

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


# The channel column of a stream row: after the urgency glyph, the status mark and the countdown.
CHANNEL_COLUMN = slice(2 + COUNTDOWN_CELLS + 1, 2 + COUNTDOWN_CELLS + 1 + 4)


def channels_on(screen: str) -> set[str]:
    return {line[CHANNEL_COLUMN].strip() for line in screen.splitlines()} & set(SHORT.values())


def every_source(server: FeedServer, imap) -> tuple[str, dict[str, str]]:
    """A [[sources]] entry of every type, each answered on loopback by the fake its own tests
    use, with one new mention each; and the environment that holds their secrets."""
    now = datetime.now(UTC)
    feed = server.serve("/alerts.xml", (FEEDS / "rss20.xml").read_bytes())
    serve_mastodon(server)  # "Vraag 1 over de mestbank #vlm" by Een Burger
    imap.append(mail(subject="Aangifte bij de mestbank kwijt", msgid="<kwijt@example.net>",
                     date=format_datetime(now)))  # fmt: skip
    FakeBluesky(server).posts.append(post_view(1, "Bluesky vraagt naar de mestbank", when=now))
    server.route("/search.json", reddit_pages([reddit_post(1, title="Reddit vraagt naar de mestbank")], 25))
    server.serve("/feeds/videos.xml", YT_FEED, content_type="application/atom+xml; charset=UTF-8")  # "De mestbank uitgelegd"
    top = yt_thread("Ugy1")
    top["snippet"]["topLevelComment"]["snippet"]["textOriginal"] = "YouTube vraagt naar de mestbank"
    server.route(YT_THREADS, YtThreads([top]))
    server.route(X_SEARCH, XSearch([tweet(1, text="X vraagt naar de mestbank")]))
    fb_posts(server)  # the post the comment is under: "Nieuwe regels voor de mestbank"
    server.route(f"{FB_V}/555/comments", FbComments(server, [fb_comment(1, 60, message="Facebook vraagt")]))
    server.serve(f"{FB_V}/{FB_PAGE}/conversations", conversations(), content_type=FB_JSON)
    graph = InstagramGraph(server)
    graph.add_media("1780001", "Nieuwe regels voor de mestbank", 86400)
    graph.add_comment("1780001", ig_comment(1, 60, text="Instagram vraagt"))
    li_serve(server, [li_post(LI_POST, 3600)], {LI_POST: [li_comment(1, 60, message={"text": "LinkedIn vraagt"})]})
    sources = f"""
        [[sources]]
        type = "rss"
        name = "Google Alert"
        url = "{feed}"

        [[sources]]
        type = "mastodon"
        name = "Mastodon #vlm"
        instance = "{server.base}"
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

        [[sources]]
        type = "bluesky"
        name = "Bluesky"
        service = "{server.base}"
        handle = "{BSKY_HANDLE}"
        password_env = "BLUESKY_APP_PASSWORD"
        search = ["mestbank"]

        [[sources]]
        type = "reddit"
        name = "Reddit"
        query = "mestbank"
        api = "{server.base}"

        [[sources]]
        type = "youtube"
        name = "YouTube"
        channel_ids = ["{YT_CHANNEL}"]
        site = "{server.base}"
        comment_channel_ids = ["{YT_CHANNEL}"]
        api_key_env = "YT_KEY"
        api = "{server.base}/youtube/v3"

        [[sources]]
        type = "x"
        name = "X"
        query = "mestbank"
        bearer_token_env = "X_BEARER"
        api = "{server.base}"

        [[sources]]
        type = "facebook"
        name = "Facebook"
        page_id = "{FB_PAGE}"
        page_token_env = "FB_TOKEN"
        api = "{server.base}{FB_V}"

        [[sources]]
        type = "instagram"
        name = "Instagram"
        account_id = "{IG_ACCOUNT}"
        token_env = "IG_TOKEN"
        api = "{server.base}{IG_V}"

        [[sources]]
        type = "linkedin"
        name = "LinkedIn"
        organization_id = "{LI_ORG}"
        token_env = "LI_TOKEN"
        api = "{server.base}"
        """
    secrets = {
        "MASTODON_TOKEN": "token-123",
        "WEBCARE_IMAP_PASSWORD": imap.password,
        "BLUESKY_APP_PASSWORD": BSKY_PASSWORD,
        "YT_KEY": "AIza-test-key",
        "X_BEARER": "app-bearer",
        "FB_TOKEN": "page-token",
        "IG_TOKEN": "ig-token",
        "LI_TOKEN": "li-token",
    }
    return sources, secrets


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_desk_collects_every_source_type_itself_in_a_real_terminal(
    tmp_path: Path, tmux: Tmux, feed_server: FeedServer, imap_server  # noqa: F811
) -> None:
    sources, secrets = every_source(feed_server, imap_server())
    config = write_config(tmp_path, sources)
    assert {s.type for s in load(config).sources} == set(TYPES) - {"demo"}  # a new type goes here too
    env = {"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", **secrets}
    command = " ".join(
        ["env", *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
         shlex.quote(sys.executable), "-m", "webcare.cli", "--config", shlex.quote(str(config))]
    )  # fmt: skip
    tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", "-c", str(tmp_path),
             f"{command}; echo EXITED-$?; sleep 30")  # fmt: skip
    # Generous waits (a loaded machine starts Python, Textual and the parser pool slowly), each
    # over as soon as the text is on screen. No `webcare collect` runs: the desk collects.
    tmux.wait_for("lokaal", timeout=120)
    for text in (
        "VLM opent nieuwe loketten",  # the feed (RSS, parsed in the pool)
        "Aangifte bij de mestbank kwijt",  # the e-mail
        "Vraag 1 over de mestbank #vlm",  # Mastodon
        "Bluesky vraagt naar de mestbank",
        "Reddit vraagt naar de mestbank",
        "De mestbank uitgelegd",  # the YouTube channel's video, from its feed
        "YouTube vraagt naar de mestbank",  # a comment on it, from the Data API
        "X vraagt naar de mestbank",
    ):
        tmux.wait_for(text, timeout=120)
    # Facebook, Instagram and LinkedIn rows begin with the post the comment is under: their
    # own text is cut off at 80 columns, so the channel column says they are there.
    every_channel = {SHORT[c] for c in ("news", "mastodon", "email", "bluesky", "reddit", "youtube",
                                        "x", "facebook", "instagram", "linkedin")}  # fmt: skip
    deadline = time.monotonic() + 120
    while not every_channel <= channels_on(screen := tmux.screen()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert every_channel <= channels_on(screen), f"missing {every_channel - channels_on(screen)}:\n{screen}"
    screen = tmux.wait_for("bronnen ok", timeout=60)  # all ten polled without an error
    assert "in storing" not in screen and "beperkt" not in screen and "fds_to_keep" not in screen, screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    tmux.keys("q")
    tmux.wait_for("EXITED-0", timeout=60)
