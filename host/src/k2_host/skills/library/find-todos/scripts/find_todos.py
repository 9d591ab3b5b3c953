"""Find TODO / FIXME / HACK / XXX / BUG markers in the comments of a folder's text files.

Usage:
    python3 find_todos.py input < request.txt

argv[1] is the folder (the host copies the project's text files under `input/`). The request may narrow
the search: marker names ("only FIXME and HACK"), an author ("by alice" / "@alice"), a sub-folder or a
file extension ("in src/", "in .py files"). Markers count when they are upper case and stand in a comment
(or after a marker-like colon); "TODO" inside ordinary prose or identifiers is ignored.
Exit 2 when the folder is missing or holds no files.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

MAX_OUT = 15_000
MAX_FILE_BYTES = 2_000_000
MARKERS = ["TODO", "FIXME", "HACK", "XXX", "BUG", "OPTIMIZE", "REVIEW", "NOTE"]
DEFAULT = ["TODO", "FIXME", "HACK", "XXX", "BUG"]
SEVERITY = {"FIXME": 0, "BUG": 0, "XXX": 1, "HACK": 1, "TODO": 2, "OPTIMIZE": 3, "REVIEW": 3, "NOTE": 4}
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".mypy_cache", ".tox", "target"}
COMMENT_START = re.compile(r"(#|//|/\*|<!--|--|;|%|\*|'|\"\"\"|''')")


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def wanted_markers(request: str) -> list[str]:
    named = [m for m in MARKERS if re.search(rf"\b{m}S?\b", request, re.I)]
    if named and (re.search(r"(?i)\b(only|just)\b", request) or "TODO" not in named):
        return named  # "only FIXME and HACK", "list the FIXMEs"
    # "TODOs" (and FIXMEs) is the generic ask: the usual markers, plus any extra one named.
    return DEFAULT + [m for m in named if m not in DEFAULT]


def scope(request: str) -> tuple[list[str], list[str], str | None]:
    exts = [e.lower() for e in re.findall(r"(?<![\w/])(\.[A-Za-z0-9]{1,6})\b(?: files?)?", request)]
    exts += ["." + e.lower() for e in re.findall(r"\b(py|js|ts|go|rs|java|rb|php|c|cpp|h|md|sql) files\b", request)]
    dirs = []
    for m in re.finditer(
        r"\b(?:in|under|inside|within)\s+(?:the\s+)?[`'\"]?([\w.\-/]+/|[\w\-]+(?=/?\s+(?:folder|dir)))", request
    ):
        dirs.append(m.group(1).strip("/"))
    for m in re.finditer(r"[`'\"]([\w.\-]+(?:/[\w.\-]+)*/)[`'\"]", request):
        dirs.append(m.group(1).strip("/"))
    author = None
    m = re.search(r"(?i)\b(?:by|from|assigned to|owned by)\s+@?([A-Za-z][\w.\-]*)", request) or re.search(
        r"(?<![\w@])@([A-Za-z][\w.\-]*)", request
    )
    if m and m.group(1).lower() not in ("file", "files", "folder", "type", "marker", "the"):
        author = m.group(1)
    return list(dict.fromkeys(exts)), list(dict.fromkeys(dirs)), author


def scan_line(line: str, markers: list[str]) -> tuple[str, str, str] | None:
    """(marker, author, text) when the line carries a marker in a comment."""
    alts = "|".join(markers)
    for m in re.finditer(rf"(?<![A-Za-z0-9_])({alts})(?![A-Za-z0-9_])", line):
        before = line[: m.start()]
        after = line[m.end() :]
        in_comment = bool(COMMENT_START.search(before)) or before.strip() == ""
        colonish = bool(re.match(r"\s*(\([^)]*\))?\s*[:\-!]", after))
        if not in_comment and not colonish:
            continue
        if re.match(r"[A-Za-z0-9_]", after[:1]):
            continue
        if m.group(1) == "XXX" and re.search(r"X{4,}|\dXXX|XXX\d", line):
            continue  # placeholders such as 555-XXXX or masked numbers
        author = ""
        am = re.match(r"\s*\(([^)]*)\)", after)
        if am:
            author = am.group(1).strip()
            after = after[am.end() :]
        text = re.sub(r"^\s*[:\-!]*\s*", "", after)
        text = re.sub(r"\s*(\*/|-->|\"\"\"|''')\s*$", "", text).strip()
        if not author:
            at = re.search(r"(?<![\w.])@([A-Za-z][\w\-]*)", text)
            if at:
                author = at.group(1)
        return m.group(1), author, text
    return None


def shorten(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    root = Path(argv[0]) if argv else Path("input")
    if not root.is_dir():
        raise Refusal(f"The folder {root} was not found: name the folder to search, e.g. 'find TODOs in src/'.")
    markers = wanted_markers(request)
    exts, dirs, author = scope(request)
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            files.append(Path(dirpath) / name)
    if not files:
        raise Refusal("The folder has no files to search; name a folder with source files.")
    rel = {p: p.relative_to(root).as_posix() for p in files}
    if dirs:
        narrowed = [
            p for p in files if any(rel[p].startswith(d + "/") or ("/" + d + "/") in "/" + rel[p] for d in dirs)
        ]
        if narrowed:
            files = narrowed
        else:
            dirs = []
    if exts:
        narrowed = [p for p in files if p.suffix.lower() in exts]
        if narrowed:
            files = narrowed
        else:
            exts = []
    hits: list[tuple[str, int, str, str, str]] = []
    scanned = 0
    for p in files:
        try:
            data = p.read_bytes()[:MAX_FILE_BYTES]
        except OSError:
            continue
        if b"\x00" in data[:4096]:
            continue
        scanned += 1
        text = data.decode("utf-8", "replace")
        for n, line in enumerate(text.splitlines(), 1):
            if len(line) > 2000:
                continue
            found = scan_line(line, markers)
            if found:
                marker, who, what = found
                if author and author.lower() not in who.lower():
                    continue
                hits.append((rel[p], n, marker, who, what))
    scope_bits = []
    if dirs:
        scope_bits.append("under " + ", ".join(d + "/" for d in dirs))
    if exts:
        scope_bits.append("in " + ", ".join(exts) + " files")
    if author:
        scope_bits.append(f"by {author}")
    out = [
        f"# {len(hits)} marker{'s' if len(hits) != 1 else ''} ({', '.join(markers)}) "
        f"in {scanned} file{'s' if scanned != 1 else ''}" + (f" {' '.join(scope_bits)}" if scope_bits else "")
    ]
    if not hits:
        out.append("")
        out.append(f"No {'/'.join(markers)} comments found.")
        print("\n".join(out))
        return 0
    by_marker: dict[str, int] = {}
    by_file: dict[str, int] = {}
    by_author: dict[str, int] = {}
    for f, _n, mk, who, _t in hits:
        by_marker[mk] = by_marker.get(mk, 0) + 1
        by_file[f] = by_file.get(f, 0) + 1
        if who:
            by_author[who] = by_author.get(who, 0) + 1
    out.append("")
    out.append("| marker | count |")
    out.append("|---|---:|")
    for mk in sorted(by_marker, key=lambda k: (SEVERITY.get(k, 9), k)):
        out.append(f"| {mk} | {by_marker[mk]} |")
    top = sorted(by_file.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    out.append("")
    out.append("Most markers: " + ", ".join(f"`{f}` ({c})" for f, c in top))
    if by_author:
        out.append(
            "By author: "
            + ", ".join(f"{a} ({c})" for a, c in sorted(by_author.items(), key=lambda kv: (-kv[1], kv[0])))
        )
    out.append("")
    out.append("## Markers by file")
    current = ""
    body: list[str] = []
    for f, n, mk, who, what in sorted(hits, key=lambda h: (h[0], h[1])):
        if f != current:
            current = f
            body.append("")
            body.append(f"### {f}")
        who_s = f"({who}) " if who else ""
        body.append(f"- L{n} **{mk}** {who_s}{shorten(what) or '(no text)'}")
    shown = "\n".join(out + body)
    if len(shown) > MAX_OUT:
        shown = shown[: MAX_OUT - 150].rsplit("\n", 1)[0]
        shown += "\n\n… list cut at 15 KB; narrow it with a folder, a file type or one marker (e.g. 'only FIXME')."
    print(shown)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"find_todos.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
