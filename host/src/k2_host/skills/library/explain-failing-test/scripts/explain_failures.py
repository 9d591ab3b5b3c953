"""Explain the failures in a saved test log (pytest, unittest, jest; vitest best effort).

Usage:
    python3 explain_failures.py test.log [more.log ...] < request.txt
    python3 explain_failures.py < request.txt      # the log pasted into the request (e.g. in a code fence)

For every failing test it prints the test id, the error (assertion or exception), the compared values
(got / expected) when the framework shows them, the failing line as file:line, the call path and a short
hint for common error types. Standard library only; deterministic; exit 2 when no test output is found.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUT = 15_000
SEP = "\u203a"  # jest's title separator
ARROW = "\u276f"  # vitest's location marker
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Refusal(Exception):
    """The request or the input cannot be handled; the message is one sentence for the user."""


@dataclass
class Failure:
    framework: str
    test_id: str
    kind: str = "failed"  # failed | error (setup/collection) | ...
    error_type: str = ""
    message: str = ""
    got: str | None = None
    expected: str | None = None
    location: str = ""  # file:line of the failing line in the test
    raised_at: str = ""  # file:line where the exception was raised, if different
    raised_src: str = ""
    source_line: str = ""
    frames: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def clean(text: str) -> str:
    text = ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return text


def short(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Inline Markdown code that survives backticks in the text."""
    text = short(text.replace("\n", " "), 400)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def looks_like_test_file(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return bool(
        re.match(r"test_.*\.py$", name)
        or re.search(r"_test\.py$", name)
        or re.search(r"\.(test|spec)\.[cm]?[jt]sx?$", name)
        or "/tests/" in "/" + path.replace("\\", "/")
        or "/__tests__/" in "/" + path.replace("\\", "/")
    )


def literal(text: str) -> object:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def compare_hint(got: str | None, expected: str | None) -> list[str]:
    """Deterministic observations about two compared values."""
    if got is None or expected is None:
        return []
    g, e = literal(got), literal(expected)
    notes: list[str] = []
    if isinstance(g, (int, float)) and isinstance(e, (int, float)) and not isinstance(g, bool):
        diff = g - e
        notes.append(f"The values differ by {diff:g}.")
        if e not in (0, 0.0) and g not in (0, 0.0):
            ratio = g / e
            for factor in (10, 100, 1000):
                if abs(ratio - factor) < 1e-9 * factor or abs(ratio - 1 / factor) < 1e-9:
                    notes.append(f"One is exactly {factor} times the other: a lost decimal separator or a unit mix-up?")
                    break
            if 0 < abs(diff) <= 1e-6 * max(abs(g), abs(e)):
                notes.append(
                    "The difference is tiny: floating-point rounding; compare with pytest.approx / "
                    "assertAlmostEqual / toBeCloseTo."
                )
        if abs(diff) == 1 and isinstance(g, int) and isinstance(e, int):
            notes.append("Off by one: check loop bounds, ranges and `<` vs `<=`.")
        return notes
    if isinstance(g, str) and isinstance(e, str):
        if g.strip() == e.strip() or " ".join(g.split()) == " ".join(e.split()):
            notes.append("The strings differ only in whitespace.")
        elif g.lower() == e.lower():
            notes.append("The strings differ only in letter case.")
        else:
            idx = next((i for i, (a, b) in enumerate(zip(g, e, strict=False)) if a != b), min(len(g), len(e)))
            a = repr(g[idx]) if idx < len(g) else "end of string"
            b = repr(e[idx]) if idx < len(e) else "end of string"
            notes.append(f"First difference at index {idx}: got {a}, expected {b}.")
        return notes
    if isinstance(g, (list, tuple)) and isinstance(e, (list, tuple)):
        if len(g) != len(e):
            notes.append(f"Lengths differ: got {len(g)} items, expected {len(e)}.")
        idx = next((i for i, (a, b) in enumerate(zip(g, e, strict=False)) if a != b), None)
        if idx is not None:
            notes.append(f"First differing item at index {idx}: got {g[idx]!r}, expected {e[idx]!r}.")
        elif len(g) == len(e) and sorted(map(repr, g)) == sorted(map(repr, e)):
            notes.append("Same items in a different order.")
    if isinstance(g, dict) and isinstance(e, dict):
        missing = [k for k in e if k not in g]
        extra = [k for k in g if k not in e]
        changed = [k for k in e if k in g and g[k] != e[k]]
        if missing:
            notes.append(f"Keys missing from the result: {', '.join(map(repr, missing[:8]))}.")
        if extra:
            notes.append(f"Unexpected keys in the result: {', '.join(map(repr, extra[:8]))}.")
        if changed:
            shown = "; ".join(f"{k!r}: got {g[k]!r}, expected {e[k]!r}" for k in changed[:5])
            notes.append(f"Different values: {shown}.")
    return notes


HINTS: list[tuple[str, str]] = [
    (r"fixture '([^']+)' not found", "pytest has no fixture named {0}: define it in a conftest.py or fix the name."),
    (
        r"^(ModuleNotFoundError|ImportError)",
        "An import failed: check the package is installed in the environment that runs the tests, "
        "the module name, and sys.path / PYTHONPATH (or a missing __init__.py).",
    ),
    (r"^KeyError", "A dict lookup used a key that is not there: check the data the code received or use .get()."),
    (r"NoneType", "A value was None where an object was expected: find where it should have been set."),
    (r"^AttributeError", "The object has no such attribute: check its type and spelling."),
    (r"^IndexError", "A sequence was shorter than the code assumed."),
    (r"^ZeroDivisionError", "A divisor was zero: guard the division or fix the input that produced 0."),
    (r"^TypeError: .*(?:argument|positional)", "A call passed the wrong number or kind of arguments."),
    (r"^(FileNotFoundError|ENOENT)", "A file the test expects is missing: check paths relative to the working dir."),
    (r"^(ConnectionError|ConnectionRefusedError|ECONNREFUSED)", "A service the test needs is not reachable."),
    (r"(?i)timeout|timed out", "Something took too long: a hang, a slow service, or a missing await/resolve."),
    (r"Cannot read propert(?:y|ies) of (undefined|null)", "A value was {0} where an object was expected."),
    (r"is not a function", "The value called is not a function: check the import/export and the mock."),
    (r"Number of calls: 0", "The mock was never called: the code path that should call it did not run."),
    (r"^ReferenceError", "A name is used before it is defined or imported."),
]


def hints_for(f: Failure) -> list[str]:
    text = "\n".join([f"{f.error_type}: {f.message}" if f.error_type else f.message, *f.details])
    out: list[str] = []
    for pattern, hint in HINTS:
        m = re.search(pattern, text, re.M)
        if m:
            out.append(hint.format(*(m.groups() or ("",))))
            break
    return out


# --------------------------------------------------------------------------- pytest

PY_SECTION = re.compile(r"^={3,} (.+?) ={3,}$")
PY_BLOCK = re.compile(r"^_{3,} (.+?) _{3,}$")
PY_LOC = re.compile(r"^((?:[A-Za-z]:)?[^\s:][^:]*?\.\w+):(\d+)(?::(?: (.*))?)?$")
PY_FILE_LINE = re.compile(r"^file (.+), line (\d+)$")
PY_SUMMARY = re.compile(r"^(FAILED|ERROR|XPASS)\s+(\S+)(?:\s+-\s+(.*))?$")
PY_RESULT = re.compile(
    r"^(?:=+ )?((?:\d+ (?:failed|passed|errors?|skipped|xfailed|xpassed|warnings?|deselected)(?:, )?)+"
    r" in [\d.]+s.*?)(?: =+)?$"
)
ASSERT_CMP = re.compile(r"^assert (.+?) (==|!=|<=|>=|<|>|is not|is|not in|in) (.+)$")


def is_pytest(text: str) -> bool:
    return bool(
        re.search(r"^=+ (FAILURES|ERRORS|test session starts|short test summary info) =+$", text, re.M)
        or re.search(r"^(FAILED|ERROR) \S+\.py(::\S+)?", text, re.M)
    )


def parse_pytest(text: str) -> tuple[list[Failure], str]:
    lines = text.split("\n")
    summary = ""
    summary_ids: dict[str, tuple[str, str]] = {}
    sections: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in lines:
        m = PY_SECTION.match(line)
        if m:
            current = (m.group(1).strip(), [])
            sections.append(current)
            r = PY_RESULT.match(line)
            if r:
                summary = r.group(1)
            continue
        r = PY_RESULT.match(line.strip())
        if r:
            summary = r.group(1)
        if current is not None:
            current[1].append(line)
    for name, body in sections:
        if name.lower().startswith("short test summary"):
            for line in body:
                m = PY_SUMMARY.match(line.strip())
                if m:
                    summary_ids[m.group(2)] = (m.group(1), m.group(3) or "")

    failures: list[Failure] = []
    for name, body in sections:
        if name not in ("FAILURES", "ERRORS"):
            continue
        blocks: list[tuple[str, list[str]]] = []
        for line in body:
            m = PY_BLOCK.match(line)
            if m and not re.fullmatch(r"[_ ]+", m.group(1)):
                blocks.append((m.group(1).strip(), []))
            elif blocks:
                blocks[-1][1].append(line)
            else:
                loc = PY_LOC.match(line.strip())  # --tb=line: one "path:line: message" per failure
                if loc and loc.group(3):
                    failures.append(
                        Failure(
                            "pytest",
                            f"{loc.group(1)}:{loc.group(2)}",
                            message=loc.group(3),
                            location=f"{loc.group(1)}:{loc.group(2)}",
                        )
                    )
        for title, block in blocks:
            failures.append(parse_pytest_block(title, block, name == "ERRORS"))

    # --tb=line gives no test names: pair its lines with the summary's entries, which come in the same order.
    line_mode = [f for f in failures if f.test_id == f.location and f.location]
    if line_mode and len(line_mode) == len(summary_ids):
        for f, node in zip(line_mode, summary_ids, strict=True):
            f.test_id = node
            etype, _, rest = f.message.partition(": ")
            if re.fullmatch(r"[A-Za-z_][\w.]*", etype) and rest:
                f.error_type, f.message = etype, rest
                if etype == "AssertionError":
                    cm = ASSERT_CMP.match(rest)
                    if cm:
                        f.got, f.expected = cm.group(1), cm.group(3)
    # Map block titles to full node ids from the short summary.
    for f in failures:
        f.test_id = full_node_id(f.test_id, summary_ids, f.location)
    known = {f.test_id for f in failures}
    for node, (kind, msg) in summary_ids.items():  # e.g. --tb=no: only the summary lists failures
        if node not in known:
            etype, _, rest = msg.partition(": ")
            fl = Failure("pytest", node, kind="error" if kind == "ERROR" else "failed")
            if re.fullmatch(r"[A-Za-z_][\w.]*", etype) and rest:
                fl.error_type, fl.message = etype, rest
            else:
                fl.message = msg
            if msg.endswith("..."):
                fl.notes.append("The summary line is cut by pytest; run with -rA or -vv for the full message.")
            failures.append(fl)
    return failures, summary


def full_node_id(title: str, summary_ids: dict[str, tuple[str, str]], location: str) -> str:
    m = re.match(r"ERROR (?:at (?:setup|teardown) of|collecting) (.+)$", title)
    core = m.group(1) if m else title
    dotted = core.replace(".", "::")
    for node in summary_ids:
        if node == core or node.endswith("::" + dotted) or node.endswith("::" + core):
            return node
    if location and "::" not in core and not core.endswith(".py"):
        path = location.rsplit(":", 1)[0]
        if looks_like_test_file(path):
            return f"{path}::{dotted}"
    return core


def parse_pytest_block(title: str, block: list[str], in_errors: bool) -> Failure:
    f = Failure("pytest", title)
    if any(b.startswith("Traceback (most recent call last)") for b in block) and not any(
        b.startswith("E ") for b in block
    ):  # --tb=native: a plain Python traceback
        start = max(i for i, b in enumerate(block) if b.startswith("Traceback (most recent call last)"))
        fill_from_traceback(f, block[start:])
        return f
    if in_errors or title.startswith("ERROR"):
        f.kind = "error"
        if "at setup of" in title:
            f.kind = "error in setup (fixture)"
        elif "at teardown of" in title:
            f.kind = "error in teardown"
        elif "collecting" in title:
            f.kind = "error while collecting (the module did not import)"
    e_lines: list[str] = []
    frames: list[list[str]] = []  # [path, line, rest, source]
    pending_src = ""
    captured: dict[str, list[str]] = {}
    cap_name = ""
    for raw in block:
        line = raw.rstrip()
        cap = re.match(r"^-{3,} (Captured .+?) -{3,}$", line)
        if cap:
            cap_name = cap.group(1)
            captured[cap_name] = []
            continue
        if cap_name:
            captured[cap_name].append(line)
            continue
        if line.startswith("E ") or line == "E":
            e_lines.append(line[1:].strip())
            continue
        if line.startswith(">"):
            pending_src = line[1:].strip()  # long format: the code comes before its location line
            continue
        m = PY_LOC.match(line.strip()) if not line.startswith(" ") else None
        fm = PY_FILE_LINE.match(line.strip())
        if m or fm:
            path, num, rest = (
                (m.group(1), m.group(2), (m.group(3) or "").strip()) if m else (fm.group(1), fm.group(2), "")
            )
            frames.append([path, num, rest, pending_src])
            pending_src = ""
            continue
        if frames and not frames[-1][3] and frames[-1][2].startswith("in ") and line.startswith("    "):
            frames[-1][3] = line.strip()  # short format: the code follows its location line
    last_src = frames[-1][3] if frames else pending_src
    while e_lines and not e_lines[-1]:
        e_lines.pop()
    f.details = e_lines[:15]
    first = next((x for x in e_lines if x), "")
    m = re.match(
        r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|Failed|Failure)|[A-Z]\w*Error)(?::\s*(.*))?$",
        first,
    )
    if m:
        f.error_type, f.message = m.group(1), (m.group(2) or "").strip()
    else:
        f.error_type = "AssertionError" if first.startswith("assert ") else ""
        f.message = first
    if f.error_type == "AssertionError":
        for x in e_lines:
            body = x[len("AssertionError: ") :] if x.startswith("AssertionError: ") else x
            cm = ASSERT_CMP.match(body)
            if cm:
                f.got, f.expected = cm.group(1), cm.group(3)
                if cm.group(2) != "==":
                    f.notes.append(f"The assertion compares with `{cm.group(2)}` (left side first).")
                break
        for x in e_lines:
            wm = re.match(r"^\+\s+where (.+?) = (.+)$", x)
            if wm:
                f.notes.append(f"{code(wm.group(1))} came from {code(wm.group(2))}.")
    if frames:
        test_frames = [fr for fr in frames if looks_like_test_file(fr[0])]
        crash = frames[-1]
        anchor = test_frames[0] if test_frames else frames[0]
        f.location = f"{anchor[0]}:{anchor[1]}"
        f.source_line = anchor[3] or (last_src if anchor is crash else "")
        if (crash[0], crash[1]) != (anchor[0], anchor[1]):
            f.raised_at = f"{crash[0]}:{crash[1]}"
            f.raised_src = crash[3]
        seen: list[tuple[str, str]] = []
        for p, ln, rest, _src in frames:
            label = f"{p}:{ln}" + (f" ({rest[3:]})" if rest.startswith("in ") else "")
            if seen and seen[-1][0] == f"{p}:{ln}":
                if "(" in label and "(" not in seen[-1][1]:
                    seen[-1] = (f"{p}:{ln}", label)
                continue
            seen.append((f"{p}:{ln}", label))
        if len(seen) > 1:
            f.frames = [lab for _, lab in seen]
        if not f.error_type and crash[2] and not crash[2].startswith("in "):
            f.error_type = crash[2]
    for name, body in captured.items():
        body = [b for b in body if b.strip()]
        if body:
            shown = "; ".join(short(b, 120) for b in body[:3])
            more = f" (+{len(body) - 3} more lines)" if len(body) > 3 else ""
            f.notes.append(f"{name}: {shown}{more}")
    return f


