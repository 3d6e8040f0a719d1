"""scripts/llm_server.py's smoke test and scripts/llm_wheel.py's CPU key, without compiling or loading a model.

``llm_server.py start`` runs ``python -m llama_cpp.server``; here that module is a small stand-in put
first on PYTHONPATH, which answers ``/v1/models`` like the real one and then, per test, dies at the
first completion (like the build for another CPU of issue 15), answers it with HTTP 500, or answers
it properly. The script must tell these apart by its exit code (3: broken, a rebuild may help) and
name the cause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

SERVER_MAIN = """
import argparse, json, os, signal
from http.server import BaseHTTPRequestHandler, HTTPServer

ap = argparse.ArgumentParser()
for name in ("--model", "--host", "--port", "--n_threads", "--n_ctx", "--model_alias"):
    ap.add_argument(name)
args = ap.parse_args()
MODE = os.environ["STANDIN_MODE"]

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _send(self, status, data):
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        self._send(200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if MODE == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)  # what a kernel built for another CPU does here
        if MODE == "error":
            self._send(500, {"error": {"message": "ggml_abort"}})
            return
        self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "你好！"}}]})

print("stand-in llama_cpp.server listening", flush=True)
HTTPServer((args.host, int(args.port)), H).serve_forever()
"""


@pytest.fixture()
def standin(tmp_path: Path) -> Path:
    """A folder to put first on PYTHONPATH: ``llama_cpp/server/__main__.py`` is the stand-in."""
    pkg = tmp_path / "standin" / "llama_cpp" / "server"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(SERVER_MAIN)
    return tmp_path / "standin"


def _run(standin: Path, state: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    model = state / "model.gguf"
    model.write_bytes(b"GGUF")
    env = {**os.environ, "PYTHONPATH": str(standin), "LLM_SERVER_DIR": str(state), "STANDIN_MODE": mode}
    cmd = [sys.executable, str(ROOT / "scripts" / "llm_server.py"), *args]
    if args[0] == "start":
        cmd += ["--model", str(model), "--timeout", "30", "--smoke-timeout", "30"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_server_dying_at_the_first_completion_is_reported_as_broken(standin: Path, tmp_path: Path) -> None:
    r = _run(standin, tmp_path, "crash", "start")
    assert r.returncode == 3, r.stderr
    cause = (tmp_path / "llm-server.failure").read_text()
    assert "answered /v1/models, then killed by SIGSEGV" in cause and "during the smoke completion" in cause
    assert str(tmp_path / "llm-server.log") in cause and "stand-in llama_cpp.server listening" in r.stderr  # the log tail
    assert r.stdout == "" and not (tmp_path / "llm-server.json").exists()  # nothing to eval, no state


def test_failed_completion_is_reported_as_broken_and_the_server_stopped(standin: Path, tmp_path: Path) -> None:
    r = _run(standin, tmp_path, "error", "start")
    assert r.returncode == 3, r.stderr
    assert "the completion failed with HTTP 500" in (tmp_path / "llm-server.failure").read_text()
    pids = [int(p) for p in subprocess.run(["pgrep", "-f", str(tmp_path / "model.gguf")], capture_output=True, text=True).stdout.split()]
    assert pids == []  # stopped, not left running


def test_working_server_passes_the_smoke_test(standin: Path, tmp_path: Path) -> None:
    r = _run(standin, tmp_path, "ok", "start")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("export POLICY_LLM_BASE_URL=http://127.0.0.1:") and "export POLICY_LLM_MODEL=" in r.stdout
    state = json.loads((tmp_path / "llm-server.json").read_text())
    assert state["smoke_s"] is not None and "smoke completion answered '你好！'" in r.stderr
    assert not (tmp_path / "llm-server.failure").exists()
    assert _run(standin, tmp_path, "ok", "stop").returncode == 0
    deadline = time.monotonic() + 20
    while Path(f"/proc/{state['pid']}").exists() and "Z" not in Path(f"/proc/{state['pid']}/stat").read_text().split(")")[-1][:3]:
        assert time.monotonic() < deadline, "the server was not stopped"
        time.sleep(0.1)


def test_wheel_key_follows_cpu_flags_and_build_arguments() -> None:
    def key(**env: str) -> str:
        cmd = [sys.executable, str(ROOT / "scripts" / "llm_wheel.py"), "key"]
        return subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout.strip()

    default = key(LLM_CMAKE_ARGS="-DGGML_NATIVE=OFF")
    assert len(default) == 16 and int(default, 16) >= 0
    assert key(LLM_CMAKE_ARGS="-DGGML_NATIVE=OFF") == default  # stable
    assert key(LLM_CMAKE_ARGS="-DGGML_NATIVE=ON") != default  # a native build gets its own folder
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import llm_wheel
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    model, flags = llm_wheel.cpu_flags()
    assert "sse2" in flags and flags == sorted(set(flags))  # x86-64 always has SSE2
    here = llm_wheel.key(sys.executable)
    assert here == llm_wheel.key(sys.executable, flags)
    without_avx512 = [f for f in flags if not f.startswith("avx512")]
    assert llm_wheel.key(sys.executable, without_avx512 or [*flags, "avx512f"]) != here  # another CPU: another folder
