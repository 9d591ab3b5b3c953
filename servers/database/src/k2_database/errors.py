"""Errors of the database server. Every one is a `ToolError`, so the model sees its message; `code` is the kind
a client reads from the result's `_meta["k2/error"]`.

    DbError                       any refusal or failure the caller can act on          code
    ├── Refused                   a statement kind this mode does not run, or several   refused
    ├── SqlSyntaxError            DuckDB could not parse the SQL (message + position)   syntax_error
    ├── NotFound                  an unknown table, view, column or database            not_found
    ├── InvalidParameters         parameters missing, extra or of the wrong type        invalid_parameters
    ├── AccessDenied              a file outside the data directories, a locked setting access_denied
    ├── QueryTimeout              the time limit was reached and the query interrupted  timeout
    ├── ResourceLimit             out of memory or temp space, a value too large        resource_limit
    ├── InvalidCursor             a paging cursor that is forged, expired or foreign    invalid_cursor
    ├── Conflict                  a write that conflicts with another transaction       conflict
    └── QueryFailed               any other error DuckDB reports (constraint, cast, …)  query_error

Messages quote DuckDB's own message, which names the problem and its position, and say what to do instead.
"""

from __future__ import annotations

from k2_shared.errors import CodedToolError


class DbError(CodedToolError):
    code = "error"


class Refused(DbError):
    code = "refused"


class SqlSyntaxError(DbError):
    code = "syntax_error"


class NotFound(DbError):
    code = "not_found"


class InvalidParameters(DbError):
    code = "invalid_parameters"


class AccessDenied(DbError):
    code = "access_denied"


class QueryTimeout(DbError):
    code = "timeout"


class ResourceLimit(DbError):
    code = "resource_limit"


class InvalidCursor(DbError):
    code = "invalid_cursor"


class Conflict(DbError):
    code = "conflict"


class QueryFailed(DbError):
    code = "query_error"
