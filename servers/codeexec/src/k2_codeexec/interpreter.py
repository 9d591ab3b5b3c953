"""What of the server's Python installation a sandbox sees.

A sandbox runs the server's *base* interpreter (the one its virtual environment was made from, or the server's own
when it has none) with exactly what that interpreter needs mounted read-only at the same paths: its executable,
its standard library (the `sys.path` it has without `site`: the stdlib and `lib-dynload`) and the shared libraries
in its prefix's `lib/` (`libpython3.X.so` of a shared build). The server's virtual environment is not mounted at
all, so the host, the other servers and whatever else is installed beside them (torch, ...) stay out of sight.
Site-packages directories inside what is visible anyway (the base installation's own, and those of every Python
under `/usr`: a distribution's `/usr/lib/python3/dist-packages`, `/usr/local/lib/python3.X/dist-packages`) are
covered by an empty read-only tmpfs.

The only third-party code sandboxed code can import is the packages directory the settings name (`packages`), a
virtual environment's site-packages or a `pip install --target` directory, mounted read-only at
`SANDBOX_PACKAGES` and added to `sys.path` (with its `.pth` files) by the runner.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_PACKAGES = "/opt/k2/site-packages"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")  # read-only in every sandbox
# where the system's Pythons keep third-party packages (Debian: dist-packages; Fedora: lib64; pip: /usr/local)
SYSTEM_SITES = tuple(
    f"{prefix}/lib*/python3*/{kind}" for prefix in ("/usr", "/usr/local") for kind in ("site-packages", "dist-packages")
)
_INSPECT = (
    "import json, site, sys\n"
    "print(json.dumps({'prefix': sys.prefix, 'path': sys.path, 'sites': site.getsitepackages()}))"
)


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


@dataclass(frozen=True)
class Interpreter:
    executable: str  # the real path of the base interpreter
    binds: tuple[str, ...]  # mounted read-only at the same path: the executable, stdlib dirs, shared libraries
    hidden: tuple[str, ...]  # site-packages directories that would be visible: covered by an empty tmpfs

    def bwrap_args(self, packages: Path | None) -> list[str]:
        args: list[str] = []
        for path in self.binds:
            args += ["--ro-bind", path, path]
        for path in self.hidden:
            args += ["--size", "4096", "--tmpfs", path, "--remount-ro", path]
        if packages is not None:
            args += ["--ro-bind", str(packages), SANDBOX_PACKAGES]
        return args


@functools.cache
def find_interpreter() -> Interpreter:
    """Ask the base interpreter (run without `site`) where its standard library is. Raises OSError,
    subprocess.SubprocessError or ValueError when it cannot be run or answers nonsense."""
    executable = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    out = subprocess.run(
        [executable, "-I", "-S", "-c", _INSPECT], capture_output=True, text=True, timeout=30, env={}, check=True
    )
    info = json.loads(out.stdout)
    system = [os.path.realpath(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    binds: list[str] = []
    if not _inside(executable, system):
        binds.append(executable)
    stdlib = sorted({os.path.realpath(p) for p in info["path"] if os.path.isabs(p) and os.path.exists(p)})
    for path in stdlib:  # sorted: a parent comes before what is under it
        if not _inside(path, system + binds):
            binds.append(path)
    libdir = os.path.realpath(os.path.join(info["prefix"], "lib"))
    if os.path.isdir(libdir) and not _inside(libdir, system):
        binds += sorted(str(p) for p in Path(libdir).glob("lib*.so*") if p.is_file())
    # what must stay out of sight although it lies under a visible directory
    candidates: list[str] = [*info["sites"], *_server_sites(), *_system_sites()]
    if sys.prefix != sys.base_prefix:
        candidates.append(sys.prefix)  # the server's virtual environment
    visible = system + binds
    hidden = sorted({real for c in candidates if os.path.isdir(real := os.path.realpath(c)) and _inside(real, visible)})
    hidden = [h for h in hidden if not any(h != o and _inside(h, [o]) for o in hidden)]  # outermost only
    return Interpreter(executable, tuple(binds), tuple(hidden))


def _server_sites() -> list[str]:
    return [*site.getsitepackages(), site.getusersitepackages()]


def _system_sites() -> list[str]:
    return sorted(path for pattern in SYSTEM_SITES for path in glob.glob(pattern))
