"""Intake's fast tone and register give what the plain rules give, on thousands of texts.

webcare/tone.py and webcare/register.py skip a regex where a word or character it needs is
missing, index the phrases by their first word, remember word readings and count letters in C;
the RSS parse workers read the tone ahead (webcare.intake.read_ahead). None of that may change a
result. The reference below is the straightforward reading of the same rule tables (the code as
it was before it was made fast): every cue and phrase searched, every token looked up, every
character counted. It uses the modules' tables, so it stays right when the word lists grow.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import webcare.register as register
import webcare.tone as tone
from sources.demo import compose
from sources.rss import RSSSource, _parse_job, parse_in_worker
from webcare.intake import Intake, read_ahead
from webcare.untrusted import clean_line, clean_text
from webcare.watch import fold

DATA = Path(__file__).parent / "data"
FEEDS = Path(__file__).parent / "feeds"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# --- the reference: every rule applied the plain way ------------------------------------------

_CUES = tuple((cue, re.compile(cue.pattern)) for cue in register.CUES)


def reference_style_cues(text: str) -> list[tuple[str, float]]:
    found = []
    if register._EMOJI.search(text):
        found.append(("emoji", register.EMOJI))
    if register._EXCLAIM.search(text):
        found.append(("!!", register.EXCLAIM))
    letters = [c for c in register.URLS.sub("", register._HANDLES.sub("", text)) if c.isalpha()]
    if len(letters) >= 12:
        upper = sum(c.isupper() for c in letters)
        if upper == 0:
            found.append(("all lower case", register.LOWERCASE))
        elif upper / len(letters) > 0.7:
            found.append(("shouting", register.SHOUTING))
    return found


def reference_register_score(text: str, language: str | None = None) -> tuple[float, list[str]]:
    lang = register._language(language) or register.detect_language(text)
    body = fold(register._HANDLES.sub("", text or "")).strip()
    score, why = 0.0, []
    for cue, pattern in _CUES:
        if cue.language == "*" or cue.language == lang or (lang is None and not cue.pronoun):
            if pattern.search(body):
                score += cue.weight
                why.append(cue.name)
    for name, weight in reference_style_cues(text or ""):
        score += weight
        why.append(name)
    return score, why


def reference_register(text: str, language: str | None) -> str:
    score, _ = reference_register_score(text, language)
    return register.INFORMAL if score >= register.INFORMAL_AT else register.FORMAL


_PHRASE_GROUPS = tuple((tone._by_first_word(p), w) for p, w in tone._PHRASES)


def reference_word_score(tokens: list[str], language: str) -> float:
    scores: list[float] = []
    negated_for, boost, contrast_at = 0, 1.0, -1
    for tok in tokens:
        if tok in tone._CLAUSE_END:
            negated_for, boost = 0, 1.0
            continue
        if tok in tone._NEGATORS or tok.endswith("n't"):
            negated_for = 3
            continue
        if tok in tone._INTENSIFIERS:
            boost = 1.5
            continue
        if tok in tone._CONTRAST and contrast_at < 0:
            contrast_at = len(scores)
        weight = tone._weight(tok, language) * boost
        if weight:
            if negated_for:
                weight = -weight if weight > 0 else -weight * 0.5
            scores.append(weight)
            boost = 1.0
            negated_for = 1 if negated_for else 0
        elif negated_for:
            negated_for -= 1
    if contrast_at > 0:
        return tone._BEFORE * sum(scores[:contrast_at]) + tone._AFTER * sum(scores[contrast_at:])
    return sum(scores)


def reference_plain_score(folded: str, language: str) -> float:
    text = tone._DIGITS.sub("#", folded)
    words = set(tone._WORD.findall(text))
    if "#" in text:
        words.add("#")
    contrast = tone._CONTRAST_AT.search(text)
    turn = contrast.start() if contrast else len(text)
    score, spans = 0.0, []
    for by_word, weight in _PHRASE_GROUPS:
        for word in by_word.keys() & words:
            for m in by_word[word].finditer(text):
                spans.append(m.span())
                score += weight * (tone._AFTER if m.start() > turn else 1.0)
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} ; {text[end:]}"
    lang = language if language in tone._TABLES else "other"
    return score + reference_word_score(tone._TOKENS.findall(text), lang)


def reference_emoji_score(text: str) -> float:
    score = 0.0
    if text and max(text) >= "\u2600":
        score += sum(tone._EMOJI_WEIGHTS.get(c, 0.0) for c in tone._SYMBOLS.findall(text))
    if ":" in text or "<3" in text:
        score += sum(-1.0 if m.group(1) else 1.0 for m in tone._EMOTICONS.finditer(text))
    return max(-2.0, min(2.0, score))


def reference_sentiment_score(folded: str, raw: str, language: str) -> float:
    abuse = tone.INSULT if tone._INSULT.search(folded) else 0.0
    ironic = tone._IRONIC_OPENING.match(folded)
    if ironic:
        rest = reference_plain_score(folded[ironic.end() :], language) + min(
            0.0, reference_emoji_score(raw)
        )
        if rest < 0:
            return rest + tone.IRONY + abuse
    score = reference_plain_score(folded, language) + reference_emoji_score(raw) + abuse
    if ("!" in raw or "??" in raw) and tone._EXCLAMATIONS.search(raw):
        score *= 1.25
    return score


def reference_shouting(text: str) -> bool:
    if sum(map(str.isupper, text)) < 3:
        return False
    if any(w not in tone._ACRONYMS for w in tone._CAPS_WORD.findall(text)):
        return True
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def reference_anger(raw: str, folded: str) -> tuple[str, ...]:
    found = []
    if reference_shouting(raw):
        found.append("capitals")
    if ("!" in raw or "??" in raw) and tone._EXCLAMATIONS.search(raw):
        found.append("exclamations")
    if tone._INSULT.search(folded):
        found.append("insult")
    if tone._THREAT.search(folded):
        found.append("threat")
    if raw and max(raw) >= "\U0001f600" and not tone._ANGRY_EMOJI.isdisjoint(raw):
        found.append("emoji")
    return tuple(found)


def reference_tone(text: str, title: str = "") -> tone.Tone:
    text = (text or "")[: tone.MAX_CHARS]
    title = (title or "")[: tone.MAX_CHARS // 10]
    whole = f"{title}\n{text}" if title else text
    bare = tone._HANDLES.sub(" ", tone._URLS.sub(" ", whole.replace("\u2019", "'")))
    folded = fold(bare)
    language = tone._vote(tone._WORD.findall(folded))
    raw_score = reference_sentiment_score(folded, bare, language)
    return tone.Tone(
        language=language,
        sentiment=tone._label(raw_score),
        register=reference_register(
            text or title, language if language in ("nl", "en", "fr") else None
        ),
        anger=reference_anger(bare, folded),
        score=round(raw_score / (abs(raw_score) + 2.0), 3),
    )


# --- the texts ---------------------------------------------------------------------------------


def demo_texts(n: int) -> list[tuple[str, str]]:
    """What the demo source makes: a Flemish desk's mentions in nl, en and fr, cleaned as intake
    cleans them (e-mails and news with a title)."""
    out = []
    for seed in range(n // 500 + 1):
        rng = random.Random(seed)
        for i in range(500):
            item = compose(rng, NOW, f"k{i}")
            out.append((clean_text(item.text), clean_line(item.title)))
    return out[:n]


def labelled_texts() -> list[tuple[str, str]]:
    out = []
    for name in ("tone_labelled.tsv", "register_labelled.tsv"):
        with (DATA / name).open(encoding="utf-8", newline="") as f:
            out += [(r["text"], "") for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return out


def rule_words() -> tuple[list[str], list[str]]:
    """Single words and literal phrases out of the rule tables, so the fuzz hits every rule."""
    words = {w.rstrip("*") for lexicon in tone._LEXICONS.values() for w in lexicon}
    words |= tone._NEGATORS | tone._INTENSIFIERS | tone._CONTRAST | set(tone._INSULTS)
    words |= tone._ACRONYMS | {w for s in register.STOPWORDS.values() for w in s}
    patterns = [p for p, _ in tone._PHRASES] + [c.pattern for c in register.CUES]
    patterns += [tone._THREAT.pattern, tone._IRONIC_OPENING.pattern]
    phrases = set()
    for pattern in patterns:
        for alternative in re.split(r"[|()?:]+", pattern.replace(r"\s+", " ").replace("\\", "")):
            alternative = alternative.strip()
            if alternative and re.fullmatch(r"[a-z#' .+/-]+", alternative):
                phrases.add(alternative.replace("#", "3"))
    return sorted(words), sorted(phrases)


EMOJI = list("👍🙏❤😊😍👌👏🙂😉✅🎉🤬😡😠🙄😒🤦😤😢😭👎💩🤮🇧🇪⚠★→…")
ODD = [":)", ":-)", ";)", ":D", ":(", ":-(", "<3", "xD", "^^", ":p", ":/", "https://x.be/a:b",
       "www.vlm.be/x", "@vlm_be:", "#mestbank", "2026", "12u30", "€ 1.247,50", "n't", "'k", "'t",
       "Ⓐ", "ß", "café", "ÉÉN", "İ", "ǅ", "²", "½", "x_y", "l'idiot", "2idiot", "aujourd'hui",
       "’s", "\u00a0", "VLM", "MESTBANK", "OCMW"]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", ". ", "! ", "!! ", "?! ", "? ? ? ", "\n", " - ", "'", "’",
              "/", ": ", "; ", "…", " (", ") ", "\t", "-", " #", " @"]  # fmt: skip
OPENINGS = ["@a ", "@vlm @b, ", "Dear ", "Beste ", "Hoi ", "Geachte ", "bonjour ", "Top, ",
            "Great, ", "goed bezig hoor, ", "echt fijn! "]  # fmt: skip


def fuzz_texts(n: int, seed: int = 13) -> list[tuple[str, str]]:
    """Random messages of the rules' own words and phrases, emoji, emoticons, numbers, URLs,
    handles, accents and odd Unicode, in any case, between any punctuation."""
    words, phrases = rule_words()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(OPENINGS)] if rng.random() < 0.2 else []
        for _ in range(rng.randint(0, 30)):
            r = rng.random()
            pool = words if r < 0.5 else phrases if r < 0.7 else ODD if r < 0.85 else EMOJI
            token = rng.choice(pool) if r < 0.92 else str(rng.randint(0, 99999))
            case = rng.random()
            token = token.upper() if case < 0.08 else token.capitalize() if case < 0.2 else token
            parts += [token, rng.choice(SEPARATORS)]
        text = "".join(parts)
        if rng.random() < 0.05:
            text = text.upper()
        title = " ".join(rng.choice(words + phrases) for _ in range(rng.randint(1, 6)))
        out.append((text, title if rng.random() < 0.25 else ""))
    return out


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> list[tuple[str, str]]:
    return labelled_texts() + demo_texts(2000) + fuzz_texts(2500)


def test_the_texts_reach_every_outcome(texts: list[tuple[str, str]]) -> None:
    """The comparison below means something only if the texts fire every kind of rule."""
    tones = [reference_tone(text, title) for text, title in texts[:1500]] + [
        reference_tone(text, title) for text, title in texts[-1500:]
    ]
    assert {t.language for t in tones} == set(tone.LANGUAGES)
    assert {t.sentiment for t in tones} == set(tone.SENTIMENTS)
    assert {t.register for t in tones} == set(register.REGISTERS)
    assert {m for t in tones for m in t.anger} == {
        "capitals",
        "exclamations",
        "insult",
        "threat",
        "emoji",
    }


def test_read_tone_is_the_reference_on_thousands_of_texts(texts: list[tuple[str, str]]) -> None:
    differ = [
        (text, title, got, want)
        for text, title in texts
        if (got := tone.read_tone(text, title)) != (want := reference_tone(text, title))
    ]
    assert not differ[:5], f"{len(differ)} of {len(texts)} differ"


@pytest.mark.parametrize("language", [None, "nl", "en", "fr"])
def test_register_score_is_the_reference_cue_for_cue(
    texts: list[tuple[str, str]], language: str | None
) -> None:
    differ = [
        (text, got, want)
        for text, _ in texts
        if (got := register.register_score(text, language))
        != (want := reference_register_score(text, language))
    ]
    assert not differ[:5], f"{len(differ)} of {len(texts)} differ"


def test_a_cue_matches_only_where_one_of_its_heads_is_a_word(
    texts: list[tuple[str, str]],
) -> None:
    """Where a cue's regex matches, one of its heads is a \\w+ run of the text: the premise of
    skipping it otherwise, checked cue by cue (a hand-written pattern must keep it too)."""
    bodies = [fold(register._HANDLES.sub("", text)).strip() for text, _ in texts]
    runs = [set(register._RUN.findall(body)) for body in bodies]
    for cue, pattern, heads in register._COMPILED:
        assert heads is not None, f"{cue.name}: no heads noted (_needs), searched every time"
        for body, words in zip(bodies, runs):
            if pattern.search(body):
                assert not heads.isdisjoint(words), (cue.name, body)


def test_case_counts_count_as_str_does() -> None:
    for text in ["", "abc", "ABC def", "Élise ÉÉN café 👍 Ⓐ ǅ ß İ ² ½ _", "VLM!!" * 50]:
        letters = [c for c in text if c.isalpha()]
        want = (len(letters), sum(c.isupper() for c in letters), sum(map(str.isupper, text)))
        assert register.case_counts(text) == want, text


def test_the_word_readings_forget_and_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The remembered word readings are bounded; reading a word again gives the same."""
    monkeypatch.setattr(tone, "_READINGS_KEPT", 8)
    monkeypatch.setattr(tone, "_READINGS", {language: {} for language in tone._TABLES})
    for text, title in demo_texts(60):
        assert tone.read_tone(text, title) == reference_tone(text, title)
    assert all(len(r) <= 8 for r in tone._READINGS.values())


