"""The evaluation commands: each loads the assistant once and prints a summary."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.retrieve import Mode

from .data import Question, load_questions
from .runner import RetrievalResult, answer_metrics, ask_question, eval_retrieval, hits_to_numbers, record_dict

ROOT = Path(__file__).resolve().parent.parent


def _bot(settings: Settings | None = None, mode: str = "extractive") -> Assistant:
    settings = settings or Settings.from_env()
    if mode == "extractive":
        settings = settings.with_(llm_base_url=None)
    elif not settings.llm_enabled:
        raise SystemExit("error: --mode llm needs POLICY_LLM_BASE_URL (and POLICY_LLM_MODEL); see README, 'LLM mode'")
    return Assistant(settings, quiet=False)


def _questions(args: argparse.Namespace) -> list[Question]:
    qs = load_questions(args.qa)
    return qs[: args.limit] if getattr(args, "limit", 0) else qs


def _progress(seq: list[Any], desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(seq, desc=desc, file=sys.stderr, leave=False)


def retrieval_results(bot: Assistant, qs: list[Question], baseline: bool = True) -> list[RetrievalResult]:
    results = []
    for mode in (Mode.BM25, Mode.DENSE, Mode.HYBRID):
        results.append(eval_retrieval(f"{mode.value}", lambda q, m=mode: hits_to_numbers(bot.retrieve(q, mode=m, top_k=5)), qs))
    if baseline:
        from .baseline import PlainLlamaIndexBaseline

        raw = sorted(bot.settings.corpus_dir.glob("*.txt"))[0]
        base = PlainLlamaIndexBaseline(raw, bot.embedder, bot.settings.index_dir / "embeddings-cache")
        results.append(eval_retrieval("llama-index plain", base.retrieve, qs))
    return results


def print_retrieval(results: list[RetrievalResult]) -> None:
    print(f"{'configuration':<20} {'n':>4} {'hit@1':>7} {'hit@3':>7} {'hit@5':>7} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        print(f"{r.config:<20} {r.n:>4} {r.hit1:>7.3f} {r.hit3:>7.3f} {r.hit5:>7.3f} {r.mrr:>7.3f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f}")


def cmd_retrieval(args: argparse.Namespace) -> int:
    qs = _questions(args)
    bot = _bot()
    results = retrieval_results(bot, qs)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=1))
    else:
        print_retrieval(results)
    return 0


def run_answers(bot: Assistant, qs: list[Question]) -> tuple[dict[str, Any], list[Any]]:
    for q in qs[:3]:  # warm caches so latency is the warm figure
        bot.ask(q.text)
    records = [ask_question(bot, q) for q in _progress(qs, "answers")]
    return answer_metrics(records), records


def print_answers(m: dict[str, Any], mode: str = "extractive") -> None:
    print(f"answers ({mode}): n={m['n']} (answerable {m['answerable']}, unanswerable {m['unanswerable']})")
    print(
        f"  cite@1 {m['cite@1']:.3f}  citation P {m['citation_precision']:.3f} R {m['citation_recall']:.3f}  "
        f"facts {m['fact_accuracy']:.3f}  refusal {m['refusal_accuracy']:.3f}  false refusals {m['false_refusals']}"
    )
    print(
        f"  grounding violations {m['grounding_violations']}  errors {m['errors']}  "
        f"latency p50 {m['latency_p50_ms']:.1f} ms  p95 {m['latency_p95_ms']:.1f} ms"
    )
    print("  by kind: " + "  ".join(f"{k} {v:.2f}" for k, v in m["accuracy_by_kind"].items()))
    if mode == "llm":
        print(f"  modes {m['modes']}  fallback rate {m['fallback_rate']:.3f}")


def cmd_answers(args: argparse.Namespace) -> int:
    qs = _questions(args)
    bot = _bot(mode=args.mode)
    metrics, records = run_answers(bot, qs)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "answers.json").write_text(
            json.dumps({"metrics": metrics, "records": [record_dict(r) for r in records]}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=1))
    else:
        print_answers(metrics, args.mode)
        for r in records:
            if not r.correct:
                print(
                    f"  ✗ {r.id} [{r.kind}] {' / '.join(r.turns)} gold={r.gold} cited={r.cited} "
                    f"answered={r.answered} missing={r.missing_facts}"
                )
    return 0


def load_thresholds(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def cmd_gate(args: argparse.Namespace) -> int:
    """Run the fixed gate subset and compare with eval/thresholds.toml."""
    th = load_thresholds(ROOT / "eval" / "thresholds.toml")
    qs = load_questions(args.qa if args.qa != ROOT / "eval" / "qa.jsonl" else ROOT / "eval" / "gate.jsonl")
    bot = _bot()
    metrics, _ = run_answers(bot, qs)
    print_answers(metrics)
    failed = gate_failures(metrics, th)
    for f in failed:
        print(f"GATE FAILED: {f}")
    return 1 if failed else 0


def gate_failures(metrics: dict[str, Any], th: dict[str, Any]) -> list[str]:
    g = th["gate"]
    out = []
    for key, name in (("cite_at_1", "cite@1"), ("fact_accuracy", "fact_accuracy"), ("refusal_accuracy", "refusal_accuracy")):
        if metrics[name] < g[key]:
            out.append(f"{name} {metrics[name]:.3f} < {g[key]}")
    if metrics["grounding_violations"] > g.get("max_grounding_violations", 0):
        out.append(f"grounding violations {metrics['grounding_violations']}")
    return out


def environment() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
    }


def cmd_run(args: argparse.Namespace) -> int:
    from .report import write_report

    qs = _questions(args)
    out = args.out or ROOT / "eval" / "reports" / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    bot = _bot()
    retrieval = retrieval_results(bot, qs)
    configs: dict[str, Any] = {}
    for mode in (Mode.BM25, Mode.DENSE, Mode.HYBRID):
        records = [ask_question(_ModeBot(bot, mode), q) for q in _progress(qs, f"answers/{mode.value}")]
        configs[mode.value] = {"metrics": answer_metrics(records), "records": [record_dict(r) for r in records]}
    settings = Settings.from_env()
    if settings.llm_enabled:
        llm_bot = Assistant(settings)
        records = [ask_question(llm_bot, q) for q in _progress(qs, "answers/llm")]
        configs["llm"] = {"metrics": answer_metrics(records), "records": [record_dict(r) for r in records]}
    metrics = {
        "qa": str(args.qa),
        "questions": len(qs),
        "corpus_sha256": bot.corpus.sha256,
        "model_id": bot.embedder.model_id,
        "index": {k: bot.index.manifest.get(k) for k in ("build_id", "fingerprint", "nodes", "build_seconds", "versions")},
        "environment": environment(),
        "retrieval": [{k: v for k, v in r.__dict__.items() if k != "misses"} for r in retrieval],
        "retrieval_misses": {r.config: r.misses for r in retrieval},
        "answers": {k: v["metrics"] for k, v in configs.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "records.json").write_text(
        json.dumps({k: v["records"] for k, v in configs.items()}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_report(out, metrics, {k: v["records"] for k, v in configs.items()})
    print_retrieval(retrieval)
    for k, v in configs.items():
        print_answers(v["metrics"], k)
    print(f"report: {out / 'report.html'}")
    return 0


class _ModeBot:
    """An Assistant whose retrieval is fixed to one mode (for side-by-side answer runs)."""

    def __init__(self, bot: Assistant, mode: Mode) -> None:
        self._bot, self._mode = bot, mode
        self.corpus = bot.corpus

    def ask(self, question: str, history: Any = None) -> Any:
        return self._bot.ask(question, history, mode=self._mode)
