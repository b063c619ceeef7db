"""Private by default: the data directory and everything in it is never open to other accounts,
whatever umask the desk or a command is started with: folders 0700 and files 0600, or with
[desk] group folders 2770 and files 0660 belonging to that group.

Real files, real processes (`python -m webcare.cli`), the real desk under Pilot. The tests run
as root, who may read anything: they assert on the mode bits, not on access."""

from __future__ import annotations

import grp
import io
import os
import stat
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input

from store import Store, modes
from store.backup import backup
from store.notes import NoteBook
from store.plan import PlanStore
from store.presence import Presence
from store.restore import restore_files as restore
from store.retention import log_request
from tests.conftest import write_config
from tests.test_collecting import desk, wait_until
from tui.screens.handover import HandoverScreen
from webcare.handover import Note
from webcare.planning import PlanItem

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEMO = '[[sources]]\ntype = "demo"\nname = "demo"\nbacklog = 6\n'


def a_group() -> grp.struct_group:
    """A group this account may give its files: as root one that is not its own primary group
    (so that the group really has to be set), else the primary group."""
    if os.geteuid() == 0:
        for g in grp.getgrall():
            if g.gr_gid != os.getegid():
                return g
    return grp.getgrgid(os.getegid())


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def sharing(group: str = "", mask: int = 0o022):
    """This test process as the command line sets it up (modes.apply), then as it was."""
    old_mask, old = os.umask(mask), modes.current()
    try:
        modes.apply(group)
        os.umask(mask)  # what apply set is undone: the helpers alone must give the modes
        yield
    finally:
        modes.apply(old.group)
        os.umask(old_mask)


def walk(*roots: Path) -> dict[Path, os.stat_result]:
    out = {}
    for root in roots:
        out[root] = os.stat(root)
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                out[Path(folder) / name] = os.lstat(Path(folder) / name)
    return out


def assert_private(*roots: Path) -> None:
    """Folders 0700, files 0600: nothing for the group, nothing for others."""
    found = walk(*roots)
    assert len(found) > 3
    wrong = {
        str(p): oct(stat.S_IMODE(st.st_mode))
        for p, st in found.items()
        if stat.S_IMODE(st.st_mode) != (0o700 if stat.S_ISDIR(st.st_mode) else 0o600)
    }
    assert not wrong


def assert_shared(gid: int, *roots: Path) -> None:
    """Folders 2770 and files 0660, all of the group: nothing for others."""
    found = walk(*roots)
    assert len(found) > 3
    wrong = {
        str(p): (oct(stat.S_IMODE(st.st_mode)), st.st_gid)
        for p, st in found.items()
        if stat.S_IMODE(st.st_mode) != (0o2770 if stat.S_ISDIR(st.st_mode) else 0o660) or st.st_gid != gid
    }
    assert not wrong


def webcare(*args: str, mask: int, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "webcare.cli", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
        preexec_fn=lambda: os.umask(mask),
    )


def every_writer(data_dir: Path) -> None:
    """One write of every kind the store makes."""
    from tests.tui_helpers import mention

    store = Store(data_dir)
    store.add([mention(i, NOW) for i in range(3)])
    store.update_state("m1", {"status": "closed"}, "close", "an")
    store.write_checkpoint("demo", {"cursor": 1})
    store.write_health({"sources": {}})
    assert store.try_collector_lease()
    store.close()
    PlanStore(data_dir).add(PlanItem.new("Post", channels="x"))
    NoteBook(data_dir).add(Note(NOW, "an", "Bel terug"))
    Presence(data_dir, "an").publish(NOW, "m1", None, None)
    log_request(data_dir, "access", "@piet", "an", NOW, mentions=1)
    backup(data_dir, None, NOW)


# --- the store's writers, whatever the umask --------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask022", "umask000"])
def test_every_writer_makes_private_files_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    data_dir = tmp_path / "srv" / "data"
    with sharing("", mask):
        every_writer(data_dir)
    assert list((data_dir / "backups").glob("*.tar.gz")) and (data_dir / "presence").is_dir()
    assert_private(tmp_path / "srv")


def test_with_a_group_folders_are_setgid_and_files_shared_with_it(tmp_path: Path) -> None:
    group = a_group()
    data_dir = tmp_path / "data"
    with sharing(group.gr_name, 0o022):  # 022 would take the group's write away
        every_writer(data_dir)
    assert_shared(group.gr_gid, data_dir)


def test_a_file_of_an_older_version_is_closed_when_appended_to(tmp_path: Path) -> None:
    (tmp_path / "notes.jsonl").write_text("")
    os.chmod(tmp_path / "notes.jsonl", 0o644)
    with sharing("", 0o022):
        NoteBook(tmp_path).add(Note(NOW, "an", "x"))
    assert stat.S_IMODE((tmp_path / "notes.jsonl").stat().st_mode) == 0o600


# --- backups and restores keep the modes ------------------------------------------------------


