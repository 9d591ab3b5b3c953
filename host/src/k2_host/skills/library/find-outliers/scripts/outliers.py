"""Outliers of a CSV column (or of a list of numbers) by the IQR rule, the z-score or the modified z-score (MAD).

Usage:
    python3 scripts/outliers.py sales.csv < request.txt
    echo "outliers in 12, 14, 13, 15, 98, 11" | python3 scripts/outliers.py

The request is free English: it may name the column (`amount`, "unit price"), the method ("IQR", "z-score",
"modified z" / "MAD" / "robust", or "all methods"), and a threshold ("k=3", "3 x IQR", "extreme", "z > 2.5",
"2 standard deviations", "3.5 for MAD"). Defaults: IQR with k = 1.5 (Tukey's fences), cross-checked by the other two.
With no column named, every numeric column is checked.

Exit 0 with a Markdown report; exit 2 with one sentence when there is nothing numeric to check.
"""

# The report prints typographic signs (multiplication, minus, en dash) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import csv
import io
import math
import re
import sys
from pathlib import Path

MISSING = {"", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "?", "#n/a", "missing"}
CURRENCY = "$€£¥₹₩₽"
MAX_ROWS_SHOWN = 40
ID_LIKE = re.compile(r"(?:^|_|\b)(?:id|code|status|zip|postcode|postal|phone|year|sku|ean|upc)(?:$|_|\b)", re.I)


class Refusal(Exception):
    """The request or the input cannot be handled; the message says what to do."""


# ------------------------------------------------------------------------------------------------ reading


def to_number(cell: str, decimal_comma: bool = False) -> float | None:
    t = cell.strip().replace("\u00a0", "").replace(" ", "")
    if not t:
        return None
    neg = t.startswith("(") and t.endswith(")")
    if neg:
        t = t[1:-1]
    t = t.strip(CURRENCY).rstrip("%")
    if t[:1] in "+-" and t[1:2] in CURRENCY:
        t = t[0] + t[2:]
    if decimal_comma and re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})*(,\d+)?|[-+]?\d+(,\d+)?", t):
        t = t.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", t):
        t = t.replace(",", "")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t):
        return None
    value = float(t)
    if math.isnan(value) or math.isinf(value):
        return None
    return -value if neg else value


def numbers_from_text(text: str) -> list[float]:
    """The longest run of numbers in the request ("12, 14, 13 and 98"), ignoring numbers inside words."""
    integer = r"(?:\d{1,3}(?:,\d{3})+|\d+)" if re.search(r"\d,\s", text) else r"\d+"
    pattern = re.compile(r"(?<![\w.])([-+]?(?:" + integer + r"(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\w])(?!\.\d)")
    runs: list[list[float]] = [[]]
    last_end = None
    for m in pattern.finditer(text):
        if last_end is not None and not re.fullmatch(r"[\s,;|/]*(?:and|&)?[\s,;|/]*", text[last_end : m.start()]):
            runs.append([])
        runs[-1].append(float(m.group(1).replace(",", "")))
        last_end = m.end()
    return max(runs, key=len)


