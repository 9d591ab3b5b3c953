"""DuckDB values as JSON: every Python value the DuckDB client returns, mapped to what JSON can carry.

| DuckDB                         | JSON                                                        |
|--------------------------------|-------------------------------------------------------------|
| NULL, BOOLEAN, integers        | null, true/false, numbers (HUGEINT too: JSON has no limit)  |
| DOUBLE/FLOAT                   | numbers; NaN and ±Infinity as the strings "NaN", "Infinity" |
| DECIMAL                        | a string, exact ("12.50")                                   |
| VARCHAR, ENUM, BIT             | strings, cut to `max_chars` (a "…" marks the cut)           |
| BLOB                           | base64 text                                                 |
| DATE, TIME, TIMESTAMP[TZ]      | ISO 8601 text                                               |
| INTERVAL                       | text as Python writes a timedelta ("90 days, 0:00:00")      |
| UUID                           | text                                                        |
| LIST, ARRAY                    | arrays                                                      |
| STRUCT, MAP                    | objects (MAP keys become strings)                           |
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ELLIPSIS = "…"
_PLAIN = frozenset(
    [
        "BOOLEAN",
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    ]
)


def _number(v: Any) -> Any:
    return v if math.isfinite(v) else ("NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity")


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.datetime | dt.date | dt.time) else str(v)


@dataclass
class Converter:
    """Converts rows for one result page and counts the values it had to cut."""

    max_chars: int
    values_cut: int = 0

    def rows_for(self, types: list[str]) -> Callable[[list[tuple[Any, ...]]], list[list[Any]]]:
        """A converter of whole batches for columns of these DuckDB types: plain numbers pass untouched, the
        others get the conversion of their type (the generic `value` for nested and unusual types)."""
        fns = [self._for_type(t) for t in types]
        if all(f is None for f in fns):
            return lambda batch: [list(r) for r in batch]
        pairs = list(enumerate(fns))

        def convert(batch: list[tuple[Any, ...]]) -> list[list[Any]]:
            out = []
            for raw in batch:
                row = list(raw)
                for i, f in pairs:
                    v = row[i]
                    if f is not None and v is not None:
                        row[i] = f(v)
                out.append(row)
            return out

        return convert

    def _for_type(self, t: str) -> Callable[[Any], Any] | None:
        if t in _PLAIN:
            return None
        if t == "VARCHAR":
            return self._text
        if t in ("DOUBLE", "FLOAT"):
            return _number
        if t.startswith("DECIMAL"):
            return str
        if t == "DATE" or t.startswith(("TIMESTAMP", "TIME")):
            return _iso
        return self.value

    def value(self, v: Any) -> Any:
        if v is None or isinstance(v, bool | int):
            return v
        if isinstance(v, float):
            if math.isnan(v):
                return "NaN"
            if math.isinf(v):
                return "Infinity" if v > 0 else "-Infinity"
            return v
        if isinstance(v, str):
            return self._text(v)
        if isinstance(v, decimal.Decimal):
            return str(v)
        if isinstance(v, bytes | bytearray | memoryview):
            raw = bytes(v)
            limit = self.max_chars * 3 // 4
            if len(raw) > limit:
                self.values_cut += 1
                return base64.b64encode(raw[:limit]).decode("ascii") + ELLIPSIS
            return base64.b64encode(raw).decode("ascii")
        if isinstance(v, dt.datetime | dt.date | dt.time):
            return v.isoformat()
        if isinstance(v, dt.timedelta | uuid.UUID):
            return str(v)
        if isinstance(v, list | tuple):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k if isinstance(k, str) else json.dumps(self.value(k)): self.value(x) for k, x in v.items()}
        return self._text(str(v))

    def _text(self, s: str) -> str:
        if len(s) > self.max_chars:
            self.values_cut += 1
            return s[: self.max_chars] + ELLIPSIS
        return s


def json_size(value: Any) -> int:
    """Bytes the value takes in the JSON result (UTF-8, compact separators)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
