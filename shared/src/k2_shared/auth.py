"""Bearer authentication for the HTTP transports: static API keys and JWTs.

A request without a valid `Authorization: Bearer <token>` gets 401 with a `WWW-Authenticate` challenge (RFC 6750),
pointing at the OAuth protected-resource metadata (RFC 9728) when a resource URL is configured. Tokens in the
query string are refused outright: they end up in logs and browser history. `/healthz` and the metadata document
stay open so that probes and clients can find their way.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
from starlette.types import ASGIApp, Receive, Scope, Send

from k2_shared.settings import ServerSettings

logger = logging.getLogger(__name__)

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
OPEN_PATHS = frozenset({"/healthz", PROTECTED_RESOURCE_PATH})


class AuthConfigError(ValueError):
    """The auth settings cannot be used (unreadable token file, empty key file, bad PEM)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    method: str  # "api-key" or "jwt"
    claims: dict[str, Any] = field(default_factory=dict)


class BearerVerifier:
    """Checks a bearer token against static keys (constant time) and, if configured, as a JWT."""

    def __init__(
        self,
        static_tokens: list[str],
        jwt_key: str | bytes | None = None,
        jwt_algorithms: list[str] | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        self._static = [t.encode() for t in static_tokens]
        self._jwt_key = jwt_key
        self._algorithms = jwt_algorithms or []
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Principal | None:
        raw = token.encode()
        matched: int | None = None
        for index, known in enumerate(self._static):
            # Compare against every key so timing does not reveal which one matched.
            if hmac.compare_digest(raw, known):
                matched = index
        if matched is not None:
            return Principal(subject=f"api-key-{matched}", method="api-key")
        if self._jwt_key is None:
            return None
        try:
            claims = jwt.decode(
                token,
                self._jwt_key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "aud"] + (["iss"] if self._issuer else [])},
            )
        except jwt.PyJWTError as exc:
            logger.info("rejected JWT", extra={"reason": type(exc).__name__})
            return None
        return Principal(subject=str(claims.get("sub", "")), method="jwt", claims=claims)


def build_verifier(settings: ServerSettings) -> BearerVerifier | None:
    """Make a verifier from settings, or None when auth is not configured. Raises AuthConfigError."""
    if not settings.auth_enabled:
        return None
    tokens = list(settings.auth_tokens)
    if settings.auth_token_file is not None:
        try:
            text = settings.auth_token_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthConfigError(
                f"cannot read auth token file {str(settings.auth_token_file)!r}: {exc.strerror}"
            ) from None
        file_tokens = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not file_tokens:
            raise AuthConfigError(f"auth token file {str(settings.auth_token_file)!r} holds no token")
        tokens.extend(file_tokens)
    short = [t for t in tokens if len(t) < 16]
    if short:
        raise AuthConfigError("bearer tokens must be at least 16 characters long")
    key: str | bytes | None = None
    algorithms: list[str] = []
    if settings.jwt_secret:
        key, algorithms = settings.jwt_secret, ["HS256", "HS384", "HS512"]
    elif settings.jwt_public_key_file is not None:
        try:
            key = settings.jwt_public_key_file.read_bytes()
        except OSError as exc:
            raise AuthConfigError(
                f"cannot read JWT public key {str(settings.jwt_public_key_file)!r}: {exc.strerror}"
            ) from None
        algorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
    return BearerVerifier(tokens, key, algorithms, settings.jwt_issuer, settings.jwt_audience)


async def send_plain(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


class BearerAuthMiddleware:
    """ASGI middleware: every HTTP request outside OPEN_PATHS needs a valid bearer token."""

    def __init__(self, app: ASGIApp, verifier: BearerVerifier, resource_url: str | None = None) -> None:
        self.app = app
        self.verifier = verifier
        self.resource_url = resource_url.rstrip("/") if resource_url else None

    def _challenge(self, error: str | None) -> bytes:
        parts = ['Bearer realm="k2"']
        if error:
            parts.append(f'error="{error}"')
        if self.resource_url:
            parts.append(f'resource_metadata="{self.resource_url}{PROTECTED_RESOURCE_PATH}"')
        return ", ".join(parts).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "access_token" in query:
            await send_plain(send, 400, b"bearer tokens are not accepted in the query string\n")
            return
        header = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, token = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not token.strip():
            await send_plain(send, 401, b"bearer token required\n", [(b"www-authenticate", self._challenge(None))])
            return
        principal = self.verifier.verify(token.strip())
        if principal is None:
            await send_plain(
                send, 401, b"invalid bearer token\n", [(b"www-authenticate", self._challenge("invalid_token"))]
            )
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def protected_resource_metadata(settings: ServerSettings) -> bytes:
    """RFC 9728 document describing this server as an OAuth protected resource."""
    doc: dict[str, Any] = {"resource": settings.resource_url, "bearer_methods_supported": ["header"]}
    if settings.jwt_issuer:
        doc["authorization_servers"] = [settings.jwt_issuer]
    return json.dumps(doc).encode()
