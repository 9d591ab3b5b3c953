"""`k2 skills eval`: every offline skill's shipped examples run end to end through the real servers.

Each example (`assets/examples.json`: query, files, expected substrings, optional exit 2) runs in a scratch
project folder holding only that example's files, through a runtime of the built-in servers on that folder;
a `{url}` in the query is a page served from the example's first file on 127.0.0.1 (the websearch server is
allowed that one address). Every run goes through the skill runner, so it is measured like any other run (the
metrics and proficiency of `k2 skills stats`).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio

from k2_host.config import HostConfig
from k2_host.skills.model import Skill


@dataclass
class ExampleResult:
    skill: str
    query: str
    ok: bool
    ms: float
    missing: list[str] = field(default_factory=list)
    answer: str = ""

    def data(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "query": self.query,
            "ok": self.ok,
            "ms": round(self.ms, 1),
            "missing": self.missing,
        }


def examples(skill: Skill) -> list[dict[str, Any]]:
    path = skill.path / "assets" / "examples.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a list of examples is expected")
    return data


class _Page(BaseHTTPRequestHandler):
    body = b""
    kind = "text/html; charset=utf-8"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.kind)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def page_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Page]]]:
    """A loopback HTTP server answering every GET with the page set on the yielded handler class."""
    handler = type("Page", (_Page,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()


def _allow(config: HostConfig, host: str) -> HostConfig:
    servers = [
        s.model_copy(update={"args": [*s.args, "--allow-host", host]}) if s.name == "websearch" else s
        for s in config.servers
    ]
    return config.model_copy(update={"servers": servers})


@asynccontextmanager
async def eval_runtime(config: HostConfig, root: Path, page_host: str) -> AsyncIterator[Any]:
    from k2_host.runtime import build_runtime

    async with build_runtime(_allow(config, page_host), use_llm_config=False, use_knowledge=False) as rt:
        yield rt


def _stage(skill: Skill, ex: dict[str, Any], root: Path) -> list[str]:
    """Empty `root`, then copy the example's files in (tree examples keep their layout below examples/tree/)."""
    for child in list(root.iterdir()):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    files = [str(f) for f in ex.get("files", [])]
    for rel in files:
        target = root / (rel.split("tree/", 1)[1] if "tree/" in rel else Path(rel).name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(skill.path / "assets" / rel, target)
    return files


async def run_examples(
    rt: Any, skills: Sequence[Skill], root: Path, page: type[_Page], url: str
) -> list[ExampleResult]:
    out: list[ExampleResult] = []
    for skill in skills:
        for n, ex in enumerate(examples(skill)):
            files = await anyio.to_thread.run_sync(_stage, skill, ex, root)
            query = str(ex["query"])
            if "{url}" in query:
                first = skill.path / "assets" / files[0]
                page.body = first.read_bytes()
                page.kind = (
                    "text/html; charset=utf-8" if first.suffix in (".html", ".htm") else "text/plain; charset=utf-8"
                )
                query = query.replace("{url}", f"{url}/{skill.name}/{n}")  # a page of its own (the server caches)
            t0 = time.perf_counter()
            result = await rt.ask(query, skill=skill.name)
            ms = (time.perf_counter() - t0) * 1000
            want_refusal = ex.get("exit") == 2
            refused = result.skill is not None and not result.skill.ok
            missing = [e for e in ex.get("expect", []) if e not in result.answer]
            ok = not missing and refused == want_refusal
            out.append(ExampleResult(skill.name, query, ok, ms, missing, result.answer))
    return out
