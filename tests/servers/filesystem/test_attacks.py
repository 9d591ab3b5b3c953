"""Attack suite for the filesystem server: every case tries to read or change something outside the roots.

Each test rebuilds a fresh world in one directory of this module (so that a server built for the root can
be reused: building one costs more than most attacks):

    base/
      root/          the only allowed directory (deny-list: .env, .git)
      root-evil/     a sibling whose name starts with the root's name (CVE-2025-53110)
      outside/       secret.txt and secretdir/inner.txt, holding SECRET

and checks, besides the refusal, that SECRET (or the content of a denied file) never appears in anything the
server sent back, and that every byte, mtime, access time (nothing outside was even opened for reading) and
directory listing outside the root is what it was before.
"""

from __future__ import annotations

import base64
import os
import resource
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_filesystem import paths
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server
from mcp import Client, MCPError, types
from mcp.server import MCPServer
from pydantic import FileUrl

pytestmark = pytest.mark.anyio

SECRET = "K2-SENTINEL-7f3a9c-outside-the-root"
DENIED = "K2-DENIED-5b1e-inside-but-on-the-deny-list"
DENY = [".env", ".git"]
WRITE_TOOLS = {"write_file", "edit_file", "create_directory", "move_file", "copy_file", "delete_file"}
GiB = 1 << 30

Snapshot = dict[str, tuple[Any, ...]]


def _b64_prefix(text: str) -> str:
    # A file starting with `text` has a base64 form starting with these characters (12 bytes -> 16 chars).
    return base64.b64encode(text.encode()[:12]).decode()


FORBIDDEN_TEXT = (SECRET, DENIED, _b64_prefix(SECRET), _b64_prefix(DENIED))


@dataclass
class World:
    base: Path
    root: Path
    outside: Path
    evil: Path
    servers: dict[tuple[tuple[str, Any], ...], MCPServer[Any]]

    def server(self, **overrides: Any) -> MCPServer[Any]:
        """The server for these settings over this root, built once per module."""
        key = tuple(sorted(overrides.items()))
        if key not in self.servers:
            values: dict[str, Any] = {"roots": [self.root], "allow_delete": True, "deny": DENY, **overrides}
            self.servers[key] = build_server(FilesystemSettings(**values))
        return self.servers[key]

    def fill(self, value: Any) -> Any:
        """Replace {root}, {out}, {evil} and {base} in every string of an argument structure."""
        if isinstance(value, str):
            return value.format(root=self.root, out=self.outside, evil=self.evil, base=self.base)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def snapshot_outside(self, *, atime: bool = True) -> Snapshot:
        """Everything under base except the root, access times included (see OLD)."""
        return snapshot(self.base, skip=self.root, atime=atime)

    def snapshot_root(self) -> Snapshot:
        return snapshot(self.root)


NOATIME_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME | os.O_NONBLOCK | os.O_CLOEXEC
OLD = 1_000_000_000  # times set on everything outside: a read after that moves atime to now (relatime)


def snapshot(top: Path, skip: Path | None = None, *, atime: bool = False) -> Snapshot:
    """Mode, size, mtime (and atime), then bytes, link target or sorted names of everything under `top`.

    Files and directories are opened with O_NOATIME, so that taking a snapshot is not itself a read.
    """
    out: Snapshot = {}

    def visit(path: Path) -> None:
        st = os.lstat(path)
        extra: Any = None
        if stat.S_ISLNK(st.st_mode):
            extra = os.readlink(path)
        elif stat.S_ISDIR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_size <= 1 << 20):
            fd = os.open(path, NOATIME_OPEN)
            try:
                extra = tuple(sorted(os.listdir(fd))) if stat.S_ISDIR(st.st_mode) else os.read(fd, st.st_size + 1)
            finally:
                os.close(fd)
        out[str(path.relative_to(top))] = (st.st_mode, st.st_size, st.st_mtime_ns, atime and st.st_atime_ns, extra)
        if stat.S_ISDIR(st.st_mode):
            for name in extra:
                if path / name != skip:
                    visit(path / name)

    visit(top)
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attacks")


@pytest.fixture(scope="module")
def servers() -> dict[tuple[tuple[str, Any], ...], MCPServer[Any]]:
    return {}


