"""The writing tools: write_file, edit_file, create_directory, move_file, copy_file, delete_file."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server
from mcp import Client

from tests.servers.filesystem.common import ok, refusal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path], allow_delete=True))) as c:
        yield c


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(top: Path) -> dict[str, bytes | None]:
    """Every path below `top` with its bytes (None for a directory, the target for a link)."""
    out: dict[str, bytes | None] = {}
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        if path.is_symlink():
            out[rel] = os.readlink(path).encode()
        elif path.is_dir():
            out[rel] = None
        else:
            out[rel] = path.read_bytes()
    return out


# write_file


async def test_write_file_creates_a_file_and_leaves_no_temporary_file(client: Client, tmp_path: Path) -> None:
    got = await ok(client, "write_file", path="new.txt", content="héllo\n")

    data = "héllo\n".encode()
    assert got == {"path": "new.txt", "bytes_written": len(data), "created": True, "sha256": sha(data)}
    assert tree(tmp_path) == {"new.txt": data}


async def test_write_file_replaces_a_file_and_keeps_its_mode(client: Client, tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_text("old\n")
    target.chmod(0o750)

    got = await ok(client, "write_file", path="script.sh", content="#!/bin/sh\necho new\n")

    assert got["created"] is False
    assert target.read_text() == "#!/bin/sh\necho new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    assert tree(tmp_path) == {"script.sh": b"#!/bin/sh\necho new\n"}


async def test_write_file_writes_the_encoding_asked_for(client: Client, tmp_path: Path) -> None:
    await ok(client, "write_file", path="latin.txt", content="café\n", encoding="latin-1")

    assert (tmp_path / "latin.txt").read_bytes() == b"caf\xe9\n"


async def test_write_file_refuses_text_the_encoding_cannot_hold_and_leaves_nothing(
    client: Client, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("original\n")

    result = await client.call_tool("write_file", {"path": "keep.txt", "content": "東京\n", "encoding": "latin-1"})

    assert refusal(result) == "unsupported"
    assert tree(tmp_path) == {"keep.txt": b"original\n"}


async def test_write_file_refuses_an_unknown_encoding(client: Client, tmp_path: Path) -> None:
    result = await client.call_tool("write_file", {"path": "x.txt", "content": "x", "encoding": "rot13"})

    assert refusal(result) == "unsupported"
    assert tree(tmp_path) == {}


async def test_write_file_creates_missing_parents_when_asked(client: Client, tmp_path: Path) -> None:
    got = await ok(client, "write_file", path="a/b/c.txt", content="deep", create_parents=True)

    assert got["created"] is True
    assert tree(tmp_path) == {"a": None, "a/b": None, "a/b/c.txt": b"deep"}


async def test_write_file_without_create_parents_refuses_a_missing_directory(client: Client, tmp_path: Path) -> None:
    result = await client.call_tool("write_file", {"path": "a/b/c.txt", "content": "deep"})

    assert refusal(result) == "not_found"
    assert tree(tmp_path) == {}


async def test_write_file_with_overwrite_false_keeps_an_existing_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("original\n")

    result = await client.call_tool("write_file", {"path": "keep.txt", "content": "new", "overwrite": False})

    assert refusal(result) == "already_exists"
    assert tree(tmp_path) == {"keep.txt": b"original\n"}


async def test_write_file_with_overwrite_false_creates_a_new_file(client: Client, tmp_path: Path) -> None:
    got = await ok(client, "write_file", path="fresh.txt", content="new", overwrite=False)

    assert got["created"] is True
    assert tree(tmp_path) == {"fresh.txt": b"new"}


async def test_write_file_refuses_when_the_file_changed_since_it_was_read(client: Client, tmp_path: Path) -> None:
    (tmp_path / "shared.txt").write_text("version 2\n")
    stale = sha(b"version 1\n")

    result = await client.call_tool("write_file", {"path": "shared.txt", "content": "mine", "expected_sha256": stale})

    assert refusal(result) == "edit_conflict"
    assert tree(tmp_path) == {"shared.txt": b"version 2\n"}


async def test_write_file_replaces_a_file_whose_hash_matches(client: Client, tmp_path: Path) -> None:
    (tmp_path / "shared.txt").write_text("version 2\n")

    got = await ok(client, "write_file", path="shared.txt", content="v3", expected_sha256=sha(b"version 2\n").upper())

    assert got == {"path": "shared.txt", "bytes_written": 2, "created": False, "sha256": sha(b"v3")}
    assert tree(tmp_path) == {"shared.txt": b"v3"}


async def test_write_file_with_expected_hash_refuses_a_missing_file(client: Client, tmp_path: Path) -> None:
    result = await client.call_tool("write_file", {"path": "gone.txt", "content": "x", "expected_sha256": "0" * 64})

    assert refusal(result) == "edit_conflict"
    assert tree(tmp_path) == {}


async def test_write_file_refuses_content_over_the_write_limit(tmp_path: Path) -> None:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_write_bytes=1024))) as client:
        result = await client.call_tool("write_file", {"path": "big.txt", "content": "x" * 1025})
        fits = await client.call_tool("write_file", {"path": "fits.txt", "content": "x" * 1024})

    assert refusal(result) == "too_large"
    assert not fits.is_error
    assert tree(tmp_path) == {"fits.txt": b"x" * 1024}


async def test_write_file_refuses_to_replace_a_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()

    result = await client.call_tool("write_file", {"path": "folder", "content": "x"})

    assert refusal(result) == "wrong_kind"
    assert tree(tmp_path) == {"folder": None}


async def test_write_file_refuses_a_path_outside_the_roots(client: Client, tmp_path: Path) -> None:
    target = tmp_path.parent / f"{tmp_path.name}-escape.txt"

    result = await client.call_tool("write_file", {"path": str(target), "content": "x"})

    assert refusal(result) == "access_denied"
    assert not target.exists()


# edit_file


async def test_edit_file_replaces_a_unique_match_and_returns_the_diff(client: Client, tmp_path: Path) -> None:
    before = b"alpha\nbeta\ngamma\n"
    (tmp_path / "f.txt").write_bytes(before)

    got = await ok(client, "edit_file", path="f.txt", edits=[{"old_text": "beta", "new_text": "BETA"}])

    after = b"alpha\nBETA\ngamma\n"
    assert got == {
        "path": "f.txt",
        "applied": True,
        "replacements": 1,
        "diff": "--- f.txt\n+++ f.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n",
        "sha256_before": sha(before),
        "sha256_after": sha(after),
        "notes": [],
    }
    assert tree(tmp_path) == {"f.txt": after}


async def test_edit_file_refuses_an_ambiguous_match_and_changes_nothing(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x = 1\ny = 2\nx = 1\n")

    result = await client.call_tool(
        "edit_file", {"path": "f.txt", "edits": [{"old_text": "x = 1", "new_text": "x = 3"}]}
    )

    assert refusal(result) == "edit_conflict"
    assert "lines 1, 3" in str(result.content[0])
    assert (tmp_path / "f.txt").read_text() == "x = 1\ny = 2\nx = 1\n"


async def test_edit_file_with_replace_all_replaces_every_match(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x = 1\ny = 2\nx = 1\n")

    got = await ok(client, "edit_file", path="f.txt", edits=[{"old_text": "x", "new_text": "z", "replace_all": True}])

    assert got["replacements"] == 2
    assert (tmp_path / "f.txt").read_text() == "z = 1\ny = 2\nz = 1\n"


async def test_edit_file_applies_several_edits_in_order(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("one two three\n")
    edits = [
        {"old_text": "one", "new_text": "ONE"},
        {"old_text": "ONE two", "new_text": "1 2"},  # only matches after the first edit
        {"old_text": "three", "new_text": "3"},
    ]

    got = await ok(client, "edit_file", path="f.txt", edits=edits)

    assert got["replacements"] == 3
    assert (tmp_path / "f.txt").read_text() == "1 2 3\n"


async def test_edit_file_applies_no_edit_when_a_later_one_fails(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("one two three\n")
    edits = [{"old_text": "one", "new_text": "ONE"}, {"old_text": "four", "new_text": "4"}]

    result = await client.call_tool("edit_file", {"path": "f.txt", "edits": edits})

    assert refusal(result) == "edit_conflict"
    assert "edit 2" in str(result.content[0])
    assert tree(tmp_path) == {"f.txt": b"one two three\n"}


async def test_edit_file_explains_a_miss_that_differs_only_in_whitespace(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("def f():\n\tif ok:\n\t\treturn 1\n\treturn 0\n")
    old = "    if ok:\n        return 1"

    result = await client.call_tool("edit_file", {"path": "f.py", "edits": [{"old_text": old, "new_text": "pass"}]})

    assert refusal(result) == "edit_conflict"
    message = str(result.content[0])
    assert "whitespace" in message
    assert "lines 2-3" in message


async def test_edit_file_points_to_the_most_similar_line_on_a_miss(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("import os\n\nvalue = compute(alpha, beta)\nprint(value)\n")

    result = await client.call_tool(
        "edit_file", {"path": "f.py", "edits": [{"old_text": "value = compute(alpha, gamma)", "new_text": "v"}]}
    )

    assert refusal(result) == "edit_conflict"
    message = str(result.content[0])
    assert "line 3" in message or "lines 3-3" in message
    assert "+value = compute(alpha, beta)" in message


async def test_edit_file_says_when_nothing_resembles_the_text(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("completely different content\n")

    result = await client.call_tool(
        "edit_file", {"path": "f.txt", "edits": [{"old_text": "zzzz qqqq 1234", "new_text": "v"}]}
    )

    assert refusal(result) == "edit_conflict"
    assert "Nothing in the file is close" in str(result.content[0])


async def test_edit_file_dry_run_returns_the_diff_and_changes_nothing(client: Client, tmp_path: Path) -> None:
    before = b"keep\nchange me\n"
    (tmp_path / "f.txt").write_bytes(before)
    mtime = (tmp_path / "f.txt").stat().st_mtime_ns

    got = await ok(
        client, "edit_file", path="f.txt", edits=[{"old_text": "change me", "new_text": "changed"}], dry_run=True
    )

    assert got == {
        "path": "f.txt",
        "applied": False,
        "replacements": 1,
        "diff": "--- f.txt\n+++ f.txt\n@@ -1,2 +1,2 @@\n keep\n-change me\n+changed\n",
        "sha256_before": sha(before),
        "sha256_after": sha(b"keep\nchanged\n"),
        "notes": [],
    }
    assert tree(tmp_path) == {"f.txt": before}
    assert (tmp_path / "f.txt").stat().st_mtime_ns == mtime


async def test_edit_file_matches_lf_text_in_a_crlf_file_and_keeps_crlf(client: Client, tmp_path: Path) -> None:
    (tmp_path / "dos.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")

    got = await ok(client, "edit_file", path="dos.txt", edits=[{"old_text": "one\ntwo", "new_text": "uno\ndos"}])

    assert (tmp_path / "dos.txt").read_bytes() == b"uno\r\ndos\r\nthree\r\n"
    assert len(got["notes"]) == 1
    assert got["replacements"] == 1


async def test_edit_file_gives_inserted_lines_the_crlf_endings_of_the_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "dos.txt").write_bytes(b"one\r\ntwo\r\n")

    await ok(client, "edit_file", path="dos.txt", edits=[{"old_text": "one", "new_text": "one\none and a half"}])

    assert (tmp_path / "dos.txt").read_bytes() == b"one\r\none and a half\r\ntwo\r\n"


async def test_edit_file_diff_marks_a_last_line_without_newline(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"first\nlast")

    got = await ok(client, "edit_file", path="f.txt", edits=[{"old_text": "last", "new_text": "final"}])

    no_newline = "\\ No newline at end of file\n"
    assert got["diff"] == f"--- f.txt\n+++ f.txt\n@@ -1,2 +1,2 @@\n first\n-last\n{no_newline}+final\n{no_newline}"
    assert (tmp_path / "f.txt").read_bytes() == b"first\nfinal"


async def test_edit_file_keeps_the_file_encoding_and_mode(client: Client, tmp_path: Path) -> None:
    target = tmp_path / "bom.txt"
    target.write_bytes("\ufeffcafé\n".encode())
    target.chmod(0o600)

    await ok(client, "edit_file", path="bom.txt", edits=[{"old_text": "café", "new_text": "thé"}])

    assert target.read_bytes() == "\ufeffthé\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_edit_file_refuses_new_text_the_file_encoding_cannot_hold(client: Client, tmp_path: Path) -> None:
    before = "Le café de la gare servait une crème brûlée très appréciée.\n".encode("cp1252")
    (tmp_path / "legacy.txt").write_bytes(before)

    result = await client.call_tool(
        "edit_file", {"path": "legacy.txt", "edits": [{"old_text": "café", "new_text": "喫茶店"}]}
    )

    assert refusal(result) == "unsupported"
    assert tree(tmp_path) == {"legacy.txt": before}


async def test_edit_file_refuses_a_stale_hash_and_accepts_the_current_one(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"current\n")
    edit = [{"old_text": "current", "new_text": "next"}]

    stale = await client.call_tool("edit_file", {"path": "f.txt", "edits": edit, "expected_sha256": sha(b"older\n")})
    assert refusal(stale) == "edit_conflict"
    assert (tmp_path / "f.txt").read_bytes() == b"current\n"

    await ok(client, "edit_file", path="f.txt", edits=edit, expected_sha256=sha(b"current\n"))
    assert (tmp_path / "f.txt").read_bytes() == b"next\n"


async def test_edit_file_refuses_a_binary_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"abc\x00def")

    result = await client.call_tool("edit_file", {"path": "data.bin", "edits": [{"old_text": "abc", "new_text": "x"}]})

    assert refusal(result) == "unsupported"
    assert (tmp_path / "data.bin").read_bytes() == b"abc\x00def"


async def test_edit_file_refuses_a_missing_file(client: Client) -> None:
    result = await client.call_tool("edit_file", {"path": "nope.txt", "edits": [{"old_text": "a", "new_text": "b"}]})

    assert refusal(result) == "not_found"


async def test_edit_file_refuses_an_empty_old_text(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("text\n")

    result = await client.call_tool("edit_file", {"path": "f.txt", "edits": [{"old_text": "", "new_text": "b"}]})

    assert refusal(result) == "invalid_arguments"
    assert (tmp_path / "f.txt").read_text() == "text\n"


# create_directory


async def test_create_directory_creates_missing_parents(client: Client, tmp_path: Path) -> None:
    got = await ok(client, "create_directory", path="a/b/c")

    assert got == {"path": "a/b/c", "created": True}
    assert tree(tmp_path) == {"a": None, "a/b": None, "a/b/c": None}


async def test_create_directory_accepts_an_existing_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "inside.txt").write_text("x")

    got = await ok(client, "create_directory", path="there")

    assert got == {"path": "there", "created": False}
    assert tree(tmp_path) == {"there": None, "there/inside.txt": b"x"}


async def test_create_directory_refuses_a_file_in_the_way(client: Client, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("file")

    result = await client.call_tool("create_directory", {"path": "taken"})

    assert refusal(result) == "already_exists"
    assert tree(tmp_path) == {"taken": b"file"}


async def test_create_directory_refuses_a_file_in_place_of_a_parent(client: Client, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("file")

    result = await client.call_tool("create_directory", {"path": "taken/sub"})

    assert refusal(result) == "wrong_kind"
    assert tree(tmp_path) == {"taken": b"file"}


async def test_create_directory_without_parents_refuses_a_missing_parent(client: Client, tmp_path: Path) -> None:
    result = await client.call_tool("create_directory", {"path": "x/y", "parents": False})

    assert refusal(result) == "not_found"
    assert tree(tmp_path) == {}


# move_file


async def test_move_file_renames_a_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("content")

    got = await ok(client, "move_file", source="old.txt", destination="new.txt")

    assert got == {"source": "old.txt", "destination": "new.txt", "kind": "file"}
    assert tree(tmp_path) == {"new.txt": b"content"}


async def test_move_file_moves_a_directory_with_its_contents(client: Client, tmp_path: Path) -> None:
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "deep" / "f.txt").write_text("x")
    (tmp_path / "dest").mkdir()

    got = await ok(client, "move_file", source="src", destination="dest/moved")

    assert got["kind"] == "directory"
    assert tree(tmp_path) == {"dest": None, "dest/moved": None, "dest/moved/deep": None, "dest/moved/deep/f.txt": b"x"}


async def test_move_file_refuses_an_existing_destination_by_default(client: Client, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")

    result = await client.call_tool("move_file", {"source": "a.txt", "destination": "b.txt"})

    assert refusal(result) == "already_exists"
    assert tree(tmp_path) == {"a.txt": b"a", "b.txt": b"b"}


async def test_move_file_with_overwrite_replaces_the_destination(client: Client, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")

    await ok(client, "move_file", source="a.txt", destination="b.txt", overwrite=True)

    assert tree(tmp_path) == {"b.txt": b"a"}


async def test_move_file_with_overwrite_refuses_to_put_a_file_over_a_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "d").mkdir()

    result = await client.call_tool("move_file", {"source": "a.txt", "destination": "d", "overwrite": True})

    assert refusal(result) == "wrong_kind"
    assert tree(tmp_path) == {"a.txt": b"a", "d": None}


async def test_move_file_refuses_a_missing_source(client: Client) -> None:
    result = await client.call_tool("move_file", {"source": "ghost.txt", "destination": "x.txt"})

    assert refusal(result) == "not_found"


async def test_move_file_refuses_a_destination_outside_the_roots(client: Client, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    outside = tmp_path.parent / f"{tmp_path.name}-moved.txt"

    result = await client.call_tool("move_file", {"source": "a.txt", "destination": str(outside)})

    assert refusal(result) == "access_denied"
    assert not outside.exists()
    assert tree(tmp_path) == {"a.txt": b"a"}


# copy_file


async def test_copy_file_copies_a_file_with_its_mode(client: Client, tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_bytes(b"#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o751)

    got = await ok(client, "copy_file", source="run.sh", destination="copy.sh")

    assert got == {
        "source": "run.sh",
        "destination": "copy.sh",
        "files_copied": 1,
        "bytes_copied": 10,
        "skipped_links": [],
    }
    assert tree(tmp_path) == {"copy.sh": b"#!/bin/sh\n", "run.sh": b"#!/bin/sh\n"}
    assert stat.S_IMODE((tmp_path / "copy.sh").stat().st_mode) == 0o751


async def test_copy_file_copies_a_directory_recursively_and_skips_links(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"aaa")
    (src / "sub" / "b.txt").write_bytes(b"bbbb")
    (src / "link").symlink_to("a.txt")

    got = await ok(client, "copy_file", source="src", destination="dst", recursive=True)

    assert got == {
        "source": "src",
        "destination": "dst",
        "files_copied": 2,
        "bytes_copied": 7,
        "skipped_links": ["link"],
    }
    assert tree(tmp_path / "dst") == {"a.txt": b"aaa", "sub": None, "sub/b.txt": b"bbbb"}
    assert sorted(os.listdir(tmp_path)) == ["dst", "src"]


async def test_copy_file_refuses_a_directory_without_recursive(client: Client, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()

    result = await client.call_tool("copy_file", {"source": "src", "destination": "dst"})

    assert refusal(result) == "wrong_kind"
    assert tree(tmp_path) == {"src": None}


async def test_copy_file_refuses_an_existing_file_unless_overwrite(client: Client, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("new")
    (tmp_path / "b.txt").write_text("old")

    refused = await client.call_tool("copy_file", {"source": "a.txt", "destination": "b.txt"})
    assert refusal(refused) == "already_exists"
    assert tree(tmp_path) == {"a.txt": b"new", "b.txt": b"old"}

    await ok(client, "copy_file", source="a.txt", destination="b.txt", overwrite=True)
    assert tree(tmp_path) == {"a.txt": b"new", "b.txt": b"new"}


async def test_copy_file_never_copies_a_directory_over_an_existing_one(client: Client, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.txt").write_text("src")
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "g.txt").write_text("dst")

    result = await client.call_tool(
        "copy_file", {"source": "src", "destination": "dst", "recursive": True, "overwrite": True}
    )

    assert refusal(result) == "already_exists"
    assert tree(tmp_path) == {"dst": None, "dst/g.txt": b"dst", "src": None, "src/f.txt": b"src"}


async def test_copy_file_refuses_a_missing_source(client: Client) -> None:
    result = await client.call_tool("copy_file", {"source": "ghost", "destination": "x"})

    assert refusal(result) == "not_found"


# delete_file


async def test_delete_file_is_not_offered_unless_allowed(tmp_path: Path) -> None:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path]))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("delete_file", {"path": "x"})

    assert "delete_file" not in names
    assert "write_file" in names
    assert result.is_error


async def test_delete_file_deletes_a_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "other.txt").write_text("y")

    got = await ok(client, "delete_file", path="f.txt")

    assert got == {"path": "f.txt", "kind": "file", "entries_deleted": 1}
    assert tree(tmp_path) == {"other.txt": b"y"}


async def test_delete_file_deletes_a_link_and_not_its_target(client: Client, tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("x")
    (tmp_path / "link").symlink_to("target.txt")

    got = await ok(client, "delete_file", path="link")

    assert got == {"path": "link", "kind": "symlink", "entries_deleted": 1}
    assert tree(tmp_path) == {"target.txt": b"x"}


async def test_delete_file_deletes_an_empty_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    got = await ok(client, "delete_file", path="empty")

    assert got == {"path": "empty", "kind": "directory", "entries_deleted": 1}
    assert tree(tmp_path) == {}


async def test_delete_file_needs_recursive_for_a_non_empty_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "full" / "sub").mkdir(parents=True)
    (tmp_path / "full" / "a.txt").write_text("a")
    (tmp_path / "full" / "sub" / "b.txt").write_text("b")

    refused = await client.call_tool("delete_file", {"path": "full"})
    assert refusal(refused) == "wrong_kind"
    assert len(tree(tmp_path)) == 4

    got = await ok(client, "delete_file", path="full", recursive=True)
    assert got == {"path": "full", "kind": "directory", "entries_deleted": 4}
    assert tree(tmp_path) == {}


async def test_delete_file_refuses_the_root_itself(client: Client, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")

    result = await client.call_tool("delete_file", {"path": str(tmp_path), "recursive": True})

    assert refusal(result) == "access_denied"
    assert tree(tmp_path) == {"f.txt": b"x"}


async def test_delete_file_refuses_a_missing_path(client: Client) -> None:
    assert refusal(await client.call_tool("delete_file", {"path": "ghost"})) == "not_found"


async def test_copy_file_refuses_a_copy_bigger_than_the_free_space_and_writes_nothing(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.img"
    with sparse.open("wb") as fh:
        fh.truncate(1 << 40)  # 1 TiB apparent size, no blocks: more than any test disk has free
    async with Client(build_server(FilesystemSettings(roots=[tmp_path]))) as c:
        result = await c.call_tool("copy_file", {"source": "huge.img", "destination": "copy.img"})
    assert result.is_error
    assert result.meta is not None and result.meta["k2/error"] == "too_large"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.img"]


async def test_delete_file_refuses_a_tree_too_deep_to_walk_and_deletes_nothing(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1200):  # deeper than Python's recursion limit; built by descriptor (the path is too long)
        os.mkdir("d", dir_fd=fd)
        next_fd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = next_fd
    os.close(fd)
    settings = FilesystemSettings(roots=[tmp_path], allow_delete=True)
    async with Client(build_server(settings)) as c:
        result = await c.call_tool("delete_file", {"path": "d", "recursive": True})
    assert result.is_error
    assert result.meta is not None and result.meta["k2/error"] == "too_large"
    assert len(os.listdir(tmp_path / "d")) == 1
    assert os.listdir(tmp_path / "d" / "d" / "d") == ["d"]
    while (tmp_path / "d" / "d").exists():  # clean up without recursion: lift the chain one level at a time
        os.rename(tmp_path / "d" / "d", tmp_path / "rest")
        os.rmdir(tmp_path / "d")
        os.rename(tmp_path / "rest", tmp_path / "d")
    os.rmdir(tmp_path / "d")
