"""The reply checklist: EPO (empathic, personal and positive, solution-oriented) and the
response considerations (say who answers, keep personal data out of public replies).

`check_reply` reads a draft and returns one `Check` per rule that applies to it. Checks are
hints for the person writing, never blockers: the composer shows them beside the draft and the
person decides. The cues are plain word lists in Dutch, English and French; a draft is read
against all three, so a Dutch reply that says "sorry" counts as apologising.

Which checks apply:

    empathic       every reply      shows understanding ("begrijp", "vervelend", "sorry", "understand"…)
    personal       every reply      addresses the person: their name, handle or first name, or u/je/you
    thanks         L4               thanks the sender
    apology        L9, L13          apologises or shows empathy (L1, a holding statement, needs no apology)
    solution       every reply      gives a next step or a link ("via", "contact", "formulier", a URL…)
    no_arguing     every reply      no debating phrases ("dat klopt niet", "you are wrong", "actually,"…)
    signed         every reply      ends with the operator's initials (^AP, /AP, - AP or AP)
    no_personal    public replies   no e-mail address, phone number, national register number or IBAN
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webcare.watch import fold


@dataclass(frozen=True, slots=True)
class Check:
    """One item of the checklist: whether the draft meets it and, if not, what to do."""

    id: str
    label: str
    ok: bool
    hint: str = ""  # short advice when not ok; empty when ok


def _any(*phrases: str) -> re.Pattern[str]:
    """Phrases (folded) that start a word; they may run on ("begrijp" matches "begrijpelijk")."""
    alts = "|".join(re.escape(fold(p)).replace(r"\ ", r"\s+") for p in phrases)
    return re.compile(rf"(?<!\w)(?:{alts})")


def _whole(*words: str) -> re.Pattern[str]:
    """Whole words (folded)."""
    alts = "|".join(re.escape(fold(w)) for w in words)
    return re.compile(rf"(?<![\w@])(?:{alts})(?!\w)")


EMPATHY = _any(
    # nl
    "begrijp", "snap", "spijtig", "jammer", "vervelend", "sorry", "excuses", "excuseer",
    "verontschuldig", "ongerust", "bezorgdheid", "frustrerend", "niet leuk", "fijn dat", "fijn om",
    "goed dat", "leuk dat", "wat fijn", "goeie vraag", "goede vraag", "terecht", "bedankt", "dank",
    "merci",
    # en
    "understand", "sorry", "apologi", "frustrating", "annoying", "we hear you", "good question",
    "great question", "glad", "appreciate", "thank", "concern", "must have been",
    # fr
    "comprend", "desole", "excus", "dommage", "regrett", "merci",
)
THANKS = _any("bedankt", "dank", "dankjewel", "dankuwel", "merci", "thank", "thanks", "cheers")
APOLOGY = _any(
    "sorry", "excuses", "excuseer", "verontschuldig", "spijtig", "jammer", "vervelend", "begrijp",
    "snap", "apologi", "understand", "regret", "frustrating", "annoying", "desole", "excus",
    "comprend", "regrett",
)
SOLUTION = _any(
    # nl
    "contact", "formulier", "u kan", "u kunt", "je kan", "je kunt", "kan je", "kun je", "kunt u",
    "kan u", "vindt u", "vind je", "leest u", "lees je", "stuur", "privebericht", "loket",
    "we zoeken", "we bekijken", "we kijken", "we laten", "we geven", "laten u", "laten je",
    "laat het", "komen terug", "helpen u", "helpen je", "helpen we", "meer info",
    "neem contact", "contacteer", "terecht bij", "aanvragen", "indienen",
    # en
    "you can", "you will find", "you'll find", "here:", "please send", "send us", "dm us",
    "we will", "we'll", "we are looking", "we're looking", "we are checking", "we're checking",
    "look into", "looking into", "get back", "let us know", "more info", "find out",
    "file a", "pass it on", "pass your", "pass on",
    # fr
    "vous pouvez", "tu peux", "formulaire", "contactez", "nous revenons", "plus d'info",
)
SOLUTION_WORDS = _whole(
    "via", "mail", "e-mail", "email", "mailen", "bel", "bellen", "dm", "pm", "lees", "link",
    "form", "forms", "call", "apply", "visit",
)
URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:be|vlaanderen|org|com|eu|nl)(?:/\S*)?\b")
ARGUING = _any(
    # nl
    "u heeft ongelijk", "u hebt ongelijk", "je hebt ongelijk", "jij hebt ongelijk",
    "dat klopt niet", "dat is niet waar", "dat is onzin", "onzin", "u vergist zich",
    "je vergist je", "u begrijpt het niet", "je begrijpt het niet", "zoals we al zeiden",
    "zoals eerder gezegd", "zoals we al schreven", "lees eerst", "eigen schuld", "eigenlijk,",
    "nochtans",
    # en
    "you are wrong", "you're wrong", "that is not true", "that's not true", "that is false",
    "that's false", "nonsense", "actually,", "as we already said", "as we said before",
    "as stated before", "as previously stated", "you misunderstood", "with all due respect",
    "calm down", "your own fault", "if you had read", "obviously",
    # fr
    "vous avez tort", "tu as tort", "c'est faux", "en fait,",
)

# Personal data that has no place in a public reply.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
PHONE = re.compile(
    r"(?:\+|\b00)32[\s./-]?(?:\(0\)[\s./-]?)?\d(?:[\s./-]?\d){7,8}(?!\d)"  # +32 470 12 34 56
    r"|(?<![\d.,/+-])0\d(?:[\s./-]?\d){7,8}(?![\d])"  # 0470 12 34 56, 09 123 45 67, 016/12.34.56
)
NATIONAL_NUMBER = re.compile(r"(?<!\d)\d{2}\.\d{2}\.\d{2}[- ]\d{3}\.\d{2}(?!\d)")  # 85.07.30-033.28
ELEVEN_DIGITS = re.compile(r"(?<![\d.])\d{11}(?![\d.])")
IBAN = re.compile(r"\bBE\s?\d{2}(?:\s?\d{4}){3}\b", re.IGNORECASE)


def valid_national_number(digits: str) -> bool:
    """The Belgian national register number's check (97 − first nine mod 97, also for 2000+)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    body, check = int(digits[:9]), int(digits[9:])
    return check in (97 - body % 97, 97 - int("2" + digits[:9]) % 97)