@pytest.fixture
def world(base: Path, servers: dict[tuple[tuple[str, Any], ...], MCPServer[Any]]) -> World:
    for old in base.iterdir():
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    root, outside, evil = base / "root", base / "outside", base / "root-evil"
    for d in (root, outside, evil, outside / "secretdir", root / "sub", root / ".git", root / "withlinks"):
        d.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "secretdir" / "inner.txt").write_text(SECRET + " inner\n")
    (evil / "secret.txt").write_text(SECRET + " evil\n")
    (root / "a.txt").write_text("hello inside\n")
    (root / "sub" / "inner.txt").write_text("inner text\n")
    (root / ".env").write_text(DENIED + "\n")
    (root / ".git" / "config").write_text(DENIED + " git\n")
    (root / "withlinks" / "ok.txt").write_text("plain file\n")
    links = {
        "link_file_abs": f"{outside}/secret.txt",
        "link_file_rel": "../outside/secret.txt",
        "link_dir_abs": str(outside),
        "link_dir_rel": "../outside",
        "link_evil": "../root-evil",
        "chain1": "chain2",
        "chain2": "chain3",
        "chain3": "link_file_rel",
        "chain_dir": "link_dir_rel",
        "loop_a": "loop_b",
        "loop_b": "loop_a",
        "self_loop": "self_loop",
        "dangling_out": f"{outside}/missing.txt",
        "up": "..",
        "link_proc": "/proc/self/environ",
        "link_dev": "/dev/zero",
        "link_proc_root": f"/proc/self/root{outside}/secret.txt",
        "env_alias": ".env",
        "link_inside": "a.txt",
        "link_inside_dir": "sub",
        "link_fifo": "fifo",
        "sub/deep_rel": "../../outside/secret.txt",
        "withlinks/out_file": f"{outside}/secret.txt",
        "withlinks/out_dir": "../../outside",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    os.mkfifo(root / "fifo")
    for path in [*outside.rglob("*"), *evil.rglob("*"), outside, evil, base]:
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    return World(base, root, outside, evil, servers)


@asynccontextmanager
async def connect(world: World, **overrides: Any) -> AsyncIterator[Client]:
    async with Client(world.server(**overrides)) as client:
        yield client


@dataclass
class Outcome:
    refused: bool
    text: str  # everything the server sent back, serialised


async def attempt(client: Client, tool: str, args: dict[str, Any]) -> Outcome:
    """Call a tool (or read a resource, for tool 'resource'), bounded in time."""
    with anyio.fail_after(10):
        if tool == "resource":
            try:
                res = await client.read_resource(args["uri"], cache_mode="bypass")
            except MCPError as exc:
                return Outcome(True, repr(exc))
            return Outcome(False, res.model_dump_json())
        result = await client.call_tool(tool, args)
    refused = result.is_error
    if tool == "read_multiple_files" and not result.is_error:
        refused = result.structured_content is not None and result.structured_content["succeeded"] == 0
    return Outcome(bool(refused), result.model_dump_json())


def assert_nothing_leaked(outcome: Outcome) -> None:
    for text in FORBIDDEN_TEXT:
        assert text not in outcome.text


# ---------------------------------------------------------------------------------------------------------------------
# Attacks that must be refused outright.

P = pytest.param
REFUSED = [
    # Path traversal, absolute paths outside, home directory.
    P("read_file", {"path": "../outside/secret.txt"}, id="traversal-relative-dotdot"),
    P("read_file", {"path": "{root}/../outside/secret.txt"}, id="traversal-absolute-with-dotdot"),
    P("read_file", {"path": "sub/../../outside/secret.txt"}, id="traversal-from-a-subdirectory"),
    P("read_file", {"path": "./sub/./.././../outside/./secret.txt"}, id="traversal-mixed-dot-segments"),
    P("read_file", {"path": "../" * 40 + "etc/passwd"}, id="traversal-past-the-filesystem-root"),
    P("read_file", {"path": "{out}/secret.txt"}, id="absolute-path-outside"),
    P("read_file", {"path": "/etc/passwd"}, id="absolute-system-file"),
    P("list_directory", {"path": "/"}, id="list-the-filesystem-root"),
    P("list_directory", {"path": "~"}, id="tilde-home-directory"),
    P("read_file", {"path": "~/../../../../..{out}/secret.txt"}, id="tilde-then-traversal"),
    P("read_file", {"path": "~root/.profile"}, id="tilde-other-user"),
    P("read_multiple_files", {"paths": ["{out}/secret.txt", "../outside/secret.txt"]}, id="read-many-outside"),
    # Encoded or look-alike separators are literal names inside the root, never decoded into traversal.
    P("read_file", {"path": "..%2Foutside%2Fsecret.txt"}, id="percent-encoded-slash"),
    P("read_file", {"path": "%2e%2e/outside/secret.txt"}, id="percent-encoded-dots"),
    P("read_file", {"path": "..%252Foutside%252Fsecret.txt"}, id="double-percent-encoded"),
    P("read_file", {"path": "..%c0%afoutside%c0%afsecret.txt"}, id="overlong-utf8-slash-encoded"),
    P("read_file", {"path": "..\\outside\\secret.txt"}, id="backslash-separators"),
    P("read_file", {"path": "....//outside/secret.txt"}, id="four-dots-double-slash"),
    P("read_file", {"path": "\uff0e\uff0e/outside/secret.txt"}, id="fullwidth-dots"),
    P("read_file", {"path": "..\u2215outside\u2215secret.txt"}, id="unicode-division-slash"),
    P("read_file", {"path": ".. /outside/secret.txt"}, id="dotdot-with-trailing-space"),
    P("read_file", {"path": "'{out}/secret.txt'"}, id="quoted-absolute-path"),
    P("read_file", {"path": " {out}/secret.txt"}, id="leading-space-absolute-path"),
    P("read_file", {"path": "file://{out}/secret.txt"}, id="file-uri-as-a-path"),
    # Prefix siblings (CVE-2025-53110): /tmp/x/root-evil is not inside /tmp/x/root.
    P("read_file", {"path": "{root}-evil/secret.txt"}, id="prefix-sibling-read"),
    P("list_directory", {"path": "{root}-evil"}, id="prefix-sibling-list"),
    P("write_file", {"path": "{root}-evil/new.txt", "content": "x"}, id="prefix-sibling-write"),
    P("create_directory", {"path": "{root}-evil/newdir"}, id="prefix-sibling-mkdir"),
    P("read_file", {"path": "link_evil/secret.txt"}, id="prefix-sibling-through-symlink"),
    # NUL bytes and lengths.
    P("read_file", {"path": "a.txt\x00../../outside/secret.txt"}, id="nul-byte-then-traversal"),
    P("read_file", {"path": "{out}/secret.txt\x00"}, id="nul-byte-after-outside-path"),
    P("write_file", {"path": "new\x00.txt", "content": "x"}, id="nul-byte-in-write"),
    P("read_file", {"path": "a" * 5000}, id="path-over-the-length-limit"),
    P("read_file", {"path": "x" * 300}, id="component-over-name-max"),
    P("read_file", {"path": "d/" * 2040 + "x"}, id="two-thousand-components"),
    # /proc and /dev, directly and through links.
    P("read_file", {"path": "/proc/self/environ"}, id="proc-self-environ"),
    P("read_file", {"path": "/proc/self/root{out}/secret.txt"}, id="proc-self-root-magic-link"),
    P("read_file", {"path": "/proc/self/fd/0"}, id="proc-self-fd"),
    P("read_file", {"path": "/dev/zero"}, id="dev-zero"),
    P("read_file", {"path": "link_proc"}, id="symlink-to-proc-environ"),
    P("read_file", {"path": "link_dev"}, id="symlink-to-dev-zero"),
    P("read_file", {"path": "link_proc_root"}, id="symlink-through-proc-root-magic-link"),
    # Symbolic links leaving the root: files, directories, absolute and relative, chains, loops, dangling.
    P("read_file", {"path": "link_file_abs"}, id="symlink-file-absolute-target"),
    P("read_file", {"path": "link_file_rel"}, id="symlink-file-relative-target"),
    P("read_file", {"path": "link_dir_abs/secret.txt"}, id="symlink-dir-absolute-target"),
    P("read_file", {"path": "link_dir_rel/secretdir/inner.txt"}, id="symlink-dir-relative-target"),
    P("read_file", {"path": "sub/deep_rel"}, id="symlink-in-subdir-climbing-out"),
    P("read_file", {"path": "up/outside/secret.txt"}, id="symlink-to-parent-of-root"),
    P("read_file", {"path": "chain1"}, id="symlink-chain-ending-outside"),
    P("read_file", {"path": "chain_dir/secret.txt"}, id="symlink-dir-chain-ending-outside"),
    P("read_file", {"path": "loop_a"}, id="symlink-loop-of-two"),
    P("read_file", {"path": "self_loop"}, id="symlink-pointing-at-itself"),
    P("read_file", {"path": "loop_a/x"}, id="symlink-loop-in-a-middle-component"),
    P("read_file", {"path": "dangling_out"}, id="dangling-symlink-to-outside"),
    P("list_directory", {"path": "link_dir_abs"}, id="list-through-symlinked-dir"),
    P("directory_tree", {"path": "link_dir_rel"}, id="tree-through-symlinked-dir"),
    P("search_files", {"path": "link_dir_rel", "pattern": "*"}, id="search-through-symlinked-dir"),
    P("grep", {"path": "link_dir_abs", "pattern": "K2"}, id="grep-through-symlinked-dir"),
    P("grep", {"path": "link_file_rel", "pattern": "K2"}, id="grep-symlinked-file"),
    P("get_file_info", {"path": "link_dir_abs/secret.txt"}, id="file-info-through-symlinked-dir"),
    # Writes, edits, moves, copies and deletes aimed outside.
    P("write_file", {"path": "../outside/new.txt", "content": "x"}, id="write-by-traversal"),
    P("write_file", {"path": "{out}/secret.txt", "content": "x"}, id="overwrite-absolute-outside"),
    P("write_file", {"path": "link_dir_abs/new.txt", "content": "x"}, id="write-under-symlinked-parent"),
    P("write_file", {"path": "link_file_abs", "content": "x"}, id="write-through-symlink-to-outside-file"),
    P("write_file", {"path": "dangling_out", "content": "x"}, id="write-creating-dangling-symlink-target"),
    P(
        "write_file",
        {"path": "link_dir_rel/a/b.txt", "content": "x", "create_parents": True},
        id="write-mkparents-link",
    ),
    P("write_file", {"path": "../outside/n/x.txt", "content": "x", "create_parents": True}, id="write-mkparents-out"),
    P("edit_file", {"path": "link_file_rel", "edits": [{"old_text": SECRET, "new_text": "x"}]}, id="edit-via-link"),
    P(
        "edit_file",
        {"path": "link_dir_abs/secret.txt", "edits": [{"old_text": SECRET, "new_text": "x"}], "dry_run": True},
        id="edit-dry-run-diff-through-symlinked-dir",
    ),
    P("edit_file", {"path": "{out}/secret.txt", "edits": [{"old_text": SECRET, "new_text": "x"}]}, id="edit-abs"),
    P("create_directory", {"path": "link_dir_abs/newdir"}, id="mkdir-under-symlinked-parent"),
    P("create_directory", {"path": "../outside/newdir"}, id="mkdir-by-traversal"),
    P("create_directory", {"path": "link_dir_rel/x/y", "parents": True}, id="mkdir-parents-under-symlinked-dir"),
    P("create_directory", {"path": "link_dir_abs/a/b/c/d"}, id="mkdir-deep-missing-parents-under-symlinked-dir"),
    P(
        "write_file",
        {"path": "sub/x/y/../../../link_dir_rel/p/q/r.txt", "content": "x", "create_parents": True},
        id="write-deep-missing-parents-under-symlinked-dir",
    ),
    P("move_file", {"source": "a.txt", "destination": "../outside/moved.txt"}, id="move-out-by-traversal"),
    P("move_file", {"source": "a.txt", "destination": "link_dir_abs/moved.txt"}, id="move-out-via-symlinked-dir"),
    P("move_file", {"source": "{out}/secret.txt", "destination": "stolen.txt"}, id="move-outside-file-in"),
    P("move_file", {"source": "link_dir_abs/secret.txt", "destination": "stolen.txt"}, id="move-in-via-symlink"),
    P("move_file", {"source": "{out}/secretdir", "destination": "stolen_dir"}, id="move-outside-directory-in"),
    P("copy_file", {"source": "{out}/secret.txt", "destination": "stolen.txt"}, id="copy-outside-file-in"),
    P("copy_file", {"source": "link_file_abs", "destination": "stolen.txt"}, id="copy-in-via-file-symlink"),
    P("copy_file", {"source": "link_dir_rel", "destination": "stolen", "recursive": True}, id="copy-in-linked-dir"),
    P("copy_file", {"source": "a.txt", "destination": "link_dir_abs/copied.txt"}, id="copy-out-via-symlinked-dir"),
    P(
        "copy_file",
        {"source": "a.txt", "destination": "link_file_abs", "overwrite": True},
        id="copy-over-symlink-to-outside-file",
    ),
    P("copy_file", {"source": "a.txt", "destination": "dangling_out", "overwrite": True}, id="copy-over-dangling-link"),
    P("delete_file", {"path": "link_dir_abs/secret.txt"}, id="delete-via-symlinked-dir"),
    P("delete_file", {"path": "../outside/secret.txt"}, id="delete-by-traversal"),
    P("delete_file", {"path": "{out}", "recursive": True}, id="delete-outside-tree"),
    P("delete_file", {"path": "link_dir_rel/secretdir", "recursive": True}, id="delete-tree-via-symlinked-dir"),
    # The root itself.
    P("delete_file", {"path": ".", "recursive": True}, id="delete-root-as-dot"),
    P("delete_file", {"path": "{root}", "recursive": True}, id="delete-root-absolute"),
    P("delete_file", {"path": "sub/..", "recursive": True}, id="delete-root-via-dotdot"),
    P("move_file", {"source": ".", "destination": "moved_root"}, id="move-the-root"),
    P("write_file", {"path": ".", "content": "x"}, id="write-over-the-root"),
    # The deny-list (.env, .git): refused by name, by alias, by absolute path, and for every operation.
    P("read_file", {"path": ".env"}, id="deny-read"),
    P("read_file", {"path": ".git/config"}, id="deny-read-inside-denied-dir"),
    P("list_directory", {"path": ".git"}, id="deny-list-dir"),
    P("read_file", {"path": "env_alias"}, id="deny-through-symlink-alias"),
    P("read_file", {"path": "{root}/sub/../.env"}, id="deny-absolute-with-dotdot"),
    P("read_multiple_files", {"paths": [".env", ".git/config"]}, id="deny-read-many"),
    P("write_file", {"path": ".env", "content": "x"}, id="deny-write"),
    P("write_file", {"path": ".git/hooks/pre-commit", "content": "x", "create_parents": True}, id="deny-git-hook"),
    P("edit_file", {"path": ".env", "edits": [{"old_text": DENIED, "new_text": "x"}], "dry_run": True}, id="deny-edit"),
    P("move_file", {"source": ".env", "destination": "public.txt"}, id="deny-move-out-of-the-pattern"),
    P("copy_file", {"source": ".env", "destination": "public.txt"}, id="deny-copy-out-of-the-pattern"),
    P("copy_file", {"source": ".git", "destination": "gitcopy", "recursive": True}, id="deny-copy-denied-dir"),
    P("delete_file", {"path": ".git", "recursive": True}, id="deny-delete"),
    P("move_file", {"source": "a.txt", "destination": ".env", "overwrite": True}, id="deny-move-over-denied-file"),
    P("copy_file", {"source": "a.txt", "destination": ".git/config", "overwrite": True}, id="deny-copy-over"),
    P("create_directory", {"path": ".git/objects/evil"}, id="deny-mkdir-inside-denied-dir"),
    P("get_file_info", {"path": ".env"}, id="deny-file-info"),
    P("grep", {"path": ".env", "pattern": "K2"}, id="deny-grep-the-file"),
    P("resource", {"uri": "file://{root}/.env"}, id="deny-resource"),
    # Special files: FIFOs (must not hang) and what a link to one leads to.
    P("read_file", {"path": "fifo"}, id="fifo-read"),
    P("read_file", {"path": "link_fifo"}, id="fifo-read-through-symlink"),
    P("read_multiple_files", {"paths": ["fifo"]}, id="fifo-read-many"),
    P("edit_file", {"path": "fifo", "edits": [{"old_text": "a", "new_text": "b"}]}, id="fifo-edit"),
    P("write_file", {"path": "fifo", "content": "x"}, id="fifo-write"),
    P("copy_file", {"source": "fifo", "destination": "fifo_copy"}, id="fifo-copy"),
    P("grep", {"path": "fifo", "pattern": "x"}, id="fifo-grep"),
    P("resource", {"uri": "file://{root}/fifo"}, id="fifo-resource"),
    # The file:// resource template.
    P("resource", {"uri": "file://{out}/secret.txt"}, id="resource-absolute-outside"),
    P("resource", {"uri": "file://{root}/../outside/secret.txt"}, id="resource-traversal"),
    P("resource", {"uri": "file://{root}/..%2F..%2Foutside%2Fsecret.txt"}, id="resource-encoded-traversal"),
    P("resource", {"uri": "file://{root}/link_file_abs"}, id="resource-symlink-out"),
    P("resource", {"uri": "file://{root}/link_dir_rel/secret.txt"}, id="resource-symlinked-dir"),
    P("resource", {"uri": "file://{root}-evil/secret.txt"}, id="resource-prefix-sibling"),
    P("resource", {"uri": "file:///etc/passwd"}, id="resource-system-file"),
    P("resource", {"uri": "file:///proc/self/environ"}, id="resource-proc"),
]


@pytest.mark.parametrize(("tool", "args"), REFUSED)
async def test_attack_is_refused_and_nothing_outside_is_read_or_changed(
    world: World, tool: str, args: dict[str, Any]
) -> None:
    before, before_root = world.snapshot_outside(), world.snapshot_root()
    async with connect(world) as client:
        outcome = await attempt(client, tool, world.fill(args))
    assert outcome.refused, outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before
    assert world.snapshot_root() == before_root  # a refusal changes nothing inside either


def test_the_attack_table_holds_at_least_fifty_distinct_cases() -> None:
    ids = [p.id for p in REFUSED]
    assert len(ids) == len(set(ids)) >= 50
    assert len({repr(p.values) for p in REFUSED}) == len(REFUSED)


# ---------------------------------------------------------------------------------------------------------------------
# Attacks that succeed as operations but must act on the link, never on what it points to.


async def test_deleting_a_symlink_to_an_outside_directory_removes_only_the_link(world: World) -> None:
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(client, "delete_file", {"path": "link_dir_abs", "recursive": True})
    assert not outcome.refused, outcome.text
    assert not (world.root / "link_dir_abs").is_symlink()
    assert world.snapshot_outside() == before


async def test_moving_a_file_over_a_symlink_to_an_outside_file_replaces_the_link_not_the_target(world: World) -> None:
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(
            client, "move_file", {"source": "a.txt", "destination": "link_file_abs", "overwrite": True}
        )
    assert not outcome.refused, outcome.text
    assert not (world.root / "link_file_abs").is_symlink()
    assert (world.root / "link_file_abs").read_text() == "hello inside\n"
    assert world.snapshot_outside() == before


async def test_copying_a_directory_skips_symlinks_that_lead_outside(world: World) -> None:
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(
            client, "copy_file", {"source": "withlinks", "destination": "copied", "recursive": True}
        )
        assert not outcome.refused, outcome.text
        followup = await attempt(client, "read_file", {"path": "copied/out_file"})
    assert sorted(os.listdir(world.root / "copied")) == ["ok.txt"]
    assert followup.refused
    assert '"skipped_links":["out_dir","out_file"]' in outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


@pytest.mark.parametrize(
    ("tool", "args", "present", "absent"),
    [
        P(
            "grep",
            {"path": ".", "pattern": "inner|K2-SENTINEL", "respect_gitignore": False},
            "inner text",
            SECRET,
            id="grep",
        ),
        P("search_files", {"path": ".", "pattern": "**/inner.txt"}, "sub/inner.txt", "secretdir", id="search"),
        P("directory_tree", {"path": ".", "max_depth": 10}, "inner.txt", "secretdir", id="tree"),
    ],
)
async def test_walks_over_the_root_never_follow_symlinks_out(
    world: World, tool: str, args: dict[str, Any], present: str, absent: str
) -> None:
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert not outcome.refused, outcome.text
    assert present in outcome.text  # the walk did run over the root
    assert absent not in outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


async def test_grep_over_the_root_does_not_read_files_on_the_deny_list(world: World) -> None:
    async with connect(world) as client:
        outcome = await attempt(
            client, "grep", {"path": ".", "pattern": "K2-DENIED|inner text", "respect_gitignore": False}
        )
    assert not outcome.refused, outcome.text
    assert "sub/inner.txt" in outcome.text  # the walk did search the root
    assert_nothing_leaked(outcome)


# ---------------------------------------------------------------------------------------------------------------------
# Hard links: the content is readable (the link *is* the file), but writes replace the name, not the shared inode.


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        P("write_file", {"path": "hard.txt", "content": "replaced\n"}, id="write"),
        P("edit_file", {"path": "hard.txt", "edits": [{"old_text": "shared", "new_text": "edited"}]}, id="edit"),
    ],
)
async def test_writing_through_a_hard_link_leaves_the_outside_file_unchanged(
    world: World, tool: str, args: dict[str, Any]
) -> None:
    target = world.outside / "hard_target.txt"
    target.write_text("shared content\n")
    os.link(target, world.root / "hard.txt")
    before = world.snapshot_outside(atime=False)  # an edit reads the shared inode: that is the link's nature
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert not outcome.refused, outcome.text
    assert target.read_text() == "shared content\n"
    assert (world.root / "hard.txt").read_text() != "shared content\n"
    assert world.snapshot_outside(atime=False) == before


