"""Keyword rules and the watchlist: what a mention matched, stored with it and exported."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from webcare.config import ConfigError
from webcare.intake import Intake, Item
from webcare.watch import Rule, Watch, parse_watch

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def rule(**kw) -> Rule:
    return Rule.make("r", **kw)


def matches(r: Rule, text: str) -> bool:
    return bool(Watch(rules=(r,)).read("", text, "@x", "x").rules)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("De MESTBANK is dicht", True),
        ("mestbankloket werkt niet", True),  # a Dutch compound
        ("Mëstbánk", True),  # accents folded
        ("de mestkever is terug", False),  # a not-term
        ("het mestbank-loket en de mestkever", False),
        ("xmestbank", False),  # must start a word
    ],
)
def test_any_and_not_terms(text: str, expected: bool) -> None:
    assert matches(rule(any=("mestbank",), not_=("mestkever",)), text) is expected


def test_all_terms_must_each_be_there() -> None:
    r = rule(all=("mest", "aangifte"))
    assert matches(r, "Mijn aangifte voor de mest") and not matches(r, "Mijn aangifte")


def test_phrases_match_whole_words_in_order() -> None:
    r = rule(phrases=("dode vissen",))
    assert matches(r, "Overal DODE   vissen in de beek")
    assert not matches(r, "vissen dode") and not matches(r, "dode visseninstallatie")


def test_short_terms_are_whole_words() -> None:
    r = rule(any=("LEZ",))
    assert matches(r, "#LEZ Gent") and not matches(r, "lezen is leuk")


def test_priority_and_themes_from_every_matching_rule() -> None:
    w = parse_watch(
        {
            "rules": [
                {"name": "mest", "any": ["mest"], "theme": "mest"},
                {"name": "lek", "any": ["lek"], "theme": "crisis", "priority": "urgent"},
                {"name": "water", "any": ["water"], "theme": "water", "priority": "high"},
            ]
        }
    )
    seen = w.read("", "Mest lek in het water", "@x", "x")
    assert seen.rules == ("mest", "lek", "water")
    assert seen.themes == ("mest", "crisis", "water") and seen.priority == "urgent"
    assert w.read("", "niets", "@x", "x").priority == "normal"


def test_watchlist_matches_handles_per_channel_or_anywhere() -> None:
    w = parse_watch(
        {
            "people": [
                {
                    "handle": "journalist_an",
                    "channel": "twitter",
                    "kind": "journalist",
                    "name": "An",
                },
                {"handle": "@Natuurpunt", "kind": "peer"},
                {"handle": "woordvoerder@vlaanderen.be", "kind": "ambassador-internal"},
            ]
        }
    )
    assert w.read("", "x", "@Journalist_An", "x").watchlist == "journalist"
    assert w.read("", "x", "@journalist_an", "mastodon").watchlist == ""  # another channel
    assert w.read("", "x", "natuurpunt", "bluesky").watchlist == "peer"
    assert w.read("", "x", "Woordvoerder@Vlaanderen.be", "email").watchlist == "ambassador-internal"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[watch.rules]]\nany = ["x"]\n', "[[watch.rules]] #1 name: missing"),
        (
            '[[watch.rules]]\nname = "a"\n',
            "[[watch.rules]] 'a': give at least one of any, all or phrases",
        ),
        (
            '[[watch.rules]]\nname = "a"\nany = ["x"]\npriority = "now"\n',
            "[[watch.rules]] 'a' priority: 'now' is not one of normal, high, urgent",
        ),
        ('[[watch.rules]]\nname = "a"\nany = "x"\n', "[[watch.rules]] 'a' any: must be a list"),
        ('[[watch.rules]]\nname = "a"\nanny = ["x"]\n', "[[watch.rules]] #1 anny: unknown key"),
        (
            '[[watch.people]]\nhandle = "a"\nkind = "journo"\n',
            "[[watch.people]] #1 kind: 'journo' is not one of journalist",
        ),
        ('[[watch.people]]\nkind = "peer"\n', "[[watch.people]] #1 handle: missing"),
        (
            '[[watch.people]]\nhandle = "a"\nkind = "peer"\nchannel = "myspace"\n',
            "[[watch.people]] #1 channel:",
        ),
    ],
)
def test_config_errors_name_the_entry_and_key(make_config, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(toml)
    assert message in str(err.value)
    with pytest.raises(ValueError, match=r"\[watch\] keyword: unknown key"):
        parse_watch({"keyword": ["x"]})


def test_intake_stores_rules_themes_watchlist_and_tone(make_config) -> None:
    config = make_config(
        """
        [[watch.rules]]
        name = "mestlek"
        any = ["drijfmest"]
        theme = "mest"
        priority = "urgent"

        [[watch.people]]
        handle = "journalist_an"
        kind = "journalist"
        """
    )
    intake = Intake(config)
    item = Item(
        key="1",
        channel="x",
        author="@journalist_an",
        text="SCHANDALIG!!! De drijfmest loopt in de beek en niemand van jullie reageert",
    )
    [m] = intake.admit_all([item], "x", True, NOW)
    record = m.export_record()
    assert record["rules"] == ["mestlek"] and record["themes"] == ["mest"]
    assert record["priority"] == "urgent" and record["watchlist"] == "journalist"
    assert (record["language"], record["sentiment"]) == ("nl", "negative")
    assert record["register"] in ("formal", "informal") and "capitals" in record["anger"]
    json.dumps(record)  # plain JSON all the way down


def test_a_rule_lets_a_mention_in_without_a_keyword(make_config) -> None:
    config = make_config('[[watch.rules]]\nname = "lek"\nany = ["drijfmest"]\n')
    intake = Intake(config)
    rule_only = Item(key="1", channel="x", author="@a", text="drijfmest in de beek")
    nothing = Item(key="2", channel="x", author="@b", text="mooi weer vandaag")
    assert [m.rules for m in intake.admit_all([rule_only, nothing], "x", True, NOW)] == [("lek",)]


def test_urgent_first_and_wider_reach_first_within_a_minute(tmp_path) -> None:
    """In the stream: an urgent rule's mention on top; among deadlines in the same minute, the
    author with more followers first; the header's counts stay right. The same from the
    store's index (a desk starting) as from the mentions themselves."""
    from datetime import timedelta

    from store import Store
    from webcare.mention import Mention
    from webcare.norms import Urgency
    from webcare.queue import MentionQueue

    def m(i: str, minutes: float, **kw) -> Mention:
        return Mention(
            id=i, source="s", channel="x", author="@a", text="t", first_seen_at=NOW,
            deadline=NOW + timedelta(minutes=minutes), norm_s=7200, **kw,
        )

    mentions = [
        m("early", 10),
        m("small", 40.5),
        m("famous", 40.9, reach=50_000),
        m("known", 40.7, reach=2_000),
        m("later", 41.2, reach=90_000),
        m("spill", 100, priority="urgent"),
        m("overdue", -5),
        m("urgent-overdue", -1, priority="urgent"),
    ]
    Store(tmp_path).add(mentions)
    store = Store(tmp_path)
    from_index = MentionQueue(rows=store.rows(), fetch=store.mentions)
    for queue in (MentionQueue(mentions), from_index):
        assert [queue[i].id for i in range(len(mentions))] == [
            "urgent-overdue", "spill", "overdue", "early", "famous", "known", "small", "later",
        ]
        counts = queue.counts(NOW, timedelta(hours=2))
        assert counts[Urgency.OVERDUE] == 2 and counts[Urgency.DUE_SOON] == 1  # early: 10 of 120 min left


