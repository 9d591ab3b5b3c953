"""One order for every setting of the host: defaults < config file < environment < command line.

`apply_layers(config, env=..., overrides=...)` rebuilds each section of `HostConfig` (see
`k2_host.config.model.SECTIONS`) from the values the file set, then `K2_<SECTION>_<KEY>` environment variables
(`K2_LLM_MODEL`, `K2_RAG_STORE`, `K2_AGENT_MAX_STEPS`, ...), then the command line's `--set section.key=value`
(and the flags the CLI maps onto keys). A bad value is a `ConfigError` naming where it came from: the variable,
the flag or the file, the key and the value.

List and object values in the environment or on the command line are JSON (`K2_SKILLS_PATHS='["/a", "/b"]'`);
a list may also be given comma separated (`K2_LEARNING_REDACT_PATTERNS=a,b`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from k2_host.config.model import SECTIONS, HostConfig, env_prefix
from k2_host.errors import ConfigError

Overrides = Mapping[str, Mapping[str, Any]]
"""section -> key -> value, from the command line."""


def _is_container(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, dict, tuple, set, frozenset):
        return True
    return any(_is_container(a) for a in typing.get_args(annotation) if a is not type(None))


def decode(raw: str, annotation: Any) -> Any:
    """A string from the environment or the command line, for a field of this type."""
    if not _is_container(annotation):
        return raw
    text = raw.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def env_values(model: type[BaseModel], prefix: str, env: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """key -> (variable name, value) for every field of `model` set (non-empty) in `env`."""
    out: dict[str, tuple[str, Any]] = {}
    for name, field in model.model_fields.items():
        var = prefix + name.upper()
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        try:
            out[name] = (var, decode(raw, field.annotation))
        except ValueError as exc:
            raise ConfigError(f"environment variable {var}={raw!r}: {exc}") from None
    return out


def parse_assignment(text: str) -> tuple[str, str, str]:
    """`section.key=value` (from `--set`) -> (section, key, value)."""
    path, sep, value = text.partition("=")
    section, dot, key = path.strip().partition(".")
    if not sep or not dot or not key:
        raise ConfigError(f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. --set llm.model=qwen3")
    if section not in SECTIONS:
        raise ConfigError(f"--set {text!r}: unknown section {section!r}; one of {', '.join(SECTIONS)}")
    if key not in SECTIONS[section].model_fields:
        known = ", ".join(SECTIONS[section].model_fields)
        raise ConfigError(f"--set {text!r}: {section} has no key {key!r}; its keys: {known}")
    return section, key, value


def overrides_from_assignments(assignments: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for text in assignments:
        section, key, value = parse_assignment(text)
        annotation = SECTIONS[section].model_fields[key].annotation
        try:
            out.setdefault(section, {})[key] = decode(value, annotation)
        except ValueError as exc:
            raise ConfigError(f"--set {text!r}: {exc}") from None
    return out


def apply_layers(config: HostConfig, *, env: Mapping[str, str], overrides: Overrides | None = None) -> HostConfig:
    """`config` (defaults and the file) with the environment, then `overrides`, laid over every section."""
    update: dict[str, BaseModel] = {}
    for section, model in SECTIONS.items():
        current: BaseModel = getattr(config, section)
        from_env = env_values(model, env_prefix(section), env)
        from_cli = dict((overrides or {}).get(section, {}))
        if not from_env and not from_cli:
            continue
        merged: dict[str, Any] = current.model_dump(exclude_unset=True)
        merged.update({k: v for k, (_, v) in from_env.items()})
        merged.update(from_cli)
        try:
            update[section] = model.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, section, from_env, from_cli, config.source)) from None
    return config.model_copy(update=update) if update else config


def _explain(
    exc: ValidationError,
    section: str,
    from_env: dict[str, tuple[str, Any]],
    from_cli: dict[str, Any],
    source: str | None,
) -> str:
    err = exc.errors()[0]
    key = str(err["loc"][0]) if err["loc"] else ""
    if key in from_cli:
        where = f"--set {section}.{key}={from_cli[key]!r}"
    elif key in from_env:
        var, value = from_env[key]
        where = f"environment variable {var}={value!r}"
    else:
        where = f"{source or 'the configuration'}: {section}{'.' + key if key else ''}"
    return f"{where}: {err['msg']}"
