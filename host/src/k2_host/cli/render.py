"""What the CLI shows: progress on stderr (a person's terminal only), results on stdout."""

from __future__ import annotations

import json
import sys

from k2_host.results import AgentEvent, AgentResult, ContextReport


class Progress:
    """Shows what the agent is doing on stderr; streams the model's text to stdout when asked to."""

    def __init__(self, enabled: bool, stream_text: bool = False) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.stream_text = stream_text
        self.streamed = False

    async def __call__(self, event: AgentEvent) -> None:
        if event.kind == "text" and self.stream_text:
            sys.stdout.write(event.text)
            sys.stdout.flush()
            self.streamed = True
            return
        if not self.enabled:
            return
        if event.kind == "tool_start":
            print(
                f"  → {event.text} {json.dumps(event.data.get('arguments', {}), ensure_ascii=False)[:120]}",
                file=sys.stderr,
            )
        elif event.kind == "tool_end" and event.data.get("is_error"):
            print(f"  ✗ {event.text}: {event.data.get('summary', '')[:160]}", file=sys.stderr)
        elif event.kind == "progress":
            total = event.data.get("total")
            frac = f"{event.data['progress']:.0f}/{total:.0f}" if total else f"{event.data['progress']:.0f}"
            print(f"    … {event.data.get('tool')} {frac} {event.text}", file=sys.stderr)


def print_result(result: AgentResult, as_json: bool) -> None:
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    print(result.answer)
    if result.skill is not None:
        s = result.skill
        how = {"router": "chosen by the router", "named": "as asked", "model": "activated by the model"}[s.chosen_by]
        score = f", score {s.score:.2f}" if s.score is not None else ""
        state = "" if s.ok else f"; it did not answer ({s.reason})"
        print(f"\nSkill: {s.name} ({how}{score}){state}", file=sys.stderr)
    if result.citations:
        where: dict[str, list[str]] = {}
        for c in result.citations:
            where.setdefault(c.source, [])
            if c.location:
                where[c.source].append(c.location)
        print("\nSources:", file=sys.stderr)
        for source, locations in list(where.items())[:5]:
            print(f"  {source}{' (' + ', '.join(locations) + ')' if locations else ''}", file=sys.stderr)
    if result.errors:
        print("\nDegraded: " + "; ".join(result.errors[:5]), file=sys.stderr)


def render_context(report: ContextReport | None) -> str:
    """`/context` in `k2 chat`: the window at the last step, tokens per source."""
    if report is None:
        return "no context report yet (ask something first; the `full` policy does not report)"
    exact = "exact" if report.exact else "estimate"
    lines = [
        f"context window {report.window} tokens ({report.counter}, {exact}); reserved for the answer "
        f"{report.reserved_output}; used {report.total}",
    ]
    for source, tokens in report.used.items():
        bar = "#" * max(0, round(40 * tokens / max(1, report.window)))
        lines.append(f"  {source:<13} {tokens:>6}  {bar}")
    lines.append(
        f"  turns: {report.turns_verbatim} verbatim, {report.turns_compacted} compacted "
        f"({report.compactions} compactions); pinned facts: {report.pinned_facts}; stable prefix "
        f"{report.prefix_tokens} tokens; cleared results: {report.cleared}"
    )
    for item in report.recalled[:8]:
        lines.append(f"  recalled [{item.ref}] score {item.score:.2f}, {item.tokens} tokens")
    return "\n".join(lines)
