"""Looking around: list a directory, draw a tree, find files by glob, grep contents, describe a path."""

from __future__ import annotations

import mimetypes
import os
import re
import stat
import time
from collections.abc import Callable, Generator, Iterable
from operator import itemgetter
from typing import Any, Literal, get_args

import pathspec
import regex

from k2_filesystem.dircache import DirectoryCache, Row
from k2_filesystem.errors import FsError, NotFound, WrongKind
from k2_filesystem.files import iso, kind_of
from k2_filesystem.models import (
    DirectoryTree,
    FileInfo,
    GrepMatch,
    GrepResult,
    Kind,
    SearchResult,
    TreeNode,
)
from k2_filesystem.paths import Located
from k2_filesystem.walking import Ignore, WalkLimits, walk

SortKey = Literal["name", "size", "mtime", "kind"]
Denied = Callable[[str], bool]  # is this path (relative to the listed directory) on the server's deny-list?
GREP_MAX_FILE_BYTES = 8 * 1024 * 1024
GREP_MAX_LINE_CHARS = 2000
REGEX_TIMEOUT_S = 1.0


def _ignore(loc: Located, respect_gitignore: bool, exclude: list[str], denied: Denied | None) -> Ignore:
    ignore = Ignore.make(respect_gitignore, exclude, denied)
    ignore.start_below(loc.root.real, loc.rel)
    return ignore


def _open_dir(loc: Located) -> int:
    st = loc.lstat()
    if st is None:
        raise NotFound(f"{loc.shown!r} does not exist")
    if not stat.S_ISDIR(st.st_mode):
        raise WrongKind(f"{loc.shown!r} is a {kind_of(st.st_mode)}, not a directory; use read_file or get_file_info")
    return loc.open_dir()


def _entry(name: str, st: os.stat_result, dir_fd: int) -> dict[str, Any]:
    """One `Entry` as its JSON fields (fields without a value left out): listings build thousands of these,
    and a plain dict costs a tenth of a model."""
    kind = kind_of(st.st_mode)
    target = None
    if kind == "symlink":
        try:
            target = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            target = None
    entry: dict[str, Any] = {"name": name, "kind": kind, "mtime": iso(st.st_mtime)}
    if kind != "directory":
        entry["size"] = st.st_size
    if target is not None:
        entry["link_target"] = target
    return entry


_SORT_KEYS: dict[str, Any] = {
    "name": itemgetter(0),
    "size": lambda r: (r[2].st_size, r[0]),
    "mtime": lambda r: (r[2].st_mtime, r[0]),
    "kind": lambda r: (r[1] != "directory", r[0]),
}


def _entries(fd: int, seen: list[Row]) -> Generator[Row]:
    """The open directory's entries with their kinds, each also added to `seen`. The kind comes from the
    directory entry's own type (no stat call) when it tells; an entry removed before it could be stat'ed is
    left out."""
    with os.scandir(fd) as it:
        for entry in it:
            if entry.is_file(follow_symlinks=False):
                kind: Kind = "file"
            elif entry.is_dir(follow_symlinks=False):
                kind = "directory"
            elif entry.is_symlink():
                kind = "symlink"
            else:
                try:
                    kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
                except OSError:
                    continue
            row = (entry.name, kind)
            seen.append(row)
            yield row


def _keep(rows: Iterable[Row], skip_hidden: bool, denied: Denied | None, max_entries: int) -> tuple[list[Row], bool]:
    """The rows a listing shows (hidden names unless asked for, denied ones never), at most `max_entries`; and
    whether there were more."""
    if not skip_hidden and denied is None and isinstance(rows, list):
        return rows[:max_entries], len(rows) > max_entries
    kept: list[Row] = []
    for row in rows:
        name = row[0]
        if (skip_hidden and name[0] == ".") or (denied is not None and denied(name)):
            continue
        if len(kept) >= max_entries:
            return kept, True
        kept.append(row)
    return kept, False


