"""The looking-around tools: list_directory, directory_tree, search_files and grep."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server
from mcp import Client

from tests.servers.filesystem.common import ok, refusal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path]))) as c:
        yield c


def make(top: Path, files: dict[str, str | bytes]) -> None:
    """Create files (and their directories) below `top`; a name ending in '/' is an empty directory."""
    for rel, content in files.items():
        path = top / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


# list_directory

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def entry(name: str, kind: str, size: int | None, t: int, link_target: str | None = None) -> dict[str, Any]:
    mtimes = {T0: "2023-11-14T22:13:20Z", T0 + 60: "2023-11-14T22:14:20Z", T0 + 120: "2023-11-14T22:15:20Z"}
    mtimes[T0 + 180] = "2023-11-14T22:16:20Z"
    # Fields without a value are left out of an entry (a directory has no size, a file no link target).
    found: dict[str, Any] = {"name": name, "kind": kind, "size": size, "mtime": mtimes[t], "link_target": link_target}
    return {k: v for k, v in found.items() if v is not None}


@pytest.fixture
def listed(tmp_path: Path) -> Path:
    """bravo.txt (30 B, oldest), alpha.txt (10 B), .hidden (5 B), charlie/ (newest)."""
    make(tmp_path, {"bravo.txt": "b" * 30, "alpha.txt": "a" * 10, ".hidden": "h" * 5, "charlie/": ""})
    for name, t in [("bravo.txt", T0), ("alpha.txt", T0 + 60), (".hidden", T0 + 120), ("charlie", T0 + 180)]:
        os.utime(tmp_path / name, (t, t))
    return tmp_path


ALPHA = entry("alpha.txt", "file", 10, T0 + 60)
BRAVO = entry("bravo.txt", "file", 30, T0)
HIDDEN = entry(".hidden", "file", 5, T0 + 120)
CHARLIE = entry("charlie", "directory", None, T0 + 180)


async def test_list_directory_lists_entries_by_name(client: Client, listed: Path) -> None:
    got = await ok(client, "list_directory")

    assert got == {
        "path": ".",
        "entries": [HIDDEN, ALPHA, BRAVO, CHARLIE],
        "total": 4,
        "offset": 0,
        "next_offset": None,
        "truncated": False,
    }


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("name", True, [CHARLIE, BRAVO, ALPHA, HIDDEN]),
        ("mtime", False, [BRAVO, ALPHA, HIDDEN, CHARLIE]),
        ("mtime", True, [CHARLIE, HIDDEN, ALPHA, BRAVO]),
        ("kind", False, [CHARLIE, HIDDEN, ALPHA, BRAVO]),
    ],
)
async def test_list_directory_sorts_by_the_key_asked_for(
    client: Client, listed: Path, sort: str, descending: bool, expected: list[dict[str, Any]]
) -> None:
    got = await ok(client, "list_directory", path=str(listed), sort=sort, descending=descending)

    assert got["entries"] == expected


async def test_list_directory_sorts_files_by_size(client: Client, listed: Path) -> None:
    (listed / "charlie").rmdir()  # a directory's own size depends on the filesystem

    got = await ok(client, "list_directory", sort="size", descending=True)

    assert got["entries"] == [BRAVO, ALPHA, HIDDEN]


async def test_list_directory_leaves_out_hidden_entries_when_asked(client: Client, listed: Path) -> None:
    got = await ok(client, "list_directory", include_hidden=False)

    assert (got["entries"], got["total"]) == ([ALPHA, BRAVO, CHARLIE], 3)


async def test_list_directory_without_details_gives_names_and_kinds_only(client: Client, listed: Path) -> None:
    (listed / "link").symlink_to("alpha.txt")

    got = await ok(client, "list_directory", details=False)

    assert got["entries"] == [
        {"name": ".hidden", "kind": "file"},
        {"name": "alpha.txt", "kind": "file"},
        {"name": "bravo.txt", "kind": "file"},
        {"name": "charlie", "kind": "directory"},
        {"name": "link", "kind": "symlink"},
    ]


async def test_list_directory_text_content_is_a_line_per_entry(client: Client, listed: Path) -> None:
    result = await client.call_tool("list_directory", {"include_hidden": False, "limit": 2})
    assert result.content[0].type == "text"
    assert result.content[0].text.splitlines() == [
        "[FILE] alpha.txt  10 B  2023-11-14T22:14:20Z",
        "[FILE] bravo.txt  30 B  2023-11-14T22:13:20Z",
        "[1 more; call again with offset=2]",
    ]


async def test_list_directory_pages_with_next_offset(client: Client, tmp_path: Path) -> None:
    make(tmp_path, {f"f{i}.txt": "" for i in range(5)})

    pages = []
    offset: int | None = 0
    while offset is not None:
        got = await ok(client, "list_directory", offset=offset, limit=2)
        pages.append(([e["name"] for e in got["entries"]], got["next_offset"], got["truncated"], got["total"]))
        offset = got["next_offset"]

    assert pages == [
        (["f0.txt", "f1.txt"], 2, True, 5),
        (["f2.txt", "f3.txt"], 4, True, 5),
        (["f4.txt"], None, False, 5),
    ]


async def test_list_directory_describes_a_symlink_without_following_it(client: Client, tmp_path: Path) -> None:
    make(tmp_path, {"sub/": ""})
    (tmp_path / "sub" / "link").symlink_to("../nowhere")

    got = await ok(client, "list_directory", path="sub")

    [link] = got["entries"]
    assert (link["name"], link["kind"], link["link_target"]) == ("link", "symlink", "../nowhere")


async def test_list_directory_refuses_a_file(client: Client, tmp_path: Path) -> None:
    make(tmp_path, {"f.txt": "x"})

    assert refusal(await client.call_tool("list_directory", {"path": "f.txt"})) == "wrong_kind"


async def test_list_directory_refuses_a_missing_directory(client: Client) -> None:
    assert refusal(await client.call_tool("list_directory", {"path": "nowhere"})) == "not_found"


async def test_list_directory_refuses_a_directory_outside_the_roots(client: Client, tmp_path: Path) -> None:
    assert refusal(await client.call_tool("list_directory", {"path": str(tmp_path.parent)})) == "access_denied"


# directory_tree


TREE_MTIME = "2023-11-14T22:13:20Z"  # the fixtures stamp every file T0


def stamp(root: Path) -> None:
    for f in root.rglob("*"):
        if f.is_file():
            os.utime(f, (T0, T0))


def node(name: str, size: int | None = None, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    kind = "file" if children is None else "directory"
    mtime = TREE_MTIME if kind == "file" else None
    return {"name": name, "kind": kind, "size": size, "mtime": mtime, "children": children, "children_truncated": False}


def pruned(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "directory",
        "size": None,
        "mtime": None,
        "children": None,
        "children_truncated": True,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make(tmp_path, {"a.txt": "abc", "docs/index.md": "# hi", "src/main.py": "", "src/pkg/mod.py": "x = 1\n"})
    stamp(tmp_path)
    return tmp_path


async def test_directory_tree_returns_the_nested_tree(client: Client, project: Path) -> None:
    got = await ok(client, "directory_tree")

    assert got == {
        "path": ".",
        "tree": [
            node("a.txt", 3),
            node("docs", children=[node("index.md", 4)]),
            node("src", children=[node("main.py", 0), node("pkg", children=[node("mod.py", 6)])]),
        ],
        "entries": 7,
        "truncated": False,
        "truncation_reason": None,
    }


async def test_directory_tree_marks_directories_below_the_depth_limit(client: Client, project: Path) -> None:
    got = await ok(client, "directory_tree", max_depth=2)

    assert got["tree"] == [
        node("a.txt", 3),
        node("docs", children=[node("index.md", 4)]),
        node("src", children=[node("main.py", 0), pruned("pkg")]),
    ]
    assert (got["entries"], got["truncated"]) == (6, True)
    assert "depth" in got["truncation_reason"]


async def test_directory_tree_at_depth_one_lists_only_the_top(client: Client, project: Path) -> None:
    got = await ok(client, "directory_tree", max_depth=1)

    assert got["tree"] == [node("a.txt", 3), pruned("docs"), pruned("src")]
    assert got["truncated"] is True


async def test_directory_tree_stops_at_the_entry_cap_and_says_so(client: Client, project: Path) -> None:
    got = await ok(client, "directory_tree", max_entries=3)

    assert got == {
        "path": ".",
        "tree": [node("a.txt", 3), node("docs", children=[node("index.md", 4)])],
        "entries": 3,
        "truncated": True,
        "truncation_reason": "entry limit of 3 reached",
    }


async def test_directory_tree_leaves_out_excluded_globs(client: Client, project: Path) -> None:
    got = await ok(client, "directory_tree", exclude=["*.md", "pkg/"])

    assert got["tree"] == [node("a.txt", 3), node("docs", children=[]), node("src", children=[node("main.py", 0)])]
    assert got["entries"] == 4


@pytest.fixture
def ignoring(tmp_path: Path) -> Path:
    """A repository whose nested .gitignore re-includes a file its parent's .gitignore excludes."""
    make(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "top.log": "",
            "build/out.bin": "",
            "app/.gitignore": "!keep.log\nsecret.txt\n",
            "app/code.py": "",
            "app/debug.log": "",
            "app/keep.log": "",
            "app/secret.txt": "",
        },
    )
    stamp(tmp_path)
    return tmp_path