@pytest.mark.parametrize(
    ("tool", "args", "result"),
    [
        P("write_file", {"path": "tool.sh", "content": "#!/bin/sh\nid\n"}, "tool.sh", id="write"),
        P("edit_file", {"path": "tool.sh", "edits": [{"old_text": "true", "new_text": "id"}]}, "tool.sh", id="edit"),
        P("copy_file", {"source": "tool.sh", "destination": "copy.sh"}, "copy.sh", id="copy"),
    ],
)
async def test_new_content_never_carries_a_set_user_or_group_id_bit(
    world: World, tool: str, args: dict[str, Any], result: str
) -> None:
    # Rewriting a setuid program by rename would otherwise hand the new content the old privileges.
    (world.root / "tool.sh").write_text("#!/bin/sh\ntrue\n")
    os.chmod(world.root / "tool.sh", 0o6755)
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert not outcome.refused, outcome.text
    mode = (world.root / result).stat().st_mode
    assert stat.S_IMODE(mode) == 0o755


# ---------------------------------------------------------------------------------------------------------------------
# Symlinks that stay inside the root must keep working.


async def test_a_symlink_inside_pointing_inside_can_be_read_listed_and_served(world: World) -> None:
    async with connect(world) as client:
        read = await attempt(client, "read_file", {"path": "link_inside"})
        nested = await attempt(client, "read_file", {"path": "link_inside_dir/inner.txt"})
        listed = await attempt(client, "list_directory", {"path": "link_inside_dir"})
        served = await attempt(client, "resource", {"uri": f"file://{world.root}/link_inside"})
    assert not any(o.refused for o in (read, nested, listed, served))
    assert "hello inside" in read.text and "hello inside" in served.text
    assert "inner text" in nested.text
    assert "inner.txt" in listed.text