def list_directory(
    loc: Located,
    *,
    sort: SortKey,
    descending: bool,
    offset: int,
    limit: int,
    include_hidden: bool,
    max_entries: int,
    details: bool = True,
    denied: Denied | None = None,
    cache: DirectoryCache | None = None,
) -> tuple[dict[str, Any], str]:
    """A `DirectoryListing` as JSON fields (entries sorted and paged), and the same page as text lines. Only
    the entries of the page are stat'ed, unless the sort key needs every one's size or time; with
    `details=False` kinds come from the directory itself and nothing is stat'ed. The names and kinds of a
    directory read whole are kept in `cache` and reused while the directory is unchanged. (A hot path: a
    listing of thousands of entries is common, so the loops below avoid a call or an object per entry where
    they can.)"""
    fd = _open_dir(loc)
    try:
        st = os.fstat(fd) if cache is not None else None
        listed = cache.get(st) if cache is not None and st is not None else None
        # A names-only answer not sorted by size or time depends on the entries alone.
        shared = not details and sort not in ("size", "mtime")
        view_key = (loc.display, loc.shown, sort, descending, offset, limit, include_hidden, max_entries)
        if listed is not None and shared and (view := listed.views.get(view_key)) is not None:
            return view
        if listed is not None:
            rows, capped = _keep(listed.rows, not include_hidden, denied, max_entries)
        else:
            started = cache.clock() if cache is not None else 0
            seen: list[Row] = []
            entries = _entries(fd, seen)
            try:
                rows, capped = _keep(entries, not include_hidden, denied, max_entries)
            finally:
                entries.close()  # the directory stream, when the listing stopped at the cap
            if cache is not None and st is not None and not capped:
                listed = cache.put(fd, st, started, seen)
        view = _page(
            loc, fd, rows, capped, sort=sort, descending=descending, offset=offset, limit=limit, details=details
        )
    finally:
        os.close(fd)
    if listed is not None and shared:
        listed.keep_view(view_key, view)
    return view


def _page(
    loc: Located,
    fd: int,
    rows: list[Row],
    capped: bool,
    *,
    sort: SortKey,
    descending: bool,
    offset: int,
    limit: int,
    details: bool,
) -> tuple[dict[str, Any], str]:
    """The listing's page of `rows` (entries of the open directory `fd`): its JSON fields and its text."""
    if sort in ("size", "mtime"):
        stated: list[tuple[str, Kind, os.stat_result]] = []
        for name, kind in rows:
            try:
                stated.append((name, kind, os.stat(name, dir_fd=fd, follow_symlinks=False)))
            except OSError:
                continue  # removed since the directory was read
        stated.sort(key=_SORT_KEYS[sort], reverse=descending)
        total = len(stated)
        window: list[tuple[str, Kind]] = [(name, kind) for name, kind, _ in stated[offset : offset + limit]]
        stats: list[os.stat_result | None] = [st for _, _, st in stated[offset : offset + limit]]
    else:
        total = len(rows)
        window = sorted(rows, key=_SORT_KEYS[sort], reverse=descending)[offset : offset + limit]
        stats = [None] * len(window)
    if details:
        page: list[dict[str, Any]] = []
        for (name, _), st in zip(window, stats, strict=True):
            try:
                page.append(_entry(name, st or os.stat(name, dir_fd=fd, follow_symlinks=False), fd))
            except OSError:
                continue  # removed since the directory was read
        lines = [_entry_line(e) for e in page]
    else:
        page = [{"name": name, "kind": kind} for name, kind in window]
        tags = KIND_TAGS
        lines = [tags[kind] + name for name, kind in window]
    end = offset + len(window)
    more = end < total
    if more:
        lines.append(f"[{total - end} more; call again with offset={end}]")
    elif capped:
        lines.append("[the directory has more entries than this server reads in one listing]")
    fields = {
        "path": loc.shown,
        "entries": page,
        "total": total,
        "offset": offset,
        "next_offset": end if more else None,
        "truncated": more or capped,
    }
    return fields, "\n".join(lines)


KIND_TAGS: dict[str, str] = {k: f"[{k.upper()}] " for k in get_args(Kind)} | {
    "directory": "[DIR] ",
    "symlink": "[LINK] ",
}
"""How the text form of a listing marks each kind: `[FILE]` and `[DIR]` as the official server does."""


def _entry_line(e: dict[str, Any]) -> str:
    line = KIND_TAGS[e["kind"]] + e["name"]
    if "mtime" in e:
        line += f"  {e['size']} B  {e['mtime']}" if "size" in e else f"  {e['mtime']}"
    if "link_target" in e:
        line += f"  -> {e['link_target']}"
    return line


