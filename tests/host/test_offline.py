"""The offline engine answers from the user's own data through the real K2 servers (no model, no keys)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.config import data_dir, parse_config

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def make_project(root: Path) -> Path:
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "staging.yaml").write_text(
        "# Staging environment\nserver:\n  host: staging.internal.example\n  port: 8443\n  workers: 4\n"
    )
    (root / "deploy" / "production.yaml").write_text(
        "# Production environment\nserver:\n  host: api.example.com\n  port: 443\n  workers: 16\n"
    )
    (root / "README.md").write_text("# Acme\nRun `make dev`; the dev server listens on port 8000.\n")
    (root / ".env").write_text("SECRET_TOKEN=do-not-leak-me port 9999 staging\n")
    return root


async def test_k2_ask_answers_the_staging_port_from_the_files(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=root) as agent:
            result = await agent.ask("Which port does the staging server use?")
    assert result.engine == "offline" and result.stopped == "done"
    assert "offline engine" in result.answer
    assert "8443" in result.answer.splitlines()[1]
    assert result.citations[0].source.endswith("deploy/staging.yaml")
    assert result.citations[0].location == "line 4"
    names = [c.name for c in result.tool_calls]
    assert "filesystem.directory_tree" in names and "filesystem.read_file" in names  # listing, cited line
    assert "do-not-leak-me" not in result.model_dump_json()  # .env is denied by the default server flags


async def test_a_question_about_rows_counts_them_in_the_database(tmp_path: Path) -> None:
    import duckdb

    db = data_dir() / "k2.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE orders (id INTEGER, amount DECIMAL(10,2), customer VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, 10.5, 'ann'), (2, 20, 'bob'), (3, 4.5, 'ann')")
    con.close()
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=tmp_path) as agent:
            count = await agent.ask("How many rows are in the orders table?")
            average = await agent.ask("What is the average order amount in the orders table?")
    assert "Row count of orders: 3" in count.answer
    assert "avg(amount) of orders: 11.6667" in average.answer
    assert [c.name for c in count.tool_calls] == ["database.get_schema", "database.query_database"]


@pytest.mark.skipif(
    shutil.which("bwrap") is None and os.environ.get("K2_REQUIRE_SANDBOX") != "1",
    reason="bubblewrap is not installed (CI installs it and requires these tests)",
)
async def test_an_arithmetic_question_runs_in_the_sandbox(tmp_path: Path) -> None:
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=tmp_path) as agent:
            result = await agent.ask("compute 17*23+4")
    # the evaluate-expression skill fits (its script runs in the sandbox); code in a fence goes to the code plan
    assert result.skill is not None and result.skill.name == "evaluate-expression" and result.skill.ok
    assert "395" in result.answer.split("[skill: evaluate-expression]")[1]
    assert [c.name for c in result.tool_calls] == ["codeexec.execute_python"]


async def test_nothing_found_is_said_plainly(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=root) as agent:
            result = await agent.ask("zygomorphic quasar tessellation")
    assert "found nothing" in result.answer
    assert result.stopped == "done" and not result.citations


async def test_a_dead_server_degrades_the_answer_not_the_run(tmp_path: Path) -> None:
    cfg = parse_config(
        {"mcpServers": {"filesystem": {"command": str(tmp_path / "no-such-server"), "connect_timeout_s": 5}}},
        env={},
    )
    cfg.roots = [str(tmp_path)]
    with anyio.fail_after(60):
        async with Agent(cfg, state_dir=tmp_path / "state") as agent:
            result = await agent.ask("Which port does the staging server use?")
            status = agent.manager.status()
    assert result.stopped == "done" and "found nothing" in result.answer
    assert result.tool_calls and all(c.error_code == "server_unavailable" for c in result.tool_calls)
    assert result.errors
    assert status[0]["connected"] is False and status[0]["last_error"]


async def test_several_questions_fan_out_to_sub_agents(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=root) as agent:
            result = await agent.ask("Which port does the staging server use? And which port does production use?")
    first, second = result.answer.split("\n\n")
    assert first.startswith("1. Which port does the staging server use?") and "8443 — from deploy/staging.yaml" in first
    assert second.startswith("2. which port does production use?") and "443 — from deploy/production.yaml" in second
    assert {c.source.rsplit("/", 1)[-1] for c in result.citations} >= {"staging.yaml", "production.yaml"}


async def test_ingested_documents_are_searched_first_and_cited(tmp_path: Path) -> None:
    from k2_host.rag.service import RAG

    root = make_project(tmp_path / "proj")
    (root / "notes.md").write_text("# Operations\n\n## Backups\n\nBackups run nightly and are kept for 30 days.\n")
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=root) as agent:
            assert agent.knowledge is None  # nothing ingested yet: the index is not even opened
            with RAG.open() as rag:
                report = await rag.ingest_path(agent.manager, root)
        assert report.ingested >= 3
        async with Agent.from_config(None, root=root) as agent:
            assert agent.knowledge is not None
            result = await agent.ask("How long are backups kept?")
    assert result.tool_calls[0].name == "knowledge.search"
    assert "kept for 30 days" in result.answer.splitlines()[1]
    assert result.citations[0].location == "§ Operations > Backups"
