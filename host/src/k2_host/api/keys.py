"""API keys of the REST API: each has an id, a name, a role; only a SHA-256 digest of the secret is stored.

A key reads `k2_<id>_<secret>` (the id is public, the secret 32 random bytes). The store is one JSON file,
written atomically with mode 0600 and read again when it changes on disk, so `k2 keys revoke` takes effect in
a running server at its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from k2_host.api.roles import ROLES
from k2_host.sealing import write_private

KEY_RE = re.compile(r"k2_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    digest: str  # sha256 of the whole key, hex
    created: float
    revoked: float | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._keys: dict[str, ApiKey] = {}

    # -- reading

    def _load(self) -> dict[str, ApiKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._seen, self._keys = None, {}
            return self._keys
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._seen:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                keys = {k["id"]: ApiKey(**k) for k in raw.get("keys", [])}
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"the API key file {str(self.path)!r} cannot be read: {exc}") from None
            self._seen, self._keys = stamp, keys
        return self._keys

    def list(self) -> list[ApiKey]:
        with self._lock:
            return sorted(self._load().values(), key=lambda k: k.created)

    def active(self) -> int:
        return sum(1 for k in self.list() if k.revoked is None)

    def verify(self, token: str) -> ApiKey | None:
        """The key `token` is, if it is a live one (the digest compared in constant time)."""
        m = KEY_RE.fullmatch(token)
        if m is None:
            return None
        with self._lock:
            key = self._load().get(m.group(1))
        if key is None or key.revoked is not None:
            return None
        return key if hmac.compare_digest(_digest(token), key.digest) else None

    # -- writing

    def create(self, name: str, role: str) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and never stored."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        name = name.strip() or "key"
        if len(name) > 100 or any(ord(c) < 32 for c in name):
            raise ValueError("a key name is at most 100 printable characters")
        with self._lock:
            keys = dict(self._load())
            key_id = secrets.token_hex(6)
            while key_id in keys:
                key_id = secrets.token_hex(6)
            secret = f"k2_{key_id}_{secrets.token_urlsafe(32)}"
            key = ApiKey(id=key_id, name=name, role=role, digest=_digest(secret), created=time.time())
            keys[key_id] = key
            self._write(keys)
        return key, secret

    def revoke(self, key_id: str) -> bool:
        with self._lock:
            keys = dict(self._load())
            key = keys.get(key_id)
            if key is None or key.revoked is not None:
                return False
            keys[key_id] = ApiKey(**{**asdict(key), "revoked": time.time()})
            self._write(keys)
        return True

    def _write(self, keys: dict[str, ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps({"version": 1, "keys": [asdict(k) for k in keys.values()]}, indent=1)
        write_private(self.path, body)
        self._seen = None
        self._keys = keys
