"""What of the Python installation sandboxed code sees: the standard library, and third-party packages only from the
`packages` directory the settings name; never the server's own environment (the host, the other servers, torch).
"""

from __future__ import annotations

import ast
import glob
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import site
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
from k2_codeexec.config import parse_args
from k2_codeexec.interpreter import SANDBOX_PACKAGES, find_interpreter

from tests.servers.codeexec.conftest import World, need_sandbox, ok, serve

pytestmark = pytest.mark.anyio

HOST_PACKAGES = ("k2_host", "k2_database", "k2_filesystem", "k2_websearch", "k2_codeexec", "k2_shared", "mcp")
HOST_PACKAGES += ("pydantic", "anyio", "duckdb", "torch", "sentence_transformers", "numpy")
IMPORT_EACH = """
import importlib
found = {}
for name in NAMES:
    try:
        importlib.import_module(name)
        found[name] = 'imported'
    except ModuleNotFoundError:
        found[name] = 'ModuleNotFoundError'
found
"""


def literal(result: dict[str, Any]) -> Any:
    assert result["exit_code"] == 0, result["stderr"]
    return ast.literal_eval(result["value"])


async def run_python(world: World, code: str, **settings: Any) -> dict[str, Any]:
    need_sandbox()
    async with serve(world.settings(**settings)) as c:
        r = ok(await c.call_tool("execute_python", {"code": code}))
    assert r["isolation"] == "bubblewrap"
    return r


def make_package(site_dir: Path, name: str = "k2demo", version: str = "1.2.3") -> None:
    """A tiny installed distribution: a package, its dist-info, and a .pth file adding one more directory."""
    (site_dir / name).mkdir(parents=True)
    (site_dir / name / "__init__.py").write_text(f"ANSWER = 42\nVERSION = {version!r}\n")
    info = site_dir / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (site_dir / "extra").mkdir()
    (site_dir / "extra" / "k2extra.py").write_text("FROM_PTH = True\n")
    (site_dir / "k2demo-extra.pth").write_text("extra\n")


# --- the server's environment stays out of sight ------------------------------------------------------------------


async def test_the_hosts_packages_cannot_be_imported_in_the_sandbox(world: World) -> None:
    on_host = [name for name in HOST_PACKAGES if importlib.util.find_spec(name) is not None]
    assert {"k2_host", "k2_database", "mcp"} <= set(on_host)  # the server's environment holds them
    r = await run_python(world, f"NAMES = {HOST_PACKAGES!r}\n{IMPORT_EACH}")
    assert literal(r) == dict.fromkeys(HOST_PACKAGES, "ModuleNotFoundError")


async def test_the_servers_environment_and_site_packages_are_not_mounted(world: World) -> None:
    hidden = [sys.prefix, *site.getsitepackages(), str(Path(__file__).resolve().parents[3])]  # + the repository
    code = (
        "import os\nseen = {}\n"
        f"for p in {hidden!r}:\n"
        "    try:\n        seen[p] = os.listdir(p)\n    except FileNotFoundError:\n        seen[p] = None\n"
        "seen"
    )
    r = await run_python(world, code)
    assert literal(r) == dict.fromkeys(hidden, None)


async def test_site_packages_inside_the_interpreters_installation_are_empty(world: World) -> None:
    code = "import os, site, sys\n[(p, os.listdir(p)) for p in site.getsitepackages() if os.path.isdir(p)]"
    r = await run_python(world, code)
    assert all(entries == [] for _, entries in literal(r))


def system_package_dirs() -> list[str]:
    """The non-empty site-packages and dist-packages directories of the Pythons installed under /usr."""
    found = set()
    for prefix in ("/usr", "/usr/local"):
        for kind in ("site-packages", "dist-packages"):
            found |= {os.path.realpath(p) for p in glob.glob(f"{prefix}/lib*/python3*/{kind}")}
    return sorted(p for p in found if os.path.isdir(p) and os.listdir(p))


