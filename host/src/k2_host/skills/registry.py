"""The skills a host knows: discovered from four places, one winner per name, project skills trust-gated.

    built-in   k2_host/skills/library/            (shipped with the host)
    config     skills.paths in the host config    (folders of skill folders)
    user       ~/.config/k2/skills/
    project    <project>/.agents/skills/, <project>/.k2/skills/

A later place overrides an earlier one by name (project > user > config > built-in). A project's skills come with
the folder you work in, so they are used only once trusted (`k2 skills trust`, which records a hash of each
folder's files; a skill that changes afterwards is untrusted again); until then the skill they would override
stays in effect and `k2 skills list` shows them as untrusted. A folder that is not a valid skill is skipped and
listed in `problems` with what is wrong, never fatal.

Prerequisites: `unmet(skill, servers, tools)` names what is missing (servers, tools, skills), `order(name)` is
the skill's prerequisites in dependency order, and `path(category)` a learning path through a category (the
prerequisite graph, then difficulty).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

from k2_host.skills.model import CATEGORIES, DIFFICULTIES, Skill, SkillError, Source, load

logger = logging.getLogger(__name__)

PROJECT_DIRS = (".agents/skills", ".k2/skills")
TRUST_FILE = "skills-trust.json"
_MAX_TRUST_BYTES = 4 * 1024 * 1024  # hashed per skill folder; a folder past this is not trusted


def builtin_dir() -> Path:
    return Path(str(resources.files("k2_host.skills") / "library"))


@dataclass(frozen=True)
class Problem:
    folder: Path
    source: Source
    error: str


def folder_hash(folder: Path) -> str:
    """A hash of a skill folder's files (names and bytes), for trust: any edit changes it."""
    h = hashlib.sha256()
    total = 0
    for p in sorted(folder.rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        data = p.read_bytes()
        total += len(data)
        if total > _MAX_TRUST_BYTES:
            return "too-large"
        h.update(str(p.relative_to(folder)).encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


class TrustStore:
    """Which project skill folders the user trusted, with the hash they had then (a 0600 JSON file)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._trusted: dict[str, str] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
                self._trusted = {str(k): str(v) for k, v in data.get("trusted", {}).items()}
            except (OSError, ValueError, AttributeError):
                logger.warning("skills: %s is not readable trust data; no project skill is trusted", path)

    def trusted(self, folder: Path) -> bool:
        want = self._trusted.get(str(folder.resolve()))
        return want is not None and want == folder_hash(folder)

    def trust(self, folders: Iterable[Path]) -> list[Path]:
        done = []
        for folder in folders:
            self._trusted[str(folder.resolve())] = folder_hash(folder)
            done.append(folder)
        self._save()
        return done

    def _save(self) -> None:
        if self.path is None:
            raise SkillError("there is no state dir to keep trust decisions in; set --state-dir")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"trusted": self._trusted}, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


def _skill_folders(base: Path) -> Iterator[Path]:
    if not base.is_dir():
        return
    for child in sorted(base.iterdir()):
        if child.is_dir() and not child.name.startswith((".", "_")) and (child / "SKILL.md").is_file():
            yield child


class SkillRegistry:
    def __init__(self, skills: Iterable[Skill] = (), problems: Iterable[Problem] = ()) -> None:
        self._skills: dict[str, Skill] = {}
        for s in skills:
            self._skills[s.name] = s
        self.problems: list[Problem] = list(problems)
        self.untrusted: list[Skill] = []  # project skills waiting for `k2 skills trust`
        self.overridden: list[Skill] = []  # skills a later place replaced
        self._check_graph()

    @classmethod
    def discover(
        cls,
        *,
        builtin: Path | None = None,
        config_paths: Iterable[Path] = (),
        user_dir: Path | None = None,
        project: Path | None = None,
        trust: TrustStore | None = None,
    ) -> SkillRegistry:
        reg = cls()
        places: list[tuple[Source, Path]] = [("builtin", builtin or builtin_dir())]
        config_source: Source = "config"
        project_source: Source = "project"
        for c in config_paths:
            places.append((config_source, Path(c).expanduser()))
        if user_dir is not None:
            places.append(("user", user_dir))
        if project is not None:
            for d in PROJECT_DIRS:
                places.append((project_source, project / d))
        for source, base in places:
            for folder in _skill_folders(base):
                try:
                    skill = load(folder, source)
                except SkillError as exc:
                    reg.problems.append(Problem(folder, source, str(exc)))
                    continue
                if source == "project" and (trust is None or not trust.trusted(folder)):
                    reg.untrusted.append(skill)
                    continue
                if skill.name in reg._skills:
                    reg.overridden.append(reg._skills[skill.name])
                reg._skills[skill.name] = skill
        reg._check_graph()
        return reg

    def _check_graph(self) -> None:
        """Skills whose prerequisites are unknown or circular are reported (and stay listed: `unmet` says why)."""
        for s in self._skills.values():
            missing = [p for p in s.prerequisites if p not in self._skills]
            if missing:
                self.problems.append(Problem(s.path, s.source, f"{s.name}: unknown prerequisite(s) {missing}"))
        try:
            self._sorted = list(TopologicalSorter({s.name: s.prerequisites for s in self}).static_order())
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            self.problems.append(Problem(Path("."), "builtin", f"prerequisites form a cycle: {cycle}"))
            self._sorted = sorted(self._skills)

    # ---------------------------------------------------------------------------------------------- reading

    def __iter__(self) -> Iterator[Skill]:
        return iter(sorted(self._skills.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._skills)

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def get(self, name: str) -> Skill | None:
        return self._skills.get(name)

    def require(self, name: str) -> Skill:
        skill = self._skills.get(name)
        if skill is None:
            close = sorted(n for n in self._skills if name in n or n in name)[:5]
            hint = f"; did you mean {', '.join(close)}?" if close else "; `k2 skills list` shows them"
            raise SkillError(f"there is no skill named {name!r}{hint}")
        return skill

    def names(self) -> list[str]:
        return sorted(self._skills)

    def by_category(self, category: str | None = None) -> list[Skill]:
        return [s for s in self if category is None or s.category == category]

    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
        for s in self:
            counts[s.category] = counts.get(s.category, 0) + 1
        return counts

    # ---------------------------------------------------------------------------------------------- prerequisites

    def order(self, name: str) -> list[Skill]:
        """`name`'s prerequisites (transitively) in dependency order, then the skill itself."""
        need: set[str] = set()
        todo = [name]
        while todo:
            n = todo.pop()
            if n in need or n not in self._skills:
                continue
            need.add(n)
            todo += self._skills[n].prerequisites
        return [self._skills[n] for n in self._sorted if n in need]

    def unmet(self, skill: Skill, servers: dict[str, bool], tools: set[str] | None = None) -> list[str]:
        """What `skill` needs that is not there, in words; `servers`: configured server -> healthy;
        `tools`: the tools known (None: not listed yet, so only servers are checked)."""
        missing: list[str] = []
        for dep in self.order(skill.name):
            for p in dep.prerequisites:
                if p not in self._skills:
                    missing.append(f"skill {p!r} (a prerequisite of {dep.name}) is not installed")
        needed = {srv for dep in self.order(skill.name) for srv in dep.servers}
        for srv in sorted(needed):
            if srv not in servers:
                missing.append(f"the {srv} server is not configured (see `k2 servers`)")
            elif not servers[srv]:
                missing.append(f"the {srv} server is not healthy (its circuit breaker is open; see `k2 servers`)")
        if tools is not None:
            for tool in skill.tools:
                if tool.split(".", 1)[0] in servers and tool not in tools:
                    missing.append(f"the tool {tool} is not offered (check the server's tool filters)")
        return missing

    def path(self, category: str | None = None, *, target: str | None = None) -> list[Skill]:
        """A learning path: through one category (its skills and the prerequisites they pull in), or up to one
        skill; prerequisites first, then easier before harder, then by name."""
        if target is not None:
            goal = [self.require(target)]
        else:
            goal = self.by_category(category)
            if category is not None and not goal:
                raise SkillError(f"no skill is in category {category!r}; the categories are {', '.join(CATEGORIES)}")
        need: set[str] = set()
        for s in goal:
            need |= {d.name for d in self.order(s.name)}
        rank = {d: i for i, d in enumerate(DIFFICULTIES)}

        def key(n: str) -> tuple[int, str]:
            return (rank.get(self._skills[n].difficulty, len(rank)), n)

        # Kahn's order with a heap: of the skills whose prerequisites are done, the easiest next.
        waiting = {n: {p for p in self._skills[n].prerequisites if p in need} for n in need}
        ready = [key(n) for n, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        out: list[Skill] = []
        while ready:
            _, n = heapq.heappop(ready)
            out.append(self._skills[n])
            for m, deps in waiting.items():
                if n in deps:
                    deps.discard(n)
                    if not deps:
                        heapq.heappush(ready, key(m))
        return out
