"""Payload filters: one neutral form, parsed from a mapping (Python API) or `key=value` strings (CLI).

    {"type": "pdf"}                                  the field equals the value (for a list field: contains it)
    {"tags": ["a", "b"]}                             any of the values
    {"modified": {"gte": "2024-01-01"}}              a range; dates (ISO 8601) on modified/ingested
    {"chunk_index": {"lt": 3}}                       numbers on any numeric field
    {"under": "/home/me/notes"}                      the document sits below that folder

Each backend translates the neutral conditions into its own filter (Qdrant `Filter`, Chroma `where`, or a
Python predicate for the in-memory store); all conditions must hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from k2_host.rag.errors import QueryError

Scalar = str | int | bool
DATE_FIELDS = {"modified", "ingested"}
LIST_FIELDS = {"tags", "dirs", "heading_path"}
INT_FIELDS = {"chunk_index", "chunk_count", "page", "row"}
RANGE_OPS = ("gte", "gt", "lte", "lt")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")


@dataclass(frozen=True)
class Match:
    key: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    key: str
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None

    def test(self, value: float) -> bool:
        return (
            (self.gte is None or value >= self.gte)
            and (self.gt is None or value > self.gt)
            and (self.lte is None or value <= self.lte)
            and (self.lt is None or value < self.lt)
        )


Condition = Match | Range


def to_epoch(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise QueryError(f"filter {key!r}: {value!r} is not a number or date")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        try:
            return to_epoch(datetime.fromisoformat(value.replace("Z", "+00:00")), key)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            raise QueryError(f"filter {key!r}: {value!r} is not a number or an ISO 8601 date") from None
    raise QueryError(f"filter {key!r}: {value!r} is not a number or date")


def _scalar(value: Any, key: str) -> Scalar:
    if isinstance(value, str | int | bool):
        return value
    raise QueryError(f"filter {key!r}: {value!r} must be a string, integer or boolean (or a list of them)")


def parse_filters(filters: Mapping[str, Any] | None) -> list[Condition]:
    """The neutral conditions of a filter mapping; a bad key or value raises QueryError."""
    conds: list[Condition] = []
    for key, value in (filters or {}).items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise QueryError(f"bad filter key {key!r}: use a payload field name such as 'type' or 'tags'")
        if key == "under":
            conds.append(Match("dirs", (str(value).rstrip("/") or "/",)))
        elif isinstance(value, Mapping):
            unknown = set(value) - set(RANGE_OPS)
            if unknown or not value:
                raise QueryError(f"filter {key!r}: range operators are {', '.join(RANGE_OPS)}, got {sorted(unknown)!r}")
            field = f"{key}_ts" if key in DATE_FIELDS else key
            conds.append(Range(field, **{op: to_epoch(v, key) for op, v in value.items()}))
        elif isinstance(value, list | tuple | set | frozenset):
            if not value:
                raise QueryError(f"filter {key!r}: an empty list matches nothing; leave the key out instead")
            conds.append(Match(key, tuple(_scalar(v, key) for v in value)))
        else:
            conds.append(Match(key, (_scalar(value, key),)))
    return conds


_CLI = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<|=)\s*(.*)$")
_CLI_OPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


def parse_cli_filters(items: Sequence[str]) -> dict[str, Any]:
    """`key=value` (repeat a key for any-of; `a,b` too), `key>=value`, `key<value`... into a filter mapping."""
    out: dict[str, Any] = {}
    for item in items:
        m = _CLI.match(item.strip())
        if not m:
            raise QueryError(f"bad --filter {item!r}: write key=value, key>=value or key<value")
        key, op, raw = m.groups()
        if op == "=":
            values: list[Scalar] = [_cli_value(key, v) for v in raw.split(",") if v != ""]
            prev = out.get(key)
            merged = (prev if isinstance(prev, list) else [prev] if prev is not None else []) + values
            out[key] = merged[0] if len(merged) == 1 else merged
        else:
            rng = out.setdefault(key, {})
            if not isinstance(rng, dict):
                raise QueryError(f"--filter {key!r} mixes = with a range")
            rng[_CLI_OPS[op]] = raw
    return out


def _cli_value(key: str, raw: str) -> Scalar:
    if key in INT_FIELDS and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if raw in ("true", "false"):
        return raw == "true"
    return raw


def matches(conds: Sequence[Condition], payload: Mapping[str, Any]) -> bool:
    """Whether a payload satisfies every condition (the in-process reference semantics)."""
    for c in conds:
        value = payload.get(c.key)
        if isinstance(c, Range):
            if isinstance(value, bool) or not isinstance(value, int | float) or not c.test(float(value)):
                return False
        else:
            have = value if isinstance(value, list) else [value]
            if not any(_same(h, v) for h in have for v in c.values):
                return False
    return True


def _same(have: Any, want: Scalar) -> bool:
    return type(have) is type(want) and have == want


def predicate(conds: Sequence[Condition]) -> Callable[[Mapping[str, Any]], bool]:
    return lambda payload: matches(conds, payload)
