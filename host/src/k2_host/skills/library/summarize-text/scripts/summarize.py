"""Extractive summary of a text, Markdown or reStructuredText file: the document's own most central sentences.

Usage:
    python3 summarize.py report.md [more.txt ...] < request.txt
    python3 summarize.py < request-and-text.txt   (no path: the text after the request is summarized)

Each sentence is scored by the frequency of its content words in the document (title and heading words count
more), its position (the opening sentence of the document, of each section and of each paragraph), and its
centrality (tf-idf cosine similarity to the rest of the document). The best are chosen greedily with a
redundancy penalty and printed in document order, with their line numbers, unchanged.

The request sets the length and form: "in 3 sentences", "one sentence", "5 key points", "under 120 words",
"20%", "a quarter", "brief", "tl;dr", "detailed"; "as a paragraph" joins the sentences; "focus on <words>"
favours sentences about those words. Exit 2 when there is no prose to summarize.

Other scripts may import this file (summarize-webpage does): parse_document(), parse_request(), select(),
key_terms() and render_sentences() are its interface.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUT = 15_000
MAX_SENTENCES = 40

_STOPWORDS = """
    a about above across after again against all almost along already also although always am among an and another
    any anyone anything are around as at back be became because become been before being below between both but by can
    cannot could did do does doing done down during each either else enough etc even ever every few for from
    further get gets getting got had has have having he her here hers herself him himself his how however i if in
    into is it its itself just least less let like likely made make makes many may me might more most mostly much
    must my myself near need needs neither never no nor not now of off often on once one only onto or other others
    otherwise our ours ourselves out over own per perhaps put rather really same see seem seems several shall she
    should since so some something still such than that the their theirs them themselves then there these they
    thing things this those though through thus to too toward towards under until up upon us use used uses using
    very via was way we well were what whatever when where whether which while who whom whose why will with within
    without would yet you your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORDS.split())

_ABBREVIATIONS = """
    mr mrs ms dr prof sr jr st mt vs e.g i.e cf fig figs no nos vol vols approx inc ltd co corp dept est al
    jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n ph.d b.sc m.sc gen col lt sgt capt rev
"""
ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())

_CONNECTIVE = re.compile(
    r"^(?:this|these|that|those|it|they|he|she|such|however|but|and|also|moreover|furthermore|therefore|thus|"
    r"hence|so|then|instead|otherwise|finally|besides|(?:if|when|because|although|while|since)\s+(?:it|this|they|that|these|those|he|she)\b)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]|[A-Za-z]")
_ANY_WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")
_BOUNDARY = re.compile(r"[.!?…]+[\"'”\u2019)\]]*(?=\s+[\"'“\u2018(\[]?[A-Z0-9])")
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "two": 2,
    "a couple of": 2,
    "a couple": 2,
    "three": 3,
    "a few": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
_FRACTIONS = {"half": 0.5, "third": 1 / 3, "quarter": 0.25, "fourth": 0.25, "fifth": 0.2, "tenth": 0.1}


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


# ------------------------------------------------------------------------------------------------ the document


@dataclass
class Sentence:
    text: str
    line: int
    index: int = 0
    para: int = 0
    first_in_para: bool = False
    first_in_section: bool = False
    section: str = ""
    item: bool = False
    terms: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(_ANY_WORD.findall(self.text))


@dataclass
class Document:
    title: str
    headings: list[tuple[int, str, int]]  # (level, text, line)
    sentences: list[Sentence]
    lines: int = 0

    @property
    def words(self) -> int:
        return sum(s.words for s in self.sentences)


def stem(word: str) -> str:
    """A light, deterministic suffix stripper: caches, cached, caching -> cach."""
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix, minimum in (("ing", 6), ("ed", 5), ("ly", 6)):
        if len(w) >= minimum and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text):
        low = word.lower().replace("\u2019", "'")
        if len(low) < 3 or low in STOPWORDS or low.split("'")[0] in STOPWORDS:
            continue
        out.append(stem(low))
    return out


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REFLINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^>]+>")
_CODE_SPAN = re.compile(r"``?([^`]+)``?")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ROLE = re.compile(r":[\w-]+:`([^`]+)`")
_RST_REF = re.compile(r"`([^`<]+?)(?:\s*<[^>]+>)?`__?")
_FOOTNOTE = re.compile(r"\[\^[^\]]+\]")


