"""E-mail: the organisation's own mailbox over IMAP, as mentions on the 8-hour channel.

IMAP4rev1 (RFC 3501) with IDLE (RFC 2177), through imapclient, which is blocking: every IMAP
conversation runs in a worker thread, never on the event loop that draws the desk.

- Polling (`fetch`) keeps one connection across polls (a new one after a failure, and one
  retry within the same poll when a kept connection turns out to be dead). Each poll EXAMINEs
  the mailbox (read-only: flags untouched) or, with `mark_seen`, SELECTs it and sets \\Seen on
  the messages it brings to the desk. The very first poll takes the newest `max_backlog`
  messages; after that `UID SEARCH UID n:*` brings only what arrived since the highest UID
  seen. When the mailbox's UIDVALIDITY changes (it was rebuilt or restored), the source starts
  over with the backlog rule; mention ids come from Message-IDs, so nothing is shown twice.
- Restarts (`checkpoint` / `resume`): the checkpoint names host, mailbox and username, and
  holds the UIDVALIDITY and the highest UID whose messages are stored — by the poll or by
  IDLE, whichever brought them; a batch one of them has fetched but the poller has not stored
  yet keeps the checkpoint below it. After a restart with the same UIDVALIDITY the first poll
  goes on above that UID (up to MAX_PER_POLL a poll, the rest the next); with another, or
  with a checkpoint of another mailbox, the source starts over with the backlog rule.
- Live (`live`): a second connection in a thread of its own sits in IDLE, wakes within a
  second to see whether it must stop (a thread blocked in a read cannot be cancelled), leaves
  and re-enters IDLE every 25 minutes (servers drop an IDLE after 30), and on EXISTS fetches
  the new messages as a poll would. Polling goes on beside it as the catch-up (`every`).
- Messages are read with BODY.PEEK[] (never marking them read) up to `max_bytes`; a larger one
  comes as its headers and a note. `sources.mailparse` turns a message into text. Left out:
  auto-replies, bounces and read receipts, bulk mail, and the desk's own messages (from an
  address in `own_addresses` or [smtp] from). A message with a hand-off's subject tag
  ("[webcare m:<id>.<key>]", which an expert's reply keeps) comes with the tag's id and key and
  its From addresses: the poller puts its text on the routed mention as the expert's answer
  when webcare.answers takes it, and makes it a mention marked suspicious when not.
- Replies go out as e-mail over [smtp] (`sources.handoff` sends them): To the Reply-To (else
  From), "Re: " + subject, In-Reply-To and References set so the person's mail program threads
  it.

    [[sources]]
    type = "imap"
    name = "info mailbox"
    host = "imap.example.org"
    port = 993                        # default: 993 for ssl, 143 for starttls and none
    security = "ssl"                  # ssl | starttls | none (none: localhost only, or allow_insecure)
    username = "info@example.org"
    password_env = "WEBCARE_IMAP_PASSWORD"
    mailbox = "INBOX"
    every = "1m"                      # the poll; with IDLE live, the catch-up interval
    idle = true                       # new mail within seconds where the server offers IDLE
    mark_seen = false                 # true: SELECT and set \\Seen on what reaches the desk
    keyword_filter = false            # the mailbox is the organisation's own: all of it counts
    # ca_file = "certs/own-ca.pem"    # a CA bundle for a server with its own CA (relative to config.toml)
    # max_backlog = 50                # the first poll: the newest N messages
    # max_bytes = "5MB"               # larger messages: headers and a note only
    # own_addresses = ["nieuwsbrief@example.org"]   # the desk's own mail; [smtp] from counts too
    # replies = "send"                # send | dry-run | off (needs [smtp])
    # timeout = "30s"
"""

from __future__ import annotations

import asyncio
import imaplib
import ipaddress
import logging
import re
import selectors
import socket
import ssl
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sources import mailparse, options
from sources.source import Checkpoints, LiveConnection, OptionError, Replies, Source, SourceError
from webcare.config import Config, SourceConfig
from webcare.intake import Item
from webcare.routing import read_tag

if TYPE_CHECKING:
    import httpx
    from imapclient import IMAPClient

    from webcare.config import SmtpSettings
    from webcare.mention import Mention

