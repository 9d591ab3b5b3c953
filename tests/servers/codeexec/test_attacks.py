"""Code that tries to get out, to read what it must not, or to hurt the host, through the SDK client.

Every attack asserts that it was contained, and (in `attack`) that the host is unchanged afterwards: the files
outside the workspaces are byte for byte the same, the host secret file is intact, no process the attack tried to
leave behind (its command line carries MARKER) is alive, and no sandbox process outlives the server.
"""

from __future__ import annotations

import ast
import os
import platform
import signal
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.codeexec.conftest import (
    MARKER,
    SECRET,
    World,
    kind,
    marked_processes,
    need_sandbox,
    ok,
    sandbox_children,
    serve,
)

pytestmark = pytest.mark.anyio


async def attack(world: World, tool: str, args: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """Run one call in a fresh server and check the host is as it was."""
    need_sandbox()
    before = world.snapshot()
    async with serve(world.settings(**settings)) as c:
        result = ok(await c.call_tool(tool, args))
        assert result["isolation"] == "bubblewrap"
        assert marked_processes() == [], "a process the attack started is still running on the host"
    assert world.snapshot() == before
    assert (world.outside / "secret.txt").read_text() == SECRET
    assert sandbox_children() == []
    return result


def host_can_spawn() -> bool:
    return subprocess.run(["true"], check=False).returncode == 0


def value(result: dict[str, Any]) -> Any:
    assert result["exit_code"] == 0, result["stderr"]
    return ast.literal_eval(result["value"])


# --- reading what is outside the workspace -----------------------------------------------------------------------


async def test_host_secret_file_cannot_be_read_by_its_absolute_path(world: World) -> None:
    path = world.outside / "secret.txt"
    r = await attack(world, "execute_python", {"code": f"open({str(path)!r}).read()"})
    assert r["exit_code"] == 1 and "FileNotFoundError" in r["stderr"] and SECRET not in r["stdout"] + r["stderr"]


async def test_shell_cannot_find_the_host_secret_anywhere_it_can_see(world: World) -> None:
    # /run holds the captured output of this very command; /proc its command line. Everything else visible is
    # searched, the interpreter's standard library included (the server's site-packages are not mounted).
    excluded = " ".join(f"--exclude-dir={d}" for d in ("proc", "sys", "usr", "run"))
    cmd = f"grep -rs {excluded} -l {SECRET} / ; echo done"
    r = await attack(world, "execute_shell", {"command": cmd, "timeout": 120}, timeout_s=120)  # a cold disk is slow
    assert r["stdout"] == "done\n", r


@pytest.mark.parametrize(
    "path", ["/etc/shadow", "/etc/passwd", "/etc/hostname", "/home", "/var", "/root/.bash_history", "/sys"]
)
async def test_host_system_files_are_not_in_the_sandbox(world: World, path: str) -> None:
    r = await attack(world, "execute_python", {"code": f"import os\nos.path.exists({path!r})"})
    assert value(r) is False


async def test_the_repository_and_server_workspace_root_are_not_visible(world: World) -> None:
    paths = [str(world.root), str(world.workspaces), os.path.join(os.getcwd(), "pyproject.toml"), str(world.outside)]
    r = await attack(world, "execute_python", {"code": f"import os\n[os.path.exists(p) for p in {paths!r}]"})
    assert value(r) == [False, False, False, False]


async def test_host_environment_secrets_do_not_reach_the_code(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "import os\ndict(os.environ)"})
    env = value(r)
    assert "K2_TEST_HOST_SECRET" not in env and SECRET not in repr(env)
    assert set(env) <= {
        "PATH",
        "HOME",
        "LANG",
        "TMPDIR",
        "MPLBACKEND",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PWD",
    }


