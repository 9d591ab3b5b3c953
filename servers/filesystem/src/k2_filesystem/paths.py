"""Path containment, done with directory file descriptors so that a swapped symlink cannot redirect anything.

A caller's path is checked lexically against the roots (whole-path comparison, never a string prefix), then
walked one component at a time from an open descriptor of its root with `O_NOFOLLOW`. A symbolic link met on
the way is read and resolved by us: it may point anywhere inside the allowed roots, and the walk continues
from that root's descriptor; a link that leaves the roots is refused. Every operation then acts on a
(directory descriptor, name) pair, so replacing a checked directory with a link between the check and the
use makes the operation fail instead of escaping.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from k2_filesystem.errors import AccessDenied, NotFound, WrongKind, from_os_error

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SYMLINK_HOPS = 40
MAX_PATH_CHARS = 4096


@dataclass(frozen=True)
class Root:
    """An allowed directory: `real` is its fully resolved host path."""

    real: str
    prefix: str = field(init=False, repr=False, compare=False)  # `real` ending in one separator

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.real if self.real.endswith(os.sep) else self.real + os.sep)

    def contains(self, abs_path: str) -> bool:
        """Whole-path containment of a normalised absolute path (never a bare string prefix: the prefix ends
        in a separator, so /data-evil is not inside /data)."""
        return abs_path == self.real or abs_path.startswith(self.prefix)

    def relative(self, abs_path: str) -> str:
        """`abs_path` (contained, normalised) relative to the root; "" for the root itself."""
        return "" if abs_path == self.real else abs_path[len(self.prefix) :]


def make_root(path: str | Path) -> Root:
    real = os.path.realpath(os.path.expanduser(str(path)))
    if not os.path.isdir(real):
        raise ValueError(f"root {str(path)!r} is not an existing directory")
    return Root(real)


def narrow_roots(configured: Sequence[Root], client_paths: Sequence[str]) -> list[Root]:
    """Intersect the configured roots with the roots a client sent: a client can narrow, never widen."""
    out: list[Root] = []
    for raw in client_paths:
        real = os.path.realpath(raw)
        for root in configured:
            if root.contains(real):
                out.append(Root(real))
            elif Root(real).contains(root.real):
                out.append(root)
    unique = {r.real: r for r in out}
    return list(unique.values())


@dataclass
class Located:
    """Where a caller's path lands: an open descriptor of the parent directory and the final name.

    `rel` is the path relative to `root`, used in results; `name` may not exist yet (for creation).
    `name` is "" when the path is the root itself, in which case `dir_fd` is the root's descriptor.
    """

    root: Root
    dir_fd: int
    name: str
    rel: str
    shown: str

    @property
    def display(self) -> str:
        """The host path, as the reference server and clients expect in listings."""
        return os.path.join(self.root.real, self.rel) if self.rel else self.root.real

    def lstat(self) -> os.stat_result | None:
        try:
            if not self.name:
                return os.fstat(self.dir_fd)
            return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open_dir(self) -> int:
        """A new descriptor of this path as a directory (never through a link)."""
        if not self.name:
            return os.dup(self.dir_fd)
        return os.open(self.name, DIR_FLAGS, dir_fd=self.dir_fd)


class Sandbox:
    """The allowed roots, an optional deny-list of glob patterns, and the resolver."""

    def __init__(self, roots: Sequence[Root], deny: Sequence[str] = ()) -> None:
        if not roots:
            raise ValueError("at least one root directory is required")
        self.roots = list(roots)
        self.deny = list(deny)
        self._root_fds: dict[str, int] = {}
        self._root_fds_lock = threading.Lock()

    def root_fd(self, root: Root) -> int:
        """A new descriptor of `root`, duplicated from one kept open (opening it by path costs a walk of every
        host directory above it). A root removed from the filesystem is opened afresh."""
        with self._root_fds_lock:
            fd = self._root_fds.get(root.real)
            if fd is not None and os.fstat(fd).st_nlink == 0:
                os.close(fd)
                fd = None
            if fd is None:
                fd = os.open(root.real, DIR_FLAGS)
                self._root_fds[root.real] = fd
            return os.dup(fd)

    def close(self) -> None:
        with self._root_fds_lock:
            for fd in self._root_fds.values():
                os.close(fd)
            self._root_fds.clear()

    def root_for(self, abs_path: str, roots: Sequence[Root]) -> Root | None:
        best: Root | None = None
        for root in roots:
            if root.contains(abs_path) and (best is None or len(root.real) > len(best.real)):
                best = root
        return best

    def is_denied(self, rel: str) -> bool:
        if not self.deny or not rel:
            return False
        parts = rel.split(os.sep)
        for pattern in self.deny:
            pat = pattern.rstrip("/")
            for i in range(len(parts)):
                # A pattern matches the path itself or any of its ancestors, by full path or by name.
                prefix = os.sep.join(parts[: i + 1])
                if fnmatch.fnmatchcase(prefix, pat) or fnmatch.fnmatchcase(parts[i], pat):
                    return True
        return False

    def _denies(self, located: Located) -> bool:
        """The deny-list applies relative to the configured roots too: a client root narrowed to a denied
        directory (say `.git`) must not make the paths below it look allowed."""
        if not self.deny:
            return False
        if self.is_denied(located.rel):
            return True
        host = located.display
        return any(root.contains(host) and self.is_denied(_rel_to(root, host)) for root in self.roots)

    def absolute(self, path: str, roots: Sequence[Root]) -> str:
        if not isinstance(path, str) or not path.strip():
            raise AccessDenied("an empty path was given; pass a path inside one of the allowed directories")
        if "\x00" in path:
            raise AccessDenied(f"{path!r} contains a NUL byte; remove it")
        if len(path) > MAX_PATH_CHARS:
            raise AccessDenied(f"path of {len(path)} characters is too long (limit {MAX_PATH_CHARS})")
        expanded = os.path.expanduser(path) if path.startswith("~") else path
        if not os.path.isabs(expanded):
            expanded = os.path.join(roots[0].real, expanded)
        normal = os.path.normpath(expanded)
        # POSIX normpath keeps a leading "//"; the kernel treats it as "/", and so do we.
        return "/" + normal.lstrip("/") if normal.startswith("//") else normal

    @contextmanager
    def locate(self, path: str, roots: Sequence[Root] | None = None, follow_final: bool = True) -> Iterator[Located]:
        """Resolve `path` safely; the yielded descriptor is closed on exit.

        With `follow_final` a link in the last component is followed (inside the roots); without it the
        last component is left as it is (to delete, move or describe the link itself).
        """
        located = self.resolve(path, roots, follow_final)
        try:
            yield located
        finally:
            os.close(located.dir_fd)

    def resolve(self, path: str, roots: Sequence[Root] | None = None, follow_final: bool = True) -> Located:
        """Like `locate`, but the caller owns (and must close) `dir_fd` of the result."""
        active = list(roots) if roots is not None else self.roots
        if not active:
            raise AccessDenied("the client's roots leave no allowed directory; ask the user to add one")
        abs_path = self.absolute(path, active)
        root = self.root_for(abs_path, active)
        if root is None:
            raise AccessDenied(f"{path!r} is outside the allowed directories; call list_allowed_directories")
        walk = _Walk(self, path, active, follow_final)
        try:
            located = walk.run(root, self._rel_parts(root, abs_path))
            if self._denies(located):
                raise AccessDenied(f"{path!r} is on this server's deny-list")
            return located
        except BaseException as exc:
            walk.close()
            if isinstance(exc, OSError):
                raise from_os_error(exc, path) from exc
            raise

    @staticmethod
    def _rel_parts(root: Root, abs_path: str) -> list[str]:
        rel = root.relative(abs_path)
        return rel.split(os.sep) if rel else []


def _rel_to(root: Root, host: str) -> str:
    return root.relative(host)


class _Walk:
    """One component-by-component walk; `fd` is the directory descriptor held at each step."""

    def __init__(self, sandbox: Sandbox, path: str, active: list[Root], follow_final: bool) -> None:
        self.sandbox = sandbox
        self.path = path
        self.active = active
        self.follow_final = follow_final
        self.fd = -1

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _enter(self, name: str, dir_fd: int) -> None:
        new_fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        self.close()
        self.fd = new_fd

    def _enter_root(self, root: Root) -> None:
        new_fd = self.sandbox.root_fd(root)
        self.close()
        self.fd = new_fd

    def run(self, root: Root, parts: list[str]) -> Located:
        path = self.path
        self._enter_root(root)
        hops = 0
        i = 0
        while parts:
            name = parts[i]
            last = i == len(parts) - 1
            if last and not self.follow_final:
                return Located(root, self.fd, name, os.sep.join(parts), path)
            try:
                st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            except FileNotFoundError:
                if last:
                    return Located(root, self.fd, name, os.sep.join(parts), path)
                missing = os.sep.join(parts[: i + 1])
                raise NotFound(f"{path!r} does not exist: its directory {missing!r} is missing") from None
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise AccessDenied(f"{path!r} goes through too many symbolic links")
                target = os.readlink(name, dir_fd=self.fd)
                here = os.path.join(root.real, *parts[:i])
                new_abs = os.path.normpath(os.path.join(here, target))
                new_root = self.sandbox.root_for(new_abs, self.active)
                if new_root is None:
                    raise AccessDenied(f"{path!r} is a symbolic link that leads outside the allowed directories")
                root = new_root
                parts = Sandbox._rel_parts(root, new_abs) + parts[i + 1 :]
                self._enter_root(root)
                i = 0
                continue
            if last:
                return Located(root, self.fd, name, os.sep.join(parts), path)
            if not stat.S_ISDIR(st.st_mode):
                raise WrongKind(f"{os.sep.join(parts[: i + 1])!r} in {path!r} is not a directory")
            self._enter(name, self.fd)
            i += 1
        return Located(root, self.fd, "", "", path)
