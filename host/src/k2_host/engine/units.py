"""What the offline engine's folder index holds: a file cut into *units*, each a line (or a sentence) with the
facts a question may ask about it.

A unit knows the name it defines or sets (a function, a class, a parameter, an assignment target, a dict or
object key, a documented option), the scope it sits in (`Client.__init__`, a markdown heading path), the value
it gives (a parameter's default, an assignment's right-hand side, the `X` of "defaults to X") and its
neighbourhood (a docstring's summary, the paragraph around a sentence). Python is read with `ast`; markdown
by headings, paragraphs, lists and tables; other code and text line by line with the nearest function or key
as scope. `tokens()` turns any of it into the canonical words the index matches on: identifiers split
(`keepaliveExpiry` → keepalive expiry), lowercase, stemmed, common abbreviations made whole (`max` ↔ maximum).
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass
from pathlib import PurePosixPath

from k2_host.engine.text import stem

_AST_LOCK = threading.Lock()
MAX_LINE = 240  # characters of a line kept as a unit's text (a longer one is cut and marked with "…")
MAX_SENTENCE = 400

# Spellings that mean the same word in questions and in code.
_ABBREVIATIONS = {
    "maximum": "max",
    "minimum": "min",
    "directory": "dir",
    "directories": "dir",
    "folder": "dir",
    "environment": "env",
    "environ": "env",
    "configuration": "config",
    "conf": "config",
    "cfg": "config",
    "number": "num",
    "length": "len",
    "exception": "error",
    "exceptions": "error",
    "exc": "error",
    "err": "error",
    "errors": "error",
    "message": "msg",
    "messages": "msg",
    "connection": "conn",
    "connections": "conn",
    "database": "db",
    "initialize": "init",
    "initialise": "init",
    "attempts": "attempt",
    "arguments": "arg",
    "argument": "arg",
    "args": "arg",
    "parameters": "param",
    "parameter": "param",
    "params": "param",
    "parameters.": "param",
    "seconds": "second",
    "sec": "second",
    "secs": "second",
    "milliseconds": "ms",
    "millisecond": "ms",
    "bytes": "byte",
    "authentication": "auth",
    "authorization": "auth",
    "application": "app",
    "applications": "app",
    "templates": "template",
    "tmpl": "template",
    "attribute": "attr",
    "attributes": "attr",
    "attrs": "attr",
    "request": "req",
    "requests": "req",
    "response": "res",
    "responses": "res",
    "resp": "res",
    "temporary": "temp",
    "tmp": "temp",
    "information": "info",
    "specification": "spec",
    "statistics": "stat",
    "stats": "stat",
    "synchronous": "sync",
    "asynchronous": "async",
    "asyncio": "async",
    "coroutine": "async",
    "coroutines": "async",
    "boolean": "bool",
    "integer": "int",
    "string": "str",
    "strings": "str",
    "dictionary": "dict",
    "function": "func",
    "functions": "func",
    "fn": "func",
    "callable": "func",
    "callback": "func",
    "tls": "ssl",
    "certificate": "cert",
    "certificates": "cert",
    "sizes": "size",
}
_IDENT_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def canon(word: str) -> str:
    w = word.lower()
    w = _ABBREVIATIONS.get(w, w)
    s = stem(w)
    return _ABBREVIATIONS.get(s, s)


def tokens(text: str) -> list[str]:
    """Canonical words of `text`: identifiers split into parts (and kept whole when compound), stemmed."""
    out: list[str] = []
    for raw in _TOKEN.findall(text):
        parts = _IDENT_PART.findall(raw) if not raw.isdigit() else [raw]
        for part in parts:
            out.append(canon(part))
        if len(parts) > 1:
            out.append(raw.lower())
    for compound in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+", text):
        out.append(compound.lower())
    return out


@dataclass
class Unit:
    """One indexed piece of a file: where it is, what it says and the facts it states."""

    line: int  # 1-based line the unit points at (the line a citation names)
    text: str  # the line, or the sentence (joined across wrapped lines), as shown in an answer
    kind: str  # def, class, option (a constructor's parameter), param, assign, key, doc, md, heading, line
    name: str = ""  # what it defines or sets
    scope: str = ""  # where: qualified names or a heading path
    value: str = ""  # the value it gives, when it gives one
    context: str = ""  # nearby words that explain it (a docstring summary, a section's first sentence)
    end: int = 0  # last line the unit covers (a sentence across lines); 0: the same as `line`


def cut(text: str, limit: int = MAX_LINE) -> str:
    text = text.strip(" \t")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def units_of(path: str, content: str, kind: str, language: str | None) -> list[Unit]:
    """The units of one file (`kind`, `language` as `k2_host.rag.sources.classify` says)."""
    suffix = PurePosixPath(path).suffix.lower()
    lines = content.splitlines()
    if language == "python":
        try:
            return _python(content, lines)
        except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
            return _generic(lines, code=True)
    if kind == "markdown":
        return _markdown(lines)
    if suffix == ".json":
        return _generic(lines, code=True, json=True)
    return _generic(lines, code=kind == "code")


# --- Python -------------------------------------------------------------------------------------------


def _doc_summary(node: ast.AST) -> str:
    doc = (
        ast.get_docstring(node, clean=True)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
        else None
    )
    if not doc:
        return ""
    return cut(doc.split("\n\n", 1)[0].replace("\n", " "), 200)


def _param_docs(node: ast.AST) -> dict[str, str]:
    """What a docstring says about each parameter (`:param name: …`, `name: …` / `name -- …` lines)."""
    doc = (
        ast.get_docstring(node, clean=True)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        else None
    )
    out: dict[str, str] = {}
    if not doc:
        return out
    current = ""
    for raw in doc.splitlines():
        m = re.match(
            r"\s*(?::param\s+(?:[\w\[\], .|]+\s+)?|\*\s*\*\*|[-*]\s+)?`*\*{0,2}(\w+)\*{0,2}`*\s*(?::|--|-)\s*(.*)", raw
        )
        if m and (raw.lstrip().startswith((":param", "*", "-")) or re.match(r"\s*\w+\s*(?:\([^)]*\))?\s*:", raw)):
            current = m.group(1)
            out[current] = m.group(2)
        elif current and raw.strip():
            out[current] = cut(out[current] + " " + raw.strip(), 300)
        else:
            current = ""
    return out


def _segment(content_lines: list[str], node: ast.AST) -> str:
    try:
        start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1  # type: ignore[attr-defined]
        if start == end:
            return content_lines[start][node.col_offset : node.end_col_offset].strip()  # type: ignore[attr-defined]
        first = content_lines[start][node.col_offset :]  # type: ignore[attr-defined]
        joined = " ".join([first, *(ln.strip() for ln in content_lines[start + 1 : end])])
        return cut(joined + " " + content_lines[end][: node.end_col_offset].strip(), 160)  # type: ignore[attr-defined]
    except (AttributeError, IndexError):
        return ""


def _literal(node: ast.AST) -> bool:
    """A constant, or arithmetic and containers of constants (`14 * 24 * 60 * 60`, `("GET",)`)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) and _literal(node.right)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_literal(e) for e in node.elts)
    return False


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        return [target.attr]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in _target_names(elt)]
    return []


