"""`k2 serve`: where the API may bind, and running it under uvicorn.

Rules, checked before anything starts: `auth=False` only on loopback; with auth on, at least one live API key
or a JWT key must exist; beyond loopback, TLS (`--tls-cert`/`--tls-key`) unless the user says a TLS proxy is
in front (`--insecure-no-tls`). SIGINT/SIGTERM stop taking requests, let running ones finish for up to
`grace_s` seconds, cancel the rest, then close the runtime (servers, stores).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from k2_shared.http import bind_socket
from k2_shared.settings import is_loopback

from k2_host.api.app import ApiService, ApiSettings
from k2_host.api.audit import AuditLog
from k2_host.api.keys import KeyStore
from k2_host.errors import ConfigError
from k2_host.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass
class Tls:
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False  # beyond loopback without TLS: the user says a TLS proxy is in front


def api_files(state_dir: Path) -> tuple[KeyStore, AuditLog]:
    folder = state_dir / "api"
    return KeyStore(folder / "keys.json"), AuditLog(folder / "audit.jsonl")


def check_binding(settings: ApiSettings, keys: KeyStore, tls: Tls) -> None:
    loopback = is_loopback(settings.host)
    if not settings.auth and not loopback:
        raise ConfigError(f"--no-auth is for loopback only; {settings.host!r} is not a loopback address")
    if settings.auth and settings.jwt_key is None and keys.active() == 0:
        raise ConfigError(
            "no API key exists yet: create one with `k2 keys create --role admin` (or configure JWTs with "
            "--jwt-secret-file / --jwt-public-key-file), or serve loopback only with --no-auth"
        )
    if (tls.cert is None) != (tls.key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    for path in (tls.cert, tls.key):
        if path is not None and not path.is_file():
            raise ConfigError(f"TLS file {str(path)!r} does not exist")
    if not loopback and tls.cert is None and not tls.insecure:
        raise ConfigError(
            f"serving {settings.host!r} beyond loopback needs TLS: --tls-cert FILE --tls-key FILE "
            "(or --insecure-no-tls when a TLS proxy is in front)"
        )


async def serve(
    runtime: Runtime, settings: ApiSettings, keys: KeyStore, audit: AuditLog, tls: Tls, *, grace_s: float = 30.0
) -> None:
    check_binding(settings, keys, tls)
    service = ApiService(runtime, keys, audit, settings)
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    scheme = "https" if tls.cert is not None else "http"
    host = f"[{settings.host.strip('[]')}]" if ":" in settings.host else settings.host
    config = uvicorn.Config(
        service.app(),
        http="h11",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(grace_s),
        server_header=False,
        ssl_certfile=str(tls.cert) if tls.cert else None,
        ssl_keyfile=str(tls.key) if tls.key else None,
    )
    print(f"k2 serve: {scheme}://{host}:{port}/v1 (OpenAI-compatible; model 'k2')", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])
