"""Extractive summary of a web page: its title, sections and main points, in the page's own sentences.

Usage:
    python3 summarize_page.py page.md < request.txt      (page.md: the page as Markdown or text, or saved HTML)
    K2_URL=https://example.org/post python3 summarize_page.py page.md < request.txt

The K2 host fetches the page named in the request (websearch fetch_webpage, as Markdown), saves it and passes
its path as argv[1], with the address in $K2_URL. Navigation menus, link lists, cookie and share banners and
footers are dropped, then the sentences are chosen by the summarize-text skill's algorithm, which this script
loads from ../../summarize-text/scripts/summarize.py (that skill is its prerequisite; keep both folders side
by side). The request sets the length like summarize-text: "in 3 sentences", "under 80 words", "brief", and
"focus on <words>". Exit 2 when the page has no readable prose or summarize-text is missing.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType

MAX_OUT = 15_000
WORDS_PER_MINUTE = 230
PREREQUISITE = Path("summarize-text") / "scripts" / "summarize.py"
INTERFACE = ("parse_document", "parse_request", "select", "key_terms", "render_sentences", "length_notes")


class Refusal(Exception):
    """The page or request cannot be handled; the message is one sentence for the user."""


def load_summarizer() -> ModuleType:
    """The summarize-text script, found beside this skill's folder (the library, or the sandbox's skills/)."""
    here = Path(__file__).resolve().parent  # .../summarize-webpage/scripts
    path = here.parent.parent / PREREQUISITE
    if not path.is_file():
        raise Refusal(
            f"summarize-webpage needs the summarize-text skill beside it ({path} is missing); "
            "install both skill folders in the same skills directory."
        )
    spec = importlib.util.spec_from_file_location("k2_summarize_text", path)
    if spec is None or spec.loader is None:
        raise Refusal(f"{path} could not be loaded as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while a class is created
    sys.dont_write_bytecode = True  # leave no __pycache__ in the other skill's folder
    spec.loader.exec_module(module)
    missing = [name for name in INTERFACE if not hasattr(module, name)]
    if missing:
        raise Refusal(f"{path} is another version of summarize-text: it has no {', '.join(missing)}.")
    return module


# ------------------------------------------------------------------------------------------------ page cleanup

_BLOCK_TAGS = re.compile(r"</?(?:p|div|section|article|main|ul|ol|table|tr|blockquote|pre|br|hr)\b[^>]*>", re.I)


def html_to_text(source: str) -> str:
    """A crude Markdown rendering of saved HTML (when run by hand on a raw page): headings, paragraphs, items."""
    body = re.sub(r"(?is)<(script|style|noscript|template|svg|head)\b.*?</\1>", " ", source)
    body = re.sub(r"(?is)<(nav|header|footer|aside|form)\b.*?</\1>", " ", body)
    body = re.sub(r"(?s)<!--.*?-->", " ", body)
    body = re.sub(
        r"(?is)<h([1-6])\b[^>]*>(.*?)</h\1>", lambda m: "\n\n" + "#" * int(m.group(1)) + " " + m.group(2) + "\n\n", body
    )
    body = re.sub(r"(?i)<li\b[^>]*>", "\n- ", body)
    body = _BLOCK_TAGS.sub("\n\n", body)
    body = re.sub(r"(?s)<[^>]+>", "", body)
    body = html.unescape(body)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in body.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_BARE_URL = re.compile(r"https?://\S+")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_BOILERPLATE = re.compile(
    r"^(?:skip to (?:main )?content|jump to (?:navigation|search)|toggle (?:navigation|menu)|main menu|menu|search|"
    r"share(?: this(?: post| article| page)?)?(?: on \w+)?:?|tweet|print|email|sign (?:in|up)|log ?in|register|"
    r"subscribe(?: to our newsletter)?|back to top|table of contents|contents|advertisement|related (?:posts|articles)|"
    r"read more|next|previous|loading\W*)$",
    re.IGNORECASE,
)
_SOCIAL = re.compile(r"^(?:share (?:this|on|via)|follow us|subscribe|sign up for|join our newsletter)\b", re.I)
_LEGAL = re.compile(r"©|\ball rights reserved\b|\bcookies?\b.{0,60}\b(?:accept|consent|use|settings|policy)\b", re.I)


def link_share(line: str) -> float:
    """The part of a line's visible characters that is link text or bare URLs (1.0: the line is only links)."""
    body = _ITEM.sub("", line)
    visible = re.sub(r"\s+", "", _MD_LINK.sub(r"\1", body))
    if not visible:
        return 1.0 if _MD_LINK.search(body) else 0.0
    links = "".join(re.sub(r"\s+", "", m.group(1)) for m in _MD_LINK.finditer(body))
    bare = "".join(m.group(0) for m in _BARE_URL.finditer(_MD_LINK.sub(" ", body)))
    return min(1.0, (len(links) + len(bare)) / len(visible))


