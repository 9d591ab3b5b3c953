"""BM25 as sparse vectors, the same for every backend.

Text becomes a sparse vector with Qdrant's own BM25 model (`qdrant_edge.Bm25`, the one a Qdrant server uses
for server-side BM25): words lowercased, English stopwords removed, Snowball-stemmed, hashed to 32-bit term
ids. A document's values are BM25's saturated term frequencies, tf·(k1+1) / (tf + k1·(1 - b + b·len/avg_len));
a query's are 1 per distinct term. The store multiplies in IDF at query time (Qdrant's `Modifier.IDF`:
ln(1 + (N - n + 0.5) / (n + 0.5))), so IDF follows the collection as it grows and nothing is re-encoded.

`SparseIndex` is that scoring in-process, for the backends that have no sparse index of their own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

import qdrant_edge as qe

from k2_host.rag.errors import ConfigError
from k2_host.rag.models import SparseVec


class BM25Encoder:
    """Text → BM25 sparse vectors (documents and queries)."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 256.0, language: str = "english"):
        kwargs: dict[str, object] = {"k": k1, "b": b, "avg_len": avg_len}
        if language.lower() == "none":
            kwargs.update(stemmer=qe.DisabledStemmer(), stopwords=qe.StopwordsSet(custom=set()))
        else:
            kwargs["language"] = language.lower()
        try:
            self._model = qe.Bm25(qe.Bm25Config(**kwargs))  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigError(
                f"bad BM25 settings (k1={k1!r}, b={b!r}, avg_len={avg_len!r}, {language=!r}): {exc}"
            ) from exc
        self.config = {"k1": k1, "b": b, "avg_len": avg_len, "language": language}

    def encode_document(self, text: str) -> SparseVec:
        sv = self._model.embed_document(text)
        return SparseVec(list(sv.indices), list(sv.values))

    def encode_query(self, text: str) -> SparseVec:
        sv = self._model.embed_query(text)
        return SparseVec(list(sv.indices), list(sv.values))


def idf(n_docs: int, doc_freq: int) -> float:
    return math.log(1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


class SparseIndex:
    """An inverted index of sparse vectors scored with IDF (Qdrant's `Modifier.IDF` semantics)."""

    def __init__(self) -> None:
        self._postings: dict[int, dict[str, float]] = defaultdict(dict)
        self._docs: dict[str, SparseVec] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, point_id: str, vec: SparseVec) -> None:
        self.remove(point_id)
        self._docs[point_id] = vec
        for term, value in zip(vec.indices, vec.values, strict=True):
            self._postings[term][point_id] = value

    def remove(self, point_id: str) -> None:
        old = self._docs.pop(point_id, None)
        if old is None:
            return
        for term in old.indices:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(point_id, None)
                if not posting:
                    del self._postings[term]

    def get(self, point_id: str) -> SparseVec | None:
        return self._docs.get(point_id)

    def search(
        self, query: SparseVec, limit: int, allowed: Callable[[str], bool] | None = None
    ) -> list[tuple[str, float]]:
        """Top `limit` (point id, score) pairs; `allowed` filters points (IDF stays collection-wide)."""
        n = len(self._docs)
        scores: dict[str, float] = defaultdict(float)
        for term, q_value in zip(query.indices, query.values, strict=True):
            posting = self._postings.get(term)
            if not posting:
                continue
            weight = q_value * idf(n, len(posting))
            for pid, value in posting.items():
                scores[pid] += weight * value
        items: Iterable[tuple[str, float]] = scores.items()
        if allowed is not None:
            items = [(p, s) for p, s in items if allowed(p)]
        return sorted(items, key=lambda x: (-x[1], x[0]))[:limit]
