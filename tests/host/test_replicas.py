"""Replicas sharing state: sessions in PostgreSQL behave as in SQLite (sealed the same way), saves from two
writers to one session never overwrite each other, a runtime's open transcript follows what another replica
saved, and two real `k2 serve` processes behind a round-robin share sessions, trajectories and feedback
(PostgreSQL) and tool results (Redis), so that a session started on one continues on the other.

Knowledge is not here: sharing it needs a Qdrant server (one collection through qdrant-client), and none can
be installed here; qdrant-client's local mode locks its folder to one process."""

from __future__ import annotations

import base64
import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from k2_host.config import HostConfig
from k2_host.context.sessions_pg import PostgresSessionStore, open_postgres_sessions
from k2_host.context.transcript import AssistantTurn, SessionStore, SQLSessionStore, UserTurn
from k2_host.errors import ConfigError
from k2_host.learning.postgres import PostgresTrajectoryStore
from k2_host.llm.testing import ScriptedProvider
from k2_host.runtime import build_runtime, open_session_store
from k2_host.sealing import TEXT_PREFIX, KeyRing, Sealer, SealError
from psycopg import sql

from tests.host.pg_support import PostgresServer, postgres_server
from tests.host.redis_support import redis_server
from tests.host.scripted_llm import Turn, scripted_llm, tool_call
from tests.host.serve_support import model_env, served

pytestmark = pytest.mark.anyio

SECRET = "zebra-quota-8443"  # must never be stored in plain text


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sealer(tmp_path: Path) -> Sealer:
    return Sealer(KeyRing.load(tmp_path / "data-keys.json", create=True))


