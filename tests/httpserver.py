"""A real HTTP server on loopback for the source tests, programmable per path.

    def test_x(feed_server):
        url = feed_server.serve("/a.xml", body=b"<rss …>", etag='"v1"')
        feed_server.serve("/slow.xml", body=b"…", delay=2.0)
        feed_server.serve("/busy.xml", status=429, headers={"Retry-After": "120"})
        feed_server.serve("/api/v1/x", body=b"[]", content_type="application/json")
        feed_server.route("/api/v1/y", lambda req: Response(body=page_for(req.query)))
        feed_server.serve("/stream", stream=[(0.0, b"data: 1\n\n"), (5.0, b":hb\n")])

Any method (GET, POST, PUT, DELETE) is answered from the same table; each request is recorded
with its method, query string and body. `route` answers a path with a function of the request
(for paging by query, or answers that change with each call); `stream` sends a chunked body
piece by piece with a pause before each (a server-sent event stream with heartbeats), and
the connection is closed after the last piece.

The server honours If-None-Match (and If-Modified-Since) with a 304 when a path has an ETag
(or a Last-Modified), records every request (path, headers, status) and counts how many
requests for one path were in flight at once. Import the fixture into a test module with
`from httpserver import feed_server_fixture` (it is named `feed_server`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    etag: str | None = None
    last_modified: str | None = None
    chunked: bool = False  # no Content-Length: the body is sent in chunks
    content_type: str = "application/rss+xml; charset=utf-8"
    stream: list[tuple[float, bytes]] | None = None  # (pause in seconds, piece), sent chunked


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int = 0
    method: str = "GET"
    query: str = ""  # the raw query string, without "?"
    body: bytes = b""

    @property
    def params(self) -> dict[str, list[str]]:
        from urllib.parse import parse_qs

        return parse_qs(self.query, keep_blank_values=True)

    def json(self) -> object:
        import json

        return json.loads(self.body or b"null")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FeedServer:
    """The server and what it has seen; thread-safe."""

    def __init__(self) -> None:
        self.responses: dict[str, Response | Callable[[Request], Response]] = {}
        self.requests: list[Request] = []
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.bytes_sent: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes = b"", status: int = 200, **kwargs: object) -> str:
        """Answer requests for `path` like this from now on; returns its URL."""
        with self._lock:
            self.responses[path] = Response(status=status, body=body, **kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def route(self, path: str, answer: Callable[[Request], Response]) -> str:
        """Answer requests for `path` with `answer(request)`; returns its URL."""
        with self._lock:
            self.responses[path] = answer
        return self.url(path)

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
        # client's delayed ACK (~40 ms a request), which made API tests with paging slow.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = Request(
                path, {k.lower(): v for k, v in self.headers.items()}, method=self.command, query=query, body=body
            )
            with server._lock:
                server.requests.append(record)
                spec = server.responses.get(path)
            if callable(spec):
                spec = spec(record)
            with server._lock:
                server.in_flight[path] = server.in_flight.get(path, 0) + 1
                server.max_in_flight[path] = max(
                    server.max_in_flight.get(path, 0), server.in_flight[path]
                )
            try:
                self._answer(path, record, spec)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client hung up (e.g. a body over its cap)
            finally:
                with server._lock:
                    server.in_flight[path] -= 1

        do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

        def _answer(self, path: str, record: Request, spec: Response | None) -> None:
            if spec is None:
                spec = Response(status=404, body=b"not found", content_type="text/plain")
            if spec.delay:
                time.sleep(spec.delay)
            status = spec.status
            if status == 200 and self._not_modified(spec, record.headers):
                status = 304
            record.status = status
            self.send_response(status)
            for k, v in spec.headers.items():
                self.send_header(k, v)
            if spec.etag:
                self.send_header("ETag", spec.etag)
            if spec.last_modified:
                self.send_header("Last-Modified", spec.last_modified)
            body = b"" if status == 304 else spec.body
            if status != 304:
                self.send_header("Content-Type", spec.content_type)
            if spec.stream is not None and status == 200:
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.flush()
                for pause, piece in spec.stream:
                    if pause:
                        time.sleep(pause)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    self._sent(path, len(piece))
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
            elif spec.chunked and body:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), 65536):
                    chunk = body[i : i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self._sent(path, len(chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i : i + 65536])
                    self._sent(path, min(65536, len(body) - i))
            self.wfile.flush()

        def _sent(self, path: str, n: int) -> None:
            with server._lock:
                server.bytes_sent[path] = server.bytes_sent.get(path, 0) + n

        @staticmethod
        def _not_modified(spec: Response, headers: dict[str, str]) -> bool:
            if spec.etag and "if-none-match" in headers:
                return (
                    spec.etag in [t.strip() for t in headers["if-none-match"].split(",")]
                    or headers["if-none-match"].strip() == "*"
                )
            if spec.last_modified and "if-modified-since" in headers:
                return headers["if-modified-since"] == spec.last_modified
            return False

    return Handler


@pytest.fixture(name="feed_server")
def feed_server_fixture() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
