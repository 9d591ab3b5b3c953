"""What an offline plan works with: one request's tool calls, embeddings, ranking and extractive answers.

A `PlanRun` is made per request (requests run concurrently under fan-out); it wraps the request's `Run`, so
every tool call goes through the loop middleware (recorded in the trajectory) and is listed in the result.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np

from k2_host.engine import text as tx
from k2_host.engine.text import Passage
from k2_host.llm.base import ToolCall
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult, Citation, Step

if TYPE_CHECKING:
    from k2_host.agent.engine import Run
    from k2_host.engine.index import FolderIndex, FolderIndexes
    from k2_host.rag.embeddings import LazyEmbedder

logger = logging.getLogger(__name__)

# Errors a plan expects as part of searching (a file that is not there, a pattern a server refuses); anything
# else (a server down, a timeout) degrades the answer and is listed in `result.errors`.
_EXPECTED = ("not_found", "invalid_arguments", "tool_error")


class PlanRun:
    def __init__(self, run: Run, embedder: LazyEmbedder | None, indexes: FolderIndexes | None = None) -> None:
        self.run = run
        self.indexes = IndexAccess(self, indexes) if indexes is not None else None
        self.result: AgentResult = run.result
        self.roots = run.roots
        self.knowledge = run.knowledge
        self._embedder = embedder
        self.step = Step(index=0, kind="plan", text="")

    async def call(self, name: str, arguments: dict[str, Any], *, fresh: bool = False) -> ToolResult:
        """One tool call of the current step (MCP or local), recorded in the result; `fresh`: not from the cache."""
        call = ToolCall(id=f"offline-{len(self.result.tool_calls)}", name=name, arguments=arguments)
        record, res = await self.run.call_tool(call, self.step.index, fresh=fresh)
        self.result.tool_calls.append(record)
        self.step.tool_calls.append(record.id)
        self.result.timings.tools_ms += res.duration_ms
        if res.is_error and res.error_code not in _EXPECTED:
            self.result.errors.append(f"{name}: {res.text[:200]}")
        return res

    async def embed(self, texts: list[str]) -> np.ndarray | None:
        """Normalised embeddings of `texts`, or None when the model cannot be loaded (keyword scores only)."""
        if not texts or self._embedder is None:
            return None
        embedder = await self._embedder.get()
        if embedder is None:
            return None
        try:
            return await anyio.to_thread.run_sync(embedder.embed_documents, texts)
        except Exception as exc:  # a model that fails mid-run: keep answering with keyword scores
            logger.warning("offline engine: embedding failed (%s); using keyword scores only", exc)
            return None

    async def rank(
        self, query: str, passages: list[Passage], *, name_bonus: dict[str, float] | None = None
    ) -> list[Passage]:
        keys = tx.keywords(query)
        if not passages:
            return []
        # The line itself counts most; its neighbours (a section heading, a key above) somewhat; a line that
        # states a value for one of the question's words (`port: 8443`) gets a bonus.
        lexical = np.array(
            [
                0.6 * tx.lexical_score(keys, p.text)
                + 0.3 * tx.lexical_score(keys, p.context)
                + (0.3 if tx.extract_value(keys, p.text) else 0.0)
                for p in passages
            ],
            dtype=np.float32,
        )
        if name_bonus:
            lexical += np.array([name_bonus.get(p.source, 0.0) for p in passages], dtype=np.float32)
        # Embed only the lexically best candidates: the model costs ~10 ms per short text here.
        order = np.argsort(-lexical, kind="stable")[:64]
        shortlisted = [passages[i] for i in order]
        # The model sees where a line is (its file's name: "production yaml") as well as the line.
        labelled = [f"{tx.split_identifiers(p.source.rsplit('/', 1)[-1])}: {p.context}" for p in shortlisted]
        vecs = await self.embed([query, *labelled])
        dense = vecs[1:] @ vecs[0] if vecs is not None else np.zeros(len(shortlisted), dtype=np.float32)
        for p, lex, d in zip(shortlisted, lexical[order], dense, strict=True):
            p.score = float(0.55 * d + 0.45 * min(1.0, lex)) if vecs is not None else float(lex)
        shortlisted.sort(key=lambda p: -p.score)
        return shortlisted

    def cite(self, passages: list[Passage]) -> None:
        for p in passages:
            self.result.citations.append(Citation(source=p.source, location=p.location, text=p.text))

    def show(self, source: str) -> str:
        """A path relative to its root (as the user sees the project), anything else as it is."""
        for root in self.roots:
            prefix = root.rstrip("/") + "/"
            if source.startswith(prefix):
                return source[len(prefix) :]
        return source

    def extractive(self, query: str, best: list[Passage]) -> str:
        keys = tx.keywords(query)
        top = best[0]
        value = tx.extract_value(keys, top.text)
        lines = []
        where = f"{self.show(top.source)}, {top.location}" if top.location else self.show(top.source)
        lines.append(f"{value} — from {where}: `{top.text}`" if value else f"From {where}: {top.text}")
        shown = [top]
        for p in best[1:3]:
            if p.score >= 0.8 * top.score:
                loc = f", {p.location}" if p.location else ""
                lines.append(f"Also {self.show(p.source)}{loc}: {p.text}")
                shown.append(p)
        self.cite(shown)
        return "\n".join(lines)


class IndexAccess:
    """A request's way to the folder indexes: refreshed before use, with an `index` notice when files were read."""

    def __init__(self, p: PlanRun, indexes: FolderIndexes) -> None:
        self.p = p
        self.indexes = indexes

    async def fresh(self, root: str) -> FolderIndex | None:
        p = self.p
        from k2_host.engine.index import SplitCaller
        from k2_host.rag.errors import IngestError
        from k2_host.results import AgentEvent

        index = self.indexes.get(root)
        if index is None:
            return None

        class Recorded:  # the listing is one of this request's tool calls
            async def call(
                self, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
            ) -> ToolResult:
                return await p.call(name, arguments or {}, fresh=True)

        try:
            stats = await index.refresh(SplitCaller(Recorded(), p.run.upkeep_caller()))
        except IngestError as exc:
            p.result.errors.append(f"folder index of {root}: {exc}")
            return None
        if stats.read or stats.removed:
            what = f"indexed {stats.read} file(s) of {root}" + (f", dropped {stats.removed}" if stats.removed else "")
            rate = f"{stats.read / stats.seconds:.0f} files/s" if stats.seconds > 0 else ""
            await p.run.emit(
                AgentEvent(
                    kind="notice",
                    text=f"{what}: {stats.units} units in {stats.seconds:.1f} s ({rate})",
                    data={"index": stats.data()},
                )
            )
        if stats.skipped:
            logger.info("folder index of %s: %d file(s) left out: %s", root, len(stats.skipped), stats.skipped[:5])
        return index


def join(root: str, rel: str) -> str:
    if rel.startswith("/"):
        return rel
    return f"{root.rstrip('/')}/{rel}" if rel not in ("", ".") else root
