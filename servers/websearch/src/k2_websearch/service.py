"""The tools' logic, without MCP: search with failover, fetching pages a window at a time, links, many pages."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2

from k2_websearch import extract
from k2_websearch.backends import Backend, BackendError, Query, TimeRange, build_backends
from k2_websearch.config import WebsearchSettings
from k2_websearch.errors import InvalidArguments, SearchFailed, WebError
from k2_websearch.extract import Document, Format
from k2_websearch.fetcher import Fetched, Fetcher
from k2_websearch.index import LocalIndex
from k2_websearch.models import BackendAttempt, FetchOutcome, Link, ManyPages, PageLinks, SearchResults, WebPage
from k2_websearch.netguard import NetPolicy

logger = logging.getLogger(__name__)
MAX_LINKS = 1000


class WebService:
    def __init__(self, settings: WebsearchSettings, policy: NetPolicy | None = None) -> None:
        self.s = settings
        self.fetcher = Fetcher(settings, policy)
        self.index = LocalIndex(settings.index)
        self.api_client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(settings.search_timeout_s), headers={"User-Agent": settings.user_agent}
        )
        self.backends: dict[str, Backend] = build_backends(settings, self.index, self.api_client)
        self._rendered: OrderedDict[tuple[str, str, float], Document] = OrderedDict()

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[WebService]:
        try:
            yield self
        finally:
            await self.fetcher.aclose()
            await self.api_client.aclose()

    # --- search --------------------------------------------------------------------------------------------

    async def search(
        self, text: str, limit: int, page: int, site: str | None, time_range: TimeRange | None, backend: str | None
    ) -> SearchResults:
        if backend is not None and backend not in self.backends:
            raise InvalidArguments(
                f"backend {backend!r} is not configured; the active ones are {', '.join(self.backends)}"
            )
        order = [backend] if backend else list(self.backends)
        q = Query(text, limit, page, site, time_range)
        failed: list[BackendAttempt] = []
        for name in order:
            try:
                with anyio.fail_after(self.s.search_timeout_s):
                    results = await self.backends[name].search(q)
            except BackendError as exc:
                failed.append(BackendAttempt(backend=name, error=str(exc)))
                continue
            except TimeoutError:
                failed.append(BackendAttempt(backend=name, error=f"{name}: no answer in {self.s.search_timeout_s:g} s"))
                continue
            return SearchResults(
                query=text, page=page, backend=name, active_backends=list(self.backends), failed=failed, results=results
            )
        detail = "; ".join(a.error for a in failed)
        raise SearchFailed(f"every backend failed for {text!r}: {detail}. Try again later or another backend")

    # --- fetch ---------------------------------------------------------------------------------------------

    async def fetch_page(self, url: str, start_index: int, max_length: int | None, fmt: Format) -> WebPage:
        page = await self.fetcher.fetch(url, revalidate=start_index == 0)
        doc = await self._render(page, fmt)
        if page.status == 200 and not page.from_cache and self.s.index_fetched and doc.kind in ("html", "pdf", "text"):
            text = doc if fmt in ("markdown", "text") else await self._render(page, "text")
            await anyio.to_thread.run_sync(self.index.add, page.final_url, text.title, text.content)
        total = len(doc.content)
        if start_index > 0 and start_index >= total:
            raise InvalidArguments(
                f"start_index {start_index} is past the end of {url!r} ({total} characters); start lower"
            )
        length = max_length or self.s.max_length
        end = min(total, start_index + length)
        return WebPage(
            url=url,
            final_url=page.final_url,
            status=page.status,
            content_type=page.content_type,
            kind=doc.kind,
            format=fmt,
            title=doc.title,
            content=doc.content[start_index:end],
            start_index=start_index,
            total_length=total,
            truncated=end < total,
            next_start_index=end if end < total else None,
            body_truncated=page.truncated,
            from_cache=page.from_cache,
        )

    async def _render(self, page: Fetched, fmt: Format) -> Document:
        key = (page.url, fmt, page.fetched_at)
        doc = self._rendered.get(key)
        if doc is None:
            doc = await anyio.to_thread.run_sync(extract.render, page, fmt)
            self._rendered[key] = doc
            while len(self._rendered) > self.s.cache_entries * 2:
                self._rendered.popitem(last=False)
        return doc

    async def links(self, url: str, limit: int) -> PageLinks:
        page = await self.fetcher.fetch(url, revalidate=False)
        found = await anyio.to_thread.run_sync(extract.links, page, limit + 1)
        return PageLinks(
            url=url,
            final_url=page.final_url,
            links=[Link(url=u, text=t) for u, t in found[:limit]],
            truncated=len(found) > limit,
            body_truncated=page.truncated,
        )

    async def fetch_many(self, urls: list[str], max_length: int | None, fmt: Format) -> ManyPages:
        outcomes: list[FetchOutcome | None] = [None] * len(urls)
        limiter = anyio.CapacityLimiter(self.s.max_concurrency)

        async def one(i: int, url: str) -> None:
            async with limiter:
                try:
                    outcomes[i] = FetchOutcome(url=url, page=await self.fetch_page(url, 0, max_length, fmt))
                except WebError as exc:
                    outcomes[i] = FetchOutcome(url=url, error=exc.code, message=str(exc))

        async with anyio.create_task_group() as tg:
            for i, url in enumerate(urls):
                tg.start_soon(one, i, url)
        return ManyPages(results=[o for o in outcomes if o is not None])