def _python(content: str, lines: list[str]) -> list[Unit]:
    with _AST_LOCK:  # CPython 3.11's parser is not safe to run in several threads at once
        tree = ast.parse(content)
    units: list[Unit] = []
    covered: set[int] = set()
    doc_lines: dict[int, str] = {}  # line -> scope of docstring lines

    def text(n: int) -> str:
        return cut(lines[n - 1]) if 0 < n <= len(lines) else ""

    def add(u: Unit) -> None:
        units.append(u)
        covered.add(u.line)

    def docstring_lines(node: ast.AST, scope: str) -> None:
        body = getattr(node, "body", None)
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            c = body[0].value
            if isinstance(c.value, str):
                for n in range(c.lineno, (c.end_lineno or c.lineno) + 1):
                    doc_lines[n] = scope

    def visit(node: ast.AST, scope: list[str], summary: str, pdocs: dict[str, str], dict_owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            here = ".".join(scope)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qual = [*scope, child.name]
                csum = _doc_summary(child)
                kind = "class" if isinstance(child, ast.ClassDef) else "def"
                ctx = csum
                if isinstance(child, ast.ClassDef):
                    bases = " ".join(_segment(lines, b) for b in child.bases)
                    ctx = f"{bases} {csum}".strip()
                add(Unit(child.lineno, text(child.lineno), kind, child.name, here, "", ctx))
                docstring_lines(child, ".".join(qual))
                cpdocs = _param_docs(child)
                if isinstance(child, ast.ClassDef):
                    visit(child, qual, csum, cpdocs, "")
                    continue
                # parameters with defaults: the scope a user names is the class for __init__
                owner = scope[-1] if child.name == "__init__" and scope else child.name
                pscope = ".".join([*scope, child.name]) if child.name != "__init__" else ".".join(scope)
                merged = {**pdocs, **cpdocs} if child.name == "__init__" else cpdocs
                a = child.args
                positional = [*a.posonlyargs, *a.args]
                pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
                pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
                for arg, default in pairs:
                    add(
                        Unit(
                            default.lineno,
                            text(default.lineno),
                            "option" if child.name == "__init__" else "param",
                            arg.arg,
                            pscope if pscope.endswith(owner) else f"{pscope} {owner}",
                            _segment(lines, default),
                            merged.get(arg.arg, "") or csum,
                        )
                    )
                visit(child, qual, csum, cpdocs, "")
            elif isinstance(child, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                names = [n for t in targets for n in _target_names(t)]
                value = child.value
                trivial = isinstance(value, ast.Name) and names == [value.id]  # self.x = x
                if value is not None and not trivial:
                    for n in names:
                        add(Unit(child.lineno, text(child.lineno), "assign", n, here, _segment(lines, value), summary))
                visit(child, scope, summary, pdocs, names[0] if names else dict_owner)
            elif isinstance(child, ast.Dict):
                for k, v in zip(child.keys, child.values, strict=True):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str) and v is not None:
                        add(
                            Unit(
                                k.lineno,
                                text(k.lineno),
                                "key",
                                k.value,
                                f"{here} {dict_owner}".strip(),
                                _segment(lines, v),
                                summary,
                            )
                        )
                visit(child, scope, summary, pdocs, dict_owner)
            elif isinstance(child, ast.keyword) and child.arg and isinstance(node, ast.Call) and _literal(child.value):
                add(
                    Unit(
                        child.value.lineno,
                        text(child.value.lineno),
                        "key",
                        child.arg,
                        here,
                        _segment(lines, child.value),
                        summary,
                    )
                )
                visit(child, scope, summary, pdocs, dict_owner)
            else:
                visit(child, scope, summary, pdocs, dict_owner)

    docstring_lines(tree, "")
    visit(tree, [], _doc_summary(tree), {}, "")
    # the enclosing definition of every line, for the units of plain lines
    enclosing: dict[int, str] = {}
    for node in ast.walk(tree):  # breadth first: nested definitions come later and win
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                enclosing[n] = node.name
    units.extend(_sentences(lines, doc_lines, kind="doc", source="doc"))
    for n, raw in enumerate(lines, 1):
        if n in covered or n in doc_lines or not raw.strip():
            continue
        units.append(Unit(n, cut(raw), "line", "", enclosing.get(n, ""), "", ""))
    return units


# --- prose: docstrings and markdown ---------------------------------------------------------------------

_DEFAULT_PROSE = re.compile(
    r"(?i)\b(?:defaults?\s+(?:to|is|value\s+is|of)|(?:the\s+)?default\s+(?:value\s+|function\s+|setting\s+)?is"
    r"|by\s+default[^.]{0,60}?\b(?:is|to|are)|(?:to\s+a\s+maximum\s+of|up\s+to|at\s+most|limited\s+to|maximum\s+of)(?=\s+[`*'\"]*\d))\s*[:,]?\s*"
    r"(?:``?([^`]{1,60})``?|'([^']{1,60})'|\"([^\"]{1,60})\"|\*\*([^*]{1,60})\*\*"
    r"|([^\s`'\",;:()]+(?:\s+(?:seconds?|ms|milliseconds?|bytes?|kb|mb|days?|minutes?))?))"
)
_BULLET_NAME = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+(?:\*\*)?`?([\w.\-]+)`?(?:\*\*)?\s*(?:[:\-\u2013\u2014(]|\s-\s)")
_JSDOC_OPT = re.compile(r"\[([\w.]+)=([^\]]+)\]")
_NAMEISH = re.compile(r"`([\w.\-]+)`|\*\*([\w.\-]+)\*\*")


def default_in(sentence: str) -> str:
    """The value a prose sentence gives as a default ("Defaults to `'100kb'`." → '100kb'), or ''."""
    m = _DEFAULT_PROSE.search(sentence)
    if not m:
        return ""
    value = next(g for g in m.groups() if g is not None)
    return value.strip().rstrip(".").strip("'\"")


_PARAM_HEAD = re.compile(
    r"\s*(?::param\s+(?:[\w\[\],|. ]+\s+)?|[-*+]\s+(?:\*\*)?)?`*(\w[\w.\-]*)`*(?:\*\*)?\s*(?:\([^)]*\))?\s*"
    r"(?::|--|-\s|\u2013|\u2014)"
)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)`'\"][.!?])\s+(?=[A-Z`*\"'(\[])")
_COMMENT_MARK = re.compile(r"^\s*(?://+!?|/\*+!?|\*+/?|#+)\s?")


