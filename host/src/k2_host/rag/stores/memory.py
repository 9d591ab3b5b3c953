"""The in-memory backend: exact cosine search with numpy and BM25 from `SparseIndex`. For tests and small jobs;
nothing is persisted."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np

from k2_host.rag.errors import StoreError
from k2_host.rag.filters import Condition, matches
from k2_host.rag.models import SparseVec, StoredPoint
from k2_host.rag.sparse import SparseIndex
from k2_host.rag.stores.base import VectorStore, require_conditions


class MemoryStore(VectorStore):
    kind = "memory"

    def __init__(self) -> None:
        self._dim: int | None = None
        self._points: dict[str, StoredPoint] = {}
        self._sparse = SparseIndex()
        self._matrix: tuple[list[str], np.ndarray] | None = None
        self._lock = threading.RLock()

    @property
    def dim(self) -> int | None:
        return self._dim

    def ensure(self, dim: int) -> None:
        if self._dim is None:
            self._dim = dim
        elif self._dim != dim:
            raise StoreError(f"the collection holds {self._dim}-d vectors, not {dim}-d", code="dim_mismatch")

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        with self._lock:
            for p in points:
                if p.dense is None or len(p.dense) != self._dim:
                    raise StoreError(f"point {p.id!r} needs a {self._dim}-d dense vector")
                self._points[p.id] = StoredPoint(p.id, dict(p.payload), list(p.dense), p.sparse)
                if p.sparse is not None:
                    self._sparse.add(p.id, p.sparse)
                else:
                    self._sparse.remove(p.id)
            self._matrix = None

    def delete(self, conds: Sequence[Condition]) -> None:
        require_conditions(conds)
        with self._lock:
            for pid in [pid for pid, p in self._points.items() if matches(conds, p.payload)]:
                del self._points[pid]
                self._sparse.remove(pid)
            self._matrix = None

    def count(self, conds: Sequence[Condition] = ()) -> int:
        with self._lock:
            return sum(matches(conds, p.payload) for p in self._points.values())

    def _out(self, p: StoredPoint, score: float, with_vectors: bool) -> StoredPoint:
        if with_vectors:
            return StoredPoint(p.id, dict(p.payload), list(p.dense or []), p.sparse, score)
        return StoredPoint(p.id, dict(p.payload), score=score)

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        with self._lock:
            return [self._out(self._points[i], 0.0, with_vectors) for i in ids if i in self._points]

    def scroll(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        with self._lock:
            ids = sorted(self._points)
        for i in range(0, len(ids), batch):
            yield self.retrieve(ids[i : i + batch], with_vectors=with_vectors)

    def dense_search(
        self, vector: Sequence[float], limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        with self._lock:
            if self._matrix is None:
                ids = list(self._points)
                mat = np.asarray([self._points[i].dense for i in ids], dtype=np.float32).reshape(
                    len(ids), self._dim or 0
                )
                norms = np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
                self._matrix = (ids, mat / norms)
            ids, mat = self._matrix
            if not ids:
                return []
            q = np.asarray(vector, dtype=np.float32)
            scores = mat @ (q / max(float(np.linalg.norm(q)), 1e-12))
            order = np.argsort(-scores, kind="stable")
            out: list[StoredPoint] = []
            for idx in order:
                p = self._points[ids[idx]]
                if matches(conds, p.payload):
                    out.append(self._out(p, float(scores[idx]), with_vectors))
                    if len(out) >= limit:
                        break
            return out

    def sparse_search(
        self, vector: SparseVec, limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        with self._lock:
            found = self._sparse.search(vector, limit, lambda pid: matches(conds, self._points[pid].payload))
            return [self._out(self._points[pid], score, with_vectors) for pid, score in found]
