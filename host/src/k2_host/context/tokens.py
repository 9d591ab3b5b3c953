"""Token accounting: how many tokens a text, a message and the tool schemas cost a model.

Which counter a runtime uses (`counter_for(provider, model)`):

- OpenAI models (`gpt-4o`, `gpt-4.1`, `gpt-5`, `o1`/`o3`/`o4`...): their own BPE, exact — `o200k_base`, or
  `cl100k_base` for `gpt-4`/`gpt-3.5` — with the ranks `bpe-openai` ships (tiktoken fetches them at run time;
  this works offline), encoded by `k2_host.context.bpe` in ~10 MB instead of bpe-openai's native ~135 MB.
- Other OpenAI-compatible models (Kimi K2.5, Qwen, Llama behind vLLM or Ollama) and Anthropic: `o200k_base` as
  an estimate (their tokenizers are not shipped; on English prose and code the counts are within ~15%).
- The offline engine: the embedding model's WordPiece tokenizer (all-MiniLM-L6-v2's `tokenizer.json`).
- When none of these loads: an estimate of one token per 4 bytes of UTF-8, rounded up.

Per message a chat format adds a few tokens of framing (role, separators): `MESSAGE_OVERHEAD`. Counts are cached
by text (a transcript's turns are counted once, not at every step). A tokenizer loads on the first count, once
per process (a counter made and never used, or a `full` context policy, loads none).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any, Protocol

from k2_host.llm.base import Message, ToolSpec

logger = logging.getLogger(__name__)

MESSAGE_OVERHEAD = 4  # role and separators of one chat message
CALL_OVERHEAD = 8  # a tool call's id, name and framing
_CACHE = 16_384  # distinct texts whose counts are kept


class TokenCounter(Protocol):
    name: str  # "o200k_base", "wordpiece:all-MiniLM-L6-v2", "estimate:4-bytes"
    exact: bool  # the model's own tokenizer (False: an estimate)

    def count(self, text: str) -> int: ...


class EstimateCounter:
    """One token per 4 bytes of UTF-8 (rounded up): what is left when no tokenizer loads."""

    name = "estimate:4-bytes"
    exact = False

    def count(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4) if text else 0


class _Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def count(self, text: str) -> int: ...


class _Lazy:
    """A counter whose tokenizer loads on its first count (`load` is cached: one tokenizer per process, shared
    by every counter of that encoding), with an LRU of counts by text; `encode` gives the token ids. When the
    tokenizer does not load, it estimates (and its `name` and `exact` say so)."""

    def __init__(self, name: str, exact: bool, load: Callable[[], _Tokenizer | None]) -> None:
        self.name = name
        self.exact = exact
        self._load = load
        self._tokenizer: _Tokenizer | None = None
        self._lock = threading.Lock()
        self.count = lru_cache(maxsize=_CACHE)(self._count)

    @property
    def loaded(self) -> bool:
        """Whether the tokenizer has been loaded (it is on the first count)."""
        return self._tokenizer is not None

    def tokenizer(self) -> _Tokenizer:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    tokenizer = self._load()
                    if tokenizer is None:  # estimate from here on, and say so in the context reports
                        self.name, self.exact = EstimateCounter.name, False
                        tokenizer = _NoTokenizer()
                    self._tokenizer = tokenizer
        return self._tokenizer

    def encode(self, text: str) -> list[int]:
        return self.tokenizer().encode(text) if text else []

    def _count(self, text: str) -> int:
        return self.tokenizer().count(text) if text else 0


class _NoTokenizer(EstimateCounter):
    def encode(self, text: str) -> list[int]:
        raise RuntimeError("no tokenizer loaded: counts are estimates, there are no token ids")


@cache
def _bpe_tokenizer(encoding: str) -> _Tokenizer | None:
    try:
        from k2_host.context.bpe import encoding as bpe_encoding

        return bpe_encoding(encoding)
    except Exception as exc:  # the shipped encoding did not load
        logger.warning("token counter %s did not load (%s); estimating instead", encoding, exc)
        return None


def _bpe(encoding: str, exact: bool) -> TokenCounter:
    return _Lazy(encoding if exact else f"{encoding} (estimate)", exact, lambda: _bpe_tokenizer(encoding))


class _WordPiece:
    def __init__(self, tok: Any) -> None:
        self._tok = tok

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids) if text else []

    def count(self, text: str) -> int:
        return len(self.encode(text))


@cache
def _wordpiece_tokenizer() -> _Tokenizer | None:
    try:
        from tokenizers import Tokenizer

        from k2_host.rag.embeddings import default_model_path

        tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    except Exception as exc:
        logger.warning("the embedding model's tokenizer did not load (%s); estimating instead", exc)
        return None
    tok.no_truncation()
    tok.no_padding()
    return _WordPiece(tok)


def _wordpiece() -> TokenCounter:
    return _Lazy("wordpiece:all-MiniLM-L6-v2", False, _wordpiece_tokenizer)


_OPENAI_O200K = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss")
_OPENAI_CL100K = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


@lru_cache(maxsize=32)
def counter_for(provider: str, model: str = "") -> TokenCounter:
    """The counter for a provider ("openai", "kimi", "anthropic", "offline", ...) and model name."""
    name = model.lower().rpartition("/")[2]
    if provider == "offline":
        return _wordpiece()
    if name.startswith(_OPENAI_O200K):
        return _bpe("o200k_base", exact=True)
    if name.startswith(_OPENAI_CL100K):
        return _bpe("cl100k_base", exact=True)
    return _bpe("o200k_base", exact=False)


def message_tokens(counter: TokenCounter, message: Message) -> int:
    """A message's tokens: content, reasoning sent back, tool calls (name + JSON arguments), framing."""
    n = MESSAGE_OVERHEAD + counter.count(message.content)
    if message.reasoning:
        n += counter.count(message.reasoning)
    for call in message.tool_calls:
        n += CALL_OVERHEAD + counter.count(call.name) + counter.count(_json(call.arguments))
    if message.name:
        n += counter.count(message.name)
    return n


def tools_tokens(counter: TokenCounter, tools: Sequence[ToolSpec]) -> int:
    """What the tool schemas cost: every request carries them."""
    return sum(
        CALL_OVERHEAD
        + counter.count(t.name)
        + counter.count(t.description)
        + counter.count(_schema_json(t.input_schema))
        for t in tools
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# A tool's schema is the same dict at every step of every request (the client manager keeps the listed tools), so
# its JSON text is made once: encoding ~30 schemas with sorted keys at each step cost ~0.2 ms a step. Keyed by the
# dict's identity and holding the dict, so an id is never reused for another schema while its entry lives; a
# schema is never changed in place once listed (tool definitions are pinned, a change is a new listing).
_SCHEMA_TEXT: dict[int, tuple[dict[str, Any], str]] = {}
_SCHEMA_TEXT_MAX = 4096


def _schema_json(schema: dict[str, Any]) -> str:
    hit = _SCHEMA_TEXT.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    text = _json(schema)
    if len(_SCHEMA_TEXT) >= _SCHEMA_TEXT_MAX:
        _SCHEMA_TEXT.clear()
    _SCHEMA_TEXT[id(schema)] = (schema, text)
    return text
