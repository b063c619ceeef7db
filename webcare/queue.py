"""The desk's queue: every mention in the order the person on duty should see them.

Order: mentions that owe a reply, by deadline (so the overdue ones come first, the longest
overdue on top); then those that owe a reply but have no norm (news), newest first; then the
handled ones, newest first. This order does not depend on the time of day — an item turning
overdue stays where it is — so the queue is sorted once and kept sorted by insertion, and a
key press or a countdown tick never re-sorts 100,000 mentions.
"""

from __future__ import annotations

import bisect
import gc
import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from itertools import chain
from typing import Protocol

from webcare.channels import ALIASES
from webcare.mention import Mention, Status
from webcare.norms import Urgency
from webcare.store_port import Rows
from webcare.watch import KIND_GROUPS, fold

# A key is (rank, id): the rank puts the three blocks one after the other on one float axis, so
# 100,000 keys sort and bisect as fast as floats do. Block 1: owed with a deadline, ranked by the
# deadline's timestamp (≈1.8e9 now); block 2: owed without a norm, newest first (1e10 minus the
# first-seen time); block 3: handled, newest first (2e10 minus it).
#
# Two refinements move a mention a little on that axis, never out of its place by the clock:
# - an owed mention an urgent [[watch.rules]] rule matched goes before everything (block 0:
#   its deadline, or first sighting when it has no norm, minus URGENT_SHIFT: below zero);
# - within one minute of deadlines, higher reach first: authors with 10,000+ followers, then
#   1,000+, then the rest (a burst of posts in a crisis shares its deadlines' minute). Such a
#   mention ranks just before its minute, so the header may count it overdue up to a minute
#   early; the row's own countdown is exact.
SortKey = tuple[float, str]
URGENT_SHIFT = 4e9
URGENT = 4  # boost bits: URGENT | reach tier (1: 10,000+ followers, 2: 1,000+)
NO_NORM_BASE = 1e10
HANDLED_BASE = 2e10
END_OF_DEADLINES = (5e9, "")  # sorts after every deadline and before every other block

Pending = tuple[float, "int | None"]  # (rank, norm_s) of a mention not fetched from the store yet


class Change(Protocol):
    """What MentionQueue.update applies to a mention in place. A protocol, not a Callable: a
    lambda that binds a value as a default (`lambda m, s=state: …`) fits it too."""

    def __call__(self, m: Mention, /) -> object: ...


# A block of rows not placed yet: ranks, ids, norms, and the lowest and highest rank in it.
Unplaced = tuple[list[float], list[str], "list[int | None]", float, float]
FETCH_AHEAD = 64  # rows fetched at once when a row not fetched yet is shown (a screenful and more)
FETCH_BEHIND = 16
# A desk with this many stored mentions or more starts without its whole order (see
# MentionQueue.complete): the first frame needs only the top rows and the header's counts.
DEFER_FROM = 5_000
TOP = 256  # rows placed at once when the order is deferred: a tall screen and more

_NEW = (Status.NEW, True)


def _rank_of(key: SortKey) -> float:
    return key[0]


def boost_of(priority: str, reach: int | None) -> int:
    tier = 0 if reach is None else 1 if reach >= 10_000 else 2 if reach >= 1_000 else 0
    return (URGENT if priority == "urgent" else 0) | tier


def _by_reach(deadline_s: float, tier: int) -> float:
    """Just before the deadline's minute, in deadline order within the tier (see above)."""
    offset = deadline_s % 60
    return deadline_s - offset - (1.0 if tier == 1 else 0.5) + offset / 600


def owed_ranks(rows: Rows) -> list[float]:
    """Each row's rank while it owes a reply (what rank(True, …) gives), for a whole block at
    once: this runs over every stored mention when a desk starts, so rank's arithmetic for a
    wide reach is written out in one comprehension (the same operations in the same order:
    the same floats), and only the few with an urgent priority go through rank itself."""
    ranks = [
        NO_NORM_BASE - f if d is None
        else d if r is None or r < 1_000
        else d - d % 60 - (1.0 if r >= 10_000 else 0.5) + d % 60 / 600  # _by_reach
        for d, f, r in zip(rows.deadlines, rows.first_seen, rows.reach)
    ]
    if rows.priorities:
        position = dict(zip(rows.ids, range(len(rows.ids))))
        for mention_id, priority in rows.priorities.items():
            if (i := position.get(mention_id)) is not None and priority == "urgent":
                ranks[i] = rank(True, rows.deadlines[i], rows.first_seen[i], boost_of(priority, rows.reach[i]))
    return ranks


