from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Literal

import pytest
from k2_host.llm.base import StreamCallback


@dataclass
class Deltas:
    """What a provider streamed to `on_delta`, or nothing when the test runs without streaming."""

    streaming: bool
    seen: list[tuple[Literal["text", "reasoning"], str]] = field(default_factory=list)

    @property
    def callback(self) -> StreamCallback | None:
        if not self.streaming:
            return None

        async def on_delta(text: str, kind: Literal["text", "reasoning"]) -> None:
            self.seen.append((kind, text))

        return on_delta

    def joined(self, kind: Literal["text", "reasoning"]) -> str:
        return "".join(text for k, text in self.seen if k == kind)

    def count(self, kind: Literal["text", "reasoning"]) -> int:
        return sum(1 for k, _ in self.seen if k == kind)


@pytest.fixture(params=[False, True], ids=["whole", "streamed"])
def deltas(request: pytest.FixtureRequest) -> Deltas:
    return Deltas(streaming=request.param)


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens (the port was just free), so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