def read_table(path: Path) -> tuple[list[str], list[list[str]], str]:
    raw = path.read_bytes()
    if b"\0" in raw[:4096]:
        raise Refusal(f"{path.name} is a binary file; give a CSV or TSV file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        delim = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        delim = "\t" if "\t" in text[:8192] else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
    if not rows:
        raise Refusal(f"{path.name} is empty.")
    first = rows[0]
    if any(c.strip() and to_number(c, delim == ";") is None for c in first):
        return [c.strip() or f"column{i + 1}" for i, c in enumerate(first)], rows[1:], delim
    return [f"column{i + 1}" for i in range(len(first))], rows, delim


def named_columns(request: str, header: list[str]) -> list[str]:
    """Headers the request names, in the order it names them: quoted names, else whole names in plain words, else
    a distinctive word of a name ("latency" for `latency_ms`)."""
    text = re.sub(r"\S+\.(?:csv|tsv|txt|dat|psv)\b", " ", request, flags=re.IGNORECASE).lower()
    lower = {h.lower(): h for h in header}
    found: list[tuple[int, str]] = []
    for m in re.finditer(r"`([^`]+)`|\"([^\"]+)\"|“([^”]+)”|(?<!\w)'([^']+)'(?!\w)", text):
        name = next(g for g in m.groups() if g is not None).strip()
        if name in lower:
            found.append((m.start(), lower[name]))
    if not found:
        for h in header:
            for v in (h.lower(), h.lower().replace("_", " "), h.lower().replace("-", " ")):
                m = re.search(r"(?<![\w])" + re.escape(v) + r"(?![\w])", text)
                if m:
                    found.append((m.start(), h))
                    break
    if not found:
        for h in header:
            for word in re.split(r"[\W_]+", h.lower()):
                if len(word) < 4 or sum(word in re.split(r"[\W_]+", o.lower()) for o in header) > 1:
                    continue
                m = re.search(r"(?<![\w])" + re.escape(word) + r"s?(?![\w])", text)
                if m:
                    found.append((m.start(), h))
                    break
    out: list[str] = []
    for _, h in sorted(found):
        if h not in out:
            out.append(h)
    return out


# ------------------------------------------------------------------------------------------------ methods


def quantile(s: list[float], p: float) -> float:
    """Linear interpolation between order statistics (numpy's default, Excel's PERCENTILE.INC)."""
    if len(s) == 1:
        return s[0]
    h = (len(s) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def median(xs: list[float]) -> float:
    return quantile(sorted(xs), 0.5)


class Settings:
    def __init__(self, request: str) -> None:
        r = request.lower()
        self.k = 1.5
        self.z = 3.0
        self.mz = 3.5
        wants_all = bool(re.search(r"\ball (?:three )?methods\b|\bevery method\b|\beach method\b", r))
        uses_mad = bool(re.search(r"modified z|\bmad\b|median absolute|robust|hampel", r))
        uses_z = bool(re.search(r"z[- ]?scores?|\bz\s*[<>=]|standard deviations?|\bsigma\b|\bstd\b|\bsd\b", r))
        if re.search(r"modified z", r):
            uses_z = bool(re.search(r"(?<!modified )z[- ]?score", r))
        uses_iqr = bool(re.search(r"\biqr\b|interquartile|tukey|box ?plot|fences?", r))
        if wants_all:
            self.methods = ["iqr", "z", "mad"]
        else:
            self.methods = [m for m, on in (("iqr", uses_iqr), ("z", uses_z), ("mad", uses_mad)) if on] or ["iqr"]
        if re.search(r"\bextreme|far out|severe", r):
            self.k = 3.0
        m = re.search(r"\bk\s*=?\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:x|×|\*|times)\s*(?:the\s+)?iqr", r)
        if m:
            self.k = float(m.group(1) or m.group(2))
        m = re.search(
            r"(?<!modified )\|?z\|?\s*(?:score)?\s*(?:>|>=|above|over|of|threshold)?\s*=?\s*(\d+(?:\.\d+)?)"
            r"|(\d+(?:\.\d+)?)\s*(?:standard deviations?|sigma|sd\b|std\b)",
            r,
        )
        if m:
            self.z = float(m.group(1) or m.group(2))
        m = re.search(r"(?:modified z|mad|robust)\D{0,20}?(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*for (?:the )?mad", r)
        if m:
            self.mz = float(m.group(1) or m.group(2))


def detect(xs: list[float], st: Settings) -> dict:
    s = sorted(xs)
    n = len(s)
    mean = math.fsum(s) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in s) / (n - 1)) if n > 1 else 0.0
    q1, q3 = quantile(s, 0.25), quantile(s, 0.75)
    iqr = q3 - q1
    med = quantile(s, 0.5)
    mad = median([abs(x - med) for x in s])
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "q1": q1,
        "q3": q3,
        "iqr": iqr,
        "lo": q1 - st.k * iqr,
        "hi": q3 + st.k * iqr,
        "median": med,
        "mad": mad,
    }


def zscore(x: float, d: dict) -> float | None:
    return (x - d["mean"]) / d["sd"] if d["sd"] > 0 else None


def modz(x: float, d: dict) -> float | None:
    return 0.6745 * (x - d["median"]) / d["mad"] if d["mad"] > 0 else None


