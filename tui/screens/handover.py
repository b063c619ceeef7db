"""The shift handover (`o`): what the next person on duty needs to know, since the shift began.

Sections, as webcare.handover computes them: what came in (per channel, and the notable ones),
what was answered and by whom, what is still open by deadline (with a live countdown), what
waits on an expert, the drafts not sent yet (whose, since when: data_dir/drafts.json), and the
notes left for the next shift. `n` leaves a note (kept in
data_dir/notes.jsonl, so every desk and `webcare handover` see it), `y` copies the Markdown,
`p` / ctrl+s writes it to data_dir/handover-YYYY-MM-DD-HHMM.md, `S` picks another start.

"Since" is the start of the shift on duty ([shifts] in config.toml) unless picked with `S`.
Every stored mention is read in a thread worker from a store handle of its own (the app's
handle reports changes to the queue and must not be disturbed); the handover is computed
there and comes back as a message. Adding a note recomputes from the mentions already read;
`r` reads the store again. The countdowns are repainted on the desk's minute tick against the
clock, without recomputing.

Everything from outside (authors, texts, channels, expert names) and the notes are appended to
rich Text as plain strings (cleaned of control characters), never parsed as markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from store.jsonstorage import StoreError, write_atomically
from tui.damage import w
from tui.desk import desk
from tui.keys import localize
from tui.messages import CrisisChanged, HeaderChanged
from tui.screens.prompt import PromptScreen
from webcare import handover as H
from webcare.i18n import countdown, status_word, when, word
from webcare.mention import Mention
from webcare.shifts import current_shift, moment_since
from webcare.untrusted import clean_line

SHOWN = 40  # rows per list on screen; the Markdown has them all
RESET = object()  # the "since" prompt's answer for "the start of the shift"


def parse_since(text: str, now: datetime, tz) -> datetime | object | None:
    """The `S` prompt's answer: HH:MM (the last such time, in the desk's timezone), a date and
    time (YYYY-MM-DD HH:MM), empty (RESET: the start of the shift), or None (not a time)."""
    if not text.strip():
        return RESET
    try:
        return moment_since(text, now, tz)
    except ValueError:
        return None


class HandoverScreen(Screen[None]):
    DEFAULT_CSS = """
    HandoverScreen #ho-head { height: auto; padding: 0 1; background: $panel; text-wrap: nowrap;
        text-overflow: ellipsis; }
    HandoverScreen #ho-scroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    HandoverScreen #ho-body { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("n", "note", "note", id="handover.note"),
        Binding("y", "copy", "copy", id="handover.copy"),
        Binding("p,ctrl+s", "save", "save", id="handover.save"),
        Binding("S", "since", "since…", id="handover.since"),
        Binding("r", "refresh", "refresh", show=False, id="handover.refresh"),
        Binding("escape,s", "leave", "stream", id="handover.stream"),
        Binding("j,down", "scroll(1)", "down", show=False, id="handover.down"),
        Binding("k,up", "scroll(-1)", "up", show=False, id="handover.up"),
        Binding("pagedown,space", "scroll(10)", "page down", show=False, id="handover.page_down"),
        Binding("pageup", "scroll(-10)", "page up", show=False, id="handover.page_up"),
    ]

    class Computed(Message):
        """The handover is ready (posted from the worker)."""

        def __init__(self, handover: H.Handover) -> None:
            super().__init__()
            self.handover = handover

    class NoteAdded(Message):
        """A note was kept."""

    class NoteFailed(Message):
        """A note could not be kept (a full disk, the lock): say so, and offer it again."""

        def __init__(self, text: str, error: Exception) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class Saved(Message):
        def __init__(self, path: Path | None, error: str = "") -> None:
            super().__init__()
            self.path = path
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        localize(self, desk(self).config.language)
        self.since: datetime | None = None  # None: the start of the shift on duty
        self.result: H.Handover | None = None
        self.mentions: list[Mention] | None = None  # as last read (worker side only)
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="ho-head")
        with VerticalScroll(id="ho-scroll", can_focus=False):
            yield Static("", id="ho-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.paint()
        self.compute(reload=True)

    def on_resize(self) -> None:
        self.paint()

    # --- what the desk tells it -------------------------------------------------------------------

    def on_header_changed(self, _message: HeaderChanged | CrisisChanged) -> None:
        """The minute tick (or new mentions): the countdowns move on."""
        if self.is_current:
            self.paint()

    on_crisis_changed = on_header_changed

    # --- the worker ---------------------------------------------------------------------------

    def compute(self, reload: bool = False) -> None:
        self.error = ""
        self._compute(reload, self.since, desk(self).clock())

    @work(thread=True, exclusive=True, group="handover", exit_on_error=False)
    def _compute(self, reload: bool, since: datetime | None, now: datetime) -> None:
        """Read the mentions (when asked or not read yet) and the notes, and compute."""
        cfg = desk(self).config
        worker = get_current_worker()
        store = desk(self).store  # the desk's own handle: its reads leave the desk's changes() as they are
        book = store.notes
        drafts = store.drafts.all().values()
        if reload or self.mentions is None:
            self.mentions = list(store.every_mention())
        if worker.is_cancelled:
            return
        shift_name = ""
        if since is None:
            try:
                shift = current_shift(cfg.shifts, now, cfg.timezone)
                since, shift_name = shift.start, shift.name
            except ValueError:  # no shifts at all: the last eight hours
                since = now - timedelta(hours=8)
        result = H.handover(
            self.mentions, since, now, cfg.timezone, book.since(since), shift=shift_name,
            drafts=drafts,
        )
        self.post_message(self.Computed(result))

    def on_handover_screen_computed(self, message: Computed) -> None:
        self.result = message.handover
        self.paint()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group.startswith("handover") and event.state == WorkerState.ERROR:
            lang = desk(self).config.language
            self.error = f"{word('dash_failed', lang)}: {event.worker.error}"
            self.notify(self.error, severity="error", markup=False)
            self.paint()

    # --- drawing ------------------------------------------------------------------------------

    def paint(self) -> None:
        lang = desk(self).config.language
        head = self.query_one("#ho-head", Static)
        body = self.query_one("#ho-body", Static)
        h = self.result
        if h is None:
            head.update(Text(H.word("title", lang), style="bold"))
            body.update(Text(self.error or word("dash_computing", lang), style="italic"))
            return
        head.update(self.heading(h, lang))
        body.update(self.sections(h, lang))

    def heading(self, h: H.Handover, lang: str) -> Text:
        tz = desk(self).config.timezone
        w = lambda k: H.word(k, lang)  # noqa: E731
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(w("title"), style="bold")
        if h.shift:
            out.append(f" — {w('shift')} ")
            out.append(clean_line(h.shift, 40), style="bold")
        elif self.since is not None:
            out.append(f" — {word('ho_chosen_since', lang)}")
        out.append(f"  {w('since')} {when(h.since, tz, lang)} {w('until')} ")
        out.append(f"{h.now.astimezone(tz):%H:%M}")
        out.append("\n")
        late_open = f" ({h.overdue} {w('late')})" if h.overdue else ""
        late = f" ({h.experts_late} {w('late')})" if h.experts_late else ""
        out.append(f"{w('came_in')} {h.came_in} · {w('answered')} {len(h.answered)} · ")
        out.append(f"open {len(h.open)}{late_open}", style="bold red" if h.overdue else "")
        out.append(f" · experts {len(h.experts)}{late}", style="yellow" if h.experts_late else "")
        if h.drafts:
            out.append(f" · {w('drafts').split(',')[0].lower()} {len(h.drafts)}", style="cyan")
        out.append(f" · {w('notes').split()[0].lower()} {len(h.notes)}")
        return out

    def sections(self, h: H.Handover, lang: str) -> Text:
        tz = desk(self).config.timezone
        now = desk(self).clock()
        w = lambda k: H.word(k, lang)  # noqa: E731
        today = now.astimezone(tz).date()

        def at(moment: datetime) -> str:
            """HH:MM today, else with the day ('za 21-11 20:31')."""
            local = moment.astimezone(tz)
            return f"{local:%H:%M}" if local.date() == today else when(moment, tz, lang)

        out = Text(no_wrap=True, overflow="ellipsis")

        def title(text: str) -> None:
            if out.cell_len:
                out.append("\n\n")
            out.append(text, style="bold underline")

        def more(total: int) -> None:
            if total > SHOWN:
                out.append("\n" + word("dash_more", lang).format(n=total - SHOWN), style="dim")

        def item(i: H.Item, lead: Text) -> None:
            out.append("\n")
            out.append_text(lead)
            out.append(clean_line(i.channel, 12) + " · ", style="cyan")
            out.append(clean_line(i.author, 40), style="bold")
            if i.text:
                out.append(" — " + clean_line(i.text, 300))

        # came in
        title(f"{w('came_in')}: {h.came_in}")
        if h.per_channel:
            out.append(
                "\n" + ", ".join(f"{clean_line(c, 20)} {n}" for c, n in h.per_channel.items())
            )
        if h.notable:
            out.append("\n")
            out.append(f"{w('notable')}: {len(h.notable)}", style="bold")
            for i in h.notable[:SHOWN]:
                why = ", ".join(
                    f"{w(r)} ({clean_line(i.watchlist, 20)})"
                    if r == "watchlist" and i.watchlist
                    else w(r)
                    for r in i.reasons
                )
                style = "bold red" if "urgent" in i.reasons else "yellow"
                lead = Text()
                lead.append(f"{why} ", style=style)
                lead.append(f"{at(i.first_seen_at)} ", style="dim")
                item(i, lead)
            more(len(h.notable))
        # answered
        title(f"{w('answered')}: {len(h.answered)}")
        if h.answered_by:
            out.append(f"\n{w('by').capitalize()}: ")
            out.append(", ".join(f"{clean_line(who, 30)} {n}" for who, n in h.answered_by.items()))
        for a in h.answered[:SHOWN]:
            lead = Text()
            lead.append(f"{at(a.at)} ", style="dim")
            lead.append(f"{clean_line(a.who, 20)} · ", style="green")
            item(a.item, lead)
        more(len(h.answered))
        # open, by deadline
        overdue = f" ({h.overdue} {w('overdue')})" if h.overdue else ""
        title(f"{w('open')}: {len(h.open)}{overdue}")
        if not h.open:
            out.append("\n" + w("nothing"), style="green")
        for i in h.open[:SHOWN]:
            lead = Text()
            if i.deadline is None:
                lead.append(f"{w('no_norm'):>16} ", style="dim")
            else:
                left = i.deadline - now
                style = (
                    "bold red"
                    if left.total_seconds() < 0
                    else "yellow"
                    if left < timedelta(minutes=30)
                    else ""
                )
                lead.append(f"{countdown(left, lang):>16} ", style=style)
            lead.append(f"{status_word(i.status, lang)} · ", style="dim")
            item(i, lead)
        more(len(h.open))
        # waiting on experts
        late = f" ({h.experts_late} {w('late')})" if h.experts_late else ""
        title(f"{w('experts')}: {len(h.experts)}{late}")
        if not h.experts:
            out.append("\n" + w("nothing"), style="green")
        for i in h.experts[:SHOWN]:
            lead = Text()
            lead.append(clean_line(i.routed_to or "?", 24), style="magenta")
            if i.routed_due is not None:
                left = i.routed_due - now
                lead.append(
                    f" {w('due')} {countdown(left, lang)}",
                    style="red" if left.total_seconds() < 0 else "",
                )
            lead.append(" · ")
            item(i, lead)
        more(len(h.experts))
        # drafts not sent yet: the next shift finishes them (`r` on the mention opens it)
        title(f"{w('drafts')}: {len(h.drafts)}")
        if not h.drafts:
            out.append("\n" + w("nothing"), style="green")
        for d in h.drafts[:SHOWN]:
            lead = Text()
            lead.append(f"{at(d.at)} ", style="dim")
            lead.append(f"{w('draft_by')} ")
            lead.append(clean_line(d.operator, 24), style="cyan")
            lead.append(" · ")
            item(d.item, lead)
        more(len(h.drafts))
        # notes
        title(w("notes"))
        if not h.notes:
            out.append("\n" + word("ho_notes_none", lang), style="dim")
        for note in h.notes:
            out.append("\n")
            out.append(f"{when(note.at, tz, lang)} ", style="dim")
            out.append(clean_line(note.who, 30), style="bold")
            out.append(": ")
            out.append(clean_line(note.text, 2000))
        return out

    # --- keys ---------------------------------------------------------------------------------

    def markdown(self) -> str | None:
        if self.result is None:
            self.notify(
                word("dash_not_ready", desk(self).config.language), severity="warning", markup=False
            )
            return None
        return H.to_markdown(self.result, desk(self).config.language)

    def action_copy(self) -> None:
        text = self.markdown()
        if text is not None:
            self.app.copy_to_clipboard(text)
            self.notify(word("ho_copied", desk(self).config.language), markup=False)

    def action_save(self) -> None:
        text = self.markdown()
        if text is not None:
            local = desk(self).clock().astimezone(desk(self).config.timezone)
            path = Path(desk(self).config.data_dir) / f"handover-{local:%Y-%m-%d-%H%M}.md"
            self._save(path, text)

    @work(thread=True, group="handover-save", exit_on_error=False)
    def _save(self, path: Path, text: str) -> None:
        try:
            write_atomically(path, text.encode("utf-8"))
        except OSError as exc:
            self.post_message(self.Saved(None, str(exc)))
            return
        self.post_message(self.Saved(path))

    def on_handover_screen_saved(self, message: Saved) -> None:
        lang = desk(self).config.language
        if message.path is None:
            self.notify(
                f"{word('ho_save_failed', lang)}: {message.error}", severity="error", markup=False
            )
        else:
            self.notify(f"{word('ho_saved', lang)} {message.path}", markup=False, timeout=10)

    def action_note(self) -> None:
        self._ask_note("")

    def _ask_note(self, value: str) -> None:
        lang = desk(self).config.language

        def answered(text: str | None) -> None:
            text = clean_line(text or "", 2000)
            if text:
                self._add_note(H.Note(desk(self).clock(), desk(self).config.operator, text))

        self.app.push_screen(PromptScreen(word("ho_note_prompt", lang), value), answered)

    @work(thread=True, group="handover-note", exit_on_error=False)
    def _add_note(self, note: H.Note) -> None:
        """Keep the note (its own worker: a recomputation never cancels it), then recompute."""
        try:
            desk(self).store.notes.add(note)
        except StoreError as exc:
            self.post_message(self.NoteFailed(note.text, exc))
            return
        self.post_message(self.NoteAdded())

    def on_handover_screen_note_failed(self, message: NoteFailed) -> None:
        desk(self).not_saved(w("the_note", desk(self).config.language), message.error)
        if self.is_current:
            self._ask_note(message.text)  # what was typed is not lost

    def on_handover_screen_note_added(self, message: NoteAdded) -> None:
        self.notify(word("ho_note_added", desk(self).config.language), markup=False)
        self.compute()

    def action_since(self) -> None:
        lang = desk(self).config.language
        cfg = desk(self).config
        current = (
            "" if self.since is None else f"{self.since.astimezone(cfg.timezone):%Y-%m-%d %H:%M}"
        )

        def answered(value) -> None:
            if value is None:
                return
            self.since = None if value is RESET else value
            self.compute()

        self.app.push_screen(
            PromptScreen(
                word("ho_since_prompt", lang),
                current,
                accept=lambda s: parse_since(s, desk(self).clock(), cfg.timezone),
                invalid=word("ho_since_invalid", lang),
            ),
            answered,
        )

    def action_refresh(self) -> None:
        self.compute(reload=True)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#ho-scroll", VerticalScroll).scroll_relative(
            y=lines, animate=False, immediate=True
        )

    def action_leave(self) -> None:
        self.dismiss()
