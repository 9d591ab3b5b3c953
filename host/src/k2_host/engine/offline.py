"""The offline engine: the embedded default when no LLM is configured. It generates no text.

It routes a request to a plan — by explicit signs (a URL, a code block, an arithmetic question, database words)
and otherwise by embedding similarity between the request and each plan's description — then runs the plan's
deterministic steps as MCP tool calls through the client manager, and answers extractively: the passages that
best match the request (embedding similarity blended with keyword overlap), quoted with their sources.

Plans: `files` (grep and name search over the filesystem roots, read the best files, rank their lines),
`database` (schema, pick the table, count/aggregate/sample), `code` (run it in the sandbox), `web` (fetch a
URL and rank its paragraphs, or search the local web index). A plan that finds nothing falls through to the
next likely one. Every answer says plainly that it comes from the offline engine.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import numpy as np

from k2_host.engine import text as tx
from k2_host.engine.text import Passage
from k2_host.mcp.types import ToolCaller, ToolResult
from k2_host.results import AgentEvent, AgentResult, Citation, Step, ToolCallRecord

logger = logging.getLogger(__name__)

BANNER = "[K2 offline engine: no language model; answer extracted from your data]"

PLANS = {
    "files": "find facts in the project's local files: documents, notes, configuration, settings and source code",
    "database": "query database tables: rows, columns, records, counts, totals, averages, SQL",
    "code": "run Python code, compute or calculate a numeric result, execute a script",
    "web": "search the web or the local web index, fetch a web page or URL, look something up online",
}
DB_WORDS = re.compile(r"(?i)\b(table|tables|rows?|columns?|database|sql|schema|records?|duckdb)\b")


class OfflineEngine:
    def __init__(
        self,
        caller: ToolCaller,
        *,
        roots: Sequence[str],
        servers: Sequence[str] | None = None,
        embedder: Any | None = None,
        knowledge: Any | None = None,
    ) -> None:
        self.knowledge = knowledge  # k2_host.knowledge.Knowledge: the RAG index, when one was built
        self.caller = caller
        # Plans run only where their server is configured (a plan is named after the server it needs, but
        # "files" needs "filesystem", "code" needs "codeexec" and "web" needs "websearch").
        self.servers = set(servers) if servers is not None else None
        self.roots = list(roots)
        self._embedder = embedder
        self._embedder_failed = False
        self._plan_vectors: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------ embeddings

    async def _embed(self, texts: list[str]) -> np.ndarray | None:
        """Normalised embeddings of `texts`, or None when the model cannot be loaded (lexical scores only)."""
        if self._embedder_failed or not texts:
            return None
        try:
            if self._embedder is None:
                from k2_host.rag.embeddings import get_embedder

                self._embedder = await anyio.to_thread.run_sync(get_embedder)
            embedder = self._embedder
            return await anyio.to_thread.run_sync(lambda: embedder.embed_documents(texts))
        except Exception as exc:  # no model here: keep answering with keyword scores
            logger.warning("offline engine: embeddings unavailable (%s); using keyword scores only", exc)
            self._embedder_failed = True
            return None

    async def route(self, query: str) -> list[str]:
        """Plans in the order to try them."""
        if tx.find_url(query):
            return ["web", "files"]
        if tx.find_code(query):
            return ["code", "files"]
        if DB_WORDS.search(query):
            return ["database", "files", "web"]
        order = ["files", "web", "database"]
        vecs = await self._embed([query, *PLANS.values()])
        if vecs is not None:
            sims = vecs[1:] @ vecs[0]
            ranked = [name for _, name in sorted(zip(sims, PLANS, strict=True), key=lambda p: -p[0])]
            # Code needs something to run; only explicit signs route there.
            order = [p for p in ranked if p != "code"]
        return order

    # ------------------------------------------------------------------------------------------ answering

    async def answer(
        self, query: str, *, on_event: Callable[[AgentEvent], Awaitable[None]] | None = None
    ) -> AgentResult:
        started = time.perf_counter()
        self._result = AgentResult(query=query, answer="", engine="offline", model="")
        self._on_event = on_event
        plans = [p for p in await self.route(query) if self._available(p)]
        if self.knowledge is not None and plans and plans[0] in ("files", "web"):
            plans.insert(0, "knowledge")
        answer: str | None = None
        for plan in plans:
            step = Step(index=len(self._result.steps), kind="plan", text=plan)
            self._result.steps.append(step)
            t0 = time.perf_counter()
            self._step = step
            if on_event is not None:
                await on_event(AgentEvent(kind="step", text=f"plan: {plan}", data={"plan": plan}))
            answer = await getattr(self, f"_plan_{plan}")(query)
            step.duration_ms = (time.perf_counter() - t0) * 1000
            if answer:
                break
        if not answer:
            where = ", ".join(self.roots) or "the configured servers"
            answer = (
                f"I found nothing about this in {where}. Try other words, add files with `k2 ingest`, "
                "or configure a language model (see the README) for open questions."
            )
        self._result.answer = f"{BANNER}\n{answer}"
        self._result.timings.total_ms = (time.perf_counter() - started) * 1000
        return self._result

    def _available(self, plan: str) -> bool:
        if plan == "knowledge":
            return self.knowledge is not None
        needs = {"files": "filesystem", "database": "database", "code": "codeexec", "web": "websearch"}[plan]
        return self.servers is None or needs in self.servers

    async def _call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self._on_event is not None:
            await self._on_event(AgentEvent(kind="tool_start", text=name, data={"arguments": arguments}))
        res = await self.caller.call(name, arguments)
        record = ToolCallRecord.of(f"offline-{len(self._result.tool_calls)}", name, arguments, self._step.index, res)
        self._result.tool_calls.append(record)
        self._step.tool_calls.append(record.id)
        self._result.timings.tools_ms += res.duration_ms
        if res.is_error and res.error_code not in ("not_found", "invalid_arguments", "tool_error"):
            self._result.errors.append(f"{name}: {res.text[:200]}")
        if self._on_event is not None:
            await self._on_event(AgentEvent(kind="tool_end", text=name, data=record.model_dump()))
        return res

    async def _rank(
        self, query: str, passages: list[Passage], *, name_bonus: dict[str, float] | None = None
    ) -> list[Passage]:
        keys = tx.keywords(query)
        if not passages:
            return []
        # The line itself counts most; its neighbours (a section heading, a key above) somewhat; a line that
        # states a value for one of the question's words (`port: 8443`) gets a bonus.
        lexical = np.array(
            [
                0.6 * tx.lexical_score(keys, p.text)
                + 0.3 * tx.lexical_score(keys, p.context)
                + (0.3 if tx.extract_value(keys, p.text) else 0.0)
                for p in passages
            ],
            dtype=np.float32,
        )
        if name_bonus:
            lexical += np.array([name_bonus.get(p.source, 0.0) for p in passages], dtype=np.float32)
        # Embed only the lexically best candidates: the model costs ~10 ms per short text here.
        order = np.argsort(-lexical, kind="stable")[:64]
        shortlisted = [passages[i] for i in order]
        # The model sees where a line is (its file's name: "production yaml") as well as the line.
        labelled = [f"{tx.split_identifiers(p.source.rsplit('/', 1)[-1])}: {p.context}" for p in shortlisted]
        vecs = await self._embed([query, *labelled])
        dense = vecs[1:] @ vecs[0] if vecs is not None else np.zeros(len(shortlisted), dtype=np.float32)
        for p, lex, d in zip(shortlisted, lexical[order], dense, strict=True):
            p.score = float(0.55 * d + 0.45 * min(1.0, lex)) if vecs is not None else float(lex)
        shortlisted.sort(key=lambda p: -p.score)
        return shortlisted

    def _cite(self, passages: list[Passage]) -> None:
        for p in passages:
            self._result.citations.append(Citation(source=p.source, location=p.location, text=p.text))

    def _show(self, source: str) -> str:
        """A path relative to its root (as the user sees the project), anything else as it is."""
        for root in self.roots:
            prefix = root.rstrip("/") + "/"
            if source.startswith(prefix):
                return source[len(prefix) :]
        return source

    def _extractive(self, query: str, best: list[Passage]) -> str:
        keys = tx.keywords(query)
        top = best[0]
        value = tx.extract_value(keys, top.text)
        lines = []
        where = f"{self._show(top.source)}, {top.location}" if top.location else self._show(top.source)
        lines.append(f"{value} — from {where}: `{top.text}`" if value else f"From {where}: {top.text}")
        shown = [top]
        for p in best[1:3]:
            if p.score >= 0.8 * top.score:
                loc = f", {p.location}" if p.location else ""
                lines.append(f"Also {self._show(p.source)}{loc}: {p.text}")
                shown.append(p)
        self._cite(shown)
        return "\n".join(lines)

    # ------------------------------------------------------------------------------------------ plans

    async def _plan_files(self, query: str) -> str | None:
        keys = tx.keywords(query)
        if not keys or not self.roots:
            return None
        pattern = "|".join(re.escape(k) for k in keys[:8])
        found: dict[str, float] = {}  # path -> lexical weight of the file (content hits + name hits)
        name_bonus: dict[str, float] = {}
        for root in self.roots:
            res = await self._call(
                "filesystem.grep",
                {"pattern": pattern, "path": root, "ignore_case": True, "max_matches": 500},
            )
            if not res.is_error and res.structured:
                for m in res.structured.get("matches", []):
                    path = _join(root, m["path"])
                    found[path] = found.get(path, 0.0) + tx.lexical_score(keys, m["text"])
            for k in keys[:4]:
                res = await self._call(
                    "filesystem.search_files", {"pattern": f"*{k}*", "path": root, "max_results": 50}
                )
                if not res.is_error and res.structured:
                    for rel in res.structured.get("matches", []):
                        path = _join(root, rel)
                        bonus = tx.lexical_score(keys, tx.split_identifiers(rel))
                        name_bonus[path] = max(name_bonus.get(path, 0.0), bonus)
                        found[path] = found.get(path, 0.0) + 2 * bonus
        if not found:
            return None
        files = sorted(found, key=lambda p: -found[p])[:6]
        passages: list[Passage] = []
        for path in files:
            res = await self._call("filesystem.read_file", {"path": path, "limit": 400})
            if res.is_error or not res.structured:
                continue
            content = res.structured.get("content") or ""
            passages.extend(tx.line_passages(path, content))
        ranked = await self._rank(query, passages, name_bonus={p: 0.5 * b for p, b in name_bonus.items()})
        if not ranked or ranked[0].score < 0.2:
            return None
        return self._extractive(query, ranked)

    async def _plan_knowledge(self, query: str) -> str | None:
        """The ingested documents (`k2 ingest`): hybrid search, then the same ranking as for files."""
        assert self.knowledge is not None
        t0 = time.perf_counter()
        try:
            hits = await self.knowledge.search(query, 10)
        except Exception as exc:
            logger.warning("knowledge search failed: %s", exc)
            return None
        record = ToolCallRecord(
            id=f"offline-{len(self._result.tool_calls)}",
            name="knowledge.search",
            arguments={"query": query, "k": 10},
            step=self._step.index,
            duration_ms=(time.perf_counter() - t0) * 1000,
            summary=f"{len(hits)} passages",
        )
        self._result.tool_calls.append(record)
        self._step.tool_calls.append(record.id)
        passages: list[Passage] = []
        for h in hits:
            for p in tx.line_passages(h.source, h.text):
                p.location = h.citation.removeprefix(h.source).strip(" ,:#") or p.location
                passages.append(p)
        ranked = await self._rank(query, passages)
        if not ranked or ranked[0].score < 0.35:
            return None
        return self._extractive(query, ranked)

    async def _plan_web(self, query: str) -> str | None:
        url = tx.find_url(query)
        if url:
            res = await self._call("websearch.fetch_webpage", {"url": url})
            if res.is_error or not res.structured:
                return f"Could not fetch {url}: {res.text}" if res.is_error else None
            content = res.structured.get("content") or ""
            question = query.replace(url, " ")
            ranked = await self._rank(question, tx.paragraph_passages(url, content))
            if not ranked:
                return f"{url} has no readable text."
            return self._extractive(question, ranked)
        res = await self._call("websearch.search_web", {"query": query, "limit": 5})
        if res.is_error or not res.structured or not res.structured.get("results"):
            return None
        hits = res.structured["results"]
        passages = [Passage(h["url"], f"{h['title']}: {h['snippet']}", f"{h['title']} {h['snippet']}") for h in hits]
        ranked = await self._rank(query, passages)
        if not ranked or ranked[0].score < 0.2:
            return None
        self._cite(ranked[:5])
        return "Pages in the local web index that match:\n" + "\n".join(f"- {p.text} ({p.source})" for p in ranked[:5])

    async def _plan_code(self, query: str) -> str | None:
        code = tx.find_code(query)
        if code is None:
            return None
        res = await self._call("codeexec.execute_python", {"code": code})
        if res.is_error or not res.structured:
            return f"The code could not run: {res.text}"
        s = res.structured
        out = (s.get("stdout") or "").strip()
        value = s.get("value")
        shown = out or (value if value is not None else "")
        self._result.citations.append(Citation(source="codeexec", location="execute_python", text=code))
        status = (
            ""
            if s.get("exit_code") == 0
            else f" (exit code {s.get('exit_code')}: {(s.get('stderr') or '').strip()[-300:]})"
        )
        return f"Ran it in the sandbox: {shown or '(no output)'}{status}"

    async def _plan_database(self, query: str) -> str | None:
        res = await self._call("database.get_schema", {"include_columns": True})
        if res.is_error or not res.structured:
            return None
        tables = [t for db in res.structured.get("databases", []) for s in db["schemas"] for t in s["tables"]]
        if not tables:
            return None
        keys = tx.keywords(query)
        described = [
            Passage(
                t["qualified_name"],
                t["name"],
                f"{tx.split_identifiers(t['name'])} "
                + " ".join(tx.split_identifiers(c["name"]) for c in t.get("columns", [])),
            )
            for t in tables
        ]
        ranked = await self._rank(query, described)
        if not ranked or ranked[0].score < 0.15:
            names = ", ".join(t["name"] for t in tables[:20])
            return f"The database has these tables: {names}. Name one (and a column) to query it."
        table = next(t for t in tables if t["qualified_name"] == ranked[0].source)
        columns = table.get("columns", [])
        sql, what = _sql_for(query, keys, table["qualified_name"], columns)
        q = await self._call("database.query_database", {"sql": sql})
        if q.is_error or not q.structured:
            return f"The query on {table['name']} failed: {q.text}"
        rows = q.structured.get("rows", [])
        cols = [c["name"] for c in q.structured.get("columns", [])]
        self._result.citations.append(Citation(source=table["qualified_name"], location="query", text=sql))
        if what and rows:
            return f"{what} of {table['name']}: {_fmt(rows[0][0])} (SQL: {sql})"
        shown = "\n".join(", ".join(f"{c}={v}" for c, v in zip(cols, r, strict=False)) for r in rows[:5])
        return f"{table['name']} (SQL: {sql}):\n{shown}"


_AGG = {
    "average": "avg",
    "mean": "avg",
    "avg": "avg",
    "total": "sum",
    "sum": "sum",
    "maximum": "max",
    "max": "max",
    "highest": "max",
    "largest": "max",
    "minimum": "min",
    "min": "min",
    "lowest": "min",
    "smallest": "min",
}


def _sql_for(query: str, keys: list[str], table: str, columns: list[dict[str, Any]]) -> tuple[str, str | None]:
    """A read-only query for the question: a count, an aggregate over the named column, or a sample.

    `table` is the server's own quoted `qualified_name` and columns are quoted here; the server runs it
    read-only, one statement, whatever it is (S608 does not apply)."""
    low = query.lower()
    if re.search(r"\bhow many\b|\bcount\b|\bnumber of\b", low):
        return f"SELECT count(*) FROM {table}", "Row count"  # noqa: S608
    for word, fn in _AGG.items():
        if re.search(rf"\b{word}\b", low):
            numeric = [
                c for c in columns if re.search(r"INT|DECIMAL|DOUBLE|FLOAT|REAL|NUMERIC|HUGEINT", c["type"].upper())
            ]
            best = max(numeric, key=lambda c: tx.lexical_score(keys, tx.split_identifiers(c["name"])), default=None)
            if best is not None:
                col = '"' + best["name"].replace('"', '""') + '"'
                return f"SELECT {fn}({col}) FROM {table}", f"{fn}({best['name']})"  # noqa: S608
    return f"SELECT * FROM {table} LIMIT 5", None  # noqa: S608


def _fmt(value: Any) -> str:
    """Numbers as a person reads them (11.6667, not 11.666666666666666)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{7,}", value):
        return f"{float(value):.6g}"
    return str(value)


def _join(root: str, rel: str) -> str:
    if rel.startswith("/"):
        return rel
    return f"{root.rstrip('/')}/{rel}" if rel not in ("", ".") else root
