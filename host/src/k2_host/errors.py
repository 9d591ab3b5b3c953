"""The host's exceptions, one tree, so a caller catches all of them or one kind.

    K2Error                       anything the host refuses or fails at on purpose (has a `code`)
    ├── ConfigError               a configuration that cannot be used: the message names the file or
    │                             variable, the key and the value
    └── k2_host.rag.errors.RAGError   the RAG layer's own tree (store, ingest, query, embedding, dataset)

Model failures are `k2_host.llm.base.LLMError`; tool and server failures never raise: they come back as
`ToolResult`s with an error code (`k2_host.mcp.types.HostErrorCode`).
"""

from __future__ import annotations


class K2Error(Exception):
    """Base of every error the host raises on purpose; `code` is a short machine-readable kind."""

    code = "k2_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(K2Error):
    """The configuration cannot be used; the message says where the bad value came from and what to do."""

    code = "bad_config"
