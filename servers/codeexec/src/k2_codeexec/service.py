"""Sessions, the warm pool, the concurrency bound and one execution from request to typed result."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import anyio

from k2_codeexec.config import CodeExecSettings
from k2_codeexec.errors import InvalidPath, SandboxUnavailable, SessionNotFound, TooManySessions
from k2_codeexec.models import ExecutionResult, FileChange
from k2_codeexec.sandbox import Plan, Sandbox, probe

logger = logging.getLogger(__name__)
UNSAFE_WARNING = (
    "no sandbox: bubblewrap could not start, and the server runs with --unsafe-no-sandbox; only resource limits "
    "apply (the code can read and write whatever the server's user can, and reach the network)"
)
MAX_SNAPSHOT = 5000
Progress = Callable[[float], Awaitable[None]]


@dataclass
class Session:
    id: str
    box: Sandbox
    created_at: float = field(default_factory=time.time)
    last_used_at: float = field(default_factory=time.time)
    executions: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            p = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.lstat(p)
                out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
            if len(out) >= MAX_SNAPSHOT:
                return out
    return out


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[FileChange]:
    found = [FileChange(path=p, change="created", size=after[p][0]) for p in after if p not in before]
    found += [
        FileChange(path=p, change="modified", size=after[p][0]) for p in after if p in before and after[p] != before[p]
    ]
    found += [FileChange(path=p, change="deleted", size=0) for p in before if p not in after]
    return sorted(found, key=lambda c: c.path)[:500]


def resolve(root: Path, rel: str) -> Path:
    """A workspace path: relative, no `..`, and (following links) still inside the workspace."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or ".." in pure.parts or "\x00" in rel:
        raise InvalidPath(f"{rel!r}: give a path relative to the workspace, without '..'")
    target = root.joinpath(*pure.parts)
    real = Path(os.path.realpath(target))
    if real != root and root not in real.parents:
        raise InvalidPath(f"{rel!r} leads outside the workspace")
    return real


