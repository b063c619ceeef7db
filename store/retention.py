"""Retention and privacy: anonymise what is past retention, forget a person, answer an access
request.

What "anonymised" means here (one rule for retention and for erasure): a mention keeps the
figures reports are made of and loses everything said by or about a person.

- Content kept: id, source, channel, published_at, first_seen_at, deadline, norm_s, keywords,
  reach, parent, rules, themes, priority, watchlist, language, sentiment, register, anger.
  Every other field is emptied (same type: "" / [] / {}): author, author_name, text, title,
  url, ref, in_reply_to, reply_meta (it may hold an e-mail address), and any field added later.
- State kept: status, category, scheme_path, routed_to (our expert), flags, responded_at,
  routed_at, routed_due, answered_at, snoozed_until, snoozed_from, response_s; feedback keeps
  unit and at but not its note. Emptied: reply, reply_ref, routed_note, expert_answer, evidence
  (a moderation case's, held back while open: see anonymise_older_than) and any
  field added later. History entries keep at and who; `what` loses what follows its first
  ": " (where routing and feedback notes and sent-reply links are written: "routed to An
  Peeters: <note>" becomes "routed to An Peeters"); `changes` and `before` keep only the kept
  state fields (text values such as an earlier reply are emptied).
- The mark: both records get `anonymised = {"at": ISO time, "reason": "retention" |
  "erasure"}` (a field beside the others; Mention.from_records ignores it). An erasure also
  appends a history entry ("erased on request", by the operator), so every open desk's
  changes() reports the mention and can re-read it.

Forget (an erasure request) anonymises the person's mentions in place rather than deleting
them: the counts in reports of past periods stay right, the mention's id stays known so the
collector does not collect the same post again, and other desks' handles (which know every
mention's place) stay valid. What remains is no longer about an identifiable person. Besides
their own mentions it removes their identifiers everywhere else (see `forget`).

Retention also covers the desk's other files (`expire_desk_files`, store/desk_files.py:
notes, the crisis log, saved handovers, drafts, presence). It leaves backups alone: an archive
is rotated out after `keep` days, so a text lives at most that long past the retention in the
backups. Run retention before the daily backup.

Every rewrite of a segment is counted in rewrites.json (Store.rewrite_segment): open desks
re-read those mentions within a second or two (Store.changes), so what retention or an erasure
removed disappears from their screens too.

privacy.log keeps, instead of a name, an HMAC-SHA256 of it keyed with the data directory's own
secret (data_dir/secret, `data_secret`): the same person has another hash on another desk, and
nobody without the secret can confirm a guessed name against the log.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import os
import re
import secrets
import tarfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from store import desk_files
from store.backup import (
    DEFAULT_BACKUPS,
    archives,
    backup_lock,
    members,
    rewrite_archive,
    sweep,
)
from store.jsonstorage import StoreError, file_signature, holding, read_json, write_atomically
from store.modes import create
from store.store import TABLE, Store
from webcare.history import anonymised as history_args
from webcare.mention import Mention, Status
from webcare.moderation import evidence_open
from webcare.report import md_escape
from webcare.untrusted import first_line

RETENTION_FILE = "retention.json"  # which segments retention has finished, up to which time
PRIVACY_LOG = "privacy.log"  # one JSON line per erasure or access request
SECRET_FILE = "secret"  # the data directory's key for privacy.log's hashes (never archived)
REMOVED = desk_files.REMOVED  # what an identifier in someone else's text is replaced by
TEXT_NEEDLE = 40  # characters: the first words of a post that count as quoting it
TEXT_NEEDLE_MIN = 20  # shorter posts ("Dank u!") are not told apart from anyone's words
ERASED = "erased on request"

# A segment table as the store keeps it ({doc_id: record}), and what a rewrite of a segment
# returns to Store.rewrite_segment: the new (content, state) tables, None for one left as is.
_Table = dict[str, Any]
_Rewritten = tuple[_Table | None, _Table | None]

CONTENT_KEEP = frozenset(
    {
        "id",
        "source",
        "channel",
        "published_at",
        "first_seen_at",
        "deadline",
        "norm_s",
        "keywords",
        "reach",
        "parent",
        "rules",
        "themes",
        "priority",
        "watchlist",
        "language",
        "sentiment",
        "register",
        "anger",
        "followed",
        "anonymised",
    }
)
STATE_KEEP = frozenset(
    {
        "id",
        "status",
        "category",
        "scheme_path",
        "routed_to",
        "responded_at",
        "flags",
        "routed_at",
        "routed_due",
        "answered_at",
        "snoozed_until",
        "snoozed_from",
        "response_s",
        "anonymised",
    }
)
_SEGMENT = re.compile(r"^(\d{6})\.json$")


# --- anonymising one record ------------------------------------------------------------------


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    return value  # numbers, booleans, None: not text


def _feedback(value: Any) -> Any:
    if not isinstance(value, list):
        return _blank(value)
    return [
        {k: v for k, v in e.items() if k in ("unit", "at")} if isinstance(e, dict) else None
        for e in value
    ]


def _what(what: Any) -> Any:
    """An action's label without the free text after its first ": " (undo: prefixes kept)."""
    if not isinstance(what, str):
        return _blank(what)
    prefix = ""
    while what.startswith("undo: "):
        prefix, what = prefix + "undo: ", what[len("undo: ") :]
    return prefix + what.split(": ", 1)[0]


