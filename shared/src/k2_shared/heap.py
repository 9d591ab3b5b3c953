"""Garbage-collector settings for a long-running K2 process (a server, a host serving requests)."""

from __future__ import annotations

import gc
import threading

_settled = False
_lock = threading.Lock()


def settle_heap() -> None:
    """Move what start-up built (modules, schemas, the server or the host's runtime: 100,000-400,000 objects
    that live as long as the process) out of the garbage collector's sight, so a full collection no longer
    walks them all - 0.1-0.25 s here, a pause in the middle of whichever calls are in flight. (A
    `gc.collect()` first would find only a few hundred objects to free, for as long a pause at every start.)

    And collect the young generation every 10,000 allocations rather than 700: a tool call or a model step
    allocates a few thousand short-lived objects (a listing's rows, the result's dicts, a request's messages),
    which at 700 meant a collection in nearly every call; what lives through one is still collected at the
    next."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def settle_heap_once() -> bool:
    """`settle_heap()` the first time it is called in this process; whether it did now."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
    settle_heap()
    return True
