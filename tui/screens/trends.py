"""The trends view (`w`): themes, rules and rising words against the usual for the hour.

Per subject ("all", each theme, each rule) the last hour and the last 24 hours: how many
mentions, how many the same hours on the previous days would predict, the ratio, the share of
negative ones and a sparkline (12 × 5 minutes for the hour, 24 × 1 hour for the day). Below
them the words rising most in the hour and in the day; above them, in red, what spiked now.

The figures come from the app's trend book (tui.monitoring.Monitor.book), which is built in a
thread after the first paint: until then the view says so. It is recomputed (in a thread)
when the app tells its screens something changed (HeaderChanged: after each batch of new
mentions and on the minute tick) and only while this screen is on top; the text is handed to
the terminal only when it differs from what is shown, so an idle desk costs nothing here.

Subjects and words come from posts and rules: they are appended to a rich Text as plain
strings, never parsed as markup.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from tui.desk import desk
from tui.keys import localize
from tui.messages import CrisisChanged, HeaderChanged
from webcare.i18n import word
from webcare.trends import DAY, HOUR, Count, Series, Term, sparkline, subject_name
from webcare.untrusted import clean_line

NAME_CELLS = 24
TERMS = 8  # rising words per span


def fit(text: str, cells: int) -> str:
    """Exactly `cells` terminal cells: cut with an ellipsis, or padded (wide characters count
    double)."""
    text = clean_line(text, 200)
    if cell_len(text) > cells:
        text = set_cell_size(text, cells - 1) + "…"
    return set_cell_size(text, cells)


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


class TrendsScreen(Screen[None]):
    DEFAULT_CSS = """
    TrendsScreen #trends-scroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    TrendsScreen #trends-body { width: 1fr; }
    """
    BINDINGS = [
        Binding("escape,s", "leave", "stream", id="trends.stream"),
        Binding("j,down", "scroll(1)", "down", show=False, id="trends.down"),
        Binding("k,up", "scroll(-1)", "up", show=False, id="trends.up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize(self, desk(self).config.language)
        self._painted: Text | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="trends-scroll", can_focus=False):
            yield Static("", id="trends-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.redraw()

    def on_screen_resume(self) -> None:
        self.redraw()

    # --- what the desk tells it ----------------------------------------------------------------

    def on_header_changed(self, _message: HeaderChanged | CrisisChanged) -> None:
        """New mentions, a new minute, spikes or crisis mode changed: refigure, if shown."""
        if self.is_current:
            self.redraw()

    on_crisis_changed = on_header_changed

    # --- drawing ---------------------------------------------------------------------------

    def redraw(self) -> None:
        """Refigure in a thread: the first look at the words splits every text of the last
        days (half a second for 70,000 mentions); later ones take a few milliseconds."""
        self._figure()

    @work(thread=True, exclusive=True, group="trends-view", exit_on_error=False)
    def _figure(self) -> None:
        text = self.figures()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, text)

    def _paint(self, text: Text) -> None:
        if text == self._painted or not self.is_attached:
            return
        self._painted = text
        self.query_one("#trends-body", Static).update(text)

    def figures(self) -> Text:
        app = desk(self)
        lang = app.config.language
        monitor = app.monitor
        now = app.clock()
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(word("trends_title", lang), style="bold")
        out.append(f"  {now.astimezone(app.config.timezone):%H:%M}")
        with monitor._lock:  # the book is built in a thread and fed in this one
            book = monitor.book
            if book is None:
                out.append("\n\n" + word("trends_building", lang), style="italic")
                return out
            hour = book.counts(now, HOUR)
            day = book.counts(now, DAY)
            hour_series = book.series(now, HOUR)
            day_series = book.series(now, DAY)
            hour_terms = book.top_terms(now, HOUR, k=TERMS)
            day_terms = book.top_terms(now, DAY, k=TERMS)
            days = max((c.days for c in day), default=0)
        out.append("  ")
        if days:
            out.append(word("trends_baseline", lang).format(days=days), style="dim")
        else:
            out.append(word("trends_no_baseline", lang), style="dim")
        spiking = set()
        for spike in monitor.spikes:
            spiking.add(spike.subject)
            out.append("\n")
            out.append(f"⚠ {clean_line(spike.text(lang), 300)}", style="bold white on red")
        self._table(
            out, word("last_hour", lang), word("per_5min", lang), hour, hour_series, spiking, lang
        )
        self._table(
            out, word("last_day", lang), word("per_hour", lang), day, day_series, spiking, lang
        )
        self._terms(out, hour_terms, day_terms, lang)
        return out

    def _table(
        self,
        out: Text,
        title: str,
        per: str,
        counts: list[Count],
        series: dict,
        spiking: set,
        lang: str,
    ) -> None:
        out.append("\n\n")
        head = (
            f"{fit(title, NAME_CELLS)} {word('trend_now', lang):>5} "
            f"{word('trend_expected', lang):>8} {'×':>5} {word('trend_negative', lang):>5}  {per}"
        )
        out.append(head, style="bold underline")
        for c in counts:
            s: Series | None = series.get(c.subject)
            out.append("\n")
            name_style = "bold red" if c.subject in spiking else ""
            out.append(fit(subject_name(c.subject, lang), NAME_CELLS), style=name_style)
            out.append(f" {c.observed:>5} {number(c.expected):>8} ")
            ratio = c.ratio
            ratio_text = "–" if ratio is None else f"{ratio:.1f}"
            out.append(
                f"{ratio_text:>5}", style="bold yellow" if ratio is not None and ratio >= 2 else ""
            )
            share = c.share
            out.append(
                f" {percent(share):>5}  ", style="red" if share is not None and share >= 0.5 else ""
            )
            if s is not None:
                out.append(sparkline(s.observed), style="red" if c.subject in spiking else "cyan")

    def _terms(self, out: Text, hour: list[Term], day: list[Term], lang: str) -> None:
        out.append("\n\n")
        out.append(word("rising_terms", lang), style="bold underline")
        column = 38
        out.append("\n")
        out.append(fit(word("last_hour", lang), column), style="bold")
        out.append(word("last_day", lang), style="bold")
        for i in range(max(len(hour), len(day), 1)):
            out.append("\n")
            out.append(self._term(hour[i] if i < len(hour) else None, i, lang, column))
            out.append(self._term(day[i] if i < len(day) else None, i, lang, column))

    @staticmethod
    def _term(term: Term | None, i: int, lang: str, column: int) -> Text:
        if term is None:
            return Text(fit(word("no_rising_terms", lang) if i == 0 else "", column), style="dim")
        line = Text()
        line.append(f"{i + 1:>2} ")
        line.append(fit(term.term, 16), style="bold")
        line.append(f" {term.count:>4}")
        line.append(f" ({word('trend_expected', lang)} {number(term.expected)})", style="dim")
        line.append(" " * max(0, column - line.cell_len))
        return line

    # --- keys ------------------------------------------------------------------------------

    def action_scroll(self, lines: int) -> None:
        self.query_one("#trends-scroll", VerticalScroll).scroll_relative(
            y=lines, animate=False, immediate=True
        )

    def action_leave(self) -> None:
        self.dismiss()
