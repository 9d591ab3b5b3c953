"""Checksums of files (SHA-256 by default; SHA-1, MD5, SHA-512, SHA-384, SHA3-256, BLAKE2b on request) and
verification against a digest given in the request or in a checksum file.

Usage:
    echo "sha256 of release.tar.gz" | python3 scripts/checksums.py release.tar.gz
    echo "verify against 9f86d081884c7d65..." | python3 scripts/checksums.py release.tar.gz
    echo "check the downloads" | python3 scripts/checksums.py app.zip SHA256SUMS

Digests to verify may be hex (the algorithm is inferred from the length: 32 MD5, 40 SHA-1, 64 SHA-256, 96 SHA-384,
128 SHA-512, unless the request names one), prefixed ("sha256:abc…"), Subresource-Integrity style
("sha512-<base64>", as in package-lock.json) or lines of a checksum file ("<hex>  name", or BSD
"SHA256 (name) = <hex>"). A file given in argv that is such a checksum list is used to verify the others.

Exit 0 with a Markdown report (also on a mismatch, which it states first); exit 2 when no file is given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sys
from pathlib import Path

ALGOS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha384": "sha384",
    "sha-384": "sha384",
    "sha512": "sha512",
    "sha-512": "sha512",
    "sha3-256": "sha3_256",
    "sha3_256": "sha3_256",
    "sha3-512": "sha3_512",
    "sha3_512": "sha3_512",
    "blake2b": "blake2b",
    "blake2s": "blake2s",
}
BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
NICE = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha3_256": "SHA3-256",
    "sha3_512": "SHA3-512",
    "blake2b": "BLAKE2b",
    "blake2s": "BLAKE2s",
}
WEAK = {"md5", "sha1"}
CHECKSUM_LINE = re.compile(r"^\s*\\?([0-9a-fA-F]{32,128})\s+[ *]?(.+?)\s*$")
BSD_LINE = re.compile(
    r"^\s*(MD5|SHA1|SHA224|SHA256|SHA384|SHA512|SHA3-256|BLAKE2b)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)\s*$", re.I
)


class Refusal(Exception):
    """Nothing to hash; the message says what to give."""


def wanted_algorithms(request: str) -> list[str]:
    low = request.lower()
    if re.search(r"\ball (?:the )?(?:hash(?:es)?|algorithms|digests|checksums)\b", low):
        return ["md5", "sha1", "sha256", "sha512"]
    found: list[tuple[int, str]] = []
    for word, algo in ALGOS.items():
        for m in re.finditer(
            r"(?<![\w-])" + re.escape(word) + r"(?![\w-]|sum)|(?<![\w-])" + re.escape(word) + r"sum\b", low
        ):
            found.append((m.start(), algo))
    out: list[str] = []
    for _, algo in sorted(found):
        if algo not in out:
            out.append(algo)
    return out


def expected_digests(request: str, algos_named: list[str]) -> list[tuple[str, str, str]]:
    """(algorithm, hex digest, file name or '') from the request."""
    out: list[tuple[str, str, str]] = []
    for line in request.splitlines():
        m = BSD_LINE.match(line)
        if m:
            out.append((ALGOS.get(m.group(1).lower(), m.group(1).lower()), m.group(3).lower(), m.group(2).strip()))
            continue
        m = CHECKSUM_LINE.match(line)
        if m and BY_LENGTH.get(len(m.group(1))) and not re.search(r"\s", m.group(2).strip()):
            out.append((algo_for(m.group(1), algos_named), m.group(1).lower(), m.group(2).strip().lstrip("*")))
    taken = {d for _, d, _ in out}
    for m in re.finditer(r"\b(sha(?:256|384|512))-([A-Za-z0-9+/]{43,86}={0,2})", request):
        try:
            raw = base64.b64decode(m.group(2), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) * 2 == {"sha256": 64, "sha384": 96, "sha512": 128}[m.group(1)] and raw.hex() not in taken:
            out.append((m.group(1), raw.hex(), ""))
            taken.add(raw.hex())
    for m in re.finditer(
        r"(?i)(?:\b(md5|sha-?1|sha-?256|sha-?384|sha-?512|sha3-256)\s*[:=]\s*)?(?<![0-9a-f])([0-9a-f]{32,128})(?![0-9a-f])",
        request,
    ):
        hexd = m.group(2).lower()
        if hexd in taken or len(hexd) not in BY_LENGTH:
            continue
        algo = ALGOS.get((m.group(1) or "").lower().replace("sha-", "sha"), "") or algo_for(hexd, algos_named)
        out.append((algo, hexd, ""))
        taken.add(hexd)
    return out


def algo_for(hexd: str, named: list[str]) -> str:
    n = len(hexd)
    for a in named:
        if hashlib.new(a).digest_size * 2 == n:
            return a
    return BY_LENGTH[n]


def digest(path: Path, algos: list[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algos}
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def checksum_list(path: Path) -> list[tuple[str, str, str]] | None:
    """The entries of a checksum file (SHA256SUMS, *.sha256, BSD style), or None when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    entries: list[tuple[str, str, str]] = []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines or len(lines) > 10000:
        return None
    hint = next((a for w, a in ALGOS.items() if w.replace("-", "") in path.name.lower()), "")
    for ln in lines:
        m = BSD_LINE.match(ln)
        if m:
            entries.append((ALGOS.get(m.group(1).lower(), m.group(1).lower()), m.group(3).lower(), m.group(2).strip()))
            continue
        m = CHECKSUM_LINE.match(ln)
        if not m or len(m.group(1)) not in BY_LENGTH:
            return None
        algo = hint if hint and hashlib.new(hint).digest_size * 2 == len(m.group(1)) else BY_LENGTH[len(m.group(1))]
        entries.append((algo, m.group(1).lower(), m.group(2).strip().lstrip("*")))
    if len(lines) == 1 and not entries:
        return None
    return entries


