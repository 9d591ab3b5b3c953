"""Host configuration: the MCP client config formats users already have, plus the host's own settings.

Accepted files (JSON):
- `{"mcpServers": {name: entry}}` — Claude Desktop, Claude Code (`.mcp.json`), Cursor (`.cursor/mcp.json`);
- `{"servers": {name: entry}, "inputs": [...]}` — VS Code (`.vscode/mcp.json`).

An entry has `command`/`args`/`env`/`cwd` (stdio) or `url`/`headers` (Streamable HTTP, or legacy SSE when
`type` is "sse" or the URL path ends in `/sse`). Strings expand `${VAR}`, `${VAR:-default}`, `${env:VAR}`,
`${input:ID}` (VS Code inputs: asked in interactive runs, else read from `K2_INPUT_<ID>`), `${workspaceFolder}`
and `${userHome}`. K2's own keys, all optional, may sit beside the standard ones in an entry (`timeout_s`,
`allow_tools`, `deny_tools`, `instances`, `replicas`, `rate_per_s`, `sampling`, ...; see `ServerConfig`), and
at the top level: `llm`, `approval`, `cache`, `roots`, `agent`.

With no file, the host runs the four K2 servers over stdio on safe defaults (`default_servers`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

TransportKind = Literal["stdio", "http", "sse"]
Decision = Literal["allow", "ask", "deny"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the value."""


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


class CacheConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    max_entries: int = Field(default=1024, ge=1)
    ttl_s: float = Field(default=300.0, ge=0)
    disk: bool = True  # L2 on disk under the state dir
    redis_url: str | None = None  # L2 in Redis instead of disk


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_steps: int = Field(default=12, ge=1, le=200)
    max_tokens: int = Field(default=200_000, ge=1, description="token budget of one request, all model turns together")
    time_budget_s: float = Field(default=300.0, gt=0, description="wall-clock budget of one request")
    parallel_tool_calls: int = Field(default=8, ge=1, le=64)
    max_tool_result_chars: int = Field(default=20_000, ge=200, description="longer tool results are cut (and say so)")
    fan_out_workers: int = Field(default=4, ge=1, le=64)
    system_prompt: str | None = None


class HostConfig(BaseModel):
    """Everything the host needs: servers, and the host's own sections."""

    model_config = ConfigDict(extra="forbid")

    servers: list[ServerConfig] = Field(default_factory=list)
    llm: dict[str, Any] = Field(default_factory=dict)
    approval: dict[str, Decision] = Field(default_factory=dict)
    cache: CacheConfig = Field(default_factory=lambda: CacheConfig())
    agent: AgentConfig = Field(default_factory=lambda: AgentConfig())
    roots: list[str] = Field(default_factory=list)
    source: str | None = None  # the file this came from, for messages
    defaults: bool = False  # True when these are the built-in K2 servers


# ---------------------------------------------------------------------------------------------------- expansion

_VAR = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

InputAsker = Callable[[dict[str, Any]], str | None]


