"""The HTTP runtime every server shares, exercised on a real k2-filesystem process bound to 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import jwt
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.support import RunningServer, http_server, script

pytestmark = pytest.mark.anyio

TOKEN = "k2-test-token-0123456789abcdef"
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    (root / "hello.txt").write_text("hello over http\n")
    return root


@pytest.fixture(scope="module")
def open_server(root: Path) -> Iterator[RunningServer]:
    with http_server([script("k2-filesystem"), "--root", str(root), "--max-body-bytes", "4096"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_server(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tokens = tmp_path_factory.mktemp("auth") / "tokens"
    tokens.write_text(f"# one token per line\n{TOKEN}\n")
    secret = tokens.parent / "jwt-secret"
    secret.write_text(JWT_SECRET)
    cmd = [
        script("k2-filesystem"),
        "--root",
        str(root),
        "--auth-token-file",
        str(tokens),
        "--jwt-secret-file",
        str(secret),
        "--jwt-audience",
        "k2-filesystem",
        "--jwt-issuer",
        "https://issuer.test",
        "--resource-url",
        "http://127.0.0.1/mcp",
    ]
    with http_server(cmd) as srv:
        yield srv


def make_jwt(**overrides: object) -> str:
    claims: dict[str, object] = {
        "sub": "alice",
        "aud": "k2-filesystem",
        "iss": "https://issuer.test",
        "exp": int(time.time()) + 300,
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, JWT_SECRET, algorithm="HS256")


def test_health_endpoint_answers(open_server: RunningServer) -> None:
    r = httpx.get(open_server.base + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "server": "filesystem"}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost:99x"])
def test_a_foreign_host_header_is_refused_with_403(open_server: RunningServer, host: str) -> None:
    for path in ("/mcp", "/healthz", "/metrics"):
        r = httpx.post(open_server.base + path, headers={**ACCEPT, "host": host}, content=json.dumps(INIT))
        assert r.status_code == 403, path


@pytest.mark.parametrize("origin", ["http://evil.example", "https://127.0.0.1.evil.example", "null"])
def test_a_foreign_origin_is_refused_with_403(open_server: RunningServer, origin: str) -> None:
    r = httpx.post(open_server.url, headers={**ACCEPT, "origin": origin}, content=json.dumps(INIT))
    assert r.status_code == 403


def test_a_loopback_origin_is_accepted(open_server: RunningServer) -> None:
    origin = open_server.base
    r = httpx.post(open_server.url, headers={**ACCEPT, "origin": origin}, content=json.dumps(INIT))
    assert r.status_code == 200


def test_a_body_over_the_cap_is_refused_with_413(open_server: RunningServer) -> None:
    big = dict(INIT, params={**INIT["params"], "pad": "x" * 8000})
    r = httpx.post(open_server.url, headers=ACCEPT, content=json.dumps(big))
    assert r.status_code == 413


def test_a_wrong_content_type_is_refused_with_400(open_server: RunningServer) -> None:
    r = httpx.post(open_server.url, headers={**ACCEPT, "content-type": "text/plain"}, content=json.dumps(INIT))
    assert r.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[" * 5000 + b"]" * 5000,
        b'{"jsonrpc":"2.0","id":1,"method":"x"' + b"1" * 3000,
    ],
)
def test_malformed_json_rpc_gets_an_error_and_the_server_keeps_serving(open_server: RunningServer, body: bytes) -> None:
    r = httpx.post(open_server.url, headers=ACCEPT, content=body)
    assert 400 <= r.status_code < 500
    assert httpx.get(open_server.base + "/healthz").status_code == 200


async def test_metrics_count_tool_calls(open_server: RunningServer) -> None:
    async with Client(open_server.url) as client:
        result = await client.call_tool("read_file", {"path": "hello.txt"})
        assert result.structured_content is not None
        assert result.structured_content["content"] == "hello over http\n"
        failed = await client.call_tool("read_file", {"path": "missing.txt"})
        assert failed.is_error
    text = httpx.get(open_server.base + "/metrics").text
    calls = [ln for ln in text.splitlines() if ln.startswith("k2_tool_calls_total{") and 'tool="read_file"' in ln]
    assert any('outcome="ok"' in ln for ln in calls)
    assert any('outcome="tool_error"' in ln for ln in calls)
    assert "k2_tool_duration_seconds_bucket" in text


def test_no_token_gets_401_with_a_bearer_challenge(auth_server: RunningServer) -> None:
    r = httpx.post(auth_server.url, headers=ACCEPT, content=json.dumps(INIT))
    assert r.status_code == 401
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="http://127.0.0.1/mcp/.well-known/oauth-protected-resource"' in challenge


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token-0123456789abcdef",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        "Bearer " + make_jwt(aud="another-service"),
        "Bearer " + make_jwt(iss="https://other-issuer.test"),
        "Bearer " + make_jwt(exp=int(time.time()) - 60),
        "Bearer " + make_jwt(exp=None),
        "Bearer "
        + jwt.encode({"aud": "k2-filesystem", "exp": int(time.time()) + 60}, "another-secret-0123456789abcdef-long"),
    ],
)
def test_a_bad_credential_gets_401(auth_server: RunningServer, authorization: str) -> None:
    r = httpx.post(auth_server.url, headers={**ACCEPT, "authorization": authorization}, content=json.dumps(INIT))
    assert r.status_code == 401
    assert "www-authenticate" in r.headers


def test_a_token_in_the_query_string_is_refused(auth_server: RunningServer) -> None:
    r = httpx.post(auth_server.url + f"?access_token={TOKEN}", headers=ACCEPT, content=json.dumps(INIT))
    assert r.status_code == 400


def test_health_and_resource_metadata_need_no_token(auth_server: RunningServer) -> None:
    assert httpx.get(auth_server.base + "/healthz").status_code == 200
    meta = httpx.get(auth_server.base + "/.well-known/oauth-protected-resource").json()
    assert meta["resource"] == "http://127.0.0.1/mcp"
    assert meta["authorization_servers"] == ["https://issuer.test"]
    assert httpx.get(auth_server.base + "/metrics").status_code == 401


@pytest.mark.parametrize("kind", ["api-key", "jwt"])
async def test_a_valid_api_key_or_jwt_opens_the_mcp_endpoint(auth_server: RunningServer, kind: str) -> None:
    # The JWT is made here, not at collection: it expires 5 minutes after it is made, and a long suite runs
    # this test more than 5 minutes after collection.
    credential = TOKEN if kind == "api-key" else make_jwt()
    async with (
        httpx.AsyncClient(headers={"authorization": f"Bearer {credential}"}) as http,
        Client(streamable_http_client(auth_server.url, http_client=http)) as client,
    ):
        result = await client.call_tool("read_file", {"path": "hello.txt"})
        assert not result.is_error
        assert result.structured_content is not None
        assert result.structured_content["content"] == "hello over http\n"


async def test_sse_transport_requires_and_accepts_the_token(root: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    cmd = [script("k2-filesystem"), "--root", str(root), "--auth-token-file", str(tokens)]
    with http_server(cmd, transport="sse") as srv:
        assert httpx.get(srv.url).status_code == 401
        async with Client(sse_client(srv.url, headers={"authorization": f"Bearer {TOKEN}"}), mode="legacy") as client:
            assert client.protocol_version == "2025-11-25"
            result = await client.call_tool("read_file", {"path": "hello.txt"})
            assert result.structured_content is not None
            assert result.structured_content["content"] == "hello over http\n"
