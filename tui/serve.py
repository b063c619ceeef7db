"""The desk in a browser (`webcare serve`), for a colleague without a terminal.

textual-serve (Textualize's own) does the work: an aiohttp server whose page runs xterm.js and
opens a websocket; each websocket (each browser tab) gets its own desk process, started with
Textual's web driver, on the same config and so the same data directory, as several SSH desks
share it. What this module adds to textual-serve's `Server`:

- the command: this Python, `-m webcare.cli --config <absolute path>`, so it works from any
  working directory and in a venv; the title is the desk's name; no browser is opened.
- links that survive a tunnel: textual-serve writes absolute URLs (websocket, static files)
  built from the bind address, which break for `ssh -L 9000:127.0.0.1:8000` (another local
  port) and for `--host 0.0.0.0`. They are built from the address the browser asked for (its
  Host header) instead, unless a public URL is given (behind a reverse proxy with https).
- no authentication, so: bound to loopback by default (reach it over an SSH tunnel); any other
  address is the caller's explicit choice and prints a warning. On loopback, a request must
  name a loopback host (a DNS-rebinding page cannot reach the desk), and a browser's websocket
  must come from the desk's own page (its Origin): websockets are not bound by the browser's
  same-origin policy, so without this check any web page the colleague visits could open
  ws://127.0.0.1:8000/ws and drive the desk.
- the terminal font from the package's own static files instead of fonts.googleapis.com: a
  government desk's page does not tell Google who opened it.
- a clean stop on Ctrl+C / SIGTERM: every open desk is told to quit (and is ended if it does not
  within a few seconds) instead of waiting out aiohttp's 60-second shutdown.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import shlex
import signal
import site
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("webcare.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STOP_GRACE = 5.0  # seconds a desk gets to quit when the server stops, before it is terminated

_GOOGLE_FONTS = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.S)
_LOCAL_FONTS = """<style>
      @font-face { font-family: "Roboto Mono"; font-style: normal; font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }
      @font-face { font-family: "Roboto Mono"; font-style: italic; font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype"); }
    </style>"""


def is_loopback(host: str) -> bool:
    """Whether `host` (a bind address or a host name) is this machine only."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """The warning printed when the desk is served beyond this machine; None on loopback."""
    if is_loopback(host):
        return None
    where = "every network interface" if host in ("", "0.0.0.0", "::") else host
    return (
        f"webcare serve: WARNING: serving the desk on {where}, port {port}, in plain HTTP.\n"
        "  There is no authentication: anyone who can reach this port gets the desk, with every\n"
        "  mention, reply and hand-off, and can act as the operator on duty.\n"
        f"  Prefer the default (--host {DEFAULT_HOST}) and an SSH tunnel from the colleague's machine:\n"
        f"    ssh -L {port}:127.0.0.1:{port} <this server>   then open http://127.0.0.1:{port}"
    )


def desk_command(config_path: Path) -> str:
    """The shell command textual-serve runs for each browser tab: this desk, on this config."""
    args = [sys.executable, "-m", "webcare.cli", "--config", str(Path(config_path).resolve())]
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline(args)
    return "exec " + shlex.join(args)  # exec: the desk is the process textual-serve starts


def _url_host(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class DeskServer(Server):
    """textual-serve's Server, with the changes listed in the module docstring."""

    def __init__(
        self, command: str, host: str, port: int, title: str, public_url: str | None = None
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.fixed_url = public_url.rstrip("/") if public_url else None
        if host in ("", "0.0.0.0", "::"):
            shown = f"http://{socket.gethostname()}:{port} (every interface)"
        else:
            shown = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.shown_url = self.fixed_url or shown
        self.loopback_only = is_loopback(host)
        self.services: dict[web.WebSocketResponse, AppService] = {}

    # --- the page ------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._check_host)
        page = (self.templates_path / "app_index.html").read_text(encoding="utf-8")
        page = _GOOGLE_FONTS.sub(_LOCAL_FONTS, page, count=1)
        page = page.replace("<head>", "<head>\n    <title>{{ application.name }}</title>", 1)
        aiohttp_jinja2.setup(
            app,
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.DictLoader({"app_index.html": page}),
                    jinja2.FileSystemLoader(self.templates_path),
                ]
            ),
        )
        return app

    def base_url(self, request: web.Request) -> str:
        """Where the browser reached us (through a tunnel: its own end), for the page's links."""
        return self.fixed_url or f"{request.scheme}://{request.host}"

    async def handle_index(self, request: web.Request) -> web.Response:
        base = self.base_url(request)
        try:
            font_size = min(max(int(request.query.get("fontsize", "16")), 6), 64)
        except ValueError:
            font_size = 16
        websocket = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
        context: dict[str, Any] = {
            "font_size": font_size,
            "app_websocket_url": f"{websocket}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    @web.middleware
    async def _check_host(self, request: web.Request, handler):
        """On loopback, only requests for a loopback name: the answer to DNS rebinding."""
        if self.loopback_only and not is_loopback(_url_host(request.host)):
            allowed = (
                self.fixed_url and _url_host(request.host) == urlsplit(self.fixed_url).hostname
            )
            if not allowed:
                return web.Response(
                    status=403, text="webcare serve: open the desk as http://127.0.0.1:<port>\n"
                )
        return await handler(request)

    def same_origin(self, request: web.Request) -> bool:
        """A browser's websocket must come from our own page; other clients send no Origin."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        theirs = urlsplit(origin)
        return theirs.netloc.lower() == request.host.lower() or (
            self.fixed_url is not None
            and f"{theirs.scheme}://{theirs.netloc}".lower() == self.fixed_url.lower()
        )

    # --- one desk per websocket ----------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's handler, with the Origin check and a register of open desks."""
        if not self.same_origin(request):
            return web.Response(status=403, text="webcare serve: not from the desk's own page\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        try:
            width = int(request.query.get("width", "80"))
            height = int(request.query.get("height", "24"))
        except ValueError:
            width, height = 80, 24
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            service = AppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self.services[websocket] = service
            await service.start(width, height)
            log.info("desk started for %s", request.remote)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one tab's failure must not stop the server
            log.exception(error)
        finally:
            self.services.pop(websocket, None)
            if service is not None:
                try:  # tell the desk to quit and read its last output; a hung desk is ended
                    await asyncio.wait_for(service.stop(), STOP_GRACE)
                except TimeoutError:
                    log.warning("a desk did not quit within %s s; ending it", STOP_GRACE)
                await _finish(service)
            log.info("desk closed for %s", request.remote)
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """Nothing yet: the address is announced once it is bound (see `announce`)."""

    def announce(self, *_: object) -> None:
        print(
            f"webcare serve: the desk {self.title!r} on {self.shown_url} (Ctrl+C to stop)",
            flush=True,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's websocket: its desk is told to quit; end the ones that linger."""
        services = list(self.services.items())
        for websocket, _ in services:
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        if not services:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE + 1
        while self.services and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for _, service in services:  # still there after the grace: beyond asking
            process = _process(service)
            if process is not None and process.returncode is None:
                process.kill()

    def run(self) -> None:
        """textual-serve's serve(), with a short shutdown instead of aiohttp's 60 seconds."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        except NotImplementedError:  # Windows: Ctrl+C raises KeyboardInterrupt
            pass
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            shutdown_timeout=STOP_GRACE + 1,
            print=self.announce,  # called once listening
            access_log=None,
        )

    def request_exit(self) -> None:
        raise GracefulExit()


def _process(service: AppService) -> asyncio.subprocess.Process | None:
    return getattr(service, "_process", None)  # textual-serve's; no public name for it


async def _finish(service: AppService) -> None:
    """Wait for a desk told to quit to end; terminate it if it lingers, kill it if that fails."""
    process = _process(service)
    if process is None:
        return
    for step in (None, process.terminate, process.kill):
        if step is not None:
            try:
                step()
            except ProcessLookupError:
                return
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE / 2)
            return
        except TimeoutError:
            continue


def _importable_for_desks() -> None:
    """The desks are new Python processes: make this checkout's packages importable there as
    they are here, when they are not installed (run from a source tree)."""
    import webcare

    root = str(Path(webcare.__file__).resolve().parent.parent)
    installed = {
        str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]
    }
    if root in installed:
        return
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])


def serve(
    config_path: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
) -> int:
    """Serve the desk on `config_path` at http://host:port until Ctrl+C or SIGTERM; 0 then.

    Raises ConfigError for a bad config and OSError when the address cannot be bound (the
    CLI's main turns both into a message and an exit code)."""
    from webcare.config import load

    config_path = Path(config_path).expanduser().resolve()
    config = load(config_path)  # a bad config fails here, once, not in every browser tab
    warning = exposure_warning(host, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    _importable_for_desks()
    server = DeskServer(desk_command(config_path), host, port, config.name, public_url)
    server.run()
    return 0
