"""What every source is, and what some sources can do beyond fetching.

A source only fetches and converts. Cleaning untrusted text, the keyword filter, the deadline
and dedup happen once, in the poller, for every source alike.

`Source` is the base class of every source type: a name, an interval, an async `fetch` that
returns raw items, and no-op defaults for what the poller reads of every source (`pause_s`,
`warning`, `token_expires`). What only some sources can do is a capability class a source
type subclasses on purpose, and the poller, sources.replies, sources.moderation and the desk
find it with `isinstance`:

    Checkpoints      where the source is, saved and given back over a restart; rewound when
                     what a fetch brought could not be stored
    LiveConnection   a connection that brings posts as they happen (Mastodon streaming, IMAP IDLE)
    Replies          posts a reply on the platform (a reply post, a reply e-mail)
    Moderation       carries out moderation on the platform (hide, remove, delete …)

Two shapes of checkpoint several sources share are written once here: `Watermarks` (times read
up to, and the newest ids delivered: Facebook, Instagram, LinkedIn) and `RecentIds` (per target,
the newest ids delivered, paged back to: Reddit, YouTube).
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeGuard, TypeVar

if TYPE_CHECKING:  # the desk imports this module at start; httpx only when it polls
    from collections.abc import AsyncGenerator
    from datetime import date

    import httpx

    from webcare.config import Config, SourceConfig
    from webcare.mention import Mention

from webcare.intake import Item

__all__ = [
    "Checkpoints",
    "Item",
    "LiveConnection",
    "Moderation",
    "OptionError",
    "RecentIds",
    "Replies",
    "Source",
    "SourceError",
    "Watermarks",
]


class SourceError(Exception):
    """A fetch failed in a way worth showing to the person on duty.

    `retry_after` (seconds) is set when the server said when to come back (429/503 Retry-After).
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OptionError(ValueError):
    """A bad key in a [[sources]] entry; the message names the key."""


class Source(ABC):
    """The base of every source type: what the poller drives. Subclasses set `name` and
    `interval` and write `fetch`; the rest has defaults that mean "nothing to say"."""

    type: ClassVar[str] = ""
    # The frozen dataclass of the type's [[sources]] keys (sources/options.py): `from_config`
    # reads it, `webcare check` and the docs' key tables list it.
    options_class: ClassVar[builtins.type | None] = None

    name: str = ""
    interval: float = 300.0  # seconds between the end of one fetch and the start of the next
    keyword_filter: bool = True  # whether [watch] keywords must match (false for our own mailbox)
    # Set by `fetch` when the platform's quota is spent (sources.http.pause_after): the poller
    # waits that long before the next fetch and shows the source as rate-limited.
    pause_s: float | None = None
    # What a fetch that succeeded could not do (follows that failed): the header shows it.
    warning: str = ""
    # When the token stops working (LinkedIn's 60 days): every desk's header says so ahead.
    token_expires: date | None = None
    token_label: ClassVar[str] = ""  # how the header names that token; the source's name when ""

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> Self:
        """The source an entry describes: its keys read with sources.options.read(cls.options_class,
        sc), then what the keys mean together checked; raises OptionError naming the key."""
        raise NotImplementedError(f"{cls.__name__} is not configured from config.toml")

    @abstractmethod
    async def fetch(self, client: httpx.AsyncClient) -> list[Item]:
        """Fetch what is new. Raise SourceError (or any exception) on failure."""


class Checkpoints(ABC):
    """Where the source is (since_id, cursors, UIDVALIDITY and the last UID, ETags), as plain
    JSON. The poller saves a checkpoint after what a fetch brought is stored, and gives it back
    to `resume` when the collector starts again, so a restart does not lose what came in while
    it was down (beyond the first poll's backlog). A checkpoint names what it is for (the
    server, the query): `resume` ignores one that does not fit the entry as it is configured
    now, or that it cannot read, and starts fresh."""

    @abstractmethod
    def checkpoint(self) -> dict[str, Any]: ...

    @abstractmethod
    def resume(self, state: dict[str, Any]) -> None: ...

    @abstractmethod
    def rewind(self) -> None:
        """Go back to before the last fetch: the poller could not store what it brought, so
        the next fetch must bring it again."""