async def test_badges_filters_and_the_bell_on_the_desk(make_config, clock) -> None:
    """A watched journalist's mention shows its badge; the watch filters find press and peers;
    an urgent mention arriving rings the bell and goes to the top."""
    from store import Store
    from tests.tui_helpers import make_app, mention, screen_text
    from tui.widgets.mention_list import MentionList
    from webcare.queue import MentionFilter

    now = clock()
    mentions = [
        mention(1, now, 60, author="@journalist_an", watchlist="journalist", text="Vraag over de mestbank"),
        mention(2, now, 30, author="@natuurpunt", watchlist="peer", text="Wij doen mee met de VLM"),
        mention(3, now, 45, text="Zeer slecht geregeld bij de VLM", sentiment="negative", anger=("capitals",)),
        mention(4, now, 50, text="Merci VLM", sentiment="positive", themes=("dank",)),
    ]
    app = make_app(make_config(), clock, mentions)
    rings = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "PERS Vraag over" in text and "PEER Wij doen" in text
        assert "‼ Zeer slecht" in text and "+ Merci VLM" in text
        stream = app.screen.query_one(MentionList)
        for query, expected in (("watch:press", ["m1"]), ("watch:peers", ["m2"]), ("sentiment:neg", ["m3"]), ("theme:dank", ["m4"])):
            assert [m.id for m in app.queue if MentionFilter(query).accepts(m, now)] == expected
        spill = mention(5, now, 110, priority="urgent", rules=("mestlek",), text="Drijfmest in de beek!")
        Store(app.config.data_dir).add([spill])
        await pilot.pause(1.5)
        assert rings and stream.queue[0].id == "m5"
        assert "DRINGEND" in screen_text(app)


def test_a_post_addressed_to_us_needs_no_keyword(make_config) -> None:
    """A mention of our account (a notification) is kept even when it names no keyword; a
    hashtag or search hit without one is not."""
    intake = Intake(make_config())
    to_us = Item(key="1", channel="mastodon", author="@jan", text="@vlm waarom duurt dit zo lang?", addressed=True)
    found = Item(key="2", channel="mastodon", author="@piet", text="mooi weer vandaag")
    assert [m.author for m in intake.admit_all([to_us, found], "mast", True, NOW)] == ["@jan"]


async def test_the_detail_shows_rules_themes_watchlist_and_tone(make_config, clock) -> None:
    from tests.tui_helpers import make_app, mention
    from tui.widgets.mention_detail import MentionDetail

    m = mention(
        1, clock(), 60, author="@journalist_an", rules=("mestlek",), themes=("mest",), priority="urgent",
        watchlist="journalist", language="nl", sentiment="negative", register="informal", anger=("capitals",),
    )
    app = make_app(make_config(), clock, [m])
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        text = app.screen.query_one(MentionDetail).describe(app.queue.get("m1")).plain
    assert "Regels" in text and "mestlek (urgent)" in text and "Thema's" in text and "mest" in text
    assert "Volglijst" in text and "pers" in text
    assert "nl · negatief · informal · boos: capitals" in text
