"""Damage is contained: real damaged files at start (the desk under Pilot, the collector as a
process), a real full disk (a small tmpfs) under the desk's writes, and a crash report that
shows no local variables."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from store import Store
from store.crisis import CrisisLog
from store.plan import PlanStore
from store.quarantine import damaged, quarantined
from tests.test_cli import DEMO, webcare
from tests.tui_helpers import make_app, mention, screen_text
from tui.screens.crisis import CrisisScreen
from tui.screens.plan_editor import PlanEditor
from tui.screens.prompt import PromptScreen
from webcare.planning import PlanItem


def _truncate(path: Path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return data[: len(data) // 2]


async def test_the_desk_starts_with_damaged_files_and_names_them(make_config, clock):
    config = make_config()
    data = config.data_dir
    Store(data, segment_size=5).add([mention(i, clock()) for i in range(7)])  # segments 1 and 2
    cut = _truncate(data / "mentions" / "000002.json")
    (data / "mentions" / "000001.idx").write_bytes(b"\x00\xffnot an index")
    (data / "plan.json").write_text("garbage, not a plan")
    log = CrisisLog(data)
    log.add(clock() - timedelta(minutes=30), "an", "start", "Dijkbreuk")
    with open(data / "crisis.jsonl", "a", encoding="utf-8") as f:
        f.write("{garbage line\n")
    log.add(clock() - timedelta(minutes=10), "an", "decision", "Persbericht om 11:00")

    app = make_app(config, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.queue.total == 5  # segment 1 is all there
        text = screen_text(app)
        assert "@author0" in text and "@author4" in text
        header = "\n".join(text.splitlines()[:3])
        assert "CRISISMODUS" in header  # the journal's readable lines are kept
        assert "beschadigd: crisis.jsonl, mentions/000002.json +1 meer — zie webcare check" in header
        assert [e.kind for e in app.monitor.crisis] == ["start", "decision"]
        # the desk still writes: a plan item, a triage action
        await pilot.press("c", "n", *"Na de storm", "ctrl+s")
        assert app.session.writer.wait(timeout=10)  # written by the desk's writer thread
        await pilot.pause()
        assert [i.title for i in PlanStore(data).all()] == ["Na de storm"]
        await pilot.press("escape")
        await pilot.pause()

    assert sorted(damaged(data)) == ["crisis.jsonl", "mentions/000002.json", "plan.json"]
    moved = {q.name: q.path.read_bytes() for q in quarantined(data)}
    assert moved["mentions/000002.json"] == cut and moved["plan.json"] == b"garbage, not a plan"
    assert b"{garbage line" in moved["crisis.jsonl"]
    assert moved["mentions/000001.idx"] == b"\x00\xffnot an index"


def test_the_collector_starts_with_a_damaged_segment_and_keeps_collecting(tmp_path):
    from tests.conftest import write_config

    path = write_config(tmp_path, DEMO)
    first = webcare("collect", "--once", "--config", str(path))
    assert first.returncode == 0, first.stderr
    data = tmp_path / "data"
    _truncate(data / "mentions" / "000001.json")
    (data / "state" / "000001.idx").write_text("{")

    again = webcare("collect", "--once", "--config", str(path))
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "new mentions stored" in again.stdout
    # Collected again into a segment of its own: segment 1 can be restored beside it.
    assert not (data / "mentions" / "000001.json").exists()
    assert (data / "mentions" / "000002.json").exists() and len(Store(data).load()) > 0
    assert damaged(data) == ["mentions/000001.json"]


# --- a real full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """tmp_path/data as a 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    data = tmp_path / "data"
    data.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def _fill(folder: Path) -> None:
    """Fill the file system to the last page."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)


def _page_full_journal(log: CrisisLog, clock) -> None:
    """A crisis log of exactly two pages: the next line needs a page of its own (a tmpfs
    file's last page has room for a line even when the disk is full)."""
    log.add(clock(), "an", "start", "Dijkbreuk")
    size = log.journal.path.stat().st_size
    line = json.dumps({"at": clock().isoformat(), "who": "an", "kind": "decision", "text": ""}) + "\n"
    log.add(clock(), "an", "decision", "x" * (8192 - size - len(line)))
    assert log.journal.path.stat().st_size == 8192


def _notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_full_disk_is_said_and_loses_nothing(make_config, clock, small_disk):
    config = make_config()
    assert config.data_dir == small_disk
    Store(small_disk).add([mention(i, clock()) for i in range(3)])
    PlanStore(small_disk).add(PlanItem.new(title="Al gepland", date=clock().date(), owner="an"))
    log = CrisisLog(small_disk)
    _page_full_journal(log, clock)
    app = make_app(config, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        plan_before = (small_disk / "plan.json").read_bytes()
        log_before = log.journal.path.read_bytes()
        state_before = {p.name: p.read_bytes() for p in (small_disk / "state").iterdir()}
        _fill(small_disk)

        # the calendar: the editor stays open with what was typed
        await pilot.press("c", "n", *"Nieuwe post", "ctrl+s")
        assert app.session.writer.wait(timeout=10)
        await pilot.pause()
        assert "niet bewaard: de kalender — schijf vol" in _notices(app)
        assert isinstance(app.screen, PlanEditor) and app.screen.query_one("#title").value == "Nieuwe post"
        assert (small_disk / "plan.json").read_bytes() == plan_before
        await pilot.press("escape", "escape")
        await pilot.pause()

        # the crisis log: the prompt comes back with the decision as typed
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, CrisisScreen)
        await pilot.press("l", *"Geen tweets meer", "enter")
        await pilot.pause()
        assert "niet bewaard: het crisislogboek — schijf vol" in _notices(app)
        assert isinstance(app.screen, PromptScreen) and app.screen.query_one("Input").value == "Geen tweets meer"
        assert log.journal.path.read_bytes() == log_before  # no half line either
        await pilot.press("escape", "escape")
        await pilot.pause()

        # a triage action
        await pilot.press("d")
        assert app.session.writer.wait(timeout=10)  # written in the desk's writer thread
        await pilot.pause()
        assert any(n.startswith("niet bewaard: ") and n.endswith("— schijf vol") for n in _notices(app)[2:])
        assert {p.name: p.read_bytes() for p in (small_disk / "state").iterdir()} == state_before
        assert app.is_running

        # a note for the next shift: asked again with its text
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("n", *"Bel An terug", "enter")
        await pilot.pause(0.2)
        assert "niet bewaard: de notitie — schijf vol" in _notices(app)
        assert isinstance(app.screen, PromptScreen) and app.screen.query_one("Input").value == "Bel An terug"
        notes = small_disk / "notes.jsonl"
        assert not (notes.exists() and notes.read_bytes())  # no half line left behind
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.is_running

        # room again: the same keys save
        (small_disk / "filler").unlink()
        await pilot.press("K", "l", *"Geen tweets meer", "enter")
        await pilot.pause()
        assert [e.text for e in log.entries()][-1] == "Geen tweets meer"


# --- crash reports -----------------------------------------------------------------------------


async def test_a_crash_report_shows_no_local_variables(make_config, clock, capsys):
    app = make_app(config := make_config(), clock, [mention(1, clock())])
    assert config

    def fail() -> None:
        address = "".join(["Kerk", "straat 12, ", "Gent"])  # personal data in a local
        raise RuntimeError(f"boom ({len(address)})")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(fail)
            await pilot.pause()
    report = capsys.readouterr().err
    assert "RuntimeError" in report and "boom (19)" in report and "fail" in report
    assert "Kerkstraat 12" not in report


# --- webcare check, webcare restore, housekeeping's record ------------------------------------


def test_check_names_the_damage_and_its_restore_command_works(tmp_path):
    import shlex
    import tarfile

    from filelock import FileLock

    from tests.conftest import write_config

    path = write_config(tmp_path, DEMO)
    data = tmp_path / "data"
    assert webcare("collect", "--once", "--config", str(path)).returncode == 0
    assert webcare("housekeeping", "--config", str(path)).returncode == 0  # today's backup
    good = (data / "mentions" / "000001.json").read_bytes()
    before = {m.id for m in Store(data).load()}
    _truncate(data / "mentions" / "000001.json")
    assert webcare("collect", "--once", "--config", str(path)).returncode == 0  # into segment 2

    check = webcare("check", "--config", str(path))
    assert check.returncode == 1 and "ok" in check.stdout
    assert "mentions/000001.json" in check.stderr and "not valid JSON" in check.stderr
    command = next(line.split("restore it: ", 1)[1] for line in check.stderr.splitlines() if "restore it: " in line)
    args = shlex.split(command)
    assert args[:2] == ["webcare", "restore"] and args[-1] == "mentions/000001.json"
    archive = Path(args[args.index("--from") + 1])

    with FileLock(str(data / "collector.lock")):  # a collector runs: refused
        refused = webcare(*args[1:])
        assert refused.returncode == 1 and "a collector runs" in refused.stderr
        assert not (data / "mentions" / "000001.json").exists()
    restored = webcare(*args[1:])
    assert restored.returncode == 0, restored.stderr
    assert "restored mentions/000001.json" in restored.stdout
    assert (data / "mentions" / "000001.json").read_bytes() == good
    with tarfile.open(archive) as tar:  # the mode is the archive's, not forced
        mode = tar.getmember("mentions/000001.json").mode & 0o777
    assert (data / "mentions" / "000001.json").stat().st_mode & 0o777 == mode
    assert damaged(data) == [] and webcare("check", "--config", str(path)).returncode == 0
    assert list((data / "quarantine" / "restored" / "mentions").iterdir())  # kept, not deleted
    # Both segments count: what was collected again while segment 1 was away is not doubled.
    after = Store(data).load()
    assert {m.id for m in after} >= before and len(after) == len({m.id for m in after})


def test_a_whole_restore_keeps_what_it_replaces(tmp_path):
    from datetime import UTC, datetime

    from store.restore import restore_files
    from tests.conftest import write_config

    path = write_config(tmp_path, DEMO)
    data = tmp_path / "data"
    assert webcare("collect", "--once", "--config", str(path)).returncode == 0
    plan = PlanStore(data)
    item = plan.add(PlanItem.new(title="Voor de backup", date=None, owner="an"))
    assert webcare("housekeeping", "--config", str(path)).returncode == 0
    (archive,) = (data / "backups").iterdir()
    plan.update(item.id, {"title": "Na de backup"})
    Store(data, segment_size=5).add([mention("x", datetime.now(UTC))])  # a newer segment

    done = restore_files(archive, data)
    assert {"mentions/000001.json", "plan.json"} <= set(done.files)
    assert [i.title for i in PlanStore(data).all()] == ["Voor de backup"]
    assert Store(data).get("mx") is None  # the directory as on the backup's day
    kept = done.replaced
    assert "Na de backup" in (kept / "plan.json").read_text()  # nothing lost: kept aside
    assert done.moved_aside and all((kept / name).exists() for name in done.moved_aside)


def test_a_failed_backup_is_recorded_shown_and_checked(tmp_path):
    from tests.conftest import write_config

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = write_config(tmp_path, DEMO + f'\n[retention]\ndays = 30\nbackup_dir = "{blocker}/backups"\n')
    assert webcare("collect", "--once", "--config", str(path)).returncode == 0
    failed = webcare("housekeeping", "--config", str(path))
    assert failed.returncode == 1 and "backup:" in failed.stderr and "Traceback" not in failed.stderr
    record = json.loads((tmp_path / "data" / "health.json").read_text())["housekeeping"]
    assert record["error"].startswith("backup: ") and record["last_retention_at"] and record["error_at"]
    assert "demo" in json.loads((tmp_path / "data" / "health.json").read_text())["sources"]  # kept
    check = webcare("check", "--config", str(path))
    assert check.returncode == 1 and "housekeeping FAILED" in check.stderr and "backup: " in check.stderr


async def test_the_header_shows_a_failed_housekeeping_run(make_config, clock):
    config = make_config()
    store = Store(config.data_dir)
    store.write_health({"collector": {}, "sources": {}})
    store.record_housekeeping({"error": "backup: No space left on device", "error_at": clock().isoformat()})
    store.write_health({"collector": {}, "sources": {}})  # the collector's heartbeat keeps it
    app = make_app(config, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "onderhoud mislukt 23/11 10:00: backup: No space left on device" in screen_text(app)
