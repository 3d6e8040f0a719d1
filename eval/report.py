"""``report.html``: one self-contained page (inline CSS, PNG plots as data URIs) for a non-programmer.

Everything that comes from the question set or from the assistant is HTML-escaped: questions
deliberately include markup such as ``<script>``, and the page must show it, not run it.
Plots use a CJK font when the machine has one (``fc-list :lang=zh``); otherwise their labels are
English only. No font is installed or downloaded here.
"""

from __future__ import annotations

import base64
import html
import io
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# Families tried when fc-list is missing or names none that matplotlib knows.
_CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)

KIND_NAMES = {
    "amount": "金额 amount",
    "fact": "内容 fact",
    "colloquial": "口语 colloquial",
    "aggregate": "综合 aggregate",
    "keyword": "关键词 keyword",
    "department": "部门 department",
    "multiturn": "多轮 multiturn",
    "deadline": "期限 deadline",
    "docfact": "文件信息 docfact",
    "unanswerable": "无答案 unanswerable",
    "nearmiss": "近似无答案 near miss",
    "injection": "越权请求 injection",
}

_CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",sans-serif;
 margin:2rem auto;max-width:1100px;color:#222;line-height:1.5;padding:0 1rem}
h1{font-size:1.6rem;border-bottom:2px solid #2b6cb0;padding-bottom:.3rem}
h2{font-size:1.25rem;margin-top:2.2rem;color:#2b6cb0}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #ccc;padding:.3rem .55rem;vertical-align:top;text-align:left}
th{background:#edf2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.fail td{font-size:.85rem}.answer{white-space:pre-wrap;max-height:12rem;overflow:auto;min-width:18rem}
.note{color:#555;font-size:.9rem}img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# --- fonts and plots -------------------------------------------------------------------


def cjk_font() -> str | None:
    """A font family matplotlib can use for Chinese, or None (then plots use English labels)."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    names: list[str] = []
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10).stdout
            names = [part.strip() for line in out.splitlines() for part in line.split(",")]
        except (OSError, subprocess.SubprocessError):
            names = []
    # Prefer proportional faces over "Mono" ones; then the well-known families.
    for name in sorted((n for n in names if n in known), key=lambda n: "Mono" in n) + list(_CJK_FAMILIES):
        if name in known:
            return name
    return None


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grouped_bars(groups: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str, *, ylim: float | None = 1.0) -> Any:
    """One group of bars per entry of ``groups``, one bar colour per series."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(min(14.0, max(6.0, 0.35 * len(groups) * max(1, len(series)) + 3)), 3.8))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name)
        if len(groups) * len(series) <= 16:
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(groups)), list(groups), rotation=20 if len(groups) > 5 else 0, ha="right" if len(groups) > 5 else "center")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(0, ylim * 1.22)  # headroom so the legend sits above bars that reach 1.0
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncols=min(4, len(series)), loc="upper left")
    return fig


def _plots(metrics: dict[str, Any], records: dict[str, list[dict[str, Any]]], zh: bool) -> list[tuple[str, str]]:
    """(caption, data URI) for each plot there is data for."""

    def t(cn: str, en: str) -> str:
        return f"{cn} {en}" if zh else en

    out: list[tuple[str, str]] = []
    retrieval = metrics.get("retrieval") or []
    if retrieval:
        fig = _grouped_bars(
            [r["config"] for r in retrieval],
            {"hit@1": [r["hit1"] for r in retrieval], "hit@3": [r["hit3"] for r in retrieval]},
            t("检索命中率", "Retrieval hit@1 / hit@3"),
            t("比例", "share of questions"),
        )
        out.append((t("检索：正确条款排在第1位 / 前3位的比例", "Retrieval: gold measure ranked 1st / in top 3"), _png(fig)))
    answers: dict[str, dict[str, Any]] = metrics.get("answers") or {}
    if answers:
        kinds = sorted({k for m in answers.values() for k in m.get("accuracy_by_kind", {})})
        if kinds:
            fig = _grouped_bars(
                [KIND_NAMES.get(k, k) if zh else k for k in kinds],
                {cfg: [m.get("accuracy_by_kind", {}).get(k, 0.0) for k in kinds] for cfg, m in answers.items()},
                t("按问题类型的回答正确率", "Answer accuracy by question kind"),
                t("正确率", "accuracy"),
            )
            out.append((t("回答：各类问题的正确率（按检索配置）", "Answers: accuracy per question kind and configuration"), _png(fig)))
        cfgs = list(answers)
        fig = _grouped_bars(
            cfgs,
            {
                t("引用准确率", "precision"): [answers[c]["citation_precision"] for c in cfgs],
                t("引用召回率", "recall"): [answers[c]["citation_recall"] for c in cfgs],
            },
            t("引用准确率 / 召回率", "Citation precision / recall"),
            t("比例", "share"),
        )
        out.append((t("引用：所引条款是否正确、是否齐全", "Citations: are the cited measures right, and all there"), _png(fig)))
    lat = {cfg: [float(r["latency_ms"]) for r in recs if r.get("latency_ms") is not None] for cfg, recs in records.items()}
    lat = {k: v for k, v in lat.items() if v}
    if lat:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 3.8))
        ax = fig.add_subplot()
        ax.boxplot(list(lat.values()), tick_labels=list(lat), showfliers=True)
        ax.set_yscale("log")
        ax.set_ylabel(t("毫秒（对数刻度）", "ms (log scale)"))
        ax.set_title(t("每个问题的回答耗时", "Answer latency per question"))
        ax.grid(axis="y", alpha=0.3)
        out.append(
            (
                t(
                    "耗时分布：箱体为中间一半的问题，圆点为个别慢的问题",
                    "Latency: the box holds the middle half of questions, dots are outliers",
                ),
                _png(fig),
            )
        )
    return out