__all__ = ["ImapSource"]

log = logging.getLogger(__name__)

IDLE_CHECK_S = 1.0  # how long one wait in IDLE lasts: how soon a stopped live() lets go
IDLE_RENEW_S = 25 * 60.0  # leave IDLE and enter it again (RFC 2177: at most every 29 minutes)
FETCH_CHUNK = 25  # messages per UID FETCH: bounded memory for a burst of large messages
MAX_PER_POLL = 500  # catching up after a long outage: the rest comes with the next poll
MAX_REFERENCES = 20  # References kept for a reply: the first (the thread's root) and the last
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _size(n: int) -> str:
    return f"{n / 1024**2:.1f} MB" if n >= 1024**2 else f"{max(1, round(n / 1024))} kB"


def _said(exc: BaseException) -> str:
    """The server's own words from an imaplib/imapclient error, short and without b'…'."""
    text = str(exc)
    m = re.fullmatch(r"""\s*b(['"])(.*)\1\s*""", text, re.DOTALL)
    if m:
        text = m[2]
    text = re.sub(r"^[a-z ]+ failed: ", "", " ".join(text.split()))  # imaplib's "select failed: "
    return text[:200]


@dataclass(frozen=True)
class ImapOptions:
    host: str = options.text("the IMAP server, like imap.example.org", required=True)
    port: int | None = options.number("default: 993 for ssl, 143 for starttls and none", None, minimum=1)
    security: str = options.choice("ssl, starttls or none (none: localhost only, or allow_insecure)",
                                   "ssl", ("ssl", "starttls", "none"))
    allow_insecure: bool = options.flag("true: allow security = none to a server not on this machine", False)
    username: str = options.text("the mailbox's login", required=True)
    password_env: str = options.env("the environment variable that holds the password", required=True)
    mailbox: str = options.text("the folder to read", "INBOX")
    every: float = options.duration("the poll; with IDLE live, the catch-up interval", "1m")
    timeout: float = options.duration("for each exchange with the server", "30s")
    idle: bool = options.flag("new mail within seconds where the server offers IDLE", True)
    mark_seen: bool = options.flag("true: SELECT and set \\Seen on what reaches the desk", False)
    keyword_filter: bool = options.flag("the mailbox is the organisation's own: all of it counts", False)
    ca_file: str = options.text("a CA bundle for a server with its own CA (relative to config.toml)")
    replies: str = options.replies()
    max_backlog: int = options.number("the first poll: the newest N messages", 50)
    own_addresses: tuple[str, ...] = options.texts("the desk's own addresses: their mail is left out ([smtp] from counts too)")
    max_bytes: int = options.size("larger messages: headers and a note only", "5MB")


