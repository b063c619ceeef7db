"""A mention: one post, comment or message about the organisation, and what the desk did with it.

A `Mention` is two parts. Its `Content` (what was said, by whom, where: what the source gave,
read once at intake) never changes after it is collected; its `State` (status, category, scheme
path, routing, history) is what the desk's operators change, one `StateChange` at a time. The
store keeps the two apart, so a status change never rewrites the large content files.

The records on disk are the parts' fields by name (`Content.record`, `State.record`): the field
lists below are the only place the fields are written out, so adding one is one line here.
Every field of either part reads through on the mention (`m.author`, `m.status`); state fields
can be set through it too, content fields cannot (`Mention.replaced` makes a changed copy).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from webcare.norms import Urgency, urgency

if TYPE_CHECKING:
    from webcare.history import Event


class Status(StrEnum):
    """A mention's status (docs/triage.md; "The audit trail" in docs/audit.md). A str: stored
    records, exports and configured scheme leaves keep the very strings they always had."""

    NEW = "new"
    RESPONDING = "responding"
    ROUTED = "routed"
    MONITORING = "monitoring"
    ESCALATED = "escalated"
    RESPONDED = "responded"
    CLOSED = "closed"
    NO_REACTION = "no reaction"
    MODERATED = "moderated"
    SNOOZED = "snoozed"


STATUSES = tuple(s.value for s in Status)
# A reply is owed while the status is one of these.
OWED = frozenset({Status.NEW, Status.RESPONDING, Status.ROUTED, Status.ESCALATED})


def status_of(value: Any) -> Status:
    """A stored status as a Status; one this desk does not know (a newer desk's) reads as
    "new" would be wrong, so it stays the string it is (compares unequal to every Status)."""
    try:
        return Status(value or Status.NEW)
    except ValueError:
        return value  # type: ignore[no-any-return]


def owes_reply(status: str, flags: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether a reply is still owed (the countdown runs). A mention handed to the
    spokesperson (flag no-reply) is routed but owes no reply of ours."""
    return status in OWED and "no-reply" not in flags


def stable_id(*parts: str) -> str:
    """A short id that is the same every time the same item is seen (by source key and guid)."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10).hexdigest()


def to_iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def from_iso(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


# How a field is written to its record and read back (a field's metadata "kind"):
#   time    a datetime, stored as ISO text (None stays None)
#   tuple   a tuple, stored as a list     list / dict: copied both ways, None read as empty
#   text    a str, None read as its default     flag: a bool, only `true` reads as True
#   status  a Status (see status_of)           (none): stored as it is
# "sparse": written only when set, so the records of every other mention (and old stores)
# stay as they were.
def _kind(kind: str, sparse: bool = False) -> dict[str, Any]:
    return {"kind": kind, "sparse": sparse}


def _to_record(f: Any, value: Any) -> Any:
    kind = f.metadata.get("kind")
    if kind == "time":
        return to_iso(value)
    if kind in ("tuple", "list"):
        return list(value)
    if kind == "dict":
        return dict(value)
    if kind == "status":
        return str(value)
    return value


_Part = TypeVar("_Part", "Content", "State")


def _reader(cls: type[_Part]) -> Callable[[dict[str, Any]], _Part]:
    """A function from a record to `cls`, compiled once from its fields (as dataclasses makes
    __init__): a store's load() reads a hundred thousand records, each with some 45 fields."""
    args = []
    for f in fields(cls):
        kind = f.metadata.get("kind")
        required = f.default is MISSING and f.default_factory is MISSING
        value = f"r[{f.name!r}]" if required else f"g({f.name!r})"
        if kind == "time":
            value = f"from_iso({value})"
        elif kind == "tuple":
            value = f"tuple({value} or ())"
        elif kind == "list":
            value = f"list({value} or ())"
        elif kind == "dict":
            value = f"dict({value} or {{}})"
        elif kind == "text":
            value = f"({value} or {f.default!r})"
        elif kind == "flag":
            value = f"({value} is True)"
        elif kind == "status":
            value = f"status_of({value})"
        elif not required and f.default is not None:
            value = f"g({f.name!r}, {f.default!r})"
        args.append((f.name, value))
    scope: dict[str, Any] = {"cls": cls, "from_iso": from_iso, "status_of": status_of, "new": object.__new__}
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]  # not in typeshed
        # Filled through its slots: a frozen dataclass's own __init__ sets each field through
        # object.__setattr__, four times slower; what it makes is the same (equal, frozen).
        scope.update({f"set_{name}": getattr(cls, name).__set__ for name, _ in args})
        body = "".join(f"    set_{name}(o, {value})\n" for name, value in args)
        source = f"def read(r):\n    g = r.get\n    o = new(cls)\n{body}    return o\n"
    else:
        source = f"def read(r):\n    g = r.get\n    return cls({', '.join(f'{n}={v}' for n, v in args)})\n"
    exec(source, scope)  # noqa: S102 (our own field names, not outside text)
    read: Callable[[dict[str, Any]], _Part] = scope["read"]
    return read


