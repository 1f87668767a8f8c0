# Each target creates the virtual environment and installs what it needs on first use.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench image-test clean

$(STAMP): pyproject.toml requirements-torch.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-torch.txt
	$(PY) -m pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot

# The whole suite under RUNTIME=torch, then the engine's tests again under RUNTIME=auto
# (CTranslate2 and ONNX Runtime on the stand-ins); one pytest-xdist worker per core (at most
# four), a test module's tests on one worker, every Ray test on the same one.
XDIST := -n auto --maxprocesses 4 --dist loadgroup
test: $(STAMP)
	$(PY) -m pytest $(XDIST)
	$(PY) -m pytest $(XDIST) tests/engine --runtime auto

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot handlers

bench: $(STAMP)
	$(PY) -m bench

# Build the Dockerfile with Podman and smoke-test the image (installs Podman; see .ci/image_test.sh).
image-test: $(STAMP)
	PY=$(PY) bash .ci/image_test.sh

clean:
	rm -rf $(VENV)
