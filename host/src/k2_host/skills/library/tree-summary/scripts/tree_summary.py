"""Summarise a folder: files by type (count, size, lines), the largest files, the biggest folders and depth.

Usage:
    python3 tree_summary.py input < request.txt

argv[1] is the folder (the host copies the project's text files under `input/`, at most 300 files / 4 MB).
Request words: "top 20" sets how many largest files and folders are listed (default 10); "by lines" ranks the
largest files by line count instead of bytes; "include hidden" counts dot-folders such as .github (they are
counted anyway and listed separately). Exit 2 when the folder is missing or empty.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

MAX_OUT = 15_000
LANG = {
    ".py": "Python", ".pyi": "Python", ".ipynb": "Jupyter", ".js": "JavaScript", ".mjs": "JavaScript",
    ".cjs": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript", ".go": "Go",
    ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".c": "C",
    ".h": "C/C++ header",
    ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++ header", ".cs": "C#", ".rb": "Ruby", ".php": "PHP",
    ".swift": "Swift", ".m": "Objective-C", ".lua": "Lua", ".pl": "Perl", ".r": "R", ".jl": "Julia", ".dart": "Dart",
    ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure", ".sh": "Shell",
    ".bash": "Shell", ".zsh": "Shell", ".ps1": "PowerShell", ".bat": "Batch", ".sql": "SQL", ".html": "HTML",
    ".htm": "HTML", ".css": "CSS", ".scss": "SCSS", ".less": "Less", ".vue": "Vue", ".svelte": "Svelte",
    ".md": "Markdown", ".rst": "reStructuredText", ".txt": "Text", ".adoc": "AsciiDoc", ".json": "JSON",
    ".jsonl": "JSON Lines", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".ini": "INI", ".cfg": "INI",
    ".xml": "XML", ".csv": "CSV", ".tsv": "TSV", ".svg": "SVG", ".proto": "Protobuf", ".graphql": "GraphQL",
    ".tf": "Terraform", ".lock": "Lockfile", ".env": "dotenv", ".gradle": "Gradle", ".mk": "Makefile",
}  # fmt: skip
BY_NAME = {
    "makefile": "Makefile",
    "dockerfile": "Dockerfile",
    "license": "License",
    "readme": "Text",
    "jenkinsfile": "Groovy",
}
CODE = {
    "Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "Kotlin", "Scala", "C", "C/C++ header", "C++",
    "C++ header", "C#", "Ruby", "PHP", "Swift", "Objective-C", "Lua", "Perl", "R", "Julia", "Dart", "Elixir",
    "Erlang", "Haskell", "Clojure", "Shell", "PowerShell", "Batch", "SQL", "Vue", "Svelte", "HTML", "CSS", "SCSS",
    "Less",
}  # fmt: skip
TEST_RX = re.compile(r"(^|/)(tests?|__tests__|spec)/|(^|/)test_[^/]*\.py$|_test\.(py|go)$|\.(test|spec)\.[cm]?[jt]sx?$")


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def kind(path: Path) -> str:
    name = path.name.lower()
    if name in BY_NAME:
        return BY_NAME[name]
    if name.split(".")[0] in ("dockerfile", "makefile", "jenkinsfile"):
        return BY_NAME[name.split(".")[0]]
    if name.endswith((".lock", "-lock.json", "lock.yaml")):
        return "Lockfile"
    return LANG.get(path.suffix.lower(), (path.suffix.lower() or "(no extension)"))


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    root = Path(argv[0]) if argv else Path("input")
    if not root.is_dir():
        raise Refusal(f"The folder {root} was not found: name the folder to summarise, e.g. 'summarise src/'.")
    m = re.search(r"(?i)\btop\s+(\d+)", request)
    top = max(1, min(50, int(m.group(1)))) if m else 10
    by_lines = bool(re.search(r"(?i)by lines|most lines|longest files|line count", request))
    files: list[tuple[str, int, int, str, bool]] = []  # rel, bytes, lines, kind, binary
    dirs: set[str] = set()
    empty_dirs: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir != ".":
            dirs.add(rel_dir)
            if not dirnames and not filenames:
                empty_dirs.append(rel_dir)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            try:
                data = p.read_bytes()
            except OSError:
                continue
            binary = b"\x00" in data[:8192]
            lines = 0 if binary else data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            files.append((p.relative_to(root).as_posix(), len(data), lines, kind(p), binary))
    if not files:
        raise Refusal("The folder has no files; name a folder with files in it.")
    total_bytes = sum(f[1] for f in files)
    total_lines = sum(f[2] for f in files)
    depth = max(f[0].count("/") for f in files)
    deepest = [f[0] for f in files if f[0].count("/") == depth][:3]
    out = [f"# Folder summary: {len(files)} files, {human(total_bytes)}, {total_lines:,} lines"]
    out.append(
        f"- {plural(len(dirs), 'folder')} (plus the root); deepest nesting: {plural(depth, 'folder')} down ("
        + ", ".join(f"`{d}`" for d in deepest)
        + ")"
    )
    tests = [f for f in files if TEST_RX.search(f[0])]
    code = [f for f in files if f[3] in CODE]
    if code:
        share = 100 * sum(f[2] for f in tests if f[3] in CODE) / max(1, sum(f[2] for f in code))
        out.append(
            f"- code: {len(code)} files, {sum(f[2] for f in code):,} lines; tests: {plural(len(tests), 'file')} "
            f"({share:.0f}% of code lines)"
        )
    hidden = [f for f in files if any(part.startswith(".") for part in f[0].split("/"))]
    if hidden:
        out.append(f"- in hidden (dot) folders or files: {plural(len(hidden), 'file')}, e.g. `{hidden[0][0]}`")
    binaries = [f for f in files if f[4]]
    if binaries:
        out.append(f"- binary files: {len(binaries)}")
    if empty_dirs:
        out.append(f"- empty folders: {', '.join(f'`{d}`' for d in empty_dirs[:5])}")
    # by type
    types: dict[str, list[int]] = {}
    for _rel, size, lines, k, _b in files:
        t = types.setdefault(k, [0, 0, 0])
        t[0] += 1
        t[1] += size
        t[2] += lines
    out.append("")
    out.append("## By type")
    out.append("| type | files | size | lines | share of bytes |")
    out.append("|---|---:|---:|---:|---:|")
    for k, (n, size, lines) in sorted(types.items(), key=lambda kv: (-kv[1][1], kv[0]))[:25]:
        out.append(f"| {k} | {n} | {human(size)} | {lines:,} | {100 * size / max(1, total_bytes):.1f}% |")
    if len(types) > 25:
        out.append(f"| … {len(types) - 25} more types | | | | |")
    # largest files
    key = (lambda f: (-f[2], f[0])) if by_lines else (lambda f: (-f[1], f[0]))
    out.append("")
    out.append(f"## Largest files by {'lines' if by_lines else 'size'} (top {min(top, len(files))})")
    for rel, size, lines, k, binary in sorted(files, key=key)[:top]:
        extra = "binary" if binary else f"{lines:,} lines"
        out.append(f"- `{rel}`: {human(size)}, {extra} ({k})")
    # folders: totals including sub-folders, at the first two levels
    agg: dict[str, list[int]] = {}
    for rel, size, lines, _k, _b in files:
        parts = rel.split("/")[:-1]
        for i in range(1, min(len(parts), 2) + 1):
            a = agg.setdefault("/".join(parts[:i]) + "/", [0, 0, 0])
            a[0] += 1
            a[1] += size
            a[2] += lines
    root_files = [f for f in files if "/" not in f[0]]
    if agg:
        out.append("")
        out.append(f"## Biggest folders (with their sub-folders, top {min(top, len(agg))})")
        # a folder whose only content is one sub-folder repeats its child's numbers: show the deeper one
        shown = {d: v for d, v in agg.items() if not any(c != d and c.startswith(d) and agg[c] == v for c in agg)}
        for d, (n, size, lines) in sorted(shown.items(), key=lambda kv: (-kv[1][1], kv[0]))[:top]:
            out.append(f"- `{d}`: {plural(n, 'file')}, {human(size)}, {lines:,} lines")
        if root_files:
            out.append(f"- (root): {plural(len(root_files), 'file')}, {human(sum(f[1] for f in root_files))}")
    out.append("")
    out.append(
        "Counted: the files given to this skill (the host copies text files only, at most 300 files / 4 MB), "
        "so binaries, build output and very large trees may be missing."
    )
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 80].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"tree_summary.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