StoreFactory = Callable[[], SQLSessionStore]


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path, sealer: Sealer) -> AsyncIterator[StoreFactory]:
    """Opens stores on one backend's shared place (one file, or one database schema), as replicas would."""
    opened: list[SQLSessionStore] = []

    def make() -> SQLSessionStore:
        if request.param == "sqlite":
            store: SQLSessionStore = SessionStore(tmp_path / "sessions.sqlite", sealer)
        else:
            server: PostgresServer = request.getfixturevalue("pg")
            store = PostgresSessionStore(server.dsn(), sealer, schema=request.getfixturevalue("schema"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


async def test_a_session_keeps_its_turns_title_and_owner_and_can_be_deleted(stores: StoreFactory) -> None:
    store = stores()
    info = await store.create("key:ab12")
    t = await store.open(info.id)
    t.add(UserTurn(text=f"What is {SECRET}?"))
    t.add(AssistantTurn(text="A test value."))
    assert await store.save(t) == 2 and await store.save(t) == 0
    assert (await store.open(info.id)).turns == t.turns
    found = await store.info(info.id)
    assert found is not None
    assert (found.turns, found.title, found.owner) == (2, f"What is {SECRET}?", "key:ab12")
    assert [s.id for s in await store.list(owner="key:ab12")] == [info.id]
    assert await store.list(owner="key:other") == []
    assert await store.delete(info.id) and not await store.delete(info.id)
    assert await store.info(info.id) is None and (await store.open(info.id)).turns == []


async def test_saves_from_two_writers_append_after_each_other_and_both_transcripts_end_whole(
    stores: StoreFactory,
) -> None:
    a, b = stores(), stores()
    ta, tb = await a.open("shared"), await b.open("shared")
    ta.add(UserTurn(text="from a"))
    tb.add(UserTurn(text="from b"))
    await a.save(ta)
    await b.save(tb)  # b's transcript did not know a's turn: it goes after it, and b reads the session again
    assert [t.text for t in tb.turns if isinstance(t, UserTurn)] == ["from a", "from b"]
    assert (await a.open("shared")).turns == tb.turns
    assert tb.stamp == await a.stamp("shared") and ta.stamp != tb.stamp


async def test_many_concurrent_saves_to_one_session_all_land_in_distinct_places(stores: StoreFactory) -> None:
    writers = [stores(), stores()]
    transcripts = [await writers[i % 2].open("busy") for i in range(8)]  # all opened empty: all stale but one

    async def save(i: int) -> None:
        transcripts[i].add(UserTurn(text=f"turn {i}"))
        await writers[i % 2].save(transcripts[i])

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(save, i)
    stored = (await writers[0].open("busy")).turns
    assert sorted(t.text for t in stored if isinstance(t, UserTurn)) == [f"turn {i}" for i in range(8)]
    info = await writers[1].info("busy")
    assert info is not None and info.turns == 8


async def test_postgres_sessions_are_sealed_with_the_turn_as_associated_data(
    pg: PostgresServer, schema: str, sealer: Sealer
) -> None:
    store = PostgresSessionStore(pg.dsn(), sealer, schema=schema)
    try:
        t = await store.open("ops")
        t.add(UserTurn(text=f"the code is {SECRET}"))
        await store.save(t)
    finally:
        store.close()
    with psycopg.connect(pg.dsn()) as con:
        titles = con.execute(sql.SQL("SELECT title FROM {}.k2_sessions").format(sql.Identifier(schema))).fetchall()
        rows = con.execute(sql.SQL("SELECT seq, data FROM {}.k2_turns").format(sql.Identifier(schema))).fetchall()
    [(title,)] = titles
    assert title.startswith(TEXT_PREFIX) and SECRET not in title
    assert [seq for seq, _ in rows] == [0] and rows[0][1].startswith(TEXT_PREFIX) and SECRET not in rows[0][1]
    assert SECRET in sealer.open_text(rows[0][1], "sessions/ops/turn/0")
    with pytest.raises(SealError):  # moved to another turn or session, it does not open
        sealer.open_text(rows[0][1], "sessions/ops/turn/1")


async def test_postgres_sessions_are_chosen_by_configuration_and_need_the_learning_dsn(
    pg: PostgresServer, schema: str, tmp_path: Path
) -> None:
    config = HostConfig.model_validate(
        {
            "sessions": {"store": "postgres"},
            "learning": {"dsn": pg.dsn(), "pg_schema": schema},
            "storage": {"key_file": str(tmp_path / "keys.json")},
        }
    )
    store = open_session_store(config)
    try:
        assert isinstance(store, PostgresSessionStore) and store.sealer.encrypting  # sealed without a state dir
    finally:
        store.close()
    with pytest.raises(ConfigError, match=r"learning\.dsn is not set"):
        open_postgres_sessions(HostConfig.model_validate({"sessions": {"store": "postgres"}}).learning)


async def test_a_runtimes_open_transcript_follows_what_another_replica_saved_or_deleted(tmp_path: Path) -> None:
    config = HostConfig.model_validate({"state_dir": tmp_path / "state", "learning": {"record": False}})
    async with (
        build_runtime(config, provider=ScriptedProvider([]), use_knowledge=False) as a,
        build_runtime(config, provider=ScriptedProvider([]), use_knowledge=False) as b,
    ):
        ta = await a.open_session("work")
        ta.add(UserTurn(text="one"))
        await a.sessions.save(ta)
        assert await a.open_session("work") is ta  # nothing changed: the open transcript is reused
        tb = await b.open_session("work")
        assert tb.turns == ta.turns
        tb.add(UserTurn(text="two"))
        await b.sessions.save(tb)
        again = await a.open_session("work")
        assert again is not ta and [t.text for t in again.turns if isinstance(t, UserTurn)] == ["one", "two"]
        assert await a.open_session("work") is again
        assert await b.delete_session("work")
        assert (await a.open_session("work")).turns == []


class RoundRobin:
    """What a simple load balancer does: each request to the next replica in turn."""

    def __init__(self, *urls: str) -> None:
        self.urls = itertools.cycle(urls)
        self.sent: list[str] = []  # the replica each request went to

    def __call__(self, method: str, path: str, **kw: Any) -> httpx.Response:
        url = next(self.urls)
        self.sent.append(url)
        return httpx.request(method, url + path, timeout=120, **kw)


@pytest.mark.slow  # two real `k2 serve` processes with their servers
async def test_a_session_started_on_one_replica_continues_on_the_other(pg: PostgresServer, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "staging.yaml").write_text("port: 8443\n")
    read = tool_call("filesystem.read_file", {"path": "staging.yaml"})
    script = [
        Turn(tool_calls=[read]),
        Turn(text="Staging uses port 8443."),
        Turn(tool_calls=[read]),  # the same read-only call, on the other replica: answered from Redis
        Turn(text="Still 8443."),
    ]
    dsn = pg.create_database("replicas")
    with redis_server(tmp_path) as redis:
        async with scripted_llm(script) as llm:
            env = model_env(
                llm.base_url,
                K2_SESSIONS_STORE="postgres",
                K2_LEARNING_STORE="postgres",
                K2_LEARNING_DSN=dsn,
                K2_CACHE_REDIS_URL=redis.url,
                K2_DATA_KEY=base64.b64encode(os.urandom(32)).decode(),  # one key for both, as a Secret would
            )
            args = ("--root", str(root))

            def run() -> dict[str, Any]:
                with (
                    served(tmp_path / "a", global_args=args, env=env) as (a, _),
                    served(tmp_path / "b", global_args=args, env=env) as (b, _),
                ):
                    lb = RoundRobin(a, b)
                    created = lb("POST", "/v1/sessions", json={})
                    sid = created.json()["id"]
                    seen_on_b = lb("GET", f"/v1/sessions/{sid}")
                    first = lb(
                        "POST",
                        f"/v1/sessions/{sid}/runs",
                        json={"input": "Which port does staging use?", "stream": False},
                    )
                    second = lb(
                        "POST", f"/v1/sessions/{sid}/runs", json={"input": "Check it again, please.", "stream": False}
                    )
                    views = [lb("GET", f"/v1/sessions/{sid}"), lb("GET", f"/v1/sessions/{sid}")]
                    rated = [  # each run rated on the replica that did not answer it
                        lb("POST", "/v1/feedback", json={"request_id": second.json()["request_id"], "rating": "good"}),
                        lb("POST", "/v1/feedback", json={"request_id": first.json()["request_id"], "rating": "bad"}),
                    ]
                    return {
                        "a": a,
                        "b": b,
                        "sent": lb.sent,
                        "created": created,
                        "seen_on_b": seen_on_b,
                        "runs": [first, second],
                        "views": views,
                        "rated": rated,
                    }

            out = await anyio.to_thread.run_sync(run)
    a, b = out["a"], out["b"]
    assert out["sent"] == [a, b, a, b, a, b, a, b]
    assert out["created"].status_code == 201 and out["seen_on_b"].status_code == 200, out["seen_on_b"].text
    first, second = out["runs"]
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    assert first.json()["result"]["answer"] == "Staging uses port 8443."
    assert second.json()["result"]["answer"] == "Still 8443."

    # B's model request held A's turns: the question, the tool call and its result, the answer
    assert len(llm.requests) == 4
    on_b = llm.requests[2]["messages"]
    assert [m["role"] for m in on_b if m["role"] != "system"] == ["user", "assistant", "tool", "assistant", "user"]
    contents = [m.get("content") or "" for m in on_b]
    assert "Which port does staging use?" in contents and "Staging uses port 8443." in contents
    assert any("port: 8443" in c for c in contents) and contents[-1] == "Check it again, please."

    # either replica shows every turn, in order; the second read was a cache hit on B (stored by A, in Redis)
    for view in out["views"]:
        assert view.status_code == 200, view.text
        turns = view.json()["turns"]
        assert [t["kind"] for t in turns] == ["user", "assistant", "tool", "assistant"] * 2
        assert [t["result"]["cached"] for t in turns if t["kind"] == "tool"] == [False, True]
    assert out["views"][0].json() == out["views"][1].json()

    # feedback on B for A's run (and on A for B's) is accepted: trajectories are shared in PostgreSQL
    assert [r.status_code for r in out["rated"]] == [201, 201], [r.text for r in out["rated"]]
    store = PostgresTrajectoryStore(dsn)
    try:
        ratings = [[f.rating for f in await store.feedback(r.json()["request_id"])] for r in out["runs"]]
    finally:
        store.close()
    assert ratings == [["bad"], ["good"]]


async def test_rotating_the_data_key_seals_postgres_sessions_again(
    pg: PostgresServer, schema: str, tmp_path: Path
) -> None:
    keys = tmp_path / "data-keys.json"
    ring = KeyRing.load(keys, create=True)
    store = PostgresSessionStore(pg.dsn(), Sealer(ring), schema=schema)
    try:
        t = await store.open("ops")
        t.add(UserTurn(text=f"the code is {SECRET}"))
        t.add(AssistantTurn(text="noted"))
        await store.save(t)
    finally:
        store.close()
    env = {
        **{k: v for k, v in os.environ.items() if k != "K2_DATA_KEY"},
        "K2_SESSIONS_STORE": "postgres",
        "K2_LEARNING_DSN": pg.dsn(),
        "K2_LEARNING_PG_SCHEMA": schema,
        "K2_STORAGE_KEY_FILE": str(keys),
    }
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-m", "k2_host", "--state-dir", str(tmp_path / "state"), "keys", "rotate-data"],
            env=env,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()
    assert "sealed again: 3 sessions" in done.stderr.decode()  # two turns and the title
    rotated = KeyRing.load(keys, create=False)
    assert rotated.current != ring.current
    only_new = KeyRing({rotated.current: rotated.keys[rotated.current]}, rotated.current)  # the old key gone
    store = PostgresSessionStore(pg.dsn(), Sealer(only_new), schema=schema)
    try:
        assert [getattr(turn, "text", None) for turn in (await store.open("ops")).turns] == [
            f"the code is {SECRET}",
            "noted",
        ]
    finally:
        store.close()
