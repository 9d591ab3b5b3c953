"""RAG settings: one pydantic-settings model, every field read from a `K2_RAG_*` environment variable.

The store backend is the one switch between a laptop and a cluster: `edge` (default; Qdrant Edge in a folder
under the user's data directory), `qdrant` (a Qdrant server or cluster by URL and API key), `memory` (tests)
and `chroma` (optional extra). Collection layout and query plan are the same for every backend, so moving
from Edge to a cluster changes only `K2_RAG_STORE` and `K2_RAG_QDRANT_URL`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from k2_host.paths import cache_dir, data_dir
from k2_host.rag.errors import ConfigError

StoreKind = Literal["edge", "qdrant", "memory", "chroma"]
SearchMode = Literal["hybrid", "dense", "bm25"]
Quantization = Literal["none", "int8"]
STORE_KINDS: tuple[str, ...] = ("edge", "qdrant", "memory", "chroma")


class RAGConfig(BaseModel):
    """Everything the RAG layer can be told: the `rag` section of the host's configuration (`k2_host.config`
    lays `K2_RAG_<FIELD>` over the file); `RAGSettings` is the same read from the environment alone."""

    model_config = ConfigDict(extra="forbid")

    store: StoreKind = Field(default="edge", description="vector store backend: edge, qdrant, memory or chroma")
    collection: str = Field(default="k2", min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")
    path: Path | None = Field(default=None, description="folder of an edge or chroma store; default <data dir>/k2/rag")
    qdrant_url: str | None = Field(default=None, description="Qdrant server or cluster URL (store=qdrant)")
    qdrant_api_key: SecretStr | None = Field(default=None, description="Qdrant API key")
    qdrant_location: str | None = Field(
        default=None, description="qdrant-client location instead of a URL (':memory:')"
    )
    qdrant_timeout_s: float = Field(default=30.0, gt=0, le=600)

    model: str | None = Field(default=None, description="sentence-transformers name or path; default all-MiniLM-L6-v2")
    device: str | None = Field(default=None, description="cpu, cuda, mps...; default: a GPU when torch sees one")
    batch_size: int = Field(default=32, ge=1, le=4096)
    embedding_cache: bool = Field(default=True, description="cache document embeddings on disk by content hash")
    cache_dir: Path | None = Field(
        default=None, description="embedding cache folder; default <cache dir>/k2/embeddings"
    )

    chunk_tokens: int = Field(default=256, ge=16, le=8192, description="most tokens per chunk")
    chunk_overlap: int = Field(
        default=32, ge=0, le=4096, description="tokens shared by consecutive windows of a long block"
    )

    bm25_k1: float = Field(default=1.2, ge=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    bm25_avg_len: float = Field(default=128.0, gt=0, description="expected chunk length in BM25 tokens (measured)")
    bm25_language: str = Field(default="english", description="stopwords and Snowball stemmer language, or 'none'")

    rrf_k: int = Field(default=30, ge=1, le=10_000, description="RRF constant: score = sum 1/(k + rank) (measured)")
    prefetch_limit: int = Field(
        default=100, ge=1, le=10_000, description="candidates taken from each of dense and BM25"
    )
    hnsw_ef: int | None = Field(
        default=192,
        ge=1,
        le=10_000,
        description="HNSW ef at query time (None: engine default); 192 keeps recall@10 >= 0.95 at 1M int8 vectors"
        " with a margin (measured: bench/RAG.md, Scale)",
    )
    quantization: Quantization = Field(
        default="int8",
        description="dense vectors of a new collection: int8 (HNSW walks 1-byte copies kept in RAM, the best"
        " `quantization_oversampling` x limit are rescored with the float vectors) or none; a collection keeps"
        " the choice it was created with (measured: bench/RAG.md, Scale)",
    )
    quantization_oversampling: float = Field(
        default=2.0, ge=1, le=16, description="candidates rescored per result wanted, on a quantized collection"
    )
    mmr_lambda: float = Field(default=0.7, ge=0, le=1, description="MMR relevance weight (1 = no diversity)")
    mmr_candidates: int = Field(default=50, ge=1, le=10_000)

    max_query_chars: int = Field(default=4000, ge=1, le=1_000_000, description="longer queries are refused")
    query_cache_size: int = Field(default=1024, ge=0)
    result_cache_size: int = Field(default=256, ge=0)
    result_cache_ttl_s: float = Field(default=300.0, gt=0)

    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="larger files are skipped on ingest")
    max_files: int = Field(default=20_000, ge=1, le=20_000, description="most files taken from one folder")
    max_rows: int = Field(default=100_000, ge=1, description="most rows taken from one SQL query")
    tool_timeout_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> RAGConfig:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_tokens")
        if self.store == "qdrant" and not (self.qdrant_url or self.qdrant_location):
            raise ValueError("store 'qdrant' needs K2_RAG_QDRANT_URL (or K2_RAG_QDRANT_LOCATION=':memory:')")
        return self

    def store_path(self) -> Path:
        return self.path or data_dir() / "rag"

    def embedding_cache_dir(self) -> Path:
        return self.cache_dir or cache_dir() / "embeddings"


class RAGSettings(BaseSettings, RAGConfig):  # pyright: ignore[reportIncompatibleVariableOverride]
    """`RAGConfig` read from `K2_RAG_<FIELD>` environment variables."""

    model_config = SettingsConfigDict(env_prefix="K2_RAG_", extra="forbid", env_ignore_empty=True)


def load_settings(**overrides: object) -> RAGSettings:
    """Build settings from the environment plus `overrides`, turning validation errors into ConfigError."""
    try:
        return RAGSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(f"bad RAG settings: {problems}") from exc
