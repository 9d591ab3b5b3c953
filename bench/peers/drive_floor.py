"""The floor: the same model round trips and MCP tool calls as a host makes, with no framework and no SDK.

http.client (one keep-alive connection, TCP_NODELAY) for the chat completions, newline-delimited JSON-RPC
over the server's pipes for MCP; the parallel calls of a turn are written at once and their answers read
back. It sends the same conversation a host would (user, assistant tool calls, tool results) and stops at
the first answer without tool calls. What a host takes above this is the host's own overhead.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import subprocess
from typing import Any
from urllib.parse import urlsplit

from common import drive, server_env, settings, status_kb


class Pipe:
    """A minimal MCP client over stdio: initialize, then requests by id."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=server_env())
        self.next_id = 0
        init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "floor", "version": "1"}}
        self.request([("initialize", init)])
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")

    def request(self, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        ids = []
        for method, params in calls:
            self.next_id += 1
            ids.append(self.next_id)
            self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        self.proc.stdin.flush()
        answers: dict[int, dict[str, Any]] = {}
        while len(answers) < len(ids):
            msg = json.loads(self.proc.stdout.readline())
            if msg.get("id") in ids:
                answers[msg["id"]] = msg["result"]
        return [answers[i] for i in ids]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    cfg = settings()
    url = urlsplit(cfg["base_url"])
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    path = url.path.rstrip("/") + "/chat/completions"
    pipe = Pipe([cfg["fs"], "--root", cfg["root"]])
    (listed,) = pipe.request([("tools/list", {})])
    tools = [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t.get("description", ""), "parameters": t["inputSchema"]},
        }
        for t in listed["tools"]
    ]
    headers = {"Content-Type": "application/json", "Authorization": "Bearer dummy"}

    def chat(messages: list[dict[str, Any]]) -> dict[str, Any]:
        conn.request("POST", path, json.dumps({"model": "scripted", "messages": messages, "tools": tools}), headers)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
        return json.loads(body)["choices"][0]["message"]

    async def ask(prompt: str) -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        while True:
            message = chat(messages)
            calls = message.get("tool_calls") or []
            if not calls:
                return message.get("content") or ""
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            params = [
                ("tools/call", {"name": "read_file", "arguments": json.loads(c["function"]["arguments"])})
                for c in calls
            ]
            for call, result in zip(calls, pipe.request(params), strict=True):
                text = "".join(block.get("text", "") for block in result["content"])
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": text})

    asyncio.run(drive(ask, status_kb("VmRSS")))
    pipe.close()


if __name__ == "__main__":
    main()
