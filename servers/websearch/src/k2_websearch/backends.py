"""Search backends behind one result schema, and failover from one to the next on error or rate limit.

The backends' endpoints are the operator's configuration (a self-hosted SearXNG, the Brave and Tavily APIs), so
they are reached with a plain HTTP client; only `fetch_webpage` and friends go through the address checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import anyio
import httpx2

from k2_websearch.config import WebsearchSettings
from k2_websearch.index import LocalIndex
from k2_websearch.models import SearchResult

TimeRange = Literal["day", "week", "month", "year"]


class BackendError(Exception):
    """A backend could not answer; `rate_limited` when it said so (HTTP 429)."""

    def __init__(self, message: str, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


@dataclass
class Query:
    text: str
    limit: int
    page: int
    site: str | None
    time_range: TimeRange | None

    @property
    def with_site(self) -> str:
        return f"{self.text} site:{self.site}" if self.site else self.text


class Backend(Protocol):
    name: str

    async def search(self, q: Query) -> list[SearchResult]: ...


def _results(name: str, rows: Sequence[tuple[str, str, str, str | None]], q: Query) -> list[SearchResult]:
    first = (q.page - 1) * q.limit + 1
    return [
        SearchResult(title=t or u, url=u, snippet=s, source=name, rank=first + i, published=p)
        for i, (t, u, s, p) in enumerate(rows[: q.limit])
        if u
    ]


async def _json(client: httpx2.AsyncClient, name: str, request: httpx2.Request) -> Any:
    try:
        response = await client.send(request)
    except httpx2.HTTPError as exc:
        raise BackendError(f"{name}: {type(exc).__name__}") from None
    if response.status_code == 429:
        raise BackendError(f"{name}: rate limited (HTTP 429)", rate_limited=True)
    if response.status_code >= 400:
        raise BackendError(f"{name}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise BackendError(f"{name}: the answer is not JSON") from None


class SearxngBackend:
    name = "searxng"

    def __init__(self, base_url: str, client: httpx2.AsyncClient) -> None:
        self.base = base_url.rstrip("/")
        self.client = client

    async def search(self, q: Query) -> list[SearchResult]:
        params: dict[str, str | int] = {"q": q.with_site, "format": "json", "pageno": q.page}
        if q.time_range:
            params["time_range"] = q.time_range
        data = await _json(
            self.client, self.name, self.client.build_request("GET", f"{self.base}/search", params=params)
        )
        rows = [
            (str(r.get("title") or ""), str(r.get("url") or ""), str(r.get("content") or ""), r.get("publishedDate"))
            for r in data.get("results", [])
            if isinstance(r, dict)
        ]
        return _results(self.name, rows, q)


class BraveBackend:
    name = "brave"
    _FRESHNESS: ClassVar[dict[str, str]] = {"day": "pd", "week": "pw", "month": "pm", "year": "py"}

    def __init__(self, url: str, key: str, client: httpx2.AsyncClient) -> None:
        self.url, self.key, self.client = url, key, client

    async def search(self, q: Query) -> list[SearchResult]:
        params: dict[str, str | int] = {"q": q.with_site, "count": min(q.limit, 20), "offset": min(q.page - 1, 9)}
        if q.time_range:
            params["freshness"] = self._FRESHNESS[q.time_range]
        headers = {"X-Subscription-Token": self.key, "Accept": "application/json"}
        request = self.client.build_request("GET", self.url, params=params, headers=headers)
        data = await _json(self.client, self.name, request)
        results = (data.get("web") or {}).get("results", [])
        rows = [
            (str(r.get("title") or ""), str(r.get("url") or ""), str(r.get("description") or ""), r.get("page_age"))
            for r in results
            if isinstance(r, dict)
        ]
        return _results(self.name, rows, q)


class TavilyBackend:
    name = "tavily"

    def __init__(self, url: str, key: str, client: httpx2.AsyncClient) -> None:
        self.url, self.key, self.client = url, key, client

    async def search(self, q: Query) -> list[SearchResult]:
        body: dict[str, Any] = {"query": q.text, "max_results": min(q.limit * q.page, 20)}
        if q.site:
            body["include_domains"] = [q.site]
        if q.time_range:
            body["time_range"] = q.time_range
        headers = {"Authorization": f"Bearer {self.key}"}
        data = await _json(
            self.client, self.name, self.client.build_request("POST", self.url, json=body, headers=headers)
        )
        rows = [
            (str(r.get("title") or ""), str(r.get("url") or ""), str(r.get("content") or ""), r.get("published_date"))
            for r in data.get("results", [])
            if isinstance(r, dict)
        ]
        return _results(self.name, rows[(q.page - 1) * q.limit :], q)


class DuckDuckGoBackend:
    name = "duckduckgo"
    _TIME: ClassVar[dict[str, str]] = {"day": "d", "week": "w", "month": "m", "year": "y"}

    async def search(self, q: Query) -> list[SearchResult]:
        try:
            from ddgs import DDGS  # type: ignore[import-not-found]
        except ImportError:
            raise BackendError("duckduckgo: install `k2-websearch[duckduckgo]` (the ddgs library)") from None

        def run() -> list[dict[str, Any]]:
            timelimit = self._TIME[q.time_range] if q.time_range else None
            hits = DDGS().text(q.with_site, timelimit=timelimit, max_results=q.limit, page=q.page, backend="duckduckgo")
            return list(hits)

        try:
            found = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except Exception as exc:  # the library raises its own hierarchy (rate limits, timeouts)
            raise BackendError(f"duckduckgo: {type(exc).__name__}", "ratelimit" in type(exc).__name__.lower()) from None
        rows = [(str(r.get("title", "")), str(r.get("href", "")), str(r.get("body", "")), None) for r in found]
        return _results(self.name, rows, q)


class LocalBackend:
    name = "local"

    def __init__(self, index: LocalIndex) -> None:
        self.index = index

    async def search(self, q: Query) -> list[SearchResult]:
        hits = await anyio.to_thread.run_sync(
            lambda: self.index.search(q.text, q.limit, (q.page - 1) * q.limit, q.site)
        )
        return _results(self.name, [(h.title, h.url, h.snippet, h.published) for h in hits], q)


def build_backends(settings: WebsearchSettings, index: LocalIndex, client: httpx2.AsyncClient) -> dict[str, Backend]:
    """The configured backends in failover order."""
    made: dict[str, Backend] = {}
    for name in settings.backends:
        if name == "searxng" and settings.searxng_url:
            made[name] = SearxngBackend(settings.searxng_url, client)
        elif name == "brave" and settings.brave_api_key:
            made[name] = BraveBackend(settings.brave_url, settings.brave_api_key, client)
        elif name == "tavily" and settings.tavily_api_key:
            made[name] = TavilyBackend(settings.tavily_url, settings.tavily_api_key, client)
        elif name == "duckduckgo":
            made[name] = DuckDuckGoBackend()
        elif name == "local":
            made[name] = LocalBackend(index)
    return made
