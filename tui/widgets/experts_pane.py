"""The experts pane: who can answer the selected mention, and whether they can be reached now.

Experts are ranked by topic match, availability now and language (webcare.routing). `e`
focuses the pane; 1–9 routes to that expert (after an optional note); `f` switches to the
units that take feedback (complaints, suggestions), where 1–9 passes the mention on. A routed
mention shows the expert's own countdown; an expert who has not answered in time is shown in
red with their deputy suggested.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from tui.keys import localize
from webcare.i18n import countdown, word
from webcare.mention import Mention, Status
from webcare.routing import Directory, Expert, Unit


class ExpertsPane(Widget, can_focus=True):
    DEFAULT_CSS = """
    /* A fixed height: following the cursor then repaints the pane without a layout pass. */
    ExpertsPane { height: 12; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ExpertsPane:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("f", "toggle_units", "units", id="experts.units"),
        Binding("escape", "leave", "back", id="experts.back"),
    ]

    class Picked(Message):
        """A digit picked an expert (or a unit, for feedback) for the mention."""

        def __init__(self, mention: Mention, expert: Expert | None, unit: Unit | None) -> None:
            super().__init__()
            self.mention, self.expert, self.unit = mention, expert, unit

    class Left(Message):
        """Escape: back to the stream."""

    def __init__(self, directory: Directory, language: str, timezone: ZoneInfo,
                 clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.directory = directory
        self.language = language
        self.timezone = timezone
        self.clock = clock
        self.mention: Mention | None = None
        self.units_mode = False
        self._choices: list[Expert | Unit] = []
        localize(self, language)

    def show(self, mention: Mention | None) -> None:
        self.mention = mention
        self.refresh()

    def action_toggle_units(self) -> None:
        self.units_mode = not self.units_mode
        self.refresh()

    def action_leave(self) -> None:
        self.units_mode = False
        self.refresh()
        self.post_message(self.Left())

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character in "123456789" and self.mention is not None:
            index = int(event.character) - 1
            if index < len(self._choices):
                choice = self._choices[index]
                event.stop()
                expert = choice if isinstance(choice, Expert) else None
                unit = choice if isinstance(choice, Unit) else None
                self.post_message(self.Picked(self.mention, expert, unit))

    def on_blur(self) -> None:
        if self.units_mode:
            self.units_mode = False
            self.refresh()

    def render(self) -> Text:
        lang, now, tz = self.language, self.clock(), self.timezone
        out = Text(no_wrap=True, overflow="ellipsis")
        m = self.mention
        if not self.directory:
            out.append(word("no_experts", lang), style="dim")
            return out
        if m is None:
            return out
        if m.routed_to and m.status == Status.ROUTED:
            out.append_text(self._routed_line(m, now))
        if self.units_mode:
            out.append(word("feedback_to", lang) + "\n", style="bold")
            units = self.directory.rank_units("\n".join((m.title, m.text)), m.keywords)[:9]
            self._choices = [u.unit for u in units]
            for i, u in enumerate(units, 1):
                out.append(f" {i} ", style="bold reverse")
                out.append(f" {u.unit.name}")
                if u.matched:
                    out.append(f" · {', '.join(u.matched)}", style="dim")
                out.append("\n")
            return out
        out.append(word("experts", lang) + "\n", style="bold")
        ranked = self.directory.rank_mention(m, now=now, tz=tz)[:9]
        self._choices = [r.expert for r in ranked]
        for i, r in enumerate(ranked, 1):
            out.append(f" {i} ", style="bold reverse" if self.has_focus else "bold")
            out.append(f" {r.expert.name}", style="bold" if r.score else "")
            out.append(f" · {r.expert.unit}" if r.expert.unit else "", style="dim")
            reach = r.availability(now, tz, lang)
            out.append(f" · {reach}", style="green" if r.available_now or r.on_call else "yellow")
            if r.matched:
                out.append(f" · {', '.join(r.matched)}", style="dim")
            out.append("\n")
        if self.has_focus:
            out.append(word("experts_keys", lang), style="dim")
        return out

    def _routed_line(self, m: Mention, now: datetime) -> Text:
        lang = self.language
        out = Text()
        out.append(f"→ {m.routed_to}", style="bold")
        if m.routed_due is not None and not m.answered_at:
            late = m.routed_due < now
            out.append(f" · {countdown(m.routed_due - now, lang)}", style="bold red" if late else "")
            if late and m.routed_to:
                deputy = self.directory.deputy_of(m.routed_to) if self.directory.expert(m.routed_to) else None
                if deputy is not None:
                    out.append(f" · {word('ask_deputy', lang)} {deputy.name}", style="red")
        out.append("\n")
        return out
