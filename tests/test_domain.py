"""The desk's own rules: untrusted text, keywords, intake, the queue order and the countdown words."""

from datetime import UTC, datetime, timedelta

from webcare.i18n import countdown
from webcare.intake import Intake, Item
from webcare.mention import Mention
from webcare.norms import Urgency
from webcare.queue import MentionFilter, MentionQueue
from webcare.untrusted import MAX_TEXT, clean_line, clean_text
from webcare.watch import KeywordMatcher


def test_clean_text_strips_escapes_controls_and_bidi_but_keeps_markup_literally():
    raw = "a\x1b[31mred\x1b[0m \x1b]0;pwned\x07b\u202eevil\u202c [@click=app.quit]x[/] \x00\x07\x85z"
    assert clean_text(raw) == "ared bevil [@click=app.quit]x[/] z"


def test_clean_text_caps_megabytes_quickly():
    text = clean_text("x" * 5_000_000)
    assert len(text) == MAX_TEXT and text.endswith("…")


def test_clean_line_is_one_line():
    assert clean_line("An\nDe\tJournalist\r\n") == "An De Journalist"


def test_keywords_match_case_accent_and_word_boundaries():
    k = KeywordMatcher(("VLM", "Vlaamse Landmaatschappij", "mestbank"))
    assert k.matches("#VLM is traag") == ("VLM",)
    assert k.matches("@VLM_be help") == ("VLM",)
    assert k.matches("xvlmx") == ()
    assert k.matches("de VLAAMSE\nlandmaatschappij") == ("Vlaamse Landmaatschappij",)
    assert k.matches("Mèstbank!") == ("mestbank",)
    assert k.matches("mijn mestbankaangifte") == ("mestbank",)  # Dutch compounds
    assert k.matches("VLMxyz") == ()  # acronyms stay whole words


def test_intake_filters_cleans_and_sets_deadline(make_config, clock):
    config = make_config()
    intake = Intake(config)
    now = clock()
    item = Item(key="1", channel="twitter", author="@piet\x1b[2J", text="Waar blijft #VLM? [bold]x[/bold]",
                published_at=now - timedelta(minutes=30))
    m = intake.admit(item, "demo", True, now)
    assert m.channel == "x" and m.author == "@piet"
    assert m.text == "Waar blijft #VLM? [bold]x[/bold]"
    assert m.deadline == now + timedelta(minutes=90)
    assert m.keywords == ("VLM",)
    assert intake.admit(Item(key="2", channel="x", author="a", text="niets over ons"), "demo", True, now) is None
    assert intake.admit(Item(key="2", channel="x", author="a", text="niets over ons"), "demo", False, now) is not None
    news = intake.admit(Item(key="3", channel="news", author="krant", text="VLM in het nieuws"), "rss", True, now)
    assert news.deadline is None and news.urgency(now) is Urgency.NO_NORM
    # the same item gives the same id
    assert intake.admit(item, "demo", True, now + timedelta(hours=1)).id == m.id


def _m(i: str, now: datetime, deadline_min: float | None, status: str = "new", seen_min: float = 0) -> Mention:
    return Mention(
        id=i, source="t", channel="x", author=i, text=i,
        first_seen_at=now + timedelta(minutes=seen_min),
        deadline=None if deadline_min is None else now + timedelta(minutes=deadline_min),
        norm_s=None if deadline_min is None else 7200, status=status,
    )


def test_queue_order_overdue_first_then_by_deadline_then_no_norm_then_handled(clock):
    now = clock()
    q = MentionQueue([
        _m("later", now, 100), _m("news-old", now, None, seen_min=-50), _m("overdue", now, -10),
        _m("handled", now, -500, status="responded"), _m("soon", now, 20), _m("news-new", now, None, seen_min=-5),
        _m("very-overdue", now, -90),
    ])
    assert [m.id for m in q] == ["very-overdue", "overdue", "soon", "later", "news-new", "news-old", "handled"]
    counts = q.counts(now, timedelta(hours=8))
    assert counts[Urgency.OVERDUE] == 2 and counts[Urgency.DUE_SOON] == 1
    assert q.new_count == 6
    q.update("overdue", lambda m: setattr(m, "status", "responded"))
    assert q.new_count == 5
    assert {q[len(q) - 1].id, q[len(q) - 2].id} == {"overdue", "handled"}
    assert q.index_of("soon") == 1


def test_queue_filter_words_and_fields(clock):
    now = clock()
    a = _m("a", now, 10)
    a = a.replaced(text="Waar is het formulier voor de mestbank?", channel="facebook")
    b = _m("b", now, 20)
    b = b.replaced(text="Bedankt VLM!")
    q = MentionQueue([a, b])
    q.set_filter("mestbank", now)
    assert [m.id for m in q] == ["a"]
    q.set_filter("channel:x", now)
    assert [m.id for m in q] == ["b"]
    q.set_filter("urgency:due-soon", now)
    assert [m.id for m in q] == ["a", "b"]
    q.set_filter("", now)
    assert len(q) == 2
    assert not MentionFilter("  ")


def test_countdown_words_in_both_languages():
    assert countdown(timedelta(minutes=72), "nl") == "nog 1 u 12 min"
    assert countdown(timedelta(minutes=-3), "nl") == "3 min te laat"
    assert countdown(timedelta(minutes=72), "en") == "1 h 12 min left"
    assert countdown(timedelta(minutes=-3), "en") == "3 min overdue"
    assert countdown(timedelta(seconds=20), "nl") == "nog < 1 min"
    assert countdown(timedelta(days=2, hours=3), "en") == "2 d 3 h left"


def test_mention_records_round_trip(clock):
    m = _m("x", clock(), 30)
    m.history.append({"at": "2026-11-23T09:00:00+00:00", "who": "an", "what": "monitor"})
    again = Mention.from_records(m.content_record(), m.state_record())
    assert again == m
    assert set(m.export_record()) >= {"id", "source", "channel", "author", "text", "url", "published_at",
                                      "first_seen_at", "deadline", "status", "category", "scheme_path",
                                      "routed_to", "responded_at", "history"}


def test_to_iso_is_utc_with_offset(clock):
    m = _m("x", clock().astimezone(), 30)
    assert m.content_record()["first_seen_at"].endswith("+00:00")
    assert datetime.fromisoformat(m.content_record()["deadline"]).tzinfo is not None
    assert UTC
