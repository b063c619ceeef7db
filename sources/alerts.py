"""Alerts away from the terminal, sent through Apprise (one library, a URL per service).

`Alerts` sends: `alerts.send(alert)` from any thread (the collector, a desk, a hand-off) is
all a caller needs. Each event goes out once for the data directory however many processes
run: the store's alert marks record every event id sent (and, per target, when it last sent
and what the rate limit holds back): data_dir/alerts.json under the store's write lock
(store/alert_marks.py), or the database's tables. A target takes at most `limit` alerts per
10 minutes; what is held back goes out later as one summary ("12 more, 3 urgent"). A target that fails is retried with backoff and named (never its URL)
in health.json, which every desk's header shows.

`AlertWatch` decides what to send, in the collector (so alerts go out with no desk open):
urgent mentions and experts' answers as they are stored, spikes and crisis mode, mentions in
the last quarter of their norm that no desk has open (data_dir/presence), and sources failing
for 15 minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.alert_marks import AlertMarks
from store.jsonstorage import StoreError
from webcare.alerts import (
    FAILING_FOR,
    Alert,
    AlertTarget,
    crisis_alert,
    mention_alert,
    source_alert,
    spike_alert,
    summary_alert,
)
from webcare.norms import Urgency
from webcare.untrusted import clean_line

if TYPE_CHECKING:
    from sources.health import SourceHealth
    from store import Store
    from webcare.config import Config
    from webcare.mention import Mention
    from webcare.store_port import AlertMarkBook

RETRY_BASE = 15.0  # seconds before a failing target is tried again; doubles, capped
RETRY_MAX = 600.0
GIVE_UP = timedelta(hours=2)  # an alert not delivered by then is dropped (the target stays red)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _quiet_apprise() -> None:
    """Apprise logs what it sends to, and a URL can hold a token: its log stays silent; a
    failure is said (by target name) in health.json instead."""
    log = logging.getLogger("apprise")
    log.setLevel(logging.CRITICAL + 1)
    log.propagate = False


def apprise_notify(url: str, title: str, body: str) -> str:
    """Send one alert to one Apprise URL; returns "" when delivered, else why not (never the URL)."""
    import apprise  # here: it loads its plugins (a good 100 ms), only when an alert goes out

    _quiet_apprise()
    sender = apprise.Apprise()
    if not sender.add(url):
        return "not an Apprise URL this installation knows"
    try:
        ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # a plugin's own failure: its type only (its text may hold the URL)
        return f"failed ({type(exc).__name__})"
    return "" if ok else "not delivered"


@dataclass(slots=True)
class TargetStatus:
    state: str = "ok"  # ok | failing
    failures: int = 0
    last_error: str = ""
    since: datetime | None = None  # the first failure of this run of failures

    def to_record(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "failures": self.failures,
            "last_error": self.last_error,
            "since": None if self.since is None else self.since.isoformat(timespec="seconds"),
        }


@dataclass(slots=True)
class _Retry:
    due: datetime
    target: AlertTarget
    alert: Alert
    first: datetime
    attempts: int


class Alerts:
    """Sends alerts to the configured targets. Thread-safe; nothing here raises at a caller."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[str, str, str], str] = apprise_notify,
        environ: dict[str, str] | os._Environ = os.environ,
        marks: AlertMarkBook | None = None,
    ) -> None:
        self.config = config
        self.targets = config.alerts
        self.clock = clock
        self.notify = notify
        self.environ = environ
        # Which events went out and each target's limit, shared by every process: the store's
        # (store.alert_marks), data_dir/alerts.json when no store is given.
        self.marks: AlertMarkBook = AlertMarks(Path(config.data_dir)) if marks is None else marks
        self._mutex = threading.Lock()
        self.status: dict[str, TargetStatus] = {t.name: TargetStatus() for t in self.targets}
        self._retries: list[_Retry] = []

    def __bool__(self) -> bool:
        return bool(self.targets)

    # --- the shared marks (store/alert_marks.py, or the database's) ---------------------

    def _limits(self, targets: Iterable[AlertTarget]) -> list[tuple[str, int]]:
        return [(t.name, t.limit) for t in targets]

    def _claim(self, alert: Alert, now: datetime) -> list[AlertTarget]:
        """Mark the event sent and take a place in each target's limit; the targets to deliver
        it to now ([] when another process sent it already)."""
        wanted = [t for t in self.targets if t.wants(alert.kind) and t.open_at(now, self.config.timezone)]
        names = set(self.marks.claim(alert.id, alert.kind, self._limits(wanted), now))
        return [t for t in wanted if t.name in names]

    def _take_summaries(self, now: datetime) -> list[tuple[AlertTarget, Alert]]:
        """Targets holding alerts back whose window has room again: their summary, once."""
        by_name = {t.name: t for t in self.targets}
        return [
            (by_name[name], summary_alert(name, held, now, self.config.language))
            for name, held in self.marks.take_summaries(self._limits(self.targets), now)
            if name in by_name
        ]

    # --- sending ------------------------------------------------------------------------

    def send(self, alert: Alert) -> bool:
        """Send `alert` to every target that wants it now, unless it was sent already (by this
        or any process); returns whether this call claimed it. Blocking (Apprise is): call it
        from a thread, or `await alerts.send_async(alert)`."""
        if not self.targets:
            return False
        now = self.clock()
        try:
            targets = self._claim(alert, now)
        except (OSError, StoreError):
            return False  # the data directory cannot be written: the next check tries again
        for target in targets:
            self._deliver(target, alert, now, now, 0)
        return bool(targets)

    async def send_async(self, alert: Alert) -> bool:
        return await asyncio.to_thread(self.send, alert)

    def tick(self) -> None:
        """Retries that are due, and summaries whose window has room (call it now and then)."""
        if not self.targets:
            return
        now = self.clock()
        with self._mutex:
            due = [r for r in self._retries if r.due <= now]
            self._retries = [r for r in self._retries if r.due > now]
        for r in due:
            self._deliver(r.target, r.alert, now, r.first, r.attempts)
        try:
            summaries = self._take_summaries(now)
        except (OSError, StoreError):
            return
        for target, alert in summaries:
            self._deliver(target, alert, now, now, 0)

    def _urls(self, target: AlertTarget, now: datetime) -> tuple[list[str], str]:
        """The URLs to send to now, or why there are none."""
        urls: list[str] = []
        if target.to == "oncall":
            # On call by the roster ([[oncall]]) now, whatever their office hours say.
            directory, tz = self.config.directory, self.config.timezone
            urls = [
                e.alert for e in directory.experts
                if e.alert and (span := directory.on_call_span(e, now, tz)) is not None and span[0] <= now
            ]  # fmt: skip
            if urls:
                return urls, ""
        if target.url_env:
            value = self.environ.get(target.url_env, "").strip()
            if not value:
                return [], f"{target.url_env} is not set"
            return [value], ""
        if target.url:
            return [target.url], ""
        return [], "nobody on call with an alert address"

    def _deliver(self, target: AlertTarget, alert: Alert, now: datetime, first: datetime, attempts: int) -> None:
        urls, error = self._urls(target, now)
        for url in urls:
            try:
                error = self.notify(url, alert.title, alert.body) or error
            except Exception as exc:  # a sender must never take the collector down
                error = f"failed ({type(exc).__name__})"
        # Said by its name and cleaned: an error must never carry the URL or escape codes.
        error = clean_line(error.replace(urls[0], target.name) if urls and error else error, 120)
        with self._mutex:
            status = self.status.setdefault(target.name, TargetStatus())
            if not error:
                self.status[target.name] = TargetStatus()
                return
            status.state, status.failures, status.last_error = "failing", status.failures + 1, error
            status.since = status.since or now
            if now - first < GIVE_UP:
                delay = min(RETRY_MAX, RETRY_BASE * 2 ** min(attempts, 10))
                self._retries.append(_Retry(now + timedelta(seconds=delay), target, alert, first, attempts + 1))

    def health(self) -> dict[str, Any]:
        """Each target's state by name, for health.json and the header: never a URL."""
        with self._mutex:
            return {name: s.to_record() for name, s in self.status.items()}

    @property
    def pending(self) -> int:
        with self._mutex:
            return len(self._retries)