async def test_no_process_environment_in_proc_holds_host_secrets(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'"})
    assert SECRET not in r["stdout"] and "K2_TEST_HOST_SECRET" not in r["stdout"]


async def test_host_processes_are_invisible(world: World) -> None:
    r = await attack(
        world, "execute_python", {"code": "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())"}
    )
    pids = value(r)
    assert (len(pids) <= 4 and os.getpid() not in pids) or max(pids) < 10


async def test_signals_cannot_reach_the_host_server(world: World) -> None:
    me = os.getpid()
    r = await attack(
        world,
        "execute_python",
        {"code": f"import os\ntry:\n    os.kill({me}, 9)\nexcept OSError as e:\n    print(e.errno)"},
    )
    assert r["stdout"].strip() in {"3", "1"}  # ESRCH or EPERM: the test process is alive to check it


async def test_a_workspace_symlink_to_a_host_file_cannot_be_read_through_the_file_tools(world: World) -> None:
    need_sandbox()
    secret = world.outside / "secret.txt"
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        made = ok(await c.call_tool("execute_shell", {"command": f"ln -s {secret} link; cat link", "session_id": sid}))
        assert SECRET not in made["stdout"]
        r = await c.call_tool("read_workspace_file", {"session_id": sid, "path": "link"})
        assert r.is_error and kind(r) == "invalid_path"
        ok(await c.call_tool("execute_shell", {"command": f"rm link; ln -s {world.outside} dir", "session_id": sid}))
        w = await c.call_tool("write_workspace_file", {"session_id": sid, "path": "dir/secret.txt", "content": "x"})
        assert w.is_error and kind(w) == "invalid_path"
    assert secret.read_text() == SECRET


async def test_sessions_cannot_see_each_others_workspace(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        a = ok(await c.call_tool("create_session", {}))["session_id"]
        b = ok(await c.call_tool("create_session", {}))["session_id"]
        ok(await c.call_tool("execute_shell", {"command": "echo private > a.txt", "session_id": a}))
        r = ok(await c.call_tool("execute_shell", {"command": "ls -A /workspace; ls /", "session_id": b}))
    assert "a.txt" not in r["stdout"]


# --- privilege ------------------------------------------------------------------------------------------------


async def test_code_runs_as_nobody_without_capabilities(world: World) -> None:
    code = (
        "import os\ncaps = [l for l in open('/proc/self/status') if l.startswith('CapEff')]\n"
        "(os.getuid(), os.getgid(), caps[0].split()[1])"
    )
    r = await attack(world, "execute_python", {"code": code})
    assert value(r) == (65534, 65534, "0000000000000000")


async def test_setuid_root_is_refused(world: World) -> None:
    r = await attack(
        world,
        "execute_python",
        {"code": "import os\ntry:\n    os.setuid(0)\nexcept OSError as e:\n    print(e.errno)\nos.getuid()"},
    )
    assert r["stdout"].strip() in {"1", "22"} and value(r) == 65534  # EPERM, or EINVAL: root is not even mapped


@pytest.mark.parametrize("path", ["/usr/evil", "/usr/bin/python3", "/bin/sh"])
async def test_system_directories_are_read_only(world: World, path: str) -> None:
    r = await attack(world, "execute_python", {"code": f"open({path!r}, 'a').write('x')"})
    assert r["exit_code"] == 1 and ("Read-only file system" in r["stderr"] or "Permission denied" in r["stderr"])


async def test_the_interpreter_prefix_is_read_only(world: World) -> None:
    code = "import os, sys\nopen(os.path.join(sys.prefix, 'evil.pth'), 'w').write('import os')"
    r = await attack(world, "execute_python", {"code": code})
    assert r["exit_code"] == 1 and "Read-only file system" in r["stderr"]


async def test_hostname_is_private_and_cannot_be_changed(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "import socket\nsocket.gethostname()"})
    assert value(r) == "sandbox"
    r = await attack(world, "execute_shell", {"command": "hostname evil"})
    assert r["exit_code"] != 0 and socket.gethostname() != "evil"


async def test_devices_are_only_the_harmless_ones(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "import os\nsorted(os.listdir('/dev'))"})
    devices = set(value(r))
    assert not devices & {"sda", "vda", "mem", "kmem", "port", "kvm", "nvme0", "fuse"}


SYSCALLS_X86_64 = {"bpf": 321, "keyctl": 250, "perf_event_open": 298, "kexec_load": 246, "init_module": 175,
                   "setns": 308, "userfaultfd": 323, "open_by_handle_at": 304, "ptrace": 101, "mount": 165,
                   "unshare": 272, "pivot_root": 155}  # fmt: skip
SYSCALLS_AARCH64 = {"bpf": 280, "keyctl": 219, "perf_event_open": 241, "kexec_load": 104, "init_module": 105,
                    "setns": 268, "userfaultfd": 282, "open_by_handle_at": 265, "ptrace": 117, "mount": 40,
                    "unshare": 97, "pivot_root": 41}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SYSCALLS_X86_64))
async def test_dangerous_system_calls_are_refused(world: World, name: str) -> None:
    table = {"x86_64": SYSCALLS_X86_64, "aarch64": SYSCALLS_AARCH64}.get(platform.machine())
    if table is None:
        pytest.skip(f"no syscall table for {platform.machine()} in this test")
    args = "0x10000000" if name == "unshare" else "0, 0, 0, 0, 0"
    code = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        f"(libc.syscall({table[name]}, {args}), ctypes.get_errno())"
    )
    r = await attack(world, "execute_python", {"code": code})
    assert value(r) == (-1, 1)  # EPERM from the seccomp filter