def _state_fields(fields: Any) -> Any:
    if not isinstance(fields, dict):
        return _blank(fields)
    return {
        k: v if k in STATE_KEEP else _feedback(v) if k == "feedback" else _blank(v)
        for k, v in fields.items()
    }


def _entry(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return {}
    out = {}
    for k, v in entry.items():
        if k in ("at", "who", "kind"):
            out[k] = v
        elif k == "args":  # the kind's fields without their free text (notes, links)
            out[k] = history_args(v)
        elif k == "what":
            out[k] = _what(v)
        elif k in ("changes", "before"):
            out[k] = _state_fields(v)
        else:
            out[k] = _blank(v)
    return out


def anonymise_content(record: dict[str, Any], mark: dict[str, Any]) -> dict[str, Any]:
    """A content record without what identifies or quotes anyone (a new dict)."""
    out = {k: v if k in CONTENT_KEEP else _blank(v) for k, v in record.items()}
    out["author"], out["text"] = "", ""  # Mention.from_records needs both keys
    out["anonymised"] = mark
    return out


def anonymise_state(
    record: dict[str, Any], mark: dict[str, Any], entry: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A state record without any text (a new dict); `entry` is appended to its history."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        if k == "history":
            out[k] = [_entry(e) for e in v] if isinstance(v, list) else []
        elif k == "feedback":
            out[k] = _feedback(v)
        else:
            out[k] = v if k in STATE_KEEP else _blank(v)
    out["anonymised"] = mark
    if entry is not None:
        out["history"] = [*out.get("history", []), entry]
    return out


def _mark(now: datetime, reason: str) -> dict[str, str]:
    return {"at": now.astimezone(UTC).isoformat(timespec="seconds"), "reason": reason}


# --- retention -------------------------------------------------------------------------------


def _ts(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() if text else None
    except (TypeError, ValueError):
        return None


def _segments(store: Store) -> list[int]:
    return store._segments()


def _first_seen(store: Store, seg: int) -> list[float | None] | None:
    """The segment's first-seen column from its .idx, if the .idx is current."""
    index = store._read_index(seg, True)
    column = None if index is None else index.get("first_seen")
    return column if isinstance(column, list) else None


def _signatures(store: Store, seg: int) -> list[Any]:
    content = store.data_dir / "mentions" / f"{seg:06d}.json"
    state = store.data_dir / "state" / f"{seg:06d}.json"
    return [list(file_signature(p) or ()) for p in (content, state)]


def _read_progress(data_dir: Path) -> dict[str, Any]:
    try:
        data = read_json(data_dir / RETENTION_FILE)
    except (ValueError, OSError):
        return {}
    segments = data.get("segments") if isinstance(data, dict) else None
    return segments if isinstance(segments, dict) else {}


def anonymise_older_than(store: Store, cutoff: datetime, now: datetime, evidence_days: int = 365) -> int:
    """Anonymise every mention first seen before `cutoff`; returns how many were anonymised by
    this run (0 when run again).

    Except a moderation case's evidence (webcare.moderation.evidence_open): a mention whose
    evidence was kept less than `evidence_days` ago, its case still open, stays whole (content
    and state alike, so an access request and `forget` still find it by its author); its
    segment is not marked done, so a later run anonymises it once the case closes or the
    evidence is `evidence_days` old.

    One segment at a time under the write lock (desks and the collector wait a few tens of
    ms, never the whole run), state before content, each file replaced atomically: a crash
    leaves every file readable and the next run does the rest (a mention counts as done once
    its content carries the mark). A segment with nothing first seen before the cutoff is
    skipped on its .idx alone; one already done (retention.json: its files unchanged since,
    and done up to a later cutoff) too."""
    cutoff_ts = cutoff.timestamp()
    mark = _mark(now, "retention")
    progress = _read_progress(store.data_dir)
    total = 0
    for seg in _segments(store):
        column = _first_seen(store, seg)
        if column is not None:
            old = [t for t in column if t is not None and t < cutoff_ts]
            if not old:
                continue
            done = progress.get(str(seg))
            if (
                isinstance(done, dict)
                and done.get("of") == _signatures(store, seg)
                and isinstance(done.get("upto"), (int, float))
                and max(old) < done["upto"]
            ):
                continue
        counted = [0]
        held = [0]  # mentions kept whole as evidence

        def rewrite(
            content: _Table, state: _Table, counted: list[int] = counted, held: list[int] = held
        ) -> _Rewritten:
            new_content: dict[str, Any] = {}
            new_state: dict[str, Any] = {}
            for doc_id, record in content.items():
                seen = _ts(record.get("first_seen_at"))
                if seen is None or seen >= cutoff_ts:
                    continue
                current = state.get(doc_id)
                if isinstance(current, dict) and evidence_open(current, now, evidence_days):
                    held[0] += 1
                    continue
                had = record.get("anonymised")
                done = anonymise_content(record, had or mark)
                if done != record:
                    new_content[doc_id] = done
                    counted[0] += not had
                if current is not None:
                    blank = anonymise_state(current, current.get("anonymised") or had or mark)
                    if blank != current:
                        new_state[doc_id] = blank
            return (
                {**content, **new_content} if new_content else None,
                {**state, **new_state} if new_state else None,
            )

        # Held around the rewrite and the signatures, so those are of the files as rewritten.
        with holding(store._write_lock, store.data_dir):
            store.rewrite_segment(seg, rewrite)
            if held[0]:
                progress.pop(str(seg), None)  # evidence held: look at this segment again tomorrow
            else:
                progress[str(seg)] = {"of": _signatures(store, seg), "upto": cutoff_ts}
        total += counted[0]
        write_atomically(
            store.data_dir / RETENTION_FILE, orjson.dumps({"version": 1, "segments": progress})
        )
    return total


def expire_desk_files(store: Store, cutoff: datetime, now: datetime) -> dict[str, int]:
    """Retention for the desk's files besides the mentions (store/desk_files.py: notes,
    crisis log, saved handovers, drafts, presence), under the write lock. Returns what changed."""
    from store.presence import STALE

    def first_seen(mention_id: str) -> datetime | None:
        m = store.get(mention_id) if isinstance(mention_id, str) else None
        return None if m is None else m.first_seen_at

    with holding(store._write_lock, store.data_dir):
        return desk_files.expire(store.data_dir, cutoff, now, first_seen, STALE.total_seconds())


# --- who a request is about --------------------------------------------------------------------


def normalise(author: str) -> str:
    """How authors are compared: case-insensitive, without "@", "u/" or a display name around an
    address ("@Jan_Boer" = "jan_boer"; "Jan <jan@x.be>" = "jan@x.be"; "u/jan" = "jan").
    Fediverse handles stay whole ("@jan@mastodon.social" = "jan@mastodon.social")."""
    s = str(author or "").strip().lower()
    angle = re.search(r"<([^<>\s]+@[^<>\s]+)>", s)
    if angle:
        s = angle[1]
    s = s.removeprefix("mailto:").removeprefix("/")
    if s.startswith("u/"):
        s = s[2:]
    return s.lstrip("@").strip()


def data_secret(data_dir: Path) -> bytes:
    """The data directory's secret (32 random bytes in data_dir/secret), made on first need.

    Created with the data files' mode (0600, or 0660 when the data directory is shared through
    its group, so every operator can log a request), written to a temporary file and linked
    into place: two processes that both make one end up using the same. Backups leave it out (store/backup.py): whoever holds
    an archive cannot test guessed names against its privacy.log."""
    data_dir = Path(data_dir)
    path = data_dir / SECRET_FILE
    try:
        key = path.read_bytes()
        if key:
            return key
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc})") from None
    key = secrets.token_bytes(32)
    tmp = data_dir / f".{SECRET_FILE}.{secrets.token_hex(6)}.tmp"
    fd = create(tmp, os.O_WRONLY | os.O_EXCL)  # the data files' mode: 0600, or 0660 in the group
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # never replaces a secret another process made meanwhile
        except FileExistsError:
            return path.read_bytes()
        except OSError:  # no hard links here: replace (a race of two first uses is harmless
            os.replace(tmp, path)  # then: each line is checked against the key that stays)
            return path.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def subject_hash(author: str, key: bytes) -> str:
    """The keyed hash privacy.log keeps instead of a name (HMAC-SHA256 with the data
    directory's secret): an auditor who is given the name can check that its request was
    carried out (`logged_for`), but a name cannot be guessed from the log without the secret."""
    digest = hmac.new(key, normalise(author).encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def legacy_subject_hash(author: str) -> str:
    """The unkeyed hash of log lines written before the secret (still read; an erasure
    re-keys the lines of the person it erases)."""
    digest = hashlib.sha256(f"webcare privacy\x1f{normalise(author)}".encode()).hexdigest()
    return f"sha256:{digest}"


def logged_for(data_dir: Path, author: str) -> list[dict[str, Any]]:
    """The privacy.log lines about `author` (either hash), oldest first."""
    try:
        lines = (Path(data_dir) / PRIVACY_LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    wanted = {subject_hash(author, data_secret(data_dir)), legacy_subject_hash(author)}
    out = []
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("subject") in wanted:
            out.append(entry)
    return out


def is_by(record: dict[str, Any], who: str) -> bool:
    """Whether a content record was written by `who` (normalised): its author, or the address
    its replies go to (an e-mail's Reply-To)."""
    if normalise(record.get("author", "")) == who:
        return True
    meta = record.get("reply_meta")
    return isinstance(meta, dict) and normalise(meta.get("reply_to", "")) == who


def _name_is_identifying(name: str) -> bool:
    """A display name is redacted elsewhere only if it cannot be an ordinary word: two words or
    more ("Jan Boer"), or one that is not plain letters ("jboer_81")."""
    name = name.strip()
    if len(name) < 4:
        return False
    return len(name.split()) >= 2 or not name.isalpha()


@dataclass
class _Person:
    """What identifies the person, learnt from their mentions: what is redacted elsewhere."""

    who: str
    identifiers: set[str] = field(default_factory=set)  # lower case, matched as whole words
    refs: set[str] = field(default_factory=set)  # their posts' refs and links: exact values
    ids: set[str] = field(default_factory=set)  # their mentions' ids
    texts: set[str] = field(default_factory=set)  # the first words of their posts, lower case

    def learn(self, record: dict[str, Any]) -> None:
        if (mention_id := record.get("id")) is not None:
            self.ids.add(str(mention_id))
        for key in ("text", "title"):
            line = " ".join(first_line(str(record.get(key) or "")).split())
            if len(line) >= TEXT_NEEDLE_MIN:
                self.texts.add(line[:TEXT_NEEDLE].lower())
        author = normalise(record.get("author", ""))
        if len(author) >= 3:
            self.identifiers.add(author)
        meta = record.get("reply_meta")
        if isinstance(meta, dict) and len(address := normalise(meta.get("reply_to", ""))) >= 3:
            self.identifiers.add(address)
        name = str(record.get("author_name") or "")
        if _name_is_identifying(name):
            self.identifiers.add(" ".join(name.lower().split()))
        for key in ("ref", "url"):
            value = record.get(key)
            if isinstance(value, str) and len(value) >= 6:
                self.refs.add(value)

    def redactor(self) -> _Redactor:
        return _Redactor({self.who, *self.identifiers}, self.refs)

    def eraser(self) -> _Eraser:
        return _Eraser({self.who, *self.identifiers}, self.refs, {i for i in self.ids if i}, self.texts)


class _Redactor:
    """Replaces the person's identifiers in any text (whole words, any case) by REMOVED, and
    empties values that are exactly one of their refs."""

    def __init__(self, identifiers: Iterable[str], refs: Iterable[str]) -> None:
        words = sorted({i for i in identifiers if i}, key=len, reverse=True)
        parts = [r"\s+".join(map(re.escape, w.split())) for w in words]
        self.pattern = re.compile(r"(?<!\w)@?(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)
        self.refs = {r for r in refs if r}
        self.needles = [*words, *(r.lower() for r in self.refs)]

    def hit(self, text: str) -> bool:
        """Whether `text` (lower case) may hold an identifier: a cheap test before parsing."""
        return any(n in text for n in self.needles)

    def found(self, text: str) -> bool:
        if not self.hit(text.lower()):
            return False
        return bool(self.pattern.search(text)) or any(r in text for r in self.refs)

    def text(self, value: str) -> str:
        if not self.hit(value.lower()):
            return value
        if value in self.refs:
            return ""
        return self.pattern.sub(REMOVED, value)

    def redact(self, value: Any) -> Any:
        """`value` with identifiers removed from every string in it; the same object when there
        was nothing to remove (so a caller sees cheaply whether anything changed)."""
        if isinstance(value, dict | list):  # one cheap test of the whole record first
            try:
                if not self.hit(orjson.dumps(value).decode().lower()):
                    return value
            except TypeError:
                pass
        return self._redact(value)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            new = self.text(value)
            return value if new == value else new
        if isinstance(value, dict):
            out = {k: self._redact(v) for k, v in value.items()}
            return value if all(out[k] is value[k] for k in value) else out
        if isinstance(value, list):
            items = [self._redact(v) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value


class _Eraser(_Redactor):
    """For the desk's files besides the mentions (store/desk_files.py): also the ids of their
    mentions (as whole words) and the first words of their posts (a text quoting one becomes
    REMOVED as a whole); each also as Markdown writes it (a saved handover escapes `_`)."""

    def __init__(self, identifiers: set[str], refs: set[str], ids: set[str], texts: set[str]) -> None:
        escaped = {md_escape(i).lower() for i in identifiers} - identifiers
        super().__init__({*identifiers, *escaped, *ids}, refs)
        self.ids = ids
        self.texts = {*texts, *(md_escape(t) for t in texts)}
        self.needles += list(self.texts)

    def quotes(self, text: str) -> bool:
        low = " ".join(text.lower().split())
        return any(t in low for t in self.texts)

    def found(self, text: str) -> bool:
        return super().found(text) or self.quotes(text)

    def text(self, value: str) -> str:
        if self.texts and self.quotes(value):
            return REMOVED
        return super().text(value)

    def redact(self, value: Any) -> Any:
        return self._redact(value)  # no cheap test first: JSON escapes may hide a quote


# --- access ------------------------------------------------------------------------------------


def _segment_files(data_dir: Path) -> list[int]:
    try:
        names = os.listdir(data_dir / "mentions")
    except FileNotFoundError:
        return []
    return sorted(int(m[1]) for n in names if (m := _SEGMENT.match(n)))


def _table_of(path: Path) -> dict[str, dict[str, Any]]:
    data = read_json(path)
    table = (data or {}).get(TABLE, {}) if isinstance(data, dict) else {}
    return table if isinstance(table, dict) else {}


def _their_records(data_dir: Path, who: str) -> list[tuple[int, str, _Table, _Table | None]]:
    """(segment, doc_id, content, state) of every stored mention by `who`."""
    out = []
    for seg in _segment_files(data_dir):
        path = data_dir / "mentions" / f"{seg:06d}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        if who not in raw.decode("utf-8", "replace").lower():
            continue  # cheap: their handle or address is not in this segment at all
        content = _table_of(path)
        states = None
        for doc_id, record in content.items():
            if isinstance(record, dict) and is_by(record, who):
                if states is None:
                    states = _table_of(data_dir / "state" / f"{seg:06d}.json")
                out.append((seg, doc_id, record, states.get(doc_id)))
    return out


def access_export(store: Store, author: str) -> list[dict[str, Any]]:
    """Every stored mention by `author` (matched as `normalise` says: their handle or address,
    or the Reply-To of their e-mails) as export records (the export contract: content, state,
    our reply, notes, history), oldest first: the answer to an access request. Mentions by
    others that name them are not included (they are other people's data)."""
    who = normalise(author)
    if not who:
        raise ValueError("author: empty")
    out = []
    for _seg, _doc, content, state in _their_records(store.data_dir, who):
        record = Mention.from_records(content, state).export_record()
        out.append(record)
    return out


def log_request(
    data_dir: Path, kind: str, author: str, operator: str, now: datetime, **figures: Any
) -> dict[str, Any]:
    """Append one line to data_dir/privacy.log: when, who ran it, the kind of request, the
    subject's one-way hash (never the name) and figures such as how many mentions."""
    line = {
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "operator": operator,
        "request": kind,
        "subject": subject_hash(author, data_secret(data_dir)),
        **figures,
    }
    fd = create(Path(data_dir) / PRIVACY_LOG, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, orjson.dumps(line) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return line


# --- forget ------------------------------------------------------------------------------------


@dataclass
class ForgetResult:
    subject: str  # the one-way hash logged in privacy.log
    mentions: int = 0  # their mentions anonymised (erased) now
    redacted: int = 0  # other records from which their identifiers were removed
    backups: int = 0  # archives rewritten
    files: int = 0  # other files rewritten (notes, crisis log, handovers, drafts, checkpoints, …)
    remaining: list[str] = field(default_factory=list)  # files that still hold a trace: none


def _learn_from_segment(raw: bytes, person: _Person) -> bool:
    """Learn the person's identifiers from a content segment's bytes; whether it has theirs."""
    if person.who not in raw.decode("utf-8", "replace").lower():
        return False
    found = False
    for record in _table_from_bytes(raw).values():
        if isinstance(record, dict) and is_by(record, person.who):
            person.learn(record)
            found = True
    return found


def _table_from_bytes(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw) if raw else None
    table = (data or {}).get(TABLE, {}) if isinstance(data, dict) else {}
    return table if isinstance(table, dict) else {}


def _erase_record(
    record: dict[str, Any], kind: str, person: _Person, mark: dict[str, Any], entry: dict[str, Any]
) -> dict[str, Any]:
    if kind == "content":
        return anonymise_content(record, mark)
    return anonymise_state(record, mark, entry)


def _scrub_table(
    table: dict[str, Any], kind: str, person: _Person, red: _Redactor, mark: dict[str, Any],
    entry: dict[str, Any],
) -> tuple[dict[str, Any] | None, int, int]:
    """A segment table (content or state) with the person's mentions erased and their
    identifiers removed from every other record: (new table or None, erased, redacted)."""
    new: dict[str, Any] = {}
    erased = redacted = 0
    for doc_id, record in table.items():
        if not isinstance(record, dict):
            continue
        if record.get("id") in person.ids or (kind == "content" and is_by(record, person.who)):
            if kind == "content" or not record.get("anonymised"):
                new[doc_id] = _erase_record(record, kind, person, mark, entry)
                erased += 1
            continue
        changed = red.redact(record)
        if changed is not record:
            new[doc_id] = changed
            redacted += 1
    return ({**table, **new} if new else None), erased, redacted


def forget(
    store: Store,
    author: str,
    now: datetime,
    operator: str,
    backups_dir: Path | None = None,
) -> ForgetResult:
    """Erase a person from the data directory on request, and log that it was done.

    Who: every mention whose author (or e-mail Reply-To) is `author`, compared as `normalise`
    says. Their mentions are anonymised in place (see the module's note) including our state of
    them: our reply to them, notes, expert answers, history texts. Their identifiers, learnt
    from those mentions (handle or address, Reply-To address, a display name that cannot be an
    ordinary word, the links and refs of their posts), are then removed from everything else:
    other people's mentions that name or answer them, our replies and notes on those, the
    content plan, health.json, the notes, the crisis log, saved handovers, drafts, presence
    and the sources' checkpoints (store/desk_files.py says how each), and every backup archive
    (each rewritten atomically, under the write lock). Orphaned temporary files are deleted.
    Finally every file in the data directory and the backup folder (every member of an
    archive, the content of a .gz) is searched for the identifiers, and outside the segments
    for their mentions' ids and the first words of their posts: what still holds one is
    listed in `remaining` (empty when the erasure is complete). A line goes to privacy.log:
    when, the operator, the subject's keyed hash and the figures, never the name (their
    lines from before the secret are re-keyed).

    Resumable: the person's own mentions are erased last, so a run that crashed part-way can
    be run again and still knows every identifier. Not covered: someone quoting their words
    without naming them, and copies of backups made elsewhere."""
    who = normalise(author)
    if len(who) < 3:
        raise ValueError(f"author: {author!r} is too short to identify anyone")
    data_dir = store.data_dir
    backups_dir = Path(backups_dir) if backups_dir is not None else data_dir / DEFAULT_BACKUPS
    mark = _mark(now, "erasure")
    entry = {
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "who": operator,
        "what": ERASED,
        "kind": "erased",
        "changes": {},
        "before": {},
    }
    person = _Person(who)
    result = ForgetResult(subject_hash(author, data_secret(data_dir)))
    # No backup is made while this runs (it would snapshot the person halfway erased).
    with holding(backup_lock(data_dir), data_dir):
        # 1. Learn who they are: their mentions in the store and in every backup.
        theirs: set[int] = set()
        for seg in _segment_files(data_dir):
            try:
                raw = (data_dir / "mentions" / f"{seg:06d}.json").read_bytes()
            except FileNotFoundError:
                continue
            if _learn_from_segment(raw, person):
                theirs.add(seg)
        kept = archives(backups_dir)
        for archive in kept:
            for info, data in members(archive):
                if info.name.startswith("mentions/") and info.name.endswith(".json"):
                    _learn_from_segment(data, person)
        red = person.redactor()
        er = person.eraser()
        legacy, keyed = legacy_subject_hash(author), result.subject

        def change(name: str, data: bytes) -> bytes | None:
            """One file (a member of an archive, or one in the data directory) without them."""
            if desk_files.kind_of(name) == "segment":
                text = data.decode("utf-8", "replace")
                if not red.hit(text.lower()) and not any(i in text for i in person.ids):
                    return None  # cheap: nothing of theirs in this segment
                kind = "content" if name.startswith("mentions/") else "state"
                table, _, _ = _scrub_table(_table_from_bytes(data), kind, person, red, mark, entry)
                return None if table is None else orjson.dumps({TABLE: table})
            if name == PRIVACY_LOG:
                return _rekey(data, legacy, keyed)
            if name == SECRET_FILE:
                return None
            return desk_files.erase_in(name, data, er)

        # 2. The backups: each archive rewritten without them (not deleted: the other people's
        # data in it is what a restore is for).
        for archive in kept:
            result.backups += rewrite_archive(archive, change)
        sweep(data_dir, backups_dir)  # snapshot folders and temporary archives of dead backups

        # 3. Every other file the desk writes (store/desk_files.py: notes, crisis log, saved
        # handovers, drafts, presence, checkpoints; the plan, health.json, privacy.log), each
        # replaced atomically, and orphaned temporary files. The checkpoints' scrub is
        # counted in the same hold of the lock, so a running collector, whose sources still
        # hold the old refs in memory, takes the scrubbed checkpoint up before it writes one
        # (Store.write_checkpoint).
        with holding(store._write_lock, data_dir):
            scrubbed = False
            for path in _other_files(data_dir, backups_dir):
                name = path.relative_to(data_dir).as_posix()
                if desk_files.rewrite(path, partial(change, name)):
                    result.files += 1
                    scrubbed |= desk_files.kind_of(name) == "checkpoint"
            if scrubbed:
                store.checkpoints_scrubbed()
            _sweep_tmp(data_dir)

        # 4. Everything else in the store: their identifiers out of other people's mentions and
        # our state of them (their own mentions stay whole until 5, for a run after a crash).
        def redact_others(content: _Table, state: _Table) -> _Rewritten:
            new_content: dict[str, Any] = {}
            new_state: dict[str, Any] = {}
            for doc_id, record in content.items():
                if is_by(record, who) or record.get("id") in person.ids:
                    continue
                if (changed := red.redact(record)) is not record:
                    new_content[doc_id] = changed
                if doc_id in state and (changed := red.redact(state[doc_id])) is not state[doc_id]:
                    new_state[doc_id] = changed
            result.redacted += len(set(new_content) | set(new_state))
            return (
                {**content, **new_content} if new_content else None,
                {**state, **new_state} if new_state else None,
            )

        def erase_theirs(content: _Table, state: _Table) -> _Rewritten:
            new_content: dict[str, Any] = {}
            new_state: dict[str, Any] = {}
            for doc_id, record in content.items():
                if is_by(record, who):  # anonymised ones have no author: never twice
                    new_content[doc_id] = anonymise_content(record, mark)
                    new_state[doc_id] = anonymise_state(
                        state.get(doc_id) or {"id": record.get("id"), "status": Status.NEW.value},
                        mark,
                        entry,
                    )
            result.mentions += len(new_content)
            return (
                {**content, **new_content} if new_content else None,
                {**state, **new_state} if new_state else None,
            )

        for _attempt in range(2):  # again for what a desk wrote meanwhile
            segments = _segment_files(data_dir)
            for seg in segments:
                if seg in theirs or _segment_hit(data_dir, seg, red):
                    store.rewrite_segment(seg, redact_others)
            for seg in sorted(theirs | set(segments[-1:])):  # the newest: a late arrival of theirs
                store.rewrite_segment(seg, erase_theirs)
            result.remaining = _remaining(data_dir, backups_dir, red, er, legacy)
            if not result.remaining:
                break
            theirs = set()
        log_request(
            data_dir,
            "erasure",
            author,
            operator,
            now,
            mentions=result.mentions,
            redacted=result.redacted,
            backups=result.backups,
            files=result.files,
        )
    return result


def _segment_hit(data_dir: Path, seg: int, red: _Redactor) -> bool:
    for kind in ("mentions", "state"):
        try:
            raw = (data_dir / kind / f"{seg:06d}.json").read_bytes()
        except FileNotFoundError:
            continue
        if red.hit(raw.decode("utf-8", "replace").lower()):
            return True
    return False


def _sweep_tmp(data_dir: Path) -> None:
    """Delete temporary files writers left when they died (call holding the write lock: every
    one in mentions/ and state/, and the plan's, is then an orphan; others after a minute)."""
    for folder in (data_dir / "mentions", data_dir / "state", data_dir):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = folder / name
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            try:
                if folder == data_dir and not name.startswith(".plan.json."):
                    if time.time() - path.stat().st_mtime < 60:
                        continue  # perhaps health.json being written right now
                path.unlink()
            except OSError:
                pass


def _other_files(data_dir: Path, backups_dir: Path) -> list[Path]:
    """Every file in the data directory but the segments, their indexes, the backups, locks,
    temporary files and the secret: what `forget` passes through desk_files.erase_in."""
    skip = {"write.lock", "collector.lock", "backup.lock", "collector.pid", SECRET_FILE}
    out = []
    for folder, dirs, names in os.walk(data_dir):
        here = Path(folder)
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".")
            and not (here == data_dir and d in ("mentions", "state"))
            and (here / d).resolve() != backups_dir.resolve()
        ]
        out += [here / n for n in sorted(names) if not n.startswith(".") and n not in skip and not n.endswith(".lock")]
    return out


def _rekey(data: bytes, legacy: str, keyed: str) -> bytes | None:
    """privacy.log with the person's lines written before the secret under the keyed hash: the
    unkeyed one can be confirmed by anyone who guesses the name."""
    if legacy.encode() not in data:
        return None
    return data.replace(legacy.encode(), keyed.encode())


def _remaining(
    data_dir: Path, backups_dir: Path, red: _Redactor, er: _Eraser, legacy: str
) -> list[str]:
    """Every file (archives: every member; .gz files: their content) that still holds a trace.

    In the segments (and their indexes): the person's identifiers and refs (their mentions'
    ids stay there, anonymised: that is how the collector knows not to collect them again).
    Everywhere else also their mentions' ids and the first words of their posts, except the
    ids in presence files (a desk still open announces the anonymised mention it shows), and
    the unkeyed hash of them."""

    def holds(name: str, data: bytes) -> bool:
        text = data.decode("utf-8", "replace")
        kind = desk_files.kind_of(name)
        if kind == "segment" or name.endswith(".idx"):
            return red.found(text)
        if name == SECRET_FILE:
            return False
        if er.found(text) or legacy in text:
            return True
        return kind != "presence" and any(i in text for i in er.ids)

    out = []
    roots = [data_dir] + (
        [] if backups_dir.resolve().is_relative_to(data_dir.resolve()) else [backups_dir]
    )
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                rel = path.relative_to(root).as_posix() if root == data_dir else name
                try:
                    if name.endswith((".tar.gz", ".tgz")):
                        for info, data in members(path):
                            if holds(info.name, data):
                                out.append(f"{path}:{info.name}")
                        continue
                    data = path.read_bytes()
                    if name.endswith(".gz"):
                        data = gzip.decompress(data)
                        rel = rel[: -len(".gz")]
                except (OSError, EOFError, tarfile.TarError, zlib.error):
                    if path.exists():
                        out.append(f"{path} (unreadable: cannot be checked)")
                    continue
                if holds(rel, data):
                    out.append(str(path))
    return out
