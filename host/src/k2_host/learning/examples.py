"""Few-shot examples for a model: earlier requests answered well, recalled by similarity into the context.

An answer rated good (or a verifier's pass) is an example of what to do. For a new request the most similar
earlier ones (embedding similarity of the requests, at least `MIN_SCORE`) are recalled with their answers, at
most `learning.few_shot` of them, through the context window's recall (the tail, beside knowledge-index
chunks), not the system prompt: they change with every request and the stable prefix must not. They are
listed in the context report as recalled items whose reference starts with "example".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from k2_host.learning.experience import normalized

if TYPE_CHECKING:
    from k2_host.learning.experiences import ExperienceStore
    from k2_host.learning.store import TrajectoryStore
    from k2_host.rag.embeddings import LazyEmbedder

MIN_SCORE = 0.55
MAX_EXAMPLES = 500  # the newest good answers kept to choose from
ANSWER_CHARS = 1500


@dataclass(frozen=True)
class Example:
    text: str
    citation: str
    score: float


class FewShot:
    def __init__(self, store: ExperienceStore, trajectories: TrajectoryStore | None, embedder: LazyEmbedder) -> None:
        self.store = store
        self.trajectories = trajectories
        self.embedder = embedder
        self._mark: Any = None  # what the store held when the examples were built
        self._good: list[tuple[str, str, str]] = []  # (request id, query, answer)
        self._vecs: np.ndarray | None = None
        self._has = False

    def _good_ids(self) -> list[tuple[str, str]]:
        seen: dict[str, tuple[str, str]] = {}
        for e in self.store.experiences():
            if e.reward > 0 and e.trajectory_id and e.source in ("feedback", "correction", "verifier"):
                seen[normalized(e.query)] = (e.trajectory_id, e.query)
        return list(seen.values())[-MAX_EXAMPLES:]

    def available(self) -> bool:
        """Whether there are good answers to recall (the store's counts say when to look again)."""
        summary = self.store.summary()
        mark = (sum(summary["experiences"].values()), summary["lessons"])
        if mark != self._mark:
            self._mark = mark
            self._vecs = None  # rebuilt on the next search
            self._has = bool(self._good_ids())
        return self._has

    async def _build(self) -> None:
        good: list[tuple[str, str, str]] = []
        if self.trajectories is not None:
            for tid, query in self._good_ids():
                t = await self.trajectories.get(tid)
                if t is not None and t.answer.strip():
                    good.append((tid, query, t.answer))
        self._good = good
        model = await self.embedder.get()
        if model is None or not good:
            self._vecs = np.zeros((0, 1), dtype=np.float32)
            return
        import anyio

        self._vecs = await anyio.to_thread.run_sync(model.embed_documents, [q for _, q, _ in good])

    async def search(self, query: str, k: int) -> list[Example]:
        if k <= 0 or not self.available():
            return []
        if self._vecs is None:
            await self._build()
        assert self._vecs is not None
        model = await self.embedder.get()
        if model is None or not len(self._good):
            return []
        import anyio

        qvec = await anyio.to_thread.run_sync(model.embed_query, query)
        sims = self._vecs @ qvec
        out = []
        for i in np.argsort(-sims)[:k]:
            score = float(sims[int(i)])
            tid, q, answer = self._good[int(i)]
            if score < MIN_SCORE:
                continue
            cut = answer[:ANSWER_CHARS] + (" […]" if len(answer) > ANSWER_CHARS else "")
            text = f"An earlier request like this one, whose answer was rated good.\nRequest: {q}\nAnswer: {cut}"
            out.append(Example(text, f"example (request {tid[:12]})", score))
        return out
