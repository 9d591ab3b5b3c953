"""Changing files: write, edit, create directories, move, copy, delete. Every write is atomic."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Sequence

from k2_filesystem.editing import Edit, apply_edits, unified_diff
from k2_filesystem.errors import AccessDenied, AlreadyExists, EditConflict, NotFound, TooLarge, Unsupported, WrongKind
from k2_filesystem.files import (
    DEFAULT_FILE_MODE,
    atomic_write,
    file_mode,
    kind_of,
    open_regular,
    read_fd,
    read_whole,
    rename_noreplace,
    sha256,
    temp_name,
)
from k2_filesystem.models import CopyResult, DeleteResult, DirectoryCreated, EditResult, MoveResult, WriteResult
from k2_filesystem.paths import DIR_FLAGS, Located, Root, Sandbox
from k2_filesystem.reading import detect_encoding

TEXT_ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "latin-1", "ascii", "cp1252"}


def make_parents(sandbox: Sandbox, path: str, roots: Sequence[Root]) -> None:
    """Create the missing directories above `path`, each one checked like any other path."""
    abs_path = sandbox.absolute(path, roots)
    parent = os.path.dirname(abs_path)
    missing: list[str] = []
    while parent and parent != os.path.dirname(parent):
        try:
            with sandbox.locate(parent, roots) as loc:
                st = loc.lstat()
        except NotFound:  # a directory above `parent` is missing too (containment was checked before the walk)
            st = None
        if st is not None:
            if not stat.S_ISDIR(st.st_mode):
                raise WrongKind(f"{os.path.basename(parent)!r} above {path!r} exists and is not a directory")
            break
        missing.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(missing):
        with sandbox.locate(directory, roots) as loc, contextlib.suppress(FileExistsError):
            os.mkdir(loc.name, 0o777, dir_fd=loc.dir_fd)


def _existing_regular(loc: Located) -> os.stat_result | None:
    st = loc.lstat()
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise WrongKind(f"{loc.shown!r} exists and is a {kind_of(st.st_mode).replace('_', ' ')}, not a file")
    return st


def write_file(
    loc: Located, content: str, encoding: str, *, overwrite: bool, expected_sha256: str | None, max_bytes: int
) -> WriteResult:
    if not loc.name:
        raise WrongKind(f"{loc.shown!r} is an allowed root directory, not a file")
    if encoding not in TEXT_ENCODINGS:
        raise Unsupported(f"encoding {encoding!r} is not supported; use one of {sorted(TEXT_ENCODINGS)}")
    data = _encode(content, encoding, loc.shown)
    if len(data) > max_bytes:
        raise TooLarge(f"content is {len(data)} bytes, over the write limit of {max_bytes}; split the file")
    st = _existing_regular(loc)
    if st is not None and not overwrite:
        raise AlreadyExists(f"{loc.shown!r} already exists; pass overwrite=true to replace it")
    if expected_sha256 is not None:
        if st is None:
            raise EditConflict(f"{loc.shown!r} does not exist, but expected_sha256 was given")
        current, _ = read_whole(loc, max_bytes)
        if sha256(current) != expected_sha256.lower():
            raise EditConflict(f"{loc.shown!r} changed since it was read (SHA-256 differs); read it again")
    atomic_write(loc.dir_fd, loc.name, data, st.st_mode if st else None)
    return WriteResult(path=loc.shown, bytes_written=len(data), created=st is None, sha256=sha256(data))


def _encode(content: str, encoding: str, shown: str) -> bytes:
    try:
        return content.encode(encoding, errors="strict")
    except UnicodeEncodeError as exc:
        raise Unsupported(
            f"text for {shown!r} has characters at {exc.start} that {encoding} cannot hold; use encoding utf-8"
        ) from None


def edit_file(
    loc: Located, edits: list[Edit], *, dry_run: bool, expected_sha256: str | None, max_bytes: int
) -> EditResult:
    if _existing_regular(loc) is None:
        raise NotFound(f"{loc.shown!r} does not exist; use write_file to create it")
    data, st = read_whole(loc, max_bytes)
    before_hash = sha256(data)
    if expected_sha256 is not None and before_hash != expected_sha256.lower():
        raise EditConflict(f"{loc.shown!r} changed since it was read (SHA-256 differs); read it again")
    encoding = detect_encoding(data, complete=True)
    if encoding is None:
        raise Unsupported(f"{loc.shown!r} is a binary file; edit_file works on text")
    try:
        before = data.decode(encoding)
    except UnicodeDecodeError:
        raise Unsupported(f"{loc.shown!r} is not valid {encoding}; edit_file would corrupt it") from None
    applied = apply_edits(before, edits, loc.shown)
    new_data = _encode(applied.text, encoding, loc.shown)
    if len(new_data) > max_bytes:
        raise TooLarge(f"the edited file would be {len(new_data)} bytes, over the limit of {max_bytes}")
    if not dry_run:
        atomic_write(loc.dir_fd, loc.name, new_data, st.st_mode)
    return EditResult(
        path=loc.shown,
        applied=not dry_run,
        replacements=applied.replacements,
        diff=unified_diff(before, applied.text, loc.shown),
        sha256_before=before_hash,
        sha256_after=sha256(new_data),
        notes=applied.notes,
    )


def create_directory(loc: Located) -> DirectoryCreated:
    st = loc.lstat()
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return DirectoryCreated(path=loc.shown, created=False)
        raise AlreadyExists(f"{loc.shown!r} exists and is a {kind_of(st.st_mode)}, not a directory")
    os.mkdir(loc.name, 0o777, dir_fd=loc.dir_fd)
    return DirectoryCreated(path=loc.shown, created=True)


def move(src: Located, dst: Located, *, overwrite: bool) -> MoveResult:
    st = src.lstat()
    if st is None:
        raise NotFound(f"{src.shown!r} does not exist")
    if not src.name:
        raise AccessDenied(f"{src.shown!r} is an allowed root directory; it cannot be moved")
    if not dst.name:
        raise AlreadyExists(f"{dst.shown!r} is an allowed root directory; give a path inside it")
    if overwrite:
        existing = dst.lstat()
        if existing is not None and stat.S_ISDIR(existing.st_mode) != stat.S_ISDIR(st.st_mode):
            raise WrongKind(f"{dst.shown!r} exists and is a {kind_of(existing.st_mode)}; it cannot be replaced")
        os.rename(src.name, dst.name, src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd)
    else:
        rename_noreplace(src.dir_fd, src.name, dst.dir_fd, dst.name, dst.shown)
    return MoveResult(source=src.shown, destination=dst.shown, kind=kind_of(st.st_mode))


def delete(loc: Located, *, recursive: bool) -> DeleteResult:
    if not loc.name:
        raise AccessDenied(f"{loc.shown!r} is an allowed root directory; it cannot be deleted")
    st = loc.lstat()
    if st is None:
        raise NotFound(f"{loc.shown!r} does not exist")
    kind = kind_of(st.st_mode)
    if kind != "directory":
        os.unlink(loc.name, dir_fd=loc.dir_fd)
        return DeleteResult(path=loc.shown, kind=kind, entries_deleted=1)
    if not recursive:
        os.rmdir(loc.name, dir_fd=loc.dir_fd)
        return DeleteResult(path=loc.shown, kind=kind, entries_deleted=1)
    try:
        count = 1 + _count_entries(loc)
        # rmtree with dir_fd walks by descriptor and never follows a link out of the tree.
        shutil.rmtree(loc.name, dir_fd=loc.dir_fd)
    except RecursionError:  # both walks recurse once per level
        raise TooLarge(
            f"{loc.shown!r} is nested too deeply to delete in one call; delete its deepest directories first"
        ) from None
    return DeleteResult(path=loc.shown, kind=kind, entries_deleted=count)


def _count_entries(loc: Located) -> int:
    fd = loc.open_dir()
    try:
        return sum(len(dirs) + len(files) for _, dirs, files, _ in os.fwalk(".", dir_fd=fd))
    finally:
        os.close(fd)


def copy(src: Located, dst: Located, *, overwrite: bool, recursive: bool, max_entries: int) -> CopyResult:
    st = src.lstat()
    if st is None:
        raise NotFound(f"{src.shown!r} does not exist")
    if not dst.name:
        raise AlreadyExists(f"{dst.shown!r} is an allowed root directory; give a path inside it")
    existing = dst.lstat()
    if stat.S_ISDIR(st.st_mode):
        if not recursive:
            raise WrongKind(f"{src.shown!r} is a directory; pass recursive=true to copy it with its contents")
        if existing is not None:
            raise AlreadyExists(f"{dst.shown!r} already exists; copy a directory to a new path")
        # Both display paths are resolved host paths (the walk rewrote every link), so this is a whole-path test.
        if os.path.commonpath([src.display, dst.display]) == src.display:
            raise WrongKind(f"{dst.shown!r} is inside {src.shown!r}; a directory cannot be copied into itself")
        return _copy_tree(src, dst, max_entries)
    if existing is not None:
        if not overwrite:
            raise AlreadyExists(f"{dst.shown!r} already exists; pass overwrite=true to replace it")
        if not stat.S_ISREG(existing.st_mode):
            raise WrongKind(f"{dst.shown!r} exists and is a {kind_of(existing.st_mode)}; it cannot be replaced")
    fd, src_st = open_regular(src)
    try:
        size = _copy_fd_to(fd, src_st.st_mode, dst.dir_fd, dst.name)
    finally:
        os.close(fd)
    return CopyResult(source=src.shown, destination=dst.shown, files_copied=1, bytes_copied=size)


def _copy_fd_to(fd: int, mode: int, dir_fd: int, name: str) -> int:
    """Copy an open file into `name` under dir_fd through a temporary file and a rename.

    A copy that would not fit in the space left on the destination's filesystem is refused before a byte is
    written (a sparse file reads back at its full size, so copying one can fill a disk).
    """
    size = os.fstat(fd).st_size
    fs = os.fstatvfs(dir_fd)
    if size > fs.f_bavail * fs.f_frsize:
        raise TooLarge(f"copying {name!r} needs {size} bytes but only {fs.f_bavail * fs.f_frsize} are free there")
    tmp = temp_name(name)
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    total = 0
    try:
        try:
            while chunk := read_fd(fd, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
                total += len(chunk)
            os.fchmod(out, file_mode(mode) or DEFAULT_FILE_MODE)
            os.fsync(out)
        finally:
            os.close(out)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    return total


def _copy_tree(src: Located, dst: Located, max_entries: int) -> CopyResult:
    """Copy a directory tree into a temporary directory beside the destination, then rename it into place."""
    tmp = temp_name(dst.name)
    os.mkdir(tmp, 0o700, dir_fd=dst.dir_fd)
    files = size = entries = 0
    skipped: list[str] = []
    src_fd = src.open_dir()
    stack: list[tuple[int, int, str]] = []
    try:
        out_fd = os.open(tmp, DIR_FLAGS, dir_fd=dst.dir_fd)
        try:
            stack.append((os.dup(src_fd), os.dup(out_fd), ""))
            while stack:
                in_fd, to_fd, rel = stack.pop()
                try:
                    for entry in sorted(os.scandir(in_fd), key=lambda e: e.name):
                        entries += 1
                        if entries > max_entries:
                            raise TooLarge(f"{src.shown!r} has more than {max_entries} entries; copy it in parts")
                        est = entry.stat(follow_symlinks=False)
                        child = os.path.join(rel, entry.name)
                        if stat.S_ISDIR(est.st_mode):
                            os.mkdir(entry.name, stat.S_IMODE(est.st_mode) | 0o700, dir_fd=to_fd)
                            stack.append(
                                (
                                    os.open(entry.name, DIR_FLAGS, dir_fd=in_fd),
                                    os.open(entry.name, DIR_FLAGS, dir_fd=to_fd),
                                    child,
                                )
                            )
                        elif stat.S_ISREG(est.st_mode):
                            fd = os.open(
                                entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=in_fd
                            )
                            try:
                                size += _copy_fd_to(fd, est.st_mode, to_fd, entry.name)
                            finally:
                                os.close(fd)
                            files += 1
                        else:
                            skipped.append(child)
                finally:
                    os.close(in_fd)
                    os.close(to_fd)
        finally:
            os.close(out_fd)
        src_mode = os.fstat(src_fd).st_mode
        os.chmod(tmp, stat.S_IMODE(src_mode), dir_fd=dst.dir_fd)
        rename_noreplace(dst.dir_fd, tmp, dst.dir_fd, dst.name, dst.shown)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp, dir_fd=dst.dir_fd)
        raise
    finally:
        for in_fd, to_fd, _ in stack:
            os.close(in_fd)
            os.close(to_fd)
        os.close(src_fd)
    return CopyResult(
        source=src.shown, destination=dst.shown, files_copied=files, bytes_copied=size, skipped_links=skipped
    )
