"""A short tour of the filesystem server, run the way any MCP client runs it: a subprocess over stdio.

    python -m k2_filesystem.demo [--workspace DIR]

It fills a workspace with a few files, then lists the tools, writes, reads a window of lines, previews and
applies an edit, greps, draws the tree, and shows an escape attempt being refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters


def _show(title: str, payload: Any) -> None:
    print(f"\n== {title}")
    print(payload if isinstance(payload, str) else json.dumps(payload, indent=2)[:1500])


def _draw(nodes: list[dict[str, Any]], indent: str = "") -> list[str]:
    lines: list[str] = []
    for node in nodes:
        lines.append(f"{indent}{node['name']}{'/' if node['kind'] == 'directory' else ''}")
        lines += _draw(node.get("children") or [], indent + "  ")
    return lines


def prepare(workspace: Path) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "src").mkdir(exist_ok=True)
    (workspace / "src" / "app.py").write_text('def greet(name):\n    return "Hello, " + name\n\nprint(greet("K2"))\n')
    (workspace / ".gitignore").write_text("build/\n")
    (workspace / "build").mkdir(exist_ok=True)
    (workspace / "build" / "artifact.bin").write_bytes(b"\x00\x01")


async def tour(workspace: Path) -> int:
    prepare(workspace)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "k2_filesystem", "--root", str(workspace), "--log-level", "WARNING"]
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        _show(
            f"{len(tools)} tools ({client.protocol_version})",
            ", ".join(t.name for t in tools),
        )

        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, args)
            if result.is_error:
                text = result.content[0].text if result.content and result.content[0].type == "text" else "error"
                return {"refused": text}
            return result.structured_content or {}

        _show(
            "write_file notes/todo.md",
            await call(
                "write_file",
                {
                    "path": "notes/todo.md",
                    "content": "# TODO\n- ship the filesystem server\n- write the host\n",
                    "create_parents": True,
                },
            ),
        )
        read = await call("read_file", {"path": "src/app.py", "offset": 0, "limit": 2})
        _show(
            "read_file src/app.py, first 2 lines",
            {k: read[k] for k in ("content", "next_offset", "truncated", "sha256")},
        )
        edit = {"old_text": '"Hello, " + name', "new_text": 'f"Hello, {name}!"'}
        preview = await call("edit_file", {"path": "src/app.py", "edits": [edit], "dry_run": True})
        _show("edit_file dry run (diff)", preview["diff"])
        applied = await call("edit_file", {"path": "src/app.py", "edits": [edit], "expected_sha256": read["sha256"]})
        _show("edit_file applied", {k: applied[k] for k in ("applied", "replacements", "sha256_after")})
        _show("grep 'Hello'", await call("grep", {"pattern": "Hello", "context": 1}))
        tree = await call("directory_tree", {"max_depth": 3})
        _show("directory_tree (build/ is skipped: it is in .gitignore)", "\n".join(_draw(tree["tree"])))
        _show("read_file ../../etc/passwd (outside the root)", await call("read_file", {"path": "../../etc/passwd"}))
    print(f"\nDone. The workspace is in {workspace}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m k2_filesystem.demo", description="A short tour of the filesystem server over stdio."
    )
    parser.add_argument("--workspace", type=Path, default=Path("demo-workspace"), help="folder to fill and serve")
    args = parser.parse_args()
    raise SystemExit(anyio.run(tour, args.workspace.resolve()))


if __name__ == "__main__":
    main()
