"""The host's configuration: one typed `HostConfig`, built by `load_host_config` in one documented order.

    1. defaults (the models in `k2_host.config.model`; the built-in servers from `builtin_servers.json`)
    2. the config file: `--config FILE`, else `K2_CONFIG`, else `<config dir>/k2/mcp.json` when it exists
       (any MCP client's format; a file without a servers section runs the built-in servers)
    3. the environment: `K2_<SECTION>_<KEY>` (`K2_LLM_MODEL`, `K2_RAG_STORE`, `K2_AGENT_MAX_STEPS`, ...)
    4. the command line: `--set section.key=value`, `--root`, `--allow-write`, `--state-dir`

Paths come from platformdirs (`k2_host.paths`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from k2_host.config.builtin import builtin_servers, default_servers
from k2_host.config.files import InputAsker, load_config, parse_config
from k2_host.config.layers import Overrides, apply_layers, overrides_from_assignments
from k2_host.config.model import (
    HOST_ENV_PREFIXES,
    SECTIONS,
    AgentConfig,
    ApiConfig,
    CacheConfig,
    ContextConfig,
    HostConfig,
    LearningConfig,
    SkillsConfig,
    TelemetryConfig,
)
from k2_host.config.servers import Decision, ServerConfig, TransportKind, infer_transport
from k2_host.errors import ConfigError
from k2_host.paths import config_dir, data_dir, state_dir

__all__ = [
    "HOST_ENV_PREFIXES",
    "SECTIONS",
    "AgentConfig",
    "ApiConfig",
    "CacheConfig",
    "ConfigError",
    "ContextConfig",
    "Decision",
    "HostConfig",
    "LearningConfig",
    "ServerConfig",
    "SkillsConfig",
    "TelemetryConfig",
    "TransportKind",
    "apply_layers",
    "builtin_servers",
    "data_dir",
    "default_config_path",
    "default_servers",
    "infer_transport",
    "load_config",
    "load_host_config",
    "overrides_from_assignments",
    "parse_config",
    "state_dir",
]


def default_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """`K2_CONFIG`, else <config dir>/k2/mcp.json when it exists."""
    env = os.environ if env is None else env
    if value := env.get("K2_CONFIG"):
        return Path(value)
    candidate = config_dir() / "mcp.json"
    return candidate if candidate.exists() else None


def load_host_config(
    path: str | Path | None = None,
    *,
    root: str | Path | None = None,
    allow_write: bool = False,
    extra_roots: Sequence[Path] = (),
    state: str | Path | None = None,
    overrides: Overrides | None = None,
    env: Mapping[str, str] | None = None,
    ask: InputAsker | None = None,
) -> HostConfig:
    """The host's configuration for one process (see the module docstring for the order).

    `root` (default: the current directory) is the filesystem root of the built-in servers and the root the
    servers are told about when the file names none; `state` the state dir (default: platformdirs')."""
    env = os.environ if env is None else env
    chosen = Path(path) if path is not None else default_config_path(env)
    base = Path(root or Path.cwd()).resolve()
    roots = [base, *(Path(p).resolve() for p in extra_roots)]
    if chosen is None:
        config = default_servers(root=base, allow_write=allow_write, extra_roots=extra_roots)
    else:
        config = load_config(chosen, env=env, ask=ask)
        if config.defaults:
            config.servers = builtin_servers(roots=roots, allow_write=allow_write)
        if not config.roots:
            config.roots = [str(r) for r in roots]
    state_path = Path(state) if state is not None else Path(env["K2_STATE_DIR"]) if env.get("K2_STATE_DIR") else None
    config.state_dir = (state_path or state_dir()).expanduser()
    return apply_layers(config, env=env, overrides=overrides)
