"""Compile a regular expression, explain it, test it against samples and point out common pitfalls.

Usage:
    python3 check_regex.py < request.txt

The request names the pattern in backticks (`^\\d{3}-\\d{4}$`), as a /pattern/flags literal, a r"..." string or
a ```regex fence, and the samples as further backticked or quoted strings, a list after "against"/"on", bullet
lines, or the lines of a code fence. Flags: words like "case-insensitive", "multiline", "dotall", "verbose",
"ascii", or re.I / re.M / re.S / re.X, or the letters after a /literal/. Python `re` semantics (3.11).
Exit 2 when no pattern is found.
"""

from __future__ import annotations

import re
import signal
import sys

MAX_OUT = 15_000
MAX_SAMPLES = 40
MATCH_BUDGET_S = 0.4  # per sample; catastrophic backtracking is reported instead of hanging


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


class Slow(Exception):
    """A match ran past its time budget."""


# --------------------------------------------------------------------------- request parsing

FENCE = re.compile(r"```([\w+-]*)[ \t]*\n(.*?)```", re.S)
BACKTICK = re.compile(r"(`+)(.+?)\1", re.S)
QUOTED = re.compile(r"\"([^\"\n]*)\"|\u201c([^\u201d\n]*)\u201d|(?<![\w])'([^'\n]*)'(?![\w])")
SLASH_LITERAL = re.compile(r"(?<![\w/])/((?:\\.|\[(?:\\.|[^\]\\])*\]|[^/\\\n])+)/([dgimsuvy]*)(?![\w/])")
RAW_STRING = re.compile(r"\b[rR]([\"'])(.*?)\1")

FLAG_WORDS = [
    (r"case[- ]?insensitive|ignore[- ]?case|ignorecase|re\.I\b|re\.IGNORECASE|\(\?i\) flag", re.IGNORECASE),
    (r"multi[- ]?line|re\.M\b|re\.MULTILINE", re.MULTILINE),
    (r"dot[- ]?all|dot matches (?:a )?new ?line|re\.S\b|re\.DOTALL", re.DOTALL),
    (r"\bverbose\b|re\.X\b|re\.VERBOSE", re.VERBOSE),
    (r"\bascii\b|re\.A\b|re\.ASCII", re.ASCII),
]
JS_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
FLAG_NAMES = [
    (re.IGNORECASE, "IGNORECASE"),
    (re.MULTILINE, "MULTILINE"),
    (re.DOTALL, "DOTALL"),
    (re.VERBOSE, "VERBOSE"),
    (re.ASCII, "ASCII"),
]


class Request:
    def __init__(self) -> None:
        self.pattern: str | None = None
        self.flags = 0
        self.samples: list[str] = []
        self.notes: list[str] = []
        self.whole_text: str | None = None
        self.fullmatch_wanted = False


def split_list(text: str) -> list[str]:
    text = text.strip().rstrip(".?!")
    parts = re.split(r"\s*(?:,|;|\band\b|\bor\b)\s*", text)
    return [p.strip() for p in parts if p.strip()]


