"""The dashboard (`R`): the report's figures ("meten is weten") for today, this week (Monday to
today) and the last 14 days, as bars and sparklines.

The figures are webcare.report's (the same numbers `webcare report` prints): volume per channel
and per day, response times against the norm per channel (median, P90 and the share answered
within the norm), the tone per day, themes and rules, the loudest voices, the questions routed
to experts, and what is open past its deadline. For "today" the sparklines are per hour.

Every stored mention is read in a thread worker from a store handle of its own (the app's
handle reports changes to the queue and must not be disturbed); the three periods are computed
there too, the chosen one first, and come back as messages. Until they do the screen says
"berekenen…". `r` reads the store again; switching periods afterwards costs nothing.

Layout: the key figures stay at the top; the sections scroll below them, most important first.
From WIDE columns on they stand in two columns and the top lists grow.

Author names, themes, rules and channels come from outside: they are appended to rich Text as
plain strings (cleaned of control characters), never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.desk import desk
from tui.keys import localize
from webcare import report as R
from webcare.i18n import when, word
from webcare.mention import Mention
from webcare.norms import clock_start
from webcare.trends import sparkline
from webcare.untrusted import clean_line

PERIODS = ("today", "week", "fortnight")
PERIOD_WORDS = {"today": "dash_today", "week": "dash_week", "fortnight": "dash_fortnight"}
WIDE = 124  # terminal columns from which the sections stand in two columns
NAME = 12  # cells for a channel's name
EIGHTHS = " ▏▎▍▌▋▊▉"


# --- drawing helpers ---------------------------------------------------------------------------


def fit(text: object, cells: int) -> str:
    """Outside text as exactly `cells` terminal cells: cleaned, cut with an ellipsis or padded."""
    s = clean_line(text, 300)
    if cells <= 0:
        return ""
    if cell_len(s) > cells:
        s = set_cell_size(s, cells - 1) + "…"
    return set_cell_size(s, cells)


def bar(value: float, top: float, cells: int) -> str:
    """A horizontal bar of `value` against `top`, in eighths of a cell, padded to `cells`."""
    if cells <= 0:
        return ""
    if top <= 0 or value <= 0:
        return " " * cells
    eighths = max(1, round(min(value / top, 1.0) * cells * 8))
    full, part = divmod(eighths, 8)
    out = "█" * full + (EIGHTHS[part] if part else "")
    return out.ljust(cells)


def share_bar(share: float | None, cells: int) -> Text:
    """The share within the norm as a filled bar on a shaded track, coloured by how good."""
    out = Text()
    if cells <= 0:
        return out
    if share is None:
        out.append("·" * cells, style="dim")
        return out
    filled = bar(share, 1.0, cells).rstrip()
    style = "green" if share >= 0.8 else "yellow" if share >= 0.5 else "red"
    out.append(filled, style=style)
    out.append("░" * (cells - len(filled)), style="dim")
    return out


def flow(pieces: list[Text], width: int, gap: str) -> list[Text]:
    """Pieces on lines of at most `width` cells, breaking only between pieces."""
    lines: list[Text] = []
    line = Text(no_wrap=True, overflow="ellipsis")
    for piece in pieces:
        if line.cell_len and line.cell_len + len(gap) + piece.cell_len > width:
            lines.append(line)
            line = Text(no_wrap=True, overflow="ellipsis")
        if line.cell_len:
            line.append(gap)
        line.append_text(piece)
    lines.append(line)
    return lines


def spark(values, width: int | None = None, top: float | None = None) -> str:
    return sparkline([0.0 if v is None else v for v in values], width, top)


@dataclass(frozen=True, slots=True)
class View:
    """One period's figures, as the worker computed them."""

    key: str  # today | week | fortnight
    report: R.Report
    hours: dict[str, tuple[int, ...]] | None = None  # "today" only: channel (and "") → per hour
    negative_hours: tuple[int, ...] | None = None


def period_bounds(key: str, now: datetime, tz) -> tuple[datetime, datetime]:
    today = now.astimezone(tz).date()
    first = {
        "today": today,
        "week": today - timedelta(days=today.weekday()),
        "fortnight": today - timedelta(days=13),
    }[key]
    return R.period(first, today, tz)