async def test_writing_and_editing_through_an_inside_symlink_change_the_inside_target(world: World) -> None:
    before = world.snapshot_outside()
    async with connect(world) as client:
        wrote = await attempt(client, "write_file", {"path": "link_inside", "content": "new text\n"})
        edited = await attempt(
            client,
            "edit_file",
            {"path": "link_inside_dir/inner.txt", "edits": [{"old_text": "inner", "new_text": "X"}]},
        )
    assert not wrote.refused and not edited.refused
    assert (world.root / "link_inside").is_symlink()
    assert (world.root / "a.txt").read_text() == "new text\n"
    assert (world.root / "sub" / "inner.txt").read_text() == "X text\n"
    assert world.snapshot_outside() == before


# ---------------------------------------------------------------------------------------------------------------------
# Check-to-use races, made deterministic by swapping at the worst moment from inside the resolver.


def _swap_for_link(path: Path, target: Path) -> None:
    """Move `path` aside (to `<name>_moved`) and put a symbolic link to `target` in its place."""
    os.rename(path, path.with_name(path.name + "_moved"))
    os.symlink(target, path)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        P("read_file", {"path": "sub/secret.txt"}, id="read"),
        P("write_file", {"path": "sub/pwned.txt", "content": "x"}, id="write"),
        P("edit_file", {"path": "sub/secret.txt", "edits": [{"old_text": SECRET, "new_text": "x"}]}, id="edit"),
        P("delete_file", {"path": "sub/secret.txt"}, id="delete"),
        P("create_directory", {"path": "sub/newdir", "parents": False}, id="mkdir"),
        P("move_file", {"source": "a.txt", "destination": "sub/moved.txt"}, id="move"),
    ],
)
async def test_a_parent_swapped_for_an_outside_link_while_being_walked_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, tool: str, args: dict[str, Any]
) -> None:
    # The walk has seen `sub` as a real directory and is about to open it: swap it now.
    original = paths._Walk._enter
    swapped: list[bool] = []

    def racing_enter(self: paths._Walk, name: str, dir_fd: int | None = None) -> None:
        if name == "sub" and dir_fd is not None and not swapped:
            swapped.append(True)
            _swap_for_link(world.root / "sub", world.outside)
        original(self, name, dir_fd)

    monkeypatch.setattr(paths._Walk, "_enter", racing_enter)
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert swapped, "the race was not triggered"
    assert outcome.refused, outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


