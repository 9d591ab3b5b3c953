"""The regression gate: is a candidate (a new router) at least as good as the current one on the same tasks?

Both are run on the same frozen tasks; each tracked metric is a pass/fail per task (the task passed end to end;
the router made the right decision), so the comparison is paired. McNemar's exact test looks only at the tasks
where the two disagree: under "no difference" the candidate wins each of those with probability 1/2, and the
p-value is the binomial tail. A candidate is promoted when no metric is worse at the chosen significance
(one-sided p < alpha with fewer passes) and the primary metric did not go down (it won at least as many tasks
as it lost); otherwise it is rejected with the reason.
A paired bootstrap of the difference gives the confidence interval that is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def mcnemar(current: Sequence[bool], candidate: Sequence[bool]) -> tuple[int, int, float, float]:
    """(tasks only the candidate passes, tasks only the current passes, two-sided p, one-sided p for "worse")."""
    if len(current) != len(candidate):
        raise ValueError("paired outcomes must be of the same tasks")
    gained = sum(1 for a, b in zip(current, candidate, strict=True) if b and not a)
    lost = sum(1 for a, b in zip(current, candidate, strict=True) if a and not b)
    n = gained + lost
    if n == 0:
        return 0, 0, 1.0, 1.0

    def tail(k: int) -> float:  # P(X <= k), X ~ Binomial(n, 1/2)
        return min(1.0, sum(math.comb(n, i) for i in range(k + 1)) / 2**n)

    two_sided = min(1.0, 2 * tail(min(gained, lost)))
    worse = tail(gained)  # the chance of so few gains (so many losses) if there were no difference
    return gained, lost, two_sided, worse


def bootstrap_ci(
    current: Sequence[bool], candidate: Sequence[bool], *, rounds: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% interval of (candidate pass rate - current pass rate), resampling tasks in pairs."""
    a = np.asarray(current, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if not len(a):
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(rounds, len(a)))
    diffs = (b[idx] - a[idx]).mean(axis=1)
    return float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))


@dataclass
class MetricComparison:
    name: str
    tasks: int
    current: float
    candidate: float
    gained: int
    lost: int
    p_value: float  # two-sided McNemar
    p_worse: float  # one-sided: the candidate is worse
    ci: tuple[float, float]

    def data(self) -> dict[str, Any]:
        return {
            "metric": self.name,
            "tasks": self.tasks,
            "current": round(self.current, 4),
            "candidate": round(self.candidate, 4),
            "gained": self.gained,
            "lost": self.lost,
            "p_value": float(f"{self.p_value:.4g}"),
            "p_worse": float(f"{self.p_worse:.4g}"),
            "ci95": [round(self.ci[0], 4), round(self.ci[1], 4)],
        }


@dataclass
class GateDecision:
    promote: bool
    reason: str
    metrics: list[MetricComparison] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        return {"promote": self.promote, "reason": self.reason, "metrics": [m.data() for m in self.metrics]}


def compare(name: str, current: Sequence[bool], candidate: Sequence[bool]) -> MetricComparison:
    gained, lost, p, worse = mcnemar(current, candidate)
    n = len(current)
    return MetricComparison(
        name,
        n,
        sum(current) / n if n else 0.0,
        sum(candidate) / n if n else 0.0,
        gained,
        lost,
        p,
        worse,
        bootstrap_ci(current, candidate),
    )


def decide(
    metrics: Mapping[str, tuple[Sequence[bool], Sequence[bool]]], *, primary: str, alpha: float = 0.05
) -> GateDecision:
    """Promote when no metric is significantly worse and the primary one did not go down."""
    compared = [compare(name, cur, cand) for name, (cur, cand) in metrics.items()]
    if not compared or all(m.tasks == 0 for m in compared):
        return GateDecision(False, "no evaluation tasks", compared)
    worse = [m for m in compared if m.lost > m.gained and m.p_worse < alpha]
    if worse:
        what = "; ".join(f"{m.name} {m.current:.3f} -> {m.candidate:.3f} (p={m.p_worse:.4f})" for m in worse)
        return GateDecision(False, f"worse at p < {alpha}: {what}", compared)
    main = next((m for m in compared if m.name == primary), compared[0])
    if main.gained < main.lost:
        return GateDecision(
            False,
            f"lower on {main.name} ({main.current:.3f} -> {main.candidate:.3f}, +{main.gained}/-{main.lost})",
            compared,
        )
    change = (
        f"{main.name} {main.current:.3f} -> {main.candidate:.3f} (+{main.gained}/-{main.lost}, p={main.p_value:.3g})"
    )
    return GateDecision(True, f"{change}; no metric worse", compared)
