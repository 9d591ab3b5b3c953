"""Errors of the code execution server. Every one is a `ToolError`, so the model sees its message; `code` is the
kind a client reads from the result's `_meta["k2/error"]`.

    ExecError                 any refusal the caller can act on                         code
    ├── SandboxUnavailable    bubblewrap does not work here and no unsafe flag was given sandbox_unavailable
    ├── SessionNotFound       an unknown, closed or expired session                    session_not_found
    ├── TooManySessions       the cap on live sessions is reached                      too_many_sessions
    ├── InvalidPath           a workspace path that is absolute, escapes or is missing  invalid_path
    └── FileTooLarge          a workspace file over the read or write cap              file_too_large

A run that fails, times out or is killed is not an error: its result says so (`exit_code`, `timed_out`).
"""

from __future__ import annotations

from k2_shared.errors import CodedToolError


class ExecError(CodedToolError):
    code = "error"


class SandboxUnavailable(ExecError):
    code = "sandbox_unavailable"


class SessionNotFound(ExecError):
    code = "session_not_found"


class TooManySessions(ExecError):
    code = "too_many_sessions"


class InvalidPath(ExecError):
    code = "invalid_path"


class FileTooLarge(ExecError):
    code = "file_too_large"