def test_a_restore_gives_the_data_directory_modes_not_0644(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with sharing("", 0o000):
        every_writer(data_dir)
        archive = next((data_dir / "backups").glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            assert {m.mode for m in tar if m.isfile()} == {0o600}
        restore(archive, tmp_path / "restored")
    assert_private(tmp_path / "restored")
    assert (tmp_path / "restored" / "plan.json").exists()


def test_an_old_archive_of_0644_files_is_restored_private(tmp_path: Path) -> None:
    old = tmp_path / "webcare-2026-11-01.tar.gz"
    with tarfile.open(old, "w:gz") as tar:
        for name in ("plan.json", "mentions/000001.json"):
            info = tarfile.TarInfo(name)
            data = b"{}"
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    with sharing("", 0o022):
        restore(old, tmp_path / "data")
    assert_private(tmp_path / "data")


def test_a_restore_with_a_group_is_shared_with_it(tmp_path: Path) -> None:
    group = a_group()
    with sharing(group.gr_name, 0o022):
        every_writer(tmp_path / "data")
        archive = next((tmp_path / "data" / "backups").glob("*.tar.gz"))
        restore(archive, tmp_path / "restored")
    assert_shared(group.gr_gid, tmp_path / "restored")


# --- the command line, started with a permissive umask ----------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask022", "umask000"])
def test_every_command_leaves_the_data_and_backup_directories_private(tmp_path: Path, mask: int) -> None:
    config = write_config(tmp_path, DEMO + '\n[retention]\nbackup_dir = "archives"\n')
    run = lambda *args: webcare(*args, "--config", str(config), mask=mask, cwd=tmp_path)  # noqa: E731
    for args in (
        ("check",),
        ("collect", "--once"),
        ("export", "mentions", "--format", "csv", "-o", "data/export.csv"),
        ("export", "mentions", "--author", "@nobody", "-o", "data/access.jsonl"),
        ("export", "plan", "--format", "ics", "-o", "data/plan.ics"),
        ("report", "-o", "data/week.md"),
        ("handover", "--note", "Bel An terug", "-o", "data/handover.md"),
        ("housekeeping",),
    ):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    assert (tmp_path / "data" / "export.csv").exists() and list((tmp_path / "archives").glob("*.tar.gz"))
    assert_private(tmp_path / "data", tmp_path / "archives")
    check = run("check")
    assert check.returncode == 0 and "warning" not in check.stderr


def test_check_names_what_is_open_and_the_desk_closes_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, DEMO)
    with sharing("", 0o000):
        every_writer(tmp_path / "data")
    data = tmp_path / "data"
    os.chmod(data, 0o755)  # as an older version left it
    os.chmod(data / "plan.json", 0o644)
    os.chmod(data / "mentions", 0o750)
    check = webcare("check", "--config", str(config), mask=0o022, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert f"warning: {data} (folder, mode 0755) is readable and enterable by every account on the server" in check.stderr
    assert f"warning: {data / 'plan.json'} (file, mode 0644) is readable by every account on the server" in check.stderr
    assert f"{data / 'mentions'} (folder, mode 0750) is readable and enterable by group {grp.getgrgid(os.getegid()).gr_name!r}" in check.stderr
    assert f"chmod -R go-rwx {data}" in check.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o755  # check only reports

    result = webcare("report", "--config", str(config), mask=0o022, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_private(data)
    again = webcare("check", "--config", str(config), mask=0o022, cwd=tmp_path)
    assert again.returncode == 0 and "warning" not in again.stderr


def test_group_mode_from_the_command_line(tmp_path: Path) -> None:
    group = a_group()
    config = write_config(tmp_path, DEMO)
    text = config.read_text().replace('operator = "tester"', f'operator = "tester"\ngroup = "{group.gr_name}"')
    config.write_text(text)
    run = lambda *args: webcare(*args, "--config", str(config), mask=0o022, cwd=tmp_path)  # noqa: E731
    for args in (("collect", "--once"), ("handover", "--note", "x"), ("housekeeping",)):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    assert_shared(group.gr_gid, tmp_path / "data")
    check = run("check")
    assert check.returncode == 0 and "warning" not in check.stderr, check.stderr

    os.chmod(tmp_path / "data" / "notes.jsonl", 0o664)
    check = run("check")
    assert f"{tmp_path / 'data' / 'notes.jsonl'} (file, mode 0664) is readable by every account on the server" in check.stderr


def test_an_unknown_group_is_a_configuration_error_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('operator = "tester"', 'operator = "tester"\ngroup = "no-such-group-xyz"'))
    result = webcare("check", "--config", str(config), mask=0o022, cwd=tmp_path)
    assert result.returncode == 2
    assert "[desk] group: 'no-such-group-xyz' is not a group on this machine" in result.stderr


# --- the desk ---------------------------------------------------------------------------------


async def test_the_desk_under_umask_000_writes_nothing_open(make_config) -> None:
    config = make_config(DEMO)
    with umask(0o000):
        app = desk(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(lambda: app.queue.total >= 6, 10)
            data = config.data_dir
            await pilot.press("o")  # the handover: a note and a saved copy
            await wait_until(lambda: isinstance(app.screen, HandoverScreen), 3)
            await pilot.pause(0.3)
            await pilot.press("n")
            await wait_until(lambda: bool(app.screen.query(Input)), 3)
            await pilot.press(*"Bel An", "enter")
            await wait_until(lambda: (data / "notes.jsonl").exists(), 3)
            await pilot.pause(0.3)
            await pilot.press("p")
            await wait_until(lambda: bool(list(data.glob("handover-*.md"))), 3)
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("K")  # crisis mode: the crisis log
            await wait_until(lambda: bool(app.screen.query(Input)), 3)
            await pilot.press(*"Dijkbreuk", "enter")
            await wait_until(lambda: (data / "crisis.jsonl").exists(), 3)
        assert list(config.data_dir.glob("handover-*.md"))
        assert (config.data_dir / "notes.jsonl").exists() and (config.data_dir / "health.json").exists()
    assert_private(config.data_dir)