class LiveConnection(ABC):
    """A connection that brings posts as they happen (Mastodon's streaming API, IMAP IDLE).
    Where `can_live` is true, the poller runs `live` beside the polling loop and stores each
    batch it yields; it yields [] once when connected (the header shows "live"). When it ends
    or fails, the poller reconnects with backoff, and polling goes on meanwhile (a live source
    may poll less often: its `interval` is the catch-up interval)."""

    @property
    @abstractmethod
    def can_live(self) -> bool:
        """Whether this entry, as configured, holds a live connection (a token, stream = true)."""

    @abstractmethod
    def live(self, client: httpx.AsyncClient) -> AsyncGenerator[list[Item]]: ...


class Replies(ABC):
    """A source that can post a reply on its platform. `replies` is the entry's key ("send" |
    "dry-run" | "off"); `can_reply` says whether it can now (not "off", credentials that allow
    posting). `reply` posts `text` as a reply to `mention` and returns the reply's link or id
    for the audit trail; in "dry-run" it builds the request and returns "dry run: " and what it
    would have sent, sending nothing. Raises SourceError."""

    replies: str = "send"

    @property
    @abstractmethod
    def can_reply(self) -> bool: ...

    @abstractmethod
    async def reply(self, client: httpx.AsyncClient, mention: Mention, text: str) -> str: ...


class Moderation(ABC):
    """A source that carries moderation out on its platform. `moderation` lists its actions
    (from "hide", "unhide", "delete", "remove", "approve", "reject", "hold", "publish");
    `moderation_undo` maps an action to the one that undoes it (absent: it cannot be undone).
    `moderate` carries `action` out for the comment or post the mention is and returns a
    one-line text for the audit trail (what the platform answered); raises SourceError
    (expired token, missing permission, not ours). It never asks and never dry-runs: the desk
    confirms first and handles `replies = "dry-run"` itself (sources/moderation.py)."""

    moderation: ClassVar[tuple[str, ...]] = ()
    moderation_undo: ClassVar[dict[str, str]] = {}
    replies: str = "send"  # "dry-run": the desk says what it would do and calls nothing

    @abstractmethod
    async def moderate(self, client: httpx.AsyncClient, mention: Mention, action: str) -> str: ...


class Watermarks(Checkpoints):
    """Reading on from times: per kind of thing read, a watermark (epoch seconds of the newest
    one seen, None before the first poll), and the ids delivered (oldest first), so the overlap
    a watermark reads again is not delivered twice. The checkpoint names what it is for
    (`owner`: the page, the account, the organisation) and keeps the newest `RESUME_KEPT` ids.

    A subclass sets `owner` (the attribute and checkpoint key naming what it reads) and
    `watermarks` (the checkpoint keys of its watermarks), calls `_start_watermarks()` in its
    __init__, reads `self._since[key]` and ends a fetch with `_advance(...)`. Anything else
    it keeps across a restart goes through `_more_state` / `_take_more_state`."""

    RESUME_KEPT: ClassVar[int] = 1000  # the newest ids a checkpoint keeps (the overlap needs far fewer)
    SEEN_KEPT: ClassVar[int] = 20_000  # ids kept in memory to drop the overlap's repeats
    owner: ClassVar[str]
    watermarks: ClassVar[tuple[str, ...]]

    _since: dict[str, float | None]
    _seen: dict[str, None]
    _last: tuple[dict[str, float | None], Any, list[str]]

    def _start_watermarks(self) -> None:
        self._since = dict.fromkeys(self.watermarks)
        self._seen = {}
        self._last = (dict(self._since), self._more_snapshot(), [])

    def _advance(self, since: dict[str, float | None], fresh: dict[str, None]) -> None:
        """A fetch is done: the new watermarks, the ids it delivered (remembered for rewind)."""
        self._last = (dict(self._since), self._more_snapshot(), list(fresh))
        self._since = dict(since)
        self._seen.update(fresh)
        while len(self._seen) > self.SEEN_KEPT:
            del self._seen[next(iter(self._seen))]

    def rewind(self) -> None:
        """Put the watermarks back where they were before the last fetch."""
        since, more, added = self._last
        self._since = dict(since)
        self._take_more_snapshot(more)
        for key in added:
            self._seen.pop(key, None)
        self._last = (dict(self._since), self._more_snapshot(), [])

    def checkpoint(self) -> dict[str, Any]:
        """What is read, the watermarks, the newest ids delivered (and what the subclass
        adds): after a restart the first poll reads on from the watermarks (not just its
        backlog), the overlap without repeats."""
        newest: list[str] = []
        for key in reversed(self._seen):
            if len(newest) == self.RESUME_KEPT:
                break
            newest.append(key)
        return {
            self.owner: self._owner_value(),
            **self._since,
            **self._more_state(),
            "seen": newest,
        }

    def resume(self, state: dict[str, Any]) -> None:
        """Take up a checkpoint of the same owner; anything else (or anything unreadable) is
        ignored: the first poll then reaches back its backlog, as on day one."""
        if not isinstance(state, dict) or state.get(self.owner) != self._owner_value():
            return
        since = {key: state.get(key) for key in self.watermarks}
        seen = state.get("seen")
        if not (
            all(_watermark(value) for value in since.values())
            and isinstance(seen, list)
            and all(isinstance(key, str) and key for key in seen)
            and self._take_more_state(state, check_only=True)
        ):
            return
        self._take_more_state(state, check_only=False)
        self._since = {k: None if v is None else float(v) for k, v in since.items()}
        self._seen = dict.fromkeys(reversed(seen[: self.RESUME_KEPT]))  # oldest first
        self._last = (dict(self._since), self._more_snapshot(), [])

    def _owner_value(self) -> Any:
        return self.__dict__[self.owner]

    # What a subclass keeps besides (Instagram: the media's comment counts).
    def _more_state(self) -> dict[str, Any]:
        return {}

    def _take_more_state(self, state: dict[str, Any], *, check_only: bool) -> bool:
        """Whether `state`'s extra part is readable; takes it up unless `check_only`."""
        return True

    def _more_snapshot(self) -> Any:
        return None

    def _take_more_snapshot(self, snapshot: Any) -> None:
        pass


