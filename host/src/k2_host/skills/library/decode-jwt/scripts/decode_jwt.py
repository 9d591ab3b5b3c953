"""Decode a JSON Web Token (JWT) without verifying it: header, payload, claims with times in ISO 8601 UTC, and
checks (alg "none", expiry against a given time, lifetime, risky header fields, signature length).

Usage:
    echo "decode eyJhbGciOi... ; now is 2024-05-01T10:00:00Z" | python3 scripts/decode_jwt.py

The token may stand alone, follow "Bearer ", or sit in quotes/backticks. Expiry (exp) and not-before (nbf) are
judged only against a reference time written in the request ("now is 2024-05-01T10:00Z", "as of 2024-05-01",
"current time 1714557600"); without one the script says it cannot tell, so its output never depends on the clock.
It never verifies the signature (that needs the key) and says so.

Exit 0 with a Markdown report; exit 2 when no token is found or it does not decode.
"""

# The report prints typographic signs (multiplication, minus, en dash) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from datetime import UTC, datetime

TIME_CLAIMS = {"exp", "nbf", "iat", "auth_time", "updated_at", "orig_iat", "refresh_exp"}
CLAIM_MEANING = {
    "iss": "issuer",
    "sub": "subject (who the token is about)",
    "aud": "audience (who should accept it)",
    "exp": "expires at",
    "nbf": "not valid before",
    "iat": "issued at",
    "jti": "token id (for replay checks)",
    "azp": "authorised party (client)",
    "scope": "granted scopes",
    "scp": "granted scopes",
    "auth_time": "user authenticated at",
    "nonce": "OIDC nonce",
    "sid": "session id",
    "client_id": "OAuth client",
    "roles": "roles",
    "email": "email address",
    "name": "display name",
    "tid": "tenant id",
}
SIG_BYTES = {"HS256": (32,), "HS384": (48,), "HS512": (64,), "ES256": (64,), "ES384": (96,), "ES512": (132,)}
SIG_BYTES |= {"EdDSA": (64, 114), "ES256K": (64,)}
RSA_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
SENSITIVE = re.compile(
    r"(?i)pass(?:word|wd)?$|secret|ssn|social_security|credit_?card|card_?number|cvv|private_?key|api_?key"
)
TOKEN = re.compile(
    r"(?<![A-Za-z0-9_=-])([A-Za-z0-9_-]{4,}=*\.[A-Za-z0-9_-]{2,}=*\.[A-Za-z0-9_=-]*(?:\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+)?)"
)


class Refusal(Exception):
    """No usable token; the message says what to give."""


def b64url(part: str) -> bytes:
    s = part.rstrip("=")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Refusal(f"A token part is not base64url ({exc}); check the token was copied whole.") from None


def find_token(text: str) -> str:
    candidates = [m.group(1) for m in TOKEN.finditer(text)]
    for c in candidates:
        if c.startswith("eyJ"):
            return c
    for c in candidates:
        try:
            head = json.loads(b64url(c.split(".")[0]))
        except (Refusal, ValueError, UnicodeDecodeError):
            continue
        if isinstance(head, dict) and "alg" in head:
            return c
    raise Refusal("Paste the token (three base64url parts separated by dots, e.g. `eyJhbGciOi...`) in the request.")


def reference_time(text: str, token: str) -> tuple[datetime | None, str]:
    """The 'now' the request gives, and the words it was given in."""
    rest = text.replace(token, " ")
    m = re.search(
        r"(?i)\b(?:now(?:\s+is|\s*=|:)?|current(?:ly)?(?:\s+time)?(?:\s+is|\s*=|:)?|as of|at time|time(?:\s+is|\s*=|:)|"
        r"reference(?:\s+time)?(?:\s+is|\s*=|:)?|today(?:\s+is)?|it is)\s*"
        r"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
        r"|\d{9,11}(?:\.\d+)?)",
        rest,
    )
    if not m:
        return None, ""
    raw = m.group(1).strip()
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", raw):
        return datetime.fromtimestamp(float(raw), UTC), raw
    iso = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", raw).replace(" ", "T", 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        iso += "T00:00:00+00:00"
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None, ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC), raw


