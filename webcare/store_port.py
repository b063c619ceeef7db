"""What the desk needs from a store: the port every store implements (store/ is the TinyDB one).

The domain and the desk speak to a store only through these protocols, so another store (a
database shared by several servers) can stand in without the domain changing. What a store
holds, grouped as the desk uses it:

- the mentions: the queue's columns for every stored mention (`rows`, compact, no Mention
  built), full mentions by id (`mentions`, `get`), those first seen since a moment
  (`mentions_since`, the dashboard), all of them (`every_mention`, the handover), `add`
  (duplicates by id ignored), a state change that may name the version it expects
  (`update_state`: a conflict is reported with VersionConflict, never overwritten), and what
  other processes did since this handle last looked (`changes`: the handle's cursor starts at
  `rows()` and moves with every call);
- the stored content records a block at a time, newest first (`content_blocks`: what the
  collector's intake, the alerts and the trend book read back, without building mentions);
- the plan, the drafts, the shift notes, the crisis log and the experts' hand-offs (`plan`,
  `drafts`, `notes`, `crisis`, `handoffs`), and each desk's presence (`presence(operator)`);
- the alerts' once-only marks and the ambassadors' digest marks (`alert_marks`, `digests`);
- the sources' checkpoints, the collector's health and heartbeat, the collector lease, and
  which collector collects which source (`source_leases`: several collectors on one store).

A state's version is the number of changes made to it (the length of its history): a desk
that read version 3 and writes "expecting 3" loses nothing another desk wrote as version 4.

The tests in tests/test_store_contract.py hold every implementation to this.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # for the annotations only: a desk's start imports no more than it paints
    from webcare.answers import SentHandoff
    from webcare.drafts import Draft
    from webcare.handover import Note
    from webcare.mention import Mention
    from webcare.planning import Changes, PlanItem


class VersionConflict(Exception):
    """A state change expected a version the mention's state no longer has: someone else
    changed it meanwhile. Nothing was written."""

    def __init__(self, mention_id: str, expected: int, actual: int) -> None:
        super().__init__(f"mention {mention_id}: expected version {expected}, found {actual}")
        self.mention_id, self.expected, self.actual = mention_id, expected, actual


@dataclass(slots=True)
class Rows:
    """A block of stored mentions as the queue's columns (one entry per mention, same order in
    every list): what sorts, counts and threads the stream without reading any mention.
    Columns, not objects: a desk with 100,000 stored mentions builds its queue from these with
    whole-column operations. Values are as stored; the queue decides the order from them."""

    ids: list[str]
    deadlines: list[float | None]  # timestamps
    first_seen: list[float]  # timestamps
    norms: list[int | None]  # seconds
    reach: list[int | None]  # the author's followers, when known
    priorities: dict[str, str] = field(default_factory=dict)  # id → priority where not "normal"
    statuses: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id → (status, owes a reply) where not plain "new"
    parents: dict[str, str] = field(default_factory=dict)  # reply id → the post it answers


@dataclass
class StoreChanges:
    """What changed since a handle last looked: new mentions, changed states, new health."""

    new: list[Mention] = field(default_factory=list)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → its whole new state
    health: dict[str, Any] | None = None
    # Mentions rewritten in place (retention, an erasure): their content changed, so a desk
    # replaces what it shows of them.
    rewritten: list[Mention] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.states or self.health is not None or self.rewritten)


@dataclass(frozen=True, slots=True)
class Desk:
    """Another open desk, as its presence says."""

    operator: str
    viewing: str | None  # the mention it shows
    claim: str | None  # the mention its operator is replying to
    claim_since: datetime | None
    seen_at: datetime
    desk: str  # which desk: one operator may have two open


@dataclass(frozen=True, slots=True)
class CrisisEntry:
    at: datetime
    who: str
    kind: str  # start | decision | end
    text: str


class PlanBook(Protocol):
    """The content plan (webcare.planning's items)."""

    def all(self) -> list[PlanItem]: ...
    def get(self, item_id: str) -> PlanItem | None: ...
    def changed(self) -> bool: ...
    def add(self, item: PlanItem) -> PlanItem: ...
    def add_many(self, items: Iterable[PlanItem]) -> list[PlanItem]: ...
    def update(self, item_id: str, changes: Mapping[str, Any], at: datetime | None = None,
               expect: Mapping[str, Any] | None = None) -> PlanItem | None: ...
    def update_many(self, changes: Iterable[Changes], at: datetime | None = None) -> list[PlanItem]: ...
    def delete(self, item_id: str) -> PlanItem: ...
    def restore(self, item: PlanItem) -> PlanItem: ...


class DraftBook(Protocol):
    """Unsent replies, one per mention, shared by every desk."""

    def all(self) -> dict[str, Draft]: ...
    def get(self, mention_id: str) -> Draft | None: ...
    def save(self, draft: Draft) -> None: ...
    def remove(self, *mention_ids: str) -> None: ...
    def apply(self, changes: Mapping[str, Draft | None]) -> None: ...


class NoteJournal(Protocol):
    """The notes for the next shift: appended, never changed by the desk."""

    def add(self, note: Note) -> None: ...
    def all(self) -> list[Note]: ...
    def since(self, moment: datetime) -> list[Note]: ...


class CrisisJournal(Protocol):
    """The crisis log: start, decisions, end, appended by every desk."""

    def entries(self) -> list[CrisisEntry]: ...
    def add(self, at: datetime, who: str, kind: str, text: str = "") -> None: ...
    def current(self, entries: list[CrisisEntry] | None = None) -> list[CrisisEntry]: ...
    def signature(self) -> Any: ...  # changes whenever the log does (compare, don't read)


class HandoffBook(Protocol):
    """The questions and feedback e-mailed to experts, each with the key its answer carries."""

    def record(self, mention_id: str, *, kind: str, to: str, name: str, at: datetime,
               deputy_for: str = "") -> str: ...
    def of(self, mention_id: str) -> list[SentHandoff]: ...
    def answered(self, mention_id: str, key: str, at: datetime, ref: str = "") -> None: ...


class AlertMarkBook(Protocol):
    """Alerts' once-only marks: each event goes out once however many processes run, and each
    target takes at most its limit per window (the rest is counted for one summary later)."""

    def claim(self, event: str, kind: str, limits: Sequence[tuple[str, int]], now: datetime) -> list[str]: ...
    def take_summaries(self, limits: Sequence[tuple[str, int]], now: datetime) -> list[tuple[str, dict[str, int]]]: ...


class DigestBook(Protocol):
    """Which ambassadors got which day's digest; `sending` is held by the one process sending."""

    def sending(self) -> AbstractContextManager[bool]: ...
    def read(self) -> dict[str, Any]: ...  # {day ISO: {"sent": {address: ISO}, "error": …, "error_at": …}}
    def sent(self, day: date) -> set[str]: ...
    def failed_at(self, day: date) -> datetime | None: ...
    def mark(self, day: date, at: datetime, *, sent: str = "", error: str = "") -> None: ...


# A source's lease: how long it lasts unless renewed, and how often its holder renews it. A
# collector that dies stops renewing, so its sources are free for another at most SOURCE_LEASE
# seconds after its last renewal; three renewals fit in one lease, so a slow database or a busy
# moment does not cost a healthy collector its sources.
SOURCE_LEASE = 15.0
SOURCE_RENEW = 5.0


class SourceLeases(Protocol):
    """One collector's leases on the sources it collects: each source is collected by one
    collector at a time. `hold` renews what this collector holds and takes the sources among
    `names` that are free or whose lease ran out; it returns the ones it holds now (a source
    missing from it is another collector's: stop collecting it). `release` lets go of every one
    on a clean stop, so another collector takes them at its next look instead of after the
    lease. `now` is the caller's clock; a store shared by several servers goes by its own clock
    instead (the database's), so collectors whose clocks differ still agree on when a lease
    ends. `free_in` is, after a `hold`, the seconds until the first lease another collector
    holds on one of `names` runs out (None: none): a collector looks again then, so the
    sources of one that died are taken when its leases end, not a renewal later."""

    @property
    def collector(self) -> str: ...  # who holds them: what the health and the database show
    @property
    def lease(self) -> float: ...  # seconds a lease lasts unless renewed (SOURCE_LEASE)
    @property
    def free_in(self) -> float | None: ...
    def hold(self, names: Iterable[str], now: datetime) -> set[str]: ...
    def release(self) -> None: ...


@runtime_checkable
class LiveStore(Protocol):
    """A store that says when another process wrote (PostgreSQL's NOTIFY), so a desk looks at
    its changes when told instead of polling. `reconnected_at` moves when the listening
    connection was made again (after a failover: something may have changed meanwhile)."""

    reconnected_at: datetime | None

    def wait_for_change(self, timeout: float) -> bool: ...


class PresenceBoard(Protocol):
    """One desk's presence: what it shows and replies to, and the other desks'."""

    def publish(self, now: datetime, viewing: str | None, claim: str | None,
                claim_since: datetime | None) -> None: ...
    def leave(self) -> None: ...
    def others(self, now: datetime) -> list[Desk]: ...


@runtime_checkable
class MentionStore(Protocol):
    """One process's handle on a store (see the module docstring)."""

    @property
    def plan(self) -> PlanBook: ...
    @property
    def drafts(self) -> DraftBook: ...
    @property
    def notes(self) -> NoteJournal: ...
    @property
    def crisis(self) -> CrisisJournal: ...
    @property
    def handoffs(self) -> HandoffBook: ...
    @property
    def alert_marks(self) -> AlertMarkBook: ...
    @property
    def digests(self) -> DigestBook: ...
    def presence(self, operator: str) -> PresenceBoard: ...

    # mentions
    def rows(self) -> list[Rows]: ...
    def mentions(self, ids: Iterable[str]) -> list[Mention]: ...
    def mentions_since(self, moment: datetime) -> list[Mention]: ...
    def every_mention(self) -> Iterator[Mention]: ...
    def content_blocks(self) -> Iterator[list[dict[str, Any]]]: ...  # shared: read, never change
    def get(self, mention_id: str) -> Mention | None: ...
    def add(self, mentions: Iterable[Mention]) -> list[Mention]: ...
    def update_state(self, mention_id: str, changes: dict[str, Any], action: str, operator: str,
                     at: datetime | None = None, expect: dict[str, Any] | None = None,
                     version: int | None = None) -> dict[str, Any] | None: ...
    def changes(self) -> StoreChanges: ...
    def __contains__(self, mention_id: str) -> bool: ...
    def __len__(self) -> int: ...

    # the collector's side
    def read_checkpoint(self, source: str) -> dict[str, Any] | None: ...
    def write_checkpoint(self, source: str, state: dict[str, Any], scrubs: int | None = None) -> bool: ...
    def checkpoint_scrubs(self) -> int: ...
    def read_health(self) -> dict[str, Any]: ...
    def write_health(self, health: dict[str, Any]) -> None: ...
    def record_housekeeping(self, record: dict[str, Any]) -> dict[str, Any]: ...
    def try_collector_lease(self) -> bool: ...
    def release_collector_lease(self) -> None: ...
    def source_leases(self, collector: str) -> SourceLeases: ...
    def close(self) -> None: ...
