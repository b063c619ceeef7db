"""The reaction scheme: the organisation's policy for whether and how to react, as data.

The default is the scheme docs/triage.md documents (node ids are stable). An organisation can
replace it with a [scheme] table in config.toml of the same shape as DEFAULT below; `load`
checks it: every option leads to a known node, keys are unique per question, every path ends
in a leaf, and there are no cycles. A `Walk` answers one question per key.

An option's `key` is its answer id: what `scheme_path` stores ("R5a:e"), whatever the desk's
language. The key typed for it depends on the language (`typed_keys`): yes and no are `j`/`n`
in a Dutch desk and `y`/`n` in an English one; any other answer takes the first free letter of
its label in the desk's language ("andere overheid" → `a`), never the yes/no letters.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from webcare.known import unknown_key
from webcare.mention import STATUSES, Status

ROUTES = ("crisis", "spokesperson", "expert", "unit", "lead")  # lead: the communication lead ([[roles]])
YES_IDS = ("y", "j")  # an option with one of these keys means yes (stored as it is written)
NO_IDS = ("n",)
YES_KEY = {"nl": "j", "en": "y"}
NO_KEY = {"nl": "n", "en": "n"}


class SchemeError(ValueError):
    """The scheme in config.toml is not usable; the message names the node and key."""


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    goto: str
    label: dict[str, str]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: dict[str, str]
    options: tuple[Option, ...]

    def option(self, key: str) -> Option | None:
        """The option whose answer id (the stored key) is `key`."""
        return next((o for o in self.options if o.key == key), None)


def _letters(text: str) -> list[str]:
    """The letters a label offers as its key, best first: each word's first letter, then the
    rest in order (accents dropped: "één" → e)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    words = ["".join(c for c in w if c.isascii() and c.isalnum()) for w in plain.split()]
    words = [w for w in words if w]
    return [w[0] for w in words] + [c for w in words for c in w[1:]]


def typed_keys(question: Question, language: str) -> dict[str, str]:
    """The key to type for each option in `language`, by answer id. Yes is `j` (nl) or `y`
    (en), no is `n`; every other answer takes the first letter of its label in `language` that
    is free — yes/no letters stay reserved, so `j` and `n` mean yes and no in every question —
    trying each word's first letter before the others; in English the scheme's own key comes
    first (the keys English desks always had). Distinct within the question, always."""
    lang = language if language in YES_KEY else "en"
    yes, no = YES_KEY[lang], NO_KEY[lang]
    reserved = {yes, no}
    out: dict[str, str] = {}
    for o in question.options:
        if o.key in YES_IDS:
            out[o.key] = yes
        elif o.key in NO_IDS:
            out[o.key] = no
    taken = set(out.values()) | reserved
    for o in question.options:
        if o.key in out:
            continue
        label = o.label.get(lang, o.label.get("en", o.key))
        candidates = _letters(label)
        candidates = [o.key.lower(), *candidates] if lang == "en" else [*candidates, o.key.lower()]
        key = next(c for c in [*candidates, *string.ascii_lowercase, *string.digits] if c not in taken)
        out[o.key] = key
        taken.add(key)
    return out


def answer_id(question: Question, typed: str, language: str) -> str | None:
    """The answer id the typed key stands for in `language` (None: no answer of this question)."""
    return next((aid for aid, k in typed_keys(question, language).items() if k == typed), None)


def shown_path(scheme: Scheme, path: list[str], language: str) -> str:
    """A stored scheme path as the desk shows it, with the keys typed in `language`:
    ['R1:n', 'R5a:y', 'L6'] → 'R1:n R5a:j L6' in Dutch. Steps it does not know stay as stored."""
    out = []
    for step in path:
        qid, sep, aid = step.partition(":")
        question = scheme.questions.get(qid) if sep else None
        if question is not None and question.option(aid) is not None:
            step = f"{qid}:{typed_keys(question, language)[aid]}"
        out.append(step)
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class Leaf:
    """Where the walk ends: the recommended action and what the desk records."""

    id: str
    action: dict[str, str]  # the recommended action, per UI language
    status: Status  # the mention's status once applied
    category: str | None = None
    reply: bool = False  # a public reply is owed (the countdown keeps running until it is sent)
    route: str | None = None  # crisis | spokesperson | expert | unit | lead: who it goes to
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scheme:
    start: str
    questions: dict[str, Question]
    leaves: dict[str, Leaf]

    def node(self, node_id: str) -> Question | Leaf:
        return self.questions.get(node_id) or self.leaves[node_id]