@pytest.mark.parametrize(
    ("tool", "args", "lands_in"),
    [
        P("write_file", {"path": "sub/pwned.txt", "content": "x"}, "pwned.txt", id="write"),
        P("create_directory", {"path": "sub/newdir", "parents": False}, "newdir", id="mkdir"),
        P("copy_file", {"source": "a.txt", "destination": "sub/copied.txt"}, "copied.txt", id="copy"),
    ],
)
async def test_a_parent_swapped_after_the_check_cannot_redirect_the_operation(
    world: World, monkeypatch: pytest.MonkeyPatch, tool: str, args: dict[str, Any], lands_in: str
) -> None:
    # The resolver has finished (and holds the directory open); swap the directory before the operation runs.
    original = paths.Sandbox.resolve
    swapped: list[bool] = []

    def racing_resolve(self: paths.Sandbox, path: str, *rest: Any, **kw: Any) -> paths.Located:
        located = original(self, path, *rest, **kw)
        if path.startswith("sub/") and not swapped:
            swapped.append(True)
            _swap_for_link(world.root / "sub", world.outside)
        return located

    monkeypatch.setattr(paths.Sandbox, "resolve", racing_resolve)
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert swapped, "the race was not triggered"
    # The operation went to the directory that was checked (now sub_moved), not through the new link.
    assert not outcome.refused, outcome.text
    assert (world.root / "sub_moved" / lands_in).exists()
    assert world.snapshot_outside() == before


