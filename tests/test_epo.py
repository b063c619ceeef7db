"""The reply checklist: every check both ways, in Dutch and in English."""

from __future__ import annotations

import pytest

from webcare.epo import Check, check_reply, personal_data, valid_national_number

GOOD_NL = "Hoi @boer_jan, wat vervelend! We bekijken het meteen, meer info via https://www.vlm.be/mestbank. ^AP"
GOOD_EN = "Hi @boer_jan, sorry to hear that! You can find the form at https://www.vlm.be/en. ^AP"


def checks(draft: str, *, language: str = "nl", leaf: str | None = "L6", public: bool = True,
           author: str = "@boer_jan", initials: str = "AP", **kw) -> dict[str, Check]:
    result = check_reply(draft, author=author, leaf=leaf, public=public,
                         operator_initials=initials, language=language, **kw)
    assert all(isinstance(c, Check) for c in result)
    return {c.id: c for c in result}


def ok(draft: str, check_id: str, **kw) -> bool:
    return checks(draft, **kw)[check_id].ok


@pytest.mark.parametrize("draft,language", [(GOOD_NL, "nl"), (GOOD_EN, "en")])
def test_a_good_reply_passes_every_check(draft, language):
    result = checks(draft, language=language)
    assert list(result) == ["empathic", "personal", "solution", "no_arguing", "signed", "no_personal"]
    assert all(c.ok and c.hint == "" for c in result.values()), result


def test_labels_and_hints_follow_the_language():
    nl = checks("x", language="nl")
    en = checks("x", language="en")
    assert nl["empathic"].label == "Empathisch" and en["empathic"].label == "Empathic"
    assert "begrip" in nl["empathic"].hint and "understanding" in en["empathic"].hint
    assert checks("x", language="fr")["empathic"].label == "Empathic"  # no French labels: English
    assert all(not c.ok and c.hint for c in nl.values() if c.id != "no_arguing" and c.id != "no_personal")


# --- empathic -------------------------------------------------------------------------------

@pytest.mark.parametrize("draft,language,expected", [
    ("We begrijpen dat dit vervelend is, @boer_jan.", "nl", True),
    ("Wat spijtig, @boer_jan.", "nl", True),
    ("Het formulier staat online, @boer_jan.", "nl", False),
    ("We understand this is frustrating, @boer_jan.", "en", True),
    ("So sorry to hear that, @boer_jan.", "en", True),
    ("The form is online, @boer_jan.", "en", False),
])
def test_empathic(draft, language, expected):
    assert ok(draft, "empathic", language=language) is expected


# --- personal -------------------------------------------------------------------------------

@pytest.mark.parametrize("draft,author,language,expected", [
    ("Dag @boer_jan, het staat online.", "@boer_jan", "nl", True),
    ("Dag Jan, het staat online.", "Jan Peeters", "nl", True),  # first name
    ("Het staat online, zie je?", "Jan Peeters", "nl", True),  # je
    ("Kunt u het opnieuw proberen?", "Jan Peeters", "nl", True),  # u
    ("Het staat online.", "Jan Peeters", "nl", False),
    ("Hi Jan, it is online.", "Jan Peeters", "en", True),
    ("Hi @jan@mastodon.social, it is online.", "@jan@mastodon.social", "en", True),
    ("Can you try again?", "Jan Peeters", "en", True),
    ("It is online.", "Jan Peeters", "en", False),
])
def test_personal(draft, author, language, expected):
    assert ok(draft, "personal", author=author, language=language) is expected


def test_a_handle_inside_another_word_is_not_the_author():
    assert not ok("Het staat online bij jansen.", "personal", author="@jan")


# --- thanks / apology, where the leaf calls for it -------------------------------------------

@pytest.mark.parametrize("draft,language,expected", [
    ("Bedankt voor je tip, @boer_jan!", "nl", True),
    ("Hartelijk dank, @boer_jan!", "nl", True),
    ("Je tip is doorgegeven, @boer_jan.", "nl", False),
    ("Thanks for the tip, @boer_jan!", "en", True),
    ("Your tip has been passed on, @boer_jan.", "en", False),
])
def test_thanks_for_a_compliment(draft, language, expected):
    assert checks(draft, leaf="L4", language=language)["thanks"].ok is expected


@pytest.mark.parametrize("leaf", ["L9", "L13"])
@pytest.mark.parametrize("draft,language,expected", [
    ("Onze excuses, @boer_jan.", "nl", True),
    ("We begrijpen je frustratie, @boer_jan.", "nl", True),
    ("Je dossier is in behandeling, @boer_jan.", "nl", False),
    ("We apologise, @boer_jan.", "en", True),
    ("Sorry about that, @boer_jan.", "en", True),
    ("Your file is being processed, @boer_jan.", "en", False),
])
def test_apology_or_empathy_for_complaints_and_criticism(leaf, draft, language, expected):
    assert checks(draft, leaf=leaf, language=language)["apology"].ok is expected


@pytest.mark.parametrize("leaf", ["L1", "L6", "L7", "L8", "L10", None])
def test_other_leaves_ask_neither_thanks_nor_apology(leaf):
    result = checks("We volgen de situatie op.", leaf=leaf)
    assert "thanks" not in result and "apology" not in result


def test_leaf_ids_are_case_insensitive():
    assert "thanks" in checks("x", leaf="l4")


# --- solution-oriented ----------------------------------------------------------------------

