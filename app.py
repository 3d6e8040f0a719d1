"""Web app: ``python app.py [--host H] [--port P]`` serves the UI at /, the staff workspace at
/staff and the JSON API at /api.

One :class:`Assistant` and one :class:`Operations` (database, conversation log, staff accounts,
curated answers) are shared by the API and the Gradio UIs; settings are read from the
environment once, here.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import gradio as gr
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse

from assistant import AssistantError, Settings
from assistant.api import make_router
from assistant.api_documents import make_documents_router
from assistant.api_staff import make_staff_router
from assistant.kb import KnowledgeBase
from assistant.ops import Operations
from assistant.service import Assistant
from assistant.ui import CSS, make_staff_ui, make_ui

log = logging.getLogger("assistant.app")


def create_app(bot: Assistant | None = None, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app with the API routes first, the staff UI at "/staff" and the citizens' UI at "/".

    ``app.state.ops`` is the service's :class:`Operations`; it is closed (log flushed) on shutdown.
    """
    settings = settings or (bot.settings if bot is not None else Settings.from_env())
    bot = bot or Assistant(settings)
    ops = Operations.open(settings, bot)
    kb = KnowledgeBase(settings, embedder=bot.embedder)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ops.close()

    app = FastAPI(title="政策通 API", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.ops = ops
    app.include_router(make_router(bot, ops.feedback, settings, ops=ops))  # before the mounts, so /api and /healthz win
    app.include_router(make_staff_router(ops))
    # Reading the document list is public; adding or removing a document needs a staff token.
    app.include_router(make_documents_router(bot, kb, settings, dependencies=[Depends(_staff_for_changes(ops))]))

    @app.get("/staff", include_in_schema=False)
    def staff_without_slash() -> RedirectResponse:  # what people type; the mounted UI lives at /staff/
        return RedirectResponse("/staff/", status_code=307)

    options: dict[str, Any] = {
        "css": CSS,
        "ssr_mode": False,  # SSR would start a Node server; the app is offline and needs none
        "footer_links": [],
        "run_history": False,
        "show_error": False,  # unknown errors never reach the page as text
        "theme": gr.themes.Soft(),
        "max_file_size": f"{settings.max_upload_mb}mb",  # uploads to the 文件管理 tab
    }
    app = gr.mount_gradio_app(app, make_staff_ui(ops, kb), path="/staff", **options)  # mounted first: "/" would swallow it
    return gr.mount_gradio_app(app, make_ui(bot, ops.feedback, settings, ops=ops), path="/", **options)


def _staff_for_changes(ops: Operations) -> Callable[[Request], None]:
    """A route dependency: requests other than GET need a valid staff bearer token (401/403 otherwise)."""

    def check(request: Request) -> None:
        if request.method not in ("GET", "HEAD"):
            ops.staff.token_user(request.headers.get("authorization"))

    return check


def _announce_when_ready(server: uvicorn.Server) -> None:
    """Print the real URL once uvicorn is listening (port 0 picks a free port)."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.1)
    for s in server.servers:
        for sock in s.sockets:
            host, port = sock.getsockname()[:2]
            print(f"政策通 ready: http://{host}:{port}/  (API: /api/ask, health: /healthz)", flush=True)
            return


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except AssistantError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description="政策通 web app (UI at /, JSON API at /api)")
    parser.add_argument("--host", default=settings.host, help=f"interface to bind (default {settings.host}, env POLICY_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port}, env POLICY_PORT)")
    args = parser.parse_args(argv)
    settings = settings.with_(host=args.host, port=args.port)
    print("政策通: loading the policy index (first run builds it, up to a minute)…", flush=True)
    try:
        app = create_app(settings=settings)
    except AssistantError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    threading.Thread(target=_announce_when_ready, args=(server,), daemon=True).start()
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
