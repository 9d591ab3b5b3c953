"""Turning a provider's HTTP failure into an `LLMError` a person can act on.

Both SDKs raise the same shapes (a status error with the response body, a connection error, a timeout);
each provider unpacks its SDK's exception and calls one of these, so the messages and the retry policy are
the same whichever API is behind the host:

- 401 / 403: the key was refused; names the variable that holds it. Not retryable.
- 404: the model (or the endpoint path) does not exist at that base URL. Not retryable.
- 400 / 422 and other 4xx: the request was rejected; quotes the provider's message. Not retryable.
- 408, 409, 429, 5xx (and 529 "overloaded"): retryable.
- unreachable endpoint, a connection cut mid-stream, or a timeout: retryable, status None, names the base URL.
- an error event inside a stream (the HTTP status was 200): Anthropic's error type gives the status
  (`overloaded_error` is 529); an OpenAI-style one is retryable with status None.
"""

from __future__ import annotations

from typing import Any

from .base import LLMError

_RETRYABLE_4XX = {408, 409, 429}
# Anthropic's error types, for errors that arrive as a stream event rather than as an HTTP status.
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def status_of(status: int, body: object) -> int:
    """The HTTP status, or for an error that came inside a 200 stream, the one its error type stands for."""
    if status >= 400:
        return status
    error: Any = body.get("error", body) if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return _ERROR_TYPE_STATUS.get(kind, 500) if isinstance(kind, str) else 500


def body_message(body: object, fallback: str = "") -> str:
    """The human part of an error body (`{"error": {"message": ...}}` in both APIs), else `fallback`."""
    if isinstance(body, dict):
        error: Any = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
    return fallback


def status_error(
    status: int, detail: str, *, provider: str, model: str, base_url: str, key_env: str | None
) -> LLMError:
    where = f"{provider} at {base_url}"
    detail = detail.strip() or "no detail given"
    if status in (401, 403):
        hint = f"; check {key_env}" if key_env else ""
        what = "refused the API key" if status == 401 else "denied access"
        return LLMError(f"{where} {what} (HTTP {status}: {detail}){hint}", status=status)
    if status == 404:
        return LLMError(
            f"{where} has no model {model!r} or no such endpoint (HTTP 404: {detail}); "
            "check the model name and that the base URL ends where the API starts (often /v1)",
            status=status,
        )
    if status == 429:
        return LLMError(f"{where} is rate limiting requests (HTTP 429: {detail})", status=status, retryable=True)
    if status >= 500:
        return LLMError(f"{where} failed (HTTP {status}: {detail})", status=status, retryable=True)
    return LLMError(
        f"{where} rejected the request (HTTP {status}: {detail})", status=status, retryable=status in _RETRYABLE_4XX
    )


def connection_error(cause: BaseException | None, *, provider: str, base_url: str) -> LLMError:
    reason = f" ({cause})" if cause is not None and str(cause) else ""
    return LLMError(
        f"the connection to {provider} at {base_url} failed{reason}; check that the server is running there",
        retryable=True,
    )


def stream_error(detail: str, *, provider: str, base_url: str) -> LLMError:
    return LLMError(f"{provider} at {base_url} failed while streaming: {detail}", retryable=True)


def timeout_error(timeout_s: float, *, provider: str, base_url: str) -> LLMError:
    return LLMError(f"{provider} at {base_url} did not answer within {timeout_s:g}s", retryable=True)
