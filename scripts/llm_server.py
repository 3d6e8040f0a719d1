#!/usr/bin/env python3
"""Start/stop a local llama_cpp.server (OpenAI-compatible API) on loopback.

    python scripts/llm_server.py start --model PATH [--port 0] [--threads 2] [--ctx 4096]
                                       [--alias NAME] [--timeout 120] [--python EXE]
    python scripts/llm_server.py stop
    python scripts/llm_server.py status

`start` runs ``python -m llama_cpp.server --model PATH --host 127.0.0.1 --port P
--n_threads T --n_ctx C`` in its own process group (log: .cache/llm-server.log),
waits until GET /v1/models answers, then runs one short chat completion (the smoke
test: a server built for another CPU answers /v1/models and dies at its first
completion), records pid and URL in .cache/llm-server.json and prints, on stdout only:

    export POLICY_LLM_BASE_URL=http://127.0.0.1:P/v1
    export POLICY_LLM_MODEL=<id reported by /v1/models>

so ``eval "$(python scripts/llm_server.py start --model ...)"`` sets both.
Without --alias the server's model id is the --model path exactly as passed
(this script passes it as an absolute path). Standard library only.

Exit codes of `start`: 0 ready; 2 usage (no model file, a server already running);
3 the server is broken: it died (the signal is named: SIGILL means instructions this
CPU lacks) or failed the smoke completion — rebuilding llama-cpp-python for this CPU
may help (scripts/test-llm.sh does, once); 1 anything else (e.g. no answer in time).
On a failure, the cause is also written to .cache/llm-server.failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LLM_SERVER_DIR") or REPO / ".cache")  # state, log, failure (tests use their own)
STATE = CACHE / "llm-server.json"
LOG = CACHE / "llm-server.log"
FAILURE = CACHE / "llm-server.failure"
BROKEN = 3  # exit code: the server died or failed its smoke test (a rebuild may help)
SMOKE_PROMPT = "你好"
SMOKE_TOKENS = 8


def log(msg: str) -> None:
    print(f"[llm_server] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(n: int = 40, start: int = 0) -> str:
    """Last n lines of the log written since byte offset `start` (this run only)."""
    try:
        with open(LOG, "rb") as f:
            f.seek(start)
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:]) or "(log empty)"


def alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_our_server(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"llama_cpp.server" in cmd


def get_models(base_url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as r:
            if r.status == 200:
                return json.loads(r.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, ValueError):
        return None
    return None


def death(rc: int) -> str:
    """'killed by SIGILL (illegal instruction: …)' for a negative return code, else 'exited with code N'."""
    if rc >= 0:
        return f"exited with code {rc}"
    try:
        name = signal.Signals(-rc).name
    except ValueError:
        name = f"signal {-rc}"
    hint = {
        "SIGILL": "illegal instruction: llama-cpp-python was built for CPU instructions this CPU lacks",
        "SIGSEGV": "segmentation fault, or a general protection fault: often a build for another CPU",
        "SIGBUS": "bus error",
        "SIGKILL": "killed: out of memory, or stopped from outside",
    }.get(name, "")
    return f"killed by {name}" + (f" ({hint})" if hint else "")


def kernel_trap(pid: int) -> str:
    """The kernel's line about ``pid`` (``traps: python[pid] trap invalid opcode … in libllama.so``), if readable."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = [ln for ln in out.splitlines() if f"[{pid}]" in ln and ("traps:" in ln or "segfault" in ln)]
    return lines[-1].split("] ", 1)[-1].strip() if lines else ""


