"""Keyword scoring for engines without an in-engine BM25 index (Chroma), and rank fusion.

Qdrant (edge and server) fuse dense and BM25 results inside the engine. Chroma's local engine
has no BM25 index, so its backend fetches a deeper list of vector candidates and re-ranks them
here: BM25 over the candidates' texts, fused with the vector ranks by reciprocal rank fusion
(the same fusion, and the same 2:1 weight for the vector ranks, as the Qdrant backends).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from maximus.memory.longterm.base import Hit

_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


def bm25_scores(
    query: str, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """BM25 of ``query`` against each of ``texts`` (IDF over ``texts`` themselves)."""
    docs = [tokens(t) for t in texts]
    if not docs:
        return []
    avg = sum(len(d) for d in docs) / len(docs) or 1.0
    terms = set(tokens(query))
    df = {t: sum(1 for d in docs if t in d) for t in terms}
    n = len(docs)
    scores = []
    for doc in docs:
        tf = Counter(doc)
        score = 0.0
        for term in terms:
            if not tf[term]:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(doc) / avg))
        scores.append(score)
    return scores


def rrf(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60
) -> dict[str, float]:
    """Reciprocal rank fusion of id rankings (best first), weighted per ranking."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def fuse_with_bm25(hits: Sequence[Hit], query: str, k: int) -> list[Hit]:
    """Re-rank vector ``hits`` (best first) by RRF of their vector and BM25 ranks; keep ``k``."""
    texts = [str(h.payload.get("text", "")) for h in hits]
    keyword = bm25_scores(query, texts)
    by_keyword = [
        h.id for h, s in sorted(zip(hits, keyword, strict=True), key=lambda x: -x[1]) if s > 0
    ]
    fused = rrf([[h.id for h in hits], by_keyword], [2.0, 1.0])
    ranked = sorted(hits, key=lambda h: fused.get(h.id, 0.0), reverse=True)[:k]
    return [Hit(h.id, fused[h.id], h.payload, h.score) for h in ranked]


__all__ = ["bm25_scores", "fuse_with_bm25", "rrf", "tokens"]
