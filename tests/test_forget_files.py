"""Forget and retention over every file the desk writes, on real files: notes, the crisis log,
saved handovers, drafts, presence, checkpoints, health, the backups (compressed), the privacy
log's keyed hash, the collector's checkpoints in memory, and a desk that is open meanwhile."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import stat
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from store.backup import archives, backup
from store.crisis import CrisisLog
from store.notes import NoteBook
from store.presence import Presence
from store.restore import restore_files
from store.retention import (
    PRIVACY_LOG,
    anonymise_older_than,
    data_secret,
    expire_desk_files,
    forget,
    legacy_subject_hash,
    log_request,
    logged_for,
    subject_hash,
)
from store.store import Store
from tests.conftest import write_config
from tests.test_cli import webcare
from tests.test_retention import JAN, JAN_MAIL, JAN_TRACES, NOW, mention, person_store, traces
from tests.tui_helpers import screen_text
from webcare.handover import Note, handover, to_markdown

THEIR_IDS = ["m-0002", "m-0011", "m-0019"]
# As a saved handover writes them (Markdown escapes "_").
ESCAPED = ["jan\\_boer", "eerste-klacht-van-jan"]


def _desk_files(data: Path, store: Store) -> None:
    """What a desk writes besides the mentions, each holding the person in its own way."""
    notes = NoteBook(data)
    notes.add(Note(NOW, "els", "bel @jan_boer morgen terug over zijn perceel"))
    notes.add(Note(NOW, "els", "hij schreef: eerste-klacht-van-jan: mijn perceel in Kortemark"))
    notes.add(Note(NOW, "els", "zie m-0011 voor de tweede klacht"))
    notes.add(Note(NOW, "an", "de mestbank is morgen dicht"))
    crisis = CrisisLog(data)
    crisis.add(NOW, "els", "start", "storing mestbank")
    crisis.add(NOW, "els", "decision", "Jan Boerenzoon persoonlijk antwoorden")
    crisis.add(NOW, "els", "end")
    h = handover(store.load(), NOW - timedelta(days=200), NOW, "Europe/Brussels", [])
    (data / "handover-2026-11-22-1700.md").write_text(to_markdown(h, "nl"), encoding="utf-8")
    drafts = {
        "m-0002": {"operator": "els", "text": "Beste Jan, we bellen u", "saved_at": NOW.isoformat()},
        "m-0005": {"operator": "an", "text": "Dag, zoals @jan_boer al zei", "saved_at": NOW.isoformat()},
        "m-0007": {"operator": "an", "text": "Dank voor uw vraag", "saved_at": NOW.isoformat()},
    }
    (data / "drafts.json").write_bytes(orjson.dumps({"drafts": drafts}))
    Presence(data, "els").publish(NOW, "m-0011", "m-0011", NOW)
    store.write_checkpoint(
        "demo", {"query": "mestbank", "seen": ["179011", "179019", "ref-0007-post"], "since_id": "179019"}
    )


def test_forget_erases_the_person_from_every_file_the_desk_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store, _ = person_store(data)
    _desk_files(data, store)
    backup(data, None, NOW - timedelta(days=1))  # an archive holding every one of those files
    needles = JAN_TRACES + ESCAPED
    assert {p.split(":")[0].rsplit("/", 1)[-1] for p in traces(data, needles)} >= {
        "notes.jsonl", "crisis.jsonl", "handover-2026-11-22-1700.md", "drafts.json", "webcare-2026-11-22.tar.gz"
    }

    result = forget(store, JAN, NOW, "els")
    assert result.remaining == [] and result.backups == 1 and result.files >= 5
    assert forget(store, JAN_MAIL, NOW, "els").remaining == []  # their address: a second request
    assert traces(data, needles) == []

    # Notes: every note stays, without the person (one quoting them entirely).
    assert [n.text for n in NoteBook(data).all()] == [
        "bel […] morgen terug over zijn perceel",
        "[…]",
        "zie […] voor de tweede klacht",
        "de mestbank is morgen dicht",
    ]
    # The crisis log keeps its structure (crisis mode stays as it was).
    entries = CrisisLog(data).entries()
    assert [(e.kind, e.text) for e in entries] == [
        ("start", "storing mestbank"),
        ("decision", "[…] persoonlijk antwoorden"),
        ("end", ""),
    ]
    # The saved handover: their lines are "- […]", nobody else's line is lost.
    saved = (data / "handover-2026-11-22-1700.md").read_text(encoding="utf-8")
    assert not any(i in saved for i in THEIR_IDS)
    assert "- […]" in saved and "`m-0007`" in saved
    # Drafts: theirs and one naming them dropped, others kept.
    assert list(orjson.loads((data / "drafts.json").read_bytes())["drafts"]) == ["m-0007"]
    # Presence: the desk shows nothing of theirs.
    presence = json.loads(next((data / "presence").glob("*.json")).read_text())
    assert (presence["viewing"], presence["claim"]) == (None, None)
    # The checkpoint: their refs dropped, a cursor on their post moved back one.
    checkpoint = store.read_checkpoint("demo")
    assert checkpoint == {"query": "mestbank", "seen": ["ref-0007-post"], "since_id": "179018"}
    assert store.checkpoint_scrubs() == 1

    # A backup restored afterwards does not bring them back; the secret is never archived.
    restored = restore_files(archives(data / "backups")[0], tmp_path / "restored").data_dir
    assert traces(restored, needles) == []
    assert [n.text for n in NoteBook(restored).all()][0] == "bel […] morgen terug over zijn perceel"
    with tarfile.open(archives(data / "backups")[0]) as tar:
        assert "secret" not in tar.getnames() and "notes.jsonl" in tar.getnames()

    # Once more: nothing left to do.
    again = forget(store, JAN, NOW, "els")
    assert (again.mentions, again.files, again.remaining) == (0, 0, [])


def test_forget_exits_0_only_when_its_own_check_finds_no_trace(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    data = tmp_path / "data"
    store, _ = person_store(data)
    _desk_files(data, store)
    done = webcare("forget", JAN, "--yes", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "erased: 3 mentions" in done.stdout

    # What forget cannot rewrite (a compressed copy, a binary file) is found and named: exit 1.
    (data / "old").mkdir()
    (data / "old" / "notes.jsonl.gz").write_bytes(gzip.compress(b'{"text": "bel @jan_boer terug"}\n'))
    (data / "export.bin").write_bytes(b"\x00\x01 jan.boer@example.net \x02")
    store.add([mention(40, author=JAN, days=40)])  # a new post of theirs: erased again
    left = webcare("forget", JAN, "--yes", "--config", str(config))
    assert left.returncode == 1
    assert "notes.jsonl.gz" in left.stderr and "export.bin" not in left.stderr  # another person
    assert "erased: 1 mentions" in left.stdout
    mail = webcare("forget", JAN_MAIL, "--yes", "--config", str(config))
    assert mail.returncode == 1 and "export.bin" in mail.stderr and "notes.jsonl.gz" not in mail.stderr


def test_the_privacy_log_hash_is_keyed_per_data_directory(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        d.mkdir(mode=0o700)
        log_request(d, "access", "@Jan_Boer", "els", NOW, mentions=0)
    first, second = (json.loads((d / PRIVACY_LOG).read_text())["subject"] for d in (one, two))
    assert first.startswith("hmac-sha256:") and first != second  # no guessing across desks
    assert first == subject_hash("jan_boer", data_secret(one))
    assert "jan" not in (one / PRIVACY_LOG).read_text().lower()
    assert stat.S_IMODE((one / "secret").stat().st_mode) == 0o600
    assert len((one / "secret").read_bytes()) == 32 and data_secret(one) == (one / "secret").read_bytes()
    assert not [p for p in one.iterdir() if p.name.endswith(".tmp")]

    # A line from before the secret stays readable; an erasure of that person re-keys it.
    with open(one / PRIVACY_LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"at": "2026-01-01T00:00:00+00:00", "request": "access", "subject": legacy_subject_hash("jan_boer")}) + "\n")
        f.write(json.dumps({"at": "2026-01-01T00:00:00+00:00", "request": "access", "subject": legacy_subject_hash("piet")}) + "\n")
    assert [e["request"] for e in logged_for(one, "@JAN_BOER")] == ["access", "access"]
    result = forget(Store(one), "@jan_boer", NOW, "els")
    assert result.remaining == []
    text = (one / PRIVACY_LOG).read_text()
    assert legacy_subject_hash("jan_boer") not in text and legacy_subject_hash("piet") in text
    assert [e["request"] for e in logged_for(one, "jan_boer")] == ["access", "access", "erasure"]


def test_retention_covers_notes_crisis_log_handovers_drafts_presence_and_quarantine(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    old, new = NOW - timedelta(days=120), NOW - timedelta(days=2)
    store.add([mention(1, days=0), mention(2, days=(new - datetime(2026, 6, 1, 9, tzinfo=UTC)).days)])
    notes, crisis = NoteBook(data), CrisisLog(data)
    notes.add(Note(old, "els", "oude notitie over persoon0001x"))
    notes.add(Note(new, "els", "nieuwe notitie"))
    crisis.add(old, "els", "start", "storing")
    crisis.add(old, "els", "decision", "persoon0001x bellen")
    crisis.add(new, "els", "decision", "verder opvolgen")
    for stamp, when in (("2026-07-01-1700", old), ("2026-11-21-1700", new)):
        path = data / f"handover-{stamp}.md"
        path.write_text("# Overdracht\n- @persoon0001x\n", encoding="utf-8")
        os.utime(path, (when.timestamp(), when.timestamp()))
    drafts = {
        "m-0001": {"operator": "els", "text": "oud", "saved_at": NOW.isoformat()},
        "m-0002": {"operator": "els", "text": "nieuw", "saved_at": NOW.isoformat()},
        "gone": {"operator": "els", "text": "?", "saved_at": old.isoformat()},
    }
    (data / "drafts.json").write_bytes(orjson.dumps({"drafts": drafts}))
    Presence(data, "els").publish(NOW, "m-0001", None, None)
    dead = Presence(data, "an")
    dead.name = "an-host-1.json"
    dead.publish(old, "m-0002", None, None)
    os.utime(dead.path, (old.timestamp(), old.timestamp()))
    # The quarantine: copies a restore dealt with go once old; a damaged file not restored stays.
    quarantine = data / "quarantine"
    dealt_with = [quarantine / "restored" / "mentions" / "000001.json.20260701T170000Z",
                  quarantine / "replaced" / "20260701T170000Z-ab12" / "plan.json"]
    recent = quarantine / "replaced" / "20261121T170000Z-cd34" / "plan.json"
    waiting = quarantine / "mentions" / "000002.json.20260701T170000Z"
    for path, when in ((dealt_with[0], old), (dealt_with[1], old), (recent, new), (waiting, old)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"author": "persoon0001x"', encoding="utf-8")
        os.utime(path, (when.timestamp(), when.timestamp()))

    cutoff = NOW - timedelta(days=90)
    assert anonymise_older_than(store, cutoff, NOW) == 1
    done = expire_desk_files(store, cutoff, NOW)
    assert done == {"notes": 1, "crisis": 1, "handovers": 1, "drafts": 2, "presence": 2, "quarantine": 2}
    assert not any(p.exists() for p in dealt_with) and recent.exists() and waiting.exists()
    assert not (quarantine / "replaced" / "20260701T170000Z-ab12").exists()  # its emptied folder
    assert [n.text for n in notes.all()] == ["nieuwe notitie"]
    assert [(e.kind, e.text) for e in crisis.entries()] == [
        ("start", ""), ("decision", ""), ("decision", "verder opvolgen")
    ]
    assert sorted(p.name for p in data.glob("handover-*.md")) == ["handover-2026-11-21-1700.md"]
    assert list(orjson.loads((data / "drafts.json").read_bytes())["drafts"]) == ["m-0002"]
    assert [p.name for p in (data / "presence").iterdir()] != [] and not dead.path.exists()
    assert json.loads(next((data / "presence").glob("*.json")).read_text())["viewing"] is None
    assert "persoon0001x" not in "".join(p.read_text() for p in data.glob("*.jsonl"))


async def test_the_collector_takes_up_the_scrubbed_checkpoint_before_saving_one(tmp_path: Path, make_config) -> None:
    from sources.poller import Poller
    from sources.source import Checkpoints, Source
    from webcare.intake import Intake

    class Refs(Source, Checkpoints):
        """A source that remembers the refs it delivered, as Reddit's and YouTube's do."""

        name, interval, keyword_filter = "demo", 60.0, False

        def __init__(self) -> None:
            self.seen: list[str] = []

        async def fetch(self, client: object) -> list:
            return []

        def checkpoint(self) -> dict:
            return {"seen": list(self.seen)}

        def resume(self, state: dict) -> None:
            self.seen = list(state["seen"])

        def rewind(self) -> None:
            pass

    config = make_config()
    store, _ = person_store(config.data_dir)
    source = Refs()
    poller = Poller([source], Intake(config), store)
    poller._resume()
    source.seen = ["179011", "ref-0007-post"]  # fetched and stored: saved
    await poller._checkpoint(source)
    assert store.read_checkpoint("demo") == {"seen": ["179011", "ref-0007-post"]}
    source.seen.append("ref-0008-post")  # in memory, the next fetch: the person's ref with it

    forget(Store(config.data_dir, segment_size=5), JAN, NOW, "els")
    assert store.read_checkpoint("demo") == {"seen": ["ref-0007-post"]}
    await poller._checkpoint(source)  # the collector's next save: from the scrubbed one
    assert "179011" not in json.dumps(store.read_checkpoint("demo"))
    assert source.seen == ["ref-0007-post"]
    # The post it may fetch again is not stored again: its anonymised mention keeps its id.
    assert store.add([mention(2, author=JAN)]) == []


async def test_an_open_desk_drops_the_forgotten_person_within_seconds(make_config, clock) -> None:
    from tui.app import WebcareApp

    config = make_config()
    now = clock()
    store = Store(config.data_dir)
    ours = [
        mention(1, author="@jan_boer", name="Jan Boerenzoon", title="", text="Kortemark-perceel kwijt", ref="179001"),
        mention(2, author="@piet", title="", text="@jan_boer klopt"),
        mention(3, author="@an", title="", text="een-gewone-vraag"),
    ]
    ours = [m.replaced(first_seen_at=now - timedelta(minutes=5), deadline=now + timedelta(minutes=60 + int(m.id[-1])))
            for m in ours]
    store.add(ours)
    app = WebcareApp(config, Store(config.data_dir), clock=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("MentionList").selected.id == "m-0001"
        assert screen_text(app).count("Kortemark-perceel") == 2  # in the row and the detail
        await asyncio.to_thread(forget, Store(config.data_dir), "@jan_boer", datetime.now(UTC), "els")
        deadline = time.monotonic() + 10
        while "jan_boer" in screen_text(app) or "Kortemark" in screen_text(app):
            assert time.monotonic() < deadline, screen_text(app)
            await pilot.pause(0.2)
        text = screen_text(app)
        assert "[…] klopt" in text and "een-gewone-vraag" in text and "Boerenzoon" not in text
        assert app.queue.get("m-0001").text == "" and app.queue.get("m-0001").author == ""


def test_what_retention_rewrites_reaches_a_handle_that_is_open(tmp_path: Path) -> None:
    """A desk's store handle reports mentions rewritten by another process (changes()), once."""
    data = tmp_path / "data"
    Store(data, segment_size=5).add([mention(i, days=i) for i in range(12)])
    desk = Store(data, segment_size=5)
    desk.rows()
    assert not desk.changes()
    assert anonymise_older_than(Store(data, segment_size=5), datetime(2026, 6, 4, 9, tzinfo=UTC), NOW) == 3
    changes = desk.changes()
    assert sorted(m.id for m in changes.rewritten if not m.text) == ["m-0000", "m-0001", "m-0002"]
    assert {m.id for m in changes.rewritten} == {f"m-{i:04d}" for i in range(5)}  # their segment
    assert not changes.states and not desk.changes()  # reported once
