"""The API's native endpoints: sessions, runs (with their event stream, cancel and approvals), feedback,
knowledge search and the tools a caller may use.

    POST   /v1/sessions                         a new session, owned by the caller
    GET    /v1/sessions[?all=true]              the caller's sessions (every owner's: admin, viewer)
    GET    /v1/sessions/{id}                    one session with its turns
    DELETE /v1/sessions/{id}
    POST   /v1/sessions/{id}/runs               ask in the session (`skill`: with that skill); `stream: true`
                                                answers with server-sent
                                                events (run.started, text.delta, tool.started, tool.completed,
                                                approval.required, approval.resolved, step, run.completed,
                                                run.failed, run.cancelled), else the finished run as JSON
    GET    /v1/runs/{id}                        a run's state, pending approvals and result
    POST   /v1/runs/{id}/cancel
    POST   /v1/runs/{id}/approvals/{approval}   {"decision": "approve"|"deny", "arguments_sha256": ...}
    POST   /v1/feedback                         {"run_id" or "request_id", "rating": "good"|"bad", "note", "skill"}
    GET    /v1/knowledge/search?q=...&k=5
    POST   /v1/knowledge/ingest                 {"path": ...}: a background job (202), see `k2_host.api.jobs`
    GET    /v1/knowledge/jobs/{id}              its progress, then its report
    GET    /v1/tools                            every tool, with whether the caller's role may call it
    GET    /v1/skills[?category=...]            every skill, with whether the caller's role may run it
    GET    /v1/skills/{name}                    one skill: instructions, bundled files, prerequisites, metrics

A session or run of another owner is "not found" to a caller who may not see it (its existence is not told).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from k2_host.api.http import ApiError, EventStream, Writer, public_message, read_json
from k2_host.api.jobs import IngestJobs, JobBusy
from k2_host.api.openapi import Operation
from k2_host.api.roles import Principal, allowed, current_principal, skill_allowed, tool_allowed
from k2_host.api.runs import ApiRun, Approval, RunRegistry, RunStatus, SessionBusy, arguments_digest, current_run
from k2_host.context.transcript import SessionInfo, Transcript
from k2_host.errors import ConfigError
from k2_host.learning.store import Feedback
from k2_host.mcp.types import ToolInfo
from k2_host.results import AgentEvent, AgentResult
from k2_host.skills import CATEGORIES, Skill

if TYPE_CHECKING:
    from k2_host.api.app import ApiService

logger = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str = Field(min_length=1, max_length=100_000, description="the question or task")
    stream: bool = Field(default=True, description="answer with server-sent events as the run goes")
    max_steps: int | None = Field(default=None, ge=1, le=100)
    skill: str | None = Field(default=None, max_length=64, description="answer with this skill (GET /v1/skills)")


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "deny"]
    arguments_sha256: str = Field(
        min_length=64, max_length=64, description="the digest from the approval event: binds the decision"
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, max_length=100)
    rating: Literal["good", "bad"]
    note: str = Field(default="", max_length=4000)
    skill: str = Field(
        default="", max_length=64, description="a correction: the skill that should have answered ('none': no skill)"
    )


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096, description="a file or folder the filesystem server may read")


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")


def result_facts(result: AgentResult) -> dict[str, Any]:
    """What an answer came from: engine, stop reason, citations, tool calls, failures."""
    return {
        "engine": result.engine,
        "model": result.model,
        "stopped": result.stopped,
        "citations": [c.model_dump() for c in result.citations],
        "tool_calls": [
            {"name": t.name, "is_error": t.is_error, "error_code": t.error_code, "duration_ms": round(t.duration_ms, 3)}
            for t in result.tool_calls
        ],
        "errors": result.errors,
    }


def run_result(result: AgentResult) -> dict[str, Any]:
    return {"answer": result.answer, **result_facts(result), "usage": result.usage.model_dump()}


def _session_json(info: SessionInfo) -> dict[str, Any]:
    return {"object": "session", **info.model_dump()}


def _turn_json(turn: Any) -> dict[str, Any]:
    return turn.model_dump(mode="json", exclude={"provider_data"})


class NativeApi:
    def __init__(self, service: ApiService, *, approval_timeout_s: float = 300.0) -> None:
        self.svc = service
        self.runs = RunRegistry()
        self.jobs = IngestJobs(service.runtime)
        self.approval_timeout_s = approval_timeout_s

    # -- access

    async def _session(self, principal: Principal, session_id: str, *, write: bool) -> SessionInfo:
        try:
            info = await self.svc.runtime.sessions.info(session_id)  # (ConfigError for a malformed id)
        except ConfigError:
            info = None
        everyone = "all_sessions" if write else "read_all_sessions"
        if info is None or (info.owner != principal.subject and not allowed(principal.role, everyone)):
            raise ApiError(404, f"no session {session_id[:140]!r} for this caller", code="session_not_found")
        return info

    def _run(self, principal: Principal, run_id: str, *, write: bool) -> ApiRun:
        run = self.runs.get(run_id)
        everyone = "all_sessions" if write else "read_all_sessions"
        if run is None or (run.principal.subject != principal.subject and not allowed(principal.role, everyone)):
            raise ApiError(404, f"no run {run_id[:140]!r} for this caller", code="run_not_found")
        return run

    # -- sessions

    async def create_session(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "sessions")
        await read_json(request, SessionCreate)
        info = await self.svc.runtime.sessions.create(principal.subject)
        self.svc.audit.append("session_created", principal.subject, principal.role, session=info.id)
        return JSONResponse(_session_json(info), status_code=201)

    async def list_sessions(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "read_sessions")
        everyone = request.query_params.get("all", "false").lower() in ("1", "true", "yes")
        if everyone and not allowed(principal.role, "read_all_sessions"):
            raise ApiError(403, f"role {principal.role} sees only its own sessions", code="forbidden")
        limit = _int_param(request, "limit", 50, 1, 1000)
        found = await self.svc.runtime.sessions.list(limit, owner=None if everyone else principal.subject)
        return JSONResponse({"object": "list", "data": [_session_json(s) for s in found]})

    async def get_session(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "read_sessions")
        info = await self._session(principal, request.path_params["session_id"], write=False)
        transcript: Transcript = await self.svc.runtime.sessions.open(info.id)
        body = _session_json(info) | {
            "running": self.runs.busy(info.id),
            "turns": [_turn_json(t) for t in transcript.turns],
        }
        return JSONResponse(body)

    async def delete_session(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "sessions")
        info = await self._session(principal, request.path_params["session_id"], write=True)
        if self.runs.busy(info.id):
            raise ApiError(409, "the session has a run in progress; cancel it first", code="session_busy")
        await self.svc.runtime.delete_session(info.id)
        self.svc.audit.append("session_deleted", principal.subject, principal.role, session=info.id)
        return JSONResponse({"id": info.id, "object": "session", "deleted": True})

    # -- runs

    async def create_run(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "ask")
        info = await self._session(principal, request.path_params["session_id"], write=True)
        if info.owner != principal.subject:
            raise ApiError(403, "only the session's owner may ask in it", kind="permission_error", code="forbidden")
        body = await read_json(request, RunRequest)
        if not body.input.strip():
            raise ApiError(422, "input: the question is empty", code="invalid_value", param="input")
        if body.skill is not None:
            skill = self._skill(principal, body.skill)
            ok, why = skill_allowed(principal.role, skill)
            if not ok:
                raise ApiError(403, f"skill {skill.name}: {why}", kind="permission_error", code="forbidden")
        try:
            run = self.runs.start(info.id, principal, body.input)
        except SessionBusy as busy:
            raise ApiError(
                409, f"the session is answering run {busy.run_id}; wait for it or cancel it", code="session_busy"
            ) from None
        self.svc.audit.append(
            "request", principal.subject, principal.role, endpoint="runs", run=run.id, session=info.id
        )
        if body.stream:

            async def produce(write: Writer) -> None:
                await self._execute(run, body.max_steps, _sse(write), body.skill)

            return EventStream(produce, on_unstarted=lambda: self._finish(run, "cancelled"))
        await self._execute(run, body.max_steps, None, body.skill)
        return JSONResponse(run.public(), status_code=200)

    async def _execute(self, run: ApiRun, max_steps: int | None, emit: Any, skill: str | None = None) -> None:
        run.emit = emit
        ptoken, rtoken = current_principal.set(run.principal), current_run.set(run)
        status: RunStatus = "failed"

        async def on_event(event: AgentEvent) -> None:
            await run.event(*_event(event))

        try:
            await run.event("run.started", {"session_id": run.session_id, "created_at": run.created_at})
            result: AgentResult | None = None
            with anyio.CancelScope() as scope:
                run.scope = scope
                result = await self.svc.runtime.ask(
                    run.input, session=run.session_id, on_event=on_event, max_steps=max_steps, skill=skill
                )
            if result is None:  # cancelled over the API
                status = "cancelled"
                await run.event("run.cancelled", {"reason": "cancelled over the API"})
            else:
                run.result = run_result(result)
                status = "completed"
                await run.event("run.completed", {"request_id": run.request_id, **run.result})
        except Exception as exc:  # the caller gets the message, the log the traceback
            logger.exception("run %s failed", run.id)
            run.error = public_message(exc)
            await run.event("run.failed", {"error": run.error})
        except BaseException:  # the client went away: the run goes with it
            status = "cancelled"
            run.error = "the client disconnected"
            raise
        finally:
            current_run.reset(rtoken)
            current_principal.reset(ptoken)
            self._finish(run, status)

    def _finish(self, run: ApiRun, status: RunStatus) -> None:
        if run.finished_at is not None:
            return
        self.runs.finish(run, status)
        p = run.principal
        self.svc.audit.append("run_finished", p.subject, p.role, run=run.id, session=run.session_id, status=status)

    async def get_run(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "read_sessions")
        return JSONResponse(self._run(principal, request.path_params["run_id"], write=False).public())

    async def cancel_run(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "sessions")
        run = self._run(principal, request.path_params["run_id"], write=True)
        if run.finished_at is None and run.scope is not None:
            run.scope.cancel()
            self.svc.audit.append("run_cancel", principal.subject, principal.role, run=run.id)
        return JSONResponse({"id": run.id, "object": "run", "status": run.status, "cancel_requested": True})

    async def decide(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "approve")
        run = self._run(principal, request.path_params["run_id"], write=True)
        approval = run.approvals.get(request.path_params["approval_id"])
        if approval is None:
            raise ApiError(404, "no such approval in this run", code="approval_not_found")
        body = await read_json(request, ApprovalDecision)
        if approval.decision is not None:
            raise ApiError(409, f"already decided: {approval.decision} by {approval.by}", code="already_decided")
        if body.arguments_sha256 != approval.digest:
            self.svc.audit.append("approval_refused", principal.subject, principal.role, run=run.id, tool=approval.tool)
            raise ApiError(
                409,
                "arguments_sha256 does not match the arguments this approval is for",
                code="arguments_mismatch",
                param="arguments_sha256",
            )
        approval.decide(body.decision, principal.subject)
        self.svc.metrics.approvals.labels(body.decision).inc()
        self.svc.audit.append(
            "approval", principal.subject, principal.role, run=run.id, tool=approval.tool, decision=body.decision
        )
        return JSONResponse(approval.public())

    async def ask_approval(self, info: ToolInfo, arguments: dict[str, Any]) -> bool:
        """The approval policy's "ask", in a run: pause it, tell its stream, wait for a decision or the timeout."""
        run = current_run.get()
        if run is None:  # (the role policy refuses first where nobody can be asked)
            return False
        approval = Approval(
            id=f"apr_{len(run.approvals) + 1}",
            tool=info.name,
            arguments=arguments,
            digest=arguments_digest(arguments),
            reason="a destructive tool needs approval" if info.destructive else "an approval rule asks for it",
            expires_at=time.time() + self.approval_timeout_s,
        )
        run.approvals[approval.id] = approval
        run.status = "waiting_approval"
        await run.event("approval.required", approval.public())
        with anyio.move_on_after(self.approval_timeout_s):
            await approval.done.wait()
        if approval.decision is None:
            approval.decide("deny", "timeout")
            self.svc.metrics.approvals.labels("deny").inc()
            self.svc.audit.append("approval", "k2", None, run=run.id, tool=info.name, decision="deny", by="timeout")
        run.status = "running"
        await run.event("approval.resolved", approval.public())
        return approval.decision == "approve"

    # -- feedback, knowledge, tools

    async def feedback(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "feedback")
        body = await read_json(request, FeedbackRequest)
        if (body.run_id is None) == (body.request_id is None):
            raise ApiError(422, "give run_id or request_id (one of them)", code="invalid_value", param="run_id")
        store = self.svc.runtime.trajectories
        if store is None:
            raise ApiError(409, "learning.record is off: no answers are kept to rate", code="not_recorded")
        request_id = body.request_id
        if body.run_id is not None:
            run = self._run(principal, body.run_id, write=False)
            if run.request_id is None or run.finished_at is None:
                raise ApiError(409, "the run has not finished yet", code="run_not_finished", param="run_id")
            request_id = run.request_id
        assert request_id is not None
        if body.skill and body.skill != "none" and self.svc.runtime.skills.registry.get(body.skill) is None:
            raise ApiError(
                422, f"no skill named {body.skill!r}; see GET /v1/skills", code="invalid_value", param="skill"
            )
        trajectory = await store.get(request_id)
        if trajectory is None or not await self._may_rate(principal, trajectory.session_id):
            raise ApiError(404, "no recorded answer with that id for this caller", code="not_found")
        await store.add_feedback(
            Feedback(
                trajectory_id=request_id, rating=body.rating, note=body.note, by=principal.subject, skill=body.skill
            )
        )
        self.svc.audit.append("feedback", principal.subject, principal.role, request=request_id, rating=body.rating)
        return JSONResponse({"object": "feedback", "request_id": request_id, "rating": body.rating}, status_code=201)

    async def _may_rate(self, principal: Principal, session_id: str) -> bool:
        if allowed(principal.role, "all_sessions"):
            return True
        try:
            info = await self.svc.runtime.sessions.info(session_id) if session_id else None
        except ConfigError:
            return False
        return info is not None and info.owner == principal.subject

    async def knowledge_search(self, request: Request) -> Response:
        self.svc.authenticate(request, "knowledge")
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ApiError(422, "q: give the text to search for", code="invalid_value", param="q")
        if len(query) > 2000:
            raise ApiError(422, "q: at most 2000 characters", code="invalid_value", param="q")
        k = _int_param(request, "k", 5, 1, 50)
        knowledge = self.svc.runtime.knowledge
        if knowledge is None:
            return JSONResponse({"object": "list", "data": [], "indexed": False})
        hits = await knowledge.search(query, k=k)
        data = [
            {"text": h.text, "score": h.score, "source": h.source, "citation": h.citation, "doc_id": h.doc_id}
            for h in hits
        ]
        return JSONResponse({"object": "list", "data": data, "indexed": True})

    async def ingest(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "ingest")
        body = await read_json(request, IngestRequest)
        try:
            job = self.jobs.start(body.path, principal)
        except JobBusy:
            raise ApiError(409, "an ingest job is running; wait for it to finish", code="job_running") from None
        self.svc.audit.append("ingest_started", principal.subject, principal.role, job=job.id)
        return JSONResponse(job.public(), status_code=202, headers={"Location": f"/v1/knowledge/jobs/{job.id}"})

    async def ingest_job(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "ingest")
        job = self.jobs.get(request.path_params["job_id"])
        if job is None or (job.principal.subject != principal.subject and not allowed(principal.role, "admin")):
            raise ApiError(404, "no such ingest job for this caller", code="job_not_found")
        return JSONResponse(job.public())

    async def tools(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "tools")
        policy = self.svc.runtime.manager.policy
        data = []
        for t in self.svc.runtime.manager.tools():
            ok, why = tool_allowed(principal.role, t)
            data.append(
                {
                    "name": t.name,
                    "server": t.server,
                    "description": t.description,
                    "read_only": t.read_only,
                    "destructive": t.destructive,
                    "allowed": ok,
                    "why": why,
                    "approval": policy.decide(t) if ok else "deny",
                }
            )
        return JSONResponse({"object": "list", "data": data})

    # -- skills

    def _skill(self, principal: Principal, name: str) -> Skill:
        skill = self.svc.runtime.skills.registry.get(name)
        if skill is None:
            raise ApiError(404, f"no skill named {name!r}; GET /v1/skills lists them", code="skill_not_found")
        return skill

    async def skills(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "skills")
        reg = self.svc.runtime.skills.registry
        category = request.query_params.get("category")
        if category is not None and category not in CATEGORIES:
            raise ApiError(422, f"category: use one of {', '.join(CATEGORIES)}", code="invalid_value", param="category")
        data = []
        for s in reg.by_category(category):
            ok, why = skill_allowed(principal.role, s)
            data.append({**s.summary(), "allowed": ok, "why": why})
        return JSONResponse({"object": "list", "data": data, "categories": reg.categories()})

    async def skill(self, request: Request) -> Response:
        principal = self.svc.authenticate(request, "skills")
        s = self._skill(principal, request.path_params["name"])
        ok, why = skill_allowed(principal.role, s)
        metrics = self.svc.runtime.skills.metrics
        stats = metrics.stats(s.name).get(s.name) if metrics is not None else None
        reg = self.svc.runtime.skills.registry
        return JSONResponse(
            {
                **s.summary(),
                "allowed": ok,
                "why": why,
                "instructions": s.body(),
                "files": s.files(),
                "order": [d.name for d in reg.order(s.name)],
                "metrics": stats.data() if stats is not None else None,
            }
        )

    def operations(self) -> list[tuple[Operation, Endpoint]]:
        limit = ("limit", "integer", "at most this many (1-1000, default 50)")
        return [
            (
                Operation(
                    "POST", "/v1/sessions", "createSession", "A new session", "sessions", SessionCreate, status=201
                ),
                self.create_session,
            ),
            (
                Operation(
                    "GET",
                    "/v1/sessions",
                    "listSessions",
                    "Sessions, most recent first",
                    "read_sessions",
                    query=(limit, ("all", "boolean", "every owner's (admin, viewer)")),
                ),
                self.list_sessions,
            ),
            (
                Operation("GET", "/v1/sessions/{session_id}", "getSession", "A session and its turns", "read_sessions"),
                self.get_session,
            ),
            (
                Operation("DELETE", "/v1/sessions/{session_id}", "deleteSession", "Delete a session", "sessions"),
                self.delete_session,
            ),
            (
                Operation(
                    "POST",
                    "/v1/sessions/{session_id}/runs",
                    "createRun",
                    "Ask in a session",
                    "ask",
                    RunRequest,
                    streams=True,
                ),
                self.create_run,
            ),
            (
                Operation("GET", "/v1/runs/{run_id}", "getRun", "A run's state, approvals and result", "read_sessions"),
                self.get_run,
            ),
            (Operation("POST", "/v1/runs/{run_id}/cancel", "cancelRun", "Cancel a run", "sessions"), self.cancel_run),
            (
                Operation(
                    "POST",
                    "/v1/runs/{run_id}/approvals/{approval_id}",
                    "decideApproval",
                    "Approve or deny a paused tool call",
                    "approve",
                    ApprovalDecision,
                ),
                self.decide,
            ),
            (
                Operation(
                    "POST", "/v1/feedback", "giveFeedback", "Rate an answer", "feedback", FeedbackRequest, status=201
                ),
                self.feedback,
            ),
            (
                Operation(
                    "GET",
                    "/v1/knowledge/search",
                    "searchKnowledge",
                    "Search the knowledge index",
                    "knowledge",
                    query=(("q", "string", "what to search for"), ("k", "integer", "hits (1-50)")),
                ),
                self.knowledge_search,
            ),
            (
                Operation(
                    "POST",
                    "/v1/knowledge/ingest",
                    "startIngest",
                    "Ingest a file or folder (a background job)",
                    "ingest",
                    IngestRequest,
                    status=202,
                ),
                self.ingest,
            ),
            (
                Operation("GET", "/v1/knowledge/jobs/{job_id}", "getIngestJob", "An ingest job's progress", "ingest"),
                self.ingest_job,
            ),
            (
                Operation("GET", "/v1/tools", "listTools", "Tools, and whether the caller may use them", "tools"),
                self.tools,
            ),
            (
                Operation(
                    "GET",
                    "/v1/skills",
                    "listSkills",
                    "Skills, and whether the caller may use them",
                    "skills",
                    query=(("category", "string", "only this category"),),
                ),
                self.skills,
            ),
            (
                Operation("GET", "/v1/skills/{name}", "getSkill", "A skill: instructions, files, metrics", "skills"),
                self.skill,
            ),
        ]


def _sse(write: Writer) -> Any:
    async def emit(kind: str, data: dict[str, Any]) -> None:
        await write(f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n")

    return emit


def _event(event: AgentEvent) -> tuple[str, dict[str, Any]]:
    if event.kind == "text":
        return "text.delta", {"text": event.text}
    if event.kind == "tool_start":
        return "tool.started", {"tool": event.text, "arguments": event.data.get("arguments", {})}
    if event.kind == "tool_end":
        d = event.data
        return "tool.completed", {
            "tool": event.text,
            "is_error": bool(d.get("is_error")),
            "error_code": d.get("error_code"),
            "duration_ms": d.get("duration_ms"),
        }
    return "step", {"kind": event.kind, "text": event.text}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(422, f"{name}: a whole number from {low} to {high}", code="invalid_value", param=name)
    return int(raw)
