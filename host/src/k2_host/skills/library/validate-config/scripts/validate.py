"""Check the syntax of JSON, TOML, INI and XML files and point at the line and column of any error.

Usage:
    python3 validate.py config.json pyproject.toml setup.cfg pom.xml [...] < request.txt

The format comes from the request ("as TOML"), else the extension (.json .jsonc .toml .ini .cfg .conf .xml .svg
.xsd .plist .csproj ...), else the content. Valid files get a short summary of their structure; invalid ones
the first error with line:column, the offending line with a caret and a hint for common causes (trailing
comma, comment in JSON, single quotes, unquoted TOML string, duplicate section, unclosed tag, bare &).
JSON duplicate keys are reported as warnings. XML is checked for well-formedness only (no schema).
Exit 2 when no file is given.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

MAX_OUT = 15_000
EXT = {
    ".json": "JSON",
    ".jsonc": "JSON",
    ".json5": "JSON",
    ".geojson": "JSON",
    ".webmanifest": "JSON",
    ".toml": "TOML",
    ".ini": "INI",
    ".cfg": "INI",
    ".conf": "INI",
    ".cnf": "INI",
    ".desktop": "INI",
    ".service": "INI",
    ".xml": "XML",
    ".svg": "XML",
    ".xsd": "XML",
    ".xsl": "XML",
    ".xslt": "XML",
    ".plist": "XML",
    ".csproj": "XML",
    ".fsproj": "XML",
    ".vbproj": "XML",
    ".props": "XML",
    ".targets": "XML",
    ".resx": "XML",
    ".xaml": "XML",
    ".pom": "XML",
    ".xhtml": "XML",
    ".rss": "XML",
    ".atom": "XML",
    ".kml": "XML",
    ".gpx": "XML",
}
KNOWN_NAMES = {".editorconfig": "INI", ".gitconfig": "INI", "pylintrc": "INI", ".pylintrc": "INI", ".flake8": "INI"}
UNSUPPORTED = {".yaml": "YAML", ".yml": "YAML", ".env": "dotenv", ".hcl": "HCL", ".tf": "HCL"}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def caret(lines: list[str], line: int, col: int) -> list[str]:
    if not 1 <= line <= len(lines):
        return []
    src = lines[line - 1].replace("\t", " ")
    shown = src if len(src) <= 160 else src[max(0, col - 80) : col + 80]
    offset = col - 1 if len(src) <= 160 else min(col - 1, 79)
    out = ["```text"]
    if line > 1:
        prev = lines[line - 2].replace("\t", " ")
        out.append(f"{line - 1:>5} | {prev[:160]}")
    out.append(f"{line:>5} | {shown}")
    out.append("      | " + " " * max(0, offset) + "^")
    out.append("```")
    return out


def sniff(text: str) -> str:
    s = text.lstrip("\ufeff \t\r\n")
    if s.startswith(("{", "[")) and not re.match(r"^\[[\w .\"'-]+\]\s*$", s.split("\n", 1)[0]):
        return "JSON"
    if s.startswith("<"):
        return "XML"
    if re.search(r"(?m)^\s*\[[^\]]+\]\s*$", s) or re.search(r"(?m)^\s*[\w.-]+\s*[=:]", s):
        if re.search(r'(?m)^\s*[\w."-]+\s*=\s*("|\'|\[|\{|\d|true\b|false\b)', s) and not re.search(
            r"(?m)^\s*[\w.-]+\s*:\s*\S", s
        ):
            return "TOML"
        return "INI"
    return ""


# --------------------------------------------------------------------------- JSON


def json_hint(msg: str, lines: list[str], line: int, col: int) -> str:
    src = lines[line - 1] if 1 <= line <= len(lines) else ""
    before = "\n".join(lines[: line - 1]) + "\n" + src[: col - 1]
    here = src[col - 1 :] if col >= 1 else src
    if not "".join(lines).strip():
        return "the file is empty: an empty file is not a JSON document (use {} or [])."
    at_end = not here.strip() and not "".join(lines[line:]).strip()
    if at_end and ("delimiter" in msg or "Expecting value" in msg or "Expecting property" in msg):
        return "the file ends before every `[` / `{` is closed: a closing bracket (or more) is missing."
    if re.search(r",\s*$", before) and re.match(r"\s*[}\]]", here):
        return "a trailing comma before a closing bracket: JSON allows none; remove it."
    if re.match(r"\s*(//|/\*|#)", here):
        return "a comment: JSON has no comments (JSONC/JSON5 do); remove it or use a format that allows them."
    if re.match(r"\s*'", here):
        return "single quotes: JSON strings and keys need double quotes."
    if "Expecting property name" in msg and re.match(r"\s*[A-Za-z_$]", here):
        return "an unquoted key: JSON keys need double quotes."
    if "Expecting ',' delimiter" in msg:
        return "a missing comma between two items (or an unescaped double quote inside a string)."
    if "Invalid control character" in msg:
        return "a raw tab or newline inside a string: escape it as \\t or \\n."
    if "Extra data" in msg:
        return (
            "more than one top-level value (or an extra closing bracket): JSON has exactly one; one object "
            "per line is JSON Lines (.jsonl)."
        )
    if re.match(r"\s*(True|False|None|NaN|Infinity|undefined)\b", here):
        return "a non-JSON literal: use true, false, null (NaN and Infinity are not JSON)."
    if "Expecting value" in msg and not here.strip() and line >= len(lines):
        return "the file ends too early: a value or closing bracket is missing."
    if "Unterminated string" in msg:
        return "a string without its closing double quote."
    return ""


def check_json(text: str, lines: list[str]) -> tuple[bool, list[str]]:
    dupes: list[str] = []

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for k, v in pairs:
            if k in seen:
                dupes.append(k)
            seen[k] = v
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        out = [f"**Invalid JSON** at line {exc.lineno}, column {exc.colno}: {exc.msg}."]
        out.extend(caret(lines, exc.lineno, exc.colno))
        hint = json_hint(exc.msg, lines, exc.lineno, exc.colno)
        if hint:
            out.append(f"Likely cause: {hint}")
        return False, out
    except RecursionError:
        return False, ["**Invalid JSON**: nested too deeply to parse."]
    out = [f"**Valid JSON**: {describe(data)}."]
    if dupes:
        where = []
        for k in list(dict.fromkeys(dupes))[:8]:
            hits = [i + 1 for i, ln in enumerate(lines) if re.search(rf'"{re.escape(k)}"\s*:', ln)]
            label = "line" if len(hits) == 1 else "lines"
            where.append(f"`{k}` ({label} {', '.join(map(str, hits[:4]))})" if hits else f"`{k}`")
        out.append(f"Warning: duplicate keys, the last value wins: {', '.join(where)}.")
    return True, out


def describe(data: object) -> str:
    if isinstance(data, dict):
        keys = list(data)
        shown = ", ".join(f"`{k}`" for k in keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
        return f"an object with {len(keys)} top-level key{'s' if len(keys) != 1 else ''}" + (
            f": {shown}" if keys else ""
        )
    if isinstance(data, list):
        kinds = sorted({type(x).__name__ for x in data})
        return f"an array of {len(data)} item{'s' if len(data) != 1 else ''}" + (
            f" ({', '.join(kinds)})" if data else ""
        )
    return f"a single {type(data).__name__} value"


# --------------------------------------------------------------------------- TOML


def check_toml(text: str, lines: list[str]) -> tuple[bool, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        clean = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg).rstrip(".")
        clean = re.sub(r"\('([^']*)',\)", r"[\1]", clean)
        if not m and "end of document" in msg:
            line, col = len(lines), len(lines[-1]) + 1 if lines else 1
        out = [f"**Invalid TOML** at line {line}, column {col}: {clean}." if line else f"**Invalid TOML**: {clean}."]
        out.extend(caret(lines, line, col))
        hint = toml_hint(clean, lines, line, col)
        if hint:
            out.append(f"Likely cause: {hint}")
        return False, out
    tables = [k for k, v in data.items() if isinstance(v, dict)]
    keys = [k for k, v in data.items() if not isinstance(v, dict)]
    parts = []
    if tables:
        parts.append(
            f"{len(tables)} table{'s' if len(tables) != 1 else ''} ({', '.join(f'[{t}]' for t in tables[:10])})"
        )
    if keys:
        parts.append(f"{len(keys)} top-level key{'s' if len(keys) != 1 else ''}")
    return True, [f"**Valid TOML**: {', '.join(parts) or 'empty document'}."]


def toml_hint(msg: str, lines: list[str], line: int, col: int) -> str:
    src = lines[line - 1] if 1 <= line <= len(lines) else ""
    value = src.split("=", 1)[1].strip() if "=" in src else ""
    if re.fullmatch(r"(True|False)", value):
        return "booleans are lower case in TOML: true / false."
    if "Invalid value" in msg and value and re.match(r"[A-Za-z]", value) and value not in ("true", "false"):
        return f'an unquoted string: write `{src.split("=", 1)[0].strip()} = "{value}"`.'
    if "Cannot declare" in msg or "redefine" in msg.lower() or "overwrite" in msg.lower():
        return "a table or key defined twice: merge the two definitions."
    if re.search(r"(?i)\b(True|False)\b", value):
        return "booleans are lower case in TOML: true / false."
    if "Expected '=' after a key" in msg or "Invalid statement" in msg:
        return "a line that is not `key = value`, `[table]` or a comment (INI-style `key: value` is not TOML)."
    if "Unclosed" in msg or "Illegal character" in msg:
        return "a string or array without its closing quote or bracket, or a raw control character in a string."
    return ""


# --------------------------------------------------------------------------- INI


def check_ini(text: str, lines: list[str]) -> tuple[bool, list[str]]:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        cp.read_string(text)
    except configparser.MissingSectionHeaderError as exc:
        out = [f"**Invalid INI** at line {exc.lineno}, column 1: a key comes before any `[section]` header."]
        out.extend(caret(lines, exc.lineno, 1))
        out.append("Likely cause: add a `[section]` line at the top (Python's configparser requires one).")
        return False, out
    except configparser.DuplicateSectionError as exc:
        line = exc.lineno or 0
        out = [f"**Invalid INI** at line {line}, column 1: section `[{exc.section}]` appears twice."]
        out.extend(caret(lines, line, 1))
        return False, out
    except configparser.DuplicateOptionError as exc:
        line = exc.lineno or 0
        src = lines[line - 1] if 1 <= line <= len(lines) else ""
        col = len(src) - len(src.lstrip()) + 1
        out = [f"**Invalid INI** at line {line}, column {col}: option `{exc.option}` repeats in `[{exc.section}]`."]
        out.extend(caret(lines, line, col))
        return False, out
    except configparser.ParsingError as exc:
        errs = getattr(exc, "errors", [])
        line = errs[0][0] if errs else 0
        out = [
            f"**Invalid INI** at line {line}, column 1: the line is neither `[section]`, `key = value` nor a comment."
        ]
        out.extend(caret(lines, line, 1))
        if len(errs) > 1:
            out.append(f"Also unparsable: lines {', '.join(str(e[0]) for e in errs[1:10])}.")
        return False, out
    except configparser.Error as exc:
        return False, [f"**Invalid INI**: {exc}"]
    sections = cp.sections()
    n_keys = sum(len(cp[s]) for s in sections)
    shown = ", ".join(f"[{s}]" for s in sections[:10]) + (" …" if len(sections) > 10 else "")
    out = [f"**Valid INI**: {len(sections)} section{'s' if len(sections) != 1 else ''} ({shown}), {n_keys} keys."]
    empty = [s for s in sections if not len(cp[s])]
    if empty:
        out.append(f"Note: empty sections: {', '.join(f'[{s}]' for s in empty[:10])}.")
    return True, out


# --------------------------------------------------------------------------- XML


def check_xml(text: str, lines: list[str]) -> tuple[bool, list[str]]:
    warn = "Note: the document declares entities in a DTD." if "<!ENTITY" in text else ""
    try:
        root = ET.fromstring(text)  # noqa: S314 -- the user's own file; expat limits entity amplification
    except ET.ParseError as exc:
        line, col0 = exc.position
        msg = re.sub(r": line \d+, column \d+$", "", str(exc))
        out = [f"**Invalid XML** at line {line}, column {col0 + 1}: {msg}."]
        out.extend(caret(lines, line, col0 + 1))
        hint = xml_hint(msg, lines, line, col0 + 1)
        if hint:
            out.append(f"Likely cause: {hint}")
        return False, out
    count = sum(1 for _ in root.iter())
    tag = re.sub(r"^\{[^}]*\}", "", root.tag)
    ns = re.match(r"^\{([^}]*)\}", root.tag)
    out = [
        f"**Valid XML** (well-formed): root `<{tag}>`"
        + (f" in namespace {ns.group(1)}" if ns else "")
        + f", {count} elements."
    ]
    if warn:
        out.append(warn)
    out.append("Well-formed only: no schema (XSD/DTD) validation.")
    return True, out


def xml_hint(msg: str, lines: list[str], line: int, col: int) -> str:
    if "mismatched tag" in msg:
        return "a closing tag that does not match the open one (a tag left open above, or a typo)."
    if "not well-formed (invalid token)" in msg:
        src = lines[line - 1] if 1 <= line <= len(lines) else ""
        ch = src[col - 1 : col]
        if ch == "&" or "&" in src:
            return "a bare `&`: write `&amp;` (and `&lt;` for `<` inside text)."
        return "a character that cannot appear there (a bare `<` or `&`, or a broken attribute)."
    if "unclosed token" in msg or "no element found" in msg:
        return "the document ends while a tag, comment or CDATA section is still open."
    if "junk after document element" in msg:
        return "more than one root element, or text after the root's closing tag."
    if "undefined entity" in msg:
        return "an HTML entity such as `&nbsp;`: XML knows only &amp; &lt; &gt; &quot; &apos; (use `&#160;`)."
    if "duplicate attribute" in msg:
        return "the same attribute twice on one element."
    if "XML or text declaration not at start" in msg:
        return "something (a blank line, a BOM, text) before `<?xml ...?>`: it must be the very first thing."
    return ""


CHECKERS = {"JSON": check_json, "TOML": check_toml, "INI": check_ini, "XML": check_xml}


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    if not argv:
        raise Refusal("Name the configuration files to check, e.g. 'validate config.json and pyproject.toml'.")
    forced = ""
    m = re.search(r"(?i)\b(?:as|is it valid|parse it as|treat it as|format)\s+(JSON|TOML|INI|XML)\b", request)
    if m:
        forced = m.group(1).upper()
    out: list[str] = []
    n_ok = n_bad = n_skip = 0
    for arg in argv:
        p = Path(arg)
        out.append("")
        try:
            raw = p.read_bytes()
        except OSError as exc:
            out.append(f"## {p.name}\nCould not read it: {exc.strerror or exc}.")
            n_skip += 1
            continue
        bom = raw.startswith(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            out.append(f"## {p.name}\n**Not UTF-8** at line {line}, column {col}: byte 0x{raw[exc.start]:02x}.")
            n_bad += 1
            continue
        fmt = forced or KNOWN_NAMES.get(p.name) or EXT.get(p.suffix.lower(), "")
        if not fmt and p.suffix.lower() in UNSUPPORTED:
            out.append(
                f"## {p.name}\nNot checked: {UNSUPPORTED[p.suffix.lower()]} needs a parser that is not in "
                "Python's standard library (this checks JSON, TOML, INI and XML)."
            )
            n_skip += 1
            continue
        how = "extension"
        if not fmt:
            fmt, how = sniff(text), "content"
        if not fmt:
            out.append(
                f"## {p.name}\nNot checked: the format is unclear; say 'as JSON', 'as TOML', 'as INI' or 'as XML'."
            )
            n_skip += 1
            continue
        if forced:
            how = "request"
        lines = text.split("\n")
        lines = [ln.rstrip("\r") for ln in lines]
        ok, body = CHECKERS[fmt](text, lines)
        n = len(text.splitlines())
        out.append(f"## {p.name} ({fmt}, from the {how}; {n} line{'s' if n != 1 else ''})")
        out.extend(body)
        if bom and fmt in ("JSON",):
            out.append("Note: the file starts with a UTF-8 BOM; strict JSON parsers may reject it.")
        if p.suffix.lower() in (".jsonc", ".json5") and not ok:
            out.append(
                f"Note: {p.suffix} files allow comments/trailing commas in some tools; this check is strict JSON."
            )
        n_ok += ok
        n_bad += not ok
    head = f"# Config check: {n_ok} valid, {n_bad} invalid" + (f", {n_skip} not checked" if n_skip else "")
    report = "\n".join([head, *out])
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
        print(f"validate.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
