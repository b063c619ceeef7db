"""The sender's register (formal "u" or informal "je") and language, read from their message.

EPO asks us to answer in the tone of voice of the sender: a formal "u" to a formal message, "je"
to an informal one. `detect_register` adds up weighted cues (the table `CUES` below, plus a few
style cues in `_style_cues`) into one score:

    positive weights point to informal  (je/jij/ge, Hoi/Hey, groetjes, emoji, "!!", thx, lol…)
    negative weights point to formal    (u/uw, Geachte, Met vriendelijke groeten, Dear, vous…)

and calls a message informal when the score reaches `INFORMAL_AT` (2.0): one strong informal
cue that no formal cue outweighs. Anything below is formal, so a short or ambiguous message
("Wanneer is de mestbank open?") gets the formal reply, the safe choice for a government.

Each cue counts once, however often it occurs: the question is which register the sender
chose, not how long the message is. `register_score` returns the score and the names of the
cues that fired, so the composer can say why it picked "je".

`detect_language` is a tiny stopword vote (nl, en or fr), used to choose the cue set and the
template's language when the mention carries none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webcare.watch import fold

FORMAL = "formal"
INFORMAL = "informal"
REGISTERS = (FORMAL, INFORMAL)
LANGUAGES = ("nl", "en", "fr")

INFORMAL_AT = 2.0  # score from which a message counts as informal; below it: formal


@dataclass(frozen=True, slots=True)
class Cue:
    """A word or phrase that points to a register, in one language ("*": any language)."""

    language: str
    name: str
    weight: float  # > 0 informal, < 0 formal
    pattern: str  # a regex over the folded text (lower case, no accents)
    pronoun: bool = False  # pronouns mean different things across languages (nl "u" vs en "u")


# Speed: a cue's regex runs only when one of its "heads" is a word of the message. A head is the
# first run of \w characters of one of its alternatives; where the alternative matches, that run
# stands alone in the text (a boundary or a non-word character on either side), so it is among
# the message's `\w+` runs. Forty searches of the whole text were a third of intake's time; a set
# lookup per cue is not. `_words` and `_opening` note their heads here; `_needs` does it for a
# hand-written pattern, which must then guarantee the same (see the register test's reference).
_HEADS: dict[str, frozenset[str]] = {}
_RUN = re.compile(r"\w+")


def _needs(pattern: str, *heads: str) -> str:
    """`pattern`, noted as matching only where one of `heads` is a whole \\w+ run of the text."""
    _HEADS[pattern] = frozenset(heads)
    return pattern


def _heads_of(words: tuple[str, ...]) -> tuple[str, ...]:
    heads = tuple(m.group() if (m := _RUN.search(w)) else "" for w in words)
    assert all(heads), f"every cue word needs a letter or digit: {words!r}"
    return heads


def _either(*patterns: str) -> str:
    """Any of `patterns` (each noted with its heads)."""
    return _needs("|".join(patterns), *(h for p in patterns for h in _HEADS[p]))


def _words(*words: str) -> str:
    """A regex matching any of `words` as whole words (spaces match any run of spaces)."""
    alts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return _needs(rf"(?<![\w'])(?:{alts})(?![\w'])", *_heads_of(words))


def _opening(*words: str) -> str:
    """A regex matching `words` as the message's first word (after any @handles)."""
    return _needs(rf"^\W*(?:{'|'.join(re.escape(w) for w in words)})(?!\w)", *_heads_of(words))


