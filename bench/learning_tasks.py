"""A set of verifiable tasks over the host's offline skills, built from third-party material on this machine.

    from bench.learning_tasks import build_tasks      # or: .venv/bin/python bench/learning_tasks.py [--json]

Where the material comes from (nothing is written for the tasks: every file a task names is a file that ships
with Python or with a package of this repository's virtual environment, copied into the project root as is,
sometimes under a clearer name):

    Python's standard library (`sysconfig.get_paths()["stdlib"]`)
        module sources (outlines, complexity, checksums, TODO markers, risky calls, folder summaries, diffs of
        the generated codec tables in encodings/), the TOML conformance files of test/test_tomllib, the XML of
        test/xmltestdata, IDLE's INI defaults (idlelib/config-*.def), first lines of module docstrings
    site-packages (the environment that has scikit-learn)
        scikit-learn's datasets (sklearn/datasets/data/*.csv: iris, wine, breast cancer, linnerud), numpy's
        ufunc validation tables (numpy/_core/tests/data/umath-validation-set-*.csv), INI/JSON files shipped in
        packages, the dist-info METADATA (Markdown long descriptions; names, versions) and LICENSE files

Text-input tasks use values drawn from that material (dataset columns, version strings, docstrings, package
names) or simple generated values (dates, cron fields, boolean formulas) from a seeded `random.Random`. Every
expected substring is computed here with the standard library (hashlib, ast, tokenize, csv, fractions, difflib,
tomllib, json, configparser, xml.etree, datetime, base64, urllib.parse, re), never by running a skill's script;
the formats follow the scripts' documented output (SKILL.md, assets/examples.json). The number formatting and
the quantiles here (`_fmt4`, `_unit_fmt`, `_quantile`, ...) re-implement what the skills' scripts do on purpose,
and are not imported from them: a verifier computes its expected values independently of the code it checks,
with exact arithmetic (fractions), so a bug in a script fails its tasks instead of being copied into them.

The split: each skill has 8 phrasing templates. Its last two templates are reserved for `heldout`
(`unseen_phrasing=True`: that wording never appears in `train`); of the other templates' tasks about 35% go to
`heldout` too, chosen by a hash of the task id, the rest to `train`. Materials are dealt round-robin over a
skill's templates, so the tasks of one template use different files or values. Materials missing on a machine
are skipped, and the same machine always gets the same list.
"""

from __future__ import annotations

import ast
import base64
import codecs
import configparser
import csv
import difflib
import hashlib
import importlib.util
import io
import json
import math
import random
import re
import shutil
import string
import sys
import sysconfig
import tokenize
import tomllib
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from email.parser import Parser
from fractions import Fraction
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Task:
    id: str  # stable, e.g. "file-checksums/t2/hashlib.py"
    query: str  # the user's request in natural language, naming files by their name in the root
    skill: str  # the skill that should answer
    difficulty: str  # that skill's metadata difficulty (easy|medium|hard|expert), read from its SKILL.md
    template: str  # id of the phrasing template, e.g. "file-checksums/t2"
    split: str  # "train" or "heldout"
    unseen_phrasing: bool  # True when its template never appears in the train split
    files: dict[str, str]  # name in the project root (relative path) -> absolute source path of the file to copy
    expect: tuple[str, ...]  # substrings that must ALL appear in the answer (case-sensitive) for the task to pass


HELDOUT_SHARE = 35  # per cent of the shared templates' tasks that go to heldout
MAX_FILE = 200_000
MAX_TASK = 400_000
QUOTA = (3, 3, 2, 2, 2, 2, 2, 2)  # tasks per template; the last two templates are heldout only
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# --------------------------------------------------------------------------------------------- where things are

LIBRARY = Path(__file__).resolve().parents[1] / "host" / "src" / "k2_host" / "skills" / "library"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _site_packages() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin:
        return Path(spec.origin).resolve().parents[1]
    return Path(sysconfig.get_paths()["purelib"])


SITE = _site_packages()
SKLEARN_DATA = SITE / "sklearn" / "datasets" / "data"
UMATH = SITE / "numpy" / "_core" / "tests" / "data"


def _difficulty(skill: str) -> str:
    path = LIBRARY / skill / "SKILL.md"
    if not path.is_file():
        try:
            import k2_host.skills

            path = Path(k2_host.skills.__file__).parent / "library" / skill / "SKILL.md"
        except ImportError:
            return "unknown"
    m = re.search(r"(?m)^\s+difficulty:\s*\"?(\w+)", path.read_text(encoding="utf-8"))
    return m.group(1) if m else "unknown"


def _rank(items: Iterable[str], salt: str) -> list[str]:
    """A fixed pseudo-random order (the same on every call): by the hash of salt + item."""
    return sorted(items, key=lambda s: hashlib.sha256(f"{salt}:{s}".encode()).hexdigest())


def _bucket(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 100


_BREAKS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]")


@cache
def _text(path: Path) -> str | None:
    """The file as text when it is plain UTF-8 (LF line ends, no control characters or BOM) and small."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data or len(data) > MAX_FILE:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _BREAKS.search(text) else text


def _stdlib_modules(min_size: int = 1500, max_size: int = 90_000) -> list[Path]:
    """Top-level standard-library modules, plus those of a few packages, that are plain text."""
    skip = {"this.py", "antigravity.py", "__hello__.py", "__future__.py", "_sitebuiltins.py"}
    paths = sorted(STDLIB.glob("*.py"))
    for pkg in ("json", "email", "http", "urllib", "concurrent/futures", "importlib", "logging", "xml/dom", "wsgiref"):
        paths += sorted((STDLIB / pkg).glob("*.py"))
    out = []
    seen: set[str] = set()
    for p in paths:
        if p.name in skip or p.name.startswith(("_sysconfigdata", "__")) or p.name in seen:
            continue
        if min_size <= p.stat().st_size <= max_size and _text(p) is not None:
            seen.add(p.name)
            out.append(p)
    return out


def _seen_whole(staged: dict[str, Path]) -> bool:
    """Whether a skill with `input: tree` gets these files (name in the root -> source) whole. The host lists the
    root's entries, folders included, and reads them in batches of 8 through the filesystem server: each file up
    to the server's default 2,000 lines and 200,000 / (entries in its batch) characters."""
    folders = {str(Path(rel).parents[i]) for rel in staged for i in range(len(Path(rel).parents) - 1)}
    share = 200_000 // max(1, min(8, len(staged) + len(folders)))
    for path in staged.values():
        text = _text(path)
        if text is None or len(text) > share or text.count("\n") + (not text.endswith("\n")) > 2000:
            return False
    return True


@cache
def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(_text(path) or "")
    except SyntaxError:
        return None


@cache
def _dists() -> list[tuple[str, str, Path]]:
    """(name, version, dist-info folder) of the installed distributions, by folder name."""
    out = []
    for d in sorted(SITE.glob("*.dist-info")):
        meta = d / "METADATA"
        text = _text(meta) if meta.is_file() else None
        if text is None:
            continue
        head = Parser().parsestr(text, headersonly=True)
        name, version = head.get("Name"), head.get("Version")
        if name and version and not name.startswith("k2"):
            out.append((str(name), str(version), d))
    return out


def _sklearn_rows(name: str) -> list[list[str]]:
    """The data rows of one of scikit-learn's bundled CSV files (its first line is a shape header)."""
    path = SKLEARN_DATA / name
    text = _text(path)
    if text is None:
        return []
    if name.startswith("linnerud"):
        return [line.split() for line in text.splitlines()[1:] if line.strip()]
    return [row for row in csv.reader(io.StringIO(text))][1:]


def _deal(
    templates: Sequence[tuple[str, str]],
    materials: Sequence[object],
    render: Callable[[str, str, object], tuple[str, str, dict[str, str], tuple[str, ...]] | None],
    quota: Sequence[int] = QUOTA,
) -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    """Materials dealt round-robin over the templates, each used once. `render(tid, text, material)` gives
    (key, query, files, expect), or None when the material does not suit that template."""
    used = [False] * len(materials)
    out = []
    for rnd in range(max(quota)):
        for (tid, text), q in zip(templates, quota, strict=True):
            if rnd >= q:
                continue
            for i, m in enumerate(materials):
                if used[i]:
                    continue
                got = render(tid, text, m)
                if got is None:
                    continue
                used[i] = True
                key, query, files, expect = got
                if sum(Path(p).stat().st_size for p in files.values()) <= MAX_TASK:
                    out.append((tid, key, query, files, expect))
                break
    return out


# ------------------------------------------------------------------------------------------------ number formats


