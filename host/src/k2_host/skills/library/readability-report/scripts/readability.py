"""Readability report of English prose: Flesch reading ease, grade levels, long sentences, passive voice, hard words.

Usage:
    python3 readability.py draft.md [other.txt ...] < request.txt

Scores: Flesch reading ease, Flesch-Kincaid grade, Gunning fog, SMOG, Coleman-Liau and ARI, and their median
as a consensus grade. Markdown/reST markup, code blocks, tables and headings are left out; list items count
as sentences. Words in the request: "over 20 words" sets the long-sentence limit (default 25), "grade 8" /
"for a general audience" / "for children" sets a target grade to check against. Several files get a comparison
table. Exit 2 when no file has any prose.
"""

from __future__ import annotations

import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUT = 15_000
DEFAULT_LONG = 25
_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*(?:-[A-Za-z]+)*|\d+(?:[.,]\d+)*")
_ABBR = {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "no", "fig", "approx", "jr"}
# words whose syllables the vowel-group rule gets wrong
_SYLLABLES = {
    "area": 3,
    "idea": 3,
    "being": 2,
    "every": 2,
    "everyone": 3,
    "everything": 3,
    "business": 2,
    "different": 3,
    "evening": 2,
    "interest": 3,
    "science": 2,
    "quiet": 2,
    "poem": 2,
    "people": 2,
    "create": 2,
    "created": 3,
    "cruel": 2,
    "fuel": 2,
    "real": 1,
    "really": 2,
    "naive": 2,
    "chaos": 2,
    "react": 2,
    "reuse": 2,
    "preview": 2,
    "user": 2,
    "users": 2,
    "once": 1,
    "one": 1,
    "the": 1,
    "are": 1,
    "were": 1,
    "fire": 1,
    "hour": 1,
    "our": 1,
    "hours": 1,
    "through": 1,
    "queue": 1,
    "move": 1,
    "gone": 1,
    "done": 1,
    "some": 1,
    "come": 1,
    "there": 1,
    "where": 1,
    "here": 1,
    "before": 2,
    "maybe": 2,
    "simile": 3,
    "recipe": 3,
    "apostrophe": 4,
    "coyote": 3,
    "anyone": 3,
    "someone": 2,
    "eye": 1,
    "eyes": 1,
    "cooperate": 4,
    "coordinate": 4,
    "sometimes": 2,
}
_PARTICIPLES = (
    "known given taken written shown done made seen built sent found held kept left paid put set told chosen driven "
    "broken spoken stolen thrown drawn grown worn torn born borne beaten bitten brought bought caught taught thought "
    "sold understood forgotten hidden ridden risen shaken sung begun run won lost met read led fed felt heard meant "
    "spent split spread struck sworn swept undertaken withdrawn overseen overtaken rewritten"
)
_IRREGULAR_PARTICIPLES = _PARTICIPLES.split()
_PASSIVE = re.compile(
    r"\b(?:am|is|are|was|were|be|been|being|get|gets|got|gotten)\s+(?:(?:not|never|also|often|usually|always|"
    r"already|then|now|still|just|\w+ly)\s+){0,2}((?:\w+ed)|" + "|".join(_IRREGULAR_PARTICIPLES) + r")\b",
    re.IGNORECASE,
)
_NOT_PARTICIPLE = {"need", "feed", "seed", "speed", "bed", "red", "shed", "bred", "tired", "interested", "used"}


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


@dataclass
class Sentence:
    text: str
    line: int
    words: list[str] = field(default_factory=list)
    syllables: int = 0

    @property
    def grade(self) -> float:
        n = max(1, len(self.words))
        return 0.39 * n + 11.8 * self.syllables / n - 15.59


def syllables(word: str) -> int:
    w = word.lower().replace("\u2019", "'")
    if w in _SYLLABLES:
        return _SYLLABLES[w]
    if "-" in w:
        return sum(syllables(part) for part in w.split("-") if part)
    w = re.sub(r"'s$|'", "", w)
    w = re.sub(r"[^a-z]", "", w)
    if not w:
        return 0
    if w.isdigit():
        return max(1, len(w))  # read as digits: rough
    if len(w) <= 3:
        return 1
    n = len(re.findall(r"[aeiouy]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye", "ie")) and n > 1:
        n -= 1  # silent e: make, time, awesome
    elif w.endswith("le") and len(w) > 3 and w[-3] in "aeiouy" and n > 1:
        n -= 1  # while, mobile
    if re.search(r"[^aeiouy]es$", w) and n > 1 and not re.search(r"(?:[cgsxz]|sh|ch)es$", w):
        n -= 1  # makes, takes (but boxes, pages, wishes keep it)
    elif re.search(r"[^aeiouy]ed$", w) and n > 1 and not w.endswith(("ted", "ded")):
        n -= 1  # named, jumped (but wanted, needed keep it)
    if re.search(r"[^aeiouy]e(?:ly|ment|ments|ful|less|ness)$", w) and n > 1:
        n -= 1  # lately, statement, careful
    splits = r"ia|io|eo|ua|uo|iu|ea(?=[lt])|ie(?=t|nc|nt)|oe(?!s?$)|[aeiou]y[aeiou]"
    n += len(re.findall(splits, w)) - len(re.findall(r"tion|sion|cial|tial|cian|tien|cien", w))
    if w.startswith("y") and w[1:2] in "aeiou":
        n -= 1  # yes, young: the y is a consonant
    if w.endswith("ism"):
        n += 1
    return max(1, n)


