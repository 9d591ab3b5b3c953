"""The agent's view of the RAG index: opened only when there is something in it.

`Knowledge.open()` returns None when no index was built (`k2 ingest` never ran, or the collection is empty), so
an agent on a fresh machine pays nothing for it. Otherwise a model gets the `knowledge.search` tool and the
offline engine searches the index before the live servers.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from k2_host.llm.base import ToolSpec
from k2_host.mcp.convert import host_error
from k2_host.mcp.types import ToolResult
from k2_host.rag.settings import RAGConfig

logger = logging.getLogger(__name__)

SEARCH = ToolSpec(
    name="knowledge.search",
    description=(
        "Search the documents ingested into the local knowledge index (files, web pages, query results) "
        "with hybrid dense + BM25 retrieval. Returns the best passages with their sources; cite them."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 4000},
            "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
        },
        "required": ["query"],
    },
)


class Knowledge:
    def __init__(self, rag: Any) -> None:
        self.rag = rag

    @classmethod
    async def open(cls, settings: RAGConfig | None = None) -> Knowledge | None:
        """The configured RAG index (the config's `rag` section; `K2_RAG_*` alone when none is given), or None
        when it has nothing in it or cannot be opened."""

        def work() -> Knowledge | None:
            from k2_host.rag.settings import RAGSettings

            nonlocal settings
            settings = settings or RAGSettings()
            if settings.store == "edge" and not (settings.store_path() / settings.collection).exists():
                return None
            from k2_host.rag.service import RAG  # the RAG layer (numpy, the store's client) once there is an index

            rag = RAG.open(settings)
            if not rag.store.info().get("points"):
                rag.close()
                return None
            return cls(rag)

        try:
            return await anyio.to_thread.run_sync(work)
        except Exception as exc:  # a broken or locked index must not stop the agent
            logger.warning("knowledge index not used: %s", exc)
            return None

    async def search(self, query: str, k: int = 5) -> list[Any]:
        return await self.rag.search(query, k=k)

    async def tool(self, arguments: dict[str, Any], run: Any = None) -> ToolResult:
        """`knowledge.search` (a local tool: for models and the offline engine's knowledge plan)."""
        query = arguments.get("query")
        k = arguments.get("k", 5)
        if not isinstance(query, str) or not query.strip() or not isinstance(k, int) or not 1 <= k <= 50:
            return host_error(SEARCH.name, "invalid_arguments", 'send {"query": "...", "k": 1..50}')
        try:
            hits = await self.search(query, k)
        except Exception as exc:  # the RAG layer's own errors are actionable messages
            return host_error(SEARCH.name, "search_failed", str(exc))
        text = "\n\n".join(f"[{i + 1}] {h.citation}\n{h.text}" for i, h in enumerate(hits)) or "no passages found"
        return ToolResult(
            name=SEARCH.name,
            text=text,
            structured={
                "hits": [{"source": h.source, "citation": h.citation, "text": h.text, "score": h.score} for h in hits]
            },
        )

    def close(self) -> None:
        self.rag.close()
