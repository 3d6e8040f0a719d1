"""The form of an answer: the answer first, then the evidence, then what to do.

- **Lead line.** One short sentence that answers what was asked, taken verbatim from the cited
  item: the clause that best matches the question and holds the kind of answer asked for (an
  amount, a percentage, a date), plus the departments when the question asks where to go. Being
  a clause of the item, it is grounded by construction; when no clause holds what was asked, the
  lead is left out rather than guessed.
- **Evidence.** The quoted sentence(s) with the item tag, when they add to the lead.
- **Next step.** The department(s) to go to, and the deadline / validity notes.
- **Aggregate answers** ("作为个体户我能享受哪些政策？") list one line per item — title, the key
  clause, tag — grouped by kind of benefit (the ``[benefits]`` table of the corpus data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .textutil import value_ranges
from .types import Item, Measure

_CLAUSE_END = "，；。：！？"
_OPEN, _CLOSE = "“‘《（(「【", "”’》）)」】"  # a clause does not end inside these
_MONEY = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?元|\d+(?:\.\d+)?万(?=[，。；]|奖励|补贴)")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%|个百分点|减半")
_DATE = re.compile(r"\d{4}年|\d{1,2}月底|\d{1,2}月\d{1,2}日")
_DURATION = re.compile(
    r"[\d一二两三四五六七八九十半]+\s*(?:个工作日|工作日|天|日内|小时|个月|年内)|(?<!\d)\d{1,2}\s*年(?![底前末])|[一二两三四五六七八九十]年|当场|即时|当天|立等可取"
)
_FEE = re.compile(r"免费|不收|收费|费用|零成本|减免")
_FIGURE = re.compile(r"\d|[一二两三四五六七八九十百千万]+(?:个|家|项|次|份|户|人|年|天)")
# Endings of a condition clause in Chinese legal and policy prose (grammar, not any document's words).
_CONDITION_END = re.compile(r"(?:的|时|后|前|起|以上|以下|以内|期间|情况下|前提下)，$")
CONDITION_PENALTY = 4.0  # more than a kind match: a bare condition does not answer, whatever it holds
# Question grammar, not any document's words: what follows a wh-word is what the answer must name.
_FOCUS = re.compile(
    r"(?:哪个|哪些|哪家|哪种|哪类|哪一?项|什么|啥)([\u4e00-\u9fff]{2})|(?:在|去|到|从|找)哪(?:里|儿)?(?![个些家种类项一])([\u4e00-\u9fff]{2})"
)
_VAGUE_FOCUS = frozenset({"时候", "意思", "东西", "情况", "办法", "政策", "样的", "地方", "内容", "要求", "好处", "部门", "单位"})
FOCUS_WEIGHT = 2.0  # on top of the word's ordinary weight as a question term
# A span that only repeats the question ("新办企业首次申领发票") does not answer it: up to NOVELTY_CAP
# characters beyond the question's terms earn NOVELTY_WEIGHT each (chosen on train/dev lead accuracy).
NOVELTY_WEIGHT = 0.1
NOVELTY_CAP = 40
# A sibling of a term the question names (市级 when it asks about 省级) belongs to another case.
SIBLING_PENALTY = 2.0
# The question's last clause asks; the ones before it say who is asking ("我们是国家级的双创品牌，…，
# 房租能补多少"): a term of the asking clause counts this much more, by length (chosen on train/dev).
STRESS_WEIGHT = 1.0
# When no kind of answer was asked ("有奖励吗"), a span that states a figure tells more (train/dev).
FIGURE_BONUS = 2.0
# The longest lead: one sentence or clause run, read before the evidence. Chosen on train/dev lead
# accuracy: 80 → 0.836/0.826, 100 → 0.850/0.835, 120 → 0.863/0.835 (dev facts −0.009), 140 → 0.868/0.826.
# A longer lead often is the whole quoted sentence, so the reply drops the repeated evidence line.
# The operator script has its own, stricter limit (present.SCRIPT_MAX_CHARS).
LEAD_MAX_CHARS = 100
# A span whose range holds a figure the question states ("实缴3个亿": "实缴注册资本1—5亿元…的补贴100万元")
# earns this; one whose range of the same kind does not hold it loses it (that case is another's).
# Train/dev lead accuracy: without it 0.849/0.835, 4 → 0.852/0.835, 8 → 0.853/0.835.
RANGE_WEIGHT = 8.0
OTHER = "其他"
_MARKS = "，；。：！？ "  # clause punctuation (and spaces) around a span's words
_QUESTION_CLAUSES = re.compile(r"[，,；;。！!？?\s]+")  # what separates a question's clauses


@dataclass(frozen=True)
class Asked:
    """What kind of answer the question wants (from its question words)."""

    amount: bool = False
    percent: bool = False
    date: bool = False
    duration: bool = False
    department: bool = False
    number: bool = False  # "多少 / 几…" with no unit the other kinds know: any figure answers it
    fee: bool = False  # "要钱吗 / 收费吗": a clause that says whether it costs answers it
    focus: tuple[str, ...] = ()  # the word a wh-question asks about: "归集到哪个平台" -> 平台

    @classmethod
    def focus_of(cls, question: str) -> tuple[str, ...]:
        """The two characters after 哪个/什么/啥 or after 在哪/去哪 ("结果在哪公示" -> 公示)."""
        found = [m.group(1) or m.group(2) for m in _FOCUS.finditer(question)]
        return tuple(dict.fromkeys(w for w in found if w not in _VAGUE_FOCUS))

    @property
    def kind(self) -> bool:
        """Whether a particular kind of answer (not just a topic) was asked for."""
        return self.amount or self.percent or self.date or self.duration or self.number or self.fee


def clauses(sentence: str) -> list[str]:
    """ "甲，乙；丙。" -> ["甲，", "乙；", "丙。"]; a comma inside quotation marks or brackets does not
    end a clause ("实现“进一次门，查多项事”" is one)."""
    out: list[str] = []
    start = depth = 0
    for i, ch in enumerate(sentence):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _CLAUSE_END and depth == 0:
            out.append(sentence[start : i + 1])
            start = i + 1
    out.append(sentence[start:])
    if depth:  # an unbalanced mark: split at every clause end after all
        out = re.findall(f"[^{_CLAUSE_END}]+[{_CLAUSE_END}]?", sentence)
    return [c for c in out if c.strip(_MARKS)]


def lead_clause(
    sentences: Sequence[str],
    scores: Sequence[float],
    asked: Asked,
    terms: Sequence[str],
    *,
    require: bool = True,
    title: str = "",
    avoid: Sequence[str] = (),
    stress: Sequence[str] = (),
    values: Sequence[tuple[float, str]] = (),
) -> str:
    """The best short span of the item that answers: a whole sentence, up to three neighbouring
    clauses of one, or two neighbouring sentences, at most ``LEAD_MAX_CHARS`` long, holding the
    asked-for kind of answer when one was asked, as many of the question's terms as possible (those
    of its asking clause, ``stress``, count more) and something beyond them (its sentence's score
    breaks ties), and whose ranges hold the figures the question states (``values``: "实缴3个亿" ->
    the "1—5亿元" case); never the item's ``title`` alone, which only names the topic.
    "" when no span holds what was asked (unless ``require`` is False: then the best span)."""
    best: tuple[float, str] = (float("-inf"), "")
    longest_first = sorted(terms, key=len, reverse=True)

    def answers(sentence: str) -> bool:  # either half of a pair must say what was asked on its own
        return bool(_kind_match(sentence, asked)) if asked.kind else any(t in sentence for t in terms)

    for sentence, score, pair in _with_pairs(sentences, scores, answers):
        for text in [sentence] if pair else _spans(sentence):  # a pair's clauses are its sentences' own
            if len(text) > LEAD_MAX_CHARS or (require and asked.kind and not _kind_match(text, asked)):
                continue
            if title and text.strip(_MARKS) in title:
                continue  # the item's heading names the topic the question already named
            s = score + sum(len(t) for t in terms if t in text) + 3 * _kind_match(text, asked) - 0.01 * len(text)
            s -= CONDITION_PENALTY * _ends_in_condition(text, sentence)
            s += FOCUS_WEIGHT * sum(len(w) for w in asked.focus if w in text)
            s += NOVELTY_WEIGHT * min(_novelty(text, longest_first), NOVELTY_CAP)
            s -= SIBLING_PENALTY * sum(1 for w in avoid if w in text)
            s += STRESS_WEIGHT * sum(len(t) for t in stress if t in text)
            s += FIGURE_BONUS * (not asked.kind and bool(_FIGURE.search(text)))
            s += RANGE_WEIGHT * _range_fit(text, values) if values else 0.0
            if s > best[0]:
                best = (s, text)
    lead = best[1].rstrip("，；：。！？")
    return lead if lead and (not require or not asked.kind or _kind_match(lead, asked) > 0) else ""


def asking_clause(question: str) -> str:
    """The question's last clause, which asks: "我们是…双创品牌，想…新建个双创基地，房租能补多少" -> 房租能补多少."""
    return _QUESTION_CLAUSES.split(question.strip("？?。！! "))[-1]


