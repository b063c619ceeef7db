"""The demo source: a simulated live stream of mentions that needs no network.

It exists so a fresh desk (`webcare` with the shipped config.toml) shows what the work looks
like at once: a backlog of the last ten hours with every urgency on it (overdue, due soon, on
time, news without a norm), then a steady trickle of new mentions at the configured rate.
The texts are what a Flemish government desk (the VLM, its Mestbank) really sees: mostly
Dutch, a good share English, some French; questions, complaints, praise, tips, wrong facts,
rants, press, politics, spam, the odd off-topic post and, rarely, a crisis. A few texts carry
markup-like brackets (`[b]`, `[/]`) or a pasted terminal escape on purpose: the desk must
show them literally and harmlessly.

Everything random comes from `random.Random`, seeded from the `seed` option (the live part
also from the time of the first fetch, so a restart does not replay the same stream), so a
test that injects the clock gets the same items every time.

Options ([[sources]] with type = "demo"):
    rate     mentions per time, like "6/min" (default); the poll interval is 1/rate (at least 1 s)
    seed     whole number (default 7)
    backlog  how many mentions the first fetch returns (default 30, at most 1000)
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sources import options
from sources.source import OptionError, Source
from webcare.config import Config, SourceConfig
from webcare.intake import Item

BACKLOG_HOURS = 10  # the backlog is published over this many hours before the first fetch
MAX_BACKLOG = 1000
MAX_BURST = 50  # most live mentions one fetch returns, however long the pause was
MIN_INTERVAL = 1.0  # seconds; a very high rate is met with several mentions per poll instead
JUST_NOW = (3, 59)  # live mentions were published this many seconds before the fetch


@dataclass(frozen=True)
class DemoOptions:
    rate: float = options.rate("mentions per time, like '6/min'; the poll interval is 1/rate (at least 1 s)", "6/min")
    seed: int = options.number("seeds the made-up stream (the same seed, the same mentions)", 7)
    backlog: int = options.number(f"how many mentions the first fetch returns (at most {MAX_BACKLOG})", 30)


class DemoSource(Source):
    """A source that makes up realistic mentions instead of fetching them."""

    type: ClassVar[str] = "demo"
    options_class = DemoOptions

    def __init__(
        self,
        name: str = "demo",
        *,
        rate: float = 0.1,
        seed: int = 7,
        backlog: int = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`rate` is in mentions per second; `clock` returns an aware UTC datetime (tests)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.name = name
        self.rate = rate
        self.seed = seed
        self.backlog = backlog
        self.interval = max(MIN_INTERVAL, 1.0 / rate)
        self.keyword_filter = False  # every demo text is about us anyway
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last: datetime | None = None  # the clock at the previous fetch
        self._owed = 0.0  # mentions due but not yet returned (a fraction between polls)
        self._count = 0  # live mentions made so far, for unique keys
        self._live_rng: random.Random | None = None

    @classmethod
    def from_config(cls, sc: SourceConfig, config: Config) -> DemoSource:
        o = options.read(DemoOptions, sc)
        if o.backlog > MAX_BACKLOG:
            raise OptionError(f"backlog: at most {MAX_BACKLOG}, not {o.backlog!r}")
        return cls(sc.name, rate=o.rate, seed=o.seed, backlog=o.backlog)

    async def fetch(self, client: Any = None) -> list[Item]:
        """The backlog on the first call; afterwards what came in since the previous call."""
        now = self._clock()
        if self._last is None:
            self._last = now
            # The live stream is seeded with the start time too: a restart must not replay it.
            self._live_rng = random.Random(f"{self.seed}/{now:%Y-%m-%dT%H:%M:%S}")
            return self._make_backlog(now)
        return self._make_live(now)

    # --- the backlog: the last ten hours, with every urgency on it ------------------------

    def _make_backlog(self, now: datetime) -> list[Item]:
        """`backlog` mentions published over the last ten hours, oldest first.

        The first four are placed so a desk with the default norms (2-4-8) shows every
        urgency: an X post past its 2 hours, an e-mail in the last quarter of its 8 hours,
        a fresh Facebook post, and a news article (no norm). The rest lean towards the recent
        past, as a real inbox does after a quiet night.
        """
        rng = random.Random(self.seed)
        anchors = [  # (channel, earliest and latest age in minutes)
            ("x", 150, 210),
            ("email", 375, 450),
            ("facebook", 10, 60),
            ("news", 60, 480),
        ]
        planned: list[tuple[float, str | None]] = []
        for i in range(self.backlog):
            if i < len(anchors):
                channel, lo, hi = anchors[i]
                minutes = rng.uniform(lo, hi)
            else:
                channel, minutes = None, 1 + (BACKLOG_HOURS * 60 - 1) * rng.random() ** 2
            planned.append((minutes, channel))
        day = f"{now:%Y-%m-%d}"
        items = []
        for i, (minutes, channel) in enumerate(planned):
            published = (now - timedelta(minutes=minutes)).replace(microsecond=0)
            key = f"demo:{self.name}:seed{self.seed}:{day}:backlog:{i}"
            items.append(compose(rng, published, key, channel=channel))
        items.sort(key=lambda item: item.published_at or now)
        return items

    # --- the live stream -----------------------------------------------------------------

    def due(self, now: datetime) -> int:
        """How many mentions came in since the previous fetch, and note this fetch's time.

        The rate is kept exactly over time by carrying the fraction over; at least one comes
        in once a whole interval has passed, and at most MAX_BURST after a long pause (a
        laptop waking up should not flood the desk with hours of made-up posts).
        """
        assert self._last is not None
        elapsed = max(0.0, (now - self._last).total_seconds())
        self._last = now
        self._owed += elapsed * self.rate
        n = int(self._owed)
        if n == 0 and elapsed >= self.interval * 0.999:
            n = 1
        if n >= MAX_BURST:
            self._owed = 0.0
            return MAX_BURST
        self._owed -= n
        return n

    def _make_live(self, now: datetime) -> list[Item]:
        """The mentions due now, published in the minute before the fetch, oldest first."""
        rng = self._live_rng
        assert rng is not None
        ages = sorted((rng.uniform(*JUST_NOW) for _ in range(self.due(now))), reverse=True)
        items = []
        for age in ages:
            published = (now - timedelta(seconds=age)).replace(microsecond=0)
            self._count += 1
            key = f"demo:{self.name}:{published:%Y%m%dT%H%M%SZ}:{self._count}"
            items.append(compose(rng, published, key))
        return items


# --- composing one mention ---------------------------------------------------------------


def compose(
    rng: random.Random,
    published: datetime,
    key: str,
    *,
    kind: str | None = None,
    channel: str | None = None,
) -> Item:
    """One mention: a template (optionally of `kind` / for `channel`) with its slots filled."""
    template = pick_template(rng, kind=kind, channel=channel)
    if channel is None:
        channel = _weighted(rng, template.channels, [CHANNEL_WEIGHT[c] for c in template.channels])
    return render(rng, template, channel, published, key)


def pick_template(
    rng: random.Random, *, kind: str | None = None, channel: str | None = None
) -> Template:
    """A template, weighted so kinds and languages come in the shares of KIND_WEIGHT/LANG_SHARE."""
    pool = [
        (t, w)
        for t, w in zip(TEMPLATES, _TEMPLATE_WEIGHTS, strict=True)
        if (kind is None or t.kind == kind) and (channel is None or channel in t.channels)
    ]
    if not pool:
        raise ValueError(f"no demo template of kind {kind!r} for channel {channel!r}")
    return _weighted(rng, [t for t, _ in pool], [w for _, w in pool])


def render(
    rng: random.Random, template: Template, channel: str, published: datetime, key: str
) -> Item:
    """Fill `template`'s slots and dress it as a post on `channel` by a plausible author."""
    person = _person(rng, template.lang)
    slots = _Slots(rng, template.lang, published, person)
    text = template.text.format_map(slots)
    title = template.title.format_map(slots) if channel in ("email", "news") else ""
    author, author_name = _author(rng, channel, template, person, slots)
    reach = _reach(rng, channel, template.kind)
    return Item(
        key=key,
        channel=channel,
        author=author,
        author_name=author_name,
        text=text,
        title=title,
        url=_url(rng, channel, author, title),
        published_at=published,
        reach=reach,
        extra={"demo": True, "kind": template.kind, "language": template.lang},
    )