# --- tables ----------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int] | None = None, cls: str = "") -> str:
    numeric = numeric or set()
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="n">{_e(v)}</td>' if i in numeric else f"<td>{v if isinstance(v, _Raw) else _e(v)}</td>" for i, v in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f'<table class="{_e(cls)}"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class _Raw(str):
    """Markup this module built itself from escaped parts (never raw input)."""


def _f(x: Any, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if isinstance(x, int | float) else "–"


def _items(nums: Iterable[int | None]) -> str:
    """[25, None] -> "第25条、文件章节" """
    return "、".join("文件章节 section" if n is None else f"第{n}条" for n in nums) or "—"


def _splits(splits: dict[str, dict[str, Any]]) -> str:
    """Train / dev / test side by side: the gap between them is what tuning to a set costs."""
    rows = [
        ["首引正确 cite@1", *(_f(m["cite@1"]) for m in splits.values())],
        ["要点正确 facts", *(_f(m["fact_accuracy"]) for m in splits.values())],
        ["拒答正确 unanswerable refused", *(_f(m["refusal_accuracy"]) for m in splits.values())],
        ["误拒率 answerable refused", *(_f(m.get("false_refusal_rate")) for m in splits.values())],
        ["无据数字 grounding violations", *(m["grounding_violations"] for m in splits.values())],
        ["题数 questions", *(m["n"] for m in splits.values())],
    ]
    head = ["指标 metric", *(f"{name}" for name in splits)]
    note = (
        '<p class="note">train 用于拟合回答决策，dev 用于选阈值，test 由未见过代码和其他题集的作者盲写，从未用于调参。'
        " train fits the answer decision, dev chooses its thresholds, test was written blind and is never tuned to.</p>"
    )
    return note + _table(head, rows, numeric=set(range(1, len(head))))


def _summary(metrics: dict[str, Any]) -> str:
    parts = []
    if metrics.get("splits"):
        parts += ["<h3>训练 / 开发 / 测试 Train / dev / test (hybrid)</h3>", _splits(metrics["splits"])]
    retrieval = metrics.get("retrieval") or []
    if retrieval:
        parts.append("<h3>检索 Retrieval</h3>")
        parts.append(
            _table(
                ["配置 configuration", "题数 n", "hit@1", "hit@3", "hit@5", "MRR", "p50 ms", "p95 ms"],
                (
                    [r["config"], r["n"], _f(r["hit1"]), _f(r["hit3"]), _f(r["hit5"]), _f(r["mrr"]), _f(r["p50_ms"], 1), _f(r["p95_ms"], 1)]
                    for r in retrieval
                ),
                numeric={1, 2, 3, 4, 5, 6, 7},
            )
        )
    answers: dict[str, dict[str, Any]] = metrics.get("answers") or {}
    if answers:
        parts.append("<h3>回答 Answers</h3>")
        parts.append(
            _table(
                [
                    "配置 configuration",
                    "题数 n",
                    "首引正确 cite@1",
                    "引用准确率 precision",
                    "引用召回率 recall",
                    "要点正确 facts",
                    "拒答正确 refusal",
                    "误拒 false refusals",
                    "无据数字 grounding violations",
                    "p50 ms",
                    "p95 ms",
                ],
                (
                    [
                        cfg,
                        m["n"],
                        _f(m["cite@1"]) if m["answerable"] else "–",
                        _f(m["citation_precision"]),
                        _f(m["citation_recall"]),
                        _f(m["fact_accuracy"]),
                        _f(m["refusal_accuracy"]) if m["unanswerable"] else "–",  # no such questions: not 0
                        m["false_refusals"],
                        m["grounding_violations"],
                        _f(m["latency_p50_ms"], 1),
                        _f(m["latency_p95_ms"], 1),
                    ]
                    for cfg, m in answers.items()
                ),
                numeric=set(range(1, 11)),
            )
        )
    return "\n".join(parts)


def _failures(recs: list[dict[str, Any]]) -> str:
    failed = [r for r in recs if r.get("correct") is False]
    if not failed:
        return '<p class="note">没有答错的问题。No failed questions.</p>'
    rows = []
    for r in failed:
        if not r.get("answerable", True):
            expected = "应拒答 should refuse"
        else:
            expected = _items(r["gold"]) if r.get("gold") else "文件章节 section"
        if r.get("also"):
            expected += f"（亦可 also: {_items(r['also'])}）"
        cited = _items(r.get("cited", [])) if r.get("answered") else "已拒答 refused"
        missing = "；".join(" / ".join(g) for g in r.get("missing_facts", [])) or "—"
        text = r.get("text") or r.get("error") or ""
        rows.append(
            [
                r.get("id", ""),
                KIND_NAMES.get(r.get("kind", ""), r.get("kind", "")),
                " → ".join(r.get("turns", [])),
                expected,
                cited,
                missing,
                _Raw(f'<div class="answer">{_e(text)}</div>'),
            ]
        )
    head = ["编号 id", "类型 kind", "问题 question (turns)", "应引 expected", "实引 cited", "缺少要点 missing facts", "回答 answer"]
    return f'<p class="note">{len(failed)} / {len(recs)} 题答错 failed</p>' + _table(head, rows, cls="fail")


def _facts(metrics: dict[str, Any], font: str | None) -> str:
    index = metrics.get("index") or {}
    env = metrics.get("environment") or {}
    rows: list[list[object]] = [
        ["问题集 question set", f"{metrics.get('qa', '')} ({metrics.get('questions', '?')} 题 questions)"],
        ["语料哈希 corpus sha256", metrics.get("corpus_sha256", "")],
        ["向量模型 embedding model", metrics.get("model_id", "")],
        ["索引 index build", index.get("build_id", "")],
        ["索引指纹 fingerprint", index.get("fingerprint", "")],
        ["索引节点 nodes", index.get("nodes", "")],
        ["索引构建 build seconds", index.get("build_seconds", "")],
        ["运行耗时 run seconds", metrics.get("seconds", "")],
    ]
    rows += [[f"版本 {k}", v] for k, v in (index.get("versions") or {}).items()]
    rows += [[f"机器 {k}", v] for k, v in env.items()]
    rows.append(["图表字体 plot font", font or "无中文字体，图表用英文 (no CJK font; English plot labels)"])
    return _table(["项目 item", "值 value"], rows)


# --- page ------------------------------------------------------------------------------


def write_report(out: Path, metrics: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> Path:
    """Write ``out/report.html`` from ``cmd_run``'s metrics and per-configuration records; returns its path."""
    import matplotlib

    font = cjk_font()
    rc: dict[str, Any] = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]  # the stubs want literal keys
        plots = _plots(metrics, records, zh=font is not None)
    date = (metrics.get("environment") or {}).get("date", "")
    body = [
        "<h1>政策通 评测报告 · Evaluation report</h1>",
        f'<p class="note">{_e(date)} · {_e(metrics.get("questions", "?"))} 个问题 questions · '
        "hit@k：正确条款排在前 k 位的比例；cite@1：回答引用的第一条就是正确条款；"
        "无据数字：回答中出现、但所引条款里没有的数字（应为 0）。"
        " hit@k: share of questions whose correct measure is in the top k; cite@1: the first citation is correct; "
        "grounding violations: numbers in an answer that no cited measure contains (must be 0).</p>",
        "<h2>总览 Summary</h2>",
        _summary(metrics),
        "<h2>图表 Plots</h2>",
    ]
    body += [f'<figure><img alt="{_e(cap)}" src="{uri}"><figcaption class="note">{_e(cap)}</figcaption></figure>' for cap, uri in plots]
    body.append("<h2>答错的问题 Failed questions</h2>")
    main = "hybrid" if "hybrid" in records else next(iter(records), None)
    if main is not None:
        body.append(f"<h3>{_e(main)}</h3>" + _failures(records[main]))
    for cfg, recs in records.items():
        if cfg != main:
            n = sum(r.get("correct") is False for r in recs)
            body.append(f"<details><summary>{_e(cfg)}：{n} 题答错 failed</summary>{_failures(recs)}</details>")
    body += ["<h2>运行信息 Run facts</h2>", _facts(metrics, font)]
    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>政策通 评测报告</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
