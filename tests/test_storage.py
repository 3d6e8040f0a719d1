"""The database layer on real SQLite and real PostgreSQL: migrations, the conversation log, the
review queue, feedback (and its one-time import), curated versions, accounts, retention."""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.feedback_store import FeedbackStore, import_jsonl_once
from assistant.recorder import Recorder
from assistant.storage import AccountStore, ConversationStore, CuratedStore, Database, ReviewStore, utcnow
from assistant.storage.schema import MIGRATIONS, interactions
from assistant.types import Citation, Reply


@pytest.fixture()
def db(database_url: str) -> Iterator[Database]:
    d = Database.open(database_url)
    yield d
    d.dispose()


def _reply(text: str = "答【第25条】", answered: bool = True, confidence: float | None = None) -> Reply:
    cites = [Citation(25, "第25条", "健全首次创业扶持政策", "激发创新创业活力", ["区人社局"], "q", "wanbailin-2022-15", "万政〔2022〕15号")]
    return Reply(text, answered, cites if answered else [], question="问", confidence=confidence)


def test_migrations_apply_once_and_record_their_version(db: Database, database_url: str) -> None:
    assert db.version() == MIGRATIONS[-1][0]
    again = Database.open(database_url)  # a second start finds nothing to do
    assert again.migrate() == MIGRATIONS[-1][0]
    with again.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar() == len(MIGRATIONS)
    again.dispose()


def test_no_record_is_lost_under_50_concurrent_writers(db: Database) -> None:
    recorder = Recorder(ConversationStore(db))
    ids: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        for j in range(20):
            rid = recorder.record(_reply(), f"问题{i}-{j}", [], latency_ms=1.0, channel="api", client="c")
            with lock:
                ids.append(rid)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert recorder.flush(timeout=60)
    store = ConversationStore(db)
    assert len(ids) == 1000 and store.count() == 1000
    assert store.missing(ids) == []
    recorder.close()


def test_refusals_and_low_confidence_are_queued_and_a_down_vote_joins_the_same_item(db: Database) -> None:
    store = ConversationStore(db)
    recorder = Recorder(store, low_confidence=0.6)
    refused = recorder.record(_reply("未找到", answered=False), "公积金怎么取", [], latency_ms=1, channel="api", client="c")
    unsure = recorder.record(_reply(confidence=0.55), "有点像的问题", [], latency_ms=1, channel="api", client="c")
    sure = recorder.record(_reply(confidence=0.9), "首次创业有什么补贴", [], latency_ms=1, channel="api", client="c")
    recorder.close()
    FeedbackStore(store).add("公积金怎么取", "未找到", [], "down", "没用", interaction_id=refused)
    rows = {r["interaction_id"]: r for r in ReviewStore(db).find()}
    assert set(rows) == {refused, unsure}
    assert rows[refused]["reasons"] == ["refused", "down"] and rows[unsure]["reasons"] == ["low_confidence"]
    assert sure not in rows


def test_feedback_is_masked_exported_and_a_down_vote_without_a_reply_still_queued(db: Database) -> None:
    fb = FeedbackStore(ConversationStore(db))
    fb.add("我电话13812345678，补贴呢", "答", ["第25条"], "down", "身份证110101199003071234")
    fb.add("好", "答", [], "up")
    records = [json.loads(line) for line in fb.export_jsonl().splitlines()]
    assert [r["rating"] for r in records] == ["down", "up"]
    assert records[0]["question"] == "我电话[手机号]，补贴呢" and records[0]["comment"] == "身份证[身份证号]"
    assert [r["question"] for r in ReviewStore(db).find()] == ["我电话[手机号]，补贴呢"]
    with pytest.raises(ValueError, match="rating"):
        fb.add("q", "a", [], "meh")


def test_feedback_jsonl_is_imported_once(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    lines = [
        {
            "timestamp": "2026-11-01T08:00:00+00:00",
            "question": "问1",
            "answer": "答1",
            "citations": ["第25条"],
            "rating": "up",
            "comment": None,
        },
        {"timestamp": "2026-11-02T08:00:00+00:00", "question": "问2", "answer": "答2", "citations": [], "rating": "down", "comment": "c"},
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines) + '{"torn', encoding="utf-8")
    store = ConversationStore(db)
    assert import_jsonl_once(db, store, path) == 2
    assert import_jsonl_once(db, store, path) == 0  # the second start does not import again
    got = store.feedback()
    assert [(f.question, f.rating, f.source) for f in got] == [("问1", "up", "import"), ("问2", "down", "import")]
    assert got[0].created_at == _dt.datetime(2026, 11, 1, 8, 0)


def test_curated_answers_keep_every_version_with_its_author(db: Database) -> None:
    store = CuratedStore(db)
    rec = store.create(["首次创业有什么补贴？"], "最高5000元。", ["wanbailin-2022-15#25"], "alice")
    store.update(rec.id, "bob", answer="对符合条件的首次创业人员给予最高5000元一次性创业补贴。")
    store.update(rec.id, "carol", status="retired")
    assert store.find(status="active") == []
    history = store.history(rec.id)
    assert [(v["version"], v["author"], v["status"]) for v in history] == [
        (1, "alice", "active"),
        (2, "bob", "active"),
        (3, "carol", "retired"),
    ]
    assert history[0]["answer"] == "最高5000元。" and history[1]["questions"] == ["首次创业有什么补贴？"]
    with pytest.raises(KeyError):
        store.update(999, "bob", answer="x")


def test_accounts_sessions_expire_and_names_are_unique(db: Database) -> None:
    accounts = AccountStore(db)
    user = accounts.add_user("alice", "hash", is_admin=False)
    with pytest.raises(ValueError, match="already exists"):
        accounts.add_user("alice", "hash2", is_admin=True)
    accounts.add_session("live", user.id, utcnow() + _dt.timedelta(hours=1))
    accounts.add_session("old", user.id, utcnow() - _dt.timedelta(seconds=1))
    assert accounts.session_user("live") == user and accounts.session_user("old") is None
    accounts.end_session("live")
    assert accounts.session_user("live") is None


def test_retention_purge_deletes_only_old_records(db: Database) -> None:
    store = ConversationStore(db)
    recorder = Recorder(store)
    new = recorder.record(_reply(), "新问题", [], latency_ms=1, channel="api", client="c")
    old = recorder.record(_reply(), "旧问题", [], latency_ms=1, channel="api", client="c")
    recorder.close()
    with db.begin() as conn:
        conn.execute(sa.update(interactions).where(interactions.c.id == old).values(created_at=utcnow() - _dt.timedelta(days=400)))
    assert store.purge(utcnow() - _dt.timedelta(days=365)) == 1
    assert store.missing([new, old]) == [old]