class ImapSource(Source, Checkpoints, LiveConnection, Replies):
    """One IMAP mailbox."""

    type: ClassVar[str] = "imap"
    options_class = ImapOptions
    channel: ClassVar[str] = "email"

    def __init__(
        self,
        name: str,
        host: str,
        *,
        username: str,
        password: str | None,
        password_env: str,
        port: int | None = None,
        security: str = "ssl",
        mailbox: str = "INBOX",
        interval: float = 60.0,
        idle: bool = True,
        mark_seen: bool = False,
        keyword_filter: bool = False,
        ca_file: str = "",
        replies: str = "send",
        max_backlog: int = 50,
        own_addresses: Iterable[str] = (),
        max_bytes: int = 5 * 1024**2,
        timeout: float = 30.0,
        smtp: SmtpSettings | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.security = security
        self.port = port or (993 if security == "ssl" else 143)
        self.username = username
        self._password = password  # never logged, never in an error message
        self.password_env = password_env
        self.mailbox = mailbox
        self.interval = interval
        self.idle = idle
        self.mark_seen = mark_seen
        self.keyword_filter = keyword_filter
        self.ca_file = ca_file
        self.replies = replies
        self.max_backlog = max_backlog
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.smtp = smtp
        own = {a.strip().lower() for a in own_addresses if a.strip()}
        if smtp is not None:
            own.add(smtp.sender.lower())
        self.own_addresses = frozenset(own)
        self.notice = ""  # the last thing worth telling the person on duty (UIDVALIDITY reset)
        # The cursor, shared by the poll and the IDLE connection (under _cursor_lock, held for
        # a whole fetch): the mailbox's UIDVALIDITY and the highest UID handed to the desk.
        # Written (and read by `checkpoint`, on the event loop) under _mark_lock too, which is
        # only ever held for a moment; _cursor_lock is always taken first.
        self._cursor_lock = threading.Lock()
        self._mark_lock = threading.Lock()
        self._uidvalidity: int | None = None
        self._last_uid: int | None = None
        self._before_poll: tuple[int | None, int | None] = (None, None)
        # Batches handed over (by a poll or by IDLE) that are not known to be stored yet: the
        # checkpoint stays below them, and one that is not stored after all is rolled back.
        self._pending: list[_Batch] = []
        self._poll_batch: _Batch | None = None
        self._poll_lock = threading.Lock()
        self._conn: IMAPClient | None = None
        self._server_lacks_idle = False

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> ImapSource:
        o = options.read(ImapOptions, sc)
        host = o.host
        if not host or not _HOST.match(host):
            raise OptionError(f"host: {host!r} is not a host name (like 'imap.example.org')")
        security = o.security
        port = o.port if o.port is not None else 993 if security == "ssl" else 143
        if port > 65535:
            raise OptionError(f"port: must be a port number (1-65535), not {port}")
        if security == "none" and not _loopback(host) and not o.allow_insecure:
            raise OptionError(
                "security: 'none' sends the password unencrypted; use ssl or starttls, or set "
                "allow_insecure = true if the network to this server is trusted"
            )
        password_env = o.password_env
        if not _ENV_NAME.match(password_env):
            raise OptionError(f"password_env: {password_env!r} is not an environment variable name")
        ca_file = o.ca_file
        if ca_file:
            path = Path(ca_file).expanduser()
            if not path.is_absolute():
                path = Path(config.path).parent / path
            if not path.is_file():
                raise OptionError(f"ca_file: {str(path)!r} does not exist")
            ca_file = str(path)
        for address in o.own_addresses:
            if not _EMAIL.match(address):
                raise OptionError(f"own_addresses: {address!r} is not an e-mail address")
        return cls(
            sc.name,
            host,
            username=o.username,
            password=options.secret(password_env),
            password_env=password_env,
            port=port,
            security=security,
            mailbox=o.mailbox or "INBOX",
            interval=o.every,
            idle=o.idle,
            mark_seen=o.mark_seen,
            keyword_filter=o.keyword_filter,
            ca_file=ca_file,
            replies=o.replies,
            max_backlog=o.max_backlog,
            own_addresses=list(o.own_addresses),
            max_bytes=o.max_bytes,
            timeout=o.timeout,
            smtp=config.smtp,  # [smtp], checked when config.toml was read
        )

    def __repr__(self) -> str:
        return f"ImapSource({self.name!r}, {self.username!r} at {self.host}:{self.port}/{self.mailbox})"

    @property
    def where(self) -> str:
        return f"IMAP {self.host}:{self.port}"

    # --- polling -------------------------------------------------------------------------

    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        items = await asyncio.to_thread(self._poll)
        with self._mark_lock:  # handed to this task: it stores them, then asks for a checkpoint
            if self._poll_batch is not None:
                self._poll_batch.consumer = _current_task() or _NO_LOOP
        return items

    def rewind(self) -> None:
        """Forget how far the last poll got, so the next one brings its messages again (the
        poller calls this when it could not store them)."""
        with self._cursor_lock, self._mark_lock:
            validity, last = self._before_poll
            if validity == self._uidvalidity:  # back to before the poll, never forward
                last = _lower(last, self._last_uid)
            self._uidvalidity, self._last_uid = validity, last
            if self._poll_batch in self._pending:
                self._pending.remove(self._poll_batch)
            self._poll_batch = None

    def checkpoint(self) -> dict[str, Any]:
        """Where the mailbox is read up to: its UIDVALIDITY and the highest UID below which
        everything handed over is stored (the poller asks after storing a poll's or an IDLE
        batch's messages; a batch another task is still storing keeps it below that batch)."""
        task = _current_task()
        with self._mark_lock:
            for batch in list(self._pending):
                if batch.consumer is not None and (task is None or batch.consumer is task):
                    self._pending.remove(batch)  # the caller has stored it
            validity, last = self._uidvalidity, self._last_uid
            for batch in self._pending:
                if batch.validity == validity:
                    last = _lower(last, batch.floor)
        return {
            "host": self.host.lower(),
            "username": self.username,
            "mailbox": self.mailbox,
            "uidvalidity": validity,
            "last_uid": last if validity is not None else None,
        }

    def resume(self, state: dict[str, Any]) -> None:
        """Go on from a checkpoint of this mailbox (same host, username and mailbox): the first
        poll fetches what arrived above its UID, or starts over if UIDVALIDITY changed."""
        if not isinstance(state, dict):
            return
        host, username, mailbox = state.get("host"), state.get("username"), state.get("mailbox")
        if not (isinstance(host, str) and isinstance(username, str) and isinstance(mailbox, str)):
            return
        if (host.lower(), username, mailbox) != (self.host.lower(), self.username, self.mailbox):
            return  # the entry reads another mailbox now
        validity, last = state.get("uidvalidity"), state.get("last_uid")
        if not (_is_uint(validity) and _is_uint(last)):
            return  # nothing to go on from (never read, or unreadable): as on day one
        with self._cursor_lock, self._mark_lock:
            self._uidvalidity, self._last_uid = validity, last
            self._before_poll = (validity, last)

    def close(self) -> None:
        """Log out of the polling connection (the next poll opens a new one)."""
        with self._poll_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            _close(conn, logout=True)

    def _poll(self) -> list[Item]:
        with self._poll_lock:
            self._settle_poll()
            for attempt in (1, 2):
                reused = self._conn is not None
                if self._conn is None:
                    self._conn = self._connect()
                try:
                    return self._fetch_new(self._conn, polling=True)[0]
                except Exception as exc:
                    conn, self._conn = self._conn, None
                    _close(conn)
                    # A kept connection the server has since dropped (an autologout after 30
                    # minutes, a restart): one more try on a fresh one before calling it a failure.
                    dropped = isinstance(exc, (OSError, imaplib.IMAP4.abort))
                    if not (reused and dropped and attempt == 1):
                        raise self._error(exc, "reading the mailbox") from None
            raise AssertionError("unreachable")

    def _settle_poll(self) -> None:
        """Before a poll: the previous poll's batch was stored (or rewound) by the task it was
        handed to; one that never reached a task (its fetch was cancelled) comes again."""
        with self._mark_lock:
            batch, self._poll_batch = self._poll_batch, None
            if batch is not None and batch in self._pending:
                if batch.consumer is None:
                    self._roll_back(batch)
                else:
                    self._pending.remove(batch)

    def _roll_back(self, batch: _Batch) -> None:
        """`batch` was not stored: put the cursor back below it (under _mark_lock)."""
        if batch in self._pending:
            self._pending.remove(batch)
        if self._uidvalidity == batch.validity:
            self._last_uid = _lower(self._last_uid, batch.floor)

    def _connect(self) -> IMAPClient:
        """A logged-in connection; raises SourceError saying what went wrong."""
        from imapclient import IMAPClient

        if not self._password:
            raise SourceError(
                f"password_env: the environment variable {self.password_env} is not set"
            )
        context = self._tls_context() if self.security != "none" else None
        try:
            conn = IMAPClient(
                self.host,
                port=self.port,
                ssl=self.security == "ssl",
                ssl_context=context,
                timeout=self.timeout,
            )
        except Exception as exc:
            raise self._error(exc, "connecting") from None
        try:
            if self.security == "starttls":
                if not conn.has_capability("STARTTLS"):
                    raise SourceError(
                        f"{self.where} does not offer STARTTLS (check security and port)"
                    )
                conn.starttls(context)
            conn.login(self.username, self._password)
        except Exception as exc:
            _close(conn)
            raise self._error(exc, "logging in") from None
        conn.normalise_times = False  # INTERNALDATE with its offset, not as naive local time
        return conn

    def _tls_context(self) -> ssl.SSLContext:
        """Certificate and host name checked always; `ca_file` adds a CA, never disables it."""
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(
                f"ca_file: cannot read {self.ca_file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None

    def _error(self, exc: BaseException, doing: str) -> SourceError:
        """An exception from the IMAP conversation as one line for the person on duty."""
        from imapclient.exceptions import LoginError

        where = self.where
        if isinstance(exc, SourceError):
            return exc
        if isinstance(exc, LoginError):
            return SourceError(
                f"{where} refused the login of {self.username}: {_said(exc)} (check username and {self.password_env})"
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return SourceError(
                f"{where}: the server's certificate is not trusted ({exc.verify_message}); "
                "for a server with its own CA, set ca_file"
            )
        if isinstance(exc, ssl.SSLError):
            return SourceError(
                f"{where}: TLS failed ({exc.reason or exc}); check security and port"
            )
        if isinstance(exc, TimeoutError | socket.timeout):
            return SourceError(f"{where} did not answer in time ({doing})")
        if isinstance(exc, ConnectionRefusedError):
            return SourceError(
                f"cannot connect to {where}: connection refused (is the server running, and are host and port right?)"
            )
        if isinstance(exc, socket.gaierror):
            return SourceError(f"cannot connect to {where}: unknown host")
        if isinstance(exc, OSError):
            return SourceError(f"{where}: connection lost while {doing} ({exc.strerror or exc})")
        if isinstance(exc, imaplib.IMAP4.abort):
            return SourceError(f"{where} closed the connection while {doing}: {_said(exc)}")
        if isinstance(exc, imaplib.IMAP4.error):
            return SourceError(f"{where}: {doing} failed: {_said(exc)}")
        return SourceError(f"{where}: {doing} failed: {type(exc).__name__}: {exc}")

    def _fetch_new(
        self, conn: IMAPClient, *, polling: bool = False, idler: _Idler | None = None
    ) -> tuple[list[Item], _Batch | None]:
        """The messages that arrived since the cursor, as Items, and the batch that stands for
        them until they are stored (None when there are none); advances the cursor."""
        with self._cursor_lock:
            try:
                info = conn.select_folder(self.mailbox, readonly=not self.mark_seen)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                raise SourceError(
                    f"{self.where}: cannot open mailbox {self.mailbox!r}: {_said(exc)}"
                ) from None
            validity = int(info.get(b"UIDVALIDITY") or 0)
            if polling:
                self._before_poll = (self._uidvalidity, self._last_uid)
            with self._mark_lock:
                if self._uidvalidity is not None and validity != self._uidvalidity:
                    self.notice = (
                        f"mailbox {self.mailbox!r} has a new UIDVALIDITY (rebuilt or restored on "
                        f"the server): starting again from its newest {self.max_backlog} messages"
                    )
                    log.warning("%s: %s", self.name, self.notice)
                    self._last_uid = None
                self._uidvalidity = validity

            last = self._last_uid
            if last is None:  # the first look: the newest max_backlog, and remember the top
                every = sorted(conn.search(["ALL"]))
                uids = every[-self.max_backlog :] if self.max_backlog else []
                top = every[-1] if every else 0
            else:
                uidnext = info.get(b"UIDNEXT")
                if uidnext is not None and int(uidnext) <= last + 1:
                    uids = []  # nothing new: no SEARCH
                else:  # "n:*" always includes the highest UID, even below n: hence the filter
                    uids = sorted(u for u in conn.search(["UID", f"{last + 1}:*"]) if u > last)
                uids = uids[:MAX_PER_POLL]
                top = uids[-1] if uids else last
            items, delivered = self._download(conn, uids, validity)
            if self.mark_seen and delivered:
                conn.add_flags(delivered, [b"\\Seen"], silent=True)
            with self._mark_lock:
                if idler is not None and idler.abandoned:
                    return [], None  # its live() is gone: the next poll brings them
                if self._last_uid != last:  # a batch was rolled back meanwhile: stay below it
                    top = _lower(top, self._last_uid)
                self._last_uid = top
                batch = _Batch(validity, last, idler) if items else None
                if batch is not None:
                    self._pending.append(batch)
                if polling:
                    self._poll_batch = batch
            return items, batch

    def _download(
        self, conn: IMAPClient, uids: list[int], validity: int
    ) -> tuple[list[Item], list[int]]:
        """Fetch `uids` (whole messages up to max_bytes, headers only above) as Items; also
        returns the UIDs that became Items."""
        items: list[Item] = []
        delivered: list[int] = []
        now = datetime.now(UTC)
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            meta = conn.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            small = [
                u
                for u in chunk
                if u in meta and (meta[u].get(b"RFC822.SIZE") or 0) <= self.max_bytes
            ]
            large = [u for u in chunk if u in meta and u not in small]
            whole = conn.fetch(small, ["BODY.PEEK[]"]) if small else {}
            heads = conn.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
            for uid in chunk:  # a UID missing from the answers was expunged meanwhile
                if uid in whole:
                    raw, size = whole[uid].get(b"BODY[]"), None
                elif uid in heads:
                    raw, size = heads[uid].get(b"BODY[HEADER]"), meta[uid].get(b"RFC822.SIZE") or 0
                else:
                    continue
                if not isinstance(raw, bytes):
                    continue
                arrival = meta[uid].get(b"INTERNALDATE")
                if isinstance(arrival, datetime):
                    arrival = (
                        arrival.astimezone(UTC) if arrival.tzinfo else arrival.replace(tzinfo=UTC)
                    )
                else:
                    arrival = None
                try:
                    item = self._item(raw, uid, validity, arrival, size, now)
                except Exception:  # a message nothing here foresaw: shown, not lost, not fatal
                    log.exception("%s: cannot read UID %s", self.name, uid)
                    item = Item(
                        key=f"{self.host}/{self.mailbox}:{validity}:{uid}",
                        channel=self.channel,
                        author="?",
                        text="[this e-mail could not be read here; open it in the mail program]",
                        published_at=arrival or now,
                    )
                if item is not None:
                    items.append(item)
                    delivered.append(uid)
        return items, delivered

    def _item(
        self,
        raw: bytes,
        uid: int,
        validity: int,
        arrival: datetime | None,
        size: int | None,
        now: datetime,
    ) -> Item | None:
        """One message as an Item, or None when the desk should not see it (see the module's
        notes). `size`: set when only the headers were fetched (the message was too large)."""
        msg = mailparse.parse(raw)
        reason = mailparse.automatic_reason(msg)
        address, name = mailparse.sender(msg)
        subject = mailparse.header(msg, "Subject")
        if not reason and address.lower() in self.own_addresses:
            reason = "the desk's own address"
        tag = read_tag(subject) if not reason else None  # an expert's reply to a hand-off, or not
        if reason:
            log.debug("%s: left out UID %s (%s)", self.name, uid, reason)
            return None
        message_id = next(iter(mailparse.message_ids(str(msg.get("Message-ID") or ""))), "")
        in_reply_to = next(iter(mailparse.message_ids(str(msg.get("In-Reply-To") or ""))), "")
        references = mailparse.message_ids(
            " ".join(str(v) for v in msg.get_all("References") or [])
        )
        if len(references) > MAX_REFERENCES:
            references = references[:1] + references[-(MAX_REFERENCES - 1) :]
        if size is None:
            text = mailparse.body_text(msg)
        else:
            text = (
                f"[an e-mail of {_size(size)}, larger than max_bytes ({_size(self.max_bytes)}): "
                "only its headers were fetched; open it in the mail program]"
            )
        reply_to = (mailparse.addresses(msg, "Reply-To") or [address])[0]
        return Item(
            key=message_id or f"{self.host}/{self.mailbox}:{validity}:{uid}",
            channel=self.channel,
            author=address or "?",
            author_name=name,
            text=text,
            url="",  # no link: the key (the Message-ID) identifies the mail
            title=subject,
            published_at=mailparse.message_date(msg, arrival, now),
            ref=message_id,
            in_reply_to=in_reply_to,
            reply_meta={
                "message_id": message_id,
                "references": references,
                "reply_to": reply_to,
                "subject": subject,
            },
            # Every From address (a header may hold several, or come twice): an answer must
            # have exactly one, the one the hand-off went to. A whole mention in case it is not.
            answers=tag[0] if tag else "",
            answer_key=tag[1] if tag else "",
            extra={"from": mailparse.addresses(msg, "From")} if tag else {},
        )

    # --- live: IDLE --------------------------------------------------------------------

    @property
    def can_live(self) -> bool:
        # Whether the server offers IDLE is known only after connecting: live() says so then,
        # quickly, and polling carries on.
        return self.idle

    async def live(self, client: httpx.AsyncClient) -> AsyncGenerator[list[Item]]:
        """Yield [] once IDLE is established, then each batch of new messages as it arrives.
        Cancelling it (or closing it) stops the IDLE thread within about a second."""
        if not self.idle:
            return
        if self._server_lacks_idle:
            raise SourceError(self._no_idle_message())
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any = None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is closed: nobody is listening any more
                pass

        idler = _Idler(self, put)
        idler.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "ready":
                    yield []
                elif kind == "items":
                    items, batch = value
                    with self._mark_lock:
                        batch.consumer = _current_task() or _NO_LOOP
                    try:
                        yield items
                    except BaseException:  # not stored: the next poll brings them again
                        with self._mark_lock:
                            self._roll_back(batch)
                        raise
                    with self._mark_lock:  # stored: the poller asks for the next only then
                        if batch in self._pending:
                            self._pending.remove(batch)
                elif kind == "error":
                    raise value
                else:  # "end"
                    return
        finally:
            idler.stop()
            with self._mark_lock:  # batches it fetched that were never yielded come again
                idler.abandoned = True
                for batch in [b for b in self._pending if b.owner is idler]:
                    self._roll_back(batch)

    def _no_idle_message(self) -> str:
        return f"{self.where} does not offer IDLE: new mail comes with the poll every {self.interval:g} s"

    # --- replies -------------------------------------------------------------------------

    @property
    def can_reply(self) -> bool:
        return self.smtp is not None and self.replies != "off"

    async def reply(self, client: httpx.AsyncClient, mention: Mention, text: str) -> str:
        """Send `text` as the reply e-mail to `mention`; returns the new Message-ID (or, in a
        dry run, what would have been sent)."""
        from sources.handoff import HandoffError, build_message, send_handoff

        if self.smtp is None:
            raise SourceError("e-mail replies need [smtp] in config.toml")
        if self.replies == "off":
            raise SourceError(f"replies are off for {self.name}")
        meta = mention.reply_meta or {}
        to = str(meta.get("reply_to") or mention.author).strip()
        if not _EMAIL.match(to):
            raise SourceError(f"cannot reply: {to!r} is not an e-mail address")
        subject = " ".join(str(meta.get("subject") or mention.title).split())
        if not mailparse.is_reply_subject(subject):
            subject = f"Re: {subject}" if subject else "Re:"
        message_id = next(iter(mailparse.message_ids(str(meta.get("message_id") or ""))), "")
        references = [
            r for v in meta.get("references") or [] for r in mailparse.message_ids(str(v))
        ]
        msg = build_message(self.smtp, (to, subject, text))
        if message_id:
            msg["In-Reply-To"] = message_id
            msg["References"] = " ".join([r for r in references if r != message_id] + [message_id])
        if self.replies == "dry-run":
            return f"dry run: to {to} subject {subject!r}"
        try:
            return await send_handoff(self.smtp, msg)
        except HandoffError as exc:
            raise SourceError(str(exc)) from None


class _Batch:
    """Messages handed over by a poll or by IDLE, until they are known to be stored: the
    UIDVALIDITY they were read under, the cursor below them (None: a first look, the backlog),
    the _Idler that fetched them (None: a poll) and the task they were handed to."""

    __slots__ = ("consumer", "floor", "owner", "validity")

    def __init__(self, validity: int, floor: int | None, owner: _Idler | None) -> None:
        self.validity = validity
        self.floor = floor
        self.owner = owner
        self.consumer: object | None = None


_NO_LOOP = object()  # a batch handed over outside an event loop


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


def _lower(a: int | None, b: int | None) -> int | None:
    """The lower of two cursors, where None (nothing read yet) is the lowest."""
    return None if a is None or b is None else min(a, b)


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32


class _Idler:
    """The IDLE connection in a thread of its own: reports "ready", ("items", (items, batch)),
    ("error", SourceError) and finally "end" through `put`."""

    def __init__(self, source: ImapSource, put: Callable[..., None]) -> None:
        self.source = source
        self.put = put
        self.stopping = threading.Event()
        self.abandoned = False  # live() has ended: what it fetches now is left to the poll
        self._lock = threading.Lock()
        self._conn: IMAPClient | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"imap-idle {source.name}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to end, and wake it at once if it is waiting on the server."""
        self.stopping.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            _wake(conn)

    def _run(self) -> None:
        source = self.source
        conn = None
        try:
            conn = source._connect()
            with self._lock:
                if self.stopping.is_set():
                    return
                self._conn = conn
            if not conn.has_capability("IDLE"):
                source._server_lacks_idle = True
                raise SourceError(source._no_idle_message())
            conn.select_folder(source.mailbox, readonly=not source.mark_seen)
            conn.idle()
            self.put("ready")
            entered = time.monotonic()
            with selectors.DefaultSelector() as selector:
                selector.register(conn.socket(), selectors.EVENT_READ)
                while not self.stopping.is_set():
                    heard = _input_waiting(conn, selector, IDLE_CHECK_S)
                    if self.stopping.is_set():
                        break
                    if not heard and time.monotonic() - entered < IDLE_RENEW_S:
                        continue
                    # Whatever the server said (new mail, a keep-alive, a goodbye), leave IDLE
                    # to read it: DONE makes imapclient read every line whole up to the tagged
                    # answer. Its idle_check reads without blocking, and fails on a line that
                    # arrives in two TCP segments.
                    _, responses = conn.idle_done()
                    if any(r[:1] == (b"BYE",) for r in responses):
                        raise imaplib.IMAP4.abort("the server ended the IDLE connection")
                    if any(len(r) >= 2 and r[1] == b"EXISTS" for r in responses):
                        items, batch = source._fetch_new(conn, idler=self)
                        if items:
                            self.put("items", (items, batch))
                    if self.stopping.is_set():
                        break
                    conn.idle()
                    entered = time.monotonic()
        except Exception as exc:
            if not self.stopping.is_set():
                self.put("error", source._error(exc, "waiting for new mail (IDLE)"))
        finally:
            with self._lock:
                self._conn = None
            if conn is not None:
                _close(conn)
            self.put("end")


def _input_waiting(conn: IMAPClient, selector: selectors.BaseSelector, timeout: float) -> bool:
    """Whether the server has sent something, waiting up to `timeout` seconds. Looks in the
    connection's read buffer first (a line that came in with IDLE's "+" is already there, and
    the socket would not wake for it), then waits on the socket (readable at EOF too)."""
    sock = conn.socket()
    file = getattr(conn._imap, "file", None)
    if file is not None and hasattr(file, "peek"):
        sock.setblocking(False)
        try:
            if file.peek(1):
                return True
        except (BlockingIOError, ssl.SSLWantReadError):
            pass  # nothing buffered, nothing on the socket yet
        except OSError:
            return True  # let the read that follows say what is wrong
        finally:
            sock.setblocking(True)
            conn._set_read_timeout()  # as imapclient's own idle_check leaves it
    return bool(selector.select(timeout))


def _wake(conn: IMAPClient) -> None:
    """Shut the connection's socket down, so a read blocked on it in another thread returns
    now. The plain socket's shutdown: an SSL socket's own would tear its state down under the
    reading thread."""
    try:
        socket.socket.shutdown(conn.socket(), socket.SHUT_RDWR)
    except (OSError, AttributeError, ValueError):
        pass


def _close(conn: IMAPClient | None, *, logout: bool = False) -> None:
    """Close a connection, quietly: it may be dead already."""
    if conn is None:
        return
    if logout:
        try:
            conn.logout()
            return
        except Exception:
            pass
    try:
        conn.shutdown()
    except Exception:
        pass
