"""A tiny OpenAI-compatible HTTP server on loopback whose behaviour a test switches at will.

It stands in for the LLM server (which is not ours and cannot run in ``make test``): the
assistant's real client talks real HTTP to it. ``mode`` is one of

- ``"ok"``: ``POST /v1/chat/completions`` answers ``reply`` (JSON, or server-sent events
  when the request asks for ``"stream": true``, a few characters per event);
- ``"error"``: HTTP 500 with an OpenAI-style error body;
- ``"hang"``: reads the request and answers nothing until the test ends (a hung server).

``requests`` counts the chat requests received (the probe's included), ``prompts`` keeps
the last user message of each. ``pause`` (seconds) holds a stream after each event that ends a
sentence, so a test can see the first sentence before the next one exists.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubLLM:
    def __init__(self, reply: str = "", mode: str = "ok") -> None:
        self.reply = reply
        self.mode = mode
        self.requests = 0
        self.pause = 0.0
        self.prompts: list[str] = []
        self.released = threading.Event()  # set at the end: hung requests return
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> StubLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with stub._lock:
                    stub.requests += 1
                    msgs = body.get("messages") or [{}]
                    stub.prompts.append(str(msgs[-1].get("content", "")))
                    mode, reply = stub.mode, stub.reply
                if mode == "hang":
                    stub.released.wait(60)
                    return
                if mode == "error":
                    self._json(500, {"error": {"message": "stub says: internal error", "type": "server_error"}})
                    return
                if body.get("stream"):
                    self._sse(reply)
                else:
                    message = {"role": "assistant", "content": reply}
                    self._json(200, _completion("chat.completion", {"index": 0, "message": message, "finish_reason": "stop"}))

            def _json(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _sse(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                events = [{"role": "assistant", "content": ""}] + [{"content": text[i : i + 3]} for i in range(0, len(text), 3)]
                try:
                    for delta in events:
                        chunk = _completion("chat.completion.chunk", {"index": 0, "delta": delta, "finish_reason": None})
                        self.wfile.write(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n")
                        self.wfile.flush()
                        time.sleep(stub.pause if "。" in delta.get("content", "") else 0.01)
                    end = _completion("chat.completion.chunk", {"index": 0, "delta": {}, "finish_reason": "stop"})
                    self.wfile.write(b"data: " + json.dumps(end).encode() + b"\n\ndata: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (the verifier rejected the answer early)
                self.close_connection = True

        return Handler


def _completion(kind: str, choice: dict[str, Any]) -> dict[str, Any]:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    return {"id": "stub-1", "object": kind, "created": 0, "model": "stub", "choices": [choice], "usage": usage}


@contextmanager
def stub_llm(reply: str = "", mode: str = "ok") -> Iterator[StubLLM]:
    stub = StubLLM(reply, mode).start()
    try:
        yield stub
    finally:
        stub.stop()