def clean_page(text: str) -> tuple[str, int]:
    """The page without navigation, link lists and boilerplate lines; and how many lines were dropped."""
    if re.match(r"\s*(?:<!doctype html|<html)", text, re.I):
        text = html_to_text(text)
    kept: list[str] = []
    dropped = 0
    in_code = False
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_code = not in_code
        if in_code or not stripped or stripped.startswith(("#", "```", "~~~")):
            kept.append(line)
            continue
        plain = _MD_LINK.sub(r"\1", stripped).strip(" -*|·•>")
        several = len(_MD_LINK.findall(stripped)) >= 2
        if (
            _BOILERPLATE.match(plain)
            or (_LEGAL.search(plain) and len(plain.split()) < 30)
            or (_SOCIAL.match(plain) and len(plain.split()) <= 12)
            or (link_share(stripped) >= 0.7 and (several or _ITEM.match(line) or len(plain.split()) <= 6))
        ):
            dropped += 1
            kept.append("")
            continue
        kept.append(line)
    return "\n".join(kept), dropped


# ------------------------------------------------------------------------------------------------ main


def url_of(request: str) -> str:
    env = os.environ.get("K2_URL", "").strip()
    if env:
        return env
    m = re.search(r"https?://[^\s<>\"'`)\]]+", request)
    return m.group(0).rstrip(".,;:!?") if m else ""


def summarize_page(st: ModuleType, page: str, request: str, url: str) -> list[str]:
    cleaned, dropped = clean_page(page)
    doc = st.parse_document(cleaned)
    if not doc.sentences:
        where = url or "The page"
        raise Refusal(f"{where} has no readable prose to summarize (only links, headings, code or tables were found).")
    req = st.parse_request(re.sub(r"https?://\S+", " ", request))
    chosen = st.select(doc, req)
    words = doc.words
    minutes = max(1, round(words / WORDS_PER_MINUTE))
    title = doc.title or next((h[1] for h in doc.headings), "")
    head = f"**Summary of “{title}”**" if title else "**Summary of the page**"
    if url:
        head += f" (<{url}>)"
    used = sum(s.words for s in chosen)
    out = [
        f"{head}: {len(chosen)} of {len(doc.sentences)} sentences ({used} of {words} words; "
        f"about a {minutes}-minute read). Extractive: the page's own sentences, in page order.",
        "",
    ]
    sections = [h[1] for h in doc.headings if h[1] != title]
    if sections:
        shown = " · ".join(sections[:12]) + (f" · … ({len(sections) - 12} more)" if len(sections) > 12 else "")
        out += [f"Sections: {shown}", ""]
    out += st.render_sentences(chosen, req, lines=False)
    terms = st.key_terms(doc)
    if terms:
        out += ["", "Key terms: " + ", ".join(f"{t} ({c})" for t, c in terms)]
    notes = list(st.length_notes(doc, chosen, req))
    if dropped:
        notes.append(f"{dropped} navigation, link-list or boilerplate line(s) of the page were left out.")
    if notes:
        out += ["", *(f"Note: {n}" for n in notes)]
    return out


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
    try:
        if len(argv) < 2:
            raise Refusal(
                "Give the page's address (https://...); run by hand, pass the saved page: "
                "python3 summarize_page.py page.md < request.txt"
            )
        path = Path(argv[1])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise Refusal(f"The saved page {path} could not be read ({exc.strerror}).") from None
        if b"\x00" in data[:4096]:
            raise Refusal("The page is binary (an image, an archive or similar), not text; give an HTML or text page.")
        page = data.decode("utf-8", errors="replace")
        url = url_of(request)
        if not page.strip():
            raise Refusal(f"{url or 'The page'} came back empty; check the address or try again later.")
        out = summarize_page(load_summarizer(), page, request, url)
    except Refusal as exc:
        print(exc)
        return 2
    text = "\n".join(out)
    text = fit(text, "ask for fewer sentences")
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"summarize-webpage failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
