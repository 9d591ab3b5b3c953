"""Qdrant server or cluster through qdrant-client (URL + API key): the same layout and query plan as Edge.

The collection has the named dense vector `dense` (cosine) and the sparse vector `bm25` with `Modifier.IDF`,
payload indexes on the filter fields, and hybrid queries prefetch both and fuse with `RrfQuery(k)` on the
server. `QdrantClient(":memory:")` (location mode) speaks the same API and serves the tests; it is ~100 ms a
query, so it is not a backend to use beyond them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ApiException

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


def qdrant_filter(conds: Sequence[Condition]) -> qm.Filter | None:
    if not conds:
        return None
    must: list[Any] = []
    for c in conds:
        if isinstance(c, Range):
            must.append(qm.FieldCondition(key=c.key, range=qm.Range(gte=c.gte, gt=c.gt, lte=c.lte, lt=c.lt)))
        elif len(c.values) == 1:
            must.append(qm.FieldCondition(key=c.key, match=qm.MatchValue(value=c.values[0])))
        elif all(isinstance(v, str) for v in c.values) or all(type(v) is int for v in c.values):
            must.append(qm.FieldCondition(key=c.key, match=qm.MatchAny(any=list(c.values))))  # type: ignore[arg-type]
        else:
            must.append(
                qm.Filter(should=[qm.FieldCondition(key=c.key, match=qm.MatchValue(value=v)) for v in c.values])
            )
    return qm.Filter(must=must)


def _point(p: Any, with_vectors: bool) -> StoredPoint:
    dense = sparse = None
    vec = getattr(p, "vector", None)
    if with_vectors and isinstance(vec, dict):
        d = vec.get(DENSE)
        dense = [float(x) for x in d] if isinstance(d, list) else None
        s = vec.get(SPARSE)
        if isinstance(s, qm.SparseVector):
            sparse = SparseVec(list(s.indices), list(s.values))
    return StoredPoint(str(p.id), dict(p.payload or {}), dense, sparse, float(getattr(p, "score", 0.0) or 0.0))


class QdrantStore(VectorStore):
    kind = "qdrant"

    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        location: str | None = None,
        timeout_s: float = 30.0,
        hnsw_ef: int | None = None,
        quantization: str = "none",
        oversampling: float = 2.0,
        client: QdrantClient | None = None,
    ) -> None:
        if quantization not in ("none", "int8"):
            raise StoreError(f"unknown quantization {quantization!r}: int8 or none", code="bad_layout")
        self.collection = collection
        self._hnsw_ef = hnsw_ef
        self._quantization = quantization  # for a collection created here; an existing one reports its own
        self._oversampling = oversampling
        self._local = client is None and url is None
        try:
            self.client = client or (
                QdrantClient(location=location or ":memory:")
                if url is None
                else QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s))
            )
            self._dim = self._read_dim()
        except (ApiException, OSError, ValueError) as exc:
            raise StoreError(f"cannot reach Qdrant at {url or location!r}: {exc}", code="unreachable") from exc

    def _read_dim(self) -> int | None:
        if not self.client.collection_exists(self.collection):
            return None
        vectors = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(vectors, dict) or DENSE not in vectors:
            raise StoreError(f"collection {self.collection!r} has no dense vector named {DENSE!r}", code="bad_layout")
        self._quantization = "int8" if isinstance(vectors[DENSE].quantization_config, qm.ScalarQuantization) else "none"
        return int(vectors[DENSE].size)

    @property
    def dim(self) -> int | None:
        return self._dim

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ApiException, OSError, ValueError) as exc:
            raise StoreError(f"qdrant {what} on {self.collection!r} failed: {exc}") from exc

    def ensure(self, dim: int) -> None:
        if self._dim is not None:
            if self._dim != dim:
                raise StoreError(
                    f"collection {self.collection!r} holds {self._dim}-d vectors, the model gives {dim}-d",
                    code="dim_mismatch",
                )
            return
        quant = None
        if self._quantization == "int8":  # as the edge store: 1-byte copies in RAM, rescored with the floats
            scalar = qm.ScalarQuantizationConfig(type=qm.ScalarType.INT8, quantile=0.99, always_ram=True)
            quant = qm.ScalarQuantization(scalar=scalar)
        self._call(
            "create_collection",
            self.client.create_collection,
            self.collection,
            vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.COSINE, quantization_config=quant)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        if not self._local:  # the local mode has no payload indexes (and warns when asked for one)
            schema = [(KEYWORD_FIELDS, qm.PayloadSchemaType.KEYWORD), (INTEGER_FIELDS, qm.PayloadSchemaType.INTEGER)]
            schema.append((FLOAT_FIELDS, qm.PayloadSchemaType.FLOAT))
            for names, kind in schema:
                for name in names:
                    self._call("create_payload_index", self.client.create_payload_index, self.collection, name, kind)
        self._dim = dim

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        if not points:
            return
        structs = []
        for p in points:
            vector: dict[str, Any] = {DENSE: list(p.dense or [])}
            if p.sparse is not None and p.sparse.indices:
                vector[SPARSE] = qm.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values))
            structs.append(qm.PointStruct(id=p.id, vector=vector, payload=p.payload))
        self._call("upsert", self.client.upsert, self.collection, points=structs, wait=True)

    def delete(self, conds: Sequence[Condition]) -> None:
        require_conditions(conds)
        selector = qm.FilterSelector(filter=qdrant_filter(conds))  # type: ignore[arg-type]
        self._call("delete", self.client.delete, self.collection, points_selector=selector, wait=True)

    def count(self, conds: Sequence[Condition] = ()) -> int:
        if self._dim is None:
            return 0
        res = self._call("count", self.client.count, self.collection, count_filter=qdrant_filter(conds), exact=True)
        return int(res.count)

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        if self._dim is None or not ids:
            return []
        recs = self._call(
            "retrieve",
            self.client.retrieve,
            self.collection,
            ids=list(ids),
            with_payload=True,
            with_vectors=with_vectors,
        )
        return [_point(r, with_vectors) for r in recs]

    def scroll(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        if self._dim is None:
            return
        offset: Any = None
        while True:
            recs, offset = self._call(
                "scroll",
                self.client.scroll,
                self.collection,
                limit=batch,
                offset=offset,
                with_payload=True,
                with_vectors=with_vectors,
            )
            if recs:
                yield [_point(r, with_vectors) for r in recs]
            if offset is None or not recs:
                return

    @property
    def quantization(self) -> str:
        return self._quantization

    def _search_params(self) -> qm.SearchParams | None:
        if self._local:  # the local mode searches exactly and warns when given search parameters
            return None
        quant = None
        if self._quantization == "int8":
            quant = qm.QuantizationSearchParams(rescore=True, oversampling=self._oversampling)
        if not self._hnsw_ef and quant is None:
            return None
        return qm.SearchParams(hnsw_ef=self._hnsw_ef or None, quantization=quant)

    def _query(self, with_vectors: bool, **kwargs: Any) -> list[StoredPoint]:
        if self._dim is None:
            return []
        with_v: Any = [DENSE] if with_vectors else False
        res = self._call(
            "query_points", self.client.query_points, self.collection, with_payload=True, with_vectors=with_v, **kwargs
        )
        return [_point(p, with_vectors) for p in res.points]

    def dense_search(
        self, vector: Sequence[float], limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        return self._query(
            with_vectors,
            query=list(vector),
            using=DENSE,
            limit=limit,
            query_filter=qdrant_filter(conds),
            search_params=self._search_params(),
        )

    def sparse_search(
        self, vector: SparseVec, limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if not vector.indices:
            return []
        sv = qm.SparseVector(indices=list(vector.indices), values=list(vector.values))
        return self._query(with_vectors, query=sv, using=SPARSE, limit=limit, query_filter=qdrant_filter(conds))

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
        f = qdrant_filter(conds)
        n = max(prefetch, limit)
        pre = [qm.Prefetch(query=list(dense), using=DENSE, limit=n, filter=f, params=self._search_params())]
        if sparse.indices:
            sv = qm.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
            pre.append(qm.Prefetch(query=sv, using=SPARSE, limit=n, filter=f))
        return self._query(with_vectors, prefetch=pre, query=qm.RrfQuery(rrf=qm.Rrf(k=rrf_k)), limit=limit)

    def close(self) -> None:
        self.client.close()