def directory_tree(
    loc: Located,
    *,
    max_depth: int,
    max_entries: int,
    exclude: list[str],
    respect_gitignore: bool,
    timeout_s: float,
    denied: Denied | None = None,
) -> DirectoryTree:
    fd = _open_dir(loc)
    limits = WalkLimits(max_depth=max_depth, max_entries=max_entries, deadline=time.monotonic() + timeout_s)
    top: list[TreeNode] = []
    stack: list[list[TreeNode]] = [top]
    count = 0
    try:
        for item in walk(fd, _ignore(loc, respect_gitignore, exclude, denied), limits):
            del stack[item.depth :]
            kind = kind_of(item.st.st_mode)
            if item.is_dir:
                node = TreeNode(name=item.name, kind=kind)
            else:
                node = TreeNode(name=item.name, kind=kind, size=item.st.st_size, mtime=iso(item.st.st_mtime))
            stack[-1].append(node)
            count += 1
            if item.is_dir:
                node.children = []
                stack.append(node.children)
    finally:
        os.close(fd)
    _mark_pruned(top, "", limits.pruned_dirs)
    reason = limits.stopped
    if reason is None and limits.pruned_dirs:
        reason = f"depth limit of {max_depth} reached; directories marked children_truncated were not opened"
    return DirectoryTree(
        path=loc.shown, tree=top, entries=count, truncated=reason is not None, truncation_reason=reason
    )


def _mark_pruned(nodes: list[TreeNode], rel: str, pruned: set[str]) -> None:
    if not pruned:
        return
    for node in nodes:
        child = f"{rel}/{node.name}" if rel else node.name
        if child in pruned:
            node.children = None
            node.children_truncated = True
        elif node.children:
            _mark_pruned(node.children, child, pruned)


