"""Sessions in PostgreSQL (`sessions.store: postgres`), for several hosts (replicas) to share.

    sessions: {store: postgres}
    learning: {dsn: "postgresql://k2@db/k2", pg_schema: public}     # or K2_SESSIONS_STORE, K2_LEARNING_DSN

The sessions go to the database the training layer uses (`learning.dsn`, schema `learning.pg_schema`), in the
tables k2_sessions and k2_turns: `PostgresSessionStore` is `SQLSessionStore`'s logic over the learning stores'
`PostgresDatabase` (the same pool, statement mapping and table making), its tables mapped here. Titles and
turns are sealed exactly as in SQLite (AES-256-GCM, with the session and turn as associated data).
"""

from __future__ import annotations

import re

from k2_host.config.model import LearningConfig
from k2_host.context.transcript import SQLSessionStore
from k2_host.errors import ConfigError
from k2_host.learning.postgres import PostgresDatabase, require_dsn
from k2_host.sealing import PLAIN, Sealer

_TABLES = re.compile(r"\b(sessions|turns)\b")

_SESSION_TABLES = (
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        owner TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS k2_sessions_owner ON sessions (owner, updated_at)",
    """CREATE TABLE IF NOT EXISTS turns (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
)


class _SessionDatabase(PostgresDatabase):
    """`PostgresDatabase` with the session tables' names mapped to `<pg_schema>.k2_<name>`."""

    def map(self, statement: str) -> str:
        return _TABLES.sub(lambda m: self._prefix + m.group(1), super().map(statement))


class PostgresSessionStore(SQLSessionStore):
    """Sessions and their turns in k2_sessions / k2_turns."""

    def __init__(self, dsn: str, sealer: Sealer = PLAIN, *, schema: str = "public") -> None:
        super().__init__(_SessionDatabase(dsn, schema, _SESSION_TABLES), sealer)


def open_postgres_sessions(config: LearningConfig, sealer: Sealer = PLAIN) -> PostgresSessionStore:
    """The sessions in the database of `learning.dsn`, or a ConfigError saying where to give it."""
    try:
        dsn = require_dsn(config)
    except ConfigError:  # (its message speaks of learning.store)
        raise ConfigError(
            "sessions.store is postgres but learning.dsn is not set: sessions go to the training layer's "
            "database; give its connection string (e.g. postgresql://k2@db/k2) in the config file's learning "
            "section, as K2_LEARNING_DSN, or with --set learning.dsn=..."
        ) from None
    return PostgresSessionStore(dsn, sealer, schema=config.pg_schema)
