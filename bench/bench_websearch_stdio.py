"""k2-websearch `fetch_webpage` against the official `mcp-server-fetch` (PyPI) `fetch`, over stdio, same pages.

    .venv/bin/python bench/bench_websearch_stdio.py        (or: python3 dev.py bench bench/bench_websearch_stdio.py)
    .venv/bin/python bench/bench_websearch_stdio.py --calls 40 --big-calls 10

A few real-looking pages are built here (a news article, a blog post, a documentation page, a product page, a
forum thread), each with known main-text sentences and known boilerplate (navigation, cookie banner, related
links, ads, footer), in two sizes: about 10 KB, and about 1 MB (the same page padded with a long comment
section of boilerplate and a long article). A ThreadingHTTPServer on 127.0.0.1 serves them.

    ours   .venv/bin/k2-websearch --allow-host 127.0.0.1:PORT --ignore-robots-txt, tool `fetch_webpage`
           (format markdown, max_length 999,999: the whole page in one answer)
    peer   mcp-server-fetch (PEER_PIN) in its own venv under .cache/bench/fetch-venv, --ignore-robots-txt and
           its private-address override where the installed version has one, tool `fetch` (max_length 999,999);
           with Node on PATH its readabilipy runs Mozilla Readability in a Node subprocess per page
    peer-nonode  the same with a PATH that holds no Node (readabilipy's pure-Python fallback), when Node exists

Latency: each call timed from the write of the request to its parsed answer, sequentially, the targets
alternating call by call; p50 and p99 per size. Every call fetches the page again (ours revalidates its cache
with the server, which sends no validators, so it is a full fetch and extraction every time).
Quality, per page: kept = share of the main-text sentences found in the answer; dropped = share of the
boilerplate sentences absent from it. Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_filesystem_stdio import RpcPipe  # noqa: E402

PEER_PIN = "mcp-server-fetch==2026.10.24"
PEER_VENV = ROOT / ".cache" / "bench" / "fetch-venv"
OURS = ROOT / ".venv" / "bin" / "k2-websearch"

WORDS = [
    *("river", "harbour", "council", "budget", "engineer", "library", "festival", "climate", "orchard", "railway"),
    *("bridge", "museum", "teacher", "village", "market", "tunnel", "summer", "winter", "research", "station"),
    *("garden", "hospital", "coastline", "reservoir", "ferry"),
]
BOILER = [
    "Accept all cookies to continue browsing our site",
    "Subscribe to our newsletter for weekly updates",
    "Follow us on social media for the latest news",
    "Copyright all rights reserved privacy policy terms of use",
    "Sponsored content recommended for you by our partners",
    "Sign in to your account or register for free today",
    "Share this story on your favourite network",
    "Read more stories like this in our weekly digest",
]
INLINE = '<div class="share-bar">{s}</div><div class="newsletter-box"><p>{n}</p><button>Sign up</button></div>'


def sentences(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 22))]
        out.append(f"{words[0].capitalize()} {' '.join(words[1:])} number {seed}x{i}.")
    return out


def main_html(kind: str, main: list[str]) -> str:
    """The main content as each kind of site marks it up, with boilerplate mixed into it as real sites do."""
    groups = [main[i : i + 4] for i in range(0, len(main), 4)]
    inline = INLINE.format(s=BOILER[6], n=BOILER[7])
    if kind == "news":  # paragraphs, with a share bar and a newsletter box in the middle of the article
        parts = [f"<p>{' '.join(g)}</p>" for g in groups]
        parts.insert(len(parts) // 2, inline)
        return '<p class="byline">By A. Reporter</p>' + "".join(parts)
    if kind == "blog":  # text separated by <br>, not paragraphs
        return '<div class="entry">' + "<br><br>".join(" ".join(g) for g in groups) + "</div>" + inline
    if kind == "docs":  # headings, lists and a code block
        out = []
        for i, g in enumerate(groups):
            out.append(f"<h2>Section {i}</h2><p>{g[0]}</p><ul>{''.join(f'<li>{x}</li>' for x in g[1:])}</ul>")
            out.append(f"<pre><code>config.section_{i} = True</code></pre>")
        return "".join(out)
    if kind == "product":  # a description and a specification table
        rows = "".join(f"<tr><th>Spec {i}</th><td>{x}</td></tr>" for i, x in enumerate(main[len(main) // 2 :]))
        desc = "".join(f"<p>{x}</p>" for x in main[: len(main) // 2])
        return f'<div class="description">{desc}</div><table class="specs">{rows}</table>{inline}'
    posts = "".join(  # forum: one div per post, each with a signature
        f'<div class="post"><div class="meta">Posted by member{i}</div><div class="body">{" ".join(g)}</div></div>'
        for i, g in enumerate(groups)
    )
    return posts


def page(kind: str, seed: int, main_n: int, padding: int) -> tuple[str, list[str]]:
    main = sentences(seed, main_n)
    nav = "".join(f'<li><a href="/{w}">{w.title()}</a></li>' for w in WORDS[:12])
    related = "".join(f'<li><a href="/related/{i}">{BOILER[4]} {i}</a></li>' for i in range(6))
    comments = "".join(
        f'<div class="comment"><span class="author">user{i}</span><p>{BOILER[i % 4]} reply {i}</p></div>'
        for i in range(padding)
    )
    wrapper = {"news": "article", "blog": "article", "docs": "main", "product": "section", "forum": "div"}[kind]
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{kind} page {seed}</title>
<script>window.dataLayer = [{{"event": "{BOILER[3]}"}}];</script><style>.ad {{ display: block }}</style></head><body>
<div class="cookie-banner">{BOILER[0]}</div>
<header><nav><ul>{nav}</ul></nav><div class="account">{BOILER[5]}</div></header>
<{wrapper} class="content"><h1>{kind.title()} headline {seed}</h1>{main_html(kind, main)}</{wrapper}>
<aside class="sidebar"><h3>Related</h3><ul>{related}</ul><div class="ad">{BOILER[4]}</div></aside>
<section class="comments">{comments}</section>
<footer><p>{BOILER[1]}</p><p>{BOILER[2]}</p><p>{BOILER[3]}</p></footer></body></html>"""
    return html, main


