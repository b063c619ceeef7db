"""The stream: a virtual list that draws only the rows on screen.

Built on the Line API (ScrollView + render_line), as toolong does for huge logs: the cost of a
key press or a countdown tick follows the terminal's height, not the 100,000 mentions behind
it. Rows are cached per (mention, state, width, minute) and dropped when the minute changes.
Text in a row comes from outside: it is put into Segments as plain text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.signal import Signal
from textual.strip import Strip

from webcare.channels import SHORT
from webcare.i18n import countdown, status_word, word
from webcare.mention import Mention, Status
from webcare.norms import Urgency
from webcare.queue import MentionQueue
from webcare.untrusted import first_line

# One cell per status, so the stream shows it without a column of words (the detail pane and
# `?` help spell them out).
STATUS_MARK = {
    Status.NEW: " ",
    Status.RESPONDING: "✎",
    Status.ROUTED: "→",
    Status.ESCALATED: "▲",
    Status.MONITORING: "◉",
    Status.RESPONDED: "✓",
    Status.CLOSED: "×",
    Status.NO_REACTION: "–",
    Status.MODERATED: "⊘",
    Status.SNOOZED: "z",
}
# Tone before the text: a glance down the stream shows where it is burning.
TONE_MARK = {"negative": "−", "positive": "+"}
GLYPH = {Urgency.OVERDUE: "‼", Urgency.DUE_SOON: "!", Urgency.ON_TIME: " ", Urgency.NO_NORM: "·"}
COUNTDOWN_CELLS = 18
AUTHOR_CELLS = 16
TIME_CELLS = 2 + COUNTDOWN_CELLS + 1  # the columns a minute changes: urgency glyph and countdown


class MentionList(ScrollView, can_focus=True):
    """The mentions of a MentionQueue, one row each, with a cursor."""

    COMPONENT_CLASSES = {
        "mention-list--overdue",
        "mention-list--due-soon",
        "mention-list--on-time",
        "mention-list--no-norm",
        "mention-list--channel",
        "mention-list--author",
        "mention-list--cursor",
        "mention-list--empty",
        "mention-list--badge",
        "mention-list--urgent",
        "mention-list--negative",
        "mention-list--positive",
    }

    DEFAULT_CSS = """
    MentionList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    MentionList > .mention-list--overdue { color: $error; text-style: bold; }
    MentionList > .mention-list--due-soon { color: $warning; text-style: bold; }
    MentionList > .mention-list--on-time { color: $success; }
    MentionList > .mention-list--no-norm { color: $text-muted; }
    MentionList > .mention-list--channel { color: $text-muted; }
    MentionList > .mention-list--author { color: $text-primary; }
    MentionList > .mention-list--cursor { text-style: reverse; }
    MentionList > .mention-list--empty { color: $text-muted; text-style: italic; }
    MentionList > .mention-list--badge { color: $accent; text-style: bold; }
    MentionList > .mention-list--urgent { color: $error; text-style: bold reverse; }
    MentionList > .mention-list--negative { color: $error; }
    MentionList > .mention-list--positive { color: $success; }
    """

    BINDINGS = [
        Binding("j,down", "cursor_down", "next", show=False, id="stream.next"),
        Binding("k,up", "cursor_up", "previous", show=False, id="stream.previous"),
        Binding("g,home", "first", "first", show=False, id="stream.first"),
        Binding("G,end", "last", "last", show=False, id="stream.last"),
        Binding("pagedown,space", "page_down", "page down", show=False, id="stream.page_down"),
        Binding("pageup", "page_up", "page up", show=False, id="stream.page_up"),
        Binding("enter", "open", "open", id="stream.open"),
    ]

    class Highlighted(Message):
        """The cursor moved to another mention (or to none)."""

        def __init__(self, mention: Mention | None) -> None:
            super().__init__()
            self.mention = mention

    class Opened(Message):
        """Enter on a mention: show it whole."""

        def __init__(self, mention: Mention) -> None:
            super().__init__()
            self.mention = mention

    def __init__(
        self,
        queue: MentionQueue,
        language: str,
        clock: Callable[[], datetime],
        others: Callable[[str], str] = lambda _id: "",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.queue = queue
        self.others = others  # who else is on a mention, for its row: "An ✎, Bo" (tui/presence.py)
        self.language = language
        self.clock = clock
        self.cursor = 0
        self._selected_id: str | None = None
        self._rows: LRUCache[tuple, Strip] = LRUCache(512)
        self._minute = self._minute_now()
        # The same news as Highlighted, delivered at once to those who subscribe with
        # immediate=True: a pane that follows the cursor then repaints in the cursor's own frame,
        # where the message would arrive after it (a second frame, 17 ms or more later).
        self.selection_changed: Signal[Mention | None] = Signal(self, "selection_changed")

    # --- state --------------------------------------------------------------------------

    @property
    def selected(self) -> Mention | None:
        if 0 <= self.cursor < len(self.queue):
            return self.queue[self.cursor]
        return None

    def _minute_now(self) -> int:
        return int(self.clock().timestamp() // 60)

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.queue))
        self._scroll_cursor_into_view()

    def reload(self) -> None:
        """The queue changed (arrivals, state changes, filter): keep the selected mention
        selected and at the same place on screen, so the person reading it is not disturbed."""
        screen_row = self.cursor - int(self.scroll_y)
        self.virtual_size = Size(self.size.width, len(self.queue))
        index = self.queue.index_of(self._selected_id) if self._selected_id else None
        if index is None:
            index = min(self.cursor, max(0, len(self.queue) - 1))
        self.cursor = index
        if self.size.height:
            target = max(0, self.cursor - max(0, min(screen_row, self.size.height - 1)))
            self.scroll_to(y=target, animate=False, immediate=True)
        self._rows.clear()
        self.refresh()
        self._announce()

    def tick(self) -> None:
        """The clock moved: repaint the countdowns on screen when the minute changed. Only the
        glyph and countdown columns change with the time, so only they are sent to the terminal
        (a fifth of the bytes of whole rows, which matters over SSH)."""
        minute = self._minute_now()
        if minute != self._minute:
            self._minute = minute
            self._rows.clear()
            top = int(self.scroll_y)
            rows = min(self.size.height, len(self.queue) - top)
            if rows > 0:
                self.refresh(Region(0, 0, TIME_CELLS, rows))
            for y in range(max(0, rows)):  # a routed row also shows the expert's countdown
                if self.queue[top + y].status == Status.ROUTED:
                    self.refresh_line(y)

    def _announce(self) -> None:
        m = self.selected
        new_id = m.id if m else None
        if new_id != self._selected_id or m is None:
            self._selected_id = new_id
        self.selection_changed.publish(m)
        self.post_message(self.Highlighted(m))

    def select_index(self, index: int) -> None:
        if not len(self.queue):
            return
        index = max(0, min(index, len(self.queue) - 1))
        if index == self.cursor and self._selected_id is not None:
            return
        old = self.cursor
        self.cursor = index
        self._scroll_cursor_into_view()
        self._refresh_row(old)
        self._refresh_row(index)
        self._announce()

    def _refresh_row(self, index: int) -> None:
        if 0 <= index - int(self.scroll_y) < self.size.height:
            self.refresh_line(index)  # ScrollView.refresh_line takes the line in the whole list

    def _scroll_cursor_into_view(self) -> None:
        height = self.size.height
        if not height:
            return
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # --- actions ----------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.select_index(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.select_index(self.cursor - 1)

    def action_first(self) -> None:
        self.select_index(0)

    def action_last(self) -> None:
        self.select_index(len(self.queue) - 1)

    def action_page_down(self) -> None:
        self.select_index(self.cursor + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        self.select_index(self.cursor - max(1, self.size.height - 1))

    def action_open(self) -> None:
        m = self.selected
        if m is not None:
            self.post_message(self.Opened(m))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y
        if 0 <= index < len(self.queue):
            self.select_index(index)
            if event.chain == 2:
                self.action_open()

    # --- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        if index >= len(self.queue):
            if index == 0:
                key = "no_match" if self.queue.filter_query else "no_mentions"
                style = self.get_component_rich_style("mention-list--empty")
                return Strip([Segment(" " + word(key, self.language), style)]).adjust_cell_length(width, self.rich_style)
            return Strip.blank(width, self.rich_style)
        m = self.queue[index]
        selected = index == self.cursor
        others = self.others(m.id)
        cache_key = (m.id, m.status, len(m.history), selected, width, self._minute, self.has_focus, others)
        strip = self._rows.get(cache_key)
        if strip is None:
            strip = self._render_row(m, selected, width, others)
            self._rows[cache_key] = strip
        return strip

    def _render_row(self, m: Mention, selected: bool, width: int, others: str = "") -> Strip:
        now = self.clock()
        level = m.urgency(now)
        base = self.rich_style
        urgency_style = base + self.get_component_rich_style(
            {
                Urgency.OVERDUE: "mention-list--overdue",
                Urgency.DUE_SOON: "mention-list--due-soon",
                Urgency.ON_TIME: "mention-list--on-time",
                Urgency.NO_NORM: "mention-list--no-norm",
            }[level]
        )
        if m.owed and m.deadline is not None:
            when = countdown(m.deadline - now, self.language)
        elif m.owed:
            when = word("no_norm", self.language)
        elif m.followed_only:
            when = word("followed", self.language)  # a watched voice, not about us
        else:
            when = status_word(m.status, self.language)
        # No more characters than the row has cells: measuring 400 only to crop them was half
        # the cost of drawing a screenful of rows.
        text = first_line(m.title + " — " + m.text if m.title else m.text, max(1, width))
        author = m.author if len(m.author) <= AUTHOR_CELLS else m.author[: AUTHOR_CELLS - 1] + "…"
        author = set_cell_size(author, AUTHOR_CELLS)  # wide characters (emoji, CJK) count double
        routed: list[Segment] = []
        if m.status == Status.ROUTED and m.routed_to and m.routed_due is not None and m.answered_at is None:
            # The expert's own countdown, beside the public one.
            late = m.routed_due < now
            style = base + self.get_component_rich_style("mention-list--overdue" if late else "mention-list--author")
            routed = [Segment(f"→{m.routed_to.split(' ')[0]} {countdown(m.routed_due - now, self.language)} · ", style)]
        marks: list[Segment] = []
        if others:  # other operators on it (✎: replying)
            marks.append(Segment(f"«{others}» ", base + self.get_component_rich_style("mention-list--due-soon")))
        if m.priority == "urgent":
            marks.append(Segment(word("badge_urgent", self.language) + " ", base + self.get_component_rich_style("mention-list--urgent")))
        if m.watchlist:
            marks.append(Segment(word(f"badge_{m.watchlist}", self.language) + " ", base + self.get_component_rich_style("mention-list--badge")))
        tone = TONE_MARK.get(m.sentiment)
        if tone is not None:
            mark = "‼" if m.sentiment == "negative" and m.anger else tone
            marks.append(Segment(mark + " ", base + self.get_component_rich_style(f"mention-list--{m.sentiment}")))
        segments = [
            Segment(GLYPH[level], urgency_style),
            Segment(STATUS_MARK.get(m.status, "?"), base),
            Segment(when[:COUNTDOWN_CELLS].ljust(COUNTDOWN_CELLS) + " ", urgency_style),
            Segment(SHORT.get(m.channel, "?").ljust(4) + " ", base + self.get_component_rich_style("mention-list--channel")),
            Segment(author + " ", base + self.get_component_rich_style("mention-list--author")),
            *routed,
            *marks,
            Segment(text, base),
        ]
        strip = Strip(segments).adjust_cell_length(width, base)
        if selected:
            cursor = self.get_component_rich_style("mention-list--cursor")
            if not self.has_focus:
                cursor = cursor + Style(dim=True)
            strip = strip.apply_style(cursor)
        return strip

    def on_focus(self) -> None:
        self._rows.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._rows.clear()
        self.refresh()
