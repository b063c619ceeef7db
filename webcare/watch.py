"""What the desk watches for: the [watch] keywords a mention must match, the rules that tag,
theme and prioritise what matched, and the watchlist of voices (journalists, politicians,
peer organisations, ambassadors) whose mentions carry a badge.

Matching is case- and accent-insensitive ("Vlaamse Landmaatschappij" matches
"vlaamse landmaatschappij", "mestbank" matches "Mestbank"). A keyword must start a word, so
"VLM" matches "#VLM" and "@VLM_be" but not "xvlmx". Short keywords (acronyms, under five
letters) must also end one; longer ones may run on, because Dutch builds compounds:
"mestbank" matches "mestbankaangifte" and "Mestbankloket".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from webcare.known import refuse_unknown


def fold(text: str) -> str:
    """Lower case without accents: the form both sides are compared in."""
    if text.isascii():  # most posts: no accents to strip, and lower() is casefold() for ASCII
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class KeywordMatcher:
    """Finds which of the configured keywords a text mentions."""

    def __init__(self, keywords: tuple[str, ...]) -> None:
        self.keywords = keywords
        self._patterns = [(k, re.compile(self._pattern(fold(k)))) for k in keywords]

    @staticmethod
    def _pattern(folded: str) -> str:
        body = re.escape(folded).replace(r"\ ", r"\s+")
        end = "" if len(folded) >= 5 else r"(?![^\W_])"
        return r"(?<![^\W_])" + body + end

    def matches(self, *texts: str) -> tuple[str, ...]:
        folded = fold(" \n ".join(texts)) if len(texts) > 1 else fold(texts[0] if texts else "")
        return tuple(k for k, p in self._patterns if p.search(folded))


# --- [[watch.rules]]: tag, theme and prioritise what matched -------------------------------

PRIORITIES = ("normal", "high", "urgent")
KINDS = (
    "journalist",
    "opinion-maker",
    "politician",
    "peer",
    "ambassador-internal",
    "ambassador-external",
)
# Employees are never followed: the guidance rules out targeted control of staff, so the desk
# keeps what an internal ambassador says of us (with its badge), never all they post.
NOT_FOLLOWED = frozenset({"ambassador-internal"})
# The desk's filters over the watchlist: what a webcare team asks to see together.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "press": ("journalist", "opinion-maker", "politician"),  # press and politics
    "peers": ("peer",),  # what other organisations do
    "ambassadors": ("ambassador-internal", "ambassador-external"),  # to thank or amplify
    "all": KINDS,  # the desk's "pers & peers" view: every voice on the watchlist
}


def _term_pattern(term: str) -> str:
    """A term as a keyword matches (KeywordMatcher._pattern): the start of a word, compounds
    allowed for terms of five letters or more."""
    return KeywordMatcher._pattern(fold(term.strip()))


def _phrase_pattern(phrase: str) -> str:
    """A phrase matches as whole words in this order, whatever the spacing between them."""
    body = r"\s+".join(re.escape(w) for w in fold(phrase).split())
    return r"(?<![^\W_])" + body + r"(?![^\W_])"


@dataclass(frozen=True, slots=True)
class Rule:
    """One [[watch.rules]] entry. It matches when one of `any` or `phrases` is present (when
    either is given), every one of `all` is, and none of `not` is."""

    name: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    not_: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    theme: str = ""
    priority: str = "normal"
    _any: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _all: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _not: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def make(
        cls,
        name: str,
        *,
        any: Sequence[str] = (),  # noqa: A002
        all: Sequence[str] = (),  # noqa: A002
        not_: Sequence[str] = (),
        phrases: Sequence[str] = (),
        theme: str = "",
        priority: str = "normal",
    ) -> Rule:
        alternatives = [_term_pattern(t) for t in any] + [_phrase_pattern(p) for p in phrases]
        return cls(
            name,
            tuple(any),
            tuple(all),
            tuple(not_),
            tuple(phrases),
            theme,
            priority,
            re.compile("|".join(alternatives)) if alternatives else None,
            tuple(re.compile(_term_pattern(t)) for t in all),
            re.compile("|".join(_term_pattern(t) for t in not_)) if not_ else None,
        )

    def matches(self, folded: str) -> bool:
        """Whether the rule matches `folded` text (see fold)."""
        if self._any is not None and not self._any.search(folded):
            return False
        if not all(p.search(folded) for p in self._all):
            return False
        return self._not is None or not self._not.search(folded)


@dataclass(frozen=True, slots=True)
class Person:
    """One [[watch.people]] entry: a handle (on one channel, or any) and what kind of voice."""

    handle: str
    kind: str
    channel: str = ""  # "" = any channel
    name: str = ""
    email: str = ""  # an ambassador who opted in to the digest and pass-ons (webcare/ambassadors.py)
    feed: str = ""  # their blog's RSS or Atom feed: followed by a source of its own


def handle_key(handle: str) -> str:
    """A handle as compared: folded, without a leading @ or u/ (an e-mail address stays whole)."""
    h = fold(handle.strip())
    return h.removeprefix("@").removeprefix("u/")


@dataclass(frozen=True, slots=True)
class Reading:
    """What the watch saw in one mention."""

    keywords: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    priority: str = "normal"
    watchlist: str = ""  # the author's kind on the watchlist
    watch_name: str = ""  # their name as the watchlist gives it


@dataclass(frozen=True, slots=True)
class Watch:
    """[watch]: keywords (what a mention must match), rules and the watchlist."""

    keywords: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    people: tuple[Person, ...] = ()
    _matcher: KeywordMatcher = field(init=False, repr=False, compare=False)
    _people: dict[tuple[str, str], Person] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_matcher", KeywordMatcher(self.keywords))
        index: dict[tuple[str, str], Person] = {}
        for p in self.people:
            index[(handle_key(p.handle), p.channel)] = p
        object.__setattr__(self, "_people", index)

    def followed(self, channel: str) -> tuple[Person, ...]:
        """The people a source of `channel` follows: those with a handle on that channel (one
        without a channel may be anyone anywhere, so no source can follow them). Never staff
        (NOT_FOLLOWED): a badge on what they say of us is all the desk keeps of them."""
        return tuple(p for p in self.people if p.channel == channel and p.kind not in NOT_FOLLOWED)

    def person(self, author: str, channel: str) -> Person | None:
        key = handle_key(author)
        return self._people.get((key, channel)) or self._people.get((key, ""))

    def read(self, title: str, text: str, author: str, channel: str) -> Reading:
        folded = fold(f"{title} \n {text} \n {author}")
        keywords = tuple(k for k, p in self._matcher._patterns if p.search(folded))
        hits = [r for r in self.rules if r.matches(folded)]
        person = self.person(author, channel) if self.people else None
        themes = tuple(dict.fromkeys(r.theme for r in hits if r.theme))
        priority = max((r.priority for r in hits), key=PRIORITIES.index, default="normal")
        return Reading(
            keywords=keywords,
            rules=tuple(r.name for r in hits),
            themes=themes,
            priority=priority,
            watchlist=person.kind if person else "",
            watch_name=person.name if person else "",
        )


def _terms(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where} {key}: must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_watch(table: dict[str, Any]) -> Watch:
    """[watch] as read from config.toml; ValueError names the entry and the key."""
    refuse_unknown(table, "[watch] ", {"keywords", "rules", "people"})
    keywords = _terms(table, "keywords", "[watch]")
    rules: list[Rule] = []
    raw_rules = table.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValueError("[[watch.rules]] must be an array of tables")
    names: set[str] = set()
    for i, entry in enumerate(raw_rules):
        where = f"[[watch.rules]] #{i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        refuse_unknown(entry, f"{where} ", {"name", "any", "all", "not", "phrases", "theme", "priority"})
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where} name: missing (every rule needs a name)")
        where = f"[[watch.rules]] {name!r}"
        if name in names:
            raise ValueError(f"{where} name: used twice")
        names.add(name)
        any_, all_, not_, phrases = (
            _terms(entry, k, where) for k in ("any", "all", "not", "phrases")
        )
        if not (any_ or all_ or phrases):
            raise ValueError(f"{where}: give at least one of any, all or phrases")
        theme = entry.get("theme", "")
        if not isinstance(theme, str):
            raise ValueError(f"{where} theme: must be a string")
        priority = entry.get("priority", "normal")
        if priority not in PRIORITIES:
            raise ValueError(
                f"{where} priority: {priority!r} is not one of {', '.join(PRIORITIES)}"
            )
        rules.append(
            Rule.make(
                name.strip(),
                any=any_,
                all=all_,
                not_=not_,
                phrases=phrases,
                theme=theme.strip(),
                priority=priority,
            )
        )
    people: list[Person] = []
    raw_people = table.get("people", [])
    if not isinstance(raw_people, list):
        raise ValueError("[[watch.people]] must be an array of tables")
    for i, entry in enumerate(raw_people):
        where = f"[[watch.people]] #{i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        refuse_unknown(entry, f"{where} ", {"handle", "channel", "kind", "name", "email", "feed"})
        handle = entry.get("handle")
        if not isinstance(handle, str) or not handle_key(handle):
            raise ValueError(f"{where} handle: missing")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where} kind: {kind!r} is not one of {', '.join(KINDS)}")
        channel = entry.get("channel", "")
        if not isinstance(channel, str):
            raise ValueError(f"{where} channel: must be a string")
        if channel:
            from webcare.channels import normalize_channel

            try:
                channel = normalize_channel(channel)
            except ValueError as exc:
                raise ValueError(f"{where} channel: {exc}") from None
        name = entry.get("name", "")
        if not isinstance(name, str):
            raise ValueError(f"{where} name: must be a string")
        email = entry.get("email", "")
        if email:
            if kind not in KIND_GROUPS["ambassadors"]:
                raise ValueError(f"{where} email: only an ambassador (ambassador-internal, ambassador-external) gets e-mail")
            from webcare.routing import _EMAIL

            if not isinstance(email, str) or not _EMAIL.match(email.strip()):
                raise ValueError(f"{where} email: {email!r} is not an e-mail address like 'an.peeters@example.org'")
        feed = entry.get("feed", "")
        if not isinstance(feed, str):
            raise ValueError(f"{where} feed: must be a string")
        feed = feed.strip()
        if feed and not re.match(r"^https?://[^\s/?#]+", feed, re.IGNORECASE):
            raise ValueError(f"{where} feed: {feed!r} is not an address like https://example.org/feed.xml")
        if feed and kind in NOT_FOLLOWED:
            raise ValueError(f"{where} feed: staff ({kind}) are not followed: leave the feed out")
        people.append(Person(handle.strip(), kind, channel, name.strip(), email=email.strip() if email else "", feed=feed))
    return Watch(keywords, tuple(rules), tuple(people))
