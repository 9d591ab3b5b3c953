"""Cyclomatic complexity per function, the longest and most deeply nested functions of source files.

Usage:
    python3 complexity.py app.py web/store.ts [...] < request.txt

Python is measured exactly from `ast` (McCabe: 1 + each if/elif, loop, except, boolean operator, ternary,
comprehension clause, match case, assert is not counted). JavaScript/TypeScript, Go, Rust and Java are
approximated by counting branch keywords and operators in each function body (comments and strings are
blanked first). Request words: "over 10" / "threshold 10" lists only functions above it, "top 5" sets how
many rows. Grades as radon: A 1-5, B 6-10, C 11-20, D 21-30, E 31-40, F 41+.
Exit 2 when no supported file is given.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_OUT = 15_000
LANGS = {
    ".py": "Python",
    ".pyi": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


@dataclass
class Fn:
    file: str
    name: str
    start: int
    end: int
    complexity: int
    depth: int
    params: int
    exact: bool

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def grade(c: int) -> str:
    for limit, letter in ((5, "A"), (10, "B"), (20, "C"), (30, "D"), (40, "E")):
        if c <= limit:
            return letter
    return "F"


# --------------------------------------------------------------------------- Python

BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match)
if hasattr(ast, "TryStar"):
    BLOCKS = (*BLOCKS, ast.TryStar)


def py_complexity(fn: ast.AST) -> tuple[int, int]:
    """(cyclomatic complexity, deepest nesting of blocks) of one function, nested defs excluded."""
    score = 1
    deepest = 0

    def visit(node: ast.AST, depth: int) -> None:
        nonlocal score, deepest
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue  # measured on their own
            d = depth
            if isinstance(child, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler)):
                score += 1
            elif isinstance(child, ast.BoolOp):
                score += len(child.values) - 1
            elif isinstance(child, ast.comprehension):
                score += 1 + len(child.ifs)
            elif isinstance(child, ast.match_case):
                wildcard = isinstance(child.pattern, ast.MatchAs) and child.pattern.pattern is None
                score += 0 if wildcard and child.guard is None else 1
            if isinstance(child, BLOCKS):
                # `elif` is an If inside orelse: same visual depth
                parent_is_if = isinstance(node, ast.If) and child in node.orelse and isinstance(child, ast.If)
                d = depth if parent_is_if else depth + 1
                deepest = max(deepest, d)
            visit(child, d)

    visit(fn, 0)
    return score, deepest


def measure_python(name: str, text: str) -> tuple[list[Fn], str]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [], f"syntax error at line {exc.lineno}: {exc.msg} (not measured)"
    out: list[Fn] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                c, d = py_complexity(child)
                a = child.args
                params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
                if a.args and a.args[0].arg in ("self", "cls"):
                    params -= 1
                out.append(
                    Fn(name, prefix + child.name, child.lineno, child.end_lineno or child.lineno, c, d, params, True)
                )
                walk(child, f"{prefix}{child.name}.<locals>.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out, ""


# --------------------------------------------------------------------------- brace languages (approximate)


def blank_code(text: str, lang: str) -> str:
    """Comments and string/char literals replaced by spaces (newlines kept)."""
    out = list(text)
    n = len(text)
    i = 0

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c in "\"'`":
            if c == "'" and lang == "Rust":
                m = re.match(r"'(\\.|[^\\'\n])'", text[i:])
                if not m:  # a lifetime
                    i += 1
                    continue
                blank(i + 1, i + len(m.group(0)) - 1)
                i += len(m.group(0))
                continue
            if c == "`" and lang not in ("JavaScript", "TypeScript", "Go"):
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\" and (c != "`" or lang != "Go"):
                    j += 1
                elif text[j] == "\n" and c != "`":
                    break
                j += 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


FN_START = {
    "JavaScript": [
        re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(\w+)\s*\("),
        re.compile(
            r"^\s*(?:export\s+)?(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?"
            r"(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|\w+\s*=>)"
        ),
        re.compile(
            r"^\s*(?:(?:public|private|protected|static|async|readonly|override|get|set)\s+)*\*?\s*"
            r"(#?\w+|\[[\w.]+\])\s*(?:<[^>]*>)?\s*\([^;]*\)\s*(?::\s*[^{;]+)?\{\s*$"
        ),
    ],
    "Go": [re.compile(r"^func\s+(?:\(\s*\w*\s*\*?\s*(\w+)[^)]*\)\s*)?(\w+)\s*[\[(]")],
    "Rust": [
        re.compile(
            r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+\S+\s+)?fn\s+(\w+)"
        )
    ],
    "Java": [
        re.compile(
            r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|static|final|abstract|synchronized|"
            r"default)\s+)*(?:<[^>]+>\s+)?[\w<>\[\],.? ]+?\s+(\w+)\s*\([^;]*$"
        )
    ],
}
FN_START["TypeScript"] = FN_START["JavaScript"]
NOT_NAMES = {"if", "for", "while", "switch", "catch", "return", "function", "else", "new", "throw", "do", "try"}
BRANCHES = {
    "JavaScript": r"\bif\b|\bfor\b|\bwhile\b|\bcase\b|\bcatch\b|&&|\|\||\?\?|\?(?![.:?])",
    "Go": r"\bif\b|\bfor\b|\bcase\b|&&|\|\|",
    "Rust": r"\bif\b|\bfor\b|\bwhile\b|\bloop\b|=>|&&|\|\||\?(?=[;.)\s])",
    "Java": r"\bif\b|\bfor\b|\bwhile\b|\bcase\b|\bcatch\b|&&|\|\||\?(?![.:?])",
}
BRANCHES["TypeScript"] = BRANCHES["JavaScript"]


def measure_braces(name: str, text: str, lang: str) -> tuple[list[Fn], str]:
    clean = blank_code(text, lang)
    lines = clean.split("\n")
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    out: list[Fn] = []
    branch = re.compile(BRANCHES[lang])
    for idx, line in enumerate(lines):
        for rx in FN_START[lang]:
            m = rx.match(line)
            if not m:
                continue
            fname = m.group(m.lastindex or 1)
            if lang == "Go" and m.group(1):
                fname = f"{m.group(1)}.{m.group(2)}"
            if fname in NOT_NAMES:
                break
            pos = starts[idx] + m.end() - 1
            open_at = clean.find("{", pos)
            semi = clean.find(";", pos)
            if open_at < 0 or (0 <= semi < open_at and lang != "Go"):
                break
            depth, k, deepest, cur = 0, open_at, 0, 0
            while k < len(clean):
                ch = clean[k]
                if ch == "{":
                    depth += 1
                    deepest = max(deepest, depth)
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            end_line = clean.count("\n", 0, k) + 1
            body = clean[open_at : k + 1]
            score = 1 + len(branch.findall(body))
            if lang == "Rust":
                score -= body.count("match ")  # arms are counted, the match itself is not a branch
            header = clean[starts[idx] : open_at]
            inner = header[header.find("(") + 1 : header.rfind(")")] if "(" in header else ""
            params = len(
                [
                    p
                    for p in re.split(r",(?![^<]*>)", inner)
                    if p.strip() and p.strip() not in ("self", "&self", "&mut self")
                ]
            )
            cur = max(0, deepest - 1)
            out.append(Fn(name, fname, idx + 1, end_line, max(1, score), cur, params, False))
            break
    return out, ""


# --------------------------------------------------------------------------- report


def options(request: str) -> tuple[int | None, int]:
    threshold = None
    m = re.search(
        r"(?i)(?:over|above|more than|greater than|threshold(?: of)?|>=?|at least|exceed\w*)\s*(\d+)", request
    )
    if m:
        threshold = int(m.group(1))
        if re.search(r"(?i)at least|>=", m.group(0)):
            threshold -= 1
    top = 15
    m = re.search(r"(?i)\b(?:top|worst|first)\s+(\d+)", request)
    if m:
        top = max(1, min(100, int(m.group(1))))
    return threshold, top


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    if not argv:
        raise Refusal("Name the source files to measure, e.g. 'complexity of app.py and store.ts'.")
    threshold, top = options(request)
    fns: list[Fn] = []
    notes: list[str] = []
    per_file: list[tuple[str, str, int, int]] = []
    for arg in argv:
        p = Path(arg)
        lang = LANGS.get(p.suffix.lower())
        if lang is None:
            notes.append(f"{p.name}: unsupported type, skipped")
            continue
        try:
            text = p.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
        except OSError as exc:
            notes.append(f"{p.name}: unreadable ({exc.strerror or exc})")
            continue
        found, note = measure_python(p.name, text) if lang == "Python" else measure_braces(p.name, text, lang)
        if note:
            notes.append(f"{p.name}: {note}")
        fns.extend(found)
        per_file.append((p.name, lang, len(found), text.count("\n") + 1))
    if not per_file:
        raise Refusal(
            "None of the files is Python, JavaScript, TypeScript, Go, Rust or Java: " + "; ".join(notes) + "."
        )
    out = [f"# Complexity of {len(per_file)} file{'s' if len(per_file) != 1 else ''}: {len(fns)} functions"]
    if fns:
        avg = sum(f.complexity for f in fns) / len(fns)
        worst = max(fns, key=lambda f: (f.complexity, f.length))
        out.append(
            f"Average complexity {avg:.1f} ({grade(round(avg))}); highest {worst.complexity} in `{worst.name}` "
            f"({worst.file}:{worst.start}); over 10: {sum(f.complexity > 10 for f in fns)}"
        )
        grades: dict[str, int] = {}
        for f in fns:
            grades[grade(f.complexity)] = grades.get(grade(f.complexity), 0) + 1
        out.append("Grades: " + ", ".join(f"{g} {grades[g]}" for g in "ABCDEF" if g in grades))
    if any(not f.exact for f in fns):
        langs = sorted({lg for _, lg, _, _ in per_file if lg != "Python"})
        out.append(f"_{', '.join(langs)}: approximate (branch keywords counted in each body)._")
    out.extend(f"- {n}" for n in notes)
    ranked = sorted(fns, key=lambda f: (-f.complexity, -f.length, f.file, f.start))
    if threshold is not None:
        ranked = [f for f in ranked if f.complexity > threshold]
        out.append("")
        out.append(f"## Functions with complexity over {threshold}: {len(ranked)}")
    else:
        out.append("")
        out.append(f"## Most complex (top {min(top, len(ranked))})")
    if ranked:
        out.append("| function | file:line | complexity | grade | lines | nesting | params |")
        out.append("|---|---|---:|---|---:|---:|---:|")
        for f in ranked[:top] if threshold is None else ranked[:100]:
            out.append(
                f"| `{f.name}` | {f.file}:{f.start} | {f.complexity} | {grade(f.complexity)} | {f.length} | "
                f"{f.depth} | {f.params} |"
            )
    else:
        out.append("None.")
    longest = sorted(fns, key=lambda f: (-f.length, f.file, f.start))[:5]
    if longest:
        out.append("")
        out.append("## Longest functions")
        for f in longest:
            out.append(f"- `{f.name}` {f.file}:{f.start}-{f.end}: {f.length} lines (complexity {f.complexity})")
    deep = [f for f in sorted(fns, key=lambda f: (-f.depth, f.file, f.start)) if f.depth >= 4][:5]
    if deep:
        out.append("")
        out.append("## Deepest nesting (4 levels or more)")
        for f in deep:
            out.append(f"- `{f.name}` {f.file}:{f.start}: {f.depth} levels")
    if len(per_file) > 1:
        out.append("")
        out.append("## Per file")
        for name, lang, count, n_lines in per_file:
            mine = [f for f in fns if f.file == name]
            mx = max((f.complexity for f in mine), default=0)
            out.append(f"- {name} ({lang}, {n_lines} lines): {count} functions, max complexity {mx}")
    out.append("")
    out.append(
        "Reading it: complexity counts independent paths (1 = straight line); above 10 a function is hard to "
        "test fully, split it at its branches."
    )
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 100].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB; measure fewer files."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"complexity.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
