"""The desk's queue: every mention in the order the person on duty should see them.

Order: mentions that owe a reply, by deadline (so the overdue ones come first, the longest
overdue on top); then those that owe a reply but have no norm (news), newest first; then the
handled ones, newest first. This order does not depend on the time of day — an item turning
overdue stays where it is — so the queue is sorted once and kept sorted by insertion, and a
key press or a countdown tick never re-sorts 100,000 mentions.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from webcare.channels import ALIASES
from webcare.mention import OWED, Mention
from webcare.norms import Urgency
from webcare.watch import fold

# A key is (rank, id): the rank puts the three blocks one after the other on one float axis, so
# 100,000 keys sort and bisect as fast as floats do. Block 1: owed with a deadline, ranked by the
# deadline's timestamp (≈1.8e9 now); block 2: owed without a norm, newest first (1e10 minus the
# first-seen time); block 3: handled, newest first (2e10 minus it).
SortKey = tuple[float, str]
NO_NORM_BASE = 1e10
HANDLED_BASE = 2e10
END_OF_DEADLINES = (5e9, "")  # sorts after every deadline and before every other block

# A mention the queue knows the place of but has not read yet, straight from the store's index:
# (id, segment, deadline_s, first_seen_s, norm_s, status). A desk with 100,000 stored mentions
# starts from these (plain tuples: a tenth of the cost of objects) and reads a segment of real
# mentions only when one of them is shown, filtered or changed.
Pending = tuple
P_ID, P_SEGMENT, P_DEADLINE, P_FIRST_SEEN, P_NORM, P_STATUS = range(6)


def rank(owed: bool, deadline_s: float | None, first_seen_s: float) -> float:
    if owed and deadline_s is not None:
        return deadline_s
    return (NO_NORM_BASE if owed else HANDLED_BASE) - first_seen_s


def sort_key(m: Mention | Pending) -> SortKey:
    if isinstance(m, tuple):
        return (rank(m[P_STATUS] in OWED, m[P_DEADLINE], m[P_FIRST_SEEN]), m[P_ID])
    deadline_s = None if m.deadline is None else m.deadline.timestamp()
    return (rank(m.owed, deadline_s, m.first_seen_at.timestamp()), m.id)


def _status(entry: Mention | Pending) -> str:
    return entry[P_STATUS] if isinstance(entry, tuple) else entry.status


_FIELDS = ("channel", "status", "source", "urgency", "author", "keyword")


class MentionFilter:
    """A filter typed after `/`: words that must all occur (in author, title or text) and
    field:value terms (channel:x status:new source:demo urgency:overdue author:… keyword:…)."""

    def __init__(self, query: str) -> None:
        self.query = query.strip()
        self.words: list[str] = []
        self.fields: dict[str, str] = {}
        for term in self.query.split():
            name, sep, value = term.partition(":")
            if sep and name.lower() in _FIELDS and value:
                value = fold(value)
                self.fields[name.lower()] = ALIASES.get(value, value) if name.lower() == "channel" else value
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
        if "urgency" in f and not m.urgency(now).name.lower().replace("_", "-").startswith(f["urgency"].replace("_", "-")):
            return False
        if self.words:
            hay = fold(f"{m.author} {m.author_name} {m.title} {m.text}")
            return all(w in hay for w in self.words)
        return True


class MentionQueue:
    """The sorted mentions, with an optional filter giving the visible subset."""

    def __init__(
        self,
        mentions: Iterable[Mention] = (),
        *,
        pending: Iterable[Pending] = (),
        loader: Callable[[int], list[Mention]] | None = None,
    ) -> None:
        self._by_id: dict[str, Mention | Pending] = {}
        self._loader = loader  # reads one segment's mentions, for the Pending ones
        self._unread: set[int] = set()  # segments with Pending entries
        self._keys: list[SortKey] = []
        self._filter: MentionFilter | None = None
        self._visible: list[Mention] | None = None  # None: no filter, everything is visible
        self._now: datetime | None = None
        self.new_count = 0  # mentions with status "new", kept up to date on every change
        self._place(pending)
        self.extend(mentions)

    def _place(self, rows: Iterable[Pending]) -> None:
        """Place a store index's rows: sort_key and extend() inlined, as this runs once per
        stored mention when a desk starts."""
        by_id, keys, unread, new = self._by_id, self._keys, self._unread, 0
        for row in rows:
            mention_id, segment, deadline_s, first_seen_s, _, status = row
            if mention_id in by_id:
                continue
            by_id[mention_id] = row
            unread.add(segment)
            owed = status in OWED
            if owed and deadline_s is not None:
                keys.append((deadline_s, mention_id))
            else:
                keys.append(((NO_NORM_BASE if owed else HANDLED_BASE) - first_seen_s, mention_id))
            new += status == "new"
        keys.sort()
        self.new_count += new

    # --- reading ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys) if self._visible is None else len(self._visible)

    @property
    def total(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> Mention:
        if self._visible is not None:
            return self._visible[index]
        entry = self._by_id[self._keys[index][1]]
        if isinstance(entry, tuple):
            self._read_segment(entry[P_SEGMENT])  # may reorder: what stood here may have moved
            entry = self._by_id[self._keys[index][1]]
        return self._read(entry)

    def __iter__(self) -> Iterator[Mention]:
        for i in range(len(self)):
            yield self[i]

    def get(self, mention_id: str) -> Mention | None:
        entry = self._by_id.get(mention_id)
        return None if entry is None else self._read(entry)

    # --- reading what is still pending ------------------------------------------------

    def _read(self, entry: Mention | Pending) -> Mention:
        if isinstance(entry, tuple):
            self._read_segment(entry[P_SEGMENT])
            found = self._by_id[entry[P_ID]]
            if isinstance(found, tuple):
                raise LookupError(f"mention {entry[P_ID]} is no longer in segment {entry[P_SEGMENT]}")
            return found
        return entry

    def _read_segment(self, segment: int) -> None:
        """Replace a segment's Pending entries with the real mentions (their state may have
        moved on since the index was read: keep the order right)."""
        if segment not in self._unread or self._loader is None:
            return
        self._unread.discard(segment)
        for m in self._loader(segment):
            old = self._by_id.get(m.id)
            if not isinstance(old, tuple):
                continue
            self._by_id[m.id] = m
            self._move(old, m, sort_key(old))

    def read_all(self) -> None:
        """Read every pending segment (a filter looks at every mention)."""
        for segment in sorted(self._unread):
            self._read_segment(segment)

    def _move(self, old: Mention | Pending, new: Mention, old_key: SortKey) -> None:
        self.new_count += (new.status == "new") - (_status(old) == "new")
        new_key = sort_key(new)
        if new_key != old_key:
            i = bisect.bisect_left(self._keys, old_key)
            if i < len(self._keys) and self._keys[i] == old_key:
                del self._keys[i]
            bisect.insort(self._keys, new_key)

    def index_of(self, mention_id: str) -> int | None:
        """The visible position of a mention, or None (unknown or filtered out)."""
        m = self._by_id.get(mention_id)
        if m is None:
            return None
        if self._visible is not None:
            try:
                return self._visible.index(m)
            except ValueError:
                return None
        key = sort_key(m)
        i = bisect.bisect_left(self._keys, key)
        return i if i < len(self._keys) and self._keys[i] == key else None

    # --- changing --------------------------------------------------------------------

    def extend(self, mentions: Iterable[Mention | Pending]) -> list[Mention | Pending]:
        """Add mentions (ignoring known ids); returns the added ones."""
        by_id, added = self._by_id, []
        for m in mentions:
            mention_id = m[P_ID] if isinstance(m, tuple) else m.id
            if mention_id not in by_id:
                by_id[mention_id] = m
                added.append(m)
        self._unread.update(m[P_SEGMENT] for m in added if isinstance(m, tuple))
        self.new_count += sum(_status(m) == "new" for m in added)
        if len(added) > 64:
            self._keys += map(sort_key, added)
            self._keys.sort()
        else:
            for m in added:
                bisect.insort(self._keys, sort_key(m))
        if added and self._filter is not None:
            self._refilter()
        return added

    def update(self, mention_id: str, apply) -> Mention | None:
        """Change a mention in place through `apply(m)`, keeping the order right."""
        m = self.get(mention_id)
        if m is None:
            return None
        old_key, was_new = sort_key(m), m.status == "new"
        apply(m)
        self.new_count -= was_new
        self.new_count += m.status == "new"
        new_key = sort_key(m)
        if new_key != old_key:
            i = bisect.bisect_left(self._keys, old_key)
            if i < len(self._keys) and self._keys[i] == old_key:
                del self._keys[i]
            bisect.insort(self._keys, new_key)
        if self._filter is not None:
            self._refilter()
        return m

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
        self.read_all()
        f, now = self._filter, self._now
        self._visible = [m for k in self._keys if f.accepts(m := self._by_id[k[1]], now)]

    # --- counting --------------------------------------------------------------------

    def counts(self, now: datetime, max_norm: timedelta) -> dict[Urgency, int]:
        """How many owed mentions are overdue and due soon, without looking at all of them:
        owed mentions with a deadline are the first block of the order, sorted by deadline."""
        now_s = now.timestamp()
        end_owed = bisect.bisect_left(self._keys, END_OF_DEADLINES)
        overdue = bisect.bisect_left(self._keys, (now_s, ""), 0, end_owed)
        # Due soon: in the last quarter of its own norm (norms.urgency), for those not overdue.
        due_soon = 0
        horizon = now_s + max_norm.total_seconds() / 4
        keys, by_id = self._keys, self._by_id
        for i in range(overdue, end_owed):
            deadline_s, mention_id = keys[i]
            if deadline_s > horizon:
                break
            entry = by_id[mention_id]
            norm_s = entry[P_NORM] if isinstance(entry, tuple) else entry.norm_s
            if norm_s is not None and deadline_s - now_s <= norm_s / 4:
                due_soon += 1
        return {Urgency.OVERDUE: overdue, Urgency.DUE_SOON: due_soon}
