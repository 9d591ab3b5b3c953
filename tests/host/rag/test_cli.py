"""The `k2` RAG subcommands, registered on an argparse parser and run the way the main CLI runs them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from k2_host.cli import parser
from k2_host.cli.context import CliContext

from tests.host.rag.conftest import StdioCaller, open_caller, write_tree
from tests.host.rag.test_evaluation import CORPUS, QRELS, QUERIES, write_beir

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # the real model is loaded


class Context(CliContext):
    """The CLI's own context (configuration and RAG settings as `k2` builds them), with servers started here."""

    @asynccontextmanager
    async def open_tools(self, fs_roots: list[Path] | None = None) -> AsyncIterator[StdioCaller]:
        servers = {"filesystem": ["--root", *map(str, fs_roots)]} if fs_roots else {"database": ["--db", ":memory:"]}
        async with open_caller(servers) as c:
            yield c


async def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    args = parser().parse_args(argv)
    code = await args.func(args, Context(args))
    out = capsys.readouterr().out
    if "--json" not in argv:
        return code, {}
    return code, json.loads(out)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("K2_RAG_CACHE_DIR", str(tmp_path / "cache"))


async def test_ingest_then_search_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    write_tree(
        docs, {"birds.md": "# Birds\n\nThe kestrel hovers over meadows.", "cars.md": "# Cars\n\nChange the oil."}
    )
    code, report = await run(["ingest", str(docs), "--tag", "notes", "--json"], capsys)
    assert code == 0 and report["ingested"] == 2 and report["failed"] == 0
    assert (tmp_path / "data" / "k2" / "rag" / "k2" / "k2-collection.json").exists()  # the default edge folder
    code, found = await run(["search", "hovering falcon", "--k", "1", "--json", "--filter", "tags=notes"], capsys)
    assert code == 0 and found["hits"][0]["source"] == str(docs / "birds.md")
    code, found = await run(["search", "oil", "--mode", "bm25", "--json", "--filter", "type=code"], capsys)
    assert code == 0 and found["hits"] == []
    code, _ = await run(["search", "kestrel", "--k", "2"], capsys)
    assert code == 0
    code, moved = await run(["migrate", "--from", "edge", "--to", f"edge:{tmp_path / 'copy'}", "--json"], capsys)
    assert code == 0 and moved["points"] == 2
    code, found = await run(["search", "kestrel", "--json", "--store-path", str(tmp_path / "copy")], capsys)
    assert code == 0 and found["hits"][0]["source"] == str(docs / "birds.md")


async def test_eval_retrieval_prints_the_three_modes_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_beir(tmp_path / "tiny", CORPUS, QUERIES, QRELS)
    code, report = await run(["eval-retrieval", str(folder), "--json"], capsys)
    assert code == 0 and set(report["results"]) == {"dense", "bm25", "hybrid"}
    assert report["results"]["hybrid"]["ndcg@10"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["search", "", "--json"], "empty_query"),
        (["search", "x", "--json", "--filter", "nonsense"], "bad_query"),
        (["eval-retrieval", "/nonexistent/beir", "--json"], "missing_dir"),
        (["ingest", "--json"], "no_target"),
        (["migrate", "--from", "bogus", "--to", "memory", "--json"], "bad_config"),
    ],
)
async def test_bad_input_exits_2_with_a_machine_readable_error(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await run(argv, capsys)
    assert code == 2 and out["error"] == error


async def test_an_unknown_store_in_the_environment_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("K2_RAG_STORE", "pinecone")
    code, out = await run(["search", "x", "--json"], capsys)
    assert code == 2 and out["error"] == "bad_config" and "pinecone" in out["message"]
