"""Host handlers of skills with `offline: handler`: plans of MCP tool calls, run through the request's PlanRun.

profile-table    DuckDB's SUMMARIZE (through the database server) of a data file the request names (under a
                 root, which the database server reads as a data directory) or of a table of the database
list-page-links  the websearch server's extract_links on the page the request names, grouped by site
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from k2_host.engine import text as tx
from k2_host.results import Citation
from k2_host.skills.model import Skill
from k2_host.skills.runner import InputError, SkillOutcome, candidates, resolve_file

if TYPE_CHECKING:
    from k2_host.engine.plan_run import PlanRun

Handler = Callable[["PlanRun", Skill, str], Awaitable[SkillOutcome]]

DATA_SUFFIXES = {".csv": "read_csv", ".tsv": "read_csv", ".parquet": "read_parquet", ".json": "read_json_auto"}
DATA_SUFFIXES[".jsonl"] = DATA_SUFFIXES[".ndjson"] = "read_json_auto"


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    text = str(v)
    return text if len(text) <= 40 else text[:37] + "..."


async def _table_ref(p: PlanRun, query: str) -> tuple[str, str] | None:
    """(SQL source, label): a data file the request names, else a table of the database it names."""
    for cand in candidates(query):
        reader = next((r for s, r in DATA_SUFFIXES.items() if cand.lower().endswith(s)), None)
        if reader is None:
            continue
        path = await resolve_file(p, cand)
        if path is None:
            raise InputError(f"No file named {cand} was found under {', '.join(p.roots) or 'the roots'}.")
        return f"{reader}({_quote_literal(path)})", cand
    schema = await p.call("database.get_schema", {"include_columns": False})
    tables = [
        t
        for db in (schema.structured or {}).get("databases", [])
        for s in db.get("schemas", [])
        for t in s.get("tables", [])
    ]
    words = set(tx.keywords(query))
    for t in tables:
        if t["name"].lower() in words or t["name"].lower() in query.lower().split():
            return t["qualified_name"], t["name"]
    names = ", ".join(t["name"] for t in tables[:15])
    known = f" The database has: {names}." if names else ""
    raise InputError(f"Name a CSV/Parquet/JSON file (e.g. `data/sales.csv`) or a table to profile.{known}")


async def profile_table(p: PlanRun, skill: Skill, query: str) -> SkillOutcome:
    ref = await _table_ref(p, query)
    assert ref is not None
    source, label = ref
    sql = f"SUMMARIZE SELECT * FROM {source}"  # noqa: S608 (a quoted literal path or a catalog's quoted name)
    res = await p.call("database.query_database", {"sql": sql, "max_rows": 500})
    if res.is_error or not res.structured:
        return SkillOutcome(skill.name, False, f"DuckDB could not profile {label}: {res.text}", "tool_error")
    cols = [c["name"] for c in res.structured.get("columns", [])]
    rows = [dict(zip(cols, r, strict=False)) for r in res.structured.get("rows", [])]
    count = await p.call("database.query_database", {"sql": f"SELECT COUNT(*) FROM {source}"})  # noqa: S608
    total = (count.structured or {}).get("rows", [[None]])[0][0] if not count.is_error else None
    p.result.citations.append(Citation(source=label, location="SUMMARIZE", text=sql))
    lines = [f"**{label}**: {total if total is not None else '?'} rows, {len(rows)} columns (DuckDB SUMMARIZE)", ""]
    lines.append("| column | type | nulls % | distinct (approx.) | min | max | mean |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _fmt(r.get(k))
                for k in ("column_name", "column_type", "null_percentage", "approx_unique", "min", "max", "avg")
            )
            + " |"
        )
    if res.structured.get("truncated"):
        lines.append("(more columns than shown: the result was cut)")
    return SkillOutcome(skill.name, True, "\n".join(lines))


async def list_page_links(p: PlanRun, skill: Skill, query: str) -> SkillOutcome:
    url = tx.find_url(query)
    if url is None:
        raise InputError("Give the page's address (https://...) to list its links.")
    res = await p.call("websearch.extract_links", {"url": url})
    if res.is_error or not res.structured:
        return SkillOutcome(skill.name, False, f"Could not read the links of {url}: {res.text}", "tool_error")
    links = res.structured.get("links", [])
    by_site: dict[str, list[dict[str, str]]] = {}
    for link in links:
        by_site.setdefault(urlsplit(link["url"]).netloc or "(this page)", []).append(link)
    home = urlsplit(res.structured.get("final_url") or url).netloc
    lines = [f"{len(links)} link(s) on {url}, {len(by_site)} site(s):"]
    for site, items in sorted(by_site.items(), key=lambda kv: (kv[0] != home, -len(kv[1]), kv[0])):
        lines.append(f"\n**{site}**{' (this site)' if site == home else ''}: {len(items)}")
        lines += [f"- [{(i.get('text') or '').strip() or i['url']}]({i['url']})" for i in items[:25]]
        if len(items) > 25:
            lines.append(f"- … and {len(items) - 25} more")
    notices = []
    if res.structured.get("body_truncated"):
        notices.append("the page passed the server's size cap: links past the cut are missing")
    if res.structured.get("truncated"):
        notices.append("the page has more links than were returned")
    p.result.citations.append(Citation(source=url, location="links", text=f"{len(links)} links"))
    return SkillOutcome(skill.name, True, "\n".join(lines), notices=notices)


HANDLERS: dict[str, Handler] = {"profile-table": profile_table, "list-page-links": list_page_links}
