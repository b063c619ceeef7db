"""Reports on PostgreSQL: the figures of webcare.report computed where the mentions are.

`period_mentions` hands over only the mentions whose norm clock started in the period (the
first_seen index narrows them: the clock starts at or before first sight), instead of every
mention the store holds, and `figures` runs webcare.report.figures over them: the whole
report, the same to the last figure. `overview` goes further for the figures that are counts
and percentiles over the period (volume per day and channel, tone, statuses, response times
against the norms): one SQL aggregate, no mention leaves the database. The definitions are
webcare.report's (read its docstring); each is written beside the SQL that computes it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import psycopg

from store.jsonstorage import StoreError
from store.postgres.connection import Database
from webcare import report
from webcare.mention import OWED, Mention
from webcare.untrusted import clean_line

# The mentions of [start, end): the clock start (webcare.norms.clock_start: publication, unless
# unknown or after first sight) in the period, a followed voice's post nobody took up left out.
_PERIOD = """
WITH p AS (
    SELECT m.seq, m.id, m.channel, m.norm, m.deadline, m.content, s.state,
           LEAST(coalesce((m.content ->> 'published_at')::timestamptz, m.first_seen), m.first_seen) AS cs,
           coalesce(nullif(s.state ->> 'status', ''), 'new') AS status  -- status_of
    FROM mentions m LEFT JOIN states s ON s.id = m.id
    WHERE m.first_seen >= %(start)s
)
SELECT * FROM p
WHERE cs >= %(start)s AND cs < %(end)s
  AND NOT (coalesce(content -> 'followed' = 'true'::jsonb, false) AND status = 'monitoring')
"""


def _failed(db: Database, exc: psycopg.Error) -> StoreError:
    return StoreError(f"database {db.settings.where}: {clean_line(str(exc), 400) or type(exc).__name__}")


def period_mentions(db: Database, start: datetime, end: datetime) -> list[Mention]:
    """The mentions whose clock started in [start, end), in the order they came in; their
    state without its history (no figure reads it)."""
    try:
        with db.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT content, state FROM ({_PERIOD}) AS q ORDER BY seq", {"start": start, "end": end}
            ).fetchall()
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    return [Mention.from_records(content, state) for content, state in rows]


def figures(db: Database, start: datetime, end: datetime, tz: tzinfo, now: datetime) -> report.Report:
    """webcare.report.figures of the period's mentions."""
    return report.figures(period_mentions(db, start, end), start, end, tz, now)


# Per mention of the period: its local day, tone, status, and the response figures' inputs.
_ROWS = f"""
SELECT q.*,
    (cs AT TIME ZONE %(tz)s)::date - %(first)s::date AS day,
    CASE WHEN content ->> 'sentiment' IN ('negative', 'neutral', 'positive') THEN content ->> 'sentiment'
         ELSE 'unknown' END AS tone,
    -- Mention.owed: a reply is owed in these statuses, unless handed to the spokesperson
    status = ANY (%(owed)s) AND NOT coalesce(state -> 'flags' ? 'no-reply', false) AS owed,
    (state ->> 'responded_at')::timestamptz AS responded_at,
    -- report.response_seconds: response_s, else responded_at - clock start (whole seconds, ≥ 0)
    coalesce((state ->> 'response_s')::bigint,
             CASE WHEN state ->> 'responded_at' IS NOT NULL THEN
                  greatest(0, trunc(extract(epoch FROM (state ->> 'responded_at')::timestamptz - cs)))::bigint
             END) AS secs
FROM ({_PERIOD}) AS q
"""

_VOLUME = f"SELECT channel, day, tone, status, count(*) FROM ({_ROWS}) AS r GROUP BY channel, day, tone, status"

