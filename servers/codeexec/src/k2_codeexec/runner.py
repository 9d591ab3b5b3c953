"""The interpreter that runs inside the sandbox (stdlib only; passed to `python -c`).

Protocol: one JSON request per line on the saved stdin, one JSON response per line on the saved stdout. For each
request the user's fds 0/1/2 are /dev/null and two files under a private directory, read back (capped) after the
run. Between requests every other process in the sandbox's pid namespace is killed, so nothing outlives a call.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import os
import resource
import signal
import site
import subprocess
import sys
import time
import traceback

PROTO_IN = os.dup(0)
PROTO_OUT = os.dup(1)
OUT_DIR = os.environ.pop("K2_OUT_DIR", "/run/k2")
LIMITS = json.loads(os.environ.pop("K2_LIMITS", "{}"))
WORKDIR = os.environ.pop("K2_WORKSPACE", "/workspace")
REAP = os.environ.pop("K2_REAP", "") == "1"  # only inside a private pid namespace
LANDLOCK = os.environ.pop("K2_LANDLOCK", "")  # "" off, "fs" writes only, "fs+net" also no TCP at all
SITE = os.environ.pop("K2_SITE", "")  # the packages directory the server allows, if any
NAMESPACE: dict = {"__name__": "__main__", "__builtins__": __builtins__}


def set_limits() -> None:
    for name, value in LIMITS.items():
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(getattr(resource, name), (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def landlock() -> int:
    """Restrict writes to /workspace, /tmp, /run and /dev (and, with "fs+net", every TCP bind and connect) with
    Landlock, on top of the read-only mounts. Returns the kernel's Landlock ABI, 0 where it has none."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        return 0
    write = (1 << 1) | (0x1FF << 4)  # WRITE_FILE, REMOVE_*, MAKE_*
    if abi >= 2:
        write |= 1 << 13  # REFER
    if abi >= 3:
        write |= 1 << 14  # TRUNCATE
    net = 3 if LANDLOCK == "fs+net" and abi >= 4 else 0  # BIND_TCP | CONNECT_TCP, with no port allowed
    scoped = 1 if abi >= 6 else 0  # abstract unix sockets of other domains
    attr = (ctypes.c_uint64 * 3)(write, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    fd = libc.syscall(444, ctypes.byref(attr), size, 0)
    if fd < 0:
        return 0

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    for path, access in ((WORKDIR, write), ("/tmp", write), ("/run", write), ("/dev", (1 << 1) | (1 << 14))):  # noqa: S108
        try:
            dfd = os.open(path, os.O_PATH | os.O_DIRECTORY)
        except OSError:
            continue
        rule = PathBeneath(access & write, dfd)
        libc.syscall(445, fd, 1, ctypes.byref(rule), 0)
        os.close(dfd)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    ok = libc.syscall(446, fd, 0) == 0
    os.close(fd)
    return abi if ok else 0


def read_capped(path: str, cap: int) -> tuple[str, bool]:
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError:
        return "", False
    return data[:cap].decode("utf-8", "replace"), len(data) > cap


def reap_others() -> None:
    """Kill every process of this pid namespace except init (1) and this runner, and wait until they are gone
    (bwrap's init reaps those that are not this runner's children)."""
    me = os.getpid()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
        for pid in others:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        time.sleep(0.001)


class CappedRaw(io.RawIOBase):
    """fd 1 or 2 for Python-level writes: accepts everything, keeps the first `cap` + 1 bytes (enough to know the
    output was cut), so a huge print never fills the disk nor fails."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.left = fd, cap + 1

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        n = len(b)
        if self.left > 0:
            chunk = bytes(b[: self.left])
            self.left -= len(chunk)
            with contextlib.suppress(OSError):
                while chunk:
                    chunk = chunk[os.write(self.fd, chunk) :]
        return n


def figures() -> list[str]:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    images = []
    for num in plt.get_fignums()[:8]:
        buf = io.BytesIO()
        plt.figure(num).savefig(buf, format="png")
        images.append(base64.b64encode(buf.getvalue()).decode())
    plt.close("all")
    return images


def run_python(code: str) -> tuple[int, str | None]:
    tree = ast.parse(code, "<code>", "exec")
    last = None
    tail = tree.body[-1] if tree.body else None
    if isinstance(tail, ast.Expr):
        tree.body.pop()
        last = ast.Expression(tail.value)
    exec(compile(tree, "<code>", "exec"), NAMESPACE)  # noqa: S102 (running the caller's code is the point)
    if last is not None:
        value = eval(compile(last, "<code>", "eval"), NAMESPACE)  # noqa: S307 (the caller's final expression)
        if value is not None:
            return 0, repr(value)[:10_000]
    return 0, None


def handle(req: dict) -> dict:
    out_path, err_path = os.path.join(OUT_DIR, "out"), os.path.join(OUT_DIR, "err")
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    targets = [os.open(os.devnull, os.O_RDONLY)]
    targets += [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) for p in (out_path, err_path)]
    for fd, target in enumerate(targets):
        os.dup2(target, fd)
        os.close(target)
    cap = int(req.get("max_output", 100_000))
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(CappedRaw(1, cap)), write_through=True)
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(CappedRaw(2, cap)), write_through=True)
    value, exit_code, images = None, 0, []
    cpu_s = req.get("cpu_s")
    if cpu_s:
        used = resource.getrusage(resource.RUSAGE_SELF)
        budget = int(used.ru_utime + used.ru_stime + cpu_s) + 1
        hard = budget if req.get("cpu_hard") else resource.RLIM_INFINITY
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))
    started = time.monotonic()
    try:
        if req["kind"] == "python":
            exit_code, value = run_python(req["code"])
            images = figures()
        else:
            # same process group as the runner: a timeout kills the group even without a pid namespace
            exit_code = subprocess.run(["/bin/sh", "-c", req["code"]], cwd=WORKDIR, check=False).returncode
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
        exit_code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # the code may have closed or replaced them
                stream.flush()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        for fd, s in enumerate(saved):
            os.dup2(s, fd)
            os.close(s)
    duration = time.monotonic() - started
    if REAP:
        reap_others()
    stdout, cut_out = read_capped(out_path, cap)
    stderr, cut_err = read_capped(err_path, cap)
    return {
        "stdout": stdout,
        "stderr": stderr,
        "exit_code": exit_code,
        "value": value,
        "truncated": cut_out or cut_err,
        "duration_s": duration,
        "images": images,
    }


def main() -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    os.chdir(WORKDIR)
    if SITE:
        site.addsitedir(SITE)  # with its .pth files, after the standard library
    sys.path.insert(0, WORKDIR)
    set_limits()
    abi = landlock() if LANDLOCK else 0
    reader = os.fdopen(PROTO_IN, "rb")
    writer = os.fdopen(PROTO_OUT, "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    writer.write(json.dumps({"ready": True, "landlock": abi}).encode() + b"\n")
    writer.flush()
    for line in reader:
        try:
            resp = handle(json.loads(line))
        except BaseException as exc:  # the protocol must answer whatever the code did
            resp = {
                "stdout": "",
                "stderr": f"runner error: {exc!r}",
                "exit_code": 1,
                "value": None,
                "truncated": False,
                "duration_s": 0.0,
                "images": [],
            }
        writer.write(json.dumps(resp).encode() + b"\n")
        writer.flush()


main()
