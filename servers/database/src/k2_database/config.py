"""Settings of the database server: `K2_DB_*` environment variables, overridden by flags."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from k2_shared.settings import PathList, ServerSettings, add_common_arguments, load_settings, split_list
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from k2_database.memory import BASE_BYTES, default_bound, parse_size

MEMORY = ":memory:"
FILES_CATALOG = "files"
"""The catalog holding one read-only view per data file found under the data directories."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_RESERVED = {FILES_CATALOG, "memory", "system", "temp", "main"}

DatabaseList = Annotated[list[str], NoDecode, BeforeValidator(split_list(","))]


@dataclass(frozen=True)
class DatabaseSpec:
    """One `--db` value: `PATH`, `NAME=PATH` or `:memory:`."""

    name: str | None
    path: str

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY

    @classmethod
    def parse(cls, value: str) -> DatabaseSpec:
        name, sep, path = value.partition("=")
        if not sep:
            return cls(None, value.strip())
        return cls(name.strip(), path.strip())


class DatabaseSettings(ServerSettings):
    """Every field is read from `K2_DB_<FIELD>` (e.g. `K2_DB_PATH=/data/shop.duckdb`, `K2_DB_ALLOW_WRITE=true`)."""

    model_config = SettingsConfigDict(env_prefix="K2_DB_", extra="forbid", env_ignore_empty=True, validate_default=True)

    allow_write: bool = Field(False, description="offer execute_statement; open the database files read-write")
    create: bool = Field(
        False, description="create the first database file (empty, and its folder) when missing, also read-only"
    )
    path: DatabaseList = Field(
        default_factory=lambda: [MEMORY],
        description="databases, comma separated: the first is the default, the others are attached (NAME=PATH)",
    )
    data_dirs: PathList = Field(
        default_factory=list, description="directories whose CSV/Parquet/JSON files are queryable (':' separated)"
    )
    max_rows: int = Field(1000, ge=1, le=100_000, description="most rows in one page of results")
    max_result_bytes: int = Field(256 * 1024, ge=1024, le=64 * 1024 * 1024, description="most JSON bytes per page")
    max_value_chars: int = Field(10_000, ge=16, le=10_000_000, description="longer text values are cut to this")
    timeout_s: float = Field(30.0, gt=0, le=3600, description="time limit of one call; the query is interrupted")
    memory_limit: str = Field("1GB", description="DuckDB memory_limit, e.g. 512MB or 4GB")
    threads: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 2), ge=1, le=256, description="DuckDB worker threads"
    )
    max_temp_size: str = Field("1GB", description="DuckDB max_temp_directory_size for spilling (private temp dir)")
    max_memory: str | None = Field(
        None,
        description="hard bound of the server process's memory (RLIMIT_DATA); default 1.5 x memory_limit + 512 MiB"
        " + 8 MiB per thread",
    )
    max_data_files: int = Field(1000, ge=0, le=100_000, description="most data files exposed as views")
    cursor_ttl_s: int = Field(3600, ge=10, le=7 * 24 * 3600, description="how long a paging cursor stays valid")

    @field_validator("memory_limit", "max_temp_size", "max_memory")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _SIZE.match(value.strip()):
            raise ValueError("expected a size such as 512MB or 4GB")
        return value.strip()

    @field_validator("max_memory")
    @classmethod
    def _bound_above_limit(cls, value: str | None, info: ValidationInfo) -> str | None:
        limit = info.data.get("memory_limit")
        if value is not None and limit is not None and parse_size(value) < parse_size(limit) + BASE_BYTES:
            raise ValueError(f"{value!r} leaves no room beside memory_limit {limit!r}: give at least 512MiB more")
        return value

    @field_validator("data_dirs")
    @classmethod
    def _dirs_exist(cls, dirs: list[Path]) -> list[Path]:
        resolved = []
        for d in dirs:
            real = d.expanduser().resolve()
            if not real.is_dir():
                raise ValueError(f"{str(d)!r} is not an existing directory")
            resolved.append(real)
        return resolved

    @field_validator("path")
    @classmethod
    def _check_databases(cls, paths: list[str], info: ValidationInfo) -> list[str]:
        allow_write = bool(info.data.get("allow_write"))
        names: set[str] = set()
        for i, spec in enumerate(_specs(paths)):
            name = spec.name or _default_name(spec)
            if not spec.path:
                raise ValueError(f"the database {name!r} has an empty path")
            if spec.in_memory and i > 0:
                raise ValueError("only the first database may be :memory:")
            if i == 0 and name != _default_name(spec):
                raise ValueError(
                    f"the first database is the default and is named after its file ({_default_name(spec)!r});"
                    f" drop {name}= or give it as a later --db"
                )
            if i > 0 and (not _NAME.match(name) or name.lower() in _RESERVED):
                raise ValueError(f"{name!r} is not a usable database name (letters, digits, _; not reserved)")
            if name.lower() in names:
                raise ValueError(f"two databases are named {name!r}; use NAME=PATH to tell them apart")
            names.add(name.lower())
            file = Path(spec.path).expanduser()
            if spec.in_memory:
                continue
            create = bool(info.data.get("create")) and i == 0
            if file.exists() and not file.is_file():
                raise ValueError(f"{spec.path!r} is not a regular file")
            if not allow_write and not create and not file.is_file():
                raise ValueError(
                    f"{spec.path!r} does not exist (read-only mode opens existing files only; --create makes it)"
                )
            if allow_write and not create and not file.parent.is_dir():
                raise ValueError(f"the directory of {spec.path!r} does not exist")
        return paths

    @property
    def databases(self) -> list[DatabaseSpec]:
        """The databases in order, each with its catalog name (the file's stem unless NAME= was given)."""
        return _specs(self.path)

    @property
    def memory_bound(self) -> int:
        """Bytes the server process may hold (see `k2_database.memory`)."""
        if self.max_memory is not None:
            return parse_size(self.max_memory)
        return default_bound(self.memory_limit, self.threads)

    @property
    def read_only(self) -> bool:
        return not self.allow_write


