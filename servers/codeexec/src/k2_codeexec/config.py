"""Settings of the code execution server: `K2_CODEEXEC_*` environment variables, overridden by flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from k2_shared.settings import ServerSettings, add_common_arguments, load_settings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict


class CodeExecSettings(ServerSettings):
    """Every field is read from `K2_CODEEXEC_<FIELD>` (e.g. `K2_CODEEXEC_TIMEOUT_S=10`)."""

    model_config = SettingsConfigDict(
        env_prefix="K2_CODEEXEC_", extra="forbid", env_ignore_empty=True, validate_default=True
    )

    workspace: Path | None = Field(None, description="server-owned directory holding one workspace per sandbox")
    timeout_s: float = Field(30.0, gt=0, le=3600, description="default and largest wall-clock limit of one call")
    memory_mb: int = Field(1024, ge=64, le=65536, description="address-space limit of each sandboxed process")
    allow_network: bool = Field(False, description="give sandboxes the host network (off: no network at all)")
    unsafe_no_sandbox: bool = Field(False, description="run code without bubblewrap (only resource limits apply)")
    max_sessions: int = Field(8, ge=1, le=256, description="most live sessions")
    session_idle_s: float = Field(900.0, ge=1, le=86400, description="a session unused this long is closed")
    max_concurrent: int = Field(4, ge=1, le=64, description="most executions running at once")
    warm_pool: int = Field(2, ge=0, le=32, description="sandboxes kept started for the next call")
    max_output_bytes: int = Field(100_000, ge=1024, le=16 * 1024 * 1024, description="stdout/stderr cap per call")
    max_file_mb: int = Field(64, ge=1, le=65536, description="largest file the code may write")
    max_processes: int = Field(128, ge=8, le=4096, description="most processes (and threads) in one sandbox")
    max_open_files: int = Field(256, ge=32, le=65536, description="most open files per process")
    tmp_size_mb: int = Field(64, ge=1, le=65536, description="size of the sandbox's private /tmp")
    packages: Path | None = Field(
        None,
        description="the only third-party packages sandboxed code may import: a virtual environment, or a "
        "site-packages / `pip install --target` directory, mounted read-only (none: the standard library only)",
    )

    @field_validator("workspace")
    @classmethod
    def _workspace(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        real = value.expanduser().resolve()
        if real.exists() and not real.is_dir():
            raise ValueError(f"{str(value)!r} is not a directory")
        return real

    @field_validator("packages")
    @classmethod
    def _packages(cls, value: Path | None) -> Path | None:
        return None if value is None else site_packages(value)


def site_packages(path: Path) -> Path:
    """The directory `packages` names, as the site-packages directory to mount: a virtual environment's own
    (it must be one for this server's Python version), or the directory itself."""
    real = path.expanduser().resolve()
    if not real.is_dir():
        raise ValueError(f"{str(path)!r} is not a directory")
    if (real / "pyvenv.cfg").is_file():
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site = real / "lib" / version / "site-packages"
        if not site.is_dir():
            raise ValueError(
                f"{str(path)!r} is a virtual environment without lib/{version}/site-packages: create it with "
                f"this server's Python {sys.version_info.major}.{sys.version_info.minor}"
            )
        return site.resolve()
    return real


def parse_args(argv: Sequence[str] | None = None) -> CodeExecSettings:
    parser = argparse.ArgumentParser(
        prog="k2-codeexec",
        description="MCP server that runs Python and shell code in a bubblewrap sandbox, with sessions.",
    )
    g = parser.add_argument_group("execution")
    g.add_argument("--workspace", dest="workspace", metavar="DIR", help="server-owned directory for workspaces")
    g.add_argument("--timeout", "--timeout-s", dest="timeout_s", metavar="S", help="time limit per call (seconds)")
    g.add_argument("--memory", "--memory-mb", dest="memory_mb", metavar="MB", help="address space per process")
    g.add_argument("--allow-network", dest="allow_network", action="store_const", const=True, help="network on")
    g.add_argument(
        "--unsafe-no-sandbox",
        dest="unsafe_no_sandbox",
        action="store_const",
        const=True,
        help="run code without bubblewrap if it cannot start (only resource limits apply)",
    )
    g.add_argument(
        "--packages",
        dest="packages",
        metavar="DIR",
        help="packages sandboxed code may import: a venv or a site-packages dir (default: the stdlib only)",
    )
    g.add_argument("--max-sessions", dest="max_sessions", help="most live sessions (default 8)")
    g.add_argument("--max-concurrent", dest="max_concurrent", help="most executions at once (default 4)")
    g.add_argument("--warm-pool", dest="warm_pool", help="sandboxes kept started (default 2)")
    add_common_arguments(parser)
    return load_settings(CodeExecSettings, argv, parser)
