"""Learning end to end: feedback on real answers (real servers, the real embedding model) changes the next
answers; the gate, rollback, export, and the playbook in a (scripted) model's prompt."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sysconfig
from pathlib import Path

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.learning.tasks import shipped_tasks
from k2_host.learning.trainer import GateTask

from tests.host.scripted_llm import Turn, scripted_llm
from tests.host.test_agent_llm import agent_with
from tests.host.test_cli import k2

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        shutil.which("bwrap") is None and os.environ.get("K2_REQUIRE_SANDBOX") != "1",
        reason="bubblewrap is not installed (CI installs it and requires these tests)",
    ),
]

STDLIB = Path(sysconfig.get_paths()["stdlib"])
FILES = ("colorsys.py", "bisect.py", "heapq.py", "shlex.py")


def project(tmp_path: Path) -> Path:
    """A folder of files nobody here wrote: modules of the standard library."""
    root = tmp_path / "proj"
    root.mkdir()
    for name in FILES:
        shutil.copyfile(STDLIB / name, root / name)
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_correction_teaches_the_router_and_rollback_undoes_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    with anyio.fail_after(600):
        async with Agent.from_config(None, root=root, state_dir=tmp_path / "state") as agent:
            first = await agent.ask("fingerprint colorsys.py for me")
            assert first.skill is None or first.skill.name != "file-checksums"  # the shipped router misses it
            assert first.request_id
            await agent.feedback(first, "bad", skill="file-checksums", note="a fingerprint is a SHA-256 digest")
            with pytest.raises(ValueError, match="no recorded answer"):
                await agent.feedback("not-an-answer", "good")
            learner = agent.learner()
            report = await learner.train(batches=4, seed=0)
            assert report.collected == 1 and report.candidate is not None and report.new_pairs == 1
            assert report.mean_error > 0.5  # the current router was far from the right skill
            tasks = [
                GateTask("fingerprint heapq.py for me", "file-checksums", None, "held"),
                *await shipped_tasks(agent.runtime.skills, None, run=False),
            ]
            decision = await learner.gate(report.candidate, tasks, primary="route (held)")
            assert decision.promote, decision.reason
            assert learner.store.current_version() is not None
            again = await agent.ask("fingerprint bisect.py for me")  # another file: not what was taught
            assert again.skill is not None and again.skill.name == "file-checksums", again.answer
            assert f"{sha256(root / 'bisect.py')}  bisect.py" in again.answer
            lessons = agent.runtime.playbook(10_000)
            assert "[file-checksums] a fingerprint is a SHA-256 digest" in lessons
            assert learner.rollback() is None  # back to the shipped router
            back = await agent.ask("fingerprint shlex.py for me")
            assert back.skill is None or back.skill.name != "file-checksums"
            assert [v.status for v in learner.store.versions()] == ["retired"]
            with pytest.raises(ValueError, match="nothing to roll back"):
                learner.rollback()


async def test_the_gate_rejects_a_candidate_that_routes_worse_and_keeps_it_with_the_reason(tmp_path: Path) -> None:
    root = project(tmp_path)
    with anyio.fail_after(600):
        async with Agent.from_config(None, root=root, state_dir=tmp_path / "state") as agent:
            shipped = await shipped_tasks(agent.runtime.skills, None, run=False)
            # a user who "corrects" every shipped example to the wrong skill
            names = sorted({t.target for t in shipped if t.target})
            wrong = {n: names[(i + 1) % len(names)] for i, n in enumerate(names)}
            for t in shipped[:40]:
                r = await agent.ask(t.query.replace("http://127.0.0.1:8/page", "a page"))
                await agent.feedback(r, "bad", skill=wrong[t.target or ""])
            learner = agent.learner()
            report = await learner.train(batches=8, seed=1)
            assert report.candidate is not None
            decision = await learner.gate(report.candidate, shipped)
            assert not decision.promote and "worse" in decision.reason
            version = learner.store.version(report.candidate)
            assert version is not None and version.status == "rejected" and version.reason == decision.reason
            assert learner.store.current_version() is None  # requests keep the router they had
            assert agent.runtime.skills.learned == []


async def test_lessons_reach_a_models_stable_prefix_and_are_counted(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n")
    script = [Turn(text="one"), Turn(text="two"), Turn(text="three"), Turn(text="four"), Turn(text="five")]
    async with scripted_llm(script) as llm, agent_with(llm, root) as agent:
        store = agent.runtime.experiences
        lid = store.add_lesson("Give dates as YYYY-MM-DD.", "", "seed")
        assert lid is not None
        first = await agent.ask("when was the release?")
        second = await agent.ask("and the one before?")
        systems = [r["messages"][0]["content"] for r in llm.requests[:2]]
        assert systems[0] == systems[1]  # byte-stable between requests
        assert "Lessons from earlier feedback" in systems[0] and "- Give dates as YYYY-MM-DD." in systems[0]
        await agent.feedback(first, "good")
        await agent.feedback(second, "bad", note="Name the source of every date.")
        await agent.learner().collect()
        counted = {x.id: x for x in store.lessons()}
        assert (counted[lid].helpful, counted[lid].harmful) == (1, 1)
        assert any(x.text == "Name the source of every date." for x in counted.values())
        await agent.ask("and now?")
        assert "- Name the source of every date." in llm.requests[2]["messages"][0]["content"]
        # the answer rated good comes back as an example for a similar request (in the recall, not the prefix)
        similar = await agent.ask("when exactly was the release?")
        sent = "\n".join(str(m.get("content")) for m in llm.requests[3]["messages"][1:])
        assert "An earlier request like this one" in sent and "Request: when was the release?" in sent
        assert "Answer: one" in sent and "earlier request" not in llm.requests[3]["messages"][0]["content"]
        assert similar.context is not None and any(r.ref.startswith("example") for r in similar.context.recalled)
        assert "Request: and the one before?" not in sent  # rated bad: never an example


@pytest.mark.slow
def test_k2_feedback_and_learn_train_change_the_next_answer(tmp_path: Path) -> None:
    root = project(tmp_path)
    env = {"XDG_STATE_HOME": str(tmp_path / "st")}
    asked = k2("ask", "fingerprint colorsys.py for me", cwd=root, env=env)
    assert asked.returncode == 0 and "[skill: file-checksums]" not in asked.stdout, asked.stdout
    bad = k2("feedback", "bad", "--skill", "no-such-skill", cwd=root, env=env)
    assert bad.returncode == 2 and "no skill named 'no-such-skill'" in bad.stderr and "Traceback" not in bad.stderr
    rated = k2("feedback", "bad", "--skill", "file-checksums", "--note", "fingerprint = sha256", cwd=root, env=env)
    assert rated.returncode == 0 and "rated bad (should have been: file-checksums)" in rated.stdout
    trained = k2("--json", "learn", "train", "--route-only", "--seed", "0", cwd=root, env=env)
    assert trained.returncode == 0, trained.stderr
    out = json.loads(trained.stdout)
    assert out["train"]["collected"] == 1 and out["gate"]["promote"] is True
    answer = k2("ask", "fingerprint bisect.py for me", cwd=root, env=env)
    assert "[skill: file-checksums]" in answer.stdout and sha256(root / "bisect.py") in answer.stdout
    k2("feedback", "good", cwd=root, env=env)
    status = json.loads(k2("--json", "learn", "status", cwd=root, env=env).stdout)
    assert status["versions"][0]["status"] == "current" and status["experiences"]["correction"] == 1
    assert status["lessons"][0]["text"] == "fingerprint = sha256"
    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    done = k2("learn", "export", "--sft", str(sft), "--dpo", str(dpo), cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in sft.read_text().splitlines()]
    assert len(records) == 1  # the answer rated good
    msgs = records[0]["messages"]
    assert msgs[0] == {"role": "user", "content": "fingerprint bisect.py for me"}
    assert msgs[1]["tool_calls"][0]["function"]["name"].startswith(("filesystem__", "codeexec__"))
    assert msgs[-1]["role"] == "assistant" and sha256(root / "bisect.py") in msgs[-1]["content"]
    names = {t["function"]["name"] for t in records[0]["tools"]}
    assert "codeexec__execute_python" in names and all(t["function"]["parameters"] for t in records[0]["tools"])
    assert dpo.read_text() == ""  # no request was answered both well and badly
    nothing = k2("learn", "eval", cwd=root, env=env)
    assert nothing.returncode == 2 and "no candidate to evaluate" in nothing.stderr
    # bad input: one line on stderr, exit code 2, and nothing written or lost
    long = k2("feedback", "bad", "--note", "x" * 4001, cwd=root, env=env)
    assert long.returncode == 2 and "Traceback" not in long.stderr, long.stderr
    assert long.stderr == "k2: --note is 4001 characters long; at most 4000 are kept: shorten it\n"
    for n in ("0", "-1"):
        none = k2("learn", "train", "--batches", n, cwd=root, env=env)
        assert none.returncode == 2 and none.stderr == f"k2: --batches must be at least 1 (got {n})\n", none.stderr
    kept = sft.read_text()
    nowhere = tmp_path / "no-such-folder" / "dpo.jsonl"
    lost = k2("learn", "export", "--sft", str(sft), "--dpo", str(nowhere), cwd=root, env=env)
    assert lost.returncode == 2 and "Traceback" not in lost.stderr, lost.stderr
    # (the line is looked for, not taken as the last: the embedding model, loading in the background, may log a
    # warning of its own while the process exits)
    assert f"k2: cannot write {nowhere}: No such file or directory" in lost.stderr.splitlines()
    folder = tmp_path / "a-folder"
    folder.mkdir()
    fresh = tmp_path / "fresh.jsonl"
    taken = k2("learn", "export", "--sft", str(fresh), "--dpo", str(folder), cwd=root, env=env)
    assert taken.returncode == 2 and f"k2: cannot write {folder}: Is a directory" in taken.stderr.splitlines()
    assert sft.read_text() == kept and not fresh.exists() and list(tmp_path.glob("*.tmp")) == []
