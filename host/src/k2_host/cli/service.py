"""`k2 serve`, `k2 keys` and `k2 audit`: the host as a service (see `k2_host.api`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from k2_host import paths
from k2_host.api.app import ApiSettings
from k2_host.api.audit import AuditLog, verify
from k2_host.api.roles import ROLES
from k2_host.api.serve import Tls, api_files, serve
from k2_host.cli.context import CliContext
from k2_host.context.spill import SpillStore
from k2_host.errors import ConfigError
from k2_host.learning.store import SQLTrajectoryStore, open_trajectory_store
from k2_host.runtime import build_runtime, open_session_store
from k2_host.sealing import ENV_KEY, KeyRing, Sealer, default_key_file


def _state_dir(ctx: CliContext) -> Path:
    return ctx.config().state_dir or paths.state_dir()


def _jwt_key(args: argparse.Namespace) -> str | bytes | None:
    secret = os.environ.get("K2_API_JWT_SECRET")
    for path, binary in ((args.jwt_secret_file, False), (args.jwt_public_key_file, True)):
        if path is None:
            continue
        try:
            return path.read_bytes() if binary else path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    return secret


async def cmd_serve(args: argparse.Namespace, ctx: CliContext) -> int:
    key = _jwt_key(args)
    if key is not None and not args.jwt_audience:
        raise ConfigError("JWTs need --jwt-audience (the aud claim this server accepts)")
    if isinstance(key, str) and len(key.encode()) < 32:
        raise ConfigError("a JWT secret (--jwt-secret-file or K2_API_JWT_SECRET) must be at least 32 bytes")
    if not 0 < args.approval_timeout <= 86_400:
        raise ConfigError("--approval-timeout: seconds, more than 0 and at most 86400")
    config = ctx.config()
    settings = ApiSettings(
        host=args.host or config.api.host,
        port=config.api.port if args.port is None else args.port,
        auth=not args.no_auth,
        rate_per_minute=args.rate_limit,
        burst=max(1, min(args.rate_limit, 60)),
        max_body_bytes=args.max_body_bytes,
        approval_timeout_s=args.approval_timeout,
        jwt_key=key,
        jwt_audience=args.jwt_audience,
        jwt_issuer=args.jwt_issuer,
        allowed_hosts=args.allowed_host or [],
        allowed_origins=args.allowed_origin or [],
    )
    keys, audit = api_files(config.state_dir or paths.state_dir())
    runtime = build_runtime(config, interactive=False, settle_heap=True)  # a long-running process
    await serve(runtime, settings, keys, audit, Tls(args.tls_cert, args.tls_key, args.insecure_no_tls))
    return 0


async def cmd_keys(args: argparse.Namespace, ctx: CliContext) -> int:
    keys, audit = api_files(_state_dir(ctx))
    if args.keys_command == "create":
        key, secret = keys.create(args.name or args.role, args.role)
        audit.append("key_created", "cli", "admin", key=key.id, key_role=key.role)
        if args.json:
            print(json.dumps({"id": key.id, "name": key.name, "role": key.role, "key": secret}))
        else:
            print(f"created key {key.id} ({key.name}, role {key.role}); it is shown once:", file=sys.stderr)
            print(secret)
        return 0
    if args.keys_command == "rotate-data":
        return await _rotate_data(ctx, audit)
    if args.keys_command == "revoke":
        if not keys.revoke(args.id):
            print(f"k2: no live key {args.id!r}", file=sys.stderr)
            return 1
        audit.append("key_revoked", "cli", "admin", key=args.id)
        print(f"revoked key {args.id}", file=sys.stderr)
        return 0
    rows: list[dict[str, Any]] = [
        {"id": k.id, "name": k.name, "role": k.role, "created": k.created, "revoked": k.revoked} for k in keys.list()
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            state = "revoked" if r["revoked"] else "live"
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created"]))
            print(f"{r['id']}  {r['role']:<8} {state:<7} {when}  {r['name']}")
        if not rows:
            print("no API keys; create one with `k2 keys create --role admin`", file=sys.stderr)
    return 0


async def _rotate_data(ctx: CliContext, audit: AuditLog) -> int:
    config = ctx.config()
    if not config.storage.encrypt:
        raise ConfigError("storage.encrypt is off: there is no data key to rotate")
    if os.environ.get(ENV_KEY):
        raise ConfigError(
            f"{ENV_KEY} is set: it is the current key whatever the key ring says, so a rotation would not take; "
            f"unset {ENV_KEY} to rotate the ring, or change the key you set there yourself"
        )
    ring = KeyRing.load(config.storage.key_file or default_key_file())
    old = ring.current
    new = ring.rotate()
    sealer = Sealer(ring)
    state = config.state_dir or paths.state_dir()
    sessions = open_session_store(config.model_copy(update={"state_dir": state}), sealer)  # SQLite or PostgreSQL
    trajectories = open_trajectory_store(config.learning, state, sealer)
    try:
        counts = {
            "sessions": await sessions.reseal(),
            "trajectories": await trajectories.reseal() if isinstance(trajectories, SQLTrajectoryStore) else 0,
            "tool results": SpillStore(state / "context", sealer).reseal(),
        }
    finally:
        sessions.close()
        trajectories.close()
    audit.append("data_key_rotated", "cli", "admin", old=old.hex(), new=new.hex(), resealed=sum(counts.values()))
    done = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"data key {old.hex()} -> {new.hex()}; sealed again: {done}", file=sys.stderr)
    return 0


async def cmd_audit(args: argparse.Namespace, ctx: CliContext) -> int:
    path = args.file or _state_dir(ctx) / "api" / "audit.jsonl"
    report = verify(path)
    if args.json:
        print(json.dumps({"file": str(path), "records": report.records, "ok": report.ok, "problems": report.problems}))
    elif report.ok:
        print(f"{path}: {report.records} records, the chain holds")
    else:
        print(f"{path}: {report.records} records, {len(report.problems)} problem(s):", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
    return 0 if report.ok else 1


def add_commands(sub: Any) -> None:
    s = sub.add_parser("serve", help="serve the host as an OpenAI-compatible REST API (auth, roles, audit)")
    s.add_argument("--host", help="bind address (default: api.host, 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default: api.port, 8080; 0 picks a free one)")
    s.add_argument("--no-auth", action="store_true", help="no API keys: every caller is admin (loopback only)")
    s.add_argument("--tls-cert", type=Path, help="TLS certificate (PEM)")
    s.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    s.add_argument("--insecure-no-tls", action="store_true", help="beyond loopback without TLS (a proxy does TLS)")
    s.add_argument(
        "--jwt-secret-file", type=Path, help="accept HS256 JWTs signed with this secret (or K2_API_JWT_SECRET)"
    )
    s.add_argument("--jwt-public-key-file", type=Path, help="accept RS256/ES256 JWTs verified with this PEM key")
    s.add_argument("--jwt-audience", help="the aud claim JWTs must carry (required with JWTs)")
    s.add_argument("--jwt-issuer", help="the iss claim JWTs must carry")
    s.add_argument("--rate-limit", type=float, default=600, help="requests per minute per caller (default 600)")
    s.add_argument("--max-body-bytes", type=int, default=1024 * 1024, help="request body cap (default 1 MiB)")
    s.add_argument(
        "--approval-timeout",
        type=float,
        default=300.0,
        help="seconds a paused tool call waits for an approval before it is denied (default 300)",
    )
    s.add_argument(
        "--allowed-host", action="append", metavar="HOST[:PORT]", help="Host header accepted beyond loopback"
    )
    s.add_argument("--allowed-origin", action="append", metavar="ORIGIN", help="Origin header accepted (browsers)")
    s.set_defaults(func=cmd_serve)

    k = sub.add_parser("keys", help="API keys of `k2 serve`")
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = ksub.add_parser("create", help="a new key (printed once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", help="what the key is for")
    ksub.add_parser("list", help="the keys (never their secrets)")
    ksub.add_parser("rotate-data", help="a new data key; sessions, trajectories, kept results sealed again")
    revoke = ksub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    k.set_defaults(func=cmd_keys)

    a = sub.add_parser("audit", help="the audit log of `k2 serve`")
    asub = a.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = asub.add_parser("verify", help="check every record's hash and the chain; exit 1 when it is broken")
    v.add_argument("--file", type=Path, help="the log (default <state dir>/api/audit.jsonl)")
    a.set_defaults(func=cmd_audit)
