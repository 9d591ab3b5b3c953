"""RAG layer of the host: chunk, embed, store (Qdrant Edge / Qdrant / memory / Chroma), hybrid search, evaluate.

    service.RAG            the facade: ingest_path / ingest_url / ingest_query / search / delete
    settings.RAGSettings   K2_RAG_* configuration (store backend, model, chunking, BM25, RRF...)
    embeddings.Embedder    sentence-transformers embeddings (get_embedder() shares one per process)
    stores                 the VectorStore interface and its backends; migrate copies between them
    sources / extract      reading through the MCP servers; HTML and PDF to text
    chunking / sparse      structure-aware chunks; BM25 sparse vectors
    fusion / filters       RRF and MMR; payload filters
    evaluation / cli       BEIR metrics; the `k2 ingest|search|eval-retrieval|migrate` subcommands

Nothing heavy is imported here: import the module you need.
"""
