"""The one interface over every vector store backend, and the collection layout they share.

A collection holds one point per chunk: a named dense vector `dense` (cosine) and a named sparse vector `bm25`
(IDF applied by the store), plus the payload described in `k2_host.rag.models`. Keyword, integer and float
payload indexes are made on the fields filters use. Point ids are uuid5(doc_id, chunk_index), so re-ingesting
a document overwrites its points in place, and `delete` by condition removes a document or its tail.

Every method is synchronous; the service calls them from worker threads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from k2_host.rag.filters import Condition
from k2_host.rag.fusion import rrf
from k2_host.rag.models import SparseVec, StoredPoint

DENSE = "dense"
SPARSE = "bm25"
KEYWORD_FIELDS = ("doc_id", "source", "source_type", "type", "path", "dirs", "tags", "url", "language")
INTEGER_FIELDS = ("chunk_index", "page")
FLOAT_FIELDS = ("modified_ts", "ingested_ts")


class VectorStore(ABC):
    """A collection of chunk points in some backend."""

    kind: str = "abstract"

    @property
    @abstractmethod
    def dim(self) -> int | None:
        """The dense dimension of the collection, None before it exists."""

    @abstractmethod
    def ensure(self, dim: int) -> None:
        """Create the collection if it is missing; refuse one made for another dimension (StoreError)."""

    @abstractmethod
    def upsert(self, points: Sequence[StoredPoint]) -> None: ...

    @abstractmethod
    def delete(self, conds: Sequence[Condition]) -> None:
        """Delete every point matching all conditions (an empty list is refused)."""

    @abstractmethod
    def count(self, conds: Sequence[Condition] = ()) -> int: ...

    @abstractmethod
    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]: ...

    @abstractmethod
    def scroll(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        """Every point, a batch at a time (for migration)."""

    @abstractmethod
    def dense_search(
        self, vector: Sequence[float], limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]: ...

    @abstractmethod
    def sparse_search(
        self, vector: SparseVec, limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]: ...

    def hybrid_search(
        self,
        dense: Sequence[float],
        sparse: SparseVec,
        limit: int,
        conds: Sequence[Condition] = (),
        *,
        prefetch: int = 100,
        rrf_k: int = 60,
        with_vectors: bool = False,
    ) -> list[StoredPoint]:
        """Prefetch dense and BM25 candidates, fuse with RRF (backends with native fusion override this)."""
        a = self.dense_search(dense, max(prefetch, limit), conds, with_vectors=with_vectors)
        b = self.sparse_search(sparse, max(prefetch, limit), conds, with_vectors=with_vectors)
        return rrf([a, b], k=rrf_k)[:limit]

    def info(self) -> dict[str, Any]:
        return {"backend": self.kind, "dim": self.dim, "points": self.count() if self.dim else 0}

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make writes durable (backends that buffer override this)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the backend's resources."""


def require_conditions(conds: Sequence[Condition]) -> None:
    if not conds:
        raise ValueError("delete needs at least one condition (refusing to empty the collection)")