def parse_request(text: str) -> Request:
    req = Request()
    used: list[tuple[int, int]] = []  # spans already consumed

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in used)

    fences = list(FENCE.finditer(text))
    for m in fences:
        if m.group(1).lower() in ("regex", "regexp", "re", "pattern") and req.pattern is None:
            req.pattern = m.group(2).rstrip("\n")
            used.append(m.span())
    other_fences = [m for m in fences if free(m.span())]
    used.extend(m.span() for m in other_fences)

    spans = [m for m in BACKTICK.finditer(text) if free(m.span())]
    if req.pattern is None:
        for m in spans:
            lit = SLASH_LITERAL.fullmatch(m.group(2).strip())
            if lit:
                req.pattern = lit.group(1)
                for ch in lit.group(2):
                    req.flags |= JS_FLAGS.get(ch, 0)
                if "g" in lit.group(2):
                    req.notes.append("The `g` flag has no Python equivalent: all matches are listed anyway.")
                used.append(m.span())
                break
    if req.pattern is None:
        for m in RAW_STRING.finditer(text):
            if free(m.span()):
                req.pattern = m.group(2)
                used.append(m.span())
                break
    if req.pattern is None and spans:
        # Prefer the span right after a word like "regex"/"pattern"; else the first one.
        chosen = spans[0]
        for m in spans:
            before = text[max(0, m.start() - 40) : m.start()].lower()
            if re.search(r"(regex|regexp|pattern|expression|re)\W*$", before):
                chosen = m
                break
        inner = chosen.group(2)
        lit = SLASH_LITERAL.fullmatch(inner.strip())
        if lit:
            inner = lit.group(1)
            for ch in lit.group(2):
                req.flags |= JS_FLAGS.get(ch, 0)
        req.pattern = inner
        used.append(chosen.span())
    if req.pattern is None:
        lit = SLASH_LITERAL.search(text)
        if lit and free(lit.span()):
            req.pattern = lit.group(1)
            for ch in lit.group(2):
                req.flags |= JS_FLAGS.get(ch, 0)
            used.append(lit.span())
    if req.pattern is None and other_fences and "\n" not in other_fences[0].group(2).strip("\n"):
        req.pattern = other_fences.pop(0).group(2).strip("\n")  # a one-line fence alone: the pattern
    for m in other_fences:
        block = m.group(2).rstrip("\n")
        req.whole_text = block if req.whole_text is None else req.whole_text + "\n" + block
    if req.pattern is None:
        m = re.search(r"(?i)\b(?:regex|regexp|pattern)\s*[:=]?\s*(\S+)", text)
        if m and not re.fullmatch(r"(?i)(?:for|to|that|which|is|against|on|in|the|a|this|my)", m.group(1)):
            req.pattern = m.group(1)
            used.append(m.span(1))

    # Samples: the other backticked spans and quoted strings, in order.
    items: list[tuple[int, str]] = []
    for m in BACKTICK.finditer(text):
        if free(m.span()):
            items.append((m.start(), m.group(2)))
            used.append(m.span())
    for m in QUOTED.finditer(text):
        if free(m.span()):
            value = next(g for g in m.groups() if g is not None)
            items.append((m.start(), value))
            used.append(m.span())
    items.sort()
    req.samples = [v for _, v in items]
    if not req.samples and req.whole_text is None:
        masked = "".join(" " if not free((i, i + 1)) else c for i, c in enumerate(text))
        bullets = re.findall(r"(?m)^\s*(?:[-*\u2022]|\d+[.)])\s+(.+?)\s*$", masked)
        if bullets:
            req.samples = bullets
        else:
            m = re.search(
                r"(?is)\b(?:against|on|with|samples?|strings?|inputs?|examples?|test(?:ing)? it on|matches)"
                r"\s*:?\s*(.+)$",
                masked,
            )
            if m:
                tail = m.group(1).split("\n")[0]
                req.samples = [s for s in split_list(tail) if not re.fullmatch(r"(?i)these|the following", s)]
    for pat, flag in FLAG_WORDS:
        if re.search(pat, text, re.I):
            req.flags |= flag
    if req.whole_text is not None:
        lines = [ln for ln in req.whole_text.split("\n") if ln.strip()]
        if req.flags & (re.MULTILINE | re.DOTALL) or (req.pattern and "\\n" in req.pattern):
            req.samples.append(req.whole_text)
        else:
            req.samples.extend(lines)
    if re.search(r"(?i)\b(full ?match|whole string|entire (?:string|input)|exactly|validat\w*)\b", text):
        req.fullmatch_wanted = True
    req.samples = req.samples[:MAX_SAMPLES]
    return req


# --------------------------------------------------------------------------- explanation

ESCAPES = {
    "d": "a digit",
    "D": "a non-digit",
    "w": "a word character (letter, digit or _)",
    "W": "a non-word character",
    "s": "a whitespace character",
    "S": "a non-whitespace character",
    "b": "a word boundary",
    "B": "not a word boundary",
    "A": "the start of the string",
    "Z": "the end of the string",
    "n": "a newline",
    "t": "a tab",
    "r": "a carriage return",
}


def describe_class(body: str) -> str:
    neg = body.startswith("^")
    if neg:
        body = body[1:]
    parts: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            e = body[i + 1]
            parts.append(ESCAPES.get(e, f"'{e}'").replace("a word boundary", "a backspace"))
            i += 2
            continue
        if i + 2 < len(body) and body[i + 1] == "-" and body[i + 2] != "]":
            parts.append(f"{c}-{body[i + 2]}")
            i += 3
            continue
        parts.append(f"'{c}'")
        i += 1
    listed = ", ".join(parts) if parts else "nothing"
    return f"any character except {listed}" if neg else f"one of {listed}"