def _specs(paths: list[str]) -> list[DatabaseSpec]:
    specs = [DatabaseSpec.parse(v) for v in paths] or [DatabaseSpec(None, MEMORY)]
    return [DatabaseSpec(s.name or _default_name(s), s.path) for s in specs]


def _default_name(spec: DatabaseSpec) -> str:
    """The catalog name DuckDB gives a database file: its name without the extension."""
    if spec.in_memory:
        return "memory"
    return Path(spec.path).name.split(".")[0] or "db"


def parse_args(argv: Sequence[str] | None = None) -> DatabaseSettings:
    parser = argparse.ArgumentParser(
        prog="k2-database",
        description="MCP server for DuckDB: read-only by default, one statement per call, files as data.",
    )
    g = parser.add_argument_group("database")
    g.add_argument(
        "--db", "--path", dest="path", action="append", metavar="[NAME=]PATH", help="database file or :memory: (repeat)"
    )
    g.add_argument("--data-dir", dest="data_dirs", action="append", help="directory of CSV/Parquet/JSON (repeat)")
    g.add_argument("--allow-write", dest="allow_write", action="store_const", const=True, help="allow writes")
    g.add_argument(
        "--create", dest="create", action="store_const", const=True, help="create the first database file if missing"
    )
    g.add_argument("--max-rows", dest="max_rows", help="most rows per page (default 1000)")
    g.add_argument("--max-result-bytes", dest="max_result_bytes", help="most JSON bytes per page")
    g.add_argument("--max-value-chars", dest="max_value_chars", help="longer text values are cut")
    g.add_argument("--timeout", "--timeout-s", dest="timeout_s", metavar="S", help="time limit per call (seconds)")
    g.add_argument("--memory-limit", dest="memory_limit", help="DuckDB memory limit, e.g. 1GB")
    g.add_argument("--threads", dest="threads", help="DuckDB threads (default: the number of CPUs)")
    g.add_argument("--max-temp-size", dest="max_temp_size", help="most spill space, e.g. 1GB")
    g.add_argument(
        "--max-memory", dest="max_memory", help="hard bound of the process's memory (default from --memory-limit)"
    )
    add_common_arguments(parser)
    return load_settings(DatabaseSettings, argv, parser)
