"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives: hand-offs, digests,
alerts by e-mail. Shared by the tests that watch the desk's mail go out."""

from __future__ import annotations

import asyncio
import email
import email.policy

from aiosmtpd.smtp import SMTP as SMTPServer


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def message(self, i: int = 0):
        return email.message_from_bytes(self.envelopes[i].content, policy=email.policy.default)


async def smtp_on_loopback(inbox: Inbox):
    """(the server, its port): close the server when done."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTPServer(inbox, hostname="localhost"), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def smtp_table(port: int) -> str:
    """An [smtp] table for the server on `port`."""
    return f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nfrom = "webcare@example.org"\n'


async def wait_for(predicate, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")
