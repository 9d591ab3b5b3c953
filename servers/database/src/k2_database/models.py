"""Typed results of the tools (each becomes the tool's outputSchema and structured content)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Column(BaseModel):
    name: str
    type: str = Field(description="DuckDB type, e.g. INTEGER, VARCHAR, DECIMAL(10,2), STRUCT(a INTEGER)")


class QueryResult(BaseModel):
    """One page of a query's rows."""

    columns: list[Column]
    rows: list[list[Any]] = Field(description="rows as arrays in column order; see the README for type mapping")
    row_count: int = Field(description="rows in this page")
    offset: int = Field(description="position of this page's first row in the whole result")
    truncated: bool = Field(description="more rows exist than this page holds")
    truncation_reason: Literal["max_rows", "max_bytes"] | None = None
    next_cursor: str | None = Field(None, description="pass as `cursor` to query_database for the next page")
    values_cut: int = Field(0, description="text/blob values shortened to the server's max_value_chars")
    statement_type: str
    elapsed_ms: float


class StatementResult(BaseModel):
    """The outcome of one write statement, committed as its own transaction."""

    statement_type: str
    committed: bool
    rows_affected: int | None = Field(None, description="rows inserted, updated or deleted, when DuckDB reports it")
    columns: list[Column] = Field(default_factory=list, description="columns of a RETURNING clause")
    rows: list[list[Any]] = Field(default_factory=list, description="rows of a RETURNING clause")
    row_count: int = 0
    truncated: bool = False
    values_cut: int = 0
    elapsed_ms: float


class QueryPlan(BaseModel):
    statement_type: str
    plan: str = Field(description="DuckDB's physical plan (EXPLAIN); the query was not run")


class ColumnInfo(BaseModel):
    name: str
    type: str
    nullable: bool
    default: str | None = None
    comment: str | None = None
    primary_key: bool = False


class ForeignKey(BaseModel):
    columns: list[str]
    references_table: str
    references_columns: list[str]


class TableInfo(BaseModel):
    database: str
    schema_name: str
    name: str
    kind: Literal["table", "view"]
    qualified_name: str = Field(description="quoted database.schema.name, ready to paste into SQL")
    comment: str | None = None
    estimated_rows: int | None = Field(None, description="DuckDB's estimate; None for views")
    columns: list[ColumnInfo] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    unique: list[list[str]] = Field(default_factory=list)
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    sql: str | None = Field(None, description="the CREATE statement (describe_table only)")
    resource_uri: str


class SchemaInfo(BaseModel):
    name: str
    comment: str | None = None
    tables: list[TableInfo]


class DatabaseInfo(BaseModel):
    name: str
    kind: Literal["file", "memory", "data files"]
    read_only: bool
    default: bool
    schemas: list[SchemaInfo]


class SchemaOverview(BaseModel):
    databases: list[DatabaseInfo]
    data_dirs: list[str] = Field(description="directories whose files read_csv/read_parquet/read_json may read")
    writable: bool = Field(description="the server runs with --allow-write (execute_statement exists)")
    table_count: int
    truncated: bool = Field(description="more tables exist than were listed; narrow with database/schema")