# --- read ahead in the parse workers -------------------------------------------------------------


def test_read_ahead_is_what_intake_reads(make_config) -> None:
    """A tone read ahead (by a worker) and intake's own reading make the same mention."""
    intake = Intake(make_config())
    body = (FEEDS / "rss20.xml").read_bytes()
    parsed = _parse_job(body, "application/rss+xml", "https://news.example.org/", True)
    source = RSSSource("feed", "https://news.example.org/rss")
    items = source._items(parsed)
    assert [i.tone for i in items] == [read_ahead(e["text"], e["title"]) for e in parsed["entries"]]
    assert all(i.tone is not None for i in items)
    ahead = intake.admit_all(items, "feed", False, NOW)
    plain = intake.admit_all([replace(i, tone=None) for i in items], "feed", False, NOW)
    assert ahead == plain and len(ahead) == len(items)


def test_a_worker_out_of_time_leaves_the_rest_to_intake(make_config) -> None:
    body = (FEEDS / "rss20.xml").read_bytes()
    parsed = _parse_job(body, "application/rss+xml", "", True, time_limit=0.0)
    assert parsed["entries"] and parsed["tones"] == []
    items = RSSSource("feed", "https://news.example.org/rss")._items(parsed)
    assert all(i.tone is None for i in items)
    intake = Intake(make_config())
    mentions = intake.admit_all(items, "feed", False, NOW)
    assert [m.sentiment for m in mentions] == [
        reference_tone(clean_text(i.text), clean_line(i.title)).sentiment for i in items
    ]


async def test_the_worker_pool_reads_the_tones_ahead() -> None:
    """In the real worker processes: every entry comes back with its tone, as intake reads it."""
    parsed = await parse_in_worker((FEEDS / "atom.xml").read_bytes(), "application/atom+xml")
    assert len(parsed["tones"]) == len(parsed["entries"]) > 0
    assert parsed["tones"] == [read_ahead(e["text"], e["title"]) for e in parsed["entries"]]
