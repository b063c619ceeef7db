"""The detail pane: one mention whole — text, author, channel, link, times, keywords, source,
status and history. Everything from outside goes in as plain Text, never as markup.

Drawn with the Line API, like the stream: moving the cursor replaces the lines and repaints the
pane in the same frame as the list, with no layout pass (a Static in a scroll container changes
height with every mention, which cost three extra frames per key press). A minute tick repaints
only the lines whose text changed. Text can still be selected with the mouse and copied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from webcare.channels import SHORT
from webcare.drafts import Draft
from webcare.drafts import label as draft_label
from webcare.history import describe, leaf_actions
from webcare.i18n import CATEGORY_WORDS, ago, countdown, span, status_word, when, word
from webcare.mention import Mention, Status
from webcare.scheme import Scheme, shown_path
from webcare.untrusted import clean_line, first_line

if TYPE_CHECKING:
    from rich.containers import Lines

    from webcare.store_port import Desk


class MentionDetail(ScrollView, can_focus=False):
    """Shows the mention it is given; empty when none."""

    DEFAULT_CSS = """
    MentionDetail { height: 1fr; padding: 0 1; overflow-x: hidden; }
    """

    def __init__(
        self,
        language: str,
        timezone: ZoneInfo,
        clock: Callable[[], datetime],
        thread: Callable[[Mention], tuple[Mention | None, list[Mention]]] = lambda m: (None, []),
        scheme: Scheme | None = None,
        others: Callable[[str], list[Desk]] = lambda _id: [],
        draft: Callable[[Mention], Draft | None] = lambda _m: None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.others = others  # the other desks on a mention (tui/presence.py)
        self.draft = draft  # a mention's stored draft, anyone's (tui/presence.py)
        self.scheme = scheme  # for the scheme path's keys and history lines in the desk's language
        self.thread = (
            thread  # the post a mention answers and the replies to it, as the desk has them
        )
        self.language = language
        self.timezone = timezone
        self.clock = clock
        self.mention: Mention | None = None
        self._shown: tuple | None = None
        self._text = Text("")
        self._lines: list[Text] = []  # self._text wrapped to the pane
        self._strips: dict[int, Strip] = {}  # rendered lines, by line number
        self._base: tuple[Style, int] | None = None  # the pane's style and text width, for them

    def show(self, mention: Mention | None, force: bool = False) -> None:
        if (
            not force
            and mention is self.mention
            and mention is not None
            and self._shown == self._version(mention)
        ):
            return
        if mention is not self.mention and self.scroll_y:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.mention = mention
        self._shown = self._version(mention) if mention else None
        self._set_text(self.describe(mention) if mention else Text(""))
        self.refresh()

    def refresh_times(self) -> None:
        """The minute changed: repaint the lines that show a time (and only those)."""
        if self.mention is None:
            return
        old = [line.plain for line in self._lines]
        self._set_text(self.describe(self.mention))
        if len(old) != len(self._lines):
            self.refresh()
            return
        for y, line in enumerate(self._lines):
            if line.plain != old[y]:
                self.refresh_line(y)

    # --- lines ----------------------------------------------------------------------------

    def _set_text(self, text: Text) -> None:
        self._text = text
        self._wrap()

    def _wrap(self) -> None:
        """Wrap the text to the pane, leaving room for a scrollbar only when it needs one."""
        width, height = self.size
        lines: Lines | list[Text] = self._text.wrap(self.app.console, max(1, width)) if width else []
        if len(lines) > height and self.styles.scrollbar_size_vertical and width > 1:
            width -= self.styles.scrollbar_size_vertical
            lines = self._text.wrap(self.app.console, width)
        self._lines = list(lines)
        self._strips.clear()
        self._base = None
        # At least the pane's height: a mention that fits leaves the size as it was, so showing
        # the next one needs no layout pass (a changed virtual size asks for one).
        self.virtual_size = Size(width, max(len(self._lines), height))

    def on_resize(self) -> None:
        self._wrap()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        selection = self.text_selection
        strip = self._strips.get(index) if selection is None else None
        if strip is None:
            strip = self._render_line(index, selection)
            if selection is None:
                self._strips[index] = strip
        return strip

    def _render_line(self, index: int, selection: Selection | None) -> Strip:
        if self._base is None:  # once per text, not per line: the style lookup is not cheap
            self._base = (self.rich_style, self.scrollable_content_region.width)
        base, width = self._base
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            line = line.copy()
            line.stylize(
                self.screen.get_component_rich_style("screen--selection"),
                start,
                len(line) if end == -1 else end,
            )
        segments = Segment.apply_style(line.render(self.app.console), base)
        return Strip(segments).adjust_cell_length(width, base).apply_offsets(0, index)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._base = None

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text (mouse selection), for copying."""
        return selection.extract("\n".join(line.plain for line in self._lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()

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
        if m.suspicious:  # a hand-off's tag on mail the desk did not take as the answer
            out.append(word("suspicious_answer", lang), style="bold red")
            out.append(f" ({m.suspicious})\n", style="red")  # plain text: it quotes a sender
        others = self.others(m.id)
        if others:  # other operators on this mention: never answer one person twice
            out.append(f"{word('others_here', lang)}: ", style="bold yellow")
            parts = []
            for d in others:
                if d.claim == m.id:
                    since = f" {word('since', lang)} {d.claim_since.astimezone(self.timezone):%H:%M}" if d.claim_since else ""
                    parts.append(f"{d.operator} ({word('replying', lang)}{since})")
                else:
                    parts.append(f"{d.operator} ({word('viewing', lang)})")
            out.append(", ".join(parts) + "\n", style="yellow")
        draft = self.draft(m)
        if draft is not None:  # kept in the store: a colleague may take it over with `r`
            out.append(f"✎ {draft_label(draft, self.timezone, now, lang)}\n", style="bold cyan")
            out.append(f"  {clean_line(first_line(draft.text, 200))}\n", style="dim italic")
        parent, replies = self.thread(m)
        if parent is not None:
            out.append(f"↳ {word('in_reply_to', lang)} {parent.author}: ", style="dim")
            out.append(first_line(parent.text, 160) + "\n", style="dim italic")
        elif m.in_reply_to:
            out.append(f"↳ {word('in_reply_to_unknown', lang)}\n", style="dim")
        if m.title:
            out.append(m.title + "\n", style="bold")
        out.append("\n")
        out.append(m.text)
        out.append("\n\n")
        if replies:
            out.append(f"{word('replies', lang)} ({len(replies)})\n", style="bold")
            for r in replies[-20:]:
                out.append(f"  ↳ {r.author} · {status_word(r.status, lang)}: ", style="dim")
                out.append(first_line(r.text, 160) + "\n")
            out.append("\n")
        rows: list[tuple[str, str]] = []
        if m.owed and m.deadline is not None:
            rows.append(
                (
                    word("deadline", lang),
                    f"{when(m.deadline, self.timezone, lang)} · {countdown(m.deadline - now, lang)}",
                )
            )
        elif m.owed:
            rows.append((word("deadline", lang), word("no_norm", lang)))
        rows.append((word("status", lang), status_word(m.status, lang)))
        if m.category:
            rows.append((word("category", lang), word(m.category, lang, CATEGORY_WORDS)))
        if m.scheme_path:
            path = shown_path(self.scheme, m.scheme_path, lang) if self.scheme else " ".join(m.scheme_path)
            rows.append((word("scheme_path", lang), path))
        if m.routed_to:
            rows.append((word("routed_to", lang), m.routed_to))
        if m.flags:
            rows.append((word("flags", lang), ", ".join(word(f, lang, CATEGORY_WORDS) for f in m.flags)))
        if m.snoozed_until and m.status == Status.SNOOZED:
            rows.append((word("snoozed_until", lang), when(m.snoozed_until, self.timezone, lang)))
        if m.responded_at:
            took = (
                f" ({span(timedelta(seconds=m.response_s), lang)})"
                if m.response_s is not None
                else ""
            )
            rows.append(
                (word("responded_at", lang), when(m.responded_at, self.timezone, lang) + took)
            )
        rows.append((word("published", lang), self._time(m.published_at, now)))
        rows.append((word("first_seen", lang), self._time(m.first_seen_at, now)))
        if m.url:
            rows.append((word("link", lang), m.url))
        if m.reply_ref:
            rows.append((word("reply_link", lang), m.reply_ref))
        if m.keywords:
            rows.append((word("keywords", lang), ", ".join(m.keywords)))
        if m.rules:
            rows.append((word("rules", lang), ", ".join(m.rules) + ("" if m.priority == "normal" else f" ({m.priority})")))
        if m.themes:
            rows.append((word("themes", lang), ", ".join(m.themes)))
        if m.watchlist:
            rows.append((word("watchlist", lang), word(f"badge_{m.watchlist}", lang).lower()))
        if m.language or m.sentiment:
            tone = [m.language, word(f"sentiment_{m.sentiment}", lang) if m.sentiment else "", m.register]
            if m.anger:
                tone.append(word("angry", lang) + ": " + ", ".join(m.anger))
            rows.append((word("tone", lang), " · ".join(t for t in tone if t)))
        if m.reach is not None:
            rows.append(
                (
                    word("reach", lang),
                    f"{m.reach:,}".replace(",", ".") if lang == "nl" else f"{m.reach:,}",
                )
            )
        rows.append((word("source", lang), m.source))
        width = max(len(label) for label, _ in rows) + 2
        for label, value in rows:
            out.append(label.ljust(width), style="dim")
            out.append(value + "\n")
        if m.reply:
            out.append(f"\n{word('reply', lang)}\n", style="bold")
            out.append(m.reply + "\n")
        if m.history:
            out.append(f"\n{word('history', lang)}\n", style="bold")
            leaf_action = leaf_actions(self.scheme.leaves if self.scheme else {}, lang)
            for entry in m.history[-50:]:
                at = datetime.fromisoformat(entry["at"]).astimezone(self.timezone)
                what = describe(entry, lang, leaf_action, self.timezone)
                out.append(f"{at:%d-%m %H:%M} {entry.get('who', '?')}: {what}\n")
        return out
