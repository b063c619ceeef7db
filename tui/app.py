"""The webcare desk: the Textual app. It owns the queue the screens show, keeps it in step with
the store, and collects in-process when no `webcare collect` runs for its data directory."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from store import Store, StoreChanges
from store.drafts import DraftBook
from store.plan import PlanStore
from store.presence import HEARTBEAT, Desk, Presence
from store.quarantine import damaged
from store.store import StoreError
from tui import damage as D
from tui.keys import keymap, localize
from tui.monitoring import Monitor
from tui.screens.stream import StreamScreen
from webcare import triage
from webcare.config import Config
from webcare.drafts import Draft, finished
from webcare.history import Event, describe, is_expert_answer_by_mail, leaf_actions
from webcare.i18n import ALERT_WORDS, word
from webcare.mention import Mention, StateChange, Status
from webcare.queue import MentionQueue
from webcare.routing import (
    Expert,
    Unit,
    feedback_message,
    handoff_message,
    routed_due,
)
from webcare.untrusted import first_line

PRESENCE_SETTLE = 0.3  # seconds after the cursor moved before the other desks are told
INPUT_QUIET = 0.5  # seconds without a key before background work goes on
STORE_POLL = 1.0  # seconds: another process's writes show within this (plus a repaint)
LEASE_RETRY = 15.0  # seconds: an attached desk takes over collecting when the collector stops


def utcnow() -> datetime:
    return datetime.now(UTC)


def _load_queue(store: Store) -> MentionQueue:
    """Every stored mention, in the queue's order. The mentions live as long as the desk, so
    they are frozen out of the cyclic garbage collector's sight: with 100,000 of them each full
    collection would walk them all (150 ms, a key press that stutters) and finds nothing, since
    mentions hold no reference cycles. Plain reference counting still frees what is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()  # no collections while building what is about to be frozen anyway
    try:
        # Start from the store's rows: each mention's place in the queue, not the mention
        # itself; the queue fetches the mentions by id when they are first shown.
        return MentionQueue(rows=store.rows(), fetch=store.mentions)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class WebcareApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "webcare"
    BINDINGS = [
        Binding("q", "quit", "quit", id="app.quit"),
        Binding("u", "undo", "undo", id="app.undo"),
        Binding("c", "calendar", "calendar", id="app.calendar"),
        Binding("w", "trends", "trends", id="app.trends"),
        Binding("K", "crisis", "crisis", id="app.crisis"),
        Binding("R", "dashboard", "dashboard", id="app.dashboard"),
        Binding("o", "handover", "handover", id="app.handover"),
        Binding("question_mark", "help", "help", id="app.help"),
        Binding("colon", "goto", "go to id", show=False, id="app.goto"),
    ]

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        make_poller: Callable[[Callable[[int], Any]], Any] | None = None,
        clock: Callable[[], datetime] = utcnow,
        senders: dict[str, Callable[[Mention, str], Awaitable[str]]] | None = None,
        moderators: dict[str, Any] | None = None,
        open_id: str | None = None,
    ) -> None:
        super().__init__()
        localize(self, config.language)
        self.config = config
        self.store = store
        self.clock = clock
        self.make_poller = make_poller  # None: never collect (attach only)
        # Sources that can post a reply themselves, by source name: an async callable taking the
        # mention and the text and returning the reply's id or link on the platform.
        self.senders = senders or {}
        # Sources that can moderate on their platform, by source name: sources.moderation's
        # Moderator (its actions, what undoes each, and an async call that carries one out).
        self.moderators = moderators or {}
        self.open_id = open_id  # `webcare --open ID`: the mention an alert named, opened at start
        self._stopped_told: str | None = None  # the heartbeat whose stop this desk sent an alert for
        self.queue = _load_queue(store)  # a damaged segment is quarantined here, not fatal
        self.health: dict[str, Any] = store.read_health()
        self._read_lock = threading.Lock()  # one read of the store's changes at a time (poll_store)
        self._read_waiting = False  # a read is started and has not begun reading yet
        self.damage: list[str] = []  # quarantined files: the header names them (apply_damage)
        self.collecting = False
        self.undo_stack: list[
            tuple[str, int]
        ] = []  # (mention id, history index) of this operator's actions
        self.drafts: dict[str, str] = {}  # unsent replies written on this desk, by mention id
        # Every draft is also kept in data_dir/drafts.json (store/drafts.py), written by a
        # thread worker: a dropped connection loses nothing, and colleagues see the draft.
        self.draft_book = DraftBook(config.data_dir)
        self.drafted_at: dict[str, datetime] = {}  # when this desk last kept each of its drafts
        self.stored_drafts: dict[str, Draft] = self.draft_book.all()  # as on disk, refreshed
        self._draft_pending: dict[str, Draft | None] = {}  # to write: a draft, or None: remove
        self._draft_pending_lock = threading.Lock()
        self._draft_write_lock = threading.Lock()  # one writer at a time, so writes keep order
        self._draft_failing = False  # said once until a write succeeds again
        self.templates = config.templates  # read and checked once, with the config
        self.directory = config.directory
        self.plan = PlanStore(config.data_dir)
        self._plan_cache: list | None = None
        self.monitor = Monitor(config, store, clock)  # trends, spikes and crisis mode
        self.last_input = 0.0  # time.monotonic() of the last key: background work yields to it
        # Several operators: what this desk shows and claims, and what the others do.
        self.presence = Presence(config.data_dir, config.operator)
        self.viewing: str | None = None
        self.claim: tuple[str, datetime] | None = None  # (mention id, since): "replying"
        self.others: list[Desk] = []
        self._presence_timer = None  # a pending publish after the cursor moved
        self.presence_by_mention: dict[str, str] = {}  # mention id → "An ✎" for its row
        self.max_norm = max(
            (n.allowed for n in config.norms.values() if n.allowed), default=timedelta(hours=8)
        )

    def on_mount(self) -> None:
        if self.config.keys:  # checked by the command line before the desk starts (tui/keys.py)
            self.set_keymap(keymap(self.config.keys))
        self.push_screen(StreamScreen())
        # `webcare` (cli.cmd_desk) holds the cyclic garbage collector off until the stream is
        # on screen; from then on it runs as usual (a no-op when it was on anyway).
        self.call_after_refresh(gc.enable)
        # After the first paint has read the plan and the crisis log too: whatever was found
        # damaged at start is named at once, not a poll later.
        self.call_after_refresh(lambda: self.apply_damage(damaged(self.config.data_dir)))
        # Start collecting once the stream is on screen: setting up the HTTP client (imports,
        # TLS context) takes a good 100 ms that the first frame need not wait for.
        self.call_after_refresh(self._take_lease)
        self.set_interval(STORE_POLL, self.poll_store)
        self._schedule_tick()
        self.call_after_refresh(self._build_trends)
        self.set_interval(HEARTBEAT, self.publish_presence)
        if self.open_id:
            self.call_after_refresh(self.go_to, self.open_id)

    @work(thread=True, exclusive=True, group="trends", exit_on_error=False)
    def _build_trends(self) -> None:
        self.monitor.build(pause=self._while_typing)
        self.call_from_thread(self.check_spikes)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def _while_typing(self) -> None:
        """Called by a background thread between chunks of work: wait while the operator is
        pressing keys, so the work never makes a key press wait for the GIL."""
        while time.monotonic() - self.last_input < INPUT_QUIET:
            time.sleep(0.05)

    def check_spikes(self) -> None:
        """Spikes raise the banner (every desk) and a notice (once per spike)."""
        lang = self.config.language
        for spike in self.monitor.check()[:2]:
            self.notify(spike.text(lang), severity="error", title=word("possible_crisis", lang), markup=False, timeout=30)
        self.update_headers()

    def update_headers(self) -> None:
        for screen in self.screen_stack:
            if hasattr(screen, "update_header"):
                screen.update_header()

    # --- collecting -------------------------------------------------------------------

    def _take_lease(self) -> None:
        """Collect here unless another process already does; else try again later."""
        if self.make_poller is not None and self.store.try_collector_lease():
            self.collecting = True
            self._run_poller()
        elif self.make_poller is not None:
            self.set_timer(LEASE_RETRY, self._take_lease)

    @work(exclusive=True, group="poller", exit_on_error=False)
    async def _run_poller(self) -> None:
        # Made in a thread: it imports the poller and the intake's word lists, and an import in
        # the UI thread while another thread computes (the trend book) waits for the GIL at
        # every file it opens — seconds in which no key is answered.
        poller = await asyncio.to_thread(self.make_poller, lambda _count: self.poll_store())
        if getattr(poller, "alerts", None) is not None:  # [[alerts]]: the spikes this desk sees
            poller.alerts.share_monitor(self.monitor)
        await poller.run()

    # --- the store --------------------------------------------------------------------

    def poll_store(self) -> None:
        # Reads one at a time, in order, and at most one waiting behind the running one: a read
        # that has not started yet will see this change too. (An exclusive worker cancelled the
        # running read instead, after store.changes() had handed it the new mentions: a burst
        # of sources storing at once lost some from the stream until the desk restarted.)
        if not self._read_waiting:
            self._read_waiting = True
            self._read_changes()
        if self.monitor.poll_crisis():  # another desk started or ended crisis mode
            self.crisis_changed()

    def crisis_changed(self) -> None:
        self.update_headers()
        for screen in self.screen_stack:
            if hasattr(screen, "crisis_changed"):
                screen.crisis_changed()

    @work(thread=True, group="store", exit_on_error=False)
    def _read_changes(self) -> None:
        # Held until the changes are applied: what store.changes() hands over is gone from the
        # store's side, so a later read must not overtake this one (an older state would win).
        with self._read_lock:
            self._read_waiting = False  # from here on, a new change needs a read of its own
            # Rewritten mentions (retention, an erasure) replace those the queue has fetched.
            changes = self.store.changes()
            others = self.presence.others(self.clock())
            drafts = self.draft_book.all()  # one stat while no desk saved a draft
            damage = damaged(self.config.data_dir)
            if get_current_worker().is_cancelled:  # only when the desk closes
                return
            if changes:
                self.call_from_thread(self.apply_changes, changes)
            if others != self.others:
                self.call_from_thread(self.apply_presence, others)
            if drafts != self.stored_drafts:
                self.call_from_thread(self.apply_drafts, drafts)
            if damage != self.damage:
                self.call_from_thread(self.apply_damage, damage)

    def apply_damage(self, damage: list[str]) -> None:
        """A file was found damaged (here or by another process) or was restored: say so once,
        and keep it in every header until it is dealt with."""
        fresh = [f for f in damage if f not in self.damage]
        self.damage = damage
        if fresh:
            self.notify(D.damage_line(fresh, self.config.language, shown=4), severity="error", markup=False, timeout=30)
        self.update_headers()

    def not_saved(self, what: str, exc: BaseException) -> None:
        """A write failed: say what was not saved and why. What was saved before stays as it
        was (every write replaces its file whole, or appends a whole line)."""
        self.notify(D.not_saved(what, exc, self.config.language), severity="error", markup=False, timeout=30)

    def saved(self, what: str, write: Callable[[], object]) -> bool:
        """Do one write (a plan change, a crisis-log line); False, having said what was not
        saved (`what`: a key of tui/damage.py's words) and why, when it failed: a full disk,
        the lock. What is on disk stays as it was: files are replaced whole, lines appended
        whole."""
        try:
            write()
        except StoreError as exc:
            self.not_saved(D.w(what, self.config.language), exc)
            return False
        return True

    # --- several operators ------------------------------------------------------------

    def viewing_changed(self, m: Mention | None) -> None:
        """The cursor moved: tell the other desks, once it rests a moment (holding `j` down
        writes one presence file, not thirty a second), in a thread: a key press never waits."""
        self.viewing = m.id if m is not None else None
        if self._presence_timer is None:
            self._presence_timer = self.set_timer(PRESENCE_SETTLE, self._publish_settled)

    def _publish_settled(self) -> None:
        self._presence_timer = None
        self.publish_presence()

    @work(thread=True, exclusive=True, group="presence", exit_on_error=False)
    def publish_presence(self) -> None:
        claim = self.claim
        try:
            self.presence.publish(self.clock(), self.viewing, claim[0] if claim else None, claim[1] if claim else None)
        except OSError:
            pass  # a full disk shows in the store's writes; presence is best effort

    def apply_presence(self, others: list[Desk]) -> None:
        """Other desks moved, claimed or left: mark their mentions, and say when a claim of
        ours was taken over."""
        self.others = others
        marks: dict[str, list[str]] = {}
        for d in others:
            if d.claim:
                marks.setdefault(d.claim, []).append(f"{d.operator} ✎")
            if d.viewing and d.viewing != d.claim:
                marks.setdefault(d.viewing, []).append(d.operator)
        self.presence_by_mention = {k: ", ".join(dict.fromkeys(v)) for k, v in marks.items()}
        if self.claim is not None:
            mine, since = self.claim
            taker = next((d for d in others if d.claim == mine and d.claim_since and d.claim_since > since), None)
            if taker is not None:
                self.claim = None
                self.notify(word("claim_taken", self.config.language).format(who=taker.operator), severity="warning", markup=False, timeout=15)
        for screen in self.screen_stack:
            if hasattr(screen, "presence_changed"):
                screen.presence_changed()

    def others_on(self, mention_id: str) -> list[Desk]:
        return [d for d in self.others if mention_id in (d.viewing, d.claim)]

    def apply_changes(self, changes: StoreChanges) -> None:
        """Merge what the store reported into the queue and repaint what shows it."""
        added = self.queue.extend(changes.new)
        if changes.rewritten:  # retention or an erasure: their text is gone from the store
            self.queue.refresh(changes.rewritten)
            for m in changes.rewritten:
                if not m.author and not m.text:  # anonymised: an unsent reply to them goes too,
                    self.drop_draft(m.id)  # here and in the store (a save may be on its way)
        self._ring_for_urgent(added)
        if added:
            self.monitor.add(added)
            self.check_spikes()
        for mention_id, state in changes.states.items():
            m = self.queue.update(mention_id, lambda m, s=state: m.apply_state(s))
            if finished(state.get("status", Status.NEW)):
                # Someone else answered or closed it: a draft saved here meanwhile goes too.
                self.drop_draft(mention_id)
            last = (state.get("history") or [{}])[-1]
            if m is not None and is_expert_answer_by_mail(last):
                # The collector read the expert's reply to the hand-off: the reply can go out.
                said = f"{last.get('who', '?')} → {m.author}: {first_line(m.expert_answer, 120)}"
                self.notify(said, title=word("expert_answered_mail", self.config.language), markup=False, timeout=20)
        if changes.health is not None:
            self.health = changes.health
        self._tell_if_collector_stopped()
        screen = self.screen
        if changes.rewritten:
            for s in self.screen_stack:  # the detail pane shows a mention until it is moved off
                if hasattr(s, "mentions_rewritten"):
                    s.mentions_rewritten()
        if isinstance(screen, StreamScreen):
            if changes.new or changes.states or changes.rewritten:
                screen.mentions_changed()
            else:
                screen.update_header()
        elif (changes.new or changes.states or changes.rewritten) and hasattr(screen, "mentions_changed"):
            screen.mentions_changed()  # e.g. the crisis screen: another desk answered one

    def _tell_if_collector_stopped(self) -> None:
        """The collector's heartbeat stopped and this desk does not collect: the collector
        cannot say so itself, so this desk sends the `collector` alert (once for the data
        directory, however many desks notice: see sources/alerts.py)."""
        if not self.config.alerts or self.collecting:
            return
        from tui.widgets.desk_header import COLLECTOR_STALE
        from webcare.mention import from_iso

        collector = self.health.get("collector") or {}
        beat = from_iso(collector.get("heartbeat_at")) if isinstance(collector, dict) else None
        if beat is None or self.clock() - beat <= COLLECTOR_STALE or self._stopped_told == collector.get("heartbeat_at"):
            return
        self._stopped_told = collector.get("heartbeat_at")
        self._send_stopped_alert(beat)

    @work(thread=True, group="alerts", exit_on_error=False)
    def _send_stopped_alert(self, beat: datetime) -> None:
        from sources.alerts import Alerts
        from webcare.alerts import stopped_alert

        cfg = self.config
        Alerts(cfg, clock=self.clock).send(stopped_alert(beat, cfg.timezone, cfg.language))

    # --- go to an id ----------------------------------------------------------------------

    def action_goto(self) -> None:
        """`:`: a small prompt for the short id an alert named."""
        from tui.screens.prompt import PromptScreen

        lang = self.config.language

        def answered(text: str | None) -> None:
            if text and text.strip():
                self.go_to(text.strip())

        self.push_screen(PromptScreen(word("goto", lang, ALERT_WORDS)), answered)

    def go_to(self, short: str) -> bool:
        """Select and open the mention whose id starts with `short` (an alert's short id)."""
        lang = self.config.language
        found = self.queue.find(short.strip().lower())
        if found is None:
            self.notify(f"{word('goto_unknown', lang, ALERT_WORDS)}: {short[:40]}", severity="warning", markup=False)
            return False
        while not isinstance(self.screen, StreamScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        screen = self.screen
        if not isinstance(screen, StreamScreen):
            return False
        return screen.go_to(found)

    def _ring_for_urgent(self, added: list[Mention]) -> None:
        """An urgent rule matched a new mention: ring the terminal bell and say what came in."""
        urgent = [m for m in added if m.priority == "urgent" and m.owed]
        if not urgent:
            return
        self.bell()
        lang = self.config.language
        for m in urgent[:3]:
            rules = ", ".join(m.rules)
            self.notify(f"{word('urgent_arrived', lang)} ({rules}): {m.author}: {first_line(m.text, 120)}", severity="error", markup=False, timeout=20)

    # --- the operator's actions -------------------------------------------------------

    def act(self, m: Mention, change: StateChange, undoable: bool = True) -> bool:
        """Record an operator's action: in the store (the truth, shared with other desks), then
        in the queue and on screen. A store that cannot be written is said, never hidden."""
        lang = self.config.language
        try:
            state = self.store.change(change, self.config.operator, at=self.clock())
        except (StoreError, OSError) as exc:
            self.not_saved(f"{self.describe(change.event.entry())} ({first_line(m.author, 40)})", exc)
            return False
        except KeyError as exc:  # gone from the store (another desk's erasure)
            self.notify(f"{word('store_error', lang)}: {exc}", severity="error", markup=False)
            return False
        if state is None:
            return False
        self.queue.update(m.id, lambda x: x.apply_state(state))
        if finished(state.get("status", Status.NEW)):  # sent, done, closed: no draft any more
            self.drop_draft(m.id)
        if undoable:
            self.undo_stack.append((m.id, len(state["history"]) - 1))
        self.refresh_stream()
        return True

    def describe(self, entry: dict) -> str:
        """A history entry in the desk's language (a scheme leaf's action from this scheme)."""
        lang = self.config.language
        return describe(entry, lang, leaf_actions(self.config.scheme.leaves, lang), self.config.timezone)

    def action_undo(self) -> None:
        """Undo this operator's last action (of this session), unless someone changed it since."""
        lang = self.config.language
        while self.undo_stack:
            mention_id, index = self.undo_stack.pop()
            m = self.queue.get(mention_id)
            if m is None or index >= len(m.history):
                continue
            done = (m.history[index].get("changes") or {}).get("moderation")
            if isinstance(done, dict) and done.get("action"):
                self._undo_moderation(m, index, done)  # on the platform first, then recorded
                return
            if self.act(m, triage.undo(m, index), undoable=False):
                self.notify(f"{word('undone', lang)}: {self.describe(m.history[index])}", markup=False)
            else:
                self.notify(word("undo_conflict", lang), severity="warning", markup=False)
            return
        self.notify(word("nothing_to_undo", lang), markup=False)

    # --- moderation on the platform (README: Moderation on the platform) -------------------

    def offer_moderation(self, m: Mention) -> None:
        """The scheme said "moderate" (L3): offer the platform's own action where the mention's
        source has one, after a confirmation; else say where the platform takes a report."""
        moderator = self.moderators.get(m.source)
        if moderator is None or not moderator.offered:
            self._report_hint(m)
            return
        from tui.screens.moderate import ModerateScreen

        def chosen(action: str | None) -> None:
            if action:
                self.moderate(m, moderator, action)

        screen = ModerateScreen(m, m.source, moderator.offered, self.config.language, self.config.timezone)
        self.push_screen(screen, chosen)

    def _report_hint(self, m: Mention) -> None:
        from webcare.moderation import report_hint

        lang = self.config.language
        self.keep_evidence(m)  # the case is the same: reported on the platform instead
        form, how = report_hint(m.channel, lang)
        said = word("moderate_none", lang).format(channel=m.channel, how=how)
        link = form or m.url
        if link:
            self.copy_to_clipboard(link)
            said += f": {link} ({word('moderate_copied', lang)})"
        self.notify(said, severity="warning", markup=False, timeout=30)

    def keep_evidence(self, m: Mention) -> bool:
        """Keep what the desk shows of `m` (text, author, link, times, who) on the mention,
        before anything is done on the platform. False, having said so, when it cannot be kept."""
        from webcare.moderation import evidence

        kept = evidence(m, self.config.operator, self.clock())
        return self.act(m, m.change({"evidence": kept}, Event("evidence_kept")), undoable=False)

    def moderate(self, m: Mention, moderator: Any, action: str) -> None:
        """Carry out a confirmed action: evidence first, then the platform (in a worker); in a
        dry-run source, only say what would be done."""
        if moderator.dry_run:
            self.notify(moderator.dry_run_text(m, action), markup=False, timeout=15)
            return
        if self.keep_evidence(m):  # not kept (a full disk): said, and nothing done on the platform
            self._moderate(m.id, moderator, action)

    def _undo_moderation(self, m: Mention, index: int, done: dict) -> None:
        lang = self.config.language
        moderator = self.moderators.get(m.source)
        undo = moderator.undo_of(str(done["action"])) if moderator is not None else None
        if undo is None:
            said = word("moderate_cannot_undo", lang).format(source=m.source, action=done["action"])
            self.notify(said, severity="warning", markup=False)
            return
        self._moderate(m.id, moderator, undo, undoing=(index, str(done["action"])))

    @work(group="moderation", exit_on_error=False)
    async def _moderate(self, mention_id: str, moderator: Any, action: str, undoing: tuple[int, str] | None = None) -> None:
        """Call the platform; record the action and its answer in the history only when it was
        done. `undoing`: (history index, action) of what this undoes (back on the undo stack
        when the platform refused, so `u` can try again)."""
        from sources.source import SourceError

        lang = self.config.language
        m = self.queue.get(mention_id)
        if m is None:
            return
        try:
            said = await moderator(m, action)
        except SourceError as exc:
            self.notify(f"{word('moderate_failed', lang)}: {exc}", severity="error", markup=False, timeout=30)
            if undoing is not None:
                self.undo_stack.append((mention_id, undoing[0]))
            return
        m = self.queue.get(mention_id) or m
        record = {"action": action, "source": m.source, "answer": said}
        # "hide on facebook: hidden on Facebook (comment …)": retention keeps what precedes ": ".
        # "undo: hide on facebook: unhidden on Facebook (comment …)" when it takes one back.
        done = undoing[1] if undoing is not None else action
        what = Event("moderated", action=done, source=m.source, answer=said, undo=undoing is not None)
        if self.act(m, m.change({"moderation": record}, what), undoable=undoing is None):
            title = word("undone" if undoing is not None else "moderate_done", lang)
            self.notify(f"{title}: {said}", markup=False, timeout=15)

    # --- drafts -----------------------------------------------------------------------

    def open_draft(self, m: Mention) -> Draft | None:
        """The stored draft of `m` (anyone's), unless `m` was answered or closed meanwhile."""
        draft = self.stored_drafts.get(m.id)
        return None if draft is None or finished(m.status) else draft

    def keep_draft(self, m: Mention, text: str) -> bool:
        """Keep `text` as the draft of `m`, here and (in a worker) in the store. False, and
        nothing kept, when `m` has been answered or closed: a draft is never brought back."""
        try:
            current = self.queue.get(m.id) or m  # as the store last said, not as when opened
        except LookupError:
            current = m
        if finished(current.status):
            self.drafts.pop(m.id, None)
            return False
        self.drafts[m.id] = text
        draft = Draft(m.id, self.config.operator, text, self.clock())
        self.drafted_at[m.id] = draft.saved_at
        self._write_draft(m.id, draft)
        return True

    def drop_draft(self, mention_id: str) -> None:
        """Forget the draft of a mention (sent, done, discarded), here and in the store."""
        self.drafted_at.pop(mention_id, None)
        known = self.drafts.pop(mention_id, None) is not None or mention_id in self.stored_drafts
        if known or mention_id in self._draft_pending:
            self._write_draft(mention_id, None)

    def _write_draft(self, mention_id: str, draft: Draft | None) -> None:
        with self._draft_pending_lock:
            self._draft_pending[mention_id] = draft
        self._flush_drafts()

    @work(thread=True, group="drafts", exit_on_error=False)
    def _flush_drafts(self) -> None:
        """Write what is pending, in one write. One writer at a time takes the newest value per
        mention, so a removal never lands before the save it follows."""
        with self._draft_write_lock:
            with self._draft_pending_lock:
                changes, self._draft_pending = self._draft_pending, {}
            if not changes:
                return
            try:
                self.draft_book.apply(changes)
            except (StoreError, OSError) as exc:
                with self._draft_pending_lock:  # tried again with the next save; newer wins
                    for mention_id, draft in changes.items():
                        self._draft_pending.setdefault(mention_id, draft)
                if not self._draft_failing:
                    self._draft_failing = True
                    self.call_from_thread(self._draft_not_saved, str(exc))
                return
            self._draft_failing = False
            drafts = self.draft_book.all()
        self.call_from_thread(self.apply_drafts, drafts)

    def _draft_not_saved(self, reason: str) -> None:
        said = f"{word('draft_not_saved', self.config.language)}: {reason}"
        self.notify(said, severity="error", markup=False, timeout=15)

    def apply_drafts(self, drafts: dict[str, Draft]) -> None:
        """A desk saved or dropped a draft: show it where the mention is shown."""
        if drafts == self.stored_drafts:
            return
        self.stored_drafts = drafts
        for screen in self.screen_stack:
            if hasattr(screen, "drafts_changed"):
                screen.drafts_changed()

    # --- routing to experts and units -------------------------------------------------

    def route(self, m: Mention, expert: Expert, note: str = "") -> None:
        """Route to an expert (their own countdown starts) and hand the question off."""
        now = self.clock()
        due = routed_due(expert, now)
        # Asking the deputy of the expert it waits for: both may answer (store.handoffs).
        waiting_for = m.routed_to if m.status == Status.ROUTED and m.answered_at is None else None
        deputy_for = waiting_for if waiting_for and self.directory.deputy_of(waiting_for) == expert else ""
        if self.act(m, triage.route(m, expert.name, due, now, note)):
            key = self._handoff_key(m.id, "question", expert.email, expert.name, now, deputy_for)
            message = handoff_message(
                m,
                expert,
                now=now,
                tz=self.config.timezone,
                desk=self.config.name,
                note=note,
                deputy=self.directory.deputy_of(expert),
                operator=self.config.operator,
                key=key,
            )
            self._handoff(m.id, message)

    def pass_feedback(self, m: Mention, unit: Unit, note: str = "") -> None:
        """Pass a complaint or suggestion on to a unit's mailbox, without waiting for an answer."""
        now = self.clock()
        if self.act(m, triage.feedback(m, unit.name, now, note)):
            key = self._handoff_key(m.id, "feedback", unit.email, unit.name, now)
            message = feedback_message(
                m,
                unit,
                now=now,
                tz=self.config.timezone,
                desk=self.config.name,
                note=note,
                language=self.config.language,
                operator=self.config.operator,
                key=key,
            )
            self._handoff(m.id, message)

    def tell_role(self, m: Mention, role: str, note: str = "") -> bool:
        """Tell whoever holds `role` ([[roles]], or an expert's `roles`) about `m` by e-mail,
        through the hand-off code: the crisis contact of a crisis (L1), the communication lead
        of a troll or rant (L12). The mention's status is left as the scheme set it (an L1
        stays escalated, its countdown running, on the crisis screen); the history says who
        was told. False when nobody holds the role."""
        from webcare.roles import notice_message, role_word

        now = self.clock()
        lang = self.config.language
        holder = self.config.roles.holder(role, self.directory, now, self.config.timezone)
        if holder is None:
            said = f"{word('no_role_holder', lang)}: {role_word(role, lang)} ([[roles]])"
            self.notify(said, severity="warning", markup=False)
            return False
        person = holder.expert
        # No field changes: the triage before it stays undoable (undo expects what it set).
        if not self.act(m, m.change({}, Event("role_told", role=role, name=person.name)), undoable=False):
            return False
        key = self._handoff_key(m.id, "notice", person.email, person.name, now)
        message = notice_message(
            m, person, role, now=now, tz=self.config.timezone, desk=self.config.name,
            note=note, language=lang, operator=self.config.operator, key=key,
        )
        self._handoff(m.id, message)
        return True

    def pass_to_ambassadors(self, m: Mention, note: str = "") -> int:
        """Pass a positive mention on to every ambassador who opted in (an `email` on their
        [[watch.people]] entry), to like or share; recorded in the mention's history. Returns
        how many were written to."""
        from webcare.ambassadors import ambassadors, pass_on_message

        now = self.clock()
        people = ambassadors(self.config.watch)
        if not people:
            return 0
        names = ", ".join(a.name for a in people)
        if not self.act(m, m.change({}, Event("ambassadors", names=names)), undoable=False):
            return 0
        for a in people:
            key = self._handoff_key(m.id, "notice", a.email, a.name, now)
            message = pass_on_message(m, a, now=now, tz=self.config.timezone, desk=self.config.name,
                                      note=note, language=self.config.language, key=key)
            self._handoff(m.id, message)
        return len(people)

    def _handoff_key(self, mention_id: str, kind: str, to: str, name: str, now: datetime, deputy_for: str = "") -> str:
        """Keep the hand-off with a new secret key for its subject tag (see webcare.answers).
        Kept before it is sent, so an answer can never arrive before its key. When it cannot be
        kept the hand-off goes without a key: its answer is then entered with `a`, never taken
        from the mailbox."""
        from store.handoffs import HandoffBook

        try:
            return HandoffBook(self.config.data_dir).record(mention_id, kind=kind, to=to, name=name, at=now, deputy_for=deputy_for)
        except (StoreError, OSError) as exc:
            self.notify(f"{word('store_error', self.config.language)}: {exc}", severity="error", markup=False)
            return ""

    @work(group="handoff", exit_on_error=False)
    async def _handoff(self, mention_id: str, message) -> None:
        """E-mail the hand-off over [smtp], retrying on failure (the routing is already kept);
        without [smtp], put the same text on the clipboard."""
        from sources.handoff import HandoffError, handoff_text, retry_delay, send_handoff

        lang = self.config.language
        smtp = self.config.smtp
        if smtp is None:
            self.copy_to_clipboard(handoff_text(message))
            said = f"{word('handoff_copied', lang)} {message.to_name}"
            self.notify(said, markup=False)  # a name from config.toml: never markup
            return
        attempt = 0
        while True:
            try:
                message_id = await send_handoff(smtp, message)
            except HandoffError as exc:
                delay = retry_delay(attempt)
                attempt += 1
                if delay is None:
                    self.notify(
                        f"{word('handoff_failed', lang)}: {exc}",
                        severity="error",
                        markup=False,
                        timeout=30,
                    )
                    return
                self.notify(
                    f"{word('handoff_failed', lang)} {delay} s: {exc}",
                    severity="warning",
                    markup=False,
                )
                await asyncio.sleep(delay)
                continue
            m = self.queue.get(mention_id)
            if m is not None:
                self.act(m, m.change({}, Event("handoff_mailed", to=message.to, ref=message_id)), undoable=False)
            said = f"{word('handoff_sent', lang)} {message.to_name}"
            self.notify(said, markup=False)
            return

    # --- the content plan ---------------------------------------------------------------

    def action_trends(self) -> None:
        from tui.screens.trends import TrendsScreen

        if not isinstance(self.screen, TrendsScreen):
            self.push_screen(TrendsScreen())

    def action_crisis(self) -> None:
        from tui.screens.crisis import CrisisScreen

        if not isinstance(self.screen, CrisisScreen):
            self.push_screen(CrisisScreen())

    def action_dashboard(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        if not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen())

    def action_handover(self) -> None:
        from tui.screens.handover import HandoverScreen

        if not isinstance(self.screen, HandoverScreen):
            self.push_screen(HandoverScreen())

    def action_calendar(self) -> None:
        from tui.screens.calendar import CalendarScreen

        if not isinstance(self.screen, CalendarScreen):
            self.push_screen(CalendarScreen())

    def plan_facts(self) -> dict:
        """Today's plan for the stream's header: how many, the next time, how many held. The
        plan file is read again only when it changed."""
        from webcare.planning import today_plan

        if self._plan_cache is None or self.plan.changed():
            try:
                self._plan_cache = self.plan.all()
            except StoreError:  # unreadable (no permission): the header goes on without it
                self._plan_cache = []
        today = today_plan(self._plan_cache, self.clock().astimezone(self.config.timezone))
        return {
            "planned_today": today.count,
            "next_planned": today.next_time.strftime("%H:%M") if today.next_time else "",
            "held": today.held,
        }

    def toggle_hold(self) -> int:
        """Hold every planned item of today and tomorrow (a crisis), or release them again.
        Returns how many were held (positive) or released (negative)."""
        from webcare.planning import hold_today_and_tomorrow, is_holding, release_held

        today = self.clock().astimezone(self.config.timezone).date()
        self._plan_cache = None  # our own write: plan.changed() will not say so
        try:
            items = self.plan.all()
            if is_holding(items, today):
                return -len(self.plan.update_many(release_held(items, today)))
            return len(self.plan.update_many(hold_today_and_tomorrow(items, today)))
        except StoreError as exc:
            self.not_saved(D.w("the_calendar", self.config.language), exc)
            return 0

    def thread_of(self, m: Mention) -> tuple[Mention | None, list[Mention]]:
        """The post `m` answers and the replies to `m`, as far as the desk has them."""

        def get(mention_id: str) -> Mention | None:
            try:
                return self.queue.get(mention_id)
            except LookupError:  # gone from its segment (another desk's retention run)
                return None

        parent = get(m.parent) if m.parent else None
        replies = [r for i in self.queue.replies.get(m.id, ()) if (r := get(i)) is not None]
        return parent, replies

    def open_composer(self, m: Mention) -> None:
        """The composer, with a soft claim ("An is replying") the other desks see. When another
        operator already claims the mention, ask before taking it over."""
        holder = next((d for d in self.others if d.claim == m.id), None)
        if holder is None or (self.claim and self.claim[0] == m.id):
            self._compose(m)
            return
        from tui.screens.confirm import ConfirmScreen

        since = holder.claim_since.astimezone(self.config.timezone).strftime("%H:%M") if holder.claim_since else "?"
        question = word("claim_held", self.config.language).format(who=holder.operator, since=since)
        self.push_screen(ConfirmScreen(question), lambda yes: self._compose(m) if yes else None)

    def _compose(self, m: Mention) -> None:
        from tui.screens.composer import ComposerScreen

        self.claim = (m.id, self.clock())
        self.publish_presence()

        def closed(_result: object) -> None:
            if self.claim and self.claim[0] == m.id:
                self.claim = None
                self.publish_presence()

        self.push_screen(ComposerScreen(m), closed)

    def refresh_stream(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, StreamScreen):
                screen.mentions_changed()

    def wake_snoozed(self) -> None:
        now = self.clock()
        for m in self.queue.with_status(Status.SNOOZED):
            if m.snoozed_until is not None and m.snoozed_until <= now:
                self.act(m, triage.wake(m), undoable=False)

    # --- the clock --------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        # One timer for every countdown, at the next minute boundary: the countdowns show
        # minutes, so repainting more often would only cost CPU and SSH bandwidth.
        delay = 60.0 - (time.time() % 60.0) + 0.05
        self.set_timer(delay, self._tick)

    def _tick(self) -> None:
        self.tick_now()
        self._schedule_tick()

    def tick_now(self) -> None:
        """Repaint what depends on the time (tests call this after moving the clock)."""
        self.wake_snoozed()
        self._tell_if_collector_stopped()  # a heartbeat goes stale without a change to report
        self.check_spikes()  # the window slides: a burst may end, or build up slowly
        for screen in self.screen_stack:
            if isinstance(screen, StreamScreen):
                screen.clock_ticked()

    # --- actions ----------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit, but ask first when a reply was drafted and not sent."""
        if not self.drafts:
            self.exit()
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmScreen(word("quit_unsent", self.config.language)), answered)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, key_rows  # not needed for the first frame

        if isinstance(self.screen, HelpScreen):
            return
        # Only the desk's own keys (they have ids); not the scroll plumbing Textual adds.
        bindings = [
            (key, ab.binding) for key, ab in self.screen.active_bindings.items() if ab.binding.id
        ]
        self.push_screen(HelpScreen(key_rows(bindings, self), self.config.language))

    def _fatal_error(self) -> None:
        """An unhandled exception: Textual prints a rich traceback with every frame's local
        variables, and in this desk those hold posts, names and replies (personal data) that
        would end up on screen, in a terminal's scrollback or in a log. The same report without
        them: the code, the lines and the error. (Textual 8.2.8's App._fatal_error, with
        show_locals=False.)"""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def on_unmount(self) -> None:
        self.presence.leave()
        self.store.release_collector_lease()
        gc.unfreeze()  # an app run in-process (tests) leaves nothing immortal behind