CUES: tuple[Cue, ...] = (
    # --- Dutch ---------------------------------------------------------------------------
    Cue("nl", "u/uw", -2, _words("u", "uw", "uwe"), pronoun=True),
    Cue("nl", "zich", -0.5, _words("zich")),
    Cue("nl", "je/jij/jou", +2, _words("je", "jij", "jou", "jouw", "ge", "gij", "gulle", "ulle"), pronoun=True),
    Cue("nl", "jullie", +1, _words("jullie"), pronoun=True),
    Cue("nl", "dankjewel", +1.5, _words("dankjewel", "dankje", "merci")),
    Cue("nl", "Geachte", -3, _words("geachte")),
    Cue("nl", "Beste (opening)", -1, _opening("beste")),
    Cue("nl", "Dag/Goedemorgen (opening)", -0.5, _opening("dag", "goedendag", "goeiedag", "goedemorgen", "goedemiddag", "goedenavond")),
    Cue("nl", "mevrouw/meneer", -1.5, _words("mevrouw", "meneer", "mijnheer", "heer")),
    Cue("nl", "Hoi/Hey", +2, _words("hoi", "hey", "hei", "heey", "hee", "hai", "yo", "hallo")),
    Cue("nl", "Met vriendelijke groeten", -3, _words("met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "vriendelijke groeten", "met beleefde groeten", "hoogachtend", "met de meeste hoogachting")),
    Cue("nl", "dank bij voorbaat", -1, _words("dank bij voorbaat", "bij voorbaat dank", "alvast bedankt", "dank u", "graag had ik", "ik wens")),
    Cue("nl", "mvg", -1.5, _words("mvg", "m.v.g.", "mvg.")),
    Cue("nl", "groetjes", +2, _words("groetjes", "grtjs", "grtz", "grts", "kusjes", "xx", "xxx", "dikke merci")),
    Cue("nl", "spreektaal", +1.5, _words("ff", "efkes", "effe", "btw", "idd", "wss", "nvm", "omg", "wtf", "pff", "grr", "jeetje", "amai", "allez", "zeg", "da's", "das", "tis", "'t is", "kzou", "kheb", "kben", "nie", "ni", "wa", "da", "aan't", "thx", "tnx", "toffe", "tof", "top", "super", "gast", "guys")),
    Cue("nl", "'k (ik)", +1.5, _needs(r"(?:^|\s)'?k\s+(?:heb|ben|zou|wil|vind|snap|ga|weet|kan|moet|zie)\b", "k")),
    # --- English -------------------------------------------------------------------------
    Cue("en", "Dear", -3, _either(_opening("dear"), _words("dear sir", "dear madam"))),
    Cue("en", "Sir/Madam", -2, _words("sir", "madam", "sir or madam", "sir/madam")),
    Cue("en", "Kind regards", -3, _words("kind regards", "best regards", "warm regards", "regards", "yours sincerely", "sincerely", "yours faithfully", "respectfully")),
    Cue("en", "I would like to", -1.5, _words("i am writing", "i would like to", "i would be grateful", "could you please", "would it be possible", "may i ask", "please find attached", "thank you in advance", "i wish to", "i shall")),
    Cue("en", "Good morning", -1, _words("good morning", "good afternoon", "good evening")),
    Cue("en", "hey", +2, _words("hey", "hiya", "heya", "yo", "sup")),
    Cue("en", "hi", +1, _words("hi")),
    Cue("en", "u (you)", +2, _words("u", "ur", "r", "ya", "y'all"), pronoun=True),
    Cue("en", "thx", +2, _words("thx", "tx", "ty", "tnx", "cheers", "ta")),
    Cue("en", "pls", +2, _words("pls", "plz", "gonna", "wanna", "gotta", "kinda", "dunno", "ain't")),
    Cue("en", "guys", +1.5, _words("guys", "lads", "mate", "folks", "you lot")),
    Cue("en", "omg/btw", +2, _words("omg", "wtf", "btw", "fyi", "imo", "tbh", "lmao", "idk", "ugh", "smh")),
    Cue("en", "contractions", +1, _needs(r"\b(?:we|you|they|it|that|there|i)'(?:re|ll|ve|s|m|d)\b|\b\w+n't\b", "re", "ll", "ve", "s", "m", "d", "t")),
    Cue("en", "awesome", +1, _words("awesome", "cool", "great stuff", "love what", "keep it up")),
    # --- French --------------------------------------------------------------------------
    Cue("fr", "vous", -2, _words("vous", "votre", "vos"), pronoun=True),
    Cue("fr", "tu/toi", +2, _words("tu", "toi", "ton", "ta", "tes", "t'as", "t'es"), pronoun=True),
    Cue("fr", "Madame/Monsieur", -2, _words("madame", "monsieur")),
    Cue("fr", "Cordialement", -3, _words("cordialement", "veuillez agreer", "salutations distinguees", "bien a vous", "je vous prie")),
    Cue("fr", "pourriez-vous", -1.5, _words("pourriez-vous", "auriez-vous", "serait-il possible", "je souhaiterais")),
    Cue("fr", "Bonjour (opening)", -0.5, _opening("bonjour", "bonsoir")),
    Cue("fr", "salut", +2, _words("salut", "coucou", "slt", "bisous", "bises", "a+", "a plus", "stp")),
    Cue("fr", "familier", +1, _words("franchement", "trop", "grave", "bah", "ben", "super", "top", "bcp", "quoi")),
    # --- any language --------------------------------------------------------------------
    Cue("*", "haha/lol", +2, _words("haha", "hahaha", "hihi", "lol", "xd", "mdr", "ptdr")),
)

# (cue, its regex, its heads or None: a pattern without noted heads is always searched)
_COMPILED = tuple((cue, re.compile(cue.pattern), _HEADS.get(cue.pattern)) for cue in CUES)

# Style cues (weights; see _style_cues).
EMOJI = +2.0  # an emoji or emoticon
EXCLAIM = +1.5  # "!!", "?!" or "??"
LOWERCASE = +1.5  # a message of some length without a single capital
SHOUTING = +1.0  # mostly capitals

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2764\u263a]"
    r"|(?<!\w)(?:[:;]-?[)(dDpP/]|<3|xD|\^\^)(?!\w)"
)
_EXCLAIM = re.compile(r"[!?]\s*!|\?\s*\?")
_HANDLES = re.compile(r"^(?:\s*@[\w.@-]+[\s,:]*)+")
URLS = re.compile(r"https?://\S+|www\.\S+")