def hourly(mentions: list[Mention], start: datetime, end: datetime, tz, upto: int = 24):
    """Per local hour of the day [start, end), the first `upto` hours (those so far):
    mentions per channel ("" for all) and negative ones. A day with a daylight-saving change
    folds its extra hour onto the same hour."""
    hours: dict[str, list[int]] = {"": [0] * 24}
    negative = [0] * 24
    for m in mentions:
        cs = clock_start(m.published_at, m.first_seen_at)
        if start <= cs < end:
            h = cs.astimezone(tz).hour
            hours[""][h] += 1
            hours.setdefault(m.channel, [0] * 24)[h] += 1
            if m.sentiment == "negative":
                negative[h] += 1
    return {k: tuple(v[:upto]) for k, v in hours.items()}, tuple(negative[:upto])


# --- the screen ----------------------------------------------------------------------------------


class DashboardScreen(Screen[None]):
    DEFAULT_CSS = """
    DashboardScreen #dash-head { height: auto; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis; }
    DashboardScreen #dash-scroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    DashboardScreen #dash-cols { height: auto; layout: vertical; }
    DashboardScreen .dash-col { height: auto; width: 1fr; text-wrap: nowrap;
        text-overflow: ellipsis; }
    DashboardScreen #dash-right { display: none; }
    DashboardScreen.-wide #dash-cols { layout: horizontal; }
    DashboardScreen.-wide #dash-right { display: block; margin-left: 2; }
    """
    BINDINGS = [
        Binding("1", "period('today')", "today", id="dash.today"),
        Binding("2", "period('week')", "week", id="dash.week"),
        Binding("3", "period('fortnight')", "14 d", id="dash.fortnight"),
        Binding("tab", "cycle(1)", "next period", show=False, id="dash.next"),
        Binding("shift+tab", "cycle(-1)", "previous period", show=False, id="dash.previous"),
        Binding("r", "refresh", "refresh", id="dash.refresh"),
        Binding("y", "copy", "copy", id="dash.copy"),
        Binding("escape,s", "leave", "stream", id="dash.stream"),
        Binding("j,down", "scroll(1)", "down", show=False, id="dash.down"),
        Binding("k,up", "scroll(-1)", "up", show=False, id="dash.up"),
        Binding("pagedown,space", "scroll(10)", "page down", show=False, id="dash.page_down"),
        Binding("pageup", "scroll(-10)", "page up", show=False, id="dash.page_up"),
    ]

    class Computed(Message):
        """A period's figures are ready (posted from the worker)."""

        def __init__(self, generation: int, view: View) -> None:
            super().__init__()
            self.generation = generation
            self.view = view

    def __init__(self) -> None:
        super().__init__()
        localize(self, desk(self).config.language)
        self.period = "week"
        self.views: dict[str, View] = {}
        self.generation = 0  # which computation the shown views come from
        self.computed_at: datetime | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="dash-head")
        with VerticalScroll(id="dash-scroll", can_focus=False):
            with Horizontal(id="dash-cols"):
                yield Static("", id="dash-left", classes="dash-col")
                yield Static("", id="dash-right", classes="dash-col")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "-wide")
        self.paint()
        self.compute()

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "-wide")
        self.paint()

    # --- the worker ---------------------------------------------------------------------------

    def compute(self) -> None:
        self.generation += 1
        self.error = ""
        self.computed_at = desk(self).clock()
        order = [self.period, *(p for p in PERIODS if p != self.period)]
        self._compute(self.generation, order, self.computed_at)
        self.paint()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def _compute(self, generation: int, order: list[str], now: datetime) -> None:
        """Read the mentions the periods can hold (through the desk's store) and compute the
        periods in `order`."""
        cfg = desk(self).config
        tz = cfg.timezone
        worker = get_current_worker()
        # Only what can fall in the longest period: the three reports then go over a few days'
        # mentions instead of every stored one. A clock never starts after the first sighting,
        # so those first seen since then hold every one that can.
        earliest = period_bounds("fortnight", now, tz)[0]
        mentions = desk(self).store.mentions_since(earliest)
        if worker.is_cancelled:
            return
        recent = [m for m in mentions if clock_start(m.published_at, m.first_seen_at) >= earliest]
        del mentions
        for key in order:
            if worker.is_cancelled:
                return
            start, end = period_bounds(key, now, tz)
            rep = R.figures(recent, start, end, tz, now)
            hours = negative = None
            if key == "today":
                hours, negative = hourly(recent, start, end, tz, now.astimezone(tz).hour + 1)
            self.post_message(self.Computed(generation, View(key, rep, hours, negative)))

    def on_dashboard_screen_computed(self, message: Computed) -> None:
        if message.generation != self.generation:
            return  # from a computation a refresh replaced
        self.views[message.view.key] = message.view
        if message.view.key == self.period:
            self.paint()
        else:
            self.paint_head()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "dashboard" and event.state == WorkerState.ERROR:
            lang = desk(self).config.language
            self.error = f"{word('dash_failed', lang)}: {event.worker.error}"
            self.notify(self.error, severity="error", markup=False)
            self.paint()

    # --- drawing ------------------------------------------------------------------------------

    def content_width(self) -> int:
        """Cells per column: the screen less padding, scrollbar and (two columns) the gap."""
        width = self.app.size.width - 3
        return max(40, (width - 2) // 2 if self.has_class("-wide") else width)

    def paint(self) -> None:
        self.paint_head()
        lang = desk(self).config.language
        left = self.query_one("#dash-left", Static)
        right = self.query_one("#dash-right", Static)
        view = self.views.get(self.period)
        if view is None:
            left.update(Text(self.error or word("dash_computing", lang), style="italic"))
            right.update("")
            return
        width = self.content_width()
        wide = self.has_class("-wide")
        top = 10 if wide else 5
        first = [
            self.volume(view, width, lang),
            self.response(view.report, width, lang),
            self.tone(view, width, lang),
            self.overdue(view.report, width, lang, top),
        ]
        second = [
            self.routing(view.report, width, lang, top),
            self.themes(view.report, width, lang, top),
            self.voices(view.report, width, lang, top),
        ]
        if wide:
            left.update(Text("\n\n").join(first))
            right.update(Text("\n\n").join(second))
        else:
            left.update(Text("\n\n").join(first[:3] + second + first[3:]))
            right.update("")

    def paint_head(self) -> None:
        lang = desk(self).config.language
        tz = desk(self).config.timezone
        width = self.app.size.width - 2
        tabs = Text()
        tabs.append(word("dash_title", lang), style="bold")
        for i, key in enumerate(PERIODS, 1):
            tabs.append(" ")
            label = f" {i} {word(PERIOD_WORDS[key], lang)} "
            if key == self.period:
                tabs.append(label, style="bold reverse")
            else:
                tabs.append(label, style="" if key in self.views else "dim")
        pieces = [tabs]
        view = self.views.get(self.period)
        if view is not None:
            rep = view.report
            day = R.day_label if width >= 100 else (lambda d, _lang: f"{d:%d-%m}")
            days = day(rep.days[0], lang)
            if len(rep.days) > 1:
                days += f" – {day(rep.days[-1], lang)}"
            pieces.append(Text(days))
        if self.computed_at is not None:
            local = self.computed_at.astimezone(tz)
            pending = len(self.views) < len(PERIODS) and not self.error
            state = word("dash_computing", lang) if pending else word("dash_computed", lang)
            pieces.append(Text(f"{state} {local:%H:%M}", style="dim"))
        lines = flow(pieces, width, "  ")
        if view is not None:
            lines += self.summary(view.report, width, lang)
        self.query_one("#dash-head", Static).update(
            Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
        )

    def summary(self, rep: R.Report, width: int, lang: str) -> list[Text]:
        """The key figures: volume, the share within the norm, median and P90, what is late."""
        r = rep.response_all
        n = lambda v: R.number(v, lang)  # noqa: E731
        total = Text()
        total.append(n(rep.total), style="bold")
        total.append(f" {word('dash_mentions', lang)}")
        within = Text(f"{word('dash_within', lang)} ")
        within.append_text(share_bar(r.share_within, 10))
        within.append(f" {R.percent(r.share_within, lang)}", style="bold")
        within.append(f" ({n(r.within)}/{n(r.answered + r.missed)})")
        overdue = len(rep.overdue)
        late = Text(
            f"{word('dash_overdue_short', lang)}: {n(overdue)}",
            style="bold red" if overdue else "green",
        )
        after = Text(f"{word('dash_answered_late', lang)}: {n(len(rep.answered_late))}")
        g = rep.routing
        routed = Text(
            f"{word('dash_experts', lang)}: {n(g.routed)} ({R.word('waiting', lang).lower()} "
            f"{n(g.waiting)}, {R.word('late', lang).lower()} {n(g.late)})",
            style="yellow" if g.late else "",
        )
        times = Text(
            f"{R.word('median', lang).lower()} {R.duration(r.median_s, lang)} · "
            f"{R.word('p90', lang)} {R.duration(r.p90_s, lang)}"
        )
        return flow([total, within, late, after, routed, times], width, "   ")

    @staticmethod
    def heading(text: str, right: str = "", width: int = 0) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(text, style="bold underline")
        if right:
            gap = max(1, width - cell_len(text) - cell_len(right))
            out.append(" " * gap)
            out.append(right, style="dim")
        return out

    def volume(self, view: View, width: int, lang: str) -> Text:
        """Mentions per channel as bars, each with its own sparkline per day (per hour today)."""
        rep = view.report
        per_hour = view.hours is not None
        cols = len(view.hours[""]) if view.hours is not None else len(rep.days)
        spark_w = min(cols, max(7, width // 3)) if cols > 1 else 0
        unit = word("dash_per_hour" if per_hour else "dash_per_day", lang)
        out = self.heading(word("dash_volume", lang), unit if spark_w else "", width)
        if not rep.total:
            out.append("\n" + word("dash_nothing", lang), style="dim")
            return out
        num_w = max(4, len(R.number(rep.total, lang)))
        bar_w = max(6, width - NAME - num_w - 2 - (spark_w + 1 if spark_w else 0))
        peak = max(rep.per_channel.values())
        for channel in rep.channels:
            count = rep.per_channel[channel]
            series = view.hours.get(channel, ()) if view.hours is not None else rep.volume[channel]
            self._volume_row(out, channel, count, peak, series, num_w, bar_w, spark_w, lang, "cyan")
        total_series = view.hours[""] if view.hours is not None else rep.per_day
        out.append("\n")
        out.append(fit(R.word("total", lang), NAME), style="bold")
        out.append(f"{R.number(rep.total, lang):>{num_w}}", style="bold")
        out.append(" " * (bar_w + 3))
        if spark_w:
            out.append(spark(total_series, spark_w), style="bold cyan")
        if spark_w:
            if per_hour:
                last = f"{cols - 1:02d} {'u' if lang == 'nl' else 'h'}"
                span = f"00 – {last}"
            else:
                span = f"{R.day_label(rep.days[0], lang)} – {R.day_label(rep.days[-1], lang)}"
            most = max(total_series, default=0)
            legend = f"{span} · {word('dash_max', lang)} {R.number(most, lang)} {unit}"
            out.append("\n")
            out.append(" " * max(0, width - cell_len(legend)))
            out.append(legend, style="dim")
        return out

    @staticmethod
    def _volume_row(out, name, count, peak, series, num_w, bar_w, spark_w, lang, style) -> None:
        out.append("\n")
        out.append(fit(name, NAME))
        out.append(f"{R.number(count, lang):>{num_w}} ")
        out.append(bar(count, peak, bar_w), style=style)
        out.append(" ")
        if spark_w:
            out.append(" " + spark(series, spark_w), style="dim " + style)

    def response(self, rep: R.Report, width: int, lang: str) -> Text:
        """Per channel with a norm: the norm, median and P90 (red when over the norm), and the
        share answered within the norm as a bar with its figures."""
        out = self.heading(word("dash_response", lang))
        if not rep.response:
            out.append("\n" + word("dash_nothing", lang), style="dim")
            return out
        d = lambda s: R.duration(s, lang)  # noqa: E731
        tail = 16  # " 62,5 % (5/8)"
        bar_w = max(6, width - NAME - 6 - 12 - 12 - tail)
        out.append("\n")
        header = (
            f"{'':{NAME}}{R.word('norm', lang):>6}{R.word('median', lang):>12}"
            f"{R.word('p90', lang):>12} {word('dash_within', lang)}"
        )
        out.append(header, style="dim")
        rows = [*rep.response.items(), (R.word("all", lang), rep.response_all)]
        for name, f in rows:
            is_all = f is rep.response_all
            out.append("\n")
            out.append(fit(name, NAME), style="bold" if is_all else "")
            norm = f.norm_s
            out.append(f"{'–' if norm is None else d(norm):>6}")
            for value in (f.median_s, f.p90_s):
                late = norm is not None and value is not None and value > norm
                out.append(f"{d(value):>12}", style="red" if late else "")
            out.append(" ")
            out.append_text(share_bar(f.share_within, bar_w))
            figures = f" {R.percent(f.share_within, lang)} ({f.within}/{f.answered + f.missed})"
            out.append(figures, style="bold" if is_all else "")
        return out

    def tone(self, view: View, width: int, lang: str) -> Text:
        """How many of each tone, and the negative share per day (per hour today)."""
        rep = view.report
        out = self.heading(word("dash_tone", lang))
        out.append("\n")
        for i, s in enumerate(R.SENTIMENTS):
            count = sum(rep.sentiment[s])
            share = count / rep.total if rep.total else None
            if i:
                out.append(" · ")
            style = {"negative": "red", "positive": "green"}.get(s, "")
            out.append(f"{R.word(s, lang)} {R.number(count, lang)}", style=style)
            if s == "negative" and share is not None:
                out.append(f" ({R.percent(share, lang)})", style=style)
        if view.negative_hours is not None and view.hours is not None:
            shares = [
                None if n == 0 else neg / n for neg, n in zip(view.negative_hours, view.hours[""])
            ]
            unit = word("dash_per_hour", lang)
        else:
            shares = list(rep.sentiment_share("negative"))
            unit = word("dash_per_day", lang)
        if len(shares) > 1:
            label = f"{word('dash_negative_share', lang)} {unit} "
            out.append("\n")
            out.append(label)
            w = min(len(shares), max(7, width - cell_len(label) - 10))
            out.append(spark(shares, w, top=1.0), style="red")
            out.append("  0–100 %", style="dim")
        return out

    def overdue(self, rep: R.Report, width: int, lang: str, top: int) -> Text:
        """What was owed and past its deadline at the end of the period (or now), oldest first."""
        tz = desk(self).config.timezone
        out = self.heading(f"{word('dash_overdue', lang)}: {R.number(len(rep.overdue), lang)}")
        for x in rep.overdue[:top]:
            out.append("\n")
            out.append(f"{R.duration(x.late_s, lang):>10} ", style="red")
            out.append(f"{when(x.deadline, tz, lang)}  ", style="dim")
            out.append(fit(x.channel, 10) + " ")
            out.append(fit(x.author, max(8, width - 10 - 17 - 11)))
        if len(rep.overdue) > top:
            out.append("\n" + word("dash_more", lang).format(n=len(rep.overdue) - top), style="dim")
        return out

    def routing(self, rep: R.Report, width: int, lang: str, top: int) -> Text:
        """Questions routed to experts: how many, answered, waiting, late; answer times."""
        g = rep.routing
        out = self.heading(R.word("routing", lang))
        out.append("\n")
        w = lambda k: R.word(k, lang).lower()  # noqa: E731
        out.append(
            f"{w('routed')} {g.routed} · {w('expert_answered')} {g.answered} · "
            f"{w('waiting')} {g.waiting} · {w('on_time')} {g.on_time} · "
        )
        out.append(f"{w('late')} {g.late}", style="red" if g.late else "")
        if not g.routed:
            return out
        d = lambda s: R.duration(s, lang)  # noqa: E731
        # Whole words in the column heads ("doorgestuurd", not "doorg."): each column as wide
        # as its head needs, at least 7.
        heads = [word(k, lang) for k in ("dash_col_routed", "dash_col_answered", "dash_col_waiting", "dash_col_late")]
        cols = [max(7, len(h) + 1) for h in heads]
        name_w = max(10, min(30, width - sum(cols) - 2 * 12))
        out.append("\n")
        out.append(fit(R.word("expert", lang), name_w), style="dim")
        for head, col in zip(heads, cols, strict=True):
            out.append(head.rjust(col), style="dim")
        out.append(f"{R.word('median', lang):>12}{R.word('p90', lang):>12}", style="dim")
        for e in rep.experts[:top]:
            out.append("\n")
            out.append(fit(e.name or "?", name_w))
            out.append(f"{e.routed:>{cols[0]}}{e.answered:>{cols[1]}}{e.waiting:>{cols[2]}}")
            out.append(f"{e.late:>{cols[3]}}", style="red" if e.late else "")
            out.append(f"{d(e.median_s):>12}{d(e.p90_s):>12}")
        return out

    def themes(self, rep: R.Report, width: int, lang: str, top: int) -> Text:
        """The top themes and rules, side by side when there is room."""
        half = min(38, (width - 2) // 2)
        if half < 30:
            left = self._ranked(word("dash_themes", lang), rep.themes[:top], min(width, 38))
            right = self._ranked(word("dash_rules", lang), rep.rules[:top], min(width, 38))
            return Text("\n").join([left, Text(), right])
        left = self._ranked(word("dash_themes", lang), rep.themes[:top], half)
        right = self._ranked(word("dash_rules", lang), rep.rules[:top], half)
        a, b = left.split("\n"), right.split("\n")
        rows = []
        for i in range(max(len(a), len(b))):
            row = Text(no_wrap=True, overflow="ellipsis")
            la = a[i] if i < len(a) else Text()
            row.append_text(la)
            row.append(" " * (half + 2 - la.cell_len))
            if i < len(b):
                row.append_text(b[i])
            rows.append(row)
        return Text("\n").join(rows)

    def _ranked(self, title: str, items, width: int) -> Text:
        out = self.heading(title)
        if not items:
            out.append("\n" + word("dash_nothing", desk(self).config.language), style="dim")
            return out
        peak = items[0][1]
        name_w = 16
        bar_w = max(4, width - name_w - 6)
        for name, count in items:
            out.append("\n")
            out.append(fit(name, name_w))
            out.append(f"{count:>5} ")
            out.append(bar(count, peak, bar_w).rstrip(), style="magenta")
        return out

    def voices(self, rep: R.Report, width: int, lang: str, top: int) -> Text:
        """The loudest voices: most mentions, and the largest reach."""
        parts = []
        for key, voices in (
            ("voices_count", rep.voices_by_count),
            ("voices_reach", rep.voices_by_reach),
        ):
            out = self.heading(f"{R.word('voices', lang)}: {R.word(key, lang).lower()}")
            if not voices:
                out.append("\n" + word("dash_nothing", lang), style="dim")
            name_w = min(32, max(12, width - 3 - 11 - 6 - 10))
            for i, v in enumerate(voices[:top], 1):
                out.append("\n")
                out.append(f"{i:>2} ", style="dim")
                out.append(fit(R.voice_label(v), name_w))
                out.append(" " + fit(v.channel, 10))
                out.append(f"{v.mentions:>6}")
                out.append(f"{R.number(v.reach, lang):>10}", style="dim")
            parts.append(out)
        return Text("\n\n").join(parts)

    # --- keys ---------------------------------------------------------------------------------

    def action_period(self, key: str) -> None:
        if key in PERIODS and key != self.period:
            self.period = key
            self.query_one("#dash-scroll", VerticalScroll).scroll_home(animate=False)
            self.paint()

    def action_cycle(self, step: int) -> None:
        i = PERIODS.index(self.period)
        self.action_period(PERIODS[(i + step) % len(PERIODS)])

    def action_refresh(self) -> None:
        self.compute()

    def action_copy(self) -> None:
        lang = desk(self).config.language
        view = self.views.get(self.period)
        if view is None:
            self.notify(word("dash_not_ready", lang), severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(R.to_markdown(view.report, lang))
        self.notify(word("dash_copied", lang), markup=False)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#dash-scroll", VerticalScroll).scroll_relative(
            y=lines, animate=False, immediate=True
        )

    def action_leave(self) -> None:
        self.dismiss()
