"""`k2 serve`'s API over real HTTP on 127.0.0.1: the official `openai` client, keys and JWTs, the role matrix,
tool permissions, caps, rate limits and the audit chain. The model is the in-process `ScriptedProvider`; the
filesystem server is the real k2-filesystem over stdio."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import openai
import pytest
from k2_host.agent.local_tools import LocalTool
from k2_host.api.app import ApiService, ApiSettings
from k2_host.api.audit import verify
from k2_host.api.keys import KeyStore
from k2_host.api.serve import Tls, api_files, check_binding
from k2_host.config import HostConfig, ServerConfig
from k2_host.errors import ConfigError
from k2_host.llm.base import ToolCall, ToolSpec
from k2_host.llm.testing import Reply, ScriptedProvider
from k2_host.mcp.types import ToolResult
from k2_host.runtime import build_runtime

from tests.host.scripted_llm import serving
from tests.support import script

pytestmark = pytest.mark.anyio

JWT_SECRET = "a-test-secret-of-at-least-thirty-two-bytes!"


@dataclass
class Api:
    url: str
    keys: dict[str, str]  # role -> key
    store: KeyStore
    audit_path: Path
    root: Path
    provider: ScriptedProvider
    service: ApiService

    def client(self, role: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=self.keys[role], max_retries=0)

    def http(self, role: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)


def reply_for(messages: list[Any], tools: list[Any]) -> Reply:
    """Write when asked to write, read when asked to read; then answer with what the tool said."""
    last = messages[-1]
    if last.role == "tool":
        return Reply(text=f"tool said: {last.content[:200]}")
    question = last.content
    if "write" in question:
        return Reply(
            tool_calls=[
                ToolCall(id="w", name="filesystem.write_file", arguments={"path": "out.txt", "content": "written"})
            ]
        )
    if "wait" in question:
        return Reply(tool_calls=[ToolCall(id="h", name="host.wait", arguments={})])
    if "read" in question:
        return Reply(tool_calls=[ToolCall(id="r", name="filesystem.read_file", arguments={"path": "a.txt"})])
    return Reply(text=f"you said {len(messages)} messages; last: {question}")


@asynccontextmanager
async def running(tmp_path: Path, approval: dict[str, Any] | None = None, **settings: Any) -> AsyncIterator[Api]:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "a.txt").write_text("the port is 8443\n")
    server = ServerConfig(name="filesystem", command=script("k2-filesystem"), args=["--root", str(root)])
    config = HostConfig(
        servers=[server],
        roots=[str(root)],
        state_dir=tmp_path / "state",
        approval=approval or {"filesystem.write_file": "allow"},
    )
    provider = ScriptedProvider(reply_for)
    keys, audit = api_files(tmp_path / "state")
    made = {role: keys.create(f"{role} key", role)[1] for role in ("admin", "operator", "user", "viewer")}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # (asyncio sets TCP_NODELAY)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service = ApiService(
        build_runtime(config, provider=provider),
        keys,
        audit,
        ApiSettings(jwt_key=JWT_SECRET, jwt_audience="k2-api", **settings),
    )
    app = service.app()
    async with service.lifespan(None), serving(app, sock):  # type: ignore[arg-type]
        yield Api(url, made, keys, audit.path, root, provider, service)


async def test_the_openai_client_lists_the_model_and_gets_answers_plain_and_streamed(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.client("user") as client:
        models = await client.models.list()
        assert [m.id for m in models.data] == ["k2"]
        done = await client.chat.completions.create(
            model="k2",
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "hi"},
                {"role": "user", "content": "please read the file"},
            ],
        )
        assert done.choices[0].message.content == "tool said: " + api.provider.requests[-1].messages[-1].content[:200]
        assert "8443" in (done.choices[0].message.content or "") and done.choices[0].finish_reason == "stop"
        extra = done.model_extra or {}
        assert [t["name"] for t in extra["k2"]["tool_calls"]] == ["filesystem.read_file"]
        assert done.usage is not None and done.usage.total_tokens == 30  # two scripted steps of 10 + 5
        # the conversation reached the model as history
        first = api.provider.requests[-2].messages
        assert [m.content for m in first if m.role in ("user", "assistant")][-3:] == [
            "hello",
            "hi",
            "please read the file",
        ]

        stream = await client.chat.completions.create(
            model="k2",
            messages=[{"role": "user", "content": "read it again"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, events, usage, finish = "", [], None, None
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
                finish = chunk.choices[0].finish_reason or finish
            if chunk.usage is not None:
                usage = chunk.usage
            if (chunk.model_extra or {}).get("k2", {}).get("event"):
                events.append(chunk.model_extra["k2"]["event"])  # type: ignore[index]
        assert "8443" in text and finish == "stop" and usage is not None and usage.total_tokens == 30
        assert events == ["tool_start", "tool_end"]  # the host's own steps, not client-side tool calls


async def test_a_client_that_hangs_up_cancels_its_streamed_run(tmp_path: Path) -> None:
    entered, cancelled = anyio.Event(), anyio.Event()

    async def wait_forever(arguments: dict[str, Any], run: Any) -> ToolResult:
        entered.set()
        try:
            await anyio.Event().wait()
        finally:
            cancelled.set()
        raise AssertionError("not reached")

    async with running(tmp_path) as api, api.http("user") as c:
        spec = ToolSpec(name="host.wait", description="waits", input_schema={"type": "object"})
        api.service.runtime.local_tools.add(LocalTool(spec, wait_forever))
        body = {"model": "k2", "stream": True, "messages": [{"role": "user", "content": "wait for it"}]}
        with anyio.fail_after(60):
            async with c.stream("POST", "/v1/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if '"tool_start"' in line:
                        break  # hang up mid-run
            await entered.wait()
            await cancelled.wait()
            records = [json.loads(line) for line in api.audit_path.read_text().splitlines()]
            while not any(r["action"] == "request_cancelled" for r in records):
                await anyio.wait_all_tasks_blocked()
                records = [json.loads(line) for line in api.audit_path.read_text().splitlines()]
        async with api.http("user") as again:  # the server goes on
            assert (await again.get("/v1/models")).status_code == 200


async def test_credentials_are_checked_and_never_taken_from_the_url(tmp_path: Path) -> None:
    async with running(tmp_path) as api:
        async with api.http() as anonymous:
            missing = await anonymous.get("/v1/models")
            assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
            assert missing.json()["error"]["type"] == "authentication_error"
            wrong = await anonymous.get("/v1/models", headers={"Authorization": "Bearer k2_000000000000_" + "x" * 43})
            assert wrong.status_code == 401
            in_url = await anonymous.get("/v1/models", params={"api_key": api.keys["admin"]})
            assert in_url.status_code == 400 and in_url.json()["error"]["code"] == "token_in_url"
            refused = [json.loads(line) for line in api.audit_path.read_text().splitlines()][-3:]
            assert [(r["actor"], r["status"]) for r in refused] == [("anonymous", 401)] * 2 + [("anonymous", 400)]
            assert api.keys["admin"] not in api.audit_path.read_text()  # the key sent in the URL is not logged
            assert (await anonymous.get("/healthz")).status_code == 200
            assert (await anonymous.get("/readyz")).json()["status"] == "ready"

            def token(**claims: Any) -> dict[str, str]:
                body = {"sub": "ada", "aud": "k2-api", "exp": int(time.time()) + 60, "role": "user"} | claims
                return {"Authorization": f"Bearer {jwt.encode(body, JWT_SECRET, algorithm='HS256')}"}

            assert (await anonymous.get("/v1/models", headers=token())).status_code == 200
            assert (await anonymous.get("/v1/models", headers=token(aud="other"))).status_code == 401
            assert (await anonymous.get("/v1/models", headers=token(exp=int(time.time()) - 10))).status_code == 401
            assert (await anonymous.get("/v1/models", headers=token(role="root"))).status_code == 403
            forged = jwt.encode(
                {"sub": "eve", "aud": "k2-api", "exp": int(time.time()) + 60, "role": "admin"},
                "another-secret-that-is-long-enough-32b",
                algorithm="HS256",
            )
            assert (await anonymous.get("/v1/models", headers={"Authorization": f"Bearer {forged}"})).status_code == 401

        # revoking takes effect at the next request of the running server
        user_id = next(k.id for k in api.store.list() if k.role == "user")
        async with api.http("user") as user:
            assert (await user.get("/v1/models")).status_code == 200
            assert api.store.revoke(user_id)
            assert (await user.get("/v1/models")).status_code == 401


async def test_each_role_reaches_exactly_its_endpoints(tmp_path: Path) -> None:
    expected = {
        ("GET", "/v1/models"): {"admin", "operator", "user", "viewer"},
        ("GET", "/v1/servers"): {"admin", "operator", "viewer"},
        ("POST", "/v1/chat/completions"): {"admin", "operator", "user"},
    }
    body = {"model": "k2", "messages": [{"role": "user", "content": "hello"}]}
    async with running(tmp_path) as api:
        for (method, path), roles in expected.items():
            for role in ("admin", "operator", "user", "viewer"):
                async with api.http(role) as c:
                    r = await c.request(method, path, json=body if method == "POST" else None)
                assert (r.status_code == 200) == (role in roles), (method, path, role, r.status_code, r.text)
                if role not in roles:
                    assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
    report = verify(api.audit_path)
    assert report.ok, report.problems
    records = [json.loads(line) for line in api.audit_path.read_text().splitlines()]
    denied = [r for r in records if r["action"] == "permission_denied"]
    assert {(d["role"], d["path"]) for d in denied} == {("user", "/v1/servers"), ("viewer", "/v1/chat/completions")}
    seen = [(r["role"], r["method"], r["path"], r["status"]) for r in records if r["action"] == "http_request"]
    assert len(seen) == 12 and ("viewer", "POST", "/v1/chat/completions", 403) in seen  # every request


async def test_a_user_may_not_run_write_tools_an_admin_may(tmp_path: Path) -> None:
    async with running(tmp_path) as api:
        ask = {"model": "k2", "messages": [{"role": "user", "content": "write the file"}]}
        async with api.http("user") as user:
            refused = (await user.post("/v1/chat/completions", json=ask)).json()
        assert refused["k2"]["tool_calls"][0]["error_code"] == "denied"
        assert "read-only tools only" in refused["choices"][0]["message"]["content"]
        assert not (api.root / "out.txt").exists()
        async with api.http("admin") as admin:
            done = (await admin.post("/v1/chat/completions", json=ask)).json()
        assert done["k2"]["tool_calls"][0]["is_error"] is False
        assert (api.root / "out.txt").read_text() == "written"
    records = [json.loads(line) for line in api.audit_path.read_text().splitlines()]
    denied = [r for r in records if r["action"] == "permission_denied"]
    assert [(d["role"], d["tool"]) for d in denied] == [("user", "filesystem.write_file")]
    calls = [(r["role"], r["tool"], r["outcome"]) for r in records if r["action"] == "tool_call"]
    assert calls == [("user", "filesystem.write_file", "error"), ("admin", "filesystem.write_file", "ok")]
    text = api.audit_path.read_text()
    assert "write the file" not in text and not any(k in text for k in api.keys.values())  # no texts, no secrets


async def test_bad_requests_get_clear_errors(tmp_path: Path) -> None:
    async with running(tmp_path, max_body_bytes=4096) as api, api.http("admin") as c:
        big = await c.post(
            "/v1/chat/completions", json={"model": "k2", "messages": [{"role": "user", "content": "x" * 5000}]}
        )
        assert big.status_code == 413
        bad_role = await c.post(
            "/v1/chat/completions", json={"model": "k2", "messages": [{"role": "wizard", "content": "hi"}]}
        )
        assert bad_role.status_code == 422 and bad_role.json()["error"]["param"] == "messages.0.role"
        not_json = await c.post("/v1/chat/completions", content=b"{nope", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
        unknown = await c.post(
            "/v1/chat/completions", json={"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
        ends_with_assistant = await c.post(
            "/v1/chat/completions", json={"model": "k2", "messages": [{"role": "assistant", "content": "hi"}]}
        )
        assert ends_with_assistant.status_code == 422
        assert (await c.get("/v1/nothing")).status_code == 404
        foreign = await c.get("/v1/models", headers={"Host": "evil.example"})
        assert foreign.status_code == 403
        from_page = await c.get("/v1/models", headers={"Origin": "https://evil.example"})
        assert from_page.status_code == 403
        assert (await c.get("/v1/models")).status_code == 200  # and the server still answers


async def test_a_caller_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    async with running(tmp_path, rate_per_minute=1, burst=2) as api:
        async with api.http("viewer") as c:
            codes = [(await c.get("/v1/models")).status_code for _ in range(3)]
            last = await c.get("/v1/models")
        async with api.http("admin") as other:  # each caller has its own bucket
            assert (await other.get("/v1/models")).status_code == 200
    assert codes == [200, 200, 429] and last.status_code == 429 and int(last.headers["retry-after"]) >= 1


async def test_the_audit_chain_catches_edits_deletions_and_a_cut_tail(tmp_path: Path) -> None:
    async with running(tmp_path) as api, api.http("user") as c:
        for _ in range(3):
            assert (await c.get("/v1/models")).status_code == 200
        await c.post("/v1/chat/completions", json={"model": "k2", "messages": [{"role": "user", "content": "read"}]})
    path = api.audit_path
    assert verify(path).ok
    lines = path.read_text().splitlines()
    assert len(lines) >= 4

    edited = json.loads(lines[1])
    edited["role"] = "admin"
    path.write_text("\n".join([lines[0], json.dumps(edited), *lines[2:]]) + "\n")
    report = verify(path)
    assert not report.ok and any("line 2" in p and "changed" in p for p in report.problems)

    path.write_text("\n".join([lines[0], *lines[2:]]) + "\n")  # one record deleted
    report = verify(path)
    assert not report.ok and any("line 2" in p and "link" in p for p in report.problems)

    path.write_text("\n".join(lines[:-1]) + "\n")  # the newest record cut off
    report = verify(path)
    assert not report.ok and any("head" in p for p in report.problems)


def test_keys_are_stored_hashed_and_private(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "api" / "keys.json")
    key, secret = store.create("ci", "operator")
    text = store.path.read_text()
    # k2_<id>_<secret part>; the secret part (base64url) may hold "_" itself
    assert secret not in text and secret.split("_", 2)[2] not in text and key.id in text
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.verify(secret) == key and store.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    with pytest.raises(ValueError, match="unknown role"):
        store.create("x", "superuser")


def test_serve_refuses_to_bind_beyond_loopback_without_auth_or_tls(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    with pytest.raises(ConfigError, match="no API key"):
        check_binding(ApiSettings(), store, Tls())
    check_binding(ApiSettings(auth=False), store, Tls())  # loopback without auth: allowed
    with pytest.raises(ConfigError, match="loopback only"):
        check_binding(ApiSettings(host="0.0.0.0", auth=False), store, Tls())
    store.create("ops", "admin")
    with pytest.raises(ConfigError, match="needs TLS"):
        check_binding(ApiSettings(host="0.0.0.0"), store, Tls())
    check_binding(ApiSettings(host="0.0.0.0"), store, Tls(insecure=True))
    with pytest.raises(ConfigError, match="go together"):
        check_binding(ApiSettings(host="0.0.0.0"), store, Tls(cert=tmp_path / "c.pem"))