def smoke(base_url: str, timeout: float) -> tuple[bool, str, float]:
    """(ok, what happened, seconds) for one short chat completion."""
    body = json.dumps({"messages": [{"role": "user", "content": SMOKE_PROMPT}], "max_tokens": SMOKE_TOKENS, "temperature": 0}).encode()
    req = urllib.request.Request(f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = json.loads(r.read())
        text = data["choices"][0]["message"]["content"]
    except urllib.error.HTTPError as ex:
        return False, f"the completion failed with HTTP {ex.code}: {ex.read()[:200]!r}", time.monotonic() - t0
    except (TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as ex:
        return False, f"the completion failed ({type(ex).__name__}: {ex})", time.monotonic() - t0
    if not isinstance(text, str):
        return False, f"the completion returned no text: {data!r:.200}", time.monotonic() - t0
    return True, f"answered {text.strip()[:40]!r}", time.monotonic() - t0


def fail(cause: str, log_start: int) -> None:
    """Say why the server is not usable, with this run's log tail, and keep the cause for scripts."""
    log(f"ERROR: {cause}. Log: {LOG}. Log tail:")
    print(log_tail(start=log_start), file=sys.stderr)
    FAILURE.write_text(f"{cause} (log: {LOG})\n")


def read_state() -> dict | None:
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return None


def kill_group(pid: int, grace: float = 15.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.2)
    log(f"pid {pid} ignored SIGTERM for {grace:.0f} s; sending SIGKILL to its group")
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_start(args: argparse.Namespace) -> int:
    model = Path(args.model).resolve()
    if not model.is_file():
        log(f"ERROR: model file not found: {model}")
        return 2
    old = read_state()
    if old and alive(old.get("pid", -1)) and is_our_server(old["pid"]):
        log(f"ERROR: a server is already running (pid {old['pid']}, {old['base_url']}); run `python scripts/llm_server.py stop` first")
        return 1
    STATE.unlink(missing_ok=True)
    FAILURE.unlink(missing_ok=True)

    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cmd = [
        args.python,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        str(args.threads),
        "--n_ctx",
        str(args.ctx),
    ]
    if args.alias:
        cmd += ["--model_alias", args.alias]
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"starting: {shlex.join(cmd)}")
    log(f"log: {LOG}")
    t0 = time.monotonic()
    with open(LOG, "ab") as logf:
        log_start = logf.tell()
        logf.write(f"\n===== {time.strftime('%F %T')} {shlex.join(cmd)}\n".encode())
        logf.flush()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )

    models = None
    deadline = t0 + args.timeout
    try:
        while time.monotonic() < deadline:
            rc = proc.poll()
            if rc is not None:
                trap = kernel_trap(proc.pid)
                fail(f"llama_cpp.server {death(rc)} before answering" + (f"; kernel: {trap}" if trap else ""), log_start)
                return BROKEN if rc < 0 else 1
            models = get_models(base_url)
            if models is not None:
                break
            time.sleep(0.5)
    except BaseException:  # Ctrl-C while waiting: don't leave an orphan server
        kill_group(proc.pid)
        raise
    if models is None:
        fail(f"no answer from {base_url}/models within {args.timeout:.0f} s", log_start)
        kill_group(proc.pid)
        return 1
    ready_s = time.monotonic() - t0

    smoke_s = None
    if args.smoke:
        ok, what, smoke_s = smoke(base_url, args.smoke_timeout)
        rc = proc.poll()
        if rc is None and not ok:
            time.sleep(1.0)  # a dropped connection is often the process dying: give it a moment
            rc = proc.poll()
        if rc is not None:
            trap = kernel_trap(proc.pid)
            cause = f"llama_cpp.server answered /v1/models, then {death(rc)} during the smoke completion"
            fail(cause + (f"; kernel: {trap}" if trap else ""), log_start)
            return BROKEN
        if not ok:
            kill_group(proc.pid)
            timed_out = "timed out" in what or "TimeoutError" in what
            fail(f"llama_cpp.server is running but {what}", log_start)
            return 1 if timed_out else BROKEN
        log(f"smoke completion {what} in {smoke_s:.1f} s")

    try:
        model_id = models["data"][0]["id"]
    except (KeyError, IndexError, TypeError):
        model_id = args.alias or str(model)
    state = {
        "pid": proc.pid,
        "port": port,
        "base_url": base_url,
        "model_id": model_id,
        "model_path": str(model),
        "threads": args.threads,
        "ctx": args.ctx,
        "log": str(LOG),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ready_after_s": round(ready_s, 2),
        "smoke_s": None if smoke_s is None else round(smoke_s, 2),
    }
    STATE.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n")
    log(
        f"ready after {state['ready_after_s']} s (+ smoke completion {state['smoke_s']} s): "
        f"pid {proc.pid}, {base_url}, model id {model_id!r}"
    )
    print(f"export POLICY_LLM_BASE_URL={shlex.quote(base_url)}")
    print(f"export POLICY_LLM_MODEL={shlex.quote(model_id)}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    state = read_state()
    if not state:
        log("no server recorded (.cache/llm-server.json absent); nothing to stop")
        return 0
    pid = int(state.get("pid", -1))
    if pid > 0 and alive(pid) and is_our_server(pid):
        log(f"stopping llama_cpp.server pid {pid} ({state.get('base_url')})")
        kill_group(pid)
    else:
        log(f"recorded pid {pid} is not running; removing stale state")
    STATE.unlink(missing_ok=True)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = read_state()
    if not state or not alive(state.get("pid", -1)):
        print("not running")
        return 1
    ok = get_models(state["base_url"]) is not None
    print(f"running pid {state['pid']} {state['base_url']} model {state['model_id']!r} {'answering' if ok else 'NOT answering'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="local llama_cpp.server start/stop helper")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start the server and wait until it answers")
    s.add_argument("--model", required=True, help="path to the .gguf file")
    s.add_argument("--port", type=int, default=0, help="0 = pick a free loopback port")
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--ctx", type=int, default=4096)
    s.add_argument(
        "--alias",
        default=None,
        help="--model_alias for the server (default: the model path is the id)",
    )
    s.add_argument("--timeout", type=float, default=120.0)
    s.add_argument(
        "--no-smoke",
        dest="smoke",
        action="store_false",
        help="skip the smoke completion after start (not recommended)",
    )
    s.add_argument(
        "--smoke-timeout",
        type=float,
        default=180.0,
        help="seconds for the smoke completion (a cold server on 2 busy cores needs tens of seconds)",
    )
    s.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that has llama_cpp installed (default: this one)",
    )
    s.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop the recorded server").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="is the recorded server answering?").set_defaults(func=cmd_status)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