def _fmt4(x: Fraction) -> str | None:
    """A value as describe-numbers and find-outliers print it (an integer, else 4 decimals without trailing
    zeros), from the exact value; None when the rounding would be a coin toss (exactly half a unit)."""
    if x.denominator == 1:
        return str(x.numerator)
    if abs(x) >= 10**9 or abs(x) < Fraction(1, 10**4):
        return None
    scaled = x * 10**4
    floor = math.floor(scaled)
    if scaled - floor == Fraction(1, 2):
        return None
    n = round(scaled)
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10**4)
    text = f"{sign}{whole}.{frac:04d}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _dec_str(x: Fraction) -> str | None:
    """The exact decimal of a fraction that terminates, else None."""
    den = x.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    places = max(twos, fives)
    scaled = abs(x.numerator) * 10**places // x.denominator
    s = str(scaled).rjust(places + 1, "0")
    whole, frac = (s[:-places], s[-places:].rstrip("0")) if places else (s, "")
    return ("-" if x < 0 else "") + whole + ("." + frac if frac else "")


def _group(whole: str) -> str:
    neg = whole.startswith("-")
    digits = whole.lstrip("-")
    return ("-" if neg else "") + (f"{int(digits):,}" if len(digits) > 4 else digits)


def _unit_fmt(x: Fraction) -> str:
    """convert-units' number: an exact decimal up to 15 significant digits, else 10 significant digits."""
    if x == 0:
        return "0"
    if x.denominator == 1:
        return _group(str(x.numerator))
    exact = _dec_str(x)
    if exact is not None and Fraction(1, 10**6) <= abs(x) < 10**15:
        digits = exact.replace("-", "").replace(".", "").lstrip("0")
        if len(digits) <= 15:
            whole, _, frac = exact.partition(".")
            return _group(whole) + ("." + frac if frac else "")
    with localcontext() as ctx:
        ctx.prec = 10
        d = Decimal(x.numerator) / Decimal(x.denominator)
    txt = format(d, "f")
    if "." in txt:
        txt = txt.rstrip("0").rstrip(".")
    whole, _, frac = txt.partition(".")
    return _group(whole) + ("." + frac if frac else "")


def _quantile(s: list[Fraction], p: Fraction) -> Fraction:
    """Linear interpolation between order statistics (numpy's default), exact."""
    if len(s) == 1:
        return s[0]
    h = (len(s) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def _numbers(rnd: random.Random, count: int, salt: str) -> list[tuple[str, list[str], list[str]]]:
    """(label, a slice of a column as written, the whole column) from scikit-learn's datasets."""
    sets = {
        "iris": (_sklearn_rows("iris.csv"), 4),
        "wine": (_sklearn_rows("wine_data.csv"), 13),
        "breast cancer": (_sklearn_rows("breast_cancer.csv"), 30),
        "linnerud": (_sklearn_rows("linnerud_physiological.csv"), 3),
    }
    pool = {f"{name}|{c}": (name, c) for name, (rows, cols) in sets.items() if rows for c in range(cols)}
    out = []
    for key in _rank(pool, salt)[:count]:
        name, col = pool[key]
        rows = sets[name][0]
        column = [r[col] for r in rows]
        length = rnd.randint(8, min(16, len(rows)))
        start = rnd.randrange(0, len(rows) - length + 1)
        out.append((f"{name.replace(' ', '-')}-c{col + 1}-r{start + 1}", column[start : start + length], column))
    return out


# ------------------------------------------------------------------------------------------------ file-checksums


def _checksums() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "Compute the SHA-256 checksum of {f}."),
        ("t2", "sha256 {f}"),
        ("t3", "whats the md5 of {f}? just need a quick integrity check"),
        ("t4", "I downloaded {f} and the release page lists {sha256}. Does my copy match?"),
        ("t5", "The published SHA-1 for {f} is {other_sha1} - is my file intact or did it get corrupted?"),
        ("t6", "Before I mirror {f} I want a fingerprint people can check it against, SHA-512 please."),
        ("t7", "cheksum for {f} pls, in sha256sum format"),
        ("t8", "Give me every digest you can for {f} - all the hashes."),
    ]
    modules = [(Path(p).name, Path(p)) for p in _rank((str(p) for p in _stdlib_modules()), "checksums")]
    licenses = {}
    for name, _, d in _dists():
        for p in sorted(d.rglob("LICENSE*")):
            if p.is_file() and p.suffix in ("", ".txt", ".md", ".rst") and _text(p) is not None:
                licenses.setdefault(f"{re.sub(r'[^A-Za-z0-9]+', '-', name).lower()}-{p.stem}{p.suffix or '.txt'}", p)
    picked = [(n, licenses[n]) for n in _rank(licenses, "licenses")[:6]]
    mats = [*modules[:12], *picked, *modules[12:16]]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        name, p = m
        data = p.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        other = hashlib.sha1(data + b"\n").hexdigest()
        query = text.format(f=name, sha256=sha256, other_sha1=other)
        expect: tuple[str, ...] = {
            "t3": (hashlib.md5(data).hexdigest(),),
            "t4": ("## ✅ Verified: the digest matches", f"| SHA-256 | {name} | ✅ MATCH |"),
            "t5": ("## ❌ Verification failed: 1 of 1 digest(s) do not match", f"| SHA-1 | {name} | ❌ MISMATCH"),
            "t6": (hashlib.sha512(data).hexdigest(),),
            "t8": (hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()),
        }.get(tid, (f"{sha256}  {name}",))
        return name, query, {name: str(p)}, (*expect, f"{len(data):,} bytes")

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ code-outline


def _span(a: int, b: int) -> str:
    return f"L{a}" if b <= a else f"L{a}-{b} ({b - a + 1} lines)"


def _outline() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "outline {f}"),
        ("t2", "What classes and functions are defined in {f}?"),
        ("t3", "list every def in {f} with its line numbers"),
        ("t4", "I'm about to refactor {f}; give me a map of what's in it and where."),
        ("t5", "table of contents for the code in {f} please"),
        ("t6", "which line does each function in {f} start on?"),
        ("t7", "wat's inside {f}? functions/classes only"),
        ("t8", "Skim {f} for me and tell me how it is structured, definition by definition."),
    ]
    mats = []
    for s in _rank((str(p) for p in _stdlib_modules(max_size=60_000)), "outline"):
        p = Path(s)
        tree = _parse(p)
        if tree is None:
            continue
        items = sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in ast.walk(tree))
        plain = [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.decorator_list]
        if 3 <= items <= 60 and plain:
            mats.append(p)

    def render(tid: str, text: str, p: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(p, Path)
        src = _text(p) or ""
        tree = _parse(p) or ast.Module(body=[], type_ignores=[])
        lines = src.count("\n") + (0 if src.endswith("\n") else 1)
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.decorator_list)
        expect = [f"## {p.name} (Python, {lines} lines)", f"`def {fn.name}(", f"{_span(fn.lineno, fn.end_lineno or 0)}"]
        return p.name, text.format(f=p.name), {p.name: str(p)}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ code-complexity


def _mccabe(fn: ast.AST) -> int:
    """McCabe's number of one function (1 + decisions), nested functions and classes left to themselves."""
    score = 1
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler)):
            score += 1
        elif isinstance(node, ast.BoolOp):
            score += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            score += 1 + len(node.ifs)
        elif isinstance(node, ast.match_case):
            wildcard = isinstance(node.pattern, ast.MatchAs) and node.pattern.pattern is None
            score += 0 if wildcard and node.guard is None else 1
        todo.extend(ast.iter_child_nodes(node))
    return score


