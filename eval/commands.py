"""The evaluation commands: each loads the assistant once and prints a summary."""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import json
import platform
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.retrieve import Mode
from assistant.types import Reply

from .data import Question, load_questions
from .runner import RetrievalResult, answer_metrics, ask_question, eval_retrieval, hits_to_numbers, record_dict

ROOT = Path(__file__).resolve().parent.parent
# The question splits: train for fitting, dev for choosing thresholds, test written blind and never tuned to.
SPLITS = {name: ROOT / "eval" / f"{name}.jsonl" for name in ("train", "dev", "test")}


def _bot(settings: Settings | None = None, mode: str = "extractive") -> Assistant:
    settings = settings or Settings.from_env()
    if mode == "extractive":
        settings = settings.with_(llm_base_url=None)
    elif not settings.llm_enabled:
        raise SystemExit("error: --mode llm needs POLICY_LLM_BASE_URL (and POLICY_LLM_MODEL); see README, 'LLM mode'")
    return Assistant(settings, quiet=False)


def _questions(args: argparse.Namespace, path: Path | None = None) -> list[Question]:
    qs = load_questions(path or args.qa or SPLITS["test"])
    return qs[: args.limit] if getattr(args, "limit", 0) else qs


def _progress(seq: list[Any], desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(seq, desc=desc, file=sys.stderr, leave=False)


def _retrieve_numbers(bot: Assistant, mode: Mode, question: str) -> list[int | None]:
    return hits_to_numbers(bot.retrieve(question, mode=mode, top_k=5))


def retrieval_results(bot: Assistant, qs: list[Question], baseline: bool = True) -> list[RetrievalResult]:
    results = []
    for mode in (Mode.BM25, Mode.DENSE, Mode.HYBRID):
        results.append(eval_retrieval(f"{mode.value}", functools.partial(_retrieve_numbers, bot, mode), qs))
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
    before = _llm_counts(bot)
    records = [ask_question(bot, q) for q in _progress(qs, "answers")]
    metrics = answer_metrics(records)
    if before is not None:  # an LLM outage during the run turns answers into fallbacks: say so
        after = _llm_counts(bot) or before
        metrics["llm_outages"], metrics["llm_skipped"] = after[0] - before[0], after[1] - before[1]
    return metrics, records


def _llm_counts(bot: Assistant) -> tuple[int, int] | None:
    """(outages, calls skipped) of the LLM's circuit breaker so far; None without an LLM."""
    status = getattr(bot.llm, "status", None)
    if status is None:
        return None
    st = status()
    return st.outages, st.skipped_total


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
    print(
        f"  lead accuracy {m['lead_accuracy']:.3f}  reply length p50 {m['length_p50']:.0f} p90 {m['length_p90']:.0f}  "
        f"single-item p50 {m['single_length_p50']:.0f} p90 {m['single_length_p90']:.0f}"
    )
    print(
        "  form by kind: "
        + "  ".join(
            f"{k} lead {v['lead_accuracy']:.2f} len {v['length_p50']:.0f}/{v['length_p90']:.0f}" for k, v in m["form_by_kind"].items()
        )
    )
    if mode == "llm":
        print(f"  modes {m['modes']}  fallback rate {m['fallback_rate']:.3f}")
        if m.get("llm_outages"):
            print(f"  the LLM was down {m['llm_outages']} time(s) during the run: {m['llm_skipped']} call(s) skipped, counted as fallbacks")


def cmd_answers(args: argparse.Namespace) -> int:
    """One question file (``--qa``), or train, dev and test side by side (the default)."""
    bot = _bot(mode=args.mode)
    files = {Path(args.qa).stem: Path(args.qa)} if args.qa else SPLITS
    results = {name: run_answers(bot, _questions(args, path)) for name, path in files.items()}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (metrics, records) in results.items():
            (args.out / f"answers-{name}.json").write_text(
                json.dumps({"metrics": metrics, "records": [record_dict(r) for r in records]}, ensure_ascii=False, indent=1),
                encoding="utf-8",
            )
    if args.json:
        print(json.dumps({name: m for name, (m, _) in results.items()}, ensure_ascii=False, indent=1))
        return 0
    if len(results) > 1:
        print_splits({name: m for name, (m, _) in results.items()}, args.mode)
    for name, (metrics, records) in results.items():
        if len(results) == 1:
            print_answers(metrics, args.mode)
        if args.failures or len(results) == 1:
            for r in records:
                if not r.correct:
                    print(
                        f"  ✗ [{name}] {r.id} [{r.kind}] {' / '.join(r.turns)} gold={r.gold} cited={r.cited} "
                        f"answered={r.answered} missing={r.missing_facts}"
                    )
    return 0


SPLIT_COLUMNS = (
    ("cite@1", "cite@1", ".3f"),
    ("facts", "fact_accuracy", ".3f"),
    ("refused", "refusal_accuracy", ".3f"),
    ("wrongly refused", "false_refusal_rate", ".3f"),
    ("cit. P", "citation_precision", ".3f"),
    ("cit. R", "citation_recall", ".3f"),
    ("grounding", "grounding_violations", "d"),
    ("lead accuracy", "lead_accuracy", ".3f"),
    ("single len p50", "single_length_p50", ".0f"),
    ("single len p90", "single_length_p90", ".0f"),
    ("p95 ms", "latency_p95_ms", ".0f"),
)


def print_splits(metrics: dict[str, dict[str, Any]], mode: str = "extractive") -> None:
    """The answer metrics of several question sets side by side (train / dev / test)."""
    names = list(metrics)
    print(f"answers ({mode})" + "".join(f"{n:>12}" for n in names))
    print(f"{'questions':<20}" + "".join(f"{metrics[n]['n']:>12}" for n in names))
    for label, key, fmt in SPLIT_COLUMNS:
        print(f"{label:<20}" + "".join(f"{format(metrics[n][key], fmt):>12}" for n in names))
    kinds = sorted({k for n in names for k in metrics[n]["accuracy_by_kind"]})
    for k in kinds:
        vals = [metrics[n]["accuracy_by_kind"].get(k) for n in names]
        print(f"  {k:<18}" + "".join(f"{'–' if v is None else format(v, '.2f'):>12}" for v in vals))
    if "train" in names:
        print("(train is in sample: the decision was fitted on it and its questions are in the question memory;")
        print(" `python -m eval fit` reports train scored out of fold)")


def load_thresholds(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def cmd_gate(args: argparse.Namespace) -> int:
    """Check every section of eval/thresholds.toml against its question file."""
    th = load_thresholds(ROOT / "eval" / "thresholds.toml")
    bot = _bot()
    failed = []
    for name, section in th.items():
        metrics, _ = run_answers(bot, load_questions(ROOT / section["qa"]))
        print(f"[{name}] {section['qa']}")
        print_answers(metrics)
        failed += [f"[{name}] {f}" for f in gate_failures(metrics, section)]
    for f in failed:
        print(f"GATE FAILED: {f}")
    return 1 if failed else 0


# thresholds.toml key -> (metrics key, "min" or "max")
GATE_KEYS = {
    "cite_at_1": ("cite@1", "min"),
    "fact_accuracy": ("fact_accuracy", "min"),
    "refusal_accuracy": ("refusal_accuracy", "min"),
    "max_false_refusal_rate": ("false_refusal_rate", "max"),
    "max_grounding_violations": ("grounding_violations", "max"),
    "lead_accuracy": ("lead_accuracy", "min"),
}


def gate_failures(metrics: dict[str, Any], section: dict[str, Any]) -> list[str]:
    """The thresholds of one section that ``metrics`` miss; an unknown key is an error, not ignored."""
    unknown = set(section) - set(GATE_KEYS) - {"qa"}
    if unknown:
        raise ValueError(f"unknown threshold keys {sorted(unknown)}; known: {sorted(GATE_KEYS)}")
    out = []
    for key, limit in section.items():
        if key == "qa":
            continue
        name, kind = GATE_KEYS[key]
        value = metrics[name]
        if (kind == "min" and value < limit) or (kind == "max" and value > limit):
            out.append(f"{name} {value:.3f} {'<' if kind == 'min' else '>'} {limit}")
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

    qs = _questions(args)  # the configurations are compared on one file: --qa, else the test split
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
    splits = {name: answer_metrics([ask_question(bot, q) for q in _progress(load_questions(path), name)]) for name, path in SPLITS.items()}
    metrics = {
        "qa": str(args.qa or SPLITS["test"]),
        "splits": splits,
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
    print_splits(splits)
    for k, v in configs.items():
        print_answers(v["metrics"], k)
    print(f"report: {out / 'report.html'}")
    return 0


class _ModeBot:
    """An Assistant whose retrieval is fixed to one mode (for side-by-side answer runs)."""

    def __init__(self, bot: Assistant, mode: Mode) -> None:
        self._bot, self._mode = bot, mode
        self.corpus = bot.corpus

    def ask(self, question: str, history: Any = None) -> Reply:
        return self._bot.ask(question, history, mode=self._mode)
