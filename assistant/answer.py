"""Extractive, grounded answers: quote the sentences that answer, cite them, or say 未找到.

No LLM is involved. For each question the answerer

1. decides from the evidence (both retrieval signals and how many of the
   question's key terms the item really contains) whether the documents
   answer it at all;
2. picks the items to cite: one for a precise question, several for "what
   can I get as a …" questions;
3. quotes, from each item, the one or two sentences that best match the
   question (sentences with amounts or dates first when those were asked);
4. adds the responsible departments, and a note when a stated deadline has
   passed or the document has expired;
5. checks that every number in the text appears in a cited item
   (``grounding_violations``) before returning.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .lexicon import Lexicon
from .types import Citation, Corpus, Document, Hit, Item, Measure, Reply

SHORT_ITEM_CHARS = 120  # items this short are quoted whole
MAX_QUOTE_CHARS = 240  # a second sentence is added only while the quote stays this short
_MONEY_S = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?元|\d+(?:\.\d+)?%")
_DATE_S = re.compile(r"\d{4}年|\d{1,2}月底")
UNKNOWN_LIMIT = 0.5  # refuse when half the question's content is about things no document names
SERVICE_NUMBERS = frozenset({"12345"})  # the citizen hotline may be suggested without a citation

_AMOUNT_Q = re.compile(r"多少|几万|几千|金额|额度|限额|钱|补贴|奖励|补助|资金|奖补|比例|税率|百分之|%|减免|减按|扣减|贴息|给啥|给什么")
_DEADLINE_Q = re.compile(
    r"什么时候|啥时候|何时|哪年|几月|期限|截止|到期|过期|有效|还算数|还能|延长|多久|几年|时间|日期|之前|以前|前完成|还有吗|还在|结束"
)
_DEPT_Q = re.compile(r"哪个部门|什么部门|哪个单位|哪些部门|部门|找谁|找哪|去哪|哪里办|在哪办|哪儿办|负责|归谁|谁管|转接|转给|转哪|责任单位")
_DOC_Q = re.compile(
    r"文号|发文|印发|哪个文件|什么文件|文件名|文件叫|有效期|实施|施行|生效|谁发|发布|出台|这个文件|本文件|这份|方案.{0,6}(有效|实施|多久|到期)|"
    r"政策.{0,4}(到期|过期|有效)|还有效|多少年"
)
# Questions about the document itself (its number, issuer, dates, validity), not about a measure.
_DOC_STRONG = re.compile(
    r"文号|发文|印发|有效期|施行|生效|实施日期|哪天.{0,4}实施|什么时候.{0,4}(开始实施|开始执行|到期|过期|失效)|"
    r"(文件|方案|办法).{0,6}(到期|过期|失效|还有效|有效吗|多久|几年|谁发|哪个单位|哪个部门发|制定)|哪个单位发|谁发的|发布单位|发文机关"
)
# "What can a … get" questions: a person or business asking about every benefit that applies.
_AGG_Q = re.compile(
    r"有哪些|都有(啥|什么|哪些)|哪些(优惠|政策|扶持|补贴|支持|帮扶|便利|好处)|能享受(哪些|什么|啥)|可以享受(哪些|什么)|"
    r"^我是|^我们是|^我们公司|^我们企业|^我新|^我刚|^刚开|^我想开|^我想在|作为一?(个|名|家)"
)
_NUM = re.compile(r"\d+(?:\.\d+)?(?:%|万元|亿元|元|万|亿|年|个月|月|日|小时|个工作日|个|家|户|人|套|份|平方米|倍)?")
_TAG = re.compile(r"【[^【】]{1,40}】")
_SENT = re.compile(r"(?<=[。；])")


@dataclass(frozen=True)
class Intent:
    """What kind of answer the question wants."""

    amount: bool
    deadline: bool
    department: bool
    docfact: bool
    aggregate: bool


def detect_intent(question: str) -> Intent:
    return Intent(
        amount=bool(_AMOUNT_Q.search(question)),
        deadline=bool(_DEADLINE_Q.search(question)),
        department=bool(_DEPT_Q.search(question)),
        docfact=bool(_DOC_Q.search(question)),
        aggregate=bool(_AGG_Q.search(question)),
    )


@dataclass(frozen=True)
class Evidence:
    """How well one hit supports the question (see ``support``)."""

    hit: Hit
    coverage: float  # share of the question's key terms found in the item
    matched_terms: tuple[str, ...]


def sentences(text: str) -> list[str]:
    """Split an item's text into sentences (。 and ；), keeping the punctuation."""
    out = []
    for s in _SENT.split(text):
        s = s.strip()
        if s:
            out.append(s)
    return out


