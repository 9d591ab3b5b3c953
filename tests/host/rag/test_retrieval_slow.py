"""Hybrid retrieval with the real model on a generated corpus: dense finds the paraphrases BM25 cannot, BM25
finds the rare identifiers buried in near-identical boilerplate, and RRF fusion puts every target first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from k2_host.rag.embeddings import DEFAULT_MODEL_NAME, Embedder, get_embedder
from k2_host.rag.models import Document
from k2_host.rag.service import RAG
from k2_host.rag.settings import RAGSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOPICS = [
    ("cats", "Domestic cats sleep for most of the day and purr when content."),
    ("bread", "Sourdough bread rises slowly thanks to a culture of wild yeast."),
    ("rain", "Heavy rainfall can cause rivers to overflow and flood nearby towns."),
    ("piano", "Learning the piano takes years of daily practice of scales."),
    ("mars", "Rovers on Mars search the red dust for traces of ancient water."),
    ("coffee", "Roasting coffee beans darkens them and brings out bitter flavours."),
    ("chess", "A chess opening sets up control of the centre of the board."),
    ("volcano", "Lava from an erupting volcano cools into black basalt rock."),
]
# Rare tokens: only lexical matching can tie these queries to their document.
FILLER = (
    "The pump station controller logs an event when the relay sticks; the operators restart it, write the time,"
    " the weather and the shift into the maintenance book, and check the pressure gauges before leaving."
)
FAULTS = ["QJX4471", "VKW9023", "ZRT5518", "PLM3306", "BNH7742", "XCV6190"]  # one distinct token each
CODES = [(f"err{n}", f"{FILLER} Fault {code}.") for n, code in enumerate(FAULTS)]
SEMANTIC = {  # paraphrases sharing no content word with their document
    "cats": "felines nap a lot",
    "rain": "downpours make streams burst their banks",
    "volcano": "molten stone hardens when a mountain explodes",
    "mars": "robots exploring the crimson planet",
}
LEXICAL = {f"err{n}": code for n, code in enumerate(FAULTS)}


def hits_at(found: list[str], want: str, k: int) -> bool:
    return want in found[:k]


async def test_hybrid_finds_what_either_retriever_alone_misses(tmp_path: Path, real_embedder: Embedder) -> None:
    docs = [Document(i, t, "text", i, "text") for i, t in TOPICS + CODES]
    with RAG.open(RAGSettings(store="edge", path=tmp_path, collection="t"), embedder=real_embedder) as rag:
        await rag.ingest_documents(docs)
        results: dict[str, dict[str, list[str]]] = {}
        for mode in ("dense", "bm25", "hybrid"):
            results[mode] = {}
            for want, query in {**SEMANTIC, **LEXICAL}.items():
                results[mode][want] = [h.doc_id for h in await rag.search(query, k=3, mode=mode)]

    def found(mode: str, queries: dict[str, str], k: int) -> int:
        return sum(hits_at(results[mode][w], w, k) for w in queries)

    assert found("bm25", SEMANTIC, 3) == 0  # no shared words after stemming and stopwords
    assert found("dense", SEMANTIC, 1) == len(SEMANTIC)
    assert found("bm25", LEXICAL, 1) == len(LEXICAL)
    everything = {**SEMANTIC, **LEXICAL}
    assert found("hybrid", everything, 3) == len(everything)  # fusion recovers every query in its top 3
    assert found("hybrid", everything, 1) == len(everything)  # and puts each first
    assert found("hybrid", everything, 1) > found("bm25", everything, 1)


def test_the_default_model_gives_normalised_384_d_float32_rows(real_embedder: Embedder) -> None:
    assert (real_embedder.dim, real_embedder.model_name) == (384, DEFAULT_MODEL_NAME)
    rows = real_embedder.embed_documents(["a kestrel hovers", "diesel engines", "a kestrel hovers"])
    assert rows.dtype == np.float32 and rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5) and np.allclose(rows[0], rows[2], atol=1e-6)
    q = real_embedder.embed_query("hovering falcon")
    assert q.shape == (384,) and float(rows[0] @ q) > float(rows[1] @ q)
    assert real_embedder.embed_documents([]).shape == (0, 384)


def test_the_embedding_cache_serves_repeated_texts_without_the_model(tmp_path: Path, real_embedder: Embedder) -> None:
    from k2_host.rag.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "emb")
    real_embedder.cache = cache
    try:
        before = real_embedder.embedded
        first = real_embedder.embed_documents(["one text", "two text"])
        second = real_embedder.embed_documents(["two text", "one text", "three"])
        assert real_embedder.embedded - before == 3 and len(cache) == 3
        assert np.allclose(first[0], second[1]) and np.allclose(first[1], second[0])
    finally:
        real_embedder.cache = None
        cache.close()


def test_get_embedder_shares_one_instance_per_model() -> None:
    assert get_embedder() is get_embedder(None) is get_embedder("all-MiniLM-L6-v2")


def test_a_model_that_is_not_available_offline_is_a_clear_error(tmp_path: Path) -> None:
    from k2_host.rag.errors import EmbeddingError

    with pytest.raises(EmbeddingError, match="offline"):
        Embedder(str(tmp_path / "no-such-model"))


def test_tampered_weights_fail_their_checksum(tmp_path: Path) -> None:
    from k2_host.rag.embeddings import verify_weights
    from k2_host.rag.errors import EmbeddingError

    fake = tmp_path / "model.safetensors"
    fake.write_bytes(b"not the weights")
    with pytest.raises(EmbeddingError, match="sha256"):
        verify_weights(fake, "0" * 64)


def test_every_embedder_over_the_same_model_shares_its_weights(tmp_path: Path) -> None:
    from k2_host.rag.cache import EmbeddingCache
    from k2_host.rag.embeddings import models_loaded
    from k2_host.rag.service import shared_embedder
    from k2_host.rag.settings import RAGConfig

    plain = get_embedder()
    loaded = models_loaded()
    cached = shared_embedder(RAGConfig(cache_dir=tmp_path / "emb", batch_size=8))
    other = Embedder(None, batch_size=4, cache=EmbeddingCache(tmp_path / "emb2"))
    assert cached is not plain and other is not plain
    assert cached._model is plain._model is other._model and models_loaded() == loaded
