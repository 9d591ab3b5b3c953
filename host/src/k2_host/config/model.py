"""The host's typed configuration: `HostConfig` and its sections.

Each section is a plain pydantic model (no environment read here); `k2_host.config.layers` builds the final
value of every section from, in this order, the defaults, the config file, the `K2_<SECTION>_<KEY>` environment
variables and the command line (`--set section.key=value` and the named flags), later ones winning.

| section    | environment   | what reads it |
|------------|---------------|---------------|
| `llm`      | `K2_LLM_*`    | the model provider (`k2_host.llm.factory`) |
| `rag`      | `K2_RAG_*`    | the knowledge index (`k2_host.rag`) |
| `cache`    | `K2_CACHE_*`  | the client manager's result cache |
| `agent`    | `K2_AGENT_*`  | the engines' budgets and limits |
| `context`  | `K2_CONTEXT_*`| the context policy (which messages a model sees each step) |
| `learning` | `K2_LEARNING_*`| trajectory recording (and the training layer) |
| `sessions` | `K2_SESSIONS_*`| the session store (`k2_host.context.transcript`, `.sessions_pg`) |
| `skills`   | `K2_SKILLS_*` | the skills layer (skill folders) |
| `api`      | `K2_API_*`    | `k2 serve` (bind address) |
| `storage`  | `K2_STORAGE_*`| encryption at rest |
| `telemetry`| `K2_TELEMETRY_*`| traces over OTLP (`k2_host.tracing`) |
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from k2_host.config.servers import Decision, ServerConfig
from k2_host.llm.factory import LLMConfig
from k2_host.rag.settings import RAGConfig


class CacheConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    max_entries: int = Field(default=1024, ge=1)
    ttl_s: float = Field(default=300.0, ge=0)
    disk: bool = True  # L2 on disk under the state dir
    redis_url: str | None = None  # L2 in Redis instead of disk


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_steps: int = Field(default=12, ge=1, le=200)
    max_tokens: int = Field(default=200_000, ge=1, description="token budget of one request, all model turns together")
    time_budget_s: float = Field(default=300.0, gt=0, description="wall-clock budget of one request")
    parallel_tool_calls: int = Field(default=8, ge=1, le=64)
    max_tool_result_chars: int = Field(default=20_000, ge=200, description="longer tool results are cut (and say so)")
    fan_out_workers: int = Field(
        default=8,
        ge=1,
        le=64,
        description="sub-agents `agent.delegate` runs at once; each waits on the model almost all the time, so "
        "8 overlaps a typical 8-question delegation fully (bench/FANOUT.md: 4 caps the fan-out at 4x)",
    )
    delegate_return_directly: Literal["model", "always", "never"] = Field(
        default="model",
        description="whether a successful `agent.delegate` ends the request with the merged sub-agent answers "
        "as the final answer, saving the model a step that only rewrites them: `model` (its `return_directly` "
        "argument decides), `always`, or `never` (the answers always go back to the model)",
    )
    system_prompt: str | None = None
    offline_index: bool = Field(
        default=True, description="offline engine: index each root (kept fresh per request) instead of grepping"
    )
    offline_index_max_files: int = Field(default=20_000, ge=1, description="files of one root the index takes")
    offline_index_max_file_bytes: int = Field(default=2_000_000, ge=1, description="larger files are left out")


class ContextShares(BaseModel):
    """How the conversation's budget is split (unused share flows to the others); they add up to 1."""

    model_config = ConfigDict(extra="forbid")
    history: float = Field(default=0.5, ge=0, le=1, description="earlier turns (verbatim) and the memory block")
    knowledge: float = Field(default=0.2, ge=0, le=1, description="recalled turns, cleared results, index chunks")
    tools: float = Field(default=0.2, ge=0, le=1, description="this request's tool results")
    task: float = Field(default=0.1, ge=0, le=1, description="this request's own turns")

    @model_validator(mode="after")
    def _sum(self) -> ContextShares:
        total = self.history + self.knowledge + self.tools + self.task
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"context.shares must add up to 1 (history+knowledge+tools+task = {total:g})")
        return self


class ContextConfig(BaseModel):
    """Which messages the model sees at each step (`k2_host.context`)."""

    model_config = ConfigDict(extra="forbid")
    policy: Literal["window", "full"] = Field(
        default="window",
        description="window: the sliding window (budget, relevance, memory, recall); full: everything, each tool "
        "result cut at agent.max_tool_result_chars",
    )
    window_tokens: int = Field(default=8000, ge=1024, le=10_000_000, description="the model's context window")
    reserve_output_tokens: int | None = Field(
        default=None, ge=0, description="kept free for the answer (default: llm.max_tokens, else 1024)"
    )
    tool_result_tokens: int = Field(
        default=1500, ge=100, description="a longer tool result is bounded on arrival (head, tail, relevant lines)"
    )
    keep_tool_results: int = Field(default=3, ge=0, description="tool results kept whole in history at a compaction")
    compact_to: float = Field(
        default=0.4, ge=0.2, le=0.95, description="a compaction brings history down to this share of its cap"
    )
    memory_share: float = Field(default=0.35, gt=0, lt=1, description="of history's budget, for the memory block")
    relevance: Literal["auto", "keyword", "hybrid"] = Field(
        default="auto", description="auto: embeddings too when the model is loaded (offline engine); else keywords"
    )
    knowledge_k: int = Field(default=4, ge=0, le=20, description="index chunks recalled per request (0: none)")
    shares: ContextShares = Field(default_factory=ContextShares)


