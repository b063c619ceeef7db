"""[[roles]]: who is crisis contact, communication lead, spokesperson, …; L1 keeps the mention
escalated while the crisis contact is e-mailed; L12 really hands the mention to the
communication lead and it shows on the "gesignaleerd" list. E-mail goes to a real SMTP server
(aiosmtpd) on loopback; the desk is the real app under Pilot."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from store import Store
from tests.smtpserver import Inbox, smtp_on_loopback, smtp_table, wait_for
from tests.tui_helpers import make_app, mention, screen_text
from tui.screens.crisis import CrisisList, CrisisScreen
from tui.screens.prompt import PromptScreen
from webcare.config import ConfigError
from webcare.roles import load_roles
from webcare.routing import load_directory

BRUSSELS = ZoneInfo("Europe/Brussels")

EXPERTS = """
[[experts]]
name = "Chris Maes"
unit = "Water"
email = "chris.maes@example.org"
hours = "mon-fri 08:00-16:00"

[[experts]]
name = "Sara Woord"
email = "sara.woord@example.org"
hours = "mon-fri 09:00-17:00"
roles = ["spokesperson"]

[[experts]]
name = "Bart Claes"
email = "bart.claes@example.org"
hours = "mon-fri 09:00-17:00"
roles = ["crisis"]

[[oncall]]
expert = "Chris Maes"
hours = "sat-sun 00:00-24:00"
"""

ROLES = """
[[roles]]
role = "crisis-contact"
expert = "Chris Maes"

[[roles]]
role = "communication-lead"
name = "Lies Lood"
email = "lies.lood@example.org"

