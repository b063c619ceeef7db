"""The desk's services under Pilot: a key press changes the row at once while the store is
written by the writer thread behind it (held up here by the real cross-process write lock), a
write that fails says so and puts the row back, writes land in the order of the keys (undo
too), and the screens are told of what another desk did."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from store import Store
from store.modes import lock
from tests.test_damage import _fill, small_disk  # noqa: F401  (a fixture: the real full disk)
from tests.test_operators import desk
from tests.tui_helpers import make_app, mention, screen_text
from tui.app import WebcareApp
from tui.session import predicted_state
from webcare import triage
from webcare.history import Event
from webcare.i18n import status_word
from webcare.mention import State, StateChange, Status


async def until(pilot, condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.05)


def stored_status(data_dir: Path, mention_id: str) -> str:
    m = Store(data_dir).get(mention_id)
    assert m is not None
    return m.status


def notices(app: WebcareApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def row_of(app: WebcareApp, mention_id: str) -> str:
    """The stream's line of a mention, as the terminal shows it."""
    author = app.queue.get(mention_id).author
    rows = [line.split("│")[0] for line in screen_text(app).splitlines()[1:]]  # not the detail pane
    return next(row for row in rows if author in row)


async def test_a_key_changes_the_row_before_the_store_is_written(make_config, clock):
    config = make_config()
    data = config.data_dir
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        held = lock(Path(data) / "write.lock")
        held.acquire()  # another process writing: the desk's writer must wait for it
        try:
            await pilot.press("m")
            await pilot.pause()
            # On screen at once, and in the queue the screens read ...
            assert status_word("monitoring", "nl") in row_of(app, "m1")
            assert app.queue.get("m1").status == "monitoring"
            # ... while the store does not have it yet: the key did not wait for the lock.
            assert app.session.writer.busy
            assert stored_status(data, "m1") == "new"
        finally:
            held.release()
        await until(pilot, lambda: not app.session.writer.busy)
        assert stored_status(data, "m1") == "monitoring"
        await pilot.pause()
        assert status_word("monitoring", "nl") in row_of(app, "m1")
        assert not any("niet bewaard" in n for n in notices(app))


async def test_writes_keep_the_order_of_the_keys_and_undo_takes_back_a_pending_one(make_config, clock):
    config = make_config()
    data = config.data_dir
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        held = lock(Path(data) / "write.lock")
        held.acquire()
        try:
            await pilot.press("m", "u")  # monitor, and take it back, before either is stored
            await pilot.pause()
            assert app.queue.get("m1").status == "new"
            assert stored_status(data, "m1") == "new"
        finally:
            held.release()
        await until(pilot, lambda: not app.session.writer.busy)
        m = Store(data).get("m1")
        assert m.status == "new"
        assert [h.get("kind") for h in m.history] == ["monitor", "undo"]
        await pilot.pause()
        assert any(n.startswith("Ongedaan gemaakt: ") for n in notices(app)), notices(app)