def _prose(raw: str, source: str) -> str:
    s = raw.strip()
    if source == "comment":
        s = _COMMENT_MARK.sub("", s)
        return s.removesuffix("*/").strip()
    if source == "doc":
        s = re.sub(r'^[rRbBuU]?("""|\'\'\')', "", s)
        return re.sub(r'("""|\'\'\')[,)]*$', "", s).strip()
    return s


def _sentences(
    lines: list[str],
    which: dict[int, str] | None,
    *,
    kind: str,
    source: str = "md",
    heading: dict[int, str] | None = None,
) -> list[Unit]:
    """Sentence units of prose: the docstring or comment lines in `which` (line -> scope), or markdown lines."""
    out: list[Unit] = []
    para: list[tuple[int, str]] = []

    def flush() -> None:
        if not para:
            return
        scope = (which if which is not None else heading or {}).get(para[0][0], "")
        pname, names = "", {}
        for n, t in para:
            m = _PARAM_HEAD.match(t)
            alone = re.fullmatch(r"(?:`{1,2}|\*\*)([\w.\-]+)(?:`{1,2}|\*\*):?", t.strip())
            if alone:  # a name on its own line, its description below (jinja2's docstrings)
                pname = alone.group(1)
            elif m and (t.lstrip().startswith((":param", "-", "*", "+")) or source == "doc"):
                pname = m.group(1)
            names[n] = pname
        buf: list[tuple[int, str]] = []
        first = ""
        for n, piece in para:  # sentences, which may start and end mid-line
            parts = _SENTENCE_END.split(piece)
            for i, part in enumerate(parts):
                buf.append((n, part))
                size = sum(len(t) + 1 for _, t in buf)
                if i < len(parts) - 1 or re.search(r"[.!?:][`*'\")\]]*$", part) or size > MAX_SENTENCE:
                    sentence = " ".join(t for _, t in buf)
                    first = first or sentence
                    out.append(_sentence_unit(buf, sentence, kind, names[buf[0][0]], scope, first))
                    buf = []
        if buf:
            sentence = " ".join(t for _, t in buf)
            out.append(_sentence_unit(buf, sentence, kind, names[buf[0][0]], scope, first or sentence))
        para.clear()

    for n, raw in enumerate(lines, 1):
        if which is not None and n not in which:
            flush()
            continue
        text = _prose(raw, source)
        if not text or (source == "md" and text.startswith(("```", "|", "#", "<"))):
            flush()
            continue
        if _BULLET_NAME.match(text) or text.startswith((":param", "@param", "@returns", "@return", "@throws")):
            flush()
        para.append((n, text))
    flush()
    return out