# report._ResponseTally over the mentions with a norm, per channel and for all (the empty set).
# within: answered and (with a deadline and a reply time) replied by the deadline, else within
# the norm; missed: no reply, owed, the deadline passed at `now`; pending: no reply, owed.
# Percentiles: percentile_cont is the linear ("inclusive") method report.percentile uses.
_RESPONSE = f"""
WITH r AS ({_ROWS}), t AS (
    SELECT *, CASE WHEN deadline IS NOT NULL AND responded_at IS NOT NULL THEN responded_at <= deadline
                   ELSE secs <= norm END AS in_time
    FROM r WHERE norm IS NOT NULL
)
SELECT channel, count(*), count(secs),
       count(*) FILTER (WHERE secs IS NOT NULL AND in_time),
       count(*) FILTER (WHERE secs IS NOT NULL AND NOT coalesce(in_time, false)),
       count(*) FILTER (WHERE secs IS NULL AND owed AND deadline < %(now)s),
       count(*) FILTER (WHERE secs IS NULL AND owed AND NOT coalesce(deadline < %(now)s, false)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY secs),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY secs)
FROM t GROUP BY GROUPING SETS ((channel), ())
"""

# The norm a channel's mentions carried most; of equals, the one that came first (as a Counter
# filled in arrival order says).
_NORMS = f"SELECT channel, norm, count(*), min(seq) FROM ({_ROWS}) AS r WHERE norm IS NOT NULL GROUP BY channel, norm"


def _percent(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def _response(row: tuple[Any, ...], norm_s: int | None) -> report.ResponseFigures:
    _channel, mentions, answered, within, late, missed, pending, median, p90 = row
    due = answered + missed
    return report.ResponseFigures(
        norm_s=norm_s, mentions=mentions, answered=answered, within=within, late=late, missed=missed,
        pending=pending, share_within=None if due == 0 else within / due,
        median_s=_percent(median), p90_s=_percent(p90),
    )  # fmt: skip


def overview(db: Database, start: datetime, end: datetime, tz: tzinfo, now: datetime) -> report.Overview:
    """report.overview(report.figures(…)) of the period, computed by the database."""
    if end <= start:
        raise ValueError(f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    first: date = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    n_days = (last - first).days + 1
    zone = str(getattr(tz, "key", tz))
    args = {"start": start, "end": end, "tz": zone, "first": first, "now": now, "owed": sorted(OWED)}
    try:
        with db.pool.connection() as conn:
            volume_rows = conn.execute(_VOLUME, args).fetchall()
            response_rows = conn.execute(_RESPONSE, args).fetchall()
            norm_rows = conn.execute(_NORMS, args).fetchall()
    except psycopg.Error as exc:
        raise _failed(db, exc) from None
    per_day = [0] * n_days
    volume: dict[str, list[int]] = {}
    sentiment = {s: [0] * n_days for s in report.SENTIMENTS}
    statuses: Counter[str] = Counter()
    for channel, day, tone, status, count in volume_rows:
        per_day[day] += count
        volume.setdefault(channel, [0] * n_days)[day] += count
        sentiment[tone][day] += count
        statuses[status] += count
    channels = sorted(volume, key=lambda c: (-sum(volume[c]), c))
    norms: dict[str, tuple[int, int, int]] = {}
    for channel, norm, count, first_seq in norm_rows:
        best = norms.get(channel)
        if best is None or (count, -first_seq) > (best[1], -best[2]):
            norms[channel] = (norm, count, first_seq)
    response: dict[str, report.ResponseFigures] = {}
    response_all = report.ResponseFigures(None, 0, 0, 0, 0, 0, 0, None, None, None)
    for row in response_rows:
        if row[0] is None:
            response_all = _response(row, None)
        else:
            response[row[0]] = _response(row, norms[row[0]][0])
    return report.Overview(
        total=sum(per_day),
        per_channel={c: sum(volume[c]) for c in channels},
        per_day=tuple(per_day),
        volume={c: tuple(volume[c]) for c in channels},
        sentiment={s: tuple(v) for s, v in sentiment.items()},
        statuses=report.ranked(statuses),
        response={c: response[c] for c in channels if c in response},
        response_all=response_all,
    )
