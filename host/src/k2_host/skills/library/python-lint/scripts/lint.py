"""Static checks on Python files with `ast` (no imports run): the mistakes linters catch most often.

Usage:
    python3 lint.py app.py utils.py [...] < request.txt

Checks (with the pyflakes/ruff code they correspond to, so `# noqa: F401` on a line silences that finding
here too; a bare `# noqa` silences every finding on its line):
    syntax-error (E999), undefined-name (F821), unused-import (F401), unused-variable (F841),
    redefined-function (F811), bare-except (E722), swallowed-exception (S110), mutable-default (B006),
    shadowed-builtin (A001/A002), compare-singleton (E711/E712), is-literal (F632),
    fstring-no-placeholder (F541), assert-tuple (F631), duplicate-dict-key (F601), unreachable-code,
    raise-notimplemented (F901).
The request may say "only unused imports" / "only bare except" to show one kind, or "ignore shadowed
builtins" to drop one. Exit 2 when no .py file is given.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_OUT = 15_000

CODES = {
    "syntax-error": "E999",
    "undefined-name": "F821",
    "unused-import": "F401",
    "unused-variable": "F841",
    "redefined-function": "F811",
    "bare-except": "E722",
    "swallowed-exception": "S110",
    "mutable-default": "B006",
    "shadowed-builtin": "A001",
    "compare-singleton": "E711",
    "is-literal": "F632",
    "fstring-no-placeholder": "F541",
    "assert-tuple": "F631",
    "duplicate-dict-key": "F601",
    "unreachable-code": "",
    "raise-notimplemented": "F901",
}
ALIASES = {"A002": "shadowed-builtin", "E712": "compare-singleton", "S112": "swallowed-exception", "BLE001": ""}
ERRORS = {"syntax-error", "undefined-name"}
KEYWORDS = {
    "unused-import": r"unused imports?",
    "unused-variable": r"unused (?:local )?variables?|\bvariables?\b",
    "undefined-name": r"undefined names?|typos?",
    "bare-except": r"bare except",
    "swallowed-exception": r"swallowed|silenced exceptions?|except[^.]*pass",
    "mutable-default": r"mutable defaults?",
    "shadowed-builtin": r"shadow(?:ed|ing)? builtins?|builtins?",
    "redefined-function": r"redefin\w*",
    "unreachable-code": r"unreachable|dead code",
}
SHADOW_WATCH = {
    "abs", "all", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes", "callable", "chr",
    "classmethod", "compile", "complex", "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec",
    "filter", "float", "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id",
    "input", "int", "isinstance", "issubclass", "iter", "len", "list", "locals", "map", "max", "memoryview",
    "min", "next", "object", "oct", "open", "ord", "pow", "print", "property", "range", "repr", "reversed",
    "round", "set", "setattr", "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type",
    "vars", "zip",
}  # fmt: skip
KNOWN_GLOBALS = set(dir(builtins)) | {
    "__file__", "__path__", "__cached__", "__builtins__", "__annotations__", "__qualname__", "__module__",
    "__class__", "__dict__", "__all__", "__version__", "__name__", "__doc__",
}  # fmt: skip


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


@dataclass
class Finding:
    line: int
    col: int
    check: str
    message: str


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def annotation_names(tree: ast.AST) -> set[str]:
    """Names used inside string annotations ("Cart", "list[Item]") and typing.cast/TypeVar strings."""
    names: set[str] = set()
    annots: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            annots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annots.append(node.annotation)
    # Any string that reads like a type ("Run", "list[Item] | None") counts too: aliases, cast(), TypeVar bounds.
    annots.extend(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r"[\w.\[\], |]{1,200}", n.value)
    )
    for a in annots:
        for sub in ast.walk(a):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                try:
                    parsed = ast.parse(sub.value, mode="eval")
                except SyntaxError:
                    continue
                names.update(n.id for n in ast.walk(parsed) if isinstance(n, ast.Name))
    return names


def dunder_all(tree: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in tree.body:
        value = None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in targets
        ):
            value = node.value
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            out.update(e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return out


def bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif hasattr(ast, "TypeVar") and isinstance(node, getattr(ast, "TypeVar", ())):
            names.add(node.name)  # type: ignore[attr-defined]
    return names


def loaded_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Load, ast.Del))}


def check_imports(tree: ast.Module, is_init: bool) -> list[Finding]:
    used = loaded_names(tree) | annotation_names(tree) | dunder_all(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        for a in node.names:
            if a.name == "*":
                continue
            bound = (a.asname or a.name).split(".")[0]
            if a.asname and a.asname == a.name.split(".")[-1] and a.asname == a.name:
                continue  # `import x as x`: an explicit re-export
            if bound in used:
                continue
            shown = a.name + (f" as {a.asname}" if a.asname else "")
            if isinstance(node, ast.ImportFrom):
                shown = f"{'.' * node.level}{node.module or ''}.{shown}" if node.module or node.level else shown
            extra = " (in __init__.py this may be a re-export: add it to __all__)" if is_init else ""
            out.append(Finding(node.lineno, node.col_offset + 1, "unused-import", f"`{shown}` is never used{extra}"))
    return out


def check_undefined(tree: ast.Module) -> list[Finding]:
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree)):
        return []  # `from x import *` makes any name possible
    bound = bound_names(tree) | KNOWN_GLOBALS
    out = []
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            if node.id in seen:
                continue
            seen.add(node.id)
            out.append(
                Finding(node.lineno, node.col_offset + 1, "undefined-name", f"`{node.id}` is not defined anywhere")
            )
    return out


def function_scope_nodes(fn: ast.AST) -> list[ast.AST]:
    """Nodes in a function's own scope (nested defs/classes/lambdas excluded, their defaults included)."""
    out: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def check_unused_variables(tree: ast.Module) -> list[Finding]:
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        own = function_scope_nodes(fn)
        declared: set[str] = set()
        for n in own:
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                declared.update(n.names)
        if any(
            isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("locals", "vars", "eval", "exec") for n in own
        ):
            continue
        loads = loaded_names(fn)  # includes nested functions (closures read the variable)
        loads |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Del)}
        candidates: dict[str, tuple[int, int, str]] = {}
        for n in own:
            targets: list[tuple[ast.expr, str]] = []
            if isinstance(n, ast.Assign):
                targets = [(t, "assigned") for t in n.targets]
            elif isinstance(n, ast.AnnAssign) and n.value is not None:
                targets = [(n.target, "assigned")]
            elif isinstance(n, (ast.With, ast.AsyncWith)):
                targets = [(i.optional_vars, "bound by `with`") for i in n.items if i.optional_vars is not None]
            elif isinstance(n, ast.NamedExpr):
                targets = [(n.target, "assigned with :=")]
            for t, how in targets:
                if isinstance(t, ast.Name):
                    candidates.setdefault(t.id, (t.lineno, t.col_offset + 1, how))
            if isinstance(n, ast.ExceptHandler) and n.name:
                candidates.setdefault(n.name, (n.lineno, n.col_offset + 1, "bound by `except ... as`"))
        for name, (line, col, how) in sorted(candidates.items(), key=lambda kv: kv[1]):
            if name.startswith("_") or name in declared or name in loads:
                continue
            out.append(Finding(line, col, "unused-variable", f"`{name}` is {how} but never read in `{fn.name}`"))
    return out


