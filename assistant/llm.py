"""Optional generative mode: a local LLM rewrites the extractive answer, and a verifier checks it.

The LLM never sees the whole document. It gets only the items the extractive
answer cites, each as ``【第N条】title：quoted sentences（办理部门：…）``, after a
fixed system prompt and three worked examples (a constant prefix the server's
prompt cache keeps), so the new part of each prompt is a few hundred tokens (a
1.5B model on two CPU cores reads about 30–60 prompt tokens a second). Its
output reaches the user only after ``LLMAnswerer.verify`` has checked it:

1. every 【…】 tag names an item given in the prompt (anything else in 【】
   means a made-up item, or a number hidden from the number check): fall back;
2. "未找到" while the extractive answer found evidence means the model failed: fall back;
3. each sentence must be tagged (or continue a sentence that begins with a
   tag), and what it states must be in the items it is tagged with: numbers
   (digits via :func:`assistant.answer.grounding_violations`, and Chinese
   numerals with a unit), 区…局 departments, negations such as 不能 or 不需要,
   and at least half of its wording (character pairs, the question's words
   counting too); other sentences are dropped;
4. what is left must cite an item, say something the question does not
   already say, and pass ``grounding_violations`` as a whole; else fall back.

These checks catch made-up numbers, items and departments, copied example
content and most invented wording; they cannot prove that a sentence built
from the item's and the question's own words means what the item means
(a 1.5B model sometimes inverts a yes/no). The extractive answer stays the
reference; this mode only rephrases it.

The departments line is always added from the cited items (never the model's),
and the extractive answer's notes (passed deadlines, an expired document) are
appended when their numbers are grounded in the cited items.

Any failure (timeout, connection or HTTP error, bad output) returns the
extractive reply with ``mode="llm-fallback"``; nothing is raised to the caller.
Calls go through a :class:`~assistant.breaker.CircuitBreaker`: after a few
consecutive connection failures or timeouts the server is not called at all
(no delay per question) until a background probe finds it answering again;
:func:`llm_status` reports the state for ``/healthz`` and the chat.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as _dt
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import LLM

from .answer import grounding_violations
from .breaker import BreakerStatus, CircuitBreaker, describe_error
from .dialog import resolve
from .errors import ConfigError, LLMError
from .settings import Settings
from .types import Citation, Corpus, Hit, Item, Measure, Reply

log = logging.getLogger("assistant.llm")

MAX_TOKENS = 200  # ~3 sentences of Chinese; at ~15 tokens/s on 2 cores that is ≤ 13 s of generation
CONDENSE_MAX_TOKENS = 60  # one question; the condensed question may be at most 80 characters anyway
CONDENSE_TIMEOUT = 15.0  # a follow-up rewrite that takes longer is not worth waiting for
MAX_CONDENSED_CHARS = 80
CONDENSE_MIN_OVERLAP = 0.8  # share of the rule-based rewrite's characters the LLM's rewrite must keep
CONDENSE_MAX_NEW_CHARS = 4  # characters the rewrite may add that no user turn contains
ITEM_CHARS = 200  # per item in the prompt, cut at sentence ends (the first sentence is always kept)
MAX_SEGMENTS = 8  # sentences kept from the model (the prompt asks for at most 3)
PROBE_TIMEOUT = 30.0  # a one-token completion; a cold server on 2 cores needs a few seconds for the first one
PROBE_PROMPT = "你好"
HISTORY_TURNS = 4  # messages of history shown to condense (two exchanges)
MIN_SUPPORT = 0.5  # share of a sentence's character pairs in its items or the question (faithful: ≥ 0.55, made up: ≤ 0.46 here)
MIN_NEW_CHARS = 3  # an answer must add this many characters the question lacks ("个体户刻章免费【第3条】" adds none)

SYSTEM_PROMPT = (
    "你是政策咨询助手，根据用户给的材料回答问题。规则：\n"
    "1. 只用材料里的内容，直接回答，不要开场白；写出材料中的具体规定，不要只重复问题。\n"
    "2. 每句话末尾加上出处标签，照抄材料开头的【】标签，例如【第9条】。\n"
    "3. 金额、比例、日期、数量照抄材料原文。\n"
    "4. 最多3句话，不写办理部门。\n"
    "5. 只有材料与问题毫不相关时，才回答“未找到”。"
)
# Worked examples as chat turns (small models follow examples better than rules). They are the same
# prefix for every question, so the server's prompt cache makes them almost free after the first request.
# Their items and numbers are made up: if the model copies them, the verifier rejects them.
EXAMPLES = (
    (
        "材料：\n【第2条】支持技能培训：对参加培训的人员给予每人最高300元培训补贴。（办理部门：区人社局）\n\n问题：参加培训有补贴吗？",
        "参加培训的人员可获得每人最高300元培训补贴【第2条】。",
    ),
    (
        "材料：\n【三、工作目标】到2030年，全区新增示范企业120家。\n\n问题：示范企业的目标是多少家？",
        "到2030年，全区新增示范企业120家【三、工作目标】。",
    ),
    (
        "材料：\n【第6条】推行简易注销：对未开业的企业实行简易注销，公示期由45天缩短为20天。（办理部门：区审批局）"
        "\n\n问题：简易注销 公示期",
        "未开业的企业可以简易注销，公示期由45天缩短为20天【第6条】。",
    ),
)
CONDENSE_PROMPT = "把用户的追问改写成一个不依赖上下文、意思完整的问题。只输出改写后的问题，一行，不要回答，不要解释。"

_TAG = re.compile(r"【([^【】]{1,40})】")
# (第25条) / [第25条] / 〔第25条〕 written by the model: normalise to 【第25条】 so they are checked, not ignored.
_LOOSE_TAG = re.compile(r"[\[（(〔［]\s*(第\s*\d{1,4}\s*条)\s*[\]）)〕］]")
_SEG_END = re.compile(r"[。；！？!?;\n]")
_PREAMBLE = re.compile(r"^\s*(?:(?:回答|答案|答)\s*[:：]|根据(?:以上|上述|所给|提供的)?材料\s*[:：，,]?)\s*")
_MARKDOWN = re.compile(r"\*\*|__|^#+\s*|^\s*(?:[-*•]|\d{1,2}[.、)）]|[①②③④⑤⑥⑦⑧⑨⑩])\s*", re.M)  # list numbers look like claims
_DEPT_LINE = re.compile(r"^\s*[（(]?\s*(?:办理部门|责任单位|责任部门|牵头部门)\s*[:：]")
_NOT_FOUND = re.compile(r"未找到|没有找到|无法回答|无法确定|材料中没有|材料未提及|未提及")
# Numbers grounding_violations cannot see: Chinese numerals with a unit (八千元, 三年, 百分之六十).
_CN_NUM = re.compile(
    r"百分之[零〇一二两三四五六七八九十百千点]+|"
    r"[零〇一二两三四五六七八九十百千万亿]*[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*"
    r"(?:万元|亿元|元|个月|个工作日|个|年|月|日|天|小时|倍|家|户|人|名|次|趟|份|张|项|类|批|%)"
)
# "个体户开了两家店" may be repeated from the question; amounts, rates and time limits never are (a false premise).
_SMALL_COUNT = re.compile(r"[一两二三四五六七八九十][家个份张项名]")
# The user never sees "the materials": "具体见材料【第26条】" says nothing.
_META = re.compile(r"见材料|材料中|材料里|根据材料|以上材料|上述材料|所给材料|提供的材料")
# Parallel amounts for different levels ("国家级…50万元。省级…30万元"): an amount must keep its level.
_TIER = re.compile(r"国家级|省级|市级|[A-DM]级")  # not 区级: the district's own money has no parallel amount
_AMOUNT = re.compile(r"\d+(?:\.\d+)?(?:万元|亿元|元|%)")
_DEPT = re.compile(r"区[\u4e00-\u9fff]{1,12}?(?:局|委员会|委|办公室|中心)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LEAD_TAG = re.compile(r"^\s*【[^【】]{1,40}】")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_CONTENT = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
# A negation the item does not state turns it around ("免费刻章" -> "不能免费"): such a sentence is dropped.
_NEGATION = re.compile(r"不能|不可以|不需要|不用|无需|不必|不收|不予|不得|不会|不是|不再|没有|无法|不属于|不包括|不支持")
_FOLLOW_UP_WORDS = re.compile(r"^(?:那么|那如果|那|还有|如果是|要是)|(?:的)?呢?[？?！!。]*$")


@dataclass(frozen=True)
class Material:
    """One cited item of the extractive answer, as shown to the model."""

    tag: str  # the label inside 【】: 第25条, or a section heading
    citation: Citation
    text: str  # the item's full text plus its departments (what the model's claims are checked against)
    prompt_line: str


@dataclass(frozen=True)
class Verdict:
    """The verifier's result: the kept text and citations, or why the answer cannot be used."""

    text: str  # kept sentences (no departments line, no notes); "" when rejected
    citations: list[Citation]
    dropped: list[str]  # sentences removed, each with the reason
    reason: str = ""  # non-empty: fall back to the extractive reply

    @property
    def ok(self) -> bool:
        return not self.reason


