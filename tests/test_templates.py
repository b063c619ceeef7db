"""Reply templates: loading with clear errors, picking with fallbacks, filling placeholders, and
the starter set in config.toml (complete, and every template follows EPO)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webcare.config import load
from webcare.epo import check_reply
from webcare.register import detect_register
from webcare.templates import (
    PLACEHOLDERS,
    Template,
    fill,
    first_name,
    initials_of,
    load_templates,
    pick,
)

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"
REPLYING_LEAVES = ("L1", "L4", "L6", "L7", "L8", "L9", "L10", "L13")
SAMPLE = {
    "author": "@boer_jan",
    "first_name": "Jan",
    "initials": "AP",
    "operator": "An Peeters",
    "desk": "Vlaamse Landmaatschappij",
    "link": "https://www.vlm.be/nl/themas/mestbank/aangifte",
    "channel": "x",
}


def entry(**kw) -> dict:
    return {"category": "L6", "language": "nl", "register": "formal", "text": "Beste {author}", **kw}


# --- loading ---------------------------------------------------------------------------------

def test_load_templates_reads_and_normalises():
    got = load_templates([
        entry(),
        entry(category="l9", language="EN", register="Informal", text="  Sorry {author}!  "),
        entry(category="Other-Authority"),
    ])
    assert got == [
        Template("L6", "nl", "formal", "Beste {author}"),
        Template("L9", "en", "informal", "Sorry {author}!"),
        Template("other-authority", "nl", "formal", "Beste {author}"),
    ]
    assert got[0].is_leaf and not got[2].is_leaf


def test_no_templates_is_fine():
    assert load_templates([]) == []
    assert load_templates(None) == []


@pytest.mark.parametrize("bad,message", [
    (entry(register="formeel"), "[[templates]] #3: register: 'formeel' is not formal or informal"),
    (entry(language="de"), "[[templates]] #3: language: 'de' is not one of nl, en, fr"),
    (entry(category="L15"), "[[templates]] #3: category: 'L15' is not a leaf (L1–L14) or a category"),
    (entry(category="unhappy"), "[[templates]] #3: category: 'unhappy' is not a leaf"),
    (entry(text="   "), "[[templates]] #3: text: must not be empty"),
    (entry(text=3), "[[templates]] #3: text: must be a string, not 3"),
    ({"category": "L6", "language": "nl", "text": "x"}, "[[templates]] #3: register: missing"),
    (entry(tone="warm"), "[[templates]] #3: tone: unknown key"),
    ("L6", "[[templates]] #3: must be a table"),
])
def test_errors_name_the_entry_and_the_key(bad, message):
    with pytest.raises(ValueError) as err:
        load_templates([entry(), entry(), bad])
    assert str(err.value).startswith(message)


def test_templates_must_be_an_array_of_tables():
    with pytest.raises(ValueError, match=r"\[\[templates\]\]"):
        load_templates({"category": "L6"})


# --- picking ---------------------------------------------------------------------------------

T = [
    Template("L9", "nl", "formal", "L9 nl formal"),
    Template("L9", "nl", "informal", "L9 nl informal"),
    Template("L9", "en", "informal", "L9 en informal"),
    Template("L6", "nl", "informal", "L6 nl informal"),
    Template("complaint", "nl", "informal", "complaint nl informal"),
    Template("complaint", "fr", "formal", "complaint fr formal"),
    Template("question", "en", "formal", "question en formal"),
    Template("question", "en", "informal", "question en informal"),
]


def picked(**kw) -> str | None:
    args = {"leaf": None, "category": None, "language": "nl", "register": "formal", **kw}
    t = pick(T, **args)
    return t.text if t else None


def test_pick_exact_leaf_language_and_register():
    assert picked(leaf="L9", register="informal") == "L9 nl informal"
    assert picked(leaf="L9", register="formal") == "L9 nl formal"


def test_pick_the_leaf_in_another_register_before_the_category():
    assert picked(leaf="L6", category="complaint", register="formal") == "L6 nl informal"


def test_pick_the_category_when_the_leaf_has_no_template():
    assert picked(leaf="L8", category="complaint", register="informal") == "complaint nl informal"
    assert picked(leaf="L8", category="complaint", register="formal") == "complaint nl informal"


def test_pick_falls_back_to_english():
    assert picked(leaf="L9", language="de", register="informal") == "L9 en informal"
    assert picked(leaf="L7", category="question", language="nl", register="informal") == "question en informal"
    assert picked(category="question", language="fr", register="formal") == "question en formal"
    assert picked(category="complaint", language="fr", register="informal") == "complaint fr formal"


def test_pick_any_register_prefers_formal():
    assert picked(category="question", language="en", register="") == "question en formal"
    assert picked(category="question", language="en", register=None) == "question en formal"


def test_pick_without_language_uses_english():
    assert picked(leaf="L9", language=None, register="informal") == "L9 en informal"


def test_pick_nothing():
    assert picked(leaf="L2", category="press") is None
    assert picked() is None
    assert pick([], leaf="L9", category=None, language="nl", register="formal") is None


def test_pick_accepts_lower_case_leaf_ids():
    assert picked(leaf="l9") == "L9 nl formal"


# --- filling ---------------------------------------------------------------------------------

def test_fill_every_placeholder():
    text = " ".join("{" + p + "}" for p in PLACEHOLDERS)
    assert fill(text, SAMPLE) == " ".join(SAMPLE[p] for p in PLACEHOLDERS)


def test_fill_leaves_unknown_and_missing_placeholders_visible():
    assert fill("Beste {author}, zie {link} {dossier}", {"author": "Jan"}) == "Beste Jan, zie {link} {dossier}"
    assert fill("zie {link}", {"link": ""}) == "zie {link}"
    assert fill("zie {link}", {"link": None}) == "zie {link}"


@pytest.mark.parametrize("text", ["{", "}", "{}", "{{author}}", "{ author }", "{author", "a {0} b", "{Author}", "{!r}"])
def test_fill_never_raises_on_stray_braces(text):
    out = fill(text, {"author": "Jan"})
    assert isinstance(out, str)
    assert out == text.replace("{author}", "Jan")


def test_fill_does_not_expand_placeholders_inside_values():
    assert fill("Beste {author}, {link}", {"author": "{link}", "link": "https://x"}) == "Beste {link}, https://x"


def test_fill_keeps_markup_like_text_literally():
    assert fill("Beste {author}", {"author": "[bold]Jan[/] [@click=app.quit]"}) == "Beste [bold]Jan[/] [@click=app.quit]"


def test_fill_converts_values_to_text():
    assert fill("{author}", {"author": 42}) == "42"


@pytest.mark.parametrize("name,expected", [
    ("An Peeters", "AP"), ("an de smet", "ADS"), ("an.peeters", "AP"), ("apeeters", "AP"), ("", ""),
])
def test_initials_of(name, expected):
    assert initials_of(name) == expected


@pytest.mark.parametrize("name,expected", [("Jan Peeters", "Jan"), ("Jan", "Jan"), ("@boer_jan", ""), ("", "")])
def test_first_name(name, expected):
    assert first_name(name) == expected


# --- the starter set in config.toml -----------------------------------------------------------

@pytest.fixture(scope="module")
def starter() -> list[Template]:
    return load_templates(load(CONFIG).raw.get("templates", []))


def test_the_starter_set_covers_every_replying_leaf_in_both_languages_and_registers(starter):
    keys = [(t.category, t.language, t.register) for t in starter]
    assert len(keys) == len(set(keys)) == 32
    assert set(keys) == {(leaf, lang, reg) for leaf in REPLYING_LEAVES for lang in ("nl", "en") for reg in ("formal", "informal")}


def test_every_starter_template_passes_the_checklist_for_its_leaf(starter):
    failures = []
    for t in starter:
        draft = fill(t.text, SAMPLE)
        for check in check_reply(draft, author=SAMPLE["author"], leaf=t.category, public=True,
                                 operator_initials=SAMPLE["initials"], language=t.language):
            if not check.ok:
                failures.append(f"{t.category} {t.language} {t.register}: {check.id}: {draft}")
    assert not failures, "\n".join(failures)


def test_every_starter_template_is_in_its_register(starter):
    wrong = [t for t in starter if detect_register(fill(t.text, SAMPLE), t.language) != t.register]
    assert not wrong, wrong
    for t in starter:
        words = set(re.findall(r"\w+", t.text.lower()))
        if t.language == "nl" and t.register == "formal":
            assert words & {"u", "uw"} and not words & {"je", "jij", "jou"}, t.text
        if t.language == "nl" and t.register == "informal":
            assert words & {"je", "jij", "jou"} and not words & {"u", "uw"}, t.text


def test_every_starter_template_is_signed_short_and_uses_known_placeholders(starter):
    for t in starter:
        assert t.text.rstrip().endswith("{initials}"), t.text
        assert set(re.findall(r"\{(\w+)\}", t.text)) <= set(PLACEHOLDERS), t.text
        filled = fill(t.text, SAMPLE)
        assert "{" not in filled, filled
        tweet = re.sub(r"https?://\S+", "x" * 23, filled)  # X counts every link as 23 characters
        assert len(tweet) <= 280, (len(tweet), filled)
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", filled.replace("^AP", ""))) <= 3, filled


def test_starter_templates_are_picked_for_a_mention(starter):
    t = pick(starter, leaf="L9", category="complaint", language="nl", register="informal")
    assert t is not None and t.category == "L9" and t.register == "informal"
    t = pick(starter, leaf="L9", category="complaint", language="fr", register="formal")
    assert t is not None and t.language == "en"
