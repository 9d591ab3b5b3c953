"""Reading sources through MCP servers only: files and folders (filesystem), web pages (websearch), SQL query
results (database). Each reader returns `Document`s; nothing here touches the disk or the network itself.

    filesystem.get_file_info / directory_tree    what is there (.gitignore honoured, .git skipped)
    filesystem.read_file                         text a window of lines at a time; PDFs as a blob resource
    websearch.fetch_webpage                      main content as markdown, a window at a time
    database.query_database                      typed rows, a page at a time (next_cursor)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Any

from k2_host.mcp.types import ToolCaller, ToolResult
from k2_host.rag.errors import IngestError
from k2_host.rag.extract import html_to_text, pdf_to_text
from k2_host.rag.models import Document

MARKDOWN = {".md", ".markdown", ".mdx", ".rst", ".adoc"}
HTML = {".html", ".htm", ".xhtml"}
PDF = {".pdf"}
TEXT = {
    ".txt",
    ".text",
    ".csv",
    ".tsv",
    ".log",
    ".tex",
    ".org",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".cfg",
    ".conf",
    ".xml",
    ".sql",
    "",
}
CODE = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".scala": "scala",
    ".sh": "shell",
    ".bash": "shell",
    ".lua": "lua",
    ".r": "r",
    ".jl": "julia",
    ".ex": "elixir",
    ".hs": "haskell",
    ".css": "css",
    ".vue": "vue",
}
READ_LINES = 100_000


def classify(path: str) -> tuple[str, str | None] | None:
    """(kind, language) of a file by its extension, or None when it is not something we index."""
    suffix = PurePosixPath(path).suffix.lower()
    name = PurePosixPath(path).name
    if suffix in MARKDOWN:
        return "markdown", None
    if suffix in HTML:
        return "html", None
    if suffix in PDF:
        return "pdf", None
    if suffix in CODE:
        return "code", CODE[suffix]
    if suffix in TEXT and (suffix or name in ("README", "LICENSE", "Makefile", "Dockerfile", "NOTES")):
        return "text", None
    return None


def ancestors(path: str) -> list[str]:
    """Folders above a path, outermost first ("/a/b/c.md" → ["/a", "/a/b"]), for the `under` filter."""
    parents = [str(p) for p in PurePosixPath(path).parents if str(p) not in (".", "/")]
    return list(reversed(parents))


async def call(caller: ToolCaller, name: str, args: dict[str, Any], timeout: float) -> ToolResult:
    result = await caller.call(name, args, timeout=timeout)
    if result.is_error:
        what = next((str(v) for v in args.values() if isinstance(v, str)), "")
        raise IngestError(f"{name} refused {what!r}: {result.text}", code=result.error_code or "tool_error")
    return result


async def list_files(
    caller: ToolCaller, path: str, *, max_files: int, max_bytes: int, timeout: float
) -> tuple[list[str], list[str]]:
    """(files to ingest below or at `path`, warnings)."""
    info = (await call(caller, "filesystem.get_file_info", {"path": path}, timeout)).structured or {}
    if info.get("kind") != "directory":
        if classify(path) is None:
            return [], [f"{path!r}: not a kind of file that is indexed (text, markdown, code, HTML, PDF)"]
        return [path], []
    entries, warnings = await list_tree(caller, path, max_files=max_files, timeout=timeout)
    files: list[str] = []
    for full, size, _mtime in entries:
        if size > max_bytes:
            warnings.append(f"{full!r}: {size} bytes, over the {max_bytes}-byte limit; skipped")
        else:
            files.append(full)
    return files, warnings


async def list_tree(
    caller: ToolCaller, path: str, *, max_files: int, timeout: float
) -> tuple[list[tuple[str, int, str | None]], list[str]]:
    """((path, size, mtime) of every indexable file below the folder `path`, sorted; warnings)."""
    args = {"path": path, "max_depth": 32, "max_entries": max_files}
    tree = (await call(caller, "filesystem.directory_tree", args, timeout)).structured or {}
    warnings: list[str] = []
    if tree.get("truncated"):
        warnings.append(f"{path!r}: the folder listing was cut ({tree.get('truncation_reason')}); some files left out")
    entries: list[tuple[str, int, str | None]] = []
    base = path.rstrip("/") or "/"

    def walk(nodes: list[dict[str, Any]], prefix: str) -> None:
        for node in nodes:
            full = f"{prefix}/{node['name']}" if prefix != "/" else f"/{node['name']}"
            if node.get("kind") == "directory":
                walk(node.get("children") or [], full)
            elif node.get("kind") == "file" and classify(full) is not None:
                entries.append((full, int(node.get("size") or 0), node.get("mtime")))

    walk(tree.get("tree") or [], base)
    return sorted(entries), warnings


async def read_document(caller: ToolCaller, path: str, *, timeout: float) -> Document:
    """One file as a Document (text read window by window; PDF and HTML converted)."""
    found = classify(path)
    if found is None:
        raise IngestError(f"{path!r} is not a kind of file that is indexed", code="unsupported")
    kind, language = found
    info = (await call(caller, "filesystem.get_file_info", {"path": path}, timeout)).structured or {}
    meta: dict[str, Any] = {"path": path, "dirs": ancestors(path), "modified": info.get("mtime")}
    if language:
        meta["language"] = language
    first = await call(caller, "filesystem.read_file", {"path": path, "limit": READ_LINES}, timeout)
    title: str | None = PurePosixPath(path).name
    if kind == "pdf":
        blob = next((r.get("blob") for r in first.resources if r.get("blob")), None)
        content = str((first.structured or {}).get("content") or "")
        if blob is not None:
            data = base64.b64decode(blob)
        elif content.startswith("%PDF"):  # an all-ASCII PDF is served as text
            data = content.encode()
        else:
            raise IngestError(f"{path!r}: the filesystem server returned no PDF data", code="bad_result")
        text, pages = pdf_to_text(data, name=path)
        meta["pages"] = pages
    else:
        text = await read_text(caller, path, timeout=timeout, first=first)
        if kind == "html":
            text, page_title = html_to_text(text)
            title = page_title or title
    return Document(f"file:{path}", text, kind, path, "file", title=title, meta=meta)


async def read_text(caller: ToolCaller, path: str, *, timeout: float, first: ToolResult | None = None) -> str:
    """A text file's whole content, read through `filesystem.read_file` a window of lines at a time."""
    if first is None:
        first = await call(caller, "filesystem.read_file", {"path": path, "limit": READ_LINES}, timeout)
    parts = [str((first.structured or {}).get("content", first.text))]
    slice_ = first.structured or {}
    while slice_.get("truncated") and slice_.get("next_offset") is not None:
        args = {"path": path, "offset": slice_["next_offset"], "limit": READ_LINES}
        nxt = await call(caller, "filesystem.read_file", args, timeout)
        slice_ = nxt.structured or {}
        parts.append(str(slice_.get("content", "")))
    return "".join(parts)


