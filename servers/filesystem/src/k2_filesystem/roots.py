"""Client roots: a client that declares the roots capability narrows the configured roots for its session."""

from __future__ import annotations

import logging
import warnings
import weakref
from typing import Any
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPDeprecationWarning

from k2_filesystem.paths import Root, narrow_roots

logger = logging.getLogger(__name__)
MODERN_ERA = "2026-07-28"


def file_uri_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return unquote(parsed.path)


class ClientRoots:
    """Per-session cache of the roots a client sent, invalidated by `notifications/roots/list_changed`."""

    def __init__(self, configured: list[Root]) -> None:
        self.configured = configured
        self._by_session: weakref.WeakKeyDictionary[Any, tuple[list[Root], bool]] = weakref.WeakKeyDictionary()

    async def active(self, ctx: Context[Any]) -> tuple[list[Root], bool]:
        """The roots in force for this request, and whether the client narrowed them."""
        caps = ctx.client_capabilities
        version = ctx.protocol_version or ""
        if caps is None or caps.roots is None or version >= MODERN_ERA:
            return self.configured, False
        session = ctx.session
        cached = self._by_session.get(session)
        if cached is not None:
            return cached
        try:
            with anyio.fail_after(10), warnings.catch_warnings():
                # Roots are deprecated at 2026-07-28, but they are how handshake-era clients scope a session.
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                result = await session.list_roots()
        except Exception as exc:  # a client that declared roots but cannot list them keeps the configured set
            logger.warning("client roots unavailable", extra={"error": repr(exc)})
            return self.configured, False
        paths = [p for p in (file_uri_path(str(r.uri)) for r in result.roots) if p]
        if not paths:
            # A client with no folder open sends an empty list: that narrows nothing (as the reference server).
            entry: tuple[list[Root], bool] = (self.configured, False)
        else:
            entry = (narrow_roots(self.configured, paths), True)
            logger.info("client roots applied", extra={"roots": [r.real for r in entry[0]]})
        self._by_session[session] = entry
        return entry

    def forget(self, session: Any) -> None:
        self._by_session.pop(session, None)
