"""The offline skill router: which skill (if any) a request is for, in a few milliseconds, without a model.

A small classifier (multinomial logistic regression, scikit-learn) over two views of a request: its sentence
embedding (all-MiniLM-L6-v2, as everywhere offline) and TF-IDF weights of its words, word pairs and character
3-5-grams (the words users say: "jwt", "cron", "regex", "lockfile", "%E2%9C%93"), with markers for a URL, the
file types named and quoted text. It is trained on each skill's description (whole, per sentence and per
"Use when" clause), the
queries of its shipped examples (`assets/examples.json`), the requests its `assets/routing.json` lists as for it
("for") and as near misses no skill takes ("not_for": questions about its topic that need no tool), and labelled
requests (`teach`): the ones shipped with
the host (`triggers.jsonl`, the dev half of the trigger set in `bench/skills_triggers/`; the held-out half is
never trained on) and what the training layer replays from trajectories. Requests labelled "no skill" (near
misses) are a class of their own. The answer is the most probable class when it is a skill and its probability
reaches the threshold; otherwise no skill, which is an answer too (the offline engine's plans take the request).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from k2_host.skills.model import Skill

if TYPE_CHECKING:
    import numpy as np

Embed = Callable[[list[str]], Awaitable["np.ndarray | None"]]

NONE = "__none__"
THRESHOLD = 0.18  # chosen by cross-validation on the trigger set's dev half (bench/bench_skill_router.py)
NONE_WEIGHT = 2.0  # a taught "no skill" request counts twice (unless weights are given): near misses are rarer
CLAUSE_WEIGHT = 0.5  # each "Use when ..." clause of a description, a short training text of its own
REQUEST_WEIGHT = 1.0  # each request of a skill's assets/routing.json ("for": the skill; "not_for": no skill)
TFIDF_WEIGHT = 1.0
C = 128.0
_URL = re.compile(r"https?://\S+")
_EXT = re.compile(r"\.([a-z0-9]{1,6})\b")


def signals(text: str) -> str:
    """The text the TF-IDF view sees: URLs replaced by a marker, markers for file types and quoted text."""
    extra = ["zzurl"] if _URL.search(text) else []
    rest = _URL.sub(" ", text)
    extra += [f"zzext{m.group(1)}" for m in _EXT.finditer(rest.lower())]
    if any(q in text for q in "`'\""):
        extra.append("zzquoted")
    return f"{rest} {' '.join(extra)}"


def numpy() -> Any:
    """numpy, imported when the router first fits or picks (not for a host that never routes)."""
    import numpy as np

    return np


@dataclass(frozen=True)
class Route:
    skill: Skill | None
    score: float  # the chosen (or best) skill's probability
    runner_up: str | None = None
    runner_up_score: float = 0.0
    ms: float = 0.0


def _sentences(text: str) -> list[str]:
    return [x for x in re.split(r"(?<=[.!?])\s+", text) if len(x.split()) >= 3]


def _clauses(text: str) -> list[str]:
    """The situations a description's "Use when ..." sentence lists, one text each (3 words or more)."""
    m = re.search(r"Use (?:it )?when (.*)", text)
    if not m:
        return []
    parts = re.split(r",\s*(?:or\s+)?|;\s*|\s+or\s+", m.group(1))
    return [x.strip(" .") for x in parts if len(x.split()) >= 3]


def _examples(skill: Skill) -> list[str]:
    path = skill.path / "assets" / "examples.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        str(e["query"]).replace("{url}", "https://example.org/page")
        for e in data
        if isinstance(e, dict) and e.get("query") and e.get("exit") != 2
    ]


def _routing(skill: Skill) -> tuple[list[str], list[str]]:
    """The requests a skill's `assets/routing.json` lists as for it and as near misses no skill takes."""
    path = skill.path / "assets" / "routing.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], []
    if not isinstance(data, dict):
        return [], []
    return [str(q) for q in data.get("for", []) if q], [str(q) for q in data.get("not_for", []) if q]


def shipped_triggers() -> list[tuple[str, str | None]]:
    """The labelled requests shipped with the host (the dev half of the trigger set)."""
    try:
        text = resources.files("k2_host.skills").joinpath("triggers.jsonl").read_text(encoding="utf-8")
    except OSError:
        return []
    return [(r["query"], r["expect"]) for r in map(json.loads, filter(str.strip, text.splitlines()))]


