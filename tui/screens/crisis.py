"""Crisis mode (`K`): one focused screen while a crisis is under way.

`K` with no crisis asks for the reason (prefilled with what spiked) and starts crisis mode for
every desk on the data directory (store/crisis.py: a shared journal); planned posts of today
and tomorrow are held when [crisis] hold_plan says so. While a crisis is on (started here or by
another desk) the screen shows who started it, when and why, the crisis norm; the volume per
5 minutes of the last two hours and its negative share as sparklines; and only what matters:
owed mentions that are escalated, urgent or negative, each with its countdown under the crisis
norm (the earlier of its own deadline and its clock start + the norm), the nearest first and,
at the same minute, the widest reach first. Below them the decision log, newest first, for the
review afterwards.

`h` opens the composer on the selected mention with the holding statement as its draft (ctrl+y
there copies it), `l` logs a decision, `E` ends crisis mode for everyone (and offers to release
the held posts). The stream's own list keeps showing everything; escape goes back to it and
crisis mode stays on until someone ends it.

Everything from outside (texts, names, the reason, decisions) is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static

from tui.desk import desk
from tui.keys import localize
from tui.messages import CrisisChanged, HeaderChanged, MentionsChanged
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompt import PromptScreen
from tui.widgets.mention_detail import MentionDetail
from webcare.channels import SHORT
from webcare.i18n import countdown, word
from webcare.mention import Mention, Status
from webcare.norms import clock_start
from webcare.queue import MentionQueue
from webcare.trends import EVERYTHING, HOUR, sparkline
from webcare.untrusted import clean_line, first_line

LOOKBACK = timedelta(hours=24)  # owed mentions first due this long before the crisis count
SPARK = 24  # 5-minute slots: the last two hours
AUTHOR_CELLS = 13
WHEN_CELLS = 18


# --- what matters ------------------------------------------------------------------------------


def matters(m: Mention) -> bool:
    """An owed mention that is escalated, urgent or negative."""
    return m.owed and (
        m.status == Status.ESCALATED or m.priority == "urgent" or m.sentiment == "negative"
    )


def crisis_due(m: Mention, norm: timedelta) -> datetime | None:
    """When it must be answered in a crisis: its own deadline, or the crisis norm from when its
    clock started, whichever is earlier. None for what has no norm (news: monitor only; a
    crisis does not make an article from this morning nine hours late)."""
    if m.norm_s is None:
        return None
    due = clock_start(m.published_at, m.first_seen_at) + norm
    return due if m.deadline is None else min(m.deadline, due)


def candidates(queue: MentionQueue, since: datetime) -> Iterable[Mention]:
    """The owed mentions worth looking at, without reading 100,000 of them: the urgent block,
    those due from `since` on, those without a norm first seen from `since` on (the queue keeps
    them in that order: webcare/queue.py), and every escalated one however old."""
    ids = queue.owed_ids_since(since)
    seen: set[str] = set()
    for mention_id in ids:
        try:
            m = queue.get(mention_id)
        except LookupError:  # gone from its segment (another desk's retention run)
            continue
        if m is not None:
            seen.add(mention_id)
            yield m
    for m in queue.with_status(Status.ESCALATED):
        if m.id not in seen:
            yield m


def what_matters(
    queue: MentionQueue, norm: timedelta, since: datetime
) -> list[tuple[Mention, datetime | None]]:
    """(mention, crisis due) for what matters, the nearest due first, then the widest reach;
    what has no norm last, newest first."""
    rows = [(m, crisis_due(m, norm)) for m in candidates(queue, since) if matters(m)]
    timed = [(m, due) for m, due in rows if due is not None]
    timed.sort(
        key=lambda r: (r[1].replace(second=0, microsecond=0), -(r[0].reach or 0), r[1], r[0].id)
    )
    untimed = sorted((r for r in rows if r[1] is None), key=lambda r: r[0].first_seen_at, reverse=True)
    return [*timed, *untimed]


# --- the list ----------------------------------------------------------------------------------


class CrisisList(ScrollView, can_focus=True):
    """The mentions that matter, one row each, with a cursor (Line API: only visible rows are
    drawn)."""

    class Moved(Message):
        """The cursor moved: the screen's detail pane follows it."""

    DEFAULT_CSS = """
    CrisisList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """
    BINDINGS = [
        Binding("j,down", "move(1)", "next", show=False, id="crisis.next"),
        Binding("k,up", "move(-1)", "previous", show=False, id="crisis.previous"),
    ]

    def __init__(self, language: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.language = language
        self.rows: list[tuple[Mention, datetime | None]] = []
        self.cursor = 0
        self.now: datetime | None = None
        self.norm = timedelta(minutes=30)

    @property
    def selected(self) -> Mention | None:
        return self.rows[self.cursor][0] if 0 <= self.cursor < len(self.rows) else None

    def show(self, rows: list[tuple[Mention, datetime | None]], now: datetime, norm: timedelta) -> None:
        """New rows: keep the selected mention selected."""
        chosen = self.selected
        self.rows, self.now, self.norm = rows, now, norm
        index = next(
            (i for i, (m, _) in enumerate(rows) if chosen is not None and m.id == chosen.id), None
        )
        self.cursor = min(self.cursor, max(0, len(rows) - 1)) if index is None else index
        self.virtual_size = Size(self.size.width, max(1, len(rows)))
        self._into_view()
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
            self._into_view()
            self.refresh()
            self.post_message(self.Moved())

    def _into_view(self) -> None:
        height = self.size.height
        if not height:
            return
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, max(1, len(self.rows)))
        self._into_view()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = int(self.scroll_y) + y
        if index >= len(self.rows):
            if index == 0:
                empty = " " + word("crisis_nothing", self.language)
                return Strip(
                    [Segment(empty, base + Style(italic=True, dim=True))]
                ).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        m, due = self.rows[index]
        now = self.now or due
        left = None if due is None or now is None else due - now
        if left is None:
            urgency = Style(dim=True)
        elif left < timedelta(0):
            urgency = Style(color="red", bold=True)
        elif left <= self.norm / 4:
            urgency = Style(color="yellow", bold=True)
        else:
            urgency = Style(color="green")
        author = m.author if len(m.author) <= AUTHOR_CELLS else m.author[: AUTHOR_CELLS - 1] + "…"
        marks = []
        if m.status == Status.ESCALATED:
            marks.append(Segment("▲ ", base + Style(color="red", bold=True)))
        if m.priority == "urgent":
            marks.append(
                Segment(
                    word("badge_urgent", self.language) + " ",
                    base + Style(color="red", bold=True, reverse=True),
                )
            )
        if m.sentiment == "negative":
            marks.append(Segment("‼ " if m.anger else "− ", base + Style(color="red")))
        text = first_line(m.title + " — " + m.text if m.title else m.text, max(1, width))
        segments = [
            Segment(
                (word("no_norm", self.language) if left is None else countdown(left, self.language))[:WHEN_CELLS].ljust(WHEN_CELLS) + " ",
                base + urgency,
            ),
            Segment(SHORT.get(m.channel, "?").ljust(4) + " ", base + Style(dim=True)),
            Segment(set_cell_size(clean_line(author), AUTHOR_CELLS) + " ", base + Style(bold=True)),
            *marks,
            Segment(text, base),
        ]
        strip = Strip(segments).adjust_cell_length(width, base)
        if index == self.cursor:
            strip = strip.apply_style(Style(reverse=True, dim=not self.has_focus))
        return strip


