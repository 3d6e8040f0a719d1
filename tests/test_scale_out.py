"""More than one document, and the index in a Chroma server instead of the embedded store."""

from __future__ import annotations

import datetime as _dt
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.embed import Embedder
from assistant.parse import load_corpus

from .conftest import CORPUS, TODAY

SECOND = Path(__file__).parent / "data" / "ceshi-2018-3.txt"


@pytest.fixture(scope="module")
def two_doc_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("corpus2")
    for path in [CORPUS / "wanbailin-2022-15.txt", *CORPUS.glob("*.toml")]:
        shutil.copy(path, d / path.name)
    shutil.copy(SECOND, d / SECOND.name)
    return d


def test_second_document_parses_into_the_same_model(two_doc_corpus: Path) -> None:
    corpus = load_corpus(two_doc_corpus)
    assert [d.id for d in corpus.documents] == ["ceshi-2018-3", "wanbailin-2022-15"]
    doc = corpus.document("ceshi-2018-3")
    assert doc.number == "测政〔2018〕3号" and doc.issuer == "测试区人民政府"
    assert doc.expires == _dt.date(2021, 2, 28) and len(doc.measures) == 3
    assert doc.categories == ("培育夜间消费场景", "优化夜间营商环境")
    m1 = doc.measure(1)
    assert m1.departments == ("区商务局", "区财政局") and [a.text for a in m1.amounts] == ["80万元", "最高2万元"]
    assert "给予水电费补贴" in m1.text  # the page break inside a sentence is joined
    assert len(corpus.measures) == 87 and len({m.key for m in corpus.measures}) == 87


def test_answers_carry_the_document_and_flag_expiry(two_doc_corpus: Path, fresh_index_dir: Path, embedder: Embedder) -> None:
    s = Settings(corpus_dir=two_doc_corpus, index_dir=fresh_index_dir)
    bot = Assistant(s, embedder=embedder, clock=lambda: TODAY)
    reply = bot.ask("夜间经济示范街区奖励多少？")
    assert reply.answered and reply.citations[0].doc_id == "ceshi-2018-3"
    assert reply.citations[0].label == "测政〔2018〕3号第1条" and "【测政〔2018〕3号第1条】" in reply.text
    assert "80万元" in reply.text and "已超过有效期" in reply.text
    current = bot.ask("首次创业补贴多少钱？")
    assert current.citations[0].label == "万政〔2022〕15号第25条" and "已超过有效期" not in current.text
    # filters by document
    only_second = bot.retrieve("补贴", doc_id="ceshi-2018-3", top_k=10)
    assert only_second and all(h.item.doc_id == "ceshi-2018-3" for h in only_second)
    filtered = bot.ask("餐饮门店有什么补贴？", doc_id="ceshi-2018-3")
    assert filtered.citations and all(c.doc_id == "ceshi-2018-3" for c in filtered.citations)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"chroma server exited: {(path / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start within 60 s")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_chroma_server_gives_the_same_results(chroma_server: int, bot: Assistant, tmp_path: Path, embedder: Embedder) -> None:
    s = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", chroma_host="127.0.0.1", chroma_port=chroma_server)
    shutil.copytree(bot.settings.index_dir / "embeddings-cache", s.index_dir / "embeddings-cache")
    remote = Assistant(s, embedder=embedder, clock=lambda: TODAY)
    assert remote.index.manifest["store"] == f"chroma-http://127.0.0.1:{chroma_server}"
    assert not (remote.index.folder / "chroma").exists()  # the vectors live in the server
    for q in ("首次创业补贴多少钱", "发票 限额", "高企认定奖励", "健康证", "上市奖励"):
        local = [h.item.key for h in bot.retrieve(q)]
        served = [h.item.key for h in remote.retrieve(q)]
        assert served[:3] == local[:3], q
    assert remote.ask("首次创业补贴多少钱").citations[0].item == 25


def test_unreachable_chroma_server_is_a_clear_error(fresh_index_dir: Path, embedder: Embedder) -> None:
    from assistant import IndexBuildError

    s = Settings(corpus_dir=CORPUS, index_dir=fresh_index_dir, chroma_host="127.0.0.1", chroma_port=_free_port())
    with pytest.raises(IndexBuildError, match="Chroma server"):
        Assistant(s, embedder=embedder)


def test_an_item_of_the_document_in_force_comes_before_an_expired_one(
    two_doc_corpus: Path, fresh_index_dir: Path, embedder: Embedder
) -> None:
    from assistant.decide import Decision, Scored

    bot = Assistant(Settings(corpus_dir=two_doc_corpus, index_dir=fresh_index_dir), embedder=embedder, clock=lambda: TODAY)
    q = "夜市 夜间经济 补贴"
    hits = {h.item.key: h for h in bot.retrieve(q, top_k=20)}
    old, new = hits["ceshi-2018-3#1"], hits["wanbailin-2022-15#80"]
    decision = Decision("answer", [Scored(old, 0.9), Scored(new, 0.8)], confidence=0.9)  # the expired one ranked first
    reply = bot.answerer.answer(q, q, list(hits.values()), decision, bot.engine.features.terms(q), TODAY)
    assert [c.doc_id for c in reply.citations] == ["wanbailin-2022-15", "ceshi-2018-3"]
    assert "【测政〔2018〕3号第1条】所在文件已过有效期" in reply.text and "以现行文件为准" in reply.text
