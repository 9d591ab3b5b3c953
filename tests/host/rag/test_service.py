"""The RAG facade: re-ingestion without duplicates, shrinking documents, deletes, caches, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from k2_host.rag.errors import ConfigError, QueryError
from k2_host.rag.models import Document, Hit
from k2_host.rag.service import RAG
from k2_host.rag.settings import RAGSettings, load_settings

from tests.host.rag.conftest import HashEmbedder

pytestmark = pytest.mark.anyio


def doc(doc_id: str, paragraphs: list[str], **meta: Any) -> Document:
    return Document(doc_id, "\n\n".join(paragraphs), "text", f"src/{doc_id}", "text", title=doc_id, meta=meta)


def make_rag(tmp_path: Path, emb: HashEmbedder, store: str = "edge", **over: Any) -> RAG:
    settings = RAGSettings(store=store, path=tmp_path, collection="t", chunk_tokens=24, chunk_overlap=4, **over)  # type: ignore[arg-type]
    return RAG.open(settings, embedder=emb)  # type: ignore[arg-type]


def long_paragraphs(n: int, word: str) -> list[str]:
    return [f"{word} paragraph {i} " + " ".join(f"{word}{i}x{j}" for j in range(12)) for i in range(n)]


@pytest.mark.parametrize("store", ["edge", "memory"])
async def test_reingesting_the_same_documents_adds_no_duplicates(
    tmp_path: Path, hash_embedder: HashEmbedder, store: str
) -> None:
    with make_rag(tmp_path, hash_embedder, store) as rag:
        docs = [doc("a", long_paragraphs(5, "apple")), doc("b", long_paragraphs(2, "berry"))]
        first = await rag.ingest_documents(docs)
        n = rag.store.count()
        assert first.ingested == 2 and first.chunks == n and n >= 7
        again = await rag.ingest_documents(docs)
        assert [d.status for d in again.documents] == ["unchanged", "unchanged"]
        assert rag.store.count() == n and again.embedded == 0
        docs[0].text += "\n\nA new closing paragraph."
        changed = await rag.ingest_documents(docs)
        assert [d.status for d in changed.documents] == ["ingested", "unchanged"]
        assert rag.store.count([]) == n + (changed.documents[0].chunks - first.documents[0].chunks)


async def test_a_shrunk_document_loses_its_old_tail_chunks(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder) as rag:
        await rag.ingest_documents([doc("a", long_paragraphs(6, "apple"))])
        before = rag.store.count()
        report = await rag.ingest_documents([doc("a", long_paragraphs(2, "apple"))])
        (d,) = report.documents
        assert d.status == "ingested" and d.removed_chunks == before - d.chunks > 0
        assert rag.store.count() == d.chunks
        hits = await rag.search("apple5x3", k=10, mode="bm25")
        assert hits == []  # the text that was cut off is gone


async def test_an_emptied_document_is_removed(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder) as rag:
        await rag.ingest_documents([doc("a", long_paragraphs(3, "apple")), doc("b", ["berry"])])
        report = await rag.ingest_documents([doc("a", [""])])
        assert report.documents[0].status == "skipped" and report.documents[0].removed_chunks > 0
        assert {h.doc_id for h in await rag.search("apple berry", k=20)} == {"b"}


async def test_delete_removes_a_document_and_only_it(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder) as rag:
        await rag.ingest_documents([doc("a", long_paragraphs(3, "apple")), doc("b", ["berry pie"])])
        n_a = rag.store.count() - 1
        assert await rag.delete("a") == n_a
        assert await rag.delete("a") == 0
        assert [h.doc_id for h in await rag.search("apple berry", k=10)] == ["b"]


async def test_results_are_cached_and_the_cache_is_invalidated_by_ingest_and_delete(
    tmp_path: Path, hash_embedder: HashEmbedder
) -> None:
    with make_rag(tmp_path, hash_embedder, store="memory") as rag:
        await rag.ingest_documents([doc("a", ["kestrel hovering"])])
        first = await rag.search("kestrel", k=5)
        second = await rag.search("kestrel", k=5)
        assert first == second and rag.result_cache.hits == 1
        generation = rag.result_cache.generation
        await rag.ingest_documents([doc("b", ["kestrel nesting kestrel"])])
        assert rag.result_cache.generation > generation and len(rag.result_cache) == 0
        after = await rag.search("kestrel", k=5)
        assert {h.doc_id for h in after} == {"a", "b"}
        await rag.delete("b")
        assert [h.doc_id for h in await rag.search("kestrel", k=5)] == ["a"]
        assert rag.query_cache.hits >= 2  # the query embedding itself is reused: it does not depend on the corpus


async def test_hits_carry_text_score_source_citation_and_position(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder) as rag:
        d = Document(
            "file:/n/guide.md",
            "# Guide\n\n## Install\n\nRun the kestrel installer.",
            "markdown",
            "/n/guide.md",
            "file",
            title="guide.md",
            meta={"path": "/n/guide.md", "tags": ["docs"]},
        )
        await rag.ingest_documents([d], tags=["extra"])
        (hit,) = await rag.search("kestrel installer", k=1)
        assert isinstance(hit, Hit)
        assert (hit.text, hit.source, hit.doc_id, hit.chunk_index) == (
            "Run the kestrel installer.",
            "/n/guide.md",
            "file:/n/guide.md",
            0,
        )
        assert hit.heading_path == ["Guide", "Install"] and hit.citation == "/n/guide.md § Guide > Install"
        assert hit.payload["tags"] == ["docs", "extra"] and hit.payload["type"] == "markdown" and hit.score > 0
        assert (await rag.search("kestrel", k=1, filters={"tags": "extra", "type": "markdown"}))[0].doc_id == d.doc_id
        assert await rag.search("kestrel", k=1, filters={"ingested": {"lt": "2000-01-01"}}) == []


async def test_mmr_and_a_reranking_hook_reorder_results(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder, store="memory", mmr_lambda=0.3) as rag:
        docs = [doc("a1", ["kestrel kestrel falcon"]), doc("a2", ["kestrel kestrel falcon"]), doc("b", ["kestrel owl"])]
        await rag.ingest_documents(docs)
        plain = [h.doc_id for h in await rag.search("kestrel falcon", k=2, mode="dense")]
        diverse = [h.doc_id for h in await rag.search("kestrel falcon", k=2, mode="dense", mmr=True)]
        assert sorted(plain) == ["a1", "a2"] and "b" in diverse
        seen: list[str] = []

        def rerank(query: str, hits: list[Hit]) -> list[Hit]:
            seen.append(query)
            return sorted(hits, key=lambda h: h.doc_id, reverse=True)

        reranked = await rag.search("kestrel falcon", k=3, rerank=rerank)
        assert seen == ["kestrel falcon"] and [h.doc_id for h in reranked] == ["b", "a2", "a1"]


@pytest.mark.parametrize(
    ("query", "kwargs", "code"),
    [
        ("", {}, "empty_query"),
        ("   \n", {}, "empty_query"),
        ("x" * 5000, {}, "query_too_long"),
        ("ok", {"mode": "fuzzy"}, "bad_mode"),
        ("ok", {"k": 0}, "bad_k"),
        ("ok", {"filters": {"bad key!": 1}}, "bad_query"),
        ("ok", {"filters": {"modified": {"after": "2024"}}}, "bad_query"),
        ("ok", {"filters": {"modified": {"gte": "yesterday"}}}, "bad_query"),
        ("ok", {"filters": {"tags": []}}, "bad_query"),
    ],
)
async def test_bad_searches_are_refused_with_a_clear_error(
    tmp_path: Path, hash_embedder: HashEmbedder, query: str, kwargs: dict[str, Any], code: str
) -> None:
    with make_rag(tmp_path, hash_embedder, store="memory") as rag:
        with pytest.raises(QueryError) as err:
            await rag.search(query, **kwargs)
        assert err.value.code == code


async def test_searching_an_empty_store_returns_nothing(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    with make_rag(tmp_path, hash_embedder) as rag:
        assert await rag.search("anything", k=3) == []


def test_settings_come_from_k2_rag_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("K2_RAG_STORE", "memory")
    monkeypatch.setenv("K2_RAG_RRF_K", "20")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = load_settings()
    assert (s.store, s.rrf_k) == ("memory", 20)
    assert RAGSettings().store_path() == tmp_path / "k2" / "rag"


@pytest.mark.parametrize(
    "env",
    [{"K2_RAG_STORE": "pinecone"}, {"K2_RAG_STORE": "qdrant"}, {"K2_RAG_CHUNK_OVERLAP": "300"}, {"K2_RAG_RRF_K": "0"}],
)
def test_bad_settings_are_a_config_error_naming_the_key(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match="bad RAG settings"):
        load_settings()
