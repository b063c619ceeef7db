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
- a secret, as Jupyter has: a random token made at start (or read from an environment variable
  for a service, never from the command line, which `ps` shows), printed in the URL to open.
  Every request, page, static file or websocket, needs it (the query, then a cookie set from
  it) or is refused with 401 before a desk starts; a valid token in the query is answered with a
  redirect to the same address without it, so it does not linger in the browser's history.
- a named operator per browser desk: after the token, a small form asks who is at the desk; the
  name goes to that desk's process (WEBCARE_OPERATOR), so the audit trail and the other desks'
  presence say who did what. The token is the key to the door; the name is attribution among
  colleagues who hold it, as WEBCARE_OPERATOR is over SSH.
- limits: at most `max_desks` desks at once (each a process loading the store; a page saying so
  when full, 503) and a terminal size clamped to COLUMNS x ROWS, at the start and on resize.
- bound to loopback by default (reach it over an SSH tunnel); any other address is the caller's
  explicit choice and prints a warning (plain HTTP: the token crosses the network readable). On
  loopback, a request must name a loopback host (a DNS-rebinding page cannot reach the desk),
  and a browser's websocket must come from the desk's own page (its Origin): websockets are not
  bound by the browser's same-origin policy.
- the terminal font from the package's own static files instead of fonts.googleapis.com: a
  government desk's page does not tell Google who opened it.
- a clean stop on Ctrl+C / SIGTERM: every open desk is told to quit (and is ended if it does not
  within a few seconds) instead of waiting out aiohttp's 60-second shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import os
import re
import secrets
import shlex
import signal
import site
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server

from webcare.config import ConfigError
from webcare.untrusted import clean_line

log = logging.getLogger("webcare.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STOP_GRACE = 5.0  # seconds a desk gets to quit when the server stops, before it is terminated
MAX_DESKS = 4  # desks at once by default: each is a process with the store loaded
COLUMNS = (20, 400)  # the terminal sizes a browser may ask for: beyond, clamped
ROWS = (10, 200)
MIN_TOKEN = 24  # characters of a token given through --token-env (a made one has 43)
_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")  # safe as is in an address and in a cookie
OPERATOR_MAX = 40  # characters of an operator's name
# A name as colleagues write it: letters (any script), digits, and space . ' - between them.
_OPERATOR = re.compile(r"[^\W_](?:[\w .'-]*[^\W_])?")
_DIGITS = re.compile(r"[0-9]{1,6}")

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
        "  Nothing is encrypted: the token in the address and every mention, reply and hand-off\n"
        "  cross the network readable, and anyone who picks up the token gets the desk and can act\n"
        "  as an operator.\n"
        f"  Prefer the default (--host {DEFAULT_HOST}) and an SSH tunnel from the colleague's machine:\n"
        f"    ssh -L {port}:127.0.0.1:{port} <this server>   then open the address printed below"
    )


def make_token(env_name: str | None = None) -> str:
    """A new random token, or the one in the environment variable `env_name` (for a service:
    a token on the command line would show in `ps`). The variable is removed from this
    process's environment, so the desks it starts do not inherit it."""
    if not env_name:
        return secrets.token_urlsafe(32)
    token = os.environ.pop(env_name, "").strip()
    if not token:
        raise ConfigError(f"--token-env {env_name}: that environment variable is not set or empty")
    if len(token) < MIN_TOKEN or not _TOKEN.fullmatch(token):
        raise ConfigError(
            f"--token-env {env_name}: the token must be at least {MIN_TOKEN} characters of "
            'A-Z a-z 0-9 . _ ~ - (make one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))")'
        )
    return token


def operator_name(given: object) -> str | None:
    """The operator's name from the form, if it is a short clean name ('An Peeters',
    'an.peeters', 'Zoë'); None for anything else (markup, escapes, control characters)."""
    if not isinstance(given, str):
        return None
    name = " ".join(given.split())
    if not name or len(name) > OPERATOR_MAX or clean_line(name, OPERATOR_MAX) != name:
        return None
    return name if _OPERATOR.fullmatch(name) else None


