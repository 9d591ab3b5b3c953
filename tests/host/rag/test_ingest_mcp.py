"""Ingestion through the real K2 servers over stdio: files of every kind (filesystem), a web page (websearch
against an HTTP server on 127.0.0.1), query rows (database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from k2_host.rag.errors import IngestError
from k2_host.rag.service import RAG
from k2_host.rag.settings import RAGSettings

from tests.host.rag.conftest import HashEmbedder, open_caller, write_tree
from tests.support import minimal_pdf

pytestmark = pytest.mark.anyio

FILES: dict[str, str | bytes] = {
    "guide.md": "# Guide\n\n## Install\n\nRun the kestrel installer with care.\n\n```sh\nmake install\n```\n",
    "src/store.py": "import os\n\n\ndef load_falcon(path):\n    return os.path.exists(path)\n",
    "page.html": "<html><head><title>Owls</title></head><body><nav>menu</nav><h1>Owls</h1>"
    "<p>Barn owls hunt at night.</p></body></html>",
    "paper.pdf": minimal_pdf("Harrier flight study page one", "Harrier migration page two"),
    "notes.txt": "Plain notes about merlins.",
    "image.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 32,
    "ignored/secret.md": "# Hidden\n\nnever indexed",
    ".gitignore": "ignored/\n",
}


def rag_for(tmp_path: Path, emb: HashEmbedder) -> RAG:
    settings = RAGSettings(store="edge", path=tmp_path / "store", collection="t")
    return RAG.open(settings, embedder=emb)  # type: ignore[arg-type]


async def test_a_folder_is_ingested_through_the_filesystem_server(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    root = tmp_path / "docs"
    write_tree(root, FILES)
    async with open_caller({"filesystem": ["--root", str(root)]}) as caller:
        with rag_for(tmp_path, hash_embedder) as rag:
            report = await rag.ingest_path(caller, str(root))
            assert sorted(d.source.removeprefix(str(root)) for d in report.documents) == [
                "/guide.md",
                "/notes.txt",
                "/page.html",
                "/paper.pdf",
                "/src/store.py",
            ]
            assert report.failed == 0 and report.ingested == 5
            by_type = {h.payload["type"]: h for h in await rag.search("kestrel falcon owls harrier merlins", k=20)}
            assert set(by_type) == {"markdown", "code", "html", "pdf", "text"}
            md = (await rag.search("kestrel installer", k=1, filters={"type": "markdown"}))[0]
            assert md.heading_path == ["Guide", "Install"] and "make install" in md.text
            code = (await rag.search("load_falcon", k=1, filters={"type": "code"}))[0]
            assert code.heading_path == ["load_falcon"] and code.payload["language"] == "python"
            html = (await rag.search("barn owls", k=1, filters={"type": "html"}))[0]
            assert (
                html.text == "Barn owls hunt at night." and html.payload["title"] == "Owls" and "menu" not in html.text
            )
            pdf = await rag.search("harrier migration", k=2, filters={"type": "pdf"})
            assert (pdf[0].payload["page"], pdf[0].text) == (2, "Harrier migration page two")
            assert pdf[0].citation.endswith("paper.pdf, p. 2")
            under = await rag.search("kestrel falcon", k=10, filters={"under": str(root / "src")})
            assert {h.doc_id for h in under} == {f"file:{root}/src/store.py"}
            assert all(h.payload["modified"] for h in by_type.values())
            again = await rag.ingest_path(caller, str(root))
            assert {d.status for d in again.documents} == {"unchanged"}
        assert "filesystem.read_file" in caller.calls and "filesystem.directory_tree" in caller.calls


async def test_one_file_and_a_file_outside_the_roots(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    root = tmp_path / "docs"
    write_tree(root, FILES)
    async with open_caller({"filesystem": ["--root", str(root)]}) as caller:
        with rag_for(tmp_path, hash_embedder) as rag:
            one = await rag.ingest_path(caller, str(root / "guide.md"))
            assert [d.status for d in one.documents] == ["ingested"]
            with pytest.raises(IngestError) as err:
                await rag.ingest_path(caller, str(tmp_path / "elsewhere.md"))
            assert err.value.code not in ("", None)
            skipped = await rag.ingest_path(caller, str(root / "image.png"))
            assert skipped.documents == [] and "not a kind of file" in skipped.warnings[0]


async def test_a_broken_pdf_fails_alone_and_the_rest_is_ingested(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    root = tmp_path / "docs"
    write_tree(root, {"bad.pdf": b"%PDF-1.4\ngarbage", "ok.md": "# Fine\n\ntext"})
    async with open_caller({"filesystem": ["--root", str(root)]}) as caller:
        with rag_for(tmp_path, hash_embedder) as rag:
            report = await rag.ingest_path(caller, str(root))
    status = {Path(d.source).name: d.status for d in report.documents}
    assert status == {"bad.pdf": "failed", "ok.md": "ingested"}


async def test_a_web_page_is_ingested_through_fetch_webpage(
    tmp_path: Path, hash_embedder: HashEmbedder, site: str
) -> None:
    port = site.rsplit(":", 1)[1]
    args = ["--allow-host", f"127.0.0.1:{port}", "--index", str(tmp_path / "index")]
    async with open_caller({"websearch": args}) as caller:
        with rag_for(tmp_path, hash_embedder) as rag:
            url = f"{site}/kestrel.html"
            report = await rag.ingest_url(caller, url, tags=["birds"])
            assert report.ingested == 1 and caller.calls == ["websearch.fetch_webpage"]
            (hit,) = await rag.search("where do kestrels nest", k=1, filters={"source_type": "web", "tags": "birds"})
    assert "crow nests" in hit.text and hit.payload["url"] == url
    assert hit.heading_path[0] == "Kestrel field notes" and hit.citation.startswith(f"Kestrel field notes <{url}>")
    assert "tracking" not in hit.text and "Cookie" not in hit.text


async def test_query_rows_are_ingested_through_query_database(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    sql = (
        "SELECT * FROM (VALUES (1, 'kestrel', 'hovers over meadows'), (2, 'osprey', 'dives for fish'))"
        " t(id, bird, habit)"
    )
    async with open_caller({"database": ["--db", ":memory:"]}) as caller:
        with rag_for(tmp_path, hash_embedder) as rag:
            report = await rag.ingest_query(caller, sql, doc_id="birds-table")
            assert report.ingested == 1 and caller.calls == ["database.query_database"]
            hits = await rag.search("osprey fish", k=2, filters={"source_type": "database"})
            again = await rag.ingest_query(caller, sql, doc_id="birds-table")
            with pytest.raises(IngestError):
                await rag.ingest_query(caller, "DELETE FROM nowhere")
    assert (
        hits[0].doc_id == "birds-table" and "bird: osprey" in hits[0].text and "habit: dives for fish" in hits[0].text
    )
    assert hits[0].citation.startswith("SQL: SELECT") and again.documents[0].status == "unchanged"
