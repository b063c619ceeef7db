"""The expert directory: reading it, ranking experts for a mention, who can be reached when
(in Europe/Brussels, across weekends and daylight-saving changes), roles, deputies, and the
hand-off message."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import write_config
from webcare.config import ConfigError, load
from webcare.mention import Mention
from webcare.routing import (
    Directory,
    feedback_message,
    handoff_message,
    load_directory,
    mention_id_in,
    routed_due,
    subject_tag,
)

ROOT = Path(__file__).resolve().parent.parent
BRUSSELS = ZoneInfo("Europe/Brussels")

DIRECTORY = """
[[experts]]
name = "An Peeters"
unit = "Mestbank"
topics = ["mest", "mestbank", "bemesting", "maïs"]
email = "an.peeters@example.org"
phone = "+32 2 000 00 01"
hours = "mon-fri 08:00-17:00"
languages = ["nl", "en"]
deputy = "Bart Claes"

[[experts]]
name = "Bart Claes"
unit = "Mestbank"
topics = ["mest", "mestbank"]
email = "bart.claes@example.org"
hours = "mon-fri 12:00-20:00"
deputy = "An Peeters"
answer_within = "4h"

[[experts]]
name = "Chris Maes"
unit = "Water"
topics = ["water", "overstroming"]
email = "chris.maes@example.org"
hours = "mon-fri 08:00-16:00"
languages = ["nl", "fr"]

[[experts]]
name = "Gert Wouters"
unit = "Water"
topics = ["water", "overstroming"]
email = "gert.wouters@example.org"
hours = "mon-fri 08:00-16:00"
languages = ["nl", "en"]

[[experts]]
name = "Hilde Vermeulen"
unit = "Communicatie"
email = "hilde.vermeulen@example.org"
hours = "mon-fri 08:00-18:00"
roles = ["spokesperson"]

[[experts]]
name = "Ivo Jacobs"
unit = "Crisiscel"
email = "ivo.jacobs@example.org"
hours = "mon-fri 08:00-17:00"
roles = ["crisis"]

[[units]]
name = "Klantendienst Mestbank"
email = "mestbank@example.org"
topics = ["mestbank", "factuur"]

[[units]]
name = "Klachtendienst"
email = "klachten@example.org"
topics = ["klacht", "wachttijd"]

[[oncall]]
expert = "Bart Claes"
hours = "sat-sun 00:00-24:00"

