#!/usr/bin/env python3
"""Developer entry point; needs only Python 3.11+ (and npm for the real-client tests).

    python3 dev.py ask "…"  set up .venv and ask the host agent (offline engine) about the sample project
    python3 dev.py demo     set up .venv and take a tour of k2-filesystem as an MCP client
    python3 dev.py test     set up .venv and the pinned MCP clients, lint, then run the whole test suite
                            (with a coverage report; HTML in .cache/coverage/html)
    python3 dev.py bench    run the benchmarks in bench/ (prints figures)

Extra arguments after `test` go to pytest, e.g. `python3 dev.py test -k attacks -x`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
CLIENTS = ROOT / "tests" / "realclients"
TORCH_PIN = "torch==2.13.0"  # CPU build; installed before anything that pulls torch in


def log(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def _stamp(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the workspace packages (editable) with the dev group, when anything changed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["k2"]["packages"]["paths"]
    manifests = [ROOT / "pyproject.toml"] + [ROOT / p / "pyproject.toml" for p in packages]
    stamp_file = VENV / ".k2-stamp"
    stamp = _stamp(manifests)
    if stamp_file.exists() and stamp_file.read_text() == stamp and PY.exists():
        return
    if not PY.exists():
        log("creating .venv")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run([*pip, "--upgrade", "pip"])
    if config["tool"]["k2"].get("needs_torch"):
        run([*pip, TORCH_PIN])
    editable: list[str] = []
    for p in packages:
        editable += ["-e", str(ROOT / p)]
    log("installing " + ", ".join(packages) + " and the dev tools")
    run(pip + editable + config["dependency-groups"]["dev"])
    stamp_file.write_text(stamp)


def ensure_clients() -> bool:
    """Install the pinned Node 22, conformance suites and inspectors from npm into tests/realclients."""
    lock = CLIENTS / "package-lock.json"
    marker = CLIENTS / "node_modules" / ".k2-stamp"
    stamp = _stamp([CLIENTS / "package.json", lock])
    if marker.exists() and marker.read_text() == stamp:
        return True
    npm = shutil.which("npm")
    if npm is None:
        log("npm not found: the tests that drive the servers with real MCP clients will be skipped")
        return False
    log("installing the pinned MCP clients from npm (Node 22, conformance, inspectors)")
    run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENTS)
    marker.write_text(stamp)
    return True


def demo(args: list[str]) -> int:
    ensure_venv()
    return subprocess.call([str(PY), "-m", "k2_filesystem.demo", *args])


def ask(args: list[str]) -> int:
    """`k2 ask` on the built-in servers, in demo-workspace/ (a sample project, created when missing)."""
    ensure_venv()
    workspace = ROOT / "demo-workspace"
    subprocess.run([str(PY), "-m", "k2_host.sample", str(workspace)], check=True, stdout=subprocess.DEVNULL)
    question = args or ["Which port does the staging server use?"]
    log(f"asking about {workspace.relative_to(ROOT)}/ (for your own folder: cd there and run {VENV}/bin/k2 ask ...)")
    return subprocess.call([str(VENV / "bin" / "k2"), "ask", *question], cwd=workspace)


def lint() -> int:
    """ruff (lint and format) over everything, pyright over the packages (config in pyproject.toml)."""
    bin_dir = VENV / "bin"
    for cmd in (
        [str(bin_dir / "ruff"), "check", "--quiet", "."],
        [str(bin_dir / "ruff"), "format", "--check", "--quiet", "."],
        [str(bin_dir / "pyright"), "--warnings"],
    ):
        if subprocess.call(cmd, cwd=ROOT) != 0:
            return 1
    return 0


def test(args: list[str]) -> int:
    ensure_venv()
    if not args and lint() != 0:
        log("lint failed (ruff check / ruff format --check / pyright); fix it, or run `.venv/bin/ruff format .`")
        return 1
    env = dict(os.environ)
    if ensure_clients():
        env["K2_REAL_CLIENTS"] = str(CLIENTS / "node_modules")
    # Coverage is measured and reported on every run (report only: no threshold fails the suite).
    (ROOT / ".cache" / "coverage").mkdir(parents=True, exist_ok=True)
    cov = ["--cov", "--cov-report=term:skip-covered", "--cov-report=html:.cache/coverage/html"]
    return subprocess.call([str(PY), "-m", "pytest", *cov, *args], cwd=ROOT, env=env)


def bench(args: list[str]) -> int:
    ensure_venv()
    ensure_clients()
    env = dict(os.environ, K2_REAL_CLIENTS=str(CLIENTS / "node_modules"))
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    code = 0
    for script in scripts if not args else [ROOT / a for a in args]:
        log(f"running {script.relative_to(ROOT)}")
        code |= subprocess.call([str(PY), str(script)], cwd=ROOT, env=env)
    return code


def main() -> int:
    commands = {"ask": ask, "demo": demo, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