async def test_directory_tree_honours_nested_gitignore_files_and_skips_git(client: Client, ignoring: Path) -> None:
    got = await ok(client, "directory_tree")

    assert got["tree"] == [
        node(".gitignore", len("*.log\nbuild/\n")),
        node(
            "app",
            children=[node(".gitignore", len("!keep.log\nsecret.txt\n")), node("code.py", 0), node("keep.log", 0)],
        ),
    ]
    assert got["truncated"] is False


async def test_directory_tree_shows_everything_when_gitignore_is_off(client: Client, ignoring: Path) -> None:
    got = await ok(client, "directory_tree", respect_gitignore=False)

    names = [n["name"] for n in got["tree"]]
    app = next(n for n in got["tree"] if n["name"] == "app")
    assert names == [".git", ".gitignore", "app", "build", "top.log"]
    assert [n["name"] for n in app["children"]] == [".gitignore", "code.py", "debug.log", "keep.log", "secret.txt"]


async def test_directory_tree_refuses_a_file(client: Client, project: Path) -> None:
    assert refusal(await client.call_tool("directory_tree", {"path": "a.txt"})) == "wrong_kind"


# search_files


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    make(
        tmp_path,
        {
            ".gitignore": "build/\n",
            "build/gen.py": "",
            "notes.txt": "",
            "src/a.py": "",
            "src/deep/x/test_b.py": "",
            "src/tests/helper.py": "",
            "src/tests/test_a.py": "",
            "src/test_c.py": "",
            "test_top.py": "",
        },
    )
    return tmp_path


