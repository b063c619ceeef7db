"""Following a store's changes as they happen: a loop for a desk's background thread.

A store that can say when another process wrote (the PostgreSQL store's `wait_for_change`, on
LISTEN/NOTIFY) wakes the desk at once; the desk still looks every `fallback` seconds without
a word, in case a notification was lost. A store that cannot (the TinyDB files) is looked at
every `fallback` seconds, which is what the desk's own timer does for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from store.jsonstorage import StoreError
from webcare.store_port import LiveStore

FALLBACK = 10.0  # seconds: the longest a desk goes without looking, notified or not
RETRY = 2.0  # seconds between tries to listen again while the database is away
STEP = 0.5  # seconds: the longest one wait lasts, so `stop` is noticed soon


def follow(
    store: LiveStore,
    on_change: Callable[[], object],
    stop: threading.Event,
    fallback: float = FALLBACK,
    on_error: Callable[[str], object] | None = None,
    on_reconnect: Callable[[], object] | None = None,
) -> None:
    """Until `stop` is set: call on_change() when the store was written by another process
    (within a fraction of a second) and at least every `fallback` seconds. While the database
    cannot be reached, on_error(message) once per failed try, RETRY seconds apart; when the
    store listens again after that or after a failover, on_reconnect() and then on_change()."""
    last_look = time.monotonic()
    failing = False
    while not stop.is_set():
        remaining = max(0.0, last_look + fallback - time.monotonic())
        reconnected_before = store.reconnected_at
        try:
            heard = store.wait_for_change(min(STEP, remaining))
        except StoreError as exc:
            failing = True
            if on_error is not None:
                on_error(str(exc))
            stop.wait(RETRY)
            continue
        reconnected = failing or store.reconnected_at != reconnected_before
        if reconnected:
            failing = False
            if on_reconnect is not None:
                on_reconnect()
        if heard or reconnected or time.monotonic() >= last_look + fallback:
            last_look = time.monotonic()
            on_change()