def clean_inline(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFLINK.sub(r"\1", text)
    text = _AUTOLINK.sub("", text)
    text = _FOOTNOTE.sub("", text)
    text = _ROLE.sub(r"\1", text)
    text = _RST_REF.sub(r"\1", text)
    text = _CODE_SPAN.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EM.sub(r"\2", text)
    text = _TAG.sub("", text)
    text = text.replace("\\*", "*").replace("\\_", "_").replace("&nbsp;", " ").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text).strip()


_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_ADORN = re.compile(r"^([=\-~^\"'`#*+<>:._])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_ITEM = re.compile(r"^(\s*)(?:[-*+•▪◦]|\d{1,3}[.)]|[a-zA-Z][.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_HR = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_TABLE = re.compile(r"^\s*\|.*\|\s*$|^\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s+\S+")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:-]+)::")
_RST_COMMENT = re.compile(r"^\s*\.\.(\s|$)")


@dataclass
class _Block:
    kind: str  # heading | para | item
    parts: list[tuple[str, int]]  # (text, line)
    level: int = 0


def blocks(text: str) -> list[_Block]:
    """Headings, paragraphs and list items of Markdown, reST or plain text, with code, tables and markup removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[_Block] = []
    current: _Block | None = None
    i = 0
    n = len(lines)
    if lines and lines[0].strip() == "---":  # YAML front matter
        for j in range(1, min(n, 200)):
            if lines[j].strip() in ("---", "..."):
                i = j + 1
                break

    def close() -> None:
        nonlocal current
        if current is not None and current.parts:
            out.append(current)
        current = None

    literal_indent: int | None = None  # inside a reST literal block (after "::")
    prev_blank = True
    while i < n:
        raw = lines[i]
        line = raw.rstrip()
        stripped = line.strip()
        lineno = i + 1
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                i += 1
                continue
            literal_indent = None
        fence = _FENCE.match(line)
        if fence:
            close()
            mark = fence.group(1)[:3]
            i += 1
            while i < n and not lines[i].strip().startswith(mark):
                i += 1
            i += 1
            prev_blank = True
            continue
        if stripped.startswith("<!--"):
            close()
            while i < n and "-->" not in lines[i]:
                i += 1
            i += 1
            continue
        if not stripped:
            close()
            prev_blank = True
            i += 1
            continue
        nxt = lines[i + 1].rstrip() if i + 1 < n else ""
        # reST heading with an overline: ===== / Title / =====
        if _ADORN.match(stripped) and i + 2 < n and lines[i + 1].strip() and _ADORN.match(lines[i + 2].strip()):
            close()
            out.append(_Block("heading", [(clean_inline(lines[i + 1].strip()), i + 2)], 1))
            i += 3
            prev_blank = False
            continue
        atx = _ATX.match(line)
        if atx:
            close()
            out.append(_Block("heading", [(clean_inline(atx.group(2)), lineno)], len(atx.group(1))))
            i += 1
            prev_blank = False
            continue
        # setext (Markdown) or underlined (reST / plain text) heading
        if (
            current is None
            and nxt.strip()
            and _ADORN.match(nxt.strip())
            and len(nxt.strip()) >= max(3, len(stripped) // 2)
            and not _ITEM.match(line)
        ):
            out.append(_Block("heading", [(clean_inline(stripped), lineno)], 1 if nxt.strip()[0] in "=#*" else 2))
            i += 2
            prev_blank = False
            continue
        if _HR.match(line) or _ADORN.match(stripped) or _TABLE.match(line) or _REF_DEF.match(line):
            close()
            i += 1
            continue
        if "|" in line and _TABLE.match(nxt):  # a Markdown table's header row
            close()
            i += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive or _RST_COMMENT.match(line):
            close()
            name = directive.group(1) if directive else ""
            if not directive or name in ("code-block", "code", "sourcecode", "literalinclude", "math", "image"):
                literal_indent = indent
            i += 1
            continue
        if prev_blank and indent >= 4 and (current is None) and not (out and out[-1].kind == "item"):
            i += 1  # an indented code block
            continue
        if stripped.endswith("::"):
            literal_indent = indent
            stripped = stripped[:-1] if not stripped.endswith(" ::") else stripped[:-3]
        item = _ITEM.match(line)
        quote = re.match(r"^\s*(?:>\s?)+(.*)$", line)
        if quote:
            stripped = quote.group(1).strip()
            item = _ITEM.match(stripped)
        if item:
            close()
            current = _Block("item", [(clean_inline(item.group(2)), lineno)])
        elif current is None:
            current = _Block("para", [(clean_inline(stripped), lineno)])
        else:
            current.parts.append((clean_inline(stripped), lineno))
        prev_blank = False
        i += 1
    close()
    # a lone short line with no end punctuation between blank lines is a plain-text heading
    for b in out:
        if b.kind == "para" and len(b.parts) == 1:
            text = b.parts[0][0]
            if text and len(text.split()) <= 8 and not re.search(r"[.,;:!?…\"'”)]$", text) and text[0].isupper():
                b.kind, b.level = "heading", 2
    return out


def split_sentences(parts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Sentences of a block (lines joined), each with the line it starts on."""
    text = ""
    starts: list[tuple[int, int]] = []  # (offset in text, line)
    for piece, line in parts:
        if not piece:
            continue
        if text:
            text += " "
        starts.append((len(text), line))
        text += piece
    if not text:
        return []

    def line_at(offset: int) -> int:
        found = starts[0][1]
        for off, line in starts:
            if off <= offset:
                found = line
            else:
                break
        return found

    out: list[tuple[str, int]] = []
    begin = 0
    for m in _BOUNDARY.finditer(text):
        before = text[begin : m.start()]
        last = re.search(r"(\S+)$", before)
        token = last.group(1).lower().lstrip("(\"'“\u2018[") if last else ""
        if m.group(0).startswith(".") and (
            token in ABBREVIATIONS
            or re.fullmatch(r"[a-z]", token)
            or (re.fullmatch(r"(?:[a-z]\.)+[a-z]", token) and token not in ("a.m", "p.m"))
        ):
            continue
        sentence = text[begin : m.end()].strip()
        if sentence:
            out.append((sentence, line_at(begin + (len(text[begin:]) - len(text[begin:].lstrip())))))
        begin = m.end()
    rest = text[begin:].strip()
    if rest:
        out.append((rest, line_at(begin + (len(text[begin:]) - len(text[begin:].lstrip())))))
    return out


