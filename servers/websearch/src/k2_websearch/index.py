"""The local search backend: a BM25 index over fetched pages and the documents in the index directory.

The directory holds `pages.jsonl` (one fetched page a line, appended as pages are fetched) and any documents a
user puts there (`.md`, `.txt`, `.html`, `.htm`, recursively). Nothing is shared with the repository.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PAGES_FILE = "pages.jsonl"
DOC_SUFFIXES = {".md", ".txt", ".html", ".htm"}
MAX_DOC_BYTES = 5 * 1024 * 1024
_TOKEN = re.compile(r"\w+", re.UNICODE)
K1 = 1.5
B = 0.75


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 or t.isdigit()]


@dataclass
class IndexedDoc:
    url: str
    title: str
    text: str
    published: str | None
    terms: Counter[str]
    length: int


@dataclass
class Hit:
    url: str
    title: str
    snippet: str
    published: str | None
    score: float


class LocalIndex:
    """BM25 (k1=1.5, b=0.75) over whole documents; later versions of a URL replace earlier ones."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._docs: dict[str, IndexedDoc] = {}
        self._df: Counter[str] = Counter()
        self._total = 0
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.rglob("*")):
            if path.suffix.lower() in DOC_SUFFIXES and path.is_file() and path.stat().st_size <= MAX_DOC_BYTES:
                raw = path.read_text(encoding="utf-8", errors="replace")
                title, text = _document_text(path, raw)
                self._put(path.resolve().as_uri(), title, text, None)
        pages = self.directory / PAGES_FILE
        if pages.is_file():
            for line in pages.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    rec = json.loads(line)
                    self._put(str(rec["url"]), str(rec.get("title") or ""), str(rec["text"]), rec.get("published"))
                except (ValueError, KeyError, TypeError):
                    continue

    def _put(self, url: str, title: str, text: str, published: str | None) -> None:
        old = self._docs.pop(url, None)
        if old is not None:
            self._df.subtract(old.terms.keys())
            self._total -= old.length
        terms = Counter(tokens(f"{title} {title} {text}"))
        doc = IndexedDoc(url, title, text, published, terms, sum(terms.values()))
        self._docs[url] = doc
        self._df.update(terms.keys())
        self._total += doc.length

    def add(self, url: str, title: str | None, text: str) -> None:
        """Index a fetched page and append it to the directory's pages file."""
        if not text.strip():
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            self._load()
            known = self._docs.get(url)
            if known is not None and known.text == text and known.title == (title or ""):
                return  # unchanged: nothing to write
            self._put(url, title or "", text, None)
            self.directory.mkdir(parents=True, exist_ok=True)
            record = {"url": url, "title": title or "", "text": text, "fetched": stamp}
            with (self.directory / PAGES_FILE).open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def search(self, query: str, limit: int, offset: int = 0, site: str | None = None) -> list[Hit]:
        with self._lock:
            self._load()
            terms = list(dict.fromkeys(tokens(query)))
            if not terms or not self._docs:
                return []
            n = len(self._docs)
            avg = self._total / n or 1.0
            scored: list[tuple[float, IndexedDoc]] = []
            for doc in self._docs.values():
                if site and not _on_site(doc.url, site):
                    continue
                score = 0.0
                for t in terms:
                    tf = doc.terms.get(t, 0)
                    if tf:
                        idf = math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5))
                        score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * doc.length / avg))
                if score > 0:
                    scored.append((score, doc))
            scored.sort(key=lambda pair: (-pair[0], pair[1].url))
            return [
                Hit(d.url, d.title or d.url, snippet(d.text, terms), d.published, round(s, 4))
                for s, d in scored[offset : offset + limit]
            ]

    def __len__(self) -> int:
        with self._lock:
            self._load()
            return len(self._docs)


def snippet(text: str, terms: list[str], width: int = 240) -> str:
    lowered = text.lower()
    positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
    start = max(0, min(positions) - width // 4) if positions else 0
    piece = re.sub(r"\s+", " ", text[start : start + width]).strip()
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def _on_site(url: str, site: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    site = site.lower().lstrip(".")
    return host == site or host.endswith("." + site)


def _document_text(path: Path, raw: str) -> tuple[str, str]:
    if path.suffix.lower() in (".html", ".htm"):
        from k2_websearch.extract import html_title, plain_text

        return html_title(raw) or path.stem, plain_text(raw)
    first = raw.lstrip().splitlines()[0] if raw.strip() else path.stem
    return first.lstrip("# ").strip()[:200] or path.stem, raw
