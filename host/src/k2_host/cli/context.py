"""What every `k2` command gets besides its arguments: the way to build the host from the global flags.

No module globals: `main` makes one `CliContext` from the parsed arguments and hands it to the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from k2_host.api.metrics import ApiMetrics
from k2_host.cli import prompts
from k2_host.config import HostConfig, apply_layers, load_host_config, overrides_from_assignments
from k2_host.config.files import terminal_input
from k2_host.errors import ConfigError
from k2_host.mcp.types import ToolCaller
from k2_host.rag.settings import RAGConfig
from k2_host.runtime import Runtime, build_runtime


class CliContext:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._overrides = overrides_from_assignments(getattr(args, "set", None) or [])
        self._metrics_served = False

    @property
    def interactive(self) -> bool:
        a = self.args
        return bool(a.yes) or (sys.stdin.isatty() and not a.non_interactive and not getattr(a, "json", False))

    def config(self, *, extra_roots: Sequence[Path] = ()) -> HostConfig:
        a = self.args
        return load_host_config(
            a.config,
            root=a.root,
            allow_write=a.allow_write,
            extra_roots=extra_roots,
            state=a.state_dir,
            overrides=self._overrides,
            ask=terminal_input if self.interactive else None,
        )

    def runtime(self, *, extra_roots: Sequence[Path] = (), **options: Any) -> Runtime:
        port = getattr(self.args, "metrics_port", None)
        if port is not None and not 0 <= port <= 65535:
            raise ConfigError(f"--metrics-port {port}: a port is 0-65535 (0: any free port)")
        approve = prompts.approve_all if self.args.yes else prompts.ask_approval if self.interactive else None
        rt = build_runtime(
            self.config(extra_roots=extra_roots),
            interactive=self.interactive,
            ask_approval=approve,
            elicit=prompts.elicit if self.interactive and not self.args.yes else None,
            **options,
        )
        if port is not None and not self._metrics_served:  # the first runtime of the command is the one scraped
            metrics = ApiMetrics.for_runtime(rt)
            try:
                bound = metrics.serve(port)
            except OSError as exc:
                raise ConfigError(
                    f"--metrics-port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})"
                ) from None
            rt.use(metrics)
            self._metrics_served = True
            print(f"k2: metrics at http://127.0.0.1:{bound}/metrics", file=sys.stderr)
        return rt

    @asynccontextmanager
    async def open_tools(self, fs_roots: list[Path] | None = None) -> AsyncIterator[ToolCaller]:
        """The host's client manager over the configured servers (the RAG commands read through it)."""
        async with self.runtime(extra_roots=fs_roots or [], use_knowledge=False) as rt:
            yield rt.manager

    def rag_settings(self, **flags: Any) -> RAGConfig:
        """The `rag` section (file < environment < --set), then the command's own flags."""
        config = self.config()
        given = {k: v for k, v in flags.items() if v is not None}
        if not given:
            return config.rag
        return apply_layers(config, env={}, overrides={"rag": given}).rag
