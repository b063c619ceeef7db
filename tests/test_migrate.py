"""`webcare migrate`: a TinyDB desk moves to PostgreSQL and back with nothing lost, against a real
server (tests/pgserver.py) and the real command in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

from store.jsonstorage import StoreError  # noqa: E402
from store.migrate import KINDS, FilesSide, tally  # noqa: E402
from store.store import SEGMENT_SIZE, Store  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from tests.test_store_contract import impl, place  # noqa: E402, F401 (the fixtures: both stores)
from webcare.drafts import Draft  # noqa: E402
from webcare.handover import Note  # noqa: E402
from webcare.history import Event  # noqa: E402
from webcare.mention import Mention, Status  # noqa: E402
from webcare.planning import PlanItem  # noqa: E402
from webcare.store_port import VersionConflict  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SOURCES = '\n[[sources]]\ntype = "demo"\nname = "demo"\n'
MANY = SEGMENT_SIZE + 150  # across a segment boundary


def webcare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the test database's password variable included
    return subprocess.run([sys.executable, "-m", "webcare.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def mention(n: int, **fields: object) -> Mention:
    seen = T0 + timedelta(minutes=n)
    return Mention(
        id=f"x:{n}", source="demo", channel="x", author=f"boer_{n % 7}", author_name=f"Boer {n}",
        text=f"Waarom duurt mijn aangifte zo lang? ({n})", title="", url=f"https://x.example/status/{n}",
        published_at=seen - timedelta(minutes=3), first_seen_at=seen, deadline=seen + timedelta(hours=2),
        norm_s=7200, reach=100 + n,
    ).replaced(**fields)  # fmt: skip


def fill(data_dir: Path) -> Store:
    """A desk's data directory with something of every kind, mentions in several states."""
    store = Store(data_dir)
    followed = {"at": T0.isoformat(), "who": "webcare", "what": "followed", "kind": "followed",
                "changes": {"status": "monitoring"}, "before": {"status": "new"}}  # as intake writes it
    store.add([mention(n) for n in range(MANY)] + [mention(MANY, status=Status.MONITORING, followed=True, history=[followed])])
    store.update_state("x:1", {"status": Status.CLOSED}, Event("status", status="done"), "an", at=T0 + timedelta(hours=1))
    store.update_state("x:2", {"status": Status.RESPONDING}, "took it", "bo", at=T0 + timedelta(hours=1))
    store.update_state("x:2", {"flags": ["evidence"], "note": "bewaard"}, Event("flag", flag="evidence"), "bo",
                       at=T0 + timedelta(hours=2))  # fmt: skip
    store.update_state(f"x:{MANY - 1}", {"status": Status.CLOSED}, Event("status", status="done"), "an", at=T0 + timedelta(hours=3))
    store.plan.add(PlanItem.new("Nieuwsbrief mestbank", date=date(2026, 11, 20), channels="x", now=T0))
    store.plan.add(PlanItem.new("Idee: filmpje", now=T0 + timedelta(minutes=5)))
    store.notes.add(Note(T0, "an", "Let op x:2"))
    store.notes.add(Note(T0 + timedelta(hours=1), "bo", "Rustige dienst"))
    store.crisis.add(T0, "an", "start", "Storing aangifte")
    store.crisis.add(T0 + timedelta(minutes=30), "an", "decision", "Vaste tekst")
    store.drafts.save(Draft("x:3", "bo", "Dag Boer, we kijken het na.", T0 + timedelta(minutes=7)))
    key = store.handoffs.record("x:4", kind="question", to="expert@example.org", name="Expert", at=T0)
    store.handoffs.answered("x:4", key, T0 + timedelta(hours=1), ref="<answer@example.org>")
    store.handoffs.record("x:5", kind="question", to="expert@example.org", name="Expert", at=T0)
    store.write_checkpoint("demo", {"cursor": "abc", "seen": ["x:1", "x:2"]})
    store.write_health({"demo": {"ok": True, "at": T0.isoformat()}, "heartbeat": {"at": T0.isoformat()}})
    store.record_housekeeping({"backup": T0.isoformat()})
    store.alert_marks.claim("deadline:x:1", "deadline", [("team", 5)], T0)
    store.digests.mark(date(2026, 11, 16), T0, sent="ambassadeur@example.org")
    return store


def checksums(data_dir: Path) -> dict[str, tuple[int, str]]:
    """Each kind's count and checksum in a data directory, as migrate computes them."""
    side = FilesSide(Store(data_dir), ["demo"])
    out = {}
    for kind in KINDS:
        if kind == "mentions":
            from store.migrate import _mention

            t = tally(kind, (_mention(c, s) for block in side.mentions() for c, s in block))
        else:
            t = tally(kind, side.read(kind))
        out[kind] = (t.count, t.checksum)
    return out


