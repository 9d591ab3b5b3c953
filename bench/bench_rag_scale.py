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
import json
import os
import random
import resource
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


def shard_config(
    quant: str, segments: int | None, max_segment_kb: int | None, threads: int | None = None
) -> qe.EdgeConfig:
    """The collection-time settings under test: quantization of the dense vectors and the optimizer's segment
    target (None leaves each to Edge's default; the product's store uses the same knobs), and the search pool's
    size (a load-time setting)."""
    quantization: qe.ScalarQuantizationConfig | None = None
    if quant == "int8":
        quantization = qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=0.99, memory=qe.Memory.Pinned)
    optimizers = None
    if segments is not None or max_segment_kb is not None:
        optimizers = qe.EdgeOptimizersConfig(default_segment_number=segments, max_segment_size=max_segment_kb)
    vectors = qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine, quantization_config=quantization)
    return qe.EdgeConfig(vectors={"dense": vectors}, optimizers=optimizers, max_search_threads=threads)


def query_settings(efs: list[int], quant: str, oversampling: list[float]) -> list[tuple[str, qe.SearchParams]]:
    """Query-time settings swept over one build: each ef, and on a quantized build each oversampling with
    rescoring by the original vectors, plus the quantized scores alone (no rescore)."""
    out: list[tuple[str, qe.SearchParams]] = []
    for ef in efs:
        if quant == "none":
            out.append((f"ef {ef}", qe.SearchParams(hnsw_ef=ef)))
            continue
        for os_ in oversampling:
            qp = qe.QuantizationSearchParams(rescore=True, oversampling=os_)
            out.append((f"ef {ef} {quant} rescore x{os_:g}", qe.SearchParams(hnsw_ef=ef, quantization=qp)))
        qp = qe.QuantizationSearchParams(rescore=False)
        out.append((f"ef {ef} {quant} no rescore", qe.SearchParams(hnsw_ef=ef, quantization=qp)))
        qp = qe.QuantizationSearchParams(ignore=True)
        out.append((f"ef {ef} {quant} ignored", qe.SearchParams(hnsw_ef=ef, quantization=qp)))
    return out


def run_queries(shard: qe.EdgeShard, queries: np.ndarray, params: qe.SearchParams) -> tuple[list[float], ...]:
    """One pass: wall ms (perf_counter_ns), process CPU ms (every thread, Edge's search pool included) and the
    calling thread's CPU ms per query, and the ids found."""
    wall, cpu, thread, ids = [], [], [], []
    for q in queries:
        req = qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist(), using="dense"), params=params)
        c0, th0, t0 = time.process_time_ns(), time.thread_time_ns(), time.perf_counter_ns()
        found = shard.query(req)
        t1, th1, c1 = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
        wall.append((t1 - t0) / 1e6)
        cpu.append((c1 - c0) / 1e6)
        thread.append((th1 - th0) / 1e6)
        ids.append([int(p.id) for p in found])  # type: ignore[arg-type]
    return wall, cpu, thread, ids  # type: ignore[return-value]


def sweep(
    shard: qe.EdgeShard,
    queries: np.ndarray,
    exact: list[list[int]],
    settings: list[tuple[str, qe.SearchParams]],
    reps: int,
) -> list[dict[str, object]]:
    """Each setting: a 50-query warm-up, then the query set `reps` times; p50/p99 per repetition and their median
    across repetitions (other jobs on the box make single runs noisy), with the load average at each run and the
    CPU time per query, which the load disturbs less than wall time."""
    run_queries(shard, queries, settings[0][1])  # warm the page cache and the search pool, untimed
    rows: list[dict[str, object]] = []
    for name, params in settings:
        run_queries(shard, queries[:50], params)
        p50s, p99s, cpu50s, cpu99s, th50s, loads, recalls = [], [], [], [], [], [], []
        for _ in range(reps):
            load = os.getloadavg()[0]
            wall, cpu, thread, ids = run_queries(shard, queries, params)
            loads.append(max(load, os.getloadavg()[0]))
            p50s.append(pct(wall, 50))
            p99s.append(pct(wall, 99))
            cpu50s.append(pct(cpu, 50))
            cpu99s.append(pct(cpu, 99))
            th50s.append(pct(thread, 50))
            recalls.append(statistics.mean(len(set(a) & set(b)) / 10 for a, b in zip(ids, exact, strict=True)))  # type: ignore[arg-type]
        rows.append(
            {
                "setting": name,
                "p50_ms": statistics.median(p50s),
                "p99_ms": statistics.median(p99s),
                "p99_runs": p99s,
                "cpu_p50_ms": statistics.median(cpu50s),
                "cpu_p99_ms": statistics.median(cpu99s),
                "thread_p50_ms": statistics.median(th50s),
                "recall@10": statistics.mean(recalls),
                "load": loads,
            }
        )
        r = rows[-1]
        print(
            f"  {name:<28} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms "
            f"({' / '.join(f'{x:.2f}' for x in p99s)})  R@10 {r['recall@10']:.3f}  "
            f"cpu p50 {r['cpu_p50_ms']:5.2f} p99 {r['cpu_p99_ms']:5.2f} ms (caller {r['thread_p50_ms']:.2f})  "
            f"load {' / '.join(f'{x:.2f}' for x in loads)}",
            flush=True,
        )
    return rows


