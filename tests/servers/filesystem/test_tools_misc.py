"""get_file_info, list_allowed_directories, argument bounds, tool metadata, read-only mode and client roots."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.types import ListRootsResult, Root

from tests.servers.filesystem.common import ok, refusal

pytestmark = pytest.mark.anyio

READERS = {
    "read_file",
    "read_multiple_files",
    "list_directory",
    "directory_tree",
    "search_files",
    "grep",
    "get_file_info",
    "list_allowed_directories",
}
DESTRUCTIVE = {"write_file", "edit_file", "move_file", "copy_file", "delete_file"}
WRITERS = DESTRUCTIVE | {"create_directory"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path], allow_delete=True))) as c:
        yield c


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def info_of(shown: str, path: Path, kind: str, mime: str | None = None, target: str | None = None) -> dict[str, Any]:
    st = path.lstat()
    return {
        "path": shown,
        "kind": kind,
        "size": st.st_size,
        "mode": oct(stat.S_IMODE(st.st_mode)),
        "mtime": iso(st.st_mtime),
        "ctime": iso(st.st_ctime),
        "atime": iso(st.st_atime),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "link_target": target,
        "mime_type": mime,
        "readable": True,
        "writable": True,
    }


# get_file_info


async def test_get_file_info_describes_a_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>hi</p>")
    (tmp_path / "page.html").chmod(0o640)

    got = await ok(client, "get_file_info", path="page.html")

    assert got == info_of("page.html", tmp_path / "page.html", "file", mime="text/html")
    assert got["mode"] == "0o640"


async def test_get_file_info_describes_a_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()

    assert await ok(client, "get_file_info", path="folder") == info_of("folder", tmp_path / "folder", "directory")


async def test_get_file_info_describes_an_allowed_root(client: Client, tmp_path: Path) -> None:
    got = await ok(client, "get_file_info", path=str(tmp_path))

    assert got == info_of(str(tmp_path), tmp_path, "directory")


async def test_get_file_info_describes_a_symlink_itself(client: Client, tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("0123456789")
    (tmp_path / "link").symlink_to("target.txt")

    got = await ok(client, "get_file_info", path="link")

    assert got == info_of("link", tmp_path / "link", "symlink", target="target.txt")
    assert got["size"] == len("target.txt")


async def test_get_file_info_refuses_a_missing_path(client: Client) -> None:
    assert refusal(await client.call_tool("get_file_info", {"path": "ghost"})) == "not_found"


async def test_get_file_info_refuses_a_path_outside_the_roots(client: Client) -> None:
    assert refusal(await client.call_tool("get_file_info", {"path": "/etc/hostname"})) == "access_denied"


# list_allowed_directories


@pytest.fixture
def two_roots(tmp_path: Path) -> list[Path]:
    roots = [tmp_path.resolve() / "one", tmp_path.resolve() / "two"]
    for root in roots:
        root.mkdir()
    return roots


async def test_list_allowed_directories_reports_every_configured_root(two_roots: list[Path]) -> None:
    async with Client(build_server(FilesystemSettings(roots=two_roots))) as client:
        got = await ok(client, "list_allowed_directories")

    assert got == {"directories": [str(r) for r in two_roots], "read_only": False, "narrowed_by_client_roots": False}


async def test_relative_paths_resolve_against_the_first_root(two_roots: list[Path]) -> None:
    (two_roots[1] / "f.txt").write_text("in two")

    async with Client(build_server(FilesystemSettings(roots=two_roots))) as client:
        relative = await client.call_tool("read_file", {"path": "f.txt"})
        absolute = await ok(client, "read_file", path=str(two_roots[1] / "f.txt"))

    assert refusal(relative) == "not_found"
    assert absolute["content"] == "in two"


# argument bounds


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": "f.txt", "limit": 0}),
        ("read_file", {"path": "f.txt", "offset": -1}),
        ("read_file", {"path": ""}),
        ("read_file", {}),
        ("read_multiple_files", {"paths": []}),
        ("read_multiple_files", {"paths": ["f.txt"] * 101}),
        ("read_multiple_files", {"paths": ["f.txt", ""]}),
        ("list_directory", {"limit": 0}),
        ("list_directory", {"sort": "colour"}),
        ("directory_tree", {"max_depth": 0}),
        ("directory_tree", {"max_depth": 33}),
        ("search_files", {"pattern": ""}),
        ("search_files", {"pattern": "*", "max_results": 0}),
        ("grep", {"pattern": "x", "context": 21}),
        ("grep", {"pattern": "x", "max_matches": 0}),
        ("grep", {"pattern": "x", "include": ["*"] * 101}),
        ("write_file", {"path": "f.txt", "content": "x", "expected_sha256": "not-a-hash"}),
        ("edit_file", {"path": "f.txt", "edits": []}),
        ("move_file", {"source": "f.txt", "destination": ""}),
    ],
)
async def test_arguments_out_of_bounds_are_rejected_by_the_schema(
    client: Client, tmp_path: Path, tool: str, args: dict[str, Any]
) -> None:
    (tmp_path / "f.txt").write_text("unchanged\n")

    result = await client.call_tool(tool, args)

    assert refusal(result) == "invalid_arguments"
    assert os.listdir(tmp_path) == ["f.txt"]
    assert (tmp_path / "f.txt").read_text() == "unchanged\n"


async def test_the_input_schema_states_the_bounds(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    read_props = tools["read_file"].input_schema["properties"]
    multi_props = tools["read_multiple_files"].input_schema["properties"]

    assert (read_props["limit"]["minimum"], read_props["path"]["minLength"]) == (1, 1)
    assert (multi_props["paths"]["minItems"], multi_props["paths"]["maxItems"]) == (1, 100)


# tool metadata


async def test_every_tool_has_a_description_an_output_schema_and_described_arguments(client: Client) -> None:
    tools = (await client.list_tools()).tools

    assert {tool.name for tool in tools} == READERS | WRITERS
    for tool in tools:
        assert tool.description, tool.name
        assert tool.output_schema is not None, tool.name
        assert tool.output_schema["type"] == "object", tool.name
        undescribed = [k for k, v in tool.input_schema.get("properties", {}).items() if not v.get("description")]
        assert undescribed == [], tool.name


async def test_annotations_mark_readers_read_only_and_writers_destructive(client: Client) -> None:
    hints = {
        tool.name: (tool.annotations.read_only_hint, tool.annotations.destructive_hint)
        for tool in (await client.list_tools()).tools
        if tool.annotations is not None
    }

    assert hints == (
        {name: (True, False) for name in READERS}
        | {name: (False, True) for name in DESTRUCTIVE}
        | {"create_directory": (False, False)}
    )


async def test_read_only_mode_offers_only_the_reading_tools(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("keep\n")

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], read_only=True, allow_delete=True))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        write = await client.call_tool("write_file", {"path": "f.txt", "content": "changed"})
        allowed = await ok(client, "list_allowed_directories")

    assert names == READERS
    assert write.is_error
    assert allowed["read_only"] is True
    assert (tmp_path / "f.txt").read_text() == "keep\n"


# client roots


def roots_callback(*paths: Path) -> Callable[[ClientRequestContext], Awaitable[ListRootsResult]]:
    async def list_roots(context: ClientRequestContext) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=p.as_uri()) for p in paths])

    return list_roots


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    """tmp_path/allowed (the configured root) with sub/inside.txt and beside.txt; tmp_path/other.txt outside."""
    root = tmp_path.resolve() / "allowed"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "inside.txt").write_text("inside")
    (root / "beside.txt").write_text("beside")
    (tmp_path / "other.txt").write_text("other")
    return root


async def test_client_roots_narrow_access_to_a_subdirectory(allowed: Path) -> None:
    sub = allowed / "sub"
    server = build_server(FilesystemSettings(roots=[allowed]))

    async with Client(server, mode="legacy", list_roots_callback=roots_callback(sub)) as client:
        listed = await ok(client, "list_allowed_directories")
        inside = await ok(client, "read_file", path=str(sub / "inside.txt"))
        relative = await ok(client, "read_file", path="inside.txt")
        beside = await client.call_tool("read_file", {"path": str(allowed / "beside.txt")})

    assert listed == {"directories": [str(sub)], "read_only": False, "narrowed_by_client_roots": True}
    assert (inside["content"], relative["content"]) == ("inside", "inside")
    assert refusal(beside) == "access_denied"


async def test_client_roots_cannot_widen_the_configured_roots(allowed: Path) -> None:
    wider = allowed.parent
    server = build_server(FilesystemSettings(roots=[allowed]))

    async with Client(server, mode="legacy", list_roots_callback=roots_callback(wider)) as client:
        listed = await ok(client, "list_allowed_directories")
        other = await client.call_tool("read_file", {"path": str(wider / "other.txt")})
        beside = await ok(client, "read_file", path=str(allowed / "beside.txt"))

    assert listed["directories"] == [str(allowed)]
    assert refusal(other) == "access_denied"
    assert beside["content"] == "beside"


async def test_client_roots_outside_the_configured_roots_leave_nothing_allowed(allowed: Path) -> None:
    server = build_server(FilesystemSettings(roots=[allowed / "sub"]))

    async with Client(server, mode="legacy", list_roots_callback=roots_callback(allowed.parent / "elsewhere")) as c:
        listed = await ok(c, "list_allowed_directories")
        read = await c.call_tool("read_file", {"path": str(allowed / "sub" / "inside.txt")})
        write = await c.call_tool("write_file", {"path": str(allowed / "sub" / "new.txt"), "content": "x"})

    assert (listed["directories"], listed["narrowed_by_client_roots"]) == ([], True)
    assert refusal(read) == "access_denied"
    assert refusal(write) == "access_denied"
    assert not (allowed / "sub" / "new.txt").exists()


async def test_client_roots_also_narrow_the_writing_tools(allowed: Path) -> None:
    server = build_server(FilesystemSettings(roots=[allowed]))

    async with Client(server, mode="legacy", list_roots_callback=roots_callback(allowed / "sub")) as client:
        outside = await client.call_tool("write_file", {"path": str(allowed / "new.txt"), "content": "x"})
        inside = await ok(client, "write_file", path=str(allowed / "sub" / "new.txt"), content="x")

    assert refusal(outside) == "access_denied"
    assert inside["created"] is True
    assert not (allowed / "new.txt").exists()


async def test_a_client_without_roots_gets_the_configured_roots(allowed: Path) -> None:
    async with Client(build_server(FilesystemSettings(roots=[allowed])), mode="legacy") as client:
        listed = await ok(client, "list_allowed_directories")

    assert listed == {"directories": [str(allowed)], "read_only": False, "narrowed_by_client_roots": False}


async def test_a_roots_list_changed_notification_makes_the_server_ask_again(allowed: Path) -> None:
    declared = [allowed / "sub"]

    async def list_roots(context: ClientRequestContext) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=p.as_uri()) for p in declared])

    async with Client(
        build_server(FilesystemSettings(roots=[allowed])), mode="legacy", list_roots_callback=list_roots
    ) as c:
        before = await ok(c, "list_allowed_directories")
        declared[:] = [allowed]
        await c.send_roots_list_changed()
        after = await ok(c, "list_allowed_directories")

    assert (before["directories"], after["directories"]) == (
        [str(allowed / "sub")],
        [str(allowed)],
    )
