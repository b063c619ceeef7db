"""The command line, run as a user runs it: a real process, real files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_config

ROOT = Path(__file__).resolve().parent.parent


def webcare(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m webcare.cli` with this checkout importable (installed or not)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "webcare.cli", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


DEMO = """
[[sources]]
type = "demo"
name = "demo"
backlog = 12
"""


def test_version():
    result = webcare("--version")
    assert result.returncode == 0 and result.stdout.startswith("webcare ")


def test_check_accepts_the_bundled_config():
    result = webcare("check", "--config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout and "demo" in result.stdout


@pytest.mark.parametrize(
    "extra,expected",
    [
        ("[desk2]\n", "[desk2]: unknown table (did you mean 'desk'?)"),
        ('[[sources]]\ntype = "rss"\nname = "feed"\n', "[[sources]] #1 ('feed'): url: missing"),
        ('[[sources]]\ntype = "rss"\nname = "feed"\nurl = "https://example.org/a.xml"\nulr = "x"\n', "ulr: unknown key"),
        ('[[sources]]\ntype = "twitterx"\n', "type: 'twitterx' is not a source type"),
        ('[[sources]]\ntype = "demo"\nname = "d"\nrate = "fast"\n', "rate: 'fast' is not a rate"),
        ('[[sources]]\ntype = "demo"\nname = "d"\n[[sources]]\ntype = "demo"\nname = "d"\n', "'d' is used twice"),
        ('[clock]\noffice_hours = "weekdays"\n', "[clock] office_hours"),
        ('[keys\n', "not valid TOML"),
    ],
)
def test_check_names_the_bad_key(tmp_path, extra, expected):
    path = write_config(tmp_path, extra)
    result = webcare("check", "--config", str(path))
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_check_bad_desk_values(tmp_path):
    path = tmp_path / "config.toml"
    for body, expected in [
        ('[desk]\nlanguage = "fr"\n', "[desk] language: 'fr' is not one of nl, en"),
        ('[desk]\ntimezone = "Mars/Olympus"\n', "[desk] timezone"),
        ('[desk]\nlangauge = "nl"\n', "[desk] langauge: unknown key"),
        ('[norms]\nmyspace = "2h"\n', "[norms] myspace: unknown channel"),
        ('[norms]\nfacebook = "4 hours"\n', "[norms] facebook: '4 hours' is not a duration"),
        ('[watch]\nkeywords = "VLM"\n', "[watch] keywords: must be a list"),
    ]:
        path.write_text(body)
        result = webcare("check", "--config", str(path))
        assert result.returncode == 2 and expected in result.stderr, (body, result.stderr)


def test_missing_config_is_a_clear_error(tmp_path):
    result = webcare("check", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_config_from_environment(tmp_path):
    path = write_config(tmp_path, DEMO)
    env = {"PATH": "/usr/bin:/bin", "WEBCARE_CONFIG": str(path), "HOME": str(tmp_path)}
    result = webcare("check", cwd=tmp_path.parent, env=env)
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout


def test_collect_once_then_export(tmp_path):
    path = write_config(tmp_path, DEMO)
    result = webcare("collect", "--once", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "12 new mentions" in result.stdout
    again = webcare("collect", "--once", "--config", str(path))
    assert "0 new mentions" in again.stdout  # same day, same backlog: all duplicates

    jsonl = webcare("export", "mentions", "--format", "jsonl", "--config", str(path))
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(rows) == 12
    for row in rows:
        for key in ("id", "source", "channel", "author", "text", "url", "published_at", "first_seen_at",
                    "deadline", "status", "category", "scheme_path", "routed_to", "responded_at", "history"):
            assert key in row
        assert row["status"] == "new" and row["source"] == "demo"
        assert row["first_seen_at"].endswith("+00:00")
    assert any(r["deadline"] is None for r in rows) and any(r["deadline"] for r in rows)

    out = tmp_path / "m.csv"
    webcare("export", "mentions", "--format", "csv", "-o", str(out), "--config", str(path))
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(table) == 12 and {r["id"] for r in table} == {r["id"] for r in rows}
    assert list(table[0]) == list(rows[0])  # the CSV has every field of the JSON records
    assert json.loads(table[0]["history"]) == [] and json.loads(table[0]["feedback"]) == []


def test_export_carries_the_triage(tmp_path):
    from store import Store
    from webcare.config import load
    from webcare.triage import apply_leaf, path_to

    path = write_config(tmp_path, DEMO)
    webcare("collect", "--once", "--config", str(path))
    config = load(path)
    store = Store(config.data_dir)
    first = store.load()[0]
    leaf = config.scheme.leaves["L6"]
    store.change(apply_leaf(first, leaf, path_to(config.scheme, "L6")), operator="an")
    rows = {r["id"]: r for r in map(json.loads, webcare("export", "mentions", "--config", str(path)).stdout.splitlines())}
    row = rows[first.id]
    assert row["scheme_path"] == ["R1:n", "R2:n", "R3:n", "R4:n", "R5:y", "R5a:y", "L6"]
    assert row["category"] == "question" and row["status"] == "responding"
    assert row["history"][0]["who"] == "an" and row["history"][0]["what"].startswith("triage L6")
