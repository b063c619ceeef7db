"""Two desks on one PostgreSQL database, each in a real terminal (tmux at 80x24): both show the
collected stream, each sees the other on the desk, and an action pressed on one is in the
database and on the other's screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.pgserver import PASSWORD, PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server with one session: a desk as a person sees it."""

    def __init__(self) -> None:
        self.socket = f"webcare-pg-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10).stdout

    def start(self, folder: Path, config: Path, password_env: str) -> None:
        env = f"PYTHONPATH={ROOT} TERM=xterm-256color {password_env}={PASSWORD}"
        self.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24",
                 f"cd {folder} && {env} {sys.executable} -m webcare.cli --config {config}; echo EXITED-$?; sleep 30")  # fmt: skip

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "desk")

    def wait_for(self, text: str, timeout: float = 40) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen.replace("\n", ""):  # the header may wrap onto a second line
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; the screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "desk", *keys)


@pytest.fixture
def terminals():
    made: list[Terminal] = []
    yield lambda: made.append(Terminal()) or made[-1]
    for t in made:
        t.run("kill-server")


def test_two_desks_on_one_database_in_real_terminals(tmp_path, terminals, pg_database: PgDatabase) -> None:
    source = '[[sources]]\ntype = "demo"\nname = "demo"\nrate = "1/min"\nbacklog = 12\n'
    desks = []
    for operator in ("an", "bert"):
        folder = tmp_path / operator
        folder.mkdir()
        config = write_config(folder, source + pg_database.store_table())
        config.write_text(config.read_text().replace('operator = "tester"', f'operator = "{operator}"'))
        desk = terminals()
        desk.start(folder, config, pg_database.password_env)
        desks.append(desk)
    an, bert = desks
    for desk in desks:
        desk.wait_for("min te laat")  # the demo's backlog, collected by whichever desk holds it
    an.wait_for("ook op de desk: bert")  # presence through the database
    bert.wait_for("ook op de desk: an")
    assert all(len(line) <= 80 for line in an.screen().splitlines())

    first = an.screen().splitlines()[0]
    an.keys("m")  # monitor the top row: a state change written to the database
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pg_database.psql("SELECT count(*) FROM states WHERE status = 'monitoring'").strip() == "0":
        time.sleep(0.2)
    assert pg_database.psql("SELECT count(*) FROM states WHERE status = 'monitoring'").strip() == "1"
    new_before = int(first.split(" nieuw")[0].split()[-1])
    # The other desk's header counts one mention fewer as new, within seconds (NOTIFY).
    bert.wait_for(f"{new_before - 1} nieuw", timeout=10)
    assert pg_database.psql("SELECT count(DISTINCT id) = count(*) FROM mentions").strip() == "t"

    for desk in desks:
        desk.keys("q")
        desk.wait_for("EXITED-0")
    assert not list((tmp_path / "an").glob("data/mentions/*.json"))  # nothing went to files
