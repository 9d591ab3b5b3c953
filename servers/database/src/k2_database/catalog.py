"""The catalog: databases, schemas, tables, views, columns and keys, read from DuckDB's metadata functions.

Every lookup binds the names as parameters; a table is only ever put into SQL (sample_rows) after it was found
here, and then quoted by DuckDB's identifier rules. Blocking: runs in the engine's worker thread."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb

from k2_database.config import FILES_CATALOG
from k2_database.datafiles import quote_ident
from k2_database.errors import NotFound
from k2_database.models import ColumnInfo, DatabaseInfo, ForeignKey, SchemaInfo, SchemaOverview, TableInfo

_OBJECTS = """
SELECT * FROM (
    SELECT database_name, schema_name, table_name, 'table' AS kind, comment, estimated_size, sql
    FROM duckdb_tables() WHERE NOT internal AND NOT temporary
    UNION ALL
    SELECT database_name, schema_name, view_name, 'view', comment, NULL, sql
    FROM duckdb_views() WHERE NOT internal AND NOT temporary
)
WHERE (? IS NULL OR lower(database_name) = lower(?)) AND (? IS NULL OR lower(schema_name) = lower(?))
ORDER BY 1, 2, 3
"""

_SCHEMAS = """
SELECT database_name, schema_name, comment FROM duckdb_schemas()
WHERE (NOT internal OR schema_name = 'main') AND database_name NOT IN ('system', 'temp')
AND (? IS NULL OR lower(database_name) = lower(?)) AND (? IS NULL OR lower(schema_name) = lower(?))
"""


@dataclass(frozen=True)
class TableRef:
    database: str
    schema: str
    name: str
    kind: str

    @property
    def qualified(self) -> str:
        return ".".join(quote_ident(p) for p in (self.database, self.schema, self.name))

    @property
    def uri(self) -> str:
        return f"duckdb://{self.database}/{self.schema}/{self.name}"


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    return cur.execute(sql, params).fetchall()


def objects(cur: duckdb.DuckDBPyConnection, database: str | None = None, schema: str | None = None) -> list[Any]:
    return _rows(cur, _OBJECTS, [database, database, schema, schema])


def resolve(
    cur: duckdb.DuckDBPyConnection, table: str, schema: str | None, database: str | None, default_db: str
) -> TableRef:
    """Find a table or view by name (case-insensitive), optionally qualified as schema.table or db.schema.table."""
    found = [r for r in objects(cur, database, schema) if r[2].lower() == table.lower()]
    if not found and schema is None and database is None and "." in table:
        parts = table.split(".")
        if len(parts) in (2, 3):
            db = parts[0] if len(parts) == 3 else None
            found = [r for r in objects(cur, db, parts[-2]) if r[2].lower() == parts[-1].lower()]
    if not found:
        raise NotFound(not_found_message(cur, table))
    if len(found) > 1:
        preferred = [r for r in found if r[0] == default_db and r[1] == "main"] or [r for r in found if r[1] == "main"]
        if len(preferred) == 1:
            found = preferred
        else:
            names = ", ".join(TableRef(r[0], r[1], r[2], r[3]).qualified for r in found[:10])
            raise NotFound(f"{table!r} is ambiguous: {names}; pass schema and database")
    r = found[0]
    return TableRef(r[0], r[1], r[2], r[3])


def suggestions(cur: duckdb.DuckDBPyConnection, name: str, n: int = 3) -> list[str]:
    """The qualified names of the tables and views closest to `name`."""
    rows = objects(cur)
    bare = name.split(".")[-1].strip('"').lower()
    by_name: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_name[r[2].lower()].append(TableRef(r[0], r[1], r[2], r[3]).qualified)
    close = difflib.get_close_matches(bare, list(by_name), n=n, cutoff=0.5)
    close += [k for k in by_name if bare and bare in k and k not in close]
    return [q for k in close[:n] for q in by_name[k]][:n]


def not_found_message(cur: duckdb.DuckDBPyConnection, name: str) -> str:
    close = suggestions(cur, name)
    hint = f"; closest: {', '.join(close)}" if close else "; call get_schema to list the tables"
    return f"no table or view named {name!r}{hint}"


def _columns(cur: duckdb.DuckDBPyConnection, database: str | None, schema: str | None) -> dict[tuple, list]:
    sql = """SELECT database_name, schema_name, table_name, column_name, data_type, is_nullable, column_default,
    comment FROM duckdb_columns() WHERE NOT internal AND (? IS NULL OR lower(database_name) = lower(?))
    AND (? IS NULL OR lower(schema_name) = lower(?)) ORDER BY database_name, schema_name, table_name, column_index"""
    out: dict[tuple, list] = defaultdict(list)
    for r in _rows(cur, sql, [database, database, schema, schema]):
        out[(r[0], r[1], r[2])].append(r[3:])
    return out


def _constraints(cur: duckdb.DuckDBPyConnection, database: str | None, schema: str | None) -> dict[tuple, list]:
    sql = """SELECT database_name, schema_name, table_name, constraint_type, constraint_column_names,
    referenced_table, referenced_column_names FROM duckdb_constraints()
    WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
    AND (? IS NULL OR lower(database_name) = lower(?)) AND (? IS NULL OR lower(schema_name) = lower(?))"""
    out: dict[tuple, list] = defaultdict(list)
    for r in _rows(cur, sql, [database, database, schema, schema]):
        out[(r[0], r[1], r[2])].append(r[3:])
    return out


def _table_info(row: tuple, columns: list, constraints: list, *, with_sql: bool) -> TableInfo:
    ref = TableRef(row[0], row[1], row[2], row[3])
    pk: list[str] = []
    unique: list[list[str]] = []
    fks: list[ForeignKey] = []
    for kind, cols, ref_table, ref_cols in constraints:
        if kind == "PRIMARY KEY":
            pk = list(cols)
        elif kind == "UNIQUE":
            unique.append(list(cols))
        else:
            fks.append(ForeignKey(columns=list(cols), references_table=ref_table, references_columns=list(ref_cols)))
    return TableInfo(
        database=ref.database,
        schema_name=ref.schema,
        name=ref.name,
        kind="table" if ref.kind == "table" else "view",
        qualified_name=ref.qualified,
        comment=row[4],
        estimated_rows=row[5],
        columns=[
            ColumnInfo(name=c[0], type=c[1], nullable=c[2], default=c[3], comment=c[4], primary_key=c[0] in pk)
            for c in columns
        ],
        primary_key=pk,
        unique=unique,
        foreign_keys=fks,
        sql=row[6] if with_sql else None,
        resource_uri=ref.uri,
    )


def describe(cur: duckdb.DuckDBPyConnection, ref: TableRef) -> TableInfo:
    row = next(r for r in objects(cur, ref.database, ref.schema) if r[2] == ref.name)
    key = (ref.database, ref.schema, ref.name)
    columns = _columns(cur, ref.database, ref.schema)[key]
    return _table_info(row, columns, _constraints(cur, ref.database, ref.schema)[key], with_sql=True)


def overview(
    cur: duckdb.DuckDBPyConnection,
    *,
    database: str | None,
    schema: str | None,
    include_columns: bool,
    max_tables: int,
    default_db: str,
    server_read_only: bool,
) -> tuple[list[DatabaseInfo], int, bool]:
    dbs = _rows(
        cur,
        "SELECT database_name, path IS NULL, readonly FROM duckdb_databases() WHERE NOT internal "
        "AND (? IS NULL OR lower(database_name) = lower(?)) ORDER BY database_name = ? DESC, database_name",
        [database, database, default_db],
    )
    if database is not None and not dbs:
        names = [r[0] for r in _rows(cur, "SELECT database_name FROM duckdb_databases() WHERE NOT internal", [])]
        raise NotFound(f"no database named {database!r}; the databases are: {', '.join(names)}")
    schemas = _rows(cur, _SCHEMAS, [database, database, schema, schema])
    objs = objects(cur, database, schema)
    cols = _columns(cur, database, schema) if include_columns else {}
    cons = _constraints(cur, database, schema)
    tables: dict[tuple[str, str], list[TableInfo]] = defaultdict(list)
    for row in objs[:max_tables]:
        key = (row[0], row[1], row[2])
        tables[(row[0], row[1])].append(_table_info(row, cols.get(key, []), cons.get(key, []), with_sql=False))
    out: list[DatabaseInfo] = []
    for name, in_memory, readonly in dbs:
        kind = "data files" if name == FILES_CATALOG else "memory" if in_memory else "file"
        db_schemas = [
            SchemaInfo(name=s[1], comment=s[2], tables=tables.get((name, s[1]), []))
            for s in schemas
            if s[0] == name and (tables.get((name, s[1])) or s[1] == "main" or schema is not None)
        ]
        out.append(
            DatabaseInfo(
                name=name,
                kind=kind,
                read_only=bool(readonly) or server_read_only or name == FILES_CATALOG,
                default=name == default_db,
                schemas=db_schemas,
            )
        )
    return out, len(objs), len(objs) > max_tables


__all__ = ["SchemaOverview", "TableRef", "describe", "not_found_message", "objects", "overview", "resolve"]
