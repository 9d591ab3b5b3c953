"""Text out of formats the filesystem server returns raw: HTML pages and PDF files.

HTML becomes markdown-like text (headings as `#` lines so the chunker sees the structure; script, style,
navigation, header/footer and aside dropped). PDF pages are extracted with pypdf and joined by form feeds,
so chunks know their page. Web pages need none of this: the websearch server already returns markdown.
"""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser

from k2_host.rag.errors import IngestError

PAGE_BREAK = "\n\n\f\n\n"
_SKIP = {"script", "style", "noscript", "nav", "header", "footer", "aside", "template", "svg", "form", "head"}
_BLOCK = {"p", "div", "section", "article", "main", "li", "ul", "ol", "table", "tr", "blockquote", "br", "hr", "dl"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self._in_title = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP and tag not in _VOID:
            self.skip += 1
        elif self.skip:
            return
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "pre":
            self._pre += 1
            self.out.append("\n\n```\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "div", "section", "article", "table", "blockquote") else "\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP and tag not in _VOID:
            self.skip = max(0, self.skip - 1)
        elif self.skip:
            return
        elif re.fullmatch(r"h[1-6]", tag) or tag in ("p", "table", "blockquote"):
            self.out.append("\n\n")
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self.out.append("\n```\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        if self.skip:
            return
        if self._pre:
            self.out.append(data)
            return
        data = re.sub(r"\s+", " ", data)
        if not self.out or self.out[-1].endswith(("\n", "- ", "# ")):
            data = data.lstrip()
        self.out.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """(markdown-like text, title) of an HTML document."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, parser.title


def pdf_to_text(data: bytes, *, name: str = "PDF") -> tuple[str, int]:
    """(text of every page joined by form feeds, page count)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs recoverable damage as warnings
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"{name!r} is not a readable PDF ({type(exc).__name__}: {exc})", code="bad_pdf") from exc
    return PAGE_BREAK.join(pages), len(pages)
