#!/usr/bin/env python3
"""Start/stop a local llama_cpp.server (OpenAI-compatible API) on loopback.

    python scripts/llm_server.py start --model PATH [--port 0] [--threads 2] [--ctx 4096]
                                       [--alias NAME] [--timeout 120] [--python EXE]
    python scripts/llm_server.py stop
    python scripts/llm_server.py status

`start` runs ``python -m llama_cpp.server --model PATH --host 127.0.0.1 --port P
--n_threads T --n_ctx C`` in its own process group (log: .cache/llm-server.log),
waits until GET /v1/models answers, records pid and URL in .cache/llm-server.json
and prints, on stdout only:

    export POLICY_LLM_BASE_URL=http://127.0.0.1:P/v1
    export POLICY_LLM_MODEL=<id reported by /v1/models>

so ``eval "$(python scripts/llm_server.py start --model ...)"`` sets both.
Without --alias the server's model id is the --model path exactly as passed
(this script passes it as an absolute path). Standard library only.
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
CACHE = REPO / ".cache"
STATE = CACHE / "llm-server.json"
LOG = CACHE / "llm-server.log"


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
        log(
            f"ERROR: a server is already running (pid {old['pid']}, {old['base_url']}); "
            "run `python scripts/llm_server.py stop` first"
        )
        return 1
    STATE.unlink(missing_ok=True)

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
                log(
                    f"ERROR: llama_cpp.server exited with code {rc} before answering. Log tail:"
                )
                print(log_tail(start=log_start), file=sys.stderr)
                return 1
            models = get_models(base_url)
            if models is not None:
                break
            time.sleep(0.5)
    except BaseException:  # Ctrl-C while waiting: don't leave an orphan server
        kill_group(proc.pid)
        raise
    if models is None:
        log(
            f"ERROR: no answer from {base_url}/models within {args.timeout:.0f} s. Log tail:"
        )
        print(log_tail(start=log_start), file=sys.stderr)
        kill_group(proc.pid)
        return 1

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
        "ready_after_s": round(time.monotonic() - t0, 2),
    }
    STATE.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n")
    log(
        f"ready after {state['ready_after_s']} s: pid {proc.pid}, {base_url}, model id {model_id!r}"
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
    print(
        f"running pid {state['pid']} {state['base_url']} model {state['model_id']!r}"
        f" {'answering' if ok else 'NOT answering'}"
    )
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
        "--python",
        default=sys.executable,
        help="interpreter that has llama_cpp installed (default: this one)",
    )
    s.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop the recorded server").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="is the recorded server answering?").set_defaults(
        func=cmd_status
    )
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