def check_shadowing(tree: ast.Module, parent: dict[ast.AST, ast.AST]) -> list[Finding]:
    out = []
    reported: set[tuple[int, str]] = set()

    def in_class_body(node: ast.AST) -> bool:
        return isinstance(parent.get(node), ast.ClassDef)

    for node in ast.walk(tree):
        hits: list[tuple[str, int, int, str]] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not in_class_body(node):
            hits.append((node.name, node.lineno, node.col_offset + 1, "a definition named"))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None:
                    hits.append((arg.arg, arg.lineno, arg.col_offset + 1, "an argument named"))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            holder = parent.get(node)
            while isinstance(holder, (ast.Tuple, ast.List, ast.Starred)):
                holder = parent.get(holder)
            if holder is not None and not in_class_body(holder):
                hits.append((node.id, node.lineno, node.col_offset + 1, "a variable named"))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for al in node.names:
                bound = (al.asname or al.name).split(".")[0]
                hits.append((bound, node.lineno, node.col_offset + 1, "an import named"))
        for name, line, col, what in hits:
            if name in SHADOW_WATCH and (line, name) not in reported:
                reported.add((line, name))
                out.append(
                    Finding(
                        line, col, "shadowed-builtin", f"{what} `{name}` hides the builtin `{name}()` in this scope"
                    )
                )
    return out


def mutable(node: ast.expr | None) -> str:
    if isinstance(node, (ast.List, ast.ListComp)):
        return "[]"
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return "{}"
    if isinstance(node, (ast.Set, ast.SetComp)):
        return "set"
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("list", "dict", "set", "defaultdict", "deque"):
        return f"{node.func.id}()"  # type: ignore[attr-defined]
    return ""


def is_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and not isinstance(node.value, (bool, type(None), type(...)))) or isinstance(
        node, (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.JoinedStr)
    )


