"""Caches of the RAG layer.

* `EmbeddingCache`: document embeddings on disk (diskcache, SQLite underneath), keyed by the SHA-256 of the
  model name and the exact text, so a re-ingest or a rerun of an evaluation embeds only what changed.
* `LRUTTLCache`: a small in-process cache used for query embeddings (keyed by model and query text; valid for
  as long as the model is the same) and for search results (cleared on every write to the store).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import diskcache
import numpy as np
from cachetools import LRUCache, TTLCache

V = TypeVar("V")


def content_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Float32 vectors on disk by content hash (+ model name)."""

    def __init__(self, directory: Path | str, *, size_limit: int = 4 * 1024**3) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(directory), size_limit=size_limit)
        self.hits = 0
        self.misses = 0

    def get_many(self, model_name: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for text in texts:
            raw = self._cache.get(content_key(model_name, text))
            if isinstance(raw, bytes):
                out.append(np.frombuffer(raw, dtype=np.float32))
                self.hits += 1
            else:
                out.append(None)
                self.misses += 1
        return out

    def put_many(self, model_name: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._cache.transact():
            for text, vec in items:
                self._cache.set(content_key(model_name, text), np.asarray(vec, dtype=np.float32).tobytes())

    def __len__(self) -> int:
        n: Any = len(self._cache)  # type: ignore[arg-type]  # diskcache's stub types __len__ loosely
        return int(n)

    def clear(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        self._cache.close()


class LRUTTLCache(Generic[V]):
    """A thread-safe LRU cache, with entries expiring after `ttl_s` when given; size 0 disables it."""

    def __init__(self, maxsize: int, ttl_s: float | None = None) -> None:
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._data: LRUCache[Hashable, Any] | TTLCache[Hashable, Any] | None = None
        if maxsize > 0:
            self._data = TTLCache(maxsize, ttl_s) if ttl_s else LRUCache(maxsize)
        self.hits = 0
        self.misses = 0
        self.generation = 0  # bumped by clear(): lets callers see that an invalidation happened

    def get(self, key: Hashable) -> V | None:
        if self._data is None:
            return None
        with self._lock:
            value = self._data.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: Hashable, value: V) -> None:
        if self._data is None:
            return
        with self._lock:
            self._data[key] = value

    def clear(self) -> None:
        with self._lock:
            if self._data is not None:
                self._data.clear()
            self.generation += 1

    def __len__(self) -> int:
        return 0 if self._data is None else len(self._data)
