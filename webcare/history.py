"""A mention's history entries: what was done, kept as a kind with its fields, said in the
desk's language when shown.

An entry is stored as {"at", "who", "what", "kind", "args", "changes", "before"}. `what` is the
English sentence entries always had (exports and older desks read it); `kind` and `args` are
what the desk renders in its own language (`describe`). Entries written before kinds existed
have only `what`: the sentences the desk itself wrote are recognised (`recognise`) and shown
in the desk's language too; any other text is shown as it is.

An `Action` is a str (the English sentence) that also carries its kind and fields, so every
place that passes an action's words along — the store, a "not saved" notice — keeps working,
and a plain string is still a valid action (an entry without a kind).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from webcare.i18n import when

# Fields that hold free text (a note to an expert, a reply's link or id on the platform):
# retention's anonymisation blanks them, as it drops the text after ": " in `what`.
FREE_TEXT = frozenset({"note", "ref"})


def _english(kind: str, a: dict[str, Any]) -> str:
    def tail(key: str) -> str:
        return f": {a[key]}" if a.get(key) else ""

    match kind:
        case "triage":
            return f"triage {a.get('leaf', '?')}" + tail("action")
        case "routed":
            return f"routed to {a.get('to', '?')}" + tail("note")
        case "expert_answered":
            return "expert answered" + (" (by e-mail)" if a.get("by_email") else "")
        case "feedback":
            return f"feedback to {a.get('unit', '?')}" + tail("note")
        case "monitor":
            return "monitor only"
        case "responded":
            return "reply recorded" + (" (after the norm)" if a.get("late") else "")
        case "reply_sent":
            return f"reply sent via {a.get('via', '?')}" + tail("ref")
        case "dry_run":
            return f"dry run via {a.get('via', '?')}" + tail("ref")
        case "snoozed":
            return f"snoozed until {a.get('until', '?')}"
        case "snooze_ended":
            return "snooze ended"
        case "handoff_mailed":
            return f"hand-off e-mailed to {a.get('to', '?')} ({a.get('ref', '')})"
        case "undo":
            return f"undo: {(a.get('undone') or {}).get('what', '')}"
        case "erased":
            return "erased on request"
        case "evidence_kept":
            return "evidence kept"
        case "moderated":  # retention keeps what precedes ": " (the platform's answer goes)
            undo = "undo: " if a.get("undo") else ""
            return f"{undo}{a.get('action', '?')} on {a.get('source', '?')}" + tail("answer")
        case "role_told":
            return f"{a.get('role', '?')} told" + tail("name")
        case "ambassadors":
            return "passed on to the ambassadors" + tail("names")
        case "followed":
            return "followed: a post of someone on the watchlist that does not name us (no reply owed)"
    return kind


class Action(str):
    """The English sentence of an action, with its `kind` and `args` (see the module doc)."""

    kind: str
    args: dict[str, Any]

    def __new__(cls, kind: str, **args: Any) -> Action:
        self = super().__new__(cls, _english(kind, args))
        self.kind, self.args = kind, args
        return self


# The English sentences older desks wrote, by kind: each with the fields it holds. Anonymised
# entries keep only what comes before ": " (store/retention.py), so the tails are optional.
_PATTERNS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], dict[str, Any]]], ...] = (
    ("undo", re.compile(r"undo: (?P<rest>.*)", re.S), lambda m: {"undone": {"what": m["rest"]}}),
    ("triage", re.compile(r"triage (?P<leaf>\S+?)(?:: (?P<action>.*))?", re.S),
     lambda m: {"leaf": m["leaf"], "action": m["action"] or ""}),
    ("expert_answered", re.compile(r"expert answered(?P<mail> \(by e-mail\))?"),
     lambda m: {"by_email": bool(m["mail"])}),
    ("routed", re.compile(r"routed to (?P<to>.+?)(?:: (?P<note>.*))?", re.S),
     lambda m: {"to": m["to"], "note": m["note"] or ""}),
    ("feedback", re.compile(r"feedback to (?P<unit>.+?)(?:: (?P<note>.*))?", re.S),
     lambda m: {"unit": m["unit"], "note": m["note"] or ""}),
    ("monitor", re.compile(r"monitor only"), lambda m: {}),
    ("responded", re.compile(r"reply recorded(?P<late> \(after the norm\))?"), lambda m: {"late": bool(m["late"])}),
    ("reply_sent", re.compile(r"reply sent via (?P<via>\S+?)(?:: (?P<ref>.*))?", re.S),
     lambda m: {"via": m["via"], "ref": m["ref"] or ""}),
    ("dry_run", re.compile(r"dry run via (?P<via>\S+?)(?:: (?P<ref>.*))?", re.S),
     lambda m: {"via": m["via"], "ref": m["ref"] or ""}),
    ("snoozed", re.compile(r"snoozed until (?P<until>\S+)"), lambda m: {"until": m["until"]}),
    ("snooze_ended", re.compile(r"snooze ended"), lambda m: {}),
    ("handoff_mailed", re.compile(r"hand-off e-mailed to (?P<to>\S+) \((?P<ref>.*)\)", re.S),
     lambda m: {"to": m["to"], "ref": m["ref"]}),
    ("erased", re.compile(r"erased on request"), lambda m: {}),
)  # fmt: skip


def recognise(what: str) -> tuple[str, dict[str, Any]] | None:
    """(kind, args) of a sentence the desk wrote before entries had kinds; None for any other."""
    for kind, pattern, fields in _PATTERNS:
        if (m := pattern.fullmatch(what)) is not None:
            return kind, fields(m)
    return None


def kind_of(entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """An entry's (kind, args): as stored, else recognised from its English `what`."""
    kind = entry.get("kind")
    if isinstance(kind, str) and kind:
        args = entry.get("args")
        return kind, args if isinstance(args, dict) else {}
    what = entry.get("what")
    return recognise(what) if isinstance(what, str) else None


