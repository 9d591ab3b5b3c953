"""One skill: an Agent Skills folder (`SKILL.md` + optional `scripts/`, `references/`, `assets/`), parsed and checked.

The frontmatter is parsed and checked by the Agent Skills reference library (`skills-ref`), so a folder we accept
is one every Agent Skills client accepts. Our extras live only under `metadata` (string values, as the format
requires):

    category          reasoning | coding | research | communication | data-analysis | security | creative | technical
    difficulty        easy | medium | hard | expert
    version           "1.0"
    prerequisites     space-separated names of skills this one builds on
    requires-servers  space-separated MCP servers it calls (filesystem websearch database codeexec)
    requires-tools    space-separated tools it calls (`server.tool`), when narrower than the servers
    offline           script (run in the codeexec sandbox) | plan (an offline-engine plan) | handler (host code) | model
    script            scripts/<file>.py, for offline=script
    plan / handler    the plan's or handler's name
    input             text | files | url | tree: what the script gets (see `k2_host.skills.runner`)
    needs-model       "no", or what part needs a language model

A skill from elsewhere with no `metadata` at all is still a valid skill: category "general", offline "model".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from skills_ref.errors import ParseError
from skills_ref.parser import find_skill_md, parse_frontmatter
from skills_ref.validator import validate_metadata

CATEGORIES = ("reasoning", "coding", "research", "communication", "data-analysis", "security", "creative", "technical")
DIFFICULTIES = ("easy", "medium", "hard", "expert")
OFFLINE = ("script", "plan", "handler", "model")
INPUTS = ("text", "files", "url", "tree")
SERVERS = ("filesystem", "websearch", "database", "codeexec")
Source = Literal["builtin", "user", "project", "config"]

MAX_BODY_BYTES = 256 * 1024  # a SKILL.md larger than this is refused (the format suggests < 500 lines)


class SkillError(ValueError):
    """A skill folder that cannot be used, with what is wrong in it."""


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    path: Path  # the folder
    source: Source = "builtin"
    category: str = "general"
    difficulty: str = "medium"
    version: str = ""
    prerequisites: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    offline: str = "model"
    script: str = ""
    plan: str = ""
    handler: str = ""
    input: str = "text"
    needs_model: str = "no"
    license: str = ""
    allowed_tools: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def skill_md(self) -> Path:
        return self.path / "SKILL.md"

    @property
    def runs_offline(self) -> bool:
        return self.offline != "model"

    def body(self) -> str:
        """The instructions (SKILL.md without its frontmatter), read when the skill is activated."""
        _, body = parse_frontmatter(_read(self.skill_md))
        return body.strip()

    def files(self) -> list[str]:
        """The bundled files a model may read on demand (relative paths, sorted), SKILL.md excluded."""
        out: list[str] = []
        for sub in ("scripts", "references", "assets"):
            base = self.path / sub
            if base.is_dir():
                out += [str(p.relative_to(self.path)) for p in sorted(base.rglob("*")) if p.is_file()]
        return out

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "difficulty": self.difficulty,
            "version": self.version,
            "source": self.source,
            "prerequisites": list(self.prerequisites),
            "requires_servers": list(self.servers),
            "requires_tools": list(self.tools),
            "offline": self.offline,
            "input": self.input if self.offline == "script" else None,
            "needs_model": self.needs_model,
        }


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkillError(f"{path}: {exc.strerror}") from None
    if len(data) > MAX_BODY_BYTES:
        raise SkillError(f"{path}: {len(data)} bytes is over the {MAX_BODY_BYTES}-byte limit of a SKILL.md")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SkillError(f"{path}: not UTF-8 text") from None


def _words(value: str) -> tuple[str, ...]:
    return tuple(w for w in value.replace(",", " ").split() if w)


def check(folder: Path) -> list[str]:
    """Everything wrong with one skill folder: the format's rules (skills-ref), then ours. Empty: valid."""
    md = find_skill_md(folder) if folder.is_dir() else None
    if md is None:
        return [f"{folder}: no SKILL.md (a skill is a folder holding SKILL.md)"]
    try:
        meta, _ = parse_frontmatter(_read(md))
    except (ParseError, SkillError) as exc:
        return [f"{folder.name}: {exc}"]
    errors = [f"{folder.name}: {e}" for e in validate_metadata(meta, folder)]
    extra = meta.get("metadata")
    if extra is None:
        return errors
    if not isinstance(extra, dict):
        return [*errors, f"{folder.name}: `metadata` must be a map of strings"]
    return errors + [f"{folder.name}: {e}" for e in _check_extras(folder, extra)]


def _check_extras(folder: Path, m: dict[str, str]) -> list[str]:
    errors: list[str] = []

    def one_of(key: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
        value = m.get(key, default)
        if value is not None and value not in allowed:
            errors.append(f"metadata.{key} is {value!r}; use one of {', '.join(allowed)}")
        return value

    if "category" in m:
        one_of("category", CATEGORIES)
    one_of("difficulty", DIFFICULTIES, "medium")
    offline = one_of("offline", OFFLINE, "model")
    for server in _words(m.get("requires-servers", "")):
        if server not in SERVERS:
            errors.append(f"metadata.requires-servers names {server!r}; the servers are {', '.join(SERVERS)}")
    for tool in _words(m.get("requires-tools", "")):
        if "." not in tool:
            errors.append(f"metadata.requires-tools names {tool!r}; write server.tool, e.g. database.query_database")
    if offline == "script":
        one_of("input", INPUTS, "text")
        script = m.get("script", "")
        target = (folder / script).resolve() if script else None
        if not script:
            errors.append("metadata.script is missing (offline: script needs scripts/<file>.py)")
        elif target is None or not target.is_relative_to(folder.resolve()) or not target.is_file():
            errors.append(f"metadata.script {script!r} is not a file inside the skill folder")
    if offline in ("plan", "handler") and not m.get(offline):
        errors.append(f"metadata.{offline} is missing (offline: {offline} needs the {offline}'s name)")
    return errors


def load(folder: Path, source: Source = "builtin") -> Skill:
    """The skill in `folder`; SkillError naming every problem when it is not valid."""
    errors = check(folder)
    if errors:
        raise SkillError("; ".join(errors))
    meta, _ = parse_frontmatter(_read(folder / "SKILL.md"))
    m: dict[str, str] = meta.get("metadata") or {}
    return Skill(
        name=str(meta["name"]).strip(),
        description=" ".join(str(meta["description"]).split()),
        path=folder,
        source=source,
        category=m.get("category", "general"),
        difficulty=m.get("difficulty", "medium"),
        version=m.get("version", ""),
        prerequisites=_words(m.get("prerequisites", "")),
        servers=_words(m.get("requires-servers", "")),
        tools=_words(m.get("requires-tools", "")),
        offline=m.get("offline", "model"),
        script=m.get("script", ""),
        plan=m.get("plan", ""),
        handler=m.get("handler", ""),
        input=m.get("input", "text"),
        needs_model=m.get("needs-model", "no"),
        license=str(meta.get("license", "")),
        allowed_tools=str(meta.get("allowed-tools", "")),
        metadata=dict(m),
    )
