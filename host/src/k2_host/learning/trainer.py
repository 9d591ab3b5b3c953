"""The learner: experiences in, a better router (and playbook, and proficiency) out, through the gate.

    learner = Learner(store, trajectories, skills, embedder)
    await learner.collect()                     # new experiences from recorded trajectories and feedback
    report = await learner.train(batches=8)     # replayed batches of 32 -> a candidate router version
    decision = await learner.gate(report.candidate, tasks)   # paired test against the current version
    learner.promote(id) / learner.rollback()

What each replayed batch updates (each can be switched off in `learning`):

    router       supervised on corrections and verifier outcomes, imitation of answers rated good: every drawn
                 experience with a target adds (query, target) to the candidate's training pairs, weighted by
                 its importance-sampling weight (summed over the draws), and its priority becomes the current
                 router's error on it, 1 - P(target): what the router already gets right is drawn less
    playbook     a note given with feedback becomes a lesson (about the skill that answered); a lesson in the
                 prompt of an answer rated good counts as helpful, bad as harmful; lessons that harm more than
                 they help are dropped (a model sees the playbook in its stable prompt prefix)
    proficiency  feedback on a skill's answer is one more observation of that skill (good: a success)

A candidate router is the library's router (descriptions, shipped examples and triggers) plus its pairs; it
becomes the one requests use only when the gate promotes it. `k2 learn rollback` makes the previous version
current again (or the shipped router when there is none).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from k2_host.engine.offline import decision
from k2_host.learning.experience import NO_SKILL, Experience, from_trajectory, normalized
from k2_host.learning.experiences import ExperienceStore
from k2_host.learning.gate import GateDecision, decide

if TYPE_CHECKING:
    from k2_host.learning.store import TrajectoryStore
    from k2_host.rag.embeddings import LazyEmbedder
    from k2_host.skills import SkillRouter, Skills

MIN_WEIGHT, MAX_WEIGHT = 0.5, 3.0
MAX_LESSONS = 50


@dataclass
class TrainReport:
    collected: int = 0
    replay_size: int = 0
    batches: int = 0
    drawn: int = 0
    labelled_drawn: int = 0
    mean_error: float = 0.0  # the current router's mean error on the labelled draws (before the update)
    pairs: int = 0  # the candidate's learned pairs
    new_pairs: int = 0
    candidate: int | None = None
    lessons: int = 0
    reason: str = ""

    def data(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class GateTask:
    """One frozen evaluation task: the query and the skill that should answer it (None: the plans), and whether
    that skill's run passes the task's verifier (None: route only, no verifier)."""

    query: str
    target: str | None
    verified: bool | None = None
    source: str = ""


@dataclass
class Evaluation:
    decisions: dict[str, list[str | None]] = field(default_factory=dict)  # router label -> one decision per task
    gate: GateDecision | None = None


class Learner:
    def __init__(
        self,
        store: ExperienceStore,
        trajectories: TrajectoryStore | None,
        skills: Skills,
        embedder: LazyEmbedder,
        *,
        learn_router: bool = True,
        learn_playbook: bool = True,
        learn_proficiency: bool = True,
        alpha: float = 0.05,
    ) -> None:
        self.store = store
        self.trajectories = trajectories
        self.skills = skills
        self.embedder = embedder
        self.learn_router = learn_router
        self.learn_playbook = learn_playbook
        self.learn_proficiency = learn_proficiency
        self.alpha = alpha

    # ------------------------------------------------------------------------------------------ collect

    def difficulty(self, name: str) -> str:
        skill = self.skills.registry.get(name)
        return skill.difficulty if skill is not None else ""

    async def collect(self) -> list[Experience]:
        """Experiences from the trajectories recorded and the feedback given since the last collection."""
        if self.trajectories is None:
            return []
        mark = float(self.store.meta("collected_at") or 0.0)
        feedback = await self.trajectories.feedback_since(mark)
        recorded = await self.trajectories.since(mark)
        fresh = {t.id for t in recorded}
        by_trajectory: dict[str, list[Any]] = {}
        for f in feedback:
            by_trajectory.setdefault(f.trajectory_id, []).append(f)
        found: list[Experience] = []
        for tid in [*fresh, *(t for t in by_trajectory if t not in fresh)]:
            t = await self.trajectories.get(tid)
            if t is None or t.depth > 0:  # a sub-agent's request is part of its parent's answer
                continue
            found += from_trajectory(t, by_trajectory.get(tid, []), self.difficulty, automatic=tid in fresh)
        latest = max([mark, *(f.at for f in feedback), *(t.started_at for t in recorded)])
        new = self.add(found)
        self.store.set_meta("collected_at", repr(latest))
        return new

    def add(self, experiences: Sequence[Experience]) -> list[Experience]:
        """Store experiences (from collection, or verifiers run by the caller) and apply what they say at once
        to proficiency and the playbook."""
        new = self.store.add(list(experiences))
        for e in new:
            if self.learn_proficiency and e.source in ("feedback", "correction") and e.used:
                metrics = self.skills.metrics
                if metrics is not None:
                    good = e.reward > 0 and (e.target in (None, e.used))
                    metrics.record(
                        e.used,
                        ok=good,
                        reason="" if good else "rated_bad",
                        difficulty=self.difficulty(e.used),
                        chosen_by="feedback",
                    )
            if self.learn_playbook and e.source in ("feedback", "correction"):
                self._playbook(e)
        return new

    def _playbook(self, e: Experience) -> None:
        skill = e.target if e.target not in (None, NO_SKILL) else (e.used or "")
        for lesson in self.store.lessons():  # the lessons that were in the prompt when this answer was given
            if lesson.created < e.at and lesson.skill in ("", skill) and lesson.origin != e.id:
                self.store.count_lesson(lesson.id, helpful=e.reward > 0)
        if e.note.strip():
            self.store.add_lesson(e.note.strip()[:400], skill, e.id)
        lessons = self.store.lessons()
        for lesson in lessons:
            if lesson.harmful >= lesson.helpful + 2:
                self.store.drop_lesson(lesson.id)
        kept = sorted(self.store.lessons(), key=lambda x: (-x.score, -x.id))
        for lesson in kept[MAX_LESSONS:]:
            self.store.drop_lesson(lesson.id)

    # ------------------------------------------------------------------------------------------ routers

    def current_pairs(self) -> list[tuple[str, str, float]]:
        v = self.store.current_version()
        return list(v.pairs) if v is not None else []

    def router(self, pairs: Sequence[tuple[str, str, float]]) -> SkillRouter:
        return self.skills.make_router(self.embedder, pairs)

    async def _embed(self, texts: list[str]) -> np.ndarray:
        vecs = await self.embedder.embed_documents(texts)
        if vecs is None:
            raise RuntimeError("the embedding model is not available; the router cannot be trained")
        return vecs

    async def decisions(self, router: SkillRouter, queries: Sequence[str]) -> list[str | None]:
        """What the offline engine would do with each query under `router` (the skill, or None: the plans)."""
        if not queries:
            return []
        if not await router.prepare():
            raise RuntimeError("the embedding model is not available; the router cannot be evaluated")
        vecs = await self._embed(list(queries))
        probs = router.probabilities(vecs, list(queries))
        out: list[str | None] = []
        by_name = {s.name: s for s in self.skills.registry}
        from k2_host.skills import Route

        for row in probs:
            chosen, p, _, _ = router.pick(row)
            out.append(decision(Route(by_name[chosen] if chosen else None, p)))
        return out

    # ------------------------------------------------------------------------------------------ train

    async def train(
        self,
        *,
        batches: int = 8,
        batch_size: int = 32,
        seed: int | None = None,
        collect: bool = True,
        on_batch: Callable[[int, int], None] | None = None,
        label_noise: Callable[[str | None], str | None] | None = None,
    ) -> TrainReport:
        """Replay `batches` prioritized batches and store what they teach as a candidate router version.

        `label_noise` (for the gate's own test) rewrites each drawn target, to make a deliberately wrong candidate."""
        report = TrainReport()
        if collect:
            report.collected = len(await self.collect())
        replay = self.store.replay
        report.replay_size = len(replay)
        if not self.learn_router:
            report.reason = "learning.learn_router is off"
            return report
        if not len(replay):
            report.reason = "no experiences to learn from yet: rate answers with `k2 feedback good|bad`"
            return report
        base = self.current_pairs()
        current = self.router(base)
        if not await current.prepare():
            raise RuntimeError("the embedding model is not available; the router cannot be trained")
        rng = np.random.default_rng(seed)
        learned: dict[str, tuple[str, str, float, float]] = {}  # key -> (query, target, weight, at)
        errors_seen: list[float] = []
        beta0 = replay.beta
        for k in range(batches):
            beta = beta0 + (1.0 - beta0) * (k / max(1, batches - 1))  # annealed towards 1
            batch = replay.sample(batch_size, rng, beta=beta)
            found = self.store.get_many(batch.keys)
            exps = [found.get(key) for key in batch.keys]
            labelled = [(i, e) for i, e in enumerate(exps) if e is not None and e.target is not None]
            errors = np.array([0.5 * abs(e.reward) if e is not None else 0.0 for e in exps])
            if labelled:
                queries = [e.query for _, e in labelled]
                probs = current.probabilities(await self._embed(queries), queries)
                for (i, e), row in zip(labelled, probs, strict=True):
                    target = e.target if label_noise is None else label_noise(e.target)
                    if target is None:
                        continue
                    label = None if target == NO_SKILL else target
                    err = 1.0 - current.probability_of(row, label)
                    errors[i] = err
                    errors_seen.append(err)
                    key = normalized(e.query)
                    prev = learned.get(key)
                    weight = float(batch.weights[i]) + (prev[2] if prev and prev[1] == target else 0.0)
                    if prev is None or e.at >= prev[3]:  # the latest word on a query wins
                        learned[key] = (e.query, target, weight, e.at)
            self.store.update_priorities(batch.slots, errors)
            report.batches += 1
            report.drawn += len(exps)
            report.labelled_drawn += len(labelled)
            if on_batch is not None:
                on_batch(k + 1, batches)
        report.mean_error = float(np.mean(errors_seen)) if errors_seen else 0.0
        merged = {normalized(q): (q, t, w) for q, t, w in base}
        base_keys = set(merged)
        for key, (q, t, w, _) in learned.items():
            merged[key] = (q, t, float(np.clip(w, MIN_WEIGHT, MAX_WEIGHT)))
        pairs = list(merged.values())
        report.pairs = len(pairs)
        report.new_pairs = sum(1 for key in learned if key not in base_keys)
        report.lessons = len(self.store.lessons())
        if not learned:
            report.reason = "the replayed experiences name no skill to learn (rate answers good, or correct them)"
            return report
        report.candidate = self.store.add_version(
            "candidate", pairs, {"trained_at": time.time(), **report.data()}, "trained; not yet gated"
        )
        return report

    # ------------------------------------------------------------------------------------------ gate

    def user_tasks(self) -> list[GateTask]:
        """The user's own labelled requests of the test split (never trained on), route only."""
        out = []
        seen: set[str] = set()
        for e in reversed(self.store.experiences(split="test", labelled=True)):
            key = normalized(e.query)
            if key in seen:
                continue
            seen.add(key)
            out.append(GateTask(e.query, None if e.target == NO_SKILL else e.target, None, "your requests"))
        return out

    async def evaluate(
        self, candidate: Sequence[tuple[str, str, float]], tasks: Sequence[GateTask], *, primary: str = "pass"
    ) -> Evaluation:
        """The current and the candidate router on the same tasks; the gate's decision."""
        queries = [t.query for t in tasks]
        ev = Evaluation()
        ev.decisions["current"] = await self.decisions(self.router(self.current_pairs()), queries)
        ev.decisions["candidate"] = await self.decisions(self.router(candidate), queries)
        metrics: dict[str, tuple[list[bool], list[bool]]] = {}
        by_source: dict[str, list[int]] = {}
        for i, t in enumerate(tasks):
            by_source.setdefault(t.source or "tasks", []).append(i)
        for source, idx in by_source.items():
            cur = [ev.decisions["current"][i] == tasks[i].target for i in idx]
            cand = [ev.decisions["candidate"][i] == tasks[i].target for i in idx]
            metrics[f"route ({source})"] = (cur, cand)
            verified = [i for i in idx if tasks[i].verified is not None]
            if verified:
                metrics[f"pass ({source})"] = (
                    [ev.decisions["current"][i] == tasks[i].target and bool(tasks[i].verified) for i in verified],
                    [ev.decisions["candidate"][i] == tasks[i].target and bool(tasks[i].verified) for i in verified],
                )
        main = next((m for m in metrics if m.startswith(primary)), next(iter(metrics), ""))
        ev.gate = decide(metrics, primary=main, alpha=self.alpha)
        return ev

    async def gate(self, vid: int, tasks: Sequence[GateTask], *, primary: str = "pass") -> GateDecision:
        """Evaluate candidate `vid` and promote it or reject it (kept, with the reason)."""
        version = self.store.version(vid)
        if version is None:
            raise ValueError(f"no router version {vid}; see `k2 learn status`")
        ev = await self.evaluate(version.pairs, tasks, primary=primary)
        assert ev.gate is not None
        report = {**version.report, "gate": ev.gate.data()}
        self.store.update_report(vid, report)
        if ev.gate.promote:
            self.promote(vid, reason=ev.gate.reason)
        else:
            self.store.set_status(vid, "rejected", ev.gate.reason)
        return ev.gate

    def promote(self, vid: int, *, reason: str = "promoted by hand") -> None:
        version = self.store.version(vid)
        if version is None:
            raise ValueError(f"no router version {vid}; see `k2 learn status`")
        self.store.set_status(vid, "current", reason)
        self.skills.use_router(None, version.pairs)

    def rollback(self) -> int | None:
        """Retire the current version; the one current before it (or the shipped router) routes again."""
        versions = self.store.versions()
        current = next((v for v in reversed(versions) if v.status == "current"), None)
        if current is None:
            raise ValueError("nothing to roll back: requests use the shipped router")
        previous = next(
            (
                v
                for v in reversed(versions)
                if v.id < current.id and v.status == "retired" and "rolled back" not in v.reason
            ),
            None,
        )
        self.store.set_status(current.id, "retired", "rolled back")
        if previous is not None:
            self.store.set_status(previous.id, "current", "current again after a rollback")
        self.skills.use_router(None, previous.pairs if previous is not None else [])
        return previous.id if previous is not None else None