def parse_document(text: str) -> Document:
    """The title, headings and sentences (with their terms and positions) of a text."""
    headings: list[tuple[int, str, int]] = []
    sentences: list[Sentence] = []
    section = ""
    section_start = True
    para = 0
    for b in blocks(text):
        if b.kind == "heading":
            title = b.parts[0][0]
            if title:
                headings.append((b.level, title, b.parts[0][1]))
                section = title
                section_start = True
            continue
        para += 1
        for k, (sentence, line) in enumerate(split_sentences(b.parts)):
            if not _WORD.search(sentence):
                continue
            sentences.append(
                Sentence(
                    sentence,
                    line,
                    index=len(sentences),
                    para=para,
                    first_in_para=k == 0,
                    first_in_section=section_start and k == 0,
                    section=section,
                    item=b.kind == "item",
                    terms=content_terms(sentence),
                )
            )
            section_start = False
    top = min((h[0] for h in headings), default=0)
    title = next((h[1] for h in headings if h[0] == top and h[0] == 1), "")
    return Document(title, headings, sentences, text.count("\n") + 1)


# ------------------------------------------------------------------------------------------------ the request


@dataclass
class Request:
    count: int | None = None  # sentences
    words: int | None = None  # word budget
    ratio: float | None = None  # of the sentences
    style: str = ""  # brief | tldr | detailed
    paragraph: bool = False
    focus: list[str] = field(default_factory=list)  # stemmed terms


def _number(token: str) -> int | None:
    token = token.lower().strip()
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


