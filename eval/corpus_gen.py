"""Synthetic corpora for ``python -m eval bench --docs N``: many distinct documents from real measure text.

Each document recombines sentences of the seed's measures (万政〔2022〕15号) under its own district
name, with its own amounts, departments and layout (four layouts in turn: the seed's 一、/（一）/1. with
（责任单位：…）; 一、/1. restarting with （X牵头，Y配合）; 一、/（一）/1. with 〔牵头单位：…，责任单位：…〕;
第一章/第N条). Every item's text is distinct (checked), so the embedding cache cannot dedupe the work.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.structure.numbering import cn_numeral
from assistant.types import Corpus

_FIRST = "柏青云松桐泉鹤枫岚溪石梅兰竹杏榆槐柳桂椿"
_SECOND = "川原林江山湖峰源台阳"
TOPICS = (
    "优化营商环境",
    "促进民营经济高质量发展",
    "支持科技创新",
    "稳就业保民生",
    "扶持个体工商户发展",
    "推动数字经济发展",
    "促进消费扩容提质",
    "支持中小企业纾困解难",
    "加快现代服务业发展",
    "推进乡村振兴",
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Pool:
    """Sentences, titles and departments taken from a real corpus."""

    titles: tuple[str, ...]
    sentences: tuple[str, ...]
    departments: tuple[str, ...]

    @classmethod
    def from_corpus(cls, corpus: Corpus) -> Pool:
        sentences = []
        for m in corpus.measures:
            body = m.text[len(m.title) + 1 :]
            sentences += [s for s in re.split(r"(?<=。)", body) if 12 <= len(s) <= 120]
        depts = sorted({d for m in corpus.measures for d in m.departments if d.startswith("区")})
        return cls(tuple(m.title for m in corpus.measures), tuple(sentences), tuple(depts))


def district(k: int) -> str:
    return _FIRST[k % len(_FIRST)] + _SECOND[(k // len(_FIRST)) % len(_SECOND)] + "区"


def _vary(sentence: str, rng: random.Random, place: str) -> str:
    """Other amounts (scaled numbers, years kept) and this document's district."""

    def scale(m: re.Match[str]) -> str:
        value = m.group(0)
        if len(value) == 4 and value.startswith("20"):
            return value  # a year
        factor = rng.choice((0.5, 0.8, 1.2, 1.5, 2, 3))
        scaled = float(value) * factor
        return str(int(scaled)) if scaled >= 1 else f"{scaled:.1f}"

    return _NUMBER.sub(scale, sentence).replace("万柏林区", place).replace("我区", place)


def _item(pool: Pool, rng: random.Random, place: str, k: int) -> tuple[str, list[str]]:
    """(title。body, departments) for one item."""
    title = rng.choice(pool.titles)
    body = "".join(_vary(s, rng, place) for s in rng.sample(pool.sentences, rng.randint(2, 3)))
    unique = f"{place}第{k}批事项由{rng.choice(pool.departments)}于每季度第{rng.randint(1, 20)}个工作日公布办理情况。"
    return f"{title}。{body}{unique}", rng.sample(pool.departments, rng.randint(1, 3))


def _cover(place: str, number: str, title: str, year: int, k: int) -> list[str]:
    return [
        f"{place}人民政府文件",
        number,
        f"{place}人民政府关于印发{title}的通知",
        "各街道办事处、区直各部门：",
        f"《{title}》已经区政府同意，现印发给你们，请认真贯彻落实。",
        f"{place}人民政府",
        f"{year}年{k % 12 + 1}月{k % 28 + 1}日",  # deterministic: runs must generate the same text
        title,
    ]


def document(pool: Pool, k: int, items: int, *, seed: int = 0) -> tuple[str, str]:
    """(file name, text) of synthetic document ``k`` with ``items`` items, in layout ``k % 4``."""
    rng = random.Random(seed * 100_003 + k)
    place, topic = district(k), TOPICS[k % len(TOPICS)]
    year = 2016 + k % 8
    title = f"{place}关于{topic}的若干措施（第{k + 1}号）"
    number = f"{place[:2]}政发〔{year}〕{k + 1}号"
    groups = [items // 4 + (1 if g < items % 4 else 0) for g in range(4)]
    layout = k % 4
    lines = _cover(place, number, title, year, k) if layout in (0, 2) else [title, f"为{topic}，结合{place}实际，制定本措施。"]
    if layout == 3:
        lines += _articles(pool, rng, place, groups)
    else:
        lines += _numbered(pool, rng, place, groups, layout, topic)
    lines.append(f"本措施自{year}年{k % 12 + 1}月1日起施行，有效期{k % 5 + 1}年。")
    if layout == 1:
        lines += [f"{place}人民政府", f"{year}年1月{k % 28 + 1}日"]
    return f"bench-{k:04d}.txt", "\n\n".join(lines) + "\n"


def _dept_block(depts: Sequence[str], layout: int) -> str:
    if layout == 1:
        return f"（{depts[0]}牵头" + (f"，{'、'.join(depts[1:])}配合）" if depts[1:] else "）")
    if layout == 2:
        return f"〔牵头单位：{depts[0]}" + (f"，责任单位：{'、'.join(depts[1:])}〕" if depts[1:] else "〕")
    return f"（责任单位：{'、'.join(depts)}）"


def _numbered(pool: Pool, rng: random.Random, place: str, groups: Sequence[int], layout: int, topic: str) -> list[str]:
    lines = ["一、总体要求", f"坚持问题导向，聚焦{topic}中的难点堵点，推动各项措施落地见效。"]
    n = 0
    if layout != 1:
        lines.append("二、主要任务")
    for g, count in enumerate(groups, start=1):
        head = f"{rng.choice(pool.titles)}专项行动"
        lines.append(f"{cn_numeral(g + 1)}、{head}" if layout == 1 else f"（{cn_numeral(g)}）{head}")
        for i in range(1, count + 1):
            n += 1
            text, depts = _item(pool, rng, place, n)
            lines.append(f"{i if layout == 1 else n}. {text}{_dept_block(depts, layout)}")
    return lines


def _articles(pool: Pool, rng: random.Random, place: str, groups: Sequence[int]) -> list[str]:
    lines, n = [], 0
    for g, count in enumerate(groups, start=1):
        lines.append(f"第{cn_numeral(g)}章 {rng.choice(pool.titles)}")
        for _ in range(count):
            n += 1
            text, _ = _item(pool, rng, place, n)
            lines.append(f"第{cn_numeral(n) if n < 100 else n}条 {text}")
    return lines


def write_corpus(pool: Pool, folder: Path, docs: int, items: int, *, start: int = 0) -> list[Path]:
    """Write documents ``start``..``start + docs - 1`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(start, start + docs):
        name, text = document(pool, k, items)
        (folder / name).write_text(text, encoding="utf-8")
        out.append(folder / name)
    return out