@pytest.mark.parametrize("draft,language,expected", [
    ("Het formulier vind je op https://www.vlm.be/formulier", "nl", True),
    ("Kijk eens op vlm.be/mestbank", "nl", True),
    ("U kan dit aanvragen via het e-loket.", "nl", True),
    ("We zoeken het uit en laten je iets weten.", "nl", True),
    ("Neem contact op met de Mestbank.", "nl", True),
    ("Dat is spijtig.", "nl", False),
    ("You can apply online.", "en", True),
    ("We are looking into it and will get back to you.", "en", True),
    ("See www.vlm.be for details.", "en", True),
    ("That is a pity.", "en", False),
])
def test_solution_oriented(draft, language, expected):
    assert ok(draft, "solution", language=language) is expected


# --- no arguing ------------------------------------------------------------------------------

@pytest.mark.parametrize("draft,language,expected", [
    ("Dat klopt niet, de termijn is 15 maart.", "nl", False),
    ("U heeft ongelijk.", "nl", False),
    ("Zoals eerder gezegd staat het op de website.", "nl", False),
    ("De termijn is 15 maart, zie de website.", "nl", True),
    ("You are wrong, the deadline is 15 March.", "en", False),
    ("Actually, the deadline is 15 March.", "en", False),
    ("The deadline is 15 March, see the website.", "en", True),
])
def test_no_arguing(draft, language, expected):
    result = checks(draft, language=language)["no_arguing"]
    assert result.ok is expected
    if not expected:
        assert result.hint.startswith('"')  # names the phrase


# --- signed ----------------------------------------------------------------------------------

@pytest.mark.parametrize("draft,expected", [
    ("Bedankt! ^AP", True),
    ("Bedankt! /AP", True),
    ("Bedankt! - AP", True),
    ("Bedankt! – AP", True),
    ("Bedankt!\nAP", True),
    ("Bedankt! AP", True),
    ("Bedankt! ^ap", True),
    ("Bedankt! ^AP.\n\n", True),
    ("Bedankt!", False),
    ("Bedankt! ^KV", False),
    ("^AP Bedankt!", False),  # at the end
    ("Zie de kaap", False),
])
def test_signed_with_the_operators_initials(draft, expected):
    assert ok(draft, "signed") is expected
    assert ok(draft, "signed", language="en") is expected


def test_the_signed_hint_names_the_initials():
    assert "^AP" in checks("Bedankt!")["signed"].hint
    assert "^KV" in checks("Thanks!", language="en", initials="KV")["signed"].hint


def test_without_configured_initials_any_signature_will_do():
    assert ok("Bedankt! ^KV", "signed", initials="")
    assert not ok("Bedankt!", "signed", initials="")


# --- no personal data in a public reply -------------------------------------------------------

@pytest.mark.parametrize("text,kind", [
    ("Mail jan.peeters@telenet.be", "email"),
    ("Bel 0470 12 34 56", "phone"),
    ("Bel 0470/12.34.56", "phone"),
    ("Bel 0470123456", "phone"),
    ("Call +32 470 12 34 56", "phone"),
    ("Call +32 (0)9 123 45 67", "phone"),
    ("Bel 0032 9 123 45 67", "phone"),
    ("Bel 09 123 45 67", "phone"),
    ("Bel 016 12 34 56", "phone"),
    ("Rijksregisternummer 85.07.30-033.28", "national number"),
    ("RRN 85073003328", "national number"),
    ("RRN 05010112385", "national number"),  # born in 2005: the check uses a leading 2
    ("Rekening BE68 5390 0754 7034", "iban"),
    ("Rekening BE68539007547034", "iban"),
])
def test_personal_data_is_found(text, kind):
    assert personal_data(text) == [kind]


@pytest.mark.parametrize("text", [
    "De termijn is 15.03.2026.",
    "Dossier 2024/1183",
    "Tussen 2024 en 2026 werden 12345 aangiftes ingediend",
    "Zie https://www.vlm.be/nl/themas/0123456789",
    "Ordernummer 12345678901",  # eleven digits that fail the national-number check
    "Bel de Vlaamse Infolijn op 1700",
    "Dag @boer_jan",
])
def test_ordinary_numbers_are_not_personal_data(text):
    assert personal_data(text) == []


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_personal_data_in_public_replies_only(language):
    draft = "Wat vervelend, @boer_jan. Bel ons terug op 0470 12 34 56. ^AP"
    public = checks(draft, language=language)["no_personal"]
    assert not public.ok
    assert ("telefoonnummer" if language == "nl" else "phone number") in public.hint
    assert "no_personal" not in checks(draft, public=False, language=language)
    assert checks(GOOD_NL, language=language)["no_personal"].ok


def test_every_kind_is_named_in_the_hint():
    hint = checks("a@b.be BE68 5390 0754 7034 85.07.30-033.28 0470 12 34 56", language="en")["no_personal"].hint
    for word in ("e-mail address", "phone number", "national register number", "bank account number"):
        assert word in hint


def test_the_organisations_own_address_is_allowed():
    draft = "Wat vervelend! Mail ons gerust op mestbank@vlm.be of kijk op www.vlm.be. ^AP"
    assert not ok(draft, "no_personal")
    assert ok(draft, "no_personal", own_addresses=("vlm.be",))
    assert not ok(draft + " jan@telenet.be", "no_personal", own_addresses=("vlm.be",))


def test_valid_national_number():
    assert valid_national_number("85073003328")
    assert not valid_national_number("85073003329")
    assert not valid_national_number("8507300332")
    assert not valid_national_number("8507300332x")


def test_an_empty_draft_fails_softly():
    result = checks("")
    assert not result["empathic"].ok and not result["signed"].ok and result["no_personal"].ok
