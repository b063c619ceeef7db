"""A mention: one post, comment or message about the organisation, and what the desk did with it.

The content (what was said, by whom, where) never changes after it is collected; the state
(status, category, scheme path, routing, history) is what the desk's operators change. The
store keeps the two apart, so a status change never rewrites the large content files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from webcare.norms import Urgency, urgency

# Statuses (the README's "Triage" and "The audit trail"). A reply is owed while the status is one of OWED.
STATUSES = (
    "new",
    "responding",
    "routed",
    "monitoring",
    "escalated",
    "responded",
    "closed",
    "no reaction",
    "moderated",
    "snoozed",
)
OWED = frozenset({"new", "responding", "routed", "escalated"})


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


@dataclass(slots=True)
class Mention:
    """One mention. Text fields hold cleaned text (see webcare.untrusted)."""

    id: str
    source: str
    channel: str
    author: str
    text: str
    first_seen_at: datetime
    url: str = ""
    title: str = ""
    author_name: str = ""
    published_at: datetime | None = None
    deadline: datetime | None = None
    norm_s: int | None = None  # the norm that applied when it came in, in seconds
    keywords: tuple[str, ...] = ()
    reach: int | None = None
    # threads and replies (see webcare.intake.Item): the post's id on its platform, the id of
    # the post it answers there, and that post's mention id when the desk has it
    ref: str = ""
    in_reply_to: str = ""
    parent: str = ""
    reply_meta: dict[str, Any] = field(default_factory=dict)
    # monitoring (webcare.watch, webcare.tone), read once at intake
    rules: tuple[str, ...] = ()  # the [[watch.rules]] it matched
    themes: tuple[str, ...] = ()  # their themes
    priority: str = "normal"  # normal | high | urgent: the highest of its rules
    watchlist: str = ""  # the [[watch.people]] kind of its author: journalist, peer, …
    language: str = ""  # nl, en, fr, de, other
    sentiment: str = ""  # negative | neutral | positive
    register: str = ""  # formal | informal
    anger: tuple[str, ...] = ()  # anger markers that fired: capitals, exclamations, insult
    # An e-mail with a hand-off's subject tag that was not taken as the expert's answer
    # (webcare.answers): why, shown in the detail pane. "" for everything else.
    suspicious: str = ""
    # Fetched only because a source follows its author (webcare.intake): it neither names nor
    # addresses us. Such a post comes in as "monitoring"; see followed_only.
    followed: bool = False
    # state, owned by the operators
    status: str = "new"
    category: str | None = None
    scheme_path: list[str] = field(default_factory=list)
    routed_to: str | None = None
    responded_at: datetime | None = None
    flags: list[str] = field(default_factory=list)  # crisis, no-reply, flagged, evidence, …
    routed_at: datetime | None = None
    routed_due: datetime | None = None  # when the expert's answer is due (their own countdown)
    routed_note: str = ""
    expert_answer: str = ""
    answered_at: datetime | None = None  # when the expert's answer came back
    feedback: list[dict[str, Any]] = field(
        default_factory=list
    )  # passed on to units: unit, at, note
    snoozed_until: datetime | None = None
    snoozed_from: str | None = None  # the status to go back to when the snooze ends
    reply: str = ""  # the reply as sent (or copied to be sent)
    reply_ref: str = ""  # the sent reply's id or link on the platform, when the desk posted it
    response_s: int | None = None  # seconds from the clock's start to the recorded reply
    # What the desk showed when the mention was moderated (webcare.moderation.evidence): kept
    # past retention while the case is open, up to [retention] evidence_days.
    evidence: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def owed(self) -> bool:
        return owes_reply(self.status, self.flags)

    @property
    def followed_only(self) -> bool:
        """A followed voice's post that does not name us (webcare.intake), not taken up since:
        to read in the "pers & peers" view, not a mention to answer or to report on."""
        return self.followed and self.status == "monitoring"

    @property
    def allowed(self) -> timedelta | None:
        return None if self.norm_s is None else timedelta(seconds=self.norm_s)

    def urgency(self, now: datetime) -> Urgency:
        if not self.owed:
            return Urgency.NO_NORM
        return urgency(self.deadline, self.allowed, now)

    # --- records: what the store writes -------------------------------------------------

    def content_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "channel": self.channel,
            "author": self.author,
            "author_name": self.author_name,
            "text": self.text,
            "title": self.title,
            "url": self.url,
            "published_at": to_iso(self.published_at),
            "first_seen_at": to_iso(self.first_seen_at),
            "deadline": to_iso(self.deadline),
            "norm_s": self.norm_s,
            "keywords": list(self.keywords),
            "reach": self.reach,
            "ref": self.ref,
            "in_reply_to": self.in_reply_to,
            "parent": self.parent,
            "reply_meta": dict(self.reply_meta),
            "rules": list(self.rules),
            "themes": list(self.themes),
            "priority": self.priority,
            "watchlist": self.watchlist,
            "language": self.language,
            "sentiment": self.sentiment,
            "register": self.register,
            "anger": list(self.anger),
            # Only when set: the other mentions' records (and old stores) stay as they were.
            **({"suspicious": self.suspicious} if self.suspicious else {}),
            **({"followed": True} if self.followed else {}),
        }

    def state_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "category": self.category,
            "scheme_path": list(self.scheme_path),
            "routed_to": self.routed_to,
            "responded_at": to_iso(self.responded_at),
            "flags": list(self.flags),
            "routed_at": to_iso(self.routed_at),
            "routed_due": to_iso(self.routed_due),
            "routed_note": self.routed_note,
            "expert_answer": self.expert_answer,
            "answered_at": to_iso(self.answered_at),
            "feedback": list(self.feedback),
            "snoozed_until": to_iso(self.snoozed_until),
            "snoozed_from": self.snoozed_from,
            "reply": self.reply,
            "reply_ref": self.reply_ref,
            "response_s": self.response_s,
            "history": list(self.history),
            # Only when kept: the other mentions' records stay as they were.
            **({"evidence": dict(self.evidence)} if self.evidence else {}),
        }

    @classmethod
    def from_records(cls, content: dict[str, Any], state: dict[str, Any] | None = None) -> Mention:
        m = cls(
            id=content["id"],
            source=content["source"],
            channel=content["channel"],
            author=content["author"],
            author_name=content.get("author_name", ""),
            text=content["text"],
            title=content.get("title", ""),
            url=content.get("url", ""),
            published_at=from_iso(content.get("published_at")),
            first_seen_at=from_iso(content["first_seen_at"]),  # type: ignore[arg-type]
            deadline=from_iso(content.get("deadline")),
            norm_s=content.get("norm_s"),
            keywords=tuple(content.get("keywords") or ()),
            reach=content.get("reach"),
            ref=content.get("ref") or "",
            in_reply_to=content.get("in_reply_to") or "",
            parent=content.get("parent") or "",
            reply_meta=dict(content.get("reply_meta") or {}),
            rules=tuple(content.get("rules") or ()),
            themes=tuple(content.get("themes") or ()),
            priority=content.get("priority") or "normal",
            watchlist=content.get("watchlist") or "",
            language=content.get("language") or "",
            sentiment=content.get("sentiment") or "",
            register=content.get("register") or "",
            anger=tuple(content.get("anger") or ()),
            suspicious=content.get("suspicious") or "",
            followed=content.get("followed") is True,
        )
        if state:
            m.apply_state(state)
        return m

    def apply_state(self, state: dict[str, Any]) -> None:
        self.status = state.get("status", "new")
        self.category = state.get("category")
        self.scheme_path = list(state.get("scheme_path") or [])
        self.routed_to = state.get("routed_to")
        self.responded_at = from_iso(state.get("responded_at"))
        self.flags = list(state.get("flags") or [])
        self.routed_at = from_iso(state.get("routed_at"))
        self.routed_due = from_iso(state.get("routed_due"))
        self.routed_note = state.get("routed_note") or ""
        self.expert_answer = state.get("expert_answer") or ""
        self.answered_at = from_iso(state.get("answered_at"))
        self.feedback = list(state.get("feedback") or [])
        self.snoozed_until = from_iso(state.get("snoozed_until"))
        self.snoozed_from = state.get("snoozed_from")
        self.reply = state.get("reply") or ""
        self.reply_ref = state.get("reply_ref") or ""
        self.response_s = state.get("response_s")
        self.evidence = dict(state.get("evidence") or {})
        self.history = list(state.get("history") or [])

    @classmethod
    def export_fields(cls) -> tuple[str, ...]:
        """The keys of export_record(), in order (the CSV export's columns)."""
        blank = cls(
            id="", source="", channel="", author="", text="", first_seen_at=datetime.now(UTC)
        )
        return tuple(blank.export_record())

    def export_record(self) -> dict[str, Any]:
        """The export contract the README gives under "Commands": one JSON object per mention."""
        out = self.content_record()
        out.setdefault("suspicious", "")
        out.setdefault("followed", False)
        out.update(self.state_record())
        out.setdefault("evidence", {})
        return out