def presence(term: str, text: str, lexicon: Lexicon, groups: dict[str, tuple[str, ...]]) -> float:
    """1 if ``term`` (or an official equivalent) is in ``text``, 0.5 if only a part is, else 0."""
    if term in text or any(a in text for a in groups.get(term, ())):
        return 1.0
    if any(p in text for p in lexicon.parts(term)):
        return 0.5
    return 0.0


def _searchable(item: Item) -> str:
    text = item.text + "".join(item.departments)
    if isinstance(item, Measure):
        text += item.category
    else:
        text += item.heading
    return text


def _fmt(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class Answerer:
    """Builds a :class:`Reply` from retrieved hits. Stateless apart from its inputs."""

    def __init__(self, corpus: Corpus, lexicon: Lexicon, *, multi_doc_labels: bool | None = None) -> None:
        self.corpus = corpus
        self.lexicon = lexicon
        self.known_text = "".join(_searchable(m) for m in corpus.measures) + "".join(_searchable(s) for s in corpus.sections)
        self.multi = len(corpus.documents) > 1 if multi_doc_labels is None else multi_doc_labels

    # --- evidence ------------------------------------------------------------------

    def key_terms(self, question: str) -> tuple[list[str], dict[str, tuple[str, ...]]]:
        """Content words of the question and, per word, official terms that may stand for it."""
        terms = self.lexicon.key_terms(question)
        groups: dict[str, tuple[str, ...]] = {}
        for key, official in self.lexicon.synonyms.items():
            if key in question:
                hit = [t for t in terms if t in key or key in t]
                for t in hit:
                    groups[t] = groups.get(t, ()) + official
                if not hit:
                    terms.append(key)
                    groups[key] = official
        return terms, groups

    def coverage(self, terms: Sequence[str], groups: dict[str, tuple[str, ...]], text: str) -> tuple[float, tuple[str, ...]]:
        total = sum(len(t) for t in terms)
        got = [(t, presence(t, text, self.lexicon, groups)) for t in terms]
        score = sum(len(t) * p for t, p in got) / total if total else 0.0
        return score, tuple(t for t, p in got if p == 1.0)

    def evidence(self, question: str, hits: Sequence[Hit]) -> list[Evidence]:
        return self._evidence(*self.key_terms(question), hits)

    def _evidence(self, terms: Sequence[str], groups: dict[str, tuple[str, ...]], hits: Sequence[Hit]) -> list[Evidence]:
        out = []
        for h in hits:
            cov, matched = self.coverage(terms, groups, _searchable(h.item))
            out.append(Evidence(h, cov, matched))
        return out

    def unknown_share(self, question: str) -> float:
        """Share (by characters) of the question's content words that no document mentions at all.

        A question mostly about things the corpus never names (驾照, 公积金, 双色球) is not covered,
        however well some item matches its remaining words.
        """
        return self._unknown_share(*self.key_terms(question))

    def _unknown_share(self, terms: Sequence[str], groups: dict[str, tuple[str, ...]]) -> float:
        total = sum(len(t) for t in terms)
        if not total:
            return 1.0
        missing = sum(len(t) * (1 - presence(t, self.known_text, self.lexicon, groups)) for t in terms)
        return missing / total

    @staticmethod
    def is_supported(ev: Evidence, rank: int, signals: frozenset[str] = frozenset({"dense", "bm25"})) -> bool:
        """Enough evidence that the item answers the question.

        e5 cosine scores are bunched (right ≈ 0.93, wrong ≈ 0.87), so no single
        threshold on them is used: the item must be found by both signals, or by
        an explicit reference, and contain a good share of the question's terms.
        """
        h = ev.hit
        if "ref" in h.sources:
            return True
        # "Both" means every signal that ran: a BM25-only or dense-only run must not refuse everything.
        both = signals <= set(h.sources)
        ranks = [h.ranks.get(s, 99) for s in signals]
        dense_rank, bm25_rank = max(ranks), min(ranks)
        if both and ev.coverage >= 0.5:
            return True
        if both and min(dense_rank, bm25_rank) <= 2 and ev.coverage >= 0.34:
            return True
        return rank == 0 and both and max(ranks) <= 3 and ev.coverage >= 0.25

    # --- answer text ---------------------------------------------------------------

    def label(self, item: Item) -> str:
        doc = self.corpus.document(item.doc_id)
        base = item.label
        return f"{doc.short_title}{base}" if self.multi else base

    def best_sentences(
        self, item: Item, question: str, intent: Intent, terms: Sequence[str], limit: int = 2, focus: Sequence[str] = ()
    ) -> list[str]:
        """The sentences of ``item`` that best answer ``question``, in document order.

        A term counts more the fewer sentences of the item contain it (a word in
        every sentence tells them apart no better than none), so "预付款" picks the
        预付款 sentence of a long procurement measure. Short items are quoted whole.
        """
        sents = sentences(item.text)
        if not sents:
            return []
        if len(item.text) <= SHORT_ITEM_CHARS:
            return sents
        own = set(self.lexicon.key_terms(question)) | set(focus)
        terms = list(dict.fromkeys(t for t in [*terms, *focus] if t))
        df = {t: sum(t in s for s in sents) for t in terms}
        # This turn's own words count double; official expansions of them count half, so 退税 prefers
        # the sentence that says 退税 over one that only says 留抵退税.
        weight = {t: (2.0 if t in focus else 1.0) * (1.0 if t in own else 0.5) for t in terms}
        scored = []
        for i, s in enumerate(sents):
            score = sum(weight[t] * len(t) / df[t] for t in terms if df[t] and t in s)
            score += 0.5 * sum(
                len(p) / max(1, sum(p in x for x in sents)) for t in terms if t not in s for p in self.lexicon.parts(t) if p in s
            )
            if intent.amount and _MONEY_S.search(s):
                score += 1.5
            if intent.deadline and _DATE_S.search(s):
                score += 2.0
            if i == 0:
                score += 0.3  # the heading sentence names the measure or requirement
            scored.append((score, i, s))
        ranked = sorted(scored, key=lambda x: (-x[0], x[1]))
        best = ranked[0]
        chosen = [best]
        covered = {t for t in terms if t in best[2]}
        while len(chosen) < limit:
            # Add the sentence that covers most of the question's words still uncovered (or, after a
            # bare heading, the next best sentence), while the quote stays short.
            room = MAX_QUOTE_CHARS - sum(len(c[2]) for c in chosen)
            heading_only = len(chosen) == 1 and chosen[0][1] == 0  # a bare heading answers nothing
            options = []
            for cand in ranked:
                if cand in chosen or len(cand[2]) > room or cand[0] <= 0.3:
                    continue
                gain = sum(weight[t] * len(t) for t in terms if t in cand[2] and t not in covered and t in own)
                if gain > 0 or heading_only:
                    options.append((gain, cand[0], cand))
            if not options:
                break
            pick = max(options, key=lambda o: (o[0], o[1]))[2]
            chosen.append(pick)
            covered |= {t for t in terms if t in pick[2]}
        if intent.amount:
            # Parallel amounts (国家级…50万元 / 省级…30万元) answer together when the question names no level.
            for cand in ranked:
                room = MAX_QUOTE_CHARS - sum(len(c[2]) for c in chosen)
                if cand in chosen or len(cand[2]) > min(room, 80) or not _MONEY_S.search(cand[2]):
                    continue
                twin = any(_MONEY_S.search(c[2]) and {t for t in own if t in c[2]} == {t for t in own if t in cand[2]} for c in chosen)
                if twin and {t for t in own if t in cand[2]}:
                    chosen.append(cand)
        return [s for _, _, s in sorted(chosen, key=lambda x: x[1])]

    def deadline_note(self, item: Item, today: _dt.date) -> str:
        if not isinstance(item, Measure):
            return ""
        passed = [d for d in item.deadlines if d.date < today]
        if not passed:
            return ""
        texts = "、".join(dict.fromkeys(d.text for d in passed))
        who = "、".join(d for d in item.departments if not d.startswith("各"))[:40] or "责任部门"
        return f"提示：本条所述期限（{texts}）已过，相关措施是否延续或已调整，请向{who}核实。"

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
                f"自{_fmt(doc.effective)}起实施，有效期{_cn(doc.validity_years)}年，至{_fmt(doc.expires)}，{status}。"
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

    def answer(self, question: str, focus: str, hits: Sequence[Hit], today: _dt.date) -> Reply:
        """Answer ``question`` (resolved with the history) from ``hits``.

        ``focus`` is what the user typed this turn; its words decide which
        sentences to quote, so "那国家级的呢？" quotes the 国家级 sentence.
        """
        intent = detect_intent(focus + " " + question)
        terms, groups = self.key_terms(question)  # once: evidence, the unknown share and quoting all use them
        evidence = self._evidence(terms, groups, hits)
        fterms, fgroups = self.key_terms(focus)
        focus_terms = fterms + [o for t in fterms for o in fgroups.get(t, ())]
        all_terms = terms + [o for t in terms for o in groups.get(t, ())]

        top_is_doc = bool(evidence) and evidence[0].hit.item.key.split("#")[-1] in ("facts", "validity")
        strong_doc = bool(_DOC_STRONG.search(focus + " " + question))
        weak_top = not evidence or "ref" not in evidence[0].hit.sources and evidence[0].coverage < 0.75
        if (intent.docfact and top_is_doc) or (strong_doc and (weak_top or top_is_doc)):
            doc = self.corpus.document(evidence[0].hit.item.doc_id if evidence else None)
            facts = next(s for s in doc.sections if s.key_name == "facts")
            text = self.docfact_text(doc, today)
            return Reply(text, True, [self.citation(facts, text)], list(hits), question=question)

        if self._unknown_share(terms, groups) >= UNKNOWN_LIMIT and (not evidence or evidence[0].coverage < 0.5):
            return not_found(question, hits)
        chosen = self.choose(evidence, intent)
        if not chosen:
            return not_found(question, hits)
        lines, cites, notes = [], [], []
        for ev in chosen:
            item = ev.hit.item
            quote_s = self.best_sentences(item, question, intent, all_terms, limit=1 if len(chosen) > 2 else 2, focus=focus_terms)
            quote = "".join(quote_s)
            tag = f"【{self.label(item)}】"
            depts = "、".join(item.departments)
            if len(chosen) == 1:
                lines.append(f"{quote}{tag}")
                if depts:
                    lines.append(f"办理部门：{depts}")
            else:
                head = f"{item.title}：" if isinstance(item, Measure) and not quote.startswith(item.title) else ""
                # Circled numerals, not digits: list numbers must not look like claims to the grounding check.
                lines.append(f"{'①②③④⑤⑥⑦⑧⑨⑩'[len(lines)]} {head}{quote}{tag}" + (f"（办理部门：{depts}）" if depts else ""))
            note = self.deadline_note(item, today)
            if note and (intent.deadline or any(d.clause and d.clause in quote for d in getattr(item, "deadlines", ()))):
                notes.append(note if len(chosen) == 1 else f"{tag}{note}")
            cites.append(self.citation(item, quote))
        for doc_id in dict.fromkeys(ev.hit.item.doc_id for ev in chosen):
            dn = self.document_note(self.corpus.document(doc_id), today)
            if dn:
                notes.append(dn)
        if len(chosen) > 1:
            lines.insert(0, "与您的问题相关的规定有：")
        text = "\n".join(lines + notes)
        return Reply(text, True, cites, list(hits), notes=notes, question=question)

    def choose(self, evidence: Sequence[Evidence], intent: Intent) -> list[Evidence]:
        """The items to cite: the best supported one, plus close seconds (several for aggregate questions)."""
        signals = frozenset(s for e in evidence for s in e.hit.sources if s != "ref") or frozenset({"dense", "bm25"})
        supported = [(i, e) for i, e in enumerate(evidence) if self.is_supported(e, i, signals)]
        if not supported:
            return []
        top_i, top = supported[0]
        refs = [e for _, e in supported if "ref" in e.hit.sources]
        if refs:
            return refs[:3]
        out = [top]
        if intent.aggregate:
            # "What can a … get": every item both signals found near the top that shares the question's terms.
            for e in evidence:
                if len(out) >= 5:
                    break
                both = signals <= set(e.hit.sources)
                if e is not top and both and e.hit.score >= 0.8 * top.hit.score and e.coverage >= 0.3 and _same_kind(e, top):
                    out.append(e)
            return out
        for _, e in supported[1:]:
            if len(out) >= 2:
                break
            close = e.hit.score >= 0.92 * top.hit.score
            strong = e.coverage >= max(0.6, top.coverage)
            if close and strong and _same_kind(e, top):
                out.append(e)
        return out


def _same_kind(a: Evidence, b: Evidence) -> bool:
    return isinstance(a.hit.item, Measure) == isinstance(b.hit.item, Measure)


def not_found(question: str, hits: Sequence[Hit], reason: str = "") -> Reply:
    """The "未找到" reply: no citations, a pointer to the hotline."""
    why = reason or "现有政策文件中没有找到能回答这个问题的条款"
    text = f"未找到：{why}。本助手只依据已收录的政策文件原文作答，不作推测。建议拨打12345政务服务便民热线咨询相关部门。"
    return Reply(text, False, [], list(hits), question=question)


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


def _cn(n: int) -> str:
    return "零一二三四五六七八九十"[n] if 0 <= n <= 10 else str(n)