def _texts(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"nl": value, "en": value}
    if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
        raise SchemeError(f"{where}: must be a text or a table of texts per language (nl, en)")
    return dict(value)


_SCHEME_KEYS = {"start", "questions", "leaves"}
_QUESTION_KEYS = {"id", "text", "options"}
_OPTION_KEYS = {"key", "goto", "label"}
_LEAF_KEYS = {"id", "action", "status", "category", "reply", "route", "flags"}


def _known(table: dict[str, Any], where: str, known: set[str]) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise SchemeError(unknown_key(where, extra[0], known))


def parse(data: dict[str, Any]) -> Scheme:
    """A Scheme from its table form (DEFAULT, or [scheme] in config.toml), checked."""
    questions: dict[str, Question] = {}
    leaves: dict[str, Leaf] = {}
    _known(data, "[scheme] ", _SCHEME_KEYS)
    for i, q in enumerate(data.get("questions", [])):
        where = f"[scheme] questions #{i + 1}"
        qid = q.get("id") if isinstance(q, dict) else None
        if not isinstance(qid, str) or not qid:
            raise SchemeError(f"{where}: id: missing")
        where = f"[scheme] question {qid}"
        _known(q, f"{where}: ", _QUESTION_KEYS)
        if qid in questions:
            raise SchemeError(f"{where}: id is used twice")
        options: list[Option] = []
        for j, o in enumerate(q.get("options", [])):
            if not isinstance(o, dict):
                raise SchemeError(f"{where}: options #{j + 1}: must be a table")
            _known(o, f"{where}: options #{j + 1}: ", _OPTION_KEYS)
            key, goto = o.get("key"), o.get("goto")
            if not isinstance(key, str) or len(key) != 1 or not key.isalnum():
                raise SchemeError(f"{where}: options #{j + 1}: key: must be one letter or digit (got {key!r})")
            if any(x.key == key for x in options):
                raise SchemeError(f"{where}: options #{j + 1}: key {key!r} is used twice in this question")
            if key in YES_IDS and any(x.key in YES_IDS for x in options):
                raise SchemeError(f"{where}: options #{j + 1}: key {key!r}: another answer already means yes (y or j)")
            if not isinstance(goto, str) or not goto:
                raise SchemeError(f"{where}: options #{j + 1}: goto: missing")
            options.append(Option(key, goto, _texts(o.get("label", key), f"{where}: options #{j + 1}: label")))
        if len(options) < 2:
            raise SchemeError(f"{where}: options: a question needs at least two answers")
        questions[qid] = Question(qid, _texts(q.get("text"), f"{where}: text"), tuple(options))
    for i, leaf in enumerate(data.get("leaves", [])):
        lid = leaf.get("id") if isinstance(leaf, dict) else None
        if not isinstance(lid, str) or not lid:
            raise SchemeError(f"[scheme] leaves #{i + 1}: id: missing")
        where = f"[scheme] leaf {lid}"
        _known(leaf, f"{where}: ", _LEAF_KEYS)
        if lid in leaves or lid in questions:
            raise SchemeError(f"{where}: id is used twice")
        status = leaf.get("status")
        if status not in STATUSES:
            raise SchemeError(f"{where}: status: {status!r} is not one of {', '.join(STATUSES)}")
        route = leaf.get("route")
        if route is not None and route not in ROUTES:
            raise SchemeError(f"{where}: route: {route!r} is not one of {', '.join(ROUTES)}")
        leaves[lid] = Leaf(
            id=lid,
            action=_texts(leaf.get("action"), f"{where}: action"),
            status=Status(status),
            category=leaf.get("category"),
            reply=bool(leaf.get("reply", False)),
            route=route,
            flags=tuple(leaf.get("flags", ())),
        )
    start = data.get("start", "R1")
    scheme = Scheme(start, questions, leaves)
    _check_graph(scheme)
    return scheme