[[oncall]]
expert = "Chris Maes"
from = "2026-12-24 17:00"
until = "2026-12-27 08:00"
"""


def local(*args: int) -> datetime:
    """A wall time in Brussels, as the aware datetime the desk passes around (in UTC)."""
    return datetime(*args, tzinfo=BRUSSELS).astimezone(UTC)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(tomllib.loads(DIRECTORY))


def names(ranked) -> list[str]:
    return [r.expert.name for r in ranked]


MONDAY_10 = local(2026, 11, 23, 10, 0)
SATURDAY_EVENING = local(2026, 11, 28, 20, 0)


# --- ranking --------------------------------------------------------------------------------


def test_the_expert_with_most_matching_topics_comes_first(directory):
    text = "Mag ik nog drijfmest uitrijden? De bemestingsnorm voor mais is me niet duidelijk."
    ranked = directory.rank(text, (), "nl", now=MONDAY_10, tz=BRUSSELS)
    assert names(ranked)[:2] == ["An Peeters", "Bart Claes"]
    an, bart = ranked[0], ranked[1]
    # 'drijfmest' ends in mest, 'bemestingsnorm' starts with bemesting, 'mais' is 'maïs'
    assert an.matched == ("mest", "bemesting", "maïs") and an.score == 3
    assert bart.matched == ("mest",) and bart.score == 1
    assert all(r.score == 0 for r in ranked[2:])  # everyone is listed; the rest has no match


def test_topics_match_case_and_accent_insensitively_and_in_keywords(directory):
    ranked = directory.rank("OVERSTROMING in de polder", (), "nl", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert set(names(ranked)) == {"Chris Maes", "Gert Wouters"}
    # the text names no topic, but the mention matched the watch keyword 'Mestbank'
    ranked = directory.rank("Waar is het loket?", ("Mestbank",), "nl", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["An Peeters", "Bart Claes"]
    assert ranked[0].matched == ("mest", "mestbank")


def test_a_short_topic_is_no_match_in_the_middle_of_a_word(directory):
    # a topic matches at the start or the end of a compound, not in its middle
    ranked = directory.rank("de gemesttekst", (), "nl", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert ranked == []


def test_on_equal_topics_the_expert_reachable_now_comes_first(directory):
    text = "Vraag over de mestbank"
    # Monday 10:00: An (08-17) is in, Bart (12-20) is not yet
    ranked = directory.rank(text, (), "nl", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["An Peeters", "Bart Claes"]
    assert ranked[0].available_now and not ranked[1].available_now
    # Monday 18:00: An has gone home, Bart is in until 20:00
    ranked = directory.rank(text, (), "nl", now=local(2026, 11, 23, 18, 0), tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["Bart Claes", "An Peeters"]
    # Saturday evening: nobody is in, Bart is on call
    ranked = directory.rank(text, (), "nl", now=SATURDAY_EVENING, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["Bart Claes", "An Peeters"]
    assert ranked[0].on_call


def test_on_equal_topics_and_availability_the_sender_s_language_decides(directory):
    ranked = directory.rank("inondation à Grammont", ("overstroming",), "fr", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["Chris Maes", "Gert Wouters"]
    assert ranked[0].language_match and not ranked[1].language_match
    ranked = directory.rank("flooding near the river", ("overstroming",), "en", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["Gert Wouters", "Chris Maes"]


def test_rank_mention_detects_the_language_and_uses_title_and_keywords(directory):
    m = Mention(id="m1", source="demo", channel="email", author="jean@example.org",
                title="Demande d'information", text="Bonjour, le niveau de l'eau monte. Est-ce que c'est une inondation ? Merci",
                keywords=("overstroming",), first_seen_at=MONDAY_10)
    ranked = directory.rank_mention(m, now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    assert names(ranked) == ["Chris Maes", "Gert Wouters"]


# --- availability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when,expert,nl,en",
    [
        (MONDAY_10, "An Peeters", "bereikbaar tot 17:00", "reachable until 17:00"),
        (MONDAY_10, "Bart Claes", "vandaag vanaf 12:00", "today from 12:00"),
        (local(2026, 11, 23, 18, 0), "An Peeters", "morgen vanaf 08:00", "tomorrow from 08:00"),
        (local(2026, 11, 23, 18, 0), "Bart Claes", "bereikbaar tot 20:00", "reachable until 20:00"),
        (local(2026, 11, 27, 18, 0), "An Peeters", "maandag vanaf 08:00", "Monday from 08:00"),
        # Friday 21:00: Bart's next chance is his weekend on-call shift, from midnight
        (local(2026, 11, 27, 21, 0), "Bart Claes", "van wacht morgen vanaf 00:00", "on call tomorrow from 00:00"),
        (SATURDAY_EVENING, "Bart Claes", "van wacht tot morgen 24:00", "on call until tomorrow 24:00"),
        (local(2026, 11, 29, 20, 0), "Bart Claes", "van wacht tot 24:00", "on call until 24:00"),
        (SATURDAY_EVENING, "An Peeters", "maandag vanaf 08:00", "Monday from 08:00"),
        (local(2026, 11, 23, 7, 59), "An Peeters", "vandaag vanaf 08:00", "today from 08:00"),
        (local(2026, 11, 23, 17, 0), "An Peeters", "morgen vanaf 08:00", "tomorrow from 08:00"),
        # a one-off shift over Christmas, and the days after it
        (local(2026, 12, 26, 11, 0), "Chris Maes", "van wacht tot morgen 08:00", "on call until tomorrow 08:00"),
        (local(2026, 12, 27, 9, 0), "Chris Maes", "morgen vanaf 08:00", "tomorrow from 08:00"),
        (local(2026, 12, 19, 10, 0), "Chris Maes", "maandag vanaf 08:00", "Monday from 08:00"),
    ],
)
def test_availability_by_hour_and_weekday(directory, when, expert, nl, en):
    e = directory.expert(expert)
    assert directory.availability(e, when, BRUSSELS, "nl") == nl
    assert directory.availability(e, when, BRUSSELS, "en") == en


def test_ranked_availability_is_worked_out_for_the_moment_asked(directory):
    ranked = directory.rank("mestbank", (), "nl", now=MONDAY_10, tz=BRUSSELS, only_matching=True)
    an = ranked[0]
    assert an.availability(MONDAY_10, BRUSSELS, "nl") == "bereikbaar tot 17:00"
    assert an.availability(MONDAY_10 + timedelta(hours=8), BRUSSELS, "nl") == "morgen vanaf 08:00"


def test_availability_across_the_autumn_dst_weekend(directory):
    # 25 October 2026: clocks go back from 03:00 CEST to 02:00 CET; Sunday has 25 hours.
    an, bart = directory.expert("An Peeters"), directory.expert("Bart Claes")
    saturday = local(2026, 10, 24, 20, 0)
    assert saturday == datetime(2026, 10, 24, 18, 0, tzinfo=UTC)  # CEST, UTC+2
    reach = directory.reach(an, saturday, BRUSSELS)
    assert reach.kind == "later"
    assert reach.since == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # Monday 08:00 CET, UTC+1
    assert directory.availability(an, saturday, BRUSSELS, "nl") == "maandag vanaf 08:00"
    # Bart's weekend shift ends at midnight Sunday, wall time: 23:00 UTC, 49 real hours after it began
    reach = directory.reach(bart, saturday, BRUSSELS)
    assert reach.kind == "oncall" and reach.until == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert directory.reach(bart, datetime(2026, 10, 25, 22, 59, tzinfo=UTC), BRUSSELS).kind == "oncall"
    after = datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert directory.reach(bart, after, BRUSSELS).kind == "later"
    assert directory.availability(bart, after, BRUSSELS, "nl") == "vandaag vanaf 12:00"
    # the hour that happens twice (02:00-03:00) is still on call
    assert directory.reach(bart, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), BRUSSELS).kind == "oncall"
    assert directory.reach(bart, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), BRUSSELS).kind == "oncall"


def test_availability_across_the_spring_dst_weekend(directory):
    # 29 March 2026: clocks go forward from 02:00 CET to 03:00 CEST.
    an = directory.expert("An Peeters")
    friday = local(2026, 3, 27, 18, 0)
    reach = directory.reach(an, friday, BRUSSELS)
    assert reach.since == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # Monday 08:00 CEST, UTC+2
    assert directory.availability(an, friday, BRUSSELS, "en") == "Monday from 08:00"
    monday = local(2026, 3, 30, 10, 0)
    assert directory.reach(an, monday, BRUSSELS).until == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)


def test_always_reachable_and_never_reachable():
    d = load_directory(tomllib.loads("""