async def test_search_files_finds_a_name_glob_at_any_depth(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="*.py")

    assert got["matches"] == [
        "src/a.py",
        "src/deep/x/test_b.py",
        "src/test_c.py",
        "src/tests/helper.py",
        "src/tests/test_a.py",
        "test_top.py",
    ]
    assert (got["path"], got["pattern"], got["truncated"]) == (".", "*.py", False)
    assert got["scanned"] >= 10


async def test_search_files_anchors_a_glob_with_a_slash_and_double_star(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="src/**/test_*.py")

    assert got["matches"] == ["src/deep/x/test_b.py", "src/test_c.py", "src/tests/test_a.py"]


async def test_search_files_finds_a_directory_by_name_without_its_contents(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="tests")

    assert got["matches"] == ["src/tests"]


async def test_search_files_below_a_subdirectory_gives_paths_relative_to_it(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="test_*.py", path="src/tests")

    assert (got["path"], got["matches"]) == ("src/tests", ["test_a.py"])


async def test_search_files_skips_gitignored_paths_unless_told_not_to(client: Client, sources: Path) -> None:
    honoured = await ok(client, "search_files", pattern="gen.py")
    ignored = await ok(client, "search_files", pattern="gen.py", respect_gitignore=False)

    assert (honoured["matches"], ignored["matches"]) == ([], ["build/gen.py"])


async def test_search_files_leaves_out_excluded_globs(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="*.py", exclude=["tests/", "deep/"])

    assert got["matches"] == ["src/a.py", "src/test_c.py", "test_top.py"]


