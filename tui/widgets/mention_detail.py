"""The detail pane: one mention whole — text, author, channel, link, times, keywords, source,
status and history. Everything from outside goes in as plain Text, never as markup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from webcare.channels import SHORT
from webcare.i18n import ago, countdown, status_word, when, word
from webcare.mention import Mention


class MentionDetail(VerticalScroll, can_focus=False):
    """Shows the mention it is given; empty when none."""

    DEFAULT_CSS = """
    MentionDetail { height: 1fr; padding: 0 1; }
    MentionDetail > Static { width: 1fr; }
    """

    def __init__(self, language: str, timezone: ZoneInfo, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.language = language
        self.timezone = timezone
        self.clock = clock
        self.mention: Mention | None = None
        self._shown: tuple | None = None
        self._body = Static("", id="detail-body", markup=False)

    def compose(self):
        yield self._body

    def show(self, mention: Mention | None) -> None:
        if mention is self.mention and mention is not None and self._shown == self._version(mention):
            return
        if mention is not self.mention:
            self.scroll_home(animate=False)
        self.mention = mention
        self._shown = self._version(mention) if mention else None
        self._body.update(self.describe(mention) if mention else Text(""))

    def refresh_times(self) -> None:
        if self.mention is not None:
            self._body.update(self.describe(self.mention))

    @staticmethod
    def _version(m: Mention) -> tuple:
        return (m.status, len(m.history))

    def _time(self, moment: datetime | None, now: datetime) -> str:
        if moment is None:
            return word("unknown", self.language)
        return f"{when(moment, self.timezone, self.language)} ({ago(moment, now, self.language)})"

    def describe(self, m: Mention) -> Text:
        """The whole mention as Text; outside text is appended as plain strings."""
        now = self.clock()
        lang = self.language
        out = Text()
        who = m.author if not m.author_name else f"{m.author_name} ({m.author})"
        out.append(who, style="bold")
        out.append(f"  {SHORT.get(m.channel, m.channel)} · {m.channel}\n", style="dim")
        if m.title:
            out.append(m.title + "\n", style="bold")
        out.append("\n")
        out.append(m.text)
        out.append("\n\n")
        rows: list[tuple[str, str]] = []
        if m.owed and m.deadline is not None:
            rows.append((word("deadline", lang), f"{when(m.deadline, self.timezone, lang)} · {countdown(m.deadline - now, lang)}"))
        elif m.owed:
            rows.append((word("deadline", lang), word("no_norm", lang)))
        rows.append((word("status", lang), status_word(m.status, lang)))
        rows.append((word("published", lang), self._time(m.published_at, now)))
        rows.append((word("first_seen", lang), self._time(m.first_seen_at, now)))
        if m.url:
            rows.append((word("link", lang), m.url))
        if m.keywords:
            rows.append((word("keywords", lang), ", ".join(m.keywords)))
        if m.reach is not None:
            rows.append((word("reach", lang), f"{m.reach:,}".replace(",", ".") if lang == "nl" else f"{m.reach:,}"))
        rows.append((word("source", lang), m.source))
        width = max(len(label) for label, _ in rows) + 2
        for label, value in rows:
            out.append(label.ljust(width), style="dim")
            out.append(value + "\n")
        if m.history:
            out.append(f"\n{word('history', lang)}\n", style="bold")
            for entry in m.history[-50:]:
                at = datetime.fromisoformat(entry["at"]).astimezone(self.timezone)
                out.append(f"{at:%d-%m %H:%M} {entry.get('who', '?')}: {entry.get('what', '')}\n")
        return out