# What an emoticon of _EMOJI starts with, where it can (not after a letter or digit): a quick
# scan for ":" and ";" that rules _EMOJI out for most messages (URLs have ":/" after a letter).
_FACE = re.compile(r"[:;](?<!\w[:;])-?[)(dDpP/]")


def _may_have_emoji(text: str) -> bool:
    """False where _EMOJI cannot match; each test here is a scan in C."""
    return bool(
        text
        and (
            (not text.isascii() and max(text) >= "\u2600")  # every emoji of _EMOJI is, and up
            or "<3" in text
            or "xD" in text
            or "^^" in text
            or _FACE.search(text)
        )
    )


_NOT_LETTER = bytes(b for b in range(128) if not chr(b).isalpha())
_NOT_CAPITAL = bytes(b for b in range(128) if not chr(b).isupper())
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


def case_counts(text: str) -> tuple[int, int, int]:
    """(letters, capital letters, capitals) in `text`: isalpha, isalpha and isupper, isupper.

    The ASCII part is counted by bytes.translate in C (a loop over characters in Python was a
    tenth of intake's time); the few other characters one by one, as str counts them."""
    if text.isascii():
        data = text.encode("ascii")
        capitals = len(data.translate(None, _NOT_CAPITAL))
        return len(data.translate(None, _NOT_LETTER)), capitals, capitals
    data = text.encode("ascii", "ignore")
    letters = len(data.translate(None, _NOT_LETTER))
    capitals = capital_letters = len(data.translate(None, _NOT_CAPITAL))
    for c in _ASCII_RUNS.sub("", text):
        if c.isupper():
            capitals += 1
            if c.isalpha():
                capital_letters += 1
        if c.isalpha():
            letters += 1
    return letters, capital_letters, capitals


def _style_cues(text: str) -> list[tuple[str, float]]:
    found = []
    if _may_have_emoji(text) and _EMOJI.search(text):
        found.append(("emoji", EMOJI))
    if ("!" in text or text.count("?") > 1) and _EXCLAIM.search(text):  # both need one of these
        found.append(("!!", EXCLAIM))
    letters, upper, _ = case_counts(URLS.sub("", _HANDLES.sub("", text)))
    if letters >= 12:
        if upper == 0:
            found.append(("all lower case", LOWERCASE))
        elif upper / letters > 0.7:
            found.append(("shouting", SHOUTING))
    return found


def register_score(text: str, language: str | None = None) -> tuple[float, list[str]]:
    """The register score of `text` (≥ INFORMAL_AT: informal) and the cues that made it."""
    lang = _language(language) or detect_language(text)
    body = fold(_HANDLES.sub("", text or "")).strip()
    words = set(_RUN.findall(body))
    score = 0.0
    why: list[str] = []
    for cue, pattern, heads in _COMPILED:
        if cue.language == "*" or cue.language == lang or (lang is None and not cue.pronoun):
            if (heads is None or not heads.isdisjoint(words)) and pattern.search(body):
                score += cue.weight
                why.append(cue.name)
    for name, weight in _style_cues(text or ""):
        score += weight
        why.append(name)
    return score, why


