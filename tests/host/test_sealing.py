"""Encryption at rest: what the host keeps (sessions, trajectories, spilled tool results) is AES-256-GCM
under the data key ring; it reads back, fails loudly without its key or when changed, and rotates."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.config import HostConfig, ServerConfig
from k2_host.context.transcript import SessionStore
from k2_host.errors import ConfigError
from k2_host.learning.store import SQLiteTrajectoryStore
from k2_host.llm.base import ToolCall
from k2_host.llm.testing import Reply, ScriptedProvider
from k2_host.sealing import KeyRing, Sealer, SealError, default_key_file

from tests.support import script

pytestmark = pytest.mark.anyio

MARKER = "zebra-quota-8443"


def config(root: Path, state: Path, **storage: Any) -> HostConfig:
    server = ServerConfig(name="filesystem", command=script("k2-filesystem"), args=["--root", str(root)])
    return HostConfig(servers=[server], roots=[str(root)], state_dir=state, storage=storage or {})  # type: ignore[arg-type]


async def ask_once(root: Path, state: Path, **storage: Any) -> None:
    (root / "app.log").write_text("".join(f"{i:05d} worker ok\n" for i in range(3000)) + f"{MARKER} exceeded\n")
    read = ToolCall(id="c1", name="filesystem.read_file", arguments={"path": str(root / "app.log")})
    provider = ScriptedProvider([Reply(tool_calls=[read]), Reply(text=f"the {MARKER} line")])
    async with Agent(config(root, state, **storage), provider=provider) as agent:
        with anyio.fail_after(60):
            result = await agent.ask(f"Where is {MARKER}?", session="ops")
    assert MARKER in result.answer


async def rotate(state: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-m", "k2_host", "--state-dir", str(state), "keys", "rotate-data"], env=env, check=False
        )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def stored_bytes(state: Path) -> bytes:
    files = [state / "sessions.sqlite", state / "k2.sqlite", *sorted((state / "context").rglob("*.txt"))]
    for wal in list(files):
        files.append(wal.with_name(wal.name + "-wal"))
    return b"".join(p.read_bytes() for p in files if p.exists())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    return tmp_path / "proj"


async def test_sessions_trajectories_and_kept_results_are_sealed_and_read_back(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    await ask_once(root, state)
    raw = stored_bytes(state)
    assert len(raw) > 10_000 and MARKER.encode() not in raw and b"worker ok" not in raw
    assert list((state / "context").rglob("*.txt")), "the big result was kept whole (and sealed)"
    ring = json.loads(default_key_file().read_text())
    assert len(ring["keys"]) == 1 and oct(default_key_file().stat().st_mode & 0o777) == "0o600"

    sealer = Sealer(KeyRing.load(default_key_file(), create=False))
    sessions = SessionStore(state / "sessions.sqlite", sealer)
    transcript = await sessions.open("ops")
    assert any(MARKER in json.dumps(t.model_dump()) for t in transcript.turns)
    assert (await sessions.list())[0].title == f"Where is {MARKER}?"
    trajectories = SQLiteTrajectoryStore(state / "k2.sqlite", sealer=sealer)
    summary = (await trajectories.list())[0]
    assert summary.query == f"Where is {MARKER}?"
    full = await trajectories.get(summary.id)
    assert full is not None and MARKER in full.model_dump_json()

    # without the key nothing opens, and the error names the key
    default_key_file().unlink()
    with pytest.raises(SealError, match=f"data key {ring['current']}"):
        await SessionStore(state / "sessions.sqlite", Sealer(None)).open("ops")
    with pytest.raises(ConfigError, match="no data key"):
        KeyRing.load(default_key_file(), create=False)


async def test_a_changed_or_moved_value_does_not_open(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    await ask_once(root, state)
    sealer = Sealer(KeyRing.load(default_key_file(), create=False))
    con = sqlite3.connect(state / "sessions.sqlite")
    (first,), (second,) = con.execute("SELECT data FROM turns WHERE session_id='ops' ORDER BY seq LIMIT 2").fetchall()
    con.execute("UPDATE turns SET data = ? WHERE session_id='ops' AND seq = 1", (first,))  # moved
    con.commit()
    with pytest.raises(SealError, match="turn/1 does not open"):
        await SessionStore(state / "sessions.sqlite", sealer).open("ops")
    flipped = bytearray(base64.urlsafe_b64decode(second[5:]))
    flipped[-1] ^= 1
    con.execute(
        "UPDATE turns SET data = ? WHERE session_id='ops' AND seq = 1",
        ("k2e1:" + base64.urlsafe_b64encode(bytes(flipped)).decode(),),
    )
    con.commit()
    con.close()
    with pytest.raises(SealError, match="changed, or moved"):
        await SessionStore(state / "sessions.sqlite", sealer).open("ops")


async def test_plain_only_when_asked_and_rotation_seals_everything_again(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    await ask_once(root, state, encrypt=False)
    assert MARKER.encode() in stored_bytes(state)  # the user said so
    assert not default_key_file().exists()

    env = {**os.environ, "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]}
    rotated = await rotate(state, env)
    assert rotated.returncode == 0, rotated.stderr
    assert "sealed again" in rotated.stderr and "0 sessions" not in rotated.stderr
    for db in ("sessions.sqlite", "k2.sqlite"):
        sqlite3.connect(state / db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    assert MARKER.encode() not in stored_bytes(state)  # the plain records are sealed now
    ring = KeyRing.load(default_key_file(), create=False)
    sealer = Sealer(ring)
    transcript = await SessionStore(state / "sessions.sqlite", sealer).open("ops")
    assert any(MARKER in json.dumps(t.model_dump()) for t in transcript.turns)

    again = await rotate(state, env)
    assert again.returncode == 0, again.stderr
    ring = KeyRing.load(default_key_file(), create=False)
    assert len(ring.keys) == 3  # the first key (made when sealing started), two rotations
    con = sqlite3.connect(state / "sessions.sqlite")
    values = [r[0] for r in con.execute("SELECT data FROM turns")]
    con.close()
    assert values and all(Sealer(ring).is_current(v) for v in values)


def test_a_data_key_from_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("K2_DATA_KEY", "not base64!")
    with pytest.raises(ConfigError, match="K2_DATA_KEY: not base64"):
        KeyRing.load(tmp_path / "ring.json")
    monkeypatch.setenv("K2_DATA_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ConfigError, match="32 bytes, this one is 5"):
        KeyRing.load(tmp_path / "ring.json")
    monkeypatch.setenv("K2_DATA_KEY", base64.b64encode(b"k" * 32).decode())
    ring = KeyRing.load(tmp_path / "ring.json", create=False)
    sealed = Sealer(ring).seal_text("hello", "here")
    assert sealed.startswith("k2e1:") and Sealer(ring).open_text(sealed, "here") == "hello"
    assert not (tmp_path / "ring.json").exists()  # an environment key is never written down
