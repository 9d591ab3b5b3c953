"""The audit log: one JSON line per operation, each carrying the hash of the one before it.

A record: `seq` (from 1), `ts`, `action` (`request`, `tool_call`, `permission_denied`, `key_created`, ...),
`actor` and `role`, the action's own fields, `prev` (the previous record's `hash`, 64 zeros for the first) and
`hash` = SHA-256 over `prev` and the canonical JSON of the record without `hash`. Editing a record breaks its
hash; deleting or reordering records breaks the chain; cutting records off the end is caught by the head file
(`audit.jsonl.head`: the last `seq` and `hash`, replaced atomically after every append). What is logged is who
did what to which thing and how it ended — never message texts, tool arguments or secrets.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hash(prev: str, record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(prev.encode() + b"\n" + _canonical(body)).hexdigest()


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_name(path.name + ".head")
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._seq, self._prev = self._read_head()

    def _read_head(self) -> tuple[int, str]:
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(head["seq"]), str(head["hash"])
        except FileNotFoundError:
            if self.path.exists() and self.path.stat().st_size > 0:
                raise ValueError(
                    f"the audit log {str(self.path)!r} has records but no head file; run `k2 audit verify`"
                ) from None
            return 0, GENESIS
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the audit head {str(self.head_path)!r} cannot be read: {exc}") from None

    def append(self, action: str, actor: str, role: str | None = None, **fields: Any) -> dict[str, Any]:
        """Add one record. Appends from several processes (`k2 serve` and `k2 keys` on one state dir) are
        serialised by an exclusive lock on the log, and each starts from the head on disk."""
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._seq, self._prev = self._read_head()
                record: dict[str, Any] = {
                    "seq": self._seq + 1,
                    "ts": round(time.time(), 6),
                    "action": action,
                    "actor": actor,
                    "role": role,
                    **fields,
                    "prev": self._prev,
                }
                record["hash"] = _hash(self._prev, record)
                os.write(fd, (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
                self._seq, self._prev = record["seq"], record["hash"]
                self._write_head()
            finally:
                os.close(fd)  # (releases the lock)
        return record

    def _write_head(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".audit-head-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"seq": self._seq, "hash": self._prev}, f)
            os.replace(tmp, self.head_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class Verification:
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(path: Path) -> Verification:
    """Walk the whole log: every hash, every link, the numbering, and the head."""
    out = Verification()
    prev, seq = GENESIS, 0
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        lines = []
    for number, raw in enumerate(lines, 1):
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            out.problems.append(f"line {number}: not a JSON record ({exc})")
            break
        out.records += 1
        if record.get("seq") != seq + 1:
            out.problems.append(
                f"line {number}: seq {record.get('seq')!r} where {seq + 1} was due (a record is missing or moved)"
            )
        if record.get("prev") != prev:
            out.problems.append(f"line {number}: does not link to the record before it (deleted, moved or inserted)")
        if record.get("hash") != _hash(str(record.get("prev")), record):
            out.problems.append(f"line {number} (seq {record.get('seq')!r}): its contents were changed")
        prev, seq = str(record.get("hash")), int(record.get("seq") or 0)
    head_path = path.with_name(path.name + ".head")
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
        if (head.get("seq"), head.get("hash")) != (seq, prev):
            out.problems.append(
                f"the head says the log ends at seq {head.get('seq')}, the file ends at seq {seq}: "
                "records were cut off the end or the file was replaced"
            )
    except FileNotFoundError:
        if out.records:
            out.problems.append("the head file is missing")
    except (OSError, ValueError, AttributeError) as exc:
        out.problems.append(f"the head file cannot be read: {exc}")
    return out
