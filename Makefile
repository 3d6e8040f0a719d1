# 政策通 — the two entry commands are `make run` and `make test` (see README).
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test venv index eval bench lint test-llm browser postgres clean

# Create the virtualenv and install the project (CPU torch pinned in pyproject.toml).
$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (Python 3.11) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

index: $(STAMP)
	$(BIN)/python -m assistant index

run: $(STAMP)
	$(BIN)/python -m assistant index --if-stale
	$(BIN)/python app.py

test: $(STAMP) browser postgres
	$(BIN)/python -m pytest -q

eval: $(STAMP)
	$(BIN)/python -m eval run

bench: $(STAMP)
	$(BIN)/python -m eval bench

lint: $(STAMP)
	$(BIN)/ruff check assistant eval tests scripts app.py
	$(BIN)/ruff format --check assistant eval tests scripts app.py
	$(BIN)/mypy assistant eval

# Headless Chromium for the browser tests (Debian packages; Playwright never downloads a browser).
browser:
	@test -x /usr/bin/chromium || { (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) || echo "warning: could not install chromium; browser tests will be skipped"; }

# A PostgreSQL server for the storage tests (Debian packages; the tests start a throw-away one on loopback).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) || echo "warning: could not install postgresql; PostgreSQL tests will be skipped"; }

# The generative mode against a real local model (scripts/README-llm.md). llama-cpp-python comes from
# .cache/wheels/<CPU key>/ (built there when missing, never from pip's cache); the server is smoke-tested
# after start and rebuilt once if it dies. LLM_PY: the interpreter to use; from a git worktree that
# shares another checkout's venv, `make test-llm LLM_PY=/path/to/.venv/bin/python` (no venv update).
LLM_PY ?= $(BIN)/python
test-llm: $(if $(filter $(BIN)/python,$(LLM_PY)),$(STAMP))
	PY=$(LLM_PY) bash scripts/test-llm.sh

clean:
	rm -rf index/current index/builds .pytest_cache
