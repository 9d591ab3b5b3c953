"""The skills layer: Agent Skills folders the host discovers, routes to, runs, measures and orders into paths.

    skills = Skills.open(config)               # built-in library + config paths + ~/.config/k2/skills + project
    skills.registry                            # SkillRegistry: list, get, unmet(...), order(...), path(...)
    route = await skills.route(query)          # the offline router (embeddings): Route(skill | None, score)
    outcome = await skills.runner.run(p, skill, query)   # prerequisites -> handler -> metrics -> proficiency
    skills.catalog()                           # names + descriptions for a model's stable prompt prefix

With a model the host discloses progressively: the catalog sits in the system prompt, `skills.activate` (names
limited to the catalog) returns a skill's instructions and bundled files, `skills.read` one bundled file, and
`skills.run` runs a skill's offline handler (its script in the codeexec sandbox). Offline, the router picks a
skill above its threshold and the offline engine runs it; no skill is also an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2_host.llm.base import ToolSpec
from k2_host.mcp.convert import host_error
from k2_host.mcp.types import ToolResult
from k2_host.paths import config_dir
from k2_host.skills.metrics import SkillMetrics
from k2_host.skills.model import CATEGORIES, Skill, SkillError, check, load
from k2_host.skills.registry import TRUST_FILE, SkillRegistry, TrustStore, builtin_dir
from k2_host.skills.router import Route, SkillRouter, shipped_triggers
from k2_host.skills.runner import SkillOutcome, SkillRunner

if TYPE_CHECKING:
    from k2_host.agent.engine import Run
    from k2_host.config import HostConfig
    from k2_host.rag.embeddings import LazyEmbedder

__all__ = [
    "CATEGORIES",
    "Route",
    "Skill",
    "SkillError",
    "SkillOutcome",
    "SkillRegistry",
    "SkillRouter",
    "SkillRunner",
    "Skills",
    "builtin_dir",
    "check",
    "load",
]

MAX_READ_CHARS = 60_000


def _first_sentence(text: str, limit: int = 100) -> str:
    first = text.split(". ", 1)[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


class Skills:
    def __init__(
        self, registry: SkillRegistry, metrics: SkillMetrics | None = None, trust: TrustStore | None = None
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.trust = trust
        self.runner = SkillRunner(registry, metrics)
        self._router: SkillRouter | None = None
        self.embedder: LazyEmbedder | None = None
        self.learned: list[tuple[str, str, float]] = []  # the training layer's current router pairs

    @classmethod
    def open(cls, config: HostConfig, project: Path | None = None) -> Skills:
        state = config.state_dir
        trust = TrustStore(state / TRUST_FILE if state is not None else None)
        if project is None and config.roots:
            project = Path(config.roots[0])
        registry = SkillRegistry.discover(
            config_paths=config.skills.paths,
            user_dir=config_dir() / "skills",
            project=project,
            trust=trust,
        )
        path = config.learning.path or (state / "k2.sqlite" if state is not None else None)
        return cls(registry, SkillMetrics(path), trust)

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.close()

    # -------------------------------------------------------------------------------------------- routing

    def router(self, embedder: LazyEmbedder) -> SkillRouter:
        """The router requests use: the library, the shipped triggers and the current learned pairs."""
        if self._router is None:
            self._router = self.make_router(embedder, self.learned)
        return self._router

    def make_router(self, embedder: LazyEmbedder, learned: Sequence[tuple[str, str, float]] = ()) -> SkillRouter:
        """A router over this library trained on the shipped triggers plus `learned` (query, skill or "none",
        weight) pairs: the training layer's candidates are made here too."""

        router = SkillRouter(list(self.registry), embedder.embed_documents)
        router.teach(shipped_triggers())
        if learned:
            router.teach([(q, None if t == "none" else t) for q, t, _ in learned], [w for _, _, w in learned])
        return router

    def use_router(self, router: SkillRouter | None, learned: Sequence[tuple[str, str, float]] | None = None) -> None:
        """Route with `router` from now on (None: build it again on next use, from `learned` when given)."""
        self._router = router
        if learned is not None:
            self.learned = list(learned)

    async def route(self, query: str, embedder: LazyEmbedder) -> Route:
        return await self.router(embedder).route(query)

    # -------------------------------------------------------------------------------------------- for a model

    def catalog(self, max_chars: int = 1_000_000) -> str:
        """The skills a model may activate, sorted (byte-stable between calls), in at most `max_chars`: one line
        each with its description; else with its description's first sentence; else names by category."""
        if not len(self.registry):
            return ""
        head = (
            "Skills: when a request matches one, call skills.activate with its name first and follow what it says "
            "(skills.read opens a file it bundles; skills.run runs its offline handler)."
        )
        full = "\n".join([head, *(f"- {s.name}: {s.description}" for s in self.registry)])
        if len(full) <= max_chars:
            return full
        short = "\n".join([head, *(f"- {s.name}: {_first_sentence(s.description)}" for s in self.registry)])
        if len(short) <= max_chars:
            return short
        groups: dict[str, list[str]] = {}
        for s in self.registry:
            groups.setdefault(s.category, []).append(s.name)
        return "\n".join([head, *(f"- {c}: {', '.join(n)}" for c, n in sorted(groups.items()))])

    def tool_specs(self) -> list[ToolSpec]:
        names = self.registry.names()
        name = {"type": "string", "enum": names, "description": "a skill from the catalog"}
        named = {"type": "string", "maxLength": 64, "description": "a skill from the catalog"}
        return [
            ToolSpec(
                name="skills.activate",
                description="Load a skill's instructions (and the list of files it bundles) before doing its task.",
                input_schema={"type": "object", "properties": {"name": name}, "required": ["name"]},
            ),
            ToolSpec(
                name="skills.read",
                description="Read one file a skill bundles (a path from skills.activate's list).",
                input_schema={
                    "type": "object",
                    "properties": {"name": named, "path": {"type": "string", "maxLength": 500}},
                    "required": ["name", "path"],
                },
            ),
            ToolSpec(
                name="skills.run",
                description="Run a skill's offline handler on a request (its script runs in the codeexec sandbox); "
                "the request names the files or URL it works on.",
                input_schema={
                    "type": "object",
                    "properties": {"name": named, "request": {"type": "string", "minLength": 1, "maxLength": 20000}},
                    "required": ["name", "request"],
                },
            ),
        ]

    def _skill(self, tool: str, arguments: dict[str, Any]) -> Skill | ToolResult:
        skill = self.registry.get(str(arguments.get("name", "")))
        if skill is None:
            return host_error(
                tool, "invalid_arguments", f"no skill named {arguments.get('name')!r}; use a name from the catalog"
            )
        return skill

    async def activate(self, arguments: dict[str, Any], run: Run) -> ToolResult:
        skill = self._skill("skills.activate", arguments)
        if isinstance(skill, ToolResult):
            return skill
        missing = self.registry.unmet(skill, {n: True for n in run.servers()})
        files = skill.files()
        parts = [f"# Skill: {skill.name} ({skill.category}, {skill.difficulty})", skill.body()]
        if files:
            parts.append("Bundled files (skills.read): " + ", ".join(files))
        if missing:
            parts.append("Not available here: " + "; ".join(missing))
        return ToolResult(name="skills.activate", text="\n\n".join(parts))

    async def read(self, arguments: dict[str, Any], run: Run) -> ToolResult:
        skill = self._skill("skills.read", arguments)
        if isinstance(skill, ToolResult):
            return skill
        rel = str(arguments.get("path", ""))
        if rel not in skill.files():
            return host_error(
                "skills.read",
                "invalid_arguments",
                f"{skill.name} bundles no file {rel!r}; it has: {', '.join(skill.files())}",
            )
        data = (skill.path / rel).read_bytes()
        text = data.decode("utf-8", errors="replace")
        cut = len(text) > MAX_READ_CHARS
        body = text[:MAX_READ_CHARS] + (f"\n[cut: {len(text)} characters, first {MAX_READ_CHARS} shown]" if cut else "")
        return ToolResult(name="skills.read", text=body)

    async def run_tool(self, arguments: dict[str, Any], run: Run) -> ToolResult:
        from k2_host.engine.plan_run import PlanRun

        skill = self._skill("skills.run", arguments)
        if isinstance(skill, ToolResult):
            return skill
        p = PlanRun(run, self.embedder)
        outcome = await self.runner.run(p, skill, str(arguments.get("request", "")), chosen_by="model")
        if not outcome.ok:
            return host_error("skills.run", "tool_error", outcome.text)
        notes = "".join(f"\n(note: {n})" for n in outcome.notices)
        return ToolResult(name="skills.run", text=outcome.text + notes, images=outcome.images)
