"""The reaction scheme as data: the default is sound, walks always end in a leaf, bad schemes
are refused with the node and key named."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webcare.config import ConfigError
from webcare.scheme import DEFAULT, Leaf, SchemeError, Walk, parse
from webcare.triage import path_to

SCHEME = parse(DEFAULT)
KEYS = sorted({o.key for q in SCHEME.questions.values() for o in q.options}) + ["x", "7", "Q"]


@given(st.lists(st.sampled_from(KEYS), max_size=40))
def test_any_sequence_of_keys_reaches_a_leaf_or_asks_again(keys):
    walk = Walk(SCHEME)
    for key in keys:
        before = list(walk.answers)
        took = walk.answer(key)
        node = walk.current
        if took:
            assert len(walk.answers) == len(before) + 1
        else:  # a key the question does not take changes nothing
            assert walk.answers == before
        assert isinstance(node, Leaf) or node.id in SCHEME.questions
    assert len(walk.answers) <= 8  # the longest path of the default scheme


def test_every_leaf_is_reachable_and_its_path_walks_there():
    assert set(SCHEME.leaves) == {f"L{i}" for i in range(1, 15)}
    for leaf_id in SCHEME.leaves:
        path = path_to(SCHEME, leaf_id)
        walk = Walk(SCHEME)
        for step in path[:-1]:
            assert walk.answer(step.split(":")[1])
        assert walk.leaf.id == leaf_id and walk.path() == path


def test_the_documented_example_path():
    walk = Walk(SCHEME)
    for key in "nnnnyy":
        walk.answer(key)
    assert walk.path() == ["R1:n", "R2:n", "R3:n", "R4:n", "R5:y", "R5a:y", "L6"]
    assert walk.back() and walk.leaf is None and walk.current.id == "R5a"


def _broken(change) -> dict:
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d["questions"][0]["options"][0].update(goto="R99"), "R1: option 'y' goes to 'R99'"),
        (lambda d: d["questions"][1]["options"][1].update(key="y"), "R2: options #2: key 'y' is used twice"),
        (lambda d: d["questions"][3]["options"][1].update(goto="R2"), "goes round in a cycle"),
        (lambda d: d["leaves"][0].update(status="panic"), "leaf L1: status: 'panic'"),
        (lambda d: d.update(start="L1"), "start: 'L1' is not a question"),
        (lambda d: d["questions"][0].update(options=d["questions"][0]["options"][:1]), "at least two answers"),
    ],
)
def test_bad_schemes_are_refused_naming_the_node(change, message):
    with pytest.raises(SchemeError, match=message.replace("(", r"\(").replace("'", "'")):
        parse(_broken(change))


def test_check_refuses_a_bad_scheme_in_config(tmp_path, make_config):
    with pytest.raises(ConfigError, match=r"\[scheme\] question R1: option 'n' goes to 'nowhere'"):
        make_config(
            """
            [scheme]
            start = "R1"
            [[scheme.questions]]
            id = "R1"
            text = "Reageren?"
            options = [{key = "y", goto = "L1"}, {key = "n", goto = "nowhere"}]
            [[scheme.leaves]]
            id = "L1"
            action = "Antwoorden"
            status = "responding"
            """
        )


def test_an_adapted_scheme_from_config_is_used(make_config):
    config = make_config(
        """
        [scheme]
        start = "Q"
        [[scheme.questions]]
        id = "Q"
        text = {nl = "Vraag of klacht?", en = "Question or complaint?"}
        options = [{key = "v", goto = "A", label = "vraag"}, {key = "k", goto = "B", label = "klacht"}]
        [[scheme.leaves]]
        id = "A"
        action = "Beantwoorden"
        status = "responding"
        reply = true
        [[scheme.leaves]]
        id = "B"
        action = "Doorsturen"
        status = "routed"
        route = "unit"
        """
    )
    walk = Walk(config.scheme)
    assert walk.answer("k") and walk.path() == ["Q:k", "B"]
