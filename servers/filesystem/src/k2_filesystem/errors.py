"""Errors of the filesystem server. Every one is a `ToolError`, so the model sees its message.

    FsError                       any refusal or failure the caller can act on
    ├── AccessDenied              outside the allowed roots, on the deny-list, a symlink leaving the roots,
    │                             a read-only server, or a disabled operation
    ├── NotFound                  no such file or directory
    ├── AlreadyExists             the target exists and overwriting was not asked for
    ├── WrongKind                 a directory where a file was expected, a FIFO/device/socket, ...
    ├── TooLarge                  over a size or entry cap
    ├── EditConflict              edit_file found no match, several matches, or a changed file
    └── Unsupported               the operation cannot be done here (binary file for a text edit, ...)

Messages quote the caller's path as given (never the host path of a root) and say what to do instead.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from k2_shared.errors import CodedToolError


class FsError(CodedToolError):
    code = "error"


class AccessDenied(FsError):
    code = "access_denied"


class NotFound(FsError):
    code = "not_found"


class AlreadyExists(FsError):
    code = "already_exists"


class WrongKind(FsError):
    code = "wrong_kind"


class TooLarge(FsError):
    code = "too_large"


class EditConflict(FsError):
    code = "edit_conflict"


class Unsupported(FsError):
    code = "unsupported"


@contextmanager
def os_errors(shown: str) -> Iterator[None]:
    """Turn an OSError raised while working on `shown` into the matching FsError."""
    try:
        yield
    except FsError:
        raise
    except OSError as exc:
        raise from_os_error(exc, shown) from exc


def from_os_error(exc: OSError, shown: str) -> FsError:
    code = exc.errno
    if code == errno.ENOENT:
        return NotFound(f"{shown!r} does not exist; list its parent directory to see what is there")
    if code == errno.EEXIST:
        return AlreadyExists(f"{shown!r} already exists")
    if code in (errno.ENOTDIR,):
        return WrongKind(f"a component of {shown!r} is not a directory")
    if code == errno.EISDIR:
        return WrongKind(f"{shown!r} is a directory; use list_directory or directory_tree")
    if code == errno.ENOTEMPTY:
        return WrongKind(f"directory {shown!r} is not empty; pass recursive=true to delete it with its contents")
    if code == errno.ELOOP:
        return AccessDenied(f"{shown!r} changed into a symbolic link during the operation; try again")
    if code in (errno.EACCES, errno.EPERM):
        return AccessDenied(f"the operating system denied access to {shown!r}")
    if code == errno.ENOSPC:
        return FsError(f"no space left on the device while writing {shown!r}; nothing was changed")
    if code == errno.EXDEV:
        return Unsupported(f"{shown!r} cannot be moved across filesystems; copy it and delete the original")
    if code == errno.ENAMETOOLONG:
        return FsError(f"a name in {shown!r} is too long for this filesystem")
    if code == errno.EROFS:
        return AccessDenied(f"{shown!r} is on a read-only filesystem")
    return FsError(f"cannot access {shown!r}: {exc.strerror or type(exc).__name__}")
