"""The `knowledge` plan: the ingested documents (`k2 ingest`), searched with hybrid retrieval, then ranked by
line like the files plan. It goes before `files` and `web` whenever an index exists."""

from __future__ import annotations

from k2_host.engine import text as tx
from k2_host.engine.plan_run import PlanRun
from k2_host.engine.plans import Plan
from k2_host.engine.text import Passage


async def run(p: PlanRun, query: str) -> str | None:
    res = await p.call("knowledge.search", {"query": query, "k": 10})
    if res.is_error or not res.structured:
        return None
    passages: list[Passage] = []
    for h in res.structured.get("hits", []):
        source = h.get("source") or h.get("citation", "")
        for passage in tx.line_passages(source, h.get("text", "")):
            passage.location = str(h.get("citation", "")).removeprefix(source).strip(" ,:#") or passage.location
            passages.append(passage)
    ranked = await p.rank(query, passages)
    if not ranked or ranked[0].score < 0.35:
        return None
    return p.extractive(query, ranked)


PLAN = Plan(
    name="knowledge",
    description="the documents ingested into the local knowledge index",
    run=run,
    routed=False,
    precedes=("files", "web"),
    available=lambda p: p.knowledge is not None,
)
