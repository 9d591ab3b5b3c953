"""Heading outline of a document: Markdown, reStructuredText, AsciiDoc, HTML or plain text.

Usage:
    python3 outline_doc.py guide.md [notes.rst ...] < request.txt

For each file: the headings nested by level with their line numbers, the words of each section (its own text,
and with its subsections), and structure problems: skipped levels, several top-level titles, duplicate
headings, empty or very long sections. Code blocks are not counted as words. Words in the request: "depth 2" /
"top-level only" / "up to h3" limit the depth; "toc" / "table of contents" adds a Markdown TOC with GitHub-style
anchors. A file without headings gets a paragraph outline instead. Exit 2 when no file can be read.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUT = 15_000
LONG_SECTION = 800  # words without a subheading
WORD = re.compile(r"[^\W_]+(?:(?:['\u2019-]|\.(?=\d))[^\W_]+)*")
FORMATS = {
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".mdx": "Markdown",
    ".rst": "reStructuredText",
    ".rest": "reStructuredText",
    ".adoc": "AsciiDoc",
    ".asciidoc": "AsciiDoc",
    ".html": "HTML",
    ".htm": "HTML",
}


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


@dataclass
class Heading:
    level: int
    title: str
    line: int
    own_words: int = 0
    depth: int = 0  # ancestors in the tree (a skipped level does not indent further)
    total_words: int = 0
    children: list[Heading] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ detection


def detect(name: str, lines: list[str]) -> str:
    fmt = FORMATS.get(Path(name).suffix.lower())
    if fmt:
        return fmt
    head = "\n".join(lines[:400])
    if re.search(r"(?im)^\s*<(?:!doctype html|html|h[1-6])\b", head):
        return "HTML"
    if re.search(r"(?m)^#{1,6}\s+\S", head):
        return "Markdown"
    if re.search(r"(?m)^={1,5}\s+\S", head) and not re.search(r"(?m)^={3,}\s*$", head):
        return "AsciiDoc"
    if re.search(r"(?m)^\S.*\n([=\-~^\"'`#*+]){3,}\s*$", head):
        return "reStructuredText"
    return "plain text"


_FENCE = re.compile(r"^\s*(```+|~~~+)")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*(?:#+[ \t]*)?$")
_ADORN = re.compile(r"^([=\-~^\"'`#*+<>:._])\1{2,}\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_ADOC = re.compile(r"^(={1,6}|#{1,6})\s+(\S.*?)\s*$")
_NUMBERED = re.compile(r"^((?:\d{1,2}\.)*\d{1,2})\.?\s+([A-Z][^.!?]{0,78}[^.!?,;:\s])$")
_ROMAN = re.compile(r"^([IVX]{1,5})\.\s+([A-Z].{0,78})$")
_INLINE = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<!\w)[*_](.+?)[*_](?!\w)"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
)


def plain(title: str) -> str:
    for pattern, repl in _INLINE:
        title = pattern.sub(repl, title)
    return re.sub(r"\s+", " ", title).strip()


def scan(fmt: str, lines: list[str]) -> tuple[list[tuple[int, str, int]], list[bool], str]:
    """(level, title, line) of each heading; which lines are code or markup (not counted); the front-matter title."""
    heads: list[tuple[int, str, int]] = []
    skip = [False] * len(lines)
    meta_title = ""
    n = len(lines)
    i = 0
    if n and lines[0].strip() == "---" and fmt in ("Markdown", "plain text"):
        for j in range(1, min(n, 200)):
            if lines[j].strip() in ("---", "..."):
                for k in range(0, j + 1):
                    skip[k] = True
                    m = re.match(r"^title:\s*[\"']?(.*?)[\"']?\s*$", lines[k])
                    if m:
                        meta_title = m.group(1)
                i = j + 1
                break
    rst_styles: list[tuple[str, bool]] = []
    in_html_code = False
    while i < n:
        line = lines[i].rstrip("\n")
        stripped = line.strip()
        fence = _FENCE.match(line) if fmt != "HTML" else None
        if fence:
            mark = fence.group(1)[:3]
            skip[i] = True
            i += 1
            while i < n and not lines[i].strip().startswith(mark):
                skip[i] = True
                i += 1
            if i < n:
                skip[i] = True
            i += 1
            continue
        if fmt == "HTML":
            if re.search(r"(?i)<(pre|script|style)\b", line):
                in_html_code = True
            if in_html_code:
                skip[i] = True
                if re.search(r"(?i)</(pre|script|style)>", line):
                    in_html_code = False
                i += 1
                continue
            for m in re.finditer(r"(?is)<h([1-6])\b[^>]*>(.*?)</h\1>", line):
                heads.append((int(m.group(1)), plain(m.group(2)), i + 1))
            lines[i] = re.sub(r"(?is)<h([1-6])\b[^>]*>.*?</h\1>", " ", line)  # the heading's words are not its text
            i += 1
            continue
        if fmt == "AsciiDoc" and stripped in ("----", "....", "++++"):
            skip[i] = True
            i += 1
            while i < n and lines[i].strip() != stripped:
                skip[i] = True
                i += 1
            if i < n:
                skip[i] = True
            i += 1
            continue
        nxt = lines[i + 1].rstrip() if i + 1 < n else ""
        if fmt in ("Markdown", "plain text"):
            m = _ATX.match(line)
            if m and (fmt == "Markdown" or len(m.group(1)) <= 3):
                heads.append((len(m.group(1)), plain(m.group(2)), i + 1))
                skip[i] = True
                i += 1
                continue
        if fmt == "AsciiDoc":
            m = _ADOC.match(line)
            if m:
                heads.append((len(m.group(1)), plain(m.group(2)), i + 1))
                skip[i] = True
                i += 1
                continue
        # underlined (setext / reST / plain text) and overlined (reST) headings
        over = bool(_ADORN.match(stripped)) and i + 2 < n and lines[i + 2].strip() == stripped and lines[i + 1].strip()
        if over and fmt in ("reStructuredText", "plain text"):
            title = lines[i + 1].strip()
            style = (stripped[0], True)
            if style not in rst_styles:
                rst_styles.append(style)
            heads.append((rst_styles.index(style) + 1, plain(title), i + 2))
            skip[i] = skip[i + 1] = skip[i + 2] = True
            i += 3
            continue
        under = (
            fmt not in ("AsciiDoc", "HTML")
            and stripped
            and not _ADORN.match(stripped)
            and _ADORN.match(nxt.strip())
            and not line.startswith((" ", "\t"))
            and not _ITEM.match(line)
            and len(nxt.strip()) >= min(len(stripped), 3)
            and (i == 0 or not lines[i - 1].strip() or fmt != "Markdown" or skip[i - 1])
        )
        if under:
            ch = nxt.strip()[0]
            if fmt == "Markdown":
                if ch not in "=-":
                    i += 1
                    continue
                level = 1 if ch == "=" else 2
            else:
                style = (ch, False)
                if style not in rst_styles:
                    rst_styles.append(style)
                level = rst_styles.index(style) + 1
            heads.append((level, plain(stripped), i + 1))
            skip[i] = skip[i + 1] = True
            i += 2
            continue
        if fmt == "reStructuredText" and stripped.endswith("::"):
            indent = len(line) - len(line.lstrip())
            i += 1
            while i < n and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                skip[i] = True
                i += 1
            continue
        if fmt == "plain text":
            prev_blank = i == 0 or not lines[i - 1].strip()
            next_blank = not nxt.strip()
            m = _NUMBERED.match(stripped) or _ROMAN.match(stripped)
            if m and prev_blank and len(stripped.split()) <= 10:
                number = m.group(1)
                level = number.count(".") + 1 if number[0].isdigit() else 1
                heads.append((level, stripped, i + 1))
                skip[i] = True
                i += 1
                continue
            letters = re.sub(r"[^A-Za-z]", "", stripped)
            if (
                prev_blank
                and next_blank
                and len(letters) >= 3
                and letters.isupper()
                and len(stripped.split()) <= 10
                and not stripped.endswith((".", ","))
            ):
                heads.append((1, stripped, i + 1))
                skip[i] = True
                i += 1
                continue
        if _ADORN.match(stripped) or re.match(r"^\s*\.\.\s", line):
            skip[i] = True
        i += 1
    if fmt == "plain text" and len(heads) > 1 and heads[0][2] <= 3:
        first = heads[0]
        if re.sub(r"[^A-Za-z]", "", first[1]).isupper() and all(h[0] >= first[0] for h in heads[1:]):
            heads = [first] + [(level + 1, title, line) for level, title, line in heads[1:]]  # the document title
    return heads, skip, meta_title


# ------------------------------------------------------------------------------------------------ structure


def words_of(line: str) -> int:
    text = re.sub(r"\]\([^)]*\)|<[^>]+>|https?://\S+", " ", line)
    return len(WORD.findall(text))


def build(heads: list[tuple[int, str, int]], lines: list[str], skip: list[bool]) -> tuple[list[Heading], int, int]:
    """The heading tree, the words before the first heading, and the words of code-free text in all."""
    per_line = [0 if skip[i] else words_of(line) for i, line in enumerate(lines)]
    nodes = [Heading(level, title, line) for level, title, line in heads]
    starts = [h.line for h in nodes] + [len(lines) + 1]
    for k, h in enumerate(nodes):
        h.own_words = sum(per_line[h.line - 1 : starts[k + 1] - 1])
    preamble = sum(per_line[: starts[0] - 1]) if nodes else sum(per_line)
    roots: list[Heading] = []
    stack: list[Heading] = []
    for h in nodes:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(h)
        stack.append(h)

    def total(h: Heading) -> int:
        h.total_words = h.own_words + sum(total(c) for c in h.children)
        return h.total_words

    for r in roots:
        total(r)
    return roots, preamble, sum(per_line)


def slugs(heads: list[Heading]) -> dict[int, str]:
    """GitHub-style anchors, by heading line: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats."""
    seen: dict[str, int] = {}
    out: dict[int, str] = {}
    for h in heads:
        base = re.sub(r"[^\w\- ]", "", h.title.lower()).replace(" ", "-")
        count = seen.get(base, 0)
        seen[base] = count + 1
        out[h.line] = base if count == 0 else f"{base}-{count}"
    return out


def flatten(roots: list[Heading]) -> list[Heading]:
    out: list[Heading] = []

    def walk(h: Heading, depth: int) -> None:
        h.depth = depth
        out.append(h)
        for c in h.children:
            walk(c, depth + 1)

    for r in roots:
        walk(r, 0)
    return out


def problems(flat: list[Heading], roots: list[Heading], fmt: str) -> list[str]:
    out: list[str] = []
    prev = 0
    for h in flat:
        if prev and h.level > prev + 1:
            out.append(
                f"L{h.line}: level {h.level} heading “{h.title}” follows a level {prev} one (a level is skipped)."
            )
        prev = h.level
    tops = [h for h in flat if h.level == 1]
    if fmt in ("Markdown", "HTML") and len(tops) > 1:
        lines = ", ".join(f"L{h.line}" for h in tops[:6])
        out.append(f"{len(tops)} level-1 headings ({lines}); a document usually has one title.")
    siblings: dict[tuple[int, str], list[Heading]] = {}

    def walk(children: list[Heading], parent: int) -> None:
        for c in children:
            siblings.setdefault((parent, c.title.lower()), []).append(c)
            walk(c.children, c.line)

    walk(roots, 0)
    for same in siblings.values():
        if len(same) > 1:
            title, where = same[0].title, [h.line for h in same]
            lines = ", ".join(f"L{n}" for n in where)
            out.append(f"“{title}” appears {len(where)} times under the same parent ({lines}); anchors will collide.")
    for h in flat:
        if h.total_words == 0:
            out.append(f"L{h.line}: section “{h.title}” is empty.")
        elif not h.children and h.own_words > LONG_SECTION:
            out.append(f"L{h.line}: section “{h.title}” has {h.own_words} words and no subheading; consider splitting.")
        if re.search(r"[.:;,]$", h.title):
            out.append(f"L{h.line}: heading “{h.title}” ends with punctuation.")
    return out


def paragraph_outline(lines: list[str], skip: list[bool], limit: int = 40) -> list[str]:
    out: list[str] = []
    start = None
    count = 0
    for i, line in enumerate([*lines, ""]):
        if line.strip() and not (i < len(skip) and skip[i]):
            if start is None:
                start = i
            continue
        if start is not None:
            block = " ".join(x.strip() for x in lines[start:i])
            words = block.split()
            count += 1
            if count <= limit:
                first = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
                out.append(f"- L{start + 1}: {first} ({len(words)} words)")
            start = None
    if count > limit:
        out.append(f"- … and {count - limit} more paragraphs")
    return out


# ------------------------------------------------------------------------------------------------ output


def max_depth(request: str) -> int | None:
    low = request.lower()
    if re.search(r"\b(?:top[- ]level|main sections?|level[- ]1|h1s?)\b(?: only)?", low) and "depth" not in low:
        return 1
    m = re.search(
        r"\b(?:depth|levels?|up to|down to|max(?:imum)?(?: depth)?|to)\s*(?:of\s*)?(?:h|level\s*)?([1-6])\b", low
    )
    if m:
        return int(m.group(1))
    m = re.search(r"\b([1-6])\s*levels?\b|\bh([1-6])\b", low)
    if m:
        return int(m.group(1) or m.group(2))
    return None


def outline_file(name: str, text: str, request: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        raise Refusal(f"{name} is empty; there is nothing to outline.")
    fmt = detect(name, lines)
    heads, skip, meta_title = scan(fmt, list(lines) if fmt != "HTML" else lines)
    roots, preamble, words = build(heads, lines, skip)
    flat = flatten(roots)
    depth = max_depth(request)
    if depth == 1 and len(roots) == 1 and roots[0].children:
        depth = 2  # "the main sections" of a document with one title are the ones under it
    deepest = max((h.level for h in flat), default=0)
    out = [
        f"## Outline of `{name}` ({fmt}): {len(lines)} lines, {words:,} words, {len(flat)} headings"
        + (f", {deepest} levels" if flat else "")
    ]
    if meta_title:
        out.append(f"Front-matter title: “{meta_title}”")
    if not flat:
        out += ["", "No headings were found; the paragraphs instead:", "", *paragraph_outline(lines, skip)]
        return out
    if preamble:
        out.append(f"{preamble} words before the first heading.")
    out.append("")
    hidden = 0
    for h in flat:
        if depth is not None and h.depth + 1 > depth:
            hidden += 1
            continue
        indent = "  " * h.depth
        size = f"{h.own_words} words"
        if h.children and h.total_words != h.own_words:
            size += f", {h.total_words} with subsections"
        out.append(f"{indent}- L{h.line} **{h.title}** (H{h.level}) — {size}")
    if hidden:
        out.append(f"\n({hidden} deeper heading(s) hidden; ask without a depth to see all.)")
    if re.search(r"\btoc\b|table of contents|contents list", request, re.I):
        anchors = slugs(flat)
        out += ["", "Table of contents (GitHub anchors):", "", "```markdown"]
        for h in flat:
            if depth is None or h.depth + 1 <= depth:
                out.append(f"{'  ' * h.depth}- [{h.title}](#{anchors[h.line]})")
        out.append("```")
    found = problems(flat, roots, fmt)
    out += ["", "Structure: " + ("no problems found." if not found else f"{len(found)} to look at:")]
    out += [f"- {p}" for p in found[:30]]
    if len(found) > 30:
        out.append(f"- … and {len(found) - 30} more")
    return out


def read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name the document to outline.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a document inside it (use tree-summary for a folder).") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; give a Markdown, reST, AsciiDoc, HTML or text document.")
    return data.decode("utf-8", errors="replace")


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def main(argv: list[str]) -> int:
    request = sys.stdin.read() if sys.stdin and not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if not paths:
            raise Refusal("Name the document to outline, e.g. `docs/guide.md` or `README.rst`.")
        out: list[str] = []
        for path in paths:
            if out:
                out.append("")
            out += outline_file(Path(path).name, read_text(path), request)
    except Refusal as exc:
        print(exc)
        return 2
    text = "\n".join(out)
    text = fit(text, "ask for a smaller depth, e.g. 'depth 2'")
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"outline-document failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