def _functions(tree: ast.Module) -> list[tuple[str, int, int, int]]:
    """(qualified name, first line, last line, complexity) of every function, in source order of discovery."""
    out: list[tuple[str, int, int, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = child.end_lineno or child.lineno
                out.append((prefix + child.name, child.lineno, end, _mccabe(child)))
                walk(child, f"{prefix}{child.name}.<locals>.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def _complexity() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "How complex are the functions in {f}?"),
        ("t2", "cyclomatic complexity of {f}"),
        ("t3", "Which functions in {f} have a complexity over {k}?"),
        ("t4", "find the hairiest, most branchy functions in {f}, the ones I should split up"),
        ("t5", "rank the functions of {f} by how hard they are to test"),
        ("t6", "is anything in {f} with complexity above {k}?"),
        ("t7", "mccabe score for {f}"),
        ("t8", "which bits of {f} are the most convoluted? I want to know where the branching piles up"),
    ]
    mats = []
    for s in _rank((str(p) for p in _stdlib_modules()), "complexity"):
        tree = _parse(Path(s))
        if (
            tree is not None
            and 4 <= sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(tree)) <= 150
        ):
            mats.append(Path(s))

    def render(tid: str, text: str, p: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(p, Path)
        fns = _functions(_parse(p) or ast.Module(body=[], type_ignores=[]))
        longest = sorted(fns, key=lambda f: (-(f[2] - f[1] + 1), f[1]))[0]
        worst = max(fns, key=lambda f: (f[3], f[2] - f[1] + 1))
        k = [5, 8, 10, 12][_bucket(p.name) % 4]
        name = p.name
        expect = [f"# Complexity of 1 file: {len(fns)} functions"]
        if tid in ("t3", "t6"):
            expect.append(f"## Functions with complexity over {k}: {sum(f[3] > k for f in fns)}")
        else:
            expect.append(f"highest {worst[3]} in `{worst[0]}` ({name}:{worst[1]})")
        length = longest[2] - longest[1] + 1
        expect.append(f"- `{longest[0]}` {name}:{longest[1]}-{longest[2]}: {length} lines (complexity {longest[3]})")
        return name, text.format(f=name, k=k), {name: str(p)}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ describe-numbers


def _describe() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "describe these numbers: {nums}"),
        ("t2", "mean, median and standard deviation of {nums}"),
        ("t3", "give me descriptive statistics for the ulperrortol column of {f}"),
        ("t4", "Here are some measurements from the {ds} data: {nums}. What's typical and how much do they vary?"),
        ("t5", "summary stats pls: {nums}"),
        ("t6", "what is the average ulperrortol in {f}, and how spread out is it?"),
        ("t7", "crunch these for me -> {nums}"),
        ("t8", "I jotted down a handful of readings ({nums}); can you characterise the distribution?"),
    ]
    rnd = random.Random(11)
    mats: list[object] = [("text", key, vals) for key, vals, _ in _numbers(rnd, 14, "describe")]
    mats += [("file", p.name, p) for p in (UMATH / n for n in _rank(_umath_names(), "describe")[:6])]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        kind, key, payload = m
        if (kind == "file") != (tid in ("t3", "t6")):
            return None
        if kind == "file":
            values = []
            for row in list(csv.reader(io.StringIO(_text(payload) or "")))[1:]:
                cell = row[3].strip() if len(row) > 3 else ""
                if re.fullmatch(r"-?\d+(\.\d+)?", cell):
                    values.append(Fraction(cell))
            files = {payload.name: str(payload)}
            query = text.format(f=payload.name)
        else:
            values = [Fraction(v) for v in payload]
            files = {}
            query = text.format(nums=", ".join(payload), ds=re.sub(r"-c\d+-r\d+$", "", key).replace("-", " "))
        s = sorted(values)
        mean, median = _fmt4(sum(s) / len(s)), _fmt4(_quantile(s, Fraction(1, 2)))
        expect = [f"| count | {len(s)} |"]
        expect += [f"| mean | {mean} |"] if mean else []
        expect += [f"| median | {median} |"] if median else []
        return key, query, files, tuple(expect)

    return _deal(templates, mats, render)


@cache
def _umath_names() -> tuple[str, ...]:
    return tuple(p.name for p in sorted(UMATH.glob("umath-validation-set-*.csv")) if _text(p) is not None)


# ------------------------------------------------------------------------------------------------ find-outliers


def _outliers() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "find outliers in {nums}"),
        ("t2", "Which of these values look off? {nums}"),
        ("t3", "any values more than 2 standard deviations from the mean here: {nums}"),
        ("t4", "flag anything unusual in these readings: {nums}"),
        ("t5", "extreme outliers only (k=3) in {nums}"),
        ("t6", "are there any weird data points in {nums}?"),
        ("t7", "spot the oddballs: {nums}"),
        ("t8", "I suspect a couple of these measurements were mistyped - which ones stand out? {nums}"),
    ]
    rnd = random.Random(23)
    mats: list[object] = []
    for i, (key, vals, column) in enumerate(_numbers(rnd, 30, "outliers")):
        top = max(column, key=Fraction)
        if i % 2 == 0 and top not in vals:  # half the lists also get the column's largest value
            vals = [*vals[:-1], top]
        mats.append((key, vals))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        key, vals = m
        xs = [Fraction(v) for v in vals]
        s = sorted(xs)
        k = Fraction(3) if tid == "t5" else Fraction(3, 2)
        q1, q3 = _quantile(s, Fraction(1, 4)), _quantile(s, Fraction(3, 4))
        iqr = q3 - q1
        lo, hi = q1 - k * iqr, q3 + k * iqr
        expect: list[str] = []
        if tid == "t3":
            n = len(xs)
            mean = sum(xs) / n
            var = sum((x - mean) ** 2 for x in xs) / (n - 1)
            if var == 0:
                return None
            ratios = [(x - mean) ** 2 / var for x in xs]
            if any(abs(r - 4) < Fraction(1, 10**6) for r in ratios):
                return None
            count = sum(r > 4 for r in ratios)
            expect.append("|z| > 2")
        else:
            if iqr == 0 or any(abs(x - lo) < Fraction(1, 10**9) or abs(x - hi) < Fraction(1, 10**9) for x in xs):
                return None
            count = sum(x < lo or x > hi for x in xs)
            flo, fhi = _fmt4(lo), _fmt4(hi)
            if flo is None or fhi is None:
                return None
            expect.append(f"fences [{flo}, {fhi}]")
        expect.append(f"**{count} outlier(s)**" if count else "**No outliers**")
        return key, text.format(nums=", ".join(vals)), {}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ find-todos

_MARKERS = ("TODO", "FIXME", "HACK", "XXX", "BUG")


def _marker_hits(text: str, markers: Sequence[str]) -> list[tuple[int, str]]:
    """(line, marker) of full-line comments whose first marker word is one of `markers`."""
    lines = text.split("\n")
    rx = re.compile(rf"(?<![A-Za-z0-9_])({'|'.join(markers)})(?![A-Za-z0-9_])")
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.COMMENT:
                continue
            row, col = tok.start
            line = lines[row - 1]
            if line[:col].strip() or len(line) > 2000 or re.search(r"X{4,}|\dXXX|XXX\d", line):
                continue
            m = rx.search(line)
            if m:
                out.append((row, m.group(1)))
    except (tokenize.TokenError, SyntaxError):
        return []
    return out


def _todos() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "find all the TODOs in this project"),
        ("t2", "any FIXME or XXX notes left in the code?"),
        ("t3", "list the XXX comments in lib/"),
        ("t4", "what's still unfinished? grep the code for todo/fixme markers"),
        ("t5", "Show me the TODO and FIXME comments, grouped per file."),
        ("t6", "scan the repo for HACK, XXX and TODO markers"),
        ("t7", "any leftover todos in here?"),
        ("t8", "Before the release I'd like a list of every note developers left saying something still needs work "
         "(XXX and friends)."),
    ]  # fmt: skip
    sets = {"t2": ("FIXME", "XXX"), "t3": ("XXX",), "t8": ("XXX",)}
    candidates = []
    for s in _rank((str(p) for p in _stdlib_modules()), "todos"):
        text = _text(Path(s)) or ""
        if not re.search(r"#.*(TODO|FIXME|HACK|XXX|BUG)", text):
            continue
        hits = _marker_hits(text, _MARKERS)
        if hits and len(re.findall(r"TODO|FIXME|HACK|XXX|BUG", text)) <= 30 and _seen_whole({"lib/x": Path(s)}):
            candidates.append(Path(s))
    # one or two files per task: pair every third one with the next
    mats: list[list[Path]] = []
    i = 0
    while i < len(candidates):
        take = 2 if len(mats) % 3 == 2 and i + 1 < len(candidates) else 1
        mats.append(candidates[i : i + take])
        i += take

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, list)
        markers = sets.get(tid, _MARKERS)
        folder = "lib/" if tid == "t3" or (len(m) == 1 and _bucket(m[0].name) % 2) else ""
        expect = []
        for p in m:
            hits = _marker_hits(_text(p) or "", markers)
            if not hits:
                return None
            rel = p.name if tid == "t3" else f"{folder}{p.name}"
            line, marker = hits[0]
            expect += [f"### {rel}", f"- L{line} **{marker}**"]
        staged = {f"{folder}{p.name}": p for p in m}
        if not _seen_whole(staged):
            return None
        return "+".join(p.name for p in m), text, {k: str(v) for k, v in staged.items()}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ convert-units

_UNITS: dict[str, tuple[str, Fraction, str]] = {
    # word: (symbol, factor to the base unit, dimension)
    "pounds": ("lb", Fraction("0.45359237"), "mass"),
    "kilograms": ("kg", Fraction(1), "mass"),
    "ounces": ("oz", Fraction("0.028349523125"), "mass"),
    "grams": ("g", Fraction(1, 1000), "mass"),
    "inches": ("in", Fraction("0.0254"), "length"),
    "centimeters": ("cm", Fraction(1, 100), "length"),
    "millimeters": ("mm", Fraction(1, 1000), "length"),
    "feet": ("ft", Fraction("0.3048"), "length"),
    "meters": ("m", Fraction(1), "length"),
    "miles": ("mi", Fraction("1609.344"), "length"),
    "kilometers": ("km", Fraction(1000), "length"),
    "gallons": ("gal", Fraction("3.785411784"), "volume"),
    "liters": ("L", Fraction(1), "volume"),
    "fahrenheit": ("°F", Fraction(0), "temperature"),
    "celsius": ("°C", Fraction(0), "temperature"),
}


