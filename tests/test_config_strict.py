"""config.toml is read strictly: a misspelt table or key anywhere is refused with a "did you
mean", [keys] names only the desk's actions and real keys, and [smtp] is read once. `webcare
check` says so, naming the file and the key, and exits 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.test_cli import webcare
from tests.tui_helpers import make_app, mention
from webcare.config import ConfigError, SmtpSettings, load

ROOT = Path(__file__).resolve().parent.parent

SMTP = '\n[smtp]\nhost = "127.0.0.1"\nport = 2525\nsecurity = "none"\nfrom = "webcare@example.org"\n'
EXPERT = '\n[[experts]]\nname = "Chris Maes"\nunit = "Water"\nemail = "chris.maes@example.org"\n'


def refused(tmp_path: Path, extra: str) -> str:
    path = write_config(tmp_path, extra)
    if extra.startswith(("[desk]", "[norms]")):  # the base config has these tables: write alone
        path.write_text(extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "extra,expected",
    [
        ('[nroms]\nx = "1h"\n', "[nroms]: unknown table (did you mean 'norms'?)"),
        ('[[alert]]\nname = "p"\n', "[[alert]]: unknown table (did you mean 'alerts'?)"),
        ('[[expert]]\nname = "p"\n', "[[expert]]: unknown table (did you mean 'experts'?)"),
        ("[mastodon_stuff]\n", "[mastodon_stuff]: unknown table"),
    ],
)
def test_a_misspelt_table_is_refused_with_a_suggestion(tmp_path, extra, expected):
    assert expected in refused(tmp_path, extra)


def test_a_key_outside_any_table_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('language = "en"\n[desk]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"language: unknown key at the top of the file \(keys go inside a table"):
        load(path)


# One misspelt key in each kind of table: plain tables, arrays of tables, nested arrays, the
# scheme's questions and leaves. Each names where it is, the key, and what was meant.
@pytest.mark.parametrize(
    "extra,expected",
    [
        ('[desk]\nlangauge = "nl"\n', "[desk] langauge: unknown key (did you mean 'language'?)"),
        ('[clock]\noffice_hour = "mon-fri 08:00-17:00"\n', "[clock] office_hour: unknown key (did you mean 'office_hours'?)"),
        ('[norms]\nfacebok = "4h"\n', "[norms] facebok: unknown channel 'facebok'"),
        ('[crisis]\nnrom = "30m"\n', "[crisis] nrom: unknown key (did you mean 'norm'?)"),
        ("[retention]\nday = 30\n", "[retention] day: unknown key (did you mean 'days'?)"),
        ('[calendar]\nholiday = "BE"\n', "[calendar] holiday: unknown key (did you mean 'holidays'?)"),
        ('[[calendar.campaigns]]\nname = "W"\nfrom = "2026-11-16"\nuntil = "2026-11-20"\nthem = "x"\n',
         "[[calendar.campaigns]] #1 ('W'): them: unknown key (did you mean 'theme'?)"),
        ("[trends]\nwindw = \"30m\"\n", "[trends] windw: unknown key (did you mean 'window'?)"),
        ('[ambassadors]\ndigest = "08:00"\n', "[ambassadors] digest: unknown key (did you mean 'digest_at'?)"),
        ('[[watch.rules]]\nname = "a"\nanny = ["x"]\n', "[[watch.rules]] #1 anny: unknown key (did you mean 'any'?)"),
        ('[[watch.people]]\nhandle = "@a"\nknd = "peer"\n', "[[watch.people]] #1 knd: unknown key (did you mean 'kind'?)"),
        ('[[templates]]\ncategory = "L6"\nlanguage = "nl"\nregister = "formal"\ntext = "x"\nregistr = "x"\n',
         "[[templates]] #1: registr: unknown key (did you mean 'register'?)"),
        (EXPERT + 'emial = "x@example.org"\n', "[[experts]] #1 ('Chris Maes'): emial: unknown key (did you mean 'email'?)"),
        (EXPERT + '[[units]]\nname = "Water"\nemali = "water@example.org"\n', "emali: unknown key (did you mean 'email'?)"),
        (EXPERT + '[[oncall]]\nexpert = "Chris Maes"\nhour = "mon 08:00-17:00"\n', "hour: unknown key (did you mean 'hours'?)"),
        (EXPERT + '[[roles]]\nrole = "spokesperson"\nexpert = "Chris Maes"\nexpret = "x"\n',
         "[[roles]] #1 ('spokesperson'): expret: unknown key (did you mean 'expert'?)"),
        ('[[alerts]]\nname = "p"\nurl = "ntfy://h/t"\nurll = "x"\n', "[[alerts]] #1 ('p'): urll: unknown key (did you mean 'url'?)"),
        ('[smtp]\nhost = "h"\nfrom = "w@example.org"\nsecurty = "none"\n', "[smtp] securty: unknown key (did you mean 'security'?)"),
        ('[scheme]\nstrat = "R1"\n', "[scheme] strat: unknown key (did you mean 'start'?)"),
    ],
)
def test_a_misspelt_key_is_refused_in_every_kind_of_table(tmp_path, extra, expected):
    assert expected in refused(tmp_path, extra)


def test_the_scheme_questions_options_and_leaves_refuse_unknown_keys(tmp_path):
    from webcare.scheme import DEFAULT, SchemeError, parse

    question = {**DEFAULT["questions"][0], "txet": "x"}
    with pytest.raises(SchemeError, match=r"\[scheme\] question R1: txet: unknown key \(did you mean 'text'\?\)"):
        parse({**DEFAULT, "questions": [question, *DEFAULT["questions"][1:]]})
    option = {**DEFAULT["questions"][0]["options"][0], "got": "x"}
    question = {**DEFAULT["questions"][0], "options": [option, *DEFAULT["questions"][0]["options"][1:]]}
    with pytest.raises(SchemeError, match=r"options #1: got: unknown key \(did you mean 'goto'\?\)"):
        parse({**DEFAULT, "questions": [question, *DEFAULT["questions"][1:]]})
    leaf = {**DEFAULT["leaves"][0], "stauts": "new"}
    with pytest.raises(SchemeError, match=r"\[scheme\] leaf L1: stauts: unknown key \(did you mean 'status'\?\)"):
        parse({**DEFAULT, "leaves": [leaf, *DEFAULT["leaves"][1:]]})


def test_network_refuses_a_misspelt_key(tmp_path):
    from sources.http import NetworkPolicy

    config = load(write_config(tmp_path, "[network]\nallow_host = []\n"))
    with pytest.raises(ConfigError, match=r"\[network\] allow_host: unknown key \(did you mean 'allow_hosts'\?\)"):
        NetworkPolicy.from_config(config)


# --- [keys] ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys,expected",
    [
        ('"stream.nxt" = "j"', "[keys] stream.nxt: unknown action (did you mean 'stream.next'?)"),
        ('"stream.next" = "ctl+j"', "[keys] stream.next: 'ctl+j': 'ctl' is not a modifier (did you mean 'ctrl'?)"),
        ('"stream.next" = "j,pgdn"', "[keys] stream.next: 'pgdn' is not a key (did you mean 'pagedown'?)"),
        ('"stream.next" = "k"', "[keys] stream.next: 'k' is already the key of stream.previous"),
        ('"app.quit" = "t"', "[keys] app.quit: 't' is already the key of "),
        ('"stream.next" = 3', '[keys] stream.next: must be a string of keys like "j,down", not 3'),
    ],
)
def test_bad_keys_are_refused_by_check(tmp_path, keys, expected):
    result = webcare("check", "--config", str(write_config(tmp_path, f"[keys]\n{keys}\n")))
    assert result.returncode == 2, result.stdout
    assert f"config.toml: {expected}" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_a_screen_shares_with_the_app_by_default_are_no_clash():
    from tui.keys import check_keymap

    check_keymap({"help.close": "escape,q"})  # q quits the app and closes help: as shipped
    check_keymap({"stream.next": "j,down,n", "cal.undo": "U"})


async def test_a_remapped_key_works_in_the_desk(tmp_path, clock):
    config = load(write_config(tmp_path, '[keys]\n"stream.next" = "ctrl+n"\n"app.help" = "?,f1"\n'))
    now = clock()
    app = make_app(config, clock, [mention(i, now, minutes_left=60 + i) for i in range(3)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("MentionList")
        first = table.selected.id
        await pilot.press("j")  # no longer bound
        await pilot.pause()
        assert table.selected.id == first
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert table.selected.id != first
        await pilot.press("f1")  # '?' and f1 both open help
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


# --- one [smtp] ------------------------------------------------------------------------------


def test_smtp_is_read_once_into_config(tmp_path):
    config = load(write_config(tmp_path, SMTP))
    assert config.smtp == SmtpSettings(host="127.0.0.1", port=2525, security="none", sender="webcare@example.org")
    assert load(write_config(tmp_path, "")).smtp is None


def test_an_imap_source_sends_through_the_same_smtp_settings(tmp_path):
    from sources.registry import build_sources

    imap = '\n[[sources]]\ntype = "imap"\nname = "mail"\nhost = "127.0.0.1"\nusername = "u"\npassword_env = "P"\n'
    config = load(write_config(tmp_path, SMTP + imap))
    (source,) = build_sources(config)
    assert source.smtp is config.smtp


def test_a_bad_smtp_stops_the_desk_before_it_starts(tmp_path):
    """Before, a bad [smtp] let the desk start and failed at the first hand-off."""
    path = write_config(tmp_path, '[smtp]\nhost = "h"\nfrom = "webcare"\n')
    for command in (["check"], []):
        result = webcare(*command, "--config", str(path))
        assert result.returncode == 2
        assert "config.toml: [smtp] from: 'webcare' is not an e-mail address" in result.stderr


def test_nothing_but_the_config_reads_the_smtp_table():
    """Every user takes Config.smtp; no second parser of the raw table creeps back."""
    readers = []
    for folder in ("webcare", "sources", "store", "tui"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "webcare" / "config.py":
                continue
            if re.search(r"""raw(\.get\(|\[)["']smtp["']""", path.read_text(encoding="utf-8")):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


# --- webcare check ---------------------------------------------------------------------------


def test_check_names_the_file_and_the_misspelt_table(tmp_path):
    path = write_config(tmp_path, '[nroms]\nx = "1h"\n')
    result = webcare("check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"webcare: configuration error: {path}: [nroms]: unknown table (did you mean 'norms'?)"
    )
    assert result.stdout == ""


def test_check_passes_the_bundled_config_with_its_examples_uncommented(tmp_path):
    """config.toml's commented [keys] and [smtp] examples are valid as they stand."""
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    for table in ("[keys]", "[smtp]"):
        assert f"# {table}" in shipped
    text = re.sub(r"^# (\[keys\].*\n)# (.*\n)", r"\1\2", shipped, flags=re.M)
    block = shipped[shipped.index("# [smtp]"):].split("\n\n")[0]
    text = text.replace(block, "\n".join(line[2:] for line in block.splitlines()))
    config = tmp_path / "config.toml"
    config.write_text(text.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"'), encoding="utf-8")
    result = webcare("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    loaded = load(config)
    assert loaded.keys == {"stream.next": "j,down"} and loaded.smtp is not None
