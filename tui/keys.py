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


# --- [keys]: checked before the desk starts (and by `webcare check`) ---------------------------

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
# Keys Textual names by a word (event.key); letters, digits and punctuation are checked apart.
NAMED_KEYS = frozenset(
    {"up", "down", "left", "right", "home", "end", "pageup", "pagedown", "insert", "delete",
     "backspace", "tab", "enter", "escape", "space"} | {f"f{n}" for n in range(1, 25)}
)  # fmt: skip


def _punctuation_names() -> dict[str, str]:
    """'question_mark' → '?': the names Textual gives the keys of printable punctuation."""
    from textual.keys import _character_to_key

    return {_character_to_key(c): c for c in map(chr, range(33, 127)) if not c.isalnum()}


def key_name(key: str) -> str:
    """One key of a [keys] value as Textual names it: '?' → 'question_mark', 'ctrl+s' stays;
    ValueError with a sentence for a key no keyboard sends ('ctrl+pgdn', 'retrun')."""
    from webcare.known import suggest

    key = key.strip()
    *modifiers, base = key.split("+") if len(key) > 1 else [key]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ValueError(f"{key!r}: {modifier!r} is not a modifier{suggest(modifier, MODIFIERS)} (known: {', '.join(MODIFIERS)})")
    if len(base) == 1:
        if not base.isalnum():
            from textual.keys import _character_to_key

            base = _character_to_key(base)  # as Textual's own BINDINGS do: '?' is question_mark
    elif base not in NAMED_KEYS and base not in _punctuation_names():
        known = NAMED_KEYS | set(_punctuation_names())
        raise ValueError(f"{key!r} is not a key{suggest(base, known) or ' (a letter, a digit, a sign like ?, or a name like down, pageup, f5, escape)'}")
    return "+".join([*modifiers, base])


def keymap(keys: dict[str, str]) -> dict[str, str]:
    """[keys] as Textual's keymap wants it: every key by its name ('?' → 'question_mark').
    Keys that are not keys are left out here; `check_keymap` refuses them before the desk starts."""
    out = {}
    for action, value in keys.items():
        names = []
        for key in value.split(","):
            try:
                names.append(key_name(key))
            except ValueError:
                continue
        if names:
            out[action] = ",".join(names)
    return out


def default_bindings() -> dict[str, tuple[str, ...]]:
    """Every binding with an id, in the app, its screens and widgets: id → its default keys.
    Imports every screen, so it is only called when there is a [keys] table to check."""
    import importlib
    import inspect
    import pkgutil

    from textual.binding import BindingsMap

    import tui.screens
    import tui.widgets

    names = ["tui.app"]
    for package in (tui.screens, tui.widgets):
        names += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    found: dict[str, tuple[str, ...]] = {}
    for name in names:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == name and "BINDINGS" in vars(cls):
                for key, items in BindingsMap(vars(cls)["BINDINGS"]).key_to_bindings.items():
                    for b in items:
                        if b.id:
                            found[b.id] = (*found.get(b.id, ()), key)
    return found


def _scope(action: str) -> str:
    """Bindings that are on at the same time share the part before the dot ('stream', 'cal');
    'app' bindings are on everywhere."""
    return action.split(".", 1)[0]


def check_keymap(keys: dict[str, str]) -> None:
    """ValueError naming the [keys] entry that is not an action of the desk, not a key, or puts
    two actions that are on at the same time on one key."""
    from webcare.known import suggest

    defaults = default_bindings()
    effective = {action: set(keys) for action, keys in defaults.items()}
    for action, value in keys.items():
        if action not in defaults:
            raise ValueError(f"[keys] {action}: unknown action{suggest(action, defaults)} (docs/desk.md, Keys, lists them)")
        try:
            effective[action] = {key_name(k) for k in value.split(",")}
        except ValueError as exc:
            raise ValueError(f"[keys] {action}: {exc}") from None
    for action in keys:
        for other, taken in effective.items():
            if other == action or not (_scope(other) == _scope(action) or "app" in (_scope(other), _scope(action))):
                continue
            # A screen's own use of an app key (q closes help) is by design: only new clashes count.
            clashes = sorted(k for k in effective[action] & taken if not (k in defaults[action] and k in defaults[other]))
            if clashes:
                raise ValueError(
                    f"[keys] {action}: {clashes[0]!r} is already the key of {other}; give one of them "
                    "another key (with two actions on one key only one would work)"
                )
