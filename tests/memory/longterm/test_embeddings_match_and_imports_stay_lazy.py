"""Embeddings (ONNX int8 MiniLM against the sentence-transformers original) and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from maximus.config import MemorySettings
from maximus.errors import ConfigError
from maximus.memory.longterm.embeddings import (
    OnnxMiniLMEmbeddings,
    SentenceTransformerMiniLMEmbeddings,
    make_embeddings,
)
from tests.support.memory import embeddings

TEXTS = [
    "The user booked a flight to Tokyo on Friday",
    "How to rotate the API key of the billing service",
    "Green tea has less caffeine than coffee",
    "Kubernetes pod stuck in CrashLoopBackOff after the deploy",
]


@pytest.mark.integration
def test_onnx_matches_sentence_transformers() -> None:
    onnx = np.asarray(embeddings().embed_documents(TEXTS))
    torch_model = np.asarray(SentenceTransformerMiniLMEmbeddings().embed_documents(TEXTS))
    assert onnx.shape == torch_model.shape == (4, 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)
    assert (onnx * torch_model).sum(axis=1).min() > 0.99
    # Same ranking of a query against the texts.
    query = embeddings().embed_query("which service needs a new key")
    assert int(np.argmax(onnx @ np.asarray(query))) == 1


def test_query_cache_returns_the_same_vector() -> None:
    model = OnnxMiniLMEmbeddings(query_cache=2)
    first = model.embed_query("hello there")
    assert model.embed_query("hello there") is first
    uncached = OnnxMiniLMEmbeddings(query_cache=0)
    assert np.allclose(uncached.embed_query("hello there"), first, atol=1e-5)
    long = uncached.embed_query("word " * 2000)  # truncated at 256 tokens, not an error
    assert len(long) == 384


def test_gemini_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="GOOGLE_API_KEY"):
        make_embeddings(MemorySettings(embeddings="gemini"))


def test_importing_maximus_loads_no_engine() -> None:
    code = (
        "import sys, maximus, maximus.cli, maximus.tools.memory;"
        "from maximus import MemoryStore, create_agent;"
        "heavy = {'onnxruntime', 'chromadb', 'qdrant_client', 'qdrant_edge', 'torch',"
        " 'sentence_transformers', 'tokenizers'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
