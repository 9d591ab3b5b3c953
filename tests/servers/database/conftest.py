"""A small shop in DuckDB, data files beside it and secrets outside, for the database server's tests.

world/
  shop.duckdb      customers (PK, comments), orders (FK to customers), a view big_orders
  data/            customers.csv, orders.parquet, events.jsonl, nested/regions.csv,
                   link.csv -> ../outside/secret.csv (a symbolic link leaving the data directory)
  outside/         secret.csv, secret.txt, holding SECRET: nothing may ever read them
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from k2_database.config import DatabaseSettings
from k2_database.server import DatabaseMCP, build_server
from k2_shared.errors import ERROR_META_KEY
from mcp import Client
from mcp.types import CallToolResult, TextContent

SECRET = "K2-SENTINEL-db-3e8c1d-outside-the-data-dirs"

SHOP_SQL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, email VARCHAR UNIQUE, city VARCHAR);
COMMENT ON TABLE customers IS 'people who bought something';
COMMENT ON COLUMN customers.email IS 'contact address';
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), amount DECIMAL(10, 2), placed DATE
);
INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', 'London'), (2, 'Grace', 'grace@example.com', 'Arlington'),
    (3, 'Linus', NULL, 'Helsinki');
INSERT INTO orders VALUES (10, 1, 12.50, DATE '2024-01-05'), (11, 1, 99.99, DATE '2024-02-11'),
    (12, 2, 5.00, DATE '2024-03-01'), (13, 3, 250.00, DATE '2024-03-15');
CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 50;
"""


@dataclass
class World:
    root: Path
    db: Path
    data: Path
    outside: Path

    def settings(self, **overrides: Any) -> DatabaseSettings:
        values: dict[str, Any] = {"path": [str(self.db)], "data_dirs": [self.data], "timeout_s": 10.0}
        values.update(overrides)
        return DatabaseSettings(**values)

    def snapshot(self) -> dict[str, str]:
        """Every path under the world with a digest of its content (or its link target)."""
        out: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                p = Path(dirpath, name)
                rel = str(p.relative_to(self.root))
                if p.is_symlink():
                    out[rel] = "link:" + os.readlink(p)
                elif p.is_file():
                    out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
                else:
                    out[rel] = "dir"
        return out


def make_world(root: Path) -> World:
    db = root / "shop.duckdb"
    data = root / "data"
    outside = root / "outside"
    (data / "nested").mkdir(parents=True)
    outside.mkdir()
    con = duckdb.connect(str(db))
    con.execute(SHOP_SQL)
    con.close()
    (data / "customers.csv").write_text("id,name,city\n1,Ada,London\n2,Grace,Arlington\n")
    (data / "events.jsonl").write_text('{"kind": "click", "n": 3}\n{"kind": "view", "n": 5}\n')
    (data / "nested" / "regions.csv").write_text("region,population\nnorth,10\nsouth,20\n")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, range * 2 AS doubled FROM range(5)) TO '{data / 'orders.parquet'}'")
    con.close()
    (outside / "secret.csv").write_text(f"secret\n{SECRET}\n")
    (outside / "secret.txt").write_text(SECRET)
    (data / "link.csv").symlink_to(outside / "secret.csv")
    return World(root, db, data, outside)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@asynccontextmanager
async def serve(settings: DatabaseSettings) -> AsyncIterator[Client]:
    async with Client(build_server(settings)) as client:
        yield client


@asynccontextmanager
async def serve_with_server(settings: DatabaseSettings) -> AsyncIterator[tuple[Client, DatabaseMCP]]:
    server = build_server(settings)
    async with Client(server) as client:
        yield client, server


def kind(result: CallToolResult) -> str | None:
    """The kind of refusal a failed result carries (`_meta["k2/error"]`), or None."""
    return (result.meta or {}).get(ERROR_META_KEY)


def text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content
