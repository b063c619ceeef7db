"""Keeping the desk in step with its data directory: collecting in-process when no `webcare
collect` holds the collector lease, reading what other processes wrote (mentions, their states,
presence, drafts, damaged files), and the alert when the collector's heartbeat stops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store import StoreChanges
from store.quarantine import damaged
from tui import damage as D
from tui.messages import CrisisChanged, HeaderChanged, MentionsChanged, MentionsRewritten
from webcare.drafts import finished
from webcare.history import is_expert_answer_by_mail
from webcare.i18n import word
from webcare.mention import Mention, Status
from webcare.store_port import CrisisEntry, LiveStore
from webcare.untrusted import first_line

if TYPE_CHECKING:
    from tui.app import WebcareApp

LEASE_RETRY = 15.0  # seconds: an attached desk takes over collecting when the collector stops


class Collection:
    def __init__(self, app: WebcareApp, make_poller: Callable[[Callable[[int], Any]], Any] | None) -> None:
        self.app = app
        self.make_poller = make_poller  # None: never collect (attach only)
        self.collecting = False
        self.health: dict[str, Any] = app.store.read_health()
        self.damage: list[str] = []  # quarantined files: the header names them (apply_damage)
        self._read_lock = threading.Lock()  # one read of the store's changes at a time (poll)
        self._read_waiting = False  # a read is started and has not begun reading yet
        self._stop_following: threading.Event | None = None  # set: the live follow ends
        self._stopped_told: str | None = None  # the heartbeat whose stop this desk sent an alert for

    # --- collecting -------------------------------------------------------------------

    def take_lease(self) -> None:
        """Collect here unless another process already does; else try again later."""
        if self.make_poller is not None and self.app.store.try_collector_lease():
            self.collecting = True
            self.app.run_worker(self._run_poller(), exclusive=True, group="poller", exit_on_error=False)
        elif self.make_poller is not None:
            self.app.set_timer(LEASE_RETRY, self.take_lease)

    async def _run_poller(self) -> None:
        # Made in a thread: it imports the poller and the intake's word lists, and an import in
        # the UI thread while another thread computes (the trend book) waits for the GIL at
        # every file it opens — seconds in which no key is answered.
        assert self.make_poller is not None
        poller = await asyncio.to_thread(self.make_poller, lambda _count: self.poll())
        alerts = poller.alerts  # [[alerts]]: the spikes this desk sees, or None
        if alerts is not None:
            alerts.share_monitor(self.app.monitor)
        await poller.run()

    def release(self) -> None:
        self.app.store.release_collector_lease()

    # --- reading the store ------------------------------------------------------------

    def poll(self) -> None:
        # Reads one at a time, in order, and at most one waiting behind the running one: a read
        # that has not started yet will see this change too. (An exclusive worker cancelled the
        # running read instead, after store.changes() had handed it the new mentions: a burst
        # of sources storing at once lost some from the stream until the desk restarted.)
        if not self._read_waiting:
            self._read_waiting = True
            self.app.run_worker(self._read_changes, thread=True, group="store", exit_on_error=False)

    def follows_live(self) -> bool:
        """Whether the store tells the desk when another process wrote (the database's NOTIFY):
        then the desk looks when told, and the 1-second poll is not needed."""
        return isinstance(self.app.store, LiveStore)

    def follow(self) -> None:
        """Look at the store whenever it says another process wrote (within a second), and at
        least every FALLBACK seconds; say when the database is away and when it is back."""
        from store.follow import follow

        app = self.app
        store = app.store
        if not isinstance(store, LiveStore):  # files: the 1-second poll reads them
            return
        stop = threading.Event()
        self._stop_following = stop
        away: list[str] = []

        def on_error(message: str) -> None:
            if not away:  # once per outage, not once per try
                away.append(message)
                app.call_from_thread(app.notify, f"{word('database_away', app.config.language)}: {first_line(message)}",
                                     severity="error", markup=False)  # fmt: skip

        def on_reconnect() -> None:
            if away:
                away.clear()
                app.call_from_thread(app.notify, word("database_back", app.config.language), markup=False)

        app.run_worker(
            lambda: follow(store, lambda: app.call_from_thread(self.poll), stop, on_error=on_error,
                           on_reconnect=on_reconnect),
            thread=True, group="follow", exit_on_error=False,
        )  # fmt: skip

    def stop_following(self) -> None:
        if self._stop_following is not None:
            self._stop_following.set()

    def _read_changes(self) -> None:
        from textual.worker import get_current_worker

        app = self.app
        # Held until the changes are applied: what store.changes() hands over is gone from the
        # store's side, so a later read must not overtake this one (an older state would win).
        with self._read_lock:
            self._read_waiting = False  # from here on, a new change needs a read of its own
            # Rewritten mentions (retention, an erasure) replace those the queue has fetched.
            changes = app.store.changes()
            others = app.presence.read_others()
            drafts = app.drafts.book.all()  # one stat while no desk saved a draft
            damage = damaged(app.config.data_dir)
            crisis = app.monitor.read_crisis()  # another desk started or ended crisis mode
            if get_current_worker().is_cancelled:  # only when the desk closes
                return
            if changes:
                app.call_from_thread(self.apply_changes, changes)
            if others != app.presence.others:
                app.call_from_thread(app.presence.apply, others)
            if drafts != app.drafts.stored:
                app.call_from_thread(app.drafts.apply, drafts)
            if damage != self.damage:
                app.call_from_thread(self.apply_damage, damage)
            if crisis is not None:
                app.call_from_thread(self._apply_crisis, *crisis)

    def _apply_crisis(self, sig: object, crisis: list[CrisisEntry]) -> None:
        if self.app.monitor.apply_crisis(sig, crisis):
            self.app.tell(CrisisChanged)

    def apply_damage(self, damage: list[str]) -> None:
        """A file was found damaged (here or by another process) or was restored: say so once,
        and keep it in every header until it is dealt with."""
        fresh = [f for f in damage if f not in self.damage]
        self.damage = damage
        if fresh:
            self.app.notify(D.damage_line(fresh, self.app.config.language, shown=4), severity="error", markup=False, timeout=30)
        self.app.tell(HeaderChanged)

    def apply_changes(self, changes: StoreChanges) -> None:
        """Merge what the store reported into the queue and tell the screen on top."""
        app = self.app
        added = app.queue.extend(changes.new)
        if changes.rewritten:  # retention or an erasure: their text is gone from the store
            app.queue.refresh(changes.rewritten)
            for m in changes.rewritten:
                if not m.author and not m.text:  # anonymised: an unsent reply to them goes too,
                    app.drafts.drop(m.id)  # here and in the store (a save may be on its way)
        self._ring_for_urgent(added)
        if added:
            app.monitor.add(added)
            app.check_spikes()
        for mention_id, state in changes.states.items():
            changed = app.queue.update(mention_id, lambda m, s=state: m.apply_state(s))
            if finished(state.get("status", Status.NEW)):
                # Someone else answered or closed it: a draft saved here meanwhile goes too.
                app.drafts.drop(mention_id)
            last = (state.get("history") or [{}])[-1]
            if changed is not None and is_expert_answer_by_mail(last):
                # The collector read the expert's reply to the hand-off: the reply can go out.
                said = f"{last.get('who', '?')} → {changed.author}: {first_line(changed.expert_answer, 120)}"
                app.notify(said, title=word("expert_answered_mail", app.config.language), markup=False, timeout=20)
        if changes.health is not None:
            self.health = changes.health
        self.tell_if_collector_stopped()
        if changes.rewritten:
            app.tell(MentionsRewritten)  # the detail pane shows a mention until it is moved off
        # Only the screen on top repaints now; the others do when they are shown again.
        if changes.new or changes.states or changes.rewritten:
            app.screen.post_message(MentionsChanged())
        else:
            app.screen.post_message(HeaderChanged())

    def _ring_for_urgent(self, added: list[Mention]) -> None:
        """An urgent rule matched a new mention: ring the terminal bell and say what came in."""
        urgent = [m for m in added if m.priority == "urgent" and m.owed]
        if not urgent:
            return
        self.app.bell()
        lang = self.app.config.language
        for m in urgent[:3]:
            rules = ", ".join(m.rules)
            said = f"{word('urgent_arrived', lang)} ({rules}): {m.author}: {first_line(m.text, 120)}"
            self.app.notify(said, severity="error", markup=False, timeout=20)

    # --- the collector's heartbeat -------------------------------------------------------

    def tell_if_collector_stopped(self) -> None:
        """The collector's heartbeat stopped and this desk does not collect: the collector
        cannot say so itself, so this desk sends the `collector` alert (once for the data
        directory, however many desks notice: see sources/alerts.py)."""
        config = self.app.config
        if not config.alerts or self.collecting:
            return
        from tui.widgets.desk_header import COLLECTOR_STALE
        from webcare.mention import from_iso

        collector = self.health.get("collector") or {}
        beat = from_iso(collector.get("heartbeat_at")) if isinstance(collector, dict) else None
        if beat is None or self.app.clock() - beat <= COLLECTOR_STALE or self._stopped_told == collector.get("heartbeat_at"):
            return
        self._stopped_told = collector.get("heartbeat_at")
        self.app.run_worker(lambda: self._send_stopped_alert(beat), thread=True, group="alerts", exit_on_error=False)

    def _send_stopped_alert(self, beat: datetime) -> None:
        from sources.alerts import Alerts
        from webcare.alerts import stopped_alert

        cfg = self.app.config
        Alerts(cfg, clock=self.app.clock, marks=self.app.store.alert_marks).send(stopped_alert(beat, cfg.timezone, cfg.language))
