"""Retention, erasure, access requests and backups on real files and real processes.

"No trace" is checked the way an auditor would: every file under the data directory is read
(every member of every backup archive too) and searched for the person's handle, name, e-mail
address, their texts and our replies to them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from store.backup import archives, backup
from store.plan import PlanStore
from store.restore import restore_files
from store.retention import (
    ERASED,
    _read_progress,
    access_export,
    anonymise_older_than,
    data_secret,
    forget,
    subject_hash,
)
from store.store import Store
from webcare.mention import Mention
from webcare.planning import PlanItem

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def mention(i: int, author: str = "", name: str = "", days: float = 0, **kw) -> Mention:
    seen = T0 + timedelta(days=days, minutes=i)
    return Mention(
        id=f"m-{i:04d}",
        source="demo",
        channel=kw.pop("channel", "x"),
        author=author or f"@persoon{i:04d}x",
        author_name=name or f"Naam{i:04d} Achternaam",
        text=kw.pop("text", f"tekstfragment-{i:04d}-q over de mestbank #VLM"),
        title=kw.pop("title", f"titel-{i:04d}-q"),
        url=kw.pop("url", f"https://x.example/persoon{i:04d}x/status/{i}"),
        ref=kw.pop("ref", f"ref-{i:04d}-post"),
        first_seen_at=seen,
        published_at=seen - timedelta(minutes=2),
        deadline=seen + timedelta(hours=2),
        norm_s=7200,
        keywords=("VLM",),
        reach=100 + i,
        rules=("mestbank",),
        themes=("mest",),
        language="nl",
        sentiment="negative",
        **kw,
    )


def handle(store: Store, m: Mention, when: datetime, reply: str, note: str) -> None:
    """What a desk does with a mention: route with a note, an expert's answer, feedback with a
    note, the reply sent, as the TUI writes them."""
    store.update_state(
        m.id,
        {
            "status": "routed",
            "routed_to": "An Peeters",
            "routed_note": note,
            "category": "question",
        },
        f"routed to An Peeters: {note}",
        "jan-operator",
        at=when,
    )
    store.update_state(
        m.id,
        {"status": "responding", "expert_answer": f"antwoord {note}"},
        "expert answered",
        "els",
    )
    store.update_state(
        m.id,
        {"feedback": [{"unit": "Mestbank", "at": when.isoformat(), "note": note}]},
        f"feedback to Mestbank: {note}",
        "els",
    )
    store.update_state(
        m.id,
        {
            "status": "responded",
            "reply": reply,
            "reply_ref": f"https://x.example/vlm/{m.id}",
            "responded_at": when.isoformat(),
            "response_s": 600,
        },
        f"reply sent via demo: https://x.example/vlm/{m.id}",
        "els",
        at=when,
    )


def traces(root: Path, needles: list[str]) -> list[str]:
    """Every file under `root` (and every member of every archive) holding one of `needles`,
    compared without case."""
    low = [n.lower() for n in needles]
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tar:
                for info in tar:
                    if info.isfile():
                        text = tar.extractfile(info).read().decode("utf-8", "replace").lower()
                        out += [f"{path}:{info.name}: {n}" for n in low if n in text]
            continue
        text = path.read_bytes().decode("utf-8", "replace").lower()
        out += [f"{path}: {n}" for n in low if n in text]
    return out


def records(data_dir: Path, kind: str) -> dict[str, dict]:
    """Every record of `kind` (mentions | state) by mention id, read as any tool would."""
    out = {}
    for path in sorted((data_dir / kind).glob("*.json")):
        for record in orjson.loads(path.read_bytes())["_default"].values():
            out[record["id"]] = record
    return out


# --- retention -----------------------------------------------------------------------------------


def test_anonymise_older_than_keeps_the_figures_and_removes_every_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data, segment_size=10)
    ms = [
        mention(
            i,
            days=i,
            channel="email" if i % 5 == 0 else "x",
            reply_meta={"reply_to": f"mailer{i:04d}@example.net", "subject": f"onderwerp-{i:04d}"},
        )
        for i in range(30)
    ]
    store.add(ms)
    for m in ms[::2]:
        handle(
            store,
            m,
            m.first_seen_at + timedelta(minutes=20),
            f"Beste Naam{int(m.id[2:]):04d}, bedankt",
            f"notitie-{m.id}",
        )
    cutoff = T0 + timedelta(days=15)
    before = {m.id: m for m in Store(data, segment_size=10).load()}

    assert anonymise_older_than(store, cutoff, NOW) == 15
    old = [f"{i:04d}" for i in range(15)]
    new = [f"{i:04d}" for i in range(15, 30)]
    gone = [f"persoon{i}x" for i in old] + [f"Naam{i} Achternaam" for i in old]
    gone += [f"tekstfragment-{i}" for i in old] + [f"mailer{i}@example.net" for i in old]
    gone += (
        [f"notitie-m-{i}" for i in old]
        + [f"onderwerp-{i}" for i in old]
        + [f"Beste Naam{i}" for i in old]
    )
    gone += [f"ref-{i}-post" for i in old] + [f"titel-{i}" for i in old]
    assert traces(data, gone) == []
    # What is younger than the cutoff is untouched, texts and all.
    assert len(traces(data, [f"tekstfragment-{i}" for i in new])) == 15
    assert len(traces(data, [f"notitie-m-{i}" for i in new if int(i) % 2 == 0])) >= 7

    after = {m.id: m for m in Store(data, segment_size=10).load()}
    assert after.keys() == before.keys()
    content, state = records(data, "mentions"), records(data, "state")
    for mid, m in after.items():
        was = before[mid]
        # The figures reports are made of stay.
        assert (m.channel, m.first_seen_at, m.deadline, m.norm_s, m.rules, m.themes) == (
            was.channel,
            was.first_seen_at,
            was.deadline,
            was.norm_s,
            was.rules,
            was.themes,
        )
        assert (m.status, m.category, m.routed_to, m.response_s, m.responded_at) == (
            was.status,
            was.category,
            was.routed_to,
            was.response_s,
            was.responded_at,
        )
        assert [(h["at"], h["who"]) for h in m.history] == [
            (h["at"], h["who"]) for h in was.history
        ]
        if int(mid[2:]) < 15:
            assert (m.author, m.author_name, m.text, m.title, m.url, m.ref, m.reply_meta) == (
                "",
                "",
                "",
                "",
                "",
                "",
                {},
            )
            assert (m.reply, m.routed_note, m.expert_answer, m.reply_ref) == ("", "", "", "")
            assert content[mid]["anonymised"] == {
                "at": "2026-11-23T09:00:00+00:00",
                "reason": "retention",
            }
            if m.history:
                assert state[mid]["anonymised"]["reason"] == "retention"
                assert [h["what"] for h in m.history] == [
                    "routed to An Peeters",
                    "expert answered",
                    "feedback to Mestbank",
                    "reply sent via demo",
                ]
                assert m.feedback == [{"unit": "Mestbank", "at": was.feedback[0]["at"]}]
                assert m.history[0]["changes"]["status"] == "routed"
                assert m.history[0]["changes"]["routed_note"] == ""
        else:
            assert m == was and "anonymised" not in content[mid]

    # Idempotent, and a run with nothing to do writes nothing.
    stamp = {p: p.stat().st_mtime_ns for p in data.rglob("*.json") if p.name != "retention.json"}
    assert anonymise_older_than(store, cutoff, NOW + timedelta(days=1)) == 0
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp
    # The .idx files describe the rewritten segments (a desk's fast start still works).
    assert all(store._read_index(seg, True) is not None for seg in store._segments())
    assert len(Store(data, segment_size=10).rows()) == 3


def test_text_a_desk_adds_to_an_anonymised_mention_is_removed_next_run(tmp_path: Path) -> None:
    store = Store(tmp_path, segment_size=10)
    store.add([mention(i, days=i) for i in range(12)])
    cutoff = T0 + timedelta(days=5)
    assert anonymise_older_than(store, cutoff, NOW) == 5
    store.update_state("m-0002", {"reply": "late reply-to-persoon0002x"}, "reply", "jan")
    assert anonymise_older_than(store, cutoff, NOW) == 0
    assert traces(tmp_path, ["reply-to-persoon"]) == []


def child_anonymise(data_dir: str, cutoff: str, segment_size: str) -> None:
    store = Store(Path(data_dir), segment_size=int(segment_size))
    print("ready", flush=True)
    n = anonymise_older_than(store, datetime.fromisoformat(cutoff), NOW)
    print(json.dumps(n), flush=True)


def child_desk(data_dir: str, count: str) -> None:
    """A desk and a collector at work: new mentions and status changes, as fast as it can."""
    store = Store(Path(data_dir), segment_size=200)
    store.load()
    print("ready", flush=True)
    written = []
    for n in range(int(count)):
        store.add([mention(50_000 + n, days=200)])
        store.update_state(
            f"m-{n * 7 % 3000:04d}", {"status": "monitoring"}, f"monitor {n}", "desk"
        )
        written.append(n)
    print(json.dumps(written), flush=True)


def spawn(func: str, *args: object) -> subprocess.Popen[str]:
    code = f"import sys, test_retention; test_retention.{func}(*sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_a_retention_run_killed_midway_leaves_a_readable_store_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path, segment_size=500)
    total = 20_000
    store.add([mention(i, days=i / 200) for i in range(total)])
    cutoff = T0 + timedelta(days=total / 400)  # the older half
    old = sum(1 for i in range(total) if T0 + timedelta(days=i / 200, minutes=i) < cutoff)
    rng = random.Random(7)
    done, kills = 0, 0
    while kills < 12:
        child = spawn("child_anonymise", tmp_path, cutoff.isoformat(), 500)
        assert child.stdout.readline().strip() == "ready"
        # Kill it once it has finished a segment or two (whatever the machine's load), at a
        # random moment after: somewhere in the middle of the run, maybe mid-write.
        before = len(_read_progress(tmp_path))
        deadline = time.monotonic() + 30
        while len(_read_progress(tmp_path)) <= before and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        kills += 1
        for path in tmp_path.rglob("*.json"):
            orjson.loads(path.read_bytes())  # every file whole
        assert len(Store(tmp_path, segment_size=500).load()) == total
        done = sum("anonymised" in r for r in records(tmp_path, "mentions").values())
        if 0 < done < old:
            break  # killed midway: what this test is about
    assert 0 < done < old, f"no kill landed midway in {kills} tries ({done} of {old} done)"
    assert anonymise_older_than(Store(tmp_path, segment_size=500), cutoff, NOW) == old - done
    content = records(tmp_path, "mentions")
    assert sum("anonymised" in r for r in content.values()) == old
    assert all(not r["text"] for r in content.values() if "anonymised" in r)
    loaded = Store(tmp_path, segment_size=500).load()
    assert len(loaded) == total and sum(not m.text for m in loaded) == old


def test_desks_and_the_collector_keep_working_during_retention(tmp_path: Path) -> None:
    store = Store(tmp_path, segment_size=200)
    store.add([mention(i, days=i / 20) for i in range(3000)])
    child = spawn("child_desk", tmp_path, 150)
    assert child.stdout.readline().strip() == "ready"
    runs = 0
    cutoff = T0 + timedelta(days=30)
    while child.poll() is None or runs == 0:
        anonymise_older_than(Store(tmp_path, segment_size=200), cutoff, NOW)
        cutoff += timedelta(days=5)  # every run has new work, all over the store
        runs += 1
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out
    written = json.loads(out.strip().splitlines()[-1])
    assert len(written) == 150 and runs > 1
    loaded = {m.id: m for m in Store(tmp_path, segment_size=200).load()}
    assert all(f"m-{50_000 + n:04d}" in loaded for n in written)  # no mention lost
    history = [h["what"] for m in loaded.values() for h in m.history]
    assert sorted(history) == sorted(f"monitor {n}" for n in written)  # no state change lost
    anonymise_older_than(Store(tmp_path, segment_size=200), cutoff, NOW)
    assert all(not m.text for m in loaded.values() if m.first_seen_at < cutoff - timedelta(days=5))


# --- forget and access ---------------------------------------------------------------------------

JAN = "@Jan_Boer"
JAN_NAME = "Jan Boerenzoon"
JAN_MAIL = "jan.boer@example.net"


def person_store(data: Path) -> tuple[Store, list[str]]:
    """A store over several segments with a person, replies to them and talk about them."""
    store = Store(data, segment_size=5)
    ms = [mention(i, days=i) for i in range(23)]
    theirs = {2: "eerste-klacht-van-jan", 11: "tweede-klacht-van-jan", 19: "derde-klacht-van-jan"}
    for i, snippet in theirs.items():
        ms[i] = mention(
            i,
            author=JAN,
            name=JAN_NAME,
            days=i,
            text=f"{snippet}: mijn perceel in Kortemark",
            url=f"https://x.example/jan_boer/status/{i}",
            ref=f"1790{i}",
        )
    ms[12] = mention(12, days=12, text="@jan_boer heeft gelijk, ik wacht ook", in_reply_to="179011")
    ms[20] = mention(
        20,
        days=20,
        channel="email",
        author=JAN_MAIL,
        name=JAN_NAME,
        text="mail-van-jan over de premie",
        title="Vraag van Jan Boerenzoon",
        reply_meta={"reply_to": JAN_MAIL, "message_id": "<abc@example.net>"},
    )
    ms[21] = mention(
        21,
        days=21,
        channel="email",
        author="secretariaat@example.org",
        text="doorgestuurd namens jan.boer@example.net",
        reply_meta={"reply_to": "secretariaat@example.org"},
    )
    store.add(ms)
    for i in (2, 11, 12, 20):
        handle(
            store,
            ms[i],
            ms[i].first_seen_at + timedelta(minutes=30),
            "Beste @jan_boer, bedankt voor uw bericht",
            f"bel Jan Boerenzoon terug {i}",
        )
    handle(store, ms[5], ms[5].first_seen_at, "Bedankt!", "geen persoonsgegevens")
    PlanStore(data).add(
        PlanItem.new(title="Antwoord aan Jan Boerenzoon publiceren", text="zie @jan_boer")
    )
    store.write_health(
        {"sources": {"demo": {"last_error": "rate limited while fetching @jan_boer"}}}
    )
    return store, [m.id for m in ms]


JAN_TRACES = [
    "jan_boer",
    "boerenzoon",
    "klacht-van-jan",
    "Kortemark",
    JAN_MAIL,
    "mail-van-jan",
    "Beste @jan_boer",
    "x.example/jan_boer",
]


def test_access_export_returns_exactly_their_records(tmp_path: Path) -> None:
    store, _ = person_store(tmp_path)
    got = access_export(store, "JAN_BOER")
    assert [r["id"] for r in got] == ["m-0002", "m-0011", "m-0019"]
    assert got[0]["text"].startswith("eerste-klacht-van-jan")
    assert got[0]["reply"] == "Beste @jan_boer, bedankt voor uw bericht"
    assert got[0]["routed_note"] == "bel Jan Boerenzoon terug 2"
    assert [h["who"] for h in got[0]["history"]] == ["jan-operator", "els", "els", "els"]
    assert access_export(store, "@jan_boer") == access_export(store, "jan_boer")
    assert [r["id"] for r in access_export(store, f"Jan B. <{JAN_MAIL.upper()}>")] == ["m-0020"]
    assert access_export(store, "nobody_here") == []


def test_forget_leaves_no_trace_in_any_file_or_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store, ids = person_store(data)
    for day in range(3):  # three daily backups, each holding the person
        backup(data, None, NOW - timedelta(days=3 - day))
    assert len(archives(data / "backups")) == 3
    assert traces(data, JAN_TRACES)  # the test would prove nothing otherwise
    before = {m.id: m for m in Store(data, segment_size=5).load()}
    (data / "mentions" / ".000001.json.deadbeef.tmp").write_bytes(
        b'{"_default": {"1": {"author": "@jan_boer"'
    )

    first = forget(store, JAN, NOW, "els")
    second = forget(store, f"Jan <{JAN_MAIL}>", NOW, "els")
    assert (first.mentions, second.mentions) == (3, 1)
    assert first.backups == 3 and first.remaining == [] and second.remaining == []
    assert traces(data, JAN_TRACES) == []

    # Everyone else's data and every figure stays.
    after = {m.id: m for m in Store(data, segment_size=5).load()}
    assert after.keys() == before.keys() and list(after) == ids
    for mid in ("m-0002", "m-0011", "m-0019", "m-0020"):
        m = after[mid]
        assert (m.author, m.text, m.reply, m.routed_note) == ("", "", "", "")
        assert (m.status, m.category, m.response_s, m.channel) == (
            before[mid].status,
            before[mid].category,
            before[mid].response_s,
            before[mid].channel,
        )
        assert m.history[-1]["who"] == "els" and m.history[-1]["what"] == ERASED
    assert after["m-0012"].text == "[…] heeft gelijk, ik wacht ook"
    assert (
        after["m-0012"].in_reply_to == ""
        and after["m-0012"].reply == "Beste […], bedankt voor uw bericht"
    )
    assert after["m-0021"].text == "doorgestuurd namens […]"
    assert after["m-0005"] == before["m-0005"]
    assert after["m-0007"] == before["m-0007"]
    assert PlanStore(data).all()[0].title == "Antwoord aan […] publiceren"

    # The audit trail: the request, who ran it, how many, and no name.
    log = [json.loads(line) for line in (data / "privacy.log").read_text().splitlines()]
    assert [(e["request"], e["operator"], e["subject"], e["mentions"]) for e in log] == [
        ("erasure", "els", subject_hash("jan_boer", data_secret(data)), 3),
        ("erasure", "els", subject_hash(JAN_MAIL, data_secret(data)), 1),
    ]
    assert "jan" not in (data / "privacy.log").read_text().lower()

    # Again: nothing more to do, nothing breaks.
    again = forget(store, JAN, NOW, "els")
    assert (again.mentions, again.remaining) == (0, [])
    # A backup restored after the erasure does not bring them back.
    restored = restore_files(archives(data / "backups")[0], tmp_path / "restored").data_dir
    assert traces(restored, JAN_TRACES) == []
    assert len(Store(restored, segment_size=5).load()) == 23


def test_forget_refuses_what_would_match_everyone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        forget(store, "@a", NOW, "els")


# --- backups -------------------------------------------------------------------------------------


def test_backups_rotate_keep_seven_and_restore_the_same_store(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    store = Store(data, segment_size=10)
    made = []
    for day in range(9):
        store.add([mention(day * 4 + k, days=day) for k in range(4)])
        store.update_state(f"m-{day * 4:04d}", {"status": "closed"}, "close", "els")
        made.append(backup(data, backups, NOW + timedelta(days=day)))
    kept = archives(backups)
    assert kept == made[2:] and len(kept) == 7
    assert [p.name for p in kept][-1] == "webcare-2026-12-01.tar.gz"
    # Today's exists: not made again.
    stat = kept[-1].stat()
    assert backup(data, backups, NOW + timedelta(days=8, hours=5)) == kept[-1]
    assert (kept[-1].stat().st_ino, kept[-1].stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert not [p for p in backups.iterdir() if p.name.startswith(".")]  # no temporary files
    assert not [p for p in data.iterdir() if p.name.startswith(".backup-")]
    with tarfile.open(kept[-1]) as tar:
        names = tar.getnames()
    assert "mentions/000004.json" in names and "state/000001.json" in names
    assert not [n for n in names if n.endswith((".idx", ".lock"))]

    restored = restore_files(kept[-1], tmp_path / "restored").data_dir
    original = [m.export_record() for m in Store(data, segment_size=10).load()]
    again = Store(restored, segment_size=10)
    assert [m.export_record() for m in again.load()] == original
    assert all(again._read_index(seg, True) is not None for seg in again._segments())
    assert len(again.add([mention(999, days=30)])) == 1  # a working store
    # Again over the store in use: what it replaces is kept aside, never lost.
    assert restore_files(kept[-1], restored).replaced is not None
