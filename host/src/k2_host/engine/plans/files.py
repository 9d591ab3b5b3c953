"""The `files` plan: grep and name search over the filesystem roots, read the best files, rank their lines."""

from __future__ import annotations

import re

from k2_host.engine import text as tx
from k2_host.engine.plan_run import PlanRun, join
from k2_host.engine.plans import Plan
from k2_host.engine.text import Passage


async def run(p: PlanRun, query: str) -> str | None:
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