[[roles]]
role = "community-manager"
oncall = true
"""


def _roles(text: str):
    raw = tomllib.loads(EXPERTS + text)
    directory = load_directory(raw)
    return load_roles(raw, directory), directory


# --- the config -------------------------------------------------------------------------------


def test_roles_resolve_to_an_expert_a_person_or_whoever_is_on_call():
    roles, directory = _roles(ROLES)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
    saturday = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    assert roles.holder("crisis-contact", directory, monday, BRUSSELS).expert.name == "Chris Maes"
    lead = roles.holder("communication-lead", directory, saturday, BRUSSELS).expert
    assert (lead.name, lead.email) == ("Lies Lood", "lies.lood@example.org")
    # oncall = true: whoever is on call at that moment; nobody on a Monday morning
    assert roles.holder("community-manager", directory, saturday, BRUSSELS).expert.name == "Chris Maes"
    assert roles.holder("community-manager", directory, monday, BRUSSELS) is None
    # nobody named: no holder
    assert roles.holder("social-media-manager", directory, monday, BRUSSELS) is None


def test_the_older_roles_key_on_experts_still_counts():
    roles, directory = _roles("")
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert roles.holder("spokesperson", directory, monday, BRUSSELS).expert.name == "Sara Woord"
    assert roles.holder("crisis-contact", directory, monday, BRUSSELS).expert.name == "Bart Claes"
    # [[roles]] comes first; the expert with `roles = ["crisis"]` after
    roles, directory = _roles(ROLES)
    names = [r.expert.name for r in roles.holders("crisis-contact", directory, monday, BRUSSELS)]
    assert names == ["Chris Maes", "Bart Claes"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('role = "boss"\nexpert = "Chris Maes"', "[[roles]] #1 ('boss'): role: not one of"),
        ('expert = "Chris Maes"', "[[roles]] #1: role: missing"),
        ('role = "spokesperson"\nexpert = "Nobody"', "[[roles]] #1 ('spokesperson'): expert: 'Nobody' is not an expert"),
        ('role = "spokesperson"', "[[roles]] #1 ('spokesperson'): expert: give one of"),
        ('role = "spokesperson"\nexpert = "Chris Maes"\noncall = true', "[[roles]] #1 ('spokesperson'): oncall: give one of"),
        ('role = "spokesperson"\nname = "Els"\nemail = "nope"', "[[roles]] #1 ('spokesperson'): email: 'nope' is not an e-mail"),
        ('role = "spokesperson"\nname = "Els"', "[[roles]] #1 ('spokesperson'): email: missing"),
        ('role = "spokesperson"\nexpert = "Chris Maes"\nphone = "1"', "[[roles]] #1 ('spokesperson'): phone: unknown key"),
        ('role = "spokesperson"\noncall = "yes"', "[[roles]] #1 ('spokesperson'): oncall: must be true or false"),
    ],
)
def test_bad_roles_name_the_key(make_config, entry, expected):
    with pytest.raises(ConfigError) as caught:
        make_config(EXPERTS + "\n[[roles]]\n" + entry + "\n")
    assert expected in str(caught.value)


# --- L1: the crisis contact is told, the mention stays escalated ------------------------------------


async def test_l1_stays_escalated_on_the_crisis_screen_while_the_crisis_contact_is_emailed(make_config, clock):
    """The regression: with a crisis contact configured, L1 ended as `routed` (off the crisis
    screen, no countdown of its own). It stays escalated; the contact gets an e-mail."""
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        config = make_config(EXPERTS + ROLES + smtp_table(port))
        app = make_app(config, clock, [mention(1, clock(), 25, text="Dijk gebroken aan de Schelde, water in de straat")])
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("!")
            await pilot.pause()
            await wait_for(lambda: inbox.envelopes)
            await wait_for(lambda: "hand-off e-mailed" in Store(config.data_dir).get("m1").history[-1]["what"])
            m = Store(config.data_dir).get("m1")
            assert m.status == "escalated" and m.owed and m.deadline == clock() + timedelta(minutes=25)
            assert m.routed_due is None and m.routed_at is None
            whats = [h["what"] for h in m.history]
            assert any(w == "crisis-contact told: Chris Maes" for w in whats)
            assert inbox.envelopes[0].rcpt_tos == ["chris.maes@example.org"]
            message = inbox.message()
            assert "CRISIS" in message["Subject"] and "Dijk gebroken" in message.get_body(("plain",)).get_content()
            # on the crisis screen, with its countdown
            await pilot.press("K")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            await pilot.press(*"Dijkbreuk", "enter")
            await pilot.pause()
            assert isinstance(app.screen, CrisisScreen)
            rows = app.screen.query_one(CrisisList).rows
            assert [r[0].id for r in rows] == ["m1"] and rows[0][0].status == "escalated"
            assert "nog 25 min" in screen_text(app)
            # the triage stays undoable: telling the contact changed no field
            await pilot.press("escape")
            await pilot.pause()
            app.action_undo()
            await pilot.pause()
            assert Store(config.data_dir).get("m1").status == "new"
    finally:
        server.close()


# --- L12: handed to the communication lead, on the signalled list --------------------------------


async def test_l12_emails_the_communication_lead_and_shows_on_the_signalled_list(make_config, clock):
    inbox = Inbox()
    server, port = await smtp_on_loopback(inbox)
    try:
        config = make_config(EXPERTS + ROLES + smtp_table(port))
        app = make_app(config, clock, [
            mention(1, clock(), 30, text="Jullie zijn allemaal zakkenvullers [@click=app.quit]x[/]"),
            mention(2, clock(), 50, text="Een gewone vraag over de mestbank"),
        ])
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("t", *"nnnnnnn", "t", "enter")  # R1–R7 no, R8 troll → L12
            await pilot.pause()
            await wait_for(lambda: inbox.envelopes)
            await wait_for(lambda: "hand-off e-mailed" in Store(config.data_dir).get("m1").history[-1]["what"])
            m = Store(config.data_dir).get("m1")
            assert m.scheme_path[-1] == "L12" and m.status == "monitoring" and "flagged" in m.flags
            assert "communication-lead told: Lies Lood" in [h["what"] for h in m.history]
            assert inbox.envelopes[0].rcpt_tos == ["lies.lood@example.org"]
            body = inbox.message().get_body(("plain",)).get_content()
            assert "zakkenvullers [@click=app.quit]x[/]" in body and "Gesignaleerd" in inbox.message()["Subject"]
            # S: the "gesignaleerd" list shows only what was signalled; S again: everything
            await pilot.press("S")
            await pilot.pause()
            assert app.queue.filter_query == "flag:gesignaleerd"
            assert [x.id for x in app.queue] == ["m1"]
            text = screen_text(app)
            assert "zakkenvullers" in text and "gewone vraag" not in text
            await pilot.press("S")
            await pilot.pause()
            assert app.queue.filter_query == "" and "gewone vraag" in screen_text(app)
            # the filter term works typed too, in English as well
            await pilot.press("slash", *"flag:signalled", "enter")
            await pilot.pause()
            assert [x.id for x in app.queue] == ["m1"]
    finally:
        server.close()


async def test_l12_without_a_communication_lead_says_so_and_still_lists_it(make_config, clock):
    config = make_config(EXPERTS)
    app = make_app(config, clock, [mention(1, clock(), 60, text="Tirade")])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"nnnnnnn", "t", "enter")
        await pilot.pause()
        assert any("Niemand om te verwittigen: communicatieverantwoordelijke" in str(n.message)
                   for n in app._notifications)
        await pilot.press("S")
        await pilot.pause()
        assert [x.id for x in app.queue] == ["m1"]
        # both keys are in `?` help, in the desk's language
        await pilot.press("question_mark")
        await pilot.pause()
        rows = dict((desc, keys) for keys, desc in app.screen.rows)
        assert rows["gesignaleerd"] == "S" and rows["doorgeven aan ambassadeurs"] == "b"


# --- the shipped config.toml -------------------------------------------------------------------


def _commented_blocks(header: str) -> list[str]:
    """Each commented example in config.toml that starts with `# <header>`, uncommented."""
    from pathlib import Path

    blocks, current = [], None
    for line in (Path(__file__).resolve().parent.parent / "config.toml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith(f"# {header}"):
            if current:
                blocks.append("\n".join(current))
            current = [stripped[2:]]
        elif current is not None and stripped.startswith("# ") and "=" in stripped:
            current.append(stripped[2:])
        elif current is not None:
            blocks.append("\n".join(current))
            current = None
    return blocks


@pytest.mark.parametrize("header", ["[[roles]]", "[ambassadors]", "[[watch.people]]"])
def test_the_commented_examples_in_config_toml_load(tmp_path, header):
    from pathlib import Path

    from webcare.ambassadors import ambassadors
    from webcare.config import load

    shipped = (Path(__file__).resolve().parent.parent / "config.toml").read_text(encoding="utf-8")
    blocks = _commented_blocks(header)
    assert blocks
    path = tmp_path / "config.toml"
    path.write_text(shipped.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"') + "\n" + "\n\n".join(blocks) + "\n")
    config = load(path)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    if header == "[[roles]]":
        assert config.roles.holder("communication-lead", config.directory, monday, config.timezone).expert.name == "Lies Lood"
        assert config.roles.holder("crisis-contact", config.directory, monday, config.timezone).expert.name == "Chris Maes"
        assert config.roles.holder("spokesperson", config.directory, monday, config.timezone).expert.name == "Hilde Vermeulen"
    elif header == "[[watch.people]]":
        assert [a.email for a in ambassadors(config.watch)] == ["els.vos@example.org"]


def test_webcare_check_lists_who_holds_each_role_now(make_config, capsys):
    from webcare.cli import main

    config = make_config(EXPERTS + ROLES)
    assert main(["check", "--config", str(config.path)]) == 0
    said = capsys.readouterr().out
    assert "roles now: " in said and "communication-lead Lies Lood" in said