# ------------------------------------------------------------------------------------------------ text


def prose_blocks(text: str) -> list[tuple[str, int, bool]]:
    """(block text, first line, is a list item) of the prose: no code, tables, headings, front matter or markup."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[tuple[str, int, bool]] = []
    buf: list[str] = []
    start = 0
    item = False
    in_code = False
    fence = ""

    def flush() -> None:
        nonlocal buf
        if buf:
            out.append((" ".join(buf), start, item))
        buf = []

    i = 0
    if lines and lines[0].strip() == "---":
        for j in range(1, min(len(lines), 200)):
            if lines[j].strip() in ("---", "..."):
                i = j + 1
                break
    literal = -1
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        n = i + 1
        i += 1
        if in_code:
            if s.startswith(fence):
                in_code = False
            continue
        m = re.match(r"^\s*(```+|~~~+)", raw)
        if m:
            flush()
            in_code, fence = True, m.group(1)[:3]
            continue
        indent = len(raw) - len(raw.lstrip())
        if literal >= 0:
            if not s or indent > literal:
                continue
            literal = -1
        if not s:
            flush()
            continue
        nxt = lines[i].strip() if i < len(lines) else ""
        heading = re.match(r"^#{1,6}\s", s) or (
            nxt and re.fullmatch(r"([=\-~^\"'`#*+])\1{2,}", nxt) and not buf and not re.match(r"^[-*+]\s", s)
        )
        if heading:
            flush()
            if not s.startswith("#"):
                i += 1  # the underline
            continue
        if (
            re.fullmatch(r"([=\-~^\"'`#*+_])\1{2,}", s)
            or s.startswith(("|", "<!--", ".. "))
            or re.match(r"^\[[^\]]+\]:\s", s)
            or (indent >= 4 and not buf and not out)
        ):
            flush()
            if s.startswith(".. ") or s.endswith("::"):
                literal = indent
            continue
        if s.endswith("::"):
            literal = indent
            s = s[:-1]
        s = re.sub(r"^>\s?", "", s)
        bullet = re.match(r"^(?:[-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)", s)
        if bullet:
            flush()
            start, item = n, True
            buf = [bullet.group(1)]
            continue
        if not buf:
            start, item = n, False
        buf.append(s)
    flush()
    cleaned = []
    for block, line, is_item in out:
        block = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", block)
        block = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", block)
        block = re.sub(r"`+([^`]*)`+", r"\1", block)
        block = re.sub(r"<[^>]+>|https?://\S+", " ", block)
        block = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", block)
        block = re.sub(r"\s+", " ", block).strip()
        if _WORD.search(block):
            cleaned.append((block, line, is_item))
    return cleaned


def sentences_of(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    for block, line, _item in prose_blocks(text):
        begin = 0
        pieces = []
        for m in re.finditer(r"[.!?]+[\"')\]\u201d\u2019]*(?=\s+[\"'(\[\u201c\u2018]?[A-Z0-9])", block):
            before = block[begin : m.start()].split()
            last = before[-1].lower().strip("(\"'") if before else ""
            if m.group(0).startswith(".") and (last in _ABBR or re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", last)):
                continue
            pieces.append(block[begin : m.end()])
            begin = m.end()
        pieces.append(block[begin:])
        for piece in pieces:
            piece = piece.strip()
            words = _WORD.findall(piece)
            if words:
                out.append(Sentence(piece, line, words, sum(syllables(w) for w in words)))
    return out


# ------------------------------------------------------------------------------------------------ scores


@dataclass
class Report:
    name: str
    sentences: list[Sentence]
    words: int
    syllables: int
    letters: int
    polysyllables: int
    complex_words: int
    scores: dict[str, float]
    passive: list[tuple[Sentence, str]]
    hard_words: list[tuple[str, int, int]]  # (word, syllables, count)

    @property
    def consensus(self) -> float:
        keys = ("Flesch-Kincaid grade", "Gunning fog", "SMOG", "Coleman-Liau", "ARI")
        return statistics.median(self.scores[k] for k in keys)


def analyse(name: str, text: str) -> Report:
    sents = sentences_of(text)
    if not sents:
        raise Refusal(f"{name} has no prose to score (only headings, code, tables or markup were found).")
    words = [w for s in sents for w in s.words]
    nw, ns = len(words), len(sents)
    counts = [syllables(w) for w in words]
    syl = sum(counts)
    letters = sum(len(re.sub(r"[^A-Za-z0-9]", "", w)) for w in words)
    poly = sum(1 for c in counts if c >= 3)
    complex_words = 0
    freq: dict[str, list[int]] = {}
    for s in sents:
        for k, w in enumerate(s.words):
            c = syllables(w)
            if c < 3:
                continue
            proper = k > 0 and w[:1].isupper()
            suffixed = re.search(r"(?:es|ed|ing)$", w.lower()) and syllables(re.sub(r"(?:es|ed|ing)$", "", w)) < 3
            if not proper and "-" not in w and not suffixed:
                complex_words += 1
            low = w.lower()
            entry = freq.setdefault(low, [c, 0])
            entry[1] += 1
    wps = nw / ns
    spw = syl / nw
    scores = {
        "Flesch reading ease": 206.835 - 1.015 * wps - 84.6 * spw,
        "Flesch-Kincaid grade": 0.39 * wps + 11.8 * spw - 15.59,
        "Gunning fog": 0.4 * (wps + 100 * complex_words / nw),
        "SMOG": 1.0430 * (poly * 30 / ns) ** 0.5 + 3.1291,
        "Coleman-Liau": 0.0588 * (letters / nw * 100) - 0.296 * (ns / nw * 100) - 15.8,
        "ARI": 4.71 * letters / nw + 0.5 * wps - 21.43,
    }
    passive = []
    for s in sents:
        for m in _PASSIVE.finditer(s.text):
            if m.group(1).lower() not in _NOT_PARTICIPLE:
                passive.append((s, m.group(0)))
                break
    hard = sorted(((w, c, n) for w, (c, n) in freq.items()), key=lambda t: (-t[1], -t[2], t[0]))
    return Report(name, sents, nw, syl, letters, poly, complex_words, scores, passive, hard[:12])


def band(ease: float) -> str:
    for limit, words in (
        (90, "very easy (about age 11; 5th grade)"),
        (80, "easy (6th grade)"),
        (70, "fairly easy (7th grade)"),
        (60, "plain English (8th-9th grade)"),
        (50, "fairly difficult (10th-12th grade)"),
        (30, "difficult (college)"),
    ):
        if ease >= limit:
            return words
    return "very difficult (college graduate)"


# ------------------------------------------------------------------------------------------------ request


def long_limit(request: str) -> int:
    m = re.search(
        r"(?:over|more than|longer than|above|exceed(?:ing)?|>)\s*(\d{1,3})\s*words?|(\d{1,3})[- ]word (?:limit|max)",
        request,
        re.I,
    )
    value = int(m.group(1) or m.group(2)) if m else DEFAULT_LONG
    return value if 5 <= value <= 200 else DEFAULT_LONG


def target_grade(request: str) -> tuple[float | None, str]:
    low = request.lower()
    m = re.search(r"\b(?:grade|year|level)\s*(\d{1,2})\b|\b(\d{1,2})(?:st|nd|rd|th)[- ]grade(?:rs?)?\b", low)
    if m:
        value = float(m.group(1) or m.group(2))
        if 1 <= value <= 18:
            return value, f"grade {value:g}"
    for pattern, value, label in (
        (r"\b(?:children|kids|young readers|primary school)\b", 5.0, "children (grade 5)"),
        (r"\b(?:teen(?:ager)?s?|middle school)\b", 7.0, "teenagers (grade 7)"),
        (
            r"\b(?:general (?:audience|public|readers?)|plain (?:language|english)|everyone|customers?|public)\b",
            8.0,
            "a general audience (grade 8)",
        ),
        (r"\b(?:students?|high school)\b", 10.0, "high-school students (grade 10)"),
        (r"\b(?:experts?|specialists?|academic|scientists?|engineers?|developers?)\b", 14.0, "specialists (grade 14)"),
    ):
        if re.search(pattern, low):
            return value, label
    return None, ""


# ------------------------------------------------------------------------------------------------ output


def short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def render(r: Report, limit: int, target: float | None, target_label: str, detail: bool = True) -> list[str]:
    s = r.scores
    ns = len(r.sentences)
    ease = s["Flesch reading ease"]
    out = [
        f"## Readability of `{r.name}`",
        "",
        f"{r.words:,} words, {ns} sentence{'s' if ns != 1 else ''}, {r.syllables:,} syllables: "
        f"{r.words / ns:.1f} words per sentence, "
        f"{r.syllables / r.words:.2f} syllables per word; {100 * r.complex_words / r.words:.1f}% complex words "
        "(3+ syllables).",
        "",
        "| measure | score | meaning |",
        "|---|---|---|",
        f"| Flesch reading ease | {ease:.1f} | {band(ease)}; higher is easier, 60-70 is plain English |",
        f"| Flesch-Kincaid grade | {s['Flesch-Kincaid grade']:.1f} | US school grade |",
        f"| Gunning fog | {s['Gunning fog']:.1f} | years of schooling; 12+ is hard for a wide audience |",
        f"| SMOG | {s['SMOG']:.1f} | grade{' (meant for 30+ sentences; rough here)' if ns < 30 else ''} |",
        f"| Coleman-Liau | {s['Coleman-Liau']:.1f} | grade, from letters per word |",
        f"| ARI | {s['ARI']:.1f} | grade, from characters per word |",
        f"| **Consensus grade** | **{r.consensus:.1f}** | median of the five grade levels |",
    ]
    if ns < 3 or r.words < 50:
        out += ["", "Note: the text is very short; the scores are unreliable under about 100 words."]
    if target is not None:
        verdict = "meets" if r.consensus <= target + 0.5 else "is above"
        out += ["", f"Target {target_label}: the text {verdict} it (consensus grade {r.consensus:.1f})."]
    if not detail:
        return out
    long = [x for x in r.sentences if len(x.words) > limit]
    out += ["", f"### Long sentences (over {limit} words): {len(long)} of {ns}"]
    if long:
        share = 100 * sum(len(x.words) for x in long) / r.words
        out.append(f"They hold {share:.0f}% of the words. Longest first:")
        for x in sorted(long, key=lambda x: (-len(x.words), x.line))[:8]:
            out.append(f"- L{x.line} ({len(x.words)} words, grade {x.grade:.0f}): {short(x.text)}")
    if target is not None:
        hard = [x for x in r.sentences if x.grade > target + 2 and len(x.words) >= 8 and len(x.words) <= limit]
        if hard:
            out += ["", f"### Sentences well above the target (grade over {target + 2:g})"]
            for x in sorted(hard, key=lambda x: (-x.grade, x.line))[:6]:
                out.append(f"- L{x.line} (grade {x.grade:.0f}): {short(x.text)}")
    out += ["", f"### Passive voice: {len(r.passive)} sentence(s) ({100 * len(r.passive) / ns:.0f}%)"]
    for x, phrase in r.passive[:6]:
        out.append(f"- L{x.line}: “{phrase}” — {short(x.text, 110)}")
    if r.hard_words:
        words = [f"{w} ({c} syl.{f', {n} times' if n > 1 else ''})" for w, c, n in r.hard_words[:10]]
        out += ["", "### Longest words", ", ".join(words)]
    tips = []
    if long:
        tips.append(f"split the {len(long)} sentence(s) over {limit} words, or turn lists inside them into bullets")
    if r.complex_words / r.words > 0.12:
        tips.append("swap some 3+-syllable words for shorter ones (utilize → use, approximately → about)")
    if len(r.passive) / ns > 0.15:
        tips.append("rewrite some passive sentences with the actor first (“the team approved it”)")
    if r.words / ns > 20:
        tips.append(f"aim for 15-20 words per sentence on average (now {r.words / ns:.1f})")
    if tips:
        out += ["", "### To make it easier", *(f"- {t[0].upper()}{t[1:]}." for t in tips)]
    return out


def read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name the text or Markdown file to score.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a text file inside it.") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; give plain text, Markdown or reST (export documents to text first).")
    return data.decode("utf-8", errors="replace")


def main(argv: list[str]) -> int:
    request = sys.stdin.read() if sys.stdin and not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if not paths:
            raise Refusal("Name the text or Markdown file to score, e.g. `docs/intro.md`.")
        reports = [analyse(Path(p).name, read_text(p)) for p in paths]
    except Refusal as exc:
        print(exc)
        return 2
    limit = long_limit(request)
    target, label = target_grade(request)
    out: list[str] = []
    if len(reports) > 1:
        out += [
            "| file | words | sentences | reading ease | FK grade | fog | consensus grade |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sorted(reports, key=lambda r: r.consensus):
            s = r.scores
            out.append(
                f"| `{r.name}` | {r.words:,} | {len(r.sentences)} | {s['Flesch reading ease']:.1f} | "
                f"{s['Flesch-Kincaid grade']:.1f} | {s['Gunning fog']:.1f} | {r.consensus:.1f} |"
            )
        out += [
            "",
            f"Easiest: `{min(reports, key=lambda r: r.consensus).name}`; hardest: "
            f"`{max(reports, key=lambda r: r.consensus).name}`.",
            "",
        ]
    for k, r in enumerate(reports):
        if k:
            out.append("")
        out += render(r, limit, target, label, detail=len(reports) <= 3)
    text = "\n".join(out)
    text = fit(text, "score fewer files at a time")
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"readability-report failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
