"""Tool names and arguments on the wire."""

from __future__ import annotations

import re

import pytest
from k2_host.llm.names import ToolNames, parse_arguments, unwire_name, wire_name

SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("filesystem.read_file", "filesystem__read_file"),
        ("read_file", "read_file"),
        ("a.b.c", "a__b__c"),
        ("db.get-schema", "db__get-schema"),
    ],
)
def test_dotted_names_map_to_double_underscores_and_back(name: str, wire: str) -> None:
    assert wire_name(name) == wire
    assert unwire_name(wire) == name


@pytest.mark.parametrize("name", ["has__double", "a_.b", "web search", "ünïcode.tool", "", "s." + "x" * 80])
def test_names_the_dot_rule_cannot_carry_get_a_safe_unique_form(name: str) -> None:
    wire = wire_name(name)
    assert SAFE.match(wire)
    assert ToolNames([name]).from_wire(wire) == name


def test_names_that_would_meet_on_the_wire_stay_apart() -> None:
    names = ["a.b", "a__b", "a._b", "a_.b", "x" * 70, "x" * 71, "web search", "web_search"]
    wires = [wire_name(n) for n in names]
    assert len(set(wires)) == len(names)
    table = ToolNames(names)
    assert [table.from_wire(w) for w in wires] == names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1}', ({"a": 1}, None)),
        ({"a": 1}, ({"a": 1}, None)),
        ("", ({}, None)),
        (None, ({}, None)),
        ('{"a": 1', ({}, '{"a": 1')),
        ("[1]", ({}, "[1]")),
        ("null", ({}, "null")),
        ("plain words", ({}, "plain words")),
    ],
)
def test_arguments_are_an_object_or_kept_raw(raw: object, expected: tuple[dict[str, object], str | None]) -> None:
    assert parse_arguments(raw) == expected