def _weighted(rng: random.Random, choices: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(choices, weights=weights, k=1)[0]


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _person(rng: random.Random, lang: str) -> Person:
    first, last = NAMES[lang]
    return Person(rng.choice(first), rng.choice(last))


def _ascii(text: str) -> str:
    """'Élise Van den Broeck' → 'elisevandenbroeck': the letters a handle is made of."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


class _Slots(dict[str, str]):
    """The values of one text's {slots}, drawn when first used so a repeated slot agrees."""

    def __init__(self, rng: random.Random, lang: str, now: datetime, person: Person) -> None:
        super().__init__(name=person.name, first=person.first)
        self.rng, self.lang, self.now = rng, lang, now

    def __missing__(self, key: str) -> str:
        rng, lang = self.rng, self.lang
        if key in WORDS:
            words = WORDS[key]
            value = rng.choice(words[lang] if isinstance(words, dict) else words)
        elif key in NUMBERS:
            lo, hi = NUMBERS[key]
            value = str(rng.randint(lo, hi))
        elif key == "date":
            value = _date(self.now - timedelta(days=rng.randint(3, 45)), lang)
        elif key == "month":
            value = MONTHS[lang][(self.now.month + rng.randint(0, 3)) % 12]
        elif key == "year":
            value = str(self.now.year)
        elif key == "ref":
            prefix = rng.choice(["MB", "VLM", "NER"])
            value = f"{prefix}-{self.now.year}-{rng.randint(1000, 99999):05d}"
        elif key == "eur":
            value = _euros(rng.randint(8000, 480000) / 100, lang)
        elif key == "hour":
            h, m = rng.randint(11, 17), rng.choice([0, 15, 30])
            value = {"nl": f"{h}u{m:02d}", "en": f"{h}:{m:02d}", "fr": f"{h}h{m:02d}"}[lang]
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _date(day: datetime, lang: str) -> str:
    return f"{day.day} {MONTHS[lang][day.month - 1]}"


def _euros(amount: float, lang: str) -> str:
    """An amount as people write it: € 1.247,50 (nl), €1,247.50 (en), 1 247,50 € (fr)."""
    plain = f"{amount:,.2f}"  # 1,247.50
    if lang == "en":
        return f"€{plain}"
    dutch = plain.replace(",", " ").replace(".", ",")
    return f"€ {dutch.replace(' ', '.')}" if lang == "nl" else f"{dutch} €"


def _author(
    rng: random.Random, channel: str, template: Template, person: Person, slots: _Slots
) -> tuple[str, str]:
    """(author, author_name) as the channel shows them: a handle, a full name or an address."""
    kind, lang = template.kind, template.lang
    if channel == "news":
        return slots["outlet"], person.name
    if channel == "email":
        return f"{_ascii(person.first)}.{_ascii(person.last)}@example.org", person.name
    if kind == "press" and channel == "x" and rng.random() < 0.4:
        return "@journalist_an", "An De Journalist"  # the journalist the shipped config watches
    role = ""
    if kind == "press":
        role = slots["outlet"]
    elif kind == "political":
        role = rng.choice(ROLES[lang])
    display = f"{person.name} ({role})" if role else ""
    if channel in ("facebook", "linkedin"):
        return person.name, (f"{person.name} · {role}" if role else "")
    handle = _handle(rng, kind, lang, person)
    if channel == "reddit":
        return f"u/{handle}", ""
    if channel == "mastodon":
        return f"@{handle}@{rng.choice(MASTODON_INSTANCES)}", display
    if channel == "bluesky":
        return f"@{handle}.bsky.example", display
    return f"@{handle}", display  # x, instagram, youtube


def _handle(rng: random.Random, kind: str, lang: str, person: Person) -> str:
    """A handle such a person would pick; spammers and farmers have their own styles."""
    first, last = _ascii(person.first), _ascii(person.last)
    if kind == "spam":
        return f"{rng.choice(SPAM_HANDLES)}{rng.randint(10, 9999)}"
    styles = [
        f"{first}{last}",
        f"{first}_{last[:1]}",
        f"{first}{rng.randint(70, 99)}",
        f"{first[:1]}{last}",
    ]
    if lang == "nl":
        styles.append(f"{rng.choice(HANDLE_WORDS)}_{first}")
    return rng.choice(styles)


def _reach(rng: random.Random, channel: str, kind: str) -> int | None:
    """Followers on social channels: mostly a few hundred, now and then tens of thousands."""
    if channel not in REACH_CHANNELS:
        return None
    reach = int(rng.lognormvariate(5.3, 1.3)) + 3
    if kind in ("press", "political"):
        reach *= 15
    elif kind == "spam":
        reach = rng.randint(0, 40)
    return min(reach, 2_000_000)


def _url(rng: random.Random, channel: str, author: str, title: str) -> str:
    """A permalink under example.org (never a real domain); e-mail has none."""
    if channel == "email":
        return ""
    if channel == "news":
        slug = "-".join(_ascii(w) for w in title.split() if _ascii(w))[:60].rstrip("-")
        return f"https://example.org/nieuws/{slug}-{rng.randint(10000, 99999)}"
    post = rng.randint(10**12, 10**13 - 1)
    if channel == "reddit":
        return f"https://example.org/r/{rng.choice(SUBREDDITS)}/comments/{post:x}/"
    who = _ascii(author.split("@")[1] if author.startswith("@") else author) or "post"
    return f"https://example.org/{channel}/{who}/{post}"


# --- the data ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """One kind of text; {slots} are filled per mention. `title` is the subject or headline."""

    kind: str
    lang: str
    channels: tuple[str, ...]
    text: str
    title: str = ""
    weight: float = 1.0  # relative to the other templates of its kind and language


# Shares of the stream. A crisis is about 1 in 60 mentions.
KIND_WEIGHT = {
    "question": 27.0,
    "complaint": 16.0,
    "compliment": 8.0,
    "suggestion": 5.0,
    "report": 5.0,
    "misinformation": 6.0,
    "troll": 6.0,
    "press": 4.5,
    "political": 4.5,
    "spam": 3.5,
    "offtopic": 2.0,
    "news": 9.0,
}
KIND_WEIGHT["crisis"] = sum(KIND_WEIGHT.values()) / 59
LANG_SHARE = {"nl": 0.62, "en": 0.25, "fr": 0.13}
CHANNEL_WEIGHT = {
    "x": 5.0,
    "facebook": 5.0,
    "email": 4.0,
    "instagram": 2.0,
    "news": 2.5,
    "mastodon": 1.5,
    "bluesky": 1.5,
    "linkedin": 1.5,
    "reddit": 1.2,
    "youtube": 1.0,
}
REACH_CHANNELS = frozenset(
    {"x", "facebook", "instagram", "mastodon", "bluesky", "youtube", "linkedin"}
)

MICRO = ("x", "mastodon", "bluesky")
SOCIAL = ("x", "facebook", "instagram", "mastodon", "bluesky", "reddit", "youtube", "linkedin")
FB_X = ("x", "facebook")
MAIL = ("email",)
NEWS = ("news",)

NAMES = {
    "nl": (
        ["Jan", "Marleen", "Pieter", "Els", "Koen", "Sofie", "Bart", "Lien", "Wim", "Katrien",
         "Dirk", "An", "Tom", "Griet", "Stijn", "Hilde", "Joris", "Nathalie", "Luc", "Fien",
         "Ward", "Lotte", "Rik", "Annelies", "Jef", "Mieke", "Seppe", "Eline"],
        ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
         "Wouters", "De Smet", "Vermeulen", "Van den Broeck", "Vandamme", "Verhaeghe",
         "Declercq", "Vanneste", "Dewulf", "Callens", "Coppens", "Lemmens", "Vos", "Hermans",
         "Van Acker", "Debruyne", "Ceulemans", "Verstraete"],
    ),
    "en": (
        ["Sarah", "James", "Emma", "Daniel", "Olivia", "Mark", "Hannah", "Pieter", "Anna",
         "Lukas", "Chloe", "Ben", "Ruth", "Tomasz"],
        ["Collins", "Becker", "de Vries", "Walsh", "Kowalski", "Murphy", "Bakker", "Schneider",
         "Harris", "Novak", "Jensen", "O'Brien"],
    ),
    "fr": (
        ["Julie", "Marc", "Sophie", "Thomas", "Camille", "Nicolas", "Élise", "Pierre", "Amélie",
         "Laurent", "Claire", "Benoît"],
        ["Lambert", "Dubois", "Lejeune", "Leclercq", "Dupont", "Renard", "Martin", "Lemaire",
         "Fontaine", "Gilson", "Delvaux"],
    ),
}
MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
}
ROLES = {
    "nl": ["Vlaams Parlementslid", "fractieleider in het Vlaams Parlement"],
    "en": ["Member of the Flemish Parliament"],
    "fr": ["député flamand"],
}
HANDLE_WORDS = ["boer", "boerin", "landbouwer", "fietser", "wandelaar", "melkveehouder",
                "akkerbouwer", "natuurpunt_fan", "imker", "tuinier"]
