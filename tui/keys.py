"""Keys are data: every binding has an id (remappable from config.toml's [keys] table, e.g.
`"stream.next" = "j,down,n"`) and a description shown in the footer and in `?` help, in the
desk's language."""

from __future__ import annotations

import dataclasses

from textual.dom import DOMNode

# Dutch descriptions by binding id; the English ones are on the bindings themselves.
DUTCH: dict[str, str] = {
    "stream.next": "volgende",
    "stream.previous": "vorige",
    "stream.first": "eerste",
    "stream.last": "laatste",
    "stream.page_down": "pagina omlaag",
    "stream.page_up": "pagina omhoog",
    "stream.open": "openen",
    "stream.filter": "filter",
    "stream.people": "pers & peers",
    "stream.close": "detail sluiten / filter wissen",
    "stream.detail": "detailpaneel aan/uit",
    "stream.signalled": "gesignaleerd",
    "stream.ambassadors": "doorgeven aan ambassadeurs",
    "app.help": "help",
    "app.undo": "ongedaan maken",
    "stream.triage": "triage",
    "stream.reply": "antwoorden",
    "stream.monitor": "opvolgen",
    "stream.done": "afhandelen",
    "stream.snooze": "uitstellen",
    "stream.copy": "link kopiëren",
    "stream.direct.L1": "→ L1 crisis",
    "stream.direct.L2": "→ L2 woordvoerder",
    "stream.direct.L3": "→ L3 modereren",
    "stream.direct.L6": "→ L6 nu antwoorden",
    "stream.direct.L8": "→ L8 expert",
    "stream.direct.L9": "→ L9 klacht",
    "stream.direct.L14": "→ L14 laten staan",
    "composer.sent": "verzonden markeren",
    "app.calendar": "kalender",
    "app.trends": "trends",
    "app.crisis": "crisis",
    "app.dashboard": "dashboard",
    "app.handover": "overdracht",
    "app.goto": "naar id gaan",
    "app.stream": "vermeldingen",
    "cal.prev": "vorige periode",
    "cal.next": "volgende periode",
    "cal.today": "vandaag",
    "cal.new": "nieuw",
    "cal.edit": "bewerken",
    "cal.status": "status",
    "cal.move": "verplaatsen",
    "cal.delete": "wissen",
    "cal.undo": "ongedaan maken",
    "cal.backlog": "ideeën",
    "cal.hold": "vandaag+morgen opschorten",
    "cal.stream": "vermeldingen",
    "cal.item": "volgend item",
    "cal.item_back": "vorig item",
    "cal.left": "vorige dag",
    "cal.right": "volgende dag",
    "cal.up": "week terug",
    "cal.down": "week verder",
    "cal.drop": "hier neerzetten",
    "plan.cancel": "annuleren",
    "plan.save": "bewaren",
    "experts.units": "diensten (feedback)",
    "experts.back": "terug",
    "stream.experts": "experts",
    "stream.answered": "antwoord expert invoeren",
    "prompt.cancel": "annuleren",
    "confirm.yes": "ja",
    "confirm.no": "nee",
    "composer.copy": "antwoord kopiëren",
    "composer.close": "sluiten (concept blijft)",
    "composer.discard": "concept verwerpen",
    "app.quit": "stoppen",
    "help.close": "sluiten",
    # trends and crisis screens
    "trends.stream": "vermeldingen",
    "trends.down": "omlaag",
    "trends.up": "omhoog",
    "crisis.next": "volgende",
    "crisis.previous": "vorige",
    "crisis.detail": "detail",
    "crisis.reply": "antwoorden",
    "crisis.holding": "wachtbericht",
    "crisis.log": "beslissing loggen",
    "crisis.end": "crisis beëindigen",
    "crisis.start": "crisis starten",
    "crisis.stream": "vermeldingen",
    # dashboard and handover screens
    "dash.today": "vandaag",
    "dash.week": "week",
    "dash.fortnight": "14 d",
    "dash.next": "volgende periode",
    "dash.previous": "vorige periode",
    "dash.refresh": "vernieuwen",
    "dash.copy": "kopiëren",
    "dash.stream": "vermeldingen",
    "dash.down": "omlaag",
    "dash.up": "omhoog",
    "dash.page_down": "pagina omlaag",
    "dash.page_up": "pagina omhoog",
    "handover.note": "notitie",
    "handover.copy": "kopiëren",
    "handover.save": "bewaren",
    "handover.since": "sinds…",
    "handover.refresh": "vernieuwen",
    "handover.stream": "vermeldingen",
    "handover.down": "omlaag",
    "handover.up": "omhoog",
    "handover.page_down": "pagina omlaag",
    "handover.page_up": "pagina omhoog",
}


# Bindings whose `y` means yes: in a Dutch desk yes is `j` (and no stays `n`), as in triage.
# A [keys] remapping by id still wins (Textual applies the keymap after this).
YES_BINDINGS = frozenset({"confirm.yes"})


def localize(node: DOMNode, language: str) -> None:
    """Give `node`'s bindings their descriptions in `language`, and in Dutch `j` for yes
    (call in __init__)."""
    if language != "nl":
        return
    bindings = node._bindings.key_to_bindings
    localized: dict[str, list] = {}
    for key, items in bindings.items():
        for b in items:
            if b.id in DUTCH:
                b = dataclasses.replace(b, description=DUTCH[b.id])
            if b.id in YES_BINDINGS and key == "y":
                key = "j"
                b = dataclasses.replace(b, key="j")
            localized.setdefault(key, []).append(b)
    bindings.clear()
    bindings.update(localized)
