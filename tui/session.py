"""The operator's session at the desk: what a key press does to a mention (act), taking it back
(undo), routing and hand-offs by e-mail, moderation on the platform, and the content plan's
hold in a crisis.

An action shows at once: the row is changed in the queue as the store will have it, and the
write goes to the store's one writer thread (StoreWriter), which writes in the order the keys
were pressed. When the store says no (a full disk, the lock, someone changed the mention
meanwhile) the row goes back and the desk says what was not saved. What follows a write (an
e-mail to an expert, the platform's moderation) waits until the write is stored."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from store.store import StoreError
from tui import damage as D
from tui.messages import HeaderChanged, MentionsChanged
from webcare import triage
from webcare.drafts import finished
from webcare.history import Event, describe, leaf_actions, state_after, still_holds
from webcare.i18n import word
from webcare.mention import Mention, StateChange, Status
from webcare.routing import Expert, Unit, feedback_message, handoff_message, routed_due
from webcare.store_port import VersionConflict
from webcare.untrusted import first_line

if TYPE_CHECKING:
    from tui.app import WebcareApp


def _as_stored(value: Any) -> Any:
    """`value` as it reads back from the store (datetimes become ISO strings)."""
    return orjson.loads(orjson.dumps(value))


def predicted_state(current: dict[str, Any], change: StateChange, operator: str, at: datetime) -> dict[str, Any] | None:
    """The state the store will write for this change (store.Store.update_state: the same
    history entry, with `what`, `kind`, `args`, `changes` and `before`), or None when the change
    would be refused (`expect` no longer holds, or the state is no longer at `version`): what
    the row shows until the store has answered."""
    changes = _as_stored(change.fields)
    if change.version is not None and len(current.get("history") or ()) != change.version:
        return None
    if not still_holds(current, None if change.expect is None else _as_stored(change.expect)):
        return None
    event = change.event
    return state_after(current, changes, event, _as_stored(event.fields), operator, at.astimezone(UTC))


@dataclass(eq=False)  # one action each: taken off the stack by identity, not by value
class Undoable:
    """One of this operator's actions `u` may take back: the mention and its history entry."""

    mention_id: str
    index: int


@dataclass
class Write:
    """A change waiting for the store's writer thread."""

    mention: Mention
    change: StateChange
    at: datetime
    before: dict[str, Any]  # the row's state before: shown again when the write fails
    undo: Undoable | None
    then: Callable[[dict[str, Any]], None] | None = None
    refused: Callable[[], None] | None = None
    state: dict[str, Any] | None = field(default=None)


