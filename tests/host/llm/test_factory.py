"""Choosing a provider from the environment or the config file's `llm` section."""

from __future__ import annotations

import pydantic
import pytest
from k2_host.config import ConfigError, apply_layers, parse_config
from k2_host.llm.anthropic_provider import AnthropicProvider
from k2_host.llm.base import LLMError, LLMProvider, Message
from k2_host.llm.factory import LLMConfig, LLMSettings, provider_from_settings, resolve_provider
from k2_host.llm.openai_compat import OpenAICompatProvider

from tests.host.scripted_llm import Turn, scripted_llm

pytestmark = pytest.mark.anyio

VARIABLES = ["MOONSHOT_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
FIELDS = ["PROVIDER", "BASE_URL", "MODEL", "API_KEY", "TIMEOUT_S", "MAX_RETRIES", "TEMPERATURE", "MAX_TOKENS"]


async def close(provider: LLMProvider | None) -> None:
    if provider is not None:
        await provider.aclose()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES + [f"K2_LLM_{f}" for f in FIELDS]:
        monkeypatch.delenv(name, raising=False)


async def test_with_nothing_configured_the_offline_engine_is_used() -> None:
    assert resolve_provider(LLMSettings()) == "offline"
    assert provider_from_settings(LLMSettings()) is None


async def test_offline_wins_over_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    monkeypatch.setenv("K2_LLM_PROVIDER", "offline")
    assert provider_from_settings(LLMSettings()) is None


async def test_a_moonshot_key_selects_kimi_k2_5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-moon")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    monkeypatch.setenv("K2_LLM_TEMPERATURE", "0.3")
    provider = provider_from_settings(LLMSettings())
    try:
        assert isinstance(provider, OpenAICompatProvider)
        assert (provider.name, provider.model, provider.base_url) == ("kimi", "kimi-k2.5", "https://api.moonshot.ai/v1")
        assert provider.key_env == "MOONSHOT_API_KEY"
        assert provider.send_temperature is False  # kimi-k2.5 fixes its temperature
    finally:
        await close(provider)


@pytest.mark.parametrize(
    ("variable", "kind", "name"),
    [("OPENAI_API_KEY", OpenAICompatProvider, "openai"), ("ANTHROPIC_API_KEY", AnthropicProvider, "anthropic")],
)
async def test_a_providers_own_key_selects_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, kind: type, name: str
) -> None:
    monkeypatch.setenv(variable, "sk-x")
    provider = provider_from_settings(LLMSettings())
    try:
        assert isinstance(provider, kind)
        assert provider is not None
        assert provider.name == name
    finally:
        await close(provider)


async def test_a_base_url_alone_selects_an_openai_compatible_server_that_needs_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")  # an explicit base URL is more specific than a stray key
    async with scripted_llm([Turn(text="local answer")]) as llm:
        monkeypatch.setenv("K2_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("K2_LLM_MODEL", "qwen3")
        monkeypatch.setenv("K2_LLM_MAX_TOKENS", "256")
        provider = provider_from_settings(LLMSettings())
        assert isinstance(provider, OpenAICompatProvider)
        try:
            response = await provider.complete([Message(role="user", content="hi")])
        finally:
            await provider.aclose()

    assert response.message.content == "local answer"
    assert (llm.requests[0]["model"], llm.requests[0]["max_tokens"]) == ("qwen3", 256)
    assert llm.headers[0]["authorization"] == "Bearer no-key-needed"


async def test_a_moonshot_base_url_selects_kimi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2_LLM_BASE_URL", "https://api.moonshot.cn/v1")
    monkeypatch.setenv("K2_LLM_API_KEY", "sk-moon")
    assert resolve_provider(LLMSettings()) == "kimi"


async def test_k2_llm_api_key_is_used_for_an_explicit_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    async with scripted_llm([Turn(text="ok")]) as llm:
        monkeypatch.setenv("K2_LLM_PROVIDER", "kimi")
        monkeypatch.setenv("K2_LLM_API_KEY", "sk-k2")
        monkeypatch.setenv("K2_LLM_BASE_URL", llm.base_url)
        provider = provider_from_settings(LLMSettings())
        assert provider is not None
        try:
            await provider.complete([Message(role="user", content="hi")])
        finally:
            await provider.aclose()

    assert llm.headers[0]["authorization"] == "Bearer sk-k2"
    assert llm.requests[0]["model"] == "kimi-k2.5"


@pytest.mark.parametrize(
    ("provider", "variable"),
    [("kimi", "MOONSHOT_API_KEY"), ("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")],
)
async def test_an_explicit_provider_without_its_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, provider: str, variable: str
) -> None:
    monkeypatch.setenv("K2_LLM_PROVIDER", provider)
    with pytest.raises(LLMError) as caught:
        provider_from_settings(LLMSettings())

    assert variable in str(caught.value)
    assert caught.value.retryable is False


async def test_an_openai_compatible_server_without_a_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2_LLM_BASE_URL", "http://localhost:8000/v1")
    with pytest.raises(LLMError) as caught:
        provider_from_settings(LLMSettings())

    assert "K2_LLM_MODEL" in str(caught.value)


async def test_the_environment_overrides_the_config_files_llm_section_and_the_command_line_both() -> None:
    env = {"K2_LLM_MODEL": "from-env", "K2_LLM_TIMEOUT_S": "5"}
    data = {"llm": {"provider": "openai", "base_url": "http://localhost:11434/v1", "model": "qwen3"}}
    config = apply_layers(parse_config(data, env={}), env=env)
    settings = config.llm
    assert (settings.provider, settings.base_url, settings.model, settings.timeout_s) == (
        "openai",
        "http://localhost:11434/v1",
        "from-env",
        5.0,
    )
    flagged = apply_layers(parse_config(data, env={}), env=env, overrides={"llm": {"model": "from-flag"}})
    assert flagged.llm.model == "from-flag" and flagged.llm.timeout_s == 5.0
    provider = provider_from_settings(flagged.llm, environ={})
    try:
        assert isinstance(provider, OpenAICompatProvider)
        assert (provider.model, provider.base_url) == ("from-flag", "http://localhost:11434/v1")
    finally:
        await close(provider)


@pytest.mark.parametrize(
    "section", [{"provider": "gemini"}, {"timeout_s": 0}, {"max_retries": -1}, {"modle": "typo"}, {"temperature": 3}]
)
async def test_bad_settings_fail_fast_naming_the_key(section: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        LLMConfig.model_validate(section)

    assert caught.value.errors()[0]["loc"] == (next(iter(section)),)
    with pytest.raises(ConfigError) as named:
        parse_config({"llm": section}, env={})
    assert f"llm.{next(iter(section))}" in str(named.value)


@pytest.mark.parametrize(("var", "value"), [("K2_LLM_PROVIDER", "gemini"), ("K2_LLM_TIMEOUT_S", "soon")])
async def test_a_bad_value_in_the_environment_names_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_layers(parse_config({}, env={}), env={var: value})
    assert f"environment variable {var}={value!r}" in str(caught.value)


async def test_a_bad_value_in_the_environment_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2_LLM_PROVIDER", "gemini")
    with pytest.raises(pydantic.ValidationError):
        LLMSettings()


async def test_the_anthropic_default_caps_output_at_4096_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    provider = provider_from_settings(LLMSettings())
    try:
        assert isinstance(provider, AnthropicProvider)
        assert (provider.max_tokens, provider.key_env) == (4096, "ANTHROPIC_API_KEY")
    finally:
        await close(provider)
