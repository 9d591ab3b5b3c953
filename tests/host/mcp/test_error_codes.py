"""The host's error codes: one typed list, every code in it produced somewhere, none produced outside it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import k2_host
from k2_host.mcp.types import HOST_ERRORS, HostErrorCode

PACKAGE = Path(k2_host.__file__).resolve().parent


def produced_codes() -> dict[str, list[str]]:
    """code -> where: the string literals given as a host_error code or an `error_code=` in the host's source."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            literals: list[ast.expr] = []
            if name == "host_error" and len(node.args) >= 2:
                literals.append(node.args[1])
            literals += [k.value for k in node.keywords if k.arg == "error_code"]
            for expr in literals:  # a literal, or the literals of a conditional expression
                for lit in ast.walk(expr):
                    if isinstance(lit, ast.Constant) and isinstance(lit.value, str):
                        found.setdefault(lit.value, []).append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_every_code_the_host_produces_is_in_the_typed_list() -> None:
    produced = produced_codes()
    listed = set(get_args(HostErrorCode))
    assert set(produced) - listed == set(), {c: produced[c] for c in set(produced) - listed}


def test_every_listed_code_is_produced_and_described() -> None:
    produced = produced_codes()
    assert set(get_args(HostErrorCode)) - set(produced) == set()
    assert tuple(HOST_ERRORS) == get_args(HostErrorCode) and all(HOST_ERRORS.values())
