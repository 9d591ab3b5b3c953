"""The code execution MCP server: tool wiring only; the sandbox and sessions live in the modules beside this one."""

from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from k2_shared.errors import K2MCPServer
from k2_shared.runner import run_server
from k2_shared.tools import read_only, tool, typed_result, writes
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ContentBlock, ImageContent
from pydantic import Field

from k2_codeexec.config import CodeExecSettings, parse_args
from k2_codeexec.errors import FileTooLarge, InvalidPath
from k2_codeexec.models import (
    Closed,
    ExecutionResult,
    FileContent,
    FileWritten,
    SessionInfo,
    SessionList,
    WorkspaceEntry,
    WorkspaceListing,
)
from k2_codeexec.service import CodeExecService, Session, resolve

logger = logging.getLogger(__name__)
MAX_READ_BYTES = 1024 * 1024
MAX_WRITE_BYTES = 8 * 1024 * 1024
MAX_LISTED = 1000

INSTRUCTIONS = (
    "Runs Python 3 and POSIX shell in an isolated sandbox (no network unless the server allows it, a private "
    "workspace directory as the working directory). execute_python returns stdout, stderr, the exit code and the "
    "repr of a final expression; without session_id every call starts from scratch. create_session gives a "
    "persistent interpreter and workspace: variables and files survive between calls until close_session or "
    "idle expiry. Read and write workspace files with the *_workspace_file tools."
)

SessionArg = Annotated[
    str | None, Field(max_length=64, description="Run in this session (from create_session); omit for a fresh one.")
]
TimeoutArg = Annotated[
    float | None, Field(gt=0, le=3600, description="Wall-clock limit in seconds, at most the server's --timeout.")
]
PathArg = Annotated[str, Field(min_length=1, max_length=4096, description="Path relative to the workspace.")]
SessionId = Annotated[str, Field(min_length=1, max_length=64, description="A session_id from create_session.")]


def _info(s: Session, idle_s: float, now: float) -> SessionInfo:
    return SessionInfo(
        session_id=s.id,
        created_at=s.created_at,
        last_used_at=s.last_used_at,
        idle_expires_in_s=round(max(0.0, idle_s - (now - s.last_used_at)), 3),
        executions=s.executions,
    )


