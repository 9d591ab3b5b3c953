"""Errors of the websearch server. Every one is a `ToolError`, so the model sees its message; `code` is the kind
a client reads from the result's `_meta["k2/error"]`.

    WebError                      any refusal or failure the caller can act on            code
    ├── BlockedUrl                a scheme, host or address the safety rules refuse       blocked
    ├── RobotsDisallowed          the site's robots.txt disallows our user agent           robots_disallowed
    ├── RateLimited               too many requests to one domain, or a backend's 429      rate_limited
    ├── FetchTimeout              connect or total time limit reached                      timeout
    ├── TooManyRedirects          more redirects than allowed                              too_many_redirects
    ├── HttpStatus                the server answered 4xx/5xx                              http_error
    ├── FetchFailed               connection refused, TLS failure, bad encoding, ...       fetch_failed
    ├── UnsupportedContent        a content type we cannot turn into text                  unsupported_content
    ├── InvalidArguments          an argument out of range (start_index past the end, ...) invalid_arguments
    └── SearchFailed              every configured backend failed                          search_failed
"""

from __future__ import annotations

from k2_shared.errors import CodedToolError


class WebError(CodedToolError):
    code = "error"


class BlockedUrl(WebError):
    code = "blocked"


class RobotsDisallowed(WebError):
    code = "robots_disallowed"


class RateLimited(WebError):
    code = "rate_limited"


class FetchTimeout(WebError):
    code = "timeout"


class TooManyRedirects(WebError):
    code = "too_many_redirects"


class HttpStatus(WebError):
    code = "http_error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FetchFailed(WebError):
    code = "fetch_failed"


class UnsupportedContent(WebError):
    code = "unsupported_content"


class InvalidArguments(WebError):
    code = "invalid_arguments"


class SearchFailed(WebError):
    code = "search_failed"
