"""Triage decisions as state changes: what each action of the person on duty records.

Every function returns (changes, action): the fields to change in the mention's state and the
action for its history (a webcare.history.Action: its English words, kind and fields, shown in
the desk's language). The store appends the history entry (who, when, what, and the values
the change replaced, which undo restores).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from webcare.history import Action
from webcare.mention import Mention, to_iso
from webcare.norms import clock_start
from webcare.scheme import Leaf, Scheme

Change = tuple[dict[str, Any], str]

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


def apply_leaf(leaf: Leaf, path: list[str]) -> Change:
    changes: dict[str, Any] = {
        "status": leaf.status,
        "category": leaf.category,
        "scheme_path": path,
        "flags": list(leaf.flags),
    }
    if leaf.route:
        changes["routed_to"] = leaf.route  # a role until someone is picked in the experts pane
    return changes, Action("triage", leaf=leaf.id, action=leaf.action["en"])


def route(m: Mention, expert_name: str, due: datetime, now: datetime, note: str = "") -> Change:
    """Hand the mention to an expert: their answer is due at `due` (their own countdown). A
    reply stays owed to the sender (acknowledge first: "we are looking into it")."""
    changes: dict[str, Any] = {
        "status": "routed",
        "routed_to": expert_name,
        "routed_at": to_iso(now),
        "routed_due": to_iso(due),
        "routed_note": note,
        "answered_at": None,
        "expert_answer": "",
    }
    if not m.category:
        changes["category"] = "question"
    return changes, Action("routed", to=expert_name, note=note)


def expert_answered(answer: str, now: datetime, by_email: bool = False) -> Change:
    """The expert's answer came back (entered on the desk, or `by_email`: taken from the
    mailbox by the collector): the reply to the sender is next (status responding)."""
    changes = {"status": "responding", "expert_answer": answer, "answered_at": to_iso(now)}
    return changes, Action("expert_answered", by_email=by_email)


def feedback(m: Mention, unit: str, now: datetime, note: str = "") -> Change:
    """Pass a complaint or suggestion on to a unit, without waiting for an answer."""
    entry = {"unit": unit, "at": to_iso(now), "note": note}
    return {"feedback": [*m.feedback, entry]}, Action("feedback", unit=unit, note=note)


def reply_leaf(m: Mention) -> str | None:
    """The scheme leaf whose reply template fits the mention now: the leaf its walk reached;
    else, for a question handed to an expert whose answer is not back yet, L8 (acknowledge:
    "we are looking into it"); else None (the template is then picked by category)."""
    if m.scheme_path and m.scheme_path[-1].startswith("L"):
        return m.scheme_path[-1]
    if m.status == "routed" and m.routed_due is not None and not m.answered_at:
        return "L8"
    return None


def monitor() -> Change:
    return {"status": "monitoring"}, Action("monitor")


def responded(m: Mention, now: datetime, reply: str | None = None) -> Change:
    """The reply is recorded: the countdown stops; the response time is kept against the norm."""
    start = clock_start(m.published_at, m.first_seen_at)
    changes: dict[str, Any] = {
        "status": "responded",
        "responded_at": to_iso(now),
        "response_s": max(0, int((now - start).total_seconds())),
    }
    if reply is not None:
        changes["reply"] = reply
    within = m.deadline is None or now <= m.deadline
    return changes, Action("responded", late=not within)


def snooze(until: datetime, m: Mention) -> Change:
    changes = {"status": "snoozed", "snoozed_until": to_iso(until), "snoozed_from": m.status}
    return changes, Action("snoozed", until=to_iso(until))


def wake(m: Mention) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The snooze is over: back to the status it had. Returns (changes, action, expect)."""
    return (
        {"status": m.snoozed_from or "new", "snoozed_until": None},
        Action("snooze_ended"),
        {"status": "snoozed", "snoozed_until": to_iso(m.snoozed_until)},
    )


def undo(entry: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Undo a history entry: restore what it replaced, if nobody changed it since.
    Returns (changes, action, expect)."""
    undone = {"kind": entry.get("kind", ""), "args": entry.get("args") or {}, "what": entry.get("what", "")}
    return dict(entry.get("before") or {}), Action("undo", undone=undone), dict(entry.get("changes") or {})


def parse_until(text: str, now: datetime, tz) -> datetime | None:
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
