"""Descriptor-based directory walks with .gitignore rules, exclude globs, depth, entry and time caps."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pathspec

from k2_filesystem.paths import DIR_FLAGS

MAX_GITIGNORE_BYTES = 1 << 20


@dataclass
class Ignore:
    """What a walk leaves out: paths on the server's deny-list, the caller's exclude globs and, when asked,
    what .gitignore files exclude (those of the walk's own directories and of its ancestors up to the root).

    `specs` holds (directory relative to the root, spec); `top` is the walk's top relative to the root.
    """

    respect_gitignore: bool
    excludes: pathspec.PathSpec | None = None
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = field(default_factory=list)
    denied: Callable[[str], bool] | None = None  # takes a path relative to the walk's top
    top: str = ""

    @classmethod
    def make(cls, respect_gitignore: bool, exclude: list[str], denied: Callable[[str], bool] | None = None) -> Ignore:
        spec = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
        return cls(respect_gitignore, spec, denied=denied)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        if self.denied is not None and self.denied(rel):
            return True
        probe = rel + "/" if is_dir else rel
        if self.excludes is not None and self.excludes.match_file(probe):
            return True
        if not self.respect_gitignore:
            return False
        if is_dir and os.path.basename(rel) == ".git":
            return True
        return self._gitignored(f"{self.top}/{rel}" if self.top else rel, is_dir)

    def _gitignored(self, full: str, is_dir: bool) -> bool:
        for base, spec in reversed(self.specs):
            if base and not full.startswith(base + "/"):
                continue
            inner = full[len(base) + 1 :] if base else full
            result = spec.check_file(inner + "/" if is_dir else inner)
            if result.include is not None:
                return result.include
        return False

    def push(self, dir_fd: int, rel: str) -> bool:
        """Read `.gitignore` in the directory open as dir_fd, if there is one; True when a spec was pushed."""
        if not self.respect_gitignore:
            return False
        spec = _read_gitignore(dir_fd)
        if spec is None:
            return False
        self.specs.append((f"{self.top}/{rel}".strip("/") if rel else self.top, spec))
        return True

    def start_below(self, root_real: str, top_rel: str) -> None:
        """Walks start at `top_rel` under the root: read the .gitignore files of the directories above it.

        A top that those files exclude was asked for explicitly, so their rules are then not applied.
        """
        self.top = top_rel.replace(os.sep, "/")
        if not self.respect_gitignore or not self.top:
            return
        found: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        base = ""
        try:
            fd = os.open(root_real, DIR_FLAGS)
        except OSError:
            return
        try:
            for name in ["", *self.top.split("/")[:-1]]:
                if name:
                    sub = os.open(name, DIR_FLAGS, dir_fd=fd)
                    os.close(fd)
                    fd = sub
                    base = f"{base}/{name}" if base else name
                spec = _read_gitignore(fd)
                if spec is not None:
                    found.append((base, spec))
        except OSError:
            pass
        finally:
            os.close(fd)
        self.specs[:0] = found
        if self._gitignored(self.top, True):
            del self.specs[: len(found)]


def _read_gitignore(dir_fd: int) -> pathspec.GitIgnoreSpec | None:
    try:
        fd = os.open(".gitignore", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_GITIGNORE_BYTES:
            return None
        text = os.read(fd, MAX_GITIGNORE_BYTES).decode("utf-8", errors="replace")
    finally:
        os.close(fd)
    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


@dataclass
class Item:
    rel: str  # relative to the walk's top, with "/" separators
    name: str
    depth: int  # 1 for the top's own entries
    st: os.stat_result
    dir_fd: int  # descriptor of the directory holding the entry (valid only during the iteration step)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


@dataclass
class WalkLimits:
    max_depth: int
    max_entries: int
    deadline: float  # time.monotonic() value

    stopped: str | None = None  # why the walk stopped early
    seen: int = 0
    pruned_dirs: set[str] = field(default_factory=set)  # directories not descended into (depth cap)


def walk(top_fd: int, ignore: Ignore, limits: WalkLimits) -> Iterator[Item]:
    """Pre-order walk in name order. Never follows symbolic links; directories open by descriptor only."""
    yield from _walk_dir(os.dup(top_fd), "", 1, ignore, limits)


def _walk_dir(fd: int, rel: str, depth: int, ignore: Ignore, limits: WalkLimits) -> Iterator[Item]:
    pushed = False
    try:
        pushed = ignore.push(fd, rel)
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if limits.stopped:
                return
            if time.monotonic() > limits.deadline:
                limits.stopped = "time limit reached"
                return
            limits.seen += 1
            if limits.seen > limits.max_entries:
                limits.stopped = f"entry limit of {limits.max_entries} reached"
                return
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = stat.S_ISDIR(st.st_mode)
            if ignore.ignored(child, is_dir):
                continue
            yield Item(child, entry.name, depth, st, fd)
            if is_dir:
                if depth >= limits.max_depth:
                    limits.pruned_dirs.add(child)
                    continue
                try:
                    sub = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                yield from _walk_dir(sub, child, depth + 1, ignore, limits)
    finally:
        if pushed:
            ignore.specs.pop()
        os.close(fd)
