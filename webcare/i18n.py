"""The desk's words in its two UI languages ([desk] language = "nl" or "en")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

import humanize

WORDS: dict[str, dict[str, str]] = {
    "new": {"nl": "nieuw", "en": "new"},
    "due_soon": {"nl": "bijna te laat", "en": "due soon"},
    "overdue": {"nl": "te laat", "en": "overdue"},
    "sources": {"nl": "bronnen", "en": "sources"},
    "ok": {"nl": "ok", "en": "ok"},
    "failing": {"nl": "in storing", "en": "failing"},
    "rate-limited": {"nl": "beperkt", "en": "rate-limited"},
    "token_expires_on": {"nl": "{what}-token verloopt op {date}", "en": "{what} token expires on {date}"},
    "token_expired_on": {"nl": "{what}-token verlopen op {date}", "en": "{what} token expired on {date}"},
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
    "rules": {"nl": "Regels", "en": "Rules"},
    "themes": {"nl": "Thema's", "en": "Themes"},
    "watchlist": {"nl": "Volglijst", "en": "Watchlist"},
    "tone": {"nl": "Taal en toon", "en": "Language, tone"},
    "sentiment_negative": {"nl": "negatief", "en": "negative"},
    "sentiment_neutral": {"nl": "neutraal", "en": "neutral"},
    "sentiment_positive": {"nl": "positief", "en": "positive"},
    "angry": {"nl": "boos", "en": "angry"},
    "source": {"nl": "Bron", "en": "Source"},
    "status": {"nl": "Status", "en": "Status"},
    "reach": {"nl": "Bereik", "en": "Reach"},
    "history": {"nl": "Geschiedenis", "en": "History"},
    "unknown": {"nl": "onbekend", "en": "unknown"},
    "no_norm": {"nl": "geen norm", "en": "no norm"},
    # A followed person's post that does not name us (webcare.intake): read, not answered.
    "followed": {"nl": "gevolgd", "en": "followed"},
    "help_title": {"nl": "Toetsen", "en": "Keys"},
    "help_close": {"nl": "esc of ? sluit", "en": "esc or ? closes"},
    "shown": {"nl": "getoond", "en": "shown"},
    "category": {"nl": "Categorie", "en": "Category"},
    "scheme_path": {"nl": "Schema", "en": "Scheme path"},
    "routed_to": {"nl": "Doorgestuurd naar", "en": "Routed to"},
    "flags": {"nl": "Markeringen", "en": "Flags"},
    "snoozed_until": {"nl": "Uitgesteld tot", "en": "Snoozed until"},
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
        "nl": "Uitstellen tot (30m, 2h, 1d of HH:MM), enter bevestigt",
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
    "expert_answered_mail": {"nl": "Antwoord van de expert (e-mail)", "en": "The expert answered (e-mail)"},
    "suspicious_answer": {
        "nl": "Verdacht: niet aanvaard als antwoord van de expert",
        "en": "Suspicious: not taken as the expert's answer",
    },
    "claim_taken": {"nl": "{who} heeft dit antwoord overgenomen", "en": "{who} took this reply over"},
    "claim_held": {"nl": "{who} antwoordt hier al op (sinds {since}). Overnemen?", "en": "{who} is already replying (since {since}). Take over?"},
    "others_here": {"nl": "Ook hier", "en": "Also here"},
    "viewing": {"nl": "kijkt mee", "en": "viewing"},
    "replying": {"nl": "antwoordt", "en": "replying"},
    "on_desk": {"nl": "ook op de desk", "en": "also on the desk"},
    "collector_running": {"nl": "collector actief", "en": "collector running"},
    "collecting_here": {"nl": "lokaal", "en": "collecting here"},
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
    "no_role_holder": {"nl": "Niemand om te verwittigen", "en": "Nobody to tell"},
    "signalled_view": {"nl": "gesignaleerd", "en": "signalled"},
    "no_ambassadors": {
        "nl": "Geen ambassadeurs met een e-mailadres ([[watch.people]] email)",
        "en": "No ambassadors with an e-mail address ([[watch.people]] email)",
    },
    "not_positive": {
        "nl": "Alleen een positieve melding gaat naar de ambassadeurs",
        "en": "Only a positive mention goes to the ambassadors",
    },
    "ambassadors_no_smtp": {
        "nl": "Geen [smtp]: de ambassadeurs krijgen niets zonder e-mail",
        "en": "No [smtp]: the ambassadors can only be reached by e-mail",
    },
    "ambassadors_hint": {
        "nl": "b: doorgeven aan de ambassadeurs om te delen",
        "en": "b: pass it on to the ambassadors to share",
    },
    "note_for_ambassadors": {"nl": "Notitie voor de ambassadeurs", "en": "Note for the ambassadors"},
    "passed_to_ambassadors": {"nl": "Doorgegeven aan ambassadeurs:", "en": "Passed on to ambassadors:"},
    "handoff_sent": {"nl": "Doorgestuurd per e-mail aan", "en": "Handed off by e-mail to"},
    "handoff_copied": {
        "nl": "Geen [smtp]: de overdrachtstekst staat op het klembord voor",
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
    "held": {"nl": "Opgeschort", "en": "Held"},
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
    "confirm_keys": {"nl": "j of enter: ja · n of esc: nee", "en": "y or enter: yes · n or esc: no"},
    "quit_unsent": {
        "nl": "Er zijn onverzonden antwoorden. Toch stoppen?",
        "en": "There are unsent replies. Quit anyway?",
    },
    # drafts kept in the store (store/drafts.py)
    "draft_by": {"nl": "concept van {who}, {at}", "en": "draft by {who}, {at}"},
    "draft_restored": {"nl": "bewaard concept hersteld; ctrl+t verwerpt het", "en": "saved draft restored; ctrl+t discards it"},
    "draft_not_saved": {"nl": "Concept niet bewaard", "en": "Draft not saved"},
    "database_away": {"nl": "Database niet bereikbaar", "en": "Database unreachable"},
    "database_back": {"nl": "Database weer bereikbaar", "en": "Database reachable again"},
    "draft_discarded": {"nl": "Concept verworpen: het sjabloon staat er weer (ctrl+z zet het terug)", "en": "Draft discarded: the template is back (ctrl+z brings it back)"},
    "draft_finished": {"nl": "Al afgehandeld: concept niet bewaard", "en": "Already dealt with: draft not saved"},
    # trends and crisis screens
    "trends_title": {"nl": "Thema's en trends", "en": "Themes and trends"},
    "trends_building": {"nl": "trends worden berekend…", "en": "trends are being computed…"},
    "trends_baseline": {
        "nl": "t.o.v. dezelfde uren op de {days} vorige dagen",
        "en": "against the same hours on the {days} previous days",
    },
    "trends_no_baseline": {
        "nl": "nog geen vorige dagen om mee te vergelijken",
        "en": "no previous days to compare with yet",
    },
    "last_hour": {"nl": "Laatste uur", "en": "Last hour"},
    "last_day": {"nl": "Laatste 24 u", "en": "Last 24 h"},
    "trend_now": {"nl": "nu", "en": "now"},
    "trend_expected": {"nl": "verwacht", "en": "expected"},
    "trend_negative": {"nl": "neg.", "en": "neg."},
    "per_5min": {"nl": "per 5 min", "en": "per 5 min"},
    "per_hour": {"nl": "per uur", "en": "per hour"},
    "rising_terms": {"nl": "Stijgende woorden", "en": "Rising words"},
    "no_rising_terms": {"nl": "geen", "en": "none"},
    "no_crisis": {
        "nl": "Geen crisis aan de gang. K start de crisismodus voor iedereen op deze desk.",
        "en": "No crisis under way. K starts crisis mode for everyone on this desk.",
    },
    "crisis_start_prompt": {
        "nl": "Crisismodus starten voor iedereen? Reden (enter start, esc annuleert)",
        "en": "Start crisis mode for everyone? Reason (enter starts, esc cancels)",
    },
    "crisis_started": {"nl": "Crisismodus gestart", "en": "Crisis mode started"},
    "crisis_ended": {"nl": "Crisismodus beëindigd", "en": "Crisis mode ended"},
    "crisis_end_confirm": {
        "nl": "Crisismodus beëindigen voor iedereen?",
        "en": "End crisis mode for everyone?",
    },
    "crisis_release_confirm": {
        "nl": "Opgeschorte geplande posts weer vrijgeven?",
        "en": "Release the held planned posts?",
    },
    "crisis_decision_prompt": {
        "nl": "Beslissing voor het logboek (enter bewaart, esc annuleert)",
        "en": "Decision for the log (enter saves, esc cancels)",
    },
    "crisis_by": {"nl": "door", "en": "by"},
    "crisis_norm": {"nl": "crisisnorm", "en": "crisis norm"},
    "crisis_held": {"nl": "posts opgeschort", "en": "posts held"},
    "crisis_volume": {"nl": "volume/5 min", "en": "volume/5 min"},
    "crisis_negative": {"nl": "negatief", "en": "negative"},
    "crisis_last_5min": {"nl": "laatste 5 min", "en": "last 5 min"},
    "crisis_nothing": {
        "nl": "Niets open dat telt: geen geëscaleerde, dringende of negatieve vermeldingen.",
        "en": "Nothing open that matters: no escalated, urgent or negative mentions.",
    },
    "crisis_log": {"nl": "Logboek", "en": "Decision log"},
    "crisis_log_start": {"nl": "crisis gestart", "en": "crisis started"},
    "statement_copied": {
        "nl": "Wachtbericht gekopieerd",
        "en": "Holding statement copied",
    },
    # dashboard and handover screens
    "dash_title": {"nl": "Dashboard", "en": "Dashboard"},
    "dash_today": {"nl": "vandaag", "en": "today"},
    "dash_week": {"nl": "deze week", "en": "this week"},
    "dash_fortnight": {"nl": "14 dagen", "en": "14 days"},
    "dash_computing": {"nl": "berekenen…", "en": "computing…"},
    "dash_computed": {"nl": "bijgewerkt om", "en": "as of"},
    "dash_overdue_short": {"nl": "over de deadline", "en": "past the deadline"},
    "dash_experts": {"nl": "experts", "en": "experts"},
    "dash_failed": {"nl": "Berekenen mislukt", "en": "Computing failed"},
    "dash_mentions": {"nl": "vermeldingen", "en": "mentions"},
    "dash_within": {"nl": "binnen de norm", "en": "within the norm"},
    "dash_volume": {"nl": "Volume per kanaal", "en": "Volume per channel"},
    "dash_per_day": {"nl": "per dag", "en": "per day"},
    "dash_per_hour": {"nl": "per uur", "en": "per hour"},
    "dash_max": {"nl": "max", "en": "max"},
    "dash_response": {"nl": "Reactietijd ten opzichte van de norm", "en": "Response time against the norm"},
    "dash_tone": {"nl": "Toon", "en": "Tone"},
    "dash_negative_share": {"nl": "aandeel negatief", "en": "negative share"},
    "dash_themes": {"nl": "Thema's", "en": "Themes"},
    "dash_rules": {"nl": "Regels", "en": "Rules"},
    "dash_overdue": {"nl": "Open en over de deadline", "en": "Open and past the deadline"},
    "dash_answered_late": {"nl": "laat beantwoord", "en": "answered late"},
    "dash_nothing": {"nl": "geen", "en": "none"},
    "dash_copied": {"nl": "Rapport gekopieerd (Markdown)", "en": "Report copied (Markdown)"},
    "dash_not_ready": {"nl": "Nog aan het berekenen", "en": "Still computing"},
    "dash_more": {"nl": "… en nog {n}", "en": "… and {n} more"},
    "dash_col_routed": {"nl": "doorgestuurd", "en": "routed"},
    "dash_col_answered": {"nl": "beantwoord", "en": "answered"},
    "dash_col_waiting": {"nl": "open", "en": "waiting"},
    "dash_col_late": {"nl": "te laat", "en": "late"},
    "ho_summary": {"nl": "Samenvatting", "en": "Summary"},
    "ho_copied": {"nl": "Overdracht gekopieerd (Markdown)", "en": "Handover copied (Markdown)"},
    "ho_saved": {"nl": "Overdracht bewaard in", "en": "Handover saved to"},
    "ho_save_failed": {"nl": "Bewaren mislukt", "en": "Saving failed"},
    "ho_note_prompt": {
        "nl": "Notitie voor de volgende dienst (enter bewaart, esc annuleert)",
        "en": "Note for the next shift (enter saves, esc cancels)",
    },
    "ho_note_added": {"nl": "Notitie bewaard", "en": "Note saved"},
    "ho_since_prompt": {
        "nl": "Sinds wanneer? HH:MM of JJJJ-MM-DD HH:MM (leeg: begin van de dienst)",
        "en": "Since when? HH:MM or YYYY-MM-DD HH:MM (empty: start of the shift)",
    },
    "ho_since_invalid": {
        "nl": "Geen tijd: schrijf bv. 17:00 of 2026-11-20 17:00",
        "en": "Not a time: write e.g. 17:00 or 2026-11-20 17:00",
    },
    "ho_chosen_since": {"nl": "gekozen begin", "en": "chosen start"},
    "ho_notes_none": {
        "nl": "Nog geen notities. n voegt er een toe.",
        "en": "No notes yet. n adds one.",
    },
    # moderation on the platform (docs/audit.md, Moderation on the platform)
    "moderate_ask": {
        "nl": "{action} op {source}? Het bewijs (tekst, auteur, link, tijd) wordt eerst bewaard.",
        "en": "{action} on {source}? The evidence (text, author, link, time) is kept first.",
    },
    "moderate_keys": {
        "nl": "y/j: {first} · {others}n/esc: niets doen",
        "en": "y/j: {first} · {others}n/esc: do nothing",
    },
    "moderate_done": {"nl": "Gemodereerd", "en": "Moderated"},
    "moderate_failed": {"nl": "Niet gemodereerd", "en": "Not moderated"},
    "moderate_cannot_undo": {
        "nl": "{source} kan '{action}' niet terugdraaien; niets gedaan",
        "en": "{source} cannot undo '{action}'; nothing done",
    },
    "moderate_none": {
        "nl": "De desk kan op {channel} niet zelf modereren: {how}",
        "en": "The desk cannot moderate on {channel} itself: {how}",
    },
    "moderate_copied": {"nl": "link gekopieerd", "en": "link copied"},
    "evidence_kept": {"nl": "Bewijs bewaard", "en": "Evidence kept"},
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
    "snoozed": {"nl": "uitgesteld", "en": "snoozed"},
}

# The default scheme's categories and flags (stored in English, shown in the desk's language;
# a category or flag of an organisation's own scheme is shown as it is written).
CATEGORY_WORDS: dict[str, dict[str, str]] = {
    "crisis": {"nl": "crisis", "en": "crisis"},
    "press": {"nl": "pers", "en": "press"},
    "troll": {"nl": "trol", "en": "troll"},
    "compliment": {"nl": "compliment", "en": "compliment"},
    "question": {"nl": "vraag", "en": "question"},
    "other-authority": {"nl": "andere overheid", "en": "other authority"},
    "complaint": {"nl": "klacht", "en": "complaint"},
    "misinformation": {"nl": "foute informatie", "en": "misinformation"},
    "off-topic": {"nl": "niet ter zake", "en": "off-topic"},
    # flags
    "no-reply": {"nl": "geen eigen reactie", "en": "no reply"},
    "evidence": {"nl": "bewijs bewaren", "en": "keep evidence"},
    "flagged": {"nl": "gesignaleerd", "en": "flagged"},
}


# Alerts sent away from the terminal (webcare/alerts.py): the words of each alert's title and
# body, in the desk's language.
ALERT_WORDS: dict[str, dict[str, str]] = {
    "urgent": {"nl": "Dringend", "en": "Urgent"},
    "spike": {"nl": "Piek", "en": "Spike"},
    "crisis": {"nl": "Crisismodus gestart", "en": "Crisis mode started"},
    "overdue": {"nl": "Bijna te laat, niemand heeft het open", "en": "About to be late, no desk has it open"},
    "answer": {"nl": "Antwoord van een expert", "en": "An expert answered"},
    "collector": {"nl": "Collector", "en": "Collector"},
    "source_failing": {"nl": "bron werkt niet sinds", "en": "source failing since"},
    "collector_stopped": {"nl": "de collector is gestopt sinds", "en": "the collector stopped at"},
    "open_with": {"nl": "openen", "en": "open"},
    "summary": {"nl": "nog {n}", "en": "{n} more"},
    "held_urgent": {"nl": "dringend", "en": "urgent"},
    "held_overdue": {"nl": "bijna te laat", "en": "nearly overdue"},
    "alert_failing": {"nl": "melding", "en": "alert"},
    "goto": {"nl": "Ga naar id (de korte id uit een melding):", "en": "Go to id (the short id of an alert):"},
    "goto_unknown": {"nl": "Geen vermelding met die id", "en": "No mention with that id"},
}


# A history event (webcare.history.Event) said in the desk's language, by its kind. In the
# templates, {note}-like tails (action, note, ref, answer, name, names) read ": <text>" when set
# and nothing when not; flags (by_email, late, undo) read their "<kind>.<flag>" words when set.
# The English of an event is also the `what` its history entry stores (exports, older desks),
# except an undo's: stored as "undo: <what undone>", shown as "undone: …".
EVENT_WORDS: dict[str, dict[str, str]] = {
    "triage": {"nl": "triage {leaf}{action}", "en": "triage {leaf}{action}"},
    "routed": {"nl": "doorgestuurd naar {to}{note}", "en": "routed to {to}{note}"},
    "expert_answered": {"nl": "antwoord van de expert{by_email}", "en": "expert answered{by_email}"},
    "expert_answered.by_email": {"nl": " (per e-mail)", "en": " (by e-mail)"},
    "feedback": {"nl": "feedback doorgegeven aan {unit}{note}", "en": "feedback to {unit}{note}"},
    "monitor": {"nl": "enkel opvolgen", "en": "monitor only"},
    "responded": {"nl": "antwoord geregistreerd{late}", "en": "reply recorded{late}"},
    "responded.late": {"nl": " (na de norm)", "en": " (after the norm)"},
    "reply_sent": {"nl": "antwoord verstuurd via {via}{ref}", "en": "reply sent via {via}{ref}"},
    "dry_run": {"nl": "proefmodus via {via}{ref}", "en": "dry run via {via}{ref}"},
    "snoozed": {"nl": "uitgesteld tot {until}", "en": "snoozed until {until}"},
    "snooze_ended": {"nl": "uitstel voorbij", "en": "snooze ended"},
    "handoff_mailed": {"nl": "per e-mail doorgestuurd naar {to} ({message})", "en": "hand-off e-mailed to {to} ({message})"},
    "undo": {"nl": "ongedaan gemaakt: {undone}", "en": "undone: {undone}"},
    "undo.stored": {"en": "undo: {undone}"},
    "erased": {"nl": "gewist op verzoek", "en": "erased on request"},
    "evidence_kept": {"nl": "bewijs bewaard", "en": "evidence kept"},
    # retention keeps what precedes ": " (the platform's answer goes)
    "moderated": {"nl": "{undo}{done} op {source}{answer}", "en": "{undo}{done} on {source}{answer}"},
    "moderated.undo": {"nl": "ongedaan gemaakt: ", "en": "undo: "},
    # What a moderation action did (the platform's own answer stays as it said it).
    "moderated.hide": {"nl": "verborgen", "en": "hide"},
    "moderated.unhide": {"nl": "weer getoond", "en": "unhide"},
    "moderated.delete": {"nl": "verwijderd", "en": "delete"},
    "moderated.remove": {"nl": "verwijderd", "en": "remove"},
    "moderated.approve": {"nl": "goedgekeurd", "en": "approve"},
    "moderated.reject": {"nl": "afgewezen", "en": "reject"},
    "moderated.hold": {"nl": "ter beoordeling gezet", "en": "hold"},
    "moderated.publish": {"nl": "gepubliceerd", "en": "publish"},
    "role_told": {"nl": "{role} verwittigd{name}", "en": "{role} told{name}"},
    "ambassadors": {"nl": "doorgegeven aan de ambassadeurs{names}", "en": "passed on to the ambassadors{names}"},
    "followed": {
        "nl": "gevolgd: een bericht van iemand op de volglijst dat ons niet noemt (geen antwoord verschuldigd)",
        "en": "followed: a post of someone on the watchlist that does not name us (no reply owed)",
    },
}  # fmt: skip

def word(key: str, language: str, table: dict[str, dict[str, str]] | None = None) -> str:
    """`key` in `language` from WORDS (or a module's own `table`), else English, else the key."""
    entry = (WORDS if table is None else table).get(key)
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
