"""Redaction of secrets from what the host records (trajectories): keys, tokens, passwords, private keys.

Three nets, all applied to every recorded string:
- arguments whose key names a secret (`api_key`, `token`, `password`, `authorization`, `cookie`, ...) lose
  their value whatever it looks like;
- values that look like credentials (OpenAI/Moonshot `sk-…`, Anthropic `sk-ant-…`, GitHub `ghp_…`, AWS access
  key ids, Slack `xox…`, Google `AIza…`, JWTs, `Bearer …`, PEM private keys) are replaced;
- the host's own secrets, exactly (the configured model and store keys, the servers' auth headers and
  secret-named environment values), wherever they appear.
Users add patterns with `learning.redact_patterns`. What is replaced reads `[REDACTED]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_NAMES = frozenset(
    {"auth", "authorization", "cookie", "setcookie", "bearer", "sessionid", "sessionkey", "pat", "otp", "pin"}
)
_SECRET_ENDINGS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
    "credentials",
    "signature",
)


def secret_key(name: str) -> bool:
    """Does an argument or header named `name` hold a secret? (`api_key`, `X-Auth-Token`, `password` ...)"""
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    return norm in _SECRET_NAMES or norm.endswith(_SECRET_ENDINGS)


VALUE_PATTERNS = (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}",
    r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"\bAIza[0-9A-Za-z_-]{35}\b",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}",
)


class Redactor:
    def __init__(self, *, known_secrets: Iterable[str] = (), extra_patterns: Iterable[str] = ()) -> None:
        patterns = [*VALUE_PATTERNS, *extra_patterns]
        # Longest first, so a secret that contains another is replaced whole.
        exact = sorted({s for s in known_secrets if s and len(s) >= 6}, key=len, reverse=True)
        patterns += [re.escape(s) for s in exact]
        self._values = re.compile("|".join(f"(?:{p})" for p in patterns))

    def text(self, value: str) -> str:
        return self._values.sub(REDACTED, value) if value else value

    def data(self, value: Any) -> Any:
        """A JSON-like value with secret-named keys emptied and secret-looking strings replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                k: (REDACTED if isinstance(k, str) and secret_key(k) and v not in (None, "") else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
