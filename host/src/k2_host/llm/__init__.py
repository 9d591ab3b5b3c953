"""The host's models: one conversation shape (`base`), OpenAI-compatible and Anthropic providers, and the
factory that picks one from settings (None means the offline engine).

The providers import their SDKs; import them from their modules (`k2_host.llm.openai_compat`,
`k2_host.llm.anthropic_provider`) or let `provider_from_settings` do it.
"""

from .base import LLMError, LLMProvider, LLMResponse, Message, StreamCallback, ToolCall, ToolSpec, Usage
from .factory import LLMSettings, provider_from_settings

__all__ = [
    "LLMError",
    "LLMProvider",
    "LLMResponse",
    "LLMSettings",
    "Message",
    "StreamCallback",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "provider_from_settings",
]
