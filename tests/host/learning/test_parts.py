"""The training layer's parts on their own: the replay buffer, the paired test and gate, the curriculum,
experiences from trajectories and feedback, and the stores (persistence, migration, sealing)."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from k2_host.learning.curriculum import Curriculum
from k2_host.learning.experience import NO_SKILL, Experience, from_trajectory, split_of
from k2_host.learning.experiences import ExperienceStore
from k2_host.learning.gate import bootstrap_ci, decide, mcnemar
from k2_host.learning.replay import PrioritizedReplay
from k2_host.learning.store import Feedback, SQLiteTrajectoryStore
from k2_host.learning.trajectory import ToolCallTrace, Trajectory
from k2_host.results import SkillUse

# ------------------------------------------------------------------------------------------------ replay


def test_draws_follow_the_priorities_and_weights_undo_the_bias() -> None:
    buf = PrioritizedReplay(8, alpha=1.0, eps=0.0)
    for i, p in enumerate([1, 2, 3, 4]):
        buf.add(f"e{i}", priority=p)
    rng = np.random.default_rng(7)
    counts = np.zeros(4)
    for _ in range(4000):
        b = buf.sample(32, rng)
        np.add.at(counts, b.slots, 1)
    assert np.allclose(counts / counts.sum(), [0.1, 0.2, 0.3, 0.4], atol=0.01)
    b = buf.sample(32, rng, beta=1.0)
    # w = (N * P)^-1 / max: the rarest draw (P = 0.1) weighs 1, the commonest (P = 0.4) a quarter
    by_slot = {int(s): float(w) for s, w in zip(b.slots, b.weights, strict=True)}
    assert by_slot.get(0, 1.0) == pytest.approx(1.0) and by_slot[3] == pytest.approx(0.25)


def test_new_experience_comes_in_at_the_highest_priority_and_updates_move_it() -> None:
    buf = PrioritizedReplay(16, alpha=1.0, eps=0.0)
    buf.add("a", priority=5.0)
    buf.add("b")  # the highest seen so far
    assert buf.priority(1) == pytest.approx(5.0)
    buf.update([0, 1], [0.0, 2.0])
    assert buf.priority(0) == pytest.approx(0.0) and buf.priority(1) == pytest.approx(2.0)
    assert buf.total == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    assert set(buf.sample(32, rng).keys) == {"b"}  # a zero-priority slot is never drawn


def test_a_full_buffer_writes_over_its_oldest_slot_and_keeps_its_size() -> None:
    buf = PrioritizedReplay(10_000)
    for i in range(10_500):
        buf.add(f"e{i}")
    assert len(buf) == 10_000
    keys = {k for _, k, _ in buf.state()}
    assert "e0" not in keys and "e499" not in keys and {"e500", "e10499"} <= keys
    b = buf.sample(32, np.random.default_rng(1))
    assert len(b.keys) == 32 and all(k in keys for k in b.keys)
    assert np.all(b.weights <= 1.0) and b.weights.max() == pytest.approx(1.0)


def test_the_buffer_refuses_to_sample_when_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        PrioritizedReplay(4).sample(32, np.random.default_rng(0))


def test_the_buffer_and_its_priorities_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "k2.sqlite"
    store = ExperienceStore(path, capacity=64)
    exps = [
        Experience(id=f"e{i}", query=f"request number {i}", target="file-checksums", reward=1.0, source="verifier")
        for i in range(40)
    ]
    new = store.add(exps)
    assert len(new) == 40 and store.add(exps[:5]) == []  # the same experience is stored once
    train = [e for e in exps if e.split == "train"]
    assert len(store.replay) == len(train) > 0
    store.update_priorities(np.array([0, 1]), np.array([0.0, 3.0]))
    before = sorted(store.replay.state())
    store.close()
    again = ExperienceStore(path, capacity=64)
    after = sorted(again.replay.state())
    assert [(s, k) for s, k, _ in after] == [(s, k) for s, k, _ in before]
    assert [p for _, _, p in after] == pytest.approx([p for _, _, p in before])
    again.add([Experience(id="late", query="one more request", reward=-1.0, source="feedback", split="train")])
    assert ("late" in {k for _, k, _ in again.replay.state()}) and len(again.replay) == len(train) + 1
    again.close()


# ------------------------------------------------------------------------------------------------ gate


def test_mcnemar_is_the_exact_binomial_tail_of_the_disagreements() -> None:
    current = [True] * 10 + [False] * 10 + [True] * 2
    candidate = [True] * 10 + [True] * 10 + [False] * 2
    gained, lost, p, worse = mcnemar(current, candidate)
    assert (gained, lost) == (10, 2)
    tail = sum(math.comb(12, i) for i in range(3)) / 2**12
    assert p == pytest.approx(2 * tail) and p < 0.05
    assert worse == pytest.approx(1 - 13 / 2**12)  # P(X <= 10): so many gains are no sign of "worse"
    assert mcnemar(candidate, current)[3] == pytest.approx(tail)  # swapped: the candidate loses 10 of 12
    assert mcnemar([True, False], [True, False])[2:] == (1.0, 1.0)
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_the_gate_blocks_a_worse_candidate_and_one_with_no_gain() -> None:
    cur = [True] * 40 + [False] * 10
    better = [True] * 50
    worse = [False] * 20 + [True] * 20 + [False] * 10
    ok = decide({"pass": (cur, better), "route": (cur, better)}, primary="pass")
    assert ok.promote and "no metric worse" in ok.reason
    blocked = decide({"pass": (cur, better), "route": (cur, worse)}, primary="pass")
    assert not blocked.promote and "route" in blocked.reason and "worse" in blocked.reason
    lower = decide({"pass": (cur, [True] * 38 + [False] * 12)}, primary="pass")  # -2: not significant, but down
    assert not lower.promote and "lower on pass" in lower.reason
    assert decide({"pass": (cur, cur)}, primary="pass").promote  # not worse: more data, same results
    lo, hi = bootstrap_ci(cur, better)
    assert 0.0 < lo <= 0.2 <= hi


# ------------------------------------------------------------------------------------------------ curriculum


def test_the_curriculum_moves_up_a_level_once_the_one_below_is_mastered() -> None:
    cur = Curriculum(band=(0.2, 0.85), min_seen=4, review=0.25)
    tasks = [f"t{i}" for i in range(30)]
    levels = ["easy"] * 10 + ["medium"] * 10 + ["hard"] * 10
    rng = np.random.default_rng(0)
    assert cur.level(levels) == "easy"
    drawn = cur.draw(tasks, levels, 8, rng)
    assert all(levels[tasks.index(t)] == "easy" for t in drawn)
    for _ in range(6):
        cur.record("easy", True)
    assert cur.level(levels) == "medium"
    drawn = cur.draw(tasks, levels, 8, rng)
    lv = [levels[tasks.index(t)] for t in drawn]
    assert lv.count("medium") == 6 and lv.count("easy") == 2  # a quarter is review
    for _ in range(8):
        cur.record("medium", False)  # far below the band: consolidate the level below
    lv = [levels[tasks.index(t)] for t in cur.draw(tasks, levels, 8, rng)]
    assert set(lv) == {"easy"}


# ------------------------------------------------------------------------------------------------ experience


def _trajectory(**kw: object) -> Trajectory:
    base: dict[str, object] = {"id": "r1", "query": "sha256 of setup.py", "engine": "offline", "started_at": 1.0}
    return Trajectory.model_validate({**base, **kw})


def test_feedback_and_checks_become_experiences_with_targets_and_rewards() -> None:
    level = {"file-checksums": "easy", "code-outline": "easy"}.get
    t = _trajectory(skill=SkillUse(name="code-outline", chosen_by="router", score=0.7))
    fb = [
        Feedback(trajectory_id="r1", rating="bad", note="I asked for a digest", skill="file-checksums", at=5.0),
        Feedback(trajectory_id="r1", rating="good", at=6.0),
    ]
    exps = from_trajectory(t, fb, lambda n: level(n) or "")
    assert [(e.source, e.target, e.reward) for e in exps] == [
        ("correction", "file-checksums", -1.0),
        ("feedback", "code-outline", 1.0),  # imitation: the skill that answered was right
    ]
    assert exps[0].used == "code-outline" and exps[0].difficulty == "easy" and exps[0].note == "I asked for a digest"
    plans = _trajectory(id="r2", skill=None)
    assert from_trajectory(plans, [Feedback(trajectory_id="r2", rating="good", at=2.0)], str)[0].target == NO_SKILL
    model = _trajectory(id="r3", engine="openai")
    assert from_trajectory(model, [Feedback(trajectory_id="r3", rating="good", at=2.0)], str)[0].target is None
    failing = _trajectory(
        id="r4",
        stopped="max_steps",
        tool_calls=[ToolCallTrace(id="c", name="filesystem.read_file", step=0, source="mcp", is_error=True)],
        skill=SkillUse(name="profile-table", chosen_by="router", ok=False, reason="bad_input"),
    )
    auto = from_trajectory(failing, [], str)
    assert sorted(e.source for e in auto) == ["budget", "skill_error", "tool_error"]
    assert all(e.reward == -0.5 and e.target is None for e in auto)
    assert from_trajectory(failing, [], str, automatic=False) == []
    # one feedback is one experience however often it is collected
    assert from_trajectory(t, fb[:1], str)[0].id == from_trajectory(t, fb, str)[0].id


def test_the_split_is_a_stable_hash_of_the_query() -> None:
    queries = [f"what is the checksum of file{i}.txt" for i in range(2000)]
    tests = [q for q in queries if split_of(q) == "test"]
    assert 0.15 < len(tests) / len(queries) < 0.25
    assert split_of("  What IS the checksum of FILE1.txt ") == split_of("what is the checksum of file1.txt")


# ------------------------------------------------------------------------------------------------ few-shot examples


class _WordEmbedder:
    """Bag-of-words rows (normalised), and the texts it was asked to embed."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def _row(self, text: str) -> np.ndarray:
        v = np.zeros(1024, dtype=np.float32)
        for w in text.lower().split():
            v[int.from_bytes(hashlib.sha256(w.encode()).digest()[:2], "big") % 1024] += 1.0
        return v / np.linalg.norm(v)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.stack([self._row(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._row(text)


def _good(eid: str, tid: str, query: str, at: float, reward: float = 1.0) -> Experience:
    return Experience(id=eid, trajectory_id=tid, query=query, reward=reward, source="feedback", at=at)


@pytest.mark.anyio
async def test_few_shot_reads_only_new_good_experiences_and_embeds_only_new_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from k2_host.learning.examples import FewShot
    from k2_host.learning.store import MemoryTrajectoryStore
    from k2_host.rag.embeddings import LazyEmbedder

    store, trajectories, model = ExperienceStore(None), MemoryTrajectoryStore(), _WordEmbedder()
    for tid, query, answer in [("r1", "sha256 of setup.py", "abc123"), ("r2", "outline of main.py", "def main")]:
        await trajectories.add(_trajectory(id=tid, query=query, answer=answer))
    await trajectories.add(_trajectory(id="r3", query="Outline of  MAIN.py", answer="def main():"))
    await trajectories.add(_trajectory(id="r4", query="crc of data.csv", answer="1a2b"))
    few = FewShot(store, trajectories, LazyEmbedder(lambda: model))
    reads: list[float | None] = []
    good = store.good

    def spy(since: float | None = None) -> list[Experience]:
        reads.append(since)
        return good(since)

    monkeypatch.setattr(store, "good", spy)

    assert not few.available() and await few.search("sha256 of setup.py", 3) == []
    store.add([_good("e1", "r1", "sha256 of setup.py", 10.0), _good("bad", "r2", "outline of main.py", 11.0, -1.0)])
    assert few.available() and few.available()  # the second call finds nothing new: no rows are read
    assert reads == [None, None]
    found = await few.search("sha256 of setup.py", 3)
    assert [(e.citation, round(e.score, 3)) for e in found] == [("example (request r1)", 1.0)]
    assert "Answer: abc123" in found[0].text and model.asked == ["sha256 of setup.py"]

    store.add([_good("e2", "r2", "outline of main.py", 12.0)])  # new: read from the last time read on
    assert few.available() and reads[-1] == 10.0
    assert [e.citation for e in await few.search("outline of main.py", 3)] == ["example (request r2)"]
    assert model.asked == ["sha256 of setup.py", "outline of main.py"]  # the first one was not embedded again

    store.add([_good("e3", "r4", "crc of data.csv", 11.5)])  # earlier than the last one read: all read again
    assert few.available() and reads[-2:] == [12.0, None]
    assert [e.citation for e in await few.search("crc of data.csv", 3)] == ["example (request r4)"]
    store.add([_good("e4", "r3", "Outline of  MAIN.py", 13.0)])  # the same request (normalised): its latest word
    assert few.available() and reads[-1] == 12.0
    latest = await few.search("outline of main.py", 3)
    assert [e.citation for e in latest] == ["example (request r3)"] and "Answer: def main():" in latest[0].text
    assert few._good_ids() == [("r1", "sha256 of setup.py"), ("r4", "crc of data.csv"), ("r3", "Outline of  MAIN.py")]
    fresh = FewShot(store, trajectories, LazyEmbedder(_WordEmbedder))  # reading everything at once: the same
    assert fresh.available() and fresh._good_ids() == few._good_ids()


@pytest.mark.anyio
async def test_few_shot_without_an_embedding_model_recalls_nothing() -> None:
    from k2_host.learning.examples import FewShot
    from k2_host.learning.store import MemoryTrajectoryStore
    from k2_host.rag.embeddings import LazyEmbedder

    def cannot_load() -> _WordEmbedder:
        raise OSError("no weights here")

    store, trajectories = ExperienceStore(None), MemoryTrajectoryStore()
    await trajectories.add(_trajectory(id="r1", answer="abc123"))
    store.add([_good("e1", "r1", "sha256 of setup.py", 10.0)])
    lazy = LazyEmbedder(cannot_load)
    few = FewShot(store, trajectories, lazy)
    assert few.available() and await few.search("sha256 of setup.py", 3) == []
    assert await lazy.embed_documents(["x"]) is None and await lazy.embed_query("x") is None
    assert lazy.error == "OSError: no weights here"


# ------------------------------------------------------------------------------------------------ stores


@pytest.mark.anyio
async def test_a_feedback_table_from_before_corrections_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "k2.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE feedback (trajectory_id TEXT NOT NULL, at REAL NOT NULL, rating TEXT NOT NULL,"
        " note TEXT NOT NULL, by TEXT NOT NULL);"
    )
    con.close()
    store = SQLiteTrajectoryStore(path)
    await store.add(_trajectory())
    assert await store.add_feedback(Feedback(trajectory_id="r1", rating="bad", skill="file-checksums", at=3.0))
    assert not await store.add_feedback(Feedback(trajectory_id="nope", rating="good"))
    got = await store.feedback_since(0.0)
    assert [(f.trajectory_id, f.skill) for f in got] == [("r1", "file-checksums")]
    assert await store.feedback_since(3.0) == []
    assert [t.id for t in await store.since(0.5)] == ["r1"] and await store.since(1.0) == []
    store.close()


def test_versions_and_lessons_are_kept_sealed(tmp_path: Path) -> None:
    from k2_host.sealing import KeyRing, Sealer

    sealer = Sealer(KeyRing.load(tmp_path / "key", create=True))
    assert sealer.encrypting
    path = tmp_path / "k2.sqlite"
    store = ExperienceStore(path, sealer=sealer)
    vid = store.add_version("candidate", [("my secret project query", "file-checksums", 1.0)], {"x": 1})
    lid = store.add_lesson("dates are in UTC", "date-calculator", "e1")
    assert store.add_lesson("Dates are in UTC ", "date-calculator", "e2") is None  # the same lesson, counted
    assert store.lessons()[0].helpful == 1
    store.set_status(vid, "current")
    current = store.current_version()
    assert current is not None and current.pairs[0][0] == "my secret project query"
    store.close()
    raw = path.read_bytes()
    assert b"my secret project query" not in raw and b"dates are in UTC" not in raw
    assert lid is not None


def test_review_fills_a_draw_the_working_level_cannot() -> None:
    cur = Curriculum(min_seen=2)
    levels = ["easy"] * 20 + ["hard"] * 3
    tasks = list(range(len(levels)))
    for _ in range(4):
        cur.record("easy", True)
    drawn = cur.draw(tasks, levels, 10, np.random.default_rng(0))
    assert len(drawn) == 10 and sum(levels[t] == "hard" for t in drawn) == 3


def test_skill_totals_are_counted_by_the_database(tmp_path: Path) -> None:
    from k2_host.skills.metrics import SkillMetrics

    m = SkillMetrics(tmp_path / "k2.sqlite")
    for ok in (True, True, False):
        m.record("file-checksums", ok=ok, reason="" if ok else "bad_input", difficulty="easy")
    m.record("code-outline", ok=True)
    full, totals = m.stats(), m.totals()
    assert {k: (v.runs, v.successes) for k, v in totals.items()} == {"file-checksums": (3, 2), "code-outline": (1, 1)}
    assert totals["file-checksums"].proficiency == full["file-checksums"].proficiency == pytest.approx(3 / 5)
    m.close()


def test_a_server_whose_breakers_are_all_open_is_not_healthy() -> None:
    from k2_host.config import HostConfig, ServerConfig
    from k2_host.mcp.manager import ClientManager

    config = HostConfig(servers=[ServerConfig(name="filesystem", command="k2-filesystem")])
    manager = ClientManager(config, lazy=True)
    assert manager.healthy("filesystem") and not manager.healthy("websearch")
    from k2_host.mcp.resilience import CircuitBreaker

    group = manager.groups["filesystem"]
    group.breakers = {"a": CircuitBreaker(2), "b": CircuitBreaker(2)}  # two instances, as a started group has
    for _ in range(2):
        group.breakers["a"].record_failure()
    assert manager.healthy("filesystem")  # one instance still takes calls
    for _ in range(2):
        group.breakers["b"].record_failure()
    assert not manager.healthy("filesystem")


def test_the_learning_benchmark_builds_its_tasks_from_installed_third_party_files() -> None:
    import sys

    repo = Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(repo / "bench"))
    try:
        from learning_tasks import build_tasks  # pyright: ignore[reportMissingImports] (bench/ is not a package)
    finally:
        sys.path.remove(str(repo / "bench"))
    tasks = build_tasks()
    held = [t for t in tasks if t.split == "heldout"]
    assert len(tasks) >= 300 and len({t.skill for t in tasks}) >= 14 and len(held) >= 120
    train_templates = {t.template for t in tasks if t.split == "train"}
    assert all(t.template not in train_templates for t in held if t.unseen_phrasing)
    assert any(t.unseen_phrasing for t in held) and all(t.expect for t in tasks)
    sources = {Path(src) for t in tasks for src in t.files.values()}
    ours = [p for p in sources if repo in p.resolve().parents and (repo / ".venv") not in p.resolve().parents]
    assert sources and all(p.is_file() for p in sources) and not ours  # installed packages, not our files
    assert [t.id for t in build_tasks()] == [t.id for t in tasks]  # the same list every time


LOAD_AT_EXIT = """
import logging, sys, threading
from k2_host.rag.embeddings import LazyEmbedder
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
main = threading.main_thread()

def fail_after_main_ends():
    main.join()  # the script has ended: the interpreter is shutting down
    raise RuntimeError("can't register atexit after shutdown")  # what the model's loader then hits

def fail_now():
    raise OSError("no weights here")

lazy = LazyEmbedder(fail_after_main_ends if sys.argv[1] == "exit" else fail_now)
lazy.preload()
threading.Thread(target=lazy._done.wait).start()  # not a daemon: the exit waits until the load has failed
"""


@pytest.mark.parametrize(("when", "warned"), [("exit", False), ("now", True)])
def test_a_model_load_cut_short_by_the_process_exiting_is_not_reported_as_a_missing_model(
    when: str, warned: bool
) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", LOAD_AT_EXIT, when], capture_output=True, text=True, timeout=60, check=True
    )
    assert ("embedding model unavailable" in done.stderr) is warned, done.stderr
    assert "Traceback" not in done.stderr
