"""A real IMAP server on loopback for the tests: pymap (pure Python, IMAP4rev1 with IDLE,
UIDPLUS, STARTTLS) with its in-memory backend, in a thread with its own event loop, so blocking
IMAP clients in the test (and in the source's worker threads) talk to it as to any server.

    def test_x(imap_server):
        server = imap_server(security="ssl")          # "none" | "starttls" | "ssl"; idle=False: no IDLE
        server.append(b"From: …\r\n\r\nbody")          # delivered by IMAP APPEND, as a client would
        server.port, server.ca_file, server.user, server.password

TLS uses a test CA made by `trustme`; `server.ca_file` is its certificate, for ca_file.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from argparse import Namespace
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import Config, DictBackend, Login
from pymap.backend.dict.mailbox import MailboxData
from pymap.config import BackendCapability
from pymap.imap import IMAPServer
from pysasl.hashing import BuiltinHash

__all__ = ["ImapTestServer", "imap_server_fixture"]


async def _update_selected(self, selected, *, wait_on=None):  # type: ignore[no-untyped-def]
    """pymap's in-memory mailbox, with IDLE reporting what changed just before it began.
    pymap 0.36 waits for the *next* change before it looks (a message APPENDed between a
    client's last command and its IDLE is only announced with the one after it); RFC 2177
    servers announce it at once, and so does this one."""
    if wait_on is not None and selected.mod_sequence == self._mod_sequences.highest:
        await wait_on.or_event(self._updated).wait()
    return await _pymap_update_selected(self, selected)


_pymap_update_selected = MailboxData.update_selected
MailboxData.update_selected = _update_selected  # the test process's pymap only

USER, PASSWORD = "desk@example.org", "correct horse"


class _Config(Config):
    """pymap's in-memory backend, with a fixed greeting (pymap's own looks up the host's FQDN,
    which can take seconds without DNS) and IDLE as the test asks."""

    idle = True

    @property
    def greeting(self) -> bytes:
        return b"Test server ready"

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=self.idle, object_id=True, multi_append=True)


class ImapTestServer:
    def __init__(
        self, security: str = "none", *, idle: bool = True, tmp_path: Path | None = None
    ) -> None:
        assert security in ("none", "starttls", "ssl")
        self.security = security
        self.idle = idle
        self.host = "127.0.0.1"
        self.port = 0
        self.user, self.password = USER, PASSWORD
        self.ca_file = ""
        self._server_tls: ssl.SSLContext | None = None
        self._client_tls: ssl.SSLContext | None = None
        if security != "none":
            import trustme

            ca = trustme.CA()
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(
                server := ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            )
            self._server_tls = server
            assert tmp_path is not None
            path = tmp_path / f"imap-ca-{id(self)}.pem"
            ca.cert_pem.write_to_path(str(path))
            self.ca_file = str(path)
            self._client_tls = ssl.create_default_context(cafile=self.ca_file)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="imap test server", daemon=True)
        self._clients: list[IMAPClient] = []

    def start(self) -> ImapTestServer:
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"the IMAP test server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        """Log the test's clients out and stop the server (its connections end with it)."""
        clients, self._clients = self._clients, []
        for c in clients:
            with suppress(Exception):
                c.logout()
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            with suppress(RuntimeError):  # closed meanwhile
                self._loop.call_soon_threadsafe(self._stopped.set_result, None)
        self._thread.join(5)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        args = Namespace(
            host=self.host, port=0, debug=False, cert=None, key=None, tls=self.security == "starttls",
            passlib_cfg=None, proxy_protocol=None, demo_data=False, demo_user=self.user,
            demo_password=self.password, inherited_sockets=None,
        )  # fmt: skip
        config = _Config.from_args(
            args,
            ssl_context=self._server_tls or ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            invalid_user_sleep=0.0,
            hash_context=BuiltinHash(rounds=1000),  # the default 500,000 rounds: 0.3 s a login
        )
        config.idle = self.idle  # read by backend_capability
        login = Login(config)
        await DictBackend._add_demo_user(config, login)
        config.apply_context()
        handler = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(login, config))
        server = await asyncio.start_server(
            handler, self.host, 0, ssl=self._server_tls if self.security == "ssl" else None
        )
        self.port = server.sockets[0].getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        self._ready.set()
        async with server:
            await self._stopped
            server.close()

    # --- a client, as a person's mail program or the delivering MTA would be ------------

    def client(self) -> IMAPClient:
        """A new logged-in IMAP connection (closed when the server stops)."""
        c = IMAPClient(
            self.host,
            port=self.port,
            ssl=self.security == "ssl",
            ssl_context=self._client_tls,
            timeout=10,
        )
        if self.security == "starttls":
            c.starttls(self._client_tls)
        c.login(self.user, self.password)
        # imaplib sends an APPEND's literal and its closing CRLF in two writes: without this,
        # Nagle's algorithm holds the second until the server's delayed ACK, 40 ms an APPEND.
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._clients.append(c)
        return c

    @property
    def _admin(self) -> IMAPClient:
        if not self._clients:
            self.client()
        return self._clients[0]

    def append(
        self, message: bytes | str, mailbox: str = "INBOX", *, when: datetime | None = None
    ) -> None:
        """Deliver `message` into `mailbox` by IMAP APPEND (`when`: its INTERNALDATE)."""
        raw = message.encode() if isinstance(message, str) else message
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._admin.append(mailbox, raw, msg_time=when)

    def create(self, mailbox: str) -> None:
        self._admin.create_folder(mailbox)

    def recreate(self, mailbox: str) -> None:
        """Delete and create `mailbox` again: empty, with a new UIDVALIDITY."""
        self._admin.delete_folder(mailbox)
        self._admin.create_folder(mailbox)

    def flags(self, mailbox: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """UID → flags of every message in `mailbox` (read without touching them)."""
        c = self._admin
        c.select_folder(mailbox, readonly=True)
        uids = c.search(["ALL"])
        return (
            {uid: tuple(d[b"FLAGS"]) for uid, d in c.fetch(uids, ["FLAGS"]).items()} if uids else {}
        )


@pytest.fixture(name="imap_server")
def imap_server_fixture(tmp_path: Path):
    """imap_server(security="none", idle=True) -> a started ImapTestServer, stopped after the test."""
    servers: list[ImapTestServer] = []

    def start(security: str = "none", *, idle: bool = True) -> ImapTestServer:
        server = ImapTestServer(security, idle=idle, tmp_path=tmp_path).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
