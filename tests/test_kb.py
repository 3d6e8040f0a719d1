"""The knowledge base end to end: real files added, indexed (real e5, Chroma, BM25), asked about, removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, CorpusError, Settings
from assistant.embed import Embedder
from assistant.kb import KnowledgeBase, safe_id, validate_upload

from .conftest import CORPUS, ROOT, TODAY
from .test_api import LiveServer, create_app


@pytest.fixture()
def env(tmp_path: Path, fresh_index_dir: Path, embedder: Embedder) -> tuple[Settings, Assistant, KnowledgeBase]:
    """A corpus folder of its own (the seed), an index sharing the session's embedding cache, a real Assistant."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("wanbailin-2022-15.txt", "corrections.toml", "synonyms.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    settings = Settings(corpus_dir=corpus, index_dir=fresh_index_dir, data_dir=tmp_path / "data")
    bot = Assistant(settings, embedder=embedder, clock=lambda: TODAY)
    return settings, bot, KnowledgeBase(settings, embedder=embedder)


def _state(settings: Settings) -> tuple[list[str], Path]:
    return sorted(p.name for p in settings.corpus_dir.iterdir()), (settings.index_dir / "current").resolve()


def test_add_indexes_only_the_new_text_and_answers_cite_it(env: tuple[Settings, Assistant, KnowledgeBase], files: dict[str, Path]) -> None:
    settings, bot, kb = env
    seed_texts = len(bot.index.nodes) + len(bot.index.sentences)  # nodes and sentence vectors are both embedded
    change = kb.add([files["plan.docx"]])
    manifest = json.loads((change.build / "manifest.json").read_text(encoding="utf-8"))
    new_nodes = [n for n in json.loads((change.build / "nodes.json").read_text(encoding="utf-8")) if n["parent"].startswith("plan-2021#")]
    # Only the new document's texts were embedded and inserted; the seed's came from the cache and the copied store.
    new_sentences = [k for k, _ in json.loads((change.build / "sentences.json").read_text(encoding="utf-8")) if k.startswith("plan-2021#")]
    total = len(json.loads((change.build / "nodes.json").read_text(encoding="utf-8"))) + len(
        json.loads((change.build / "sentences.json").read_text(encoding="utf-8"))
    )
    # (A new text identical to a seed text, e.g. a shared department sentence, comes from the cache too.)
    assert change.cached + change.embedded == total and change.cached >= seed_texts
    assert 0 < change.embedded <= len(new_nodes) + len(new_sentences)
    assert manifest["vectors"]["added"] == len(new_nodes) and manifest["vectors"]["deleted"] == 0
    assert (settings.corpus_dir / "plan-2021.docx").exists()
    bot.reload()
    reply = bot.ask("惠企政策清单要逐项标注哪些内容？")
    assert reply.answered and reply.citations[0].doc_id == "plan-2021"
    assert reply.citations[0].label == "柏政办发〔2021〕8号（一）第1条" and "【柏政办发〔2021〕8号（一）第1条】" in reply.text
    assert "享受条件、申报材料和办理流程" in reply.text and "区政府办公室" in reply.text
    seed = bot.ask("首次创业补贴多少钱？")
    assert seed.citations[0].label == "万政〔2022〕15号第25条"
    only = bot.search("公开", doc_id="plan-2021", limit=50)
    assert only and {m.doc_id for m in only} == {"plan-2021"}


def test_failed_add_changes_nothing(env: tuple[Settings, Assistant, KnowledgeBase], files: dict[str, Path], tmp_path: Path) -> None:
    settings, _, kb = env
    before = _state(settings)
    with pytest.raises(CorpusError, match="scanned image"):
        kb.add([files["plan.docx"], files["scan.pdf"]])  # one bad file: neither is added
    assert _state(settings) == before
    with pytest.raises(CorpusError, match="already in the knowledge base"):
        kb.add([CORPUS / "wanbailin-2022-15.txt"])
    gap = tmp_path / "gap.txt"
    gap.write_text((CORPUS / "wanbailin-2022-15.txt").read_text(encoding="utf-8").replace("\n37. ", "\n38. ", 1), encoding="utf-8")
    with pytest.raises(CorpusError, match="measure 37 missing"):
        kb.add([gap])
    assert _state(settings) == before


def test_remove_takes_the_document_out_of_folder_and_index(env: tuple[Settings, Assistant, KnowledgeBase], files: dict[str, Path]) -> None:
    settings, bot, kb = env
    kb.add([files["rules.html"]])
    bot.reload()
    assert bot.ask("专精特新小巨人奖励多少？").citations[0].doc_id == "rules-2021"
    change = kb.remove("rules-2021")
    assert not (settings.corpus_dir / "rules-2021.html").exists()
    assert [d["id"] for d in json.loads((change.build / "manifest.json").read_text(encoding="utf-8"))["documents"]] == ["wanbailin-2022-15"]
    bot.reload()
    assert [d.id for d in bot.corpus.documents] == ["wanbailin-2022-15"]
    with pytest.raises(CorpusError, match="no document 'rules-2021'"):
        kb.remove("rules-2021")
    with pytest.raises(CorpusError, match="only document"):
        kb.remove("wanbailin-2022-15")