def _convert(v: Fraction, a: str, b: str) -> Fraction:
    if a == "fahrenheit":
        return (v - 32) * Fraction(5, 9)
    if a == "celsius":
        return v * Fraction(9, 5) + 32
    return v * _UNITS[a][1] / _UNITS[b][1]


def _units() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "{v} {a} in {b}"),
        ("t2", "convert {v} {a} to {b}"),
        ("t3", "how many {b} is {v} {a}?"),
        ("t4", "{v} {a} -> {b}"),
        ("t5", "What is {v} {a} expressed in {b}?"),
        ("t6", "quick one: {v} {a} into {b} please"),
        ("t7", "whats {v} {a} in {b} roughly"),
        ("t8", "The spec sheet gives {v} {a}; I need the figure in {b} for our report."),
    ]
    linn = _sklearn_rows("linnerud_physiological.csv")
    iris = _sklearn_rows("iris.csv")
    wine = _sklearn_rows("wine_data.csv")
    pairs = [
        *[(r[0], "pounds", "kilograms") for r in linn[:4]],
        *[(r[1], "inches", "centimeters") for r in linn[4:8]],
        *[(r[0], "centimeters", "inches") for r in iris[::40]],
        *[(r[2], "centimeters", "millimeters") for r in iris[20::60]],
        *[(r[4], "grams", "ounces") for r in wine[::70]],
        *[(r[12], "meters", "feet") for r in wine[30::80]],
        *[(r[4], "fahrenheit", "celsius") for r in wine[10::90]],
        *[(r[3], "celsius", "fahrenheit") for r in wine[5::90]],
        *[(r[12], "miles", "kilometers") for r in wine[50::90]],
        *[(r[4], "liters", "gallons") for r in wine[60::90]],
    ]
    usable = {f"{v}|{a}|{b}": (v, a, b) for v, a, b in pairs if re.fullmatch(r"\d+(\.\d+)?", v)}
    mats = [usable[k] for k in _rank(usable, "units")]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        v, a, b = m
        value = _convert(Fraction(v), a, b)
        key = f"{v}-{_UNITS[a][0]}-{_UNITS[b][0]}".replace("°", "deg")
        return key, text.format(v=v, a=a, b=b), {}, (f" {_unit_fmt(value)} {_UNITS[b][0]}**",)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ date-calculator


def _long(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def _bdays(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _dates() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "how many days between {d1} and {d2}?"),
        ("t2", "what date is {n} days after {d1}"),
        ("t3", "what day of the week was {l1}?"),
        ("t4", "{d1} + {n} days"),
        ("t5", "I started on {l1} and finished on {l2}. How long was that in days?"),
        ("t6", "{w} weeks before {d1}"),
        ("t7", "whats the date {n} business days after {d1}"),
        ("t8", "Counting from {d1}, how many days are left until my visa runs out on {l2}?"),
    ]
    rnd = random.Random(7)
    mats = []
    for _ in range(30):
        d1 = date(1990, 1, 1) + timedelta(days=rnd.randrange(0, 16_000))
        d2 = d1 + timedelta(days=rnd.randrange(20, 3_000))
        mats.append((d1, d2, rnd.randrange(10, 400), rnd.randrange(2, 30)))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        d1, d2, n, w = m
        if tid in ("t1", "t5", "t8"):
            expect = f"**{(d2 - d1).days:,} days**"
        elif tid in ("t2", "t4"):
            r = d1 + timedelta(days=n)
            expect = f"**{r.isoformat()} ({WEEKDAYS[r.weekday()]})**"
        elif tid == "t3":
            expect = f"**{d1.isoformat()} is a {WEEKDAYS[d1.weekday()]}**"
        elif tid == "t6":
            r = d1 - timedelta(weeks=w)
            expect = f"**{r.isoformat()} ({WEEKDAYS[r.weekday()]})**"
        else:
            n = n % 40 + 5
            r = _bdays(d1, n)
            expect = f"**{r.isoformat()} ({WEEKDAYS[r.weekday()]})**"
        query = text.format(d1=d1.isoformat(), d2=d2.isoformat(), l1=_long(d1), l2=_long(d2), n=n, w=w)
        return d1.isoformat(), query, {}, (expect,)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ evaluate-expression


def _exact(x: Fraction) -> str:
    if x.denominator == 1:
        return f"**{x.numerator}**"
    dec = _dec_str(x)
    return f"**{dec}**" if dec is not None else f"**{x.numerator}/{x.denominator}**"