async def test_a_parent_swapped_after_the_check_cannot_make_a_read_leave_the_root(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = paths.Sandbox.resolve

    def racing_resolve(self: paths.Sandbox, path: str, *rest: Any, **kw: Any) -> paths.Located:
        located = original(self, path, *rest, **kw)
        _swap_for_link(world.root / "sub", world.outside)
        return located

    monkeypatch.setattr(paths.Sandbox, "resolve", racing_resolve)
    before = world.snapshot_outside()
    async with connect(world) as client:
        outcome = await attempt(client, "read_file", {"path": "sub/secret.txt"})
    assert outcome.refused  # the held descriptor is the real `sub`, which has no secret.txt
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


@contextmanager
def _swap_after_lstat(monkeypatch: pytest.MonkeyPatch, name: str, swap: Callable[[], None]) -> Iterator[list[bool]]:
    """Swap a final component right after the server first looks at it (lstat) and before it opens it."""
    original = paths.Located.lstat
    swapped: list[bool] = []

    def racing_lstat(self: paths.Located) -> os.stat_result | None:
        st = original(self)
        if self.name == name and not swapped:
            swapped.append(True)
            swap()
        return st

    monkeypatch.setattr(paths.Located, "lstat", racing_lstat)
    yield swapped


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        P("read_file", {"path": "a.txt"}, id="read"),
        P("edit_file", {"path": "a.txt", "edits": [{"old_text": SECRET, "new_text": "x"}], "dry_run": True}, id="edit"),
        P("copy_file", {"source": "a.txt", "destination": "copied.txt"}, id="copy"),
        P("resource", {"uri": "file://{root}/a.txt"}, id="resource"),
    ],
)
async def test_a_file_swapped_for_an_outside_link_between_check_and_open_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, tool: str, args: dict[str, Any]
) -> None:
    def swap() -> None:
        (world.root / "a.txt").unlink()
        os.symlink(world.outside / "secret.txt", world.root / "a.txt")

    before = world.snapshot_outside()
    with _swap_after_lstat(monkeypatch, "a.txt", swap) as swapped:
        async with connect(world) as client:
            outcome = await attempt(client, tool, world.fill(args))
    assert swapped, "the race was not triggered"
    assert outcome.refused, outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