def personal_data(text: str) -> list[str]:
    """The kinds of personal data in `text`: "email", "phone", "national number", "iban"."""
    found = []
    if EMAIL.search(text):
        found.append("email")
    without_iban = IBAN.sub(" ", text)
    nn = NATIONAL_NUMBER.search(without_iban) or any(
        valid_national_number(m.group()) for m in ELEVEN_DIGITS.finditer(without_iban)
    )
    if nn:
        found.append("national number")
    if PHONE.search(NATIONAL_NUMBER.sub(" ", without_iban)):
        found.append("phone")
    if IBAN.search(text):
        found.append("iban")
    return found


# --- labels and hints, in the reply's language (nl, else en) ------------------------------

TEXTS: dict[str, dict[str, tuple[str, str]]] = {  # id → language → (label, hint)
    "empathic": {
        "nl": ("Empathisch", "Toon begrip: \"Wat vervelend…\", \"We begrijpen…\", \"Bedankt om…\"."),
        "en": ("Empathic", "Show understanding: \"Sorry to hear…\", \"We understand…\", \"Thanks for…\"."),
    },
    "personal": {
        "nl": ("Persoonlijk", "Spreek de persoon aan: met naam of handle, of met u/je."),
        "en": ("Personal", "Address the person: by name or handle, or as \"you\"."),
    },
    "thanks": {
        "nl": ("Bedankt", "Bedank de afzender persoonlijk."),
        "en": ("Thanks", "Thank the sender personally."),
    },
    "apology": {
        "nl": ("Excuses of begrip", "Bied excuses aan of toon begrip voor de ervaring."),
        "en": ("Apology or empathy", "Apologise, or show you understand their experience."),
    },
    "solution": {
        "nl": ("Oplossingsgericht", "Geef de oplossing of de volgende stap: een link, een formulier, wie contacteren."),
        "en": ("Solution-oriented", "Give the solution or the next step: a link, a form, whom to contact."),
    },
    "no_arguing": {
        "nl": ("Positief, niet in discussie", "Ga niet in discussie; geef neutraal de juiste informatie."),
        "en": ("Positive, no arguing", "Don't argue; give the correct information neutrally."),
    },
    "signed": {
        "nl": ("Ondertekend", "Onderteken met je initialen, bv. ^{initials}."),
        "en": ("Signed", "Sign with your initials, e.g. ^{initials}."),
    },
    "no_personal": {
        "nl": ("Geen persoonsgegevens", "Publiek antwoord met {what}: haal ze weg en ga verder in een privébericht."),
        "en": ("No personal data", "Public reply with {what}: remove it and continue in a private message."),
    },
}
DATA_WORDS = {
    "nl": {"email": "een e-mailadres", "phone": "een telefoonnummer", "national number": "een rijksregisternummer", "iban": "een rekeningnummer"},
    "en": {"email": "an e-mail address", "phone": "a phone number", "national number": "a national register number", "iban": "a bank account number"},
}
THANKS_LEAVES = frozenset({"L4"})
APOLOGY_LEAVES = frozenset({"L9", "L13"})


