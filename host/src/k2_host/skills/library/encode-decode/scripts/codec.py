"""Encode or decode text: Base64 (standard and URL-safe), Base32, hex, URL percent-encoding, HTML entities,
Unicode escapes and ROT13. Detects the encoding of a string when the request only says "decode".

Usage:
    python3 codec.py < request.txt
    e.g. "base64 encode `hello world`", "decode SGVsbG8sIHdvcmxkIQ==", "url-encode 'a b&c=d/é'",
         "html unescape `&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;`", "hex of 'hi'", "what is this: 68656c6c6f"

The text to work on is taken from a code fence, backticks or quotes, else from after a colon or after the
operation words. Output: the result in a fenced block, byte counts, and notes (non-UTF-8 bytes shown as hex,
padding fixed, JWT-looking input pointed at decode-jwt). Exit 2 when no text or no known operation is given.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import sys
import urllib.parse

MAX_OUT = 15_000
CODECS = ["base64url", "base64", "base32", "hex", "url", "html", "unicode", "rot13"]
ALIASES = [
    ("base64url", r"base ?64 ?url|url[- ]?safe base ?64|b64url|base64 url[- ]safe"),
    ("base64", r"base ?64|b64"),
    ("base32", r"base ?32|b32"),
    ("hex", r"\bhex(?:adecimal)?\b|\bhexdump\b"),
    ("url", r"\burl\b|percent[- ]?(?:en|de)cod\w*|\buri\b|querystring|query string|urlencode|urldecode"),
    ("html", r"\bhtml\b|\bentit(?:y|ies)\b|\bxml escape"),
    ("unicode", r"unicode[- ]?escape|\\u escapes?|escape sequences?|\bunicode\b"),
    ("rot13", r"\brot ?13\b"),
]


MAGIC = [
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP (or docx/xlsx/jar)"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "ELF executable"),
    (b"\x00asm", "WebAssembly"),
]


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def payload(text: str) -> str:
    m = re.search(r"```[^\n]*\n(.*?)\n?```", text, re.S)
    if m:
        return m.group(1)
    m = re.search(r"(`+)(.+?)\1", text, re.S)
    if m:
        return m.group(2)
    colon = re.search(r":\s+(\S.*)$", text.strip(), re.S)
    if colon and not colon.group(1).startswith(("'", '"', "\u201c")) and not re.match(r"//", colon.group(1)):
        return colon.group(1).strip()
    m = re.search(r"\"([^\"]*)\"|\u201c([^\u201d]*)\u201d", text)
    if m:
        return next(g for g in m.groups() if g is not None)
    m = re.search(r"(?<![\w])'([^'\n]+)'(?![\w])", text)
    if m:
        return m.group(1)
    m = re.search(r":\s*(\S.*)$", text.strip(), re.S)
    if m and not re.match(r"//", m.group(1)):
        return m.group(1).strip()
    # after the operation words: "base64 encode hello world", "decode SGVsbG8="
    m = re.search(
        r"(?is)\b(?:en|de)code[sd]?\b(?:\s+(?:this|the|string|text|it|from|as|to|in|with|using|\w*(?:64|32)\w*|hex|url|html))*\s+(.+)$",
        text.strip(),
    )
    if m:
        return m.group(1).strip()
    m = re.search(r"(?is)\b(?:of|for|is)\s+(\S+)\s*\??$", text.strip())
    if m:
        return m.group(1)
    words = text.strip().split()
    return words[-1] if len(words) > 1 else ""


def wanted(text: str) -> tuple[str, str]:
    """(codec, direction) where direction is encode | decode | ''."""
    r = re.sub(r"(`+).+?\1|```.*?```", " ", text, flags=re.S).lower()
    codec = ""
    for name, rx in ALIASES:
        if re.search(rx, r):
            codec = name
            break
    direction = ""
    if re.search(
        r"\b(decode|decoding|decoded|unescape|unquote|from base|to text|to plain|readable|what (?:is|does) this)", r
    ):
        direction = "decode"
    enc = r"\b(encode|encoding|encoded|escape|quote|to base|convert to (?:base|hex)|as (?:base|hex)|hex of|in hex)"
    if re.search(enc, r) or "urlencode" in r:
        only_encode = bool(re.search(r"\bencode\b", r)) and not re.search(r"\bdecode\b", r)
        direction = "encode" if direction == "" or only_encode else direction
    if re.search(r"\b(unescape|urldecode|unquote)\b", r):
        direction = "decode"
    return codec, direction


def show_bytes(data: bytes) -> tuple[str, list[str]]:
    notes = []
    try:
        text = data.decode("utf-8")
        if any(ord(c) < 32 and c not in "\r\n\t" for c in text):
            notes.append("the result contains control characters; shown with escapes")
            text = text.encode("unicode_escape").decode("ascii")
        return text, notes
    except UnicodeDecodeError:
        kind = next((name for magic, name in MAGIC if data.startswith(magic)), "")
        what = f"; they start like a {kind} file" if kind else ""
        notes.append(f"the {len(data)} decoded bytes are not UTF-8 text; shown as hex (binary data{what})")
        return data.hex(" ") if len(data) <= 512 else data[:512].hex(" ") + " …", notes


def b64_decode(s: str, urlsafe: bool) -> tuple[bytes, list[str]]:
    notes = []
    compact = re.sub(r"\s+", "", s)
    if "-" in compact or "_" in compact:
        urlsafe = True
    alphabet = r"[A-Za-z0-9\-_]+=*" if urlsafe else r"[A-Za-z0-9+/]+=*"
    if not re.fullmatch(alphabet, compact):
        bad = sorted(set(re.sub(r"[A-Za-z0-9+/=\-_]", "", compact)))
        raise ValueError(f"characters outside the Base64 alphabet: {''.join(bad)!r}")
    pad = (-len(compact)) % 4
    if pad == 3:
        raise ValueError("its length is not valid Base64 (a character is missing or extra)")
    if pad:
        notes.append(f"added {pad} missing '=' padding character{'s' if pad > 1 else ''}")
        compact += "=" * pad
    data = base64.urlsafe_b64decode(compact) if urlsafe else base64.b64decode(compact, validate=True)
    return data, notes


def escape_char(c: str) -> str:
    n = ord(c)
    if c == "\\":
        return "\\\\"
    if 32 <= n < 127:
        return c
    if c in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c]
    if n > 0xFFFF:
        return f"\\U{n:08x}"
    return f"\\u{n:04x}"


def encode(codec: str, s: str) -> tuple[str, list[str]]:
    raw = s.encode("utf-8")
    if codec == "base64":
        return base64.b64encode(raw).decode("ascii"), []
    if codec == "base64url":
        out = base64.urlsafe_b64encode(raw).decode("ascii")
        return out.rstrip("="), ["padding '=' removed, as JWT and most URL uses expect"]
    if codec == "base32":
        return base64.b32encode(raw).decode("ascii"), []
    if codec == "hex":
        return raw.hex(), []
    if codec == "url":
        return urllib.parse.quote(s, safe=""), [
            "every reserved character is escaped (for one query value or path segment)"
        ]
    if codec == "html":
        return html.escape(s, quote=True), []
    if codec == "unicode":
        return "".join(escape_char(c) for c in s), [
            "Python-style escapes; JSON and JavaScript write characters above U+FFFF as two \\u surrogates"
        ]
    if codec == "rot13":
        return codecs.encode(s, "rot13"), []
    raise Refusal(f"Unknown operation {codec}.")


def decode(codec: str, s: str) -> tuple[str, list[str]]:
    if codec in ("base64", "base64url"):
        data, notes = b64_decode(s, codec == "base64url")
        shown, more = show_bytes(data)
        return shown, notes + more
    if codec == "base32":
        compact = re.sub(r"\s+", "", s).upper()
        compact += "=" * ((-len(compact)) % 8)
        shown, notes = show_bytes(base64.b32decode(compact))
        return shown, notes
    if codec == "hex":
        compact = re.sub(r"[\s:]|0x|\\x", "", s, flags=re.I)
        if len(compact) % 2:
            raise ValueError("an odd number of hex digits")
        return show_bytes(bytes.fromhex(compact))
    if codec == "url":
        plus = "+" in s
        out = urllib.parse.unquote_plus(s) if plus else urllib.parse.unquote(s)
        notes = ["'+' read as a space (form encoding)"] if plus else []
        if "%" in out and re.search(r"%[0-9A-Fa-f]{2}", out):
            notes.append("the result still has %XX sequences: it was encoded twice; decode again")
        return out, notes
    if codec == "html":
        return html.unescape(s), []
    if codec == "unicode":
        try:
            return s.encode("latin-1", "backslashreplace").decode("unicode_escape"), []
        except UnicodeDecodeError as exc:
            raise ValueError(f"a broken escape sequence ({exc.reason})") from None
    if codec == "rot13":
        return codecs.decode(s, "rot13"), []
    raise Refusal(f"Unknown operation {codec}.")


def printable_ratio(text: str) -> float:
    if not text:
        return 0.0
    good = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return good / len(text)


def detect(s: str) -> list[tuple[str, str, list[str]]]:
    """Plausible decodings of s, best first."""
    found: list[tuple[int, str, str, list[str]]] = []
    compact = re.sub(r"\s+", "", s)
    if re.search(r"%[0-9A-Fa-f]{2}", s):
        out, notes = decode("url", s)
        found.append((90, "url", out, notes))
    if re.search(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);", s):
        found.append((90, "html", html.unescape(s), []))
    if re.search(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\U[0-9a-fA-F]{8}", s):
        try:
            out, notes = decode("unicode", s)
            found.append((85, "unicode", out, notes))
        except ValueError:
            pass
    if re.fullmatch(r"(?:0x)?(?:[0-9a-fA-F]{2}[\s:]?)+", s.strip()) and len(compact) >= 4:
        try:
            out, notes = decode("hex", s)
            if not notes:
                found.append((80, "hex", out, notes))
        except ValueError:
            pass
    if re.fullmatch(r"[A-Za-z0-9+/\-_]+={0,2}", compact) and len(compact) >= 4:
        try:
            data, notes = b64_decode(compact, False)
            text, more = show_bytes(data)
            if not more and printable_ratio(text) > 0.95:
                score = 75 if compact.endswith("=") or len(compact) % 4 == 0 else 60
                found.append((score, "base64url" if re.search(r"[-_]", compact) else "base64", text, notes))
        except (ValueError, binascii.Error):
            pass
    if re.fullmatch(r"[A-Z2-7]+=*", compact) and len(compact) >= 8:
        try:
            text, more = decode("base32", compact)
            if not more and printable_ratio(text) > 0.95:
                found.append((70, "base32", text, []))
        except (ValueError, binascii.Error):
            pass
    found.sort(key=lambda x: -x[0])
    return [(c, t, n) for _, c, t, n in found]


def fence(text: str) -> str:
    f = "````" if "```" in text else "```"
    return f"{f}text\n{text}\n{f}"


def main() -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    codec, direction = wanted(request)
    s = payload(request)
    if not s:
        raise Refusal("Give the text in backticks or quotes, e.g. base64 encode `hello` or decode `aGVsbG8=`.")
    notes: list[str] = []
    out: list[str] = []
    jwt = re.fullmatch(r"(eyJ[\w-]*)\.(eyJ[\w-]*)\.([\w-]*)", s.strip())
    if jwt and codec in ("", "base64", "base64url") and direction != "encode":
        out.append("# Decoded JWT parts (Base64 URL-safe)")
        for label, part in (("header", jwt.group(1)), ("payload", jwt.group(2))):
            try:
                data, _ = b64_decode(part, True)
                text, _ = show_bytes(data)
            except (ValueError, binascii.Error) as exc:
                text = f"(not decodable: {exc})"
            out.append(f"{label}:")
            out.append(fence(text))
        out.append(f"- signature: {len(jwt.group(3))} characters, not verified")
        out.append("- decode-jwt also checks the algorithm, expiry and other claims")
        print("\n".join(out))
        return 0
    if not codec and direction != "encode":
        cands = detect(s)
        if not cands:
            raise Refusal(
                "I could not tell how this is encoded; name it, e.g. 'base64 decode ...', 'url decode ...', "
                "'hex decode ...' or 'html unescape ...'."
            )
        best = cands[0]
        out.append(f"# Decoded ({best[0]}, detected)")
        out.append(fence(best[1]))
        for n in [*best[2], *notes]:
            out.append(f"- {n}")
        if len(cands) > 1:
            out.append("")
            out.append("Other readings:")
            for c, t, _ in cands[1:3]:
                out.append(f"- as {c}: `{t[:120]}`")
        print("\n".join(out))
        return 0
    if not codec:
        raise Refusal("Say which encoding: base64, base64url, base32, hex, url, html, unicode escapes or rot13.")
    if not direction:
        # "base64 of hello" -> encode; a string that only decodes cleanly -> decode
        direction = "encode"
        if codec in ("url", "html", "unicode") and detect(s) and detect(s)[0][0] == codec:
            direction = "decode"
    try:
        result, more = encode(codec, s) if direction == "encode" else decode(codec, s)
    except (ValueError, binascii.Error) as exc:
        raise Refusal(f"This is not valid {codec} to decode: {exc}.") from None
    label = {"base64url": "Base64 (URL-safe)", "base64": "Base64", "base32": "Base32", "hex": "hex", "url": "URL",
             "html": "HTML entities", "unicode": "Unicode escapes", "rot13": "ROT13"}[codec]  # fmt: skip
    verb = "Encoded as" if direction == "encode" else "Decoded from"
    if codec == "rot13":
        verb = "Applied"
        more.append("ROT13 is its own inverse: the same step encodes and decodes")
    out.append(f"# {verb} {label}")
    out.append(fence(result))
    in_b, out_b = len(s.encode("utf-8")), len(result.encode("utf-8"))
    out.append(f"- input {len(s)} characters ({in_b} bytes UTF-8) → output {len(result)} characters ({out_b} bytes)")
    for n in [*more, *notes]:
        out.append(f"- {n}")
    if codec == "url" and direction == "encode":
        out.append(f"- for a whole query string with spaces as '+': `{urllib.parse.quote_plus(s)}`")
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 80] + "\n… output cut at 15 KB.\n```"
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"codec.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
