"""Sending a hand-off (webcare.routing.Handoff) to an expert or unit by e-mail, over [smtp].

    [smtp]
    host = "smtp.example.org"
    port = 587                           # default: 465 for ssl, 587 for starttls, 25 for none
    security = "starttls"                # ssl | starttls | none
    username = "webcare@example.org"     # optional: no login without it
    password_env = "WEBCARE_SMTP_PASSWORD"   # the environment variable holding the password
    from = "webcare@example.org"         # the desk's address: experts reply here
    # from_name = "Webcare VLM"
    # reply_to = "webcare@example.org"   # default: from
    # timeout = "20s"

`send_handoff` sends one message with aiosmtplib and returns its Message-ID; any failure is a
HandoffError with a sentence the desk can show as it is. The desk keeps the routing when a send
fails and tries again after each of `retry_delays`. Without [smtp], `handoff_text` is the same
message as text for the clipboard.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from webcare.routing import Handoff

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_KEYS = {"host", "port", "security", "username", "password_env", "from", "from_name", "reply_to", "timeout"}
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_TIMEOUT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min)?\s*$")

# Seconds to wait before the second, third and fourth try of a failed send; after the last the
# hand-off stays "not sent" until the person on duty retries it (the routing is kept throughout).
retry_delays: tuple[int, ...] = (30, 120, 600)


class HandoffError(Exception):
    """The hand-off could not be sent; the message says why, for the person on duty. It may
    quote the mail server (its refusal), so it is cleaned like any outside text."""

    def __init__(self, message: str) -> None:
        from webcare.untrusted import clean_line

        super().__init__(clean_line(message, 500))


class SmtpConfigError(HandoffError, ValueError):
    """[smtp] in config.toml is not usable; the message names the key."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # ssl | starttls | none
    sender: str  # [smtp] from
    username: str = ""
    password_env: str = ""
    from_name: str = ""
    reply_to: str = ""
    timeout: float = 20.0

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> SmtpSettings:
        """Read [smtp]; raises SmtpConfigError("[smtp] port: …") naming the key."""
        if raw is None:
            raise SmtpConfigError("[smtp]: missing; without it hand-offs go to the clipboard")
        if not isinstance(raw, Mapping):
            raise SmtpConfigError("[smtp] must be a table")
        if "password" in raw:
            raise SmtpConfigError("[smtp] password: never in config.toml; name an environment variable with password_env")
        extra = sorted(set(raw) - _KEYS)
        if extra:
            raise SmtpConfigError(f"[smtp] {extra[0]}: unknown key (known: {', '.join(sorted(_KEYS))})")

        def text(key: str, default: str = "") -> str:
            value = raw.get(key, default)
            if not isinstance(value, str):
                raise SmtpConfigError(f"[smtp] {key}: must be a string, not {value!r}")
            return value.strip()

        host = text("host")
        if not host or any(c.isspace() for c in host) or "/" in host:
            raise SmtpConfigError(f"[smtp] host: {'missing' if not host else repr(host) + ' is not a host name'} (like 'smtp.example.org')")
        security = text("security", "starttls").lower()
        if security not in SECURITY:
            raise SmtpConfigError(f"[smtp] security: {security!r} is not one of {', '.join(SECURITY)}")
        port = raw.get("port", DEFAULT_PORTS[security])
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise SmtpConfigError(f"[smtp] port: must be a port number (1-65535), not {port!r}")
        sender = text("from")
        if not sender:
            raise SmtpConfigError("[smtp] from: missing (the desk's address, where experts reply)")
        for key, value in (("from", sender), ("reply_to", text("reply_to"))):
            if value and not _EMAIL.match(value):
                raise SmtpConfigError(f"[smtp] {key}: {value!r} is not an e-mail address")
        username, password_env = text("username"), text("password_env")
        if username and not password_env:
            raise SmtpConfigError("[smtp] password_env: missing (the environment variable that holds the password for username)")
        if password_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", password_env):
            raise SmtpConfigError(f"[smtp] password_env: {password_env!r} is not an environment variable name")
        timeout_text = str(raw.get("timeout", "20s"))
        m = _TIMEOUT.match(timeout_text)
        if not m or float(m[1]) <= 0:
            raise SmtpConfigError(f"[smtp] timeout: {timeout_text!r} is not a duration like '20s' or '1m'")
        timeout = float(m[1]) * (60 if (m[2] or "s").startswith("m") else 1)
        return cls(host, port, security, sender, username, password_env, text("from_name"), text("reply_to"), timeout)

    def password(self) -> str | None:
        """The password from the environment variable named by password_env (never from config)."""
        if not self.username:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise HandoffError(f"[smtp] password_env: the environment variable {self.password_env} is not set")
        return value