async def test_search_files_stops_at_max_results_and_flags_it(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="*.py", max_results=2)

    assert (got["matches"], got["truncated"]) == (["src/a.py", "src/deep/x/test_b.py"], True)


async def test_search_files_with_exactly_max_results_matches_is_not_truncated(client: Client, sources: Path) -> None:
    got = await ok(client, "search_files", pattern="src/**/test_*.py", max_results=3)

    assert (len(got["matches"]), got["truncated"]) == (3, False)


async def test_search_files_refuses_a_missing_directory(client: Client) -> None:
    assert refusal(await client.call_tool("search_files", {"pattern": "*", "path": "nowhere"})) == "not_found"


# grep


@pytest.fixture
def code(tmp_path: Path) -> Path:
    make(
        tmp_path,
        {
            ".gitignore": "ignored/\n",
            "README.md": "Hello readers\n",
            "app.py": "import os\n\ndef main():\n    print('Hello World')\n    return 0\n",
            "data.bin": b"Hello\x00World\n",
            "ignored/x.py": "Hello from an ignored file\n",
            "lib/util.py": "def helper():\n    return 'hello'\n",
        },
    )
    return tmp_path


def match(path: str, line: int, text: str, before: list[str] | None = None, after: list[str] | None = None) -> dict:
    return {"path": path, "line": line, "text": text, "before": before or [], "after": after or []}


async def test_grep_finds_a_regex_and_skips_binary_and_ignored_files(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern=r"Hel+o\b")

    assert got == {
        "pattern": r"Hel+o\b",
        "matches": [match("README.md", 1, "Hello readers"), match("app.py", 4, "    print('Hello World')")],
        "files_searched": 4,
        "files_matched": 2,
        "truncated": False,
        "truncation_reason": None,
        "skipped_binary": 1,
        "skipped_large": 0,
    }


async def test_grep_matches_case_insensitively_when_asked(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="hello", ignore_case=True)

    assert [(m["path"], m["line"]) for m in got["matches"]] == [("README.md", 1), ("app.py", 4), ("lib/util.py", 2)]


async def test_grep_searches_ignored_files_when_gitignore_is_off(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="Hello", respect_gitignore=False)

    assert [m["path"] for m in got["matches"]] == ["README.md", "app.py", "ignored/x.py"]


async def test_grep_treats_a_fixed_string_literally(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="print(", fixed_string=True)

    assert got["matches"] == [match("app.py", 4, "    print('Hello World')")]


async def test_grep_refuses_an_invalid_regex(client: Client, code: Path) -> None:
    result = await client.call_tool("grep", {"pattern": "print("})

    assert refusal(result) == "error"
    assert "fixed_string" in str(result.content[0])


async def test_grep_searches_only_included_globs(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="(?i)hello", include=["*.py"])

    assert [m["path"] for m in got["matches"]] == ["app.py", "lib/util.py"]
    assert got["files_searched"] == 2


async def test_grep_leaves_out_excluded_globs(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="(?i)hello", exclude=["lib/", "*.md"])

    assert [m["path"] for m in got["matches"]] == ["app.py"]


async def test_grep_returns_context_lines_around_each_match(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="print", context=2)

    assert got["matches"] == [match("app.py", 4, "    print('Hello World')", ["", "def main():"], ["    return 0", ""])]


async def test_grep_in_one_file(client: Client, code: Path) -> None:
    got = await ok(client, "grep", pattern="return", path="lib/util.py")

    assert got["matches"] == [match("util.py", 2, "    return 'hello'")]
    assert (got["files_searched"], got["files_matched"]) == (1, 1)


async def test_grep_stops_at_max_matches_and_flags_it(client: Client, tmp_path: Path) -> None:
    make(tmp_path, {"many.txt": "hit\n" * 10})

    got = await ok(client, "grep", pattern="hit", max_matches=3)

    assert [m["line"] for m in got["matches"]] == [1, 2, 3]
    assert (got["truncated"], got["truncation_reason"]) == (True, "match limit of 3 reached")


@pytest.fixture
def oversized(tmp_path: Path) -> Path:
    """big.log: text, then a hole up to 9 MiB (over the size grep searches)."""
    with open(tmp_path / "big.log", "wb") as fh:
        fh.write(b"needle\n" + b"filler line\n" * 1000)
        fh.truncate(9 * 1024 * 1024)
    return tmp_path


