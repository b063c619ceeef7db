"""The desk's words in its two UI languages ([desk] language = "nl" or "en")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

import humanize

WORDS: dict[str, dict[str, str]] = {
    "new": {"nl": "nieuw", "en": "new"},
    "due_soon": {"nl": "bijna", "en": "due soon"},
    "overdue": {"nl": "te laat", "en": "overdue"},
    "sources": {"nl": "bronnen", "en": "sources"},
    "ok": {"nl": "ok", "en": "ok"},
    "failing": {"nl": "faalt", "en": "failing"},
    "rate-limited": {"nl": "beperkt", "en": "rate-limited"},
    "starting": {"nl": "start", "en": "starting"},
    "collector_here": {"nl": "verzamelt zelf", "en": "collecting"},
    "collector_attached": {"nl": "gekoppeld aan collector", "en": "attached to collector"},
    "collector_stopped": {"nl": "collector gestopt", "en": "collector stopped"},
    "no_mentions": {
        "nl": "Nog geen vermeldingen. De bronnen worden bevraagd…",
        "en": "No mentions yet. Polling the sources…",
    },
    "no_match": {
        "nl": "Geen vermeldingen voor deze filter.",
        "en": "No mentions match this filter.",
    },
    "filter": {"nl": "filter", "en": "filter"},
    "filter_hint": {
        "nl": "woorden, of channel:x status:new source:demo urgency:overdue — enter past toe, esc wist",
        "en": "words, or channel:x status:new source:demo urgency:overdue — enter applies, esc clears",
    },
    "author": {"nl": "Auteur", "en": "Author"},
    "channel": {"nl": "Kanaal", "en": "Channel"},
    "link": {"nl": "Link", "en": "Link"},
    "published": {"nl": "Gepubliceerd", "en": "Published"},
    "first_seen": {"nl": "Eerst gezien", "en": "First seen"},
    "deadline": {"nl": "Antwoorden voor", "en": "Answer by"},
    "keywords": {"nl": "Trefwoorden", "en": "Keywords"},
    "source": {"nl": "Bron", "en": "Source"},
    "status": {"nl": "Status", "en": "Status"},
    "reach": {"nl": "Bereik", "en": "Reach"},
    "history": {"nl": "Geschiedenis", "en": "History"},
    "unknown": {"nl": "onbekend", "en": "unknown"},
    "no_norm": {"nl": "geen norm", "en": "no norm"},
    "help_title": {"nl": "Toetsen", "en": "Keys"},
    "help_close": {"nl": "esc of ? sluit", "en": "esc or ? closes"},
    "shown": {"nl": "getoond", "en": "shown"},
    "category": {"nl": "Categorie", "en": "Category"},
    "scheme_path": {"nl": "Schema", "en": "Scheme path"},
    "routed_to": {"nl": "Doorgestuurd naar", "en": "Routed to"},
    "flags": {"nl": "Vlaggen", "en": "Flags"},
    "snoozed_until": {"nl": "Sluimert tot", "en": "Snoozed until"},
    "responded_at": {"nl": "Beantwoord", "en": "Responded"},
    "reply": {"nl": "Antwoord", "en": "Reply"},
    "triage": {"nl": "Triage", "en": "Triage"},
    "triage_keys": {
        "nl": "backspace: terug · esc: annuleren",
        "en": "backspace: back · esc: cancel",
    },
    "triage_apply": {
        "nl": "enter: toepassen · backspace: terug · esc: annuleren",
        "en": "enter: apply · backspace: back · esc: cancel",
    },
    "undone": {"nl": "Ongedaan gemaakt", "en": "Undone"},
    "nothing_to_undo": {"nl": "Niets om ongedaan te maken", "en": "Nothing to undo"},
    "undo_conflict": {
        "nl": "Niet ongedaan gemaakt: iemand anders wijzigde dit intussen",
        "en": "Not undone: someone else changed it meanwhile",
    },
    "store_error": {"nl": "Niet bewaard", "en": "Not saved"},
    "snooze_prompt": {
        "nl": "Sluimeren tot (30m, 2h, 1d of HH:MM), enter bevestigt",
        "en": "Snooze until (30m, 2h, 1d or HH:MM), enter confirms",
    },
    "bad_time": {"nl": "Geen geldige tijd", "en": "Not a valid time"},
    "reply_copied": {
        "nl": "Antwoord gekopieerd (plak het in het kanaal, dan ctrl+s)",
        "en": "Reply copied (paste it in the channel, then ctrl+s)",
    },
    "send_failed": {"nl": "Niet verzonden", "en": "Not sent"},
    "sends_via": {
        "nl": "ctrl+s verstuurt het antwoord via {source}",
        "en": "ctrl+s sends the reply via {source}",
    },
    "copy_then_mark": {
        "nl": "ctrl+y kopieert; plaats het antwoord zelf in het kanaal, dan ctrl+s",
        "en": "ctrl+y copies; post the reply in the channel yourself, then ctrl+s",
    },
    "possible_crisis": {"nl": "Mogelijke crisis", "en": "Possible crisis"},
    "crisis_mode": {"nl": "CRISISMODUS", "en": "CRISIS MODE"},
    "since": {"nl": "sinds", "en": "since"},
    "crisis_screen": {"nl": "crisisscherm", "en": "crisis screen"},
    "crisis_start": {"nl": "crisismodus starten", "en": "start crisis mode"},
    "badge_urgent": {"nl": "DRINGEND", "en": "URGENT"},
    "badge_journalist": {"nl": "PERS", "en": "PRESS"},
    "badge_opinion-maker": {"nl": "OPINIE", "en": "OPINION"},
    "badge_politician": {"nl": "POLITIEK", "en": "POLITICS"},
    "badge_peer": {"nl": "PEER", "en": "PEER"},
    "badge_ambassador-internal": {"nl": "AMB-INT", "en": "AMB-INT"},
    "badge_ambassador-external": {"nl": "AMB", "en": "AMB"},
    "urgent_arrived": {"nl": "Dringend", "en": "Urgent"},
    "in_reply_to": {"nl": "antwoord op", "en": "in reply to"},
    "in_reply_to_unknown": {
        "nl": "antwoord op een bericht dat de desk niet heeft",
        "en": "a reply to a post the desk does not have",
    },
    "replies": {"nl": "Antwoorden", "en": "Replies"},
    "reply_link": {"nl": "ons antwoord", "en": "our reply"},
    "live": {"nl": "live", "en": "live"},
    "until": {"nl": "tot", "en": "until"},
    "dry_run": {"nl": "proefmodus: er wordt niets verstuurd", "en": "dry run: nothing is sent"},
    "confirm_send": {
        "nl": "Antwoord aan {author} versturen via {source}?",
        "en": "Send the reply to {author} via {source}?",
    },
    "experts": {"nl": "Experts", "en": "Experts"},
    "no_experts": {
        "nl": "Geen experts in config.toml ([[experts]])",
        "en": "No experts in config.toml ([[experts]])",
    },
    "experts_keys": {
        "nl": "1–9 doorsturen · f feedback aan dienst · esc terug",
        "en": "1–9 route · f feedback to a unit · esc back",
    },
    "feedback_to": {"nl": "Feedback doorgeven aan", "en": "Pass feedback on to"},
    "ask_deputy": {"nl": "vraag", "en": "ask"},
    "note_for": {"nl": "Notitie voor", "en": "Note for"},
    "note_hint": {"nl": "enter verstuurt, esc annuleert", "en": "enter sends, esc cancels"},
    "handoff_sent": {"nl": "Doorgestuurd per e-mail aan", "en": "Handed off by e-mail to"},
    "handoff_copied": {
        "nl": "Geen [smtp]: de overdrachttekst staat op het klembord voor",
        "en": "No [smtp]: the hand-off text is on the clipboard for",
    },
    "handoff_failed": {
        "nl": "E-mail niet verstuurd, nieuwe poging over",
        "en": "E-mail not sent, trying again in",
    },
    "expert_answer_prompt": {
        "nl": "Antwoord van de expert (plakken of typen), enter opent het antwoordvenster",
        "en": "The expert's answer (paste or type), enter opens the composer",
    },
    "feedback_sent": {"nl": "Feedback doorgegeven aan", "en": "Feedback passed on to"},
    "calendar": {"nl": "Inhoudskalender", "en": "Content calendar"},
    "move_pick_day": {"nl": "kies de dag en druk enter", "en": "pick the day and press enter"},
    "empty_days": {"nl": "lege dagen", "en": "empty days"},
    "unused": {"nl": "niet gebruikt", "en": "not used"},
    "held": {"nl": "Tegengehouden", "en": "Held"},
    "released": {"nl": "Vrijgegeven", "en": "Released"},
    "backlog": {"nl": "Ideeën (nummer, enter)", "en": "Ideas (number, enter)"},
    "backlog_empty": {"nl": "Geen ideeën zonder datum", "en": "No ideas without a date"},
    "plan_title": {"nl": "Titel", "en": "Title"},
    "plan_time": {"nl": "Uur (HH:MM, leeg = hele dag)", "en": "Time (HH:MM, empty = all day)"},
    "plan_channels": {"nl": "Kanalen (x, facebook, …)", "en": "Channels (x, facebook, …)"},
    "plan_theme": {"nl": "Thema", "en": "Theme"},
    "plan_text": {"nl": "Tekst of notities (enter bewaart)", "en": "Text or notes (enter saves)"},
    "plan_needs_title": {"nl": "Een item heeft een titel nodig", "en": "An item needs a title"},
    "planned_today": {"nl": "vandaag gepland", "en": "planned today"},
    "next_at": {"nl": "volgende", "en": "next"},
    "link_copied": {"nl": "Link gekopieerd", "en": "Link copied"},
    "no_link": {"nl": "Geen link bij deze vermelding", "en": "This mention has no link"},
    "quit_unsent": {
        "nl": "Er zijn onverzonden antwoorden. Toch stoppen? (y/n)",
        "en": "There are unsent replies. Quit anyway? (y/n)",
    },
}

STATUS_WORDS: dict[str, dict[str, str]] = {
    "new": {"nl": "nieuw", "en": "new"},
    "responding": {"nl": "in behandeling", "en": "responding"},
    "routed": {"nl": "doorgestuurd", "en": "routed"},
    "monitoring": {"nl": "opvolgen", "en": "monitoring"},
    "escalated": {"nl": "geëscaleerd", "en": "escalated"},
    "responded": {"nl": "beantwoord", "en": "responded"},
    "closed": {"nl": "gesloten", "en": "closed"},
    "no reaction": {"nl": "geen reactie", "en": "no reaction"},
    "moderated": {"nl": "gemodereerd", "en": "moderated"},
    "snoozed": {"nl": "gesluimerd", "en": "snoozed"},
}


def word(key: str, language: str) -> str:
    entry = WORDS.get(key)
    return key if entry is None else entry.get(language, entry["en"])


def status_word(status: str, language: str) -> str:
    entry = STATUS_WORDS.get(status)
    return status if entry is None else entry.get(language, entry["en"])


def countdown(left: timedelta, language: str) -> str:
    """Compact time left to answer: 'nog 1 u 12 min' / '1 h 12 min left', or when negative
    '3 min te laat' / '3 min overdue'. Minute precision: the desk repaints once a minute."""
    late = left < timedelta(0)
    minutes = int(abs(left).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    h = "u" if language == "nl" else "h"
    if days:
        span = f"{days} d {hours} {h}"
    elif hours:
        span = f"{hours} {h} {mins} min" if mins else f"{hours} {h}"
    elif minutes:
        span = f"{mins} min"
    else:
        span = "< 1 min"
    if language == "nl":
        return f"{span} te laat" if late else f"nog {span}"
    return f"{span} overdue" if late else f"{span} left"


DAY_NAMES = {
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def when(moment: datetime, timezone: tzinfo, language: str) -> str:
    """'za 21-11 20:31' / 'Sat 21-11 20:31' in the desk's timezone (not the C locale's names)."""
    local = moment.astimezone(timezone)
    return f"{DAY_NAMES.get(language, DAY_NAMES['en'])[local.weekday()]} {local:%d-%m %H:%M}"


_humanize_lock = threading.Lock()  # humanize's locale is process-global


def _in_language(language: str, fn: Callable[[], str]) -> str:
    with _humanize_lock:
        if language == "nl":
            humanize.i18n.activate("nl_NL")
        try:
            return fn()
        finally:
            humanize.i18n.deactivate()


def ago(moment: datetime, now: datetime, language: str) -> str:
    """'3 uur geleden' / '3 hours ago' (or 'over 2 uur' / 'in 2 hours' for the future)."""
    return _in_language(language, lambda: humanize.naturaltime(moment, when=now))


def span(delta: timedelta, language: str) -> str:
    """'1 uur en 12 minuten' / '1 hour and 12 minutes'."""
    return _in_language(
        language, lambda: humanize.precisedelta(abs(delta), minimum_unit="minutes", format="%0.0f")
    )