def _evaluate() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "what is {a} + {b} * {c}"),
        ("t2", "calculate ({a} + {b}) / {c}"),
        ("t3", "{a} * {b} - {c} = ?"),
        ("t4", "quick math: {a} divided by {c}"),
        ("t5", "compute `{c}^2 + {a}`"),
        ("t6", "what's {p}% of {a}"),
        ("t7", "how much is {a} times {b} plus {c}"),
        ("t8", "can you work out `({a} - {b}) * {c}` for me exactly?"),
    ]
    wine = _sklearn_rows("wine_data.csv")
    linn = _sklearn_rows("linnerud_exercise.csv")
    mats = []
    for i in range(0, len(wine), 9):
        r = wine[i]
        ints = [linn[(i // 9) % len(linn)][j] for j in range(3)] if linn else ["7", "11", "13"]
        mats.append((r[12], r[4], ints[(i // 9) % 3] if ints[(i // 9) % 3] != "0" else "3", r[0], r[1]))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        a, b, c, p, dec = m
        fa, fb, fc, fp = Fraction(a), Fraction(b), Fraction(c), Fraction(p)
        if tid == "t1":
            v = fa + fb * fc
        elif tid == "t2":
            v = (fa + fb) / fc
        elif tid == "t3":
            v = fa * fb - fc
        elif tid == "t4":
            v = fa / fc
        elif tid == "t5":
            v = fc**2 + fa
        elif tid == "t6":
            v = fp / 100 * fa
        elif tid == "t7":
            b = dec
            v = fa * Fraction(dec) + fc
        else:
            v = (fa - fb) * fc
        return f"{a}-{b}-{c}", text.format(a=a, b=b, c=c, p=p), {}, (_exact(v),)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ encode-decode


def _docstring_lines() -> list[tuple[str, str]]:
    out = []
    for s in _rank((str(p) for p in _stdlib_modules(min_size=500)), "codec"):
        tree = _parse(Path(s))
        doc = ast.get_docstring(tree) if tree else None
        if not doc:
            continue
        line = doc.strip().split("\n")[0].strip()
        if 12 <= len(line) <= 70 and line.isascii() and not re.search(r"[`'\"\\]", line):
            out.append((Path(s).stem, line))
    return out


def _codec() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "base64 encode `{s}`"),
        ("t2", "url-encode this: `{s}`"),
        ("t3", "hex of `{s}`"),
        ("t4", "decode `{b64}`"),
        ("t5", "what does this say? `{b64}`"),
        ("t6", "rot13 `{s}`"),
        ("t7", "turn `{s}` into base64 pls"),
        ("t8", "I need `{s}` percent-escaped so it survives in a query string"),
    ]
    mats = _docstring_lines()

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        key, s = m
        b64 = base64.b64encode(s.encode()).decode()
        expect: tuple[str, ...] = {
            "t1": ("# Encoded as Base64", f"\n{b64}\n"),
            "t7": ("# Encoded as Base64", f"\n{b64}\n"),
            "t2": ("# Encoded as URL", f"\n{urllib.parse.quote(s, safe='')}\n"),
            "t8": ("# Encoded as URL", f"\n{urllib.parse.quote(s, safe='')}\n"),
            "t3": ("# Encoded as hex", f"\n{s.encode().hex()}\n"),
            "t4": ("# Decoded (base64, detected)", f"\n{s}\n"),
            "t5": ("# Decoded (base64, detected)", f"\n{s}\n"),
            "t6": ("# Applied ROT13", f"\n{codecs.encode(s, 'rot13')}\n"),
        }[tid]
        return key, text.format(s=s, b64=b64), {}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ explain-cron


def _cron_field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        rng, _, step = part.partition("/")
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            a, b = (int(x) for x in rng.split("-"))
        else:
            a = b = int(rng)
        out.update(range(a, b + 1, int(step) if step else 1))
    return {0 if hi == 7 and x == 7 else x for x in out}  # day of week 7 is Sunday, as 0


def _cron_runs(expr: str, start: datetime, count: int) -> list[datetime]:
    mi, hr, dom, mon, dow = expr.split()
    minutes, hours = sorted(_cron_field(mi, 0, 59)), sorted(_cron_field(hr, 0, 23))
    days, months, wdays = _cron_field(dom, 1, 31), _cron_field(mon, 1, 12), _cron_field(dow, 0, 7)
    both = not dom.startswith("*") and not dow.startswith("*")
    out: list[datetime] = []
    day = start.date()
    while len(out) < count and day.year < start.year + 3:
        cron_dow = (day.weekday() + 1) % 7
        d_ok, w_ok = day.day in days, cron_dow in wdays
        if day.month in months and ((d_ok or w_ok) if both else (d_ok and w_ok)):
            for h in hours:
                for m in minutes:
                    t = datetime(day.year, day.month, day.day, h, m)
                    if t >= start and len(out) < count:
                        out.append(t)
        day += timedelta(days=1)
    return out


def _cron() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "what does `{e}` mean?"),
        ("t2", "explain the cron schedule {e}"),
        ("t3", "when will `{e}` fire next? start from {start}"),
        ("t4", "crontab line `{e} /usr/local/bin/rotate-logs` - how often does that run?"),
        ("t5", "{e} in plain english pls"),
        ("t6", "show the next runs of `{e}` after {start}"),
        ("t7", "is `{e}` every day or what"),
        ("t8", "Our runbook says the job is scheduled as `{e}`. Walk me through when it kicks off, beginning {start}."),
    ]
    rnd = random.Random(5)
    mats = []
    for i in range(24):
        m, h = rnd.randrange(60), rnd.randrange(24)
        kind = i % 8
        expr = [
            f"{m} {h} * * *",
            f"{m} {h} * * {rnd.randrange(1, 4)},{rnd.randrange(4, 7)}",
            f"*/{rnd.choice([5, 10, 15, 20, 30])} * * * *",
            f"{m} */{rnd.choice([2, 3, 4, 6, 8, 12])} * * *",
            f"{m} {rnd.randrange(6, 10)}-{rnd.randrange(16, 20)} * * 1-5",
            f"{m} {h} {rnd.randrange(1, 29)} * *",
            f"0 {h} 1 {rnd.randrange(1, 7)},{rnd.randrange(7, 13)} *",
            f"{m} {h} * * {rnd.choice([0, 6])}",
        ][kind]
        start = datetime(2025, 1, 1) + timedelta(minutes=rnd.randrange(0, 2 * 365 * 24 * 60))
        mats.append((expr, start))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        expr, start = m
        if "{start}" not in text:
            start = datetime(2026, 1, 1)
        runs = _cron_runs(expr, start, 5)
        if len(runs) < 5:
            return None
        expect = tuple(f"- {r.strftime('%a %Y-%m-%d %H:%M')}" for r in (runs[0], runs[2], runs[4]))
        query = text.format(e=expr, start=start.strftime("%Y-%m-%d %H:%M"))
        return expr.replace(" ", "_").replace("*", "x").replace("/", "~"), query, {}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ decode-jwt


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "decode this JWT: {tok}"),
        ("t2", "what's inside {tok} ?"),
        ("t3", "Is this token still valid? Now is {now}. {tok}"),
        ("t4", "pls decode `{tok}`"),
        ("t5", "The API rejected my bearer token {tok} - can you show me the claims?"),
        ("t6", "jwt to json: {tok}"),
        ("t7", "check the claims and alg of {tok}"),
        ("t8", "Somebody pasted {tok} in our chat; what does it reveal?"),
    ]
    mats = [d for d in _rank((f"{n}|{v}" for n, v, _ in _dists()), "jwt")][:24]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, str)
        name, version = m.split("|")
        h = int(hashlib.sha256(name.encode()).hexdigest(), 16)
        iat = 1_600_000_000 + (h % 150_000_000) // 60 * 60
        exp = iat + 3600 * [1, 2, 8, 24, 168][h % 5]
        none = h % 4 == 0 and tid != "t3"
        header = {"alg": "none", "typ": "JWT"} if none else {"alg": "HS256", "typ": "JWT"}
        claims = {"sub": name, "iss": f"https://pypi.org/project/{name}/", "ver": version, "iat": iat, "exp": exp}
        sig = "" if none else _b64url(hashlib.sha256(name.encode()).digest())
        tok = ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()), sig])

        def iso(t: int) -> str:
            return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        now = iso(exp + 60 * (5 + h % 3000))
        expect = [json.dumps({"sub": name})[1:-1], f"| exp | {exp} → {iso(exp)} | expires at |"]
        if none:
            expect.append("**CRITICAL** `alg` is `none`")
        if tid == "t3":
            expect.append(f"EXPIRED: `exp` {iso(exp)}")
        return name, text.format(tok=tok, now=now), {}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ truth-table

Expr = tuple  # ("var", name) | ("not", e) | (op, a, b)


def _truth(e: Expr, env: dict[str, bool]) -> bool:
    op = e[0]
    if op == "var":
        return env[e[1]]
    if op == "not":
        return not _truth(e[1], env)
    a, b = _truth(e[1], env), _truth(e[2], env)
    return {"and": a and b, "or": a or b, "xor": a != b, "imp": (not a) or b, "iff": a == b}[op]


def _show(e: Expr, words: bool) -> str:
    op = e[0]
    if op == "var":
        return e[1]
    if op == "not":
        inner = _show(e[1], words)
        return f"not {inner}" if words else f"!{inner}"
    sym = {"and": ("and", "&"), "or": ("or", "|"), "xor": ("xor", "^"), "imp": ("->", "->"), "iff": ("<->", "<->")}
    text = f"{_show(e[1], words)} {sym[op][0 if words else 1]} {_show(e[2], words)}"
    return f"({text})"


def _vars(e: Expr) -> set[str]:
    return {e[1]} if e[0] == "var" else set().union(*(_vars(x) for x in e[1:]))


def _random_expr(rnd: random.Random, names: Sequence[str], depth: int) -> Expr:
    if depth == 0 or rnd.random() < 0.25:
        leaf: Expr = ("var", rnd.choice(names))
        return ("not", leaf) if rnd.random() < 0.3 else leaf
    op = rnd.choice(["and", "or", "and", "or", "imp", "xor", "iff"])
    e: Expr = (op, _random_expr(rnd, names, depth - 1), _random_expr(rnd, names, depth - 1))
    return ("not", e) if rnd.random() < 0.15 else e


def _rows(es: Sequence[Expr]) -> tuple[list[str], list[tuple[bool, ...]]]:
    names = sorted(set().union(*(_vars(e) for e in es)))
    rows = []
    for bits in range(2 ** len(names)):
        env = {n: bool(bits >> (len(names) - 1 - i) & 1) for i, n in enumerate(names)}
        rows.append(tuple(_truth(e, env) for e in es))
    return names, rows


def _truth_table() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "truth table for `{e}`"),
        ("t2", "is `{e}` a tautology?"),
        ("t3", "Is `{e}` equivalent to `{e2}`?"),
        ("t4", "evaluate every row of `{e}`"),
        ("t5", "can `{e}` ever be satisfied?"),
        ("t6", "do `{e}` and `{e2}` always give the same result?"),
        ("t7", "tt for `{e}` pls"),
        ("t8", "My circuit's output is `{e}`. For which input combinations does it come out high?"),
    ]
    rnd = random.Random(3)
    mats = []
    for i in range(26):
        names = ["p", "q", "r", "s"][: 2 + i % 3]
        e = _random_expr(rnd, names, 2 + i % 2)
        if len(_vars(e)) < 2:
            e = ("or", e, ("var", names[-1]))
        choice = i % 3
        if e[0] in ("and", "or") and choice == 0:  # De Morgan: an equivalent form
            other = "or" if e[0] == "and" else "and"
            e2: Expr = ("not", (other, ("not", e[1]), ("not", e[2])))
        elif e[0] == "imp" and choice != 2:  # the contrapositive
            e2 = ("imp", ("not", e[2]), ("not", e[1]))
        else:
            e2 = _random_expr(rnd, names, 2)
        mats.append((e, e2, i % 2 == 0))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        e, e2, words = m
        shown = _show(e, words)
        query = text.format(e=shown[1:-1] if e[0] not in ("var", "not") else shown, e2=_show(e2, words))
        if tid in ("t3", "t6"):
            _, rows = _rows([e, e2])
            same = all(a == b for a, b in rows)
            expect = ("E1 and E2 are **equivalent**",) if same else ("E1 and E2 are **not equivalent**",)
        else:
            _, rows = _rows([e])
            k, n = sum(r[0] for r in rows), len(rows)
            if k == n:
                expect = ("**Tautology**", f"true in all {n} rows")
            elif k == 0:
                expect = ("**Contradiction**",)
            else:
                expect = (f"is true in {k} of {n} rows",)
        return hashlib.sha256(query.encode()).hexdigest()[:10], query, {}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ check-regex


