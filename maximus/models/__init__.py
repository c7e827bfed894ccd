"""Chat models: resolving a ``provider:model`` spec per role (``resolver``), thinking modes
(``thinking``), and the embedded local model (``local/``: its weights, server, client and CLI).

Nothing heavy loads here: the local model's runtime is imported only when it is started.
"""

from maximus.models.resolver import (
    LOCAL_SPEC,
    ModelLike,
    ModelResolver,
    init_model,
    local_chat_model,
    main_model_spec,
    uses_local_model,
)
from maximus.models.thinking import (
    FixedMode,
    TaskSignals,
    choose_mode,
    is_gemini,
    thinking_params,
    with_thinking,
)

__all__ = [
    "LOCAL_SPEC",
    "FixedMode",
    "ModelLike",
    "ModelResolver",
    "TaskSignals",
    "choose_mode",
    "init_model",
    "is_gemini",
    "local_chat_model",
    "main_model_spec",
    "thinking_params",
    "uses_local_model",
    "with_thinking",
]
