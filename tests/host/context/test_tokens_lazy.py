"""The token counter's own byte-pair encoder, and what the host leaves unloaded until it is needed."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from k2_host.context import tokens
from k2_host.context.bpe import encoding

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = [
    "",
    "hello world",
    "Hello, World! It's 2026-12-08; we've got 1234567 tokens.\n\n\tdef f(x):\n        return x**2  # ok",
    "   leading and trailing spaces   \r\n\r\n",
    "中文和日本語のテキスト、한국어 텍스트, Ωμέγα, Привет, мир! 🙂😀👍🏽 é ñ ß",
    "camelCaseIdentifiers snake_case_names SCREAMING_CASE kebab-case-words /usr/local/bin/python3.11",
    '{"path":"small.txt","offset":4,"nested":{"a":[1,2,3],"b":null}}',
    "a\ud800b lone surrogate",
    "x" * 5000 + " " + "ab" * 3000,
    "aaaa bbbb cccc 'll 've 're 'S 'T hello'S WORLD'T",
]


def _reference(name: str) -> object:
    with warnings.catch_warnings():  # bpe-openai reads its data with a deprecated importlib.resources call
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding(name)


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_the_encoder_gives_the_same_ids_as_bpe_openai(name: str) -> None:
    ours, ref = encoding(name), _reference(name)
    for text in [*SAMPLES, (ROOT / "host" / "src" / "k2_host" / "context" / "window.py").read_text()]:
        expected = ref.encode_ordinary(text)  # type: ignore[attr-defined]
        assert ours.encode(text) == expected
        assert ours.count(text) == len(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_any_text_encodes_as_bpe_openai_does(text: str) -> None:
    assert encoding("o200k_base").encode(text) == _reference("o200k_base").encode_ordinary(text)  # type: ignore[attr-defined]


def test_an_encoding_is_loaded_once_per_process() -> None:
    assert encoding("o200k_base") is encoding("o200k_base")
    with pytest.raises(KeyError, match="unknown encoding 'p50k_base'"):
        encoding("p50k_base")


def test_a_counter_whose_ranks_do_not_load_estimates_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_bpe_tokenizer", lambda name: None)
    counter = tokens._bpe("o200k_base", exact=True)  # pyright: ignore[reportPrivateUsage]
    assert counter.name == "o200k_base" and counter.exact
    assert counter.count("twelve bytes") == 3  # one token per 4 bytes, rounded up
    assert counter.name == "estimate:4-bytes" and not counter.exact


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_counter_loads_its_tokenizer_on_the_first_count_and_never_bpe_openais_native_module() -> None:
    out = _run(
        "import sys\n"
        "from k2_host.context.tokens import counter_for\n"
        "c, offline = counter_for('openai', 'gpt-4o'), counter_for('offline')\n"
        "print(c.loaded, 'k2_host.context.bpe' in sys.modules, offline.loaded, 'tokenizers' in sys.modules)\n"
        "print(c.count('hello world'), c.loaded, 'bpe_openai._bindings' in sys.modules)\n"
    )
    assert out.split("\n")[:2] == ["False False False False", "2 True False"]


def test_the_host_imports_no_numpy_until_something_needs_it() -> None:
    out = _run(
        "import sys\n"
        "import k2_host.agent, k2_host.context.window, k2_host.context.followup, k2_host.knowledge\n"
        "import k2_host.learning.examples, k2_host.learning.experiences, k2_host.rag.embeddings, k2_host.skills\n"
        "print(sorted(m for m in ('numpy', 'sklearn', 'torch', 'onnxruntime') if m in sys.modules))\n"
    )
    assert out.strip() == "[]"