def build_pages() -> dict[str, tuple[bytes, list[str], str]]:
    pages: dict[str, tuple[bytes, list[str], str]] = {}
    for i, kind in enumerate(["news", "blog", "docs", "product", "forum"]):
        small, main = page(kind, i, 44, 8)
        pages[f"/{kind}-10k.html"] = (small.encode(), main, "10KB")
        big, big_main = page(kind, 100 + i, 1900, 5200)
        pages[f"/{kind}-1m.html"] = (big.encode(), big_main, "1MB")
    return pages


def serve(pages: dict[str, tuple[bytes, list[str], str]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            entry = pages.get(self.path)
            body = entry[0] if entry else b"User-agent: *\nAllow: /\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8" if entry else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def ensure_peer() -> Path | None:
    exe = PEER_VENV / "bin" / "mcp-server-fetch"
    if not exe.exists():
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
            subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER_PIN], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"could not install the peer ({exc}): its rows are left out", file=sys.stderr)
            return None
    return exe


def peer_flags(exe: Path) -> list[str]:
    helptext = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False).stdout
    flags = ["--ignore-robots-txt"]
    flags += [f for f in re.findall(r"--allow-[a-z-]*private[a-z-]*|--allow-[a-z-]*local[a-z-]*", helptext)][:1]
    return flags


def answer_text(msg: dict) -> tuple[bool, str]:
    result = msg.get("result") or {}
    text = "\n".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")
    return bool(result.get("isError")) or "error" in msg, text