class AlertWatch:
    """The collector's side: what happened that a target may want, turned into alerts.

    The poller tells it what it stored (`stored`) and which answers came in (`answered`);
    `check` looks at what changes with time (overdue, spikes, crisis mode, failing sources).
    `spikes` is given by the composition root (the trend book the desk uses too)."""

    CHECK_EVERY = 30.0  # seconds between the checks of what changes with time
    WAKE_EVERY = 5.0  # seconds at most before an alert that came in goes out
    SEED_SEGMENTS = 3  # the newest segments read at start for mentions that may become overdue

    def __init__(
        self,
        config: Config,
        store: Store,
        alerts: Alerts,
        *,
        clock: Callable[[], datetime] = utcnow,
        monitor: Any = None,  # tui.monitoring.Monitor-like: add(mentions), check() → spikes, crisis
    ) -> None:
        self.config = config
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.monitor = monitor
        self._pending: list[Alert] = []
        self._answers: list[str] = []
        # Owed mentions with a norm: id → (deadline, norm) in seconds. Only those in the last
        # quarter of their own norm are read from the store (their status may have moved on).
        self._due: dict[str, tuple[float, int]] = {}
        self._failing: dict[str, datetime] = {}  # source → since when it fails
        self._crisis_seen: str | None = None
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seeded = False
        self._shared = False  # the monitor is a desk's, kept up to date by that desk
        self._told: set[str] = set()  # spike alerts this process has sent (a shared monitor's spikes last)
        self.on_status: Callable[[], Any] | None = None  # a target's state changed (health.json)

    # --- told by the poller -----------------------------------------------------------

    def stored(self, mentions: Iterable[Mention]) -> None:
        mentions = list(mentions)
        now = self.clock()
        with self._lock:
            for m in mentions:
                if m.priority == "urgent" and m.owed:
                    self._pending.append(mention_alert("urgent", m, now, self.config.language))
                if m.deadline is not None and m.norm_s and m.owed:
                    self._due[m.id] = (m.deadline.timestamp(), m.norm_s)
        if self.monitor is not None and not self._shared:
            self.monitor.add(mentions)
        self._nudge()

    def share_monitor(self, monitor: Any) -> None:
        """A desk that collects gives its own monitor: one trend book in the process, not two.
        The desk feeds it and recomputes its spikes; the alerts only read them."""
        self.monitor, self._shared = monitor, True

    def answered(self, mention_id: str) -> None:
        """An expert's answer was taken (from any thread)."""
        with self._lock:
            self._answers.append(mention_id)
        self._nudge()

    def _nudge(self) -> None:
        if self._wake is None or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop is closed: the collector is stopping
            pass

    # --- looking --------------------------------------------------------------------------

    def seed(self) -> None:
        """Owed mentions with a deadline from the newest segments: those may still become
        overdue (older ones are far past any norm)."""
        if self._seeded:
            return
        self._seeded = True
        now_s = self.clock().timestamp()
        for seg in self.store.segments()[-self.SEED_SEGMENTS :]:
            for r in self.store.content_records(seg):
                deadline, norm = r.get("deadline"), r.get("norm_s")
                if not deadline or not isinstance(norm, int) or not norm:
                    continue
                try:
                    at = datetime.fromisoformat(deadline).timestamp()
                except (TypeError, ValueError):
                    continue
                if at > now_s:
                    self._due[r["id"]] = (at, norm)

    def take(self) -> list[Alert]:
        """The alerts of what was stored and answered since the last call."""
        with self._lock:
            pending, self._pending = self._pending, []
            answers, self._answers = self._answers, []
        now = self.clock()
        for mention_id in answers:
            m = self.store.get(mention_id)
            if m is not None:
                pending.append(mention_alert("answer", m, now, self.config.language))
        return pending

    def check(self, health: dict[str, SourceHealth] | None = None) -> list[Alert]:
        """What changes with time: overdue, spikes and crisis mode, failing sources."""
        now = self.clock()
        out = self._overdue(now)
        out += self._spikes(now)
        out += self._sources(health or {}, now)
        return out

    def _overdue(self, now: datetime) -> list[Alert]:

        now_s = now.timestamp()
        with self._lock:
            due = list(self._due.items())
        soon: list[Mention] = []
        for mention_id, (deadline_s, norm_s) in due:
            if deadline_s <= now_s:
                self._forget(mention_id)
                continue
            if deadline_s - now_s > norm_s / 4:
                continue  # not in its last quarter yet: not read
            m = self.store.get(mention_id)
            if m is None:
                continue
            if not m.owed or m.deadline is None:
                self._forget(mention_id)
            elif m.urgency(now) == Urgency.DUE_SOON:
                soon.append(m)
        if not soon:
            return []
        desks = self.store.presence("collector").others(now)
        open_ids = {d.viewing for d in desks} | {d.claim for d in desks}
        out = []
        for m in soon:
            if m.id in open_ids:
                continue  # someone has it in front of them: no alert (yet)
            out.append(mention_alert("overdue", m, now, self.config.language))
            self._forget(m.id)
        return out

    def _forget(self, mention_id: str) -> None:
        with self._lock:
            self._due.pop(mention_id, None)

    def _spikes(self, now: datetime) -> list[Alert]:
        if self.monitor is None:
            return []
        out = []
        lang, tz = self.config.language, self.config.timezone
        spikes = list(self.monitor.spikes) if self._shared else self.monitor.check()
        for spike in spikes:
            alert = spike_alert(str(spike.subject), spike.what, spike.text(lang), now, tz, lang)
            if alert.id not in self._told:
                self._told.add(alert.id)
                out.append(alert)
        if not self._shared:
            self.monitor.poll_crisis()
        crisis = self.monitor.crisis
        if crisis:
            start = crisis[0]
            key = start.at.isoformat()
            if key != self._crisis_seen:
                self._crisis_seen = key
                out.append(crisis_alert(start.at, start.who, start.text, tz, lang))
        return out

    def _sources(self, health: dict[str, SourceHealth], now: datetime) -> list[Alert]:
        out = []
        for name, h in health.items():
            if h.state != "failing":
                self._failing.pop(name, None)
                continue
            since = self._failing.setdefault(name, h.last_attempt or now)
            if now - since >= FAILING_FOR:
                out.append(source_alert(name, since, h.last_error, self.config.timezone, self.config.language))
        return out

    # --- running --------------------------------------------------------------------------

    def run_once(self, health: dict[str, SourceHealth] | None = None) -> int:
        """Seed, take, check, send and retry once (blocking); returns how many were claimed."""
        self.seed()
        sent = sum(self.alerts.send(a) for a in [*self.take(), *self.check(health)])
        self.alerts.tick()
        return sent

    async def run(self, health: dict[str, SourceHealth] | None = None) -> None:
        """Forever (until cancelled): what comes in goes out within WAKE_EVERY seconds, what
        changes with time is looked at every CHECK_EVERY seconds."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await asyncio.to_thread(self.seed)
        if self.monitor is not None and not self._shared:
            await asyncio.to_thread(self.monitor.build)
        last_check = 0.0
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.WAKE_EVERY)
            except TimeoutError:
                pass
            self._wake.clear()
            loop_now = self._loop.time()
            checking = loop_now - last_check >= self.CHECK_EVERY
            if checking:
                last_check = loop_now
            try:
                await asyncio.to_thread(self._step, health if checking else None, checking)
            except asyncio.CancelledError:
                raise
            except Exception:  # an alert must never stop the collector; the next round tries again
                pass

    def _step(self, health: dict[str, SourceHealth] | None, checking: bool) -> None:
        before = self.alerts.health()
        alerts = self.take()
        if checking:
            alerts += self.check(health)
        for alert in alerts:
            self.alerts.send(alert)
        self.alerts.tick()
        if self.alerts.health() != before and self.on_status is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.on_status)  # the header shows it within a second
