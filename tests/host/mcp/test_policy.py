"""The approval policy (rules, defaults, interactive or not) and per-server tool visibility."""

from __future__ import annotations

from typing import Any

import pytest
from k2_host.mcp.policy import ApprovalPolicy, Decision, tool_visible
from k2_host.mcp.types import ToolInfo

pytestmark = pytest.mark.anyio


def tool(name: str, *, read_only: bool = False, destructive: bool = True) -> ToolInfo:
    server, _, bare = name.partition(".")
    return ToolInfo(name=name, server=server, tool=bare, read_only=read_only, destructive=destructive)


READ = tool("filesystem.read_file", read_only=True, destructive=False)
WRITE = tool("filesystem.write_file", destructive=False)
DELETE = tool("filesystem.delete_file")
UNANNOTATED = tool("other.do_something")  # a server that says nothing: MCP says destructive
EXEC = tool("codeexec.execute_python")


class Approver:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, info: ToolInfo, arguments: dict[str, Any]) -> bool:
        self.asked.append((info.name, arguments))
        return self.answer


# --- defaults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "expected"),
    [(READ, "allow"), (WRITE, "allow"), (DELETE, "ask"), (UNANNOTATED, "ask"), (EXEC, "ask")],
)
def test_defaults_come_from_the_annotations(info: ToolInfo, expected: Decision) -> None:
    assert ApprovalPolicy(interactive=True, ask=Approver(True)).decide(info) == expected


def test_a_tool_claiming_read_only_and_destructive_counts_as_read_only() -> None:
    both = tool("x.odd", read_only=True, destructive=True)
    assert ApprovalPolicy(interactive=True, ask=Approver(True)).decide(both) == "allow"


def test_non_interactive_turns_ask_into_deny() -> None:
    policy = ApprovalPolicy({"filesystem.write_file": "ask"}, interactive=False)
    assert policy.decide(DELETE) == "deny"
    assert policy.decide(WRITE) == "deny"
    assert policy.decide(READ) == "allow"


def test_interactive_without_an_approver_denies_what_it_would_ask() -> None:
    assert ApprovalPolicy(interactive=True).decide(DELETE) == "deny"


# --- rules -------------------------------------------------------------------------------------------------


def test_rules_override_the_annotations() -> None:
    policy = ApprovalPolicy(
        {"filesystem.read_file": "deny", "filesystem.delete_file": "allow"}, interactive=True, ask=Approver(True)
    )
    assert policy.decide(READ) == "deny"
    assert policy.decide(DELETE) == "allow"


def test_an_exact_name_beats_any_glob() -> None:
    rules: dict[str, Decision] = {"filesystem.*": "deny", "*": "deny", "filesystem.write_fil?": "deny"}
    policy = ApprovalPolicy({**rules, "filesystem.write_file": "allow"}, interactive=True, ask=Approver(True))
    assert policy.decide(WRITE) == "allow"
    assert policy.decide(READ) == "deny"


def test_the_glob_with_more_literal_characters_wins() -> None:
    policy = ApprovalPolicy(
        {"*": "deny", "codeexec.*": "ask", "codeexec.execute_*": "allow"}, interactive=True, ask=Approver(True)
    )
    assert policy.decide(EXEC) == "allow"
    assert policy.decide(tool("codeexec.list_runs", read_only=True)) == "ask"
    assert policy.decide(READ) == "deny"


def test_rule_order_in_the_config_does_not_matter() -> None:
    rules: list[tuple[str, Decision]] = [("*.delete_file", "allow"), ("filesystem.*", "deny"), ("*", "ask")]
    forward = ApprovalPolicy(dict(rules), interactive=True, ask=Approver(True))
    backward = ApprovalPolicy(dict(reversed(rules)), interactive=True, ask=Approver(True))
    for info in (READ, WRITE, DELETE, UNANNOTATED, EXEC):
        assert forward.decide(info) == backward.decide(info)
    assert forward.decide(DELETE) == "allow"  # "*.delete_file": 12 literal characters; "filesystem.*": 11
    assert forward.decide(WRITE) == "deny"
    assert forward.decide(EXEC) == "ask"


