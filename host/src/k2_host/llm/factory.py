"""Choosing the host's model: `LLMConfig` (the config's `llm` section, with `K2_LLM_*` laid over it by
`k2_host.config`; `LLMSettings` reads the environment alone) and `provider_from_settings`.

`provider` picks the backend; `"auto"` (the default) looks at what is configured, in this order:

1. `K2_LLM_BASE_URL` set: an OpenAI-compatible server there (Kimi when the URL is Moonshot's). The key is
   optional, since local servers (vLLM, Ollama, llama.cpp) need none; `K2_LLM_MODEL` names the model.
2. `MOONSHOT_API_KEY`: Kimi K2.5 at https://api.moonshot.ai/v1.
3. `OPENAI_API_KEY`: OpenAI.
4. `ANTHROPIC_API_KEY`: Anthropic.
5. nothing: the offline engine (`provider_from_settings` returns None).

`K2_LLM_API_KEY` overrides the provider's own variable. An explicit provider whose key is missing is an
`LLMError` that names the variable to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .base import LLMError, LLMProvider

ProviderName = Literal["auto", "offline", "openai", "kimi", "anthropic"]

MOONSHOT_BASE_URL = "https://api.moonshot.ai/v1"
KIMI_MODEL = "kimi-k2.5"
OPENAI_MODEL = "gpt-4.1-mini"
ANTHROPIC_MODEL = "claude-sonnet-4-5"
_KEY_ENV = {"kimi": "MOONSHOT_API_KEY", "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class LLMConfig(BaseModel):
    """The model the host talks to: the `llm` section of the host's configuration (no environment read here;
    `k2_host.config` lays `K2_LLM_*` over the file). `LLMSettings` is the same read from the environment."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderName = Field(
        default="auto", description="K2_LLM_PROVIDER: auto, offline, openai, kimi, anthropic."
    )
    base_url: str | None = Field(default=None, description="K2_LLM_BASE_URL: API root, e.g. http://localhost:11434/v1.")
    model: str | None = Field(default=None, description="K2_LLM_MODEL: model name; each provider has a default.")
    api_key: SecretStr | None = Field(
        default=None, description="K2_LLM_API_KEY: overrides the provider's own variable."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="K2_LLM_TIMEOUT_S: seconds per request.")
    max_retries: int = Field(
        default=2, ge=0, le=10, description="K2_LLM_MAX_RETRIES: SDK retries on 429, 5xx, network."
    )
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="K2_LLM_TEMPERATURE: unset = model default (not sent to kimi-k2.5, Anthropic).",
    )
    max_tokens: int | None = Field(default=None, ge=1, description="K2_LLM_MAX_TOKENS: output cap (Anthropic: 4096).")


class LLMSettings(BaseSettings, LLMConfig):  # pyright: ignore[reportIncompatibleVariableOverride]
    """`LLMConfig` read from `K2_LLM_<FIELD>` environment variables (for callers without a host config)."""

    model_config = SettingsConfigDict(env_prefix="K2_LLM_", extra="forbid")


def resolve_provider(settings: LLMConfig, environ: Mapping[str, str] | None = None) -> ProviderName:
    """The concrete provider `"auto"` stands for (or the explicit one)."""
    env = os.environ if environ is None else environ
    if settings.provider != "auto":
        return settings.provider
    if settings.base_url:
        return "kimi" if _is_moonshot(settings.base_url) else "openai"
    candidates: tuple[ProviderName, ...] = ("kimi", "openai", "anthropic")
    for name in candidates:
        if env.get(_KEY_ENV[name]):
            return name
    return "offline"


def provider_from_settings(settings: LLMConfig, environ: Mapping[str, str] | None = None) -> LLMProvider | None:
    """The configured provider, or None for the offline engine. Raises `LLMError` when a key is missing."""
    env = os.environ if environ is None else environ
    name = resolve_provider(settings, env)
    if name == "offline":
        return None
    key_env = _KEY_ENV[name]
    key = settings.api_key.get_secret_value() if settings.api_key else env.get(key_env) or None
    common: dict[str, Any] = {"timeout_s": settings.timeout_s, "max_retries": settings.max_retries}

    if name == "anthropic":
        from .anthropic_provider import ANTHROPIC_BASE_URL, AnthropicProvider

        base_url = settings.base_url or ANTHROPIC_BASE_URL
        _require_key(key, name, key_env, base_url, ANTHROPIC_BASE_URL)
        return AnthropicProvider(
            model=settings.model or ANTHROPIC_MODEL,
            base_url=base_url,
            api_key=key,
            key_env=key_env,
            max_tokens=settings.max_tokens or 4096,
            **common,
        )

    from .openai_compat import OPENAI_BASE_URL, OpenAICompatProvider

    if name == "kimi":
        base_url = settings.base_url or MOONSHOT_BASE_URL
        _require_key(key, name, key_env, base_url, None)
        model = settings.model or KIMI_MODEL
        # kimi-k2.5 fixes its sampling parameters and answers 400 to a temperature.
        return OpenAICompatProvider(
            model=model,
            base_url=base_url,
            api_key=key,
            name="kimi",
            key_env=key_env,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            send_temperature=not model.startswith("kimi-k2.5"),
            **common,
        )

    base_url = settings.base_url or OPENAI_BASE_URL
    _require_key(key, name, key_env, base_url, OPENAI_BASE_URL)
    if settings.model is None and settings.base_url:
        raise LLMError(f"set K2_LLM_MODEL (or llm.model) to the model the server at {base_url} serves")
    return OpenAICompatProvider(
        model=settings.model or OPENAI_MODEL,
        base_url=base_url,
        api_key=key,
        key_env=key_env,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        **common,
    )


def _require_key(key: str | None, provider: str, key_env: str, base_url: str, official: str | None) -> None:
    """Hosted APIs need a key; a server of one's own (any other base URL) may not."""
    if key:
        return
    if official is not None and not base_url.rstrip("/").startswith(official):
        return
    raise LLMError(f"provider {provider!r} needs an API key: set {key_env} (or K2_LLM_API_KEY)")


def _is_moonshot(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    return host.endswith(("moonshot.ai", "moonshot.cn"))