async def test_a_write_that_cannot_get_the_lock_is_said_and_the_row_goes_back(make_config, clock):
    config = make_config()
    data = config.data_dir
    Store(data).add([mention(1, clock(), 30)])
    app = WebcareApp(config, Store(data, lock_timeout=0.3), clock=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        held = lock(Path(data) / "write.lock")
        held.acquire()
        try:
            await pilot.press("m")  # shown at once (see above), then the lock times out
            await until(pilot, lambda: any(n.startswith("niet bewaard: ") for n in notices(app)))
        finally:
            held.release()
        await pilot.pause()
        # The row is back as the store has it, and the desk said what was not saved and why.
        said = next(n for n in notices(app) if n.startswith("niet bewaard: "))
        assert said.endswith("— schrijfslot bleef bezet"), said
        assert "@author1" in said
        assert app.queue.get("m1").status == "new"
        assert status_word("monitoring", "nl") not in row_of(app, "m1")
        assert stored_status(data, "m1") == "new"
        # Nothing to undo: the action never happened.
        await pilot.press("u")
        await pilot.pause()
        assert stored_status(data, "m1") == "new" and Store(data).get("m1").history == []


async def test_a_full_disk_says_not_saved_and_the_row_goes_back(make_config, clock, small_disk):  # noqa: F811
    config = make_config()
    Store(small_disk).add([mention(1, clock(), 30)])
    app = make_app(config, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        _fill(small_disk)
        await pilot.press("d")
        await until(pilot, lambda: any(n.startswith("niet bewaard: ") for n in notices(app)))
        await pilot.pause()
        assert any(n.endswith("— schijf vol") for n in notices(app))
        assert app.queue.get("m1").status == "new"
        assert status_word("done", "nl") not in row_of(app, "m1")
        (small_disk / "filler").unlink()
    assert stored_status(small_disk, "m1") == "new"


async def test_the_screens_are_told_what_another_desk_did(tmp_path, clock):
    Store(tmp_path / "data").add([mention(1, clock(), 30), mention(2, clock(), 60)])
    an, bert = desk(tmp_path, "An", clock), desk(tmp_path, "Bert", clock)
    async with an.run_test(size=(120, 30)) as pa, bert.run_test(size=(120, 30)) as pb:

        async def both() -> None:
            await pa.pause(0.05)
            await pb.pause(0.05)

        await both()
        assert status_word("responded", "nl") not in row_of(bert, "m1")
        await pa.press("d")  # An records a reply to m1 (the top of the stream)
        # Bert's stream repaints the row (MentionsChanged, after Bert's desk read the store).
        async with asyncio.timeout(5):
            while bert.queue.get("m1").status != "responded":
                await both()
        await both()
        assert status_word("responded", "nl") in row_of(bert, "m1")
        # And Bert's header names An (PresenceChanged, HeaderChanged).
        async with asyncio.timeout(5):
            while "An" not in "".join(screen_text(bert).splitlines()[:2]):
                await both()


def test_the_row_shown_before_the_write_is_the_state_the_store_writes(tmp_path, clock):
    """What a key press shows at once (predicted_state) is what the store then holds: the same
    state and the same history entry (what, kind, args, changes, before), so the row does not
    change again when the write lands. (A field the store never wrote reads as its default on
    the desk: None and "" are the same empty note to the row and to undo.)"""
    store = Store(tmp_path / "data")
    store.add([mention(1, clock(), 30), mention(2, clock(), 60, category="complaint")])
    expert_due = clock() + timedelta(days=1)
    changes = [
        lambda m: triage.route(m, "Mia Expert", expert_due, clock(), "kun je kijken?"),  # sets a category
        lambda m: triage.monitor(m),
        lambda m: m.change({"flags": ["flagged"]}, Event("flagged")),
        lambda m: triage.undo(m, len(m.history) - 1),  # with `expect`
        lambda m: StateChange(m.id, {"status": Status.CLOSED}, Event("closed"), version=m.version),
    ]
    for mention_id in ("m1", "m2"):
        for make in changes:
            m = store.get(mention_id)
            change = make(m)
            shown = predicted_state(m.state_record(), change, "An", clock())
            stored = store.change(change, "An", at=clock())
            assert shown is not None
            assert State.from_record({**shown, "history": []}) == State.from_record({**stored, "history": []})
            assert len(shown["history"]) == len(stored["history"])
            entry, written = shown["history"][-1], stored["history"][-1]
            assert {k: v for k, v in entry.items() if k != "before"} == {k: v for k, v in written.items() if k != "before"}
            assert entry["before"].keys() == written["before"].keys()
            assert State.from_record(entry["before"]) == State.from_record(written["before"])
    # A change the store would refuse is not shown either.
    m = store.get("m1")
    assert predicted_state(m.state_record(), triage.wake(m), "An", clock()) is None
    stale = StateChange("m1", {"status": Status.NEW}, Event("reopened"), version=m.version - 1)
    assert predicted_state(m.state_record(), stale, "An", clock()) is None


async def test_a_change_made_on_a_stale_version_shows_the_other_desks_state_and_says_so(make_config, clock):
    config = make_config()
    data = config.data_dir
    app = make_app(config, clock, [mention(1, clock(), 30)])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        seen = app.queue.get("m1")  # as this desk last read it: version 0
        # Another desk answers m1; this desk has not read the store since (no await between).
        Store(data).change(triage.responded(Store(data).get("m1"), clock()), "Bert", at=clock())
        stale = StateChange("m1", {"status": Status.MONITORING}, Event("monitor"), version=seen.version)
        assert app.session.act(seen, stale)
        assert app.queue.get("m1").status == "monitoring"  # shown at once, as always
        await until(pilot, lambda: any(n.startswith("niet bewaard: ") for n in notices(app)))
        await pilot.pause()
        said = next(n for n in notices(app) if n.startswith("niet bewaard: "))
        assert said.endswith("— iemand anders wijzigde dit intussen"), said
        # The row shows Bert's answer, which the store kept; nothing of ours to undo.
        assert app.queue.get("m1").status == "responded"
        assert status_word("responded", "nl") in row_of(app, "m1")
        assert not app.session.undo_stack
    m = Store(data).get("m1")
    assert m.status == "responded" and [h["who"] for h in m.history] == ["Bert"]


def test_no_screen_or_widget_is_reached_by_probing() -> None:
    """Screens learn of changes by message and reach the app typed: no hasattr/getattr on the
    app or a screen anywhere in the desk."""
    tui = Path(__file__).resolve().parent.parent / "tui"
    probes = [
        f"{path.relative_to(tui)}:{n}"
        for path in sorted(tui.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ("hasattr(" in line or "getattr(" in line) and ("app" in line or "screen" in line)
    ]
    assert probes == []