def _check_graph(scheme: Scheme) -> None:
    """Every option leads somewhere known, every path ends in a leaf, no cycles."""
    if scheme.start not in scheme.questions:
        raise SchemeError(f"[scheme] start: {scheme.start!r} is not a question")
    for q in scheme.questions.values():
        for o in q.options:
            if o.goto not in scheme.questions and o.goto not in scheme.leaves:
                raise SchemeError(f"[scheme] question {q.id}: option {o.key!r} goes to {o.goto!r}, which is no question or leaf")

    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if node in scheme.leaves or node in done:
            return
        if node in trail:
            raise SchemeError(f"[scheme] question {node}: the path {' → '.join((*trail, node))} goes round in a cycle")
        for o in scheme.questions[node].options:
            visit(o.goto, (*trail, node))
        done.add(node)

    visit(scheme.start, ())


@dataclass
class Walk:
    """One walk through the scheme: the answers so far and where it stands."""

    scheme: Scheme
    language: str = "en"  # which keys answer (typed_keys)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (question id, answer id)

    @property
    def current(self) -> Question | Leaf:
        node = self.scheme.start
        for _, key in self.answers:
            option = self.scheme.questions[node].option(key)
            assert option is not None
            node = option.goto
        return self.scheme.node(node)

    @property
    def leaf(self) -> Leaf | None:
        node = self.current
        return node if isinstance(node, Leaf) else None

    def answer(self, typed: str) -> bool:
        """Answer the current question with a key typed in the walk's language; False (nothing
        changes) for a key it does not take."""
        node = self.current
        if isinstance(node, Leaf):
            return False
        aid = answer_id(node, typed, self.language)
        if aid is None:
            return False
        self.answers.append((node.id, aid))
        return True

    def back(self) -> bool:
        if not self.answers:
            return False
        self.answers.pop()
        return True

    def path(self) -> list[str]:
        """['R1:n', 'R2:n', …, 'L6'] — what the export's scheme_path holds (answer ids, the
        same in every language)."""
        out = [f"{q}:{k}" for q, k in self.answers]
        if self.leaf is not None:
            out.append(self.leaf.id)
        return out


def _yn(qid: str, nl: str, en: str, yes: str, no: str) -> dict[str, Any]:
    return {
        "id": qid,
        "text": {"nl": nl, "en": en},
        "options": [
            {"key": "y", "goto": yes, "label": {"nl": "ja", "en": "yes"}},
            {"key": "n", "goto": no, "label": {"nl": "nee", "en": "no"}},
        ],
    }


def _leaf(lid: str, nl: str, en: str, status: str, **kw: Any) -> dict[str, Any]:
    return {"id": lid, "action": {"nl": nl, "en": en}, "status": status, **kw}


