"""Which e-mails the desk takes as an expert's answer to a hand-off, and why it refuses others.

A hand-off's subject carries "[webcare m:<mention id>.<key>]". The mention id is public (a hash
of the post's link, in every export), so it proves nothing; the key is a random secret made for
that one hand-off (store.handoffs keeps it) and sent only to the expert's address. An e-mail
with a tag is taken as the answer only when all of these hold:

- the key is the key of a hand-off of that mention (compared in constant time) that is still
  open: not answered already, not replaced by a later hand-off to someone else;
- it is a question (feedback to a unit expects no answer);
- the mail has exactly one From address and it is the address that hand-off went to (the
  expert's, or the deputy's for a hand-off to the deputy), compared case-insensitively;
- the mention is routed and its answer has not come back yet.

Everything else with a tag (a forged sender, a guessed or old key, a tag without a key, a
mention that is not routed or already answered) becomes an ordinary e-mail mention marked as
suspicious with the reason (`Verdict.reason`): nothing is lost, nothing is taken on its word.

What this does not check: the From header itself is written by the sender and can be forged
unless the organisation's mail server enforces SPF/DKIM/DMARC on incoming mail; the desk does not
verify signatures. The key is what a forger lacks: only the expert's mailbox received it.

Nothing here does I/O.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webcare.mention import Mention, Status, from_iso


@dataclass(frozen=True, slots=True)
class SentHandoff:
    """One hand-off as the store keeps it: its key, where it went and whether it is still open."""

    mention_id: str
    key: str
    kind: str  # question | feedback
    to: str  # the address it went to
    name: str  # the expert (or unit) it went to
    at: datetime
    deputy_for: str = ""  # the expert whose deputy this is, when it went to the deputy
    answered_at: datetime | None = None
    replaced_at: datetime | None = None  # a later hand-off of the mention went to someone else
    answer_ref: str = ""  # the Message-ID of the e-mail taken as its answer

    @property
    def open(self) -> bool:
        return self.answered_at is None and self.replaced_at is None

    @classmethod
    def from_record(cls, mention_id: str, record: dict[str, Any]) -> SentHandoff:
        return cls(
            mention_id=mention_id,
            key=str(record.get("key") or ""),
            kind=str(record.get("kind") or "question"),
            to=str(record.get("to") or ""),
            name=str(record.get("name") or ""),
            at=from_iso(record.get("at")),  # type: ignore[arg-type]
            deputy_for=str(record.get("deputy_for") or ""),
            answered_at=from_iso(record.get("answered_at")),
            replaced_at=from_iso(record.get("replaced_at")),
            answer_ref=str(record.get("answer_ref") or ""),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Taken (with the hand-off it answers), or refused with the reason shown on the mention;
    `again`: the very e-mail taken before, read once more (a mailbox rebuilt): nothing to do."""

    handoff: SentHandoff | None
    reason: str = ""
    again: bool = False

    @property
    def taken(self) -> bool:
        return self.handoff is not None and not self.reason and not self.again


def judge(
    mention_id: str,
    key: str,
    senders: Iterable[str],
    mention: Mention | None,
    handoffs: Iterable[SentHandoff],
    ref: str = "",
) -> Verdict:
    """Whether an e-mail whose subject tags `mention_id` with `key`, from the From addresses
    `senders`, is the answer to one of `handoffs` (the mention's, as stored). `ref`: the
    e-mail's Message-ID. See the module."""
    senders = [s.strip() for s in senders if s and s.strip()]
    if not key:
        return Verdict(None, "the subject tag has no key (a hand-off sent before keys, or a made-up tag)")
    if mention is None:
        return Verdict(None, f"no mention {mention_id} on this desk")
    # Every key compared, in constant time: how long this takes says nothing about a guess.
    found = None
    for h in handoffs:
        if h.key and hmac.compare_digest(h.key.encode(), key.encode()):
            found = h
    if found is None:
        return Verdict(None, "the key in the subject tag is not one this desk sent for this mention (guessed or old)")
    if found.answered_at is not None:
        if ref and ref == found.answer_ref:
            return Verdict(found, again=True)
        return Verdict(found, "this hand-off was answered already")
    if found.replaced_at is not None:
        return Verdict(found, "this hand-off was replaced by a later one to someone else")
    if found.kind != "question":
        return Verdict(found, f"this was feedback passed on to {found.name}: no answer is taken from it")
    if len(senders) != 1:
        return Verdict(found, f"the mail has {len(senders)} sender (From) addresses, not one")
    if senders[0].casefold() != found.to.casefold():
        return Verdict(found, f"sent from {senders[0]}, but the hand-off went to {found.to}")
    if mention.status != Status.ROUTED:
        return Verdict(found, f"the mention is not waiting for an expert (status: {mention.status})")
    if mention.answered_at is not None:
        return Verdict(found, "the mention has its expert's answer already")
    return Verdict(found)
