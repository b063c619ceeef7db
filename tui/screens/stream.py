"""The stream screen: the header, the live list of mentions, the detail pane and the filter."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.desk import desk
from tui.keys import localize
from tui.messages import (
    ClockTicked,
    CrisisChanged,
    DraftsChanged,
    HeaderChanged,
    MentionsChanged,
    MentionsRewritten,
    PresenceChanged,
)
from tui.screens.prompt import PromptScreen
from tui.widgets.desk_header import DeskHeader, HeaderFacts
from tui.widgets.experts_pane import ExpertsPane
from tui.widgets.mention_detail import MentionDetail
from tui.widgets.mention_list import MentionList
from tui.widgets.triage_pane import TriagePane
from webcare import triage
from webcare.i18n import word
from webcare.mention import Mention
from webcare.moderation import offers_moderation
from webcare.norms import Urgency
from webcare.trends import banner
from webcare.triage import DIRECT

PEOPLE_VIEW = "all"  # the watchlist group of the "pers & peers" view (webcare.watch.KIND_GROUPS)
WIDE = 100  # from this many columns the experts pane and the detail stand beside the stream


def _route_of(leaf) -> str | None:
    """Where a leaf sends the mention; a leaf of an older custom [scheme] that flags a mention
    ("flagged", L12's) without a route signals it to the communication lead too."""
    if leaf.route is None and "flagged" in leaf.flags:
        return "lead"
    return leaf.route


class StreamScreen(Screen):
    BINDINGS = [
        Binding("t", "triage", "triage", id="stream.triage"),
        Binding("r", "reply", "reply", id="stream.reply"),
        Binding("m", "monitor", "monitor", id="stream.monitor"),
        Binding("d", "done", "done", id="stream.done"),
        Binding("z", "snooze", "snooze", show=False, id="stream.snooze"),
        Binding("y", "copy_link", "copy link", show=False, id="stream.copy"),
        Binding("e", "experts", "experts", id="stream.experts"),
        Binding("a", "expert_answered", "expert answered", show=False, id="stream.answered"),
        Binding("slash", "filter", "filter", id="stream.filter"),
        Binding("v", "people", "press & peers", show=False, id="stream.people"),
        Binding("escape", "close", "close", show=False, id="stream.close"),
        Binding("D", "toggle_detail", "detail", show=False, id="stream.detail"),
        Binding("S", "signalled", "signalled", show=False, id="stream.signalled"),
        Binding("b", "ambassadors", "to ambassadors", show=False, id="stream.ambassadors"),
        *(
            Binding(key, f"direct('{leaf}')", f"→ {leaf}", show=False, id=f"stream.direct.{leaf}")
            for key, leaf in DIRECT.items()
        ),
    ]

    def __init__(self) -> None:
        # The classes the layout depends on are known before mounting: given here, the first
        # styling and layout already have them (set after mounting, each restyles the screen).
        app = desk(self)
        classes = ["-no-experts"] if not app.directory else []
        if app.size.width >= WIDE:
            classes.append("-wide")
        super().__init__(classes=" ".join(classes) or None)
        localize(self, app.config.language)

    def compose(self) -> ComposeResult:
        app = desk(self)
        cfg = app.config
        yield DeskHeader(cfg.name, cfg.language, cfg.timezone, app.clock, id="header")
        with Horizontal(id="main"):
            with Vertical(id="stream-column"):
                mention_list = MentionList(app.queue, cfg.language, app.clock, app.presence.mark, id="stream")
                localize(mention_list, cfg.language)
                yield mention_list
                # Hidden until asked for (t, /): hidden from the start, not after mounting, so
                # the first layout is the one painted.
                triage_pane = TriagePane(cfg.scheme, cfg.language, id="triage")
                triage_pane.display = False
                yield triage_pane
                filter_input = Input(
                    placeholder=word("filter_hint", cfg.language), id="filter", compact=True
                )
                filter_input.display = False
                yield filter_input
            with Vertical(id="side"):
                yield ExpertsPane(
                    app.directory, cfg.language, cfg.timezone, app.clock, id="experts"
                )
                yield MentionDetail(
                    cfg.language, cfg.timezone, app.clock, app.session.thread_of, scheme=cfg.scheme,
                    others=app.presence.others_on, draft=app.drafts.open, id="detail",
                )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        mention_list = self.query_one(MentionList)
        mention_list.selection_changed.subscribe(self, self._selection_changed, immediate=True)
        desk(self).presence.viewing_changed(mention_list.selected)
        mention_list.focus()
        self._layout_for(self.size.width)
        # The header is filled by on_screen_resume, which follows every push (this one too).

    def on_presence_changed(self, _message: PresenceChanged) -> None:
        """Another desk moved, claimed or left: repaint the rows and the detail that show it."""
        self.query_one(MentionList).refresh()
        detail = self.query_one(MentionDetail)
        if detail.mention is not None:
            detail.show(detail.mention, force=True)
        self.update_header()

    def on_drafts_changed(self, _message: DraftsChanged) -> None:
        """A desk kept or dropped a draft: the detail says whose draft a mention has."""
        detail = self.query_one(MentionDetail)
        if detail.mention is not None:
            detail.show(detail.mention, force=True)

    def on_screen_resume(self) -> None:
        """Back from another screen: mentions may have come in meanwhile (only the screen on top
        is told), and today's plan may have changed."""
        self.mentions_changed()

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        self.set_class(width >= WIDE, "-wide")
        if width >= WIDE:
            self.query_one(MentionDetail).show(self.query_one(MentionList).selected)
            self.query_one(ExpertsPane).show(self.query_one(MentionList).selected)

    # --- data in ----------------------------------------------------------------------

    def on_mentions_changed(self, _message: MentionsChanged) -> None:
        self.mentions_changed()

    def mentions_changed(self) -> None:
        """The app's queue changed: redraw the list (keeping the selection) and the header."""
        self.query_one(MentionList).reload()
        self.query_one(ExpertsPane).refresh()  # a routed mention shows its expert's countdown
        self.update_header()

    def on_mentions_rewritten(self, _message: MentionsRewritten) -> None:
        """Mentions were rewritten in place (an erasure, retention): the detail pane repaints
        the one it shows, whose text may be gone now."""
        detail = self.query_one(MentionDetail)
        if detail.mention is not None:
            detail.show(detail.mention, force=True)
        self.query_one(ExpertsPane).refresh()

    def on_clock_ticked(self, _message: ClockTicked) -> None:
        self.query_one(MentionList).tick()
        experts = self.query_one(ExpertsPane)
        if experts.display and experts.mention is not None:
            experts.refresh()  # "bereikbaar tot 17:00" and the expert's countdown follow the clock
        detail = self.query_one(MentionDetail)
        if detail.display:
            detail.refresh_times()
        self.update_header()

    def on_header_changed(self, _message: HeaderChanged | CrisisChanged) -> None:
        self.update_header()

    on_crisis_changed = on_header_changed

    def update_header(self) -> None:
        app = desk(self)
        counts = app.queue.counts(app.clock(), app.max_norm)
        self.query_one(DeskHeader).update_facts(
            HeaderFacts(
                new=app.queue.new_count,
                due_soon=counts[Urgency.DUE_SOON],
                overdue=counts[Urgency.OVERDUE],
                shown=len(app.queue),
                total=app.queue.total,
                collecting=app.collection.collecting,
                health=app.collection.health,
                banner=banner(app.monitor.spikes, app.config.language),
                crisis=app.monitor.crisis[0] if app.monitor.crisis else None,
                others=sorted({d.operator for d in app.presence.others}),
                damage=app.collection.damage,
                **app.session.plan_facts(),
            )
        )

    # --- list events ------------------------------------------------------------------

    def _selection_changed(self, mention: Mention | None) -> None:
        """The cursor moved (called at once, not by message: see MentionList.selection_changed)."""
        desk(self).presence.viewing_changed(mention)
        if self.has_class("-wide") or self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(mention)
        if self.has_class("-wide") or self.has_class("-experts-open"):
            self.query_one(ExpertsPane).show(mention)

    @on(MentionList.Opened)
    def _opened(self, event: MentionList.Opened) -> None:
        self.add_class("-detail-open")
        self.query_one(MentionDetail).show(event.mention)

    def go_to(self, mention_id: str) -> bool:
        """Select `mention_id` and open its detail (`:` and `webcare --open`); a filter that
        hides it is cleared first."""
        app = desk(self)
        if app.queue.get(mention_id) is None:  # reads its segment: it may not have been shown yet
            return False
        if app.queue.index_of(mention_id) is None and app.queue.filter_query:
            self._apply_filter("")
        index = app.queue.index_of(mention_id)
        if index is None:
            return False
        mention_list = self.query_one(MentionList)
        mention_list.select_index(index)
        mention_list.focus()
        m = mention_list.selected
        if m is not None:
            self.add_class("-detail-open")
            self.query_one(MentionDetail).show(m)
        return True

    # --- triage -----------------------------------------------------------------------

    def _selected(self):
        return self.query_one(MentionList).selected

    def action_triage(self) -> None:
        m = self._selected()
        if m is not None:
            self.query_one(TriagePane).start(m)

    @on(TriagePane.Decided)
    def _decided(self, event: TriagePane.Decided) -> None:
        if desk(self).session.act(event.mention, triage.apply_leaf(event.mention, event.leaf, event.path)):
            self._follow_route(event.mention, _route_of(event.leaf))
            if offers_moderation(event.leaf):
                desk(self).session.offer_moderation(event.mention)

    def _follow_route(self, m: Mention, route: str | None) -> None:
        """The scheme's routing leaves: the crisis contact (L1) and the communication lead (L12)
        are told by e-mail while the mention stays with the desk; the spokesperson (L2) gets it
        handed off; an expert (L8) or a unit (L9) is picked by the person on duty."""
        app = desk(self)
        if route is None and self._thanks(m):
            return
        if route == "crisis":
            app.session.tell_role(m, "crisis-contact")
        elif route == "lead":
            app.session.tell_role(m, "communication-lead")
        elif route == "spokesperson":
            holder = app.config.roles.holder("spokesperson", app.directory, app.clock(), app.config.timezone)
            if holder is not None:
                app.session.route(m, holder.expert, note="")
        elif route == "expert":
            self.action_experts()
        elif route == "unit":
            self.action_experts()
            self.query_one(ExpertsPane).action_toggle_units()

    def _thanks(self, m: Mention) -> bool:
        """After L4 ("thank personally / amplify"): say that `b` passes it on to the ambassadors."""
        from webcare.ambassadors import ambassadors

        current = desk(self).queue.get(m.id) or m
        if current.category == "compliment" and current.owed and ambassadors(desk(self).config.watch):
            self.notify(word("ambassadors_hint", desk(self).config.language), markup=False)
            return True
        return False

    def action_signalled(self) -> None:
        """The "gesignaleerd" list: what was signalled to the communication lead (L12). Again
        (or esc) shows the whole stream."""
        term = f"flag:{word('signalled_view', desk(self).config.language)}"
        self._apply_filter("" if desk(self).queue.filter_query.strip() == term else term)

    def action_ambassadors(self) -> None:
        """Pass a positive mention (L4, "thank personally / amplify") on to the ambassadors, with
        a note; the history records it."""
        m = self._selected()
        if m is None:
            return
        app, lang = desk(self), desk(self).config.language
        from webcare.ambassadors import ambassadors

        people = ambassadors(app.config.watch)
        if not people:
            self.notify(word("no_ambassadors", lang), severity="warning", markup=False)
            return
        if app.config.smtp is None:  # one clipboard cannot hold an e-mail per ambassador
            self.notify(word("ambassadors_no_smtp", lang), severity="warning", markup=False)
            return
        if m.category != "compliment" and m.sentiment != "positive":
            self.notify(word("not_positive", lang), severity="warning", markup=False)
            return

        def noted(note: str | None) -> None:
            if note is not None and app.session.pass_to_ambassadors(m, note.strip()):
                names = ", ".join(a.name for a in people)
                self.notify(f"{word('passed_to_ambassadors', lang)} {names}", markup=False)

        label = f"{word('note_for_ambassadors', lang)} ({len(people)}; {word('note_hint', lang)})"
        app.push_screen(PromptScreen(label), noted)

    def action_experts(self) -> None:
        if not desk(self).directory:
            self.notify(
                word("no_experts", desk(self).config.language), severity="warning", markup=False
            )
            return
        pane = self.query_one(ExpertsPane)
        self.add_class("-experts-open")
        pane.show(self._selected())
        pane.focus()

    @on(ExpertsPane.Left)
    def _experts_left(self) -> None:
        self.remove_class("-experts-open")
        self.query_one(MentionList).focus()

    @on(ExpertsPane.Picked)
    def _picked(self, event: ExpertsPane.Picked) -> None:
        cfg = desk(self).config
        target = event.expert or event.unit
        if target is None:
            return
        label = (
            f"{word('note_for', cfg.language)} {target.name} ({word('note_hint', cfg.language)})"
        )

        def noted(note: str | None) -> None:
            if note is None:
                return
            if event.expert is not None:
                desk(self).session.route(event.mention, event.expert, note=note.strip())
            elif event.unit is not None:
                desk(self).session.pass_feedback(event.mention, event.unit, note=note.strip())
            self._experts_left()

        self.app.push_screen(PromptScreen(label), noted)

    def action_expert_answered(self) -> None:
        m = self._selected()
        if m is None or not m.routed_to:
            return
        lang = desk(self).config.language

        def answered(text: str | None) -> None:
            if text and text.strip():
                if desk(self).session.act(m, triage.expert_answered(m, text.strip(), desk(self).clock())):
                    desk(self).open_composer(m)

        self.app.push_screen(
            PromptScreen(word("expert_answer_prompt", lang), m.expert_answer), answered
        )

    @on(TriagePane.Closed)
    def _triage_closed(self) -> None:
        self.query_one(MentionList).focus()

    def action_direct(self, leaf_id: str) -> None:
        m = self._selected()
        scheme = desk(self).config.scheme
        if m is not None and leaf_id in scheme.leaves:
            leaf = scheme.leaves[leaf_id]
            if desk(self).session.act(m, triage.apply_leaf(m, leaf, triage.path_to(scheme, leaf_id))):
                self._follow_route(m, _route_of(leaf))
                if offers_moderation(leaf):
                    desk(self).session.offer_moderation(m)

    def action_monitor(self) -> None:
        if (m := self._selected()) is not None:
            desk(self).session.act(m, triage.monitor(m))

    def action_done(self) -> None:
        if (m := self._selected()) is not None:
            desk(self).session.act(m, triage.responded(m, desk(self).clock()))

    def action_snooze(self) -> None:
        m = self._selected()
        if m is None:
            return
        cfg = desk(self).config

        def snoozed(until) -> None:
            if until is not None:
                desk(self).session.act(m, triage.snooze(until, m))

        prompt = PromptScreen(
            word("snooze_prompt", cfg.language),
            "1h",
            accept=lambda text: triage.parse_until(text, desk(self).clock(), cfg.timezone),
            invalid=word("bad_time", cfg.language),
        )
        self.app.push_screen(prompt, snoozed)

    def action_copy_link(self) -> None:
        m = self._selected()
        if m is None:
            return
        lang = desk(self).config.language
        if not m.url:
            self.notify(word("no_link", lang), severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(m.url)
        self.notify(word("link_copied", lang), markup=False)

    def action_reply(self) -> None:
        m = self._selected()
        if m is not None:
            desk(self).open_composer(m)

    # --- actions ----------------------------------------------------------------------

    def action_toggle_detail(self) -> None:
        self.toggle_class("-detail-open")
        if self.has_class("-detail-open"):
            self.query_one(MentionDetail).show(self.query_one(MentionList).selected)

    def action_close(self) -> None:
        if self.has_class("-experts-open"):
            self._experts_left()
        elif self.has_class("-detail-open") and not self.has_class("-wide"):
            self.remove_class("-detail-open")
        elif desk(self).queue.filter_query:
            self._apply_filter("")

    def action_people(self) -> None:
        """The "pers & peers" view: what the people on the watchlist posted, the posts about us
        (owed, with their countdown) on top, then what they said otherwise, newest first (the
        sources follow them: webcare.intake). The filter it sets can be read and changed with
        `/`; `v` again, or esc, goes back to the whole stream."""
        view = f"watch:{PEOPLE_VIEW}"
        self._apply_filter("" if desk(self).queue.filter_query == view else view)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = desk(self).queue.filter_query
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
        desk(self).queue.set_filter(query, desk(self).clock())
        box.display = bool(query.strip())
        box.value = query
        mention_list = self.query_one(MentionList)
        mention_list.focus()
        mention_list.reload()
        self.update_header()
