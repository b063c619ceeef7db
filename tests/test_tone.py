"""The tone of a mention: accuracy on a labelled set, and the edge cases."""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from pathlib import Path

import pytest

from webcare.tone import LANGUAGES, MAX_CHARS, SENTIMENTS, Tone, detect_language, read_tone

DATA = Path(__file__).parent / "data" / "tone_labelled.tsv"

# Floors. The set was written by the author of the rules and the rules were tuned on most of
# it, so these hold the rules to what they reach there; they do not predict real mentions.
LANGUAGE_FLOOR = 0.95
SENTIMENT_FLOOR = 0.75  # per language, nl and en
ANGER_FLOOR = 0.90


def labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def per_language(field: str, got) -> tuple[dict[str, float], list[str]]:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for row in labelled():
        value = got(read_tone(row["text"]))
        hits[row["language"]][0] += value == row[field]
        hits[row["language"]][1] += 1
        if value != row[field]:
            misses.append(f"{row['language']} want {row[field]} got {value}: {row['text']}")
    return {lang: ok / n for lang, (ok, n) in sorted(hits.items())}, misses


def test_the_labelled_set_is_well_formed():
    rows = labelled()
    assert len(rows) >= 300
    count = defaultdict(int)
    for r in rows:
        count[r["language"]] += 1
    assert count["nl"] >= 150 and count["en"] >= 120 and count["fr"] and count["de"]
    assert set(count) <= set(LANGUAGES)
    assert {r["sentiment"] for r in rows} == set(SENTIMENTS)
    assert {r["register"] for r in rows} == {"formal", "informal"}
    assert {r["angry"] for r in rows} == {"0", "1"}
    assert all(r["text"].strip() and r["origin"].startswith("written by us") for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)


def test_language_accuracy(capsys):
    rows = labelled()
    right = sum(detect_language(r["text"]) == r["language"] for r in rows)
    with capsys.disabled():
        print(f"\nlanguage accuracy: {right}/{len(rows)}")
    assert right / len(rows) >= LANGUAGE_FLOOR


@pytest.mark.parametrize("language", ["nl", "en"])
def test_sentiment_accuracy_per_language(language, capsys):
    per, misses = per_language("sentiment", lambda t: t.sentiment)
    with capsys.disabled():
        print(f"\nsentiment accuracy {language}: {per[language]:.1%}")
    mine = [m for m in misses if m.startswith(language)]
    assert per[language] >= SENTIMENT_FLOOR, "\n".join(mine)


def test_anger_accuracy():
    per, misses = per_language("angry", lambda t: str(int(t.angry)))
    assert min(per[lang] for lang in ("nl", "en")) >= ANGER_FLOOR, "\n".join(misses)


# --- unit cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, sentiment",
    [
        ("Goed geholpen, dank u!", "positive"),
        ("Niet goed geholpen.", "negative"),
        ("Geen probleem, ik stuur het opnieuw.", "neutral"),
        ("Niet slecht, de app werkt best vlot.", "positive"),
        ("The new form is not good.", "negative"),
        ("Not bad at all, it works quite smoothly.", "positive"),
        ("Wanneer is het loket open?", "neutral"),
        ("When is the office open?", "neutral"),
        ("Alvast bedankt, wanneer is het loket open?", "neutral"),  # courtesy, not praise
        ("Bedankt voor de reactie, maar het werkt nog steeds niet.", "negative"),  # contrast
        ("Goed bezig hoor, weer 3 weken wachten.", "negative"),  # ironic praise
        ("Great, another form that won't load.", "negative"),
        ("Great, it works now!", "positive"),  # an opening compliment that is meant
        ("Ik wacht al drie maanden op een antwoord.", "negative"),  # the waiting idiom
        ("I have not received any confirmation.", "negative"),
        ("schandalig", "negative"),  # a stem: schandalig, schandaal
    ],
)
def test_sentiment_cases(text, sentiment):
    assert read_tone(text).sentiment == sentiment


def test_emoji_carry_sentiment_and_anger():
    assert read_tone("👍").sentiment == "positive"
    assert read_tone("Het loket is dicht 😡").sentiment == "negative"
    assert "emoji" in read_tone("Het loket is dicht 😡").anger
    assert read_tone("merci :-)").sentiment == "positive"


