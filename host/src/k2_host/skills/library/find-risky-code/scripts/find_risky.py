"""Find risky code across a folder: eval/exec, unsafe deserialisation, shell injection, weak hashes, TLS checks
turned off, SQL built by string formatting, and similar patterns, with file:line, severity and a fix.

Usage:
    python3 scripts/find_risky.py path/to/project < request.txt

Python files are read with `ast` (so comments and strings do not trigger and `yaml.load(..., Loader=SafeLoader)`
is told apart from `yaml.load(f)`); JavaScript/TypeScript, shell, Go, Java, PHP and Ruby files are matched line by
line with patterns. A line with `# nosec` (or `// nosec`) is skipped and counted. Binary files and the usual
vendored folders (.git, node_modules, .venv, …) are skipped.

The request may narrow the report: "only high", "medium and above", "just Python".

Exit 0 with a Markdown report (also when nothing is found); exit 2 when the folder is missing.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections import Counter
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache"}
SKIP_DIRS |= {".pytest_cache", ".tox", ".nox", "dist", "build", ".next", "vendor", "site-packages", "bower_components"}
MAX_FILE_BYTES = 1024 * 1024
MAX_FINDINGS = 150
SEVERITIES = ("high", "medium", "low")
NOSEC = re.compile(r"(?:#|//|/\*)\s*nosec\b", re.IGNORECASE)

JS_EXT = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".vue", ".svelte"}
SH_EXT = {".sh", ".bash", ".zsh", ".ksh"}
LANG_OF = {".py": "Python", ".go": "Go", ".java": "Java", ".kt": "Kotlin", ".php": "PHP", ".rb": "Ruby", ".cs": "C#"}
LANG_OF |= dict.fromkeys(JS_EXT, "JavaScript/TypeScript") | dict.fromkeys(SH_EXT, "shell")
LANG_OF |= {"Dockerfile": "Dockerfile", "Makefile": "shell"}

FIX = {
    "eval-exec": "Do not evaluate strings: parse the data (`ast.literal_eval`, `json.loads`) or dispatch on a "
    "fixed table.",
    "unsafe-deserialization": "Never unpickle/unmarshal data you did not write yourself; use JSON or a schema'd "
    "format, or sign the payload (HMAC) and check it first.",
    "yaml-unsafe-load": "Use `yaml.safe_load(...)` (or `Loader=yaml.SafeLoader`); full/unsafe loaders build "
    "arbitrary objects.",
    "shell-injection": "Pass a list of arguments without `shell=True` (`subprocess.run(['git', 'log', ref])`); "
    "never build command strings from input (`shlex.quote` if you must).",
    "os-command": "Replace `os.system`/`os.popen` with `subprocess.run([...])` and a fixed argument list.",
    "weak-hash": "Use SHA-256 or better for integrity and `hashlib.scrypt`/bcrypt/argon2 for passwords; if the "
    "hash is not for security, say so with `usedforsecurity=False`.",
    "tls-verify-off": "Keep certificate checks on; point `verify=` at a CA bundle for private CAs instead of "
    "disabling it.",
    "sql-string-building": "Pass values as parameters (`cur.execute('... WHERE id = %s', (user_id,))`); never "
    "format them into the SQL text.",
    "insecure-temp-file": "Use `tempfile.mkstemp()` / `NamedTemporaryFile()`; `mktemp` has a race between name "
    "and open.",
    "debug-enabled": "Never run with debug on outside development: the debugger console executes code.",
    "jwt-no-verify": "Always verify JWT signatures with an explicit `algorithms=[...]` list.",
    "tar-extract": "Extract with `filter='data'` (Python 3.12+) or check every member's path before `extractall`.",
    "world-writable": "Use the narrowest mode that works (0o600 files, 0o700 dirs); 0o777 lets any local user write.",
    "xss-sink": "Write text with `textContent`, or sanitise HTML (DOMPurify) before inserting it.",
    "pipe-to-shell": "Download to a file, check its checksum or signature, then run it.",
    "insecure-random": "Use `secrets` (Python) / `crypto.randomBytes` / `crypto.getRandomValues` for tokens and "
    "passwords.",
    "bind-all-interfaces": "Bind to 127.0.0.1 unless the service must be reachable from other hosts.",
    "assert-security": "`assert` is removed under `python -O`; raise an exception for access checks.",
    "command-exec": "Avoid building commands from input; use an argument list (`execFile`, "
    "`exec.Command(name, args...)`).",
}

SQL_START = re.compile(r"^\s*(?:select|insert|update|delete|replace|merge|with|create|drop|alter)\b", re.IGNORECASE)
SQL_ANY = re.compile(r"\b(?:select\b.+\bfrom|insert\s+into|update\b.+\bset|delete\s+from|where\b)", re.IGNORECASE)
EXEC_METHODS = {"execute", "executemany", "executescript", "raw", "read_sql", "read_sql_query", "exec_driver_sql"}


class Finding:
    def __init__(self, path: str, line: int, rule: str, severity: str, why: str, code: str) -> None:
        self.path, self.line, self.rule, self.severity, self.why = path, line, rule, severity, why
        self.code = code.strip()


# ------------------------------------------------------------------------------------------------ Python (ast)


def dotted(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain ('' otherwise)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        return ".".join([inner + "()", *reversed(parts)]) if inner else ""
    return ""


def kw(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def is_const(node: ast.AST | None, value: object = ...) -> bool:
    if not isinstance(node, ast.Constant):
        return False
    return value is ... or node.value == value


def formatted_string(node: ast.AST) -> str:
    """'f-string', '% formatting', '.format()' or '+ concatenation' when a string is built from parts, else ''."""
    if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values):
        return "an f-string"
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, (ast.Constant, ast.JoinedStr))
    ):
        return "% formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "" if is_const(node.left) and is_const(node.right) else "+ concatenation"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        return ".format()"
    return ""


def literal_text(node: ast.AST) -> str:
    """The constant text of a string expression (joined parts of f-strings and concatenations)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp):
        return literal_text(node.left) + " " + literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return literal_text(node.func.value)
    return ""


