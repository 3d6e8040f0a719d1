"""``python -m eval curated [--fit]``: how well curated answers are matched, and the fitted threshold.

``eval/curated/answers.jsonl`` holds 12 curated answers (two example questions each) and
``eval/curated/paraphrases.jsonl`` other ways of asking them plus near misses that must *not*
match (another point of the same measure, a neighbouring measure, other topics), each in the
``fit`` or the ``test`` split. ``--fit`` picks the threshold on ``fit`` and writes it to
``assistant/fitted/curated.json``; both runs report precision and recall on both splits, the
``test`` figures being the out-of-sample ones.

A question counts as matched correctly when its best-scoring curated answer is its target and the
score reaches the threshold; a match to a wrong answer, or any match for a near miss, is a false
positive. The threshold maximises F0.5 (precision weighs more: a wrong curated answer is worse than
falling back to the normal answer) and sits midway between neighbouring scores.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from pathlib import Path
from typing import Any

from assistant import Settings
from assistant.curated import FITTED, CuratedMatcher, validate
from assistant.embed import Embedder
from assistant.parse import load_corpus
from assistant.storage import CuratedRecord

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "eval" / "curated"
BETA = 0.5


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def records(settings: Settings) -> tuple[list[CuratedRecord], dict[int, str]]:
    """The curated answers as stored records (validated like staff input); record id -> data id."""
    corpus = load_corpus(settings.corpus_dir)
    out, names = [], {}
    for i, row in enumerate(_jsonl(DATA / "answers.jsonl"), start=1):
        qs, text, keys = validate(corpus, row["questions"], row["answer"], row["citations"])
        out.append(CuratedRecord(i, "active", 1, qs, text, keys, "eval", None))
        names[i] = row["id"]
    return out, names


def scored(matcher: CuratedMatcher, names: dict[int, str]) -> list[dict[str, Any]]:
    """Each paraphrase with its best curated answer and score."""
    rows = []
    for p in _jsonl(DATA / "paraphrases.jsonl"):
        best, score = matcher.scores(p["question"])[0]
        rows.append({**p, "best": names[best.id], "score": score})
    return rows


def confusion(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    tp = sum(r["score"] >= threshold and r["best"] == r["target"] for r in rows)
    fp = sum(r["score"] >= threshold and r["best"] != r["target"] for r in rows)
    positives = sum(r["target"] is not None for r in rows)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f = (1 + BETA**2) * precision * recall / (BETA**2 * precision + recall) if precision + recall else 0.0
    return {
        "n": len(rows),
        "positives": positives,
        "tp": tp,
        "fp": fp,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f0.5": round(f, 3),
    }


def fit(rows: list[dict[str, Any]]) -> float:
    """The F0.5-best threshold, midway between neighbouring scores (the higher one on ties)."""
    scores = sorted({r["score"] for r in rows})
    cuts = [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)] + [scores[-1] + 1e-6]
    best = max(cuts, key=lambda t: (confusion(rows, t)["f0.5"], t))
    return round(best, 4)


def cmd_curated(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    embedder = Embedder.load(settings.embed_model)
    recs, names = records(settings)
    matcher = CuratedMatcher(embedder, 1.0)
    matcher.load(recs)
    rows = scored(matcher, names)
    split = {s: [r for r in rows if r["split"] == s] for s in ("fit", "test")}
    threshold = fit(split["fit"]) if args.fit else json.loads(FITTED.read_text(encoding="utf-8"))["threshold"]
    report = {s: confusion(split[s], threshold) for s in split}
    how = "fitted now on" if args.fit else "as fitted, from"
    print(f"curated-answer matching, threshold {threshold} ({how} the fit split)")
    print(f"  {'split':6} {'n':>4} {'pos':>4} {'tp':>4} {'fp':>4} {'precision':>9} {'recall':>7} {'F0.5':>6}")
    for s, m in report.items():
        counts = f"{m['n']:>4} {m['positives']:>4} {m['tp']:>4} {m['fp']:>4}"
        print(f"  {s:6} {counts} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f0.5']:>6.3f}")
    for r in rows:
        wrong = (r["score"] >= threshold) != (r["target"] is not None) or (r["score"] >= threshold and r["best"] != r["target"])
        if wrong and args.verbose:
            print(f"    {r['split']:4} {r['score']:.3f} {r['best']} (want {r['target']}): {r['question']}")
    if args.fit:
        FITTED.write_text(json.dumps(_fitted(threshold, report, embedder.model_id), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FITTED.relative_to(ROOT)}")
    return 0


def _fitted(threshold: float, report: dict[str, Any], model_id: str) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "command": "python -m eval curated --fit",
        "data": ["eval/curated/answers.jsonl", "eval/curated/paraphrases.jsonl"],
        "model": model_id,
        "objective": f"F{BETA} on the fit split",
        "fit": report["fit"],
        "test": report["test"],
        "fitted_on": _dt.date.today().isoformat(),
    }
