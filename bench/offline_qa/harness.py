"""The offline_qa question set: loading, building the workspace folder, checking evidence and grading answers.

See README.md next to this file for the workspace layout, the fields and the grading rule. Importable on its own
(no package-relative imports); k2_host is only needed for type checking.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from k2_host.results import AgentResult

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
QUESTIONS = HERE / "questions.jsonl"
NODE_MODULES = REPO / "tests" / "realclients" / "node_modules"

PY_TREES = ("starlette", "httpx", "click", "jinja2", "diskcache", "tenacity")
NPM_TREES = tuple(
    f"node_modules/{p}"
    for p in ("body-parser", "cors", "send", "serve-static", "qs", "ws", "debug", "cookie", "express")
)
DIST_NAMES = {"jinja2": "Jinja2"}  # import name -> distribution name, where they differ
EXPECTED_VERSIONS = {
    "starlette": "1.10.0",
    "httpx": "0.29.0",
    "click": "8.5.1",
    "jinja2": "3.1.6",
    "diskcache": "5.6.3",
    "tenacity": "9.2.1",
    "node_modules/body-parser": "2.4.0",
    "node_modules/cors": "2.8.6",
    "node_modules/send": "1.2.1",
    "node_modules/serve-static": "2.2.1",
    "node_modules/qs": "6.17.1",
    "node_modules/ws": "8.23.0",
    "node_modules/debug": "4.4.3",
    "node_modules/cookie": "0.7.2",
    "node_modules/express": "5.3.0",
}
BANNER_PREFIX = "[K2 offline engine"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")
_LINE = re.compile(r"lines?\s+(\d+)")  # "line 98", or the start of "lines 96-100"


@dataclass(frozen=True)
class Question:
    id: str
    tree: str  # a PY_TREES / NPM_TREES entry, or "none" for absent questions
    split: str  # "dev" | "heldout"
    kind: str
    question: str
    answers: list[str]
    file: str | None
    evidence: str | None
    # other lines of the folder that state the same answer to the same question, as [file, evidence] pairs
    # (the default in a defaults table and again in the README); a citation of any of them is right
    also: list[list[str]] = field(default_factory=list)

    def places(self) -> list[tuple[str, str]]:
        """(file, evidence) of every line that answers the question, the main one first."""
        main = [(self.file, self.evidence)] if self.file is not None and self.evidence is not None else []
        return main + [(f, e) for f, e in self.also]

    @property
    def absent(self) -> bool:
        return self.tree == "none"

    @property
    def group(self) -> str:
        """The Python tree's name, "npm" for node_modules/*, or "absent"."""
        return "absent" if self.absent else "npm" if self.tree.startswith("node_modules/") else self.tree


def load_questions(split: str | None = None, ids: set[str] | None = None) -> list[Question]:
    """The questions in file order, optionally only one split ("dev"/"heldout"; None or "all" for both) or ids."""
    out = []
    with QUESTIONS.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = Question(**json.loads(line))
                if split in (None, "all", q.split) and (ids is None or q.id in ids):
                    out.append(q)
    return out


@dataclass
class Workspace:
    root: Path
    trees: list[str] = field(default_factory=list)  # copied
    missing: list[str] = field(default_factory=list)  # not installed here
    versions: dict[str, str] = field(default_factory=dict)  # tree -> installed version
    mismatched: list[str] = field(default_factory=list)  # copied, but not at EXPECTED_VERSIONS

    def askable(self, q: Question) -> bool:
        return q.absent or q.tree in self.trees


def _python_source(name: str) -> tuple[Path, str] | None:
    try:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(spec.submodule_search_locations[0]), importlib.metadata.version(DIST_NAMES.get(name, name))
    except (ImportError, importlib.metadata.PackageNotFoundError):
        return None