class PyVisitor(ast.NodeVisitor):
    def __init__(self, rel: str, lines: list[str], out: list[Finding]) -> None:
        self.rel, self.lines, self.out = rel, lines, out
        self.sql_vars: dict[str, tuple[int, str]] = {}  # name -> (line, how) for SQL text built by formatting

    def add(self, node: ast.AST, rule: str, severity: str, why: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if NOSEC.search(code):
            return
        self.out.append(Finding(self.rel, line, rule, severity, why, code))

    def visit_Assign(self, node: ast.Assign) -> None:
        how = formatted_string(node.value)
        if how and SQL_ANY.search(literal_text(node.value)):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.sql_vars[t.id] = (node.lineno, how)
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        text = ast.unparse(node.test).lower()
        if re.search(r"is_admin|is_superuser|is_staff|has_perm|authori[sz]|authenticated|permission|role\b", text):
            self.add(node, "assert-security", "low", "access check written as `assert` (stripped by python -O)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        first = node.args[0] if node.args else None
        # eval / exec
        if name in ("eval", "exec", "builtins.eval", "builtins.exec") and first is not None and not is_const(first):
            self.add(node, "eval-exec", "high", f"`{name}()` on a value computed at run time")
        # deserialisation
        unpickle = name in {
            "pickle.load",
            "pickle.loads",
            "cPickle.load",
            "cPickle.loads",
            "_pickle.loads",
            "dill.load",
            "dill.loads",
            "marshal.load",
            "marshal.loads",
            "shelve.open",
            "jsonpickle.decode",
            "pandas.read_pickle",
            "pd.read_pickle",
            "joblib.load",
            "torch.load",
        } or (last == "Unpickler" and "pickle" in name)
        if unpickle and not (name == "torch.load" and is_const(kw(node, "weights_only"), True)):
            self.add(node, "unsafe-deserialization", "high", f"`{name}()` can run code embedded in the data")
        # yaml
        if name in ("yaml.load", "yaml.load_all"):
            loader = kw(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            lname = dotted(loader) if loader is not None else ""
            if not lname.endswith(("SafeLoader", "CSafeLoader", "BaseLoader")):
                why = "`yaml.load()` without a safe Loader" if not lname else f"`yaml.load()` with `{lname}`"
                self.add(node, "yaml-unsafe-load", "high" if not lname or "Unsafe" in lname else "medium", why)
        if name in ("yaml.unsafe_load", "yaml.unsafe_load_all"):
            self.add(node, "yaml-unsafe-load", "high", f"`{name}()` builds arbitrary Python objects")
        if name in ("yaml.full_load", "yaml.full_load_all"):
            self.add(node, "yaml-unsafe-load", "medium", "`yaml.full_load()`: prefer safe_load for untrusted YAML")
        # subprocess with shell=True
        if name.startswith(("subprocess.", "sp.")) or name in ("run", "call", "check_output", "check_call", "Popen"):
            shell = kw(node, "shell")
            if shell is not None and not is_const(shell, False) and not is_const(shell, None):
                cmd_static = first is not None and is_const(first)
                sev = "medium" if cmd_static else "high"
                why = (
                    "`shell=True` with a constant command"
                    if cmd_static
                    else "`shell=True` with a command built at run time"
                )
                self.add(node, "shell-injection", sev, why)
        if name in ("os.system", "os.popen", "os.popen2", "os.popen3", "commands.getoutput", "os.spawnlp"):
            static = first is not None and is_const(first)
            self.add(
                node,
                "os-command",
                "low" if static else "high",
                f"`{name}()` runs a shell command" + (" (constant)" if static else " built at run time"),
            )
        # weak hashes
        algo = ""
        if name in ("hashlib.md5", "hashlib.sha1", "md5", "sha1"):
            algo = name.rsplit(".", 1)[-1]
        elif name == "hashlib.new" and isinstance(first, ast.Constant) and str(first.value).lower() in ("md5", "sha1"):
            algo = str(first.value).lower()
        if algo and not is_const(kw(node, "usedforsecurity"), False):
            line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
            if re.search(r"passw|pwd", line, re.IGNORECASE):
                self.add(node, "weak-hash", "high", f"{algo.upper()} used on a password (fast and unsalted)")
            else:
                self.add(node, "weak-hash", "medium", f"{algo.upper()} is broken for collision resistance")
        # TLS
        verify = kw(node, "verify")
        if verify is not None and is_const(verify, False):
            self.add(node, "tls-verify-off", "high", f"`{name or 'call'}(verify=False)` accepts any certificate")
        if name in ("ssl._create_unverified_context", "ssl._create_stdlib_context"):
            self.add(node, "tls-verify-off", "high", f"`{name}()` skips certificate checks")
        if name.endswith("urllib3.disable_warnings"):
            self.add(node, "tls-verify-off", "low", "TLS warnings silenced (often paired with verify=False)")
        # JWT without verification
        if last == "decode" and "jwt" in name.lower():
            opts = kw(node, "options")
            no_verify = is_const(kw(node, "verify"), False)
            if isinstance(opts, ast.Dict):
                for k, v in zip(opts.keys, opts.values, strict=True):
                    if is_const(k, "verify_signature") and is_const(v, False):
                        no_verify = True
            if no_verify:
                self.add(node, "jwt-no-verify", "high", "JWT decoded without checking the signature")
            elif kw(node, "algorithms") is None and len(node.args) < 3 and name.startswith("jwt"):
                self.add(node, "jwt-no-verify", "medium", "`jwt.decode()` without `algorithms=[...]`")
        # SQL
        if last in EXEC_METHODS and first is not None:
            how = formatted_string(first)
            if how and (SQL_ANY.search(literal_text(first)) or SQL_START.search(literal_text(first))):
                self.add(node, "sql-string-building", "high", f"SQL text built with {how} and passed to `.{last}()`")
            elif isinstance(first, ast.Name) and first.id in self.sql_vars:
                line, how = self.sql_vars[first.id]
                self.add(node, "sql-string-building", "high", f"`{first.id}` (line {line}) is SQL built with {how}")
        if (
            name in ("sqlalchemy.text", "text")
            and first is not None
            and formatted_string(first)
            and SQL_ANY.search(literal_text(first))
        ):
            self.add(node, "sql-string-building", "high", f"`text()` over SQL built with {formatted_string(first)}")
        # temp files, tar, chmod, flask debug, random tokens, binding
        if name in ("tempfile.mktemp", "mktemp"):
            self.add(node, "insecure-temp-file", "medium", "`mktemp()` returns a name another process can claim first")
        if last == "extractall" and kw(node, "filter") is None and "tar" in name.lower():
            self.add(
                node, "tar-extract", "medium", "`extractall()` without a filter can write outside the target folder"
            )
        if name == "os.chmod" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            mode = node.args[1].value
            if isinstance(mode, int) and mode & 0o002:
                self.add(node, "world-writable", "medium", f"`os.chmod(..., {oct(mode)})` makes it world-writable")
        if last == "run" and is_const(kw(node, "debug"), True) and ("app" in name.lower() or name == "run"):
            self.add(node, "debug-enabled", "medium", "web app started with `debug=True`")
        host = kw(node, "host")
        if host is not None and is_const(host, "0.0.0.0") and last == "run":  # noqa: S104 (the value we look for)
            self.add(node, "bind-all-interfaces", "low", "server bound to all interfaces (0.0.0.0)")
        self.generic_visit(node)


RANDOM_TOKEN = re.compile(
    r"(?i)(token|password|passwd|secret|nonce|salt|otp|session|api_?key)\w*\s*=.*\brandom\.(random|randint|choice|choices|"
    r"randrange|getrandbits|sample)\b"
)


def scan_python(rel: str, text: str, out: list[Finding]) -> bool:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    lines = text.splitlines()
    PyVisitor(rel, lines, out).visit(tree)
    for no, line in enumerate(lines, start=1):
        if RANDOM_TOKEN.search(line) and not NOSEC.search(line):
            out.append(
                Finding(rel, no, "insecure-random", "medium", "secret value drawn from `random` (predictable)", line)
            )
    return True


# ------------------------------------------------------------------------------------------------ other languages


LINE_RULES: dict[str, list[tuple[str, str, str, re.Pattern[str]]]] = {
    "js": [
        (
            "eval-exec",
            "high",
            "`eval()` of a computed string",
            re.compile(r"(?<![\w.$])eval\s*\(\s*(?!['\"`][^'\"`]*['\"`]\s*\))"),
        ),
        ("eval-exec", "high", "`new Function(...)` compiles a string", re.compile(r"\bnew\s+Function\s*\(")),
        (
            "eval-exec",
            "medium",
            "`setTimeout`/`setInterval` with a string",
            re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"),
        ),
        (
            "command-exec",
            "high",
            "`child_process.exec` with a built command",
            re.compile(r"\b(?:exec|execSync)\s*\(\s*(?:`[^`]*\$\{|['\"][^'\"]*['\"]\s*\+|[A-Za-z_$][\w$]*\s*[,)])"),
        ),
        (
            "command-exec",
            "medium",
            "`spawn` with `shell: true`",
            re.compile(r"\bspawn(?:Sync)?\s*\(.*shell\s*:\s*true"),
        ),
        ("tls-verify-off", "high", "TLS certificate checks disabled", re.compile(r"rejectUnauthorized\s*:\s*false")),
        (
            "tls-verify-off",
            "high",
            "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off TLS checks for the whole process",
            re.compile(r"NODE_TLS_REJECT_UNAUTHORIZED['\"]?\s*\]?\s*=\s*['\"]?0"),
        ),
        (
            "weak-hash",
            "medium",
            "MD5/SHA-1 hash",
            re.compile(r"createHash\s*\(\s*['\"](?:md5|sha1)['\"]", re.IGNORECASE),
        ),
        (
            "xss-sink",
            "medium",
            "HTML written from a variable (XSS sink)",
            re.compile(r"\.(?:innerHTML|outerHTML)\s*\+?=\s*(?!['\"]\s*['\"]?;?\s*$)(?!['\"][^'\"$`]*['\"]\s*;?\s*$)"),
        ),
        ("xss-sink", "medium", "`dangerouslySetInnerHTML`", re.compile(r"dangerouslySetInnerHTML")),
        ("xss-sink", "medium", "`document.write()`", re.compile(r"\bdocument\.write(?:ln)?\s*\(")),
        (
            "sql-string-building",
            "high",
            "SQL built with a template literal or concatenation",
            re.compile(
                r"(?i)\.(?:query|execute|raw|run|all|get)\s*\(\s*(?:`\s*(?:select|insert|update|delete|with)\b[^`]*\$\{|"
                r"['\"]\s*(?:select|insert|update|delete)\b[^'\"]*['\"]\s*\+)"
            ),
        ),
        (
            "insecure-random",
            "medium",
            "`Math.random()` for a secret value",
            re.compile(r"(?i)(token|password|secret|nonce|salt|otp|session|key)\w*\s*[:=].*Math\.random\(\)"),
        ),
        (
            "jwt-no-verify",
            "medium",
            "`jwt.decode()` does not verify; use `jwt.verify()`",
            re.compile(r"\bjwt\.decode\s*\("),
        ),
        (
            "unsafe-deserialization",
            "high",
            "`node-serialize`/`serialize-javascript` unserialize runs code",
            re.compile(r"\bunserialize\s*\("),
        ),
    ],
    "sh": [
        (
            "pipe-to-shell",
            "high",
            "downloaded script piped straight into a shell",
            re.compile(r"\b(?:curl|wget)\b[^|#]*\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b"),
        ),
        (
            "tls-verify-off",
            "medium",
            "`curl -k/--insecure` skips certificate checks",
            re.compile(r"\bcurl\b.*\s(?:-k\b|--insecure\b)"),
        ),
        ("tls-verify-off", "medium", "`wget --no-check-certificate`", re.compile(r"\bwget\b.*--no-check-certificate")),
        ("world-writable", "medium", "`chmod 777` / `a+w`", re.compile(r"\bchmod\s+(?:-R\s+)?(?:0?777|a\+w|o\+w)\b")),
        ("eval-exec", "medium", "`eval` of a variable", re.compile(r"(?<![\w-])eval\s+[\"']?\$")),
    ],
    "go": [
        ("tls-verify-off", "high", "`InsecureSkipVerify: true`", re.compile(r"InsecureSkipVerify\s*:\s*true")),
        ("weak-hash", "medium", "MD5/SHA-1 hash", re.compile(r"\b(?:md5|sha1)\.(?:New|Sum)\s*\(")),
        (
            "sql-string-building",
            "high",
            "SQL built with fmt.Sprintf",
            re.compile(r"(?i)\.(?:Query|QueryRow|Exec)(?:Context)?\s*\((?:ctx,\s*)?fmt\.Sprintf\("),
        ),
        (
            "command-exec",
            "medium",
            '`exec.Command("sh", "-c", ...)`',
            re.compile(r"exec\.Command\s*\(\s*\"(?:ba)?sh\"\s*,\s*\"-c\""),
        ),
    ],
    "java": [
        (
            "weak-hash",
            "medium",
            "MD5/SHA-1 MessageDigest",
            re.compile(r"MessageDigest\.getInstance\s*\(\s*\"(?:MD5|SHA-?1)\"", re.IGNORECASE),
        ),
        (
            "sql-string-building",
            "high",
            "SQL concatenated into a Statement",
            re.compile(
                r"(?i)\.(?:executeQuery|executeUpdate|execute|createQuery|prepareStatement)\s*\(\s*\"(?:select|insert|update|delete)\b[^\"]*\"\s*\+"
            ),
        ),
        (
            "unsafe-deserialization",
            "high",
            "`ObjectInputStream.readObject()` on external data",
            re.compile(r"\bnew\s+ObjectInputStream\s*\("),
        ),
        ("command-exec", "medium", "`Runtime.exec()`", re.compile(r"Runtime\.getRuntime\(\)\.exec\s*\(")),
        (
            "tls-verify-off",
            "high",
            "hostname verification disabled",
            re.compile(r"(?:NoopHostnameVerifier|ALLOW_ALL_HOSTNAME_VERIFIER)"),
        ),
    ],
    "php": [
        ("eval-exec", "high", "`eval()`", re.compile(r"(?<![\w>])eval\s*\(")),
        (
            "command-exec",
            "high",
            "shell command with a variable",
            re.compile(r"\b(?:system|exec|shell_exec|passthru|popen|proc_open)\s*\([^)]*\$"),
        ),
        (
            "unsafe-deserialization",
            "high",
            "`unserialize()` of input",
            re.compile(r"\bunserialize\s*\(\s*\$_(?:GET|POST|REQUEST|COOKIE)"),
        ),
        (
            "sql-string-building",
            "high",
            "SQL with an interpolated variable",
            re.compile(r"(?i)(?:mysqli?_query|->query)\s*\(\s*[^,]*\"(?:select|insert|update|delete)\b[^\"]*\$"),
        ),
        ("weak-hash", "medium", "MD5/SHA-1 for a password", re.compile(r"(?i)\b(?:md5|sha1)\s*\(\s*\$\w*pass")),
    ],
    "rb": [
        (
            "eval-exec",
            "high",
            "`eval` of a string",
            re.compile(r"(?<![\w.])(?:eval|instance_eval|class_eval)\s*\(?\s*[\w\"'#]"),
        ),
        (
            "unsafe-deserialization",
            "high",
            "`Marshal.load` / `YAML.load`",
            re.compile(r"\b(?:Marshal\.load|YAML\.load)\s*\("),
        ),
        (
            "command-exec",
            "high",
            "shell command with interpolation",
            re.compile(r"(?:`[^`]*#\{|\bsystem\s*\(\s*\"[^\"]*#\{)"),
        ),
    ],
    "docker": [
        (
            "pipe-to-shell",
            "high",
            "downloaded script piped into a shell",
            re.compile(r"\b(?:curl|wget)\b[^|#]*\|\s*(?:ba)?sh\b"),
        ),
        ("tls-verify-off", "medium", "`curl -k/--insecure`", re.compile(r"\bcurl\b.*\s(?:-k\b|--insecure\b)")),
        ("world-writable", "medium", "`chmod 777`", re.compile(r"\bchmod\s+(?:-R\s+)?0?777\b")),
    ],
}
PY_FALLBACK = [
    ("eval-exec", "high", "`eval()`/`exec()`", re.compile(r"(?<![\w.])(?:eval|exec)\s*\((?!\s*['\"])")),
    ("unsafe-deserialization", "high", "pickle load", re.compile(r"\bpickle\.loads?\s*\(")),
    ("yaml-unsafe-load", "high", "`yaml.load()` without SafeLoader", re.compile(r"\byaml\.load\s*\((?!.*Safe)")),
    ("shell-injection", "high", "`shell=True`", re.compile(r"shell\s*=\s*True")),
    ("tls-verify-off", "high", "`verify=False`", re.compile(r"verify\s*=\s*False")),
    ("weak-hash", "medium", "MD5/SHA-1", re.compile(r"hashlib\.(?:md5|sha1)\s*\(")),
]


def family(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in JS_EXT:
        return "js"
    if ext in SH_EXT or path.name == "Makefile":
        return "sh"
    if path.name == "Dockerfile" or path.name.startswith("Dockerfile.") or ext == ".dockerfile":
        return "docker"
    return {".go": "go", ".java": "java", ".kt": "java", ".php": "php", ".rb": "rb", ".py": "py"}.get(ext, "")


def scan_lines(rel: str, text: str, rules, out: list[Finding]) -> None:
    for no, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        is_comment = stripped.startswith(("//", "#", "*", "/*")) and not stripped.startswith("#!")
        if is_comment and not (rules is LINE_RULES["docker"] and stripped.startswith("RUN")):
            continue
        if NOSEC.search(line):
            continue
        hit: set[str] = set()
        for rule, sev, why, pat in rules:
            if rule not in hit and pat.search(line[:2000]):
                hit.add(rule)
                out.append(Finding(rel, no, rule, sev, why, line))


def walk(root: Path) -> tuple[list[Path], int]:
    files: list[Path] = []
    skipped = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file() or not family(p):
                continue
            try:
                with p.open("rb") as f:
                    head = f.read(8192)
            except OSError:
                continue
            if b"\0" in head or p.stat().st_size > MAX_FILE_BYTES:
                skipped += 1
                continue
            files.append(p)
    return files, skipped


def wanted(request: str) -> tuple[int, set[str]]:
    r = request.lower()
    floor = len(SEVERITIES) - 1
    for i, sev in enumerate(SEVERITIES):
        if re.search(
            r"(?:only|just)\s+(?:the\s+)?" + sev + r"|" + sev + r"\s+(?:and above|or (?:higher|above|worse))|"
            r"(?:at least|min(?:imum)?(?: severity)?)\s+" + sev,
            r,
        ):
            floor = i
            break
    fams: set[str] = set()
    for fam, words in (
        ("py", r"python|\.py\b"),
        ("js", r"javascript|typescript|node|\bjs\b|\bts\b|react"),
        ("sh", r"shell|bash|scripts?\b(?! folder)"),
        ("go", r"\bgo(?:lang)?\b"),
        ("java", r"\bjava\b|kotlin"),
        ("php", r"\bphp\b"),
        ("rb", r"\bruby\b|rails"),
        ("docker", r"docker"),
    ):
        if re.search(r"(?:only|just)\s+(?:the\s+)?(?:" + words + ")|(?:" + words + r")\s+(?:code|files|sources?)\b", r):
            fams.add(fam)
    return floor, fams


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    if len(sys.argv) < 2:
        print("Name the folder to review for risky code (e.g. 'audit this repo for dangerous calls').")
        return 2
    root = Path(sys.argv[1])
    if not root.is_dir():
        print(f"{root} is not a folder; name the project folder to scan.")
        return 2
    floor, fams = wanted(request)
    files, skipped = walk(root)
    findings: list[Finding] = []
    langs: Counter = Counter()
    suppressed = 0
    unparsable: list[str] = []
    for p in files:
        fam = family(p)
        if fams and fam not in fams:
            continue
        rel = p.relative_to(root).as_posix()
        text = p.read_text(encoding="utf-8", errors="replace")
        suppressed += len(NOSEC.findall(text))
        langs[LANG_OF.get(p.suffix.lower(), LANG_OF.get(p.name, "Dockerfile" if fam == "docker" else fam))] += 1
        if fam == "py":
            if not scan_python(rel, text, findings):
                unparsable.append(rel)
                scan_lines(rel, text, PY_FALLBACK, findings)
        else:
            scan_lines(rel, text, LINE_RULES[fam], findings)
    shown = [f for f in findings if SEVERITIES.index(f.severity) <= floor]
    shown.sort(key=lambda f: (SEVERITIES.index(f.severity), f.path, f.line))
    out = ["## Risky code review", ""]
    scanned = ", ".join(f"{n} {lang}" for lang, n in langs.most_common())
    out.append(f"Scanned {sum(langs.values())} source file(s)" + (f" ({scanned})" if scanned else "") + ".")
    extras = []
    if skipped:
        extras.append(f"{skipped} binary or oversized file(s) skipped")
    if suppressed:
        extras.append(f"{suppressed} `nosec` marker(s) honoured")
    if unparsable:
        extras.append(f"not valid Python, pattern-checked instead: {', '.join(unparsable[:5])}")
    if extras:
        joined = "; ".join(extras)
        out.append(joined[0].upper() + joined[1:] + ".")
    if not findings:
        out += [
            "",
            "**No risky patterns found** by these rules. Pattern checks cannot prove code is safe; review "
            "the places where untrusted input enters (requests, files, environment).",
        ]
        print("\n".join(out))
        return 0
    by_sev = Counter(f.severity for f in findings)
    out.append(
        f"**{len(findings)} finding(s)** in {len({f.path for f in findings})} file(s): "
        + ", ".join(f"{by_sev[s]} {s}" for s in SEVERITIES if by_sev[s])
        + "."
    )
    if len(shown) < len(findings):
        out.append(f"Showing {len(shown)} at {SEVERITIES[floor]} severity or above.")
    out += ["", "| severity | rule | location | why | code |", "|---|---|---|---|---|"]
    for f in shown[:MAX_FINDINGS]:
        code = f.code if len(f.code) <= 90 else f.code[:89] + "…"
        code = code.replace("|", "\\|").replace("`", "'")
        out.append(f"| {f.severity} | {f.rule} | `{f.path}:{f.line}` | {f.why} | `{code}` |")
    if len(shown) > MAX_FINDINGS:
        out.append(f"(… {len(shown) - MAX_FINDINGS} more not shown)")
    rules = Counter(f.rule for f in shown)
    if rules:
        out += ["", "### How to fix"]
        for rule, n in rules.most_common():
            out.append(f"- **{rule}** ({n}): {FIX.get(rule, '')}")
    out += [
        "",
        "Severity is the pattern's worst case; whether a finding is exploitable depends on where its input "
        "comes from. Mark a reviewed line with `# nosec` to silence it.",
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
