"""Evidence features: how well each retrieved item answers the question, as numbers.

The answer decision (``decide.py``) is a classifier fitted on these, so nothing here is a
threshold and nothing names a word of one document. Every feature is computed from

- the question's key terms, each weighted by how rare it is in the corpus (IDF over items) and
  how specific it is in general Chinese (jieba's dictionary frequencies): 补贴 is common in both,
  养老院 is rare in general and absent from a business-environment corpus;
- where each term occurs in the item — exactly, through the corpus's synonym data, partly (a
  sub-word), or in the same sentence as the others;
- the two retrievers' scores and ranks, and the best sentence-level e5 similarity;
- whether the item has what the question asks for (an amount, a percentage, a count or
  duration, a date, a procedure) in a sentence about the question's terms;
- sibling terms of the data (``distinct`` groups): a question about 市级 is not answered by an
  item that names only 国家级 and 省级; places of the gazetteer that the item never names;
- how the nearest labelled training questions of the item's document went (``memory.py``):
  answerable or not, and answered by this item or another; the only inputs learned from questions
  rather than read from the item.

What it does not do: understand meaning beyond these signals. A near miss whose every term the
item contains (but in another relation) looks answerable here.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import question_form
from .index import LoadedIndex
from .lexicon import Lexicon
from .memory import QuestionMemory
from .textutil import sentences, stated_values
from .types import Corpus, Hit, Item, Measure

# What the question asks for. Chinese question words, not words of any document.
_WANTS = {
    kind: re.compile("|".join(words.split()))
    for kind, words in {
        "money": "多少钱 几万 几千 多少万 [补奖给发贴拿领返退]多少 金额 额度 多少补贴 多少奖励 几毛 多少块 "
        "最多.{0,4}多少 最高.{0,4}多少 标准是多少",
        "percent": "比例 百分之 几成 百分比 % 多少个点 几个点 几个百分点 税率 费率 折扣",
        # 好几个/这几个 mean "several" / "these few": they do not ask for a count.
        "count": "(?<![好这那])几(?:个|家|次|枚|份|户|人|项)(?!月) 多少个 多少家 多少份 多少户 多少人",
        "duration": "几天 多少天 几年 多少年 多久 多长时间 几个月 几小时 多少小时 几个工作日 多少个工作日 期限多长",
        "date": "什么时候 啥时候 何时 哪天 哪一天 哪年 几月 截止 截至 到期 期限 之前 以前 还有效 过期",
        "procedure": "手续 流程 步骤 怎么申请 如何申请 咋申请 怎么办理 如何办理 咋办理 怎么报 如何报 程序",
        "materials": "材料 资料 需要准备 要准备 需要带 要带 带什么 提交什么 提供什么 证明",
        "fee": "收费 收不收 要钱 花钱 费用 免费 多少费 交费 缴费",
        "docfact": "文号 发文 印发 哪个文件 什么文件 文件名 有效期 施行 生效 谁发 哪个单位发 发布单位 出台 "
        "(?:文件|方案|办法|政策|这个|本)[^，。？?]{0,6}(?:到期|过期|失效|有效|实施|执行|管几年|多久)",
    }.items()
}
_MONEY = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?元|\d+万(?=[，。；]|奖励|补贴)")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%|百分之|个百分点|减半|[一二三四五六七八九]成")
_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百]+)\s*"
_COUNT = re.compile(_NUM + r"(?:个|家|次|枚|份|户|人|项|张|套)")
_DURATION = re.compile(
    _NUM + r"(?:个工作日|工作日|天|日内|小时|个月|年内)|(?<!\d)\d{1,2}\s*年(?![底前末])|[一二两三四五六七八九十]年|当场|即时|当天|马上"
)
_DATE = re.compile(r"\d{4}年|\d{1,2}月底|\d{1,2}月\d{1,2}日|年底|期限|有效期")
_PROCEDURE = re.compile(r"流程|程序|手续|步骤|环节|申请|办理|受理|申报|登记|审批")
_MATERIALS = re.compile(r"材料|资料|提交|提供|证明|证照|表单|一套")
_FEE = re.compile(r"免费|收费|费用|免收|减免|不收|承担|\d+(?:\.\d+)?(?:万|亿)?元")
# The question speaks to the assistant as an agent and asks it to do something other than answer.
_ADDRESSES = re.compile(
    r"(?:你|您)(?:就是|现在是|现在就是|来当|扮演|假装|作为)|(?:帮我|给我|请你|你给我)(?:写|编|生成|起草|翻译|回复|查一?下|查查)"
)

FEATURES: tuple[str, ...] = (
    "cov_idf",
    "cov_spec",
    "cov_exact",
    "sent_cov",
    "miss_idf_max",
    "miss_spec_max",
    "miss_both_max",
    "miss_noun_idf",
    "miss_noun_spec",
    "miss_verb_idf",
    "abbrev_share",
    "unknown_share",
    "unknown_spec_max",
    "n_terms",
    "sent_max",
    "sent_rel",
    "dense_rel",
    "bm25_rel",
    "bm25_abs",
    "inv_dense_rank",
    "inv_bm25_rank",
    "inv_fused_rank",
    "both",
    "is_section",
    "is_facts",
    "docfact_q",
    "aggregate_q",
    "docfact_x_facts",
    "docfact_x_measure",
    "wants_money",
    "money_missing",
    "wants_percent",
    "percent_missing",
    "wants_count",
    "count_missing",
    "wants_duration",
    "duration_missing",
    "phrase_cov",
    "last_term_presence",
    "wants_date",
    "date_missing",
    "wants_procedure",
    "procedure_missing",
    "wants_materials",
    "materials_missing",
    "wants_fee",
    "fee_missing",
    "value_absent",
    "addresses_assistant",
    "sent_z",
    "distinct_conflict",
    "group_missing",
    "place_unknown",
    "place_not_in_item",
    "memory_vote",
    "memory_item",
    "memory_text",
)


@dataclass(frozen=True)
class Terms:
    """A question's key terms with their official alternatives and weights."""

    terms: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]  # term -> official terms that may stand for it
    idf: dict[str, float]  # 0..1, 1 = in no item of the corpus
    spec: dict[str, float]  # 0..1, general-language specificity (1 = rare or unknown word)
    known: dict[str, float]  # presence anywhere in the corpus: 1, 0.5 (a part), 0
    nouns: frozenset[str] = frozenset()  # terms tagged as nouns (who / what): the concepts an item must name
    phrases: tuple[tuple[str, str], ...] = ()  # neighbouring terms that form a phrase in the question
    last: str = ""  # the term nearest the end: usually what is asked about (…有补贴吗, …收费不)

    def alternatives(self) -> list[str]:
        """The terms and all their official alternatives, for sentence selection."""
        return list(dict.fromkeys([*self.terms, *(o for t in self.terms for o in self.groups.get(t, ()))]))


