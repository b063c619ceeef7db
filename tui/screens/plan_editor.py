"""Adding or editing a plan item: title, time, channels, theme, text. Enter on the last field
(or ctrl+s) saves; escape cancels. With `save`, the editor saves through it and stays open
when it fails (a full disk): what was typed is not lost."""

from __future__ import annotations

from datetime import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from webcare.channels import normalize_channel
from webcare.i18n import word

FIELDS = ("title", "time", "channels", "theme", "text")


class PlanEditor(ModalScreen[dict | None]):
    DEFAULT_CSS = """
    PlanEditor { align: center middle; }
    PlanEditor > Vertical { width: 76; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    PlanEditor Input { margin: 0 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="plan.cancel"),
        Binding("ctrl+s", "save", "save", id="plan.save"),
    ]

    def __init__(self, language: str, item=None, save=None) -> None:
        super().__init__()
        self.language = language
        self.item = item
        self.save = save  # save(fields, done): done(saved) follows the write; None: the caller saves

    def compose(self) -> ComposeResult:
        item = self.item
        values = {
            "title": item.title if item else "",
            "time": item.time.strftime("%H:%M") if item and item.time else "",
            "channels": ", ".join(item.channels) if item else "",
            "theme": item.theme if item else "",
            "text": item.text if item else "",
        }
        with Vertical():
            for name in FIELDS:
                yield Label(word(f"plan_{name}", self.language), markup=False)
                yield Input(values[name], id=name, compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == FIELDS[-1]:
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value.strip() for name in FIELDS}
        if not values["title"]:
            self.notify(word("plan_needs_title", self.language), severity="warning", markup=False)
            return
        try:
            at = time.fromisoformat(values["time"]) if values["time"] else None
            channels = tuple(
                normalize_channel(c)
                for c in values["channels"].replace(";", ",").split(",")
                if c.strip()
            )
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        fields = {
            "title": values["title"],
            "time": at,
            "channels": channels,
            "theme": values["theme"],
            "text": values["text"],
        }
        if self.save is None:
            self.dismiss(fields)
            return

        def done(saved: bool) -> None:  # not saved (the caller said why): stay open with what was typed
            if saved and self.is_attached:
                self.dismiss(fields)

        self.save(fields, done)

    def action_cancel(self) -> None:
        self.dismiss(None)
