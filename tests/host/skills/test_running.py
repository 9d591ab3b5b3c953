"""Skills run through the real servers: every offline handler on the examples it ships, the host handlers, the
offline router inside `k2 ask`, and progressive disclosure to a (scripted) model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.config import load_host_config
from k2_host.llm.openai_compat import OpenAICompatProvider
from k2_host.skills import SkillRegistry, builtin_dir
from k2_host.skills.evaluate import eval_runtime, page_server, run_examples

from tests.host.scripted_llm import Turn, scripted_llm, tool_call

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        shutil.which("bwrap") is None and os.environ.get("K2_REQUIRE_SANDBOX") != "1",
        reason="bubblewrap is not installed (CI installs it and requires these tests)",
    ),
]


@pytest.mark.slow
async def test_every_offline_skill_passes_the_examples_it_ships(tmp_path: Path) -> None:
    reg = SkillRegistry.discover(builtin=builtin_dir())
    skills = [s for s in reg if (s.path / "assets" / "examples.json").is_file()]
    assert len([s for s in skills if s.offline == "script"]) >= 30
    root = tmp_path / "proj"
    root.mkdir()
    with page_server() as (server, page):
        host, port = server.server_address[:2]
        config = load_host_config(None, root=root, state=tmp_path / "state")
        with anyio.fail_after(600):
            async with eval_runtime(config, root, f"{host}:{port}") as rt:
                results = await run_examples(rt, skills, root, page, f"http://{host}:{port}/page")
                stats = rt.skills.metrics.stats()
    failed = [(r.skill, r.query, r.missing, r.answer[:600]) for r in results if not r.ok]
    assert not failed, failed
    assert len(results) >= len(skills)
    ran = {r.skill for r in results}
    assert all(stats[name].runs >= 1 for name in ran)  # every run measured


async def test_profile_table_summarizes_a_csv_through_duckdb(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "orders.csv").write_text("id,region,amount\n1,north,10.5\n2,south,\n3,north,30\n4,east,7.25\n")
    with anyio.fail_after(120):
        async with Agent.from_config(None, root=root) as agent:
            result = await agent.ask("profile data/orders.csv", skill="profile-table")
            missing = await agent.ask("profile nothing.csv", skill="profile-table")
    assert result.stopped == "done" and result.skill is not None and result.skill.ok
    assert "**data/orders.csv**: 4 rows, 3 columns" in result.answer
    assert "| amount | DOUBLE | 25.0" in result.answer and "| region | VARCHAR |" in result.answer
    assert [c.name for c in result.tool_calls][-2:] == ["database.query_database"] * 2
    assert missing.skill is not None and missing.skill.reason == "no_input"
    assert "No file named nothing.csv" in missing.answer


async def test_list_page_links_groups_a_pages_links_by_site(tmp_path: Path) -> None:
    page_html = (
        b"<html><body><a href='/docs'>Docs</a> <a href='https://github.com/x/y'>Code</a>"
        b" <a href='https://github.com/x/z'>More</a> <a href='https://pypi.org/project/k'>PyPI</a></body></html>"
    )
    with page_server() as (server, page):
        page.body = page_html
        host, port = server.server_address[:2]
        config = load_host_config(None, root=tmp_path, state=tmp_path / "state")
        async with eval_runtime(config, tmp_path, f"{host}:{port}") as rt:
            result = await rt.ask(f"list the links on http://{host}:{port}/index.html", skill="list-page-links")
    assert result.skill is not None and result.skill.ok, result.answer
    assert "4 link(s)" in result.answer and "3 site(s)" in result.answer
    assert "**github.com**: 2" in result.answer and "(this site)" in result.answer


@pytest.mark.slow  # the embedding model routes
async def test_k2_ask_uses_a_skill_when_one_fits_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Demo\nThe service listens on port 8080.\n")
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=tmp_path) as agent:
            converted = await agent.ask("how many kilometers is 26.2 miles?")
            files = await agent.ask("Which port does the service listen on?")
    assert converted.skill is not None and converted.skill.name == "convert-units", converted.skill
    assert converted.skill.chosen_by == "router" and converted.skill.ok
    assert "[skill: convert-units]" in converted.answer and "42.16" in converted.answer
    assert [c.name for c in converted.tool_calls] == ["codeexec.execute_python"]
    assert "8080" in files.answer and "[skill:" not in files.answer  # a question about the files: the plans
    assert files.skill is None or files.skill.name == "answer-from-files"


async def test_an_8k_window_offers_no_skills_and_the_catalog_shrinks_to_its_budget(tmp_path: Path) -> None:
    script = [Turn(text="Hello.")]
    async with scripted_llm(script) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, api_key="k", max_retries=0)
        try:
            async with Agent.from_config(None, root=tmp_path, provider=provider) as agent:
                result = await agent.ask("hi")
                skills = agent.runtime.skills
        finally:
            await provider.aclose()
    assert result.answer == "Hello." and not any("skills__" in t["function"]["name"] for t in llm.requests[0]["tools"])
    full, short, names = skills.catalog(), skills.catalog(8000), skills.catalog(1500)
    assert len(short) <= 8000 < len(full) and len(names) <= 1500
    assert "- decode-jwt: " in full and "- decode-jwt: " in short and "decode-jwt" in names and "- security: " in names


async def test_a_model_sees_the_catalog_and_activates_a_skill_by_name(tmp_path: Path) -> None:
    script = [
        Turn(tool_calls=[tool_call("skills.activate", {"name": "decode-jwt"})]),
        Turn(tool_calls=[tool_call("skills.activate", {"name": "no-such-skill"})]),
        Turn(text="Decoded."),
    ]
    async with scripted_llm(script) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, api_key="k", max_retries=0)
        try:
            big = {"context": {"window_tokens": 32000}}  # skills are offered to a model from a 16K window up
            async with Agent.from_config(None, root=tmp_path, provider=provider, overrides=big) as agent:
                with anyio.fail_after(60):
                    result = await agent.ask("what is in this token? eyJhbGciOiJub25lIn0.e30.")
        finally:
            await provider.aclose()
    first = llm.requests[0]
    system = first["messages"][0]["content"]
    assert "- decode-jwt: " in system and "- convert-units: " in system  # the catalog: names + descriptions
    assert "## " not in system  # no skill bodies until activated
    activate = next(t for t in first["tools"] if t["function"]["name"] == "skills__activate")
    assert "decode-jwt" in activate["function"]["parameters"]["properties"]["name"]["enum"]
    results = [m["content"] for m in llm.requests[1]["messages"] if m["role"] == "tool"]
    assert "# Skill: decode-jwt (security" in results[0] and "scripts/" in results[0]
    errors = [m["content"] for m in llm.requests[2]["messages"] if m["role"] == "tool"]
    assert "no skill named 'no-such-skill'" in errors[-1]
    assert result.answer == "Decoded." and system == llm.requests[2]["messages"][0]["content"]  # stable prefix
