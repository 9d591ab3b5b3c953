"""The stdio transport's line encoder writes what pydantic would, only faster for responses."""

from __future__ import annotations

import json

from k2_shared.stdio import encode
from mcp_types import JSONRPCNotification, JSONRPCResponse


def pydantic_line(message: JSONRPCResponse | JSONRPCNotification) -> bytes:
    return message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"


def test_responses_are_the_same_bytes_as_pydantic_writes() -> None:
    result = {
        "content": [{"type": "text", "text": 'naïve café → 東京\n"quoted" \\ tab\t'}],
        "structuredContent": {"n": 3, "ratio": 0.1, "big": 1e300, "tiny": 5e-324, "none": None, "ok": True},
        "nested": [[1, 2, {"a": []}], {}],
    }
    for rid in (1, "req-7"):
        message = JSONRPCResponse(jsonrpc="2.0", id=rid, result=result)
        assert encode(message) == pydantic_line(message)
        assert json.loads(encode(message)) == {"jsonrpc": "2.0", "id": rid, "result": result}


def test_what_orjson_refuses_goes_the_pydantic_way() -> None:
    huge = JSONRPCResponse(jsonrpc="2.0", id=2, result={"n": 2**70})
    assert encode(huge) == pydantic_line(huge) and b"1180591620717411303424" in encode(huge)
    note = JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": 1})
    assert encode(note) == pydantic_line(note)
