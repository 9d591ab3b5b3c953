"""Which addresses the fetcher may connect to, and a network backend that connects only to checked addresses.

The host of every connection (first request, each redirect, robots.txt) is resolved once here, every address
is checked, and the socket goes to exactly that checked address: the HTTP client never resolves a name itself,
so a DNS answer that changes between check and use (rebinding) cannot redirect the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
import httpcore2
from httpcore2 import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore2._backends.anyio import AnyIOBackend

from k2_websearch.errors import BlockedUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Cloud metadata endpoints: refused even with --allow-private-networks (only an explicit --allow-host opens them).
METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")}
_EXTRA_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "::/128",
        "::1/128",
        "100::/64",
    )
]


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address wraps (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = int(ip)
    if ip in ipaddress.ip_network("64:ff9b::/96") or packed >> 32 == 0:  # NAT64 or IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` may not be reached, or None when it is a public address (or a private one that is allowed)."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = blocked_reason(inner, allow_private=allow_private)
        if reason:
            return f"{reason} (wrapped in {ip})"
    if ip in METADATA or (inner is not None and inner in METADATA):
        return "a cloud metadata address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or not ip.is_global:
        return None if allow_private else "a loopback, private, link-local or reserved address"
    if any(ip.version == n.version and ip in n for n in _EXTRA_BLOCKED):
        return None if allow_private else "a special-purpose address (CGNAT, NAT64, 6to4, documentation, ...)"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a resolver accepts: dotted, decimal, octal, hex, IPv6."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 017700000001, 127.1
    except OSError:
        return None


@dataclass(frozen=True)
class AllowEntry:
    host: str
    port: int | None

    @classmethod
    def parse(cls, value: str) -> AllowEntry:
        value = value.strip().lower()
        if value.startswith("["):
            host, _, rest = value[1:].partition("]")
            port = rest.lstrip(":")
            return cls(host, int(port) if port else None)
        if value.count(":") == 1:
            host, port = value.split(":")
            return cls(host, int(port))
        return cls(value, None)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.to_thread.run_sync(lambda: socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass
class NetPolicy:
    """The address rules of one server: defaults refuse everything that is not a public address."""

    allow_private_networks: bool = False
    allow_hosts: list[str] = field(default_factory=list)
    resolver: Resolver = system_resolver

    def __post_init__(self) -> None:
        self._entries = [AllowEntry.parse(h) for h in self.allow_hosts]

    def _allowed(self, host: str, port: int, ip: IPAddress | None = None) -> bool:
        names = {host.lower().rstrip(".").strip("[]")}
        if ip is not None:
            names.add(str(ip))
        return any(e.host in names and (e.port is None or e.port == port) for e in self._entries)

    def check_url(self, url: str) -> None:
        """Refuse a URL before any connection: scheme, credentials, and hosts that are addresses in disguise."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BlockedUrl(f"{url!r} is not a valid URL ({exc}); give an absolute http(s) URL") from None
        if parts.scheme not in ("http", "https"):
            raise BlockedUrl(f"{url!r}: only http and https URLs can be fetched, not {parts.scheme or 'none'!r}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise BlockedUrl(f"{url!r} has no host; give an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise BlockedUrl(f"{url!r} carries credentials (user@host); remove them")
        port = port or (443 if parts.scheme == "https" else 80)
        ip = literal_ip(host)
        if ip is not None:
            self.check_address(host, port, ip)
        elif host == "localhost" or host.endswith((".localhost", ".local", ".internal")):  # noqa: SIM102
            if not (self.allow_private_networks or self._allowed(host, port)):
                raise BlockedUrl(f"{url!r} names a local host; it is refused unless allowed by the operator")

    def check_address(self, host: str, port: int, ip: IPAddress) -> None:
        if self._allowed(host, port, ip):
            return
        reason = blocked_reason(ip, allow_private=self.allow_private_networks)
        if reason:
            raise BlockedUrl(f"the host {host!r} is {reason} ({ip}); only public addresses can be fetched")

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve `host` and check every address: all must be allowed, else the connection is refused."""
        ip = literal_ip(host)
        if ip is not None:
            self.check_address(host, port, ip)
            return [str(ip)]
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise httpcore2.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        if not addresses:
            raise httpcore2.ConnectError(f"cannot resolve {host!r}")
        for address in addresses:
            self.check_address(host, port, ipaddress.ip_address(address.split("%", 1)[0]))
        return addresses


class PinnedBackend(AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses `policy` resolved and checked."""

    def __init__(self, policy: NetPolicy) -> None:
        self._policy = policy
        self._inner = AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - the interface httpcore calls
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await self._policy.resolve(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