T = TypeVar("T")


class RecentIds(Generic[T]):
    """What a source keeps that reads each of its targets (a subreddit, a video's comments)
    newest first and pages back until it meets an id it delivered before: every id delivered
    lately (`seen`, oldest first), the targets read before (`started`: paging beyond the first
    page is allowed), and per target the newest ids it delivered (`recent`, newest first),
    which the checkpoint keeps. `deliver` ends a fetch, `rewind` undoes the last one, `newest`
    and `take` carry a target over a restart."""

    def __init__(self, seen_kept: int, resume_kept: int) -> None:
        self.seen: dict[str, None] = {}
        self.started: set[T] = set()
        self.recent: dict[T, list[str]] = {}
        self._seen_kept, self._resume_kept = seen_kept, resume_kept
        # What the last fetch changed, for rewind: the ids it added, the targets it started,
        # and each target's recent ids before it (None: it had none).
        self._last: tuple[list[str], list[T], dict[T, list[str] | None]] = ([], [], {})

    def deliver(self, fresh: dict[str, None], delivered: dict[T, list[str]]) -> None:
        """A fetch is done: `fresh` are the ids it delivered, `delivered` each target it read
        with the ids found there, newest first."""
        started = [t for t in delivered if t not in self.started]
        before: dict[T, list[str] | None] = {}
        self.seen.update(fresh)
        self.started.update(started)
        for target, ids in delivered.items():
            if ids:
                old = before[target] = self.recent.get(target)
                self.recent[target] = list(dict.fromkeys(ids + (old or [])))[: self._resume_kept]
        self._last = (list(fresh), started, before)
        while len(self.seen) > self._seen_kept:
            del self.seen[next(iter(self.seen))]

    def rewind(self) -> None:
        """Forget what the last fetch delivered, so the next one delivers it again."""
        added, started, before = self._last
        for key in added:
            self.seen.pop(key, None)
        self.started.difference_update(started)
        for target, ids in before.items():
            if ids is None:
                self.recent.pop(target, None)
            else:
                self.recent[target] = ids
        self._last = ([], [], {})

    def newest(self, target: T) -> list[str] | None:
        """What a checkpoint keeps of `target`: its newest ids; None when it was never read."""
        return list(self.recent.get(target, ())) if target in self.started else None

    @staticmethod
    def readable(ids: Any) -> TypeGuard[list[str]]:
        return isinstance(ids, list) and all(isinstance(i, str) and i for i in ids)

    def take(self, target: T, ids: list[str]) -> list[str]:
        """Take up a checkpoint's ids of `target` (`readable` ones): the next poll pages back
        until it meets one. Returns those kept."""
        ids = list(dict.fromkeys(ids))[: self._resume_kept]
        self.recent[target] = ids
        self.started.add(target)
        self.seen.update(dict.fromkeys(reversed(ids)))  # oldest first
        return ids


def _watermark(value: Any) -> bool:
    """Whether a checkpoint's watermark is one: epoch seconds (finite), or None (not read yet)."""
    import math

    if value is None:
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