DEFAULT: dict[str, Any] = {
    "start": "R1",
    "questions": [
        _yn("R1", "Acuut gevaar, noodsituatie of crisis?", "Acute danger, emergency or crisis?", "L1", "R2"),
        _yn("R2", "Pers, politicus of kabinet?", "Is the sender press, a politician or a cabinet?", "L2", "R3"),
        _yn("R3", "Overtreedt het de huisregels (haat, bedreiging, privacy van anderen, spam)?",
            "Does it break the house rules (hate, threats, others' privacy, spam)?", "L3", "R4"),
        _yn("R4", "Positief of evenwichtig?", "Is it positive or balanced?", "R4a", "R5"),
        _yn("R4a", "Rechtstreeks aan ons gericht?", "Is it addressed to us?", "L4", "L5"),
        _yn("R5", "Een vraag om informatie?", "Is it a request for information?", "R5a", "R6"),
        {
            "id": "R5a",
            "text": {"nl": "Kennen we het antwoord en is het onze bevoegdheid?", "en": "Can we answer it ourselves, now?"},
            "options": [
                {"key": "y", "goto": "L6", "label": {"nl": "ja", "en": "yes"}},
                {"key": "o", "goto": "L7", "label": {"nl": "andere overheid", "en": "another authority"}},
                {"key": "e", "goto": "L8", "label": {"nl": "expert nodig", "en": "needs an expert"}},
            ],
        },
        _yn("R6", "Klacht of melding over onze dienstverlening?", "Is it a complaint or report about our service?", "L9", "R7"),
        _yn("R7", "Bevat het foute informatie?", "Does it contain wrong facts?", "R7a", "R8"),
        _yn("R7a", "Maakt een correctie verschil (bereik, opiniemaker, herhaald)?",
            "Will a correction make a difference (reach, opinion maker, repeated)?", "L10", "L11"),
        {
            "id": "R8",
            "text": {"nl": "Wat is het?", "en": "What is it?"},
            "options": [
                {"key": "t", "goto": "L12", "label": {"nl": "trol of tirade", "en": "troll or rant"}},
                {"key": "c", "goto": "L13", "label": {"nl": "algemene kritiek", "en": "general criticism"}},
                {"key": "o", "goto": "L14", "label": {"nl": "iets anders", "en": "otherwise"}},
            ],
        },
    ],
    "leaves": [
        _leaf("L1", "Escaleren: crisis. Verwittig de crisiscontactpersoon, ook buiten de kantooruren.",
              "Escalate: crisis. Notify the crisis contact, also outside office hours.",
              "escalated", category="crisis", reply=True, route="crisis", flags=["crisis"]),
        _leaf("L2", "Doorgeven aan de woordvoerder / het kabinet; geen eigen reactie.",
              "Hand to the spokesperson / cabinet; no reply of our own.",
              "routed", category="press", route="spokesperson", flags=["no-reply"]),
        _leaf("L3", "Modereren: verbergen of verwijderen met reden, bewijs bewaren; strafbaar → juridische dienst.",
              "Moderate: hide or remove with a reason, keep evidence; criminal → legal service.",
              "moderated", category="troll", flags=["evidence"]),
        _leaf("L4", "Persoonlijk bedanken; zeg wat er met een tip gebeurt.",
              "Thank personally; say what happens with a tip.", "responding", category="compliment", reply=True),
        _leaf("L5", "Laten staan (hoogstens liken of delen).", "Let stand (like or share at most).",
              "no reaction", category="compliment"),
        _leaf("L6", "Snel antwoorden in hetzelfde kanaal: een volledig antwoord met link.",
              "Answer fast in the same channel: a self-contained answer with a link.",
              "responding", category="question", reply=True),
        _leaf("L7", "Doorverwijzen naar de bevoegde overheid (taggen of contactgegevens).",
              "Refer to the competent authority (tag it or give contact details).",
              "responding", category="other-authority", reply=True),
        _leaf("L8", "Bevestigen (\"we zoeken het uit\") en doorsturen naar de expert.",
              "Acknowledge (\"we are looking into it\") and route to the expert.",
              "routed", category="question", reply=True, route="expert"),
        _leaf("L9", "Herstellen: empathisch publiek antwoord, intern checken, oplossing bieden, persoonsgegevens privé.",
              "Restore: empathic public reply, check internally, offer a fix, move personal data to private.",
              "responding", category="complaint", reply=True, route="unit"),
        _leaf("L10", "Feiten rechtzetten: neutraal, met bron, één keer.", "Fix the facts: neutral, sourced, once.",
              "responding", category="misinformation", reply=True),
        _leaf("L11", "Laten staan, opvolgen.", "Let stand, monitor.", "monitoring", category="misinformation"),
        _leaf("L12", "Niet op ingaan; opvolgen; signaleren aan de communicatieverantwoordelijke.",
              "Do not engage; monitor; flag to the communication lead.",
              "monitoring", category="troll", route="lead", flags=["flagged"]),
        _leaf("L13", "Eén beleefd antwoord dat het beleid uitlegt, dan loslaten.",
              "One polite reply that explains the policy, then let go.",
              "responding", category="complaint", reply=True),
        _leaf("L14", "Laten staan; loggen.", "Let stand; log.", "no reaction", category="off-topic"),
    ],
}