@pytest.mark.parametrize(("other", "expected"), [("deny", "deny"), ("ask", "ask")])
def test_equally_specific_globs_resolve_to_the_most_restrictive(other: Decision, expected: Decision) -> None:
    tie: list[tuple[str, Decision]] = [("*.delete_*", "allow"), ("filesyst*", other)]  # 8 literals each
    for rules in (dict(tie), dict(reversed(tie))):
        assert ApprovalPolicy(rules, interactive=True, ask=Approver(True)).decide(DELETE) == expected


def test_a_character_class_counts_as_one_literal() -> None:
    policy = ApprovalPolicy(
        {"filesystem.[dw]*": "deny", "filesystem.de*": "allow"}, interactive=True, ask=Approver(True)
    )
    assert policy.decide(DELETE) == "allow"  # "filesystem.de*" has 13 literals, "filesystem.[dw]*" 12
    assert policy.decide(WRITE) == "deny"


def test_globs_are_case_sensitive() -> None:
    policy = ApprovalPolicy({"FILESYSTEM.*": "deny"}, interactive=True, ask=Approver(True))
    assert policy.decide(READ) == "allow"


def test_a_bad_decision_in_the_rules_fails_fast_naming_the_rule() -> None:
    with pytest.raises(ValueError, match="filesystem"):
        ApprovalPolicy({"filesystem.*": "yes"}, interactive=True)  # type: ignore[dict-item]


# --- authorize ---------------------------------------------------------------------------------------------


async def test_authorize_allows_without_asking() -> None:
    approver = Approver(False)
    allowed, why = await ApprovalPolicy(interactive=True, ask=approver).authorize(READ, {"path": "a"})
    assert allowed
    assert "read-only" in why
    assert approver.asked == []


async def test_authorize_asks_for_destructive_tools_and_follows_the_answer() -> None:
    yes, no = Approver(True), Approver(False)
    assert (await ApprovalPolicy(interactive=True, ask=yes).authorize(DELETE, {"path": "a"}))[0] is True
    allowed, why = await ApprovalPolicy(interactive=True, ask=no).authorize(DELETE, None)
    assert allowed is False
    assert "refused by the user" in why
    assert yes.asked == [("filesystem.delete_file", {"path": "a"})]
    assert no.asked == [("filesystem.delete_file", {})]


async def test_authorize_never_asks_when_not_interactive() -> None:
    approver = Approver(True)
    allowed, why = await ApprovalPolicy(interactive=False, ask=approver).authorize(DELETE, {})
    assert allowed is False
    assert "not interactive" in why
    assert approver.asked == []


async def test_authorize_denies_by_rule_without_asking() -> None:
    approver = Approver(True)
    policy = ApprovalPolicy({"codeexec.*": "deny"}, interactive=True, ask=approver)
    allowed, why = await policy.authorize(EXEC, {"code": "print(1)"})
    assert allowed is False
    assert "codeexec.*" in why
    assert approver.asked == []


async def test_a_rule_can_require_asking_for_a_read_only_tool() -> None:
    approver = Approver(True)
    policy = ApprovalPolicy({"filesystem.read_file": "ask"}, interactive=True, ask=approver)
    assert (await policy.authorize(READ, {"path": ".env"}))[0] is True
    assert approver.asked == [("filesystem.read_file", {"path": ".env"})]


# --- visibility --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "allow", "deny", "visible"),
    [
        ("read_file", [], [], True),
        ("read_file", ["read_*", "list_*"], [], True),
        ("write_file", ["read_*", "list_*"], [], False),
        ("write_file", [], ["write_*"], False),
        ("read_file", [], ["write_*"], True),
        ("read_file", ["*"], ["read_file"], False),  # deny wins over allow
        ("Read_File", ["read_*"], [], False),  # case-sensitive
    ],
)
def test_tool_visibility_globs(name: str, allow: list[str], deny: list[str], visible: bool) -> None:
    assert tool_visible(name, allow, deny) is visible
