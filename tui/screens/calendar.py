"""The calendar (`c`): the content plan two weeks at a time.

A grid of fourteen days, Monday to Sunday twice, from the configured cycle start; today is
marked, public holidays and campaigns are shown, and each day lists its items with their
channels and status. One line sums up the balance of the period (channels, themes, empty
days, unused channels). The plan lives in the store (store.plan), so every desk sees the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from store.jsonstorage import StoreError
from tui.desk import desk
from tui.keys import localize
from tui.screens.plan_editor import PlanEditor
from tui.screens.prompt import PromptScreen
from webcare.channels import SHORT
from webcare.i18n import DAY_NAMES, word
from webcare.planning import (
    PlanItem,
    balance,
    campaigns_in,
    holidays_in,
    next_status,
    on_day,
    period_of,
)
from webcare.untrusted import clean_line

STATUS_MARK = {"idea": "?", "draft": "✎", "planned": "●", "published": "✓", "held": "‖"}


class DayCell(Static):
    """One day of the grid (drawn by the calendar screen)."""

    DEFAULT_CSS = """
    DayCell { height: 1fr; width: 1fr; border: round $panel; padding: 0 0; text-wrap: nowrap;
        text-overflow: ellipsis; }
    DayCell.-today { border: round $warning; }
    DayCell.-selected { border: double $accent; }
    DayCell.-target { border: double $success; }
    DayCell.-holiday { background: $boost; }
    """


class CalendarScreen(Screen[None]):
    DEFAULT_CSS = """
    CalendarScreen #cal-head { height: auto; padding: 0 1; background: $panel; }
    CalendarScreen Grid { grid-size: 7 2; grid-gutter: 0; height: 1fr; }
    """
    BINDINGS = [
        Binding("left,h", "move(-1)", "previous day", show=False, id="cal.left"),
        Binding("right,l", "move(1)", "next day", show=False, id="cal.right"),
        Binding("up,k", "move(-7)", "week up", show=False, id="cal.up"),
        Binding("down,j", "move(7)", "week down", show=False, id="cal.down"),
        Binding("left_square_bracket", "period(-1)", "previous period", id="cal.prev"),
        Binding("right_square_bracket", "period(1)", "next period", id="cal.next"),
        Binding("t", "today", "today", id="cal.today"),
        Binding("tab", "item(1)", "next item", show=False, id="cal.item"),
        Binding("shift+tab", "item(-1)", "previous item", show=False, id="cal.item_back"),
        Binding("n", "new", "new", id="cal.new"),
        Binding("e", "edit", "edit", id="cal.edit"),
        Binding("space", "cycle", "status", id="cal.status"),
        Binding("m", "move_item", "move", id="cal.move"),
        Binding("x", "delete", "delete", id="cal.delete"),
        Binding("u", "undo", "undo", id="cal.undo"),
        Binding("b", "backlog", "backlog", id="cal.backlog"),
        Binding("H", "hold", "hold today+tomorrow", id="cal.hold"),
        Binding("enter", "drop", "drop here", show=False, id="cal.drop"),
        Binding("escape,s", "leave", "stream", id="cal.stream"),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize(self, desk(self).config.language)
        self.today = desk(self).clock().astimezone(desk(self).config.timezone).date()
        self.selected = self.today
        self.item_index = 0
        self.moving: PlanItem | None = None
        self.undo_stack: list[tuple[str, PlanItem]] = []

    @property
    def cycle_start(self) -> date:
        return desk(self).config.calendar.cycle_start

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="cal-head")
            with Grid():
                for i in range(14):
                    yield DayCell("", id=f"day{i}")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.draw()

    # --- drawing ----------------------------------------------------------------------

    def items(self) -> list[PlanItem]:
        try:
            return desk(self).plan.all()
        except StoreError as exc:  # unreadable (no permission): an empty grid, and why
            self.notify(clean_line(str(exc), 200), severity="error", markup=False)
            return []

    def _save(
        self,
        write: Callable[[], object],
        then: Callable[[], object] | None = None,
        otherwise: Callable[[], object] | None = None,
    ) -> None:
        """Write in the desk's writer thread; then (on the UI thread) `then` when saved, else
        `otherwise` (what was not saved is said by the session), and draw again."""

        def done(saved: bool) -> None:
            follow = then if saved else otherwise
            if follow is not None:
                follow()
            if self.is_attached:
                self.draw()

        desk(self).session.write_plan(write, done)

    def day_items(self, day: date, items: list[PlanItem] | None = None) -> list[PlanItem]:
        return on_day(self.items() if items is None else items, day)

    def draw(self) -> None:
        cfg = desk(self).config
        lang = cfg.language
        period = period_of(self.selected, self.cycle_start)
        items = self.items()
        holidays = holidays_in(period, cfg.calendar.holidays, language=lang)
        campaigns = campaigns_in(period, cfg.calendar.campaigns)
        for i, day in enumerate(period.days):
            cell = self.query_one(f"#day{i}", DayCell)
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{DAY_NAMES[lang][day.weekday()]} {day:%d/%m}", style="bold")
            if day == self.today:
                text.append(" ◆", style="bold yellow")
            text.append("\n")
            if day in holidays:
                text.append(holidays[day] + "\n", style="italic")
            for c in campaigns:
                if c.covers(day):
                    text.append(f"▌{c.name}\n", style="magenta")
            for j, item in enumerate(self.day_items(day, items)):
                chosen = day == self.selected and j == self.item_index
                style = "reverse" if chosen else ""
                when = item.time.strftime("%H:%M ") if item.time else ""
                text.append(f"{STATUS_MARK.get(item.status, '?')}{when}{item.title}\n", style=style)
                text.append(
                    f"  {','.join(SHORT.get(ch, ch) for ch in item.channels)}\n", style="dim"
                )
            cell.update(text)
            cell.set_class(day == self.today, "-today")
            cell.set_class(day == self.selected, "-selected")
            cell.set_class(day in holidays, "-holiday")
            cell.set_class(self.moving is not None and day == self.selected, "-target")
        b = balance(items, period, cfg.calendar_channels)
        head = Text()
        head.append(f"{word('calendar', lang)} ", style="bold")
        head.append(f"{period.start:%d/%m} – {period.end:%d/%m/%Y}")
        for c in campaigns:
            head.append(f"  ▌{c.name} {c.start:%d/%m}–{c.until:%d/%m}", style="magenta")
        if self.moving is not None:
            head.append(f"  {word('move_pick_day', lang)}: {self.moving.title}", style="bold green")
        head.append("\n")
        per_channel = " ".join(
            f"{SHORT.get(ch, ch)}:{n}" for ch, n in sorted(b.per_channel.items())
        )
        per_theme = " ".join(f"{t}:{n}" for t, n in sorted(b.per_theme.items()))
        head.append(f"{per_channel or '-'} │ {per_theme or '-'} │ ", style="dim")
        head.append(
            f"{word('empty_days', lang)}: {len(b.empty_days)}",
            style="yellow" if b.empty_days else "dim",
        )
        if b.unused_channels:
            head.append(
                f" │ {word('unused', lang)}: {', '.join(SHORT.get(c, c) for c in b.unused_channels)}",
                style="yellow",
            )
        self.query_one("#cal-head", Static).update(head)

    # --- selection --------------------------------------------------------------------

    def _selected_item(self) -> PlanItem | None:
        day_items = self.day_items(self.selected)
        if not day_items:
            return None
        self.item_index = max(0, min(self.item_index, len(day_items) - 1))
        return day_items[self.item_index]

    def action_move(self, days: int) -> None:
        self.selected += timedelta(days=days)
        self.item_index = 0
        self.draw()

    def action_period(self, step: int) -> None:
        self.action_move(14 * step)

    def action_today(self) -> None:
        self.selected = self.today
        self.draw()

    def action_item(self, step: int) -> None:
        count = len(self.day_items(self.selected))
        if count:
            self.item_index = (self.item_index + step) % count
            self.draw()

    # --- changes ----------------------------------------------------------------------

    def action_new(self) -> None:
        day = self.selected

        def save(fields: dict, done: Callable[[bool], None]) -> None:
            item = PlanItem.new(date=day, owner=desk(self).config.operator, **fields)
            desk(self).session.write_plan(lambda: desk(self).plan.add(item), done)

        self.app.push_screen(PlanEditor(desk(self).config.language, save=save), lambda _: self.draw())

    def action_edit(self) -> None:
        item = self._selected_item()
        if item is None:
            return

        def save(fields: dict, done: Callable[[bool], None]) -> None:
            def saved(ok: bool) -> None:
                if ok:
                    self.undo_stack.append(("update", item))
                done(ok)

            desk(self).session.write_plan(lambda: desk(self).plan.update(item.id, fields), saved)

        self.app.push_screen(PlanEditor(desk(self).config.language, item, save=save), lambda _: self.draw())

    def action_cycle(self) -> None:
        item = self._selected_item()
        if item is not None:
            self._save(
                lambda: desk(self).plan.update(item.id, {"status": next_status(item.status)}),
                then=lambda: self.undo_stack.append(("update", item)),
            )

    def action_delete(self) -> None:
        item = self._selected_item()
        if item is not None:
            self._save(lambda: desk(self).plan.delete(item.id), then=lambda: self.undo_stack.append(("delete", item)))

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify(word("nothing_to_undo", desk(self).config.language), markup=False)
            return
        kind, item = self.undo_stack.pop()
        # Not saved: still there to undo once it can be.
        self._save(lambda: desk(self).plan.restore(item), otherwise=lambda: self.undo_stack.append((kind, item)))

    def action_move_item(self) -> None:
        self.moving = self._selected_item()
        self.draw()

    def action_drop(self) -> None:
        if self.moving is None:
            self.action_edit()
            return
        item, self.moving = self.moving, None
        day = self.selected
        self._save(lambda: desk(self).plan.update(item.id, {"date": day}), then=lambda: self.undo_stack.append(("update", item)))

    def action_hold(self) -> None:
        lang = desk(self).config.language

        def done(changed: int) -> None:  # not saved: said already, by the session
            self.app.notify(f"{word('held' if changed > 0 else 'released', lang)}: {abs(changed)}", markup=False)
            if self.is_attached:
                self.draw()

        desk(self).session.toggle_hold(done)

    def action_backlog(self) -> None:
        ideas = [i for i in self.items() if i.date is None]
        lang = desk(self).config.language
        if not ideas:
            self.notify(word("backlog_empty", lang), markup=False)
            return
        listing = "  ".join(f"{n}: {i.title}" for n, i in enumerate(ideas[:9], 1))

        def picked(choice: int | None) -> None:
            if choice is not None:
                idea = ideas[choice]
                day = self.selected
                self._save(
                    lambda: desk(self).plan.update(idea.id, {"date": day}),
                    then=lambda: self.undo_stack.append(("update", idea)),
                )

        def accept(text: str) -> int | None:
            return (
                int(text) - 1
                if text.strip().isdigit() and 0 < int(text) <= len(ideas[:9])
                else None
            )

        self.app.push_screen(
            PromptScreen(
                f"{word('backlog', lang)} → {self.selected:%d/%m}: {listing}", accept=accept
            ),
            picked,
        )

    def action_leave(self) -> None:
        if self.moving is not None:
            self.moving = None
            self.draw()
            return
        self.app.pop_screen()
