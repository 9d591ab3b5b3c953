"""Settings of the websearch server: `K2_WEB_*` environment variables, overridden by flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from k2_shared.settings import CommaList, ServerSettings, add_common_arguments, load_settings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

BackendName = Literal["searxng", "brave", "tavily", "duckduckgo", "local"]
BACKENDS: tuple[str, ...] = ("searxng", "brave", "tavily", "duckduckgo", "local")
USER_AGENT = "K2-Websearch/0.1 (MCP fetch tool; +https://github.com/k2-agent-system/k2)"
ROBOTS_AGENT = "K2-Websearch"


def default_index_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "k2-websearch" / "index"


class WebsearchSettings(ServerSettings):
    """Every field is read from `K2_WEB_<FIELD>` (e.g. `K2_WEB_BACKENDS=searxng,local`, `K2_WEB_SEARXNG_URL=...`)."""

    model_config = SettingsConfigDict(
        env_prefix="K2_WEB_", extra="forbid", env_ignore_empty=True, validate_default=True
    )

    backends: CommaList = Field(
        default_factory=lambda: ["local"], description="search backends in failover order (comma separated)"
    )
    searxng_url: str | None = Field(None, description="base URL of a SearXNG instance with the JSON format enabled")
    brave_api_key: str | None = Field(None, description="Brave Search API subscription token")
    brave_url: str = Field("https://api.search.brave.com/res/v1/web/search", description="Brave API endpoint")
    tavily_api_key: str | None = Field(None, description="Tavily API key")
    tavily_url: str = Field("https://api.tavily.com/search", description="Tavily API endpoint")
    index: Path = Field(default_factory=default_index_dir, description="local index directory (documents + pages)")
    index_fetched: bool = Field(True, description="add every fetched page to the local index")
    allow_private_networks: bool = Field(False, description="allow fetching loopback and private addresses")
    allow_hosts: CommaList = Field(default_factory=list, description="HOST or HOST:PORT fetchable even if private")
    ignore_robots_txt: bool = Field(False, description="fetch even where robots.txt disallows it")
    user_agent: str = Field(USER_AGENT, description="User-Agent header of every request")
    max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024, description="body cap after decoding")
    connect_timeout_s: float = Field(10.0, gt=0, le=120, description="time to connect")
    timeout_s: float = Field(30.0, gt=0, le=600, description="total time of one fetch, redirects included")
    max_redirects: int = Field(5, ge=0, le=10, description="most redirects followed, each re-checked")
    rate_limit_per_minute: int = Field(60, ge=1, le=100_000, description="requests per minute to one domain")
    rate_limit_burst: int = Field(10, ge=1, le=10_000, description="requests to one domain allowed at once")
    max_length: int = Field(20_000, ge=100, le=10_000_000, description="default characters per fetch_webpage page")
    cache_ttl_s: int = Field(900, ge=0, le=86_400, description="how long a fetched copy serves later pages")
    cache_entries: int = Field(64, ge=1, le=10_000, description="pages kept in the fetch cache")
    max_concurrency: int = Field(4, ge=1, le=64, description="parallel fetches in fetch_many")
    search_timeout_s: float = Field(15.0, gt=0, le=120, description="time limit of one backend's search")

    @field_validator("backends")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        names = [n.strip().lower() for n in names]
        for n in names:
            if n not in BACKENDS:
                raise ValueError(f"unknown backend {n!r}; choose from {', '.join(BACKENDS)}")
        if not names:
            raise ValueError("configure at least one backend")
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _keys(self) -> WebsearchSettings:
        needs = {"searxng": self.searxng_url, "brave": self.brave_api_key, "tavily": self.tavily_api_key}
        for name, value in needs.items():
            if name in self.backends and not value:
                what = {"searxng": "K2_WEB_SEARXNG_URL / --searxng-url"}.get(name, f"K2_WEB_{name.upper()}_API_KEY")
                raise ValueError(f"backend {name!r} needs {what}")
        return self


def parse_args(argv: Sequence[str] | None = None) -> WebsearchSettings:
    parser = argparse.ArgumentParser(
        prog="k2-websearch",
        description="MCP server for web search (SearXNG, Brave, Tavily, DuckDuckGo, local BM25) and safe fetching.",
    )
    g = parser.add_argument_group("websearch")
    g.add_argument("--backend", dest="backends", action="append", help="search backend, in failover order (repeat)")
    g.add_argument("--searxng-url", dest="searxng_url", help="SearXNG base URL")
    g.add_argument("--index", dest="index", metavar="DIR", help="local index directory")
    g.add_argument(
        "--allow-private-networks",
        dest="allow_private_networks",
        action="store_const",
        const=True,
        help="allow loopback and private addresses (not recommended)",
    )
    g.add_argument("--allow-host", dest="allow_hosts", action="append", help="HOST or HOST:PORT to allow (repeat)")
    g.add_argument(
        "--ignore-robots-txt", dest="ignore_robots_txt", action="store_const", const=True, help="skip robots.txt"
    )
    g.add_argument("--user-agent", dest="user_agent", help="User-Agent header")
    g.add_argument("--max-bytes", dest="max_bytes", help="body cap in bytes after decompression")
    g.add_argument("--timeout", dest="timeout_s", metavar="S", help="total time per fetch (seconds)")
    g.add_argument("--connect-timeout", dest="connect_timeout_s", metavar="S", help="time to connect (seconds)")
    g.add_argument("--rate-limit", dest="rate_limit_per_minute", help="requests per minute per domain")
    add_common_arguments(parser)
    return load_settings(WebsearchSettings, argv, parser)
