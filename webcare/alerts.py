"""Alerts away from the terminal: what an alert says, which targets want it, and when.

    [[alerts]]
    name = "piket"                                # shown in the header, never the URL
    url = "ntfy://ntfy.example.org/vlm-webcare"   # an Apprise URL …
    url_env = "WEBCARE_ALERT_URL"                 # … or the name of a variable holding one
    to = "oncall"                                 # or: the on-call expert's own `alert` URL
    on = ["urgent", "spike", "overdue", "answer", "collector"]
    hours = "mon-sun 17:00-08:00"                 # or a [shifts] name; default always
    limit = 5                                     # at most this many per 10 minutes

The collector sends them (sources/alerts.py); this module holds no I/O: it parses the table,
words each alert (outside text cleaned, one line each, never markup) and decides the rate
limit from the times a target was last sent to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from webcare.i18n import ALERT_WORDS, countdown, word
from webcare.known import refuse_unknown
from webcare.mention import Mention
from webcare.routing import Directory
from webcare.shifts import ShiftSpec, current_shift, parse_shift
from webcare.untrusted import clean_line, first_line

EVENTS = ("urgent", "spike", "overdue", "answer", "collector")
WINDOW = timedelta(minutes=10)  # the rate limit's window
DEFAULT_LIMIT = 5
SHORT_ID = 8  # characters of a mention id in an alert: enough to be unique, short to type
FAILING_FOR = timedelta(minutes=15)  # a source failing this long is a `collector` alert
_KEYS = {"name", "url", "url_env", "on", "hours", "to", "limit"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """One [[alerts]] entry. `url` may hold a secret: it is only ever handed to Apprise."""

    name: str
    on: frozenset[str]
    url: str = ""
    url_env: str = ""
    to: str = ""  # "oncall": the on-call experts' own alert URLs, resolved at send time
    hours: ShiftSpec | None = None  # None: always
    hours_text: str = ""
    limit: int = DEFAULT_LIMIT

    def __repr__(self) -> str:  # never the URL, should a target end up in a log or a traceback
        return f"AlertTarget(name={self.name!r}, on={sorted(self.on)!r}, to={self.to!r})"

    def wants(self, kind: str) -> bool:
        return kind in self.on

    def open_at(self, now: datetime, tz: tzinfo) -> bool:
        """Whether alerts go out now (inside `hours`, or always without it)."""
        if self.hours is None:
            return True
        shift = current_shift((self.hours,), now, tz)
        return shift.start <= now < shift.end


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: `id` is the event's (each event is sent once for the data directory)."""

    id: str
    kind: str  # one of EVENTS
    title: str
    body: str
    mention_id: str = ""


def short_id(mention_id: str) -> str:
    return mention_id[:SHORT_ID]


def _w(key: str, language: str) -> str:
    return word(key, language, ALERT_WORDS)


def mention_alert(kind: str, m: Mention, now: datetime, language: str) -> Alert:
    """urgent, overdue or answer: the channel, the author, the first line, the time left and
    the short id that `webcare --open` and the desk's `:` go to. All of it cleaned of escape
    codes and cut to one line: it is outside text and goes to a phone as plain text."""
    author = clean_line(m.author_name or m.author, 80) or "?"
    said = clean_line(first_line(m.title or m.text) or first_line(m.text), 160)
    if kind == "answer":
        said = clean_line(first_line(m.expert_answer), 160) or said
    left = countdown(m.deadline - now, language) if m.deadline is not None and m.owed else "—"
    sid = short_id(m.id)
    title = clean_line(f"{_w(kind, language)} · {m.channel} · {author}", 200)
    body = "\n".join([said, f"{left} · id {sid}", f"{_w('open_with', language)}: webcare --open {sid}"])
    return Alert(f"{kind}:{m.id}", kind, title, body, m.id)


def spike_alert(subject: str, what: str, text: str, now: datetime, tz: tzinfo, language: str) -> Alert:
    """A spike: once a day per subject and kind (a spike lasts; its start is not known)."""
    day = now.astimezone(tz).date().isoformat()
    return Alert(f"spike:{subject}:{what}:{day}", "spike", _w("spike", language), clean_line(text, 400))


def crisis_alert(started: datetime, who: str, reason: str, tz: tzinfo, language: str) -> Alert:
    at = started.astimezone(tz)
    body = clean_line(f"{at:%H:%M} · {who}" + (f": {reason}" if reason else ""), 400)
    return Alert(f"crisis:{started.isoformat()}", "spike", _w("crisis", language), body)


