"""The training layer's stores in a real PostgreSQL server: the same behaviour as the SQLite stores (the
trajectory tests run on both), sealing as stored, a batch that lands whole or not at all, two replicas on one
database, the configuration and its errors, and a host that records its answers there."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import LiteralString

import anyio
import numpy as np
import psycopg
import pytest
from k2_host.agent import Agent
from k2_host.config import load_host_config
from k2_host.config.model import LearningConfig
from k2_host.errors import ConfigError
from k2_host.learning.experience import Experience
from k2_host.learning.experiences import ExperienceStore
from k2_host.learning.postgres import PostgresExperienceStore, PostgresTrajectoryStore
from k2_host.learning.redact import REDACTED
from k2_host.learning.store import Feedback, SQLiteTrajectoryStore, SQLTrajectoryStore, open_trajectory_store
from k2_host.learning.trajectory import Trajectory
from k2_host.runtime import open_experience_store
from k2_host.sealing import KeyRing, Sealer
from psycopg import sql

from tests.host.pg_support import PostgresServer, postgres_server

pytestmark = pytest.mark.anyio

SECRET = "zebra-quota-8443"  # must never be stored in plain text when sealing is on


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    """One PostgreSQL server for every test here (each test works in a schema of its own)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def schema(pg: PostgresServer) -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sealer(tmp_path: Path) -> Sealer:
    return Sealer(KeyRing.load(tmp_path / "data-keys.json", create=True))


@pytest.fixture(params=["sqlite", "postgres"])
async def trajectories(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLTrajectoryStore]:
    """A trajectory store keeping 3 trajectories, on each backend: the same tests hold for both."""
    if request.param == "sqlite":
        store: SQLTrajectoryStore = SQLiteTrajectoryStore(tmp_path / "k2.sqlite", capacity=3)
    else:
        server: PostgresServer = request.getfixturevalue("pg")
        store = PostgresTrajectoryStore(server.dsn(), capacity=3, schema=request.getfixturevalue("schema"))
    yield store
    store.close()


def trajectory(i: int, **kw: object) -> Trajectory:
    base: dict[str, object] = {"id": f"t{i}", "query": f"question {i}", "engine": "offline", "started_at": 100.0 + i}
    return Trajectory.model_validate({**base, **kw})


def experience(i: int, **kw: object) -> Experience:
    base: dict[str, object] = {
        "id": f"e{i}",
        "query": f"request number {i}",
        "target": "file-checksums",
        "reward": 1.0,
        "source": "verifier",
        "split": "train",
        "at": 10.0 + i,
    }
    return Experience.model_validate({**base, **kw})


def rows(pg: PostgresServer, schema: str, query: LiteralString) -> list[tuple[object, ...]]:
    """Raw rows, as the database holds them (`query` names the schema as {})."""
    with psycopg.connect(pg.dsn()) as con:
        return con.execute(sql.SQL(query).format(sql.Identifier(schema))).fetchall()


# ------------------------------------------------------------------------------------------------ trajectories


async def test_trajectories_are_added_listed_and_read_back_with_their_feedback(
    trajectories: SQLTrajectoryStore,
) -> None:
    store = trajectories
    await store.add(trajectory(1, session_id="s1"))
    await store.add(trajectory(2, session_id="s2", parent_id="t1"))
    await store.add(trajectory(3, session_id="s1", parent_id="t1"))
    got = await store.get("t2")
    assert got is not None and got.query == "question 2" and got.parent_id == "t1"
    assert await store.get("nope") is None
    assert [t.id for t in await store.list()] == ["t3", "t2", "t1"] and await store.count() == 3
    assert [t.id for t in await store.list(session_id="s1")] == ["t3", "t1"]
    assert [t.id for t in await store.list(parent_id="t1", limit=1)] == ["t3"]
    assert [t.id for t in await store.since(101.0)] == ["t2", "t3"] and await store.since(103.0) == []
    summary = (await store.list(session_id="s2"))[0]
    assert (summary.query, summary.session_id, summary.started_at) == ("question 2", "s2", 102.0)

    assert await store.add_feedback(Feedback(trajectory_id="t1", rating="bad", note="wrong", by="local", at=5.0))
    assert await store.add_feedback(Feedback(trajectory_id="t2", rating="good", skill="file-checksums", at=6.0))
    assert not await store.add_feedback(Feedback(trajectory_id="nope", rating="good"))
    (one,) = await store.feedback("t1")
    assert (one.rating, one.note, one.by, one.at) == ("bad", "wrong", "local", 5.0)
    assert [(f.trajectory_id, f.skill) for f in await store.feedback_since(0.0)] == [
        ("t1", ""),
        ("t2", "file-checksums"),
    ]
    assert [f.trajectory_id for f in await store.feedback_since(5.0)] == ["t2"]
    assert len(await store.feedback_since(0.0, limit=1)) == 1


