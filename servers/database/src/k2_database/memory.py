"""The hard memory bound of the server process, which DuckDB's `memory_limit` alone does not give.

DuckDB's `memory_limit` covers its buffer manager only. A value built in one piece (`repeat('x', 10^9)`, a
`string_agg` over a large range) is allocated outside it, and its copies into the result and into a Python
string grew a server with `--memory-limit 1GB` by about 3 GiB. So the server lowers its own `RLIMIT_DATA`
(on Linux it counts the heap and every private writable mapping: what DuckDB's allocator and Python take) to

    bound = max_memory, or else 1.5 x memory_limit + 512 MiB + 8 MiB per DuckDB thread

(measured: an idle server holds about 250 MiB of data mappings, and each DuckDB thread adds its 8 MiB stack).
At the bound an allocation fails instead of growing the process: DuckDB raises its out-of-memory error, Python a
`MemoryError`; the engine turns both into `resource_limit`, the memory is freed, and the next call runs.
The bound is applied by `main()` only, to the server's own process, never at import or by `build_server`.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
BASE_BYTES = 512 * MiB
THREAD_BYTES = 8 * MiB
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")


def parse_size(text: str) -> int:
    """Bytes of a size as DuckDB reads it: `KB`/`MB`/`GB` are powers of 1000, `KiB`/`MiB`/`GiB` of 1024."""
    m = _SIZE.match(text)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None:
        raise ValueError(f"{text!r} is not a size such as 512MB or 4GB")
    return int(float(m.group(1)) * unit)


def default_bound(memory_limit: str, threads: int) -> int:
    return parse_size(memory_limit) * 3 // 2 + BASE_BYTES + THREAD_BYTES * threads


def apply_bound(limit: int) -> int:
    """Lower this process's RLIMIT_DATA (soft and hard) to `limit`, or to a lower limit already set; return it
    (0 where the platform has no resource limits, e.g. Windows)."""
    try:
        import resource
    except ImportError:
        logger.warning("no resource limits on this platform: the server's memory is bounded by DuckDB alone")
        return 0
    ceiling = limit
    for current in resource.getrlimit(resource.RLIMIT_DATA):
        if current != resource.RLIM_INFINITY:
            ceiling = min(ceiling, current)
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, ceiling))
    return ceiling