class LearningConfig(BaseModel):
    """Recording of every request as a trajectory (`k2_host.learning`)."""

    model_config = ConfigDict(extra="forbid")
    record: bool = Field(default=True, description="record a trajectory of every request")
    store: Literal["sqlite", "memory", "postgres"] = Field(
        default="sqlite",
        description="sqlite: a file under the state dir; memory: this process only; postgres: the database of "
        "learning.dsn, which several hosts can share",
    )
    path: Path | None = Field(default=None, description="the SQLite file; default <state dir>/k2.sqlite")
    dsn: SecretStr | None = Field(
        default=None,
        description="PostgreSQL connection string, e.g. postgresql://k2@db/k2; required with store: postgres "
        "(K2_LEARNING_DSN)",
    )
    pg_schema: str = Field(
        default="public",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="the PostgreSQL schema of the k2_* tables (made when missing)",
    )
    max_trajectories: int = Field(default=10_000, ge=1, le=10_000_000, description="the oldest beyond this go")
    redact_patterns: list[str] = Field(
        default_factory=list, description="more regular expressions whose matches are redacted from recordings"
    )
    replay_capacity: int = Field(default=10_000, ge=32, le=1_000_000, description="experiences the replay buffer holds")
    batch_size: int = Field(default=32, ge=1, le=4096, description="experiences per replayed batch")
    learn_router: bool = Field(default=True, description="train the offline skill router from replayed experience")
    learn_playbook: bool = Field(default=True, description="keep lessons from feedback notes for a model's prompt")
    learn_proficiency: bool = Field(default=True, description="count feedback on a skill's answer in its proficiency")
    significance: float = Field(default=0.05, gt=0.0, lt=0.5, description="the regression gate's alpha")
    few_shot: int = Field(
        default=2, ge=0, le=8, description="earlier answers rated good recalled for a similar request (with a model)"
    )
    playbook_share: float = Field(
        default=0.05, ge=0.0, le=0.5, description="share of the context window the playbook may take (with a model)"
    )

    @field_validator("redact_patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


class SessionsConfig(BaseModel):
    """Where sessions (conversations) are kept (`k2_host.context.transcript`)."""

    model_config = ConfigDict(extra="forbid")
    store: Literal["sqlite", "postgres"] = Field(
        default="sqlite",
        description="sqlite: <state dir>/sessions.sqlite (memory without a state dir); postgres: the database of "
        "learning.dsn, schema learning.pg_schema (tables k2_sessions, k2_turns), which several hosts can share",
    )


class SkillsConfig(BaseModel):
    """Where skills come from (the skills layer reads it)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="discover and use skills (built-in, user, project, paths)")
    offer: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="offer the catalog and skills.* tools to a model; auto: when context.window_tokens >= 16000 "
        "(an 8K window is mostly tool schemas already)",
    )
    catalog_share: float = Field(
        default=0.1, gt=0, le=0.5, description="most of the context window the catalog in the system prompt takes"
    )
    paths: list[Path] = Field(default_factory=list, description="folders of Agent Skills (one SKILL.md per folder)")


class ApiConfig(BaseModel):
    """Where `k2 serve` listens."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(default="127.0.0.1", description="bind address (anything but loopback needs auth)")
    port: int = Field(default=8080, ge=0, le=65535)


class StorageConfig(BaseModel):
    """Encryption at rest of transcripts, trajectories and spilled tool results (`k2_host.sealing`)."""

    model_config = ConfigDict(extra="forbid")
    encrypt: bool = Field(default=True, description="AES-256-GCM at rest; false keeps new records plain")
    key_file: Path | None = Field(
        default=None, description="the data key ring; default <config dir>/k2/data-keys.json (K2_DATA_KEY overrides)"
    )


class TelemetryConfig(BaseModel):
    """Traces of the host (`k2_host.tracing`): off unless an OTLP endpoint is set."""

    model_config = ConfigDict(extra="forbid")
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (…/v1/traces is appended), e.g. http://127.0.0.1:4318; "
        "unset: OTEL_EXPORTER_OTLP_ENDPOINT if set, else no tracing. The stdio servers the host starts get "
        "the same endpoint, so their spans join the host's traces",
    )
    service_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the traces' service.name (default: OTEL_SERVICE_NAME, else k2)",
    )
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0, description="share of new traces recorded")

    @field_validator("otlp_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class HostConfig(BaseModel):
    """Everything the host needs: servers, and the host's own sections."""

    model_config = ConfigDict(extra="forbid")

    servers: list[ServerConfig] = Field(default_factory=list)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    rag: RAGConfig = Field(default_factory=RAGConfig)
    approval: dict[str, Decision] = Field(default_factory=dict)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    learning: LearningConfig = Field(default_factory=LearningConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    roots: list[str] = Field(default_factory=list)
    state_dir: Path | None = Field(default=None, description="pins, cache, logs, sessions; None: nothing persisted")
    source: str | None = None  # the file this came from, for messages
    defaults: bool = False  # True when the servers are the built-in K2 servers


# The sections that take `K2_<SECTION>_<KEY>` from the environment, and their models.
SECTIONS: dict[str, type[BaseModel]] = {
    "llm": LLMConfig,
    "rag": RAGConfig,
    "cache": CacheConfig,
    "agent": AgentConfig,
    "context": ContextConfig,
    "learning": LearningConfig,
    "sessions": SessionsConfig,
    "skills": SkillsConfig,
    "api": ApiConfig,
    "storage": StorageConfig,
    "telemetry": TelemetryConfig,
}


def env_prefix(section: str) -> str:
    return f"K2_{section.upper()}_"


# Environment variables that are the host's own (never handed to a stdio server).
HOST_ENV_PREFIXES: tuple[str, ...] = (*(env_prefix(s) for s in SECTIONS), "K2_INPUT_", "K2_CONFIG", "K2_STATE_DIR")