def _sentence_unit(buf: list[tuple[int, str]], sentence: str, kind: str, name: str, scope: str, first: str) -> Unit:
    value = default_in(sentence)
    line = buf[0][0]
    if value:  # cite the line the value is on
        for n, piece in buf:
            if value in piece:
                line = n
                break
    jsdoc = _JSDOC_OPT.search(sentence)
    if jsdoc and not value:
        name, value = jsdoc.group(1).rsplit(".", 1)[-1], jsdoc.group(2)
    ctx = first if first != sentence else ""
    # the lines stay apart in the text (an answer cites the line that holds it); shown joined
    text = "\n".join(piece for _, piece in buf)
    return Unit(line, cut(text, MAX_SENTENCE), kind, name, scope, value, ctx, end=buf[-1][0])


def _markdown(lines: list[str]) -> list[Unit]:
    units: list[Unit] = []
    headings: list[tuple[int, str]] = []
    heading_at: dict[int, str] = {}
    in_code = False
    table_head: list[str] = []
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if s.startswith("```"):
            in_code = not in_code
            continue
        m = re.match(r"(#{1,6})\s+(.*)", s) if not in_code else None
        if m:
            level, title = len(m.group(1)), m.group(2).strip("# ")
            headings = [(lv, t) for lv, t in headings if lv < level] + [(level, title)]
            units.append(Unit(n, cut(s), "heading", title, " ".join(t for _, t in headings[:-1]), "", ""))
            table_head = []
            continue
        heading_at[n] = " ".join(t for _, t in headings)
        if in_code:
            if s:
                units.append(Unit(n, cut(raw), "line", "", heading_at[n], "", ""))
            continue
        if s.startswith("|"):
            cells = [c.strip() for c in s.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            if not table_head:
                table_head = cells
                continue
            named = _NAMEISH.search(cells[0] or "")
            name = next((g for g in named.groups() if g), "") if named else cells[0]
            ctx = " ".join(table_head)
            units.append(Unit(n, cut(s), "md", name, heading_at[n], cells[-1] if len(cells) > 1 else "", ctx))
            continue
        table_head = []
    prose = _sentences(lines, None, kind="md", source="md", heading=heading_at)
    code_lines = {u.line for u in units}
    units.extend(u for u in prose if u.line not in code_lines)
    return units


# --- other code and text ------------------------------------------------------------------------------

_JS_FUNC = re.compile(
    r"^\s*(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*(\w+)|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s+)?(?:function|\()"
    r"|(\w+)\s*[:=]\s*(?:async\s+)?function\b|(?:def|func|fn|sub)\s+(\w+)|class\s+(\w+))"
)
_KEY_VALUE = re.compile(
    r"""^\s*(?:(?:export\s+)?(?:const|let|var|final|static|public|private|readonly)\s+)*["']?([\w.$\-]+)["']?\s*(?::|=(?!=)|=>)\s*(.+?)[,;]?\s*$"""
)
_SET_CALL = re.compile(r"""\.set\(\s*['"]([^'"]+)['"]\s*,\s*(.+?)\)\s*;?\s*$""")
_COMMENT = re.compile(r"^\s*(?://+|/?\*+|#+|--)\s?(.*?)\s*(?:\*/)?$")


def _generic(lines: list[str], *, code: bool, json: bool = False) -> list[Unit]:
    units: list[Unit] = []
    scope = ""
    key_stack: list[tuple[int, str]] = []  # (indent, key) of the JSON/YAML/object keys above a line
    comments: dict[int, str] = {}
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s:
            continue
        indent = len(raw) - len(raw.lstrip())
        key_stack = [(i, k) for i, k in key_stack if i < indent]
        outer = " ".join(k for _, k in key_stack)
        if code:
            f = _JS_FUNC.match(raw)
            if f:
                scope = next(g for g in f.groups() if g)
                units.append(Unit(n, cut(raw), "def", scope, outer, "", ""))
                key_stack.append((indent, scope))
                continue
            c = _COMMENT.match(raw) if not json else None
            if c and (s.startswith(("//", "/*", "*", "#")) and not s.startswith("#!")):
                comments[n] = scope
                continue
        call = _SET_CALL.search(raw) if code else None
        kv = _KEY_VALUE.match(raw)
        if call:
            units.append(Unit(n, cut(raw), "key", call.group(1), f"{scope} {outer}".strip(), call.group(2).strip(), ""))
        elif kv and not re.match(r"^\s*(?:if|for|while|return|else|case)\b", raw):
            name, value = kv.group(1), kv.group(2).strip()
            if value in ("{", "[", "("):
                key_stack.append((indent, name.rsplit(".", 1)[-1]))
                value = ""
            units.append(
                Unit(
                    n,
                    cut(raw),
                    "assign" if "=" in raw.split(name, 1)[-1][:3] else "key",
                    name.rsplit(".", 1)[-1],
                    f"{scope} {outer}".strip(),
                    value.strip("'\""),
                    "",
                )
            )
        else:
            units.append(Unit(n, cut(raw), "line", "", f"{scope} {outer}".strip(), "", ""))
    if comments:
        units.extend(_sentences(lines, comments, kind="doc", source="comment"))
    return units
