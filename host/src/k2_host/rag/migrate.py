"""Copy a collection between backends (Edge → Qdrant cluster, Qdrant → Edge, anything → Chroma...).

Points keep their ids, dense and sparse vectors and payloads, so the copy answers the same queries the same
way; nothing is re-embedded. Store specs name a backend and where it lives:

    edge | edge:/path/to/folder | memory | chroma | chroma:/path | qdrant (from settings) | http(s)://host:6333
"""

from __future__ import annotations

from collections.abc import Callable

from k2_host.rag.errors import ConfigError
from k2_host.rag.settings import RAGConfig
from k2_host.rag.stores import VectorStore, open_store


def store_from_spec(spec: str, settings: RAGConfig, *, collection: str | None = None) -> VectorStore:
    """Open the store a spec names, other settings as configured."""
    update: dict[str, object] = {}
    if collection:
        update["collection"] = collection
    kind, _, where = spec.partition(":")
    if spec.startswith(("http://", "https://")):
        update.update(store="qdrant", qdrant_url=spec, qdrant_location=None)
    elif kind in ("edge", "chroma"):
        update["store"] = kind
        if where:
            update["path"] = where
    elif kind in ("memory", "qdrant") and not where:
        update["store"] = kind
    else:
        raise ConfigError(f"bad store spec {spec!r}: use edge[:PATH], chroma[:PATH], memory, qdrant or a Qdrant URL")
    merged = settings.model_dump()
    merged.update(update)
    try:
        resolved = RAGConfig.model_validate(merged)
    except ValueError as exc:
        raise ConfigError(f"store spec {spec!r}: {exc}") from exc
    return open_store(resolved)


def copy_collection(
    src: VectorStore, dst: VectorStore, *, batch: int = 256, progress: Callable[[int, int], None] | None = None
) -> int:
    """Copy every point of `src` into `dst` (created with the same dimension); returns the points copied."""
    if src.dim is None:
        raise ConfigError("the source collection does not exist (nothing to migrate)", code="no_collection")
    dst.ensure(src.dim)
    total, copied = src.count(), 0
    for points in src.scroll(batch=batch, with_vectors=True):
        dst.upsert(points)
        copied += len(points)
        if progress is not None:
            progress(copied, total)
    dst.flush()
    return copied