@pytest.mark.parametrize("kind", ["hard-link-to-outside-file", "fifo"])
async def test_a_file_swapped_for_another_inode_between_check_and_open_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # O_NOFOLLOW cannot see these swaps; the inode and type check on the open descriptor must.
    def swap() -> None:
        (world.root / "a.txt").unlink()
        if kind == "fifo":
            os.mkfifo(world.root / "a.txt")
        else:
            os.link(world.outside / "secret.txt", world.root / "a.txt")

    before = world.snapshot_outside()
    with _swap_after_lstat(monkeypatch, "a.txt", swap) as swapped:
        async with connect(world) as client:
            outcome = await attempt(client, "read_file", {"path": "a.txt"})
    assert swapped, "the race was not triggered"
    assert outcome.refused, outcome.text
    assert_nothing_leaked(outcome)
    assert world.snapshot_outside() == before


async def test_a_file_swapped_for_an_outside_link_before_a_write_is_replaced_not_followed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def swap() -> None:
        (world.root / "a.txt").unlink()
        os.symlink(world.outside / "secret.txt", world.root / "a.txt")

    before = world.snapshot_outside()
    with _swap_after_lstat(monkeypatch, "a.txt", swap) as swapped:
        async with connect(world) as client:
            outcome = await attempt(client, "write_file", {"path": "a.txt", "content": "new\n"})
    assert swapped, "the race was not triggered"
    assert not outcome.refused, outcome.text
    assert not (world.root / "a.txt").is_symlink()
    assert (world.root / "a.txt").read_text() == "new\n"
    assert world.snapshot_outside() == before


async def test_a_directory_swapped_for_an_outside_link_before_a_recursive_delete_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = world.snapshot_outside()
    with _swap_after_lstat(monkeypatch, "sub", lambda: _swap_for_link(world.root / "sub", world.outside)) as swapped:
        async with connect(world) as client:
            outcome = await attempt(client, "delete_file", {"path": "sub", "recursive": True})
    assert swapped, "the race was not triggered"
    assert outcome.refused, outcome.text
    assert (world.root / "sub_moved" / "inner.txt").exists()
    assert world.snapshot_outside() == before


# ---------------------------------------------------------------------------------------------------------------------
# Sockets and huge files.


@pytest.fixture
def unix_socket(world: World) -> Path:
    # AF_UNIX paths are limited to ~108 bytes, so bind in a short directory and move the socket into the root.
    short = tempfile.mkdtemp(prefix="k2s")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(os.path.join(short, "s"))
            os.rename(os.path.join(short, "s"), world.root / "sock")
    finally:
        shutil.rmtree(short)
    return world.root / "sock"


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        P("read_file", {"path": "sock"}, id="read"),
        P("write_file", {"path": "sock", "content": "x"}, id="write"),
        P("copy_file", {"source": "sock", "destination": "sock_copy"}, id="copy"),
    ],
)
async def test_a_unix_socket_is_refused(world: World, unix_socket: Path, tool: str, args: dict[str, Any]) -> None:
    async with connect(world) as client:
        outcome = await attempt(client, tool, args)
    assert outcome.refused, outcome.text
    assert stat.S_ISSOCK(os.lstat(unix_socket).st_mode)