def _record(part: Any) -> dict[str, Any]:
    return {
        f.name: _to_record(f, getattr(part, f.name))
        for f in fields(part)
        if not (f.metadata.get("sparse") and not getattr(part, f.name))
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """What the source gave: never changed by the desk. Text fields hold cleaned text (see
    webcare.untrusted). In the order of the content record."""

    id: str
    source: str
    channel: str
    author: str
    author_name: str = field(default="", metadata=_kind("text"))
    text: str
    title: str = field(default="", metadata=_kind("text"))
    url: str = field(default="", metadata=_kind("text"))
    published_at: datetime | None = field(default=None, metadata=_kind("time"))
    first_seen_at: datetime = field(metadata=_kind("time"))
    deadline: datetime | None = field(default=None, metadata=_kind("time"))
    norm_s: int | None = None  # the norm that applied when it came in, in seconds
    keywords: tuple[str, ...] = field(default=(), metadata=_kind("tuple"))
    reach: int | None = None
    # threads and replies (see webcare.intake.Item): the post's id on its platform, the id of
    # the post it answers there, and that post's mention id when the desk has it
    ref: str = field(default="", metadata=_kind("text"))
    in_reply_to: str = field(default="", metadata=_kind("text"))
    parent: str = field(default="", metadata=_kind("text"))
    reply_meta: dict[str, Any] = field(default_factory=dict, metadata=_kind("dict"))
    # monitoring (webcare.watch, webcare.tone), read once at intake
    rules: tuple[str, ...] = field(default=(), metadata=_kind("tuple"))  # the [[watch.rules]] it matched
    themes: tuple[str, ...] = field(default=(), metadata=_kind("tuple"))  # their themes
    priority: str = field(default="normal", metadata=_kind("text"))  # normal | high | urgent
    watchlist: str = field(default="", metadata=_kind("text"))  # the [[watch.people]] kind of its author
    language: str = field(default="", metadata=_kind("text"))  # nl, en, fr, de, other
    sentiment: str = field(default="", metadata=_kind("text"))  # negative | neutral | positive
    register: str = field(default="", metadata=_kind("text"))  # formal | informal
    anger: tuple[str, ...] = field(default=(), metadata=_kind("tuple"))  # capitals, exclamations, insult
    # An e-mail with a hand-off's subject tag that was not taken as the expert's answer
    # (webcare.answers): why, shown in the detail pane. "" for everything else.
    suspicious: str = field(default="", metadata=_kind("text", sparse=True))
    # Fetched only because a source follows its author (webcare.intake): it neither names nor
    # addresses us. Such a post comes in as "monitoring"; see Mention.followed_only.
    followed: bool = field(default=False, metadata=_kind("flag", sparse=True))

    def record(self) -> dict[str, Any]:
        """The content record the store writes."""
        return _record(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Content:
        return _read_content(record)


@dataclass(slots=True, kw_only=True)
class State:
    """What the desk's operators changed. In the order of the state record (after its "id")."""

    status: Status = field(default=Status.NEW, metadata=_kind("status"))
    category: str | None = None
    scheme_path: list[str] = field(default_factory=list, metadata=_kind("list"))
    routed_to: str | None = None
    responded_at: datetime | None = field(default=None, metadata=_kind("time"))
    flags: list[str] = field(default_factory=list, metadata=_kind("list"))  # crisis, no-reply, flagged, evidence, …
    routed_at: datetime | None = field(default=None, metadata=_kind("time"))
    routed_due: datetime | None = field(default=None, metadata=_kind("time"))  # the expert's own countdown
    routed_note: str = field(default="", metadata=_kind("text"))
    expert_answer: str = field(default="", metadata=_kind("text"))
    answered_at: datetime | None = field(default=None, metadata=_kind("time"))  # the expert's answer came back
    feedback: list[dict[str, Any]] = field(default_factory=list, metadata=_kind("list"))  # unit, at, note
    snoozed_until: datetime | None = field(default=None, metadata=_kind("time"))
    snoozed_from: str | None = None  # the status to go back to when the snooze ends
    reply: str = field(default="", metadata=_kind("text"))  # the reply as sent (or copied to be sent)
    reply_ref: str = field(default="", metadata=_kind("text"))  # the sent reply's id or link on the platform
    response_s: int | None = None  # seconds from the clock's start to the recorded reply
    # Every change, oldest first (webcare.history): who, when, the event, what it replaced.
    history: list[dict[str, Any]] = field(default_factory=list, metadata=_kind("list"))
    # What the desk showed when the mention was moderated (webcare.moderation.evidence): kept
    # past retention while the case is open, up to [retention] evidence_days.
    evidence: dict[str, Any] = field(default_factory=dict, metadata=_kind("dict", sparse=True))

    @property
    def version(self) -> int:
        """Every change appends one history entry: its length is the state's version."""
        return len(self.history)

    def record(self, mention_id: str) -> dict[str, Any]:
        """The state record the store writes."""
        return {"id": mention_id, **_record(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> State:
        return State() if not record else _read_state(record)


_read_content = _reader(Content)
_read_state = _reader(State)
CONTENT_FIELDS = frozenset(f.name for f in fields(Content))
STATE_FIELDS = frozenset(f.name for f in fields(State))


@dataclass(frozen=True, slots=True)
class StateChange:
    """One change of a mention's state, as an operator (or the collector) makes it: the fields
    it sets, the event its history records, and what must still hold for it to be made —
    `expect` (those fields still have those values: an undo, a snooze's wake-up, an e-mailed
    answer never overwrite what someone else did meanwhile) and/or `version` (the state is
    still at that version). The store appends the history entry (who, when, the event and the
    values the change replaced, which undo restores)."""

    mention_id: str
    fields: dict[str, Any]
    event: Event
    expect: dict[str, Any] | None = None
    version: int | None = None


if TYPE_CHECKING:
    # Every field reads through to the content or the state (set below, after the class). For
    # the type checker the mention has both parts' fields, typed as they are there: content
    # read-only (frozen), state writable.
    class _Fields(Content, State):  # type: ignore[misc]
        pass
else:
    _Fields = object


class Mention(_Fields):
    """One mention: its content and its state. See the module."""

    __slots__ = ("content", "state")

    def __init__(self, content: Content | None = None, state: State | None = None, **values: Any) -> None:
        """Mention(content, state), or Mention(id=…, author=…, status=…, …) by field name."""
        if content is None:
            content = Content(**{k: values.pop(k) for k in CONTENT_FIELDS & values.keys()})
        if state is None:
            state = State(**values)
        elif values:
            raise TypeError(f"Mention() got fields besides its parts: {', '.join(values)}")
        self.content = content
        self.state = state

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mention):
            return NotImplemented
        return self.content == other.content and self.state == other.state

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Mention({self.content!r}, {self.state!r})"

    def replaced(self, **values: Any) -> Mention:
        """A copy with these fields changed (content or state)."""
        return Mention(
            replace(self.content, **{k: v for k, v in values.items() if k in CONTENT_FIELDS}),
            replace(self.state, **{k: v for k, v in values.items() if k not in CONTENT_FIELDS}),
        )

    @property
    def version(self) -> int:
        return self.state.version

    @property
    def owed(self) -> bool:
        return owes_reply(self.state.status, self.state.flags)

    @property
    def followed_only(self) -> bool:
        """A followed voice's post that does not name us (webcare.intake), not taken up since:
        to read in the "pers & peers" view, not a mention to answer or to report on."""
        return self.content.followed and self.state.status == Status.MONITORING

    @property
    def allowed(self) -> timedelta | None:
        norm_s = self.content.norm_s
        return None if norm_s is None else timedelta(seconds=norm_s)

    def urgency(self, now: datetime) -> Urgency:
        if not self.owed:
            return Urgency.NO_NORM
        return urgency(self.content.deadline, self.allowed, now)

    def change(
        self, fields: dict[str, Any], event: Event, expect: dict[str, Any] | None = None
    ) -> StateChange:
        """A change of this mention's state (see StateChange)."""
        return StateChange(self.content.id, fields, event, expect)

    # --- records: what the store writes -------------------------------------------------

    def content_record(self) -> dict[str, Any]:
        return self.content.record()

    def state_record(self) -> dict[str, Any]:
        return self.state.record(self.content.id)

    @classmethod
    def from_records(cls, content: dict[str, Any], state: dict[str, Any] | None = None) -> Mention:
        return cls(Content.from_record(content), State.from_record(state))

    def apply_state(self, state: dict[str, Any]) -> None:
        """Take the state as a state record gives it (the store's, after a change)."""
        self.state = State.from_record(state)

    @classmethod
    def export_fields(cls) -> tuple[str, ...]:
        """The keys of export_record(), in order (the CSV export's columns)."""
        content = [f.name for f in fields(Content)]
        return (*content, *(f.name for f in fields(State) if f.name not in content))

    def export_record(self) -> dict[str, Any]:
        """The export contract docs/reports.md gives under "Exports": one JSON object per mention
        (every field, the sparse ones too)."""
        out = {f.name: _to_record(f, getattr(self.content, f.name)) for f in fields(Content)}
        state = self.state
        out.update({f.name: _to_record(f, getattr(state, f.name)) for f in fields(State)})
        return out


def _reads_through(part: str, name: str, settable: bool) -> property:
    get = attrgetter(f"{part}.{name}")
    if not settable:
        return property(get, doc=f"{part}.{name}")

    def put(self: Mention, value: Any) -> None:
        setattr(self.state, name, value)

    return property(get, put, doc=f"{part}.{name}")


for _f in fields(Content):
    setattr(Mention, _f.name, _reads_through("content", _f.name, settable=False))
for _f in fields(State):
    setattr(Mention, _f.name, _reads_through("state", _f.name, settable=True))
del _f
