"""Few-shot examples for a model: earlier requests answered well, recalled by similarity into the context.

An answer rated good (or a verifier's pass) is an example of what to do. For a new request the most similar
earlier ones (embedding similarity of the requests, at least `MIN_SCORE`) are recalled with their answers, at
most `learning.few_shot` of them, through the context window's recall (the tail, beside knowledge-index
chunks), not the system prompt: they change with every request and the stable prefix must not. They are
listed in the context report as recalled items whose reference starts with "example".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from k2_host.learning.experience import normalized

if TYPE_CHECKING:
    import numpy as np

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
        self._mark: tuple[int, float | None] | None = None  # (good experiences, the latest one's time) read so far
        self._read: set[str] = set()  # the ids of the good experiences read
        self._seen: dict[str, tuple[str, str]] = {}  # normalized query -> (request id, query): the latest word
        self._good: list[tuple[str, str, str]] = []  # (request id, query, answer)
        self._vecs: np.ndarray | None = None
        self._vec_of: dict[str, np.ndarray] = {}  # query -> its embedding, of the examples built last

    def _refresh(self, mark: tuple[int, float | None]) -> None:
        """Read the good experiences added since the last read; all of them again when that does not add up to
        what the store counts (some were trimmed, or came in with an earlier time)."""
        since = self._mark[1] if self._mark is not None else None
        fresh = [e for e in self.store.good(since) if e.id not in self._read] if since is not None else []
        if since is None or len(self._read) + len(fresh) != mark[0]:
            self._read, self._seen = set(), {}
            fresh = self.store.good()
        for e in fresh:
            assert e.trajectory_id
            self._read.add(e.id)
            self._seen[normalized(e.query)] = (e.trajectory_id, e.query)
        latest = max((e.at for e in fresh), default=since)
        self._mark = (len(self._read), latest if self._read else None)

    def _good_ids(self) -> list[tuple[str, str]]:
        return list(self._seen.values())[-MAX_EXAMPLES:]

    def available(self) -> bool:
        """Whether there are good answers to recall (one count of the store's says when to read again)."""
        mark = self.store.good_mark()
        if mark != self._mark:
            self._refresh(mark)
            self._vecs = None  # rebuilt on the next search
        return bool(self._seen)

    async def _build(self) -> None:
        import numpy as np  # only once there are good answers to recall (it is ~10 MB)

        good: list[tuple[str, str, str]] = []
        if self.trajectories is not None:
            for tid, query in self._good_ids():
                t = await self.trajectories.get(tid)
                if t is not None and t.answer.strip():
                    good.append((tid, query, t.answer))
        self._good = good
        known = {q: v for _, q, _ in good if (v := self._vec_of.get(q)) is not None}
        missing = list(dict.fromkeys(q for _, q, _ in good if q not in known))
        vecs = await self.embedder.embed_documents(missing) if missing else np.zeros((0, 1), dtype=np.float32)
        if vecs is None or not good:
            self._vecs, self._vec_of = np.zeros((0, 1), dtype=np.float32), {}
            return
        known.update(zip(missing, vecs, strict=True))
        self._vec_of = known
        self._vecs = np.stack([known[q] for _, q, _ in good])

    async def search(self, query: str, k: int) -> list[Example]:
        if k <= 0 or not self.available():
            return []
        if self._vecs is None:
            await self._build()
        assert self._vecs is not None
        if not len(self._good):
            return []
        qvec = await self.embedder.embed_query(query)
        if qvec is None:
            return []
        import numpy as np

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