def is_outlier(method: str, x: float, d: dict, st: Settings) -> bool:
    if method == "iqr":
        return d["iqr"] > 0 and (x < d["lo"] or x > d["hi"])
    if method == "z":
        z = zscore(x, d)
        return z is not None and abs(z) > st.z
    m = modz(x, d)
    return m is not None and abs(m) > st.mz


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "—"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1e9 or abs(x) < 1e-4:
        return f"{x:.6g}"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


METHOD_NAME = {
    "iqr": "IQR rule (Tukey's fences)",
    "z": "z-score",
    "mad": "modified z-score (median absolute deviation)",
}


def method_line(method: str, d: dict, st: Settings) -> str:
    if method == "iqr":
        return (
            f"IQR rule, k = {fmt(st.k)}: Q1 = {fmt(d['q1'])}, Q3 = {fmt(d['q3'])}, IQR = {fmt(d['iqr'])} "
            f"→ fences [{fmt(d['lo'])}, {fmt(d['hi'])}]."
        )
    if method == "z":
        return f"z-score, |z| > {fmt(st.z)}: mean = {fmt(d['mean'])}, sample std dev = {fmt(d['sd'])}."
    return (
        f"modified z-score, |M| > {fmt(st.mz)}: median = {fmt(d['median'])}, MAD = {fmt(d['mad'])} "
        "(M = 0.6745·(x − median)/MAD)."
    )