@pytest.mark.parametrize("command", ["unshare -U true", "unshare -n true", "unshare -m true"])
async def test_new_namespaces_cannot_be_created(world: World, command: str) -> None:
    r = await attack(world, "execute_shell", {"command": command})
    assert r["exit_code"] != 0


# --- network --------------------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.setblocking(False)
    yield srv
    srv.close()


def connect_code(host: str, port: int) -> str:
    return (
        "import socket\ntry:\n"
        f"    socket.create_connection(({host!r}, {port}), timeout=3).close()\n    print('connected')\n"
        "except OSError as e:\n    print('refused', e.errno)"
    )


async def test_host_loopback_services_are_unreachable(world: World, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    r = await attack(world, "execute_python", {"code": connect_code("127.0.0.1", port)})
    assert r["stdout"].startswith("refused")
    with pytest.raises(BlockingIOError):
        listener.accept()


async def test_the_same_probe_connects_when_the_network_is_allowed(world: World, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    r = await attack(world, "execute_python", {"code": connect_code("127.0.0.1", port)}, allow_network=True)
    assert r["stdout"] == "connected\n"


async def test_outbound_internet_is_unreachable(world: World) -> None:
    r = await attack(world, "execute_python", {"code": connect_code("1.1.1.1", 443)})
    assert r["stdout"].startswith("refused")


async def test_dns_does_not_resolve(world: World) -> None:
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('example.com', 80)\n    print('resolved')\n"
        "except OSError:\n    print('no dns')"
    )
    r = await attack(world, "execute_python", {"code": code})
    assert r["stdout"] == "no dns\n"


async def test_only_a_private_loopback_interface_exists(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"})
    assert r["stdout"].split() == ["lo"]


# --- resource exhaustion --------------------------------------------------------------------------------------


async def test_python_infinite_loop_is_killed_at_the_timeout(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "while True: pass", "timeout": 1})
    assert r["timed_out"] and r["exit_code"] == -9  # killed at the limit (attack() checks no process is left)


async def test_shell_infinite_loop_is_killed_at_the_timeout(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": f": {MARKER}; while :; do :; done", "timeout": 1})
    assert r["timed_out"]


async def test_a_loop_that_ignores_signals_is_still_killed(world: World) -> None:
    code = (
        "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):\n"
        "    signal.signal(s, signal.SIG_IGN)\nwhile True: pass"
    )
    r = await attack(world, "execute_python", {"code": code, "timeout": 1})
    assert r["timed_out"] or r["exit_code"] == -9


async def test_shell_fork_bomb_is_contained(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": f": {MARKER}; b() {{ b | b & }}; b; wait", "timeout": 3})
    assert r["timed_out"] or r["exit_code"] is not None
    assert host_can_spawn()


async def test_python_fork_loop_hits_the_process_cap(world: World) -> None:
    code = (
        "import os, time\nn, err = 0, None\ntry:\n    while n < 3000:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n        n += 1\n"
        "except OSError as e:\n    err = e.errno\n(n, err)"
    )
    r = await attack(world, "execute_python", {"code": code, "timeout": 8}, max_processes=64)
    n, err = value(r)
    assert n < 64 and err == 11  # EAGAIN


async def test_memory_exhaustion_fails_inside_the_sandbox(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "b = bytearray(4 * 1024 ** 3)"}, memory_mb=512)
    assert r["exit_code"] == 1 and "MemoryError" in r["stderr"]


async def test_memory_exhaustion_by_a_child_process_fails(world: World) -> None:
    cmd = "python3 -c 'b = bytearray(4 * 1024 ** 3)'; echo rc=$?"
    r = await attack(world, "execute_shell", {"command": cmd}, memory_mb=512)
    assert "MemoryError" in r["stderr"] and "rc=1" in r["stdout"]


async def test_a_huge_file_in_the_workspace_is_cut_at_the_file_size_limit(world: World) -> None:
    code = "f = open('big', 'wb')\nf.write(b'x' * (32 * 1024 * 1024))"
    r = await attack(world, "execute_python", {"code": code}, max_file_mb=4)
    assert r["exit_code"] == 1 and "File too large" in r["stderr"]


async def test_filling_tmp_stops_at_its_size(world: World) -> None:
    cmd = "dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; df -k /tmp | tail -1"
    r = await attack(world, "execute_shell", {"command": cmd}, tmp_size_mb=8)
    assert "No space left on device" in r["stdout"]


async def test_open_files_are_capped(world: World) -> None:
    code = (
        "fs = []\ntry:\n    while len(fs) < 100000:\n        fs.append(open('/dev/null'))\n"
        "except OSError as e:\n    print(e.errno)\nlen(fs)"
    )
    r = await attack(world, "execute_python", {"code": code}, max_open_files=64)
    assert r["stdout"] == "24\n" and value(r) < 64


async def test_huge_stdout_is_truncated_at_the_cap(world: World) -> None:
    r = await attack(world, "execute_python", {"code": "print('x' * 20_000_000)"}, max_output_bytes=10_000)
    assert r["truncated"] and len(r["stdout"]) == 10_000


async def test_huge_stderr_from_a_shell_is_truncated(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": "yes err | head -c 5000000 >&2"}, max_output_bytes=10_000)
    assert r["truncated"] and len(r["stderr"]) == 10_000


async def test_endless_output_ends_in_a_timeout_or_a_cut(world: World) -> None:
    r = await attack(world, "execute_shell", {"command": "yes", "timeout": 2}, max_output_bytes=10_000)
    assert r["timed_out"] or (r["truncated"] and len(r["stdout"]) <= 10_000)


# --- processes that try to outlive the call -------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        f"nohup sh -c 'sleep 300; : {MARKER}' >/dev/null 2>&1 &",
        f"setsid sh -c '(sleep 300; : {MARKER}) &' &",
        f"(trap '' HUP TERM; sh -c 'sleep 300; : {MARKER}') >/dev/null 2>&1 &",
    ],
    ids=["nohup", "setsid-double-fork", "ignores-signals"],
)
async def test_background_daemons_do_not_survive_a_call(world: World, command: str) -> None:
    r = await attack(world, "execute_shell", {"command": command})
    assert r["exit_code"] == 0


async def test_a_daemon_started_in_a_session_is_gone_before_the_next_call(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        code = f"import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 300; : {MARKER}'], start_new_session=True).pid"
        ok(await c.call_tool("execute_python", {"code": code, "session_id": sid}))
        assert marked_processes() == []
        r = ok(
            await c.call_tool(
                "execute_python",
                {"code": "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())", "session_id": sid},
            )
        )
        assert len(value(r)) == 2  # bwrap's init and the runner


async def test_processes_a_lingering_thread_starts_do_not_outlive_the_call(world: World) -> None:
    """A session's threads live on between calls (the interpreter does); what they start dies with the call."""
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        start = (
            "import os, threading\ngo = threading.Event()\n"
            f"threading.Thread(target=lambda: go.wait() and os.system('sleep 300; : {MARKER}'), daemon=True).start()"
        )
        ok(await c.call_tool("execute_python", {"code": start, "session_id": sid}))
        spawn = (
            f"go.set()\nwhile not any(b'{MARKER}' in open(f'/proc/{{p}}/cmdline', 'rb').read()\n"
            "                for p in os.listdir('/proc') if p.isdigit() and os.path.exists(f'/proc/{p}/cmdline')):\n"
            "    pass\n'spawned'"
        )
        r = ok(await c.call_tool("execute_python", {"code": spawn, "session_id": sid, "timeout": 5}))
        assert r["value"] == "'spawned'"
        assert marked_processes() == []


KILL_ALL = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept ProcessLookupError:\n    pass\n'me'"


@pytest.fixture
def host_process() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


async def test_kill_all_in_a_fresh_sandbox_spares_the_host(world: World, host_process: subprocess.Popen[bytes]) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(await c.call_tool("execute_shell", {"command": "kill -9 -1; echo after"}))
        assert r["exit_code"] is not None or r["stderr"]
        again = ok(await c.call_tool("execute_python", {"code": "'alive'"}))
    assert again["value"] == "'alive'"
    assert host_process.poll() is None
    assert sandbox_children() == []


async def test_kill_all_in_a_session_ends_only_that_session(
    world: World, host_process: subprocess.Popen[bytes]
) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        spared = ok(await c.call_tool("execute_python", {"code": KILL_ALL, "session_id": sid}))
        assert spared["value"] == "'me'"  # kill(-1) spares the caller: the interpreter lives on
        r = ok(await c.call_tool("execute_shell", {"command": "kill -9 -1", "session_id": sid}))
        assert r["session_lost"] is True
        assert ok(await c.call_tool("list_sessions", {}))["sessions"] == []
        assert ok(await c.call_tool("execute_python", {"code": "1 + 1"}))["value"] == "2"
    assert host_process.poll() is None and os.kill(host_process.pid, 0) is None
    assert signal.SIGKILL  # the host process above was signalled by nobody


def host_landlock_abi() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(0, libc.syscall(444, None, 0, 1))


@pytest.mark.parametrize("path", ["/etc/evil", "/evil", "/root/evil"])
async def test_writes_outside_the_workspace_tmp_and_run_are_refused(world: World, path: str) -> None:
    r = await attack(world, "execute_python", {"code": f"open({path!r}, 'w').write('x')"})
    assert r["exit_code"] == 1 and ("PermissionError" in r["stderr"] or "Read-only" in r["stderr"])
    assert r["landlock"] is (host_landlock_abi() > 0)