def clamp(value: int, bounds: tuple[int, int]) -> int:
    return min(max(value, bounds[0]), bounds[1])


def terminal_size(width: object, height: object) -> tuple[int, int] | None:
    """The terminal size a browser asked for (query strings or JSON numbers), clamped to
    COLUMNS x ROWS; None when either is not a plain non-negative whole number."""
    size = []
    for value in (width, height):
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            size.append(value)
        elif isinstance(value, str) and _DIGITS.fullmatch(value):
            size.append(int(value))
        else:
            return None
    return clamp(size[0], COLUMNS), clamp(size[1], ROWS)


def desk_command(config_path: Path) -> str:
    """The shell command textual-serve runs for each browser tab: this desk, on this config."""
    args = [sys.executable, "-m", "webcare.cli", "--config", str(Path(config_path).resolve())]
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline(args)
    return "exec " + shlex.join(args)  # exec: the desk is the process textual-serve starts


def _url_host(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <style>
      body {{ background: #0c181f; color: #e8eef2; font: 16px/1.5 system-ui, sans-serif;
             max-width: 36em; margin: 12vh auto; padding: 0 1em; }}
      h1 {{ font-size: 1.3em; }} code {{ background: #12232d; padding: 0 .3em; }}
      input, button {{ font: inherit; padding: .3em .6em; }} .error {{ color: #ff8f8f; }}
    </style>
  </head>
  <body>
{body}
  </body>
</html>
"""
# Our own pages need nothing from anywhere: no script at all, styles inline, forms to us only.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


def _harden(headers) -> None:
    headers.setdefault("Cache-Control", "no-store")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")


class DeskServer(Server):
    """textual-serve's Server, with the changes listed in the module docstring."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        title: str,
        public_url: str | None = None,
        token: str | None = None,
        max_desks: int = MAX_DESKS,
        show_token: bool = True,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.fixed_url = public_url.rstrip("/") if public_url else None
        self.every_interface = host in ("", "0.0.0.0", "::")
        if self.every_interface:
            shown = f"http://{socket.gethostname()}:{port}"
        else:
            shown = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.shown_url = self.fixed_url or shown
        self.loopback_only = is_loopback(host)
        self.token = token or secrets.token_urlsafe(32)
        self.show_token = show_token  # False when it came from the environment (a service's log)
        self.max_desks = max(1, max_desks)
        # Cookies are per host, not per port: two servers on one machine (or two tunnels) must
        # not overwrite each other's. Named after the token, so a service restarted with the same
        # token keeps its browsers signed in; the name tells nothing about the token itself.
        tag = hashlib.sha256(b"webcare serve cookie\0" + self.token.encode()).hexdigest()[:12]
        self.token_cookie = f"webcare-{tag}"
        self.operator_cookie = f"webcare-{tag}-operator"
        self.services: dict[web.WebSocketResponse, AppService] = {}

    # --- the page ------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/operator", self.handle_operator_form)
        app.router.add_post("/operator", self.handle_operator)
        # In this order, outermost first: the host, then the token, before any handler.
        app.middlewares.extend([self._headers, self._check_host, self._check_token])
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

    def page(self, status: int, heading: str, body: str, **headers: str) -> web.Response:
        """One of our own small pages; `heading` and `body` are ours (outside text escaped)."""
        return web.Response(
            status=status,
            content_type="text/html",
            charset="utf-8",
            headers={**_PAGE_HEADERS, **headers},
            text=_PAGE.format(
                title=html.escape(self.title),
                body=f"    <h1>{html.escape(heading)}</h1>\n{body}",
            ),
        )

    def full(self) -> web.Response:
        return self.page(
            503,
            f"{self.title}: every browser desk is in use",
            f"    <p>This server runs at most {self.max_desks} desks in browsers at once, and they are all "
            "open. Close a desk tab you no longer use (here or on a colleague's screen), then "
            "reload this page in a minute.</p>\n"
            "    <p>Colleagues with a terminal can use the desk over SSH meanwhile.</p>",
            **{"Retry-After": "60"},
        )

    async def handle_index(self, request: web.Request) -> web.Response:
        if self.operator_of(request) is None:
            return self.operator_form(request)
        if len(self.services) >= self.max_desks:
            return self.full()
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

    # --- who is at this desk -----------------------------------------------------------

    def operator_of(self, request: web.Request) -> str | None:
        return operator_name(request.cookies.get(self.operator_cookie))

    def operator_form(
        self, request: web.Request, status: int = 200, error: str | None = None
    ) -> web.Response:
        current = self.operator_of(request) or ""
        problem = f'    <p class="error">{html.escape(error)}</p>\n' if error else ""
        return self.page(
            status,
            f"{self.title}: who is at this desk?",
            f"    <p>Your name, as your colleagues know it: the desk signs your actions with it.</p>\n"
            f"{problem}"
            '    <form method="post" action="/operator">\n'
            f'      <input name="name" required maxlength="{OPERATOR_MAX}" autofocus '
            f'autocomplete="name" value="{html.escape(current, quote=True)}">\n'
            "      <button>Open the desk</button>\n"
            "    </form>",
        )

    async def handle_operator_form(self, request: web.Request) -> web.Response:
        return self.operator_form(request)

    async def handle_operator(self, request: web.Request) -> web.Response:
        if not self.same_origin(request):  # a form on another site cannot name our operator
            return web.Response(status=403, text="webcare serve: not from the desk's own page\n")
        form = await request.post()
        name = operator_name(form.get("name"))
        if name is None:
            return self.operator_form(
                request,
                400,
                f"A name of 1 to {OPERATOR_MAX} letters or digits, with spaces, dots, hyphens "
                "or apostrophes between them.",
            )
        response = web.Response(status=303, headers={"Location": "/"})
        self._set_cookie(response, self.operator_cookie, name)
        log.info("%s signs in as %s", request.remote, name)
        return response

    # --- the checks, before any handler ----------------------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request, handler):
        """No page of the desk is cached, sends its address onwards, or shows in another
        site's frame."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a 404 from the static files, say
            _harden(exc.headers)
            raise
        if not response.prepared:  # a websocket is under way: its headers are gone
            _harden(response.headers)
        return response

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

    def has_token(self, given: str | None) -> bool:
        """Whether `given` is the token; in constant time, so timing tells nothing of it."""
        return given is not None and hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self.token.encode()
        )

    @web.middleware
    async def _check_token(self, request: web.Request, handler):
        """The token, in the query (then a cookie is set and the address cleaned), else in the
        cookie; without it nothing, not even a static file, and certainly no desk."""
        given = request.query.get("token")
        if given is not None:
            if not self.has_token(given):
                return self.refused()
            if request.method == "GET" and request.path != "/ws":
                rest = [(k, v) for k, v in request.query.items() if k != "token"]
                location = request.path + (f"?{urlencode(rest)}" if rest else "")
                response = web.Response(status=303, headers={"Location": location})
                self._set_cookie(response, self.token_cookie, self.token)
                return response
            return await handler(request)
        if self.has_token(request.cookies.get(self.token_cookie)):
            return await handler(request)
        return self.refused()

    def refused(self) -> web.Response:
        return self.page(
            401,
            f"{self.title}: this desk needs its key",
            "    <p>Open the address <code>webcare serve</code> printed when it started: it ends "
            "in <code>?token=…</code>. Ask whoever runs the desk's server for it.</p>",
        )

    def _set_cookie(self, response: web.StreamResponse, name: str, value: str) -> None:
        # A session cookie: gone when the browser closes. Strict: never sent from another site.
        response.set_cookie(
            name,
            value,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=bool(self.fixed_url and self.fixed_url.startswith("https:")),
        )

    def same_origin(self, request: web.Request) -> bool:
        """A browser's request must come from our own page; other clients send no Origin."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        theirs = urlsplit(origin)
        return theirs.netloc.lower() == request.host.lower() or (
            self.fixed_url is not None
            and f"{theirs.scheme}://{theirs.netloc}".lower() == self.fixed_url.lower()
        )

    # --- one desk per websocket ----------------------------------------------------------

    # textual-serve declares a WebSocketResponse; a desk refused here is a plain HTTP 403.
    async def handle_websocket(  # type: ignore[override]
        self, request: web.Request
    ) -> web.StreamResponse:
        """textual-serve's handler, with the checks above, a register of open desks and the
        operator's name for the desk."""
        if not self.same_origin(request):
            return web.Response(status=403, text="webcare serve: not from the desk's own page\n")
        operator = self.operator_of(request)
        if operator is None:
            return web.Response(status=403, text="webcare serve: say who you are first (open /)\n")
        size = terminal_size(request.query.get("width", "80"), request.query.get("height", "24"))
        if size is None:
            return web.Response(status=400, text="webcare serve: width and height are numbers\n")
        if len(self.services) >= self.max_desks:
            return self.full()
        websocket = web.WebSocketResponse(heartbeat=15)
        service = DeskService(
            self.command,
            operator=operator,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.services[websocket] = service  # the place is taken before anything awaits
        try:
            await websocket.prepare(request)
            await service.start(*size)
            log.info("desk started for %s (%s)", operator, request.remote)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one tab's failure must not stop the server
            log.exception(error)
        finally:
            self.services.pop(websocket, None)
            try:  # tell the desk to quit and read its last output; a hung desk is ended
                await asyncio.wait_for(service.stop(), STOP_GRACE)
            except TimeoutError:
                log.warning("a desk did not quit within %s s; ending it", STOP_GRACE)
            await _finish(service)
            log.info("desk closed for %s (%s)", operator, request.remote)
        return websocket

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """textual-serve's, but a resize is clamped like the first size, and a message that is
        not what the page sends is ignored instead of ending the tab with a traceback."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or len(envelope) != 2:
                continue
            kind, data = envelope
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                size = terminal_size(data.get("width"), data.get("height"))
                if size is not None:
                    await app_service.set_terminal_size(*size)
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data[:100]])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()

    def initialize_logging(self) -> None:
        """textual-serve's log, without the local variables in a traceback: a frame here can
        hold the token or the operator's cookie."""
        logging.basicConfig(level="INFO", format="%(levelname)s %(name)s: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """Nothing yet: the address is announced once it is bound (see `announce`)."""

    def announce(self, *_: object) -> None:
        key = f"?token={self.token}" if self.show_token else "?token=<the token>"
        where = " (every interface)" if self.every_interface and not self.fixed_url else ""
        print(
            f"webcare serve: the desk {self.title!r} on {self.shown_url}/{key}{where} "
            f"(at most {self.max_desks} desks at once; Ctrl+C to stop)",
            flush=True,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's websocket: its desk is told to quit; end the ones that linger."""
        services = list(self.services.items())
        for websocket, _ in services:
            if websocket.prepared:
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


class DeskService(AppService):
    """textual-serve's AppService: one desk process, here with its operator's name."""

    def __init__(self, command: str, *, operator: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.operator = operator

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        # The browser's name wins over [desk] operator: one config serves several people.
        environment["WEBCARE_OPERATOR"] = self.operator
        environment["WEBCARE_SERVED"] = "1"
        return environment


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
    max_desks: int = MAX_DESKS,
    token_env: str | None = None,
) -> int:
    """Serve the desk on `config_path` at http://host:port until Ctrl+C or SIGTERM; 0 then.

    The token is made here, or read from the environment variable `token_env` (for a service).
    Raises ConfigError for a bad config, a missing or short token or max_desks below 1, and
    OSError when the address cannot be bound (the CLI's main turns both into a message and an
    exit code)."""
    from webcare.config import load

    config_path = Path(config_path).expanduser().resolve()
    config = load(config_path)  # a bad config fails here, once, not in every browser tab
    if max_desks < 1:
        raise ConfigError(f"--max-desks {max_desks}: at least 1")
    token = make_token(token_env)
    warning = exposure_warning(host, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    _importable_for_desks()
    server = DeskServer(
        desk_command(config_path),
        host,
        port,
        config.name,
        public_url,
        token=token,
        max_desks=max_desks,
        show_token=not token_env,
    )
    server.run()
    return 0