# --------------------------------------------------------------------------- unittest / Python tracebacks

LIBRARY_PATH = re.compile(r"[/\\](site-packages|dist-packages|_pytest|pluggy|unittest|lib[/\\]python3\.\d+)[/\\]")
UT_HEAD = re.compile(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([^)]*)\)(.*)$")
TB_FRAME = re.compile(r'^\s*File "(.+?)", line (\d+)(?:, in (.+))?$')
UT_CMP = re.compile(
    r"^(?:(?:Lists|Tuples|Sets|Sequences|Dicts|Items) differ: )?(.+?) != (.+?)(?: within .+)?(?: : (.*))?$"
)


def is_unittest(text: str) -> bool:
    return bool(re.search(r"^(FAIL|ERROR): \S+ \(", text, re.M) and re.search(r"^-{40,}$", text, re.M))


def parse_unittest(text: str) -> tuple[list[Failure], str]:
    lines = text.split("\n")
    failures: list[Failure] = []
    summary_bits = []
    m = re.search(r"^Ran (\d+) tests? in ([\d.]+s)", text, re.M)
    if m:
        summary_bits.append(f"ran {m.group(1)} tests in {m.group(2)}")
    m = re.search(r"^(FAILED|OK)\b(.*)$", text, re.M)
    if m:
        summary_bits.append((m.group(1) + m.group(2)).strip())
    i = 0
    while i < len(lines):
        h = UT_HEAD.match(lines[i])
        if not h:
            i += 1
            continue
        kind, method, where, extra = h.groups()
        test_id = where if where.endswith("." + method) else f"{where}.{method}"
        f = Failure("unittest", test_id + (f" {extra.strip()}" if extra.strip() else ""))
        f.kind = {"FAIL": "failed", "ERROR": "error (an exception, not an assertion)"}.get(kind, kind.lower())
        j = i + 1
        body: list[str] = []
        while (
            j < len(lines)
            and not re.match(r"^={40,}$", lines[j])
            and not (re.match(r"^-{40,}$", lines[j]) and j + 1 < len(lines) and lines[j + 1].startswith("Ran "))
        ):
            body.append(lines[j])
            j += 1
        fill_from_traceback(f, [b for b in body if not re.match(r"^-{40,}$", b)])
        method_name = method
        for fr in f.frames:
            if fr.endswith(f"({method_name})"):
                f.location = fr.rsplit(" (", 1)[0]
                break
        failures.append(f)
        i = j
    return failures, ", ".join(summary_bits)


