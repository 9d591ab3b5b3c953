"""Diff statistics and a Conventional Commits subject line suggested from a unified diff.

Usage:
    python3 commit_message.py change.diff < request.txt     # `git diff > change.diff`, `git diff --cached`, a .patch
    python3 commit_message.py < request.txt                 # a diff pasted in the request (in a code fence)

Prints files changed with their status (added, deleted, renamed, modified, binary, mode) and +/- lines,
the functions added/removed/touched, then a `type(scope): description` subject derived from the paths and
the kind of change, with the reasons and alternatives. Words in the request win over the guess: "this fixes
...", "feature", "refactor", "docs", "perf", "scope billing". The body (why the change was made) is left to a
model or the author. Exit 2 when no unified diff is found.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_OUT = 15_000
SUBJECT_MAX = 72
GENERIC_DIRS = {
    "src", "lib", "app", "apps", "pkg", "internal", "source", "sources", "main", "java", "kotlin", "python", "com",
    "org", "net", "io", "packages", "modules", "code", "cmd", "include",
}  # fmt: skip
DEF_RX = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:public\s+|private\s+|protected\s+|static\s+)*"
    r"(?:async\s+)?(?:def|class|function|func|fn|interface|struct|enum|trait|type)\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)"
)
TYPE_WORDS = [
    ("revert", r"\brevert(s|ed|ing)?\b"),
    ("fix", r"\b(fix(es|ed|ing)?|bug ?fix|bug|hotfix|patch(es|ed)? (a|the) |repair(s|ed)?|resolve[sd]?)\b"),
    ("perf", r"\b(perf|performance|faster|speed(s|ed)? up|optimi[sz]e[sd]?)\b"),
    ("refactor", r"\b(refactor(s|ed|ing)?|restructur\w+|clean(s|ed)? up|cleanup|rename[sd]?)\b"),
    ("docs", r"\b(docs?|documentation|readme)\b"),
    ("test", r"\b(tests? only|add(s|ed)? tests?|testing)\b"),
    ("ci", r"\b(ci|pipeline|workflow)\b"),
    ("build", r"\b(build|dependenc(y|ies)|deps|bump(s|ed)?)\b"),
    ("style", r"\b(formatting|whitespace|style|lint)\b"),
    ("chore", r"\bchore\b"),
    ("feat", r"\b(feat|feature|new|add(s|ed)? support|implement(s|ed)?|introduc\w+)\b"),
]


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


@dataclass
class FileChange:
    old: str = ""
    new: str = ""
    status: str = "modified"
    added: int = 0
    removed: int = 0
    binary: bool = False
    similarity: str = ""
    added_defs: list[str] = field(default_factory=list)
    removed_defs: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    plus: list[str] = field(default_factory=list)
    minus: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new if self.new and self.new != "/dev/null" else self.old


def strip_prefix(p: str) -> str:
    p = p.strip().split("\t")[0]
    if p.startswith('"') and p.endswith('"'):
        p = p[1:-1]
    if p == "/dev/null":
        return p
    return re.sub(r"^[abciwo]/", "", p)


def parse_diff(text: str) -> tuple[list[FileChange], str]:
    lines = text.replace("\r\n", "\n").split("\n")
    files: list[FileChange] = []
    subject = ""
    cur: FileChange | None = None
    old_left = new_left = 0
    current_def = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if old_left > 0 or new_left > 0:  # inside a hunk
            if cur is not None:
                tag = line[:1]
                body = line[1:]
                m = DEF_RX.match(body)
                if tag in (" ", "+", "-") and m:
                    current_def = m.group(1)
                if tag == "+":
                    cur.added += 1
                    new_left -= 1
                    cur.plus.append(body)
                    if m:
                        cur.added_defs.append(m.group(1))
                elif tag == "-":
                    cur.removed += 1
                    old_left -= 1
                    cur.minus.append(body)
                    if m:
                        cur.removed_defs.append(m.group(1))
                elif tag == " " or line == "":
                    old_left -= 1
                    new_left -= 1
                elif tag == "\\":
                    pass
                else:
                    old_left = new_left = 0
                    continue
                if tag in ("+", "-") and current_def and current_def not in cur.touched:
                    cur.touched.append(current_def)
            i += 1
            continue
        if line.startswith("Subject: ") and not files:
            subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", line[len("Subject: ") :]).strip()
        m = re.match(r"^diff --git (\"?a/.+?\"?) (\"?b/.+?\"?)$", line)
        if m:
            cur = FileChange(old=strip_prefix(m.group(1)), new=strip_prefix(m.group(2)))
            files.append(cur)
            i += 1
            continue
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = strip_prefix(line[4:]), strip_prefix(lines[i + 1][4:])
            if cur is None or cur.added or cur.removed:
                cur = FileChange(old=old, new=new)
                files.append(cur)
            else:
                cur.old, cur.new = (old if old != "/dev/null" else cur.old), (new if new != "/dev/null" else cur.new)
            if old == "/dev/null":
                cur.status = "added"
            elif new == "/dev/null":
                cur.status = "deleted"
            i += 2
            continue
        if cur is not None:
            if line.startswith("new file mode"):
                cur.status = "added"
            elif line.startswith("deleted file mode"):
                cur.status = "deleted"
            elif line.startswith("rename from "):
                cur.old, cur.status = line[len("rename from ") :], "renamed"
            elif line.startswith("rename to "):
                cur.new, cur.status = line[len("rename to ") :], "renamed"
            elif line.startswith("copy from "):
                cur.old, cur.status = line[len("copy from ") :], "copied"
            elif line.startswith("similarity index "):
                cur.similarity = line[len("similarity index ") :]
            elif line.startswith("new mode ") and cur.status == "modified":
                cur.status = "mode changed"
            elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
                cur.binary = True
            h = re.match(r"^@@+ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@+\s?(.*)$", line)
            if h:
                old_left = int(h.group(2)) if h.group(2) is not None else 1
                new_left = int(h.group(4)) if h.group(4) is not None else 1
                ctx = DEF_RX.match(h.group(5) or "")
                current_def = ctx.group(1) if ctx else ""
                if cur.status == "mode changed":
                    cur.status = "modified"
        i += 1
    return [f for f in files if f.path], subject


# --------------------------------------------------------------------------- classification


def kind_of(path: str) -> str:
    p = path.lower()
    name = PurePosixPath(p).name
    parts = PurePosixPath(p).parts
    if name in (".gitignore", ".gitattributes", ".editorconfig", ".dockerignore", ".npmignore", ".prettierrc"):
        return "chore"
    if (
        p.startswith(".github/workflows/")
        or name in (".gitlab-ci.yml", "jenkinsfile", ".travis.yml", "azure-pipelines.yml")
        or p.startswith(".circleci/")
    ):
        return "ci"
    if re.search(r"(^|/)(tests?|__tests__|spec|testing)/", p) or re.match(
        r"(test_.*\.py|.*_test\.(py|go)|.*\.(test|spec)\.[cm]?[jt]sx?|.*Tests?\.java)$", PurePosixPath(path).name
    ):
        return "test"
    if (
        name in ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pyproject.toml", "setup.py",
                 "setup.cfg", "poetry.lock", "uv.lock", "cargo.toml", "cargo.lock", "go.mod", "go.sum", "pom.xml",
                 "build.gradle", "build.gradle.kts", "makefile", "dockerfile", "gemfile", "gemfile.lock", "pipfile",
                 "pipfile.lock", "cmakelists.txt")
        or re.match(r"requirements.*\.(txt|in)$", name)
    ):  # fmt: skip
        return "build"
    if (
        name.endswith((".md", ".rst", ".adoc"))
        or name in ("license", "changelog", "authors", "readme")
        or "docs" in parts[:-1]
        or "doc" in parts[:-1]
    ):
        return "docs"
    if name.endswith((".txt",)) and not name.startswith("requirements"):
        return "docs"
    return "source"


def whitespace_only(f: FileChange) -> bool:
    norm = lambda xs: sorted("".join(x.split()) for x in xs if x.strip())  # noqa: E731
    return bool(f.plus or f.minus) and norm(f.plus) == norm(f.minus)


def scope_of(files: list[FileChange], request: str) -> str:
    m = re.search(r"(?i)\bscope[:\s]+[`'\"]?([\w./-]+)", request)
    if m:
        return m.group(1).strip("/.")
    src = [f for f in files if kind_of(f.path) == "source"] or files
    dirs = [PurePosixPath(f.path).parent.parts for f in src]
    common: list[str] = []
    for level in zip(*dirs, strict=False):
        if all(x == level[0] for x in level):
            common.append(level[0])
        else:
            break
    meaningful = [c for c in common if c.lower() not in GENERIC_DIRS and not c.startswith(".")]
    if meaningful:
        return meaningful[-1]
    if len(src) == 1:
        stem = PurePosixPath(src[0].path).stem
        return stem if stem.lower() not in ("index", "main", "__init__", "mod", "lib") else ""
    # The area with most changed lines, if it clearly dominates.
    weight: dict[str, int] = {}
    for f in src:
        parts = [p for p in PurePosixPath(f.path).parent.parts if p.lower() not in GENERIC_DIRS]
        if parts:
            weight[parts[0]] = weight.get(parts[0], 0) + f.added + f.removed
    if weight:
        top, w = max(weight.items(), key=lambda kv: kv[1])
        if w >= 0.7 * sum(weight.values()):
            return top
    return ""


def names(xs: list[str], limit: int = 2) -> str:
    xs = list(dict.fromkeys(xs))
    if len(xs) <= limit:
        return " and ".join(xs)
    return ", ".join(xs[:limit]) + f" and {len(xs) - limit} more"


def describe(files: list[FileChange], ctype: str) -> str:
    main = [f for f in files if kind_of(f.path) == "source"] or files
    added = [f for f in main if f.status == "added"]
    deleted = [f for f in main if f.status == "deleted"]
    renamed = [f for f in main if f.status == "renamed"]
    modified = [f for f in main if f.status in ("modified", "mode changed", "copied")]
    stem = lambda f: PurePosixPath(f.path).stem  # noqa: E731
    parts: list[str] = []
    new_defs = [d for f in added + modified for d in f.added_defs if d not in f.removed_defs]
    if added:
        defs = [d for f in added for d in f.added_defs]
        parts.append("add " + names(defs if defs and len(defs) <= 2 else [stem(f) for f in added]))
    elif new_defs and ctype == "feat":
        parts.append("add " + names(new_defs))
    if renamed:
        r = renamed[0]
        parts.append(f"rename {PurePosixPath(r.old).name} to {PurePosixPath(r.new).name}")
    if modified:
        touched = [t for f in modified for t in f.touched if t not in new_defs]
        what = names(touched) if touched and len(set(touched)) <= 2 else names([stem(f) for f in modified])
        shrink = sum(f.removed for f in modified) > sum(f.added for f in modified)
        verbs = {"fix": "fix", "refactor": "simplify" if shrink else "restructure", "perf": "speed up", "test": "cover"}
        verb = verbs.get(ctype, "format" if ctype == "style" else "update")
        parts.append(f"{verb} {what}")
    if deleted:
        parts.append("remove " + names([stem(f) for f in deleted]))
    if not parts:
        parts.append("update " + names([stem(f) for f in files]))
    if ctype in ("fix", "refactor", "perf") and modified and len(parts) > 1:
        mod = next(p for p in parts if p.split()[0] in ("fix", "simplify", "restructure", "speed", "update"))
        parts.remove(mod)
        parts.insert(0, mod)
    text = parts[0]
    for extra in parts[1:]:
        if len(text) + len(extra) + 2 < 60:
            text += ", " + extra if len(parts) > 2 else " and " + extra
    return text


VERBS = {"fix": "fix", "fixes": "fix", "fixed": "fix", "add": "add", "adds": "add", "added": "add",
         "implement": "implement", "implements": "implement", "remove": "remove", "removes": "remove",
         "removed": "remove", "refactor": "refactor", "refactors": "refactor", "support": "support",
         "supports": "support", "update": "update", "updates": "update", "rename": "rename", "renames": "rename",
         "drop": "drop", "drops": "drop", "make": "make", "makes": "make"}  # fmt: skip


def request_phrase(request: str) -> str:
    """'it fixes the rounding bug in totals' -> 'fix the rounding bug in totals'."""
    text = re.sub(r"(?is)```.*?```", " ", request)
    text = re.split(r"(?m)^(?:diff --git |--- |@@ )", text, maxsplit=1)[0]
    m = re.search(
        r"(?i)\b(?:this|it|which|that|to|change|diff|patch)\s+(?:\w+\s+)?(" + "|".join(VERBS) + r")\s+"
        r"((?:the|a|an)\s+)?([\w][\w\s'/.-]{2,60}?)\s*(?:[.,;!?)]|\band\b|\bso\b|\bfor\b|$)",
        text,
    )
    if not m:
        return ""
    words = m.group(3).strip()
    if re.match(r"(?i)(commit|message|diff|change|patch)\b", words):
        return ""
    return f"{VERBS[m.group(1).lower()]} {words}"


def classify(files: list[FileChange], request: str) -> tuple[str, list[str], list[str]]:
    reasons: list[str] = []
    kinds = {kind_of(f.path) for f in files}
    req = re.sub(r"(?s)```.*?```", " ", request)  # a pasted diff is not the user's words
    if "diff --git" in req or re.search(r"(?m)^@@ ", req):
        req = ""
    req = re.sub(r"(?i)commit message|conventional commits?|commit", " ", req)
    for ctype, rx in TYPE_WORDS:
        if re.search(rx, req, re.I):
            reasons.append(f"the request says {ctype!r}-like words")
            return ctype, reasons, []
    if kinds == {"docs"}:
        return "docs", ["only documentation files change"], []
    if kinds == {"test"}:
        return "test", ["only test files change"], []
    if kinds == {"ci"}:
        return "ci", ["only CI configuration changes"], []
    if kinds <= {"chore"}:
        return "chore", ["only repository housekeeping files change"], []
    if kinds <= {"build", "chore"}:
        return "build", ["only build or dependency files change"], ["chore"]
    src = [f for f in files if kind_of(f.path) == "source"]
    if src and all(whitespace_only(f) for f in src if f.added or f.removed):
        return "style", ["the code changes are whitespace/formatting only"], ["chore"]
    new_files = [f for f in src if f.status == "added"]
    new_defs = [d for f in src for d in f.added_defs if d not in f.removed_defs]
    if src and all(f.status == "renamed" and not (f.added or f.removed) for f in src):
        return "refactor", ["files are only renamed or moved"], ["chore"]
    if new_files:
        reasons.append(f"new source file {new_files[0].path}" + (" and more" if len(new_files) > 1 else ""))
        return "feat", reasons, ["fix", "refactor"]
    if new_defs:
        reasons.append(f"new definitions: {names(new_defs, 3)}")
        return "feat", reasons, ["fix", "refactor"]
    added = sum(f.added for f in src)
    removed = sum(f.removed for f in src)
    if removed > added * 1.5 and removed >= 5:
        return "refactor", [f"more lines removed ({removed}) than added ({added}) without new definitions"], ["fix"]
    reasons.append("existing code is modified without new files or definitions")
    return "fix", reasons, ["refactor", "feat"]


def main(argv: list[str]) -> int:
    try:
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        request = ""
    sources: list[str] = []
    texts: list[str] = []
    for arg in argv:
        p = Path(arg)
        try:
            texts.append(p.read_bytes().decode("utf-8", "replace"))
            sources.append(p.name)
        except OSError as exc:
            raise Refusal(f"Could not read {arg}: {exc.strerror or exc}.") from None
    if not texts:
        fences = re.findall(r"```(?:diff|patch)?[^\n]*\n(.*?)```", request, re.S)
        texts = fences or [request]
    files: list[FileChange] = []
    patch_subject = ""
    for t in texts:
        found, subj = parse_diff(t)
        files.extend(found)
        patch_subject = patch_subject or subj
    if not files:
        where = ", ".join(sources) if sources else "the request"
        raise Refusal(
            f"I found no unified diff in {where}: save one with `git diff > change.diff` (or `git diff --cached` "
            "for staged changes) and name the file."
        )
    ctype, reasons, alternatives = classify(files, request)
    scope = scope_of(files, request)
    breaking = [d for f in files if kind_of(f.path) == "source" for d in f.removed_defs]
    breaking = [d for d in breaking if not d.startswith("_") and not any(d in g.added_defs for g in files)]
    desc = describe(files, ctype)
    said = request_phrase(request)
    if said:
        desc = said[4:] if ctype == "fix" and said.startswith("fix ") else said
        reasons.append("the description is taken from the request")
    if scope and scope.lower() in ("docs", "doc", "tests", "test", "ci", ".github") and ctype in ("docs", "test", "ci"):
        scope = ""
    head = f"{ctype}({scope})" if scope else ctype
    subject = f"{head}: {desc}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0]
    total_add = sum(f.added for f in files)
    total_del = sum(f.removed for f in files)
    out = [f"# Commit message draft{' for ' + ', '.join(sources) if sources else ''}"]
    out.append("")
    out.append("## Diff statistics")
    out.append(
        f"{len(files)} file{'s' if len(files) != 1 else ''} changed, {total_add} insertion"
        f"{'s' if total_add != 1 else ''}(+), {total_del} deletion{'s' if total_del != 1 else ''}(-)"
    )
    out.append("")
    out.append("| file | change | + | - | kind |")
    out.append("|---|---|---:|---:|---|")
    for f in files:
        status = f.status
        if f.status == "renamed":
            status = f"renamed from {f.old}" + (f" ({f.similarity})" if f.similarity else "")
        if f.binary:
            status += " (binary)"
        out.append(f"| {f.path} | {status} | {f.added} | {f.removed} | {kind_of(f.path)} |")
    touched = [
        (t, f.path)
        for f in files
        for t in f.touched
        if t not in f.added_defs and not (t in f.removed_defs and t not in f.added_defs)
    ]
    new_defs = [(d, f.path) for f in files for d in f.added_defs if d not in f.removed_defs]
    gone = [(d, f.path) for f in files for d in f.removed_defs if d not in f.added_defs]
    if new_defs or touched or gone:
        out.append("")
        if new_defs:
            out.append("Added definitions: " + ", ".join(f"`{d}` ({p})" for d, p in new_defs[:12]))
        if touched:
            out.append("Changed in: " + ", ".join(f"`{d}` ({p})" for d, p in list(dict.fromkeys(touched))[:12]))
        if gone:
            out.append("Removed definitions: " + ", ".join(f"`{d}` ({p})" for d, p in gone[:12]))
    out.append("")
    out.append("## Suggested subject")
    out.append("```text")
    out.append(subject)
    out.append("```")
    why = f"Type `{ctype}`: {'; '.join(reasons)}."
    if scope and re.search(r"(?i)\bscope[:\s]", request):
        why += f" Scope `{scope}`: as the request says."
    elif scope:
        why += f" Scope `{scope}`: the part of the tree the changes share."
    out.append(why)
    if alternatives:
        out.append(
            "If that guess is wrong: "
            + ", ".join(f"`{a}{'(' + scope + ')' if scope else ''}: ...`" for a in alternatives)
            + " (feat = new behaviour, fix = a bug repaired, refactor = same behaviour)."
        )
    areas = sorted({PurePosixPath(f.path).parts[0] for f in files if len(PurePosixPath(f.path).parts) > 1})
    if len(files) > 8 and len(areas) > 2:
        out.append(
            f"This diff spans {len(files)} files in {len(areas)} top-level folders ({', '.join(areas[:6])}): "
            "consider splitting it into one commit per concern."
        )
    if patch_subject:
        out.append(f"The patch already has a subject: {patch_subject!r}.")
    if breaking:
        out.append(
            f"Removed public names ({', '.join(f'`{b}`' for b in breaking[:5])}): if callers outside this change use "
            f"them, mark it breaking: `{head}!: ...` and a `BREAKING CHANGE:` footer."
        )
    out.append("")
    out.append("## Body")
    out.append(
        "Needs a model or the author: the body says why the change was made and what it changes for users, "
        "which the diff alone does not show. Keep the subject under 72 characters, imperative, no final period; "
        "wrap the body at 72."
    )
    report = "\n".join(out)
    if len(report) > MAX_OUT:
        report = report[: MAX_OUT - 100].rsplit("\n", 1)[0] + "\n\n… output cut at 15 KB."
    print(report)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"commit_message.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
