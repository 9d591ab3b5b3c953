"""Fetching over the pinned network backend: redirects re-checked one by one, robots.txt, per-domain rate limit,
a byte cap after decompression, connect and total timeouts, and a cache revalidated with ETag/Last-Modified."""

from __future__ import annotations

import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore2
import httpx2
from protego import Protego

from k2_websearch.config import ROBOTS_AGENT, WebsearchSettings
from k2_websearch.errors import (
    BlockedUrl,
    FetchFailed,
    FetchTimeout,
    HttpStatus,
    RateLimited,
    RobotsDisallowed,
    TooManyRedirects,
)
from k2_websearch.netguard import NetPolicy, PinnedBackend

REDIRECTS = {301, 302, 303, 307, 308}
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL_S = 3600.0


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float = field(default_factory=time.monotonic)
    from_cache: bool = False


class Decoder:
    """Content-Encoding decoding with a cap on the decoded size, so a small gzip bomb never expands in memory."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._obj = None
        elif encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj()
        else:
            raise FetchFailed(f"unsupported Content-Encoding {encoding!r}")
        self._first = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`, at most `room` bytes of output (more input beyond that is dropped)."""
        if self._obj is None:
            return data[:room]
        try:
            if self._first:  # "deflate" is zlib-wrapped per RFC, raw in practice: try both
                self._first = False
                probe = zlib.decompressobj()
                try:
                    out = probe.decompress(data, room)
                    self._obj = probe
                    return out
                except zlib.error:
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._obj.decompress(data, room)
        except zlib.error as exc:
            raise FetchFailed(f"the body could not be decompressed: {exc}") from None


