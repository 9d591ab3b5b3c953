"""Fixtures of the websearch tests: the local site, the SSRF sentinel, the SearXNG endpoint, settings, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from k2_shared.errors import ERROR_META_KEY
from k2_websearch.config import WebsearchSettings
from k2_websearch.netguard import NetPolicy
from k2_websearch.server import build_server
from mcp import Client
from mcp.types import CallToolResult, TextContent

from tests.servers.websearch import sites


@pytest.fixture(scope="session")
def site() -> Iterator[sites.Server]:
    with sites.serve(sites.site_route) as server:
        yield server


@pytest.fixture(scope="session")
def sentinel() -> Iterator[sites.Server]:
    with sites.serve(sites.sentinel_route) as server:
        yield server


@pytest.fixture(scope="session")
def searx() -> Iterator[sites.Server]:
    with sites.serve(sites.searxng_route) as server:
        yield server


def make_settings(index: Path, *allowed: sites.Server, **overrides: Any) -> WebsearchSettings:
    values: dict[str, Any] = {
        "allow_hosts": [f"127.0.0.1:{s.port}" for s in allowed],
        "index": index,
        "rate_limit_per_minute": 100_000,
        "rate_limit_burst": 10_000,
        "timeout_s": 5.0,
        "connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return WebsearchSettings(**values)


@asynccontextmanager
async def serve(settings: WebsearchSettings, policy: NetPolicy | None = None) -> AsyncIterator[Client]:
    async with Client(build_server(settings, policy)) as client:
        yield client


def kind(result: CallToolResult) -> str | None:
    """The kind of refusal a failed result carries (`_meta["k2/error"]`), or None."""
    return (result.meta or {}).get(ERROR_META_KEY)


def text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content
