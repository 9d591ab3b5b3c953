"""The host's one object graph: `build_runtime(config)` -> `Runtime`.

The CLI, the Python API (`k2_host.agent.Agent`), the REST API and the tests all build the host this way:

    async with build_runtime(load_host_config()) as rt:
        result = await rt.ask("Which port does the staging server use?", session="work")

What a Runtime holds (one of each per process):

    config        HostConfig (typed; defaults < file < K2_* environment < command line)
    manager       the MCP client manager, with its call pipeline (`rt.manager.use(...)` adds call middleware)
    provider      the LLM provider, or None                    } chosen when the runtime is entered
    engine        ModelEngine over the provider, or OfflineEngine }
    embedder      the embedding model, loaded once, in the background for the offline engine
    knowledge     the RAG index when one was built (then `knowledge.search` is a local tool)
    local_tools   host-side tools offered beside the MCP tools (`agent.delegate`, `knowledge.search`, ...)
    middleware    loop middleware around requests, model steps and tool calls (`rt.use(...)`)
    sessions      transcripts, persisted under the state dir
    trajectories  where the recorder (a middleware, on by default) puts every request
    tracing       the OTLP tracer when `telemetry.otlp_endpoint` is set (`k2_host.tracing`), else None

A request: `ask` opens the session's transcript, adds the user turn, runs the engine through the request
middleware (the recorder builds the trajectory there), makes sure the transcript ends with the answer, and
saves the request's turns together.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
from k2_shared.heap import settle_heap_once

from k2_host.agent.engine import Engine, EventHandler, Run
from k2_host.agent.fanout import DELEGATE, delegate, delegate_spec, fan_out
from k2_host.agent.local_tools import LocalTool, LocalToolset
from k2_host.agent.loop import ModelEngine
from k2_host.agent.middleware import Middleware, MiddlewareStack, RequestContext
from k2_host.agent.sampling import sampler
from k2_host.config import HostConfig
from k2_host.context.policy import ContextPolicy, ContextView, policy_for
from k2_host.context.spill import READ_RESULT, SpillStore, read_result_tool
from k2_host.context.tokens import counter_for
from k2_host.context.transcript import AssistantTurn, SessionStore, SQLSessionStore, Transcript, UserTurn
from k2_host.engine.index import FolderIndexes
from k2_host.knowledge import SEARCH as KNOWLEDGE_SEARCH
from k2_host.knowledge import Knowledge
from k2_host.learning.examples import FewShot
from k2_host.learning.experiences import ExperienceStore
from k2_host.learning.redact import Redactor, secret_key
from k2_host.learning.store import TrajectoryStore, open_trajectory_store
from k2_host.learning.trajectory import TrajectoryRecorder
from k2_host.llm.base import LLMProvider, Message, ToolSpec
from k2_host.mcp.manager import ClientManager, ElicitHandler
from k2_host.mcp.types import ToolInfo
from k2_host.rag.embeddings import LazyEmbedder
from k2_host.results import AgentResult, FanOutResult
from k2_host.sealing import PLAIN, Sealer, sealer_for
from k2_host.skills import SkillRegistry, Skills
from k2_host.tracing import TracingMiddleware, setup_tracing

if TYPE_CHECKING:
    from k2_host.learning.trainer import Learner

logger = logging.getLogger(__name__)

ApprovalHandler = Callable[[ToolInfo, dict[str, Any]], Awaitable[bool]]


class Runtime:
    """Use as an async context manager: entering starts the servers (or readies them, for the offline
    engine, which starts only the ones its plan calls), the provider and the knowledge index."""

    def __init__(
        self,
        config: HostConfig,
        *,
        provider: LLMProvider | None = None,
        use_llm_config: bool = True,
        use_knowledge: bool = True,
        interactive: bool = False,
        ask_approval: ApprovalHandler | None = None,
        elicit: ElicitHandler | None = None,
        manager: ClientManager | None = None,
        middleware: Sequence[Middleware] = (),
        trajectories: TrajectoryStore | None = None,
        sessions: SQLSessionStore | None = None,
        settle_heap: bool = False,
    ) -> None:
        self.config = config
        self._settle_heap = settle_heap
        self.provider = provider
        self._use_llm_config = use_llm_config and provider is None
        self._use_knowledge = use_knowledge
        # What the runtime built it closes; what the caller handed in (a provider, a manager, stores) stays
        # open for the caller to reuse or close.
        self._own_manager = manager is None
        self._own_provider = provider is None
        self._own_sessions = sessions is None
        self._own_trajectories = trajectories is None
        self.manager = manager or ClientManager(
            config,
            interactive=interactive,
            ask_approval=ask_approval,
            elicit=elicit,
            sampling=sampler(lambda: self.provider),
            state_dir=config.state_dir,
        )
        self.embedder = LazyEmbedder(self._load_embedder)
        self.knowledge: Knowledge | None = None
        self.local_tools = LocalToolset()
        self.middleware = MiddlewareStack()
        telemetry = config.telemetry
        self.tracing = setup_tracing(
            telemetry.otlp_endpoint, service_name=telemetry.service_name, sample_ratio=telemetry.sample_ratio
        )
        if self.tracing is not None:  # outermost: its spans hold everything the other middleware do
            self.middleware.add(TracingMiddleware(self.tracing.tracer))
        self.sealer = open_sealer(config)
        self.spill = SpillStore(config.state_dir / "context" if config.state_dir is not None else None, self.sealer)
        self.policy: ContextPolicy = self._policy(None)
        state = config.state_dir
        self.sessions = sessions or open_session_store(config, self.sealer)
        self._open: OrderedDict[str, Transcript] = OrderedDict()  # sessions in use, by id
        self.trajectories: TrajectoryStore | None = None
        self.recorder: TrajectoryRecorder | None = None
        if config.learning.record:
            self.trajectories = trajectories or open_trajectory_store(config.learning, state, self.sealer)
            self.recorder = TrajectoryRecorder(self.trajectories, self.redactor())
            self.middleware.add(self.recorder)
        for m in middleware:
            self.middleware.add(m)
        self.skills = Skills.open(config) if config.skills.enabled else Skills(SkillRegistry())
        self.skills.embedder = self.embedder
        self.experiences = open_experience_store(config, self.sealer)
        self.few_shot = FewShot(self.experiences, self.trajectories, self.embedder)
        if config.learning.learn_router:  # the router version the training layer promoted, if any
            current = self.experiences.current_version()
            if current is not None:
                self.skills.learned = list(current.pairs)
        self._engine: Engine | None = None
        self._indexes: FolderIndexes | None = None
        self._entered = False

    # ------------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Runtime:
        if self._use_llm_config:
            from k2_host.llm.factory import provider_from_settings

            self.provider = provider_from_settings(self.config.llm)
        if self.provider is None:
            from k2_host.engine.offline import OfflineEngine

            # The offline engine ranks with the embedding model: load it while the servers start; and it
            # starts only the servers its plan calls (a model needs every tool listed up front).
            self.embedder.preload()
            agent = self.config.agent
            self._indexes = (
                FolderIndexes(
                    self.config.state_dir,
                    max_files=agent.offline_index_max_files,
                    max_file_bytes=agent.offline_index_max_file_bytes,
                )
                if agent.offline_index
                else None
            )
            self._engine = OfflineEngine(self.embedder, indexes=self._indexes)
            self.manager.lazy = self._own_manager
        else:
            self.policy = self._policy(self.provider)
            self._engine = ModelEngine(self.provider, self.policy)
        if self.config.context.relevance == "hybrid":
            self.embedder.preload()
        try:
            if self._own_manager:
                await self.manager.__aenter__()
            if self._use_knowledge:
                self.knowledge = await Knowledge.open(self.config.rag)
            # The host's own tools, in a fixed order: knowledge.search (when an index exists), agent.delegate.
            if self.knowledge is not None and KNOWLEDGE_SEARCH.name not in self.local_tools:
                self.local_tools.add(LocalTool(KNOWLEDGE_SEARCH, self.knowledge.tool))
            if DELEGATE.name not in self.local_tools:
                spec = delegate_spec(self.config.agent.delegate_return_directly)  # with `return_directly`?
                self.local_tools.add(LocalTool(spec, delegate, top_level_only=True))
            if self.config.context.policy == "window" and READ_RESULT.name not in self.local_tools:
                self.local_tools.add(LocalTool(READ_RESULT, read_result_tool(self.spill)))
            if self.provider is not None and self._offer_skills() and "skills.activate" not in self.local_tools:
                activate, read, run = self.skills.tool_specs()
                self.local_tools.add(LocalTool(activate, self.skills.activate))
                self.local_tools.add(LocalTool(read, self.skills.read))
                self.local_tools.add(LocalTool(run, self.skills.run_tool, read_only=False))
        except BaseException:
            await self._close()
            raise
        self._entered = True
        if self._settle_heap:
            # Once per process, as every server does at start (`k2 serve` asks for it): what start-up built
            # (~400,000 objects: modules, schemas, skills, the runtime) leaves the collector's sight, so full
            # collections stop walking it (about 1 ms a request on a 2-CPU machine, bench/HOST.md (d)). Off by
            # default: an application that embeds the host keeps its process's collector as it set it.
            settle_heap_once()
        return self

    def _offer_skills(self) -> bool:
        offer = self.config.skills.offer
        if not len(self.skills.registry) or offer == "never":
            return False
        return offer == "always" or self.config.context.window_tokens >= 16_000

    async def __aexit__(self, *exc: Any) -> None:
        await self._close(*exc)

    async def _close(self, *exc: Any) -> None:
        if self._indexes is not None:
            self._indexes.close()
            self._indexes = None
        if self.knowledge is not None:
            self.knowledge.close()
            self.knowledge = None
        if self._own_manager:
            await self.manager.__aexit__(*(exc or (None, None, None)))
        if self.provider is not None and self._own_provider:
            await self.provider.aclose()
        if self._own_sessions:
            self.sessions.close()
        if self.trajectories is not None and self._own_trajectories:
            self.trajectories.close()
        self.skills.close()
        self.experiences.close()
        if self.tracing is not None:  # this request's spans leave before the caller goes on (or exits)
            await anyio.to_thread.run_sync(self.tracing.flush)
        self._entered = False

    def _policy(self, provider: LLMProvider | None) -> ContextPolicy:
        """The context policy, counting with the provider's tokenizer (the embedding model's offline)."""
        ctx = self.config.context
        reserve = ctx.reserve_output_tokens
        if reserve is None:
            reserve = self.config.llm.max_tokens or 1024
        counter = counter_for(provider.name if provider is not None else "offline", provider.model if provider else "")
        return policy_for(
            ctx,
            tool_result_chars=self.config.agent.max_tool_result_chars,
            counter=counter,
            reserve_output=min(reserve, ctx.window_tokens // 2),
            spill=self.spill,
        )

    def context_view(self, run: Run, step: int, system: str, tools: Sequence[ToolSpec]) -> ContextView:
        """What the context policy is shown at one step of a request."""
        knowledge = self.knowledge.search if self.knowledge is not None else None
        few = self.config.learning.few_shot
        if few and self.provider is not None and self.few_shot.available():  # earlier good answers, by similarity
            index = knowledge

            async def recall(query: str, k: int) -> list[Any]:
                found: list[Any] = await self.few_shot.search(query, few)
                return [*found, *(await index(query, k) if index is not None else [])]

            knowledge = recall
        relevance = self.config.context.relevance
        embedder = None
        if relevance == "hybrid" or (relevance == "auto" and self.embedder.loaded):
            embedder = self.embedder.value
        return ContextView(
            system,
            tools,
            run.history,
            run.turns,
            run.query,
            step,
            session_id=run.transcript.session_id,
            request_id=run.request.request_id,
            knowledge=knowledge,
            embedder=embedder,
        )

    def learner(self) -> Learner:
        """The training layer over this runtime's stores, skills and embedder (`k2 learn`)."""
        from k2_host.learning.trainer import Learner

        cfg = self.config.learning
        return Learner(
            self.experiences,
            self.trajectories,
            self.skills,
            self.embedder,
            learn_router=cfg.learn_router,
            learn_playbook=cfg.learn_playbook,
            learn_proficiency=cfg.learn_proficiency,
            alpha=cfg.significance,
        )

    def playbook(self, max_chars: int) -> str:
        """The lessons a model is shown in its stable prompt prefix (best first, within `max_chars`), or ""."""
        if not self.config.learning.learn_playbook or max_chars <= 0:
            return ""
        lessons = sorted((x for x in self.experiences.lessons() if x.score >= 0), key=lambda x: (-x.score, x.id))
        head = "Lessons from earlier feedback on your answers (follow them where they apply):"
        lines = [head]
        size = len(head)
        for x in lessons:
            line = f"- {'[' + x.skill + '] ' if x.skill else ''}{x.text}"
            if size + len(line) + 1 > max_chars:
                break
            lines.append(line)
            size += len(line) + 1
        return "\n".join(lines) if len(lines) > 1 else ""

    def _load_embedder(self) -> Any:
        from k2_host.rag.service import shared_embedder

        return shared_embedder(self.config.rag)

    # ------------------------------------------------------------------------------------------ parts

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("enter the runtime first (async with build_runtime(...) as rt)")
        return self._engine

    def attach_knowledge(self, knowledge: Knowledge) -> None:
        """Use an index that came to exist while running (the first ingest over the API); the runtime closes it."""
        if self.knowledge is not None and self.knowledge is not knowledge:
            self.knowledge.close()
        self.knowledge = knowledge
        if KNOWLEDGE_SEARCH.name not in self.local_tools:
            self.local_tools.add(LocalTool(KNOWLEDGE_SEARCH, knowledge.tool))

    def use(self, middleware: Middleware) -> None:
        """Add loop middleware (after those already there: inner to them)."""
        self.middleware.add(middleware)

    def tool_specs(self, *, depth: int = 0) -> list[ToolSpec]:
        """The tools offered to a model, in a fixed order (a stable prompt prefix for provider caches): the MCP
        tools (server config order, then name), then the local tools in the order registered."""
        specs = [
            ToolSpec(name=t.name, description=t.description, input_schema=t.input_schema) for t in self.manager.tools()
        ]
        return [*specs, *self.local_tools.specs(depth=depth)]

    def redactor(self) -> Redactor:
        """Secrets this host knows (model and store keys, the learning DSN, servers' auth headers and secret env
        values), and the credential patterns, out of everything recorded."""
        known: list[str] = []
        if self.config.llm.api_key is not None:
            known.append(self.config.llm.api_key.get_secret_value())
        if self.config.rag.qdrant_api_key is not None:
            known.append(self.config.rag.qdrant_api_key.get_secret_value())
        if self.config.learning.dsn is not None:  # the training store's connection string, and its password
            from k2_host.learning.postgres import dsn_secrets

            known += dsn_secrets(self.config.learning.dsn.get_secret_value())
        for name in ("MOONSHOT_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "K2_LLM_API_KEY"):
            if value := os.environ.get(name):
                known.append(value)
        for server in self.config.servers:
            known += [v for k, v in server.headers.items() if secret_key(k) or k.lower() == "authorization"]
            known += [v for k, v in server.env.items() if secret_key(k)]
        known += [v.split(None, 1)[-1] for v in list(known) if v.lower().startswith("bearer ")]
        return Redactor(known_secrets=known, extra_patterns=self.config.learning.redact_patterns)

    # ------------------------------------------------------------------------------------------ requests

    async def open_session(self, session: str | Transcript | None = None) -> Transcript:
        """A session's transcript: a Transcript as given, a stored one by id (new when unknown), or a fresh one."""
        if isinstance(session, Transcript):
            return session
        cached = self._open.get(session) if session is not None else None
        # The same turns as before (the context state holds) unless another host (a replica sharing the store)
        # saved turns to the session, or deleted it, since: then its stamp moved and the session is read again.
        if cached is not None and cached.stamp == await self.sessions.stamp(cached.session_id):
            self._open.move_to_end(cached.session_id)
            return cached
        transcript = await self.sessions.open(session)
        self._open[transcript.session_id] = transcript
        while len(self._open) > 64:
            self._open.popitem(last=False)
        return transcript

    async def delete_session(self, session_id: str) -> bool:
        self._open.pop(session_id, None)
        return await self.sessions.delete(session_id)

    async def ask(
        self,
        query: str,
        *,
        session: str | Transcript | None = None,
        history: Sequence[Message] = (),
        on_event: EventHandler | None = None,
        max_steps: int | None = None,
        depth: int = 0,
        parent_id: str | None = None,
        skill: str | None = None,
    ) -> AgentResult:
        """Answer one request. Never raises for tool or server failures; they are in `result.errors`.

        `session` (an id, or a Transcript from `open_session`) keeps the conversation, tool turns included, and
        saves this request's turns to the session store; without one, `history` (plain user/assistant messages)
        is the conversation so far and nothing is kept. `skill`: use this skill (SkillError when unknown)."""
        query = query.strip()
        if not query:
            raise ValueError("the question is empty")
        if skill is not None:
            self.skills.registry.require(skill)
        engine = self.engine
        transcript = await self.open_session(session) if session is not None else Transcript.from_messages(history)
        request = RequestContext(
            request_id=uuid.uuid4().hex,
            query=query,
            engine=engine.name,
            model=engine.model,
            session_id=transcript.session_id,
            depth=depth,
            parent_id=parent_id,
            skill=skill,
        )
        run = Run(self, request, transcript, max_steps=max_steps, on_event=on_event)
        run.add_turn(UserTurn(text=query))

        async def terminal(ctx: RequestContext) -> AgentResult:
            return await engine.run(run)

        try:
            result = await self.middleware.request(request, terminal)
        except BaseException:  # cancelled or failed: a session keeps none of this request's turns
            if transcript.persistent:
                transcript.discard_unsaved()
            raise
        result.request_id = request.request_id
        last = run.turns[-1]
        if not (isinstance(last, AssistantTurn) and not last.tool_calls and last.text == result.answer):
            run.add_turn(AssistantTurn(text=result.answer, model=result.model, synthetic=True))
        if transcript.persistent:
            await self.sessions.save(transcript)
        return result

    async def fan_out(
        self,
        tasks: Sequence[str],
        *,
        workers: int | None = None,
        on_event: EventHandler | None = None,
        depth: int = 1,
        parent_id: str | None = None,
    ) -> FanOutResult:
        """One sub-agent per task, at most `workers` (default `agent.fan_out_workers`) at once."""

        async def one(_: int, task: str) -> AgentResult:
            return await self.ask(task, on_event=on_event, depth=depth, parent_id=parent_id)

        return await fan_out(one, tasks, workers=workers or self.config.agent.fan_out_workers)


def build_runtime(config: HostConfig, **options: Any) -> Runtime:
    """The one way to build the host's object graph (see `Runtime` for the options)."""
    return Runtime(config, **options)


def open_sealer(config: HostConfig) -> Sealer:
    """How this configuration keeps data at rest: AES-256-GCM under the data key ring unless
    `storage.encrypt` is off; nothing to seal (and no key made) without a state dir, unless the learning
    store or the session store is a PostgreSQL database."""
    learning = config.learning
    shared = learning.store == "postgres" or config.sessions.store == "postgres"
    if config.state_dir is None and learning.path is None and not shared:
        return PLAIN
    return sealer_for(config.storage.encrypt, config.storage.key_file)


def open_experience_store(config: HostConfig, sealer: Sealer | None = None) -> ExperienceStore:
    """The training layer's state, in the learning store's SQLite file (memory when trajectories are), or in
    its PostgreSQL database (`store: postgres`)."""
    cfg = config.learning
    if cfg.store == "postgres":
        from k2_host.learning.postgres import PostgresExperienceStore

        return PostgresExperienceStore.open(cfg, sealer or open_sealer(config))
    path = cfg.path or (config.state_dir / "k2.sqlite" if config.state_dir is not None else None)
    if cfg.store == "memory":
        path = None
    return ExperienceStore(path, cfg.replay_capacity, sealer or open_sealer(config))


def open_session_store(config: HostConfig, sealer: Sealer | None = None) -> SQLSessionStore:
    """The sessions of this configuration: `<state dir>/sessions.sqlite` (in memory without a state dir), or
    the PostgreSQL database of `learning.dsn` with `sessions.store: postgres`, for replicas to share."""
    if config.sessions.store == "postgres":
        from k2_host.context.sessions_pg import open_postgres_sessions

        return open_postgres_sessions(config.learning, sealer or open_sealer(config))
    if config.state_dir is None:
        return SessionStore(None)
    return SessionStore(config.state_dir / "sessions.sqlite", sealer or open_sealer(config))
