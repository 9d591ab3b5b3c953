"""Structure-aware chunking: documents become chunks that fit the embedding model.

A document is first cut into blocks along its structure — markdown headings (ATX and setext), fenced code
blocks (kept whole when they fit), paragraphs; top-level definitions of source code; PDF pages (form feeds)
— each block knowing its heading path. Blocks under the same heading are packed into chunks of at most
`max_tokens` (the heading path counts, since it is embedded with the chunk). A block too big for one chunk is
cut into token windows along sentences or lines (words as a last resort), consecutive windows sharing about
`overlap` tokens. Tokens are counted by the model's tokenizer when given, else by a fast approximation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from k2_host.rag.models import Chunk

TokenCounter = Callable[[str], int]

_WORDISH = re.compile(r"\w+|[^\w\s]")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)\s*")
_CODE_HEAD = re.compile(
    r"^(?:export\s+|pub(?:\([^)]*\))?\s+|public\s+|private\s+|static\s+|async\s+|abstract\s+)*"
    r"(?:def|class|function|fn|func|interface|struct|enum|impl|trait|type|module|object)\s+([A-Za-z_$][\w$]*)"
)


def approx_tokens(text: str) -> int:
    """A fast stand-in for a WordPiece count: one per word or mark, plus one per 6 letters past the sixth."""
    return sum(1 + max(0, len(t) - 6) // 6 for t in _WORDISH.findall(text))


@dataclass
class Block:
    text: str
    start: int
    end: int
    heading_path: list[str] = field(default_factory=list)
    code: bool = False
    page: int | None = None


def _block(text: str, start: int, end: int, path: list[str], *, code: bool = False, page: int | None = None) -> Block:
    """A block of text[start:end] with surrounding blank lines and form feeds dropped (offsets kept exact)."""
    raw = text[start:end]
    body = raw.strip("\n\f\r")
    lead = len(raw) - len(raw.lstrip("\n\f\r"))
    return Block(body, start + lead, start + lead + len(body), path, code=code, page=page)


def _line_spans(text: str) -> list[tuple[int, str]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, line))
        pos += len(line)
    return spans


def markdown_blocks(text: str, root: list[str] | None = None) -> list[Block]:
    """Paragraphs and fenced code blocks of markdown, each with the path of headings above it."""
    lines = _line_spans(text)
    stack: list[tuple[int, str]] = []  # (level, title)
    base = list(root or [])
    blocks: list[Block] = []
    para: list[tuple[int, str]] = []

    def path() -> list[str]:
        return base + [t for _, t in stack]

    def flush() -> None:
        if para and "".join(s for _, s in para).strip():
            start, end = para[0][0], para[-1][0] + len(para[-1][1])
            blocks.append(_block(text, start, end, path()))
        para.clear()

    def heading(level: int, title: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title.strip()))

    i = 0
    while i < len(lines):
        pos, line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker, j = fence.group(1), i + 1
            while j < len(lines) and not lines[j][1].lstrip().startswith(marker):
                j += 1
            end_line = min(j, len(lines) - 1)
            end = lines[end_line][0] + len(lines[end_line][1])
            blocks.append(_block(text, pos, end, path(), code=True))
            i = j + 1
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            heading(len(atx.group(1)), atx.group(2))
        elif para and len(para) == 1 and _SETEXT.match(line) and para[0][1].strip():
            title = para[0][1].strip()
            para.clear()
            heading(1 if line.strip().startswith("=") else 2, title)
        elif not line.strip():
            flush()
        else:
            para.append((pos, line))
        i += 1
    flush()
    return blocks


def code_blocks(text: str, root: list[str] | None = None) -> list[Block]:
    """Top-level units of source code: a new unit starts at an unindented line after a blank line."""
    lines = _line_spans(text)
    blocks: list[Block] = []
    cur: list[tuple[int, str]] = []
    prev_blank = True

    def flush() -> None:
        body = "".join(s for _, s in cur)
        if body.strip():
            start = cur[0][0]
            first = next((s.strip() for _, s in cur if s.strip() and not s.lstrip().startswith(("@", "#["))), "")
            m = _CODE_HEAD.match(first)
            name = [m.group(1)] if m else []
            blocks.append(_block(text, start, start + len(body), list(root or []) + name, code=True))
        cur.clear()

    for pos, line in lines:
        blank = not line.strip()
        if prev_blank and not blank and not line[:1].isspace() and cur and not line.lstrip().startswith(")}]"):
            flush()
        cur.append((pos, line))
        prev_blank = blank
    flush()
    return blocks


def text_blocks(text: str, root: list[str] | None = None) -> list[Block]:
    """Paragraphs (blank-line separated); form feeds mark PDF pages, numbered from 1."""
    blocks: list[Block] = []
    for m in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text):
        chunk = m.group(0)
        if chunk.strip():
            page = text.count("\f", 0, m.start()) + 1 if "\f" in text else None
            blocks.append(_block(text, m.start(), m.end(), list(root or []), page=page))
    return blocks


def _pieces(block: Block) -> list[tuple[int, str]]:
    """Sentences of prose, lines of code, as (offset, text)."""
    if block.code:
        return [(block.start + p, s) for p, s in _line_spans(block.text)]
    return [(block.start + m.start(), m.group(0)) for m in _SENTENCE.finditer(block.text) if m.group(0).strip()]


def _words(offset: int, piece: str) -> list[tuple[int, str]]:
    return [(offset + m.start(), m.group(0)) for m in re.finditer(r"\S+\s*", piece)]


class Chunker:
    """Cuts documents into chunks of at most `max_tokens` tokens."""

    def __init__(self, max_tokens: int = 256, overlap: int = 32, count_tokens: TokenCounter | None = None):
        if not 0 <= overlap < max_tokens:
            raise ValueError(f"overlap ({overlap}) must be in [0, max_tokens={max_tokens})")
        self.max_tokens, self.overlap = max_tokens, overlap
        self.count = count_tokens or approx_tokens

    def blocks(self, text: str, kind: str, root: list[str] | None = None) -> list[Block]:
        if kind in ("markdown", "html"):
            return markdown_blocks(text, root)
        if kind == "code":
            return code_blocks(text, root)
        return text_blocks(text, root)

    def chunk(self, text: str, kind: str = "text", root: list[str] | None = None) -> list[Chunk]:
        chunks: list[Chunk] = []
        group: list[Block] = []
        used = 0

        def emit(blocks: list[Block]) -> None:
            first, last = blocks[0], blocks[-1]
            body = "\n\n".join(b.text for b in blocks)
            chunks.append(Chunk(body, len(chunks), first.start, last.end, list(first.heading_path), first.page))

        for block in self.blocks(text, kind, root):
            head = self.count(" > ".join(block.heading_path)) + 1 if block.heading_path else 0
            budget = max(8, self.max_tokens - head)
            size = self.count(block.text)
            same = group and group[0].heading_path == block.heading_path and group[0].page == block.page
            if group and (not same or used + size > budget):
                emit(group)
                group, used = [], 0
            if size <= budget:
                group.append(block)
                used += size
                continue
            for w_start, w_text in self._windows(block, budget):
                chunks.append(
                    Chunk(w_text, len(chunks), w_start, w_start + len(w_text), list(block.heading_path), block.page)
                )
        if group:
            emit(group)
        return chunks

    def _windows(self, block: Block, budget: int) -> list[tuple[int, str]]:
        pieces: list[tuple[int, str, int]] = []
        for off, piece in _pieces(block):
            n = self.count(piece)
            if n <= budget:
                pieces.append((off, piece, n))
            else:
                pieces.extend((o, w, self.count(w)) for o, w in _words(off, piece))
        windows: list[tuple[int, str]] = []
        i = 0
        while i < len(pieces):
            j, used = i, 0
            while j < len(pieces) and (j == i or used + pieces[j][2] <= budget):
                used += pieces[j][2]
                j += 1
            start = pieces[i][0]
            end = pieces[j - 1][0] + len(pieces[j - 1][1])
            windows.append((start, self._text(block, start, end)))
            if j >= len(pieces):
                break
            back, carried = j, 0
            while back - 1 > i and carried + pieces[back - 1][2] <= self.overlap:
                back -= 1
                carried += pieces[back][2]
            i = back
        return windows

    @staticmethod
    def _text(block: Block, start: int, end: int) -> str:
        return block.text[start - block.start : end - block.start].strip()
