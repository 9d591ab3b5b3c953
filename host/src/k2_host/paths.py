"""Where the host keeps things, by platformdirs (on Linux: the XDG base directories).

    data   <data dir>/k2    ~/.local/share/k2    DuckDB file, web index, vector store
    state  <state dir>/k2   ~/.local/state/k2    pins, result cache, server logs, sessions, trajectories
    config <config dir>/k2  ~/.config/k2         mcp.json
    cache  <cache dir>/k2   ~/.cache/k2          embeddings

Read when called, never at import, so a test or a caller that changes `XDG_*` is seen.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "k2"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP, appauthor=False)


def state_dir() -> Path:
    return platformdirs.user_state_path(APP, appauthor=False)


def config_dir() -> Path:
    return platformdirs.user_config_path(APP, appauthor=False)


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP, appauthor=False)
