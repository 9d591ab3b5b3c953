"""DuckDB exceptions turned into `DbError`s the model can act on: DuckDB's message, the position, a hint."""

from __future__ import annotations

import re

import duckdb

from k2_database.errors import (
    AccessDenied,
    Conflict,
    DbError,
    InvalidParameters,
    NotFound,
    QueryFailed,
    ResourceLimit,
    SqlSyntaxError,
)

_LINE = re.compile(r"^LINE (\d+): (.*)$", re.MULTILINE)
_MISSING_TABLE = re.compile(r"Table with name (\S+?) does not exist", re.IGNORECASE)
_PARAMS = re.compile(r"prepared statement|parameter", re.IGNORECASE)


def position(message: str, sql: str) -> tuple[int, int] | None:
    """The 1-based (line, column) DuckDB's caret points at, found again in `sql` when DuckDB shortened the line."""
    m = _LINE.search(message)
    if m is None:
        return None
    line_no = int(m.group(1))
    shown = m.group(2)
    rest = message[m.end() + 1 :].split("\n", 1)[0]
    caret = rest.find("^")
    if caret < 0:
        return None
    col_in_shown = caret - len(f"LINE {line_no}: ")
    lines = sql.split("\n")
    if not 1 <= line_no <= len(lines):
        return None
    line = lines[line_no - 1]
    if shown.startswith("..."):
        fragment = shown[3:].removesuffix("...")
        start = line.find(fragment[: max(8, min(len(fragment), 40))])
        if start < 0:
            return None
        return line_no, start + col_in_shown - 3 + 1
    return line_no, col_in_shown + 1


def missing_table(message: str) -> str | None:
    m = _MISSING_TABLE.search(message)
    return m.group(1).strip("\"'") if m else None


def translate(exc: duckdb.Error, sql: str) -> DbError:
    """Map a DuckDB error to the `DbError` of its kind; the message is DuckDB's own, with the position."""
    message = str(exc).strip()
    where = position(message, sql)
    at = f" (line {where[0]}, column {where[1]})" if where else ""
    if isinstance(exc, duckdb.ParserException):
        return SqlSyntaxError(f"{message}\nSyntax error{at}: fix the SQL near the marked position and send it again")
    if isinstance(exc, duckdb.CatalogException):
        return NotFound(f"{message}\nNot found{at}: call get_schema to see the databases, tables and columns")
    if isinstance(exc, duckdb.BinderException):
        if "not found" in message or "does not exist" in message:
            return NotFound(f"{message}\nNot found{at}: call describe_table to see the columns")
        return QueryFailed(f"{message}\nThe query could not be bound{at}; check names and types")
    if isinstance(exc, duckdb.PermissionException):
        return AccessDenied(
            f"{message}\nOnly files under the server's data directories are readable, and nothing is written "
            "outside the database; see get_schema for the data directories and the `files` views"
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        first = message.split("\n", 1)[0]
        return ResourceLimit(
            f"{first}\nThe query needs more memory than the server allows; aggregate, filter with WHERE, "
            "select fewer columns or add LIMIT"
        )
    if isinstance(exc, duckdb.OutOfRangeException) and "string" in message.lower():
        return ResourceLimit(f"{message}\nThe value is too large; build a smaller one")
    if isinstance(exc, duckdb.TransactionException):
        return Conflict(f"{message}\nAnother transaction changed the same data; read it again and retry")
    if isinstance(exc, duckdb.InvalidInputException) and _PARAMS.search(message):
        return InvalidParameters(
            f"{message}\nGive one value in `params` per placeholder: a list for ? or $1, an object for $name"
        )
    if isinstance(exc, duckdb.InvalidInputException) and "locked" in message:
        return AccessDenied(f"{message}\nThe server's settings are locked")
    if "read-only" in message or "read only" in message:
        return AccessDenied(f"{message}\nThis database is read-only here")
    suffix = f"\nThe error is at{at}" if where else ""
    return QueryFailed(f"{message}{suffix}")
