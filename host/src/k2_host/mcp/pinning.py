"""Pinned tool definitions: a server that changes a tool after it was trusted is reported, and that tool is
blocked until someone accepts the new definition (a defence against "rug pull" tool poisoning).

* `fingerprint(tool)` — sha256 of the canonical JSON (sorted keys, no whitespace) of the parts of an MCP
  wire `Tool` dict that steer the model or the approval policy: `name`, `title`, `description`,
  `inputSchema`, `outputSchema`, `annotations`. A missing key and `null` are the same.
* `ToolPins` — `{server: {tool: fingerprint}}`, in memory or in a JSON file written atomically (temp file in
  the same directory, fsync, `os.replace`, mode 0600). First sight of a tool pins it (trust on first use).
  A pin stays when its tool disappears (it is listed in `removed`), so a tool that comes back changed is
  still caught. A pin file that cannot be read or parsed raises `PinFileError` rather than starting over:
  starting over would silently re-trust every tool, so corrupting the file would undo the pins. Delete the
  file on purpose to re-pin everything.

The blocked state lives in memory; after a restart the next `check` finds the change again from the file.
Several processes sharing one pin file: the last one to save wins.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINGERPRINTED_KEYS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


class PinFileError(ValueError):
    """The pin file exists but cannot be read or is not `{server: {tool: fingerprint}}`."""


def fingerprint(tool: dict[str, Any]) -> str:
    """sha256 (hex) of a tool's definition as it reaches the model."""
    picked = {key: tool.get(key) for key in FINGERPRINTED_KEYS}
    data = json.dumps(picked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass(frozen=True)
class PinChange:
    tool: str
    old: str  # the pinned fingerprint
    new: str  # the fingerprint the server offers now


@dataclass
class PinReport:
    """What one `check` of a server's tool list found (tool names are bare, not namespaced)."""

    server: str
    new: list[str] = field(default_factory=list)  # first sight: pinned now
    changed: list[PinChange] = field(default_factory=list)  # blocked until accepted
    removed: list[str] = field(default_factory=list)  # pinned, no longer listed
    ok: list[str] = field(default_factory=list)  # as pinned


class ToolPins:
    """The pins of every server; `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._pins: dict[str, dict[str, str]] = self._load(path) if path is not None else {}
        self._pending: dict[tuple[str, str], str] = {}  # (server, tool) -> offered fingerprint

    def check(self, server: str, tools: list[dict[str, Any]]) -> PinReport:
        """Compare a server's tool list with its pins; pin what is new; block what changed."""
        report = PinReport(server)
        pins = self._pins.setdefault(server, {})
        seen: set[str] = set()
        dirty = False
        for tool in tools:
            name = tool.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"a tool of server {server!r} has no name: {tool!r:.200}")
            seen.add(name)
            offered = fingerprint(tool)
            pinned = pins.get(name)
            if pinned is None:
                pins[name] = offered
                dirty = True
                report.new.append(name)
            elif pinned == offered:
                self._pending.pop((server, name), None)
                report.ok.append(name)
            else:
                self._pending[(server, name)] = offered
                report.changed.append(PinChange(name, pinned, offered))
        report.removed = sorted(set(pins) - seen)
        for name in report.removed:
            self._pending.pop((server, name), None)
        if dirty:
            self._save()
        return report

    def is_blocked(self, server: str, tool: str) -> bool:
        """True while the tool's current definition differs from its pin and has not been accepted."""
        return (server, tool) in self._pending

    def blocked(self) -> list[PinChange]:
        """Every blocked tool, as `PinChange`s with `tool` namespaced `server.tool`."""
        return [
            PinChange(f"{server}.{tool}", self._pins[server][tool], new)
            for (server, tool), new in sorted(self._pending.items())
        ]

    def accept(self, server: str, tool: str) -> str:
        """Pin the definition last offered for a blocked tool, save, unblock; returns its fingerprint."""
        try:
            new = self._pending.pop((server, tool))
        except KeyError:
            raise KeyError(f"no changed definition of {server}.{tool} is waiting to be accepted") from None
        self._pins.setdefault(server, {})[tool] = new
        self._save()
        return new

    def pinned(self, server: str) -> dict[str, str]:
        """A copy of one server's pins, tool → fingerprint."""
        return dict(self._pins.get(server, {}))

    @staticmethod
    def _load(path: Path) -> dict[str, dict[str, str]]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise PinFileError(f"cannot read the tool pin file {str(path)!r}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PinFileError(
                f"the tool pin file {str(path)!r} is not valid JSON ({exc}); fix it, or delete it to pin every "
                "tool afresh"
            ) from exc
        if not isinstance(data, dict) or not all(
            isinstance(server, str)
            and isinstance(tools, dict)
            and all(isinstance(t, str) and isinstance(fp, str) for t, fp in tools.items())
            for server, tools in data.items()
        ):
            raise PinFileError(
                f"the tool pin file {str(path)!r} is not {{server: {{tool: fingerprint}}}}; fix it, or delete it "
                "to pin every tool afresh"
            )
        return data

    def _save(self) -> None:
        if self.path is None:
            return
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._pins, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
