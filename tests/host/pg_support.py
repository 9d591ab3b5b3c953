"""A real PostgreSQL server for the tests: a throwaway cluster on a free loopback port, trust auth, no fsync.

Without the server binaries (`initdb`, `postgres` on PATH or under /usr/lib/postgresql/*/bin) a test skips,
unless K2_REQUIRE_POSTGRES=1 (CI) makes that a failure. initdb refuses to run as root, so as root the cluster
is made and run as the `postgres` OS user (`setpriv`, else `runuser`), in a temp folder that user owns.
Readiness is a connection that answers `SELECT 1`, tried in a bounded loop; between attempts the helper waits
on the server process itself (so a server that dies at start is seen at once).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql

from tests.host.redis_support import _free_port  # the same free loopback port

START_ATTEMPTS = 200  # connection attempts, each followed by a wait of up to ATTEMPT_WAIT_S on the process
ATTEMPT_WAIT_S = 0.05
INITDB_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
SUPERUSER = "k2"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for lack of PostgreSQL, or fail it where K2_REQUIRE_POSTGRES=1 (CI)."""
    if os.environ.get("K2_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"K2_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(f"{reason}; install it (apt-get install postgresql) to run the PostgreSQL store tests")


def find_binaries() -> Path | None:
    """The folder holding initdb and postgres: the one on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found is not None:
        folder = Path(found).resolve().parent
        if (folder / "postgres").exists():
            return folder
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=1) as con:
            return con.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


class PostgresServer:
    """One PostgreSQL cluster and server process; `dsn(database)` to reach it, `stop()` to take it down."""

    def __init__(self, bindir: Path, workdir: Path) -> None:
        self.bindir = bindir
        self.workdir = workdir
        self.data = workdir / "data"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_user: list[str] = []

    def dsn(self, database: str = "postgres", *, password: str | None = None) -> str:
        auth = f"{SUPERUSER}:{password}" if password is not None else SUPERUSER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database (`name` is the test's own constant); returns its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def _prepare_user(self) -> None:
        """As root: run as `postgres`, owning the work folder (initdb and postgres refuse root)."""
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            skip_or_fail("running as root and there is no `postgres` OS user to run the server as")
        if shutil.which("setpriv"):
            self._as_user = ["setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--"]
        elif shutil.which("runuser"):
            self._as_user = ["runuser", "-u", "postgres", "--"]
        else:
            skip_or_fail("running as root and neither setpriv nor runuser is there to run the server as `postgres`")
        os.chown(self.workdir, user.pw_uid, user.pw_gid)

    def start(self) -> None:
        self._prepare_user()
        log = self.workdir / "initdb.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [*self._as_user, str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
                 "-E", "UTF8", "--locale=C", "--no-sync"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=INITDB_TIMEOUT_S,
            )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"initdb failed:\n{log.read_text(errors='replace')[-2000:]}")
        for _ in range(3):  # another process may take the free port before postgres binds it
            self.port = _free_port()
            with (self.workdir / f"postgres-{self.port}.log").open("wb") as out:
                self.proc = subprocess.Popen(
                    [*self._as_user, str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                     "-h", "127.0.0.1", "-k", str(self.workdir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off", "-c", "max_connections=100"],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            if self._ready(self.proc):
                return
            self.stop()
        output = "\n".join(p.read_text(errors="replace") for p in self.workdir.glob("postgres-*.log"))
        pytest.fail(f"postgres did not answer on 127.0.0.1:\n{output[-2000:]}")

    def _ready(self, proc: subprocess.Popen[bytes]) -> bool:
        """Whether the server answers within START_ATTEMPTS connections (False at once when it exits)."""
        attempts = 0
        while proc.poll() is None and attempts < START_ATTEMPTS:
            if _answers(self.dsn()):
                return True
            attempts += 1
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=ATTEMPT_WAIT_S)
        return False

    def stop(self) -> None:
        """A "fast" shutdown (SIGINT: the sessions end, then the server), killed if it takes too long."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started PostgreSQL server, stopped (and its files removed) on exit; skips (or fails under
    K2_REQUIRE_POSTGRES=1) without the binaries."""
    bindir = find_binaries()
    if bindir is None:
        skip_or_fail("the PostgreSQL server (initdb, postgres) is not installed")
    # Not under pytest's temp folder: that one is 0700 root's, and the server may run as another user.
    with tempfile.TemporaryDirectory(prefix="k2-pg-") as workdir:
        server = PostgresServer(bindir, Path(workdir))
        try:
            server.start()
            yield server
        finally:
            server.stop()
