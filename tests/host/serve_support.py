"""A real `k2 serve` process for tests: started with `python -m k2_host`, its URL read from its first log
lines, ready once `/readyz` says so, stopped with SIGTERM (uvicorn's graceful shutdown) when the block ends."""

from __future__ import annotations

import os
import queue
import re
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

URL = re.compile(r"(https?://127\.0\.0\.1:\d+)/v1")


@contextmanager
def served(
    state: Path,
    serve_args: Sequence[str] = ("--no-auth",),
    *,
    global_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    command = [sys.executable, "-m", "k2_host", "--state-dir", str(state), *global_args, "serve", "--port", "0"]
    proc = subprocess.Popen(
        [*command, *serve_args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    lines: queue.Queue[str] = queue.Queue()
    stderr = proc.stderr
    assert stderr is not None
    log: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=120)
            except queue.Empty:
                raise AssertionError("k2 serve did not print its URL in 120 s:\n" + "".join(log)) from None
            log.append(line)
            if found := URL.search(line):
                url = found.group(1)
        with httpx.Client(base_url=url, timeout=60, verify=verify) as c:
            while c.get("/readyz").status_code == 503:
                pass
        yield url, proc
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr.close()


def model_env(base_url: str, **settings: str) -> dict[str, str]:
    """This process's environment, with the host's model pointed at a scripted model (tests/host/scripted_llm)
    and the extra `K2_*` settings given (e.g. K2_SKILLS_OFFER="always")."""
    return {
        **os.environ,
        "K2_LLM_PROVIDER": "openai",
        "K2_LLM_BASE_URL": base_url,
        "K2_LLM_MODEL": "scripted-model",
        "K2_LLM_API_KEY": "sk-test",
        "K2_LLM_MAX_RETRIES": "0",
        **settings,
    }
