"""SSRF: every attack is refused and the sentinel server on 127.0.0.1 never sees a single connection.

The attacks run without any loopback allowance, except that the test site (another port of 127.0.0.1) is
allowed so that its redirects can point at the sentinel and at private addresses. Host names resolve through a
scripted resolver (a DNS stand-in); the real server uses getaddrinfo, and checks the answer the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from k2_websearch.netguard import NetPolicy

from tests.servers.websearch import sites
from tests.servers.websearch.conftest import kind, make_settings, serve

pytestmark = pytest.mark.anyio
S = "{sentinel}"  # replaced by the sentinel's port

DIRECT = [
    "http://127.0.0.1:{sentinel}/",
    "http://localhost:{sentinel}/",
    "http://LOCALHOST:{sentinel}/",
    "http://foo.localhost:{sentinel}/",
    "http://127.0.0.1.:{sentinel}/",
    "http://127.1:{sentinel}/",
    "http://127.0.1:{sentinel}/",
    "http://2130706433:{sentinel}/",
    "http://0x7f000001:{sentinel}/",
    "http://0177.0.0.1:{sentinel}/",
    "http://0x7f.0x0.0x0.0x1:{sentinel}/",
    "http://017700000001:{sentinel}/",
    "http://0x7f.1:{sentinel}/",
    "http://127.0.0.2:{sentinel}/",
    "http://0.0.0.0:{sentinel}/",
    "http://0:{sentinel}/",
    "http://[::1]:{sentinel}/",
    "http://[0:0:0:0:0:0:0:1]:{sentinel}/",
    "http://[::ffff:127.0.0.1]:{sentinel}/",
    "http://[::ffff:7f00:1]:{sentinel}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{sentinel}/",
    "http://[::127.0.0.1]:{sentinel}/",
    "http://[64:ff9b::127.0.0.1]:{sentinel}/",
    "http://[64:ff9b::7f00:1]:{sentinel}/",
    "http://[2002:7f00:1::]:{sentinel}/",
    "http://[::]:{sentinel}/",
    "http://user:pass@127.0.0.1:{sentinel}/",
    "http://127.0.0.1:{site}@127.0.0.1:{sentinel}/",
    "https://127.0.0.1:{sentinel}/",
    "ftp://127.0.0.1:{sentinel}/",
    "gopher://127.0.0.1:{sentinel}/_GET%20/",
    "dict://127.0.0.1:{sentinel}/",
    "file:///etc/passwd",
    "data:text/html,<h1>hi</h1>",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
]

REDIRECTS = [
    "http://127.0.0.1:{sentinel}/",
    "http://localhost:{sentinel}/",
    "//127.0.0.1:{sentinel}/",
    "http://2130706433:{sentinel}/",
    "http://0x7f.1:{sentinel}/",
    "http://[::1]:{sentinel}/",
    "http://[::ffff:127.0.0.1]:{sentinel}/",
    "http://[64:ff9b::7f00:1]:{sentinel}/",
    "ftp://127.0.0.1:{sentinel}/",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://rebind.test:{sentinel}/",
]

NAMES = [
    "http://rebind.test:{sentinel}/",
    "http://mixed.test:{sentinel}/",
    "http://mapped.test:{sentinel}/",
    "http://nat64.test:{sentinel}/",
    "http://metadata.test/",
]
ANSWERS = {
    "rebind.test": ["127.0.0.1"],
    "mixed.test": ["10.1.2.3", "127.0.0.1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::7f00:1"],
    "metadata.test": ["169.254.169.254"],
}


async def scripted_resolver(host: str, port: int) -> list[str]:
    return list(ANSWERS.get(host, []))


def policy_for(site: sites.Server) -> NetPolicy:
    return NetPolicy(allow_hosts=[f"127.0.0.1:{site.port}"], resolver=scripted_resolver)


@pytest.fixture
def untouched(sentinel: sites.Server) -> Iterator[sites.Server]:
    before = (sentinel.connections, len(sentinel.hits))
    yield sentinel
    assert (sentinel.connections, len(sentinel.hits)) == before == (0, 0)


def fill(template: str, site: sites.Server, sentinel: sites.Server) -> str:
    return template.format(sentinel=sentinel.port, site=site.port)


@pytest.mark.parametrize("template", DIRECT)
async def test_fetch_webpage_refuses_a_url_aimed_at_a_private_address(
    template: str, site: sites.Server, untouched: sites.Server, tmp_path: Path
) -> None:
    url = fill(template, site, untouched)
    async with serve(make_settings(tmp_path, site), policy_for(site)) as c:
        result = await c.call_tool("fetch_webpage", {"url": url})
    assert result.is_error and kind(result) == "blocked", url


@pytest.mark.parametrize("template", REDIRECTS)
@pytest.mark.parametrize("code", [302, 307])
async def test_fetch_webpage_refuses_a_redirect_from_an_allowed_site_to_a_private_address(
    template: str, code: int, site: sites.Server, untouched: sites.Server, tmp_path: Path
) -> None:
    target = fill(template, site, untouched)
    url = site.url(f"/redirect?code={code}&to={quote(target, safe='')}")
    async with serve(make_settings(tmp_path, site), policy_for(site)) as c:
        result = await c.call_tool("fetch_webpage", {"url": url})
    assert result.is_error and kind(result) == "blocked", target


@pytest.mark.parametrize("template", NAMES)
async def test_fetch_webpage_refuses_a_name_that_resolves_to_a_private_address(
    template: str, site: sites.Server, untouched: sites.Server, tmp_path: Path
) -> None:
    url = fill(template, site, untouched)
    async with serve(make_settings(tmp_path, site), policy_for(site)) as c:
        result = await c.call_tool("fetch_webpage", {"url": url})
    assert result.is_error and kind(result) == "blocked", url


async def test_a_redirect_chain_that_ends_at_the_sentinel_is_cut_before_it(
    site: sites.Server, untouched: sites.Server, tmp_path: Path
) -> None:
    url = site.url("/hop/0?to=" + quote(untouched.url("/"), safe=""))
    async with serve(make_settings(tmp_path, site), policy_for(site)) as c:
        result = await c.call_tool("fetch_webpage", {"url": url})
    assert result.is_error and kind(result) in ("too_many_redirects", "blocked")


async def test_a_robots_txt_that_redirects_to_the_sentinel_is_not_followed(
    untouched: sites.Server, tmp_path: Path
) -> None:
    def route(h: sites.BaseHTTPRequestHandler, srv: sites.Server) -> None:
        h.send_response(302)
        h.send_header("Location", untouched.url("/robots.txt"))
        h.send_header("Content-Length", "0")
        h.end_headers()

    with sites.serve(route) as tricky:
        async with serve(make_settings(tmp_path, tricky), policy_for(tricky)) as c:
            result = await c.call_tool("fetch_webpage", {"url": tricky.url("/page")})
    assert result.is_error and kind(result) == "robots_disallowed"


async def test_extract_links_and_fetch_many_refuse_the_sentinel_too(
    site: sites.Server, untouched: sites.Server, tmp_path: Path
) -> None:
    async with serve(make_settings(tmp_path, site), policy_for(site)) as c:
        links = await c.call_tool("extract_links", {"url": untouched.url("/")})
        many = await c.call_tool("fetch_many", {"urls": [untouched.url("/a"), f"http://[::1]:{untouched.port}/"]})
    assert links.is_error and kind(links) == "blocked"
    assert many.structured_content is not None
    assert [r["error"] for r in many.structured_content["results"]] == ["blocked", "blocked"]


async def test_allow_private_networks_opens_loopback_but_never_cloud_metadata(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allow_private_networks=True, ignore_robots_txt=True)
    policy = NetPolicy(allow_private_networks=True, resolver=scripted_resolver)
    with sites.serve(sites.sentinel_route) as other:
        async with serve(settings, policy) as c:
            reached = await c.call_tool("fetch_webpage", {"url": other.url("/opened")})
            metadata = await c.call_tool("fetch_webpage", {"url": "http://metadata.test/latest/"})
        assert not reached.is_error and other.hits == ["/opened"]
    assert metadata.is_error and kind(metadata) == "blocked"
