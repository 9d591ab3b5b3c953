"""RAG scale benchmark: Qdrant Edge against numpy brute force, embedding throughput, end-to-end search.

For each size (384-d synthetic unit vectors in 1,000 clusters; `--sizes 10000,100000,1000000`): Edge upsert
throughput, the HNSW build (`optimize`), query latency p50/p99 and recall@10 against exact search, and numpy
brute force (one matrix-vector product and a partial sort) on the same data and queries. Then the embedding
model's throughput (passages/s on ~200-word passages) and end-to-end `RAG.search` latency (embed the query +
hybrid query + RRF) with every cache off. Figures only; nothing asserts on time. bench/RAG.md records a run.

    .venv/bin/python bench/bench_rag_scale.py --sizes 10000,100000
    .venv/bin/python bench/bench_rag_scale.py --sizes 1000000 --queries 200 --skip-embedding
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
import qdrant_edge as qe

DIM = 384
BATCH = 2000


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.standard_normal((n, DIM), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def clustered_rows(rng: np.random.Generator, n: int, clusters: int = 1000, spread: float = 0.6) -> np.ndarray:
    """Unit vectors around `clusters` random centres: neighbourhoods like those of real embeddings, unlike
    uniform random points, whose nearest neighbours are all about equally far."""
    centres = unit_rows(rng, clusters)
    rows = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        block = centres[rng.integers(0, clusters, m)] + spread * unit_rows(rng, m)
        rows[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return rows


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def bench_size(n: int, n_queries: int, folder: Path, ef: int) -> dict[str, float]:
    rng = np.random.default_rng(n)
    data = clustered_rows(rng, n)
    # Queries near stored points (a noisy copy), so neighbours are meaningful as in real retrieval.
    picks = rng.integers(0, n, n_queries)
    queries = data[picks] + 0.05 * unit_rows(rng, n_queries)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    config = qe.EdgeConfig(vectors={"dense": qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine)})
    shard = qe.EdgeShard.create(str(folder / f"edge-{n}"), config)
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        block = data[start : start + BATCH]
        pts = [qe.Point(start + i, {"dense": row.tolist()}, {"i": start + i}) for i, row in enumerate(block)]
        shard.update(qe.UpdateOperation.upsert_points(pts))
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    shard.optimize()
    build_s = time.perf_counter() - t0
    shard.flush()

    params = qe.SearchParams(hnsw_ef=ef)
    edge_lat, edge_ids = [], []
    for q in queries:
        req = qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist(), using="dense"), params=params)
        t = time.perf_counter()
        found = shard.query(req)
        edge_lat.append((time.perf_counter() - t) * 1000)
        edge_ids.append([int(p.id) for p in found])  # type: ignore[arg-type]

    np_lat, exact = [], []
    for q in queries:
        t = time.perf_counter()
        scores = data @ q
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        np_lat.append((time.perf_counter() - t) * 1000)
        exact.append([int(i) for i in top])
    recall = statistics.mean(len(set(a) & set(b)) / 10 for a, b in zip(edge_ids, exact, strict=True))
    shard.close()
    t0 = time.perf_counter()
    again = qe.EdgeShard.load(str(folder / f"edge-{n}"))
    reopen_s = time.perf_counter() - t0
    again.close()
    del data
    gc.collect()
    return {
        "n": n,
        "upsert_per_s": n / upsert_s,
        "build_s": build_s,
        "edge_p50_ms": pct(edge_lat, 50),
        "edge_p99_ms": pct(edge_lat, 99),
        "recall@10": recall,
        "numpy_p50_ms": pct(np_lat, 50),
        "numpy_p99_ms": pct(np_lat, 99),
        "reopen_s": reopen_s,
    }


WORDS = [
    "protein",
    "cell",
    "gene",
    "expression",
    "tumour",
    "patients",
    "study",
    "results",
    "increased",
    "reduced",
    "risk",
    "treatment",
    "clinical",
    "trial",
    "mice",
    "receptor",
    "signalling",
    "pathway",
    "response",
    "immune",
    "infection",
    "dose",
    "effect",
    "analysis",
    "cohort",
    "mortality",
    "blood",
    "levels",
    "factor",
    "growth",
    "activity",
    "model",
    "data",
    "association",
    "disease",
    "cancer",
    "brain",
    "neurons",
    "memory",
    "vaccine",
    "virus",
]


def passages(n: int, words: int, seed: int = 0) -> list[str]:
    r = random.Random(seed)
    return [" ".join(r.choice(WORDS) for _ in range(words)) + f" item{i}." for i in range(n)]


def bench_embedding(n: int) -> dict[str, float]:
    from k2_host.rag.embeddings import Embedder

    emb = Embedder()
    texts = passages(n, 200)
    emb.embed_documents(texts[:8])  # warm-up
    t0 = time.perf_counter()
    emb.embed_documents(texts)
    doc_s = time.perf_counter() - t0
    lat = []
    for q in passages(50, 10, seed=1):
        t = time.perf_counter()
        emb.embed_query(q)
        lat.append((time.perf_counter() - t) * 1000)
    return {"passages_per_s": n / doc_s, "query_embed_p50_ms": pct(lat, 50), "device": emb.device}  # type: ignore[dict-item]


async def bench_end_to_end(folder: Path, n_docs: int, n_queries: int) -> dict[str, float]:
    """RAG.search over an Edge collection of n_docs chunks (random dense vectors, real BM25), caches off."""
    from k2_host.rag.embeddings import Embedder
    from k2_host.rag.models import StoredPoint, point_id
    from k2_host.rag.service import RAG
    from k2_host.rag.settings import RAGSettings

    settings = RAGSettings(store="edge", path=folder, collection="e2e", query_cache_size=0, result_cache_size=0)
    rag = RAG.open(settings, embedder=Embedder())
    rng = np.random.default_rng(7)
    texts = passages(n_docs, 60, seed=2)
    rag.store.ensure(DIM)
    for start in range(0, n_docs, BATCH):
        vecs = unit_rows(rng, min(BATCH, n_docs - start))
        rag.store.upsert(
            [
                StoredPoint(
                    point_id(f"d{start + i}", 0),
                    {"doc_id": f"d{start + i}", "chunk_index": 0, "text": t},
                    vecs[i].tolist(),
                    rag.bm25.encode_document(t),
                )
                for i, t in enumerate(texts[start : start + BATCH])
            ]
        )
    rag.store.flush()
    out: dict[str, float] = {"docs": n_docs}
    for mode in ("hybrid", "dense", "bm25"):
        lat = []
        for q in passages(n_queries, 8, seed=3):
            t = time.perf_counter()
            await rag.search(q, k=10, mode=mode)  # type: ignore[arg-type]
            lat.append((time.perf_counter() - t) * 1000)
        out[f"{mode}_p50_ms"], out[f"{mode}_p99_ms"] = pct(lat, 50), pct(lat, 99)
    rag.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated vector counts (e.g. 1000000)")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--ef", type=int, default=128, help="HNSW ef at query time")
    ap.add_argument("--skip-embedding", action="store_true", help="skip the model benchmarks")
    ap.add_argument("--passages", type=int, default=128, help="passages for the embedding throughput")
    ap.add_argument("--e2e-docs", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="k2-bench-rag-") as tmp:
        folder = Path(tmp)
        print(
            f"{'vectors':>9} {'upsert/s':>10} {'build s':>8} {'edge p50':>9} {'edge p99':>9} {'R@10':>6} "
            f"{'numpy p50':>10} {'numpy p99':>10} {'reopen s':>9}"
        )
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            r = bench_size(n, args.queries, folder, args.ef)
            print(
                f"{n:>9,} {r['upsert_per_s']:>10,.0f} {r['build_s']:>8.1f} {r['edge_p50_ms']:>8.2f}m "
                f"{r['edge_p99_ms']:>8.2f}m {r['recall@10']:>6.3f} {r['numpy_p50_ms']:>9.2f}m "
                f"{r['numpy_p99_ms']:>9.2f}m {r['reopen_s']:>9.2f}",
                flush=True,
            )
        if not args.skip_embedding:
            e = bench_embedding(args.passages)
            print(
                f"embedding ({e['device']}): {e['passages_per_s']:.1f} passages/s of 200 words; "
                f"query embedding p50 {e['query_embed_p50_ms']:.1f} ms"
            )
            r = anyio.run(bench_end_to_end, folder, args.e2e_docs, 200)
            print(
                f"end-to-end RAG.search over {r['docs']:,.0f} chunks (edge, caches off): "
                + ", ".join(
                    f"{m} p50 {r[f'{m}_p50_ms']:.1f} ms / p99 {r[f'{m}_p99_ms']:.1f} ms"
                    for m in ("hybrid", "dense", "bm25")
                )
            )


if __name__ == "__main__":
    main()
