"""Files as data: one read-only view per CSV/Parquet/JSON file under the data directories.

At start the server walks each data directory (no symbolic links, no hidden entries), and writes one view
per data file into a small DuckDB file in its private temporary directory, e.g. `sales/2024.csv` becomes
`files.main.sales_2024` = `SELECT * FROM read_csv('/data/sales/2024.csv')`. That file is attached READ_ONLY
as the catalog `files`. The views read the files when queried, so changed contents show; files added later
have no view but can be read with `read_csv('/abs/path')` and the other file functions, which the engine
allows under the data directories only.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)

READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".parquet": "read_parquet",
    ".json": "read_json",
    ".jsonl": "read_json",
    ".ndjson": "read_json",
}
_COMPRESSED = (".gz", ".zst")


@dataclass(frozen=True)
class DataFile:
    path: Path
    view: str
    reader: str


def quote_ident(name: str) -> str:
    """An identifier quoted by DuckDB's rules: in double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string literal by DuckDB's rules: in single quotes, inner quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def reader_for(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in _COMPRESSED:
        name = name.removesuffix(suffix)
    return READERS.get(os.path.splitext(name)[1])


def view_name(relative: Path) -> str:
    stem = relative.as_posix()
    for suffix in (*_COMPRESSED, *READERS):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    name = re.sub(r"[^0-9A-Za-z_]+", "_", stem).strip("_").lower() or "file"
    return name if not name[0].isdigit() else f"t_{name}"


def find_data_files(dirs: list[Path], limit: int) -> list[DataFile]:
    found: list[DataFile] = []
    taken: set[str] = set()
    for root in dirs:
        for current, subdirs, names in os.walk(root, followlinks=False):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in sorted(names):
                path = Path(current, name)
                reader = reader_for(path)
                if name.startswith(".") or reader is None or path.is_symlink() or not path.is_file():
                    continue
                if len(found) >= limit:
                    logger.warning("More than %d data files: the rest get no view", limit)
                    return found
                view = base = view_name(path.relative_to(root))
                n = 2
                while view in taken:
                    view, n = f"{base}_{n}", n + 1
                taken.add(view)
                found.append(DataFile(path, view, reader))
    return found


def build_views_database(target: Path, files: list[DataFile]) -> list[DataFile]:
    """Write the views into a new DuckDB file at `target`; return the files whose view could be made.

    All views go in one transaction (one write to disk). A file DuckDB cannot read is logged and left out, and
    the transaction is made again without it."""
    pending = list(files)
    con = duckdb.connect(str(target), config={"autoinstall_known_extensions": False, "threads": 1})
    try:
        while True:
            failed = _create_views(con, pending)
            if failed is None:
                return pending
            pending.remove(failed)
    finally:
        con.close()


def _create_views(con: duckdb.DuckDBPyConnection, files: list[DataFile]) -> DataFile | None:
    con.begin()
    for f in files:
        view = quote_ident(f.view)
        source = f"{f.reader}({quote_literal(str(f.path))})"
        try:
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {source}")  # noqa: S608 (quoted)
            con.execute(f"COMMENT ON VIEW {view} IS {quote_literal('data file ' + str(f.path))}")
        except duckdb.Error as exc:
            logger.warning("No view for data file %s: %s", f.path, str(exc).split("\n", 1)[0])
            con.rollback()
            return f
    con.commit()
    return None
