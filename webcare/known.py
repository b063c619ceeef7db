"""Names config.toml knows: a misspelt table or key is refused with a "did you mean", so a typo
never passes silently while the defaults apply (a `[nroms]` once did).

Every parser of a table uses `refuse_unknown`; the messages all read
"<where> <key>: unknown key (did you mean 'x'?) (known: …)".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any


def suggest(name: str, known: Iterable[str]) -> str:
    """ " (did you mean 'norms'?)" for a misspelt key or table, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key(where: str, key: str, known: Iterable[str]) -> str:
    """The message for `key` in `where` (written with its separator: "[desk] " or "… #1: ")."""
    names = sorted(known)
    return f"{where}{key}: unknown key{suggest(key, names)} (known: {', '.join(names)})"


def refuse_unknown(table: Mapping[str, Any], where: str, known: Iterable[str]) -> None:
    """ValueError naming the first key of `table` that is not in `known`."""
    names = set(known)
    extra = sorted(set(table) - names)
    if extra:
        raise ValueError(unknown_key(where, extra[0], names))