def _check(check_id: str, lang: str, ok: bool, **fmt: str) -> Check:
    label, hint = TEXTS[check_id][lang]
    return Check(check_id, label, ok, "" if ok else hint.format(**fmt))


def _addresses(folded: str, author: str) -> bool:
    """Whether the draft names the author (handle, name or first name) or says u/je/you."""
    who = fold(author.strip())
    names = {who.lstrip("@"), who.lstrip("@").split("@")[0]}  # @jan@mastodon.social → jan
    if " " in who:
        names.add(who.split()[0])  # "Jan Peeters" → "Jan"
    for name in (n for n in names if len(n) >= 2):
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded):
            return True
    return bool(PRONOUNS.search(folded))


PRONOUNS = _whole(
    "u", "uw", "je", "jij", "jou", "jouw", "jullie", "ge", "you", "your", "vous", "votre", "tu", "ton",
)


def _signed(draft: str, initials: str) -> bool:
    tail = draft.rstrip()
    if not initials.strip():  # nothing configured: any ^XX-style signature will do
        return bool(re.search(r"[\^/–—-]\s*[A-Z]{2,4}[.!]?$", tail))
    ini = re.escape(initials.strip())
    marked = re.search(rf"[\^/–—-]\s*{ini}[.!]?$", tail, re.IGNORECASE)
    bare = re.search(rf"(?<!\w){ini}[.!]?$", tail)
    return bool(marked or bare)


def check_reply(
    draft: str,
    *,
    author: str,
    leaf: str | None,
    public: bool,
    operator_initials: str,
    language: str,
    own_addresses: tuple[str, ...] = (),
) -> list[Check]:
    """The checklist for `draft`, a reply to `author` at reaction-scheme `leaf`.

    `language` is the reply's language: labels and hints are Dutch for "nl", else English.
    `own_addresses`: the organisation's own e-mail addresses or domains (e.g. "vlm.be"), which
    may appear in a public reply.
    """
    lang = "nl" if (language or "").lower().startswith("nl") else "en"
    text = draft or ""
    folded = fold(text)
    leaf_id = (leaf or "").upper()
    checks = [
        _check("empathic", lang, bool(EMPATHY.search(folded))),
        _check("personal", lang, _addresses(folded, author or "")),
    ]
    if leaf_id in THANKS_LEAVES:
        checks.append(_check("thanks", lang, bool(THANKS.search(folded))))
    if leaf_id in APOLOGY_LEAVES:
        checks.append(_check("apology", lang, bool(APOLOGY.search(folded))))
    checks.append(_check("solution", lang, bool(SOLUTION.search(folded) or SOLUTION_WORDS.search(folded) or URL.search(text))))
    arguing = ARGUING.search(folded)
    checks.append(_check("no_arguing", lang, arguing is None))
    if arguing is not None:
        phrase = arguing.group().strip()
        label, hint = TEXTS["no_arguing"][lang]
        checks[-1] = Check("no_arguing", label, False, f"\"{phrase}\": {hint}")
    checks.append(_check("signed", lang, _signed(text, operator_initials), initials=operator_initials.strip() or "AP"))
    if public:
        scrubbed = text
        for own in own_addresses:
            scrubbed = re.sub(rf"[\w.+-]*@?{re.escape(own)}", " ", scrubbed, flags=re.IGNORECASE)
        found = personal_data(scrubbed)
        what = ", ".join(DATA_WORDS[lang][k] for k in found)
        checks.append(_check("no_personal", lang, not found, what=what))
    return checks