def is_expert_answer_by_mail(entry: dict[str, Any]) -> bool:
    """The collector took an expert's e-mailed answer (a structured entry, or an older one)."""
    found = kind_of(entry)
    return found is not None and found[0] == "expert_answered" and bool(found[1].get("by_email"))


_DUTCH: dict[str, Callable[[dict[str, Any], Callable[[str], str]], str]] = {
    "triage": lambda a, t: f"triage {a.get('leaf', '?')}" + (f": {a['action']}" if a.get("action") else ""),
    "routed": lambda a, t: f"doorgestuurd naar {a.get('to', '?')}" + (f": {a['note']}" if a.get("note") else ""),
    "expert_answered": lambda a, t: "antwoord van de expert" + (" (per e-mail)" if a.get("by_email") else ""),
    "feedback": lambda a, t: f"feedback doorgegeven aan {a.get('unit', '?')}" + (f": {a['note']}" if a.get("note") else ""),
    "monitor": lambda a, t: "enkel opvolgen",
    "responded": lambda a, t: "antwoord geregistreerd" + (" (na de norm)" if a.get("late") else ""),
    "reply_sent": lambda a, t: f"antwoord verstuurd via {a.get('via', '?')}" + (f": {a['ref']}" if a.get("ref") else ""),
    "dry_run": lambda a, t: f"proefmodus via {a.get('via', '?')}" + (f": {a['ref']}" if a.get("ref") else ""),
    "snoozed": lambda a, t: f"uitgesteld tot {t(a.get('until', '?'))}",
    "snooze_ended": lambda a, t: "uitstel voorbij",
    "handoff_mailed": lambda a, t: f"per e-mail doorgestuurd naar {a.get('to', '?')} ({a.get('ref', '')})",
    "erased": lambda a, t: "gewist op verzoek",
    "evidence_kept": lambda a, t: "bewijs bewaard",
    "moderated": lambda a, t: ("ongedaan gemaakt: " if a.get("undo") else "")
        + f"{_MODERATED_NL.get(a.get('action', ''), a.get('action', '?'))} op {a.get('source', '?')}"
        + (f": {a['answer']}" if a.get("answer") else ""),
    "role_told": lambda a, t: f"{_role_nl(a.get('role', '?'))} verwittigd" + (f": {a['name']}" if a.get("name") else ""),
    "ambassadors": lambda a, t: "doorgegeven aan de ambassadeurs" + (f": {a['names']}" if a.get("names") else ""),
    "followed": lambda a, t: "gevolgd: een bericht van iemand op de volglijst dat ons niet noemt (geen antwoord verschuldigd)",
}  # fmt: skip

# What a moderation action did, in Dutch (the platform's own answer stays as it said it).
_MODERATED_NL = {
    "hide": "verborgen", "unhide": "weer getoond", "delete": "verwijderd", "remove": "verwijderd",
    "approve": "goedgekeurd", "reject": "afgewezen", "hold": "ter beoordeling gezet", "publish": "gepubliceerd",
}  # fmt: skip


def _role_nl(role: str) -> str:
    from webcare.roles import role_word  # roles reads the experts: only when a role is shown

    return role_word(role, "nl")


def describe(
    entry: dict[str, Any],
    language: str,
    leaf_action: Callable[[str], str | None] = lambda leaf_id: None,
    tz: tzinfo | None = None,
) -> str:
    """What an entry says, in `language`. `leaf_action(leaf_id)` gives a scheme leaf's action
    in that language (else the one the entry holds); `tz` shows times in the desk's timezone.
    Text that is no known kind is shown as it is."""
    what = str(entry.get("what", ""))
    found = kind_of(entry)
    if found is None:
        return what
    kind, args = found
    if kind == "undo":
        undone = args.get("undone") or {}
        inner = describe(undone if isinstance(undone, dict) else {}, language, leaf_action, tz)
        return f"{'ongedaan gemaakt' if language == 'nl' else 'undone'}: {inner}"
    if kind == "triage":
        args = {**args, "action": leaf_action(str(args.get("leaf", ""))) or args.get("action", "")}

    def moment(value: str) -> str:
        try:
            at = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return when(at, tz, language) if tz is not None and at.tzinfo is not None else str(value)

    if language == "nl" and kind in _DUTCH:
        return _DUTCH[kind](args, moment)
    if kind == "snoozed":
        return f"snoozed until {moment(args.get('until', '?'))}"
    return _english(kind, args)


def entry_of(action: str) -> dict[str, Any]:
    """An action as the history entry `describe` reads (a plain string: its words only)."""
    return {"what": str(action), "kind": getattr(action, "kind", ""), "args": getattr(action, "args", {})}


def leaf_actions(leaves: dict[str, Any], language: str) -> Callable[[str], str | None]:
    """`describe`'s leaf_action for a scheme's leaves (webcare.scheme.Leaf) in `language`."""

    def leaf_action(leaf_id: str) -> str | None:
        leaf = leaves.get(leaf_id)
        return None if leaf is None else leaf.action.get(language, leaf.action.get("en"))

    return leaf_action


def anonymised(args: Any) -> dict[str, Any]:
    """An entry's args without free text (notes, links), for an anonymised mention."""
    if not isinstance(args, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in args.items():
        if k == "undone" and isinstance(v, dict):
            out[k] = {"kind": v.get("kind", ""), "args": anonymised(v.get("args"))}
        elif k in FREE_TEXT:
            out[k] = ""
        else:
            out[k] = v
    return out
