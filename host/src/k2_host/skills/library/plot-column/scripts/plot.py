"""Chart one or two columns of a CSV/TSV file as a PNG (matplotlib, Agg backend) and describe what it shows.

Usage:
    python3 scripts/plot.py sales.csv < request.txt

The request is free English and names the column(s) and, if it likes, the chart:
    "histogram of price"                   distribution of a numeric column (bins=N to choose the bins)
    "bar chart of revenue by region"       one bar per category: sum (or "average", "median", "max", "min", "count")
    "plot revenue over month"              a line over a date/time (or ordered) column, summed per x value
    "scatter price vs sqft"                y against x, with a least-squares trend line and Pearson's r
    "box plot of latency_ms"               five-number summary
    "plot region"                          a categorical column: bars of its value counts (top 25)
Optional: "titled 'Q3 revenue'", "log scale", "sorted by name", "save as chart.png".

The chart is saved as plot.png (or the name asked for) in the working directory and the figure is left open,
so a sandbox that returns open matplotlib figures sends it as an image. The text output says what was drawn and
summarises the plotted values. Without matplotlib a text chart is printed instead (and says so).

Exit 0 with a Markdown description; exit 2 with one sentence when the column is missing or not plottable.
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
from datetime import datetime
from pathlib import Path

CURRENCY = "$€£¥₹₩₽"
MAX_BARS = 25
MAX_ROWS_SHOWN = 25
AGGS = {"average": "mean", "avg": "mean", "mean": "mean", "median": "median", "max": "max", "maximum": "max"}
AGGS |= {"min": "min", "minimum": "min", "count": "count", "number of": "count", "total": "sum", "sum": "sum"}
TIME_WORDS = re.compile(r"(?:^|_|\b)(?:date|time|day|week|month|year|quarter|period|timestamp|ts|hour)(?:$|_|\b)", re.I)


class Refusal(Exception):
    """The request or the input cannot be handled; the message says what to do."""


# ------------------------------------------------------------------------------------------------ reading


def to_number(cell: str) -> float | None:
    t = cell.strip().replace("\u00a0", "").replace(" ", "")
    if not t:
        return None
    neg = t.startswith("(") and t.endswith(")")
    if neg:
        t = t[1:-1]
    t = t.strip(CURRENCY).rstrip("%")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", t):
        t = t.replace(",", "")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t):
        return None
    v = float(t)
    if math.isnan(v) or math.isinf(v):
        return None
    return -v if neg else v


DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d")


def to_date(cell: str) -> datetime | None:
    t = cell.strip()
    if not re.match(r"\d{4}[-/]\d{2}", t):
        return None
    t = re.sub(r"(\.\d+)?(Z|[+-]\d{2}:?\d{2})$", "", t)
    if re.fullmatch(r"\d{4}-\d{2}", t):
        t += "-01"
    for f in DATE_FORMATS:
        try:
            return datetime.strptime(t, f)  # naive on purpose: the file's own clock
        except ValueError:
            continue
    return None


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
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
    if len(rows) < 2:
        raise Refusal(f"{path.name} needs a header row and at least one data row.")
    header = [h.strip() or f"column{i + 1}" for i, h in enumerate(rows[0])]
    return header, rows[1:]


def named_columns(request: str, header: list[str]) -> list[str]:
    """Headers the request names, in the order it names them (quoted, whole names, then a distinctive word)."""
    text = re.sub(r"\S+\.(?:csv|tsv|txt|psv|png)\b", " ", request, flags=re.IGNORECASE).lower()
    lower = {h.lower(): h for h in header}
    found: list[tuple[int, str]] = []
    for m in re.finditer(r"`([^`]+)`|\"([^\"]+)\"|“([^”]+)”|(?<!\w)'([^']+)'(?!\w)", text):
        name = next(g for g in m.groups() if g is not None).strip()
        if name in lower:
            found.append((m.start(), lower[name]))
    if not found:
        for h in sorted(header, key=len, reverse=True):
            for v in (h.lower(), h.lower().replace("_", " "), h.lower().replace("-", " ")):
                m = re.search(r"(?<![\w])" + re.escape(v) + r"(?![\w])", text)
                if m and not any(s <= m.start() < s + len(x) for s, x in found):
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


class Column:
    def __init__(self, name: str, cells: list[str]) -> None:
        self.name = name
        self.cells = [c.strip() for c in cells]
        filled = [c for c in self.cells if c]
        self.numbers = [to_number(c) for c in self.cells]
        self.dates = [to_date(c) for c in self.cells]
        n_num = sum(v is not None for v in self.numbers)
        n_date = sum(v is not None for v in self.dates)
        self.is_date = bool(filled) and n_date >= 0.8 * len(filled)
        self.is_numeric = not self.is_date and bool(filled) and n_num >= 0.8 * len(filled)
        self.ordered_numeric = self.is_numeric and bool(TIME_WORDS.search(name))


# ------------------------------------------------------------------------------------------------ formatting


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10000 else str(int(x))
    if abs(x) >= 1e9 or abs(x) < 1e-4:
        return f"{x:.6g}"
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:.4g}"


def xlabel(v: object) -> str:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return fmt(v)
    return str(v)


def quantile(s: list[float], p: float) -> float:
    if len(s) == 1:
        return s[0]
    h = (len(s) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def aggregate(values: list[float], how: str) -> float:
    if how == "mean":
        return math.fsum(values) / len(values)
    if how == "median":
        return quantile(sorted(values), 0.5)
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    if how == "count":
        return float(len(values))
    return math.fsum(values)


def text_bars(labels: list[str], values: list[float]) -> list[str]:
    top = max((abs(v) for v in values), default=0) or 1
    pad = min(max((len(lab) for lab in labels), default=1), 24)
    return [
        f"{lab[:24]:>{pad}} | {'█' * round(30 * abs(v) / top):<30} {fmt(v)}"
        for lab, v in zip(labels, values, strict=True)
    ]


# ------------------------------------------------------------------------------------------------ the chart


class Chart:
    """What to draw, worked out from the request and the columns; `plan()` fills it in."""

    def __init__(self, request: str, header: list[str], body: list[list[str]], source: str) -> None:
        self.request = request
        self.low = request.lower()
        self.source = source
        self.columns = {h: Column(h, [(r[i] if i < len(r) else "") for r in body]) for i, h in enumerate(header)}
        self.header = header
        self.rows = len(body)
        self.kind = ""
        self.split: Column | None = None  # a line per value of this column
        self.note = ""
        self.x: Column | None = None
        self.ys: list[Column] = []
        self.how = "sum"
        for word, how in AGGS.items():
            if re.search(r"(?<![\w])" + word + r"(?![\w])", self.low):
                self.how = how
                break
        m = re.search(r"\bbins?\s*=?\s*(\d{1,3})\b|\b(\d{1,3})\s+bins\b", self.low)
        self.bins = int(m.group(1) or m.group(2)) if m else 0
        m = re.search(r"(?:titled|title[d:]?|call(?:ed)? it)\s*[\"'“`]([^\"'”`]{1,80})[\"'”`]", request, re.IGNORECASE)
        self.title = m.group(1) if m else ""
        m = re.search(r"([\w.-]+\.png)\b", request)
        self.out = m.group(1) if m and "/" not in m.group(1) else "plot.png"
        self.log = bool(re.search(r"\blog(?:arithmic)?[- ]?scale\b|\blog y\b", self.low))
        self.alpha = bool(re.search(r"alphabetical|sorted by (?:name|label|category)|a-z|a to z", self.low))

    def wanted_kind(self) -> str:
        low = self.low
        for kind, pattern in (
            ("hist", r"histogram|distribution|frequenc|spread of|bins?\b"),
            ("box", r"box ?plot|box-and-whisker|whisker|\bbox\b"),
            ("scatter", r"scatter|correlat|relationship|\bvs\.?\b|versus|against"),
            ("pie", r"\bpie\b|donut|doughnut|share of|proportion"),
            ("line", r"\bline\b|trend|over time|time ?series|timeline|\bover\b"),
            ("bar", r"\bbar|column chart|\bper\b|\bby\b|breakdown|\bcounts?\b|top \d+"),
        ):
            if re.search(pattern, low):
                return kind
        return ""

    def plan(self) -> None:
        named = [self.columns[n] for n in named_columns(self.request, self.header)]
        kind = self.wanted_kind()
        numeric = [c for c in self.columns.values() if c.is_numeric]
        dates = [c for c in self.columns.values() if c.is_date]
        if not named:
            self.note = (
                "No column was named, so the first suitable one is drawn; the columns are: "
                + ", ".join(f"`{h}`" for h in self.header)
                + ". Say e.g. 'histogram of price' or 'revenue by region' for another chart."
            )
            if kind in ("hist", "box") and numeric:
                named = [numeric[0]]
            elif dates and numeric:
                named = [numeric[0], dates[0]]
            elif numeric:
                named = [numeric[0]]
            else:
                raise Refusal(
                    f"Name the column to plot; {self.source} has: {', '.join(self.header)} "
                    "(e.g. 'histogram of price' or 'bar chart of revenue by region')."
                )
        if len(named) == 1:
            c = named[0]
            if c.is_numeric and kind not in ("bar", "pie", "line"):
                self.kind, self.ys = ("box" if kind == "box" else "hist"), [c]
            elif c.is_numeric and kind == "line":
                self.kind, self.ys = "line", [c]
                self.x = dates[0] if dates else None
            else:
                self.kind, self.x = ("pie" if kind == "pie" else "count"), c
            return
        # Two or more: the last named after by/over/per/vs is x, the others are y; else the first is y, the last x.
        x = self.pick_x(named)
        ys = [c for c in named if c is not x]
        if not any(y.is_numeric for y in ys) and x.is_numeric:
            ys, x = [x], ys[0]
        cats = [y for y in ys if not y.is_numeric and not y.is_date]
        ys = [y for y in ys if y.is_numeric] or ys
        if not all(y.is_numeric for y in ys):
            bad = next(y for y in ys if not y.is_numeric)
            raise Refusal(f"Column {bad.name!r} is not numeric, so it cannot be a plotted value; pick a numeric one.")
        self.ys, self.x = ys, x
        if kind == "scatter" or (x.is_numeric and not x.ordered_numeric and kind not in ("line", "bar", "pie")):
            self.kind = "scatter" if x.is_numeric else "bar"
            self.ys = ys[:1]
        elif kind == "pie":
            self.kind, self.ys = "pie", ys[:1]
        elif kind == "bar" and not (x.is_date and len(set(x.cells)) > MAX_BARS):
            self.kind = "bar"
        elif x.is_date or x.ordered_numeric or kind == "line":
            self.kind = "line"
            if cats and len(set(cats[0].cells)) <= 12:
                self.split, self.ys = cats[0], ys[:1]
        else:
            self.kind = "bar"
        if self.kind in ("bar", "pie") and len(self.ys) > 1:
            self.ys = self.ys[:1]
        if self.kind == "scatter" and not x.is_numeric:
            raise Refusal(f"A scatter plot needs two numeric columns; {x.name!r} is not numeric.")

    def pick_x(self, named: list[Column]) -> Column:
        """The x column: the one right after over/vs/against/across, else a date column, else the last named."""
        for c in named[1:]:
            for v in {c.name.lower(), c.name.lower().replace("_", " ")}:
                if re.search(
                    r"\b(?:over|vs\.?|versus|against|across|along)\s+(?:the\s+)?[`\"'“]?" + re.escape(v), self.low
                ):
                    return c
        for c in named[1:]:
            if c.is_date or c.ordered_numeric:
                return c
        return named[-1]

    # ------------------------------------------------------------------------------------------ data

    def grouped(self, y: Column, only: str | None = None) -> list[tuple[object, float]]:
        """(x, aggregated y) pairs for bar and line charts (`only`: the rows whose split column holds it)."""
        assert self.x is not None
        groups: dict[object, list[float]] = {}
        self.raw: dict[object, str] = getattr(self, "raw", {})
        for i in range(self.rows):
            if only is not None and self.split is not None and self.split.cells[i] != only:
                continue
            v = y.numbers[i]
            if v is None:
                continue
            if self.x.is_date:
                key: object = self.x.dates[i]
            elif self.x.is_numeric:
                key = self.x.numbers[i]
            else:
                key = self.x.cells[i] or "(empty)"
            if key is None:
                continue
            groups.setdefault(key, []).append(v)
            self.raw.setdefault(key, self.x.cells[i])
        pairs = [(k, aggregate(vs, self.how)) for k, vs in groups.items()]
        if self.kind == "line" or self.x.is_date or self.x.is_numeric:
            pairs.sort(key=lambda t: t[0])  # type: ignore[arg-type,return-value]
        elif self.alpha:
            pairs.sort(key=lambda t: str(t[0]).lower())
        else:
            pairs.sort(key=lambda t: -t[1])
        return pairs

    def agg_words(self) -> str:
        return {"sum": "total", "mean": "average", "median": "median", "max": "maximum", "min": "minimum"}.get(
            self.how, "count"
        )

    # ------------------------------------------------------------------------------------------ drawing

    def draw(self) -> list[str]:
        plt = None
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            plt = None
        out: list[str] = []
        text_chart: list[str] = []
        fig = ax = None
        if plt is not None:
            fig, ax = plt.subplots(figsize=(8, 4.8), dpi=100)
        kind = self.kind
        title = self.title
        if kind in ("hist", "box"):
            y = self.ys[0]
            xs = [v for v in y.numbers if v is not None]
            s = sorted(xs)
            q1, med, q3 = quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
            mean = math.fsum(s) / len(s)
            stats = [
                f"n = {len(s)} ({self.rows - len(s)} empty or not numeric)" if len(s) < self.rows else f"n = {len(s)}",
                f"min {fmt(s[0])}, Q1 {fmt(q1)}, median {fmt(med)}, Q3 {fmt(q3)}, max {fmt(s[-1])}; mean {fmt(mean)}",
            ]
            if kind == "hist":
                bins = self.bins or self.auto_bins(s)
                lo, hi = s[0], s[-1]
                width = (hi - lo) / bins if hi > lo else 1.0
                counts = [0] * bins
                for v in s:
                    counts[min(int((v - lo) / width), bins - 1)] += 1
                edges = [lo + i * width for i in range(bins + 1)]
                title = title or f"Distribution of {y.name}"
                out.append(f"## Histogram of `{y.name}` ({self.source})")
                out += ["", *stats, f"{bins} bins of width {fmt(width)} from {fmt(lo)} to {fmt(hi)}."]
                peak = max(range(bins), key=lambda i: counts[i])
                out.append(f"Tallest bin: {fmt(edges[peak])}–{fmt(edges[peak + 1])} with {counts[peak]} values.")
                labels = [f"{fmt(edges[i])}–{fmt(edges[i + 1])}" for i in range(bins)]
                text_chart = text_bars(labels, [float(c) for c in counts])
                out += self.value_table("bin", "count", labels, [float(c) for c in counts])
                if ax is not None:
                    ax.hist(s, bins=edges, color="#4C72B0", edgecolor="white")
                    ax.axvline(mean, color="#C44E52", linestyle="--", linewidth=1, label=f"mean {fmt(mean)}")
                    ax.axvline(med, color="#55A868", linestyle=":", linewidth=1.5, label=f"median {fmt(med)}")
                    ax.legend()
                    ax.set_xlabel(y.name)
                    ax.set_ylabel("count")
            else:
                iqr = q3 - q1
                lo_f, hi_f = q1 - 1.5 * iqr, q3 + 1.5 * iqr
                fliers = [v for v in s if v < lo_f or v > hi_f]
                title = title or f"{y.name}"
                out.append(f"## Box plot of `{y.name}` ({self.source})")
                out += [
                    "",
                    *stats,
                    f"Whiskers to 1.5 × IQR; {len(fliers)} point(s) beyond"
                    + (": " + ", ".join(fmt(v) for v in fliers[:10]) if fliers else "."),
                ]
                text_chart = text_bars(["min", "Q1", "median", "Q3", "max"], [s[0], q1, med, q3, s[-1]])
                if ax is not None:
                    params = _parameters(ax.boxplot)
                    opts: dict[str, object] = (
                        {"orientation": "horizontal"} if "orientation" in params else {"vert": False}
                    )
                    opts["tick_labels" if "tick_labels" in params else "labels"] = [y.name]
                    ax.boxplot(s, **opts)
                    ax.set_xlabel(y.name)
        elif kind in ("count", "pie") and not self.ys:
            x = self.x
            assert x is not None
            counts = Counter(c or "(empty)" for c in x.cells)
            items = sorted(counts.items(), key=lambda t: (t[0].lower(), t[1])) if self.alpha else counts.most_common()
            other = 0
            if len(items) > MAX_BARS:
                other = sum(n for _, n in items[MAX_BARS - 1 :])
                items = [*items[: MAX_BARS - 1], ("(other)", other)]
            labels = [k for k, _ in items]
            values = [float(n) for _, n in items]
            title = title or f"{x.name}: value counts"
            name = "Pie chart" if kind == "pie" else "Bar chart"
            out.append(f"## {name} of `{x.name}` value counts ({self.source})")
            out += [
                "",
                f"{self.rows} rows, {len(counts)} distinct values; "
                f"the most common is {labels[0]!r} ({fmt(values[0])}).",
            ]
            if other:
                out.append(f"The {len(counts) - MAX_BARS + 1} least common values are grouped as (other).")
            out += self.value_table(x.name, "count", labels, values)
            text_chart = text_bars(labels, values)
            if ax is not None:
                if kind == "pie":
                    ax.pie(values, labels=labels, autopct="%1.1f%%", startangle=90, counterclock=False)
                    ax.axis("equal")
                else:
                    ax.bar(range(len(values)), values, color="#4C72B0")
                    ax.set_xticks(
                        range(len(values)),
                        labels,
                        rotation=45 if len(values) > 6 else 0,
                        ha="right" if len(values) > 6 else "center",
                    )
                    ax.set_xlabel(x.name)
                    ax.set_ylabel("count")
        elif kind in ("bar", "line", "pie"):
            x = self.x
            if x is None:  # a numeric column as a line over its row order
                y = self.ys[0]
                pairs_list = [[(float(i + 2), v) for i, v in enumerate(y.numbers) if v is not None]]
                xname = "row (line in file)"
            elif self.split is not None:
                groups = list(dict.fromkeys(c for c in self.split.cells if c))
                pairs_list = [self.grouped(self.ys[0], g) for g in groups]
                xname = x.name
            else:
                pairs_list = [self.grouped(y) for y in self.ys]
                xname = x.name
            series = [(y, y.name) for y in self.ys]
            if self.split is not None:
                series = [(self.ys[0], f"{self.split.name}={g}") for g in groups]
            repeats = x is not None and self.repeats(x) and (self.split is None or self.split_repeats())
            agg = f" ({self.agg_words()} per {xname})" if repeats else ""
            names = ", ".join(f"`{y.name}`" for y in self.ys)
            if self.split is not None:
                names += f", one line per `{self.split.name}`"
            label = {"bar": "Bar chart", "line": "Line chart", "pie": "Pie chart"}[kind]
            out.append(f"## {label} of {names}{agg} by `{xname}` ({self.source})")
            out.append("")
            title = title or f"{', '.join(y.name for y in self.ys)} by {xname}"
            if self.split is not None and not self.title:
                title += f", per {self.split.name}"
            for (y, sname), pairs in zip(series, pairs_list, strict=True):
                if not pairs:
                    raise Refusal(f"Column {y.name!r} has no numbers to plot.")
                labels = (
                    [self.raw.get(k) or xlabel(k) for k, _ in pairs] if x is not None else [xlabel(k) for k, _ in pairs]
                )
                values = [v for _, v in pairs]
                hi = max(range(len(values)), key=lambda i: values[i])
                lo = min(range(len(values)), key=lambda i: values[i])
                total = f"total {fmt(math.fsum(values))}, " if self.how in ("sum", "count") else ""
                line = (
                    f"`{sname}`: {len(values)} points; highest {fmt(values[hi])} at {labels[hi]}, "
                    f"lowest {fmt(values[lo])} at {labels[lo]}; {total}mean {fmt(math.fsum(values) / len(values))}."
                )
                if kind == "line" and len(values) > 1 and values[0]:
                    change = (values[-1] - values[0]) / abs(values[0]) * 100
                    line += f" First → last: {fmt(values[0])} → {fmt(values[-1])} ({change:+.1f}%)."
                out.append(line)
                shown_labels, shown_values = labels, values
                if kind in ("bar", "pie") and len(values) > MAX_BARS:
                    out.append(f"Only the first {MAX_BARS} of {len(values)} categories are drawn.")
                    shown_labels, shown_values = labels[:MAX_BARS], values[:MAX_BARS]
                out += self.value_table(xname, sname, shown_labels, shown_values)
                if not text_chart:
                    text_chart = text_bars(shown_labels, shown_values)
                if ax is None:
                    continue
                if kind == "line":
                    xs_plot = [k for k, _ in pairs]
                    ax.plot(xs_plot, values, marker="o" if len(values) <= 60 else None, markersize=4, label=sname)
                elif kind == "pie":
                    ax.pie(shown_values, labels=shown_labels, autopct="%1.1f%%", startangle=90, counterclock=False)
                    ax.axis("equal")
                else:
                    ax.bar(range(len(shown_values)), shown_values, color="#4C72B0")
                    rot = len(shown_values) > 6 or max(len(s) for s in shown_labels) > 10
                    ax.set_xticks(
                        range(len(shown_values)),
                        shown_labels,
                        rotation=45 if rot else 0,
                        ha="right" if rot else "center",
                    )
            if ax is not None and kind != "pie":
                ax.set_xlabel(xname)
                ax.set_ylabel(self.ys[0].name if len(self.ys) == 1 else "value")
                if len(series) > 1:
                    ax.legend()
                if x is not None and x.is_date and fig is not None:
                    fig.autofmt_xdate()
        else:  # scatter
            x, y = self.x, self.ys[0]
            assert x is not None
            pts = [(a, b) for a, b in zip(x.numbers, y.numbers, strict=True) if a is not None and b is not None]
            if len(pts) < 2:
                raise Refusal(f"Fewer than two rows have numbers in both {x.name!r} and {y.name!r}.")
            xs = [a for a, _ in pts]
            ys = [b for _, b in pts]
            mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
            sxx = math.fsum((a - mx) ** 2 for a in xs)
            syy = math.fsum((b - my) ** 2 for b in ys)
            sxy = math.fsum((a - mx) * (b - my) for a, b in pts)
            title = title or f"{y.name} vs {x.name}"
            out.append(f"## Scatter plot of `{y.name}` (y) against `{x.name}` (x) ({self.source})")
            out += [
                "",
                f"{len(pts)} points; x from {fmt(min(xs))} to {fmt(max(xs))}, y from {fmt(min(ys))} to {fmt(max(ys))}.",
            ]
            if sxx > 0 and syy > 0:
                r = sxy / math.sqrt(sxx * syy)
                slope = sxy / sxx
                icpt = my - slope * mx
                strength = "strong" if abs(r) >= 0.7 else "moderate" if abs(r) >= 0.4 else "weak"
                direction = "positive" if r > 0 else "negative"
                out.append(
                    f"Pearson r = {r:.3f} ({strength} {direction}; r² = {r * r:.3f}). "
                    f"Least-squares line: {y.name} ≈ {slope:.4g} × {x.name} "
                    f"{'+' if icpt >= 0 else '−'} {abs(icpt):.4g}."
                )
                if ax is not None:
                    lo, hi = min(xs), max(xs)
                    ax.plot(
                        [lo, hi],
                        [slope * lo + icpt, slope * hi + icpt],
                        color="#C44E52",
                        linewidth=1,
                        label=f"trend (r = {r:.2f})",
                    )
                    ax.legend()
            else:
                out.append("One of the columns is constant, so there is no correlation to report.")
            text_chart = [f"({fmt(a)}, {fmt(b)})" for a, b in pts[:MAX_ROWS_SHOWN]]
            if ax is not None:
                ax.scatter(xs, ys, s=18, alpha=0.75, color="#4C72B0")
                ax.set_xlabel(x.name)
                ax.set_ylabel(y.name)
        out.append("")
        if self.note:
            out += [self.note, ""]
        if ax is not None and fig is not None:
            ax.set_title(title)
            if self.log and kind not in ("pie",):
                if kind == "box":
                    ax.set_xscale("log")
                else:
                    ax.set_yscale("log")
            if kind != "pie":
                ax.grid(True, alpha=0.3)
            fig.tight_layout()
            fig.savefig(self.out)
            w, h = fig.get_size_inches() * fig.dpi
            out.append(f"Saved **{self.out}** ({int(w)}×{int(h)} px), title “{title}”; the figure is left open.")
        else:
            out += ["```", *text_chart, "```", ""]
            out.append(
                "matplotlib is not installed here, so no PNG was made; the text chart above shows the same data."
            )
        return out

    def split_repeats(self) -> bool:
        assert self.x is not None and self.split is not None
        pairs = [(a, b) for a, b in zip(self.x.cells, self.split.cells, strict=True) if a]
        return len(set(pairs)) < len(pairs)

    def repeats(self, x: Column) -> bool:
        keys = [c for c in x.cells if c]
        return len(set(keys)) < len(keys)

    def auto_bins(self, s: list[float]) -> int:
        """Freedman-Diaconis bin count, kept between 5 and 40 (Sturges when the IQR is 0)."""
        n = len(s)
        iqr = quantile(s, 0.75) - quantile(s, 0.25)
        if s[-1] == s[0]:
            return 1
        if iqr > 0:
            width = 2 * iqr / n ** (1 / 3)
            return max(5, min(40, math.ceil((s[-1] - s[0]) / width)))
        return max(5, min(40, math.ceil(math.log2(n) + 1)))

    def value_table(self, xname: str, yname: str, labels: list[str], values: list[float]) -> list[str]:
        out = ["", f"| {xname} | {yname} |", "|---|---|"]
        idx = list(range(len(values)))
        if len(idx) > MAX_ROWS_SHOWN:
            idx = idx[: MAX_ROWS_SHOWN - 5] + idx[-5:]
        prev = -1
        for i in idx:
            if prev >= 0 and i != prev + 1:
                out.append("| … | … |")
            out.append(f"| {labels[i]} | {fmt(values[i])} |")
            prev = i
        out.append("")
        return out


def _parameters(func) -> set[str]:
    """The keyword names a matplotlib function takes (boxplot's changed: tick_labels in 3.9, orientation in 3.10)."""
    import inspect

    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    args = sys.argv[1:]
    try:
        if not args:
            raise Refusal("Name the CSV file and the column to chart, e.g. 'histogram of price in listings.csv'.")
        path = Path(args[0])
        if not path.is_file():
            raise Refusal(f"{args[0]} is not a readable file; name an existing CSV file.")
        header, body = read_table(path)
        chart = Chart(request, header, body, path.name)
        chart.plan()
        lines = chart.draw()
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
