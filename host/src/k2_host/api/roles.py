"""Roles and what each may do, on endpoints and on tools.

| role     | endpoints                                                       | tools (MCP calls while answering) |
|----------|-----------------------------------------------------------------|-----------------------------------|
| admin    | everything: keys, audit, every owner's sessions and runs        | all (approval policy applies)     |
| operator | as user, and status and knowledge ingestion                     | all (approval policy applies)     |
| user     | ask, own sessions and runs, approve, feedback, knowledge        | read-only, none of `codeexec`     |
| viewer   | read every session and run (no asking, no changes), status      | none (a viewer cannot ask)        |

The caller of the request being answered is `current_principal` (a context variable the API sets for the
request; sub-agents started by fan-out inherit it). `RolePolicy` wraps the manager's approval policy: with no
principal (the CLI, the Python API) it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from k2_host.mcp.types import ToolInfo

ROLES = ("admin", "operator", "user", "viewer")
_WORKER = {"ask", "models", "sessions", "read_sessions", "approve", "feedback", "knowledge", "tools", "skills"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({*_WORKER, "status", "ingest", "admin", "all_sessions", "read_all_sessions"}),
    "operator": frozenset({*_WORKER, "status", "ingest"}),
    "user": frozenset(_WORKER),
    "viewer": frozenset({"models", "status", "tools", "skills", "read_sessions", "read_all_sessions"}),
}
USER_DENIED_SERVERS = frozenset({"codeexec"})


@dataclass(frozen=True)
class Principal:
    subject: str  # "key:<id>", "jwt:<sub>" or "local"
    role: str
    method: str  # "api-key", "jwt" or "none"


current_principal: ContextVar[Principal | None] = ContextVar("k2_api_principal", default=None)


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def tool_allowed(role: str, info: ToolInfo) -> tuple[bool, str]:
    if role in ("admin", "operator"):
        return True, f"role {role}"
    if role == "user":
        if info.server in USER_DENIED_SERVERS:
            return False, f"role user may not use the {info.server} server"
        if not info.read_only:
            return False, "role user may use read-only tools only"
        return True, "role user, read-only tool"
    return False, f"role {role} may not call tools"


def skill_allowed(role: str, skill: Any) -> tuple[bool, str]:
    """Whether `role` may run `skill` (a `k2_host.skills.Skill`): as its tools allow (a user's requests may not
    reach codeexec, so not the skills that run scripts there; a viewer does not ask)."""
    if role in ("admin", "operator"):
        return True, f"role {role}"
    if role == "user":
        denied = sorted(set(skill.servers) & USER_DENIED_SERVERS)
        if denied:
            return False, f"role user may not use the {', '.join(denied)} server the skill runs on"
        return True, "role user"
    return False, f"role {role} may not ask, so may not run skills"


class Authorizer(Protocol):
    async def authorize(self, info: ToolInfo, arguments: dict[str, Any] | None) -> tuple[bool, str]: ...

    def decide(self, info: ToolInfo) -> str: ...


class RolePolicy:
    """The manager's approval policy, with the caller's role checked first. A call the policy would ask about
    is refused where nobody can be asked (`can_ask()` false: a chat completion rather than a run)."""

    def __init__(
        self,
        inner: Authorizer,
        on_denied: Callable[[Principal, ToolInfo, str], None] | None = None,
        can_ask: Callable[[], bool] = lambda: False,
    ) -> None:
        self.inner = inner
        self.on_denied = on_denied
        self.can_ask = can_ask

    async def authorize(self, info: ToolInfo, arguments: dict[str, Any] | None) -> tuple[bool, str]:
        principal = current_principal.get()
        if principal is not None:
            ok, why = tool_allowed(principal.role, info)
            if not ok:
                if self.on_denied is not None:
                    self.on_denied(principal, info, why)
                return False, why
            if not self.can_ask() and self.inner.decide(info) == "ask":
                why = "it needs approval, which is asked only in runs (POST /v1/sessions/{id}/runs)"
                if self.on_denied is not None:
                    self.on_denied(principal, info, why)
                return False, why
        return await self.inner.authorize(info, arguments)

    def __getattr__(self, name: str) -> Any:  # the rest of the approval policy's interface
        return getattr(self.inner, name)
