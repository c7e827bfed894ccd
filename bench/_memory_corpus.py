"""A synthetic but realistic memory corpus for ``bench.memory``, generated deterministically.

Records fall into topics (a domain and a facet, e.g. "kubernetes / outage"), so texts of one
topic share most of their words and crowd each other in embedding space, as real memory does.
Each record names its own entity (a project, person or place with a made-up name), so a
question about that entity has one known relevant record among hundreds of near neighbours.
Queries are worded differently from the records (another template, one topic word and the
entity), not copies of them.

The corpus embeddings are cached under ``<data_dir>/bench/memory/`` keyed by a hash of the
texts, so only the first run pays for embedding 100,000 texts.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

DOMAINS: dict[str, list[str]] = {
    "kubernetes": ["pod", "cluster", "deployment", "node", "helm", "ingress", "namespace"],
    "billing": ["invoice", "payment", "refund", "subscription", "tax", "receipt", "charge"],
    "travel": ["flight", "hotel", "visa", "itinerary", "luggage", "airport", "train"],
    "cooking": ["recipe", "oven", "spice", "dough", "sauce", "grill", "dessert"],
    "fitness": ["workout", "running", "protein", "stretching", "marathon", "gym", "yoga"],
    "finance": ["budget", "mortgage", "savings", "stocks", "pension", "loan", "dividend"],
    "gardening": ["tomato", "compost", "seedling", "pruning", "soil", "greenhouse", "roses"],
    "music": ["guitar", "concert", "playlist", "piano", "album", "chord", "rehearsal"],
    "database": ["postgres", "index", "query", "replica", "migration", "schema", "backup"],
    "security": ["password", "firewall", "certificate", "phishing", "audit", "token", "breach"],
    "hiring": ["candidate", "interview", "offer", "resume", "recruiter", "onboarding", "salary"],
    "health": ["doctor", "vaccine", "allergy", "prescription", "dentist", "therapy", "sleep"],
    "housing": ["lease", "landlord", "plumbing", "furniture", "rent", "renovation", "moving"],
    "education": ["course", "exam", "thesis", "lecture", "homework", "tutor", "scholarship"],
    "marketing": ["campaign", "newsletter", "brand", "advert", "audience", "launch", "seo"],
    "frontend": ["react", "css", "component", "browser", "layout", "animation", "bundle"],
    "networking": ["router", "dns", "vpn", "latency", "bandwidth", "switch", "proxy"],
    "legal": ["contract", "lawyer", "patent", "clause", "lawsuit", "compliance", "signature"],
    "pets": ["puppy", "veterinarian", "leash", "kitten", "aquarium", "grooming", "treats"],
    "cars": ["engine", "tires", "insurance", "mechanic", "battery", "brakes", "fuel"],
    "photography": ["camera", "lens", "exposure", "portrait", "tripod", "editing", "flash"],
    "machine-learning": ["model", "training", "dataset", "gradient", "embedding", "gpu", "eval"],
    "family": ["birthday", "wedding", "grandmother", "school", "holiday", "cousin", "picnic"],
    "shopping": ["order", "delivery", "discount", "warranty", "return", "cart", "coupon"],
    "writing": ["novel", "chapter", "editor", "draft", "publisher", "poem", "outline"],
}
FACETS = ["problem", "plan", "decision", "question", "update", "reminder", "idea", "review"]
SYLLABLES = [
    "ka", "lo", "mir", "tas", "ven", "dor", "quil", "bra", "sen", "tho", "zar", "nel", "pru",
    "gav", "ori", "lux", "fen", "hal", "ism", "jun", "kre", "mor", "nav", "pel", "rix", "sol",
    "tur", "umb", "vex", "wyn", "yor", "zel", "cal", "dre", "esk", "fir",
]  # fmt: skip
TYPES = ("episodic", "semantic", "procedural", "resource", "vault", "core")
TYPE_SHARE = (0.35, 0.25, 0.15, 0.15, 0.07, 0.03)
USERS = 4


def entity_name(index: int) -> str:
    """A unique made-up name for record ``index`` (three or four syllables)."""
    parts = []
    n = index + 1
    while n:
        n, r = divmod(n, len(SYLLABLES))
        parts.append(SYLLABLES[r])
    while len(parts) < 3:
        parts.append(SYLLABLES[(index * 7 + len(parts)) % len(SYLLABLES)])
    return "".join(parts).capitalize()


@dataclass(frozen=True, slots=True)
class BenchQuery:
    """A question with one known relevant record."""

    text: str
    kind: str
    user_id: str
    target: str


def _record(index: int, rng: random.Random, now: datetime) -> tuple[dict[str, Any], str]:
    kind = rng.choices(TYPES, TYPE_SHARE)[0]
    domain = rng.choice(list(DOMAINS))
    words = DOMAINS[domain]
    facet = rng.choice(FACETS)
    w1, w2, w3 = rng.sample(words, 3)
    name = entity_name(index)
    base: dict[str, Any] = {
        "id": f"bench-{index:06d}",
        "kind": kind,
        "user_id": f"user-{index % USERS}",
        "agent_id": "bench",
        "tags": [domain, facet],
    }
    when = now - timedelta(days=rng.uniform(0, 365))
    if kind == "episodic":
        base |= {
            "occurred_at": when.isoformat(),
            "actor": rng.choice(["user", "assistant"]),
            "event_type": facet,
            "summary": f"{facet} about the {w1} for {name}: the {w2} needed attention",
            "details": f"We talked about the {w3} of {name} and agreed to follow up.",
        }
    elif kind == "semantic":
        base |= {
            "name": name,
            "summary": f"{name} is the {w1} {facet} in our {domain} work",
            "details": f"It relates to the {w2} and the {w3}.",
            "source": "conversation",
        }
    elif kind == "procedural":
        base |= {
            "name": f"{name} {w1} {facet}",
            "entry_type": rng.choice(["workflow", "guide", "script"]),
            "description": f"How to handle the {w1} {facet} for {name}",
            "steps": [f"check the {w2}", f"update the {w3}", "confirm with the user"],
            "triggers": [w1],
        }
    elif kind == "resource":
        base |= {
            "title": f"{name} {w1} notes",
            "resource_type": "document",
            "summary": f"Notes on the {w1} {facet} of {name}",
            "content": f"The {w2} and the {w3} were reviewed for {name}.",
        }
    elif kind == "vault":
        base |= {
            "entry_type": rng.choice(["credential", "api_key", "bookmark", "contact"]),
            "sensitivity": rng.choice(["low", "medium", "high"]),
            "caption": f"{name} {w1} login for the {domain} {w2}",
            "source": domain,
            "secret": f"s3cr3t-{index:06d}",
        }
    else:
        base |= {
            "label": rng.choice(["persona", "human"]),
            "value": f"{name} cares about the {w1} and the {w2} in {domain}.",
        }
    question = {
        "episodic": f"what happened with {name} and the {w1}?",
        "semantic": f"what do we know about {name} {w1}",
        "procedural": f"how do I deal with the {w1} for {name}",
        "resource": f"find the document on {name} {w1}",
        "vault": f"{name} {w1} login",
        "core": f"what does {name} care about regarding {w1}",
    }[kind]
    return base, question


def build(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[BenchQuery]]:
    """``n`` records and one query for every 100th record (at least 300 queries)."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    records: list[dict[str, Any]] = []
    queries: list[BenchQuery] = []
    step = max(1, min(100, n // 300))
    for index in range(n):
        record, question = _record(index, rng, now)
        records.append(record)
        if index % step == 0:
            queries.append(BenchQuery(question, record["kind"], record["user_id"], record["id"]))
    return records, queries


def embed_cached(texts: list[str], embed: Any, cache_dir: Path, label: str) -> np.ndarray:
    """Embeddings of ``texts`` (``embed(list) -> array``), cached on disk by content hash."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache_dir / f"{label}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(embed(texts), dtype=np.float32)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


__all__ = ["BenchQuery", "build", "embed_cached", "entity_name"]