_NUM = r"(\d{1,3}|a single|single|a couple of|a couple|a few|one|two|three|four|five|six|seven|eight|nine|ten|" + (
    r"eleven|twelve|fifteen|twenty|an?)"
)


def parse_request(request: str) -> Request:
    """Length, form and focus asked for in free-form English."""
    req = Request()
    text = re.sub(r"https?://\S+|`[^`]*`|\S+\.(?:md|txt|rst|markdown|text|adoc|html?)\b", " ", request)
    low = text.lower()
    m = re.search(
        _NUM + r"\s*[- ]?\s*(?:(?:key|main|short|brief|important|core|bullet|top)\s+){0,2}"
        r"(sentences?|lines?|bullets?|points?|takeaways?|highlights?)\b",
        low,
    )
    if m:
        value = _number(m.group(1))
        if value:
            req.count = value
    w = re.search(r"(\d{1,4})\s*[- ]?\s*words?\b", low)
    if w and int(w.group(1)) > 0:
        req.words = int(w.group(1))
    p = re.search(r"(\d{1,2}(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", low)
    if p and 0 < float(p.group(1)) <= 90:
        req.ratio = float(p.group(1)) / 100
    else:
        f = re.search(
            r"\b(?:a|one)\s+(third|quarter|fourth|fifth|tenth)\b|\b(half)\b(?=.{0,30}(?:length|size|long))", low
        )
        if f:
            req.ratio = _FRACTIONS[f.group(1) or f.group(2)]
    if re.search(r"\btl;?\s?dr\b|\bone[- ]liner\b", low):
        req.style = "tldr"
    elif re.search(
        r"\b(?:detailed|thorough|in[- ]depth|comprehensive|extended|long(?:er)? summary|full summary)\b", low
    ):
        req.style = "detailed"
    elif re.search(r"\b(?:brief(?:ly)?|short|quick|concise|gist|nutshell)\b", low):
        req.style = "brief"
    req.paragraph = bool(re.search(r"\b(?:paragraph|prose|abstract|as (?:plain )?text|no bullets)\b", low))
    focus = re.search(
        r"\b(?:focus(?:ing|ed)? on|emphasi[sz](?:e|ing) on|with (?:an )?emphasis on|concentrat(?:e|ing) on|"
        r"especially|particularly|in particular|regarding|with respect to|as it relates to)\s+(.+?)"
        r"(?:[.;!?]|,|\bin \d|\bin (?:a|one|two|three|four|five)\b|\bas a\b|$)",
        low,
    )
    if focus:
        req.focus = sorted(set(content_terms(focus.group(1))))
    return req


# ------------------------------------------------------------------------------------------------ scoring


def _vector(terms: list[str], idf: dict[str, float]) -> dict[str, float]:
    counts = Counter(terms)
    return {t: c * idf.get(t, 1.0) for t, c in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(t, 0.0) for t, v in a.items())
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def score(doc: Document, focus: list[str] | None = None) -> tuple[list[float], list[dict[str, float]]]:
    """A score in [0, ~1.6] per sentence, and each sentence's tf-idf vector (for the redundancy check)."""
    sents = doc.sentences
    n = len(sents)
    if not n:
        return [], []
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for s in sents:
        tf.update(s.terms)
        df.update(set(s.terms))
    heading_terms = {t for _, h, _ in doc.headings for t in content_terms(h)}
    top = max(tf.values(), default=1)
    weight = {t: (c / top) * (1.5 if t in heading_terms else 1.0) for t, c in tf.items()}
    idf = {t: math.log((n + 1) / (d + 1)) + 1.0 for t, d in df.items()}
    vectors = [_vector(s.terms, idf) for s in sents]
    centroid: dict[str, float] = {}
    for v in vectors:
        for t, x in v.items():
            centroid[t] = centroid.get(t, 0.0) + x
    freq, cent, pos = [], [], []
    for s, v in zip(sents, vectors, strict=True):
        distinct = set(s.terms)
        freq.append(sum(weight[t] for t in distinct) / math.sqrt(len(distinct)) if distinct else 0.0)
        rest = {t: centroid[t] - x for t, x in v.items()}
        rest_norm = {**centroid, **rest}
        cent.append(_cosine(v, rest_norm) if n > 1 else 1.0)
        rel = s.index / max(1, n - 1)
        p = 0.15 + 0.35 * (1 - rel)
        if s.first_in_para and not s.item:
            p = max(p, 0.65)
        if s.first_in_section:
            p = max(p, 0.8)
        if s.index == 0:
            p = 1.3  # the lead: opening sentences carry the most in reports and articles
        pos.append(p)
    fmax = max(freq) or 1.0
    cmax = max(cent) or 1.0
    title_terms = set(content_terms(doc.title))
    section_terms = {s.section: set(content_terms(s.section)) for s in sents if s.section and s.section != doc.title}
    scores = []
    wanted = set(focus or [])
    for i, s in enumerate(sents):
        value = 0.35 * freq[i] / fmax + 0.3 * cent[i] / cmax + 0.35 * pos[i]
        terms = set(s.terms)
        for heading in (title_terms, section_terms.get(s.section, set())):
            if heading:  # a sentence that restates its title or section heading is likely a key one
                value += 0.1 * len(heading & terms) / len(heading)
        words = s.words
        if words < 5:
            value *= 0.5
        elif words < 8 or words > 45:
            value *= 0.85
        if s.item:
            value *= 0.9
        if s.text.rstrip("\"'”\u2019)").endswith("?"):
            value *= 0.75
        if _CONNECTIVE.match(s.text) and not s.first_in_para:
            value *= 0.85
        if wanted:
            share = len(wanted & terms) / len(wanted)
            value *= 0.4 + 1.2 * share
        scores.append(value)
    return scores, vectors


