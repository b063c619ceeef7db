"""Who holds which role in the webcare team, from config.toml's [[roles]]:

    [[roles]]
    role = "crisis-contact"         # social-media-manager | conversation-manager | community-manager
                                    # | spokesperson | crisis-contact | communication-lead
    expert = "Chris Maes"           # someone in [[experts]] …
    # name = "Els Vos"              # … or a name and an e-mail address …
    # email = "els.vos@example.org"
    # oncall = true                 # … or whoever is on call at that moment ([[oncall]])

A role may have several entries: they are tried in order, and whoever can be reached first
(in their hours, on call) is the one told. The older way, `roles = ["spokesperson", "crisis"]`
on an expert, still counts: those experts come after the [[roles]] entries.

Nothing here does I/O: a holder is resolved at a moment, as an Expert the hand-off code can
write to (a name with an e-mail address but no [[experts]] entry is always reachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from webcare.hours import WeeklyHours
from webcare.known import refuse_unknown
from webcare.mention import Mention
from webcare.routing import (
    Directory,
    Expert,
    Handoff,
    Ranked,
    Reach,
    _email,
    _entries,
    _mention_block,
    _note,
    _rank_key,
    _snippet,
    _where,
    subject_tag,
)
from webcare.watch import fold

ROLE_NAMES = (
    "social-media-manager",
    "conversation-manager",
    "community-manager",
    "spokesperson",
    "crisis-contact",
    "communication-lead",
)
# The scheme's routes and an expert's `roles` use these older names.
LEGACY = {"crisis": "crisis-contact", "spokesperson": "spokesperson"}
ROUTE_ROLE = {"crisis": "crisis-contact", "spokesperson": "spokesperson", "lead": "communication-lead"}
ROLE_WORDS = {
    "social-media-manager": {"nl": "socialemediamanager", "en": "social media manager"},
    "conversation-manager": {"nl": "conversatiemanager", "en": "conversation manager"},
    "community-manager": {"nl": "communitymanager", "en": "community manager"},
    "spokesperson": {"nl": "woordvoerder", "en": "spokesperson"},
    "crisis-contact": {"nl": "crisiscontactpersoon", "en": "crisis contact"},
    "communication-lead": {"nl": "communicatieverantwoordelijke", "en": "communication lead"},
}
_KEYS = {"role", "expert", "name", "email", "oncall"}


def role_word(role: str, language: str) -> str:
    return ROLE_WORDS.get(role, {}).get(language, role)


@dataclass(frozen=True, slots=True)
class RoleEntry:
    """One [[roles]] entry: an expert (by name), a person (name and e-mail) or the on-call rota."""

    role: str
    expert: str = ""
    person: Expert | None = None  # a name and an e-mail address, not in [[experts]]
    oncall: bool = False


@dataclass(frozen=True, slots=True)
class Roles:
    entries: tuple[RoleEntry, ...] = ()

    def configured(self, role: str) -> bool:
        return any(e.role == role for e in self.entries)

    def holders(self, role: str, directory: Directory, now: datetime, tz: tzinfo) -> list[Ranked]:
        """Who holds `role` at `now`, best first: the [[roles]] entries (in order, the on-call
        rota resolved to whoever is on call now), then the experts with the older `roles` key;
        among them whoever can be reached now, then on call, then later. For the crisis
        contact, when nobody can be reached, whoever is on call comes first (as before)."""
        if role not in ROLE_NAMES:
            raise ValueError(f"{role!r} is not a role ({', '.join(ROLE_NAMES)})")
        found: list[Ranked] = []
        seen: set[str] = set()

        def add(expert: Expert, reach: Reach) -> None:
            key = fold(expert.email or expert.name)
            if key not in seen:
                seen.add(key)
                found.append(Ranked(expert, 0, (), reach, False, directory))

        for entry in self.entries:
            if entry.role != role:
                continue
            if entry.person is not None:
                add(entry.person, Reach("now"))
            elif entry.oncall:
                for e in directory.on_call(now, tz):
                    add(e, directory.reach(e, now, tz))
            elif (named := directory.expert(entry.expert)) is not None:
                add(named, directory.reach(named, now, tz))
        legacy = next((old for old, new in LEGACY.items() if new == role), None)
        if legacy is not None:
            for r in directory.contacts(legacy, now, tz):
                add(r.expert, r.reach)
        # Stable: the configured order stays within the same reach.
        found.sort(key=lambda r: (r.reach.order, _rank_key(r)[2]))
        return found

    def holder(self, role: str, directory: Directory, now: datetime, tz: tzinfo) -> Ranked | None:
        found = self.holders(role, directory, now, tz)
        return found[0] if found else None


def load_roles(raw_config: dict[str, Any], directory: Directory) -> Roles:
    """[[roles]] from the whole config table; ValueError naming the entry and key:
    "[[roles]] #2 ('crisis-contact'): expert: 'Ann' is not an expert in [[experts]]"."""
    entries = []
    for i, entry in enumerate(_entries(raw_config, "roles")):
        role = entry.get("role")
        if not isinstance(role, str) or not role.strip():
            raise ValueError(f"{_where('roles', i, None)}: role: missing (one of {', '.join(ROLE_NAMES)})")
        role = LEGACY.get(role.strip().lower(), role.strip().lower())
        where = _where("roles", i, role)
        if role not in ROLE_NAMES:
            raise ValueError(f"{where}: role: not one of {', '.join(ROLE_NAMES)}")
        refuse_unknown(entry, f"{where}: ", _KEYS)
        oncall = entry.get("oncall", False)
        if not isinstance(oncall, bool):
            raise ValueError(f"{where}: oncall: must be true or false, not {oncall!r}")
        given = [k for k in ("expert", "name", "oncall") if k in entry and (k != "oncall" or oncall)]
        if len(given) != 1:
            raise ValueError(
                f"{where}: {'expert' if not given else given[1]}: give one of expert (a name in [[experts]]), "
                "name with email, or oncall = true"
            )
        if "email" in entry and "name" not in entry:
            raise ValueError(f"{where}: email: goes with name (an expert's address comes from [[experts]])")
        if oncall:
            if not directory.oncall:
                raise ValueError(f"{where}: oncall: there is no [[oncall]] rota to take it from")
            entries.append(RoleEntry(role, oncall=True))
        elif "expert" in entry:
            name = entry["expert"]
            if not isinstance(name, str) or directory.expert(name) is None:
                raise ValueError(f"{where}: expert: {name!r} is not an expert in [[experts]]")
            entries.append(RoleEntry(role, expert=" ".join(name.split())))
        else:
            name = entry["name"]
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"{where}: name: must be a non-empty string")
            person = Expert(" ".join(name.split()), _email(entry, where), hours=WeeklyHours.parse("always"),
                            hours_text="always", languages=("nl", "en"))
            entries.append(RoleEntry(role, person=person))
    return Roles(tuple(entries))


def notice_message(mention: Mention, holder: Expert, role: str, *, now: datetime, tz: tzinfo, desk: str,
                   note: str = "", language: str = "nl", operator: str = "", key: str = "") -> Handoff:
    """The e-mail that tells a role holder about a mention: the crisis contact of a crisis (L1),
    the communication lead of a troll or rant (L12). Nobody waits for an answer; the mention
    stays with the desk (escalated, monitored)."""
    nl = language == "nl"
    what = {
        "crisis-contact": ("CRISIS", "CRISIS"),
        "communication-lead": ("Gesignaleerd", "Signalled"),
    }.get(role, ("Ter info", "For your information"))
    subject = f"{subject_tag(mention.id, key)} {what[0] if nl else what[1]}: {_snippet(mention)}"
    intro = {
        "crisis-contact": (
            f"De webcare van {desk} escaleerde deze melding als crisis. Jij bent het crisiscontact: "
            "neem contact op met de webcare; de teller voor het publieke antwoord loopt.",
            f"The webcare desk of {desk} escalated this post as a crisis. You are the crisis contact: "
            "get in touch with the desk; the countdown for the public reply is running.",
        ),
        "communication-lead": (
            f"De webcare van {desk} signaleert je deze melding. We gaan er niet op in en volgen ze op.",
            f"The webcare desk of {desk} signals this post to you. We do not engage and keep monitoring it.",
        ),
    }.get(role, (f"De webcare van {desk} geeft je deze melding door.",
                 f"The webcare desk of {desk} passes this post on to you."))
    lines = [f"{'Dag' if nl else 'Hello'} {holder.first_name},", "", intro[0] if nl else intro[1]]
    lines += _note(note, operator, nl)
    lines += _mention_block(mention, now, tz, language)
    lines += ["", "-- ", f"webcare {desk}"]
    return Handoff(holder.email, holder.name, subject, "\n".join(lines) + "\n", mention.id, "feedback")
