"""A tidy module: no findings expected."""

from __future__ import annotations

from pathlib import Path


def read_lines(path: str | Path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()
