"""``python -m bench.memory``: end-to-end memory retrieval on each backend, side by side.

Setup: a synthetic corpus of clustered topics across the six MIRIX types
(:mod:`bench._memory_corpus`) at 10,000 and 100,000 records, with questions whose relevant
record is known. Each question runs through :meth:`maximus.memory.MemoryStore.search` (query
embedding with the query cache off, plus a top-5 search filtered by type, user and agent,
hybrid as configured by default) on every backend in turn, so all backends see the same
machine load. Reported: p50/p99 latency, recall@5 (the known record in the top 5), the
engine-only latency (vector given), the collection layout (one collection per type against
one collection with a type field) and the embedding sources (ONNX int8 against
sentence-transformers, when torch is installed).

Contenders: Qdrant Edge (default), Chroma (embedded), one Qdrant Edge collection with a type
field, and qdrant-client's local mode (10,000 only: it scans). The corpus embeddings are cached
under ``<data_dir>/bench/memory``; the first run embeds 100,000 texts (tens of minutes on two
busy cores). The last line is JSON: ``p50_ms``, ``p99_ms``, ``recall_at_5`` (default backend
at 100,000) and ``chroma_p99_ms``, then the other figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench._memory_corpus import BenchQuery, build, embed_cached
from maximus.config import MemorySettings, get_settings
from maximus.memory.longterm.base import MemoryFilter, StoredPoint, VectorBackend
from maximus.memory.longterm.embeddings import OnnxMiniLMEmbeddings
from maximus.memory.longterm.records import VaultEntry, parse_record, to_payload
from maximus.memory.longterm.store import MemoryStore
from maximus.memory.longterm.vault import VaultCipher, generate_key

K = 5


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1e3, q))


def _load(backend: VectorBackend, records: list[dict[str, Any]], vectors: np.ndarray) -> float:
    """Store records with their cached vectors; return seconds (including indexing)."""
    cipher = VaultCipher([generate_key()])
    start = time.perf_counter()
    by_kind: dict[str, list[StoredPoint]] = {}
    for row, vector in zip(records, vectors, strict=True):
        data = dict(row)
        record = parse_record(data)
        secret = None
        if isinstance(record, VaultEntry):
            secret = cipher.encrypt(record.secret.get_secret_value())
        payload = to_payload(record, expires_at=None, secret=secret)
        by_kind.setdefault(record.kind, []).append(StoredPoint(record.id, vector, payload))  # type: ignore[attr-defined]
    for kind, points in by_kind.items():
        for at in range(0, len(points), 2000):
            backend.upsert(kind, points[at : at + 2000])  # type: ignore[arg-type]
    optimize = getattr(backend, "optimize", None)
    if optimize is not None:
        optimize()
    backend.flush()
    return time.perf_counter() - start


def _backends(root: Path, n: int) -> dict[str, Callable[[], VectorBackend]]:
    from maximus.memory.longterm.backends.chroma import ChromaBackend
    from maximus.memory.longterm.backends.qdrant import QdrantBackend
    from maximus.memory.longterm.backends.qdrant_edge import QdrantEdgeBackend

    made: dict[str, Callable[[], VectorBackend]] = {
        "qdrant_edge": lambda: QdrantEdgeBackend(root / "edge", 384),
        "chroma": lambda: ChromaBackend(384, path=root / "chroma"),
        "edge_single_collection": lambda: QdrantEdgeBackend(root / "single", 384, layout="single"),
    }
    if n <= 10_000:
        made["qdrant_local"] = lambda: QdrantBackend(384, path=root / "qdrant-local")
    return made


def _measure(
    stores: dict[str, MemoryStore], queries: list[BenchQuery], warmup: int = 20
) -> dict[str, dict[str, float]]:
    """Run every query on every store in turn (rotating the order); latency and recall@5."""
    names = list(stores)
    times: dict[str, list[float]] = {name: [] for name in names}
    engine: dict[str, list[float]] = {name: [] for name in names}
    hits: dict[str, int] = {name: 0 for name in names}
    for i, query in enumerate(queries[:warmup] + queries):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            memory = stores[name]
            start = time.perf_counter()
            results = memory.search(
                query.text, types=[query.kind], k=K, user_id=query.user_id, agent_id="bench"
            )
            elapsed = time.perf_counter() - start
            if i < warmup:
                continue
            times[name].append(elapsed)
            hits[name] += any(r.record.id == query.target for r in results)
    # The engine alone: the same filtered hybrid searches with the vector given.
    vectors = [stores[names[0]].embeddings.embed_query(q.text) for q in queries]
    for name in names:
        memory = stores[name]
        for query, vector in zip(queries, vectors, strict=True):
            flt = MemoryFilter(
                user_id=query.user_id,
                agent_id="bench",
                namespaces=("shared",),
                alive_at=time.time(),
            )
            start = time.perf_counter()
            memory.backend.query(query.kind, vector, flt, K, text=query.text)  # type: ignore[arg-type]
            engine[name].append(time.perf_counter() - start)
    return {
        name: {
            "p50_ms": round(_pct(times[name], 50), 3),
            "p99_ms": round(_pct(times[name], 99), 3),
            "engine_p50_ms": round(_pct(engine[name], 50), 3),
            "engine_p99_ms": round(_pct(engine[name], 99), 3),
            "recall_at_5": round(hits[name] / len(queries), 4),
        }
        for name in names
    }


def _embedding_sources(texts: list[str], rounds: int) -> dict[str, Any]:
    """Query-embedding latency of the two MiniLM sources, interleaved, and their agreement."""
    onnx = OnnxMiniLMEmbeddings(query_cache=0)
    out: dict[str, Any] = {}
    try:
        import torch

        from maximus.memory.longterm.embeddings import SentenceTransformerMiniLMEmbeddings

        torch.set_num_threads(1)
        st: Any = SentenceTransformerMiniLMEmbeddings(query_cache=0)
        st.embed_query("warm up")
    except Exception as exc:  # noqa: BLE001 - torch is optional here
        out["sentence_transformers"] = f"not measured: {type(exc).__name__}"
        st = None
    onnx.embed_query("warm up")
    timings: dict[str, list[float]] = {"onnx": [], "st": []}
    for text in texts[:rounds]:
        for name, model in (("onnx", onnx), ("st", st)):
            if model is None:
                continue
            start = time.perf_counter()
            model.embed_query(text)
            timings[name].append(time.perf_counter() - start)
    out["onnx_query_p50_ms"] = round(_pct(timings["onnx"], 50), 3)
    out["onnx_query_p99_ms"] = round(_pct(timings["onnx"], 99), 3)
    if st is not None:
        out["st_query_p50_ms"] = round(_pct(timings["st"], 50), 3)
        out["st_query_p99_ms"] = round(_pct(timings["st"], 99), 3)
        a = np.asarray(onnx.embed_documents(texts[:50]))
        b = np.asarray(st.embed_documents(texts[:50]))
        out["onnx_vs_st_min_cosine"] = round(float((a * b).sum(axis=1).min()), 4)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its figures (last line: JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=500, help="questions per size")
    parser.add_argument(
        "--backends",
        default="qdrant_edge,chroma,edge_single_collection,qdrant_local",
        help="contenders to run (the headline needs qdrant_edge; chroma for chroma_p99_ms)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    cache = get_settings().data_dir / "bench" / "memory"
    load_before = os.getloadavg()

    biggest = max(sizes)
    records, _ = build(biggest)
    texts = [parse_record(dict(r)).embed_text() for r in records]
    embedder = OnnxMiniLMEmbeddings(threads=2, batch_size=64)
    started = time.perf_counter()
    vectors = embed_cached(texts, embedder.embed_array, cache, "onnx")
    embed_seconds = time.perf_counter() - started
    print(f"corpus: {biggest} records embedded or loaded from cache in {embed_seconds:.1f} s")

    result: dict[str, Any] = {"sizes": {}}
    query_model = OnnxMiniLMEmbeddings(query_cache=0)
    settings = MemorySettings()
    for n in sizes:
        _, queries = build(n)
        step = max(1, len(queries) // args.queries)
        queries = queries[::step][: args.queries]
        root = Path(tempfile.mkdtemp(prefix=f"bench-memory-{n}-"))
        try:
            stores: dict[str, MemoryStore] = {}
            loads: dict[str, float] = {}
            wanted = set(args.backends.split(","))
            for name, make in _backends(root, n).items():
                if name not in wanted:
                    continue
                backend = make()
                loads[name] = round(_load(backend, records[:n], vectors[:n]), 1)
                stores[name] = MemoryStore(backend, query_model, settings)
                print(f"{n}: loaded {name} in {loads[name]} s", flush=True)
            figures = _measure(stores, queries)
            for name, row in figures.items():
                row["load_s"] = loads[name]
                print(f"{n}: {name}: {json.dumps(row)}", flush=True)
            result["sizes"][n] = figures
            for memory in stores.values():
                memory.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)
    result["embeddings"] = _embedding_sources([q.text for q in build(2000)[1]], 200)
    print(f"embeddings: {json.dumps(result['embeddings'])}")
    top = result["sizes"][biggest]
    none: dict[str, Any] = {}
    headline = {
        "p50_ms": top["qdrant_edge"]["p50_ms"],
        "p99_ms": top["qdrant_edge"]["p99_ms"],
        "recall_at_5": top["qdrant_edge"]["recall_at_5"],
        "chroma_p99_ms": top.get("chroma", none).get("p99_ms"),
        "records": biggest,
        "queries": min(args.queries, len(build(biggest)[1])),
        "chroma_p50_ms": top.get("chroma", none).get("p50_ms"),
        "chroma_recall_at_5": top.get("chroma", none).get("recall_at_5"),
        "single_collection_p99_ms": top.get("edge_single_collection", none).get("p99_ms"),
        "engine_p99_ms": top["qdrant_edge"]["engine_p99_ms"],
        **{k: v for k, v in result["embeddings"].items() if isinstance(v, float)},
        "corpus_embed_or_cache_s": round(embed_seconds, 1),
        "load_avg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
