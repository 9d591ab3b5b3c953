"""Start the runner in a bubblewrap sandbox (or, with the unsafe flag, bare with rlimits) and talk to it.

A sandbox is one `bwrap` process tree: user, pid, mount, network, ipc, uts and cgroup namespaces, uid 65534,
read-only system directories, interpreter and standard library (and the `packages` directory, if set; see
`interpreter`: nothing else of the server's Python installation is mounted), a read-only root, a private /tmp,
the workspace bound read-write at /workspace, a scrubbed environment, a seccomp filter and rlimits. Killing it
kills bwrap's process group; bwrap's pid 1 dies with it (`--die-with-parent`), and with pid 1 the kernel kills
every process of the namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from k2_codeexec.config import CodeExecSettings
from k2_codeexec.interpreter import SANDBOX_PACKAGES, SYSTEM_DIRS, Interpreter, find_interpreter

logger = logging.getLogger(__name__)

SANDBOX_UID = 65534
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/alternatives", "/etc/localtime", "/etc/ssl/certs")
BLOCKED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare",
    "setns", "bpf", "keyctl", "add_key", "request_key", "perf_event_open", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "swapon", "swapoff", "reboot", "acct", "quotactl",
    "userfaultfd", "open_by_handle_at", "name_to_handle_at", "fsopen", "fsmount", "fsconfig", "fspick",
    "move_mount", "open_tree", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "lookup_dcookie", "vhangup", "personality", "iopl", "ioperm", "mount_setattr",
)  # fmt: skip
CLONE_NEW_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_ids = itertools.count(1)


def seccomp_program() -> bytes | None:
    """The BPF filter: the calls above fail with EPERM, clone with a namespace flag too, clone3 with ENOSYS (so
    libc falls back to clone, whose flags the filter can read). None when libseccomp is not installed."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError) as exc:
        logger.warning("seccomp unavailable: %s", exc)
        return None
    f = sc.SyscallFilter(sc.ALLOW)
    for name in BLOCKED_SYSCALLS:
        with contextlib.suppress(RuntimeError, ValueError):
            f.add_rule(sc.ERRNO(1), name)
    f.add_rule(sc.ERRNO(1), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NEW_FLAGS, 1 << 28))
    for flag in (0x20000, 0x2000000, 0x4000000, 0x8000000, 0x20000000, 0x40000000, 0x02000000):
        f.add_rule(sc.ERRNO(1), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    f.add_rule(sc.ERRNO(38), "clone3")
    f.add_rule(sc.ERRNO(1), "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, 0x5412))  # TIOCSTI
    with tempfile.TemporaryFile() as tmp:
        f.export_bpf(tmp)
        tmp.seek(0)
        return tmp.read()


def runner_source() -> str:
    return resources.files("k2_codeexec").joinpath("runner.py").read_text(encoding="utf-8")


def rlimits(settings: CodeExecSettings, *, cpu_s: float | None) -> dict[str, int]:
    limits = {
        "RLIMIT_AS": settings.memory_mb * 1024 * 1024,
        "RLIMIT_FSIZE": settings.max_file_mb * 1024 * 1024,
        "RLIMIT_NOFILE": settings.max_open_files,
        "RLIMIT_NPROC": settings.max_processes,
        "RLIMIT_CORE": 0,
    }
    if cpu_s is not None:
        limits["RLIMIT_CPU"] = max(1, int(cpu_s) + 1)
    return limits


class PidsCgroup:
    """A pids cgroup (v1 or v2) capping the processes of one sandbox, where the server may create one. RLIMIT_NPROC
    does not bind a process whose host uid is root, which is what bwrap's user namespace maps uid 65534 to when
    the server runs as root; the cgroup does. None of this is needed for non-root servers."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def remove_stale() -> None:
        """Remove the empty cgroups of k2-codeexec servers that are gone (killed before they could clean up)."""
        for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
            with contextlib.suppress(OSError):
                for path in base.glob("k2-codeexec-*"):
                    owner = path.name.split("-")[2]
                    if owner.isdigit() and not Path("/proc", owner).exists():
                        with contextlib.suppress(OSError):
                            path.rmdir()

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
            if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
                continue
            path = base / f"k2-codeexec-{os.getpid()}-{next(_ids)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
                return cls(path)
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
        return None

    def enter(self) -> None:
        (self.path / "cgroup.procs").write_text("0")

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


@dataclass
class Plan:
    """How sandboxes are started: decided once at server start by `probe`."""

    isolation: str  # "bubblewrap" or "none"
    bwrap: str | None
    seccomp: bytes | None
    cgroups: bool
    reason: str | None = None
    python: Interpreter | None = None  # what of the Python installation the sandbox mounts (bubblewrap only)


def _bind_args(settings: CodeExecSettings) -> list[str]:
    args: list[str] = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in ETC_FILES:
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    if settings.allow_network:
        args += ["--share-net"]
        for f in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"):
            if os.path.exists(f):
                args += ["--ro-bind", f, f]
    return args


def _python_binds(settings: CodeExecSettings, python: Interpreter) -> list[str]:
    """The base interpreter, its standard library and the packages directory, read-only. Bound after the private
    /tmp and /run, so that an interpreter installed below /tmp (a CI checkout, say) is not hidden by them."""
    return python.bwrap_args(settings.packages)


def _prepare_workspace(workspace: Path, plan: Plan) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    workspace.chmod(0o777 if plan.isolation == "none" else 0o755)
    if plan.isolation == "none":
        (workspace.parent / f".{workspace.name}.run").mkdir(exist_ok=True)


class Sandbox:
    """One running runner: a persistent interpreter with its workspace."""

    def __init__(self, proc: asyncio.subprocess.Process, workspace: Path, cgroup: PidsCgroup | None) -> None:
        self.proc = proc
        self.workspace = workspace
        self.cgroup = cgroup
        self.dead = False
        self.landlock = 0  # the Landlock ABI the runner enforced (0: none)

    @classmethod
    async def start(cls, settings: CodeExecSettings, plan: Plan, workspace: Path, *, cpu_s: float | None) -> Sandbox:
        _prepare_workspace(workspace, plan)
        limits = json.dumps(rlimits(settings, cpu_s=cpu_s))
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/workspace",
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",  # noqa: S108 (the sandbox's private tmpfs)
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "K2_LIMITS": limits,
        }
        cgroup = PidsCgroup.create(settings.max_processes) if plan.cgroups else None
        pass_fds: tuple[int, ...] = ()
        seccomp_r = -1
        if plan.isolation == "bubblewrap":
            assert plan.bwrap is not None and plan.python is not None
            env |= {"K2_REAP": "1", "K2_OUT_DIR": "/run/k2"}
            if settings.packages is not None:
                env["K2_SITE"] = SANDBOX_PACKAGES
            env["K2_LANDLOCK"] = "fs" if settings.allow_network else "fs+net"
            argv = [
                plan.bwrap,
                "--unshare-all",
                "--unshare-user",
                "--disable-userns",
                "--die-with-parent",
                "--new-session",
            ]
            argv += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
            argv += _bind_args(settings)
            argv += ["--proc", "/proc", "--dev", "/dev"]
            argv += ["--size", str(settings.tmp_size_mb * 1024 * 1024), "--tmpfs", "/tmp"]  # noqa: S108
            argv += ["--size", str(max(16 * 1024 * 1024, 4 * settings.max_output_bytes)), "--tmpfs", "/run"]
            argv += _python_binds(settings, plan.python)
            argv += ["--bind", str(workspace), "/workspace", "--remount-ro", "/", "--chdir", "/workspace", "--clearenv"]
            for k, v in env.items():
                argv += ["--setenv", k, v]
            if plan.seccomp:
                seccomp_r, seccomp_w = os.pipe()
                os.write(seccomp_w, plan.seccomp)
                os.close(seccomp_w)
                argv += ["--seccomp", str(seccomp_r)]
                pass_fds = (seccomp_r,)
            argv += [plan.python.executable, "-I", "-c", runner_source()]
            run_env: dict[str, str] = {}
            cwd = "/"
        else:
            out_dir = workspace.parent / f".{workspace.name}.run"
            env |= {"K2_OUT_DIR": str(out_dir), "K2_WORKSPACE": str(workspace), "HOME": str(workspace)}
            if settings.packages is not None:
                env["K2_SITE"] = str(settings.packages)
            argv, run_env, cwd = [sys.executable, "-I", "-c", runner_source()], env, str(workspace)

        def prepare() -> None:
            if cgroup is not None:
                with contextlib.suppress(OSError):
                    cgroup.enter()
            if plan.isolation == "none":
                for name, value in rlimits(settings, cpu_s=cpu_s).items():
                    with contextlib.suppress(ValueError, OSError):
                        resource.setrlimit(getattr(resource, name), (value, value))

        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=run_env,
                cwd=cwd,
                start_new_session=True,
                pass_fds=pass_fds,
                preexec_fn=prepare,
                limit=64 * 1024 * 1024,
            )
        finally:
            if seccomp_r >= 0:
                os.close(seccomp_r)
        box = cls(proc, workspace, cgroup)
        try:
            ready = await box._read()
        except BaseException:
            await box.kill()
            raise
        if ready is None or not ready.get("ready"):
            await box.kill()
            raise RuntimeError("the sandbox did not start")
        box.landlock = int(ready.get("landlock") or 0)
        return box

    async def _read(self) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return None

    async def execute(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Send one request; the response, or None when the runner died (killed, or the code ended it)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            self.dead = True
            return None
        resp = await self._read()
        if resp is None:
            self.dead = True
        return resp

    def kill_now(self) -> None:
        """SIGKILL bwrap's process group at once (no await: usable in a cancelled scope). Its pid 1 dies with it
        (--die-with-parent), and the kernel kills the rest of the pid namespace."""
        self.dead = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    async def kill(self) -> None:
        """Kill the whole tree and wait for it, then remove its cgroup; idempotent."""
        self.kill_now()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            with contextlib.suppress(Exception):
                await self.proc.wait()
        finally:
            cgroup, self.cgroup = self.cgroup, None
            if cgroup is not None:
                # handed to a worker thread at once, so it runs to the end even if this await is cancelled
                await asyncio.to_thread(_drain_cgroup, cgroup)

    def exit_code(self) -> int | None:
        return self.proc.returncode


def _drain_cgroup(cgroup: PidsCgroup) -> None:
    """Kill what is left in the cgroup and remove it (it can be removed once its last process is reaped)."""
    for _ in range(2000):
        try:
            pids = [int(p) for p in (cgroup.path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            cgroup.path.rmdir()
            return
        except OSError:
            time.sleep(0.005)  # the killed processes are still exiting
    logger.warning("could not remove the cgroup %s", cgroup.path)


def probe(settings: CodeExecSettings) -> Plan:
    """Check at start that bubblewrap runs the interpreter; fall back to no sandbox only with the unsafe flag."""
    bwrap = shutil.which("bwrap")
    seccomp = seccomp_program()
    PidsCgroup.remove_stale()
    cg = PidsCgroup.create(settings.max_processes)
    cgroups = cg is not None
    if cg is not None:
        cg.remove()
    reason = None
    python: Interpreter | None = None
    try:
        python = find_interpreter()
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        reason = f"cannot find the interpreter's standard library: {exc}"
    if bwrap is None:
        reason = "bubblewrap (bwrap) is not installed"
    elif python is not None:
        argv = [
            bwrap,
            "--unshare-all",
            "--unshare-user",
            "--die-with-parent",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
        ]
        argv += [*_bind_args(settings), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108
        argv += [*_python_binds(settings, python), "--clearenv"]
        argv += [python.executable, "-I", "-c", "import ctypes, json, os; print(os.getuid())"]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={})
            if out.returncode != 0 or out.stdout.strip() != str(SANDBOX_UID):
                reason = f"bubblewrap cannot create the sandbox: {out.stderr.strip()[:300]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"bubblewrap cannot create the sandbox: {exc}"
    if reason is None:
        return Plan("bubblewrap", bwrap, seccomp, cgroups, python=python)
    logger.warning("%s", reason)
    return Plan("none", None, None, cgroups, reason)