def _with_pairs(sentences: Sequence[str], scores: Sequence[float], answers: Callable[[str], bool]) -> list[tuple[str, float, bool]]:
    """Each sentence with its score, and each two neighbouring sentences that both answer and fit in
    a lead together (with the better score, flagged): parallel cases ("对国家级…50万元。对省级…30万元。").
    A pair is a span only whole: a run of clauses across its sentence end would stop mid-sentence."""
    out = [(s, score, False) for s, score in zip(sentences, scores, strict=True)]
    for i in range(len(sentences) - 1):
        pair = sentences[i] + sentences[i + 1]
        if len(pair) <= LEAD_MAX_CHARS and answers(sentences[i]) and answers(sentences[i + 1]):
            out.append((pair, max(scores[i], scores[i + 1]), True))
    return out


def _novelty(text: str, longest_first: Sequence[str]) -> int:
    """Characters of the span that are not the question's own terms (longest first, so a term
    inside another is not removed twice): what the span tells the asker."""
    body = text.strip(_MARKS)
    for t in longest_first:
        body = body.replace(t, "")
    return len(body)


def _spans(sentence: str) -> list[str]:
    """The sentence itself and every run of one to three of its clauses, except runs that start
    right after a condition ("…的，"): what follows a condition holds only under it."""
    parts = clauses(sentence)
    out = [sentence]
    for i in range(len(parts)):
        if i and _CONDITION_END.search(parts[i - 1]):
            continue
        for j in range(i + 1, min(i + 3, len(parts)) + 1):
            span = "".join(parts[i:j])
            if span != sentence and len(span.strip(_MARKS)) >= 4:
                out.append(span)
    return out


