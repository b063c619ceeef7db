"""What the desk watches for: the [watch] keywords a mention must match.

Matching is case- and accent-insensitive ("Vlaamse Landmaatschappij" matches
"vlaamse landmaatschappij", "mestbank" matches "Mestbank"). A keyword must start a word, so
"VLM" matches "#VLM" and "@VLM_be" but not "xvlmx". Short keywords (acronyms, under five
letters) must also end one; longer ones may run on, because Dutch builds compounds:
"mestbank" matches "mestbankaangifte" and "Mestbankloket".
"""

from __future__ import annotations

import re
import unicodedata


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
