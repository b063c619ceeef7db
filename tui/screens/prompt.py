"""A one-line question: a label, an input, enter answers and escape cancels.

Used for a snooze time, a note for the expert, and the expert's answer. The answer is checked
by `accept` (None: not valid, ask again) before the screen closes with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PromptScreen(ModalScreen[Any]):
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 72; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="prompt.cancel")]

    def __init__(
        self,
        label: str,
        value: str = "",
        accept: Callable[[str], Any] = lambda s: s,
        invalid: str = "",
    ) -> None:
        super().__init__()
        self.label, self.value, self.accept, self.invalid = label, value, accept, invalid

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.label, markup=False)
            yield Input(value=self.value, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        result = self.accept(event.value)
        if result is None:
            self.notify(self.invalid or "?", severity="warning", markup=False)
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
