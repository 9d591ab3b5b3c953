"""Extract facts from text: dates, times, money amounts, percentages, emails, URLs and phone numbers.

Usage:
    python3 facts.py invoice.txt [more.md ...] < request.txt
    python3 facts.py < text.txt          (no path: the text after the request on stdin is read)

Each fact is listed once with how it was written, a normalized form (ISO 8601 dates, 24-hour times,
currency code + amount, E.164-style phone digits, lower-case email), the lines it is on and a short context.
The request narrows the kinds ("only the emails and phone numbers", "dates and amounts"), reads numeric dates
day first when it says so ("dd/mm", "European dates"; otherwise month first, as in the US), and "as JSON"
adds a JSON block. Exit 2 when there is no text to read.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUT = 15_000
MAX_ROWS = 60  # per kind

KINDS = ("dates", "times", "amounts", "percentages", "emails", "urls", "phones")
LABELS = {
    "dates": "Dates",
    "times": "Times",
    "amounts": "Money amounts",
    "percentages": "Percentages",
    "emails": "Email addresses",
    "urls": "URLs",
    "phones": "Phone numbers",
}
SINGULAR = {
    "dates": "date",
    "times": "time",
    "amounts": "money amount",
    "percentages": "percentage",
    "emails": "email address",
    "urls": "URL",
    "phones": "phone number",
}
PLURAL = {k: v if k == "urls" else v.lower() for k, v in LABELS.items()}
ASKED = {
    "dates": r"dates?|deadlines?|when|days?|calendar",
    "times": r"times?|hours?|o'?clock|schedule",
    "amounts": r"amounts?|money|prices?|costs?|totals?|fees?|dollars?|euros?|payments?|currenc(?:y|ies)|budget|figures",
    "percentages": r"percent(?:ages?)?|%|rates?",
    "emails": r"e-?mails?|e-?mail addresses|mail addresses",
    "urls": r"urls?|links?|websites?|web ?addresses|sites?|domains?",
    "phones": r"phones?(?: numbers?)?|telephones?|numbers to call|mobiles?|cell|fax|contact numbers?",
}

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = r"(?:(?:mon|tue(?:s)?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_ORD = r"(?:st|nd|rd|th)?"
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
CURRENCY_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "usd": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "gbp": "GBP",
    "yen": "JPY",
    "jpy": "JPY",
    "chf": "CHF",
    "francs": "CHF",
    "cad": "CAD",
    "aud": "AUD",
    "inr": "INR",
    "rupees": "INR",
    "sek": "SEK",
    "nok": "NOK",
    "dkk": "DKK",
    "pln": "PLN",
    "cny": "CNY",
}
_CODES = r"(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|SEK|NOK|DKK|PLN|CNY)"
_SCALE = r"(?:\s?(?:k|K|m|M|bn|BN|million|billion|thousand|mn))?"
_NUMBER = r"\d{1,3}(?:[,\u00a0 ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


@dataclass
class Fact:
    kind: str
    text: str
    normal: str
    lines: list[int] = field(default_factory=list)
    context: str = ""
    note: str = ""
    source: str = ""


# ------------------------------------------------------------------------------------------------ patterns

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}(?![\w-])")
OBFUSCATED_EMAIL = re.compile(
    r"(?<![\w.])([A-Za-z0-9][\w.+-]*)\s*[\[(]\s*at\s*[\])]\s*([A-Za-z0-9-]+(?:\s*[\[(]\s*dot\s*[\])]\s*[A-Za-z0-9-]+)+)",
    re.IGNORECASE,
)
URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
ISO_DATE = re.compile(
    r"(?<![\d/.-])(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?(?![\d-])"
)
NUMERIC_DATE = re.compile(r"(?<![\d/.:-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|[.:]\d)")
YMD_SLASH = re.compile(r"(?<![\d/])(\d{4})/(\d{1,2})/(\d{1,2})(?![\d/])")
MDY = re.compile(rf"(?i)\b{_WEEKDAY}({_MON})\.?\s+(\d{{1,2}}){_ORD}(?:,?\s+(\d{{4}}))?\b")
DMY = re.compile(rf"(?i)\b{_WEEKDAY}(\d{{1,2}}){_ORD}\s+(?:of\s+)?({_MON})\.?,?(?:\s+(\d{{4}}))?\b")
MONTH_YEAR = re.compile(rf"(?i)\b({_MON})\.?\s+(\d{{4}})\b")
QUARTER = re.compile(r"\b(Q[1-4])\s?(\d{4}|'\d{2})\b|\b(H[12])\s(\d{4})\b")
_ZONE = r"(?:\s?(UTC|GMT|CET|CEST|EET|EST|EDT|CST|CDT|MST|MDT|PST|PDT|PT|ET|CT|BST|IST|JST|Z)\b)?"
TIME = re.compile(
    r"(?i:(?<![\d:.])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s?(a\.?m\.?|p\.?m\.?)(?!\w))"
    + _ZONE.replace("(UTC", "(?P<z1>UTC")
    + r"|(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])"
    + _ZONE
)
AMOUNT = re.compile(
    rf"(?:(?P<sym>US\$|[$€£¥₹])\s?(?P<n1>{_NUMBER})(?P<s1>{_SCALE})\b"
    rf"|(?P<code>{_CODES})\s?(?P<n2>{_NUMBER})(?P<s2>{_SCALE})\b"
    rf"|(?P<n3>{_NUMBER})(?P<s3>{_SCALE})\s?(?P<word>{_CODES}|(?i:dollars?|euros?|pounds(?: sterling)?|yen|"
    rf"francs|rupees))\b"
    rf"|(?P<n4>{_NUMBER})\s?(?P<sym4>[€£¥₹]))"
)
PERCENT = re.compile(r"(?<![\w.])([-+]?\d+(?:[.,]\d+)?)\s?(%|percent\b|per cent\b|pct\b)", re.IGNORECASE)
PHONE = re.compile(
    r"(?<![\w+/.-])(?:(?:\+|00)\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{1,4}){1,5}(?![\w/-])"
    r"|(?<![\w+/.-])\(\d{3}\)\s?\d{3}[\s.-]?\d{4}(?![\w/-])"
    r"|(?<![\w/.-])\+\d{7,14}(?![\w/-])"
)
_NANP = re.compile(r"(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}")
_TRUNK = re.compile(r"0\d{1,4}[\s.-]?\d{2,4}(?:[\s.-]\d{2,4}){1,3}")
PHONE_HINT = re.compile(r"(?i)\b(?:tel|phone|call|mobile|cell|fax|ph|whatsapp|hotline|dial|contact)\b|☎|📞")


# ------------------------------------------------------------------------------------------------ normalizing


def _year(text: str) -> int:
    y = int(text.lstrip("'"))
    return y + 2000 if y < 70 else (y + 1900 if y < 100 else y)


def _month(name: str) -> int:
    return MONTHS[name[:3].lower()]


def _valid(y: int | None, m: int, d: int) -> bool:
    if not 1 <= m <= 12 or d < 1:
        return False
    days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    if m == 2 and y is not None and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        days = 28
    return d <= days


def _iso(y: int | None, m: int, d: int) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}" if y is not None else f"--{m:02d}-{d:02d} (no year)"


def money(number: str, scale: str) -> str:
    value = float(re.sub(r"[,\u00a0 ]", "", number)) * SCALES.get(scale.strip().lower(), 1.0)
    if "." in number and not scale.strip():
        return f"{value:,.2f}"
    return f"{value:,.0f}" if value == round(value) else f"{value:,.2f}"


def phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+"):
        return "+" + digits
    if text.strip().startswith("00"):
        return "+" + digits[2:]
    return digits


# ------------------------------------------------------------------------------------------------ extraction


class Extractor:
    def __init__(self, day_first: bool) -> None:
        self.day_first = day_first
        self.facts: dict[tuple[str, str], Fact] = {}
        self.bare_dollar = False
        self.date_rule = ""

    def add(self, kind: str, text: str, normal: str, line: int, context: str, note: str = "", source: str = "") -> None:
        key = (kind, normal)
        fact = self.facts.get(key)
        if fact is None:
            fact = self.facts[key] = Fact(kind, text.strip(), normal, context=context, note=note, source=source)
        if line not in fact.lines:
            fact.lines.append(line)

    def scan(self, text: str, source: str = "") -> None:
        for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
            self.scan_line(raw, number, source)

    def scan_line(self, raw: str, number: int, source: str) -> None:
        line = raw
        taken: list[tuple[int, int]] = []

        def free(a: int, b: int) -> bool:
            return all(b <= x or a >= y for x, y in taken)

        def context(a: int, b: int) -> str:
            start, end = max(0, a - 40), min(len(raw), b + 40)
            snippet = ("…" if start else "") + raw[start:end].strip() + ("…" if end < len(raw) else "")
            return re.sub(r"\s+", " ", snippet).replace("|", "\\|")

        def take(kind: str, m_start: int, m_end: int, normal: str, note: str = "") -> None:
            taken.append((m_start, m_end))
            self.add(kind, raw[m_start:m_end], normal, number, context(m_start, m_end), note, source)

        for m in URL.finditer(line):
            url = m.group(0).rstrip(".,;:!?")
            while url.endswith(")") and url.count(")") > url.count("("):
                url = url[:-1]
            while url.endswith("]") and url.count("]") > url.count("["):
                url = url[:-1]
            end = m.start() + len(url)
            full = url if "://" in url else "https://" + url
            take("urls", m.start(), end, full)
        for m in EMAIL.finditer(line):
            if free(m.start(), m.end()):
                take("emails", m.start(), m.end(), m.group(0).lower())
            else:  # mailto: inside a URL still yields the address
                if line[max(0, m.start() - 7) : m.start()].lower().endswith("mailto:"):
                    self.add("emails", m.group(0), m.group(0).lower(), number, context(m.start(), m.end()), "", source)
        for m in OBFUSCATED_EMAIL.finditer(line):
            if free(m.start(), m.end()):
                domain = re.sub(r"\s*[\[(]\s*dot\s*[\])]\s*", ".", m.group(2), flags=re.I)
                take("emails", m.start(), m.end(), f"{m.group(1)}@{domain}".lower(), "written obfuscated")
        self.dates(line, free, take)
        for m in AMOUNT.finditer(line):
            if not free(m.start(), m.end()):
                continue
            g = m.groupdict()
            if g["sym"]:
                code, num, scale = CURRENCY_SYMBOLS[g["sym"]], g["n1"], g["s1"] or ""
            elif g["code"]:
                code, num, scale = g["code"].upper(), g["n2"], g["s2"] or ""
            elif g["word"]:
                code, num, scale = CURRENCY_WORDS[g["word"].split()[0].lower()], g["n3"], g["s3"] or ""
            else:
                code, num, scale = CURRENCY_SYMBOLS[g["sym4"]], g["n4"], ""
            if g["sym"] == "$":
                self.bare_dollar = True
            take("amounts", m.start(), m.end(), f"{code} {money(num, scale)}")
        for m in PERCENT.finditer(line):
            if free(m.start(), m.end()):
                take("percentages", m.start(), m.end(), f"{m.group(1).replace(',', '.')}%")
        for m in TIME.finditer(line):
            if not free(m.start(), m.end()):
                continue
            if m.group(4):
                hour, minute = int(m.group(1)), int(m.group(2) or 0)
                if not 1 <= hour <= 12 or minute > 59:
                    continue
                pm = m.group(4).lower().startswith("p")
                hour = (hour % 12) + (12 if pm else 0)
                zone = f" {m.group('z1')}" if m.group("z1") else ""
                take("times", m.start(), m.end(), f"{hour:02d}:{minute:02d}{zone}")
            else:
                if line[max(0, m.start() - 1) : m.start()].isdigit():
                    continue
                zone = f" {m.group(9)}" if m.group(9) else ""
                seconds = f":{m.group(8)}" if m.group(8) else ""
                take("times", m.start(), m.end(), f"{int(m.group(6)):02d}:{m.group(7)}{seconds}{zone}")
        for m in PHONE.finditer(line):
            text = m.group(0).strip()
            if not free(m.start(), m.end()):
                continue
            digits = re.sub(r"\D", "", text)
            if not 7 <= len(digits) <= 15:
                continue
            has_plus = text.startswith(("+", "00"))
            grouped = bool(re.search(r"[\s.()-]", text))
            hint = PHONE_HINT.search(line[max(0, m.start() - 40) : m.start()]) is not None
            usual = _NANP.fullmatch(text) or _TRUNK.fullmatch(text)
            if not (has_plus or (hint and grouped) or usual):
                continue  # a run of digits (an order, account or ISBN number) is not called a phone number
            take("phones", m.start(), m.end(), phone_digits(text))

    def dates(self, line: str, free, take) -> None:  # free/take: the closures of scan_line
        for m in ISO_DATE.finditer(line):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if not _valid(y, mo, d):
                continue
            normal = _iso(y, mo, d)
            if m.group(4):
                normal += f"T{m.group(4)}:{m.group(5)}" + (f":{m.group(6)}" if m.group(6) else "") + (m.group(7) or "")
            take("dates", m.start(), m.end(), normal)
        for m in YMD_SLASH.finditer(line):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if free(m.start(), m.end()) and _valid(y, mo, d):
                take("dates", m.start(), m.end(), _iso(y, mo, d))
        for m in NUMERIC_DATE.finditer(line):
            if not free(m.start(), m.end()):
                continue
            if re.search(r"(?i)\b(?:version|release|v|build|ver)\.?\s*$", line[max(0, m.start() - 12) : m.start()]):
                continue  # v2.10.2024 is a version, not a date
            a, b, y = int(m.group(1)), int(m.group(3)), _year(m.group(4))
            if m.group(2) == "." and len(m.group(4)) == 2:
                continue  # 1.2.24 is more likely a version number
            d, mo = (a, b) if self.day_first else (b, a)
            note = ""
            if not _valid(y, mo, d) and _valid(y, d, mo):
                mo, d = d, mo
                note = "only valid " + ("month first" if self.day_first else "day first")
            if _valid(y, mo, d):
                take("dates", m.start(), m.end(), _iso(y, mo, d), note)
        for pattern, order in ((MDY, "md"), (DMY, "dm")):
            for m in pattern.finditer(line):
                if not free(m.start(), m.end()):
                    continue
                if order == "md":
                    mo, d = _month(m.group(1)), int(m.group(2))
                else:
                    d, mo = int(m.group(1)), _month(m.group(2))
                y = int(m.group(3)) if m.group(3) else None
                word = m.group(1) if order == "md" else m.group(2)
                if word.lower() == "may" and order == "md" and y is None and d > 31:
                    continue
                if (
                    word.lower() in ("mar", "may", "jun", "jul", "aug")
                    and order == "md"
                    and not m.group(3)
                    and (not word[0].isupper())
                ):
                    continue  # "may 3" in lower case is more likely the verb; "May 3" is a date
                if _valid(y, mo, d):
                    take("dates", m.start(), m.end(), _iso(y, mo, d))
        for m in MONTH_YEAR.finditer(line):
            if free(m.start(), m.end()) and m.group(1)[0].isupper():
                take("dates", m.start(), m.end(), f"{int(m.group(2)):04d}-{_month(m.group(1)):02d}")
        for m in QUARTER.finditer(line):
            if free(m.start(), m.end()):
                part = m.group(1) or m.group(3)
                year = _year(m.group(2) or m.group(4))
                take("dates", m.start(), m.end(), f"{year} {part}")


# ------------------------------------------------------------------------------------------------ request


def wanted_kinds(request: str) -> list[str]:
    low = request.lower()
    low = re.sub(r"https?://\S+|\S+@\S+|`[^`]*`", " ", low)
    picked = [k for k in KINDS if re.search(rf"(?<![\w-])(?:{ASKED[k]})(?![\w-])", low)]
    if re.search(r"\b(?:all|every|everything|any) (?:facts?|kinds?|details?)\b|\bfacts\b", low) and len(picked) <= 1:
        return list(KINDS)
    if re.search(r"\bcontact(?:s| details| info(?:rmation)?)\b", low):
        picked = sorted(set(picked) | {"emails", "phones", "urls"}, key=KINDS.index)
    return picked or list(KINDS)


_DAY_FIRST = re.compile(r"(?i)\bdd[/.-]mm\b|\bday[- ]first\b|\beuropean\b|\bbritish\b|\buk dates?\b|\bday/month\b")
_MONTH_FIRST = re.compile(r"(?i)\bmm[/.-]dd\b|\bmonth[- ]first\b|\bus dates?\b|\bamerican\b|\bmonth/day\b")


def date_order(request: str, texts: list[str]) -> tuple[bool, str]:
    """(day first?, why) for numeric dates: the request says so, else the text does, else its dates show it."""
    if _DAY_FIRST.search(request):
        return True, "day first, as the request asks"
    if _MONTH_FIRST.search(request):
        return False, "month first, as the request asks"
    joined = "\n".join(texts)
    if _DAY_FIRST.search(joined) and not _MONTH_FIRST.search(joined):
        return True, "day first, as the text says its dates are written"
    if _MONTH_FIRST.search(joined) and not _DAY_FIRST.search(joined):
        return False, "month first, as the text says its dates are written"
    firsts = [(int(m.group(1)), int(m.group(3))) for m in NUMERIC_DATE.finditer(joined)]
    if any(a > 12 >= b for a, b in firsts) and not any(b > 12 >= a for a, b in firsts):
        return True, "day first, since the text has dates such as 25/03 that can only be day first"
    if any(b > 12 >= a for a, b in firsts) and not any(a > 12 >= b for a, b in firsts):
        return False, "month first, since the text has dates such as 03/25 that can only be month first"
    if any(a <= 12 and b <= 12 and a != b for a, b in firsts):
        return False, "month first (US style); say 'day first' or 'dd/mm' to read them the other way"
    return False, ""


# ------------------------------------------------------------------------------------------------ output


def json_lines(facts: list[Fact], kinds: list[str], several: bool) -> list[str]:
    """The facts as a JSON object of lists, one fact per line."""
    out = ["{"]
    for i, kind in enumerate(kinds):
        out.append(f'  "{kind}": [')
        rows = [f for f in facts if f.kind == kind]
        for j, f in enumerate(rows):
            item = {"text": f.text, "normalized": f.normal, "lines": f.lines}
            if several:
                item["file"] = f.source
            if f.note:
                item["note"] = f.note
            out.append("    " + json.dumps(item, ensure_ascii=False) + ("," if j < len(rows) - 1 else ""))
        out.append("  ]" + ("," if i < len(kinds) - 1 else ""))
    out.append("}")
    return out


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def render(ex: Extractor, kinds: list[str], names: list[str], as_json: bool) -> str:
    facts = [f for f in ex.facts.values() if f.kind in kinds]
    several = len(names) > 1
    counts = {k: sum(1 for f in facts if f.kind == k) for k in kinds}
    source = ", ".join(f"`{n}`" for n in names) if names else "the pasted text"
    found = ", ".join(f"{counts[k]} {SINGULAR[k] if counts[k] == 1 else PLURAL[k]}" for k in kinds if counts[k])
    out = [f"**Facts in {source}**: " + (found if found else "none of the kinds asked for") + "."]
    missing = [PLURAL[k] for k in kinds if not counts[k]]
    if found and missing and len(kinds) < len(KINDS):
        out.append(f"No {', no '.join(missing)} found.")
    for kind in kinds:
        rows = [f for f in facts if f.kind == kind]
        if not rows:
            continue
        out += ["", f"## {LABELS[kind]} ({len(rows)})", ""]
        head = "| as written | normalized | line(s) | context |"
        if several:
            head = "| as written | normalized | file | line(s) | context |"
        out += [head, "|" + "---|" * head.count(" | ") + "---|"]
        for f in rows[:MAX_ROWS]:
            normal = f.normal + (f" ({f.note})" if f.note else "")
            lines = ", ".join(str(n) for n in f.lines[:8]) + (" …" if len(f.lines) > 8 else "")
            cells = [f"`{f.text}`", normal] + ([f.source] if several else []) + [lines, f.context]
            out.append(
                "| "
                + " | ".join(c.replace("|", "\\|") if i != len(cells) - 1 else c for i, c in enumerate(cells))
                + " |"
            )
        if len(rows) > MAX_ROWS:
            out.append(f"(and {len(rows) - MAX_ROWS} more)")
        if kind == "amounts" and ex.bare_dollar:
            out += ["", "A bare `$` is read as US dollars; it may be another dollar (CAD, AUD...)."]
        if kind == "dates" and ex.date_rule:
            out += ["", f"Numeric dates such as 03/04/2024 were read {ex.date_rule}."]
    if as_json and facts:
        out += ["", "```json", *json_lines(facts, [k for k in kinds if counts[k]], several), "```"]
    text = "\n".join(out)
    text = fit(text, "ask for fewer kinds, e.g. 'only the emails'")
    return text


def read_file(path: str) -> str:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name the text file to read facts from.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a text file inside it.") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; give a text, Markdown, CSV or email file.")
    return data.decode("utf-8", errors="replace")


def split_request(stdin: str) -> tuple[str, str]:
    """(request, text) when the text comes after the request on stdin (after its first line or colon)."""
    fence = re.search(r"```[^\n]*\n(.*?)```", stdin, re.DOTALL)
    if fence:
        return stdin[: fence.start()], fence.group(1)
    head, sep, rest = stdin.partition("\n")
    if sep and rest.strip() and len(head) < 300:
        return head, rest
    colon = re.match(r"(.{0,200}?):\s+(.+)", stdin, re.S)
    if colon:
        return colon.group(1), colon.group(2)
    return stdin, stdin


def main(argv: list[str]) -> int:
    stdin = sys.stdin.read() if sys.stdin and not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if paths:
            request = stdin
            texts = [(Path(p).name, read_file(p)) for p in paths]
        else:
            request, body = split_request(stdin)
            if not body.strip():
                raise Refusal(
                    "Name the file to read (e.g. `invoice.txt`) or paste the text after the request, "
                    "e.g. 'list the dates in: ...'."
                )
            texts = [("", body)]
        first, rule = date_order(request, [t for _, t in texts])
        ex = Extractor(first)
        ex.date_rule = rule
        for name, text in texts:
            ex.scan(text, name)
        kinds = wanted_kinds(request)
        names = [n for n, _ in texts if n]
        print(render(ex, kinds, names, bool(re.search(r"(?i)\bjson\b", request))))
    except Refusal as exc:
        print(exc)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"extract-facts failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