async def test_the_systems_python_packages_under_usr_are_empty_and_cannot_be_imported(world: World) -> None:
    dirs = system_package_dirs()
    if not dirs:
        pytest.skip("no Python packages are installed under /usr on this machine")
    packages = sorted(e.name for d in dirs for e in Path(d).iterdir() if (e / "__init__.py").is_file())
    assert packages  # e.g. Debian's python3-yaml, python3-jwt
    code = (
        f"import os, sys\nsys.path.extend({dirs!r})\nNAMES = {packages[:5]!r}\n{IMPORT_EACH}\n"
        f"([(p, os.listdir(p)) for p in {dirs!r}], found)"
    )
    r = await run_python(world, code)
    assert literal(r) == ([(d, []) for d in dirs], dict.fromkeys(packages[:5], "ModuleNotFoundError"))


async def test_the_sandbox_does_not_see_its_own_packages_mount_when_none_is_set(world: World) -> None:
    r = await run_python(
        world, f"import os, sys\n(os.path.exists({SANDBOX_PACKAGES!r}), {SANDBOX_PACKAGES!r} in sys.path)"
    )
    assert literal(r) == (False, False)


# --- the standard library works --------------------------------------------------------------------------------


async def test_the_standard_library_works_with_its_compiled_modules(world: World) -> None:
    code = """
import asyncio, ctypes, decimal, hashlib, json, sqlite3, ssl, subprocess, sys, zlib
db = sqlite3.connect(':memory:')
child = subprocess.run([sys.executable, '-c', 'import json; print(json.dumps([1]))'], capture_output=True, text=True)
(
    db.execute('select 6 * 7').fetchone()[0],
    str(decimal.Decimal('0.1') + decimal.Decimal('0.2')),
    hashlib.sha256(b'k2').hexdigest()[:8],
    zlib.decompress(zlib.compress(b'abc')),
    asyncio.run(asyncio.sleep(0, 'async')),
    ctypes.sizeof(ctypes.c_int),
    child.stdout,
)
"""
    r = await run_python(world, code)
    assert literal(r) == (42, "0.3", hashlib.sha256(b"k2").hexdigest()[:8], b"abc", "async", 4, "[1]\n")


# --- an allowed packages directory ------------------------------------------------------------------------------


async def test_a_packages_directory_is_importable_with_its_metadata_and_pth_files(world: World, tmp_path: Path) -> None:
    packages = tmp_path / "sandbox-packages"
    make_package(packages)
    code = (
        "import importlib.metadata, k2demo, k2extra\n"
        "(k2demo.ANSWER, importlib.metadata.version('k2demo'), k2extra.FROM_PTH, k2demo.__file__)"
    )
    r = await run_python(world, code, packages=packages)
    assert literal(r) == (42, "1.2.3", True, f"{SANDBOX_PACKAGES}/k2demo/__init__.py")


async def test_a_compiled_package_installed_in_the_packages_directory_works(world: World, tmp_path: Path) -> None:
    """numpy (a C extension with bundled shared libraries), copied as installed from the server's environment into a
    packages directory: importable from there, and only from there."""
    spec = importlib.util.find_spec("numpy")
    assert spec is not None and spec.origin is not None  # the host depends on numpy
    installed = Path(spec.origin).parent.parent
    packages = tmp_path / "sandbox-packages"
    packages.mkdir()
    for entry in installed.iterdir():
        if entry.name == "numpy" or entry.name.startswith(("numpy-", "numpy.libs")):
            shutil.copytree(entry, packages / entry.name, copy_function=link_or_copy)
    code = (
        "import importlib.metadata, numpy\n"
        "(int(numpy.arange(10).sum()), round(float(numpy.linalg.det(numpy.eye(3) * 2)), 6), numpy.__file__, "
        "importlib.metadata.version('numpy'))"
    )
    r = await run_python(world, code, packages=packages)
    assert literal(r) == (45, 8.0, f"{SANDBOX_PACKAGES}/numpy/__init__.py", importlib.metadata.version("numpy"))
    r = await run_python(world, "NAMES = ('numpy',)\n" + IMPORT_EACH)  # without the packages directory: gone
    assert literal(r) == {"numpy": "ModuleNotFoundError"}


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem
        shutil.copy2(src, dst)


