"""The `web` plan: fetch a URL in the question and rank its paragraphs, or search the local web index."""

from __future__ import annotations

from k2_host.engine import text as tx
from k2_host.engine.plan_run import PlanRun
from k2_host.engine.plans import Plan
from k2_host.engine.text import Passage


async def run(p: PlanRun, query: str) -> str | None:
    url = tx.find_url(query)
    if url:
        res = await p.call("websearch.fetch_webpage", {"url": url})
        if res.is_error or not res.structured:
            return f"Could not fetch {url}: {res.text}" if res.is_error else None
        content = res.structured.get("content") or ""
        question = query.replace(url, " ")
        ranked = await p.rank(question, tx.paragraph_passages(url, content))
        if not ranked:
            return f"{url} has no readable text."
        return p.extractive(question, ranked)
    res = await p.call("websearch.search_web", {"query": query, "limit": 5})
    if res.is_error or not res.structured or not res.structured.get("results"):
        return None
    hits = res.structured["results"]
    passages = [Passage(h["url"], f"{h['title']}: {h['snippet']}", f"{h['title']} {h['snippet']}") for h in hits]
    ranked = await p.rank(query, passages)
    if not ranked or ranked[0].score < 0.2:
        return None
    p.cite(ranked[:5])
    return "Pages in the local web index that match:\n" + "\n".join(f"- {x.text} ({x.source})" for x in ranked[:5])


PLAN = Plan(
    name="web",
    server="websearch",
    description="search the web or the local web index, fetch a web page or URL, look something up online",
    run=run,
    sign=lambda q: tx.find_url(q) is not None,
    after=("files",),
    order=1,
)
