"""fetch_webpage, extract_links and fetch_many against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from k2_websearch.netguard import NetPolicy

from tests.servers.websearch import sites
from tests.servers.websearch.conftest import kind, make_settings, ok, serve, text

pytestmark = pytest.mark.anyio


async def test_fetch_webpage_returns_the_main_content_as_markdown_without_boilerplate(
    site: sites.Server, tmp_path: Path
) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html")}))
    assert page["kind"] == "html" and page["format"] == "markdown" and page["title"] == "Kestrels"
    assert "twelve strokes per second" in page["content"]
    assert "Subscribe to our newsletter" not in page["content"]
    assert "do-not-index-me" not in page["content"]
    assert page["truncated"] is False and page["next_start_index"] is None and page["untrusted"] is True


async def test_fetch_webpage_text_and_raw_formats_differ_as_documented(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        as_text = ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html"), "format": "text"}))
        raw = ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html"), "format": "raw"}))
        html = ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html"), "format": "html"}))
    assert "twelve strokes" in as_text["content"] and "<p>" not in as_text["content"]
    assert raw["content"].startswith("<!DOCTYPE html>") and "do-not-index-me" in raw["content"]
    assert "<p>" in html["content"] and "do-not-index-me" not in html["content"]


async def test_fetch_webpage_pages_through_a_long_page_from_the_cached_copy(site: sites.Server, tmp_path: Path) -> None:
    url = site.url("/long.html")
    async with serve(make_settings(tmp_path, site)) as c:
        first = ok(await c.call_tool("fetch_webpage", {"url": url, "max_length": 1000}))
        hits = site.hits.count("/long.html")
        second = ok(await c.call_tool("fetch_webpage", {"url": url, "max_length": 1000, "start_index": 1000}))
        assert site.hits.count("/long.html") == hits
    assert first["truncated"] is True and first["next_start_index"] == 1000 and len(first["content"]) == 1000
    assert second["from_cache"] is True and second["start_index"] == 1000
    assert first["content"] + second["content"] == _whole(first, second)


def _whole(first: dict[str, object], second: dict[str, object]) -> str:
    return str(first["content"]) + str(second["content"])


async def test_fetch_webpage_refuses_a_start_index_past_the_end(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        ok(await c.call_tool("fetch_webpage", {"url": site.url("/article.html")}))
        past = await c.call_tool("fetch_webpage", {"url": site.url("/article.html"), "start_index": 10**6})
    assert past.is_error and kind(past) == "invalid_arguments"


async def test_fetch_webpage_revalidates_with_etag_and_serves_the_cache_on_304(
    site: sites.Server, tmp_path: Path
) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        first = ok(await c.call_tool("fetch_webpage", {"url": site.url("/etag.html")}))
        again = ok(await c.call_tool("fetch_webpage", {"url": site.url("/etag.html")}))
    assert first["from_cache"] is False and again["from_cache"] is True
    assert again["content"] == first["content"]


async def test_fetch_webpage_turns_a_pdf_into_text(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/doc.pdf")}))
    assert page["kind"] == "pdf" and "Kestrels hover over meadows in the PDF" in page["content"]


async def test_fetch_webpage_pretty_prints_json(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/data.json")}))
    assert page["kind"] == "json"
    assert page["content"] == '{\n  "bird": "kestrel",\n  "wingbeats": [\n    12,\n    13\n  ]\n}'


async def test_fetch_webpage_decodes_gzip(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/gzip.html")}))
    assert "twelve strokes per second" in page["content"]


async def test_fetch_webpage_caps_a_gzip_bomb_after_decompression(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site, max_bytes=256 * 1024)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/bomb"), "format": "raw"}))
    assert page["body_truncated"] is True and page["total_length"] <= 256 * 1024


async def test_fetch_webpage_stops_an_endless_body_at_the_byte_cap(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site, max_bytes=64 * 1024)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/endless"), "max_length": 100}))
    assert page["body_truncated"] is True and page["total_length"] == 64 * 1024


async def test_fetch_webpage_gives_up_on_a_slow_body_at_the_total_timeout(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site, timeout_s=0.5)) as c:
        slow = await c.call_tool("fetch_webpage", {"url": site.url("/slow")})
    assert slow.is_error and kind(slow) == "timeout"


async def test_fetch_webpage_marks_injected_instructions_as_untrusted_data(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        result = await c.call_tool("fetch_webpage", {"url": site.url("/inject.html")})
    page = ok(result)
    assert sites.INJECTION in page["content"] and page["untrusted"] is True and "untrusted" in page["notice"]
    shown = text(result)
    start = shown.index("<untrusted-web-content")
    assert start < shown.index(sites.INJECTION) < shown.index("</untrusted-web-content>")


async def test_fetch_webpage_follows_a_redirect_on_the_same_allowed_site(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        page = ok(await c.call_tool("fetch_webpage", {"url": site.url("/redirect?to=/article.html&code=301")}))
    assert page["final_url"] == site.url("/article.html")


async def test_fetch_webpage_follows_five_redirects_and_refuses_a_sixth(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        five = ok(await c.call_tool("fetch_webpage", {"url": site.url("/hop/1?to=/article.html")}))
        six = await c.call_tool("fetch_webpage", {"url": site.url("/hop/0?to=/article.html")})
    assert five["title"] == "Kestrels"
    assert six.is_error and kind(six) == "too_many_redirects"


async def test_fetch_webpage_reports_http_errors_with_their_kind(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        missing = await c.call_tool("fetch_webpage", {"url": site.url("/missing")})
        image = await c.call_tool("fetch_webpage", {"url": site.url("/image.png")})
    assert missing.is_error and kind(missing) == "http_error"
    assert image.is_error and kind(image) == "unsupported_content"


async def test_fetch_webpage_obeys_robots_txt_unless_told_to_ignore_it(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        refused = await c.call_tool("fetch_webpage", {"url": site.url("/private/page")})
    async with serve(make_settings(tmp_path, site, ignore_robots_txt=True)) as c:
        allowed = ok(await c.call_tool("fetch_webpage", {"url": site.url("/private/page")}))
    assert refused.is_error and kind(refused) == "robots_disallowed"
    assert "Filler page at /private/page" in allowed["content"]


async def test_fetch_webpage_treats_a_robots_txt_5xx_as_disallow_all(tmp_path: Path) -> None:
    with sites.serve(sites.robots_5xx_route) as broken:
        async with serve(make_settings(tmp_path, broken)) as c:
            refused = await c.call_tool("fetch_webpage", {"url": broken.url("/page.html")})
        assert "/page.html" not in broken.hits
    assert refused.is_error and kind(refused) == "robots_disallowed"


async def test_fetch_webpage_rate_limits_each_domain(site: sites.Server, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, site, rate_limit_per_minute=1, rate_limit_burst=2)
    async with serve(settings) as c:
        for path in ("/r1", "/r2"):
            ok(await c.call_tool("fetch_webpage", {"url": site.url(path)}))
        third = await c.call_tool("fetch_webpage", {"url": site.url("/r3")})
    assert third.is_error and kind(third) == "rate_limited"


async def test_fetch_webpage_sends_a_clear_user_agent(tmp_path: Path) -> None:
    agents: list[str] = []

    def route(h: sites.BaseHTTPRequestHandler, srv: sites.Server) -> None:
        agents.append(h.headers.get("User-Agent", ""))
        sites.send(h, 200, b"hello", "text/plain")

    with sites.serve(route) as srv:
        async with serve(make_settings(tmp_path, srv)) as c:
            ok(await c.call_tool("fetch_webpage", {"url": srv.url("/x.txt")}))
    assert agents and all(a.startswith("K2-Websearch/") for a in agents)


async def test_extract_links_lists_absolute_http_links_in_page_order(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site)) as c:
        found = ok(await c.call_tool("extract_links", {"url": site.url("/article.html"), "limit": 50}))
    urls = [link["url"] for link in found["links"]]
    assert urls[0] == site.url("/section/0")
    assert site.url("/article.html") in urls and "https://example.org/ref" in urls
    assert not any(u.startswith("mailto:") for u in urls) and len(urls) == len(set(urls))


async def test_extract_links_flags_a_page_cut_at_the_byte_cap(site: sites.Server, tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, site, max_bytes=16 * 1024)) as c:
        cut = ok(await c.call_tool("extract_links", {"url": site.url("/links.html"), "limit": 1000}))
    async with serve(make_settings(tmp_path, site)) as c:
        whole = ok(await c.call_tool("extract_links", {"url": site.url("/links.html"), "limit": 1000}))
    urls = [link["url"] for link in cut["links"]]
    # the links before the cut, in order, and no link made of a half-received href
    assert cut["body_truncated"] is True and cut["truncated"] is False
    assert 100 < len(urls) < 1000 and urls == [site.url(f"/link/{i:04d}") for i in range(len(urls))]
    assert whole["body_truncated"] is False and whole["truncated"] is True and len(whole["links"]) == 1000


async def test_fetch_many_returns_each_page_or_its_failure_kind(
    site: sites.Server, sentinel: sites.Server, tmp_path: Path
) -> None:
    urls = [site.url("/article.html"), site.url("/missing"), sentinel.url("/"), site.url("/data.json")]
    async with serve(make_settings(tmp_path, site)) as c:
        many = ok(await c.call_tool("fetch_many", {"urls": urls}))
    outcomes = [(r["url"], r["error"], (r["page"] or {}).get("kind")) for r in many["results"]]
    assert outcomes == [
        (urls[0], None, "html"),
        (urls[1], "http_error", None),
        (urls[2], "blocked", None),
        (urls[3], None, "json"),
    ]
    assert sentinel.connections == 0


async def test_fetch_webpage_connects_to_the_checked_address_and_keeps_the_host_name(tmp_path: Path) -> None:
    hosts: list[str] = []
    asked: list[str] = []

    def route(h: sites.BaseHTTPRequestHandler, srv: sites.Server) -> None:
        hosts.append(h.headers.get("Host", ""))
        sites.send(h, 200, b"pinned", "text/plain")

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with sites.serve(route) as srv:
        policy = NetPolicy(allow_hosts=[f"127.0.0.1:{srv.port}"], resolver=resolver)
        async with serve(make_settings(tmp_path, srv, ignore_robots_txt=True), policy) as c:
            page = ok(await c.call_tool("fetch_webpage", {"url": f"http://pinned.test:{srv.port}/x.txt"}))
    assert page["content"] == "pinned"
    assert asked == ["pinned.test"] and hosts == [f"pinned.test:{srv.port}"]