async def test_grep_in_a_directory_counts_files_too_large_to_search(client: Client, oversized: Path) -> None:
    got = await ok(client, "grep", pattern="needle")

    assert (got["matches"], got["files_searched"], got["skipped_large"]) == ([], 0, 1)


async def test_grep_in_one_oversized_file_searches_its_start_and_flags_the_rest(
    client: Client, oversized: Path
) -> None:
    got = await ok(client, "grep", pattern="needle", path="big.log")

    assert got["matches"] == [match("big.log", 1, "needle")]
    assert got["truncated"] is True
    assert "big.log" in got["truncation_reason"]


async def test_grep_strips_crlf_line_endings_from_matches(client: Client, tmp_path: Path) -> None:
    make(tmp_path, {"dos.txt": b"first\r\nsecond\r\n"})

    got = await ok(client, "grep", pattern="second$")

    assert got["matches"] == [match("dos.txt", 2, "second")]


async def test_grep_flags_a_catastrophically_backtracking_pattern_instead_of_hanging(
    client: Client, tmp_path: Path
) -> None:
    make(tmp_path, {"evil.txt": "a" * 5000 + "b\n", "later.txt": "aaaa\n"})

    with anyio.fail_after(15):
        got = await ok(client, "grep", pattern="(a+)+$")

    assert got["truncated"] is True
    assert "evil.txt" in got["truncation_reason"]
    assert got["matches"] == []


async def test_grep_refuses_a_missing_path(client: Client) -> None:
    assert refusal(await client.call_tool("grep", {"pattern": "x", "path": "nowhere"})) == "not_found"


# the deny-list and .gitignore files above the walked directory


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    make(
        tmp_path,
        {
            ".env": "TOKEN=top-secret\n",
            "app/.env": "TOKEN=nested-secret\n",
            "app/main.py": "TOKEN = read_token()\n",
            "keys/id.pem": "TOKEN private key\n",
        },
    )
    stamp(tmp_path)
    return tmp_path


@pytest.fixture
async def guarded(secrets: Path) -> AsyncIterator[Client]:
    async with Client(build_server(FilesystemSettings(roots=[secrets], deny=[".env", "keys"]))) as c:
        yield c


async def test_grep_never_reads_files_on_the_deny_list(guarded: Client) -> None:
    got = await ok(guarded, "grep", pattern="TOKEN", respect_gitignore=False)

    assert got["matches"] == [match("app/main.py", 1, "TOKEN = read_token()")]
    assert "secret" not in str(got)


async def test_search_files_tree_and_listing_leave_out_the_deny_list(guarded: Client) -> None:
    found = await ok(guarded, "search_files", pattern="*")
    tree = await ok(guarded, "directory_tree")
    top = await ok(guarded, "list_directory")
    app = await ok(guarded, "list_directory", path="app")

    assert found["matches"] == ["app", "app/main.py"]
    assert tree["tree"] == [node("app", children=[node("main.py", len("TOKEN = read_token()\n"))])]
    assert ([e["name"] for e in top["entries"]], top["total"]) == (["app"], 1)
    assert [e["name"] for e in app["entries"]] == ["main.py"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make(
        tmp_path,
        {
            ".gitignore": "*.log\ndist/\n",
            "src/.gitignore": "!keep.log\n",
            "src/app.py": "",
            "src/run.log": "",
            "src/keep.log": "",
            "src/dist/bundle.js": "",
            "dist/out.js": "",
        },
    )
    return tmp_path


async def test_walking_a_subdirectory_honours_the_gitignore_files_above_it(client: Client, repo: Path) -> None:
    found = await ok(client, "search_files", pattern="*", path="src")
    tree = await ok(client, "directory_tree", path="src")

    assert found["matches"] == [".gitignore", "app.py", "keep.log"]
    assert [n["name"] for n in tree["tree"]] == [".gitignore", "app.py", "keep.log"]


async def test_walking_an_ignored_directory_asked_for_by_name_shows_its_contents(client: Client, repo: Path) -> None:
    found = await ok(client, "search_files", pattern="*", path="dist")
    hits = await ok(client, "grep", pattern=".*", path="dist")

    assert found["matches"] == ["out.js"]
    assert hits["files_searched"] == 1
