"""The filesystem MCP server: tool wiring only; the logic lives in the modules beside this one."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

import anyio
from k2_shared.errors import K2MCPServer
from k2_shared.runner import run_server
from k2_shared.tools import read_only, tool, writes
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import ResourceSecurity
from mcp.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    InputRequiredResult,
    NotificationParams,
    TextContent,
)
from pydantic import Field

from k2_filesystem import listing, writing
from k2_filesystem.config import FilesystemSettings, parse_args
from k2_filesystem.dircache import DirectoryCache
from k2_filesystem.editing import Edit
from k2_filesystem.errors import FsError, os_errors
from k2_filesystem.lean import LeanResults, lean_result
from k2_filesystem.models import (
    AllowedDirectories,
    CopyResult,
    DeleteResult,
    DirectoryCreated,
    DirectoryListing,
    DirectoryTree,
    EditResult,
    FileInfo,
    FileResult,
    FileSlice,
    GrepResult,
    MoveResult,
    MultiRead,
    SearchResult,
    WriteResult,
)
from k2_filesystem.paths import Located, Root, Sandbox, make_root
from k2_filesystem.reading import Media, Offload, read_file, sniff_mime
from k2_filesystem.roots import ClientRoots

T = TypeVar("T")
logger = logging.getLogger(__name__)
INLINE_READ_BYTES = 256 * 1024  # larger files are read on a worker thread so the event loop never stalls

INSTRUCTIONS = (
    "Files under the allowed directories (see list_allowed_directories). Paths may be absolute or relative "
    "to the first allowed directory. Read before you edit: read_file returns sha256, which edit_file and "
    "write_file accept as expected_sha256 to refuse a file that changed meanwhile."
)

PathArg = Annotated[
    str, Field(min_length=1, max_length=4096, description="Path, absolute or relative to the first allowed directory.")
]
Globs = Annotated[
    list[Annotated[str, Field(max_length=1000)]],
    Field(max_length=100, description="gitignore-style globs, e.g. ['node_modules/', '*.min.js']"),
]


class FilesystemService:
    """State shared by the tools: the sandbox, client roots and limits."""

    def __init__(self, settings: FilesystemSettings) -> None:
        self.settings = settings
        self.sandbox = Sandbox([make_root(p) for p in settings.roots], settings.deny)
        self.client_roots = ClientRoots(self.sandbox.roots)
        self.listings = DirectoryCache()

    async def roots(self, ctx: Context[Any] | None) -> list[Root]:
        if ctx is None:
            return self.sandbox.roots
        roots, _ = await self.client_roots.active(ctx)
        return roots

    def denied_below(self, loc: Located) -> Callable[[str], bool] | None:
        """A test for paths below `loc` (relative to it) that the deny-list refuses, for walks and listings."""
        if not self.sandbox.deny:
            return None
        top = loc.display
        roots = self.sandbox.roots

        def denied(rel: str) -> bool:
            host = os.path.join(top, rel)
            return any(
                root.contains(host) and self.sandbox.is_denied(os.path.relpath(host, root.real)) for root in roots
            )

        return denied

    def on_path(self, path: str, roots: Sequence[Root], fn: Callable[[Located], T], *, follow: bool = True) -> T:
        with os_errors(path), self.sandbox.locate(path, roots, follow_final=follow) as loc:
            return fn(loc)

    async def run(
        self,
        ctx: Context[Any] | None,
        path: str,
        fn: Callable[[Located], T],
        *,
        follow: bool = True,
        thread: bool = False,
    ) -> T:
        roots = await self.roots(ctx)
        if thread:
            return await anyio.to_thread.run_sync(partial(self.on_path, path, roots, fn, follow=follow))
        return self.on_path(path, roots, fn, follow=follow)


def _media_content(media: Media, uri: str) -> TextContent | ImageContent | AudioContent | EmbeddedResource:
    if media.mime_type.startswith("image/"):
        return ImageContent(type="image", data=media.data_b64, mime_type=media.mime_type)
    if media.mime_type.startswith("audio/"):
        return AudioContent(type="audio", data=media.data_b64, mime_type=media.mime_type)
    return EmbeddedResource(
        type="resource", resource=BlobResourceContents(uri=uri, mime_type=media.mime_type, blob=media.data_b64)
    )


def _slice_result(sl: FileSlice) -> CallToolResult:
    text = sl.content
    if sl.truncated:
        text += f"\n[truncated: {sl.truncation_reason}; next_offset={sl.next_offset}]"
    # A FileSlice holds only JSON-ready scalars: its field dict is the structured content as it is.
    return lean_result([TextContent(type="text", text=text)], dict(sl.__dict__))


class FilesystemMCP(K2MCPServer[Any]):
    """A K2 server (refusals carry their kind in `_meta`) whose file:// blobs carry their own MIME type."""

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        result = await super().read_resource(uri, context)
        if isinstance(result, InputRequiredResult):
            return result
        name = urlsplit(str(uri)).path.rsplit("/", 1)[-1]
        return [
            dataclasses.replace(c, mime_type=sniff_mime(unquote(name), c.content[:16]))
            if isinstance(c.content, bytes)
            else c
            for c in result
        ]


