"""The sliding-window context policy (`context.policy = "window"`, the default): the CAG layer.

Each model step gets messages assembled in this order, inside `context.window_tokens` (8,000 by default):

    1. the system prompt                                   } the stable prefix: byte-identical across turns
    2. the memory block: pinned facts + summary of          }   (and sessions), so provider prompt caches hit;
       compacted turns (changes only at a compaction)     }   it changes only when history is compacted
    3. history: the session's earlier turns since the last compaction, verbatim, append-only
    4. the tail: what was recalled for this request (older turns, cleared tool results, knowledge-index chunks,
       each with its source), then this request's turns (the user turn first, tool results bounded)

Budget = window - reserved output - tool schemas - system prompt. Shares (`context.shares`) split it between
history, knowledge (recall), tools (this request's tool results) and task (this request's other turns); what a
source does not use flows to the others. History slides in steps, not per turn: when history and memory pass
their share, a **compaction** first clears old tool results (all but the last `keep_tool_results`, each
readable again through `context.read_result`), then moves the oldest units (a user turn; an assistant turn with
its tool results, never split) into memory — their facts pinned, a summary line each — until history is back
under `compact_to` of its share. Between compactions history only grows, so the prefix stays stable.

Tool results are bounded when they arrive: over `tool_result_tokens` a result keeps its head, its tail and its
lines most relevant to the request, says what it left out, and is spilled whole to a file under the state dir
(`context.read_result` reads or greps it). Nothing is lost: the transcript keeps every turn whole.

Every assembly leaves a `ContextReport` (tokens per source, what was recalled with its provenance, what was
bounded or cleared): on `AgentResult.context`, in the trajectory, and in `k2 chat`'s `/context`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from k2_host.config.model import ContextConfig
from k2_host.context.memory import Memory, clip, facts_of
from k2_host.context.policy import ContextView, delimit
from k2_host.context.relevance import KeywordScorer, TermStats, best_lines, line_terms, term_counts, terms
from k2_host.context.spill import SpillStore
from k2_host.context.tokens import TokenCounter, message_tokens, tools_tokens
from k2_host.context.transcript import AssistantTurn, ToolTurn, Turn, UserTurn
from k2_host.llm.base import Message
from k2_host.results import ContextReport, RecalledItem

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_SAFETY = 16  # tokens kept free for a provider's framing we do not count exactly
_SNIPPET_TOKENS = 320  # one recalled item at most
_MIN_SCORE = 0.2  # below this a candidate is noise, not recall
_EXAMINED = 16  # candidates rendered at most (best first) when filling the recall share
_SESSIONS = 256  # session windows kept in memory


@dataclass(slots=True)
class Piece:
    """One transcript turn, prepared once: rendered, counted, indexed."""

    index: int
    turn: Turn
    message: Message
    tokens: int
    counts: Counter[str]  # index terms and how often they occur
    kind: str  # user / assistant / tool
    length: int = 0  # how many terms (for BM25)
    lines: list[frozenset[str]] | None = None  # terms per line, once it is first recalled
    full_text: str = ""  # tool results: the whole text (for recall after clearing)
    bounded: bool = False
    sent: Message | None = None  # a request's opening as sent (with its recall block), until a compaction
    sent_tokens: int = 0
    stub: Message | None = None
    stub_tokens: int = 0
    vec: np.ndarray | None = None


@dataclass(slots=True)
class Unit:
    """Turns that travel together: a user turn; an assistant turn and the tool results of its calls."""

    start: int
    end: int  # exclusive


@dataclass
class SessionWindow:
    """The context state of one session (rebuilt from the transcript when a process starts)."""

    session_id: str
    pieces: list[Piece] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    cut: int = 0  # units before it are compacted (in memory and recallable, not verbatim)
    cleared: set[int] = field(default_factory=set)  # tool pieces shown as stubs in verbatim history
    memory: Memory = field(default_factory=Memory)
    memory_message: Message | None = None
    memory_tokens: int = 0
    stats: TermStats = field(default_factory=TermStats)
    compactions: int = 0
    recall: dict[str, tuple[list[RecalledItem], str]] = field(default_factory=dict)  # request id -> block


KnowledgeSearch = Callable[[str, int], Awaitable[list[Any]]]


class WindowPolicy:
    name = "window"

    def __init__(
        self,
        config: ContextConfig,
        counter: TokenCounter,
        *,
        reserve_output: int,
        spill: SpillStore | None = None,
    ) -> None:
        self.config = config
        self.counter = counter
        self.reserve_output = reserve_output
        self.spill = spill or SpillStore(None)
        self._sessions: OrderedDict[str, SessionWindow] = OrderedDict()
        self._reports: OrderedDict[str, ContextReport] = OrderedDict()

    def report(self, request_id: str) -> ContextReport | None:
        return self._reports.get(request_id)

    # ------------------------------------------------------------------------------------------ state

    def session(self, session_id: str) -> SessionWindow | None:
        return self._sessions.get(session_id)

    def _window(self, session_id: str, turns: Sequence[Turn]) -> SessionWindow:
        win = self._sessions.get(session_id)
        if win is not None:
            win = self._reconcile(win, turns)
        if win is None:
            win = SessionWindow(session_id)
            self._sessions[session_id] = win
            while len(self._sessions) > _SESSIONS:
                self._sessions.popitem(last=False)
        self._sessions.move_to_end(session_id)
        for i in range(len(win.pieces), len(turns)):
            self._add_piece(win, i, turns[i], turns)
        return win

    def _reconcile(self, win: SessionWindow, turns: Sequence[Turn]) -> SessionWindow | None:
        """Keep what still matches `turns` (the same turn objects, in order). A request whose turns were not
        kept (no session) is dropped from the end; a transcript that differs in what was compacted starts over."""
        n = min(len(win.pieces), len(turns))
        m = next((i for i in range(n) if win.pieces[i].turn is not turns[i]), n)
        if m == len(win.pieces):
            return win
        compacted_end = win.units[win.cut - 1].end if win.cut else 0
        if m < compacted_end:
            return None
        for p in win.pieces[m:]:
            win.stats.remove(p.counts)
        del win.pieces[m:]
        win.units = [u for u in win.units if u.start < m]
        if win.units and win.units[-1].end > m:
            win.units[-1].end = m
        win.cleared = {i for i in win.cleared if i < m}
        win.recall.clear()
        return win

    def _add_piece(self, win: SessionWindow, index: int, turn: Turn, turns: Sequence[Turn]) -> None:
        counter = self.counter
        if isinstance(turn, UserTurn):
            message = Message(role="user", content=turn.text)
            piece = Piece(index, turn, message, message_tokens(counter, message), term_counts(turn.text), "user")
            win.units.append(Unit(index, index + 1))
        elif isinstance(turn, AssistantTurn):
            message = turn.message()
            text = turn.text + " " + " ".join(f"{c.name} {json.dumps(c.arguments)}" for c in turn.tool_calls)
            piece = Piece(index, turn, message, message_tokens(counter, message), term_counts(text), "assistant")
            win.units.append(Unit(index, index + 1))
        else:
            assert isinstance(turn, ToolTurn)
            piece = self._tool_piece(win, index, turn, turns)
            last = win.units[-1] if win.units else None
            opener = win.pieces[last.start].turn if last is not None else None
            if (
                last is not None
                and isinstance(opener, AssistantTurn)
                and last.end == index
                and any(c.id == turn.call_id for c in opener.tool_calls)
            ):
                last.end = index + 1
            else:
                win.units.append(Unit(index, index + 1))
        piece.length = sum(piece.counts.values())
        win.pieces.append(piece)
        win.stats.add(piece.counts)

    def _tool_piece(self, win: SessionWindow, index: int, turn: ToolTurn, turns: Sequence[Turn]) -> Piece:
        counter = self.counter
        full = delimit(turn.result, 10**9)
        body = turn.result.body()
        message = Message(
            role="tool", content=full, tool_call_id=turn.call_id, name=turn.name, is_error=turn.result.is_error
        )
        tokens = message_tokens(counter, message)
        bounded = False
        cap = self.config.tool_result_tokens
        if tokens > cap:
            query = terms(_request_text(turns, index))
            shown = _bound(body, query, cap, counter)
            self.spill.write(win.session_id, turn.call_id, body)
            note = (
                f"\n[bounded: {shown.note}; the whole result ({tokens} tokens) is kept: call context.read_result "
                f'with {{"id": "{turn.call_id}"}} and "offset"/"limit" (lines) or "grep"]'
            )
            message = Message(
                role="tool",
                content=delimit(turn.result.model_copy(update={"text": shown.text, "structured": None}), 10**9) + note,
                tool_call_id=turn.call_id,
                name=turn.name,
                is_error=turn.result.is_error,
            )
            tokens = message_tokens(counter, message)
            bounded = True
        stub = Message(
            role="tool",
            content=(
                f"[{turn.name} result cleared from the context window ({turn.chars} characters); "
                f'context.read_result with {{"id": "{turn.call_id}"}} reads it again]'
            ),
            tool_call_id=turn.call_id,
            name=turn.name,
            is_error=turn.result.is_error,
        )
        return Piece(
            index,
            turn,
            message,
            tokens,
            term_counts(f"{turn.name} {json.dumps(turn.arguments)} {body}"),
            "tool",
            full_text=body,
            bounded=bounded,
            stub=stub,
            stub_tokens=message_tokens(counter, stub),
        )

    # ------------------------------------------------------------------------------------------ assembly

    async def messages(self, view: ContextView) -> list[Message]:
        cfg = self.config
        counter = self.counter
        all_turns = [*view.history, *view.turns]
        win = self._window(view.session_id or "_", all_turns)
        h = len(view.history)
        system = Message(role="system", content=view.system)
        fixed = message_tokens(counter, system) + tools_tokens(counter, view.tools)
        budget = cfg.window_tokens - self.reserve_output - fixed - _SAFETY
        if budget < 64:
            raise ValueError(
                f"the context window ({cfg.window_tokens} tokens) leaves {budget} for the conversation after the "
                f"reserved output ({self.reserve_output}), the system prompt and {len(view.tools)} tool schemas "
                f"({fixed} tokens): raise context.window_tokens or offer fewer tools"
            )
        shares = cfg.shares

        # This request: mandatory; older tool results of the request are cleared first when it does not fit.
        current = [p for p in win.pieces[h:]]
        cur_msgs, cur_tokens, cur_cleared, cur_cut = _fit_current(current, budget, counter)
        tools_used = sum(t for p, t in zip(current, cur_tokens, strict=True) if p.kind == "tool")
        task_used = sum(cur_tokens) - tools_used

        # History and memory: their share plus what the request leaves of its own, compacted in steps.
        units = [u for u in win.units if u.end <= h]
        # The tools share is not lent to history: this request's tool results arrive into it, and a history cap
        # that shrank as they arrive would compact mid-request (and break the cached prefix).
        left_by_request = max(0.0, shares.task * budget - task_used)
        has_recall = win.cut > 0 or bool(win.cleared) or view.knowledge is not None
        hist_cap = shares.history * budget + left_by_request + (0 if has_recall else shares.knowledge * budget)
        hist_cap = int(min(hist_cap, budget - sum(cur_tokens)))
        verbatim = self._verbatim_tokens(win, units)
        if verbatim + win.memory_tokens > hist_cap:
            self._compact(win, units, hist_cap)
            verbatim = self._verbatim_tokens(win, units)
        hist_msgs: list[Message] = []
        for u in units[win.cut :]:
            for p in win.pieces[u.start : u.end]:
                if p.index in win.cleared and p.stub is not None:
                    hist_msgs.append(p.stub)
                else:
                    hist_msgs.append(p.sent or p.message)

        # The tail: recall for this request (older turns, cleared results, knowledge), in what is left.
        room = budget - sum(cur_tokens) - verbatim - win.memory_tokens
        # results still to come (chosen at step 0): the tools share, or one bounded result when that is more
        expected_tools = max(0, min(budget // 3, max(int(shares.tools * budget), cfg.tool_result_tokens)) - tools_used)
        recalled, block = await self._recall(win, view, units, room, expected_tools, budget)
        head = [system, *([win.memory_message] if win.memory_message is not None else []), *hist_msgs]
        limit = budget + message_tokens(counter, system)  # every message, the system prompt included
        out = _with_recall(head, cur_msgs, block)
        while recalled and sum(message_tokens(counter, m) for m in out) > limit:  # counted apart, sent together
            recalled = recalled[:-1]
            block = _render_block(recalled) if recalled else ""
            out = _with_recall(head, cur_msgs, block)
        used_recall = 0
        if block and cur_msgs:
            used_recall = message_tokens(counter, out[len(head)]) - message_tokens(counter, cur_msgs[0])
        if h < len(win.pieces) and win.pieces[h].kind == "user" and len(out) > len(head):
            # History shows this opening as it was sent (its recall block too) until the next compaction, so the
            # next request's prompt starts with this one's byte for byte.
            opening, first = out[len(head)], win.pieces[h]
            first.sent = opening if opening.content != first.message.content else None
            first.sent_tokens = message_tokens(counter, opening) if first.sent is not None else 0
        report = ContextReport(
            window=cfg.window_tokens,
            budget=budget,
            reserved_output=self.reserve_output,
            counter=counter.name,
            exact=counter.exact,
            used={
                "system": message_tokens(counter, system),
                "tool_schemas": tools_tokens(counter, view.tools),
                "memory": win.memory_tokens,
                "history": verbatim,
                "knowledge": used_recall,
                "tools": tools_used,
                "task": task_used,
            },
            prefix_tokens=message_tokens(counter, system) + win.memory_tokens + verbatim,
            turns_verbatim=sum(u.end - u.start for u in units[win.cut :]),
            turns_compacted=sum(u.end - u.start for u in units[: win.cut]),
            compactions=win.compactions,
            pinned_facts=len(win.memory.facts),
            recalled=recalled,
            bounded=[p.turn.call_id for p in win.pieces if p.bounded and isinstance(p.turn, ToolTurn)][-20:],
            cleared=len(win.cleared) + cur_cleared,
            request_cut=cur_cut,
        )
        self._reports[view.request_id] = report
        while len(self._reports) > _SESSIONS:
            self._reports.popitem(last=False)
        return _fit_total(out, limit, self.counter, len(head))

    def _verbatim_tokens(self, win: SessionWindow, units: Sequence[Unit]) -> int:
        return sum(self._shown_tokens(win, p) for u in units[win.cut :] for p in win.pieces[u.start : u.end])

    def _compact(self, win: SessionWindow, units: Sequence[Unit], cap: int) -> None:
        """Clear old tool results, then move the oldest units into memory, until under `compact_to` of cap."""
        target = int(self.config.compact_to * cap)
        win.compactions += 1
        keep = self.config.keep_tool_results
        tool_pieces = [p for u in units[win.cut :] for p in win.pieces[u.start : u.end] if p.kind == "tool"]
        for p in tool_pieces[: max(0, len(tool_pieces) - keep)]:
            win.cleared.add(p.index)
        for u in units[win.cut :]:  # recall blocks kept with their requests go at a compaction
            first = win.pieces[u.start]
            first.sent, first.sent_tokens = None, 0
        verbatim = self._verbatim_tokens(win, units)
        moved = False
        while win.cut < len(units) and verbatim + win.memory_tokens > target:
            unit = units[win.cut]
            verbatim -= sum(self._shown_tokens(win, p) for p in win.pieces[unit.start : unit.end])
            self._remember(win, unit)
            win.cut += 1
            moved = True
            if win.cut % 8 == 0:  # the memory block grows as units move in: re-measure now and then
                self._memory_tokens(win, cap)
        if moved:
            self._memory_tokens(win, cap)

    @staticmethod
    def _shown_tokens(win: SessionWindow, p: Piece) -> int:
        if p.index in win.cleared:
            return p.stub_tokens
        return p.sent_tokens if p.sent is not None else p.tokens

    def _remember(self, win: SessionWindow, unit: Unit) -> None:
        pieces = win.pieces[unit.start : unit.end]
        first = pieces[0]
        turn = first.turn
        if isinstance(turn, UserTurn):
            for fact in facts_of(turn.text, first.index):
                win.memory.pin(fact)
            win.memory.note(f"- [turn {first.index}] user: {clip(turn.text, 160)}")
        elif isinstance(turn, AssistantTurn):
            calls = ", ".join(c.name for c in turn.tool_calls)
            said = clip(turn.text, 160) if turn.text else ""
            line = f"- [turn {first.index}] assistant: {said}" + (f" (called {calls})" if calls else "")
            win.memory.note(line)
        else:
            assert isinstance(turn, ToolTurn)
            win.memory.note(f"- [turn {first.index}] tool result {turn.name}")

    def _memory_tokens(self, win: SessionWindow, cap: int) -> None:
        """Render the memory block within its share of history (summary lines go oldest first)."""
        limit = int(self.config.memory_share * cap)
        text = win.memory.render()
        tokens = self.counter.count(text) + 8 if text else 0
        while tokens > limit and win.memory.summary:
            win.memory.drop_summary(max(1, len(win.memory.summary) // 4))  # in chunks: fewer prefix changes
            text = win.memory.render()
            tokens = self.counter.count(text) + 8 if text else 0
        while tokens > limit and len(win.memory.facts) > 1:  # only when facts alone overflow: the oldest go
            win.memory.drop_oldest_fact()
            text = win.memory.render()
            tokens = self.counter.count(text) + 8
        win.memory_message = Message(role="system", content=text) if text else None
        win.memory_tokens = message_tokens(self.counter, win.memory_message) if win.memory_message else 0

    async def _recall(
        self,
        win: SessionWindow,
        view: ContextView,
        units: Sequence[Unit],
        room: int,
        expected_tools: int,
        budget: int,
    ) -> tuple[list[RecalledItem], str]:
        """What to bring back for this request: chosen once, at its first step, leaving room for the tool
        results still to come, then sent unchanged at every step (a stable prefix within the request too)."""
        key = view.request_id or view.query
        if key not in win.recall:
            limit = min(room - expected_tools, int(self.config.shares.knowledge * budget))
            kept = await self._choose(win, view, units, limit)
            win.recall = {key: (kept, _render_block(kept) if kept else "")}
        kept, block = win.recall[key]
        return list(kept), block

    async def _choose(
        self, win: SessionWindow, view: ContextView, units: Sequence[Unit], limit: int
    ) -> list[RecalledItem]:
        """The best candidates that fit in `limit` tokens: scored all, rendered only as far as they fit."""
        if limit <= _OVERHEAD + 32:
            return []
        query = terms(view.query)
        candidates: list[Piece] = [p for u in units[: win.cut] for p in win.pieces[u.start : u.end]]
        candidates += [win.pieces[i] for i in sorted(win.cleared)]
        sims = self._similarities(view, candidates)
        n = max(1, len(win.pieces))
        keyword = KeywordScorer(query, win.stats)
        raw = [keyword(p.counts, p.length) for p in candidates]
        top = max(raw, default=0.0)
        ranked: list[tuple[float, int, Any]] = []  # (-score, -index: newest first among equals, candidate)
        for j, p in enumerate(candidates):
            # BM25 relative to the best candidate (damped when even the best matches little), embeddings, recency
            kw = raw[j] / top * min(1.0, 4 * top) if top > 0 else 0.0
            score = (kw if sims is None else 0.5 * kw + 0.5 * float(sims[j])) + 0.05 * p.index / n
            if score >= _MIN_SCORE:
                ranked.append((-score, -p.index, p))
        if view.knowledge is not None and self.config.knowledge_k > 0 and view.query.strip():
            try:
                hits = await view.knowledge(view.query, self.config.knowledge_k)
            except Exception as exc:  # the index is an extra: a failure leaves it out
                logger.warning("knowledge recall skipped: %s", exc)
                hits = []
            for rank, h in enumerate(hits):
                score = float(getattr(h, "score", 0.5) or 0.5)
                ranked.append((-max(score, _MIN_SCORE), rank, h))
        ranked.sort(key=lambda r: (r[0], r[1]))
        out: list[RecalledItem] = []
        seen: set[str] = {view.query.strip()}
        used = _OVERHEAD
        for neg, _, c in ranked[:_EXAMINED]:
            if isinstance(c, Piece):
                snippet = _snippet(c.full_text if c.kind == "tool" else _piece_text(c), query, self.counter, c)
                ref = f"turn {c.index} · {c.kind}"
                if isinstance(c.turn, ToolTurn):
                    ref = f"turn {c.index} · tool {c.turn.name} (call {c.turn.call_id})"
                source = "history"
            else:
                snippet = _snippet(str(c.text), query, self.counter)
                ref, source = str(c.citation), "knowledge"
            if snippet in seen:  # the same words said again: once is enough
                continue
            seen.add(snippet)
            tokens = self.counter.count(f"[{ref}] {snippet}") + 2
            if used + tokens > limit:
                if limit - used < 48:
                    break
                continue
            used += tokens
            out.append(RecalledItem(source=source, ref=ref, score=round(-neg, 3), tokens=tokens, text=snippet))
        return out

    def _similarities(self, view: ContextView, candidates: Sequence[Piece]) -> np.ndarray | None:
        embedder = view.embedder
        if embedder is None or not candidates or self.config.relevance == "keyword":
            return None
        missing = [p for p in candidates if p.vec is None]
        if missing:
            vecs = embedder.embed_documents([_piece_text(p)[:2000] for p in missing])
            for p, v in zip(missing, vecs, strict=True):
                p.vec = v
        q = embedder.embed_query(view.query)
        import numpy as np  # with an embedder only

        return np.stack([p.vec for p in candidates]) @ q  # type: ignore[misc]


_OVERHEAD = 40  # the recall block's own framing


def _with_recall(head: list[Message], current: list[Message], block: str) -> list[Message]:
    """The recall block opens this request's first message: the tail, after the cacheable prefix; it stays the
    same at every step of the request (never part of history)."""
    if not current:
        return list(head)
    first = current[0]
    if block:
        first = first.model_copy(update={"content": block + first.content})
    return [*head, first, *current[1:]]


def _render_block(items: Sequence[RecalledItem]) -> str:
    lines = ['<context source="k2-recall">', "Recalled for this request (by relevance; excerpts, may be partial):"]
    for item in items:
        lines.append(f"[{item.ref}] {item.text}")
    lines.append("</context>\n\n")
    return "\n".join(lines)


def _piece_text(p: Piece) -> str:
    t = p.turn
    if isinstance(t, UserTurn):
        return t.text
    if isinstance(t, AssistantTurn):
        return t.text or " ".join(c.name for c in t.tool_calls)
    return p.full_text


def _request_text(turns: Sequence[Turn], index: int) -> str:
    for t in reversed(turns[:index]):
        if isinstance(t, UserTurn):
            return t.text
    return ""


@dataclass(slots=True)
class _Shown:
    text: str
    note: str


def _bound(body: str, query: frozenset[str], cap: int, counter: TokenCounter) -> _Shown:
    """Head, tail and the lines most relevant to the request, within about `cap` tokens."""
    lines = body.splitlines() or [body]
    n = len(lines)
    target = max(64, cap - 80)
    order = [*range(min(n, 5)), *range(max(0, n - 3), n), *best_lines(body, query, limit=60)]
    order += [*range(5, min(n, 40)), *range(max(0, n - 10), max(0, n - 3))]
    keep: set[int] = set()
    used = 0
    for i in order:
        if i in keep:
            continue
        c = counter.count(lines[i]) + 1
        if used + c > target:
            continue
        keep.add(i)
        used += c
    if not keep:  # one long line (minified JSON, a blob): its head and tail by characters
        head = _cut_to(body, target * 3 // 4, counter)
        tail = _cut_to(body[::-1], target // 5, counter)[::-1]
        text = f"{head} […] {tail}"
        return _Shown(text, f"showing the first {len(head)} and last {len(tail)} of {len(body)} characters")
    out: list[str] = []
    prev = -1
    for i in sorted(keep):
        if i != prev + 1:
            out.append(f"[… lines {prev + 2}-{i} omitted …]")
        out.append(lines[i])
        prev = i
    if prev < n - 1:
        out.append(f"[… lines {prev + 2}-{n} omitted …]")
    return _Shown("\n".join(out), f"showing {len(keep)} of {n} lines (head, tail and the lines that match the request)")


def _cut_to(text: str, tokens: int, counter: TokenCounter) -> str:
    """The longest prefix of `text` (by a few halvings) within `tokens`."""
    size = min(len(text), tokens * 4)
    while size > 8 and counter.count(text[:size]) > tokens:
        size = size * 3 // 4
    return text[:size]


def _snippet(text: str, query: frozenset[str], counter: TokenCounter, piece: Piece | None = None) -> str:
    """The part of a recalled item worth showing: whole when short, else its most relevant lines."""
    text = text.strip()
    if counter.count(text) <= _SNIPPET_TOKENS:
        return " ".join(text.split()) if "\n" not in text else text
    lines = text.splitlines()
    if piece is not None and piece.lines is None:
        piece.lines = line_terms(text)
    found = best_lines(text, query, limit=8, lines=piece.lines if piece is not None else None)
    picked = sorted(found) or list(range(min(4, len(lines))))
    return _cut_to("\n".join(lines[i] for i in picked), _SNIPPET_TOKENS, counter) + " …"


def _fit_current(
    pieces: Sequence[Piece], budget: int, counter: TokenCounter
) -> tuple[list[Message], list[int], int, bool]:
    """This request's messages within `budget`: older tool results stubbed first, then the longest cut."""
    msgs = [p.message for p in pieces]
    toks = [p.tokens for p in pieces]
    cleared = 0
    cut = False
    total = sum(toks)
    if total <= budget:
        return msgs, toks, 0, False
    last_unit_start = max((i for i, p in enumerate(pieces) if p.kind != "tool"), default=0)
    order = [i for i, p in enumerate(pieces) if p.kind == "tool" and p.stub is not None]
    order = [i for i in order if i < last_unit_start] + [i for i in order if i >= last_unit_start]
    for i in order:
        if total <= budget:
            break
        stub = pieces[i].stub
        assert stub is not None
        total += pieces[i].stub_tokens - toks[i]
        msgs[i], toks[i] = stub, pieces[i].stub_tokens
        cleared += 1
    while total > budget:  # still over: the longest message is cut (and says so)
        i = max(range(len(toks)), key=lambda k: toks[k])
        if toks[i] <= 24:
            break
        want = max(16, toks[i] - (total - budget) - 8)
        content = msgs[i].content
        while counter.count(content) > want and len(content) > 8:
            content = content[: len(content) * 3 // 4]
        content = content + "\n[cut to fit the context window]"
        msg = msgs[i].model_copy(update={"content": content, "reasoning": None})
        new = message_tokens(counter, msg)
        if new >= toks[i]:
            break
        total += new - toks[i]
        msgs[i], toks[i] = msg, new
        cut = True
    return msgs, toks, cleared, cut


def _fit_total(messages: list[Message], limit: int, counter: TokenCounter, start: int) -> list[Message]:
    """The last guard: when the assembled window is still over (a memory block alone over a tiny budget),
    history goes, then memory; the system prompt and this request (from `start`) always stay."""
    if sum(message_tokens(counter, m) for m in messages) <= limit:
        return messages
    current = messages[start:]
    if len(messages) > 1 and messages[1].role == "system":
        with_memory = [messages[0], messages[1], *current]
        if sum(message_tokens(counter, m) for m in with_memory) <= limit:
            return with_memory
    return [messages[0], *current]
