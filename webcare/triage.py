"""Triage decisions as state changes: what each action of the person on duty records.

Every function returns a webcare.mention.StateChange: the mention, the fields to change in its
state and the event for its history (a webcare.history.Event: a kind and its fields, shown in
the desk's language), with what must still hold for a change that must not overwrite someone
else's (undo, a snooze's end, an e-mailed answer). The store appends the history entry (who,
when, the event, and the values the change replaced, which undo restores).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from webcare.history import Event
from webcare.mention import Mention, StateChange, Status, to_iso
from webcare.norms import clock_start
from webcare.scheme import Leaf, Scheme

# Direct keys for the common outcomes, without the walk (the power user's shortcut). The
# scheme path recorded is the walk that leads to the leaf, so the export reads the same.
DIRECT: dict[str, str] = {
    "exclamation_mark": "L1",  # crisis
    "P": "L2",  # press / politics → spokesperson
    "X": "L3",  # against the house rules → moderate
    "A": "L6",  # a question we answer now
    "E": "L8",  # a question for an expert
    "C": "L9",  # a complaint
    "N": "L14",  # nothing to do: let stand
}


def path_to(scheme: Scheme, leaf_id: str) -> list[str]:
    """The first walk (depth first, in option order) that reaches `leaf_id`."""

    def search(node: str, trail: list[str]) -> list[str] | None:
        if node == leaf_id:
            return [*trail, leaf_id]
        question = scheme.questions.get(node)
        if question is None:
            return None
        for option in question.options:
            found = search(option.goto, [*trail, f"{node}:{option.key}"])
            if found:
                return found
        return None

    found = search(scheme.start, [])
    if found is None:
        raise KeyError(f"no path to {leaf_id} in the scheme")
    return found


def apply_leaf(m: Mention, leaf: Leaf, path: list[str]) -> StateChange:
    changes: dict[str, Any] = {
        "status": leaf.status,
        "category": leaf.category,
        "scheme_path": path,
        "flags": list(leaf.flags),
    }
    if leaf.route:
        changes["routed_to"] = leaf.route  # a role until someone is picked in the experts pane
    return m.change(changes, Event("triage", leaf=leaf.id, action=leaf.action["en"]))


def route(m: Mention, expert_name: str, due: datetime, now: datetime, note: str = "") -> StateChange:
    """Hand the mention to an expert: their answer is due at `due` (their own countdown). A
    reply stays owed to the sender (acknowledge first: "we are looking into it")."""
    changes: dict[str, Any] = {
        "status": Status.ROUTED,
        "routed_to": expert_name,
        "routed_at": to_iso(now),
        "routed_due": to_iso(due),
        "routed_note": note,
        "answered_at": None,
        "expert_answer": "",
    }
    if not m.category:
        changes["category"] = "question"
    return m.change(changes, Event("routed", to=expert_name, note=note))


def expert_answered(m: Mention, answer: str, now: datetime, by_email: bool = False) -> StateChange:
    """The expert's answer came back (entered on the desk, or `by_email`: taken from the
    mailbox by the collector): the reply to the sender is next (status responding). By e-mail,
    only while the mention still waits for it (another desk may have entered it meanwhile)."""
    changes = {"status": Status.RESPONDING, "expert_answer": answer, "answered_at": to_iso(now)}
    expect = {"status": Status.ROUTED, "answered_at": None} if by_email else None
    return m.change(changes, Event("expert_answered", by_email=by_email), expect)


def feedback(m: Mention, unit: str, now: datetime, note: str = "") -> StateChange:
    """Pass a complaint or suggestion on to a unit, without waiting for an answer."""
    entry = {"unit": unit, "at": to_iso(now), "note": note}
    return m.change({"feedback": [*m.feedback, entry]}, Event("feedback", unit=unit, note=note))


def reply_leaf(m: Mention) -> str | None:
    """The scheme leaf whose reply template fits the mention now: the leaf its walk reached;
    else, for a question handed to an expert whose answer is not back yet, L8 (acknowledge:
    "we are looking into it"); else None (the template is then picked by category)."""
    path = m.state.scheme_path
    if path and path[-1].startswith("L"):
        return path[-1]
    if m.status == Status.ROUTED and m.routed_due is not None and not m.answered_at:
        return "L8"
    return None


def monitor(m: Mention) -> StateChange:
    return m.change({"status": Status.MONITORING}, Event("monitor"))


def responded(m: Mention, now: datetime, reply: str | None = None) -> StateChange:
    """The reply is recorded: the countdown stops; the response time is kept against the norm."""
    start = clock_start(m.published_at, m.first_seen_at)
    changes: dict[str, Any] = {
        "status": Status.RESPONDED,
        "responded_at": to_iso(now),
        "response_s": max(0, int((now - start).total_seconds())),
    }
    if reply is not None:
        changes["reply"] = reply
    within = m.deadline is None or now <= m.deadline
    return m.change(changes, Event("responded", late=not within))


def snooze(until: datetime, m: Mention) -> StateChange:
    changes = {"status": Status.SNOOZED, "snoozed_until": to_iso(until), "snoozed_from": m.status}
    return m.change(changes, Event("snoozed", until=to_iso(until)))


def wake(m: Mention) -> StateChange:
    """The snooze is over: back to the status it had, unless someone changed it meanwhile."""
    return m.change(
        {"status": m.snoozed_from or Status.NEW, "snoozed_until": None},
        Event("snooze_ended"),
        {"status": Status.SNOOZED, "snoozed_until": to_iso(m.snoozed_until)},
    )


def undo(m: Mention, index: int) -> StateChange:
    """Undo the mention's history entry `index`: restore what it replaced, if nobody changed
    it since."""
    entry = m.history[index]
    undone = {"kind": entry.get("kind", ""), "args": entry.get("args") or {}, "what": entry.get("what", "")}
    return m.change(
        dict(entry.get("before") or {}), Event("undo", undone=undone), dict(entry.get("changes") or {})
    )


def parse_until(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """'30m', '2h', '1d' from now, or 'HH:MM' (today, else tomorrow) in the desk's timezone."""
    text = text.strip().lower()
    if not text:
        return None
    if ":" in text:
        try:
            hour, minute = (int(x) for x in text.split(":", 1))
            local = now.astimezone(tz)
            at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            return None
        if at <= local:
            at += timedelta(days=1)
        return at.astimezone(UTC)
    from webcare.norms import parse_duration

    try:
        delta = parse_duration(text)
    except ValueError:
        return None
    return None if delta is None else now + delta
