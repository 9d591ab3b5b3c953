# ruff: noqa: E402
"""A misbehaving MCP server for the client manager's tests and benchmarks.

    python tests/host/chaos_server.py [--transport stdio|streamable-http|sse] [--port 0]

Over HTTP it prints one JSON line `{"msg": "listening", "url": ...}` on stderr once the socket is bound (what
`tests.support.http_server` waits for); `--port` lets a test restart it on the same port. Tools: `echo`,
`slow`, `crash`, `crash_once`, `malformed`, `flaky`, `write_thing`, `ask_user`, `ask_llm`, `change_tools`,
`roots` (see each docstring). Elicitation, sampling and roots go through `Resolve`, so they work in both
protocol eras (a live server→client request in the handshake era, `InputRequiredResult` at 2026-07-28).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its `mcp/` test package would shadow the SDK.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import socket
from typing import Annotated, Any

import anyio
import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    ListRoots,
    Resolve,
    Sample,
)
from mcp.types import (
    CallToolResult,
    CreateMessageResult,
    ListRootsResult,
    SamplingMessage,
    TextContent,
    ToolAnnotations,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)


class Echo(BaseModel):
    text: str = Field(description="The text, unchanged.")
    pid: int = Field(description="The server process's id (tells instances apart).")


class Name(BaseModel):
    name: str = Field(description="Your name.")


def ask_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


def ask_model() -> Sample:
    prompt = SamplingMessage(role="user", content=TextContent(type="text", text="Say hello."))
    return Sample([prompt], max_tokens=2048)


def list_roots() -> ListRoots:
    return ListRoots()


def build_server() -> MCPServer:
    mcp = MCPServer("chaos", version="1.0.0", log_level="CRITICAL")

    @mcp.tool(annotations=READ_ONLY)
    def echo(text: Annotated[str, Field(description="Text to send back.")]) -> Echo:
        """Send the text back, with this process's pid."""
        return Echo(text=text, pid=os.getpid())

    @mcp.tool(annotations=READ_ONLY)
    async def slow(
        seconds: Annotated[float, Field(ge=0, le=600, description="How long to sleep.")], ctx: Context
    ) -> Echo:
        """Report progress 0 (the call is running), sleep (cancellably), then answer."""
        await ctx.report_progress(0, seconds, "sleeping")
        await anyio.sleep(seconds)
        return Echo(text=f"slept {seconds:g}", pid=os.getpid())

    @mcp.tool(annotations=READ_ONLY)
    def meta(ctx: Context) -> dict[str, Any]:
        """The `_meta` keys this request carried (beyond the protocol's own), to check what a client sends."""
        sent = dict(ctx.request_context.meta or {})
        return {k: v for k, v in sent.items() if not k.startswith(("io.modelcontextprotocol/", "progressToken"))}

    @mcp.tool(annotations=READ_ONLY)
    def crash() -> str:
        """Kill this server process in the middle of the call."""
        os._exit(3)

    @mcp.tool(annotations=READ_ONLY)
    def crash_once(marker_path: Annotated[str, Field(description="File that records the first call.")]) -> Echo:
        """Kill the process the first time (when `marker_path` does not exist yet); answer afterwards."""
        marker = Path(marker_path)
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(3)
        return Echo(text="survived", pid=os.getpid())

    @mcp.tool(annotations=READ_ONLY)
    def malformed() -> CallToolResult:
        """Return structured content that breaks this tool's own outputSchema."""
        return CallToolResult(content=[TextContent(type="text", text="oops")], structured_content={"text": 42})

    # Publish Echo as its outputSchema; a hand-set schema is advertised but not checked by the server.
    mcp._tool_manager.get_tool("malformed").fn_metadata.output_schema = Echo.model_json_schema()  # type: ignore[union-attr]  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]

    @mcp.tool(annotations=READ_ONLY)
    def flaky(marker_dir: Annotated[str, Field(description="Directory that counts the calls.")]) -> Echo:
        """Fail the first call (a tool error), answer every later one."""
        marker = Path(marker_dir) / "flaky"
        if not marker.exists():
            marker.write_text("1")
            raise ValueError("first call fails")
        return Echo(text="ok", pid=os.getpid())

    @mcp.tool(annotations=WRITES)
    def write_thing() -> str:
        """Pretend to write something (destructive)."""
        return "written"

    @mcp.tool(annotations=READ_ONLY)
    def ask_user(answer: Annotated[ElicitationResult[Name], Resolve(ask_name)]) -> str:
        """Ask the user their name (elicitation)."""
        return f"hello {answer.data.name}" if isinstance(answer, AcceptedElicitation) else f"user {answer.action}"

    @mcp.tool(annotations=READ_ONLY)
    def ask_llm(reply: Annotated[CreateMessageResult, Resolve(ask_model)]) -> str:
        """Ask the client's model something (sampling)."""
        content = reply.content
        return content.text if isinstance(content, TextContent) else f"[{content.type}]"

    @mcp.tool(annotations=READ_ONLY)
    def roots(result: Annotated[ListRootsResult, Resolve(list_roots)]) -> list[str]:
        """The client's roots, as URIs."""
        return [str(r.uri) for r in result.roots]

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
    async def change_tools(ctx: Context) -> str:
        """Add the tool `added` and tell the client that the tool list changed."""

        def added() -> str:
            """A tool that appeared later."""
            return "added"

        mcp.add_tool(added, annotations=READ_ONLY)
        await ctx.notify_tools_changed()  # subscriptions/listen streams (2026-07-28)
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            await ctx.session.send_tool_list_changed()  # the session's stream (handshake era)
        return "changed"

    return mcp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    mcp = build_server()
    if args.transport == "stdio":
        mcp.run()
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # (asyncio sets TCP_NODELAY)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    if args.transport == "sse":
        app, path = mcp.sse_app(), "/sse"
    else:
        app, path = mcp.streamable_http_app(), "/mcp"
    print(json.dumps({"msg": "listening", "url": f"http://127.0.0.1:{port}{path}"}), file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=1)
    anyio.run(uvicorn.Server(config).serve, [sock])


if __name__ == "__main__":
    main()
