"""The embedded model's runtime on this machine: prompt and generation speed, and the prefix cache.

Starts the project's own local model server (the supervised llama-cpp-python server, with the
runtime that is installed) and measures, on a chat prompt of about 400 tokens:

- **cold prompt**: the prompt read from scratch (``max_tokens=1``), as prompt tokens per second;
- **shared prefix**: the same prompt with another last message, so llama.cpp reuses the KV cache
  of the shared prefix; the peer is the cold prompt, and the ratio is the prefix speed-up;
- **generation**: tokens per second while writing up to 96 tokens after a cached prompt.

It also reports how the runtime was built (llama.cpp's own ``system_info``: a portable build
lists AVX2 and no AVX512/AMX). Each figure is the median of ``--repeat`` rounds.

    python -m bench.local_runtime [--repeat 3] [--model-path PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from maximus.config import load_settings
from maximus.models.local.server import LocalModelServer
from maximus.models.local.weights import MODEL_FILE, MODEL_NAME

_TOOLS = "\n".join(
    f"- tool_{i}: does thing number {i} with its argument and returns a short result"
    for i in range(24)
)
SYSTEM = (
    "You are the planner of an agent. Break the user's goal into short steps, each naming the "
    "tool it uses. Tools:\n" + _TOOLS + "\nAnswer as JSON."
)


def _ask(url: str, session: int, last: str, max_tokens: int) -> tuple[float, dict[str, Any]]:
    # The session number opens the prompt, so a new session shares no prefix with the last.
    system = f"Session {session}. {SYSTEM}"
    body = {
        "model": MODEL_NAME,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": last}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 0,
    }
    started = time.perf_counter()
    reply = httpx.post(f"{url}/chat/completions", json=body, timeout=600)
    reply.raise_for_status()
    return time.perf_counter() - started, reply.json()["usage"]


def _system_info() -> str:
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model-path", type=Path, default=None)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="maximus-bench-runtime-") as tmp:
        data = Path(tmp) / "data"
        model = args.model_path or Path.home() / ".local/share/maximus/models" / MODEL_FILE
        if not model.exists():
            model = data / "models" / MODEL_FILE  # assembled from the chunk packages (~15 s)
        settings = load_settings(
            data_dir=data, model="local", local={"model_path": model, "idle_timeout": 900}
        )
        server = LocalModelServer(settings)
        started = time.perf_counter()
        info = server.ensure()
        ready_s = time.perf_counter() - started
        cold, prefix, gen = [], [], []
        prompt_tokens = completion = 0
        try:
            for round_ in range(args.repeat):
                goal = "Sort the numbers 9, 4, 7 and report the smallest."
                seconds, usage = _ask(info.url, round_, goal, 1)
                cold.append(usage["prompt_tokens"] / seconds)
                prompt_tokens = usage["prompt_tokens"]
                seconds, usage = _ask(info.url, round_, goal.replace("smallest", "largest"), 1)
                prefix.append(seconds)
                hit, _ = _ask(info.url, round_, goal, 1)
                seconds, usage = _ask(info.url, round_, goal + " Explain each step in detail.", 96)
                completion = usage["completion_tokens"]
                base, _ = _ask(info.url, round_, goal + " Explain each step in detail.", 1)
                gen.append((completion - 1) / max(seconds - base, 1e-3))
                cold_s = prompt_tokens / cold[-1]
                print(
                    f"round {round_}: cold {cold_s:.2f}s ({cold[-1]:.0f} tok/s), "
                    f"shared prefix {prefix[-1]:.2f}s, cached {hit:.2f}s, "
                    f"generation {gen[-1]:.1f} tok/s",
                    file=sys.stderr,
                )
        finally:
            server.stop()
    cold_tok_s = statistics.median(cold)
    cold_s = prompt_tokens / cold_tok_s
    prefix_s = statistics.median(prefix)
    result = {
        "system_info": _system_info(),
        "threads": info.n_threads,
        "ready_s": round(ready_s, 2),
        "ready_check_s": info.ready_check_s,
        "prompt_tokens": prompt_tokens,
        "cold_prompt_s": round(cold_s, 3),
        "prompt_tok_s": round(cold_tok_s, 1),
        "shared_prefix_prompt_s": round(prefix_s, 3),
        "prefix_speedup": round(cold_s / prefix_s, 2),
        "generation_tok_s": round(statistics.median(gen), 2),
        "completion_tokens": completion,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
