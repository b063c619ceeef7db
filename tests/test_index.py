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