SPAM_HANDLES = ["deals_", "promo", "gratis_", "cashflow", "agri_boost", "win_now_", "crypto_boer"]
MASTODON_INSTANCES = ["mastodon.example", "toot.example", "social.example"]
SUBREDDITS = ["belgium", "Vlaanderen", "landbouw", "Gent", "Leuven", "brussels"]

# Slot words; a dict is per language, a list is the same in every language.
WORDS: dict[str, dict[str, list[str]] | list[str]] = {
    "place": {
        "nl": ["Brugge", "Gent", "Leuven", "Hasselt", "Roeselare", "Kortrijk", "Ieper", "Diksmuide",
               "Tielt", "Aalst", "Oudenaarde", "Ronse", "Geel", "Mol", "Turnhout", "Tongeren",
               "Sint-Truiden", "Tienen", "Diest", "Eeklo", "Lokeren", "Poperinge", "Bree",
               "Maaseik", "Torhout", "Lier"],
        "en": ["Bruges", "Ghent", "Leuven", "Hasselt", "Roeselare", "Kortrijk", "Ypres",
               "Diksmuide", "Aalst", "Oudenaarde", "Geel", "Turnhout", "Tongeren", "Lier"],
        # no names starting with a vowel: the French templates say "de {place}", not "d'…"
        "fr": ["Bruges", "Gand", "Louvain", "Hasselt", "Roulers", "Courtrai", "Dixmude", "Renaix",
               "Tongres", "Saint-Trond", "Tirlemont", "Fourons", "Malines", "Poperinge"],
    },
    "river": {
        "nl": ["IJzer", "Leie", "Schelde", "Demer", "Dijle", "Dender", "Mandel", "Grote Nete",
               "Zwalm", "Kleine Nete", "Handzamevaart", "Mark", "Herk", "Gete"],
        "en": ["IJzer", "Leie", "Scheldt", "Demer", "Dijle", "Dender", "Mandel", "Nete"],
        "fr": ["Lys", "Dendre", "Dyle", "Senne", "Mandel", "Zwalm"],
    },
    "region": {  # with the article the language wants after "in"
        "nl": ["de Westhoek", "de Kempen", "Haspengouw", "het Meetjesland", "het Pajottenland",
               "het Waasland", "het Maasland", "de Vlaamse Ardennen", "de Polders", "het Hageland"],
        "en": ["the Westhoek", "the Kempen", "Haspengouw", "the Meetjesland", "the Waasland",
               "the Flemish Ardennes", "the Polders"],
        "fr": ["la Campine", "la Hesbaye", "le Westhoek", "le pays de Waes",
               "les Ardennes flamandes"],
    },
    "crop": {
        "nl": ["maïs", "aardappelen", "wintertarwe", "suikerbieten", "grasland", "spruiten",
               "wintergerst", "prei"],
        "en": ["maize", "potatoes", "winter wheat", "sugar beet", "grassland"],
        "fr": ["maïs", "pommes de terre", "froment d'hiver", "betteraves sucrières", "prairies"],
    },
    "theme": {
        "nl": ["hagen en houtkanten", "erosiebestrijding", "beheerovereenkomsten", "poelen",
               "niet-productieve investeringen", "bufferstroken"],
        "en": ["hedgerows", "erosion control", "management agreements", "ponds", "buffer strips"],
        "fr": ["des haies", "la lutte contre l'érosion", "des conventions de gestion", "des mares"],
    },
    "outlet": {
        "nl": ["De Polderbode", "Het Kempens Dagblad", "Radio Leie", "Boer & Tuin Vandaag",
               "Gazet van Haspengouw", "TV Westhoek", "Het Landbouwblad", "Focus Meetjesland"],
        "en": ["Farming Europe Weekly", "The Brussels Ledger", "AgriPolicy Review",
               "Low Countries Post"],
        "fr": ["Le Courrier rural", "La Gazette du Nord", "Radio Escaut", "Le Sillon belge"],
    },
    "company": ["Leiedal Dairy BV", "Van Acker Agro", "Kempen Pork NV", "Polderzuivel CV",
                "Hageland Fruit BV", "De Vlasbloem BV"],
    "emoji": ["🙏", "😊", "👍", "🌱", "🌳", "🚜", "💚", "🙂", "🐄"],
    "angry": ["😡", "🤬", "🙄", "😤", "👎", "😠"],
    "laugh": ["😂", "🤣", "💩", "🙃", "🤡"],
    "staff": ["Katrien", "Joris", "Hilde", "Stijn", "Lien", "Wim", "Sofie", "de dame", "de man",
              "de medewerker"],
}
NUMBERS = {
    "n": (2, 14),
    "days": (2, 20),
    "weeks": (2, 11),
    "minutes": (20, 95),
    "pct": (4, 38),
    "km": (3, 27),
}


