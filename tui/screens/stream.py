"""The stream screen: the header, the live list of mentions, the detail pane and the filter."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.keys import localize
from tui.widgets.desk_header import DeskHeader, HeaderFacts
from tui.widgets.mention_detail import MentionDetail
from tui.widgets.mention_list import MentionList
from webcare.i18n import word
from webcare.mention import Mention
from webcare.norms import Urgency

WIDE = 120  # from this many columns the detail pane stands beside the stream


class StreamScreen(Screen):
    BINDINGS = [
        Binding("slash", "filter", "filter", id="stream.filter"),
        Binding("escape", "close", "close", show=False, id="stream.close"),
        Binding("D", "toggle_detail", "detail", show=False, id="stream.detail"),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize(self, self.app.config.language)

    def compose(self) -> ComposeResult:
        app = self.app
        cfg = app.config
        yield DeskHeader(cfg.name, cfg.language, cfg.timezone, app.clock, id="header")
        with Horizontal(id="main"):
            with Vertical(id="stream-column"):
                mention_list = MentionList(app.queue, cfg.language, app.clock, id="stream")
                localize(mention_list, cfg.language)
                yield mention_list
                yield Input(placeholder=word("filter_hint", cfg.language), id="filter", compact=True)
            yield MentionDetail(cfg.language, cfg.timezone, app.clock, id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        mention_list = self.query_one(MentionList)
        mention_list.selection_changed.subscribe(self, self._selection_changed, immediate=True)
        mention_list.focus()
        self._layout_for(self.size.width)
        self.update_header()

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        self.set_class(width >= WIDE, "-wide")
        if width >= WIDE:
            self.query_one(MentionDetail).show(self.query_one(MentionList).selected)

    # --- data in ----------------------------------------------------------------------

    def mentions_changed(self) -> None:
        """The app's queue changed: redraw the list (keeping the selection) and the header."""
        self.query_one(MentionList).reload()
        self.update_header()

    def clock_ticked(self) -> None:
        self.query_one(MentionList).tick()
        detail = self.query_one(MentionDetail)
        if detail.display:
            detail.refresh_times()
        self.update_header()

    def update_header(self) -> None:
        app = self.app
        counts = app.queue.counts(app.clock(), app.max_norm)
        self.query_one(DeskHeader).update_facts(
            HeaderFacts(
                new=app.queue.new_count,
                due_soon=counts[Urgency.DUE_SOON],
                overdue=counts[Urgency.OVERDUE],
                shown=len(app.queue),
                total=app.queue.total,
                collecting=app.collecting,
                health=app.health,
            )
        )

    # --- list events ------------------------------------------------------------------

    def _selection_changed(self, mention: Mention | None) -> None:
        """The cursor moved (called at once, not by message: see MentionList.selection_changed)."""
        if self.has_class("-wide") or self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(mention)

    @on(MentionList.Opened)
    def _opened(self, event: MentionList.Opened) -> None:
        self.add_class("-detail-open")
        self.query_one(MentionDetail).show(event.mention)

    # --- actions ----------------------------------------------------------------------

    def action_toggle_detail(self) -> None:
        self.toggle_class("-detail-open")
        if self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(self.query_one(MentionList).selected)

    def action_close(self) -> None:
        if self.has_class("-detail-open") and not self.has_class("-wide"):
            self.remove_class("-detail-open")
        elif self.app.queue.filter_query:
            self._apply_filter("")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.app.queue.filter_query
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._apply_filter(event.value)

    def on_key(self, event) -> None:
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            self._apply_filter("")

    def _apply_filter(self, query: str) -> None:
        box = self.query_one("#filter", Input)
        self.app.queue.set_filter(query, self.app.clock())
        box.display = bool(query.strip())
        box.value = query
        mention_list = self.query_one(MentionList)
        mention_list.focus()
        mention_list.reload()
        self.update_header()
