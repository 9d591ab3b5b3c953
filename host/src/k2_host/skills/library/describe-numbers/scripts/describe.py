"""Descriptive statistics of a list of numbers or of the numeric columns of a CSV/TSV file.

Usage:
    python3 scripts/describe.py data.csv < request.txt      # the column named in the request, else every numeric one
    echo "describe 3, 5, 8, 13, 21" | python3 scripts/describe.py   # numbers listed in the request itself

The request is free English. It may name a column (`price`, "unit price", or a plain word that is a header) and
extra percentiles ("p97", "99.9th percentile"). Values such as "$1,234.50", "12%", "(42)" and "1.234,5" (with a
semicolon delimiter) are read as numbers; empty cells, NA, N/A, null, none, NaN and "-" count as missing.

Exit 0 with a Markdown report; exit 2 with one sentence when there is nothing numeric to describe.
"""

# The report prints typographic signs (multiplication, minus, en dash) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections import Counter
from pathlib import Path

MISSING = {"", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "?", "#n/a", "missing"}
CURRENCY = "$€£¥₹₩₽"
MAX_SHOWN_BAD = 5


class Refusal(Exception):
    """The request or the input cannot be handled; the message says what to do."""


# ------------------------------------------------------------------------------------------------ reading numbers


def to_number(cell: str, decimal_comma: bool = False) -> float | None:
    """The number in a cell, or None when it is not one."""
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
    return -value if neg else value


