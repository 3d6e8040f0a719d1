"""The service over HTTP (real app, real Assistant, SQLite): logging, access control, rate limit,
the review queue's three resolutions and analytics; and ``python -m assistant user``."""

from __future__ import annotations

import copy
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from assistant import Settings
from assistant.__main__ import main as cli
from assistant.embed import Embedder
from assistant.service import Assistant
from assistant.storage import AccountStore, Database

from .test_api import LiveServer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

PASSWORD = "correct horse battery"
PARAPHRASE = "一间门脸房能办几个照"  # refused until 门脸房 is known to mean 经营场所/住所


@pytest.fixture(scope="module")
def service(bot: Assistant, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """The app over its own corpus copy (a synonym gets written) and its own database."""
    work = tmp_path_factory.mktemp("service")
    shutil.copytree(bot.settings.corpus_dir, work / "corpus")
    shutil.copytree(bot.settings.index_dir / "embeddings-cache", work / "index" / "embeddings-cache")  # a quick build
    settings = bot.settings.with_(corpus_dir=work / "corpus", index_dir=work / "index", data_dir=work / "data")
    own = Assistant(settings, embedder=embedder, clock=bot.clock)
    app = create_app(bot=own, settings=settings)
    with LiveServer(app) as url:
        yield app, url


@pytest.fixture(scope="module")
def tokens(service: tuple[FastAPI, str]) -> dict[str, dict[str, str]]:
    staff = service[0].state.ops.staff
    staff.add_user("admin", PASSWORD, is_admin=True)
    staff.add_user("clerk", PASSWORD)
    return {name: {"Authorization": f"Bearer {staff.issue_token(name)}"} for name in ("admin", "clerk")}


@pytest.fixture(scope="module")
def client(service: tuple[FastAPI, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service[1], timeout=120) as c:
        yield c


def _open_item(client: httpx.Client, headers: dict[str, str], question: str) -> dict[str, Any]:
    items = client.get("/api/staff/reviews", headers=headers).json()
    return next(i for i in items if i["question"] == question)


@pytest.mark.parametrize("path", ["/api/feedback/export", "/api/staff/reviews", "/api/staff/analytics", "/api/admin/users"])
def test_staff_endpoints_refuse_without_a_token(client: httpx.Client, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer pa_not-a-token"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "需要工作人员登录（或有效的访问令牌）。"


def test_admin_endpoints_refuse_staff_without_admin_rights(client: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    assert client.get("/api/admin/users", headers=tokens["clerk"]).status_code == 403
    assert client.get("/api/feedback/export", headers=tokens["clerk"]).status_code == 200
    assert {u["name"] for u in client.get("/api/admin/users", headers=tokens["admin"]).json()} == {"admin", "clerk"}


def test_every_answer_is_logged_with_masked_question_and_its_timing(client: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    r = client.post("/api/ask", json={"question": "首次创业有什么补贴？我电话13812345678"})
    body = r.json()
    assert len(body["id"]) == 32 and "log;dur=" in r.headers["server-timing"]
    logged = client.get("/api/staff/logs", params={"q": "首次创业有什么补贴"}, headers=tokens["clerk"]).json()
    row = next(x for x in logged if x["id"] == body["id"])
    assert row["question"] == "首次创业有什么补贴？我电话[手机号]" and row["channel"] == "api"
    assert row["reply"] == body["text"] and row["latency_ms"] > 0
    assert [c["label"] for c in row["citations"]] == [c["label"] for c in body["citations"]]
    assert client.post("/api/staff/logs/missing", json={"ids": [body["id"], "0" * 32]}, headers=tokens["clerk"]).json()["missing"] == [
        "0" * 32
    ]


def test_a_down_vote_becomes_a_curated_answer_that_the_next_citizen_gets(client: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    question = "开个体户营业执照当天能办下来吗"
    first = client.post("/api/ask", json={"question": question}).json()
    assert first["mode"] != "curated"
    rated = {"id": first["id"], "question": question, "answer": first["text"], "citations": [], "rating": "down", "comment": "没说多久"}
    assert client.post("/api/feedback", json=rated).status_code == 201
    item = _open_item(client, tokens["clerk"], question)
    assert "down" in item["reasons"] and item["interaction"]["reply"] == first["text"]
    answer = "个体工商户开办一站式同步办理营业执照、印章和发票，一个工作日内办结。"
    bad = client.post(
        f"/api/staff/reviews/{item['id']}/resolve",
        headers=tokens["clerk"],
        json={"action": "curated", "answer": "3个工作日内办结。", "citations": ["第3条"]},
    )
    assert bad.status_code == 422 and "3个工作日" in bad.json()["message"]  # 第3条 says 一个工作日
    done = client.post(
        f"/api/staff/reviews/{item['id']}/resolve",
        headers=tokens["clerk"],
        json={"action": "curated", "answer": answer, "citations": ["第3条"]},
    )
    assert done.status_code == 200, done.text
    again = client.post("/api/ask", json={"question": question}).json()
    assert again["mode"] == "curated" and again["text"] == answer + "【第3条】"
    assert [c["label"] for c in again["citations"]] == ["第3条"]
    history = client.get(f"/api/staff/curated/{done.json()['curated_id']}/history", headers=tokens["clerk"]).json()
    assert [(v["version"], v["author"]) for v in history] == [(1, "clerk")]
    assert (
        client.post(f"/api/staff/reviews/{item['id']}/resolve", headers=tokens["clerk"], json={"action": "not_covered"}).status_code == 409
    )


def test_a_synonym_resolution_takes_effect_without_restart(
    client: httpx.Client, tokens: dict[str, dict[str, str]], service: tuple[FastAPI, str]
) -> None:
    first = client.post("/api/ask", json={"question": PARAPHRASE}).json()
    assert not first["answered"]
    item = _open_item(client, tokens["clerk"], PARAPHRASE)
    assert item["reasons"] == ["refused"]
    r = client.post(
        f"/api/staff/reviews/{item['id']}/resolve",
        headers=tokens["clerk"],
        json={"action": "synonym", "colloquial": "门脸房", "officials": ["经营场所", "住所"]},
    )
    assert r.status_code == 200, r.text
    synonyms = service[0].state.ops.settings.corpus_dir / "synonyms.toml"
    assert '"门脸房" = ["经营场所", "住所"]' in synonyms.read_text(encoding="utf-8")
    again = client.post("/api/ask", json={"question": PARAPHRASE}).json()
    assert again["answered"] and again["citations"][0]["label"] == "第5条"


def test_not_covered_resolution_and_refused_bad_synonyms(client: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    client.post("/api/ask", json={"question": "驾照到期怎么换证"})
    item = _open_item(client, tokens["clerk"], "驾照到期怎么换证")
    bad = client.post(
        f"/api/staff/reviews/{item['id']}/resolve",
        headers=tokens["clerk"],
        json={"action": "synonym", "colloquial": "驾照", "officials": ["机动车驾驶证"]},
    )
    assert bad.status_code == 409 and "do not occur" in bad.json()["message"]
    r = client.post(f"/api/staff/reviews/{item['id']}/resolve", headers=tokens["clerk"], json={"action": "not_covered", "note": "交警业务"})
    assert r.json() == {"id": item["id"], "resolution": "not_covered", "note": "交警业务"}
    assert all(i["id"] != item["id"] for i in client.get("/api/staff/reviews", headers=tokens["clerk"]).json())


def test_analytics_counts_the_days_questions_and_exports_csv(client: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    before = client.get("/api/staff/analytics", headers=tokens["clerk"]).json()["totals"]
    for q in ("公积金怎么提取", "住房公积金怎么取出来", "发票 限额"):
        client.post("/api/ask", json={"question": q})
    after = client.get("/api/staff/analytics", headers=tokens["clerk"]).json()
    t = after["totals"]
    assert t["questions"] == before["questions"] + 3 and t["refused"] == before["refused"] + 2
    assert t["latency_p95_ms"] >= t["latency_p50_ms"] > 0
    gaps = {g["question"]: g for g in after["unanswered"]}
    assert any("公积金" in q for q in gaps)
    assert any(c["label"] == "第10条" for c in after["top_cited"])
    csv = client.get("/api/staff/analytics.csv", headers=tokens["clerk"])
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.lstrip("\ufeff").startswith(
        "day,questions,answered,refused,curated"
    )


def test_ask_is_rate_limited_per_client(bot: Assistant, tmp_path: Path) -> None:
    settings = bot.settings.with_(data_dir=tmp_path, ask_rate_per_minute=6, ask_burst=2)
    served = copy.copy(bot)  # the app injects its curated matcher; keep the session's bot untouched
    with LiveServer(create_app(bot=served, settings=settings)) as url:
        statuses = [httpx.post(url + "/api/ask", json={"question": "发票 限额"}, timeout=60).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_cli_creates_the_first_admin_and_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLICY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli(["user", "add", "admin", "--admin", "--password-stdin"]) == 0
    assert cli(["user", "token", "admin"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    db = Database.open(Settings(data_dir=tmp_path).database)
    from assistant.auth import Staff

    staff = Staff(AccountStore(db))
    assert staff.token_user(f"Bearer {token}", admin=True).name == "admin"
    assert staff.authenticate("admin", PASSWORD).is_admin
    db.dispose()


def test_load_test_finds_no_lost_record_and_small_logging_overhead(
    service: tuple[FastAPI, str], tokens: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m eval load` with 50 clients (2 requests each here; 20 in the full run)."""
    import argparse

    from eval.__main__ import DEFAULT_QA
    from eval.load import cmd_load

    token = tokens["clerk"]["Authorization"].split()[1]
    args = argparse.Namespace(url=service[1], clients=50, requests=2, qa=DEFAULT_QA, token=token, timeout=0)
    assert cmd_load(args) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "errors         0" in out
    lost = next(line for line in out.splitlines() if "lost records" in line)
    assert lost.split()[2] == "0" and int(lost.split()[4]) >= 100
