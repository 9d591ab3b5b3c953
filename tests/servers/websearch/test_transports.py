"""One smoke test per transport: the installed console script as a real subprocess, driven by the SDK client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

from tests.servers.websearch import sites
from tests.servers.websearch.conftest import kind
from tests.support import http_server, script

pytestmark = pytest.mark.anyio
TOOLS = {"search_web", "fetch_webpage", "extract_links", "fetch_many"}


def _args(site: sites.Server, index: Path) -> list[str]:
    return ["--allow-host", f"127.0.0.1:{site.port}", "--index", str(index)]


async def _exercise(client: Client, site: sites.Server, sentinel: sites.Server) -> None:
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS
    page = await client.call_tool("fetch_webpage", {"url": site.url("/article.html")})
    assert page.structured_content is not None and page.structured_content["title"] == "Kestrels"
    found = await client.call_tool("search_web", {"query": "kestrel"})
    assert found.structured_content is not None
    assert found.structured_content["results"][0]["url"] == site.url("/article.html")
    refused = await client.call_tool("fetch_webpage", {"url": sentinel.url("/")})
    assert refused.is_error and kind(refused) == "blocked" and sentinel.connections == 0


@pytest.mark.parametrize(
    "command", [[script("k2-websearch")], [sys.executable, "-m", "k2_websearch"]], ids=["console-script", "python-m"]
)
async def test_stdio_subprocess_serves_tools(
    command: list[str], site: sites.Server, sentinel: sites.Server, tmp_path: Path
) -> None:
    params = StdioServerParameters(
        command=command[0], args=[*command[1:], *_args(site, tmp_path), "--log-level", "WARNING"]
    )
    async with Client(params) as client:
        assert client.server_info is not None and client.server_info.name == "websearch"
        await _exercise(client, site, sentinel)


async def test_streamable_http_subprocess_serves_both_eras(
    site: sites.Server, sentinel: sites.Server, tmp_path: Path
) -> None:
    with http_server([script("k2-websearch"), *_args(site, tmp_path)]) as srv:
        async with Client(srv.url) as modern:
            assert modern.protocol_version == "2026-07-28"
            await _exercise(modern, site, sentinel)
        async with Client(srv.url, mode="legacy") as legacy:
            assert legacy.protocol_version == "2025-11-25"
            assert {t.name for t in (await legacy.list_tools()).tools} == TOOLS


async def test_sse_subprocess_serves_tools(site: sites.Server, sentinel: sites.Server, tmp_path: Path) -> None:
    with http_server([script("k2-websearch"), *_args(site, tmp_path)], transport="sse") as srv:
        async with Client(sse_client(srv.url), mode="legacy") as client:
            await _exercise(client, site, sentinel)
