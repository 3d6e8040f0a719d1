"""The 统计 tab: questions per day by outcome, 👍/👎, latency, policy gaps, most cited items, CSV."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from ..analytics import Report, report
from ..errors import AssistantError
from .login import current_user, problem

if TYPE_CHECKING:
    from ..ops import Operations

DAY_HEADERS = ["日期", "提问", "已回答", "未回答", "精选答案", "有帮助", "没帮助", "有帮助率", "时延P50(ms)", "时延P95(ms)"]
KINDS = {"answered": "已回答", "refused": "未回答", "curated": "精选答案"}


def totals_markdown(r: Report) -> str:
    t = r.totals
    up = "–" if t["up_rate"] is None else f"{t['up_rate']:.0%}"
    refused = "–" if t["refusal_rate"] is None else f"{t['refusal_rate']:.0%}"
    return (
        f"**提问 {t['questions']}** · 已回答 {t['answered']} · 未回答 {t['refused']}（{refused}） · 精选答案 {t['curated']}  \n"
        f"有帮助 {t['up']} · 没帮助 {t['down']}（有帮助率 {up}） · 时延 P50 {t['latency_p50_ms']:.0f} ms · P95 {t['latency_p95_ms']:.0f} ms"
    )


def _plot_frame(r: Report) -> pd.DataFrame:
    rows = [{"日期": d["day"], "类型": label, "数量": d[key]} for d in r.days for key, label in KINDS.items()]
    return pd.DataFrame(rows, columns=["日期", "类型", "数量"])


def build(ops: Operations, session: gr.State) -> None:
    with gr.Row():
        days = gr.Number(label="最近天数", value=30, precision=0, minimum=1, maximum=3650, elem_id="pa-an-days")
        refresh = gr.Button("刷新统计", variant="primary", elem_id="pa-an-refresh")
        download = gr.DownloadButton("导出CSV", visible=False, elem_id="pa-an-csv")
    totals = gr.Markdown(elem_id="pa-an-totals")
    plot = gr.BarPlot(x="日期", y="数量", color="类型", title="每日提问", elem_id="pa-an-plot")
    per_day = gr.Dataframe(headers=DAY_HEADERS, interactive=False, elem_id="pa-an-days-table")
    gr.Markdown("**未回答问题（相近问法合并）**——政策空白，可向上反映")
    gaps = gr.Dataframe(headers=["问题", "次数", "相近问法"], interactive=False, wrap=True, elem_id="pa-an-gaps")
    gr.Markdown("**引用最多的条款**")
    cited = gr.Dataframe(headers=["条款", "标题", "次数"], interactive=False, elem_id="pa-an-cited")
    folder = Path(tempfile.mkdtemp(prefix="pa-analytics-"))  # one file, rewritten on each refresh

    def load(token: str | None, n: Any) -> tuple[Any, ...]:
        try:
            current_user(ops, token)
            ops.recorder.flush()
            r = report(ops.conversations, ops.bot.embedder, days=int(n or 30))
        except AssistantError as ex:
            return problem(ex), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        table = [list(d.values()) for d in r.days]
        gap_rows = [[g["question"], g["count"], " / ".join(g["examples"])] for g in r.unanswered]
        cited_rows = [[c["label"], c["title"], c["count"]] for c in r.top_cited]
        path = folder / "analytics.csv"
        path.write_text(r.csv(), encoding="utf-8")
        return totals_markdown(r), _plot_frame(r), table, gap_rows, cited_rows, gr.update(value=str(path), visible=True)

    refresh.click(load, [session, days], [totals, plot, per_day, gaps, cited, download])
