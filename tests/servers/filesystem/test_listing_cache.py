"""Listings kept between calls (names and kinds of an unchanged directory) never hide a change."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from k2_filesystem import listing
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.dircache import DirectoryCache
from k2_filesystem.paths import Sandbox, make_root
from k2_filesystem.server import build_server
from mcp import Client

from tests.servers.filesystem.common import ok

HOUR_NS = 3600 * 10**9


def settled(folder: Path) -> None:
    """Date the folder's last change an hour back (its change time stays now: see `later_clock`)."""
    past = time.time_ns() - HOUR_NS
    os.utime(folder, ns=(past, past))


def later_clock() -> int:
    """A clock a minute ahead: reads look long settled after the folder's change time, so they are kept."""
    return time.time_ns() + 60 * 10**9


def listed(folder: Path, cache: DirectoryCache | None, **kwargs: Any) -> tuple[dict[str, Any], str]:
    """`list_directory` of `folder` (names only, by name, unless `kwargs` say otherwise): fields and text."""
    sandbox = Sandbox([make_root(folder.parent)])
    args: dict[str, Any] = {
        "sort": "name",
        "descending": False,
        "offset": 0,
        "limit": 1000,
        "include_hidden": True,
        "max_entries": 1000,
        "details": False,
    } | kwargs
    with sandbox.locate(str(folder), sandbox.roots) as loc:
        return listing.list_directory(loc, cache=cache, **args)


def names(folder: Path, cache: DirectoryCache | None, **kwargs: Any) -> list[str]:
    fields, text = listed(folder, cache, **kwargs)
    shown = [e["name"] for e in fields["entries"]]
    assert [line.split("] ", 1)[1] for line in text.splitlines()[: len(shown)]] == shown  # the text says the same
    return shown


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    d.mkdir()
    for name in ("b.txt", "a.txt", ".hidden"):
        (d / name).write_text("x")
    (d / "sub").mkdir()
    settled(d)
    return d


def kept(cache: DirectoryCache, folder: Path) -> bool:
    return cache.get(os.stat(folder)) is not None


def test_a_settled_directory_is_kept_and_listed_the_same(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    first = names(folder, cache)
    assert kept(cache, folder)
    assert names(folder, cache) == first == [".hidden", "a.txt", "b.txt", "sub"]


def test_a_file_created_after_a_kept_listing_shows(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    names(folder, cache)
    (folder / "c.txt").write_text("new")
    assert not kept(cache, folder)
    assert names(folder, cache) == [".hidden", "a.txt", "b.txt", "c.txt", "sub"]


def test_a_file_removed_after_a_kept_listing_is_gone(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    names(folder, cache)
    (folder / "a.txt").unlink()
    assert names(folder, cache) == [".hidden", "b.txt", "sub"]


def test_a_rename_after_a_kept_listing_shows_the_new_name_and_kind(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    names(folder, cache)
    (folder / "b.txt").unlink()
    (folder / "b.txt").mkdir()
    fields, _ = listed(folder, cache, sort="kind", include_hidden=False)
    assert fields["entries"] == [
        {"name": "b.txt", "kind": "directory"},
        {"name": "sub", "kind": "directory"},
        {"name": "a.txt", "kind": "file"},
    ]


def test_a_directory_read_just_after_it_changed_is_not_kept(folder: Path) -> None:
    # In the same tick of the filesystem's clock a further change could leave its times as they were.
    cache = DirectoryCache(clock=lambda: os.stat(folder).st_ctime_ns + 1)
    names(folder, cache)
    assert not kept(cache, folder)


def test_a_directory_stamped_ahead_of_the_clock_is_not_kept(folder: Path) -> None:
    cache = DirectoryCache(clock=lambda: os.stat(folder).st_ctime_ns - HOUR_NS)
    names(folder, cache)
    assert not kept(cache, folder)


def test_kept_entries_are_filtered_and_paged_per_call(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    assert names(folder, cache) == [".hidden", "a.txt", "b.txt", "sub"]
    assert names(folder, cache, include_hidden=False) == ["a.txt", "b.txt", "sub"]
    assert names(folder, cache, offset=1, limit=2) == ["a.txt", "b.txt"]
    assert names(folder, cache, descending=True) == ["sub", "b.txt", "a.txt", ".hidden"]
    capped = names(folder, cache, include_hidden=False, max_entries=2)  # the first two the directory yields
    assert len(capped) == 2
    assert capped == names(folder, None, include_hidden=False, max_entries=2)
    assert names(folder, cache) == [".hidden", "a.txt", "b.txt", "sub"]


def test_a_capped_read_is_not_kept(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    assert len(names(folder, cache, max_entries=2)) == 2
    assert not kept(cache, folder)


def test_a_directory_larger_than_the_cache_takes_is_not_kept(folder: Path) -> None:
    cache = DirectoryCache(max_entries=3, clock=later_clock)
    assert len(names(folder, cache)) == 4
    assert not kept(cache, folder)


def test_the_least_recently_listed_directory_is_dropped_first(tmp_path: Path) -> None:
    folders = []
    for i in range(3):
        d = tmp_path / f"d{i}"
        d.mkdir()
        (d / "f").write_text("x")
        settled(d)
        folders.append(d)
    cache = DirectoryCache(max_dirs=2, clock=later_clock)
    names(folders[0], cache)
    names(folders[1], cache)
    names(folders[0], cache)
    names(folders[2], cache)
    assert [kept(cache, d) for d in folders] == [True, False, True]


def test_details_are_read_afresh_from_a_kept_listing(folder: Path) -> None:
    cache = DirectoryCache(clock=later_clock)
    names(folder, cache)
    (folder / "a.txt").write_text("longer now")  # a file's own change leaves its directory's times alone
    assert kept(cache, folder)
    fields, _ = listed(folder, cache, sort="size", details=True)
    assert {e["name"]: e.get("size") for e in fields["entries"]}["a.txt"] == 10


@pytest.mark.anyio
async def test_the_list_directory_tool_shows_files_written_between_listings(tmp_path: Path) -> None:
    async with Client(build_server(FilesystemSettings.model_validate({"roots": [tmp_path]}))) as client:
        for i in range(3):
            (tmp_path / f"f{i}.txt").write_text("x")
            listed = await ok(client, "list_directory", path=".", details=False)
            assert [e["name"] for e in listed["entries"]] == [f"f{j}.txt" for j in range(i + 1)]
        await ok(client, "write_file", path="g.txt", content="y")
        listed = await ok(client, "list_directory", path=".", details=False)
        assert [e["name"] for e in listed["entries"]][-1] == "g.txt"
