"""What the desk keeps an eye on beside the stream: trends and spikes, and crisis mode.

The trend book (webcare.trends) counts the last days' mentions per theme and rule. It is
built in a thread after the first paint from the newest segments only (the baseline needs
`baseline_days` + 1 days), then fed every mention that comes in. After each batch and each
minute the desk asks it for spikes; a new spike raises the banner in the header.

Crisis mode is shared by every desk on the data directory through the crisis log
(store/crisis.py): one operator starts it, all desks show it within a second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from store import Store
from store.jsonstorage import StoreError
from webcare.config import Config
from webcare.mention import Mention
from webcare.store_port import CrisisEntry

if TYPE_CHECKING:  # imported when the book is built, in a thread after the first paint
    from webcare.trends import Observation, Spike, TrendBook


def observation(m: Mention) -> Observation:
    """What trends need of a mention."""
    return observation_of(
        m.id, m.published_at, m.first_seen_at, m.themes, m.rules, m.sentiment, m.title, m.text
    )


def observation_of(
    mention_id: str,
    published: datetime | None,
    seen: datetime,
    themes: Iterable[str],
    rules: Iterable[str],
    sentiment: str,
    title: str,
    text: str,
) -> Observation:
    """Said when published, never later than first seen (so a source catching up on old posts
    does not look like a burst); from a Mention or from a stored record alike."""
    from webcare.trends import Observation

    return Observation(
        at=seen if published is None else min(published, seen),
        themes=tuple(themes),
        rules=tuple(rules),
        negative=sentiment == "negative",
        text=f"{title}\n{text}" if title else text,
        id=mention_id,
    )


class Monitor:
    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.book: TrendBook | None = None  # None until built (a thread, after the first paint)
        self.spikes: list[Spike] = []
        self._announced: set[tuple] = set()  # spikes already told about: (subject, what)
        self._lock = threading.Lock()  # the book is built in a thread, fed in the UI thread
        self._early: list[Mention] = []  # mentions that came in while the book was being built
        self.crisis_log = store.crisis
        self.crisis: list[CrisisEntry] = []  # the crisis under way, from its start; [] = none
        self._crisis_sig: object = None  # the log's signature: compared, never read
        self.poll_crisis()

    # --- trends ---------------------------------------------------------------------------

    def build(self, pause: Callable[[], None] = lambda: None) -> None:
        """Read the segments the baseline needs, newest first, into a new trend book. With a
        store handle of its own (the desk's is not held up) and from the raw records (100,000
        Mention objects would cost seconds of CPU and a full garbage collection or two)."""
        import gc

        # No cyclic collection while hundreds of thousands of records and observations are
        # made (none of them in a cycle): a full collection over that heap stalled the desk's
        # key presses for up to two seconds. The book then lives as long as the desk: frozen,
        # later collections skip it.
        gc.disable()
        try:
            self._build(pause)
        finally:
            gc.freeze()
            gc.enable()

    def _build(self, pause: Callable[[], None]) -> None:
        from webcare.trends import TrendBook

        params = self.config.trends
        now = self.clock()
        horizon = now - timedelta(days=params.baseline_days + 1) - params.window
        # A TinyDB store gets a handle of its own, so the desk's is not held up; a database
        # store serves both from its pool.
        reader = Store(self.config.data_dir) if isinstance(self.store, Store) else self.store
        blocks = reader.content_blocks()  # newest first
        observations: list[Observation] = []
        earliest = now
        complete = True
        for records in blocks:
            pause()  # between blocks: the operator's keys come first
            newest = None
            for r in records:
                try:
                    seen = datetime.fromisoformat(r["first_seen_at"])
                    published = datetime.fromisoformat(r["published_at"]) if r.get("published_at") else None
                except (KeyError, TypeError, ValueError):
                    continue
                earliest = min(earliest, seen)
                newest = seen if newest is None else max(newest, seen)
                if seen < horizon or r.get("followed"):  # a followed voice on other things
                    continue
                observations.append(
                    observation_of(
                        r["id"], published, seen, r.get("themes") or (), r.get("rules") or (),
                        r.get("sentiment") or "", r.get("title") or "", r.get("text") or "",
                    )  # fmt: skip
                )
            if newest is not None and newest < horizon:
                complete = next(blocks, None) is None  # this was the oldest block
                break
        # Days before the first stored mention were not watched: they are no baseline.
        book = TrendBook(params, tz=self.config.timezone, since=earliest if complete else None)
        for start in range(0, len(observations), 2000):
            pause()
            book.extend(observations[start : start + 2000])
        with self._lock:
            book.extend(observation(m) for m in self._early)
            self._early = []
            self.book = book

    def add(self, mentions: Iterable[Mention]) -> None:
        # What a followed voice said of other things is no trend about us (webcare.intake).
        mentions = [m for m in mentions if not m.followed]
        with self._lock:
            if self.book is None:
                self._early.extend(mentions)
                return
            self.book.extend(observation(m) for m in mentions)

    def check(self) -> list[Spike]:
        """Recompute the spikes; returns those not told about before (for a notice)."""
        with self._lock:
            if self.book is None:
                return []
            now = self.clock()
            self.book.prune(now)
            self.spikes = self.book.spikes(now)
        current = {(s.subject, s.what) for s in self.spikes}
        fresh = [s for s in self.spikes if (s.subject, s.what) not in self._announced]
        self._announced = current  # a spike that ends and comes back is news again
        return fresh

    # --- crisis mode ----------------------------------------------------------------------

    def poll_crisis(self) -> bool:
        """Re-read the crisis log when another desk wrote to it; True when it changed."""
        read = self.read_crisis()
        return read is not None and self.apply_crisis(*read)

    def read_crisis(self) -> tuple[object, list[CrisisEntry]] | None:
        """The crisis log's signature and the crisis under way when the log changed since this
        desk last took it, else None. Safe in a thread (the desk reads it with the store's other
        changes, off the UI thread: on a database it is a round trip). A log that cannot be read
        (no permission, the database away) keeps what is shown until a later look."""
        try:
            sig = self.crisis_log.signature()
            if sig == self._crisis_sig:
                return None
            return sig, self.crisis_log.current()
        except StoreError:
            return None

    def apply_crisis(self, sig: object, crisis: list[CrisisEntry]) -> bool:
        """Take a read of the crisis log (UI thread); True when the crisis shown changed."""
        if sig == self._crisis_sig:
            return False
        self._crisis_sig = sig
        self.crisis = crisis
        return True

    @property
    def in_crisis(self) -> bool:
        return bool(self.crisis)

    def start_crisis(self, who: str, reason: str) -> None:
        self.crisis_log.add(self.clock(), who, "start", reason)
        self.poll_crisis()

    def log_decision(self, who: str, text: str) -> None:
        self.crisis_log.add(self.clock(), who, "decision", text)
        self.poll_crisis()

    def end_crisis(self, who: str, text: str = "") -> None:
        self.crisis_log.add(self.clock(), who, "end", text)
        self.poll_crisis()
