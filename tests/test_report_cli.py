"""`webcare report` and `webcare handover` as a user runs them, on a store holding the fixed
report set (tests/data/report_set.jsonl, whose figures test_report.py checks by hand)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from store import Store
from tests.conftest import write_config
from tests.test_cli import webcare
from webcare.mention import Mention

DATA = Path(__file__).parent / "data" / "report_set.jsonl"


def _store(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    records = [
        json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    mentions = [Mention.from_records(r, r) for r in records]
    Store(tmp_path / "data").add(mentions)
    for m in mentions:  # the state too (add() stores content and a fresh state)
        if m.status != "new":
            state = m.state_record()
            state.pop("id")
            Store(tmp_path / "data").update_state(m.id, state, "imported", "test")
    return config


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


def test_report_formats(tmp_path: Path) -> None:
    config = _store(tmp_path)
    days = sorted(
        {
            json.loads(line)["first_seen_at"][:10]
            for line in DATA.read_text().splitlines()
            if line.strip()
        }
    )
    span = ("--from", days[0], "--to", days[-1], "--config", str(config))
    html = webcare("report", *span, "--format", "html", "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(page)
    assert "svg" in parser.tags and "script" not in parser.tags
    md = webcare("report", *span)
    assert md.returncode == 0 and md.stdout.startswith("# ") and "| x |" in md.stdout
    as_json = json.loads(webcare("report", *span, "--format", "json").stdout)
    assert as_json and isinstance(as_json, dict)
    rows = webcare("report", *span, "--format", "csv").stdout.splitlines()
    assert rows[0] == "section,key,metric,value" and len(rows) > 10


def test_report_errors_name_the_option(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    bad = webcare("report", "--from", "16-11-2026", "--config", str(config))
    assert bad.returncode == 2 and "--from: '16-11-2026' is not a date" in bad.stderr
    backwards = webcare(
        "report", "--from", "2026-11-20", "--to", "2026-11-10", "--config", str(config)
    )
    assert backwards.returncode == 2 and "--to" in backwards.stderr


def test_handover_with_a_note_for_the_next_shift(tmp_path: Path) -> None:
    config = _store(tmp_path)
    out = webcare(
        "handover",
        "--since",
        "2020-01-01T00:00",
        "--note",
        "Bel An terug [bold]morgen[/]",
        "--config",
        str(config),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Overdracht") and "Bel An terug" in out.stdout
    again = webcare("handover", "--since", "2020-01-01T00:00", "--config", str(config))
    assert "Bel An terug" in again.stdout  # the note is kept for the next shift
    bad = webcare("handover", "--since", "gisteren", "--config", str(config))
    assert bad.returncode == 2 and "--since" in bad.stderr