def quant_text(q: str) -> str:
    lazy = q.endswith("?") and len(q) > 1
    possessive = q.endswith("+") and len(q) > 1
    core = q[:-1] if lazy or possessive else q
    if core == "*":
        t = "zero or more times"
    elif core == "+":
        t = "one or more times"
    elif core == "?":
        t = "optional"
    else:
        m = re.fullmatch(r"\{(\d*)(,?)(\d*)\}", core)
        if not m:
            return core
        lo, comma, hi = m.groups()
        if not comma:
            t = f"exactly {lo} times"
        elif not hi:
            t = f"{lo or 0} or more times"
        else:
            t = f"{lo or 0} to {hi} times"
    if lazy:
        t += ", as few as possible"
    if possessive:
        t += ", possessive (no backtracking)"
    return t


def explain(pattern: str, verbose: bool = False) -> list[str]:
    out: list[str] = []
    depth = 0
    group_no = 0
    i = 0
    literal = ""
    literal_src = ""

    def flush() -> None:
        nonlocal literal, literal_src
        if literal:
            out.append("  " * depth + f"- {md_cell(literal_src, 60)} the literal text {literal!r}")
            literal = literal_src = ""

    quant = re.compile(r"(\*|\+|\?|\{\d*,?\d*\})[?+]?")
    while i < len(pattern) and len(out) < 60:
        c = pattern[i]
        if verbose and c in " \t\n\r":
            flush()
            i += 1
            continue
        if verbose and c == "#":
            flush()
            end = pattern.find("\n", i)
            i = len(pattern) if end < 0 else end + 1
            continue
        token, desc, step = "", "", 1
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            step = 2
            if e.isdigit() and e != "0":
                desc = f"the same text as group {e} matched"
            elif e == "x" and re.match(r"[0-9a-fA-F]{2}", pattern[i + 2 : i + 4]):
                step, desc = 4, f"the character U+00{pattern[i + 2 : i + 4].upper()}"
            elif e == "u" and re.match(r"[0-9a-fA-F]{4}", pattern[i + 2 : i + 6]):
                step, desc = 6, f"the character U+{pattern[i + 2 : i + 6].upper()}"
            elif e in ESCAPES:
                desc = ESCAPES[e]
            else:
                if not quant.match(pattern, i + 2):
                    literal += e
                    literal_src += pattern[i : i + 2]
                    i += 2
                    continue
                desc = f"the literal {e!r}"
            token = pattern[i : i + step]
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            token = pattern[i : j + 1]
            desc = describe_class(pattern[i + 1 : j])
            step = j + 1 - i
        elif c == "(":
            flush()
            rest = pattern[i:]
            kinds = [
                (r"\(\?P<(\w+)>", "start of group {n}, named '{0}'"),
                (r"\(\?<(\w+)>", "start of group {n}, named '{0}' (JavaScript/.NET syntax)"),
                (r"\(\?:", "start of a non-capturing group"),
                (r"\(\?=", "start of a lookahead: followed by"),
                (r"\(\?!", "start of a negative lookahead: not followed by"),
                (r"\(\?<=", "start of a lookbehind: preceded by"),
                (r"\(\?<!", "start of a negative lookbehind: not preceded by"),
                (r"\(\?>", "start of an atomic group"),
                (r"\(\?P=(\w+)\)", "the same text as group '{0}' matched"),
                (r"\(\?#[^)]*\)", "a comment"),
                (r"\(\?([aiLmsux]+)\)", "inline flags '{0}' for the whole pattern"),
                (r"\(\?([aiLmsux-]+):", "start of a group with local flags '{0}'"),
            ]
            for rx, text in kinds:
                m = re.match(rx, rest)
                if m:
                    capturing = "{n}" in text
                    if capturing:
                        group_no += 1
                    out.append("  " * depth + f"- `{m.group(0)}` " + text.format(*m.groups(), n=group_no))
                    i += len(m.group(0))
                    if m.group(0).endswith((":", ">", "=", "!")) and not m.group(0).endswith(")"):
                        depth += 1
                    break
            else:
                group_no += 1
                out.append("  " * depth + f"- `(` start of group {group_no}")
                depth += 1
                i += 1
            continue
        elif c == ")":
            flush()
            depth = max(0, depth - 1)
            qm = quant.match(pattern, i + 1)
            q = f", repeated {quant_text(qm.group(0))}" if qm else ""
            out.append("  " * depth + f"- `){qm.group(0) if qm else ''}` end of group{q}")
            i += 1 + (len(qm.group(0)) if qm else 0)
            continue
        elif c == "|":
            flush()
            out.append("  " * max(0, depth - 1) + ("  " if depth else "") + "- `|` or")
            i += 1
            continue
        elif c == "^":
            token, desc = c, "the start of the string (of a line with MULTILINE)"
        elif c == "$":
            token, desc = c, "the end of the string, or before a final newline (of a line with MULTILINE)"
        elif c == ".":
            token, desc = c, "any character except a newline (any at all with DOTALL)"
        else:
            qm = quant.match(pattern, i + 1)
            if qm:
                token, desc = c, f"the literal {c!r}"
            else:
                literal += c
                literal_src += c
                i += 1
                continue
        flush()
        i += step
        qm = quant.match(pattern, i)
        if qm:
            desc += f", {quant_text(qm.group(0))}"
            token += qm.group(0)
            i += len(qm.group(0))
        out.append("  " * depth + f"- `{token}` {desc}")
    flush()
    if i < len(pattern):
        out.append("- … (explanation cut; the pattern is long)")
    return out


