"""Compare two text files: similarity, changed line ranges and a unified diff.

Usage:
    python3 compare.py old.txt new.txt < request.txt

The first file is the "old" side, the second the "new" one (the order the request names them). Words in the
request: "ignore whitespace", "ignore case", "ignore blank lines", "5 lines of context" / "context 0",
"summary only" / "no diff". Two JSON files are also compared as data (key order and formatting ignored),
listing the paths whose values differ. Exit 2 unless exactly two readable files are given.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

MAX_OUT = 15_000
MAX_DIFF_CHARS = 10_000


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def read(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise Refusal(f"{path.name} looks binary; compare text files, or their checksums with file-checksums.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1: not valid UTF-8"
    return text, "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"


def options(request: str) -> dict[str, object]:
    r = request.lower()
    context = 3
    m = re.search(r"(\d+)\s+lines? of context|context\s*(?:of\s*)?[:=]?\s*(\d+)|-u\s*(\d+)|-U\s*(\d+)", r)
    if m:
        context = int(next(g for g in m.groups() if g is not None))
    ignore = " ".join(re.findall(r"ignor\w*\s+([^.;\n]*)", r))
    return {
        "ws": bool(re.search(r"white ?space|spaces|indentation", ignore) or re.search(r"(^|\s)-w\b", request)),
        "case": bool(re.search(r"\bcase\b", ignore) or "case-insensitive" in r or "case insensitive" in r),
        "blank": bool(re.search(r"\b(blank|empty)\b", ignore) or re.search(r"(^|\s)-B\b", request)),
        "context": max(0, min(context, 50)),
        "summary": bool(re.search(r"summary only|no diff|without (?:the )?diff|just (?:the )?(?:stats|numbers)", r)),
    }


def normalise(line: str, opts: dict[str, object]) -> str:
    if opts["ws"]:
        line = " ".join(line.split())
    if opts["case"]:
        line = line.lower()
    return line


def json_paths(a: object, b: object, path: str = "$", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if len(out) >= 60:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"- `{path}.{k}` removed (was {short(json.dumps(a[k]))})")
        for k in b:
            if k not in a:
                out.append(f"- `{path}.{k}` added: {short(json.dumps(b[k]))}")
        for k in a:
            if k in b:
                json_paths(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            if i >= len(a):
                out.append(f"- `{path}[{i}]` added: {short(json.dumps(b[i]))}")
            elif i >= len(b):
                out.append(f"- `{path}[{i}]` removed (was {short(json.dumps(a[i]))})")
            else:
                json_paths(a[i], b[i], f"{path}[{i}]", out)
    elif a != b or type(a) is not type(b):
        out.append(f"- `{path}`: {short(json.dumps(a))} → {short(json.dumps(b))}")
    return out


def short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span(a: int, b: int) -> str:
    if b - a == 1:
        return f"line {a + 1}"
    return f"lines {a + 1}-{b}"


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    if len(argv) != 2:
        got = f"{len(argv)} file{'s' if len(argv) != 1 else ''}"
        raise Refusal(f"Name exactly two files to compare, e.g. 'compare config.old.yml and config.yml' (got {got}).")
    pa, pb = Path(argv[0]), Path(argv[1])
    try:
        ta, enc_a = read(pa)
        tb, enc_b = read(pb)
    except OSError as exc:
        raise Refusal(f"Could not read {exc.filename}: {exc.strerror}.") from None
    opts = options(request)
    name_a, name_b = pa.name, pb.name
    if name_a == name_b:
        name_a, name_b = f"{pa.parent.name}/{pa.name}", f"{pb.parent.name}/{pb.name}"
    la, lb = ta.splitlines(), tb.splitlines()
    keep_a = [i for i, x in enumerate(la) if not (opts["blank"] and not x.strip())]
    keep_b = [i for i, x in enumerate(lb) if not (opts["blank"] and not x.strip())]
    na = [normalise(la[i], opts) for i in keep_a]
    nb = [normalise(lb[i], opts) for i in keep_b]
    sm = difflib.SequenceMatcher(None, na, nb, autojunk=False)
    ratio = sm.ratio()
    added = removed = changed_pairs = 0
    ranges: list[str] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        oa = (keep_a[i1] if i1 < len(keep_a) else len(la), keep_a[i2 - 1] + 1 if i2 > i1 else 0)
        ob = (keep_b[j1] if j1 < len(keep_b) else len(lb), keep_b[j2 - 1] + 1 if j2 > j1 else 0)
        if tag == "replace":
            changed_pairs += min(i2 - i1, j2 - j1)
            removed += i2 - i1
            added += j2 - j1
            ranges.append(f"- {name_a} {span(*oa)} → {name_b} {span(*ob)} (changed)")
        elif tag == "delete":
            removed += i2 - i1
            ranges.append(f"- {name_a} {span(*oa)} removed (after {name_b} line {keep_b[j1 - 1] + 1 if j1 else 0})")
        elif tag == "insert":
            added += j2 - j1
            ranges.append(f"- {name_b} {span(*ob)} added (after {name_a} line {keep_a[i1 - 1] + 1 if i1 else 0})")
    out = [f"# {name_a} vs {name_b}"]
    flags = [k for k, label in (("ws", "whitespace"), ("case", "case"), ("blank", "blank lines")) if opts[k]]
    if flags:
        out.append("Ignoring: " + ", ".join(dict(ws="whitespace", case="case", blank="blank lines")[f] for f in flags))
    identical_bytes = ta == tb
    out.append(
        f"- {name_a}: {len(la)} lines, {len(ta.encode('utf-8'))} bytes ({enc_a})\n"
        f"- {name_b}: {len(lb)} lines, {len(tb.encode('utf-8'))} bytes ({enc_b})"
    )
    if identical_bytes:
        out.append("")
        out.append("**Identical**: the two files have the same content.")
        print("\n".join(out))
        return 0
    if not ranges:
        out.append("")
        if flags:
            ignored = ", ".join(dict(ws="whitespace", case="case", blank="blank lines")[f] for f in flags)
            out.append(f"**Same lines** once {ignored} {'is' if len(flags) == 1 else 'are'} ignored.")
        else:
            out.append(
                "**Same lines**: the text is equal line by line; the bytes differ "
                "(line endings, BOM or a final newline)."
            )
        if not flags:
            crlf_a, crlf_b = "\r\n" in ta, "\r\n" in tb
            if crlf_a != crlf_b:
                out.append(
                    f"Line endings differ: {name_a} uses {'CRLF' if crlf_a else 'LF'}, "
                    f"{name_b} {'CRLF' if crlf_b else 'LF'}."
                )
            if ta.endswith("\n") != tb.endswith("\n"):
                out.append("Only one of them ends with a newline.")
        print("\n".join(out))
        return 0
    out.append(
        f"- Similarity: {ratio * 100:.1f}% of lines match; {added} line{'s' if added != 1 else ''} added, "
        f"{removed} removed ({changed_pairs} of them changed in place), in {len(ranges)} place"
        f"{'s' if len(ranges) != 1 else ''}"
    )
    if pa.suffix.lower() == ".json" and pb.suffix.lower() == ".json":
        try:
            ja, jb = json.loads(ta), json.loads(tb)
        except ValueError:
            out.append("- As JSON: one of the files does not parse (validate-config shows where).")
        else:
            out.append("")
            if ja == jb:
                out.append("**As JSON data they are equal**: only formatting or key order differs.")
            else:
                diffs = json_paths(ja, jb)
                out.append(f"## JSON differences ({len(diffs)}{'+' if len(diffs) >= 60 else ''})")
                out.extend(diffs)
    out.append("")
    out.append("## Changed places")
    out.extend(ranges[:40])
    if len(ranges) > 40:
        out.append(f"- … and {len(ranges) - 40} more")
    if not opts["summary"]:
        diff = list(
            difflib.unified_diff(
                [normalise(x, opts) if flags else x for x in la],
                [normalise(x, opts) if flags else x for x in lb],
                fromfile=name_a,
                tofile=name_b,
                n=int(opts["context"]),  # type: ignore[call-overload]
                lineterm="",
            )
        )
        text = "\n".join(diff)
        out.append("")
        out.append(f"## Unified diff ({opts['context']} lines of context{', normalised lines' if flags else ''})")
        cut = len(text) > MAX_DIFF_CHARS
        if cut:
            text = text[:MAX_DIFF_CHARS].rsplit("\n", 1)[0]
        fence = "````" if "```" in text else "```"
        out.append(f"{fence}diff")
        out.append(text)
        out.append(fence)
        if cut:
            out.append(f"(diff cut at {MAX_DIFF_CHARS // 1000} KB; ask for 'summary only' or fewer lines of context)")
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 80].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"compare.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
