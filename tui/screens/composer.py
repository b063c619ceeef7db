"""The reply composer (`r`): a draft from the matching template, in the sender's language and
register, beside the EPO checklist and the response considerations, each checked on the draft
as it is typed. The checks are hints, never blockers.

The reply leaves the desk by the clipboard (OSC 52, works over SSH) and is then marked sent,
which records it and stops the countdown. Where the mention's source can post replies
(`WebcareApp.senders`: source name → sources.replies.Replier), ctrl+s sends it through the
channel instead, after the operator confirms; the audit trail keeps the reply's link or id.
A source in dry-run mode says what it would have sent and leaves the mention as it was.

The draft is kept while it is typed: DRAFT_SETTLE seconds after the last key (and at least
every DRAFT_MAX_WAIT seconds while typing goes on), on copy and on close, it goes to the store
(data_dir/drafts.json, written by the app's worker, never here). Opening the composer on a
mention with a stored draft (after a restart, a dropped connection, or a colleague's) shows
that draft instead of the template, saying whose it is and since when. A text emptied or
back to the template (ctrl+t) is no draft: it is dropped. Sending or marking done drops it too.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from tui.desk import desk
from tui.keys import localize
from webcare import triage
from webcare.drafts import label as draft_label
from webcare.epo import check_reply
from webcare.history import Event
from webcare.i18n import word
from webcare.mention import Mention, StateChange
from webcare.register import LANGUAGES, detect_language, detect_register
from webcare.templates import fill, pick
from webcare.untrusted import first_line

DRAFT_SETTLE = 1.0  # seconds after the last key before the draft is kept
DRAFT_MAX_WAIT = 5.0  # seconds of typing without a pause after which it is kept anyway


def draft_for(app, m: Mention) -> tuple[str, str, str]:
    """(draft, language, register): the template for the mention's leaf or category, filled."""
    cfg = app.config
    # As intake read them (webcare.tone); read again only for a mention stored before it did.
    language = m.language or detect_language(m.text) or cfg.language
    if language not in LANGUAGES:  # German, other: the desk's own language
        language = cfg.language
    register = m.register or detect_register(m.text, language)
    leaf = triage.reply_leaf(m)
    template = pick(
        app.templates, leaf=leaf, category=m.category, language=language, register=register
    )
    first_name = (m.author_name or "").split(" ")[0] or m.author.lstrip("@")
    values = {
        "author": m.author_name or m.author,
        "first_name": first_name,
        "initials": cfg.initials,
        "operator": cfg.operator,
        "desk": cfg.name,
        "link": cfg.website,  # empty: {link} stays visible for the operator to fill
        "channel": m.channel,
    }
    draft = fill(template.text, values) if template else ""
    if m.expert_answer:  # the expert's answer, to turn into the public reply
        draft = f"{draft}\n\n{m.expert_answer}" if draft else m.expert_answer
    return draft, language, register


