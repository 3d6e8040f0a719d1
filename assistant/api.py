"""HTTP JSON API over one :class:`Assistant` (the Gradio UI sits beside it in ``app.py``).

Every failure is a JSON body ``{"error": 中文, "message": English, "status": code}``:
bad input is a 4xx that says what to fix, and an unexpected error is a generic
500 whose traceback goes only to the server log. ``present.ERRORS`` is the one
table that turns exceptions into user-facing text; the UI uses it too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from .feedback import FeedbackSink
from .llm import llm_status
from .present import describe, document_json, measure_json, measure_summary
from .service import Assistant
from .settings import Settings

if TYPE_CHECKING:
    from .ops import Operations

log = logging.getLogger("assistant.api")

MAX_BODY_BYTES = 64 * 1024  # a question plus 200 history messages fits easily; anything bigger is abuse
MAX_HISTORY_MESSAGES = 200

# --- request plumbing ---------------------------------------------------------------------


class Reject(Exception):
    """A request refused before it reaches the assistant (``api_documents`` raises it too)."""

    def __init__(self, status: int, zh: str, en: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(en)
        self.status, self.zh, self.en, self.headers = status, zh, en, headers or {}


def _error(status: int, zh: str, en: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": zh, "message": en, "status": status}, status_code=status, headers=headers)


def route_class(limit: int) -> type[APIRoute]:
    class SafeRoute(APIRoute):
        """Turns every exception into a JSON error; only unexpected ones are logged with a traceback."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def safe(request: Request) -> Response:
                try:
                    return await handler(request)
                except Reject as ex:
                    return _error(ex.status, ex.zh, ex.en, ex.headers)
                except RequestValidationError as ex:
                    errs = ex.errors()
                    where = ".".join(str(p) for p in errs[0].get("loc", ())) if errs else ""
                    msg = errs[0].get("msg", "invalid value") if errs else "invalid value"
                    return _error(422, "请求参数无效，请检查后重试。", f"{where}: {msg}")
                except Exception as ex:  # noqa: BLE001 - the last line of defence for HTTP
                    status, zh, en = describe(ex, limit=limit)
                    if status >= 500:
                        log.exception("unexpected error in %s %s", request.method, request.url.path)
                    return _error(status, zh, en)

            return safe

    return SafeRoute


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, read with a size cap before it is parsed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Reject(413, "请求内容过大（上限64KB）。", f"request body is {declared} bytes; the limit is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Reject(413, "请求内容过大（上限64KB）。", f"request body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise Reject(400, "请求内容不是有效的UTF-8编码。", "request body is not valid UTF-8; send JSON encoded as UTF-8") from None
    try:
        data = json.loads(text)
    except ValueError as ex:
        raise Reject(400, "请求内容不是有效的JSON。", f"request body is not valid JSON: {ex}") from None
    if not isinstance(data, dict):
        raise Reject(422, "请求内容应为JSON对象。", 'send a JSON object, e.g. {"question": "首次创业有什么补贴？", "history": []}')
    return data


# --- routes -------------------------------------------------------------------------------


def make_router(bot: Assistant, feedback_log: FeedbackSink, settings: Settings, *, ops: Operations | None = None) -> APIRouter:
    """All JSON endpoints for ``bot``; mount it before the UI so ``/api`` and ``/healthz`` win.

    With ``ops`` (the service: database, staff accounts) each question is rate-limited per client
    and logged, the reply carries its log ``id`` for feedback, and the feedback export needs a
    staff token; ``feedback_log`` is then ``ops.feedback``.
    """
    limit = settings.max_question_chars
    router = APIRouter(route_class=route_class(limit))

    @router.post("/api/ask")
    async def ask(request: Request) -> Response:
        """Answer a question, with optional chat history for follow-ups."""
        data = await json_body(request)
        history = data.get("history") or []
        if isinstance(history, list) and len(history) > MAX_HISTORY_MESSAGES:
            raise Reject(
                422,
                f"对话历史过长（最多{MAX_HISTORY_MESSAGES}条），请清空对话后重试。",
                f"history has {len(history)} messages; the limit is {MAX_HISTORY_MESSAGES}",
            )
        doc_id = data.get("doc_id") or None
        if doc_id is not None and doc_id not in {d.id for d in bot.corpus.documents}:
            raise Reject(404, "没有这份文件。", f"no document {doc_id!r}; GET /api/documents lists them")
        if ops is None:
            return JSONResponse((await run_in_threadpool(bot.ask, data.get("question"), history, doc_id=doc_id)).to_dict())
        client = request.client.host if request.client else None
        wait = ops.limiter.retry_after(client or "-")
        if wait:
            raise Reject(
                429,
                "提问过于频繁，请稍后再试。",
                f"rate limit: {settings.ask_rate_per_minute} questions a minute; retry in {wait:.0f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        t0 = time.perf_counter()
        reply = await run_in_threadpool(bot.ask, data.get("question"), history, doc_id=doc_id)
        t1 = time.perf_counter()
        rid = ops.recorder.record(
            reply, str(data.get("question")), history, latency_ms=(t1 - t0) * 1000, channel="api", client=ops.client(client)
        )
        log_ms = (time.perf_counter() - t1) * 1000
        timing = f"ask;dur={(t1 - t0) * 1000:.2f}, log;dur={log_ms:.3f}"
        return JSONResponse({**reply.to_dict(), "id": rid}, headers={"Server-Timing": timing})

    @router.get("/api/items/{number}")
    def item(number: int, doc_id: str | None = Query(None, max_length=100)) -> dict[str, Any]:
        """One measure in full: 第N条 (of the first document, or of ``doc_id``)."""
        try:
            doc = bot.corpus.document(doc_id or None)
        except KeyError:
            raise Reject(404, "没有这份文件。", f"no document {doc_id!r}; GET /api/documents lists them") from None
        try:
            m = bot.item(number, doc.id)
        except KeyError:
            raise Reject(
                404,
                f"文件中没有第{number}条（共{len(doc.measures)}条）。",
                f"no measure {number}; valid numbers are 1..{len(doc.measures)}",
            ) from None
        return measure_json(bot, m, bot.clock())

    @router.get("/api/search")
    def search(
        q: str = Query("", max_length=limit),
        department: str | None = Query(None, max_length=100),
        category: str | None = Query(None, max_length=100),
        doc_id: str | None = Query(None, max_length=100),
        limit_: int = Query(20, alias="limit", ge=1, le=100),
    ) -> list[dict[str, Any]]:
        """Operator look-up; an empty ``q`` lists every measure that passes the filters (``doc_id``: one document)."""
        today = bot.clock()
        found = bot.search(q, department=department or None, category=category or None, doc_id=doc_id or None, limit=limit_)
        return [measure_summary(m, today) for m in found]

    @router.get("/api/document")
    def document() -> dict[str, Any]:
        """The first document's facts (``/api/documents`` lists them all)."""
        return document_json(bot, bot.corpus.document(), bot.clock())

    @router.post("/api/feedback", status_code=201)
    async def feedback(request: Request) -> dict[str, Any]:
        """Record a 👍/👎 on an answer: {question, answer, citations, rating, comment?}."""
        data = await json_body(request)
        labels = data.get("citations", data.get("labels", []))
        link = {"interaction_id": data.get("id")} if ops is not None else {}  # the reply's id, from /api/ask
        try:
            record = await run_in_threadpool(
                feedback_log.add,
                data.get("question", ""),
                data.get("answer", ""),
                labels if isinstance(labels, list) else [labels],
                data.get("rating", ""),
                data.get("comment"),
                **link,
            )
        except ValueError as ex:
            raise Reject(422, "反馈内容无效（评价须为 up 或 down，留言不超过1000字）。", str(ex)) from None
        return {"ok": True, "record": record}

    @router.get("/api/feedback/export")
    def feedback_export(request: Request) -> Response:
        """Every feedback record as a JSON-lines download (staff token required when served with ``ops``)."""
        if ops is not None:
            ops.staff.token_user(request.headers.get("authorization"))
        return Response(
            feedback_log.export_jsonl(),
            media_type="application/x-ndjson; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="feedback.jsonl"'},
        )

    @router.get("/healthz")
    def healthz() -> dict[str, Any]:
        """``status`` is "degraded" while the configured LLM is down (answers are then extractive);
        ``decision`` is when the live answer decision was fitted, ``question_memory`` how many
        labelled questions it consults."""
        llm = llm_status(bot.llm)
        status = "degraded" if llm["llm"] == "down" else "ok"
        return {
            "status": status,
            "measures": len(bot.corpus.measures),
            "index": bot.index.manifest.get("build_id"),
            "decision": bot.model.info.get("fitted_at"),
            "question_memory": len(bot.memory),
            **llm,
        }

    return router