def _regex() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "check the regex `{p}` against {samples}"),
        ("t2", "does `{p}` match {samples}?"),
        ("t3", "test regex `{p}` on {samples}"),
        ("t4", "why doesn't my pattern `{p}` accept all of {samples}?"),
        ("t5", "regex `{p}` vs {samples}, which ones pass?"),
        ("t6", "Validate these strings with `{p}`: {samples}"),
        ("t7", "will `{p}` catch {samples}"),
        ("t8", "I'm filtering input with `{p}`; tell me which of {samples} would get through"),
    ]
    versions = [v for _, v, _ in _dists() if len(v) <= 20]
    names = [n for n, _, _ in _dists() if len(n) <= 20]
    dirs = [d.name.split("-")[0] for _, _, d in _dists()]
    hexes = []
    for n in _umath_names()[:3]:
        rows = list(csv.reader(io.StringIO(_text(UMATH / n) or "")))
        hexes += [r[1] for r in rows[2:200:40] if len(r) > 1] + [r[0] for r in rows[2:3]]
    modules = [*(p.name for p in _stdlib_modules()[:40]), "README.txt", "LICENSE.txt", "Grammar.txt"]
    words = [w for _, line in _docstring_lines() for w in line.split() if w.isalpha()][:80]
    suites = [
        (r"^\d+\.\d+\.\d+$", versions),
        (r"^\d+(\.\d+)*$", versions),
        (r"^[A-Za-z][A-Za-z0-9_]*$", names + dirs),
        (r"^0x[0-9a-f]{8}$", hexes),
        (r"^(?P<major>\d+)\.(?P<minor>\d+)", versions),
        (r"^[a-z]+(-[a-z]+)*$", names),
        (r"^\w+\.py$", modules),
        (r"^[A-Z][a-z]+$", words),
    ]
    rnd = random.Random(13)
    mats = []
    for i in range(30):
        pat, pool = suites[i % len(suites)]
        pool = [s for s in dict.fromkeys(pool) if s and "`" not in s]
        if len(pool) < 3:
            continue
        yes = [s for s in pool if re.search(pat, s)]
        no = [s for s in pool if not re.search(pat, s)]
        picked = rnd.sample(yes, min(2, len(yes))) + rnd.sample(no, min(3 - min(2, len(yes)), len(no)))
        rnd.shuffle(picked)
        if len(picked) == 3:
            mats.append((pat, picked))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        pat, samples = m
        shown = f"`{samples[0]}`, `{samples[1]}` and `{samples[2]}`"
        expect = tuple(f"| {i} | `{s}` | {'yes' if re.fullmatch(pat, s) else 'no'} |" for i, s in enumerate(samples, 1))
        key = hashlib.sha256((pat + "|".join(samples)).encode()).hexdigest()[:10]
        return key, text.format(p=pat, samples=shown), {}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ outline-document


def _md_headings(text: str) -> tuple[list[tuple[int, int, str]], bool]:
    """(line, level, title) of the ATX headings outside code fences, and whether that list is the whole outline
    (no setext underlines or HTML headings that another reader might count)."""
    out = []
    fence = ""
    complete = True
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        m = re.match(r"^ {0,3}(```+|~~~+)", line)
        if m:
            if not fence:
                fence = m.group(1)[0] * 3
            elif stripped.startswith(fence):
                fence = ""
            continue
        if fence:
            continue
        h = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if h:
            out.append((n, len(h.group(1)), h.group(2).strip()))
        elif (re.fullmatch(r"=+|-+", stripped) and n > 1 and lines[n - 2].strip()) or re.search(r"(?i)<h[1-6]\b", line):
            complete = False  # a setext underline or an HTML heading: the count might differ
    return out, complete and not fence


def _outline_doc() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "outline {f}"),
        ("t2", "what are the sections of {f}?"),
        ("t3", "make a table of contents for {f}"),
        ("t4", "show me the heading structure of {f}"),
        ("t5", "how is {f} organised? list the headings with line numbers"),
        ("t6", "toc for {f} pls"),
        ("t7", "I only have a minute - which parts does {f} cover?"),
        ("t8", "headngs in {f}?"),
    ]
    mats = []
    for name, _, d in _dists():
        text = _text(d / "METADATA") or ""
        if "text/markdown" not in text:
            continue
        heads, _ = _md_headings(text)
        plain = [h for h in heads if re.fullmatch(r"[A-Za-z0-9 ,.()?:/-]+", h[2]) and not h[2].endswith((".", ":"))]
        if len(heads) >= 3 and len(plain) >= 2 and len(text) < 60_000:
            mats.append((name, d / "METADATA"))
    mats = [m for k in _rank((m[0] for m in mats), "mdoc") for m in mats if m[0] == k]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        name, path = m
        fname = f"{re.sub(r'[^A-Za-z0-9]+', '-', name).lower()}-README.md"
        heads, complete = _md_headings(_text(path) or "")
        plain = [h for h in heads if re.fullmatch(r"[A-Za-z0-9 ,.()?:/-]+", h[2]) and not h[2].endswith((".", ":"))]
        expect = [f"L{n} **{t}** (H{lv})" for n, lv, t in plain[:2]]
        if complete:
            expect.append(f"{len(heads)} headings")
        return name, text.format(f=fname), {fname: str(path)}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ validate-config


def _config_verdict(path: Path, name: str) -> tuple[bool, str] | None:
    """(valid, expected substring) of one config file, from the standard library's own parsers."""
    text = _text(path)
    if text is None:
        return None
    ext = Path(name).suffix
    if ext == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            return (False, f"**Invalid TOML** at line {m.group(1)}, column {m.group(2)}") if m else None
        tables = [k for k, v in data.items() if isinstance(v, dict)]
        keys = [k for k in data if k not in tables]
        if tables:
            return True, f"**Valid TOML**: {len(tables)} table{'s' if len(tables) != 1 else ''}"
        if keys:
            return True, f"**Valid TOML**: {len(keys)} top-level key{'s' if len(keys) != 1 else ''}"
        return True, "**Valid TOML**: empty document"
    if ext == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return False, f"**Invalid JSON** at line {exc.lineno}, column {exc.colno}"
        if isinstance(data, dict):
            return True, f"**Valid JSON**: an object with {len(data)} top-level key{'s' if len(data) != 1 else ''}"
        if isinstance(data, list):
            return True, f"**Valid JSON**: an array of {len(data)} item{'s' if len(data) != 1 else ''}"
        return None
    if ext in (".ini", ".cfg"):
        cp = configparser.ConfigParser(interpolation=None, strict=True)
        try:
            cp.read_string(text)
        except configparser.Error:
            return None
        n = len(cp.sections())
        return True, f"**Valid INI**: {n} section{'s' if n != 1 else ''}"
    if ext == ".xml":
        if "<!DOCTYPE" in text or "<!ENTITY" in text:
            return None
        try:
            root = ET.fromstring(text)  # files of the Python distribution
        except ET.ParseError as exc:
            line, col = exc.position
            return False, f"**Invalid XML** at line {line}, column {col + 1}"
        return True, f"**Valid XML** (well-formed): root `<{re.sub(r'^{[^}]*}', '', root.tag)}>`"
    return None


def _configs() -> list[tuple[str, str, Path]]:
    """(key, name in the root, path) of config files that ship with Python and the packages."""
    found: list[tuple[str, str, Path]] = []
    toml = STDLIB / "test" / "test_tomllib" / "data"
    for p in sorted(toml.rglob("*.toml")) + sorted((toml / "valid").glob("*.json")):
        rel = p.relative_to(toml).as_posix()
        name = rel.split("/", 1)[1].replace("/", "-")  # without the valid/ or invalid/ that would give it away
        found.append((rel, name, p))
    for p in sorted((STDLIB / "test" / "xmltestdata").rglob("*.xml")):
        found.append((p.relative_to(STDLIB).as_posix(), p.name, p))
    for p in sorted((STDLIB / "idlelib").glob("config-*.def")):
        found.append((p.name, f"idle-{p.stem}.cfg", p))
    for rel in (
        "numpy/_core/lib/npy-pkg-config/mlib.ini",
        "numpy/_core/lib/npy-pkg-config/npymath.ini",
        "numpy/typing/tests/data/mypy.ini",
        "trafilatura/settings.cfg",
        "setuptools/config/setuptools.schema.json",
        "setuptools/config/distutils.schema.json",
        "scipy/stats/tests/data/studentized_range_mpmath_ref.json",
    ):
        p = SITE / rel
        if p.is_file():
            found.append((rel, f"{rel.split('/')[0]}-{p.name}", p))
    for p in sorted(SITE.glob("*.dist-info/sboms/*.json")):
        dist = p.parents[1].name.split("-")[0]
        found.append((p.relative_to(SITE).as_posix(), p.name if p.name.startswith(dist) else f"{dist}-{p.name}", p))
    return [(k, n, p) for k, n, p in found if _config_verdict(p, n) is not None]


