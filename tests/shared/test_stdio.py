"""The stdio transport (k2_shared.stdio): a real server subprocess on real pipes, spoken to in raw JSON-RPC
where the test needs to see every byte, and through the SDK client where it needs a real MCP client."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from k2_shared.stdio import pipe_streams
from mcp import Client, StdioServerParameters
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, JSONRPCResponse

SERVER = textwrap.dedent(
    '''
    import os
    import subprocess
    import sys

    import anyio
    from mcp.server import MCPServer

    from k2_shared.stdio import serve_stdio

    print("printed before serving")  # still in stdout's buffer when serving starts: must not reach the wire
    mcp = MCPServer("stdio-test")


    @mcp.tool()
    async def echo(text: str) -> str:
        """Return the text."""
        await anyio.sleep(0)
        return text


    @mcp.tool()
    def crunch(n: int) -> int:
        """Sum the first n integers: real work on a worker thread (tens of milliseconds for millions)."""
        return sum(range(n))


    @mcp.tool()
    def chatter(text: str) -> str:
        """Write to stdout every way a handler can, then return the text."""
        print("printed by a handler")
        sys.stdout.flush()
        os.write(1, b"written to fd 1 by a handler\\n")
        subprocess.run([sys.executable, "-c", "print('printed by a child')"], check=True)
        return text


    anyio.run(serve_stdio, mcp)
    '''
)

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int | str, tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


class Peer:
    """The client end of a server subprocess's pipes: raw lines in, raw lines out, every read bounded."""

    def __init__(self, script: Path, stderr: Path, stdin: Any = subprocess.PIPE) -> None:
        self.stderr_path = stderr
        self.stderr = stderr.open("wb")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout block-buffered
        self.proc = subprocess.Popen(
            [sys.executable, str(script)], stdin=stdin, stdout=subprocess.PIPE, stderr=self.stderr, env=env
        )
        self.pending = b""
        self.lines: list[bytes] = []  # every line the server wrote, in order

    def send(self, *messages: dict[str, Any]) -> None:
        self.send_raw(b"".join(json.dumps(m).encode() + b"\n" for m in messages))

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_line(self, timeout: float = 20) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"no line from the server in {timeout}s; stderr:\n{self.stderr_text()}")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError(f"the server closed stdout; stderr:\n{self.stderr_text()}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        self.lines.append(line)
        return line

    def read(self) -> dict[str, Any]:
        return json.loads(self.read_line())

    def answers(self, count: int) -> dict[Any, dict[str, Any]]:
        """Read `count` answers, by id."""
        out: dict[Any, dict[str, Any]] = {}
        while len(out) < count:
            message = self.read()
            if "id" in message and "method" not in message:
                out[message["id"]] = message
        return out

    def handshake(self) -> None:
        self.send(INIT)
        assert self.read()["result"]["serverInfo"]["name"] == "stdio-test"
        self.send(INITIALIZED)

    def finish(self, timeout: float = 20) -> int:
        """Close stdin, collect what is left on stdout, and return the exit code."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        rest = self.pending + self.proc.stdout.read()
        self.lines += [line for line in rest.split(b"\n") if line]
        self.pending = b""
        return self.proc.wait(timeout)

    def stderr_text(self) -> str:
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self.stderr.close()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "stdio_server.py"
    path.write_text(SERVER)
    return path


@pytest.fixture
def peer(script: Path, tmp_path: Path) -> Iterator[Peer]:
    p = Peer(script, tmp_path / "stderr.log")
    try:
        yield p
    finally:
        p.kill()


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_sdk_client_initializes_lists_and_calls_tools_over_the_pipes(script: Path, mode: str) -> None:
    params = StdioServerParameters(command=sys.executable, args=[str(script)])
    with anyio.fail_after(30):
        async with Client(params, mode=mode) as client:
            assert client.server_info.name == "stdio-test"
            assert {t.name for t in (await client.list_tools()).tools} == {"echo", "chatter", "crunch"}
            result = await client.call_tool("echo", {"text": "hello"})
            assert not result.is_error
            assert result.structured_content == {"result": "hello"}


def test_many_calls_in_flight_are_all_answered_each_under_its_own_id(peer: Peer) -> None:
    peer.handshake()
    ids = [*range(1, 301), *(f"s-{i}" for i in range(100))]
    peer.send(*(call(i, "echo", text=f"text of {i}") for i in ids))  # one write, 400 requests
    answers = peer.answers(len(ids))
    assert set(answers) == set(ids)
    for i, answer in answers.items():
        assert answer["result"]["structuredContent"] == {"result": f"text of {i}"}


def test_stdout_carries_only_json_rpc_when_handlers_and_children_print(peer: Peer) -> None:
    peer.handshake()
    peer.send(call(1, "chatter", text="still clean"))
    assert peer.answers(1)[1]["result"]["structuredContent"] == {"result": "still clean"}
    assert peer.finish() == 0
    for line in peer.lines:
        assert json.loads(line)["jsonrpc"] == "2.0"
    stderr = peer.stderr_text()
    for stray in (
        "printed before serving",
        "printed by a handler",
        "written to fd 1 by a handler",
        "printed by a child",
    ):
        assert stray in stderr


def test_eof_on_stdin_ends_the_server_cleanly(peer: Peer) -> None:
    peer.handshake()
    peer.send(call(1, "echo", text="last"))
    assert peer.answers(1)[1]["result"]["structuredContent"] == {"result": "last"}
    assert peer.finish() == 0


def test_requests_in_flight_when_stdin_closes_are_still_answered(peer: Peer) -> None:
    peer.handshake()
    peer.send(*(call(i, "crunch", n=2_000_000 + i) for i in range(1, 21)))
    assert peer.finish() == 0  # stdin closed right after the requests, before any answer was read
    answers = {m["id"]: m for m in map(json.loads, peer.lines) if "id" in m and "method" not in m}
    got = {i: answers[i].get("result", answers[i].get("error")) for i in range(1, 21) if i in answers}
    assert got == {
        i: {
            "content": [{"type": "text", "text": str(sum(range(2_000_000 + i)))}],
            "structuredContent": {"result": sum(range(2_000_000 + i))},
            "isError": False,
        }
        for i in range(1, 21)
    }


def test_a_line_that_is_not_json_gets_a_parse_error_and_the_server_goes_on(peer: Peer) -> None:
    peer.handshake()
    peer.send_raw(b"this is not json\n")
    error = peer.read()
    assert error["id"] is None
    assert error["error"]["code"] == PARSE_ERROR
    peer.send(call(1, "echo", text="after"))
    assert peer.answers(1)[1]["result"]["structuredContent"] == {"result": "after"}


def test_invalid_utf8_in_a_string_is_replaced_and_elsewhere_is_a_parse_error(peer: Peer) -> None:
    peer.handshake()
    inside = json.dumps(call(1, "echo", text="XX")).encode().replace(b"XX", b"a\xffb")
    peer.send_raw(inside + b"\n")
    assert peer.answers(1)[1]["result"]["structuredContent"] == {"result": "a\ufffdb"}
    peer.send_raw(b"\xff\xfe{}\n")
    error = peer.read()
    assert (error["id"], error["error"]["code"]) == (None, PARSE_ERROR)
    peer.send(call(2, "echo", text="after"))
    assert peer.answers(1)[2]["result"]["structuredContent"] == {"result": "after"}


def test_deep_nesting_gets_a_parse_error_without_crashing_the_server(peer: Peer) -> None:
    peer.handshake()
    deep = b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    peer.send_raw(deep + b"\n")
    error = peer.read()
    assert (error["id"], error["error"]["code"]) == (None, PARSE_ERROR)
    peer.send(call(6, "echo", text="alive"))
    assert peer.answers(1)[6]["result"]["structuredContent"] == {"result": "alive"}


def test_json_that_is_no_valid_message_gets_invalid_request_with_its_id(peer: Peer) -> None:
    peer.handshake()
    peer.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": [1, 2]})
    error = peer.read()
    assert (error["id"], error["error"]["code"]) == (7, INVALID_REQUEST)
    peer.send_raw(b"[1, 2]\n\n   \n")  # a batch (MCP has none) and blank lines
    error = peer.read()
    assert (error["id"], error["error"]["code"]) == (None, INVALID_REQUEST)
    peer.send({"jsonrpc": "2.0", "method": "notifications/nonsense", "params": 3})  # nothing to answer
    peer.send(call(8, "echo", text="after"))
    assert peer.read() == {"jsonrpc": "2.0", "id": 8, "result": peer_result("after")}


def peer_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "structuredContent": {"result": text}, "isError": False}


def test_a_huge_line_is_read_whole_and_answered(peer: Peer) -> None:
    peer.handshake()
    text = "0123456789abcdef" * (8 * 1024 * 1024 // 16)  # 8 MiB in one line, arriving in many reads
    peer.send(call(1, "echo", text=text))
    assert peer.answers(1)[1]["result"]["structuredContent"] == {"result": text}


def test_stdin_from_a_regular_file_falls_back_to_the_sdk_transport(script: Path, tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps(INIT) + "\n")
    with requests.open("rb") as stdin:
        p = Peer(script, tmp_path / "stderr.log", stdin=stdin)
        try:
            assert p.read()["result"]["serverInfo"]["name"] == "stdio-test"
            assert p.proc.wait(20) == 0
        finally:
            p.kill()


def unread(fd: int) -> int:
    """Bytes waiting in a pipe."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.anyio
async def test_a_line_over_the_limit_is_answered_with_a_parse_error_and_skipped() -> None:
    to_server_r, to_server_w = os.pipe()
    from_server_r, from_server_w = os.pipe()
    try:
        with anyio.fail_after(20):
            async with pipe_streams(to_server_r, from_server_w, max_line_bytes=1000) as (inbox, outbox):
                # Longer than the limit in one piece, then across reads, then a good line.
                good = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}).encode() + b"\n"
                os.write(to_server_w, b'{"x":"' + b"a" * 5000 + b'"}\n')
                os.write(to_server_w, b'{"x":"' + b"b" * 600)
                while unread(to_server_r):  # the first part arrives as a read of its own
                    await anyio.lowlevel.checkpoint()
                os.write(to_server_w, b"b" * 600 + b'"}\n' + good)
                message = await inbox.receive()
                assert message.message.model_dump(exclude_unset=True) == {"jsonrpc": "2.0", "id": 3, "method": "ping"}
                os.close(to_server_w)
                to_server_w = -1
                # EOF is held back until the ping read before it is answered (see the subprocess test above).
                await outbox.send(SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=3, result={})))
                with pytest.raises(anyio.EndOfStream):
                    await inbox.receive()
                await outbox.aclose()
        written = [json.loads(line) for line in os.read(from_server_r, 1 << 16).splitlines()]
        assert [(e["id"], e["error"]["code"]) for e in written[:2]] == [(None, PARSE_ERROR)] * 2
        assert written[2] == {"jsonrpc": "2.0", "id": 3, "result": {}}
    finally:
        for fd in (to_server_r, to_server_w, from_server_r, from_server_w):
            if fd >= 0:
                os.close(fd)