class EntryGlob:
    """A gitignore-style glob matched against an entry's own path.

    Unlike .gitignore, a matching directory does not make everything below it match: 'tests' finds the
    directories (and files) named tests, not every file inside them. 'src/**' still means all below src.
    """

    def __init__(self, pattern: str) -> None:
        try:
            spec = pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, TypeError) as exc:
            raise FsError(f"glob {pattern!r} is not valid: {exc}") from None
        self.regexes: list[re.Pattern[str]] = []
        for p in spec.patterns:
            rx = getattr(p, "regex", None)
            if p.include and isinstance(rx, re.Pattern):
                self.regexes.append(rx)

    def matches(self, rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        for rx in self.regexes:
            hit = rx.match(probe)
            if hit is None:
                continue
            # pathspec marks "this matched a directory above the path" with its `ps_d` group.
            if "ps_d" in rx.groupindex and hit.group("ps_d") is not None and hit.end() < len(probe):
                continue
            return True
        return False


def search_files(
    loc: Located,
    pattern: str,
    *,
    exclude: list[str],
    respect_gitignore: bool,
    max_results: int,
    max_entries: int,
    timeout_s: float,
    denied: Denied | None = None,
) -> SearchResult:
    glob = EntryGlob(pattern)
    fd = _open_dir(loc)
    limits = WalkLimits(max_depth=1000, max_entries=max_entries, deadline=time.monotonic() + timeout_s)
    matches: list[str] = []
    truncated = False
    try:
        for item in walk(fd, _ignore(loc, respect_gitignore, exclude, denied), limits):
            if glob.matches(item.rel, item.is_dir):
                if len(matches) >= max_results:
                    truncated = True
                    break
                matches.append(item.rel)
    finally:
        os.close(fd)
    return SearchResult(
        path=loc.shown,
        pattern=pattern,
        matches=matches,
        truncated=truncated or bool(limits.stopped),
        scanned=limits.seen,
    )


def compile_pattern(pattern: str, *, fixed: bool, ignore_case: bool) -> regex.Pattern[str]:
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        return regex.compile(regex.escape(pattern) if fixed else pattern, flags)
    except regex.error as exc:
        raise FsError(
            f"regular expression {pattern!r} is not valid: {exc}; pass fixed_string=true for literal text"
        ) from None


def grep(
    loc: Located,
    pattern: str,
    *,
    fixed_string: bool,
    ignore_case: bool,
    include: list[str],
    exclude: list[str],
    context: int,
    max_matches: int,
    respect_gitignore: bool,
    max_entries: int,
    timeout_s: float,
    denied: Denied | None = None,
) -> GrepResult:
    rx = compile_pattern(pattern, fixed=fixed_string, ignore_case=ignore_case)
    only = pathspec.GitIgnoreSpec.from_lines(include) if include else None
    st_top = loc.lstat()
    if st_top is None:
        raise NotFound(f"{loc.shown!r} does not exist")
    deadline = time.monotonic() + timeout_s
    result = GrepResult(pattern=pattern, matches=[], files_searched=0, files_matched=0, truncated=False)
    if stat.S_ISREG(st_top.st_mode):
        _grep_file(loc.dir_fd, loc.name, loc.name, rx, context, max_matches, deadline, result)
        if st_top.st_size > GREP_MAX_FILE_BYTES and not result.truncated:
            result.truncated = True
            result.truncation_reason = f"only the first {GREP_MAX_FILE_BYTES} bytes of {loc.shown!r} were searched"
        return result
    fd = _open_dir(loc)
    limits = WalkLimits(max_depth=1000, max_entries=max_entries, deadline=deadline)
    try:
        for item in walk(fd, _ignore(loc, respect_gitignore, exclude, denied), limits):
            if not stat.S_ISREG(item.st.st_mode):
                continue
            if only is not None and not only.match_file(item.rel):
                continue
            if item.st.st_size > GREP_MAX_FILE_BYTES:
                result.skipped_large += 1
                continue
            _grep_file(item.dir_fd, item.name, item.rel, rx, context, max_matches, deadline, result)
            if result.truncated:
                break
    finally:
        os.close(fd)
    if limits.stopped and not result.truncated:
        result.truncated, result.truncation_reason = True, limits.stopped
    return result


def _grep_file(
    dir_fd: int, name: str, rel: str, rx: regex.Pattern[str], context: int, cap: int, deadline: float, out: GrepResult
) -> None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        data = os.read(fd, GREP_MAX_FILE_BYTES)
    finally:
        os.close(fd)
    if b"\x00" in data[:8192]:
        out.skipped_binary += 1
        return
    out.files_searched += 1
    lines = data.decode("utf-8", errors="replace").split("\n")
    matched = False
    for i, line in enumerate(lines):
        if time.monotonic() > deadline:
            out.truncated, out.truncation_reason = True, "time limit reached"
            return
        line = line.removesuffix("\r")  # so that `$` matches at the end of a CRLF line too
        try:
            hit = rx.search(line, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            out.truncated = True
            out.truncation_reason = f"the pattern took over {REGEX_TIMEOUT_S}s on one line of {rel!r}; simplify it"
            return
        if hit is None:
            continue
        if len(out.matches) >= cap:
            out.truncated, out.truncation_reason = True, f"match limit of {cap} reached"
            return
        matched = True
        out.matches.append(
            GrepMatch(
                path=rel,
                line=i + 1,
                text=_clip(line),
                before=[_clip(x) for x in lines[max(0, i - context) : i]] if context else [],
                after=[_clip(x) for x in lines[i + 1 : i + 1 + context]] if context else [],
            )
        )
    if matched:
        out.files_matched += 1


def _clip(line: str) -> str:
    line = line.rstrip("\r")
    return line if len(line) <= GREP_MAX_LINE_CHARS else line[:GREP_MAX_LINE_CHARS] + "…[line cut]"


def file_info(loc: Located) -> FileInfo:
    st = loc.lstat()
    if st is None:
        raise NotFound(f"{loc.shown!r} does not exist")
    kind = kind_of(st.st_mode)
    target = None
    if kind == "symlink":
        target = os.readlink(loc.name, dir_fd=loc.dir_fd)

    def can(mode: int) -> bool:
        if not loc.name:
            return os.access(loc.display, mode)
        return os.access(loc.name, mode, dir_fd=loc.dir_fd, follow_symlinks=False)

    return FileInfo(
        path=loc.shown,
        kind=kind,
        size=st.st_size,
        mode=oct(stat.S_IMODE(st.st_mode)),
        mtime=iso(st.st_mtime),
        ctime=iso(st.st_ctime),
        atime=iso(st.st_atime),
        uid=st.st_uid,
        gid=st.st_gid,
        link_target=target,
        mime_type=mimetypes.guess_type(loc.name)[0] if kind == "file" else None,
        readable=can(os.R_OK),
        writable=can(os.W_OK),
    )