def _validate() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "is {f} valid?"),
        ("t2", "syntax check {f}"),
        ("t3", "{f} won't load - what's wrong with it?"),
        ("t4", "validate {f} and {g}"),
        ("t5", "can you check whether {f} parses?"),
        ("t6", "is the config file {f} well-formed?"),
        ("t7", "My app chokes on startup reading {f}. Is the file itself broken?"),
        ("t8", "quick sanity check of {f} and {g} pls"),
    ]
    found = _configs()
    order = _rank((k for k, _, _ in found), "validate")
    by_key = {k: (n, p) for k, n, p in found}
    ranked = [(k, *by_key[k]) for k in order]
    valid = [x for x in ranked if (_config_verdict(x[2], x[1]) or (False, ""))[0]]
    invalid = [x for x in ranked if x not in valid]
    mixed: list[tuple[str, str, Path]] = []
    for i in range(max(len(valid), len(invalid))):  # alternate valid and invalid files
        mixed += [*valid[i : i + 1], *invalid[i : i + 1]]
    mats: list[list[tuple[str, str, Path]]] = []
    i = 0
    while i < len(mixed) and len(mats) < 40:
        take = 2 if len(mats) % 3 == 1 else 1
        group = mixed[i : i + take]
        if len({n for _, n, _ in group}) == len(group):
            mats.append(group)
        i += take

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, list)
        if (len(m) == 2) != (tid in ("t4", "t8")):
            return None
        verdicts = [_config_verdict(p, n) for _, n, p in m]
        expect = [v[1] for v in verdicts if v]
        if len(m) == 2:
            ok = sum(bool(v and v[0]) for v in verdicts)
            expect.insert(0, f"# Config check: {ok} valid, {len(m) - ok} invalid")
        names = [n for _, n, _ in m]
        query = text.format(f=names[0], g=names[-1])
        return "+".join(k for k, _, _ in m), query, {n: str(p) for _, n, p in m}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ convert-data-format


def _convert_data() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "convert {f} to JSON"),
        ("t2", "turn {f} into JSON Lines"),
        ("t3", "{f} as TSV please"),
        ("t4", "I need {f} as a JSON array for a web app"),
        ("t5", "export {f} to ndjson"),
        ("t6", "make a tab-separated version of {f}"),
        ("t7", "csv -> json: {f}"),
        ("t8", "could you reshape {f} into JSON records my JavaScript code can parse?"),
    ]
    mats = [UMATH / n for n in _rank(_umath_names(), "convert")]
    mats += [SKLEARN_DATA / n for n in ("iris.csv", "wine_data.csv") if (SKLEARN_DATA / n).is_file()]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, Path)
        rows = [r for r in csv.reader(io.StringIO(_text(m) or "")) if any(c.strip() for c in r)]
        header, body = rows[0], rows[1:]
        stem = m.stem
        target = {"t2": "jsonl", "t5": "jsonl", "t3": "tsv", "t6": "tsv"}.get(tid, "json")
        label = {"json": "JSON", "jsonl": "JSON Lines", "tsv": "TSV"}[target]
        expect = [f"# {m.name} (CSV) → {stem}.{target} ({label})", f"{len(body)} records"]
        first = next(r for r in body if len(r) == len(header))
        if m.name.startswith("umath"):
            if target == "tsv":
                expect.append("\t".join(first))
            elif target == "jsonl":
                expect.append(json.dumps(dict(zip(header[:3], first[:3], strict=True)))[:-1])
            else:
                expect.append(f'"{header[1]}": "{first[1]}"')
        return m.name, text.format(f=m.name), {m.name: str(m)}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ compare-files


def _compare() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "diff {a} and {b}"),
        ("t2", "what changed between {a} and {b}?"),
        ("t3", "compare {a} with {b}, summary only"),
        ("t4", "are {a} and {b} the same file?"),
        ("t5", "How different are {a} and {b}? Give me the changed lines."),
        ("t6", "{a} vs {b}"),
        ("t7", "spot the differences: {a} / {b}"),
        ("t8", "I have two near-identical files, {a} and {b}; which lines differ?"),
    ]
    pairs: list[tuple[str, Path, str, Path]] = []
    enc = STDLIB / "encodings"
    for family in ("cp125", "iso8859_", "mac_", "cp85", "cp86"):
        members = [p for p in sorted(enc.glob(f"{family}*.py")) if _text(p) is not None]
        pairs += [(a.name, a, b.name, b) for a, b in zip(members[::2], members[1::2], strict=False)]
    groups: dict[str, list[tuple[str, Path]]] = {}
    for name, _, d in _dists():
        for p in sorted(d.rglob("LICENSE*")):
            text = _text(p) if p.is_file() else None
            if text and len(text) < 20_000:
                first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
                key = re.sub(r"[^a-z]", "", first.lower())[:20]
                groups.setdefault(key, []).append((f"{re.sub(r'[^A-Za-z0-9]+', '-', name).lower()}-LICENSE.txt", p))
    for members in groups.values():
        pairs += [(a[0], a[1], b[0], b[1]) for a, b in zip(members[::2], members[1::2], strict=False)]
    mats = [p for k in _rank((f"{a}|{b}" for a, _, b, _ in pairs), "compare") for p in pairs if f"{p[0]}|{p[2]}" == k]

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        na, pa, nb, pb = m
        ta, tb = _text(pa) or "", _text(pb) or ""
        if ta == tb or na == nb:
            return None
        la, lb = ta.splitlines(), tb.splitlines()
        sm = difflib.SequenceMatcher(None, la, lb, autojunk=False)
        added = removed = 0
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag in ("replace", "delete"):
                removed += i2 - i1
            if tag in ("replace", "insert"):
                added += j2 - j1
        expect = (
            f"- {na}: {len(la)} lines, {len(ta.encode())} bytes (UTF-8)",
            f"- {nb}: {len(lb)} lines, {len(tb.encode())} bytes (UTF-8)",
            f"{added} line{'s' if added != 1 else ''} added, {removed} removed",
        )
        return f"{na}+{nb}", text.format(a=na, b=nb), {na: str(pa), nb: str(pb)}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ tree-summary


def _tree() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "give me an overview of this project's files"),
        ("t2", "what's in this repo?"),
        ("t3", "language breakdown of the folder"),
        ("t4", "how many lines of Python do we have here?"),
        ("t5", "which files are the largest in this project?"),
        ("t6", "summarize the tree"),
        ("t7", "how big is this codebase, roughly?"),
        ("t8", "New to this checkout: what kinds of files live here and how much of each?"),
    ]
    packages = [
        "json", "email", "email/mime", "concurrent", "html", "http", "urllib", "xmlrpc", "wsgiref", "sqlite3",
        "dbm", "importlib", "importlib/metadata", "importlib/resources", "zoneinfo", "tomllib", "venv", "logging",
        "multiprocessing/dummy", "curses", "ctypes/macholib", "lib2to3/fixes", "lib2to3/pgen2", "xml", "xml/dom",
        "xml/etree", "xml/sax", "re", "collections", "unittest", "asyncio", "distutils/command", "encodings",
    ]  # fmt: skip
    bases = [(pkg, STDLIB / pkg) for pkg in packages]
    bases += [
        (rel, SITE / rel) for rel in ("sklearn/datasets/descr", "sklearn/datasets/data", "numpy/random/tests/data")
    ]
    mats = []
    for pkg, base in bases:
        if not base.is_dir():
            continue
        files = [  # the text files: the host gives a tree skill nothing else
            p
            for p in sorted(base.rglob("*"))
            if p.is_file()
            and "__pycache__" not in p.parts
            and "test" not in p.relative_to(base).parts[:-1]
            and _text(p) is not None
        ]
        if not files or len(files) > 80:
            continue
        if sum(p.stat().st_size for p in files) > MAX_TASK:
            continue
        mats.append((pkg, base, files))

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, tuple)
        pkg, base, files = m
        prefix = "src/" if _bucket(pkg) % 2 else ""
        top = pkg.split("/")[-1]
        staged = {f"{prefix}{top}/{p.relative_to(base).as_posix()}": p for p in files}
        if not _seen_whole(staged):
            return None
        lines = 0
        for p in files:
            data = p.read_bytes()
            lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        py = sum(p.suffix == ".py" for p in files)
        expect = [f"# Folder summary: {len(files)} files", f", {lines:,} lines"]
        if py:
            expect.append(f"| Python | {py} | ")
        return pkg.replace("/", "-"), text, {k: str(v) for k, v in staged.items()}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ find-risky-code