def fill_from_traceback(f: Failure, body: list[str]) -> None:
    """Frames, source lines and the final exception of a Python traceback (chained ones: the last)."""
    frames: list[tuple[str, str, str, str]] = []
    exc_lines: list[str] = []
    chained = []
    state = "start"
    k = 0
    while k < len(body):
        line = body[k]
        fm = TB_FRAME.match(line)
        if fm:
            src = ""
            if k + 1 < len(body) and body[k + 1].startswith("    ") and not TB_FRAME.match(body[k + 1]):
                src = body[k + 1].strip()
                k += 1
            frames.append((fm.group(1), fm.group(2), fm.group(3) or "", src))
            exc_lines = []
            state = "frames"
        elif line.startswith("Traceback (most recent call last)"):
            if exc_lines:
                chained.append(exc_lines[0])
            frames, exc_lines, state = [], [], "frames"
        elif re.match(r"^(During handling of the above exception|The above exception was the direct cause)", line):
            state = "between"
        elif state in ("frames", "exc") and (exc_lines or (line.strip() and not line.startswith(" "))):
            exc_lines.append(line.rstrip())
            state = "exc"
        k += 1
    while exc_lines and not exc_lines[-1].strip():
        exc_lines.pop()
    if chained:
        f.notes.append(f"Raised while handling an earlier exception: {code(chained[-1])}.")
    first = exc_lines[0] if exc_lines else ""
    m = re.match(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$", first)
    if m:
        f.error_type, f.message = m.group(1), (m.group(2) or "").strip()
    else:
        f.message = first
    f.details = [x for x in exc_lines[1:16]]
    pm = ASSERT_CMP.match(f.message) if f.error_type.endswith("AssertionError") else None
    if pm:  # pytest's rewritten assert in a native traceback
        f.got, f.expected = pm.group(1), pm.group(3)
    elif f.error_type.endswith("AssertionError") and f.message:
        cm = UT_CMP.match(f.message)
        if cm and not f.message.startswith(("False is not", "True is not")):
            f.got, f.expected = cm.group(1), cm.group(2)
            if cm.group(3):
                f.notes.append(f"The assertion's own message: {code(cm.group(3))}.")
            f.notes.append("unittest prints `first != second` in the order the assert call got them.")
    own = [fr for fr in frames if not LIBRARY_PATH.search(fr[0])]
    if own:
        frames = own  # test runner and site-packages frames say little about the failure
    if frames:
        labels = [f"{p}:{ln}" + (f" ({fn})" if fn else "") for p, ln, fn, _ in frames]
        f.frames = labels if len(labels) > 1 else []
        test_frames = [fr for fr in frames if looks_like_test_file(fr[0])]
        anchor = test_frames[-1] if test_frames else frames[0]
        crash = frames[-1]
        f.location = f"{anchor[0]}:{anchor[1]}"
        f.source_line = anchor[3]
        if crash is not anchor:
            f.raised_at = f"{crash[0]}:{crash[1]}" + (f" in {crash[2]}" if crash[2] else "")
            f.raised_src = crash[3]


# --------------------------------------------------------------------------- jest / vitest

JEST_BULLET = re.compile(r"^\s*● (.+)$")
JEST_AT = re.compile(r"^\s*at (?:(.+?) \()?((?:[A-Za-z]:)?[^\s()]+?):(\d+):(\d+)\)?$")
VITEST_HEAD = re.compile(r"^\s*FAIL\s+(\S+)\s+>\s+(.+?)\s*$")
VITEST_AT = re.compile(r"^\s*" + ARROW + r"\s+((?:[A-Za-z]:)?[^\s:]+):(\d+):(\d+)")


def is_jest(text: str) -> bool:
    return bool(re.search(r"^\s*● ", text, re.M) or re.search(r"^Tests:\s+.*\d+ (failed|passed)", text, re.M))


def is_vitest(text: str) -> bool:
    return bool(VITEST_HEAD.search(text) or re.search(r"^\s*" + ARROW + r" \S+:\d+:\d+", text, re.M))


def parse_jest(text: str) -> tuple[list[Failure], str]:
    lines = text.split("\n")
    failures: list[Failure] = []
    summary = ""
    m = re.search(r"^Tests:\s+(.+)$", text, re.M)
    if m:
        summary = m.group(1).strip()
    suite = ""
    i = 0
    while i < len(lines):
        sm = re.match(r"^\s*(FAIL|PASS)\s+(\S+)", lines[i])
        if sm:
            suite = sm.group(2)
            i += 1
            continue
        bm = JEST_BULLET.match(lines[i])
        if not bm:
            i += 1
            continue
        title = bm.group(1).strip()
        j = i + 1
        block: list[str] = []
        while (
            j < len(lines)
            and not JEST_BULLET.match(lines[j])
            and not re.match(r"^\s*(FAIL|PASS)\s+\S+|^(Test Suites|Tests|Snapshots|Time):", lines[j])
        ):
            block.append(lines[j])
            j += 1
        failures.append(parse_jest_block(suite, title, block))
        i = j
    return failures, summary


def parse_jest_block(suite: str, title: str, block: list[str]) -> Failure:
    name = f" {SEP} ".join(p.strip() for p in title.split(SEP))
    f = Failure("jest", f"{suite} {SEP} {name}" if suite else name)
    if title.strip() == "Test suite failed to run":
        f.kind = "error (the test file did not load)"
    diff: list[str] = []
    in_diff = False
    for raw in block:
        line = raw.rstrip()
        s = line.strip()
        if not s:
            continue
        mm = re.match(r"^expect\((.+?)\)\.(\S+?)\((.*?)\)(?:\s*//\s*(.+))?$", s)
        if mm and not f.error_type:
            f.error_type = f"expect(…).{mm.group(2)}"
            f.message = s
            continue
        em = re.match(r"^(Expected|Received)([\w\s]*?):\s+(.*)$", s)
        if em and not re.match(r"^[-+] ", s):
            label = em.group(1) + em.group(2)
            value = em.group(3).strip()
            if em.group(1) == "Expected" and f.expected is None:
                f.expected = value
            elif em.group(1) == "Received" and f.got is None:
                f.got = value
            if em.group(2).strip():
                f.details.append(f"{label}: {value}")
            continue
        if re.match(r"^- Expected\b", s) or re.match(r"^\+ Received\b", s):
            in_diff = True
            continue
        cf = re.match(r"^>\s*(\d+)\s*\|\s?(.*)$", s)
        if cf:
            f.source_line = cf.group(2).strip()
            in_diff = False
            continue
        if re.match(r"^\d+\s*\|", s) or re.match(r"^\|\s*\^", s):
            in_diff = False
            continue
        am = JEST_AT.match(line)
        if am:
            path = am.group(2)
            if "node_modules" in path or path.startswith(("node:", "internal/")):
                continue
            loc = f"{path}:{am.group(3)}:{am.group(4)}"
            f.frames.append(loc + (f" ({am.group(1)})" if am.group(1) else ""))
            continue
        if in_diff:
            diff.append(s if s.startswith(("-", "+")) else "  " + s)
            continue
        if not f.error_type:
            xm = re.match(r"^([A-Z]\w*(?:Error|Exception))(?::\s*(.*))?$", s)
            if xm:
                f.error_type, f.message = xm.group(1), (xm.group(2) or "").strip()
                continue
            if re.match(r"^(Number of calls|Received number of calls|Expected number of calls)", s):
                f.details.append(s)
                continue
        if re.match(r"^(Number of calls|Received number of calls|Expected number of calls)", s):
            f.details.append(s)
    if diff:
        f.details.extend(["diff (- expected, + received):", *diff[:14]])
        if f.expected is None:
            changed_minus = [d[1:].strip() for d in diff if d.startswith("-")]
            changed_plus = [d[1:].strip() for d in diff if d.startswith("+")]
            if changed_minus or changed_plus:
                f.expected = " / ".join(changed_minus[:3]) or "(nothing)"
                f.got = " / ".join(changed_plus[:3]) or "(nothing)"
    if f.frames:
        test_frames = [fr for fr in f.frames if looks_like_test_file(fr.split(":")[0])]
        first = f.frames[0].split(" (")[0]
        anchor = test_frames[0].split(" (")[0] if test_frames else first
        f.location = anchor
        if first != anchor:
            f.raised_at = first
            f.raised_src, f.source_line = f.source_line, ""  # jest's code frame shows the top frame
        if len(f.frames) == 1:
            f.frames = []
        else:
            f.frames = list(reversed(f.frames))  # outermost first, like Python tracebacks
    return f


def parse_vitest(text: str) -> tuple[list[Failure], str]:
    lines = text.split("\n")
    failures: list[Failure] = []
    m = re.search(r"^\s*Tests\s+(.+)$", text, re.M)
    summary = m.group(1).strip() if m else ""
    i = 0
    while i < len(lines):
        h = VITEST_HEAD.match(lines[i])
        if not h:
            i += 1
            continue
        parts = [p.strip() for p in h.group(2).split(">")]
        f = Failure("vitest", f" {SEP} ".join([h.group(1), *parts]))
        j = i + 1
        while (
            j < len(lines)
            and not VITEST_HEAD.match(lines[j])
            and not re.match(r"^\s*(Test Files|⎯{5,}.*Failed)", lines[j])
        ):
            s = lines[j].strip()
            xm = re.match(r"^([A-Z]\w*(?:Error|Exception))(?::\s*(.*))?$", s)
            if xm and not f.error_type:
                f.error_type, f.message = xm.group(1), (xm.group(2) or "").strip()
                cm = re.match(
                    r"^expected (.+?) to (?:be|equal|deeply equal|strictly equal) (.+?)(?: //.*)?$", f.message
                )
                if cm:
                    f.got, f.expected = cm.group(1), cm.group(2)
            am = VITEST_AT.match(lines[j])
            if am and not f.location:
                f.location = f"{am.group(1)}:{am.group(2)}:{am.group(3)}"
            cf = re.match(r"^>?\s*(\d+)\|\s?(.*)$", s)
            if cf and f.location and not f.source_line and cf.group(1) == f.location.split(":")[-2]:
                f.source_line = cf.group(2).strip()
            j += 1
        failures.append(f)
        i = j
    return failures, summary


# --------------------------------------------------------------------------- report


def render(failures: list[Failure], summaries: list[str], frameworks: list[str], sources: list[str]) -> str:
    out: list[str] = []
    n = len(failures)
    fw = ", ".join(dict.fromkeys(frameworks))
    head = f"# {n} failing test{'s' if n != 1 else ''} ({fw})" if n else f"# No failing tests found ({fw})"
    out.append(head)
    if sources:
        out.append(f"Log: {', '.join(sources)}")
    for s in summaries:
        if s:
            out.append(f"Run summary: {s}")
    for k, f in enumerate(failures, 1):
        out.append("")
        out.append(f"## {k}. {code(f.test_id)}")
        if f.kind != "failed":
            out.append(f"- **Kind:** {f.kind}")
        if f.error_type:
            out.append(f"- **Error:** {code(f.error_type)}" + (f" — {code(f.message)}" if f.message else ""))
        else:
            out.append(f"- **Error:** {code(f.message or 'no message in the log')}")
        if f.got is not None or f.expected is not None:
            if f.framework == "pytest":
                out.append(
                    f"- **Got (left side):** {code(f.got or '?')} · **expected (right side):** "
                    f"{code(f.expected or '?')}"
                )
            elif f.framework == "unittest":
                out.append(
                    f"- **First argument:** {code(f.got or '?')} · **second argument:** {code(f.expected or '?')}"
                )
            else:
                out.append(f"- **Received:** {code(f.got or '?')} · **expected:** {code(f.expected or '?')}")
        if f.location:
            line = f"- **Failing line:** {code(f.location)}"
            if f.source_line:
                line += f" — {code(f.source_line)}"
            out.append(line)
        if f.raised_at:
            out.append(f"- **Raised at:** {code(f.raised_at)}" + (f" — {code(f.raised_src)}" if f.raised_src else ""))
        if f.frames:
            out.append(
                f"- **Call path (outermost first):** {' → '.join(f.frames[:8])}" + (" → …" if len(f.frames) > 8 else "")
            )
        notes = [*f.notes, *compare_hint(f.got, f.expected), *hints_for(f)]
        for note in notes:
            out.append(f"- {note}")
        details = [d for d in f.details if d.strip()]
        if details and not (len(details) == 1 and details[0].strip() == f.message.strip()):
            out.append("")
            out.append("```text")
            out.extend(short(d, 200) for d in f.details[:16])
            out.append("```")
    if n:
        out.append("")
        out.append(
            "Next: open each failing line above; the values and the raise site say what differs, not why. "
            "Deciding whether the code or the test is wrong needs reading the code."
        )
    return "\n".join(out)


def extract_log_from_request(request: str) -> str:
    fences = re.findall(r"```[^\n]*\n(.*?)```", request, re.S)
    if fences:
        return "\n".join(fences)
    return request


def analyse(text: str) -> tuple[list[Failure], list[str], list[str]]:
    text = clean(text)
    failures: list[Failure] = []
    summaries: list[str] = []
    frameworks: list[str] = []
    parsers = [
        ("pytest", is_pytest, parse_pytest),
        ("unittest", is_unittest, parse_unittest),
        ("jest", is_jest, parse_jest),
        ("vitest", is_vitest, parse_vitest),
    ]
    for name, detect, parse in parsers:
        if name == "vitest" and "jest" in frameworks:
            continue
        if detect(text):
            found, summary = parse(text)
            frameworks.append(name)
            failures.extend(found)
            if summary:
                summaries.append(summary)
    if not frameworks and "Traceback (most recent call last)" in text:  # a bare Python traceback
        f = Failure("python", "traceback")
        body = text.split("\n")
        start = max(i for i, x in enumerate(body) if x.startswith("Traceback (most recent call last)"))
        fill_from_traceback(f, body[start:])
        failures.append(f)
        frameworks.append("Python traceback")
    return failures, summaries, frameworks


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    texts: list[tuple[str, str]] = []
    for arg in argv:
        p = Path(arg)
        try:
            texts.append((p.name, p.read_bytes().decode("utf-8", "replace")))
        except OSError as exc:
            raise Refusal(f"Could not read {arg}: {exc.strerror or exc}.") from None
    if not texts:
        pasted = extract_log_from_request(request)
        if not pasted.strip():
            raise Refusal(
                "Give me the test output: save it to a file (e.g. `pytest > test.log 2>&1`) and name the file, "
                "or paste the log in a code fence."
            )
        texts.append(("", pasted))
    all_failures: list[Failure] = []
    all_summaries: list[str] = []
    all_frameworks: list[str] = []
    sources: list[str] = []
    for name, text in texts:
        failures, summaries, frameworks = analyse(text)
        if name:
            sources.append(name)
        all_failures.extend(failures)
        all_summaries.extend(summaries)
        all_frameworks.extend(frameworks)
    if not all_frameworks:
        what = ", ".join(n for n, _ in texts if n) or "the request"
        raise Refusal(
            f"I found no pytest, unittest or jest output in {what}: save the complete test run output "
            "(e.g. `pytest > test.log 2>&1` or `npx jest 2> jest.log`) and name that file."
        )
    # Filter by a test name the user mentions, e.g. "why does test_total fail".
    wanted = [w for w in re.findall(r"[`'\"]?\b(test\w+|\w+Test\w*)\b[`'\"]?", request) if len(w) > 4]
    picked = [f for f in all_failures if any(w in f.test_id for w in wanted)] if wanted else []
    shown = picked or all_failures
    report = render(shown, all_summaries, all_frameworks, sources)
    if picked and len(picked) < len(all_failures):
        report += (
            f"\n\n(Showing the {len(picked)} failure(s) matching {', '.join(wanted)}; the log has {len(all_failures)}.)"
        )
    if len(report) > MAX_OUT:
        report = (
            report[: MAX_OUT - 120].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB; name one test to see it alone."
        )
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"explain_failures.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