def target_count(req: Request, total: int) -> int:
    if req.count:
        n = req.count
    elif req.ratio:
        n = round(req.ratio * total)
    elif req.style == "tldr":
        n = 2
    elif req.style == "brief":
        n = 3
    elif req.style == "detailed":
        n = min(12, max(6, round(total * 0.3)))
    else:
        n = min(7, max(3, round(total / 6)))
    return max(1, min(n, total, MAX_SENTENCES))


def select(doc: Document, req: Request) -> list[Sentence]:
    """The chosen sentences, in document order."""
    scores, vectors = score(doc, req.focus)
    candidates = [i for i, s in enumerate(doc.sentences) if len(s.terms) >= 1 and s.words >= 3]
    if not candidates:
        candidates = list(range(len(doc.sentences)))
    limit = target_count(req, len(candidates)) if req.words is None or req.count or req.ratio else len(candidates)
    best = max(scores) if scores else 1.0
    chosen: list[int] = []
    used_words = 0
    pool = list(candidates)
    while pool and len(chosen) < limit:
        ranked = []
        for i in pool:
            overlap = max((_cosine(vectors[i], vectors[j]) for j in chosen), default=0.0)
            if overlap > 0.7:
                continue
            ranked.append((scores[i] - 0.3 * best * overlap, -i, i))
        if not ranked:
            break
        ranked.sort(reverse=True)
        picked = None
        for _, _, i in ranked:
            if req.words is None or used_words + doc.sentences[i].words <= req.words or not chosen:
                picked = i
                break
        if picked is None:
            break
        chosen.append(picked)
        used_words += doc.sentences[picked].words
        pool.remove(picked)
        if req.words is not None and used_words >= req.words:
            break
    return [doc.sentences[i] for i in sorted(chosen)]


