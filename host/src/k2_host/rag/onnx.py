"""A faster path for short requests: the embedding model's transformer run by ONNX Runtime on the CPU.

One query through sentence-transformers on torch costs ~10 ms on a laptop core, most of it framework overhead;
the same transformer exported to ONNX and run by ONNX Runtime costs ~3 ms, with the same numbers (within
1e-6). The host embeds a request on every offline `ask` (skill router, plan routing, follow-ups), so small
batches go this way; bulk ingestion stays on torch (and a GPU when there is one).

The export is made once per model and kept under the user's cache folder (`~/.cache/k2/onnx/`, or
$XDG_CACHE_HOME), named by a hash of the model folder's weights, torch and ONNX Runtime versions, written
atomically. It is used only after its output matched torch's on a probe text. Anything unusual — a GPU, a model
whose pipeline is not transformer + mean pooling + normalization, an export or load failure, or
K2_EMBED_ONNX=0 — leaves the torch path in place; nothing depends on this.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PROBE = "How many rows does data/sales.csv have, and which column has the most missing values?"
TOLERANCE = 1e-4
MAX_BATCH = 8  # larger batches go to torch, which batches them well
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "k2" / "onnx"


def _fingerprint(location: str) -> str:
    import onnxruntime
    import torch

    h = hashlib.sha256(f"{torch.__version__}|{onnxruntime.__version__}".encode())
    folder = Path(location)
    weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")) if folder.is_dir() else []
    for w in weights:
        st = w.stat()
        h.update(f"{w.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    if not weights:
        h.update(location.encode())
    return h.hexdigest()[:24]


def _mean_pooled(model: Any) -> bool:
    """Whether the SentenceTransformer is transformer -> mean pooling (-> normalize): what we reproduce."""
    names = [type(m).__name__ for m in model]
    if names[:2] != ["Transformer", "Pooling"] or any(n not in ("Normalize",) for n in names[2:]):
        return False
    pooling = model[1]
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 5: "mean", "cls", "max", ...
    if mode is None:  # older releases: one flag per mode
        flags = ("pooling_mode_mean_tokens", "pooling_mode_cls_token", "pooling_mode_max_tokens")
        mode = "mean" if [bool(getattr(pooling, f, False)) for f in flags] == [True, False, False] else "other"
    return mode == "mean" and getattr(pooling, "include_prompt", True)


class OnnxEncoder:
    """Encodes small batches like the SentenceTransformer it was exported from (normalized mean pooling)."""

    def __init__(self, session: Any, tokenizer: Any, max_length: int, inputs: tuple[str, ...]) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.inputs = inputs
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np", verbose=False
        )
        feed = {k: np.asarray(batch[k], dtype=np.int64) for k in self.inputs}
        with self._lock:
            hidden = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _export(model: Any, target: Path) -> None:
    import torch

    transformer = model[0].auto_model.eval()
    names = tuple(n for n in _INPUTS if n in model.tokenizer.model_input_names)

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    sample = model.tokenizer(["a short sample"], return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with torch.inference_mode():
            torch.onnx.export(
                Hidden(),
                tuple(sample[n] for n in names),
                str(tmp),
                input_names=list(names),
                output_names=["hidden"],
                dynamic_axes={**axes, "hidden": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def onnx_encoder(model: Any, location: str, device: str) -> OnnxEncoder | None:
    """The fast path for `model` (exported on first use), or None where it does not apply or fails."""
    if os.environ.get("K2_EMBED_ONNX", "1") == "0" or device != "cpu" or not _mean_pooled(model):
        return None
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    try:
        target = cache_dir() / f"{_fingerprint(location)}.onnx"
        if not target.is_file():
            _export(model, target)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        options.log_severity_level = 3
        session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        inputs = tuple(i.name for i in session.get_inputs())
        encoder = OnnxEncoder(session, model.tokenizer, int(model.max_seq_length or 512), inputs)
        reference = model.encode([PROBE], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        if float(np.abs(encoder.encode([PROBE]) - reference).max()) > TOLERANCE:
            logger.info("the ONNX export of %s does not match torch; embedding with torch", location)
            return None
        return encoder
    except Exception as exc:  # an optional speed-up: any failure leaves the torch path
        logger.info(
            "ONNX Runtime path unavailable for %s (%s: %s); embedding with torch", location, type(exc).__name__, exc
        )
        return None