def T(  # short on purpose: it starts every entry of the table below
    kind: str, lang: str, channels: tuple[str, ...], text: str, title: str = "", weight: float = 1.0
) -> Template:
    return Template(kind, lang, channels, text, title, weight)


TEMPLATES: tuple[Template, ...] = (
    # ---- questions ---------------------------------------------------------------------
    T("question", "nl", SOCIAL,
      "Wanneer is de deadline voor de mestbankaangifte dit jaar? Vorig jaar was het "
      "{date}, maar ik vind niks terug op de site van de VLM. {emoji}"),
    T("question", "nl", MICRO,
      "@VLM_be Hoe lang duurt het gemiddeld voor een aanvraag voor nutriëntenemissierechten "
      "wordt behandeld? Mijn dossier {ref} staat al {weeks} weken op 'in behandeling'."),
    T("question", "nl", SOCIAL,
      "Waar vind ik het formulier om een afwijking van de bemestingsnorm aan te vragen? Op de "
      "pagina's van de Mestbank verwijst alles naar elkaar door. Zoek al {minutes} minuten 🙈"),
    T("question", "nl", ("facebook", "instagram", "mastodon"),
      "Vraagje aan de Vlaamse Landmaatschappij: kan ik als particulier in {place} subsidie "
      "krijgen voor een poel in mijn weide? Of is dat enkel voor landbouwers?"),
    T("question", "nl", SOCIAL,
      "Beste VLM, de resultaten van mijn nitraatstalen ({n} percelen in {place}) staan nog "
      "altijd niet in het Mestbankloket. Is er een vertraging?"),
    T("question", "nl", ("x", "facebook", "reddit"),
      "Is het loket van de Mestbank vandaag in onderhoud? Ik krijg de hele tijd een foutmelding "
      "bij het "
      "inloggen met itsme. Al {n} keer geprobeerd."),
    T("question", "nl", ("facebook", "instagram"),
      "Hoi! Weet iemand of de VLM nog subsidies geeft voor het aanplanten van hagen en "
      "houtkanten? Wij willen {n}00 meter aanplanten in {region}. 🌳"),
    T("question", "nl", SOCIAL,
      "Vanaf wanneer mag ik terug drijfmest uitrijden op grasland? De uitrijregeling van de "
      "Mestbank is mij niet helemaal duidelijk voor {month}."),
    T("question", "nl", ("facebook", "x", "linkedin"),
      "Hoe kan je als inwoner het landinrichtingsproject van de VLM in {place} volgen? Ik vind "
      "nergens een planning of een infomoment terug."),
    T("question", "nl", ("facebook", "x"),
      "Kan de VLM bevestigen of de ruilverkaveling in {region} nog doorgaat? Er doen hier "
      "allerlei geruchten de ronde."),
    T("question", "nl", ("reddit", "facebook"),
      "Iemand ervaring met de Mestbank als hobbyboer met {n} schapen? Moet ik echt een aangifte "
      "doen of valt dat eronder?"),
    T("question", "nl", ("youtube",),
      "Interessante video, maar geldt dit ook voor {crop}? En waar vind ik de normen van de "
      "Mestbank voor dit jaar? {emoji}"),
    T("question", "nl", MAIL,
      "Geachte,\n\nIk heb op {date} mijn aangifte ingediend bij de Mestbank, maar ik heb nog "
      "geen ontvangstbevestiging gekregen. Kan u nagaan of mijn aangifte (dossier {ref}) goed "
      "ontvangen is?\n\nMet vriendelijke groeten,\n{name}\n{place}",
      "Vraag over mijn mestbankaangifte {year}"),
    T("question", "nl", MAIL,
      "Geachte heer, mevrouw,\n\nIn {month} diende ik via de Vlaamse Landmaatschappij een "
      "aanvraag in voor {theme} op mijn percelen in {place}. Graag vernam ik wanneer ik een "
      "beslissing mag verwachten.\n\nHoogachtend,\n{name}",
      "Stand van zaken subsidieaanvraag {ref}"),
    T("question", "nl", MAIL,
      "Beste,\n\nWelke bemestingsnorm geldt er voor {crop} op zandgrond in gebiedstype 2? De "
      "tabel op https://example.org/mestbank/normen is voor mij niet eenduidig. Alvast bedankt "
      "voor uw antwoord.\n\nVriendelijke groeten,\n{name}",
      "Vraag: bemestingsnorm {crop}"),
    T("question", "nl", MAIL,
      "Goedemiddag,\n\nMijn zoon neemt op {date} ons bedrijf in {place} over. Moeten we daarvoor "
      "iets melden bij de Mestbank van de VLM, en binnen welke termijn?\n\nDank u wel,\n{name}",
      "Overname bedrijf – wat met onze nutriëntenemissierechten?"),
    T("question", "nl", MAIL,
      "Hallo,\n\nWaar vind ik de vergunning voor de werken aan de {river} die de VLM plant "
      "naast ons erf in {place}? We willen weten hoe ver het water tot aan onze stal komt.\n\n"
      "Groeten,\n{name}",
      "Werken VLM aan de {river}"),
    T("question", "en", MICRO + ("reddit",),
      "Hi @VLM_be, I'm a Dutch farmer renting land near {place}. Do I need to register with the "
      "Mestbank myself or does the owner do that? Thanks!"),
    T("question", "en", ("reddit", "facebook", "mastodon"),
      "Does anyone know if the VLM (Flemish Land Agency) has an English version of the manure "
      "bank forms? Farming near {place} and struggling with the Dutch legalese 😅"),
    T("question", "en", MICRO + ("linkedin",),
      "Where can I find the VLM's open data on nitrate levels? The link on "
      "https://example.org/data/nitraat returns a 404. I need it for a study on {crop} in "
      "{region}."),
    T("question", "en", MAIL,
      "Dear Sir or Madam,\n\nI am writing on behalf of {company}, a dairy business in {place}. "
      "Could you tell me which documents the Mestbank (VLM) requires to transfer nutrient "
      "emission rights between two holdings?\n\nKind regards,\n{name}",
      "Question about transferring nutrient emission rights"),
    T("question", "en", MAIL,
      "Dear VLM team,\n\nWe are a contractor working on the land consolidation project in "
      "{region}. Who is our contact person for the works on the {river}, and where can we find "
      "the tender documents?\n\nThank you,\n{name}\n{company}",
      "Contact person – works on the {river}"),
    T("question", "en", ("facebook", "reddit"),
      "Moving to a farm near {place} in {month}. How does registering with the Mestbank work "
      "for a newcomer? Is there an English helpdesk at the VLM?"),
    T("question", "fr", ("facebook", "x", "mastodon"),
      "Bonjour, je cultive quelques parcelles près de {place}. Dois-je faire une déclaration à la "
      "Mestbank (VLM) ? Le site n'est qu'en néerlandais… Merci !"),
    T("question", "fr", MAIL,
      "Madame, Monsieur,\n\nJe me permets de vous contacter au sujet de ma déclaration auprès de "
      "la Mestbank de la VLM. Pourriez-vous me confirmer la date limite pour l'année {year} ?\n\n"
      "Veuillez agréer mes salutations distinguées,\n{name}",
      "Demande d'information – déclaration Mestbank"),
    T("question", "fr", ("facebook", "instagram"),
      "Bonjour, où trouver le formulaire de la VLM pour une subvention pour {theme} ? J'habite "
      "près de {place}. Merci d'avance {emoji}"),
    T("question", "nl", MICRO,
      "Waarom zet de VLM [b]alles[/b] in het vet op haar site? En wat betekent [/] in mijn "
      "aangifte {ref}?", weight=0.12),
    # ---- complaints ---------------------------------------------------------------------
    T("complaint", "nl", SOCIAL,
      "Al {n} keer gemaild naar de Mestbank en nog altijd geen antwoord. Hoe lang moet een mens "
      "wachten bij de VLM?? {angry}"),
    T("complaint", "nl", ("x", "facebook", "bluesky", "mastodon"),
      "Website van de VLM ligt al {minutes} minuten plat. En vandaag is net de laatste dag om mijn "
      "aangifte in te dienen… Wat nu?"),
    T("complaint", "nl", ("facebook", "x"),
      "Ik kreeg een factuur van de Mestbank van {eur} voor een heffing die ik vorig jaar al "
      "betaald heb. Wie kan dit rechtzetten? Niemand neemt op."),
    T("complaint", "nl", ("facebook", "reddit"),
      "Bij de VLM word je van het kastje naar de muur gestuurd. Drie diensten gebeld over mijn "
      "perceel in {place}, drie verschillende antwoorden."),
    T("complaint", "nl", ("x", "bluesky", "facebook"),
      "Zit al {minutes} minuten in de wachtrij bij de infolijn van de VLM. Lekker dan. ☎️🙄"),
    T("complaint", "nl", ("facebook", "x"),
      "De werken van de VLM aan de {river} in {place} liggen al {weeks} weken stil en de weg is "
      "nog altijd afgesloten. Kan iemand ons eens laten weten wat er aan de hand is?"),
    T("complaint", "nl", ("facebook", "instagram"),
      "In {place} hebben ze een prachtige bomenrij gerooid voor een 'natuurproject' van de "
      "Vlaamse Landmaatschappij. Snap er echt niks van 😔"),
    T("complaint", "nl", MAIL,
      "Geachte,\n\nOp {date} stuurde ik een vraag naar de Vlaamse Landmaatschappij over de "
      "afbakening van mijn perceel in {place} (ref. {ref}). Sindsdien heb ik niets meer gehoord, "
      "ook niet na een herinnering. Dit is geen correcte dienstverlening.\n\n{name}",
      "Klacht: geen antwoord op mijn mail van {date}"),
    T("complaint", "nl", MAIL,
      "Beste,\n\nIn bijlage de factuur die ik ontving van de Mestbank voor een bedrag van {eur}. "
      "Ik houd sinds vorig jaar geen dieren meer, dus deze heffing klopt niet. Gelieve dit na te "
      "kijken.\n\nMet vriendelijke groet,\n{name}",
      "Foute factuur mestheffing"),
    T("complaint", "nl", ("youtube", "instagram"),
      "Mooie beelden, maar bij ons in {place} staat de VLM al {n} jaar op de rem. Eerst de "
      "beloofde fietsbrug, dan pas filmpjes maken."),
    T("complaint", "en", MICRO,
      "Still no reply from the VLM after {n} emails about my subsidy application. Is anyone "
      "actually reading the inbox? 😤"),
    T("complaint", "en", MAIL,
      "Hello,\n\nI received an invoice from the Mestbank for {eur}, but I sold my farm in {month}. "
      "Please correct this. Reference {ref}.\n\nRegards,\n{name}",
      "Incorrect invoice – manure levy"),
    T("complaint", "en", ("x", "mastodon", "reddit"),
      "The VLM website has been down for {minutes} minutes. Great timing with the Mestbank "
      "deadline "
      "tomorrow."),
    T("complaint", "fr", FB_X,
      "Ça fait {weeks} semaines que j'attends une réponse de la VLM à mon courriel. "
      "Inadmissible."),
    T("complaint", "en", FB_X,
      "Third time my VLM subsidy payment is late. {weeks} weeks now. How is a small farm in "
      "{place} supposed to plan like this? {angry}"),
    T("complaint", "fr", MAIL,
      "Madame, Monsieur,\n\nJ'ai reçu de la Mestbank une facture de {eur} que je ne comprends "
      "pas (réf. {ref}). J'ai appelé {n} fois sans obtenir de réponse. Merci de me recontacter "
      "rapidement.\n\n{name}",
      "Réclamation – facture Mestbank {ref}"),
    T("complaint", "nl", ("x", "facebook"),
      "Mijn mail aan de Mestbank kwam terug met de fout '[/link] unexpected closing tag'. Wat "
      "moet ik daarmee?? ref {ref}", weight=0.12),
    T("complaint", "nl", MAIL,
      "Dag,\n\nDit kopieerde ik uit het programma van mijn boekhouder: \x1b[31mFOUT 500\x1b[0m bij "
      "het opladen naar de Mestbank. Wat moet ik doen?\n\n{name}",
      "Re: [b]dringend[/b] upload Mestbank mislukt", weight=0.15),
    # ---- compliments --------------------------------------------------------------------
    T("compliment", "nl", SOCIAL,
      "Dikke merci aan {staff} van de Mestbank die mij vandaag door mijn aangifte loodste. "
      "Zo geduldig! {emoji}"),
    T("compliment", "nl", ("facebook", "instagram", "bluesky"),
      "Mooi project van de Vlaamse Landmaatschappij langs de {river} in {place}: de nieuwe "
      "wandelpaden en poelen zijn echt een verrijking. Komen zeker terug met de kinderen 🌿"),
    T("compliment", "nl", MAIL,
      "Beste,\n\nIk wil even laten weten dat ik zeer tevreden ben over de snelle afhandeling van "
      "mijn subsidieaanvraag bij de VLM. Binnen {days} dagen een antwoord, dat had ik niet "
      "verwacht.\n\nVriendelijke groeten,\n{name}",
      "Bedankt!"),
    T("compliment", "nl", MICRO + ("linkedin",),
      "Goed gedaan VLM! Op de nieuwe kaart zie ik eindelijk welk gebiedstype mijn percelen in "
      "{place} hebben 👍 "
      "https://example.org/kaarten/gebiedstypes"),
    T("compliment", "nl", ("youtube", "instagram"),
      "Wat een verschil met tien jaar geleden! Proficiat aan de VLM voor de heraanleg in {place} "
      "{emoji}"),
    T("compliment", "en", ("bluesky", "instagram", "mastodon"),
      "Cycled the new VLM greenway near {place} today. Lovely work, the wetlands are full of "
      "birds 🐦 Thanks, Vlaamse Landmaatschappij!"),
    T("compliment", "en", ("linkedin",),
      "Proud to have worked with the Vlaamse Landmaatschappij (VLM) on the rural development "
      "project in {region}. A great example of farmers, nature and government working together. "
      "#landscape #Flanders"),
    T("compliment", "fr", ("instagram", "facebook"),
      "Superbe balade le long de la {river} grâce aux aménagements de la Vlaamse "
      "Landmaatschappij. Bravo ! 🌾"),
    T("compliment", "en", MAIL,
      "Dear VLM team,\n\nThank you for the clear answer about my Mestbank return last week. "
      "{staff} took the time to explain everything, which made a real difference for our farm "
      "in {place}.\n\nKind regards,\n{name}",
      "Thank you"),
    T("compliment", "fr", ("x", "mastodon"),
      "Merci à la VLM pour la réponse rapide à ma question sur la Mestbank. Service impeccable "
      "{emoji}"),
    # ---- suggestions --------------------------------------------------------------------
    T("suggestion", "nl", SOCIAL,
      "Tip voor de VLM: zet de deadlines van de Mestbank ook in een agenda die we kunnen "
      "importeren. Zou veel vergeten aangiftes voorkomen. {emoji}"),
    T("suggestion", "nl", ("facebook", "linkedin"),
      "Idee: kan de Mestbank niet eens een infosessie organiseren in {place}? Niet iedereen is "
      "mee met al die digitale formulieren."),
    T("suggestion", "nl", FB_X,
      "Waarom heeft de VLM geen chatfunctie op de site? Zou heel wat telefoontjes schelen. "
      "{emoji}"),
    T("suggestion", "en", MICRO,
      "Suggestion for the VLM: publish the Mestbank deadlines as an iCal feed. Would save us "
      "farmers in {region} a lot of stress."),
    T("suggestion", "fr", ("facebook",),
      "Suggestion à la VLM : traduire au moins la page d'accueil de la Mestbank en français. "
      "Beaucoup d'agriculteurs de la région de {place} s'y perdent."),
    # ---- reports ------------------------------------------------------------------------
    T("report", "nl", FB_X,
      "Melding: dode vissen in de {river} ter hoogte van {place}. Weet niet of dit voor de VLM "
      "is, maar er moet iemand komen kijken."),
    T("report", "nl", ("x",),
      "Hier in {place} wordt al de hele dag mest uitgereden terwijl het vriest. Mag dat? "
      "@VLM_be"),
    T("report", "nl", ("facebook", "instagram"),
      "Het bord van het VLM-wandelpad in {place} is omgereden. Ligt nu midden op het pad."),
    T("report", "en", ("x", "reddit"),
      "Someone dumped a pile of manure next to the VLM nature area in {place}. Smells awful. "
      "Who do I report this to?"),
    T("report", "en", ("mastodon", "bluesky"),
      "Dead fish in the {river} near {place} this morning. Tagging the VLM just in case: who "
      "handles this?"),
    T("report", "fr", FB_X,
      "Des poissons morts dans la {river} à {place} ce matin. La VLM est-elle au courant ?"),
    # ---- wrong facts --------------------------------------------------------------------
    T("misinformation", "nl", FB_X,
      "Wist je dat de VLM vanaf volgend jaar ALLE mest verbiedt op grasland? Mijn buurman in "
      "{place} "
      "heeft het van iemand op het ministerie. Schandalig!"),
    T("misinformation", "nl", SOCIAL,
      "Volgens mijn info mag je van de Mestbank tot eind {month} gewoon uitrijden, ook op "
      "bevroren grond. Niks aan de hand dus."),
    T("misinformation", "nl", ("facebook", "x", "reddit"),
      "De VLM onteigent in {region} gewoon boerengrond voor natuur, zonder enige vergoeding. Zo "
      "gaat dat hier."),
    T("misinformation", "nl", ("facebook", "instagram"),
      "Die subsidie van de Vlaamse Landmaatschappij voor {theme} is al lang afgeschaft hoor, "
      "niet meer de moeite om aan te vragen."),
    T("misinformation", "en", ("reddit", "x"),
      "Heard at the market in {place} that the VLM is secretly paying farmers to flood their "
      "land. Anyone know more? Seems "
      "shady."),
    T("misinformation", "en", ("x", "facebook"),
      "PSA: the Mestbank deadline was moved to the end of {month}, so no rush. Source: a friend "
      "at the VLM."),
    T("misinformation", "fr", FB_X,
      "Apparemment la VLM va interdire tout épandage en Flandre dès {month}. Quelqu'un "
      "confirme ?"),
    # ---- trolls and rants ---------------------------------------------------------------
    T("troll", "nl", FB_X,
      "VLM = VERSPILLING VAN BELASTINGGELD!!! Dat hele MESTBANK-gedoe is alleen maar om ons "
      "BOEREN kapot te maken!!! {angry}{angry}"),
    T("troll", "nl", ("x",),
      "Weer een VLM-project in {place} waar NIEMAND om gevraagd heeft. Pak die bureaucraten hun "
      "bureau af en geef ze een riek!!!"),
    T("troll", "nl", ("x", "reddit"),
      "lol de Mestbank {laugh} de naam zegt het zelf al"),
    T("troll", "nl", ("facebook", "youtube"),
      "Ze mogen de hele Vlaamse Landmaatschappij opdoeken. NUTTELOOS. PUNT!!! {angry}"),
    T("troll", "en", ("x",),
      "VLM IS A JOKE!!! Bureaucrats telling farmers how to farm!!! WAKE UP FLANDERS!!! {angry}"),
    T("troll", "fr", FB_X,
      "La VLM ne sert À RIEN !!! Encore nos impôts gaspillés !!! {angry}"),
    T("troll", "en", ("x",),
      "[bold red]VLM IS LYING[/] about nitrate levels!!! [@click=app.quit]click here[/]",
      weight=0.15),
    # ---- press --------------------------------------------------------------------------
    T("press", "nl", MAIL,
      "Goedemiddag,\n\nIk ben {name}, journalist bij {outlet}. Voor een artikel dat morgen "
      "verschijnt zoek ik een reactie van de VLM op de nieuwe cijfers over nitraatresidu's in "
      "{region}. Kan ik vandaag nog iemand spreken? Mijn deadline is {hour}.\n\nAlvast bedankt,\n"
      "{name}\n{outlet}",
      "Persvraag: nitraatresidu's in {region}"),
    T("press", "nl", ("x", "bluesky"),
      "@VLM_be Kunnen jullie bevestigen dat de uitbetaling van de subsidies voor {theme} "
      "vertraging heeft? Graag een reactie voor {outlet}. DM staat open."),
    T("press", "nl", MAIL,
      "Dag persdienst,\n\nWij maken voor {outlet} een reportage over het landinrichtingsproject "
      "in {place}. Kunnen we op {date} komen filmen met iemand van de Vlaamse Landmaatschappij?"
      "\n\nGroeten,\n{name}",
      "Opnameverzoek {outlet}"),
    T("press", "en", MAIL,
      "Dear press office,\n\nI'm {name}, a correspondent for {outlet}. I'm writing a piece on "
      "Flemish manure policy and would like a comment from the Vlaamse Landmaatschappij (VLM) "
      "on the latest nitrate figures. Could someone call me before {hour} tomorrow?\n\nBest,\n"
      "{name}",
      "Press enquiry: manure policy in Flanders"),
    T("press", "fr", MAIL,
      "Bonjour,\n\nJe suis {name}, journaliste pour {outlet}. Je prépare un sujet sur les zones "
      "d'inondation contrôlée de la VLM. Seriez-vous disponible pour une courte interview "
      "aujourd'hui ?\n\nCordialement,\n{name}",
      "Demande presse : inondations à {place}"),
    # ---- politics -----------------------------------------------------------------------
    T("political", "nl", ("x", "facebook", "linkedin", "bluesky"),
      "Ik stel deze week een schriftelijke vraag aan de minister over de wachttijden bij de "
      "Mestbank. Landbouwers in {region} verdienen duidelijkheid. #VLM"),
    T("political", "nl", FB_X,
      "Opnieuw blijkt dat het mestbeleid van deze regering vastloopt. De VLM krijgt te weinig "
      "middelen om haar werk te doen. Kijk maar naar {place}. Tijd voor een andere koers."),
    T("political", "nl", ("facebook", "x"),
      "Gemeenteraad {place} vanavond: agendapunt over het landinrichtingsproject van de VLM. "
      "Kom zeker luisteren! 📣"),
    T("political", "en", ("x", "linkedin"),
      "We will table a question in the Flemish Parliament on the Mestbank backlog. Farmers "
      "in {region} deserve answers. #VLM"),
    T("political", "fr", ("x",),
      "Question parlementaire déposée ce jour sur les retards de paiement de la VLM aux "
      "agriculteurs de {place}. #VLM"),
    # ---- spam ---------------------------------------------------------------------------
    T("spam", "nl", ("x", "facebook", "instagram"),
      "🔥 Aangifte bij de Mestbank te ingewikkeld? Wij doen het voor u voor €49! Klik: "
      "https://example.org/promo/mest?ref={n}"),
    T("spam", "nl", ("facebook", "instagram", "youtube"),
      "Verdien €{n}00 per dag vanuit je kot!!! Ook voor landbouwers en VLM-medewerkers 💰💰 "
      "https://example.org/win"),
    T("spam", "en", ("x", "instagram"),
      "Boost your farm's reach!!! {n},000 followers for ${n}.99, trusted by VLM partners. "
      "https://example.org/followers"),
    T("spam", "fr", ("facebook", "youtube"),
      "Gagnez {n}00 € par jour !!! Même les agents de la VLM le font 😱 https://example.org/gagner"),
    # ---- off-topic ----------------------------------------------------------------------
    T("offtopic", "nl", ("x", "mastodon"),
      "Iemand een goede frituur in {place}? Na een dag op het terrein met de VLM heb ik honger "
      "😅"),
    T("offtopic", "nl", ("facebook",),
      "Heeft er iemand een aanhangwagen te leen in {place}? (Sorry VLM, verkeerde groep denk ik)"),
    T("offtopic", "en", ("facebook", "reddit"),
      "Anyone know a good bike repair shop in {place}? Posted in the VLM greenway group, sorry "
      "if off-topic."),
    T("offtopic", "fr", FB_X,
      "Quelqu'un connaît un bon restaurant à {place} ? On sort d'une longue réunion avec la VLM "
      "😅"),
    # ---- news ---------------------------------------------------------------------------
    T("news", "nl", NEWS,
      "De Vlaamse Landmaatschappij begint volgende maand met de werken in {region}. Er komen "
      "{km} kilometer trage wegen en {n} nieuwe poelen bij.",
      "VLM start landinrichting in {region}: {km} km nieuwe trage wegen"),
    T("news", "nl", NEWS,
      "Bijna {pct} procent van de mestbankaangiftes kwam dit jaar te laat binnen, meldt de "
      "Mestbank van de VLM. Landbouworganisaties wijzen op de ingewikkelde formulieren.",
      "Mestbank: recordaantal aangiftes te laat ingediend"),
    T("news", "nl", NEWS,
      "Landbouwers in {region} moeten soms maanden wachten op een antwoord van de Mestbank. De "
      "VLM erkent de achterstand en belooft extra personeel.",
      "Landbouwers klagen over wachttijden bij Mestbank"),
    T("news", "nl", NEWS,
      "Volgens het jongste rapport van de VLM daalt het nitraatgehalte in het oppervlaktewater "
      "in {region}. Toch haalt nog {pct} procent van de meetpunten de norm niet.",
      "Nitraat in {region} daalt, maar norm nog niet overal gehaald"),
    T("news", "nl", NEWS,
      "Langs de {river} in {place} is de nieuwe overstromingszone in gebruik genomen, een "
      "project van de Vlaamse Landmaatschappij en de gemeente.",
      "Nieuwe overstromingszone langs de {river} klaar"),
    T("news", "en", NEWS,
      "The Mestbank, run by the Flemish Land Agency (VLM), says almost {pct} percent of manure "
      "returns were filed late this year.",
      "Flanders' manure bank reports record late filings"),
    T("news", "en", NEWS,
      "A {km}-hectare flood zone built by the Flemish Land Agency (VLM) near {place} was put "
      "into use this week, after {n} years of work.",
      "Flemish Land Agency opens new flood zone on the {river}"),
    T("news", "fr", NEWS,
      "La banque d'engrais de la Vlaamse Landmaatschappij (VLM) fait face à un retard "
      "important : {pct} % des dossiers attendent encore, selon les syndicats agricoles.",
      "Flandre : la Mestbank sous pression"),
    T("news", "fr", NEWS,
      "La Vlaamse Landmaatschappij (VLM) va aménager {km} kilomètres de chemins lents et {n} "
      "mares près de {place}.",
      "La VLM lance un projet d'aménagement rural à {place}"),
    # ---- crisis -------------------------------------------------------------------------
    T("crisis", "nl", FB_X,
      "DRINGEND: de {river} treedt buiten haar oevers in {place}, het water staat al tot aan de "
      "weg bij de overstromingszone van de VLM. Is dit normaal?? Wie moeten we bellen?"),
    T("crisis", "nl", FB_X,
      "Er is hier in {place} een mestsilo gescheurd, de drijfmest loopt de gracht in richting "
      "{river}!!! VLM, milieudienst, iemand?!"),
    T("crisis", "nl", MAIL,
      "Beste,\n\nWanneer ik inlog in het Mestbankloket van de VLM zie ik de aangiftes, adressen en "
      "rekeningnummers van een ander bedrijf ({ref}). Dit lijkt mij een ernstig datalek. Graag "
      "onmiddellijk actie.\n\n{name}",
      "DRINGEND: gegevens van anderen zichtbaar in Mestbankloket"),
    T("crisis", "nl", NEWS,
      "Door een gescheurde silo is vannacht in {place} een grote hoeveelheid drijfmest in de "
      "{river} terechtgekomen. De brandweer en de VLM zijn ter plaatse.",
      "Mestlek in {place}: {n}0.000 liter drijfmest in de {river}"),
    T("crisis", "en", MICRO,
      "URGENT: manure spill in the {river} near {place}, the water is brown and there are dead "
      "fish everywhere. @VLM_be are you aware??"),
    T("crisis", "fr", FB_X,
      "Inondation à {place} ! La rivière déborde près du bassin de la VLM, les caves sont déjà "
      "sous eau !!!"),
)


def _template_weights(templates: Sequence[Template]) -> list[float]:
    """Each template's share: its kind's weight × its language's share, split over its peers."""
    peers: dict[tuple[str, str], float] = {}
    for t in templates:
        peers[t.kind, t.lang] = peers.get((t.kind, t.lang), 0.0) + t.weight
    return [
        KIND_WEIGHT[t.kind] * LANG_SHARE[t.lang] * t.weight / peers[t.kind, t.lang]
        for t in templates
    ]


_TEMPLATE_WEIGHTS = _template_weights(TEMPLATES)