def report_column(
    title: str,
    items: list[tuple[int | None, float, list[str]]],
    label_names: list[str],
    missing: int,
    st: Settings,
) -> tuple[list[str], int]:
    xs = [v for _, v, _ in items]
    d = detect(xs, st)
    out = [f"## Outliers in {title}", ""]
    miss = f" ({missing} missing or not numeric, skipped)" if missing else ""
    out.append(f"{d['n']} numeric values{miss}.")
    for m in st.methods:
        out.append(f"- {method_line(m, d, st)}")
    if d["n"] < 4:
        out.append("")
        out.append("Fewer than 4 values: no method can tell an outlier from ordinary spread.")
        return out, 0
    flagged = [(ln, v, labels) for ln, v, labels in items if any(is_outlier(m, v, d, st) for m in st.methods)]
    out.append("")
    if "z" in st.methods and d["n"] > 1:
        zmax = (d["n"] - 1) / math.sqrt(d["n"])
        if zmax <= st.z:
            out.append(
                f"Note: with {d['n']} values no |z| can exceed {fmt(zmax, 2)}, so the z-score test cannot fire; "
                "the IQR or modified z-score is the one to trust here."
            )
            out.append("")
    if d["iqr"] == 0 and "iqr" in st.methods:
        out.append("The IQR is 0 (at least half the values are equal), so the IQR rule flags nothing.")
        out.append("")
    if not flagged:
        out.append("**No outliers** by " + ", ".join(METHOD_NAME[m] for m in st.methods) + ".")
    else:
        high = sum(1 for _, v, _ in flagged if v > d["median"])
        out.append(f"**{len(flagged)} outlier(s)** ({high} high, {len(flagged) - high} low):")
        out.append("")
        head = ["line"] if flagged[0][0] is not None else []
        head += [*label_names, "value", "side", "z-score", "modified z", "flagged by"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        ordered = sorted(flagged, key=lambda t: -abs(t[1] - d["median"]))
        for ln, v, labels in ordered[:MAX_ROWS_SHOWN]:
            by = ", ".join(m for m in st.methods if is_outlier(m, v, d, st))
            cells = [str(ln)] if ln is not None else []
            cells += [c[:30] for c in labels]
            cells += [fmt(v), "high" if v > d["median"] else "low", fmt(zscore(v, d), 2), fmt(modz(v, d), 2), by]
            out.append("| " + " | ".join(cells) + " |")
        if len(flagged) > MAX_ROWS_SHOWN:
            out.append(f"(… {len(flagged) - MAX_ROWS_SHOWN} more not shown)")
        rest = [v for _, v, _ in items if not any(is_outlier(m, v, d, st) for m in st.methods)]
        if len(rest) > 1:
            mean2 = math.fsum(rest) / len(rest)
            sd2 = math.sqrt(math.fsum((x - mean2) ** 2 for x in rest) / (len(rest) - 1))
            out.append("")
            out.append(
                f"Without them: mean {fmt(d['mean'])} → {fmt(mean2)}, std dev {fmt(d['sd'])} → {fmt(sd2)} "
                f"(median stays near {fmt(median(rest))})."
            )
    others = [m for m in ("iqr", "z", "mad") if m not in st.methods]
    if others and d["n"] >= 4:
        cross = []
        for m in others:
            count = sum(1 for x in xs if is_outlier(m, x, d, st))
            limit = {"iqr": f"k = {fmt(st.k)}", "z": f"|z| > {fmt(st.z)}", "mad": f"|M| > {fmt(st.mz)}"}[m]
            cross.append(f"{METHOD_NAME[m]} ({limit}) flags {count}")
        out.append("")
        out.append("Cross-check: " + "; ".join(cross) + ".")
    out.append("")
    out.append(
        "An outlier is a value to look at, not an error by itself: check it against the source before dropping it."
    )
    return out, len(flagged)


def label_columns(header: list[str], numeric: set[str], target: str) -> list[int]:
    """The first column (an id, usually) and up to two text columns, to say which row each outlier is."""
    picks: list[int] = []
    if header and header[0] != target:
        picks.append(0)
    for i, h in enumerate(header):
        if len(picks) >= 3:
            break
        if i not in picks and h != target and h not in numeric:
            picks.append(i)
    return picks


def check_file(path: Path, request: str, st: Settings) -> list[str]:
    header, body, delim = read_table(path)
    if not body:
        raise Refusal(f"{path.name} has a header but no data rows.")
    parsed: dict[str, list[tuple[int, float | None]]] = {}
    for j, h in enumerate(header):
        parsed[h] = [(i, to_number(r[j] if j < len(r) else "", delim == ";")) for i, r in enumerate(body)]
    numeric = {h for h, vals in parsed.items() if sum(v is not None for _, v in vals) >= max(1, len(vals) / 2)}
    named = named_columns(request, header)
    if named:
        bad = [c for c in named if not any(v is not None for _, v in parsed[c])]
        if bad:
            raise Refusal(
                f"Column {bad[0]!r} in {path.name} holds no numbers; numeric columns: {', '.join(sorted(numeric))}."
            )
        targets = named
        skipped = []
    else:
        targets = [h for h in header if h in numeric and not ID_LIKE.search(h)]
        skipped = [h for h in header if h in numeric and ID_LIKE.search(h)]
        if not targets:
            raise Refusal(f"{path.name} has no numeric measure column; name one of: {', '.join(header)}.")
    out: list[str] = []
    summary: list[tuple[str, int]] = []
    for col in targets:
        picks = label_columns(header, numeric, col)
        items = [
            (i + 2, v, [(body[i][j] if j < len(body[i]) else "").strip() for j in picks])
            for i, v in parsed[col]
            if v is not None
        ]
        missing = sum(1 for _, v in parsed[col] if v is None)
        if not items:
            continue
        lines, count = report_column(f"`{col}` ({path.name})", items, [header[j] for j in picks], missing, st)
        out += [*lines, ""]
        summary.append((col, count))
    if len(targets) > 1:
        head = ["## Summary", "", "| column | outliers |", "|---|---|"]
        head += [f"| {c} | {n} |" for c, n in summary]
        if skipped:
            head += ["", f"Skipped as identifiers or codes (name one to check it): {', '.join(skipped)}."]
        out = [*head, "", *out]
    return out


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    st = Settings(request)
    try:
        lines: list[str] = []
        if sys.argv[1:]:
            for arg in sys.argv[1:]:
                p = Path(arg)
                if not p.is_file():
                    raise Refusal(f"{arg} is not a readable file; name an existing CSV file.")
                lines += check_file(p, request, st)
        else:
            xs = numbers_from_text(request)
            if len(xs) < 2:
                raise Refusal(
                    "Name a CSV file and column (e.g. 'outliers in amount of sales.csv') or list the numbers."
                )
            lines, _ = report_column(f"{len(xs)} numbers", [(None, x, []) for x in xs], [], 0, st)
    except Refusal as exc:
        print(exc)
        return 2
    except (OSError, csv.Error) as exc:
        print(f"Could not read the input: {exc}.")
        return 2
    text = "\n".join(lines).rstrip() + "\n"
    if len(text) > 15000:
        text = text[:14800] + "\n\n(output cut at 15 KB)\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
