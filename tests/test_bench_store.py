"""benchmarks/bench_store.py's writers' run keeps working: in a tiny mode (a few seconds, 2 desk
processes and 1 collector) on both stores, it counts nothing lost and nothing doubled.

The figures themselves are never asserted (the machine is shared); only that the harness runs,
that the desks and the collector did work, and that the store holds all of it exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
FAULTS = (
    "lost_actions", "doubled_actions", "unrecorded_actions", "mentions_stored_twice",
    "mentions_added_twice", "mentions_lost", "versions_broken",
)  # fmt: skip


def run_writers(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "writers.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_store.py"), "--only", "writers", "--seconds", "2",
         "--desks", "2", "--collectors", "1", "--json", str(out), *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "nothing lost or doubled" in run.stdout, run.stdout
    [result] = json.loads(out.read_text())
    return result


def check(result: dict) -> None:
    assert {k: result[k] for k in FAULTS} == dict.fromkeys(FAULTS, 0)
    assert result["actions"] > 0  # the desks did act
    assert result["added"] > 0  # and the collector did add
    assert result["stored"] == 2000 + result["added"]  # the seed and every added mention, once


def test_writers_on_tinydb_lose_nothing(tmp_path: Path) -> None:
    check(run_writers(tmp_path, "--store", "tinydb"))


def test_writers_on_postgresql_lose_nothing(tmp_path: Path, pg_database: PgDatabase) -> None:
    # The fixture's database over the unix socket (no password): the benchmark's processes use it.
    check(run_writers(tmp_path, "--store", "postgresql", "--database-url", pg_database.socket_url))
