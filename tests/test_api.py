"""The JSON API over HTTP: the real app (real Assistant, Chroma, BM25) served by uvicorn on loopback."""

from __future__ import annotations

import copy
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from assistant import Reply
from assistant.api import make_router
from assistant.feedback import FeedbackLog
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # app.py sits at the repo root, outside the package
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

EXAMPLE = "我新开个体户能领多少补贴？"


class LiveServer:
    """uvicorn in a daemon thread on a free loopback port (port 0: the OS picks one)."""

    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def live_bot(bot: Assistant) -> Assistant:
    """The session's real Assistant from conftest (one index build for the whole run)."""
    return bot


@pytest.fixture(scope="module")
def live_app(live_bot: Assistant, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = live_bot.settings.with_(data_dir=tmp_path_factory.mktemp("api-data"))
    return create_app(bot=live_bot, settings=settings)


@pytest.fixture(scope="module")
def base_url(live_app: FastAPI) -> Iterator[str]:
    with LiveServer(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def staff_headers(live_app: FastAPI) -> dict[str, str]:
    """A staff token: the feedback export is refused without one (tests/test_service.py checks that)."""
    staff = live_app.state.ops.staff
    staff.add_user("reviewer", "correct horse battery")
    return {"Authorization": f"Bearer {staff.issue_token('reviewer')}"}


def _ask(client: httpx.Client, question: object, history: object = None) -> httpx.Response:
    return client.post("/api/ask", json={"question": question, "history": history or []})


def _assert_error(r: httpx.Response, status: int | tuple[int, ...]) -> dict:
    """A refused request: the expected 4xx with a Chinese and an English message, never a 500."""
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.text
    body = r.json()
    assert body["error"] and body["message"], body
    return body


# --- questions ------------------------------------------------------------------------------


def test_example_question_is_answered_with_citation(client: httpx.Client) -> None:
    r = _ask(client, EXAMPLE)
    assert r.status_code == 200
    body = r.json()
    assert body["answered"] is True
    assert "5000元" in body["text"]
    assert "【第25条】" in body["text"]
    assert 25 in [c["item"] for c in body["citations"]]


def test_follow_up_uses_history(client: httpx.Client) -> None:
    first = _ask(client, EXAMPLE).json()
    history = [{"role": "user", "content": EXAMPLE}, {"role": "assistant", "content": first["text"]}]
    follow = _ask(client, "这个找哪个部门办？", history)
    assert follow.status_code == 200
    body = follow.json()
    assert body["answered"] is True
    assert "个体户" in body["question"]  # resolved against the previous question
    assert first["citations"][0]["item"] in [c["item"] for c in body["citations"]]
    alone = _ask(client, "这个找哪个部门办？").json()
    assert "个体户" not in alone["question"]  # without the history nothing links it to 个体户


def test_unanswerable_question_is_refused_without_citations(client: httpx.Client) -> None:
    body = _ask(client, "今天天气怎么样").json()
    assert body["answered"] is False
    assert body["citations"] == []
    assert body["text"].startswith("未找到")


def test_html_question_returns_json(client: httpx.Client) -> None:
    r = _ask(client, "<script>alert(1)</script><img src=x onerror=alert(1)>首次创业有什么补贴？")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert isinstance(r.json()["answered"], bool)


# --- items, search, document, health ---------------------------------------------------------


def test_item_25_in_full(client: httpx.Client) -> None:
    r = client.get("/api/items/25")
    assert r.status_code == 200
    m = r.json()
    assert (m["number"], m["title"], m["category"]) == (25, "健全首次创业扶持政策", "激发创新创业活力")
    assert m["departments"] == ["区人社局", "区财政局"]
    assert "最高5000元一次性创业补贴" in m["text"]
    assert [a["text"] for a in m["amounts"]] == ["最高5000元"] and m["amounts"][0]["value"] == 5000.0
    assert [p["text"] for p in m["percents"]] == ["60%"]
    assert m["deadlines"] == [] and m["deadline_status"] == "无明确期限"


def test_item_with_passed_deadline(client: httpx.Client) -> None:
    m = client.get("/api/items/27").json()
    assert {"text": "2025年底", "date": "2025-12-31", "kind": "until", "passed": True} in m["deadlines"]
    assert m["deadline_status"] == "已过期（2025年底）"
    assert "已过" in m["note"]


def test_unknown_item_is_404(client: httpx.Client) -> None:
    body = _assert_error(client.get("/api/items/999"), 404)
    assert "999" in body["error"] and "1..84" in body["message"]
    _assert_error(client.get("/api/items/abc"), 422)


def test_search_invoice_finds_measure_10(client: httpx.Client) -> None:
    r = client.get("/api/search", params={"q": "发票"})
    assert r.status_code == 200
    numbers = [m["number"] for m in r.json()]
    assert 10 in numbers[:3], numbers
    row = next(m for m in r.json() if m["number"] == 10)
    assert row["title"] == "优化发票领用服务" and row["departments"] == ["区税务局"]
    assert "10万元" in row["amounts"] and row["deadline_status"] == "无明确期限"


def test_search_department_filter(client: httpx.Client) -> None:
    everything = client.get("/api/search", params={"department": "区科技局", "limit": 100}).json()
    assert 22 in [m["number"] for m in everything]
    assert everything and all("区科技局" in m["departments"] for m in everything)
    ranked = client.get("/api/search", params={"q": "奖励", "department": "区科技局"}).json()
    assert ranked and all("区科技局" in m["departments"] for m in ranked)
    _assert_error(client.get("/api/search", params={"limit": "many"}), 422)


def test_empty_search_lists_all_measures(client: httpx.Client) -> None:
    rows = client.get("/api/search", params={"limit": 100}).json()
    assert [m["number"] for m in rows] == list(range(1, 85))


def test_document_facts(client: httpx.Client) -> None:
    d = client.get("/api/document").json()
    assert d["number"] == "万政〔2022〕15号"
    assert (d["issued"], d["expires"], d["validity_years"], d["measures"]) == ("2022-06-23", "2027-06-22", 5, 84)
    assert len(d["categories"]) == 10


def test_healthz(client: httpx.Client, live_bot: Assistant) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "measures": 84,
        "index": live_bot.index.manifest["build_id"],
        "decision": live_bot.model.info["fitted_at"],
        "question_memory": len(live_bot.memory),
        "llm": "disabled",
    }
    assert r.json()["question_memory"] > 1000


def test_staff_workspace_is_reached_without_the_trailing_slash(client: httpx.Client) -> None:
    r = client.get("/staff", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/staff/"
    assert client.get("/staff", follow_redirects=True).status_code == 200


# --- input limits: always a clear 4xx, never a 500 ------------------------------------------------


@pytest.mark.parametrize("question", ["", "   \n\t ", None, 123, "？？！"])
def test_empty_or_wordless_question_is_422(client: httpx.Client, question: object) -> None:
    _assert_error(_ask(client, question), 422)


def test_too_long_question_is_refused_with_message(client: httpx.Client) -> None:
    body = _assert_error(_ask(client, "问" * 501), (413, 422))
    assert "500" in body["error"] and "501" in body["message"]
    assert _ask(client, "首次创业有什么补贴" + "？" * 490).status_code == 200  # 499 characters: fine


@pytest.mark.parametrize(
    "history",
    [
        "not a list",
        [{"role": "bot", "content": "hi"}],
        [{"role": "user"}],
        [{"role": "user", "content": 5}],
        ["just a string"],
        [{"role": "user", "content": "问"}] * 201,
    ],
)
def test_malformed_history_is_422(client: httpx.Client, history: object) -> None:
    _assert_error(_ask(client, "首次创业有什么补贴？", history), 422)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[1, 2]", b'"question"', b'{"question": "\xff\xfe\xfa"}', "{'question': 'x'}".encode()],
)
def test_bad_bodies_are_4xx(client: httpx.Client, content: bytes) -> None:
    r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    _assert_error(r, (400, 422))


def test_oversized_body_is_413(client: httpx.Client) -> None:
    huge = json.dumps({"question": "首次创业", "history": [{"role": "user", "content": "问" * 30_000}]})
    _assert_error(client.post("/api/ask", content=huge.encode(), headers={"content-type": "application/json"}), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        yield b'{"question": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    _assert_error(client.post("/api/ask", content=chunks()), 413)


# --- feedback ----------------------------------------------------------------------------------


def _export(client: httpx.Client, headers: dict[str, str]) -> list[dict]:
    r = client.get("/api/feedback/export", headers=headers)
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    return [json.loads(line) for line in r.text.splitlines() if line]


def test_feedback_round_trip(client: httpx.Client, staff_headers: dict[str, str]) -> None:
    answer = _ask(client, EXAMPLE).json()
    sent = {
        "question": EXAMPLE,
        "answer": answer["text"],
        "citations": [c["label"] for c in answer["citations"]],
        "rating": "down",
        "comment": "没说清楚要带什么材料 <b>x</b>",
    }
    r = client.post("/api/feedback", json=sent)
    assert r.status_code == 201, r.text
    found = [rec for rec in _export(client, staff_headers) if rec["comment"] == sent["comment"]]
    assert len(found) == 1
    rec = found[0]
    assert (rec["question"], rec["answer"], rec["citations"], rec["rating"]) == (
        sent["question"],
        sent["answer"],
        sent["citations"],
        "down",
    )
    assert rec["timestamp"]


@pytest.mark.parametrize(
    "payload",
    [
        {"question": "q", "answer": "a", "rating": "meh"},
        {"question": "q", "answer": "a", "rating": "up", "comment": "长" * 1001},
        {"question": "q", "answer": "a", "rating": "up", "citations": [1, 2]},
        {"question": ["q"], "answer": "a", "rating": "up"},
    ],
)
def test_bad_feedback_is_422(client: httpx.Client, payload: dict) -> None:
    _assert_error(client.post("/api/feedback", json=payload), 422)


def test_concurrent_feedback_is_all_kept(client: httpx.Client, staff_headers: dict[str, str]) -> None:
    def post(i: int) -> int:
        payload = {"question": f"并发问题{i}", "answer": "答" * 2000, "citations": ["第25条"], "rating": "up", "comment": f"c{i}"}
        return client.post("/api/feedback", json=payload).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(post, range(20)))
    assert statuses == [201] * 20
    questions = [r["question"] for r in _export(client, staff_headers)]
    assert sorted(q for q in questions if q.startswith("并发问题")) == sorted(f"并发问题{i}" for i in range(20))


# --- unexpected errors ---------------------------------------------------------------------------


class _FailingAssistant(Assistant):
    """The real assistant with an answering step that fails in a way nobody planned for."""

    def ask(self, question: object, history: object = None, **kwargs: object) -> Reply:
        raise RuntimeError("internal detail that must not leak")


def test_unexpected_error_is_a_generic_500_and_logged(live_bot: Assistant, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    failing = copy.copy(live_bot)
    failing.__class__ = _FailingAssistant  # same loaded index, only ``ask`` differs
    app = FastAPI()
    app.include_router(make_router(failing, FeedbackLog(tmp_path / "feedback.jsonl"), failing.settings))
    with LiveServer(app) as url, caplog.at_level(logging.ERROR, logger="assistant.api"):
        r = httpx.post(url + "/api/ask", json={"question": "首次创业有什么补贴？"}, timeout=30)
    assert r.status_code == 500
    assert r.json()["error"] == "系统繁忙，请稍后再试。"
    assert "internal detail" not in r.text and "Traceback" not in r.text
    assert "internal detail that must not leak" in caplog.text  # the server log keeps the traceback


# --- the log file itself -------------------------------------------------------------------------


def test_feedback_log_survives_restart_and_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.jsonl"
    FeedbackLog(path).add("问1", "答1", ["第25条"], "up")
    with path.open("ab") as f:  # a crash in the middle of a record
        f.write(b'{"timestamp": "2026-11-29T00:00:00+00:00", "question": "\xe9\x97')
    assert [r["question"] for r in FeedbackLog(path).export()] == ["问1"]
    FeedbackLog(path).add("问2", "答2", [], "down", "  ")  # a new process appends after the torn line
    records = FeedbackLog(path).export()
    assert [r["question"] for r in records] == ["问1", "问2"]
    assert records[1]["comment"] is None
