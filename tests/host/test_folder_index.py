"""The offline engine's folder index: units cut from real code and docs, answers on installed third-party trees
through the real filesystem server, and freshness when files change."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.engine.units import default_in, tokens, units_of
from k2_host.results import AgentEvent

ROOT = Path(__file__).resolve().parents[2]


def test_identifiers_split_into_the_words_a_question_uses() -> None:
    assert tokens("keepaliveExpiry") == ["keepalive", "expiry", "keepaliveexpiry"]
    assert tokens("max_age")[:2] == ["max", "age"] and "max_age" in tokens("max_age")
    assert tokens("maximum number of connections") == ["max", "num", "of", "conn"]


def test_python_units_carry_defaults_scopes_and_docstrings() -> None:
    source = '''"""Module doc."""
TIMEOUT = 5.0


class Pool:
    """A pool of connections.

    :param max_size: how many connections the pool keeps
        open at most.
    """

    def __init__(self, max_size: int = 10, name="pool"):
        self.cache = {"ttl": 60}


def connect(retries=3):
    return retries
'''
    units = units_of("pkg/pool.py", source, "code", "python")
    by = {(u.kind, u.name): u for u in units}
    assert by[("assign", "TIMEOUT")].value == "5.0" and by[("assign", "TIMEOUT")].line == 2
    option = by[("option", "max_size")]  # a constructor's parameter: scoped to the class, explained by its doc
    assert (option.value, option.scope, option.line) == ("10", "Pool", 12)
    assert "how many connections" in option.context
    assert by[("param", "retries")].value == "3" and by[("param", "retries")].scope == "connect"
    assert by[("key", "ttl")].value == "60"
    assert by[("class", "Pool")].context.endswith("A pool of connections.")
    doc = next(u for u in units if u.kind == "doc" and u.name == "max_size")
    assert doc.line == 8
    assert doc.text.splitlines() == [":param max_size: how many connections the pool keeps", "open at most."]


def test_a_syntax_error_still_gives_line_units() -> None:
    units = units_of("broken.py", "def f(:\n    LIMIT = 3\n", "code", "python")
    assert [u.line for u in units] == [1, 2] and units[1].name == "LIMIT"


def test_markdown_defaults_are_read_from_the_prose_and_cited_where_the_value_is() -> None:
    readme = "# pkg\n\n## Options\n\n### limit\n\nControls the maximum body size. Defaults\nto `'100kb'`.\n"
    units = units_of("README.md", readme, "markdown", None)
    fact = next(u for u in units if u.value)
    assert (fact.value, fact.line, fact.kind) == ("100kb", 8, "md")
    assert fact.scope == "pkg Options limit" and fact.context == "Controls the maximum body size."
    assert default_in("The default value is `'ignore'`.") == "ignore"
    assert default_in("**qs** will also limit arrays to a maximum of `20` elements.") == "20"
    assert default_in("Nothing here is a default.") == ""


def test_javascript_units_read_jsdoc_options_and_object_keys() -> None:
    js = (
        "/**\n * Create a server.\n *\n * @param {Object} options\n"
        " * @param {Number} [options.maxPayload=104857600] The maximum allowed message size\n */\n"
        "module.exports = {\n  CLOSE_TIMEOUT: 30000,\n};\n"
    )
    units = units_of("lib/server.js", js, "code", "javascript")
    jsdoc = next(u for u in units if u.name == "maxPayload")
    assert (jsdoc.value, jsdoc.line) == ("104857600", 5)
    key = next(u for u in units if u.name == "CLOSE_TIMEOUT")
    assert (key.value, key.line) == ("30000", 8)


# --- through the real servers ------------------------------------------------------------------------------


def _index_notices(events: list[AgentEvent]) -> list[dict]:
    return [e.data["index"] for e in events if e.kind == "notice" and "index" in e.data]


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_index_is_built_once_and_refreshed_with_changed_files_only(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    settings = root / "app" / "settings.py"
    settings.write_text('"""Settings."""\nREQUEST_TIMEOUT = 30  # seconds\nRETRIES = 2\n')
    (root / "app" / "other.py").write_text("def helper(width=80):\n    return width\n")
    past = time.time() - 60  # files modified just before a read are read again (racy mtime), so age them
    for path in (settings, root / "app" / "other.py"):
        os.utime(path, (past, past))
    events: list[AgentEvent] = []

    async def on_event(e: AgentEvent) -> None:
        events.append(e)

    question = "What is the request timeout in the app settings?"
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=root) as agent:
            first = await agent.ask(question, on_event=on_event)
            built = _index_notices(events)
            events.clear()
            again = await agent.ask(question, on_event=on_event)
            unchanged = _index_notices(events)
            events.clear()
            settings.write_text('"""Settings."""\nREQUEST_TIMEOUT = 45  # seconds\nRETRIES = 2\n')  # same size
            os.utime(settings, (past + 30, past + 30))
            edited = await agent.ask(question, on_event=on_event)
            refreshed = _index_notices(events)
            events.clear()
            settings.unlink()
            gone = await agent.ask(question, on_event=on_event)
            dropped = _index_notices(events)
    assert "30" in first.answer.splitlines()[1] and first.citations[0].location == "line 2"
    assert built and built[0]["read"] == 2 and built[0]["files"] == 2 and built[0]["units"] > 0
    assert "30" in again.answer.splitlines()[1] and unchanged == []  # nothing changed: nothing read
    assert "45" in edited.answer.splitlines()[1] and refreshed[0]["read"] == 1
    assert dropped[0]["removed"] == 1 and "found nothing" in gone.answer
    names = [c.name for c in first.tool_calls]
    assert names.count("filesystem.directory_tree") == 1 and "filesystem.read_file" in names


SUBSET = (
    "starlette-01",
    "starlette-10",
    "starlette-11",
    "httpx-01",
    "httpx-06",
    "httpx-11",
    "httpx-14",
    "click-05",
    "click-07",
    "click-09",
    "click-14",
    "tenacity-03",
    "tenacity-05",
    "tenacity-09",
    "absent-01",
    "absent-03",
)


@pytest.mark.anyio
@pytest.mark.slow
async def test_questions_over_installed_packages_are_answered_with_the_right_line(tmp_path: Path) -> None:
    """A small part of bench/offline_qa: installed third-party sources, questions with checked answers."""
    sys.path.insert(0, str(ROOT / "bench" / "offline_qa"))
    try:
        from harness import build_workspace, check_evidence, grade, load_questions
    finally:
        sys.path.remove(str(ROOT / "bench" / "offline_qa"))
    ws = build_workspace(tmp_path / "ws", ["starlette", "httpx", "click", "tenacity"])
    assert not ws.missing and not ws.mismatched, (ws.missing, ws.mismatched)
    questions = load_questions(None, set(SUBSET))
    assert len(questions) == len(SUBSET)
    assert all(check_evidence(q, ws.root) is None for q in questions)
    failures = []
    with anyio.fail_after(300):
        async with Agent.from_config(None, root=ws.root) as agent:
            for q in questions:
                result = await agent.ask(q.question)
                g = grade(q, result, ws.root)
                if not g.ok:
                    failures.append(f"{q.id}: {g.why}: {g.headline}")
    assert failures == []


@pytest.mark.anyio
@pytest.mark.slow
async def test_oversized_binary_and_broken_files_are_left_out_without_breaking_the_index(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "config.py").write_text("MAX_UPLOAD_BYTES = 1048576\n")
    (root / "huge.md").write_text("The default upload limit is `7`.\n" * 4000)  # over the byte limit below
    (root / "broken.py").write_text("def f(:\n    PORT = 8443\n")  # does not parse: kept as plain lines
    (root / "latin1.txt").write_bytes("caf\xe9 limit 12\n".encode("latin-1"))  # not UTF-8
    events: list[AgentEvent] = []

    async def on_event(e: AgentEvent) -> None:
        events.append(e)

    overrides = {"agent": {"offline_index_max_file_bytes": 50_000}}
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=root, overrides=overrides) as agent:
            limit = await agent.ask("What is the max upload bytes setting?", on_event=on_event)
            port = await agent.ask("What is the PORT in broken.py?", on_event=on_event)
    stats = _index_notices(events)[0]
    assert stats["skipped"] == 1 and stats["files"] == 3  # huge.md left out (and counted), the rest indexed
    assert "1048576" in limit.answer.splitlines()[1] and limit.citations[0].source.endswith("config.py")
    assert "8443" in port.answer.splitlines()[1] and port.citations[0].location == "line 2"
