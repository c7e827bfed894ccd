"""JSON for the wire: LangChain messages, LangGraph interrupts and sends, pydantic models.

LangGraph state holds objects (messages, ``Interrupt``, dataclasses); clients get the same
JSON shapes ``langgraph-api`` sends, so ``langgraph-sdk`` and ``RemoteGraph`` read them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if hasattr(obj, "__langgraph_interrupt__") or type(obj).__name__ == "Interrupt":
        return {"value": getattr(obj, "value", None), "id": getattr(obj, "id", "")}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return repr(obj)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON bytes; unknown objects become their ``repr``."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (for FastAPI response models)."""
    return orjson.loads(dumps(value))


__all__ = ["dumps", "to_jsonable"]