def iso(ts: float) -> str:
    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return "out of range"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{dt.microsecond // 1000:03d}" if dt.microsecond else "") + "Z"


def span(seconds: float) -> str:
    s = abs(int(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    parts = [f"{d} d" if d else "", f"{h} h" if h else "", f"{m} min" if m else "", f"{sec} s" if sec and not d else ""]
    return " ".join(p for p in parts if p) or "0 s"


def main() -> int:
    text = sys.stdin.read() if not sys.stdin.isatty() else ""
    try:
        return report(text)
    except Refusal as exc:
        print(exc)
        return 2


def report(text: str) -> int:
    token = find_token(text)
    parts = token.split(".")
    try:
        header = json.loads(b64url(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise Refusal("The first part does not decode to a JSON header, so this is not a JWT.") from None
    if not isinstance(header, dict):
        raise Refusal("The header decodes to JSON but not to an object, so this is not a JWT.")
    alg = str(header.get("alg", ""))
    out: list[str] = []
    issues: list[tuple[str, str]] = []  # (level, text): level is CRITICAL, WARNING, NOTE, OK
    if len(parts) == 5:
        out += [f"## JWE (encrypted token, 5 parts): alg `{alg}`, enc `{header.get('enc', '?')}`", ""]
        out += ["### Header", "", "```json", json.dumps(header, indent=2, ensure_ascii=False), "```", ""]
        out.append(
            "The payload is encrypted; only the holder of the decryption key can read it. Nothing else to decode."
        )
        print("\n".join(out))
        return 0
    if len(parts) != 3:
        raise Refusal(f"A JWT has 3 dot-separated parts (or 5 for JWE); this one has {len(parts)}.")
    raw_payload = b64url(parts[1])
    try:
        payload = json.loads(raw_payload)
    except (ValueError, UnicodeDecodeError):
        payload = None
    sig = b64url(parts[2]) if parts[2] else b""
    now, now_text = reference_time(text, token)

    out += [f"## Decoded JWT — alg `{alg or '(missing)'}`, signature **not verified**", ""]
    out.append(
        "> Decoding is not verification: anyone can write a token with this content. Only checking the "
        "signature with the issuer's key (and then exp, nbf, iss, aud) makes it trustworthy."
    )
    out += ["", "### Header", "", "```json", json.dumps(header, indent=2, ensure_ascii=False), "```", ""]
    out += ["### Payload", ""]
    if payload is None:
        out += [
            "The payload is not JSON (a detached or non-JSON JWS payload):",
            "",
            "```",
            raw_payload[:500].decode("utf-8", "replace"),
            "```",
            "",
        ]
    else:
        out += ["```json", json.dumps(payload, indent=2, ensure_ascii=False), "```", ""]
    claims = payload if isinstance(payload, dict) else {}
    if claims:
        out += ["### Claims", "", "| claim | value | meaning |", "|---|---|---|"]
        for k, v in claims.items():
            if k in TIME_CLAIMS and isinstance(v, (int, float)) and not isinstance(v, bool):
                shown = f"{v} → {iso(v)}"
            else:
                shown = json.dumps(v, ensure_ascii=False)
                shown = shown if len(shown) <= 80 else shown[:79] + "…"
            shown = shown.replace("|", "\\|")
            out.append(f"| {k} | {shown} | {CLAIM_MEANING.get(k, '')} |")
        out.append("")

    # ---- checks
    if alg.lower() == "none" or not alg:
        issues.append(
            (
                "CRITICAL",
                f"`alg` is `{alg or 'missing'}`: the token is unsigned. A server that accepts it lets "
                "anyone forge any claims; reject `none` and pin the expected algorithm.",
            )
        )
    elif not sig:
        issues.append(("CRITICAL", f"`alg` is `{alg}` but the signature part is empty: this token cannot verify."))
    if alg.lower() == "none" and sig:
        issues.append(("WARNING", "alg `none` but a signature is present: malformed token."))
    if alg.startswith("HS"):
        issues.append(
            (
                "NOTE",
                f"{alg} is HMAC with a shared secret: every service that verifies it can also mint it. "
                "Verifiers must pin the algorithm (an RS/ES public key must never be accepted as an HMAC secret).",
            )
        )
    for field, why in (
        ("jku", "a URL to fetch keys from"),
        ("x5u", "a URL to fetch a certificate from"),
        ("jwk", "an embedded public key"),
        ("x5c", "an embedded certificate chain"),
    ):
        if field in header:
            issues.append(
                (
                    "WARNING",
                    f"header `{field}` carries {why}: a verifier must only use keys it already "
                    "trusts, never ones named by the token itself.",
                )
            )
    kid = header.get("kid")
    if isinstance(kid, str) and re.search(r"\.\./|[;'\"]|\\|\x00|\|", kid):
        issues.append(
            (
                "WARNING",
                f"`kid` contains path or quote characters ({kid[:40]!r}): a key lookup that uses it "
                "in a file path or SQL query is injectable.",
            )
        )
    if "crit" in header:
        issues.append(
            ("NOTE", f"`crit` lists {header['crit']}: a verifier that does not understand these must reject the token.")
        )
    if sig and alg in SIG_BYTES and len(sig) not in SIG_BYTES[alg]:
        want = " or ".join(str(n) for n in SIG_BYTES[alg])
        issues.append(
            (
                "WARNING",
                f"signature is {len(sig)} bytes; {alg} signatures are {want} bytes: wrong alg or damaged token.",
            )
        )
    elif sig and alg in RSA_ALGS:
        bits = len(sig) * 8
        issues.append(
            (
                "NOTE" if bits >= 2048 else "WARNING",
                f"signature is {len(sig)} bytes: a {bits}-bit RSA key"
                + ("" if bits >= 2048 else " (below 2048 bits is too weak)")
                + ".",
            )
        )
    elif sig and alg in SIG_BYTES:
        issues.append(("OK", f"signature length ({len(sig)} bytes) matches {alg} (not checked against a key)."))

    def num(name: str) -> float | None:
        v = claims.get(name)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            issues.append(
                (
                    "WARNING",
                    f"`{name}` is {json.dumps(v)[:40]}, not a number of seconds (NumericDate): "
                    "libraries reject or misread it.",
                )
            )
            return None
        return float(v)

    exp, nbf, iat = num("exp"), num("nbf"), num("iat")
    if claims and exp is None and "exp" not in claims:
        issues.append(("WARNING", "no `exp` claim: the token never expires unless the server adds its own limit."))
    if exp is not None and iat is not None:
        life = exp - iat
        if life < 0:
            issues.append(("WARNING", f"`exp` is {span(life)} before `iat`: the token was never valid."))
        else:
            long = life > 86400
            issues.append(
                (
                    "NOTE" if long else "OK",
                    f"lifetime exp − iat = {span(life)}"
                    + (" (long for an access token; prefer minutes to hours plus refresh tokens)." if long else "."),
                )
            )
    if now is None:
        if exp is not None or nbf is not None:
            issues.append(
                (
                    "NOTE",
                    "expiry not checked: no reference time was given. Add one, e.g. "
                    "'now is 2024-05-01T10:00:00Z', to check `exp`/`nbf`.",
                )
            )
    else:
        ts = now.timestamp()
        label = f"the given time {now.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        if exp is not None:
            if ts >= exp:
                issues.append(("WARNING", f"EXPIRED: `exp` {iso(exp)} is {span(ts - exp)} before {label}."))
            else:
                issues.append(("OK", f"not expired at {label}: {span(exp - ts)} left (exp {iso(exp)})."))
        if nbf is not None and ts < nbf:
            issues.append(("WARNING", f"NOT YET VALID: `nbf` {iso(nbf)} is {span(nbf - ts)} after {label}."))
        if iat is not None and iat > ts + 60:
            issues.append(("WARNING", f"`iat` {iso(iat)} is in the future relative to {label} (clock skew or forged)."))
    for k in ("iss", "aud"):
        if claims and k not in claims:
            issues.append(
                (
                    "NOTE",
                    f"no `{k}` claim: verifiers cannot check {'who issued it' if k == 'iss' else 'who it is for'}.",
                )
            )
    leaked = [k for k in claims if SENSITIVE.search(k)]
    if leaked:
        issues.append(
            (
                "WARNING",
                f"payload holds {', '.join(f'`{k}`' for k in leaked)}: a JWS payload is only base64, "
                "readable by anyone holding the token.",
            )
        )
    out += ["### Checks", ""]
    order = {"CRITICAL": 0, "WARNING": 1, "NOTE": 2, "OK": 3}
    for level, msg in sorted(issues, key=lambda t: order[t[0]]):
        out.append(f"- **{level}** {msg}")
    if now is not None:
        shown = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        out += ["", f"Reference time from the request: `{now_text}`" + (f" = {shown}." if shown != now_text else ".")]
    out += ["", f"Signature: {len(sig)} bytes, **not verified** (verification needs the issuer's key or secret)."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
