"""Reply templates: the starting text of a reply, per reaction-scheme leaf or category, language
and register, read from the [[templates]] tables of config.toml.

    [[templates]]
    category = "L9"            # a leaf of the reaction scheme (L1–L14) or a category (complaint…)
    language = "nl"            # nl | en | fr
    register = "formal"        # formal ("u") | informal ("je")
    text = "Beste {author}, wat vervelend … ^{initials}"

`pick` chooses the template for a mention; `fill` puts in the placeholders. The filled text is
plain text that the person on duty edits before sending: it is never parsed as markup, and a
brace that is not a known placeholder stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webcare.known import refuse_unknown

LEAVES = tuple(f"L{i}" for i in range(1, 15))
CATEGORIES = (
    "question",
    "complaint",
    "report",
    "compliment",
    "suggestion",
    "misinformation",
    "crisis",
    "press",
    "political",
    "troll",
    "spam",
    "other-authority",
    "off-topic",
)
LANGUAGES = ("nl", "en", "fr")
REGISTERS = ("formal", "informal")
PLACEHOLDERS = ("author", "first_name", "initials", "operator", "desk", "link", "channel")
FALLBACK_LANGUAGE = "en"

_KEYS = {"category", "language", "register", "text"}


@dataclass(frozen=True, slots=True)
class Template:
    category: str  # a leaf id ("L9") or a category name ("complaint")
    language: str
    register: str
    text: str

    @property
    def is_leaf(self) -> bool:
        return self.category in LEAVES


def _key(value: str) -> str:
    value = value.strip()
    return value.upper() if re.fullmatch(r"[lL]\d{1,2}", value) else value.lower()


def load_templates(raw: Any) -> list[Template]:
    """The [[templates]] array of the config as Templates; ValueError names the bad entry."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("templates: write each template as a [[templates]] table")
    out = []
    for i, entry in enumerate(raw):
        where = f"[[templates]] #{i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        refuse_unknown(entry, f"{where}: ", _KEYS)
        for key in ("category", "language", "register", "text"):
            if key not in entry:
                raise ValueError(f"{where}: {key}: missing")
            if not isinstance(entry[key], str):
                raise ValueError(f"{where}: {key}: must be a string, not {entry[key]!r}")
        category = _key(entry["category"])
        if category not in LEAVES and category not in CATEGORIES:
            raise ValueError(
                f"{where}: category: {entry['category']!r} is not a leaf (L1–L14) or a category "
                f"({', '.join(CATEGORIES)})"
            )
        language = entry["language"].strip().lower()
        if language not in LANGUAGES:
            raise ValueError(f"{where}: language: {entry['language']!r} is not one of {', '.join(LANGUAGES)}")
        register = entry["register"].strip().lower()
        if register not in REGISTERS:
            raise ValueError(f"{where}: register: {entry['register']!r} is not formal or informal")
        text = entry["text"].strip()
        if not text:
            raise ValueError(f"{where}: text: must not be empty")
        out.append(Template(category, language, register, text))
    return out


def pick(
    templates: Iterable[Template],
    *,
    leaf: str | None,
    category: str | None,
    language: str | None,
    register: str | None,
) -> Template | None:
    """The best template for a mention, or None. The order of preference:

    1. the leaf, in the language and register       4. the category, in the language, any register
    2. the leaf, in the language, any register       5–8. the same four in English
    3. the category, in the language and register

    "Any register" prefers the formal one (the safe choice) and else the first in the config.
    """
    templates = list(templates)
    wanted_keys = [k for k in (_key(leaf) if leaf else None, _key(category) if category else None) if k]
    languages = [lang for lang in dict.fromkeys([(language or "").lower()[:2], FALLBACK_LANGUAGE]) if lang]
    reg = (register or "").lower()
    for lang in languages:
        for key in wanted_keys:
            candidates = [t for t in templates if t.category == key and t.language == lang]
            for t in candidates:
                if t.register == reg:
                    return t
            for t in sorted(candidates, key=lambda t: t.register != "formal"):
                return t
    return None


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, values: Mapping[str, object]) -> str:
    """`text` with each {name} replaced by values[name].

    A placeholder without a value (missing, None or empty) stays visible, so the person editing
    sees what is still to do; stray braces are left alone. Values are put in as they are and
    never read again, so an author named "{link}" cannot pull in another value.
    """

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None or value == "" else str(value)

    return _PLACEHOLDER.sub(one, text)


def initials_of(name: str) -> str:
    """ "An Peeters" → "AP"; "an.de-smet" → "ADS"; a single word gives its first two letters."""
    parts = [p for p in re.split(r"[\s._-]+", name.strip()) if p and p[0].isalpha()]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][:2].upper()
    return "".join(p[0] for p in parts).upper()


def first_name(name: str) -> str:
    """The first word of a display name ("Jan Peeters" → "Jan"); a handle gives nothing."""
    name = name.strip()
    if not name or name.startswith("@"):
        return ""
    return name.split()[0]
