"""`webcare export plan`, `webcare import plan` and `webcare check` of [calendar], run as a user
runs them: a real process, real files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from store.plan import PlanStore
from tests.conftest import write_config
from tests.test_cli import webcare
from webcare.config import load
from webcare.planning import PlanItem

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")

CALENDAR = """
[calendar]
cycle_start = "2026-11-16"
holidays = "BE"
"""


@pytest.fixture
def config_path(tmp_path):
    return write_config(tmp_path, CALENDAR)


def plan_of(config_path) -> PlanStore:
    return PlanStore(load(config_path).data_dir)


def test_export_plan_as_ics_reads_back(config_path, tmp_path):
    plan = plan_of(config_path)
    timed = plan.add(PlanItem.new("Poelen in de Kempen", date=date(2026, 11, 18), time=time(9, 30), channels="x, facebook", theme="natuur", text="Drie nieuwe poelen.", status="planned", owner="An", now=T0))
    allday = plan.add(PlanItem.new("Week van het bos: terugblik", date=date(2026, 12, 31), channels="linkedin", now=T0))
    plan.add(PlanItem.new("Idee zonder dag", now=T0))

    out = tmp_path / "plan.ics"
    result = webcare("export", "--config", str(config_path), "plan", "--format", "ics", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"{timed.id}@webcare", f"{allday.id}@webcare"}  # the backlog is not in a calendar

    e = events[f"{timed.id}@webcare"]
    assert str(e["summary"]) == "Poelen in de Kempen"
    assert e.decoded("dtstart") == datetime(2026, 11, 18, 9, 30, tzinfo=BRUSSELS)
    assert e["dtstart"].params["TZID"] == "Europe/Brussels"
    assert e.decoded("dtend") - e.decoded("dtstart") == timedelta(minutes=30)
    assert e.decoded("dtstamp") == timed.updated_at
    assert "Kanalen: x, facebook" in str(e["description"]) and "Eigenaar: An" in str(e["description"])
    assert [str(c) for c in e["categories"].cats] == ["natuur"]

    a = events[f"{allday.id}@webcare"]
    assert str(a["summary"]) == "Week van het bos: terugblik"
    assert a.decoded("dtstart") == date(2026, 12, 31) and a.decoded("dtend") == date(2027, 1, 1)
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Brussels"]

    stdout = webcare("export", "--config", str(config_path), "plan", "--format", "ics")
    assert stdout.returncode == 0 and stdout.stdout.replace("\n", "\r\n").encode() == out.read_bytes()


def test_export_plan_as_jsonl(config_path):
    plan = plan_of(config_path)
    a = plan.add(PlanItem.new("Poelen", date=date(2026, 11, 18), time=time(9, 30), channels="x", status="planned", now=T0))
    b = plan.add(PlanItem.new("Idee", now=T0))
    result = webcare("export", "plan", "--format", "jsonl", "--config", str(config_path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [a.id, b.id]
    assert rows[0] == {
        "id": a.id, "date": "2026-11-18", "time": "09:30", "channels": ["x"], "theme": "",
        "title": "Poelen", "text": "", "status": "planned", "owner": "", "created_at": "2026-11-16T08:00:00+00:00",
        "updated_at": "2026-11-16T08:00:00+00:00", "held_from": None,
    }
    assert rows[1]["date"] is None and rows[1]["status"] == "idea"


def test_export_of_an_empty_plan(config_path):
    result = webcare("export", "plan", "--format", "ics", "--config", str(config_path))
    assert result.returncode == 0
    assert icalendar.Calendar.from_ical(result.stdout).walk("VEVENT") == []
    assert webcare("export", "plan", "--config", str(config_path)).stdout == ""


def test_export_mentions_keeps_its_formats(config_path):
    result = webcare("export", "mentions", "--format", "ics", "--config", str(config_path))
    assert result.returncode == 2 and "ics is for the plan" in result.stderr
    assert webcare("export", "mentions", "--format", "csv", "--config", str(config_path)).returncode == 0


GOOD = """date,time,channels,theme,title,text,status,owner
2026-11-18,09:30,"x, facebook",natuur,Poelen in de Kempen,Drie poelen,planned,An
2026-11-19,,linkedin;x,mest,Nieuwe bemestingsnormen,,,
,,,water,Idee: reportage waterbeheer,,,
"""


def test_import_a_good_csv(config_path, tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = webcare("import", "--config", str(config_path), "plan", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 items imported")
    items = plan_of(config_path).all()
    assert [(i.title, i.date, i.status, i.owner) for i in items] == [
        ("Poelen in de Kempen", date(2026, 11, 18), "planned", "An"),
        ("Nieuwe bemestingsnormen", date(2026, 11, 19), "draft", "tester"),  # the operator
        ("Idee: reportage waterbeheer", None, "idea", "tester"),
    ]
    again = webcare("import", "plan", str(path), "--config", str(config_path))
    assert again.returncode == 0 and again.stdout.startswith("0 items imported (3 already in the plan)")
    assert len(plan_of(config_path).all()) == 3

    ics = webcare("export", "plan", "--format", "ics", "--config", str(config_path))
    summaries = {str(e["summary"]) for e in icalendar.Calendar.from_ical(ics.stdout).walk("VEVENT")}
    assert summaries == {"Poelen in de Kempen", "Nieuwe bemestingsnormen"}


def test_import_a_csv_saved_by_excel(config_path, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Date;Title;Channels;Status;Theme\r\n2026-11-18;Poelen in de Kempen;x,fb;Gepland;natuur\r\n2026-11-20;Café-avond in Gent;ig;concept;\r\n".encode("cp1252"))
    result = webcare("import", "plan", str(path), "--config", str(config_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 items imported")
    assert [i.title for i in plan_of(config_path).all()] == ["Poelen in de Kempen", "Café-avond in Gent"]


def test_a_broken_csv_imports_nothing_and_names_every_bad_row(config_path, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        "date,time,channels,theme,title,text,status,owner\n"
        "2026-11-18,09:30,x,natuur,Goed,,planned,\n"
        "2026-11-19,,x,,Ook goed,,,\n"
        "31-02-2026,,x,,Datum fout,,,\n"
        "2026-11-20,9u30,myspace,,Tijd en kanaal fout,,,\n"
        "2026-11-21,,x,,,,,\n",
        encoding="utf-8",
    )
    result = webcare("import", "plan", str(path), "--config", str(config_path))
    assert result.returncode == 2
    assert "nothing imported, 4 errors" in result.stderr
    assert "row 4: date: '31-02-2026' is not a date (YYYY-MM-DD)" in result.stderr
    assert "row 5: time: '9u30' is not a time (HH:MM)" in result.stderr
    assert "row 5: channels: unknown channel 'myspace'" in result.stderr
    assert "row 6: title: empty" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert plan_of(config_path).all() == []


def test_import_a_missing_file(config_path, tmp_path):
    result = webcare("import", "plan", str(tmp_path / "nope.csv"), "--config", str(config_path))
    assert result.returncode == 2 and "nope.csv: cannot read" in result.stderr


def test_export_csv_then_import_elsewhere(config_path, tmp_path):
    plan = plan_of(config_path)
    plan.add(PlanItem.new("Poelen", date=date(2026, 11, 18), time=time(9, 30), channels="x, fb", theme="natuur", text="Twee regels\nin de tekst", status="planned", owner="An", now=T0))
    plan.add(PlanItem.new("Idee", theme="water", owner="Bert", now=T0))
    out = tmp_path / "export.csv"
    assert webcare("export", "plan", "--format", "csv", "-o", str(out), "--config", str(config_path)).returncode == 0

    other = tmp_path / "other"
    other.mkdir()
    other_config = write_config(other, CALENDAR)
    result = webcare("import", "plan", str(out), "--config", str(other_config))
    assert result.returncode == 0, result.stderr
    fields = ("date", "time", "channels", "theme", "title", "text", "status", "owner")
    assert [[getattr(i, f) for f in fields] for i in plan_of(other_config).all()] == [
        [getattr(i, f) for f in fields] for i in plan.all()
    ]


@pytest.mark.parametrize(
    "calendar,expected",
    [
        ('[calendar]\ncycle_start = "2026-11-17"\n', "[calendar] cycle_start: 2026-11-17 is a Tuesday, not a Monday"),
        ('[calendar]\ncycle_start = "next monday"\n', "[calendar] cycle_start: 'next monday' is not a date (YYYY-MM-DD)"),
        ('[calendar]\nholidays = "Belgium"\n', "[calendar] holidays: 'BELGIUM' is not a country"),
        ('[calendar]\nholiday = "BE"\n', "[calendar] holiday: unknown key"),
        ('[[calendar.campaigns]]\nname = "Winter"\nfrom = "2026-12-01"\nuntil = "2026-11-01"\n', "[[calendar.campaigns]] #1 ('Winter'): until: 2026-11-01 is before from (2026-12-01)"),
    ],
)
def test_check_rejects_a_bad_calendar(tmp_path, calendar, expected):
    path = write_config(tmp_path, calendar)
    result = webcare("check", "--config", str(path))
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_check_accepts_the_calendar(config_path):
    result = webcare("check", "--config", str(config_path))
    assert result.returncode == 0, result.stderr
