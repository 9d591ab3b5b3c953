"""ChromaDB behind the same interface (optional extra `k2-host[chroma]`).

We always supply the embeddings: collections are opened with `embedding_function=None`, so Chroma's default
embedding function (which would download an ONNX model) is never used and a text query is refused by Chroma
itself. Chroma keeps the dense vectors (HNSW, cosine), the chunk text and the metadata; it has no local BM25,
so each point's BM25 sparse vector rides in its metadata (`_bm25`, JSON) and is scored in-process by
`SparseIndex`, rebuilt when the collection is opened. Metadata cannot hold None or nested objects: those are
dropped or JSON-encoded, and empty lists are restored on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from k2_host.rag.errors import ConfigError, StoreError
from k2_host.rag.filters import LIST_FIELDS, Condition, Range
from k2_host.rag.models import SparseVec, StoredPoint
from k2_host.rag.sparse import SparseIndex
from k2_host.rag.stores.base import VectorStore, require_conditions

SPARSE_KEY = "_bm25"
DIM_KEY = "k2_dim"


def chroma_where(conds: Sequence[Condition]) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = []
    for c in conds:
        if isinstance(c, Range):
            ops = {f"${op}": v for op in ("gte", "gt", "lte", "lt") if (v := getattr(c, op)) is not None}
            parts.extend({c.key: {op: v}} for op, v in ops.items())
        elif c.key in LIST_FIELDS:
            alts = [{c.key: {"$contains": v}} for v in c.values]
            parts.append(alts[0] if len(alts) == 1 else {"$or": alts})
        else:
            parts.append({c.key: c.values[0]} if len(c.values) == 1 else {c.key: {"$in": list(c.values)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _to_meta(p: StoredPoint) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for k, v in p.payload.items():
        if k == "text" or v is None or (isinstance(v, list) and not v):
            continue
        meta[k] = v if isinstance(v, str | int | float | bool) or (isinstance(v, list) and _flat(v)) else json.dumps(v)
    if p.sparse is not None:
        meta[SPARSE_KEY] = json.dumps([p.sparse.indices, p.sparse.values])
    return meta


def _flat(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values) or all(isinstance(v, int | float) for v in values)


def _from_meta(meta: dict[str, Any] | None, text: str | None) -> tuple[dict[str, Any], SparseVec | None]:
    payload = dict(meta or {})
    raw = payload.pop(SPARSE_KEY, None)
    sparse = SparseVec(*json.loads(raw)) if isinstance(raw, str) else None
    for name in LIST_FIELDS:
        payload.setdefault(name, [])
    payload["text"] = text or ""
    return payload, sparse


class ChromaStore(VectorStore):
    kind = "chroma"

    def __init__(self, collection: str, *, path: Path | None = None, client: Any = None) -> None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:
            raise ConfigError("store 'chroma' needs the extra: pip install 'k2-host[chroma]'") from exc
        settings = Settings(anonymized_telemetry=False)
        self._client = client or (
            chromadb.PersistentClient(path=str(path), settings=settings) if path else chromadb.EphemeralClient(settings)
        )
        self._name = f"k2-{collection}"  # Chroma wants 3+ characters; our default collection is "k2"
        self._col: Any = None
        self._dim: int | None = None
        self._sparse = SparseIndex()
        if collection in [c.name for c in self._client.list_collections()]:
            self._col = self._client.get_collection(collection, embedding_function=None)
            self._dim = int((self._col.metadata or {}).get(DIM_KEY) or 0) or None
            for batch in self._batches(with_vectors=False):
                for p in batch:
                    if p.sparse is not None:
                        self._sparse.add(p.id, p.sparse)

    @property
    def dim(self) -> int | None:
        return self._dim

    def ensure(self, dim: int) -> None:
        if self._dim is not None:
            if self._dim != dim:
                raise StoreError(
                    f"chroma collection {self._name!r} holds {self._dim}-d vectors, not {dim}-d", code="dim_mismatch"
                )
            return
        self._col = self._client.get_or_create_collection(
            self._name, embedding_function=None, metadata={DIM_KEY: dim}, configuration={"hnsw": {"space": "cosine"}}
        )
        self._dim = dim

    def _need(self) -> Any:
        if self._col is None:
            raise StoreError("the chroma collection does not exist yet (nothing was ingested)", code="no_collection")
        return self._col

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        if not points:
            return
        self._need().upsert(
            ids=[p.id for p in points],
            embeddings=[list(p.dense or []) for p in points],
            documents=[str(p.payload.get("text", "")) for p in points],
            metadatas=[_to_meta(p) for p in points],
        )
        for p in points:
            if p.sparse is not None:
                self._sparse.add(p.id, p.sparse)
            else:
                self._sparse.remove(p.id)

    def delete(self, conds: Sequence[Condition]) -> None:
        require_conditions(conds)
        col = self._need()
        ids = col.get(where=chroma_where(conds), include=[])["ids"]
        if ids:
            col.delete(ids=ids)
            for i in ids:
                self._sparse.remove(i)

    def count(self, conds: Sequence[Condition] = ()) -> int:
        if self._col is None:
            return 0
        if not conds:
            return int(self._col.count())
        return len(self._col.get(where=chroma_where(conds), include=[])["ids"])

    def _records(
        self, got: dict[str, Any], with_vectors: bool, scores: Sequence[float] | None = None
    ) -> list[StoredPoint]:
        out = []
        embs = got.get("embeddings")
        for n, pid in enumerate(got["ids"]):
            payload, sparse = _from_meta(got["metadatas"][n], got["documents"][n])
            dense = [float(x) for x in embs[n]] if with_vectors and embs is not None else None
            out.append(StoredPoint(pid, payload, dense, sparse if with_vectors else None, scores[n] if scores else 0.0))
        return out

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        if self._col is None or not ids:
            return []
        include = ["metadatas", "documents"] + (["embeddings"] if with_vectors else [])
        return self._records(self._col.get(ids=list(ids), include=include), with_vectors)

    def _batches(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        include = ["metadatas", "documents"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            got = self._need().get(limit=batch, offset=offset, include=include)
            if not got["ids"]:
                return
            yield [
                StoredPoint(p.id, p.payload, p.dense, _from_meta(got["metadatas"][i], None)[1])
                for i, p in enumerate(self._records(got, with_vectors))
            ]
            offset += len(got["ids"])

    def scroll(self, *, batch: int = 256, with_vectors: bool = True) -> Iterator[list[StoredPoint]]:
        if self._col is not None:
            yield from self._batches(batch=batch, with_vectors=with_vectors)

    def dense_search(
        self, vector: Sequence[float], limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if self._col is None or self._col.count() == 0:
            return []
        include = ["metadatas", "documents", "distances"] + (["embeddings"] if with_vectors else [])
        got = self._col.query(
            query_embeddings=[list(vector)], n_results=limit, where=chroma_where(conds), include=include
        )
        flat = {k: (v[0] if isinstance(v, list) and v else v) for k, v in got.items() if k != "included"}
        scores = [1.0 - float(d) for d in flat["distances"]]
        return self._records(flat, with_vectors, scores)

    def sparse_search(
        self, vector: SparseVec, limit: int, conds: Sequence[Condition] = (), *, with_vectors: bool = False
    ) -> list[StoredPoint]:
        if self._col is None or not vector.indices:
            return []
        ranked = self._sparse.search(vector, len(self._sparse))
        where = chroma_where(conds)
        picked: list[tuple[str, float]] = []
        for start in range(0, len(ranked), max(4 * limit, 64)):
            page = ranked[start : start + max(4 * limit, 64)]
            ok = set(self._col.get(ids=[p for p, _ in page], where=where, include=[])["ids"]) if where else None
            picked.extend((p, s) for p, s in page if ok is None or p in ok)
            if len(picked) >= limit:
                break
        picked = picked[:limit]
        found = {p.id: p for p in self.retrieve([p for p, _ in picked], with_vectors=with_vectors)}
        return [StoredPoint(p, found[p].payload, found[p].dense, found[p].sparse, s) for p, s in picked if p in found]
