"""The contract every source type keeps: its keys are a typed options dataclass that reads its
config.toml example and gives the same back, a misspelt key is refused with a "did you mean",
and what a type can do beyond fetching is a capability it declares, which the poller, the
replies and the moderation of the desk find by that declaration alone."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from sources import options
from sources.moderation import moderators
from sources.registry import TYPES, build_source, option_keys, options_class, source_class
from sources.replies import repliers
from sources.source import Checkpoints, LiveConnection, Moderation, OptionError, Replies, Source
from tests.test_config_examples import BLOCKS
from webcare.config import ConfigError, SourceConfig, load

ROOT = Path(__file__).resolve().parent.parent

# What each type can do: the capabilities it must declare, and no more.
CAPABILITIES: dict[type, set[str]] = {
    Checkpoints: {"rss", "mastodon", "bluesky", "imap", "reddit", "youtube", "x", "facebook", "instagram", "linkedin"},
    LiveConnection: {"mastodon", "imap"},
    Replies: {"mastodon", "bluesky", "imap", "x", "facebook", "instagram", "linkedin"},
    Moderation: {"reddit", "youtube", "facebook", "instagram", "linkedin"},
}
# What a capability brings, by name: a type with any of these must declare the capability
# (nothing reaches the desk by a method that happens to be there).
MEMBERS: dict[type, tuple[str, ...]] = {
    Checkpoints: ("checkpoint", "resume", "rewind"),
    LiveConnection: ("live", "can_live"),
    Replies: ("reply", "can_reply"),
    Moderation: ("moderate", "moderation_undo"),
}


def _examples() -> dict[str, list[dict]]:
    """Each type's example entries in the shipped config.toml: the demo's as shipped, the
    others as their commented blocks read uncommented."""
    shipped = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    out: dict[str, list[dict]] = {}
    for entry in shipped["sources"] + [tomllib.loads(b)["sources"][0] for b in BLOCKS]:
        out.setdefault(entry["type"], []).append(entry)
    return out


EXAMPLES = _examples()


def _entry(values: dict) -> SourceConfig:
    keys = {k: v for k, v in values.items() if k not in ("type", "name")}
    return SourceConfig(values.get("type", ""), values.get("name", ""), keys, 0)


def test_every_registered_type_has_an_options_class_and_an_example() -> None:
    assert set(EXAMPLES) == set(TYPES)
    for type_ in TYPES:
        cls = options_class(type_)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert option_keys(type_) == {f.name for f in dataclasses.fields(cls)}
        for f in dataclasses.fields(cls):  # every key says what it is for, in one line
            assert f.metadata["help"].strip() and "\n" not in f.metadata["help"], (type_, f.name)


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_the_options_round_trip_the_config_example(type_: str) -> None:
    cls = options_class(type_)
    for example in EXAMPLES[type_]:
        read = options.read(cls, _entry(example))
        # Every key of the example is one of the type's, and read as written.
        assert set(example) - {"type", "name"} <= option_keys(type_)
        written = options.to_config(read)
        assert options.read(cls, _entry(written)) == read
        for key in set(example) & set(written):
            if isinstance(example[key], list | bool | int) or key.endswith("_env"):
                assert written[key] == example[key], key


def test_a_misspelt_key_is_refused_with_what_was_meant(make_config) -> None:
    config = make_config()
    for type_, examples in EXAMPLES.items():
        example = dict(examples[0])
        right, wrong = ("seed", "sede") if type_ == "demo" else ("keyword_filter", "keyword_fitler")
        example[wrong] = example.pop(right, 7 if type_ == "demo" else True)
        sc = SourceConfig(type_, example["name"], {k: v for k, v in example.items() if k not in ("type", "name")}, 0)
        with pytest.raises(ConfigError, match=rf"{wrong}: unknown key for this source type \(did you mean '{right}'\?\)"):
            build_source(sc, config)


def test_a_missing_required_key_and_a_wrong_type_name_the_key() -> None:
    from sources.rss import RSSOptions

    with pytest.raises(OptionError, match="^url: missing$"):
        options.read(RSSOptions, _entry({"channel": "news"}))
    with pytest.raises(OptionError, match="^every: 'soon' is not a duration"):
        options.read(RSSOptions, _entry({"url": "https://example.org/feed", "every": "soon"}))
    with pytest.raises(OptionError, match="^keyword_filter: must be true or false"):
        options.read(RSSOptions, _entry({"url": "https://example.org/feed", "keyword_filter": "yes"}))
    read = options.read(RSSOptions, _entry({"url": " https://example.org/feed ", "max_bytes": "1MB"}))
    assert (read.url, read.every, read.max_bytes, read.keyword_filter) == ("https://example.org/feed", 300.0, 1024**2, True)


@pytest.mark.parametrize("capability", list(CAPABILITIES), ids=lambda c: c.__name__)
def test_each_capability_is_declared_by_exactly_the_types_that_have_it(capability: type) -> None:
    declared = {t for t in TYPES if issubclass(source_class(t), capability)}
    assert declared == CAPABILITIES[capability]
    having = {t for t in TYPES if any(hasattr(source_class(t), name) for name in MEMBERS[capability])}
    assert having == declared  # no ability left to be found by its name alone


def test_every_type_is_a_source() -> None:
    for type_ in TYPES:
        assert issubclass(source_class(type_), Source) and source_class(type_).type == type_


def test_the_desk_finds_replies_and_moderation_by_the_capability(tmp_path: Path, monkeypatch) -> None:
    """The examples built as the desk builds them, with their tokens set: each source that
    declares replies and can post becomes a replier, each that declares moderation a
    moderator, and no other."""
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    blocks = "\n".join(BLOCKS)
    config_file = tmp_path / "config.toml"
    # The examples' names are unique but for the two Mastodon entries' shared token: fine.
    config_file.write_text(shipped.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"') + "\n" + blocks + "\n")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "own-ca.pem").write_text("")
    for entries in EXAMPLES.values():
        for entry in entries:
            for key, value in entry.items():
                if key.endswith("_env"):
                    monkeypatch.setenv(value, "a-token")
    config = load(config_file)
    sources = [build_source(sc, config) for sc in config.sources]
    by_name = {s.name: s for s in sources}
    replying = set(repliers(sources))
    assert replying == {s.name for s in sources if isinstance(s, Replies) and s.can_reply}
    # With a token each can post, except the mailbox: its replies need [smtp], not configured here.
    assert {by_name[n].type for n in replying} == CAPABILITIES[Replies] - {"imap"}
    assert {by_name[n].type for n in moderators(sources)} == CAPABILITIES[Moderation]
    live = {s.type for s in sources if isinstance(s, LiveConnection) and s.can_live}
    assert live == {"mastodon", "imap"}


def test_the_key_table_rows_come_from_the_options() -> None:
    rows = {key: (default, help) for key, default, help in options.table(options_class("rss"))}
    assert set(rows) == option_keys("rss")
    assert rows["url"][0] == "(required)" and rows["every"][0] == '"5m"' and rows["keyword_filter"][0] == "true"
    assert rows["max_bytes"] == ('"10MB"', "a larger feed is refused without reading the rest")