def pg_config(tmp_path: Path, db: PgDatabase) -> Path:
    folder = tmp_path / "on-database"
    folder.mkdir()
    # The child reaches the database over its socket, as a desk with peer or .pgpass login would.
    write_config(folder, SOURCES + f'\n[store]\nurl = "{db.socket_url}"\n')
    return folder


def test_a_desk_moves_to_postgresql_and_back_with_nothing_lost(tmp_path: Path, pg_database: PgDatabase) -> None:
    write_config(tmp_path, SOURCES)
    original = fill(tmp_path / "data")
    before = original.get("x:2")
    assert before is not None and len(before.history) == 2
    original.presence("cy").publish(datetime.now(UTC), "x:1", None, None)  # a desk still open

    done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"  mentions          {MANY + 1:,} = {MANY + 1:,} ✓\n" in done.stdout, done.stdout
    for kind in KINDS:
        assert any(line.strip().startswith(kind) and line.endswith("✓") for line in done.stdout.splitlines()), kind
    assert f'url = "{pg_database.url}"' in done.stdout and f'password_env = "{pg_database.password_env}"' in done.stdout
    assert "test-password" not in done.stdout + done.stderr  # the password is only ever in the environment
    assert "desks open on the source meanwhile (cy)" in done.stdout

    # On the database: the same states, histories and versions; a desk goes on from there.
    from store.postgres.mentions import open_postgres
    from webcare.config import StoreSettings

    db = open_postgres(StoreSettings(pg_database.url, pg_database.password_env, pool=2), "desk")
    try:
        moved = db.get("x:2")
        assert moved is not None and moved.status == before.status and moved.history == before.history
        assert db.get(f"x:{MANY}").status == Status.MONITORING  # type: ignore[union-attr]
        assert [m.id for m in db.every_mention()][:3] == ["x:0", "x:1", "x:2"]  # arrival order kept
        assert db.update_state("x:2", {"status": Status.CLOSED}, "done", "an", version=2) is not None
        assert [i.title for i in db.plan.all()] == [i.title for i in original.plan.all()]
        assert db.notes.all() == original.notes.all() and db.crisis.entries() == original.crisis.entries()
        assert db.drafts.all() == original.drafts.all()
        assert db.handoffs.of("x:4") == original.handoffs.of("x:4")
        assert db.read_checkpoint("demo") == original.read_checkpoint("demo")
        assert db.read_health() == original.read_health()
        assert db.alert_marks.claim("deadline:x:1", "deadline", [("team", 5)], T0) == []  # sent once, not again
        assert db.digests.sent(date(2026, 11, 16)) == {"ambassadeur@example.org"}
        db.update_state("x:2", {"status": Status.RESPONDING}, "undo", "an", version=3)  # as it was, one more entry
    finally:
        db.close()

    # And back into a new data directory: everything reads as the original did.
    back = tmp_path / "back"
    on_db = pg_config(tmp_path, pg_database)
    done = webcare("migrate", "--to", str(back), cwd=on_db)
    assert done.returncode == 0, done.stderr
    assert "remove the [store] table" in done.stdout and str(back) in done.stdout
    then, now = checksums(tmp_path / "data"), checksums(back)
    assert {k: v for k, v in then.items() if k != "mentions"} == {k: v for k, v in now.items() if k != "mentions"}
    assert then["mentions"][0] == now["mentions"][0]  # x:2 got two more entries on the database
    copy = Store(back)
    assert len(copy.get("x:2").history) == 4  # type: ignore[union-attr]
    assert copy.get("x:1").history == original.get("x:1").history  # type: ignore[union-attr]
    assert [m.id for m in copy.every_mention()] == [m.id for m in original.every_mention()]
    assert copy.plan.all() == original.plan.all() and copy.handoffs.of("x:5") == original.handoffs.of("x:5")


def test_the_round_trip_gives_identical_checksums(tmp_path: Path, pg_database: PgDatabase) -> None:
    write_config(tmp_path, SOURCES)
    fill(tmp_path / "data")
    assert webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path).returncode == 0
    done = webcare("migrate", "--to", str(tmp_path / "back"), cwd=pg_config(tmp_path, pg_database))
    assert done.returncode == 0, done.stderr
    assert checksums(tmp_path / "data") == checksums(tmp_path / "back")


