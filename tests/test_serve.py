"""The desk in a browser: `serve` as a real process on loopback, talked to as the browser's page
does (GET /, then the websocket it opens), until the desk's own header comes through."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import write_config
from tui.serve import desk_command, exposure_warning, is_loopback

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.name == "nt", reason="process groups and ps: POSIX")

# The direct call (works before `webcare serve` is wired into the CLI).
SERVE = (
    "import sys; from pathlib import Path; from tui.serve import serve; "
    "sys.exit(serve(Path(sys.argv[1]), port=int(sys.argv[2])))"
)
ESCAPES = re.compile(
    r"\x1b(\[[0-9;?<=>$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`serve` in its own process group, its output in a file; always stopped at the end."""

    def __init__(self, args: list[str], cwd: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / "serve.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *args],
                cwd=cwd,  # not the checkout: the desk must find its config by absolute path
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def ready(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve ended early:\n{self.output()}"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"port {self.port} never answered:\n{self.output()}")

    def desks(self) -> set[int]:
        """The desk processes serve started (its living children)."""
        table = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid=,stat="], capture_output=True, text=True
        ).stdout
        rows = (line.split() for line in table.splitlines() if line.strip())
        return {
            int(row[0])
            for row in rows
            if int(row[1]) == self.proc.pid and not row[2].startswith("Z")
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)


def alive(pid: int) -> bool:
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


async def until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def screen_until(ws: aiohttp.ClientWebSocketResponse, text: str, timeout: float = 10) -> str:
    """Read the terminal stream (binary frames, as xterm.js gets them) until `text` shows."""
    seen = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        screen = ESCAPES.sub("", seen.decode("utf-8", "replace"))
        if text in screen:
            return screen
        assert left > 0, f"{text!r} never appeared; the stream had:\n{screen[-2000:]!r}"
        try:
            message = await ws.receive(timeout=left)
        except TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data
        elif message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            raise AssertionError(f"websocket closed before {text!r} appeared:\n{screen[-2000:]!r}")


async def open_desk(
    session: aiohttp.ClientSession, served: Served
) -> aiohttp.ClientWebSocketResponse:
    """As textual.js: ws URL from the page, ?width&height, then a resize and a ping."""
    ws = await session.ws_connect(
        f"ws://127.0.0.1:{served.port}/ws?width=120&height=32",
        headers={"Origin": served.url},  # a browser always sends its page's origin
        timeout=aiohttp.ClientWSTimeout(ws_close=5),
    )
    await ws.send_json(["resize", {"width": 120, "height": 32}])
    await ws.send_json(["ping", "1"])
    return ws


async def test_the_desk_runs_behind_the_page(tmp_path):
    config = write_config(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    served = Served(["-c", SERVE, str(config), str(p := free_port())], elsewhere, p)
    try:
        await served.ready()
        async with aiohttp.ClientSession() as session:
            async with session.get(served.url + "/") as page:
                html = await page.text()
                assert page.status == 200 and page.content_type == "text/html"
            assert "<title>Testdesk</title>" in html
            assert f'data-session-websocket-url="ws://127.0.0.1:{p}/ws"' in html
            assert "googleapis" not in html  # the font comes from our own static files
            font = re.search(r'url\("([^"]+RobotoMono-VariableFont_wght\.ttf)"\)', html)
            async with session.get(font.group(1)) as response:
                assert response.status == 200

            # Links follow the address the browser used (ssh -L 9000:127.0.0.1:8000).
            async with session.get(served.url + "/", headers={"Host": "localhost:9000"}) as page:
                assert 'data-session-websocket-url="ws://localhost:9000/ws"' in await page.text()
            # No name but a loopback one (DNS rebinding), no websocket from another site's page.
            async with session.get(served.url + "/", headers={"Host": f"evil.example:{p}"}) as page:
                assert page.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(
                    served.url + "/ws", headers={"Origin": "https://evil.example"}
                )
            assert refused.value.status == 403
            assert served.desks() == set()

            # A tab: its own desk process, showing the desk's header.
            ws = await open_desk(session, served)
            screen = await screen_until(ws, "Testdesk")
            assert "Testdesk" in screen
            (desk,) = served.desks()
            await ws.send_json(["stdin", "?"])  # typing reaches the desk: no crash, still open
            await ws.close()
            await until(lambda: not alive(desk), 8, "the desk outlived its tab")

            # Stopping the server (SIGTERM) with a tab open ends that desk too, promptly.
            ws = await open_desk(session, served)
            await screen_until(ws, "Testdesk")
            (desk,) = served.desks()
            started = time.monotonic()
            served.proc.send_signal(signal.SIGTERM)
            await until(lambda: served.proc.poll() is not None, 10, "serve did not stop")
            assert served.proc.returncode == 0, served.output()
            assert time.monotonic() - started < 8
            await until(lambda: not alive(desk), 3, "the desk outlived the server")
            await ws.close()
        output = served.output()
        assert "the desk 'Testdesk' on http://127.0.0.1:" in output
        assert "Traceback" not in output and "WARNING" not in output
    finally:
        served.stop()


def test_cli_serve(tmp_path):
    """`webcare serve --port N --config PATH`, once the CLI has the command."""
    from webcare.cli import _parser

    if "serve" not in _parser().format_help():
        pytest.skip("webcare serve is not wired into the CLI yet")
    config = write_config(tmp_path)
    port = free_port()
    served = Served(
        ["-m", "webcare.cli", "serve", "--port", str(port), "--config", str(config)], tmp_path, port
    )

    async def check() -> None:
        await served.ready()
        async with aiohttp.ClientSession() as session, session.get(served.url + "/") as page:
            assert page.status == 200 and "Testdesk" in await page.text()

    try:
        asyncio.run(check())
        served.proc.send_signal(signal.SIGINT)  # Ctrl+C
        assert served.proc.wait(10) == 0, served.output()
    finally:
        served.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_needs_no_warning(host):
    assert is_loopback(host)
    assert exposure_warning(host, 8000) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "desk.example.org"])
def test_any_other_address_is_warned_about(host):
    assert not is_loopback(host)
    warning = exposure_warning(host, 8123)
    assert "WARNING" in warning and "no authentication" in warning
    assert "anyone who can reach this port gets the desk" in warning
    assert "ssh -L 8123:127.0.0.1:8123" in warning


def test_the_desk_command_is_this_python_on_the_absolute_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = desk_command(Path("my desk/config.toml"))
    assert sys.executable in command and "-m webcare.cli --config" in command
    assert f"'{tmp_path / 'my desk' / 'config.toml'}'" in command  # absolute, and quoted
