"""Extractive, grounded answers: quote the sentences that answer, cite them, or say 未找到.

No LLM is involved. For each question the answerer

1. lets the fitted answer decision (``decide.py``) score every retrieved item and choose: answer
   (one item for a precise question, several for "what can I get as a …" questions), suggest
   related items ("未找到直接规定"), or say 未找到;
2. quotes, from each cited item, the one or two sentences that best match the question
   (sentences with amounts or dates first when those were asked);
3. adds the responsible departments, and a note when a stated deadline has passed or the
   document has expired;
4. checks that every number in the text appears in a cited item (``grounding_violations``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .compose import OTHER, Asked, asking_clause, benefit_kind, go_to, grouped_lines, lead_clause, lead_line, named_units
from .decide import Decision, Scored
from .features import FeatureExtractor, Terms, is_aggregate, wants
from .lexicon import Lexicon
from .textutil import cn_count, magnitudes, sentences, stated_values
from .types import Citation, Corpus, Document, Hit, Item, Measure, Reply

SHORT_ITEM_CHARS = 120  # items this short are quoted whole
MAX_QUOTE_CHARS = 240  # a second sentence is added only while the quote stays this short
EVIDENCE_MIN_EXTRA = 20  # the quote follows the lead when it holds this many characters beyond the lead's own, or a figure more (_adds)
# An aggregate answer's line quotes its sentence(s) up to this length, else its key clause. A quote
# without an amount or rate is joined by the item's best sentence with one, within the same length
# (``_with_figure``). Chosen on train/dev aggregate facts (165 questions; length p50 of the reply):
# 120 and no companion 90 (508), 200 alone 94 (536), 200 with the companion 96 (566), two sentences
# per item up to 240 101 (628).
AGGREGATE_LINE_CHARS = 200
# An aggregate answer opens with what its most likely items give: at most this many, this long. A
# two-item answer opens with both leads within the same length (train/dev lead accuracy 0.853/0.835
# with the first item's lead alone, 0.867/0.844 with both).
SUMMARY_ITEMS = 3
SUMMARY_MAX_CHARS = 160
SIM_WEIGHT = 2.0  # e5 similarity (z-score within the item) against word matches; chosen on train/dev fact accuracy
_MONEY_S = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?元|\d+(?:\.\d+)?%")
_DATE_S = re.compile(r"\d{4}年|\d{1,2}月底")
_DURATION_S = re.compile(
    r"[\d一二两三四五六七八九十半]+\s*(?:个工作日|工作日|天|日内|小时|个月)|(?<!\d)\d{1,2}\s*年(?![底前末])|当场|即时|当天"
)
SERVICE_NUMBERS = frozenset({"12345"})  # the citizen hotline may be suggested without a citation

_AMOUNT_Q = re.compile(r"多少|几万|几千|金额|额度|限额|钱|补贴|奖励|补助|资金|奖补|比例|税率|百分之|%|减免|减按|扣减|贴息|给啥|给什么")
_DEADLINE_Q = re.compile(
    r"什么时候|啥时候|何时|哪年|几月|期限|截止|到期|过期|有效|还算数|还能|延长|多久|几年|时间|日期|之前|以前|前完成|还有吗|还在|结束"
)
# "部门" asks where to go unless it is the subject of a complaint (好几个部门来查, 各部门轮流查).
_DEPT_Q = re.compile(
    r"哪个部门|什么部门|哪个单位|哪家单位|哪个机构|哪些部门|(?<![几各多些])(?<![几各多]个)部门|哪个局|哪个窗口|找谁|找哪|去哪|问哪|归哪|哪里办|在哪办|哪儿办|负责|归谁|谁管|转接|转给|转哪|责任单位"
)
_NUM = re.compile(r"\d+(?:\.\d+)?(?:%|万元|亿元|元|万|亿|年|个月|月|日|小时|个工作日|个|家|户|人|套|份|平方米|倍)?")
_TAG = re.compile(r"【[^【】]{1,40}】")
# A yes-no question asks for no kind of answer (question grammar, not any document's words).
_YES_NO = re.compile(r"[吗么嘛不没]$|没有$|是不是|能不能|会不会|可不可以|算不算|有没有|要不要|让不让|行不行")
_BARE_NUMBER_Q = re.compile(r"多少|几[个家项次份户人年天]?")  # "how many / how much" without a unit the kinds know


def _room(quoted: Sequence[tuple[float, int, str]]) -> int:
    """Characters a quote of these (score, index, sentence) picks may still grow by."""
    return MAX_QUOTE_CHARS - sum(len(c[2]) for c in quoted)


def _nearest_in_meaning(
    sents: Sequence[str], sims: Sequence[float], chosen: Sequence[tuple[float, int, str]]
) -> list[tuple[float, int, str]]:
    """The sentence most similar to the question (e5), when no chosen one is it and the quote has
    room for it. Added on train/dev fact accuracy: train 0.935 -> 0.939, dev 0.920 -> 0.929."""
    if len(sims) != len(sents) or not sents:
        return []
    nearest = int(np.argmax(sims))
    if any(c[1] == nearest for c in chosen) or len(sents[nearest]) > _room(chosen):
        return []
    return [(0.0, nearest, sents[nearest])]


@dataclass(frozen=True)
class _Part:
    """One cited item as it appears in a reply."""

    item: Item
    tag: str  # 【第25条】
    quote: str  # the evidence sentence(s)
    lead: str  # the clause that answers, "" when none does
    asked: Asked


def _asking(focus: str, question: str) -> str:
    """The words that say what kind of answer is wanted: a follow-up's own when it asks something
    itself ("歇着的时候执照还算有效吗" after "最多歇多久" asks no duration), else the resolved question's
    ("那国家级的呢？" asks what the earlier turn asked)."""
    if focus == question or not focus:
        return question
    return focus if wants(focus) or _YES_NO.search(focus.strip("？?。！! ")) else question


def _asked(question: str, intent: Intent) -> Asked:
    kinds = wants(question)
    return Asked(
        amount="money" in kinds,
        percent="percent" in kinds,
        date="date" in kinds,
        duration="duration" in kinds,
        department=intent.department,
        number="fee" not in kinds
        and ("count" in kinds or (not kinds - {"procedure", "materials"} and bool(_BARE_NUMBER_Q.search(question)))),
        fee="fee" in kinds,
        focus=Asked.focus_of(question),
    )


@dataclass(frozen=True)
class Intent:
    """What kind of answer the question wants."""

    amount: bool
    deadline: bool
    department: bool
    aggregate: bool
    duration: bool = False


def detect_intent(question: str) -> Intent:
    return Intent(
        amount=bool(_AMOUNT_Q.search(question)),
        deadline=bool(_DEADLINE_Q.search(question)),
        department=bool(_DEPT_Q.search(question)),
        aggregate=is_aggregate(question),
        duration="duration" in wants(question),
    )


def _fmt(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class Answerer:
    """Builds a :class:`Reply` from retrieved hits. Stateless apart from its inputs."""

    def __init__(self, corpus: Corpus, lexicon: Lexicon, features: FeatureExtractor, *, multi_doc_labels: bool | None = None) -> None:
        self.corpus = corpus
        self.lexicon = lexicon
        self.features = features
        self.multi = len(corpus.documents) > 1 if multi_doc_labels is None else multi_doc_labels

    # --- answer text ---------------------------------------------------------------

    def label(self, item: Item) -> str:
        doc = self.corpus.document(item.doc_id)
        base = item.label
        return f"{doc.short_title}{base}" if self.multi else base

    def best_sentences(
        self,
        item: Item,
        question: str,
        intent: Intent,
        terms: Sequence[str],
        limit: int = 2,
        focus: Sequence[str] = (),
        *,
        sims: Sequence[float] = (),
    ) -> list[str]:
        """The sentences of ``item`` that best answer ``question``, in document order.

        Scores come from :meth:`sentence_scores`; the best sentence is taken, then the one that covers
        most of the question's words still uncovered, while the quote stays short; then the sentence
        nearest the question in meaning, if the words chose others and it fits (a colloquial
        question's answer often shares none of its words: "指标不够怎么办" -> "确有困难的，由…统筹解决").
        Short items are quoted whole.
        """
        sents = sentences(item.text)
        if not sents or len(item.text) <= SHORT_ITEM_CHARS:
            return sents
        weights, own = self._term_weights(question, terms, focus)
        scores = self.sentence_scores(sents, intent, weights, sims)
        ranked = sorted(zip(scores, range(len(sents)), sents, strict=True), key=lambda x: (-x[0], x[1]))
        chosen = [ranked[0]]
        covered = {t for t in weights if t in ranked[0][2]}
        while len(chosen) < limit:
            room = _room(chosen)
            heading_only = len(chosen) == 1 and chosen[0][1] == 0  # a bare heading answers nothing
            options = []
            for cand in ranked:
                if cand in chosen or len(cand[2]) > room or cand[0] <= 0.3:
                    continue
                gain = sum(weights[t] * len(t) for t in weights if t in cand[2] and t not in covered and t in own)
                if gain > 0 or heading_only:
                    options.append((gain, cand[0], cand))
            if not options:
                break
            pick = max(options, key=lambda o: (o[0], o[1]))[2]
            chosen.append(pick)
            covered |= {t for t in weights if t in pick[2]}
        if intent.amount:
            chosen += self._parallel_amounts(ranked, chosen, own)
        if limit > 1:
            chosen += _nearest_in_meaning(sents, sims, chosen)
        return [s for _, _, s in sorted(chosen, key=lambda x: x[1])]

    def _term_weights(self, question: str, terms: Sequence[str], focus: Sequence[str]) -> tuple[dict[str, float], set[str]]:
        """This turn's own words count double, the word a wh-question asks about double again; official
        expansions count half, so 退税 prefers the sentence that says 退税 over one that only says 留抵退税."""
        own = set(self.lexicon.key_terms(question)) | set(focus)
        asked = Asked.focus_of(question)  # "走啥渠道": the sentence naming the 渠道 answers
        ordered = list(dict.fromkeys(t for t in [*terms, *focus] if t))
        return {t: (2.0 if t in focus else 1.0) * (1.0 if t in own else 0.5) * (2.0 if t in asked else 1.0) for t in ordered}, own

    def sentence_scores(self, sents: Sequence[str], intent: Intent, weights: dict[str, float], sims: Sequence[float]) -> list[float]:
        """How well each sentence answers.

        A term counts more the fewer sentences of the item contain it (a word in every sentence
        tells them apart no better than none), so "预付款" picks the 预付款 sentence of a long
        procurement measure. ``sims`` (e5 similarity of the question to each sentence) add what the
        words miss: "公司…国内主板上市…奖多少" is the 300万元 sentence, although 公司 occurs only in
        another one.
        """
        z = _zscores(sims) if len(sims) == len(sents) else [0.0] * len(sents)
        df = {t: sum(t in s for s in sents) for t in weights}
        out = []
        for i, s in enumerate(sents):
            score = sum(weights[t] * len(t) / df[t] for t in weights if df[t] and t in s)
            score += 0.5 * sum(
                len(p) / max(1, sum(p in x for x in sents)) for t in weights if t not in s for p in self.lexicon.parts(t) if p in s
            )
            score += 1.5 * bool(intent.amount and _MONEY_S.search(s)) + 2.0 * bool(intent.deadline and _DATE_S.search(s))
            score += 2.0 * bool(intent.duration and _DURATION_S.search(s))
            score += 0.3 * (i == 0)  # the heading sentence names the measure or requirement
            out.append(score + SIM_WEIGHT * z[i])
        return out

    @staticmethod
    def _parallel_amounts(
        ranked: list[tuple[float, int, str]], chosen: list[tuple[float, int, str]], own: set[str]
    ) -> list[tuple[float, int, str]]:
        """Parallel amounts (国家级…50万元 / 省级…30万元) answer together when the question names no level."""
        extra: list[tuple[float, int, str]] = []
        for cand in ranked:
            room = _room(chosen + extra)
            if cand in chosen or cand in extra or len(cand[2]) > min(room, 80) or not _MONEY_S.search(cand[2]):
                continue
            twin = any(_MONEY_S.search(c[2]) and {t for t in own if t in c[2]} == {t for t in own if t in cand[2]} for c in chosen)
            if twin and {t for t in own if t in cand[2]}:
                extra.append(cand)
        return extra

    def deadline_note(self, item: Item, today: _dt.date) -> str:
        if not isinstance(item, Measure):
            return ""
        passed = [d for d in item.deadlines if d.date < today]
        if not passed:
            return ""
        texts = "、".join(dict.fromkeys(d.text for d in passed))
        who = go_to(named_units(item.departments)) or "责任部门"  # whole names: never a bureau cut in half
        return f"提示：本条期限（{texts}）已过，是否延续或调整，请向{who}核实。"

    def document_note(self, doc: Document, today: _dt.date) -> str:
        if doc.expires is not None and today > doc.expires:
            # No dates here: the note sits beside measures that do not contain the document's dates.
            return f"提示：该条所在文件《{doc.title}》已超过有效期，请以现行政策为准，可向办理部门或12345核实。"
        return ""

    def docfact_text(self, doc: Document, today: _dt.date) -> str:
        """The document's facts in one sentence; facts the document does not state are said to be unstated."""
        if doc.effective and doc.expires and doc.issued and doc.issuer and doc.number and doc.validity_years:
            status = "目前仍在有效期内" if doc.effective <= today <= doc.expires else "已经到期" if today > doc.expires else "尚未开始实施"
            return (
                f"《{doc.title}》（{doc.number}）由{doc.issuer}于{_fmt(doc.issued)}印发，"
                f"自{_fmt(doc.effective)}起实施，有效期为{cn_count(doc.validity_years)}年，至{_fmt(doc.expires)}，{status}。"
            )
        parts = [f"《{doc.title}》" + (f"（{doc.number}）" if doc.number else "")]
        if doc.issuer or doc.issued:
            parts.append(f"由{doc.issuer or '发文机关'}" + (f"于{_fmt(doc.issued)}" if doc.issued else "") + "印发")
        if doc.effective:
            parts.append(f"自{_fmt(doc.effective)}起实施")
        if doc.expires:
            state = "目前仍在有效期内" if today <= doc.expires and (doc.effective is None or doc.effective <= today) else ""
            state = state or ("已经到期" if today > doc.expires else "尚未开始实施")
            parts.append(f"有效期至{_fmt(doc.expires)}，{state}")
        else:
            parts.append("文件未写明有效期，请以发文机关公布的为准")
        return "，".join(parts) + "。"

    def citation(self, item: Item, quote: str) -> Citation:
        doc = self.corpus.document(item.doc_id)
        if isinstance(item, Measure):
            return Citation(item.number, self.label(item), item.title, item.category, list(item.departments), quote, doc.id, doc.number)
        return Citation(None, self.label(item), item.heading, "", list(item.departments), quote, doc.id, doc.number)

    # --- main ----------------------------------------------------------------------

    def answer(
        self,
        question: str,
        focus: str,
        hits: Sequence[Hit],
        decision: Decision,
        terms: Terms,
        today: _dt.date,
        *,
        qvec: np.ndarray | None = None,
    ) -> Reply:
        """Compose the reply for ``decision`` about ``question`` (resolved with the history).

        ``focus`` is what the user typed this turn; its words decide which
        sentences to quote, so "那国家级的呢？" quotes the 国家级 sentence.
        """
        if decision.outcome == "none":
            return not_found(question, hits, confidence=decision.confidence)
        if decision.outcome == "related":
            return self.related_reply(question, hits, decision)
        top = decision.cite[0].hit.item
        if not isinstance(top, Measure) and top.key_name in ("facts", "validity"):
            doc = self.corpus.document(top.doc_id)
            facts = next(s for s in doc.sections if s.key_name == "facts")
            text = self.docfact_text(doc, today)
            return Reply(text, True, [self.citation(facts, text)], list(hits), question=question, confidence=decision.confidence)
        intent = detect_intent(focus + " " + question)
        focus_terms = self.features.terms(focus).alternatives() if focus != question else terms.alternatives()
        items = self._current_first(decision.cite, today)
        asked = _asked(_asking(focus, question), intent)
        limit = 1 if len(items) > 2 else 2
        own = {sc.hit.item.key: sc for sc in decision.cite if sc.question}
        parts = [
            self._part(item, question, intent, terms.alternatives(), focus_terms, qvec, asked, limit=limit)
            if item.key not in own
            else self._part_for(item, own[item.key], intent.aggregate, limit)
            for item in items
        ]
        if len(items) == 1:
            lines = self._single(parts[0])
        elif intent.aggregate:
            lines = self._aggregate(parts)
        else:
            lines = self._several(parts)
        notes = self._superseded(parts, today) + self._notes(parts, intent, today)
        text = "\n".join(lines + notes)
        cites = [self.citation(p.item, p.quote) for p in parts]
        return Reply(text, True, cites, list(hits), notes=notes, question=question, confidence=decision.confidence)

    def _part(
        self,
        item: Item,
        question: str,
        intent: Intent,
        terms: list[str],
        focus: list[str],
        qvec: np.ndarray | None,
        asked: Asked,
        *,
        limit: int,
    ) -> _Part:
        """One cited item's quote and lead clause."""
        sims = self.features.sentence_similarities(item.key, qvec)
        quote = "".join(self.best_sentences(item, question, intent, terms, limit, focus, sims=sims))
        sents = sentences(item.text)
        weights, _ = self._term_weights(question, terms, focus)
        scores = self.sentence_scores(sents, intent, weights, sims)
        title = item.title if isinstance(item, Measure) else ""
        if intent.aggregate:  # one line per item: its figure (amount or rate) if it has one, else its key clause
            quote = _with_figure(quote, sents, scores)
            what = dataclasses.replace(asked, amount=True, percent=True)
            lead = lead_clause(sents, scores, what, list(weights), require=False, title=title)
        else:
            asking = asking_clause(question)  # its terms, and the figures the question states, weigh more
            stress = [t for t in weights if t in asking] + stated_values(question)
            avoid = self._siblings_not_asked(question)
            lead = lead_clause(sents, scores, asked, list(weights), title=title, avoid=avoid, stress=stress, values=magnitudes(question))
        if title and quote.rstrip("。；") == title and lead:  # the heading alone is no evidence: quote the lead's sentence
            quote = next((s for s in sents if lead in s), quote)
        return _Part(item, f"【{self.label(item)}】", quote, lead, asked)

    def _part_for(self, item: Item, cited: Scored, aggregate: bool, limit: int) -> _Part:
        """The quote and lead of an item cited for one question of a message that asks several,
        chosen by that question's words and meaning (in the reply's form: a list line or not)."""
        intent = dataclasses.replace(detect_intent(cited.question), aggregate=aggregate)
        words = self.features.terms(cited.question).alternatives()
        asked = _asked(cited.question, intent)
        return self._part(item, cited.question, intent, words, words, cited.qvec, asked, limit=limit)

    def _siblings_not_asked(self, question: str) -> list[str]:
        """Terms of the data's ``distinct`` groups that stand for another case than the question's
        own (市级 when it asks about 省级): a lead about that case answers something else."""
        named = [g for g in self.lexicon.knowledge.distinct if any(t in question for t in g)]
        return [t for g in named for t in g if t not in question and not any(t in q for q in g if q in question)]

    def _single(self, p: _Part) -> list[str]:
        """Lead, then the evidence when it adds to the lead, then where to go."""
        lines = []
        lead = lead_line(p.lead, p.tag, p.item.departments, p.asked)
        if lead:
            lines.append(lead)
        if not lead or _adds(p.quote, p.lead):
            lines.append(f"原文：{p.quote}{p.tag}" if lead else f"{p.quote}{p.tag}")
        depts = go_to(p.item.departments)
        if depts and not (p.asked.department and lead):
            lines.append(f"办理部门：{depts}")
        return lines

    def _several(self, parts: list[_Part]) -> list[str]:
        """A precise question answered by two items: both leads in the first line when both items have
        one and they fit (the ranker is not sure which one answers), else the first item's; then both quotes."""
        leads = [lead_line(p.lead, p.tag, p.item.departments, p.asked) for p in parts]
        if all(leads) and sum(map(len, leads)) <= SUMMARY_MAX_CHARS:
            lines = ["；".join(ln.rstrip("。") for ln in leads) + "。"]
        else:
            lines = [leads[0]] if leads[0] else []
        lines.append("相关规定：")
        for i, p in enumerate(parts):
            head = f"{p.item.title}：" if isinstance(p.item, Measure) and not p.quote.startswith(p.item.title) else ""
            depts = go_to(p.item.departments)
            # Circled numerals, not digits: list numbers must not look like claims to the grounding check.
            lines.append(f"{'①②③④⑤⑥⑦⑧⑨⑩'[i]} {head}{p.quote}{p.tag}" + (f"（办理部门：{depts}）" if depts else ""))
        return lines

    def _aggregate(self, parts: list[_Part]) -> list[str]:
        """ "What can I get as a …": one line per item — title, its key clause, tag — grouped by kind of benefit."""
        knowledge = self.lexicon.knowledge
        entries = []
        for p in parts:
            # The quoted sentence when it is short enough for one line, else its key clause.
            key = p.quote.rstrip("。；") if len(p.quote) <= AGGREGATE_LINE_CHARS or not p.lead else p.lead
            title = p.item.title if isinstance(p.item, Measure) else p.item.heading
            line = f"{title}：{key}{p.tag}" if key and not key.startswith(title) else f"{key or title}{p.tag}"
            entries.append((benefit_kind(p.item, key, knowledge.benefits), line))
        who = "；".join(f"{p.tag}{go_to(p.item.departments)}" for p in parts if p.item.departments)
        lines = grouped_lines(entries, knowledge.benefit_order)
        kinds = [ln.rstrip("：") for ln in lines if not ln.startswith("· ")]
        # A count and the kinds first, for someone listening on the phone; numerals in words, since
        # a digit would be a claim for the grounding check.
        named = [k for k in kinds if k != OTHER]
        count = cn_count(len(parts)) if len(parts) <= 10 else "多"
        head = f"与您相关的规定有{count}条" + (f"，涉及{'、'.join(named)}{'等' if OTHER in kinds else ''}：" if named else "：")
        summary = _summary(parts)
        return [*([summary] if summary else []), head, *lines, *([f"办理部门：{who}"] if who else [])]

    def _current_first(self, cited: Sequence[Scored], today: _dt.date) -> list[Item]:
        """The cited items, those of a document in force first when they are likely answers too (the
        ranker gives them better than even odds): two documents saying different things on the question."""
        expired = {sc.hit.item.key for sc in cited if self.corpus.document(sc.hit.item.doc_id).in_force(today) is False}
        current = [sc for sc in cited if sc.hit.item.key not in expired and sc.p >= 0.5]
        if not expired or not current:
            return [sc.hit.item for sc in cited]
        return [sc.hit.item for sc in current] + [sc.hit.item for sc in cited if sc not in current]

    def _superseded(self, parts: list[_Part], today: _dt.date) -> list[str]:
        """When items of a document in force and of an expired one are cited together, say which one holds."""
        docs = {p.item.doc_id: self.corpus.document(p.item.doc_id) for p in parts}
        current = [d for d in docs.values() if d.in_force(today)]
        expired = [p for p in parts if docs[p.item.doc_id].in_force(today) is False]
        if not current or not expired:
            return []
        old = "、".join(dict.fromkeys(p.tag for p in expired))
        return [f"提示：{old}所在文件已过有效期；与现行的《{current[0].title}》不一致之处，以现行文件为准。"]

    def _notes(self, parts: list[_Part], intent: Intent, today: _dt.date) -> list[str]:
        """Passed deadlines of what was quoted (or asked about), and an expired document."""
        notes = []
        for p in parts:
            note = self.deadline_note(p.item, today)
            if note and (intent.deadline or any(d.clause and d.clause in p.quote + p.lead for d in getattr(p.item, "deadlines", ()))):
                notes.append(note if len(parts) == 1 else f"{p.tag}{note}")
        for doc_id in dict.fromkeys(p.item.doc_id for p in parts):
            dn = self.document_note(self.corpus.document(doc_id), today)
            if dn:
                notes.append(dn)
        return notes

    def related_reply(self, question: str, hits: Sequence[Hit], decision: Decision) -> Reply:
        """ "未找到直接规定" with up to three items that may be related: suggestions, not citations."""
        related = [self.citation(s.hit.item, "") for s in decision.related]
        # Titles with digits would read as claims no citation backs; the tag alone names those items.
        lines = [f"· 【{c.label}】" + ("" if re.search(r"\d", c.title) else c.title) for c in related]
        text = (
            "未找到直接规定：已收录的政策文件中没有直接回答这个问题的条款。以下条款可能相关，仅供参考：\n"
            + "\n".join(lines)
            + "\n如需确认，建议拨打12345政务服务便民热线咨询相关部门。"
        )
        return Reply(text, False, [], list(hits), question=question, related=related, confidence=decision.confidence)


def _summary(parts: Sequence[_Part]) -> str:
    """An aggregate answer's first line: the key clauses of its most likely items (the ranker's
    order), for someone who reads or hears no further."""
    picked: list[str] = []
    for p in parts[:SUMMARY_ITEMS]:
        piece = f"{p.lead}{p.tag}" if p.lead else ""
        if piece and (not picked or sum(map(len, picked)) + len(piece) <= SUMMARY_MAX_CHARS):
            picked.append(piece)
    return f"主要有：{'；'.join(picked)}。" if picked else ""


def _adds(quote: str, lead: str) -> bool:
    """Whether the quote tells more than the lead: ``EVIDENCE_MIN_EXTRA`` characters beyond the lead's
    own sentences and clauses (wherever in the quote they stand), or a figure the lead lacks."""
    rest = quote
    for piece in sorted([lead, *sentences(lead)], key=len, reverse=True):
        rest = rest.replace(piece.rstrip("。；，"), "")
    return len(rest.strip("。；，：！？ ")) > EVIDENCE_MIN_EXTRA or bool(_figures(quote) - _figures(lead))


def _with_figure(quote: str, sents: Sequence[str], scores: Sequence[float]) -> str:
    """An aggregate line's quote without an amount or rate, joined (in document order) by the item's
    best-scoring sentence that states one and scores above zero (by the question's words or meaning),
    while both fit a line."""
    if _MONEY_S.search(quote):
        return quote
    options = [(sc, i) for i, (s, sc) in enumerate(zip(sents, scores, strict=True)) if sc > 0 and _MONEY_S.search(s) and s not in quote]
    options = [(sc, i) for sc, i in options if len(quote) + len(sents[i]) <= AGGREGATE_LINE_CHARS]
    if not options:
        return quote
    i = max(options)[1]
    first = next((j for j, s in enumerate(sents) if s in quote), len(sents))
    return sents[i] + quote if i < first else quote + sents[i]


def _figures(text: str) -> set[str]:
    """The amounts, dates and counts a text states: a quote that adds one to the lead is shown."""
    return {m.group() for m in _NUM.finditer(text)}


def _zscores(values: Sequence[float]) -> list[float]:
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return [(v - mean) / sd for v in values]


def not_found(question: str, hits: Sequence[Hit], reason: str = "", *, confidence: float | None = None) -> Reply:
    """The "未找到" reply: no citations, a pointer to the hotline."""
    why = reason or "现有政策文件中没有找到能回答这个问题的条款"
    text = f"未找到：{why}。本助手只依据已收录的政策文件原文作答，不作推测。建议拨打12345政务服务便民热线咨询相关部门。"
    return Reply(text, False, [], list(hits), question=question, confidence=confidence)


def grounding_violations(reply: Reply, corpus: Corpus) -> list[str]:
    """Numbers (with their units) in the reply text that no cited item contains.

    Citation tags like 【第25条】 are not claims and are skipped, and so is the
    citizen hotline 12345.
    """
    cited_text = ""
    for c in reply.citations:
        doc = corpus.document(c.doc_id or None)
        if c.item is not None:
            cited_text += doc.measure(c.item).text
        else:
            cited_text += "".join(s.text for s in doc.sections if s.heading == c.title or s.key_name == "facts")
    body = _TAG.sub("", reply.text)
    bad = []
    for m in _NUM.finditer(body):
        token = m.group(0)
        if token in SERVICE_NUMBERS or token in cited_text:
            continue
        bad.append(token)
    return bad