def _write_files(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        target = resolve(root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


class CodeExecService:
    def __init__(self, settings: CodeExecSettings) -> None:
        self.settings = settings
        self.plan: Plan = probe(settings)
        self.sessions: dict[str, Session] = {}
        self._owned_root: str | None = None
        if settings.workspace is not None:
            settings.workspace.mkdir(parents=True, exist_ok=True)
            self.root = settings.workspace
        else:
            self._owned_root = tempfile.mkdtemp(prefix="k2-codeexec-")
            self.root = Path(self._owned_root)
        self.root.chmod(0o711)
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        self._pool: list[Sandbox] = []
        self._filling: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._discarding: set[asyncio.Task[None]] = set()

    @property
    def usable(self) -> bool:
        return self.plan.isolation == "bubblewrap" or self.settings.unsafe_no_sandbox

    @property
    def warning(self) -> str | None:
        return UNSAFE_WARNING if self.plan.isolation == "none" else None

    def check_usable(self) -> None:
        if not self.usable:
            raise SandboxUnavailable(
                f"code execution is off: {self.plan.reason}. Install bubblewrap (and allow user namespaces), or "
                "start the server with --unsafe-no-sandbox to run code with resource limits only"
            )

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[CodeExecService]:
        self._reaper = asyncio.create_task(self._expire_loop())
        self._refill()
        try:
            yield self
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        boxes = [s.box for s in self.sessions.values()] + self._pool
        for box in boxes:
            box.kill_now()  # before any await: this may run in a cancelled scope
        self.sessions.clear()
        self._pool.clear()
        with anyio.CancelScope(shield=True):
            for task in (self._reaper, self._filling):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            for pending in list(self._discarding):
                with contextlib.suppress(Exception):
                    await pending
            for box in boxes:
                await self._discard(box)
            if self._owned_root is not None:
                shutil.rmtree(self._owned_root, ignore_errors=True)

    async def _start(self, cpu_s: float | None) -> Sandbox:
        ws = self.root / f"ws-{secrets.token_hex(8)}"
        try:
            return await Sandbox.start(self.settings, self.plan, ws, cpu_s=cpu_s)
        except BaseException:
            shutil.rmtree(ws, ignore_errors=True)
            raise

    async def _discard(self, box: Sandbox) -> None:
        await box.kill()
        await asyncio.to_thread(shutil.rmtree, box.workspace, True)
        run_dir = box.workspace.parent / f".{box.workspace.name}.run"
        if run_dir.exists():
            await asyncio.to_thread(shutil.rmtree, run_dir, True)

    def _refill(self) -> None:
        if not self.usable or self.settings.warm_pool == 0:
            return
        if self._filling is None or self._filling.done():
            self._filling = asyncio.create_task(self._fill())

    async def _fill(self) -> None:
        while len(self._pool) < self.settings.warm_pool:
            try:
                box = await self._start(cpu_s=None)
            except Exception:
                logger.exception("could not start a warm sandbox")
                return
            self._pool.append(box)

    async def _take(self) -> Sandbox:
        """A started sandbox: from the warm pool when one is there (the pool refills behind)."""
        box = self._pool.pop(0) if self._pool else None
        self._refill()
        return box if box is not None else await self._start(cpu_s=None)

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.settings.session_idle_s / 2))
            now = time.time()
            for sid, s in list(self.sessions.items()):
                if now - s.last_used_at > self.settings.session_idle_s and not s.lock.locked():
                    logger.info("session %s expired", sid)
                    await self.close_session(sid)

    # sessions -------------------------------------------------------------------------------------------------
    async def create_session(self) -> Session:
        self.check_usable()
        if len(self.sessions) >= self.settings.max_sessions:
            raise TooManySessions(
                f"{len(self.sessions)} sessions are live (the cap is {self.settings.max_sessions}); close one first"
            )
        box = await self._take()
        session = Session(id=secrets.token_urlsafe(12), box=box)
        self.sessions[session.id] = session
        return session

    def session(self, session_id: str) -> Session:
        s = self.sessions.get(session_id)
        if s is None:
            raise SessionNotFound(f"no live session {session_id!r}: it was closed or expired; create_session again")
        return s

    async def close_session(self, session_id: str) -> bool:
        s = self.sessions.pop(session_id, None)
        if s is None:
            return False
        await self._discard(s.box)
        return True

    # execution ------------------------------------------------------------------------------------------------
    async def execute(
        self,
        kind: str,
        code: str,
        *,
        session_id: str | None,
        timeout: float | None,  # noqa: ASYNC109 (a limit for the sandboxed code)
        files: dict[str, str] | None,
        progress: Progress | None,
    ) -> tuple[ExecutionResult, list[bytes]]:
        self.check_usable()
        limit = min(timeout or self.settings.timeout_s, self.settings.timeout_s)
        session = self.session(session_id) if session_id else None
        async with self._slots:
            if session is not None:
                async with session.lock:
                    if session.id not in self.sessions:
                        raise SessionNotFound(f"the session {session.id!r} was closed")
                    session.last_used_at = time.time()
                    session.executions += 1
                    try:
                        result, images = await self._run(session.box, kind, code, limit, files, progress, session=True)
                    finally:
                        session.last_used_at = time.time()
                        if session.box.dead:  # timed out, cancelled or ended by the code: the session is over
                            self.sessions.pop(session.id, None)
                            self._later(self._discard(session.box))
                    result.session_id = session.id
                    result.session_lost = session.box.dead
                    return result, images
            box = await self._take()
            try:
                return await self._run(box, kind, code, limit, files, progress, session=False)
            finally:
                # the runner already killed whatever the code left; tearing the sandbox down need not delay the
                # answer, and must happen even when this call is cancelled
                self._later(self._discard(box))

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run clean-up in its own task: outside the caller's cancel scope, awaited at shutdown."""
        task = asyncio.create_task(work)
        self._discarding.add(task)
        task.add_done_callback(self._discarding.discard)

    async def _run(
        self,
        box: Sandbox,
        kind: str,
        code: str,
        limit: float,
        files: dict[str, str] | None,
        progress: Progress | None,
        *,
        session: bool,
    ) -> tuple[ExecutionResult, list[bytes]]:
        root = box.workspace.resolve()
        if files:
            await asyncio.to_thread(_write_files, root, files)
        before = await asyncio.to_thread(snapshot, root)
        started = time.monotonic()
        request = {
            "kind": kind,
            "code": code,
            "max_output": self.settings.max_output_bytes,
            "cpu_s": limit,
            "cpu_hard": not session,  # a session's interpreter must be able to take the next call
        }
        task = asyncio.ensure_future(box.execute(request))
        timed_out = False
        resp: dict[str, Any] | None = None
        try:
            while True:
                remaining = limit - (time.monotonic() - started)
                if remaining <= 0:
                    timed_out = True
                    break
                done, _ = await asyncio.wait({task}, timeout=min(1.0, remaining))
                if done:
                    resp = task.result()
                    break
                if progress is not None:
                    await progress(time.monotonic() - started)
        finally:
            if not task.done():
                box.kill_now()  # cancellation and timeouts kill the whole tree, at once
                task.cancel()
        duration = round(time.monotonic() - started, 4)
        after = await asyncio.to_thread(snapshot, root)
        if resp is None:
            await box.kill()  # answer only once every process of the sandbox is gone (its cgroup is empty)
            code_ = box.exit_code()
            result = ExecutionResult(
                stdout="",
                stderr="timed out: the process tree was killed" if timed_out else "the sandbox's interpreter ended",
                exit_code=-9 if timed_out else code_,
                timed_out=timed_out,
                duration_s=duration,
                files=changes(before, after),
                isolation=self._isolation(),
                landlock=box.landlock > 0,
                warning=self.warning,
            )
            return result, []
        images = [base64.b64decode(i) for i in resp.get("images", [])]
        result = ExecutionResult(
            stdout=resp["stdout"],
            stderr=resp["stderr"],
            exit_code=resp["exit_code"],
            value=resp.get("value"),
            truncated=bool(resp.get("truncated")),
            duration_s=duration,
            files=changes(before, after),
            images=len(images),
            isolation=self._isolation(),
            landlock=box.landlock > 0,
            warning=self.warning,
        )
        return result, images

    def _isolation(self) -> Any:
        return "bubblewrap" if self.plan.isolation == "bubblewrap" else "none"

    # workspace files ------------------------------------------------------------------------------------------
    def workspace_of(self, session_id: str) -> Path:
        return Path(os.path.realpath(self.session(session_id).box.workspace))