class StoreWriter:
    """The one writer of mention states: a queue worked through by thread workers that take
    turns (one at a time, oldest first), so writes land in the order they were made, and the
    UI thread never waits for the cross-process lock or the disk. Each outcome is handed to the
    UI thread in the same order, without waiting for it: a closing desk can still finish its
    writes (`finish`)."""

    def __init__(self, app: WebcareApp, stored: Callable[[Write], None], failed: Callable[[Write, Exception], None]) -> None:
        self.app = app
        self._stored = stored
        self._failed = failed
        self._pending: deque[Write | Callable[[], None]] = deque()  # a mention's change, or a plan job
        self._pending_lock = threading.Lock()
        self._turn = threading.Lock()  # one writer at a time: the order of the queue is kept
        self._unwritten = 0  # submitted, not yet on disk (or failed)
        self._idle = threading.Condition(self._pending_lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self.closing = False  # the desk is closing: outcomes are no longer shown

    def submit(self, write: Write | Callable[[], None]) -> None:
        """Queue a mention's change, or a job (a plan write) that tells its own outcome."""
        self._loop = asyncio.get_running_loop()  # the UI's (submit is called on the UI thread)
        self._context = contextvars.copy_context()  # the UI's: Textual's active app, for example
        with self._pending_lock:
            self._pending.append(write)
            self._unwritten += 1
        self.app.run_worker(self.drain, thread=True, group="store-writes", exit_on_error=False)

    @property
    def busy(self) -> bool:
        """Whether a write is waiting or under way."""
        return self._unwritten > 0

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (not on the UI thread) until every write submitted so far is on disk or failed."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unwritten == 0, timeout)

    def drain(self) -> None:
        """Write what is pending, oldest first (a thread; the desk's last call when it closes)."""
        with self._turn:
            while True:
                with self._pending_lock:
                    if not self._pending:
                        return
                    write = self._pending.popleft()
                if not isinstance(write, Write):
                    try:
                        write()
                    finally:
                        self._written()
                    continue
                try:
                    write.state = self.app.store.change(write.change, self.app.config.operator, at=write.at)
                except VersionConflict as exc:  # refused too: the row shows what the store holds
                    self._show_stored(write)
                    self._written()
                    self._tell(self._failed, write, exc)
                    continue
                except (StoreError, OSError, KeyError) as exc:
                    self._written()
                    self._tell(self._failed, write, exc)
                    continue
                if write.state is None:  # refused: the row shows what the store holds
                    self._show_stored(write)
                self._written()
                self._tell(self._stored, write)

    def _show_stored(self, write: Write) -> None:
        """A refused write puts the row back to what the store holds now (not to what the row
        showed before): someone else's change is what the operator must see."""
        try:
            stored = self.app.store.get(write.mention.id)
        except (StoreError, OSError, KeyError):
            stored = None
        if stored is not None:
            write.before = stored.state_record()

    def _written(self) -> None:
        with self._idle:
            self._unwritten -= 1
            self._idle.notify_all()

    def tell(self, callback: Callable[..., None], *args: Any) -> None:
        """Run `callback(*args)` on the UI thread, after what was told before (from the writer)."""
        self._tell(callback, *args)

    def _tell(self, callback: Callable[..., None], *args: Any) -> None:
        if self.closing or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(callback, *args, context=self._context)
        except RuntimeError:  # the desk's loop is closed: the write itself is done
            pass


class DeskSession:
    def __init__(self, app: WebcareApp) -> None:
        self.app = app
        self.undo_stack: list[Undoable] = []  # this operator's actions, this session
        self.writer = StoreWriter(app, self._stored, self._failed)
        self._plan_cache: list | None = None

    # --- acting on a mention ------------------------------------------------------------

    def act(
        self,
        m: Mention,
        change: StateChange,
        undoable: bool = True,
        then: Callable[[dict[str, Any]], None] | None = None,
        refused: Callable[[], None] | None = None,
    ) -> bool:
        """Record an operator's action: on screen at once, in the store (the truth, shared with
        other desks) by the writer thread. False when the change's `expect` or `version` no longer
        holds (nothing done). `then(state)` runs once the store has it; `refused()` when the
        store found the mention changed meanwhile. A store that cannot be written is said, never hidden, and the row
        goes back."""
        app = self.app
        try:
            current = app.queue.get(m.id) or m  # as the desk shows it now
        except LookupError:  # gone from its segment (another desk's retention run)
            current = m
        before = current.state_record()
        at = app.clock()
        predicted = predicted_state(before, change, app.config.operator, at)
        if predicted is None:
            return False
        app.queue.update(m.id, lambda x: x.apply_state(predicted))
        undo = None
        if undoable:
            undo = Undoable(m.id, len(predicted["history"]) - 1)
            self.undo_stack.append(undo)
        self.writer.submit(Write(current, change, at, before, undo, then, refused))
        app.tell(MentionsChanged)
        return True

    def _stored(self, write: Write) -> None:
        """The store answered a write (on the UI thread, in the order of the writes)."""
        app = self.app
        state = write.state
        if state is None:  # someone changed the mention meanwhile: show the store's state
            self._take_back(write)
            if write.refused is not None:
                write.refused()
            return
        app.queue.update(write.mention.id, lambda x: x.apply_state(state))
        if write.undo is not None:  # the store's history may hold other desks' entries too
            write.undo.index = len(state["history"]) - 1
        if finished(state.get("status", Status.NEW)):  # sent, done, closed: no draft any more
            app.drafts.drop(write.mention.id)
        app.tell(MentionsChanged)
        if write.then is not None:
            write.then(state)

    def _failed(self, write: Write, exc: Exception) -> None:
        app = self.app
        self._take_back(write)
        if isinstance(exc, KeyError):  # gone from the store (another desk's erasure)
            app.notify(f"{word('store_error', app.config.language)}: {exc}", severity="error", markup=False)
            return
        if isinstance(exc, VersionConflict) and write.refused is not None:
            write.refused()  # the caller says it in its own words (an undo: "not undone")
            return
        app.not_saved(f"{self.describe(write.change.event.entry())} ({first_line(write.mention.author, 40)})", exc)

    def _take_back(self, write: Write) -> None:
        self.app.queue.update(write.mention.id, lambda x: x.apply_state(write.before))
        if write.undo is not None and write.undo in self.undo_stack:
            self.undo_stack.remove(write.undo)
        self.app.tell(MentionsChanged)

    @property
    def writing(self) -> bool:
        return self.writer.busy

    def describe(self, entry: dict) -> str:
        """A history entry in the desk's language (a scheme leaf's action from this scheme)."""
        config = self.app.config
        lang = config.language
        return describe(entry, lang, leaf_actions(config.scheme.leaves, lang), config.timezone)

    def undo(self) -> None:
        """Undo this operator's last action (of this session), unless someone changed it since."""
        app = self.app
        lang = app.config.language
        while self.undo_stack:
            last = self.undo_stack.pop()
            m = app.queue.get(last.mention_id)
            if m is None or last.index >= len(m.history):
                continue
            entry = m.history[last.index]
            done = (entry.get("changes") or {}).get("moderation")
            if isinstance(done, dict) and done.get("action"):
                self._undo_moderation(m, last.index, done)  # on the platform first, then recorded
                return

            def conflict() -> None:
                app.notify(word("undo_conflict", lang), severity="warning", markup=False)

            if self.act(m, triage.undo(m, last.index), undoable=False, refused=conflict):
                app.notify(f"{word('undone', lang)}: {self.describe(entry)}", markup=False)
            else:
                conflict()
            return
        app.notify(word("nothing_to_undo", lang), markup=False)

    def wake_snoozed(self) -> None:
        now = self.app.clock()
        for m in self.app.queue.with_status(Status.SNOOZED):
            if m.snoozed_until is not None and m.snoozed_until <= now:
                self.act(m, triage.wake(m), undoable=False)

    def thread_of(self, m: Mention) -> tuple[Mention | None, list[Mention]]:
        """The post `m` answers and the replies to `m`, as far as the desk has them."""
        queue = self.app.queue

        def get(mention_id: str) -> Mention | None:
            try:
                return queue.get(mention_id)
            except LookupError:  # gone from its segment (another desk's retention run)
                return None

        parent = get(m.parent) if m.parent else None
        replies = [r for i in queue.replies.get(m.id, ()) if (r := get(i)) is not None]
        return parent, replies

    # --- moderation on the platform (docs/audit.md: Moderation on the platform) -----------

    def offer_moderation(self, m: Mention) -> None:
        """The scheme said "moderate" (L3): offer the platform's own action where the mention's
        source has one, after a confirmation; else say where the platform takes a report."""
        app = self.app
        moderator = app.moderators.get(m.source)
        if moderator is None or not moderator.offered:
            self._report_hint(m)
            return
        from tui.screens.moderate import ModerateScreen

        def chosen(action: str | None) -> None:
            if action:
                self.moderate(m, moderator, action)

        screen = ModerateScreen(m, m.source, moderator.offered, app.config.language, app.config.timezone)
        app.push_screen(screen, chosen)

    def _report_hint(self, m: Mention) -> None:
        from webcare.moderation import report_hint

        app = self.app
        lang = app.config.language
        self.keep_evidence(m)  # the case is the same: reported on the platform instead
        form, how = report_hint(m.channel, lang)
        said = word("moderate_none", lang).format(channel=m.channel, how=how)
        link = form or m.url
        if link:
            app.copy_to_clipboard(link)
            said += f": {link} ({word('moderate_copied', lang)})"
        app.notify(said, severity="warning", markup=False, timeout=30)

    def keep_evidence(self, m: Mention, then: Callable[[dict[str, Any]], None] | None = None) -> bool:
        """Keep what the desk shows of `m` (text, author, link, times, who) on the mention,
        before anything is done on the platform: `then` runs once it is stored. When it cannot
        be kept, that is said and `then` never runs."""
        from webcare.moderation import evidence

        kept = evidence(m, self.app.config.operator, self.app.clock())
        return self.act(m, m.change({"evidence": kept}, Event("evidence_kept")), undoable=False, then=then)

    def moderate(self, m: Mention, moderator: Any, action: str) -> None:
        """Carry out a confirmed action: evidence first, then the platform (in a worker); in a
        dry-run source, only say what would be done."""
        if moderator.dry_run:
            self.app.notify(moderator.dry_run_text(m, action), markup=False, timeout=15)
            return
        # Not kept (a full disk): said, and nothing done on the platform.
        self.keep_evidence(m, then=lambda _state: self._moderate(m.id, moderator, action))

    def _undo_moderation(self, m: Mention, index: int, done: dict) -> None:
        app = self.app
        moderator = app.moderators.get(m.source)
        undo = moderator.undo_of(str(done["action"])) if moderator is not None else None
        if undo is None:
            said = word("moderate_cannot_undo", app.config.language).format(source=m.source, action=done["action"])
            app.notify(said, severity="warning", markup=False)
            return
        self._moderate(m.id, moderator, undo, undoing=(index, str(done["action"])))

    def _moderate(self, mention_id: str, moderator: Any, action: str, undoing: tuple[int, str] | None = None) -> None:
        self.app.run_worker(
            self._call_platform(mention_id, moderator, action, undoing), group="moderation", exit_on_error=False
        )

    async def _call_platform(self, mention_id: str, moderator: Any, action: str, undoing: tuple[int, str] | None) -> None:
        """Call the platform; record the action and its answer in the history only when it was
        done. `undoing`: (history index, action) of what this undoes (back on the undo stack
        when the platform refused, so `u` can try again)."""
        from sources.source import SourceError

        app = self.app
        lang = app.config.language
        m = app.queue.get(mention_id)
        if m is None:
            return
        try:
            said = await moderator(m, action)
        except SourceError as exc:
            app.notify(f"{word('moderate_failed', lang)}: {exc}", severity="error", markup=False, timeout=30)
            if undoing is not None:
                self.undo_stack.append(Undoable(mention_id, undoing[0]))
            return
        m = app.queue.get(mention_id) or m
        record = {"action": action, "source": m.source, "answer": said}
        # "hide on facebook: hidden on Facebook (comment …)": retention keeps what precedes ": ".
        # "undo: hide on facebook: unhidden on Facebook (comment …)" when it takes one back.
        done = undoing[1] if undoing is not None else action
        what = Event("moderated", action=done, source=m.source, answer=said, undo=undoing is not None)
        title = word("undone" if undoing is not None else "moderate_done", lang)
        self.act(
            m, m.change({"moderation": record}, what), undoable=undoing is None,
            then=lambda _state: app.notify(f"{title}: {said}", markup=False, timeout=15),
        )

    # --- routing to experts and units, and telling people by e-mail ----------------------

    def route(self, m: Mention, expert: Expert, note: str = "") -> None:
        """Route to an expert (their own countdown starts) and, once stored, hand the question off."""
        app = self.app
        config = app.config
        directory = config.directory
        now = app.clock()
        due = routed_due(expert, now)
        assert due is not None  # an expert always has an answer norm (a unit may have none)
        # Asking the deputy of the expert it waits for: both may answer (store.handoffs).
        waiting_for = m.routed_to if m.status == Status.ROUTED and m.answered_at is None else None
        deputy_for = waiting_for if waiting_for and directory.deputy_of(waiting_for) == expert else ""

        def message(key: str):
            return handoff_message(
                m, expert, now=now, tz=config.timezone, desk=config.name, note=note,
                deputy=directory.deputy_of(expert), operator=config.operator, key=key,
            )

        keyed = ("question", expert.email, expert.name, now, deputy_for)
        self.act(m, triage.route(m, expert.name, due, now, note), then=lambda _s: self._handoff(m.id, keyed, message))

    def pass_feedback(self, m: Mention, unit: Unit, note: str = "") -> None:
        """Pass a complaint or suggestion on to a unit's mailbox, without waiting for an answer."""
        config = self.app.config
        now = self.app.clock()

        def message(key: str):
            return feedback_message(
                m, unit, now=now, tz=config.timezone, desk=config.name, note=note,
                language=config.language, operator=config.operator, key=key,
            )

        keyed = ("feedback", unit.email, unit.name, now, "")
        self.act(m, triage.feedback(m, unit.name, now, note), then=lambda _s: self._handoff(m.id, keyed, message))

    def tell_role(self, m: Mention, role: str, note: str = "") -> bool:
        """Tell whoever holds `role` ([[roles]], or an expert's `roles`) about `m` by e-mail,
        through the hand-off code: the crisis contact of a crisis (L1), the communication lead
        of a troll or rant (L12). The mention's status is left as the scheme set it (an L1
        stays escalated, its countdown running, on the crisis screen); the history says who
        was told. False when nobody holds the role."""
        from webcare.roles import notice_message, role_word

        app = self.app
        config = app.config
        now = app.clock()
        lang = config.language
        holder = config.roles.holder(role, config.directory, now, config.timezone)
        if holder is None:
            said = f"{word('no_role_holder', lang)}: {role_word(role, lang)} ([[roles]])"
            app.notify(said, severity="warning", markup=False)
            return False
        person = holder.expert

        def message(key: str):
            return notice_message(
                m, person, role, now=now, tz=config.timezone, desk=config.name,
                note=note, language=lang, operator=config.operator, key=key,
            )

        keyed = ("notice", person.email, person.name, now, "")
        # No field changes: the triage before it stays undoable (undo expects what it set).
        return self.act(
            m, m.change({}, Event("role_told", role=role, name=person.name)), undoable=False,
            then=lambda _s: self._handoff(m.id, keyed, message),
        )

    def pass_to_ambassadors(self, m: Mention, note: str = "") -> int:
        """Pass a positive mention on to every ambassador who opted in (an `email` on their
        [[watch.people]] entry), to like or share; recorded in the mention's history. Returns
        how many are written to."""
        from webcare.ambassadors import ambassadors, pass_on_message

        config = self.app.config
        now = self.app.clock()
        people = ambassadors(config.watch)
        if not people:
            return 0

        def mail_them(_state: dict[str, Any]) -> None:
            for a in people:
                def message(key: str, a=a):
                    return pass_on_message(m, a, now=now, tz=config.timezone, desk=config.name,
                                           note=note, language=config.language, key=key)

                self._handoff(m.id, ("notice", a.email, a.name, now, ""), message)

        names = ", ".join(a.name for a in people)
        if not self.act(m, m.change({}, Event("ambassadors", names=names)), undoable=False, then=mail_them):
            return 0
        return len(people)

    def _handoff_key(self, mention_id: str, kind: str, to: str, name: str, now: datetime, deputy_for: str = "") -> str:
        """Keep the hand-off with a new secret key for its subject tag (see webcare.answers).
        Kept before it is sent, so an answer can never arrive before its key. When it cannot be
        kept the hand-off goes without a key: its answer is then entered with `a`, never taken
        from the mailbox. (Called in a thread.)"""

        try:
            return self.app.store.handoffs.record(mention_id, kind=kind, to=to, name=name, at=now, deputy_for=deputy_for)
        except (StoreError, OSError) as exc:
            self.app.call_from_thread(
                self.app.notify, f"{word('store_error', self.app.config.language)}: {exc}", severity="error", markup=False
            )
            return ""

    def _handoff(self, mention_id: str, keyed: tuple, message: Callable[[str], Any]) -> None:
        self.app.run_worker(self._send(mention_id, keyed, message), group="handoff", exit_on_error=False)

    async def _send(self, mention_id: str, keyed: tuple, make_message: Callable[[str], Any]) -> None:
        """E-mail the hand-off over [smtp], retrying on failure (the routing is already kept);
        without [smtp], put the same text on the clipboard."""
        from sources.handoff import HandoffError, handoff_text, retry_delay, send_handoff

        app = self.app
        lang = app.config.language
        key = await asyncio.to_thread(self._handoff_key, mention_id, *keyed)
        message = make_message(key)
        smtp = app.config.smtp
        if smtp is None:
            app.copy_to_clipboard(handoff_text(message))
            app.notify(f"{word('handoff_copied', lang)} {message.to_name}", markup=False)  # a name from config.toml
            return
        attempt = 0
        while True:
            try:
                message_id = await send_handoff(smtp, message)
            except HandoffError as exc:
                delay = retry_delay(attempt)
                attempt += 1
                if delay is None:
                    app.notify(f"{word('handoff_failed', lang)}: {exc}", severity="error", markup=False, timeout=30)
                    return
                app.notify(f"{word('handoff_failed', lang)} {delay} s: {exc}", severity="warning", markup=False)
                await asyncio.sleep(delay)
                continue
            m = app.queue.get(mention_id)
            if m is not None:
                self.act(m, m.change({}, Event("handoff_mailed", to=message.to, ref=message_id)), undoable=False)
            app.notify(f"{word('handoff_sent', lang)} {message.to_name}", markup=False)
            return

    # --- the content plan -------------------------------------------------------------

    def plan_facts(self) -> dict:
        """Today's plan for the stream's header: how many, the next time, how many held. The
        plan file is read again only when it changed."""
        from webcare.planning import today_plan

        app = self.app
        if self._plan_cache is None or app.plan.changed():
            try:
                self._plan_cache = app.plan.all()
            except StoreError:  # unreadable (no permission): the header goes on without it
                self._plan_cache = []
        today = today_plan(self._plan_cache, app.clock().astimezone(app.config.timezone))
        return {
            "planned_today": today.count,
            "next_planned": today.next_time.strftime("%H:%M") if today.next_time else "",
            "held": today.held,
        }

    def write_plan(self, write: Callable[[], object], done: Callable[[bool], None] | None = None, what: str = "the_calendar") -> None:
        """A change to the content plan (`write`), in the writer's turn: after the actions
        before it, never on the UI thread. `done(saved)` is told on the UI thread; when it was
        not saved, the desk has said what (`what`: a key of tui/damage.py's words) and why."""
        app = self.app

        def job() -> None:
            try:
                write()
            except StoreError as exc:
                self.writer.tell(app.not_saved, D.w(what, app.config.language), exc)
                self.writer.tell(told, False)
            else:
                self.writer.tell(told, True)

        def told(saved: bool) -> None:
            self._plan_cache = None  # our own write: plan.changed() will not say so
            app.tell(HeaderChanged)
            if done is not None:
                done(saved)

        self.writer.submit(job)

    def toggle_hold(self, done: Callable[[int], None] | None = None) -> None:
        """Hold every planned item of today and tomorrow (a crisis), or release them again.
        `done(n)` is told how many were held (positive) or released (negative), 0 when it
        could not be saved (which is said)."""
        from webcare.planning import hold_today_and_tomorrow, is_holding, release_held

        app = self.app
        today = app.clock().astimezone(app.config.timezone).date()
        changed = [0]

        def write() -> None:
            items = app.plan.all()
            if is_holding(items, today):
                changed[0] = -len(app.plan.update_many(release_held(items, today)))
            else:
                changed[0] = len(app.plan.update_many(hold_today_and_tomorrow(items, today)))

        self.write_plan(write, None if done is None else lambda _saved: done(changed[0]))
