"""Asks until when to snooze a mention: '30m', '2h', '1d' or 'HH:MM'."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from webcare.i18n import word
from webcare.triage import parse_until


class SnoozeScreen(ModalScreen[datetime | None]):
    DEFAULT_CSS = """
    SnoozeScreen { align: center middle; }
    SnoozeScreen > Vertical { width: 60; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="snooze.cancel")]

    def __init__(self, language: str, clock, timezone) -> None:
        super().__init__()
        self.language, self.clock, self.timezone = language, clock, timezone

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(word("snooze_prompt", self.language))
            yield Input(value="1h", id="until")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        until = parse_until(event.value, self.clock(), self.timezone)
        if until is None:
            self.notify(word("bad_time", self.language), severity="warning", markup=False)
            return
        self.dismiss(until)

    def action_cancel(self) -> None:
        self.dismiss(None)