def _range_fit(text: str, values: Sequence[tuple[float, str]]) -> int:
    """+1 for each range of the span that holds a stated figure, -1 for each of the same kind that holds none."""
    fit = 0
    for low, high, family in value_ranges(text):
        same = [v for v, f in values if f == family]
        if same:
            fit += 1 if any(low <= v <= high for v in same) else -1
    return fit


def _kind_match(text: str, asked: Asked) -> int:
    return (
        bool(asked.amount and _MONEY.search(text))
        + bool(asked.percent and _PERCENT.search(text))
        + bool(asked.date and _DATE.search(text))
        + bool(asked.duration and _DURATION.search(text))
        + bool(asked.number and _FIGURE.search(text))
        + bool(asked.fee and _FEE.search(text))
    )


def _ends_in_condition(span: str, sentence: str) -> bool:
    """A span that stops inside its sentence right after a condition ("对…的，", "…时，", "自…起，", "对…，"):
    it says who or when, and the clause that says what they get follows it."""
    body = span.rstrip()
    if not body.endswith("，") or sentence.rstrip().endswith(body):
        return False
    return bool(_CONDITION_END.search(body)) or (body.startswith("对") and "，" not in body[:-1])


GO_TO_UNITS = 3  # a line a caller can act on; eight bureaus is a list to read, not a place to go
_GENERIC_UNIT = re.compile(r"^(?:各|相关|有关|其他)")  # "各有关部门", "相关部门": nobody to go to


def named_units(departments: Sequence[str]) -> list[str]:
    """The departments one can name to a caller: without 各有关部门, 相关部门 and the like."""
    return [d for d in departments if not _GENERIC_UNIT.match(d)]


def routable(departments: Sequence[str]) -> list[str]:
    """The departments a person can actually go to (all of them when every one is generic)."""
    return named_units(departments) or list(departments)


def go_to(departments: Sequence[str]) -> str:
    """The 办理部门 a reply names: the first ``GO_TO_UNITS`` units one can go to (the document lists
    the lead unit first), "等" for the rest, which the citation card lists in full."""
    units = routable(departments)
    return "、".join(units[:GO_TO_UNITS]) + ("等" if len(units) > GO_TO_UNITS else "")


def lead_line(lead: str, tag: str, departments: Sequence[str], asked: Asked) -> str:
    """ "{lead}【第N条】。" and, for a where-to-go question, who handles it."""
    who = "、".join(named_units(departments))
    if asked.department and who:
        return f"{lead}，由{who}负责{tag}。" if lead else f"由{who}负责办理{tag}。"
    return f"{lead}{tag}。" if lead else ""


def benefit_kind(item: Item, lead: str, kinds: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The first kind (in the data's checking order) whose words the item's title or lead has."""
    text = (item.title if isinstance(item, Measure) else item.heading) + lead
    return next((name for name, words in kinds if any(w in text for w in words)), OTHER)


def grouped_lines(entries: Sequence[tuple[str, str]], order: Sequence[str]) -> list[str]:
    """Entries (kind, line) under one heading per kind, kinds in ``order`` then the rest."""
    kinds = list(dict.fromkeys([k for k in order if any(e[0] == k for e in entries)] + [e[0] for e in entries]))
    out: list[str] = []
    for kind in kinds:
        out.append(f"{kind}：")
        out += [f"· {line}" for k, line in entries if k == kind]
    return out
