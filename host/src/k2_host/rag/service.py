"""The RAG facade the CLI and the agent use: ingest sources through MCP, search with hybrid retrieval.

    async with RAG.open(RAGSettings()) as rag:            # or rag = RAG.open(...); ...; rag.close()
        report = await rag.ingest_path(caller, "/home/me/notes", progress=print)
        hits = await rag.search("how do I rotate the keys?", k=5, filters={"type": "markdown"})

Ingestion chunks each document, embeds the chunks in batches (cached on disk by content hash), encodes
them as BM25 sparse vectors, upserts points keyed by (doc id, chunk index) and deletes the chunks past the
new end, so re-ingesting never duplicates and a shrunk document loses its tail. A document whose content hash
is unchanged is skipped. Search embeds the query (LRU-cached), runs dense, BM25 or hybrid (prefetch both,
RRF), optionally MMR and a reranking hook, and caches results until the next write.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import anyio
import anyio.to_thread
import numpy as np

from k2_host.mcp.types import ToolCaller
from k2_host.rag import sources
from k2_host.rag.cache import EmbeddingCache, LRUTTLCache
from k2_host.rag.chunking import Chunker
from k2_host.rag.embeddings import Embedder
from k2_host.rag.errors import IngestError, QueryError
from k2_host.rag.filters import Match, Range, parse_filters
from k2_host.rag.fusion import mmr as mmr_rerank
from k2_host.rag.models import Chunk, DocReport, Document, Hit, IngestProgress, IngestReport, StoredPoint, point_id
from k2_host.rag.settings import RAGConfig, RAGSettings, SearchMode
from k2_host.rag.sparse import BM25Encoder
from k2_host.rag.stores import VectorStore, open_store

Reranker = Callable[[str, list[Hit]], Sequence[Hit]]
Progress = Callable[[IngestProgress], None]
MODES = ("hybrid", "dense", "bm25")
FLUSH_CHUNKS = 256


_embedders: dict[tuple[Any, ...], Embedder] = {}
_embedders_lock = threading.Lock()


def shared_embedder(settings: RAGConfig) -> Embedder:
    """One Embedder per process for each (model, device, batch size, cache folder): the model loads once."""
    cache_dir = settings.embedding_cache_dir() if settings.embedding_cache else None
    key = (settings.model, settings.device, settings.batch_size, cache_dir)
    with _embedders_lock:
        emb = _embedders.get(key)
        if emb is None:
            cache = EmbeddingCache(cache_dir) if cache_dir else None
            emb = _embedders[key] = Embedder(
                settings.model, device=settings.device, batch_size=settings.batch_size, cache=cache
            )
        return emb


def citation(payload: dict[str, Any]) -> str:
    """A short human-readable pointer to where a chunk came from."""
    kind = payload.get("source_type")
    if kind == "web":
        base = f"{payload.get('title') or payload.get('url')} <{payload.get('url')}>"
    elif kind == "database":
        base = f"SQL: {str(payload.get('source', ''))[:80]}"
    else:
        base = str(payload.get("path") or payload.get("source") or payload.get("doc_id"))
    heading = [h for h in payload.get("heading_path") or [] if h != payload.get("title")]
    if heading:
        base += " § " + " > ".join(heading)
    if payload.get("page"):
        base += f", p. {payload['page']}"
    return base


def to_hit(p: StoredPoint) -> Hit:
    pl = p.payload
    return Hit(
        text=str(pl.get("text", "")),
        score=p.score,
        source=str(pl.get("source", "")),
        citation=citation(pl),
        doc_id=str(pl.get("doc_id", "")),
        chunk_index=int(pl.get("chunk_index", 0)),
        heading_path=list(pl.get("heading_path") or []),
        payload=pl,
        point_id=p.id,
    )


class RAG:
    """Ingestion and retrieval over one collection in one store."""

    def __init__(
        self, settings: RAGConfig, store: VectorStore, embedder: Embedder, *, reranker: Reranker | None = None
    ) -> None:
        self.settings, self.store, self.embedder, self.reranker = settings, store, embedder, reranker
        s = settings
        self.bm25 = BM25Encoder(k1=s.bm25_k1, b=s.bm25_b, avg_len=s.bm25_avg_len, language=s.bm25_language)
        budget = max(16, min(s.chunk_tokens, embedder.max_seq_length - 2))
        self.chunker = Chunker(budget, min(s.chunk_overlap, budget // 2), count_tokens=embedder.count_tokens)
        self.query_cache: LRUTTLCache[np.ndarray] = LRUTTLCache(s.query_cache_size)
        self.result_cache: LRUTTLCache[list[Hit]] = LRUTTLCache(s.result_cache_size, s.result_cache_ttl_s)

    @classmethod
    def open(
        cls,
        settings: RAGConfig | None = None,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        reranker: Reranker | None = None,
    ) -> RAG:
        """Open the configured store and the embedding model (shared per process unless one is given)."""
        settings = settings or RAGSettings()
        return cls(settings, store or open_store(settings), embedder or shared_embedder(settings), reranker=reranker)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # ---- ingestion -------------------------------------------------------------------------------------------

    async def ingest_path(
        self, caller: ToolCaller, path: str | Path, *, tags: Sequence[str] = (), progress: Progress | None = None
    ) -> IngestReport:
        """A file or a folder (recursively), read through the filesystem server."""
        path = str(path)
        t = self.settings.tool_timeout_s
        files, warnings = await sources.list_files(
            caller, path, max_files=self.settings.max_files, max_bytes=self.settings.max_file_bytes, timeout=t
        )
        failures: list[DocReport] = []

        async def docs() -> AsyncIterable[Document]:
            for f in files:
                try:
                    yield await sources.read_document(caller, f, timeout=t)
                except IngestError as exc:
                    failures.append(DocReport(doc_id=f"file:{f}", source=f, status="failed", reason=str(exc)))

        report = await self.ingest_documents(docs(), source=path, total=len(files), tags=tags, progress=progress)
        report.documents.extend(failures)
        report.warnings[:0] = warnings
        return report

    async def ingest_url(
        self, caller: ToolCaller, url: str, *, tags: Sequence[str] = (), progress: Progress | None = None
    ) -> IngestReport:
        """A web page (all of it), fetched through websearch.fetch_webpage."""
        doc = await sources.fetch_page(caller, url, timeout=self.settings.tool_timeout_s)
        return await self.ingest_documents([doc], source=url, total=1, tags=tags, progress=progress)

    async def ingest_query(
        self,
        caller: ToolCaller,
        sql: str,
        *,
        params: list[Any] | None = None,
        doc_id: str | None = None,
        title: str | None = None,
        tags: Sequence[str] = (),
        progress: Progress | None = None,
    ) -> IngestReport:
        """The rows of one SQL query, run through database.query_database, as one document."""
        s = self.settings
        doc = await sources.read_query(
            caller, sql, params=params, doc_id=doc_id, title=title, max_rows=s.max_rows, timeout=s.tool_timeout_s
        )
        return await self.ingest_documents([doc], source=sql, total=1, tags=tags, progress=progress)

    async def ingest_documents(
        self,
        docs: Iterable[Document] | AsyncIterable[Document],
        *,
        source: str = "documents",
        total: int | None = None,
        tags: Sequence[str] = (),
        progress: Progress | None = None,
    ) -> IngestReport:
        """Chunk, embed and store documents already read (what the other ingest methods end in)."""
        started = time.monotonic()
        report = IngestReport(source=source)
        pending: list[tuple[Document, list[Chunk], str]] = []
        done = 0
        order: dict[str, int] = {}
        embedded_before = self.embedder.embedded

        async def each() -> AsyncIterable[Document]:
            if isinstance(docs, AsyncIterable):
                async for d in docs:
                    yield d
            else:
                for d in docs:
                    yield d

        try:
            async for doc in each():
                order.setdefault(doc.doc_id, len(order))
                if tags:
                    doc.meta["tags"] = sorted(set(doc.meta.get("tags", [])) | set(tags))
                chunks, digest = await anyio.to_thread.run_sync(self._prepare, doc)
                status = await anyio.to_thread.run_sync(self._unchanged, doc, digest, len(chunks))
                if status:
                    report.documents.append(DocReport(doc_id=doc.doc_id, source=doc.source, status="unchanged"))
                elif not chunks:
                    removed = await anyio.to_thread.run_sync(self._drop_tail, doc.doc_id, 0)
                    report.documents.append(
                        DocReport(
                            doc_id=doc.doc_id,
                            source=doc.source,
                            status="skipped",
                            removed_chunks=removed,
                            reason="no text",
                        )
                    )
                else:
                    pending.append((doc, chunks, digest))
                    if sum(len(c) for _, c, _ in pending) >= FLUSH_CHUNKS:
                        await self._flush(pending, report)
                done += 1
                if progress is not None:
                    progress(IngestProgress(done, total, doc.source, report.chunks))
            await self._flush(pending, report)
        finally:
            self.result_cache.clear()
        report.documents.sort(key=lambda d: order.get(d.doc_id, len(order)))
        report.embedded = self.embedder.embedded - embedded_before
        report.elapsed_s = time.monotonic() - started
        return report

    def _prepare(self, doc: Document) -> tuple[list[Chunk], str]:
        chunks = self.chunker.chunk(doc.text, doc.kind, root=doc.root)
        meta = json.dumps({k: v for k, v in doc.meta.items() if k != "modified"}, sort_keys=True, default=str)
        key = f"{self.embedder.model_name}\x00{self.chunker.max_tokens}\x00{self.chunker.overlap}\x00{doc.kind}"
        key += f"\x00{doc.title}\x00{doc.root}\x00{meta}\x00{self.bm25.config}\x00{doc.text}"
        return chunks, hashlib.sha256(key.encode()).hexdigest()

    def _unchanged(self, doc: Document, digest: str, n_chunks: int) -> bool:
        if self.store.dim is None or n_chunks == 0:
            return False
        found = self.store.retrieve([point_id(doc.doc_id, 0)])
        if not found or found[0].payload.get("doc_hash") != digest:
            return False
        return self.store.count([Match("doc_id", (doc.doc_id,))]) == n_chunks

    def _drop_tail(self, doc_id: str, keep: int) -> int:
        if self.store.dim is None:
            return 0
        conds = [Match("doc_id", (doc_id,)), Range("chunk_index", gte=float(keep))]
        n = self.store.count(conds)
        if n:
            self.store.delete(conds)
        return n

    async def _flush(self, pending: list[tuple[Document, list[Chunk], str]], report: IngestReport) -> None:
        if not pending:
            return
        batch = list(pending)
        pending.clear()
        removed = await anyio.to_thread.run_sync(self._write, batch)
        for (doc, chunks, _), gone in zip(batch, removed, strict=True):
            report.documents.append(
                DocReport(
                    doc_id=doc.doc_id, source=doc.source, status="ingested", chunks=len(chunks), removed_chunks=gone
                )
            )
            report.chunks += len(chunks)
        self.result_cache.clear()

    def _write(self, batch: list[tuple[Document, list[Chunk], str]]) -> list[int]:
        texts = [c.embed_text() for _, chunks, _ in batch for c in chunks]
        vectors = self.embedder.embed_documents(texts)
        self.store.ensure(self.embedder.dim)
        now = datetime.now(UTC)
        points: list[StoredPoint] = []
        row = 0
        for doc, chunks, digest in batch:
            base = self._doc_payload(doc, digest, len(chunks), now)
            for c in chunks:
                payload = dict(base, chunk_index=c.index, text=c.text, start=c.start, end=c.end)
                payload.update(heading_path=c.heading_path, heading=" > ".join(c.heading_path), page=c.page)
                sparse = self.bm25.encode_document(texts[row])
                points.append(StoredPoint(point_id(doc.doc_id, c.index), payload, vectors[row].tolist(), sparse))
                row += 1
        self.store.upsert(points)
        removed = [self._drop_tail(doc.doc_id, len(chunks)) for doc, chunks, _ in batch]
        self.store.flush()
        return removed

    def _doc_payload(self, doc: Document, digest: str, n: int, now: datetime) -> dict[str, Any]:
        meta = doc.meta
        payload: dict[str, Any] = {
            "doc_id": doc.doc_id,
            "chunk_count": n,
            "doc_hash": digest,
            "source": doc.source,
            "source_type": doc.source_type,
            "type": doc.kind,
            "title": doc.title,
            "path": meta.get("path"),
            "dirs": meta.get("dirs", []),
            "url": meta.get("url"),
            "tags": list(meta.get("tags", [])),
            "language": meta.get("language"),
            "ingested": now.isoformat(),
            "ingested_ts": now.timestamp(),
            "model": self.embedder.model_name,
        }
        if meta.get("modified"):
            try:
                when = datetime.fromisoformat(str(meta["modified"]).replace("Z", "+00:00"))
                payload["modified"], payload["modified_ts"] = when.isoformat(), when.timestamp()
            except ValueError:
                payload["modified"] = str(meta["modified"])
        return {k: v for k, v in payload.items() if v is not None}

    async def delete(self, doc_id: str) -> int:
        """Remove a document's chunks; returns how many there were."""
        n = await anyio.to_thread.run_sync(self._drop_tail, doc_id, 0)
        self.result_cache.clear()
        return n

    # ---- retrieval -------------------------------------------------------------------------------------------

    def _check(self, query: str, k: int, mode: str) -> None:
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the query is empty: give some words to search for", code="empty_query")
        if len(query) > self.settings.max_query_chars:
            raise QueryError(
                f"the query is {len(query)} characters, over the {self.settings.max_query_chars}-character limit "
                "(K2_RAG_MAX_QUERY_CHARS); search with a shorter question",
                code="query_too_long",
            )
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}", code="bad_mode")
        if not 1 <= k <= 10_000:
            raise QueryError(f"k must be between 1 and 10000, got {k!r}", code="bad_k")

    def query_vector(self, query: str) -> np.ndarray:
        key = (self.embedder.model_name, query)
        vec = self.query_cache.get(key)
        if vec is None:
            vec = self.embedder.embed_query(query)
            self.query_cache.put(key, vec)
        return vec

    async def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: SearchMode = "hybrid",
        filters: dict[str, Any] | None = None,
        mmr: bool = False,
        rerank: Reranker | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `query`."""
        self._check(query, k, mode)
        conds = parse_filters(filters)
        rerank = rerank or self.reranker
        key = (query, k, mode, json.dumps(filters, sort_keys=True, default=str), mmr, id(rerank) if rerank else None)
        cached = self.result_cache.get(key)
        if cached is not None:
            return [h.model_copy() for h in cached]
        hits = await anyio.to_thread.run_sync(self._search, query, k, mode, conds, mmr, rerank)
        self.result_cache.put(key, hits)
        return [h.model_copy() for h in hits]

    def _search(self, query: str, k: int, mode: str, conds: list[Any], mmr: bool, rerank: Reranker | None) -> list[Hit]:
        s = self.settings
        n = max(k, s.mmr_candidates) if (mmr or rerank) else k
        qvec: np.ndarray | None = None
        if mode != "bm25" or mmr:
            qvec = self.query_vector(query)
        if mode == "dense":
            assert qvec is not None
            points = self.store.dense_search(qvec.tolist(), n, conds, with_vectors=mmr)
        elif mode == "bm25":
            points = self.store.sparse_search(self.bm25.encode_query(query), n, conds, with_vectors=mmr)
        else:
            assert qvec is not None
            points = self.store.hybrid_search(
                qvec.tolist(),
                self.bm25.encode_query(query),
                n,
                conds,
                prefetch=s.prefetch_limit,
                rrf_k=s.rrf_k,
                with_vectors=mmr,
            )
        if mmr and qvec is not None:
            points = mmr_rerank(qvec, points, k=n if rerank else k, lambda_=s.mmr_lambda)
        hits = [to_hit(p) for p in points]
        if rerank is not None:
            hits = list(rerank(query, hits))
        return hits[:k]

    def info(self) -> dict[str, Any]:
        return {
            **self.store.info(),
            "collection": self.settings.collection,
            "model": self.embedder.model_name,
            "device": self.embedder.device,
        }