async def fetch_page(caller: ToolCaller, url: str, *, timeout: float, max_windows: int = 100) -> Document:
    """A web page's main content (markdown) as a Document, all windows joined."""
    parts: list[str] = []
    start, page = 0, {}
    for _ in range(max_windows):
        args = {"url": url, "start_index": start, "format": "markdown"}
        page = (await call(caller, "websearch.fetch_webpage", args, timeout)).structured or {}
        parts.append(str(page.get("content", "")))
        if not page.get("truncated") or page.get("next_start_index") is None:
            break
        start = int(page["next_start_index"])
    title = page.get("title") or url
    kind = "markdown" if page.get("kind") == "html" else "text"
    meta = {"url": url, "final_url": page.get("final_url", url), "content_type": page.get("content_type")}
    return Document(url, "".join(parts), kind, url, "web", title=title, meta=meta, root=[str(title)])


async def query_rows(
    caller: ToolCaller, sql: str, *, params: list[Any] | None, max_rows: int, timeout: float
) -> AsyncIterator[tuple[list[str], list[list[Any]]]]:
    """Pages of (column names, rows) of one query."""
    args: dict[str, Any] = {"sql": sql}
    if params:
        args["params"] = params
    seen = 0
    while True:
        page = (await call(caller, "database.query_database", args, timeout)).structured or {}
        columns = [str(c.get("name")) for c in page.get("columns", [])]
        rows = page.get("rows", [])[: max_rows - seen]
        seen += len(rows)
        yield columns, rows
        cursor = page.get("next_cursor")
        if not page.get("truncated") or not cursor or seen >= max_rows:
            return
        args = {"cursor": cursor}


async def read_query(
    caller: ToolCaller,
    sql: str,
    *,
    params: list[Any] | None = None,
    doc_id: str | None = None,
    title: str | None = None,
    max_rows: int = 100_000,
    timeout: float = 60.0,
) -> Document:
    """A query's rows as one Document: each row a block of `column: value` lines, so rows are not split."""
    blocks: list[str] = []
    columns: list[str] = []
    async for columns, rows in query_rows(caller, sql, params=params, max_rows=max_rows, timeout=timeout):
        for row in rows:
            blocks.append("\n".join(f"{c}: {v}" for c, v in zip(columns, row, strict=False) if v is not None))
    digest = hashlib.sha256(f"{sql}\x00{params!r}".encode()).hexdigest()[:16]
    meta = {"sql": sql, "columns": columns, "rows": len(blocks)}
    name = title or f"SQL {sql[:60]}"
    return Document(doc_id or f"sql:{digest}", "\n\n".join(blocks), "rows", sql, "database", title=name, meta=meta)