def test_capitals_and_exclamations():
    shouted = read_tone("WEERAL NIEMAND DIE DE TELEFOON OPNEEMT!!!")
    assert shouted.anger == ("capitals", "exclamations") and shouted.angry
    assert "capitals" in read_tone("Ik ben het BEU, drie keer gebeld.").anger
    # acronyms are names, not shouting
    assert "capitals" not in read_tone("Wanneer opent het VLM-loket en geldt de LEZ?").anger
    # joy that shouts is not anger
    assert not read_tone("SUPER BEDANKT!!!").angry


def test_insults_and_threats_are_anger_whatever_the_rest():
    insult = read_tone("Stelletje prutsers.")
    assert "insult" in insult.anger and insult.angry and insult.sentiment == "negative"
    assert read_tone("You are idiots").angry
    threat = read_tone("Als dit niet opgelost is, staat het morgen in de krant.")
    assert "threat" in threat.anger and threat.angry
    assert not read_tone("Bedankt voor de hulp").angry


@pytest.mark.parametrize(
    "text, language",
    [
        ("Wanneer moet de mestbankaangifte binnen zijn?", "nl"),
        ("When is the manure declaration due?", "en"),
        ("Quand est-ce que la déclaration doit être faite ?", "fr"),
        ("Wann muss die Erklärung eingereicht werden?", "de"),
        ("¿Dónde puedo encontrar el formulario?", "other"),
        ("Merci voor de info, het is in orde!", "nl"),
        ("👍", "other"),
        ("", "other"),
    ],
)
def test_language_cases(text, language):
    assert read_tone(text).language == language


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "?", "!!!", "👍", "@VLM_be", "#", "https://x.org/a"]
)
def test_empty_and_tiny_messages_never_fail(text):
    tone = read_tone(text)
    assert tone.language in LANGUAGES and tone.sentiment in SENTIMENTS
    assert tone.register in ("formal", "informal")
    assert -1.0 <= tone.score <= 1.0


def test_empty_text_is_neutral_and_formal():
    assert read_tone("") == Tone("other", "neutral", "formal", (), 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "[bold red]SCHANDE[/bold red] [link=http://x]klik[/link]",
        "\x1b[31mrood\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07",
        "<script>alert(1)</script> &amp; \\n \\x00 \x00 \ufeff\u202e",
        "(((((((((((((((((((((((((((((((((((((((((((((((((((",
        "niet " * 2000 + "goed",
        "a" * 100_000,
        "\ud800 lone surrogate",
    ],
)
def test_markup_escapes_and_odd_input_do_not_crash(text):
    assert isinstance(read_tone(text, title=text), Tone)


def test_megabytes_are_read_quickly():
    huge = "Geachte, ik wacht al drie maanden op een antwoord. " * 40_000  # ~2 MB
    start = time.perf_counter()
    tone = read_tone(huge, title="KLACHT " * 100_000)
    assert time.perf_counter() - start < 0.25
    assert tone.language == "nl" and tone.sentiment == "negative"
    assert MAX_CHARS <= 10_000


def test_a_short_message_is_fast():
    texts = [r["text"] for r in labelled()]
    for t in texts:  # warm the caches, as a running collector has
        read_tone(t)
    start = time.process_time()
    for t in texts:
        read_tone(t)
    per_message = (time.process_time() - start) / len(texts)
    assert per_message < 0.002  # generous: the goal (< 0.2 ms) is measured in the benchmark


def test_results_are_deterministic():
    rows = labelled()[:60]
    first = [read_tone(r["text"]) for r in rows]
    assert first == [read_tone(r["text"]) for r in rows]
    assert all(isinstance(t.anger, tuple) for t in first)


def test_title_counts_for_language_sentiment_and_anger():
    tone = read_tone("zie bijlage", title="KLACHT: onaanvaardbare wachttijd!!!")
    assert tone.sentiment == "negative" and tone.angry


def test_tone_is_frozen():
    tone = read_tone("Bedankt!")
    with pytest.raises(AttributeError):
        tone.sentiment = "negative"  # type: ignore[misc]
