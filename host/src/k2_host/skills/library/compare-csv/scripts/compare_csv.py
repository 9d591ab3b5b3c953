"""Rows added, removed and changed between two CSV/TSV files, matched by a key column.

Usage:
    python3 scripts/compare_csv.py old.csv new.csv < request.txt

The first file is the old (before) one, the second the new (after) one. The request is free English and may say:
  - the key: "by customer_id", "key `sku`", "keyed on order_id and line", "match on email" (default: the first
    column, when both files have it and its values are unique; otherwise whole rows are compared as sets);
  - columns to leave out of the comparison: "ignore updated_at, etl_ts";
  - a numeric tolerance: "tolerance 0.01" / "within 0.5"; and "ignore case".
Numbers that are equal as numbers ("10" and "10.00") count as equal; leading/trailing spaces are ignored.

Exit 0 with a Markdown report; exit 2 with one sentence when the files cannot be compared.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from pathlib import Path

MAX_LIST = 40
MAX_CELL = 40


class Refusal(Exception):
    """The request or the input cannot be handled; the message says what to do."""


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    if b"\0" in raw[:4096]:
        raise Refusal(f"{path.name} is a binary file; compare two CSV or TSV files.")
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
        raise Refusal(f"{path.name} is empty; it needs at least a header row.")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    body = [(r + [""] * width)[:width] if len(r) != width else r for r in rows[1:]]
    return header, body


def headers_in(text: str, headers: list[str]) -> list[str]:
    """Headers mentioned in `text`, in order: quoted names, else whole-word names (underscores may be spaces)."""
    low = text.lower()
    lower = {h.lower(): h for h in headers}
    found: list[tuple[int, str]] = []
    for m in re.finditer(r"`([^`]+)`|\"([^\"]+)\"|“([^”]+)”|(?<!\w)'([^']+)'(?!\w)", low):
        name = next(g for g in m.groups() if g is not None).strip()
        if name in lower:
            found.append((m.start(), lower[name]))
    if not found:
        for h in sorted(headers, key=len, reverse=True):
            for v in {h.lower(), h.lower().replace("_", " "), h.lower().replace("-", " ")}:
                m = re.search(r"(?<![\w])" + re.escape(v) + r"(?![\w])", low)
                if m and not any(s <= m.start() < s + len(x) for s, x in found):
                    found.append((m.start(), h))
                    break
    out: list[str] = []
    for _, h in sorted(found):
        if h not in out:
            out.append(h)
    return out


def clause(request: str, starters: str) -> str:
    """The words after a starter phrase up to the end of its clause."""
    m = re.search(
        r"(?:" + starters + r")\s+(.+?)(?=$|[.?!;\n]|\s+(?:as|and (?:show|list|tell|report|ignore)|ignor\w*|with|"
        r"within|tolerance|please|between|from)\b)",
        request,
        re.IGNORECASE,
    )
    return m.group(1) if m else ""


class Options:
    def __init__(self, request: str, common: list[str]) -> None:
        text = re.sub(r"\S+\.(?:csv|tsv|txt|psv)\b", " ", request, flags=re.IGNORECASE)
        ignore_text = clause(text, r"ignor(?:e|ing)(?: the)?(?: columns?)?|excluding|except(?: for)?")
        self.ignore = [h for h in headers_in(ignore_text, common) if ignore_text]
        key_text = clause(
            text,
            r"key(?:ed)?(?: (?:on|by|is|column|columns|=|:))*|match(?:ed|ing)? (?:on|by)|join(?:ed)? on|"
            r"(?:using|use|with) (?:the )?(?:columns? )?|\bby(?: the)?|\bon(?: the)?|primary key",
        )
        self.key = [h for h in headers_in(key_text, common) if h not in self.ignore] if key_text else []
        m = re.search(r"(?:tolerance|within|±|\+/-)\s*(?:of\s*)?(\d+(?:\.\d+)?(?:e-?\d+)?)", text, re.IGNORECASE)
        self.tol = float(m.group(1)) if m else 0.0
        self.ignore_case = bool(re.search(r"ignor\w* (?:the )?case|case[- ]insensitive", text, re.IGNORECASE))


def number(s: str) -> float | None:
    t = s.strip().replace(",", "") if re.fullmatch(r"\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*", s) else s.strip()
    try:
        return float(t) if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t) else None
    except ValueError:
        return None


def same(a: str, b: str, opt: Options) -> tuple[bool, bool]:
    """(equal, equal only after normalising) for two cells."""
    if a == b:
        return True, False
    x, y = a.strip(), b.strip()
    if opt.ignore_case:
        x, y = x.lower(), y.lower()
    if x == y:
        return True, True
    nx, ny = number(x), number(y)
    if nx is not None and ny is not None and abs(nx - ny) <= opt.tol:
        return True, True
    return False, False


def cut(s: str) -> str:
    s = s.replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= MAX_CELL else s[: MAX_CELL - 1] + "…"


def show(s: str) -> str:
    return "*(empty)*" if s.strip() == "" else f"`{cut(s)}`" if s != s.strip() else cut(s)


def keyed(header: list[str], body: list[list[str]], key: list[str]) -> tuple[dict[tuple, list[str]], int]:
    idx = [header.index(k) for k in key]
    out: dict[tuple, list[str]] = {}
    seen: Counter = Counter()
    dups = 0
    for row in body:
        k = tuple(row[i].strip() for i in idx)
        seen[k] += 1
        if seen[k] > 1:
            dups += 1
            k = (*k, f"#{seen[k]}")
        out[k] = row
    return out, dups


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(cut(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cut(c) for c in r) + " |" for r in rows]
    return out


def key_text(k: tuple) -> str:
    return ", ".join(str(x) for x in k)


def compare(a_path: Path, b_path: Path, request: str) -> list[str]:
    ha, ba = read_table(a_path)
    hb, bb = read_table(b_path)
    common = [h for h in ha if h in hb]
    if not common:
        raise Refusal(f"{a_path.name} and {b_path.name} share no column names; they cannot be matched row to row.")
    opt = Options(request, common)
    a_name, b_name = a_path.name, b_path.name
    if a_name == b_name:
        a_name, b_name = f"{a_name} (1st)", f"{b_name} (2nd)"
    notes: list[str] = []
    key = opt.key
    if not key:
        first = ha[0]
        col_a = [r[0].strip() for r in ba]
        col_b = [r[hb.index(first)].strip() for r in bb] if first in hb else []
        if first in hb and len(set(col_a)) == len(col_a) and len(set(col_b)) == len(col_b):
            key = [first]
            notes.append(f"Key: `{first}` (the first column; name another with 'by <column>').")
    else:
        notes.append(f"Key: {', '.join(f'`{k}`' for k in key)}.")
    compared = [h for h in common if h not in key and h not in opt.ignore]
    out = [f"## {a_name} → {b_name}", ""]
    cols_added = [h for h in hb if h not in ha]
    cols_removed = [h for h in ha if h not in hb]
    col_lines = []
    if cols_added:
        col_lines.append(f"added {', '.join(f'`{c}`' for c in cols_added)}")
    if cols_removed:
        col_lines.append(f"removed {', '.join(f'`{c}`' for c in cols_removed)}")
    if not cols_added and not cols_removed and ha != hb:
        col_lines.append("same columns in a different order")
    if not key:
        return out + whole_rows(ha, ba, hb, bb, a_name, b_name, common, col_lines)
    ka, dup_a = keyed(ha, ba, key)
    kb, dup_b = keyed(hb, bb, key)
    if dup_a or dup_b:
        notes.append(
            f"Warning: the key is not unique ({dup_a} repeat(s) in {a_name}, {dup_b} in {b_name}); repeats are "
            "matched in file order (#2, #3 …). Name a more specific key, e.g. 'by order_id and line'."
        )
    added = [k for k in kb if k not in ka]
    removed = [k for k in ka if k not in kb]
    changes: list[tuple[tuple, str, str, str]] = []
    changed_rows = 0
    normalised = 0
    ia = {h: ha.index(h) for h in compared}
    ib = {h: hb.index(h) for h in compared}
    for k, ra in ka.items():
        rb = kb.get(k)
        if rb is None:
            continue
        row_changed = False
        for h in compared:
            eq, norm = same(ra[ia[h]], rb[ib[h]], opt)
            normalised += norm
            if not eq:
                changes.append((k, h, ra[ia[h]], rb[ib[h]]))
                row_changed = True
        changed_rows += row_changed
    matched = sum(1 for k in ka if k in kb)
    out += [
        "| | rows |",
        "|---|---|",
        f"| {a_name} | {len(ba)} |",
        f"| {b_name} | {len(bb)} |",
        f"| added (only in {b_name}) | {len(added)} |",
        f"| removed (only in {a_name}) | {len(removed)} |",
        f"| changed | {changed_rows} |",
        f"| unchanged | {matched - changed_rows} |",
        "",
    ]
    out += notes
    if col_lines:
        out.append("Columns: " + "; ".join(col_lines) + ".")
    if opt.ignore:
        out.append(f"Not compared (ignored): {', '.join(f'`{c}`' for c in opt.ignore)}.")
    if normalised:
        why = "numbers equal as numbers" + (f" (within {opt.tol:g})" if opt.tol else "")
        why += ", case" if opt.ignore_case else ""
        out.append(f"{normalised} cell(s) differ only in formatting ({why}, surrounding spaces) and count as equal.")
    show_cols = [h for h in hb if h not in key][:5]
    for title, keys, h, rows in (
        (f"Added ({len(added)})", added, hb, kb),
        (f"Removed ({len(removed)})", removed, ha, ka),
    ):
        if not keys:
            continue
        cols = [c for c in show_cols if c in h][:5]
        out += ["", f"### {title}", ""]
        out += table(
            [*key, *cols],
            [[*(str(x) for x in k[: len(key)]), *(rows[k][h.index(c)] for c in cols)] for k in keys[:MAX_LIST]],
        )
        if len(keys) > MAX_LIST:
            out.append(f"(… {len(keys) - MAX_LIST} more)")
    if changes:
        out += ["", f"### Changed ({changed_rows} rows, {len(changes)} cells)", ""]
        out.append(f"| {' + '.join(key)} | column | {a_name} | {b_name} |")
        out.append("|---|---|---|---|")
        for k, h, old, new in changes[:MAX_LIST]:
            delta = ""
            no, nn = number(old), number(new)
            if no is not None and nn is not None:
                d = nn - no
                delta = f" ({'+' if d > 0 else ''}{d:.10g}" + (f", {d / no * 100:+.1f}%" if no else "") + ")"
            out.append(f"| {cut(key_text(k))} | {h} | {show(old)} | {show(new)}{delta} |")
        if len(changes) > MAX_LIST:
            out.append(f"(… {len(changes) - MAX_LIST} more changed cells)")
        by_col = Counter(h for _, h, _, _ in changes)
        out += ["", "Changed cells by column: " + ", ".join(f"{h} {n}" for h, n in by_col.most_common()) + "."]
    if not added and not removed and not changes and not col_lines:
        out += ["", "**The files hold the same data** (by this key and these rules)."]
    return out


def whole_rows(ha, ba, hb, bb, a_name, b_name, common, col_lines) -> list[str]:
    """No usable key: compare the rows (over the shared columns) as multisets."""
    ia = [ha.index(h) for h in common]
    ib = [hb.index(h) for h in common]
    ca = Counter(tuple(r[i].strip() for i in ia) for r in ba)
    cb = Counter(tuple(r[i].strip() for i in ib) for r in bb)
    only_a = list((ca - cb).elements())
    only_b = list((cb - ca).elements())
    out = [
        "No key column: the first column is not unique in both files, so whole rows over the shared columns are "
        "compared (a changed row shows as one removed plus one added). Name a key with 'by <column>' to see "
        "cell-level changes.",
        "",
        f"{a_name}: {len(ba)} rows; {b_name}: {len(bb)} rows; only in {b_name}: {len(only_b)}; "
        f"only in {a_name}: {len(only_a)}; in both: {sum((ca & cb).values())}.",
    ]
    if col_lines:
        out.append("Columns: " + "; ".join(col_lines) + ".")
    cols = common[:6]
    for title, rows in ((f"Only in {b_name}", only_b), (f"Only in {a_name}", only_a)):
        if rows:
            out += ["", f"### {title} ({len(rows)})", ""]
            out += table(cols, [list(r[: len(cols)]) for r in rows[:MAX_LIST]])
            if len(rows) > MAX_LIST:
                out.append(f"(… {len(rows) - MAX_LIST} more)")
    return out


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    args = sys.argv[1:]
    try:
        if len(args) != 2:
            raise Refusal(
                f"Name exactly two CSV files to compare (got {len(args)}), e.g. 'compare old.csv with new.csv by id'."
            )
        paths = [Path(a) for a in args]
        for p in paths:
            if not p.is_file():
                raise Refusal(f"{p} is not a readable file; name two existing CSV files.")
        lines = compare(paths[0], paths[1], request)
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
