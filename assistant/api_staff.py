"""The staff API: conversation logs, review queue, curated answers, analytics, accounts.

Every route needs ``Authorization: Bearer <token>`` (``python -m assistant user token NAME``):
401 without a valid token, 403 for an admin route and a user who is not an administrator.
Errors are JSON, as in ``api.py``, whose error handling this router shares.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from .analytics import report
from .api import Reject, json_body, route_class
from .ops import Operations
from .storage import User


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [x for x in value.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(value, list):
        raise Reject(422, f"“{key}”应为列表。", f"{key} must be a list")
    return value


def _curated_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "version": record.version,
        "questions": record.questions,
        "answer": record.answer,
        "citations": record.citations,
        "updated_by": record.updated_by,
        "updated_at": str(record.updated_at),
    }


def make_staff_router(ops: Operations) -> APIRouter:
    router = APIRouter(route_class=route_class(ops.settings.max_question_chars))

    def staff(request: Request, *, admin: bool = False) -> User:
        return ops.staff.token_user(request.headers.get("authorization"), admin=admin)

    @router.get("/api/staff/me")
    def me(request: Request) -> dict[str, Any]:
        user = staff(request)
        return {"name": user.name, "admin": user.is_admin}

    @router.get("/api/staff/logs")
    def logs(request: Request, q: str = Query("", max_length=200), limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
        """The newest questions and replies; ``q`` searches question and reply text."""
        staff(request)
        ops.recorder.flush()
        return [{**r, "created_at": str(r["created_at"])} for r in ops.conversations.search(q, limit=limit)]

    @router.post("/api/staff/logs/missing")
    async def missing(request: Request) -> dict[str, Any]:
        """Which of the given reply ids are not stored (after waiting for the writer): the lost-record check."""
        staff(request)
        ids = [str(x) for x in _list(await json_body(request), "ids")][:2000]
        await run_in_threadpool(ops.recorder.flush)
        lost = await run_in_threadpool(ops.conversations.missing, ids)
        return {"checked": len(ids), "missing": lost, "written": ops.recorder.written, "pending": ops.recorder.pending()}

    @router.get("/api/staff/reviews")
    def reviews(
        request: Request, status: str = Query("open", pattern="^(open|resolved|all)$"), limit: int = Query(100, ge=1, le=500)
    ) -> Any:
        staff(request)
        ops.recorder.flush()
        return [
            {**r, "created_at": str(r["created_at"]), "resolved_at": str(r["resolved_at"] or "")}
            for r in ops.reviews.items(status=status, limit=limit)
        ]

    @router.post("/api/staff/reviews/{review_id}/resolve")
    async def resolve(review_id: int, request: Request) -> dict[str, Any]:
        """{"action": "curated", "answer", "citations", "questions"?} | {"action": "synonym", "colloquial", "officials"} |
        {"action": "not_covered", "note"?}"""
        user = staff(request)
        data = await json_body(request)
        action = data.get("action")
        if action == "curated":
            return await run_in_threadpool(
                ops.reviews.resolve_curated,
                review_id,
                user.name,
                _list(data, "questions"),
                str(data.get("answer", "")),
                _list(data, "citations"),
            )
        if action == "synonym":
            return await run_in_threadpool(
                ops.reviews.resolve_synonym, review_id, user.name, str(data.get("colloquial", "")), _list(data, "officials")
            )
        if action == "not_covered":
            return await run_in_threadpool(ops.reviews.resolve_not_covered, review_id, user.name, str(data.get("note", "")))
        raise Reject(
            422, "处理方式应为 curated、synonym 或 not_covered。", f"action must be curated, synonym or not_covered, got {action!r}"
        )

    _curated_routes(router, ops, staff)
    _analytics_routes(router, ops, staff)
    _admin_routes(router, ops, staff)
    return router


def _curated_routes(router: APIRouter, ops: Operations, staff: Any) -> None:
    @router.get("/api/staff/curated")
    def curated_list(request: Request, status: str = Query("active", pattern="^(active|retired|all)$")) -> list[dict[str, Any]]:
        staff(request)
        return [_curated_json(r) for r in ops.curated.store.find(status=None if status == "all" else status)]

    @router.post("/api/staff/curated", status_code=201)
    async def curated_create(request: Request) -> dict[str, Any]:
        """{"questions": [...], "answer": "...", "citations": ["第25条", ...]}"""
        user = staff(request)
        data = await json_body(request)
        args = (_list(data, "questions"), str(data.get("answer", "")), _list(data, "citations"), user.name)
        return _curated_json(await run_in_threadpool(ops.curated.create, *args))

    @router.put("/api/staff/curated/{cid}")
    async def curated_edit(cid: int, request: Request) -> dict[str, Any]:
        user = staff(request)
        data = await json_body(request)
        args = (cid, _list(data, "questions"), str(data.get("answer", "")), _list(data, "citations"), user.name)
        return _curated_json(await run_in_threadpool(ops.curated.edit, *args))

    @router.post("/api/staff/curated/{cid}/retire")
    async def curated_retire(cid: int, request: Request) -> dict[str, Any]:
        user = staff(request)
        return _curated_json(await run_in_threadpool(ops.curated.retire, cid, user.name))

    @router.get("/api/staff/curated/{cid}/history")
    def curated_history(cid: int, request: Request) -> list[dict[str, Any]]:
        staff(request)
        return [{**v, "created_at": str(v["created_at"])} for v in ops.curated.store.history(cid)]


def _analytics_routes(router: APIRouter, ops: Operations, staff: Any) -> None:
    @router.get("/api/staff/analytics")
    def analytics(request: Request, days: int = Query(30, ge=1, le=3650)) -> dict[str, Any]:
        staff(request)
        ops.recorder.flush()
        return report(ops.conversations, ops.bot.embedder, days=days).to_dict()

    @router.get("/api/staff/analytics.csv")
    def analytics_csv(request: Request, days: int = Query(30, ge=1, le=3650)) -> Response:
        staff(request)
        ops.recorder.flush()
        body = report(ops.conversations, None, days=days).csv()
        return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="analytics.csv"'})


def _admin_routes(router: APIRouter, ops: Operations, staff: Any) -> None:
    @router.get("/api/admin/users")
    def users(request: Request) -> list[dict[str, Any]]:
        staff(request, admin=True)
        return [{"name": u.name, "admin": u.is_admin, "disabled": u.disabled} for u in ops.staff.store.list_users()]

    @router.post("/api/admin/users", status_code=201)
    async def add_user(request: Request) -> dict[str, Any]:
        """{"name", "password", "admin": false}"""
        staff(request, admin=True)
        data = await json_body(request)
        try:
            user = await run_in_threadpool(
                ops.staff.add_user, str(data.get("name", "")), str(data.get("password", "")), is_admin=bool(data.get("admin"))
            )
        except ValueError as ex:
            raise Reject(422, "用户名或密码不符合要求。", str(ex)) from None
        return {"name": user.name, "admin": user.is_admin}

    @router.post("/api/admin/purge")
    async def purge(request: Request) -> dict[str, Any]:
        """Apply the retention period now."""
        staff(request, admin=True)
        return {"deleted": await run_in_threadpool(ops.purge), "retention_days": ops.settings.retention_days}