class RateLimiter:
    """A token bucket per domain: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, domain: str) -> None:
        now = time.monotonic()
        tokens, last = self._buckets.get(domain, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            wait = (1 - tokens) / self.rate
            raise RateLimited(f"too many requests to {domain!r}; retry in {wait:.1f} s")
        self._buckets[domain] = (tokens - 1, now)


class Fetcher:
    """One HTTP client for the server's life, connecting only through the checked, pinned backend."""

    def __init__(self, settings: WebsearchSettings, policy: NetPolicy | None = None) -> None:
        self.s = settings
        self.policy = policy or NetPolicy(settings.allow_private_networks, list(settings.allow_hosts))
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self._robots: dict[str, tuple[float, Protego | None]] = {}
        self.cache: OrderedDict[str, Fetched] = OrderedDict()
        pool = httpcore2.AsyncConnectionPool(
            network_backend=PinnedBackend(self.policy), max_connections=32, keepalive_expiry=30.0
        )
        self._transport = _PoolTransport(pool)
        timeout = httpx2.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self.client = httpx2.AsyncClient(
            transport=self._transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- public ------------------------------------------------------------------------------------------

    async def fetch(self, url: str, *, revalidate: bool = True) -> Fetched:
        """The page at `url`: from the cache while fresh (`revalidate=False`), else fetched or revalidated."""
        self.policy.check_url(url)
        cached = self.cache.get(url)
        if cached is not None and not revalidate and time.monotonic() - cached.fetched_at < self.s.cache_ttl_s:
            self.cache.move_to_end(url)
            return _copy(cached, from_cache=True)
        try:
            with anyio.fail_after(self.s.timeout_s):
                page = await self._fetch(url, cached)
        except TimeoutError:
            raise FetchTimeout(f"fetching {url!r} took longer than {self.s.timeout_s:g} s; try again later") from None
        self.cache[url] = page
        self.cache.move_to_end(url)
        while len(self.cache) > self.s.cache_entries:
            self.cache.popitem(last=False)
        return page

    # --- the work ----------------------------------------------------------------------------------------

    async def _fetch(self, url: str, cached: Fetched | None) -> Fetched:
        current = url
        for _ in range(self.s.max_redirects + 1):
            self.policy.check_url(current)
            await self._check_robots(current)
            self.limiter.take(_domain(current))
            headers: dict[str, str] = {}
            if cached is not None and current == url:
                if cached.etag:
                    headers["If-None-Match"] = cached.etag
                if cached.last_modified:
                    headers["If-Modified-Since"] = cached.last_modified
            response = await self._send(current, headers)
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code == 304 and cached is not None:
                    return _copy(cached, from_cache=True, fetched_at=time.monotonic())
                if response.status_code >= 400:
                    raise HttpStatus(
                        f"{current!r} answered HTTP {response.status_code}; check the URL or try later",
                        response.status_code,
                    )
                body, truncated = await self._read(response, self.s.max_bytes)
            finally:
                await response.aclose()
            ctype, _, params = response.headers.get("content-type", "").partition(";")
            return Fetched(
                url=url,
                final_url=current,
                status=response.status_code,
                content_type=ctype.strip().lower(),
                charset=_charset(params),
                body=body,
                truncated=truncated,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
        raise TooManyRedirects(f"{url!r} redirected more than {self.s.max_redirects} times; fetch the target directly")

    async def _send(self, url: str, headers: dict[str, str]) -> httpx2.Response:
        try:
            request = self.client.build_request("GET", url, headers=headers)
            return await self.client.send(request, stream=True)
        except httpx2.TimeoutException:
            raise FetchTimeout(f"connecting to {url!r} timed out; the site may be down") from None
        except httpx2.InvalidURL as exc:
            raise BlockedUrl(f"{url!r} is not a URL that can be fetched ({exc}); check it") from None
        except httpx2.HTTPError as exc:
            raise FetchFailed(f"fetching {url!r} failed: {type(exc).__name__}: {exc}") from None

    async def _read(self, response: httpx2.Response, cap: int) -> tuple[bytes, bool]:
        decoder = Decoder(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        size = 0
        try:
            async for raw in response.aiter_raw():
                data = decoder.feed(raw, cap - size + 1)
                chunks.append(data)
                size += len(data)
                if size > cap:
                    return b"".join(chunks)[:cap], True
        except httpx2.TimeoutException:
            raise FetchTimeout(f"reading {str(response.url)!r} timed out") from None
        except httpx2.HTTPError as exc:
            raise FetchFailed(f"reading {str(response.url)!r} failed: {type(exc).__name__}") from None
        return b"".join(chunks), False

    async def _check_robots(self, url: str) -> None:
        if self.s.ignore_robots_txt:
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = time.monotonic()
        entry = self._robots.get(origin)
        if entry is None or now - entry[0] > ROBOTS_TTL_S:
            entry = (now, await self._load_robots(origin))
            self._robots[origin] = entry
        rules = entry[1]
        if rules is None or not rules.can_fetch(url, ROBOTS_AGENT):
            raise RobotsDisallowed(
                f"robots.txt of {origin} disallows {url!r} for {ROBOTS_AGENT} (or could not be read: 5xx or "
                "unreachable means disallow, RFC 9309); the operator can pass --ignore-robots-txt"
            )

    async def _load_robots(self, origin: str) -> Protego | None:
        """The parsed rules; an empty set for 4xx (allow all); None (disallow all) for 5xx or no answer."""
        current = origin + "/robots.txt"
        try:
            for _ in range(6):  # RFC 9309 2.3.1.2: follow at least five redirects
                self.policy.check_url(current)
                response = await self._send(current, {})
                try:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if 400 <= response.status_code < 500:
                        return Protego.parse("")
                    if response.status_code >= 500:
                        return None
                    body, _ = await self._read(response, ROBOTS_MAX_BYTES)
                finally:
                    await response.aclose()
                return Protego.parse(body.decode("utf-8", "replace"))
        except BlockedUrl:
            if current == origin + "/robots.txt":
                raise  # the site itself is refused: say so
            return None  # robots.txt redirects somewhere refused: unreachable, so disallow all
        except (FetchFailed, FetchTimeout):  # unreachable: disallow all (RFC 9309 2.3.1.4)
            return None
        return None


class _PoolTransport(httpx2.AsyncBaseTransport):
    """An httpx transport over our own httpcore pool (so the pool uses the pinned network backend)."""

    def __init__(self, pool: httpcore2.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        req = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            resp = await self._pool.handle_async_request(req)
        except httpcore2.TimeoutException as exc:
            raise httpx2.TimeoutException(str(exc), request=request) from exc
        except httpcore2.NetworkError as exc:
            raise httpx2.NetworkError(str(exc), request=request) from exc
        except httpcore2.ProtocolError as exc:
            raise httpx2.ProtocolError(str(exc), request=request) from exc
        return httpx2.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_Stream(resp),
            extensions=resp.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Stream(httpx2.AsyncByteStream):
    def __init__(self, resp: httpcore2.Response) -> None:
        self._resp = resp

    async def __aiter__(self):  # type: ignore[override]
        try:
            async for part in self._resp.aiter_stream():
                yield part
        except httpcore2.TimeoutException as exc:
            raise httpx2.ReadTimeout(str(exc)) from exc
        except (httpcore2.NetworkError, httpcore2.ProtocolError) as exc:
            raise httpx2.ReadError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._resp.aclose()


def _domain(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _charset(params: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None


def _copy(page: Fetched, **changes: object) -> Fetched:
    data = dict(page.__dict__)
    data.update(changes)
    return Fetched(**data)  # type: ignore[arg-type]
