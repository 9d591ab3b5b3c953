"""One configured MCP server: the standard entry (`command`/`args`/`env`/`cwd`, or `url`/`headers`) and K2's
own keys beside it (deadlines, tool globs, retries, breaker, rate limit, replicas, sampling policy, cache TTL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

TransportKind = Literal["stdio", "http", "sse"]
Decision = Literal["allow", "ask", "deny"]


class ServerConfig(BaseModel):
    """One configured MCP server (possibly several instances of it)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    transport: TransportKind = "stdio"
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    protocol: str = Field(default="auto", description="auto (discover, else initialize), legacy, or 2026-07-28")
    disabled: bool = False
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="deadline of one tool call")
    connect_timeout_s: float = Field(default=30.0, gt=0, le=600, description="deadline of connecting and listing tools")
    allow_tools: list[str] = Field(default_factory=list, description="globs of tool names offered (empty: all)")
    deny_tools: list[str] = Field(default_factory=list, description="globs of tool names hidden")
    retries: int = Field(default=2, ge=0, le=10, description="extra attempts for read-only/idempotent tools")
    breaker_threshold: int = Field(default=5, ge=1, le=1000, description="consecutive failures that open the breaker")
    breaker_reset_s: float = Field(default=30.0, gt=0, le=3600, description="open time before a half-open probe")
    rate_per_s: float | None = Field(default=None, gt=0, description="token-bucket rate limit (calls per second)")
    burst: int = Field(default=10, ge=1, le=100_000, description="token-bucket burst")
    sampling: Decision = Field(default="ask", description="may this server ask the host's LLM (sampling)?")
    sampling_max_tokens: int = Field(default=1024, ge=1, le=100_000)
    cache_ttl_s: float | None = Field(
        default=None, ge=0, description="result-cache TTL of this server's read-only tools"
    )
    replicas: int = Field(default=1, ge=1, le=64, description="start this many copies of a stdio server")
    instances: list[dict[str, Any]] = Field(default_factory=list, description="other instances (load-balanced)")

    @model_validator(mode="after")
    def _check(self) -> ServerConfig:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs `command`")
        if self.transport in ("http", "sse"):
            if not self.url:
                raise ValueError(f"a {self.transport} server needs `url`")
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"url {self.url!r} is not an http(s) URL")
        return self

    def expanded_instances(self) -> list[ServerConfig]:
        """Every instance of this server: itself (times `replicas`) and the entries of `instances`."""
        base = self.model_dump(exclude={"instances", "replicas"})
        out: list[ServerConfig] = [
            ServerConfig.model_validate({**base, "instances": [], "replicas": 1}) for _ in range(self.replicas)
        ]
        for extra in self.instances:
            merged = {**base, **{k: v for k, v in infer_transport(extra).items() if v is not None}}
            out.append(ServerConfig.model_validate(merged))
        return out


def infer_transport(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Map an entry's `type`/`command`/`url` onto our `transport` field."""
    out = dict(entry)
    kind = str(out.pop("type", "") or out.get("transport", "") or "").lower()
    if kind in ("streamable-http", "streamablehttp", "http", "streamable_http"):
        out["transport"] = "http"
    elif kind == "sse":
        out["transport"] = "sse"
    elif kind == "stdio" or out.get("command"):
        out["transport"] = "stdio"
    elif out.get("url"):
        path = urlsplit(str(out["url"])).path.rstrip("/")
        out["transport"] = "sse" if path.endswith("/sse") else "http"
    return out
