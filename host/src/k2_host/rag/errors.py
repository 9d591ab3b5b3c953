"""The RAG layer's exceptions, one tree (below `k2_host.errors.K2Error`) so callers can catch all of them or one kind.

    K2Error
    ├── ConfigError               a bad setting: unknown store backend, missing URL, bad model path
    │                             (the host's one ConfigError, `k2_host.errors.ConfigError`, re-exported here)
    └── RAGError                  anything else the RAG layer refuses or fails at
        ├── StoreError            the vector store failed or holds an incompatible collection
        ├── IngestError           a source could not be read through its MCP server
        ├── QueryError            a bad search request: empty or huge query, unknown mode, bad filter
        ├── EmbeddingError        the model could not be loaded or its weights failed their checksum
        └── DatasetError          an evaluation dataset is missing files or has malformed lines

Each carries a `code` (a short machine-readable kind) and a message that quotes the bad input with `!r` and
says what to do instead.
"""

from __future__ import annotations

from k2_host.errors import ConfigError, K2Error

__all__ = ["ConfigError", "DatasetError", "EmbeddingError", "IngestError", "QueryError", "RAGError", "StoreError"]


class RAGError(K2Error):
    """Base of every error the RAG layer raises on purpose (configuration errors are `ConfigError`)."""

    code = "rag_error"


class StoreError(RAGError):
    code = "store_error"


class IngestError(RAGError):
    code = "ingest_error"


class QueryError(RAGError):
    code = "bad_query"


class EmbeddingError(RAGError):
    code = "embedding_error"


class DatasetError(RAGError):
    code = "bad_dataset"
