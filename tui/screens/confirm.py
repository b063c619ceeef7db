"""A yes/no question: yes is `j` in a Dutch desk and `y` in an English one (or enter); no is
`n` (or escape). The keys are said under the question, so the question's text need not."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from tui.desk import desk
from tui.keys import localize
from webcare.i18n import word


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 60; max-width: 100%; height: auto; border: round $warning;
        background: $surface; padding: 1 2; }
    ConfirmScreen #confirm-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no"),
    ]

    def __init__(self, question: str, language: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.language = language or desk(self).config.language
        localize(self, self.language)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            yield Label(word("confirm_keys", self.language), id="confirm-keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
