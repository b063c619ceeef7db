"""The hand-offs the desk sent, with their keys: data_dir/handoffs.json.

    {"<mention id>": [{"key": "…", "kind": "question", "to": "an.peeters@example.org",
                       "name": "An Peeters", "at": ISO, "deputy_for": "",
                       "answered_at": null, "replaced_at": null, "answer_ref": ""}, …], …}

Each hand-off gets a random key (`secrets.token_hex`, 80 bits) that goes into its subject tag
(webcare.routing.subject_tag) and nowhere else: not in the mention's state (exports and history
would show it to anyone who reads them), not in a log. webcare.answers decides with these
records whether an e-mail is the expert's answer.

A new question hand-off of a mention replaces the open ones before it to other addresses, except
when it goes to the deputy of the expert the mention is waiting for: then both may answer, the
first answer counts.

Written whole and atomically under the data directory's write lock (the one the mentions share),
so the desk recording a hand-off and the collector taking an answer never lose each other's
change. A file that cannot be read counts as empty for reading (no answer is taken from it, so
nothing is taken wrongly) and is never overwritten by a write: that raises StoreError.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from store.jsonstorage import StoreError, holding, read_json, write_atomically
from store.modes import lock, make_dir
from webcare.answers import SentHandoff
from webcare.mention import to_iso

FILE = "handoffs.json"
KEY_BYTES = 10  # 80 random bits: no one guesses that by sending mail
T = TypeVar("T")


def new_key() -> str:
    return secrets.token_hex(KEY_BYTES)


class HandoffBook:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / FILE
        self._lock = lock(self.data_dir / "write.lock", timeout=30, poll_interval=0.005)

    def _read(self, strict: bool) -> dict[str, list[dict[str, Any]]]:
        try:
            data = read_json(self.path)
        except (ValueError, OSError) as exc:
            if strict:
                raise StoreError(f"{self.path}: cannot read the hand-offs ({exc}); not overwritten") from None
            return {}
        if data is None:
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            if strict:
                raise StoreError(f"{self.path}: not a hand-off file; not overwritten")
            return {}
        return data

    def _change(self, change: Callable[[dict[str, list[dict[str, Any]]]], T]) -> T:
        make_dir(self.data_dir)
        with holding(self._lock, self.data_dir):
            data = self._read(strict=True)
            result = change(data)
            write_atomically(self.path, orjson.dumps(data))
            return result

    def record(
        self,
        mention_id: str,
        *,
        kind: str,
        to: str,
        name: str,
        at: datetime,
        deputy_for: str = "",
    ) -> str:
        """Keep a new hand-off of `mention_id` and return its key. A question replaces the
        mention's open questions before it, unless it goes to the deputy (`deputy_for`: the
        expert whose deputy it is), who answers beside the expert."""
        key = new_key()

        def change(data: dict[str, list[dict[str, Any]]]) -> str:
            records = data.setdefault(mention_id, [])
            if kind == "question" and not deputy_for:
                for r in records:  # a second hand-off to the same address leaves the first open
                    if (r.get("kind", "question") == "question" and not r.get("answered_at") and not r.get("replaced_at")
                            and str(r.get("to") or "").casefold() != to.casefold()):
                        r["replaced_at"] = to_iso(at)
            records.append({"key": key, "kind": kind, "to": to, "name": name, "at": to_iso(at),
                            "deputy_for": deputy_for, "answered_at": None, "replaced_at": None})  # fmt: skip
            return key

        return self._change(change)

    def of(self, mention_id: str) -> list[SentHandoff]:
        """The mention's hand-offs, oldest first ([] when it had none, or the file is unreadable)."""
        out = []
        for r in self._read(strict=False).get(mention_id) or []:
            if isinstance(r, dict):
                try:
                    out.append(SentHandoff.from_record(mention_id, r))
                except (TypeError, ValueError):
                    continue
        return out

    def answered(self, mention_id: str, key: str, at: datetime, ref: str = "") -> None:
        """The hand-off with `key` is answered (by the e-mail with Message-ID `ref`): its key is
        never taken again."""

        def change(data: dict[str, list[dict[str, Any]]]) -> None:
            for r in data.get(mention_id) or []:
                if isinstance(r, dict) and r.get("key") == key and not r.get("answered_at"):
                    r["answered_at"] = to_iso(at)
                    r["answer_ref"] = ref

        self._change(change)
