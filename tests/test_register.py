"""The sender's register and language: accuracy on a labelled set, and the edge cases."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from webcare.register import (
    CUES,
    INFORMAL_AT,
    detect_language,
    detect_register,
    register_score,
)

DATA = Path(__file__).parent / "data" / "register_labelled.tsv"
FLOOR = 0.85  # overall accuracy the detector must keep


def labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def accuracy(language_given: bool) -> tuple[dict[str, float], float, list[str]]:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for row in labelled():
        got = detect_register(row["text"], row["language"] if language_given else None)
        hits[row["language"]][0] += got == row["register"]
        hits[row["language"]][1] += 1
        if got != row["register"]:
            misses.append(f"{row['language']} {row['register']}: {row['text']}")
    per = {lang: ok / n for lang, (ok, n) in sorted(hits.items())}
    overall = sum(ok for ok, _ in hits.values()) / sum(n for _, n in hits.values())
    return per, overall, misses


def report(per: dict[str, float], overall: float, how: str) -> str:
    parts = ", ".join(f"{lang} {acc:.1%}" for lang, acc in per.items())
    return f"register accuracy ({how}): {parts}; overall {overall:.1%} on {len(labelled())} messages"


def test_the_labelled_set_is_well_formed():
    rows = labelled()
    assert len(rows) >= 80
    assert {r["language"] for r in rows} == {"nl", "en", "fr"}
    assert {r["register"] for r in rows} == {"formal", "informal"}
    assert all(r["text"].strip() and r["origin"] == "written for webcare tests" for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)


@pytest.mark.parametrize("language_given", [True, False], ids=["language given", "language detected"])
def test_register_accuracy_on_the_labelled_set(language_given, record_property, capsys):
    per, overall, misses = accuracy(language_given)
    line = report(per, overall, "language given" if language_given else "language detected")
    record_property("register_accuracy", line)
    with capsys.disabled():  # shown with or without -s
        print(f"\n{line}")
    assert overall >= FLOOR, line + "\nmissed:\n" + "\n".join(misses)


def test_language_detection_on_the_labelled_set():
    rows = labelled()
    right = sum(detect_language(r["text"]) == r["language"] for r in rows)
    assert right / len(rows) >= 0.9, f"language detection {right}/{len(rows)}"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?", "👍", "😂😂😂", "@VLM_be"])
def test_empty_and_tiny_messages_never_fail(text):
    assert detect_register(text) in ("formal", "informal")
    assert detect_language(text) in (None, "nl", "en", "fr")


def test_empty_and_cueless_short_messages_default_to_formal():
    assert detect_register("") == "formal"
    assert detect_register("Wanneer is de mestbank open?") == "formal"
    assert detect_register("Opening hours?") == "formal"
    assert detect_register("@VLM_be") == "formal"


def test_only_emoji_is_informal():
    assert detect_register("😂😂😂") == "informal"
    assert detect_register("👍") == "informal"
    assert detect_register(":-)") == "informal"


def test_dutch_pronouns_decide():
    assert detect_register("Kunt u mij zeggen wanneer de aangifte binnen moet?", "nl") == "formal"
    assert detect_register("Kun je mij zeggen wanneer de aangifte binnen moet?", "nl") == "informal"
    assert detect_register("Weet gij wanneer da moet?", "nl") == "informal"


def test_english_u_is_informal_but_dutch_u_is_formal():
    assert detect_register("can u send me the form", "en") == "informal"
    assert detect_register("Kan u mij het formulier sturen?", "nl") == "formal"


def test_greetings_and_closings():
    assert detect_register("Geachte, wanneer gebeurt de uitbetaling?", "nl") == "formal"
    assert detect_register("Hoi, wanneer gebeurt de uitbetaling?", "nl") == "informal"
    assert detect_register("Wanneer gebeurt de uitbetaling? Groetjes, Lien", "nl") == "informal"
    assert detect_register("Wanneer gebeurt de uitbetaling? Met vriendelijke groeten, Lien", "nl") == "formal"
    assert detect_register("When is the payment due? Kind regards, Tom", "en") == "formal"
    assert detect_register("Dear Sir/Madam, when is the payment due?", "en") == "formal"
    assert detect_register("hey when is the payment due", "en") == "informal"


def test_beste_only_counts_as_an_opening():
    score_open, why_open = register_score("Beste, hoe vraag ik dit aan?", "nl")
    score_mid, why_mid = register_score("Wat is de beste manier om dit aan te vragen?", "nl")
    assert "Beste (opening)" in why_open and "Beste (opening)" not in why_mid


def test_style_cues_lowercase_exclamations_and_emoji():
    assert detect_register("wanneer gaat het loket van de mestbank eindelijk open", "nl") == "formal"  # lowercase alone is not enough
    assert detect_register("wanneer gaat het loket van de mestbank eindelijk open!!", "nl") == "informal"
    assert detect_register("Wanneer gaat het loket open? 😤", "nl") == "informal"


def test_mixed_cues_add_up():
    # a formal frame with a smiley: the frame wins
    assert detect_register("Geachte, bedankt voor de hulp 🙂 Met vriendelijke groeten, Jan", "nl") == "formal"
    # u and je in one message cancel out: the safe default
    assert detect_register("Kan u mij helpen? Je website werkt niet.", "nl") == "formal"
    # a Dutch message with an English aside
    assert detect_register("Hoi, thx voor de info, top!", "nl") == "informal"


def test_leading_handles_do_not_hide_the_opening():
    assert detect_register("@VLM_be @mestbank Hoi, is het loket open?", "nl") == "informal"
    assert detect_register("@VLM_be Geachte, is het loket open?", "nl") == "formal"


def test_unknown_language_skips_pronouns_that_differ_between_languages():
    # "u" is formal in Dutch and informal in English: without a language it decides nothing
    score, why = register_score("u", None)
    assert "u/uw" not in why and "u (you)" not in why


def test_language_codes_are_normalised():
    assert detect_register("Kan u mij helpen?", "NL-be") == "formal"
    assert detect_register("Kan u mij helpen?", "de") == detect_register("Kan u mij helpen?")


def test_detect_language():
    assert detect_language("Wanneer moet de mestbankaangifte binnen zijn?") == "nl"
    assert detect_language("When is the manure declaration due?") == "en"
    assert detect_language("Quand est-ce que la déclaration doit être faite ?") == "fr"
    assert detect_language("Merci voor de info!") == "nl"  # Flemish "merci"
    assert detect_language("") is None
    assert detect_language("👍👍") is None
    assert detect_language("https://example.org/x") is None


def test_the_threshold_and_cues_are_documented_data():
    assert INFORMAL_AT > 0
    assert all(c.language in ("nl", "en", "fr", "*") and c.weight != 0 for c in CUES)
    assert len({(c.language, c.name) for c in CUES}) == len(CUES)
