"""The RAG layer's exceptions, one tree so callers can catch all of them or one kind.

    RAGError                      anything the RAG layer refuses or fails at
    ├── ConfigError               a bad setting: unknown store backend, missing URL, bad model path
    ├── StoreError                the vector store failed or holds an incompatible collection
    ├── IngestError               a source could not be read through its MCP server
    ├── QueryError                a bad search request: empty or huge query, unknown mode, bad filter
    ├── EmbeddingError            the model could not be loaded or its weights failed their checksum
    └── DatasetError              an evaluation dataset is missing files or has malformed lines

Each carries a `code` (a short machine-readable kind) and a message that quotes the bad input with `!r` and
says what to do instead.
"""

from __future__ import annotations


class RAGError(Exception):
    """Base of every error the RAG layer raises on purpose."""

    code = "rag_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(RAGError):
    code = "bad_config"


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
