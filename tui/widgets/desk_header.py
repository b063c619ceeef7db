"""The header: desk name, clock, what is burning (new / due soon / overdue), and the health of
the sources and the collector. One or two lines; repainted once a minute or when they change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.widget import Widget

from tui.damage import damage_line, w
from webcare.i18n import ALERT_WORDS, word
from webcare.mention import from_iso
from webcare.untrusted import clean_line

COLLECTOR_STALE = timedelta(seconds=90)  # three missed heartbeats
TOKEN_WARN_DAYS = 7  # a token that stops working (LinkedIn: after 60 days) is announced a week ahead


@dataclass
class HeaderFacts:
    new: int = 0
    due_soon: int = 0
    overdue: int = 0
    shown: int = 0
    total: int = 0
    collecting: bool = False  # this process collects
    planned_today: int = 0
    next_planned: str = ""  # HH:MM of the next planned item today
    held: int = 0
    health: dict[str, Any] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # the other operators on the desk now
    banner: str = ""  # "Mogelijke crisis — …" when something spiked (webcare.trends.banner)
    crisis: Any = None  # the start entry of the crisis under way (store.crisis.CrisisEntry)
    damage: list[str] = field(default_factory=list)  # files in data_dir/quarantine, to restore


class DeskHeader(Widget):
    DEFAULT_CSS = """
    DeskHeader { height: auto; max-height: 3; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(
        self, name: str, language: str, timezone: ZoneInfo, clock: Callable[[], datetime], **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.desk_name = name
        self.language = language
        self.timezone = timezone
        self.clock = clock
        self.facts = HeaderFacts()
        self._painted: Text | None = None  # what render() returned last
        self._painted_lines = 0

    def update_facts(self, facts: HeaderFacts) -> None:
        """New facts, or only a new minute: repaint when what the header shows changed (the
        clock, a count, the health), not on every heartbeat; lay out again only when it needs
        another number of lines."""
        self.facts = facts
        text = self._text()
        if text == self._painted:
            return
        lines = len(text.wrap(self.app.console, self.size.width)) if self.size.width else 0
        self.refresh(layout=not lines or lines != self._painted_lines)
        self._painted_lines = lines

    def render(self) -> Text:
        self._painted = self._text()
        return self._painted

    def _text(self) -> Text:
        lang, f, now = self.language, self.facts, self.clock()
        out = Text(no_wrap=False, overflow="fold")
        out.append(self.desk_name, style="bold")
        out.append(f" {now.astimezone(self.timezone):%H:%M} │ ")
        out.append(f"{f.new} {word('new', lang)}", style="bold" if f.new else "")
        out.append(" · ")
        out.append(
            f"{f.due_soon} {word('due_soon', lang)}", style="bold yellow" if f.due_soon else ""
        )
        out.append(" · ")
        out.append(
            f"{f.overdue} {word('overdue', lang)}", style="bold red reverse" if f.overdue else ""
        )
        if f.shown != f.total:
            out.append(f"  [{f.shown}/{f.total} {word('shown', lang)}]", style="dim")
        if f.planned_today:
            out.append(f" │ {f.planned_today} {word('planned_today', lang)}")
            if f.next_planned:
                out.append(f" ({word('next_at', lang)} {f.next_planned})")
            if f.held:
                out.append(f" ‖{f.held}", style="bold magenta")
        out.append(" │ ")
        out.append_text(self._health(now))
        if f.crisis is not None:  # every desk on the data directory shows it
            since = f.crisis.at.astimezone(self.timezone)
            out.append(f"\n{word('crisis_mode', lang)} {word('since', lang)} {since:%H:%M} ({f.crisis.who})", style="bold white on red")
            if f.crisis.text:
                out.append(f": {f.crisis.text[:80]}", style="bold white on red")
            out.append(f" · K: {word('crisis_screen', lang)}", style="white on red")
        elif f.banner:
            out.append(f"\n⚠ {f.banner}", style="bold white on red")
            out.append(f" · K: {word('crisis_start', lang)}", style="white on red")
        trouble = self._trouble()  # after the crisis: the header shows three lines at most
        if trouble:
            out.append("\n")
            out.append_text(trouble)
        return out

    def _trouble(self) -> Text:
        """What needs a person: a damaged file in the quarantine, a failed backup or retention
        run (health.json's "housekeeping", written by `webcare housekeeping`)."""
        lang = self.language
        out = Text()
        if self.facts.damage:
            out.append(damage_line(self.facts.damage, lang), style="bold white on red")
        chores = (self.facts.health or {}).get("housekeeping") or {}
        if isinstance(chores, dict) and chores.get("error"):
            at = from_iso(chores.get("error_at"))
            when = f" {at.astimezone(self.timezone):%d/%m %H:%M}" if at else ""
            if out:
                out.append(" · ")
            out.append(f"{w('housekeeping_failed', lang)}{when}: {clean_line(str(chores['error']), 80)}", style="bold red")
        return out

    def _health(self, now: datetime) -> Text:
        lang = self.language
        out = Text()
        health = self.facts.health or {}
        sources = health.get("sources", {})
        collector = health.get("collector", {})
        beat = from_iso(collector.get("heartbeat_at")) if collector else None
        if self.facts.collecting:
            out.append(f"{word('collecting_here', lang)} ", style="dim")
        elif beat is None or now - beat > COLLECTOR_STALE:
            since = f" {word('since', lang)} {beat.astimezone(self.timezone):%H:%M}" if beat else ""
            out.append(f"{word('collector_stopped', lang)}{since} ", style="bold red")
        else:
            out.append(f"{word('collector_running', lang)} ", style="dim")
        if self.facts.others:
            out.append(f"· {word('on_desk', lang)}: {', '.join(self.facts.others)} ", style="bold")
        ok = [n for n, h in sources.items() if h.get("state") == "ok"]
        bad = [(n, h) for n, h in sources.items() if h.get("state") in ("failing", "rate-limited")]
        if len(ok) == len(sources):
            out.append(f"{word('sources', lang)} {word('ok', lang)}")
        else:
            out.append(f"{word('sources', lang)} {len(ok)}/{len(sources)} {word('ok', lang)}")
        live = sum(1 for h in sources.values() if h.get("live"))
        if live:  # a streaming or IDLE connection: mentions arrive as they are posted
            out.append(f" · {live} {word('live', lang)}", style="green")
        for name, h in bad:
            out.append(" · ")
            if h["state"] == "rate-limited":
                until = from_iso(h.get("rate_limited_until"))
                when = (
                    f" {word('until', lang)} {until.astimezone(self.timezone):%H:%M}"
                    if until
                    else ""
                )
                out.append(f"{name}: {word('rate-limited', lang)}{when}", style="bold yellow")
                continue
            out.append(f"{name}: {word(h['state'], lang)}", style="bold red")
            if h.get("last_error"):
                out.append(f" ({h['last_error'][:60]})", style="red")
        today = now.astimezone(self.timezone).date()
        for name, h in sources.items():
            expires = _date(h.get("token_expires"))
            if expires is None or (expires - today).days > TOKEN_WARN_DAYS:
                continue
            what = clean_line(str(h.get("token_label") or name), 40)
            key = "token_expires_on" if expires >= today else "token_expired_on"
            out.append(" · ")
            out.append(
                word(key, lang).format(what=what, date=f"{expires:%d/%m/%Y}"),
                style="bold yellow" if expires > today else "bold red",
            )
        alerts = health.get("alerts")
        for name, a in (alerts.items() if isinstance(alerts, dict) else ()):
            if isinstance(a, dict) and a.get("state") == "failing":  # by the target's name: never its URL
                out.append(" · ")
                out.append(f"{word('alert_failing', lang, ALERT_WORDS)} {clean_line(name, 40)}: {word('failing', lang)}", style="bold red")
                if a.get("last_error"):
                    out.append(f" ({clean_line(a['last_error'], 60)})", style="red")
        for name, h in sources.items():  # ok, but some follows failed (sources.follows)
            if h.get("state") == "ok" and h.get("last_error"):
                out.append(f" · {name}: {h['last_error'][:60]}", style="yellow")
        return out


def _date(value: Any) -> date | None:
    """A YYYY-MM-DD from health.json, or None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