class SkillRouter:
    def __init__(
        self,
        skills: Sequence[Skill],
        embed: Embed,
        *,
        threshold: float = THRESHOLD,
        tfidf_weight: float = TFIDF_WEIGHT,
        c: float = C,
    ) -> None:
        self.skills = list(skills)
        self.embed = embed
        self.threshold = threshold
        self.tfidf_weight = tfidf_weight
        self.c = c
        self._by_name = {s.name: s for s in self.skills}
        self._texts: list[str] = []
        self._labels: list[str] = []
        self._weights: list[float] = []
        for s in self.skills:
            for text in [s.description, *(_sentences(s.description) if len(_sentences(s.description)) > 1 else [])]:
                self._add(text, s.name)
            for text in _clauses(s.description):
                self._add(text, s.name, CLAUSE_WEIGHT)
            for q in _examples(s):
                self._add(q, s.name)
            yes, no = _routing(s)
            for q in yes:
                self._add(q, s.name, REQUEST_WEIGHT)
            for q in no:
                self._add(q, NONE, REQUEST_WEIGHT)
        self._clf: Any = None
        self._vec: Any = None
        self._ready = False

    def _add(self, text: str, label: str, weight: float = 1.0) -> None:
        self._texts.append(text)
        self._labels.append(label)
        self._weights.append(weight)

    def teach(self, pairs: Sequence[tuple[str, str | None]], weights: Sequence[float] | None = None) -> int:
        """Add (request, skill name or None) examples, each with a weight (unless given: 1, NONE_WEIGHT for None);
        returns how many were used (unknown names are skipped)."""
        used = 0
        for n, (query, name) in enumerate(pairs):
            if name is not None and name not in self._by_name:
                continue
            default = 1.0 if name else NONE_WEIGHT
            self._add(query, name or NONE, default if weights is None else float(weights[n]))
            used += 1
        self._ready = False
        return used

    @property
    def size(self) -> int:
        """How many labelled texts it is trained on."""
        return len(self._texts)

    async def prepare(self) -> bool:
        """Embed the training texts (cached on disk by the embedder) and fit; False when no model is available."""
        if self._ready:
            return self._clf is not None
        self._ready = True
        if len({*self._labels}) < 2:
            return False
        vecs = await self.embed(self._texts)
        if vecs is None:
            return False
        self.fit(vecs)
        return True

    def _features(self, vecs: np.ndarray, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        sparse = self._vec.transform([signals(t) for t in texts])
        return hstack([csr_matrix(vecs), sparse * self.tfidf_weight]).tocsr()

    def fit(self, vecs: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
        self._vec = FeatureUnion([("words", words), ("chars", chars)]).fit([signals(t) for t in self._texts])
        self._clf = LogisticRegression(C=self.c, max_iter=3000).fit(
            self._features(vecs, self._texts), self._labels, sample_weight=numpy().asarray(self._weights)
        )
        self._classes: list[str] = list(self._clf.classes_)

    def probabilities(self, qvecs: np.ndarray, queries: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per query, columns in `self._classes` order."""
        return self._clf.predict_proba(self._features(qvecs, queries))

    def pick(self, probs: np.ndarray, threshold: float | None = None) -> tuple[str | None, float, str | None, float]:
        """(chosen skill or None, its probability, runner-up skill, its probability) from one row."""
        t = self.threshold if threshold is None else threshold
        order = numpy().argsort(-probs)
        skills = [int(i) for i in order if self._classes[int(i)] != NONE][:2]
        top = int(order[0])
        best, best_p = self._classes[skills[0]], float(probs[skills[0]])
        second: str | None = self._classes[skills[1]] if len(skills) > 1 else None
        second_p = float(probs[skills[1]]) if len(skills) > 1 else 0.0
        chosen = best if self._classes[top] != NONE and best_p >= t else None
        return chosen, best_p, second, second_p

    def probability_of(self, probs: np.ndarray, label: str | None) -> float:
        """The probability a row gives `label` (a skill name; None for "no skill")."""
        name = label or NONE
        return float(probs[self._classes.index(name)]) if name in self._classes else 0.0

    async def route(self, query: str) -> Route:
        t0 = time.perf_counter()
        if not self.skills or not await self.prepare():
            return Route(None, 0.0)
        vecs = await self.embed([query])
        if vecs is None:
            return Route(None, 0.0)
        return self.decide(vecs[0], query, t0)

    def decide(self, qvec: np.ndarray, query: str, t0: float | None = None) -> Route:
        t0 = time.perf_counter() if t0 is None else t0
        chosen, p, second, p2 = self.pick(self.probabilities(qvec[None, :], [query])[0])
        skill = self._by_name[chosen] if chosen else None
        return Route(skill, p, second, p2, (time.perf_counter() - t0) * 1000)
