"""The offline engine's folder index: every indexable file of a root cut into units (`engine.units`), in a SQLite
FTS5 table, kept fresh incrementally.

It is built on first use and refreshed before each search, only through the filesystem server (the host never
reads the disk itself): `directory_tree` lists sizes and mtimes, files that are new or changed (size, mtime, or
read within two seconds of their mtime, when a same-second edit could hide) are read with `read_file`, files
gone are dropped. With a state directory the index persists in `<state>/index/<hash of root>.sqlite` (0600);
without one it lives in memory for the runtime.

Search: the question's canonical words OR-matched with BM25 over the unit's text, name, scope, path and
context, within the sub-trees the question names and overall; `Hit`s carry the fields the ranker needs.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from k2_host.engine.units import Unit, tokens, units_of
from k2_host.mcp.types import ToolCaller
from k2_host.rag.errors import IngestError
from k2_host.rag.sources import classify, list_tree, read_text

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 7
RACY_S = 2.0  # a file read within this many seconds of its mtime is read again next time
FIELDS = ("body", "name", "scope", "path", "ctx", "sort")


@dataclass
class Hit:
    rowid: int
    path: str  # relative to the root
    tree: str  # the sub-tree it is in: a top-level folder, or node_modules/<package>
    line: int
    end: int
    kind: str
    name: str
    scope: str
    value: str
    text: str
    context: str
    fields: dict[str, set[str]]  # canonical words per field
    bm25: float = 0.0
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class RefreshStats:
    root: str
    files: int = 0  # files in the index after the refresh
    units: int = 0  # units in the index after the refresh
    read: int = 0  # files read (new or changed)
    read_units: int = 0  # units made from them
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # files left out, with why
    seconds: float = 0.0

    def data(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "files": self.files,
            "units": self.units,
            "read": self.read,
            "read_units": self.read_units,
            "removed": self.removed,
            "skipped": len(self.skipped),
            "seconds": round(self.seconds, 3),
        }


def tree_of(rel: str) -> str:
    parts = rel.split("/")
    if parts[0] == "node_modules" and len(parts) > 2:
        if parts[1].startswith("@") and len(parts) > 3:
            return "/".join(parts[:3])
        return "/".join(parts[:2])
    return parts[0] if len(parts) > 1 else ""


def _mtime_s(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


class FolderIndex:
    """The index of one filesystem root (as the filesystem server names it)."""

    def __init__(self, root: str, state_dir: Path | None, *, max_files: int = 20_000, max_file_bytes: int = 2_000_000):
        self.root = root.rstrip("/") or "/"
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self._refresh_lock = anyio.Lock()
        self.path: Path | None = None
        if state_dir is not None:
            folder = Path(state_dir) / "index"
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path = folder / f"{hashlib.sha256(self.root.encode()).hexdigest()[:16]}.sqlite"
        self.db = self._open()
        self._idf: dict[str, float] = {}
        self._idf_default = 10.0
        self._trees: dict[str, list[str]] | None = None

    # --- storage --------------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        target = str(self.path) if self.path else ":memory:"
        if self.path and not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                self._create(db)
        except sqlite3.DatabaseError:  # not a database (a damaged file): start over
            db.close()
            if self.path:
                self.path.unlink(missing_ok=True)
                return self._open()
            raise
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        db.executescript(
            """
            DROP TABLE IF EXISTS units; DROP TABLE IF EXISTS vocab; DROP TABLE IF EXISTS meta;
            DROP TABLE IF EXISTS files;
            CREATE TABLE meta (
                id INTEGER PRIMARY KEY, body TEXT, name TEXT, scope TEXT, path TEXT, ctx TEXT, sort TEXT,
                file TEXT, tree TEXT, line INTEGER, end_line INTEGER, kind TEXT,
                raw_name TEXT, raw_scope TEXT, value TEXT, text TEXT, context TEXT
            );
            CREATE INDEX meta_file ON meta (file, line);
            CREATE INDEX meta_name ON meta (raw_name);
            CREATE VIRTUAL TABLE units USING fts5(
                body, name, scope, path, ctx, sort, content = 'meta', content_rowid = 'id',
                tokenize = "unicode61 remove_diacritics 2 tokenchars '_'", detail = column
            );
            CREATE VIRTUAL TABLE vocab USING fts5vocab(units, 'row');
            CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime TEXT, read_at REAL, units INTEGER);
            """
        )
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def _files(self) -> dict[str, tuple[int, str | None, float]]:
        with self._lock:
            rows = self.db.execute("SELECT path, size, mtime, read_at FROM files").fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def _store(self, rel: str, size: int, mtime: str | None, read_at: float, units: list[Unit]) -> None:
        rows = []
        tree = tree_of(rel)
        path_words = " ".join(tokens(rel))
        for u in units:
            rows.append(
                (
                    " ".join(tokens(u.text)),
                    " ".join(tokens(u.name)),
                    " ".join(tokens(u.scope)),
                    path_words,
                    " ".join(tokens(u.context)),
                    f"{u.kind} value" if u.value else u.kind,
                    rel,
                    tree,
                    u.line,
                    u.end or u.line,
                    u.kind,
                    u.name,
                    u.scope,
                    u.value,
                    u.text,
                    u.context,
                )
            )
        with self._lock:
            self.db.execute("BEGIN")
            try:
                self._delete(rel)
                self.db.executemany(
                    "INSERT INTO meta (body, name, scope, path, ctx, sort, file, tree, line, end_line, kind, raw_name,"
                    " raw_scope, value, text, context) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                self.db.execute(
                    "INSERT INTO units (rowid, body, name, scope, path, ctx, sort)"
                    " SELECT id, body, name, scope, path, ctx, sort FROM meta WHERE file = ?",
                    (rel,),
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", (rel, size, mtime, read_at, len(rows))
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def _delete(self, rel: str) -> None:
        self.db.execute(
            "INSERT INTO units (units, rowid, body, name, scope, path, ctx, sort)"
            " SELECT 'delete', id, body, name, scope, path, ctx, sort FROM meta WHERE file = ?",
            (rel,),
        )
        self.db.execute("DELETE FROM meta WHERE file = ?", (rel,))

    def _drop(self, rels: list[str]) -> None:
        with self._lock:
            self.db.execute("BEGIN")
            for rel in rels:
                self._delete(rel)
                self.db.execute("DELETE FROM files WHERE path = ?", (rel,))
            self.db.execute("COMMIT")

    # --- refresh --------------------------------------------------------------------------------------

    async def refresh(self, caller: ToolCaller, *, timeout: float = 60.0, concurrency: int = 8) -> RefreshStats:
        """Bring the index up to date with the folder (files changed since the last refresh only)."""
        async with self._refresh_lock:
            started = time.perf_counter()
            stats = RefreshStats(self.root)
            entries, warnings = await list_tree(caller, self.root, max_files=self.max_files, timeout=timeout)
            stats.skipped.extend(warnings)
            known = self._files()
            listed: dict[str, tuple[int, str | None]] = {}
            prefix = self.root.rstrip("/") + "/"
            for full, size, mtime in entries:
                rel = full[len(prefix) :] if full.startswith(prefix) else full
                if size > self.max_file_bytes:
                    stats.skipped.append(f"{rel}: {size} bytes, over the {self.max_file_bytes}-byte limit")
                    continue
                listed[rel] = (size, mtime)
            todo = []
            for rel, (size, mtime) in listed.items():
                old = known.get(rel)
                if old is not None and old[0] == size and old[1] == mtime:
                    modified = _mtime_s(mtime)
                    if modified is None or old[2] - modified > RACY_S:
                        continue
                todo.append((rel, size, mtime))
            gone = [rel for rel in known if rel not in listed]
            if gone:
                self._drop(gone)
                stats.removed = len(gone)
            limiter = anyio.Semaphore(concurrency)

            async def one(rel: str, size: int, mtime: str | None) -> None:
                async with limiter:
                    read_at = time.time()
                    try:
                        content = await read_text(caller, prefix + rel, timeout=timeout)
                    except IngestError as exc:
                        stats.skipped.append(f"{rel}: {exc}")
                        return
                kind, language = classify(rel) or ("text", None)
                units = await anyio.to_thread.run_sync(units_of, rel, content, kind, language)
                await anyio.to_thread.run_sync(self._store, rel, size, mtime, read_at, units)
                stats.read += 1
                stats.read_units += len(units)

            async with anyio.create_task_group() as tg:
                for rel, size, mtime in todo:
                    tg.start_soon(one, rel, size, mtime)
            if todo or gone or not self._idf:
                self._load_stats()
            with self._lock:
                stats.files, stats.units = self.db.execute(
                    "SELECT count(*), coalesce(sum(units), 0) FROM files"
                ).fetchone()
            stats.seconds = time.perf_counter() - started
            return stats

    def _load_stats(self) -> None:
        with self._lock:
            total = self.db.execute("SELECT count(*) FROM meta").fetchone()[0] or 1
            vocab = self.db.execute("SELECT term, doc FROM vocab").fetchall()
            trees = self.db.execute("SELECT DISTINCT tree FROM meta").fetchall()
        self._idf = {t: math.log(1 + (total - d + 0.5) / (d + 0.5)) for t, d in vocab}
        self._idf_default = math.log(1 + total)
        self._trees = {t: tokens(t.removeprefix("node_modules/")) for (t,) in trees if t}

    # --- search ---------------------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._idf_default)

    def known(self, term: str) -> bool:
        return term in self._idf

    def trees(self) -> dict[str, list[str]]:
        return dict(self._trees or {})

    def search(
        self, terms: list[str], *, trees: list[str] | None = None, sorts: list[str] | None = None, limit: int = 300
    ) -> list[Hit]:
        """Units matching any of `terms` (canonical words), best BM25 first; only in `trees` when given, only of
        the `sorts` given (unit kinds, or "value": a unit that states a value)."""
        usable = [t for t in dict.fromkeys(terms) if t in self._idf]
        if not usable:
            return []
        match = "{body name scope path ctx} : (" + " OR ".join(f'"{t}"' for t in usable) + ")"
        if sorts:
            match += " AND sort : (" + " OR ".join(f'"{k}"' for k in sorts) + ")"
        sql = (
            "SELECT m.id, m.body, m.name, m.scope, m.path, m.ctx, m.sort, m.file, m.tree, m.line, m.end_line, m.kind,"
            " m.raw_name, m.raw_scope, m.value, m.text, m.context, s.score FROM ("
            "  SELECT rowid, bm25(units, 1.0, 2.5, 1.2, 1.5, 0.4, 0.0) AS score FROM units WHERE units MATCH ?"
            "  ORDER BY score LIMIT ?) AS s JOIN meta AS m ON m.id = s.rowid"
        )
        if trees:
            known = self._trees or {}
            within = [" AND ".join(f'"{w}"' for w in known.get(t) or tokens(t)) for t in trees]
            match = f"{match} AND path: (" + " OR ".join(f"({w})" for w in within if w) + ")"
        args: list[Any] = [match, limit * 4 if trees else limit]
        if trees:
            sql += f" WHERE m.tree IN ({','.join('?' * len(trees))})"
            args.extend(trees)
        sql += " ORDER BY s.score LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self.db.execute(sql, args).fetchall()
        return [_hit(r[:17], -float(r[17])) for r in rows]

    def definitions(self, name: str) -> list[Hit]:
        """Assignments of `name` (for following an identifier default to its value)."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM meta WHERE raw_name = ? AND kind IN ('assign', 'key') LIMIT 50",  # noqa: S608
                (name,),
            ).fetchall()
        return [_hit(r) for r in rows]

    def classes(self, name: str) -> list[Hit]:
        """The classes named `name` (an exception raised somewhere, say), shallowest path first."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM meta WHERE raw_name = ? AND kind = 'class' LIMIT 20",  # noqa: S608
                (name,),
            ).fetchall()
        return sorted((_hit(r) for r in rows), key=lambda h: (h.path.count("/"), h.path))

    def definition_of(self, path: str, name: str, before: int) -> Hit | None:
        """The `def`/`class` named `name` in `path` closest above line `before` (a docstring's owner)."""
        with self._lock:
            row = self.db.execute(
                f"SELECT {_COLUMNS} FROM meta WHERE file = ? AND raw_name = ? AND kind IN ('def', 'class')"  # noqa: S608
                " AND line <= ? ORDER BY line DESC LIMIT 1",
                (path, name, before),
            ).fetchone()
        return _hit(row) if row else None

    def around(self, path: str, first: int, last: int) -> list[Hit]:
        """The units of `path` between two lines, in order (the sentences after one, say)."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM meta WHERE file = ? AND line BETWEEN ? AND ? ORDER BY line",  # noqa: S608
                (path, first, last),
            ).fetchall()
        return [_hit(r) for r in rows]


# the columns of `meta` a Hit is made of (a constant: no input reaches the SQL text)
_COLUMNS = ", ".join(
    (
        *("id", "body", "name", "scope", "path", "ctx", "sort", "file", "tree", "line", "end_line", "kind"),
        *("raw_name", "raw_scope", "value", "text", "context"),
    )
)


def _hit(r: tuple[Any, ...], score: float = 0.0) -> Hit:
    return Hit(
        rowid=r[0],
        path=r[7],
        tree=r[8],
        line=int(r[9]),
        end=int(r[10]),
        kind=r[11],
        name=r[12],
        scope=r[13],
        value=r[14],
        text=r[15],
        context=r[16],
        fields={f: set((r[1 + i] or "").split()) for i, f in enumerate(FIELDS)},
        bm25=score,
    )


class FolderIndexes:
    """One `FolderIndex` per filesystem root, for the runtime's life (the offline engine holds it)."""

    def __init__(self, state_dir: Path | None, *, max_files: int = 20_000, max_file_bytes: int = 2_000_000) -> None:
        self.state_dir = state_dir
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self._by_root: dict[str, FolderIndex] = {}
        self._failed: set[str] = set()

    def get(self, root: str) -> FolderIndex | None:
        if root in self._failed:
            return None
        if root not in self._by_root:
            try:
                self._by_root[root] = FolderIndex(
                    root, self.state_dir, max_files=self.max_files, max_file_bytes=self.max_file_bytes
                )
            except (OSError, sqlite3.Error) as exc:  # a state dir we cannot write: answer without an index
                logger.warning("offline engine: no folder index for %s (%s); searching with grep", root, exc)
                self._failed.add(root)
                return None
        return self._by_root[root]

    def close(self) -> None:
        for index in self._by_root.values():
            index.close()
        self._by_root.clear()


class SplitCaller:
    """The folder listing goes through `listing` (recorded in the request); reading files through `upkeep`."""

    def __init__(self, listing: ToolCaller, upkeep: ToolCaller) -> None:
        self.listing = listing
        self.upkeep = upkeep

    async def call(self, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None):  # type: ignore[no-untyped-def]
        target = self.listing if name == "filesystem.directory_tree" else self.upkeep
        return await target.call(name, arguments, timeout=timeout)