def _walk(root: Path, base: Path) -> tuple[list[WorkspaceEntry], bool]:
    entries: list[WorkspaceEntry] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in dirnames + sorted(filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            kind = "directory" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
            entries.append(WorkspaceEntry(path=os.path.relpath(p, root), type=kind, size=st.st_size))
            if len(entries) >= MAX_LISTED:
                return entries, True
    return entries, False


class CodeExecMCP(K2MCPServer[CodeExecService]):
    """The code-execution server (refusals carry their kind in `_meta`)."""

    service: CodeExecService


def build_server(settings: CodeExecSettings) -> CodeExecMCP:
    svc = CodeExecService(settings)
    mcp = CodeExecMCP("codeexec", version="0.1.0", instructions=INSTRUCTIONS, lifespan=svc.lifespan)
    mcp.service = svc

    async def run(
        ctx: Context[CodeExecService, Any],
        kind: str,
        code: str,
        session_id: str | None,
        timeout: float | None,  # noqa: ASYNC109 (a limit for the sandboxed code)
        files: dict[str, str] | None,
    ) -> CallToolResult:
        total = min(timeout or settings.timeout_s, settings.timeout_s)

        async def progress(elapsed: float) -> None:
            await ctx.report_progress(round(elapsed, 1), total, f"running for {elapsed:.0f} s")

        result, images = await svc.execute(
            kind, code, session_id=session_id, timeout=timeout, files=files, progress=progress
        )
        blocks: list[ContentBlock] = [
            ImageContent(type="image", data=base64.b64encode(img).decode(), mime_type="image/png") for img in images
        ]
        return typed_result(result, extra=blocks)

    @tool(mcp, annotations=writes("Run Python", destructive=False, idempotent=False))
    async def execute_python(
        ctx: Context[CodeExecService, Any],
        code: Annotated[str, Field(min_length=1, max_length=1_000_000, description="Python 3 source to run.")],
        session_id: SessionArg = None,
        timeout: TimeoutArg = None,  # noqa: ASYNC109 (the tool's argument: a limit for the sandboxed code)
        files: Annotated[
            dict[str, str] | None,
            Field(description="Text files to write into the workspace first: relative path -> content."),
        ] = None,
    ) -> Annotated[CallToolResult, ExecutionResult]:
        """Run Python code in the sandbox. Returns stdout, stderr, exit_code, `value` (repr of the final
        expression), timed_out, truncated, duration_s, the workspace files created, changed or deleted, and
        matplotlib figures as PNG image content. With session_id, variables and imports persist between calls."""
        return await run(ctx, "python", code, session_id, timeout, files)

    @tool(mcp, annotations=writes("Run shell command", destructive=False, idempotent=False))
    async def execute_shell(
        ctx: Context[CodeExecService, Any],
        command: Annotated[str, Field(min_length=1, max_length=200_000, description="A /bin/sh command line.")],
        session_id: SessionArg = None,
        timeout: TimeoutArg = None,  # noqa: ASYNC109 (the tool's argument: a limit for the sandboxed code)
    ) -> Annotated[CallToolResult, ExecutionResult]:
        """Run a shell command (/bin/sh -c) in the sandbox with the workspace as working directory. Returns
        stdout, stderr, exit_code, timed_out, truncated, duration_s and the workspace files that changed. Processes
        it leaves in the background are killed when it returns."""
        return await run(ctx, "shell", command, session_id, timeout, None)

    @tool(mcp, annotations=writes("Create session", destructive=False, idempotent=False))
    async def create_session() -> Annotated[CallToolResult, SessionInfo]:
        """Start a persistent sandboxed Python interpreter with its own workspace. Pass the returned session_id
        to execute_python, execute_shell and the workspace file tools; close it with close_session. Idle sessions
        expire; the number of live sessions is capped."""
        s = await svc.create_session()
        return typed_result(_info(s, settings.session_idle_s, s.last_used_at))

    @tool(mcp, annotations=writes("Close session", destructive=False, idempotent=False))
    async def close_session(session_id: SessionId) -> Annotated[CallToolResult, Closed]:
        """Close a session: its processes are killed and its workspace deleted. `closed` is false if it was not
        live."""
        return typed_result(Closed(session_id=session_id, closed=await svc.close_session(session_id)))

    @tool(mcp, annotations=read_only("List sessions"))
    async def list_sessions() -> Annotated[CallToolResult, SessionList]:
        """The live sessions with their age, last use, time left before idle expiry and number of executions."""
        import time

        now = time.time()
        infos = [_info(s, settings.session_idle_s, now) for s in svc.sessions.values()]
        return typed_result(SessionList(sessions=infos, max_sessions=settings.max_sessions))

    @tool(mcp, annotations=writes("Write workspace file", destructive=False, idempotent=False))
    async def write_workspace_file(
        session_id: SessionId,
        path: PathArg,
        content: Annotated[str, Field(max_length=MAX_WRITE_BYTES * 2, description="The file's content.")],
        encoding: Annotated[str, Field(pattern="^(utf-8|base64)$", description="utf-8 (text) or base64.")] = "utf-8",
    ) -> Annotated[CallToolResult, FileWritten]:
        """Write a file into a session's workspace (parent directories are created; an existing file is
        replaced). Binary content goes base64-encoded with encoding="base64"."""
        root = svc.workspace_of(session_id)
        data = base64.b64decode(content, validate=True) if encoding == "base64" else content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise FileTooLarge(f"{len(data)} bytes is over the {MAX_WRITE_BYTES}-byte cap of one write")
        target = resolve(root, path)
        if target.is_dir():
            raise InvalidPath(f"{path!r} is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return typed_result(FileWritten(session_id=session_id, path=path, size=len(data)))

    @tool(mcp, annotations=read_only("Read workspace file"))
    async def read_workspace_file(session_id: SessionId, path: PathArg) -> Annotated[CallToolResult, FileContent]:
        """Read a file from a session's workspace: UTF-8 text as is, anything else base64-encoded (see
        `encoding`). Files over 1 MiB are refused."""
        root = svc.workspace_of(session_id)
        target = resolve(root, path)
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            raise InvalidPath(f"{path!r}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InvalidPath(f"{path!r} is not a regular file")
            if st.st_size > MAX_READ_BYTES:
                raise FileTooLarge(f"{path!r} has {st.st_size} bytes; the cap is {MAX_READ_BYTES}")
            data = f.read(MAX_READ_BYTES + 1)
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = base64.b64encode(data).decode(), "base64"
        return typed_result(FileContent(session_id=session_id, path=path, size=len(data), content=text, encoding=enc))

    @tool(mcp, annotations=read_only("List workspace"))
    async def list_workspace(
        session_id: SessionId,
        path: Annotated[str, Field(max_length=4096, description="Directory relative to the workspace.")] = ".",
    ) -> Annotated[CallToolResult, WorkspaceListing]:
        """List a session's workspace recursively (files, directories, sizes), up to 1000 entries."""
        root = svc.workspace_of(session_id)
        base = root if path in (".", "") else resolve(root, path)
        entries, truncated = await anyio.to_thread.run_sync(_walk, root, base)
        return typed_result(WorkspaceListing(session_id=session_id, entries=entries, truncated=truncated))

    return mcp


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_args(argv)
    run_server("k2-codeexec", settings, lambda: build_server(settings))


if __name__ == "__main__":
    main()
