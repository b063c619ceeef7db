"""The help screen (`?`): every key of the screen it was opened from, with what it does.

The list is read from the live bindings (screen, focused widget, app), so it is always the keys
that work right now, including any the user remapped in [keys]."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from webcare.i18n import word

EXTRA = {
    "nl": [("ctrl+p", "opdrachtenpalet"), ("ctrl+c", "selectie kopiëren")],
    "en": [("ctrl+p", "command palette"), ("ctrl+c", "copy selection")],
}


def key_rows(bindings: list[tuple[str, Binding]], app) -> list[tuple[str, str]]:
    """(keys, description) per binding id, merging keys that do the same thing."""
    merged: dict[str, tuple[list[str], str]] = {}
    for key, binding in bindings:
        ident = binding.id or binding.action
        keys, _ = merged.setdefault(ident, ([], binding.description or binding.action))
        shown = app.get_key_display(Binding(key, binding.action))
        if shown not in keys:
            keys.append(shown)
    return [(" ".join(keys), desc) for keys, desc in merged.values()]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "close", id="help.close"),
        Binding("j,down", "scroll_down", show=False),
        Binding("k,up", "scroll_up", show=False),
        Binding("space,pagedown", "page_down", show=False),  # at 80x24 the list is longer than the screen
        Binding("pageup", "page_up", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str]], language: str) -> None:
        super().__init__()
        self.rows = rows + EXTRA.get(language, EXTRA["en"])
        self.language = language

    def compose(self):
        width = max(len(k) for k, _ in self.rows) + 2
        text = Text()
        text.append(word("help_title", self.language) + "\n\n", style="bold")
        for keys, desc in self.rows:
            text.append(keys.ljust(width), style="bold")
            text.append(desc + "\n")
        text.append("\n" + word("help_close", self.language), style="dim")
        with VerticalScroll():
            yield Static(text)

    def action_scroll_down(self) -> None:
        self.query_one(VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one(VerticalScroll).scroll_up()

    def action_page_down(self) -> None:
        self.query_one(VerticalScroll).scroll_page_down()

    def action_page_up(self) -> None:
        self.query_one(VerticalScroll).scroll_page_up()

    async def action_dismiss(self, result=None) -> None:
        self.dismiss(None)
