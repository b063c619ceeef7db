"""The store's index: a desk starts from it, and it never disagrees with the segments."""

from __future__ import annotations

from datetime import UTC, datetime

from store import Store
from webcare.queue import MentionQueue, sort_key

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _mentions(n: int):
    from tests.tui_helpers import mention

    return [mention(i, NOW, minutes_left=(i * 37) % 300 - 100) for i in range(n)]


def _queue(store: Store) -> MentionQueue:
    return MentionQueue(rows=store.rows(), fetch=store.mentions)


def test_queue_from_index_equals_queue_from_mentions(tmp_path):
    Store(tmp_path, segment_size=7).add(_mentions(40))
    store = Store(tmp_path, segment_size=7)
    store.update_state("m3", {"status": "responded"}, "done", "an")
    lazy = _queue(Store(tmp_path, segment_size=7))
    full = MentionQueue(Store(tmp_path, segment_size=7).load())
    assert lazy.total == full.total == 40
    assert lazy.new_count == full.new_count == 39
    assert [sort_key(lazy[i]) for i in range(40)] == [sort_key(full[i]) for i in range(40)]
    assert lazy.get("m3").status == "responded"


def test_missing_or_stale_index_falls_back_to_the_segment(tmp_path):
    Store(tmp_path, segment_size=10).add(_mentions(25))
    (tmp_path / "mentions" / "000001.idx").unlink()
    (tmp_path / "mentions" / "000002.idx").write_text('{"of": [1, 2, 3], "docs": []}')
    (tmp_path / "state" / "000003.idx").write_text("not json")
    store = Store(tmp_path, segment_size=10)
    index = store.rows()
    assert sorted(i for ix in index for i in ix.ids) == sorted(f"m{i}" for i in range(25))


def test_state_changed_after_the_index_was_read_keeps_the_order_right(tmp_path):
    Store(tmp_path, segment_size=10).add(_mentions(30))
    desk = Store(tmp_path, segment_size=10)
    queue = _queue(desk)
    top = queue._keys[0][1]  # without reading it
    Store(tmp_path, segment_size=10).update_state(top, {"status": "responded"}, "done", "an")
    # the desk reads the real mention only now: it is no longer owed and moves down
    assert queue[0].id != top
    assert queue.get(top).status == "responded"
    assert [sort_key(queue[i]) for i in range(30)] == sorted(sort_key(queue[i]) for i in range(30))


def test_desk_sees_changes_after_starting_from_the_index(tmp_path):
    Store(tmp_path, segment_size=10).add(_mentions(15))
    desk = Store(tmp_path, segment_size=10)
    desk.rows()
    other = Store(tmp_path, segment_size=10)
    other.add(_mentions(18)[15:])
    other.update_state("m2", {"status": "monitoring"}, "monitor", "an")
    changes = desk.changes()
    assert sorted(m.id for m in changes.new) == ["m15", "m16", "m17"]
    assert set(changes.states) == {"m2"}
    assert not desk.changes()


def test_rows_rank_as_mentions_do(tmp_path):
    """The queue ranks a whole block of rows at once (owed_ranks): the same floats as sort_key
    gives each mention, for every reach tier, with and without a deadline, urgent or not."""

    from webcare.queue import owed_ranks

    made = [
        m.replaced(reach=[None, 999, 1_000, 9_999, 10_000, 250_000][i % 6],
                            priority=["normal", "high", "urgent"][i % 3],
                            **({"deadline": None, "norm_s": None} if i % 4 == 0 else {}))
        for i, m in enumerate(_mentions(36))
    ]
    Store(tmp_path, segment_size=10).add(made)
    ranks = {i: r for block in Store(tmp_path).rows() for i, r in zip(block.ids, owed_ranks(block))}
    assert ranks == {m.id: sort_key(m)[0] for m in made}


def test_an_id_stored_twice_is_shown_once_as_first_stored(tmp_path):
    """add() never stores an id twice; a hand-edited or restored file might. The first stands."""
    Store(tmp_path, segment_size=3).add(_mentions(6))
    store = Store(tmp_path, segment_size=3)
    store.rewrite_segment(2, lambda content, state: ({**content, "1": {**content["1"], "id": "m0", "text": "later"}}, None))
    desk = Store(tmp_path, segment_size=3)
    queue = _queue(desk)
    assert queue.total == 5 and sorted(m.id for m in queue) == ["m0", "m1", "m2", "m4", "m5"]
    assert queue.get("m0").text != "later"


