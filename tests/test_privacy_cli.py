"""Retention and privacy as the command line offers them: an access request, forget, and the
daily housekeeping (retention, then a backup), on real files."""

from __future__ import annotations

import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store import Store
from tests.conftest import write_config
from tests.test_cli import webcare
from tests.tui_helpers import mention

NOW = datetime.now(UTC)


def _every_byte(folder: Path) -> bytes:
    """Every file under `folder`, and every member of every archive there."""
    out = []
    for path in folder.rglob("*"):
        if path.is_file():
            out.append(path.read_bytes())
            if path.name.endswith(".tar.gz"):
                with tarfile.open(path) as tar:
                    for member in tar.getmembers():
                        f = tar.extractfile(member)
                        if f is not None:
                            out.append(f.read())
    return b"\n".join(out)


def _seed(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    store = Store(tmp_path / "data")
    store.add(
        [
            mention(1, NOW, 60, author="@piet_peeters", author_name="Piet Peeters", text="Mijn mestaangifte is kwijt, Piet"),
            mention(2, NOW, 60, author="@an", text="Ook bij mij geen antwoord over de mestbank"),
            mention(3, NOW - timedelta(days=200), 60, first_seen_at=NOW - timedelta(days=200), author="@oud", text="Heel oud bericht over de VLM"),
        ]
    )
    store.update_state("m1", {"status": "responded", "reply": "Beste Piet, we zoeken het uit."}, "reply recorded", "tester")
    return config


def test_access_request_then_forget_leaves_no_trace(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    access = webcare("export", "mentions", "--author", "piet_peeters", "--config", str(config))
    assert access.returncode == 0, access.stderr
    records = [json.loads(line) for line in access.stdout.splitlines()]
    assert [r["id"] for r in records] == ["m1"]
    backup = webcare("housekeeping", "--config", str(config))  # a backup that holds Piet too
    assert backup.returncode == 0, backup.stderr
    refused = webcare("forget", "@piet_peeters", "--config", str(config))
    assert refused.returncode == 2 and "--yes" in refused.stderr  # no terminal to ask
    done = webcare("forget", "@piet_peeters", "--yes", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "erased: 1 mentions" in done.stdout
    everything = _every_byte(tmp_path / "data").lower()
    for trace in (b"piet_peeters", b"piet peeters", b"mestaangifte is kwijt", b"beste piet"):
        assert trace not in everything
    assert b"ook bij mij geen antwoord" in everything  # other people's mentions stay
    log = [json.loads(line) for line in (tmp_path / "data" / "privacy.log").read_text().splitlines()]
    assert [entry["request"] for entry in log] == ["access", "erasure"] or [entry["request"] for entry in log][0] == "access"
    assert all("piet" not in json.dumps(entry).lower() for entry in log)


def test_housekeeping_anonymises_past_retention_and_backs_up(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    config.write_text(config.read_text() + "\n[retention]\ndays = 90\nbackups = 3\n")
    result = webcare("housekeeping", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "anonymised 1 mentions" in result.stdout
    old = Store(tmp_path / "data").get("m3")
    assert old is not None and old.text == "" and old.author == ""
    assert list((tmp_path / "data" / "backups").glob("webcare-*.tar.gz"))


def test_retention_config_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path, "\n[retention]\ndays = -1\n")
    result = webcare("check", "--config", str(config))
    assert result.returncode == 2 and "[retention] days: must be a whole number ≥ 0" in result.stderr


async def test_the_collector_runs_the_chores_once_a_day_in_a_process_of_their_own(tmp_path: Path, monkeypatch) -> None:
    import asyncio

    import store.housekeeping as housekeeping
    from tests.test_cli import ROOT
    from webcare.config import load

    config = load(_seed(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setattr(housekeeping, "FIRST_CHECK", 0.0)
    assert housekeeping.due(config, NOW)
    task = asyncio.create_task(housekeeping.daily(config, Store(config.data_dir), lambda: NOW))
    try:
        async with asyncio.timeout(30):
            while housekeeping.due(config, NOW):
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
    assert len(list((tmp_path / "data" / "backups").glob("webcare-*.tar.gz"))) == 1
