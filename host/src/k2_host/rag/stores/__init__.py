"""Vector store backends behind one interface (`VectorStore`), chosen by `RAGSettings.store`.

edge     Qdrant Edge in-process (default)        stores/edge.py
qdrant   Qdrant server or cluster, qdrant-client  stores/qdrant.py
memory   numpy + in-process BM25, for tests       stores/memory.py
chroma   ChromaDB (optional extra)                stores/chroma.py
"""

from __future__ import annotations

from k2_host.rag.errors import ConfigError
from k2_host.rag.settings import STORE_KINDS, RAGConfig
from k2_host.rag.stores.base import DENSE, SPARSE, VectorStore

__all__ = ["DENSE", "SPARSE", "VectorStore", "open_store"]


def open_store(settings: RAGConfig, *, kind: str | None = None) -> VectorStore:
    """Open (not create: that happens on the first write) the configured collection."""
    kind = kind or settings.store
    if kind == "edge":
        from k2_host.rag.stores.edge import EdgeStore

        return EdgeStore(
            settings.store_path() / settings.collection,
            hnsw_ef=settings.hnsw_ef,
            quantization=settings.quantization,
            oversampling=settings.quantization_oversampling,
        )
    if kind == "qdrant":
        from k2_host.rag.stores.qdrant import QdrantStore

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantStore(
            settings.collection,
            url=settings.qdrant_url,
            api_key=key,
            location=settings.qdrant_location,
            timeout_s=settings.qdrant_timeout_s,
            hnsw_ef=settings.hnsw_ef,
            quantization=settings.quantization,
            oversampling=settings.quantization_oversampling,
        )
    if kind == "memory":
        from k2_host.rag.stores.memory import MemoryStore

        return MemoryStore()
    if kind == "chroma":
        from k2_host.rag.stores.chroma import ChromaStore

        return ChromaStore(settings.collection, path=settings.store_path() / "chroma")
    raise ConfigError(f"unknown store backend {kind!r}: choose one of {', '.join(STORE_KINDS)}", code="unknown_store")
