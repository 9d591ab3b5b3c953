"""The gate's frozen tasks on a user's machine: the library's shipped examples and the user's held-out requests.

The shipped examples (`assets/examples.json` of every skill: a request, its files, the substrings a right answer
holds) run end to end through the real servers once per evaluation, with their skill named, as `k2 skills eval`
runs them: that says whether the skill's answer passes. A router then passes an example when the offline engine
would give the request to that skill. Requests of the user's that were rated or corrected and fell in the test
split (never trained on) are scored on the routing decision alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from k2_host.config import HostConfig, load_host_config
from k2_host.learning.trainer import GateTask, Learner
from k2_host.skills import Skills


async def shipped_tasks(skills: Skills, state_dir: Path | None, *, run: bool = True) -> list[GateTask]:
    """One task per shipped example; `run` says whether each skill's answer is checked (else route only)."""
    from k2_host.skills.evaluate import eval_runtime, examples, page_server, run_examples

    chosen = [s for s in skills.registry if s.source == "builtin" and (s.path / "assets" / "examples.json").is_file()]
    if not run:
        return [
            GateTask(str(ex["query"]).replace("{url}", "http://127.0.0.1:8/page"), s.name, None, "shipped examples")
            for s in chosen
            for ex in examples(s)
        ]
    with tempfile.TemporaryDirectory(prefix="k2-learn-eval-") as tmp, page_server() as (server, page):
        root = Path(tmp)
        host, port = server.server_address[:2]
        config: HostConfig = load_host_config(None, root=root, state=state_dir)
        async with eval_runtime(config, root, f"{host}:{port}") as rt:
            results = await run_examples(rt, chosen, root, page, f"http://{host}:{port}/page")
    return [GateTask(r.query, r.skill, r.ok, "shipped examples") for r in results]


async def gate_tasks(learner: Learner, state_dir: Path | None, *, run: bool = True) -> list[GateTask]:
    return [*learner.user_tasks(), *await shipped_tasks(learner.skills, state_dir, run=run)]
