"""Outline source files: classes, functions and methods with their line ranges and signatures.

Usage:
    python3 outline.py src/cart.py web/app.ts [...] < request.txt

Python is read with `ast` (exact: signatures, decorators, docstrings, nesting). JavaScript, TypeScript, Go,
Rust and Java are read with regular expressions over the code with comments and strings blanked out, and
brace matching for the end lines (good for ordinary code; unusual formatting can be missed). Words in the
request: "public" hides names starting with "_" (Python) or private members; "no docstrings" hides them.
Exit 2 when no readable source file is given.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
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
    ".mts": "TypeScript",
    ".cts": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


@dataclass
class Item:
    kind: str  # class, def, method, interface, struct, ...
    name: str
    start: int
    end: int
    detail: str = ""  # signature or header
    doc: str = ""
    children: list[Item] = field(default_factory=list)


def short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


# --------------------------------------------------------------------------- Python


def unparse(node: ast.AST | None) -> str:
    if node is None:
        return ""
    try:
        return ast.unparse(node)
    except Exception:  # an unusual node; the rest of the outline still helps
        return "…"


def py_args(a: ast.arguments) -> str:
    def one(arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg + (f": {unparse(arg.annotation)}" if arg.annotation else "")
        if default is not None:
            text += f" = {unparse(default)}" if arg.annotation else f"={unparse(default)}"
        return text

    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    parts = [one(arg, d) for arg, d in zip(positional, defaults, strict=True)]
    if a.posonlyargs:
        parts.insert(len(a.posonlyargs), "/")
    if a.vararg:
        parts.append("*" + one(a.vararg, None))
    elif a.kwonlyargs:
        parts.append("*")
    parts.extend(one(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True))
    if a.kwarg:
        parts.append("**" + one(a.kwarg, None))
    return ", ".join(parts)


def py_signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    try:
        args = py_args(node.args)
    except Exception:  # an unusual node; the name alone still helps
        args = "…"
    ret = ""
    if node.returns is not None:
        try:
            ret = " -> " + ast.unparse(node.returns)
        except Exception:
            ret = ""
    return f"{node.name}({args}){ret}"


def py_decorators(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    names = []
    for d in node.decorator_list:
        try:
            names.append("@" + ast.unparse(d))
        except Exception:
            names.append("@…")
    return " ".join(short(n, 40) for n in names)


def py_doc(node: ast.AST) -> str:
    try:
        doc = ast.get_docstring(node)  # type: ignore[arg-type]
    except TypeError:
        return ""
    return short(doc.strip().split("\n")[0], 90) if doc else ""


def py_items(body: list[ast.stmt], in_class: bool) -> list[Item]:
    items: list[Item] = []
    for node in body:
        if isinstance(node, ast.ClassDef):
            bases = []
            for b in [*node.bases, *node.keywords]:
                try:
                    bases.append(ast.unparse(b))
                except Exception:
                    bases.append("…")
            head = node.name + (f"({', '.join(bases)})" if bases else "")
            deco = py_decorators(node)
            it = Item("class", node.name, node.lineno, node.end_lineno or node.lineno, short(f"{deco} {head}".strip()))
            it.doc = py_doc(node)
            it.children = py_items(node.body, True)
            items.append(it)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deco = py_decorators(node)
            kind = "method" if in_class else "def"
            prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
            detail = short(f"{deco} {prefix} {py_signature(node)}".strip(), 140)
            it = Item(kind, node.name, node.lineno, node.end_lineno or node.lineno, detail)
            it.doc = py_doc(node)
            it.children = [c for c in py_items(node.body, False) if c.kind in ("class", "def")]
            items.append(it)
        elif isinstance(node, (ast.If, ast.Try, ast.With)) and not in_class:
            # Definitions under `if TYPE_CHECKING:` / try-import blocks still belong to the module.
            inner: list[ast.stmt] = list(getattr(node, "body", []))
            for extra in ("orelse", "finalbody"):
                inner.extend(getattr(node, extra, []))
            for h in getattr(node, "handlers", []):
                inner.extend(h.body)
            items.extend(i for i in py_items(inner, False) if i.kind in ("class", "def"))
    return items


def py_constants(tree: ast.Module) -> list[tuple[str, int]]:
    out = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", t.id) and t.id != "__all__":
                out.append((t.id, node.lineno))
    return out


def outline_python(text: str) -> tuple[list[Item], list[str]]:
    notes: list[str] = []
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        notes.append(
            f"Syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}; the outline below is from a "
            "line scan (`def`/`class` lines), so end lines are unknown."
        )
        items = []
        for n, line in enumerate(text.split("\n"), 1):
            m = re.match(r"^(\s*)(async\s+def|def|class)\s+(\w+)", line)
            if m:
                kind = "class" if m.group(2) == "class" else ("method" if m.group(1) else "def")
                items.append(Item(kind, m.group(3), n, n, short(line.strip().rstrip(":"))))
        return items, notes
    doc = py_doc(tree)
    if doc:
        notes.append(f"Module: {doc}")
    items = py_items(tree.body, False)
    consts = py_constants(tree)
    if consts:
        shown = ", ".join(f"{code(n)} L{ln}" for n, ln in consts[:12])
        more = f" and {len(consts) - 12} more" if len(consts) > 12 else ""
        notes.append(f"Constants: {shown}{more}")
    imports = sum(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)
    if imports:
        notes.append(f"Top-level imports: {imports}")
    return items, notes


# --------------------------------------------------------------------------- brace languages


def blank_code(text: str, lang: str) -> str:
    """The text with comments and string/char literals replaced by spaces (newlines kept)."""
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
        elif lang == "Rust" and c == "r" and re.match(r'r(#*)"', text[i:]) and not (i and text[i - 1].isalnum()):
            m = re.match(r'r(#*)"', text[i:])
            assert m is not None
            close = '"' + m.group(1)
            j = text.find(close, i + len(m.group(0)))
            j = n if j < 0 else j + len(close)
            blank(i + 1, j - 1)
            i = j
        elif c in "\"'`":
            if c == "'" and lang == "Rust":
                m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'\n])'", text[i:])
                if not m:  # a lifetime like 'a
                    i += 1
                    continue
                blank(i + 1, i + len(m.group(0)) - 1)
                i += len(m.group(0))
                continue
            if c == "`" and lang not in ("JavaScript", "TypeScript", "Go"):
                i += 1
                continue
            j = i + 1
            while j < n:
                if text[j] == "\\" and (c != "`" or lang != "Go"):  # Go raw strings have no escapes
                    j += 2
                    continue
                if text[j] == c:
                    break
                if text[j] == "\n" and c != "`":
                    break
                j += 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def block_end(clean: str, line_starts: list[int], pos: int, line_no: int) -> int:
    """The line where the declaration starting at `pos` ends: its matching `}` or its `;`."""
    n = len(clean)
    i = pos
    paren = 0
    while i < n:
        c = clean[i]
        if c in "([":
            paren += 1
        elif c in ")]":
            paren = max(0, paren - 1)
        elif c == ";" and paren == 0:
            return line_of(line_starts, i)
        elif c == "{" and paren == 0:
            break
        elif c == "\n" and paren == 0:
            here = line_of(line_starts, i)
            so_far = clean[line_starts[here - 1] : i].rstrip()
            rest = clean[i + 1 :].lstrip()
            continues = so_far.endswith(("=", ",", "(", ":", "|", "&", "+", "-", "<", ">", "=>")) or re.search(
                r"\b(extends|implements|where|throws)$", so_far
            )
            if not continues and not rest.startswith(("{", "where", "extends", "implements", "throws", ":", "=")):
                return here
            if here > line_no + 12:
                return line_no
        i += 1
    if i >= n:
        return line_no
    depth = 0
    while i < n:
        if clean[i] == "{":
            depth += 1
        elif clean[i] == "}":
            depth -= 1
            if depth == 0:
                return line_of(line_starts, i)
        i += 1
    return line_of(line_starts, n - 1)


def line_of(line_starts: list[int], pos: int) -> int:
    lo, hi = 0, len(line_starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if line_starts[mid] <= pos:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


JS_KEYWORDS = {
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "return",
    "function",
    "else",
    "do",
    "try",
    "with",
    "new",
    "typeof",
    "await",
    "yield",
    "super",
    "throw",
    "delete",
    "void",
    "import",
    "export",
}
JAVA_NOT_TYPES = {"return", "new", "throw", "else", "case", "if", "for", "while", "switch", "catch", "do", "try"}

RULES: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "JavaScript": [
        ("class", re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)")),
        ("function", re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(\w+)\s*[<(]")),
        (
            "function",
            re.compile(
                r"^\s*(?:export\s+)?(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?"
                r"(?:function\b|(?:<[^>]*>\s*)?\([^)]*\)?\s*(?::\s*[^=]+)?=>|\w+\s*=>)"
            ),
        ),
        (
            "method",
            re.compile(
                r"^\s*(?:(?:public|private|protected|static|async|readonly|override|abstract|get|set)\s+)*"
                r"\*?\s*(\[[\w.]+\]|#?\w+)\s*(?:<[^>]*>)?\s*\([^;]*$"
            ),
        ),
    ],
    "Go": [
        ("method", re.compile(r"^func\s+\(\s*\w*\s*\*?\s*(\w+)(?:\[[^\]]*\])?\s*\)\s*(\w+)\s*[\[(]")),
        ("func", re.compile(r"^func\s+(\w+)\s*[\[(]")),
        ("struct", re.compile(r"^type\s+(\w+)(?:\[[^\]]*\])?\s+struct\b")),
        ("interface", re.compile(r"^type\s+(\w+)(?:\[[^\]]*\])?\s+interface\b")),
        ("type", re.compile(r"^type\s+(\w+)\s+\S")),
    ],
    "Rust": [
        (
            "fn",
            re.compile(
                r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:default\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
                r"(?:extern\s+\S+\s+)?fn\s+(\w+)"
            ),
        ),
        ("struct", re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?struct\s+(\w+)")),
        ("enum", re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?enum\s+(\w+)")),
        ("trait", re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?trait\s+(\w+)")),
        ("impl", re.compile(r"^\s*(?:unsafe\s+)?impl\b(?:\s*<[^{]*?>)?\s+([^{]+?)\s*(?:where\b.*)?\{?\s*$")),
        ("mod", re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{")),
        ("macro", re.compile(r"^\s*macro_rules!\s*(\w+)")),
    ],
    "Java": [
        (
            "class",
            re.compile(
                r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|static|final|abstract|sealed|"
                r"non-sealed|strictfp)\s+)*(class|interface|enum|record|@interface)\s+(\w+)"
            ),
        ),
        (
            "method",
            re.compile(
                r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|static|final|abstract|synchronized|"
                r"native|default|strictfp)\s+)*(?:<[^>]+>\s+)?([\w<>\[\],.? ]+?)\s+(\w+)\s*"
                r"\((?:[^;]*$|[^;{]*\)\s*(?:throws\s+[\w.,\s]+)?;\s*$)"
            ),
        ),
        (
            "constructor",
            re.compile(r"^\s*(?:public|private|protected)?\s*([A-Z]\w*)\s*\([^;]*$"),
        ),
    ],
}
RULES["TypeScript"] = [
    *RULES["JavaScript"][:3],
    ("interface", re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?interface\s+(\w+)")),
    ("type", re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?type\s+(\w+)\s*(?:<[^=]*>)?\s*=")),
    ("enum", re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?(?:const\s+)?enum\s+(\w+)")),
    ("namespace", re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?(?:namespace|module)\s+([\w.]+)\s*\{")),
    RULES["JavaScript"][3],
]
CONTAINERS = {"class", "interface", "struct", "trait", "impl", "mod", "namespace", "enum"}


def outline_braces(text: str, lang: str) -> tuple[list[Item], list[str]]:
    clean = blank_code(text, lang)
    lines = text.split("\n")
    clean_lines = clean.split("\n")
    starts = [0]
    for ln in clean_lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    flat: list[Item] = []
    depth_at_line = brace_depths(clean_lines)
    containers: list[Item] = []
    for idx, cl in enumerate(clean_lines):
        n = idx + 1
        if not cl.strip():
            continue
        containers = [c for c in containers if c.end >= n]
        parent = containers[-1] if containers else None
        for kind, rx in RULES[lang]:
            m = rx.match(cl)
            if not m:
                continue
            if kind in ("method", "constructor"):
                in_class = parent is not None and parent.kind in ("class", "interface", "enum", "trait", "impl")
                if lang in ("JavaScript", "TypeScript"):
                    if (
                        not in_class
                        or m.group(1) in JS_KEYWORDS
                        or depth_at_line[idx] != depth_of(parent, depth_at_line)
                    ):
                        continue
                    name = m.group(1)
                    if name == "constructor":
                        kind = "constructor"
                elif lang == "Java":
                    if not in_class:
                        continue
                    if kind == "constructor":
                        if parent is None or m.group(1) != parent.name:
                            continue
                        name = m.group(1)
                    else:
                        words = m.group(1).split()
                        if not words or words[-1] in JAVA_NOT_TYPES or m.group(2) in JAVA_NOT_TYPES:
                            continue
                        name = m.group(2)
                        if cl.rstrip().endswith(";") and not (
                            (parent is not None and parent.kind in ("interface", "@interface"))
                            or re.search(r"\b(abstract|native)\b", cl)
                        ):
                            continue
                        if parent is not None and name == parent.name:
                            kind = "constructor"
                    if depth_at_line[idx] != depth_of(parent, depth_at_line):
                        continue
                else:  # Go methods: receiver type first
                    name = f"{m.group(1)}.{m.group(2)}"
            elif kind == "function" and depth_at_line[idx] != depth_of(parent, depth_at_line):
                continue  # a helper deep inside a body we did not outline
            elif lang == "Java" and kind == "class":
                kind, name = m.group(1), m.group(2)
            else:
                name = m.group(1).strip()
            if lang == "Rust" and kind == "fn" and parent is not None and parent.kind in ("impl", "trait"):
                kind = "method"
            pos = starts[idx] + m.start()
            end = block_end(clean, starts, pos, n)
            header = lines[idx].strip()
            if header.endswith("{"):
                header = header[:-1].rstrip()
            it = Item(kind, name, n, max(end, n), short(header, 130))
            flat.append(it)
            if kind in CONTAINERS:
                containers.append(it)
            break
    return nest(flat), []


def brace_depths(clean_lines: list[str]) -> list[int]:
    depths = []
    d = 0
    for ln in clean_lines:
        depths.append(d)
        d += ln.count("{") - ln.count("}")
        d = max(d, 0)
    return depths


def depth_of(parent: Item | None, depths: list[int]) -> int:
    if parent is None:
        return 0
    return depths[parent.start - 1] + 1


def nest(flat: list[Item]) -> list[Item]:
    roots: list[Item] = []
    stack: list[Item] = []
    for it in sorted(flat, key=lambda x: (x.start, -x.end)):
        while stack and not (stack[-1].start <= it.start and it.end <= stack[-1].end and it is not stack[-1]):
            stack.pop()
        if stack:
            stack[-1].children.append(it)
        else:
            roots.append(it)
        if it.end > it.start:
            stack.append(it)
    return roots


# --------------------------------------------------------------------------- report


SUMMARY_KIND = {
    "def": "function",
    "func": "function",
    "fn": "function",
    "function": "function",
    "method": "method",
    "constructor": "method",
}


def count(items: list[Item]) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items:
        kind = SUMMARY_KIND.get(it.kind, "type" if it.kind not in ("impl", "mod", "macro", "namespace") else it.kind)
        out[kind] = out.get(kind, 0) + 1
        for k, v in count(it.children).items():
            out[k] = out.get(k, 0) + v
    return out


def is_public(it: Item, lang: str) -> bool:
    if lang == "Python":
        return not it.name.startswith("_") or (it.name.startswith("__") and it.name.endswith("__"))
    if lang == "Go":
        base = it.name.split(".")[-1]
        return base[:1].isupper()
    return not re.search(r"\bprivate\b|^#", it.detail) and not it.name.startswith("#")


def render_items(items: list[Item], lang: str, opts: dict[str, bool], depth: int = 0) -> list[str]:
    out: list[str] = []
    for it in items:
        if opts["public"] and not is_public(it, lang):
            continue
        span = f"L{it.start}" if it.end <= it.start else f"L{it.start}-{it.end} ({it.end - it.start + 1} lines)"
        line = "  " * depth + f"- **{it.kind}** {code(it.detail or it.name)} {span}"
        if it.doc and opts["docs"]:
            line += f" — {it.doc}"
        out.append(line)
        out.extend(render_items(it.children, lang, opts, depth + 1))
    return out


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    if not argv:
        raise Refusal("Name the source files to outline, e.g. 'outline src/cart.py and web/app.ts'.")
    opts = {
        "public": bool(re.search(r"(?i)\bpublic\b|\bexported\b", request)),
        "docs": not re.search(r"(?i)\bno docstrings?\b|\bwithout docstrings?\b", request),
    }
    sections: list[str] = []
    totals: dict[str, int] = {}
    skipped: list[str] = []
    for arg in argv:
        p = Path(arg)
        lang = LANGS.get(p.suffix.lower())
        if lang is None:
            skipped.append(f"{p.name} (unsupported type {p.suffix or 'without extension'})")
            continue
        try:
            text = p.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
        except OSError as exc:
            skipped.append(f"{p.name} (unreadable: {exc.strerror or exc})")
            continue
        if lang == "Python":
            items, notes = outline_python(text)
        else:
            items, notes = outline_braces(text, lang)
            notes.append("Read by pattern matching (not a parser): check anything unusual in the file itself.")
        n_lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        counts = count(items)
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
        sections.append("")
        sections.append(f"## {p.name} ({lang}, {n_lines} lines)")
        sections.extend(f"> {n}" for n in notes if not n.startswith("Read by"))
        body = render_items(items, lang, opts)
        sections.extend(body or ["(no classes or functions found)"])
        sections.extend(f"_{n}_" for n in notes if n.startswith("Read by"))
    if not sections:
        raise Refusal(
            "None of the files is Python, JavaScript, TypeScript, Go, Rust or Java source: " + "; ".join(skipped) + "."
        )
    summary = ", ".join(
        f"{v} {k}{'es' if k == 'class' and v != 1 else ('' if v == 1 else 's')}" for k, v in totals.items()
    )
    out = [f"# Outline of {len(argv) - len(skipped)} file{'s' if len(argv) - len(skipped) != 1 else ''}"]
    out.append(f"Found: {summary or 'nothing'}" + ("; showing public names only" if opts["public"] else ""))
    if skipped:
        out.append(f"Skipped: {', '.join(skipped)}")
    out.extend(sections)
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 100].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB; outline fewer files."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"outline.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
