"""A yes/no question (y or enter: yes; n or escape: no)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Label { width: 60; max-width: 100%; border: round $warning; background: $surface;
        padding: 1 2; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Label(self.question, markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
