"""The plan store on real files, shared by real OS processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from filelock import FileLock
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from store.plan import PlanStore
from store.store import Store, StoreError
from webcare.planning import PlanItem, hold_today_and_tomorrow, release_held

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def item(title: str, day: date | None = None, **kw) -> PlanItem:
    return PlanItem.new(title, date=day, now=T0, **kw)


def test_add_update_delete_restore(tmp_path):
    plan = PlanStore(tmp_path)
    assert plan.all() == []
    a = plan.add(item("Poelen", date(2026, 11, 18), time=time(9, 30), channels="x", status="planned"))
    b = plan.add(item("Idee: waterbeheer"))
    assert plan.all() == [a, b]  # dated first, then the backlog
    assert plan.get(a.id) == a and plan.get("nope") is None

    later = T0 + timedelta(hours=2)
    moved = plan.update(a.id, {"date": date(2026, 11, 20), "status": "published"}, at=later)
    assert moved.id == a.id and moved.date == date(2026, 11, 20) and moved.updated_at == later
    assert PlanStore(tmp_path).get(a.id) == moved  # another handle reads it from disk

    gone = plan.delete(b.id)
    assert gone == b and plan.get(b.id) is None
    plan.restore(gone)  # undo
    assert plan.get(b.id) == b
    plan.restore(a)  # undo of the edit: back as it was
    assert plan.get(a.id) == a and len(plan.all()) == 2

    with pytest.raises(KeyError):
        plan.update("nope", {"status": "draft"})
    with pytest.raises(KeyError):
        plan.delete("nope")
    with pytest.raises(ValueError, match="already stored"):
        plan.add(a)
    with pytest.raises(ValueError, match="colour"):
        plan.update(a.id, {"colour": "red"})
    assert plan.get(a.id) == a  # a refused change writes nothing


def test_update_with_an_expectation_never_overwrites_someone_else(tmp_path):
    plan = PlanStore(tmp_path)
    a = plan.add(item("Poelen", date(2026, 11, 18), status="draft"))
    PlanStore(tmp_path).update(a.id, {"status": "planned"})  # another operator
    before = plan.path.stat().st_mtime_ns
    assert plan.update(a.id, {"status": "idea"}, expect={"status": "draft"}) is None
    assert plan.get(a.id).status == "planned" and plan.path.stat().st_mtime_ns == before
    assert plan.update(a.id, {"status": "published"}, expect={"status": "planned"}).status == "published"


def test_hold_and_release_in_one_write(tmp_path):
    plan = PlanStore(tmp_path)
    today = date(2026, 11, 20)
    a = plan.add(item("vandaag", today, status="planned"))
    b = plan.add(item("morgen", today + timedelta(days=1), status="draft"))
    c = plan.add(item("overmorgen", today + timedelta(days=2), status="planned"))
    held = plan.update_many(hold_today_and_tomorrow(plan.all(), today))
    assert [i.id for i in held] == [a.id, b.id]
    assert {i.id: i.status for i in plan.all()} == {a.id: "held", b.id: "held", c.id: "planned"}
    plan.delete(b.id)  # deleted meanwhile: the release skips it
    released = plan.update_many([*release_held(plan.all(), today), (b.id, {"status": "planned"})])
    assert [i.id for i in released] == [a.id]
    assert plan.get(a.id).status == "planned" and plan.get(a.id).held_from is None


def test_changed_reports_other_writers_not_our_own(tmp_path):
    mine, theirs = PlanStore(tmp_path), PlanStore(tmp_path)
    mine.all()
    assert not mine.changed()
    a = mine.add(item("mine"))
    assert not mine.changed()  # our own write is no news
    theirs.add(item("theirs"))
    assert mine.changed()
    mine.update(a.id, {"title": "mine, edited"})  # writing does not swallow their change
    assert mine.changed()
    assert {i.title for i in mine.all()} == {"mine, edited", "theirs"}
    assert not mine.changed()


def test_the_file_is_a_plain_tinydb_database(tmp_path):
    plan = PlanStore(tmp_path)
    a = plan.add(item("Poelen", date(2026, 11, 18), time=time(9, 30), channels="x, fb", theme="natuur"))
    db = TinyDB(tmp_path / "plan.json", storage=JSONStorage, access_mode="r")
    try:
        (doc,) = db.all()
    finally:
        db.close()
    assert doc["id"] == a.id and doc["date"] == "2026-11-18" and doc["time"] == "09:30"
    assert doc["channels"] == ["x", "facebook"] and doc["created_at"] == "2026-11-16T08:00:00+00:00"


def test_a_damaged_plan_is_quarantined_and_the_plan_goes_on(tmp_path):
    from store.quarantine import damaged, quarantined

    (tmp_path / "plan.json").write_text("{not json")
    plan = PlanStore(tmp_path)
    assert plan.all() == []  # the header and the calendar go on
    (q,) = quarantined(tmp_path)
    assert q.name == "plan.json" and q.path.read_text() == "{not json" and "plan.json" in q.reason
    assert damaged(tmp_path) == ["plan.json"]
    plan.add(item("Poelen", date(2026, 11, 18)))  # a new plan.json; the old one waits for a restore
    assert [i.title for i in PlanStore(tmp_path).all()] == ["Poelen"] and q.path.exists()
    (tmp_path / "plan.json").write_text('{"_default": {"1": {"id": "x", "title": "t"}}}')
    with pytest.raises(StoreError, match="document 1 is not a plan item"):
        PlanStore(tmp_path).all()


def test_leftovers_of_a_writer_that_died_are_swept(tmp_path):
    leftover = tmp_path / ".plan.json.0123456789ab.tmp"
    leftover.write_text("half")
    PlanStore(tmp_path)
    assert not leftover.exists()


def test_the_plan_shares_the_stores_write_lock(tmp_path):
    Store(tmp_path)  # the mentions' store on the same data directory
    plan = PlanStore(tmp_path, lock_timeout=0.3)
    with FileLock(str(tmp_path / "write.lock")):  # as Store holds it while it writes
        with pytest.raises(StoreError, match="timed out waiting for the write lock"):
            plan.add(item("waits for the collector"))
    plan.add(item("after it"))
    assert [i.title for i in plan.all()] == ["after it"]


CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from store.plan import PlanStore
from webcare.planning import PlanItem
plan = PlanStore(Path(sys.argv[2]))
name, count = sys.argv[3], int(sys.argv[4])
sys.stdin.readline()  # wait for "go", so both processes write at the same time
items = []
for n in range(count):
    items.append(plan.add(PlanItem.new(f"{name} {n}", channels="x")))
    if n % 5 == 0:  # and change earlier ones meanwhile
        plan.update(items[n // 2].id, {"status": "draft", "theme": name})
print(len(items))
"""


def test_two_processes_adding_and_editing_lose_nothing(tmp_path):
    count = 60
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(ROOT), str(tmp_path), name, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("anna", "bert")
    ]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.strip() == str(count)
    items = PlanStore(tmp_path).all()
    titles = {i.title for i in items}
    assert titles == {f"{name} {n}" for name in ("anna", "bert") for n in range(count)}
    assert len(items) == 2 * count and len({i.id for i in items}) == 2 * count
    for name in ("anna", "bert"):  # every edit survived the other process's writes
        edited = {i.title for i in items if i.theme == name}
        assert edited == {f"{name} {n // 2}" for n in range(0, count, 5)}
        assert all(i.status == "draft" for i in items if i.theme == name)
    raw = json.loads((tmp_path / "plan.json").read_text())
    assert len(raw["_default"]) == 2 * count
