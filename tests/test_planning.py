"""The content plan's rules: periods, statuses, balance, holidays, campaigns, the crisis hold,
the CSV import and the iCalendar export (read back with the icalendar library)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webcare.config import ConfigError
from webcare.planning import (
    Campaign,
    Period,
    PlanImportError,
    PlanItem,
    balance,
    campaigns_in,
    csv_row,
    hold_today_and_tomorrow,
    holidays_in,
    is_holding,
    next_status,
    on_day,
    parse_plan_csv,
    period_of,
    plan_to_ics,
    release_held,
    today_plan,
)

CYCLE = date(2026, 11, 16)  # a Monday, as in config.toml
BRUSSELS = ZoneInfo("Europe/Brussels")
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def item(title: str, day: date | None = None, **kw) -> PlanItem:
    return PlanItem.new(title, date=day, now=T0, **kw)


# --- periods -------------------------------------------------------------------------------


def test_the_period_starts_at_the_cycle_start():
    p = period_of(CYCLE, CYCLE)
    assert p.start == CYCLE and p.end == date(2026, 11, 29)
    assert p.days[0] == CYCLE and p.days[-1] == date(2026, 11, 29) and len(p.days) == 14
    assert [d.weekday() for d in p.days] == [0, 1, 2, 3, 4, 5, 6] * 2
    assert p.weeks == (p.days[:7], p.days[7:])
    assert period_of(date(2026, 11, 29), CYCLE) == p  # the last Sunday still belongs to it
    assert period_of(date(2026, 11, 30), CYCLE) == p.next() == Period(date(2026, 11, 30))
    assert p.next().previous() == p


def test_a_day_before_the_cycle_start_lies_in_an_earlier_period_of_the_same_rhythm():
    p = period_of(date(2026, 11, 15), CYCLE)
    assert p == Period(date(2026, 11, 2)) and p.end == date(2026, 11, 15)
    assert p.next().start == CYCLE
    assert period_of(date(2026, 11, 2), CYCLE) == p
    assert period_of(date(2026, 11, 1), CYCLE) == Period(date(2026, 10, 19))


def test_periods_across_month_and_year_ends():
    december = period_of(date(2026, 12, 1), CYCLE)
    assert (december.start, december.end) == (date(2026, 11, 30), date(2026, 12, 13))
    new_year = period_of(date(2026, 12, 31), CYCLE)
    assert (new_year.start, new_year.end) == (date(2026, 12, 28), date(2027, 1, 10))
    assert period_of(date(2027, 1, 1), CYCLE) == new_year
    assert date(2027, 1, 10) in new_year and date(2027, 1, 11) not in new_year
    assert new_year.next().start == date(2027, 1, 11)
    # a leap day, far from the cycle start, keeps the rhythm
    leap = period_of(date(2028, 2, 29), CYCLE)
    assert leap.start.weekday() == 0 and (leap.start - CYCLE).days % 14 == 0 and date(2028, 2, 29) in leap


@pytest.mark.parametrize(
    "weekend,start,sunday_hours",
    [
        ((date(2026, 3, 28), date(2026, 3, 29)), date(2026, 3, 23), 23),  # clocks go forward
        ((date(2026, 10, 24), date(2026, 10, 25)), date(2026, 10, 19), 25),  # clocks go back
    ],
)
def test_the_daylight_saving_weekends_in_brussels(weekend, start, sunday_hours):
    p = period_of(weekend[0], CYCLE)
    assert p.start == start and period_of(weekend[1], CYCLE) == p
    assert p.days == tuple(start + timedelta(days=n) for n in range(14))  # no day lost or doubled
    # every moment of the weekend, as local time in Brussels, lands in the period of its own day
    saturday_midnight = datetime.combine(weekend[0], time(0), tzinfo=BRUSSELS).astimezone(UTC)
    for hour in range(0, 49):
        moment = (saturday_midnight + timedelta(hours=hour)).astimezone(BRUSSELS)
        assert period_of(moment.date(), CYCLE) == p
        assert moment.date() in p
    # the Sunday's local midnights are 23 or 25 hours apart; the period, in dates, does not care
    sunday = weekend[1]
    midnights = [datetime.combine(sunday + timedelta(days=n), time(0), tzinfo=BRUSSELS) for n in (0, 1)]
    assert midnights[1].astimezone(UTC) - midnights[0].astimezone(UTC) == timedelta(hours=sunday_hours)
    assert p.next().start == start + timedelta(days=14)


def test_a_period_starts_on_a_monday():
    with pytest.raises(ValueError, match="Monday"):
        Period(date(2026, 11, 17))
    with pytest.raises(ValueError, match="Monday"):
        period_of(date(2026, 11, 20), date(2026, 11, 17))


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(-5000, 5000))
def test_every_day_lies_in_exactly_one_period(day, weeks):
    cycle = CYCLE + timedelta(weeks=weeks)
    p = period_of(day, cycle)
    assert day in p and p.start.weekday() == 0
    assert (p.start - cycle).days % 14 == 0
    assert day not in p.previous() and day not in p.next()
    assert period_of(day + timedelta(days=14), cycle) == p.next()


# --- items and statuses ------------------------------------------------------------------------


def test_status_cycles_and_held_stays_held():
    assert [next_status(s) for s in ("idea", "draft", "planned", "published")] == [
        "draft", "planned", "published", "idea",
    ]
    assert next_status("held") == "held"
    with pytest.raises(ValueError):
        next_status("archived")


def test_an_item_normalizes_its_fields():
    i = item("  Reportage\x1b[31m  poelen ", date(2026, 11, 18), channels="Twitter; fb, x", theme=" Natuur ")
    assert i.title == "Reportage poelen"  # escape sequences and extra spaces removed
    assert i.channels == ("x", "facebook") and i.theme == "natuur"
    assert i.status == "draft" and i.created_at == i.updated_at == T0
    assert item("Idee").status == "idea" and item("Idee").backlog
    with pytest.raises(ValueError, match="title"):
        item("   ")
    with pytest.raises(ValueError, match="myspace"):
        item("x", channels=["myspace"])
    with pytest.raises(ValueError, match="status"):
        item("x", status="done")


def test_with_changes_moves_edits_and_keeps_the_id():
    i = item("Poelen", date(2026, 11, 18), time=time(9, 30))
    later = T0 + timedelta(hours=1)
    moved = i.with_changes({"date": "2026-11-20", "time": "14:00", "channels": "li"}, at=later)
    assert moved.id == i.id and moved.date == date(2026, 11, 20) and moved.time == time(14, 0)
    assert moved.channels == ("linkedin",) and moved.updated_at == later and moved.created_at == T0
    assert i.moved_to(None).backlog and i.with_changes({"time": ""}).time is None
    with pytest.raises(ValueError, match="colour"):
        i.with_changes({"colour": "red"})
    assert PlanItem.from_record(moved.to_record()) == moved


def test_items_of_a_day_all_day_first_then_by_time():
    day = date(2026, 11, 18)
    late, early, allday = item("b", day, time=time(15)), item("a", day, time=time(9)), item("c", day)
    other = item("d", day + timedelta(days=1))
    assert on_day([late, other, early, allday], day) == [allday, early, late]


# --- balance, holidays, campaigns ----------------------------------------------------------------


def test_balance_of_a_period():
    p = period_of(CYCLE, CYCLE)
    items = [
        item("a", date(2026, 11, 16), channels="x, facebook", theme="mest"),
        item("b", date(2026, 11, 16), channels="x", theme="water"),
        item("c", date(2026, 11, 20), channels="x", theme="mest", status="published"),
        item("d", date(2026, 11, 29)),  # no channel, no theme
        item("outside", date(2026, 11, 30), channels="linkedin", theme="natuur"),
        item("backlog idea", channels="instagram", theme="natuur"),
    ]
    b = balance(items, p, ["x", "facebook", "linkedin", "email"])
    assert b.total == 4
    assert b.per_channel == {"x": 3, "facebook": 1} and list(b.per_channel) == ["x", "facebook"]
    assert b.per_theme == {"mest": 2, "water": 1}
    assert b.unused_channels == ("linkedin", "email")
    assert b.without_channel == 1 and b.without_theme == 1
    assert b.empty_days == tuple(d for d in p.days if d not in {date(2026, 11, 16), date(2026, 11, 20), date(2026, 11, 29)})
    assert len(b.empty_days) == 11


def test_holidays_in_dutch_for_belgium():
    november = period_of(date(2026, 11, 11), CYCLE)
    assert holidays_in(november, "BE") == {date(2026, 11, 11): "Wapenstilstand"}
    december = period_of(date(2026, 12, 25), CYCLE)
    assert holidays_in(december, "BE") == {date(2026, 12, 25): "Kerstmis"}
    new_year = period_of(date(2027, 1, 1), CYCLE)  # spans two years
    assert holidays_in(new_year, "BE") == {date(2027, 1, 1): "Nieuwjaar"}
    assert holidays_in(december, "BE", "en") == {date(2026, 12, 25): "Christmas Day"}
    assert holidays_in(december, "") == {}
    assert holidays_in(period_of(CYCLE, CYCLE), "BE") == {}


def test_holidays_of_a_country_without_dutch_names_come_in_its_own_language():
    december = period_of(date(2026, 12, 25), CYCLE)
    assert holidays_in(december, "DE")[date(2026, 12, 25)] == "Erster Weihnachtstag"


def test_campaigns_in_a_period():
    p = period_of(CYCLE, CYCLE)
    before = Campaign("Voorbij", date(2026, 11, 1), date(2026, 11, 15))
    overlapping = Campaign("Winter", date(2026, 11, 10), date(2026, 11, 18), "mest")
    inside = Campaign("Water", date(2026, 11, 23), date(2026, 11, 29), "water")
    after = Campaign("Later", date(2026, 11, 30), date(2026, 12, 5))
    assert campaigns_in(p, [inside, after, before, overlapping]) == [overlapping, inside]
    assert overlapping.days_in(p) == (date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18))
    assert inside.covers(date(2026, 11, 29)) and not inside.covers(date(2026, 11, 30))


# --- today, and the crisis hold ------------------------------------------------------------------


def test_hold_today_and_tomorrow_and_release():
    today = date(2026, 11, 20)
    planned = item("planned today", today, time=time(10), status="planned")
    draft = item("draft tomorrow", today + timedelta(days=1), status="draft")
    published = item("already out", today, status="published")
    idea = item("idea today", today, status="idea")
    later = item("day after tomorrow", today + timedelta(days=2), status="planned")
    items = [planned, draft, published, idea, later]
    assert not is_holding(items, today)

    changes = hold_today_and_tomorrow(items, today)
    assert changes == [
        (planned.id, {"status": "held", "held_from": "planned"}),
        (draft.id, {"status": "held", "held_from": "draft"}),
    ]
    by_id = {i.id: i for i in items}
    for item_id, change in changes:
        by_id[item_id] = by_id[item_id].with_changes(change)
    held = list(by_id.values())
    assert is_holding(held, today) and by_id[planned.id].status == "held"
    assert next_status("held") == "held"
    assert hold_today_and_tomorrow(held, today) == []  # holding twice changes nothing

    released = release_held(held, today)
    assert released == [
        (planned.id, {"status": "planned", "held_from": None}),
        (draft.id, {"status": "draft", "held_from": None}),
    ]
    for item_id, change in released:
        by_id[item_id] = by_id[item_id].with_changes(change)
    assert [by_id[i.id].status for i in items] == ["planned", "draft", "published", "idea", "planned"]
    assert by_id[planned.id].held_from is None and not is_holding(list(by_id.values()), today)


def test_an_item_whose_day_passed_while_held_stays_held():
    today = date(2026, 11, 20)
    held = item("yesterday", today - timedelta(days=1), status="planned").with_changes({"status": "held", "held_from": "planned"})
    assert release_held([held], today) == []


def test_today_plan_for_the_stream_header():
    today = date(2026, 11, 20)
    items = [
        item("morning", today, time=time(9), status="planned"),
        item("noon", today, time=time(12), status="planned"),
        item("evening", today, time=time(19), status="planned"),
        item("all day", today, status="draft"),
        item("idea", today, status="idea"),
        item("held", today, time=time(11), status="planned").with_changes({"status": "held", "held_from": "planned"}),
        item("tomorrow", today + timedelta(days=1), time=time(8), status="planned"),
    ]
    now = datetime(2026, 11, 20, 11, 30, tzinfo=BRUSSELS)
    t = today_plan(items, now)
    assert (t.count, t.next_time, t.held) == (5, time(12), 1)
    assert today_plan(items, now.replace(hour=20)).next_time is None


# --- CSV import --------------------------------------------------------------------------------

GOOD_CSV = """date,time,channels,theme,title,text,status,owner
2026-11-18,09:30,"x, facebook",natuur,Poelen in de Kempen,"Een boer legt drie poelen aan.
Met foto's.",planned,An
2026-11-19,,linkedin;x,mest,Nieuwe bemestingsnormen,,,
,,,water,Idee: reportage waterbeheer,,,
"""


def test_a_good_csv_is_parsed():
    items = parse_plan_csv(GOOD_CSV, owner="tester", now=T0)
    assert [i.title for i in items] == ["Poelen in de Kempen", "Nieuwe bemestingsnormen", "Idee: reportage waterbeheer"]
    first, second, idea = items
    assert first.date == date(2026, 11, 18) and first.time == time(9, 30)
    assert first.channels == ("x", "facebook") and first.status == "planned" and first.owner == "An"
    assert first.text == "Een boer legt drie poelen aan.\nMet foto's."
    assert second.channels == ("linkedin", "x") and second.status == "draft" and second.owner == "tester"
    assert idea.backlog and idea.status == "idea" and idea.theme == "water"
    # the same file gives the same ids, so importing it twice adds nothing twice
    assert [i.id for i in parse_plan_csv(GOOD_CSV, now=T0 + timedelta(days=1))] == [i.id for i in items]
    assert len({i.id for i in items}) == 3


def test_a_semicolon_csv_from_excel_with_dutch_statuses():
    text = "\ufeffDate;Title;Channels;Status\r\n2026-11-18;Poelen;x,fb;Gepland\r\n2026-11-19;Hagen;ig;concept\r\n"
    items = parse_plan_csv(text)
    assert [(i.title, i.channels, i.status) for i in items] == [
        ("Poelen", ("x", "facebook"), "planned"),
        ("Hagen", ("instagram",), "draft"),
    ]


def test_a_broken_csv_is_rejected_whole_with_every_bad_row_named():
    text = """date,time,channels,theme,title,text,status,owner
