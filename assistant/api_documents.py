"""JSON routes for the knowledge base: list, show, upload (preview or add) and remove documents.

``make_documents_router`` takes everything it uses as parameters, ``dependencies`` included, so the
routes can be put behind a login by passing e.g. ``[Depends(require_staff)]``; ``app.py`` includes it.

    GET    /api/documents                      every document: id, 文号, title, items, dates, status, warnings
    GET    /api/documents/{doc_id}             one document's facts and its items (label, heading, title, departments)
    GET    /api/documents/{doc_id}/items/{n}   one item in full
    POST   /api/documents?dry_run=true         multipart ``file``: the parsed preview, nothing changed
    POST   /api/documents                      multipart ``file``: parse, add, re-index (201)
    DELETE /api/documents/{doc_id}             remove and re-index
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from .api import Reject, route_class
from .kb import KnowledgeBase, safe_id, validate_upload
from .present import document_json, measure_json, measure_summary
from .service import Assistant
from .settings import Settings
from .types import Document


def _document_row(bot: Assistant, doc: Document) -> dict[str, Any]:
    row = document_json(bot, doc, bot.clock())
    row.pop("note", None)
    return row


def _preview(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "number": doc.number,
        "format": doc.format,
        "levels": list(doc.levels),
        "warnings": list(doc.warnings),
        "items": [
            {
                "label": m.label,
                "path": list(m.path),
                "title": m.title,
                "lead_departments": list(m.lead_departments),
                "co_departments": list(m.co_departments),
                "departments": list(m.departments),
                "text": m.text,
            }
            for m in doc.measures
        ],
        "sections": [{"key": s.key_name, "heading": s.heading} for s in doc.sections],
    }


async def _upload(request: Request, max_bytes: int) -> tuple[str, bytes]:
    """(file name, content) of the multipart field ``file``, refused early when too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        mb = int(declared) / 1e6
        raise Reject(
            413, f"文件过大（上限{max_bytes // 1_000_000}MB）。", f"the upload is {mb:.1f} MB; the limit is {max_bytes // 1_000_000} MB"
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise Reject(422, "请以 multipart 表单字段 file 上传文件。", "send the document as the multipart form field 'file'")
    data = await upload.read(max_bytes + 1)
    return Path(upload.filename).name, data


def make_documents_router(bot: Assistant, kb: KnowledgeBase, settings: Settings, *, dependencies: Sequence[Any] = ()) -> APIRouter:
    """The knowledge-base routes; ``dependencies`` (e.g. a login check) apply to every one of them."""
    router = APIRouter(prefix="/api/documents", route_class=route_class(settings.max_question_chars), dependencies=list(dependencies))
    max_bytes = settings.max_upload_mb * 1_000_000

    def find(doc_id: str) -> Document:
        try:
            return bot.corpus.document(doc_id)
        except KeyError:
            raise Reject(404, "没有这份文件。", f"no document {doc_id!r}; GET /api/documents lists them") from None

    @router.get("")
    def documents() -> list[dict[str, Any]]:
        return [_document_row(bot, d) for d in bot.corpus.documents]

    @router.get("/{doc_id}")
    def document(doc_id: str) -> dict[str, Any]:
        doc = find(doc_id)
        today = bot.clock()
        return _document_row(bot, doc) | {"items": [measure_summary(m, today) | {"path": list(m.path)} for m in doc.measures]}

    @router.get("/{doc_id}/items/{number}")
    def item(doc_id: str, number: int) -> dict[str, Any]:
        doc = find(doc_id)
        try:
            return measure_json(bot, doc.measure(number), bot.clock())
        except KeyError:
            raise Reject(404, f"该文件没有第{number}项。", f"{doc_id} has no item {number} (1..{len(doc.measures)})") from None

    @router.post("", status_code=201)
    async def upload(request: Request, dry_run: bool = Query(False)) -> dict[str, Any]:
        """Parse an uploaded document; with ``dry_run`` only preview it, else add it and re-index."""
        name, data = await _upload(request, max_bytes)
        validate_upload(name, data, max_bytes)
        with tempfile.TemporaryDirectory(prefix="policy-upload-") as tmp:
            path = Path(tmp) / f"{safe_id(name)}{Path(name).suffix.lower()}"
            path.write_bytes(data)
            if dry_run:
                return {"added": False, "document": _preview(await run_in_threadpool(kb.preview, path, name=name))}
            change = await run_in_threadpool(kb.add, [path], names=[name])
        await run_in_threadpool(bot.reload)
        (doc,) = change.documents
        return {"added": True, "document": _preview(doc), "seconds": round(change.seconds, 2), "embedded": change.embedded}

    @router.delete("/{doc_id}")
    async def remove(doc_id: str) -> dict[str, Any]:
        find(doc_id)
        change = await run_in_threadpool(kb.remove, doc_id)
        await run_in_threadpool(bot.reload)
        return {"removed": doc_id, "seconds": round(change.seconds, 2), "documents": len(bot.corpus.documents)}

    return router
