"""Paging cursors: signed tokens that carry the query, its parameters and where the next page starts.

The server keeps no result cache. A cursor is `base64url(mac || zlib(json))` where the JSON holds the SQL,
the parameters, the offset of the next row and when the cursor was made, and `mac` is HMAC-SHA256 under a
key drawn at random when the server starts. A client can read a cursor but cannot forge or alter one: a
changed byte, a cursor from another server process or an expired one is refused. The next page runs the
query again and skips the rows already returned, so pages line up only when the query has an ORDER BY (and
the data did not change in between); the statement is checked again before it runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import zlib
from dataclasses import dataclass
from typing import Any

from k2_database.errors import InvalidCursor

_MAC_BYTES = 16
_MAX_PAYLOAD = 4 * 1024 * 1024


@dataclass(frozen=True)
class PageRequest:
    sql: str
    params: Any
    offset: int
    max_rows: int


class CursorCodec:
    def __init__(self, ttl_s: int, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._ttl_s = ttl_s

    def encode(self, page: PageRequest) -> str:
        body = {"s": page.sql, "p": page.params, "o": page.offset, "n": page.max_rows, "t": int(time.time())}
        data = zlib.compress(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return base64.urlsafe_b64encode(self._mac(data) + data).decode("ascii").rstrip("=")

    def decode(self, token: str) -> PageRequest:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("the cursor is not one this server issued; run the query again without it") from exc
        mac, data = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(data)):
            raise InvalidCursor(
                "the cursor was altered or comes from another server process (cursors do not survive a restart); "
                "run the query again without it"
            )
        body = json.loads(zlib.decompress(data, bufsize=_MAX_PAYLOAD))
        if time.time() - body["t"] > self._ttl_s:
            raise InvalidCursor(f"the cursor expired (cursors last {self._ttl_s} s); run the query again")
        return PageRequest(sql=body["s"], params=body["p"], offset=body["o"], max_rows=body["n"])

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[:_MAC_BYTES]
