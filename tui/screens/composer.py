"""The reply composer (`r`): a draft from the matching template, in the sender's language and
register, beside the EPO checklist and the response considerations, each checked on the draft
as it is typed. The checks are hints, never blockers.

The reply leaves the desk by the clipboard (OSC 52, works over SSH) and is then marked sent,
which records it and stops the countdown. Where the mention's source can post replies
(`WebcareApp.senders`: source name → sources.replies.Replier), ctrl+s sends it through the
channel instead, after the operator confirms; the audit trail keeps the reply's link or id.
A source in dry-run mode says what it would have sent and leaves the mention as it was.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from tui.keys import localize
from webcare import triage
from webcare.epo import check_reply
from webcare.i18n import word
from webcare.mention import Mention
from webcare.register import LANGUAGES, detect_language, detect_register
from webcare.templates import fill, pick
from webcare.untrusted import first_line


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
    ]

    def __init__(self, mention: Mention) -> None:
        super().__init__()
        self.mention = mention
        localize(self, self.app.config.language)
        saved = self.app.drafts.get(mention.id)
        draft, self.language, self.register = draft_for(self.app, mention)
        self.initial = saved if saved is not None else draft

    def compose(self) -> ComposeResult:
        m = self.mention
        head = Text()
        head.append(f"{m.author}", style="bold")
        head.append(f" · {m.channel} · {self.language} · {self.register}")
        if (leaf := triage.reply_leaf(m)) is not None:
            head.append(f" · {leaf}")
        head.append("\n")
        head.append(first_line(m.text, 300), style="dim")
        sender = self.app.senders.get(m.source)
        lang = self.app.config.language
        head.append("\n")
        if sender is not None:
            how = word("sends_via", lang).format(source=m.source)
            head.append(
                how + (f" ({word('dry_run', lang)})" if sender.dry_run else ""), style="bold"
            )
        else:
            head.append(word("copy_then_mark", lang), style="italic")
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

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < 100, "-narrow")

    def on_text_area_changed(self) -> None:
        self._check()

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
            operator_initials=self.app.config.initials,
            language=self.app.config.language,
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
        self.app.drafts[self.mention.id] = self.text
        self.notify(word("reply_copied", self.app.config.language), markup=False)

    def action_sent(self) -> None:
        """Send through the mention's source where it can post replies (after a confirmation),
        else record the reply that was copied and posted by hand."""
        text = self.text.strip()
        if not text:
            return
        sender = self.app.senders.get(self.mention.source)
        if sender is None:
            changes, action = triage.responded(self.mention, self.app.clock(), reply=text)
            self._recorded(changes, action)
            return
        from tui.screens.confirm import ConfirmScreen

        lang = self.app.config.language
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
        lang = self.app.config.language
        self.app.drafts[self.mention.id] = self.text  # kept until the channel said yes
        try:
            where = await sender(self.mention, text)
        except Exception as exc:  # the platform said no: keep the draft, say why
            self.notify(
                f"{word('send_failed', lang)}: {exc}", severity="error", markup=False, timeout=15
            )
            return
        if sender.dry_run:
            self.app.act(
                self.mention, {}, f"dry run via {self.mention.source}: {where}", undoable=False
            )
            self.notify(f"{word('dry_run', lang)}: {where}", markup=False, timeout=10)
            return
        changes, action = triage.responded(self.mention, self.app.clock(), reply=text)
        changes["reply_ref"] = where
        self._recorded(changes, f"reply sent via {self.mention.source}: {where}")

    def _recorded(self, changes: dict, action: str) -> None:
        if self.app.act(self.mention, changes, action):
            self.app.drafts.pop(self.mention.id, None)
            self.dismiss(None)

    def action_close(self) -> None:
        if self.text != self.initial or self.mention.id in self.app.drafts:
            self.app.drafts[self.mention.id] = self.text
        self.dismiss(None)
