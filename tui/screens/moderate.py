"""Ask before moderating on the platform: what will be kept as evidence, what will be done, and
which key does it (y or j: the first action; 2, 3…: the others; n or escape: nothing)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from webcare.i18n import word
from webcare.mention import Mention
from webcare.untrusted import first_line


class ModerateScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ModerateScreen { align: center middle; }
    ModerateScreen > Static { width: 72; max-width: 100%; border: round $error; background: $surface;
        padding: 1 2; }
    """

    def __init__(self, mention: Mention, source: str, actions: list[str], language: str, tz) -> None:
        super().__init__()
        self.mention, self.source, self.actions, self.language, self.tz = mention, source, actions, language, tz

    def compose(self) -> ComposeResult:
        lang, m = self.language, self.mention
        out = Text()  # outside text (the post, its author) as plain Text: never markup
        out.append(word("moderate_ask", lang).format(action=self.actions[0], source=self.source) + "\n\n", style="bold")
        when = m.published_at or m.first_seen_at
        out.append(f"{m.author}  {when.astimezone(self.tz):%Y-%m-%d %H:%M}\n", style="dim")
        out.append(first_line(m.text, 200) + "\n")
        if m.url:
            out.append(m.url + "\n", style="dim")
        others = "".join(f"{i}: {a} · " for i, a in enumerate(self.actions[1:], start=2))
        out.append("\n" + word("moderate_keys", lang).format(first=self.actions[0], others=others), style="dim")
        yield Static(out)

    def on_key(self, event: events.Key) -> None:
        # y and j both say yes (the Dutch desks answer j/n); enter does not: an action on the
        # platform is never taken by a key pressed on the way.
        key = event.key
        if key in ("y", "j"):
            self.dismiss(self.actions[0])
        elif key.isdigit() and 2 <= int(key) <= len(self.actions):
            self.dismiss(self.actions[int(key) - 1])
        elif key in ("n", "escape"):
            self.dismiss(None)
        else:
            return
        event.stop()
        event.prevent_default()