async def test_the_newest_trajectories_stay_and_their_feedback_goes_with_them(trajectories: SQLTrajectoryStore) -> None:
    store = trajectories
    await store.add(trajectory(0))
    assert await store.add_feedback(Feedback(trajectory_id="t0", rating="good", at=1.0))
    for i in range(1, 5):
        await store.add(trajectory(i))
    assert [t.id for t in await store.list()] == ["t4", "t3", "t2"] and await store.count() == 3
    assert await store.get("t0") is None and await store.feedback("t0") == []
    assert await store.add_feedback(Feedback(trajectory_id="t4", rating="bad", at=2.0))
    await store.add(trajectory(4, query="asked again"))  # the same trajectory again replaces it, feedback and all
    again = await store.get("t4")
    assert again is not None and again.query == "asked again" and await store.feedback("t4") == []


async def test_trajectories_and_notes_are_sealed_in_the_database_and_reseal(
    pg: PostgresServer, schema: str, sealer: Sealer
) -> None:
    store = PostgresTrajectoryStore(pg.dsn(), sealer=sealer, schema=schema)
    try:
        await store.add(trajectory(1, query=f"where is {SECRET}?"))
        assert await store.add_feedback(Feedback(trajectory_id="t1", rating="bad", note=f"{SECRET} is in app.log"))
        ((query, data),) = rows(pg, schema, "SELECT query, data FROM {}.k2_trajectories")
        ((note,),) = rows(pg, schema, "SELECT note FROM {}.k2_feedback")
        assert isinstance(query, str) and isinstance(data, bytes) and isinstance(note, str)
        assert query.startswith("k2e1:") and data.startswith(b"K2E1") and note.startswith("k2e1:")
        assert SECRET not in query + note and SECRET.encode() not in data
        got = await store.get("t1")
        assert got is not None and got.query == f"where is {SECRET}?"
        assert (await store.list())[0].query == f"where is {SECRET}?"
        assert (await store.feedback("t1"))[0].note == f"{SECRET} is in app.log"
        assert await store.reseal() == 0  # all sealed with the current key
        assert sealer.ring is not None
        sealer.ring.rotate()
        assert await store.reseal() == 2 and await store.reseal() == 0
        assert (await store.feedback("t1"))[0].note == f"{SECRET} is in app.log"
    finally:
        store.close()


# ------------------------------------------------------------------------------------------------ experiences


