"""Helpers for driving the real desk under Pilot."""

from __future__ import annotations

from datetime import datetime, timedelta

from store import Store
from tui.app import WebcareApp
from webcare.mention import Mention


def screen_lines(app) -> list[str]:
    """What the terminal shows now, one string per line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


def mention(i: int | str, now: datetime, minutes_left: float | None = 60, **kw) -> Mention:
    fields = dict(
        id=f"m{i}", source="test", channel="x", author=f"@author{i}", text=f"Tekst {i} over de VLM",
        first_seen_at=now - timedelta(minutes=5), published_at=now - timedelta(minutes=5),
        deadline=None if minutes_left is None else now + timedelta(minutes=minutes_left),
        norm_s=None if minutes_left is None else 7200, keywords=("VLM",),
    )
    fields.update(kw)
    return Mention(**fields)


def make_app(config, clock, mentions=(), make_poller=None) -> WebcareApp:
    store = Store(config.data_dir)
    if mentions:
        Store(config.data_dir).add(list(mentions))
    return WebcareApp(config, store, make_poller=make_poller, clock=clock)