def check_misc(tree: ast.Module, parent: dict[ast.AST, ast.AST]) -> list[Finding]:
    out: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            if node.type is None:
                out.append(
                    Finding(
                        node.lineno,
                        node.col_offset + 1,
                        "bare-except",
                        "`except:` also catches KeyboardInterrupt and SystemExit; catch `Exception` (or narrower)",
                    )
                )
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            if all(isinstance(s, (ast.Pass, ast.Continue)) for s in body):
                broad = node.type is None or getattr(node.type, "id", "") in ("Exception", "BaseException")
                if broad:
                    out.append(
                        Finding(
                            node.lineno,
                            node.col_offset + 1,
                            "swallowed-exception",
                            "the exception is silently ignored (`pass`): log it or narrow the except clause",
                        )
                    )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            positional = [*a.posonlyargs, *a.args]
            pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
            pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
            for arg, default in pairs:
                kind = mutable(default)
                if kind:
                    name = getattr(node, "name", "lambda")
                    out.append(
                        Finding(
                            default.lineno,
                            default.col_offset + 1,
                            "mutable-default",
                            f"`{arg.arg}={kind}` in `{name}`: the default is created once and shared between calls; "
                            f"use `None` and create it inside",
                        )
                    )
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                for side in (left, right):
                    if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(side, ast.Constant):
                        if side.value is None:
                            better = "is None" if isinstance(op, ast.Eq) else "is not None"
                            out.append(
                                Finding(node.lineno, node.col_offset + 1, "compare-singleton", f"use `{better}`")
                            )
                        elif isinstance(side.value, bool):
                            out.append(
                                Finding(
                                    node.lineno,
                                    node.col_offset + 1,
                                    "compare-singleton",
                                    f"comparison to `{side.value}`: test the value itself (`if x:` / `if not x:`)",
                                )
                            )
                if isinstance(op, (ast.Is, ast.IsNot)) and (is_literal(right) or is_literal(left)):
                    out.append(
                        Finding(
                            node.lineno,
                            node.col_offset + 1,
                            "is-literal",
                            "`is` with a literal compares identity, not value: use `==` / `!=`",
                        )
                    )
                left = right
        elif isinstance(node, ast.JoinedStr) and not isinstance(parent.get(node), ast.FormattedValue):
            if not any(isinstance(v, ast.FormattedValue) for v in node.values):
                out.append(
                    Finding(
                        node.lineno,
                        node.col_offset + 1,
                        "fstring-no-placeholder",
                        "f-string without any `{}`: drop the f",
                    )
                )
        elif isinstance(node, ast.Assert):
            if isinstance(node.test, ast.Tuple) and node.test.elts:
                out.append(
                    Finding(
                        node.lineno,
                        node.col_offset + 1,
                        "assert-tuple",
                        "`assert (x, msg)` asserts a non-empty tuple: always true; write `assert x, msg`",
                    )
                )
        elif isinstance(node, ast.Dict):
            seen: dict[object, int] = {}
            for k in node.keys:
                if isinstance(k, ast.Constant):
                    key = (type(k.value).__name__, k.value)
                    if key in seen:
                        out.append(
                            Finding(
                                k.lineno,
                                k.col_offset + 1,
                                "duplicate-dict-key",
                                f"key {k.value!r} repeats (first on line {seen[key]}); the last value wins",
                            )
                        )
                    else:
                        seen[key] = k.lineno
        elif isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplemented":
                out.append(
                    Finding(
                        node.lineno,
                        node.col_offset + 1,
                        "raise-notimplemented",
                        "`raise NotImplemented`: you mean `NotImplementedError`",
                    )
                )
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                for i, stmt in enumerate(block[:-1]):
                    if isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                        nxt = block[i + 1]
                        word = type(stmt).__name__.lower()
                        out.append(
                            Finding(
                                nxt.lineno, nxt.col_offset + 1, "unreachable-code", f"code after `{word}` never runs"
                            )
                        )
                        break
    return out


def check_redefined(tree: ast.Module) -> list[Finding]:
    out = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        defs: dict[str, int] = {}
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                decos = [ast.unparse(d) for d in getattr(stmt, "decorator_list", [])]
                if any(re.search(r"overload|\.setter|\.getter|\.deleter|register|dispatch", d) for d in decos):
                    continue
                if stmt.name in defs:
                    out.append(
                        Finding(
                            stmt.lineno,
                            stmt.col_offset + 1,
                            "redefined-function",
                            f"`{stmt.name}` is defined again (first on line {defs[stmt.name]}); the first one is lost",
                        )
                    )
                defs[stmt.name] = stmt.lineno
            elif isinstance(stmt, ast.If):
                continue
            else:
                # a use between the definitions (e.g. a decorator-style registration) makes it intentional
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Name) and n.id in defs:
                        defs.pop(n.id, None)
    return out


