"""The desk in a real terminal: tmux at 80x24, keys sent as a person types them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import write_config

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"webcare-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "desk")

    def wait_for(self, text: str, timeout: float = 40) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; the screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "desk", *keys)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.run("kill-server")


def test_desk_in_a_real_terminal(tmp_path, tmux):
    config = write_config(tmp_path, '[[sources]]\ntype = "demo"\nname = "demo"\nrate = "60/min"\nbacklog = 20\n')
    env = f"PYTHONPATH={ROOT} TERM=xterm-256color"
    tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24",
             f"{env} {sys.executable} -m webcare.cli --config {config}; echo EXITED-$?; sleep 30")
    tmux.wait_for("min te laat")  # a row's countdown (the header says "te laat" from the start)
    time.sleep(0.5)  # let the first frames settle
    lines = tmux.screen().splitlines()
    assert "Testdesk" in lines[0] and "nieuw" in lines[0]
    assert all(len(line) <= 80 for line in lines)
    assert lines[-1].rstrip().endswith("^p palette"), lines[-1]  # nothing of the keys beneath it
    tmux.keys("j", "j", "Enter")
    tmux.wait_for("Eerst gezien")  # the detail pane
    tmux.keys("?")
    tmux.wait_for("Toetsen")
    tmux.keys("Escape")
    time.sleep(0.3)
    # live arrivals at 60/min: the new count grows while we watch
    first = int(tmux.screen().splitlines()[0].split(" nieuw")[0].split()[-1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = int(tmux.screen().splitlines()[0].split(" nieuw")[0].split()[-1])
        if now > first:
            break
        time.sleep(0.2)
    assert now > first, tmux.screen()
    tmux.keys("q")
    tmux.wait_for("EXITED-0")


def test_broken_config_is_a_message_not_a_traceback(tmp_path, tmux):
    config = write_config(tmp_path, '[clock]\noffice_hours = "soms"\n')
    tmux.run("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24",
             f"PYTHONPATH={ROOT} {sys.executable} -m webcare.cli --config {config}; echo EXITED-$?; sleep 30")
    screen = tmux.wait_for("EXITED-").replace("\n", "")  # long lines wrap at 80
    assert "EXITED-2" in screen and "[clock] office_hours" in screen and "Traceback" not in screen
    assert os.path.exists(config)