def detect_register(text: str, language: str | None = None) -> str:
    """ "formal" or "informal": the register of the sender's own message (see the module notes)."""
    score, _ = register_score(text, language)
    return INFORMAL if score >= INFORMAL_AT else FORMAL


# --- language ----------------------------------------------------------------------------

# Frequent short words per language. es/it/pt/pl/tr only vote to say "other" with confidence.
STOPWORDS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        "de het een en van ik je jij u uw is niet dat die wat met voor op mijn zijn wij we jullie"
        " hoe waarom wanneer waar kan kunt graag ook nog maar of er al naar bij dank bedankt hoi"
        " dag beste geachte groeten groetjes heb hebben wordt moet weet iemand deze dit om te zo"
        " nu wel geen ge gij da nie mij me ons onze als dan aan over uit zal zou merci mevrouw"
        " meneer hier heel echt weer alweer weeral nooit niemand zeer ben zijt werd hij zij"
        " waren kunnen moeten gaan gaat welke wie wat goed".split()
    ),
    "en": frozenset(
        "the a an and of to is are i you your we our it this that for on with my not do does can"
        " could would please thank thanks when where why how what who hi hey dear regards have"
        " has be from at in about there just still me yet ur guys was will any anyone been"
        " i'm i've it's don't can't didn't doesn't won't you're they their them no nobody never"
        " again another which should very really so within we're they're u".split()
    ),
    "fr": frozenset(
        "le la les un une des du et est je tu vous nous il elle pour pas ne que qui sur avec dans"
        " mon ma mes votre vos merci bonjour salut cordialement madame monsieur ce c au aux de"
        " se on y quoi ou pourquoi quand comment d l j m qu c'est"
        " depuis tres encore".split()
    ),
    "de": frozenset(
        "der die das und ist ich sie wir nicht ein eine einen dem den zu mit auf fur von bei"
        " wie wo was wann warum bitte danke vielen guten tag ihre ihr mein meine sehr seit"
        " schon wieder auch noch niemand geht am im ans herren damen grussen mit freundlichen"
        " konnten mir uns es hallo".split()
    ),
    "es": frozenset(
        "el los las y es por para con del al una que donde puedo hola gracias estoy desde".split()
    ),
    "it": frozenset("il di che e per non una sono grazie buongiorno ciao dove".split()),
    "pt": frozenset("o os as e em um uma nao obrigado bom dia onde posso".split()),
    "pl": frozenset("i w na nie z jest do sie dzien dobry gdzie moge o dla".split()),
    "tr": frozenset("ve bir bu icin ne nerede merhaba tesekkurler nasil".split()),
}
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
TAGS = re.compile(r"[@#][\w.]+")  # handles and hashtags: names, not language
VOTED = ("nl", "en", "fr", "de")  # the languages a vote can name; the rest is "other"
MAX_CHARS = 5_000  # the start of a message says its language

_VOTES: dict[str, tuple[str, ...]] = {}  # word → the languages it is a stopword of
for _lang, _stop in STOPWORDS.items():
    for _w in _stop:
        _VOTES[_w] = (*_VOTES.get(_w, ()), _lang)


def vote_language(words: list[str]) -> str:
    """The language most of `words` are stopwords of (folded words): nl, en, fr, de, or
    "other" for a tie, no stopword at all ("👍", "Top!") or another language."""
    votes = dict.fromkeys(STOPWORDS, 0)
    for w in words:
        for lang in _VOTES.get(w, ()):
            votes[lang] += 1
    best = max(votes, key=votes.__getitem__)
    top = votes.pop(best)
    if top == 0 or top == max(votes.values()):
        return "other"
    return best if best in VOTED else "other"


def language_of(text: str) -> str:
    """ "nl", "en", "fr", "de" or "other", by a stopword vote (webcare.tone stores it)."""
    return vote_language(WORD.findall(fold(TAGS.sub(" ", URLS.sub(" ", (text or "")[:MAX_CHARS])))))


def _language(language: str | None) -> str | None:
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else None


def detect_language(text: str) -> str | None:
    """ "nl", "en" or "fr" (the languages with register cues and templates); None otherwise."""
    language = language_of(text)
    return language if language in LANGUAGES else None
