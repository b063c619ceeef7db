"""The webcare desk: the Textual app. It holds what every screen shows (the config, the queue of
mentions, the monitor, the plan, the clock) and composes the services that change it:

- tui/session.py: the operator's actions on mentions (written by one writer thread), undo,
  routing and hand-offs, moderation, the plan's hold;
- tui/presence.py: where the other desks are, and the drafts they see;
- tui/collection.py: collecting, reading what other processes wrote, damage, the heartbeat.

Screens learn of changes through the messages in tui/messages.py (`tell`), and reach the app
typed through tui/desk.py."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from textual import events, work
from textual.app import App
from textual.binding import Binding

from store import Store
from store.presence import HEARTBEAT
from store.quarantine import damaged
from store.store import StoreError
from tui import damage as D
from tui.collection import Collection
from tui.keys import keymap, localize
from tui.messages import ClockTicked, DeskMessage, HeaderChanged
from tui.monitoring import Monitor
from tui.presence import DeskPresence, Drafts
from tui.screens.stream import StreamScreen
from tui.session import DeskSession
from webcare.config import Config
from webcare.i18n import ALERT_WORDS, word
from webcare.mention import Mention
from webcare.queue import MentionQueue


class Sender(Protocol):
    """A source that posts a reply itself (sources.replies.Replier): the reply's id or link on
    the platform; in a dry run it only says what it would post."""

    dry_run: bool

    async def __call__(self, mention: Mention, text: str) -> str: ...


INPUT_QUIET = 0.5  # seconds without a key before background work goes on
STORE_POLL = 1.0  # seconds: another process's writes show within this (plus a repaint)


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
        senders: Mapping[str, Sender] | None = None,
        moderators: dict[str, Any] | None = None,
        open_id: str | None = None,
    ) -> None:
        super().__init__()
        localize(self, config.language)
        self.config = config
        self.store = store
        self.clock = clock
        # Sources that can post a reply themselves, by source name: an async callable taking the
        # mention and the text and returning the reply's id or link on the platform.
        self.senders: Mapping[str, Sender] = senders or {}
        # Sources that can moderate on their platform, by source name: sources.moderation's
        # Moderator (its actions, what undoes each, and an async call that carries one out).
        self.moderators = moderators or {}
        self.open_id = open_id  # `webcare --open ID`: the mention an alert named, opened at start
        self.queue = _load_queue(store)  # a damaged segment is quarantined here, not fatal
        self.templates = config.templates  # read and checked once, with the config
        self.directory = config.directory
        self.plan = store.plan
        self.monitor = Monitor(config, store, clock)  # trends, spikes and crisis mode
        self.last_input = 0.0  # time.monotonic() of the last key: background work yields to it
        self.max_norm = max(
            (n.allowed for n in config.norms.values() if n.allowed), default=timedelta(hours=8)
        )
        # The services, each changing one part of the desk's state (see the module doc).
        self.collection = Collection(self, make_poller)
        self.presence = DeskPresence(self)
        self.drafts = Drafts(self)
        self.session = DeskSession(self)

    def on_mount(self) -> None:
        if self.config.keys:  # checked by the command line before the desk starts (tui/keys.py)
            self.set_keymap(keymap(self.config.keys))
        self.push_screen(StreamScreen())
        # `webcare` (cli.cmd_desk) holds the cyclic garbage collector off until the stream is
        # on screen; from then on it runs as usual (a no-op when it was on anyway).
        self.call_after_refresh(gc.enable)
        # The first frame needs only the top rows (webcare.queue); the full order of a large
        # store is built right after it, so that pause never lands on a later key press.
        self.call_after_refresh(self.queue.complete)
        # After the first paint has read the plan and the crisis log too: whatever was found
        # damaged at start is named at once, not a poll later.
        self.call_after_refresh(lambda: self.collection.apply_damage(damaged(self.config.data_dir)))
        # Start collecting once the stream is on screen: setting up the HTTP client (imports,
        # TLS context) takes a good 100 ms that the first frame need not wait for.
        self.call_after_refresh(self.collection.take_lease)
        if self.collection.follows_live():  # the database says when others wrote (NOTIFY)
            self.collection.follow()
        else:
            self.set_interval(STORE_POLL, self.poll_store)
        self._schedule_tick()
        self.call_after_refresh(self._build_trends)
        self.set_interval(HEARTBEAT, self.presence.publish)
        if self.open_id:
            self.call_after_refresh(self.go_to, self.open_id)

    def tell(self, message: type[DeskMessage]) -> None:
        """Tell every screen of a change (each handles what it shows; one not on top may wait
        until it is shown again)."""
        for screen in self.screen_stack:
            screen.post_message(message())

    def poll_store(self) -> None:
        """Read what other processes wrote since the last poll (a thread; tests call this)."""
        self.collection.poll()

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
        self.tell(HeaderChanged)

    # --- saying what was not saved -------------------------------------------------------

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

    # --- the screens ------------------------------------------------------------------

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

    def open_composer(self, m: Mention) -> None:
        """The composer, with a soft claim ("An is replying") the other desks see. When another
        operator already claims the mention, ask before taking it over."""
        holder = self.presence.claimed_by_other(m.id)
        if holder is None:
            self._compose(m)
            return
        from tui.screens.confirm import ConfirmScreen

        since = holder.claim_since.astimezone(self.config.timezone).strftime("%H:%M") if holder.claim_since else "?"
        question = word("claim_held", self.config.language).format(who=holder.operator, since=since)
        self.push_screen(ConfirmScreen(question), lambda yes: self._compose(m) if yes else None)

    def _compose(self, m: Mention) -> None:
        from tui.screens.composer import ComposerScreen

        self.presence.take_claim(m.id)
        self.push_screen(ComposerScreen(m), lambda _result: self.presence.drop_claim(m.id))

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

    def action_undo(self) -> None:
        self.session.undo()

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
        self.session.wake_snoozed()
        self.collection.tell_if_collector_stopped()  # a heartbeat goes stale without a change to report
        self.check_spikes()  # the window slides: a burst may end, or build up slowly
        self.tell(ClockTicked)

    # --- actions ----------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit, but ask first when a reply was drafted and not sent."""
        if not self.drafts.texts:
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

    async def on_unmount(self) -> None:
        # Actions taken just before quitting are written still (their outcome is not shown).
        self.session.writer.closing = True
        await asyncio.to_thread(self.session.writer.drain)
        self.presence.leave()
        self.collection.stop_following()
        self.collection.release()
        gc.unfreeze()  # an app run in-process (tests) leaves nothing immortal behind