def test_experiences_are_stored_once_and_the_replay_survives_a_reopen(pg: PostgresServer, schema: str) -> None:
    store = PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    exps = [experience(i) for i in range(30)] + [experience(30, split="test", target=None, source="feedback")]
    assert len(store.add(exps)) == 31 and store.add(exps[:5]) == []  # the same experience is stored once
    assert len(store.replay) == 30  # the test split never enters the buffer
    store.update_priorities(np.array([0, 1]), np.array([0.0, 3.0]))
    before = sorted(store.replay.state())
    assert store.counts() == {"verifier": 30, "feedback": 1}
    assert [e.id for e in store.experiences(split="test")] == ["e30"]
    assert len(store.experiences(labelled=True)) == 30 and store.experiences()[0].id == "e0"
    got = store.get_many(["e3", "e30", "missing"])
    assert sorted(got) == ["e3", "e30"] and got["e3"].query == "request number 3" and got["e30"].target is None
    store.set_meta("last_collect", "12.5")
    store.set_meta("last_collect", "13.5")
    store.close()

    again = PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    try:
        after = sorted(again.replay.state())
        assert [(s, k) for s, k, _ in after] == [(s, k) for s, k, _ in before]
        assert [p for _, _, p in after] == pytest.approx([p for _, _, p in before])
        assert again.replay.priority(1) == pytest.approx(3.0 + again.replay.eps)
        again.add([experience(99, query="one more request", reward=-1.0, source="feedback")])
        assert "e99" in {k for _, k, _ in again.replay.state()} and len(again.replay) == 31
        assert again.meta("last_collect") == "13.5" and again.meta("nothing") is None
        again.set_status(again.add_version("candidate", [("q", "file-checksums", 1.0)], {}), "current")
        summary = again.summary()  # what /metrics shows, counted by the database
        assert summary["replay"] == 31 and summary["experiences"] == {"verifier": 30, "feedback": 2}
        assert summary["versions"] == {"current": 1} and summary["last_gate"][0] is True
    finally:
        again.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_good_experiences_are_counted_and_read_from_a_time_on(
    backend: str, pg: PostgresServer, schema: str, tmp_path: Path
) -> None:
    store = (
        ExperienceStore(tmp_path / "k2.sqlite")
        if backend == "sqlite"
        else PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    )
    try:
        assert store.good_mark() == (0, None) and store.good() == []
        store.add(
            [
                experience(1, trajectory_id="t1", source="feedback"),
                experience(2, trajectory_id="t2", source="correction", at=30.0),
                experience(3, trajectory_id="t3"),  # a verifier's pass
                experience(4, trajectory_id="t4", source="feedback", reward=-1.0),  # rated bad
                experience(5, trajectory_id="t5", source="tool_error", reward=-0.5),
                experience(6, source="verifier"),  # no answer to show
                experience(7, trajectory_id="", source="feedback"),
            ]
        )
        assert store.good_mark() == (3, 30.0)
        assert [e.id for e in store.good()] == ["e1", "e3", "e2"]  # oldest first
        assert [e.id for e in store.good(13.0)] == ["e3", "e2"] and store.good(30.5) == []
    finally:
        store.close()


def test_a_batch_of_experiences_lands_whole_or_not_at_all(pg: PostgresServer, schema: str) -> None:
    store = PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    try:
        store.add([experience(0)])
        store._PUT_SLOT = "INSERT INTO replay VALUES (?, ?, ?, 'one value too many')"  # pyright: ignore[reportAttributeAccessIssue] (fails after the rows)
        with pytest.raises(psycopg.Error):
            store.add([experience(1), experience(2)])
        del store._PUT_SLOT
        assert store.get_many(["e1", "e2"]) == {} and [k for _, k, _ in store.replay.state()] == ["e0"]
        assert len(store.add([experience(1), experience(2)])) == 2 and len(store.replay) == 3
    finally:
        store.close()


def test_versions_and_lessons_are_kept_sealed(pg: PostgresServer, schema: str, sealer: Sealer) -> None:
    store = PostgresExperienceStore(pg.dsn(), sealer=sealer, schema=schema)
    try:
        store.add([experience(1, query=f"checksum of {SECRET}", note=f"{SECRET} was wrong")])
        first = store.add_version("candidate", [(f"my {SECRET} query", "file-checksums", 1.0)], {"x": 1}, "trained")
        second = store.add_version("candidate", [("another query", "none", 0.5)], {"x": 2})
        assert second == first + 1 and store.current_version() is None
        store.set_status(first, "current")
        store.set_status(second, "current", reason="better on the gate")
        current = store.current_version()
        assert current is not None and current.id == second and current.reason == "better on the gate"
        assert [(v.id, v.status) for v in store.versions()] == [(first, "retired"), (second, "current")]
        old = store.version(first)
        assert old is not None and old.pairs == [(f"my {SECRET} query", "file-checksums", 1.0)]
        assert old.report == {"x": 1} and store.version(12345) is None
        store.update_report(first, {"x": 1, "gate": "passed"})
        updated = store.version(first)
        assert updated is not None and updated.report == {"x": 1, "gate": "passed"}

        lid = store.add_lesson(f"{SECRET} dates are in UTC", "date-calculator", "e1")
        assert lid is not None and store.add_lesson(f"{SECRET} Dates are in UTC ", "date-calculator", "e2") is None
        other = store.add_lesson("say which file", "", "e3")
        assert other is not None
        store.count_lesson(lid, helpful=False)
        store.count_lesson(lid, helpful=False)
        lessons = store.lessons()
        assert [(x.id, x.text, x.helpful, x.harmful, x.score) for x in lessons] == [
            (lid, f"{SECRET} dates are in UTC", 1, 2, -1),
            (other, "say which file", 0, 0, 0),
        ]
        store.drop_lesson(other)
        assert [x.id for x in store.lessons()] == [lid]
        got = store.get_many(["e1"])["e1"]
        assert got.query == f"checksum of {SECRET}" and got.note == f"{SECRET} was wrong"
    finally:
        store.close()
    raw = [
        *rows(pg, schema, "SELECT query, note FROM {}.k2_experiences"),
        *rows(pg, schema, "SELECT pairs FROM {}.k2_router_versions"),
        *rows(pg, schema, "SELECT text FROM {}.k2_lessons"),
    ]
    values = [str(v) for row in raw for v in row]
    assert len(values) == 5 and all(v.startswith("k2e1:") for v in values)
    assert not any(SECRET in v for v in values)