async def test_a_packages_directory_is_read_only_and_the_host_stays_hidden(world: World, tmp_path: Path) -> None:
    packages = tmp_path / "sandbox-packages"
    make_package(packages)
    code = (
        f"try:\n    open({SANDBOX_PACKAGES + '/evil.pth'!r}, 'w').write('import os')\n    wrote = True\n"
        "except OSError:\n    wrote = False\n"
        f"NAMES = ('k2_host', 'k2_database', 'torch')\n{IMPORT_EACH}\n(wrote, found)"
    )
    r = await run_python(world, code, packages=packages)
    assert literal(r) == (False, dict.fromkeys(("k2_host", "k2_database", "torch"), "ModuleNotFoundError"))
    assert not (packages / "evil.pth").exists()


async def test_a_virtual_environment_given_as_packages_mounts_only_its_site_packages(
    world: World, tmp_path: Path
) -> None:
    env = tmp_path / "sandbox-venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    site_dir = env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    make_package(site_dir)
    settings = parse_args(["--packages", str(env)])
    assert settings.packages == site_dir.resolve()
    code = f"import os, k2demo\n(k2demo.ANSWER, sorted(os.listdir({SANDBOX_PACKAGES!r})), os.path.exists({str(env)!r}))"
    r = await run_python(world, code, packages=env)
    assert literal(r) == (42, sorted(p.name for p in site_dir.iterdir()), False)


async def test_unsafe_mode_also_imports_from_the_packages_directory(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("k2_codeexec.sandbox.shutil.which", lambda name: None)
    packages = tmp_path / "sandbox-packages"
    make_package(packages)
    async with serve(world.settings(unsafe_no_sandbox=True, packages=packages)) as c:
        r = ok(await c.call_tool("execute_python", {"code": "import k2demo\nk2demo.ANSWER"}))
    assert r["isolation"] == "none" and r["value"] == "42"


# --- the setting ---------------------------------------------------------------------------------------------------


def test_packages_is_read_from_the_environment_and_the_flag_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("K2_CODEEXEC_PACKAGES", str(tmp_path / "a"))
    assert parse_args([]).packages == (tmp_path / "a").resolve()
    assert parse_args(["--packages", str(tmp_path / "b")]).packages == (tmp_path / "b").resolve()
    monkeypatch.delenv("K2_CODEEXEC_PACKAGES")
    assert parse_args([]).packages is None


@pytest.mark.parametrize("case", ["missing", "file", "venv-of-another-python"])
def test_a_bad_packages_directory_is_refused_naming_the_setting(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p"
    if case == "file":
        path.write_text("x")
    elif case == "venv-of-another-python":
        (path / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
        (path / "pyvenv.cfg").write_text("version = 2.7.18\n")
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--packages", str(path)])
    assert exit_info.value.code == 2
    assert "K2_CODEEXEC_PACKAGES" in capsys.readouterr().err


def under(path: str, roots: tuple[str, ...] | list[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def test_the_sandbox_mounts_nothing_of_the_servers_environment() -> None:
    python = find_interpreter()
    if sys.prefix != sys.base_prefix:  # a virtual environment: none of it is mounted
        env = str(Path(sys.prefix).resolve())
        assert not any(under(bound, [env]) for bound in python.binds), python.binds
    for site_dir in (str(Path(p).resolve()) for p in site.getsitepackages()):
        # a site-packages directory inside what is mounted is covered by an empty tmpfs
        assert not under(site_dir, python.binds) or under(site_dir, python.hidden), site_dir
