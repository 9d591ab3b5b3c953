"""Tool names and arguments as they cross the wire.

Names: a reversible mapping between K2 tool names and the names a provider accepts.

K2 tools are namespaced with a dot (`filesystem.read_file`), but OpenAI and Anthropic accept only
`^[a-zA-Z0-9_-]{1,64}$`. `wire_name` is deterministic: each dot becomes `__`. A name that this would not
round-trip exactly (one that already holds `__`, a character outside the set, more than 64 characters) is
made safe and given a short digest of the original, so two different names never meet on the wire.
`ToolNames` remembers the names offered in one request and maps the model's answer back exactly; a name it
has not seen is decoded by undoing the dot rule.

Arguments: models send them as JSON text (OpenAI) or an object (Anthropic); `parse_arguments` keeps text
that is not a JSON object as `raw_arguments` so the agent loop can send an error turn back.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

MAX_LEN = 64
_ALLOWED = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def wire_name(name: str) -> str:
    """The provider-safe form of `name` (unchanged when it is already safe and has no dot)."""
    dotted = name.replace(".", "__")
    if _ALLOWED.match(dotted) and unwire_name(dotted) == name:
        return dotted
    safe = _INVALID.sub("_", dotted)
    # Lossy or too long: keep a readable prefix and make it unique with a digest of the original.
    return f"{safe[: MAX_LEN - 9]}_{_digest(name)}" if safe else f"tool_{_digest(name)}"


def unwire_name(wire: str) -> str:
    """Best-effort inverse of `wire_name` for a name not offered in this request."""
    return wire.replace("__", ".")


class ToolNames:
    """The names offered in one request, for mapping the model's tool calls back."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._back: dict[str, str] = {}
        for name in names:
            self._back.setdefault(wire_name(name), name)

    def to_wire(self, name: str) -> str:
        return wire_name(name)

    def from_wire(self, wire: str) -> str:
        return self._back[wire] if wire in self._back else unwire_name(wire)


def parse_arguments(raw: object) -> tuple[dict[str, Any], str | None]:
    """`(arguments, raw_arguments)`: the object, or `({}, text)` when `raw` is not a JSON object."""
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}, None  # pyright: ignore[reportUnknownVariableType]
    if raw is None:
        return {}, None
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError:
        return {}, text
    return (value, None) if isinstance(value, dict) else ({}, text)
