"""Settings of the filesystem server: `K2_FS_*` environment variables, overridden by flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from k2_shared.settings import CommaList, PathList, ServerSettings, add_common_arguments, load_settings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

MiB = 1024 * 1024


class FilesystemSettings(ServerSettings):
    """Every field is read from `K2_FS_<FIELD>` (e.g. `K2_FS_ROOTS=/a:/b`, `K2_FS_READ_ONLY=true`)."""

    model_config = SettingsConfigDict(env_prefix="K2_FS_", extra="forbid", env_ignore_empty=True, validate_default=True)

    roots: PathList = Field(min_length=1, description="allowed directories (K2_FS_ROOTS, separated by ':')")
    read_only: bool = Field(False, description="serve only the reading tools")
    allow_delete: bool = Field(False, description="offer delete_file (off by default)")
    deny: CommaList = Field(default_factory=list, description="glob patterns refused inside the roots, e.g. .git,.env")
    max_read_bytes: int = Field(16 * MiB, ge=1024, le=1024 * MiB, description="largest file read whole")
    max_output_chars: int = Field(200_000, ge=1000, le=10_000_000, description="most text characters per result")
    max_media_bytes: int = Field(10 * MiB, ge=1024, le=100 * MiB, description="largest image/blob returned")
    max_write_bytes: int = Field(16 * MiB, ge=1024, le=1024 * MiB, description="largest content written or edited")
    max_walk_entries: int = Field(100_000, ge=100, le=10_000_000, description="most entries a walk looks at")
    walk_timeout_s: float = Field(20.0, gt=0, le=600, description="time limit of grep, search and tree walks")

    @field_validator("roots")
    @classmethod
    def _roots_exist(cls, roots: list) -> list:
        for root in roots:
            if not root.expanduser().is_dir():
                raise ValueError(f"{str(root)!r} is not an existing directory")
        return roots


def parse_args(argv: Sequence[str] | None = None) -> FilesystemSettings:
    parser = argparse.ArgumentParser(
        prog="k2-filesystem",
        description="MCP server giving safe access to files under the allowed root directories.",
    )
    g = parser.add_argument_group("filesystem")
    g.add_argument("--root", dest="roots", action="append", help="allowed directory (repeat for more)")
    g.add_argument("--read-only", dest="read_only", action="store_const", const=True, help="no writing tools")
    g.add_argument("--allow-delete", dest="allow_delete", action="store_const", const=True, help="offer delete_file")
    g.add_argument("--deny", dest="deny", action="append", help="glob refused inside the roots (repeat)")
    g.add_argument("--max-read-bytes", dest="max_read_bytes", help="largest file read whole (bytes)")
    g.add_argument("--max-output-chars", dest="max_output_chars", help="most characters returned per read")
    g.add_argument("--max-write-bytes", dest="max_write_bytes", help="largest content written (bytes)")
    g.add_argument("roots_positional", nargs="*", metavar="ROOT", help="allowed directories, as the reference server")
    add_common_arguments(parser)
    return load_settings(FilesystemSettings, argv, parser, adjust=_fold_positional_roots)


def _fold_positional_roots(args: dict[str, Any]) -> None:
    """`k2-filesystem DIR...` works like the reference server: positional directories are roots."""
    positional = args.pop("roots_positional", None) or []
    if positional:
        args["roots"] = (args.get("roots") or []) + positional
