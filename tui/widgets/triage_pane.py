"""The triage pane: the reaction scheme walked one key per answer.

It shows the current question with its options and keys, the path so far, and at a leaf the
recommended action. Keys come from the scheme (data) and the desk's language (j/n in Dutch, y/n
in English: webcare.scheme.typed_keys), so they are handled here rather than as static
bindings: an option key answers, backspace steps back, escape cancels, enter applies.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from webcare.i18n import word
from webcare.mention import Mention
from webcare.scheme import Leaf, Scheme, Walk, shown_path, typed_keys
from webcare.untrusted import first_line


class TriagePane(Widget, can_focus=True):
    DEFAULT_CSS = """
    TriagePane { height: auto; max-height: 14; padding: 0 1; border-top: solid $accent;
        background: $boost; }
    """

    class Decided(Message):
        """Enter at a leaf: apply it to the mention."""

        def __init__(self, mention: Mention, leaf: Leaf, path: list[str]) -> None:
            super().__init__()
            self.mention, self.leaf, self.path = mention, leaf, path

    class Closed(Message):
        """The walk was cancelled or applied; the pane hides."""

    def __init__(self, scheme: Scheme, language: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scheme = scheme
        self.language = language
        self.mention: Mention | None = None
        self.walk = Walk(scheme, language)

    def start(self, mention: Mention) -> None:
        self.mention = mention
        self.walk = Walk(self.scheme, self.language)
        self.display = True
        self.focus()
        self.refresh(layout=True)

    def close(self) -> None:
        self.mention = None
        self.display = False
        self.post_message(self.Closed())

    def on_key(self, event: events.Key) -> None:
        if self.mention is None:
            return
        key = event.key
        handled = True
        if key == "escape":
            self.close()
        elif key == "backspace":
            self.walk.back()
        elif key == "enter":
            leaf = self.walk.leaf
            if leaf is not None:
                self.post_message(self.Decided(self.mention, leaf, self.walk.path()))
                self.close()
        elif event.character and len(event.character) == 1 and self.walk.answer(event.character):
            pass
        else:
            handled = key not in ("q", "question_mark", "ctrl+p", "ctrl+c", "tab")
        if handled:
            event.stop()
            event.prevent_default()
            self.refresh(layout=True)

    def render(self) -> Text:
        lang = self.language
        out = Text()
        if self.mention is None:
            return out
        out.append(f"{word('triage', lang)}: ", style="bold")
        out.append(f"{self.mention.author} — {first_line(self.mention.text, 40)}…\n", style="dim")
        if self.walk.answers:
            out.append(shown_path(self.scheme, self.walk.path(), lang) + "\n", style="dim")
        node = self.walk.current
        if isinstance(node, Leaf):
            out.append(f"{node.id} ", style="bold reverse")
            out.append(node.action.get(lang, node.action.get("en", "")) + "\n", style="bold")
            out.append(word("triage_apply", lang), style="dim")
            return out
        out.append(f"{node.id}  ", style="bold")
        out.append(node.text.get(lang, node.text.get("en", "")) + "\n")
        keys = typed_keys(node, lang)
        for option in node.options:
            out.append(f" {keys[option.key]} ", style="bold reverse")
            out.append(f" {option.label.get(lang, option.key)}   ")
        out.append("\n")
        out.append(word("triage_keys", lang), style="dim")
        return out
