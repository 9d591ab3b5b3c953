"""Which tool calls go ahead: approval rules, defaults from the tool's annotations, and tool visibility.

Rules are `{pattern: decision}` with `fnmatch` patterns (case-sensitive; `*` also matches `.`) over the
namespaced name `server.tool`: `"filesystem.*"`, `"*.delete_file"`, `"codeexec.execute_*"`. When several match:

1. a pattern without wildcards (the exact name) beats every glob;
2. otherwise the pattern with the most literal characters wins (`*` and `?` count 0, a `[...]` class 1),
   so `codeexec.execute_*` beats `codeexec.*`, which beats `*`;
3. on a tie the most restrictive decision wins (deny over ask over allow), whatever the order in the config.

Without a matching rule: read-only → allow; destructive (MCP's default when a server says nothing) → ask;
other writes → allow. Annotations are the server's own claims, so rules are how a user overrides them.
A host that cannot ask (not interactive, or no `ask` callback) denies what would be asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, Literal, get_args

from .types import ToolInfo

Decision = Literal["allow", "ask", "deny"]
_DECISIONS: tuple[str, ...] = get_args(Decision)
_STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}
_WILDCARDS = frozenset("*?[")


def _specificity(pattern: str) -> tuple[int, int]:
    """(1 when exact, literal characters) — higher is more specific."""
    if not _WILDCARDS & set(pattern):
        return (1, len(pattern))
    literal, i = 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            j = i + 1
            j += j < len(pattern) and pattern[j] == "!"
            j += j < len(pattern) and pattern[j] == "]"
            end = pattern.find("]", j)
            if end != -1:  # a class matches one character; an unclosed "[" is a literal
                literal += 1
                i = end + 1
                continue
        if char not in "*?":
            literal += 1
        i += 1
    return (0, literal)


class ApprovalPolicy:
    """Decides allow / ask / deny for each tool, and asks the user through `ask` where it must."""

    def __init__(
        self,
        rules: Mapping[str, Decision] | None = None,
        *,
        interactive: bool,
        ask: Callable[[ToolInfo, dict[str, Any]], Awaitable[bool]] | None = None,
    ) -> None:
        for pattern, decision in (rules or {}).items():
            if decision not in _DECISIONS:
                raise ValueError(f"approval rule {pattern!r}: {decision!r} is not one of {', '.join(_DECISIONS)}")
        # Most specific first; ties most restrictive first.
        self._rules: list[tuple[str, Decision]] = sorted(
            (rules or {}).items(), key=lambda rule: (_specificity(rule[0]), _STRICTNESS[rule[1]]), reverse=True
        )
        self.interactive = interactive
        self.ask = ask

    def decide(self, info: ToolInfo) -> Decision:
        """The decision for a call of this tool; never "ask" when the host cannot ask."""
        return self._resolve(info)[0]

    async def authorize(self, info: ToolInfo, arguments: dict[str, Any] | None) -> tuple[bool, str]:
        """(allowed?, why) for one call, asking the user when the decision is "ask"."""
        decision, why = self._resolve(info)
        if decision == "allow":
            return True, why
        if decision == "deny" or self.ask is None:  # (_resolve already turns "ask" without `ask` into "deny")
            return False, why
        if await self.ask(info, arguments or {}):
            return True, f"approved by the user ({why})"
        return False, f"refused by the user ({why})"

    def _resolve(self, info: ToolInfo) -> tuple[Decision, str]:
        decision, why = self._match(info)
        if decision == "ask" and not (self.interactive and self.ask is not None):
            reason = "the host is not interactive" if not self.interactive else "no approver is configured"
            return "deny", f"{why}, and approval cannot be asked: {reason}"
        return decision, why

    def _match(self, info: ToolInfo) -> tuple[Decision, str]:
        for pattern, decision in self._rules:
            if fnmatchcase(info.name, pattern):
                return decision, f"rule {pattern!r} says {decision}"
        if info.read_only:
            return "allow", "read-only tool"
        if info.destructive:
            return "ask", "destructive tool needs approval"
        return "allow", "non-destructive tool"


def tool_visible(name: str, allow: Sequence[str], deny: Sequence[str]) -> bool:
    """Is a server's tool (bare name) offered at all? A matching `deny` glob wins; an empty `allow` allows all."""
    if any(fnmatchcase(name, pattern) for pattern in deny):
        return False
    return not allow or any(fnmatchcase(name, pattern) for pattern in allow)
