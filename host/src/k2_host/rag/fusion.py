"""Result fusion and diversification: reciprocal rank fusion (RRF) and maximal marginal relevance (MMR).

RRF gives each point the sum over ranked lists of weight / (k + rank) with ranks from 1; k damps the head of
each list (30 in the settings, `K2_RAG_RRF_K`, measured on SciFact; 60 in the literature). The Qdrant backends
fuse inside the engine with the same k; this module fuses for the backends without native fusion. MMR
re-ranks candidates to trade relevance against redundancy: it picks, one at a time, the candidate maximising
λ·sim(q, d) - (1 - λ)·max sim(d, picked).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from k2_host.rag.models import StoredPoint


def rrf(
    lists: Sequence[Sequence[StoredPoint]], *, k: int = 60, weights: Sequence[float] | None = None
) -> list[StoredPoint]:
    """Fuse ranked lists; ties go to the point seen first."""
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    if len(weights) != len(lists):
        raise ValueError(f"{len(weights)} weights for {len(lists)} lists")
    scores: dict[str, float] = {}
    first: dict[str, StoredPoint] = {}
    order: dict[str, int] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, p in enumerate(ranked, start=1):
            scores[p.id] = scores.get(p.id, 0.0) + weight / (k + rank)
            if p.id not in first:
                first[p.id], order[p.id] = p, len(order)
            elif p.dense is not None and first[p.id].dense is None:
                first[p.id].dense = p.dense
    ids = sorted(scores, key=lambda i: (-scores[i], order[i]))
    return [StoredPoint(i, first[i].payload, first[i].dense, first[i].sparse, scores[i]) for i in ids]


def mmr(query: np.ndarray, candidates: Sequence[StoredPoint], *, k: int, lambda_: float = 0.7) -> list[StoredPoint]:
    """The `k` candidates MMR picks, in pick order; candidates need dense vectors (those without are last)."""
    with_vec = [c for c in candidates if c.dense is not None]
    without = [c for c in candidates if c.dense is None]
    if not with_vec:
        return list(candidates[:k])
    mat = np.asarray([c.dense for c in with_vec], dtype=np.float32)
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    q = np.asarray(query, dtype=np.float32)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    relevance = mat @ q
    picked: list[int] = []
    max_sim = np.full(len(with_vec), -np.inf, dtype=np.float32)
    remaining = np.ones(len(with_vec), dtype=bool)
    for _ in range(min(k, len(with_vec))):
        redundancy = np.where(np.isfinite(max_sim), max_sim, 0.0)
        score = lambda_ * relevance - (1.0 - lambda_) * redundancy
        score[~remaining] = -np.inf
        best = int(np.argmax(score))
        picked.append(best)
        remaining[best] = False
        max_sim = np.maximum(max_sim, mat @ mat[best])
    out = [with_vec[i] for i in picked]
    return (out + without)[:k]
