"""The API's native endpoints over real HTTP on 127.0.0.1: sessions and who owns them, runs and their event
streams, approval of a paused call bound to its arguments, cancel, hang-up, feedback, tools, the OpenAPI
document. Same harness as test_api (scripted model, the real k2-filesystem over stdio)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from k2_host.agent.local_tools import LocalTool
from k2_host.api.runs import arguments_digest
from k2_host.context.transcript import SessionStore
from k2_host.llm.base import ToolSpec
from k2_host.mcp.types import ToolResult
from openapi_spec_validator import validate

from tests.host.api.test_api import JWT_SECRET, Api, running

pytestmark = pytest.mark.anyio


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    kind = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])


async def new_session(c: httpx.AsyncClient) -> str:
    r = await c.post("/v1/sessions", json={})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def audit(api: Api) -> list[dict[str, Any]]:
    return [json.loads(line) for line in api.audit_path.read_text().splitlines()]


class Waits:
    """A local tool `host.wait` that waits until cancelled; `entered` and `cancelled` are fresh per call."""

    def __init__(self, api: Api) -> None:
        self.entered, self.cancelled = anyio.Event(), anyio.Event()
        spec = ToolSpec(name="host.wait", description="waits", input_schema={"type": "object"})
        api.service.runtime.local_tools.add(LocalTool(spec, self.wait_forever))

    async def wait_forever(self, arguments: dict[str, Any], run: Any) -> ToolResult:
        self.entered.set()
        try:
            await anyio.Event().wait()
        finally:
            self.cancelled.set()
        raise AssertionError("not reached")

    def reset(self) -> None:
        self.entered, self.cancelled = anyio.Event(), anyio.Event()


async def test_sessions_belong_to_their_owner_and_runs_answer_in_them(tmp_path: Path) -> None:
    async with (
        running(tmp_path) as api,
        api.http("user") as user,
        api.http("operator") as operator,
        api.http("viewer") as viewer,
        api.http("admin") as admin,
    ):
        sid = await new_session(user)
        run = await user.post(f"/v1/sessions/{sid}/runs", json={"input": "please read the file", "stream": False})
        assert run.status_code == 200, run.text
        done = run.json()
        assert done["status"] == "completed" and "8443" in done["result"]["answer"]
        assert [t["name"] for t in done["result"]["tool_calls"]] == ["filesystem.read_file"]
        again = await user.post(f"/v1/sessions/{sid}/runs", json={"input": "and hello", "stream": False})
        # the second run saw the first one's turns: the scripted model counts the messages it was sent
        assert again.json()["result"]["answer"].startswith("you said 6 messages")  # system + 4 + 1

        session = (await user.get(f"/v1/sessions/{sid}")).json()
        assert [t["kind"] for t in session["turns"]] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
        assert session["title"] == "please read the file" and session["turns"][2]["name"] == "filesystem.read_file"
        assert [s["id"] for s in (await user.get("/v1/sessions")).json()["data"]] == [sid]

        # another owner does not see it; a viewer reads it; only its owner asks in it
        assert (await operator.get(f"/v1/sessions/{sid}")).status_code == 404
        assert (await operator.get("/v1/sessions")).json()["data"] == []
        assert (await operator.post(f"/v1/sessions/{sid}/runs", json={"input": "hi"})).status_code == 404
        assert (await operator.delete(f"/v1/sessions/{sid}")).status_code == 404
        assert (await user.get("/v1/sessions", params={"all": "true"})).status_code == 403
        assert (await viewer.get(f"/v1/sessions/{sid}")).status_code == 200
        assert [s["id"] for s in (await viewer.get("/v1/sessions", params={"all": "true"})).json()["data"]] == [sid]
        assert (await viewer.post(f"/v1/sessions/{sid}/runs", json={"input": "hi"})).status_code == 403
        assert (await viewer.post("/v1/sessions", json={})).status_code == 403
        assert (await admin.post(f"/v1/sessions/{sid}/runs", json={"input": "hi"})).status_code == 403
        assert (await viewer.get(f"/v1/runs/{done['id']}")).json()["status"] == "completed"
        assert (await operator.get(f"/v1/runs/{done['id']}")).status_code == 404

        # ids that are not ids, bodies that are wrong
        for bad in ("..%2F..%2Fetc%2Fpasswd", "a;b", "x" * 200, "%00"):
            r = await user.get(f"/v1/sessions/{bad}")
            assert r.status_code == 404 and r.json()["error"]["code"] in ("session_not_found", "not_found"), bad
        wrong = await user.post(f"/v1/sessions/{sid}/runs", json={"input": "", "stream": False})
        assert wrong.status_code == 422 and wrong.json()["error"]["param"] == "input"
        extra = await user.post(f"/v1/sessions/{sid}/runs", json={"input": "hi", "model": "gpt-4"})
        assert extra.status_code == 422 and extra.json()["error"]["param"] == "model"
        assert (await user.post(f"/v1/sessions/{sid}/runs", content=b"{not json")).status_code == 400

        assert (await user.delete(f"/v1/sessions/{sid}")).json()["deleted"] is True
        assert (await user.get(f"/v1/sessions/{sid}")).status_code == 404
    actions = [r["action"] for r in audit(api)]
    assert actions.count("session_created") == 1 and actions.count("session_deleted") == 1
    assert actions.count("run_finished") == 2


async def test_a_streamed_run_sends_its_steps_and_its_answer_can_be_rated(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.http("user") as user:
        sid = await new_session(user)
        seen: list[tuple[str, dict[str, Any]]] = []
        async with user.stream("POST", f"/v1/sessions/{sid}/runs", json={"input": "read the file"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for kind, data in events(response):
                seen.append((kind, data))
        kinds = [k for k, _ in seen]
        assert kinds[0] == "run.started" and kinds[-1] == "run.completed"
        assert kinds.index("tool.started") < kinds.index("tool.completed")
        started = dict(seen)["tool.started"]
        assert started["tool"] == "filesystem.read_file" and started["arguments"] == {"path": "a.txt"}
        final = seen[-1][1]
        assert "8443" in final["answer"] and final["request_id"] and {d["run_id"] for _, d in seen} == {final["run_id"]}

        rated = await user.post("/v1/feedback", json={"run_id": final["run_id"], "rating": "bad", "note": "too terse"})
        assert rated.status_code == 201, rated.text
        store = api.service.runtime.trajectories
        assert store is not None
        kept = await store.feedback(final["request_id"])
        assert [(f.rating, f.note) for f in kept] == [("bad", "too terse")] and kept[0].by.startswith("key:")

        # someone else cannot rate it, and a body must say what it rates
        claims = {"sub": "eve", "aud": "k2-api", "exp": int(time.time()) + 60, "role": "user"}
        eve = {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}
        by_run = await user.post("/v1/feedback", json={"run_id": final["run_id"], "rating": "good"}, headers=eve)
        assert by_run.status_code == 404
        by_id = await user.post("/v1/feedback", json={"request_id": final["request_id"], "rating": "good"}, headers=eve)
        assert by_id.status_code == 404
        assert (await user.post("/v1/feedback", json={"rating": "good"})).status_code == 422
        assert (await user.post("/v1/feedback", json={"run_id": "x", "rating": "meh"})).status_code == 422
        # a correction names the skill that should have answered; an unknown skill is refused
        fixed = {"run_id": final["run_id"], "rating": "bad", "skill": "answer-from-files"}
        assert (await user.post("/v1/feedback", json=fixed)).status_code == 201
        assert [f.skill for f in await store.feedback(final["request_id"])] == ["", "answer-from-files"]
        wrong = await user.post("/v1/feedback", json={**fixed, "skill": "no-such-skill"})
        assert wrong.status_code == 422 and wrong.json()["error"]["param"] == "skill"
    # the note is sealed at rest
    assert b"too terse" not in (tmp_path / "state" / "k2.sqlite").read_bytes()


async def test_a_destructive_call_waits_for_an_approval_bound_to_its_arguments(tmp_path: Path) -> None:
    async with (
        running(tmp_path, approval={"filesystem.write_file": "ask"}) as api,
        api.http("operator") as operator,
        api.http("user") as user,
        api.http("admin") as admin,
    ):
        sid = await new_session(operator)
        seen: list[str] = []
        async with operator.stream("POST", f"/v1/sessions/{sid}/runs", json={"input": "write the file"}) as response:
            async for kind, data in events(response):
                seen.append(kind)
                if kind != "approval.required":
                    continue
                assert data["tool"] == "filesystem.write_file"
                assert data["arguments"] == {"path": "out.txt", "content": "written"}
                assert data["arguments_sha256"] == arguments_digest(data["arguments"])
                assert not (api.root / "out.txt").exists()  # paused before the call
                url = f"/v1/runs/{data['run_id']}/approvals/{data['id']}"
                state = (await operator.get(f"/v1/runs/{data['run_id']}")).json()
                assert state["status"] == "waiting_approval" and state["approvals"][0]["decision"] is None
                other = arguments_digest({"path": "../../etc/passwd", "content": "written"})
                mismatch = await operator.post(url, json={"decision": "approve", "arguments_sha256": other})
                assert mismatch.status_code == 409 and mismatch.json()["error"]["code"] == "arguments_mismatch"
                body = {"decision": "approve", "arguments_sha256": data["arguments_sha256"]}
                assert (await user.post(url, json=body)).status_code == 404  # not the user's run
                ok = await admin.post(url, json=body)  # an admin may decide any run's approvals
                assert ok.status_code == 200 and ok.json()["decided_by"].startswith("key:")
                assert (await operator.post(url, json=body)).json()["error"]["code"] == "already_decided"
        assert seen.index("approval.required") < seen.index("approval.resolved") < seen.index("tool.completed")
        assert seen[-1] == "run.completed"
        assert (api.root / "out.txt").read_text() == "written"

        # denied: the file stays as it is, and the model hears why
        (api.root / "out.txt").unlink()
        async with operator.stream("POST", f"/v1/sessions/{sid}/runs", json={"input": "write it again"}) as response:
            async for kind, data in events(response):
                if kind == "approval.required":
                    url = f"/v1/runs/{data['run_id']}/approvals/{data['id']}"
                    body = {"decision": "deny", "arguments_sha256": data["arguments_sha256"]}
                    assert (await operator.post(url, json=body)).status_code == 200
                elif kind == "tool.completed":
                    assert data["is_error"] is True
                elif kind == "run.completed":
                    assert "refused" in data["answer"]
        assert not (api.root / "out.txt").exists()

        # a chat completion cannot be paused: a call that needs approval is refused there, and says where to go
        chat = {"model": "k2", "messages": [{"role": "user", "content": "write the file"}]}
        answer = (await operator.post("/v1/chat/completions", json=chat)).json()
        assert "asked only in runs" in answer["choices"][0]["message"]["content"]
        assert not (api.root / "out.txt").exists()
    decisions = [(r["actor"], r.get("decision")) for r in audit(api) if r["action"] == "approval"]
    assert [d for _, d in decisions] == ["approve", "deny"] and all(a.startswith("key:") for a, _ in decisions)


async def test_nobody_deciding_in_time_is_a_denial(tmp_path: Path) -> None:
    async with (
        running(tmp_path, approval={"filesystem.write_file": "ask"}, approval_timeout_s=0.5) as api,
        api.http("operator") as operator,
    ):
        sid = await new_session(operator)
        run = await operator.post(f"/v1/sessions/{sid}/runs", json={"input": "write the file", "stream": False})
        done = run.json()
        assert done["status"] == "completed" and done["approvals"][0]["decided_by"] == "timeout"
        assert done["approvals"][0]["decision"] == "deny" and done["result"]["tool_calls"][0]["is_error"] is True
        assert not (api.root / "out.txt").exists()


async def test_runs_are_one_at_a_time_per_session_and_cancel_or_hang_up_cleanly(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.http("operator") as operator:
        waits = Waits(api)
        sid = await new_session(operator)
        with anyio.fail_after(60):
            async with operator.stream("POST", f"/v1/sessions/{sid}/runs", json={"input": "wait for it"}) as response:
                kinds = []
                async for kind, data in events(response):
                    kinds.append(kind)
                    if kind == "tool.started":
                        busy = await operator.post(f"/v1/sessions/{sid}/runs", json={"input": "hi", "stream": False})
                        assert busy.status_code == 409 and busy.json()["error"]["code"] == "session_busy"
                        assert (await operator.delete(f"/v1/sessions/{sid}")).status_code == 409
                        cancel = await operator.post(f"/v1/runs/{data['run_id']}/cancel")
                        assert cancel.status_code == 200
                        run_id = data["run_id"]
            assert kinds[-1] == "run.cancelled" and waits.cancelled.is_set()
            assert (await operator.get(f"/v1/runs/{run_id}")).json()["status"] == "cancelled"
            # the cancelled request left nothing in the session
            assert (await operator.get(f"/v1/sessions/{sid}")).json()["turns"] == []

            # a client that hangs up cancels its run too, and the session is free again
            waits.reset()
            async with operator.stream("POST", f"/v1/sessions/{sid}/runs", json={"input": "wait again"}) as response:
                async for kind, _ in events(response):
                    if kind == "tool.started":
                        break
            await waits.cancelled.wait()
            while api.service.native.runs.busy(sid):
                await anyio.wait_all_tasks_blocked()
            after = await operator.post(f"/v1/sessions/{sid}/runs", json={"input": "hello", "stream": False})
            assert after.json()["status"] == "completed"
            assert [t["kind"] for t in (await operator.get(f"/v1/sessions/{sid}")).json()["turns"]] == [
                "user",
                "assistant",
            ]
    statuses = [r["status"] for r in audit(api) if r["action"] == "run_finished"]
    assert statuses == ["cancelled", "cancelled", "completed"]


async def test_tools_say_what_each_role_may_call(tmp_path: Path) -> None:
    async with running(tmp_path) as api:
        listed = {}
        for role in ("admin", "user", "viewer"):
            async with api.http(role) as c:
                listed[role] = {t["name"]: t for t in (await c.get("/v1/tools")).json()["data"]}
        assert listed["admin"]["filesystem.write_file"]["allowed"] is True
        assert listed["user"]["filesystem.read_file"]["allowed"] is True
        assert listed["user"]["filesystem.write_file"]["allowed"] is False
        assert not any(t["allowed"] for t in listed["viewer"].values())
        async with api.http("user") as c:
            none = (await c.get("/v1/knowledge/search", params={"q": "port"})).json()
            assert none == {"object": "list", "data": [], "indexed": False}
            assert (await c.get("/v1/knowledge/search")).json()["error"]["param"] == "q"
            assert (await c.get("/v1/knowledge/search", params={"q": "x", "k": "500"})).status_code == 422


async def test_skills_are_listed_and_shown_with_what_each_role_may_run(tmp_path: Path) -> None:
    async with running(tmp_path) as api:
        listed = {}
        for role in ("admin", "user", "viewer"):
            async with api.http(role) as c:
                body = (await c.get("/v1/skills")).json()
                listed[role] = {s["name"]: s for s in body["data"]}
        assert len(listed["admin"]) >= 40 and all(n >= 5 for n in body["categories"].values())
        assert listed["admin"]["decode-jwt"]["allowed"] is True
        # a user's requests may not reach codeexec: not the skills whose scripts run there
        assert listed["user"]["decode-jwt"]["allowed"] is False
        assert "codeexec" in listed["user"]["decode-jwt"]["why"]
        assert listed["user"]["answer-from-files"]["allowed"] is True
        assert not any(s["allowed"] for s in listed["viewer"].values())
        async with api.http("user") as c:
            security = (await c.get("/v1/skills", params={"category": "security"})).json()["data"]
            assert {s["category"] for s in security} == {"security"} and len(security) >= 5
            assert (await c.get("/v1/skills", params={"category": "cooking"})).json()["error"]["param"] == "category"
            one = (await c.get("/v1/skills/find-outliers")).json()
            assert one["prerequisites"] == ["describe-numbers"] and one["order"][-1] == "find-outliers"
            assert one["instructions"].startswith("#") and "scripts/" in " ".join(one["files"])
            missing = await c.get("/v1/skills/no-such-skill")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "skill_not_found"
            sid = await new_session(c)
            refused = await c.post(f"/v1/sessions/{sid}/runs", json={"input": "decode it", "skill": "decode-jwt"})
            assert refused.status_code == 403 and "codeexec" in refused.json()["error"]["message"]


async def test_the_openapi_document_is_valid_and_covers_every_route(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.http() as anonymous:
        doc = (await anonymous.get("/openapi.json")).json()
    validate(doc)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {
        (method, route.path)
        for route in api.service.app_routes()
        for method in (route.methods or ())
        if method != "HEAD" and route.path not in ("/openapi.json", "/", "/static/{name}")  # (the page)
    }
    assert documented == served
    run = doc["components"]["schemas"]["RunRequest"]
    assert run["properties"]["input"]["maxLength"] == 100_000 and run["additionalProperties"] is False
    assert doc["paths"]["/v1/sessions/{session_id}/runs"]["post"]["description"] == "Roles: admin, operator, user."


async def test_session_files_from_before_owners_still_open(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, "
        "title TEXT NOT NULL DEFAULT '');"
        "INSERT INTO sessions VALUES ('old', 1.0, 2.0, 'an old one');"
    )
    con.close()
    store = SessionStore(path)
    try:
        [info] = await store.list()
        assert (info.id, info.title, info.owner) == ("old", "an old one", "")
        made = await store.create("key:abc")
        assert [s.id for s in await store.list(owner="key:abc")] == [made.id]
    finally:
        store.close()


async def test_every_native_endpoint_admits_exactly_its_roles(tmp_path: Path) -> None:
    everyone = {"admin", "operator", "user", "viewer"}
    workers = {"admin", "operator", "user"}
    expected: dict[tuple[str, str], set[str]] = {
        ("POST", "/v1/sessions"): workers,
        ("GET", "/v1/sessions"): everyone,
        ("GET", "/v1/sessions/nope"): everyone,
        ("DELETE", "/v1/sessions/nope"): workers,
        ("POST", "/v1/sessions/nope/runs"): workers,
        ("GET", "/v1/runs/nope"): everyone,
        ("POST", "/v1/runs/nope/cancel"): workers,
        ("POST", "/v1/runs/nope/approvals/apr_1"): workers,
        ("POST", "/v1/feedback"): workers,
        ("GET", "/v1/knowledge/search?q=port"): workers,
        ("GET", "/v1/tools"): everyone,
        ("GET", "/v1/skills"): everyone,
        ("GET", "/v1/skills/nope"): everyone,
        ("POST", "/v1/knowledge/ingest"): {"admin", "operator"},
        ("GET", "/v1/knowledge/jobs/nope"): {"admin", "operator"},
    }
    async with running(tmp_path) as api:
        for (method, path), roles in expected.items():
            for role in sorted(everyone):
                async with api.http(role) as c:
                    r = await c.request(method, path, json={} if method == "POST" else None)
                if role in roles:
                    assert r.status_code != 403, (method, path, role, r.text)
                else:
                    refused = r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
                    assert refused, (method, path, role)
            async with api.http() as anonymous:
                assert (await anonymous.request(method, path)).status_code == 401, (method, path)


@pytest.mark.slow  # the real embedding model is loaded
async def test_an_ingest_job_indexes_a_folder_and_search_then_finds_it(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.http("operator") as operator, api.http("user") as user:
        (api.root / "deploy.md").write_text("# Deploying\n\nThe staging server listens on port 8443 over TLS.\n")
        assert (await user.post("/v1/knowledge/ingest", json={"path": str(api.root)})).status_code == 403
        started = await operator.post("/v1/knowledge/ingest", json={"path": str(api.root)})
        assert started.status_code == 202 and started.headers["location"].endswith(started.json()["id"])
        job_id = started.json()["id"]
        busy = await operator.post("/v1/knowledge/ingest", json={"path": str(api.root)})
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "job_running"
        job = api.service.native.jobs.get(job_id)
        assert job is not None
        with anyio.fail_after(300):
            await job.finished.wait()
        done = (await operator.get(f"/v1/knowledge/jobs/{job_id}")).json()
        assert done["status"] == "completed", done
        assert done["report"]["ingested"] == 2 and done["progress"]["done"] == done["progress"]["total"] == 2
        found = (await user.get("/v1/knowledge/search", params={"q": "which port does staging use"})).json()
        assert found["indexed"] is True and found["data"][0]["source"].endswith("deploy.md")
        assert "knowledge.search" in api.service.runtime.local_tools  # the engines may search it from now on

        # outside the filesystem server's roots: the job fails and says why; nothing is read
        outside = await operator.post("/v1/knowledge/ingest", json={"path": "/etc"})
        job = api.service.native.jobs.get(outside.json()["id"])
        assert job is not None
        with anyio.fail_after(60):
            await job.finished.wait()
        failed = (await operator.get(f"/v1/knowledge/jobs/{job.id}")).json()
        assert failed["status"] == "failed" and failed["error"], failed
        assert (await user.get(f"/v1/knowledge/jobs/{job.id}")).status_code == 403


async def test_metrics_count_requests_tool_calls_tokens_and_approvals(tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    async with (
        running(tmp_path, approval={"filesystem.write_file": "ask"}, approval_timeout_s=0.2) as api,
        api.http("operator") as operator,
        api.http("viewer") as viewer,
        api.http("user") as user,
    ):
        sid = await new_session(operator)
        for text in ("please read the file", "write the file"):
            done = await operator.post(f"/v1/sessions/{sid}/runs", json={"input": text, "stream": False})
            assert done.json()["status"] == "completed"
        assert (await user.get("/metrics")).status_code == 403  # the status permission
        scraped = await viewer.get("/metrics")
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("k2_http_requests_total", method="POST", route="/v1/sessions/{session_id}/runs", status="200") == 2
    assert value("k2_http_requests_total", method="GET", route="/metrics", status="403") == 1
    assert value("k2_agent_requests_total", engine="scripted", stopped="done") == 2
    assert value("k2_tool_calls_total", server="filesystem", tool="read_file", outcome="ok") == 1
    assert value("k2_tool_calls_total", server="filesystem", tool="write_file", outcome="error") == 1  # timed out
    assert value("k2_approvals_total", decision="deny") == 1
    assert (
        value("k2_model_tokens_total", kind="prompt") == 40 and value("k2_model_tokens_total", kind="completion") == 20
    )
    assert value("k2_agent_request_duration_seconds_count", engine="scripted") == 2
    assert [v for (n, _), v in samples.items() if n == "k2_mcp_server_up"] == [1.0], samples
    assert value("k2_runs_active") == 0
