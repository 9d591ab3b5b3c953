"""The names and kinds of recently listed directories, read again only when the directory has changed.

Reading a directory of a thousand entries (`getdents`) costs most of a names-only listing. Every change to a
directory's entries - a name created, removed or renamed, which is also the only way an entry changes kind -
sets the directory's modification and change times, so an entry is kept against the directory's identity
(device, inode) and reused while both times are what they were when it was read.

Timestamps are coarse: the kernel stamps them from a clock that ticks every few milliseconds (FAT: every two
seconds), so a change made in the same tick as a read could leave the times as they were. A directory is
therefore only kept when it was read (by `time.time_ns()`) at least `SETTLED_NS` after its last change
("racily clean", as git calls it): any later change then stamps a later time. A directory whose times are
ahead of this clock (another machine's, on a network filesystem) is never kept.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from k2_filesystem.models import Kind

Row = tuple[str, Kind]
"""An entry's name and kind, in the order the directory yields them."""

SETTLED_NS = 3_000_000_000
"""How long before a read its directory must have last changed for the read to be kept."""

MAX_VIEWS = 8
"""Most answers kept per directory (one per distinct set of listing arguments)."""


class Listed:
    """A directory's entries as read, and answers built from them (by the arguments that shaped each)."""

    __slots__ = ("ctime_ns", "mtime_ns", "rows", "views")

    def __init__(self, st: os.stat_result, rows: list[Row]) -> None:
        self.mtime_ns = st.st_mtime_ns
        self.ctime_ns = st.st_ctime_ns
        self.rows = rows
        self.views: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}

    def keep_view(self, key: tuple[Any, ...], view: tuple[dict[str, Any], str]) -> None:
        if len(self.views) >= MAX_VIEWS:
            self.views.clear()
        self.views[key] = view


class DirectoryCache:
    """At most `max_dirs` directories of at most `max_entries` entries each, least recently used dropped.
    What it hands out is shared between calls and must not be changed."""

    def __init__(self, max_dirs: int = 64, max_entries: int = 20_000, clock: Callable[[], int] = time.time_ns) -> None:
        self.max_dirs = max_dirs
        self.max_entries = max_entries
        self.clock = clock
        """The time in nanoseconds on the filesystem's clock, taken as a read starts."""
        self._dirs: OrderedDict[tuple[int, int], Listed] = OrderedDict()

    def get(self, st: os.stat_result) -> Listed | None:
        """What is kept of the directory whose `fstat` is `st`, if it has not changed since."""
        key = (st.st_dev, st.st_ino)
        kept = self._dirs.get(key)
        if kept is None or kept.mtime_ns != st.st_mtime_ns or kept.ctime_ns != st.st_ctime_ns:
            return None
        self._dirs.move_to_end(key)
        return kept

    def put(self, fd: int, st: os.stat_result, started_ns: int, rows: list[Row]) -> Listed | None:
        """Keep `rows`, every entry of the open directory `fd`, read from `started_ns` on (by `clock`) while
        its `fstat` was `st` - unless it changed too recently to tell a later change by its times."""
        key = (st.st_dev, st.st_ino)
        self._dirs.pop(key, None)
        if len(rows) > self.max_entries or started_ns - max(st.st_mtime_ns, st.st_ctime_ns) < SETTLED_NS:
            return None
        after = os.fstat(fd)
        if (after.st_mtime_ns, after.st_ctime_ns) != (st.st_mtime_ns, st.st_ctime_ns):
            return None  # changed while it was read
        listed = self._dirs[key] = Listed(st, rows)
        if len(self._dirs) > self.max_dirs:
            self._dirs.popitem(last=False)
        return listed