def build_server(settings: FilesystemSettings) -> MCPServer[Any]:
    svc = FilesystemService(settings)
    s = settings
    mcp: MCPServer[Any] = FilesystemMCP("filesystem", version="0.1.0", instructions=INSTRUCTIONS)
    mcp.middleware.insert(0, LeanResults())  # outermost: read_file and list_directory results serialized once

    async def on_roots_changed(ctx: ServerRequestContext[Any, Any], params: NotificationParams) -> None:
        svc.client_roots.forget(ctx.session)

    mcp._lowlevel_server.add_notification_handler(  # MCPServer has no public hook for this
        "notifications/roots/list_changed", NotificationParams, on_roots_changed
    )

    def read_one(loc: Located, offset: int, limit: int, inline: bool) -> tuple[FileSlice | Media, str]:
        result = read_file(
            loc,
            offset,
            limit,
            max_bytes=s.max_read_bytes,
            max_chars=s.max_output_chars,
            max_media_bytes=s.max_media_bytes,
            inline_max=INLINE_READ_BYTES if inline else None,
        )
        return result, loc.display

    @tool(mcp, name="read_file", annotations=read_only("Read file"), trusted_output=True)
    async def read_file_tool(
        path: PathArg,
        ctx: Context[Any],
        offset: Annotated[int, Field(ge=0, description="First line to return (0-based).")] = 0,
        limit: Annotated[int, Field(ge=1, le=100_000, description="Most lines to return.")] = 2000,
    ) -> Annotated[CallToolResult, FileSlice]:
        """Read a file. Text comes back a window of lines at a time (offset/limit) with its encoding detected;
        `truncated` and `next_offset` say when there is more. Images, audio and other binary files come back
        as image, audio or blob content."""
        try:  # small files are read on the event loop (no thread hop); big ones on a worker thread
            result, host_path = await svc.run(ctx, path, lambda loc: read_one(loc, offset, limit, True))
        except Offload:
            result, host_path = await svc.run(ctx, path, lambda loc: read_one(loc, offset, limit, False), thread=True)
        if isinstance(result, FileSlice):
            return _slice_result(result)
        meta = FileSlice(
            path=path,
            content="",
            encoding=None,
            mime_type=result.mime_type,
            size=result.size,
            offset=0,
            lines_returned=0,
            total_lines=None,
            next_offset=None,
            truncated=False,
            sha256=result.sha256,
        )
        return CallToolResult(
            content=[_media_content(result, Path(host_path).as_uri())], structured_content=meta.model_dump(mode="json")
        )

    @tool(mcp, annotations=read_only("Read several files"))
    async def read_multiple_files(
        paths: Annotated[list[PathArg], Field(min_length=1, max_length=100, description="Files to read.")],
        ctx: Context[Any],
        limit: Annotated[int, Field(ge=1, le=100_000, description="Most lines per file.")] = 2000,
    ) -> MultiRead:
        """Read several text files at once. A file that fails (missing, binary, denied) gets its own error entry
        and does not fail the others."""
        roots = await svc.roots(ctx)
        budget = s.max_output_chars

        def work() -> MultiRead:
            files: list[FileResult] = []
            for p in paths:
                try:
                    got = svc.on_path(
                        p,
                        roots,
                        lambda loc: read_file(
                            loc,
                            0,
                            limit,
                            max_bytes=s.max_read_bytes,
                            max_chars=max(1000, budget // len(paths)),
                            max_media_bytes=0,
                        ),
                    )
                    if isinstance(got, Media):
                        raise FsError(f"{p!r} is a binary file ({got.mime_type}); read it alone with read_file")
                    files.append(FileResult(path=p, ok=True, file=got))
                except FsError as exc:
                    files.append(FileResult(path=p, ok=False, error=str(exc), error_code=exc.code))
            ok = sum(f.ok for f in files)
            return MultiRead(files=files, succeeded=ok, failed=len(files) - ok)

        return await anyio.to_thread.run_sync(work)

    @tool(mcp, annotations=read_only("List directory"), trusted_output=True)
    async def list_directory(
        ctx: Context[Any],
        path: PathArg = ".",
        sort: Annotated[Literal["name", "size", "mtime", "kind"], Field(description="Sort key.")] = "name",
        descending: Annotated[bool, Field(description="Reverse the order.")] = False,
        offset: Annotated[int, Field(ge=0, description="Entries to skip (for paging).")] = 0,
        limit: Annotated[int, Field(ge=1, le=10_000, description="Most entries to return.")] = 1000,
        include_hidden: Annotated[bool, Field(description="Include names starting with a dot.")] = True,
        details: Annotated[bool, Field(description="Include size, modification time and link targets.")] = True,
    ) -> Annotated[CallToolResult, DirectoryListing]:
        """List a directory's entries with kind, size and modification time, sorted and paged. With
        details=false only names and kinds come back (faster on very large directories)."""
        result, text = await svc.run(
            ctx,
            path,
            lambda loc: listing.list_directory(
                loc,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
                include_hidden=include_hidden,
                max_entries=s.max_walk_entries,
                details=details,
                denied=svc.denied_below(loc),
                cache=svc.listings,
            ),
        )
        return lean_result([TextContent(type="text", text=text)], result)

    @tool(mcp, annotations=read_only("Directory tree"))
    async def directory_tree(
        ctx: Context[Any],
        path: PathArg = ".",
        max_depth: Annotated[int, Field(ge=1, le=32, description="Levels to descend.")] = 4,
        max_entries: Annotated[int, Field(ge=1, le=20_000, description="Most entries in the tree.")] = 2000,
        exclude: Globs = [],  # noqa: B006 - pydantic copies defaults
        respect_gitignore: Annotated[bool, Field(description="Skip what .gitignore files exclude, and .git/.")] = True,
    ) -> DirectoryTree:
        """A nested tree of a directory, with depth and entry caps, exclude globs and .gitignore honoured."""
        return await svc.run(
            ctx,
            path,
            lambda loc: listing.directory_tree(
                loc,
                max_depth=max_depth,
                max_entries=max_entries,
                exclude=exclude,
                respect_gitignore=respect_gitignore,
                timeout_s=s.walk_timeout_s,
                denied=svc.denied_below(loc),
            ),
            thread=True,
        )

    @tool(mcp, annotations=read_only("Find files"))
    async def search_files(
        pattern: Annotated[
            str,
            Field(
                min_length=1, max_length=1000, description="gitignore-style glob, e.g. '*.py' or 'src/**/test_*.py'."
            ),
        ],
        ctx: Context[Any],
        path: PathArg = ".",
        exclude: Globs = [],  # noqa: B006
        respect_gitignore: Annotated[bool, Field(description="Skip what .gitignore files exclude.")] = True,
        max_results: Annotated[int, Field(ge=1, le=10_000, description="Most paths to return.")] = 500,
    ) -> SearchResult:
        """Find files and directories whose path matches a glob, below `path`."""
        return await svc.run(
            ctx,
            path,
            lambda loc: listing.search_files(
                loc,
                pattern,
                exclude=exclude,
                respect_gitignore=respect_gitignore,
                max_results=max_results,
                max_entries=s.max_walk_entries,
                timeout_s=s.walk_timeout_s,
                denied=svc.denied_below(loc),
            ),
            thread=True,
        )

    @tool(mcp, annotations=read_only("Search file contents"))
    async def grep(
        pattern: Annotated[
            str,
            Field(min_length=1, max_length=2000, description="Regular expression (or literal text with fixed_string)."),
        ],
        ctx: Context[Any],
        path: PathArg = ".",
        fixed_string: Annotated[bool, Field(description="Treat the pattern as literal text.")] = False,
        ignore_case: Annotated[bool, Field(description="Match case-insensitively.")] = False,
        include: Globs = [],  # noqa: B006
        exclude: Globs = [],  # noqa: B006
        context: Annotated[int, Field(ge=0, le=20, description="Lines of context before and after.")] = 0,
        max_matches: Annotated[int, Field(ge=1, le=5000, description="Most matching lines to return.")] = 200,
        respect_gitignore: Annotated[bool, Field(description="Skip what .gitignore files exclude.")] = True,
    ) -> GrepResult:
        """Search file contents with a regular expression, below a directory or in one file. Binary files are
        skipped; each match carries its line number and optional context."""
        return await svc.run(
            ctx,
            path,
            lambda loc: listing.grep(
                loc,
                pattern,
                fixed_string=fixed_string,
                ignore_case=ignore_case,
                include=include,
                exclude=exclude,
                context=context,
                max_matches=max_matches,
                respect_gitignore=respect_gitignore,
                max_entries=s.max_walk_entries,
                timeout_s=s.walk_timeout_s,
                denied=svc.denied_below(loc),
            ),
            thread=True,
        )

    @tool(mcp, annotations=read_only("File information"))
    async def get_file_info(path: PathArg, ctx: Context[Any]) -> FileInfo:
        """Kind, size, permissions, owner, times and MIME type of a path (a symbolic link is described itself)."""
        return await svc.run(ctx, path, listing.file_info, follow=False)

    @tool(mcp, annotations=read_only("Allowed directories"))
    async def list_allowed_directories(ctx: Context[Any]) -> AllowedDirectories:
        """The directories this server may touch (narrowed by the client's roots when it sends them)."""
        roots, narrowed = await svc.client_roots.active(ctx)
        return AllowedDirectories(
            directories=[r.real for r in roots], read_only=s.read_only, narrowed_by_client_roots=narrowed
        )

    if not s.read_only:
        _add_write_tools(mcp, svc)

    @mcp.resource(
        "file://{+path}",
        name="file",
        description="A file under the allowed directories, by absolute path (file:///abs/path).",
        security=ResourceSecurity(exempt_params={"path"}),
    )
    async def file_resource(path: str, ctx: Context[Any]) -> str | bytes:
        try:
            result = await svc.run(
                ctx,
                path,
                lambda loc: read_file(
                    loc,
                    0,
                    10**9,
                    max_bytes=s.max_read_bytes,
                    max_chars=s.max_output_chars,
                    max_media_bytes=s.max_media_bytes,
                ),
            )
        except FsError as exc:
            raise ResourceError(str(exc)) from exc
        if isinstance(result, Media):
            return base64.b64decode(result.data_b64)
        if result.truncated:
            raise ResourceError(f"{path!r} is too large to return whole; use the read_file tool with offset/limit")
        return result.content

    return mcp


def _add_write_tools(mcp: MCPServer[Any], svc: FilesystemService) -> None:
    s = svc.settings

    @tool(mcp, annotations=writes("Write file", destructive=True, idempotent=True))
    async def write_file(
        path: PathArg,
        content: Annotated[str, Field(description="The whole new content.")],
        ctx: Context[Any],
        create_parents: Annotated[bool, Field(description="Create missing parent directories.")] = False,
        overwrite: Annotated[bool, Field(description="Replace an existing file.")] = True,
        expected_sha256: Annotated[
            str | None,
            Field(pattern="^[0-9a-fA-F]{64}$", description="Refuse unless the current file has this SHA-256."),
        ] = None,
        encoding: Annotated[str, Field(max_length=20, description="Text encoding to write.")] = "utf-8",
    ) -> WriteResult:
        """Create or replace a text file atomically (temporary file, then rename; the old mode is kept)."""
        roots = await svc.roots(ctx)

        def work() -> WriteResult:
            if create_parents:
                with os_errors(path):
                    writing.make_parents(svc.sandbox, path, roots)
            return svc.on_path(
                path,
                roots,
                lambda loc: writing.write_file(
                    loc,
                    content,
                    encoding,
                    overwrite=overwrite,
                    expected_sha256=expected_sha256,
                    max_bytes=s.max_write_bytes,
                ),
            )

        return await anyio.to_thread.run_sync(work)

    @tool(mcp, annotations=writes("Edit file", destructive=True, idempotent=False))
    async def edit_file(
        path: PathArg,
        edits: Annotated[
            list[Edit], Field(min_length=1, max_length=100, description="Replacements, applied in order.")
        ],
        ctx: Context[Any],
        dry_run: Annotated[bool, Field(description="Only return the diff; change nothing.")] = False,
        expected_sha256: Annotated[
            str | None,
            Field(pattern="^[0-9a-fA-F]{64}$", description="Refuse unless the current file has this SHA-256."),
        ] = None,
    ) -> EditResult:
        """Replace exact text in a file. Each old_text must match exactly once unless replace_all is set; a
        miss explains the closest text. Returns a unified diff; dry_run changes nothing. All edits apply or none."""
        return await svc.run(
            ctx,
            path,
            lambda loc: writing.edit_file(
                loc,
                edits,
                dry_run=dry_run,
                expected_sha256=expected_sha256,
                max_bytes=s.max_write_bytes,
            ),
            thread=True,
        )

    @tool(mcp, annotations=writes("Create directory", destructive=False, idempotent=True))
    async def create_directory(
        path: PathArg,
        ctx: Context[Any],
        parents: Annotated[bool, Field(description="Create missing parent directories too.")] = True,
    ) -> DirectoryCreated:
        """Create a directory (and its parents unless parents=false). An existing directory is not an error."""
        roots = await svc.roots(ctx)

        def work() -> DirectoryCreated:
            if parents:
                with os_errors(path):
                    writing.make_parents(svc.sandbox, path, roots)
            return svc.on_path(path, roots, writing.create_directory)

        return await anyio.to_thread.run_sync(work)

    @tool(mcp, annotations=writes("Move or rename", destructive=True, idempotent=False))
    async def move_file(
        source: PathArg,
        destination: PathArg,
        ctx: Context[Any],
        overwrite: Annotated[bool, Field(description="Replace an existing destination.")] = False,
    ) -> MoveResult:
        """Move or rename a file or directory. Refuses an existing destination unless overwrite=true."""
        roots = await svc.roots(ctx)

        def work() -> MoveResult:
            with os_errors(source), svc.sandbox.locate(source, roots, follow_final=False) as src:
                return svc.on_path(
                    destination, roots, lambda dst: writing.move(src, dst, overwrite=overwrite), follow=False
                )

        return await anyio.to_thread.run_sync(work)

    @tool(mcp, annotations=writes("Copy", destructive=True, idempotent=True))
    async def copy_file(
        source: PathArg,
        destination: PathArg,
        ctx: Context[Any],
        overwrite: Annotated[bool, Field(description="Replace an existing destination file.")] = False,
        recursive: Annotated[bool, Field(description="Copy a directory with its contents.")] = False,
    ) -> CopyResult:
        """Copy a file, or a directory with recursive=true (symbolic links inside are skipped and listed)."""
        roots = await svc.roots(ctx)

        def work() -> CopyResult:
            with os_errors(source), svc.sandbox.locate(source, roots) as src:
                return svc.on_path(
                    destination,
                    roots,
                    lambda dst: writing.copy(
                        src,
                        dst,
                        overwrite=overwrite,
                        recursive=recursive,
                        max_entries=s.max_walk_entries,
                    ),
                    follow=False,
                )

        return await anyio.to_thread.run_sync(work)

    if s.allow_delete:

        @tool(mcp, annotations=writes("Delete", destructive=True, idempotent=False))
        async def delete_file(
            path: PathArg,
            ctx: Context[Any],
            recursive: Annotated[
                bool, Field(description="Delete a non-empty directory with everything in it.")
            ] = False,
        ) -> DeleteResult:
            """Delete a file or symbolic link, an empty directory, or with recursive=true a whole directory."""
            return await svc.run(
                ctx, path, lambda loc: writing.delete(loc, recursive=recursive), follow=False, thread=True
            )


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_args(argv)
    run_server("k2-filesystem", settings, lambda: build_server(settings))


if __name__ == "__main__":
    main()
