"""Answering a server's sampling request (`sampling/createMessage`) with the host's model.

The client manager applies the per-server policy (`sampling`: allow / ask / deny, `sampling_max_tokens`) before
this runs; with the offline engine there is no model, and the request is declined with that reason.
"""

from __future__ import annotations

from collections.abc import Callable

import mcp_types as types

from k2_host.llm.base import LLMError, LLMProvider, Message
from k2_host.mcp.manager import SamplingHandler


def sampler(provider: Callable[[], LLMProvider | None]) -> SamplingHandler:
    """A sampling handler over whatever provider the runtime has when a request comes."""

    async def sample(server: str, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        model = provider()
        if model is None:
            raise LLMError("no LLM is configured (the offline engine does not generate text)")
        messages: list[Message] = []
        if params.system_prompt:
            messages.append(Message(role="system", content=params.system_prompt))
        for m in params.messages:
            blocks = m.content if isinstance(m.content, list) else [m.content]
            text = "\n".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", "") == "text")
            messages.append(Message(role="assistant" if m.role == "assistant" else "user", content=text))
        response = await model.complete(messages, (), max_tokens=params.max_tokens, temperature=params.temperature)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=response.message.content),
            model=response.model or model.model,
            stop_reason="maxTokens" if response.finish_reason == "length" else "endTurn",
        )

    return sample