class ComposerScreen(Screen[None]):
    DEFAULT_CSS = """
    ComposerScreen #to { height: auto; padding: 0 1; background: $panel; }
    ComposerScreen #body { height: 1fr; }
    ComposerScreen TextArea { width: 1fr; height: 1fr; }
    ComposerScreen #checks { width: 36; height: 1fr; padding: 0 1; border-left: solid $primary; }
    ComposerScreen.-narrow #body { layout: vertical; }
    ComposerScreen.-narrow #checks { width: 1fr; height: auto; max-height: 9; border-left: none;
        border-top: solid $primary; }
    """
    BINDINGS = [
        Binding("ctrl+s", "sent", "mark sent", id="composer.sent"),
        Binding("ctrl+y", "copy", "copy reply", id="composer.copy"),
        Binding("escape", "close", "close", id="composer.close"),
        Binding("ctrl+t", "discard", "discard draft", id="composer.discard"),
    ]

    def __init__(self, mention: Mention) -> None:
        super().__init__()
        self.mention = mention
        localize(self, desk(self).config.language)
        self.template, self.language, self.register = draft_for(desk(self), mention)
        mine = desk(self).drafts.texts.get(mention.id)  # written on this desk, perhaps not stored yet
        stored = desk(self).drafts.open(mention)  # on disk: this desk's, or a colleague's
        self.restored = None
        mine_at = desk(self).drafts.kept_at.get(mention.id)
        if mine is not None and (
            stored is None
            or stored.operator == desk(self).config.operator
            or mine_at is None  # put here just now (the crisis screen's holding statement)
            or mine_at >= stored.saved_at  # a colleague's is newer only when saved after it
        ):
            self.initial = mine
        elif stored is not None:
            self.initial = stored.text
            # Now an unsent reply on this desk too (`q` asks), as old as the stored one.
            desk(self).drafts.texts[mention.id] = stored.text
            desk(self).drafts.kept_at[mention.id] = stored.saved_at
        else:
            self.initial = self.template
        if stored is not None and self.initial == stored.text and (mine is None or stored.operator != desk(self).config.operator):
            self.restored = stored  # shown as such: whose draft it is, and since when
        self._kept = stored.text if stored is not None else None  # what the store has
        self._timer: Timer | None = None  # the pending save while typing
        self._dirty_since: float | None = None
        self._said_finished = False

    def compose(self) -> ComposeResult:
        m = self.mention
        head = Text()
        head.append(f"{m.author}", style="bold")
        head.append(f" · {m.channel} · {self.language} · {self.register}")
        if (leaf := triage.reply_leaf(m)) is not None:
            head.append(f" · {leaf}")
        head.append("\n")
        head.append(first_line(m.text, 300), style="dim")
        sender = desk(self).senders.get(m.source)
        lang = desk(self).config.language
        head.append("\n")
        if sender is not None:
            how = word("sends_via", lang).format(source=m.source)
            head.append(
                how + (f" ({word('dry_run', lang)})" if sender.dry_run else ""), style="bold"
            )
        else:
            head.append(word("copy_then_mark", lang), style="italic")
        if self.restored is not None:
            head.append("\n")
            now = desk(self).clock()
            said = draft_label(self.restored, desk(self).config.timezone, now, lang)
            head.append(f"↺ {said} · {word('draft_restored', lang)}", style="bold yellow")
        yield Static(head, id="to")
        with Horizontal(id="body"):
            yield TextArea(self.initial, id="draft", soft_wrap=True, show_line_numbers=False)
            with Vertical(id="checks"):
                yield Static("", id="check-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        self._check()
        if self.initial != self.template and self.initial != self._kept:
            self._keep_soon()  # e.g. the crisis holding statement, put here by the crisis screen

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < 100, "-narrow")

    def on_text_area_changed(self) -> None:
        self._check()
        self._keep_soon()

    # --- keeping the draft -----------------------------------------------------------------

    def _keep_soon(self) -> None:
        """Keep the draft once typing pauses; typing on and on is kept every DRAFT_MAX_WAIT."""
        now = time.monotonic()
        if self._dirty_since is None:
            self._dirty_since = now
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if now - self._dirty_since >= DRAFT_MAX_WAIT:
            self._keep()
        else:
            self._timer = self.set_timer(DRAFT_SETTLE, self._keep)

    def _keep(self, committed: bool = False) -> None:
        """Hand the text to the app to store (it writes in a worker: typing never waits). An
        empty text or the bare template is no draft: the stored one, if any, is dropped,
        unless the operator `committed` to it (copied it to post, or sent it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._dirty_since = None
        text = self.text
        if text == self._kept:
            return
        if not text.strip() or (text == self.template and not committed):
            if self._kept is not None or self.mention.id in desk(self).drafts.texts:
                desk(self).drafts.drop(self.mention.id)
            self._kept = None
            return
        if desk(self).drafts.keep(self.mention, text):
            self._kept = text
        elif not self._said_finished:  # answered or closed meanwhile, by someone else
            self._said_finished = True
            self.notify(word("draft_finished", desk(self).config.language), severity="warning", markup=False)

    def _stop_keeping(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_discard(self) -> None:
        """Back to the template; the stored draft goes (ctrl+z undoes it, and keeps it again)."""
        area = self.query_one(TextArea)
        area.replace(self.template, (0, 0), area.document.end)
        self._keep()
        self.notify(word("draft_discarded", desk(self).config.language), markup=False)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _check(self) -> None:
        m = self.mention
        checks = check_reply(
            self.text,
            author=m.author_name or m.author,
            leaf=triage.reply_leaf(m),
            public=m.channel != "email",
            operator_initials=desk(self).config.initials,
            language=desk(self).config.language,
        )
        out = Text()
        out.append("EPO\n", style="bold")
        for c in checks:
            out.append("✓ " if c.ok else "✗ ", style="green" if c.ok else "bold yellow")
            out.append(c.label + "\n")
            if not c.ok and c.hint:
                out.append(f"  {c.hint}\n", style="dim")
        self.query_one("#check-list", Static).update(out)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self._keep(committed=True)
        self.notify(word("reply_copied", desk(self).config.language), markup=False)

    def action_sent(self) -> None:
        """Send through the mention's source where it can post replies (after a confirmation),
        else record the reply that was copied and posted by hand."""
        text = self.text.strip()
        if not text:
            return
        sender = desk(self).senders.get(self.mention.source)
        if sender is None:
            self._recorded(triage.responded(self.mention, desk(self).clock(), reply=text))
            return
        from tui.screens.confirm import ConfirmScreen

        lang = desk(self).config.language
        question = word("confirm_send", lang).format(
            author=self.mention.author, source=self.mention.source
        )
        if sender.dry_run:
            question += f" ({word('dry_run', lang)})"

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(sender, text)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _send(self, sender, text: str) -> None:
        lang = desk(self).config.language
        self._keep(committed=True)  # kept until the channel said yes
        try:
            where = await sender(self.mention, text)
        except Exception as exc:  # the platform said no: keep the draft, say why
            self.notify(
                f"{word('send_failed', lang)}: {exc}", severity="error", markup=False, timeout=15
            )
            return
        if sender.dry_run:
            desk(self).session.act(self.mention, self.mention.change({}, Event("dry_run", via=self.mention.source, ref=where)), undoable=False)
            self.notify(f"{word('dry_run', lang)}: {where}", markup=False, timeout=10)
            return
        change = triage.responded(self.mention, desk(self).clock(), reply=text)
        event = Event("reply_sent", via=self.mention.source, ref=where)
        self._recorded(self.mention.change({**change.fields, "reply_ref": where}, event))

    def _recorded(self, change: StateChange) -> None:
        self._stop_keeping()  # a save still pending must not bring the draft back
        if desk(self).session.act(self.mention, change):  # the draft goes once stored
            self.dismiss(None)

    def action_close(self) -> None:
        self._keep()
        self.dismiss(None)