def build_message(settings: SmtpSettings, handoff: Handoff | tuple[str, str, str]) -> EmailMessage:
    """The plain-text e-mail for a hand-off (or a (to, subject, body) triple)."""
    if isinstance(handoff, Handoff):
        to, to_name, subject, body, mention_id = handoff.to, handoff.to_name, handoff.subject, handoff.body, handoff.mention_id
    else:
        (to, subject, body), to_name, mention_id = handoff, "", ""
    msg = EmailMessage()
    msg["From"] = _address(settings.from_name, settings.sender)
    msg["To"] = _address(to_name, to)
    msg["Subject"] = " ".join(subject.split())  # no line breaks: no header injection
    msg["Reply-To"] = settings.reply_to or settings.sender
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid("webcare", domain=settings.sender.rpartition("@")[2])
    if mention_id:
        msg["X-Webcare-Mention"] = mention_id
    msg.set_content(body, subtype="plain", charset="utf-8")
    return msg


async def send_handoff(
    smtp_config: Mapping[str, Any] | SmtpSettings,
    message: EmailMessage | Handoff | tuple[str, str, str],
    *,
    timeout: float | None = None,
) -> str:
    """Send the hand-off over SMTP and return its Message-ID. Raises HandoffError with a
    clear sentence: the server cannot be reached, refused the login, the sender or recipient."""
    import aiosmtplib  # imported here: only the desk's send path needs it

    settings = smtp_config if isinstance(smtp_config, SmtpSettings) else SmtpSettings.from_config(smtp_config)
    msg = message if isinstance(message, EmailMessage) else build_message(settings, message)
    if not msg["Message-ID"]:
        msg["Message-ID"] = make_msgid("webcare", domain=settings.sender.rpartition("@")[2])
    password = settings.password()
    where = f"SMTP {settings.host}:{settings.port}"
    try:
        errors, _response = await aiosmtplib.send(
            msg,
            hostname=settings.host,
            port=settings.port,
            username=settings.username or None,
            password=password,
            use_tls=settings.security == "ssl",
            start_tls=True if settings.security == "starttls" else False,
            timeout=settings.timeout if timeout is None else timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise HandoffError(f"{where} refused the recipient ({refused})") from None
    except aiosmtplib.SMTPSenderRefused as exc:
        raise HandoffError(f"{where} refused the sender {exc.sender}: {exc.code} {exc.message}") from None
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise HandoffError(f"{where} refused the login of {settings.username}: {exc.code} {exc.message}") from None
    except aiosmtplib.SMTPNotSupported as exc:
        raise HandoffError(f"{where}: {exc} (check [smtp] security)") from None
    except (aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPTimeoutError):
        raise HandoffError(f"{where} did not answer in time") from None
    except aiosmtplib.SMTPConnectError as exc:
        raise HandoffError(f"cannot connect to {where}: {_reason(exc)}") from None
    except aiosmtplib.SMTPServerDisconnected as exc:
        raise HandoffError(f"{where} closed the connection: {exc}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise HandoffError(f"{where} refused the message: {exc.code} {exc.message}") from None
    except aiosmtplib.SMTPException as exc:
        raise HandoffError(f"{where}: {exc}") from None
    except OSError as exc:  # TLS handshake failures, DNS, …
        raise HandoffError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    if errors:  # some recipients refused (we send to one, so this is rare)
        refused = "; ".join(f"{r}: {e.code} {e.message}" for r, e in errors.items())
        raise HandoffError(f"{where} refused the recipient ({refused})")
    return str(msg["Message-ID"])


def handoff_text(handoff: Handoff) -> str:
    """The hand-off as text for the clipboard, when no [smtp] is configured: the same body,
    headed by the address and the subject to paste into a mail program."""
    to = f"{handoff.to_name} <{handoff.to}>" if handoff.to_name else handoff.to
    return f"Aan / To: {to}\nOnderwerp / Subject: {handoff.subject}\n\n{handoff.body}"


def retry_delay(attempt: int) -> int | None:
    """Seconds before retry number `attempt` (1-based) of a failed send; None: stop retrying."""
    return retry_delays[attempt - 1] if 1 <= attempt <= len(retry_delays) else None


def _address(name: str, email: str) -> Address | str:
    name = " ".join(name.split())
    if not name:
        return email
    user, _, domain = email.rpartition("@")
    try:
        return Address(display_name=name, username=user, domain=domain)
    except (ValueError, IndexError):
        return email


def _reason(exc: Exception) -> str:
    cause = exc.__cause__
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connection refused (is the server running, and are host and port right?)"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(exc)
