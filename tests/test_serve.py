"""The desk in a browser: `serve` as a real process on loopback, talked to as a browser does
(the printed address with its token, the operator's form, GET /, then the websocket the page
opens), until the desk's own header comes through; and everything refused without the token."""

from __future__ import annotations

import asyncio
import json
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
from tui.serve import (
    desk_command,
    exposure_warning,
    is_loopback,
    operator_name,
    terminal_size,
)

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

    def __init__(self, args: list[str], cwd: Path, port: int, **env: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / "serve.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT), **env)
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

    async def ready(self, timeout: float = 10) -> str:
        """Wait until serve listens; the address it printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve ended early:\n{self.output()}"
            printed = re.search(r" on (http://\S+)", self.output())
            if printed:
                return printed.group(1)
            await asyncio.sleep(0.1)
        raise AssertionError(f"serve never said where it listens:\n{self.output()}")

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


def browser() -> aiohttp.ClientSession:
    # unsafe: keep cookies set by an IP address (127.0.0.1), as browsers do
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(session: aiohttp.ClientSession, served: Served, token: str, name: str) -> None:
    """The printed address (its token becomes a cookie), then the operator's form."""
    async with session.get(f"{served.url}/?token={token}") as page:
        assert page.status == 200 and "who is at this desk?" in await page.text()
    async with session.post(
        served.url + "/operator", data={"name": name}, headers={"Origin": served.url}
    ) as page:
        assert page.status == 200 and page.url.path == "/"


def environment(pid: int) -> dict[str, str]:
    """A process's environment as it started (Linux)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    items = raw.decode(errors="replace").split("\0")
    return dict(item.split("=", 1) for item in items if "=" in item)


async def open_desk(
    session: aiohttp.ClientSession, served: Served, size: str = "width=120&height=32"
) -> aiohttp.ClientWebSocketResponse:
    """As textual.js: ws URL from the page, ?width&height, then a resize and a ping."""
    ws = await session.ws_connect(
        f"ws://127.0.0.1:{served.port}/ws?{size}",
        headers={"Origin": served.url},  # a browser always sends its page's origin
        timeout=aiohttp.ClientWSTimeout(ws_close=5),
    )
    await ws.send_json(["resize", {"width": 120, "height": 32}])
    await ws.send_json(["ping", "1"])
    return ws


async def test_the_desk_needs_its_token_and_runs_behind_the_page(tmp_path):
    config = write_config(tmp_path)  # [desk] operator = "tester": the browser's name wins
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    served = Served(["-c", SERVE, str(config), str(p := free_port())], elsewhere, p)
    try:
        printed = await served.ready()
        token = re.fullmatch(rf"http://127\.0\.0\.1:{p}/\?token=([A-Za-z0-9_-]{{43}})", printed)
        assert token, printed  # secrets.token_urlsafe(32), in the address to open
        token = token.group(1)
        font = "static/fonts/RobotoMono-VariableFont_wght.ttf"
        async with browser() as stranger:
            # No token, a wrong one, a forged cookie: nothing, not even a static file.
            for path in ["/", "/static/js/textual.js", f"/{font}", "/operator", "/download/x"]:
                async with stranger.get(served.url + path) as page:
                    assert page.status == 401, path
                    assert "needs its key" in await page.text()
            async with stranger.get(f"{served.url}/?token={token[:-1]}x") as page:
                assert page.status == 401
            async with stranger.get(f"{served.url}/?token=", cookies={"webcare": token}) as page:
                assert page.status == 401
            async with stranger.post(served.url + "/operator", data={"name": "Mallory"}) as page:
                assert page.status == 401 and "set-cookie" not in page.headers
            for url in ["/ws", f"/ws?token={token.upper()}", "/ws?width=80&height=24"]:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await stranger.ws_connect(served.url + url)  # no Origin: not a browser
                assert refused.value.status == 401, url
            assert served.desks() == set()  # no desk started for any of them

        async with browser() as session:
            # The token from the address becomes a cookie, and leaves the address.
            async with session.get(
                f"{served.url}/?token={token}&fontsize=20", allow_redirects=False
            ) as answer:
                assert answer.status == 303 and answer.headers["Location"] == "/?fontsize=20"
                cookie = answer.headers["Set-Cookie"]
                assert token in cookie
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
            # Then: who is at this desk? Only a short clean name, only from our own page.
            async with session.get(served.url + "/") as page:
                form = await page.text()
                assert page.status == 200 and 'action="/operator"' in form
                assert page.headers["Cache-Control"] == "no-store"
            for bad in ["<script>alert(1)</script>", "\x1b]0;pwned\x07An", "", "x" * 41]:
                async with session.post(served.url + "/operator", data={"name": bad}) as page:
                    assert page.status == 400 and "<script>" not in await page.text()
            async with session.post(
                served.url + "/operator",
                data={"name": "Mallory"},
                headers={"Origin": "https://evil.example"},
            ) as page:
                assert page.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await open_desk(session, served)  # a name first
            assert refused.value.status == 403
            await sign_in(session, served, token, "An Peeters")

            async with session.get(served.url + "/") as page:
                html = await page.text()
                assert page.status == 200 and page.content_type == "text/html"
            assert "<title>Testdesk</title>" in html
            assert f'data-session-websocket-url="ws://127.0.0.1:{p}/ws"' in html
            assert "googleapis" not in html  # the font comes from our own static files
            async with session.get(f"{served.url}/{font}") as response:
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
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await open_desk(session, served, "width=80px&height=24")
            assert refused.value.status == 400
            assert served.desks() == set()

            # A tab: its own desk process, showing the desk's header, as the named operator,
            # at a size within bounds whatever the page asked.
            ws = await open_desk(session, served, "width=100000&height=3")
            screen = await screen_until(ws, "Testdesk")
            assert "Testdesk" in screen
            (desk,) = served.desks()
            env = environment(desk)
            assert (env["COLUMNS"], env["ROWS"]) == ("400", "10")
            assert env["WEBCARE_OPERATOR"] == "An Peeters"
            assert token not in Path(f"/proc/{desk}/environ").read_text(errors="replace")
            presence = tmp_path / "data" / "presence"
            await until(lambda: any(presence.glob("An_Peeters-*.json")), 15, "no presence file")
            (mine,) = presence.glob("An_Peeters-*.json")
            assert json.loads(mine.read_text())["operator"] == "An Peeters"  # not "tester"
            # What a page never sends is ignored, and the tab lives on.
            for junk in ["not json", "[1, 2, 3]", '["resize", {"width": "x", "height": 1e9}]']:
                await ws.send_str(junk)
            await ws.send_json(["resize", {"width": 10**9, "height": 10**9}])  # clamped
            await ws.send_json(["ping", "still there"])
            while (message := await ws.receive(timeout=5)).type != aiohttp.WSMsgType.TEXT:
                assert message.type == aiohttp.WSMsgType.BINARY, message
            assert json.loads(message.data) == ["pong", "still there"]
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
        assert "at most 4 desks at once" in output
        assert "Traceback" not in output and "WARNING" not in output
    finally:
        served.stop()


def test_cli_serve_with_a_token_from_the_environment_and_a_cap(tmp_path):
    """`webcare serve --max-desks 1 --token-env NAME`: the service's token is never printed nor
    passed on to the desks; a second desk gets a page saying they are all in use."""
    config = write_config(tmp_path)
    port = free_port()
    token = "service-token-" + "k" * 30
    served = Served(
        ["-m", "webcare.cli", "serve", "--port", str(port), "--max-desks", "1"]
        + ["--token-env", "DESK_TOKEN", "--config", str(config)],
        tmp_path,
        port,
        DESK_TOKEN=token,
    )

    async def check() -> None:
        printed = await served.ready()
        assert printed == f"{served.url}/?token=<the"  # the address, not the secret
        async with browser() as an, browser() as bo:
            async with an.get(f"{served.url}/?token={'x' * 44}") as page:
                assert page.status == 401
            await sign_in(an, served, token, "An")
            await sign_in(bo, served, token, "Bo")
            ws = await open_desk(an, served)
            await screen_until(ws, "Testdesk")
            (desk,) = served.desks()
            assert token not in Path(f"/proc/{desk}/environ").read_text(errors="replace")

            # Full: a clear page, and no second desk process.
            async with bo.get(served.url + "/") as page:
                text = await page.text()
                assert page.status == 503 and page.content_type == "text/html"
                assert "every browser desk is in use" in text and "at most 1 desks" in text
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await open_desk(bo, served)
            assert refused.value.status == 503
            assert served.desks() == {desk}

            await ws.close()  # a place comes free
            await until(lambda: not served.desks(), 8, "the desk outlived its tab")
            async with bo.get(served.url + "/") as page:
                assert page.status == 200 and "data-session-websocket-url" in await page.text()

    try:
        asyncio.run(check())
        served.proc.send_signal(signal.SIGINT)  # Ctrl+C
        assert served.proc.wait(10) == 0, served.output()
        assert token not in served.output()
    finally:
        served.stop()


@pytest.mark.parametrize("token", ["", "too-short", "long enough; but with a cookie-breaking ;"])
def test_a_missing_or_weak_service_token_is_refused(tmp_path, monkeypatch, capsys, token):
    from webcare.cli import EXIT_CONFIG, main

    monkeypatch.setenv("DESK_TOKEN", token)
    config = write_config(tmp_path)
    assert main(["serve", "--token-env", "DESK_TOKEN", "--config", str(config)]) == EXIT_CONFIG
    assert "--token-env DESK_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("asked", "given"),
    [
        (("80", "24"), (80, 24)),
        (("100000", "3"), (400, 10)),
        (("0", "0"), (20, 10)),
        ((120, 999), (120, 200)),
        (("80px", "24"), None),
        (("-5", "24"), None),
        (("", "24"), None),
        (("٨٠", "24"), None),  # Arabic-Indic digits: int() takes them, we don't
        ((True, 24), None),
        ((80.5, 24), None),
        ((None, 24), None),
    ],
)
def test_terminal_sizes_are_bounded(asked, given):
    assert terminal_size(*asked) == given


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("An Peeters", "An Peeters"),
        ("  an.peeters ", "an.peeters"),
        ("Zoë O'Brien-Smit", "Zoë O'Brien-Smit"),
        ("<b>An</b>", None),
        ("An\x1b[2J", None),
        ("An\u202eBo", None),
        ("-An", None),
        ("x" * 41, None),
        ("", None),
        (None, None),
    ],
)
def test_operator_names_are_short_and_clean(given, name):
    assert operator_name(given) == name


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_needs_no_warning(host):
    assert is_loopback(host)
    assert exposure_warning(host, 8000) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "desk.example.org"])
def test_any_other_address_is_warned_about(host):
    assert not is_loopback(host)
    warning = exposure_warning(host, 8123)
    assert "WARNING" in warning and "plain HTTP" in warning
    assert "anyone who picks up the token gets the desk" in warning
    assert "ssh -L 8123:127.0.0.1:8123" in warning


def test_the_desk_command_is_this_python_on_the_absolute_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = desk_command(Path("my desk/config.toml"))
    assert sys.executable in command and "-m webcare.cli --config" in command
    assert f"'{tmp_path / 'my desk' / 'config.toml'}'" in command  # absolute, and quoted
