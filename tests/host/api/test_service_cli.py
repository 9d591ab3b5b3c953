"""`k2 keys` and `k2 audit verify` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def k2(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "k2_host", "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_keys_are_created_listed_revoked_and_audited(tmp_path: Path) -> None:
    state = tmp_path / "state"
    made = k2(state, "--json", "keys", "create", "--role", "operator", "--name", "deploy bot")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["role"] == "operator" and key["key"].startswith(f"k2_{key['id']}_")
    listed = json.loads(k2(state, "--json", "keys", "list").stdout)
    assert [(k["id"], k["name"], k["revoked"]) for k in listed] == [(key["id"], "deploy bot", None)]
    assert key["key"] not in (state / "api" / "keys.json").read_text()
    assert k2(state, "keys", "revoke", key["id"]).returncode == 0
    again = k2(state, "keys", "revoke", key["id"])
    assert again.returncode == 1 and "no live key" in again.stderr
    bad = k2(state, "keys", "create", "--role", "root")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr

    ok = k2(state, "--json", "audit", "verify")
    assert ok.returncode == 0 and json.loads(ok.stdout)["records"] == 2  # created, revoked
    log = state / "api" / "audit.jsonl"
    log.write_text(log.read_text().replace("operator", "admin"))
    broken = k2(state, "audit", "verify")
    assert broken.returncode == 1 and "line 1" in broken.stderr and "changed" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_serve_says_what_is_missing_instead_of_starting_open(tmp_path: Path) -> None:
    refused = k2(tmp_path / "state", "serve", "--port", "0")
    assert refused.returncode == 2 and "k2 keys create --role admin" in refused.stderr
    exposed = k2(tmp_path / "state", "serve", "--host", "0.0.0.0", "--no-auth")
    assert exposed.returncode == 2 and "loopback only" in exposed.stderr and "Traceback" not in exposed.stderr
