"""Find secrets committed to a folder: cloud and API keys, tokens, private keys, passwords in config and URLs.

Usage:
    python3 scripts/find_secrets.py path/to/project < request.txt

Walks the folder (skipping .git, node_modules, virtual environments, caches and binary files), matches each line
against the rules below and prints file:line, the rule, a severity and the match MASKED (the first few and last
two characters only; a full secret is never printed). Values that look like placeholders (`${DB_PASSWORD}`,
`<your-key>`, `changeme`, `xxxx`) are skipped; documented example values (AKIAIOSFODNN7EXAMPLE) are reported as
low. A line holding `pragma: allowlist secret` or `gitleaks:allow` is skipped (and counted).

The request may narrow the report: "only critical", "high and above", "at least medium".

Exit 0 with a Markdown report (also when nothing is found); exit 2 when the folder is missing.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections import Counter
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache"}
SKIP_DIRS |= {".pytest_cache", ".tox", ".nox", "dist", "build", ".next", ".terraform", "vendor", ".idea"}
BINARY_EXT = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".tgz", ".whl", ".jar", ".so", ".dll"}
BINARY_EXT |= {".exe", ".pyc", ".woff", ".woff2", ".ttf", ".mp3", ".mp4", ".sqlite", ".db", ".parquet", ".class"}
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FINDINGS = 200
SEVERITIES = ("critical", "high", "medium", "low")
ALLOW = re.compile(r"pragma:\s*allowlist[ -]secret|gitleaks:allow|nosecret", re.IGNORECASE)

# (rule id, description, severity, pattern, group holding the secret (0 = whole match), keep visible at start)
RULES: list[tuple[str, str, str, re.Pattern[str], int, int]] = [
    (
        "private-key",
        "Private key (PEM/OpenSSH block)",
        "critical",
        re.compile(r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY(?: BLOCK)?-----"),
        0,
        40,
    ),
    (
        "aws-access-key-id",
        "AWS access key ID",
        "critical",
        re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b"),
        1,
        4,
    ),
    (
        "aws-secret-access-key",
        "AWS secret access key",
        "critical",
        re.compile(
            r"(?i)aws.{0,20}?(?:secret|private).{0,20}?['\"]?\s*[:=]>?\s*['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        1,
        2,
    ),
    ("github-token", "GitHub token", "high", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,255})\b"), 1, 4),
    (
        "github-fine-grained-pat",
        "GitHub fine-grained token",
        "high",
        re.compile(r"\b(github_pat_[A-Za-z0-9_]{60,255})"),
        1,
        11,
    ),
    ("gitlab-token", "GitLab personal access token", "high", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,})"), 1, 6),
    ("slack-token", "Slack token", "high", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})"), 1, 5),
    (
        "slack-webhook",
        "Slack incoming webhook URL",
        "medium",
        re.compile(r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,})"),
        1,
        33,
    ),
    (
        "stripe-live-secret",
        "Stripe live secret key",
        "critical",
        re.compile(r"\b((?:sk|rk)_live_[0-9A-Za-z]{16,})"),
        1,
        8,
    ),
    ("stripe-test-secret", "Stripe test secret key", "low", re.compile(r"\b((?:sk|rk)_test_[0-9A-Za-z]{16,})"), 1, 8),
    ("google-api-key", "Google API key", "high", re.compile(r"\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])"), 1, 4),
    (
        "anthropic-api-key",
        "Anthropic API key",
        "high",
        re.compile(r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{40,})"),
        1,
        14,
    ),
    (
        "openai-api-key",
        "OpenAI API key",
        "high",
        re.compile(
            r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|sk-proj-[A-Za-z0-9_-]{40,})"
        ),
        1,
        8,
    ),
    ("sendgrid-api-key", "SendGrid API key", "high", re.compile(r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"), 1, 3),
    ("npm-token", "npm access token", "high", re.compile(r"\b(npm_[A-Za-z0-9]{36})\b"), 1, 4),
    ("pypi-token", "PyPI upload token", "high", re.compile(r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"), 1, 5),
    ("twilio-api-key", "Twilio API key SID", "medium", re.compile(r"\b(SK[0-9a-f]{32})\b"), 1, 2),
    (
        "azure-storage-key",
        "Azure storage account key",
        "high",
        re.compile(r"AccountKey=([A-Za-z0-9+/]{86}==)"),
        1,
        2,
    ),
    (
        "telegram-bot-token",
        "Telegram bot token",
        "medium",
        re.compile(r"\b(\d{8,10}:AA[0-9A-Za-z_-]{33})\b"),
        1,
        4,
    ),
    (
        "jwt",
        "JSON Web Token (may be a live session or API token)",
        "medium",
        re.compile(r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"),
        1,
        6,
    ),
    (
        "url-credentials",
        "Password in a URL (user:password@host)",
        "high",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@'\"`]{1,64}:([^\s@'\"`/]{3,128})@[A-Za-z0-9.-]+"),
        1,
        1,
    ),
]

# key = "value" assignments in code and config: the name says it is a secret
ASSIGN_NAME = (
    r"(?:[A-Za-z0-9_.-]*?(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|"
    r"access[_-]?token|refresh[_-]?token|client[_-]?secret|private[_-]?key|token|credentials?)[A-Za-z0-9_]*)"
)
ASSIGN_QUOTED = re.compile(
    r"(?i)(?<![A-Za-z0-9])(" + ASSIGN_NAME + r")['\"]?(?:\s*:\s*[A-Za-z_][\w\[\]., |]{0,30}?)?\s*(?::=|=>|==|=|:)\s*"
    r"(?:[rbuf]?)(['\"])([^'\"\s]{6,200})\2"
)
ASSIGN_BARE = re.compile(
    r"(?i)^\s*(?:export\s+|set\s+)?(" + ASSIGN_NAME + r")\s*[=:]\s*([^\s'\"#;]{6,200})\s*(?:[#;].*)?$"
)
CONFIG_EXT = {".env", ".ini", ".cfg", ".conf", ".properties", ".yaml", ".yml", ".toml", ".sh", ".bash", ".zsh", ""}
CONFIG_NAMES = re.compile(r"^\.env(\..*)?$|^\.npmrc$|^\.pypirc$|^\.netrc$|^credentials$|^config$", re.IGNORECASE)

PLACEHOLDER = re.compile(
    r"^\$\{?[A-Za-z_]|^\{\{|^%\(|^<[^>]*>$|^\[[^\]]*\]$|^(?:x+|\*+|\.+|-+|#+)$|^(?:your|my|example|sample|dummy|fake|"
    r"test|placeholder|redacted|changeme|change[_-]?me|replace[_-]?me|todo|tbd|none|null|undefined|secret|password|"
    r"passwd|token|api[_-]?key)(?:[_-].*)?$|^os\.environ|^getenv|^process\.env|^env\(|^ENV\[|^settings\.|^config\.",
    re.IGNORECASE,
)
CODE_VALUE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(.*\))?$")
EXAMPLE_VALUE = re.compile(
    r"EXAMPLE|example|wJalrXUtnFEMI/K7MDENG|1234567890|abcdef0123|0000000000|deadbeef", re.IGNORECASE
)


def entropy(s: str) -> float:
    if not s:
        return 0.0
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def mask(secret: str, keep: int) -> str:
    """The first `keep` characters (a known prefix) and the last two; never more than a third of a short secret."""
    n = len(secret)
    if n <= 8:
        return secret[:1] + "*" * (n - 1)
    keep = min(keep, n // 3) if keep > 4 else min(keep, max(1, n // 4))
    tail = 2 if n > 12 else 0
    return secret[:keep] + "*" * min(n - keep - tail, 12) + (secret[-tail:] if tail else "") + f" ({n} chars)"


def is_binary(path: Path) -> bool:
    if path.suffix.lower() in BINARY_EXT:
        return True
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError:
        return True
    return b"\0" in head


class Finding:
    def __init__(self, path: str, line: int, rule: str, what: str, severity: str, masked: str, note: str) -> None:
        self.path, self.line, self.rule, self.what = path, line, rule, what
        self.severity, self.masked, self.note = severity, masked, note


def scan_line(rel: str, no: int, line: str, config_like: bool, out: list[Finding]) -> None:
    spans: list[tuple[int, int]] = []
    for rule, what, sev, pat, grp, keep in RULES:
        for m in pat.finditer(line):
            secret = m.group(grp)
            start, end = m.span(grp)
            if any(s <= start < e for s, e in spans):
                continue
            note = ""
            severity = sev
            if rule == "url-credentials" and (PLACEHOLDER.search(secret) or secret.startswith(("$", "%", "{"))):
                continue
            if rule == "aws-secret-access-key" and entropy(secret) < 3.5:
                continue
            if rule == "private-key":
                if "ENCRYPTED" in secret:
                    severity, note = "medium", "passphrase-encrypted key"
                masked = secret
            else:
                masked = mask(secret, keep)
            if EXAMPLE_VALUE.search(secret) and rule != "private-key":
                severity, note = "low", "looks like a documented example value"
            spans.append((start, end))
            out.append(Finding(rel, no, rule, what, severity, masked, note))
    for m in ASSIGN_QUOTED.finditer(line):
        name, value = m.group(1), m.group(3)
        start = m.start(3)
        if any(s <= start < e for s, e in spans) or not plausible(name, value):
            continue
        spans.append(m.span(3))
        out.append(generic(rel, no, name, value))
    if config_like:
        m = ASSIGN_BARE.match(line)
        if m and not any(s <= m.start(2) < e for s, e in spans) and plausible(m.group(1), m.group(2)):
            out.append(generic(rel, no, m.group(1), m.group(2)))


def plausible(name: str, value: str) -> bool:
    """A value that could be a real secret, not a placeholder, a variable, a type name or a file path."""
    if PLACEHOLDER.search(value) or (CODE_VALUE.match(value) and not re.search(r"\d", value)):
        return False
    if value.startswith(("/", "./", "../", "http://", "https://", "~")) or re.fullmatch(r"[\w-]+\.\w{2,4}", value):
        return False
    plain_token = "token" in name.lower() and not re.search(r"pass|secret|key|auth|access|refresh|api", name, re.I)
    if plain_token and entropy(value) < 3.0:
        return False
    return len(set(value)) > 3


def generic(rel: str, no: int, name: str, value: str) -> Finding:
    low = name.lower()
    kind = "password" if re.search(r"pass|pwd", low) else "secret"
    sev = "high" if entropy(value) >= 3.5 and len(value) >= 16 else "medium"
    note = f"assigned to `{name[:40]}`"
    if EXAMPLE_VALUE.search(value):
        sev, note = "low", note + "; looks like an example value"
    return Finding(rel, no, f"hardcoded-{kind}", f"Hard-coded {kind}", sev, mask(value, 1), note)


def walk(root: Path) -> tuple[list[Path], int]:
    files: list[Path] = []
    skipped = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            if p.stat().st_size > MAX_FILE_BYTES or is_binary(p):
                skipped += 1
                continue
            files.append(p)
    return files, skipped


def min_severity(request: str) -> str:
    r = request.lower()
    for sev in SEVERITIES:
        if re.search(
            r"(?:only|just)\s+(?:the\s+)?" + sev + r"|" + sev + r"\s+(?:and above|or (?:higher|above|worse))|"
            r"(?:at least|min(?:imum)?(?: severity)?)\s+" + sev,
            r,
        ):
            return sev
    return "low"


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    if len(sys.argv) < 2:
        print("Name the folder to scan for secrets (e.g. 'scan this repo for leaked keys').")
        return 2
    root = Path(sys.argv[1])
    if not root.is_dir():
        print(f"{root} is not a folder; name the project folder to scan.")
        return 2
    files, skipped = walk(root)
    findings: list[Finding] = []
    allowed = 0
    for p in files:
        rel = p.relative_to(root).as_posix()
        config_like = p.suffix.lower() in CONFIG_EXT or bool(CONFIG_NAMES.match(p.name))
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            skipped += 1
            continue
        for no, line in enumerate(text.splitlines(), start=1):
            if len(line) > 4000:
                line = line[:4000]
            if ALLOW.search(line):
                allowed += 1
                continue
            scan_line(rel, no, line, config_like, findings)
    floor = SEVERITIES.index(min_severity(request))
    shown = [f for f in findings if SEVERITIES.index(f.severity) <= floor]
    shown.sort(key=lambda f: (SEVERITIES.index(f.severity), f.path, f.line))
    by_sev = Counter(f.severity for f in findings)
    out = ["## Secret scan", ""]
    out.append(
        f"Scanned {len(files)} text file(s)"
        + (f"; skipped {skipped} binary or oversized file(s)" if skipped else "")
        + (f"; {allowed} line(s) marked as allowed" if allowed else "")
        + "."
    )
    if not findings:
        out += ["", "**No secrets found** by these rules. This is pattern matching: it cannot prove a tree is clean."]
        print("\n".join(out))
        return 0
    counts = ", ".join(f"{by_sev[s]} {s}" for s in SEVERITIES if by_sev[s])
    files_hit = len({f.path for f in findings})
    out.append(f"**{len(findings)} finding(s)** in {files_hit} file(s): {counts}.")
    if len(shown) < len(findings):
        out.append(f"Showing {len(shown)} at {SEVERITIES[floor]} severity or above.")
    out += ["", "| severity | rule | location | match (masked) | note |", "|---|---|---|---|---|"]
    for f in shown[:MAX_FINDINGS]:
        masked = f.masked.replace("|", "\\|")
        note = f"{f.what}; {f.note}" if f.note else f.what
        out.append(f"| {f.severity} | {f.rule} | `{f.path}:{f.line}` | `{masked}` | {note} |")
    if len(shown) > MAX_FINDINGS:
        out.append(f"(… {len(shown) - MAX_FINDINGS} more not shown)")
    rules = Counter(f.rule for f in findings)
    out += ["", "By rule: " + ", ".join(f"{r} {n}" for r, n in rules.most_common()) + "."]
    out += [
        "",
        "### What to do",
        "1. Treat every live-looking credential as leaked: **revoke or rotate it first** at its provider "
        "(AWS IAM, GitHub settings, Stripe dashboard …); deleting the line does not un-leak it.",
        "2. Move the value to an environment variable or a secret manager and read it at run time; keep `.env` "
        "files out of version control (`.gitignore`).",
        "3. If the repository was ever pushed, purge the value from history (`git filter-repo`, BFG) and "
        "force-push, then tell collaborators to re-clone.",
        "4. Mark a deliberate test fixture with `# pragma: allowlist secret` so later scans skip it.",
    ]
    text = "\n".join(out) + "\n"
    if len(text) > 15000:
        text = text[:14800] + "\n\n(output cut at 15 KB)\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