@cache
def _risky_calls(path: Path) -> list[tuple[int, str]]:
    """(line, rule) of high-severity calls: eval/exec of a computed value, os.system/os.popen of a computed
    command, pickle/marshal loads."""
    tree = _parse(path)
    if tree is None or not re.search(r"\b(eval|exec|system|popen|loads?)\(", _text(path) or ""):
        return []
    lines = (_text(path) or "").split("\n")
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else ""
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            name = f"{f.value.id}.{f.attr}"
        first = node.args[0] if node.args else None
        computed = first is not None and not isinstance(first, ast.Constant)
        rule = ""
        if name in ("eval", "exec") and computed:
            rule = "eval-exec"
        elif name in ("os.system", "os.popen") and computed:
            rule = "os-command"
        elif name in ("pickle.load", "pickle.loads", "marshal.load", "marshal.loads"):
            rule = "unsafe-deserialization"
        if rule and "nosec" not in lines[node.lineno - 1].lower():
            out.append((node.lineno, rule))
    return sorted(out)


def _risky() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "review this repo for dangerous code patterns"),
        ("t2", "any eval or exec calls we should worry about?"),
        ("t3", "security scan of the Python code, only high severity"),
        ("t4", "Is there anything in here that could let an attacker run code?"),
        ("t5", "check the code for command injection and unsafe deserialization"),
        ("t6", "audit the code for risky calls"),
        ("t7", "r there any security smells in this code?"),
        ("t8", "Before we open-source this folder, point out code that deserialises or executes untrusted input."),
    ]
    cands = []
    for s in _rank((str(p) for p in _stdlib_modules(max_size=150_000)), "risky"):
        p = Path(s)
        if 1 <= len(_risky_calls(p)) <= 40 and _seen_whole({"lib/x": p}):
            cands.append(p)
    mats: list[list[Path]] = []
    i = 0
    while i < len(cands):
        take = 2 if len(mats) % 2 == 1 and i + 1 < len(cands) else 1
        mats.append(cands[i : i + take])
        i += take

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, list)
        folder = "lib/" if _bucket(m[0].name) % 2 else ""
        expect = []
        for p in m:
            line, rule = _risky_calls(p)[0]
            expect.append(f"| high | {rule} | `{folder}{p.name}:{line}` |")
        staged = {f"{folder}{p.name}": p for p in m}
        if not _seen_whole(staged):
            return None
        return "+".join(p.name for p in m), text, {k: str(v) for k, v in staged.items()}, tuple(expect)

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ password strength


def _passwords() -> list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]:
    templates = [
        ("t1", "how strong is my password `{pw}`?"),
        ("t2", 'is "{pw}" a good password?'),
        ("t3", "rate this password: `{pw}`"),
        ("t4", "would `{pw}` survive a brute-force attack?"),
        ("t5", "password strength check `{pw}`"),
        ("t6", "Thinking of using `{pw}` for my email account. Too weak?"),
        ("t7", "how long would it take to crack `{pw}`"),
        ("t8", "is `{pw}` guessable"),
    ]
    rnd = random.Random(17)
    names = [n for n, _, _ in _dists() if re.fullmatch(r"[a-z]{4,10}", n)]
    wine = _sklearn_rows("wine_data.csv")
    mats = []
    for i, word in enumerate(_rank(names, "pw")[:24]):
        digits = wine[(i * 7) % len(wine)][12].split(".")[0] if wine else str(1000 + i)
        sym = "!@#$%&*?"[i % 8]
        pw = [
            f"{word}{digits}",
            f"{word.capitalize()}{digits}{sym}",
            f"{sym}{word.upper()}{digits[-2:]}",
            f"{word}{sym}{word[::-1]}",
            f"{word.capitalize()}{rnd.randrange(1950, 2026)}",
            f"{digits}{word}{sym}{rnd.randrange(10, 99)}",
        ][i % 6]
        mats.append(pw)

    def render(tid: str, text: str, m: object) -> tuple[str, str, dict[str, str], tuple[str, ...]] | None:
        assert isinstance(m, str)
        pw = m
        classes = {
            "lower": any(c.islower() for c in pw),
            "upper": any(c.isupper() for c in pw),
            "digit": any(c.isdigit() for c in pw),
            "symbol": any(c in string.punctuation or c == " " for c in pw),
        }
        pool = 26 * classes["lower"] + 26 * classes["upper"] + 10 * classes["digit"] + 33 * classes["symbol"]
        masked = pw[0] + "•" * (len(pw) - 2) + pw[-1]
        expect = (
            f"`{masked}`",
            f"| length | {len(pw)} characters |",
            f"| character classes | {', '.join(k for k, v in classes.items() if v)} (pool of {pool}) |",
            f"| naive entropy (length × log2 pool) | {len(pw) * math.log2(pool):.1f} bits |",  # noqa: RUF001
        )
        return pw, text.format(pw=pw), {}, expect

    return _deal(templates, mats, render)


# ------------------------------------------------------------------------------------------------ the set

BUILDERS: dict[str, Callable[[], list[tuple[str, str, str, dict[str, str], tuple[str, ...]]]]] = {
    "file-checksums": _checksums,
    "code-outline": _outline,
    "code-complexity": _complexity,
    "describe-numbers": _describe,
    "find-outliers": _outliers,
    "find-todos": _todos,
    "convert-units": _units,
    "date-calculator": _dates,
    "evaluate-expression": _evaluate,
    "encode-decode": _codec,
    "explain-cron": _cron,
    "decode-jwt": _jwt,
    "truth-table": _truth_table,
    "check-regex": _regex,
    "outline-document": _outline_doc,
    "validate-config": _validate,
    "convert-data-format": _convert_data,
    "compare-files": _compare,
    "tree-summary": _tree,
    "find-risky-code": _risky,
    "check-password-strength": _passwords,
}
HELDOUT_TEMPLATES = ("t7", "t8")  # per skill: the phrasings that never appear in train


def build_tasks() -> list[Task]:
    """Every task, in a fixed order (the same list on every call on the same machine)."""
    tasks: list[Task] = []
    for skill, build in BUILDERS.items():
        difficulty = _difficulty(skill)
        rows: dict[str, tuple[str, str, dict[str, str], tuple[str, ...]]] = {}
        for tid, key, query, files, expect in build():
            if expect:
                rows.setdefault(f"{skill}/{tid}/{key}", (tid, query, files, expect))
        heldout = {i for i, (tid, *_) in rows.items() if tid in HELDOUT_TEMPLATES or _bucket(i) < HELDOUT_SHARE}
        for tid, _ in {(r[0], None) for r in rows.values() if r[0] not in HELDOUT_TEMPLATES}:
            mine = [i for i, r in rows.items() if r[0] == tid]
            if all(i in heldout for i in mine):  # a shared template keeps at least one train task
                heldout.discard(max(mine, key=_bucket))
        for task_id, (tid, query, files, expect) in rows.items():
            tasks.append(
                Task(
                    id=task_id,
                    query=query,
                    skill=skill,
                    difficulty=difficulty,
                    template=f"{skill}/{tid}",
                    split="heldout" if task_id in heldout else "train",
                    unseen_phrasing=tid in HELDOUT_TEMPLATES,
                    files=dict(files),
                    expect=tuple(expect),
                )
            )
    return tasks


@dataclass
class _Counts:
    total: int = 0
    by: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, value: str) -> None:
        self.by.setdefault(kind, {})
        self.by[kind][value] = self.by[kind].get(value, 0) + 1


def summary(tasks: Sequence[Task]) -> dict[str, dict[str, int]]:
    """Counts per split, skill, difficulty and (heldout) unseen phrasing."""
    c = _Counts(total=len(tasks))
    for t in tasks:
        c.add("split", t.split)
        c.add("skill", t.skill)
        c.add("difficulty", t.difficulty)
        c.add("templates", t.template)
        if t.split == "heldout":
            c.add("heldout", "unseen phrasing" if t.unseen_phrasing else "seen phrasing")
    return c.by


def main(argv: Sequence[str]) -> int:
    tasks = build_tasks()
    if "--json" in argv:
        for t in tasks:
            print(json.dumps(t.__dict__, ensure_ascii=False))
        return 0
    by = summary(tasks)
    print(f"{len(tasks)} tasks over {len(by['skill'])} skills")
    for kind in ("split", "difficulty", "heldout", "skill"):
        print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in sorted(by[kind].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def stage(task: Task, root: Path) -> None:
    """Empty the root, then copy the task's files in under their names."""
    for child in list(root.iterdir()):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel, src in task.files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