# ------------------------------------------------------------------------------------------------ replicas


async def test_two_replicas_on_one_database_see_each_others_writes(pg: PostgresServer, schema: str) -> None:
    one = PostgresTrajectoryStore(pg.dsn(), schema=schema)
    two = PostgresTrajectoryStore(pg.dsn(), schema=schema)
    a = PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    b = PostgresExperienceStore(pg.dsn(), capacity=64, schema=schema)
    try:
        await one.add(trajectory(1))
        assert await two.add_feedback(Feedback(trajectory_id="t1", rating="good", at=7.0))
        assert [f.at for f in await one.feedback("t1")] == [7.0] and [t.id for t in await two.list()] == ["t1"]

        assert len(b.replay) == 0  # b has its buffer in memory ...
        a.add([experience(1)])
        assert [k for _, k, _ in b.replay.state()] == ["e1"]  # ... and reads it again once a wrote to it
        b.add([experience(2)])  # b writes after a: the next slot, not a's
        a.add([experience(3)])
        b.update_priorities(np.array([0]), np.array([5.0]))
        expected = [(0, "e1"), (1, "e2"), (2, "e3")]
        for store in (a, b):
            assert [(s, k) for s, k, _ in sorted(store.replay.state())] == expected
            assert store.replay.priority(0) == pytest.approx(5.0 + store.replay.eps)
        assert set(a.get_many(["e1", "e2", "e3"])) == {"e1", "e2", "e3"}

        vid = a.add_version("candidate", [("q", "file-checksums", 1.0)], {})
        assert b.current_version() is None
        a.set_status(vid, "current")
        current = b.current_version()
        assert current is not None and current.id == vid and current.pairs == [("q", "file-checksums", 1.0)]
        b.set_status(vid, "rejected", reason="rolled back")  # a rollback on the other replica
        rejected = a.version(vid)
        assert a.current_version() is None and rejected is not None and rejected.reason == "rolled back"
        lid = b.add_lesson("answer in UTC", "", "e1")
        assert [x.id for x in a.lessons()] == [lid]
    finally:
        for store in (one, two, a, b):
            store.close()


def test_replicas_writing_at_once_take_turns_on_the_buffer(pg: PostgresServer, schema: str) -> None:
    stores = [PostgresExperienceStore(pg.dsn(), capacity=256, schema=schema) for _ in range(3)]
    try:

        def write(n: int) -> None:
            for i in range(10):
                stores[n].add([experience(100 * n + i)])

        with ThreadPoolExecutor(3) as pool:
            list(pool.map(write, range(3)))
        for store in stores:
            state = sorted(store.replay.state())
            assert [s for s, _, _ in state] == list(range(30))  # every slot once: no write lost or overwritten
            assert {k for _, k, _ in state} == {f"e{100 * n + i}" for n in range(3) for i in range(10)}
    finally:
        for store in stores:
            store.close()


# ------------------------------------------------------------------------------------------------ configuration


