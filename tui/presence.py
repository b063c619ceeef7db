"""What this desk shows the other desks, and what it shows of them: where each operator is
(viewing, replying: store/presence.py) and the unsent replies kept for colleagues to see and take
over (store/drafts.py). Both are written in thread workers: a key press never waits for a disk."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from textual.timer import Timer

from store.store import StoreError
from tui.messages import DraftsChanged, PresenceChanged
from webcare.drafts import Draft, finished
from webcare.i18n import word
from webcare.mention import Mention
from webcare.store_port import Desk

if TYPE_CHECKING:
    from tui.app import WebcareApp

PRESENCE_SETTLE = 0.3  # seconds after the cursor moved before the other desks are told


class DeskPresence:
    """Where this operator is (the mention viewed, the one claimed: "replying") and where the
    others are."""

    def __init__(self, app: WebcareApp) -> None:
        self.app = app
        config = app.config
        self.book = app.store.presence(config.operator)
        self.viewing: str | None = None
        self.claim: tuple[str, datetime] | None = None  # (mention id, since): "replying"
        self.others: list[Desk] = []
        self._timer: Timer | None = None  # a pending publish after the cursor moved
        self.marks: dict[str, str] = {}  # mention id → "An ✎" for its row

    def viewing_changed(self, m: Mention | None) -> None:
        """The cursor moved: tell the other desks, once it rests a moment (holding `j` down
        writes one presence file, not thirty a second), in a thread: a key press never waits."""
        self.viewing = m.id if m is not None else None
        if self._timer is None:
            self._timer = self.app.set_timer(PRESENCE_SETTLE, self._publish_settled)

    def _publish_settled(self) -> None:
        self._timer = None
        self.publish()

    def publish(self) -> None:
        self.app.run_worker(self._publish, thread=True, exclusive=True, group="presence", exit_on_error=False)

    def _publish(self) -> None:
        claim = self.claim
        try:
            self.book.publish(self.app.clock(), self.viewing, claim[0] if claim else None, claim[1] if claim else None)
        except OSError:
            pass  # a full disk shows in the store's writes; presence is best effort

    def read_others(self) -> list[Desk]:
        """The other desks as their files say now (called in the store-reading thread)."""
        return self.book.others(self.app.clock())

    def apply(self, others: list[Desk]) -> None:
        """Other desks moved, claimed or left: mark their mentions, and say when a claim of
        ours was taken over."""
        self.others = others
        marks: dict[str, list[str]] = {}
        for d in others:
            if d.claim:
                marks.setdefault(d.claim, []).append(f"{d.operator} ✎")
            if d.viewing and d.viewing != d.claim:
                marks.setdefault(d.viewing, []).append(d.operator)
        self.marks = {k: ", ".join(dict.fromkeys(v)) for k, v in marks.items()}
        if self.claim is not None:
            mine, since = self.claim
            taker = next((d for d in others if d.claim == mine and d.claim_since and d.claim_since > since), None)
            if taker is not None:
                self.claim = None
                said = word("claim_taken", self.app.config.language).format(who=taker.operator)
                self.app.notify(said, severity="warning", markup=False, timeout=15)
        self.app.tell(PresenceChanged)

    def mark(self, mention_id: str) -> str:
        """Who else is on this mention, for its row ("An ✎, Bo"), or ""."""
        return self.marks.get(mention_id, "")

    def others_on(self, mention_id: str) -> list[Desk]:
        return [d for d in self.others if mention_id in (d.viewing, d.claim)]

    def claimed_by_other(self, mention_id: str) -> Desk | None:
        """The desk that claims `mention_id`, unless this desk claims it itself."""
        if self.claim and self.claim[0] == mention_id:
            return None
        return next((d for d in self.others if d.claim == mention_id), None)

    def take_claim(self, mention_id: str) -> None:
        self.claim = (mention_id, self.app.clock())
        self.publish()

    def drop_claim(self, mention_id: str) -> None:
        if self.claim and self.claim[0] == mention_id:
            self.claim = None
            self.publish()

    def leave(self) -> None:
        self.book.leave()


class Drafts:
    """Unsent replies. Those written on this desk (`texts`: quitting asks about them), and every
    desk's as kept in data_dir/drafts.json (`stored`), written by a thread worker: a dropped
    connection loses nothing, and colleagues see the draft."""

    def __init__(self, app: WebcareApp) -> None:
        self.app = app
        self.texts: dict[str, str] = {}  # unsent replies written on this desk, by mention id
        self.book = app.store.drafts
        self.kept_at: dict[str, datetime] = {}  # when this desk last kept each of its drafts
        self.stored: dict[str, Draft] = self.book.all()  # as on disk, refreshed
        self._pending: dict[str, Draft | None] = {}  # to write: a draft, or None: remove
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer at a time, so writes keep order
        self._failing = False  # said once until a write succeeds again

    def open(self, m: Mention) -> Draft | None:
        """The stored draft of `m` (anyone's), unless `m` was answered or closed meanwhile."""
        draft = self.stored.get(m.id)
        return None if draft is None or finished(m.status) else draft

    def keep(self, m: Mention, text: str) -> bool:
        """Keep `text` as the draft of `m`, here and (in a worker) in the store. False, and
        nothing kept, when `m` has been answered or closed: a draft is never brought back."""
        try:
            current = self.app.queue.get(m.id) or m  # as the store last said, not as when opened
        except LookupError:
            current = m
        if finished(current.status):
            self.texts.pop(m.id, None)
            return False
        self.texts[m.id] = text
        draft = Draft(m.id, self.app.config.operator, text, self.app.clock())
        self.kept_at[m.id] = draft.saved_at
        self._write(m.id, draft)
        return True

    def drop(self, mention_id: str) -> None:
        """Forget the draft of a mention (sent, done, discarded), here and in the store."""
        self.kept_at.pop(mention_id, None)
        known = self.texts.pop(mention_id, None) is not None or mention_id in self.stored
        if known or mention_id in self._pending:
            self._write(mention_id, None)

    def _write(self, mention_id: str, draft: Draft | None) -> None:
        with self._pending_lock:
            self._pending[mention_id] = draft
        self.app.run_worker(self._flush, thread=True, group="drafts", exit_on_error=False)

    def _flush(self) -> None:
        """Write what is pending, in one write. One writer at a time takes the newest value per
        mention, so a removal never lands before the save it follows."""
        with self._write_lock:
            with self._pending_lock:
                changes, self._pending = self._pending, {}
            if not changes:
                return
            try:
                self.book.apply(changes)
            except (StoreError, OSError) as exc:
                with self._pending_lock:  # tried again with the next save; newer wins
                    for mention_id, draft in changes.items():
                        self._pending.setdefault(mention_id, draft)
                if not self._failing:
                    self._failing = True
                    self.app.call_from_thread(self._not_saved, str(exc))
                return
            self._failing = False
            drafts = self.book.all()
        self.app.call_from_thread(self.apply, drafts)

    def _not_saved(self, reason: str) -> None:
        said = f"{word('draft_not_saved', self.app.config.language)}: {reason}"
        self.app.notify(said, severity="error", markup=False, timeout=15)

    def apply(self, drafts: dict[str, Draft]) -> None:
        """A desk saved or dropped a draft: show it where the mention is shown."""
        if drafts == self.stored:
            return
        self.stored = drafts
        self.app.tell(DraftsChanged)
