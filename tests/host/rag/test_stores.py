"""Every store backend through the one interface: edge in a temp folder, memory, qdrant-client in-memory, and
Chroma when the optional extra is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from k2_host.rag.errors import ConfigError, StoreError
from k2_host.rag.filters import Match, Range, parse_filters
from k2_host.rag.migrate import copy_collection, store_from_spec
from k2_host.rag.models import StoredPoint, point_id
from k2_host.rag.settings import RAGSettings, StoreKind, load_settings
from k2_host.rag.sparse import BM25Encoder
from k2_host.rag.stores import VectorStore, open_store
from k2_host.rag.stores.edge import EdgeStore
from k2_host.rag.stores.qdrant import QdrantStore

HAS_CHROMA = importlib.util.find_spec("chromadb") is not None
BACKENDS = [
    "edge",
    "memory",
    "qdrant",
    pytest.param("chroma", marks=pytest.mark.skipif(not HAS_CHROMA, reason="no chromadb")),
]
DIM = 8
TEXTS = {
    "a": ("alpha kestrel hovering over meadows", "markdown", ["birds", "field"], "/notes/birds/a.md", 100.0),
    "b": ("beta engine oil change intervals", "code", ["cars"], "/notes/cars/b.py", 200.0),
    "c": ("gamma kestrel nesting in towers", "pdf", ["birds"], "/notes/birds/deep/c.pdf", 300.0),
    "d": ("delta quantum computing lecture", "markdown", [], "/other/d.md", 400.0),
}


def settings_for(kind: StoreKind, tmp: Path) -> RAGSettings:
    return RAGSettings(
        store=kind, path=tmp, collection="test", qdrant_location=":memory:" if kind == "qdrant" else None
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s = open_store(settings_for(request.param, tmp_path))
    yield s
    s.close()


def vec(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return (v / np.linalg.norm(v)).tolist()


def points(bm25: BM25Encoder) -> list[StoredPoint]:
    out = []
    for n, (doc, (text, kind, tags, path, ts)) in enumerate(TEXTS.items()):
        dirs = [
            p
            for p in ["/notes", "/notes/birds", "/notes/cars", "/notes/birds/deep", "/other"]
            if path.startswith(p + "/")
        ]
        payload = {
            "doc_id": doc,
            "chunk_index": 0,
            "text": text,
            "type": kind,
            "tags": tags,
            "dirs": dirs,
            "path": path,
            "modified_ts": ts,
        }
        out.append(StoredPoint(point_id(doc, 0), payload, vec(n), bm25.encode_document(text)))
    return out


def ids(found: list[StoredPoint]) -> list[str]:
    return [p.payload["doc_id"] for p in found]


def test_a_new_store_is_empty_and_searches_return_nothing(store: VectorStore) -> None:
    assert store.dim is None and store.count() == 0
    assert store.retrieve([point_id("a", 0)]) == []
    store.ensure(DIM)
    assert store.dim == DIM and store.count() == 0
    assert store.dense_search(vec(0), 3) == []


def test_upsert_retrieve_and_dense_search_rank_the_nearest_first(store: VectorStore) -> None:
    store.ensure(DIM)
    store.upsert(points(BM25Encoder()))
    assert store.count() == 4
    (got,) = store.retrieve([point_id("c", 0)], with_vectors=True)
    assert got.payload["text"] == TEXTS["c"][0] and got.payload["tags"] == ["birds"]
    assert got.dense is not None and np.allclose(got.dense, vec(2), atol=1e-5)
    found = store.dense_search(vec(1), 2)
    assert ids(found)[0] == "b" and found[0].score == pytest.approx(1.0, abs=1e-4)


def test_bm25_search_finds_the_documents_with_the_words(store: VectorStore) -> None:
    bm25 = BM25Encoder()
    store.ensure(DIM)
    store.upsert(points(bm25))
    assert sorted(ids(store.sparse_search(bm25.encode_query("kestrels"), 10))) == ["a", "c"]  # stemmed
    assert store.sparse_search(bm25.encode_query("the of and"), 10) == []  # stopwords only


def test_hybrid_fuses_dense_and_bm25_candidates(store: VectorStore) -> None:
    bm25 = BM25Encoder()
    store.ensure(DIM)
    store.upsert(points(bm25))
    found = store.hybrid_search(vec(3), bm25.encode_query("kestrel nesting"), 4, rrf_k=60)
    assert ids(found)[0] in ("c", "d")  # c leads BM25, d leads dense: each is first in one list
    assert set(ids(found)[:3]) >= {"c", "d"}
    assert found[0].score >= found[-1].score


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"type": "markdown"}, ["a", "d"]),
        ({"tags": "birds"}, ["a", "c"]),
        ({"tags": ["cars", "field"]}, ["a", "b"]),
        ({"under": "/notes/birds"}, ["a", "c"]),
        ({"modified_ts": {"gte": 200, "lt": 400}}, ["b", "c"]),
        ({"type": ["markdown", "pdf"], "tags": "birds"}, ["a", "c"]),
        ({"doc_id": "nope"}, []),
    ],
)
def test_payload_filters_narrow_every_kind_of_search(store: VectorStore, filters: dict, expected: list[str]) -> None:
    bm25 = BM25Encoder()
    store.ensure(DIM)
    store.upsert(points(bm25))
    conds = parse_filters(filters)
    assert sorted(ids(store.dense_search(vec(0), 10, conds))) == expected
    assert store.count(conds) == len(expected)
    words = bm25.encode_query("alpha beta gamma delta")
    assert sorted(ids(store.sparse_search(words, 10, conds))) == expected
    assert sorted(ids(store.hybrid_search(vec(0), words, 10, conds))) == expected


def test_delete_by_document_and_by_chunk_range(store: VectorStore) -> None:
    store.ensure(DIM)
    extra = [StoredPoint(point_id("a", i), {"doc_id": "a", "chunk_index": i, "text": "x"}, vec(10 + i)) for i in (1, 2)]
    store.upsert(points(BM25Encoder()) + extra)
    assert store.count([Match("doc_id", ("a",))]) == 3
    store.delete([Match("doc_id", ("a",)), Range("chunk_index", gte=1)])
    assert store.count([Match("doc_id", ("a",))]) == 1
    store.delete([Match("doc_id", ("a",))])
    assert store.count() == 3 and store.retrieve([point_id("a", 0)]) == []
    with pytest.raises(ValueError, match="at least one condition"):
        store.delete([])


def test_upserting_the_same_ids_again_overwrites_instead_of_duplicating(store: VectorStore) -> None:
    store.ensure(DIM)
    pts = points(BM25Encoder())
    store.upsert(pts)
    pts[0].payload["text"] = "changed"
    store.upsert(pts)
    assert store.count() == 4
    assert store.retrieve([pts[0].id])[0].payload["text"] == "changed"


def test_scroll_yields_every_point_with_its_vectors(store: VectorStore) -> None:
    store.ensure(DIM)
    store.upsert(points(BM25Encoder()))
    seen = [p for batch in store.scroll(batch=3) for p in batch]
    assert sorted(p.id for p in seen) == sorted(point_id(d, 0) for d in TEXTS)
    assert all(p.dense is not None and len(p.dense) == DIM and p.sparse is not None for p in seen)


def test_a_collection_refuses_vectors_of_another_dimension(store: VectorStore) -> None:
    store.ensure(DIM)
    with pytest.raises(StoreError) as err:
        store.ensure(DIM * 2)
    assert err.value.code == "dim_mismatch"


def test_an_edge_collection_survives_reopening(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "c")
    s.ensure(DIM)
    s.upsert(points(BM25Encoder()))
    s.close()
    again = EdgeStore(tmp_path / "c")
    assert again.dim == DIM and again.count() == 4
    assert ids(again.dense_search(vec(2), 1)) == ["c"]
    again.close()


@pytest.mark.parametrize("target", ["memory", "qdrant", "edge"])
def test_migration_copies_a_collection_so_it_answers_the_same(tmp_path: Path, target: str) -> None:
    bm25 = BM25Encoder()
    src = EdgeStore(tmp_path / "src")
    src.ensure(DIM)
    src.upsert(points(bm25))
    base = RAGSettings(store="edge", path=tmp_path / "dst", collection="test", qdrant_location=":memory:")
    dst = store_from_spec(target, base)
    assert copy_collection(src, dst, batch=2) == 4
    q = bm25.encode_query("kestrel towers")
    assert ids(dst.hybrid_search(vec(2), q, 4)) == ids(src.hybrid_search(vec(2), q, 4))
    src.close()
    dst.close()


@pytest.mark.parametrize("spec", ["bogus", "memory:/x", "ftp://host"])
def test_a_bad_store_spec_is_refused(spec: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        store_from_spec(spec, RAGSettings(path=tmp_path))


def test_an_unknown_store_backend_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        open_store(RAGSettings(path=tmp_path), kind="pinecone")
    assert err.value.code == "unknown_store"


Factory = Callable[[], VectorStore]


def test_an_int8_edge_collection_records_its_quantization_and_keeps_it_on_reopening(tmp_path: Path) -> None:
    bm25 = BM25Encoder()
    s = EdgeStore(tmp_path / "c", hnsw_ef=64, quantization="int8", oversampling=3.0)
    s.ensure(DIM)
    s.upsert(points(bm25))
    assert ids(s.dense_search(vec(2), 1)) == ["c"]
    assert "c" in ids(s.hybrid_search(vec(2), bm25.encode_query("kestrel towers"), 2))
    s.close()
    again = EdgeStore(tmp_path / "c")  # the store's default (none) does not override the collection's own
    assert again.quantization == "int8"
    assert ids(again.dense_search(vec(2), 1)) == ["c"]
    again.close()


def test_an_edge_collection_from_before_the_setting_reads_as_unquantized(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "c")
    s.ensure(DIM)
    s.upsert(points(BM25Encoder()))
    s.close()
    meta = tmp_path / "c" / "k2-collection.json"
    meta.write_text('{"dim": 8, "dense": "dense", "sparse": "bm25", "distance": "cosine"}')
    again = EdgeStore(tmp_path / "c", quantization="int8")
    assert again.quantization == "none"
    assert ids(again.dense_search(vec(2), 1)) == ["c"]
    again.close()


def test_the_settings_quantize_new_collections_with_int8_unless_told_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RAGSettings(path=tmp_path).quantization == "int8"
    s = open_store(settings_for("edge", tmp_path))
    assert s.quantization == "int8"  # type: ignore[attr-defined]
    s.close()
    monkeypatch.setenv("K2_RAG_QUANTIZATION", "none")
    assert load_settings(path=tmp_path).quantization == "none"
    monkeypatch.setenv("K2_RAG_QUANTIZATION", "int4")
    with pytest.raises(ConfigError):
        load_settings(path=tmp_path)


def test_a_qdrant_collection_created_with_int8_reports_it_and_searches(tmp_path: Path) -> None:
    s = open_store(settings_for("qdrant", tmp_path))
    assert isinstance(s, QdrantStore) and s.quantization == "int8"
    s.ensure(DIM)
    s.upsert(points(BM25Encoder()))
    assert ids(s.dense_search(vec(2), 1)) == ["c"]
    again = QdrantStore("test", client=s.client)  # reads the collection's layout back
    assert again.quantization == "int8"
    plain = QdrantStore("plain", client=s.client)
    assert plain.quantization == "none"
    s.close()
