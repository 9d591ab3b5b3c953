"""Low-level file helpers over (directory descriptor, name) pairs: kinds, safe opens, atomic writes."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import errno
import hashlib
import os
import secrets
import stat
import time

from k2_filesystem.errors import AccessDenied, AlreadyExists, NotFound, TooLarge, WrongKind
from k2_filesystem.models import Kind
from k2_filesystem.paths import Located

READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CHUNK = 1 << 20


def kind_of(mode: int) -> Kind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "char_device"
    if stat.S_ISBLK(mode):
        return "block_device"
    return "other"


def iso(ts: float) -> str:
    """ISO 8601 UTC to the second, e.g. 2026-11-24T13:40:11Z."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):  # a timestamp outside what the platform can express
        return dt.datetime.fromtimestamp(0, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_regular(loc: Located) -> tuple[int, os.stat_result]:
    """Open an existing regular file for reading; FIFOs, devices, sockets and directories are refused.

    The file is looked at without following links, opened with O_NOFOLLOW|O_NONBLOCK (a FIFO swapped in
    cannot block us) and checked again on the open descriptor: same inode, still a regular file.
    """
    before = loc.lstat()
    if before is None:
        raise NotFound(f"{loc.shown!r} does not exist; list its directory to see what is there")
    if not stat.S_ISREG(before.st_mode):
        what = kind_of(before.st_mode)
        if what == "directory":
            raise WrongKind(f"{loc.shown!r} is a directory; use list_directory or directory_tree")
        raise WrongKind(f"{loc.shown!r} is a {what.replace('_', ' ')}, not a regular file; it cannot be read")
    fd = os.open(loc.name, READ_FLAGS, dir_fd=loc.dir_fd)
    after = os.fstat(fd)
    if (after.st_ino, after.st_dev) != (before.st_ino, before.st_dev) or not stat.S_ISREG(after.st_mode):
        os.close(fd)
        raise AccessDenied(f"{loc.shown!r} was replaced while it was being opened; try again")
    return fd, after


def read_fd(fd: int, cap: int, expected: int | None = None) -> bytes:
    """Read at most `cap` bytes from fd (from its current position).

    With `expected` (the size fstat gave), a first read asks for one byte more than that: a file that did not
    grow is then read in one call, and a file that grew is read on to `cap`.
    """
    chunks: list[bytes] = []
    remaining = cap
    if expected is not None and expected < cap:
        first = os.read(fd, expected + 1)
        if len(first) <= expected:
            return first
        chunks.append(first)
        remaining -= len(first)
    while remaining > 0:
        chunk = os.read(fd, min(CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_whole(loc: Located, cap: int) -> tuple[bytes, os.stat_result]:
    """The whole content of a regular file, refusing one larger than `cap` bytes."""
    fd, st = open_regular(loc)
    try:
        if st.st_size > cap:
            raise TooLarge(f"{loc.shown!r} is {st.st_size} bytes, over this operation's limit of {cap} bytes")
        data = read_fd(fd, cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise TooLarge(f"{loc.shown!r} grew past this operation's limit of {cap} bytes while being read")
    return data, st


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _process_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


DEFAULT_FILE_MODE = 0o666 & ~_process_umask()


def file_mode(mode: int | None) -> int:
    """Permission bits for a file we write: the old or source mode without set-user/group-ID (as write(2)
    drops them), so new content never becomes a setuid program; the default mode for a new file."""
    if mode is None:
        return DEFAULT_FILE_MODE
    return stat.S_IMODE(mode) & ~(stat.S_ISUID | stat.S_ISGID)


def temp_name(name: str) -> str:
    return f".{name[:180]}.k2tmp-{secrets.token_hex(6)}"


def atomic_write(dir_fd: int, name: str, data: bytes, mode: int | None = None) -> None:
    """Write `data` to a new temporary file beside `name`, flush it to disk and rename it over `name`.

    Readers see the old content or the new one, never a part; on any failure the temporary file is removed
    and the original is untouched.
    """
    tmp = temp_name(name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, file_mode(mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)
RENAME_NOREPLACE = 1


def rename_noreplace(src_fd: int, src: str, dst_fd: int, dst: str, shown: str) -> None:
    """Rename without ever replacing an existing destination (atomically where the kernel allows)."""
    if _renameat2 is not None:
        rc = _renameat2(src_fd, os.fsencode(src), dst_fd, os.fsencode(dst), RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise AlreadyExists(f"{shown!r} already exists; pass overwrite=true to replace it")
        if err not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(err, os.strerror(err))
    # The filesystem lacks RENAME_NOREPLACE: check, then rename (a narrow race with other writers).
    try:
        os.stat(dst, dir_fd=dst_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        return
    raise AlreadyExists(f"{shown!r} already exists; pass overwrite=true to replace it")
