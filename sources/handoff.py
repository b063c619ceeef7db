"""Sending a hand-off (webcare.routing.Handoff) to an expert or unit by e-mail, over [smtp]
(read once into webcare.config.SmtpSettings, Config.smtp):

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
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from webcare.config import SmtpSettings
from webcare.routing import Handoff

# Seconds to wait before the second, third and fourth try of a failed send; after the last the
# hand-off stays "not sent" until the person on duty retries it (the routing is kept throughout).
retry_delays: tuple[int, ...] = (30, 120, 600)


class HandoffError(Exception):
    """The hand-off could not be sent; the message says why, for the person on duty. It may
    quote the mail server (its refusal), so it is cleaned like any outside text."""

    def __init__(self, message: str) -> None:
        from webcare.untrusted import clean_line

        super().__init__(clean_line(message, 500))


def smtp_password(settings: SmtpSettings) -> str | None:
    """The password from the environment variable [smtp] password_env names (never from
    config.toml), read when a message goes out: the service may set it after a `webcare check`."""
    if not settings.username:
        return None
    value = os.environ.get(settings.password_env)
    if not value:
        raise HandoffError(f"[smtp] password_env: the environment variable {settings.password_env} is not set")
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
    settings: SmtpSettings,
    message: EmailMessage | Handoff | tuple[str, str, str],
    *,
    timeout: float | None = None,
) -> str:
    """Send the hand-off over SMTP and return its Message-ID. Raises HandoffError with a
    clear sentence: the server cannot be reached, refused the login, the sender or recipient."""
    import aiosmtplib  # imported here: only the desk's send path needs it

    msg = message if isinstance(message, EmailMessage) else build_message(settings, message)
    if not msg["Message-ID"]:
        msg["Message-ID"] = make_msgid("webcare", domain=settings.sender.rpartition("@")[2])
    password = smtp_password(settings)
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
