"""The embedded default: Qdrant Edge (`qdrant-edge-py`), Qdrant's engine in-process.

One shard per collection in `<path>/<collection>/shard`, with `k2-collection.json` beside it recording the
dense dimension and quantization (Edge does not report its vector config back). HNSW on `dense` (cosine; int8
scalar quantization by default, the best candidates rescored with the float vectors), a sparse index with IDF
on `bm25`, payload indexes on the filter fields; hybrid queries prefetch both and fuse with RRF in the
engine — the plan a Qdrant server runs.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from k2_host.rag.errors import StoreError
from k2_host.rag.filters import Condition, Range
from k2_host.rag.models import SparseVec, StoredPoint
from k2_host.rag.stores.base import (
    DENSE,
    FLOAT_FIELDS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    SPARSE,
    VectorStore,
    require_conditions,
)

META_FILE = "k2-collection.json"


def edge_filter(conds: Sequence[Condition]) -> qe.Filter | None:
    if not conds:
        return None
    must: list[Any] = []
    for c in conds:
        if isinstance(c, Range):
            must.append(qe.FieldCondition(key=c.key, range=qe.RangeFloat(gte=c.gte, gt=c.gt, lte=c.lte, lt=c.lt)))
        elif len(c.values) == 1:
            must.append(qe.FieldCondition(key=c.key, match=qe.MatchValue(c.values[0])))
        elif all(isinstance(v, str) for v in c.values) or all(type(v) is int for v in c.values):
            must.append(qe.FieldCondition(key=c.key, match=qe.MatchAny(list(c.values))))  # type: ignore[arg-type]
        else:
            should = [qe.FieldCondition(key=c.key, match=qe.MatchValue(v)) for v in c.values]
            must.append(qe.Filter(should=should))  # type: ignore[arg-type]
    return qe.Filter(must=must)


def _sparse(v: SparseVec) -> qe.SparseVector:
    return qe.SparseVector(list(v.indices), list(v.values))


def _point(p: Any, with_vectors: bool) -> StoredPoint:
    dense = sparse = None
    vec = getattr(p, "vector", None)
    if with_vectors and isinstance(vec, dict):
        d = vec.get(DENSE)
        dense = list(d) if d is not None else None
        s = vec.get(SPARSE)
        sparse = SparseVec(list(s.indices), list(s.values)) if s is not None else None
    return StoredPoint(str(p.id), dict(p.payload or {}), dense, sparse, float(getattr(p, "score", 0.0) or 0.0))


class EdgeStore(VectorStore):
    kind = "edge"

    def __init__(
        self, folder: Path, *, hnsw_ef: int | None = None, quantization: str = "none", oversampling: float = 2.0
    ) -> None:
        """`quantization` ("int8" or "none") applies to a collection this store creates; an existing one keeps
        what its `k2-collection.json` records (none when it predates the setting)."""
        if quantization not in ("none", "int8"):
            raise StoreError(f"unknown quantization {quantization!r}: int8 or none", code="bad_layout")
        self.folder = Path(folder)
        self._meta_path = self.folder / META_FILE
        self._hnsw_ef = hnsw_ef
        self._quantization = quantization
        self._oversampling = oversampling
        self._lock = threading.Lock()
        self._shard: qe.EdgeShard | None = None
        self._dim: int | None = None
        if self._meta_path.exists():
            try:
                meta = json.loads(self._meta_path.read_text())
                self._dim = int(meta["dim"])
                self._quantization = str(meta.get("quantization", "none"))
                self._shard = qe.EdgeShard.load(str(self.folder / "shard"))
            except (OSError, ValueError, KeyError) as exc:
                raise StoreError(f"cannot read the edge collection in {str(self.folder)!r}: {exc}") from exc
            except Exception as exc:  # the engine raises bare Exception
                raise StoreError(f"cannot open the edge collection in {str(self.folder)!r}: {exc}") from exc

    @property
    def dim(self) -> int | None:
        return self._dim

    @property
    def quantization(self) -> str:
        """The dense vectors' quantization: the collection's own once it exists, else what a new one gets."""
        return self._quantization

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        if self._shard is None:
            raise StoreError("the edge collection does not exist yet (nothing was ingested)", code="no_collection")
        try:
            return fn(*args)
        except Exception as exc:  # the engine raises bare Exception for everything
            raise StoreError(f"qdrant edge {what} failed: {exc}") from exc

    def ensure(self, dim: int) -> None:
        with self._lock:
            if self._dim is not None:
                if self._dim != dim:
                    raise StoreError(
                        f"the collection in {str(self.folder)!r} holds {self._dim}-d vectors, the model gives {dim}-d;"
                        " use another collection (K2_RAG_COLLECTION) or re-ingest",
                        code="dim_mismatch",
                    )
                return
            quant = None
            if self._quantization == "int8":  # the 1-byte copies stay in RAM; the float vectors may be paged
                quant = qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=0.99, memory=qe.Memory.Pinned)
            dense = qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine, quantization_config=quant)
            config = qe.EdgeConfig(
                vectors={DENSE: dense},
                sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            )
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                shard = qe.EdgeShard.create(str(self.folder / "shard"), config)
                for name in KEYWORD_FIELDS:
                    shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
                for name in INTEGER_FIELDS:
                    shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Integer))
                for name in FLOAT_FIELDS:
                    shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Float))
                self._meta_path.write_text(
                    json.dumps(
                        {
                            "dim": dim,
                            "dense": DENSE,
                            "sparse": SPARSE,
                            "distance": "cosine",
                            "quantization": self._quantization,
                        }
                    )
                )
            except Exception as exc:
                raise StoreError(f"cannot create an edge collection in {str(self.folder)!r}: {exc}") from exc
            self._shard, self._dim = shard, dim

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        if not points:
            return
        batch = []
        for p in points:
            vector: dict[str, Any] = {DENSE: list(p.dense or [])}
            if p.sparse is not None and p.sparse.indices:
                vector[SPARSE] = _sparse(p.sparse)
            batch.append(qe.Point(uuid.UUID(p.id), vector, p.payload))  # type: ignore[arg-type]
        self._call("upsert", lambda: self._shard.update(qe.UpdateOperation.upsert_points(batch)))  # type: ignore[union-attr]

    def delete(self, conds: Sequence[Condition]) -> None:
        require_conditions(conds)
        f = edge_filter(conds)
        assert f is not None
        self._call("delete", lambda: self._shard.update(qe.UpdateOperation.delete_points_by_filter(f)))  # type: ignore[union-attr]

    def count(self, conds: Sequence[Condition] = ()) -> int:
        if self._shard is None:
            return 0
        req = qe.CountRequest(filter=edge_filter(conds), exact=True)
        return int(self._call("count", self._shard.count, req))

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        if self._shard is None or not ids:
            return []
        recs = self._call("retrieve", self._shard.retrieve, [uuid.UUID(i) for i in ids], True, with_vectors)
        return [_point(r, with_vectors) for r in recs]

    def scroll(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        if self._shard is None:
            return
        offset: Any = None
        while True:
            req = qe.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=with_vectors)
            recs, offset = self._call("scroll", self._shard.scroll, req)
            if recs:
                yield [_point(r, with_vectors) for r in recs]
            if offset is None or not recs:
                return

    def _query(self, req: qe.QueryRequest, with_vectors: bool) -> list[StoredPoint]:
        if self._shard is None:
            return []
        return [_point(p, with_vectors) for p in self._call("query", self._shard.query, req)]

    def _params(self) -> qe.SearchParams | None:
        quant = None
        if self._quantization == "int8":  # rank by the int8 copies, rescore the best with the float vectors
            quant = qe.QuantizationSearchParams(rescore=True, oversampling=self._oversampling)
        if not self._hnsw_ef and quant is None:
            return None
        return qe.SearchParams(hnsw_ef=self._hnsw_ef or None, quantization=quant)

    def _with(self, with_vectors: bool) -> Any:
        return [DENSE] if with_vectors else False

    def dense_search(
        self, vector: Sequence[float], limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        req = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(list(vector), using=DENSE),
            filter=edge_filter(conds),
            params=self._params(),
            with_payload=True,
            with_vector=self._with(with_vectors),
        )
        return self._query(req, with_vectors)

    def sparse_search(
        self, vector: SparseVec, limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if not vector.indices:
            return []
        req = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(_sparse(vector), using=SPARSE),
            filter=edge_filter(conds),
            with_payload=True,
            with_vector=self._with(with_vectors),
        )
        return self._query(req, with_vectors)

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
        f = edge_filter(conds)
        n = max(prefetch, limit)
        pre = [qe.Prefetch(limit=n, query=qe.Query.Nearest(list(dense), using=DENSE), filter=f, params=self._params())]
        if sparse.indices:
            pre.append(qe.Prefetch(limit=n, query=qe.Query.Nearest(_sparse(sparse), using=SPARSE), filter=f))
        req = qe.QueryRequest(
            limit=limit,
            prefetches=pre,
            query=qe.Fusion.Rrf(k=rrf_k),  # type: ignore[arg-type]  # the stub's union omits the nested class
            with_payload=True,
            with_vector=self._with(with_vectors),
        )
        return self._query(req, with_vectors)

    def flush(self) -> None:
        if self._shard is not None:
            self._call("flush", self._shard.flush)

    def close(self) -> None:
        with self._lock:
            if self._shard is not None:
                try:
                    self._shard.flush()
                    self._shard.close()
                except Exception as exc:
                    raise StoreError(f"closing the edge collection failed: {exc}") from exc
                finally:
                    self._shard = None
