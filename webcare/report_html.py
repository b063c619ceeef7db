"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts, no
external stylesheets, fonts, images or links, so it opens offline and from a mail attachment.

Every string from outside (author names, themes, rules, ids) and every word goes through
`html.escape` (quotes too); numbers are formatted by us. The charts carry `data-*` attributes
(day, channel, sentiment, value) so the figures can be read back from the file (the tests do).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import tzinfo

from webcare.i18n import when
from webcare.report import (
    LIST_LIMIT,
    SENTIMENTS,
    Late,
    Report,
    RoutingFigures,
    Voice,
    _response_cells,
    _routing_cells,
    _status,
    _tz,
    day_label,
    duration,
    leaf_word,
    more_words,
    number,
    percent,
    period_label,
    voice_label,
    word,
)

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#d62728", "#393b79", "#637939",
)  # fmt: skip
TONE_COLOURS = {
    "negative": "#c0392b",
    "neutral": "#95a5a6",
    "positive": "#27ae60",
    "unknown": "#dfe4e6",
}
MEDIAN_COLOUR, P90_COLOUR, NORM_COLOUR = "#1f77b4", "#aec7e8", "#c0392b"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #222; max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ccc; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.all td { font-weight: bold; background: #f6f6f6; }
.note { color: #555; font-size: .85rem; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
            vertical-align: -1px; }