# --------------------------------------------------------------------------- pitfalls


def outside_classes(pattern: str) -> list[tuple[int, str]]:
    """(index, char) of the pattern's characters that are not inside [...] and not escaped."""
    res: list[tuple[int, str]] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]" or pattern[i + 1 : i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        else:
            res.append((i, c))
        i += 1
    return res


def pitfalls(pattern: str, flags: int, samples: list[str], rx: re.Pattern[str] | None) -> list[str]:
    out: list[str] = []
    plain = outside_classes(pattern)
    verbose = bool(flags & re.VERBOSE)
    for idx, c in plain:
        if c == "." and not re.match(r"[*+?{]", pattern[idx + 1 : idx + 2]):
            before, after = pattern[max(0, idx - 1) : idx], pattern[idx + 1 : idx + 2]
            if (before.isalnum() or before in ("+", "}", ")")) and (after.isalnum() or after in ("\\", "(", "[")):
                out.append(
                    f"`.` at position {idx} matches ANY character, not just a dot: write `\\.` for a literal dot."
                )
                break
    for idx, c in plain:
        m = re.compile(r"\.[*+]\??").match(pattern, idx) if c == "." else None
        if m and m.end() < len(pattern) and not m.group(0).endswith("?") and pattern[m.end() :] not in ("$", ")$"):
            nxt = pattern[m.end()] if pattern[m.end()].isprintable() and pattern[m.end()] not in "\\()[]|" else ","
            out.append(
                f"`{m.group(0)}` at position {m.start()} is greedy: it runs to the end and backs off, so it can "
                f"swallow more than you expect; `{m.group(0)}?` (lazy) or a class like "
                f"`[^{nxt}]{m.group(0)[1]}` is often meant."
            )
            break
    if re.search(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)[+*{]", pattern):
        out.append(
            "A repeated group contains a repeat (like `(a+)+`): on a near-miss input this can backtrack "
            "exponentially (catastrophic backtracking); make the inner part unambiguous or atomic `(?>...)`."
        )
    if re.search(r"\[[^\]]*A-z", pattern):
        out.append("`A-z` also covers `[ \\ ] ^ _` and the backtick: write `A-Za-z`.")
    for m in re.finditer(r"\[([^\]]*)\]", pattern):
        if "|" in m.group(1) and not m.group(1).startswith("^"):
            out.append(f"`{m.group(0)}`: inside [...] `|` is a literal bar, not 'or'; list the characters without it.")
            break
    top_bars = [i for i, c in plain if c == "|" and depth_at(pattern, i) == 0]
    if top_bars and (pattern.startswith("^") or pattern.endswith("$")):
        out.append(
            "`^`/`$` with a top-level `|` bind to the first/last alternative only: wrap the alternatives, "
            "e.g. `^(?:a|b)$`."
        )
    if re.search(r"(?<!\\)\|\||\(\|(?!\?)|(?<!\\)\|\)|^\||(?<!\\)\|$", pattern):
        out.append("An empty alternative (`||`, `(|`, `|)`, or `|` at an end) matches the empty string.")
    if re.search(r"\{\d+,\s+\d*\}|\{\s+\d", pattern):
        out.append("A `{n, m}` with spaces is NOT a repeat in Python: it matches the text literally; drop the spaces.")
    if "\\\\" in pattern and re.search(r"\\\\[dwsbDWSBnt.]", pattern):
        out.append(
            "`\\\\d`-style double backslashes match a literal backslash: if you copied the pattern from a "
            "normal string literal, use single backslashes (a raw string r'...' in Python)."
        )
    if "(?<" in pattern and re.search(r"\(\?<(?![=!])", pattern):
        out.append("Python spells named groups `(?P<name>...)`; `(?<name>...)` is JavaScript/.NET/PCRE syntax.")
    validating = pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    if validating and not flags & re.MULTILINE:
        out.append(
            "`$` also matches before a trailing newline ('abc\\n' passes `^abc$`): use `\\Z` or re.fullmatch "
            "when validating input."
        )
    if any("\n" in s for s in samples) and re.search(r"(?<!\\)[\^$]", pattern) and not flags & re.MULTILINE:
        out.append("A sample has several lines but MULTILINE is off: `^` and `$` only match at the string's ends.")
    if rx is not None:
        try:
            if rx.fullmatch("") is not None:
                out.append("The pattern matches the empty string, so a search succeeds on any input.")
        except Exception:  # noqa: S110 -- a check, never fatal
            pass
    non_ascii = any(not s.isascii() for s in samples)
    if ("\\d" in pattern or "\\w" in pattern) and not flags & re.ASCII and (non_ascii or validating):
        out.append(
            "In Python `\\d` and `\\w` match Unicode digits/letters too (e.g. '\u0663', '\u00e9'); add re.ASCII or "
            "use `[0-9]` / `[A-Za-z0-9_]` for ASCII only."
        )
    if verbose:
        out.append("VERBOSE is on: spaces and `#` comments in the pattern are ignored; escape a space as `\\ `.")
    return out


def depth_at(pattern: str, index: int) -> int:
    depth = 0
    for i, c in outside_classes(pattern):
        if i >= index:
            break
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
    return depth


# --------------------------------------------------------------------------- matching


def with_budget(fn, *args):  # type: ignore[no-untyped-def]
    use_alarm = hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    if use_alarm:  # only when no one else has a timer running
        try:
            old = signal.signal(signal.SIGALRM, _raise_slow)
            signal.setitimer(signal.ITIMER_REAL, MATCH_BUDGET_S)
        except (ValueError, OSError):
            use_alarm = False
    try:
        return fn(*args)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def _raise_slow(signum: int, frame: object) -> None:
    raise Slow


def md_cell(text: str, limit: int = 48) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    shown = shown.replace("\n", "\\n").replace("\t", "\\t").replace("|", "\\|")
    if shown == "":
        return "(empty)"
    fence = "``" if "`" in shown else "`"
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def group_text(m: re.Match[str], rx: re.Pattern[str]) -> str:
    if rx.groups == 0:
        return "—"
    names = {v: k for k, v in rx.groupindex.items()}
    parts = []
    for g in range(1, rx.groups + 1):
        label = names.get(g, str(g))
        val = m.group(g)
        parts.append(f"{label}={md_cell(val, 30) if val is not None else 'unset'}")
    return ", ".join(parts)


def test_samples(rx: re.Pattern[str], samples: list[str]) -> list[str]:
    rows = ["| # | sample | whole string | first match (span) | groups | all matches |", "|---|---|---|---|---|---|"]
    details: list[str] = []
    slow = 0
    for n, s in enumerate(samples, 1):
        if slow >= 2:
            rows.append(f"| {n} | {md_cell(s)} | skipped | — | — | two samples already timed out |")
            continue
        try:
            full = with_budget(rx.fullmatch, s)
            first = with_budget(rx.search, s)
            found = with_budget(lambda t: list(rx.finditer(t))[:50], s)
        except Slow:
            slow += 1
            rows.append(
                f"| {n} | {md_cell(s)} | timed out | — | — | catastrophic backtracking (over {MATCH_BUDGET_S}s) |"
            )
            continue
        except RecursionError:
            rows.append(f"| {n} | {md_cell(s)} | error | — | — | too deep |")
            continue
        whole = "yes" if full else "no"
        if first is None:
            rows.append(f"| {n} | {md_cell(s)} | {whole} | no match | — | 0 |")
            continue
        span = f"{md_cell(first.group(0), 30)} ({first.start()}-{first.end()})"
        allm = ", ".join(md_cell(f.group(0), 20) for f in found[:6]) + (" …" if len(found) > 6 else "")
        rows.append(f"| {n} | {md_cell(s)} | {whole} | {span} | {group_text(first, rx)} | {len(found)}: {allm} |")
        if rx.groups and len(found) > 1:
            for k, f in enumerate(found[:5], 1):
                details.append(f"- sample {n}, match {k} at {f.start()}-{f.end()}: {group_text(f, rx)}")
    return [*rows, "", *details] if details else rows


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    req = parse_request(text)
    if not req.pattern:
        raise Refusal(
            "Put the regular expression in backticks and the test strings after it, e.g. "
            "check `^\\d{3}-\\d{4}$` against `555-1234` and `5551234`."
        )
    pattern = req.pattern
    out: list[str] = [f"# Regex check: {md_cell(pattern, 200)}"]
    names = [n for f, n in FLAG_NAMES if req.flags & f]
    out.append(f"Flags: {', '.join(names) if names else 'none'} · engine: Python `re` (3.11)")
    out.extend(req.notes)
    compiled: re.Pattern[str] | None = None
    tried = pattern
    try:
        compiled = re.compile(pattern, req.flags)
    except re.error as exc:
        js = re.sub(r"\(\?<(?![=!])(\w+)>", r"(?P<\1>", pattern)
        if js != pattern:
            try:
                compiled = re.compile(js, req.flags)
                tried = js
                out.append(f"Rewrote JavaScript-style named groups for Python: {md_cell(js, 200)}")
            except re.error:
                compiled = None
        if compiled is None:
            pos = exc.pos if exc.pos is not None else 0
            out.append("")
            out.append(f"**Does not compile:** {exc.msg} at position {pos}.")
            out.append("```text")
            out.append(pattern)
            out.append(" " * pos + "^")
            out.append("```")
            hint = {
                "missing ), unterminated subpattern": "an opening `(` has no `)`; escape it as `\\(` for a literal.",
                "unbalanced parenthesis": "a `)` has no opening `(`; escape it as `\\)` for a literal.",
                "nothing to repeat": "a quantifier follows nothing repeatable (e.g. `*` at the start, `**`); "
                "escape it as `\\*` for a literal.",
                "multiple repeat": "two quantifiers in a row (e.g. `a**`); `a*?` (lazy) or `a*+` (possessive) are "
                "allowed.",
                "look-behind requires fixed-width pattern": "Python lookbehinds must have a fixed length: no "
                "`*`, `+` or `{n,m}` inside `(?<=...)`.",
                "unterminated character set": "a `[` has no closing `]`; escape it as `\\[` for a literal.",
            }
            for key, h in hint.items():
                if exc.msg.startswith(key):
                    out.append(f"Hint: {h}")
                    break
            if "unknown extension ?<" in exc.msg:
                out.append("Hint: Python spells named groups `(?P<name>...)`.")
            if re.search(r"bad escape", exc.msg):
                out.append(
                    "Hint: that backslash escape does not exist in Python `re`; escape the backslash or drop it."
                )
    if compiled is not None:
        groups = compiled.groups
        named = list(compiled.groupindex)
        out.append(
            f"Compiles: yes · {groups} capturing group{'s' if groups != 1 else ''}"
            + (f" (named: {', '.join(named)})" if named else "")
        )
    out.append("")
    out.append("## What it matches")
    out.extend(explain(tried, bool(req.flags & re.VERBOSE) or tried.startswith("(?x)")))
    if compiled is not None:
        out.append("")
        if req.samples:
            out.append(f"## Samples ({len(req.samples)})")
            out.extend(test_samples(compiled, req.samples))
            if req.fullmatch_wanted:
                ok = sum(1 for s in req.samples if safe_full(compiled, s))
                out.append("")
                out.append(f"Whole-string (validation) result: {ok} of {len(req.samples)} samples match entirely.")
        else:
            out.append("No samples given: add strings in backticks or quotes to test it, e.g. against `abc`, `a1`.")
    found = pitfalls(pattern, req.flags, req.samples, compiled)
    if found:
        out.append("")
        out.append("## Pitfalls")
        out.extend(f"- {p}" for p in found)
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 100].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB; test fewer samples."
    print(report)
    return 0


def safe_full(rx: re.Pattern[str], s: str) -> bool:
    try:
        return with_budget(rx.fullmatch, s) is not None
    except (Slow, RecursionError):
        return False


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"check_regex.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
