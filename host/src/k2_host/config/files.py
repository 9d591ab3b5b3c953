"""Reading a configuration file: the MCP client formats users already have, plus the host's own sections.

Accepted files (JSON):
- `{"mcpServers": {name: entry}}` — Claude Desktop, Claude Code (`.mcp.json`), Cursor (`.cursor/mcp.json`);
- `{"servers": {name: entry}, "inputs": [...]}` — VS Code (`.vscode/mcp.json`).

An entry has `command`/`args`/`env`/`cwd` (stdio) or `url`/`headers` (Streamable HTTP, or legacy SSE when
`type` is "sse" or the URL path ends in `/sse`). Strings expand `${VAR}`, `${VAR:-default}`, `${env:VAR}`,
`${input:ID}` (VS Code inputs: asked in interactive runs, else read from `K2_INPUT_<ID>`), `${workspaceFolder}`,
`${userHome}`, and the host's own `${k2:python}` (the host's interpreter), `${k2:data_dir}`, `${k2:state_dir}`.
K2's own keys, all optional, may sit beside the standard ones in an entry (`timeout_s`, `allow_tools`,
`deny_tools`, `instances`, `replicas`, `rate_per_s`, `sampling`, ...; see `ServerConfig`), and the host's
sections at the top level (`llm`, `rag`, `approval`, `cache`, `agent`, `context`, `learning`, `skills`, `api`,
`roots`; see `HostConfig`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from k2_host.config.model import HostConfig
from k2_host.config.servers import ServerConfig, infer_transport
from k2_host.errors import ConfigError
from k2_host.paths import data_dir, state_dir

SECTION_KEYS = ("llm", "rag", "approval", "cache", "agent", "context", "learning", "skills", "api", "roots")


def k2_variables() -> dict[str, str]:
    """What `${k2:NAME}` expands to."""
    return {"python": sys.executable, "data_dir": str(data_dir()), "state_dir": str(state_dir())}


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
        if expr.startswith("k2:"):
            return self._k2(expr[3:], path)
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

    def _k2(self, name: str, path: str) -> str:
        value = k2_variables().get(name)
        if value is None:
            known = ", ".join(f"${{k2:{k}}}" for k in k2_variables())
            raise ConfigError(f"{self.where}: {path}: unknown ${{k2:{name}}}; known: {known}")
        return value

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
    known = {"mcpServers", "servers", "inputs", *SECTION_KEYS}
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
    rest = {k: expander.expand(data[k], k) for k in SECTION_KEYS if k in data}
    try:
        # A file without a servers section (only `llm`, say) runs the built-in servers: `defaults` says so.
        defaults = "mcpServers" not in data and "servers" not in data
        return HostConfig.model_validate({**rest, "servers": servers, "source": source, "defaults": defaults})
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


def terminal_input(spec: dict[str, Any]) -> str | None:
    """A VS Code `${input:ID}` asked at the terminal (hidden when it is a password); None without a terminal."""
    import getpass

    if not sys.stdin.isatty():
        return None
    prompt = f"{spec.get('description') or spec.get('id')}: "
    return getpass.getpass(prompt) if spec.get("password") else input(prompt)
