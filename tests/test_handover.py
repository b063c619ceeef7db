"""The shift handover (webcare.handover): its sections on a fixed set, the shift times of
the proposed [shifts] config (across midnight, weekends, DST) and the notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webcare.handover import (
    Note,
    current_shift,
    handover,
    parse_shift,
    parse_shifts,
    replied_by,
    shift_start,
    to_markdown,
)
from webcare.mention import Mention

TZ = ZoneInfo("Europe/Brussels")
SHIFTS = {
    "day": "mon-fri 08:00-17:00",
    "evening": "mon-fri 17:00-23:00",
    "night": "mon-thu 23:00-08:00",
    "weekend": "fri 23:00-mon 08:00",
}


def local(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ).astimezone(UTC)


# --- shifts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, name, start",
    [
        (local(23, 10), "day", local(23, 8)),  # Monday morning
        (local(23, 17), "evening", local(23, 17)),  # at the handover minute: the new shift
        (local(23, 22, 59), "evening", local(23, 17)),
        (local(23, 23, 30), "night", local(23, 23)),  # past 23:00: the night shift
        (local(24, 2), "night", local(23, 23)),  # after midnight: it began yesterday
        (local(24, 7, 59), "night", local(23, 23)),
        (local(27, 23, 30), "weekend", local(27, 23)),  # Friday night
        (local(29, 15), "weekend", local(27, 23)),  # Sunday afternoon: began Friday
        (local(30, 7), "weekend", local(27, 23)),  # Monday 07:00 still the weekend shift
        (local(30, 8), "day", local(30, 8)),
    ],
)
def test_shift_start(now, name, start):
    shift = current_shift(SHIFTS, now, TZ)
    assert (shift.name, shift.start) == (name, start)
    assert shift_start(SHIFTS, now, TZ) == start


def test_between_shifts_the_latest_shift_that_began():
    shifts = {"day": "mon-fri 08:00-17:00"}
    assert shift_start(shifts, local(23, 20), TZ) == local(23, 8)  # Monday evening
    assert shift_start(shifts, local(28, 12), TZ) == local(27, 8)  # Saturday: Friday's
    assert shift_start(shifts, local(23, 7), TZ) == local(20, 8)  # Monday 07:00: last Friday


def test_shift_times_are_wall_clock_across_dst():
    # Sunday 29 March 2026: clocks go from 02:00 to 03:00 in Brussels
    shifts = {"weekend": "sat,sun 09:00-21:00", "night": "daily 21:00-09:00"}
    s = current_shift(shifts, local(29, 12, month=3), TZ)
    assert s.name == "weekend" and s.start == datetime(2026, 3, 29, 7, tzinfo=UTC)  # 09:00 CEST
    n = current_shift(shifts, local(29, 5, month=3), TZ)
    assert n.name == "night" and n.start == datetime(2026, 3, 28, 20, tzinfo=UTC)  # 21:00 CET
    assert n.end - n.start == timedelta(hours=11)  # one hour short that night


def test_shift_spellings():
    assert parse_shift("x", "ma-vr 08:00-17:00") == parse_shift("x", "mon-fri 08:00-17:00")
    assert len(parse_shift("x", "daily 08:00-17:00").windows) == 7
    assert len(parse_shift("x", "fri-mon 20:00-24:00").windows) == 4  # wraps the week
    w = parse_shift("x", "sat 08:00-sun 24:00").windows[0]
    assert (w.weekday, w.days) == (5, 2)
    assert len(parse_shift("x", "mon 08:00-12:00; wed 13:00-17:00").windows) == 2


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mon-fri 8-17", "[shifts] late: 'mon-fri 8-17' is not like"),
        ("mon-fry 08:00-17:00", "[shifts] late: 'mon-fry 08:00-17:00': 'fry' is not a day"),
        ("mon 25:00-26:00", "25:00 is not a time of day"),
        ("mon 08:00-08:00", "24 hours"),
        ("mon-fri 08:00-sat 08:00", "starts on one day"),
        ("", "names no time"),
        (42, "must be a text"),
    ],
)
def test_bad_shifts_name_the_entry(spec, message):
    with pytest.raises(ValueError) as err:
        parse_shifts({"late": spec})
    assert message in str(err.value)
    assert "[shifts] late" in str(err.value)


def test_no_shifts_is_an_error():
    with pytest.raises(ValueError, match="no shifts"):
        shift_start({}, local(23, 10), TZ)


# --- the handover ------------------------------------------------------------------------

SINCE = local(21, 17)  # Saturday 21 November, 17:00
NOW = local(21, 23)


def mention(mid: str, channel: str, seen: datetime, **kw) -> Mention:
    norm = {"x": 2, "facebook": 4, "email": 8}.get(channel)
    m = Mention(
        id=mid,
        source="demo",
        channel=channel,
        author=kw.pop("author", f"@{mid}"),
        text=kw.pop("text", f"Bericht {mid}\ntweede regel"),
        first_seen_at=seen,
        published_at=seen,
        norm_s=None if norm is None else norm * 3600,
        deadline=None if norm is None else seen + timedelta(hours=norm),
    )
    return m.replaced(**kw)


def reply(m: Mention, at: datetime, who: str) -> None:
    m.status, m.responded_at = "responded", at
    m.history.append(
        {
            "at": at.isoformat(),
            "who": "someone-else",
            "what": "triage L6",
            "changes": {"status": "responding"},
        }
    )
    m.history.append(
        {
            "at": at.isoformat(),
            "who": who,
            "what": "reply recorded",
            "changes": {"status": "responded", "responded_at": at.isoformat()},
        }
    )


def fixed_set() -> list[Mention]:
    a = mention("a", "x", local(21, 17, 30), priority="urgent", sentiment="negative")
    b = mention("b", "x", local(21, 18), watchlist="journalist")
    c = mention("c", "facebook", local(21, 19), sentiment="negative")
    d = mention("d", "email", local(21, 20))
    e = mention("e", "news", local(21, 21), sentiment="positive")  # no norm, monitor only
    e.status = "monitoring"
    f = mention("f", "x", local(21, 22, 30), priority="high")
    old = mention("old", "facebook", local(21, 14))  # before the shift, still owed: late
    earlier = mention("earlier", "email", local(21, 12))  # before the shift, answered in it
    reply(earlier, local(21, 17, 45), "bert")
    reply(b, local(21, 18, 40), "an")
    reply(c, local(21, 20), "an")
    # d: a question for an expert, acknowledged; e-mail answer due Monday
    d.routed_to, d.routed_at, d.routed_due = "An Peeters", local(21, 20, 10), local(23, 17)
    d.status = "routed"
    # an older routed one, its expert late; acknowledged (responded) but still waiting
    r = mention("r", "x", local(20, 10), routed_to="Jan Claes")
    r.routed_at, r.routed_due = local(20, 10, 5), local(21, 10, 5)
    reply(r, local(20, 10, 20), "bert")
    # answered by the expert: no longer waiting
    done = mention("done", "x", local(20, 9), routed_to="Jan Claes", status="responding")
    done.routed_at, done.routed_due, done.answered_at = local(20, 9), local(21, 9), local(20, 15)
    done.responded_at, done.status = local(20, 9, 30), "responded"
    snoozed = mention("z", "x", local(21, 22), status="snoozed")
    return [a, b, c, d, e, f, old, earlier, r, done, snoozed]


def test_handover_sections():
    notes = [
        Note(local(21, 22, 50), "bert", "Let op: journalist @b belt morgen terug."),
        Note(local(21, 18), "an", "Mestbank-storing opgelost om 18u."),
    ]
    h = handover(fixed_set(), SINCE, NOW, TZ, notes, shift="evening")
    # came in: a b c d e f z (first seen 17:30 … 22:30); old and earlier came before the shift
    assert h.came_in == 7
    assert h.per_channel == {"x": 4, "email": 1, "facebook": 1, "news": 1}
    # notable: urgent a; high f; watchlist b; negative c (a is negative too, urgent first)
    assert [(i.id, i.reasons) for i in h.notable] == [
        ("a", ("urgent", "negative")),
        ("f", ("high",)),
        ("b", ("watchlist",)),
        ("c", ("negative",)),
    ]
    # answered in the shift: earlier (17:45, bert), b (18:40, an), c (20:00, an)
    assert [(x.item.id, x.who) for x in h.answered] == [
        ("earlier", "bert"),
        ("b", "an"),
        ("c", "an"),
    ]
    assert h.answered_by == {"an": 2, "bert": 1}
    # open by deadline: old (14:00 + 4 h = 18:00, late), a (19:30), f (00:30), d (04:00);
    # the snoozed one and the news item owe nothing now
    assert [i.id for i in h.open] == ["old", "a", "f", "d"]
    assert h.overdue == 2  # old and a (19:30 < 23:00)
    # with the experts: r (due Sat 10:05, late), d (due Mon 17:00); done is answered
    assert [(i.id, i.routed_to) for i in h.experts] == [("r", "Jan Claes"), ("d", "An Peeters")]
    assert h.experts_late == 1
    assert [n.who for n in h.notes] == ["an", "bert"]  # oldest first


def test_handover_markdown_nl_and_en():
    notes = [Note(local(21, 22, 50), "<b>bert</b>", "Bel *journalist* terug\nmorgen om 9u")]
    h = handover(fixed_set(), SINCE, NOW, TZ, notes, shift="avond")
    md = to_markdown(h, "nl")
    assert md.startswith("# Overdracht — dienst avond\n")
    assert "Sinds za 21-11 17:00 tot za 21-11 23:00." in md
    assert "## Binnengekomen: 7" in md and "x 4, email 1, facebook 1, news 1" in md
    assert "- **dringend, negatief** · za 21-11 17:30 · x · @a — Bericht a (`a`)" in md
    assert "**volglijst (journalist)**" in md
    assert "Door: an 2, bert 1" in md
    assert "## Nog open, op deadline: 4 (2 over de deadline)" in md
    assert "- **5 u te laat** (za 21-11 18:00) · nieuw · facebook · @old" in md
    assert "- **nog 1 u 30 min** (zo 22-11 00:30)" in md
    assert "## Wacht op experts: 2 (1 te laat)" in md
    assert "- Jan Claes · verwacht za 21-11 10:05 (**12 u 55 min te laat**)" in md
    # notes: the operator's text, escaped for Markdown, one line
    assert "\\<b\\>bert\\</b\\>" in md and "Bel \\*journalist\\* terug morgen om 9u" in md
    assert "tweede regel" not in md  # only the first line of a post
    en = to_markdown(h, "en")
    assert "## Still open, by deadline: 4 (2 past the deadline)" in en
    assert "**1 h 30 min left**" in en
    assert "## Notes for the next shift" in en


def test_an_empty_handover():
    md = to_markdown(handover([], SINCE, NOW, TZ, []), "en")
    assert "## Came in: 0" in md and md.count("Nothing.") == 4  # open, experts, drafts, notes


def test_replied_by_reads_the_history():
    m = mention("m", "x", local(21, 18))
    assert replied_by(m) == "?"
    reply(m, local(21, 19), "carla")
    assert replied_by(m) == "carla"
