"""``python -m eval {retrieval,answers,run,gate,bench,load,curated}`` — see eval/README.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import assistant  # noqa: F401  (sets the offline environment first)

from .data import QuestionSetError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QA = ROOT / "eval" / "test.jsonl"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, help_ in (
        ("retrieval", "hit@1/3/5 and MRR: BM25, dense, hybrid and the plain llama-index baseline"),
        ("answers", "cite@1, citation precision/recall, facts, refusal, grounding, latency"),
        ("run", "retrieval + answers for every configuration; writes metrics.json and report.html"),
        ("gate", "fast subset checked against eval/thresholds.toml (part of make test)"),
    ):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--qa", type=Path, default=None, help="question file (JSONL); default: train, dev and test side by side")
        sp.add_argument("--out", type=Path, default=None, help="report folder")
        sp.add_argument("--mode", choices=["extractive", "llm"], default="extractive")
        sp.add_argument("--limit", type=int, default=0, help="only the first N questions")
        sp.add_argument("--json", action="store_true", help="print metrics as JSON")
        sp.add_argument("--failures", action="store_true", help="list every failed question")
    b = sub.add_parser("bench", help="build time, cold start, latency, RSS, throughput")
    b.add_argument("--qa", type=Path, default=DEFAULT_QA)
    b.add_argument("--out", type=Path, default=None)
    b.add_argument("--threads", type=int, default=4)
    b.add_argument("--scale", type=int, default=0, help="also index N replicated measures (e.g. 1000)")
    from .fit import add_parser as add_fit

    add_fit(sub)
    b.add_argument("--docs", type=int, default=0, help="only: N distinct generated documents (>= 5,000 items) and an incremental add")
    b.add_argument("--items", type=int, default=0, help="with --docs: items per document (default: 5,000 in all, 50 at least)")
    b.add_argument("--keep-cache", type=Path, default=None, help="with --docs: keep the embedding cache in this folder across runs")
    ld = sub.add_parser("load", help="load test POST /api/ask of a running app (loopback only)")
    ld.add_argument("--url", default="http://127.0.0.1:7860")
    ld.add_argument("--clients", type=int, default=50)
    ld.add_argument("--requests", type=int, default=20)
    ld.add_argument("--qa", type=Path, default=DEFAULT_QA)
    ld.add_argument("--token", default=None, help="staff token: check that no reply is missing from the log (or POLICY_STAFF_TOKEN)")
    cu = sub.add_parser("curated", help="curated-answer matching: precision/recall on held-out paraphrases; --fit refits the threshold")
    cu.add_argument("--fit", action="store_true", help="fit the threshold on the fit split and write assistant/fitted/curated.json")
    cu.add_argument("--verbose", action="store_true", help="list the questions matched wrongly")
    args = p.parse_args(argv)
    try:
        if args.cmd == "retrieval":
            from .commands import cmd_retrieval

            return cmd_retrieval(args)
        if args.cmd == "answers":
            from .commands import cmd_answers

            return cmd_answers(args)
        if args.cmd == "run":
            from .commands import cmd_run

            return cmd_run(args)
        if args.cmd == "gate":
            from .commands import cmd_gate

            return cmd_gate(args)
        if args.cmd == "fit":
            from .fit import cmd_fit

            return cmd_fit(args)
        if args.cmd == "bench":
            from .bench import cmd_bench

            return cmd_bench(args)
        if args.cmd == "curated":
            from .curated import cmd_curated

            return cmd_curated(args)
        if args.cmd == "load":
            from .load import cmd_load

            return cmd_load(args)
    except QuestionSetError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    except assistant.AssistantError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