def noqa_allows(line: str, check: str) -> bool:
    m = re.search(r"#\s*noqa(?::\s*([A-Z0-9, ]+))?", line, re.I)
    if not m:
        return True
    if not m.group(1):
        return False
    codes = {c.strip().upper() for c in m.group(1).split(",") if c.strip()}
    mine = {CODES.get(check, "")} | {k for k, v in ALIASES.items() if v == check}
    return not (codes & mine)


def lint(path: Path) -> tuple[list[Finding], int]:
    text = path.read_bytes().decode("utf-8", "replace")
    lines = text.splitlines()
    try:
        tree = ast.parse(text, filename=path.name)
    except SyntaxError as exc:
        where = (exc.text or "").rstrip("\n")
        msg = exc.msg + (f": `{where.strip()}`" if where.strip() else "")
        return [Finding(exc.lineno or 1, exc.offset or 1, "syntax-error", msg)], len(lines)
    except ValueError as exc:  # e.g. null bytes
        return [Finding(1, 1, "syntax-error", str(exc))], len(lines)
    parent = parents(tree)
    findings = [
        *check_undefined(tree),
        *check_imports(tree, path.name == "__init__.py"),
        *check_unused_variables(tree),
        *check_redefined(tree),
        *check_shadowing(tree, parent),
        *check_misc(tree, parent),
    ]
    kept = []
    seen: set[tuple[int, str, str]] = set()
    for f in findings:
        src = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        key = (f.line, f.check, f.message)
        if key in seen or not noqa_allows(src, f.check):
            continue
        seen.add(key)
        kept.append(f)
    kept.sort(key=lambda f: (f.line, f.col, f.check))
    return kept, len(lines)


def code_for(f: Finding) -> str:
    if f.check == "shadowed-builtin" and f.message.startswith("an argument"):
        return "A002"
    if f.check == "compare-singleton" and "comparison to `" in f.message:
        return "E712"
    return CODES.get(f.check, "")


def selection(request: str) -> tuple[set[str] | None, set[str]]:
    only: set[str] | None = None
    ignore: set[str] = set()
    m = re.search(r"(?i)\b(?:only|just)\b(.*)", request)
    if m:
        picked = {k for k, rx in KEYWORDS.items() if re.search(rx, m.group(1), re.I)}
        if picked:
            only = picked
    for m in re.finditer(r"(?i)\b(?:ignore|skip|without|except for|no)\s+([\w\s-]{3,40})", request):
        ignore |= {k for k, rx in KEYWORDS.items() if re.search(rx, m.group(1), re.I)}
    return only, ignore


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    paths = [Path(a) for a in argv]
    py = [p for p in paths if p.suffix in (".py", ".pyi", ".pyw")]
    others = [p.name for p in paths if p not in py]
    if not py:
        raise Refusal(
            "Name the Python files to lint, e.g. 'lint app.py and utils.py'"
            + (f"; {', '.join(others)} {'is' if len(others) == 1 else 'are'} not Python." if others else ".")
        )
    only, ignore = selection(request)
    sections: list[str] = []
    totals: dict[str, int] = {}
    n_findings = 0
    clean: list[str] = []
    for p in py:
        try:
            findings, n_lines = lint(p)
        except OSError as exc:
            sections.append(f"\n## {p.name}\nCould not read it: {exc.strerror or exc}")
            continue
        findings = [f for f in findings if (only is None or f.check in only) and f.check not in ignore]
        if not findings:
            clean.append(p.name)
            continue
        for f in findings:
            totals[f.check] = totals.get(f.check, 0) + 1
        n_findings += len(findings)
        sections.append("")
        sections.append(f"## {p.name} ({n_lines} lines, {len(findings)} finding{'s' if len(findings) != 1 else ''})")
        for f in findings:
            code = code_for(f)
            tag = f"{code} {f.check}" if code else f.check
            level = "error" if f.check in ERRORS else "warning"
            sections.append(f"- L{f.line}:{f.col} **{tag}** ({level}): {f.message}")
    out = [
        f"# Python lint: {len(py)} file{'s' if len(py) != 1 else ''}, "
        f"{n_findings} finding{'s' if n_findings != 1 else ''}"
    ]
    if only:
        out.append(f"Showing only: {', '.join(sorted(only))}")
    if ignore:
        out.append(f"Ignoring: {', '.join(sorted(ignore))}")
    if totals:
        out.append("")
        out.append("| check | code | count |")
        out.append("|---|---|---:|")
        for check, count in sorted(totals.items(), key=lambda kv: (kv[0] not in ERRORS, -kv[1], kv[0])):
            out.append(f"| {check} | {CODES.get(check) or '-'} | {count} |")
    if clean:
        out.append("")
        out.append(f"No findings: {', '.join(clean)}")
    if others:
        out.append(f"Not Python, skipped: {', '.join(others)}")
    out.extend(sections)
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 100].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB; lint fewer files at once."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"lint.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
