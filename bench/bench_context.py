"""The CAG layer: long-conversation recall, context assembly time, and prompt-cache hits of the stable prefix.

    .venv/bin/python bench/bench_context.py [--conversations 60] [--hybrid] [--session-turns 30]

(a) Recall. Conversations of 100-300 turns built from SciFact (../shared/data/scifact: claims, abstracts and
    their relevance judgments, written by the BEIR/SciFact authors): user turns are claims, tool results are
    abstracts read with `filesystem.read_file` (a sentence per line), assistant turns quote abstracts. Early
    on (within the first requests) two things are planted: (A) a tool result holding an abstract that SciFact
    judges relevant to a test claim; (B) a user turn stating another claim ("Note that ..."). The last
    request asks (A) the test claim, and (B) about the stated claim by its content words. Hit: for (A) a
    sentence of the relevant abstract (40+ characters) is in the assembled context; for (B) the stated claim
    is. Policies, each at an 8,000-token window with 1,024 reserved for the answer, counted with o200k_base:
    `window` (ours; keyword relevance, or `--hybrid` for embeddings too), `last-fit` (keep the newest whole
    turns that fit), `trunc-tools` (tool results cut to 2,000 characters, then the newest turns that fit).
    Assembly time is the policy's own, per request as the conversation grows (p50/p99 overall and at
    250+ turns).
(b) Prefix cache. A 30-request session through the real runtime, `OpenAICompatProvider` and the scripted
    server on loopback, with k2-filesystem over stdio on an installed package's sources: every other request
    (`--tool-every`) reads a file and answers, the ones between ask about what was read. The server computes
    what an automatic prompt cache would serve (longest shared token
    prefix with an earlier prompt, 128-token blocks from 1,024 up: `PrefixCache`) and reports it as
    `cached_tokens`; the host reads it back as `usage.cached_input_tokens`. Figure: cached / prompt tokens.

Nothing here asserts on time; targets are in bench/CONTEXT.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from k2_host.agent.loop import SYSTEM_PROMPT  # noqa: E402
from k2_host.config.model import ContextConfig  # noqa: E402
from k2_host.context.policy import ContextView, turn_message  # noqa: E402
from k2_host.context.tokens import counter_for, message_tokens, tools_tokens  # noqa: E402
from k2_host.context.transcript import AssistantTurn, ToolTurn, Turn, UserTurn  # noqa: E402
from k2_host.context.window import WindowPolicy  # noqa: E402
from k2_host.llm.base import Message, ToolCall, ToolSpec  # noqa: E402
from k2_host.mcp.types import ToolResult  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
WINDOW, RESERVE = 8000, 1024
COUNTER = counter_for("openai", "gpt-4o")
TOOLS = [
    ToolSpec(
        name="filesystem.read_file",
        description="Read a text file under the root; returns its lines.",
        input_schema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    )
]
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def load_scifact() -> tuple[dict[str, dict], dict[str, str], list[tuple[str, str]]]:
    corpus = {}
    for line in (SCIFACT / "corpus.jsonl").open():
        d = json.loads(line)
        corpus[d["_id"]] = d
    queries = {}
    for line in (SCIFACT / "queries.jsonl").open():
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    pairs = []
    for row in (SCIFACT / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, _ = row.split("\t")
        if qid in queries and did in corpus:
            pairs.append((qid, did))
    return corpus, queries, pairs


def doc_text(doc: dict) -> str:
    return doc["title"] + "\n" + "\n".join(_SENT.split(doc["text"]))


class Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.turns: list[Turn] = []
        self.n = 0

    def request(self, user: str, docs: Sequence[dict], answer: str) -> None:
        self.n += 1
        rid = f"r{self.n}"
        self.turns.append(UserTurn(text=user, request_id=rid))
        if docs:
            calls = [
                ToolCall(id=f"c{self.n}_{i}", name="filesystem.read_file", arguments={"path": f"papers/{d['_id']}.txt"})
                for i, d in enumerate(docs)
            ]
            self.turns.append(AssistantTurn(tool_calls=calls, request_id=rid))
            for call, d in zip(calls, docs, strict=True):
                result = ToolResult(name=call.name, text=doc_text(d))
                self.turns.append(ToolTurn.of(call, result, request_id=rid))
        self.turns.append(AssistantTurn(text=answer, request_id=rid))


def build_conversation(rng: random.Random, corpus: dict, queries: dict, qid: str, did: str, stated: str):
    docs = list(corpus.values())
    claims = [t for k, t in queries.items() if k != qid]
    target = rng.randint(100, 300)
    b = Builder(rng)
    plant_doc_at = rng.randint(1, 3)
    plant_claim_at = rng.randint(1, 4)
    i = 0
    while len(b.turns) < target - 1:
        i += 1
        docs_here = [rng.choice(docs) for _ in range(rng.choice([0, 0, 1, 1, 2]))]
        if i == plant_doc_at:
            docs_here = [corpus[did], rng.choice(docs)]
            rng.shuffle(docs_here)
        user = f"What about the claim that {rng.choice(claims).rstrip('.').lower()}?"
        if i == plant_claim_at:
            user = f"Note that {stated}"
        answer = _SENT.split(rng.choice(docs)["text"])[0]
        b.request(user, docs_here, answer)
    return b.turns


# --------------------------------------------------------------------------------------------- naive policies


def units_of(turns: Sequence[Turn]) -> list[list[int]]:
    out: list[list[int]] = []
    for i, t in enumerate(turns):
        if isinstance(t, ToolTurn) and out:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def naive(turns: Sequence[Turn], query_turn: UserTurn, tool_chars: int | None) -> list[Message]:
    system = Message(role="system", content=SYSTEM_PROMPT)
    budget = WINDOW - RESERVE - message_tokens(COUNTER, system) - tools_tokens(COUNTER, TOOLS) - 16
    current = Message(role="user", content=query_turn.text)
    budget -= message_tokens(COUNTER, current)
    kept: list[Message] = []
    for unit in reversed(units_of(turns)):
        msgs = [turn_message(turns[i], tool_chars or 10**9) for i in unit]
        cost = sum(message_tokens(COUNTER, m) for m in msgs)
        if cost > budget:
            break
        budget -= cost
        kept = msgs + kept
    return [system, *kept, current]


# --------------------------------------------------------------------------------------------- (a) recall


async def recall(conversations: int, hybrid: bool, seed: int, context: ContextConfig) -> dict[str, Any]:
    corpus, queries, pairs = load_scifact()
    rng = random.Random(seed)
    rng.shuffle(pairs)
    seen: set[str] = set()
    chosen = []
    for qid, did in pairs:
        if qid not in seen:
            seen.add(qid)
            chosen.append((qid, did))
        if len(chosen) == conversations:
            break
    stated_pool = [t for k, t in queries.items() if k not in seen]
    embedder = None
    if hybrid:
        from k2_host.rag.embeddings import get_embedder

        embedder = get_embedder()
    names = ["window", "last-fit", "trunc-tools"]
    hits = {n: {"A": 0, "B": 0} for n in names}
    times: list[float] = []
    late: list[float] = []
    lengths = []
    context = context.model_copy(update={"relevance": "hybrid" if hybrid else "keyword"})
    for c, (qid, did) in enumerate(chosen):
        stated = rng.choice(stated_pool)
        turns = build_conversation(rng, corpus, queries, qid, did, stated)
        lengths.append(len(turns))
        policy = WindowPolicy(context, COUNTER, reserve_output=RESERVE)
        sid = f"conv{c}"
        # as in use: one assembly per request as the conversation grows
        starts = [i for i, t in enumerate(turns) if isinstance(t, UserTurn)]
        for s in starts:
            view = ContextView(
                SYSTEM_PROMPT,
                TOOLS,
                turns[:s],
                [turns[s]],
                turns[s].text,
                0,  # type: ignore[union-attr]
                session_id=sid,
                request_id=f"{sid}-{s}",
                embedder=embedder,
            )
            t0 = time.perf_counter()
            await policy.messages(view)
            dt = (time.perf_counter() - t0) * 1000
            times.append(dt)
            if s >= 250:
                late.append(dt)
        relevant = [s for s in _SENT.split(corpus[did]["text"]) if len(s) >= 40]
        keys = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]{3,}", stated)][:6]
        questions = {"A": queries[qid], "B": f"Earlier I noted something about {' '.join(keys)}. What was it?"}
        for kind, q in questions.items():
            final = UserTurn(text=q, request_id=f"{sid}-{kind}")
            view = ContextView(
                SYSTEM_PROMPT,
                TOOLS,
                turns,
                [final],
                q,
                0,
                session_id=sid,
                request_id=f"{sid}-{kind}",
                embedder=embedder,
            )
            t0 = time.perf_counter()
            ours = await policy.messages(view)
            times.append((time.perf_counter() - t0) * 1000)
            for name, msgs in (
                ("window", ours),
                ("last-fit", naive(turns, final, None)),
                ("trunc-tools", naive(turns, final, 2000)),
            ):
                total = sum(message_tokens(COUNTER, m) for m in msgs) + tools_tokens(COUNTER, TOOLS)
                assert total <= WINDOW - RESERVE, (name, total)
                text = "\n".join(m.content for m in msgs)
                ok = any(s in text for s in relevant) if kind == "A" else stated in text
                hits[name][kind] += ok
    n = len(chosen)
    return {
        "conversations": n,
        "turns": (min(lengths), statistics.median(lengths), max(lengths)),
        "hits": {k: {kind: v[kind] / n for kind in v} for k, v in hits.items()},
        "assembly_ms": _pcts(times),
        "assembly_ms_250plus": _pcts(late),
        "relevance": "hybrid" if hybrid else "keyword",
    }


def _pcts(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    s = sorted(xs)
    return {
        "n": len(s),
        "p50": statistics.median(s),
        "p99": s[min(len(s) - 1, int(0.99 * len(s)))],
        "max": s[-1],
    }


# --------------------------------------------------------------------------------------------- (b) prefix cache


async def prefix_cache(requests: int, context: ContextConfig, tool_every: int) -> dict[str, Any]:
    import starlette
    from k2_host.agent import Agent
    from k2_host.config import HostConfig, ServerConfig
    from k2_host.llm.openai_compat import OpenAICompatProvider

    from tests.host.scripted_llm import PrefixCache, Turn, scripted_llm, tool_call

    src = Path(starlette.__file__).parent
    files = sorted(p for p in src.glob("*.py") if p.stat().st_size > 2000)
    cache = PrefixCache()

    def model(body: dict[str, Any]) -> Turn:
        usage = cache.usage(body)
        last = body["messages"][-1]
        if last["role"] == "user" and "file number" in last["content"]:
            n = int(re.findall(r"\d+", last["content"])[-1])
            return Turn(
                tool_calls=[tool_call("filesystem.read_file", {"path": str(files[n % len(files)])})], usage=usage
            )
        return Turn(text="It defines the classes the question asks about; see the file read above.", usage=usage)

    fs = str(Path(sys.executable).parent / "k2-filesystem")
    config = HostConfig(
        servers=[ServerConfig(name="filesystem", command=fs, args=["--root", str(src), "--read-only"])],
        roots=[str(src)],
        state_dir=Path(tempfile.mkdtemp(prefix="k2-bench-ctx-")),
        context=context,
    )
    reports = []
    async with scripted_llm(model) as llm:
        provider = OpenAICompatProvider(model="gpt-4o", base_url=llm.base_url, api_key="k", max_retries=0)
        try:
            async with Agent(config, provider=provider) as agent:
                cached = prompt = 0
                for i in range(requests):
                    q = (
                        f"What does file number {i} of starlette define?"
                        if i % tool_every == 0
                        else f"And what is the most important class in what you just read ({i})?"
                    )
                    r = await agent.ask(q, session="bench")
                    cached += r.usage.cached_input_tokens
                    prompt += r.usage.input_tokens
                    reports.append(r.context)
        finally:
            await provider.aclose()
    last = reports[-1]
    return {
        "requests": requests,
        "model_calls": len(llm.requests),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "ratio": cached / prompt if prompt else 0.0,
        "calls": cache.calls,
        "server_ratio": cache.cached_tokens / cache.prompt_tokens if cache.prompt_tokens else 0.0,
        "compactions": last.compactions if last else None,
        "window_used_last": last.total if last else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--hybrid", action="store_true", help="also run with embedding relevance (MiniLM)")
    parser.add_argument("--session-turns", type=int, default=30)
    parser.add_argument("--tool-every", type=int, default=2, help="(b): every Nth request reads a file (1: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compact-to", type=float, default=None, help="context.compact_to (default: the config's)")
    args = parser.parse_args()
    context = ContextConfig() if args.compact_to is None else ContextConfig(compact_to=args.compact_to)
    print(f"context: window {context.window_tokens}, compact_to {context.compact_to}, shares {context.shares}")
    modes = [False, True] if args.hybrid else [False]
    for hybrid in modes:
        out = await recall(args.conversations, hybrid, args.seed, context)
        print(
            f"\n(a) recall, {out['conversations']} conversations, turns min/median/max {out['turns']}, "
            f"relevance {out['relevance']}"
        )
        print(f"{'policy':<12} {'(A) document':>13} {'(B) stated claim':>17}")
        for name, h in out["hits"].items():
            print(f"{name:<12} {h['A']:>12.1%} {h['B']:>17.1%}")
        a = out["assembly_ms"]
        b = out["assembly_ms_250plus"]
        print(
            f"assembly ms (window): p50 {a['p50']:.2f} p99 {a['p99']:.2f} max {a['max']:.2f} over {a['n']};"
            f" at 250+ turns p50 {b.get('p50', 0):.2f} p99 {b.get('p99', 0):.2f} over {b.get('n', 0)}"
        )
    pc = await prefix_cache(args.session_turns, context, args.tool_every)
    print(
        f"\n(b) prefix cache over a {pc['requests']}-request session ({pc['model_calls']} model calls): "
        f"cached {pc['cached_tokens']} of {pc['prompt_tokens']} prompt tokens = {pc['ratio']:.3f} "
        f"(server's own tally {pc['server_ratio']:.3f}); compactions {pc['compactions']}, "
        f"last window use {pc['window_used_last']} tokens"
    )


if __name__ == "__main__":
    anyio.run(main)