def exact_top10(data: np.ndarray, queries: np.ndarray) -> tuple[list[list[int]], list[float]]:
    """Ground truth by brute force, one query at a time (also the numpy latency figures)."""
    lat, exact = [], []
    for q in queries:
        t = time.perf_counter()
        scores = data @ q
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        lat.append((time.perf_counter() - t) * 1000)
        exact.append([int(i) for i in top])
    return exact, lat


def bench_size(n: int, n_queries: int, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    rng = np.random.default_rng(n)
    data = clustered_rows(rng, n)
    # Queries near stored points (a noisy copy), so neighbours are meaningful as in real retrieval.
    picks = rng.integers(0, n, n_queries)
    queries = data[picks] + 0.05 * unit_rows(rng, n_queries)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact, np_lat = exact_top10(data, queries)

    config = shard_config(args.quant, args.segments, args.max_segment_kb)
    shard = qe.EdgeShard.create(str(folder / f"edge-{n}"), config)
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        block = data[start : start + BATCH]
        pts = [qe.Point(start + i, {"dense": row.tolist()}, {"i": start + i}) for i, row in enumerate(block)]
        shard.update(qe.UpdateOperation.upsert_points(pts))
    upsert_s = time.perf_counter() - t0
    del data
    gc.collect()
    t0 = time.perf_counter()
    shard.optimize()
    build_s = time.perf_counter() - t0
    shard.flush()
    info = shard.info()
    seg_mb = sorted(
        (
            sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) / 1e6
            for d in (folder / f"edge-{n}" / "segments").iterdir()
        ),
        reverse=True,
    )
    print(
        f"{n:,} vectors, quantization {args.quant}, segments target {args.segments}, max segment "
        f"{args.max_segment_kb} KB: {info.segments_count} segments after optimize, "
        f"{info.indexed_vectors_count:,} indexed, segment MB {[round(x) for x in seg_mb]}; "
        f"upsert {upsert_s:.0f} s, build {build_s:.0f} s, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB, "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    efs = [int(e) for e in args.efs.split(",")] if args.efs else [args.ef]
    overs = [float(x) for x in args.oversampling.split(",")]
    settings = query_settings(efs, args.quant, overs)
    rows: list[dict[str, object]] = []
    for threads in [int(t) for t in args.threads.split(",")]:
        # The search pool's size is a load-time setting: reopen the same shard with it (0: Edge's default,
        # derived from the CPU count), so each pool size is measured on the same segments.
        if threads:
            shard.close()
            again = shard_config(args.quant, args.segments, args.max_segment_kb, threads)
            shard = qe.EdgeShard.load(str(folder / f"edge-{n}"), again)
        print(f"search threads {threads or 'default'}:", flush=True)
        for row in sweep(shard, queries, exact, settings, args.reps):
            row["threads"] = threads
            rows.append(row)
    shard.close()
    ok = [r for r in rows if r["recall@10"] >= 0.95]  # type: ignore[operator]
    if ok:
        best = min(ok, key=lambda r: r["p99_ms"])  # type: ignore[arg-type, return-value]
        print(
            f"lowest p99 at recall@10 >= 0.95: {best['setting']}, threads {best['threads'] or 'default'}: "
            f"p99 {best['p99_ms']:.2f} ms, p50 {best['p50_ms']:.2f} ms, R@10 {best['recall@10']:.3f}",
            flush=True,
        )
    if args.json:
        meta = {"n": n, "quant": args.quant, "segments": args.segments, "max_segment_kb": args.max_segment_kb}
        meta |= {"segments_after": info.segments_count, "segment_mb": seg_mb, "upsert_s": upsert_s}
        meta |= {"build_s": build_s, "numpy_p50_ms": pct(np_lat, 50), "numpy_p99_ms": pct(np_lat, 99)}
        Path(args.json).write_text(json.dumps({"build": meta, "rows": rows}, indent=1))
    t0 = time.perf_counter()
    again = qe.EdgeShard.load(str(folder / f"edge-{n}"))
    reopen_s = time.perf_counter() - t0
    again.close()
    gc.collect()
    first = rows[0]
    return {
        "n": n,
        "upsert_per_s": n / upsert_s,
        "build_s": build_s,
        "edge_p50_ms": first["p50_ms"],  # type: ignore[dict-item]
        "edge_p99_ms": first["p99_ms"],  # type: ignore[dict-item]
        "recall@10": first["recall@10"],  # type: ignore[dict-item]
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
    ap.add_argument("--efs", default="", help="comma-separated ef values swept over each build (e.g. 64,96,128)")
    ap.add_argument("--quant", choices=["none", "int8"], default="none", help="quantization of the vectors")
    ap.add_argument("--oversampling", default="2,4", help="oversampling factors tried with rescore (quantized)")
    ap.add_argument("--segments", type=int, default=None, help="optimizer's target segment count (Edge: auto)")
    ap.add_argument("--max-segment-kb", type=int, default=None, help="largest optimized segment, KB (Edge: auto)")
    ap.add_argument("--reps", type=int, default=3, help="passes over the query set per setting (median p99)")
    ap.add_argument("--threads", default="0", help="search pool sizes, each a reopen of the build (0: Edge's)")
    ap.add_argument("--json", default="", help="write each setting's figures to this file (last size)")
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
            r = bench_size(n, args.queries, folder, args)
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
