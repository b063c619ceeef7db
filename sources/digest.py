"""The ambassadors' daily digest, sent by whoever collects (see webcare/ambassadors.py).

`send_digest` sends the day's digest to every ambassador who has not had it yet, once the
day's `[ambassadors] digest_at` has passed, over [smtp] (sources/handoff.py); `digest_loop`
calls it every minute for as long as the collector runs. Once-only across processes: the
store's digest marks (data_dir/digests.json, store/digests.py; or the database's). Without
[smtp] nothing is sent (the collector has no clipboard); the reason is kept in the marks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcare.ambassadors import ambassadors, digest_due, digest_items, digest_message
from webcare.config import Config

if TYPE_CHECKING:
    from webcare.store_port import MentionStore

CHECK_EVERY = 60.0  # seconds
RETRY_AFTER = dt.timedelta(minutes=10)  # after a failed send: the mail server is not asked every minute


@dataclass(frozen=True, slots=True)
class DigestRun:
    sent: tuple[str, ...] = ()  # the addresses written to now
    errors: tuple[str, ...] = ()
    busy: bool = False  # another process was sending


async def send_digest(config: Config, now: dt.datetime, store: MentionStore | None = None) -> DigestRun:
    """The digest's marks and the plan come from `store` (the TinyDB files of [desk] data_dir
    without one)."""
    from sources.handoff import HandoffError, send_handoff

    day = digest_due(config.ambassadors, now, config.timezone)
    people = ambassadors(config.watch)
    if day is None or not people:
        return DigestRun()
    if store is None:
        from store import Store

        store = Store(config.data_dir)
    marks = store.digests
    with marks.sending() as mine:
        if not mine:
            return DigestRun(busy=True)
        failed = marks.failed_at(day)
        if failed is not None and now - failed < RETRY_AFTER:
            return DigestRun()
        done = marks.sent(day)
        todo = [a for a in people if a.email.casefold() not in done]
        if not todo:
            return DigestRun()
        items = digest_items(store.plan.all(), day, config.ambassadors.days)
        if not items:  # nothing planned: no e-mail, and none later today either
            for a in todo:
                marks.mark(day, now, sent=a.email)
            return DigestRun()
        smtp = config.smtp
        if smtp is None:
            marks.mark(day, now, error="no [smtp] in config.toml: the digest cannot be e-mailed")
            return DigestRun(errors=("no [smtp]",))
        sent, errors = [], []
        for a in todo:
            message = digest_message(items, a, day=day, desk=config.name, language=config.language)
            try:
                await send_handoff(smtp, message)
            except HandoffError as exc:  # tried again at the next check
                errors.append(str(exc))
                marks.mark(day, now, error=f"{a.email}: {exc}")
                continue
            sent.append(a.email)
            marks.mark(day, now, sent=a.email)
        return DigestRun(tuple(sent), tuple(errors))


async def digest_loop(config: Config, clock: Callable[[], dt.datetime], store: MentionStore | None = None) -> None:
    """Send the digest when it is due, for as long as the collector runs."""
    if config.ambassadors.digest_at is None or not ambassadors(config.watch):
        return
    while True:
        try:
            await send_digest(config, clock(), store)
        except Exception:  # a full disk, a damaged plan: the next check tries again
            pass
        await asyncio.sleep(CHECK_EVERY)
