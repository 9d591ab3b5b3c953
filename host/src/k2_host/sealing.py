"""Encryption at rest for what the host keeps: transcripts, trajectories and spilled tool results.

AES-256-GCM (the `cryptography` package), a fresh 96-bit nonce per value, and associated data naming where the
value belongs (`sessions/<id>/turn/<seq>`, ...), so a value moved to another row does not open. A sealed value
is `K2E1 | key id (8 bytes) | nonce | ciphertext+tag` (bytes), or `k2e1:` + its base64url (text columns).

Keys: a key ring file (default `<config dir>/k2/data-keys.json`, mode 0600, made on first use) holds every key
by id and names the current one; `K2_DATA_KEY` (base64 of 32 bytes) replaces the current key without a file.
`rotate()` adds a new current key; the stores re-seal their rows with it (`k2 keys rotate-data`) and the old
keys stay in the ring for values not yet re-sealed. A value written before encryption was on (no prefix) still
reads; a sealed value without its key is an error that names the key id.

Plain storage only when the user says so: `storage.encrypt: false` (`K2_STORAGE_ENCRYPT=0`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from k2_host.errors import ConfigError

MAGIC = b"K2E1"
TEXT_PREFIX = "k2e1:"
ENV_KEY = "K2_DATA_KEY"


class SealError(ValueError):
    """A sealed value cannot be opened (unknown key, wrong place, tampered)."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"k2-data-key:" + key).digest()[:8]


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: not base64 (make a key with `openssl rand -base64 32`)") from None
    if len(key) != 32:
        raise ConfigError(f"{where}: an AES-256 key is 32 bytes, this one is {len(key)}")
    return key


@dataclass
class KeyRing:
    keys: dict[bytes, bytes]  # id -> key
    current: bytes
    path: Path | None = None

    @classmethod
    def load(cls, path: Path, *, create: bool = True) -> KeyRing:
        keys: dict[bytes, bytes] = {}
        current: bytes | None = None
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                for kid, text in raw["keys"].items():
                    keys[bytes.fromhex(kid)] = decode_key(text, f"{path} key {kid}")
                current = bytes.fromhex(raw["current"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"the data key ring {str(path)!r} cannot be read: {exc}") from None
            if current not in keys:
                raise ConfigError(f"the data key ring {str(path)!r} names a current key it does not hold")
        env = os.environ.get(ENV_KEY)
        if env:
            key = decode_key(env, ENV_KEY)
            keys[key_id(key)] = key
            current = key_id(key)
        if current is None:
            if not create:
                raise ConfigError(f"no data key: {str(path)!r} does not exist and {ENV_KEY} is not set")
            key = AESGCM.generate_key(bit_length=256)
            keys, current = {key_id(key): key}, key_id(key)
            ring = cls(keys, current, path)
            ring.save()
            return ring
        return cls(keys, current, path)

    def rotate(self) -> bytes:
        """A new current key (saved at once); the old ones stay for reading."""
        key = AESGCM.generate_key(bit_length=256)
        self.keys[key_id(key)] = key
        self.current = key_id(key)
        self.save()
        return self.current

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps(
            {
                "version": 1,
                "current": self.current.hex(),
                "keys": {k.hex(): base64.b64encode(v).decode() for k, v in self.keys.items()},
            },
            indent=1,
        )
        write_private(self.path, body)


def write_private(path: Path, body: str) -> None:
    """Write `body` to `path` whole or not at all, readable by the owner only (mode 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Sealer:
    """Seals and opens values; `Sealer(None)` keeps them plain (and still opens sealed ones it has keys for:
    none)."""

    def __init__(self, ring: KeyRing | None) -> None:
        self.ring = ring
        self._lock = threading.Lock()

    @property
    def encrypting(self) -> bool:
        return self.ring is not None

    def seal(self, data: bytes, where: str) -> bytes:
        if self.ring is None:
            return data
        kid = self.ring.current
        nonce = os.urandom(12)
        return MAGIC + kid + nonce + AESGCM(self.ring.keys[kid]).encrypt(nonce, data, where.encode())

    def open(self, data: bytes, where: str) -> bytes:
        if not data.startswith(MAGIC):
            return data  # written before encryption was on
        kid, nonce, body = data[4:12], data[12:24], data[24:]
        key = self.ring.keys.get(kid) if self.ring is not None else None
        if key is None:
            raise SealError(
                f"{where} is encrypted with data key {kid.hex()}, which this host does not have "
                f"(set {ENV_KEY} or restore the key ring)"
            )
        try:
            return AESGCM(key).decrypt(nonce, body, where.encode())
        except InvalidTag:
            raise SealError(f"{where} does not open: it was changed, or moved from another place") from None

    def seal_text(self, text: str, where: str) -> str:
        if self.ring is None:
            return text
        return TEXT_PREFIX + base64.urlsafe_b64encode(self.seal(text.encode(), where)[4:]).decode()

    def open_text(self, value: str, where: str) -> str:
        if not value.startswith(TEXT_PREFIX):
            return value
        try:
            raw = base64.urlsafe_b64decode(value[len(TEXT_PREFIX) :])
        except (binascii.Error, ValueError):
            raise SealError(f"{where} is not a sealed value") from None
        return self.open(MAGIC + raw, where).decode()

    def is_current(self, value: bytes | str) -> bool:
        """Sealed with the current key (nothing to re-seal)."""
        if self.ring is None:
            return True
        if isinstance(value, str):
            if not value.startswith(TEXT_PREFIX):
                return False
            try:
                raw = MAGIC + base64.urlsafe_b64decode(value[len(TEXT_PREFIX) :])
            except (binascii.Error, ValueError):
                return False
        else:
            raw = bytes(value)
        return raw.startswith(MAGIC) and raw[4:12] == self.ring.current


PLAIN = Sealer(None)


def default_key_file() -> Path:
    from k2_host import paths

    return paths.config_dir() / "data-keys.json"


def sealer_for(encrypt: bool, key_file: Path | None) -> Sealer:
    """The sealer of a configuration (`storage.encrypt`, `storage.key_file`)."""
    if not encrypt:
        return PLAIN
    return Sealer(KeyRing.load(key_file or default_key_file()))