def rank(owed: bool, deadline_s: float | None, first_seen_s: float, boost: int = 0) -> float:
    if owed and boost & URGENT:
        at = deadline_s if deadline_s is not None else first_seen_s
        return (_by_reach(at, boost & 3) if boost & 3 else at) - URGENT_SHIFT
    if owed and deadline_s is not None:
        return _by_reach(deadline_s, boost & 3) if boost & 3 else deadline_s
    return (NO_NORM_BASE if owed else HANDLED_BASE) - first_seen_s


def sort_key(m: Mention) -> SortKey:
    deadline_s = None if m.deadline is None else m.deadline.timestamp()
    return (rank(m.owed, deadline_s, m.first_seen_at.timestamp(), boost_of(m.priority, m.reach)), m.id)


_FIELDS = (
    "channel", "status", "source", "urgency", "author", "keyword",
    "theme", "rule", "watch", "sentiment", "lang", "priority", "flag",
)
# flag:gesignaleerd / flag:signalled: what was signalled to the communication lead (L12).
FLAG_ALIASES = {"gesignaleerd": "flagged", "signalled": "flagged", "signaled": "flagged"}


class MentionFilter:
    """A filter typed after `/`: words that must all occur (in author, title or text) and
    field:value terms (channel:x status:new source:demo urgency:overdue author:… keyword:…
    theme:mest rule:… watch:press|peers|ambassadors|journalist|… sentiment:neg lang:en
    priority:urgent flag:gesignaleerd|signalled|crisis|…)."""

    def __init__(self, query: str) -> None:
        self.query = query.strip()
        self.words: list[str] = []
        self.fields: dict[str, str] = {}
        for term in self.query.split():
            name, sep, value = term.partition(":")
            if sep and name.lower() in _FIELDS and value:
                value = fold(value)
                self.fields[name.lower()] = (
                    ALIASES.get(value, value) if name.lower() == "channel" else value
                )
            else:
                self.words.append(fold(term))

    def __bool__(self) -> bool:
        return bool(self.query)

    def accepts(self, m: Mention, now: datetime) -> bool:
        f = self.fields
        if "channel" in f and not fold(m.channel).startswith(f["channel"]):
            return False
        if "status" in f and not fold(m.status).startswith(f["status"]):
            return False
        if "source" in f and f["source"] not in fold(m.source):
            return False
        if "author" in f and f["author"] not in fold(m.author + " " + m.author_name):
            return False
        if "keyword" in f and not any(f["keyword"] in fold(k) for k in m.keywords):
            return False
        if "theme" in f and not any(fold(t).startswith(f["theme"]) for t in m.themes):
            return False
        if "rule" in f and not any(fold(r).startswith(f["rule"]) for r in m.rules):
            return False
        if "watch" in f:
            kinds = KIND_GROUPS.get(f["watch"])
            if not m.watchlist or (kinds is not None and m.watchlist not in kinds) or (kinds is None and not m.watchlist.startswith(f["watch"])):
                return False
        if "sentiment" in f and not (m.sentiment and m.sentiment.startswith(f["sentiment"])):
            return False
        if "lang" in f and m.language != f["lang"]:
            return False
        if "priority" in f and not m.priority.startswith(f["priority"]):
            return False
        if "flag" in f:
            flag = FLAG_ALIASES.get(f["flag"], f["flag"])
            if not any(x == flag or x.startswith(flag) for x in m.flags):
                return False
        if "urgency" in f and not m.urgency(now).name.lower().replace("_", "-").startswith(
            f["urgency"].replace("_", "-")
        ):
            return False
        if self.words:
            hay = fold(f"{m.author} {m.author_name} {m.title} {m.text}")
            return all(w in hay for w in self.words)
        return True


