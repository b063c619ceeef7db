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

SortKey = tuple[int, float, str]


class Pending:
    """A mention the queue knows the place of but has not read yet (from the store's index).

    A desk with 100,000 stored mentions starts from these and reads a segment of real mentions
    only when one of them is shown, filtered or changed."""

    __slots__ = ("id", "segment", "deadline_s", "first_seen_s", "norm_s", "status")

    def __init__(self, id: str, segment: int, deadline_s: float | None, first_seen_s: float,
                 norm_s: int | None, status: str) -> None:
        self.id, self.segment, self.deadline_s = id, segment, deadline_s
        self.first_seen_s, self.norm_s, self.status = first_seen_s, norm_s, status

    @property
    def owed(self) -> bool:
        return self.status in OWED
_FIELDS = ("channel", "status", "source", "urgency", "author", "keyword")


def sort_key(m: Mention | Pending) -> SortKey:
    if isinstance(m, Pending):
        deadline_s, first_seen_s = m.deadline_s, m.first_seen_s
    else:
        deadline_s = None if m.deadline is None else m.deadline.timestamp()
        first_seen_s = m.first_seen_at.timestamp()
    if m.owed and deadline_s is not None:
        return (0, deadline_s, m.id)
    if m.owed:
        return (1, -first_seen_s, m.id)
    return (2, -first_seen_s, m.id)


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
        self.extend(pending)
        self.extend(mentions)

    # --- reading ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys) if self._visible is None else len(self._visible)

    @property
    def total(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> Mention:
        if self._visible is not None:
            return self._visible[index]
        entry = self._by_id[self._keys[index][2]]
        if isinstance(entry, Pending):
            self._read_segment(entry.segment)  # may reorder: what stood here may have moved
            entry = self._by_id[self._keys[index][2]]
        return self._read(entry)

    def __iter__(self) -> Iterator[Mention]:
        for i in range(len(self)):
            yield self[i]

    def get(self, mention_id: str) -> Mention | None:
        entry = self._by_id.get(mention_id)
        return None if entry is None else self._read(entry)

    # --- reading what is still pending ------------------------------------------------

    def _read(self, entry: Mention | Pending) -> Mention:
        if isinstance(entry, Pending):
            self._read_segment(entry.segment)
            found = self._by_id[entry.id]
            if isinstance(found, Pending):  # gone from its segment: show what the index knew
                raise LookupError(f"mention {entry.id} is no longer in segment {entry.segment}")
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
            if not isinstance(old, Pending):
                continue
            self._by_id[m.id] = m
            self._move(old, m, sort_key(old))

    def read_all(self) -> None:
        """Read every pending segment (a filter looks at every mention)."""
        for segment in sorted(self._unread):
            self._read_segment(segment)

    def _move(self, old: Mention | Pending, new: Mention, old_key: SortKey) -> None:
        self.new_count += (new.status == "new") - (old.status == "new")
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
            if m.id not in by_id:
                by_id[m.id] = m
                added.append(m)
                if isinstance(m, Pending):
                    self._unread.add(m.segment)
        self.new_count += sum(m.status == "new" for m in added)
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
        self._visible = [m for k in self._keys if f.accepts(m := self._by_id[k[2]], now)]

    # --- counting --------------------------------------------------------------------

    def counts(self, now: datetime, max_norm: timedelta) -> dict[Urgency, int]:
        """How many owed mentions are overdue and due soon, without looking at all of them:
        owed mentions with a deadline are the first block of the order, sorted by deadline."""
        end_owed = bisect.bisect_left(self._keys, (1, float("-inf"), ""))
        overdue = bisect.bisect_left(self._keys, (0, now.timestamp(), ""), 0, end_owed)
        # Due soon: in the last quarter of its own norm (norms.urgency), for those not overdue.
        due_soon = 0
        now_s = now.timestamp()
        horizon = now_s + max_norm.total_seconds() / 4
        keys, by_id = self._keys, self._by_id
        for i in range(overdue, end_owed):
            _, deadline_s, mention_id = keys[i]
            if deadline_s > horizon:
                break
            norm_s = by_id[mention_id].norm_s
            if norm_s is not None and deadline_s - now_s <= norm_s / 4:
                due_soon += 1
        return {Urgency.OVERDUE: overdue, Urgency.DUE_SOON: due_soon}