def _npm_source(tree: str) -> tuple[Path, str] | None:
    src = NODE_MODULES / tree.removeprefix("node_modules/")
    try:
        return src, str(json.loads((src / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def build_workspace(dest: Path, trees: Sequence[str] | None = None) -> Workspace:
    """Copy the installed trees into `dest` (Python packages to dest/<name>, npm ones to dest/node_modules/<pkg>).

    `trees` defaults to all of PY_TREES + NPM_TREES; a bare npm package name ("cors") means node_modules/cors.
    Trees that are not installed are listed in `missing` instead of raising.
    """
    ws = Workspace(root=dest)
    dest.mkdir(parents=True, exist_ok=True)
    for tree in trees if trees is not None else PY_TREES + NPM_TREES:
        if tree not in PY_TREES and f"node_modules/{tree}" in NPM_TREES:
            tree = f"node_modules/{tree}"
        found = _python_source(tree) if tree in PY_TREES else _npm_source(tree)
        if found is None or not found[0].is_dir():
            ws.missing.append(tree)
            continue
        src, version = found
        target = dest / tree
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(src, target, ignore=_IGNORE)
        ws.trees.append(tree)
        ws.versions[tree] = version
        if EXPECTED_VERSIONS.get(tree) not in (None, version):
            ws.mismatched.append(tree)
    return ws


def evidence_line(q: Question, root: Path, place: tuple[str, str] | None = None) -> int:
    """The 1-based line of the first occurrence of the evidence (of q's main place unless one is given) in its
    file (ValueError if it is not there)."""
    if place is None:
        if q.file is None or q.evidence is None:
            raise ValueError(f"{q.id}: no evidence (absent question)")
        place = (q.file, q.evidence)
    file, evidence = place
    for n, line in enumerate((root / file).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if evidence in line:
            return n
    raise ValueError(f"{q.id}: evidence not found in {file}")


def check_evidence(q: Question, root: Path) -> str | None:
    """None when each evidence occurs in its file and its line holds one of the answers, else what is wrong."""
    if q.absent:
        return None
    if q.file is None or q.evidence is None or not q.answers:
        return f"{q.id}: answerable question without file/evidence/answers"
    for place in q.places():
        try:
            n = evidence_line(q, root, place)
        except OSError as e:
            return f"{q.id}: cannot read {place[0]}: {e}"
        except ValueError as e:
            return str(e)
        line = (root / place[0]).read_text(encoding="utf-8", errors="replace").splitlines()[n - 1].lower()
        if not any(a.lower() in line for a in q.answers):
            return f"{q.id}: {place[0]} line {n} holds none of {q.answers}"
    return None


@dataclass(frozen=True)
class Grade:
    ok: bool
    why: str
    headline: str


def answer_text(answer: str) -> str:
    """The answer without the offline engine's banner line."""
    first, _, rest = answer.partition("\n")
    return rest if first.strip().startswith(BANNER_PREFIX) else answer


def headline(answer: str) -> str:
    return next((ln.strip() for ln in answer_text(answer).splitlines() if ln.strip()), "")


def _same_file(source: str, want: Path, root: Path) -> bool:
    p = Path(source.removeprefix("file://"))
    if not p.is_absolute():
        p = root / p
    try:
        return p.resolve() == want.resolve()
    except OSError:
        return False


def grade(q: Question, result: AgentResult, root: Path) -> Grade:
    """Right answer in the headline and the first citation at the evidence line (±2); or abstention when absent."""
    head = headline(result.answer)
    abstained = head.startswith("I found nothing") or "found nothing" in head.lower()
    if q.absent:
        return Grade(abstained, "abstained" if abstained else "answered instead of abstaining", head)
    if not any(a.lower() in head.lower() for a in q.answers):
        return Grade(False, "abstained" if abstained else "answer not in headline", head)
    wants = [(file, evidence_line(q, root, (file, evidence))) for file, evidence in q.places()]
    want = f"{wants[0][0]} line {wants[0][1]}" + (f" (or {len(wants) - 1} other)" if len(wants) > 1 else "")
    if not result.citations:
        return Grade(False, f"no citation, want {want}", head)
    c = result.citations[0]
    m = _LINE.search(c.location or "")
    got = int(m.group(1)) if m else None
    if got is None or not any(_same_file(c.source, root / f, root) and abs(got - n) <= 2 for f, n in wants):
        return Grade(False, f"cited {c.source} {c.location or '(no line)'}, want {want}", head)
    return Grade(True, "ok", head)


def _rate(grades: list[Grade]) -> dict[str, Any]:
    passed = sum(g.ok for g in grades)
    return {"passed": passed, "total": len(grades), "rate": passed / len(grades) if grades else 0.0}


def summarize(rows: Iterable[tuple[Question, Grade]]) -> dict[str, Any]:
    """Pass rates overall and per split, per group (Python tree, "npm", "absent") and per kind."""
    rows = list(rows)
    by: dict[str, dict[str, list[Grade]]] = {"split": defaultdict(list), "group": defaultdict(list)}
    by["kind"] = defaultdict(list)
    for q, g in rows:
        by["split"][q.split].append(g)
        by["group"][q.group].append(g)
        by["kind"][q.kind].append(g)
    out: dict[str, Any] = {"overall": _rate([g for _, g in rows])}
    for key, groups in by.items():
        out[key] = {name: _rate(gs) for name, gs in sorted(groups.items())}
    return out
