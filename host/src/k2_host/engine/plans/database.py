"""The `database` plan: read the schema, pick the table the question is about, count, aggregate or sample it."""

from __future__ import annotations

import re
from typing import Any

from k2_host.engine import text as tx
from k2_host.engine.plan_run import PlanRun
from k2_host.engine.plans import Plan
from k2_host.engine.text import Passage
from k2_host.results import Citation

DB_WORDS = re.compile(r"(?i)\b(table|tables|rows?|columns?|database|sql|schema|records?|duckdb)\b")


async def run(p: PlanRun, query: str) -> str | None:
    res = await p.call("database.get_schema", {"include_columns": True})
    if res.is_error or not res.structured:
        return None
    tables = [t for db in res.structured.get("databases", []) for s in db["schemas"] for t in s["tables"]]
    if not tables:
        return None
    keys = tx.keywords(query)
    described = [
        Passage(
            t["qualified_name"],
            t["name"],
            f"{tx.split_identifiers(t['name'])} "
            + " ".join(tx.split_identifiers(c["name"]) for c in t.get("columns", [])),
        )
        for t in tables
    ]
    ranked = await p.rank(query, described)
    if not ranked or ranked[0].score < 0.15:
        names = ", ".join(t["name"] for t in tables[:20])
        return f"The database has these tables: {names}. Name one (and a column) to query it."
    table = next(t for t in tables if t["qualified_name"] == ranked[0].source)
    columns = table.get("columns", [])
    sql, what = _sql_for(query, keys, table["qualified_name"], columns)
    q = await p.call("database.query_database", {"sql": sql})
    if q.is_error or not q.structured:
        return f"The query on {table['name']} failed: {q.text}"
    rows = q.structured.get("rows", [])
    cols = [c["name"] for c in q.structured.get("columns", [])]
    p.result.citations.append(Citation(source=table["qualified_name"], location="query", text=sql))
    if what and rows:
        return f"{what} of {table['name']}: {_fmt(rows[0][0])} (SQL: {sql})"
    shown = "\n".join(", ".join(f"{c}={v}" for c, v in zip(cols, r, strict=False)) for r in rows[:5])
    return f"{table['name']} (SQL: {sql}):\n{shown}"


_AGG = {
    "average": "avg",
    "mean": "avg",
    "avg": "avg",
    "total": "sum",
    "sum": "sum",
    "maximum": "max",
    "max": "max",
    "highest": "max",
    "largest": "max",
    "minimum": "min",
    "min": "min",
    "lowest": "min",
    "smallest": "min",
}


def _sql_for(query: str, keys: list[str], table: str, columns: list[dict[str, Any]]) -> tuple[str, str | None]:
    """A read-only query for the question: a count, an aggregate over the named column, or a sample.

    `table` is the server's own quoted `qualified_name` and columns are quoted here; the server runs it
    read-only, one statement, whatever it is (S608 does not apply)."""
    low = query.lower()
    if re.search(r"\bhow many\b|\bcount\b|\bnumber of\b", low):
        return f"SELECT count(*) FROM {table}", "Row count"  # noqa: S608
    for word, fn in _AGG.items():
        if re.search(rf"\b{word}\b", low):
            numeric = [
                c for c in columns if re.search(r"INT|DECIMAL|DOUBLE|FLOAT|REAL|NUMERIC|HUGEINT", c["type"].upper())
            ]
            best = max(numeric, key=lambda c: tx.lexical_score(keys, tx.split_identifiers(c["name"])), default=None)
            if best is not None:
                col = '"' + best["name"].replace('"', '""') + '"'
                return f"SELECT {fn}({col}) FROM {table}", f"{fn}({best['name']})"  # noqa: S608
    return f"SELECT * FROM {table} LIMIT 5", None  # noqa: S608


def _fmt(value: Any) -> str:
    """Numbers as a person reads them (11.6667, not 11.666666666666666)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{7,}", value):
        return f"{float(value):.6g}"
    return str(value)


PLAN = Plan(
    name="database",
    server="database",
    description="query database tables: rows, columns, records, counts, totals, averages, SQL",
    run=run,
    sign=lambda q: DB_WORDS.search(q) is not None,
    after=("files", "web"),
    order=2,
)
