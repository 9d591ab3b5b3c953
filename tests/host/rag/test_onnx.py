"""The ONNX Runtime path for short requests: the same vectors as torch, used for small batches only, and a
failure or K2_EMBED_ONNX=0 leaves the torch path in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from k2_host.rag import onnx
from k2_host.rag.embeddings import Embedder, default_model_path

pytestmark = pytest.mark.slow

TEXTS = [
    "What's the sha256 of install.sh?",
    "profile every column of customers.csv: types, nulls and distinct values",
    "Ünïcödé and emoji ✓ survive tokenization",
    "word " * 400,  # past the model's 256 tokens: truncated the same way
]


def test_small_batches_match_torch_and_go_through_onnx_runtime() -> None:
    emb = Embedder()
    assert emb.fast_path(timeout=300), "the ONNX export should be made on a CPU machine with onnxruntime"
    fast = emb._fast.encoder
    assert fast is not None
    torch_rows = emb._model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert np.abs(fast.encode(TEXTS) - torch_rows).max() < 1e-4
    calls: list[int] = []
    original = fast.encode
    fast.encode = lambda texts: calls.append(len(texts)) or original(texts)  # type: ignore[method-assign]
    try:
        one = emb.embed_documents(TEXTS[:1])
        many = emb.embed_documents([f"sentence number {i}" for i in range(onnx.MAX_BATCH + 1)])
    finally:
        fast.encode = original  # type: ignore[method-assign]
    assert calls == [1]  # the batch past MAX_BATCH went to torch
    assert one.shape == (1, emb.dim) and many.shape == (onnx.MAX_BATCH + 1, emb.dim)
    assert np.allclose(np.linalg.norm(one, axis=1), 1.0, atol=1e-5)


def test_a_broken_export_or_the_switch_leaves_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = Embedder()._model
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    target = onnx.cache_dir() / f"{onnx._fingerprint(str(default_model_path()))}.onnx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not an onnx model")
    assert onnx.onnx_encoder(model, str(default_model_path()), "cpu") is None
    assert onnx.onnx_encoder(model, str(default_model_path()), "cuda") is None
    monkeypatch.setenv("K2_EMBED_ONNX", "0")
    assert onnx.onnx_encoder(model, str(default_model_path()), "cpu") is None
