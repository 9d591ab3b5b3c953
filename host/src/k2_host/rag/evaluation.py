"""Retrieval evaluation on any BEIR-layout dataset: nDCG@10, recall@100 and MRR@10 for dense, BM25 and hybrid.

A dataset folder holds `corpus.jsonl` ({"_id", "title", "text"} a line), `queries.jsonl` ({"_id", "text"})
and `qrels/<split>.tsv` (query-id, corpus-id, score; a header line is allowed). Every corpus document goes
through the real pipeline (chunking, embedding, BM25, the configured store) with its title as the root
heading; a document's rank is that of its best chunk. Metrics follow trec_eval: nDCG with linear gains and
log2 discounts over the judged relevance, recall over the documents judged relevant (score > 0), MRR cut at 10.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2_host.rag.errors import DatasetError
from k2_host.rag.models import Document

Qrels = dict[str, dict[str, int]]


@dataclass
class Dataset:
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: Qrels
    warnings: list[str] = field(default_factory=list)


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DatasetError(f"missing {path.name}: expected {str(path)!r} (BEIR layout)", code="missing_file")
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path.name} line {n}: not valid JSON ({exc.msg})", code="malformed_line") from exc
            if not isinstance(obj, dict) or "_id" not in obj:
                raise DatasetError(f"{path.name} line {n}: expected an object with an '_id'", code="malformed_line")
            yield n, obj


def load_beir(folder: Path | str, *, split: str = "test") -> Dataset:
    """Read a BEIR dataset; missing files and malformed lines raise DatasetError naming file and line."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(
            f"{str(folder)!r} is not a folder with corpus.jsonl, queries.jsonl, qrels/", code="missing_dir"
        )
    corpus = {
        str(o["_id"]): (str(o.get("title") or ""), str(o.get("text") or "")) for _, o in _jsonl(folder / "corpus.jsonl")
    }
    queries = {str(o["_id"]): str(o.get("text") or "") for _, o in _jsonl(folder / "queries.jsonl")}
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise DatasetError(f"missing qrels/{split}.tsv: expected {str(qrels_path)!r}", code="missing_file")
    qrels: Qrels = {}
    warnings: list[str] = []
    with qrels_path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cols = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            if len(cols) < 3:
                raise DatasetError(
                    f"qrels/{split}.tsv line {n}: expected query-id, corpus-id, score", code="malformed_line"
                )
            try:
                score = int(float(cols[-1]))
            except ValueError:
                if n == 1:
                    continue  # the header
                raise DatasetError(
                    f"qrels/{split}.tsv line {n}: score {cols[-1]!r} is not a number", code="malformed_line"
                ) from None
            qrels.setdefault(cols[0], {})[cols[1]] = score
    unknown = [q for q in qrels if q not in queries]
    if unknown:
        warnings.append(f"{len(unknown)} judged queries missing from queries.jsonl were left out")
        for q in unknown:
            del qrels[q]
    missing_docs = sum(d not in corpus for rels in qrels.values() for d in rels)
    if missing_docs:
        warnings.append(f"{missing_docs} judgments name documents missing from corpus.jsonl")
    if not qrels:
        raise DatasetError(f"qrels/{split}.tsv judges no query of queries.jsonl", code="no_queries")
    return Dataset(corpus, queries, qrels, warnings)


def documents(ds: Dataset) -> Iterator[Document]:
    for doc_id, (title, text) in ds.corpus.items():
        root = [title] if title else []
        yield Document(doc_id, text, "text", f"beir:{doc_id}", "dataset", title=title or None, root=root)


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0)
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_run(run: Mapping[str, Sequence[str]], qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, recall@100 and MRR@10 over the judged queries (a query with no results scores 0)."""
    ids = list(qrels)
    if not ids:
        raise DatasetError("no judged queries to score", code="no_queries")
    per = [
        (ndcg_at(run.get(q, []), qrels[q]), recall_at(run.get(q, []), qrels[q]), mrr_at(run.get(q, []), qrels[q]))
        for q in ids
    ]
    n = len(per)
    return {
        "ndcg@10": sum(p[0] for p in per) / n,
        "recall@100": sum(p[1] for p in per) / n,
        "mrr@10": sum(p[2] for p in per) / n,
        "queries": float(n),
    }


def dedupe_docs(doc_ids: Sequence[str], limit: int = 100) -> list[str]:
    """Documents in order of their best chunk."""
    seen: dict[str, None] = {}
    for d in doc_ids:
        seen.setdefault(d, None)
        if len(seen) >= limit:
            break
    return list(seen)


@dataclass
class EvalReport:
    dataset: str
    documents: int
    chunks: int
    queries: int
    results: dict[str, dict[str, float]]
    ingest_s: float
    search_s: dict[str, float]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def evaluate(
    rag: Any,
    folder: Path | str,
    *,
    split: str = "test",
    modes: Sequence[str] = ("dense", "bm25", "hybrid"),
    limit_queries: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvalReport:
    """Ingest a BEIR corpus into `rag` (a `k2_host.rag.service.RAG`) and score each retrieval mode."""
    ds = load_beir(folder, split=split)
    started = time.monotonic()
    total = len(ds.corpus)

    def on_doc(p: Any) -> None:
        if progress is not None:
            progress("ingest", p.done, total)

    report = await rag.ingest_documents(documents(ds), source=str(folder), total=total, progress=on_doc)
    ingest_s = time.monotonic() - started
    qids = sorted(ds.qrels)[:limit_queries] if limit_queries else sorted(ds.qrels)
    qrels = {q: ds.qrels[q] for q in qids}
    results: dict[str, dict[str, float]] = {}
    timings: dict[str, float] = {}
    for mode in modes:
        t0 = time.monotonic()
        run: dict[str, list[str]] = {}
        for n, q in enumerate(qids, 1):
            text = ds.queries[q][: rag.settings.max_query_chars]
            hits = await rag.search(text, k=200, mode=mode) if text.strip() else []
            run[q] = dedupe_docs([h.doc_id for h in hits], 100)
            if progress is not None:
                progress(mode, n, len(qids))
        timings[mode] = time.monotonic() - t0
        results[mode] = score_run(run, qrels)
    chunks = rag.store.count() if rag.store.dim else report.chunks
    return EvalReport(str(folder), total, chunks, len(qids), results, ingest_s, timings, ds.warnings)
