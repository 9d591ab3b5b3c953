"""Running a skill offline: prerequisites -> gather the input -> run the handler -> metrics -> proficiency.

Handlers by the skill's `offline`:

    script   its `scripts/` (and its prerequisites' `scripts/`) and the gathered input are written into a fresh
             codeexec sandbox through MCP, and the script runs there, never in the host process:
                 text   the request on stdin
                 files  the files the request names, read through the filesystem server, as `input/<name>`
                 url    the page the request names, fetched by the websearch server, as `input/page.md`
                 tree   the text files of the folder the request names (default: the first root) under `input/`
             exit 0: the answer is its stdout; exit 2: it could not use the input (its stdout says why).
    plan     an offline-engine plan (`k2_host.engine.plans`)
    handler  host code in `k2_host.skills.handlers`, calling MCP tools
    model    needs a language model: offline it says so

Every tool call goes through the request's `PlanRun`, so it is recorded in the trajectory like any other.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from k2_host.engine import text as tx
from k2_host.results import Citation
from k2_host.skills.model import Skill

if TYPE_CHECKING:
    from k2_host.engine.plan_run import PlanRun
    from k2_host.skills.registry import SkillRegistry

MAX_TREE_FILES = 300
MAX_TREE_BYTES = 4 * 1024 * 1024
MAX_FILE_LINES = 100_000
_SCRIPT_TIMEOUT_S = 60

# A file named in a request: `quoted`, "quoted", or a token with an extension (sales.csv, src/app/main.py).
# (single quotes only at word edges: the apostrophes of "I'm" and "what's" quote nothing)
_QUOTED = re.compile(r"`([^`\n]{1,400})`|\"([^\"\n]{1,400})\"|(?<!\w)'([^'\n]{1,400})'(?!\w)")
_PATHLIKE = re.compile(r"(?<![\w/.:-])((?:~?[\w.@+-]*/)*[\w@+-][\w.@+-]*\.[A-Za-z][A-Za-z0-9]{0,9})(?![\w/])")
_DIRLIKE = re.compile(r"(?<![\w/.:-])((?:[\w.@+-]+/)+[\w.@+-]*|[\w@+-]+/)(?![\w])")
_NOT_FILES = {"e.g", "i.e", "etc", "vs"}
# Files without an extension that requests name: SHA256SUMS, Makefile, Dockerfile, LICENSE (looked for, and
# left out quietly when there is no such file).
_BARE = re.compile(r"(?<![\w/.-])([A-Z][A-Z0-9_]{3,}|Makefile|Dockerfile|Procfile|Gemfile|Pipfile|Justfile)(?![\w/.-])")


@dataclass
class SkillOutcome:
    skill: str
    ok: bool
    text: str
    reason: str = ""  # why it failed: prerequisites, no_input, bad_input, script_error, needs_model, tool_error
    images: list[dict[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    latency_ms: float = 0.0


class InputError(Exception):
    """The request does not give the skill what it needs (a file, a URL): said to the user as is."""


def candidates(query: str) -> list[str]:
    """File-like names in a request, in order, without duplicates."""
    out: dict[str, None] = {}
    spans: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(query):
        text = next(g for g in m.groups() if g)
        spans.append(m.span())
        if "/" in text or "." in text:
            out.setdefault(text.strip(), None)
    for m in _PATHLIKE.finditer(query):
        if any(a <= m.start() < b for a, b in spans):
            continue
        token = m.group(1).rstrip(".")
        if (
            token.lower() in _NOT_FILES
            or re.fullmatch(r"[\d.]+", token)
            or "://" in query[max(0, m.start() - 8) : m.start()]
        ):
            continue
        out.setdefault(token, None)
    return [c for c in out if not c.startswith(("http://", "https://"))]


def bare_candidates(query: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) for m in _BARE.finditer(query)))


async def resolve_file(p: PlanRun, name: str) -> str | None:
    """The absolute path of a file named in a request: under a root as given, else found by its name."""
    for root in p.roots:
        full = name if name.startswith("/") else f"{root.rstrip('/')}/{name.lstrip('./')}"
        info = await p.call("filesystem.get_file_info", {"path": full}, fresh=True)
        if not info.is_error and info.structured and info.structured.get("kind") == "file":
            return full
    if "/" in name.strip("/"):
        return None
    for root in p.roots:
        found = await p.call(
            "filesystem.search_files", {"pattern": f"**/{name}", "path": root, "max_results": 2}, fresh=True
        )
        matches = (found.structured or {}).get("matches") or []
        if not found.is_error and matches:
            return f"{root.rstrip('/')}/{matches[0]}"
    return None


class SkillRunner:
    def __init__(self, registry: SkillRegistry, metrics: Any | None = None) -> None:
        self.registry = registry
        self.metrics = metrics  # SkillMetrics, or None (nothing persisted)

    async def run(self, p: PlanRun, skill: Skill, query: str, *, chosen_by: str = "named") -> SkillOutcome:
        t0 = time.perf_counter()
        outcome = await self._run(p, skill, query)
        outcome.latency_ms = (time.perf_counter() - t0) * 1000
        if self.metrics is not None and outcome.reason != "needs_model":
            self.metrics.record(
                skill.name,
                ok=outcome.ok,
                reason=outcome.reason,
                latency_ms=outcome.latency_ms,
                difficulty=skill.difficulty,
                chosen_by=chosen_by,
            )
        return outcome

    async def _run(self, p: PlanRun, skill: Skill, query: str) -> SkillOutcome:
        manager = p.run.runtime.manager
        servers = {name: manager.healthy(name) for name in p.run.servers()}  # an open breaker is not there
        missing = self.registry.unmet(skill, servers)
        if missing:
            return SkillOutcome(
                skill.name, False, f"The skill {skill.name} cannot run: " + "; ".join(missing) + ".", "prerequisites"
            )
        try:
            if skill.offline == "script":
                return await self._script(p, skill, query)
            if skill.offline == "handler":
                from k2_host.skills.handlers import HANDLERS

                handler = HANDLERS.get(skill.handler)
                if handler is None:
                    return SkillOutcome(skill.name, False, f"no host handler named {skill.handler!r}", "script_error")
                return await handler(p, skill, query)
            if skill.offline == "plan":
                return await self._plan(p, skill, query)
        except InputError as exc:
            return SkillOutcome(skill.name, False, str(exc), "no_input")
        need = skill.needs_model if skill.needs_model not in ("", "no") else "it works from its instructions"
        return SkillOutcome(
            skill.name,
            False,
            f"The skill {skill.name} needs a language model ({need}); configure one (see the README) to use it.",
            "needs_model",
        )

    async def _plan(self, p: PlanRun, skill: Skill, query: str) -> SkillOutcome:
        from k2_host.engine.plans import builtin_plans

        plan = next((x for x in builtin_plans() if x.name == skill.plan), None)
        if plan is None:
            return SkillOutcome(skill.name, False, f"no offline plan named {skill.plan!r}", "script_error")
        answer = await plan.run(p, query)
        if not answer:
            return SkillOutcome(skill.name, False, "it found nothing for this request", "no_result")
        return SkillOutcome(skill.name, True, answer)

    # ------------------------------------------------------------------------------------------------ scripts

    async def _script(self, p: PlanRun, skill: Skill, query: str) -> SkillOutcome:
        files: dict[str, str] = {}
        for dep in self.registry.order(skill.name):  # the prerequisites' scripts too (a script may build on them)
            base = dep.path / "scripts"
            if base.is_dir():
                for f in sorted(base.rglob("*.py")):
                    files[f"skills/{dep.name}/{f.relative_to(dep.path)}"] = f.read_text(encoding="utf-8")
        notices: list[str] = []
        argv: list[str] = []
        env: dict[str, str] = {}
        if skill.input == "files":
            for name, content, note in await self.read_named_files(p, query, notices):
                target = _unique(files, f"input/{PurePosixPath(name).name}")
                files[target] = content
                argv.append(target)
                if note:
                    notices.append(note)
        elif skill.input == "url":
            url = tx.find_url(query)
            if url is None:
                raise InputError(f"Give the page's address (https://...) for {skill.name}.")
            content, note = await self._fetch(p, url)
            files["input/page.md"] = content
            argv.append("input/page.md")
            env["K2_URL"] = url
            if note:
                notices.append(note)
        elif skill.input == "tree":
            tree, note = await self._tree(p, query)
            files.update({f"input/{rel}": text for rel, text in tree.items()})
            argv.append("input")
            if note:
                notices.append(note)
        script = f"skills/{skill.name}/{skill.script}"
        code = (
            "import io, os, runpy, sys\n"
            f"os.environ.update({json.dumps(env)})\n"
            f"sys.argv = {json.dumps([script, *argv])}\n"
            f"sys.stdin = io.TextIOWrapper(io.BytesIO({json.dumps(query)}.encode()), encoding='utf-8')\n"
            f"runpy.run_path({json.dumps(script)}, run_name='__main__')\n"
        )
        res = await p.call(
            "codeexec.execute_python", {"code": code, "files": files, "timeout": _SCRIPT_TIMEOUT_S}, fresh=True
        )
        if res.is_error or not res.structured:
            return SkillOutcome(skill.name, False, f"The sandbox could not run {skill.name}: {res.text}", "tool_error")
        s = res.structured
        out = (s.get("stdout") or "").strip()
        exit_code = s.get("exit_code")
        p.result.citations.append(Citation(source=f"skill:{skill.name}", location=skill.script, text=skill.description))
        if s.get("timed_out"):
            return SkillOutcome(skill.name, False, f"{skill.name} ran past {_SCRIPT_TIMEOUT_S} s", "script_error")
        if s.get("truncated"):
            notices.append("the script's output was cut at the sandbox's limit")
        if exit_code == 0:
            return SkillOutcome(skill.name, True, out, images=list(res.images), notices=notices)
        if exit_code == 2:
            return SkillOutcome(skill.name, False, out or f"{skill.name} could not use this input", "bad_input")
        err = (s.get("stderr") or "").strip()[-400:]
        return SkillOutcome(skill.name, False, f"{skill.name} failed (exit {exit_code}): {err}", "script_error")

    async def read_named_files(self, p: PlanRun, query: str, notices: list[str]) -> list[tuple[str, str, str]]:
        """(name, text, notice) of each file the request names that exists; InputError when it names files and none
        exists; names not found are added to `notices`."""
        out: list[tuple[str, str, str]] = []
        tried: list[str] = []
        named = candidates(query)
        for cand in [*named, *bare_candidates(query)]:
            path = await resolve_file(p, cand)
            if path is None:
                if cand in named:
                    tried.append(cand)
                continue
            res = await p.call("filesystem.read_file", {"path": path, "limit": MAX_FILE_LINES}, fresh=True)
            if res.is_error or not res.structured:
                raise InputError(f"{cand} could not be read: {res.text}")
            s = res.structured
            if not s.get("encoding"):
                raise InputError(f"{cand} is not a text file ({s.get('mime_type')}); this skill reads text")
            note = f"only the first {s.get('lines_returned')} lines of {cand} were used" if s.get("truncated") else ""
            out.append((cand, s.get("content") or "", note))
            p.result.citations.append(Citation(source=path, location="whole file", text=cand))
        if tried and not out:
            where = ", ".join(p.roots) or "the configured roots"
            raise InputError(f"No file named {', '.join(tried)} was found under {where}.")
        if tried:
            notices.append(f"not found, left out: {', '.join(tried)}")
        return out  # none named: the script gets no paths and works from the request (or says what it needs)

    async def _fetch(self, p: PlanRun, url: str) -> tuple[str, str]:
        res = await p.call("websearch.fetch_webpage", {"url": url})
        if res.is_error or not res.structured:
            raise InputError(f"Could not fetch {url}: {res.text}")
        s = res.structured
        note = ""
        if s.get("truncated") or s.get("body_truncated"):
            note = f"the page was cut: {len(s.get('content') or '')} of {s.get('total_length')} characters were used"
        return s.get("content") or "", note

    async def _tree(self, p: PlanRun, query: str) -> tuple[dict[str, str], str]:
        if not p.roots:
            raise InputError("There is no folder to look in: give a root (--root) or run in a project folder.")
        base = p.roots[0]
        for m in _DIRLIKE.finditer(query):
            cand = m.group(1).rstrip("/")
            for root in p.roots:
                full = cand if cand.startswith("/") else f"{root.rstrip('/')}/{cand}"
                info = await p.call("filesystem.get_file_info", {"path": full}, fresh=True)
                if not info.is_error and info.structured and info.structured.get("kind") == "directory":
                    base = full
                    break
        listing = await p.call(
            "filesystem.search_files", {"pattern": "**/*", "path": base, "max_results": 5000}, fresh=True
        )
        if listing.is_error or not listing.structured:
            raise InputError(f"Could not list {base}: {listing.text}")
        names = [m for m in listing.structured.get("matches", []) if not m.endswith("/")]
        out: dict[str, str] = {}
        total = 0
        cut = len(names) > MAX_TREE_FILES or bool(listing.structured.get("truncated"))
        partial = 0
        # Batches of 8: the server shares its per-result character budget (200,000) among a batch's files.
        for i in range(0, min(len(names), MAX_TREE_FILES), 8):
            batch = names[i : min(i + 8, MAX_TREE_FILES)]
            paths = [f"{base.rstrip('/')}/{n}" for n in batch]
            res = await p.call("filesystem.read_multiple_files", {"paths": paths, "limit": MAX_FILE_LINES})
            for rel, f in zip(batch, (res.structured or {}).get("files", []), strict=False):
                if not f.get("ok") or not f.get("file"):
                    continue  # a directory, a binary file, a denied one
                text, cut_short = f["file"].get("content") or "", bool(f["file"].get("truncated"))
                if cut_short:  # over its share of the batch's budget: read alone, with the whole budget
                    alone = await p.call(
                        "filesystem.read_file", {"path": f"{base.rstrip('/')}/{rel}", "limit": MAX_FILE_LINES}
                    )
                    if not alone.is_error and alone.structured and alone.structured.get("encoding"):
                        text = alone.structured.get("content") or text
                        cut_short = bool(alone.structured.get("truncated"))
                partial += cut_short
                if total + len(text) > MAX_TREE_BYTES:
                    cut = True
                    break
                total += len(text)
                out[rel] = text
        note = f"looked at {len(out)} text file(s) of {base}"
        if cut:
            note += " (the folder has more: the rest were left out)"
        if partial:
            note += f"; {partial} long file(s) were read only in part"
        p.result.citations.append(Citation(source=base, location="folder", text=f"{len(out)} files"))
        return out, note


def _unique(files: dict[str, str], name: str) -> str:
    if name not in files:
        return name
    stem, dot, ext = name.rpartition(".")
    i = 2
    while f"{stem}-{i}{dot}{ext}" in files:
        i += 1
    return f"{stem}-{i}{dot}{ext}"