# --- the screen --------------------------------------------------------------------------------


class CrisisScreen(Screen[None]):
    DEFAULT_CSS = """
    CrisisScreen #crisis-head { height: auto; padding: 0 1; background: $panel; }
    CrisisScreen #crisis-detail { display: none; border-top: solid $primary; }
    CrisisScreen.-detail-open #crisis-detail { display: block; }
    CrisisScreen #crisis-log { height: auto; max-height: 6; padding: 0 1; border-top: solid $error;
        text-wrap: nowrap; text-overflow: ellipsis; }
    CrisisScreen.-detail-open #crisis-log, CrisisScreen.-no-crisis #crisis-log { display: none; }
    """
    BINDINGS = [
        Binding("enter", "detail", "detail", id="crisis.detail"),
        Binding("r", "reply", "reply", id="crisis.reply"),
        Binding("h", "holding", "holding statement", id="crisis.holding"),
        Binding("l", "log", "log decision", id="crisis.log"),
        Binding("E", "end", "end crisis", id="crisis.end"),
        Binding("K", "start", "start crisis", show=False, id="crisis.start"),
        Binding("escape,s", "leave", "stream", id="crisis.stream"),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize(self, desk(self).config.language)
        self._shown: tuple | None = None  # what the screen shows now, to repaint only changes

    def compose(self) -> ComposeResult:
        app = desk(self)
        cfg = app.config
        yield Static("", id="crisis-head")
        crisis_list = CrisisList(cfg.language, id="crisis-list")
        localize(crisis_list, cfg.language)
        yield crisis_list
        yield MentionDetail(
            cfg.language, cfg.timezone, app.clock, app.session.thread_of, scheme=cfg.scheme,
            others=app.presence.others_on, draft=app.drafts.open, id="crisis-detail",
        )
        yield Static("", id="crisis-log")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(CrisisList).focus()
        self.redraw()
        if not desk(self).monitor.in_crisis:
            self.call_after_refresh(self.action_start)

    def on_screen_resume(self) -> None:
        self.redraw()

    # --- what the desk tells it ----------------------------------------------------------------

    def on_header_changed(self, _message: HeaderChanged | MentionsChanged | CrisisChanged) -> None:
        """New mentions (another desk answered one), a new minute, spikes, crisis mode started
        or ended: refigure, if shown."""
        if self.is_current:
            self.redraw()

    on_mentions_changed = on_header_changed
    on_crisis_changed = on_header_changed

    def on_crisis_list_moved(self, _message: CrisisList.Moved) -> None:
        if self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(self.query_one(CrisisList).selected)

    # --- drawing ---------------------------------------------------------------------------

    def redraw(self) -> None:
        app = desk(self)
        cfg = app.config
        now = app.clock()
        crisis = app.monitor.crisis
        norm = cfg.crisis.norm
        rows = what_matters(app.queue, norm, crisis[0].at - LOOKBACK) if crisis else []
        head = self._head(now)
        log = self._log()
        minute = int(now.timestamp() // 60)
        shown = (
            head.plain,
            log.plain,
            minute,
            tuple((m.id, m.status, len(m.history), due) for m, due in rows),
        )
        if shown == self._shown:
            return
        self._shown = shown
        self.query_one("#crisis-head", Static).update(head)
        self.query_one("#crisis-log", Static).update(log)
        self.set_class(not crisis, "-no-crisis")
        self.query_one(CrisisList).show(rows, now, norm)
        detail = self.query_one(MentionDetail)
        if self.has_class("-detail-open"):
            detail.show(self.query_one(CrisisList).selected)
            detail.refresh_times()

    def _head(self, now: datetime) -> Text:
        app = desk(self)
        cfg = app.config
        lang = cfg.language
        crisis = app.monitor.crisis
        out = Text(no_wrap=False, overflow="fold")
        if not crisis:
            out.append(word("no_crisis", lang), style="bold")
            return out
        start = crisis[0]
        since = start.at.astimezone(cfg.timezone)
        who = clean_line(start.who, 60)
        out.append(
            f"{word('crisis_mode', lang)} {word('since', lang)} {since:%H:%M} "
            f"{word('crisis_by', lang)} {who}",
            style="bold white on red",
        )
        if start.text:
            out.append(f": {clean_line(start.text, 200)}", style="bold white on red")
        out.append("\n")
        out.append(f"{word('crisis_norm', lang)} {_duration(cfg.crisis.norm, lang)}", style="bold")
        held = app.session.plan_facts().get("held", 0)
        if held:
            out.append(f" · ‖ {held} {word('crisis_held', lang)}", style="bold magenta")
        out.append(f" · {now.astimezone(cfg.timezone):%H:%M}")
        with app.monitor._lock:  # the book is built in a thread and fed in this one
            book = app.monitor.book
            series = (
                None
                if book is None
                else book.series(now, 2 * HOUR, slots=SPARK, subjects=[EVERYTHING])[EVERYTHING]
            )
        if series is None:
            out.append("\n" + word("trends_building", lang), style="italic")
            return out
        volume = series.observed
        shares = [n / c if c else 0.0 for n, c in zip(series.negative, volume)]
        out.append("\n")
        out.append(f"{word('crisis_volume', lang):<13}")
        out.append(sparkline(volume), style="bold cyan")
        out.append(f" {volume[-1] if volume else 0} {word('crisis_last_5min', lang)}")
        out.append("\n")
        out.append(f"{word('crisis_negative', lang):<13}")
        out.append(sparkline(shares, top=1.0), style="bold red")
        last = shares[-1] if shares else 0.0
        out.append(f" {last * 100:.0f}%")
        return out

    def _log(self) -> Text:
        cfg = desk(self).config
        lang = cfg.language
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(word("crisis_log", lang), style="bold")
        for entry in reversed(desk(self).monitor.crisis):
            at = entry.at.astimezone(cfg.timezone)
            text = word("crisis_log_start", lang) if entry.kind == "start" else ""
            if entry.text:
                text = f"{text}: {entry.text}" if text else entry.text
            out.append(f"\n{at:%H:%M} ")
            out.append(clean_line(entry.who, 40), style="bold")
            out.append(f" {clean_line(text, 300)}")
        return out

    # --- keys ------------------------------------------------------------------------------

    def _selected(self) -> Mention | None:
        return self.query_one(CrisisList).selected

    def action_start(self) -> None:
        """Ask for the reason (what spiked, to start with) and start crisis mode for everyone."""
        app = desk(self)
        lang = app.config.language
        if app.monitor.in_crisis:
            return
        spikes = app.monitor.spikes
        reason = clean_line(spikes[0].text(lang), 200) if spikes else ""

        def answered(text: str | None) -> None:
            if text is None:
                if not app.monitor.in_crisis and self.is_current:
                    self.dismiss()  # K and then escape: nothing started, back to the stream
                return
            if not self.start(text.strip()):  # not saved: ask again, with what was typed
                app.push_screen(PromptScreen(word("crisis_start_prompt", lang), text), answered)

        app.push_screen(PromptScreen(word("crisis_start_prompt", lang), reason), answered)

    def _logged(self, write: Callable[[], object]) -> bool:
        return desk(self).saved("the_crisis_log", write)

    def start(self, reason: str) -> bool:
        """Start crisis mode for every desk; False when the crisis log could not be written."""
        from webcare.planning import is_holding

        app = desk(self)
        cfg = app.config
        if not self._logged(lambda: app.monitor.start_crisis(cfg.operator, reason)):
            return False
        def started(held: int) -> None:
            said = word("crisis_started", cfg.language)
            if held > 0:
                said += f" · ‖ {held} {word('crisis_held', cfg.language)}"
            app.notify(said, severity="warning", markup=False)

        today = app.clock().astimezone(cfg.timezone).date()
        if cfg.crisis.hold_plan and not is_holding(app.plan.all(), today):
            app.session.toggle_hold(started)  # the plan is written in the writer's turn
        else:
            started(0)
        app.tell(CrisisChanged)
        return True

    def action_detail(self) -> None:
        self.toggle_class("-detail-open")
        if self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(self._selected())

    def action_reply(self) -> None:
        m = self._selected()
        if m is not None:
            desk(self).open_composer(m)

    def action_holding(self) -> None:
        """The holding statement as the selected mention's draft (ctrl+y in the composer copies
        it); with nothing selected, straight to the clipboard."""
        app = desk(self)
        statement = app.config.crisis.holding_statement
        m = self._selected()
        if m is None:
            app.copy_to_clipboard(statement)
            self.notify(word("statement_copied", app.config.language), markup=False)
            return
        stored = app.drafts.open(m)  # kept in the store: perhaps from before a restart
        draft = app.drafts.texts.get(m.id) or (stored.text if stored is not None else "")
        if statement not in draft:  # a draft already written stays, below the statement
            app.drafts.texts[m.id] = f"{statement}\n\n{draft}" if draft.strip() else statement
        app.open_composer(m)

    def action_log(self) -> None:
        app = desk(self)
        if not app.monitor.in_crisis:
            return

        def answered(text: str | None) -> None:
            if text and text.strip():
                if self._logged(lambda: app.monitor.log_decision(app.config.operator, clean_line(text, 1000))):
                    app.tell(CrisisChanged)
                else:  # not saved: the prompt again, with the decision as typed
                    app.push_screen(PromptScreen(word("crisis_decision_prompt", app.config.language), text), answered)

        app.push_screen(PromptScreen(word("crisis_decision_prompt", app.config.language)), answered)

    def action_end(self) -> None:
        from webcare.planning import is_holding

        app = desk(self)
        cfg = app.config
        lang = cfg.language
        if not app.monitor.in_crisis:
            return

        def back(yes: bool | None = None) -> None:
            if yes:
                app.session.toggle_hold(
                    lambda changed: app.notify(f"{word('released', lang)}: {abs(changed)}", markup=False)
                )
            if self.is_current:
                self.dismiss()  # crisis over: back to the stream

        def ended(yes: bool | None) -> None:
            if not yes or not self._logged(lambda: app.monitor.end_crisis(cfg.operator)):
                return
            self.notify(word("crisis_ended", lang), markup=False)
            app.tell(CrisisChanged)
            today = app.clock().astimezone(cfg.timezone).date()
            if is_holding(app.plan.all(), today):
                app.push_screen(ConfirmScreen(word("crisis_release_confirm", lang)), back)
            else:
                back()

        app.push_screen(ConfirmScreen(word("crisis_end_confirm", lang)), ended)

    def action_leave(self) -> None:
        if self.has_class("-detail-open"):
            self.remove_class("-detail-open")
            return
        self.dismiss()


def _duration(span: timedelta, language: str) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    h = "u" if language == "nl" else "h"
    if hours and mins:
        return f"{hours} {h} {mins} min"
    return f"{hours} {h}" if hours else f"{mins} min"
