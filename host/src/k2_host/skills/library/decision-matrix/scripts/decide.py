"""Weighted decision matrix: score options against criteria, rank them, and test how robust the winner is.

Usage:
    python3 decide.py < request.txt

The request holds the matrix in one of these shapes:
  * a Markdown table - first column the options, a header row of criteria, optionally a row named "weight";
    weights may also sit in the header ("Price (40%)", "Battery [2]", "Speed w=3");
  * "option: score, score, ..." lines with a "criteria: price, battery, speed" line and a "weights: 3, 2, 1"
    line (or weights inline: "criteria: price 3 lower, battery 2"), or named scores "A: price 7, speed 8";
  * CSV/TSV lines with a header row.
Criteria marked "lower", "(lower is better)", "(min)", "(cost)" or listed after "lower is better:" count
in reverse. Scores may be numbers ($1,200, 8 GB, 45%), yes/no, low/medium/high, poor..excellent, or stars.
Without weights every criterion weighs the same. Exit 2 (one sentence) when no matrix can be read.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


WORD_SCORES = {
    "yes": 1, "y": 1, "true": 1, "no": 0, "n": 0, "false": 0, "none": 0,
    "very low": 1, "low": 2, "medium": 3, "mid": 3, "moderate": 3, "average": 3, "high": 4, "very high": 5,
    "terrible": 1, "very poor": 1, "poor": 2, "bad": 2, "weak": 2, "fair": 3, "ok": 3, "okay": 3, "decent": 3,
    "good": 4, "strong": 4, "very good": 4.5, "great": 5, "excellent": 5, "outstanding": 5,
}  # fmt: skip
CHECKS = {"\u2713": 1, "\u2714": 1, "\u2705": 1, "\u2717": 0, "\u2718": 0, "\u274c": 0, "x": 0}
LOWER_MARK = re.compile(
    r"\(\s*(?:lower|less|min|minimi[sz]e|cost|smaller)(?:\s+is\s+better)?\s*\)|\blower(?:\s+is\s+better)?\b"
    r"|\bless is better\b|\bminimi[sz]e\b|\u2193|\(-\)",
    re.I,
)
HIGHER_MARK = re.compile(
    r"\(\s*(?:higher|more|max|maximi[sz]e)(?:\s+is\s+better)?\s*\)|\bhigher(?:\s+is\s+better)?\b|\u2191|\(\+\)", re.I
)
WEIGHT_MARK = re.compile(
    r"\(\s*(?:w(?:eight)?\s*[=:]?\s*)?(?P<a>\d+(?:\.\d+)?)\s*(?P<pa>%)?\s*\)"
    r"|\[\s*(?P<b>\d+(?:\.\d+)?)\s*(?P<pb>%)?\s*\]"
    r"|\b(?:w(?:eight)?|x|\u00d7)\s*[=:]?\s*(?P<c>\d+(?:\.\d+)?)\s*(?P<pc>%)?"
    r"|(?<![\w.])(?P<d>\d+(?:\.\d+)?)\s*(?P<pd>%)(?![\w])",
    re.I,
)
COST_WORDS = re.compile(
    r"\b(?:cost|costs|price|prices|pricing|fee|fees|rent|risk|risks|effort|latency|complexity|downtime|debt"
    r"|commute|distance|delay|tco|expense|expenses|lead time|time to market|bugs|errors|noise)\b",
    re.I,
)
SPECIAL_KEYS = re.compile(
    r"^(?:criteria|criterion|columns?|factors?|attributes?|dimensions?|weights?|importance|priorit(?:y|ies)"
    r"|lower(?: is better)?|higher(?: is better)?|minimi[sz]e|maximi[sz]e|less is better|more is better|options?"
    r"|note|notes|goal|context|question|scale)$",
    re.I,
)


@dataclass
class Criterion:
    name: str
    weight: float | None = None
    lower: bool | None = None  # None: not said
    weight_pct: bool = False


@dataclass
class Matrix:
    criteria: list[Criterion] = field(default_factory=list)
    options: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading cells


def score_of(cell: str) -> float | None:
    c = cell.strip().strip("*_`")
    if not c or c in ("-", "\u2014", "?", "n/a", "N/A", "na", "NA"):
        return None
    low = c.lower()
    if low in WORD_SCORES:
        return float(WORD_SCORES[low])
    if c in CHECKS:
        return float(CHECKS[c])
    stars = c.count("\u2605") + c.count("\u2b50") + 0.5 * c.count("\u00bd")
    if stars:
        return stars
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+", c.replace("\u2212", "-"))
    if not m:
        return None
    raw = m.group(0)
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        raw = raw.replace(",", "")
    elif "," in raw:  # 7,5 (decimal comma)
        raw = raw.replace(",", ".", 1).replace(",", "")
    try:
        v = float(raw)
    except ValueError:
        return None
    suffix = c[m.end() :].strip().lower()
    if suffix[:1] == "k" and (len(suffix) == 1 or not suffix[1:2].isalpha()):
        v *= 1000
    elif suffix[:1] == "m" and (len(suffix) == 1 or not suffix[1:2].isalpha()):
        v *= 1_000_000  # $1.2m; "8/10" keeps 8 (the scale is read from all the values)
    return v


def split_name(raw: str) -> Criterion:
    """'Price (40%) lower' -> Criterion('Price', 40, lower=True)."""
    text = raw.strip().strip("*_`")
    lower: bool | None = None
    if LOWER_MARK.search(text):
        lower = True
        text = LOWER_MARK.sub(" ", text)
    elif HIGHER_MARK.search(text):
        lower = False
        text = HIGHER_MARK.sub(" ", text)
    weight = None
    pct = False
    m = WEIGHT_MARK.search(text)
    if m:
        val = next(v for v in (m.group("a"), m.group("b"), m.group("c"), m.group("d")) if v is not None)
        weight = float(val)
        pct = bool(m.group("pa") or m.group("pb") or m.group("pc") or m.group("pd"))
        text = text[: m.start()] + " " + text[m.end() :]
    else:
        m2 = re.search(r"\s(\d+(?:\.\d+)?)\s*$", text)  # "price 3"
        if m2 and not re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", text):
            weight = float(m2.group(1))
            text = text[: m2.start()]
    name = re.sub(r"\s+", " ", text).strip(" :-,;")
    return Criterion(name or raw.strip(), weight, lower, pct)


def split_list(rest: str) -> list[str]:
    rest = rest.strip().rstrip(".")
    if "|" in rest:
        parts = rest.split("|")
    elif ";" in rest:
        parts = rest.split(";")
    elif "," in rest and not re.fullmatch(r"[\d\s,.]+", rest):
        parts = re.split(r",(?!\d{3}\b)", rest)
    elif "," in rest:
        parts = re.split(r",\s+|,(?!\d{3}\b)", rest)
    elif "\t" in rest:
        parts = rest.split("\t")
    else:
        parts = rest.split()
    parts = [re.sub(r"^\s*and\s+", "", p).strip() for p in parts]
    return [p for p in parts if p]


# --------------------------------------------------------------------------- reading the matrix


def parse_pipe_table(lines: list[str]) -> Matrix | None:
    rows = [ln.strip() for ln in lines if ln.count("|") >= 2]
    rows = [r for r in rows if not re.fullmatch(r"\|?[\s:|-]+\|?", r)]
    if len(rows) < 2:
        return None
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    header = cells[0]
    mx = Matrix()
    mx.criteria = [split_name(h) for h in header[1:]]
    for row in cells[1:]:
        if not row or not row[0]:
            continue
        first = row[0].strip("*_` ").lower()
        vals = row[1 : 1 + len(mx.criteria)]
        if re.fullmatch(r"weights?|importance|w|priority|weighting", first):
            for crit, v in zip(mx.criteria, vals, strict=False):
                s = score_of(v)
                if s is not None:
                    crit.weight, crit.weight_pct = s, "%" in v
            continue
        if re.fullmatch(r"(?:direction|better|goal|higher/lower)", first):
            for crit, v in zip(mx.criteria, vals, strict=False):
                if re.search(r"low|min|less|\u2193", v, re.I):
                    crit.lower = True
                elif re.search(r"high|max|more|\u2191", v, re.I):
                    crit.lower = False
            continue
        mx.options.append((row[0].strip("*_` "), vals + [""] * (len(mx.criteria) - len(vals))))
    return mx


def parse_lines(lines: list[str]) -> Matrix | None:
    mx = Matrix()
    weights: list[tuple[str | None, float, bool]] = []
    lower_names: list[str] = []
    higher_names: list[str] = []
    crit_line: list[Criterion] | None = None
    options: list[tuple[str, str]] = []
    for ln in lines:
        m = re.match(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?P<key>[^:=]{1,80}?)\s*[:=]\s*(?P<rest>.+?)\s*$", ln)
        if not m:
            continue
        key, rest = m.group("key").strip().strip("*_`"), m.group("rest")
        low = key.lower()
        if re.fullmatch(r"criteria|criterion|columns?|factors?|attributes?|dimensions?", low):
            crit_line = [split_name(p) for p in split_list(rest)]
        elif re.fullmatch(r"weights?|importance|priorit(?:y|ies)|weighting", low):
            for p in split_list(rest):
                mm = re.match(r"^(?P<n>[A-Za-z][\w /&.-]*?)\s*(?:[=:]|\s)\s*(?P<v>\d+(?:\.\d+)?)\s*(?P<pct>%)?$", p)
                if mm:
                    weights.append((mm.group("n").strip(), float(mm.group("v")), bool(mm.group("pct"))))
                else:
                    v = score_of(p)
                    if v is not None:
                        weights.append((None, v, "%" in p))
        elif re.fullmatch(r"lower(?: is better)?|minimi[sz]e|less is better|cost criteria", low):
            lower_names += [p.lower() for p in split_list(rest)]
        elif re.fullmatch(r"higher(?: is better)?|maximi[sz]e|more is better", low):
            higher_names += [p.lower() for p in split_list(rest)]
        elif SPECIAL_KEYS.fullmatch(low) or len(key.split()) > 6:
            continue
        else:
            options.append((key, rest))
    if not options:
        return None
    named_scores = all(
        re.search(r"[A-Za-z]\w*\s*[=:]?\s*[-$\d.]", r) and not re.fullmatch(r"[\d\s,.$%-]+", r) for _, r in options
    )
    if crit_line is None and named_scores:
        crit_names: list[str] = []
        parsed: list[tuple[str, dict[str, str]]] = []
        for name, rest in options:
            got: dict[str, str] = {}
            for p in split_list(rest):
                mm = re.match(r"^(?P<c>[A-Za-z][\w /&.-]*?)\s*[=:]?\s*(?P<v>[-$\u2212]?[\d.,]+\s*\S*)$", p)
                if not mm:
                    continue
                cname = mm.group("c").strip()
                got[cname.lower()] = mm.group("v")
                if cname.lower() not in (c.lower() for c in crit_names):
                    crit_names.append(cname)
            parsed.append((name, got))
        mx.criteria = [Criterion(c) for c in crit_names]
        for name, got in parsed:
            mx.options.append((name, [got.get(c.lower(), "") for c in crit_names]))
    else:
        vals_list = [(name, split_list(rest)) for name, rest in options]
        width = max(len(v) for _, v in vals_list)
        mx.criteria = crit_line or [Criterion(f"C{i + 1}") for i in range(width)]
        if crit_line is None:
            mx.notes.append("no criteria names given; columns are named C1, C2, ... (add a 'criteria:' line)")
        for name, vals in vals_list:
            if len(vals) > len(mx.criteria):
                raise Refusal(
                    f"'{name}' has {len(vals)} scores but there are {len(mx.criteria)} criteria; "
                    "give one score per criterion."
                )
            mx.options.append((name, vals + [""] * (len(mx.criteria) - len(vals))))
    _apply_weights(mx, weights)
    for c in mx.criteria:
        if c.name.lower() in lower_names:
            c.lower = True
        if c.name.lower() in higher_names:
            c.lower = False
    return mx


def _apply_weights(mx: Matrix, weights: list[tuple[str | None, float, bool]]) -> None:
    if not weights:
        return
    if all(n is not None for n, _, _ in weights):
        by = {str(n).lower(): (v, p) for n, v, p in weights}
        for c in mx.criteria:
            if c.name.lower() in by:
                c.weight, c.weight_pct = by[c.name.lower()]
        missing = [n for n, _, _ in weights if str(n).lower() not in {c.name.lower() for c in mx.criteria}]
        if missing:
            names = ", ".join(c.name for c in mx.criteria)
            raise Refusal(f"The weight for '{missing[0]}' names no criterion; the criteria are {names}.")
        return
    if len(weights) != len(mx.criteria):
        raise Refusal(
            f"{len(weights)} weights for {len(mx.criteria)} criteria; give one weight per criterion, in order."
        )
    for c, (_, v, pct) in zip(mx.criteria, weights, strict=True):
        c.weight, c.weight_pct = v, pct


def parse_csv(lines: list[str]) -> Matrix | None:
    rows = [ln for ln in lines if ln.count(",") >= 1 or "\t" in ln]
    if len(rows) < 2:
        return None
    sep = "\t" if all("\t" in r for r in rows) else ";" if all(";" in r for r in rows) else ","
    cells = [[c.strip() for c in r.split(sep)] for r in rows]
    if len({len(r) for r in cells}) != 1 or len(cells[0]) < 2:
        return None
    mx = Matrix()
    mx.criteria = [split_name(h) for h in cells[0][1:]]
    for row in cells[1:]:
        if re.fullmatch(r"weights?|importance", row[0], re.I):
            for c, v in zip(mx.criteria, row[1:], strict=True):
                s = score_of(v)
                if s is not None:
                    c.weight, c.weight_pct = s, "%" in v
            continue
        mx.options.append((row[0], row[1:]))
    return mx


SCORE_START = re.compile(
    r"(?:[-$\u20ac\u00a3\u2212]?\d"
    r"|\b(?:yes|no|low|medium|high|very high|very low|poor|fair|good|great|excellent|bad|ok)\b)",
    re.I,
)
MULTIPLIERS = {"double": 2.0, "twice": 2.0, "triple": 3.0, "three times": 3.0, "half": 0.5, "half as much": 0.5}


def parse_prose(text: str) -> Matrix | None:
    """Free text: 'Lisbon: cost 6, weather 9. Berlin: ...', 'A vs B vs C with scores: speed 9/8/5', weights in words."""
    segs = [
        s.strip()
        for s in re.split(r"\n|;\s*|(?<=[^\d\s.])\.\s+|(?<=\d)\.\s+(?=[A-Z])|\?\s+|\s+-\s+", text)
        if s and s.strip()
    ]
    crit_names: list[str] = []
    weights: list[float] = []
    pct_pairs: list[tuple[str, float]] = []
    multipliers: dict[str, float] = {}
    lower_names: list[str] = []
    options: list[tuple[str, list[str]]] = []
    vs_options: list[str] = []
    transposed: list[tuple[str, list[str]]] = []
    for seg in segs:
        low = seg.lower()
        m = re.search(r"\bcriteria\s*(?:are|:|=)?\s*(.+)$", seg, re.I)
        if m:
            crit_names = [split_name(p).name for p in split_list(m.group(1))]
            for p in split_list(m.group(1)):
                if split_name(p).lower:
                    lower_names.append(split_name(p).name.lower())
        m = re.search(r"\bweights?\s*(?:are|:|=|of)?\s*((?:\d+(?:\.\d+)?%?\s*[/,: ]\s*)+\d+(?:\.\d+)?%?)", seg, re.I)
        if m:
            weights = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m.group(1))]
        pairs = re.findall(r"([A-Za-z][A-Za-z ]{0,30}?)\s+(\d+(?:\.\d+)?)\s*%", seg)
        if len(pairs) >= 2:
            pct_pairs = [
                (re.sub(r"^.*\b(?:with|and|on|by|for|using|criteria|weights?)\s+", "", n.strip(), flags=re.I), float(v))
                for n, v in pairs
            ]
        for word, mult in MULTIPLIERS.items():
            mm = re.search(rf"\b([A-Za-z][\w ]{{0,20}}?)\s+(?:counts?|matters?|weighs?|is worth)\s+{word}\b", seg, re.I)
            if mm:
                multipliers[mm.group(1).strip().lower()] = mult
        vs = re.search(r"([A-Za-z][\w.+#-]*(?:\s+(?:vs\.?|versus)\s+[A-Za-z][\w.+#-]*)+)", seg, re.I)
        if vs:
            vs_options = re.split(r"\s+(?:vs\.?|versus)\s+", vs.group(1), flags=re.I)
        for name, vals in re.findall(r"([A-Za-z][A-Za-z ]{0,25}?)\s+(\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)+)", seg):
            transposed.append((name.strip(), [v.strip() for v in vals.split("/")]))
        if re.match(r"^(?:help|rank|score|compare|choose|pick|which|what|weighted|build|make|decide|should)\b", low):
            m = re.search(
                r"\b(?:on|by|using|across|against|based on|in terms of)\s+([a-z][\w ,]+?)(?:,?\s+weights?\b|[:.]|$)",
                seg,
                re.I,
            )
            if m and not crit_names:
                crit_names = [p for p in re.split(r"\s*,\s*|\s+and\s+", m.group(1).strip()) if p]
            if ":" not in seg:
                continue
            seg = seg.rsplit(":", 1)[1].strip()  # "help me choose ... weights 4/2/3: Acme $95k, 45 min, high"
        om = re.match(
            r"^(?:[-*]\s*)?(?P<name>[A-Z][\w.+# -]{0,40}?)\s*(?::\s*|\s+(?=" + SCORE_START.pattern + r"))(?P<rest>.+)$",
            seg,
        )
        if om and len(om.group("name").split()) <= 4 and SCORE_START.search(om.group("rest")):
            options.append((om.group("name").strip(), split_list(om.group("rest"))))
    mx = Matrix()
    if vs_options and transposed and all(len(v) == len(vs_options) for _, v in transposed):
        mx.criteria = [Criterion(n) for n, _ in transposed]
        mx.options = [(o, [v[i] for _, v in transposed]) for i, o in enumerate(vs_options)]
    elif len(options) >= 2:
        named = all(all(re.match(r"^[A-Za-z][\w ]*?\s+[-$\d]", v) for v in vals) for _, vals in options)
        if named:
            order: list[str] = []
            table: list[tuple[str, dict[str, str]]] = []
            for name, vals in options:
                got = {}
                for v in vals:
                    mm = re.match(r"^(?P<c>[A-Za-z][\w ]*?)\s+(?P<v>[-$\d].*)$", v)
                    if mm:
                        got[mm.group("c").lower()] = mm.group("v")
                        if mm.group("c").lower() not in (x.lower() for x in order):
                            order.append(mm.group("c"))
                table.append((name, got))
            mx.criteria = [Criterion(c) for c in order]
            mx.options = [(n, [g.get(c.lower(), "") for c in order]) for n, g in table]
        else:
            width = max(len(v) for _, v in options)
            names = (
                crit_names if len(crit_names) == width else [n for n, _ in pct_pairs] if len(pct_pairs) == width else []
            )
            mx.criteria = [Criterion(n) for n in names] or [Criterion(f"C{i + 1}") for i in range(width)]
            if not names:
                mx.notes.append("no criteria names found; columns are named C1, C2, ... (add a 'criteria:' line)")
            mx.options = [(n, v + [""] * (width - len(v))) for n, v in options]
    else:
        return None
    if pct_pairs and {n.lower() for n, _ in pct_pairs} >= {c.name.lower() for c in mx.criteria}:
        by = {n.lower(): w for n, w in pct_pairs}
        for c in mx.criteria:
            c.weight, c.weight_pct = by[c.name.lower()], True
    elif len(pct_pairs) == len(mx.criteria):
        for c, (_, w) in zip(mx.criteria, pct_pairs, strict=True):
            c.weight, c.weight_pct = w, True
    elif len(weights) == len(mx.criteria):
        for c, w in zip(mx.criteria, weights, strict=True):
            c.weight = w
    if multipliers:
        for c in mx.criteria:
            c.weight = (c.weight if c.weight is not None else 1.0) * multipliers.get(c.name.lower(), 1.0)
    for c in mx.criteria:
        if c.name.lower() in lower_names:
            c.lower = True
    return mx


def read_matrix(text: str) -> Matrix:
    fences = re.findall(r"```[\w+-]*[ \t]*\n(.*?)```", text, re.S)
    body = "\n".join(fences) if fences else text
    lines = body.splitlines()
    mx = parse_pipe_table(lines)
    if mx is None or len(mx.options) < 2:
        mx = parse_lines(lines) or mx
    if mx is None or len(mx.options) < 2:
        mx = parse_csv(lines) or mx
    if (mx is None or len(mx.options) < 2) and not fences:
        mx = parse_prose(text) or mx
    if mx is None or not mx.options:
        raise Refusal(
            "No decision matrix found; give a Markdown table (options as rows, criteria as columns) or lines like "
            "'criteria: price, battery' and 'Laptop A: 7, 8'."
        )
    # prose around the matrix: "lower is better for price and risk", "weights: ..." already read
    prose = re.sub(r"\|.*\|", " ", text)
    for m in re.finditer(r"(?:lower|less) is better (?:for|on)\s+([^.\n]+)|minimi[sz]e\s+([^.\n]+)", prose, re.I):
        names = re.split(r",|\band\b", (m.group(1) or m.group(2)))
        for nm in names:
            for c in mx.criteria:
                if nm.strip().lower() == c.name.lower():
                    c.lower = True
    return mx


# --------------------------------------------------------------------------- scoring


def fmt(x: float, places: int = 2) -> str:
    s = f"{x:,.{places}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def build(mx: Matrix) -> tuple[list[list[float]], list[float], str, list[str]]:
    """The score table (options x criteria) on a common scale, normalized weights, a method line, notes."""
    notes = list(mx.notes)
    crits = mx.criteria
    raw: list[list[float | None]] = [[score_of(v) for v in vals] for _, vals in mx.options]
    for j, c in enumerate(crits):
        col = [r[j] for r in raw]
        if all(v is None for v in col):
            cells = ", ".join(repr(vals[j]) for _, vals in mx.options[:3])
            raise Refusal(
                f"No number or rating found for '{c.name}' ({cells}); give scores like 7, $1,200, high or yes."
            )
    for j, c in enumerate(crits):
        col = [r[j] for r in raw if r[j] is not None]
        lo, hi = min(col), max(col)
        rating_like = all(0 <= v <= 10 for v in col)
        if c.lower is None and COST_WORDS.search(c.name):
            if rating_like:
                notes.append(
                    f"'{c.name}' scores are read as ratings where higher is better; "
                    "mark it '(lower is better)' if a low score should win"
                )
            else:
                c.lower = True
                notes.append(
                    f"'{c.name}' looks like a cost, so lower counts as better (mark it '(higher is better)' if not)"
                )
        del lo, hi
    scales = []
    for j in range(len(crits)):
        col = [r[j] for r in raw if r[j] is not None]
        scales.append((min(col), max(col)))
    all_vals = [v for r in raw for v in r if v is not None]
    common = _common_scale(all_vals)
    mixed = max(hi for _, hi in scales) > 10 * max(1e-9, min(hi for _, hi in scales)) if scales else False
    use_raw = common is not None and not mixed
    table: list[list[float]] = []
    missing = 0
    for r in raw:
        row = []
        for j, c in enumerate(crits):
            v = r[j]
            lo, hi = scales[j]
            if v is None:
                missing += 1
                v = hi if c.lower else lo  # the worst value seen
            if use_raw:
                assert common is not None
                s = (common[0] + common[1] - v) if c.lower else v
            else:
                span = hi - lo
                s = 10.0 if span == 0 else 10 * ((hi - v) if c.lower else (v - lo)) / span
            row.append(s)
        table.append(row)
    if missing:
        notes.append(f"{missing} missing score(s) were given the worst value seen for that criterion")
    if use_raw:
        assert common is not None
        method = f"weighted average of the scores as given (scale {fmt(common[0])}-{fmt(common[1])})"
        if any(c.lower for c in crits):
            method += f"; lower-is-better scores reversed as {fmt(common[0] + common[1])} - score"
    else:
        method = (
            "each criterion rescaled to 0-10 (best option 10, worst 0"
            + ("; reversed where lower is better" if any(c.lower for c in crits) else "")
            + "), then the weighted average"
        )
    ws = [c.weight for c in crits]
    if all(w is None for w in ws):
        weights = [1.0] * len(crits)
        notes.append("no weights given: every criterion counts the same")
    else:
        if any(w is None for w in ws):
            missing_w = [c.name for c in crits if c.weight is None]
            raise Refusal(f"Give a weight for every criterion (missing: {', '.join(missing_w)}), or none at all.")
        weights = [float(w) for w in ws]  # type: ignore[arg-type]
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise Refusal("Weights must be zero or positive, and not all zero.")
    total = sum(weights)
    if any(c.weight_pct for c in crits) and abs(total - 100) > 0.5:
        notes.append(f"the percentage weights add up to {fmt(total, 1)}%, not 100%; they were scaled to 100%")
    return table, [w / total for w in weights], method, notes


def _common_scale(vals: list[float]) -> tuple[float, float] | None:
    if not vals or min(vals) < 0:
        return None
    top = max(vals)
    for hi in (1, 5, 10, 100):
        if top <= hi:
            lo = 1.0 if min(vals) >= 1 and hi > 1 else 0.0
            return lo, float(hi)
    return None


def totals(table: list[list[float]], weights: list[float]) -> list[float]:
    return [sum(s * w for s, w in zip(row, weights, strict=True)) for row in table]


def ranking(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal(
            "Give the options and criteria, e.g. a Markdown table or 'criteria: price, battery' and 'A: 7, 8'."
        )
    mx = read_matrix(text)
    if len(mx.options) < 2:
        raise Refusal("Give at least two options to compare.")
    if len(mx.criteria) > 30 or len(mx.options) > 200:
        raise Refusal("The matrix is too large (at most 200 options and 30 criteria).")
    table, weights, method, notes = build(mx)
    scores = totals(table, weights)
    order = ranking(scores)
    crits = mx.criteria
    out = [f"# Decision matrix: {len(mx.options)} options, {len(crits)} criteria", ""]
    out.append(f"Method: {method}; weights as shares of 100%.")
    out.append("")
    head = (
        ["Rank", "Option"]
        + [f"{c.name}{' ↓' if c.lower else ''} ({fmt(w * 100, 1)}%)" for c, w in zip(crits, weights, strict=True)]
        + ["Score"]
    )
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    rank = 0
    prev = None
    for pos, i in enumerate(order, 1):
        if prev is None or abs(scores[i] - prev) > 1e-9:
            rank = pos
        prev = scores[i]
        name, vals = mx.options[i]
        cells = []
        for j, v in enumerate(vals):
            shown = v.strip() or "-"
            if "rescaled" in method or (crits[j].lower and score_of(v) is not None):
                shown += f" → {fmt(table[i][j], 1)}"
            cells.append(shown)
        out.append("| " + " | ".join([str(rank), name, *cells, f"**{fmt(scores[i])}**"]) + " |")
    out.append("")
    best, second = order[0], order[1]
    gap = scores[best] - scores[second]
    if gap <= 1e-9:
        tied = [mx.options[i][0] for i in order if abs(scores[i] - scores[best]) <= 1e-9]
        out.append(f"**Tie: {' and '.join(tied)}** with {fmt(scores[best])} each.")
    else:
        rel = f" ({fmt(100 * gap / scores[second], 1)}%)" if scores[second] > 0 else ""
        out.append(
            f"**Winner: {mx.options[best][0]}** with {fmt(scores[best])}, ahead of {mx.options[second][0]} "
            f"({fmt(scores[second])}) by {fmt(gap)}{rel}."
        )
        strong = [crits[j].name for j in range(len(crits)) if table[best][j] >= max(r[j] for r in table) - 1e-9]
        if strong:
            out.append(f"- {mx.options[best][0]} is best (or joint best) on: {', '.join(strong)}.")
    # sensitivity: change one weight at a time
    out.append("")
    out.append("## Sensitivity (one weight changed at a time, the others keep their ratios)")
    flips = []
    for j, c in enumerate(crits):
        for factor, label in ((0.0, "dropped"), (0.5, "halved"), (2.0, "doubled")):
            w2 = list(weights)
            w2[j] *= factor
            if sum(w2) <= 0:
                continue
            w2 = [w / sum(w2) for w in w2]
            s2 = totals(table, w2)
            top = ranking(s2)[0]
            if top != best and s2[top] - s2[best] > 1e-9:
                flips.append(
                    f"- With {c.name} {label}, **{mx.options[top][0]}** would win ({fmt(s2[top])} vs {fmt(s2[best])})."
                )
    if flips:
        out += flips
    else:
        out.append(f"- {mx.options[best][0]} stays first when any single weight is dropped, halved or doubled.")
    if len(crits) > 1:
        points = tipping_points(table, weights, best)
        if points:
            txt = "; ".join(
                f"{crits[j].name} {fmt(w * 100, 1)}% → over {fmt(x * 100, 1)}% ({mx.options[i][0]})"
                for x, j, i, w in points[:4]
            )
            out.append(f"- Tipping points (weight share at which another option would win): {txt}.")
    if notes:
        out.append("")
        out += [f"Note: {n}." for n in dict.fromkeys(notes)]
    body = "\n".join(out)
    if len(body) > 15_000:
        body = body[:14_800] + "\n\n(output cut at 15 KB)"
    print(body)
    return 0


def tipping_points(table: list[list[float]], weights: list[float], best: int) -> list[tuple[float, int, int, float]]:
    """Per criterion: the weight share at which another option would overtake the winner (share, j, option, from)."""
    found = []
    for j in range(len(weights)):
        others = [k for k in range(len(weights)) if k != j]
        rest = sum(weights[k] for k in others)
        if rest <= 0:
            continue
        b_rest = sum(weights[k] / rest * table[best][k] for k in others)
        options = []
        for i in range(len(table)):
            if i == best or table[i][j] <= table[best][j]:
                continue
            # score_i(x) = x * t[i][j] + (1 - x) * rest_i; find x where it passes the winner
            i_rest = sum(weights[k] / rest * table[i][k] for k in others)
            denom = (table[i][j] - i_rest) - (table[best][j] - b_rest)
            if denom <= 0:
                continue
            x = (b_rest - i_rest) / denom
            if weights[j] < x < 1:
                options.append((x, i))
        if options:
            x, i = min(options)
            found.append((x, j, i, weights[j]))
    return sorted(found, key=lambda t: t[0] / max(t[3], 1e-9))


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"decide.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