def call(pipe: RpcPipe, tool: str, args: dict) -> tuple[float, bool, str]:
    started = time.perf_counter()
    pipe.send([pipe.request("tools/call", {"name": tool, "arguments": args})])
    answers: list[dict] = []
    while not any("id" in a for a in answers):
        answers += pipe.receive()
    elapsed = time.perf_counter() - started
    failed, text = answer_text(next(a for a in answers if "id" in a))
    return elapsed, failed, text


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def quality(text: str, main: list[str]) -> tuple[float, float]:
    seen = norm(text)
    kept = sum(norm(s).strip() in seen for s in main) / len(main)
    dropped = sum(norm(b).strip() not in seen for b in BOILER) / len(BOILER)
    return kept, dropped


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=30, help="timed calls per 10 KB page and target")
    ap.add_argument("--big-calls", type=int, default=6, help="timed calls per 1 MB page and target")
    opts = ap.parse_args()
    pages = build_pages()
    httpd = serve(pages)
    port = httpd.server_address[1]
    targets: dict[str, tuple[list[str], str, dict]] = {}
    work = Path(tempfile.mkdtemp(prefix="k2-bench-web-"))
    ours_cmd = [str(OURS), "--allow-host", f"127.0.0.1:{port}", "--ignore-robots-txt", "--index", str(work / "index")]
    ours_cmd += ["--rate-limit", "100000", "--log-level", "WARNING"]
    targets["ours"] = (ours_cmd, "fetch_webpage", {"max_length": 999_999})
    exe = ensure_peer()
    if exe is not None:
        targets["peer"] = ([str(exe), *peer_flags(exe)], "fetch", {"max_length": 999_999})
        if shutil.which("node"):  # readabilipy runs Mozilla Readability in a Node subprocess when Node is on PATH
            no_node = ["/usr/bin/env", f"PATH={exe.parent}", str(exe), *peer_flags(exe)]
            targets["peer-nonode"] = (no_node, "fetch", {"max_length": 999_999})
    pipes = {name: RpcPipe(cmd, work, work / f"{name}.log") for name, (cmd, _, _) in targets.items()}
    for pipe in pipes.values():
        pipe.handshake()
    for name, (cmd, _, _) in targets.items():
        print(f"{name}: {' '.join(cmd)}")
    lat: dict[tuple[str, str], list[float]] = {}
    qual: dict[tuple[str, str], list[tuple[float, float]]] = {}
    failures: dict[str, int] = {}
    per_page: list[str] = []
    for path, (_body, main_text, size) in pages.items():
        url = f"http://127.0.0.1:{port}{path}"
        n = opts.calls if size == "10KB" else opts.big_calls
        for name, (_, tool, extra) in targets.items():  # warm-up and quality
            _, failed, text = call(pipes[name], tool, {"url": url, **extra})
            if failed:
                failures[name] = failures.get(name, 0) + 1
                print(f"  {name} failed on {path}: {text[:200]}", file=sys.stderr)
            figures = quality(text, main_text)
            qual.setdefault((name, size), []).append(figures)
            per_page.append(f"  {path:18} {name:11} kept {figures[0]:6.1%}  dropped {figures[1]:6.1%}")
        for _ in range(n):
            for name, (_, tool, extra) in targets.items():
                elapsed, failed, _ = call(pipes[name], tool, {"url": url, **extra})
                lat.setdefault((name, size), []).append(elapsed)
                failures[name] = failures.get(name, 0) + failed
    httpd.shutdown()
    for pipe in pipes.values():
        pipe.proc.stdin.close()  # type: ignore[union-attr]
        pipe.proc.wait(10)
    print("\nquality per page:", *per_page, sep="\n")
    print(f"\n{'target':11} {'size':5} {'calls':>5} {'p50 ms':>9} {'p99 ms':>9} {'kept':>6} {'dropped':>8}")
    for (name, size), values in sorted(lat.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        q = qual[(name, size)]
        kept = statistics.mean(k for k, _ in q)
        dropped = statistics.mean(d for _, d in q)
        print(
            f"{name:11} {size:5} {len(values):5d} {pct(values, 0.5):9.1f} {pct(values, 0.99):9.1f}"
            f" {kept:6.1%} {dropped:8.1%}"
        )
    for peer in (t for t in targets if t != "ours"):
        for size in ("10KB", "1MB"):
            ratio = statistics.median(lat[(peer, size)]) / statistics.median(lat[("ours", size)])
            print(f"p50 speed-up over {peer} at {size}: {ratio:.1f}x (target: several times faster)")
    print(f"failed calls: {failures or 'none'}")


if __name__ == "__main__":
    main()