def source_alert(source: str, since: datetime, error: str, tz: tzinfo, language: str) -> Alert:
    at = since.astimezone(tz)
    body = clean_line(f"{source}: {_w('source_failing', language)} {at:%H:%M}" + (f" ({error})" if error else ""), 400)
    return Alert(f"collector:{source}:{since.isoformat()}", "collector", _w("collector", language), body)


def stopped_alert(heartbeat: datetime | None, tz: tzinfo, language: str) -> Alert:
    """Sent by a desk that sees the collector's heartbeat stop (the collector cannot say it)."""
    at = f"{heartbeat.astimezone(tz):%H:%M}" if heartbeat else "?"
    key = heartbeat.isoformat() if heartbeat else "never"
    return Alert(f"stopped:{key}", "collector", _w("collector", language), f"{_w('collector_stopped', language)} {at}")


def summary_alert(target: str, held: Mapping[str, int], at: datetime, language: str) -> Alert:
    """'12 more, 3 urgent': what the rate limit held back, in one alert."""
    total = sum(held.values())
    parts = [_w("summary", language).format(n=total)]
    parts += [f"{n} {_w('held_' + kind, language)}" for kind, n in sorted(held.items()) if n and kind in ("urgent", "overdue")]
    return Alert(f"summary:{target}:{at.isoformat()}", "summary", "webcare", ", ".join(parts))


def room(sent: Sequence[float], now: datetime, limit: int) -> bool:
    """Whether a target sent to at the timestamps `sent` may take another alert now."""
    start = (now - WINDOW).timestamp()
    return sum(1 for s in sent if s > start) < limit


# --- the config ---------------------------------------------------------------------------


def parse_alerts(raw: Any, directory: Directory, shifts: Sequence[ShiftSpec]) -> tuple[AlertTarget, ...]:
    """The [[alerts]] tables; ValueError naming the entry and the key."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("alerts: write each alert target as an [[alerts]] table")
    out: list[AlertTarget] = []
    for i, entry in enumerate(raw):
        where = f"[[alerts]] #{i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'{where}: name: missing (e.g. name = "piket")')
        name = clean_line(name, 40)
        where = f"{where} ({name!r})"
        if any(t.name == name for t in out):
            raise ValueError(f"{where}: name: used twice; names must be unique")
        refuse_unknown(entry, f"{where}: ", _KEYS)
        url = entry.get("url", "")
        if not isinstance(url, str) or (url and not _URL.match(url.strip())):
            # Not the value: it may hold a token.
            raise ValueError(f"{where}: url: not an Apprise URL like \"ntfy://ntfy.example.org/topic\"")
        env = entry.get("url_env", "")
        if not isinstance(env, str) or (env and not _ENV_NAME.match(env)):
            raise ValueError(f"{where}: url_env: {env!r} is not the name of an environment variable")
        if url and env:
            raise ValueError(f"{where}: url_env: give url or url_env, not both")
        to = entry.get("to", "")
        if to not in ("", "oncall"):
            raise ValueError(f'{where}: to: {to!r} is not "oncall" (the on-call expert, resolved at send time)')
        if to == "oncall":
            on_call = {e.expert.casefold() for e in directory.oncall}
            if not any(e.alert and e.name.casefold() in on_call for e in directory.experts):
                raise ValueError(
                    f"{where}: to: no expert in [[oncall]] has an alert address (add alert = "
                    '"ntfy://…" to their [[experts]] entry)'
                )
        elif not url and not env:
            raise ValueError(f'{where}: url: missing (an Apprise URL, or url_env, or to = "oncall")')
        on = entry.get("on", list(EVENTS))
        if not isinstance(on, list) or not on or not all(isinstance(e, str) for e in on):
            raise ValueError(f"{where}: on: must be a list of events ({', '.join(EVENTS)})")
        for e in on:
            if e not in EVENTS:
                raise ValueError(f"{where}: on: {e!r} is not one of {', '.join(EVENTS)}")
        hours_text = entry.get("hours", "")
        if not isinstance(hours_text, str):
            raise ValueError(f"{where}: hours: must be a text like 'mon-sun 17:00-08:00' or a [shifts] name")
        hours = None
        if hours_text.strip():
            named = next((s for s in shifts if s.name == hours_text.strip()), None)
            try:
                hours = named or parse_shift(name, hours_text)
            except ValueError as exc:
                detail = str(exc).split(": ", 1)[-1]
                raise ValueError(f"{where}: hours: {detail} (or name a [shifts] entry)") from None
        limit = entry.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"{where}: limit: must be a whole number ≥ 1 (alerts per 10 minutes), not {limit!r}")
        out.append(AlertTarget(name, frozenset(on), url.strip(), env, to, hours, hours_text.strip(), limit))
    return tuple(out)
