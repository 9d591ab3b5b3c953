"""Retrieval metrics checked by hand, BEIR loading and its errors, and the harness end to end on a tiny set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from k2_host.rag.errors import DatasetError
from k2_host.rag.evaluation import dedupe_docs, evaluate, load_beir, mrr_at, ndcg_at, recall_at, score_run
from k2_host.rag.service import RAG
from k2_host.rag.settings import RAGSettings

from tests.host.rag.conftest import HashEmbedder

pytestmark = pytest.mark.anyio


def test_ndcg_recall_and_mrr_match_hand_computed_values() -> None:
    rels = {"d1": 2, "d2": 1, "d9": 0}
    ranked = ["x", "d2", "d1", "y"]
    dcg = 1 / math.log2(3) + 2 / math.log2(4)  # d2 at rank 2, d1 at rank 3
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, rels) == pytest.approx(dcg / idcg) == pytest.approx(0.6199, abs=1e-4)  # 1.6309 / 2.6309
    assert ndcg_at(["d1", "d2"], rels) == pytest.approx(1.0)
    assert ndcg_at(["d9", "x"], rels) == 0.0
    assert recall_at(ranked, rels, 2) == 0.5 and recall_at(ranked, rels, 100) == 1.0
    assert mrr_at(ranked, rels) == 0.5 and mrr_at(["x"] * 10 + ["d1"], rels, 10) == 0.0


def test_scores_average_over_every_judged_query_even_without_results() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    scores = score_run({"q1": ["a"]}, qrels)
    assert scores == {"ndcg@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5, "queries": 2.0}


def test_documents_rank_by_their_best_chunk() -> None:
    assert dedupe_docs(["a", "b", "a", "c", "b", "d"], 3) == ["a", "b", "c"]


def write_beir(root: Path, corpus: list[dict], queries: list[dict], qrels: str) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (root / "qrels" / "test.tsv").write_text(qrels)
    return root


CORPUS = [
    {"_id": "d1", "title": "Kestrels", "text": "The kestrel hovers over meadows hunting voles."},
    {"_id": "d2", "title": "Engines", "text": "Diesel engines need an oil change every year."},
    {"_id": "d3", "title": "Telescopes", "text": "The telescope observes distant galaxies in infrared light."},
    {"_id": "d4", "title": "Bread", "text": "Sourdough bread rises slowly with a wild yeast starter."},
]
QUERIES = [
    {"_id": "q1", "text": "kestrel hunting voles"},
    {"_id": "q2", "text": "diesel oil change"},
    {"_id": "q3", "text": "infrared galaxies telescope"},
    {"_id": "q4", "text": "not judged"},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t2\nq9\td1\t1\n"


async def test_the_harness_scores_dense_bm25_and_hybrid_on_a_tiny_beir_set(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    ds = load_beir(folder)
    assert sorted(ds.qrels) == ["q1", "q2", "q3"] and ds.warnings == [
        "1 judged queries missing from queries.jsonl were left out"
    ]
    settings = RAGSettings(store="memory", path=tmp_path)
    with RAG.open(settings, embedder=HashEmbedder()) as rag:  # type: ignore[arg-type]
        stages: set[str] = set()
        report = await evaluate(rag, folder, progress=lambda stage, n, total: stages.add(stage))
    assert report.documents == 4 and report.chunks == 4 and report.queries == 3
    assert stages == {"ingest", "dense", "bm25", "hybrid"}
    for mode in ("dense", "bm25", "hybrid"):
        assert report.results[mode]["ndcg@10"] == pytest.approx(1.0), mode  # every query's words are in its document
        assert report.results[mode]["recall@100"] == 1.0 and report.results[mode]["mrr@10"] == 1.0


async def test_limit_queries_scores_only_the_first_judged_queries(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    with RAG.open(RAGSettings(store="memory"), embedder=HashEmbedder()) as rag:  # type: ignore[arg-type]
        report = await evaluate(rag, folder, modes=["bm25"], limit_queries=2)
    assert report.queries == 2 and list(report.results) == ["bm25"]


@pytest.mark.parametrize("missing", ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
def test_a_missing_dataset_file_is_named(tmp_path: Path, missing: str) -> None:
    folder = write_beir(tmp_path / "ds", CORPUS, QUERIES, QRELS)
    (folder / missing).unlink()
    with pytest.raises(DatasetError, match=missing.split("/")[-1]) as err:
        load_beir(folder)
    assert err.value.code == "missing_file"


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as err:
        load_beir(tmp_path / "nope")
    assert err.value.code == "missing_dir"


@pytest.mark.parametrize(
    ("file", "content", "where"),
    [
        ("corpus.jsonl", '{"_id": "d1", "text": "ok"}\n{"_id": "d2", "text": \n', "corpus.jsonl line 2"),
        ("queries.jsonl", '{"text": "no id"}\n', "queries.jsonl line 1"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\tgood\n", "qrels/test.tsv line 2"),
        ("qrels/test.tsv", "q1 d1 1\n", "qrels/test.tsv line 1"),
    ],
)
def test_a_malformed_line_is_reported_with_its_file_and_number(
    tmp_path: Path, file: str, content: str, where: str
) -> None:
    folder = write_beir(tmp_path / "ds", CORPUS, QUERIES, QRELS)
    (folder / file).write_text(content)
    with pytest.raises(DatasetError, match=where) as err:
        load_beir(folder)
    assert err.value.code == "malformed_line"


def test_qrels_that_judge_no_known_query_are_refused(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "ds", CORPUS, QUERIES, "q9\td1\t1\n")
    with pytest.raises(DatasetError) as err:
        load_beir(folder)
    assert err.value.code == "no_queries"
