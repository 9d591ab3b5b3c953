"""The `files` plan: answer from the folder index of each filesystem root (`engine.index`, `engine.lookup`).

Each request refreshes the index (the folder listing is this request's recorded `filesystem.directory_tree`
call; files new or changed since are read as upkeep), ranks the units, extracts the value the question asks
for and reads the cited lines again with `filesystem.read_file` so the answer quotes the file as it is now.
Without an index (`agent.offline_index = false`, or a state dir it cannot write) it greps and searches names.
"""

from __future__ import annotations

import re

from k2_host.engine import text as tx
from k2_host.engine.lookup import Answer, Question, answer, rank
from k2_host.engine.plan_run import PlanRun, join
from k2_host.engine.plans import Plan
from k2_host.engine.text import Passage


async def run(p: PlanRun, query: str) -> str | None:
    if p.indexes is None or not p.roots:
        return await grep_answer(p, query)
    best: tuple[float, str, Answer] | None = None
    for root in p.roots:
        index = await p.indexes.fresh(root)
        if index is None:
            return await grep_answer(p, query)
        q = Question.read(query, index.trees(), index)
        ranked = await rank(q, index, p.embed)
        found = answer(q, ranked, index)
        if found is not None and (best is None or found.score > best[0]):
            best = (found.score, root, found)
    if best is None:
        return None
    _, root, found = best
    return await confirm(p, root, found)


async def confirm(p: PlanRun, root: str, found: Answer) -> str | None:
    """Read the cited lines from the file as it is now; a line that changed since it was indexed is not cited."""
    cited: list[Passage] = []
    for hit in found.cite:
        path = join(root, hit.path)
        first = max(1, hit.line)
        res = await p.call("filesystem.read_file", {"path": path, "offset": first - 1, "limit": 1}, fresh=True)
        if res.is_error or not res.structured:
            return None
        now = str(res.structured.get("content") or "").rstrip("\n")
        want = hit.text.split("\n")[0] if hit.kind not in ("doc", "md") else None
        if want is not None and want.rstrip("…").strip() not in now.strip() and now.strip() not in want:
            return None  # the file changed under the index: the next refresh reads it again
        cited.append(Passage(path, now.strip(), now.strip(), location=f"line {first}"))
    p.cite(cited)
    return found.headline


async def grep_answer(p: PlanRun, query: str) -> str | None:
    keys = tx.keywords(query)
    if not keys or not p.roots:
        return None
    pattern = "|".join(re.escape(k) for k in keys[:8])
    found: dict[str, float] = {}  # path -> lexical weight of the file (content hits + name hits)
    name_bonus: dict[str, float] = {}
    for root in p.roots:
        res = await p.call(
            "filesystem.grep", {"pattern": pattern, "path": root, "ignore_case": True, "max_matches": 500}
        )
        if not res.is_error and res.structured:
            for m in res.structured.get("matches", []):
                path = join(root, m["path"])
                found[path] = found.get(path, 0.0) + tx.lexical_score(keys, m["text"])
        for k in keys[:4]:
            res = await p.call("filesystem.search_files", {"pattern": f"*{k}*", "path": root, "max_results": 50})
            if not res.is_error and res.structured:
                for rel in res.structured.get("matches", []):
                    path = join(root, rel)
                    bonus = tx.lexical_score(keys, tx.split_identifiers(rel))
                    name_bonus[path] = max(name_bonus.get(path, 0.0), bonus)
                    found[path] = found.get(path, 0.0) + 2 * bonus
    if not found:
        return None
    files = sorted(found, key=lambda f: -found[f])[:6]
    passages: list[Passage] = []
    for path in files:
        res = await p.call("filesystem.read_file", {"path": path, "limit": 400})
        if res.is_error or not res.structured:
            continue
        passages.extend(tx.line_passages(path, res.structured.get("content") or ""))
    ranked = await p.rank(query, passages, name_bonus={f: 0.5 * b for f, b in name_bonus.items()})
    if not ranked or ranked[0].score < 0.2:
        return None
    return p.extractive(query, ranked)


PLAN = Plan(
    name="files",
    server="filesystem",
    description="find facts in the project's local files: documents, notes, configuration, settings and source code",
    run=run,
    order=0,
)
