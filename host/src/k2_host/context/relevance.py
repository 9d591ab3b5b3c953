"""Relevance of a context item to the current turn: keyword overlap (IDF-weighted), embedding similarity, recency.

Terms are words with identifiers split (`max_age` -> `max`, `age`; `keepAliveExpiry` -> `keep`, `alive`,
`expiry`), lower-cased, stop words dropped, lightly stemmed; the whole identifier is kept too. Keyword score:
the IDF-weighted share of the query's terms an item holds (IDF over the session's items, kept as they arrive).
With the embedding model loaded the cosine similarity of the two is blended in (`hybrid`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from k2_host.engine.text import STOPWORDS, split_identifiers, stem, words

_LINE_CAP = 4000  # characters of an item read for terms (long results: their head)
_IDENTIFIER = re.compile(r"[a-z0-9][A-Z]|_")
_stem = lru_cache(maxsize=65_536)(stem)  # the same words come back turn after turn


def term_counts(text: str) -> Counter[str]:
    """The index terms of a text with how often each occurs."""
    if len(text) > 4 * _LINE_CAP:
        text = text[: 4 * _LINE_CAP]
    out: Counter[str] = Counter()
    raw = words(text)
    for w in raw:
        if len(w) > 2 and _IDENTIFIER.search(w):
            out[w.lower()] += 1  # the identifier as a whole
    for w in words(split_identifiers(" ".join(raw))):
        lw = w.lower()
        if lw in STOPWORDS or (len(lw) < 3 and not lw.isdigit()):
            continue
        out[_stem(lw)] += 1
    return out


def terms(text: str) -> frozenset[str]:
    """The set of index terms of a text."""
    return frozenset(term_counts(text))


class TermStats:
    """Document frequencies and lengths over a session's items, for BM25."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        self.length = 0

    def add(self, counts: Counter[str]) -> None:
        self.df.update(counts.keys())
        self.n += 1
        self.length += sum(counts.values())

    def remove(self, counts: Counter[str]) -> None:
        self.df.subtract(counts.keys())
        self.n -= 1
        self.length -= sum(counts.values())

    def idf(self, term: str) -> float:
        return math.log(1.0 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    @property
    def avg_length(self) -> float:
        return self.length / self.n if self.n else 1.0


class KeywordScorer:
    """BM25 of an item for the query (k1 1.2, b 0.75), scaled by the query's best possible score to 0..1."""

    K1 = 1.2
    B = 0.75

    def __init__(self, query: frozenset[str], stats: TermStats) -> None:
        self.weights = {t: stats.idf(t) for t in query}
        self.avg = max(1.0, stats.avg_length)
        # an item holding every query term about twice at average length scores 1
        best = sum(w * 2 * (self.K1 + 1) / (2 + self.K1) for w in self.weights.values())
        self.scale = 1.0 / best if best else 0.0

    def __call__(self, counts: Counter[str], length: int) -> float:
        if not self.scale:
            return 0.0
        norm = self.K1 * (1 - self.B + self.B * length / self.avg)
        score = 0.0
        for t, w in self.weights.items():
            tf = counts.get(t, 0)
            if tf:
                score += w * tf * (self.K1 + 1) / (tf + norm)
        return min(1.0, score * self.scale)


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def line_terms(text: str) -> list[frozenset[str]]:
    """The terms of each line of `text` (computed once per item, reused for every query)."""
    return [terms(line[:_LINE_CAP]) if line.strip() else frozenset() for line in text.splitlines()]


def best_lines(text: str, query: frozenset[str], *, limit: int, lines: list[frozenset[str]] | None = None) -> list[int]:
    """Indices of the `limit` lines of `text` sharing the most query terms, best first (ties: earlier first)."""
    if not query or limit <= 0:
        return []
    scored = []
    for i, line in enumerate(lines if lines is not None else line_terms(text)):
        n = len(query & line)
        if n:
            scored.append((-n, i))
    scored.sort()
    return [i for _, i in scored[:limit]]
