"""Text helpers of the offline engine: keywords, passages, lexical scores and value extraction."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STOPWORD_TEXT = """
    a an the and or but if of to in on at by for with from into onto over under about as is are was were be been
    being do does did done have has had having it its this that these those there here what which who whom whose
    when where why how i me my we our you your he she they them their his her can could should would will shall may
    might must not no yes so than then too very just also any all some each every few more most other such only own
    same both either neither nor per via use uses used using tell show give find get list please want need know
    make made let say said does doing many much one two"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*|\d+(?:\.\d+)?")


def stem(word: str) -> str:
    """A light suffix stripper: enough to match 'ports' with 'port' and 'configured' with 'config'."""
    w = word.lower()
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ers", "ed", "es", "er", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def keywords(query: str) -> list[str]:
    """Content words of a question, in order, without duplicates (lowercase)."""
    seen: dict[str, None] = {}
    for w in words(query):
        lw = w.lower()
        if lw not in STOPWORDS and (len(lw) > 2 or lw.isdigit()):
            seen.setdefault(lw, None)
    return list(seen)


def split_identifiers(text: str) -> str:
    """'staging_server.yaml' -> 'staging server yaml', 'maxRetries' -> 'max Retries' (for matching names)."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.sub(r"[_\-./]+", " ", text)


def lexical_score(keys: list[str], text: str) -> float:
    """Share of the question's keywords (stemmed) found in `text`, 0..1."""
    if not keys:
        return 0.0
    present = {stem(w) for w in words(split_identifiers(text))}
    hits = sum(1 for k in keys if stem(k) in present)
    return hits / len(keys)


@dataclass
class Passage:
    """A candidate piece of an answer: a line (with its neighbours as context) of a file, page or table."""

    source: str
    text: str  # the line or paragraph itself
    context: str  # text around it, for scoring
    location: str | None = None
    line: int | None = None
    score: float = 0.0


def line_passages(source: str, content: str, *, first_line: int = 1, max_lines: int = 2000) -> list[Passage]:
    """One passage per non-empty line, with the previous and next non-empty lines as context."""
    lines = content.splitlines()[:max_lines]
    out: list[Passage] = []
    for i, raw in enumerate(lines):
        text = raw.strip()
        if not text or len(text) > 500:
            continue
        before = next((lines[j].strip() for j in range(i - 1, max(-1, i - 4), -1) if lines[j].strip()), "")
        after = next((lines[j].strip() for j in range(i + 1, min(len(lines), i + 4)) if lines[j].strip()), "")
        n = first_line + i
        out.append(Passage(source, text, f"{before}\n{text}\n{after}".strip(), location=f"line {n}", line=n))
    return out


def paragraph_passages(source: str, content: str, *, limit: int = 400) -> list[Passage]:
    """Paragraphs (blank-line separated) of a page, long ones cut into sentences-sized windows."""
    out: list[Passage] = []
    for para in re.split(r"\n\s*\n", content):
        text = " ".join(para.split())
        if len(text) < 3:
            continue
        while len(text) > limit:
            cut = text.rfind(". ", 0, limit)
            cut = cut + 1 if cut > limit // 3 else limit
            out.append(Passage(source, text[:cut].strip(), text[:cut]))
            text = text[cut:].strip()
        if text:
            out.append(Passage(source, text, text))
    return out


def extract_value(keys: list[str], line: str) -> str | None:
    """The value a `key: value` / `key = value` / `key value` line gives for one of the question's keywords."""
    for k in keys:
        pattern = rf"(?i)\b{re.escape(stem(k))}\w*\b[\"']?\s*(?:[:=]|=>|\bis\b)\s*[\"']?([^\"'\s,;#]+)"
        m = re.search(pattern, line)
        if m:
            return m.group(1)
    return None


_ARITH = re.compile(r"^[\d\s.+\-*/%()^]+$")
_URL = re.compile(r"https?://[^\s<>\"')]+")
_CODE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


def find_url(text: str) -> str | None:
    m = _URL.search(text)
    return m.group(0).rstrip(".,;:!?") if m else None


def find_code(text: str) -> str | None:
    """A fenced code block, or an arithmetic expression the question asks to compute."""
    m = _CODE.search(text)
    if m:
        return m.group(1)
    m = re.search(r"(?i)(?:compute|calculate|evaluate|what is|what's)\s+([\d\s.+\-*/%()^]{3,})\??$", text.strip())
    if m and _ARITH.match(m.group(1)) and re.search(r"\d\s*[-+*/%^]", m.group(1)):
        return "print(" + m.group(1).replace("^", "**").strip() + ")"
    return None
