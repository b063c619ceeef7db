"""A mention's history: events (what was done, as a kind with its fields), said in the
desk's language when shown.

An operator's action is an `Event`: its kind ("routed", "responded", …) and fields ({"to": …}).
The store keeps each one as a history entry {"at", "who", "what", "kind", "args", "changes",
"before"}: when and by whom, the event's kind and fields (`args`), and the values the change set
and replaced (which undo restores). `what` is the event's English sentence, which entries always
had: exports and older desks read it; this desk never does, except in entries written before
events had kinds — the sentences the desk itself wrote then are recognised (`recognise`) and
shown in the desk's language too; any other text is shown as it is.

The words are webcare.i18n's EVENT_WORDS, in nl and en. Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from string import Formatter
from typing import Any

from webcare.i18n import EVENT_WORDS, when, word

# Fields that hold free text (a note to an expert, a reply's link or id on the platform):
# retention's anonymisation blanks them, as it drops the text after ": " in `what`.
FREE_TEXT = frozenset({"note", "ref"})

# The events that record our reply (typed on the desk and posted by hand, or sent by it).
REPLY_EVENTS = frozenset({"responded", "reply_sent"})

# Template fields (EVENT_WORDS) that read ": <the field>" when it is set, else nothing.
_TAILS = frozenset({"action", "note", "ref", "answer", "name", "names"})
# Template fields that read the words "<kind>.<field>" when the event's field is true.
_FLAGS = frozenset({"by_email", "late", "undo"})


def _template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name]


def render(
    kind: str,
    fields: dict[str, Any],
    language: str,
    moment: Callable[[str], str] = str,
    role: Callable[[str], str] = str,
    key: str = "",
) -> str:
    """An event in `language` (EVENT_WORDS[`key` or `kind`]); `moment` says a time, `role` a
    role's name. A kind without words is said as its kind."""
    template = word(key or kind, language, EVENT_WORDS)
    if template == (key or kind):
        return kind
    values: dict[str, str] = {}
    for name in _template_fields(template):
        if name in _FLAGS:
            values[name] = word(f"{kind}.{name}", language, EVENT_WORDS) if fields.get(name) else ""
        elif name in _TAILS:
            values[name] = f": {fields[name]}" if fields.get(name) else ""
        elif name == "message":  # a hand-off's Message-ID, in brackets
            values[name] = str(fields.get("ref", ""))
        elif name == "done":  # what a moderation did, in the desk's words where it has them
            done = str(fields.get("action", "?"))
            said = word(f"moderated.{done}", language, EVENT_WORDS)
            values[name] = done if said == f"moderated.{done}" else said
        elif name == "undone":
            undone = fields.get("undone") or {}
            values[name] = str(undone.get("what", "")) if isinstance(undone, dict) else ""
        elif name == "until":
            values[name] = moment(str(fields.get(name, "?")))
        elif name == "role":
            values[name] = role(str(fields.get(name, "?")))
        else:
            values[name] = str(fields.get(name, "?"))
    return template.format_map(values)


@dataclass(frozen=True, slots=True, init=False)
class Event:
    """What was done to a mention: a kind and its fields. `str()` is its English sentence (the
    `what` its history entry stores)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __init__(self, kind: str, /, **fields: Any) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "fields", fields)

    @property
    def args(self) -> dict[str, Any]:
        """The fields under the name history entries store them with."""
        return self.fields

    def __str__(self) -> str:
        key = "undo.stored" if self.kind == "undo" else ""
        return render(self.kind, self.fields, "en", key=key)

    def entry(self) -> dict[str, Any]:
        """The event as the history entry `describe` reads (before the store adds who and when)."""
        return {"what": str(self), "kind": self.kind, "args": self.fields}

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Event | None:
        """A history entry's event: as stored, else recognised from the English sentence of an
        entry written before events had kinds; None for text that is no event."""
        found = kind_of(entry)
        return None if found is None else cls(found[0], **found[1])


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
    """The collector took an expert's e-mailed answer: told by the entry's kind, never by its
    words (the collector that writes these always stores the kind)."""
    return entry.get("kind") == "expert_answered" and bool((entry.get("args") or {}).get("by_email"))


def _role(language: str) -> Callable[[str], str]:
    if language == "en":  # the role as configured, as English entries always said it
        return str

    def said(role: str) -> str:
        from webcare.roles import role_word  # roles reads the experts: only when a role is shown

        return role_word(role, language)

    return said


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
        return render(kind, {"undone": {"what": inner}}, language)
    if kind == "triage":
        args = {**args, "action": leaf_action(str(args.get("leaf", ""))) or args.get("action", "")}

    def moment(value: str) -> str:
        try:
            at = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return when(at, tz, language) if tz is not None and at.tzinfo is not None else str(value)

    return render(kind, args, language, moment, _role(language))


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


# --- a change applied to a stored state ----------------------------------------------------

# What a state record means by a field it does not have (a mention nobody has changed has no
# state record at all): what `expect` and `before` compare against.
STATE_DEFAULTS: dict[str, Any] = {"status": "new", "scheme_path": [], "flags": []}


def still_holds(current: dict[str, Any], expect: dict[str, Any] | None) -> bool:
    """Whether a state record still has the values a change expects (None: nothing expected)."""
    return expect is None or all(current.get(k, STATE_DEFAULTS.get(k)) == v for k, v in expect.items())


def state_after(
    current: dict[str, Any], changes: dict[str, Any], action: Event | str, args: dict[str, Any], operator: str, at: datetime
) -> dict[str, Any]:
    """The state record after a change: `changes` applied and one history entry appended with
    who, when, the English words (`what`, for exports and older desks), the event's kind and
    fields (`args`, as stored: shown in the desk's language), the changes and the values they
    replaced (`before`, what undo restores). Every store writes this and the desk shows it
    before the store has answered, so the three agree by construction. `changes` and `args`
    come as the store keeps them (datetimes as ISO text)."""
    before = {k: current.get(k, STATE_DEFAULTS.get(k)) for k in changes}
    entry: dict[str, Any] = {"at": at.isoformat(timespec="seconds"), "who": operator, "what": str(action)}
    if isinstance(action, Event):
        entry["kind"] = action.kind
        entry["args"] = args
    return {**current, **changes, "history": [*current.get("history", []), {**entry, "changes": changes, "before": before}]}