PHRASE_WINDOW = 4  # characters between two terms that still read as one phrase (人才发展补贴)


def _phrases(question: str, terms: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Pairs of key terms that stand next to each other in the question (at most one character apart)."""
    spans = sorted((question.find(t), t) for t in terms if t in question)
    out = []
    for (i, a), (j, b) in zip(spans, spans[1:], strict=False):
        if 0 <= j - (i + len(a)) <= 1:
            out.append((a, b))
    return tuple(out)


def wants(question: str) -> set[str]:
    """The kinds of answer the question's words ask for: money, percent, count, duration, date, …"""
    return {kind for kind, pattern in _WANTS.items() if pattern.search(question)}


def wants_document_facts(question: str) -> bool:
    """A question about the document itself: its number, issuer, dates or validity."""
    return bool(_WANTS["docfact"].search(question))


def is_aggregate(question: str) -> bool:
    """A "what can a … get" question, answered with every item that applies ("刚认定高企，区里能拿
    哪些奖补"); "我新开个体户能领多少补贴？" opens like one but asks for one figure. Learned from the
    train split (``assistant/question_form.py``)."""
    return question_form.current().asks_for_list(question)


def searchable(item: Item) -> str:
    """The text an item is checked against: its text, departments and heading."""
    extra = item.category if isinstance(item, Measure) else item.heading
    return item.text + "".join(item.departments) + extra


class FeatureExtractor:
    """Computes :data:`FEATURES` for (question, retrieved item) pairs over one corpus."""

    def __init__(self, corpus: Corpus, lexicon: Lexicon, index: LoadedIndex, memory: QuestionMemory | None = None) -> None:
        self.corpus = corpus
        self.lexicon = lexicon
        self.memory = memory or QuestionMemory.empty()
        items: list[Item] = [*corpus.sections, *corpus.measures]
        self._text = {it.key: searchable(it) for it in items}
        self._sents: dict[str, list[str]] = {it.key: sentences(it.text) for it in items}
        self._known_text = "".join(self._text.values())
        self._rows: dict[str, list[int]] = {}
        for row, (key, _) in enumerate(index.sentences):
            self._rows.setdefault(key, []).append(row)
        self._vectors = index.sentence_vectors
        self._n = max(1, len(items))
        self._df: dict[tuple[str, tuple[str, ...]], int] = {}
        self._abbrev: dict[str, re.Pattern[str]] = {}
        self._lock = threading.Lock()
        self._log_total = math.log(max(2, lexicon.general_total))

    @property
    def known_text(self) -> str:
        return self._known_text

    # --- the question -------------------------------------------------------------------

    def terms(self, question: str) -> Terms:
        """Key terms of ``question`` with synonyms, IDF and specificity."""
        tagged = self.lexicon.tagged_terms(question)
        terms = [w for w, _ in tagged]
        nouns = {w for w, tag in tagged if tag.startswith(("n", "j", "l", "i", "s")) or tag in ("vn", "eng")}
        groups: dict[str, tuple[str, ...]] = {}
        for key, official in self.lexicon.synonyms.items():
            if key not in question:
                continue
            hit = [t for t in terms if t in key or key in t]
            for t in hit:
                groups[t] = groups.get(t, ()) + official
            if not hit:
                terms.append(key)
                nouns.add(key)
                groups[key] = official
        for word, official in self.lexicon.suffix_matches(question):
            hit = [t for t in terms if t in word or word in t]
            for t in hit or [word]:
                if t not in terms:
                    terms.append(t)
                    nouns.add(t)
                groups[t] = groups.get(t, ()) + official
        idf = {t: self._idf(t, groups.get(t, ())) for t in terms}
        spec = {t: self._specificity(t) for t in terms}
        known = {t: self.presence(t, self._known_text, groups) for t in terms}
        last = max((t for t in terms if t in question), key=question.rfind, default="")
        return Terms(tuple(terms), groups, idf, spec, known, frozenset(nouns), _phrases(question, terms), last)

    def presence(self, term: str, text: str, groups: dict[str, tuple[str, ...]]) -> float:
        """1 if ``term`` (or an official equivalent) is in ``text``; 0.75 if it abbreviates a phrase
        there (社保 in 社会保险: its characters in order within a few characters); 0.5 if only a part
        (a sub-word) is there; else 0."""
        if term in text or any(a in text for a in groups.get(term, ())):
            return 1.0
        if self._abbreviation(term).search(text):
            return 0.75
        if any(p in text for p in self.lexicon.parts(term)):
            return 0.5
        return 0.0

    def _abbreviation(self, term: str) -> re.Pattern[str]:
        pattern = self._abbrev.get(term)
        if pattern is None:
            chars = [re.escape(c) for c in term]
            # Only 2–4 character Chinese terms abbreviate; others never match.
            ok = 2 <= len(term) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in term)
            pattern = re.compile(".{0,3}".join(chars) if ok else "(?!)")
            pattern = re.compile(f"(?={pattern.pattern})(?!{re.escape(term)})") if ok else pattern
            with self._lock:
                if len(self._abbrev) < 50_000:
                    self._abbrev[term] = pattern
        return pattern

    def _idf(self, term: str, alts: tuple[str, ...]) -> float:
        key = (term, alts)
        with self._lock:
            df = self._df.get(key)
        if df is None:
            df = sum(term in t or any(a in t for a in alts) for t in self._text.values())
            with self._lock:
                if len(self._df) < 100_000:
                    self._df[key] = df
        return math.log((self._n + 1) / (df + 1)) / math.log(self._n + 1)

    def _specificity(self, term: str) -> float:
        """-log p(term) in general Chinese, scaled to 0..1; a word jieba's dictionary lacks is 1."""
        f = self.lexicon.general_frequency(term)
        return 1.0 if f <= 0 else min(1.0, (self._log_total - math.log(f)) / self._log_total)

    # --- pairs ------------------------------------------------------------------------

    def features(self, question: str, hits: Sequence[Hit], qvec: np.ndarray | None, terms: Terms | None = None) -> np.ndarray:
        """One row of :data:`FEATURES` per hit (in the order of ``hits``)."""
        terms = terms or self.terms(question)
        q = self._question_level(question, terms)
        sims = [self._sentence_sims(h.item.key, qvec) for h in hits]
        every = self._vectors @ qvec if qvec is not None and self._vectors.size else np.zeros(1)
        mu, sd = float(every.mean()), float(every.std()) or 1.0
        best_sim = max((max(s) if s else 0.0 for s in sims), default=0.0)
        dense_top = max((h.ranks.get("dense_score", 0.0) for h in hits), default=0.0)
        bm25_top = max((h.ranks.get("bm25_score", 0.0) for h in hits), default=0.0)
        votes, items, texts = self.memory.columns(qvec, [h.item.key for h in hits], [h.item.doc_id for h in hits], question)
        rows = []
        for i, (h, sim) in enumerate(zip(hits, sims, strict=True)):
            f = dict(q)
            f["memory_vote"], f["memory_item"], f["memory_text"] = votes[i], items[i], texts[i]
            f.update(self._lexical(h.item, terms))
            f.update(self._types(h.item, terms, q, sim))
            f.update(self._relations(question, h.item))
            top = max(sim) if sim else 0.0
            f["sent_max"], f["sent_rel"] = top, top - best_sim
            f["sent_z"] = (top - mu) / sd if sim else 0.0
            dense = h.ranks.get("dense_score")
            f["dense_rel"] = (dense - dense_top) if dense is not None else -0.2
            bm25 = h.ranks.get("bm25_score", 0.0)
            f["bm25_rel"] = bm25 / bm25_top if bm25_top > 0 else 0.0
            f["bm25_abs"] = math.log1p(bm25)
            f["inv_dense_rank"] = 1 / h.ranks["dense"] if "dense" in h.ranks else 0.0
            f["inv_bm25_rank"] = 1 / h.ranks["bm25"] if "bm25" in h.ranks else 0.0
            f["inv_fused_rank"] = 1 / (i + 1)
            f["both"] = float("dense" in h.sources and "bm25" in h.sources)
            is_facts = not isinstance(h.item, Measure) and h.item.key.split("#")[-1] in ("facts", "validity")
            f["is_section"], f["is_facts"] = float(not isinstance(h.item, Measure)), float(is_facts)
            f["docfact_x_facts"] = q["docfact_q"] * is_facts
            f["docfact_x_measure"] = q["docfact_q"] * isinstance(h.item, Measure)
            rows.append([f[name] for name in FEATURES])
        return np.asarray(rows, dtype=np.float64).reshape(len(hits), len(FEATURES))

    def _question_level(self, question: str, terms: Terms) -> dict[str, float]:
        total = sum(len(t) for t in terms.terms)
        unknown = [t for t in terms.terms if terms.known[t] < 1]
        out = {
            "unknown_share": sum(len(t) * (1 - terms.known[t]) for t in terms.terms) / total if total else 1.0,
            "unknown_spec_max": max((terms.spec[t] * (1 - terms.known[t]) for t in unknown), default=0.0),
            "n_terms": math.log1p(len(terms.terms)),
            "place_unknown": float(any(p in question and p not in self._known_text for p in self._places(question))),
            "addresses_assistant": float(bool(_ADDRESSES.search(question))),
        }
        out["aggregate_q"] = question_form.current().proba(question)
        for kind, pattern in _WANTS.items():
            out[f"wants_{kind}" if kind != "docfact" else "docfact_q"] = float(bool(pattern.search(question)))
        return out

    def _lexical(self, item: Item, terms: Terms) -> dict[str, float]:
        text = self._text[item.key]
        pres = {t: self.presence(t, text, terms.groups) for t in terms.terms}
        idf_sum = sum(terms.idf.values()) or 1.0
        spec_sum = sum(terms.spec.values()) or 1.0
        miss = [t for t in terms.terms if pres[t] < 1]
        nouns = [t for t in miss if t in terms.nouns]
        verbs = [t for t in miss if t not in terms.nouns]
        return {
            "miss_noun_idf": max((terms.idf[t] * (1 - pres[t]) for t in nouns), default=0.0),
            "miss_noun_spec": max((terms.spec[t] * (1 - pres[t]) for t in nouns), default=0.0),
            "miss_verb_idf": max((terms.idf[t] * (1 - pres[t]) for t in verbs), default=0.0),
            "abbrev_share": sum(pres[t] == 0.75 for t in terms.terms) / max(1, len(terms.terms)),
            "cov_idf": sum(terms.idf[t] * pres[t] for t in terms.terms) / idf_sum,
            "cov_spec": sum(terms.spec[t] * pres[t] for t in terms.terms) / spec_sum,
            "cov_exact": sum(terms.idf[t] * (pres[t] == 1) for t in terms.terms) / idf_sum,
            "sent_cov": self._sentence_coverage(item, terms, idf_sum),
            "phrase_cov": self._phrase_coverage(text, terms),
            "last_term_presence": pres[terms.last] if terms.last in pres else 1.0,
            "miss_idf_max": max((terms.idf[t] * (1 - pres[t]) for t in miss), default=0.0),
            "miss_spec_max": max((terms.spec[t] * (1 - pres[t]) for t in miss), default=0.0),
            "miss_both_max": max((terms.idf[t] * terms.spec[t] * (1 - pres[t]) for t in miss), default=0.0),
        }

    def _sentence_coverage(self, item: Item, terms: Terms, idf_sum: float) -> float:
        """The best share of the question's terms (IDF-weighted) that one sentence holds together."""
        heading = item.category if isinstance(item, Measure) else item.heading
        best = 0.0
        for s in self._sents.get(item.key, []):
            text = s + heading + "".join(item.departments)
            best = max(best, sum(terms.idf[t] * self.presence(t, text, terms.groups) for t in terms.terms) / idf_sum)
        return best

    def _phrase_coverage(self, text: str, terms: Terms) -> float:
        """Share of the question's two-term phrases (人才+补贴, 投标+保证金) that the item has as a phrase
        too: both terms within a few characters of each other. 1.0 when the question has none.

        A near miss often joins two words the item has in a combination it does not (人才补贴).
        """
        if not terms.phrases:
            return 1.0
        ok = 0
        for a, b in terms.phrases:
            spots_a = self._spots(a, text, terms.groups)
            spots_b = self._spots(b, text, terms.groups)
            ok += any(abs(i - j) <= PHRASE_WINDOW for i in spots_a for j in spots_b)
        return ok / len(terms.phrases)

    @staticmethod
    def _spots(term: str, text: str, groups: dict[str, tuple[str, ...]]) -> list[int]:
        """Where ``term`` or one of its official terms occurs in ``text`` (start and end offsets)."""
        out = []
        for t in (term, *groups.get(term, ())):
            for m in re.finditer(re.escape(t), text):
                out += [m.start(), m.end()]
        return out

    def _types(self, item: Item, terms: Terms, q: dict[str, float], sims: list[float]) -> dict[str, float]:
        """Whether the sentences about the question hold the kind of answer asked for.

        Those sentences are the ones with the question's rarest term that the item contains (the
        anchor: "政府采购保证金减免比例是多少" asks for a percentage in the 保证金 sentence, not anywhere
        in the item) and the one closest to the question by embedding (it catches paraphrases).
        """
        sents = self._sents.get(item.key, [])
        present = [t for t in terms.terms if any(self.presence(t, s, terms.groups) >= 0.75 for s in sents)]
        anchor = max(present, key=lambda t: (terms.idf[t], len(t)), default=None)
        about = [s for s in sents if anchor and self.presence(anchor, s, terms.groups) >= 0.75]
        if sims and len(sims) == len(sents):
            about.append(sents[int(np.argmax(sims))])
        about = about or sents
        joined = "".join(about)
        return {
            "money_missing": q["wants_money"] * (not _MONEY.search(joined)),
            "percent_missing": q["wants_percent"] * (not _PERCENT.search(joined)),
            "count_missing": q["wants_count"] * (not _COUNT.search(joined)),
            "duration_missing": q["wants_duration"] * (not _DURATION.search(joined)),
            "date_missing": q["wants_date"] * (not _DATE.search(joined)),
            "procedure_missing": q["wants_procedure"] * (not _PROCEDURE.search(joined)),
            "materials_missing": q["wants_materials"] * (not _MATERIALS.search(joined)),
            "fee_missing": q["wants_fee"] * (not _FEE.search(joined)),
        }

    def _relations(self, question: str, item: Item) -> dict[str, float]:
        text = self._text[item.key]
        conflict = 0.0
        for group in self.lexicon.knowledge.distinct:
            asked = [t for t in group if t in question and not any(t != o and t in o for o in group if o in question)]
            if asked and not any(t in text for t in asked) and any(o in text for o in group if o not in asked):
                conflict = 1.0
        places = self._places(question)
        values = stated_values(question)
        return {
            "distinct_conflict": conflict,
            "group_missing": self._group_missing(question, text),
            "place_not_in_item": float(any(p not in text for p in places)),
            "value_absent": float(any(v not in text for v in values)),
        }

    def _group_missing(self, question: str, text: str) -> float:
        """1 if the question names a kind of people or organisation (``[groups]`` data) that the item
        does not name, directly or through a synonym."""
        named = [g for g in self.lexicon.knowledge.groups if g in question]
        named = [g for g in named if not any(g != o and g in o for o in named)]
        for g in named:
            if g not in text and not any(a in text for a in self.lexicon.synonyms.get(g, ())):
                return 1.0
        return 0.0

    def _places(self, question: str) -> list[str]:
        found = [p for p in self.lexicon.knowledge.places if p in question]
        return [p for p in found if not any(p != o and p in o for o in found)]

    def sentence_similarities(self, key: str, qvec: np.ndarray | None) -> list[float]:
        """e5 similarity of the question to each sentence of the item ``key`` ([] without a vector)."""
        return self._sentence_sims(key, qvec)

    def _sentence_sims(self, key: str, qvec: np.ndarray | None) -> list[float]:
        rows = self._rows.get(key)
        if qvec is None or not rows or self._vectors.size == 0:
            return []
        return [float(x) for x in self._vectors[rows] @ qvec]