class LLMAnswerer:
    """Rewrites verified extractive answers with an injected llama-index ``LLM``.

    ``timeout`` bounds each whole call (seconds, wall clock), whatever the
    client's own timeouts; ``condense_llm`` (default: ``llm``) may be a copy
    with a smaller ``max_tokens``. ``secret`` is redacted from logged errors.
    ``breaker`` (default: opens after 3 failures, first call after the back-off
    is the trial) guards every call; ``probe_llm`` (a copy with ``max_tokens=1``)
    makes the default breaker retry in the background instead.
    """

    def __init__(
        self,
        llm: LLM,
        corpus: Corpus,
        *,
        timeout: float,
        condense_llm: LLM | None = None,
        condense_timeout: float = CONDENSE_TIMEOUT,
        secret: str | None = None,
        breaker: CircuitBreaker | None = None,
        probe_llm: LLM | None = None,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"LLM timeout must be positive, got {timeout}")
        self.llm = llm
        self.condense_llm = condense_llm or llm
        self.corpus = corpus
        self.timeout = timeout
        self.condense_timeout = min(condense_timeout, timeout)
        self._secret = secret
        self.probe_llm = probe_llm
        self.probe_timeout = min(PROBE_TIMEOUT, timeout)
        self.breaker = breaker or CircuitBreaker(probe=self.probe if probe_llm is not None else None, redact=secret)
        # Calls run on worker threads so that a hung request cannot hold up an answer past ``timeout``.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")

    @classmethod
    def from_settings(cls, settings: Settings, corpus: Corpus) -> LLMAnswerer:
        """An OpenAI-compatible client for ``settings.llm_base_url`` (e.g. llama_cpp.server)."""
        try:
            from llama_index.llms.openai_like import OpenAILike
        except ImportError as ex:
            raise ConfigError(
                "POLICY_LLM_BASE_URL is set but llama-index-llms-openai-like is not installed; "
                "run `pip install -e '.[llm]'` or unset POLICY_LLM_BASE_URL"
            ) from ex
        common: dict[str, Any] = {
            "model": settings.llm_model or "local",
            "api_base": settings.llm_base_url,
            "api_key": settings.llm_api_key or "none",  # a local server needs none, the client needs a string
            "is_chat_model": True,
            "max_retries": 0,  # a retry doubles the wait; the extractive answer is the fallback
            "temperature": 0.1,
            "context_window": 4096,
        }
        llm = OpenAILike(**common, timeout=settings.llm_timeout, max_tokens=MAX_TOKENS)
        condense_timeout = min(CONDENSE_TIMEOUT, settings.llm_timeout)
        condense_llm = OpenAILike(**common, timeout=condense_timeout, max_tokens=CONDENSE_MAX_TOKENS)
        probe_timeout = min(PROBE_TIMEOUT, settings.llm_timeout)
        probe_llm = OpenAILike(**common, timeout=probe_timeout, max_tokens=1)
        answerer = cls(
            llm,
            corpus,
            timeout=settings.llm_timeout,
            condense_llm=condense_llm,
            condense_timeout=condense_timeout,
            secret=settings.llm_api_key,
            probe_llm=probe_llm,
        )
        answerer.breaker = CircuitBreaker(
            failures=settings.llm_breaker_failures,
            backoff=settings.llm_breaker_backoff,
            max_backoff=settings.llm_breaker_max_backoff,
            probe=answerer.probe,
            redact=settings.llm_api_key,
        )
        return answerer

    def __repr__(self) -> str:  # the wrapped client's repr would show its api_key
        return f"LLMAnswerer(llm={type(self.llm).__name__}, timeout={self.timeout:g})"

    # --- prompt ----------------------------------------------------------------------

    def materials(self, reply: Reply) -> list[Material]:
        """The extractive reply's cited items, as prompt lines and check texts."""
        out = []
        for c in reply.citations:
            item = self._item(c)
            depts = "、".join(c.departments)
            body = _clip(c.quote, ITEM_CHARS)
            head = ""
            if isinstance(item, Measure) and not body.startswith(item.title):
                head = f"{item.title}："
            line = f"【{c.label}】{head}{body}" + (f"（办理部门：{depts}）" if depts else "")
            full = (item.text if item is not None else "") + c.quote + "".join(c.departments)
            out.append(Material(c.label, c, full, line))
        return out

    def messages(self, resolved: str, materials: Sequence[Material]) -> list[ChatMessage]:
        user = "材料：\n" + "\n".join(m.prompt_line for m in materials) + f"\n\n问题：{resolved}"
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM_PROMPT),
            *(
                ChatMessage(role=role, content=text)
                for q, a in EXAMPLES
                for role, text in ((MessageRole.USER, q), (MessageRole.ASSISTANT, a))
            ),
            ChatMessage(role=MessageRole.USER, content=user),
        ]

    # --- answers ---------------------------------------------------------------------

    def rewrite(self, question: str, resolved: str, reply: Reply, hits: Sequence[Hit], today: _dt.date) -> Reply:
        """The verified LLM answer (mode "llm"), or ``reply`` with mode "llm-fallback".

        ``question`` is what the user typed, ``resolved`` the standalone question
        the extractive ``reply`` answers; ``today`` is unused (the extractive
        notes already carry the date checks) but kept for a uniform signature.
        """
        if not reply.answered or not reply.citations:
            return reply
        mats = self.materials(reply)
        raw = self._call("rewrite", self.llm, self.messages(resolved, mats), self.timeout)
        if raw is None:
            return _fallback(reply)
        return self._finish(raw, reply, hits, mats)

    def stream(self, question: str, resolved: str, reply: Reply, hits: Sequence[Hit], today: _dt.date) -> AnswerStream:
        """Stream the answer sentence by sentence; read ``.reply`` after iterating.

        Only sentences that pass the per-sentence checks are yielded. When the
        iteration ends, ``stream.reply`` is the final verified reply (mode "llm",
        whose text the yielded pieces spell out, departments and notes included)
        or the extractive one (mode "llm-fallback"): a UI should then show
        ``stream.reply.text`` in place of what it streamed.
        """
        return AnswerStream(self, resolved, reply, hits)

    def condense(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        """``question`` rewritten to stand alone, or None (then the rule-based rewrite is used)."""
        if not history:
            return None
        lines = []
        for turn in list(history)[-HISTORY_TURNS:]:
            content = str(turn.get("content", ""))
            if turn.get("role") == "assistant":
                content = _TAG.sub("", content.replace("与您的问题相关的规定有：", "")).strip()[:60]
                lines.append(f"助手：{content}")
            else:
                lines.append(f"用户：{content[:100]}")
        user = "对话：\n" + "\n".join(lines) + f"\n\n追问：{question}\n改写后的问题："
        msgs = [ChatMessage(role=MessageRole.SYSTEM, content=CONDENSE_PROMPT), ChatMessage(role=MessageRole.USER, content=user)]
        raw = self._call("condense", self.condense_llm, msgs, self.condense_timeout)
        if raw is None:
            return None  # the rule-based rewrite is the fallback
        out = _condensed(raw, question, history)
        log.info("LLM condense %r -> %r (raw %r)", question, out, raw.strip()[:100])
        return out

    # --- verification ----------------------------------------------------------------

    def verify(self, raw: str, materials: Sequence[Material], question: str = "") -> Verdict:
        """Check the model's text against the items it was given and the question (see the module docstring)."""
        text = clean(raw)
        if not text:
            return Verdict("", [], [], "empty answer")
        if _NOT_FOUND.search(text):
            return Verdict("", [], [], "the model said 未找到 although the extractive answer found evidence")
        by_tag = _tag_index(materials)
        for t in _TAG.findall(text):
            if _lookup(t, by_tag) is None:
                return Verdict("", [], [], f"tag 【{t}】 is not one of the given items")
        kept, dropped = self.screen(segments(text), by_tag, question)
        cited = _ordered(m for _, support in kept for m in support)
        body = "".join(s for s, _ in kept).strip()
        if not cited:
            return Verdict("", [], dropped, "no cited statement is left")
        said = _TAG.sub("", body)
        if len(_CJK.findall(said)) < 4:
            return Verdict("", [], dropped, "what is left states nothing")
        if len(set(_CONTENT.findall(said)) - set(question)) < MIN_NEW_CHARS:
            return Verdict("", [], dropped, "the answer only repeats the question")
        # Cards in the extractive answer's order (its ranking), not in the order the model happened to mention them.
        labels = {m.tag for m in cited}
        citations = [m.citation for m in materials if m.tag in labels]
        bad = grounding_violations(Reply(body, True, citations), self.corpus)
        if bad:
            return Verdict("", [], dropped, f"numbers not in the cited items: {bad}")
        return Verdict(body, citations, dropped)

    def screen(
        self, segs: Sequence[str], by_tag: dict[str, Material], question: str = ""
    ) -> tuple[list[tuple[str, list[Material]]], list[str]]:
        """(kept sentences with the items backing each, dropped sentences with the reason).

        A sentence is backed by the items it tags; an untagged one continues a
        kept sentence that *began* with a tag ("【第2条】A。B。": B is 第2条 too),
        otherwise it is dropped.
        """
        kept: list[tuple[str, list[Material]]] = []
        dropped: list[str] = []
        lead: list[Material] = []
        for s in segs[:MAX_SEGMENTS]:
            own = self._tagged(s, by_tag)
            problem = self.check_segment(s, by_tag, question, inherited=lead)
            if problem:
                dropped.append(f"{s.strip()} ({problem})")
                lead = [] if own else lead
                continue
            kept.append((s, own or lead))
            if own:
                lead = own if _LEAD_TAG.match(s) else []
        dropped += [f"{s.strip()} (beyond {MAX_SEGMENTS} sentences)" for s in segs[MAX_SEGMENTS:]]
        return kept, dropped

    def check_segment(self, seg: str, by_tag: dict[str, Material], question: str = "", inherited: Sequence[Material] = ()) -> str:
        """Why one sentence cannot be shown ("" if it can).

        It must carry a tag of a given item (or continue a tag-first sentence:
        ``inherited``), and what it states must be in those items: numbers
        (digits and Chinese numerals), 区…局 departments, negations (不能, 不需要 …),
        and most of its wording (character pairs; the question's words count as support).
        """
        if _DEPT_LINE.match(seg):
            return "departments line (added from the cited items instead)"
        if _NOT_FOUND.search(seg):
            return "says 未找到"
        for t in _TAG.findall(seg):
            if _lookup(t, by_tag) is None:
                return f"tag 【{t}】 is not one of the given items"
        own = self._tagged(seg, by_tag) or list(inherited)
        if not own:
            return "no citation tag"  # e.g. a bare "不能。": a claim no item backs
        body = _TAG.sub("", seg)
        bad = grounding_violations(Reply(body, True, [m.citation for m in own]), self.corpus)
        source = "".join(m.text for m in own)
        bad += [x for x in _CN_NUM.findall(body) if x not in source and not (x in question and _SMALL_COUNT.fullmatch(x))]
        bad += [d for d in _DEPT.findall(body) if d not in source]
        bad += [n for n in _NEGATION.findall(body) if n not in source]
        if bad:
            return f"not in the cited items: {', '.join(dict.fromkeys(bad))}"
        if _META.search(body):
            return "refers to the materials instead of saying what they say"
        loose = _untiered(body, source)
        if loose:
            return f"states {loose} without the level it is for"
        pairs = _pairs(body)
        if pairs:
            support = sum(p in source or p in question for p in pairs) / len(pairs)
            if support < MIN_SUPPORT:
                return f"only {support:.0%} of its wording is in the cited items"
        return ""

    def visible(self, text: str, by_tag: dict[str, Material], question: str = "") -> str:
        """The sentences of a partial answer that may be shown while it streams (the same per-sentence checks)."""
        kept, _ = self.screen(segments(clean(text)), by_tag, question)
        return "".join(s for s, _ in kept).strip()

    def _tagged(self, seg: str, by_tag: dict[str, Material]) -> list[Material]:
        return _ordered(m for t in _TAG.findall(seg) if (m := _lookup(t, by_tag)) is not None)

    def _finish(self, raw: str, reply: Reply, hits: Sequence[Hit], mats: Sequence[Material]) -> Reply:
        """The final reply for the model's complete text ``raw``."""
        log.debug("LLM raw answer: %r", raw[:1000])
        try:
            verdict = self.verify(raw, mats, reply.question)
            retrieved = {h.item.key for h in hits} | {h.item.key for h in reply.hits}
            # Measures must be retrieved hits; a section (document facts, goals) is cited as the extractive answer cites it.
            if verdict.ok and any(c.item is not None and _key(c) not in retrieved for c in verdict.citations):
                verdict = Verdict("", [], verdict.dropped, "a cited item was not retrieved")
            if verdict.dropped:
                log.info("LLM answer: dropped %d unsupported sentence(s): %s", len(verdict.dropped), " | ".join(verdict.dropped)[:500])
            if not verdict.ok:
                log.info("LLM answer not used (%s); showing the extractive answer", verdict.reason)
                return _fallback(reply)
            return self._compose(verdict, reply)
        except Exception:  # noqa: BLE001 - a verifier bug must not take the answer down with it
            log.exception("LLM answer verification failed; showing the extractive answer")
            return _fallback(reply)

    def _compose(self, verdict: Verdict, reply: Reply) -> Reply:
        """Verified sentences + departments of the cited items + the extractive notes that still fit."""
        cites = verdict.citations
        labels = {c.label for c in cites}
        if len(cites) == 1:
            depts = "、".join(cites[0].departments)
            dept_line = f"办理部门：{depts}" if depts else ""
        else:
            dept_line = "办理部门：" + "；".join(f"【{c.label}】{'、'.join(c.departments)}" for c in cites if c.departments)
            dept_line = "" if dept_line == "办理部门：" else dept_line
        notes = []
        for note in reply.notes:
            tags = _TAG.findall(note)
            if any(t not in labels for t in tags) or note in verdict.text:
                continue
            if grounding_violations(Reply(note, True, cites), self.corpus):
                continue  # e.g. a document-expiry date that none of the cited items states
            notes.append(note)
        text = "\n".join(x for x in [verdict.text, dept_line, *notes] if x)
        final = Reply(text, True, cites, reply.hits, "llm", notes, reply.question)
        bad = grounding_violations(final, self.corpus)
        if bad:  # cannot happen after the checks above; never show it if it does
            log.error("LLM answer failed the final grounding check %s; showing the extractive answer", bad)
            return _fallback(reply)
        return final

    # --- calls -----------------------------------------------------------------------

    def status(self) -> BreakerStatus:
        """Whether the server is answering ("ok") or skipped after failures ("down"), since when, and why."""
        return self.breaker.status()

    def probe(self) -> None:
        """One one-token completion (the breaker's background retry); raises if the server does not answer."""
        llm = self.probe_llm or self.condense_llm
        self._chat(llm, [ChatMessage(role=MessageRole.USER, content=PROBE_PROMPT)], self.probe_timeout)

    def _call(self, what: str, llm: LLM, messages: list[ChatMessage], timeout: float) -> str | None:
        """The model's text, or None when the breaker is open or the call failed (recorded in the breaker)."""
        if not self.breaker.allow():
            log.debug("LLM %s skipped: the server is down (%s)", what, self.breaker.status().last_error)
            return None
        try:
            raw = self._chat(llm, messages, timeout)
        except Exception as ex:  # noqa: BLE001 - any client error means "use the extractive answer"
            self._failed(what, ex)
            return None
        self.breaker.success()
        return raw

    def _chat(self, llm: LLM, messages: list[ChatMessage], timeout: float) -> str:
        future = self._pool.submit(llm.chat, messages)
        try:
            response = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LLMError(f"the LLM gave no answer within {timeout:g} s") from None
        return str(response.message.content or "")

    def _failed(self, what: str, ex: BaseException) -> None:
        """Count the failure in the breaker; one INFO line (the breaker warns once when it opens).

        The API key (if any) is redacted from the error text.
        """
        msg = describe_error(ex)
        if self._secret:
            msg = msg.replace(self._secret, "***")
        log.info("LLM %s failed (%s); using the extractive answer", what, msg)
        self.breaker.failure(ex)

    def _item(self, c: Citation) -> Item | None:
        doc = self.corpus.document(c.doc_id or None)
        if c.item is not None:
            return doc.measure(c.item)
        return next((s for s in doc.sections if s.heading == c.title or s.heading == c.label), None)


class AnswerStream(Iterator[str]):
    """Sentences of a streamed LLM answer that passed the checks; ``reply`` once exhausted.

    ``first_token_s`` is the time from the start to the model's first token,
    ``first_text_s`` to the first yielded piece, ``total_s`` to the end.
    ``outcome`` says what happened, for a UI to explain a fallback: "llm" (the
    verified answer), "rejected" (the model answered but failed verification),
    "error" (the call failed), "skipped" (the breaker is open: not called) or
    "extractive" (nothing to rewrite: a refusal, a curated answer, no LLM).
    """

    def __init__(self, answerer: LLMAnswerer | None, resolved: str, reply: Reply, hits: Sequence[Hit]) -> None:
        self.answerer = answerer
        self.resolved = resolved
        self.extractive = reply
        self.hits = list(hits)
        self.reply: Reply | None = None
        self.outcome = ""
        self.first_token_s: float | None = None
        self.first_text_s: float | None = None
        self.total_s: float | None = None
        self._it = self._run()

    @classmethod
    def done(cls, reply: Reply) -> AnswerStream:
        """A stream with nothing to stream: ``reply`` as it is (extractive mode, refusals, curated answers)."""
        return cls(None, reply.question, reply, reply.hits)

    def __next__(self) -> str:
        return next(self._it)

    def _run(self) -> Iterator[str]:
        a = self.answerer
        reply = self.extractive
        t0 = time.perf_counter()
        if a is None or not reply.answered or not reply.citations:
            self.reply, self.outcome, self.total_s = reply, "extractive", 0.0
            return
        if not a.breaker.allow():
            self.reply, self.outcome, self.total_s = _fallback(reply), "skipped", 0.0
            return
        mats = a.materials(reply)
        by_tag = _tag_index(mats)
        raw, shown = "", ""
        chunks = None
        try:
            deadline = t0 + a.timeout
            chunks = a.llm.stream_chat(a.messages(self.resolved, mats))
            for chunk in chunks:
                if time.perf_counter() > deadline:
                    raise LLMError(f"the LLM stream did not finish within {a.timeout:g} s")
                delta = chunk.delta or ""
                if not delta:
                    continue
                if self.first_token_s is None:
                    self.first_token_s = time.perf_counter() - t0
                    a.breaker.success()  # the server answers (whatever becomes of the answer)
                raw += delta
                if not _SEG_END.search(delta):
                    continue
                done = raw[: max(m.end() for m in _SEG_END.finditer(raw))]  # complete sentences only
                if _NOT_FOUND.search(done) or any(_lookup(t, by_tag) is None for t in _TAG.findall(clean(done))):
                    log.info(
                        "LLM answer not used (未找到 or a tag that is not a given item: %r); showing the extractive answer", done[:300]
                    )
                    self.reply, self.outcome = _fallback(reply), "rejected"
                    return  # closing the stream lets the server stop generating
                visible = a.visible(done, by_tag, self.resolved)
                if visible.startswith(shown) and len(visible) > len(shown):
                    piece, shown = visible[len(shown) :], visible
                    if self.first_text_s is None:
                        self.first_text_s = time.perf_counter() - t0
                    yield piece
        except Exception as ex:  # noqa: BLE001 - any client error means "use the extractive answer"
            a._failed("stream", ex)
            self.reply, self.outcome = _fallback(reply), "error"
            return
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            self.total_s = time.perf_counter() - t0
            if not self.outcome and self.first_token_s is None:
                a.breaker.abandon()  # closed by the reader before the server said anything: no verdict
        if self.first_token_s is None:
            a.breaker.success()  # an empty answer is still an answer
        self.reply = a._finish(raw, reply, self.hits, mats)
        self.outcome = "llm" if self.reply.mode == "llm" else "rejected"
        self.total_s = time.perf_counter() - t0
        # The final text usually extends what was shown (departments, notes, a last unterminated sentence).
        if self.reply.mode == "llm" and self.reply.text.startswith(shown) and len(self.reply.text) > len(shown):
            if self.first_text_s is None:
                self.first_text_s = self.total_s
            yield self.reply.text[len(shown) :]


def llm_status(answerer: object | None) -> dict[str, Any]:
    """``{"llm": "disabled" | "ok" | "down"}``, and while down ``llm_since`` (ISO time), ``llm_error``, ``llm_retry_in_s``."""
    status = getattr(answerer, "status", None)
    if answerer is None or status is None:
        return {"llm": "disabled"}
    st: BreakerStatus = status()
    if st.state != "down":
        return {"llm": "ok"}
    return {
        "llm": "down",
        "llm_since": st.since.isoformat(timespec="seconds"),
        "llm_error": st.last_error,
        "llm_retry_in_s": None if st.retry_in_s is None else round(st.retry_in_s, 1),
    }


# --- helpers -----------------------------------------------------------------------------


def clean(raw: str) -> str:
    """The model's text without markdown, a leading "回答：", and with loose (第N条) made into 【第N条】."""
    text = _clean_local(raw).strip()
    return _PREAMBLE.sub("", text).strip()


def _clean_local(text: str) -> str:
    text = _MARKDOWN.sub("", text)
    return _LOOSE_TAG.sub(lambda m: "【" + re.sub(r"\s+", "", m.group(1)) + "】", text)


def segments(text: str) -> list[str]:
    """Sentences ending in 。；！？ or a line break (made 。); a segment of tags alone joins the one before it."""
    out: list[str] = []
    start = 0
    for m in _SEG_END.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    merged: list[str] = []
    for s in out:
        if s.endswith("\n"):  # a line end is a sentence end; the answer is shown as one paragraph
            s = s.rstrip("\n")
            if _TAG.sub("", s).strip() and s[-1] not in "。；！？：，,.!?:;":
                s += "。"
        if merged and not _TAG.sub("", s).strip(" 。；，,.") and _TAG.search(s):
            merged[-1] += s
        elif s.strip():
            merged.append(s)
    return merged


def _untiered(sentence: str, source: str) -> str:
    """An amount in ``sentence`` whose every sentence in ``source`` names a level the answer leaves out, or ""."""
    for amount in _AMOUNT.findall(sentence):
        where = [s for s in re.split(r"(?<=[。；])", source) if amount in s]
        tiers = [set(_TIER.findall(s)) for s in where]
        if where and all(tiers) and not any(t in sentence for ts in tiers for t in ts):
            return amount
    return ""


def _pairs(text: str) -> list[str]:
    """Character pairs inside runs of Chinese characters (digits and punctuation split runs)."""
    return [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]


def _clip(quote: str, limit: int) -> str:
    """Whole sentences of ``quote`` up to ``limit`` characters (at least the first)."""
    parts = [p for p in re.split(r"(?<=[。；])", quote) if p]
    out = ""
    for p in parts:
        if out and len(out) + len(p) > limit:
            break
        out += p
    return out


def _tag_index(materials: Sequence[Material]) -> dict[str, Material]:
    index = {m.tag: m for m in materials}
    by_no: dict[str, list[Material]] = {}
    for m in materials:
        if m.citation.item is not None:
            by_no.setdefault(f"第{m.citation.item}条", []).append(m)
    for short, ms in by_no.items():
        if len(ms) == 1:  # "第25条" for "《…》第25条" when only one document's item 25 was given
            index.setdefault(short, ms[0])
    return index


def _lookup(tag: str, by_tag: dict[str, Material]) -> Material | None:
    t = re.sub(r"\s+", "", tag)
    return by_tag.get(t)


def _ordered(ms: Any) -> list[Material]:
    seen: dict[str, Material] = {}
    for m in ms:
        seen.setdefault(m.tag, m)
    return list(seen.values())


def _key(c: Citation) -> str:
    return f"{c.doc_id}#{c.item}"


def _fallback(reply: Reply) -> Reply:
    return dataclasses.replace(reply, mode="llm-fallback")


def _condensed(raw: str, question: str, history: Sequence[dict[str, str]]) -> str | None:
    """The first line of the model's rewrite, if it looks like a standalone question that keeps the context.

    The rule-based rewrite (``dialog.resolve``) is the yardstick: measured on
    follow-ups here, the 1.5B model sometimes drops the earlier turn's subject
    ("到2025年…" -> "科技型中小企业数量是多少？") or swaps in a neighbour from the
    answer text (众创空间 -> 科技企业孵化器), which retrieves the wrong item.
    """
    line = next((ln.strip() for ln in raw.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:改写后的问题|问题|改写)\s*[:：]\s*", "", line).strip(" \"'“”‘’「」")
    if not line or len(line) > MAX_CONDENSED_CHARS or "【" in line:
        return None
    if line == question.strip():
        return None
    if "。" in line and not re.search(r"[？?]", line):
        return None  # an answer, not a question
    history_text = "".join(str(t.get("content", "")) for t in history)
    for n in re.findall(r"\d+(?:\.\d+)?", line):
        if n not in question and n not in history_text:
            return None  # a number from nowhere would steer retrieval to the wrong item
    said = set(_CONTENT.findall(line))
    core = set(_CJK.findall(_FOLLOW_UP_WORDS.sub("", question)))
    if core and len(core & said) < 0.7 * len(core):
        return None  # lost what this turn asked about
    rule = set(_CONTENT.findall(resolve(question, history)))
    if rule and len(rule & said) < CONDENSE_MIN_OVERLAP * len(rule):
        return None  # lost the context the rule-based rewrite keeps
    user_text = question + "".join(str(t.get("content", "")) for t in history if t.get("role") == "user")
    if len(said - set(user_text)) > CONDENSE_MAX_NEW_CHARS:
        return None  # brought in words the user never used
    return line
