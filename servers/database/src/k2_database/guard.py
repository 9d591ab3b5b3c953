"""Statement classification: exactly one statement per call, of a kind the tool and the mode allow.

DuckDB's own parser splits and types the SQL (`duckdb.extract_statements`), so what is checked is exactly
what runs: the one `Statement` object returned here is what the engine executes. Comments, string literals
and quoted identifiers cannot hide a second statement from it, and no SQL is ever split or matched by hand.

    kind                       statement types                                          where
    read                       SELECT (also WITH, VALUES, FROM-first, SHOW, DESCRIBE,   query_database, always
                               SUMMARIZE, PIVOT with an IN list)
    write                      INSERT, UPDATE, DELETE/TRUNCATE, MERGE, CREATE, ALTER,   execute_statement, only
                               DROP, CREATE MACRO/FUNCTION, ANALYZE/VACUUM              with --allow-write
    never                      ATTACH, DETACH, COPY, EXPORT/IMPORT, INSTALL, LOAD,      refused in every mode
                               SET/RESET/USE, PRAGMA, CALL, CHECKPOINT, BEGIN/COMMIT/
                               ROLLBACK, PREPARE/EXECUTE, EXPLAIN (use explain_query),
                               multi-statement forms (dynamic PIVOT), anything unknown
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import duckdb
from duckdb import StatementType as T

from k2_database.errors import Refused
from k2_database.sqlerrors import translate

READ_TYPES = frozenset({T.SELECT})
WRITE_TYPES = frozenset(
    {T.INSERT, T.UPDATE, T.DELETE, T.MERGE_INTO, T.CREATE, T.ALTER, T.DROP, T.CREATE_FUNC, T.VACUUM}
)
EXPLAINABLE_WRITE_TYPES = WRITE_TYPES - {T.VACUUM}
"""ANALYZE is typed VACUUM; leaving it out means `EXPLAIN <statement>` can never read as EXPLAIN ANALYZE."""

_ADVICE = {
    T.ATTACH: "databases are attached by the server's --db flag",
    T.DETACH: "databases are attached by the server's --db flag",
    T.COPY: "read files with read_csv/read_parquet/read_json under the data directories; to load them, "
    "use execute_statement with INSERT INTO ... SELECT * FROM read_csv(...)",
    T.EXPORT: "the server does not write files",
    T.COPY_DATABASE: "the server does not copy databases",
    T.LOAD: "extensions cannot be installed or loaded",
    T.EXTENSION: "extensions cannot be installed or loaded",
    T.SET: "settings are fixed by the server and locked",
    T.VARIABLE_SET: "settings are fixed by the server and locked",
    T.PRAGMA: "PRAGMAs are refused; use get_schema, describe_table or SELECT * FROM pragma_table_info('t')",
    T.CALL: "use SELECT * FROM function(...) instead of CALL",
    T.TRANSACTION: "every call is its own transaction",
    T.PREPARE: "pass values in `params` instead of PREPARE/EXECUTE",
    T.EXECUTE: "pass values in `params` instead of PREPARE/EXECUTE",
    T.EXPLAIN: "use the explain_query tool",
    T.MULTI: "this form expands to several statements; e.g. give PIVOT an explicit IN (...) list",
}


@dataclass(frozen=True)
class Checked:
    """One statement that passed the check, ready to execute."""

    statement: duckdb.Statement
    type_name: str

    @property
    def sql(self) -> str:
        return self.statement.query

    @property
    def is_write(self) -> bool:
        return self.statement.type in WRITE_TYPES


def split(sql: str) -> list[duckdb.Statement]:
    try:
        return duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise translate(exc, sql) from exc


def kind_of(statement: duckdb.Statement) -> duckdb.StatementType | None:
    """The statement's type, or None for one the client library cannot name (refused, never guessed)."""
    try:
        return statement.type
    except ValueError:
        return None


@functools.lru_cache(maxsize=256)
def check(sql: str, *, allow: frozenset[duckdb.StatementType], tool: str) -> Checked:
    """Return the single statement of `sql` if its type is in `allow`; raise `Refused` (or a syntax error).

    Cached: an agent repeats its queries, and parsing costs a tenth of a millisecond or more. A parsed
    statement holds no state of a run, so one may be executed by several cursors. Refusals are not cached."""
    statements = split(sql)
    if not statements:
        raise Refused("the SQL holds no statement (only whitespace or comments); send one statement")
    kinds = [kind_of(st) for st in statements]
    if len(statements) > 1:
        shown = ", ".join(_name(k) for k in kinds[:5])
        raise Refused(
            f"{len(statements)} statements were sent ({shown}); {tool} runs exactly one per call: "
            "send them one at a time"
        )
    kind = kinds[0]
    if kind is not None and kind in allow:
        return Checked(statements[0], _name(kind))
    raise Refused(_refusal(kind, allow, tool))


def _refusal(kind: duckdb.StatementType | None, allow: frozenset[duckdb.StatementType], tool: str) -> str:
    if kind is None:
        return "this kind of statement is not supported here; only SELECT-like queries (and DML/DDL with --allow-write)"
    name = _name(kind)
    if kind in WRITE_TYPES and allow == READ_TYPES:
        if tool == "query_database":
            return (
                f"{name} statements change data; query_database only reads. Use execute_statement when the "
                "server runs with --allow-write (it is read-only otherwise)"
            )
        return f"{name} statements change data and this server is read-only (start it with --allow-write)"
    if kind in READ_TYPES:
        return f"{name} is a query; use query_database to run it"
    advice = _ADVICE.get(kind, "only SELECT-like queries (and, with --allow-write, DML/DDL) run here")
    return f"{name} statements are refused: {advice}"


def _name(kind: duckdb.StatementType | None) -> str:
    if kind is None:
        return "UNKNOWN"
    return {T.MERGE_INTO: "MERGE", T.CREATE_FUNC: "CREATE FUNCTION", T.VARIABLE_SET: "SET VARIABLE"}.get(
        kind, kind.name
    )


def check_explain(checked: Checked) -> duckdb.Statement:
    """`EXPLAIN <statement>` (never ANALYZE: the statement is planned, not run), checked to be one statement."""
    statements = split("EXPLAIN " + checked.sql)
    if len(statements) != 1 or kind_of(statements[0]) != T.EXPLAIN:
        raise Refused("this statement cannot be explained on its own; send a single SELECT-like statement")
    return statements[0]
