"""Convert tabular data between CSV (or TSV), JSON and JSON Lines.

Usage:
    python3 convert.py data.csv < request.txt          # "convert data.csv to JSON"
    python3 convert.py events.jsonl < request.txt      # "events.jsonl as CSV"

The source format comes from the extension (.csv .tsv .json .jsonl .ndjson) or the content; the target from
the request ("to json", "as jsonl", "into csv", "ndjson", "tsv"). CSV delimiters (, ; tab |) are sniffed.
CSV -> JSON infers numbers, booleans and empty cells (null) unless the request says "keep strings"; leading
zeros ("007") stay text. JSON -> CSV takes an array of objects (or the first array inside an object, e.g.
{"data": [...]}), flattens nested objects to dotted columns (address.city) and writes lists as JSON text.
The converted data is printed in a fenced block (cut at about 12 KB, with a note). Exit 2 when the input is
not one of these formats or no target format is named.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

MAX_BLOCK = 12_000
FORMATS = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSONL", "ndjson": "JSONL", "jsonlines": "JSONL"}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


_SPELLED = (
    (re.compile(r"\btab[- ]?(?:separated|delimited)(?: values?)?\b"), "tsv"),
    (re.compile(r"\bcomma[- ]?(?:separated|delimited)(?: values?)?\b"), "csv"),
)


def target_format(request: str, source: str) -> str:
    r = request.lower()
    for spelled, short in _SPELLED:  # "a tab-separated version" says tsv
        r = spelled.sub(short, r)
    m = re.search(
        r"(?:\bto|\binto|\bas|->|=>|\boutput|\bexport(?: as)?)\s+(?:a\s+|an\s+)?"
        r"(json ?lines|ndjson|jsonl|json|tsv|csv)\b",
        r,
    )
    if not m:
        # a format word at the end ("... as tsv", "... tsv please"), not a file's extension ("of data.csv")
        m = re.search(
            r"(?<![.\w])(json ?lines|ndjson|jsonl|json|tsv|csv)\s*(?:format|file|output)?\s*$", r.strip().rstrip(".?!")
        )
    if m:
        word = m.group(1).replace(" ", "")
        return FORMATS.get(word, "")
    named = [FORMATS[w.replace(" ", "")] for w in re.findall(r"(?<![.\w])(json ?lines|ndjson|jsonl|json|tsv|csv)\b", r)]
    others = [f for f in named if f != source and not (f == "CSV" and source == "TSV")]
    return others[-1] if others else ""


def source_format(path: Path, text: str) -> str:
    ext = path.suffix.lower().lstrip(".")
    if ext in FORMATS:
        return FORMATS[ext]
    s = text.lstrip("\ufeff \t\r\n")
    if s.startswith("["):
        return "JSON"
    if s.startswith("{"):
        first = s.split("\n", 1)[0].strip()
        try:
            json.loads(first)
            rest = [ln for ln in s.split("\n")[1:] if ln.strip()]
            return "JSONL" if rest else "JSON"
        except ValueError:
            return "JSON"
    if "\t" in s.split("\n", 1)[0]:
        return "TSV"
    return "CSV"


def infer(value: str) -> object:
    v = value.strip()
    if v == "":
        return None
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none", "nan", "n/a", "na"):
        return None if low in ("null", "none") else value
    if re.fullmatch(r"[-+]?(0|[1-9]\d*)", v):
        n = int(v)
        return n if abs(n) < 2**53 else v  # keep long ids exact as text
    if re.fullmatch(r"[-+]?(0|[1-9]\d*)?\.\d+([eE][-+]?\d+)?|[-+]?(0|[1-9]\d*)[eE][-+]?\d+|[-+]?(0|[1-9]\d*)\.\d*", v):
        try:
            return float(v)
        except ValueError:
            return value
    return value


def type_columns(recs: list[dict[str, object]], columns: list[str]) -> tuple[list[object], list[str]]:
    """Type a column only when all its non-empty cells agree (numbers, or booleans); else keep text."""
    decided: dict[str, bool] = {}
    text_cols: list[str] = []
    keys = list(dict.fromkeys([*columns, *(k for r in recs for k in r)]))
    for c in keys:
        vals = [str(r[c]) for r in recs if c in r and str(r[c]).strip() != ""]
        kinds = {type(infer(v)).__name__ for v in vals}
        numeric = kinds <= {"int", "float"} and bool(kinds)
        boolean = kinds == {"bool"}
        decided[c] = numeric or boolean
        if vals and not decided[c] and kinds & {"int", "float", "bool"}:
            text_cols.append(c)
    out: list[object] = []
    for r in recs:
        row: dict[str, object] = {}
        for k, v in r.items():
            sv = str(v)
            row[k] = None if sv.strip() == "" else (infer(sv) if decided.get(k) else sv)
        out.append(row)
    return out, text_cols


def read_csv(text: str, tsv: bool) -> tuple[list[str], list[dict[str, object]], str]:
    sample = text[:20_000]
    delim = "\t" if tsv else ","
    if not tsv:
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delim = ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise Refusal("The CSV file is empty: there is no header row to name the fields.")
    header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):  # make duplicate headers unique
        if h in seen:
            seen[h] += 1
            header[i] = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
    records: list[dict[str, object]] = []
    ragged = 0
    for r in rows[1:]:
        if len(r) != len(header):
            ragged += 1
        rec: dict[str, object] = {}
        for i, h in enumerate(header):
            rec[h] = r[i] if i < len(r) else ""
        for j in range(len(header), len(r)):
            rec[f"extra_{j + 1}"] = r[j]
        records.append(rec)
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delim, repr(delim))
    note = f"delimiter: {name}" + (f"; {ragged} rows had a different number of cells than the header" if ragged else "")
    return header, records, note


def read_json(text: str) -> tuple[list[object], str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Refusal(
            f"The JSON does not parse (line {exc.lineno}, column {exc.colno}: {exc.msg}); validate-config shows the "
            "error in context."
        ) from None
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                return v, f"rows taken from the `{k}` array of the top-level object"
        return [data], "a single object: one row"
    return [data], "a single value"


def read_jsonl(text: str) -> tuple[list[object], str]:
    rows: list[object] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise Refusal(
                f"Line {n} of the JSON Lines file is not valid JSON (column {exc.colno}: {exc.msg})."
            ) from None
    return rows, ""


def flatten(obj: object, prefix: str = "", out: dict[str, object] | None = None) -> dict[str, object]:
    out = {} if out is None else out
    if isinstance(obj, dict):
        if not obj and prefix:
            out[prefix] = "{}"
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            flatten(v, key, out)
    else:
        out[prefix or "value"] = obj
    return out


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def to_csv(records: list[object], delim: str) -> tuple[str, list[str], list[str]]:
    notes: list[str] = []
    flat = [flatten(r) if isinstance(r, dict) else {"value": r} for r in records]
    columns: list[str] = []
    for r in flat:
        for k in r:
            if k not in columns:
                columns.append(k)
    if any(isinstance(v, (list, dict)) for r in flat for v in r.values()):
        notes.append("lists are written as JSON text in their cell")
    if any("." in c for c in columns):
        notes.append("nested objects are flattened to dotted column names")
    missing = sum(1 for r in flat for c in columns if c not in r)
    if missing:
        notes.append(f"{missing} cell{'s are' if missing != 1 else ' is'} empty because those rows lack the field")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    w.writerow(columns)
    for r in flat:
        w.writerow([cell(r.get(c)) for c in columns])
    return buf.getvalue(), columns, notes


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    if not argv:
        raise Refusal("Name the file to convert and the target, e.g. 'convert orders.csv to JSON'.")
    path = Path(argv[0])
    try:
        text = path.read_bytes().decode("utf-8-sig", "replace")
    except OSError as exc:
        raise Refusal(f"Could not read {path.name}: {exc.strerror or exc}.") from None
    src = source_format(path, text)
    dst = target_format(request, src)
    if not dst:
        raise Refusal(
            f"Say which format to convert {path.name} ({src}) to: CSV, TSV, JSON or JSON Lines, e.g. 'to JSON'."
        )
    typed = not re.search(
        r"(?i)keep (?:all )?(?:values )?(?:as )?strings|as text|no type|without type|all strings", request
    )
    notes: list[str] = []
    if src in ("CSV", "TSV"):
        columns, recs, note = read_csv(text, src == "TSV")
        notes.append(note)
        records: list[object] = list(recs)
        if typed:
            records, text_cols = type_columns(recs, columns)
            notes.append("values typed per column: numbers, true/false, empty cells as null")
            if text_cols:
                notes.append(
                    "kept as text (mixed or code-like values, e.g. leading zeros): "
                    + ", ".join(f"`{c}`" for c in text_cols[:10])
                )
    elif src == "JSON":
        records, note = read_json(text)
        if note:
            notes.append(note)
    else:
        records, note = read_jsonl(text)
    if dst == src or (dst in ("CSV", "TSV") and src in ("CSV", "TSV") and dst == src):
        raise Refusal(f"{path.name} is already {src}; name a different target format (CSV, TSV, JSON or JSON Lines).")
    if dst == "JSON":
        indent = None if re.search(r"(?i)\b(minif\w*|compact|one line)\b", request) else 2
        body = json.dumps(records, ensure_ascii=False, indent=indent)
        lang, ext = "json", ".json"
        columns = []
    elif dst == "JSONL":
        body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + ("\n" if records else "")
        lang, ext = "json", ".jsonl"
        columns = []
    else:
        body, columns, extra = to_csv(records, "\t" if dst == "TSV" else ",")
        notes.extend(extra)
        lang, ext = ("tsv", ".tsv") if dst == "TSV" else ("csv", ".csv")
    out_name = path.stem + ext
    head = f"# {path.name} ({src}) → {out_name} ({'JSON Lines' if dst == 'JSONL' else dst})"
    out = [head, f"{len(records)} record{'s' if len(records) != 1 else ''}"]
    if columns:
        out[-1] += f", {len(columns)} columns: " + ", ".join(f"`{c}`" for c in columns[:20])
        if len(columns) > 20:
            out[-1] += f" and {len(columns) - 20} more"
    elif records and isinstance(records[0], dict):
        keys = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r))
        out[-1] += ", fields: " + ", ".join(f"`{k}`" for k in keys[:20])
    out.extend(f"- {n}" for n in notes if n)
    cut = len(body) > MAX_BLOCK
    shown = body
    if cut:
        shown = body[:MAX_BLOCK].rsplit("\n", 1)[0]
    out.append("")
    fence = "````" if "```" in shown else "```"
    out.append(f"{fence}{lang}")
    out.append(shown.rstrip("\n"))
    out.append(fence)
    if re.search(r"(?i)\b(save|write|store)\b", request):
        target = Path("output") / out_name
        try:
            target.parent.mkdir(exist_ok=True)
            target.write_text(body, encoding="utf-8")
            out.append(f"Saved the whole output to `{target.as_posix()}` ({len(body.encode('utf-8'))} bytes).")
        except OSError as exc:
            out.append(f"Could not save {target.as_posix()}: {exc.strerror or exc}.")
    elif cut:
        kept = shown.count("\n") + 1
        out.append(
            f"(cut: the first {kept} lines of {body.count(chr(10)) + 1} are shown; the whole output is "
            f"{len(body.encode('utf-8'))} bytes - add 'save it' to the request to write output/{out_name})"
        )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"convert.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
