"""Export for fine-tuning elsewhere: OpenAI-style chat JSONL from rated trajectories.

    sft_record(trajectory, tools)      {"messages": [...], "tools": [...]}: an answer rated good, tool calls
                                       and results included (a model's own turns; the offline engine's plan
                                       steps as the tool calls a model would have made)
    dpo_record(query, good, bad)       {"input": {"messages": [...]}, "preferred_output": [...],
                                        "non_preferred_output": [...]}: the same request answered twice, once
                                       rated good and once bad

Everything exported is what the recorder kept, so it is already redacted of secrets.
"""

from __future__ import annotations

import json
from typing import Any

from k2_host.learning.trajectory import Trajectory
from k2_host.llm.base import Message, ToolSpec


def _wire_name(name: str) -> str:
    return name.replace(".", "__")  # OpenAI function names allow letters, digits, _ and -


def _message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content or ""}
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": _wire_name(c.name), "arguments": c.raw_arguments or json.dumps(c.arguments)},
            }
            for c in m.tool_calls
        ]
    if m.role == "tool":
        out["tool_call_id"] = m.tool_call_id or ""
    return out


def conversation(t: Trajectory) -> list[dict[str, Any]]:
    """The request as chat messages: what the model saw at its last step and what it answered; for the offline
    engine, the user's request, one assistant turn per tool call with its result, and the answer."""
    steps = [s for s in t.model_steps if s.output is not None]
    if steps:
        last = steps[-1]
        messages = [t.messages[i] for i in last.input]
        assert last.output is not None
        return [_message(m) for m in [*messages, t.messages[last.output]]]
    out: list[dict[str, Any]] = [{"role": "user", "content": t.query}]
    for call in t.tool_calls:
        if call.source != "mcp":
            continue
        out.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": _wire_name(call.name), "arguments": json.dumps(call.arguments)},
                    }
                ],
            }
        )
        out.append({"role": "tool", "tool_call_id": call.id, "content": str(call.result.get("text", ""))})
    out.append({"role": "assistant", "content": t.answer})
    return out


def tool_schemas(t: Trajectory, specs: dict[str, ToolSpec]) -> list[dict[str, Any]]:
    """The function definitions of the tools the conversation uses (those offered, for a model's trajectory)."""
    names: list[str] = []
    for step in t.model_steps:
        names += [n for n in step.tools if n not in names]
    names += [c.name for c in t.tool_calls if c.name not in names]
    out = []
    for name in names:
        spec = specs.get(name)
        out.append(
            {
                "type": "function",
                "function": {
                    "name": _wire_name(name),
                    "description": spec.description if spec else "",
                    "parameters": spec.input_schema if spec else {"type": "object", "properties": {}},
                },
            }
        )
    return out


def sft_record(t: Trajectory, specs: dict[str, ToolSpec]) -> dict[str, Any]:
    record: dict[str, Any] = {"messages": conversation(t)}
    tools = tool_schemas(t, specs)
    if tools:
        record["tools"] = tools
    return record


def dpo_record(good: Trajectory, bad: Trajectory) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": good.query}]},
        "preferred_output": [{"role": "assistant", "content": good.answer}],
        "non_preferred_output": [{"role": "assistant", "content": bad.answer}],
    }