class MentionQueue:
    """The sorted mentions, with an optional filter giving the visible subset.

    A desk starts from the store's rows (webcare.store_port.Rows): each mention is placed by
    its row, held in `_by_id` as a Pending tuple (rank, norm) with its status in
    `_pending_status` when it is not "new", and fetched from the store (`fetch`: ids → the
    mentions) when it is first shown, filtered or changed."""

    def __init__(
        self,
        mentions: Iterable[Mention] = (),
        *,
        rows: Iterable[Rows] = (),
        fetch: Callable[[list[str]], list[Mention]] | None = None,
    ) -> None:
        self._entries: dict[str, Mention | Pending] = {}  # _by_id, once the order is built
        self._fetch = fetch
        self._pending_status: dict[str, str] = {}  # only those not "new"
        self._sorted: list[SortKey] = []  # _keys, once the order is built
        self._filter: MentionFilter | None = None
        self._visible: list[Mention] | None = None  # None: no filter, everything is visible
        self._now: datetime | None = None
        self.new_count = 0  # mentions with status "new", kept up to date on every change
        self.replies: dict[str, list[str]] = {}  # post id → ids of the replies to it we have
        # Rows placed by rank but not yet in _keys/_by_id (see complete): per block its ranks,
        # ids and norms; None once the whole order is built.
        self._unplaced: list[Unplaced] | None = None
        self._top: list[SortKey] = []  # the first TOP keys of the order while it is deferred
        self._early: dict[str, Mention] = {}  # top rows fetched while the order is deferred
        self._count = 0  # how many rows are unplaced
        self._place(rows)
        self.extend(mentions)

    # The whole order (_keys, _by_id) is built on first use by anything but the first frame's
    # reads (len, the top rows, counts): see complete().

    @property
    def _keys(self) -> list[SortKey]:
        if self._unplaced is not None:
            self.complete()
        return self._sorted

    @_keys.setter
    def _keys(self, keys: list[SortKey]) -> None:
        self._sorted = keys

    @property
    def _by_id(self) -> dict[str, Mention | Pending]:
        if self._unplaced is not None:
            self.complete()
        return self._entries

    def _place(self, rows: Iterable[Rows]) -> None:
        """Place the store's rows: this runs over every stored mention when a desk starts, so
        it is written as whole-column operations. With DEFER_FROM rows or more only their
        ranks are computed here, and the first TOP of the order picked; the rest waits for
        complete()."""
        unplaced: list[Unplaced] = []
        for block in rows:
            ids, statuses = block.ids, block.statuses
            owed = owed_ranks(block)
            if statuses:  # the handled ones rank by arrival, the owed ones by owed_ranks
                ranks = [
                    o if statuses.get(i, _NEW)[1] else HANDLED_BASE - f
                    for i, o, f in zip(ids, owed, block.first_seen)
                ]
            else:  # all new, so all owed
                ranks = owed
            if ranks:
                unplaced.append((ranks, ids, block.norms, min(ranks), max(ranks)))
            self._pending_status.update((i, s[0]) for i, s in statuses.items())
            for child, parent in block.parents.items():
                self.replies.setdefault(parent, []).append(child)
            self.new_count += len(ids) - sum(s[0] != Status.NEW for s in statuses.values())
        count = sum(len(b[1]) for b in unplaced)
        if count >= DEFER_FROM:
            self._unplaced, self._count = unplaced, count
            self._top = self._first_keys(unplaced)
        else:
            self._place_all(unplaced)

    @staticmethod
    def _first_keys(unplaced: list[Unplaced]) -> list[SortKey]:
        """The TOP smallest keys, as sorting all of them would give (ties by id). Blocks are
        looked at from the lowest rank up; one whose lowest rank is above the TOP-th key found
        so far cannot hold any (the segments arrive in time order, so most are skipped)."""
        top: list[SortKey] = []
        for ranks, ids, _, low, _ in sorted(unplaced, key=lambda b: b[3]):
            if len(top) == TOP and low > top[-1][0]:
                break
            top = heapq.nsmallest(TOP, chain(top, zip(ranks, ids)))
        return top

    def _place_all(self, unplaced: list[Unplaced]) -> None:
        by_id, keys = self._entries, self._sorted
        for ranks, ids, norms, _, _ in unplaced:
            # One dict insert per mention (each costs as much as the rest of the row's work).
            by_id.update(zip(ids, zip(ranks, norms)))
            keys += zip(ranks, ids)
        keys.sort()

    def complete(self) -> None:
        """Build the whole order of a queue whose start was deferred (DEFER_FROM): every row
        in _keys and _by_id, with the top rows fetched meanwhile in their place. Anything
        that needs more than the first frame's reads calls this first (through _keys and
        _by_id); a desk calls it right after its first frame."""
        unplaced, self._unplaced = self._unplaced, None
        if unplaced is None:
            return
        # As at a desk's start (tui.app._load_queue): no collections while building some
        # 200,000 long-lived objects without cycles, and then out of the collector's sight, so
        # that no full collection walks them for nothing (a key press that stutters).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._place_all(unplaced)
            self._entries.update(self._early)
            self._top, self._early, self._count = [], {}, 0
        finally:
            gc.freeze()
            if was_enabled:
                gc.enable()

    # --- reading ---------------------------------------------------------------------

    def __len__(self) -> int:
        return self.total if self._visible is None else len(self._visible)

    @property
    def total(self) -> int:
        return self._count if self._unplaced is not None else len(self._sorted)

    def __getitem__(self, index: int) -> Mention:
        if self._visible is not None:
            return self._visible[index]
        if self._unplaced is not None and 0 <= index < len(self._top) and (m := self._top_row(index)) is not None:
            return m
        while True:
            entry = self._by_id[self._keys[index][1]]
            if not isinstance(entry, tuple):
                return entry
            # Fetch this row and its neighbours (the rows about to be painted) at once. That
            # may reorder (their state may have moved on) or drop one the store no longer has:
            # what stands at `index` then is another row, so look again.
            keys, by_id = self._keys, self._by_id
            around = keys[max(0, index - FETCH_BEHIND) : index + FETCH_AHEAD]
            self._take([k[1] for k in around if type(by_id[k[1]]) is tuple])

    def _top_row(self, index: int) -> Mention | None:
        """Row `index` of a deferred order, fetched with its neighbours among the top rows;
        None when the store's mentions no longer stand where their rows put them (a state
        moved on since, or one was erased): the whole order is then built and used instead."""
        top, early = self._top, self._early
        m = early.get(top[index][1])
        if m is not None:
            return m
        around = top[max(0, index - FETCH_BEHIND) : index + FETCH_AHEAD]
        wanted = {k[1]: k for k in around if k[1] not in early}
        fetched = self._fetch(list(wanted)) if self._fetch is not None else []
        if len(fetched) != len(wanted) or any(wanted.get(m.id) != sort_key(m) for m in fetched):
            return None
        for m in fetched:
            early[m.id] = m
            self.new_count += (m.status == Status.NEW) - (self._pending_status.pop(m.id, Status.NEW) == Status.NEW)
        return early[top[index][1]]

    def __iter__(self) -> Iterator[Mention]:
        for i in range(len(self)):
            yield self[i]

    def _top_index(self, mention_id: str) -> int | None:
        """Where a mention stands among the top rows of a deferred order, read from the store
        (None: not among them, or no longer where its row put it)."""
        for i, key in enumerate(self._top):
            if key[1] == mention_id:
                return i if self._top_row(i) is not None else None
        return None

    def get(self, mention_id: str) -> Mention | None:
        if self._unplaced is not None and self._top_index(mention_id) is not None:
            return self._early[mention_id]
        entry = self._by_id.get(mention_id)
        if isinstance(entry, tuple):
            self._take([mention_id])
            entry = self._by_id.get(mention_id)
        return None if isinstance(entry, tuple) else entry  # _take leaves none pending

    def _take(self, ids: list[str]) -> None:
        """Fetch these pending rows' mentions from the store and put them in their place (their
        state may have moved on since the rows were read: keep the order right). A row the
        store no longer has (erased meanwhile) leaves the queue."""
        by_id = self._by_id
        fetched = self._fetch(ids) if self._fetch is not None and ids else []
        for m in fetched:
            pending = by_id.get(m.id)
            if not isinstance(pending, tuple):
                continue
            by_id[m.id] = m
            old_status = self._pending_status.pop(m.id, Status.NEW)
            self.new_count += (m.status == Status.NEW) - (old_status == Status.NEW)
            self._rekey((pending[0], m.id), sort_key(m))
        for mention_id in ids:
            pending = by_id.get(mention_id)
            if isinstance(pending, tuple):  # not in the store any more
                del by_id[mention_id]
                self.new_count -= self._pending_status.pop(mention_id, Status.NEW) == Status.NEW
                key = (pending[0], mention_id)
                i = bisect.bisect_left(self._keys, key)
                if i < len(self._keys) and self._keys[i] == key:
                    del self._keys[i]

    def with_status(self, status: str) -> list[Mention]:
        """Every mention with this status (fetching those not fetched yet); for rare statuses
        such as "snoozed", checked once a minute."""
        self._take([i for i, s in self._pending_status.items() if s == status])
        return [m for m in self._by_id.values() if not isinstance(m, tuple) and m.status == status]

    def read_all(self) -> None:
        """Fetch every row not fetched yet (a filter looks at every mention)."""
        self._take([i for i, e in self._by_id.items() if type(e) is tuple])

    def _rekey(self, old_key: SortKey, new_key: SortKey) -> None:
        if new_key != old_key:
            i = bisect.bisect_left(self._keys, old_key)
            if i < len(self._keys) and self._keys[i] == old_key:
                del self._keys[i]
            bisect.insort(self._keys, new_key)

    def find(self, short: str) -> str | None:
        """The id an alert's short id (its first characters, at least 4) stands for; None when
        no mention, or more than one, has it."""
        if short in self._by_id:
            return short
        if len(short) < 4:
            return None
        found = [k for k in self._by_id if k.startswith(short)]
        return found[0] if len(found) == 1 else None

    def index_of(self, mention_id: str) -> int | None:
        """The visible position of a mention, or None (unknown or filtered out)."""
        if self._unplaced is not None and self._visible is None and (i := self._top_index(mention_id)) is not None:
            return i
        m = self._by_id.get(mention_id)
        if m is None:
            return None
        if self._visible is not None:
            try:
                # A Pending entry (not loaded yet) is in no filtered list.
                return None if isinstance(m, tuple) else self._visible.index(m)
            except ValueError:
                return None
        key = (m[0], mention_id) if isinstance(m, tuple) else sort_key(m)
        i = bisect.bisect_left(self._keys, key)
        return i if i < len(self._keys) and self._keys[i] == key else None

    # --- changing --------------------------------------------------------------------

    def extend(self, mentions: Iterable[Mention]) -> list[Mention]:
        """Add mentions (ignoring known ids); returns the added ones."""
        mentions = list(mentions)
        if not mentions:
            return []  # nothing to add: a deferred order stays deferred
        by_id, added = self._by_id, []
        for m in mentions:
            if m.id not in by_id:
                by_id[m.id] = m
                added.append(m)
                if m.parent:
                    self.replies.setdefault(m.parent, []).append(m.id)
        self.new_count += sum(m.status == Status.NEW for m in added)
        if len(added) > 64:
            self._keys += map(sort_key, added)
            self._keys.sort()
        else:
            for m in added:
                bisect.insort(self._keys, sort_key(m))
        if added and self._filter is not None:
            self._refilter()
        return added

    def update(self, mention_id: str, apply: Change) -> Mention | None:
        """Change a mention in place through `apply(m)`, keeping the order right."""
        m = self.get(mention_id)
        if m is None:
            return None
        old_key, was_new = sort_key(m), m.status == Status.NEW
        apply(m)
        self.new_count += (m.status == Status.NEW) - was_new
        self._rekey(old_key, sort_key(m))
        if self._filter is not None:
            self._refilter()
        return m

    def refresh(self, mentions: Iterable[Mention]) -> int:
        """Take up mentions rewritten in place (retention, an erasure): each one this queue has
        read gets their content and state, in the same object (a screen that holds it shows the
        new text); one not read yet is fetched fresh when it is. Returns how many changed."""
        changed = 0
        for new in mentions:
            m = self._by_id.get(new.id)
            if m is None or isinstance(m, tuple):
                continue
            old_key, was_new = sort_key(m), m.status == Status.NEW
            for name in Mention.__slots__:
                setattr(m, name, getattr(new, name))
            self.new_count += (m.status == Status.NEW) - was_new
            self._rekey(old_key, sort_key(m))
            changed += 1
        if changed and self._filter is not None:
            self._refilter()
        return changed

    def set_filter(self, query: str, now: datetime) -> None:
        self._filter = MentionFilter(query) if query.strip() else None
        self._now = now
        self._refilter()

    @property
    def filter_query(self) -> str:
        return self._filter.query if self._filter else ""

    def _refilter(self) -> None:
        if self._filter is None:
            self._visible = None
            return
        self.read_all()  # so every entry is a Mention now
        f, now, by_id = self._filter, self._now, self._by_id
        assert now is not None  # set_filter sets both
        self._visible = [m for k in self._keys if not isinstance(m := by_id[k[1]], tuple) and f.accepts(m, now)]

    # --- counting --------------------------------------------------------------------

    def owed_ids_since(self, since: datetime) -> list[str]:
        """Ids of owed mentions placed by `since`, without reading them: the urgent block, those
        due from a minute before `since` on, and those without a norm first seen from `since` on
        (the blocks of the order above). For a crisis: what is open now and came in for it."""
        keys, since_s = self._keys, since.timestamp()
        end_urgent = bisect.bisect_left(keys, (0.0, ""))
        start = bisect.bisect_left(keys, (since_s - 60.0, ""), end_urgent)
        end_no_norm = bisect.bisect_right(keys, (NO_NORM_BASE - since_s, "\U0010ffff"))
        # The deadlines from `since` and the newest no-norm ones are one run of the order.
        return [k[1] for k in keys[:end_urgent]] + [k[1] for k in keys[start:end_no_norm]]

    def counts(self, now: datetime, max_norm: timedelta) -> dict[Urgency, int]:
        """How many owed mentions are overdue and due soon, without looking at all of them:
        owed mentions with a deadline are the first block of the order, sorted by deadline."""
        now_s = now.timestamp()
        if self._unplaced is not None:
            return self._counts_unplaced(now_s, max_norm)
        keys, by_id = self._keys, self._by_id
        end_urgent = bisect.bisect_left(keys, (0.0, ""))  # block 0: few, so looked at one by one
        overdue = due_soon = 0
        for i in range(end_urgent):
            at, mention_id = keys[i]
            entry = by_id[mention_id]
            norm_s = entry[1] if isinstance(entry, tuple) else entry.norm_s
            if norm_s is None:
                continue
            left = at + URGENT_SHIFT - now_s
            if left < 0:
                overdue += 1
            elif left <= norm_s / 4:
                due_soon += 1
        end_owed = bisect.bisect_left(keys, END_OF_DEADLINES)
        first_due = bisect.bisect_left(keys, (now_s, ""), end_urgent, end_owed)
        overdue += first_due - end_urgent
        # Due soon: in the last quarter of its own norm (norms.urgency), for those not overdue.
        # Only those due within a quarter of the longest norm can be; this is looked at on
        # every header update (tens of thousands at 100,000 stored), so in comprehensions.
        horizon = now_s + max_norm.total_seconds() / 4
        stop = bisect.bisect_right(keys, horizon, first_due, end_owed, key=_rank_of)
        norms = [
            e[1] if isinstance(e, tuple) else e.norm_s
            for e in map(by_id.__getitem__, [k[1] for k in keys[first_due:stop]])
        ]
        due_soon += sum(
            [n is not None and k[0] - now_s <= n / 4 for k, n in zip(keys[first_due:stop], norms)]
        )
        return {Urgency.OVERDUE: overdue, Urgency.DUE_SOON: due_soon}

    def _counts_unplaced(self, now_s: float, max_norm: timedelta) -> dict[Urgency, int]:
        """counts() of a deferred order, from the rows' columns: the same blocks of the rank
        axis (urgent below 0, deadlines below END_OF_DEADLINES) and the same arithmetic."""
        overdue = due_soon = 0
        horizon = now_s + max_norm.total_seconds() / 4
        end = END_OF_DEADLINES[0]
        for ranks, _, norms, low, high in self._unplaced or ():
            # Whole blocks at once where their lowest and highest rank allow (most of them).
            below_zero = 0
            if low < 0.0:  # urgent, block 0: few
                below_zero = sum(map((0.0).__gt__, ranks))
                for at, norm_s in zip(ranks, norms):
                    if at < 0.0 and norm_s is not None:
                        left = at + URGENT_SHIFT - now_s
                        if left < 0:
                            overdue += 1
                        elif left <= norm_s / 4:
                            due_soon += 1
            if high < now_s:
                overdue += len(ranks) - below_zero
            elif low < now_s:
                overdue += sum(map(now_s.__gt__, ranks)) - below_zero
            if high >= now_s and low <= horizon and low < end:
                due_soon += sum([
                    n is not None and r - now_s <= n / 4
                    for r, n in zip(ranks, norms)
                    if now_s <= r <= horizon and r < end
                ])
        return {Urgency.OVERDUE: overdue, Urgency.DUE_SOON: due_soon}
