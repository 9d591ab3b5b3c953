"""Settings shared by every server, and the one way to load them: flags laid over the environment.

Each package subclasses `ServerSettings` with its own `env_prefix` (for example `K2_FS_`), so a field `port`
is read from `K2_FS_PORT` and overridden by `--port`. Bad values stop the program at start with a message
that names the environment variable, the flag and the value.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Transport = Literal["stdio", "streamable-http", "sse"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def split_list(sep: str) -> Callable[[Any], Any]:
    """A validator that accepts a list, or a string of items separated by `sep` (how env vars carry lists)."""

    def split(value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(sep) if item.strip()]
        return value

    return split


CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_list(","))]
PathList = Annotated[list[Path], NoDecode, BeforeValidator(split_list(os.pathsep))]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServerSettings(BaseSettings):
    """Transport, logging, telemetry and HTTP security settings common to every K2 server."""

    model_config = SettingsConfigDict(env_prefix="K2_", extra="forbid", env_ignore_empty=True, validate_default=True)

    transport: Transport = Field("stdio", description="stdio, streamable-http or sse")
    host: str = Field("127.0.0.1", description="HTTP bind address (loopback unless you add auth)")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port; 0 picks a free one (logged at start)")
    log_level: LogLevel = Field("INFO", description="log level for the JSON logs on stderr")
    auth_token_file: Path | None = Field(None, description="file of static bearer tokens, one per line")
    auth_tokens: CommaList = Field(default_factory=list, description="static bearer tokens, comma separated")
    jwt_secret: str | None = Field(None, description="HS256 secret for JWT bearer tokens")
    jwt_public_key_file: Path | None = Field(None, description="PEM public key for RS256/ES256 JWT bearer tokens")
    jwt_issuer: str | None = Field(None, description="required `iss` of JWT bearer tokens")
    jwt_audience: str | None = Field(None, description="required `aud` of JWT bearer tokens")
    resource_url: str | None = Field(None, description="public URL of this server (OAuth protected resource)")
    allowed_hosts: CommaList = Field(default_factory=list, description="extra Host header values accepted")
    allowed_origins: CommaList = Field(default_factory=list, description="extra Origin header values accepted")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024, description="HTTP body cap")
    allow_unauthenticated: bool = Field(False, description="allow a non-loopback bind without bearer auth")
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP collector URL; unset means no export")

    @model_validator(mode="after")
    def _check_exposure(self) -> ServerSettings:
        jwt_keys = [k for k in (self.jwt_secret, self.jwt_public_key_file) if k]
        if len(jwt_keys) > 1:
            raise ValueError("jwt_secret and jwt_public_key_file are exclusive: set one")
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            raise ValueError("jwt_secret must be at least 32 bytes (RFC 7518 section 3.2)")
        if jwt_keys and not self.jwt_audience:
            raise ValueError("jwt_audience is required with JWT auth (tokens for other services must be refused)")
        if self.transport != "stdio" and not is_loopback(self.host):
            if not self.auth_enabled and not self.allow_unauthenticated:
                raise ValueError(
                    f"host {self.host!r} is not loopback: configure bearer auth (auth_token_file, auth_tokens, "
                    "jwt_*) or pass allow_unauthenticated explicitly"
                )
            if not self.allowed_hosts:
                raise ValueError(
                    f"host {self.host!r} is not loopback: list the Host names clients use in allowed_hosts "
                    "(DNS-rebinding protection stays on)"
                )
        return self

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_token_file or self.auth_tokens or self.jwt_secret or self.jwt_public_key_file)

    @classmethod
    def env_name(cls, field: str) -> str:
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every server takes. Each defaults to None so that only flags actually given override env."""
    g = parser.add_argument_group("transport and runtime")
    g.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], help="default: stdio")
    g.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    g.add_argument("--port", help="HTTP port (default 8000; 0 = any free port)")
    g.add_argument("--log-level", dest="log_level", type=str.upper, help="DEBUG, INFO, WARNING, ERROR")
    g.add_argument("--auth-token-file", dest="auth_token_file", help="file with static bearer tokens")
    g.add_argument("--jwt-secret-file", dest="jwt_secret_file", help="file holding an HS256 JWT secret")
    g.add_argument("--jwt-public-key-file", dest="jwt_public_key_file", help="PEM key for RS256/ES256 JWTs")
    g.add_argument("--jwt-issuer", dest="jwt_issuer", help="required JWT issuer")
    g.add_argument("--jwt-audience", dest="jwt_audience", help="required JWT audience")
    g.add_argument("--resource-url", dest="resource_url", help="public URL of this server for OAuth metadata")
    g.add_argument("--allowed-host", dest="allowed_hosts", action="append", help="accepted Host header (repeat)")
    g.add_argument("--allowed-origin", dest="allowed_origins", action="append", help="accepted Origin (repeat)")
    g.add_argument("--max-body-bytes", dest="max_body_bytes", help="HTTP request body cap in bytes")
    g.add_argument(
        "--allow-unauthenticated",
        dest="allow_unauthenticated",
        action="store_const",
        const=True,
        help="allow binding beyond loopback without bearer auth (not recommended)",
    )
    g.add_argument("--otlp-endpoint", dest="otlp_endpoint", help="OTLP/HTTP endpoint for traces and metrics")


S = TypeVar("S", bound=ServerSettings)


def load_settings(
    cls: type[S],
    argv: Sequence[str] | None,
    parser: argparse.ArgumentParser,
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> S:
    """Parse `argv` with `parser`, lay the given flags over the environment and validate.

    On a bad value print one line per problem (env var, flag, value, reason) and exit with status 2.
    """
    args = vars(parser.parse_args(argv))
    if adjust is not None:
        adjust(args)
    secret_file = args.pop("jwt_secret_file", None)
    overrides = {k: v for k, v in args.items() if v is not None}
    if secret_file is not None:
        try:
            overrides["jwt_secret"] = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            parser.exit(2, f"{parser.prog}: cannot read --jwt-secret-file {secret_file!r}: {exc.strerror}\n")
    try:
        return cls(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            where = f"{cls.env_name(field)} / --{field.replace('_', '-')}" if field else "settings"
            shown = f" = {err['input']!r}" if field else ""
            lines.append(f"{parser.prog}: invalid setting {where}{shown}: {err['msg']}")
        parser.exit(2, "\n".join(lines) + "\n")