2026-11-18,09:30,x,natuur,Goed,,planned,
2026-11-19,,x,,Ook goed,,,
31-02-2026,,x,,Datum fout,,,
2026-02-31,25:00,myspace,,Alles fout,,done,
2026-11-20,,x,,,,,
"""
    with pytest.raises(PlanImportError) as caught:
        parse_plan_csv(text)
    errors = caught.value.errors
    assert errors == [
        "row 4: date: '31-02-2026' is not a date (YYYY-MM-DD)",
        "row 5: date: '2026-02-31' is not a date (YYYY-MM-DD)",
        "row 5: time: '25:00' is not a time (HH:MM)",
        "row 5: channels: unknown channel 'myspace' (known: x, facebook, instagram, linkedin, mastodon, bluesky, youtube, reddit, email, news, web, other; twitter is an alias of x)",
        "row 5: status: 'done' is not a status (one of idea, draft, planned, published, held)",
        "row 6: title: empty (every item needs a title)",
    ]
    assert str(caught.value).splitlines() == errors


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", "row 1: the header row is missing"),
        ("date,titel\n2026-11-18,x\n", "row 1: 'titel': unknown column"),
        ("date,channels\n2026-11-18,x\n", "row 1: title: the column is missing"),
        ("title,title\na,b\n", "row 1: 'title': the column appears twice"),
        ("title,date\nPoelen,2026-11-18,extra\n", "row 2: 3 cells, but the header names 2 columns"),
    ],
)
def test_a_csv_with_a_bad_header_or_shape(text, expected):
    with pytest.raises(PlanImportError) as caught:
        parse_plan_csv(text)
    assert caught.value.errors[0].startswith(expected)


def test_csv_rows_read_back():
    items = parse_plan_csv(GOOD_CSV, now=T0)
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(csv_row(items[0])))
    writer.writeheader()
    writer.writerows(csv_row(i) for i in items)
    again = parse_plan_csv(out.getvalue(), now=T0)
    fields = ("date", "time", "channels", "theme", "title", "text", "status", "owner")
    assert [[getattr(i, f) for f in fields] for i in again] == [[getattr(i, f) for f in fields] for i in items]


# --- the iCalendar export ----------------------------------------------------------------------------


def test_the_ics_reads_back_with_the_icalendar_library():
    timed = item("Poelen", date(2026, 11, 18), time=time(9, 30), channels="x, fb", theme="natuur", text="Drie poelen.", status="planned", owner="An")
    allday = item("Wapenstilstand: herdenking", date(2026, 11, 11), channels="li")
    dst = item("Na de omschakeling", date(2026, 10, 25), time=time(2, 30), status="planned")
    idea = item("Backlog-idee")
    data = plan_to_ics([timed, allday, dst, idea], BRUSSELS, name="VLM", language="nl")
    cal = icalendar.Calendar.from_ical(data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Poelen", "Wapenstilstand: herdenking", "Na de omschakeling"}

    e = events["Poelen"]
    start, end = e.decoded("dtstart"), e.decoded("dtend")
    assert start == datetime(2026, 11, 18, 9, 30, tzinfo=BRUSSELS) and str(start.tzinfo) == "Europe/Brussels"
    assert end - start == timedelta(minutes=30)
    assert e["dtstart"].params["TZID"] == "Europe/Brussels"
    assert str(e["uid"]) == f"{timed.id}@webcare"
    assert [str(c) for c in e["categories"].cats] == ["natuur"]
    description = str(e["description"])
    assert "Drie poelen." in description and "Kanalen: x, facebook" in description
    assert "Status: gepland" in description and "Eigenaar: An" in description

    a = events["Wapenstilstand: herdenking"]
    assert a.decoded("dtstart") == date(2026, 11, 11) and a.decoded("dtend") == date(2026, 11, 12)
    assert "categories" not in a

    d = events["Na de omschakeling"]
    assert d.decoded("dtstart").utcoffset() == timedelta(hours=2)  # still summer time at 02:30
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Brussels"]
    assert str(cal["x-wr-calname"]) == "VLM — contentplan"
    # the same plan exports the same bytes (UID and DTSTAMP are stable)
    assert plan_to_ics([timed, allday, dst, idea], BRUSSELS, name="VLM") == data


def test_an_ics_without_timed_items_needs_no_timezone():
    cal = icalendar.Calendar.from_ical(plan_to_ics([item("a", date(2026, 11, 18))], BRUSSELS))
    assert len(cal.walk("VEVENT")) == 1 and cal.walk("VTIMEZONE") == []


# --- [calendar] in config.toml -------------------------------------------------------------------------


def test_calendar_config(make_config):
    config = make_config(
        """
        [calendar]
        cycle_start = 2026-11-16
        holidays = "be"
        channels = ["twitter", "Facebook", "ig"]

        [[calendar.campaigns]]
        name = "Themaweek water"
        from = "2026-11-23"
        until = "2026-11-29"
        theme = "Water"

        [[calendar.campaigns]]
        name = "Week van het bos"
        from = 2026-10-11
        until = 2026-10-18
        """
    )
    cal = config.calendar
    assert cal.cycle_start == CYCLE and cal.holidays == "BE"
    assert cal.campaigns == (
        Campaign("Themaweek water", date(2026, 11, 23), date(2026, 11, 29), "water"),
        Campaign("Week van het bos", date(2026, 10, 11), date(2026, 10, 18)),
    )
    assert cal.period_of(date(2026, 11, 25)) == Period(CYCLE)
    assert config.calendar_channels == cal.channels == ("x", "facebook", "instagram")


def test_calendar_defaults(make_config):
    cal = make_config().calendar
    assert cal.cycle_start.weekday() == 0 and cal.holidays == "" and cal.campaigns == ()
    assert cal.channels == ("x", "facebook", "instagram", "linkedin")


@pytest.mark.parametrize(
    "body,expected",
    [
        ('cycle_start = "2026-11-17"', "[calendar] cycle_start: 2026-11-17 is a Tuesday, not a Monday"),
        ('cycle_start = "16-11-2026"', "[calendar] cycle_start: '16-11-2026' is not a date (YYYY-MM-DD)"),
        ('holidays = "B3"', "[calendar] holidays: 'B3' is not a country code"),
        ("holidays = 32", "[calendar] holidays: must be a string"),
        ('cylce_start = "2026-11-16"', "[calendar] cylce_start: unknown key"),
        ('channels = ["x", "myspace"]', "[calendar] channels: unknown channel 'myspace'"),
        ('channels = "x"', "[calendar] channels: must be a list of channels"),
        ('campaigns = "winter"', "[calendar] campaigns: write each campaign as a [[calendar.campaigns]] table"),
        ('[[calendar.campaigns]]\nfrom = "2026-11-16"\nuntil = "2026-11-20"', "[[calendar.campaigns]] #1: name: missing"),
        ('[[calendar.campaigns]]\nname = "W"\nfrom = "2026-11-16"', "[[calendar.campaigns]] #1 ('W'): until: missing"),
        ('[[calendar.campaigns]]\nname = "W"\nfrom = "2026-11-16"\nuntil = "2026-11-01"', "[[calendar.campaigns]] #1 ('W'): until: 2026-11-01 is before from (2026-11-16)"),
        ('[[calendar.campaigns]]\nname = "W"\nfrom = "2026-11-16"\nuntil = "2026-11-20"\ntill = "x"', "[[calendar.campaigns]] #1 ('W'): till: unknown key"),
    ],
)
def test_calendar_config_errors_name_the_key(make_config, body, expected):
    with pytest.raises(ConfigError) as caught:
        make_config("[calendar]\n" + body + "\n")
    assert expected in str(caught.value)


def test_check_asks_the_holidays_library_about_the_country(make_config):
    from webcare.config import check_holidays

    check_holidays(make_config('[calendar]\nholidays = "BE"\n'))
    with pytest.raises(ConfigError, match="\\[calendar\\] holidays: 'XX' is not a country the holidays library knows"):
        check_holidays(make_config('[calendar]\nholidays = "XX"\n'))
