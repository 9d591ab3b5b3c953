"""The database MCP server: tool wiring only; the logic lives in the modules beside this one."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

from k2_shared.errors import K2MCPServer
from k2_shared.runner import run_server
from k2_shared.tools import read_only, tool, typed_result, writes
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import ResourceSecurity
from mcp.types import (
    CallToolResult,
    ListResourcesResult,
    PaginatedRequestParams,
    Resource,
    Tool,
)
from pydantic import Field

from k2_database import catalog, guard, queries
from k2_database.config import DatabaseSettings, parse_args
from k2_database.engine import Engine
from k2_database.errors import DbError, InvalidCursor, InvalidParameters
from k2_database.memory import apply_bound
from k2_database.models import Column, QueryPlan, QueryResult, SchemaOverview, StatementResult, TableInfo
from k2_database.paging import PageRequest
from k2_database.prompts import explore_dataset_prompt
from k2_database.queries import Page
from k2_database.service import DatabaseService

logger = logging.getLogger(__name__)
MAX_RESOURCES = 500

INSTRUCTIONS = (
    "DuckDB SQL. Start with get_schema (databases, tables, views, columns, keys), then describe_table or "
    "sample_rows; query_database runs exactly one SELECT-like statement per call with values bound from `params` "
    "(? or $1 with a list, $name with an object). Large results come a page at a time: pass `next_cursor` back "
    "as `cursor`. Data files under the data directories appear as views in the `files` database and can be read "
    "with read_csv/read_parquet/read_json by absolute path. explain_query shows a plan without running it."
)

JsonScalar = str | int | float | bool | None
ParamValue = JsonScalar | list[JsonScalar]
SqlArg = Annotated[str, Field(min_length=1, max_length=200_000, description="Exactly one SQL statement (DuckDB).")]
ParamsArg = Annotated[
    list[ParamValue] | dict[str, ParamValue] | None,
    Field(description="Values bound to placeholders: a list for ? or $1, $2; an object for $name. Never quoted in."),
]
TableArg = Annotated[
    str, Field(min_length=1, max_length=1000, description="Table or view name; may be schema.table or db.schema.table")
]
SchemaArg = Annotated[str | None, Field(max_length=1000, description="Schema of the table (default: search all).")]
DatabaseArg = Annotated[str | None, Field(max_length=1000, description="Database (catalog); default: search all.")]
TimeoutArg = Annotated[
    float | None, Field(gt=0, le=3600, description="Time limit in seconds, at most the server's --timeout.")
]


def _engine(ctx: Context[Any, Any]) -> Engine:
    return ctx.request_context.lifespan_context


def _query_result(page: Page, offset: int, statement_type: str, started: float, cursor: str | None) -> QueryResult:
    return QueryResult(
        columns=page.columns,
        rows=page.rows,
        row_count=len(page.rows),
        offset=offset,
        truncated=page.truncated,
        truncation_reason=page.reason,
        next_cursor=cursor,
        values_cut=page.values_cut,
        statement_type=statement_type,
        elapsed_ms=round((time.monotonic() - started) * 1000, 3),
    )


class DatabaseMCP(K2MCPServer[Engine]):
    """A K2 server (refusals carry their kind in `_meta`) whose resource list names every table."""

    service: DatabaseService

    async def list_tools(self) -> list[Tool]:
        """The tools, with `sql` of query_database published as required.

        A call needs `sql` or `cursor`. JSON Schema would say so with a root `anyOf`, but the Anthropic API
        refuses `anyOf`/`oneOf`/`allOf` at the root of a tool's schema, and OpenAI's those and `not`/`enum`/`const`,
        failing the whole request (this repository's host passes schemas through as they are). So the schema
        requires `sql` (null allowed: "continue with `cursor`"; no default, so a form does not fill one in), which
        every client accepts and which makes a schema-driven client (the MCP Inspector) ask for it; a call with
        `cursor` alone is still served."""
        tools = await super().list_tools()
        for listed in tools:
            if listed.name == "query_database":
                schema = listed.input_schema
                sql = {k: v for k, v in schema["properties"]["sql"].items() if k != "default"}
                listed.input_schema = {
                    **schema,
                    "properties": {**schema["properties"], "sql": sql},
                    "required": ["sql"],
                }
        return tools

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Engine], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        listed = await self.list_resources()
        engine = ctx.lifespan_context
        rows = await engine.run(catalog.objects, sql="", timeout_s=self.service.timeout(None), label="list_resources")
        for row in rows[:MAX_RESOURCES]:
            ref = catalog.TableRef(row[0], row[1], row[2], row[3])
            listed.append(
                Resource(
                    uri=ref.uri,
                    name=f"{ref.database}.{ref.schema}.{ref.name}",
                    title=f"{ref.kind} {ref.name}",
                    description=f"Columns, types, keys and comment of the {ref.kind} {ref.qualified}",
                    mime_type="application/json",
                )
            )
        return ListResourcesResult(resources=listed)


def build_server(settings: DatabaseSettings) -> DatabaseMCP:
    svc = DatabaseService(settings)
    s = settings
    mcp = DatabaseMCP("database", version="0.1.0", instructions=INSTRUCTIONS, lifespan=svc.lifespan)
    mcp.service = svc
    read_types = guard.READ_TYPES
    explain_types = guard.EXPLAINABLE_WRITE_TYPES | read_types if s.allow_write else read_types

    @tool(mcp, annotations=read_only("Query database"))
    async def query_database(
        ctx: Context[Engine, Any],
        sql: Annotated[
            str | None,
            Field(
                max_length=200_000,
                description="Exactly one SELECT-like DuckDB statement; with `cursor`, the same one or null.",
            ),
        ] = None,
        params: ParamsArg = None,
        cursor: Annotated[
            str | None, Field(max_length=2_000_000, description="`next_cursor` of the previous page, to go on.")
        ] = None,
        max_rows: Annotated[int | None, Field(ge=1, le=100_000, description="Rows per page (capped).")] = None,
        timeout_s: TimeoutArg = None,
    ) -> Annotated[CallToolResult, QueryResult]:
        """Run one read-only SQL statement (SELECT, WITH, VALUES, SHOW, DESCRIBE, SUMMARIZE, FROM-first) and return
        typed rows a page at a time. Values go in `params`, bound by the engine. When `truncated` is true, pass
        `next_cursor` as `cursor` (with the same `sql`, or `sql` null) for the next page; use ORDER BY for stable
        pages."""
        offset = 0
        if cursor:
            page_req = svc.cursors.decode(cursor)
            if sql and guard.check(sql, allow=read_types, tool="query_database").sql != page_req.sql:
                raise InvalidCursor("this cursor belongs to another query; send the cursor alone or with its own SQL")
            sql, params, offset = page_req.sql, page_req.params, page_req.offset
            max_rows = max_rows or page_req.max_rows
        if not sql:
            raise InvalidParameters("give `sql` (one statement), or `cursor` to continue a previous result")
        checked = guard.check(sql, allow=read_types, tool="query_database")
        limits = svc.limits(max_rows)
        started = time.monotonic()
        page = await svc.run(
            _engine(ctx),
            partial(queries.read_page, checked=checked, params=params, limits=limits, offset=offset),
            sql=sql,
            label="query_database",
            timeout_s=timeout_s,
        )
        next_cursor = None
        if page.truncated:
            next_cursor = svc.cursors.encode(PageRequest(checked.sql, params, offset + len(page.rows), limits.max_rows))
        return typed_result(_query_result(page, offset, checked.type_name, started, next_cursor))

    @tool(mcp, annotations=read_only("Database schema"))
    async def get_schema(
        ctx: Context[Engine, Any],
        database: DatabaseArg = None,
        schema: SchemaArg = None,
        include_columns: Annotated[bool, Field(description="List each table's columns and types.")] = True,
        max_tables: Annotated[int, Field(ge=1, le=5000, description="Most tables and views to list.")] = 500,
    ) -> Annotated[CallToolResult, SchemaOverview]:
        """Databases, schemas, tables and views with their columns (types, nullability, defaults, comments),
        primary, unique and foreign keys, and estimated row counts. Data files appear in the `files` database."""
        engine = _engine(ctx)

        def work(cur: Any) -> SchemaOverview:
            dbs, count, truncated = catalog.overview(
                cur,
                database=database,
                schema=schema,
                include_columns=include_columns,
                max_tables=max_tables,
                default_db=engine.default_database,
                server_read_only=s.read_only,
            )
            return SchemaOverview(
                databases=dbs,
                data_dirs=[str(d) for d in s.data_dirs],
                writable=s.allow_write,
                table_count=count,
                truncated=truncated,
            )

        return typed_result(await svc.run(engine, work, sql="", label="get_schema"))

    @tool(mcp, annotations=read_only("Describe table"))
    async def describe_table(
        ctx: Context[Engine, Any], table: TableArg, schema: SchemaArg = None, database: DatabaseArg = None
    ) -> Annotated[CallToolResult, TableInfo]:
        """One table or view: columns with types, nullability, defaults and comments, keys, estimated rows and
        its CREATE statement. An unknown name lists the closest ones."""
        engine = _engine(ctx)

        def work(cur: Any) -> TableInfo:
            ref = catalog.resolve(cur, table, schema, database, engine.default_database)
            return catalog.describe(cur, ref)

        return typed_result(await svc.run(engine, work, sql="", label="describe_table"))

    @tool(mcp, annotations=read_only("Sample rows"))
    async def sample_rows(
        ctx: Context[Engine, Any],
        table: TableArg,
        schema: SchemaArg = None,
        database: DatabaseArg = None,
        n: Annotated[int, Field(ge=1, le=1000, description="How many rows.")] = 10,
        random: Annotated[
            bool, Field(description="A random sample (reads the whole table) instead of the first n.")
        ] = False,
    ) -> Annotated[CallToolResult, QueryResult]:
        """A few rows of a table or view, to see what the data looks like."""
        engine = _engine(ctx)
        limits = svc.limits(n)
        started = time.monotonic()

        def work(cur: Any) -> tuple[Page, str]:
            ref = catalog.resolve(cur, table, schema, database, engine.default_database)
            tail = f"USING SAMPLE reservoir({n} ROWS)" if random else f"LIMIT {n}"
            sql = f"SELECT * FROM {ref.qualified} {tail}"  # noqa: S608 (a catalog name, quoted; n is an int)
            checked = guard.check(sql, allow=read_types, tool="sample_rows")
            return queries.read_page(cur, checked, None, limits), checked.type_name

        page, kind = await svc.run(engine, work, sql="", label="sample_rows")
        return typed_result(_query_result(page, 0, kind, started, None))

    @tool(mcp, annotations=read_only("Explain query"))
    async def explain_query(
        ctx: Context[Engine, Any], sql: SqlArg, params: ParamsArg = None
    ) -> Annotated[CallToolResult, QueryPlan]:
        """DuckDB's physical plan for one statement, without running it (EXPLAIN, never EXPLAIN ANALYZE)."""
        checked = guard.check(sql, allow=explain_types, tool="explain_query")
        plan = await svc.run(
            _engine(ctx), partial(queries.explain, checked=checked, params=params), sql=sql, label="explain_query"
        )
        return typed_result(QueryPlan(statement_type=checked.type_name, plan=plan), text=plan)

    if s.allow_write:
        _add_write_tool(mcp, svc)

    @mcp.resource(
        "duckdb://{database}/{schema}/{table}",
        name="table",
        description="Columns, types, keys, comment and estimated rows of one table or view, as JSON.",
        mime_type="application/json",
        security=ResourceSecurity(exempt_params={"database", "schema", "table"}),
    )
    async def table_resource(database: str, schema: str, table: str, ctx: Context[Engine, Any]) -> str:
        engine = _engine(ctx)

        def work(cur: Any) -> TableInfo:
            ref = catalog.resolve(cur, table, schema, database, engine.default_database)
            return catalog.describe(cur, ref)

        try:
            info = await svc.run(engine, work, sql="", label="table_resource")
        except DbError as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps(info.model_dump(mode="json"), ensure_ascii=False)

    mcp.prompt(name="explore_dataset", title="Explore an unfamiliar dataset")(explore_dataset_prompt)
    return mcp


def _add_write_tool(mcp: DatabaseMCP, svc: DatabaseService) -> None:
    write_types = guard.WRITE_TYPES

    @tool(mcp, annotations=writes("Execute write statement", destructive=True, idempotent=False))
    async def execute_statement(
        ctx: Context[Engine, Any], sql: SqlArg, params: ParamsArg = None, timeout_s: TimeoutArg = None
    ) -> Annotated[CallToolResult, StatementResult]:
        """Run exactly one statement that changes data or schema (INSERT, UPDATE, DELETE, MERGE, CREATE, ALTER,
        DROP, ...) in its own transaction: committed when it succeeds, rolled back when it fails, times out or is
        cancelled. RETURNING rows come back like query rows. Queries belong in query_database."""
        checked = guard.check(sql, allow=write_types, tool="execute_statement")
        started = time.monotonic()
        out = await svc.run(
            _engine(ctx),
            partial(queries.run_write, checked=checked, params=params, limits=svc.limits()),
            sql=sql,
            label="execute_statement",
            timeout_s=timeout_s,
        )
        page = out.page
        result = StatementResult(
            statement_type=checked.type_name,
            committed=True,
            rows_affected=out.rows_affected,
            columns=[Column(name=c.name, type=c.type) for c in page.columns],
            rows=page.rows,
            row_count=len(page.rows),
            truncated=page.truncated,
            values_cut=page.values_cut,
            elapsed_ms=round((time.monotonic() - started) * 1000, 3),
        )
        return typed_result(result)


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_args(argv)
    apply_bound(settings.memory_bound)
    run_server("k2-database", settings, lambda: build_server(settings))


if __name__ == "__main__":
    main()