class Expander:
    """Expands `${...}` in every string of a config, remembering VS Code inputs once asked."""

    def __init__(self, inputs: list[dict[str, Any]], *, env: Mapping[str, str], ask: InputAsker | None, where: str):
        self.inputs = {str(i.get("id")): i for i in inputs if isinstance(i, dict) and i.get("id")}
        self.env = env
        self.ask = ask
        self.where = where
        self.answers: dict[str, str] = {}

    def _one(self, expr: str, path: str) -> str:
        if expr.startswith("input:"):
            return self._input(expr[6:], path)
        if expr.startswith("env:"):
            expr = expr[4:]
        if expr == "workspaceFolder":
            return os.getcwd()
        if expr == "userHome":
            return str(Path.home())
        name, sep, default = expr.partition(":-")
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{self.where}: {path}: cannot expand ${{{expr}}} (expected ${{VAR}} or ${{VAR:-default}})"
            )
        value = self.env.get(name)
        if value:
            return value
        if sep:
            return default
        raise ConfigError(
            f"{self.where}: {path} uses ${{{name}}} but the environment variable {name} is not set; "
            f"set it or write ${{{name}:-default}}"
        )

    def _input(self, ident: str, path: str) -> str:
        if ident in self.answers:
            return self.answers[ident]
        env_name = "K2_INPUT_" + re.sub(r"[^A-Za-z0-9]", "_", ident).upper()
        value = self.env.get(env_name)
        if value is None and self.ask is not None:
            spec = self.inputs.get(ident, {"id": ident, "description": ident})
            value = self.ask(spec)
        if value is None:
            value = self.inputs.get(ident, {}).get("default")
        if value is None:
            raise ConfigError(f"{self.where}: {path} needs the input {ident!r}; run interactively or set {env_name}")
        self.answers[ident] = str(value)
        return str(value)

    def expand(self, value: Any, path: str = "") -> Any:
        if isinstance(value, str):
            return _VAR.sub(lambda m: self._one(m.group(1), path), value)
        if isinstance(value, list):
            return [self.expand(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.expand(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        return value


# ---------------------------------------------------------------------------------------------------- parsing


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


def parse_config(
    data: Any,
    *,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    ask: InputAsker | None = None,
) -> HostConfig:
    """Build a HostConfig from a parsed JSON document in any accepted shape."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a JSON object, got {type(data).__name__}")
    known = {"mcpServers", "servers", "inputs", "llm", "approval", "cache", "agent", "roots"}
    unknown = sorted(set(data) - known - {"$schema"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {unknown}; expected some of {sorted(known)}")
    if "mcpServers" in data and "servers" in data:
        raise ConfigError(f"{source}: has both `mcpServers` and `servers`; keep one")
    raw_servers = data.get("mcpServers", data.get("servers", {}))
    if not isinstance(raw_servers, dict):
        raise ConfigError(f"{source}: the servers must be an object of name -> entry")
    inputs = data.get("inputs", [])
    if not isinstance(inputs, list):
        raise ConfigError(f"{source}: `inputs` must be a list")
    expander = Expander(inputs, env=os.environ if env is None else env, ask=ask, where=source)
    servers: list[ServerConfig] = []
    for name, entry in raw_servers.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ConfigError(f"{source}: server name {name!r}: use letters, digits, '-' and '_' (no dots)")
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: server {name!r} must be an object")
        expanded = infer_transport(expander.expand(entry, name))
        try:
            servers.append(ServerConfig.model_validate({**expanded, "name": name}))
        except ValidationError as exc:
            raise ConfigError(f"{source}: server {name!r}: {_first_error(exc)}") from None
    rest = {k: expander.expand(data[k], k) for k in ("llm", "approval", "cache", "agent", "roots") if k in data}
    try:
        return HostConfig.model_validate({**rest, "servers": servers, "source": source})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    got = err.get("input")
    shown = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
    return f"{loc + ': ' if loc else ''}{err['msg']}{shown}"


def load_config(path: Path, *, env: Mapping[str, str] | None = None, ask: InputAsker | None = None) -> HostConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_config(data, source=str(path), env=env, ask=ask)


# ---------------------------------------------------------------------------------------------------- defaults


def data_dir() -> Path:
    """Where the host keeps its data (DuckDB file, vector store): $XDG_DATA_HOME/k2 or ~/.local/share/k2."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "k2"


def state_dir() -> Path:
    """Where the host keeps state (pins, caches, server logs): $XDG_STATE_HOME/k2 or ~/.local/state/k2."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "k2"


def default_config_path() -> Path | None:
    """`K2_CONFIG`, else ~/.config/k2/mcp.json when it exists."""
    if env := os.environ.get("K2_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidate = Path(base) / "k2" / "mcp.json"
    return candidate if candidate.exists() else None


def default_servers(
    *,
    root: Path,
    allow_write: bool = False,
    database: Path | None = None,
    index: Path | None = None,
    extra_roots: list[Path] | None = None,
) -> HostConfig:
    """The four K2 servers over stdio on safe defaults (what runs with no config file).

    filesystem: `root` (and `extra_roots`), read-only unless `allow_write`, secrets denied; database: a DuckDB
    file under the data dir (created empty), read-only unless `allow_write`; websearch: the local BM25 backend;
    codeexec: the bubblewrap sandbox, no network.
    """
    py = sys.executable
    roots = [str(root.resolve()), *(str(p.resolve()) for p in extra_roots or [])]
    fs_args = ["-m", "k2_filesystem"]
    for r in roots:
        fs_args += ["--root", r]
    for pattern in (".git", ".env", ".env.*", "*.pem", "*.key", "id_rsa*", ".ssh"):
        fs_args += ["--deny", pattern]
    if not allow_write:
        fs_args.append("--read-only")
    db = database or data_dir() / "k2.duckdb"
    db_args = ["-m", "k2_database", "--db", str(db)]
    if allow_write:
        db_args.append("--allow-write")
    web_args = ["-m", "k2_websearch", "--backend", "local", "--index", str(index or data_dir() / "web-index")]
    quiet = {"K2_FS_LOG_LEVEL": "WARNING", "K2_DB_LOG_LEVEL": "WARNING", "K2_WEB_LOG_LEVEL": "WARNING"}
    servers = [
        ServerConfig(name="filesystem", command=py, args=fs_args, env=quiet, cache_ttl_s=30.0),
        ServerConfig(name="database", command=py, args=db_args, env=quiet),
        ServerConfig(name="websearch", command=py, args=web_args, env=quiet),
        ServerConfig(
            name="codeexec",
            command=py,
            args=["-m", "k2_codeexec"],
            env={"K2_CODEEXEC_LOG_LEVEL": "WARNING"},
            timeout_s=120.0,
        ),
    ]
    return HostConfig(servers=servers, roots=roots, source="<built-in defaults>", defaults=True)


def ensure_database_file(path: Path) -> None:
    """Create an empty DuckDB file so the read-only database server can open it."""
    if path.exists():
        return
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
