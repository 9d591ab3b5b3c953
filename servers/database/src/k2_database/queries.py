"""Running one checked statement on a cursor: a page of rows, a write in a transaction, or a plan.

These functions are blocking and run in the engine's worker thread (see `Engine.run`)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

from k2_database.guard import Checked, check_explain
from k2_database.models import Column
from k2_database.values import Converter, json_size

Params = list[Any] | dict[str, Any] | None

_SKIP_CHUNK = 10_000
_FETCH_CHUNK = 1024


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_bytes: int
    max_value_chars: int


@dataclass
class Page:
    columns: list[Column]
    rows: list[list[Any]]
    truncated: bool
    reason: Literal["max_rows", "max_bytes"] | None
    values_cut: int


def execute(cur: duckdb.DuckDBPyConnection, checked: Checked, params: Params) -> None:
    if params is None:
        cur.execute(checked.statement)
    else:
        cur.execute(checked.statement, params)


def columns_of(cur: duckdb.DuckDBPyConnection) -> list[Column]:
    return [Column(name=d[0], type=str(d[1])) for d in (cur.description or [])]


def fetch_page(cur: duckdb.DuckDBPyConnection, limits: Limits, offset: int = 0) -> Page:
    """Skip `offset` rows of the open result, then take rows while under the row and byte caps."""
    columns = columns_of(cur)
    if not columns:
        return Page([], [], False, None, 0)
    skip = offset
    while skip > 0:
        chunk = cur.fetchmany(min(skip, _SKIP_CHUNK))
        if not chunk:
            break
        skip -= len(chunk)
    conv = Converter(limits.max_value_chars)
    convert = conv.rows_for([c.type for c in columns])
    rows: list[list[Any]] = []
    size = 2
    while len(rows) < limits.max_rows:
        raw = cur.fetchmany(min(_FETCH_CHUNK, limits.max_rows - len(rows)))
        cut_before = conv.values_cut
        batch = convert(raw)
        if not batch:
            return Page(columns, rows, False, None, conv.values_cut)
        whole = json_size(batch) - 2 + 1  # the batch's rows and their commas, without its brackets
        if size + whole <= limits.max_bytes:
            rows.extend(batch)
            size += whole
            continue
        # The cap falls inside this batch: convert again row by row, so that only the values of rows that are
        # sent count as cut.
        conv.values_cut = cut_before
        for raw_row in raw:
            cut_before = conv.values_cut
            row = convert([raw_row])[0]
            n = json_size(row) + 1
            if rows and size + n > limits.max_bytes:
                conv.values_cut = cut_before  # this row is not sent
                return Page(columns, rows, True, "max_bytes", conv.values_cut)
            rows.append(row)
            size += n
    more = cur.fetchone() is not None
    return Page(columns, rows, more, "max_rows" if more else None, conv.values_cut)


def read_page(
    cur: duckdb.DuckDBPyConnection, checked: Checked, params: Params, limits: Limits, offset: int = 0
) -> Page:
    execute(cur, checked, params)
    return fetch_page(cur, limits, offset)


@dataclass
class WriteOutcome:
    page: Page
    rows_affected: int | None


def run_write(cur: duckdb.DuckDBPyConnection, checked: Checked, params: Params, limits: Limits) -> WriteOutcome:
    """Run one write statement in its own transaction: commit on success, roll back on any failure."""
    cur.begin()
    try:
        execute(cur, checked, params)
        page = fetch_page(cur, limits)
        # Whatever RETURNING rows did not fit are drained so the statement completes before COMMIT.
        while cur.description and cur.fetchmany(_SKIP_CHUNK):
            pass
        cur.commit()
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    affected = None
    if [c.name for c in page.columns] == ["Count"] and len(page.rows) == 1 and isinstance(page.rows[0][0], int):
        affected = page.rows[0][0]
    names = [c.name for c in page.columns]
    if affected is not None or not page.rows or names == ["Success"]:  # DuckDB's status rows, not RETURNING rows
        page = Page([], [], False, None, 0)
    return WriteOutcome(page, affected)


def explain(cur: duckdb.DuckDBPyConnection, checked: Checked, params: Params) -> str:
    """DuckDB's physical plan of the statement, which is planned but not run."""
    plan = check_explain(checked)
    if params is None:
        cur.execute(plan)
    else:
        cur.execute(plan, params)
    return "\n".join(str(row[1]) for row in cur.fetchall())