[[experts]]
name = "Nacht"
email = "nacht@example.org"
hours = "24/7"
"""))
    e = d.expert("nacht")
    assert d.availability(e, SATURDAY_EVENING, BRUSSELS, "nl") == "altijd bereikbaar"
    assert d.reach(e, SATURDAY_EVENING, BRUSSELS).kind == "now"


def test_on_call_now_lists_who_is_on_call(directory):
    assert [e.name for e in directory.on_call(SATURDAY_EVENING, BRUSSELS)] == ["Bart Claes"]
    assert directory.on_call(MONDAY_10, BRUSSELS) == []


# --- roles, deputies, due ----------------------------------------------------------------------


def test_role_lookup_in_office_hours(directory):
    spokesperson = directory.for_role("spokesperson", MONDAY_10, BRUSSELS)
    crisis = directory.for_role("crisis", MONDAY_10, BRUSSELS)
    assert spokesperson.expert.name == "Hilde Vermeulen" and spokesperson.available_now
    assert crisis.expert.name == "Ivo Jacobs"
    assert crisis.availability(MONDAY_10, BRUSSELS, "nl") == "bereikbaar tot 17:00"


def test_out_of_hours_the_crisis_goes_to_whoever_is_on_call(directory):
    contacts = directory.contacts("crisis", SATURDAY_EVENING, BRUSSELS)
    assert names(contacts) == ["Bart Claes", "Ivo Jacobs"]
    assert directory.for_role("crisis", SATURDAY_EVENING, BRUSSELS).on_call
    # the spokesperson is not replaced: press can wait, it is shown when she is back
    spokesperson = directory.for_role("spokesperson", SATURDAY_EVENING, BRUSSELS)
    assert spokesperson.expert.name == "Hilde Vermeulen"
    assert spokesperson.availability(SATURDAY_EVENING, BRUSSELS, "nl") == "maandag vanaf 08:00"


def test_a_crisis_contact_on_call_is_preferred_over_a_stand_in():
    raw = tomllib.loads(DIRECTORY + """
