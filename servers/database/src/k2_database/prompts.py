"""The prompt that walks a model through an unfamiliar dataset."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

STEPS = """Steps:
1. Call get_schema to see the databases, tables, views (data files are views in `files`), columns, keys and
   estimated row counts.
2. For each table that matters, call describe_table, then sample_rows (n=10) to see real values.
3. Profile with query_database: `SUMMARIZE <table>` gives min, max, null percentage and distinct counts per
   column; grouping a column and counting (GROUP BY ALL ORDER BY 2 DESC LIMIT 20) shows its common values.
4. Check how tables join: compare key columns (foreign keys from describe_table, or matching names) and count
   unmatched rows with an anti join before trusting a join.
5. Answer with aggregate queries (GROUP BY, window functions), not by reading raw rows; keep LIMIT on
   exploratory queries, pass values in `params`, and use explain_query when a query may be slow.
6. Report what you found, the queries behind each claim, and any data-quality issues (nulls, duplicates, odd
   values)."""


def explore_dataset_prompt(
    table: Annotated[str | None, Field(max_length=1000, description="A table or view to start from.")] = None,
    question: Annotated[str | None, Field(max_length=4000, description="What you want to learn from the data.")] = None,
) -> str:
    """Explore an unfamiliar dataset step by step: schema, samples, profiles, then focused queries."""
    goal = f"The goal: {question}\n\n" if question else ""
    focus = f"Start from the table {table!r}." if table else "Start from the whole catalog."
    return f"{goal}Explore this DuckDB dataset before drawing any conclusion. {focus}\n{STEPS}"
