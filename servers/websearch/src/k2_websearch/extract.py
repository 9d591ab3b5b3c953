"""Turning a fetched body into text: HTML main content as markdown, text or HTML; PDF text; pretty JSON; links."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urldefrag, urljoin

import lxml.html
import trafilatura
from lxml.etree import ParserError

from k2_websearch.errors import UnsupportedContent
from k2_websearch.fetcher import Fetched

Format = Literal["markdown", "text", "html", "raw"]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TEXTUAL = ("text/", "application/xml", "application/xhtml", "application/javascript", "application/x-yaml")


@dataclass
class Document:
    kind: Literal["html", "pdf", "json", "text"]
    title: str | None
    content: str


def kind_of(page: Fetched) -> Literal["html", "pdf", "json", "text", "binary"]:
    ctype = page.content_type
    head = page.body[:512].lstrip().lower()
    if ctype == "application/pdf" or page.body.startswith(b"%PDF-"):
        return "pdf"
    if ctype in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    if not ctype or ctype.startswith(_TEXTUAL):
        return "text"
    return "binary"


def decode(page: Fetched) -> str:
    charset = page.charset
    if charset is None:
        found = _META_CHARSET.search(page.body[:4096])
        charset = found.group(1).decode("ascii").lower() if found else "utf-8"
    try:
        return page.body.decode(charset, "replace")
    except LookupError:
        return page.body.decode("utf-8", "replace")


def render(page: Fetched, fmt: Format) -> Document:
    """The page in `fmt`: for HTML the main content (markdown, text or HTML) or the source (raw)."""
    kind = kind_of(page)
    if kind == "binary":
        raise UnsupportedContent(
            f"{page.final_url!r} is {page.content_type or 'binary data'!r}, which has no text form; "
            "fetch an HTML, PDF, JSON or text URL instead"
        )
    if kind == "pdf":
        return Document("pdf", None, pdf_text(page.body))
    text = decode(page)
    if kind == "json":
        if fmt == "raw":
            return Document("json", None, text)
        try:
            return Document("json", None, json.dumps(json.loads(text), indent=2, ensure_ascii=False))
        except ValueError:
            return Document("json", None, text)
    if kind == "text":
        return Document("text", None, text)
    title = html_title(text)
    if fmt == "raw":
        return Document("html", title, text)
    return Document("html", title, html_main(text, fmt, page.final_url))


def html_title(text: str) -> str | None:
    found = _TITLE.search(text[:200_000])
    if not found:
        return None
    title = re.sub(r"\s+", " ", lxml.html.fromstring(f"<p>{found.group(1)}</p>").text_content()).strip()
    return title or None


def html_main(text: str, fmt: Format, url: str) -> str:
    output = {"markdown": "markdown", "text": "txt", "html": "html"}[fmt]
    extracted = trafilatura.extract(
        text,
        url=url,
        output_format=output,
        include_links=fmt != "text",
        include_tables=True,
        include_comments=False,
        include_formatting=fmt == "markdown",
        favor_precision=False,
        deduplicate=False,
        with_metadata=False,
    )
    if extracted:
        return extracted
    return plain_text(text)


def plain_text(text: str) -> str:
    """Every visible text of a page, for pages the main-content extractor finds nothing in."""
    try:
        root = lxml.html.fromstring(text)
    except (ParserError, ValueError):
        return text
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnsupportedContent(f"the PDF could not be read: {exc}") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def links(page: Fetched, limit: int) -> list[tuple[str, str]]:
    """(absolute URL, anchor text) of every http(s) link of an HTML page, first occurrence kept, in page order.
    A body cut at the byte cap is read up to its last complete tag, so a half-received `href` is no link."""
    if kind_of(page) != "html":
        raise UnsupportedContent(f"{page.final_url!r} is not an HTML page ({page.content_type!r}); it has no links")
    html = decode(page)
    if page.truncated:
        html = html[: html.rfind(">") + 1]
    try:
        root = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return []
    base = page.final_url
    for href in root.xpath("//base/@href")[:1]:
        base = urljoin(base, str(href))
    seen: dict[str, str] = {}
    for a in root.xpath("//a[@href]"):
        target, _ = urldefrag(urljoin(base, str(a.get("href")).strip()))
        if not target.startswith(("http://", "https://")) or target in seen:
            continue
        seen[target] = re.sub(r"\s+", " ", a.text_content()).strip()
        if len(seen) >= limit:
            break
    return list(seen.items())
