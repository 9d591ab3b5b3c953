"""Typed results of the code execution tools."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Isolation = Literal["bubblewrap", "none"]


class FileChange(BaseModel):
    path: str = Field(description="path relative to the workspace")
    change: Literal["created", "modified", "deleted"]
    size: int = Field(description="bytes (0 when deleted)")


class ExecutionResult(BaseModel):
    stdout: str
    stderr: str
    exit_code: int | None = Field(description="exit status; negative: killed by that signal; null: no status")
    value: str | None = Field(default=None, description="repr() of the final expression (Python), if it is not None")
    timed_out: bool = False
    truncated: bool = Field(default=False, description="stdout or stderr was cut at the output cap")
    duration_s: float
    files: list[FileChange] = Field(default_factory=list, description="workspace files created, changed or deleted")
    images: int = Field(default=0, description="number of images (PNG) returned as image content")
    session_id: str | None = None
    session_lost: bool = Field(
        default=False, description="the session's interpreter ended (timeout, kill); it is closed"
    )
    isolation: Isolation
    landlock: bool = Field(default=False, description="Landlock also confines writes (and TCP without network)")
    warning: str | None = None


class SessionInfo(BaseModel):
    session_id: str
    created_at: float
    last_used_at: float
    idle_expires_in_s: float
    executions: int


class SessionList(BaseModel):
    sessions: list[SessionInfo]
    max_sessions: int


class Closed(BaseModel):
    session_id: str
    closed: bool


class WorkspaceEntry(BaseModel):
    path: str
    type: Literal["file", "directory", "other"]
    size: int


class WorkspaceListing(BaseModel):
    session_id: str
    entries: list[WorkspaceEntry]
    truncated: bool


class FileWritten(BaseModel):
    session_id: str
    path: str
    size: int


class FileContent(BaseModel):
    session_id: str
    path: str
    size: int
    content: str
    encoding: Literal["utf-8", "base64"]