def numbers_from_text(text: str) -> list[float]:
    """The longest run of numbers in free text (a list like "3, 5.5, -2 and 1e3"), ignoring numbers inside words.

    "1,234" is one thousand two hundred thirty-four when the list is separated by ", " (comma and space), and two
    numbers when commas separate the list without spaces ("1,234,5").
    """
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
    """Header and rows of a delimited text file; the delimiter found."""
    raw = path.read_bytes()
    if b"\0" in raw[:4096]:
        raise Refusal(f"{path.name} is a binary file; give a CSV/TSV or a text file of numbers.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    sample = text[:8192]
    try:
        delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delim = "\t" if "\t" in sample else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
    if not rows:
        raise Refusal(f"{path.name} is empty; give a file with at least one number.")
    comma = delim == ";"
    first = rows[0]
    has_header = any(c.strip() and to_number(c, comma) is None for c in first)
    if has_header:
        header = [c.strip() or f"column{i + 1}" for i, c in enumerate(first)]
        body = rows[1:]
    else:
        header = [f"column{i + 1}" for i in range(len(first))]
        body = rows
    return header, body, delim


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


def column_values(header: list[str], body: list[list[str]], col: str, delim: str):
    idx = header.index(col)
    values: list[float] = []
    bad: list[tuple[int, str]] = []
    missing = 0
    for line_no, row in enumerate(body, start=2):
        cell = row[idx] if idx < len(row) else ""
        v = to_number(cell, delim == ";")
        if v is None or math.isnan(v) or math.isinf(v):
            if cell.strip().lower() in MISSING:
                missing += 1
            else:
                bad.append((line_no, cell.strip()))
        else:
            values.append(v)
    return values, missing, bad


# ------------------------------------------------------------------------------------------------ statistics


def quantile(sorted_xs: list[float], p: float) -> float:
    """Linear interpolation between order statistics (numpy's default, Excel's PERCENTILE.INC)."""
    n = len(sorted_xs)
    if n == 1:
        return sorted_xs[0]
    h = (n - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


def stats(xs: list[float]) -> dict[str, float | None]:
    s = sorted(xs)
    n = len(s)
    mean = math.fsum(s) / n
    m2 = math.fsum((x - mean) ** 2 for x in s)
    var_s = m2 / (n - 1) if n > 1 else None
    var_p = m2 / n
    sd_s = math.sqrt(var_s) if var_s is not None else None
    sd_p = math.sqrt(var_p)
    skew = kurt = None
    if n > 2 and sd_p > 0:
        g1 = math.fsum((x - mean) ** 3 for x in s) / n / sd_p**3
        skew = g1 * math.sqrt(n * (n - 1)) / (n - 2)
    if n > 3 and sd_p > 0:
        g2 = math.fsum((x - mean) ** 4 for x in s) / n / var_p**2 - 3
        kurt = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6)
    q1, med, q3 = quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
    return {
        "n": n,
        "sum": math.fsum(s),
        "mean": mean,
        "median": med,
        "min": s[0],
        "max": s[-1],
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "var_s": var_s,
        "sd_s": sd_s,
        "sd_p": sd_p,
        "skew": skew,
        "kurt": kurt,
        "sem": sd_s / math.sqrt(n) if sd_s is not None else None,
        "cv": (sd_s / abs(mean)) if sd_s is not None and mean != 0 else None,
        "geo": math.exp(math.fsum(math.log(x) for x in s) / n) if s[0] > 0 else None,
        "harm": n / math.fsum(1 / x for x in s) if s[0] > 0 else None,
    }


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1e9 or abs(x) < 1e-4:
        return f"{x:.6g}"
    return f"{x:.4f}".rstrip("0").rstrip(".")


def short(x: float) -> str:
    return str(int(x)) if x == int(x) and abs(x) < 1e6 else f"{x:.4g}"


def requested_percentiles(request: str) -> list[float]:
    out = set()
    for m in re.finditer(r"(?<![\w.])p(\d{1,2}(?:\.\d+)?)(?![\w])", request, re.IGNORECASE):
        out.add(float(m.group(1)))
    for m in re.finditer(r"(\d{1,2}(?:\.\d+)?)(?:st|nd|rd|th)?[\s-]*percentile", request, re.IGNORECASE):
        out.add(float(m.group(1)))
    return sorted(p for p in out if 0 < p < 100)


def histogram(xs: list[float], bins: int = 8) -> list[str]:
    lo, hi = min(xs), max(xs)
    if lo == hi:
        return [f"{fmt(lo)} | {'█' * 20} {len(xs)}"]
    width = (hi - lo) / bins
    counts = [0] * bins
    for x in xs:
        counts[min(int((x - lo) / width), bins - 1)] += 1
    top = max(counts)
    labels = [f"{short(lo + i * width)} – {short(lo + (i + 1) * width)}" for i in range(bins)]
    pad = max(len(lab) for lab in labels)
    return [f"{lab:>{pad}} | {'█' * round(20 * c / top):<20} {c}" for lab, c in zip(labels, counts, strict=True)]


def shape_sentence(st: dict) -> str:
    skew = st["skew"]
    if skew is None:
        return "Too few values to judge the shape."
    if abs(skew) < 0.5:
        shape = "roughly symmetric"
    elif skew > 0:
        shape = (
            "right-skewed (a tail of large values)"
            if skew < 1
            else "strongly right-skewed (a long tail of large values)"
        )
    else:
        shape = (
            "left-skewed (a tail of small values)"
            if skew > -1
            else "strongly left-skewed (a long tail of small values)"
        )
    gap = st["mean"] - st["median"]
    rel = f"the mean is {'above' if gap > 0 else 'below'} the median by {fmt(abs(gap))}" if gap else "mean = median"
    return f"Distribution: {shape}; {rel}."


def full_report(title: str, xs: list[float], missing: int, bad: list[tuple[int, str]], request: str) -> list[str]:
    st = stats(xs)
    s = sorted(xs)
    counts = Counter(xs)
    top = max(counts.values())
    if top == 1:
        mode = "none (every value is distinct)"
    else:
        modes = sorted(v for v, c in counts.items() if c == top)
        extra = f" (+{len(modes) - 5} more)" if len(modes) > 5 else ""
        mode = (
            f"{', '.join(fmt(v) for v in modes[:5])}{extra} — {top}× each"
            if len(modes) > 1
            else f"{fmt(modes[0])} ({top}×)"
        )
    rows = [
        ("count", str(st["n"])),
    ]
    if missing or bad:
        shown = ", ".join(f'line {ln}: "{c[:20]}"' for ln, c in bad[:MAX_SHOWN_BAD])
        more = f" (+{len(bad) - MAX_SHOWN_BAD} more)" if len(bad) > MAX_SHOWN_BAD else ""
        rows.append(("missing", str(missing)))
        if bad:
            rows.append(("not numeric (skipped)", f"{len(bad)} — {shown}{more}"))
    rows += [
        ("sum", fmt(st["sum"])),
        ("mean", fmt(st["mean"])),
        ("median", fmt(st["median"])),
        ("mode", mode),
        ("std dev (sample, n−1)", fmt(st["sd_s"])),
        ("std dev (population, n)", fmt(st["sd_p"])),
        ("variance (sample)", fmt(st["var_s"])),
        ("min", fmt(st["min"])),
        ("Q1 (25th percentile)", fmt(st["q1"])),
        ("Q3 (75th percentile)", fmt(st["q3"])),
        ("IQR", fmt(st["iqr"])),
        ("max", fmt(st["max"])),
        ("range", fmt(st["max"] - st["min"])),
    ]
    for p in sorted({5.0, 10.0, 90.0, 95.0, 99.0, *requested_percentiles(request)}):
        rows.append((f"p{fmt(p)}", fmt(quantile(s, p / 100))))
    rows += [
        ("skewness (sample)", fmt(st["skew"])),
        ("excess kurtosis (sample)", fmt(st["kurt"])),
        ("coefficient of variation", f"{st['cv'] * 100:.1f}%" if st["cv"] is not None else "—"),
        ("standard error of the mean", fmt(st["sem"])),
    ]
    if st["geo"] is not None:
        rows.append(("geometric mean", fmt(st["geo"])))
        rows.append(("harmonic mean", fmt(st["harm"])))
    out = [f"## {title}", "", "| statistic | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    out.append("")
    out.append(shape_sentence(st))
    lo_f, hi_f = st["q1"] - 1.5 * st["iqr"], st["q3"] + 1.5 * st["iqr"]
    beyond = [x for x in s if x < lo_f or x > hi_f]
    if beyond and st["iqr"] > 0:
        shown = ", ".join(fmt(x) for x in beyond[:8]) + (" …" if len(beyond) > 8 else "")
        out.append(
            f"{len(beyond)} value(s) lie outside the Tukey fences [{fmt(lo_f)}, {fmt(hi_f)}]: {shown} "
            "(the find-outliers skill lists them with their rows)."
        )
    if len(s) >= 5:
        out += ["", "```", *histogram(s), "```"]
    out.append("")
    out.append(
        "Percentiles use linear interpolation between order statistics (numpy's default, Excel's PERCENTILE.INC); "
        "skewness and kurtosis are the bias-adjusted sample estimates (Excel's SKEW and KURT)."
    )
    return out


def compact_report(title: str, columns: dict[str, tuple[list[float], int, list]]) -> list[str]:
    out = [
        f"## {title}",
        "",
        "| column | count | missing | mean | std dev | min | Q1 | median | Q3 | max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (xs, missing, bad) in columns.items():
        st = stats(xs)
        miss = str(missing + len(bad))
        out.append(
            f"| {name} | {st['n']} | {miss} | {fmt(st['mean'])} | {fmt(st['sd_s'])} | {fmt(st['min'])} | "
            f"{fmt(st['q1'])} | {fmt(st['median'])} | {fmt(st['q3'])} | {fmt(st['max'])} |"
        )
    out += ["", "Std dev is the sample one (n−1). Name one column for the full set (mode, percentiles, skew, shape)."]
    return out


def describe_file(path: Path, request: str) -> list[str]:
    header, body, delim = read_table(path)
    if not body:
        raise Refusal(f"{path.name} has a header but no data rows.")
    named = named_columns(request, header)
    per_col = {c: column_values(header, body, c, delim) for c in header}
    numeric = {c: v for c, v in per_col.items() if len(v[0]) > 0 and len(v[0]) >= len(v[2])}
    if named:
        out: list[str] = []
        for col in named:
            xs, missing, bad = per_col[col]
            if not xs:
                raise Refusal(f"Column {col!r} in {path.name} holds no numbers; numeric columns: {', '.join(numeric)}.")
            out += full_report(f"`{col}` in {path.name}", xs, missing, bad, request)
            out.append("")
        return out
    if not numeric:
        raise Refusal(f"{path.name} has no numeric column; its columns are: {', '.join(header)}.")
    if len(numeric) == 1:
        col = next(iter(numeric))
        xs, missing, bad = numeric[col]
        return full_report(f"`{col}` in {path.name}", xs, missing, bad, request)
    skipped = [c for c in header if c not in numeric]
    out = compact_report(f"Numeric columns of {path.name} ({len(body)} rows)", numeric)
    if skipped:
        out.append(f"Not numeric (skipped): {', '.join(skipped)}.")
    return out


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    paths = [Path(a) for a in sys.argv[1:]]
    try:
        lines: list[str] = []
        if paths:
            for p in paths:
                if not p.is_file():
                    raise Refusal(f"{p} is not a readable file; name an existing CSV or text file.")
                lines += describe_file(p, request)
                lines.append("")
        else:
            xs = numbers_from_text(request)
            if len(xs) < 1:
                raise Refusal("Give the numbers (e.g. 'describe 3, 5, 8, 13') or name a CSV file and column.")
            lines = full_report(f"{len(xs)} numbers", xs, 0, [], request)
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
