# Tertulia in a container. CI builds this file unchanged and smoke-tests the image on every run
# (`make image-test`, .ci/image_test.sh); the README's "Running in Docker" says what that proves.
#
# CPU (the default):
#   docker build -t tertulia .
# NVIDIA GPU (the host needs the NVIDIA Container Toolkit; run with --gpus all). PyTorch's CUDA
# wheels carry the CUDA libraries, so the base image stays the same; only torch's build changes:
#   docker build -t tertulia:cuda --build-arg TORCH_VARIANT=cu130 .
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# cpu, or a CUDA build (cu126, cu128, cu130, ...): a folder of PyTorch's package index; PyPI's own
# Linux torch wheel is a CUDA build too (CUDA 13 for torch 2.13.0).
ARG TORCH_VARIANT=cpu
ARG TORCH_INDEX=https://download.pytorch.org/whl/${TORCH_VARIANT}
# Optional extras of pyproject.toml, comma-separated: "scale" adds Ray Serve (the model server
# and the bots that call it, compose.yaml's scale-out profile).
ARG EXTRAS=""

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    HF_HOME=/models

# A base image without Python (a CUDA or plain distribution image) gets the distribution's.
# The bot runs as tertulia (uid 10001), who owns only the two volumes.
RUN if ! python3 -c "import ensurepip, venv" 2>/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin tertulia \
    && mkdir -p /data /models \
    && chown tertulia /data /models

WORKDIR /app
# Dependencies before the source, so that editing the code rebuilds only the last layers:
# torch first, from the index of the wanted build, so that nothing later pulls another build;
# then the project's other dependencies, read from pyproject.toml.
COPY requirements-torch.txt ./
RUN pip install --index-url "$TORCH_INDEX" -r requirements-torch.txt
COPY pyproject.toml ./
RUN python -c 'import sys, tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = [e for e in sys.argv[1].split(",") if e]; \
print(*project["dependencies"], *(d for e in extras for d in project["optional-dependencies"][e]), sep="\n")' "$EXTRAS" \
        > /tmp/dependencies.txt \
    && pip install -r /tmp/dependencies.txt \
    && rm /tmp/dependencies.txt
COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-deps . && rm -rf build ./*.egg-info

USER tertulia
# The SQLite database and the Hugging Face model cache outlive the container.
VOLUME ["/data", "/models"]
# Webhook mode listens here (WEBHOOK_PORT).
EXPOSE 8443

# The bot handles SIGTERM itself (requests in flight finish, the database closes): no shell here.
ENTRYPOINT ["tertulia"]
CMD ["polling"]