[[oncall]]
expert = "Ivo Jacobs"
hours = "sat 18:00-23:00"
""")
    d = load_directory(raw)
    assert names(d.contacts("crisis", SATURDAY_EVENING, BRUSSELS)) == ["Ivo Jacobs"]
    with pytest.raises(ValueError, match="not a role"):
        d.for_role("mayor", SATURDAY_EVENING, BRUSSELS)
    assert load_directory({}).for_role("crisis", SATURDAY_EVENING, BRUSSELS) is None


def test_deputy_and_routed_due(directory):
    an, bart, chris = (directory.expert(n) for n in ("An Peeters", "Bart Claes", "Chris Maes"))
    assert directory.deputy_of(an) is bart
    assert directory.deputy_of("Bart Claes") is an
    assert directory.deputy_of(chris) is None
    assert routed_due(an, MONDAY_10) == MONDAY_10 + timedelta(days=1)  # the default: 1d
    assert routed_due(bart, MONDAY_10) == MONDAY_10 + timedelta(hours=4)
    assert routed_due(directory.unit("klantendienst mestbank"), MONDAY_10) is None  # feedback: no answer owed


def test_units_are_ranked_for_feedback(directory):
    ranked = directory.rank_units("Foute factuur van de mestbank!")
    assert ranked[0].unit.name == "Klantendienst Mestbank" and ranked[0].matched == ("mestbank", "factuur")
    assert ranked[1].score == 0


# --- bad entries ----------------------------------------------------------------------------

GOOD = 'name = "Bart Claes"\nemail = "bart@example.org"\n'


@pytest.mark.parametrize(
    "toml,expected",
    [
        ('[[experts]]\n' + GOOD + '[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nhours = "weekdays"\n',
         "[[experts]] #2 ('An Peeters'): hours: 'weekdays' is not like 'mon-fri 08:00-17:00'"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\ndeputy = "Nobody"\n',
         "[[experts]] #1 ('An Peeters'): deputy: 'Nobody' is not an expert in [[experts]]"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\ndeputy = "An Peeters"\n',
         "[[experts]] #1 ('An Peeters'): deputy: an expert cannot be their own deputy"),
        ('[[experts]]\n' + GOOD + '[[experts]]\nname = "bart  claes"\nemail = "b2@example.org"\n',
         "[[experts]] #2 ('bart claes'): name: 'bart claes' is already expert #1"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an.peeters(at)example.org"\n',
         "[[experts]] #1 ('An Peeters'): email: 'an.peeters(at)example.org' is not an e-mail address"),
        ('[[experts]]\nname = "An Peeters"\n', "[[experts]] #1 ('An Peeters'): email: missing"),
        ('[[experts]]\nemail = "an@example.org"\n', "[[experts]] #1: name: missing"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\ntopic = ["mest"]\n',
         "[[experts]] #1 ('An Peeters'): topic: unknown key"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\ntopics = "mest"\n',
         "[[experts]] #1 ('An Peeters'): topics: must be a list of non-empty strings"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nroles = ["mayor"]\n',
         "[[experts]] #1 ('An Peeters'): roles: 'mayor' is not one of spokesperson, crisis"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nlanguages = ["dutch"]\n',
         "[[experts]] #1 ('An Peeters'): languages: 'dutch' is not a two-letter language code"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nanswer_within = "soon"\n',
         "[[experts]] #1 ('An Peeters'): answer_within: 'soon' is not a duration"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nanswer_within = "none"\n',
         "[[experts]] #1 ('An Peeters'): answer_within: an expert needs an answer norm"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nphone = "call me"\n',
         "[[experts]] #1 ('An Peeters'): phone: 'call me' is not a phone number"),
        ('[[experts]]\n' + GOOD + '[[oncall]]\nexpert = "Nobody"\nhours = "sat-sun 00:00-24:00"\n',
         "[[oncall]] #1 ('Nobody'): expert: 'Nobody' is not an expert in [[experts]]"),
        ('[[experts]]\n' + GOOD + '[[oncall]]\nexpert = "Bart Claes"\nhours = "weekend"\n',
         "[[oncall]] #1 ('Bart Claes'): hours: 'weekend' is not like"),
        ('[[experts]]\n' + GOOD + '[[oncall]]\nexpert = "Bart Claes"\nfrom = "24/12 17:00"\nuntil = "2026-12-27 08:00"\n',
         "[[oncall]] #1 ('Bart Claes'): from: '24/12 17:00' is not a time like '2026-12-24 17:00'"),
        ('[[experts]]\n' + GOOD + '[[oncall]]\nexpert = "Bart Claes"\nfrom = "2026-12-27 17:00"\nuntil = "2026-12-24 08:00"\n',
         "[[oncall]] #1 ('Bart Claes'): until: the shift ends before it starts"),
        ('[[experts]]\n' + GOOD + '[[oncall]]\nexpert = "Bart Claes"\n',
         "[[oncall]] #1 ('Bart Claes'): hours: missing"),
        ('[[units]]\nname = "Klachten"\nemail = "klachten@example"\n',
         "[[units]] #1 ('Klachten'): email: 'klachten@example' is not an e-mail address"),
        ('[[units]]\nname = "K"\nemail = "k@example.org"\n[[units]]\nname = "K"\nemail = "k2@example.org"\n',
         "[[units]] #2 ('K'): name: 'K' is used twice"),
        ('experts = "An"\n', "experts: write each entry as a [[experts]] table"),
    ],
)
def test_a_bad_entry_is_rejected_and_named(toml, expected):
    with pytest.raises(ValueError) as caught:
        load_directory(tomllib.loads(toml))
    assert expected in str(caught.value)


def test_the_config_loader_rejects_a_bad_directory(tmp_path):
    path = write_config(tmp_path, '[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nhours = "weekdays"\n')
    with pytest.raises(ConfigError, match=r"\[\[experts\]\] #1 \('An Peeters'\): hours"):
        load(path)


@pytest.mark.parametrize(
    "extra,expected",
    [
        ('[[experts]]\nname = "A"\nemail = "a@example.org"\n[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\nhours = "weekdays"\n',
         "[[experts]] #2 ('An Peeters'): hours: 'weekdays' is not like 'mon-fri 08:00-17:00'"),
        ('[[experts]]\nname = "An Peeters"\nemail = "an@example.org"\ndeputy = "Bart"\n', "deputy: 'Bart' is not an expert"),
        ('[[experts]]\nname = "An Peeters"\nemail = "not-an-address"\n', "email: 'not-an-address' is not an e-mail address"),
    ],
)
def test_webcare_check_names_the_bad_directory_entry(tmp_path, extra, expected):
    path = write_config(tmp_path, extra)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "webcare.cli", "check", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_the_bundled_directory_fits_the_demo_stream():
    config = load(ROOT / "config.toml")
    d = load_directory(config.raw)
    assert len(d.experts) >= 6 and len(d.units) == 2 and d.oncall
    assert {e.unit for e in d.experts} >= {"Mestbank", "Water", "Natuur", "Landinrichting", "Subsidies", "Juridische dienst"}
    assert all(d.deputy_of(e) for e in d.experts if e.deputy)
    assert all(e.email.endswith("@example.org") for e in d.experts)
    for text, unit in [
        ("Vanaf wanneer mag ik terug drijfmest uitrijden op grasland?", "Mestbank"),
        ("Nieuwe overstromingszone langs de Dijle klaar", "Water"),
        ("Kan de VLM bevestigen of de ruilverkaveling in het Hageland nog doorgaat?", "Landinrichting"),
        ("Kan ik subsidie krijgen voor een poel in mijn weide?", "Subsidies"),
    ]:
        ranked = d.rank(text, (), "nl", now=MONDAY_10, tz=config.timezone, only_matching=True)
        assert ranked and unit in {r.expert.unit for r in ranked}, text
    # The bundled config names them in [[roles]] (webcare/roles.py).
    saturday = config.roles.holder("crisis-contact", d, SATURDAY_EVENING, config.timezone)
    assert saturday is not None and saturday.reach.kind in ("now", "oncall")
    assert config.roles.holder("spokesperson", d, MONDAY_10, config.timezone) is not None


# --- the hand-off message -------------------------------------------------------------------


HOSTILE = "[@click=app.quit]x[/] Wanneer moet de mestbankaangifte binnen? [b]dringend[/b]"


def mention(**kw) -> Mention:
    base = dict(
        id="a1b2c3d4e5", source="demo", channel="x", author="@boer_jan", author_name="Jan Boer",
        text=HOSTILE, url="https://example.org/status/1",
        first_seen_at=MONDAY_10, published_at=MONDAY_10 - timedelta(minutes=10),
        deadline=MONDAY_10 + timedelta(hours=1, minutes=50), norm_s=7200,
    )
    base.update(kw)
    return Mention(**base)


def test_the_handoff_message_carries_the_mention_and_how_to_answer(directory):
    an = directory.expert("An Peeters")
    h = handoff_message(mention(), an, now=MONDAY_10, tz=BRUSSELS, desk="VLM", note="Staat dit al op de site?",
                        deputy=directory.deputy_of(an), operator="Pieter")
    assert h.to == "an.peeters@example.org" and h.to_name == "An Peeters" and h.kind == "question"
    assert h.subject.startswith("[webcare m:a1b2c3d4e5] Vraag voor Mestbank: [@click=app.quit]x[/]")
    assert mention_id_in("Re: " + h.subject) == "a1b2c3d4e5"
    for part in (HOSTILE, "Jan Boer (@boer_jan)", "x", "https://example.org/status/1",
                 "nog 1 u 50 min", "Staat dit al op de site?", "(Pieter)", "beantwoord deze e-mail",
                 "Graag je antwoord voor di 24-11 10:00", "Bart Claes", "Dag An,"):
        assert part in h.body, part


def test_the_handoff_message_in_english_and_without_a_norm(directory):
    gert = directory.expert("Gert Wouters")
    h = handoff_message(mention(deadline=None, norm_s=None, channel="news"), gert, now=MONDAY_10, tz=BRUSSELS,
                        desk="VLM", language="en")
    assert "Question for Water" in h.subject and "reply to this e-mail" in h.body and "no norm" in h.body
    assert "Note from" not in h.body  # no note given


def test_outside_text_cannot_break_the_subject(directory):
    m = mention(title="Vraag\r\nBcc: evil@example.org\x1b[2J", text="lijn een\nlijn twee")
    h = handoff_message(m, directory.expert("An Peeters"), now=MONDAY_10, tz=BRUSSELS, desk="VLM")
    assert "\n" not in h.subject and "\r" not in h.subject and "\x1b" not in h.subject
    assert "lijn een\nlijn twee" in h.body


def test_feedback_to_a_unit_asks_no_answer(directory):
    unit = directory.unit("Klantendienst Mestbank")
    h = feedback_message(mention(), unit, now=MONDAY_10, tz=BRUSSELS, desk="VLM", note="Derde keer deze week")
    assert h.kind == "feedback" and h.to == "mestbank@example.org"
    assert h.subject.startswith(subject_tag("a1b2c3d4e5") + " Feedback voor Klantendienst Mestbank")
    assert "niet te antwoorden" in h.body and HOSTILE in h.body and "Derde keer deze week" in h.body


def test_the_subject_tag_carries_the_handoffs_key():
    """'[webcare m:<id>.<key>]': the id finds the mention, the key (webcare.answers) proves the
    mail answers this hand-off; a tag of an older desk has no key."""
    from webcare.routing import read_tag, without_keys

    assert subject_tag("a1b2c3d4e5", "9f8e7d6c5b4a39281706") == "[webcare m:a1b2c3d4e5.9f8e7d6c5b4a39281706]"
    assert read_tag("RE: AW: [webcare m:a1b2c3d4e5.9f8e7d6c5b4a39281706] Vraag voor Mestbank") == ("a1b2c3d4e5", "9f8e7d6c5b4a39281706")
    assert read_tag("Re: [webcare m:a1b2c3d4e5] Vraag") == ("a1b2c3d4e5", "")
    assert read_tag("Re: Vraag over [webcare] iets") is None
    assert mention_id_in("Re: [webcare m:a1b2c3d4e5.9f8e] x") == "a1b2c3d4e5"
    assert without_keys("Re: [webcare m:a1b2c3d4e5.9f8e] x") == "Re: [webcare m:a1b2c3d4e5] x"
