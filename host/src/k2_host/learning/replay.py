"""Prioritized experience replay (Schaul et al., 2016): proportional priorities in a sum-tree.

    buffer = PrioritizedReplay(capacity=10_000, alpha=0.6, beta=0.4)
    slot = buffer.add("experience-id")                  # new experience comes in at the highest priority seen
    batch = buffer.sample(32, rng)                      # slots, keys, importance-sampling weights
    buffer.update(batch.slots, errors)                  # priority = (|error| + eps) ** alpha

A slot's probability of being drawn is its priority over the sum of all priorities. The sum-tree keeps those sums
in a flat array (leaves at the bottom, each inner node the sum of its two children), so drawing a batch is one
descent per level for the whole batch at once (numpy), and an update touches one node per level. The batch is
stratified: the total is cut into `batch` equal segments and one value drawn in each, so a batch spreads over the
buffer. Importance-sampling weights (N * P(i)) ** -beta, divided by their maximum, undo the bias of drawing by
priority when the caller weights what it learns by them; beta anneals towards 1 as training goes on.

When the buffer is full the oldest slot is written over (a ring). `state()` / `load()` give and take the keys and
priorities, for the experience store to keep them across restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    slots: np.ndarray  # int64, positions in the buffer (for `update`)
    keys: list[str]  # what was stored there
    weights: np.ndarray  # importance-sampling weights, max 1
    probabilities: np.ndarray  # P(i) of each draw


class PrioritizedReplay:
    def __init__(self, capacity: int = 10_000, *, alpha: float = 0.6, beta: float = 0.4, eps: float = 1e-3) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self._leaves = 1 << max(0, (capacity - 1).bit_length())  # a power of two >= capacity
        self._depth = self._leaves.bit_length() - 1
        self._tree = np.zeros(2 * self._leaves, dtype=np.float64)  # node 1 is the root; leaves from _leaves
        self._keys: list[str | None] = [None] * capacity
        self._next = 0
        self._size = 0
        self._max = 1.0  # the highest raw priority (before alpha) seen: what new experience gets

    def __len__(self) -> int:
        return self._size

    @property
    def total(self) -> float:
        return float(self._tree[1])

    def _set(self, slots: np.ndarray, values: np.ndarray) -> None:
        nodes = slots + self._leaves
        self._tree[nodes] = values
        for _ in range(self._depth):
            nodes = np.unique(nodes // 2)
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]

    def add(self, key: str, priority: float | None = None) -> int:
        """Store `key` (at the highest priority so far unless given); returns its slot."""
        slot = self._next
        raw = self._max if priority is None else max(float(priority), 0.0) + self.eps
        self._max = max(self._max, raw)
        self._keys[slot] = key
        self._set(np.array([slot]), np.array([raw**self.alpha]))
        self._next = (slot + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        return slot

    def sample(self, batch: int, rng: np.random.Generator, beta: float | None = None) -> Batch:
        """`batch` draws in proportion to priority (with replacement), stratified over the total."""
        if self._size == 0:
            raise ValueError("the replay buffer is empty")
        total = self._tree[1]
        segment = total / batch
        u = (np.arange(batch) + rng.random(batch)) * segment
        u = np.minimum(u, np.nextafter(total, 0))
        tree = self._tree
        nodes = np.ones(batch, dtype=np.int64)
        for _ in range(self._depth):
            left = 2 * nodes
            go_right = u >= tree[left]
            u = u - np.where(go_right, tree[left], 0.0)
            nodes = left + go_right
        slots = nodes - self._leaves
        # rounding can land a draw on an empty leaf past the filled ones: it takes the last filled slot instead
        slots = np.where(tree[nodes] > 0, slots, self._size - 1)
        probs = tree[slots + self._leaves] / total
        b = self.beta if beta is None else beta
        weights = (self._size * probs) ** -b
        weights = weights / weights.max()
        return Batch(slots, [self._keys[int(s)] or "" for s in slots], weights, probs)

    def update(self, slots: Sequence[int] | np.ndarray, errors: Sequence[float] | np.ndarray) -> None:
        """New priorities from the prediction errors of the experiences at `slots`."""
        slots = np.asarray(slots, dtype=np.int64)
        raw = np.abs(np.asarray(errors, dtype=np.float64)) + self.eps
        self._max = max(self._max, float(raw.max(initial=0.0)))
        # a slot drawn twice in one batch keeps the last error given for it
        last = {int(s): float(r) for s, r in zip(slots, raw, strict=True)}
        self._set(np.fromiter(last, dtype=np.int64), np.fromiter(last.values(), dtype=np.float64) ** self.alpha)

    def priority(self, slot: int) -> float:
        """The raw priority at `slot` (before alpha)."""
        return float(self._tree[slot + self._leaves]) ** (1 / self.alpha) if self.alpha else 1.0

    def state(self) -> list[tuple[int, str, float]]:
        """(slot, key, raw priority) of every filled slot, for storing."""
        return [(s, k, self.priority(s)) for s, k in enumerate(self._keys) if k is not None]

    def load(self, rows: Sequence[tuple[int, str, float]], next_slot: int | None = None) -> None:
        """Fill from `state()` rows (slots beyond the capacity are dropped)."""
        rows = [r for r in rows if 0 <= r[0] < self.capacity]
        for slot, key, _ in rows:
            self._keys[slot] = key
        if rows:
            slots = np.array([r[0] for r in rows], dtype=np.int64)
            raw = np.array([max(r[2], self.eps) for r in rows])
            self._set(slots, raw**self.alpha)
            self._max = max(1.0, float(raw.max()))
        self._size = len(rows)
        self._next = next_slot if next_slot is not None else self._size % self.capacity

    @property
    def next_slot(self) -> int:
        return self._next
