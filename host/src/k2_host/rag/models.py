"""The values the RAG layer passes around: documents read from a source, their chunks, search hits, reports.

Payload layout of one stored chunk (every backend stores the same keys):

    doc_id, chunk_index, chunk_count, doc_hash   identity; points are keyed by uuid5(doc_id, chunk_index)
    text, heading_path (list), heading (joined)   what the chunk says and where in the document it sits
    start, end                                    character offsets of the chunk in the extracted text
    source, source_type, type, path, dirs, url, title, page, tags, language
    modified, modified_ts, ingested, ingested_ts  ISO 8601 dates and their epoch seconds (for range filters)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceType = Literal["file", "web", "database", "dataset", "text"]
POINT_NAMESPACE = uuid.UUID("5b0e4a9e-6f53-4c8e-9a51-0c6b1a2f7d10")


def point_id(doc_id: str, chunk_index: int) -> str:
    """The stable id of one chunk: the same document and position always give the same point."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}\x00{chunk_index}"))


@dataclass
class Document:
    """One unit of ingestion: the extracted text of a file, page or query result, with its metadata."""

    doc_id: str
    text: str
    kind: str  # markdown, code, text, html, pdf, rows
    source: str
    source_type: SourceType
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # path, url, modified, tags, language, pages...
    root: list[str] = field(default_factory=list)  # heading path above the document's own headings


@dataclass
class Chunk:
    """A piece of a document sized for the embedding model."""

    text: str
    index: int
    start: int
    end: int
    heading_path: list[str] = field(default_factory=list)
    page: int | None = None

    def embed_text(self) -> str:
        """What gets embedded: the heading path gives a chunk the context its own text may lack."""
        if not self.heading_path:
            return self.text
        return " > ".join(self.heading_path) + "\n" + self.text


@dataclass
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass
class StoredPoint:
    """A point as the store interface sees it, whatever the backend."""

    id: str
    payload: dict[str, Any]
    dense: list[float] | None = None
    sparse: SparseVec | None = None
    score: float = 0.0


class Hit(BaseModel):
    """One search result."""

    text: str
    score: float
    source: str
    citation: str
    doc_id: str
    chunk_index: int
    heading_path: list[str] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
    point_id: str = ""


class DocReport(BaseModel):
    doc_id: str
    source: str
    status: Literal["ingested", "unchanged", "skipped", "failed"]
    chunks: int = 0
    removed_chunks: int = 0
    reason: str | None = None


class IngestReport(BaseModel):
    """What one ingest call did."""

    source: str
    documents: list[DocReport] = Field(default_factory=list)
    chunks: int = 0
    embedded: int = 0  # chunks embedded now (the rest came from the cache)
    elapsed_s: float = 0.0
    warnings: list[str] = Field(default_factory=list)

    @property
    def ingested(self) -> int:
        return sum(d.status == "ingested" for d in self.documents)

    @property
    def failed(self) -> int:
        return sum(d.status == "failed" for d in self.documents)


@dataclass
class IngestProgress:
    """Passed to a progress callback after each document."""

    done: int
    total: int | None
    current: str
    chunks: int