async def test_store_postgres_without_a_dsn_is_a_config_error_and_the_dsn_comes_from_the_environment(
    tmp_path: Path,
) -> None:
    config = load_host_config(None, root=tmp_path, state=tmp_path / "state", env={"K2_LEARNING_STORE": "postgres"})
    with pytest.raises(ConfigError, match=r"learning\.dsn is not set.*K2_LEARNING_DSN"):
        open_trajectory_store(config.learning, config.state_dir)
    with pytest.raises(ConfigError, match=r"learning\.dsn is not set"):
        open_experience_store(config)
    with pytest.raises(ConfigError, match=r"learning\.dsn is not set"):
        Agent(config)
    env = {"K2_LEARNING_STORE": "postgres", "K2_LEARNING_DSN": "postgresql://k2:pw-123456@db/k2"}
    config = load_host_config(None, root=tmp_path, env=env)
    assert config.learning.dsn is not None and config.learning.dsn.get_secret_value() == env["K2_LEARNING_DSN"]
    assert "pw-123456" not in repr(config) and "pw-123456" not in config.model_dump_json()
    with pytest.raises(ConfigError, match="K2_LEARNING_PG_SCHEMA"):
        load_host_config(None, root=tmp_path, env={**env, "K2_LEARNING_PG_SCHEMA": "x; DROP TABLE y"})


async def test_an_unreachable_server_is_a_config_error_naming_host_and_port_not_the_password() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = LearningConfig.model_validate(
        {"store": "postgres", "dsn": f"postgresql://k2:hunter2-secret@127.0.0.1:{port}/k2"}
    )
    for opener in (PostgresTrajectoryStore.open, PostgresExperienceStore.open):
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}") as err:
            opener(config)
        assert "hunter2-secret" not in str(err.value) and "learning.dsn" in str(err.value)
    with pytest.raises(ConfigError, match="not a PostgreSQL connection string") as err:
        PostgresTrajectoryStore("host=db password=hunter2-secret port")
    assert "hunter2-secret" not in str(err.value)


def test_a_user_who_may_not_make_the_tables_gets_a_config_error_naming_the_schema(pg: PostgresServer) -> None:
    role = f"r_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.dsn(), autocommit=True) as con:
        con.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # the default from PostgreSQL 15 on
        con.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    dsn = f"postgresql://{role}@127.0.0.1:{pg.port}/postgres"
    with pytest.raises(ConfigError, match=r"cannot make the k2_ tables in schema 'public'.*permission denied"):
        PostgresExperienceStore(dsn)
    with pytest.raises(ConfigError, match=r"schema 'k2_own'.*permission denied"):
        PostgresTrajectoryStore(dsn, schema="k2_own")  # nor a schema of its own


@pytest.mark.slow
async def test_a_host_on_store_postgres_records_its_answers_there(pg: PostgresServer, tmp_path: Path) -> None:
    database = f"k2_{uuid.uuid4().hex[:8]}"
    pg.create_database(database)
    password = "pg-pass-7781"  # trust auth takes any; the host must keep it out of what it records
    dsn = pg.dsn(database, password=password)
    root = tmp_path / "proj"
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "staging.yaml").write_text("server:\n  host: staging.internal.example\n  port: 8443\n")
    overrides = {"learning": {"store": "postgres", "dsn": dsn}}
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=root, state_dir=tmp_path / "state", overrides=overrides) as agent:
            assert isinstance(agent.runtime.experiences, PostgresExperienceStore)
            assert agent.runtime.redactor().text(f"a {password} and {dsn}") == f"a {REDACTED} and {REDACTED}"
            result = await agent.ask(f"Which port does the staging server use? ({password})")
            store = agent.trajectories
            assert isinstance(store, PostgresTrajectoryStore)
            (summary,) = await store.list()
            recorded = await store.get(summary.id)
    assert "8443" in result.answer and summary.id == result.request_id
    assert recorded is not None and password not in recorded.model_dump_json() and REDACTED in summary.query
    local = tmp_path / "state" / "k2.sqlite"  # the skills' proficiency stays there; no learning table does
    tables = sqlite3.connect(local).execute("SELECT name FROM sqlite_master").fetchall() if local.exists() else []
    assert not {"trajectories", "feedback", "experiences", "replay"} & {t for (t,) in tables}
    with psycopg.connect(pg.dsn(database)) as con:
        ((count, query),) = con.execute("SELECT count(*), min(query) FROM public.k2_trajectories").fetchall()
    assert count == 1 and query.startswith("k2e1:")  # sealed under the host's data key, as in SQLite


def test_the_sqlite_experience_store_is_the_one_by_default(tmp_path: Path) -> None:
    config = load_host_config(None, root=tmp_path, state=tmp_path / "state", env={})
    store = open_experience_store(config)
    try:
        assert type(store) is ExperienceStore and (tmp_path / "state" / "k2.sqlite").exists()
    finally:
        store.close()
