# Tertulia in a container. Untested here (no Docker engine where it was written).
#
# CPU (the default):
#   docker build -t tertulia .
# NVIDIA GPU (the host needs the NVIDIA Container Toolkit; run with --gpus all):
#   docker build -t tertulia:cuda \
#     --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04 \
#     --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 .
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    HF_HOME=/models

# The CUDA images come without Python; the python images have it.
RUN if ! python3 -c "import ensurepip, venv" 2>/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv

WORKDIR /app
# torch first, from the index of the wanted build, so the project's own install keeps it.
COPY requirements-torch.txt .
RUN pip install --index-url "$TORCH_INDEX" -r requirements-torch.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install .

RUN useradd --create-home tertulia \
    && mkdir -p /data /models \
    && chown tertulia /data /models
USER tertulia
# The SQLite database and the Hugging Face model cache outlive the container.
VOLUME ["/data", "/models"]
# Webhook mode listens here (WEBHOOK_PORT).
EXPOSE 8443

ENTRYPOINT ["tertulia"]
CMD ["polling"]
