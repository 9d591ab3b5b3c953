"""The built-in servers: the four K2 servers over stdio on safe defaults, from `builtin_servers.json`.

filesystem: the roots, read-only unless `allow_write`, secrets denied (`.git`, `.env*`, keys); database: a DuckDB
file under the data dir (`--create` makes it, empty, the first time), read-only unless `allow_write`; websearch:
the local BM25 backend; codeexec: the bubblewrap sandbox, no network. The servers are separate packages: the
host starts them with its own interpreter (`python -P -m k2_<name>`) and never imports them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from k2_host.config.files import parse_config
from k2_host.config.model import HostConfig
from k2_host.config.servers import ServerConfig

BUILTIN_FILE = "builtin_servers.json"


def builtin_document() -> dict[str, Any]:
    """The packaged `mcpServers` document, as shipped (before expansion)."""
    text = resources.files("k2_host.config").joinpath(BUILTIN_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def builtin_servers(*, roots: Sequence[Path], allow_write: bool = False) -> list[ServerConfig]:
    """The built-in servers for these filesystem roots (absolute paths) and mode."""
    document = builtin_document()
    extras: dict[str, dict[str, Any]] = {}
    for name, entry in document["mcpServers"].items():
        extras[name] = entry.pop("k2", {})
    parsed = parse_config({"mcpServers": document["mcpServers"]}, source="<built-in servers>", env={})
    out: list[ServerConfig] = []
    for server in parsed.servers:
        extra = extras.get(server.name, {})
        args = list(server.args)
        for root in roots:
            args += [part.replace("{root}", str(root)) for part in extra.get("each_root", [])]
        args += extra.get("writable", []) if allow_write else extra.get("read_only", [])
        out.append(server.model_copy(update={"args": args}))
    return out


def default_servers(*, root: Path, allow_write: bool = False, extra_roots: Sequence[Path] = ()) -> HostConfig:
    """A HostConfig of the built-in servers on `root` (and `extra_roots`), as runs with no config file."""
    roots = [Path(root).resolve(), *(Path(p).resolve() for p in extra_roots)]
    servers = builtin_servers(roots=roots, allow_write=allow_write)
    return HostConfig(servers=servers, roots=[str(r) for r in roots], source="<built-in defaults>", defaults=True)