def test_uploads_are_checked_by_size_and_content() -> None:
    validate_upload("a.pdf", b"%PDF-1.7 ...", 1000)
    with pytest.raises(CorpusError, match="limit is 0 MB"):
        validate_upload("a.pdf", b"%PDF-" + b"x" * 2000, 1000)
    with pytest.raises(CorpusError, match="not a PDF file"):
        validate_upload("a.pdf", b"MZ\x90\x00", 1000)
    with pytest.raises(CorpusError, match="unsupported file type '.exe'"):
        validate_upload("a.exe", b"MZ\x90\x00", 1000)
    with pytest.raises(CorpusError, match="binary data"):
        validate_upload("a.html", b"<html>\x00", 1000)
    assert safe_id("柏川区 措施#2/3.pdf") == "柏川区-措施-2-3"


def test_cli_add_documents_remove(env: tuple[Settings, Assistant, KnowledgeBase], files: dict[str, Path]) -> None:
    settings, _, _ = env
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    environ |= {"POLICY_CORPUS_DIR": str(settings.corpus_dir), "POLICY_INDEX_DIR": str(settings.index_dir)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, cwd=ROOT, env=environ, timeout=600
        )

    added = run("add", str(files["measures.pdf"]), "--quiet")
    assert added.returncode == 0, added.stderr
    assert "measures-2016: 《柏川区人民政府关于进一步优化营商环境的若干措施》 （无文号）  [pdf]" in added.stdout
    assert "条目 9（一、/1.，引用为 第一部分第1条…第三部分第2条）" in added.stdout
    assert "部门 17 个，其中牵头单位 8 个" in added.stdout and "warning: no document number" in added.stdout
    listed = run("documents").stdout
    assert "measures-2016\t进一步优化营商环境的若干措施\t" in listed and "9条" in listed and "wanbailin-2022-15\t万政〔2022〕15号" in listed
    shown = run("corpus", "show", "measures-2016", "5").stdout
    assert shown.startswith("第二部分第2条 降低企业用电成本") and "牵头单位: 区经信局；配合单位: 区财政局、区供电公司" in shown
    bad = run("add", str(files["scan.pdf"]))
    assert bad.returncode == 2 and "scanned image" in bad.stderr and "Traceback" not in bad.stderr
    assert run("remove", "measures-2016", "--quiet").returncode == 0
    assert "measures-2016" not in run("documents").stdout


@pytest.fixture()
def server(env: tuple[Settings, Assistant, KnowledgeBase]) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a free port, and the headers of a staff token (adding and removing documents needs one)."""
    settings, bot, _ = env
    app = create_app(bot=bot, settings=settings.with_(max_upload_mb=1))
    app.state.ops.staff.add_user("librarian", "correct horse battery")
    auth = {"Authorization": f"Bearer {app.state.ops.staff.issue_token('librarian')}"}
    with LiveServer(app) as url:
        yield url, auth


def test_documents_api(server: tuple[str, dict[str, str]], env: tuple[Settings, Assistant, KnowledgeBase], files: dict[str, Path]) -> None:
    server, auth = server
    docx = files["plan.docx"].read_bytes()
    upload = {"file": ("plan-2021.docx", docx, "application/octet-stream")}
    assert httpx.post(f"{server}/api/documents?dry_run=true", files=upload, timeout=120).status_code == 401  # no token
    preview = httpx.post(f"{server}/api/documents?dry_run=true", files=upload, headers=auth, timeout=120)
    assert preview.status_code == 201 and preview.json()["added"] is False
    items = preview.json()["document"]["items"]
    assert [i["label"] for i in items][:2] == ["（一）第1条", "（一）第2条"] and items[0]["lead_departments"] == ["区政府办公室"]
    assert not (env[0].corpus_dir / "plan-2021.docx").exists()  # a preview changes nothing
    added = httpx.post(f"{server}/api/documents", files=upload, headers=auth, timeout=300)
    assert added.status_code == 201 and added.json()["added"] is True
    listed = httpx.get(f"{server}/api/documents").json()
    assert [d["id"] for d in listed] == ["plan-2021", "wanbailin-2022-15"]
    assert listed[0]["number"] == "柏政办发〔2021〕8号" and listed[0]["status"] == "已到期" and listed[0]["measures"] == 7
    one = httpx.get(f"{server}/api/documents/plan-2021").json()
    assert one["items"][3]["label"] == "（二）第1条" and one["items"][3]["path"] == ["二、重点任务", "（二）围绕保障改善民生加强公开"]
    found = httpx.get(f"{server}/api/search", params={"q": "公开", "doc_id": "plan-2021"}).json()
    assert found and {f["doc_id"] for f in found} == {"plan-2021"}
    asked = httpx.post(f"{server}/api/ask", json={"question": "社会救助信息多久公开一次？", "doc_id": "plan-2021"}, timeout=60).json()
    assert asked["citations"] and {c["doc_id"] for c in asked["citations"]} == {"plan-2021"}
    assert httpx.get(f"{server}/api/documents/plan-2021/items/4").json()["title"] == "公开就业创业信息"
    assert httpx.get(f"{server}/api/documents/nope").status_code == 404
    too_big = httpx.post(f"{server}/api/documents", files={"file": ("big.pdf", b"%PDF-" + b"0" * 1_100_000)}, headers=auth, timeout=60)
    assert too_big.status_code in (413, 422) and "MB" in too_big.json()["message"]
    fake = httpx.post(f"{server}/api/documents", files={"file": ("x.docx", b"<html>not word</html>")}, headers=auth, timeout=60)
    assert fake.status_code == 422 and "not a DOCX file" in fake.json()["message"] and "知识库未作改动" in fake.json()["error"]
    assert httpx.delete(f"{server}/api/documents/plan-2021", timeout=60).status_code == 401
    removed = httpx.delete(f"{server}/api/documents/plan-2021", headers=auth, timeout=300)
    assert removed.status_code == 200 and removed.json()["documents"] == 1
