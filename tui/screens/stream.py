"""The stream screen: the header, the live list of mentions, the detail pane and the filter."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.keys import localize
from tui.screens.snooze import SnoozeScreen
from tui.widgets.desk_header import DeskHeader, HeaderFacts
from tui.widgets.mention_detail import MentionDetail
from tui.widgets.mention_list import MentionList
from tui.widgets.triage_pane import TriagePane
from webcare import triage
from webcare.i18n import word
from webcare.mention import Mention
from webcare.norms import Urgency
from webcare.triage import DIRECT

WIDE = 120  # from this many columns the detail pane stands beside the stream


class StreamScreen(Screen):
    BINDINGS = [
        Binding("t", "triage", "triage", id="stream.triage"),
        Binding("r", "reply", "reply", id="stream.reply"),
        Binding("m", "monitor", "monitor", id="stream.monitor"),
        Binding("d", "done", "done", id="stream.done"),
        Binding("z", "snooze", "snooze", show=False, id="stream.snooze"),
        Binding("y", "copy_link", "copy link", show=False, id="stream.copy"),
        Binding("slash", "filter", "filter", id="stream.filter"),
        Binding("escape", "close", "close", show=False, id="stream.close"),
        Binding("D", "toggle_detail", "detail", show=False, id="stream.detail"),
        *(
            Binding(key, f"direct('{leaf}')", f"→ {leaf}", show=False, id=f"stream.direct.{leaf}")
            for key, leaf in DIRECT.items()
        ),
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
                yield TriagePane(cfg.scheme, cfg.language, id="triage")
                yield Input(placeholder=word("filter_hint", cfg.language), id="filter", compact=True)
            yield MentionDetail(cfg.language, cfg.timezone, app.clock, id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one(TriagePane).display = False
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

    # --- triage -----------------------------------------------------------------------

    def _selected(self):
        return self.query_one(MentionList).selected

    def action_triage(self) -> None:
        m = self._selected()
        if m is not None:
            self.query_one(TriagePane).start(m)

    @on(TriagePane.Decided)
    def _decided(self, event: TriagePane.Decided) -> None:
        self.app.act(event.mention, *triage.apply_leaf(event.leaf, event.path))

    @on(TriagePane.Closed)
    def _triage_closed(self) -> None:
        self.query_one(MentionList).focus()

    def action_direct(self, leaf_id: str) -> None:
        m = self._selected()
        scheme = self.app.config.scheme
        if m is not None and leaf_id in scheme.leaves:
            self.app.act(m, *triage.apply_leaf(scheme.leaves[leaf_id], triage.path_to(scheme, leaf_id)))

    def action_monitor(self) -> None:
        if (m := self._selected()) is not None:
            self.app.act(m, *triage.monitor())

    def action_done(self) -> None:
        if (m := self._selected()) is not None:
            self.app.act(m, *triage.responded(m, self.app.clock()))

    def action_snooze(self) -> None:
        m = self._selected()
        if m is None:
            return
        cfg = self.app.config

        def snoozed(until) -> None:
            if until is not None:
                self.app.act(m, *triage.snooze(until, m))

        self.app.push_screen(SnoozeScreen(cfg.language, self.app.clock, cfg.timezone), snoozed)

    def action_copy_link(self) -> None:
        m = self._selected()
        if m is None:
            return
        lang = self.app.config.language
        if not m.url:
            self.notify(word("no_link", lang), severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(m.url)
        self.notify(word("link_copied", lang), markup=False)

    def action_reply(self) -> None:
        m = self._selected()
        if m is not None:
            self.app.open_composer(m)

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