# --- a large store: the desk's first frame reads the top of the order, the rest comes after ---


def _varied(n: int):
    """Owed with deadlines (some overdue, some due soon), urgent, news without a norm, a wide
    reach, and handled ones: every block of the order."""
    from datetime import timedelta

    from tests.tui_helpers import mention

    made = []
    for i in range(n):
        m = mention(i, NOW, minutes_left=(i * 37) % 300 - 100, reach=[None, 5_000, 50_000][i % 3],
                    first_seen_at=NOW - timedelta(minutes=i % 50))
        if i % 7 == 0:
            m = m.replaced(deadline=None, norm_s=None, channel="news")
        if i % 11 == 0:
            m = m.replaced(priority="urgent")
        made.append(m)
    return made


def _deferring(monkeypatch) -> None:
    """A small store deferred as a large one is: from 1 row on, with a top of 8."""
    import webcare.queue as queue_module

    monkeypatch.setattr(queue_module, "DEFER_FROM", 1)
    monkeypatch.setattr(queue_module, "TOP", 8)


def _handled(tmp_path) -> None:
    store = Store(tmp_path, segment_size=10)
    for i in (1, 2, 5, 30):
        store.update_state(f"m{i}", {"status": "responded"}, "done", "an")
    store.update_state("m4", {"status": "monitoring"}, "monitor", "an")


def test_a_deferred_start_shows_what_a_full_start_shows(tmp_path, monkeypatch):
    from datetime import timedelta

    Store(tmp_path, segment_size=10).add(_varied(60))
    _handled(tmp_path)
    full = _queue(Store(tmp_path, segment_size=10))
    _deferring(monkeypatch)
    fetched: list[str] = []
    store = Store(tmp_path, segment_size=10)
    deferred = MentionQueue(rows=store.rows(), fetch=lambda ids: (fetched.extend(ids), store.mentions(ids))[1])
    assert deferred._unplaced is not None  # the order is deferred: what follows reads the top only
    # What the first frame reads: the size, the header's counts, the top rows, the cursor's row.
    assert len(deferred) == deferred.total == full.total == 60
    assert deferred.new_count == full.new_count
    for minutes in (-200, -30, 0, 45, 90, 400):
        now = NOW + timedelta(minutes=minutes)
        assert deferred.counts(now, timedelta(hours=8)) == full.counts(now, timedelta(hours=8))
    assert [deferred[i].id for i in range(8)] == [full[i].id for i in range(8)]
    assert deferred.index_of(full[3].id) == 3 and deferred.get(full[5].id).id == full[5].id
    assert deferred.new_count == full.new_count
    assert deferred._unplaced is not None and len(fetched) <= 8
    # Anything more builds the whole order: the same as the full start's.
    assert [(sort_key(m), m.status) for m in deferred] == [(sort_key(m), m.status) for m in full]
    assert deferred.index_of(full[40].id) == 40 and deferred.new_count == full.new_count
    assert deferred.counts(NOW, timedelta(hours=8)) == full.counts(NOW, timedelta(hours=8))


def test_a_deferred_start_keeps_the_order_right_when_a_top_row_changed_meanwhile(tmp_path, monkeypatch):
    Store(tmp_path, segment_size=10).add(_varied(40))
    _deferring(monkeypatch)
    desk = Store(tmp_path, segment_size=10)
    queue = _queue(desk)
    top = queue._top[0][1]  # the first row, not read yet
    Store(tmp_path, segment_size=10).update_state(top, {"status": "responded"}, "done", "an")
    assert queue[0].id != top  # no longer owed: it moved down
    assert queue.get(top).status == "responded"
    assert [sort_key(m) for m in queue] == sorted(sort_key(m) for m in queue)
    assert queue.new_count == 39


def test_a_change_on_a_deferred_start_lands_in_the_right_place(tmp_path, monkeypatch):
    from webcare.mention import Status

    Store(tmp_path, segment_size=10).add(_varied(40))
    _deferring(monkeypatch)
    queue = _queue(Store(tmp_path, segment_size=10))
    first = queue[0]
    queue.update(first.id, lambda m: setattr(m, "status", Status.RESPONDED))
    assert queue[0].id != first.id and queue.new_count == 39
    assert [sort_key(m) for m in queue] == sorted(sort_key(m) for m in queue)
    assert queue.index_of(first.id) == [m.id for m in queue].index(first.id)
