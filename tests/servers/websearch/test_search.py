"""search_web: the local BM25 backend end to end, SearXNG's JSON API on loopback, failover, one result schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from k2_websearch.index import LocalIndex

from tests.servers.websearch import sites
from tests.servers.websearch.conftest import kind, make_settings, ok, serve

pytestmark = pytest.mark.anyio
FIELDS = {"title", "url", "snippet", "source", "rank", "published"}


async def test_a_fetched_page_is_found_by_the_local_backend(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path / "index", site)) as c:
        empty = ok(await c.call_tool("search_web", {"query": "kestrel wingbeat"}))
        ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html")}))
        ok(await c.call_tool("fetch_webpage", {"url": site.url("/data.json")}))
        found = ok(await c.call_tool("search_web", {"query": "kestrel wingbeat"}))
    assert empty["results"] == [] and empty["backend"] == "local"
    assert found["backend"] == "local" and found["active_backends"] == ["local"]
    [hit] = found["results"]
    assert set(hit) == FIELDS
    assert hit["url"] == site.url("/article.html") and hit["source"] == "local" and hit["rank"] == 1
    assert hit["title"] == "Kestrels" and "wingbeat" in hit["snippet"]


async def test_the_local_index_persists_in_its_directory_and_reads_documents_there(
    site: sites.Server, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    (index / "notes").mkdir(parents=True)
    (index / "notes" / "owls.md").write_text("# Barn owls\nBarn owls swallow voles whole at night.\n")
    async with serve(make_settings(index, site)) as c:
        ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html")}))
    async with serve(make_settings(index, site)) as c:
        kestrel = ok(await c.call_tool("search_web", {"query": "hovering raptors"}))
        owls = ok(await c.call_tool("search_web", {"query": "barn owls voles", "limit": 1}))
    assert [r["url"] for r in kestrel["results"]] == [site.url("/article.html")]
    assert owls["results"][0]["title"] == "Barn owls"
    assert owls["results"][0]["url"] == (index / "notes" / "owls.md").resolve().as_uri()


async def test_the_local_backend_ranks_with_bm25_and_filters_by_site(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path)
    index.add("https://a.example/1", "Falcons", "falcon falcon falcon speed dive")
    index.add("https://b.example/2", "Birds", "a falcon among many other birds of prey and songbirds")
    index.add("https://c.example/3", "Fish", "trout salmon")
    ranked = index.search("falcon", 10)
    assert [h.url for h in ranked] == ["https://a.example/1", "https://b.example/2"]
    assert [h.url for h in index.search("falcon", 10, site="b.example")] == ["https://b.example/2"]
    assert index.search("falcon", 10, offset=1)[0].url == "https://b.example/2"


async def test_searxng_results_come_back_in_the_common_schema(searx: sites.Server, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, backends=["searxng", "local"], searxng_url=searx.origin)
    async with serve(settings) as c:
        found = ok(
            await c.call_tool(
                "search_web",
                {"query": "kestrel", "limit": 3, "page": 2, "site": "birds.example", "time_range": "month"},
            )
        )
    assert found["backend"] == "searxng" and found["active_backends"] == ["searxng", "local"]
    assert [r["rank"] for r in found["results"]] == [4, 5, 6]
    first = found["results"][0]
    assert set(first) == FIELDS and first["source"] == "searxng"
    assert first["title"] == "Result 10 for kestrel site:birds.example"
    asked = searx.hits[-1]
    assert "format=json" in asked and "pageno=2" in asked and "time_range=month" in asked


async def test_searxng_published_dates_are_passed_through(searx: sites.Server, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, backends=["searxng"], searxng_url=searx.origin)
    async with serve(settings) as c:
        found = ok(await c.call_tool("search_web", {"query": "owl", "limit": 2}))
    assert [r["published"] for r in found["results"]] == ["2026-03-01T00:00:00", None]


async def test_search_fails_over_to_the_next_backend_on_a_rate_limit(searx: sites.Server, tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "kestrel.txt").write_text("Kestrel notes: hovering falcons.")
    settings = make_settings(index, backends=["searxng", "local"], searxng_url=searx.url("/limited"))
    async with serve(settings) as c:
        found = ok(await c.call_tool("search_web", {"query": "kestrel"}))
    assert found["backend"] == "local"
    assert [(f["backend"], "429" in f["error"]) for f in found["failed"]] == [("searxng", True)]
    assert found["results"][0]["source"] == "local"


async def test_search_reports_when_every_backend_failed(tmp_path: Path) -> None:
    def route(h: sites.BaseHTTPRequestHandler, srv: sites.Server) -> None:
        sites.send(h, 500, b"boom", "text/plain")

    with sites.serve(route) as broken:
        settings = make_settings(tmp_path, backends=["searxng"], searxng_url=broken.origin)
        async with serve(settings) as c:
            result = await c.call_tool("search_web", {"query": "kestrel"})
    assert result.is_error and kind(result) == "search_failed"


async def test_search_refuses_a_backend_that_is_not_configured(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as c:
        result = await c.call_tool("search_web", {"query": "kestrel", "backend": "brave"})
    assert result.is_error and kind(result) == "invalid_arguments"


async def test_brave_and_tavily_answers_map_to_the_same_schema(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []

    def route(h: sites.BaseHTTPRequestHandler, srv: sites.Server) -> None:
        if h.path.startswith("/brave"):
            seen.append(("brave", h.headers.get("X-Subscription-Token")))
            hit = {"title": "B", "url": "https://b.example/", "description": "d", "page_age": "2026-01-02"}
            body = json.dumps({"web": {"results": [hit]}}).encode()
        else:
            seen.append(("tavily", h.headers.get("Authorization")))
            length = int(h.headers.get("Content-Length", "0"))
            h.rfile.read(length)
            body = b'{"results": [{"title": "T", "url": "https://t.example/", "content": "c", "score": 0.9}]}'
        sites.send(h, 200, body, "application/json")

    with sites.serve(route) as api:
        settings = make_settings(
            tmp_path,
            backends=["brave", "tavily"],
            brave_api_key="brave-key",
            brave_url=api.url("/brave"),
            tavily_api_key="tavily-key",
            tavily_url=api.url("/tavily"),
        )
        async with serve(settings) as c:
            brave = ok(await c.call_tool("search_web", {"query": "q", "backend": "brave"}))
            tavily = ok(await c.call_tool("search_web", {"query": "q", "backend": "tavily"}))
    assert brave["results"] == [
        {
            "title": "B",
            "url": "https://b.example/",
            "snippet": "d",
            "source": "brave",
            "rank": 1,
            "published": "2026-01-02",
        }
    ]
    assert tavily["results"] == [
        {"title": "T", "url": "https://t.example/", "snippet": "c", "source": "tavily", "rank": 1, "published": None}
    ]
    assert seen == [("brave", "brave-key"), ("tavily", "Bearer tavily-key")]


async def test_duckduckgo_without_its_library_fails_over_to_the_next_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ddgs", None)  # importing it now fails, as when the extra is not installed
    (tmp_path / "kestrel.md").write_text("# Kestrel\nKestrels hover.\n")
    async with serve(make_settings(tmp_path, backends=["duckduckgo", "local"])) as c:
        found = ok(await c.call_tool("search_web", {"query": "kestrel"}))
    assert found["backend"] == "local" and found["results"][0]["title"] == "Kestrel"
    assert [f["backend"] for f in found["failed"]] == ["duckduckgo"] and "ddgs" in found["failed"][0]["error"]