def size_text(n: int) -> str:
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k:
            return f"{n:,} bytes ({n / k:.1f} {unit})"
    return f"{n:,} bytes"


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    try:
        return run(request, [Path(a) for a in sys.argv[1:]])
    except Refusal as exc:
        print(exc)
        return 2


def run(request: str, paths: list[Path]) -> int:
    if not paths:
        raise Refusal("Name the file(s) to hash, e.g. 'sha256 of release.tar.gz' or 'verify app.zip against <digest>'.")
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise Refusal(f"Not a readable file: {', '.join(missing)}; name files that exist in the project.")
    named = wanted_algorithms(request)
    expected = expected_digests(request, named)
    lists: dict[str, list[tuple[str, str, str]]] = {}
    targets: list[Path] = []
    for p in paths:
        entries = checksum_list(p) if len(paths) > 1 else None
        if entries:
            lists[p.name] = entries
        else:
            targets.append(p)
    if not targets:
        raise Refusal("Only checksum lists were given; also name the files they describe.")
    given = {p.name for p in targets}
    unlisted = 0
    for entries in lists.values():
        for e in entries:
            if Path(e[2]).name in given:
                expected.append(e)
            else:
                unlisted += 1
    algos = list(named) or ["sha256"]
    for a, _, _ in expected:
        if a not in algos:
            algos.append(a)
    results = {p: digest(p, algos) for p in targets}
    out: list[str] = []
    verdicts: list[str] = []
    rows: list[str] = []
    if expected:
        rows = ["| expected | algorithm | file | result |", "|---|---|---|---|"]
        for algo, hexd, fname in expected:
            short = f"`{hexd[:16]}…{hexd[-8:]}`"
            if fname:
                base = Path(fname).name
                match_p = next((p for p in targets if p.name == base or str(p) == fname), None)
                if match_p is None:
                    rows.append(f"| {short} | {NICE.get(algo, algo)} | {base} | not among the files given |")
                    continue
                ok = results[match_p][algo] == hexd
                rows.append(f"| {short} | {NICE.get(algo, algo)} | {base} | {'✅ MATCH' if ok else '❌ MISMATCH'} |")
                verdicts.append(("MATCH" if ok else "MISMATCH") + f": {base} ({NICE.get(algo, algo)})")
            else:
                hits = [p for p in targets if results[p][algo] == hexd]
                if hits:
                    for p in hits:
                        rows.append(f"| {short} | {NICE.get(algo, algo)} | {p.name} | ✅ MATCH |")
                        verdicts.append(f"MATCH: {p.name} ({NICE.get(algo, algo)})")
                else:
                    names = ", ".join(p.name for p in targets)
                    rows.append(
                        f"| {short} | {NICE.get(algo, algo)} | {names} | ❌ MISMATCH (no file has this digest) |"
                    )
                    verdicts.append(f"MISMATCH: {names} ({NICE.get(algo, algo)})")
    bad = [v for v in verdicts if v.startswith("MISMATCH")]
    if verdicts:
        if bad:
            out += [f"## ❌ Verification failed: {len(bad)} of {len(verdicts)} digest(s) do not match", ""]
            out.append(
                "Do not use the file(s) until you know why: a truncated or corrupted download, the wrong "
                "version, or a tampered file. Download again from the official source and re-check."
            )
        else:
            out += [
                "## ✅ Verified: the digest matches"
                if len(verdicts) == 1
                else f"## ✅ Verified: all {len(verdicts)} digests match"
            ]
        out += ["", *rows, ""]
    else:
        out += ["## File checksums", ""]
    out += ["| file | size | " + " | ".join(NICE.get(a, a) for a in algos) + " |", "|---|---|" + "---|" * len(algos)]
    for p in targets:
        out.append(
            f"| {p.name} | {size_text(p.stat().st_size)} | " + " | ".join(f"`{results[p][a]}`" for a in algos) + " |"
        )
    out += [
        "",
        "In `sha256sum` format (save as a `.sha256` file; check with `sha256sum -c`):"
        if algos[0] == "sha256"
        else f"In `{algos[0]}sum` format:",
        "",
        "```",
    ]
    out += [f"{results[p][algos[0]]}  {p.name}" for p in targets]
    out += ["```"]
    weak = [NICE[a] for a in algos if a in WEAK]
    if weak:
        out += [
            "",
            f"Note: {', '.join(weak)} detect accidental corruption but not deliberate tampering (collisions "
            "can be made); use SHA-256 or better against an attacker.",
        ]
    if lists:
        extra = f"; {unlisted} of its entries name files not given here and were skipped" if unlisted else ""
        out += ["", f"Checksum list(s) used: {', '.join(lists)}{extra}."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