def key_terms(doc: Document, limit: int = 8) -> list[tuple[str, int]]:
    """The most frequent content words (shown as written most often), with their counts; words seen once left out."""
    forms: dict[str, Counter[str]] = {}
    for s in doc.sentences:
        for word in _WORD.findall(s.text):
            low = word.lower().replace("\u2019", "'")
            if len(low) < 3 or low in STOPWORDS or low.split("'")[0] in STOPWORDS:
                continue
            forms.setdefault(stem(low), Counter())[low.removesuffix("'s")] += 1
    ranked = sorted(forms.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    out = []
    for _, counter in ranked:
        total = sum(counter.values())
        if total < 2:
            break
        form = sorted(counter.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]
        out.append((form, total))
        if len(out) >= limit:
            break
    return out


def render_sentences(chosen: list[Sentence], req: Request, *, lines: bool = True) -> list[str]:
    """The summary itself: a bullet per sentence (with its line), or one paragraph."""
    if req.paragraph:
        out = [" ".join(s.text for s in chosen)]
        if lines:
            out += ["", "From lines " + ", ".join(str(s.line) for s in chosen) + "."]
        return out
    return [f"- {s.text}" + (f" *(L{s.line})*" if lines else "") for s in chosen]


def length_notes(doc: Document, chosen: list[Sentence], req: Request) -> list[str]:
    notes = []
    total = len(doc.sentences)
    if req.count and req.count > len(chosen) and len(chosen) == total:
        notes.append(f"The text has only {total} sentence(s), so all of them are shown.")
    elif req.count and req.count > len(chosen):
        notes.append(f"{len(chosen)} sentences were distinct enough; the others repeat what is shown.")
    used = sum(s.words for s in chosen)
    if req.words is not None and used > req.words:
        notes.append(f"The best sentence alone has {used} words, more than the {req.words} asked for.")
    if req.focus and not any(set(req.focus) & set(s.terms) for s in doc.sentences):
        notes.append("No sentence mentions the words asked to focus on; this is a general summary.")
    return notes


# ------------------------------------------------------------------------------------------------ main


def summarize_one(name: str, text: str, req: Request) -> list[str]:
    if not text.strip():
        raise Refusal(f"{name} is empty; there is nothing to summarize.")
    doc = parse_document(text)
    if not doc.sentences:
        raise Refusal(f"{name} has no prose to summarize (only headings, code, tables or markup were found).")
    chosen = select(doc, req)
    used = sum(s.words for s in chosen)
    share = round(100 * used / doc.words) if doc.words else 100
    label = name if name == "the pasted text" else f"`{name}`"
    head = f"**Summary of {label}**" + (f" — “{doc.title}”" if doc.title else "")
    out = [
        f"{head}: {len(chosen)} of {len(doc.sentences)} sentences ({used} of {doc.words} words, {share}%), "
        "extractive: the document's own sentences, in its order.",
        "",
    ]
    out += render_sentences(chosen, req)
    terms = key_terms(doc)
    if terms:
        out += ["", "Key terms: " + ", ".join(f"{t} ({c})" for t, c in terms)]
    notes = length_notes(doc, chosen, req)
    if notes:
        out += ["", *(f"Note: {n}" for n in notes)]
    return out


def read_text(path: str) -> str:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name a text or Markdown file to summarize.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a text or Markdown file inside it.") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; this skill summarizes text, Markdown or reST.")
    return data.decode("utf-8", errors="replace")


def split_inline_request(stdin: str) -> tuple[str, str]:
    """(request, text) when the text to summarize comes after the request on stdin."""
    fence = re.search(r"```[^\n]*\n(.*?)```", stdin, re.DOTALL)
    if fence:
        return stdin[: fence.start()] + stdin[fence.end() :], fence.group(1)
    head, sep, rest = stdin.partition("\n")
    if sep and rest.strip() and len(head) < 300:
        return head, rest
    colon = re.match(
        r"(.{0,200}?\b(?:summar\w*|tl;?dr|gist|condense|shorten|key points)\b[^:\n]{0,120}):\s*(.+)", stdin, re.S
    )
    if colon:
        return colon.group(1), colon.group(2)
    return "", stdin


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def main(argv: list[str]) -> int:
    stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if paths:
            req = parse_request(stdin)
            out: list[str] = []
            for path in paths:
                if out:
                    out += ["", "---", ""]
                out += summarize_one(Path(path).name, read_text(path), req)
        else:
            request, text = split_inline_request(stdin)
            if len(_ANY_WORD.findall(text)) < 12:
                raise Refusal(
                    "Name the file to summarize (e.g. `notes.md`) or paste the text after the request "
                    "(e.g. 'summarize in 2 sentences:' followed by the text)."
                )
            out = summarize_one("the pasted text", text, parse_request(request))
    except Refusal as exc:
        print(exc)
        return 2
    text_out = "\n".join(out)
    text_out = fit(text_out, "ask for fewer sentences")
    print(text_out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"summarize-text failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
