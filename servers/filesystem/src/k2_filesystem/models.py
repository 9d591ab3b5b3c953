"""Typed results of the filesystem tools; each becomes the tool's outputSchema and structured content."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["file", "directory", "symlink", "fifo", "socket", "char_device", "block_device", "other"]


class FileSlice(BaseModel):
    path: str = Field(description="the path as given")
    content: str = Field(description="the text returned; empty for media, which comes as image/audio/blob content")
    encoding: str | None = Field(description="text encoding used to decode the file; null for media")
    mime_type: str
    size: int = Field(description="file size in bytes")
    offset: int = Field(description="first line returned (0-based)")
    lines_returned: int
    total_lines: int | None = Field(description="lines in the whole file, when it was read whole")
    next_offset: int | None = Field(description="offset to pass to read on; null at the end of the file")
    truncated: bool = Field(description="true when the file goes on past what was returned")
    truncation_reason: str | None = None
    sha256: str | None = Field(description="SHA-256 of the whole file (pass it to edit_file or write_file)")


class FileResult(BaseModel):
    path: str
    ok: bool
    file: FileSlice | None = None
    error: str | None = None
    error_code: str | None = Field(default=None, description="kind of failure: not_found, unsupported, ...")


class MultiRead(BaseModel):
    files: list[FileResult]
    succeeded: int
    failed: int


class WriteResult(BaseModel):
    path: str
    bytes_written: int
    created: bool = Field(description="true if the file did not exist before")
    sha256: str


class EditResult(BaseModel):
    path: str
    applied: bool = Field(description="false for a dry run")
    replacements: int = Field(description="how many places were changed")
    diff: str = Field(description="unified diff of the change")
    sha256_before: str
    sha256_after: str
    notes: list[str] = Field(default_factory=list, description="adjustments made, such as line-ending matching")


class DirectoryCreated(BaseModel):
    path: str
    created: bool = Field(description="false when it already existed")


class MoveResult(BaseModel):
    source: str
    destination: str
    kind: Kind


class CopyResult(BaseModel):
    source: str
    destination: str
    files_copied: int
    bytes_copied: int
    skipped_links: list[str] = Field(
        default_factory=list, description="symbolic links and special files not copied (relative paths)"
    )


class DeleteResult(BaseModel):
    path: str
    kind: Kind
    entries_deleted: int


class Entry(BaseModel):
    name: str
    kind: Kind
    size: int | None = Field(default=None, description="bytes; null for directories and without details")
    mtime: str | None = Field(default=None, description="modification time, ISO 8601 UTC; null without details")
    link_target: str | None = Field(default=None, description="where a symbolic link points, as stored")


class DirectoryListing(BaseModel):
    path: str
    entries: list[Entry]
    total: int = Field(description="entries in the directory (after the hidden filter)")
    offset: int
    next_offset: int | None = Field(description="offset for the next page; null when this is the last one")
    truncated: bool


class TreeNode(BaseModel):
    name: str
    kind: Kind
    size: int | None = None
    mtime: str | None = Field(default=None, description="files: modification time, ISO 8601 UTC to the second")
    children: list[TreeNode] | None = Field(default=None, description="null when not descended into")
    children_truncated: bool = Field(default=False, description="depth or entry cap stopped the walk here")


class DirectoryTree(BaseModel):
    path: str
    tree: list[TreeNode]
    entries: int
    truncated: bool
    truncation_reason: str | None = None


class SearchResult(BaseModel):
    path: str
    pattern: str
    matches: list[str] = Field(description="paths relative to `path`")
    truncated: bool
    scanned: int = Field(description="entries looked at")


class GrepMatch(BaseModel):
    path: str = Field(description="file, relative to the searched directory")
    line: int = Field(description="1-based line number")
    text: str
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)


class GrepResult(BaseModel):
    pattern: str
    matches: list[GrepMatch]
    files_searched: int
    files_matched: int
    truncated: bool
    truncation_reason: str | None = None
    skipped_binary: int = 0
    skipped_large: int = Field(default=0, description="files over the size grep searches, left out (grep one alone)")


class FileInfo(BaseModel):
    path: str
    kind: Kind
    size: int
    mode: str = Field(description="permission bits, octal")
    mtime: str
    ctime: str
    atime: str
    uid: int
    gid: int
    link_target: str | None = None
    mime_type: str | None = None
    readable: bool
    writable: bool


class AllowedDirectories(BaseModel):
    directories: list[str]
    read_only: bool
    narrowed_by_client_roots: bool
