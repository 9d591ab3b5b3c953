"""Native runs: one question asked in a session over the API, with its events, approvals and cancel.

A run belongs to the caller who started it (and so does its session). While it runs, its events go to the
stream of the request that started it (`POST /v1/sessions/{id}/runs` with `stream: true`) and its state is
readable at `GET /v1/runs/{id}`. One run at a time per session: a second gets 409 while the first runs.

Approval: when the approval policy says "ask" for a tool call, the run pauses and emits `approval.required`
with the tool, its exact arguments and their SHA-256; `POST /v1/runs/{id}/approvals/{approval_id}` with
`{"decision": "approve" | "deny", "arguments_sha256": ...}` decides it, bound to those arguments (another
digest is refused). Nobody deciding within `timeout_s` is a denial.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from k2_host.agent.middleware import Middleware, RequestContext, RequestNext
from k2_host.api.roles import Principal
from k2_host.results import AgentResult

RunStatus = Literal["running", "waiting_approval", "completed", "failed", "cancelled"]
Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


def arguments_digest(arguments: dict[str, Any]) -> str:
    """SHA-256 of the arguments as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Approval:
    id: str
    tool: str
    arguments: dict[str, Any]
    digest: str
    reason: str
    expires_at: float
    decision: Literal["approve", "deny"] | None = None
    by: str | None = None  # who decided: a subject, or "timeout"
    done: anyio.Event = field(default_factory=anyio.Event)

    def decide(self, decision: Literal["approve", "deny"], by: str) -> None:
        self.decision, self.by = decision, by
        self.done.set()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tool": self.tool,
            "arguments": self.arguments,
            "arguments_sha256": self.digest,
            "reason": self.reason,
            "expires_at": self.expires_at,
            "decision": self.decision,
            "decided_by": self.by,
        }


@dataclass
class ApiRun:
    id: str
    session_id: str
    principal: Principal
    input: str
    created_at: float = field(default_factory=time.time)
    status: RunStatus = "running"
    finished_at: float | None = None
    request_id: str | None = None  # the request's id: its trajectory's, and what feedback names
    result: dict[str, Any] | None = None
    error: str | None = None
    approvals: dict[str, Approval] = field(default_factory=dict)
    emit: Emit | None = None  # the stream of the request that started it, if it streams
    scope: anyio.CancelScope | None = None

    async def event(self, kind: str, data: dict[str, Any]) -> None:
        if self.emit is not None:
            await self.emit(kind, {"run_id": self.id, **data})

    def pending(self) -> list[Approval]:
        return [a for a in self.approvals.values() if a.decision is None]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "run",
            "session_id": self.session_id,
            "status": self.status,
            "input": self.input,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "request_id": self.request_id,
            "approvals": [a.public() for a in self.approvals.values()],
            "result": self.result,
            "error": self.error,
        }


current_run: ContextVar[ApiRun | None] = ContextVar("k2_api_run", default=None)


class SessionBusy(Exception):
    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


class RunRegistry:
    """The runs in flight, and the last `keep` finished ones (for `GET /v1/runs/{id}`)."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._runs: OrderedDict[str, ApiRun] = OrderedDict()
        self._busy: dict[str, str] = {}  # session id -> its running run

    def start(self, session_id: str, principal: Principal, text: str) -> ApiRun:
        if (running := self._busy.get(session_id)) is not None:
            raise SessionBusy(running)
        run = ApiRun(id=f"run_{uuid.uuid4().hex}", session_id=session_id, principal=principal, input=text)
        self._busy[session_id] = run.id
        self._runs[run.id] = run
        if len(self._runs) > self.keep:
            self._trim()
        return run

    def finish(self, run: ApiRun, status: RunStatus) -> None:
        run.status, run.finished_at, run.scope, run.emit = status, time.time(), None, None
        for approval in run.pending():  # nobody can decide them any more
            approval.decide("deny", "run ended")
        if self._busy.get(run.session_id) == run.id:
            del self._busy[run.session_id]

    def get(self, run_id: str) -> ApiRun | None:
        return self._runs.get(run_id)

    def running(self) -> list[ApiRun]:
        return [self._runs[rid] for rid in self._busy.values()]

    def busy(self, session_id: str) -> bool:
        return session_id in self._busy

    def _trim(self) -> None:
        finished = [rid for rid, r in self._runs.items() if r.finished_at is not None]
        for rid in finished[: max(0, len(self._runs) - self.keep)]:
            del self._runs[rid]


class RunTracker(Middleware):
    """Notes a run's request id (its trajectory's) as its request starts."""

    async def request(self, ctx: RequestContext, call_next: RequestNext) -> AgentResult:
        run = current_run.get()
        if run is not None and ctx.depth == 0 and run.request_id is None:
            run.request_id = ctx.request_id
        return await call_next(ctx)