svg { display: block; max-width: 100%; height: auto; margin: .5rem 0; }
svg text { font-family: inherit; font-size: 11px; fill: #333; }
.summary li { margin: .15rem 0; }
@media print { h2 { break-after: avoid; } svg, table { break-inside: avoid; } }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def render(report: Report, language: str = "nl") -> str:
    def w(key: str) -> str:
        return esc(word(key, language))

    def n(value: int | None) -> str:
        return esc(number(value, language))

    tz = _tz(report)
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(report.channels)}
    title = f"{word('title', language)}: {period_label(report, tz, language)}"
    r = report.response_all
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(language)}">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="note">{w("period")}: {esc(when(report.start, tz, language))} – '
        f"{esc(when(report.end, tz, language))} ({w('timezone')} {esc(report.timezone)}). "
        f"{w('generated')}: {esc(when(report.now, tz, language))}.</p>",
        f"<h2>{w('summary')}</h2>",
        '<ul class="summary">',
        f"<li>{w('mentions')}: <strong>{n(report.total)}</strong></li>",
        f"<li>{w('share_within')}: <strong>{esc(percent(r.share_within, language))}</strong> "
        f"({n(r.within)} / {n(r.answered + r.missed)})</li>",
        f"<li>{w('median')}: {esc(duration(r.median_s, language))} · {w('p90')}: "
        f"{esc(duration(r.p90_s, language))}</li>",
        f"<li>{w('overdue')}: {n(len(report.overdue))}</li>",
        f"<li>{w('answered_late')}: {n(len(report.answered_late))}</li>",
        f"<li>{w('routing')}: {n(report.routing.routed)} · {w('waiting')}: "
        f"{n(report.routing.waiting)} · {w('late')}: {n(report.routing.late)}</li>",
        "</ul>",
        # volume
        f"<h2>{w('volume')}</h2>",
        f"<h3>{w('charts_volume')}</h3>",
        _legend((esc(c), colours[c]) for c in report.channels),
        _volume_chart(report, colours, language),
        f"<h3>{w('per_channel')}</h3>",
        _channel_chart(report, colours, language),
        _table(
            [w("day"), *(esc(c) for c in report.channels), w("total")],
            [
                [
                    esc(day_label(day, language)),
                    *(n(report.volume[c][i]) for c in report.channels),
                    n(report.per_day[i]),
                ]
                for i, day in enumerate(report.days)
            ],
            total=[
                w("total"),
                *(n(report.per_channel[c]) for c in report.channels),
                n(report.total),
            ],
        ),
        # response
        f"<h2>{w('response')}</h2>",
        f"<h3>{w('charts_response')}</h3>",
        _legend([(w("median"), MEDIAN_COLOUR), (w("p90"), P90_COLOUR), (w("norm"), NORM_COLOUR)]),
        _response_chart(report, language),
        _table(
            [
                w("channel"),
                w("norm"),
                w("with_norm"),
                w("answered"),
                w("within"),
                w("share_within"),
                w("median"),
                w("p90"),
                w("late"),
                w("missed"),
                w("pending"),
            ],
            [
                [esc(c), *(esc(x) for x in _response_cells(f, language))]
                for c, f in report.response.items()
            ],
            total=[w("all"), *(esc(x) for x in _response_cells(r, language))],
        ),
        f'<p class="note">{w("no_norm_note")}</p>',
        # scheme
        f"<h2>{w('scheme')}</h2>",
        _table(
            [w("leaf"), w("mentions")],
            [
                *([esc(leaf_word(k, language)), n(v)] for k, v in report.leaves.items()),
                *([[w("untriaged"), n(report.untriaged)]] if report.untriaged else []),
            ],
        ),
        _table(
            [w("category"), w("mentions")],
            [
                *([esc(k), n(v)] for k, v in report.categories.items()),
                *([[w("uncategorised"), n(report.uncategorised)]] if report.uncategorised else []),
            ],
        ),
        # tone
        f"<h2>{w('tone')}</h2>",
        _legend((w(s), TONE_COLOURS[s]) for s in SENTIMENTS),
        _tone_chart(report, language),
        _table(
            [w("day"), *(w(s) for s in SENTIMENTS), w("total")],
            [
                [
                    esc(day_label(day, language)),
                    *(n(report.sentiment[s][i]) for s in SENTIMENTS),
                    n(report.per_day[i]),
                ]
                for i, day in enumerate(report.days)
            ],
        ),
        # themes, rules, voices
        f"<h2>{w('themes_rules')}</h2>",
        _table([w("theme"), w("mentions")], [[esc(k), n(v)] for k, v in report.themes]),
        _table([w("rule"), w("mentions")], [[esc(k), n(v)] for k, v in report.rules]),
        f"<h2>{w('voices')}</h2>",
        f"<h3>{w('voices_count')}</h3>",
        _voices(report.voices_by_count, language),
        f"<h3>{w('voices_reach')}</h3>",
        _voices(report.voices_by_reach, language),
        # routing
        f"<h2>{w('routing')}</h2>",
        _table(
            [
                w("expert"),
                w("routed"),
                w("expert_answered"),
                w("waiting"),
                w("on_time"),
                w("late"),
                w("median"),
                w("p90"),
            ],
            [[esc(e.name or "?"), *_routing_row(e, language)] for e in report.experts],
            total=[w("all"), *_routing_row(report.routing, language)],
        ),
        f'<p class="note">{w("answer_time_note")}</p>',
        # late
        f"<h2>{w('late_lists')}</h2>",
        f"<h3>{w('overdue')} ({esc(when(report.as_of, tz, language))})</h3>",
        _late(report.overdue, tz, language, answered=False),
        f"<h3>{w('answered_late')}</h3>",
        _late(report.answered_late, tz, language, answered=True),
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def _routing_row(f: RoutingFigures, language: str) -> list[str]:
    return [esc(x) for x in _routing_cells(f, language)]


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], total: Sequence[str] | None = None
) -> str:
    """A table of already escaped cells; the first column is text, the others numbers."""
    rows = list(rows)
    if not rows and total is None:
        return '<p class="note">–</p>'
    out = ["<table>", "<thead><tr>"]
    out += [f"<th>{h}</th>" if i == 0 else f'<th class="n">{h}</th>' for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(_td(i, c) for i, c in enumerate(row)) + "</tr>")
    if total is not None:
        out.append('<tr class="all">' + "".join(_td(i, c) for i, c in enumerate(total)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _td(i: int, cell: str) -> str:
    return f"<td>{cell}</td>" if i == 0 else f'<td class="n">{cell}</td>'


def _legend(items: Iterable[tuple[str, str]]) -> str:
    spans = "".join(f'<span><i style="background:{c}"></i>{label}</span>' for label, c in items)
    return f'<p class="legend">{spans}</p>'


def _voices(voices: Sequence[Voice], language: str) -> str:
    def n(value: int | None) -> str:
        return esc(number(value, language))

    return _table(
        [
            "#",
            esc(word("author", language)),
            esc(word("channel", language)),
            esc(word("mentions", language)),
            esc(word("reach", language)),
        ],
        [
            [str(i), esc(voice_label(v)), esc(v.channel), n(v.mentions), n(v.reach)]
            for i, v in enumerate(voices, 1)
        ],
    )


def _late(items: Sequence[Late], tz: tzinfo, language: str, answered: bool) -> str:
    if not items:
        return f"<p>{esc(word('nothing', language))}</p>"
    if len(items) > LIST_LIMIT:
        rest = len(items) - LIST_LIMIT
        return (
            _late(items[:LIST_LIMIT], tz, language, answered)
            + f"<p>{esc(more_words(rest, language))}</p>"
        )
    header = [
        esc(word("deadline", language)),
        esc(word("channel", language)),
        esc(word("author", language)),
    ]
    if answered:
        header.append(esc(word("responded_at", language)))
    header += [esc(word("late_by", language)), esc(word("status", language)), "id"]
    rows = []
    for x in items:
        row = [esc(when(x.deadline, tz, language)), esc(x.channel), esc(x.author)]
        if answered:
            row.append(esc(when(x.responded_at, tz, language)) if x.responded_at else "–")
        row += [
            esc(duration(x.late_s, language)),
            esc(_status(x.status, language)),
            f"<code>{esc(x.id)}</code>",
        ]
        rows.append(row)
    return _table(header, rows)


# --- charts ----------------------------------------------------------------------------------

W, H = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 18, 34


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 1
    k = 1.0
    while k * 10 <= value:
        k *= 10
    for m in (1, 2, 5, 10):
        if m * k >= value:
            return m * k
    return 10 * k


def _y_axis(top_value: float, plot_h: float, right_edge: float) -> list[str]:
    out = []
    for i in range(5):
        v = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{_fmt(y)}" x2="{_fmt(right_edge)}" y2="{_fmt(y)}" '
            f'stroke="#e5e5e5" stroke-width="1" />'
        )
        out.append(f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{_fmt(v)}</text>')
    return out


def _day_bars(
    report: Report,
    series: Sequence[tuple[str, str, Sequence[int]]],
    css: str,
    data_key: str,
    label: str,
    language: str,
) -> str:
    """Stacked bars per day: `series` is (name, colour, per-day values), bottom first."""
    n_days = len(report.days)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    top_value = _nice_max(max(report.per_day, default=0))
    slot = plot_w / max(n_days, 1)
    bar_w = max(slot * 0.7, 1)
    body = _y_axis(top_value, plot_h, W - RIGHT)
    every = max(1, -(-n_days // 14))  # at most about 14 day labels
    for i, day in enumerate(report.days):
        x = LEFT + slot * i + (slot - bar_w) / 2
        y: float = TOP + plot_h
        for name, colour, values in series:
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            body.append(
                f'<rect class="bar {css}" data-day="{day.isoformat()}" data-{data_key}="{esc(name)}" '
                f'data-value="{value}" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar_w)}" '
                f'height="{_fmt(h)}" fill="{colour}"><title>{esc(day_label(day, language))} · '
                f"{esc(name)}: {value}</title></rect>"
            )
        total = report.per_day[i]
        if total and bar_w >= 14:
            body.append(
                f'<text x="{_fmt(x + bar_w / 2)}" y="{_fmt(y - 3)}" text-anchor="middle">{total}</text>'
            )
        if i % every == 0:
            body.append(
                f'<text x="{_fmt(x + bar_w / 2)}" y="{H - BOTTOM + 14}" text-anchor="middle">'
                f"{esc(day_label(day, language))}</text>"
            )
    body.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{W - RIGHT}" y2="{TOP + plot_h}" stroke="#888" />'
    )
    return _svg(W, H, label, body)


def _volume_chart(report: Report, colours: dict[str, str], language: str) -> str:
    series = [(c, colours[c], report.volume[c]) for c in report.channels]
    return _day_bars(report, series, "vol", "channel", word("charts_volume", language), language)


def _tone_chart(report: Report, language: str) -> str:
    series = [(word(s, language), TONE_COLOURS[s], report.sentiment[s]) for s in SENTIMENTS]
    return _day_bars(report, series, "sent", "sentiment", word("charts_tone", language), language)


def _hbars(
    rows: Sequence[tuple[str, list[tuple[str, float, str, str]], float | None]],
    top_value: float,
    label: str,
    unit: str,
) -> str:
    """Horizontal bars: per row a label, bars (css class, value, colour, tooltip) drawn over
    each other (the largest first), and an optional marker line (the norm)."""
    label_w, row_h = 110, 26
    height = TOP + row_h * len(rows) + 24
    plot_w = W - label_w - RIGHT - 40
    body = []
    for i in range(5):
        v = top_value * i / 4
        x = label_w + plot_w * i / 4
        body.append(
            f'<line x1="{_fmt(x)}" y1="{TOP}" x2="{_fmt(x)}" y2="{TOP + row_h * len(rows)}" '
            f'stroke="#e5e5e5" />'
        )
        body.append(
            f'<text x="{_fmt(x)}" y="{TOP + row_h * len(rows) + 14}" text-anchor="middle">'
            f"{_fmt(v)}{esc(unit)}</text>"
        )
    for r, (name, bars, marker) in enumerate(rows):
        y = TOP + row_h * r
        body.append(
            f'<text x="{label_w - 6}" y="{_fmt(y + row_h / 2 + 4)}" text-anchor="end">{esc(name)}</text>'
        )
        thick = row_h - 8
        for css, value, colour, tip in sorted(bars, key=lambda b: -b[1]):
            width = plot_w * min(value, top_value) / top_value
            body.append(
                f'<rect class="bar {css}" data-row="{esc(name)}" data-value="{_fmt(value)}" '
                f'x="{label_w}" y="{_fmt(y + (row_h - thick) / 2)}" width="{_fmt(width)}" '
                f'height="{thick}" fill="{colour}"><title>{esc(tip)}</title></rect>'
            )
            thick = max(thick - 8, 4)
        if marker is not None:
            x = label_w + plot_w * min(marker, top_value) / top_value
            body.append(
                f'<line class="norm" data-row="{esc(name)}" data-value="{_fmt(marker)}" '
                f'x1="{_fmt(x)}" y1="{y + 2}" x2="{_fmt(x)}" y2="{y + row_h - 2}" '
                f'stroke="{NORM_COLOUR}" stroke-width="3" />'
            )
    return _svg(W, height, label, body)


def _channel_chart(report: Report, colours: dict[str, str], language: str) -> str:
    rows = [
        (
            c,
            [("chan", float(report.per_channel[c]), colours[c], f"{c}: {report.per_channel[c]}")],
            None,
        )
        for c in report.channels
    ]
    top_value = _nice_max(max(report.per_channel.values(), default=0))
    return _hbars(rows, top_value, word("per_channel", language), "")


def _response_chart(report: Report, language: str) -> str:
    """Per channel with a norm: the p90 bar (light), the median bar over it (dark) and the
    norm as a red line, in hours."""
    rows = []
    top = 0.0
    for c, f in report.response.items():
        bars = []
        if f.p90_s is not None:
            bars.append(
                ("p90", f.p90_s / 3600, P90_COLOUR, f"{c} P90: {duration(f.p90_s, language)}")
            )
        if f.median_s is not None:
            bars.append(
                (
                    "med",
                    f.median_s / 3600,
                    MEDIAN_COLOUR,
                    f"{c} {word('median', language)}: {duration(f.median_s, language)}",
                )
            )
        norm = None if f.norm_s is None else f.norm_s / 3600
        top = max(top, *(b[1] for b in bars), norm or 0)
        rows.append((c, bars, norm))
    unit = " u" if language == "nl" else " h"
    return _hbars(rows, _nice_max(top), word("charts_response", language), unit)