@pytest.fixture
def huge_files(world: World) -> None:
    """Two sparse 4 GiB files: all zeros, and 130 kB of text lines followed by a hole."""
    with open(world.root / "huge_zeros.bin", "wb") as fh:
        fh.truncate(4 * GiB)
    with open(world.root / "huge_text.log", "wb") as fh:
        fh.write(b"line of text\n" * 10_000)
        fh.truncate(4 * GiB)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize(
    ("tool", "args", "expect_refused"),
    [
        P("read_file", {"path": "huge_zeros.bin"}, True, id="read-binary"),
        P("read_file", {"path": "huge_text.log"}, False, id="read-text-truncated"),
        P("read_multiple_files", {"paths": ["huge_text.log"]}, False, id="read-many-truncated"),
        P("edit_file", {"path": "huge_text.log", "edits": [{"old_text": "line", "new_text": "x"}]}, True, id="edit"),
        P(
            "write_file",
            {"path": "huge_text.log", "content": "x", "expected_sha256": "0" * 64},
            True,
            id="write-with-expected-hash",
        ),
        P("grep", {"path": "huge_text.log", "pattern": "nomatch"}, False, id="grep-one-file"),
        P("resource", {"uri": "file://{root}/huge_text.log"}, True, id="resource"),
    ],
)
async def test_a_sparse_file_over_the_caps_is_refused_or_truncated_without_reading_it_all(
    world: World, huge_files: None, tool: str, args: dict[str, Any], expect_refused: bool
) -> None:
    peak_before = _peak_rss_bytes()
    async with connect(world) as client:
        outcome = await attempt(client, tool, world.fill(args))
    assert outcome.refused is expect_refused, outcome.text[:2000]
    if not expect_refused and tool != "grep":
        assert '"truncated":true' in outcome.text
    assert len(outcome.text) < 2_000_000
    assert _peak_rss_bytes() - peak_before < 512 * 1024 * 1024
    assert (world.root / "huge_text.log").stat().st_size == 4 * GiB


# ---------------------------------------------------------------------------------------------------------------------
# Modes: read-only, delete not allowed; client roots narrowing.


async def test_read_only_mode_lists_no_write_tools(world: World) -> None:
    async with connect(world, read_only=True) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "read_file" in names
    assert names.isdisjoint(WRITE_TOOLS)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        P("write_file", {"path": "a.txt", "content": "x"}, id="write"),
        P("edit_file", {"path": "a.txt", "edits": [{"old_text": "hello", "new_text": "x"}]}, id="edit"),
        P("create_directory", {"path": "newdir"}, id="mkdir"),
        P("move_file", {"source": "a.txt", "destination": "b.txt"}, id="move"),
        P("copy_file", {"source": "a.txt", "destination": "b.txt"}, id="copy"),
        P("delete_file", {"path": "a.txt"}, id="delete"),
    ],
)
async def test_read_only_mode_refuses_every_write_tool(world: World, tool: str, args: dict[str, Any]) -> None:
    before_root, before_outside = world.snapshot_root(), world.snapshot_outside()
    async with connect(world, read_only=True) as client:
        outcome = await attempt(client, tool, args)
    assert outcome.refused
    assert world.snapshot_root() == before_root
    assert world.snapshot_outside() == before_outside


async def test_without_allow_delete_the_delete_tool_is_absent_and_refused(world: World) -> None:
    async with connect(world, allow_delete=False) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        outcome = await attempt(client, "delete_file", {"path": "a.txt"})
    assert "delete_file" not in names and "write_file" in names
    assert outcome.refused
    assert (world.root / "a.txt").exists()


async def test_a_client_root_narrowed_to_a_denied_directory_does_not_lift_the_deny_list(world: World) -> None:
    async def roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=FileUrl(f"file://{world.root}/.git"))])

    async with Client(world.server(), mode="legacy", list_roots_callback=roots) as client:
        allowed = await attempt(client, "list_allowed_directories", {})
        read = await attempt(client, "read_file", {"path": "config"})
        listed = await attempt(client, "list_directory", {"path": "."})
    assert f"{world.root}/.git" in allowed.text  # the narrowing itself took effect
    assert read.refused and listed.refused
    assert_nothing_leaked(read)


async def test_copying_a_directory_into_itself_is_refused_before_anything_is_created(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unchecked, the copy recurses into its own growing copy until the entry cap (small here so that a
    # regression fails fast instead of writing 100 000 entries), so check that no directory was ever made.
    made: list[str] = []
    original_mkdir = os.mkdir

    def recording_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        made.append(str(path))
        original_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", recording_mkdir)
    before = world.snapshot_root()
    async with connect(world, max_walk_entries=100) as client:
        outcome = await attempt(client, "copy_file", {"source": "sub", "destination": "sub/again", "recursive": True})
        from_root = await attempt(client, "copy_file", {"source": ".", "destination": "all", "recursive": True})
    assert outcome.refused and from_root.refused
    assert made == []
    assert world.snapshot_root() == before