def test_a_target_that_is_not_empty_is_refused(tmp_path: Path, pg_database: PgDatabase) -> None:
    write_config(tmp_path, SOURCES)
    fill(tmp_path / "data")
    from store.postgres.mentions import open_postgres
    from webcare.config import StoreSettings

    db = open_postgres(StoreSettings(pg_database.url, pg_database.password_env, pool=2), "desk")
    try:
        db.add([mention(9999)])
        db.notes.add(Note(T0, "cy", "al hier"))
    finally:
        db.close()
    done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
    assert done.returncode == 1
    assert "is not empty: mentions (1 rows), notes (1 rows)" in done.stderr and "nothing copied" in done.stderr
    assert pg_database.psql("SELECT count(*) FROM mentions").strip() == "1"

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "plan.json").write_text("{}")
    done = webcare("migrate", "--to", str(tmp_path / "elsewhere"), cwd=tmp_path)
    assert done.returncode == 1 and "not empty (plan.json)" in done.stderr
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["plan.json"]


def test_a_damaged_source_file_is_named_and_nothing_is_copied(tmp_path: Path, pg_database: PgDatabase) -> None:
    write_config(tmp_path, SOURCES)
    fill(tmp_path / "data")
    damaged = tmp_path / "data" / "state" / "000002.json"
    damaged.write_bytes(damaged.read_bytes()[:-40])
    done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{damaged}: damaged, not copied" in done.stderr
    assert pg_database.psql("SELECT count(*) FROM mentions").strip() == "0"  # all or nothing
    assert damaged.exists()  # left where it is for a restore (not moved to the quarantine)

    damaged.unlink()  # a missing state file is only a segment nobody changed yet; a bad note line is named
    with (tmp_path / "data" / "notes.jsonl").open("a") as f:
        f.write("{niet json\n")
    done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
    assert done.returncode == 1 and "notes.jsonl: line 3 is damaged" in done.stderr

    (tmp_path / "data" / "notes.jsonl").write_text("")
    (tmp_path / "data" / "digests.json").write_text('{"gisteren": {"sent": {}}}')
    done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
    assert done.returncode == 1 and "digests.json: damaged" in done.stderr and "Traceback" not in done.stderr


def test_a_running_collector_is_refused_unless_forced(tmp_path: Path, pg_database: PgDatabase) -> None:
    write_config(tmp_path, SOURCES)
    collector = fill(tmp_path / "data")
    assert collector.try_collector_lease()
    try:
        done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, cwd=tmp_path)
        assert done.returncode == 1 and "a collector holds the collector lease" in done.stderr and "--force" in done.stderr
        assert pg_database.psql("SELECT to_regclass('mentions') IS NULL").strip() == "t"  # the database not even touched
        done = webcare("migrate", "--to", pg_database.url, "--password-env", pg_database.password_env, "--force", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    finally:
        collector.release_collector_lease()


def test_a_password_in_the_url_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, SOURCES)
    done = webcare("migrate", "--to", "postgresql://webcare:geheim@db.example.org/webcare", cwd=tmp_path)
    assert done.returncode == 2 and "holds a password" in done.stderr and "geheim" not in done.stderr


# --- the stores' bulk import, for both stores ---------------------------------------------------


def test_import_keeps_states_histories_and_versions_as_they_were(impl, place) -> None:  # noqa: F811 (the fixtures)
    store = impl.open(place)
    entry = {"at": "2025-01-02T03:04:05+00:00", "who": "an", "what": "status: closed", "kind": "status",
             "args": {"status": "closed"}, "changes": {"status": "closed"}, "before": {"status": "new"}}  # fmt: skip
    records = [(mention(n).content_record(), None) for n in range(12)]
    records[3] = (records[3][0], {"id": "x:3", "status": "closed", "history": [entry, {**entry, "who": "bo"}]})
    assert store.import_mentions([records[:7], records[7:]]) == 12  # type: ignore[attr-defined]
    moved = store.get("x:3")
    assert moved is not None and moved.status == Status.CLOSED and moved.history == [entry, {**entry, "who": "bo"}]
    assert [m.id for m in store.every_mention()] == [f"x:{n}" for n in range(12)]  # the order given
    exported = [pair for block in store.export_mentions() for pair in block]  # type: ignore[attr-defined]
    assert [(c["id"], s) for c, s in exported] == [(c["id"], s) for c, s in records]
    with pytest.raises(VersionConflict):  # version 2, as its history says
        store.update_state("x:3", {"status": Status.RESPONDING}, "again", "cy", version=1)
    assert store.update_state("x:3", {"status": Status.RESPONDING}, "again", "cy", version=2) is not None
    with pytest.raises(StoreError, match="nothing imported"):  # into a store that holds mentions: never merged
        store.import_mentions([[(mention(99).content_record(), None)]])  # type: ignore[attr-defined]
    assert 99 not in {int(m.id[2:]) for m in store.every_mention()}
